//! `unreachable-exception` (W0003): an exception that can never apply — the rule it excepts
//! is disabled in the same file, or its condition contradicts that rule's (an exception applies
//! only when its rule's condition also holds).

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;
use crate::model::ir::{RuleId, RuleKind};

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for id in 0..c.rules.len() {
        let RuleKind::Exception { parent } = c.rules[id].kind else {
            continue;
        };
        if parent == RuleId::MAX || c.rules[id].disabled.is_some() {
            continue;
        }
        let name = c.rules[id].name.clone();
        let span = c.rule_info[id].name_span;
        // A disabled ancestor never fires, so neither does the exception.
        let mut cur = Some(parent);
        let mut ancestors = Vec::new();
        while let Some(p) = cur {
            ancestors.push(p);
            cur = match c.rules[p as usize].kind {
                RuleKind::Exception { parent } if parent != RuleId::MAX => Some(parent),
                _ => None,
            };
        }
        if let Some(&dis) = ancestors
            .iter()
            .find(|&&a| c.rules[a as usize].disabled.is_some())
        {
            // Disabling a rule takes its exceptions with it: a trust that disables a national
            // rule is not asked to disable the national exceptions too. Only an exception
            // written beside the `disable` (same file) is reported: there it is a mistake.
            let disabled_here = c.disabled_spans.get(&dis);
            if disabled_here.is_some_and(|s| s.file != span.file) {
                continue;
            }
            let mut d = Diagnostic::new(
                Code::W0003,
                format!(
                    "exception `{name}` can never apply: rule `{}` is disabled",
                    c.rules[dis as usize].name
                ),
            )
            .primary(span, "unreachable");
            if let Some(s) = disabled_here {
                d = d.secondary(*s, "disabled here");
            }
            out.push(d.help("disable the exception too, or remove it"));
            continue;
        }
        let mine = c.rule_atoms(id as RuleId);
        for &a in &ancestors {
            let theirs = c.rule_atoms(a);
            if Checker::exclusive(&mine, &theirs) {
                let d = Diagnostic::new(
                    Code::W0003,
                    format!(
                        "exception `{name}` can never apply: its condition contradicts rule `{}`",
                        c.rules[a as usize].name
                    ),
                )
                .primary(span, "unreachable")
                .secondary(
                    c.rule_info[a as usize]
                        .ast_when
                        .map(|w| w.span)
                        .unwrap_or(c.rule_info[a as usize].name_span),
                    "the rule only fires when this holds",
                )
                .help("an exception applies only when its rule's condition also holds");
                out.push(d);
                break;
            }
        }
    }
    out
}
