//! The test run: every `test` block of the policies in a set of paths, each run against the
//! policy its own file defines (the file and what it imports or extends), with coverage per
//! file and over all files — the same computation as the `untested-rule` lint.

use crate::model::ir::{Expectation, ExpectationKind, Policy};
use crate::runtime::testing::{run_test, Coverage, TestReport};
use crate::services::project::{load_roots_with, untested, CheckRun, RootCoverage};
use std::path::PathBuf;

/// One failed expectation, where it is written and what was found instead.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The line of the `expect`.
    pub line: usize,
    /// The `expect` as written.
    pub expect: String,
    /// What was found instead.
    pub found: String,
    /// The rule that decided what was found, with its citation, when one did.
    pub decided_by: Option<String>,
}

/// One test's report with where it lives.
pub struct Ran {
    /// File name.
    pub file: String,
    /// Line of the test's name.
    pub line: usize,
    /// The report (with the trace).
    pub report: TestReport,
    /// Its failed expectations, in order.
    pub failures: Vec<Failure>,
}

impl Ran {
    /// One line for a failed test: its name, where it is, and each failed `expect` (with its
    /// line) and what was found instead.
    pub fn failure_summary(&self) -> String {
        let failures: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("line {}: `{}` but {}", f.line, f.expect, f.found))
            .collect();
        format!(
            "{} ({}:{}): {}",
            self.report.name,
            self.file,
            self.line,
            failures.join("; ")
        )
    }
}

/// What one file's own tests exercised.
#[derive(Debug, Clone)]
pub struct FileCoverage {
    /// The test file.
    pub file: String,
    /// Tests run.
    pub tests: usize,
    /// Enabled rules, exceptions and timers of the policy the file defines.
    pub total: usize,
    /// Those its tests did not make fire, in policy order.
    pub missing: Vec<String>,
    /// Parameters of the policy that no test in the file exercised: none of its fired rules
    /// read them and no test `set` them.
    pub params_not_varied: Vec<String>,
}

/// Coverage over every file of the run: each rule declaration counted once.
#[derive(Debug, Clone, Default)]
pub struct OverallCoverage {
    /// Rule declarations.
    pub total: usize,
    /// Those that some test in some file made fire.
    pub exercised: usize,
}

/// Everything `pal test` found.
pub struct TestRun {
    /// One report per test run.
    pub ran: Vec<Ran>,
    /// The loaded policies and their findings.
    pub checked: CheckRun,
    /// Per file with tests.
    pub files: Vec<FileCoverage>,
    /// Over all files.
    pub overall: OverallCoverage,
}

/// Runs every selected test in `paths`; policies may also read files under `policy_path`.
pub fn run_tests(paths: &[PathBuf], policy_path: &[PathBuf], filter: Option<&str>) -> TestRun {
    let checked = load_roots_with(paths, policy_path);
    let mut ran = Vec::new();
    let mut per_root = Vec::new();
    for root in &checked.roots {
        let Some(policy) = &root.policy else { continue };
        let root_name = root.path.display().to_string();
        let mut coverage = Coverage::default();
        for case in &policy.tests {
            let (file, line, _) = checked.sources.location(case.span);
            if file != root_name || filter.is_some_and(|f| !case.name.contains(f)) {
                continue;
            }
            let report = run_test(policy, case);
            coverage.add(policy, &report, case);
            let failures = report
                .failures
                .iter()
                .map(|(x, found)| Failure {
                    line: checked.sources.location(x.span).1,
                    expect: x.text.clone(),
                    found: found.clone(),
                    decided_by: decided_by(policy, &report, x),
                })
                .collect();
            ran.push(Ran {
                file: file.to_string(),
                line,
                report,
                failures,
            });
        }
        if coverage.tests > 0 {
            per_root.push(RootCoverage {
                root,
                policy,
                coverage,
            });
        }
    }
    let files = per_root
        .iter()
        .map(|c| FileCoverage {
            file: c.root.path.display().to_string(),
            tests: c.coverage.tests,
            total: c
                .policy
                .rules
                .iter()
                .filter(|r| r.disabled.is_none())
                .count(),
            missing: c
                .coverage
                .untested(c.policy)
                .iter()
                .map(|r| r.name.clone())
                .collect(),
            params_not_varied: c
                .policy
                .params
                .iter()
                .map(|p| p.name.clone())
                .filter(|p| !c.coverage.params.contains(p))
                .collect(),
        })
        .collect();
    let overall = {
        let all = untested(&checked.sources, &per_root);
        OverallCoverage {
            total: all.total,
            exercised: all.exercised(),
        }
    };
    drop(per_root);
    TestRun {
        ran,
        checked,
        files,
        overall,
    }
}

/// The rule behind what a failed expectation found: the rule that stopped or started the
/// period, or that required the outcome or obligation, with its citation.
fn decided_by(policy: &Policy, report: &TestReport, x: &Expectation) -> Option<String> {
    let r = &report.result;
    let rule = match &x.kind {
        ExpectationKind::Clock { clock, period, .. } => {
            let name = &policy.clocks.get(*clock as usize)?.name;
            let mut periods = r.clocks.iter().filter(|p| p.clock == *name);
            let p = match period {
                Some(n) => periods.find(|p| p.period == *n),
                None => periods.next_back(),
            }?;
            p.stopped_by.or(p.started_by)?
        }
        ExpectationKind::Obligation { name, .. } => {
            r.obligations.iter().find(|o| o.what == *name)?.rule
        }
        _ => return None,
    };
    let cite = policy
        .rules
        .iter()
        .find(|d| d.name == rule)
        .map(|d| d.cite.join(", "))
        .unwrap_or_default();
    Some(if cite.is_empty() {
        format!("`{rule}`")
    } else {
        format!("`{rule}` [{cite}]")
    })
}
