//! The formatter's properties: formatting keeps the AST (spans aside) and every comment in
//! place, and formatting twice changes nothing — over every shipped policy and generated ones.

use super::*;
use crate::base::source::FileId;

/// The AST with every span erased: two files mean the same iff their shapes are equal.
fn shape(ast: &File) -> String {
    let debug = format!("{ast:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        rest = match rest[at..].find('}') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// For each comment: its text and the index of the item it is inside or above (as the
/// suppression comments read them).
fn comment_places(text: &str, ast: &File) -> Vec<(String, usize)> {
    let spans: Vec<Span> = ast.items.iter().map(item_span).collect();
    comments(text)
        .into_iter()
        .map(|c| {
            let at = c.start;
            let place = spans
                .iter()
                .position(|s| s.start <= at && at < s.end)
                .or_else(|| spans.iter().position(|s| s.start > at))
                .unwrap_or(spans.len());
            (c.text, place)
        })
        .collect()
}

/// Formats `text`, asserting the properties; returns the formatted text.
pub(super) fn check_roundtrip(name: &str, text: &str) -> String {
    let before = match parse_file(FileId(0), text) {
        Ok(ast) => ast,
        Err(d) => panic!("{name}: does not parse: {d:?}"),
    };
    let once = format_file(text, &before);
    let after = match parse_file(FileId(0), &once) {
        Ok(ast) => ast,
        Err(d) => panic!("{name}: formatted text does not parse: {d:?}\n{once}"),
    };
    assert_eq!(
        shape(&before),
        shape(&after),
        "{name}: formatting changed the AST\n{once}"
    );
    assert_eq!(
        comment_places(text, &before),
        comment_places(&once, &after),
        "{name}: a comment moved to another item\n{once}"
    );
    let twice = format_file(&once, &after);
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    once
}

fn pal_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            pal_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "pal") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_policy_round_trips_and_is_idempotent() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    pal_files(&root.join("policies"), &mut files);
    pal_files(&root.join("tests"), &mut files);
    assert!(files.len() > 10, "no shipped policies found");
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if parse_file(FileId(0), &text).is_err() {
            continue; // diagnostic fixtures with deliberate syntax errors
        }
        let out = check_roundtrip(&f.display().to_string(), &text);
        if let Some(dir) = std::env::var_os("PAL_FMT_DUMP") {
            let name = f.display().to_string().replace(['/', '.'], "_");
            let _ = std::fs::write(std::path::Path::new(&dir).join(name), out);
        }
    }
}
