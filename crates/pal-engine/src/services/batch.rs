//! The batch run: a policy over a whole extract — parallel, ordered, deterministic. `pal run`
//! and `pal explain` call it; so can any other front end (a language server, a binding).
//!
//! Input is read whole, or streamed pathway by pathway when its rows are grouped by pathway
//! (memory then bounded by the largest pathway). A run is a pipeline of three stages, each on
//! its own thread and joined to the next by a bounded channel, so they overlap: reading (its
//! chunks parsed on rayon's pool) hands on batches of [`BATCH`] pathways; evaluating runs a
//! batch on rayon's pool, encoding results, PTL rows and summary counts in parallel; gathering,
//! on the calling thread, writes each batch's encoded results in input order and gathers the
//! PTL and summary while the next batch is evaluated. The output never depends on the number
//! of threads. Nothing here keeps results: the PTL goes through an external sort within its
//! memory budget ([`PtlSpec::spill`]).
//!
//! **Invariant:** memory is bounded by the batch size × the channels' depth ([`DEPTH`]) plus
//! the PTL's budget — and, reading a whole input, the input; never by the number of pathways
//! written or listed. Parsing and evaluation use rayon's global pool (which `--threads`
//! sizes), whichever pool the caller runs in.

use crate::io::events::{
    for_each_pathway, for_each_table_pathway, read_events, read_table_events, EventSet,
    InputFormat, ParquetSource, PathwayEvents, PgQuery, PgSource, ReadError, ReadOptions,
    Rejection, TableSource,
};
use crate::io::pg::PgConnection;
use crate::io::report::ptl::{PtlBatch, PtlSorter, PtlSpec, SortedPtl};
use crate::io::report::summary::{Summary, SummaryBuilder};
use crate::io::report::{self, ResultFormat};
use crate::model::ir::Policy;
use crate::model::mapping::InputMapping;
use crate::runtime::eval::{Evaluator, PathwayResult};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Pathways evaluated per batch: enough to keep every core busy, few enough that a streaming
/// run holds little.
pub const BATCH: usize = 2048;

/// An extract to read: its display name (for provenance) and where its rows come from.
pub struct Input {
    /// The name rejections are reported under (`<stdin>` for standard input; a database
    /// connection without its password).
    pub name: String,
    /// The rows.
    pub source: Source,
    /// The extract's own shape, when it is not PAL's (`pal run --map`).
    pub mapping: Option<InputMapping>,
}

/// Where an extract's rows come from.
pub enum Source {
    /// Text: CSV or JSON Lines bytes.
    Text {
        /// CSV or JSON Lines.
        format: InputFormat,
        /// The bytes.
        reader: Box<dyn Read + Send>,
    },
    /// Named columns: a Parquet file, a PostgreSQL query, or any other [`TableSource`].
    Table(Box<dyn TableSource>),
}

impl Input {
    /// Text bytes in `format`, reported under `name`.
    pub fn text(name: &str, format: InputFormat, reader: Box<dyn Read + Send>) -> Input {
        Input {
            name: name.to_string(),
            source: Source::Text { format, reader },
            mapping: None,
        }
    }

    /// Any table source (its name is its own).
    pub fn table(source: Box<dyn TableSource>) -> Input {
        Input {
            name: source.name().to_string(),
            source: Source::Table(source),
            mapping: None,
        }
    }

    /// A Parquet file.
    pub fn parquet(path: &Path) -> Result<Input, ReadError> {
        Ok(Input::table(Box::new(ParquetSource::open(path)?)))
    }

    /// The rows of a PostgreSQL table or query, streamed with `COPY`, read through `mapping`
    /// (none: PAL's own columns); rejected rows are named by `key_columns` (empty: the pathway
    /// id, date and event). A table is read sorted by its pathway-id column (the mapping's, or
    /// `pathway_id`), so it streams.
    pub fn postgres(
        conn: &PgConnection,
        query: &PgQuery,
        key_columns: Vec<String>,
        mapping: Option<InputMapping>,
    ) -> Result<Input, ReadError> {
        let pathway_column = mapping
            .as_ref()
            .map_or("pathway_id", |m| m.pathway_id.name.as_str());
        let source = PgSource::open(conn, query, key_columns, pathway_column)?;
        Ok(Input::table(Box::new(source)).with_mapping(mapping))
    }

