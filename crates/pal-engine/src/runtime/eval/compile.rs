//! Rule conditions, definitions and history queries compiled to closures, once per evaluator,
//! so that evaluating a pathway does not walk the expression trees again for every event.
//!
//! The closures compute exactly what the tree walker ([`Ctx::eval`]) computes: every
//! operator's semantics live in one place (`Ctx::operate`, `Ctx::builtin`, `Ctx::within`,
//! `Ctx::at_least`, `Ctx::clock`, `negate`, `member`, `Ctx::query_by`, `Ctx::find_by`) and
//! both call it. What compiling adds:
//!
//! * **constants folded**: a sub-expression that reads nothing but constants and undated
//!   parameters ([`reads`]) is evaluated once, here, by the tree walker itself;
//! * **conditions as tests**: a condition compiles to a three-valued test (`Some(true)`,
//!   `Some(false)`, `None` for any value that is not a truth value), so `and`, `or`, `not`,
//!   `==`, `in` and `is set` build no [`Value`]; `and` and `or` still stop at their first
//!   operand when it decides;
//! * **fields compared in place**: `event.code == X`, `attr in [A, B]` and `x is set` on an
//!   event field or attribute read the value where it is, without cloning it;
//! * **definitions once per step**, as before: a definition's value is memoised in the
//!   step's [`DefMemo`](super::expr::DefMemo) and computed by its compiled body.
//!
//! The tree walker stays for the cold paths that need an expression's parts: the REPL's
//! `eval_at`, the trace's "why not", `:whynot`, and the key of a keyed history index.

use super::expr::{compare, field_of, member, negate, truthy, Ctx};
use super::index::{reads, Reads};
use super::{Evaluator, PeriodState};
use crate::base::name::Name;
use crate::base::value::Value;
use crate::model::event::Event;
use crate::model::ir::{BinOp, ClockField, EventRef, Expr, Query, QueryKind, MAX_QUERY_DEPTH};
use crate::model::schema::EventTypeId;
use chrono::NaiveDate;
use std::cmp::Ordering;
use std::sync::Arc;

/// A compiled expression: its value.
pub(crate) type ValueFn = Box<dyn for<'s, 'p> Fn(&Ctx<'s, 'p>) -> Value + Send + Sync>;

/// A compiled condition: `Some(b)` when the expression's value is `Bool(b)`, else `None`.
pub(crate) type TestFn = Box<dyn for<'s, 'p> Fn(&Ctx<'s, 'p>) -> Option<bool> + Send + Sync>;

fn value_fn<F>(f: F) -> ValueFn
where
    F: for<'s, 'p> Fn(&Ctx<'s, 'p>) -> Value + Send + Sync + 'static,
{
    Box::new(f)
}

fn test_fn<F>(f: F) -> TestFn
where
    F: for<'s, 'p> Fn(&Ctx<'s, 'p>) -> Option<bool> + Send + Sync + 'static,
{
    Box::new(f)
}

/// The compiled rules and definitions of one evaluator (its parameter values folded in).
pub(crate) struct Program {
    /// Each rule's condition, by rule id (`None`: no `when`).
    pub conditions: Vec<Option<TestFn>>,
    /// Each definition's body, by definition id.
    pub defs: Vec<ValueFn>,
    /// The pathway attributes' slots in the order of their names (the results' order).
    pub attributes_by_name: Vec<usize>,
    /// Each rule's citation text, by rule id.
    pub cites: Vec<Name>,
    /// Each rule's name, by rule id.
    pub rule_names: Vec<Name>,
    /// Each clock's name, by clock id.
    pub clock_names: Vec<Name>,
    /// Each pathway attribute's name, by slot.
    pub attribute_names: Vec<Name>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Program {{ {} conditions, {} definitions }}",
            self.conditions.len(),
            self.defs.len()
        )
    }
}

impl Program {
    /// A program that has compiled nothing (while the evaluator is being built).
    pub(crate) fn empty() -> Program {
        Program {
            conditions: Vec::new(),
            defs: Vec::new(),
            attributes_by_name: Vec::new(),
            cites: Vec::new(),
            rule_names: Vec::new(),
            clock_names: Vec::new(),
            attribute_names: Vec::new(),
        }
    }

