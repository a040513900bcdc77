//! Input mappings through the CLI: a trust-style extract (its own column names, local codes,
//! `DD/MM/YYYY` dates) read through `examples/mappings/wlmds.pal` gives byte-identical results
//! to the same events in PAL's own CSV shape (`tests/mapping/wlmds-own.csv`), and mapping
//! mistakes are reported with file, line and did-you-mean (snapshots).

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

const MAPPED: &[&str] = &[
    "--map",
    "examples/mappings/wlmds.pal",
    "--events",
    "examples/wlmds-extract.csv",
];
const OWN: &[&str] = &["--events", "tests/mapping/wlmds-own.csv"];

fn run(input: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["run", "policies/rde.pal", "--as-at", "2025-03-31"];
    args.extend_from_slice(input);
    args.extend_from_slice(extra);
    pal(&args)
}

#[test]
fn a_mapped_extract_gives_the_results_of_the_same_events_in_pals_shape() {
    for extra in [
        &["--format", "jsonl", "--trace"][..],
        &["--format", "csv"][..],
        &["--format", "table"][..],
        &["--summary"][..],
        &["--streaming", "--format", "jsonl"][..],
    ] {
        let mapped = run(MAPPED, extra);
        let own = run(OWN, extra);
        assert_eq!(mapped.status.code(), Some(0), "{}", text(&mapped.stderr));
        assert_eq!(own.status.code(), Some(0), "{}", text(&own.stderr));
        assert!(!mapped.stdout.is_empty());
        assert_eq!(
            text(&mapped.stdout),
            text(&own.stdout),
            "results differ with {extra:?}"
        );
        // The row account too: nothing rejected, nothing lost.
        assert_eq!(text(&mapped.stderr), text(&own.stderr), "{extra:?}");
    }
}

