//! Cutting an input into chunks that end on a row boundary, so the rows of each chunk can be
//! parsed on another core. Only finding the boundaries happens on the reading thread.
//!
//! JSON Lines rows end at every newline. A CSV row ends at a line end outside quotes (LF, CRLF,
//! or a bare CR as old Mac files have); while the file has had no `"` at all the last line end
//! of a chunk is its boundary, and once one is seen the boundaries come from `csv_core`
//! itself, so a chunk never ends inside a quoted cell whatever the quoting (a stray quote
//! mid-cell, a newline inside a quoted note, CRLF).
//!
//! A row is at most [`MAX_ROW_BYTES`] long: a longer one ends the read with an error naming its
//! line, so an input without line ends (`/dev/zero`, a binary file, a quote never closed)
//! cannot grow the buffer until memory runs out.

use super::{InputFormat, ReadError};
use std::io::Read;

/// The longest row (the CSV header included) the readers accept, in bytes.
pub const MAX_ROW_BYTES: usize = 16 << 20;

/// A run of whole rows of the input.
pub(super) struct Chunk {
    /// The bytes, ending after a row's line end (or at the end of the input).
    pub bytes: Vec<u8>,
    /// The 1-based line the chunk starts on.
    pub first_line: u32,
    /// The chunk starts with the CSV header.
    pub has_header: bool,
}

/// The line ends in `bytes[range]`: every LF and, in CSV, every CR not followed by an LF (a
/// bare CR ends a line; the CR of a CRLF does not count twice). `bytes` beyond the range is
/// only looked at to tell a CRLF from a bare CR.
pub(super) fn line_ends(bytes: &[u8], range: std::ops::Range<usize>, format: InputFormat) -> usize {
    let part = bytes.get(range.clone()).unwrap_or_default();
    let lf = memchr::memchr_iter(b'\n', part).count();
    if format == InputFormat::JsonLines {
        return lf;
    }
    lf + memchr::memchr_iter(b'\r', part)
        .filter(|i| bytes.get(range.start + i + 1) != Some(&b'\n'))
        .count()
}

/// Where the rows seen so far end.
struct Boundaries {
    format: InputFormat,
    /// Bytes of the buffer already looked at by the line-end search.
    scanned: usize,
    /// Once the CSV has a quote: the exact parser, how far it has read and the last row end.
    exact: Option<(csv_core::Reader, usize, Option<usize>)>,
}

impl Boundaries {
    /// The end of the last complete row in `buf` (which starts on a row boundary), if any.
    fn last_in(&mut self, buf: &[u8]) -> Option<usize> {
        let csv = self.format == InputFormat::Csv;
        if self.exact.is_none() && csv && memchr::memchr(b'"', &buf[self.scanned..]).is_some() {
            self.exact = Some((csv_core::Reader::new(), 0, None));
        }
        match &mut self.exact {
            None => {
                let from = self.scanned;
                self.scanned = buf.len();
                let mut hay = &buf[from..];
                loop {
                    let i = if csv {
                        memchr::memrchr2(b'\n', b'\r', hay)?
                    } else {
                        memchr::memrchr(b'\n', hay)?
                    };
                    let at = from + i;
                    if buf[at] == b'\r' && at + 1 == buf.len() {
                        // A CR last: whether an LF follows is not known yet. Look at it again
                        // once more is read, and cut before it for now.
                        self.scanned = at;
                        hay = &hay[..i];
                        continue;
                    }
                    return Some(at + 1);
                }
            }
            Some((reader, pos, last)) => {
                // The fields themselves are not wanted: small buffers, overwritten as it goes.
                let (mut out, mut ends) = ([0u8; 4096], [0usize; 64]);
                while *pos < buf.len() {
                    let (result, read, _, _) =
                        reader.read_record(&buf[*pos..], &mut out, &mut ends);
                    *pos += read;
                    match result {
                        csv_core::ReadRecordResult::Record => match buf[*pos - 1] {
                            b'\n' => *last = Some(*pos),
                            // A CRLF row end: cut after the LF, so line numbers stay whole.
                            b'\r' if buf.get(*pos) == Some(&b'\n') => *last = Some(*pos + 1),
                            // A bare CR row end (unless the LF has not been read yet).
                            b'\r' if *pos < buf.len() => *last = Some(*pos),
                            _ => {}
                        },
                        csv_core::ReadRecordResult::InputEmpty
                        | csv_core::ReadRecordResult::End => break,
                        csv_core::ReadRecordResult::OutputFull
                        | csv_core::ReadRecordResult::OutputEndsFull => {}
                    }
                    if read == 0 && *pos < buf.len() {
                        // Cannot happen with csv_core, but never spin.
                        break;
                    }
                }
                *last
            }
        }
    }

