//! `pal diff OLD NEW` without data: a bounded search for the smallest pathway on which the two
//! policies disagree, returned as a `test` block that passes under the old policy and fails
//! under the new one (a counterexample, as Cedar's analysis gives for authorization policies).
//!
//! The search is guided by what differs ([`super::structural`]): the event types that
//! trigger the rules, exceptions and parameters that changed come first, then the event types
//! those rules query, then the events that start clocks, then every other event type. Field
//! values come from the enum variants, booleans and numbers the changed rules' conditions
//! name; date fields and the gaps between events are placed at the boundaries the rules'
//! durations create (one day under, at and one day over each, working days and calendar
//! months counted from the timeline's first date). Timelines of 1, 2, … events are tried in
//! order of relevance (all choices from the first k candidates before the k+1-th), each as at
//! its last date and as at one day past the longest duration. Bounded by a number of
//! timelines; deterministic whatever the thread count.

use super::compare::{compare, PathwayDiff};
use super::extract::pathway_causes;
use super::structural::{self, value_text, PolicyChanges};
use crate::base::value::{Duration, Value, ValueType};
use crate::model::event::{hold_attributes, Event};
use crate::model::ir::{Expr, Policy, RuleId, RuleKind};
use crate::model::schema::EventTypeId;
use crate::runtime::eval::{Evaluator, ObligationStatus, PathwayResult, PeriodStatus};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt::Write as _;

/// How far to search.
#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    /// The longest timeline tried, in events.
    pub max_events: usize,
    /// The most timelines evaluated (each under both policies).
    pub max_timelines: u64,
    /// The first event's date.
    pub start: NaiveDate,
}

impl Default for SearchOptions {
    /// Up to 4 events, 200,000 timelines, starting on Monday 6 January 2025.
    fn default() -> Self {
        SearchOptions {
            max_events: 4,
            max_timelines: 200_000,
            start: NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default(),
        }
    }
}

/// A pathway on which the policies disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterexample {
    /// Its pathway attributes (`pathway { … }`), as text.
    pub attributes: Vec<(String, String)>,
    /// Its events, as PAL test steps (`2025-01-06 referral_received`).
    pub events: Vec<String>,
    /// The as-at date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub as_at: NaiveDate,
    /// What differs.
    pub diff: PathwayDiff,
    /// The rules whose firing differs.
    pub causes: Vec<String>,
    /// The `test` block: passes under the old policy, fails under the new.
    pub test_block: String,
}

/// What the search did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchReport {
    /// The first disagreement found, if any.
    pub found: Option<Counterexample>,
    /// Timelines evaluated (each under both policies).
    pub tried: u64,
    /// Every timeline of up to this many events (over the candidates below) was tried.
    pub exhausted_up_to: usize,
    /// The longest timeline tried.
    pub longest_tried: usize,
    /// The search stopped at `max_timelines`.
    pub budget_reached: bool,
    /// The event types tried, most relevant first.
    pub event_types: Vec<String>,
    /// Candidate events (an event type with one choice of field values).
    pub candidate_events: usize,
    /// The durations whose boundaries were probed (`3 weeks`, `5 working days`).
    pub boundaries: Vec<String>,
    /// The options the search ran with.
    pub max_events: usize,
    /// The budget.
    pub max_timelines: u64,
    /// What differs between the policies.
    pub policy_changes: PolicyChanges,
}

/// A field value of a candidate event: a value, or a date this many days after the event.
#[derive(Debug, Clone, PartialEq)]
enum FieldChoice {
    Value(Value),
    DaysAfter(i64),
}

/// A candidate event: a type and one choice per field.
#[derive(Debug, Clone)]
struct Candidate {
    kind: EventTypeId,
    fields: Vec<FieldChoice>,
}

/// What the changed rules look at.
#[derive(Default)]
struct Focus {
    types: Vec<EventTypeId>,
    fields: Vec<(EventTypeId, u16)>,
    attrs: Vec<u16>,
    enums: Vec<(u32, u32)>,
    ints: Vec<i64>,
    strings: Vec<std::sync::Arc<str>>,
    durations: Vec<Duration>,
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

impl Focus {
    fn expr(&mut self, policy: &Policy, e: &Expr) {
        e.walk(&mut |x| match x {
            Expr::Const(v) => self.value(v),
            Expr::Param(p) => {
                if let Some(pd) = policy.params.get(*p as usize) {
                    self.value(&pd.initial.clone());
                    for (_, v) in pd.dated.clone() {
                        self.value(&v);
                    }
                }
            }
            Expr::EventField(_, slots) => slots.iter().for_each(|s| push(&mut self.fields, *s)),
            Expr::Attr(a) => push(&mut self.attrs, *a),
            Expr::Query(q) => q.events.iter().for_each(|t| push(&mut self.types, *t)),
            Expr::QueryField(q, f) => {
                q.events.iter().for_each(|t| push(&mut self.types, *t));
                if let Some(f) = f {
                    f.iter().for_each(|s| push(&mut self.fields, *s));
                }
            }
            _ => {}
        });
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Enum(e, i) => push(&mut self.enums, (*e, *i)),
            Value::Int(i) => push(&mut self.ints, *i),
            Value::Str(s) => push(&mut self.strings, s.clone()),
            Value::Duration(d) => push(&mut self.durations, *d),
            Value::List(items) => items.iter().for_each(|x| self.value(x)),
            _ => {}
        }
    }

