//! Renders diagnostics in four formats: `human` (codespan-reporting snippets), `short`
//! (`file:line:col: error[CODE]: message`), `json` (a versioned document, see
//! `docs/diagnostics-json.md`) and `github` (GitHub Actions workflow-command annotations).
//!
//! Rendering never panics on bad spans: every span is clamped to its file's length and widened
//! to whole characters before use. Lines and columns are 1-based; columns count characters.

use crate::base::diagnostic::{Diagnostic, Label, Severity};
use crate::base::source::{FileId, SourceMap, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term;
use codespan_reporting::term::termcolor::{Buffer, WriteColor};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::ops::Range;
use std::str::FromStr;

/// The version of the JSON document written by [`Format::Json`]. Within one version fields are
/// only ever added; renaming or removing a field, or changing its meaning, bumps it.
pub const JSON_VERSION: u32 = 1;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Source snippets with labels, help and notes, for people (codespan-reporting).
    #[default]
    Human,
    /// One `file:line:col: severity[CODE]: message` line per diagnostic, for editors and grep.
    Short,
    /// One versioned JSON document for tools (see `docs/diagnostics-json.md`).
    Json,
    /// GitHub Actions workflow commands (`::error file=…::message`) that annotate pull requests.
    Github,
    /// A SARIF 2.1.0 log, for code scanning and the CI tools that read SARIF.
    Sarif,
}

impl Format {
    /// Every format, in the order they are documented.
    pub const ALL: [Format; 5] = [
        Format::Human,
        Format::Short,
        Format::Json,
        Format::Github,
        Format::Sarif,
    ];

    /// The name accepted by [`FromStr`] (`human`, `short`, `json`, `github`, `sarif`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Short => "short",
            Format::Json => "json",
            Format::Github => "github",
            Format::Sarif => "sarif",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown [`Format`] name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format `{}`: use human, short, json, github or sarif",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `human`, `short`, `json`, `github` or `sarif` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// Renders `diags` in the given order.
///
/// `human` and `short` end with a summary line such as `error: 2 errors and 1 warning emitted`
/// (nothing at all when `diags` is empty); `json` carries its summary inside the document (and
/// is always one document plus a newline, even when empty); `github` has no summary. `color`
/// adds ANSI colours to the `human` form and is ignored by the others.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, format: Format, color: bool) -> String {
    match format {
        Format::Human => render_human(diags, sources, color),
        Format::Short => render_short(diags, sources),
        Format::Json => render_json(diags, sources),
        Format::Github => render_github(diags, sources),
        Format::Sarif => crate::io::sarif::render(diags, sources),
    }
}

/// `(errors, warnings)` among `diags`.
pub fn summary_counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

// ---------------------------------------------------------------------------------------------
// Spans and locations

/// `span` clamped to the text and widened to whole characters: never panics when slicing.
fn clamp(text: &str, span: Span) -> Range<usize> {
    let len = text.len();
    let mut start = (span.start as usize).min(len);
    let mut end = (span.end as usize).min(len).max(start);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Where a span starts and ends, 1-based, columns in characters, end exclusive.
pub(crate) struct Location<'a> {
    pub(crate) file: &'a str,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) end_line: usize,
    pub(crate) end_column: usize,
}

pub(crate) fn locate(sources: &SourceMap, span: Span) -> Location<'_> {
    let file = sources.get(span.file);
    let range = clamp(&file.text, span);
    let (line, column) = file.line_col(range.start);
    let (end_line, end_column) = file.line_col(range.end);
    Location {
        file: &file.name,
        line,
        column,
        end_line,
        end_column,
    }
}

/// Index of the primary label: the first one marked primary, else the first label (as
/// [`Diagnostic::primary_span`] does).
pub(crate) fn primary_index(d: &Diagnostic) -> Option<usize> {
    d.labels
        .iter()
        .position(|l| l.primary)
        .or_else(|| (!d.labels.is_empty()).then_some(0))
}

