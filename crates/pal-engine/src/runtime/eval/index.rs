//! What makes history queries cheap on long pathways. A pathway's history only grows during
//! one evaluation, so a query whose `where` reads nothing but the candidate event (and
//! constants) is answered from an index of its matching events, extended as the history
//! grows: each event is tested once per query, not once per query per later event. Queries
//! that read the step (the trigger, `now`) but not the state or an enclosing candidate are
//! memoised within the step, so queries nested in another's `where` run once, not once per
//! candidate.

use super::Evaluator;
use crate::model::event::Event;
use crate::model::ir::{EventRef, Expr, Query, QueryKind};
use std::cell::RefCell;
use std::collections::HashMap;

/// What an expression reads besides constants.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Reads {
    /// The candidate event (of the innermost query around it).
    pub candidate: bool,
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
            candidate: self.candidate || o.candidate,
            step: self.step || o.step,
            state: self.state || o.state,
            query: self.query || o.query,
        }
    }
}

/// What an expression reads. Bounded recursion: expressions are at most `MAX_NESTING` deep and
/// definition chains are bounded by the checker (`E0209`).
pub(crate) fn reads(ev: &Evaluator, e: &Expr) -> Reads {
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
        Expr::Def(d) => match ev.policy.defs.get(*d as usize) {
            Some(def) => reads(ev, &def.body),
            None => Reads::default(),
        },
        Expr::EventDate(r) | Expr::EventField(r, _) => match r {
            EventRef::Candidate => Reads {
                candidate: true,
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
            // The query's own `where` reads its own candidate, not an enclosing one; its
            // `since` is evaluated outside it.
            let w = q
                .where_
                .as_deref()
                .map(|w| reads(ev, w))
                .unwrap_or_default();
            let s = q.since.as_deref().map(|s| reads(ev, s)).unwrap_or_default();
            return Reads {
                candidate: s.candidate,
                step: w.step || s.step,
                state: w.state || s.state,
                query: true,
            };
        }
        _ => Reads::default(),
    };
    e.for_each_child(|c, _| r = r.or(reads(ev, c)));
    r
}

/// How one query is evaluated.
#[derive(Debug)]
pub(crate) enum Plan {
    /// From the index of its matches.
    Indexed(Box<QueryIndex>),
    /// Once per step (see [`Plan::memoisable`]).
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

/// The plans and indexes of the queries evaluated for one pathway, by query address (queries
/// live in the policy, which outlives the evaluation).
#[derive(Debug, Default)]
pub(crate) struct HistoryIndex {
    plans: RefCell<HashMap<usize, Plan>>,
}

/// What a query asked of the index.
pub(crate) enum Answer {
    /// `count`/`exists`/`consecutive`: a number.
    Count(i64),
    /// `first`/`last`: the history index of the event found.
    Found(Option<usize>),
    /// The query is not indexed: the caller evaluates it.
    NotIndexed { per_step: bool },
}

fn key(q: &Query) -> usize {
    q as *const Query as usize
}

impl HistoryIndex {
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
    ) -> Answer {
        let k = key(q);
        let taken = self.plans.borrow_mut().remove(&k);
        let mut plan = taken.unwrap_or_else(|| plan_for(ev, q));
        let answer = match &mut plan {
            Plan::Indexed(ix) => {
                ix.extend(q, history, &test);
                ix.answer(q, history, since)
            }
            Plan::PerStep => Answer::NotIndexed { per_step: true },
            Plan::Scan => Answer::NotIndexed { per_step: false },
        };
        self.plans.borrow_mut().insert(k, plan);
        answer
    }
}

fn plan_for(ev: &Evaluator, q: &Query) -> Plan {
    let w = q
        .where_
        .as_deref()
        .map(|w| reads(ev, w))
        .unwrap_or_default();
    let s = q.since.as_deref().map(|s| reads(ev, s)).unwrap_or_default();
    if !w.step && !w.state && !w.query {
        Plan::Indexed(Box::default())
    } else if !s.candidate && !w.state && !s.state {
        Plan::PerStep
    } else {
        Plan::Scan
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
