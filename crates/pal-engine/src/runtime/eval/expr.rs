//! Evaluates IR expressions against a pathway's state and history.

use super::index::{AddressMap, Answer, HistoryIndex};
use super::{Evaluator, PathwayState, PeriodState};
use crate::base::value::{Duration, Value};
use crate::model::calendar::{age_in_years, days_between, month_end, month_start, same_month};
use crate::model::event::Event;
use crate::model::ir::BinOp;
use crate::model::ir::{Builtin, ClockField, EventRef, Expr, Query, QueryKind, MAX_QUERY_DEPTH};
use crate::model::schema::EventTypeId;
use chrono::NaiveDate;
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;

/// Histories shorter than this are scanned by queries, not indexed.
const SHORT_HISTORY: usize = 16;

/// Everything an expression can read.
pub(crate) struct Ctx<'s, 'p> {
    pub ev: &'s Evaluator<'p>,
    pub state: &'s PathwayState,
    /// Events applied so far, in order.
    pub history: &'s [&'s Event],
    /// The triggering event.
    pub trigger: Option<&'s Event>,
    /// The candidate events of the enclosing queries' `where`s, by nesting level.
    pub candidates: [Option<&'s Event>; MAX_QUERY_DEPTH],
    /// The date being evaluated.
    pub now: NaiveDate,
    /// Values of definitions (and step-memoisable queries) already evaluated in this step.
    pub memo: &'s DefMemo,
    /// Indexes of history queries over this pathway's history (`None` if `history` is not
    /// the date-ordered history of one evaluation).
    pub index: Option<&'s HistoryIndex>,
}

/// A query's value memoised within a step.
#[derive(Debug, Clone)]
enum StepValue {
    Value(Value),
    Found(Option<usize>),
}

/// The value of each `def` within one evaluation step. A definition reads the pathway's state,
/// the triggering event and the date, none of which change while a step's conditions are
/// evaluated, so several rules asking for e.g. `cancer_suspected` share one evaluation. The
/// evaluator clears it whenever the state changes.
/// Every evaluation has one (obligations' conditions, test expectations and the REPL too), so
/// a chain of definitions each naming the previous one twice costs its length, not 2^length.
#[derive(Debug, Default)]
pub(crate) struct DefMemo {
    values: RefCell<Vec<Option<Value>>>,
    queries: RefCell<AddressMap<StepValue>>,
    used: Cell<bool>,
}

impl DefMemo {
    /// An empty memo (allocates on first use).
    pub(crate) fn new() -> DefMemo {
        DefMemo::default()
    }

    /// An empty memo with room for `defs` definitions.
    pub(crate) fn with_defs(defs: usize) -> DefMemo {
        DefMemo {
            values: RefCell::new(vec![None; defs]),
            ..DefMemo::default()
        }
    }

    /// Forgets every value (the state, trigger or date is about to change).
    pub(crate) fn clear(&self) {
        if self.used.replace(false) {
            self.values.borrow_mut().iter_mut().for_each(|v| *v = None);
            self.queries.borrow_mut().clear();
        }
    }

    pub(super) fn get(&self, d: usize) -> Option<Value> {
        self.values.borrow().get(d).cloned().flatten()
    }

    pub(super) fn set(&self, d: usize, v: &Value) {
        let mut values = self.values.borrow_mut();
        if values.len() <= d {
            values.resize(d + 1, None);
        }
        values[d] = Some(v.clone());
        self.used.set(true);
    }

    fn query(&self, q: &Query) -> Option<StepValue> {
        self.queries
            .borrow()
            .get(&(q as *const Query as usize))
            .cloned()
    }

    fn set_query(&self, q: &Query, v: StepValue) {
        self.queries
            .borrow_mut()
            .insert(q as *const Query as usize, v);
        self.used.set(true);
    }
}

pub(super) fn field_of(e: Option<&Event>, slots: &[(EventTypeId, u16)]) -> Value {
    let Some(e) = e else { return Value::Unset };
    slots
        .iter()
        .find(|(t, _)| *t == e.kind)
        .and_then(|(_, i)| e.fields.get(*i as usize))
        .cloned()
        .unwrap_or(Value::Unset)
}

