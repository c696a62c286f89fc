//! rumcheck's integration tests: one binary, shared helpers in `support`.
//! Browser tests drive a real headless Chromium through a real chromedriver
//! against pages served on 127.0.0.1; they fail loudly when no browser exists.

mod report_browser;
mod report_fixture;
mod report_formats;
mod report_hostile;
mod run_cli;
mod support;
