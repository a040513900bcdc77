//! `pal diff OLD NEW --events …`: both policies over one extract. The extract is read once
//! (with the old policy's schema, which must read events as the new one does); each batch of
//! pathways is evaluated under both policies in parallel on rayon's pool, as
//! [`crate::services::batch`] does for one; pathways whose results differ are evaluated again
//! with traces to find the rules whose firing differs. Deterministic: the report does not
//! depend on the number of threads.

use super::compare::{compare, fired_rules, firing_difference, PathwayDiff, PeriodField};
use super::structural::{self, PolicyChanges};
use super::timeline::{self, Timeline};
use crate::io::events::{PathwayEvents, ReadError, Rejection};
use crate::io::report::ptl;
use crate::io::report::summary::{ClockSummary, Summary, SummaryBuilder};
use crate::model::ir::{Policy, RuleKind, Target};
use crate::runtime::eval::{Evaluator, PathwayResult, TraceStep};
use crate::services::batch::{self, Counts, Input, BATCH};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// How `pal diff` reads and reports.
#[derive(Debug, Clone)]
pub struct Options {
    /// The report date.
    pub as_at: NaiveDate,
    /// Stop at the first rejected row.
    pub strict: bool,
    /// Example pathways shown per cause.
    pub examples: usize,
    /// The clock whose open periods make the PTL.
    pub ptl_clock: String,
}

/// Why a diff could not be made.
#[derive(Debug)]
pub enum Error {
    /// The two policies read events differently (a different schema).
    Schema(String),
    /// The extract could not be read (or, strict, a row was rejected).
    Read(ReadError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Schema(why) => write!(
                f,
                "the two policies read events differently ({why}): `pal diff` compares policies with one event vocabulary"
            ),
            Error::Read(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The rules (or a parameter) that moved pathways, and how many.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// A rule, timer or exception name; or `parameter NAME` when a changed parameter moved
    /// pathways with no rule firing differently (a clock's target, an obligation's deadline).
    pub cause: String,
    /// `rule`, `timer`, `exception` or `parameter`.
    pub kind: &'static str,
    /// The rule's description.
    pub description: Option<String>,
    /// Its citations (the new policy's where it has the rule).
    pub cite: Vec<String>,
    /// What differs in the policy that bears on it: `rewritten`, `reads reasonable_notice: 3
    /// weeks → 2 weeks`, … (empty: it fires differently only because of what other rules did).
    pub because: Vec<String>,
    /// Pathways on which it fired differently.
    pub pathways: u64,
    /// Of those, pathways where it fired under the old policy only (at some step).
    pub fired_old_only: u64,
    /// Pathways where it fired under the new policy only (at some step).
    pub fired_new_only: u64,
    /// The first few such pathways, in input order.
    pub examples: Vec<String>,
}

/// One line of the position: a measure under each policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PositionRow {
    /// The clock, if the measure is a clock's.
    pub clock: Option<String>,
    /// What is measured (`% within 18 weeks`, `waiting over 52 weeks`, `PTL size`).
    pub measure: String,
    /// `percent` or `count`.
    pub unit: &'static str,
    /// Under the old policy (`null`: nothing measured).
    pub old: Option<f64>,
    /// Under the new policy.
    pub new: Option<f64>,
    /// new − old.
    pub change: Option<f64>,
}

/// How many changed pathways show each kind of change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChangeTally {
    /// Per clock and period field (`rtt status`): pathways where it differs.
    pub clock_fields: BTreeMap<String, u64>,
    /// Pathways that breach a clock's standard under the new policy only.
    pub breaches_gained: u64,
    /// Pathways that breach under the old policy only.
    pub breaches_lost: u64,
    /// Per outcome: pathways that gain it.
    pub outcomes_gained: BTreeMap<String, u64>,
    /// Per outcome: pathways that lose it.
    pub outcomes_lost: BTreeMap<String, u64>,
    /// Per obligation and status (`appointment_booked missed`): pathways that gain it.
    pub obligations_gained: BTreeMap<String, u64>,
    /// Per obligation and status: pathways that lose it.
    pub obligations_lost: BTreeMap<String, u64>,
    /// Pathways with a conflict under the new policy only.
    pub conflicts_gained: u64,
    /// Pathways with a conflict under the old policy only.
    pub conflicts_lost: u64,
    /// Pathways with a warning under the new policy only.
    pub warnings_gained: u64,
    /// Pathways with a warning under the old policy only.
    pub warnings_lost: u64,
}

