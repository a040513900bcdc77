//! The test run: every `test` block of the policies in a set of paths, each run against the
//! policy its own file defines (the file and what it imports or extends), with coverage.

use crate::runtime::testing::{run_test, Coverage, TestReport};
use crate::services::project::{load_roots_with, CheckRun};
use std::path::PathBuf;

/// One test's report with where it lives.
pub struct Ran {
    /// File name.
    pub file: String,
    /// Line of the test's name.
    pub line: usize,
    /// The report.
    pub report: TestReport,
}

/// Everything `pal test` found.
pub struct TestRun {
    /// One report per test run.
    pub ran: Vec<Ran>,
    /// What the tests exercised.
    pub coverage: Coverage,
    /// The loaded policies and their findings.
    pub checked: CheckRun,
    /// Per root file with tests: the rules its tests did not exercise.
    pub untested: Vec<(String, Vec<String>)>,
}

/// Runs every selected test in `paths`; policies may also read files under `policy_path`.
pub fn run_tests(paths: &[PathBuf], policy_path: &[PathBuf], filter: Option<&str>) -> TestRun {
    let checked = load_roots_with(paths, policy_path);
    let mut ran = Vec::new();
    let mut coverage = Coverage::default();
    let mut untested = Vec::new();
    for root in &checked.roots {
        let Some(policy) = &root.policy else { continue };
        let root_name = root.path.display().to_string();
        let mut any = false;
        for case in &policy.tests {
            let (file, line, _) = checked.sources.location(case.span);
            if file != root_name {
                continue;
            }
            if filter.is_some_and(|f| !case.name.contains(f)) {
                continue;
            }
            any = true;
            let report = run_test(policy, case);
            coverage.add(policy, &report, case);
            ran.push(Ran {
                file: file.to_string(),
                line,
                report,
            });
        }
        if any {
            let names = coverage
                .untested(policy)
                .iter()
                .map(|r| r.name.clone())
                .collect();
            untested.push((root_name, names));
        }
    }
    TestRun {
        ran,
        coverage,
        checked,
        untested,
    }
}
