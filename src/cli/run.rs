//! `pal run POLICY --events FILE`: evaluate every pathway of an extract.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use crate::measure::{peak_rss_bytes, Phases};
use chrono::NaiveDate;
use pal_engine::base::source::SourceMap;
use pal_engine::io::events::{EventSet, InputFormat, PgQuery, ReadError, Rejection};
use pal_engine::io::pg::{redact_url, url_has_password, PgConnection};
use pal_engine::io::render::{render, Format};
use pal_engine::io::report::ptl::{PtlSpec, SpecError};
use pal_engine::io::report::summary::SummaryFormat;
use pal_engine::io::report::{self, ResultFormat};
use pal_engine::io::sinks::parquet::ParquetSink;
use pal_engine::io::sinks::postgres::{replace_table, TableSink};
use pal_engine::io::spill::SpillOptions;
use pal_engine::model::ir::Policy;
use pal_engine::model::mapping::InputMapping;
use pal_engine::services::batch::{self, Input, ResultSink, Sinks};
use pal_engine::services::mapping::{self, MappingError};
use pal_engine::services::output::{check_outputs, OutputFile};
use pal_engine::services::project::load_policy_with;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `--format`: how per-pathway results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// One JSON object per pathway (the `docs/events.md` contract).
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
    /// Also let policies import, extend and read holiday files under DIR (repeatable; the
    /// policy's own folder is always allowed).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// The events: CSV, JSON Lines or Parquet (by extension, or `--input-format`); `-` reads
    /// stdin; a `postgres://user@host/db` URL reads PostgreSQL (with `--query` or `--table`).
    #[arg(long, required_unless_present_any = ["query", "table"])]
    pub events: Option<PathBuf>,
    /// PostgreSQL: the rows of this query (`SELECT …`; add `ORDER BY` the pathway id for
    /// `--streaming`), streamed with COPY.
    #[arg(long, conflicts_with = "table")]
    pub query: Option<String>,
    /// PostgreSQL: every row of this table or view (`name` or `schema.name`), sorted by its
    /// pathway-id column (a table: then in its physical order), so `--streaming` reads it.
    #[arg(long)]
    pub table: Option<String>,
    /// PostgreSQL connection URL when `--events` does not give one (default: the PGHOST,
    /// PGPORT, PGUSER, PGDATABASE variables). A password goes in PGPASSWORD or ~/.pgpass
    /// (PGPASSFILE), never on the command line.
    #[arg(long, value_name = "URL")]
    pub pg_url: Option<String>,
    /// PostgreSQL: the columns a rejected row is named by (comma-separated; default: the
    /// pathway id, date and event columns).
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub key_columns: Vec<String>,
    /// Write the PTL to this PostgreSQL table (`name` or `schema.name`; created if missing;
    /// its rows replaced in one transaction, so a failed run leaves it as it was).
    #[arg(long, value_name = "TABLE")]
    pub ptl_table: Option<String>,
    /// Write per-pathway results to this PostgreSQL table instead of stdout (`name` or
    /// `schema.name`; the CSV columns, one row per clock period, typed; created if missing; its
    /// rows replaced in one transaction as results arrive, so a failed run leaves it as it was).
    #[arg(long, value_name = "TABLE", conflicts_with = "output")]
    pub results_table: Option<String>,
    /// The extract's own shape: a mapping the policy declares (by name), or a mapping file
    /// (`examples/mappings/wlmds.pal`); `none` reads PAL's own columns. Default: the policy's
    /// mapping if it declares exactly one, else PAL's own columns.
    #[arg(long = "map", value_name = "NAME|FILE")]
    pub map: Option<String>,
    /// The report date (YYYY-MM-DD). Default: today, read once here and printed with the results.
    #[arg(long, value_parser = parse_date_arg)]
    pub as_at: Option<NaiveDate>,
    /// Output format for per-pathway results.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: FormatArg,
    /// Input format when the file extension does not say (csv, jsonl).
    #[arg(long)]
    pub input_format: Option<String>,
    /// Write per-pathway results to this file instead of stdout (`.parquet`: a Parquet file of
    /// the CSV columns, one row per clock period, typed).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write the patient tracking list (CSV, or Parquet for `.parquet`) to this file.
    #[arg(long)]
    pub ptl: Option<PathBuf>,
    /// The clock the PTL tracks.
    #[arg(long, default_value = "rtt")]
    pub ptl_clock: String,
    /// The pathway attributes the PTL shows after the pathway id, comma-separated (default:
    /// priority,specialty; any attribute the policy declares).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ATTRIBUTES",
        requires = "ptl"
    )]
    pub ptl_columns: Option<Vec<String>>,
    /// Only pathways that breach within this horizon of the as-at date, or have breached
    /// already: `6w` (weeks) or `42d` (days).
    #[arg(long, value_parser = parse_horizon, value_name = "6w", requires = "ptl")]
    pub horizon: Option<i64>,
    /// Memory the PTL may hold while the run gathers it, in MiB. Beyond it, sorted runs of
    /// rows go to temporary files beside the `--ptl` file (or in the system's temporary
    /// folder), removed when the run ends, and are merged at the end; the list is the same
    /// whatever the figure.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub ptl_memory: usize,
    /// Print the waiting-time summary on stdout (results then go only to `--output`, if given).
    #[arg(long)]
    pub summary: bool,
    /// How the summary is written: `table` (for people; the default), `json` or `csv`.
    #[arg(long, value_enum, requires = "summary")]
    pub summary_format: Option<SummaryFormatArg>,
    /// Fail on the first rejected row.
    #[arg(long)]
    pub strict: bool,
    /// Include each pathway's rule trace in JSON output.
    #[arg(long)]
    pub trace: bool,
    /// Worker threads, 1 to 1024 (default: all cores). Output is identical whatever the number.
    #[arg(long, value_parser = parse_threads)]
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