/// An example pathway: its changes and its timeline under both policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// The cause it illustrates.
    pub cause: String,
    /// What changed.
    pub diff: PathwayDiff,
    /// Step by step, side by side.
    pub timeline: Timeline,
}

/// The impact report of `pal diff --events`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractDiff {
    /// The old policy's name.
    pub old_policy: String,
    /// The new policy's name.
    pub new_policy: String,
    /// The report date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub as_at: NaiveDate,
    /// The row account of the one read.
    pub counts: Counts,
    /// What differs between the policies, item by item.
    pub policy_changes: PolicyChanges,
    /// Pathways whose results differ.
    pub changed_pathways: u64,
    /// How they differ, counted.
    pub tally: ChangeTally,
    /// The position under each policy.
    pub position: Vec<PositionRow>,
    /// The rules whose firing differs, most pathways first.
    pub causes: Vec<Cause>,
    /// A few pathways per cause, with timelines.
    pub examples: Vec<Example>,
    /// Every changed pathway, in input order.
    pub pathways: Vec<PathwayDiff>,
}

impl ExtractDiff {
    /// True if no pathway's results differ.
    pub fn is_empty(&self) -> bool {
        self.changed_pathways == 0
    }
}

/// A changed pathway found in the parallel pass: where it is in the input, its differences
/// and, per rule, whether it fired under the old or new policy only.
struct Found {
    index: usize,
    diff: PathwayDiff,
    /// (cause, fired under the old only, under the new only).
    causes: Vec<(String, bool, bool)>,
}

/// Runs both policies over `input` and reports what differs.
pub fn diff_extract(
    old: &Policy,
    new: &Policy,
    input: Input,
    options: &Options,
    on_rejection: &mut dyn FnMut(&Rejection),
) -> Result<ExtractDiff, Error> {
    if let Some(why) = structural::schema_difference(&old.schema, &new.schema) {
        return Err(Error::Schema(why));
    }
    let changes = structural::policy_changes(old, new);
    let set = batch::read(input, old, options.as_at, options.strict).map_err(Error::Read)?;
    for r in &set.rejected {
        on_rejection(r);
    }
    let mut counts = Counts::of(&set);
    let (ev_old, ev_new) = (Evaluator::new(old), Evaluator::new(new));
    let mut sum_old = SummaryBuilder::new(old, ev_old.params(), options.as_at);
    let mut sum_new = SummaryBuilder::new(new, ev_new.params(), options.as_at);
    let (mut ptl_old, mut ptl_new) = (0u64, 0u64);
    let mut found: Vec<Found> = Vec::new();
    let as_at = options.as_at;
    let clock = options.ptl_clock.as_str();
    for (b, chunk) in set.pathways.chunks(BATCH).enumerate() {
        let done: Vec<(PathwayResult, PathwayResult, Option<Found>)> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let a = ev_old.run(&p.id, &p.events, &[], as_at, false);
                let n = ev_new.run(&p.id, &p.events, &[], as_at, false);
                let f = compare(&a, &n).map(|diff| {
                    let causes = explain(&ev_old, &ev_new, p, as_at, &changes);
                    Found {
                        index: b * BATCH + i,
                        diff,
                        causes,
                    }
                });
                (a, n, f)
            })
            .collect();
        let mut done = done;
        for (a, n, f) in &mut done {
            sum_old.add(a);
            sum_new.add(n);
            ptl_old += u64::from(ptl::row(a, clock).is_some());
            ptl_new += u64::from(ptl::row(n, clock).is_some());
            if let Some(f) = f.take() {
                found.push(f);
            }
        }
        done.into_par_iter().for_each(drop);
    }
    counts.pathways = set.pathways.len() as u64;
    let (s_old, s_new) = (sum_old.finish(), sum_new.finish());
    let position = position(&s_old, &s_new, clock, ptl_old, ptl_new);
    let causes = tally_causes(old, new, &changes, &found, options.examples);
    let mut examples = Vec::new();
    for c in &causes {
        for id in &c.examples {
            if let Some(f) = found.iter().find(|f| &f.diff.pathway_id == id) {
                let p = &set.pathways[f.index];
                let mut diff = f.diff.clone();
                diff.causes = f.causes.iter().map(|(c, _, _)| c.clone()).collect();
                examples.push(Example {
                    cause: c.cause.clone(),
                    diff,
                    timeline: timeline::side_by_side(
                        &ev_old,
                        &ev_new,
                        &p.id,
                        &p.events,
                        &[],
                        as_at,
                    ),
                });
            }
        }
    }
    let tally = tally(&found);
    let pathways = found
        .into_iter()
        .map(|f| {
            let mut d = f.diff;
            d.causes = f.causes.into_iter().map(|(c, _, _)| c).collect();
            d
        })
        .collect::<Vec<_>>();
    set.pathways.into_par_iter().for_each(drop);
    Ok(ExtractDiff {
        old_policy: old.name.clone(),
        new_policy: new.name.clone(),
        as_at,
        counts,
        policy_changes: changes,
        changed_pathways: pathways.len() as u64,
        tally,
        position,
        causes,
        examples,
        pathways,
    })
}

