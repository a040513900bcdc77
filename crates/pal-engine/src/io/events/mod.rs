//! Event readers: CSV and JSON Lines rows → typed [`Event`]s grouped by pathway, validated
//! against the policy's schema (`shared/spec/EVENTS.md`). Every row is evaluated, rejected with
//! its file, line and reason, or counted as after the as-at date; none is dropped silently.

use crate::base::suggest::did_you_mean;
use crate::base::value::{parse_bool, parse_date, Duration, DurationKind, Value, ValueType};
use crate::model::event::Event;
use crate::model::schema::{EventTypeId, FieldDef, Schema};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

mod split;

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
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
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

/// Parses a cell's text as a value of `field`.
fn parse_value(text: &str, field: &FieldDef, schema: &Schema) -> Result<Value, String> {
    let t = text.trim();
    let name = &field.name;
    match &field.ty {
        ValueType::Bool => parse_bool(t).map(Value::Bool).ok_or_else(|| {
            format!("field `{name}`: `{t}` is not true/false (or Y/N, yes/no, 1/0)")
        }),
        ValueType::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("field `{name}`: `{t}` is not a whole number")),
        ValueType::Date => parse_date(t)
            .map(Value::Date)
            .ok_or_else(|| format!("field `{name}`: `{t}` is not a date (expected YYYY-MM-DD)")),
        ValueType::String => Ok(Value::Str(t.into())),
        ValueType::Duration(_) => parse_duration(t)
            .map(Value::Duration)
            .ok_or_else(|| format!("field `{name}`: `{t}` is not a duration such as `3 weeks`")),
        ValueType::Enum(e) => {
            let en = schema.enum_def(*e);
            match en.variants.iter().position(|v| v == t) {
                Some(i) => Ok(Value::Enum(*e, i as u32)),
                None => {
                    let hint = did_you_mean(t, en.variants.iter().map(String::as_str))
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    Err(format!(
                        "field `{name}`: `{t}` is not one of {}{hint}",
                        en.variants.join(", ")
                    ))
                }
            }
        }
        // The checker allows lists only as parameters, never as event fields.
        ValueType::List(_) => Err(format!("field `{name}`: a list cannot be read from input")),
    }
}

fn parse_duration(t: &str) -> Option<Duration> {
    let mut parts = t.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit: Vec<&str> = parts.collect();
    let (kind, factor) = match unit.join(" ").as_str() {
        "day" | "days" => (DurationKind::Days, 1),
        "week" | "weeks" => (DurationKind::Days, 7),
        "month" | "months" => (DurationKind::Months, 1),
        "year" | "years" => (DurationKind::Months, 12),
        "working day" | "working days" => (DurationKind::WorkingDays, 1),
        _ => return None,
    };
    Some(Duration {
        kind,
        amount: n.checked_mul(factor)?,
    })
}

/// The columns of a CSV file, resolved against the schema once.
struct CsvLayout {
    pathway_id: usize,
    date: usize,
    event: usize,
    names: Vec<String>,
    /// Per event type: for each field, its column.
    field_columns: Vec<Vec<Option<usize>>>,
    /// Per event type: the non-core columns it does not declare.
    undeclared: Vec<Vec<usize>>,
}

impl CsvLayout {
    fn new(header: &csv::StringRecord, schema: &Schema) -> Result<CsvLayout, ReadError> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(ReadError::Header(format!(
                    "the header names column `{n}` twice"
                )));
            }
        }
        let find = |c: &str| names.iter().position(|n| n == c);
        let missing: Vec<&str> = ["pathway_id", "date", "event"]
            .into_iter()
            .filter(|c| find(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ReadError::Header(format!(
                "the header has no {} column{} (it has: {})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "" } else { "s" },
                names.join(", ")
            )));
        }
        let (pathway_id, date, event) = match (find("pathway_id"), find("date"), find("event")) {
            (Some(p), Some(d), Some(e)) => (p, d, e),
            _ => return Err(ReadError::Header("missing core columns".into())),
        };
        let mut field_columns = Vec::new();
        let mut undeclared = Vec::new();
        for def in &schema.events {
            field_columns.push(def.fields.iter().map(|f| find(&f.name)).collect());
            undeclared.push(
                (0..names.len())
                    .filter(|i| ![pathway_id, date, event].contains(i))
                    .filter(|i| !def.fields.iter().any(|f| f.name == names[*i]))
                    .collect(),
            );
        }
        Ok(CsvLayout {
            pathway_id,
            date,
            event,
            names,
            field_columns,
            undeclared,
        })
    }
}

