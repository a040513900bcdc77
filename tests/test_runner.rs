//! `pal test` as authors and CI see it: a failing scenario in human, JSON and JUnit form
//! (snapshots), each pointing at the failing `expect`'s own line; "no tests found" is a finding.

use std::process::Command;

fn pal(args: &[&str]) -> (i32, String, String) {
    let o = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const FILE: &str = "tests/test_runner/failing.pal";

#[test]
fn a_failing_test_in_human_form() {
    let (code, out, _) = pal(&["test", FILE]);
    assert_eq!(code, 1);
    assert!(
        out.contains("failing.pal:22: expect rtt stopped on 2025-03-04"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn a_failing_test_with_its_trace() {
    let (code, out, _) = pal(&["test", FILE, "--verbose", "--filter", "wrong"]);
    assert_eq!(code, 1);
    assert!(out.contains("trace:"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_failing_test_in_json_form() {
    let (code, out, _) = pal(&["test", FILE, "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    let lines: Vec<u64> = v["tests"][1]["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["line"].as_u64())
        .collect();
    assert_eq!(lines, [22, 23]);
    insta::assert_snapshot!(out);
}

#[test]
fn a_failing_test_in_junit_form_has_one_failure_element() {
    let (code, out, _) = pal(&["test", FILE, "--format", "junit"]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("<failure ").count(), 1, "{out}");
    assert_eq!(out.matches("<testcase ").count(), 2, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn no_tests_found_is_a_finding() {
    let (code, _, err) = pal(&["test", "tests/diagnostics/W0004_possible_conflict.pal"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no tests found"), "{err}");
    let (code, _, err) = pal(&["test", FILE, "--filter", "no such test"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no test name contains `no such test`"),
        "{err}"
    );
}

#[test]
fn coverage_is_per_file_not_summed_over_the_folder() {
    let (_, out, _) = pal(&["test", FILE, "--coverage"]);
    assert!(out.contains("failing.pal: 3 of 3 rules"), "{out}");
    let (_, out, _) = pal(&["test", FILE, "--coverage", "--filter", "treatment stops"]);
    assert!(out.contains("failing.pal: 2 of 3 rules"), "{out}");
    assert!(out.contains("not exercised: dna_review"), "{out}");
    // The parameter only `dna_review` reads is exercised only when that rule fires.
    assert!(
        out.contains("(read by a rule that fired, or set): review_within"),
        "{out}"
    );
    let (_, out, _) = pal(&["test", FILE, "--coverage"]);
    assert!(!out.contains("review_within"), "{out}");
}

/// `untested-rule` (W0007) counts the tests under the folder of the file that declares a rule,
/// so whichever paths are checked, the same rules are reported: the folder, the policy alone,
/// or one test file alone.
#[test]
fn untested_rule_does_not_depend_on_the_paths_checked() {
    let runs: [&[&str]; 3] = [
        &["check", "tests/untested/", "--format", "short"],
        &["check", "tests/untested/policy.pal", "--format", "short"],
        &[
            "check",
            "--policy-path",
            "tests/untested",
            "tests/untested/tests/start.pal",
            "--format",
            "short",
        ],
    ];
    for args in runs {
        let (code, out, _) = pal(args);
        assert_eq!(code, 0, "warnings only: {out}");
        let w0007: Vec<&str> = out.lines().filter(|l| l.contains("W0007")).collect();
        assert_eq!(
            w0007,
            ["tests/untested/policy.pal:9:6: warning[W0007]: rule `first_dna` is not exercised by any test"],
            "pal {}",
            args.join(" ")
        );
    }
}
