//! `pal report rtt-return` and `pal report cancer-return` on hand-built extracts
//! (`tests/returns/`), every count worked out here by hand from the extract, and compared byte
//! for byte with what the command writes (and with the golden files beside the extracts).

use std::process::{Command, Output};

fn pal(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run pal: {e}"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The published band column of band index `i`.
fn band(i: usize) -> String {
    if i == 104 {
        "Gt 104 Weeks SUM 1".into()
    } else {
        format!("Gt {i:02} To {:02} Weeks SUM 1", i + 1)
    }
}

/// The band index of a wait (0–7 days → 0 `Gt 00 To 01`; 126 → 17; 127 → 18; 729 → 104).
fn band_of(days: i64) -> usize {
    (((days + 6) / 7).max(1) as usize - 1).min(104)
}

const ORGS: [&str; 8] = [
    "QXX",
    "NHS EXAMPLE INTEGRATED CARE BOARD",
    "RXX",
    "EXAMPLE HOSPITALS NHS TRUST",
    "QXX",
    "NHS EXAMPLE INTEGRATED CARE BOARD",
    "99X",
    "NHS EXAMPLE ICB - 99X",
];

/// One expected row: part, function code and name, the waits counted (days), Total All.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static [i64],
    u64,
);

fn expected_csv(rows: &[Row]) -> String {
    let mut header = vec![
        "Period".to_string(),
        "Provider Parent Org Code".into(),
        "Provider Parent Name".into(),
        "Provider Org Code".into(),
        "Provider Org Name".into(),
        "Commissioner Parent Org Code".into(),
        "Commissioner Parent Name".into(),
        "Commissioner Org Code".into(),
        "Commissioner Org Name".into(),
        "RTT Part Type".into(),
        "RTT Part Description".into(),
        "Treatment Function Code".into(),
        "Treatment Function Name".into(),
    ];
    header.extend((0..105).map(band));
    header.extend([
        "Total".to_string(),
        "Patients with unknown clock start date".into(),
        "Total All".into(),
    ]);
    let mut out = header.join(",") + "\n";
    for (part, code, name, waits, total_all) in rows {
        let description = match *part {
            "Part_1A" => "Completed Pathways For Admitted Patients",
            "Part_1B" => "Completed Pathways For Non-Admitted Patients",
            "Part_2" => "Incomplete Pathways",
            "Part_2A" => "Incomplete Pathways with DTA",
            _ => "New RTT Periods - All Patients",
        };
        let mut cells: Vec<String> = vec!["RTT-March-2025".into()];
        cells.extend(ORGS.iter().map(|s| s.to_string()));
        cells.extend([part.to_string(), description.into(), code.to_string()]);
        cells.push(if name.contains(',') {
            format!("\"{name}\"")
        } else {
            name.to_string()
        });
        let mut bands = [0u64; 105];
        for d in *waits {
            bands[band_of(*d)] += 1;
        }
        if *part == "Part_3" {
            cells.extend(std::iter::repeat_n(String::new(), 107));
        } else {
            cells.extend(bands.iter().map(u64::to_string));
            if part.starts_with("Part_1") {
                cells.push(waits.len().to_string());
                cells.push("0".into());
            } else {
                cells.extend([String::new(), String::new()]);
            }
        }
        cells.push(total_all.to_string());
        out += &(cells.join(",") + "\n");
    }
    out
}

#[test]
fn band_edges_follow_the_national_convention() {
    // 0–7 days is `Gt 00 To 01`; 8 starts `Gt 01 To 02`; 126 days (18 weeks) is the last day of
    // `Gt 17 To 18`; 127 is `Gt 18 To 19`; 728 is `Gt 103 To 104`; 729 is `Gt 104`.
    for (days, want) in [
        (0, "Gt 00 To 01 Weeks SUM 1"),
        (7, "Gt 00 To 01 Weeks SUM 1"),
        (8, "Gt 01 To 02 Weeks SUM 1"),
        (126, "Gt 17 To 18 Weeks SUM 1"),
        (127, "Gt 18 To 19 Weeks SUM 1"),
        (728, "Gt 103 To 104 Weeks SUM 1"),
        (729, "Gt 104 Weeks SUM 1"),
    ] {
        assert_eq!(band(band_of(days)), want, "{days} days");
    }
}

