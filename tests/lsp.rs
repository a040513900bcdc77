//! `pal lsp` as an editor drives it: the real binary started as a process, JSON-RPC over its
//! standard input and output. Initialize; open `policies/rde.pal` (no diagnostics); misspell an
//! event on a line with non-ASCII text before it (the error, its UTF-16 range, a quick fix);
//! hover a parameter; go to definitions in the national files; complete after `event.`;
//! format; run a test from its code lens; shut down and exit with code 0.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{uri, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The (line, UTF-16 column) of the `n`th occurrence of `needle` in `text`, plus `at` chars.
fn position(text: &str, needle: &str, at: usize) -> Value {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + at;
    let line = text[..offset].matches('\n').count();
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col: usize = text[start..offset].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": col})
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn an_editor_session_over_stdio() {
    let root = root();
    let rde = root.join("policies/rde.pal");
    let rde_uri = uri(&rde);
    let text = std::fs::read_to_string(&rde).expect("policies/rde.pal");
    let mut c = Client::start(Path::new(env!("CARGO_BIN_EXE_pal")), &root);

    let init = c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    let caps = &init["capabilities"];
    for cap in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "completionProvider",
        "documentFormattingProvider",
        "codeActionProvider",
        "codeLensProvider",
        "documentSymbolProvider",
    ] {
        assert!(!caps[cap].is_null(), "{cap} missing from {caps}");
    }
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    c.notify("initialized", json!({}));

    // Open: the shipped policy has no findings.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": rde_uri, "languageId": "pal", "version": 1, "text": text}}),
    );
    assert_eq!(c.diagnostics(&rde_uri), Vec::<Value>::new());

    // Misspell an event, on a line with non-ASCII text (a comment) before the name.
    let line_no = text[..text
        .find("  on active_monitoring_started")
        .expect("the trigger")]
        .matches('\n')
        .count();
    let new_line = "  on /* café £ */ active_monitoring_startd";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rde_uri, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": line_no, "character": 0},
                      "end": {"line": line_no, "character": "  on active_monitoring_started".len()}},
            "text": new_line
        }]}),
    );
    let diags = c.diagnostics(&rde_uri);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let d = &diags[0];
    assert_eq!(d["code"], "E0101");
    assert_eq!(d["severity"], 1);
    assert!(
        d["message"].as_str().is_some_and(|m| m
            .starts_with("unknown event type `active_monitoring_startd`")
            && m.contains("did you mean `active_monitoring_started`?")),
        "{d}"
    );
    // UTF-16 columns: "  on /* café £ */ " is 18 units (20 bytes).
    let range = json!({"start": {"line": line_no, "character": 18},
                       "end": {"line": line_no, "character": 18 + "active_monitoring_startd".len()}});
    assert_eq!(d["range"], range);

    // The quick fix puts the suggestion in its place.
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": rde_uri}, "range": range,
               "context": {"diagnostics": [d]}}),
    );
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["title"], "Change to `active_monitoring_started`");
    let edit = &action["edit"]["changes"][&rde_uri][0];
    assert_eq!(edit["range"], range);
    assert_eq!(edit["newText"], "active_monitoring_started");

    // Apply it (as the editor would): no findings again.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rde_uri, "version": 3},
               "contentChanges": [{"range": range, "text": "active_monitoring_started"}]}),
    );
    assert_eq!(c.diagnostics(&rde_uri), Vec::<Value>::new());
    let current = text.replacen(
        "  on active_monitoring_started",
        "  on /* café £ */ active_monitoring_started",
        1,
    );

    // Hover a parameter: its type, value, citation.
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": rde_uri}, "position": position(&current, "< child_age", 3)}),
    );
    let md = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(md.contains("param child_age: Int"), "{md}");
    assert!(
        md.contains("Declared in this file: `18` (cite \"9.12.3\", \"9.13.2\")"),
        "{md}"
    );
    assert!(md.contains("In effect for policy `rde`: 18"), "{md}");

    // Go to definition: a clock and an event type, declared in the national files.
    for (needle, at, file, name) in [
        ("when rtt.open", 5, "policies/national.pal", "rtt"),
        (
            "on /* café £ */ active_monitoring_started",
            18,
            "policies/national/schema.pal",
            "active_monitoring_started",
        ),
    ] {
        let def = c.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": rde_uri}, "position": position(&current, needle, at)}),
        );
        assert_eq!(def["uri"], uri(&root.join(file)), "{needle}: {def}");
        let target = std::fs::read_to_string(root.join(file)).expect("national file");
        let line = target
            .lines()
            .nth(def["range"]["start"]["line"].as_u64().unwrap_or(0) as usize);
        let (s, e) = (
            def["range"]["start"]["character"].as_u64().unwrap_or(0) as usize,
            def["range"]["end"]["character"].as_u64().unwrap_or(0) as usize,
        );
        assert_eq!(
            line.and_then(|l| l.get(s..e)),
            Some(name),
            "{needle}: {def}"
        );
    }

    // Complete after `event.` in a rule on `dna`, typed at the end of the file.
    let end = current.lines().count();
    let typed = "rule probe on dna when event.";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rde_uri, "version": 4}, "contentChanges": [{
            "range": {"start": {"line": end, "character": 0}, "end": {"line": end, "character": 0}},
            "text": typed
        }]}),
    );
    let _ = c.diagnostics(&rde_uri); // a syntax error while typing
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": rde_uri}, "position": {"line": end, "character": typed.len()}}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(
        labels.contains(&"appointment") && labels.contains(&"communicated"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"rtt"), "{labels:?}");

    // Format: a whole-document edit whose text is the canonical layout.
    let messy = current.replacen(
        "param child_age: Int = 18 cite",
        "param   child_age :Int=18   cite",
        1,
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": rde_uri, "version": 5}, "contentChanges": [{"text": messy}]}),
    );
    assert_eq!(c.diagnostics(&rde_uri), Vec::<Value>::new());
    let edits = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": rde_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let formatted = edits[0]["newText"].as_str().unwrap_or_default();
    assert!(formatted.contains("param child_age: Int = 18 cite \"9.12.3\", \"9.13.2\""));
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );

    // Code lenses over a test file's tests; running one shows its result.
    let dna = root.join("policies/rde/tests_dna.pal");
    let dna_uri = uri(&dna);
    let dna_text = std::fs::read_to_string(&dna).expect("tests_dna.pal");
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": dna_uri, "languageId": "pal", "version": 1, "text": dna_text}}),
    );
    assert_eq!(c.diagnostics(&dna_uri), Vec::<Value>::new());
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": dna_uri}}),
    );
    let tests = dna_text.matches("\ntest \"").count();
    assert_eq!(lenses.as_array().map(Vec::len), Some(tests), "{lenses}");
    let lens = &lenses[0]["command"];
    assert_eq!(lens["command"], "pal.runTests");
    let ran = c.request(
        "workspace/executeCommand",
        json!({"command": lens["command"], "arguments": lens["arguments"]}),
    );
    assert_eq!(ran["passed"], 1, "{ran}");
    assert_eq!(ran["failed"], 0, "{ran}");
    let shown = c.message();
    assert!(
        shown["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 passed, 0 failed")),
        "{shown}"
    );
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": dna_uri}}),
    );
    assert_eq!(lenses[0]["command"]["title"], "▶ Run again (✓ 1 passed)");

    // Shut down cleanly.
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    let status = c.child.wait().expect("the server exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_exit_code_1() {
    let root = root();
    let mut c = Client::start(Path::new(env!("CARGO_BIN_EXE_pal")), &root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    let status = c.child.wait().expect("the server exits");
    assert_eq!(status.code(), Some(1));
}
