//! The language server's response time: from a `textDocument/didChange` on `policies/rde.pal`
//! (the national files behind it) to the `textDocument/publishDiagnostics` it causes, measured
//! as an editor sees it — the real `pal lsp` process, JSON-RPC over pipes. Each change
//! alternately misspells and restores one event name, so every round is a full re-analysis
//! (load through `extends`/`import`, check, index) and the diagnostics alternate between one
//! error and none. Also times the engine's share alone (`ide::Workspace::analyze`, in process).
//!
//! `cargo bench --bench lsp_response [-- ROUNDS]`; the figures are in BENCHMARKS.md.

#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{uri, Client};
use pal_engine::ide::Workspace;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<44} n={:<4} median {:>6.2} ms   p95 {:>6.2} ms   min {:>6.2} ms   max {:>6.2} ms",
        times.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a number is the rounds.
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let rde = root.join("policies/rde.pal");
    let rde_uri = uri(&rde);
    let text = std::fs::read_to_string(&rde).expect("policies/rde.pal");
    let needle = "  on active_monitoring_started";
    let line = text[..text.find(needle).expect("the trigger")]
        .matches('\n')
        .count();
    let range = |len: usize| json!({"start": {"line": line, "character": 0}, "end": {"line": line, "character": len}});

    // The engine alone.
    let mut w = Workspace::new(&root, &[]);
    let broken = text.replacen(needle, "  on active_monitoring_startd", 1);
    let mut engine = Vec::new();
    for i in 0..rounds {
        let t = if i % 2 == 0 { &broken } else { &text };
        let start = Instant::now();
        w.set_text(&rde, t.clone());
        let a = w.analyze(&rde);
        std::hint::black_box(a.diagnostics_for(&rde).len());
        engine.push(start.elapsed());
    }

    // The server, as an editor sees it.
    let mut c = Client::start(Path::new(env!("CARGO_BIN_EXE_pal")), &root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&root), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": rde_uri, "languageId": "pal", "version": 1, "text": text}}),
    );
    assert!(c.diagnostics(&rde_uri).is_empty(), "rde.pal has findings");
    let mut server = Vec::new();
    let mut current_len = needle.len();
    for i in 0..rounds {
        let new_line = if i % 2 == 0 {
            "  on active_monitoring_startd"
        } else {
            needle
        };
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": rde_uri, "version": i + 2},
                   "contentChanges": [{"range": range(current_len), "text": new_line}]}),
        );
        let diags: Vec<Value> = c.diagnostics(&rde_uri);
        server.push(start.elapsed());
        assert_eq!(diags.len(), usize::from(i % 2 == 0), "round {i}: {diags:?}");
        current_len = new_line.len();
    }
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    drop(c.stdin.take());
    let _ = c.child.wait();

    // Even rounds leave one error (no policy is compiled), odd ones a clean policy.
    let split = |v: &[Duration], parity: usize| -> Vec<Duration> {
        v.iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, d)| *d)
            .collect()
    };
    summary("engine: set_text + analyze (rde.pal)", engine.clone());
    summary("  of which: the change leaves an error", split(&engine, 0));
    summary("  of which: the change leaves it clean", split(&engine, 1));
    summary("pal lsp: didChange → publishDiagnostics", server.clone());
    summary("  of which: the change leaves an error", split(&server, 0));
    summary("  of which: the change leaves it clean", split(&server, 1));
}