    /// Opens `path` (`-` is standard input), buffered. Regular files, FIFOs and standard input
    /// are read (the latter two streamed as they come); a folder or a device is refused, since
    /// `/dev/zero` or `/dev/urandom` would never end. Whatever the source, a row longer than
    /// [`crate::io::events::MAX_ROW_BYTES`] ends the read with an error.
    pub fn open(path: &Path, format: InputFormat) -> io::Result<Input> {
        if path == Path::new("-") {
            return Ok(Input::text(
                "<stdin>",
                format,
                Box::new(io::BufReader::with_capacity(1 << 20, io::stdin())),
            ));
        }
        let file = std::fs::File::open(path)?;
        let kind = file.metadata()?.file_type();
        if kind.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a folder, not an events file",
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_char_device() || kind.is_block_device() || kind.is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "it is a device, not an events file (a pipe or `-` for standard input is read as a stream)",
                ));
            }
        }
        Ok(Input::text(
            &path.display().to_string(),
            format,
            Box::new(io::BufReader::with_capacity(1 << 20, file)),
        ))
    }

    /// The same input, read through `mapping` (the extract's own columns, codes and dates).
    pub fn with_mapping(self, mapping: Option<InputMapping>) -> Input {
        Input { mapping, ..self }
    }
}

/// How a batch run reads and evaluates.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The report date: events after it are counted, not evaluated.
    pub as_at: NaiveDate,
    /// Stop at the first rejected row.
    pub strict: bool,
    /// Keep each pathway's rule trace in its result.
    pub trace: bool,
    /// The input's rows are grouped by pathway: evaluate each as soon as its rows end.
    pub streaming: bool,
}

/// Where per-pathway results go.
pub enum ResultSink<'w> {
    /// Only the PTL and summary are wanted.
    Discard,
    /// JSON Lines or CSV rows (the caller has written any header), encoded in parallel and
    /// written in input order.
    Encoded(ResultFormat, Box<dyn Write + 'w>),
    /// The aligned table needs every row before it can size its columns: written at the end.
    Table(Box<dyn Write + 'w>),
}

/// What a run gathers besides the results, and whom it tells as it goes.
pub struct Sinks<'w> {
    /// Per-pathway results.
    pub results: ResultSink<'w>,
    /// Gather the PTL of this clock.
    pub ptl_clock: Option<String>,
    /// Gather the waiting-time summary.
    pub summary: bool,
    /// Told of each rejected row, in input order.
    pub on_rejection: &'w mut dyn FnMut(&Rejection),
    /// Told after each batch: pathways done so far and, when the input was read whole, the
    /// number of pathways in all.
    pub on_progress: Option<&'w mut dyn FnMut(u64, Option<u64>)>,
}

impl<'w> Sinks<'w> {
    /// Nothing gathered or written: for a caller that reads each pathway's result as it is
    /// handed on ([`run_visiting`]), telling `on_rejection` of each rejected row.
    pub fn discard(on_rejection: &'w mut dyn FnMut(&Rejection)) -> Sinks<'w> {
        Sinks {
            results: ResultSink::Discard,
            ptl_clock: None,
            summary: false,
            on_rejection,
            on_progress: None,
        }
    }
}

/// The row account of a run: every row is evaluated, rejected or after the as-at date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Rows read (excluding the header).
    pub rows_read: u64,
    /// Rows evaluated.
    pub rows_evaluated: u64,
    /// Rows rejected, each told to [`Sinks::on_rejection`].
    pub rows_rejected: u64,
    /// Rows dated after the as-at date.
    pub rows_after_as_at: u64,
    /// Pathways evaluated.
    pub pathways: u64,
}

impl Counts {
    /// The row account of an extract read whole (pathways not yet evaluated: 0).
    pub fn of(set: &EventSet) -> Counts {
        Counts {
            rows_read: set.rows_read,
            rows_evaluated: set.rows_evaluated,
            rows_rejected: set.rejected.len() as u64,
            rows_after_as_at: set.rows_after_as_at,
            pathways: 0,
        }
    }
}

/// Time spent in each phase. Each phase is a stage on its own thread and they overlap (in a
/// streaming run all three; reading a whole input, evaluating and writing), so the three may
/// add up to more than the wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Reading and validating the events (excluding time spent waiting for evaluation).
    pub read: Duration,
    /// Evaluating pathways (wall time, all threads), including encoding their results, PTL
    /// rows and summary counts.
    pub evaluate: Duration,
    /// Writing results and gathering the PTL (spilling included) and summary, excluding time
    /// spent waiting for the next batch.
    pub output: Duration,
}

/// What a finished run gathered.
#[derive(Debug)]
pub struct Outcome {
    /// The row account.
    pub counts: Counts,
    /// The PTL in list order, if asked for (its rows encoded, spilled to temporary files
    /// beyond its memory budget: write it with [`SortedPtl::write_csv`]).
    pub ptl: Option<SortedPtl>,
    /// The waiting-time summary, if asked for.
    pub summary: Option<Summary>,
    /// Where the time went.
    pub phases: PhaseTimes,
    /// Events evaluated, per event type (by `EventTypeId`).
    pub events_by_type: Vec<u64>,
}