pub(super) fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

pub(super) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) if x.kind == y.kind => {
            Some(x.amount.cmp(&y.amount))
        }
        _ => None,
    }
}

/// Unary minus.
pub(super) fn negate(v: Value) -> Value {
    match v {
        Value::Int(i) => i.checked_neg().map(Value::Int).unwrap_or(Value::Unset),
        Value::Duration(d) => Value::Duration(Duration {
            kind: d.kind,
            amount: -d.amount,
        }),
        _ => Value::Unset,
    }
}

/// `v in list` (`yes`) / `not in`, where `list` is a list value.
pub(super) fn member(v: &Value, list: &Value, yes: bool) -> bool {
    let found = v.is_set()
        && match list {
            Value::List(items) => items.contains(v),
            _ => false,
        };
    found == yes
}

impl<'s, 'p> Ctx<'s, 'p> {
    pub(super) fn with_candidate(&self, level: u8, c: &'s Event) -> Ctx<'s, 'p> {
        let mut candidates = self.candidates;
        if let Some(slot) = candidates.get_mut(level as usize) {
            *slot = Some(c);
        }
        Ctx {
            ev: self.ev,
            state: self.state,
            history: self.history,
            trigger: self.trigger,
            candidates,
            now: self.now,
            memo: self.memo,
            index: self.index,
        }
    }

    pub(super) fn add(&self, d: NaiveDate, dur: Duration) -> Value {
        self.ev
            .policy
            .calendar
            .checked_add(d, dur)
            .map(Value::Date)
            .unwrap_or(Value::Unset)
    }

    /// Evaluates an expression. Type checking guarantees the shapes; anything else (an unset
    /// optional read through a query, an overflow) evaluates to `Unset`, which is never true.
    pub fn eval(&self, e: &Expr) -> Value {
        match e {
            Expr::Const(v) => v.clone(),
            Expr::Param(p) => self.ev.params()[*p as usize].value_on(self.now).clone(),
            Expr::Def(d) => {
                let d = *d as usize;
                if let Some(v) = self.memo.get(d) {
                    return v;
                }
                let Some(def) = self.ev.policy.defs.get(d) else {
                    return Value::Unset;
                };
                let v = self.eval(&def.body);
                self.memo.set(d, &v);
                v
            }
            Expr::Now => Value::Date(self.now),
            Expr::EventDate(r) => match self.event(*r) {
                Some(e) => Value::Date(e.date),
                None => Value::Unset,
            },
            Expr::EventField(r, slots) => field_of(self.event(*r), slots),
            Expr::Attr(i) => self
                .state
                .attrs
                .get(*i as usize)
                .cloned()
                .unwrap_or(Value::Unset),
            Expr::Clock(c, f) => self.clock(*c, *f),
            Expr::Query(q) => self.query(q),
            Expr::QueryField(q, slots) => {
                let found = self.find(q);
                match slots {
                    None => found.map(|e| Value::Date(e.date)).unwrap_or(Value::Unset),
                    Some(slots) => field_of(found, slots),
                }
            }
            Expr::Call(b, args) => self.call(*b, args),
            Expr::Not(x) => match self.eval(x) {
                Value::Bool(b) => Value::Bool(!b),
                _ => Value::Unset,
            },
            Expr::Neg(x) => negate(self.eval(x)),
            Expr::Binary(op, a, b) => self.binary(*op, a, b),
            Expr::Within(v, w, o) => {
                Value::Bool(self.within(&self.eval(v), &self.eval(w), &self.eval(o)))
            }
            Expr::AtLeast(v, g, before, r) => {
                Value::Bool(self.at_least(&self.eval(v), &self.eval(g), *before, &self.eval(r)))
            }
            Expr::IsSet(x, yes) => {
                let v = self.eval(x);
                let set = match x.as_ref() {
                    // `last(E) is set` was compiled to an exists query.
                    Expr::Query(q) if q.kind == QueryKind::Exists => truthy(&v),
                    _ => v.is_set(),
                };
                Value::Bool(set == *yes)
            }
            Expr::In(x, list, yes) => {
                let v = self.eval(x);
                if !v.is_set() {
                    // An unset value is in no list; `not in` is exactly `not (… in …)`.
                    return Value::Bool(!*yes);
                }
                // Constants (nearly always the case) are compared in place, not cloned.
                let found = list.iter().any(|i| match i {
                    Expr::Const(c) => *c == v,
                    other => self.eval(other) == v,
                });
                Value::Bool(found == *yes)
            }
            Expr::Member(x, list, yes) => {
                Value::Bool(member(&self.eval(x), &self.eval(list), *yes))
            }
        }
    }

