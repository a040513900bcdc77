//! `unused-parameter` (W0002): a parameter that no rule, definition or clock target reads. A
//! trust that `set`s it would change nothing.

use crate::base::diagnostic::{Code, Diagnostic};
use crate::front::check::Checker;

pub(super) fn check(c: &Checker) -> Vec<Diagnostic> {
    c.param_used
        .iter()
        .enumerate()
        .filter(|(_, used)| !**used)
        .map(|(i, _)| {
            Diagnostic::new(
                Code::W0002,
                format!("parameter `{}` is never used", c.params[i].name),
            )
            .primary(c.param_spans[i], "declared here, used nowhere")
            .help("use it in a rule, definition or clock target, or remove it")
        })
        .collect()
}