/// An obligation the policy creates on this input that no event of the input can meet: none
/// of the event types that meet it (`require … by E`) appears among the evaluated rows,
/// although its rule's trigger does. Every such obligation will be reported missed, which is
/// more likely a gap in the extract than in care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmeetableObligation {
    /// The rule that creates it.
    pub rule: String,
    /// The obligation.
    pub what: String,
    /// The event types that would meet it, none of them in the input.
    pub events: Vec<String>,
}

/// The obligations of `policy` that no event of a run can meet ([`UnmeetableObligation`]),
/// from the events evaluated per type (`Outcome::events_by_type`), in policy order.
pub fn unmeetable_obligations(
    policy: &Policy,
    events_by_type: &[u64],
) -> Vec<UnmeetableObligation> {
    use crate::model::ir::{Action, RuleKind};
    let seen = |e: &u32| events_by_type.get(*e as usize).copied().unwrap_or(0) > 0;
    let name = |e: &u32| {
        policy
            .schema
            .events
            .get(*e as usize)
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        if rule.disabled.is_some() {
            continue;
        }
        // Exceptions fire when their parent does: follow the chain to the triggering rule.
        let mut root = rule;
        for _ in 0..=policy.rules.len() {
            match &root.kind {
                RuleKind::Exception { parent } => match policy.rules.get(*parent as usize) {
                    Some(p) => root = p,
                    None => break,
                },
                _ => break,
            }
        }
        let triggered = match &root.kind {
            RuleKind::On(types) => types.iter().any(seen),
            RuleKind::Timer { from, .. } => seen(from),
            RuleKind::Exception { .. } => false,
        };
        if !triggered {
            continue;
        }
        for action in &rule.actions {
            if let Action::Require { what, by, .. } = action {
                if !by.is_empty() && !by.iter().any(seen) {
                    out.push(UnmeetableObligation {
                        rule: policy.rules[i].name.clone(),
                        what: what.to_string(),
                        events: by.iter().map(name).collect(),
                    });
                }
            }
        }
    }
    out
}