    /// Compiles the policy's rule conditions and definitions for `ev` (its parameter values).
    pub(crate) fn compile(ev: &Evaluator<'_>) -> Program {
        let policy = ev.policy;
        let mut c = Compiler {
            ev,
            def_reads: Vec::new(),
        };
        let defs = policy.defs.iter().map(|d| c.value(&d.body)).collect();
        let conditions = policy
            .rules
            .iter()
            .map(|r| r.when.as_ref().map(|w| c.test(w)))
            .collect();
        let attrs = &policy.schema.attributes;
        let mut attributes_by_name: Vec<usize> = (0..attrs.len()).collect();
        attributes_by_name.sort_by(|a, b| attrs[*a].name.cmp(&attrs[*b].name));
        Program {
            conditions,
            defs,
            attributes_by_name,
            cites: policy
                .rules
                .iter()
                .map(|r| Name::from(r.cite_text().as_str()))
                .collect(),
            rule_names: policy.rules.iter().map(|r| Name::from(&*r.name)).collect(),
            clock_names: policy.clocks.iter().map(|c| Name::from(&*c.name)).collect(),
            attribute_names: attrs.iter().map(|a| Name::from(&*a.name)).collect(),
        }
    }

    /// Rule `r`'s citation text.
    pub(crate) fn cite(&self, r: crate::model::ir::RuleId) -> Name {
        self.cites.get(r as usize).copied().unwrap_or_default()
    }

    /// Rule `r`'s name.
    pub(crate) fn rule_name(&self, r: crate::model::ir::RuleId) -> Name {
        self.rule_names.get(r as usize).copied().unwrap_or_default()
    }

