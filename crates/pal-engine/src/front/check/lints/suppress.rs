//! Suppression comments: `// pal: allow(possible-conflict)` on the line of an item or in the
//! comments above it silences that lint (several: `allow(a, b)`) for that one item. A
//! suppression that names no lint, or silences nothing, is reported itself
//! (`unused-suppression`, W0008), so suppressions cannot outlive the finding they were for.

use crate::base::diagnostic::{Code, Diagnostic, Severity};
use crate::base::lint::{by_code, by_name, LINTS};
use crate::base::source::{SourceMap, Span};
use crate::base::suggest::did_you_mean;
use crate::front::loader::LoadedPolicy;

const MARKER: &str = "// pal: allow(";

/// One lint silenced for one item.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// The lint.
    pub lint: Code,
    /// The lint's name in the comment.
    pub name: Span,
    /// The item it covers: findings whose primary span lies inside are dropped.
    pub item: Span,
    /// Whether it silenced anything yet.
    pub used: bool,
}

/// The suppressions of a policy's files.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Every suppression, in file order.
    pub entries: Vec<Suppression>,
}

/// The `// pal: allow(…)` comments of one text: each lint name's byte range. A marker after an
/// odd number of `"` on its line is inside a string, not a comment.
fn comments(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if let Some(at) = line.find(MARKER) {
            let before = &line[..at];
            if before.matches('"').count() % 2 == 0 && !before.contains("//") {
                let open = at + MARKER.len();
                if let Some(close) = line[open..].find(')') {
                    let mut offset = open;
                    for name in line[open..open + close].split(',') {
                        let lead = name.len() - name.trim_start().len();
                        let trimmed = name.trim();
                        if !trimmed.is_empty() {
                            out.push((line_start + offset + lead, trimmed));
                        }
                        offset += name.len() + 1;
                    }
                }
            }
        }
        line_start += line.len();
    }
    out
}

/// Finds the suppression comments of every loaded file; a name that is no lint's, or a
/// comment with no item on or below it, is reported in `diags`.
pub fn collect(
    loaded: &LoadedPolicy,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Suppressions {
    let mut entries = Vec::new();
    for m in &loaded.modules {
        let text = &sources.get(m.file).text;
        // Item spans end at their last token (the parser trims trailing comments), so a
        // suppression comment below an item belongs to the next item.
        let mut items: Vec<Span> = m.ast.items.iter().map(|i| i.span()).collect();
        items.sort_by_key(|s| s.start);
        for (at, name) in comments(text) {
            let span = Span::new(m.file, at..at + name.len());
            let Some(lint) = by_name(name) else {
                let mut d = Diagnostic::new(Code::W0008, format!("`{name}` is not a lint"))
                    .primary(span, "no lint of this name");
                d = match did_you_mean(name, LINTS.iter().map(|l| l.name)) {
                    Some(h) => d.help(h),
                    None => d.help(format!(
                        "lints are {}",
                        LINTS
                            .iter()
                            .map(|l| format!("`{}`", l.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                diags.push(d);
                continue;
            };
            let at = at as u32;
            let item = items
                .iter()
                .find(|s| s.start <= at && at < s.end)
                .or_else(|| items.iter().find(|s| s.start > at));
            match item {
                Some(item) => entries.push(Suppression { lint: lint.code, name: span, item: *item, used: false }),
                None => diags.push(
                    Diagnostic::new(Code::W0008, format!("`allow({name})` stands above no item"))
                        .primary(span, "silences nothing")
                        .help("put the comment on the line of the rule, parameter or definition it is for, or just above it"),
                ),
            }
        }
    }
    Suppressions { entries }
}

impl Suppressions {
    /// Drops every lint finding that a suppression covers, marking the suppression used.
    pub fn apply(&mut self, diags: &mut Vec<Diagnostic>) {
        diags.retain(|d| {
            if d.severity != Severity::Warning || d.code == Code::W0008 || by_code(d.code).is_none()
            {
                return true;
            }
            let Some(at) = d.primary_span() else {
                return true;
            };
            let covering = self.entries.iter_mut().find(|s| {
                s.lint == d.code
                    && s.item.file == at.file
                    && s.item.start <= at.start
                    && at.start < s.item.end
            });
            match covering {
                Some(s) => {
                    s.used = true;
                    false
                }
                None => true,
            }
        });
    }

    /// `unused-suppression` for every suppression of a lint that `decided` says has run, and
    /// that silenced nothing.
    pub fn unused(&self, decided: impl Fn(Code) -> bool) -> Vec<Diagnostic> {
        self.entries
            .iter()
            .filter(|s| !s.used && decided(s.lint))
            .map(|s| {
                let name = by_code(s.lint).map(|l| l.name).unwrap_or_default();
                Diagnostic::new(Code::W0008, format!("`allow({name})` silences nothing"))
                    .primary(s.name, "no such finding on this item")
                    .help("remove the suppression: the lint no longer reports this item")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::comments;

    #[test]
    fn finds_allow_comments_and_their_names() {
        let cases: &[(&str, &[&str])] = &[
            (
                "// pal: allow(possible-conflict)\nrule r",
                &["possible-conflict"],
            ),
            ("rule r // pal: allow(a, b)\n", &["a", "b"]),
            ("x = \"// pal: allow(a)\"\n", &[]),
            ("// text // pal: allow(a)\n", &[]),
            ("// pal: allow(\n", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = comments(text).into_iter().map(|(_, n)| n).collect();
            assert_eq!(&got, want, "{text:?}");
            for (at, name) in comments(text) {
                assert_eq!(&text[at..at + name.len()], name);
            }
        }
    }
}
