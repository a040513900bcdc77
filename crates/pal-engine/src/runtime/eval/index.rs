//! What makes history queries cheap on long pathways. A pathway's history only grows during
//! one evaluation, so a query whose `where` reads nothing but the candidate event (and
//! constants) is answered from an index of its matching events, extended as the history
//! grows: each event is tested once per query, not once per query per later event. Queries
//! that read the step (the trigger, `now`) but not the state or an enclosing candidate are
//! memoised within the step, so queries nested in another's `where` run once, not once per
//! candidate.

use super::Evaluator;
use crate::base::value::Value;
use crate::model::event::Event;
use crate::model::ir::{BinOp, EventRef, Expr, Query, QueryKind};
use crate::model::schema::EventTypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a query's address (the key of the per-step memo and of the indexes): one multiply,
/// not SipHash, since these maps are read for nearly every query of every step.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by a query's address.
pub(crate) type AddressMap<V> = HashMap<usize, V, BuildHasherDefault<AddressHasher>>;

/// What an expression reads besides constants.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reads {
    /// The candidate events it reads, by query level (bit `k`: `EventRef::Candidate(k)`).
    pub candidates: u8,
    /// The step: the trigger, `now`, a parameter with dated values.
    pub step: bool,
    /// The pathway's state: attributes, clocks.
    pub state: bool,
    /// A history query.
    pub query: bool,
}

impl Reads {
    fn or(self, o: Reads) -> Reads {
        Reads {
            candidates: self.candidates | o.candidates,
            step: self.step || o.step,
            state: self.state || o.state,
            query: self.query || o.query,
        }
    }
}

/// What an expression reads. Bounded recursion: expressions are at most `MAX_NESTING` deep and
/// definition chains are bounded by the checker (`E0209`). `defs` memoises each definition's
/// answer, so a definition naming another twice, many times over, is looked at once.
pub(crate) fn reads(ev: &Evaluator, e: &Expr, defs: &mut Vec<Option<Reads>>) -> Reads {
    let mut r = match e {
        Expr::Now => Reads {
            step: true,
            ..Reads::default()
        },
        Expr::Param(p) => Reads {
            step: ev
                .params()
                .get(*p as usize)
                .is_none_or(|p| !p.dated.is_empty()),
            ..Reads::default()
        },
        Expr::Def(d) => {
            let d = *d as usize;
            if let Some(Some(r)) = defs.get(d) {
                return *r;
            }
            let r = match ev.policy.defs.get(d) {
                Some(def) => reads(ev, &def.body, defs),
                None => Reads::default(),
            };
            if defs.len() <= d {
                defs.resize(d + 1, None);
            }
            defs[d] = Some(r);
            return r;
        }
        Expr::EventDate(r) | Expr::EventField(r, _) => match r {
            EventRef::Candidate(level) => Reads {
                candidates: 1u8.checked_shl(u32::from(*level)).unwrap_or(0),
                ..Reads::default()
            },
            EventRef::Trigger => Reads {
                step: true,
                ..Reads::default()
            },
        },
        Expr::Attr(_) | Expr::Clock(..) => Reads {
            state: true,
            ..Reads::default()
        },
        Expr::Query(q) | Expr::QueryField(q, _) => {
            // The query's `where` reads its own candidate (its level) and perhaps enclosing
            // ones (lower levels); only the latter are read from outside. Its `since` is
            // evaluated outside it.
            let w = q
                .where_
                .as_deref()
                .map(|w| reads(ev, w, defs))
                .unwrap_or_default();
            let s = q
                .since
                .as_deref()
                .map(|s| reads(ev, s, defs))
                .unwrap_or_default();
            return Reads {
                candidates: (w.candidates & outer(q)) | s.candidates,
                step: w.step || s.step,
                state: w.state || s.state,
                query: true,
            };
        }
        _ => Reads::default(),
    };
    e.for_each_child(|c, _| r = r.or(reads(ev, c, defs)));
    r
}

