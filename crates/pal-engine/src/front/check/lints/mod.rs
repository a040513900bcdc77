//! Lints: findings that do not stop a policy from running but that a reviewer should see.
//! One module per lint, each a function from the checked policy to its findings; [`run`] runs
//! them all after the declarations are checked. Their codes, names and default levels are in
//! the registry, [`crate::base::lint`]; suppression comments are applied by [`suppress`].

mod constraints;
mod disable_without_reason;
mod missing_citation;
mod possible_conflict;
mod rule_without_action;
mod timer_never_fires;
mod unreachable_exception;
mod unused_parameter;

pub mod suppress;

use super::Checker;
use crate::base::diagnostic::Diagnostic;
use crate::base::lint::{by_code, Level};

/// A lint: the checked policy in, findings out.
type Lint = fn(&Checker) -> Vec<Diagnostic>;

/// Every lint the checker runs, in registry order (`untested-rule` needs the tests, so
/// `services::project` runs it).
const CHECKER_LINTS: &[Lint] = &[
    missing_citation::check,
    unused_parameter::check,
    unreachable_exception::check,
    possible_conflict::check,
    timer_never_fires::check,
    disable_without_reason::check,
    rule_without_action::check,
];

/// Runs every lint whose level is not `allow`.
pub(crate) fn run(c: &Checker) -> Vec<Diagnostic> {
    CHECKER_LINTS
        .iter()
        .flat_map(|lint| lint(c))
        .filter(|d| by_code(d.code).is_none_or(|l| l.level != Level::Allow))
        .collect()
}
