//! The interpreter: runs a compiled [`Policy`] over one pathway's events as at a report date.
//!
//! Pure and deterministic: no IO, no system clock. Events are applied in date order (same-date
//! events keep input order). A timer due on a date fires after that date's events, so an event
//! on the due day still cancels it. Exceptions replace the actions of the rule they name;
//! rules that disagree about a clock for the same event are reported as a conflict and none of
//! their actions on that clock is applied.

mod compile;
mod expr;
mod index;
pub mod result;

use crate::base::value::{Duration, Value};
use crate::model::event::Event;
use crate::model::ir::{Action, ClockId, ParamDef, Policy, RuleId, RuleKind, Target};
use chrono::NaiveDate;
pub use result::*;
use std::borrow::Cow;
use std::sync::Arc;

/// State of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodState {
    /// Open: running (or paused, when a pause covers the date asked about).
    Open,
    /// Stopped with a reason.
    Stopped,
    /// Nullified: removed from reporting.
    Nullified,
}

/// One period of a clock, as the interpreter tracks it.
#[derive(Debug, Clone)]
pub struct Period {
    /// Start (moved by `reset`).
    pub start: NaiveDate,
    /// Stop or nullification date.
    pub stop: Option<NaiveDate>,
    /// Open, stopped or nullified.
    pub state: PeriodState,
    /// Stop reason.
    pub reason: Option<Name>,
    /// The stop reason as a value of the policy's `stop_reason` enum.
    pub reason_id: Option<u32>,
    /// Pauses `[from, to)`; `to` is `None` while open.
    pub pauses: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// The standard in days, fixed when the period starts.
    pub target_days: i64,
    /// Rule that started it.
    pub started_by: Option<RuleId>,
    /// Rule that stopped it.
    pub stopped_by: Option<RuleId>,
}

impl Period {
    /// The date the wait is measured to: the stop, or `now` for an open period.
    pub fn end(&self, now: NaiveDate) -> NaiveDate {
        self.stop.unwrap_or(now)
    }

    /// Days paused between start and the end of the period (as of `now`).
    pub fn paused_days(&self, now: NaiveDate) -> i64 {
        let end = self.end(now);
        self.pauses
            .iter()
            .map(|(from, to)| {
                let from = (*from).max(self.start);
                let to = to.unwrap_or(end).min(end);
                (to - from).num_days().max(0)
            })
            .sum()
    }

    /// Days waited as of `now` (start day is day 0), pauses excluded.
    pub fn days_waited(&self, now: NaiveDate) -> i64 {
        (self.end(now) - self.start).num_days() - self.paused_days(now)
    }

    /// True if a pause covers `date`.
    pub fn paused_on(&self, date: NaiveDate) -> bool {
        self.state == PeriodState::Open
            && self
                .pauses
                .iter()
                .any(|(from, to)| *from <= date && to.is_none_or(|t| date < t))
    }

    /// The status name used in results.
    pub fn status(&self, now: NaiveDate) -> PeriodStatus {
        match self.state {
            PeriodState::Stopped => PeriodStatus::Stopped,
            PeriodState::Nullified => PeriodStatus::Nullified,
            PeriodState::Open if self.paused_on(now) => PeriodStatus::Paused,
            PeriodState::Open => PeriodStatus::Running,
        }
    }

    /// The last day within the standard (start + target + paused days).
    pub fn target_date(&self, now: NaiveDate) -> NaiveDate {
        // Saturates rather than panicking at the end of the representable dates.
        chrono::Duration::try_days(self.target_days.saturating_add(self.paused_days(now)))
            .and_then(|d| self.start.checked_add_signed(d))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The pathway as the rules see it at one moment.
#[derive(Debug, Clone, Default)]
pub struct PathwayState {
    /// Attribute values by slot.
    pub attrs: Vec<Value>,
    /// Periods by clock.
    pub clocks: Vec<Vec<Period>>,
}

#[derive(Debug, Clone)]
struct Obligation {
    what: Name,
    created: NaiveDate,
    due: NaiveDate,
    /// Events with an index at or after this may meet it.
    from_index: usize,
    action: (RuleId, usize),
    met_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy)]
struct PendingTimer {
    rule: RuleId,
    armed_by: usize,
    due: NaiveDate,
}

/// A policy ready to run, with parameter values (possibly overridden for a test or the REPL).
#[derive(Debug, Clone)]
pub struct Evaluator<'p> {
    /// The policy.
    pub policy: &'p Policy,
    params: Cow<'p, [ParamDef]>,
    /// The conditions and definitions compiled with these parameter values.
    program: Arc<compile::Program>,
}

/// The name of a step in results and traces: the event type, or `timer RULE` (written out only
/// when a conflict, trace or `:whynot` needs it).
#[derive(Clone, Copy)]
enum Label<'e> {
    Event(&'e str),
    Timer(&'e str),
}

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Event(name) => f.write_str(name),
            Label::Timer(rule) => write!(f, "timer {rule}"),
        }
    }
}