    /// The buffer was cut at a boundary; `rest` bytes were kept.
    fn cut(&mut self) {
        if self.exact.is_some() {
            // The kept bytes are the start of a row: read them afresh.
            self.exact = Some((csv_core::Reader::new(), 0, None));
        }
        // The kept bytes hold no line end the search would want (it found the last one, or
        // kept back a final CR: look at the kept bytes again).
        self.scanned = 0;
    }
}

/// How the readers cut their input: the chunk size and the longest row. Only tests and the
/// fuzz targets change them (every chunk size must give the same rows).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// About how many bytes a chunk holds (a row longer than that makes its chunk longer).
    pub chunk_bytes: usize,
    /// A row longer than this ends the read with an error.
    pub max_row_bytes: usize,
}

/// Reads `input` in chunks of about `limits.chunk_bytes`, each ending on a row boundary, and
/// hands them to `send` in order until it returns false or the input ends. A row longer than
/// `limits.max_row_bytes` is an error naming its line.
pub(super) fn split(
    mut input: impl Read,
    file: &str,
    format: InputFormat,
    limits: SplitLimits,
    mut send: impl FnMut(Result<Chunk, ReadError>) -> bool,
) {
    let chunk_bytes = limits.chunk_bytes.max(1);
    let mut buf = Vec::with_capacity(chunk_bytes.min(limits.max_row_bytes) + chunk_bytes / 8);
    let mut boundaries = Boundaries {
        format,
        scanned: 0,
        exact: None,
    };
    let mut first_line = 1u32;
    let mut has_header = format == InputFormat::Csv;
    loop {
        let read = match (&mut input).take(chunk_bytes as u64).read_to_end(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                send(Err(ReadError::Io(format!("cannot read `{file}`: {e}"))));
                return;
            }
        };
        let at_end = read == 0;
        let cut = if at_end {
            Some(buf.len())
        } else {
            boundaries.last_in(&buf).filter(|cut| {
                // The first chunk holds the header whole, however many blank lines come first.
                !has_header || buf[..*cut].iter().any(|b| !matches!(b, b'\r' | b'\n'))
            })
        };
        let Some(cut) = cut else {
            // No row ends in the buffer: it is the start of one row (after any blank lines).
            let blank = buf
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if buf.len() - blank > limits.max_row_bytes {
                let line = first_line.saturating_add(
                    u32::try_from(line_ends(&buf, 0..blank, format)).unwrap_or(u32::MAX),
                );
                let why = if boundaries.exact.is_some() {
                    " (a quoted cell that is never closed reads the rest of the input as one cell: is a closing `\"` missing?)"
                } else {
                    " (an input with no line ends, such as a device or a binary file?)"
                };
                send(Err(ReadError::Io(format!(
                    "`{file}` line {line}: a row longer than {} MiB{why}",
                    limits.max_row_bytes >> 20
                ))));
                return;
            }
            continue;
        };
        if cut > 0 {
            let rest = buf.split_off(cut);
            boundaries.cut();
            // The chunk keeps its buffer (about `chunk_bytes` long); the few bytes after the
            // cut start the next one.
            let bytes = std::mem::replace(&mut buf, rest);
            buf.reserve(chunk_bytes);
            let lines = line_ends(&bytes, 0..bytes.len(), format);
            let chunk = Chunk {
                bytes,
                first_line,
                has_header,
            };
            if !send(Ok(chunk)) {
                return;
            }
            has_header = false;
            first_line = first_line.saturating_add(u32::try_from(lines).unwrap_or(u32::MAX));
        }
        if at_end {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record of `text` as (line, fields), read in one piece.
    fn records(text: &[u8], first_line: u32) -> Vec<(u32, Vec<Vec<u8>>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut out = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut lines = super::super::csv_rows::LineCursor::new(text, first_line, InputFormat::Csv);
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            let end = reader.position().byte();
            let (start, _) = super::super::csv_rows::csv_record_span(&record, end, text);
            out.push((
                lines.line_at(start),
                record.iter().map(<[u8]>::to_vec).collect(),
            ));
        }
        out
    }

    fn chunked(text: &[u8], format: InputFormat, chunk_bytes: usize) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        let limits = SplitLimits {
            chunk_bytes,
            max_row_bytes: MAX_ROW_BYTES,
        };
        split(text, "t", format, limits, |c| {
            chunks.extend(c.ok());
            true
        });
        chunks
    }

    /// The chunks of `text`, or the error that ended the split.
    fn split_limited(
        text: &[u8],
        format: InputFormat,
        max_row_bytes: usize,
    ) -> Result<usize, String> {
        let (mut chunks, mut error) = (0, None);
        let limits = SplitLimits {
            chunk_bytes: 4,
            max_row_bytes,
        };
        split(text, "t", format, limits, |c| match c {
            Ok(_) => {
                chunks += 1;
                true
            }
            Err(e) => {
                error = Some(e.to_string());
                false
            }
        });
        error.map_or(Ok(chunks), Err)
    }

    #[test]
    fn a_row_longer_than_the_limit_is_an_error_naming_its_line() {
        let text = b"a,b\n1,2\n\n123456789012345678901234567890\n";
        for format in [InputFormat::Csv, InputFormat::JsonLines] {
            let e = split_limited(text, format, 16).err().unwrap_or_default();
            assert!(e.contains("`t` line 4: a row longer than"), "{e}");
            assert!(split_limited(text, format, 64).is_ok());
        }
        // A quote never closed: the rest is one row.
        let e = split_limited(b"h\n\"abc\n1\n2\n3\n4\n5\n6\n", InputFormat::Csv, 8)
            .err()
            .unwrap_or_default();
        assert!(e.contains("line 2") && e.contains("closing `\"`"), "{e}");
    }

    #[test]
    fn bare_cr_ends_lines() {
        let text = b"h\r1\r2\r\n3\r\r4";
        for size in 1..=text.len() + 1 {
            let chunks = chunked(text, InputFormat::Csv, size);
            let mut line = 1;
            for c in &chunks {
                assert_eq!(c.first_line, line, "{size}-byte chunks");
                line += line_ends(&c.bytes, 0..c.bytes.len(), InputFormat::Csv) as u32;
            }
            assert_eq!(line, 6, "{size}-byte chunks");
        }
        same_records_whatever_the_chunk_size(text);
        same_records_whatever_the_chunk_size(b"h\r\"a\rb\"\r2\r");
    }

    #[test]
    fn the_first_chunk_holds_the_header_after_blank_lines() {
        let text = b"\n\r\n\npathway_id,date,event\n1,2,3\n";
        for size in 1..=text.len() {
            let chunks = chunked(text, InputFormat::Csv, size);
            assert!(
                chunks[0].bytes.ends_with(b"event\n") || chunks[0].bytes.ends_with(b"3\n"),
                "{size}-byte chunks"
            );
        }
    }

    fn same_records_whatever_the_chunk_size(text: &[u8]) {
        let whole = records(text, 1);
        for size in 1..=9 {
            let chunks = chunked(text, InputFormat::Csv, size);
            let joined: Vec<u8> = chunks.iter().flat_map(|c| c.bytes.clone()).collect();
            assert_eq!(joined, text, "chunks of {size} lose or add bytes");
            let pieces: Vec<_> = chunks
                .iter()
                .flat_map(|c| records(&c.bytes, c.first_line))
                .collect();
            assert_eq!(
                pieces,
                whole,
                "chunks of {size} of {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn csv_chunks_never_cut_a_quoted_cell() {
        same_records_whatever_the_chunk_size(b"a,b\n1,\"two\nlines\"\n3,x\n");
        same_records_whatever_the_chunk_size(b"a\"b,\"x\ny\"\nnext,row\n");
        same_records_whatever_the_chunk_size(b"a,b\r\n\"q\r\nq\",2\r\n\r\nlast,\"unterminated\n");
        same_records_whatever_the_chunk_size(b"\n\nh\n\n1\n\"\"\"\",\"a\"\"\nb\"\nz");
    }

    #[test]
    fn jsonl_chunks_end_at_newlines_and_count_lines() {
        let text = b"{\"a\":1}\n\n{\"b\":2}\n{\"c\":3}";
        let chunks = chunked(text, InputFormat::JsonLines, 3);
        assert!(chunks.iter().all(|c| !c.has_header));
        let starts: Vec<(u32, &[u8])> = chunks
            .iter()
            .map(|c| (c.first_line, c.bytes.as_slice()))
            .collect();
        assert_eq!(
            starts,
            [
                (1, &b"{\"a\":1}\n\n"[..]),
                (3, b"{\"b\":2}\n"),
                (4, b"{\"c\":3}"),
            ]
        );
        assert!(chunked(b"", InputFormat::Csv, 8).is_empty());
    }

    proptest! {
        #[test]
        fn csv_chunking_is_invisible(text in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b'1')],
            0..60,
        )) {
            same_records_whatever_the_chunk_size(&text);
        }
    }
}
