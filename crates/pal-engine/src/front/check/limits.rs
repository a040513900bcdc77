//! Limits on what one expression may cost to evaluate, checked before anything runs: how deep
//! evaluation recurses through chains of definitions, and how deeply history queries nest
//! inside other queries' `where` (each level multiplies the work by the pathway's length).

use super::Checker;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::Span;
use crate::model::ir::Expr as Ir;

/// The deepest evaluation may recurse, counting every expression level through every
/// definition used: a chain of 10,000 `def`s each naming the previous one would otherwise
/// overflow the evaluator's stack.
pub(crate) const MAX_EVAL_DEPTH: u32 = 512;

/// How many history queries may nest inside one another's `where`.
pub(crate) const MAX_QUERY_NESTING: u32 = 3;

/// What evaluating an expression can cost: its depth in expression levels (definitions
/// included) and the deepest nesting of queries within queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub depth: u32,
    pub queries: u32,
}

impl Checker<'_> {
    /// The cost of a compiled expression, given the costs of the definitions it uses. The
    /// expression itself is at most [`crate::syntax::MAX_NESTING`] levels deep, so this
    /// recursion is bounded.
    pub(crate) fn cost(&self, e: &Ir) -> Cost {
        let mut c = match e {
            Ir::Def(d) => self.def_costs.get(*d as usize).copied().unwrap_or_default(),
            _ => Cost::default(),
        };
        let own_query = u32::from(matches!(e, Ir::Query(_) | Ir::QueryField(..)));
        c.queries = c.queries.max(own_query);
        e.for_each_child(|child, in_where| {
            let k = self.cost(child);
            c.depth = c.depth.max(k.depth);
            let q = if in_where { k.queries + 1 } else { k.queries };
            c.queries = c.queries.max(q);
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
                        "{what} nests history queries {} deep (the limit is {MAX_QUERY_NESTING})",
                        cost.queries
                    ),
                )
                .primary(span, "a query inside a query's `where`, too many times")
                .help("each query in another's `where` is evaluated once per candidate event, so the cost is the pathway's length to that power: count the inner events once, in a `def` outside the query"),
            );
            return false;
        }
        true
    }
}