/// Whether label `i` is shown as primary: marked so, or the first when none is marked.
fn is_primary(d: &Diagnostic, i: usize, label: &Label) -> bool {
    label.primary || (i == 0 && !d.labels.iter().any(|l| l.primary))
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// `error: 2 errors and 1 warning emitted`, or `None` when there is nothing to count.
fn summary_line(diags: &[Diagnostic]) -> Option<(Severity, String)> {
    fn plural(n: usize, word: &str) -> String {
        format!("{n} {word}{}", if n == 1 { "" } else { "s" })
    }
    let (errors, warnings) = summary_counts(diags);
    let text = match (errors, warnings) {
        (0, 0) => return None,
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{} and {}", plural(e, "error"), plural(w, "warning")),
    };
    let severity = if errors > 0 {
        Severity::Error
    } else {
        Severity::Warning
    };
    Some((severity, format!("{text} emitted")))
}

// ---------------------------------------------------------------------------------------------
// Human

/// A codespan [`Files`] view of a [`SourceMap`], with line starts of the files labels use.
struct CodespanFiles<'s> {
    sources: &'s SourceMap,
    line_starts: BTreeMap<FileId, Vec<usize>>,
}

impl<'s> CodespanFiles<'s> {
    fn new(sources: &'s SourceMap, diags: &[Diagnostic]) -> CodespanFiles<'s> {
        let mut line_starts = BTreeMap::new();
        for label in diags.iter().flat_map(|d| &d.labels) {
            line_starts.entry(label.span.file).or_insert_with(|| {
                codespan_reporting::files::line_starts(&sources.get(label.span.file).text).collect()
            });
        }
        CodespanFiles {
            sources,
            line_starts,
        }
    }

    fn starts(&self, id: FileId) -> Result<&[usize], FilesError> {
        self.line_starts
            .get(&id)
            .map(Vec::as_slice)
            .ok_or(FilesError::FileMissing)
    }

    /// Start of line `index`, or the end of the text for the line after the last.
    fn line_start(&self, id: FileId, index: usize) -> Result<usize, FilesError> {
        let starts = self.starts(id)?;
        match starts.get(index) {
            Some(&s) => Ok(s),
            None if index == starts.len() => Ok(self.sources.get(id).text.len()),
            None => Err(FilesError::LineTooLarge {
                given: index,
                max: starts.len().saturating_sub(1),
            }),
        }
    }
}

impl<'a> Files<'a> for CodespanFiles<'_> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.sources.get(id).name)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, FilesError> {
        Ok(&self.sources.get(id).text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, FilesError> {
        let starts = self.starts(id)?;
        Ok(match starts.binary_search(&byte_index) {
            Ok(line) => line,
            Err(next) => next.saturating_sub(1),
        })
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, FilesError> {
        Ok(self.line_start(id, line_index)?..self.line_start(id, line_index + 1)?)
    }
}

/// The range a label underlines: clamped, and without a trailing line break (a span ending in
/// `\n` would otherwise be drawn as reaching into the next line).
fn display_range(text: &str, span: Span) -> Range<usize> {
    let range = clamp(text, span);
    let covered = text.get(range.clone()).unwrap_or("");
    if !covered.ends_with('\n') {
        return range;
    }
    let kept = covered.trim_end_matches(['\n', '\r']).len();
    if kept == 0 {
        range.start..range.start
    } else {
        range.start..range.start + kept
    }
}

/// The most diagnostics the `human` form draws as snippets; the rest are counted in one note
/// (as a compiler's error limit does). The other formats always list every diagnostic.
pub const HUMAN_DIAGNOSTIC_LIMIT: usize = 100;

/// Source lines longer than this (in bytes) are not drawn: codespan prints a label's whole line,
/// so one generated 200 kB line would otherwise be printed once per diagnostic on it.
const MAX_SNIPPET_LINE: usize = 500;

/// Whether the line holding `span`'s start is too long to draw as a snippet.
fn on_long_line(sources: &SourceMap, span: Span) -> bool {
    let file = sources.get(span.file);
    let start = clamp(&file.text, span).start;
    let (line, _) = file.line_col(start);
    file.line_text(line).len() > MAX_SNIPPET_LINE
}

fn to_codespan(d: &Diagnostic, sources: &SourceMap) -> cs::Diagnostic<FileId> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    // Labels on over-long lines become `file:line:col: message` notes instead of snippets.
    let mut located_notes = Vec::new();
    // Primary labels first, so the primary label's file is shown first.
    let (mut labels, secondary): (Vec<_>, Vec<_>) = d
        .labels
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            if !on_long_line(sources, l.span) {
                return true;
            }
            let at = locate(sources, l.span);
            let text = if l.message.is_empty() {
                "here"
            } else {
                &l.message
            };
            located_notes.push(format!(
                "at {}:{}:{}: {text} (the line is too long to show)",
                at.file, at.line, at.column
            ));
            false
        })
        .map(|(i, l)| {
            let style = if is_primary(d, i, l) {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            let range = display_range(&sources.get(l.span.file).text, l.span);
            cs::Label::new(style, l.span.file, range).with_message(l.message.clone())
        })
        .partition(|l| l.style == cs::LabelStyle::Primary);
    labels.extend(secondary);
    let notes = located_notes
        .into_iter()
        .chain(d.notes.iter().map(|n| format!("note: {n}")))
        .chain(d.help.iter().map(|h| format!("help: {h}")))
        .collect();
    cs::Diagnostic::new(severity)
        .with_code(d.code.as_str())
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

fn render_human(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let files = CodespanFiles::new(sources, diags);
    let config = term::Config::default();
    let new_buffer = || {
        if color {
            Buffer::ansi()
        } else {
            Buffer::no_color()
        }
    };
    let mut out = String::new();
    for d in diags.iter().take(HUMAN_DIAGNOSTIC_LIMIT) {
        let mut buffer = new_buffer();
        match term::emit(&mut buffer, &config, &files, &to_codespan(d, sources)) {
            Ok(()) => {
                // codespan pads some gutter lines with spaces; drop them.
                for line in String::from_utf8_lossy(buffer.as_slice()).split_inclusive('\n') {
                    out.push_str(line.trim_end_matches(['\n', ' ']));
                    if line.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
            // Only reachable on an I/O error writing to memory: fall back to the short form.
            Err(_) => {
                out.push_str(&short_line(d, sources));
                out.push_str("\n\n");
            }
        }
    }
    if let Some(hidden) = diags
        .len()
        .checked_sub(HUMAN_DIAGNOSTIC_LIMIT)
        .filter(|&n| n > 0)
    {
        out.push_str(&format!(
            "note: {hidden} more diagnostic{} not shown; `--format short` or `--format json` lists them all\n\n",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    if let Some((severity, text)) = summary_line(diags) {
        let mut buffer = new_buffer();
        let styles = &config.styles;
        let header = match severity {
            Severity::Error => &styles.header_error,
            Severity::Warning => &styles.header_warning,
        };
        // Writes to a memory buffer cannot fail.
        let _ = buffer.set_color(header);
        let _ = buffer.write_all(severity_name(severity).as_bytes());
        let _ = buffer.reset();
        let _ = buffer.write_all(b": ");
        let _ = buffer.set_color(&styles.header_message);
        let _ = buffer.write_all(text.as_bytes());
        let _ = buffer.reset();
        let _ = buffer.write_all(b"\n");
        out.push_str(&String::from_utf8_lossy(buffer.as_slice()));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Short

/// Line breaks in `s` replaced by spaces, so a diagnostic stays on one line.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `path:line:col: severity[CODE]: message`, or `severity[CODE]: message` without a label.
fn short_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let head = format!(
        "{}[{}]: {}",
        severity_name(d.severity),
        d.code,
        one_line(&d.message)
    );
    match d.primary_span() {
        Some(span) => {
            let loc = locate(sources, span);
            format!("{}:{}:{}: {head}", loc.file, loc.line, loc.column)
        }
        None => head,
    }
}

fn render_short(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&short_line(d, sources));
        out.push('\n');
    }
    if let Some((severity, text)) = summary_line(diags) {
        out.push_str(&format!("{}: {text}\n", severity_name(severity)));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// JSON (private mirror structs: the document's shape is a promise, independent of the types
// above; see docs/diagnostics-json.md)

#[derive(Serialize)]
struct JsonDocument<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    primary: bool,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
}

fn json_diagnostic<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> JsonDiagnostic<'a> {
    let primary = primary_index(d)
        .and_then(|i| d.labels.get(i))
        .map(|l| locate(sources, l.span));
    let labels = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let loc = locate(sources, l.span);
            JsonLabel {
                file: loc.file,
                line: loc.line,
                column: loc.column,
                end_line: loc.end_line,
                end_column: loc.end_column,
                message: &l.message,
                primary: is_primary(d, i, l),
            }
        })
        .collect();
    JsonDiagnostic {
        code: d.code.as_str(),
        severity: severity_name(d.severity),
        message: &d.message,
        file: primary.as_ref().map(|p| p.file),
        line: primary.as_ref().map(|p| p.line),
        column: primary.as_ref().map(|p| p.column),
        end_line: primary.as_ref().map(|p| p.end_line),
        end_column: primary.as_ref().map(|p| p.end_column),
        labels,
        help: d.help.as_deref(),
        notes: &d.notes,
    }
}

fn render_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let (errors, warnings) = summary_counts(diags);
    let doc = JsonDocument {
        version: JSON_VERSION,
        diagnostics: diags.iter().map(|d| json_diagnostic(d, sources)).collect(),
        summary: JsonSummary { errors, warnings },
    };
    let mut out = match serde_json::to_string(&doc) {
        Ok(s) => s,
        // Unreachable (the mirror structs always serialize), but stay a valid document.
        Err(e) => {
            serde_json::json!({ "version": JSON_VERSION, "error": e.to_string() }).to_string()
        }
    };
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions

/// Escapes a workflow command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message`. `endColumn` is
/// inclusive (GitHub's convention); columns are left out when the span covers several lines,
/// which GitHub does not accept.
fn github_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut props = Vec::new();
    if let Some(span) = d.primary_span() {
        let loc = locate(sources, span);
        props.push(format!("file={}", escape_property(loc.file)));
        props.push(format!("line={}", loc.line));
        if loc.end_line == loc.line {
            let end_column = loc.end_column.saturating_sub(1).max(loc.column);
            props.push(format!("col={}", loc.column));
            props.push(format!("endLine={}", loc.end_line));
            props.push(format!("endColumn={end_column}"));
        } else {
            props.push(format!("endLine={}", loc.end_line));
        }
    }
    props.push(format!("title={}", escape_property(d.code.as_str())));
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} {}::{}",
        severity_name(d.severity),
        props.join(","),
        escape_data(&message)
    )
}