/// The traces of one pathway under both policies.
pub(crate) fn traces(
    ev_old: &Evaluator,
    ev_new: &Evaluator,
    id: &str,
    events: &[crate::model::event::Event],
    attributes: &[(u16, crate::base::value::Value)],
    as_at: NaiveDate,
) -> (Vec<TraceStep>, Vec<TraceStep>) {
    let a = ev_old.run(id, events, attributes, as_at, true);
    let b = ev_new.run(id, events, attributes, as_at, true);
    (a.trace.unwrap_or_default(), b.trace.unwrap_or_default())
}

/// The causes of one changed pathway: the rules whose firing differs; failing that, the
/// rules that fired under both but read a changed parameter or definition (their actions'
/// values differ: a deadline, a date); failing that, a changed clock target.
fn explain(
    ev_old: &Evaluator,
    ev_new: &Evaluator,
    p: &PathwayEvents,
    as_at: NaiveDate,
    changes: &PolicyChanges,
) -> Vec<(String, bool, bool)> {
    pathway_causes(ev_old, ev_new, &p.id, &p.events, &[], as_at, changes)
}

/// See [`explain`]; also used by the REPL's `:diff` and the search.
pub(crate) fn pathway_causes(
    ev_old: &Evaluator,
    ev_new: &Evaluator,
    id: &str,
    events: &[crate::model::event::Event],
    attributes: &[(u16, crate::base::value::Value)],
    as_at: NaiveDate,
    changes: &PolicyChanges,
) -> Vec<(String, bool, bool)> {
    let (ta, tb) = traces(ev_old, ev_new, id, events, attributes, as_at);
    let firing = firing_difference(&ta, &tb);
    if !firing.is_empty() {
        return firing
            .into_iter()
            .map(|(r, c)| (r, c.old_only > 0, c.new_only > 0))
            .collect();
    }
    let (old, new) = (ev_old.policy, ev_new.policy);
    let mut out = Vec::new();
    for r in fired_rules(&tb) {
        if let Some(id) = new.rule_id(r) {
            if !structural::reasons(new, id, changes).is_empty() {
                out.push((r.to_string(), false, false));
            }
        }
    }
    for c in &new.clocks {
        if let Target::Param(p) = c.target {
            let name = &new.params[p as usize].name;
            if changes.params.iter().any(|x| &x.name == name) {
                out.push((format!("parameter {name}"), false, false));
            }
        }
    }
    if out.is_empty() {
        let _ = old;
        out.push((
            "(no single rule: see the policy changes)".to_string(),
            false,
            false,
        ));
    }
    out
}