/// What a step of evaluation is about: the event (or timer) and the date.
struct Step<'e> {
    now: NaiveDate,
    trigger: Option<&'e Event>,
    label: Label<'e>,
    line: Option<u32>,
}

impl<'p> Evaluator<'p> {
    /// An evaluator with the policy's own parameter values.
    pub fn new(policy: &'p Policy) -> Evaluator<'p> {
        let mut ev = Evaluator {
            policy,
            params: Cow::Borrowed(&policy.params),
            program: Arc::new(compile::Program::empty()),
        };
        ev.program = Arc::new(compile::Program::compile(&ev));
        ev
    }

    /// Overrides a parameter for this evaluator (what-if; tests' `set`).
    pub fn set_param(&mut self, id: u32, initial: Value, dated: Vec<(NaiveDate, Value)>) {
        if let Some(p) = self.params.to_mut().get_mut(id as usize) {
            p.initial = initial;
            p.dated = dated;
        }
        // Parameter values are folded into the compiled conditions.
        self.program = Arc::new(compile::Program::compile(self));
    }

    /// The parameters in force.
    pub fn params(&self) -> &[ParamDef] {
        &self.params
    }

    /// Evaluates one pathway. `events` need not be sorted; `attributes` are initial pathway
    /// attributes (e.g. a test's `pathway { … }`); events after `as_at` are ignored.
    pub fn run(
        &self,
        pathway_id: &str,
        events: &[Event],
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
        trace: bool,
    ) -> PathwayResult {
        let (run, sorted) = self.drive(events, attributes, as_at, trace, None);
        run.finish(pathway_id, &sorted)
    }

    /// Applies the events in order, firing timers as they fall due.
    fn drive<'e>(
        &self,
        events: &'e [Event],
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
        trace: bool,
        probe: Option<RuleId>,
    ) -> (Run<'_, 'p>, Vec<&'e Event>) {
        let mut sorted: Vec<&Event> = events.iter().filter(|e| e.date <= as_at).collect();
        self.policy.schema.same_day.sort(&mut sorted);
        let mut run = Run::new(self, attributes, as_at, trace);
        run.probe = probe.map(|r| (r, Vec::new()));
        for i in 0..sorted.len() {
            run.fire_timers(&sorted, i, |due| due < sorted[i].date);
            run.apply_event(&sorted, i);
        }
        let n = sorted.len();
        run.fire_timers(&sorted, n, |due| due <= as_at);
        (run, sorted)
    }

    /// Evaluates an expression against a finished pathway state (the REPL, test expectations).
    pub fn eval_at(
        &self,
        e: &crate::model::ir::Expr,
        state: &PathwayState,
        history: &[&Event],
        now: NaiveDate,
    ) -> Value {
        // One memo per call: a chain of definitions costs its length. The index needs the
        // history in date order (it is, from `run_with_state`).
        let memo = expr::DefMemo::new();
        let index = index::HistoryIndex::default();
        let sorted = history
            .windows(2)
            .all(|w| (w[0].date, w[0].seq) <= (w[1].date, w[1].seq));
        let ctx = expr::Ctx {
            ev: self,
            state,
            history,
            trigger: None,
            candidates: [None; crate::model::ir::MAX_QUERY_DEPTH],
            now,
            memo: &memo,
            index: sorted.then_some(&index),
        };
        ctx.eval(e)
    }

    /// Runs the events and returns the final state and sorted history too (REPL, tests).
    pub fn run_with_state<'e>(
        &self,
        pathway_id: &str,
        events: &'e [Event],
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
        trace: bool,
    ) -> (PathwayResult, PathwayState, Vec<&'e Event>) {
        let (run, sorted) = self.drive(events, attributes, as_at, trace, None);
        let state = run.state.clone();
        (run.finish(pathway_id, &sorted), state, sorted)
    }

    /// Every time rule `r` was considered while evaluating the pathway, with the value of each
    /// part of its condition (for the REPL's `:whynot`).
    pub fn considerations(
        &self,
        r: RuleId,
        events: &[Event],
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
    ) -> Vec<Consideration> {
        let (run, _) = self.drive(events, attributes, as_at, false, Some(r));
        run.probe.map(|(_, l)| l).unwrap_or_default()
    }

    fn target_days(&self, clock: ClockId, start: NaiveDate) -> i64 {
        match &self.policy.clocks[clock as usize].target {
            Target::Days(d) => *d,
            Target::Param(p) => match self.params[*p as usize].value_on(start) {
                Value::Duration(Duration { amount, .. }) => *amount,
                _ => 0,
            },
        }
    }
}

/// One time a rule was considered, with the value of each part of its condition (`:whynot`).
#[derive(Debug, Clone, PartialEq)]
pub struct Consideration {
    /// The date.
    pub date: NaiveDate,
    /// The event (or timer).
    pub event: String,
    /// Each top-level `and` operand of the condition, with its value.
    pub conjuncts: Vec<(String, String)>,
    /// Whether the whole condition held.
    pub held: bool,
}

