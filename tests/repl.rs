//! REPL transcript tests: scripted sessions are piped into `pal repl` and the printed output is
//! a reviewed snapshot; a session saved with `:save` must pass `pal test`.

use std::io::Write;
use std::process::{Command, Stdio};

fn repl(policy: &str, script: &str) -> String {
    let mut child = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(["repl", policy])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("pal repl failed: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_child_who_dnas_twice() {
    let script = std::fs::read_to_string("tests/repl/child_dna.txt").unwrap_or_default();
    // The transcript has a mistyped line (`frist`), which fails a piped session.
    let (code, out, _) = repl_status("policies/national.pal", &script);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

/// The question the REPL is for, under the trust's own policy: 9.12.3 resets a child's clock
/// instead of nullifying it, and 9.12.4 sends a second DNA to clinical review.
#[test]
fn a_child_who_dnas_twice_under_the_trust_policy() {
    let script = std::fs::read_to_string("tests/repl/child_dna_rde.txt").unwrap_or_default();
    let (code, out, _) = repl_status("policies/rde.pal", &script);
    assert_eq!(code, 1, "the transcript has a mistyped line");
    assert!(out.contains("first_dna_discharge` [9.12.1]:\n  2025-02-03 dna: condition held, but exception first_dna_second_appointment applied"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn multi_line_declarations_are_read_until_complete() {
    let script = "rule local_review \"review every DNA\"\n  on dna\n  cite \"local\"\n{\n  outcome clinical_review\n}\n2025-01-06 referral_received {}\n2025-02-03 dna { appointment: follow_up }\n:why clinical_review\n";
    let out = repl("policies/national.pal", script);
    assert!(out.contains("added; loaded"), "{out}");
    assert!(
        out.contains("outcome clinical_review on 2025-02-03 (local_review [local])"),
        "{out}"
    );
}

#[test]
fn a_saved_session_is_a_passing_test() {
    let dir = std::env::temp_dir().join(format!("pal-repl-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("saved.pal");
    let _ = std::fs::remove_file(&file);
    let script = format!(
        "2025-01-06 referral_received {{ priority: two_week_wait, cancer_route: suspected_cancer }}\n2025-01-13 dna {{ appointment: first }}\n2025-01-16 appointment_booked {{ appointment: first, appointment_date: 2025-01-20 }}\n:as-at 2025-02-28\n:save {}\n",
        file.display()
    );
    let out = repl(
        &std::fs::canonicalize("policies/rde.pal")
            .unwrap_or_default()
            .display()
            .to_string(),
        &script,
    );
    assert!(out.contains("saved the session as a test"), "{out}");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    // 2WW under the trust's policy: the first-appointment DNA resets the RTT clock (9.12.3).
    assert!(
        saved.contains("expect cancer_fds period 1 running on 2025-01-16"),
        "{saved}"
    );
    assert!(
        saved.contains("expect rtt period 1 running on 2025-01-13"),
        "{saved}"
    );
    // The saved test lives outside the policy's folder: it may extend it once that folder is
    // on the policy path.
    let policies = std::fs::canonicalize("policies").unwrap_or_default();
    let test = Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(["test", &file.display().to_string()])
        .arg("--policy-path")
        .arg(&policies)
        .output();
    let test = match test {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let text = String::from_utf8_lossy(&test.stdout);
    assert!(test.status.success(), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}

/// Copies `from` into `to`, folders and all.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::create_dir_all(to);
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            let _ = std::fs::copy(&path, to.join(entry.file_name()));
        }
    }
}

#[test]
fn save_never_overwrites_the_policy_nor_a_file_without_the_bang() {
    // Issue 19 item 6: `:save` overwrote any path, the loaded policy included.
    let dir = std::env::temp_dir().join(format!("pal-repl-save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(std::path::Path::new("policies"), &dir);
    let policy = dir.join("rde.pal");
    let before = std::fs::read_to_string(&policy).unwrap_or_default();
    assert!(before.contains("policy rde"));
    let other = dir.join("mine.pal");
    let _ = std::fs::write(&other, "// mine\n");
    let script = format!(
        "2025-01-06 referral_received {{ priority: routine }}\n:save {p}\n:save! {p}\n:save {o}\n:save! {o}\n",
        p = policy.display(),
        o = other.display()
    );
    let out = repl(&policy.display().to_string(), &script);
    assert_eq!(
        std::fs::read_to_string(&policy).unwrap_or_default(),
        before,
        "the policy was overwritten: {out}"
    );
    assert_eq!(out.matches("is the loaded policy").count(), 2, "{out}");
    assert!(out.contains("already exists: `:save! "), "{out}");
    assert!(out.contains("saved the session as a test"), "{out}");
    let saved = std::fs::read_to_string(&other).unwrap_or_default();
    assert!(saved.contains("extends \"rde.pal\""), "{saved}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs a piped session and returns (exit code, stdout, stderr).
fn repl_status(policy: &str, script: &str) -> (i32, String, String) {
    repl_with(&[policy], script)
}

/// `pal repl ARGS…` with `script` piped in: the exit code, stdout and stderr.
fn repl_with(args: &[&str], script: &str) -> (i32, String, String) {
    let mut child = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .arg("repl")
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run pal: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ),
        Err(e) => panic!("pal repl failed: {e}"),
    }
}

/// The README's REPL transcript is a real session: its `pal>` lines piped in give exactly the
/// answers printed under them (the `:save` goes to a temporary folder instead).
#[test]
fn the_readme_transcript_is_a_real_session() {
    let readme = std::fs::read_to_string("README.md").unwrap_or_default();
    let start = readme
        .find("```\n$ pal repl policies/rde.pal\n")
        .unwrap_or_else(|| panic!("no REPL transcript in README.md"));
    let body = &readme[start + 4..];
    let block = &body[..body.find("```").unwrap_or(body.len())];
    let dir = std::env::temp_dir().join(format!("pal-readme-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let saved = dir.join("child_dna.pal").display().to_string();
    let mut script = String::new();
    let mut expected = String::new();
    for line in block.lines().skip(1) {
        match line.strip_prefix("pal> ") {
            Some(input) => {
                script.push_str(&input.replace("tests/child_dna.pal", &saved));
                script.push('\n');
            }
            None => {
                expected.push_str(&line.replace("tests/child_dna.pal", &saved));
                expected.push('\n');
            }
        }
    }
    assert!(script.contains(":whynot"), "{block}");
    let (code, out, err) = repl_status("policies/rde.pal", &script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, expected,
        "README.md's transcript differs from a real session"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `:rules`, `:params`, `:show`, `:set` (old → new) and a `:load` that fails and keeps the
/// working policy.
#[test]
fn commands_for_scenarios() {
    let script = std::fs::read_to_string("tests/repl/commands.txt").unwrap_or_default();
    let (code, out, err) = repl_status("policies/national.pal", &script);
    // The misspelt `:load` and `:show` are lines in error.
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("2 lines failed"), "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn a_piped_scenario_fails_when_an_expectation_does_not_hold() {
    let passing = "2025-01-06 referral_received {}\n:as-at 2025-02-03\nexpect rtt running\n";
    let (code, out, err) = repl_status("policies/national.pal", passing);
    assert_eq!(code, 0, "{out}{err}");
    // The same scenario with one expectation that does not hold: every line still runs.
    let failing = format!("{passing}expect rtt stopped\nrtt.days_waited\n");
    let (code, out, err) = repl_status("policies/national.pal", &failing);
    assert_eq!(code, 1, "{out}{err}");
    insta::assert_snapshot!(format!("exit {code}\n--- stdout\n{out}--- stderr\n{err}"));
    // A line in error fails the session too.
    let (code, _, err) = repl_status("policies/national.pal", "2025-01-06 referal_received {}\n");
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = repl_status("policies/national.pal", ":stat\n");
    assert_eq!(code, 1, "{err}");
}

#[test]
fn save_writes_each_expectation_once() {
    let dir = std::env::temp_dir().join(format!("pal-repl-once-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("twice.pal");
    let _ = std::fs::remove_file(&file);
    // Two first-appointment DNAs rebook twice: two `rebook` outcomes, two booking obligations.
    let script = format!(
        "pathway {{ birth_date: 2015-03-01 }}\n2025-01-06 referral_received {{}}\n2025-02-03 dna {{ appointment: first }}\n2025-03-03 dna {{ appointment: first }}\n:as-at 2025-03-31\n:save {}\n",
        file.display()
    );
    let (code, out, err) = repl_status(
        &std::fs::canonicalize("policies/rde.pal")
            .unwrap_or_default()
            .display()
            .to_string(),
        &script,
    );
    assert_eq!(code, 0, "{out}{err}");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    let expects: Vec<&str> = saved
        .lines()
        .filter(|l| l.trim_start().starts_with("expect "))
        .collect();
    let mut unique = expects.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(expects.len(), unique.len(), "{saved}");
    assert!(saved.contains("expect outcome rebook"), "{saved}");
    let policies = std::fs::canonicalize("policies")
        .unwrap_or_default()
        .display()
        .to_string();
    let test = Command::new(env!("CARGO_BIN_EXE_pal"))
        .args([
            "test",
            "--policy-path",
            &policies,
            &file.display().to_string(),
        ])
        .output();
    let ok = test.map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "the saved session is a passing test:\n{saved}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--events FILE --pathway ID` starts the session with a pathway of an extract, read through
/// `--map` as `pal run` reads it: the trust-shaped extract and the same events in PAL's own CSV
/// give the same session, and the steps are real ones (`:save` makes a passing test).
#[test]
fn a_session_starts_from_a_pathway_of_an_extract_read_through_its_mapping() {
    let start = |args: &[&str], script: &str| {
        let mut all = args.to_vec();
        all.extend(["--pathway", "RA9-0001"]);
        repl_with(&all, script)
    };
    // What follows the `pathway … from FILE` line.
    let session = |out: &str| {
        let at = out.find("\npathway RA9-0001 from ").unwrap_or(0);
        let rest = &out[at + 1..];
        rest[rest.find('\n').unwrap_or(0)..].to_string()
    };
    let script = ":state\n:whynot paper_referral_grading\n";
    let (code, own, err) = start(
        &[
            "policies/rde.pal",
            "--events",
            "tests/mapping/wlmds-own.csv",
        ],
        script,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        own.contains("pathway RA9-0001 from tests/mapping/wlmds-own.csv: 8 events"),
        "{own}"
    );
    assert!(own.contains("rtt period 1: stopped 2025-01-06"), "{own}");
    let mapped_args = [
        "policies/rde.pal",
        "--map",
        "examples/mappings/wlmds.pal",
        "--events",
        "examples/wlmds-extract.csv",
    ];
    let (code, mapped, err) = start(&mapped_args, script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(session(&mapped), session(&own));
    // The policy's one mapping, by default and by name.
    let trust = [
        "tests/mapping/trust.pal",
        "--policy-path",
        "policies",
        "--policy-path",
        "examples",
        "--events",
        "examples/wlmds-extract.csv",
    ];
    for map in [&[][..], &["--map", "wlmds"]] {
        let (code, out, err) = start(&[&trust[..], map].concat(), script);
        assert_eq!(code, 0, "{map:?}: {err}");
        assert_eq!(session(&out), session(&own), "{map:?}");
    }
    // `none` reads PAL's own shape, which this extract is not in; a name no mapping has is a
    // usage error; so is a pathway the extract does not have.
    let (code, _, err) = start(&[&trust[..], &["--map", "none"]].concat(), script);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no `pathway_id`"), "{err}");
    let (code, _, err) = start(
        &[&mapped_args[..2], &["wlmds"], &mapped_args[3..]].concat(),
        "",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names no mapping"), "{err}");
    let (code, _, err) = repl_with(&[&mapped_args[..], &["--pathway", "RA9-001"]].concat(), "");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no pathway `RA9-001`") && err.contains("did you mean"),
        "{err}"
    );
    // The events are steps: saved as a test, it passes.
    let dir = std::env::temp_dir().join(format!("pal-repl-extract-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_default();
    let file = dir.join("ra9_0001.pal");
    let (code, out, err) = start(&mapped_args, &format!(":undo\n:save {}\n", file.display()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("saved the session as a test"), "{out}");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        saved.contains(
            "2025-01-06 referral_received { birth_date: 1960-02-14, specialty: \"110\" }"
        ) && !saved.contains("rtt_status { code: 30 }"),
        "the last step undone: {saved}"
    );
    let policies = std::fs::canonicalize("policies").unwrap_or_default();
    let test = Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(["test", &file.display().to_string()])
        .arg("--policy-path")
        .arg(&policies)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&test.stdout);
    assert!(test.status.success(), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}
