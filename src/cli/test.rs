//! `pal test [PATH…]`: run the `test` blocks of policy files.
//!
//! Each file's tests run against the policy that file defines (the file and what it imports or
//! extends), never against a policy that extends it.

use super::{default_paths, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE};
use pal_engine::base::diagnostic::Code;
use pal_engine::base::source::SourceMap;
use pal_engine::io::render::{render, Format};
use pal_engine::runtime::testing::Coverage;
use pal_engine::services::test_run::{run_tests, Ran, TestRun};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pal test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy files or directories. Default: `policies/`.
    pub paths: Vec<PathBuf>,
    /// Also let policies import, extend and read holiday files under DIR (repeatable; the
    /// policy's own folder is always allowed).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// Output: human, json or junit.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "junit"])]
    pub format: String,
    /// Only run tests whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Report which rules, exceptions, timers and parameters the tests exercised.
    #[arg(long)]
    pub coverage: bool,
}

/// Runs `pal test`.
pub fn run(args: &TestArgs, out: &mut dyn Write) -> u8 {
    let paths = default_paths(&args.paths);
    let TestRun {
        ran,
        coverage,
        checked,
        untested,
    } = run_tests(&paths, &args.policy_path, args.filter.as_deref());
    let (errors, _) = checked.counts();
    if errors > 0 {
        let only_errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let _ = out.write_all(
            render(
                &only_errors,
                &checked.sources,
                Format::Human,
                super::color_stdout(),
            )
            .as_bytes(),
        );
        let unreadable = only_errors
            .iter()
            .any(|d| d.code == Code::E0002 || d.code == Code::E0003);
        return if unreadable {
            EXIT_UNREADABLE
        } else {
            EXIT_FINDINGS
        };
    }
    let failed = ran.iter().filter(|r| !r.report.passed()).count();
    match args.format.as_str() {
        "json" => write_json(&ran, out),
        "junit" => write_junit(&ran, out),
        _ => write_human(&ran, &checked.sources, out),
    }
    if args.coverage {
        write_coverage(&coverage, &untested, &checked, out);
    }
    if failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn write_human(ran: &[Ran], _sources: &SourceMap, out: &mut dyn Write) {
    for r in ran {
        let status = if r.report.passed() { "ok" } else { "FAILED" };
        let _ = writeln!(
            out,
            "test {}:{} {} ... {status}",
            r.file, r.line, r.report.name
        );
    }
    let failed: Vec<&Ran> = ran.iter().filter(|r| !r.report.passed()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for r in &failed {
            let _ = writeln!(out, "\n---- {} ({}:{}) ----", r.report.name, r.file, r.line);
            for (x, why) in &r.report.failures {
                let _ = writeln!(out, "  {}\n    but {why}", x.text);
            }
            let _ = writeln!(out, "  trace:");
            for step in r.report.result.trace.iter().flatten() {
                let line = step
                    .line
                    .map(|l| format!(" (line {l})"))
                    .unwrap_or_default();
                let _ = writeln!(out, "    {} {}{line}", step.date, step.event);
                for rule in &step.rules {
                    let detail = rule
                        .detail
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "      {} {} [{}]{detail}",
                        rule.result, rule.rule, rule.cite
                    );
                }
                let _ = writeln!(out, "      clocks: {}", step.clocks.join("; "));
            }
        }
    }
    let passed = ran.len() - failed.len();
    let _ = writeln!(
        out,
        "\ntest result: {}. {passed} passed, {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    expect: &'a str,
    found: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct JsonTest<'a> {
    name: &'a str,
    file: &'a str,
    line: usize,
    passed: bool,
    failures: Vec<JsonFailure<'a>>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tests: Vec<JsonTest<'a>>,
    passed: usize,
    failed: usize,
}

fn write_json(ran: &[Ran], out: &mut dyn Write) {
    let tests: Vec<JsonTest> = ran
        .iter()
        .map(|r| JsonTest {
            name: &r.report.name,
            file: &r.file,
            line: r.line,
            passed: r.report.passed(),
            failures: r
                .report
                .failures
                .iter()
                .map(|(x, why)| JsonFailure {
                    expect: &x.text,
                    found: why,
                    line: 0,
                })
                .collect(),
        })
        .collect();
    let failed = tests.iter().filter(|t| !t.passed).count();
    let report = JsonReport {
        version: 1,
        passed: tests.len() - failed,
        failed,
        tests,
    };
    if let Ok(s) = serde_json::to_string(&report) {
        let _ = writeln!(out, "{s}");
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn write_junit(ran: &[Ran], out: &mut dyn Write) {
    let failed = ran.iter().filter(|r| !r.report.passed()).count();
    let _ = writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        out,
        "<testsuites name=\"pal\" tests=\"{}\" failures=\"{failed}\">",
        ran.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"pal\" tests=\"{}\" failures=\"{failed}\">",
        ran.len()
    );
    for r in ran {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\"",
            xml_escape(&r.report.name),
            xml_escape(&r.file),
            xml_escape(&r.file),
            r.line
        );
        if r.report.passed() {
            let _ = writeln!(out, "/>");
            continue;
        }
        let _ = writeln!(out, ">");
        for (x, why) in &r.report.failures {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\">{}</failure>",
                xml_escape(&format!("{} but {why}", x.text)),
                xml_escape(&format!("{}\nbut {why}", x.text))
            );
        }
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
}

fn write_coverage(
    coverage: &Coverage,
    untested: &[(String, Vec<String>)],
    checked: &pal_engine::services::project::CheckRun,
    out: &mut dyn Write,
) {
    let _ = writeln!(out, "\ncoverage:");
    for root in &checked.roots {
        let Some(policy) = &root.policy else { continue };
        let Some((_, missing)) = untested
            .iter()
            .find(|(n, _)| *n == root.path.display().to_string())
        else {
            continue;
        };
        let total = policy.rules.iter().filter(|r| r.disabled.is_none()).count();
        let _ = writeln!(
            out,
            "  {}: {} of {total} rules, exceptions and timers exercised",
            root.path.display(),
            total - missing.len()
        );
        for m in missing {
            let _ = writeln!(out, "    not exercised: {m}");
        }
        let unused: Vec<&str> = policy
            .params
            .iter()
            .map(|p| p.name.as_str())
            .filter(|p| !coverage.params.contains(*p))
            .collect();
        if !unused.is_empty() {
            let _ = writeln!(
                out,
                "    parameters never varied by a test: {}",
                unused.join(", ")
            );
        }
    }
}
