//! `pal convert IN.csv OUT.parquet`: an events extract from CSV to Parquet, losslessly.

use super::{EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use pal_engine::services::output::check_outputs;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pal convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The CSV extract.
    pub input: PathBuf,
    /// The Parquet file to write (complete or absent).
    pub output: PathBuf,
}

/// Runs `pal convert`.
pub fn run(args: &ConvertArgs, out: &mut dyn Write) -> u8 {
    let ext = |p: &PathBuf| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    };
    if ext(&args.input).as_deref() != Some("csv") || ext(&args.output).as_deref() != Some("parquet")
    {
        say!("error: pal convert writes a .csv extract as .parquet: give IN.csv OUT.parquet");
        return EXIT_USAGE;
    }
    if let Err(msg) = check_outputs(
        &[("events file", args.input.as_path())],
        &[("output", args.output.as_path())],
    ) {
        say!("error: {msg}");
        return EXIT_USAGE;
    }
    match pal_engine::services::convert::csv_to_parquet(&args.input, &args.output) {
        Ok((rows, types)) => {
            let _ = writeln!(
                out,
                "{rows} rows written to {} ({})",
                args.output.display(),
                types
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", t.sql()))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            EXIT_OK
        }
        Err(e) => {
            say!("error: {e}");
            EXIT_UNREADABLE
        }
    }
}
