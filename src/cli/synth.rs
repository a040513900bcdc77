//! `pal synth`: write a seeded synthetic PAS extract (for examples and benchmarks).

use super::run::parse_date_arg;
use super::{EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use chrono::NaiveDate;
use pal_engine::services::output::OutputFile;
use pal_synth::{generate, SynthFormat, SynthOptions};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pal synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Number of pathways.
    #[arg(long, default_value_t = 1000)]
    pub pathways: u64,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file (`.csv`, `.jsonl` or `.ndjson`); `-` for standard output (CSV).
    #[arg(long)]
    pub out: PathBuf,
    /// First referral date.
    #[arg(long, value_parser = parse_date_arg, default_value = "2023-04-01")]
    pub start: NaiveDate,
    /// Last referral date (the export date).
    #[arg(long, value_parser = parse_date_arg, default_value = "2025-03-01")]
    pub end: NaiveDate,
    /// Deliberately malformed rows to include.
    #[arg(long, default_value_t = 0)]
    pub bad_rows: u64,
}

/// Runs `pal synth`.
pub fn run(args: &SynthArgs, out: &mut dyn Write) -> u8 {
    if args.end < args.start {
        say!("error: --end {} is before --start {}", args.end, args.start);
        return EXIT_USAGE;
    }
    let opts = SynthOptions {
        pathways: args.pathways,
        seed: args.seed,
        start: args.start,
        end: args.end,
        bad_rows: args.bad_rows,
    };
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("csv");
    let format = match ext {
        "jsonl" | "ndjson" => SynthFormat::JsonLines,
        _ => SynthFormat::Csv,
    };
    let result = if args.out.as_os_str() == "-" {
        generate(&opts, format, std::io::BufWriter::new(&mut *out))
    } else {
        // Written beside the target and renamed over it once complete.
        OutputFile::create(&args.out).and_then(|mut f| {
            let stats = generate(&opts, format, &mut f)?;
            f.commit()?;
            Ok(stats)
        })
    };
    match result {
        Ok(stats) => {
            say!(
                "wrote {} rows for {} pathways ({} malformed) to {}",
                stats.rows,
                stats.pathways,
                stats.bad_rows,
                args.out.display()
            );
            EXIT_OK
        }
        Err(e) => {
            say!("error: cannot write `{}`: {e}", args.out.display());
            EXIT_UNREADABLE
        }
    }
}
