//! One pathway under two policies: what a patient, a booking clerk or the PTL would see
//! change (clock periods, outcomes, obligations, conflicts, warnings), and which rules fired
//! differently (from the evaluator's trace). Pure: results in, differences out.

use crate::runtime::eval::{
    ConflictResult, Name, ObligationResult, OutcomeResult, PathwayResult, PeriodResult,
    RuleOutcome, TraceStep, WarningResult,
};
use chrono::NaiveDate;
use serde::Serialize;

/// A part of a clock period that differs between the two policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodField {
    /// The period exists under one policy only.
    Existence,
    /// Running, paused, stopped or nullified.
    Status,
    /// Clock start.
    Start,
    /// Stop or nullification date.
    Stop,
    /// Stop or nullification reason.
    Reason,
    /// Days waited.
    DaysWaited,
    /// The last day within the standard (the breach date is the day after).
    BreachDate,
    /// Over the standard or not.
    Breached,
}

impl PeriodField {
    /// How the field is named in reports.
    pub fn label(self) -> &'static str {
        match self {
            PeriodField::Existence => "period",
            PeriodField::Status => "status",
            PeriodField::Start => "start",
            PeriodField::Stop => "stop",
            PeriodField::Reason => "reason",
            PeriodField::DaysWaited => "days waited",
            PeriodField::BreachDate => "breach date",
            PeriodField::Breached => "breached",
        }
    }
}

/// One clock period that differs: as it is under the old policy and under the new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodChange {
    /// The clock.
    pub clock: String,
    /// 1-based period number.
    pub period: u32,
    /// What differs.
    pub changed: Vec<PeriodField>,
    /// The period under the old policy (absent: it has no such period).
    pub old: Option<PeriodResult>,
    /// The period under the new policy.
    pub new: Option<PeriodResult>,
}

/// Everything that differs on one pathway.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PathwayDiff {
    /// The pathway.
    pub pathway_id: String,
    /// Clock periods that differ.
    pub clocks: Vec<PeriodChange>,
    /// Outcomes recorded only under the new policy.
    pub outcomes_gained: Vec<OutcomeResult>,
    /// Outcomes recorded only under the old policy.
    pub outcomes_lost: Vec<OutcomeResult>,
    /// Obligations (with their status) only under the new policy.
    pub obligations_gained: Vec<ObligationResult>,
    /// Obligations (with their status) only under the old policy.
    pub obligations_lost: Vec<ObligationResult>,
    /// Conflicts only under the new policy.
    pub conflicts_gained: Vec<ConflictResult>,
    /// Conflicts only under the old policy.
    pub conflicts_lost: Vec<ConflictResult>,
    /// Warnings only under the new policy.
    pub warnings_gained: Vec<WarningResult>,
    /// Warnings only under the old policy.
    pub warnings_lost: Vec<WarningResult>,
    /// Rules and exceptions whose firing differs, by name, in policy order of first difference
    /// (filled in by [`firing_difference`] when traces are available).
    pub causes: Vec<String>,
}

fn period_changes(a: &PeriodResult, b: &PeriodResult) -> Vec<PeriodField> {
    let mut out = Vec::new();
    if a.status != b.status {
        out.push(PeriodField::Status);
    }
    if a.start != b.start {
        out.push(PeriodField::Start);
    }
    if a.stop != b.stop {
        out.push(PeriodField::Stop);
    }
    if a.reason != b.reason {
        out.push(PeriodField::Reason);
    }
    if a.days_waited != b.days_waited {
        out.push(PeriodField::DaysWaited);
    }
    if a.target_date != b.target_date {
        out.push(PeriodField::BreachDate);
    }
    if a.breached != b.breached {
        out.push(PeriodField::Breached);
    }
    out
}

fn outcome_key(o: &OutcomeResult) -> (&str, NaiveDate) {
    (&o.outcome, o.date)
}

fn obligation_key(
    o: &ObligationResult,
) -> (
    &str,
    NaiveDate,
    NaiveDate,
    crate::runtime::eval::ObligationStatus,
    Option<NaiveDate>,
) {
    (&o.what, o.created, o.due, o.status, o.met_on)
}

