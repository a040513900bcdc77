//! CSV rows: the header resolved into a layout, records cut and checked for quotes left open,
//! and each record's cells handed to the row builder.

use super::layout::CsvLayout;
use super::{split, ChunkRows, InputFormat, ReadError, ReadOptions, Rejection, Row};
use crate::base::text::excerpt;

/// The CSV header, resolved against the schema.
pub(super) fn csv_layout(
    chunk: Option<&split::Chunk>,
    file: &str,
    opts: &ReadOptions,
) -> Result<CsvLayout, ReadError> {
    let bytes = chunk.map_or(&[][..], |c| c.bytes.as_slice());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| ReadError::Header(format!("cannot read the CSV header of `{file}`: {e}")))?;
    let names = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    CsvLayout::new(names, opts.schema, opts.mapping, file)
}

/// A CSV record's row.
pub(super) fn csv_row<'r>(
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
            row: None,
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
    layout.row(opts, file, line, line, cell, |kind| {
        // In header order; the columns past the row's last cell are empty. Most rows leave
        // most columns empty: test the bytes first.
        layout.undeclared_in(kind, record.len(), |c| {
            record.get(c).is_none_or(|b| b.trim_ascii().is_empty())
                || cell(c).is_none_or(|v| v.trim().is_empty())
        })
    })
}

/// Physical line numbers within a chunk, counted forward as records are met (a line ends at
/// an LF, a CRLF or, in CSV, a bare CR).
pub(super) struct LineCursor<'b> {
    bytes: &'b [u8],
    format: InputFormat,
    pos: usize,
    line: u32,
}

impl<'b> LineCursor<'b> {
    pub(super) fn new(bytes: &'b [u8], first_line: u32, format: InputFormat) -> Self {
        LineCursor {
            bytes,
            format,
            pos: 0,
            line: first_line,
        }
    }

    /// The line of byte `at` (never before a byte already asked about).
    pub(super) fn line_at(&mut self, at: usize) -> u32 {
        let at = at.min(self.bytes.len());
        if at > self.pos {
            let ends = split::line_ends(self.bytes, self.pos..at, self.format);
            self.line = self
                .line
                .saturating_add(u32::try_from(ends).unwrap_or(u32::MAX));
            self.pos = at;
        }
        self.line
    }
}

/// Where a CSV record's text starts and ends in its chunk: after the blank lines the csv crate
/// skips (and the LF of the previous row's CRLF), and before its own line end.
pub(super) fn csv_record_span(record: &csv::ByteRecord, end: u64, bytes: &[u8]) -> (usize, usize) {
    let start = record
        .position()
        .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
        .min(bytes.len());
    let end = usize::try_from(end)
        .unwrap_or(usize::MAX)
        .clamp(start, bytes.len());
    let text = &bytes[start..end];
    let lead = text
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let trail = text[lead..]
        .iter()
        .rev()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    (start + lead, end - trail)
}

/// A quoted cell with line ends longer than this many lines is taken for a quote left open.
pub const MAX_QUOTED_LINES: usize = 256;
/// A quoted cell with line ends longer than this many bytes is taken for a quote left open.
pub const MAX_QUOTED_BYTES: usize = 64 << 10;

/// What scanning a record's quotes found: whether it ends inside a quoted cell, and its
/// longest quoted cell that spans lines (offset, line ends, bytes).
struct Quotes {
    unclosed: Option<usize>,
    longest: Option<(usize, usize, usize)>,
}

/// Scans a record's text the way the csv crate reads it: a `"` opens a quoted cell only at a
/// cell's start, `""` inside one is a quote, and text after the closing quote runs on as in an
/// unquoted cell.
fn scan_quotes(text: &[u8]) -> Quotes {
    #[derive(PartialEq)]
    enum State {
        Start,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::Start;
    let mut open_at = 0;
    let mut found = Quotes {
        unclosed: None,
        longest: None,
    };
    let close = |open_at: usize, end: usize, found: &mut Quotes| {
        let cell = &text[open_at..end];
        let ends = split::line_ends(cell, 0..cell.len(), InputFormat::Csv);
        if ends > 0
            && found
                .longest
                .is_none_or(|(_, l, b)| (ends, cell.len()) > (l, b))
        {
            found.longest = Some((open_at, ends, cell.len()));
        }
    };
    for (i, b) in text.iter().enumerate() {
        state = match (state, b) {
            (State::Start, b'"') => {
                open_at = i;
                State::Quoted
            }
            (State::Start | State::Unquoted | State::QuoteInQuoted, b',') => State::Start,
            (State::Start | State::Unquoted, _) => State::Unquoted,
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::QuoteInQuoted, _) => {
                close(open_at, i, &mut found);
                State::Unquoted
            }
        };
        if state == State::QuoteInQuoted && text.get(i + 1).is_none_or(|n| *n == b',') {
            close(open_at, i + 1, &mut found);
        }
    }
    if state == State::Quoted {
        close(open_at, text.len(), &mut found);
        found.unclosed = Some(open_at);
    }
    found
}

