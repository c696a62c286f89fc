//! `rumcheck init URL`.

use crate::cli::InitArgs;
use crate::exit::{self, Failure};

/// Runs `rumcheck init`.
pub fn main(args: InitArgs) -> Result<u8, Failure> {
    let text = crate::scenario::starter(&args.url).map_err(Failure::usage)?;
    if args.output.exists() && !args.force {
        return Err(Failure::usage(anyhow::anyhow!(
            "'{}' already exists\n  hint: pass --force to overwrite it, or --output to write elsewhere",
            args.output.display()
        )));
    }
    crate::output::write_file("--output", &args.output, text.as_bytes()).map_err(Failure::usage)?;
    let file = args.output.display();
    println!("wrote {file}\n\nnext:");
    println!(
        "  rumcheck run {file}                                   # measure it (samples in rumcheck-out/)"
    );
    println!(
        "  rumcheck baseline import export.csv --format csv -o baseline.json   # your real users"
    );
    println!(
        "  rumcheck run {file} --baseline baseline.json          # gate: exit 1 on regression"
    );
    Ok(exit::PASS)
}
