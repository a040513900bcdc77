//! Runs the `test` blocks of a policy: evaluates each scenario and checks its expectations.

use crate::base::source::Span;
use crate::base::value::Value;
use crate::model::ir::{Expectation, ExpectationKind, Policy, RuleKind, TestCase};
use crate::runtime::eval::{Evaluator, PathwayResult, PeriodStatus, RuleOutcome};
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// The result of one test.
#[derive(Debug, Clone)]
pub struct TestReport {
    /// The test's name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Each failed expectation: the `expect` line and what was found instead.
    pub failures: Vec<(Expectation, String)>,
    /// The evaluation, with its trace.
    pub result: PathwayResult,
}

impl TestReport {
    /// True when every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs one test case.
pub fn run_test(policy: &Policy, case: &TestCase) -> TestReport {
    let mut ev = Evaluator::new(policy);
    for (p, initial, dated) in &case.sets {
        ev.set_param(*p, initial.clone(), dated.clone());
    }
    let as_at = case
        .as_at
        .or_else(|| case.events.iter().map(|e| e.date).max())
        .unwrap_or(NaiveDate::MIN);
    let (result, state, history) =
        ev.run_with_state(&case.name, &case.events, &case.attributes, as_at, true);
    let mut failures = Vec::new();
    for x in &case.expectations {
        if let Some(why) = check(&ev, x, &result, &state, &history, as_at) {
            failures.push((x.clone(), why));
        }
    }
    TestReport {
        name: case.name.clone(),
        span: case.span,
        failures,
        result,
    }
}

fn check(
    ev: &Evaluator,
    x: &Expectation,
    r: &PathwayResult,
    state: &crate::runtime::eval::PathwayState,
    history: &[&crate::model::event::Event],
    as_at: NaiveDate,
) -> Option<String> {
    match &x.kind {
        ExpectationKind::Outcome {
            negated,
            name,
            cite,
        } => {
            let found: Vec<_> = r.outcomes.iter().filter(|o| o.outcome == *name).collect();
            if *negated {
                return found.first().map(|o| {
                    format!(
                        "outcome `{name}` was recorded on {} by rule `{}`",
                        o.date, o.rule
                    )
                });
            }
            if found.is_empty() {
                let got: Vec<String> = r.outcomes.iter().map(|o| o.outcome.to_string()).collect();
                return Some(if got.is_empty() {
                    "no outcome was recorded".into()
                } else {
                    format!("outcomes recorded: {}", got.join(", "))
                });
            }
            if !cite.is_empty()
                && !found
                    .iter()
                    .any(|o| cite.iter().all(|c| o.cite.split(", ").any(|x| x == c)))
            {
                return Some(format!(
                    "outcome `{name}` cites {}",
                    found
                        .iter()
                        .map(|o| format!("\"{}\" (rule `{}`)", o.cite, o.rule))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            None
        }
        ExpectationKind::Obligation {
            negated: true,
            name,
            status,
        } => r
            .obligations
            .iter()
            .find(|o| o.what == *name && status.is_none_or(|s| o.status == s))
            .map(|o| {
                format!(
                    "obligation `{name}` was created on {} by rule `{}` ({}, due {})",
                    o.created, o.rule, o.status, o.due
                )
            }),
        ExpectationKind::Obligation {
            negated: false,
            name,
            status,
        } => {
            let found: Vec<_> = r.obligations.iter().filter(|o| o.what == *name).collect();
            if found.iter().any(|o| Some(o.status) == *status) {
                return None;
            }
            Some(if found.is_empty() {
                format!("no obligation `{name}` was created")
            } else {
                format!(
                    "obligation `{name}` is {}",
                    found
                        .iter()
                        .map(|o| format!("{} (due {})", o.status, o.due))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        }
        ExpectationKind::Conflict { negated } => match (r.conflicts.first(), negated) {
            (None, false) => Some("no conflict was reported".into()),
            (Some(c), true) => Some(format!(
                "conflict on {} between {}",
                c.date,
                crate::base::name::join(&c.rules, " and ")
            )),
            _ => None,
        },
        ExpectationKind::Warning { negated } => match (r.warnings.first(), negated) {
            (None, false) => Some("no warning was reported".into()),
            (Some(w), true) => Some(format!("warning on {}: {}", w.date, w.message)),
            _ => None,
        },
        ExpectationKind::Clock {
            clock,
            period,
            status,
            on,
        } => {
            let name = &ev.policy.clocks[*clock as usize].name;
            let periods: Vec<_> = r.clocks.iter().filter(|p| p.clock == *name).collect();
            let Some(status) = status else {
                return (!periods.is_empty())
                    .then(|| format!("`{name}` has {} period(s)", periods.len()));
            };
            let p = match period {
                Some(n) => periods.iter().find(|p| p.period == *n),
                None => periods.last(),
            };
            let Some(p) = p else {
                return Some(match period {
                    Some(n) => format!("`{name}` has no period {n} ({} period(s))", periods.len()),
                    None => format!("`{name}` never started"),
                });
            };
            let date = match p.status {
                PeriodStatus::Stopped | PeriodStatus::Nullified => p.stop,
                _ => Some(p.start),
            };
            let describe = || {
                format!(
                    "`{name}` period {} is {} (start {}{}{})",
                    p.period,
                    p.status,
                    p.start,
                    p.stop.map(|s| format!(", stop {s}")).unwrap_or_default(),
                    p.reason
                        .as_ref()
                        .map(|s| format!(", reason {s}"))
                        .unwrap_or_default()
                )
            };
            if p.status != *status || on.is_some_and(|d| Some(d) != date) {
                return Some(describe());
            }
            None
        }
        ExpectationKind::Holds(e) => {
            let v = ev.eval_at(e, state, history, as_at);
            if v == Value::Bool(true) {
                return None;
            }
            // Show the operands of a failed comparison.
            let detail = match e {
                crate::model::ir::Expr::Binary(_, a, b) => {
                    let show = |v: Value| match v {
                        Value::Unset => "unset".to_string(),
                        other => ev.policy.schema.display_value(&other),
                    };
                    format!(
                        "it is false: left side is {}, right side is {}",
                        show(ev.eval_at(a, state, history, as_at)),
                        show(ev.eval_at(b, state, history, as_at))
                    )
                }
                _ => "it is false".to_string(),
            };
            Some(detail)
        }
    }
}

/// What the tests exercised, for `pal test --coverage` and the untested-rule lint.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Names of rules, exceptions and timers that fired in at least one test.
    pub fired: BTreeSet<String>,
    /// Names of parameters read by a rule that fired (or the target of a clock that ran), or
    /// set by a test.
    pub params: BTreeSet<String>,
    /// Tests counted.
    pub tests: usize,
}

impl Coverage {
    /// Adds what one test run exercised.
    pub fn add(&mut self, policy: &Policy, report: &TestReport, case: &TestCase) {
        self.tests += 1;
        for step in report.result.trace.iter().flatten() {
            for r in &step.rules {
                if r.result == RuleOutcome::Fired && self.fired.insert(r.rule.to_string()) {
                    // A parameter a fired rule reads is exercised by the test.
                    if let Some(id) = policy.rules.iter().position(|d| d.name == r.rule) {
                        for p in policy.params_read(id as u32) {
                            if let Some(def) = policy.params.get(p as usize) {
                                self.params.insert(def.name.clone());
                            }
                        }
                    }
                }
            }
        }
        // A clock's target parameter is exercised by a test in which the clock ran.
        for c in &policy.clocks {
            if let crate::model::ir::Target::Param(p) = c.target {
                if report
                    .result
                    .clocks
                    .iter()
                    .any(|period| period.clock == c.name)
                {
                    if let Some(def) = policy.params.get(p as usize) {
                        self.params.insert(def.name.clone());
                    }
                }
            }
        }
        for (p, _, _) in &case.sets {
            if let Some(def) = policy.params.get(*p as usize) {
                self.params.insert(def.name.clone());
            }
        }
    }

    /// Rules, exceptions and timers (enabled) that no test made fire, in policy order.
    pub fn untested<'p>(&self, policy: &'p Policy) -> Vec<&'p crate::model::ir::RuleDef> {
        policy
            .rules
            .iter()
            .filter(|r| r.disabled.is_none() && !self.fired.contains(&r.name))
            .filter(|r| !matches!(r.kind, RuleKind::Exception { parent } if parent == u32::MAX))
            .collect()
    }
}
