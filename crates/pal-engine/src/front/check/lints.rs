//! Lints: findings that do not stop a policy from running but that a reviewer should see.
//! Each lint is one function; all run after the declarations are checked.

use super::Checker;
use crate::base::diagnostic::Diagnostic;
use crate::model::ir::{RuleId, RuleKind};
use crate::syntax::ast::{BinOp, Expr, ExprKind, LiteralKind};

/// A constraint a condition places on one expression (by its whitespace-free text).
#[derive(Debug, Clone, PartialEq)]
enum Constraint {
    Eq(String),
    Ne(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    IsSet(bool),
}

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

    /// The constraints of a condition's top-level conjuncts.
    fn atoms(&self, e: &Expr, out: &mut Vec<(String, Constraint)>) {
        match &e.kind {
            ExprKind::Binary(BinOp::And, a, b) => {
                self.atoms(a, out);
                self.atoms(b, out);
            }
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
            ExprKind::Not(x) if matches!(x.kind, ExprKind::Field(..)) => {
                out.push((self.key(x), Constraint::Eq("false".into())))
            }
            ExprKind::Lit(LiteralKind::Bool(false)) => {
                out.push(("false".into(), Constraint::Eq("true".into())));
                out.push(("false".into(), Constraint::Eq("false".into())));
            }
            _ => {}
        }
    }

    fn rule_atoms(&self, id: RuleId) -> Vec<(String, Constraint)> {
        let mut out = Vec::new();
        if let Some(w) = self.rule_info[id as usize].ast_when {
            self.atoms(w, &mut out);
        }
        out
    }

    /// True if the two constraint sets cannot both hold.
    fn exclusive(a: &[(String, Constraint)], b: &[(String, Constraint)]) -> bool {
        a.iter()
            .any(|(k, c)| b.iter().any(|(k2, c2)| k == k2 && contradicts(c, c2)))
            || Self::self_contradictory(a)
            || Self::self_contradictory(b)
    }

    fn self_contradictory(a: &[(String, Constraint)]) -> bool {
        a.iter().enumerate().any(|(i, (k, c))| {
            a[i + 1..]
                .iter()
                .any(|(k2, c2)| k == k2 && contradicts(c, c2))
        })
    }

    pub(crate) fn lint(&mut self) {
        self.lint_unused_params();
        self.lint_unreachable_exceptions();
        self.lint_conflicts();
        self.lint_timers();
    }

    fn lint_unused_params(&mut self) {
        for (i, used) in self.param_used.clone().into_iter().enumerate() {
            if !used {
                let p = &self.params[i];
                self.diags.push(
                    Diagnostic::new("W0002", format!("parameter `{}` is never used", p.name))
                        .primary(self.param_spans[i], "declared here, used nowhere")
                        .help("use it in a rule, definition or clock target, or remove it"),
                );
            }
        }
    }

    fn lint_unreachable_exceptions(&mut self) {
        for id in 0..self.rules.len() {
            let RuleKind::Exception { parent } = self.rules[id].kind else {
                continue;
            };
            if parent == RuleId::MAX || self.rules[id].disabled.is_some() {
                continue;
            }
            let name = self.rules[id].name.clone();
            let span = self.rule_info[id].name_span;
            // A disabled ancestor never fires, so neither does the exception.
            let mut cur = Some(parent);
            let mut ancestors = Vec::new();
            while let Some(p) = cur {
                ancestors.push(p);
                cur = match self.rules[p as usize].kind {
                    RuleKind::Exception { parent } if parent != RuleId::MAX => Some(parent),
                    _ => None,
                };
            }
            if let Some(&dis) = ancestors
                .iter()
                .find(|&&a| self.rules[a as usize].disabled.is_some())
            {
                let mut d = Diagnostic::new(
                    "W0003",
                    format!(
                        "exception `{name}` can never apply: rule `{}` is disabled",
                        self.rules[dis as usize].name
                    ),
                )
                .primary(span, "unreachable");
                if let Some(s) = self.disabled_spans.get(&dis) {
                    d = d.secondary(*s, "disabled here");
                }
                self.diags
                    .push(d.help("disable the exception too, or remove it"));
                continue;
            }
            let mine = self.rule_atoms(id as RuleId);
            for &a in &ancestors {
                let theirs = self.rule_atoms(a);
                if Self::exclusive(&mine, &theirs) {
                    let d = Diagnostic::new(
                        "W0003",
                        format!(
                            "exception `{name}` can never apply: its condition contradicts rule `{}`",
                            self.rules[a as usize].name
                        ),
                    )
                    .primary(span, "unreachable")
                    .secondary(
                        self.rule_info[a as usize].ast_when.map(|w| w.span).unwrap_or(self.rule_info[a as usize].name_span),
                        "the rule only fires when this holds",
                    )
                    .help("an exception applies only when its rule's condition also holds");
                    self.diags.push(d);
                    break;
                }
            }
        }
    }

    fn lint_conflicts(&mut self) {
        let n = self.rules.len();
        for i in 0..n {
            for j in (i + 1)..n {
                let (a, b) = (&self.rules[i], &self.rules[j]);
                if a.disabled.is_some() || b.disabled.is_some() {
                    continue;
                }
                let (RuleKind::On(ea), RuleKind::On(eb)) = (&a.kind, &b.kind) else {
                    continue;
                };
                let Some(shared) = ea.iter().find(|e| eb.contains(e)) else {
                    continue;
                };
                let clock = a
                    .actions
                    .iter()
                    .filter_map(|x| x.clock())
                    .find(|c| b.actions.iter().any(|y| y.clock() == Some(*c)));
                let Some(clock) = clock else {
                    continue;
                };
                if Self::exclusive(&self.rule_atoms(i as RuleId), &self.rule_atoms(j as RuleId)) {
                    continue;
                }
                let event = self.schema.events[*shared as usize].name.clone();
                let clock_name = self.clocks[clock as usize].name.clone();
                let d = Diagnostic::new(
                    "W0004",
                    format!(
                        "rules `{}` and `{}` both act on clock `{clock_name}` for `{event}`",
                        a.name, b.name
                    ),
                )
                .primary(self.rule_info[j].name_span, "this rule")
                .secondary(self.rule_info[i].name_span, "and this one")
                .help("if both fire, the result reports a conflict and applies neither clock action: make one an `exception` to the other, or make their conditions exclusive");
                self.diags.push(d);
            }
        }
    }

    fn lint_timers(&mut self) {
        for id in 0..self.rules.len() {
            let RuleKind::Timer { from, unless, .. } = &self.rules[id].kind else {
                continue;
            };
            let name = self.rules[id].name.clone();
            let span = self.rule_info[id].name_span;
            if unless.contains(from) {
                let ev = self.schema.events[*from as usize].name.clone();
                self.diags.push(
                    Diagnostic::new(
                        "W0005",
                        format!("timer `{name}` can never fire: `{ev}` both arms and cancels it"),
                    )
                    .primary(
                        self.rule_info[id].trigger_span,
                        "armed and cancelled by the same event",
                    )
                    .help("remove the arming event from the `unless` list"),
                );
                continue;
            }
            let atoms = self.rule_atoms(id as RuleId);
            if Self::self_contradictory(&atoms) {
                self.diags.push(
                    Diagnostic::new(
                        "W0005",
                        format!("timer `{name}` can never fire: its condition is always false"),
                    )
                    .primary(span, "never fires")
                    .help("check the `when` condition"),
                );
            }
        }
    }
}
