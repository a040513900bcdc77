//! `disable-without-reason` (W0006): `disable RULE` with no `because`. A trust that departs
//! from an inherited rule says why, so the departure can be reviewed.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    let mut out: Vec<(u32, Diagnostic)> = c
        .disabled_spans
        .iter()
        .filter(|(id, _)| c.rules[**id as usize].disabled.as_deref() == Some(""))
        .map(|(id, span)| {
            let d = Diagnostic::new(
                Code::W0006,
                format!("`disable {}` gives no reason", c.rules[*id as usize].name),
            )
            .primary(*span, "no `because`")
            .help("say why the trust departs from the inherited rule: `disable … because \"9.12.1: …\"`");
            (*id, d)
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out.into_iter().map(|(_, d)| d).collect()
}
