//! rumcheck's integration tests: one binary, shared helpers in `support`.
//! Browser tests drive a real headless Chromium through a real chromedriver
//! against pages served on 127.0.0.1; they fail loudly when no browser exists.

mod run_cli;
mod support;
