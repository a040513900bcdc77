//! The documentation's examples are real output: `docs/diagnostics-json.md` shows what
//! `pal check` prints for `docs/examples/dna-review.pal` in every format, and the policy it
//! shows is that file.

use std::process::Command;

const DOC: &str = include_str!("../docs/diagnostics-json.md");
const EXAMPLE: &str = "docs/examples/dna-review.pal";

/// `pal check` on the example, as the page's command runs it.
fn check(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pal"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "check",
            "--policy-path",
            "policies",
            EXAMPLE,
            "--format",
            format,
        ])
        .output()
        .expect("pal runs");
    assert_eq!(out.status.code(), Some(1), "the example has an error");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The page shows `text` as a whole fenced block.
fn assert_shown(text: &str, what: &str) {
    let block = format!("\n{}\n```", text.trim_end());
    assert!(
        DOC.contains(&block),
        "docs/diagnostics-json.md does not show this {what}:\n{text}"
    );
}

#[test]
fn the_page_shows_the_example_policy() {
    let source =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
            .expect("the example exists");
    assert_shown(&source, "policy");
}

#[test]
fn the_page_shows_real_output_in_every_format() {
    for format in ["human", "short", "json", "github"] {
        assert_shown(&check(format), &format!("`--format {format}` output"));
    }
    let json: serde_json::Value = serde_json::from_str(&check("json")).expect("JSON");
    let (_, after) = DOC
        .split_once("pretty-printed here for reading:\n\n```json\n")
        .expect("the page has a pretty-printed document");
    let (pretty, _) = after.split_once("\n```").expect("the block ends");
    let shown: serde_json::Value = serde_json::from_str(pretty).expect("the page's JSON parses");
    assert_eq!(
        shown, json,
        "the pretty-printed document is not the real one"
    );
    // The example exercises what the field tables describe: an error and a warning, a label
    // in another file, and a did-you-mean.
    assert_eq!(json["summary"]["errors"], 1);
    assert_eq!(json["summary"]["warnings"], 1);
    assert!(check("json").contains("policies/national/schema.pal"));
}

#[test]
fn the_page_shows_the_empty_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_pal"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "policies/", "--format", "json"])
        .output()
        .expect("pal runs");
    assert_eq!(out.status.code(), Some(0));
    assert_shown(
        &String::from_utf8_lossy(&out.stdout),
        "JSON document without diagnostics",
    );
}
