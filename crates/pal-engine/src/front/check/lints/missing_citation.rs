//! `missing-citation` (W0001): a parameter, rule or exception without `cite`. The citation is
//! what travels into every outcome and what a reviewer checks the rule against.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;
use crate::model::ir::RuleKind;

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    let params = c
        .params
        .iter()
        .zip(&c.param_spans)
        .filter(|(p, _)| p.cite.is_empty())
        .map(|(p, span)| {
            Diagnostic::new(
                Code::W0001,
                format!("parameter `{}` has no citation", p.name),
            )
            .primary(*span, "no `cite`")
            .help("cite the policy paragraph that sets this value, e.g. `cite \"10.2.1\"`")
        });
    let rules = c.rules.iter().zip(&c.rule_info).filter(|(r, _)| r.cite.is_empty()).map(|(r, info)| {
        match r.kind {
            RuleKind::Exception { .. } => Diagnostic::new(Code::W0001, format!("exception `{}` has no citation", r.name))
                .primary(info.name_span, "no `cite`")
                .help("cite the paragraph that makes the exception, e.g. `cite \"9.12.3\"`"),
            _ => Diagnostic::new(Code::W0001, format!("rule `{}` has no citation", r.name))
                .primary(info.name_span, "no `cite`")
                .help("cite the policy paragraph it implements, e.g. `cite \"9.12.1\"`; the citation travels into every outcome"),
        }
    });
    params.chain(rules).collect()
}
