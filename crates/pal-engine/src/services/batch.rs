//! The batch run: a policy over a whole extract — parallel, ordered, deterministic. `pal run`
//! and `pal explain` call it; so can any other front end (a language server, a binding).
//!
//! Input is read whole, or streamed pathway by pathway when its rows are grouped by pathway
//! (memory then bounded by the largest pathway). Pathways are evaluated in batches of
//! [`BATCH`] on rayon's pool, results are encoded in parallel and handed to the sinks in input
//! order, so the output never depends on the number of threads. Nothing here keeps results:
//! PTL rows and summary counts are gathered as the run goes.

use crate::io::events::{
    for_each_pathway, for_each_table_pathway, read_events, read_table_events, EventSet,
    InputFormat, ParquetSource, PathwayEvents, PgQuery, PgSource, ReadError, ReadOptions,
    Rejection, TableSource,
};
use crate::io::pg::PgConnection;
use crate::io::report::ptl::{PtlRow, PtlSpec};
use crate::io::report::summary::{Summary, SummaryBuilder};
use crate::io::report::{self, ResultFormat};
use crate::model::ir::Policy;
use crate::model::mapping::InputMapping;
use crate::runtime::eval::{Evaluator, PathwayResult};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::fmt;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::Path;
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

/// Time spent in each phase. In a streaming run reading overlaps evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Reading and validating the events (excluding time spent waiting for evaluation).
    pub read: Duration,
    /// Evaluating pathways (wall time, all threads), including encoding their results.
    pub evaluate: Duration,
    /// Writing results and building the PTL and summary.
    pub output: Duration,
}

/// What a finished run gathered.
#[derive(Debug)]
pub struct Outcome {
    /// The row account.
    pub counts: Counts,
    /// The PTL, sorted, if asked for.
    pub ptl: Option<Vec<PtlRow>>,
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read(e) => write!(f, "{e}"),
            Error::Write(e) => write!(f, "cannot write results: {e}"),
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
    run_gathering(policy, input, options, sinks, ptl, &mut |_, _| {})
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
    run_gathering(policy, input, options, sinks, None, on_pathway)
}

fn run_gathering(
    policy: &Policy,
    input: Input,
    options: &Options,
    sinks: Sinks,
    ptl: Option<PtlSpec>,
    on_pathway: OnPathway,
) -> Result<Outcome, Error> {
    let ev = Evaluator::new(policy);
    let ptl = ptl.or_else(|| {
        sinks
            .ptl_clock
            .map(|c| PtlSpec::unchecked(policy, &c, PtlSpec::default_columns(policy)))
    });
    let mut state = Gathering {
        on_pathway,
        results: sinks.results,
        table: Vec::new(),
        ptl: ptl.map(|spec| (spec, Vec::new())),
        events_by_type: vec![0; policy.schema.events.len()],
        summary: sinks
            .summary
            .then(|| SummaryBuilder::new(policy, ev.params(), options.as_at)),
        pathways: 0,
        phases: PhaseTimes::default(),
    };
    let mut progress = sinks.on_progress;
    let counts = if options.streaming {
        run_streaming(
            &ev,
            policy,
            input,
            options,
            &mut state,
            sinks.on_rejection,
            &mut progress,
        )?
    } else {
        run_whole(
            &ev,
            policy,
            input,
            options,
            &mut state,
            sinks.on_rejection,
            &mut progress,
        )?
    };
    state.finish(counts)
}

/// Everything a run writes or gathers, fed batch by batch in input order.
struct Gathering<'w, 'v> {
    on_pathway: OnPathway<'v>,
    results: ResultSink<'w>,
    table: Vec<PathwayResult>,
    ptl: Option<(PtlSpec, Vec<PtlRow>)>,
    events_by_type: Vec<u64>,
    summary: Option<SummaryBuilder>,
    pathways: u64,
    phases: PhaseTimes,
}

/// One evaluated pathway, with what could be prepared for output in parallel.
struct Evaluated {
    result: PathwayResult,
    encoded: Vec<u8>,
    ptl: Option<PtlRow>,
}

