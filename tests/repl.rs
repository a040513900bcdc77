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
    insta::assert_snapshot!(repl("policies/national.pal", &script));
}

/// The question the REPL is for, under the trust's own policy: 9.12.3 resets a child's clock
/// instead of nullifying it, and 9.12.4 sends a second DNA to clinical review.
#[test]
fn a_child_who_dnas_twice_under_the_trust_policy() {
    let script = std::fs::read_to_string("tests/repl/child_dna_rde.txt").unwrap_or_default();
    let out = repl("policies/rde.pal", &script);
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
