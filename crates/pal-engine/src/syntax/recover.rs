//! Recovery after a syntax error: the item (declaration) that holds the error is blanked out
//! and the file parsed again, so one run reports every item with a syntax error, each once,
//! rather than stopping at the first. Blanking keeps every byte offset, so later errors point
//! at their real place.

use super::ast::File;
use super::parse_file;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::FileId;

/// Most syntax errors reported for one file.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// Words that begin a declaration (recovery looks for them at the start of a line; the
/// editor offers them at the start of an item).
pub const ITEM_KEYWORDS: &[&str] = &[
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

/// What is left of a file with syntax errors.
#[derive(Debug)]
pub struct Recovery {
    /// Every syntax error, in order, at most [`MAX_SYNTAX_ERRORS`].
    pub errors: Vec<Diagnostic>,
    /// The file without its broken items, when the rest parses and no broken item was an
    /// `import`, `policy … extends` or `pathway`: it can still be checked.
    pub ast: Option<File>,
    /// The names the broken items would have declared (`rule r`, `param p`, `event e`…): a
    /// check of the rest says nothing about them, since "unknown name" would only repeat the
    /// syntax error.
    pub lost: Vec<String>,
}

/// Every syntax error of `text`, the first being `first` (what [`parse_file`] returned), in
/// order, at most [`MAX_SYNTAX_ERRORS`]. Nesting errors (`E0004`) stop the search: the rest of
/// such a file is not worth reading.
pub fn syntax_errors(file: FileId, text: &str, first: Diagnostic) -> Vec<Diagnostic> {
    recover(file, text, first).errors
}

/// The name an item declares, from its first words (`rule first_dna …` → `first_dna`).
fn declared_name(item: &str) -> Option<String> {
    let mut words = item.split_whitespace();
    let keyword = words.next()?;
    if !matches!(
        keyword,
        "enum" | "event" | "clock" | "param" | "def" | "rule" | "exception"
    ) {
        return None;
    }
    let name: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// [`syntax_errors`], and the rest of the file parsed without its broken items.
pub fn recover(file: FileId, text: &str, first: Diagnostic) -> Recovery {
    let mut out = vec![first];
    let mut lost = Vec::new();
    let mut ast = None;
    let mut dependency_lost = false;
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
        // Without its `import`, `extends` or `pathway` the rest of the file would report
        // every name those bring in: it is not checked.
        let first_word = masked[from..to].split_whitespace().next().unwrap_or("");
        let checkable = !matches!(first_word, "import" | "policy" | "pathway");
        dependency_lost |= !checkable;
        lost.extend(declared_name(&masked[from..to]));
        masked.replace_range(from..to, &blank);
        match parse_file(file, &masked) {
            Ok(rest) => {
                ast = (!dependency_lost).then_some(rest);
                break;
            }
            Err(d) => {
                if d.primary_span().is_none_or(|s| (s.start as usize) < to) {
                    break;
                }
                out.push(d);
            }
        }
    }
    Recovery {
        errors: out,
        ast,
        lost,
    }
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

#[cfg(test)]
mod recovery_tests {
    use super::*;

    /// What is left to check after the broken items: the rest, unless a broken item brought
    /// names in from elsewhere; and the names the broken items declared.
    #[test]
    fn the_rest_is_kept_unless_an_import_broke() {
        let cases: &[(&str, bool, &[&str])] = &[
            ("event dna\nrule r on dna cite \"x { outcome review }\nrule s on dna cite \"y\" { outcome z }\n", true, &["r"]),
            ("import \"lib.pal\nrule s on dna cite \"y\" { outcome z }\n", false, &[]),
            ("policy p extends\nrule s on dna cite \"y\" { outcome z }\n", false, &[]),
            ("param p: Int = cite \"y\"\nrule s on dna cite \"y\" { outcome z }\n", true, &["p"]),
        ];
        for (text, kept, lost) in cases {
            let first = match parse_file(FileId(0), text) {
                Ok(_) => panic!("{text} parses"),
                Err(d) => d,
            };
            let r = recover(FileId(0), text, first);
            assert_eq!(r.ast.is_some(), *kept, "{text}");
            assert_eq!(r.lost, *lost, "{text}");
        }
    }
}
