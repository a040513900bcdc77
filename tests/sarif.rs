//! `pal check --format sarif` and `--sarif FILE`: valid SARIF 2.1.0 (checked against the
//! OASIS schema shipped in `tests/sarif/`), a rule for every code, a result per finding with a
//! repository-relative location and a stable fingerprint.

use std::process::Command;

fn pal(args: &[&str]) -> std::process::Output {
    match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    }
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string("tests/sarif/sarif-schema-2.1.0.json").unwrap_or_default();
    let schema: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("the shipped schema is not JSON: {e}"),
    };
    match jsonschema::draft7::new(&schema) {
        Ok(v) => v,
        Err(e) => panic!("the shipped schema does not compile: {e}"),
    }
}

fn sarif_of(args: &[&str]) -> serde_json::Value {
    let o = pal(args);
    match serde_json::from_slice(&o.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)),
    }
}

#[test]
fn every_fixture_gives_valid_sarif_with_one_result_per_finding() {
    let validator = schema();
    let log = sarif_of(&["check", "--format", "sarif", "tests/diagnostics/"]);
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(
        !validator.is_valid(&broken),
        "the validator must reject a bad level"
    );
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), pal_engine::base::diagnostic::CODES.len());
    let results = run["results"].as_array().cloned().unwrap_or_default();
    let short = pal(&["check", "--format", "short", "tests/diagnostics/"]);
    let findings = String::from_utf8_lossy(&short.stdout)
        .lines()
        .filter(|l| l.contains("[E") || l.contains("[W"))
        .count();
    assert_eq!(results.len(), findings);
    for r in &results {
        let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(
            rules.get(index).map(|x| &x["id"]),
            Some(&r["ruleId"]),
            "{r}"
        );
        assert!(
            r["partialFingerprints"]["palFingerprint/v1"].is_string(),
            "{r}"
        );
        if let Some(loc) = r["locations"].get(0) {
            let artifact = &loc["physicalLocation"]["artifactLocation"];
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
            assert!(
                artifact["uri"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("tests/diagnostics/")),
                "{artifact}"
            );
        }
    }
    // Same input, same log: fingerprints and order are stable.
    assert_eq!(
        log,
        sarif_of(&["check", "--format", "sarif", "tests/diagnostics/"])
    );
}

#[test]
fn sarif_to_a_file_while_the_terminal_gets_the_human_form() {
    let dir = std::env::temp_dir().join(format!("pal-sarif-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("pal.sarif");
    let file_arg = file.display().to_string();
    let o = pal(&[
        "check",
        "tests/diagnostics/W0004_possible_conflict.pal",
        "--sarif",
        &file_arg,
    ]);
    let human = String::from_utf8_lossy(&o.stdout);
    assert!(human.contains("warning[W0004]"), "{human}");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let log: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert!(schema().is_valid(&log));
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "W0004");
    assert_eq!(log["runs"][0]["results"][0]["level"], "warning");
    let _ = std::fs::remove_dir_all(&dir);
}