/// Validates a row given its core cells and a way to fetch field cells.
#[allow(clippy::too_many_arguments)]
fn build_row<'p, 'c>(
    opts: &ReadOptions,
    file: &str,
    line: u32,
    seq: u32,
    pathway_id: Option<&'p str>,
    date: Option<&str>,
    event: Option<&str>,
    field: impl Fn(EventTypeId, usize) -> Option<&'c str>,
    undeclared: impl Fn(EventTypeId) -> Option<String>,
) -> Row<'p> {
    let schema = opts.schema;
    let pid = pathway_id.map(str::trim).filter(|p| !p.is_empty());
    let reject = |reason: String| {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: pid.map(str::to_string),
            reason,
        })
    };
    let Some(pid) = pid else {
        return reject("missing `pathway_id`".into());
    };
    let Some(date_text) = date.map(str::trim).filter(|d| !d.is_empty()) else {
        return reject("missing `date`".into());
    };
    let Some(date) = parse_date(date_text) else {
        return reject(format!(
            "`date`: `{date_text}` is not a date (expected YYYY-MM-DD)"
        ));
    };
    let Some(event_name) = event.map(str::trim).filter(|e| !e.is_empty()) else {
        return reject("missing `event`".into());
    };
    let Some((kind, def)) = schema.event(event_name) else {
        let hint = did_you_mean(event_name, schema.event_index.keys().map(String::as_str))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return reject(format!("unknown event type `{event_name}`{hint}"));
    };
    if let Some(col) = undeclared(kind) {
        return reject(format!("column `{col}` is not a field of `{event_name}`"));
    }
    let mut values = Vec::with_capacity(def.fields.len());
    for (i, f) in def.fields.iter().enumerate() {
        let cell = field(kind, i).map(str::trim).filter(|c| !c.is_empty());
        let v = match cell {
            Some(text) => match parse_value(text, f, schema) {
                Ok(v) => v,
                Err(e) => return reject(e),
            },
            None => match (&f.default, f.optional) {
                (Some(d), _) => d.clone(),
                (None, true) => Value::Unset,
                (None, false) => {
                    return reject(format!(
                        "required field `{}` of `{event_name}` is missing",
                        f.name
                    ))
                }
            },
        };
        values.push(v);
    }
    if opts.as_at.is_some_and(|a| date > a) {
        return Row::AfterAsAt;
    }
    Row::Event(
        pid,
        Event {
            date,
            kind,
            fields: values.into_boxed_slice(),
            line,
            seq,
        },
    )
}

/// Bytes per chunk handed to a parsing thread: large enough that the hand-over costs nothing,
/// small enough that a streaming run holds little.
const CHUNK_BYTES: usize = 1 << 20;

/// The CSV header, resolved against the schema.
fn csv_layout(
    chunk: Option<&split::Chunk>,
    file: &str,
    schema: &Schema,
) -> Result<CsvLayout, ReadError> {
    let bytes = chunk.map_or(&[][..], |c| c.bytes.as_slice());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| ReadError::Header(format!("cannot read the CSV header of `{file}`: {e}")))?;
    CsvLayout::new(header, schema)
}

