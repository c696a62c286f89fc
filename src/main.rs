//! The `rumcheck` command: parse arguments, call the library, exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = rumcheck::cli::Cli::parse();
    ExitCode::from(rumcheck::app::main(cli))
}