    /// Looks at rule `r` of `policy`: its triggers and everything it evaluates.
    fn rule(&mut self, policy: &Policy, r: RuleId, trigger_types: &mut Vec<EventTypeId>) {
        for t in structural::triggers(policy, r) {
            push(trigger_types, t);
        }
        let Some(rule) = policy.rules.get(r as usize) else {
            return;
        };
        if let RuleKind::Timer { unless, .. } = &rule.kind {
            unless.iter().for_each(|t| push(&mut self.types, *t));
        }
        for e in structural::rule_exprs_deep(policy, rule) {
            self.expr(policy, e);
        }
    }
}

/// The rules of `policy` that the changes touch, with the changed parameters' values.
fn focus(old: &Policy, new: &Policy, changes: &PolicyChanges) -> (Vec<EventTypeId>, Focus) {
    let mut f = Focus::default();
    let mut triggers = Vec::new();
    for policy in [old, new] {
        for r in structural::affected_rules(policy, changes) {
            f.rule(policy, r, &mut triggers);
        }
        for c in &changes.params {
            if let Some(p) = policy.param_id(&c.name) {
                let pd = &policy.params[p as usize];
                f.value(&pd.initial.clone());
                for (_, v) in pd.dated.clone() {
                    f.value(&v);
                }
            }
        }
        // Clocks whose target changed: whatever starts them.
        for c in &changes.clocks {
            if let Some(id) = policy.clock_id(c) {
                for (r, rule) in policy.rules.iter().enumerate() {
                    if rule.actions.iter().any(|a| a.clock() == Some(id)) {
                        f.rule(policy, r as RuleId, &mut triggers);
                    }
                }
            }
        }
    }
    (triggers, f)
}

/// The event types that start a clock (with no condition first): a pathway needs one for
/// most rules to matter.
fn starters(policy: &Policy) -> Vec<EventTypeId> {
    let mut plain = Vec::new();
    let mut guarded = Vec::new();
    for rule in &policy.rules {
        let starts = rule
            .actions
            .iter()
            .any(|a| matches!(a, crate::model::ir::Action::Start(..)));
        if let (true, RuleKind::On(types), None) = (starts, &rule.kind, &rule.disabled) {
            let into = if rule.when.is_none() {
                &mut plain
            } else {
                &mut guarded
            };
            types.iter().for_each(|t| push(into, *t));
        }
    }
    plain.extend(guarded);
    plain
}

/// A duration in days counted from `from` (working days and months by the calendar).
fn days_of(policy: &Policy, from: NaiveDate, d: Duration) -> i64 {
    policy
        .calendar
        .checked_add(from, d)
        .map_or(d.amount, |to| (to - from).num_days())
}

/// The day offsets at the boundaries of the durations: one under, at, one over.
fn boundaries(policy: &Policy, start: NaiveDate, durations: &[Duration]) -> Vec<i64> {
    let mut out = Vec::new();
    for d in durations {
        let n = days_of(policy, start, *d);
        if n <= 0 {
            continue;
        }
        for k in [n, n - 1, n + 1] {
            if k >= 0 {
                push(&mut out, k);
            }
        }
    }
    out
}

const MAX_PER_TYPE: usize = 48;
const MAX_VALUES_PER_FIELD: usize = 6;

