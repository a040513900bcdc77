//! Golden tests for every diagnostic code: each fixture under `tests/diagnostics/` names the
//! code it must produce on its first line (`// expect: E0102`); its rendered output (human and
//! short forms) is a reviewed snapshot in `tests/snapshots/`. Review changes with
//! `cargo insta review`, or accept them with `INSTA_UPDATE=always cargo test`.

use pal_engine::base::diagnostic::CODES;
use pal_engine::io::render::{render, Format};
use pal_engine::services::project::check_paths;
use std::path::{Path, PathBuf};

fn expected_code(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .map(|c| c.trim().to_string())
        .unwrap_or_else(|| panic!("{} has no `// expect:` line", path.display()))
}

#[test]
fn every_fixture_reports_its_code_and_matches_its_snapshot() {
    insta::glob!("diagnostics/*.pal", |path| {
        let rel = PathBuf::from("tests/diagnostics").join(path.file_name().unwrap_or_default());
        let run = check_paths(std::slice::from_ref(&rel));
        let code = expected_code(path);
        assert!(
            run.diagnostics.iter().any(|d| d.code.as_str() == code),
            "{} should report {code}, got {:?}",
            rel.display(),
            run.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        let human = render(&run.diagnostics, &run.sources, Format::Human, false);
        let short = render(&run.diagnostics, &run.sources, Format::Short, false);
        insta::assert_snapshot!(format!("{human}\n--- short ---\n{short}"));
    });
}

#[test]
fn every_code_has_a_fixture() {
    let names: Vec<String> = std::fs::read_dir("tests/diagnostics")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for c in CODES {
        assert!(
            names.iter().any(|n| n.starts_with(c.code.as_str())),
            "no fixture for {}",
            c.code
        );
    }
}
