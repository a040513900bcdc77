//! Event readers: CSV and JSON Lines rows → typed [`Event`]s grouped by pathway, validated
//! against the policy's schema (`docs/events.md`). Every row is evaluated, rejected with
//! its file, line and reason, or counted as after the as-at date; none is dropped silently.

use crate::base::text::excerpt;
use crate::model::event::Event;
use crate::model::mapping::InputMapping;
use crate::model::schema::Schema;
use chrono::NaiveDate;
use csv_rows::csv_layout;
use layout::CsvLayout;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

mod cell;
mod csv_rows;
mod jsonl;
mod layout;
mod parquet;
mod postgres;
mod split;
mod table;

pub use parquet::ParquetSource;
pub use postgres::{PgQuery, PgSource};
#[doc(hidden)]
pub use split::SplitLimits;
pub use split::MAX_ROW_BYTES;
pub use table::{
    for_each_table_pathway, read_table_events, Cells, Provenance, RowBatch, TableSource,
};

/// An input file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl InputFormat {
    /// The format a file's extension names (`.csv`, `.jsonl`, `.ndjson`).
    pub fn from_path(path: &Path) -> Option<InputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(InputFormat::Csv),
            "jsonl" | "ndjson" => Some(InputFormat::JsonLines),
            _ => None,
        }
    }
}

impl std::str::FromStr for InputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(InputFormat::Csv),
            "jsonl" | "ndjson" | "json-lines" => Ok(InputFormat::JsonLines),
            other => Err(format!("unknown input format `{other}`: use csv or jsonl")),
        }
    }
}

/// A pathway's events, sorted by date then input order.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayEvents {
    /// The pathway id.
    pub id: String,
    /// Its events.
    pub events: Vec<Event>,
}

/// A row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
    /// The pathway, if the row named one.
    pub pathway_id: Option<String>,
    /// Why, in one lowercase sentence.
    pub reason: String,
    /// For a source without lines (Parquet, a database): the row's number or its key columns,
    /// which [`Rejection::place`] shows instead of `line`. `None` for CSV and JSON Lines.
    pub row: Option<RowRef>,
}

/// Where a row of a source without lines is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowRef {
    /// The 1-based row number (Parquet: across the file's row groups).
    Number(u64),
    /// The row's key columns and their values (a database query: pathway id, date and event
    /// by default), since a query's row order is not a place anyone can go back to.
    Key(Vec<(String, String)>),
}

impl Rejection {
    /// A row of a text file rejected before its pathway is known (unreadable, not UTF-8, not
    /// a JSON object, a key given twice): named by file and line.
    fn of_line(file: &str, line: u32, reason: String) -> Row<'static> {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: None,
            reason,
            row: None,
        })
    }

    /// Where the row is: `file:line` for text files, `source: row N` or
    /// `source: row where pathway_id=…, date=…, event=…` otherwise.
    pub fn place(&self) -> String {
        match &self.row {
            None => format!("{}:{}", self.file, self.line),
            Some(RowRef::Number(n)) => format!("{}: row {n}", self.file),
            Some(RowRef::Key(k)) => format!(
                "{}: row where {}",
                self.file,
                k.iter()
                    .map(|(c, v)| format!("{c}={}", excerpt(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.reason)
    }
}

/// Everything read from an input.
#[derive(Debug, Clone, Default)]
pub struct EventSet {
    /// Pathways in order of first appearance.
    pub pathways: Vec<PathwayEvents>,
    /// Rejected rows, in input order.
    pub rejected: Vec<Rejection>,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows evaluated (in `pathways`).
    pub rows_evaluated: u64,
    /// Valid rows dated after the as-at date (not yet known; not in `pathways`).
    pub rows_after_as_at: u64,
}

/// How to read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    /// The policy's schema.
    pub schema: &'a Schema,
    /// Rows dated after this are counted, not evaluated.
    pub as_at: Option<NaiveDate>,
    /// Fail on the first rejected row.
    pub strict: bool,
    /// The extract's own shape (column names, local codes, date formats), if it is not PAL's.
    pub mapping: Option<&'a InputMapping>,
}

/// Why reading stopped.
#[derive(Debug, Clone)]
pub enum ReadError {
    /// The input could not be read.
    Io(String),
    /// `--strict` and a row was rejected.
    Strict(Rejection),
    /// The CSV header is unusable.
    Header(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Strict(r) => write!(f, "{r} (--strict stops at the first rejected row)"),
            ReadError::Header(e) => write!(f, "{e}"),
        }
    }
}

/// Totals of a streaming read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Data rows read.
    pub rows_read: u64,
    /// Rows evaluated.
    pub rows_evaluated: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Rows after the as-at date.
    pub rows_after_as_at: u64,
    /// Pathways.
    pub pathways: u64,
}

/// What one row turned out to be.
enum Row<'a> {
    /// The pathway id (borrowed from the input row: most rows continue a known pathway) and event.
    Event(&'a str, Event),
    Rejected(Rejection),
    AfterAsAt,
}

