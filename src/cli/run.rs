//! `pal run POLICY --events FILE`: evaluate every pathway of an extract.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use crate::measure::{peak_rss_bytes, Phases};
use chrono::NaiveDate;
use pal_engine::io::events::{
    for_each_pathway, read_events, EventSet, InputFormat, PathwayEvents, ReadError, ReadOptions,
    Rejection,
};
use pal_engine::io::render::{render, Format};
use pal_engine::io::report::ptl::PtlRow;
use pal_engine::io::report::summary::SummaryBuilder;
use pal_engine::io::report::{self, ResultFormat};
use pal_engine::runtime::eval::{Evaluator, PathwayResult};
use pal_engine::services::project::load_policy;
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `--format`: how per-pathway results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// One JSON object per pathway (the EVENTS.md contract).
    Jsonl,
    /// One CSV row per clock period.
    Csv,
    /// An aligned text table, one row per clock period.
    Table,
}

impl From<FormatArg> for ResultFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Jsonl => ResultFormat::Jsonl,
            FormatArg::Csv => ResultFormat::Csv,
            FormatArg::Table => ResultFormat::Table,
        }
    }
}

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
    pub format: FormatArg,
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
    /// Stream input whose rows are grouped by pathway (e.g. sorted by pathway_id): each pathway
    /// is evaluated as soon as its rows end, so memory is bounded by the largest pathway (plus
    /// 16 bytes per pathway id seen, to reject rows of a pathway that come back later).
    #[arg(long)]
    pub streaming: bool,
    /// Print the time spent loading the policy, reading, evaluating and writing, and the peak
    /// memory, on standard error.
    #[arg(long)]
    pub stats: bool,
}

pub(crate) fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    pal_engine::base::value::parse_date(s)
        .ok_or_else(|| format!("`{s}` is not a date: use YYYY-MM-DD"))
}

/// The input format: `--input-format`, else the file extension (`-` is CSV).
fn input_format_of(path: &Path, input_format: Option<&str>) -> Result<InputFormat, (u8, String)> {
    Ok(match input_format {
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
    })
}

/// The input's display name and a buffered reader over it (`-` is standard input).
fn open_input(path: &Path) -> Result<(String, Box<dyn std::io::Read + Send>), (u8, String)> {
    if path == Path::new("-") {
        let stdin = std::io::BufReader::with_capacity(1 << 20, std::io::stdin());
        return Ok(("<stdin>".to_string(), Box::new(stdin)));
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| (EXIT_UNREADABLE, format!("cannot read `{name}`: {e}")))?;
    Ok((
        name,
        Box::new(std::io::BufReader::with_capacity(1 << 20, file)),
    ))
}

fn read_error(e: ReadError) -> (u8, String) {
    match e {
        ReadError::Strict(_) => (EXIT_FINDINGS, e.to_string()),
        ReadError::Io(_) | ReadError::Header(_) => (EXIT_UNREADABLE, e.to_string()),
    }
}

/// Reads the events file with the policy's schema.
pub(crate) fn read_input(
    path: &Path,
    input_format: Option<&str>,
    opts: &ReadOptions,
) -> Result<EventSet, (u8, String)> {
    let format = input_format_of(path, input_format)?;
    let (name, input) = open_input(path)?;
    read_events(input, &name, format, opts).map_err(read_error)
}

/// Pathways evaluated per batch: enough to keep every core busy, few enough that a streaming
/// run holds little.
const BATCH: usize = 2048;

/// Where a run's per-pathway results go.
enum ResultSink<'w> {
    /// Only the summary (and PTL) are wanted.
    Discard,
    /// JSON Lines or CSV, encoded in parallel and written in input order.
    Encoded(Box<dyn Write + 'w>),
    /// The aligned table needs every row before it can size its columns.
    Table(Box<dyn Write + 'w>, Vec<PathwayResult>),
}

/// Everything a run writes, fed batch by batch in input order.
struct Outputs<'w> {
    format: ResultFormat,
    results: ResultSink<'w>,
    ptl: Option<Vec<PtlRow>>,
    ptl_clock: String,
    summary: Option<SummaryBuilder>,
    pathways: u64,
}

/// One evaluated pathway, with what could be prepared for output in parallel.
struct Evaluated {
    result: PathwayResult,
    encoded: Vec<u8>,
    ptl: Option<PtlRow>,
}

