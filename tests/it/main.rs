//! rumcheck's integration tests: one binary, shared helpers in `support`.
//! Browser tests drive a real headless Chromium through a real chromedriver
//! against pages served on 127.0.0.1; they fail loudly when no browser exists.

mod architecture;
mod baseline_cli;
mod baseline_crux;
mod baseline_fetch;
mod baseline_import;
mod baseline_server;
mod calibrate_cli;
mod cleanup;
mod collector;
mod compare_cli;
mod diagnosis;
mod faults;
mod field_projection;
mod fuzz;
mod gate_api;
mod gate_validity;
mod grid;
mod grid_support;
mod hardening_cli;
mod isolation;
mod oracle;
mod proxy_open;
mod report_browser;
mod report_fixture;
mod report_formats;
mod report_hostile;
mod run_cli;
mod shard_browser;
mod shard_cli;
mod support;
mod throttle_browser;
mod throttle_proxy;

// The pages with planted causes of examples/diagnosis, shared with the example.
#[path = "../../examples/diagnosis/causes.rs"]
mod causes;
// The simulated field of examples/field_projection, shared with the example.
#[path = "../../examples/field_projection/population.rs"]
mod population;
#[path = "../../examples/field_projection/proof.rs"]
mod proof;
#[path = "../../examples/field_projection/site.rs"]
mod site;
