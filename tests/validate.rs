//! `pal validate` on a hand-built case of each kind of disagreement (`tests/validate/`): the
//! human, CSV and JSON reports are reviewed snapshots; exit code 1 when the PAS and the policy
//! disagree, 0 when they agree. Also the WLMDS-shaped example with its own column names.

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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn validate(pas: &str, format: &str) -> Output {
    pal(&[
        "validate",
        "policies/national.pal",
        "--events",
        "tests/validate/events.csv",
        "--pas",
        pas,
        "--as-at",
        "2025-03-31",
        "--format",
        format,
    ])
}

#[test]
fn each_kind_of_disagreement_human() {
    let o = validate("tests/validate/pas.csv", "human");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    insta::assert_snapshot!(text(&o.stdout));
    assert!(
        text(&o.stderr).contains("11 rows read, 11 evaluated, 0 rejected"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn each_kind_of_disagreement_csv() {
    let o = validate("tests/validate/pas.csv", "csv");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    insta::assert_snapshot!(text(&o.stdout));
}

#[test]
fn each_kind_of_disagreement_json() {
    let o = validate("tests/validate/pas.csv", "json");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    for kind in [
        "clock_start_differs",
        "pas_open_policy_stopped",
        "pas_open_policy_nullified",
        "pas_open_policy_no_clock",
        "policy_open_pas_closed",
        "policy_open_pas_absent",
    ] {
        assert_eq!(v["counts"][kind], 1, "{kind}: {v}");
    }
    insta::assert_snapshot!(text(&o.stdout));
}

#[test]
fn agreement_exits_zero_and_bad_pas_rows_are_rejected_with_their_line() {
    let o = validate("tests/validate/pas-agrees.csv", "human");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    insta::assert_snapshot!(format!(
        "{}--- stderr ---\n{}",
        text(&o.stdout),
        text(&o.stderr)
    ));
}

#[test]
fn a_pas_view_in_wlmds_columns_and_dates() {
    let o = pal(&[
        "validate",
        "policies/rde.pal",
        "--map",
        "examples/mappings/wlmds.pal",
        "--events",
        "examples/wlmds-extract.csv",
        "--pas",
        "examples/wlmds-open-pathways.csv",
        "--pas-column",
        "pathway_id=PATIENT_PATHWAY_IDENTIFIER",
        "--pas-column",
        "rtt_start=REFERRAL_TO_TREATMENT_PERIOD_START_DATE",
        "--pas-column",
        "status=REFERRAL_TO_TREATMENT_PERIOD_STATUS",
        "--pas-column",
        "waiting_list_type=WAITING_LIST_TYPE",
        "--pas-date-format",
        "DD/MM/YYYY",
        "--as-at",
        "2025-03-31",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    insta::assert_snapshot!(text(&o.stdout));
    // A column the view lacks is named, with the closest it has.
    let o = pal(&[
        "validate",
        "policies/national.pal",
        "--events",
        "tests/validate/events.csv",
        "--pas",
        "examples/wlmds-open-pathways.csv",
        "--pas-column",
        "pathway_id=PATIENT_PATHWAY_IDENTIFER",
        "--as-at",
        "2025-03-31",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("did you mean `PATIENT_PATHWAY_IDENTIFIER`?"),
        "{}",
        text(&o.stderr)
    );
}