fn render_github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&github_line(d, sources));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::diagnostic::Code;

    /// Two files: a local policy with a misspelt field, and the schema it is checked against.
    fn two_files() -> (SourceMap, Vec<Diagnostic>) {
        let mut sources = SourceMap::new();
        let policy = sources.add(
            "policies/rde.pal",
            "extends \"national/rtt.pal\"\n\nrule first_dna on dna when event.knid == first cite \"9.12.1\" {\n  outcome review\n}\n",
        );
        let schema = sources.add(
            "national/schema.pal",
            "event dna {\n  kind: Appointment\n  date: Date\n}\n",
        );
        let text = &sources.get(policy).text;
        let at = text.find("knid").unwrap_or(0);
        let field = sources.get(schema).text.find("event dna").unwrap_or(0);
        let d = Diagnostic::new(Code::E0102, "unknown field `knid` on event `dna`")
            .primary(Span::new(policy, at..at + 4), "no such field")
            .secondary(
                Span::new(schema, field..field + 9),
                "`dna` is declared here",
            )
            .help("did you mean `kind`?");
        (sources, vec![d])
    }

    /// A warning about the rule in the first file.
    fn warning(sources: &SourceMap) -> Diagnostic {
        let id = FileId(0);
        let at = sources.get(id).text.find("rule").unwrap_or(0);
        Diagnostic::new(Code::W0001, "rule `first_dna` has no citation")
            .primary(Span::new(id, at..at + 4), "")
            .note("imported from `policies/rde.pal`")
    }

    #[test]
    fn human_form_stops_drawing_after_the_limit_but_counts_everything() {
        let mut sources = SourceMap::new();
        let text = "expect x\n".repeat(HUMAN_DIAGNOSTIC_LIMIT + 3);
        let id = sources.add("t.pal", text);
        let diags: Vec<_> = (0..HUMAN_DIAGNOSTIC_LIMIT + 3)
            .map(|i| {
                Diagnostic::new(Code::E0101, "unknown name `x`")
                    .primary(Span::new(id, i * 9 + 7..i * 9 + 8), "")
            })
            .collect();
        let out = render(&diags, &sources, Format::Human, false);
        assert_eq!(out.matches("error[E0101]").count(), HUMAN_DIAGNOSTIC_LIMIT);
        assert!(out.contains("note: 3 more diagnostics not shown"), "{out}");
        assert!(out.ends_with(&format!(
            "error: {} errors emitted\n",
            HUMAN_DIAGNOSTIC_LIMIT + 3
        )));
        let short = render(&diags, &sources, Format::Short, false);
        assert_eq!(
            short.matches("error[E0101]").count(),
            HUMAN_DIAGNOSTIC_LIMIT + 3
        );
    }

    #[test]
    fn labels_on_over_long_lines_become_located_notes() {
        let mut sources = SourceMap::new();
        let line = format!("{}oops", "a ".repeat(MAX_SNIPPET_LINE));
        let at = line.len() - 4;
        let id = sources.add("long.pal", line);
        let d = Diagnostic::new(Code::E0001, "unexpected `oops`")
            .primary(Span::new(id, at..at + 4), "here");
        let out = render(&[d], &sources, Format::Human, false);
        assert!(
            out.contains(&format!(
                "at long.pal:1:{}: here (the line is too long to show)",
                at + 1
            )),
            "{out}"
        );
        assert!(out.len() < 400, "the long line must not be printed: {out}");
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        let err = "xml".parse::<Format>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown format `xml`: use human, short, json, github or sarif")
        );
    }

    #[test]
    fn human_two_files_with_help() {
        let (sources, diags) = two_files();
        let out = render(&diags, &sources, Format::Human, false);
        insta::assert_snapshot!(out, @r#"
            error[E0102]: unknown field `knid` on event `dna`
              ┌─ policies/rde.pal:3:34
              │
            3 │ rule first_dna on dna when event.knid == first cite "9.12.1" {
              │                                  ^^^^ no such field
              │
              ┌─ national/schema.pal:1:1
              │
            1 │ event dna {
              │ --------- `dna` is declared here
              │
              = help: did you mean `kind`?

            error: 1 error emitted
            "#);
    }

    #[test]
    fn human_warning_with_note_and_summary() {
        let (sources, mut diags) = two_files();
        diags.push(warning(&sources));
        diags.push(Diagnostic::new(
            Code::E0003,
            "cannot read `policies/missing.pal`",
        ));
        let out = render(&diags, &sources, Format::Human, false);
        insta::assert_snapshot!(out, @r#"
            error[E0102]: unknown field `knid` on event `dna`
              ┌─ policies/rde.pal:3:34
              │
            3 │ rule first_dna on dna when event.knid == first cite "9.12.1" {
              │                                  ^^^^ no such field
              │
              ┌─ national/schema.pal:1:1
              │
            1 │ event dna {
              │ --------- `dna` is declared here
              │
              = help: did you mean `kind`?

            warning[W0001]: rule `first_dna` has no citation
              ┌─ policies/rde.pal:3:1
              │
            3 │ rule first_dna on dna when event.knid == first cite "9.12.1" {
              │ ^^^^
              │
              = note: imported from `policies/rde.pal`

            error[E0003]: cannot read `policies/missing.pal`

            error: 2 errors and 1 warning emitted
            "#);
    }

    #[test]
    fn human_color_uses_ansi_only_when_asked() {
        let (sources, diags) = two_files();
        assert!(render(&diags, &sources, Format::Human, true).contains("\u{1b}["));
        assert!(!render(&diags, &sources, Format::Human, false).contains('\u{1b}'));
        assert!(!render(&diags, &sources, Format::Short, true).contains('\u{1b}'));
    }

    #[test]
    fn short_form() {
        let (sources, mut diags) = two_files();
        diags.push(warning(&sources));
        diags.push(Diagnostic::new(
            Code::E0003,
            "cannot read `policies/missing.pal`:\nno such file",
        ));
        let out = render(&diags, &sources, Format::Short, false);
        insta::assert_snapshot!(out, @r#"
            policies/rde.pal:3:34: error[E0102]: unknown field `knid` on event `dna`
            policies/rde.pal:3:1: warning[W0001]: rule `first_dna` has no citation
            error[E0003]: cannot read `policies/missing.pal`: no such file
            error: 2 errors and 1 warning emitted
            "#);
    }

    #[test]
    fn json_form() {
        let (sources, mut diags) = two_files();
        diags.push(warning(&sources));
        diags.push(Diagnostic::new(
            Code::E0003,
            "cannot read `policies/missing.pal`",
        ));
        let out = render(&diags, &sources, Format::Json, false);
        insta::assert_snapshot!(out, @r#"{"version":1,"diagnostics":[{"code":"E0102","severity":"error","message":"unknown field `knid` on event `dna`","file":"policies/rde.pal","line":3,"column":34,"end_line":3,"end_column":38,"labels":[{"file":"policies/rde.pal","line":3,"column":34,"end_line":3,"end_column":38,"message":"no such field","primary":true},{"file":"national/schema.pal","line":1,"column":1,"end_line":1,"end_column":10,"message":"`dna` is declared here","primary":false}],"help":"did you mean `kind`?","notes":[]},{"code":"W0001","severity":"warning","message":"rule `first_dna` has no citation","file":"policies/rde.pal","line":3,"column":1,"end_line":3,"end_column":5,"labels":[{"file":"policies/rde.pal","line":3,"column":1,"end_line":3,"end_column":5,"message":"","primary":true}],"help":null,"notes":["imported from `policies/rde.pal`"]},{"code":"E0003","severity":"error","message":"cannot read `policies/missing.pal`","file":null,"line":null,"column":null,"end_line":null,"end_column":null,"labels":[],"help":null,"notes":[]}],"summary":{"errors":2,"warnings":1}}"#);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(value["version"], 1);
        assert_eq!(value["summary"]["errors"], 2);
        assert_eq!(value["summary"]["warnings"], 1);
        assert_eq!(value["diagnostics"][0]["labels"][1]["primary"], false);
        assert!(value["diagnostics"][2]["file"].is_null());
    }

    #[test]
    fn github_form() {
        let (sources, mut diags) = two_files();
        diags.push(warning(&sources));
        let out = render(&diags, &sources, Format::Github, false);
        insta::assert_snapshot!(out, @r#"
            ::error file=policies/rde.pal,line=3,col=34,endLine=3,endColumn=37,title=E0102::unknown field `knid` on event `dna`%0Ahelp: did you mean `kind`?
            ::warning file=policies/rde.pal,line=3,col=1,endLine=3,endColumn=4,title=W0001::rule `first_dna` has no citation%0Anote: imported from `policies/rde.pal`
            "#);
    }

    #[test]
    fn github_escaping() {
        let mut sources = SourceMap::new();
        let id = sources.add("policies/a,b:c%.pal", "rule x on dna {}\n");
        let d = Diagnostic::new(Code::E0001, "100% wrong:\r\nexpected `,` here")
            .primary(Span::new(id, 5..6), "")
            .help("add a `cite`, e.g. cite \"9.12.1\"");
        let out = render(&[d], &sources, Format::Github, false);
        insta::assert_snapshot!(out, @r#"::error file=policies/a%2Cb%3Ac%25.pal,line=1,col=6,endLine=1,endColumn=6,title=E0001::100%25 wrong:%0D%0Aexpected `,` here%0Ahelp: add a `cite`, e.g. cite "9.12.1""#);
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn github_multi_line_span_has_no_columns() {
        let mut sources = SourceMap::new();
        let id = sources.add("p.pal", "rule x on dna {\n  outcome review\n}\n");
        let d = Diagnostic::new(Code::E0302, "invalid action").primary(Span::new(id, 14..33), "");
        let out = render(&[d], &sources, Format::Github, false);
        insta::assert_snapshot!(out, @r#"::error file=p.pal,line=1,endLine=3,title=E0302::invalid action"#);
    }

    #[test]
    fn empty_input_renders_nothing_but_json() {
        let sources = SourceMap::new();
        assert_eq!(render(&[], &sources, Format::Human, true), "");
        assert_eq!(render(&[], &sources, Format::Short, false), "");
        assert_eq!(render(&[], &sources, Format::Github, false), "");
        insta::assert_snapshot!(render(&[], &sources, Format::Json, false), @r#"{"version":1,"diagnostics":[],"summary":{"errors":0,"warnings":0}}"#);
        assert_eq!(summary_counts(&[]), (0, 0));
    }

    #[test]
    fn span_past_end_of_file() {
        let mut sources = SourceMap::new();
        let id = sources.add("policies/short.pal", "rule r on dna");
        let d = Diagnostic::new(Code::E0001, "expected `{`, found end of file")
            .primary(Span::new(id, 40..90), "here");
        let diags = [d];
        let human = render(&diags, &sources, Format::Human, false);
        insta::assert_snapshot!(human, @r#"
            error[E0001]: expected `{`, found end of file
              ┌─ policies/short.pal:1:14
              │
            1 │ rule r on dna
              │              ^ here

            error: 1 error emitted
            "#);
        let short = render(&diags, &sources, Format::Short, false);
        insta::assert_snapshot!(short, @r#"
            policies/short.pal:1:14: error[E0001]: expected `{`, found end of file
            error: 1 error emitted
            "#);
        let json = render(&diags, &sources, Format::Json, false);
        assert!(json.contains(r#""line":1,"column":14,"end_line":1,"end_column":14"#));
    }

    #[test]
    fn span_inside_multi_byte_character() {
        let mut sources = SourceMap::new();
        // `£` is bytes 4..6 and `é` bytes 13..15.
        let id = sources.add("policies/fees.pal", "def £fee = \"é\"\n");
        // Starts inside `£` and ends inside `é`: widened to cover both whole characters. A
        // reversed span inside `é` becomes `é` itself.
        let d = Diagnostic::new(Code::E0107, "unknown name")
            .primary(Span::new(id, 5..14), "this")
            .secondary(
                Span {
                    file: id,
                    start: 14,
                    end: 12,
                },
                "reversed",
            );
        let diags = [d];
        let human = render(&diags, &sources, Format::Human, false);
        insta::assert_snapshot!(human, @r#"
            error[E0107]: unknown name
              ┌─ policies/fees.pal:1:5
              │
            1 │ def £fee = "é"
              │     ^^^^^^^^^
              │     │       │
              │     │       reversed
              │     this

            error: 1 error emitted
            "#);
        let short = render(&diags, &sources, Format::Short, false);
        insta::assert_snapshot!(short, @r#"
            policies/fees.pal:1:5: error[E0107]: unknown name
            error: 1 error emitted
            "#);
        let github = render(&diags, &sources, Format::Github, false);
        insta::assert_snapshot!(github, @r#"::error file=policies/fees.pal,line=1,col=5,endLine=1,endColumn=13,title=E0107::unknown name"#);
    }

    #[test]
    fn crlf_line_endings() {
        let mut sources = SourceMap::new();
        let text = "param limit: Int = 2 cite \"9.10.2\"\r\nrule r on dna when limit > tw0 cite \"9.12.1\" {\r\n  outcome review\r\n}\r\n";
        let id = sources.add("policies/crlf.pal", text);
        let at = text.find("tw0").unwrap_or(0);
        let line_end = text.find("{\r\n").unwrap_or(0) + 1;
        let d = Diagnostic::new(Code::E0107, "unknown name `tw0`")
            .primary(Span::new(id, at..at + 3), "not a parameter or definition")
            // A label that ends after the line break is still drawn on its line.
            .secondary(Span::new(id, at..line_end + 2), "in this condition")
            .help("did you mean `two`?");
        let block = text.find("rule").unwrap_or(0)..text.len() - 2;
        let d2 = Diagnostic::new(Code::W0007, "rule `r` is not exercised by any test")
            .primary(Span::new(id, block), "this rule");
        let diags = [d, d2];
        let human = render(&diags, &sources, Format::Human, false);
        assert!(!human.contains('\r'));
        insta::assert_snapshot!(human, @r#"
            error[E0107]: unknown name `tw0`
              ┌─ policies/crlf.pal:2:28
              │
            2 │ rule r on dna when limit > tw0 cite "9.12.1" {
              │                            ^^^----------------
              │                            │
              │                            in this condition
              │                            not a parameter or definition
              │
              = help: did you mean `two`?

            warning[W0007]: rule `r` is not exercised by any test
              ┌─ policies/crlf.pal:2:1
              │
            2 │ ╭ rule r on dna when limit > tw0 cite "9.12.1" {
            3 │ │   outcome review
            4 │ │ }
              │ ╰─^ this rule

            error: 1 error and 1 warning emitted
            "#);
        let short = render(&diags, &sources, Format::Short, false);
        insta::assert_snapshot!(short, @r#"
            policies/crlf.pal:2:28: error[E0107]: unknown name `tw0`
            policies/crlf.pal:2:1: warning[W0007]: rule `r` is not exercised by any test
            error: 1 error and 1 warning emitted
            "#);
        let json = render(&diags, &sources, Format::Json, false);
        insta::assert_snapshot!(json, @r#"{"version":1,"diagnostics":[{"code":"E0107","severity":"error","message":"unknown name `tw0`","file":"policies/crlf.pal","line":2,"column":28,"end_line":2,"end_column":31,"labels":[{"file":"policies/crlf.pal","line":2,"column":28,"end_line":2,"end_column":31,"message":"not a parameter or definition","primary":true},{"file":"policies/crlf.pal","line":2,"column":28,"end_line":3,"end_column":1,"message":"in this condition","primary":false}],"help":"did you mean `two`?","notes":[]},{"code":"W0007","severity":"warning","message":"rule `r` is not exercised by any test","file":"policies/crlf.pal","line":2,"column":1,"end_line":4,"end_column":2,"labels":[{"file":"policies/crlf.pal","line":2,"column":1,"end_line":4,"end_column":2,"message":"this rule","primary":true}],"help":null,"notes":[]}],"summary":{"errors":1,"warnings":1}}"#);
    }

    #[test]
    fn labels_in_unknown_files_and_without_primary_do_not_panic() {
        let mut sources = SourceMap::new();
        let id = sources.add("a.pal", "x\n");
        let d = Diagnostic {
            labels: vec![
                Label {
                    span: Span::new(FileId(7), 3..9),
                    message: "nowhere".into(),
                    primary: false,
                },
                Label {
                    span: Span::new(id, 0..1),
                    message: "here".into(),
                    primary: false,
                },
            ],
            ..Diagnostic::new(Code::E0001, "odd spans")
        };
        let diags = [d];
        let human = render(&diags, &sources, Format::Human, false);
        insta::assert_snapshot!(human, @r#"
            error[E0001]: odd spans
              ┌─ <unknown>:1:1
              │
            1 │
              │ ^ nowhere
              │
              ┌─ a.pal:1:1
              │
            1 │ x
              │ - here

            error: 1 error emitted
            "#);
        let short = render(&diags, &sources, Format::Short, false);
        insta::assert_snapshot!(short, @r#"
            <unknown>:1:1: error[E0001]: odd spans
            error: 1 error emitted
            "#);
    }

    /// Every span over a few awkward texts (empty, multi-byte, CRLF, no final newline) renders
    /// in every format without panicking.
    #[test]
    fn no_span_panics_in_any_format() {
        let texts = [
            "",
            "\n",
            "a",
            "£€😀\n",
            "ab\r\ncd\r\n",
            "x\n\n\ny",
            "rule r on dna {\n\toutcome review\n}",
        ];
        for text in texts {
            let mut sources = SourceMap::new();
            let id = sources.add("t.pal", text);
            let n = text.len() as u32 + 3;
            for start in 0..n {
                for end in 0..n {
                    let span = Span {
                        file: id,
                        start,
                        end,
                    };
                    let d = Diagnostic::new(Code::E0001, "m")
                        .primary(span, "p")
                        .secondary(Span { start: end, ..span }, "s");
                    for format in Format::ALL {
                        let out = render(std::slice::from_ref(&d), &sources, format, true);
                        assert!(!out.is_empty());
                    }
                }
            }
        }
    }
}
