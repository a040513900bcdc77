//! Recovery after a syntax error: the item (declaration) that holds the error is blanked out
//! and the file parsed again, so one run reports every item with a syntax error, each once,
//! rather than stopping at the first. Blanking keeps every byte offset, so later errors point
//! at their real place.

use super::parse_file;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::FileId;

/// Most syntax errors reported for one file.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Words that begin a declaration at the start of a line.
const ITEM_KEYWORDS: &[&str] = &[
    "policy",
    "import",
    "enum",
    "pathway",
    "event",
    "clock",
    "calendar",
    "param",
    "set",
    "def",
    "rule",
    "exception",
    "disable",
    "test",
    "same_day_order",
    "mapping",
];

fn starts_item(line: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|k| {
        line.strip_prefix(k)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '{', '\r', '\n']))
    })
}

/// Byte offsets of the lines that begin an item.
fn item_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if starts_item(line) {
            out.push(at);
        }
        at += line.len();
    }
    out
}

/// Every syntax error of `text`, the first being `first` (what [`parse_file`] returned), in
/// order, at most [`MAX_SYNTAX_ERRORS`]. Nesting errors (`E0004`) stop the search: the rest of
/// such a file is not worth reading.
pub fn syntax_errors(file: FileId, text: &str, first: Diagnostic) -> Vec<Diagnostic> {
    let mut out = vec![first];
    let mut masked = text.to_string();
    let starts = item_starts(text);
    while out.len() < MAX_SYNTAX_ERRORS {
        let Some(last) = out.last() else { break };
        if last.code != Code::E0001 {
            break;
        }
        let Some(at) = last.primary_span().map(|s| s.start as usize) else {
            break;
        };
        let from = starts
            .iter()
            .rev()
            .find(|&&s| s <= at)
            .copied()
            .unwrap_or(0);
        let Some(&to) = starts.iter().find(|&&s| s > at) else {
            break;
        };
        // Blank the item, keeping line ends and byte offsets (each character becomes as many
        // spaces as it has bytes).
        let blank: String = masked[from..to]
            .chars()
            .flat_map(|c| {
                let n = if c == '\n' { 0 } else { c.len_utf8() };
                std::iter::repeat_n(' ', n).chain((c == '\n').then_some('\n'))
            })
            .collect();
        masked.replace_range(from..to, &blank);
        match parse_file(file, &masked) {
            Ok(_) => break,
            Err(d) => {
                if d.primary_span().is_none_or(|s| (s.start as usize) < to) {
                    break;
                }
                out.push(d);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_at(text: &str) -> Vec<usize> {
        let first = match parse_file(FileId(0), text) {
            Ok(_) => return Vec::new(),
            Err(d) => d,
        };
        syntax_errors(FileId(0), text, first)
            .iter()
            .filter_map(|d| d.primary_span())
            .map(|s| text[..s.start as usize].lines().count().max(1))
            .collect()
    }

    #[test]
    fn each_broken_item_is_reported_once() {
        let cases: &[(&str, &[usize])] = &[
            ("event dna\nrule r on dna cite \"x\" { outcome review }\n", &[]),
            ("event dna\nrule r on dna cite \"x { outcome review }\nrule s on dna cite \"y\" { outcome }\n", &[2, 3]),
            ("rule r on dna when event.a = 1 cite \"x\" { outcome review }\nevent dna\nparam p: Int = cite \"y\"\n", &[1, 3]),
            ("event dna\nrule r on dna cite \"x\" { outcome review \n", &[2]),
        ];
        for (text, lines) in cases {
            assert_eq!(&codes_at(text), lines, "{text}");
        }
    }
}
