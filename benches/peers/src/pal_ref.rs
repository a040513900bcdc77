//! PAL's own answer for the checks: the interpreter runs the full policy with a trace; the
//! trace says at which event each rule or exception fired, the result's outcomes say what it
//! recorded. The two are cross-checked against each other.

use pal_engine::runtime::eval::{Evaluator, RuleOutcome};
use pal_engine::io::events::PathwayEvents;
use pal_engine::model::ir::{Action, Policy};
use pal_engine::base::value::Value;
use std::collections::{BTreeSet, HashMap};

/// One fired check: (event index, rule or exception name, outcome).
pub type Fired = (usize, String, String);

/// What PAL recorded for the checked rules on one pathway, sorted by event then name.
pub fn fired(
    ev: &Evaluator,
    policy: &Policy,
    names: &BTreeSet<String>,
    p: &PathwayEvents,
    attributes: &[(u16, Value)],
    as_at: chrono::NaiveDate,
) -> Result<Vec<Fired>, String> {
    let result = ev.run(&p.id, &p.events, attributes, as_at, true);
    let index: HashMap<u32, usize> = p
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.line, i))
        .collect();
    let outcomes_of = |rule: &str| -> Vec<String> {
        policy
            .rule_id(rule)
            .map(|id| {
                policy.rules[id as usize]
                    .actions
                    .iter()
                    .filter_map(|a| match a {
                        Action::Outcome(n, _) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    // (event index, acting rule) from the trace, in evaluation order.
    let mut acting: Vec<(usize, String)> = Vec::new();
    for step in result.trace.iter().flatten() {
        if step.event.starts_with("timer ") {
            continue;
        }
        let Some(i) = step.line.and_then(|l| index.get(&l).copied()) else {
            continue;
        };
        for r in &step.rules {
            if r.result == RuleOutcome::Fired && names.contains(r.rule.as_str()) {
                for _ in outcomes_of(&r.rule) {
                    acting.push((i, r.rule.to_string()));
                }
            }
        }
    }
    let recorded: Vec<_> = result
        .outcomes
        .iter()
        .filter(|o| names.contains(o.rule.as_str()))
        .collect();
    if recorded.len() != acting.len() {
        return Err(format!(
            "pathway {}: PAL's trace shows {} checked rules firing but its result has {} of their outcomes",
            p.id,
            acting.len(),
            recorded.len()
        ));
    }
    let mut out = Vec::with_capacity(acting.len());
    for ((i, rule), o) in acting.into_iter().zip(recorded) {
        if o.rule != rule || p.events.get(i).map(|e| e.date) != Some(o.date) {
            return Err(format!(
                "pathway {}: PAL's trace ({rule} at event {i}) and outcome ({} on {}) disagree",
                p.id, o.rule, o.date
            ));
        }
        out.push((i, rule, o.outcome.to_string()));
    }
    out.sort();
    Ok(out)
}