/// The candidate bits of the queries enclosing `q` (levels below its own).
fn outer(q: &Query) -> u8 {
    1u8.checked_shl(u32::from(q.level))
        .map(|b| b - 1)
        .unwrap_or(u8::MAX)
}

/// How one query is evaluated.
#[derive(Debug)]
pub(crate) enum Plan {
    /// From the index of its matches.
    Indexed(Box<QueryIndex>),
    /// Its `where` compares a field of the candidate with a value that does not depend on
    /// the candidate (`booked.appointment_date == event.appointment_date`): only the events
    /// with that field value are tested.
    Keyed(Box<KeyedIndex>),
    /// Once per step: it reads the step (the trigger, `now`) but not the state or an enclosing
    /// query's candidate.
    PerStep,
    /// Scanned every time.
    Scan,
}

/// The matches of one query over the history seen so far.
#[derive(Debug, Default)]
pub(crate) struct QueryIndex {
    /// How many history events have been tested.
    scanned: usize,
    /// Indices of matching events, ascending.
    matches: Vec<u32>,
    /// `consecutive`: for each event, the length of the run of matching events among those
    /// considered that ends there.
    run: Vec<u32>,
    /// `consecutive`: for each event, how many events up to and including it are considered.
    considered: Vec<u32>,
}

/// The events of a query's types, by the value of one field.
#[derive(Debug, Default)]
pub(crate) struct KeyedIndex {
    /// Which conjunct of the `where` is the equality, and whether the field is on its left.
    conjunct: usize,
    field_left: bool,
    scanned: usize,
    buckets: HashMap<Value, Vec<u32>>,
}

/// The plans and indexes of the queries evaluated for one pathway, by query address (queries
/// live in the policy, which outlives the evaluation).
#[derive(Debug, Default)]
pub(crate) struct HistoryIndex {
    plans: RefCell<AddressMap<Plan>>,
    /// What each definition reads (see [`reads`]).
    def_reads: RefCell<Vec<Option<Reads>>>,
    /// The history's events by type, for queries that are not indexed.
    by_type: RefCell<ByType>,
}

/// The indices of a history's events by event type, ascending, extended as the history grows:
/// a query that must be scanned (its `where` reads the state, or an enclosing candidate)
/// tests only the events of its types on or after its `since`, not the whole history.
#[derive(Debug, Default)]
pub(crate) struct ByType {
    /// How many history events have been filed.
    scanned: usize,
    /// By event type: the indices of its events.
    lists: Vec<Vec<u32>>,
}

impl ByType {
    /// The indices of the events of type `t` among the first `n`, from index `from` on.
    pub(crate) fn range(&self, t: EventTypeId, from: usize, n: usize) -> &[u32] {
        let Some(list) = self.lists.get(t as usize) else {
            return &[];
        };
        let lo = list.partition_point(|&i| (i as usize) < from);
        let hi = list.partition_point(|&i| (i as usize) < n);
        list.get(lo..hi).unwrap_or(&[])
    }
}

/// What a query asked of the index.
pub(crate) enum Answer {
    /// `count`/`exists`/`consecutive`: a number.
    Count(i64),
    /// `first`/`last`: the history index of the event found.
    Found(Option<usize>),
    /// The query is not indexed: the caller evaluates it (and may memoise it in the step).
    NotIndexed { per_step: bool },
}

/// The conjuncts of a condition (`a and b and c`).
fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Binary(BinOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        other => out.push(other),
    }
}

/// The field slots of a candidate field read, and the other side of an equality conjunct.
fn equality(e: &Expr, level: u8, field_left: bool) -> Option<(&[(EventTypeId, u16)], &Expr)> {
    let Expr::Binary(BinOp::Eq, a, b) = e else {
        return None;
    };
    let (f, other) = if field_left { (a, b) } else { (b, a) };
    match f.as_ref() {
        Expr::EventField(EventRef::Candidate(l), slots) if *l == level => Some((slots, other)),
        _ => None,
    }
}

fn field_value(e: &Event, slots: &[(EventTypeId, u16)]) -> Value {
    slots
        .iter()
        .find(|(t, _)| *t == e.kind)
        .and_then(|(_, i)| e.fields.get(*i as usize))
        .cloned()
        .unwrap_or(Value::Unset)
}

