//! `timer-never-fires` (W0005): a timer armed and cancelled by the same event, or whose
//! condition is always false.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;
use crate::model::ir::{RuleId, RuleKind};

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for id in 0..c.rules.len() {
        let RuleKind::Timer { from, unless, .. } = &c.rules[id].kind else {
            continue;
        };
        let name = c.rules[id].name.clone();
        let span = c.rule_info[id].name_span;
        if unless.contains(from) {
            let ev = c.schema.events[*from as usize].name.clone();
            out.push(
                Diagnostic::new(
                    Code::W0005,
                    format!("timer `{name}` can never fire: `{ev}` both arms and cancels it"),
                )
                .primary(
                    c.rule_info[id].trigger_span,
                    "armed and cancelled by the same event",
                )
                .help("remove the arming event from the `unless` list"),
            );
            continue;
        }
        let atoms = c.rule_atoms(id as RuleId);
        if Checker::self_contradictory(&atoms) {
            out.push(
                Diagnostic::new(
                    Code::W0005,
                    format!("timer `{name}` can never fire: its condition is always false"),
                )
                .primary(span, "never fires")
                .help("check the `when` condition"),
            );
        }
    }
    out
}
