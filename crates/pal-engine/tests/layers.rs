//! The architecture's invariants, held: each layer of the engine imports only the layers below
//! it (ARCHITECTURE.md, "Layers"), and the pure layers touch no files, network, environment or
//! clock. Reads every source file's `crate::…` paths (outside `#[cfg(test)]` code).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each layer and the layers it may use (besides itself).
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &[]),
    ("model", &["base"]),
    ("syntax", &["base"]),
    ("front", &["base", "model", "syntax"]),
    ("runtime", &["base", "model"]),
    ("io", &["base", "model", "runtime"]),
    (
        "services",
        &["base", "model", "syntax", "front", "runtime", "io"],
    ),
    (
        "ide",
        &[
            "base", "model", "syntax", "front", "runtime", "io", "services",
        ],
    ),
];

/// Layers that do no input or output and read no clock: the same inputs give the same answer.
const PURE: &[&str] = &["base", "model", "syntax", "runtime"];

/// What a pure layer must not name.
const IMPURE: &[&str] = &[
    "std::fs",
    "std::io",
    "std::net",
    "std::env",
    "std::process",
    "SystemTime",
    "Instant",
    "Local::now",
    "Utc::now",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display())
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its test module (or nothing, for a file that is a test module,
/// `#![cfg(test)]`) and without comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]").or(text.find("#![cfg(test)]")) {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) => &l[..at],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules (`crate::X`) a piece of code names.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `pal_crate::`, not `crate::`
        }
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// Every forbidden edge and impurity in the layer `layer`'s code `code` (from `file`).
fn violations(layer: &str, file: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, allowed)) = LAYERS.iter().find(|(l, _)| *l == layer) else {
        return vec![format!(
            "{file}: `{layer}` is not a layer of ARCHITECTURE.md"
        )];
    };
    for used in crate_paths(code) {
        if used != layer && !allowed.contains(&used.as_str()) {
            out.push(format!("{file}: layer `{layer}` uses `crate::{used}`"));
        }
    }
    if PURE.contains(&layer) {
        for bad in IMPURE {
            if code.contains(bad) {
                out.push(format!("{file}: pure layer `{layer}` uses `{bad}`"));
            }
        }
    }
    out
}

#[test]
fn layers_depend_only_downwards_and_the_pure_ones_do_no_io() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    let mut seen_layers = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap_or(f);
        let mut parts = rel.components();
        let first = parts
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        if first == "lib.rs" {
            continue;
        }
        let layer = first.trim_end_matches(".rs").to_string();
        seen_layers.insert(layer.clone());
        let text = std::fs::read_to_string(f).unwrap_or_default();
        problems.extend(violations(&layer, &rel.display().to_string(), &code(&text)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let declared: BTreeSet<String> = LAYERS.iter().map(|(l, _)| l.to_string()).collect();
    assert_eq!(seen_layers, declared, "every folder under src/ is a layer");
}

/// The checker itself catches what it is for (so the test above cannot pass vacuously).
#[test]
fn the_layer_check_catches_a_forbidden_edge_and_io() {
    let cases: &[(&str, &str, usize)] = &[
        (
            "runtime",
            "use crate::model::ir::Policy;\nuse crate::base::value::Value;",
            0,
        ),
        ("runtime", "use crate::io::report::write_jsonl;", 1),
        ("runtime", "fn f() { let _ = std::fs::read(\"x\"); }", 1),
        (
            "runtime",
            "fn f() { let _ = std::time::Instant::now(); }",
            1,
        ),
        ("model", "use crate::syntax::ast::BinOp;", 1),
        ("base", "use crate::model::schema::Schema;", 1),
        ("io", "use crate::services::batch;", 1),
        (
            "services",
            "use crate::front::check; use crate::io::events;",
            0,
        ),
        (
            "runtime",
            "// use crate::io::events;\nuse crate::model::ir::Expr;",
            0,
        ),
        (
            "front",
            "use pal_crate::io::x; use crate::model::ir::Expr;",
            0,
        ),
    ];
    for (layer, code_text, expected) in cases {
        let found = violations(layer, "x.rs", &code(code_text));
        assert_eq!(found.len(), *expected, "{layer}: {code_text}: {found:?}");
    }
}

/// The engine crate depends on none of the command line's crates.
#[test]
fn the_engine_depends_on_no_front_end_crate() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .unwrap_or_default();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap_or_default();
    for banned in [
        "clap",
        "rustyline",
        "indicatif",
        "rand",
        "mimalloc",
        "miette",
    ] {
        assert!(
            !deps
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{banned} "))
                    || l.trim_start().starts_with(&format!("{banned}="))),
            "the engine depends on `{banned}`"
        );
    }
}