/// Why a run stopped.
#[derive(Debug)]
pub enum Error {
    /// The input could not be read, its header is unusable, or (strict) a row was rejected.
    Read(ReadError),
    /// A result could not be written.
    Write(io::Error),
    /// The PTL could not be gathered (a sorted run could not be spilled to its temporary
    /// folder).
    Ptl(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read(e) => write!(f, "{e}"),
            Error::Write(e) => write!(f, "cannot write results: {e}"),
            Error::Ptl(e) => write!(f, "cannot gather the PTL: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Reads a whole extract with `policy`'s schema (the input of [`run`] when not streaming, and
/// of `pal explain`).
pub fn read(
    input: Input,
    policy: &Policy,
    as_at: NaiveDate,
    strict: bool,
) -> Result<EventSet, ReadError> {
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: input.mapping.as_ref(),
        as_at: Some(as_at),
        strict,
    };
    match input.source {
        Source::Text { format, reader } => read_events(reader, &input.name, format, &opts),
        Source::Table(t) => read_table_events(t, &opts),
    }
}

/// Runs `policy` over every pathway of `input`. A PTL asked for by [`Sinks::ptl_clock`] has
/// the default columns ([`PtlSpec::default_columns`]); [`run_with`] takes a checked one.
pub fn run(
    policy: &Policy,
    input: Input,
    options: &Options,
    sinks: Sinks,
) -> Result<Outcome, Error> {
    run_with(policy, input, options, sinks, None)
}

/// [`run`], gathering the PTL `ptl` describes (its clock and attribute columns, checked with
/// [`PtlSpec::new`]) in place of [`Sinks::ptl_clock`]'s.
pub fn run_with(
    policy: &Policy,
    input: Input,
    options: &Options,
    sinks: Sinks,
    ptl: Option<PtlSpec>,
) -> Result<Outcome, Error> {
    run_gathering(policy, input, options, sinks, ptl, None)
}

/// Told of each evaluated pathway with its events, in input order, after the sinks' own
/// gathering (the monthly returns and the HTML report read both).
pub type OnPathway<'v> = &'v mut dyn FnMut(&PathwayEvents, &PathwayResult);

/// [`run`], also telling `on_pathway` of every pathway evaluated, with its events and result,
/// in input order.
pub fn run_visiting(
    policy: &Policy,
    input: Input,
    options: &Options,
    sinks: Sinks,
    on_pathway: OnPathway,
) -> Result<Outcome, Error> {
    run_gathering(policy, input, options, sinks, None, Some(on_pathway))
}

fn run_gathering(
    policy: &Policy,
    input: Input,
    options: &Options,
    sinks: Sinks,
    ptl: Option<PtlSpec>,
    on_pathway: Option<OnPathway>,
) -> Result<Outcome, Error> {
    let ev = Evaluator::new(policy);
    let ptl = ptl.or_else(|| {
        sinks
            .ptl_clock
            .as_ref()
            .map(|c| PtlSpec::unchecked(policy, c, PtlSpec::default_columns(policy)))
    });
    let summary = sinks
        .summary
        .then(|| SummaryBuilder::new(policy, ev.params(), options.as_at));
    let stage = Evaluating {
        ev: &ev,
        options: *options,
        encode: match &sinks.results {
            ResultSink::Encoded(format, _) => Some(*format),
            _ => None,
        },
        ptl: ptl.as_ref(),
        summary: summary.as_ref().map(SummaryBuilder::empty_like),
        keep_results: on_pathway.is_some() || matches!(sinks.results, ResultSink::Table(_)),
        keep_events: on_pathway.is_some(),
        event_types: policy.schema.events.len(),
    };
    let mut gathering = Gathering {
        on_pathway,
        results: sinks.results,
        table: Vec::new(),
        ptl: ptl.as_ref().map(PtlSorter::new),
        summary,
        on_rejection: sinks.on_rejection,
        on_progress: sinks.on_progress,
        total: None,
        pathways: 0,
        busy: Duration::ZERO,
    };
    // Three stages, each on its own thread, joined by bounded channels: reading (which parses
    // on rayon's pool), evaluating (on rayon's pool), and gathering and writing (here, since
    // the sinks need not be `Send`). A stage that stops drops its channels, and the others
    // stop at their next send or receive.
    let (read, evaluated, gathered) = std::thread::scope(|scope| {
        let (work_to, work) = mpsc::sync_channel(DEPTH);
        let (ready_to, ready) = mpsc::sync_channel(DEPTH);
        let reader = scope.spawn(move || produce(policy, input, options, work_to));
        let stage = &stage;
        let evaluator = scope.spawn(move || stage.run(work, ready_to));
        let gathered = gathering.gather(ready);
        (join(reader), join(evaluator), gathered)
    });
    let (events_by_type, evaluate) = evaluated;
    gathered?;
    let (counts, read) = read.map_err(Error::Read)?;
    gathering.finish(counts, read, evaluate, events_by_type)
}

/// Batches in flight between two stages: memory is bounded by about `2 × DEPTH + 3` batches
/// (each channel full, one batch filling, one evaluating, one being written), plus the PTL's
/// budget.
pub const DEPTH: usize = 2;

/// A stage's result, or its panic passed on.
fn join<T>(stage: std::thread::ScopedJoinHandle<'_, T>) -> T {
    stage
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What the reading stage hands on, in input order.
enum Work {
    /// The number of pathways in all, when the input was read whole.
    Total(u64),
    /// A batch of pathways to evaluate.
    Pathways(Vec<PathwayEvents>),
    /// A rejected row.
    Rejected(Rejection),
}

/// What the evaluating stage hands on, in input order.
enum Ready {
    Total(u64),
    /// A batch, as the parts its workers evaluated, in input order.
    Evaluated(Vec<Evaluated>),
    Rejected(Rejection),
}

/// A run of consecutive pathways of a batch evaluated on one worker, with what could be
/// prepared for output there.
#[derive(Default)]
struct Evaluated {
    pathways: u64,
    /// Their results, encoded for [`ResultSink::Encoded`], one after the other.
    encoded: Vec<u8>,
    /// Their PTL rows, encoded.
    ptl: Option<PtlBatch>,
    /// Their summary counts.
    summary: Option<SummaryBuilder>,
    /// Their results, when a visitor or the table needs them.
    results: Vec<PathwayResult>,
    /// Their events, when a visitor needs them.
    events: Vec<PathwayEvents>,
    /// A PTL row that could not be encoded.
    failed: Option<io::Error>,
}

/// Reads the input and hands it on in batches: the reading stage. Gives the row account and
/// the time spent reading (not waiting for the next stage).
fn produce(
    policy: &Policy,
    input: Input,
    options: &Options,
    to: mpsc::SyncSender<Work>,
) -> Result<(Counts, Duration), ReadError> {
    let started = Instant::now();
    let waiting = Cell::new(Duration::ZERO);
    // False once the next stage has stopped.
    let send = |work: Work| {
        let sent = Instant::now();
        let ok = to.send(work).is_ok();
        waiting.set(waiting.get() + sent.elapsed());
        ok
    };
    if !options.streaming {
        let set = read(input, policy, options.as_at, options.strict)?;
        let reading = started.elapsed();
        let counts = Counts::of(&set);
        let mut going = send(Work::Total(set.pathways.len() as u64));
        for r in set.rejected {
            going = going && send(Work::Rejected(r));
        }
        let mut pathways = set.pathways.into_iter();
        while going {
            let batch: Vec<PathwayEvents> = pathways.by_ref().take(BATCH).collect();
            if batch.is_empty() {
                break;
            }
            going = send(Work::Pathways(batch));
        }
        return Ok((counts, reading));
    }
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: input.mapping.as_ref(),
        as_at: Some(options.as_at),
        strict: options.strict,
    };
    let mut batch = Vec::with_capacity(BATCH);
    let on_pathway = |p| {
        batch.push(p);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if !send(Work::Pathways(full)) {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    let on_rejected = |r: Rejection| {
        send(Work::Rejected(r));
    };
    let read = match input.source {
        Source::Text { format, reader } => {
            for_each_pathway(reader, &input.name, format, &opts, on_pathway, on_rejected)
        }
        Source::Table(t) => for_each_table_pathway(t, &opts, on_pathway, on_rejected),
    };
    let tally = read?;
    if !batch.is_empty() {
        send(Work::Pathways(batch));
    }
    let counts = Counts {
        rows_read: tally.rows_read,
        rows_evaluated: tally.rows_evaluated,
        rows_rejected: tally.rows_rejected,
        rows_after_as_at: tally.rows_after_as_at,
        pathways: 0,
    };
    Ok((counts, started.elapsed().saturating_sub(waiting.get())))
}

/// The evaluating stage: what it evaluates with and what it prepares for output.
struct Evaluating<'a> {
    ev: &'a Evaluator<'a>,
    options: Options,
    encode: Option<ResultFormat>,
    ptl: Option<&'a PtlSpec>,
    /// An empty summary to count each part in.
    summary: Option<SummaryBuilder>,
    keep_results: bool,
    keep_events: bool,
    event_types: usize,
}

impl Evaluating<'_> {
    /// Evaluates batch after batch, handing each on: gives the events evaluated per type and
    /// the time spent evaluating.
    fn run(&self, work: mpsc::Receiver<Work>, to: mpsc::SyncSender<Ready>) -> (Vec<u64>, Duration) {
        let mut events_by_type = vec![0; self.event_types];
        let mut busy = Duration::ZERO;
        let mut seq = 0u64;
        for w in work {
            let ready = match w {
                Work::Total(n) => Ready::Total(n),
                Work::Rejected(r) => Ready::Rejected(r),
                Work::Pathways(batch) => {
                    let started = Instant::now();
                    for p in &batch {
                        for e in &p.events {
                            if let Some(n) = events_by_type.get_mut(e.kind as usize) {
                                *n += 1;
                            }
                        }
                    }
                    let n = batch.len() as u64;
                    let parts = self.evaluate(batch, seq);
                    seq += n;
                    busy += started.elapsed();
                    Ready::Evaluated(parts)
                }
            };
            if to.send(ready).is_err() {
                break;
            }
        }
        (events_by_type, busy)
    }

    /// Evaluates a batch (its first pathway the `first`-th of the input) in parallel,
    /// encoding results, PTL rows and summary counts as it goes; each worker's run of
    /// consecutive pathways is one part, and the parts come back in input order. Events and
    /// results not needed further are freed here, on the workers.
    fn evaluate(&self, batch: Vec<PathwayEvents>, first: u64) -> Vec<Evaluated> {
        let Options { as_at, trace, .. } = self.options;
        batch
            .into_par_iter()
            .enumerate()
            .fold(Evaluated::default, |mut part, (i, p)| {
                let result = self.ev.run(&p.id, &p.events, &[], as_at, trace);
                // Writing to memory cannot fail.
                let _ = match self.encode {
                    Some(ResultFormat::Csv) => report::write_csv_rows(&result, &mut part.encoded),
                    Some(_) => report::write_jsonl(&result, &mut part.encoded),
                    None => Ok(()),
                };
                if let Some(spec) = self.ptl {
                    if let Some(row) = spec.row(&result, &p.events).filter(|r| spec.keeps(r)) {
                        let rows = part.ptl.get_or_insert_with(PtlBatch::default);
                        if let Err(e) = rows.add(spec, &row, first + i as u64) {
                            part.failed.get_or_insert(e);
                        }
                    }
                }
                if let Some(empty) = &self.summary {
                    part.summary
                        .get_or_insert_with(|| empty.empty_like())
                        .add(&result);
                }
                part.pathways += 1;
                if self.keep_results {
                    part.results.push(result);
                }
                if self.keep_events {
                    part.events.push(p);
                }
                part
            })
            .collect()
    }
}

/// The gathering stage: everything a run writes or gathers, fed batch by batch in input order.
struct Gathering<'w, 'v> {
    on_pathway: Option<OnPathway<'v>>,
    results: ResultSink<'w>,
    table: Vec<PathwayResult>,
    ptl: Option<PtlSorter>,
    summary: Option<SummaryBuilder>,
    on_rejection: &'w mut dyn FnMut(&Rejection),
    on_progress: Option<&'w mut dyn FnMut(u64, Option<u64>)>,
    total: Option<u64>,
    pathways: u64,
    /// Time spent gathering and writing (not waiting for the next batch).
    busy: Duration,
}

impl Gathering<'_, '_> {
    /// Takes everything `ready` hands on until it ends, or until a write fails (`ready` is
    /// then dropped, which stops the other stages).
    fn gather(&mut self, ready: mpsc::Receiver<Ready>) -> Result<(), Error> {
        for r in ready {
            match r {
                Ready::Total(n) => self.total = Some(n),
                Ready::Rejected(r) => (self.on_rejection)(&r),
                Ready::Evaluated(parts) => {
                    let started = Instant::now();
                    for part in parts {
                        self.take(part)?;
                    }
                    self.busy += started.elapsed();
                    if let Some(p) = &mut self.on_progress {
                        p(self.pathways, self.total);
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes and gathers one evaluated part.
    fn take(&mut self, mut part: Evaluated) -> Result<(), Error> {
        if let Some(e) = part.failed.take() {
            return Err(Error::Ptl(e));
        }
        self.pathways += part.pathways;
        if let ResultSink::Encoded(_, w) = &mut self.results {
            w.write_all(&part.encoded).map_err(Error::Write)?;
        }
        if let (Some(sorter), Some(rows)) = (&mut self.ptl, &part.ptl) {
            sorter.extend(rows).map_err(Error::Ptl)?;
        }
        if let (Some(summary), Some(counted)) = (&mut self.summary, part.summary) {
            summary.merge(counted);
        }
        if let Some(visit) = &mut self.on_pathway {
            for (p, r) in part.events.iter().zip(&part.results) {
                visit(p, r);
            }
        }
        if let ResultSink::Table(_) = self.results {
            self.table.append(&mut part.results);
        }
        Ok(())
    }

    /// Finishes the results (the table is written now) and the PTL, closes the summary.
    fn finish(
        self,
        mut counts: Counts,
        read: Duration,
        evaluate: Duration,
        events_by_type: Vec<u64>,
    ) -> Result<Outcome, Error> {
        let started = Instant::now();
        match self.results {
            ResultSink::Discard => {}
            ResultSink::Encoded(_, mut w) => w.flush().map_err(Error::Write)?,
            ResultSink::Table(mut w) => {
                report::write_results_table(&self.table, &mut w).map_err(Error::Write)?;
                w.flush().map_err(Error::Write)?;
            }
        }
        let ptl = self.ptl.map(PtlSorter::finish);
        let summary = self.summary.map(SummaryBuilder::finish);
        counts.pathways = self.pathways;
        Ok(Outcome {
            counts,
            ptl,
            summary,
            phases: PhaseTimes {
                read,
                evaluate,
                output: self.busy + started.elapsed(),
            },
            events_by_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::report::ptl::{self, PtlRow};
    use crate::io::spill::SpillOptions;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn rde() -> Policy {
        match crate::services::project::load_policy(&root().join("policies/rde.pal")) {
            Ok((_, policy, _)) => policy,
            Err((_, d)) => panic!("policies/rde.pal does not load: {d:?}"),
        }
    }

    fn as_at() -> NaiveDate {
        crate::base::value::parse_date("2025-03-01").unwrap_or_default()
    }

    /// The shipped example extract and a few thousand synthetic pathways (sorted by pathway,
    /// so both can be streamed).
    fn extracts() -> Vec<(&'static str, Vec<u8>)> {
        let example = std::fs::read(root().join("examples/events.csv")).unwrap_or_default();
        assert!(!example.is_empty(), "examples/events.csv is missing");
        let mut synthetic = Vec::new();
        let opts = pal_synth::SynthOptions {
            pathways: 3000,
            seed: 2025,
            ..pal_synth::SynthOptions::default()
        };
        if let Err(e) = pal_synth::generate(&opts, pal_synth::SynthFormat::Csv, &mut synthetic) {
            panic!("synth failed: {e}");
        }
        let reversed = reverse_pathways(&synthetic);
        vec![
            ("examples/events.csv", example),
            ("synthetic", synthetic),
            // Pathway ids out of input order: ties of breach date and wait are then broken by
            // the id, not by the input position.
            ("synthetic, pathways reversed", reversed),
        ]
    }

    /// The same extract with its pathways (runs of rows of one id) in reverse order.
    fn reverse_pathways(csv: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(csv);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let mut runs: Vec<Vec<&str>> = Vec::new();
        for line in lines {
            let id = line.split(',').next();
            match runs.last_mut() {
                Some(run) if run[0].split(',').next() == id => run.push(line),
                _ => runs.push(vec![line]),
            }
        }
        let mut out = format!("{header}\n");
        for line in runs.iter().rev().flatten() {
            out.push_str(line);
            out.push('\n');
        }
        out.into_bytes()
    }

    fn options(streaming: bool) -> Options {
        Options {
            as_at: as_at(),
            strict: false,
            trace: false,
            streaming,
        }
    }

    fn input(bytes: &[u8]) -> Input {
        Input::text(
            "events.csv",
            InputFormat::Csv,
            Box::new(io::Cursor::new(bytes.to_vec())),
        )
    }

    /// Runs with `results` and the PTL of `spec`.
    fn run_into(
        policy: &Policy,
        bytes: &[u8],
        streaming: bool,
        results: ResultSink,
        summary: bool,
        spec: Option<PtlSpec>,
    ) -> Result<Outcome, Error> {
        let mut on_rejection = |_: &Rejection| {};
        let sinks = Sinks {
            results,
            ptl_clock: None,
            summary,
            on_rejection: &mut on_rejection,
            on_progress: None,
        };
        run_with(policy, input(bytes), &options(streaming), sinks, spec)
    }

    /// The PTL as it was made before it was spilled: every row kept, sorted, written.
    fn ptl_in_memory(policy: &Policy, bytes: &[u8], spec: &PtlSpec) -> Vec<u8> {
        let mut rows: Vec<PtlRow> = Vec::new();
        let mut on_rejection = |_: &Rejection| {};
        let sinks = Sinks::discard(&mut on_rejection);
        let mut visit = |p: &PathwayEvents, r: &PathwayResult| {
            rows.extend(spec.row(r, &p.events).filter(|row| spec.keeps(row)));
        };
        let run = run_visiting(policy, input(bytes), &options(false), sinks, &mut visit);
        assert!(run.is_ok(), "{:?}", run.err());
        ptl::sort(&mut rows);
        let mut out = Vec::new();
        assert!(spec.write_csv(&rows, &mut out).is_ok());
        out
    }

    fn ptl_text(outcome: Result<Outcome, Error>) -> (Vec<u8>, usize) {
        let mut sorted = match outcome {
            Ok(Outcome { ptl: Some(p), .. }) => p,
            Ok(_) => panic!("no PTL"),
            Err(e) => panic!("run failed: {e}"),
        };
        let mut out = Vec::new();
        assert!(sorted.write_csv(&mut out).is_ok());
        // Written twice (a file and a table), the same.
        let mut again = Vec::new();
        assert!(sorted.write_csv(&mut again).is_ok());
        assert_eq!(out, again);
        (out, sorted.spilled_runs())
    }

    #[test]
    fn a_spilled_ptl_is_byte_identical_to_the_sorted_one() {
        let policy = rde();
        let columns = vec!["specialty".to_string(), "priority".to_string()];
        let spec = match PtlSpec::new(&policy, "rtt", &columns) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        for (name, bytes) in extracts() {
            for spec in [spec.clone(), spec.clone().with_horizon(as_at(), 42)] {
                let want = ptl_in_memory(&policy, &bytes, &spec);
                assert!(want.len() > 200, "{name}: an empty PTL proves nothing");
                // A budget of nothing spills every row; a few KiB, runs of a few rows; the
                // default, none.
                for (memory, spills) in [(0, true), (4096, true), (64 << 20, false)] {
                    for streaming in [false, true] {
                        let spec = spec.clone().spilling(SpillOptions { memory, dir: None });
                        let outcome = run_into(
                            &policy,
                            &bytes,
                            streaming,
                            ResultSink::Discard,
                            true,
                            Some(spec),
                        );
                        let (got, runs) = ptl_text(outcome);
                        assert_eq!(runs > 0, spills, "{name}, {memory} bytes: {runs} runs");
                        assert!(
                            got == want,
                            "{name}, {memory} bytes, streaming {streaming}: the PTL differs"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn results_are_written_in_input_order_as_encoded_one_by_one() {
        let policy = rde();
        let ev = Evaluator::new(&policy);
        for (name, bytes) in extracts() {
            let set = read(input(&bytes), &policy, as_at(), false);
            let set = match set {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
            for format in [ResultFormat::Jsonl, ResultFormat::Csv] {
                // Each pathway evaluated and encoded on its own, in input order.
                let mut want = Vec::new();
                for p in &set.pathways {
                    let r = ev.run(&p.id, &p.events, &[], as_at(), false);
                    let _ = match format {
                        ResultFormat::Csv => report::write_csv_rows(&r, &mut want),
                        _ => report::write_jsonl(&r, &mut want),
                    };
                }
                for streaming in [false, true] {
                    let mut got = Vec::new();
                    let run = run_into(
                        &policy,
                        &bytes,
                        streaming,
                        ResultSink::Encoded(format, Box::new(&mut got)),
                        false,
                        None,
                    );
                    assert!(run.is_ok(), "{:?}", run.err());
                    assert!(got == want, "{name}, {format:?}, streaming {streaming}");
                }
            }
        }
    }

    #[test]
    fn the_summary_counted_in_parts_is_the_summary_counted_in_order() {
        let policy = rde();
        let ev = Evaluator::new(&policy);
        for (name, bytes) in extracts() {
            let set = match read(input(&bytes), &policy, as_at(), false) {
                Ok(s) => s,
                Err(e) => panic!("{e}"),
            };
            let mut builder = SummaryBuilder::new(&policy, ev.params(), as_at());
            for p in &set.pathways {
                builder.add(&ev.run(&p.id, &p.events, &[], as_at(), false));
            }
            let want = builder.finish();
            for streaming in [false, true] {
                let run = run_into(&policy, &bytes, streaming, ResultSink::Discard, true, None);
                let got = run.ok().and_then(|o| o.summary);
                assert_eq!(got.as_ref(), Some(&want), "{name}, streaming {streaming}");
            }
        }
    }

    /// A writer that fails once it has taken `room` bytes.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            self.room -= buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_write_stops_every_stage_with_the_error() {
        let policy = rde();
        for (name, bytes) in extracts() {
            for streaming in [false, true] {
                for room in [0, 10_000] {
                    let sink = ResultSink::Encoded(ResultFormat::Jsonl, Box::new(Full { room }));
                    match run_into(&policy, &bytes, streaming, sink, false, None) {
                        Err(Error::Write(e)) => assert!(e.to_string().contains("no space left")),
                        other => panic!("{name}, streaming {streaming}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_ptl_that_cannot_spill_fails_and_leaves_no_output() {
        let policy = rde();
        let dir = std::env::temp_dir().join(format!("pal-batch-spill-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(std::fs::create_dir_all(&dir).is_ok());
        let missing = dir.join("no-such-folder");
        let target = dir.join("results.jsonl");
        let spec = PtlSpec::unchecked(&policy, "rtt", PtlSpec::default_columns(&policy)).spilling(
            SpillOptions {
                memory: 0,
                dir: Some(missing.clone()),
            },
        );
        let (_, bytes) = &extracts()[1];
        for streaming in [false, true] {
            let mut file = match crate::services::output::OutputFile::create(&target) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            let sink = ResultSink::Encoded(ResultFormat::Jsonl, Box::new(&mut file));
            let run = run_into(&policy, bytes, streaming, sink, false, Some(spec.clone()));
            let message = match run {
                Err(e @ Error::Ptl(_)) => e.to_string(),
                other => panic!("streaming {streaming}: {other:?}"),
            };
            assert!(
                message.contains("cannot spill")
                    && message.contains(&missing.display().to_string()),
                "{message}"
            );
            // The front end does not commit a failed run's output: nothing is left.
            drop(file);
            let left: Vec<_> = std::fs::read_dir(&dir)
                .map(|r| r.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default();
            assert!(left.is_empty(), "{left:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_top_rows_are_the_head_of_the_sorted_list() {
        let policy = rde();
        let spec = PtlSpec::unchecked(&policy, "rtt", PtlSpec::default_columns(&policy));
        let (_, bytes) = &extracts()[1];
        let mut rows = Vec::new();
        let sizes = [0, 1, 25, 100_000];
        let mut tops: Vec<ptl::TopRows> = sizes.map(ptl::TopRows::new).into();
        let mut on_rejection = |_: &Rejection| {};
        let sinks = Sinks::discard(&mut on_rejection);
        let mut visit = |p: &PathwayEvents, r: &PathwayResult| {
            if let Some(row) = spec.row(r, &p.events) {
                for t in &mut tops {
                    t.offer(row.clone());
                }
                rows.push(row);
            }
        };
        let run = run_visiting(&policy, input(bytes), &options(true), sinks, &mut visit);
        assert!(run.is_ok());
        ptl::sort(&mut rows);
        let ids = |rows: &[PtlRow]| {
            rows.iter()
                .map(|r| r.pathway_id.clone())
                .collect::<Vec<_>>()
        };
        assert!(rows.len() > 100, "{} rows prove little", rows.len());
        for (t, n) in tops.into_iter().zip(sizes) {
            assert_eq!(t.offered(), rows.len() as u64);
            let top = t.into_rows();
            assert_eq!(top.len(), n.min(rows.len()));
            assert_eq!(ids(&top), ids(&rows[..top.len()]));
        }
    }
}