impl Gathering<'_, '_> {
    /// Evaluates a batch in parallel (encoding results and PTL rows as it goes), then hands it
    /// on in order.
    fn process(
        &mut self,
        ev: &Evaluator,
        batch: &[PathwayEvents],
        options: &Options,
    ) -> io::Result<()> {
        let started = Instant::now();
        let encode = match &self.results {
            ResultSink::Encoded(format, _) => Some(*format),
            _ => None,
        };
        let ptl_spec = self.ptl.as_ref().map(|(spec, _)| spec);
        let mut done = batch
            .par_iter()
            .map(|p| {
                let result = ev.run(&p.id, &p.events, &[], options.as_at, options.trace);
                let mut encoded = Vec::with_capacity(if encode.is_some() { 2048 } else { 0 });
                // Writing to memory cannot fail.
                let _ = match encode {
                    Some(ResultFormat::Csv) => report::write_csv_rows(&result, &mut encoded),
                    Some(_) => report::write_jsonl(&result, &mut encoded),
                    None => Ok(()),
                };
                let ptl = ptl_spec.and_then(|spec| spec.row(&result, &p.events));
                Evaluated {
                    result,
                    encoded,
                    ptl,
                }
            })
            .collect::<Vec<_>>();
        self.phases.evaluate += started.elapsed();
        let started = Instant::now();
        for p in batch {
            for e in &p.events {
                if let Some(n) = self.events_by_type.get_mut(e.kind as usize) {
                    *n += 1;
                }
            }
        }
        for (p, e) in batch.iter().zip(&mut done) {
            self.pathways += 1;
            (self.on_pathway)(p, &e.result);
            if let Some(s) = &mut self.summary {
                s.add(&e.result);
            }
            if let (Some((_, rows)), Some(row)) = (&mut self.ptl, e.ptl.take()) {
                rows.push(row);
            }
            match &mut self.results {
                ResultSink::Discard => {}
                ResultSink::Encoded(_, w) => w.write_all(&e.encoded)?,
                ResultSink::Table(_) => self.table.push(std::mem::take(&mut e.result)),
            }
        }
        // Freeing a batch's results is a good part of building them: do it on the workers, not
        // on this thread, which the next batch is waiting for.
        done.into_par_iter().for_each(drop);
        self.phases.output += started.elapsed();
        Ok(())
    }

    /// Finishes the results (the table is written now), sorts the PTL, closes the summary.
    fn finish(self, mut counts: Counts) -> Result<Outcome, Error> {
        let started = Instant::now();
        match self.results {
            ResultSink::Discard => {}
            ResultSink::Encoded(_, mut w) => w.flush().map_err(Error::Write)?,
            ResultSink::Table(mut w) => {
                report::write_results_table(&self.table, &mut w).map_err(Error::Write)?;
                w.flush().map_err(Error::Write)?;
            }
        }
        let ptl = self.ptl.map(|(_, mut rows)| {
            crate::io::report::ptl::sort(&mut rows);
            rows
        });
        let summary = self.summary.map(SummaryBuilder::finish);
        let mut phases = self.phases;
        phases.output += started.elapsed();
        counts.pathways = self.pathways;
        Ok(Outcome {
            counts,
            ptl,
            summary,
            phases,
            events_by_type: self.events_by_type,
        })
    }
}

/// Reads the whole input, then evaluates it batch by batch.
fn run_whole(
    ev: &Evaluator,
    policy: &Policy,
    input: Input,
    options: &Options,
    state: &mut Gathering,
    on_rejection: &mut dyn FnMut(&Rejection),
    progress: &mut Option<&mut dyn FnMut(u64, Option<u64>)>,
) -> Result<Counts, Error> {
    let started = Instant::now();
    let set = read(input, policy, options.as_at, options.strict).map_err(Error::Read)?;
    state.phases.read += started.elapsed();
    for r in &set.rejected {
        on_rejection(r);
    }
    let total = set.pathways.len() as u64;
    for batch in set.pathways.chunks(BATCH) {
        state.process(ev, batch, options).map_err(Error::Write)?;
        if let Some(p) = progress {
            p(state.pathways, Some(total));
        }
    }
    let counts = Counts::of(&set);
    // Millions of events take a while to free: share it among the workers.
    set.pathways.into_par_iter().for_each(drop);
    Ok(counts)
}

/// Evaluates pathway by pathway as the (grouped) input is read: full batches are evaluated and
/// written while the reading thread reads on.
fn run_streaming(
    ev: &Evaluator,
    policy: &Policy,
    input: Input,
    options: &Options,
    state: &mut Gathering,
    on_rejection: &mut dyn FnMut(&Rejection),
    progress: &mut Option<&mut dyn FnMut(u64, Option<u64>)>,
) -> Result<Counts, Error> {
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: input.mapping.as_ref(),
        as_at: Some(options.as_at),
        strict: options.strict,
    };
    let started = Instant::now();
    let busy_before = state.phases.evaluate + state.phases.output;
    let mut batch = Vec::with_capacity(BATCH);
    let mut written = Ok(());
    let on_pathway = |p| {
        batch.push(p);
        if batch.len() == BATCH {
            written = state.process(ev, &batch, options);
            batch.clear();
            if let Some(p) = progress {
                p(state.pathways, None);
            }
            if written.is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    };
    let on_rejected = |r: Rejection| on_rejection(&r);
    let read = match input.source {
        Source::Text { format, reader } => {
            for_each_pathway(reader, &input.name, format, &opts, on_pathway, on_rejected)
        }
        Source::Table(t) => for_each_table_pathway(t, &opts, on_pathway, on_rejected),
    };
    if written.is_ok() && !batch.is_empty() {
        written = state.process(ev, &batch, options);
    }
    written.map_err(Error::Write)?;
    state.phases.read += started
        .elapsed()
        .saturating_sub(state.phases.evaluate + state.phases.output - busy_before);
    let tally = read.map_err(Error::Read)?;
    Ok(Counts {
        rows_read: tally.rows_read,
        rows_evaluated: tally.rows_evaluated,
        rows_rejected: tally.rows_rejected,
        rows_after_as_at: tally.rows_after_as_at,
        pathways: 0,
    })
}