/// A CSV record's row.
fn csv_row<'r>(
    record: &'r csv::ByteRecord,
    layout: &CsvLayout,
    opts: &ReadOptions,
    file: &str,
    line: u32,
) -> Row<'r> {
    // One UTF-8 check of the whole row, rather than one per cell.
    let bad_utf8 = std::str::from_utf8(record.as_slice()).is_err();
    let cell = |i: usize| record.get(i).and_then(|b| std::str::from_utf8(b).ok());
    let reject = |reason: String| {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: cell(layout.pathway_id).map(str::to_string),
            reason,
        })
    };
    if bad_utf8 {
        return reject("the row is not UTF-8 text".into());
    }
    if record.len() > layout.names.len() {
        return reject(format!(
            "the row has {} cells but the header has {} columns",
            record.len(),
            layout.names.len()
        ));
    }
    build_row(
        opts,
        file,
        line,
        line,
        cell(layout.pathway_id),
        cell(layout.date),
        cell(layout.event),
        |kind, i| layout.field_columns[kind as usize][i].and_then(cell),
        |kind| {
            layout.undeclared[kind as usize]
                .iter()
                .find(|c| {
                    // Most rows leave most columns empty: test the bytes first.
                    record.get(**c).is_some_and(|b| !b.trim_ascii().is_empty())
                        && cell(**c).is_some_and(|v| !v.trim().is_empty())
                })
                .map(|c| layout.names[*c].clone())
        },
    )
}

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

/// The physical line a CSV record starts on, given the 1-based line of the first byte of
/// `bytes`. The csv crate's position is where it started reading, before the blank lines it
/// skips and the LF of the previous row's CRLF, so those newlines are counted here.
fn csv_line(record: &csv::ByteRecord, bytes: &[u8], first_line: u32) -> u32 {
    let Some(p) = record.position() else {
        return first_line;
    };
    let start = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    let skipped = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    first_line
        .saturating_add(u32::try_from(p.line()).unwrap_or(u32::MAX))
        .saturating_add(u32::try_from(skipped).unwrap_or(u32::MAX))
        .saturating_sub(1)
}

/// Parses one chunk's rows (on whichever thread rayon picks).
fn parse_chunk(
    chunk: &split::Chunk,
    layout: Option<&CsvLayout>,
    opts: &ReadOptions,
    file: &str,
) -> ChunkRows {
    let mut rows = ChunkRows::default();
    match layout {
        Some(layout) => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(chunk.has_header)
                .from_reader(chunk.bytes.as_slice());
            let mut record = csv::ByteRecord::new();
            loop {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => {
                        // Reading memory cannot fail today; if csv ever says otherwise, the
                        // rest of the chunk is one visible rejection, not lost rows.
                        let line = e.position().map_or(1, |p| p.line() as u32);
                        rows.push(Row::Rejected(Rejection {
                            file: file.to_string(),
                            line: (chunk.first_line + line).saturating_sub(1),
                            pathway_id: None,
                            reason: format!("unreadable CSV: {e}"),
                        }));
                        break;
                    }
                }
                let line = csv_line(&record, &chunk.bytes, chunk.first_line);
                rows.push(csv_row(&record, layout, opts, file, line));
            }
        }
        None => {
            for (i, bytes) in chunk.bytes.split(|b| *b == b'\n').enumerate() {
                let line = chunk
                    .first_line
                    .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
                let reject = |reason: String| {
                    Row::Rejected(Rejection {
                        file: file.to_string(),
                        line,
                        pathway_id: None,
                        reason,
                    })
                };
                // As for CSV rows: text that is not UTF-8 is rejected, never patched.
                let Ok(text) = std::str::from_utf8(bytes) else {
                    rows.push(reject("the line is not UTF-8 text".into()));
                    continue;
                };
                let text = text.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue;
                }
                match serde_json::from_str::<serde_json::Value>(text) {
                    Err(e) => rows.push(reject(format!("not valid JSON: {e}"))),
                    Ok(serde_json::Value::Object(map)) => {
                        rows.push(json_row(&map, opts, file, line, line))
                    }
                    Ok(_) => rows.push(reject("the line is not a JSON object".into())),
                }
            }
        }
    }
    rows
}

