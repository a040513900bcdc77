//! Running tests from the editor: the `test` blocks of one file (or one of them), and the tests
//! anywhere in the workspace that make a rule fire — each against the policy its own file
//! defines, with the editor's unsaved texts.

use super::{Analysis, Workspace};
use crate::base::source::{FileId, Span};
use crate::runtime::eval::RuleOutcome;
use crate::runtime::testing::run_test;
use std::path::{Path, PathBuf};

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// The test's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// Where it is declared.
    pub span: Span,
    /// Each failed `expect` as written, with what was found instead.
    pub failures: Vec<String>,
}

impl TestOutcome {
    /// True when every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What running some tests found: their outcomes, or why they could not run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestSummary {
    /// The tests run.
    pub outcomes: Vec<TestOutcome>,
    /// Policies whose tests could not run because they have errors (their root files).
    pub broken: Vec<PathBuf>,
}

impl TestSummary {
    /// One line: "3 passed, 1 failed: name (…)".
    pub fn line(&self) -> String {
        let failed: Vec<&TestOutcome> = self.outcomes.iter().filter(|o| !o.passed()).collect();
        let mut s = format!(
            "{} passed, {} failed",
            self.outcomes.len() - failed.len(),
            failed.len()
        );
        for f in failed.iter().take(3) {
            s.push_str(&format!("; `{}`: {}", f.name, f.failures.join("; ")));
        }
        if !self.broken.is_empty() {
            let names: Vec<String> = self
                .broken
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            s.push_str(&format!(
                "; not run (the policy has errors): {}",
                names.join(", ")
            ));
        }
        s
    }
}

impl Analysis {
    /// Runs the tests declared in `file` (only the one named `only`, if given), each passing to
    /// `keep` with its report to be kept or not.
    fn run_file_tests(
        &self,
        file: FileId,
        only: Option<&str>,
        keep: &dyn Fn(&crate::runtime::testing::TestReport) -> bool,
        summary: &mut TestSummary,
    ) {
        let Some(policy) = &self.policy else {
            summary.broken.push(self.root.clone());
            return;
        };
        for case in policy.tests.iter().filter(|c| c.span.file == file) {
            if only.is_some_and(|n| n != case.name) {
                continue;
            }
            let report = run_test(policy, case);
            if !keep(&report) {
                continue;
            }
            summary.outcomes.push(TestOutcome {
                name: case.name.clone(),
                path: self.path(file),
                span: case.span,
                failures: report
                    .failures
                    .iter()
                    .map(|(x, why)| format!("`{}` but {why}", x.text))
                    .collect(),
            });
        }
    }

    /// Runs the tests declared in `file`, or only the one named `only`.
    pub fn run_tests(&self, file: FileId, only: Option<&str>) -> TestSummary {
        let mut summary = TestSummary::default();
        self.run_file_tests(file, only, &|_| true, &mut summary);
        summary
    }
}

impl Workspace {
    /// Runs every test, in `path`'s policy and in the files that build on it, in which the rule
    /// or exception `rule` fires.
    pub fn run_rule_tests(&mut self, path: &Path, rule: &str) -> TestSummary {
        let mut summary = TestSummary::default();
        let mut roots = vec![self.root_of(path)];
        for d in self.dependents(path) {
            let r = self.root_of(&d);
            if !roots.contains(&r) {
                roots.push(r);
            }
        }
        let fires = |report: &crate::runtime::testing::TestReport| {
            report.result.trace.iter().flatten().any(|step| {
                step.rules
                    .iter()
                    .any(|r| r.rule == rule && r.result == RuleOutcome::Fired)
            })
        };
        for root in roots {
            let a = self.analyze_root(&root);
            // Each analysis runs the tests of its own root file: every file with tests is a
            // root of its own, so no test runs twice.
            if let Some(id) = a.file_id(&root) {
                let has_tests = a.loaded.modules.last().is_some_and(|m| {
                    m.ast
                        .items
                        .iter()
                        .any(|i| matches!(i, crate::syntax::ast::Item::Test(_)))
                });
                if has_tests {
                    a.run_file_tests(id, None, &fires, &mut summary);
                }
            }
        }
        summary
    }
}
