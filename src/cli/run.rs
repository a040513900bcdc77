//! `pal run POLICY --events FILE`: evaluate every pathway of an extract.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use crate::driver::load_policy;
use crate::eval::{Evaluator, PathwayResult};
use crate::events::{read_events, EventSet, InputFormat, ReadError, ReadOptions};
use crate::render::{render, Format};
use crate::report::{self, ResultFormat};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `pal run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The policy file (e.g. `policies/rde.pal`).
    pub policy: PathBuf,
    /// The events: CSV or JSON Lines (by extension, or `--input-format`); `-` reads stdin.
    #[arg(long)]
    pub events: PathBuf,
    /// The report date (YYYY-MM-DD). Default: today, read once here and printed with the results.
    #[arg(long, value_parser = parse_date_arg)]
    pub as_at: Option<NaiveDate>,
    /// Output format for per-pathway results.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ResultFormat,
    /// Input format when the file extension does not say (csv, jsonl).
    #[arg(long)]
    pub input_format: Option<String>,
    /// Write per-pathway results to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write the patient tracking list (CSV) to this file.
    #[arg(long)]
    pub ptl: Option<PathBuf>,
    /// The clock the PTL tracks.
    #[arg(long, default_value = "rtt")]
    pub ptl_clock: String,
    /// Print the waiting-time summary on stdout (results then go only to `--output`, if given).
    #[arg(long)]
    pub summary: bool,
    /// Fail on the first rejected row.
    #[arg(long)]
    pub strict: bool,
    /// Include each pathway's rule trace in JSON output.
    #[arg(long)]
    pub trace: bool,
    /// Worker threads (default: all cores). Output is identical whatever the number.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub(crate) fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    crate::value::parse_date(s).ok_or_else(|| format!("`{s}` is not a date: use YYYY-MM-DD"))
}

/// Reads the events file with the policy's schema.
pub(crate) fn read_input(
    path: &Path,
    input_format: Option<&str>,
    opts: &ReadOptions,
) -> Result<EventSet, (u8, String)> {
    let format = match input_format {
        Some(f) => f
            .parse::<InputFormat>()
            .map_err(|_| (EXIT_USAGE, format!("unknown input format `{f}`: use csv or jsonl")))?,
        None if path == Path::new("-") => InputFormat::Csv,
        None => InputFormat::from_path(path).ok_or_else(|| {
            (
                EXIT_USAGE,
                format!(
                    "cannot tell the format of `{}` from its extension: use .csv, .jsonl or .ndjson, or pass --input-format",
                    path.display()
                ),
            )
        })?,
    };
    let name = path.display().to_string();
    let result = if path == Path::new("-") {
        read_events(std::io::stdin().lock(), "<stdin>", format, opts)
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| (EXIT_UNREADABLE, format!("cannot read `{name}`: {e}")))?;
        read_events(
            std::io::BufReader::with_capacity(1 << 20, file),
            &name,
            format,
            opts,
        )
    };
    result.map_err(|e| match e {
        ReadError::Strict(_) => (EXIT_FINDINGS, e.to_string()),
        ReadError::Io(_) | ReadError::Header(_) => (EXIT_UNREADABLE, e.to_string()),
    })
}

/// Evaluates all pathways in parallel; the order of results is the order of the pathways.
pub fn evaluate_all(
    ev: &Evaluator,
    set: &EventSet,
    as_at: NaiveDate,
    trace: bool,
) -> Vec<PathwayResult> {
    let progress = (std::io::stderr().is_terminal() && set.pathways.len() > 20_000).then(|| {
        let bar = indicatif::ProgressBar::new(set.pathways.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pathways {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let results = set
        .pathways
        .par_iter()
        .map(|p| {
            let r = ev.run(&p.id, &p.events, &[], as_at, trace);
            if let Some(b) = &progress {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    results
}

/// Runs `pal run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> u8 {
    let (sources, policy, warnings) = match load_policy(&args.policy) {
        Ok(x) => x,
        Err((sources, diags)) => {
            eprint!(
                "{}",
                render(
                    &diags,
                    &sources,
                    Format::Human,
                    std::io::stderr().is_terminal()
                )
            );
            let unreadable = diags.iter().any(|d| d.code == "E0002" || d.code == "E0003");
            return if unreadable {
                EXIT_UNREADABLE
            } else {
                EXIT_FINDINGS
            };
        }
    };
    let _ = (sources, warnings);
    let as_at = args
        .as_at
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let opts = ReadOptions {
        schema: &policy.schema,
        as_at: Some(as_at),
        strict: args.strict,
    };
    let set = match read_input(&args.events, args.input_format.as_deref(), &opts) {
        Ok(s) => s,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            return code;
        }
    };
    for r in &set.rejected {
        eprintln!("{}:{}: rejected: {}", r.file, r.line, r.reason);
    }
    let ev = Evaluator::new(&policy);
    let results = match args.threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(|| evaluate_all(&ev, &set, as_at, args.trace)),
            Err(e) => {
                eprintln!("error: cannot start {n} threads: {e}");
                return EXIT_USAGE;
            }
        },
        None => evaluate_all(&ev, &set, as_at, args.trace),
    };
    let write_results = |w: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            ResultFormat::Jsonl => {
                for r in &results {
                    report::write_jsonl(r, w)?;
                }
                Ok(())
            }
            ResultFormat::Csv => report::write_csv(&results, w),
            ResultFormat::Table => report::write_results_table(&results, w),
        }
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .and_then(|mut f| {
                write_results(&mut f)?;
                f.flush()
            })
            .map_err(|e| format!("cannot write `{}`: {e}", path.display())),
        None if !args.summary => {
            let mut buf = std::io::BufWriter::new(&mut *out);
            write_results(&mut buf)
                .and_then(|_| buf.flush())
                .map_err(|e| format!("cannot write results: {e}"))
        }
        None => Ok(()),
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return EXIT_UNREADABLE;
    }
    if let Some(path) = &args.ptl {
        let rows = report::ptl::build(&results, &args.ptl_clock);
        let res = std::fs::File::create(path)
            .map(std::io::BufWriter::new)
            .and_then(|mut f| {
                report::ptl::write_csv(&rows, &mut f)?;
                f.flush()
            });
        if let Err(e) = res {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return EXIT_UNREADABLE;
        }
    }
    if args.summary {
        let s = report::summary::build(&policy, ev.params(), &results, as_at);
        let res = match args.format {
            ResultFormat::Jsonl => serde_json::to_string(&s)
                .map_err(std::io::Error::other)
                .and_then(|j| writeln!(out, "{j}")),
            _ => report::summary::write_text(&s, out),
        };
        if let Err(e) = res {
            eprintln!("error: cannot write the summary: {e}");
            return EXIT_UNREADABLE;
        }
    }
    eprintln!(
        "as at {as_at}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {} pathways",
        set.rows_read,
        set.rows_evaluated,
        set.rejected.len(),
        set.rows_after_as_at,
        set.pathways.len()
    );
    EXIT_OK
}