/// Bytes per chunk handed to a parsing thread: large enough that the hand-over costs nothing,
/// small enough that a streaming run holds little.
const CHUNK_BYTES: usize = 1 << 20;

/// The limits `pal run` reads with.
pub const LIMITS: SplitLimits = SplitLimits {
    chunk_bytes: CHUNK_BYTES,
    max_row_bytes: MAX_ROW_BYTES,
};

/// The rows of one chunk in input order, consecutive rows of a pathway already grouped.
#[derive(Default)]
struct ChunkRows {
    items: Vec<ChunkItem>,
    rows_read: u64,
    rows_after_as_at: u64,
}

/// A run of a pathway's rows, or a rejected row.
enum ChunkItem {
    Run(PathwayEvents),
    Rejected(Rejection),
}

impl ChunkRows {
    fn push(&mut self, row: Row<'_>) {
        self.rows_read += 1;
        match row {
            Row::Event(pid, e) => {
                if let Some(ChunkItem::Run(run)) = self.items.last_mut() {
                    if run.id == pid {
                        run.events.push(e);
                        return;
                    }
                }
                let mut events = Vec::with_capacity(8);
                events.push(e);
                self.items.push(ChunkItem::Run(PathwayEvents {
                    id: pid.to_string(),
                    events,
                }));
            }
            Row::Rejected(r) => self.items.push(ChunkItem::Rejected(r)),
            Row::AfterAsAt => self.rows_after_as_at += 1,
        }
    }
}

/// Parses one chunk's rows (on whichever thread rayon picks).
fn parse_chunk(
    chunk: &split::Chunk,
    format: InputFormat,
    layout: Option<&CsvLayout>,
    opts: &ReadOptions,
    file: &str,
) -> ChunkRows {
    match (format, layout) {
        (InputFormat::Csv, Some(layout)) => csv_rows::parse_chunk(chunk, layout, opts, file),
        (_, layout) => jsonl::parse_chunk(chunk, layout, opts, file),
    }
}

/// Reads the input on a thread of its own, cut into chunks of whole rows; parses the chunks
/// in parallel (in the current rayon pool) and hands their rows to `on_rows` in input order.
fn each_chunk<R: Read + Send>(
    input: R,
    file: &str,
    format: InputFormat,
    opts: &ReadOptions,
    limits: SplitLimits,
    mut on_rows: impl FnMut(ChunkRows) -> Result<ControlFlow<()>, ReadError>,
) -> Result<(), ReadError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        scope.spawn(move || split::split(input, file, format, limits, |c| tx.send(c).is_ok()));
        // Dropping `chunks` (on any return) stops the reading thread.
        let mut chunks = rx.into_iter();
        let first = chunks.next().transpose()?;
        let layout = match format {
            InputFormat::Csv => Some(csv_layout(first.as_ref(), file, opts)?),
            // JSON Lines has no header: a mapping's own columns are the layout, and each
            // object's keys are looked up by name.
            InputFormat::JsonLines => match opts.mapping {
                Some(m) => Some(CsvLayout::new(m.columns(), opts.schema, Some(m), file)?),
                None => None,
            },
        };
        let group = rayon::current_num_threads().max(1) * 2;
        let mut pending: Vec<split::Chunk> = Vec::with_capacity(group);
        pending.extend(first);
        loop {
            while pending.len() < group {
                match chunks.next() {
                    Some(c) => pending.push(c?),
                    None => break,
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            let parsed: Vec<ChunkRows> = pending
                .par_iter()
                .map(|c| parse_chunk(c, format, layout.as_ref(), opts, file))
                .collect();
            pending.clear();
            for rows in parsed {
                if on_rows(rows)?.is_break() {
                    return Ok(());
                }
            }
        }
    })
}

/// Reads a whole input, grouping events by pathway (rows need not be adjacent nor sorted).
/// Rows are parsed in parallel in the current rayon pool.
pub fn read_events<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<EventSet, ReadError> {
    read_events_in_chunks(input, file_name, format, opts, LIMITS)
}

/// [`read_events`] with other limits (tests and fuzz targets: every chunk size must agree).
#[doc(hidden)]
pub fn read_events_in_chunks<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
    limits: SplitLimits,
) -> Result<EventSet, ReadError> {
    collect_events(opts, |on_rows| {
        each_chunk(input, file_name, format, opts, limits, on_rows)
    })
}

/// What hands parsed rows over, in input order: the text readers' [`each_chunk`], or a
/// [`table`] source's batches.
type OnRows<'f> = dyn FnMut(ChunkRows) -> Result<ControlFlow<()>, ReadError> + 'f;

