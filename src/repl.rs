//! The terminal front end of the REPL (rustyline): prompt, multi-line input decided by the
//! real parser, completion of names from the policy, history hints, highlighting, and a
//! persistent history file. With piped standard input it prints no prompt and the same output.

use crate::cli::Extract;
use chrono::NaiveDate;
use pal_engine::services::repl::{Flow, Session};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

const COMMANDS: &[&str] = &[
    ":state",
    ":timeline",
    ":why",
    ":whynot",
    ":as-at",
    ":rules",
    ":params",
    ":show",
    ":set",
    ":undo",
    ":reset",
    ":load",
    ":reload",
    ":save",
    ":help",
    ":quit",
];

const KEYWORDS: &[&str] = &[
    "rule",
    "exception",
    "param",
    "set",
    "def",
    "on",
    "when",
    "after",
    "from",
    "unless",
    "cite",
    "and",
    "or",
    "not",
    "is",
    "in",
    "within",
    "of",
    "at",
    "least",
    "before",
    "expect",
    "as",
    "pathway",
    "start",
    "stop",
    "nullify",
    "reset",
    "pause",
    "resume",
    "outcome",
    "require",
    "warn",
    "reason",
    "true",
    "false",
    "count",
    "exists",
    "consecutive",
    "last",
    "first",
];

/// The rustyline helper: completion, hints, highlighting and validation.
struct PalHelper {
    names: Vec<String>,
    fields: Vec<(String, Vec<String>)>,
    hinter: HistoryHinter,
}

impl PalHelper {
    fn new(session: &Session) -> PalHelper {
        let mut names: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        let mut fields = Vec::new();
        if let Some(p) = session.policy() {
            for e in &p.schema.events {
                names.push(e.name.clone());
                fields.push((
                    e.name.clone(),
                    e.fields.iter().map(|f| f.name.clone()).collect(),
                ));
            }
            for en in &p.schema.enums {
                names.extend(en.variants.iter().cloned());
            }
            names.extend(p.clocks.iter().map(|c| c.name.clone()));
            names.extend(p.rules.iter().map(|r| r.name.clone()));
            names.extend(p.params.iter().map(|x| x.name.clone()));
            names.extend(p.defs.iter().map(|x| x.name.clone()));
            names.extend(p.schema.attributes.iter().map(|a| a.name.clone()));
        }
        names.sort();
        names.dedup();
        PalHelper {
            names,
            fields,
            hinter: HistoryHinter::new(),
        }
    }
}

impl Completer for PalHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '-'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        // Inside `DATE event { …`, offer that event's fields first.
        let mut candidates: Vec<&str> = Vec::new();
        if let Some(brace) = before.rfind('{') {
            let head = before[..brace].split_whitespace().last().unwrap_or("");
            if let Some((_, fs)) = self.fields.iter().find(|(e, _)| e == head) {
                candidates.extend(fs.iter().map(String::as_str));
            }
        }
        candidates.extend(self.names.iter().map(String::as_str));
        let mut out: Vec<Pair> = Vec::new();
        for c in candidates {
            if c.starts_with(word) && !out.iter().any(|p| p.replacement == c) {
                out.push(Pair {
                    display: c.to_string(),
                    replacement: c.to_string(),
                });
            }
        }
        Ok((start, out))
    }
}

impl Hinter for PalHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

fn is_date(w: &str) -> bool {
    pal_engine::base::value::parse_date(w).is_some()
}

impl Highlighter for PalHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        let mut out = String::with_capacity(line.len() + 16);
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String, next: Option<char>| {
            if word.is_empty() {
                return;
            }
            let colored = if KEYWORDS.contains(&word.as_str()) || word.starts_with(':') {
                format!("\x1b[1;34m{word}\x1b[0m")
            } else if is_date(word) {
                format!("\x1b[32m{word}\x1b[0m")
            } else if (word.chars().all(|c| c.is_ascii_digit()) && next == Some(' '))
                || [
                    "day", "days", "week", "weeks", "month", "months", "year", "years", "working",
                ]
                .contains(&word.as_str())
            {
                format!("\x1b[33m{word}\x1b[0m")
            } else {
                word.clone()
            };
            out.push_str(&colored);
            word.clear();
        };
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if c.is_alphanumeric() || *c == '_' || *c == '-' || *c == ':' {
                word.push(*c);
            } else {
                flush(&mut word, &mut out, Some(*c));
                out.push(*c);
            }
            if i + 1 == chars.len() {
                flush(&mut word, &mut out, None);
            }
        }
        Cow::Owned(out)
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _forced: bool) -> bool {
        true
    }
}

impl Validator for PalHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        if Session::is_incomplete(ctx.input()) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

impl Helper for PalHelper {}

fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PAL_HISTORY") {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".pal_history"))
}

