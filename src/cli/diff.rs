//! `pal diff OLD NEW`: what changing a policy does. With `--events`, both policies over one
//! extract (the impact report); without, a bounded search for the smallest pathway on which
//! they disagree, printed as a `test` block. `--format html` (with `--events`) writes the
//! impact report as one self-contained page; `-o FILE` writes any report complete or not at
//! all. Exit 0: no difference found; 1: differences.

use super::run::{load_with_files, open_input, parse_date_arg, print_rejection, read_error};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use chrono::NaiveDate;
use pal_engine::services::diff::{extract, html, render, search};
use pal_engine::services::output::{check_outputs, OutputFile};
use std::io::Write;
use std::path::PathBuf;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A report laid out for a board paper.
    Human,
    /// The whole report as one JSON object.
    Json,
    /// One self-contained HTML page (with `--events`): no script, no external reference.
    Html,
}

/// Arguments of `pal diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The policy as it is (e.g. `policies/rde.pal`).
    pub old: PathBuf,
    /// The policy as proposed (e.g. `policies/variants/strict_trust.pal`).
    pub new: PathBuf,
    /// Also let the policies import, extend and read holiday files under DIR (repeatable).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// The events (CSV or JSON Lines): report the impact on them. Without: search for the
    /// smallest pathway on which the policies disagree.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// The report date (YYYY-MM-DD) for `--events`. Default: today.
    #[arg(long, value_parser = parse_date_arg)]
    pub as_at: Option<NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiffFormat,
    /// Write the report to FILE (complete or absent) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Input format when the file extension does not say (csv, jsonl).
    #[arg(long)]
    pub input_format: Option<String>,
    /// Fail on the first rejected row.
    #[arg(long)]
    pub strict: bool,
    /// Example pathways shown per cause.
    #[arg(long, default_value_t = 3)]
    pub examples: usize,
    /// The clock whose open periods make the PTL.
    #[arg(long, default_value = "rtt")]
    pub ptl_clock: String,
    /// Without `--events`: the longest pathway tried, in events (1 to 8).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub max_events: u8,
    /// Without `--events`: the most pathways tried (each under both policies).
    #[arg(long, default_value_t = 200_000)]
    pub max_timelines: u64,
}

/// Runs `pal diff`.
pub fn run(args: &DiffArgs, out: &mut dyn Write) -> u8 {
    if let Some(path) = &args.output {
        let mut inputs = vec![
            ("old policy", args.old.as_path()),
            ("new policy", args.new.as_path()),
        ];
        if let Some(events) = &args.events {
            inputs.push(("events file", events.as_path()));
        }
        if let Err(msg) = check_outputs(&inputs, &[("-o", path.as_path())]) {
            say!("error: {msg}");
            return EXIT_USAGE;
        }
    }
    // A policy that does not load is trouble, not a difference: 2 (3 if unreadable).
    let load = |path: &PathBuf| match load_with_files(path, &args.policy_path) {
        Ok((p, _)) => Ok(p),
        Err(EXIT_UNREADABLE) => Err(EXIT_UNREADABLE),
        Err(_) => {
            say!("error: `{}` has errors: nothing compared", path.display());
            Err(EXIT_USAGE)
        }
    };
    let old = match load(&args.old) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let new = match load(&args.new) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let (old_name, new_name) = (
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    let text = match &args.events {
        Some(events) => {
            let input = match open_input(events, args.input_format.as_deref()) {
                Ok(i) => i,
                Err((code, msg)) => {
                    say!("error: {msg}");
                    return code;
                }
            };
            let as_at = args
                .as_at
                .unwrap_or_else(|| chrono::Local::now().date_naive());
            let options = extract::Options {
                as_at,
                strict: args.strict,
                examples: args.examples,
                ptl_clock: args.ptl_clock.clone(),
            };
            let mut on_rejection = print_rejection;
            let d = match extract::diff_extract(&old, &new, input, &options, &mut on_rejection) {
                Ok(d) => d,
                Err(e) => {
                    say!("error: {e}");
                    return match &e {
                        extract::Error::Read(r) => read_error(r),
                        extract::Error::Schema(_) => EXIT_USAGE,
                    };
                }
            };
            let c = d.counts;
            say!(
                "as at {as_at}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {} pathways, {} changed",
                c.rows_read, c.rows_evaluated, c.rows_rejected, c.rows_after_as_at, c.pathways, d.changed_pathways
            );
            let differs = !d.is_empty();
            let text = match args.format {
                DiffFormat::Human => {
                    render::extract_report(&d, &old_name, &new_name, &events.display().to_string())
                }
                DiffFormat::Html => html::extract_page(
                    &d,
                    html::Sources {
                        old_file: &old_name,
                        new_file: &new_name,
                        events: &events.display().to_string(),
                    },
                ),
                DiffFormat::Json => match serde_json::to_string(&d) {
                    Ok(j) => j + "\n",
                    Err(e) => {
                        say!("error: cannot write the report: {e}");
                        return EXIT_UNREADABLE;
                    }
                },
            };
            (text, differs)
        }
        None => {
            if args.as_at.is_some() {
                say!("error: --as-at needs --events (the search chooses its own dates)");
                return EXIT_USAGE;
            }
            if args.format == DiffFormat::Html {
                say!("error: --format html needs --events (the page reports an extract)");
                return EXIT_USAGE;
            }
            let options = search::SearchOptions {
                max_events: usize::from(args.max_events),
                max_timelines: args.max_timelines,
                ..search::SearchOptions::default()
            };
            let verify = |block: &str| {
                search::block_passes(&args.old, &args.policy_path, block) == Ok(true)
                    && search::block_passes(&args.new, &args.policy_path, block) != Ok(true)
            };
            let r = search::search(&old, &new, &options, &verify);
            let differs = r.found.is_some();
            let text = match args.format {
                DiffFormat::Human | DiffFormat::Html => search::render(&r, &old_name, &new_name),
                DiffFormat::Json => match serde_json::to_string(&r) {
                    Ok(j) => j + "\n",
                    Err(e) => {
                        say!("error: cannot write the report: {e}");
                        return EXIT_UNREADABLE;
                    }
                },
            };
            (text, differs)
        }
    };
    let (text, differs) = text;
    let written = match &args.output {
        Some(path) => OutputFile::create(path).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.commit()
        }),
        None => out.write_all(text.as_bytes()).and_then(|()| out.flush()),
    };
    if let Err(e) = written {
        say!("error: cannot write the report: {e}");
        return EXIT_UNREADABLE;
    }
    if differs {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
