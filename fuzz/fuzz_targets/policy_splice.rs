//! Structure-aware mutation of the shipped policies: the fuzz input is a program of edits
//! (splice a run of tokens from one shipped file into another, delete, duplicate, insert a
//! dictionary word) applied at the token level, so most inputs are nearly valid PAL and reach
//! the checker, the elaborator and the lints rather than stopping at the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

const FILES: &[&str] = &[
    include_str!("../../policies/national.pal"),
    include_str!("../../policies/rde.pal"),
    include_str!("../../policies/national/schema.pal"),
    include_str!("../../policies/national/cancer.pal"),
    include_str!("../../policies/national/legacy_cancer.pal"),
    include_str!("../../policies/variants/strict_trust.pal"),
];

const WORDS: &[&str] = &[
    "rule",
    "on",
    "when",
    "then",
    "start",
    "stop",
    "pause",
    "resume",
    "nullify",
    "reset",
    "exception",
    "to",
    "def",
    "param",
    "set",
    "clock",
    "event",
    "enum",
    "test",
    "expect",
    "import",
    "extends",
    "policy",
    "cite",
    "and",
    "or",
    "not",
    "within",
    "of",
    "since",
    "where",
    "count",
    "last",
    "first",
    "is set",
    "??",
    "==",
    "!=",
    "<",
    "<=",
    "+",
    "-",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    ".",
    "\"",
    "//",
    "/*",
    "*/",
    "0",
    "1",
    "99999999999999999999",
    "2025-01-06",
    "3 weeks",
    "18 weeks",
    "5 working days",
    "2 months",
    "now",
    "rtt",
    "dna",
    "attended",
    "referral_received",
    "priority",
    "routine",
    "urgent",
    "disable",
    "obligation",
    "outcome",
    "due",
    "days_waited",
    "Int",
    "Bool",
    "Date",
    "String",
    "Duration",
    "true",
    "false",
    "\n",
];

/// A file cut into tokens: runs of word characters, runs of spaces, single other characters.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut prev: Option<u8> = None;
    for (i, c) in text.char_indices() {
        let k = class(c);
        if prev.is_some_and(|p| p != k || k == 2) {
            out.push(&text[start..i]);
            start = i;
        }
        prev = Some(k);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, program)) = data.split_first() else {
        return;
    };
    let files: Vec<Vec<&str>> = FILES.iter().map(|f| tokens(f)).collect();
    let mut toks: Vec<&str> = files[pick as usize % files.len()].clone();
    for op in program.chunks(4) {
        let [kind, a, b, c] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
        let at = |n: usize, x: u8, y: u8| {
            if n == 0 {
                0
            } else {
                (usize::from(x) << 8 | usize::from(y)) % n
            }
        };
        match kind % 5 {
            0 => {
                // Splice up to 64 tokens of another file here.
                let src = &files[c as usize % files.len()];
                let from = at(src.len(), b, a);
                let len = (usize::from(c) % 64).min(src.len() - from);
                let here = at(toks.len() + 1, a, b);
                toks.splice(here..here, src[from..from + len].iter().copied());
            }
            1 => {
                let from = at(toks.len(), a, b);
                let len = (usize::from(c) % 32).min(toks.len() - from);
                toks.drain(from..from + len);
            }
            2 => {
                let from = at(toks.len(), a, b);
                let len = (usize::from(c) % 32).min(toks.len() - from);
                let copy: Vec<&str> = toks[from..from + len].to_vec();
                let here = at(toks.len() + 1, b, c);
                toks.splice(here..here, copy);
            }
            3 => {
                let here = at(toks.len() + 1, a, b);
                toks.insert(here, WORDS[c as usize % WORDS.len()]);
            }
            _ => {
                if !toks.is_empty() {
                    let here = at(toks.len(), a, b);
                    toks[here] = WORDS[c as usize % WORDS.len()];
                }
            }
        }
        if toks.len() > 20_000 {
            return;
        }
    }
    let text: String = toks.concat();
    if common::names_outside(&text) {
        return;
    }
    let _ = common::check_text(&text);
});