    /// Clock `c`'s name.
    pub(crate) fn clock_name(&self, c: crate::model::ir::ClockId) -> Name {
        self.clock_names
            .get(c as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// A value read in place: an event's field or a pathway attribute.
#[derive(Clone)]
enum Leaf {
    Field(EventRef, Box<[(EventTypeId, u16)]>),
    Attr(u16),
}

impl Leaf {
    fn of(e: &Expr) -> Option<Leaf> {
        match e {
            Expr::EventField(r, slots) => Some(Leaf::Field(*r, slots.clone())),
            Expr::Attr(i) => Some(Leaf::Attr(*i)),
            _ => None,
        }
    }

    /// The value, where it is (`None` reads as unset).
    #[inline]
    fn get<'s>(&self, c: &Ctx<'s, '_>) -> Option<&'s Value> {
        match self {
            Leaf::Field(r, slots) => {
                let e: &'s Event = c.event(*r)?;
                slots
                    .iter()
                    .find(|(t, _)| *t == e.kind)
                    .and_then(|(_, i)| e.fields.get(*i as usize))
            }
            Leaf::Attr(i) => c.state.attrs.get(*i as usize),
        }
    }
}

static UNSET: Value = Value::Unset;

struct Compiler<'a, 'p> {
    ev: &'a Evaluator<'p>,
    def_reads: Vec<Option<Reads>>,
}

impl<'p> Compiler<'_, 'p> {
    /// The value of `e` if it reads nothing but constants (computed by the tree walker).
    fn constant(&mut self, e: &Expr) -> Option<Value> {
        if let Expr::Const(v) = e {
            return Some(v.clone());
        }
        let r = reads(self.ev, e, &mut self.def_reads);
        if r.candidates != 0 || r.step || r.state || r.query {
            return None;
        }
        let state = super::PathwayState::default();
        let memo = super::expr::DefMemo::new();
        let ctx = Ctx {
            ev: self.ev,
            state: &state,
            history: &[],
            trigger: None,
            candidates: [None; MAX_QUERY_DEPTH],
            now: NaiveDate::MIN,
            memo: &memo,
            index: None,
        };
        Some(ctx.eval(e))
    }

    fn value(&mut self, e: &Expr) -> ValueFn {
        if let Some(v) = self.constant(e) {
            return value_fn(move |_| v.clone());
        }
        match e {
            Expr::Const(v) => {
                let v = v.clone();
                value_fn(move |_| v.clone())
            }
            Expr::Param(p) => {
                let p = *p as usize;
                value_fn(move |c| {
                    c.ev.params()
                        .get(p)
                        .map(|d| d.value_on(c.now).clone())
                        .unwrap_or(Value::Unset)
                })
            }
            Expr::Def(d) => {
                let d = *d as usize;
                value_fn(move |c| def(c, d))
            }
            Expr::Now => value_fn(|c| Value::Date(c.now)),
            Expr::EventDate(r) => {
                let r = *r;
                value_fn(move |c| match c.event(r) {
                    Some(e) => Value::Date(e.date),
                    None => Value::Unset,
                })
            }
            Expr::EventField(..) | Expr::Attr(_) => {
                let Some(leaf) = Leaf::of(e) else {
                    return value_fn(|_| Value::Unset);
                };
                value_fn(move |c| leaf.get(c).cloned().unwrap_or(Value::Unset))
            }
            Expr::Clock(k, f) => {
                let (k, f) = (*k, *f);
                value_fn(move |c| c.clock(k, f))
            }
            // The program owns a copy of each query (so that it borrows nothing from the
            // policy and `Evaluator` stays covariant); the copy's address keys the step memo
            // and the pathway's history index, as the policy's does for the tree walker.
            Expr::Query(q) => {
                let (since, test) = self.query_parts(q);
                let q: Arc<Query> = Arc::new(q.as_ref().clone());
                value_fn(move |c| {
                    c.query_by(&q, || since_of(c, since.as_ref()), &|cc| {
                        test.as_deref().is_none_or(|t| t(cc) == Some(true))
                    })
                })
            }
            Expr::QueryField(q, slots) => {
                let (since, test) = self.query_parts(q);
                let q: Arc<Query> = Arc::new(q.as_ref().clone());
                let slots = slots.clone();
                value_fn(move |c| {
                    let found = c.find_by(&q, || since_of(c, since.as_ref()), &|cc| {
                        test.as_deref().is_none_or(|t| t(cc) == Some(true))
                    });
                    match &slots {
                        None => found.map(|e| Value::Date(e.date)).unwrap_or(Value::Unset),
                        Some(slots) => field_of(found, slots),
                    }
                })
            }
            Expr::Call(b, args) => {
                let b = *b;
                let mut args: Vec<ValueFn> = args.iter().map(|a| self.value(a)).collect();
                match args.len() {
                    1 => {
                        let a = args.remove(0);
                        value_fn(move |c| c.builtin(b, &[a(c)]))
                    }
                    2 => {
                        let y = args.remove(1);
                        let x = args.remove(0);
                        value_fn(move |c| c.builtin(b, &[x(c), y(c)]))
                    }
                    // Builtins take one or two arguments (the tree walker's answer otherwise).
                    _ => value_fn(move |c| {
                        let vals: Vec<Value> = args.iter().map(|a| a(c)).collect();
                        if vals.len() > 2 {
                            Value::Unset
                        } else {
                            c.builtin(b, &vals)
                        }
                    }),
                }
            }
            Expr::Neg(x) => {
                let x = self.value(x);
                value_fn(move |c| negate(x(c)))
            }
            Expr::Binary(BinOp::Coalesce, a, b) => {
                let (a, b) = (self.value(a), self.value(b));
                value_fn(move |c| {
                    let l = a(c);
                    if l.is_set() {
                        l
                    } else {
                        b(c)
                    }
                })
            }
            Expr::Binary(op, a, b) if !matches!(op, BinOp::And | BinOp::Or) => {
                let op = *op;
                let (a, b) = (self.value(a), self.value(b));
                value_fn(move |c| c.operate(op, a(c), b(c)))
            }
            // Everything else is a truth value (or unset): `and`, `or`, `not`, comparisons,
            // `within`, `at least`, `is set`, `in`.
            _ => {
                let t = self.test(e);
                value_fn(move |c| t(c).map(Value::Bool).unwrap_or(Value::Unset))
            }
        }
    }

    /// `e` as a test: `Some(b)` exactly when the tree walker's value is `Bool(b)`.
    fn test(&mut self, e: &Expr) -> TestFn {
        if let Some(v) = self.constant(e) {
            let t = match v {
                Value::Bool(b) => Some(b),
                _ => None,
            };
            return test_fn(move |_| t);
        }
        match e {
            Expr::Binary(BinOp::And, a, b) => {
                let (a, b) = (self.test(a), self.test(b));
                test_fn(move |c| Some(a(c) == Some(true) && b(c) == Some(true)))
            }
            Expr::Binary(BinOp::Or, a, b) => {
                let (a, b) = (self.test(a), self.test(b));
                test_fn(move |c| Some(a(c) == Some(true) || b(c) == Some(true)))
            }
            Expr::Not(x) => {
                let x = self.test(x);
                test_fn(move |c| x(c).map(|b| !b))
            }
            // `rtt.open`, in most conditions: read in place (as `Ctx::clock` does).
            Expr::Clock(k, ClockField::Open) => {
                let k = *k as usize;
                test_fn(move |c| {
                    Some(
                        c.state
                            .clocks
                            .get(k)
                            .and_then(|periods| periods.last())
                            .is_some_and(|p| p.state == PeriodState::Open),
                    )
                })
            }
            Expr::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
                let eq = *op == BinOp::Eq;
                // Equality compares values (unset equals only unset) whether or not a side
                // is unset: a field against a constant is compared where it is.
                let (ca, cb) = (self.constant(a), self.constant(b));
                let leaf = match (Leaf::of(a), Leaf::of(b), ca, cb) {
                    (Some(l), _, _, Some(k)) | (_, Some(l), Some(k), _) => Some((l, k)),
                    _ => None,
                };
                if let Some((leaf, k)) = leaf {
                    return test_fn(move |c| Some((*leaf.get(c).unwrap_or(&UNSET) == k) == eq));
                }
                let (a, b) = (self.value(a), self.value(b));
                test_fn(move |c| Some((a(c) == b(c)) == eq))
            }
            Expr::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
                let op = *op;
                let (a, b) = (self.value(a), self.value(b));
                test_fn(move |c| {
                    let (l, r) = (a(c), b(c));
                    // An ordering with an unset side, or of values that do not compare, is
                    // false.
                    Some(match compare(&l, &r) {
                        None => false,
                        Some(ord) => match op {
                            BinOp::Lt => ord == Ordering::Less,
                            BinOp::Le => ord != Ordering::Greater,
                            BinOp::Gt => ord == Ordering::Greater,
                            _ => ord != Ordering::Less,
                        },
                    })
                })
            }
            Expr::Within(v, w, o) => {
                let (v, w, o) = (self.value(v), self.value(w), self.value(o));
                test_fn(move |c| Some(c.within(&v(c), &w(c), &o(c))))
            }
            Expr::AtLeast(v, g, before, r) => {
                let before = *before;
                let (v, g, r) = (self.value(v), self.value(g), self.value(r));
                test_fn(move |c| Some(c.at_least(&v(c), &g(c), before, &r(c))))
            }
            Expr::IsSet(x, yes) => {
                let yes = *yes;
                match x.as_ref() {
                    // `last(E) is set` was compiled to an exists query.
                    Expr::Query(q) if q.kind == QueryKind::Exists => {
                        let x = self.value(x);
                        test_fn(move |c| Some(truthy(&x(c)) == yes))
                    }
                    other => match Leaf::of(other) {
                        Some(leaf) => {
                            test_fn(move |c| Some(leaf.get(c).is_some_and(Value::is_set) == yes))
                        }
                        None => {
                            let x = self.value(x);
                            test_fn(move |c| Some(x(c).is_set() == yes))
                        }
                    },
                }
            }
            Expr::In(x, list, yes) => {
                let yes = *yes;
                let consts: Option<Vec<Value>> = list.iter().map(|i| self.constant(i)).collect();
                match (Leaf::of(x), consts) {
                    (Some(leaf), Some(consts)) => test_fn(move |c| {
                        let v = leaf.get(c).unwrap_or(&UNSET);
                        // An unset value is in no list; `not in` is exactly `not (… in …)`.
                        Some(if v.is_set() {
                            consts.contains(v) == yes
                        } else {
                            !yes
                        })
                    }),
                    (_, Some(consts)) => {
                        let x = self.value(x);
                        test_fn(move |c| {
                            let v = x(c);
                            Some(if v.is_set() {
                                consts.contains(&v) == yes
                            } else {
                                !yes
                            })
                        })
                    }
                    (_, None) => {
                        let x = self.value(x);
                        let items: Vec<ValueFn> = list.iter().map(|i| self.value(i)).collect();
                        test_fn(move |c| {
                            let v = x(c);
                            if !v.is_set() {
                                return Some(!yes);
                            }
                            Some(items.iter().any(|i| i(c) == v) == yes)
                        })
                    }
                }
            }
            Expr::Member(x, list, yes) => {
                let yes = *yes;
                let (x, list) = (self.value(x), self.value(list));
                test_fn(move |c| Some(member(&x(c), &list(c), yes)))
            }
            _ => {
                let v = self.value(e);
                test_fn(move |c| match v(c) {
                    Value::Bool(b) => Some(b),
                    _ => None,
                })
            }
        }
    }

    /// A query's compiled `since` and `where`.
    fn query_parts(&mut self, q: &Query) -> (Option<ValueFn>, Option<TestFn>) {
        let since = q.since.as_deref().map(|s| self.value(s));
        let test = q.where_.as_deref().map(|w| self.test(w));
        (since, test)
    }
}

/// A definition's value, once per step.
fn def(c: &Ctx<'_, '_>, d: usize) -> Value {
    if let Some(v) = c.memo.get(d) {
        return v;
    }
    let Some(body) = c.ev.program.defs.get(d) else {
        return Value::Unset;
    };
    let v = body(c);
    c.memo.set(d, &v);
    v
}

fn since_of(c: &Ctx<'_, '_>, since: Option<&ValueFn>) -> Option<NaiveDate> {
    match since.map(|s| s(c)) {
        Some(Value::Date(d)) => Some(d),
        _ => None,
    }
}
