//! Parquet as a source and a sink through the CLI: CSV → `pal convert` → Parquet → `pal run`
//! gives byte-identical results (whole and streaming, CSV and JSON Lines results), rejected rows
//! name their row; results and the PTL written as Parquet read back as the CSV text.

#[path = "support/parquet_cells.rs"]
mod parquet_cells;
use parquet_cells::parquet_cells;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pal"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run pal")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pal-parquet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

const AS_AT: &str = "2024-06-01";

/// `"line":N` → `"line":N+1`.
fn shift_lines(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"line\":") {
        let (head, tail) = rest.split_at(i + 7);
        out.push_str(head);
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits.parse().expect("a line number");
        out.push_str(&(n + 1).to_string());
        rest = &tail[digits.len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn csv_to_parquet_and_back_gives_byte_identical_results() {
    let dir = temp("round-trip");
    let pq = dir.join("events.parquet");
    let pq_s = pq.display().to_string();
    let conv = pal(&["convert", "examples/events.csv", &pq_s]);
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    let out = String::from_utf8_lossy(&conv.stdout);
    let rows = csv::Reader::from_path(root().join("examples/events.csv"))
        .expect("examples")
        .records()
        .count();
    assert!(
        out.starts_with(&format!("{rows} rows written"))
            && out.contains("birth_date: date")
            && out.contains("vulnerable: boolean")
            && out.contains("date: text"),
        "{out}"
    );
    for extra in [
        &["--format", "csv"][..],
        &["--format", "jsonl"],
        &["--format", "csv", "--streaming"],
        &["--summary"],
    ] {
        let mut a = vec![
            "run",
            "policies/rde.pal",
            "--as-at",
            AS_AT,
            "--events",
            "examples/events.csv",
        ];
        a.extend_from_slice(extra);
        let from_csv = pal(&a);
        let mut b = vec![
            "run",
            "policies/rde.pal",
            "--as-at",
            AS_AT,
            "--events",
            &pq_s,
        ];
        b.extend_from_slice(extra);
        let from_pq = pal(&b);
        assert!(
            from_pq.status.success(),
            "{}",
            String::from_utf8_lossy(&from_pq.stderr)
        );
        assert!(!from_csv.stdout.is_empty());
        // JSON results name an event's place: a Parquet row number is its CSV line less the
        // header's.
        let shifted = shift_lines(&String::from_utf8_lossy(&from_pq.stdout));
        assert!(
            shifted == String::from_utf8_lossy(&from_csv.stdout),
            "{extra:?}"
        );
        if !extra.contains(&"jsonl") {
            assert!(
                from_pq.stdout == from_csv.stdout,
                "{extra:?}: byte-identical"
            );
        }
        // Each rejected row is rejected the same way, under its row number (line − 1).
        let rejections = |o: &Output, name: &str, shift: bool| -> Vec<String> {
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .filter(|l| l.contains("rejected:"))
                .map(|l| {
                    let rest = l.strip_prefix(name).expect("the source's name");
                    let (place, why) = rest.split_once(": rejected:").expect("a rejection");
                    let n: u64 = place
                        .trim_start_matches(": row ")
                        .trim_start_matches(':')
                        .parse()
                        .expect("a number");
                    format!("{} {why}", if shift { n + 1 } else { n })
                })
                .collect()
        };
        let csv_rejected = rejections(&from_csv, "examples/events.csv", false);
        assert_eq!(csv_rejected.len(), 6);
        assert_eq!(rejections(&from_pq, &pq_s, true), csv_rejected);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn results_and_the_ptl_as_parquet_hold_the_csv_text_typed() {
    let dir = temp("sinks");
    let (res_pq, ptl_pq, res_csv, ptl_csv) = (
        dir.join("results.parquet"),
        dir.join("ptl.parquet"),
        dir.join("results.csv"),
        dir.join("ptl.csv"),
    );
    let s = |p: &Path| p.display().to_string();
    let a = pal(&[
        "run",
        "policies/rde.pal",
        "--as-at",
        AS_AT,
        "--events",
        "examples/events.csv",
        "--format",
        "csv",
        "-o",
        &s(&res_csv),
        "--ptl",
        &s(&ptl_csv),
    ]);
    assert!(a.status.success());
    let b = pal(&[
        "run",
        "policies/rde.pal",
        "--as-at",
        AS_AT,
        "--events",
        "examples/events.csv",
        "-o",
        &s(&res_pq),
        "--ptl",
        &s(&ptl_pq),
    ]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    for (pq, csv_file) in [(&res_pq, &res_csv), (&ptl_pq, &ptl_csv)] {
        let text = std::fs::read_to_string(csv_file).expect("csv");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = r
            .headers()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect();
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.expect("row").iter().map(str::to_string).collect())
            .collect();
        assert!(rows.len() > 10);
        assert_eq!(parquet_cells(pq), (header, rows), "{}", pq.display());
    }
    // Typed: dates, numbers and booleans, not text.
    let meta = parquet::file::reader::SerializedFileReader::new(
        std::fs::File::open(&ptl_pq).expect("open"),
    )
    .expect("parquet");
    use parquet::file::reader::FileReader;
    let schema = format!("{:?}", meta.metadata().file_metadata().schema_descr());
    assert!(
        schema.contains("clock_start") && schema.contains("DATE"),
        "{schema}"
    );
    // A failed run leaves no Parquet file behind and an existing one as it was.
    let before = std::fs::read(&res_pq).expect("results");
    let c = pal(&[
        "run",
        "policies/rde.pal",
        "--as-at",
        AS_AT,
        "--events",
        "examples/events.csv",
        "-o",
        &s(&res_pq),
        "--strict",
    ]);
    assert_eq!(c.status.code(), Some(1));
    assert_eq!(std::fs::read(&res_pq).expect("results"), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unreadable_parquet_is_a_clear_error() {
    let dir = temp("bad");
    let not = dir.join("not.parquet");
    std::fs::write(&not, "pathway_id,date\n").expect("write");
    let out = pal(&[
        "run",
        "policies/rde.pal",
        "--as-at",
        AS_AT,
        "--events",
        &not.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read")
            && String::from_utf8_lossy(&out.stderr).contains("as Parquet")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_mapping_reads_a_parquet_extract_as_it_reads_the_same_csv() {
    // The trust-shaped extract (its own column names, local codes, `DD/MM/YYYY` dates) as
    // Parquet, read through `--map`, gives the results of the same events in PAL's own CSV
    // shape: the mapping applies to a table source exactly as to CSV.
    let dir = temp("mapped");
    let pq = dir.join("wlmds.parquet");
    let pq_s = pq.display().to_string();
    let conv = pal(&["convert", "examples/wlmds-extract.csv", &pq_s]);
    assert!(
        conv.status.success(),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    for extra in [
        &["--format", "csv"][..],
        &["--format", "csv", "--streaming"],
        &["--summary"],
    ] {
        let run = |input: &[&str]| {
            let mut a = vec!["run", "policies/rde.pal", "--as-at", "2025-03-31"];
            a.extend_from_slice(input);
            a.extend_from_slice(extra);
            pal(&a)
        };
        let mapped_pq = run(&["--map", "examples/mappings/wlmds.pal", "--events", &pq_s]);
        let own_csv = run(&["--events", "tests/mapping/wlmds-own.csv"]);
        assert_eq!(
            mapped_pq.status.code(),
            Some(0),
            "{extra:?}: {}",
            String::from_utf8_lossy(&mapped_pq.stderr)
        );
        assert_eq!(own_csv.status.code(), Some(0));
        assert!(!own_csv.stdout.is_empty());
        assert!(
            mapped_pq.stdout == own_csv.stdout,
            "{extra:?}: results differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&mapped_pq.stdout),
            String::from_utf8_lossy(&own_csv.stdout)
        );
        assert!(
            !String::from_utf8_lossy(&mapped_pq.stderr).contains("rejected:"),
            "{}",
            String::from_utf8_lossy(&mapped_pq.stderr)
        );
    }
    // Without the mapping the trust's columns are not PAL's: the header is refused.
    let unmapped = pal(&[
        "run",
        "policies/rde.pal",
        "--as-at",
        "2025-03-31",
        "--map",
        "none",
        "--events",
        &pq_s,
    ]);
    assert_eq!(unmapped.status.code(), Some(3));
    let _ = std::fs::remove_dir_all(dir);
}