/// The candidate events of one type: every combination of the field values that matter.
fn candidates_of(
    policy: &Policy,
    kind: EventTypeId,
    focus: &Focus,
    offsets: &[i64],
    focused: bool,
) -> Vec<Candidate> {
    let schema = &policy.schema;
    let def = &schema.events[kind as usize];
    let mut per_field: Vec<Vec<FieldChoice>> = Vec::new();
    for (i, f) in def.fields.iter().enumerate() {
        let sets_focused_attr =
            def.sets_attribute[i].is_some_and(|a| focus.attrs.contains(&(a as u16)));
        let looked_at = focused && (focus.fields.contains(&(kind, i as u16)) || sets_focused_attr);
        let fallback = match (&f.default, f.optional, &f.ty) {
            (Some(v), _, _) => FieldChoice::Value(v.clone()),
            (None, true, _) => FieldChoice::Value(Value::Unset),
            (None, false, ValueType::Enum(e)) => FieldChoice::Value(Value::Enum(*e, 0)),
            (None, false, ValueType::Bool) => FieldChoice::Value(Value::Bool(false)),
            (None, false, ValueType::Int) => FieldChoice::Value(Value::Int(0)),
            (None, false, ValueType::Date) => FieldChoice::DaysAfter(0),
            (None, false, ValueType::Duration(k)) => {
                FieldChoice::Value(Value::Duration(Duration {
                    kind: *k,
                    amount: 0,
                }))
            }
            (None, false, _) => FieldChoice::Value(Value::Str("".into())),
        };
        let mut choices = vec![fallback];
        if looked_at {
            match &f.ty {
                ValueType::Enum(e) => {
                    let named: Vec<u32> = focus
                        .enums
                        .iter()
                        .filter(|(x, _)| x == e)
                        .map(|(_, v)| *v)
                        .collect();
                    let all: Vec<u32> = if named.is_empty() {
                        (0..schema.enum_def(*e).variants.len() as u32).collect()
                    } else {
                        named
                    };
                    all.into_iter()
                        .for_each(|v| push(&mut choices, FieldChoice::Value(Value::Enum(*e, v))));
                }
                ValueType::Bool => {
                    push(&mut choices, FieldChoice::Value(Value::Bool(true)));
                    push(&mut choices, FieldChoice::Value(Value::Bool(false)));
                }
                ValueType::Int => focus
                    .ints
                    .iter()
                    .for_each(|i| push(&mut choices, FieldChoice::Value(Value::Int(*i)))),
                ValueType::String => focus
                    .strings
                    .iter()
                    .for_each(|s| push(&mut choices, FieldChoice::Value(Value::Str(s.clone())))),
                ValueType::Date => offsets
                    .iter()
                    .for_each(|k| push(&mut choices, FieldChoice::DaysAfter(*k))),
                _ => {}
            }
            if f.optional {
                push(&mut choices, FieldChoice::Value(Value::Unset));
            }
        }
        // Dates keep every boundary; other fields a handful of values.
        if !matches!(f.ty, ValueType::Date) {
            choices.truncate(MAX_VALUES_PER_FIELD);
        }
        per_field.push(choices);
    }
    // Every combination, odometer order (the last field turns fastest), capped.
    let mut out = Vec::new();
    let mut idx = vec![0usize; per_field.len()];
    loop {
        out.push(Candidate {
            kind,
            fields: idx
                .iter()
                .zip(&per_field)
                .map(|(i, c)| c[*i].clone())
                .collect(),
        });
        if out.len() >= MAX_PER_TYPE {
            break;
        }
        let mut k = per_field.len();
        loop {
            if k == 0 {
                return out;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < per_field[k].len() {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// The pathway attribute settings tried: none, then one attribute at a time.
fn attribute_options(policy: &Policy, focus: &Focus, start: NaiveDate) -> Vec<Vec<(u16, Value)>> {
    let schema = &policy.schema;
    let mut out = vec![Vec::new()];
    for &a in &focus.attrs {
        let Some(f) = schema.attributes.get(a as usize) else {
            continue;
        };
        let values: Vec<Value> = match &f.ty {
            ValueType::Bool => vec![Value::Bool(true)],
            ValueType::Enum(e) => {
                let named: Vec<Value> = focus
                    .enums
                    .iter()
                    .filter(|(x, _)| x == e)
                    .map(|(e, v)| Value::Enum(*e, *v))
                    .collect();
                if named.is_empty() {
                    (0..schema.enum_def(*e).variants.len() as u32)
                        .map(|v| Value::Enum(*e, v))
                        .collect()
                } else {
                    named
                }
            }
            ValueType::Date => {
                // Birth dates: an adult, a child, and either side of each age the rules name.
                let years_before = |y: i64| {
                    NaiveDate::from_ymd_opt(
                        start.year() - y as i32,
                        start.month(),
                        start.day().min(28),
                    )
                };
                let mut v: Vec<Value> = [40, 10]
                    .into_iter()
                    .filter_map(years_before)
                    .map(Value::Date)
                    .collect();
                for &age in focus.ints.iter().filter(|i| (1..=120).contains(*i)) {
                    if let Some(d) = years_before(age) {
                        push(&mut v, Value::Date(d));
                        if let Some(d) = d.succ_opt() {
                            push(&mut v, Value::Date(d));
                        }
                    }
                }
                v
            }
            ValueType::Int => focus.ints.iter().map(|i| Value::Int(*i)).collect(),
            ValueType::String => focus
                .strings
                .iter()
                .map(|s| Value::Str(s.clone()))
                .collect(),
            _ => Vec::new(),
        };
        for v in values.into_iter().take(MAX_VALUES_PER_FIELD) {
            out.push(vec![(a, v)]);
        }
    }
    out
}

/// One timeline to try: indices into the attribute options, candidates and moves.
#[derive(Debug, Clone)]
struct Plan {
    attrs: usize,
    first: usize,
    moves: Vec<usize>,
    as_at: usize,
}

/// Every index tuple over lists of the given lengths whose largest index is exactly `k`
/// (indices past a list's end are skipped), in lexicographic order.
fn tuples_at_level(lens: &[usize], k: usize, f: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    fn go(
        lens: &[usize],
        k: usize,
        cur: &mut Vec<usize>,
        hit: bool,
        f: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        let pos = cur.len();
        if pos == lens.len() {
            return if hit { f(cur) } else { true };
        }
        // The remaining positions must still be able to reach k.
        let top = lens[pos].min(k + 1);
        for i in 0..top {
            if !hit && i < k && !lens[pos + 1..].iter().any(|l| *l > k) {
                continue;
            }
            cur.push(i);
            let go_on = go(lens, k, cur, hit || i == k, f);
            cur.pop();
            if !go_on {
                return false;
            }
        }
        true
    }
    go(lens, k, &mut Vec::new(), false, f)
}

/// The search space, built once.
struct Space<'a> {
    old: &'a Evaluator<'a>,
    new: &'a Evaluator<'a>,
    attrs: Vec<Vec<(u16, Value)>>,
    candidates: Vec<Candidate>,
    /// (candidate, days after the previous event).
    moves: Vec<(usize, i64)>,
    /// Days after the last event for the as-at date.
    as_ats: Vec<i64>,
    start: NaiveDate,
}

/// A built timeline.
#[derive(Clone)]
struct Built {
    events: Vec<Event>,
    written: Vec<Vec<bool>>,
    attributes: Vec<(u16, Value)>,
    as_at: NaiveDate,
}

impl Space<'_> {
    fn build(&self, plan: &Plan) -> Option<Built> {
        let schema = &self.old.policy.schema;
        let mut events = Vec::new();
        let mut written = Vec::new();
        let mut date = self.start;
        let steps =
            std::iter::once((plan.first, 0)).chain(plan.moves.iter().map(|m| self.moves[*m]));
        for (i, (c, gap)) in steps.enumerate() {
            date = date.checked_add_signed(chrono::Duration::days(gap))?;
            let cand = &self.candidates[c];
            let def = &schema.events[cand.kind as usize];
            let mut fields = Vec::with_capacity(cand.fields.len());
            let mut wrote = Vec::with_capacity(cand.fields.len());
            for (f, choice) in def.fields.iter().zip(&cand.fields) {
                let v = match choice {
                    FieldChoice::Value(v) => v.clone(),
                    FieldChoice::DaysAfter(k) => {
                        Value::Date(date.checked_add_signed(chrono::Duration::days(*k))?)
                    }
                };
                wrote.push(v.is_set() && f.default.as_ref() != Some(&v));
                fields.push(v);
            }
            events.push(Event {
                date,
                kind: cand.kind,
                fields: fields.into_boxed_slice(),
                line: i as u32 + 1,
                seq: i as u32,
            });
            written.push(wrote);
        }
        let attributes = self.attrs[plan.attrs].clone();
        hold_attributes(schema, &attributes, &mut events, &written);
        let as_at = date.checked_add_signed(chrono::Duration::days(self.as_ats[plan.as_at]))?;
        Some(Built {
            events,
            written,
            attributes,
            as_at,
        })
    }

    fn results(&self, b: &Built) -> (PathwayResult, PathwayResult) {
        (
            self.old
                .run("search", &b.events, &b.attributes, b.as_at, false),
            self.new
                .run("search", &b.events, &b.attributes, b.as_at, false),
        )
    }

    fn differs(&self, plan: &Plan) -> bool {
        self.build(plan).is_some_and(|b| {
            let (a, n) = self.results(&b);
            compare(&a, &n).is_some()
        })
    }
}

/// Searches for the smallest timeline on which `old` and `new` disagree. `verify`, given a
/// test block, says whether it passes under the old policy and fails under the new (by
/// compiling it against each policy's files); a block that does not is not returned (the
/// search goes on).
pub fn search(
    old: &Policy,
    new: &Policy,
    options: &SearchOptions,
    verify: &(dyn Fn(&str) -> bool + Sync),
) -> SearchReport {
    let changes = structural::policy_changes(old, new);
    let mut report = SearchReport {
        found: None,
        tried: 0,
        exhausted_up_to: 0,
        longest_tried: 0,
        budget_reached: false,
        event_types: Vec::new(),
        candidate_events: 0,
        boundaries: Vec::new(),
        max_events: options.max_events,
        max_timelines: options.max_timelines,
        policy_changes: changes.clone(),
    };
    if structural::schema_difference(&old.schema, &new.schema).is_some() || changes.is_empty() {
        // Nothing to tell apart (or, with different schemas, no common pathway to build).
        report.exhausted_up_to = options.max_events;
        return report;
    }
    let (triggers, focus) = focus(old, new, &changes);
    let mut types: Vec<EventTypeId> = Vec::new();
    triggers.iter().for_each(|t| push(&mut types, *t));
    focus.types.iter().for_each(|t| push(&mut types, *t));
    starters(old).into_iter().for_each(|t| push(&mut types, t));
    let focused_count = types.len();
    (0..old.schema.events.len() as EventTypeId).for_each(|t| push(&mut types, t));
    // An Int parameter that changed and is 7 or more is likely a number of days compared with
    // a wait (`cancer_62.days_waited > short_cancer_route_days`): its boundaries are tried too.
    let mut durations = focus.durations.clone();
    for c in &changes.params {
        for policy in [old, new] {
            if let Some(Value::Int(n)) = policy
                .param_id(&c.name)
                .map(|p| &policy.params[p as usize].initial)
            {
                if *n >= 7 {
                    push(&mut durations, Duration::days(*n));
                }
            }
        }
    }
    let offsets = boundaries(old, options.start, &durations);
    let mut candidates = Vec::new();
    for (i, t) in types.iter().enumerate() {
        candidates.extend(candidates_of(old, *t, &focus, &offsets, i < focused_count));
    }
    let mut gaps: Vec<i64> = vec![1];
    offsets.iter().for_each(|k| push(&mut gaps, *k));
    push(&mut gaps, 0);
    // Moves in order of relevance: a candidate with each gap, the most relevant pairs first.
    let mut moves: Vec<(usize, usize)> = (0..candidates.len())
        .flat_map(|c| (0..gaps.len()).map(move |g| (c, g)))
        .collect();
    moves.sort_by_key(|&(c, g)| (c.max(g), c, g));
    let moves: Vec<(usize, i64)> = moves.into_iter().map(|(c, g)| (c, gaps[g])).collect();
    let longest = durations
        .iter()
        .map(|d| days_of(old, options.start, *d))
        .max()
        .unwrap_or(0);
    let mut as_ats = vec![0];
    push(&mut as_ats, longest + 1);
    let (ev_old, ev_new) = (Evaluator::new(old), Evaluator::new(new));
    let space = Space {
        old: &ev_old,
        new: &ev_new,
        attrs: attribute_options(old, &focus, options.start),
        candidates,
        moves,
        as_ats,
        start: options.start,
    };
    report.event_types = types
        .iter()
        .map(|t| old.schema.events[*t as usize].name.clone())
        .collect();
    report.candidate_events = space.candidates.len();
    report.boundaries = durations.iter().map(|d| d.to_string()).collect();

    const CHUNK: usize = 4096;
    let mut pending: Vec<Plan> = Vec::with_capacity(CHUNK);
    let mut tried = 0u64;
    let budget = options.max_timelines;
    // Runs a chunk: the first plan (in order) on which the policies disagree and whose test
    // block checks out.
    let run_chunk = |plans: &[Plan], tried: &mut u64| -> Option<Counterexample> {
        let mut from = 0;
        while from < plans.len() {
            let hit = plans[from..]
                .par_iter()
                .position_first(|p| space.differs(p));
            match hit {
                None => {
                    *tried += (plans.len() - from) as u64;
                    return None;
                }
                Some(i) => {
                    *tried += (i + 1) as u64;
                    if let Some(c) = counterexample(&space, &plans[from + i], &changes, verify) {
                        return Some(c);
                    }
                    from += i + 1;
                }
            }
        }
        None
    };
    for n in 1..=options.max_events.max(1) {
        let lens: Vec<usize> = [space.attrs.len(), space.candidates.len()]
            .into_iter()
            .chain(std::iter::repeat_n(space.moves.len(), n - 1))
            .collect();
        let top = lens.iter().copied().max().unwrap_or(0);
        let mut found = None;
        let mut stop = false;
        report.longest_tried = n;
        for k in 0..top {
            let complete = tuples_at_level(&lens, k, &mut |t| {
                for a in 0..space.as_ats.len() {
                    if tried + pending.len() as u64 >= budget {
                        stop = true;
                        return false;
                    }
                    pending.push(Plan {
                        attrs: t[0],
                        first: t[1],
                        moves: t[2..].to_vec(),
                        as_at: a,
                    });
                }
                if pending.len() >= CHUNK {
                    found = run_chunk(&pending, &mut tried);
                    pending.clear();
                    if found.is_some() {
                        return false;
                    }
                }
                true
            });
            if found.is_none() && !pending.is_empty() {
                found = run_chunk(&pending, &mut tried);
                pending.clear();
            }
            if found.is_some() || !complete || stop {
                break;
            }
        }
        report.tried = tried;
        if let Some(c) = found {
            report.found = Some(c);
            return report;
        }
        if stop {
            report.budget_reached = true;
            return report;
        }
        report.exhausted_up_to = n;
    }
    report
}

/// Builds the counterexample of a plan whose results differ, with its test block, if the
/// block passes under the old policy and fails under the new. A difference the expectations
/// cannot see at the plan's as-at date (an obligation due a day later, both still open) is
/// tried again as at the day after each differing due or target date.
fn counterexample(
    space: &Space,
    plan: &Plan,
    changes: &PolicyChanges,
    verify: &(dyn Fn(&str) -> bool + Sync),
) -> Option<Counterexample> {
    let b = space.build(plan)?;
    let (a, n) = space.results(&b);
    let first = compare(&a, &n)?;
    let mut as_ats = vec![b.as_at];
    for o in first
        .obligations_lost
        .iter()
        .chain(&first.obligations_gained)
    {
        push(&mut as_ats, o.due.succ_opt()?);
    }
    for c in &first.clocks {
        for p in c.old.iter().chain(&c.new) {
            push(&mut as_ats, p.target_date.succ_opt()?);
        }
    }
    for as_at in as_ats {
        if as_at < b.events.last()?.date {
            continue;
        }
        let b = Built { as_at, ..b.clone() };
        let (a, n) = space.results(&b);
        let Some(diff) = compare(&a, &n) else {
            continue;
        };
        let expectations = expectations(space.old.policy, &a, &n);
        if expectations.is_empty() {
            continue;
        }
        if let Some(c) = finish(space, &b, diff, &expectations, changes, verify) {
            return Some(c);
        }
    }
    None
}

/// The counterexample of a built timeline, if its test block checks out.
fn finish(
    space: &Space,
    b: &Built,
    diff: PathwayDiff,
    expectations: &[String],
    changes: &PolicyChanges,
    verify: &(dyn Fn(&str) -> bool + Sync),
) -> Option<Counterexample> {
    let schema = &space.old.policy.schema;
    let causes: Vec<String> = pathway_causes(
        space.old,
        space.new,
        "search",
        &b.events,
        &b.attributes,
        b.as_at,
        changes,
    )
    .into_iter()
    .map(|(c, _, _)| c)
    .collect();
    let attributes: Vec<(String, String)> = b
        .attributes
        .iter()
        .map(|(slot, v)| {
            (
                schema.attributes[*slot as usize].name.clone(),
                value_text(schema, v),
            )
        })
        .collect();
    let events: Vec<String> = b
        .events
        .iter()
        .zip(&b.written)
        .map(|(e, w)| step_text(schema, e, w))
        .collect();
    let test_block = test_block(
        space.old.policy,
        space.new.policy,
        &attributes,
        &events,
        b.as_at,
        expectations,
        &causes,
    );
    if !verify(&test_block) {
        return None;
    }
    Some(Counterexample {
        attributes,
        events,
        as_at: b.as_at,
        diff,
        causes,
        test_block,
    })
}

/// A test step: the date, the event and the fields its line writes.
fn step_text(schema: &crate::model::schema::Schema, e: &Event, written: &[bool]) -> String {
    let def = &schema.events[e.kind as usize];
    let fields: Vec<String> = def
        .fields
        .iter()
        .zip(e.fields.iter())
        .zip(written)
        .filter(|(_, w)| **w)
        .map(|((f, v), _)| format!("{}: {}", f.name, value_text(schema, v)))
        .collect();
    if fields.is_empty() {
        format!("{} {}", e.date, def.name)
    } else {
        format!("{} {} {{ {} }}", e.date, def.name, fields.join(", "))
    }
}

/// Expectations that hold under the old result and not all under the new.
fn expectations(policy: &Policy, old: &PathwayResult, new: &PathwayResult) -> Vec<String> {
    let mut out = Vec::new();
    let names = |r: &PathwayResult| -> Vec<String> {
        let mut v: Vec<String> = r.outcomes.iter().map(|o| o.outcome.to_string()).collect();
        v.dedup();
        v
    };
    let (on, nn) = (names(old), names(new));
    for o in &on {
        if !nn.contains(o) {
            push(&mut out, format!("expect outcome {o}"));
        }
    }
    for o in &nn {
        if !on.contains(o) {
            push(&mut out, format!("expect no outcome {o}"));
        }
    }
    for c in &policy.clocks {
        let periods = |r: &PathwayResult| -> Vec<crate::runtime::eval::PeriodResult> {
            r.clocks
                .iter()
                .filter(|p| p.clock == c.name)
                .cloned()
                .collect()
        };
        let (a, b) = (periods(old), periods(new));
        let text = |p: &crate::runtime::eval::PeriodResult| {
            let on = match p.status {
                PeriodStatus::Stopped | PeriodStatus::Nullified => p.stop,
                _ => Some(p.start),
            };
            format!(
                "expect {} period {} {}{}",
                c.name,
                p.period,
                p.status,
                on.map(|d| format!(" on {d}")).unwrap_or_default()
            )
        };
        for p in &a {
            let same = b.iter().any(|q| q.period == p.period && text(q) == text(p));
            if !same {
                push(&mut out, text(p));
            }
        }
        if a.is_empty() && !b.is_empty() {
            push(&mut out, format!("expect {} not_started", c.name));
        } else if a.len() != b.len() {
            push(
                &mut out,
                format!("expect {}.periods == {}", c.name, a.len()),
            );
        }
        if let (Some(p), Some(q)) = (a.last(), b.last()) {
            if p.days_waited != q.days_waited && p.period == q.period {
                if let Some(d) = p.days_waited {
                    push(&mut out, format!("expect {}.days_waited == {d}", c.name));
                }
            }
            if p.target_date != q.target_date && p.period == q.period {
                push(
                    &mut out,
                    format!("expect {}.target_date == {}", c.name, p.target_date),
                );
            }
        }
    }
    let statuses = |r: &PathwayResult, what: &str| -> Vec<ObligationStatus> {
        r.obligations
            .iter()
            .filter(|o| o.what == what)
            .map(|o| o.status)
            .collect()
    };
    let mut whats: Vec<&str> = Vec::new();
    for o in old.obligations.iter().chain(&new.obligations) {
        push(&mut whats, o.what.as_str());
    }
    for w in whats {
        let (a, b) = (statuses(old, w), statuses(new, w));
        if a.is_empty() {
            push(&mut out, format!("expect no obligation {w}"));
            continue;
        }
        for s in &a {
            if !b.contains(s) {
                push(&mut out, format!("expect obligation {w} {s}"));
            }
        }
        for s in &b {
            if !a.contains(s) {
                push(&mut out, format!("expect no obligation {w} {s}"));
            }
        }
    }
    match (old.conflicts.is_empty(), new.conflicts.is_empty()) {
        (true, false) => out.push("expect no conflict".into()),
        (false, true) => out.push("expect conflict".into()),
        _ => {}
    }
    match (old.warnings.is_empty(), new.warnings.is_empty()) {
        (true, false) => out.push("expect no warning".into()),
        (false, true) => out.push("expect warning".into()),
        _ => {}
    }
    out
}

fn test_block(
    old: &Policy,
    new: &Policy,
    attributes: &[(String, String)],
    events: &[String],
    as_at: NaiveDate,
    expectations: &[String],
    causes: &[String],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Found by `pal diff`: passes under {}, fails under {}.",
        old.name, new.name
    );
    if !causes.is_empty() {
        let _ = writeln!(s, "// Rules whose firing differs: {}.", causes.join(", "));
    }
    let _ = writeln!(s, "test \"{} and {} disagree\" {{", old.name, new.name);
    if !attributes.is_empty() {
        let a: Vec<String> = attributes
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(s, "  pathway {{ {} }}", a.join(", "));
    }
    for e in events {
        let _ = writeln!(s, "  {e}");
    }
    let _ = writeln!(s, "  as at {as_at}");
    for x in expectations {
        let _ = writeln!(s, "  {x}");
    }
    s.push_str("}\n");
    s
}

/// Whether a `test` block passes under the policy at `path`: the block is compiled in a
/// policy that extends that file (as a test file beside it would), then run. `Err` with the
/// diagnostics' messages if it does not compile against the policy.
pub fn block_passes(
    path: &std::path::Path,
    policy_path: &[std::path::PathBuf],
    block: &str,
) -> Result<bool, String> {
    use crate::base::source::SourceMap;
    use crate::front::loader::{load_text_with, PolicyAccess};
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let text = format!(
        "policy pal_diff_check extends \"{}\"\n\n{block}",
        file.replace('\\', "\\\\").replace('"', "\\\"")
    );
    let dir = path.parent().unwrap_or(std::path::Path::new(""));
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let access = PolicyAccess::for_root(path, policy_path);
    let loaded = load_text_with("<pal diff>", &text, dir, &access, &mut sources, &mut diags);
    let checked = crate::front::check::check(&loaded, &sources);
    diags.extend(checked.diagnostics.into_iter().filter(|d| d.is_error()));
    match checked.policy {
        Some(p) if diags.is_empty() => Ok(p
            .tests
            .iter()
            .all(|t| crate::runtime::testing::run_test(&p, t).passed())),
        _ => Err(diags
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// A short account of how far the search went, for when it found nothing.
pub fn extent(r: &SearchReport) -> String {
    let types = r.event_types.len();
    if r.policy_changes.is_empty() {
        return "the two policies are the same, item for item: no pathway can tell them apart"
            .into();
    }
    if r.event_types.is_empty() {
        return "the two policies read events differently: no common pathway to try".into();
    }
    let mut s = format!(
        "no difference on pathways of up to {} event{} over {types} event types ({} candidate events; boundaries at {}); {} timelines tried",
        r.exhausted_up_to,
        if r.exhausted_up_to == 1 { "" } else { "s" },
        r.candidate_events,
        if r.boundaries.is_empty() { "none".to_string() } else { r.boundaries.join(", ") },
        r.tried
    );
    if r.budget_reached {
        let _ = write!(
            s,
            "; the budget of {} timelines ran out part-way through {}-event pathways (raise --max-timelines)",
            r.max_timelines, r.longest_tried
        );
    }
    s
}

/// Prints the search's outcome as text.
pub fn render(r: &SearchReport, old_file: &str, new_file: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Differences between {old_file} and {new_file}:");
    super::render::policy_changes(&r.policy_changes, &mut s);
    s.push('\n');
    match &r.found {
        Some(c) => {
            let _ = writeln!(
                s,
                "The policies disagree on a pathway of {} event{} (found after {} timelines):",
                c.events.len(),
                if c.events.len() == 1 { "" } else { "s" },
                r.tried
            );
            super::render::pathway_diff(&c.diff, "  ", &mut s);
            let _ = writeln!(
                s,
                "\nPaste into a test file of {old_file} (it passes there and fails under {new_file}):\n"
            );
            s.push_str(&c.test_block);
        }
        None => {
            let _ = writeln!(s, "{}.", extent(r));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::source::SourceMap;

    const BASE: &str = r#"
enum appointment_kind { first, follow_up }
pathway { birth_date: Date?, vulnerable: Bool = false }
event referral_received { ..pathway }
event offer_declined { appointment: appointment_kind = first, offered_date: Date }
event patient_cancelled
event attended
clock rtt "referral to treatment" { target 18 weeks cite "RTT" }
rule start "a referral starts the clock" on referral_received cite "RTT" { start rtt }
param notice: Duration = 3 weeks cite "3.34"
param limit: Int = 2 cite "9.10.2"
"#;

    /// `BASE + src` compiled (panics if it does not check).
    fn policy(src: &str) -> Policy {
        let text = format!("policy case\n{BASE}\n{src}");
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let loaded = crate::front::loader::load_text(
            "case.pal",
            &text,
            std::path::Path::new("."),
            &mut sources,
            &mut diags,
        );
        let checked = crate::front::check::check(&loaded, &sources);
        diags.extend(checked.diagnostics.into_iter().filter(|d| d.is_error()));
        match checked.policy {
            Some(p) if diags.is_empty() => p,
            _ => panic!("does not check: {diags:?}\n{src}"),
        }
    }

    /// Whether the test block passes under `BASE + src` (compiled with it, run).
    fn passes(src: &str, block: &str) -> bool {
        let p = policy(&format!("{src}\n{block}"));
        p.tests
            .iter()
            .all(|t| crate::runtime::testing::run_test(&p, t).passed())
    }

    /// (old rules, new rules, events in the smallest disagreement or None, a line the block
    /// must hold)
    #[test]
    fn the_search_finds_the_smallest_disagreement_at_the_boundary() {
        let notice = |op: &str| {
            format!(
                "rule reasonable \"a declined offer with notice\" on offer_declined \
                 when event.offered_date {op} event.date + notice cite \"3.34\" {{ outcome patient_choice }}"
            )
        };
        let cancel = "rule discharge \"repeated cancellations discharge\" on patient_cancelled \
                      when count(patient_cancelled) >= limit cite \"9.10.2\" { outcome discharge }";
        let cases: Vec<(String, String, Option<usize>, &str)> = vec![
            // `>=` against `>`: only an offer exactly three weeks ahead tells them apart.
            (
                notice(">="),
                notice(">"),
                Some(1),
                "offered_date: 2025-01-27 }",
            ),
            // A one-day-longer notice parameter: the same boundary.
            (
                notice(">="),
                format!("{}\nset notice = 22 days cite \"x\"", notice(">=")),
                Some(1),
                "offered_date: 2025-01-27 }",
            ),
            // A count limit raised: two cancellations are needed.
            (
                cancel.to_string(),
                format!("{cancel}\nset limit = 3 cite \"x\""),
                Some(2),
                "expect outcome discharge",
            ),
            // A rule disabled.
            (
                cancel.to_string(),
                format!("{cancel}\ndisable discharge because \"x\""),
                Some(2),
                "expect outcome discharge",
            ),
            // Identical: nothing to find, nothing tried.
            (cancel.to_string(), cancel.to_string(), None, ""),
        ];
        for (old_src, new_src, events, line) in cases {
            let (old, new) = (policy(&old_src), policy(&new_src));
            let verify = |block: &str| passes(&old_src, block) && !passes(&new_src, block);
            let r = search(&old, &new, &SearchOptions::default(), &verify);
            match (events, &r.found) {
                (None, None) => assert_eq!(r.tried, 0, "{new_src}"),
                (Some(n), Some(c)) => {
                    assert_eq!(c.events.len(), n, "{}", c.test_block);
                    assert!(c.test_block.contains(line), "{}", c.test_block);
                }
                _ => panic!("{new_src}: {r:?}"),
            }
        }
    }

    #[test]
    fn a_bounded_search_says_how_far_it_went() {
        let cancel = "rule discharge \"repeated cancellations discharge\" on patient_cancelled \
                      when count(patient_cancelled) >= limit cite \"9.10.2\" { outcome discharge }";
        let old = policy(cancel);
        let new = policy(&format!("{cancel}\nset limit = 3 cite \"x\""));
        let options = SearchOptions {
            max_events: 1,
            ..SearchOptions::default()
        };
        let r = search(&old, &new, &options, &|_: &str| true);
        assert!(r.found.is_none());
        assert_eq!(r.exhausted_up_to, 1);
        assert!(!r.budget_reached);
        assert!(r.tried > 0);
        let text = extent(&r);
        assert!(
            text.starts_with("no difference on pathways of up to 1 event over 4 event types"),
            "{text}"
        );
        // A budget smaller than the space stops part-way and says so.
        let options = SearchOptions {
            max_events: 3,
            max_timelines: 5,
            ..SearchOptions::default()
        };
        let r = search(&old, &new, &options, &|_: &str| true);
        assert!(r.budget_reached, "{r:?}");
        assert_eq!(r.tried, 5);
        assert_eq!(r.exhausted_up_to, 0);
        assert!(extent(&r).contains("ran out"), "{}", extent(&r));
    }

    #[test]
    fn tuples_at_each_level_cover_the_grid_once_in_order() {
        for lens in [vec![3usize, 2], vec![1, 4, 4], vec![2, 2, 2]] {
            let mut all = Vec::new();
            let top = lens.iter().copied().max().unwrap_or(0);
            for k in 0..top {
                let mut level = Vec::new();
                tuples_at_level(&lens, k, &mut |t| {
                    level.push(t.to_vec());
                    true
                });
                assert!(
                    level.iter().all(|t| t.iter().max() == Some(&k)),
                    "{lens:?} {k}"
                );
                assert!(level.windows(2).all(|w| w[0] < w[1]));
                all.extend(level);
            }
            let size: usize = lens.iter().product();
            let mut sorted = all.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), size, "{lens:?}");
            assert_eq!(all.len(), size, "{lens:?}");
        }
    }
}
