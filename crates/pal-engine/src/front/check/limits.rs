//! Limits on what one expression may cost to evaluate, checked before anything runs: how deep
//! evaluation recurses through chains of definitions, and how many *correlated* history
//! queries nest — a query in another's `where` that reads the enclosing query's candidate is
//! evaluated once per candidate, multiplying the work by the pathway's length. (Queries that
//! do not read an enclosing candidate are evaluated once per step, whatever their nesting:
//! see `runtime/eval/index.rs`; syntactic nesting is bounded by `E0206`.)

use super::Checker;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::Span;
use crate::model::ir::Expr as Ir;

/// The deepest evaluation may recurse, counting every expression level through every
/// definition used: a chain of 10,000 `def`s each naming the previous one would otherwise
/// overflow the evaluator's stack.
pub(crate) const MAX_EVAL_DEPTH: u32 = 512;

/// How many correlated queries (reading an enclosing query's candidate) may nest: one costs
/// the square of the pathway's length per step, two its cube (unless they join on equal
/// fields, which the evaluator answers from an index by value); three are refused.
pub(crate) const MAX_QUERY_NESTING: u32 = 2;

/// What evaluating an expression can cost: its depth in expression levels (definitions
/// included), the deepest nesting of correlated queries, and the candidate levels it reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub depth: u32,
    pub queries: u32,
    pub candidates: u8,
}

/// The candidate bits of the queries enclosing a query at `level`.
fn outer(level: u8) -> u8 {
    1u8.checked_shl(u32::from(level))
        .map(|b| b - 1)
        .unwrap_or(u8::MAX)
}

impl Checker<'_> {
    /// The cost of a compiled expression, given the costs of the definitions it uses. The
    /// expression itself is at most [`crate::syntax::MAX_NESTING`] levels deep, so this
    /// recursion is bounded.
    pub(crate) fn cost(&self, e: &Ir) -> Cost {
        use crate::model::ir::EventRef;
        let mut c = match e {
            Ir::Def(d) => self.def_costs.get(*d as usize).copied().unwrap_or_default(),
            Ir::EventDate(EventRef::Candidate(l)) | Ir::EventField(EventRef::Candidate(l), _) => {
                Cost {
                    candidates: 1u8.checked_shl(u32::from(*l)).unwrap_or(0),
                    ..Cost::default()
                }
            }
            _ => Cost::default(),
        };
        let level = match e {
            Ir::Query(q) | Ir::QueryField(q, _) => Some(q.level),
            _ => None,
        };
        e.for_each_child(|child, in_where| {
            let k = self.cost(child);
            c.depth = c.depth.max(k.depth);
            match (level, in_where) {
                (Some(l), true) => {
                    // Its own candidate stays inside; enclosing ones are read from outside, and
                    // reading one makes this query correlated.
                    let correlated = u32::from(k.candidates & outer(l) != 0);
                    c.queries = c.queries.max(k.queries + correlated);
                    c.candidates |= k.candidates & outer(l);
                }
                _ => {
                    c.queries = c.queries.max(k.queries);
                    c.candidates |= k.candidates;
                }
            }
        });
        c.depth = c.depth.saturating_add(1);
        c
    }

    /// Reports `E0209` if `cost` is over a limit; `what` names the expression.
    pub(crate) fn check_cost(&mut self, cost: Cost, span: Span, what: &str) -> bool {
        if cost.depth > MAX_EVAL_DEPTH {
            self.diags.push(
                Diagnostic::new(
                    Code::E0209,
                    format!(
                        "{what} nests {} levels deep through other definitions (the limit is {MAX_EVAL_DEPTH})",
                        cost.depth
                    ),
                )
                .primary(span, "too deep to evaluate")
                .help("a definition should name a few others, not a long chain of them: compute the value in fewer steps"),
            );
            return false;
        }
        if cost.queries > MAX_QUERY_NESTING {
            self.diags.push(
                Diagnostic::new(
                    Code::E0209,
                    format!(
                        "{what} nests {} queries that read an enclosing query's event (the limit is {MAX_QUERY_NESTING})",
                        cost.queries
                    ),
                )
                .primary(span, "correlated queries inside correlated queries")
                .help("a query that reads an enclosing query's event is evaluated once per candidate, so each such level multiplies the cost by the pathway's length: compare with `event` or a `def` instead"),
            );
            return false;
        }
        true
    }
}