fn key(q: &Query) -> usize {
    q as *const Query as usize
}

impl HistoryIndex {
    /// The history's events by type, filed up to the end of `history`; `None` if the lists
    /// are being read by an enclosing query and would have to grow (the caller scans).
    pub(crate) fn by_type(&self, history: &[&Event]) -> Option<std::cell::Ref<'_, ByType>> {
        let filed = self.by_type.try_borrow().ok()?.scanned;
        if history.len() > filed {
            let mut b = self.by_type.try_borrow_mut().ok()?;
            for (i, e) in history.iter().enumerate().skip(filed) {
                let t = e.kind as usize;
                if b.lists.len() <= t {
                    b.lists.resize_with(t + 1, Vec::new);
                }
                b.lists[t].push(i as u32);
            }
            b.scanned = history.len();
        }
        self.by_type.try_borrow().ok()
    }

    /// Answers `q` over `history` (a prefix of the history this index has seen, or an
    /// extension of it), with `since` already evaluated; `test` says whether an event matches
    /// the query's `where` (called only for indexed queries).
    pub(crate) fn answer<'e>(
        &self,
        ev: &Evaluator,
        q: &Query,
        history: &[&'e Event],
        since: Option<chrono::NaiveDate>,
        test: impl Fn(&'e Event) -> bool,
        key_of: impl FnOnce(&Expr) -> Value,
    ) -> Answer {
        let k = key(q);
        let taken = self.plans.borrow_mut().remove(&k);
        let mut plan = match taken {
            Some(p) => p,
            None => plan_for(ev, q, &mut self.def_reads.borrow_mut()),
        };
        let answer = match &mut plan {
            Plan::Indexed(ix) => {
                ix.extend(q, history, &test);
                ix.answer(q, history, since)
            }
            Plan::Keyed(ix) => ix.answer(q, history, since, &test, key_of),
            Plan::PerStep => Answer::NotIndexed { per_step: true },
            Plan::Scan => Answer::NotIndexed { per_step: false },
        };
        self.plans.borrow_mut().insert(k, plan);
        answer
    }
}

fn plan_for(ev: &Evaluator, q: &Query, defs: &mut Vec<Option<Reads>>) -> Plan {
    let w = q
        .where_
        .as_deref()
        .map(|w| reads(ev, w, defs))
        .unwrap_or_default();
    let s = q
        .since
        .as_deref()
        .map(|s| reads(ev, s, defs))
        .unwrap_or_default();
    let own = 1u8.checked_shl(u32::from(q.level)).unwrap_or(0);
    // Reads nothing but its own candidate: an index of matches over the history.
    if !w.step && !w.state && !w.query && w.candidates & outer(q) == 0 {
        return Plan::Indexed(Box::default());
    }
    if let (Some(wh), false) = (q.where_.as_deref(), q.kind == QueryKind::Consecutive) {
        let mut parts = Vec::new();
        conjuncts(wh, &mut parts);
        for (i, c) in parts.iter().enumerate() {
            for field_left in [true, false] {
                if let Some((_, other)) = equality(c, q.level, field_left) {
                    if reads(ev, other, defs).candidates & own == 0 {
                        return Plan::Keyed(Box::new(KeyedIndex {
                            conjunct: i,
                            field_left,
                            ..KeyedIndex::default()
                        }));
                    }
                }
            }
        }
    }
    // Reads no enclosing candidate and no state: the same all through the step.
    if (w.candidates & outer(q)) == 0 && s.candidates == 0 && !w.state && !s.state {
        Plan::PerStep
    } else {
        Plan::Scan
    }
}