/// `--summary-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SummaryFormatArg {
    /// Readable: the headline against the standard, long waits, percentiles, grouped bands.
    Table,
    /// One JSON document (docs/summary.md).
    Json,
    /// One CSV row per clock (docs/summary.md).
    Csv,
}

fn parse_horizon(s: &str) -> Result<i64, String> {
    report::ptl::parse_horizon(s).ok_or_else(|| {
        format!(
            "`{}` is not a horizon: use weeks or days, e.g. 6w or 42d",
            pal_engine::base::text::excerpt(s)
        )
    })
}

/// The most worker threads `--threads` accepts: more than any machine PAL runs on has cores,
/// few enough that asking for them cannot exhaust the process's threads or memory.
pub const MAX_THREADS: usize = 1024;

fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}` is not a number of threads from 1 to {MAX_THREADS}",
            pal_engine::base::text::excerpt(s)
        )),
    }
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
            .map_err(|_| {
                (
                    EXIT_USAGE,
                    format!("unknown input format `{f}`: use csv, jsonl or parquet"),
                )
            })?,
        None if path == Path::new("-") => InputFormat::Csv,
        None => InputFormat::from_path(path).ok_or_else(|| {
            (
                EXIT_USAGE,
                format!(
                    "cannot tell the format of `{}` from its extension: use .csv, .jsonl, .ndjson or .parquet, or pass --input-format",
                    path.display()
                ),
            )
        })?,
    })
}

/// Whether `text` is a PostgreSQL URL.
fn is_pg_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The PostgreSQL connection: `url`, else the PG* environment. A URL with a password in it is
/// refused: other users can read a process's arguments.
fn pg_connection(url: Option<&str>) -> Result<PgConnection, (u8, String)> {
    if let Some(u) = url.filter(|u| url_has_password(u)) {
        return Err((
            EXIT_USAGE,
            format!(
                "`{}` has a password in it, which other users of this machine can read on the command line: put it in PGPASSWORD or ~/.pgpass (PGPASSFILE) instead",
                redact_url(u)
            ),
        ));
    }
    PgConnection::new(url, |k| std::env::var(k).ok()).map_err(|e| (EXIT_USAGE, e))
}

/// Opens the events named on the command line, to be read through `mapping`: a file, or a
/// PostgreSQL query or table.
fn open_events(args: &RunArgs, mapping: Option<InputMapping>) -> Result<Input, (u8, String)> {
    let events_url = args
        .events
        .as_deref()
        .and_then(Path::to_str)
        .filter(|e| is_pg_url(e));
    let query = match (&args.query, &args.table) {
        (Some(q), _) => Some(PgQuery::Query(q.clone())),
        (None, Some(t)) => Some(PgQuery::Table(t.clone())),
        (None, None) => None,
    };
    match (&args.events, query) {
        (Some(_), Some(q)) if events_url.is_some() || args.events.is_none() => {
            open_pg(events_url.or(args.pg_url.as_deref()), &q, args, mapping)
        }
        (None, Some(q)) => open_pg(args.pg_url.as_deref(), &q, args, mapping),
        (Some(_), Some(_)) => Err((
            EXIT_USAGE,
            "--query and --table read PostgreSQL: give a postgres:// URL (or none, for the PG* variables) rather than an events file".into(),
        )),
        (Some(_), None) if events_url.is_some() => Err((
            EXIT_USAGE,
            "a PostgreSQL URL needs --query or --table to say what to read".into(),
        )),
        (Some(path), None) => {
            open_input(path, args.input_format.as_deref()).map(|i| i.with_mapping(mapping))
        }
        (None, None) => Err((EXIT_USAGE, "give --events, --query or --table".into())),
    }
}

fn open_pg(
    url: Option<&str>,
    query: &PgQuery,
    args: &RunArgs,
    mapping: Option<InputMapping>,
) -> Result<Input, (u8, String)> {
    let conn = pg_connection(url)?;
    Input::postgres(&conn, query, args.key_columns.clone(), mapping)
        .map_err(|e| (read_error(&e), e.to_string()))
}

/// Whether a path names a Parquet file.
fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Opens the events file named on the command line.
pub(crate) fn open_input(path: &Path, input_format: Option<&str>) -> Result<Input, (u8, String)> {
    if input_format.map_or(is_parquet(path), |f| f.eq_ignore_ascii_case("parquet")) {
        return Input::parquet(path).map_err(|e| (read_error(&e), e.to_string()));
    }
    let format = input_format_of(path, input_format)?;
    Input::open(path, format).map_err(|e| {
        (
            EXIT_UNREADABLE,
            format!("cannot read `{}`: {e}", path.display()),
        )
    })
}

pub(crate) fn read_error(e: &ReadError) -> u8 {
    match e {
        ReadError::Strict(_) => EXIT_FINDINGS,
        ReadError::Io(_) | ReadError::Header(_) => EXIT_UNREADABLE,
    }
}

/// The mapping `--map` chooses (see `services::mapping::choose`), or the exit code after
/// printing why there is none.
pub(crate) fn choose_mapping(
    policy: &Policy,
    map: Option<&str>,
) -> Result<Option<InputMapping>, u8> {
    let mut sources = SourceMap::new();
    match mapping::choose(policy, map, &mut sources) {
        Ok(m) => Ok(m),
        Err(MappingError::Usage(msg)) => {
            say!("error: {msg}");
            Err(EXIT_USAGE)
        }
        Err(MappingError::Unreadable(diags) | MappingError::Findings(diags)) => {
            say_text!(
                "{}",
                render(
                    &diags,
                    &sources,
                    Format::Human,
                    std::io::stderr().is_terminal()
                )
            );
            Err(if pal_engine::services::project::unreadable_input(&diags) {
                EXIT_UNREADABLE
            } else {
                EXIT_FINDINGS
            })
        }
    }
}

/// Reads the whole events file with the policy's schema, through `mapping` (`pal explain`).
pub(crate) fn read_input(
    path: &Path,
    input_format: Option<&str>,
    mapping: Option<InputMapping>,
    policy: &Policy,
    as_at: NaiveDate,
) -> Result<EventSet, (u8, String)> {
    let input = open_input(path, input_format)?.with_mapping(mapping);
    batch::read(input, policy, as_at, false).map_err(|e| (read_error(&e), e.to_string()))
}

pub(crate) fn print_rejection(r: &Rejection) {
    say!("{}: rejected: {}", r.place(), r.reason);
}

/// Loads the policy and names the files it was read from (the root and what it imports or
/// extends), or prints why not and gives the exit code.
pub(crate) fn load_with_files(
    path: &Path,
    policy_path: &[PathBuf],
) -> Result<(Policy, Vec<PathBuf>), u8> {
    match load_policy_with(path, policy_path) {
        Ok((sources, policy, _)) => Ok((
            policy,
            sources
                .files()
                .map(|(_, f)| PathBuf::from(&f.name))
                .collect(),
        )),
        Err((sources, diags)) => {
            say_text!(
                "{}",
                render(
                    &diags,
                    &sources,
                    Format::Human,
                    std::io::stderr().is_terminal()
                )
            );
            let unreadable = pal_engine::services::project::unreadable_input(&diags);
            Err(if unreadable {
                EXIT_UNREADABLE
            } else {
                EXIT_FINDINGS
            })
        }
    }
}

/// Where `-o` or `--results-table` writes.
enum Results {
    File(OutputFile),
    Parquet(Box<ParquetSink<OutputFile>>),
    Table(Box<TableSink>),
}

/// Runs `pal run`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> u8 {
    let started = Instant::now();
    // Outputs that would destroy an input or each other are refused before anything is read.
    let outputs: Vec<(&str, &Path)> = [("-o", &args.output), ("--ptl", &args.ptl)]
        .into_iter()
        .filter_map(|(what, p)| p.as_deref().map(|p| (what, p)))
        .collect();
    let events_file = args
        .events
        .as_deref()
        .filter(|e| !e.to_str().is_some_and(is_pg_url));
    let inputs: Vec<(&str, &Path)> = events_file
        .map(|e| ("events file", e))
        .into_iter()
        .chain([("policy", args.policy.as_path())])
        .collect();
    if let Err(msg) = check_outputs(&inputs, &outputs) {
        say!("error: {msg}");
        return EXIT_USAGE;
    }
    let (policy, policy_files) = match load_with_files(&args.policy, &args.policy_path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let imported: Vec<(&str, &Path)> = policy_files
        .iter()
        .map(|p| ("policy file", p.as_path()))
        .collect();
    if let Err(msg) = check_outputs(&imported, &outputs) {
        say!("error: {msg}");
        return EXIT_USAGE;
    }
    let load = started.elapsed();
    let ptl_spec = match args.ptl.is_some() || args.ptl_table.is_some() {
        false => None,
        true => {
            let columns = args
                .ptl_columns
                .clone()
                .unwrap_or_else(|| PtlSpec::default_columns(&policy));
            match PtlSpec::new(&policy, &args.ptl_clock, &columns) {
                Ok(spec) => Some(spec),
                Err(e) => {
                    let flag = match e {
                        SpecError::UnknownClock { .. } => "--ptl-clock",
                        SpecError::UnknownColumn { .. } => "--ptl-columns",
                    };
                    say!("error: {flag}: {e}");
                    return EXIT_USAGE;
                }
            }
        }
    };
    let as_at = args
        .as_at
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let ptl_spec = ptl_spec.map(|spec| {
        let spec = spec.spilling(SpillOptions::beside(
            args.ptl.as_deref(),
            args.ptl_memory.saturating_mul(1 << 20),
        ));
        match args.horizon {
            Some(days) => spec.with_horizon(as_at, days),
            None => spec,
        }
    });
    // The PTL's attribute columns, for the types of its Parquet and table columns.
    let ptl_attributes = ptl_spec
        .as_ref()
        .map(|s| s.columns.clone())
        .unwrap_or_default();
    // The tables' connection is made sure of before the run, not after it.
    let sink_conn = match (args.ptl_table.is_some() || args.results_table.is_some())
        .then(|| pg_connection(args.pg_url.as_deref()))
    {
        Some(Err((code, msg))) => {
            say!("error: {msg}");
            return code;
        }
        Some(Ok(c)) => Some(c),
        None => None,
    };
    let mapping = match choose_mapping(&policy, args.map.as_deref()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let input = match open_events(args, mapping) {
        Ok(i) => i,
        Err((code, msg)) => {
            say!("error: {msg}");
            return code;
        }
    };
    // Files are written beside their target and renamed over it once complete.
    let results_parquet = args.output.as_deref().is_some_and(is_parquet);
    let mut results_file = match args.output.as_deref().map(OutputFile::create).transpose() {
        Ok(f) => f.map(|f| {
            if results_parquet {
                Results::Parquet(Box::new(ParquetSink::new(
                    f,
                    Box::new(report::result_column_type),
                )))
            } else {
                Results::File(f)
            }
        }),
        Err(e) => {
            let path = args.output.as_deref().unwrap_or(Path::new(""));
            say!("error: cannot write `{}`: {e}", path.display());
            return EXIT_UNREADABLE;
        }
    };
    if let (Some(conn), Some(table)) = (&sink_conn, &args.results_table) {
        match TableSink::open(conn, table, Box::new(report::result_column_type)) {
            Ok(sink) => results_file = Some(Results::Table(Box::new(sink))),
            Err(e) => {
                say!("error: {e}");
                return EXIT_UNREADABLE;
            }
        }
    }
    let mut ptl_file = match args.ptl.as_deref().map(OutputFile::create).transpose() {
        Ok(f) => f,
        Err(e) => {
            let path = args.ptl.as_deref().unwrap_or(Path::new(""));
            say!("error: cannot write `{}`: {e}", path.display());
            return EXIT_UNREADABLE;
        }
    };
    let results_to: Option<Box<dyn Write + '_>> = match &mut results_file {
        Some(Results::File(f)) => Some(Box::new(f)),
        Some(Results::Parquet(f)) => Some(Box::new(&mut **f)),
        Some(Results::Table(t)) => Some(Box::new(&mut **t)),
        None if !args.summary => Some(Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            &mut *out,
        ))),
        None => None,
    };
    // A Parquet file or a table holds the CSV columns, whatever --format says.
    let format = if results_parquet || args.results_table.is_some() {
        ResultFormat::Csv
    } else {
        ResultFormat::from(args.format)
    };
    let results = match (results_to, format) {
        (None, _) => ResultSink::Discard,
        (Some(w), ResultFormat::Table) => ResultSink::Table(w),
        (Some(mut w), ResultFormat::Csv) => {
            if let Err(e) = report::write_csv_header(&mut w) {
                say!("error: cannot write results: {e}");
                return EXIT_UNREADABLE;
            }
            ResultSink::Encoded(format, w)
        }
        (Some(w), ResultFormat::Jsonl) => ResultSink::Encoded(format, w),
    };
    if let Some(n) = args.threads {
        // Reading, evaluating and writing all use rayon's global pool; a command runs once
        // per process, so `--threads` sizes that pool (1 to MAX_THREADS, checked by clap).
        // The threads are tried in a pool of their own first: when the system cannot start
        // that many (a thread or memory limit), a failed global pool would make rayon panic
        // at its next use.
        if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            say!("error: cannot start {n} worker threads ({e}): ask for fewer with --threads");
            return EXIT_USAGE;
        }
        if rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .is_err()
            && rayon::current_num_threads() != n
        {
            say!(
                "warning: --threads {n} ignored: this process already runs {} threads",
                rayon::current_num_threads()
            );
        }
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pathways {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut show_progress = |done: u64, total: Option<u64>| {
        if let (Some(bar), Some(total)) = (&bar, total) {
            if total > 20_000 {
                if bar.is_hidden() {
                    bar.set_length(total);
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                }
                bar.set_position(done);
            }
        }
    };
    let mut on_rejection = print_rejection;
    let options = batch::Options {
        as_at,
        strict: args.strict,
        trace: args.trace,
        streaming: args.streaming,
    };
    let sinks = Sinks {
        results,
        ptl_clock: None,
        summary: args.summary,
        on_rejection: &mut on_rejection,
        on_progress: Some(&mut show_progress),
    };
    let outcome = batch::run_with(&policy, input, &options, sinks, ptl_spec);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            say!("error: {e}");
            return match &e {
                batch::Error::Read(r) => read_error(r),
                batch::Error::Write(_) | batch::Error::Ptl(_) => EXIT_UNREADABLE,
            };
        }
    };
    let finishing = Instant::now();
    if let Some(f) = results_file {
        let path = args.output.as_deref().unwrap_or(Path::new(""));
        let file_error = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
        let done = match f {
            Results::File(f) => f.commit().map_err(file_error),
            Results::Parquet(p) => p.finish().and_then(OutputFile::commit).map_err(file_error),
            // The table's own message names it and the server.
            Results::Table(t) => t.finish().map(drop),
        };
        if let Err(e) = done {
            say!("error: {e}");
            return EXIT_UNREADABLE;
        }
    }
    if let Some(mut rows) = outcome.ptl.take() {
        if let Some(mut f) = ptl_file.take() {
            let path = f.target().to_path_buf();
            let res = if is_parquet(&path) {
                let attributes = ptl_attributes.clone();
                let mut sink = ParquetSink::new(
                    f,
                    Box::new(move |c: &str| report::ptl::column_type(&attributes, c)),
                );
                rows.write_csv(&mut sink)
                    .and_then(|()| sink.finish())
                    .and_then(OutputFile::commit)
            } else {
                rows.write_csv(&mut f).and_then(|()| f.commit())
            };
            if let Err(e) = res {
                say!("error: cannot write `{}`: {e}", path.display());
                return EXIT_UNREADABLE;
            }
        }
        if let (Some(conn), Some(table)) = (&sink_conn, &args.ptl_table) {
            let attributes = ptl_attributes.clone();
            let res = replace_table(
                conn,
                table,
                Box::new(move |c: &str| report::ptl::column_type(&attributes, c)),
                |w| rows.write_csv(w),
            );
            if let Err(e) = res {
                say!("error: {e}");
                return EXIT_UNREADABLE;
            }
        }
    }
    if let Some(s) = &outcome.summary {
        let format = match args.summary_format {
            None | Some(SummaryFormatArg::Table) => SummaryFormat::Table,
            Some(SummaryFormatArg::Json) => SummaryFormat::Json,
            Some(SummaryFormatArg::Csv) => SummaryFormat::Csv,
        };
        let res = report::summary::write(s, format, out);
        if let Err(e) = res {
            say!("error: cannot write the summary: {e}");
            return EXIT_UNREADABLE;
        }
    }
    for u in batch::unmeetable_obligations(&policy, &outcome.events_by_type) {
        let events = pal_engine::base::text::name_list(u.events.iter().map(String::as_str), 4);
        say!(
            "warning: rule `{}` requires `{}`, met by {events}, but the input has no such event: \
             every one will show as missed (is the extract missing them?)",
            u.rule,
            u.what,
        );
    }
    let c = outcome.counts;
    say!(
        "as at {as_at}: {} rows read, {} evaluated, {} rejected, {} after the as-at date; {} pathways",
        c.rows_read, c.rows_evaluated, c.rows_rejected, c.rows_after_as_at, c.pathways,
    );
    if args.stats {
        let phases = Phases {
            load,
            read: outcome.phases.read,
            evaluate: outcome.phases.evaluate,
            output: outcome.phases.output + finishing.elapsed(),
            total: started.elapsed(),
        };
        say!(
            "{}",
            phases.report(c.rows_evaluated, c.pathways, peak_rss_bytes())
        );
    }
    EXIT_OK
}
