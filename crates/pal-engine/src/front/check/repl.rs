//! Checking REPL input (events, `pathway { … }`, `set`, `as at`, `expect`, expressions) against
//! an already compiled policy, with the same diagnostics as `pal check`.

use super::expr::Scope;
use super::Checker;
use crate::base::diagnostic::Diagnostic;
use crate::base::source::SourceMap;
use crate::base::value::Value;
use crate::model::event::Event;
use crate::model::ir::{Expectation, Expr, Policy};
use crate::syntax::ast::{self, TestStep};
use chrono::NaiveDate;

/// A checked REPL step.
#[derive(Debug, Clone)]
pub enum ReplItem {
    /// An event to add to the pathway, and which of its fields the line wrote.
    Event(Event, Vec<bool>),
    /// Pathway attributes to set.
    Attributes(Vec<(u16, Value)>),
    /// A parameter override (what-if).
    Set(u32, Value, Vec<(NaiveDate, Value)>),
    /// The report date.
    AsAt(NaiveDate),
    /// An expectation to check now.
    Expect(Expectation),
}

fn finish<T>(c: Checker, value: Option<T>) -> Result<T, Vec<Diagnostic>> {
    let errors: Vec<Diagnostic> = c.diags.into_iter().filter(Diagnostic::is_error).collect();
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors),
    }
}

/// Checks a test-style step typed in the REPL. `seq` orders events of the same date.
pub fn check_step(
    policy: &Policy,
    sources: &SourceMap,
    step: &TestStep,
    seq: u32,
) -> Result<ReplItem, Vec<Diagnostic>> {
    let mut c = Checker::from_policy(sources, policy);
    let item = match step {
        TestStep::Event(e) => c
            .test_event(e, seq)
            .map(|(ev, written)| ReplItem::Event(ev, written)),
        TestStep::Pathway(fields, _) => Some(ReplItem::Attributes(c.test_attributes(fields))),
        TestStep::Set(name, value, _) => c
            .test_set(name, value)
            .map(|(p, v, d)| ReplItem::Set(p, v, d)),
        TestStep::AsAt(d, _) => Some(ReplItem::AsAt(*d)),
        TestStep::Expect(x) => c.expectation(x).map(ReplItem::Expect),
    };
    finish(c, item)
}

/// Checks an expression typed in the REPL; returns its IR and the name of its type.
pub fn check_expr(
    policy: &Policy,
    sources: &SourceMap,
    e: &ast::Expr,
) -> Result<(Expr, String), Vec<Diagnostic>> {
    let mut c = Checker::from_policy(sources, policy);
    let mut sc = Scope::default();
    for clock in &c.clocks {
        for f in ["start", "stop", "target_date"] {
            sc.narrowed.push(format!("{}.{f}", clock.name));
        }
    }
    let t = c.expr(e, &sc);
    let t = c.value_in(e, t, &sc);
    let name = t.ty.name(&c.schema);
    let ir = t.ir;
    finish(c, Some((ir, name)))
}