fn conflict_key(c: &ConflictResult) -> (NaiveDate, &str, &[Name]) {
    (c.date, &c.clock, &c.rules)
}

fn warning_key(w: &WarningResult) -> (NaiveDate, &str) {
    (w.date, &w.message)
}

/// True if the two lists hold the same keys in the same order (the fast path: no allocation).
fn same_in_order<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| eq(x, y))
}

/// Multiset difference: `(only in a, only in b)`.
fn split<T: Clone>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> (Vec<T>, Vec<T>) {
    let mut used = vec![false; b.len()];
    let mut only_a = Vec::new();
    for x in a {
        match (0..b.len()).find(|&j| !used[j] && eq(x, &b[j])) {
            Some(j) => used[j] = true,
            None => only_a.push(x.clone()),
        }
    }
    let only_b = b
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(x, _)| x.clone())
        .collect();
    (only_a, only_b)
}

fn same_periods(a: &[PeriodResult], b: &[PeriodResult]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.clock == y.clock && x.period == y.period && period_changes(x, y).is_empty()
        })
}

/// Compares one pathway's results under the old and the new policy; `None` if nothing a
/// report shows differs (rule names and citations aside: a renamed rule that does the same is
/// no change to the patient).
pub fn compare(old: &PathwayResult, new: &PathwayResult) -> Option<PathwayDiff> {
    if same_periods(&old.clocks, &new.clocks)
        && same_in_order(&old.outcomes, &new.outcomes, |x, y| {
            outcome_key(x) == outcome_key(y)
        })
        && same_in_order(&old.obligations, &new.obligations, |x, y| {
            obligation_key(x) == obligation_key(y)
        })
        && same_in_order(&old.conflicts, &new.conflicts, |x, y| {
            conflict_key(x) == conflict_key(y)
        })
        && same_in_order(&old.warnings, &new.warnings, |x, y| {
            warning_key(x) == warning_key(y)
        })
    {
        return None;
    }
    let mut d = PathwayDiff {
        pathway_id: old.pathway_id.to_string(),
        ..PathwayDiff::default()
    };
    // Periods are matched by clock and number.
    let mut seen: Vec<(&str, u32)> = Vec::new();
    for p in old.clocks.iter().chain(&new.clocks) {
        let key = (p.clock.as_str(), p.period);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let find = |list: &[PeriodResult]| {
            list.iter()
                .find(|q| q.clock == key.0 && q.period == key.1)
                .cloned()
        };
        let (a, b) = (find(&old.clocks), find(&new.clocks));
        let changed = match (&a, &b) {
            (Some(a), Some(b)) => period_changes(a, b),
            _ => vec![PeriodField::Existence],
        };
        if !changed.is_empty() {
            d.clocks.push(PeriodChange {
                clock: key.0.to_string(),
                period: key.1,
                changed,
                old: a,
                new: b,
            });
        }
    }
    (d.outcomes_lost, d.outcomes_gained) = split(&old.outcomes, &new.outcomes, |x, y| {
        outcome_key(x) == outcome_key(y)
    });
    (d.obligations_lost, d.obligations_gained) =
        split(&old.obligations, &new.obligations, |x, y| {
            obligation_key(x) == obligation_key(y)
        });
    (d.conflicts_lost, d.conflicts_gained) = split(&old.conflicts, &new.conflicts, |x, y| {
        conflict_key(x) == conflict_key(y)
    });
    (d.warnings_lost, d.warnings_gained) = split(&old.warnings, &new.warnings, |x, y| {
        warning_key(x) == warning_key(y)
    });
    let empty = d.clocks.is_empty()
        && d.outcomes_gained.is_empty()
        && d.outcomes_lost.is_empty()
        && d.obligations_gained.is_empty()
        && d.obligations_lost.is_empty()
        && d.conflicts_gained.is_empty()
        && d.conflicts_lost.is_empty()
        && d.warnings_gained.is_empty()
        && d.warnings_lost.is_empty();
    (!empty).then_some(d)
}

