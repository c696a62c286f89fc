//! `rumcheck compare`.

use crate::cli::compare::CompareArgs;
use crate::exit::Failure;

pub fn main(args: CompareArgs) -> Result<u8, Failure> {
    Err(Failure::usage(anyhow::anyhow!(
        "`rumcheck compare` is not built yet: {args:?}"
    )))
}