/// Why a CSV record is taken for a quote left open, if it is: its quoted cell never closes
/// before the end of the input, or spans more than [`MAX_QUOTED_LINES`] lines or
/// [`MAX_QUOTED_BYTES`] bytes, or the record spans lines and its cells do not match the header.
/// Only records that span lines or end the input without a line end are scanned.
fn open_quote_problem(
    text: &[u8],
    line: u32,
    cells: usize,
    columns: usize,
    ends_input: bool,
) -> Option<String> {
    let spans_lines = memchr::memchr2(b'\n', b'\r', text).is_some();
    if !spans_lines && !ends_input {
        return None;
    }
    let quotes = scan_quotes(text);
    let line_of = |offset: usize| {
        line.saturating_add(
            u32::try_from(split::line_ends(text, 0..offset, InputFormat::Csv)).unwrap_or(u32::MAX),
        )
    };
    let last = line_of(text.len());
    if let Some(open) = quotes.unclosed {
        return Some(format!(
            "a quoted cell opened on line {} is never closed: lines {line} to {last} were read as one row (is a closing `\"` missing?)",
            line_of(open)
        ));
    }
    if let Some((open, lines, bytes)) = quotes.longest {
        if lines >= MAX_QUOTED_LINES || bytes > MAX_QUOTED_BYTES {
            return Some(format!(
                "a quoted cell opened on line {} runs over {} lines ({bytes} bytes; at most {MAX_QUOTED_LINES} lines of {} KiB): lines {line} to {last} were read as one row (is a closing `\"` missing?)",
                line_of(open),
                lines + 1,
                MAX_QUOTED_BYTES >> 10
            ));
        }
    }
    if spans_lines && cells != columns {
        return Some(format!(
            "the row runs from line {line} to {last} inside a quoted cell and has {cells} cells where the header has {columns} (is a closing `\"` missing?)"
        ));
    }
    None
}

/// Parses one chunk of CSV rows (on whichever thread rayon picks).
pub(super) fn parse_chunk(
    chunk: &split::Chunk,
    layout: &CsvLayout,
    opts: &ReadOptions,
    file: &str,
) -> ChunkRows {
    let mut rows = ChunkRows::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(chunk.has_header)
        .from_reader(chunk.bytes.as_slice());
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCursor::new(&chunk.bytes, chunk.first_line, InputFormat::Csv);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // Reading memory cannot fail today; if csv ever says otherwise, the
                // rest of the chunk is one visible rejection, not lost rows.
                let at = e.position().map_or(0, |p| p.byte());
                let line = lines.line_at(usize::try_from(at).unwrap_or(usize::MAX));
                rows.push(Rejection::of_line(
                    file,
                    line,
                    format!("unreadable CSV: {e}"),
                ));
                break;
            }
        }
        let end = reader.position().byte();
        let (start, stop) = csv_record_span(&record, end, &chunk.bytes);
        let line = lines.line_at(start);
        let ends_input = stop == chunk.bytes.len();
        let problem = open_quote_problem(
            &chunk.bytes[start..stop],
            line,
            record.len(),
            layout.names.len(),
            ends_input,
        );
        match problem {
            Some(reason) => rows.push(Row::Rejected(Rejection {
                file: file.to_string(),
                line,
                pathway_id: record
                    .get(layout.pathway_id)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .map(excerpt),
                reason,
                row: None,
            })),
            None => rows.push(csv_row(&record, layout, opts, file, line)),
        }
    }
    rows
}
