//! Cutting an input into chunks that end on a row boundary, so the rows of each chunk can be
//! parsed on another core. Only finding the boundaries happens on the reading thread.
//!
//! JSON Lines rows end at every newline. A CSV row ends at a newline outside quotes; while the
//! file has had no `"` at all the last newline of a chunk is its boundary, and once one is seen
//! the boundaries come from `csv_core` itself, so a chunk never ends inside a quoted cell
//! whatever the quoting (a stray quote mid-cell, a newline inside a quoted note, CRLF).

use super::{InputFormat, ReadError};
use std::io::Read;

/// A run of whole rows of the input.
pub(super) struct Chunk {
    /// The bytes, ending after a row's newline (or at the end of the input).
    pub bytes: Vec<u8>,
    /// The 1-based line the chunk starts on.
    pub first_line: u32,
    /// The chunk starts with the CSV header.
    pub has_header: bool,
}

/// Where the rows seen so far end.
struct Boundaries {
    format: InputFormat,
    /// Bytes of the buffer already looked at by the newline search.
    scanned: usize,
    /// Once the CSV has a quote: the exact parser, how far it has read and the last row end.
    exact: Option<(csv_core::Reader, usize, Option<usize>)>,
}

impl Boundaries {
    /// The end of the last complete row in `buf` (which starts on a row boundary), if any.
    fn last_in(&mut self, buf: &[u8]) -> Option<usize> {
        if self.exact.is_none()
            && self.format == InputFormat::Csv
            && memchr::memchr(b'"', &buf[self.scanned..]).is_some()
        {
            self.exact = Some((csv_core::Reader::new(), 0, None));
        }
        match &mut self.exact {
            None => {
                let found =
                    memchr::memrchr(b'\n', &buf[self.scanned..]).map(|i| self.scanned + i + 1);
                self.scanned = buf.len();
                found
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
    fn cut(&mut self, rest: usize) {
        if self.exact.is_some() {
            // The kept bytes are the start of a row: read them afresh.
            self.exact = Some((csv_core::Reader::new(), 0, None));
        }
        // The kept bytes hold no newline the search would want (it found the last one).
        self.scanned = rest;
    }
}

/// Reads `input` in chunks of about `chunk_bytes`, each ending on a row boundary, and hands
/// them to `send` in order until it returns false or the input ends. A row longer than a
/// chunk makes its chunk longer.
pub(super) fn split(
    mut input: impl Read,
    file: &str,
    format: InputFormat,
    chunk_bytes: usize,
    mut send: impl FnMut(Result<Chunk, ReadError>) -> bool,
) {
    let mut buf = Vec::with_capacity(chunk_bytes + chunk_bytes / 8);
    let mut boundaries = Boundaries {
        format,
        scanned: 0,
        exact: None,
    };
    let mut first_line = 1u32;
    let mut has_header = format == InputFormat::Csv;
    loop {
        let read = match (&mut input)
            .take(chunk_bytes.max(1) as u64)
            .read_to_end(&mut buf)
        {
            Ok(n) => n,
            Err(e) => {
                send(Err(ReadError::Io(format!("cannot read `{file}`: {e}"))));
                return;
            }
        };
        let at_end = read == 0;
        let cut = if at_end {
            buf.len()
        } else {
            match boundaries.last_in(&buf) {
                Some(cut) => cut,
                None => continue,
            }
        };
        if cut > 0 {
            let rest = buf.split_off(cut);
            boundaries.cut(rest.len());
            // The chunk keeps its buffer (about `chunk_bytes` long); the few bytes after the
            // cut start the next one.
            let bytes = std::mem::replace(&mut buf, rest);
            buf.reserve(chunk_bytes);
            let lines = memchr::memchr_iter(b'\n', &bytes).count();
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
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            out.push((
                super::super::csv_line(&record, text, first_line),
                record.iter().map(<[u8]>::to_vec).collect(),
            ));
        }
        out
    }

    fn chunked(text: &[u8], format: InputFormat, chunk_bytes: usize) -> Vec<Chunk> {
        let mut chunks = Vec::new();
        split(text, "t", format, chunk_bytes, |c| {
            chunks.extend(c.ok());
            true
        });
        chunks
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
