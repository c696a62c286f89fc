//! `rumcheck run` and `rumcheck demo`.

use crate::cli::run::{DemoArgs, RunArgs};
use crate::exit::Failure;

pub async fn run(args: RunArgs) -> Result<u8, Failure> {
    Err(Failure::usage(anyhow::anyhow!(
        "`rumcheck run` is not built yet: {args:?}"
    )))
}

pub async fn demo(args: DemoArgs) -> Result<u8, Failure> {
    Err(Failure::usage(anyhow::anyhow!(
        "`rumcheck demo` is not built yet: {args:?}"
    )))
}