#[test]
fn the_ptl_of_a_mapped_extract_is_the_same() {
    let dir = std::env::temp_dir().join(format!("pal-mapping-ptl-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let a = dir.join("mapped.csv");
    let b = dir.join("own.csv");
    let (a_s, b_s) = (a.display().to_string(), b.display().to_string());
    let o1 = run(MAPPED, &["--ptl", &a_s, "-o", "/dev/null"]);
    let o2 = run(OWN, &["--ptl", &b_s, "-o", "/dev/null"]);
    assert_eq!(o1.status.code(), Some(0), "{}", text(&o1.stderr));
    assert_eq!(o2.status.code(), Some(0), "{}", text(&o2.stderr));
    let (p1, p2) = (std::fs::read(&a), std::fs::read(&b));
    let _ = std::fs::remove_dir_all(&dir);
    let (p1, p2) = (p1.unwrap_or_default(), p2.unwrap_or_default());
    assert!(p1.len() > 100, "{}", text(&p1));
    assert_eq!(text(&p1), text(&p2));
}

#[test]
fn a_column_the_extract_lacks_names_the_mapping_line_and_the_closest_column() {
    let o = run(
        &[
            "--map",
            "examples/mappings/wlmds.pal",
            "--events",
            "tests/mapping/bad-columns.csv",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(3));
    insta::assert_snapshot!(text(&o.stderr));
}

#[test]
fn local_codes_without_a_mapping_and_bad_dates_are_row_rejections() {
    let o = run(
        &[
            "--map",
            "examples/mappings/wlmds.pal",
            "--events",
            "tests/mapping/bad-codes.csv",
        ],
        &["-o", "/dev/null"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    insta::assert_snapshot!(text(&o.stderr));
    let strict = run(
        &[
            "--map",
            "examples/mappings/wlmds.pal",
            "--events",
            "tests/mapping/bad-codes.csv",
        ],
        &["-o", "/dev/null", "--strict"],
    );
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn mistakes_in_a_mapping_file_are_diagnostics_with_did_you_mean() {
    let o = run(
        &[
            "--map",
            "tests/mapping/bad-mapping.pal",
            "--events",
            "examples/wlmds-extract.csv",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    insta::assert_snapshot!(text(&o.stderr));
    // `pal check` reports the same against the policy it maps for.
    let c = pal(&[
        "check",
        "policies/rde.pal",
        "--map",
        "tests/mapping/bad-mapping.pal",
        "--format",
        "short",
    ]);
    assert_eq!(c.status.code(), Some(1));
    insta::assert_snapshot!(text(&c.stdout));
    let ok = pal(&[
        "check",
        "policies/rde.pal",
        "--map",
        "examples/mappings/wlmds.pal",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
}

#[test]
fn map_chooses_by_name_file_or_none() {
    // A name the policy does not declare, and no such file: a usage error.
    let o = run(
        &["--map", "wlmds", "--events", "examples/wlmds-extract.csv"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("names no mapping"),
        "{}",
        text(&o.stderr)
    );
    // `none` reads PAL's own shape (and this extract is not in it).
    let o = run(
        &["--map", "none", "--events", "examples/wlmds-extract.csv"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("no `pathway_id`"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_mapped_json_lines_extract_reads_its_keys_as_the_columns() {
    let jsonl = run(
        &[
            "--map",
            "examples/mappings/wlmds.pal",
            "--events",
            "tests/mapping/wlmds-extract.jsonl",
        ],
        &[],
    );
    let csv = run(MAPPED, &[]);
    assert_eq!(jsonl.status.code(), Some(0), "{}", text(&jsonl.stderr));
    assert!(!jsonl.stdout.is_empty());
    // Without --trace the results carry no input line (JSON Lines has no header line).
    assert_eq!(text(&jsonl.stdout), text(&csv.stdout));
}

#[test]
fn a_policy_that_declares_one_mapping_reads_its_extract_through_it() {
    let base = [
        "run",
        "tests/mapping/trust.pal",
        "--policy-path",
        "policies",
        "--policy-path",
        "examples",
        "--events",
        "examples/wlmds-extract.csv",
        "--as-at",
        "2025-03-31",
    ];
    let declared = pal(&base);
    let by_name = pal(&[&base[..], &["--map", "wlmds"]].concat());
    let by_file = run(MAPPED, &[]);
    assert_eq!(
        declared.status.code(),
        Some(0),
        "{}",
        text(&declared.stderr)
    );
    assert_eq!(text(&declared.stdout), text(&by_file.stdout));
    assert_eq!(text(&by_name.stdout), text(&by_file.stdout));
    // `--map none` reads PAL's own shape, which this extract is not in.
    let own = pal(&[&base[..], &["--map", "none"]].concat());
    assert_eq!(own.status.code(), Some(3), "{}", text(&own.stderr));
    // `pal check` checks the imported mapping with the policy.
    let c = pal(&[
        "check",
        "tests/mapping/trust.pal",
        "--policy-path",
        "policies",
        "--policy-path",
        "examples",
    ]);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c.stdout));
}

#[test]
fn explain_reads_a_mapped_extract_as_run_does() {
    let explain = |policy: &str, input: &[&str], extra: &[&str]| {
        let mut args = vec![
            "explain",
            policy,
            "--policy-path",
            "policies",
            "--policy-path",
            "examples",
            "--pathway",
            "RA9-0001",
            "--as-at",
            "2025-03-31",
        ];
        args.extend_from_slice(input);
        args.extend_from_slice(extra);
        pal(&args)
    };
    for format in ["text", "json"] {
        let extra = ["--format", format];
        let own = explain("policies/rde.pal", OWN, &extra);
        assert_eq!(own.status.code(), Some(0), "{}", text(&own.stderr));
        assert!(!own.stdout.is_empty());
        // By file, and by the name of the one mapping a policy declares (or by default).
        let by_file = explain("policies/rde.pal", MAPPED, &extra);
        assert_eq!(by_file.status.code(), Some(0), "{}", text(&by_file.stderr));
        assert_eq!(text(&by_file.stdout), text(&own.stdout), "{format}");
        let extract = ["--events", "examples/wlmds-extract.csv"];
        for map in [&["--map", "wlmds"][..], &[]] {
            let declared = explain(
                "tests/mapping/trust.pal",
                &extract,
                &[&extra[..], map].concat(),
            );
            assert_eq!(
                declared.status.code(),
                Some(0),
                "{map:?}: {}",
                text(&declared.stderr)
            );
            assert_eq!(
                text(&declared.stdout),
                text(&own.stdout),
                "{format} {map:?}"
            );
        }
    }
    // `none` reads PAL's own shape, which this extract is not in; an unknown name is a usage
    // error.
    let extract = ["--events", "examples/wlmds-extract.csv"];
    let none = explain("tests/mapping/trust.pal", &extract, &["--map", "none"]);
    assert_eq!(none.status.code(), Some(3), "{}", text(&none.stderr));
    assert!(
        text(&none.stderr).contains("no `pathway_id`"),
        "{}",
        text(&none.stderr)
    );
    let unknown = explain("policies/rde.pal", &extract, &["--map", "wlmds"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("names no mapping"),
        "{}",
        text(&unknown.stderr)
    );
}