/// `tests/returns/rtt_extract.csv`, under `policies/national.pal`, for March 2025 (census
/// 31 March 2025). Each pathway, worked by hand:
///
/// | pathway | clock | counted |
/// |---|---|---|
/// | A1 | 3 Mar → admitted treatment 10 Mar: 7 days | 1A C_110 (trauma_orthopaedics) band 0; Part 3 (started in March) |
/// | A2 | 6 Nov 2024 → admitted treatment 12 Mar: 126 days | 1A C_110 (`110`) band 17 |
/// | A3 | 3 Feb → attended its admission and RTT status 30 on 24 Mar: 49 days | 1A C_120 band 6 |
/// | B1 | 5 Mar → discharged 13 Mar: 8 days | 1B C_330 band 1; Part 3 |
/// | B2 | 13 Nov 2024 → outpatient treatment (not admitted) 20 Mar: 127 days | 1B X05 (TFC 103) band 18 |
/// | C1 | 2 Apr 2023, open: 729 days | 2 C_130 band 104 |
/// | C2 | 3 Apr 2023, open: 728 days, no specialty | 2 X06 band 103 (warning) |
/// | C3 | 31 Mar, open: 0 days, `podiatry` (not listed) | 2 X06 band 0; Part 3 X06 (warning) |
/// | C4 | 25 Nov 2024, decision to treat (admitted by default): 126 days | 2 and 2A C_100 band 17 |
/// | C5 | 24 Nov 2024, listed elective: 127 days | 2 and 2A C_100 band 18 |
/// | C6 | 2 Jan, decision to treat not admitted: 88 days | 2 C_101 band 12; not 2A |
/// | C7 | 1 Oct 2024, decision to admit 15 Oct, treated 20 Nov; fit and ready for the second side 10 Jan starts clock 2: 80 days | 2 C_101 band 11; not 2A (the decision to admit was in clock 1) |
/// | N1 | 4 Mar, first appointment DNA 18 Mar: nullified | nowhere, not even Part 3 |
/// | S1 | 6 Jan → discharged 20 Feb | nowhere (stopped in February) |
/// | F1 | 10 Mar, treated 2 Apr (after the census): 21 days | 2 C_120 band 2; Part 3 |
/// | R1 | 6 Jan → clinician active monitoring 3 Mar: 56 days; DTT 17 Mar starts clock 2: 14 days | 1B C_320 band 7; 2 and 2A C_320 band 1; Part 3 |
#[test]
fn the_rtt_return_of_a_hand_built_extract() {
    let rows: &[Row] = &[
        (
            "Part_1A",
            "C_110",
            "Trauma and Orthopaedic Service",
            &[7, 126],
            2,
        ),
        ("Part_1A", "C_120", "Ear Nose and Throat Service", &[49], 1),
        ("Part_1A", "C_999", "Total", &[7, 126, 49], 3),
        ("Part_1B", "C_320", "Cardiology Service", &[56], 1),
        ("Part_1B", "C_330", "Dermatology Service", &[8], 1),
        ("Part_1B", "X05", "Other - Surgical Services", &[127], 1),
        ("Part_1B", "C_999", "Total", &[8, 56, 127], 3),
        ("Part_2", "C_100", "General Surgery Service", &[126, 127], 2),
        ("Part_2", "C_101", "Urology Service", &[88, 80], 2),
        ("Part_2", "C_120", "Ear Nose and Throat Service", &[21], 1),
        ("Part_2", "C_130", "Ophthalmology Service", &[729], 1),
        ("Part_2", "C_320", "Cardiology Service", &[14], 1),
        ("Part_2", "X06", "Other - Other Services", &[728, 0], 2),
        (
            "Part_2",
            "C_999",
            "Total",
            &[126, 127, 88, 80, 21, 729, 14, 728, 0],
            9,
        ),
        (
            "Part_2A",
            "C_100",
            "General Surgery Service",
            &[126, 127],
            2,
        ),
        ("Part_2A", "C_320", "Cardiology Service", &[14], 1),
        ("Part_2A", "C_999", "Total", &[126, 127, 14], 3),
        ("Part_3", "C_110", "Trauma and Orthopaedic Service", &[], 1),
        ("Part_3", "C_120", "Ear Nose and Throat Service", &[], 1),
        ("Part_3", "C_320", "Cardiology Service", &[], 1),
        ("Part_3", "C_330", "Dermatology Service", &[], 1),
        ("Part_3", "X06", "Other - Other Services", &[], 1),
        ("Part_3", "C_999", "Total", &[], 5),
    ];
    let want = expected_csv(rows);
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-03",
        "--provider-parent",
        ORGS[0],
        "--provider-parent-name",
        ORGS[1],
        "--provider",
        ORGS[2],
        "--provider-name",
        ORGS[3],
        "--commissioner-parent",
        ORGS[4],
        "--commissioner-parent-name",
        ORGS[5],
        "--commissioner",
        ORGS[6],
        "--commissioner-name",
        ORGS[7],
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let got = text(&o.stdout);
    assert_eq!(got, want, "the return differs from the hand-worked one");
    let golden = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/returns/rtt_return_2025-03.csv"),
    )
    .unwrap_or_default();
    assert_eq!(
        got, golden,
        "tests/returns/rtt_return_2025-03.csv is out of date"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("warning: 1 pathway with no `specialty` counted under X06"),
        "{err}"
    );
    assert!(
        err.contains("`specialty` = `podiatry` is not in the treatment-function grouping: 1 pathway counted under X06"),
        "{err}"
    );
    assert!(
        err.contains("35 rows read, 34 evaluated, 0 rejected, 1 after the census date; 16 pathways; 2 warnings (0 submission checks failed)"),
        "{err}"
    );
    // Warnings fail the run only when asked.
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-03",
        "--deny-warnings",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

