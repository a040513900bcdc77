//! `possible-conflict` (W0004): two rules on one event acting on one clock whose conditions
//! are not exclusive and neither of which is an exception to the other. If both fire, the
//! result reports a conflict and applies neither action.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;
use crate::model::ir::{RuleId, RuleKind};

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let n = c.rules.len();
    for i in 0..n {
        for j in (i + 1)..n {
            let (a, b) = (&c.rules[i], &c.rules[j]);
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
            if Checker::exclusive(&c.rule_atoms(i as RuleId), &c.rule_atoms(j as RuleId)) {
                continue;
            }
            let event = c.schema.events[*shared as usize].name.clone();
            let clock_name = c.clocks[clock as usize].name.clone();
            let d = Diagnostic::new(
                Code::W0004,
                format!(
                    "rules `{}` and `{}` both act on clock `{clock_name}` for `{event}`",
                    a.name, b.name
                ),
            )
            .primary(c.rule_info[j].name_span, "this rule")
            .secondary(c.rule_info[i].name_span, "and this one")
            .help("if both fire, the result reports a conflict and applies neither clock action: make one an `exception` to the other, or make their conditions exclusive");
            out.push(d);
        }
    }
    out
}