impl KeyedIndex {
    fn answer<'e>(
        &mut self,
        q: &Query,
        history: &[&'e Event],
        since: Option<chrono::NaiveDate>,
        test: &impl Fn(&'e Event) -> bool,
        key: impl FnOnce(&Expr) -> Value,
    ) -> Answer {
        let mut parts = Vec::new();
        if let Some(w) = q.where_.as_deref() {
            conjuncts(w, &mut parts);
        }
        let Some((slots, other)) = parts
            .get(self.conjunct)
            .and_then(|c| equality(c, q.level, self.field_left))
        else {
            return Answer::NotIndexed { per_step: false };
        };
        if history.len() > self.scanned {
            for (i, e) in history.iter().enumerate().skip(self.scanned) {
                if q.events.contains(&e.kind) {
                    let v = field_value(e, slots);
                    if v.is_set() {
                        self.buckets.entry(v).or_default().push(i as u32);
                    }
                }
            }
            self.scanned = history.len();
        }
        let k = key(other);
        let bucket: &[u32] = match self.buckets.get(&k) {
            Some(b) if k.is_set() => b,
            _ => &[],
        };
        let n = history.len();
        // History is in date order: events on or after `since` are a suffix, found by binary
        // search rather than by testing each event of the bucket.
        let from = since.map_or(0, |s| history.partition_point(|e| e.date < s));
        let hit = |i: &u32| test(history[*i as usize]);
        let lo = bucket.partition_point(|&i| (i as usize) < from);
        let hi = bucket.partition_point(|&i| (i as usize) < n);
        let in_range = &bucket[lo..hi.max(lo)];
        match q.kind {
            QueryKind::Count => Answer::Count(in_range.iter().filter(|i| hit(i)).count() as i64),
            QueryKind::First => {
                Answer::Found(in_range.iter().find(|i| hit(i)).map(|&i| i as usize))
            }
            QueryKind::Last => {
                Answer::Found(in_range.iter().rev().find(|i| hit(i)).map(|&i| i as usize))
            }
            QueryKind::Exists => Answer::Count(i64::from(in_range.iter().any(hit))),
            QueryKind::Consecutive => Answer::NotIndexed { per_step: false },
        }
    }
}

impl QueryIndex {
    fn extend<'e>(&mut self, q: &Query, history: &[&'e Event], test: &impl Fn(&'e Event) -> bool) {
        if history.len() <= self.scanned {
            return;
        }
        for (i, e) in history.iter().enumerate().skip(self.scanned) {
            let hit = q.events.contains(&e.kind) && test(e);
            if hit {
                self.matches.push(i as u32);
            }
            if q.kind == QueryKind::Consecutive {
                let considered = q.among.is_empty() || q.among.contains(&e.kind);
                let before_run = self.run.last().copied().unwrap_or(0);
                let before_n = self.considered.last().copied().unwrap_or(0);
                let (run, n) = match (considered, hit) {
                    (false, _) => (before_run, before_n),
                    (true, true) => (before_run + 1, before_n + 1),
                    (true, false) => (0, before_n + 1),
                };
                self.run.push(run);
                self.considered.push(n);
            }
        }
        self.scanned = history.len();
    }

    fn answer(&self, q: &Query, history: &[&Event], since: Option<chrono::NaiveDate>) -> Answer {
        let n = history.len();
        // History is in date order: events on or after `since` are a suffix.
        let from = since.map_or(0, |s| history.partition_point(|e| e.date < s));
        let lo = self.matches.partition_point(|&i| (i as usize) < from);
        let hi = self.matches.partition_point(|&i| (i as usize) < n);
        match q.kind {
            QueryKind::Count => Answer::Count((hi - lo) as i64),
            QueryKind::Exists => Answer::Count(i64::from(hi > lo)),
            QueryKind::First => Answer::Found((lo < hi).then(|| self.matches[lo] as usize)),
            QueryKind::Last => Answer::Found((lo < hi).then(|| self.matches[hi - 1] as usize)),
            QueryKind::Consecutive => {
                if n == 0 {
                    return Answer::Count(0);
                }
                let run = self.run.get(n - 1).copied().unwrap_or(0);
                let total = self.considered.get(n - 1).copied().unwrap_or(0);
                let before = if from == 0 {
                    0
                } else {
                    self.considered.get(from - 1).copied().unwrap_or(0)
                };
                Answer::Count(i64::from(run.min(total - before)))
            }
        }
    }
}