#[test]
fn a_month_with_nothing_in_it_has_the_total_rows_only() {
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2020-01",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 5, "{out}");
    for (row, part) in rows
        .iter()
        .zip(["Part_1A", "Part_1B", "Part_2", "Part_2A", "Part_3"])
    {
        assert!(
            row.starts_with(&format!("RTT-January-2020,,,,,,,,,{part},")),
            "{row}"
        );
        assert!(row.contains(",C_999,Total,"), "{row}");
        assert!(row.ends_with(",0"), "{row}");
    }
}

#[test]
fn bad_months_and_grouping_files_are_refused() {
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-13",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("`2025-13` is not a month: use YYYY-MM"));
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-03",
        "--treatment-functions",
        "tests/returns/rtt_extract.csv",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("tests/returns/rtt_extract.csv: the header must be"),
        "{}",
        text(&o.stderr)
    );
    assert!(o.stdout.is_empty());
    // A device never ends: refused, not read.
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-03",
        "--treatment-functions",
        "/dev/zero",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("cannot read `/dev/zero`: it is not a regular file"),
        "{}",
        text(&o.stderr)
    );
}

/// `tests/returns/cancer_extract.csv` under `policies/national.pal`, March 2025. Worked by hand
/// (days = end − start, the start day is day 0; within ⇔ days ≤ target):
///
/// | pathway | route | FDS (28) | 31-day | 62-day |
/// |---|---|---|---|---|
/// | K1 | urgent suspected cancer | 20 Feb → told 20 Mar: 28, within | starts 21 Mar, treated in April: not in March | treated in April: not in March |
/// | K2 | urgent suspected cancer | 1 Feb → ruled out 2 Mar: 29, breach | — | ruled out: nullified, not measured |
/// | K3 | screening | told in January: not in March | first: 5 Feb → 8 Mar: 31, within; subsequent: 10 → 25 Mar: 15, within | 20 Dec → 8 Mar: 78, breach |
/// | K4 | breast symptomatic | told in January | 25 Jan → 4 Mar: 38, breach | 2 Jan → 4 Mar: 61, within |
/// | K5 | routine, consultant upgrade 15 Jan | no FDS clock (not urgent) | 10 Feb → 18 Mar: 36, breach | 15 Jan → 18 Mar: 62, within |
///
/// Standards on 31 March 2025 (CWT 12.1): FDS 75%, 31-day 96%, 62-day 85%.
#[test]
fn the_cancer_return_of_a_hand_built_extract() {
    let want = "\
month,standard,route,target_days,within_target,total,percent_within,operational_standard_percent,standard_met
2025-03,28-day Faster Diagnosis Standard,Urgent suspected cancer,28,1,2,50.0,75,false
2025-03,28-day Faster Diagnosis Standard,All routes,28,1,2,50.0,75,false
2025-03,31-day combined,First treatment,31,1,3,33.3,96,false
2025-03,31-day combined,Subsequent treatment,31,1,1,100.0,96,true
2025-03,31-day combined,All routes,31,2,4,50.0,96,false
2025-03,62-day combined,Breast symptomatic,62,1,1,100.0,85,true
2025-03,62-day combined,Screening,62,0,1,0.0,85,false
2025-03,62-day combined,Consultant upgrade,62,1,1,100.0,85,true
2025-03,62-day combined,All routes,62,2,3,66.7,85,false
";
    let o = pal(&[
        "report",
        "cancer-return",
        "policies/national.pal",
        "--events",
        "tests/returns/cancer_extract.csv",
        "--month",
        "2025-03",
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), want);
    // The FDS standard rises to 80% from March 2026 (CWT 12.1); a month with no pathway still
    // shows every standard's all-routes line.
    let o = pal(&[
        "report",
        "cancer-return",
        "policies/national.pal",
        "--events",
        "tests/returns/cancer_extract.csv",
        "--month",
        "2026-03",
        "--format",
        "csv",
    ]);
    assert_eq!(
        text(&o.stdout),
        "\
month,standard,route,target_days,within_target,total,percent_within,operational_standard_percent,standard_met
2026-03,28-day Faster Diagnosis Standard,All routes,28,0,0,,80,
2026-03,31-day combined,All routes,31,0,0,,96,
2026-03,62-day combined,All routes,62,0,0,,85,
"
    );
}

