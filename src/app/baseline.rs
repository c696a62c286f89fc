//! `rumcheck baseline …`.

use crate::cli::baseline::BaselineCommand;
use crate::exit::Failure;

pub fn main(cmd: BaselineCommand) -> Result<u8, Failure> {
    Err(Failure::usage(anyhow::anyhow!(
        "`rumcheck baseline` is not built yet: {cmd:?}"
    )))
}