/// Gathers the rows a producer hands over into an [`EventSet`].
fn collect_events(
    opts: &ReadOptions,
    produce: impl FnOnce(&mut OnRows<'_>) -> Result<(), ReadError>,
) -> Result<EventSet, ReadError> {
    let mut set = EventSet::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    produce(&mut |rows: ChunkRows| {
        set.rows_read += rows.rows_read;
        set.rows_after_as_at += rows.rows_after_as_at;
        for item in rows.items {
            match item {
                ChunkItem::Run(mut run) => {
                    set.rows_evaluated += run.events.len() as u64;
                    let last = set.pathways.len().wrapping_sub(1);
                    let slot = match set.pathways.get(last).filter(|p| p.id == run.id) {
                        // A pathway continuing from the previous chunk: skip the lookup.
                        Some(_) => Some(last),
                        None => index.get(&run.id).copied(),
                    };
                    match slot {
                        Some(i) => set.pathways[i].events.append(&mut run.events),
                        None => {
                            index.insert(run.id.clone(), set.pathways.len());
                            set.pathways.push(run);
                        }
                    }
                }
                ChunkItem::Rejected(r) => {
                    if opts.strict {
                        return Err(ReadError::Strict(r));
                    }
                    set.rejected.push(r);
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    set.pathways
        .par_iter_mut()
        .for_each(|p| p.events.sort_by_key(|e| (e.date, e.seq)));
    Ok(set)
}

/// Streams an input whose rows are grouped by pathway, calling `on_pathway` as soon as each
/// pathway's rows end, so memory is bounded by the largest pathway (plus a few chunks of
/// input being parsed). Rejected rows go to `on_rejected`. A pathway whose rows are not
/// adjacent is not merged silently: its later rows are rejected ("rows of pathway `X` are not
/// adjacent"). `on_pathway` returning `Break` stops the reading early (e.g. the output failed).
pub fn for_each_pathway<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
    on_pathway: impl FnMut(PathwayEvents) -> ControlFlow<()>,
    on_rejected: impl FnMut(Rejection),
) -> Result<Tally, ReadError> {
    for_each_pathway_in_chunks(
        input,
        file_name,
        format,
        opts,
        LIMITS,
        on_pathway,
        on_rejected,
    )
}

/// [`for_each_pathway`] with other limits (tests and fuzz targets).
#[doc(hidden)]
pub fn for_each_pathway_in_chunks<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
    limits: SplitLimits,
    on_pathway: impl FnMut(PathwayEvents) -> ControlFlow<()>,
    on_rejected: impl FnMut(Rejection),
) -> Result<Tally, ReadError> {
    stream_pathways(
        file_name,
        opts,
        |on_rows| each_chunk(input, file_name, format, opts, limits, on_rows),
        |_, _| None,
        on_pathway,
        on_rejected,
    )
}

/// Streams the pathways of the rows a producer hands over ([`for_each_pathway`]); `row_of`
/// gives the provenance of a row rejected for coming back to a finished pathway.
fn stream_pathways(
    file_name: &str,
    opts: &ReadOptions,
    produce: impl FnOnce(&mut OnRows<'_>) -> Result<(), ReadError>,
    row_of: impl Fn(&str, &Event) -> Option<RowRef>,
    mut on_pathway: impl FnMut(PathwayEvents) -> ControlFlow<()>,
    mut on_rejected: impl FnMut(Rejection),
) -> Result<Tally, ReadError> {
    let mut tally = Tally::default();
    let mut current: Option<PathwayEvents> = None;
    // Pathways already finished, by a 64-bit hash of the id: 16 bytes each rather than the
    // ids themselves, so a national extract's ids do not have to fit in memory. A collision
    // (around 1 in 10^6 for 7.5 million ids) would reject a row, visibly, never drop it.
    let mut finished: HashSet<u64> = HashSet::new();
    let id_hash = |id: &str| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    };
    let mut flush = |mut p: PathwayEvents, tally: &mut Tally, finished: &mut HashSet<u64>| {
        p.events.sort_by_key(|e| (e.date, e.seq));
        tally.pathways += 1;
        finished.insert(id_hash(&p.id));
        on_pathway(p)
    };
    let mut reject = |r: Rejection, tally: &mut Tally| {
        if opts.strict {
            return Err(ReadError::Strict(r));
        }
        tally.rows_rejected += 1;
        on_rejected(r);
        Ok(())
    };
    produce(&mut |rows: ChunkRows| {
        tally.rows_read += rows.rows_read;
        tally.rows_after_as_at += rows.rows_after_as_at;
        for item in rows.items {
            let mut run = match item {
                ChunkItem::Rejected(r) => {
                    reject(r, &mut tally)?;
                    continue;
                }
                ChunkItem::Run(run) => run,
            };
            if let Some(c) = current.as_mut().filter(|c| c.id == run.id) {
                // The pathway goes on from the previous chunk.
                tally.rows_evaluated += run.events.len() as u64;
                c.events.append(&mut run.events);
                continue;
            }
            if finished.contains(&id_hash(&run.id)) {
                for e in run.events {
                    let r = Rejection {
                        file: file_name.to_string(),
                        line: e.line,
                        pathway_id: Some(run.id.clone()),
                        reason: format!(
                            "rows of pathway `{}` are not adjacent; sort the input by pathway_id or drop --streaming",
                            excerpt(&run.id)
                        ),
                        row: row_of(&run.id, &e),
                    };
                    reject(r, &mut tally)?;
                }
                continue;
            }
            tally.rows_evaluated += run.events.len() as u64;
            if let Some(done) = current.replace(run) {
                if flush(done, &mut tally, &mut finished).is_break() {
                    current = None;
                    return Ok(ControlFlow::Break(()));
                }
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    if let Some(done) = current.take() {
        // The last pathway (none if `on_pathway` asked to stop).
        let _ = flush(done, &mut tally, &mut finished);
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::value::{parse_date, Value, ValueType};
    use crate::model::schema::FieldDef;
    use crate::model::schema::{EnumDef, EventTypeDef};

    pub(super) fn schema() -> Schema {
        let mut s = Schema::default();
        s.enums.push(EnumDef {
            name: "appointment_kind".into(),
            variants: vec![
                "first".into(),
                "follow_up".into(),
                "diagnostic".into(),
                "admission".into(),
            ],
        });
        s.enums.push(EnumDef {
            name: "priority".into(),
            variants: vec!["routine".into(), "urgent".into()],
        });
        let f = |name: &str, ty: ValueType, optional: bool, default: Option<Value>| FieldDef {
            name: name.into(),
            ty,
            optional,
            default,
        };
        let events = vec![
            EventTypeDef {
                name: "referral_received".into(),
                fields: vec![
                    f(
                        "priority",
                        ValueType::Enum(1),
                        false,
                        Some(Value::Enum(1, 0)),
                    ),
                    f("birth_date", ValueType::Date, true, None),
                    f(
                        "vulnerable",
                        ValueType::Bool,
                        false,
                        Some(Value::Bool(false)),
                    ),
                ],
                sets_attribute: vec![None, None, None],
            },
            EventTypeDef {
                name: "dna".into(),
                fields: vec![
                    f("appointment", ValueType::Enum(0), false, None),
                    f(
                        "communicated",
                        ValueType::Bool,
                        false,
                        Some(Value::Bool(true)),
                    ),
                ],
                sets_attribute: vec![None, None],
            },
            EventTypeDef {
                name: "attended".into(),
                fields: vec![f("appointment", ValueType::Enum(0), false, None)],
                sets_attribute: vec![None],
            },
        ];
        for (i, e) in events.iter().enumerate() {
            s.event_index.insert(e.name.clone(), i as u32);
        }
        s.events = events;
        s
    }

    fn read(
        text: &str,
        format: InputFormat,
        as_at: Option<&str>,
        strict: bool,
    ) -> Result<EventSet, ReadError> {
        let s = schema();
        let opts = ReadOptions {
            schema: &s,
            mapping: None,
            as_at: as_at.and_then(parse_date),
            strict,
        };
        read_events(text.as_bytes(), "in", format, &opts)
    }

    fn ok(text: &str, format: InputFormat) -> EventSet {
        match read(text, format, Some("2025-03-31"), false) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn chunks(chunk_bytes: usize) -> SplitLimits {
        SplitLimits {
            chunk_bytes,
            max_row_bytes: MAX_ROW_BYTES,
        }
    }

    fn invariant(s: &EventSet) {
        assert_eq!(
            s.rows_read,
            s.rows_evaluated + s.rejected.len() as u64 + s.rows_after_as_at
        );
    }

    #[test]
    fn csv_rows_are_typed_grouped_and_sorted() {
        let s = ok(
            "pathway_id,date,event,priority,appointment,communicated\n\
             P2,2025-02-03,dna,,first,N\n\
             P1,2025-01-06,referral_received,urgent,,\n\
             P2,2025-01-06,referral_received,,,\n\
             P2,2025-02-03,attended,,follow_up,\n",
            InputFormat::Csv,
        );
        invariant(&s);
        assert_eq!(
            s.pathways.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["P2", "P1"]
        );
        let p2 = &s.pathways[0];
        assert_eq!(
            p2.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(p2.events[1].fields[1], Value::Bool(false));
        assert_eq!(p2.events[1].line, 2);
        assert_eq!(p2.events[0].fields[0], Value::Enum(1, 0)); // default
        assert_eq!(s.pathways[1].events[0].fields[0], Value::Enum(1, 1));
    }

    #[test]
    fn every_bad_row_is_rejected_with_its_physical_line() {
        let s = ok(
            "pathway_id,date,event,appointment,communicated,notes\n\
             P1,2025-01-06,referral_received,,,\"a note\nover two lines\"\n\
             P1,2025-02-30,attended,first,,\n\
             P1,2025-02-03,dnaa,first,,\n\
             P1,2025-02-10,dna,first,,x\n\
             ,2025-02-11,attended,first,,\n\
             P1,2025-02-12,attended,frist,,\n\
             P1,2025-02-13,dna,,,\n\
             P1,2025-02-14,dna,first,maybe,\n\
             P1,2025-02-15,attended,first,,\n",
            InputFormat::Csv,
        );
        invariant(&s);
        let got: Vec<(u32, &str)> = s
            .rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect();
        assert_eq!(got.len(), 8, "{got:?}");
        assert_eq!(got[0].0, 2); // the multi-line note makes the referral start on line 2
        assert!(got[0].1.contains("`notes` is not a field"));
        assert_eq!(got[1].0, 4);
        assert!(got[1].1.contains("`2025-02-30` is not a date"));
        assert_eq!(
            got[2],
            (5, "unknown event type `dnaa` (did you mean `dna`?)")
        );
        assert!(got[3].1.contains("column `notes` is not a field of `dna`"));
        assert_eq!(got[4], (7, "missing `pathway_id`"));
        assert!(got[5].1.contains(
            "`frist` is not one of first, follow_up, diagnostic, admission (did you mean `first`?)"
        ));
        assert!(got[6]
            .1
            .contains("required field `appointment` of `dna` is missing"));
        assert!(got[7].1.contains("`maybe` is not true/false"));
        assert_eq!(s.rows_evaluated, 1);
    }

    #[test]
    fn jsonl_follows_the_same_rules() {
        let s = ok(
            "{\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\",\"birth_date\":null}\n\
             \n\
             {\"pathway_id\":\"P1\",\"date\":\"2025-02-03\",\"event\":\"dna\",\"appointment\":\"first\",\"communicated\":false}\n\
             {\"pathway_id\":\"P1\",\"date\":\"2025-02-04\",\"event\":\"dna\",\"appointment\":\"first\",\"on_the_day\":true}\n\
             [1,2]\n\
             {not json\n\
             {\"pathway_id\":7,\"date\":\"2025-02-05\",\"event\":\"attended\"}\n\
             {\"pathway_id\":\"P1\",\"date\":\"2025-06-01\",\"event\":\"attended\",\"appointment\":\"first\"}\n",
            InputFormat::JsonLines,
        );
        invariant(&s);
        assert_eq!(s.rows_evaluated, 2);
        assert_eq!(s.rows_after_as_at, 1);
        assert_eq!(s.pathways[0].events[1].fields[1], Value::Bool(false));
        let lines: Vec<u32> = s.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 5, 6, 7]);
    }

    #[test]
    fn jsonl_lines_that_are_not_utf8_are_rejected() {
        let s = schema();
        let opts = ReadOptions {
            schema: &s,
            mapping: None,
            as_at: None,
            strict: false,
        };
        let text =
            b"{\"pathway_id\":\"P\xff\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n";
        let set = read_events(&text[..], "in", InputFormat::JsonLines, &opts);
        let got: Vec<(u32, String)> = set
            .map(|s| s.rejected.into_iter().map(|r| (r.line, r.reason)).collect())
            .unwrap_or_default();
        assert_eq!(got, [(1, "the line is not UTF-8 text".to_string())]);
    }

    #[test]
    fn header_problems_and_strict_mode() {
        assert!(
            matches!(read("pathway_id,event\nP1,dna\n", InputFormat::Csv, None, false), Err(ReadError::Header(m)) if m.contains("`date`"))
        );
        assert!(matches!(
            read(
                "pathway_id,date,event,date\n",
                InputFormat::Csv,
                None,
                false
            ),
            Err(ReadError::Header(_))
        ));
        let strict = read(
            "pathway_id,date,event\nP1,2025-02-30,dna\n",
            InputFormat::Csv,
            None,
            true,
        );
        assert!(matches!(strict, Err(ReadError::Strict(r)) if r.line == 2));
        // A BOM before the header is tolerated.
        let s = ok(
            "\u{feff}pathway_id,date,event\nP1,2025-01-06,referral_received\n",
            InputFormat::Csv,
        );
        assert_eq!(s.rows_evaluated, 1);
    }

    #[test]
    fn garbage_never_panics() {
        let junk: Vec<u8> = (0..2000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let s = schema();
        let opts = ReadOptions {
            schema: &s,
            mapping: None,
            as_at: None,
            strict: false,
        };
        for format in [InputFormat::Csv, InputFormat::JsonLines] {
            let _ = read_events(&junk[..], "junk", format, &opts);
            let mut with_header = b"pathway_id,date,event\n".to_vec();
            with_header.extend_from_slice(&junk);
            if let Ok(set) = read_events(&with_header[..], "junk", format, &opts) {
                invariant(&set);
            }
        }
    }

    #[test]
    fn crlf_and_blank_lines_keep_physical_line_numbers() {
        let s = ok(
            "pathway_id,date,event\r\nP1,2025-01-06,referral_received\r\n\r\n\
             P1,2025-02-30,attended\r\n\r\n\r\nP1,2025-01-07,dnaa\r\nP1,2025-01-08,dna\n",
            InputFormat::Csv,
        );
        let lines: Vec<u32> = s.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 7, 8]);
        assert_eq!(s.pathways[0].events[0].line, 2);
    }

    fn rejections(s: &EventSet) -> Vec<(u32, &str)> {
        s.rejected
            .iter()
            .map(|r| (r.line, r.reason.as_str()))
            .collect()
    }

    #[test]
    fn an_unclosed_quote_is_rejected_not_swallowed() {
        // Issue 19 item 2: the rest of the file became one cell, "2 rows read, 0 rejected".
        let mut text = String::from(
            "pathway_id,date,event,appointment\nP1,2025-01-06,referral_received,\nP1,2025-01-07,attended,\"first\n",
        );
        for i in 0..1005 {
            text.push_str(&format!("P{i},2025-01-08,attended,first\n"));
        }
        let s = ok(&text, InputFormat::Csv);
        invariant(&s);
        let got = rejections(&s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, 3);
        assert!(
            got[0].1.contains("never closed: lines 3 to 1008"),
            "{}",
            got[0].1
        );
        // The quote closes far below, and the row's shape gives it away.
        let text = format!("{}\",x\nP2,2025-01-09,attended,first\n", text.trim_end());
        let s = ok(&text, InputFormat::Csv);
        invariant(&s);
        let got = rejections(&s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1.contains("runs over 1006 lines"), "{}", got[0].1);
        assert_eq!(s.rows_evaluated, 2);
        // A short quoted cell that closes, leaving the wrong number of cells.
        let s = ok(
            "pathway_id,date,event,appointment\nP1,2025-01-06,attended,\"first\nP1\",2025-01-07,attended,first\n",
            InputFormat::Csv,
        );
        let got = rejections(&s);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].1.contains("has 7 cells where the header has 4"),
            "{got:?}"
        );
        // An unclosed quote on the last line, with no line end after it.
        let s = ok(
            "pathway_id,date,event,appointment\nP1,2025-01-06,attended,\"first",
            InputFormat::Csv,
        );
        assert!(rejections(&s)[0].1.contains("never closed"), "{s:?}");
        // With --strict, the run stops there.
        assert!(matches!(
            read(&text, InputFormat::Csv, None, true),
            Err(ReadError::Strict(r)) if r.line == 3
        ));
        // A legitimate two-line note is still a row.
        let s = ok(
            "pathway_id,date,event,appointment\nP1,2025-01-06,attended,\"fi\nrst\"\n",
            InputFormat::Csv,
        );
        assert_eq!(s.rejected.len(), 1);
        assert!(s.rejected[0].reason.contains("is not one of"));
    }

    #[test]
    fn bare_cr_files_report_physical_lines() {
        // Issue 19 item 8: every rejection was reported on line 1.
        let s = ok(
            "pathway_id,date,event\rP1,2025-01-06,referral_received\rP1,2025-02-30,attended\r\rP1,2025-01-07,dnaa\r",
            InputFormat::Csv,
        );
        let lines: Vec<u32> = s.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 5]);
        assert_eq!(s.pathways[0].events[0].line, 2);
    }

    #[test]
    fn a_wide_header_after_a_blank_line_is_found() {
        // Issue 19 item 8: a header over 1 MiB after a leading blank line was not found.
        let mut text = String::from("\npathway_id,date,event");
        for i in 0..150_000 {
            text.push_str(&format!(",extra_{i}"));
        }
        text.push_str("\nP1,2025-01-06,referral_received\n");
        assert!(text.len() > 1 << 20);
        let s = ok(&text, InputFormat::Csv);
        assert_eq!((s.rows_evaluated, s.rejected.len()), (1, 0));
    }

    #[test]
    fn a_million_columns_are_checked_in_linear_time() {
        // Issue 19 item 5: the duplicate check was quadratic.
        let mut text = String::from("pathway_id,date,event");
        for i in 0..1_000_000 {
            text.push_str(&format!(",c{i}"));
        }
        text.push_str(",c17\n");
        let started = std::time::Instant::now();
        let e = read(&text, InputFormat::Csv, None, false).err();
        assert!(
            matches!(&e, Some(ReadError::Header(m)) if m == "the header names column `c17` twice"),
            "{e:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let e = read(&text[21..], InputFormat::Csv, None, false).err();
        let shown = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            shown.len() < 1000,
            "the message echoes the header: {} bytes",
            shown.len()
        );
    }

    #[test]
    fn huge_cells_are_neither_searched_nor_echoed() {
        // Issue 19 item 5: a 100 MB unknown event took minutes and was echoed whole.
        let cell = "x".repeat(10 << 20);
        let text = format!("pathway_id,date,event\nP1,2025-01-06,{cell}\nP1,{cell},dna\n");
        let started = std::time::Instant::now();
        let s = ok(&text, InputFormat::Csv);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert_eq!(s.rejected.len(), 2);
        for r in &s.rejected {
            assert!(r.reason.len() < 300, "{} bytes", r.reason.len());
            assert!(r.reason.contains("(10485760 bytes)"), "{}", r.reason);
        }
    }

    #[test]
    fn messages_name_undeclared_keys_in_row_order() {
        // Issue 19 item 7: the key named depended on hash-map order.
        let text = "{\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"attended\",\"appointment\":\"first\",\"zeta\":1,\"alpha\":2,\"mid\":3}\n";
        for _ in 0..20 {
            let s = ok(text, InputFormat::JsonLines);
            assert_eq!(
                rejections(&s),
                [(
                    1,
                    "columns `zeta`, `alpha`, `mid` are not fields of `attended`"
                )]
            );
            let strict = read(text, InputFormat::JsonLines, None, true).err();
            assert_eq!(
                strict.map(|e| e.to_string()).unwrap_or_default(),
                "in:1: columns `zeta`, `alpha`, `mid` are not fields of `attended` (--strict stops at the first rejected row)"
            );
        }
        let s = ok(
            "pathway_id,date,event,zeta,appointment,alpha\nP1,2025-01-06,attended,1,first,2\n",
            InputFormat::Csv,
        );
        assert_eq!(
            rejections(&s),
            [(2, "columns `zeta`, `alpha` are not fields of `attended`")]
        );
    }

    #[test]
    fn duplicate_keys_and_spaced_ids_are_rejected() {
        // Issue 19 item 11: the last key won silently; ` P1` and `P1` merged.
        let s = ok(
            "{\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"attended\",\"appointment\":\"first\",\"appointment\":\"follow_up\"}\n\
             {\"pathway_id\":\" P1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n\
             {\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n",
            InputFormat::JsonLines,
        );
        invariant(&s);
        assert_eq!(
            rejections(&s),
            [
                (1, "key `appointment` appears more than once in the row"),
                (
                    2,
                    "`pathway_id` ` P1` has spaces before or after it; ids are compared exactly"
                )
            ]
        );
        let s = ok(
            "pathway_id,date,event\nP1 ,2025-01-06,referral_received\nP1,2025-01-06,referral_received\n",
            InputFormat::Csv,
        );
        assert_eq!(s.rejected.len(), 1);
        assert_eq!(s.pathways.len(), 1);
    }

    /// Inputs whose rows, rejections and pathways must not depend on where chunks end.
    const CHUNKING_INPUTS: [(&str, InputFormat); 3] = [
        (
            "pathway_id,date,event,appointment,communicated,notes\n\
             P1,2025-01-06,referral_received,,,\"a note\nover two lines\"\n\
             P1,2025-02-30,attended,first,,\n\
             P2,2025-01-06,referral_received,,,\n\
             P1,2025-02-10,dna,first,,\n\
             \n\
             P2,2025-02-12,attended,first,,\r\n\
             P2,2025-02-11,dna,first,N,\n\
             P3,2025-01-01,referral_received,,,\n",
            InputFormat::Csv,
        ),
        (
            "pathway_id,date,event,appointment\nA,2025-01-06,referral_received,\nA,2025-01-07,attended,first\nB,2025-01-06,referral_received,\nA,2025-01-08,attended,first\nB,2025-01-09,attended,first\n",
            InputFormat::Csv,
        ),
        (
            "{\"pathway_id\":\"P1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\"}\n\
             \n\
             {\"pathway_id\":\"P1\",\"date\":\"2025-02-03\",\"event\":\"dna\",\"appointment\":\"first\"}\n\
             {not json\n\
             {\"pathway_id\":\"P2\",\"date\":\"2025-02-05\",\"event\":\"attended\",\"appointment\":\"first\"}",
            InputFormat::JsonLines,
        ),
    ];

    #[test]
    fn chunk_boundaries_change_nothing() {
        let s = schema();
        for strict in [false, true] {
            let opts = ReadOptions {
                schema: &s,
                mapping: None,
                as_at: parse_date("2025-02-11"),
                strict,
            };
            for (text, format) in CHUNKING_INPUTS {
                let whole = format!("{:?}", read_events(text.as_bytes(), "in", format, &opts));
                let stream = |chunk_bytes| {
                    let seen = std::cell::RefCell::new(Vec::new());
                    let tally = for_each_pathway_in_chunks(
                        text.as_bytes(),
                        "in",
                        format,
                        &opts,
                        chunks(chunk_bytes),
                        |p| {
                            seen.borrow_mut().push(format!("{p:?}"));
                            ControlFlow::Continue(())
                        },
                        |r| seen.borrow_mut().push(format!("{r:?}")),
                    );
                    format!("{tally:?} {:?}", seen.into_inner())
                };
                let streamed = stream(CHUNK_BYTES);
                for chunk_bytes in 1..=text.len() + 1 {
                    let chunked = read_events_in_chunks(
                        text.as_bytes(),
                        "in",
                        format,
                        &opts,
                        chunks(chunk_bytes),
                    );
                    assert_eq!(format!("{chunked:?}"), whole, "{chunk_bytes}-byte chunks");
                    assert_eq!(stream(chunk_bytes), streamed, "{chunk_bytes}-byte chunks");
                }
            }
        }
    }

    #[test]
    fn streaming_stops_when_asked() {
        let s = schema();
        let opts = ReadOptions {
            schema: &s,
            mapping: None,
            as_at: None,
            strict: false,
        };
        let text = "pathway_id,date,event\nA,2025-01-06,referral_received\nB,2025-01-06,referral_received\nC,2025-01-06,referral_received\n";
        for chunk_bytes in [1, 1 << 20] {
            let mut seen = Vec::new();
            let tally = for_each_pathway_in_chunks(
                text.as_bytes(),
                "s",
                InputFormat::Csv,
                &opts,
                chunks(chunk_bytes),
                |p| {
                    seen.push(p.id);
                    ControlFlow::Break(())
                },
                |_| {},
            );
            assert!(tally.is_ok());
            assert_eq!(seen, ["A"], "{chunk_bytes}-byte chunks");
        }
    }

    #[test]
    fn streaming_reports_non_adjacent_pathways() {
        let s = schema();
        let opts = ReadOptions {
            schema: &s,
            mapping: None,
            as_at: None,
            strict: false,
        };
        let text = "pathway_id,date,event,appointment\nA,2025-01-06,referral_received,\nA,2025-01-07,attended,first\nB,2025-01-06,referral_received,\nA,2025-01-08,attended,first\n";
        let mut seen = Vec::new();
        let mut rejected = Vec::new();
        let tally = for_each_pathway(
            text.as_bytes(),
            "s",
            InputFormat::Csv,
            &opts,
            |p| {
                seen.push((p.id, p.events.len()));
                ControlFlow::Continue(())
            },
            |r| rejected.push(r),
        );
        assert_eq!(seen, [("A".to_string(), 2), ("B".to_string(), 1)]);
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].reason.contains("not adjacent"));
        assert_eq!(
            tally
                .ok()
                .map(|t| (t.rows_read, t.rows_evaluated, t.rows_rejected)),
            Some((4, 3, 1))
        );
    }

    #[test]
    fn a_mapped_extract_reads_as_the_same_events_in_any_chunking() {
        use crate::model::mapping::{Column, DateColumn, DateFormat, EventColumn, FieldColumn};
        let col = |n: &str| Column {
            name: n.into(),
            origin: "map.pal:1".into(),
        };
        let fmt = |p: &str| DateFormat::parse(p).map(|f| vec![f]).unwrap_or_default();
        let mapping = InputMapping {
            name: "pas".into(),
            pathway_id: col("ID"),
            date: DateColumn {
                column: col("WHEN"),
                formats: fmt("DD/MM/YYYY hh:mm"),
            },
            event: EventColumn {
                column: col("WHAT"),
                codes: Some(vec![("R".into(), 0), ("D".into(), 1), ("A".into(), 2)]),
            },
            fields: vec![
                FieldColumn {
                    field: "priority".into(),
                    column: col("PRI"),
                    formats: Vec::new(),
                    values: Some(vec![
                        ("1".into(), Value::Enum(1, 0)),
                        ("2".into(), Value::Enum(1, 1)),
                    ]),
                },
                FieldColumn {
                    field: "birth_date".into(),
                    column: col("DOB"),
                    formats: fmt("DD/MM/YYYY hh:mm"),
                    values: None,
                },
                FieldColumn {
                    field: "appointment".into(),
                    column: col("APPT"),
                    formats: Vec::new(),
                    values: None,
                },
            ],
        };
        let mapped = "NOISE,ID,WHEN,WHAT,PRI,DOB,APPT\n\
                      x,P1,06/01/2025 09:00,R,2,01/02/1970 00:00,\n\
                      x,P1,03/02/2025 10:30,D,2,,first\n\
                      x,P2,07/01/2025 11:00,R,1,,\n\
                      x,P2,08/01/2025 11:00,Q,1,,\n\
                      x,P2,09/01/2025 11:00,A,1,,follow_up\n";
        let own = "pathway_id,date,event,priority,birth_date,appointment\n\
                   P1,2025-01-06,referral_received,urgent,1970-02-01,\n\
                   P1,2025-02-03,dna,,,first\n\
                   P2,2025-01-07,referral_received,routine,,\n\
                   P2,2025-01-08,nonsense,,,\n\
                   P2,2025-01-09,attended,,,follow_up\n";
        let s = schema();
        let opts = |m| ReadOptions {
            schema: &s,
            mapping: m,
            as_at: None,
            strict: false,
        };
        let want = read_events(own.as_bytes(), "in", InputFormat::Csv, &opts(None))
            .map(|e| e.pathways)
            .unwrap_or_default();
        assert_eq!(want.len(), 2);
        for size in [1, 7, 40, 1 << 20] {
            let got = read_events_in_chunks(
                mapped.as_bytes(),
                "in",
                InputFormat::Csv,
                &opts(Some(&mapping)),
                chunks(size),
            );
            let got = got.unwrap_or_default();
            invariant(&got);
            assert_eq!(got.pathways, want, "chunk size {size}");
            assert_eq!(got.rejected.len(), 1);
            assert_eq!(got.rejected[0].line, 5);
            assert!(
                got.rejected[0]
                    .reason
                    .contains("`WHAT`: code `Q` has no mapping in `pas`"),
                "{}",
                got.rejected[0].reason
            );
        }
    }
}
