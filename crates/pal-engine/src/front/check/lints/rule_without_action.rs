//! `rule-without-action` (W0009): a rule or timer whose body is empty does nothing when it
//! fires — usually an action was forgotten. An exception with an empty body is not reported:
//! it is how a policy says "in this case the rule does not apply" (national.pal's 2WW
//! exceptions).

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;
use crate::model::ir::RuleKind;

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    c.rules
        .iter()
        .zip(&c.rule_info)
        .filter(|(r, info)| info.empty_body && !matches!(r.kind, RuleKind::Exception { .. }))
        .map(|(r, info)| {
            let what = match r.kind {
                RuleKind::Timer { .. } => "timer",
                _ => "rule",
            };
            Diagnostic::new(Code::W0009, format!("{what} `{}` has no action", r.name))
                .primary(info.name_span, "fires and does nothing")
                .help("add what the policy requires here (`stop rtt reason …`, `outcome …`, `require … within …`), or remove the rule")
        })
        .collect()
}