/// One rule's firing at one step: (date, event or timer, rule, fired or in conflict).
type Firing<'t> = (NaiveDate, &'t str, &'t str, RuleOutcome);

fn firings(trace: &[TraceStep]) -> Vec<Firing<'_>> {
    trace
        .iter()
        .flat_map(|s| {
            s.rules
                .iter()
                .filter(|r| matches!(r.result, RuleOutcome::Fired | RuleOutcome::Conflict))
                .map(move |r| (s.date, s.event.as_str(), r.rule.as_str(), r.result))
        })
        .collect()
}

/// How one rule's firing differs on one pathway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiringCount {
    /// Firings (or conflicts) under the old policy that the new one does not have.
    pub old_only: u32,
    /// Firings (or conflicts) under the new policy that the old one does not have.
    pub new_only: u32,
}

/// The rules whose firing differs between two traces of one pathway, in the order their first
/// difference occurs, with how often each fired under one policy only.
pub fn firing_difference(old: &[TraceStep], new: &[TraceStep]) -> Vec<(String, FiringCount)> {
    let (a, b) = (firings(old), firings(new));
    let (only_a, only_b) = split(&a, &b, |x, y| x == y);
    let mut all: Vec<(NaiveDate, &str, bool)> = only_a
        .iter()
        .map(|f| (f.0, f.2, true))
        .chain(only_b.iter().map(|f| (f.0, f.2, false)))
        .collect();
    all.sort_by_key(|f| f.0);
    let mut out: Vec<(String, FiringCount)> = Vec::new();
    for (_, rule, is_old) in all {
        let i = match out.iter().position(|(r, _)| r == rule) {
            Some(i) => i,
            None => {
                out.push((rule.to_string(), FiringCount::default()));
                out.len() - 1
            }
        };
        if is_old {
            out[i].1.old_only += 1;
        } else {
            out[i].1.new_only += 1;
        }
    }
    out
}