/// Reads the input on a thread of its own, cut into chunks of whole rows; parses the chunks
/// in parallel (in the current rayon pool) and hands their rows to `on_rows` in input order.
fn each_chunk<R: Read + Send>(
    input: R,
    file: &str,
    format: InputFormat,
    opts: &ReadOptions,
    chunk_bytes: usize,
    mut on_rows: impl FnMut(ChunkRows) -> Result<ControlFlow<()>, ReadError>,
) -> Result<(), ReadError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        scope.spawn(move || split::split(input, file, format, chunk_bytes, |c| tx.send(c).is_ok()));
        // Dropping `chunks` (on any return) stops the reading thread.
        let mut chunks = rx.into_iter();
        let first = chunks.next().transpose()?;
        let layout = match format {
            InputFormat::Csv => Some(csv_layout(first.as_ref(), file, opts.schema)?),
            InputFormat::JsonLines => None,
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
                .map(|c| parse_chunk(c, layout.as_ref(), opts, file))
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

/// The text of a JSON value as a cell (`None` for null); objects and arrays are errors.
fn json_cell(v: &serde_json::Value) -> Result<Option<String>, ()> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        _ => Err(()),
    }
}

fn json_row<'m>(
    map: &'m serde_json::Map<String, serde_json::Value>,
    opts: &ReadOptions,
    file: &str,
    line: u32,
    seq: u32,
) -> Row<'m> {
    let core = |k: &str| -> Result<Option<&'m str>, String> {
        match map.get(k) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!("`{k}` must be a string, found `{other}`")),
        }
    };
    let reject = |pid: Option<&str>, reason: String| {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: pid.map(str::to_string),
            reason,
        })
    };
    let pid = match core("pathway_id") {
        Ok(p) => p,
        Err(e) => return reject(None, e),
    };
    let (date, event) = match (core("date"), core("event")) {
        (Ok(d), Ok(e)) => (d, e),
        (Err(e), _) | (_, Err(e)) => return reject(pid, e),
    };
    // Field cells by key, with JSON type checks for strings.
    let mut cells: HashMap<&str, String> = HashMap::new();
    for (k, v) in map {
        if matches!(k.as_str(), "pathway_id" | "date" | "event") {
            continue;
        }
        match json_cell(v) {
            Ok(Some(c)) => {
                cells.insert(k.as_str(), c);
            }
            Ok(None) => {}
            Err(()) => {
                return reject(
                    pid,
                    format!("`{k}` must be a single value, not an object or list"),
                )
            }
        }
    }
    let schema = opts.schema;
    // A JSON number given for a String field is a type error.
    if let Some((_, def)) = event.and_then(|e| schema.event(e)) {
        for f in &def.fields {
            if f.ty == ValueType::String && map.get(&f.name).is_some_and(|v| v.is_number()) {
                return reject(
                    pid,
                    format!("field `{}`: expected text, found a number", f.name),
                );
            }
        }
    }
    build_row(
        opts,
        file,
        line,
        seq,
        pid,
        date,
        event,
        |kind, i| {
            let name = &schema.events[kind as usize].fields[i].name;
            cells.get(name.as_str()).map(String::as_str)
        },
        |kind| {
            let def = &schema.events[kind as usize];
            cells
                .keys()
                .find(|k| !def.fields.iter().any(|f| f.name == **k))
                .map(|k| k.to_string())
        },
    )
}

/// Reads a whole input, grouping events by pathway (rows need not be adjacent nor sorted).
/// Rows are parsed in parallel in the current rayon pool.
pub fn read_events<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
) -> Result<EventSet, ReadError> {
    read_events_in_chunks(input, file_name, format, opts, CHUNK_BYTES)
}

fn read_events_in_chunks<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
    chunk_bytes: usize,
) -> Result<EventSet, ReadError> {
    let mut set = EventSet::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    each_chunk(input, file_name, format, opts, chunk_bytes, |rows| {
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
        CHUNK_BYTES,
        on_pathway,
        on_rejected,
    )
}

fn for_each_pathway_in_chunks<R: Read + Send>(
    input: R,
    file_name: &str,
    format: InputFormat,
    opts: &ReadOptions,
    chunk_bytes: usize,
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
    each_chunk(input, file_name, format, opts, chunk_bytes, |rows| {
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
                            run.id
                        ),
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
    use crate::model::schema::{EnumDef, EventTypeDef};

    fn schema() -> Schema {
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
                        chunk_bytes,
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
                    let chunked =
                        read_events_in_chunks(text.as_bytes(), "in", format, &opts, chunk_bytes);
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
                chunk_bytes,
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
}
