//! `pal diff`: the impact of a policy change on an extract, checked against an independent
//! computation (each policy run on its own by `services::batch`); the data-free search, whose
//! printed `test` block is run with `pal test` under both policies; the REPL's `:diff`; the
//! report's layout (a reviewed snapshot).

use pal_engine::io::events::InputFormat;
use pal_engine::io::report::ResultFormat;
use pal_engine::services::batch::{self, Input, ResultSink, Sinks};
use pal_engine::services::project::load_policy_with;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// A scratch folder of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pal-diff-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

fn write(path: &Path, body: &str) {
    if let Err(e) = std::fs::write(path, body) {
        panic!("cannot write {}: {e}", path.display());
    }
}

fn policies() -> PathBuf {
    match std::fs::canonicalize("policies") {
        Ok(p) => p,
        Err(e) => panic!("no policies folder: {e}"),
    }
}

/// A variant of RDE in `dir`, with the given `set` lines.
fn variant(dir: &Path, name: &str, sets: &str) -> PathBuf {
    let path = dir.join(format!("{name}.pal"));
    let rde = policies().join("rde.pal");
    write(
        &path,
        &format!("policy {name} extends \"{}\"\n\n{sets}\n", rde.display()),
    );
    path
}

/// Each policy run on its own over the extract by `services::batch`: per pathway, the
/// (outcome, date) pairs sorted, and the clock periods without the rule names.
fn independent(policy: &Path, events: &Path) -> BTreeMap<String, (Vec<(String, String)>, Value)> {
    let (_, policy, _) = match load_policy_with(policy, &[policies()]) {
        Ok(p) => p,
        Err((_, d)) => panic!("{} does not load: {d:?}", policy.display()),
    };
    let input = match Input::open(events, InputFormat::Csv) {
        Ok(i) => i,
        Err(e) => panic!("cannot open the extract: {e}"),
    };
    let mut out: Vec<u8> = Vec::new();
    let mut on_rejection = |_: &pal_engine::io::events::Rejection| {};
    let options = batch::Options {
        as_at: pal_engine::base::value::parse_date("2025-03-01").unwrap_or_default(),
        strict: false,
        trace: false,
        streaming: false,
    };
    let sinks = Sinks {
        results: ResultSink::Encoded(ResultFormat::Jsonl, Box::new(&mut out)),
        ptl_clock: None,
        summary: false,
        on_rejection: &mut on_rejection,
        on_progress: None,
    };
    if let Err(e) = batch::run(&policy, input, &options, sinks) {
        panic!("batch run failed: {e}");
    }
    let mut by_id = BTreeMap::new();
    for line in text(&out).lines() {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let id = v["pathway_id"].as_str().unwrap_or_default().to_string();
        let mut outcomes: Vec<(String, String)> = v["outcomes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| {
                (
                    o["outcome"].as_str().unwrap_or_default().to_string(),
                    o["date"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        outcomes.sort();
        let mut clocks = v["clocks"].clone();
        for p in clocks.as_array_mut().into_iter().flatten() {
            if let Some(p) = p.as_object_mut() {
                p.remove("started_by");
                p.remove("stopped_by");
                p.remove("weeks_waited");
                p.remove("paused_days");
                p.remove("target_days");
            }
        }
        by_id.insert(id, (outcomes, clocks));
    }
    by_id
}

fn synthetic_extract(dir: &Path, pathways: u64) -> PathBuf {
    let path = dir.join("events.csv");
    let mut bytes = Vec::new();
    let opts = pal_synth::SynthOptions {
        pathways,
        seed: 17,
        ..pal_synth::SynthOptions::default()
    };
    if let Err(e) = pal_synth::generate(&opts, pal_synth::SynthFormat::Csv, &mut bytes) {
        panic!("synth failed: {e}");
    }
    write(&path, &text(&bytes));
    path
}

/// The cancellation limit raised from two to three (9.10.2): the pathways `pal diff` reports
/// as changing are exactly those whose outcomes or clocks differ when each policy is run on
/// its own.
#[test]
fn a_set_change_reports_exactly_the_pathways_that_change() {
    let dir = scratch("set");
    let events = synthetic_extract(&dir, 3000);
    let new = variant(
        &dir,
        "three_cancellations",
        "set cancellation_limit = 3 cite \"9.10.2 as proposed\"",
    );
    let rde = policies().join("rde.pal");
    let pp = policies();
    let o = pal(&[
        "diff",
        &rde.to_string_lossy(),
        &new.to_string_lossy(),
        "--policy-path",
        &pp.to_string_lossy(),
        "--policy-path",
        &dir.to_string_lossy(),
        "--events",
        &events.to_string_lossy(),
        "--as-at",
        "2025-03-01",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let report: Value = match serde_json::from_slice(&o.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", text(&o.stdout)),
    };
    let reported = |what: &str| -> BTreeSet<String> {
        report["pathways"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| match what {
                "outcomes" => {
                    !p["outcomes_gained"].as_array().is_none_or(Vec::is_empty)
                        || !p["outcomes_lost"].as_array().is_none_or(Vec::is_empty)
                }
                _ => !p["clocks"].as_array().is_none_or(Vec::is_empty),
            })
            .map(|p| p["pathway_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let a = independent(&rde, &events);
    let b = independent(&new, &events);
    assert_eq!(a.len(), 3000);
    let outcome_changed: BTreeSet<String> = a
        .iter()
        .filter(|(id, (o, _))| b.get(*id).map(|x| &x.0) != Some(o))
        .map(|(id, _)| id.clone())
        .collect();
    let clock_changed: BTreeSet<String> = a
        .iter()
        .filter(|(id, (_, c))| b.get(*id).map(|x| &x.1) != Some(c))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        !outcome_changed.is_empty(),
        "the extract has no pathway the change moves"
    );
    assert_eq!(reported("outcomes"), outcome_changed);
    assert_eq!(reported("clocks"), clock_changed);
    // The cause is the rule that reads the parameter, with its citation.
    let causes = report["causes"].as_array().cloned().unwrap_or_default();
    let first = &causes[0];
    assert_eq!(
        first["cause"], "patient_cancellation_discharge",
        "{causes:?}"
    );
    assert_eq!(first["cite"][0], "9.10.2");
    assert_eq!(first["because"][0], "reads cancellation_limit: 2 → 3");
    // Every changed pathway is explained by a rule that reads the limit, or by an exception
    // of that rule (which now applies where the rule no longer holds).
    let explained: BTreeSet<&str> = causes
        .iter()
        .filter(|c| {
            c["because"].as_array().into_iter().flatten().any(|b| {
                b.as_str()
                    .unwrap_or_default()
                    .contains("cancellation_limit: 2 → 3")
            })
        })
        .filter_map(|c| c["cause"].as_str())
        .collect();
    for p in report["pathways"].as_array().into_iter().flatten() {
        let causes: Vec<&str> = p["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(causes.iter().any(|c| explained.contains(c)), "{p}");
    }
    assert_eq!(report["counts"]["pathways"], 3000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn identical_policies_report_no_difference() {
    let dir = scratch("same");
    let same = variant(&dir, "same", "");
    let pp = policies();
    let args = |events: bool| {
        let mut a: Vec<String> = vec![
            "diff".into(),
            "policies/rde.pal".into(),
            same.to_string_lossy().into(),
            "--policy-path".into(),
            pp.to_string_lossy().into(),
        ];
        if events {
            a.extend(
                ["--events", "examples/events.csv", "--as-at", "2025-03-31"].map(String::from),
            );
        }
        a
    };
    let run = |a: Vec<String>| pal(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(args(true));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("3. Pathways that change: 0 of 300"), "{out}");
    assert!(out.contains("none: the two policies are the same"), "{out}");
    let o = run(args(false));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("no pathway can tell them apart"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Notice of exactly three weeks (3.34): a variant whose reasonable notice is one day longer
/// differs only on an offer made 21 days ahead. The search finds it, and the block it prints
/// passes under RDE and fails under the variant when run by `pal test`.
#[test]
fn a_boundary_change_is_found_without_data_and_its_test_block_tells_them_apart() {
    let dir = scratch("boundary");
    let new = variant(
        &dir,
        "notice_plus_a_day",
        "set reasonable_notice = 22 days cite \"3.34 as proposed\"",
    );
    let rde = policies().join("rde.pal");
    let pp = policies();
    let o = pal(&[
        "diff",
        &rde.to_string_lossy(),
        &new.to_string_lossy(),
        "--policy-path",
        &pp.to_string_lossy(),
        "--policy-path",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let Some(start) = out.find("// Found by `pal diff`") else {
        panic!("no test block: {out}")
    };
    let block = &out[start..];
    // The offer is dated exactly three weeks after the decline that records it.
    assert!(
        block
            .contains("2025-01-06 offer_declined { appointment: first, offered_date: 2025-01-27 }"),
        "{block}"
    );
    for (policy, name, expected) in [(&rde, "under_rde", 0), (&new, "under_variant", 1)] {
        let file = dir.join(format!("{name}.pal"));
        write(
            &file,
            &format!("policy {name} extends \"{}\"\n\n{block}", policy.display()),
        );
        let o = pal(&[
            "test",
            &file.to_string_lossy(),
            "--policy-path",
            &pp.to_string_lossy(),
            "--policy-path",
            &dir.to_string_lossy(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(expected),
            "{name}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A search that cannot reach the difference says how far it went.
#[test]
fn a_search_that_finds_nothing_says_how_far_it_searched() {
    let dir = scratch("bounded");
    // Two cancellations are needed to see the limit at all: one event is not enough.
    let new = variant(&dir, "three", "set cancellation_limit = 3 cite \"9.10.2\"");
    let pp = policies();
    let o = pal(&[
        "diff",
        "policies/rde.pal",
        &new.to_string_lossy(),
        "--policy-path",
        &pp.to_string_lossy(),
        "--max-events",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("no difference on pathways of up to 1 event over 32 event types"),
        "{out}"
    );
    assert!(out.contains("timelines tried"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_policy_with_errors_is_trouble_not_a_difference() {
    let o = pal(&[
        "diff",
        "policies/rde.pal",
        "tests/diagnostics/E0102_unknown_field.pal",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let o = pal(&["diff", "policies/rde.pal", "no/such.pal"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

/// The board-paper report on the example extract: RDE against the stricter trust.
#[test]
fn the_report_on_the_example_extract() {
    let o = pal(&[
        "diff",
        "policies/rde.pal",
        "policies/variants/strict_trust.pal",
        "--policy-path",
        "policies",
        "--events",
        "examples/events.csv",
        "--as-at",
        "2025-03-31",
        "--examples",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    insta::assert_snapshot!(text(&o.stdout));
}

#[test]
fn the_repl_shows_the_scenario_under_another_policy() {
    let mut child = match Command::new(env!("CARGO_BIN_EXE_pal"))
        .args(["repl", "policies/rde.pal", "--policy-path", "policies"])
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
        let _ = stdin.write_all(
            b"2025-01-06 referral_received\n\
              2025-01-13 offer_declined { appointment: first, offered_date: 2025-02-02 }\n\
              :diff policies/variants/strict_trust.pal\n\
              :diff policies/rde.pal\n",
        );
    }
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("pal repl failed: {e}"),
    };
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

/// `--format html -o FILE`: the page carries the JSON report's figures — every position row
/// (old, new, change), the changed-pathway count, each cause with its citations and count,
/// each kind of change with its count — and each example as a side-by-side timeline that
/// the causes link to.
#[test]
fn the_html_page_carries_the_reports_figures() {
    let dir = scratch("html");
    let page = dir.join("diff.html");
    let args = |format: &str| -> Vec<String> {
        [
            "diff",
            "policies/rde.pal",
            "policies/variants/strict_trust.pal",
            "--policy-path",
            "policies",
            "--events",
            "examples/events.csv",
            "--as-at",
            "2025-03-31",
            "--format",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let json = pal(&args("json").iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(json.status.code(), Some(1), "{}", text(&json.stderr));
    let report: Value = serde_json::from_slice(&json.stdout).unwrap_or(Value::Null);
    let mut html_args = args("html");
    html_args.extend(["-o".to_string(), page.to_string_lossy().into_owned()]);
    let o = pal(&html_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "the page went to the file, not stdout");
    let html = match std::fs::read_to_string(&page) {
        Ok(t) => t,
        Err(e) => panic!("no page written: {e}"),
    };
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));

    let changed = report["changed_pathways"].as_u64().unwrap_or(0);
    assert!(changed > 0);
    assert!(
        html.contains(&format!(
            "id=\"changed-pathways\"><div class=\"v\">{changed}</div><div class=\"l\">of {} pathways change",
            report["counts"]["pathways"]
        )),
        "the changed-pathway card"
    );
    // Position: one row per measure, figures formatted as the human report does.
    let figure = |v: &Value, unit: &str, signed: bool| -> String {
        match v.as_f64() {
            None => "—".into(),
            Some(x) if signed && x == 0.0 => "0".into(),
            Some(x) if unit == "percent" && signed => format!("{x:+.1} pts"),
            Some(x) if unit == "percent" => format!("{x:.1}%"),
            Some(x) if signed => format!("{x:+.0}"),
            Some(x) => format!("{x:.0}"),
        }
    };
    let rows = report["position"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 5, "{rows:?}");
    for r in &rows {
        let unit = r["unit"].as_str().unwrap_or_default();
        let measure = match r["clock"].as_str() {
            Some(c) => format!("{c}: {}", r["measure"].as_str().unwrap_or_default()),
            None => r["measure"].as_str().unwrap_or_default().to_string(),
        };
        let row = format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            measure,
            figure(&r["old"], unit, false),
            figure(&r["new"], unit, false),
            figure(&r["change"], unit, true)
        );
        assert!(html.contains(&row), "no position row {row}");
    }
    // Causes: name, citations and count in one row; each example linked to its timeline.
    let causes_at = html.find("id=\"causes\"").unwrap_or(0);
    let causes = &html[causes_at..];
    let causes = &causes[..causes.find("</table>").unwrap_or(0)];
    let listed = report["causes"].as_array().cloned().unwrap_or_default();
    assert_eq!(causes.matches("<tr><td>").count(), listed.len());
    for c in &listed {
        let cite: Vec<&str> = c["cite"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let name = c["cause"].as_str().unwrap_or_default();
        let row = causes
            .lines()
            .find(|l| l.contains(&format!("<td>{name}</td>")))
            .unwrap_or_else(|| panic!("no cause row for {name}"));
        assert!(
            row.contains(&format!("<td>{}</td>", cite.join("; "))),
            "{row}"
        );
        assert!(
            row.contains(&format!("<td class=\"n\">{}</td>", c["pathways"])),
            "{row}"
        );
        for e in c["examples"].as_array().into_iter().flatten() {
            let id = e.as_str().unwrap_or_default();
            assert!(
                row.contains(&format!("<a href=\"#pathway-{id}\">{id}</a>")),
                "{row}"
            );
        }
    }
    // Kinds of change: every clock field and outcome tally with its count.
    let tally = &report["tally"];
    for (k, n) in tally["clock_fields"].as_object().into_iter().flatten() {
        assert!(
            html.contains(&format!(
                "<tr><td>{k} differs</td><td class=\"n\">{n}</td></tr>"
            )),
            "{k}"
        );
    }
    for (k, n) in tally["outcomes_gained"].as_object().into_iter().flatten() {
        assert!(
            html.contains(&format!(
                "<tr><td>outcome {k} gained</td><td class=\"n\">{n}</td></tr>"
            )),
            "{k}"
        );
    }
    // Examples: one section per distinct pathway, a side-by-side table with rows that differ.
    let mut ids: Vec<&str> = report["examples"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["diff"]["pathway_id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert!(!ids.is_empty());
    assert_eq!(
        html.matches("<section class=\"timeline\"").count(),
        ids.len()
    );
    for id in ids {
        let at = html
            .find(&format!("<section class=\"timeline\" id=\"pathway-{id}\">"))
            .unwrap_or_else(|| panic!("no timeline for {id}"));
        let section = &html[at..];
        let section = &section[..section.find("</section>").unwrap_or(0)];
        assert!(
            section.contains("<th>old: rde</th><th>new: strict_trust</th>"),
            "{section}"
        );
        assert!(section.contains("<tr class=\"differs\">"), "{section}");
    }
    // Without --events there is no extract to lay out: a usage error, nothing written.
    let _ = std::fs::remove_file(&page);
    let o = pal(&[
        "diff",
        "policies/rde.pal",
        "policies/variants/strict_trust.pal",
        "--policy-path",
        "policies",
        "--format",
        "html",
        "-o",
        &page.to_string_lossy(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--format html needs --events"));
    assert!(!page.exists());
}