impl Outputs<'_> {
    /// Evaluates a batch in parallel (encoding results and PTL rows as it goes), then writes it
    /// in order. `phases` gets the time of each half.
    fn process(
        &mut self,
        ev: &Evaluator,
        batch: &[PathwayEvents],
        as_at: NaiveDate,
        trace: bool,
        phases: &mut Phases,
    ) -> std::io::Result<()> {
        let started = Instant::now();
        let encode = matches!(self.results, ResultSink::Encoded(_));
        let (format, ptl_clock, want_ptl) =
            (self.format, self.ptl_clock.as_str(), self.ptl.is_some());
        let mut done = batch
            .par_iter()
            .map(|p| {
                let result = ev.run(&p.id, &p.events, &[], as_at, trace);
                let mut encoded = Vec::with_capacity(if encode { 2048 } else { 0 });
                if encode {
                    // Writing to memory cannot fail.
                    let _ = match format {
                        ResultFormat::Csv => report::write_csv_rows(&result, &mut encoded),
                        _ => report::write_jsonl(&result, &mut encoded),
                    };
                }
                let ptl = want_ptl
                    .then(|| report::ptl::row(&result, ptl_clock))
                    .flatten();
                Evaluated {
                    result,
                    encoded,
                    ptl,
                }
            })
            .collect::<Vec<_>>();
        phases.evaluate += started.elapsed();
        let started = Instant::now();
        for e in &mut done {
            self.pathways += 1;
            if let Some(s) = &mut self.summary {
                s.add(&e.result);
            }
            if let (Some(rows), Some(row)) = (&mut self.ptl, e.ptl.take()) {
                rows.push(row);
            }
            match &mut self.results {
                ResultSink::Discard => {}
                ResultSink::Encoded(w) => w.write_all(&e.encoded)?,
                ResultSink::Table(_, all) => all.push(std::mem::take(&mut e.result)),
            }
        }
        // Freeing a batch's results is a good part of building them: do it on the workers, not
        // on this thread, which the next batch is waiting for.
        done.into_par_iter().for_each(drop);
        phases.output += started.elapsed();
        Ok(())
    }

    /// Finishes the results file (the table is written now) and returns the PTL and summary.
    fn finish(self) -> std::io::Result<(Option<Vec<PtlRow>>, Option<SummaryBuilder>)> {
        match self.results {
            ResultSink::Discard => {}
            ResultSink::Encoded(mut w) => w.flush()?,
            ResultSink::Table(mut w, all) => {
                report::write_results_table(&all, &mut w)?;
                w.flush()?;
            }
        }
        Ok((self.ptl, self.summary))
    }
}

fn print_rejection(r: &Rejection) {
    eprintln!("{}:{}: rejected: {}", r.file, r.line, r.reason);
}

/// Counts for the closing line on standard error.
#[derive(Default)]
struct Counts {
    rows_read: u64,
    rows_evaluated: u64,
    rows_rejected: u64,
    rows_after_as_at: u64,
}

