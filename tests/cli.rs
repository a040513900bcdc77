//! CLI tests: run the `pal` binary as a user would and check exit codes and output. Rendered
//! output is compared with reviewed insta snapshots.

use serde_json::Value;
use std::process::{Command, Output};

fn pal(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn check_passes_on_the_shipped_policies() {
    let o = pal(&["check", "policies/"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn check_reports_a_misspelled_field_with_location_and_suggestion() {
    let o = pal(&[
        "check",
        "tests/diagnostics/E0102_unknown_field.pal",
        "--format",
        "short",
    ]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(
        out.contains("tests/diagnostics/E0102_unknown_field.pal:5:14: error[E0102]"),
        "{out}"
    );
    let o = pal(&["check", "tests/diagnostics/E0102_unknown_field.pal"]);
    assert!(
        stdout(&o).contains("did you mean `appointment`?"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_json_is_versioned_and_complete() {
    let o = pal(&[
        "check",
        "tests/diagnostics/E0102_unknown_field.pal",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap_or(Value::Null);
    assert_eq!(doc["version"], 1, "{doc}");
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E0102");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 5);
    assert_eq!(d["column"], 14);
    assert_eq!(doc["summary"]["errors"], 1);
}

#[test]
fn check_github_format_annotates() {
    let o = pal(&[
        "check",
        "tests/diagnostics/W0001_missing_citation.pal",
        "--format",
        "github",
    ]);
    assert!(
        stdout(&o)
            .starts_with("::warning file=tests/diagnostics/W0001_missing_citation.pal,line=3"),
        "{}",
        stdout(&o)
    );
    assert_eq!(code(&o), 0);
    let o = pal(&[
        "check",
        "tests/diagnostics/W0001_missing_citation.pal",
        "--deny-warnings",
    ]);
    assert_eq!(code(&o), 1);
}

#[test]
fn exit_codes_distinguish_usage_and_unreadable_input() {
    assert_eq!(code(&pal(&["check", "no/such/file.pal"])), 3);
    assert_eq!(
        code(&pal(&["check", "tests/diagnostics/E0002_not_utf8.pal"])),
        3
    );
    assert_eq!(code(&pal(&["check", "--format", "bogus", "policies/"])), 2);
    assert_eq!(code(&pal(&["frobnicate"])), 2);
    assert_eq!(
        code(&pal(&[
            "run",
            "policies/national.pal",
            "--events",
            "tests/fixtures/primer_examples.csv",
            "--as-at",
            "2025-13-01"
        ])),
        2
    );
    assert_eq!(
        code(&pal(&[
            "run",
            "policies/national.pal",
            "--events",
            "no/such.csv",
            "--as-at",
            "2025-03-31"
        ])),
        3
    );
}

#[test]
fn explain_code_explains() {
    let o = pal(&["explain-code", "E0203"]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!(stdout(&o));
    assert_eq!(code(&pal(&["explain-code", "E9999"])), 2);
}

/// Runs a policy over a file and returns the JSON object per pathway.
fn run_jsonl(policy: &str, events: &str, as_at: &str, extra: &[&str]) -> (Vec<Value>, Output) {
    let mut args = vec!["run", policy, "--events", events, "--as-at", as_at];
    args.extend_from_slice(extra);
    let o = pal(&args);
    let rows = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    (rows, o)
}

fn pathway<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["pathway_id"] == id)
        .unwrap_or_else(|| panic!("no pathway {id}"))
}

fn period<'a>(r: &'a Value, clock: &str, n: u64) -> &'a Value {
    r["clocks"]
        .as_array()
        .and_then(|c| c.iter().find(|p| p["clock"] == clock && p["period"] == n))
        .unwrap_or_else(|| panic!("no {clock} period {n} in {r}"))
}

#[test]
fn the_primer_worked_examples_through_pal_run() {
    let (rows, o) = run_jsonl(
        "policies/national.pal",
        "tests/fixtures/primer_examples.csv",
        "2025-03-31",
        &[],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // R01 at 31 March: still waiting (treatment on 28 April is not yet known): 84 days.
    let p = period(pathway(&rows, "R01"), "rtt", 1);
    assert_eq!(p["status"], "running");
    assert_eq!(p["days_waited"], 84);
    assert_eq!(p["target_date"], "2025-05-12");
    // R02: e-RS starts at UBRN conversion: 80 days at 31 March.
    let p = period(pathway(&rows, "R02"), "rtt", 1);
    assert_eq!(
        (p["start"].as_str(), p["days_waited"].as_i64()),
        (Some("2025-01-10"), Some(80))
    );
    // R08: nullified, then clock 2 from the rebooking: 39 days, target 26 June.
    let r = pathway(&rows, "R08");
    let p1 = period(r, "rtt", 1);
    assert_eq!(
        (p1["status"].as_str(), p1["days_waited"].is_null()),
        (Some("nullified"), true)
    );
    let p2 = period(r, "rtt", 2);
    assert_eq!(
        (p2["start"].as_str(), p2["days_waited"].as_i64()),
        (Some("2025-02-20"), Some(39))
    );
    assert_eq!(p2["target_date"], "2025-06-26");
    // R27 at 31 March: first eye 56 days; second eye not yet fit.
    let p = period(pathway(&rows, "R27"), "rtt", 1);
    assert_eq!(p["days_waited"], 56);
    // C01: FDS 21 days, met; 62-day pathway ended; RTT continues.
    let r = pathway(&rows, "C01");
    assert_eq!(period(r, "cancer_fds", 1)["days_waited"], 21);
    assert_eq!(period(r, "cancer_62", 1)["status"], "nullified");
    assert_eq!(period(r, "rtt", 1)["status"], "running");
    // C03: reset to 16 January: FDS 25 days; 62-day 57 days; RTT not nullified.
    let r = pathway(&rows, "C03");
    assert_eq!(period(r, "cancer_fds", 1)["days_waited"], 25);
    assert_eq!(period(r, "cancer_62", 1)["days_waited"], 57);
    assert_eq!(period(r, "rtt", 1)["start"], "2025-01-06");
    // C05: 14 paused days: 62-day 59, 31-day 14; RTT 73 with no pause.
    let r = pathway(&rows, "C05");
    assert_eq!(period(r, "cancer_62", 1)["days_waited"], 59);
    assert_eq!(period(r, "cancer_62", 1)["paused_days"], 14);
    assert_eq!(period(r, "cancer_31", 1)["days_waited"], 14);
    assert_eq!(period(r, "rtt", 1)["days_waited"], 73);
    // Events after the as-at date are not yet known (R17's treatment in October).
    let p = period(pathway(&rows, "R17"), "rtt", 1);
    assert_eq!(p["days_waited"], 28);
    assert!(
        stderr(&o).contains("after the as-at date"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn later_primer_examples_at_their_own_dates() {
    let (rows, _) = run_jsonl(
        "policies/national.pal",
        "tests/fixtures/primer_examples.csv",
        "2025-10-31",
        &[],
    );
    // R01: stopped on day 112 (16 weeks); last compliant day 12 May.
    let p = period(pathway(&rows, "R01"), "rtt", 1);
    assert_eq!(p["stop"], "2025-04-28");
    assert_eq!(
        (p["days_waited"].as_i64(), p["weeks_waited"].as_i64()),
        (Some(112), Some(16))
    );
    assert_eq!(p["target_date"], "2025-05-12");
    assert_eq!(p["breached"], false);
    let r = pathway(&rows, "R17");
    assert_eq!(period(r, "rtt", 1)["days_waited"], 28);
    let p2 = period(r, "rtt", 2);
    assert_eq!(
        (p2["start"].as_str(), p2["days_waited"].as_i64()),
        (Some("2025-08-04"), Some(70))
    );
    let r = pathway(&rows, "R11");
    let p = period(r, "rtt", 1);
    assert_eq!(
        (
            p["stop"].as_str(),
            p["days_waited"].as_i64(),
            p["breached"].as_bool()
        ),
        (Some("2025-05-19"), Some(133), Some(true))
    );
    let r = pathway(&rows, "R27");
    let p2 = period(r, "rtt", 2);
    assert_eq!(
        (p2["start"].as_str(), p2["days_waited"].as_i64()),
        (Some("2025-04-14"), Some(56))
    );
    // R34 thresholds.
    for (as_at, days, breached) in [("2024-05-08", 126, false), ("2024-05-09", 127, true)] {
        let (rows, _) = run_jsonl(
            "policies/national.pal",
            "tests/fixtures/primer_examples.csv",
            as_at,
            &[],
        );
        let p = period(pathway(&rows, "R34"), "rtt", 1);
        assert_eq!(
            (p["days_waited"].as_i64(), p["breached"].as_bool()),
            (Some(days), Some(breached)),
            "{as_at}"
        );
    }
}

#[test]
fn rejected_rows_are_reported_with_lines_and_good_rows_still_evaluated() {
    let (rows, o) = run_jsonl(
        "policies/national.pal",
        "tests/fixtures/bad_rows.csv",
        "2025-03-31",
        &[],
    );
    assert_eq!(code(&o), 0);
    let err = stderr(&o);
    for needle in [
        "tests/fixtures/bad_rows.csv:3:",
        "2025-02-30",
        "tests/fixtures/bad_rows.csv:4:",
        "dnaa",
        "tests/fixtures/bad_rows.csv:5:",
        "on_the_day",
        "tests/fixtures/bad_rows.csv:6:",
        "pathway_id",
        "tests/fixtures/bad_rows.csv:7:",
        "frist",
        "9 rows read, 3 evaluated, 5 rejected, 1 after the as-at date",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert_eq!(rows.len(), 2);
    assert_eq!(period(pathway(&rows, "P1"), "rtt", 1)["status"], "running");
    assert_eq!(period(pathway(&rows, "P2"), "rtt", 1)["status"], "running");
    let strict = pal(&[
        "run",
        "policies/national.pal",
        "--events",
        "tests/fixtures/bad_rows.csv",
        "--as-at",
        "2025-03-31",
        "--strict",
    ]);
    assert_eq!(code(&strict), 1);
    assert!(stderr(&strict).contains(":3:"), "{}", stderr(&strict));
}

#[test]
fn output_is_identical_across_runs_and_thread_counts() {
    let args = |threads: &'static str| {
        [
            "run",
            "policies/national.pal",
            "--events",
            "tests/fixtures/primer_examples.csv",
            "--as-at",
            "2025-12-31",
            "--threads",
            threads,
        ]
    };
    let a = pal(&args("1"));
    let b = pal(&args("2"));
    let c = pal(&args("2"));
    assert_eq!(code(&a), 0);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(b.stdout, c.stdout);
}

/// Issue 19: the same input twice, and with 1, 2 and 8 threads, whole and streaming, CSV and
/// JSON Lines, gives identical results, PTL, summary and stderr (rejections and account).
#[test]
fn everything_a_run_writes_is_identical_whatever_the_threads_and_reading() {
    let dir = std::env::temp_dir().join(format!("pal-determinism-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    // Rejections of every kind, including several undeclared keys in one row (item 7).
    let jsonl_extra = dir.join("extra.jsonl");
    let mut text = std::fs::read_to_string("examples/events.jsonl").unwrap_or_default();
    text.push_str("{\"pathway_id\":\"Z1\",\"date\":\"2025-01-06\",\"event\":\"referral_received\",\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4}\n");
    let _ = std::fs::write(&jsonl_extra, text);
    let jsonl_extra = jsonl_extra.display().to_string();
    for events in ["examples/events.csv", jsonl_extra.as_str()] {
        let mut first: Option<(String, String, String, String)> = None;
        // (threads, streaming, round, the PTL's memory in MiB: 0 spills every row)
        for (threads, streaming, round, memory) in [
            ("1", false, 0, "64"),
            ("1", false, 1, "64"),
            ("2", false, 0, "64"),
            ("8", false, 0, "64"),
            ("2", false, 0, "0"),
            ("1", true, 0, "64"),
            ("2", true, 0, "64"),
            ("8", true, 0, "64"),
            ("8", true, 1, "64"),
            ("1", true, 0, "0"),
        ] {
            let out = dir.join("results.jsonl").display().to_string();
            let ptl = dir.join("ptl.csv").display().to_string();
            let mut args = vec![
                "run",
                "policies/rde.pal",
                "--events",
                events,
                "--as-at",
                "2025-03-31",
                "-o",
                &out,
                "--ptl",
                &ptl,
                "--summary",
                "--threads",
                threads,
                "--ptl-memory",
                memory,
            ];
            if streaming {
                args.push("--streaming");
            }
            let o = pal(&args);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            // Spilled runs are gone with the run: only the two outputs are left.
            let mut left: Vec<String> = std::fs::read_dir(&dir)
                .map(|r| {
                    r.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            left.sort();
            assert_eq!(left, ["extra.jsonl", "ptl.csv", "results.jsonl"]);
            let got = (
                std::fs::read_to_string(&out).unwrap_or_default(),
                std::fs::read_to_string(&ptl).unwrap_or_default(),
                stdout(&o),
                stderr(&o),
            );
            assert!(got.3.contains("rejected: "), "{}", got.3);
            match &first {
                None => first = Some(got),
                Some(f) => {
                    let what = format!(
                        "{events}, {threads} threads, streaming {streaming}, run {round}, {memory} MiB"
                    );
                    assert_eq!(f.0, got.0, "results differ: {what}");
                    assert_eq!(f.1, got.1, "PTL differs: {what}");
                    assert_eq!(f.2, got.2, "summary differs: {what}");
                    assert_eq!(f.3, got.3, "stderr differs: {what}");
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PTL that must spill where it cannot (the system's temporary folder is missing, and the list
/// goes to a device, so not beside a file) ends the run with exit 3 and a message naming the
/// folder, and the results file is not written.
#[test]
fn a_ptl_that_cannot_spill_fails_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("pal-spill-fails-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let missing = dir.join("no-such-folder");
    let out = dir.join("results.jsonl");
    for streaming in [false, true] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pal"));
        command.args([
            "run",
            "policies/rde.pal",
            "--events",
            "examples/events.csv",
            "--as-at",
            "2025-03-31",
            "--ptl",
            "/dev/null",
            "--ptl-memory",
            "0",
            "-o",
        ]);
        command.arg(&out).env("TMPDIR", &missing);
        if streaming {
            command.arg("--streaming");
        }
        let o = match command.output() {
            Ok(o) => o,
            Err(e) => panic!("cannot run pal: {e}"),
        };
        assert_eq!(code(&o), 3, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("cannot spill sorted rows")
                && err.contains(&missing.display().to_string()),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|r| r.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn summary_and_ptl() {
    let dir = std::env::temp_dir().join(format!("pal-ptl-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let ptl = dir.join("ptl.csv");
    let ptl_s = ptl.display().to_string();
    let o = pal(&[
        "run",
        "policies/national.pal",
        "--events",
        "tests/fixtures/primer_examples.csv",
        "--as-at",
        "2025-03-31",
        "--summary",
        "--format",
        "table",
        "--ptl",
        &ptl_s,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
    let text = std::fs::read_to_string(&ptl).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(
            "pathway_id,priority,specialty,clock,status,clock_start,weeks_waited,days_waited"
        ),
        "{text}"
    );
    // Earliest breach first: R34 (started January 2024, breached in May 2024).
    assert!(
        lines[1].starts_with("R34,routine,,rtt,running,2024-01-03,64,453,>64-65,2024-05-09,true"),
        "{text}"
    );
}

/// Runs `pal run policies/rde.pal` on the PTL fixture at 2025-03-31 with `extra` arguments and
/// returns (stdout, the PTL file's text).
fn ptl_run(extra: &[&str]) -> (Output, String) {
    let dir = std::env::temp_dir().join(format!(
        "pal-ptl-golden-{}-{}",
        std::process::id(),
        extra.join("_").replace(['/', ','], "_")
    ));
    let _ = std::fs::create_dir_all(&dir);
    let ptl = dir.join("ptl.csv").display().to_string();
    let mut args = vec![
        "run",
        "policies/rde.pal",
        "--events",
        "tests/fixtures/ptl.csv",
        "--as-at",
        "2025-03-31",
        "--ptl",
        &ptl,
    ];
    args.extend_from_slice(extra);
    let o = pal(&args);
    let text = std::fs::read_to_string(&ptl).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (o, text)
}

/// The PTL a meeting works down (tests/fixtures/ptl.csv, worked out by hand):
/// - C03 (referred 2024-03-01) breached on 2024-07-06 (day 127) and is over 52 weeks since
///   2025-03-01; its TCI of 2024-12-10 was cancelled by the hospital and rebooked for
///   2025-04-20; it also cancelled a follow-up. No obligation is outstanding.
/// - A01 (referred 2025-01-05) breaches on 2025-05-12; it was never graded, so its next action
///   is the grading due 2025-01-10 (5 working days), OVERDUE; one DNA; booked for 2025-04-14.
/// - E05 (referred 2025-02-03) was graded late (met late: not an action); the outcome of its
///   2025-03-03 clinic was due 2025-03-04 and is overdue.
/// - B02 (referred 2025-03-27, urgent CAS) must be graded by 2025-04-03: open, not overdue.
/// - D04 was treated: not on the list.
///
/// Order: breach date, then longest wait.
#[test]
fn ptl_lists_open_pathways_by_breach_date_with_the_next_action() {
    let (o, text) = ptl_run(&[
        "--ptl-columns",
        "specialty,priority,vulnerable",
        "-o",
        "/dev/null",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(text);
    let lines: Vec<&str> = text.lines().collect();
    let ids: Vec<&str> = lines[1..]
        .iter()
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids, ["C03", "A01", "E05", "B02"], "{text}");
    assert!(
        lines[2].contains(",referral_graded,overdue,2025-01-10,paper_referral_grading,"),
        "{text}"
    );
}

#[test]
fn ptl_horizon_keeps_who_breaches_within_it() {
    // 2025-03-31 + 6 weeks = 2025-05-12: A01 breaches that very day and stays; E05 (June) and
    // B02 (August) go; C03 has breached already and stays.
    let (o, text) = ptl_run(&["--horizon", "6w", "-o", "/dev/null"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids, ["C03", "A01"], "{text}");
    // One day less and A01 goes too.
    let (_, text) = ptl_run(&["--horizon", "41d", "-o", "/dev/null"]);
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(ids, ["C03"], "{text}");
}

#[test]
fn ptl_unknown_clock_or_column_is_a_usage_error_with_did_you_mean() {
    let (o, text) = ptl_run(&["--ptl-clock", "rt", "-o", "/dev/null"]);
    assert_eq!(code(&o), 2);
    assert!(text.is_empty(), "no PTL is written: {text}");
    assert_eq!(
        stderr(&o).trim(),
        "error: --ptl-clock: the policy has no clock `rt`: did you mean `rtt`?"
    );
    let (o, _) = ptl_run(&["--ptl-columns", "specialty,prority", "-o", "/dev/null"]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o).trim(),
        "error: --ptl-columns: the policy has no pathway attribute `prority`: did you mean `priority`?"
    );
    let (o, _) = ptl_run(&["--horizon", "soon", "-o", "/dev/null"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("is not a horizon"), "{}", stderr(&o));
}

#[test]
fn results_carry_typed_attributes_and_met_late_is_not_open() {
    let o = pal(&[
        "run",
        "policies/rde.pal",
        "--events",
        "tests/fixtures/ptl.csv",
        "--as-at",
        "2025-03-31",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let first: Value = match stdout(&o).lines().next().map(serde_json::from_str) {
        Some(Ok(v)) => v,
        other => panic!("no JSON line: {other:?}"),
    };
    assert_eq!(first["attributes"]["vulnerable"], Value::Bool(false));
    assert_eq!(first["attributes"]["specialty"], Value::from("ent"));
    let csv = pal(&[
        "run",
        "policies/rde.pal",
        "--events",
        "tests/fixtures/ptl.csv",
        "--as-at",
        "2025-03-31",
        "--format",
        "csv",
    ]);
    let csv = stdout(&csv);
    let e05: Vec<&str> = csv.lines().filter(|l| l.starts_with("E05,")).collect();
    // Graded on 2025-02-20, due 2025-02-10: met late, so not among the open obligations.
    assert_eq!(e05.len(), 1);
    assert!(
        e05[0].contains(",rtt_outcome missed 2025-03-04,"),
        "{e05:?}"
    );
    assert!(!e05[0].contains("referral_graded"), "{e05:?}");
}

#[test]
fn summary_in_each_format() {
    let run = |format: Option<&str>| {
        let mut args = vec![
            "run",
            "policies/rde.pal",
            "--events",
            "tests/fixtures/ptl.csv",
            "--as-at",
            "2025-03-31",
            "--summary",
        ];
        if let Some(f) = format {
            args.extend(["--summary-format", f]);
        }
        let o = pal(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
    };
    let table = run(None);
    assert_eq!(table, run(Some("table")), "table is the default");
    insta::assert_snapshot!("summary_table", table);
    let json = run(Some("json"));
    let v: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    assert_eq!(v["clocks"][0]["clock"], "rtt", "{json}");
    insta::assert_snapshot!("summary_json", json);
    let csv = run(Some("csv"));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().map(|h| h.len()).unwrap_or(0);
    let rows: Vec<csv::StringRecord> = reader.records().filter_map(Result::ok).collect();
    assert_eq!(header, 16 + 105, "{csv}");
    assert!(rows.iter().all(|r| r.len() == header), "{csv}");
    assert_eq!(&rows[0][2], "rtt");
    insta::assert_snapshot!("summary_csv", csv);
}

#[test]
fn streaming_gives_the_same_results_ptl_and_summary() {
    let dir = std::env::temp_dir().join(format!("pal-stream-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let run = |streaming: bool, what: &str| {
        let out = dir.join(format!("{what}.jsonl")).display().to_string();
        let ptl = dir.join(format!("{what}.csv")).display().to_string();
        let mut args = vec![
            "run",
            "policies/rde.pal",
            "--events",
            "examples/events.csv",
            "--as-at",
            "2025-03-31",
            "-o",
            &out,
            "--ptl",
            &ptl,
            "--summary",
            "--stats",
        ];
        if streaming {
            args.push("--streaming");
        }
        let o = pal(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let results = std::fs::read_to_string(&out).unwrap_or_default();
        let ptl = std::fs::read_to_string(&ptl).unwrap_or_default();
        (results, ptl, stdout(&o), stderr(&o))
    };
    let whole = run(false, "whole");
    let streamed = run(true, "streamed");
    assert_eq!(whole.0.lines().count(), 300);
    assert_eq!(whole.0, streamed.0);
    assert_eq!(whole.1, streamed.1);
    assert_eq!(whole.2, streamed.2);
    // The six malformed rows of the example are reported either way, with their lines.
    for err in [&whole.3, &streamed.3] {
        assert_eq!(err.matches(": rejected: ").count(), 6, "{err}");
        assert!(err.contains("stats: load"), "{err}");
        assert!(err.contains("peak memory"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streaming_rejects_rows_of_a_pathway_that_come_back() {
    let dir = std::env::temp_dir().join(format!("pal-stream-bad-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let events = dir.join("interleaved.csv");
    let _ = std::fs::write(
        &events,
        "pathway_id,date,event,priority\n\
         A,2025-01-06,referral_received,routine\n\
         B,2025-01-07,referral_received,routine\n\
         A,2025-02-01,treatment_started,\n",
    );
    let events_s = events.display().to_string();
    let base = [
        "run",
        "policies/national.pal",
        "--events",
        &events_s,
        "--as-at",
        "2025-03-01",
    ];
    let streamed = pal(&[&base[..], &["--streaming"]].concat());
    assert_eq!(code(&streamed), 0);
    let err = stderr(&streamed);
    assert!(
        err.contains("interleaved.csv:4: rejected: rows of pathway `A` are not adjacent"),
        "{err}"
    );
    assert!(
        err.contains("3 rows read, 2 evaluated, 1 rejected"),
        "{err}"
    );
    // Without --streaming the rows are grouped and all three are evaluated.
    let whole = pal(&base);
    assert!(
        stderr(&whole).contains("3 rows read, 3 evaluated, 0 rejected"),
        "{}",
        stderr(&whole)
    );
    let strict = pal(&[&base[..], &["--streaming", "--strict"]].concat());
    assert_eq!(code(&strict), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pal explain` for people: descriptions beside rule ids, why a rule did not apply in
/// positive words with values, timers in words, obligations met late with both dates, plurals.
#[test]
fn explain_speaks_to_people() {
    let explain = |pathway: &str, extra: &[&str]| {
        let mut args = vec![
            "explain",
            "policies/rde.pal",
            "--events",
            "tests/fixtures/ptl.csv",
            "--as-at",
            "2025-03-31",
            "--pathway",
            pathway,
        ];
        args.extend_from_slice(extra);
        let o = pal(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
    };
    let text = explain("E05", &[]);
    for words in [
        "paper_referral_grading — a non-e-RS referral is graded within 5 working days [9.7.3]",
        "because `cas_referral` is false",
        "because `exists(referral_received)` is true",
        "timer set     cancer_first_seen_two_weeks",
        "falls due on 2025-02-17 unless attended comes first",
        "met late (due 2025-02-10, met 2025-02-20, 10 days late)",
    ] {
        assert!(text.contains(words), "missing {words:?} in\n{text}");
    }
    for jargon in ["armed", "`not ", "1 days"] {
        assert!(!text.contains(jargon), "{jargon:?} in\n{text}");
    }
    insta::assert_snapshot!("explain_e05", text);
    // A comparison that fails names the value it found.
    let a01 = explain("A01", &[]);
    assert!(
        a01.contains("because `event.appointment` is first, not diagnostic"),
        "{a01}"
    );
    assert!(
        a01.contains(
            "because `count(dna where dna.appointment == first)` is 1 and `repeat_dna_limit` is 2"
        ),
        "{a01}"
    );
    let d04 = explain("D04", &[]);
    assert!(
        d04.contains("rtt running since 2025-01-02 (1 day)"),
        "{d04}"
    );
    let json = explain("E05", &["--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    assert_eq!(v["pathway_id"], "E05", "{json}");
    assert_eq!(v["attributes"]["vulnerable"], Value::Bool(false), "{json}");
    assert!(
        v["trace"].as_array().is_some_and(|t| !t.is_empty()),
        "{json}"
    );
}

/// An obligation no row of the input can meet is a warning naming the rule (the extract is
/// probably missing an event type), not an error: the run still exits 0.
#[test]
fn run_warns_when_the_input_lacks_an_event_type_the_policy_waits_for() {
    let dir = std::env::temp_dir().join(format!("pal-unseen-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let events = dir.join("no_grading.csv");
    let _ = std::fs::write(
        &events,
        "pathway_id,date,event,channel,priority,specialty\nX1,2025-01-06,referral_received,paper,routine,ent\n",
    );
    let events = events.display().to_string();
    let run = |file: &str| {
        pal(&[
            "run",
            "policies/rde.pal",
            "--events",
            file,
            "--as-at",
            "2025-03-31",
            "-o",
            "/dev/null",
        ])
    };
    let o = run(&events);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: rule `paper_referral_grading` requires `referral_graded`, met by `referral_graded`, but the input has no such event"
        ),
        "{}",
        stderr(&o)
    );
    // The examples have every event type the policy waits for: no warning.
    let o = run("examples/events.csv");
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