#[test]
fn the_cancer_return_for_people_and_programs() {
    let run = |format: &str| {
        let o = pal(&[
            "report",
            "cancer-return",
            "policies/national.pal",
            "--events",
            "tests/returns/cancer_extract.csv",
            "--month",
            "2025-03",
            "--format",
            format,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let table = run("table");
    insta::assert_snapshot!("cancer_return_table", table);
    let json: serde_json::Value = match serde_json::from_str(&run("json")) {
        Ok(v) => v,
        Err(e) => panic!("not JSON: {e}"),
    };
    assert_eq!(json["month"], "2025-03");
    assert_eq!(json["rows"][2]["route"], "First treatment");
    assert_eq!(json["rows"][2]["within"], 1);
    assert_eq!(json["rows"][2]["total"], 3);
    assert_eq!(json["rows"][2]["percent_within"], 33.3);
    assert_eq!(json["rows"][2]["standard_met"], false);
}

#[test]
fn streaming_and_output_files_give_the_same_return() {
    let base = [
        "report",
        "rtt-return",
        "policies/national.pal",
        "--events",
        "tests/returns/rtt_extract.csv",
        "--month",
        "2025-03",
    ];
    let whole = pal(&base);
    assert_eq!(whole.status.code(), Some(0));
    // The extract's rows are grouped by pathway: streaming it gives the same return.
    let mut args = base.to_vec();
    args.push("--streaming");
    let streamed = pal(&args);
    assert_eq!(
        streamed.status.code(),
        Some(0),
        "{}",
        text(&streamed.stderr)
    );
    assert_eq!(text(&streamed.stdout), text(&whole.stdout));
    // `-o` writes the same bytes to a file, and nothing on stdout.
    let out = std::env::temp_dir().join(format!("pal-rtt-return-{}.csv", std::process::id()));
    let out_text = out.display().to_string();
    let mut args = base.to_vec();
    args.extend(["-o", &out_text]);
    let o = pal(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    assert_eq!(written, text(&whole.stdout));
    // An output that is the extract is refused before anything is read.
    let mut args = base.to_vec();
    args.extend(["-o", "tests/returns/rtt_extract.csv"]);
    let o = pal(&args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

#[test]
fn a_policy_without_the_cancer_clocks_is_warned_about() {
    // tests/language/schema.pal declares `rtt` and `cancer_31` only (and no standards).
    let o = pal(&[
        "report",
        "cancer-return",
        "tests/language/clocks.pal",
        "--events",
        "tests/returns/cancer_extract.csv",
        "--month",
        "2025-03",
        "--format",
        "csv",
        "--deny-warnings",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("warning: the policy declares no clock `cancer_fds`: the 28-day Faster Diagnosis Standard is not measured"), "{err}");
    assert!(err.contains("warning: the policy declares no clock `cancer_62`: the 62-day combined is not measured"), "{err}");
    assert!(!err.contains("`cancer_31`"), "{err}");
    assert!(text(&o.stdout).contains("2025-03,31-day combined,All routes,31,0,0,,,\n"));
}

#[test]
fn a_failed_run_writes_no_return() {
    // examples/events.csv has rejected rows: under --strict the run fails and `-o` is not written.
    let out = std::env::temp_dir().join(format!("pal-rtt-strict-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let out_text = out.display().to_string();
    let o = pal(&[
        "report",
        "rtt-return",
        "policies/rde.pal",
        "--events",
        "examples/events.csv",
        "--month",
        "2024-12",
        "--strict",
        "-o",
        &out_text,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!out.exists(), "a failed run left {out_text}");
}