/// Runs the REPL over `policy`; returns the exit code.
pub fn run(policy: Option<&Path>, policy_path: &[PathBuf], start: Option<&Extract>) -> u8 {
    let interactive = std::io::stdin().is_terminal();
    let color = interactive && std::env::var_os("NO_COLOR").is_none();
    let (mut session, mut banner) = Session::with_policy_path(policy, color, policy_path);
    if let Some(extract) = start {
        // The pathway's events, each added as a typed step; any event in the extract counts
        // (the session's own as-at date decides what is evaluated).
        let Some(loaded) = session.policy() else {
            let _ = writeln!(std::io::stderr(), "{}", banner.trim_end());
            return EXIT_FAILED;
        };
        let pathway = match crate::cli::read_pathway(loaded, extract, NaiveDate::MAX) {
            Ok(p) => p,
            Err(code) => return code,
        };
        match session.add_events(&pathway.events) {
            Ok(answer) => {
                banner = format!(
                    "{}\npathway {} from {}: {} events\n{answer}",
                    banner.trim_end(),
                    pathway.id,
                    extract.events.display(),
                    pathway.events.len()
                );
            }
            Err(why) => {
                let _ = writeln!(std::io::stderr(), "error: {why}");
                return EXIT_FAILED;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if interactive {
        if say(&mut out, &banner)
            .and_then(|_| {
                say(
                    &mut out,
                    "PAL REPL — `:help` for commands, `:quit` to leave",
                )
            })
            .is_err()
        {
            return EXIT_OUTPUT;
        }
        return run_terminal(&mut session, &mut out);
    }
    if say(&mut out, &banner).is_err() {
        return EXIT_OUTPUT;
    }
    run_piped(&mut session, &mut std::io::stdin().lock(), &mut out)
}

/// Exit code when standard output cannot be written (closed, or a full disk): the session's
/// answers would be lost, so it stops.
const EXIT_OUTPUT: u8 = 1;

/// Exit code of a piped session in which an `expect` failed or a line was in error, so that a
/// scripted scenario can fail CI.
const EXIT_FAILED: u8 = 1;

/// Exit code after piped input with lines that are not UTF-8 (each reported and skipped).
const EXIT_BAD_INPUT: u8 = 3;

/// The longest block of input (one line, or the lines of a block still open) the REPL reads.
/// Each line of an open block re-parses the block, so lines are bounded too.
const MAX_BLOCK_BYTES: usize = 1024 * 1024;
const MAX_BLOCK_LINES: usize = 1000;

/// Writes one answer; on failure reports it on stderr (if it can) and returns the error.
fn say(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    writeln!(out, "{}", text.trim_end())
        .and_then(|_| out.flush())
        .inspect_err(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write to standard output: {e}"
            );
        })
}

/// Piped input: no prompt; a block still open keeps reading lines. A line that is not UTF-8
/// is reported with its number and skipped (exit 3 at the end); a block longer than
/// [`MAX_BLOCK_BYTES`] or [`MAX_BLOCK_LINES`] stops the session (exit 3).
fn run_piped(session: &mut Session, input: &mut dyn BufRead, out: &mut dyn Write) -> u8 {
    let mut buffer = String::new();
    let mut line_no = 0usize;
    let mut bad_lines = 0usize;
    let mut block_lines = 0usize;
    loop {
        let mut raw = Vec::new();
        let limit = (MAX_BLOCK_BYTES + 1).saturating_sub(buffer.len()) as u64;
        match Read::take(&mut *input, limit).read_until(b'\n', &mut raw) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "error: cannot read standard input: {e}");
                return EXIT_BAD_INPUT;
            }
        }
        line_no += 1;
        if buffer.len() + raw.len() > MAX_BLOCK_BYTES {
            let _ = writeln!(
                std::io::stderr(),
                "error: line {line_no}: the input is longer than {MAX_BLOCK_BYTES} bytes without a complete entry; stopping"
            );
            return EXIT_BAD_INPUT;
        }
        if raw.last() == Some(&b'\n') {
            raw.pop();
            if raw.last() == Some(&b'\r') {
                raw.pop();
            }
        }
        let Ok(line) = String::from_utf8(raw) else {
            bad_lines += 1;
            let _ = writeln!(
                std::io::stderr(),
                "error: line {line_no}: not UTF-8 text; the line is skipped"
            );
            continue;
        };
        buffer.push_str(&line);
        buffer.push('\n');
        block_lines += 1;
        if Session::is_incomplete(&buffer) {
            if block_lines >= MAX_BLOCK_LINES {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: line {line_no}: an entry still open after {MAX_BLOCK_LINES} lines; stopping"
                );
                return EXIT_BAD_INPUT;
            }
            continue;
        }
        block_lines = 0;
        let (text, flow) = session.handle(&buffer);
        buffer.clear();
        if !text.is_empty() && say(out, &text).is_err() {
            return EXIT_OUTPUT;
        }
        if flow == Flow::Quit {
            break;
        }
    }
    if !buffer.trim().is_empty() {
        let (text, _) = session.handle(&buffer);
        if say(out, &text).is_err() {
            return EXIT_OUTPUT;
        }
    }
    if bad_lines > 0 {
        EXIT_BAD_INPUT
    } else if session.failures() > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "{} failed (an `expect` that did not hold, or a line in error)",
            pal_engine::base::text::count_of(session.failures() as i64, "line", "lines")
        );
        EXIT_FAILED
    } else {
        0
    }
}

fn run_terminal(session: &mut Session, out: &mut dyn Write) -> u8 {
    let mut editor: Editor<PalHelper, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot start the line editor: {e}"
            );
            return 3;
        }
    };
    editor.set_helper(Some(PalHelper::new(session)));
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    loop {
        match editor.readline("pal> ") {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                let (text, flow) = session.handle(&line);
                if !text.is_empty() && say(out, &text).is_err() {
                    return EXIT_OUTPUT;
                }
                if flow == Flow::Quit {
                    break;
                }
                // Declarations and :load change the names to complete.
                let trimmed = line.trim_start();
                if trimmed.starts_with(":load")
                    || trimmed.starts_with(":reload")
                    || trimmed.starts_with("rule")
                    || trimmed.starts_with("param")
                    || trimmed.starts_with("def")
                {
                    editor.set_helper(Some(PalHelper::new(session)));
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    0
}