/// The rules that fired (or conflicted) anywhere in a trace.
pub fn fired_rules(trace: &[TraceStep]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, _, r, _) in firings(trace) {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::eval::{ObligationStatus, PeriodStatus, RuleTrace};

    fn date(s: &str) -> NaiveDate {
        crate::base::value::parse_date(s).unwrap_or_default()
    }

    fn period(status: PeriodStatus, start: &str, stop: Option<&str>, days: i64) -> PeriodResult {
        PeriodResult {
            clock: "rtt".into(),
            period: 1,
            status,
            start: date(start),
            stop: stop.map(date),
            reason: None,
            days_waited: Some(days),
            paused_days: 0,
            target_days: 126,
            target_date: date(start) + chrono::Duration::days(126),
            breached: days > 126,
            weeks_waited: Some(days / 7),
            started_by: Some("a".into()),
            stopped_by: None,
        }
    }

    fn outcome(name: &str, d: &str, rule: &str) -> OutcomeResult {
        OutcomeResult {
            outcome: name.into(),
            date: date(d),
            rule: rule.into(),
            cite: Name::default(),
        }
    }

    #[test]
    fn identical_results_and_renamed_rules_are_no_difference() {
        let mut a = PathwayResult {
            pathway_id: "P1".into(),
            clocks: vec![period(PeriodStatus::Running, "2025-01-06", None, 30)],
            outcomes: vec![outcome("rebook", "2025-01-10", "x")],
            ..PathwayResult::default()
        };
        assert_eq!(compare(&a, &a.clone()), None);
        let mut b = a.clone();
        b.outcomes[0].rule = "y".into();
        b.clocks[0].started_by = Some("b".into());
        assert_eq!(compare(&a, &b), None);
        // Same outcomes in another order: no difference either.
        a.outcomes.push(outcome("review", "2025-01-10", "z"));
        b.outcomes.insert(0, outcome("review", "2025-01-10", "z"));
        assert_eq!(compare(&a, &b), None);
    }

    /// (what changes in the new result, the period fields reported, outcomes gained, lost)
    #[test]
    fn each_kind_of_change_is_reported() {
        type Edit = fn(&mut PathwayResult);
        let cases: &[(Edit, &[PeriodField], usize, usize)] = &[
            (
                |r| {
                    r.clocks[0] =
                        period(PeriodStatus::Stopped, "2025-01-06", Some("2025-02-01"), 26)
                },
                &[
                    PeriodField::Status,
                    PeriodField::Stop,
                    PeriodField::DaysWaited,
                ],
                0,
                0,
            ),
            (
                |r| r.clocks[0] = period(PeriodStatus::Running, "2025-01-07", None, 29),
                &[
                    PeriodField::Start,
                    PeriodField::DaysWaited,
                    PeriodField::BreachDate,
                ],
                0,
                0,
            ),
            (|r| r.clocks.clear(), &[PeriodField::Existence], 0, 0),
            (|r| r.outcomes.clear(), &[], 0, 1),
            (|r| r.outcomes[0].date = date("2025-01-11"), &[], 1, 1),
        ];
        for (i, (edit, fields, gained, lost)) in cases.iter().enumerate() {
            let old = PathwayResult {
                pathway_id: "P1".into(),
                clocks: vec![period(PeriodStatus::Running, "2025-01-06", None, 30)],
                outcomes: vec![outcome("rebook", "2025-01-10", "x")],
                ..PathwayResult::default()
            };
            let mut new = old.clone();
            edit(&mut new);
            let d = compare(&old, &new);
            let Some(d) = d else {
                panic!("case {i}: no difference found")
            };
            let got: Vec<PeriodField> = d.clocks.iter().flat_map(|c| c.changed.clone()).collect();
            assert_eq!(got, *fields, "case {i}");
            assert_eq!(d.outcomes_gained.len(), *gained, "case {i}");
            assert_eq!(d.outcomes_lost.len(), *lost, "case {i}");
        }
    }

    #[test]
    fn an_obligation_whose_status_differs_is_lost_and_gained() {
        let ob = |status| ObligationResult {
            what: "appointment_booked".into(),
            created: date("2025-01-06"),
            due: date("2025-01-20"),
            status,
            met_on: None,
            rule: "r".into(),
            cite: Name::default(),
        };
        let old = PathwayResult {
            obligations: vec![ob(ObligationStatus::Open)],
            ..PathwayResult::default()
        };
        let new = PathwayResult {
            obligations: vec![ob(ObligationStatus::Missed)],
            ..PathwayResult::default()
        };
        let d = compare(&old, &new).unwrap_or_default();
        assert_eq!(d.obligations_lost[0].status, ObligationStatus::Open);
        assert_eq!(d.obligations_gained[0].status, ObligationStatus::Missed);
    }

    #[test]
    fn firing_differences_name_each_rule_once_with_counts() {
        let step = |d: &str, rules: &[(&str, RuleOutcome)]| TraceStep {
            date: date(d),
            event: "dna".into(),
            line: None,
            rules: rules
                .iter()
                .map(|(r, o)| RuleTrace {
                    rule: Name::from(*r),
                    cite: Name::default(),
                    result: *o,
                    detail: None,
                })
                .collect(),
            clocks: Vec::new(),
        };
        let old = vec![
            step(
                "2025-01-01",
                &[("a", RuleOutcome::Fired), ("b", RuleOutcome::Fired)],
            ),
            step("2025-01-02", &[("b", RuleOutcome::Fired)]),
        ];
        let new = vec![
            step(
                "2025-01-01",
                &[
                    ("a", RuleOutcome::Fired),
                    ("b", RuleOutcome::Overridden),
                    ("c", RuleOutcome::Fired),
                ],
            ),
            step("2025-01-02", &[("b", RuleOutcome::NotApplicable)]),
        ];
        let got = firing_difference(&old, &new);
        assert_eq!(
            got,
            vec![
                (
                    "b".to_string(),
                    FiringCount {
                        old_only: 2,
                        new_only: 0
                    }
                ),
                (
                    "c".to_string(),
                    FiringCount {
                        old_only: 0,
                        new_only: 1
                    }
                ),
            ]
        );
        assert!(firing_difference(&old, &old).is_empty());
        assert_eq!(fired_rules(&new), vec!["a", "c"]);
    }
}