    /// `v within w of o`.
    pub(super) fn within(&self, v: &Value, w: &Value, o: &Value) -> bool {
        let (Value::Date(v), Value::Duration(w), Value::Date(o)) = (v, w, o) else {
            return false;
        };
        match self.add(*o, *w) {
            Value::Date(end) => o <= v && *v <= end,
            _ => false,
        }
    }

    /// `v at least g before|after r`.
    pub(super) fn at_least(&self, v: &Value, g: &Value, before: bool, r: &Value) -> bool {
        let (Value::Date(v), Value::Duration(g), Value::Date(r)) = (v, g, r) else {
            return false;
        };
        if before {
            matches!(self.add(*v, *g), Value::Date(x) if x <= *r)
        } else {
            matches!(self.add(*r, *g), Value::Date(x) if x <= *v)
        }
    }

    pub(super) fn event(&self, r: EventRef) -> Option<&'s Event> {
        match r {
            EventRef::Trigger => self.trigger,
            EventRef::Candidate(level) => self.candidates.get(level as usize).copied().flatten(),
        }
    }

    fn binary(&self, op: BinOp, a: &Expr, b: &Expr) -> Value {
        match op {
            BinOp::And => return Value::Bool(truthy(&self.eval(a)) && truthy(&self.eval(b))),
            BinOp::Or => return Value::Bool(truthy(&self.eval(a)) || truthy(&self.eval(b))),
            BinOp::Coalesce => {
                let l = self.eval(a);
                return if l.is_set() { l } else { self.eval(b) };
            }
            _ => {}
        }
        self.operate(op, self.eval(a), self.eval(b))
    }

    /// A binary operator other than `and`, `or` and `??` applied to its operands' values.
    pub(super) fn operate(&self, op: BinOp, l: Value, r: Value) -> Value {
        // One rule for unset values (docs/language.md, "Comparisons with an unset value"):
        // equality compares values (unset equals only unset), so `!=` is exactly `not ==`;
        // an ordering with an unset side is false; arithmetic with one is unset.
        if !l.is_set() || !r.is_set() {
            return match op {
                BinOp::Eq => Value::Bool(l == r),
                BinOp::Ne => Value::Bool(l != r),
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(false),
                _ => Value::Unset,
            };
        }
        match op {
            BinOp::Eq => Value::Bool(l == r),
            BinOp::Ne => Value::Bool(l != r),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let Some(ord) = compare(&l, &r) else {
                    return Value::Bool(false);
                };
                Value::Bool(match op {
                    BinOp::Lt => ord == Ordering::Less,
                    BinOp::Le => ord != Ordering::Greater,
                    BinOp::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                })
            }
            BinOp::Add => match (l, r) {
                (Value::Int(x), Value::Int(y)) => {
                    x.checked_add(y).map(Value::Int).unwrap_or(Value::Unset)
                }
                (Value::Date(d), Value::Duration(u)) | (Value::Duration(u), Value::Date(d)) => {
                    self.add(d, u)
                }
                (Value::Duration(x), Value::Duration(y)) if x.kind == y.kind => x
                    .amount
                    .checked_add(y.amount)
                    .map(|amount| {
                        Value::Duration(Duration {
                            kind: x.kind,
                            amount,
                        })
                    })
                    .unwrap_or(Value::Unset),
                _ => Value::Unset,
            },
            BinOp::Sub => match (l, r) {
                (Value::Int(x), Value::Int(y)) => {
                    x.checked_sub(y).map(Value::Int).unwrap_or(Value::Unset)
                }
                (Value::Date(x), Value::Date(y)) => {
                    Value::Duration(Duration::days(days_between(y, x)))
                }
                (Value::Date(d), Value::Duration(u)) => self.add(
                    d,
                    Duration {
                        kind: u.kind,
                        amount: -u.amount,
                    },
                ),
                (Value::Duration(x), Value::Duration(y)) if x.kind == y.kind => x
                    .amount
                    .checked_sub(y.amount)
                    .map(|amount| {
                        Value::Duration(Duration {
                            kind: x.kind,
                            amount,
                        })
                    })
                    .unwrap_or(Value::Unset),
                _ => Value::Unset,
            },
            BinOp::Mul => match (l, r) {
                (Value::Int(x), Value::Int(y)) => {
                    x.checked_mul(y).map(Value::Int).unwrap_or(Value::Unset)
                }
                (Value::Int(n), Value::Duration(d)) | (Value::Duration(d), Value::Int(n)) => d
                    .amount
                    .checked_mul(n)
                    .map(|amount| {
                        Value::Duration(Duration {
                            kind: d.kind,
                            amount,
                        })
                    })
                    .unwrap_or(Value::Unset),
                _ => Value::Unset,
            },
            BinOp::Div => match (l, r) {
                (Value::Int(x), Value::Int(y)) => {
                    x.checked_div(y).map(Value::Int).unwrap_or(Value::Unset)
                }
                _ => Value::Unset,
            },
            BinOp::And | BinOp::Or | BinOp::Coalesce => Value::Unset,
        }
    }

    fn call(&self, b: Builtin, args: &[Expr]) -> Value {
        // Builtins take one or two arguments: no need for a heap allocation per call.
        let mut vals = [Value::Unset, Value::Unset];
        if args.len() > vals.len() {
            return Value::Unset;
        }
        let n = args.len();
        for (slot, a) in vals.iter_mut().zip(args) {
            *slot = self.eval(a);
        }
        self.builtin(b, &vals[..n])
    }

    /// A built-in function applied to its arguments' values.
    pub(super) fn builtin(&self, b: Builtin, vals: &[Value]) -> Value {
        match (b, vals) {
            (Builtin::Age, [Value::Date(birth), Value::Date(on)]) => {
                Value::Int(age_in_years(*birth, *on))
            }
            (Builtin::WorkingDays, [Value::Date(a), Value::Date(b)]) => {
                Value::Int(self.ev.policy.calendar.working_days_between(*a, *b))
            }
            (Builtin::DaysBetween, [Value::Date(a), Value::Date(b)]) => {
                Value::Int(days_between(*a, *b))
            }
            (Builtin::MonthStart, [Value::Date(d)]) => Value::Date(month_start(*d)),
            (Builtin::MonthEnd, [Value::Date(d)]) => Value::Date(month_end(*d)),
            (Builtin::SameMonth, [Value::Date(a), Value::Date(b)]) => {
                Value::Bool(same_month(*a, *b))
            }
            (Builtin::Min, [a, b]) => match compare(a, b) {
                Some(Ordering::Greater) => b.clone(),
                Some(_) => a.clone(),
                None => Value::Unset,
            },
            (Builtin::Max, [a, b]) => match compare(a, b) {
                Some(Ordering::Less) => b.clone(),
                Some(_) => a.clone(),
                None => Value::Unset,
            },
            _ => Value::Unset,
        }
    }

    pub(super) fn clock(&self, c: u16, f: ClockField) -> Value {
        let periods = self
            .state
            .clocks
            .get(c as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let last = periods.last();
        let now = self.now;
        match f {
            ClockField::Periods => Value::Int(periods.len() as i64),
            ClockField::Status => {
                let status = match last {
                    None => 0,
                    Some(p) => match p.state {
                        PeriodState::Open if p.paused_on(now) => 2,
                        PeriodState::Open => 1,
                        PeriodState::Stopped => 3,
                        PeriodState::Nullified => 4,
                    },
                };
                Value::Enum(0, status)
            }
            ClockField::Running => {
                Value::Bool(last.is_some_and(|p| p.state == PeriodState::Open && !p.paused_on(now)))
            }
            ClockField::Open => Value::Bool(last.is_some_and(|p| p.state == PeriodState::Open)),
            ClockField::Start => last.map(|p| Value::Date(p.start)).unwrap_or(Value::Unset),
            ClockField::Stop => last
                .and_then(|p| p.stop)
                .map(Value::Date)
                .unwrap_or(Value::Unset),
            ClockField::TargetDate => last
                .map(|p| Value::Date(p.target_date(now)))
                .unwrap_or(Value::Unset),
            ClockField::DaysWaited => Value::Int(last.map(|p| p.days_waited(now)).unwrap_or(0)),
            ClockField::WeeksWaited => {
                Value::Int(last.map(|p| p.days_waited(now).div_euclid(7)).unwrap_or(0))
            }
            ClockField::PausedDays => Value::Int(last.map(|p| p.paused_days(now)).unwrap_or(0)),
            ClockField::Reason => last
                .and_then(|p| p.reason_id)
                .map(|r| Value::Enum(self.ev.policy.stop_reasons, r))
                .unwrap_or(Value::Unset),
            ClockField::Breached => Value::Bool(last.is_some_and(|p| {
                p.state != PeriodState::Nullified && p.days_waited(now) > p.target_days
            })),
        }
    }

    fn since(&self, q: &Query) -> Option<NaiveDate> {
        match q.since.as_deref().map(|s| self.eval(s)) {
            Some(Value::Date(d)) => Some(d),
            _ => None,
        }
    }

    /// Whether candidate `e` satisfies the query's `where` (evaluated by the tree walker).
    fn tree_where(q: &Query) -> impl Fn(&Ctx<'s, 'p>) -> bool + '_ {
        move |c| q.where_.as_deref().is_none_or(|w| truthy(&c.eval(w)))
    }

    fn find(&self, q: &Query) -> Option<&'s Event> {
        self.find_by(q, || self.since(q), &Self::tree_where(q))
    }

    fn query(&self, q: &Query) -> Value {
        self.query_by(q, || self.since(q), &Self::tree_where(q))
    }

    /// A scan of a long history that tests only the events of `q`'s types on or after
    /// `since`, from the index's lists by event type: `Count`/`Exists` as a count, `First`/
    /// `Last` as the history index found. `None` (the caller scans the whole history) for a
    /// short history, no index, `consecutive`, or a query naming a type twice.
    fn typed_scan<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: Option<NaiveDate>,
        test: &T,
    ) -> Option<Answer> {
        let index = self.index?;
        let history = self.history;
        if history.len() < SHORT_HISTORY || q.kind == QueryKind::Consecutive {
            return None;
        }
        if q.events
            .iter()
            .enumerate()
            .any(|(i, t)| q.events[..i].contains(t))
        {
            return None;
        }
        let lists = index.by_type(history)?;
        let n = history.len();
        let from = since.map_or(0, |s| history.partition_point(|e| e.date < s));
        let hit = |i: &u32| test(&self.with_candidate(q.level, history[*i as usize]));
        let ranges = q.events.iter().map(|&t| lists.range(t, from, n));
        Some(match q.kind {
            QueryKind::Count => Answer::Count(
                ranges
                    .map(|r| r.iter().filter(|i| hit(i)).count() as i64)
                    .sum(),
            ),
            QueryKind::Exists => {
                let mut ranges = ranges;
                Answer::Count(i64::from(ranges.any(|r| r.iter().any(hit))))
            }
            QueryKind::First => Answer::Found(
                ranges
                    .filter_map(|r| r.iter().find(|i| hit(i)))
                    .min()
                    .map(|&i| i as usize),
            ),
            QueryKind::Last | QueryKind::Consecutive => Answer::Found(
                ranges
                    .filter_map(|r| r.iter().rev().find(|i| hit(i)))
                    .max()
                    .map(|&i| i as usize),
            ),
        })
    }

    fn matches_by<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        e: &'s Event,
        since: Option<NaiveDate>,
        test: &T,
    ) -> bool {
        q.events.contains(&e.kind)
            && since.is_none_or(|s| e.date >= s)
            && test(&self.with_candidate(q.level, e))
    }

    /// The answer from the history index, or `None` with whether the query may be memoised
    /// within the step.
    fn indexed_by<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: Option<NaiveDate>,
        test: &T,
    ) -> Result<Answer, bool> {
        let Some(index) = self.index else {
            return Err(false);
        };
        // A short history is scanned: cheaper than planning and indexing (most pathways have
        // a handful of events). The index is built from the start when the history grows.
        if self.history.len() < SHORT_HISTORY {
            return Err(false);
        }
        let test = |e: &'s Event| test(&self.with_candidate(q.level, e));
        match index.answer(self.ev, q, self.history, since, test, |k| self.eval(k)) {
            Answer::NotIndexed { per_step } => Err(per_step),
            a => Ok(a),
        }
    }

    /// The event a `first`/`last` query finds; `test` is its `where` on a candidate.
    pub(super) fn find_by<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: impl FnOnce() -> Option<NaiveDate>,
        test: &T,
    ) -> Option<&'s Event> {
        if let Some(StepValue::Found(i)) = self.memo.query(q) {
            return i.and_then(|i| self.history.get(i).copied());
        }
        let since = since();
        let per_step = match self.indexed_by(q, since, test) {
            Ok(Answer::Found(i)) => return i.and_then(|i| self.history.get(i).copied()),
            Ok(_) => return None,
            Err(per_step) => per_step,
        };
        let history = self.history;
        let found = match self.typed_scan(q, since, test) {
            Some(Answer::Found(i)) => i,
            _ => self.scan_find(q, since, test),
        };
        if per_step {
            self.memo.set_query(q, StepValue::Found(found));
        }
        found.and_then(|i| history.get(i).copied())
    }

    /// The history index of the event a `first`/`last` query finds, scanning the history.
    fn scan_find<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: Option<NaiveDate>,
        test: &T,
    ) -> Option<usize> {
        let history = self.history;
        match q.kind {
            QueryKind::First => history
                .iter()
                .position(|e| self.matches_by(q, e, since, test)),
            _ => history
                .iter()
                .rposition(|e| self.matches_by(q, e, since, test)),
        }
    }

    /// A query's value (Int or Bool); `test` is its `where` on a candidate.
    pub(super) fn query_by<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: impl FnOnce() -> Option<NaiveDate>,
        test: &T,
    ) -> Value {
        if let Some(StepValue::Value(v)) = self.memo.query(q) {
            return v;
        }
        let since = since();
        let per_step = match self.indexed_by(q, since, test) {
            Ok(Answer::Count(n)) => {
                return match q.kind {
                    QueryKind::Count | QueryKind::Consecutive => Value::Int(n),
                    _ => Value::Bool(n > 0),
                }
            }
            Ok(Answer::Found(i)) => return Value::Bool(i.is_some()),
            Ok(Answer::NotIndexed { .. }) => false,
            Err(per_step) => per_step,
        };
        let v = self.scan_by(q, since, test);
        if per_step {
            self.memo.set_query(q, StepValue::Value(v.clone()));
        }
        v
    }

    fn scan_by<T: Fn(&Ctx<'s, 'p>) -> bool>(
        &self,
        q: &Query,
        since: Option<NaiveDate>,
        test: &T,
    ) -> Value {
        match (self.typed_scan(q, since, test), q.kind) {
            (Some(Answer::Count(n)), QueryKind::Count) => return Value::Int(n),
            (Some(Answer::Count(n)), _) => return Value::Bool(n > 0),
            (Some(Answer::Found(i)), _) => return Value::Bool(i.is_some()),
            _ => {}
        }
        match q.kind {
            QueryKind::Count => Value::Int(
                self.history
                    .iter()
                    .filter(|e| self.matches_by(q, e, since, test))
                    .count() as i64,
            ),
            QueryKind::Exists | QueryKind::Last | QueryKind::First => Value::Bool(
                self.history
                    .iter()
                    .any(|e| self.matches_by(q, e, since, test)),
            ),
            QueryKind::Consecutive => {
                let mut n = 0;
                for e in self.history.iter().rev() {
                    if !q.among.is_empty() && !q.among.contains(&e.kind) {
                        continue;
                    }
                    if since.is_some_and(|s| e.date < s) || !self.matches_by(q, e, since, test) {
                        break;
                    }
                    n += 1;
                }
                Value::Int(n)
            }
        }
    }
}