fn flatten_and<'e>(e: &'e crate::model::ir::Expr, out: &mut Vec<&'e crate::model::ir::Expr>) {
    match e {
        crate::model::ir::Expr::Binary(crate::model::ir::BinOp::And, a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

/// The mutable state of one pathway's evaluation.
struct Run<'a, 'p> {
    ev: &'a Evaluator<'p>,
    state: PathwayState,
    as_at: NaiveDate,
    timers: Vec<PendingTimer>,
    obligations: Vec<Obligation>,
    outcomes: Vec<OutcomeResult>,
    conflicts: Vec<ConflictResult>,
    warnings: Vec<WarningResult>,
    trace: Option<Vec<TraceStep>>,
    /// A rule whose conditions are recorded each time it is considered.
    probe: Option<(RuleId, Vec<Consideration>)>,
    /// Definitions' values within the current step.
    memo: expr::DefMemo,
    /// Indexes of history queries over this pathway's (date-ordered) history.
    index: index::HistoryIndex,
    /// By event type: the obligations (indices into `obligations`) that an event of that type
    /// may meet and that were open when last looked at.
    waiting: Vec<Vec<usize>>,
    /// The rules that fired in the current step (kept to reuse its allocation).
    plans: Vec<Plan>,
}

/// A rule that fired: the rule (or exception) whose actions apply.
#[derive(Debug, Clone, Copy)]
struct Plan {
    acting: RuleId,
}

impl<'a, 'p> Run<'a, 'p> {
    fn new(
        ev: &'a Evaluator<'p>,
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
        trace: bool,
    ) -> Self {
        let policy = ev.policy;
        let mut attrs: Vec<Value> = policy
            .schema
            .attributes
            .iter()
            .map(|a| a.default.clone().unwrap_or(Value::Unset))
            .collect();
        for (slot, v) in attributes {
            if let Some(a) = attrs.get_mut(*slot as usize) {
                *a = v.clone();
            }
        }
        Run {
            ev,
            state: PathwayState {
                attrs,
                clocks: vec![Vec::new(); policy.clocks.len()],
            },
            as_at,
            timers: Vec::new(),
            obligations: Vec::new(),
            outcomes: Vec::new(),
            conflicts: Vec::new(),
            warnings: Vec::new(),
            trace: trace.then(Vec::new),
            probe: None,
            memo: expr::DefMemo::with_defs(policy.defs.len()),
            index: index::HistoryIndex::default(),
            waiting: vec![Vec::new(); policy.schema.events.len()],
            plans: Vec::new(),
        }
    }

    /// The text and value of each top-level `and` operand of rule `r`'s condition.
    fn conjunct_values(&self, r: RuleId, history: &[&Event], step: &Step) -> Vec<(String, String)> {
        let rule = &self.policy().rules[r as usize];
        let Some(w) = &rule.when else {
            return Vec::new();
        };
        let ctx = self.ctx(history, step);
        let mut parts = Vec::new();
        flatten_and(w, &mut parts);
        let schema = &self.policy().schema;
        parts
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let text = rule
                    .conjuncts
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("part {}", i + 1));
                let v = match ctx.eval(e) {
                    Value::Unset => "unset".to_string(),
                    v => schema.display_value(&v),
                };
                (text, v)
            })
            .collect()
    }

    /// Why a condition is false, for the trace: its first failing part, said positively with
    /// the values involved (`` `ers_referral` is true `` for a failing `not ers_referral`,
    /// `` `pathway.channel` is ers, not paper `` for a failing `==`).
    fn why_false(&self, r: RuleId, history: &[&Event], step: &Step) -> String {
        let rule = &self.policy().rules[r as usize];
        let values = self.conjunct_values(r, history, step);
        let Some(i) = values.iter().position(|(_, v)| v != "true") else {
            return "the condition is false".into();
        };
        let (text, value) = &values[i];
        let mut parts = Vec::new();
        if let Some(w) = &rule.when {
            flatten_and(w, &mut parts);
        }
        let schema = &self.policy().schema;
        let ctx = self.ctx(history, step);
        let show = |e: &crate::model::ir::Expr| match ctx.eval(e) {
            Value::Unset => "not set".to_string(),
            v => schema.display_value(&v),
        };
        use crate::model::ir::{BinOp, Expr};
        let unparen = |t: &str| {
            let t = t.trim();
            match t.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                Some(inner) if !inner.contains(['(', ')']) => inner.trim().to_string(),
                _ => t.to_string(),
            }
        };
        let side = |op: &str| text.split_once(op).map(|(a, b)| (a.trim(), b.trim()));
        match (parts.get(i), value.as_str()) {
            (Some(Expr::Not(_)), "false") => match text.strip_prefix("not ") {
                Some(inner) => format!("`{}` is true", unparen(inner)),
                None => format!("`{text}` is false"),
            },
            (Some(Expr::Binary(BinOp::Eq, a, _)), "false") => match side(" == ") {
                Some((l, r)) => format!("`{l}` is {}, not {r}", show(a)),
                None => format!("`{text}` is false"),
            },
            (Some(Expr::Binary(BinOp::Ne, a, _)), "false") => match side(" != ") {
                Some((l, _)) => format!("`{l}` is {}", show(a)),
                None => format!("`{text}` is false"),
            },
            (Some(Expr::Binary(op, a, b)), "false")
                if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) =>
            {
                let sym = match op {
                    BinOp::Lt => " < ",
                    BinOp::Le => " <= ",
                    BinOp::Gt => " > ",
                    _ => " >= ",
                };
                match side(sym) {
                    Some((l, r)) => format!(
                        "`{l}` is {} and `{r}` is {}: `{text}` does not hold",
                        show(a),
                        show(b)
                    ),
                    None => format!("`{text}` is false"),
                }
            }
            (Some(Expr::In(x, _, true)), "false") => match side(" in ") {
                Some((l, r)) => format!("`{l}` is {}, not one of {r}", show(x)),
                None => format!("`{text}` is false"),
            },
            (Some(Expr::IsSet(_, true)), "false") => match side(" is set") {
                Some((l, _)) => format!("`{l}` is not set"),
                None => format!("`{text}` is false"),
            },
            (_, "unset") => format!("`{text}` is not set"),
            _ => format!("`{text}` is {value}"),
        }
    }

    /// Evaluates rule `r`'s condition, recording its parts if `r` is probed.
    fn condition_holds(&mut self, r: RuleId, history: &[&Event], step: &Step) -> bool {
        let rule = &self.policy().rules[r as usize];
        let Some(w) = &rule.when else {
            if let Some((p, list)) = &mut self.probe {
                if *p == r {
                    list.push(Consideration {
                        date: step.now,
                        event: step.label.to_string(),
                        conjuncts: Vec::new(),
                        held: true,
                    });
                }
            }
            return true;
        };
        let holds = match self.ev.program.conditions.get(r as usize) {
            Some(Some(test)) => test(&self.ctx(history, step)) == Some(true),
            _ => self.ctx(history, step).eval(w) == Value::Bool(true),
        };
        if self.probe.as_ref().is_some_and(|(p, _)| *p == r) {
            let conjuncts = self.conjunct_values(r, history, step);
            if let Some((_, list)) = &mut self.probe {
                list.push(Consideration {
                    date: step.now,
                    event: step.label.to_string(),
                    conjuncts,
                    held: holds,
                });
            }
        }
        holds
    }

    fn policy(&self) -> &'p Policy {
        self.ev.policy
    }

    fn ctx<'s>(&'s self, history: &'s [&'s Event], step: &Step<'s>) -> expr::Ctx<'s, 'p> {
        expr::Ctx {
            ev: self.ev,
            state: &self.state,
            history,
            trigger: step.trigger,
            candidates: [None; crate::model::ir::MAX_QUERY_DEPTH],
            now: step.now,
            memo: &self.memo,
            index: Some(&self.index),
        }
    }

    /// Fires pending timers whose due date satisfies `due_ok`, in due order (then policy order).
    /// `processed` is how many events are in the history.
    fn fire_timers(
        &mut self,
        events: &[&Event],
        processed: usize,
        due_ok: impl Fn(NaiveDate) -> bool,
    ) {
        loop {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, t)| due_ok(t.due))
                .min_by_key(|(_, t)| (t.due, t.rule))
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            let timer = self.timers.remove(i);
            let rule = &self.policy().rules[timer.rule as usize];
            let trigger = events.get(timer.armed_by).copied();
            let step = Step {
                now: timer.due,
                trigger,
                label: Label::Timer(&rule.name),
                line: trigger.map(|e| e.line),
            };
            let history = &events[..processed];
            let mut traces = Vec::new();
            self.memo.clear();
            let plans: Vec<Plan> = self
                .resolve(timer.rule, history, &step, &mut traces)
                .into_iter()
                .collect();
            self.apply_plans(&plans, history, &step, &mut traces);
            self.memo.clear();
            self.push_trace(step, traces);
        }
    }

    fn apply_event(&mut self, events: &[&Event], i: usize) {
        let e = events[i];
        let policy = self.policy();
        let kind = e.kind as usize;
        let Some(def) = policy.schema.events.get(kind) else {
            return;
        };
        // Attributes carried by the event.
        for (f, slot) in def.sets_attribute.iter().enumerate() {
            if let (Some(slot), Some(v)) = (slot, e.fields.get(f)) {
                if v.is_set() {
                    if let Some(a) = self.state.attrs.get_mut(*slot as usize) {
                        *a = v.clone();
                    }
                }
            }
        }
        let history = &events[..=i];
        let step = Step {
            now: e.date,
            trigger: Some(e),
            label: Label::Event(def.name.as_str()),
            line: Some(e.line),
        };
        // Obligations this event meets.
        if policy.meets.get(kind).copied().unwrap_or(false) {
            self.meet_obligations(history, i, e);
        }
        let mut traces = Vec::new();
        // Timers this event cancels.
        for &r in &policy.cancels[kind] {
            let before = self.timers.len();
            self.timers.retain(|t| t.rule != r);
            if self.trace.is_some() && self.timers.len() != before {
                traces.push(self.rule_trace(r, RuleOutcome::Cancelled, None));
            }
        }
        // Rules triggered by the event: every condition sees the state before any action.
        self.memo.clear();
        let mut plans = std::mem::take(&mut self.plans);
        plans.clear();
        for &r in &policy.on_event[kind] {
            plans.extend(self.resolve(r, history, &step, &mut traces));
        }
        self.apply_plans(&plans, history, &step, &mut traces);
        self.plans = plans;
        self.memo.clear();
        // Timers armed by the event (a re-arm replaces a pending one).
        for &r in &policy.arms[kind] {
            let RuleKind::Timer { delay, .. } = &policy.rules[r as usize].kind else {
                continue;
            };
            let ctx = self.ctx(history, &step);
            let due = match ctx.eval(delay) {
                Value::Duration(d) => policy.calendar.add(e.date, d),
                _ => continue,
            };
            self.timers.retain(|t| t.rule != r);
            self.timers.push(PendingTimer {
                rule: r,
                armed_by: i,
                due,
            });
            if self.trace.is_some() {
                traces.push(self.rule_trace(r, RuleOutcome::Armed, Some(format!("due {due}"))));
            }
        }
        self.push_trace(step, traces);
    }

    /// Marks the open obligations `e` meets. Only obligations waiting for `e`'s event type are
    /// looked at, and a met one leaves the list, so a long pathway is not quadratic in the
    /// obligations it ever created.
    fn meet_obligations(&mut self, history: &[&Event], i: usize, e: &Event) {
        let policy = self.policy();
        let kind = e.kind as usize;
        let Some(waiting) = self.waiting.get_mut(kind).map(std::mem::take) else {
            return;
        };
        let memo = expr::DefMemo::new();
        let mut still = Vec::with_capacity(waiting.len());
        for k in waiting {
            let Some(ob) = self.obligations.get(k) else {
                continue;
            };
            if ob.met_on.is_some() {
                continue;
            }
            if i < ob.from_index {
                still.push(k);
                continue;
            }
            let (rule, idx) = ob.action;
            let Some(Action::Require { by_where, .. }) =
                policy.rules[rule as usize].actions.get(idx)
            else {
                continue;
            };
            if let Some(w) = by_where {
                // The meeting event is the candidate of the outermost level.
                let mut candidates = [None; crate::model::ir::MAX_QUERY_DEPTH];
                candidates[0] = Some(e);
                let ctx = expr::Ctx {
                    ev: self.ev,
                    state: &self.state,
                    history,
                    trigger: None,
                    candidates,
                    now: e.date,
                    memo: &memo,
                    index: Some(&self.index),
                };
                if ctx.eval(w) != Value::Bool(true) {
                    still.push(k);
                    continue;
                }
            }
            self.obligations[k].met_on = Some(e.date);
        }
        if let Some(slot) = self.waiting.get_mut(kind) {
            // Obligations added while this list was out (none today) are kept after it.
            still.append(slot);
            *slot = still;
        }
    }

    fn rule_trace(&self, r: RuleId, result: RuleOutcome, detail: Option<String>) -> RuleTrace {
        RuleTrace {
            rule: self.ev.program.rule_name(r),
            cite: self.ev.program.cite(r),
            result,
            detail,
        }
    }

    /// Decides whether rule `r` fires and whose actions apply (the deepest applicable exception).
    fn resolve(
        &mut self,
        r: RuleId,
        history: &[&Event],
        step: &Step,
        traces: &mut Vec<RuleTrace>,
    ) -> Option<Plan> {
        let policy = self.policy();
        let rule = &policy.rules[r as usize];
        if rule.disabled.is_some() {
            return None;
        }
        let holds = self.condition_holds(r, history, step);
        if !holds {
            if self.trace.is_some() {
                traces.push(self.rule_trace(
                    r,
                    RuleOutcome::NotApplicable,
                    Some(self.why_false(r, history, step)),
                ));
            }
            return None;
        }
        let acting = self.deepest(r, history, step, traces);
        if self.trace.is_some() {
            if acting == r {
                traces.push(self.rule_trace(r, RuleOutcome::Fired, None));
            } else {
                let ex = &policy.rules[acting as usize];
                traces.push(self.rule_trace(
                    r,
                    RuleOutcome::Overridden,
                    Some(format!("exception {} applied", ex.name)),
                ));
                traces.push(self.rule_trace(
                    acting,
                    RuleOutcome::Fired,
                    Some(format!("instead of {}", rule.name)),
                ));
            }
        }
        Some(Plan { acting })
    }

    /// The rule whose actions apply when `r` holds: `r`, or the deepest applicable exception.
    fn deepest(
        &mut self,
        r: RuleId,
        history: &[&Event],
        step: &Step,
        traces: &mut Vec<RuleTrace>,
    ) -> RuleId {
        let policy = self.policy();
        let mut applicable = Vec::new();
        for &x in &policy.rules[r as usize].exceptions {
            let ex = &policy.rules[x as usize];
            if ex.disabled.is_some() {
                continue;
            }
            let holds = self.condition_holds(x, history, step);
            if holds {
                applicable.push(x);
            } else if self.trace.is_some() {
                let why = self.why_false(x, history, step);
                traces.push(self.rule_trace(x, RuleOutcome::NotApplicable, Some(why)));
            }
        }
        match applicable.as_slice() {
            [] => r,
            [one] => self.deepest(*one, history, step, traces),
            many => {
                let program = &self.ev.program;
                let names: Vec<Name> = many.iter().map(|x| program.rule_name(*x)).collect();
                let cites: Vec<Name> = many.iter().map(|x| program.cite(*x)).collect();
                self.conflicts.push(ConflictResult {
                    date: step.now,
                    event: step.label.to_string(),
                    clock: Name::default(),
                    rules: names,
                    cites,
                    resolution: format!(
                        "exceptions to `{}` disagree; the rule's own actions were applied",
                        policy.rules[r as usize].name
                    ),
                });
                if self.trace.is_some() {
                    for x in many {
                        traces.push(self.rule_trace(*x, RuleOutcome::Conflict, None));
                    }
                }
                r
            }
        }
    }

    fn apply_plans(
        &mut self,
        plans: &[Plan],
        history: &[&Event],
        step: &Step,
        traces: &mut Vec<RuleTrace>,
    ) {
        if plans.is_empty() {
            return;
        }
        let policy = self.policy();
        // Clocks acted on by more than one fired rule are in conflict.
        let mut blocked: Vec<ClockId> = Vec::new();
        if plans.len() > 1 {
            for c in 0..policy.clocks.len() as ClockId {
                let on_clock = |p: &&Plan| {
                    policy.rules[p.acting as usize]
                        .actions
                        .iter()
                        .any(|a| a.clock() == Some(c))
                };
                // Counted first: the list is built only for a conflict.
                if plans.iter().filter(on_clock).count() < 2 {
                    continue;
                }
                let acting: Vec<&Plan> = plans.iter().filter(on_clock).collect();
                if acting.len() > 1 {
                    blocked.push(c);
                    self.conflicts.push(ConflictResult {
                        date: step.now,
                        event: step.label.to_string(),
                        clock: self.ev.program.clock_name(c),
                        rules: acting
                            .iter()
                            .map(|p| self.ev.program.rule_name(p.acting))
                            .collect(),
                        cites: acting
                            .iter()
                            .map(|p| self.ev.program.cite(p.acting))
                            .collect(),
                        resolution: "none of these rules' actions on this clock was applied".into(),
                    });
                    if self.trace.is_some() {
                        for p in &acting {
                            traces.push(self.rule_trace(
                                p.acting,
                                RuleOutcome::Conflict,
                                Some(format!("on clock {}", policy.clocks[c as usize].name)),
                            ));
                        }
                    }
                }
            }
        }
        for plan in plans {
            let rule = &policy.rules[plan.acting as usize];
            for (idx, action) in rule.actions.iter().enumerate() {
                if action.clock().is_some_and(|c| blocked.contains(&c)) {
                    continue;
                }
                self.apply_action(plan.acting, idx, action, history, step);
                // A definition read by a later action sees what this one changed.
                self.memo.clear();
            }
        }
    }

    fn date_or_now(
        &self,
        e: &Option<crate::model::ir::Expr>,
        history: &[&Event],
        step: &Step,
    ) -> Option<NaiveDate> {
        match e {
            None => Some(step.now),
            Some(e) => match self.ctx(history, step).eval(e) {
                Value::Date(d) => Some(d),
                _ => None,
            },
        }
    }

    fn warn(&mut self, step: &Step, rule: RuleId, message: String) {
        self.warnings.push(WarningResult {
            date: step.now,
            message,
            rule: Some(self.ev.program.rule_name(rule)),
            cite: Some(self.ev.program.cite(rule)),
            line: step.line,
        });
    }

    fn apply_action(
        &mut self,
        rid: RuleId,
        idx: usize,
        action: &Action,
        history: &[&Event],
        step: &Step,
    ) {
        let policy = self.policy();
        let clock_name = |c: ClockId| policy.clocks[c as usize].name.as_str();
        match action {
            Action::Start(c, on) => {
                let Some(d) = self.date_or_now(on, history, step) else {
                    return self.warn(
                        step,
                        rid,
                        format!("`start {}`: the date is not set", clock_name(*c)),
                    );
                };
                if let Some(open) = self.state.clocks[*c as usize]
                    .iter()
                    .find(|p| p.state == PeriodState::Open)
                {
                    let since = open.start;
                    return self.warn(
                        step,
                        rid,
                        format!(
                            "clock `{}` is already running since {since}; `start` ignored",
                            clock_name(*c)
                        ),
                    );
                }
                let target_days = self.ev.target_days(*c, d);
                self.state.clocks[*c as usize].push(Period {
                    start: d,
                    stop: None,
                    state: PeriodState::Open,
                    reason: None,
                    reason_id: None,
                    pauses: Vec::new(),
                    target_days,
                    started_by: Some(rid),
                    stopped_by: None,
                });
            }
            Action::Stop(c, reason, on) | Action::Nullify(c, reason, on) => {
                let nullify = matches!(action, Action::Nullify(..));
                let verb = if nullify { "nullify" } else { "stop" };
                let Some(d) = self.date_or_now(on, history, step) else {
                    return self.warn(
                        step,
                        rid,
                        format!("`{verb} {}`: the date is not set", clock_name(*c)),
                    );
                };
                let Some(p) = self.state.clocks[*c as usize]
                    .iter_mut()
                    .find(|p| p.state == PeriodState::Open)
                else {
                    return self.warn(
                        step,
                        rid,
                        format!("`{verb} {}` with no running clock", clock_name(*c)),
                    );
                };
                let d = d.max(p.start);
                for pause in &mut p.pauses {
                    if pause.1.is_none() {
                        pause.1 = Some(d);
                    }
                }
                p.stop = Some(d);
                p.state = if nullify {
                    PeriodState::Nullified
                } else {
                    PeriodState::Stopped
                };
                p.reason = Some(reason.name);
                p.reason_id = Some(reason.id);
                p.stopped_by = Some(rid);
            }
            Action::Reset(c, to) => {
                let Some(d) = self.date_or_now(&Some(to.clone()), history, step) else {
                    return self.warn(
                        step,
                        rid,
                        format!("`reset {}`: the date is not set", clock_name(*c)),
                    );
                };
                let Some(p) = self.state.clocks[*c as usize]
                    .iter_mut()
                    .find(|p| p.state == PeriodState::Open)
                else {
                    return self.warn(
                        step,
                        rid,
                        format!("`reset {}` with no running clock", clock_name(*c)),
                    );
                };
                p.start = d;
            }
            Action::Pause(c, on) => {
                let Some(d) = self.date_or_now(on, history, step) else {
                    return self.warn(
                        step,
                        rid,
                        format!("`pause {}`: the date is not set", clock_name(*c)),
                    );
                };
                let Some(p) = self.state.clocks[*c as usize]
                    .iter_mut()
                    .find(|p| p.state == PeriodState::Open)
                else {
                    return self.warn(
                        step,
                        rid,
                        format!("`pause {}` with no running clock", clock_name(*c)),
                    );
                };
                if p.pauses.iter().any(|(_, to)| to.is_none()) {
                    return self.warn(
                        step,
                        rid,
                        format!("clock `{}` is already paused", clock_name(*c)),
                    );
                }
                p.pauses.push((d, None));
            }
            Action::Resume(c, on) => {
                let Some(d) = self.date_or_now(on, history, step) else {
                    return self.warn(
                        step,
                        rid,
                        format!("`resume {}`: the date is not set", clock_name(*c)),
                    );
                };
                let open_pause = self.state.clocks[*c as usize]
                    .iter_mut()
                    .find(|p| p.state == PeriodState::Open)
                    .and_then(|p| p.pauses.iter_mut().find(|(_, to)| to.is_none()));
                match open_pause {
                    Some(pause) => pause.1 = Some(d.max(pause.0)),
                    None => self.warn(
                        step,
                        rid,
                        format!("`resume {}` with no pause", clock_name(*c)),
                    ),
                }
            }
            Action::Outcome(name, on) => {
                let d = self.date_or_now(on, history, step).unwrap_or(step.now);
                self.outcomes.push(OutcomeResult {
                    outcome: *name,
                    date: d,
                    rule: self.ev.program.rule_name(rid),
                    cite: self.ev.program.cite(rid),
                });
            }
            Action::Require {
                what,
                within,
                of,
                by,
                ..
            } => {
                let Some(from) = self.date_or_now(of, history, step) else {
                    return self.warn(step, rid, format!("`require {what}`: the date is not set"));
                };
                let Value::Duration(d) = self.ctx(history, step).eval(within) else {
                    return;
                };
                let due = policy.calendar.add(from, d);
                for &t in by {
                    if let Some(list) = self.waiting.get_mut(t as usize) {
                        list.push(self.obligations.len());
                    }
                }
                self.obligations.push(Obligation {
                    what: *what,
                    created: step.now,
                    due,
                    from_index: history.len(),
                    action: (rid, idx),
                    met_on: None,
                });
            }
            Action::Warn(text) => {
                self.warn(step, rid, text.to_string());
            }
        }
    }

    fn clock_summary(&self, now: NaiveDate) -> Vec<String> {
        let policy = self.policy();
        policy
            .clocks
            .iter()
            .zip(&self.state.clocks)
            .filter_map(|(c, periods)| periods.last().map(|p| (c, p)))
            .map(|(c, p)| match p.state {
                PeriodState::Open => format!(
                    "{} {} since {} ({})",
                    c.name,
                    p.status(now),
                    p.start,
                    crate::base::text::count_of(p.days_waited(now), "day", "days")
                ),
                PeriodState::Stopped => format!(
                    "{} stopped {} ({}, {})",
                    c.name,
                    p.stop.map(|d| d.to_string()).unwrap_or_default(),
                    p.reason.as_deref().unwrap_or(""),
                    crate::base::text::count_of(p.days_waited(now), "day", "days")
                ),
                PeriodState::Nullified => format!(
                    "{} nullified {} ({})",
                    c.name,
                    p.stop.map(|d| d.to_string()).unwrap_or_default(),
                    p.reason.as_deref().unwrap_or("")
                ),
            })
            .collect()
    }

    fn push_trace(&mut self, step: Step, rules: Vec<RuleTrace>) {
        if self.trace.is_none() {
            return;
        }
        let clocks = self.clock_summary(step.now);
        if let Some(t) = &mut self.trace {
            t.push(TraceStep {
                date: step.now,
                event: step.label.to_string(),
                line: step.line,
                rules,
                clocks,
            });
        }
    }

    fn finish(self, pathway_id: &str, _events: &[&Event]) -> PathwayResult {
        let policy = self.policy();
        let program = &*self.ev.program;
        let as_at = self.as_at;
        // Periods in start order (then clock, then period): usually already in clock order,
        // so sorted only when they are not.
        let mut clocks = Vec::with_capacity(self.state.clocks.iter().map(Vec::len).sum());
        let mut in_order = true;
        let mut previous = None;
        for (ci, periods) in self.state.clocks.iter().enumerate() {
            for (pi, p) in periods.iter().enumerate() {
                let key = (p.start, ci, pi);
                in_order &= previous.is_none_or(|k| k < key);
                previous = Some(key);
                let nullified = p.state == PeriodState::Nullified;
                let days = p.days_waited(as_at);
                clocks.push(PeriodResult {
                    clock: program.clock_name(ci as ClockId),
                    period: pi as u32 + 1,
                    status: p.status(as_at),
                    start: p.start,
                    stop: p.stop,
                    reason: p.reason,
                    days_waited: (!nullified).then_some(days),
                    paused_days: p.paused_days(as_at),
                    target_days: p.target_days,
                    target_date: p.target_date(as_at),
                    breached: !nullified && days > p.target_days,
                    weeks_waited: (!nullified).then_some(days.div_euclid(7)),
                    started_by: p.started_by.map(|r| program.rule_name(r)),
                    stopped_by: p.stopped_by.map(|r| program.rule_name(r)),
                });
            }
        }
        if !in_order {
            let clock_index = |name: Name| program.clock_names.iter().position(|c| *c == name);
            clocks.sort_by_key(|r| (r.start, clock_index(r.clock), r.period));
        }
        let obligations = self
            .obligations
            .iter()
            .map(|o| {
                let status = match o.met_on {
                    Some(d) if d <= o.due => ObligationStatus::Met,
                    Some(_) => ObligationStatus::Missed,
                    None if as_at > o.due => ObligationStatus::Missed,
                    None => ObligationStatus::Open,
                };
                ObligationResult {
                    what: o.what,
                    created: o.created,
                    due: o.due,
                    status,
                    met_on: o.met_on,
                    rule: program.rule_name(o.action.0),
                    cite: program.cite(o.action.0),
                }
            })
            .collect();
        // In name order, so that the map is built by appending and the list needs no sort.
        let mut attributes = Attributes::default();
        for &slot in &program.attributes_by_name {
            if let (Some(&name), Some(v)) = (
                program.attribute_names.get(slot),
                self.state.attrs.get(slot),
            ) {
                if v.is_set() {
                    let literal = matches!(v, Value::Bool(_) | Value::Int(_));
                    attributes.insert(name, policy.schema.display_short(v), literal);
                }
            }
        }
        PathwayResult {
            pathway_id: pathway_id.into(),
            as_at,
            attributes,
            clocks,
            outcomes: self.outcomes,
            obligations,
            conflicts: self.conflicts,
            warnings: self.warnings,
            trace: self.trace,
        }
    }
}

// Last in the file: the layer test reads a file only up to its first `#[cfg(test)]`.
#[cfg(test)]
mod tests;
