//! `pal test [PATH…]`: run the `test` blocks of policy files.
//!
//! Each file's tests run against the policy that file defines (the file and what it imports or
//! extends), never against a policy that extends it. A failure says what was expected (at the
//! `expect`'s own line), what happened and the rule that decided it; `--verbose` adds the trace.

use super::{color_stdout, default_paths, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE};
use pal_engine::io::render::{render, Format};
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
    /// Report which rules, exceptions, timers and parameters the tests exercised, per file and
    /// over all files.
    #[arg(long)]
    pub coverage: bool,
    /// Show each failing test's step-by-step trace.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// Runs `pal test`.
pub fn run(args: &TestArgs, out: &mut dyn Write) -> u8 {
    let paths = default_paths(&args.paths);
    let run = run_tests(&paths, &args.policy_path, args.filter.as_deref());
    let (errors, _) = run.checked.counts();
    if errors > 0 {
        let only_errors: Vec<_> = run
            .checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let _ = out.write_all(
            render(
                &only_errors,
                &run.checked.sources,
                Format::Human,
                color_stdout(),
            )
            .as_bytes(),
        );
        let unreadable = pal_engine::services::project::unreadable_input(&only_errors);
        return if unreadable {
            EXIT_UNREADABLE
        } else {
            EXIT_FINDINGS
        };
    }
    if run.ran.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        let why = match &args.filter {
            Some(f) => format!("no test name contains `{f}`"),
            None => "these files declare no `test` block; a policy's tests usually live in \
                     files beside it that extend it (e.g. `policies/rde/` for `policies/rde.pal`)"
                .to_string(),
        };
        say!("error: no tests found in {}: {why}", names.join(", "));
        return EXIT_FINDINGS;
    }
    match args.format.as_str() {
        "json" => write_json(&run, out),
        "junit" => write_junit(&run.ran, out),
        _ => write_human(&run.ran, args.verbose, color_stdout(), out),
    }
    if args.coverage {
        write_coverage(&run, out);
    }
    if run.ran.iter().any(|r| !r.failures.is_empty()) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn write_human(ran: &[Ran], verbose: bool, color: bool, out: &mut dyn Write) {
    for r in ran {
        let status = if r.failures.is_empty() {
            paint(color, "32", "ok")
        } else {
            paint(color, "1;31", "FAILED")
        };
        let _ = writeln!(
            out,
            "test {}:{} {} ... {status}",
            r.file, r.line, r.report.name
        );
    }
    let failed: Vec<&Ran> = ran.iter().filter(|r| !r.failures.is_empty()).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for r in &failed {
            let _ = writeln!(out, "\n---- {} ({}:{}) ----", r.report.name, r.file, r.line);
            for f in &r.failures {
                let _ = writeln!(out, "  {}:{}: {}", r.file, f.line, f.expect);
                let _ = writeln!(out, "    but {}", f.found);
                if let Some(rule) = &f.decided_by {
                    let _ = writeln!(out, "    decided by {rule}");
                }
            }
            if verbose {
                write_trace(r, out);
            }
        }
        if !verbose {
            let _ = writeln!(out, "\n(run with --verbose for each failing test's trace)");
        }
    }
    let passed = ran.len() - failed.len();
    let verdict = if failed.is_empty() {
        paint(color, "32", "ok")
    } else {
        paint(color, "1;31", "FAILED")
    };
    let _ = writeln!(
        out,
        "\ntest result: {verdict}. {passed} passed, {} failed",
        failed.len()
    );
}

fn write_trace(r: &Ran, out: &mut dyn Write) {
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

#[derive(Serialize)]
struct JsonFailure<'a> {
    expect: &'a str,
    found: &'a str,
    line: usize,
    decided_by: Option<&'a str>,
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

fn write_json(run: &TestRun, out: &mut dyn Write) {
    let tests: Vec<JsonTest> = run
        .ran
        .iter()
        .map(|r| JsonTest {
            name: &r.report.name,
            file: &r.file,
            line: r.line,
            passed: r.failures.is_empty(),
            failures: r
                .failures
                .iter()
                .map(|f| JsonFailure {
                    expect: &f.expect,
                    found: &f.found,
                    line: f.line,
                    decided_by: f.decided_by.as_deref(),
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

/// JUnit XML: one test case per scenario, with at most one `<failure>` listing every failed
/// expectation (CI tools count failure elements).
fn write_junit(ran: &[Ran], out: &mut dyn Write) {
    let failed = ran.iter().filter(|r| !r.failures.is_empty()).count();
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
        let Some(first) = r.failures.first() else {
            let _ = writeln!(out, "/>");
            continue;
        };
        let body: Vec<String> = r
            .failures
            .iter()
            .map(|f| {
                let decided = f
                    .decided_by
                    .as_ref()
                    .map(|d| format!("\n  decided by {d}"))
                    .unwrap_or_default();
                format!(
                    "{}:{}: {}\n  but {}{decided}",
                    r.file, f.line, f.expect, f.found
                )
            })
            .collect();
        let _ = writeln!(out, ">");
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"expectation\">{}</failure>",
            xml_escape(&format!(
                "line {}: {} but {}",
                first.line, first.expect, first.found
            )),
            xml_escape(&body.join("\n"))
        );
        let _ = writeln!(out, "    </testcase>");
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
}

fn write_coverage(run: &TestRun, out: &mut dyn Write) {
    let _ = writeln!(out, "\ncoverage:");
    for f in &run.files {
        let _ = writeln!(
            out,
            "  {}: {} of {} rules, exceptions and timers exercised by its {} test(s)",
            f.file,
            f.total - f.missing.len(),
            f.total,
            f.tests
        );
        for m in &f.missing {
            let _ = writeln!(out, "    not exercised: {m}");
        }
        if !f.params_not_varied.is_empty() {
            let _ = writeln!(
                out,
                "    parameters no test exercises (read by a rule that fired, or set): {}",
                f.params_not_varied.join(", ")
            );
        }
    }
    let o = &run.overall;
    let _ = writeln!(
        out,
        "  all files: {} of {} rule declarations exercised by some test (untested ones are W0007 in `pal check`)",
        o.exercised, o.total
    );
}