/// Reads the whole input, then evaluates it batch by batch.
fn run_whole(
    args: &RunArgs,
    ev: &Evaluator,
    opts: &ReadOptions,
    outputs: &mut Outputs,
    phases: &mut Phases,
) -> Result<Counts, (u8, String)> {
    let started = Instant::now();
    let set = read_input(&args.events, args.input_format.as_deref(), opts)?;
    phases.read += started.elapsed();
    for r in &set.rejected {
        print_rejection(r);
    }
    let progress = (std::io::stderr().is_terminal() && set.pathways.len() > 20_000).then(|| {
        let bar = indicatif::ProgressBar::new(set.pathways.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pathways {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    for batch in set.pathways.chunks(BATCH) {
        outputs
            .process(ev, batch, opts_as_at(opts), args.trace, phases)
            .map_err(write_error)?;
        if let Some(b) = &progress {
            b.inc(batch.len() as u64);
        }
    }
    if let Some(b) = progress {
        b.finish_and_clear();
    }
    let counts = Counts {
        rows_read: set.rows_read,
        rows_evaluated: set.rows_evaluated,
        rows_rejected: set.rejected.len() as u64,
        rows_after_as_at: set.rows_after_as_at,
    };
    // Millions of events take a while to free: share it among the workers.
    set.pathways.into_par_iter().for_each(drop);
    Ok(counts)
}

fn opts_as_at(opts: &ReadOptions) -> NaiveDate {
    opts.as_at.unwrap_or(NaiveDate::MAX)
}

fn write_error(e: std::io::Error) -> (u8, String) {
    (EXIT_UNREADABLE, format!("cannot write results: {e}"))
}

/// Evaluates pathway by pathway as the (grouped) input is read: full batches are evaluated and
/// written while the reading thread reads on.
fn run_streaming(
    args: &RunArgs,
    ev: &Evaluator,
    opts: &ReadOptions,
    outputs: &mut Outputs,
    phases: &mut Phases,
) -> Result<Counts, (u8, String)> {
    let format = input_format_of(&args.events, args.input_format.as_deref())?;
    let (name, input) = open_input(&args.events)?;
    let as_at = opts_as_at(opts);
    let started = Instant::now();
    let busy_before = phases.evaluate + phases.output;
    let mut batch = Vec::with_capacity(BATCH);
    let mut written = Ok(());
    let read = for_each_pathway(
        input,
        &name,
        format,
        opts,
        |p| {
            batch.push(p);
            if batch.len() == BATCH {
                written = outputs.process(ev, &batch, as_at, args.trace, phases);
                batch.clear();
                if written.is_err() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        },
        |r| print_rejection(&r),
    );
    if written.is_ok() && !batch.is_empty() {
        written = outputs.process(ev, &batch, as_at, args.trace, phases);
    }
    written.map_err(write_error)?;
    phases.read += started
        .elapsed()
        .saturating_sub(phases.evaluate + phases.output - busy_before);
    let tally = read.map_err(read_error)?;
    Ok(Counts {
        rows_read: tally.rows_read,
        rows_evaluated: tally.rows_evaluated,
        rows_rejected: tally.rows_rejected,
        rows_after_as_at: tally.rows_after_as_at,
    })
}

/// Runs `pal run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> u8 {
    let started = Instant::now();
    let (policy, _) = match load_policy(&args.policy) {
        Ok((_, policy, warnings)) => (policy, warnings),
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
    let mut phases = Phases {
        load: started.elapsed(),
        ..Phases::default()
    };
    let as_at = args
        .as_at
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let opts = ReadOptions {
        schema: &policy.schema,
        as_at: Some(as_at),
        strict: args.strict,
    };
    let ev = Evaluator::new(&policy);
    let results_to: Option<Box<dyn Write>> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(Box::new(std::io::BufWriter::with_capacity(1 << 20, f))),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return EXIT_UNREADABLE;
            }
        },
        None if !args.summary => Some(Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            &mut *out,
        ))),
        None => None,
    };
    let results = match (results_to, ResultFormat::from(args.format)) {
        (None, _) => ResultSink::Discard,
        (Some(w), ResultFormat::Table) => ResultSink::Table(w, Vec::new()),
        (Some(mut w), ResultFormat::Csv) => {
            if let Err(e) = report::write_csv_header(&mut w) {
                eprintln!("error: cannot write results: {e}");
                return EXIT_UNREADABLE;
            }
            ResultSink::Encoded(w)
        }
        (Some(w), ResultFormat::Jsonl) => ResultSink::Encoded(w),
    };
    if let Some(n) = args.threads {
        // Reading, evaluating and writing all use rayon's global pool; a command runs once
        // per process, so `--threads` sizes that pool.
        let n = n.max(1);
        if rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .is_err()
            && rayon::current_num_threads() != n
        {
            eprintln!(
                "warning: --threads {n} ignored: this process already runs {} threads",
                rayon::current_num_threads()
            );
        }
    }
    let mut outputs = Outputs {
        format: args.format.into(),
        results,
        ptl: args.ptl.as_ref().map(|_| Vec::new()),
        ptl_clock: args.ptl_clock.clone(),
        summary: args
            .summary
            .then(|| SummaryBuilder::new(&policy, ev.params(), as_at)),
        pathways: 0,
    };
    let counted = if args.streaming {
        run_streaming(args, &ev, &opts, &mut outputs, &mut phases)
    } else {
        run_whole(args, &ev, &opts, &mut outputs, &mut phases)
    };
    let counts = match counted {
        Ok(c) => c,
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            return code;
        }
    };
    let pathways = outputs.pathways;
    let finishing = Instant::now();
    let (ptl, summary) = match outputs.finish() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: cannot write results: {e}");
            return EXIT_UNREADABLE;
        }
    };
    if let (Some(path), Some(mut rows)) = (&args.ptl, ptl) {
        report::ptl::sort(&mut rows);
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
    if let Some(s) = summary {
        let s = s.finish();
        let res = match ResultFormat::from(args.format) {
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
    phases.output += finishing.elapsed();
    eprintln!(
        "as at {as_at}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {pathways} pathways",
        counts.rows_read, counts.rows_evaluated, counts.rows_rejected, counts.rows_after_as_at,
    );
    if args.stats {
        phases.total = started.elapsed();
        eprintln!(
            "{}",
            phases.report(counts.rows_evaluated, pathways, peak_rss_bytes())
        );
    }
    EXIT_OK
}
