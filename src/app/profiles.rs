//! `rumcheck profiles`: the presets a `[[profile]]` can name.

use crate::exit::{Failure, PASS};
use crate::throttle::presets;

pub fn main() -> Result<u8, Failure> {
    print!("{}", presets::table());
    Ok(PASS)
}
