//! What a condition says about its subjects, for the lints that compare conditions
//! (unreachable exceptions, possible conflicts, timers that never fire): each top-level
//! conjunct as a constraint on one expression, keyed by its whitespace-free text.

use crate::front::check::Checker;
use crate::model::ir::RuleId;
use crate::syntax::ast::{BinOp, Expr, ExprKind, LiteralKind};

/// A constraint a condition places on one expression (by its whitespace-free text).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Constraint {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    IsSet(bool),
}

/// The constraint that holds when `c` does not.
fn negate(c: Constraint) -> Constraint {
    use Constraint::*;
    match c {
        Eq(x) if x == "true" => Eq("false".into()),
        Eq(x) if x == "false" => Eq("true".into()),
        Eq(x) => Ne(x),
        Ne(x) => Eq(x),
        In(s) => NotIn(s),
        NotIn(s) => In(s),
        IsSet(b) => IsSet(!b),
    }
}

/// How deeply the lints follow definitions that use definitions.
const DEF_DEPTH: usize = 8;

fn contradicts(a: &Constraint, b: &Constraint) -> bool {
    use Constraint::*;
    match (a, b) {
        (Eq(x), Eq(y)) => x != y,
        (Eq(x), Ne(y)) | (Ne(y), Eq(x)) => x == y,
        (Eq(x), In(s)) | (In(s), Eq(x)) => !s.contains(x),
        (Eq(x), NotIn(s)) | (NotIn(s), Eq(x)) => s.contains(x),
        (In(s), In(t)) => !s.iter().any(|x| t.contains(x)),
        (IsSet(x), IsSet(y)) => x != y,
        _ => false,
    }
}

impl Checker<'_> {
    /// The text of a value operand, if it is a constant (literal or bare name).
    fn constant_text(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Lit(LiteralKind::Name(_, n)) | ExprKind::Name(n) => {
                (!self.is_variable_name(n)).then(|| n.clone())
            }
            ExprKind::Lit(_) => Some(self.key(e)),
            _ => None,
        }
    }

    fn is_variable_name(&self, n: &str) -> bool {
        matches!(n, "event" | "pathway" | "now")
            || self.param_index(n).is_some()
            || self.def_index(n).is_some()
            || self.clock_index(n).is_some()
    }

    /// The constraints of a condition's top-level conjuncts. A definition's name stands for
    /// itself (`d` is `d == true`, `not d` is `d == false`) and for the constraints of its body,
    /// so two rules whose conditions differ only through definitions are still seen to be
    /// exclusive.
    fn atoms(&self, e: &Expr, out: &mut Vec<(String, Constraint)>) {
        self.atoms_at(e, out, 0);
    }

    fn def_body(&self, n: &str) -> Option<&Expr> {
        let i = self.defs.iter().position(|d| d.name == n)?;
        self.def_asts.get(i).copied().flatten()
    }

    fn atoms_at(&self, e: &Expr, out: &mut Vec<(String, Constraint)>, depth: usize) {
        match &e.kind {
            ExprKind::Binary(BinOp::And, a, b) => {
                self.atoms_at(a, out, depth);
                self.atoms_at(b, out, depth);
            }
            ExprKind::Name(n) if self.def_body(n).is_some() => {
                out.push((n.clone(), Constraint::Eq("true".into())));
                if let Some(body) = self.def_body(n).filter(|_| depth < DEF_DEPTH) {
                    self.atoms_at(body, out, depth + 1);
                }
            }
            ExprKind::Not(x) => {
                if let ExprKind::Name(n) = &x.kind {
                    if self.def_body(n).is_some() {
                        out.push((n.clone(), Constraint::Eq("false".into())));
                    }
                }
                // `not C` for a single comparison C (seen through definitions): its negation.
                let mut inner = Vec::new();
                let mut cur = x.as_ref();
                let mut d = depth;
                while let ExprKind::Name(n) = &cur.kind {
                    match self.def_body(n).filter(|_| d < DEF_DEPTH) {
                        Some(body) => {
                            cur = body;
                            d += 1;
                        }
                        None => break,
                    }
                }
                if !matches!(
                    cur.kind,
                    ExprKind::Binary(BinOp::And, ..) | ExprKind::Name(_)
                ) {
                    self.atoms_at(cur, &mut inner, d);
                    if let [(k, c)] = inner.as_slice() {
                        out.push((k.clone(), negate(c.clone())));
                    }
                }
            }
            _ => self.atom(e, out),
        }
    }

    /// One comparison's constraint.
    fn atom(&self, e: &Expr, out: &mut Vec<(String, Constraint)>) {
        match &e.kind {
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
                let (subject, value) = match (self.constant_text(a), self.constant_text(b)) {
                    (None, Some(v)) => (a, v),
                    (Some(v), None) => (b, v),
                    _ => return,
                };
                let c = if *op == BinOp::Eq {
                    Constraint::Eq(value)
                } else {
                    Constraint::Ne(value)
                };
                out.push((self.key(subject), c));
            }
            ExprKind::In(x, list, yes) => {
                let values: Option<Vec<String>> =
                    list.iter().map(|i| self.constant_text(i)).collect();
                if let Some(values) = values {
                    let c = if *yes {
                        Constraint::In(values)
                    } else {
                        Constraint::NotIn(values)
                    };
                    out.push((self.key(x), c));
                }
            }
            ExprKind::IsSet(x, yes) => out.push((self.key(x), Constraint::IsSet(*yes))),
            ExprKind::Field(..) => out.push((self.key(e), Constraint::Eq("true".into()))),
            ExprKind::Lit(LiteralKind::Bool(false)) => {
                out.push(("false".into(), Constraint::Eq("true".into())));
                out.push(("false".into(), Constraint::Eq("false".into())));
            }
            _ => {}
        }
    }

    pub(crate) fn rule_atoms(&self, id: RuleId) -> Vec<(String, Constraint)> {
        let mut out = Vec::new();
        if let Some(w) = self.rule_info[id as usize].ast_when {
            self.atoms(w, &mut out);
        }
        out
    }

    /// True if the two constraint sets cannot both hold.
    pub(crate) fn exclusive(a: &[(String, Constraint)], b: &[(String, Constraint)]) -> bool {
        a.iter()
            .any(|(k, c)| b.iter().any(|(k2, c2)| k == k2 && contradicts(c, c2)))
            || Self::self_contradictory(a)
            || Self::self_contradictory(b)
    }

    pub(crate) fn self_contradictory(a: &[(String, Constraint)]) -> bool {
        a.iter().enumerate().any(|(i, (k, c))| {
            a[i + 1..]
                .iter()
                .any(|(k2, c2)| k == k2 && contradicts(c, c2))
        })
    }
}
