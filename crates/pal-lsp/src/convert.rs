//! Between the protocol's positions (line and UTF-16 code unit, `file:` URIs) and the engine's
//! (byte offsets, paths).

use lsp_types::{Position, Range, Uri};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The starts of a text's lines, for converting positions.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    /// The index of `text`.
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The protocol position of a byte offset (clamped to the text, and to a character
    /// boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a protocol position; a position past the end of its line is the
    /// line's end, a line past the end is the text's end.
    pub fn offset(&self, p: Position) -> usize {
        let Some(&start) = self.starts.get(p.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(p.line as usize + 1)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let mut units = 0u32;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= p.character {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        end
    }

    /// The protocol range of a byte range.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The range of the whole text.
    pub fn all(&self) -> Range {
        self.range(0, self.text.len())
    }
}

/// The path a `file:` URI names (percent-decoded), or `None` for another scheme.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///home/x` and `file://localhost/home/x`.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = rest
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = String::from_utf8(out).ok()?;
    Some(PathBuf::from(path))
}

/// The `file:` URI of an absolute path (every byte outside the unreserved set escaped).
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        // "£" is two bytes and one UTF-16 unit; "𝄞" is four bytes and two units.
        let text = "ab\n£x 𝄞y\nlast";
        let ix = LineIndex::new(text);
        let cases: &[(usize, (u32, u32))] = &[
            (0, (0, 0)),
            (3, (1, 0)),
            (5, (1, 1)),  // after £
            (7, (1, 3)),  // after "£x "
            (11, (1, 5)), // after 𝄞
            (12, (1, 6)),
            (13, (2, 0)),
            (17, (2, 4)),
        ];
        for (offset, (line, ch)) in cases {
            assert_eq!(
                ix.position(*offset),
                Position::new(*line, *ch),
                "offset {offset}"
            );
            assert_eq!(ix.offset(Position::new(*line, *ch)), *offset, "{line}:{ch}");
        }
        assert_eq!(ix.offset(Position::new(0, 99)), 2);
        assert_eq!(ix.offset(Position::new(99, 0)), text.len());
        assert_eq!(ix.position(6), Position::new(1, 2)); // inside nothing odd: after "£x"
    }

    #[test]
    fn uris_and_paths_round_trip() {
        for p in ["/work/policies/rde.pal", "/tmp/a b/c£.pal", "/x/%41.pal"] {
            let uri = path_to_uri(Path::new(p)).expect("a uri");
            assert_eq!(
                uri_to_path(&uri).as_deref(),
                Some(Path::new(p)),
                "{}",
                uri.as_str()
            );
        }
        let u = Uri::from_str("untitled:Untitled-1").expect("a uri");
        assert_eq!(uri_to_path(&u), None);
    }
}