fn rule_kind(policy: &Policy, name: &str) -> &'static str {
    match policy.rule_id(name).map(|r| &policy.rules[r as usize].kind) {
        Some(RuleKind::On(_)) => "rule",
        Some(RuleKind::Timer { .. }) => "timer",
        Some(RuleKind::Exception { .. }) => "exception",
        None if name.starts_with("parameter ") => "parameter",
        None => "other",
    }
}

fn tally_causes(
    old: &Policy,
    new: &Policy,
    changes: &PolicyChanges,
    found: &[Found],
    examples: usize,
) -> Vec<Cause> {
    let mut causes: Vec<Cause> = Vec::new();
    for f in found {
        for (name, old_only, new_only) in &f.causes {
            let i = match causes.iter().position(|c| &c.cause == name) {
                Some(i) => i,
                None => {
                    // The new policy's rule where it has it (its citation is the one that will
                    // stand), else the old one's.
                    let (policy, id) = match new.rule_id(name) {
                        Some(id) => (new, Some(id)),
                        None => (old, old.rule_id(name)),
                    };
                    let rule = id.map(|r| &policy.rules[r as usize]);
                    causes.push(Cause {
                        cause: name.clone(),
                        kind: rule_kind(policy, name),
                        description: rule.and_then(|r| r.description.clone()),
                        cite: rule.map(|r| r.cite.clone()).unwrap_or_else(|| {
                            name.strip_prefix("parameter ")
                                .and_then(|p| changes.params.iter().find(|c| c.name == p))
                                .map(|c| c.cite.clone())
                                .unwrap_or_default()
                        }),
                        because: id
                            .map(|r| structural::reasons(policy, r, changes))
                            .unwrap_or_default(),
                        pathways: 0,
                        fired_old_only: 0,
                        fired_new_only: 0,
                        examples: Vec::new(),
                    });
                    causes.len() - 1
                }
            };
            let c = &mut causes[i];
            c.pathways += 1;
            c.fired_old_only += u64::from(*old_only);
            c.fired_new_only += u64::from(*new_only);
            if c.examples.len() < examples {
                c.examples.push(f.diff.pathway_id.clone());
            }
        }
    }
    // Most pathways first; ties keep the order of first appearance (stable sort).
    causes.sort_by_key(|c| std::cmp::Reverse(c.pathways));
    causes
}

fn tally(found: &[Found]) -> ChangeTally {
    let mut t = ChangeTally::default();
    for f in found {
        let d = &f.diff;
        let mut fields: Vec<String> = Vec::new();
        for c in &d.clocks {
            for x in &c.changed {
                let k = format!("{} {}", c.clock, x.label());
                if !fields.contains(&k) {
                    fields.push(k);
                }
            }
            let breached = |p: &Option<crate::runtime::eval::PeriodResult>| {
                p.as_ref().is_some_and(|p| p.breached)
            };
            if c.changed.contains(&PeriodField::Breached)
                || c.changed.contains(&PeriodField::Existence)
            {
                match (breached(&c.old), breached(&c.new)) {
                    (false, true) => t.breaches_gained += 1,
                    (true, false) => t.breaches_lost += 1,
                    _ => {}
                }
            }
        }
        for k in fields {
            *t.clock_fields.entry(k).or_default() += 1;
        }
        let names = |list: Vec<String>, into: &mut BTreeMap<String, u64>| {
            let mut seen: Vec<String> = Vec::new();
            for n in list {
                if !seen.contains(&n) {
                    *into.entry(n.clone()).or_default() += 1;
                    seen.push(n);
                }
            }
        };
        names(
            d.outcomes_gained
                .iter()
                .map(|o| o.outcome.to_string())
                .collect(),
            &mut t.outcomes_gained,
        );
        names(
            d.outcomes_lost
                .iter()
                .map(|o| o.outcome.to_string())
                .collect(),
            &mut t.outcomes_lost,
        );
        names(
            d.obligations_gained
                .iter()
                .map(|o| format!("{} {}", o.what, o.status))
                .collect(),
            &mut t.obligations_gained,
        );
        names(
            d.obligations_lost
                .iter()
                .map(|o| format!("{} {}", o.what, o.status))
                .collect(),
            &mut t.obligations_lost,
        );
        t.conflicts_gained += u64::from(!d.conflicts_gained.is_empty());
        t.conflicts_lost += u64::from(!d.conflicts_lost.is_empty());
        t.warnings_gained += u64::from(!d.warnings_gained.is_empty());
        t.warnings_lost += u64::from(!d.warnings_lost.is_empty());
    }
    t
}

/// `18 weeks`, `62 days`.
fn target_text(days: i64) -> String {
    if days > 0 && days % 7 == 0 {
        format!("{} weeks", days / 7)
    } else {
        format!("{days} days")
    }
}

fn row(
    clock: Option<&str>,
    measure: String,
    unit: &'static str,
    old: Option<f64>,
    new: Option<f64>,
) -> PositionRow {
    let change = match (old, new) {
        (Some(a), Some(b)) => Some(((b - a) * 10.0).round() / 10.0),
        _ => None,
    };
    PositionRow {
        clock: clock.map(str::to_string),
        measure,
        unit,
        old,
        new,
        change,
    }
}

/// The position under each policy: per clock with a standard, the share within target and
/// the periods measured; for clocks measured on incomplete pathways the long waits; the PTL.
fn position(
    old: &Summary,
    new: &Summary,
    ptl_clock: &str,
    ptl_old: u64,
    ptl_new: u64,
) -> Vec<PositionRow> {
    let mut rows = Vec::new();
    let mut names: Vec<&str> = old.clocks.iter().map(|c| c.clock.as_str()).collect();
    for c in &new.clocks {
        if !names.contains(&c.clock.as_str()) {
            names.push(&c.clock);
        }
    }
    for name in names {
        let a = old.clocks.iter().find(|c| c.clock == name);
        let b = new.clocks.iter().find(|c| c.clock == name);
        let any = a.or(b);
        let target = any
            .and_then(|c| c.target_days)
            .map(target_text)
            .unwrap_or_else(|| "target".into());
        let what = any.map_or("", |c| {
            if c.measured_on == "incomplete" {
                "waiting"
            } else {
                "completed"
            }
        });
        let pct = |c: Option<&ClockSummary>| c.and_then(|c| c.percent_within);
        let count =
            |c: Option<&ClockSummary>, f: &dyn Fn(&ClockSummary) -> usize| c.map(|c| f(c) as f64);
        rows.push(row(
            Some(name),
            format!("% within {target}"),
            "percent",
            pct(a),
            pct(b),
        ));
        rows.push(row(
            Some(name),
            format!("pathways {what}"),
            "count",
            count(a, &|c| c.periods),
            count(b, &|c| c.periods),
        ));
        if any.is_some_and(|c| !c.over_weeks.is_empty()) {
            for (k, (w, _)) in any
                .map(|c| c.over_weeks.clone())
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                rows.push(row(
                    Some(name),
                    format!("waiting over {w} weeks"),
                    "count",
                    count(a, &|c| c.over_weeks.get(k).map_or(0, |x| x.1)),
                    count(b, &|c| c.over_weeks.get(k).map_or(0, |x| x.1)),
                ));
            }
        }
    }
    rows.push(row(
        None,
        format!("PTL size (open {ptl_clock} pathways)"),
        "count",
        Some(ptl_old as f64),
        Some(ptl_new as f64),
    ));
    rows
}
