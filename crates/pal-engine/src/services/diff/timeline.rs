//! One pathway's timeline under two policies, step by step: the event (or timer), what fired
//! under each policy, and the clocks after the step.

use super::extract::traces;
use super::structural::event_text;
use crate::base::value::Value;
use crate::model::event::Event;
use crate::runtime::eval::{Evaluator, RuleOutcome, TraceStep};
use chrono::NaiveDate;
use serde::Serialize;

/// What one policy did at one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Side {
    /// Rules (and exceptions) that fired; `NAME (conflict)` for one in a conflict.
    pub fired: Vec<String>,
    /// The clocks after the step.
    pub clocks: Vec<String>,
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub date: NaiveDate,
    /// The event with its fields, or `timer RULE`.
    pub event: String,
    /// Under the old policy (absent: no such step, e.g. a timer that only one policy set).
    pub old: Option<Side>,
    /// Under the new policy.
    pub new: Option<Side>,
    /// True if the two sides differ.
    pub differs: bool,
}

/// A pathway's timeline under both policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// The pathway.
    pub pathway_id: String,
    /// The steps in order.
    pub rows: Vec<Row>,
}

fn side(step: &TraceStep) -> Side {
    Side {
        fired: step
            .rules
            .iter()
            .filter_map(|r| match r.result {
                RuleOutcome::Fired => Some(r.rule.to_string()),
                RuleOutcome::Conflict => Some(format!("{} (conflict)", r.rule)),
                _ => None,
            })
            .collect(),
        clocks: step.clocks.clone(),
    }
}

fn label(step: &TraceStep, events: &[Event], schema: &crate::model::schema::Schema) -> String {
    events
        .iter()
        .find(|e| {
            e.date == step.date
                && step.line == Some(e.line)
                && schema.events.get(e.kind as usize).map(|d| d.name.as_str()) == Some(&step.event)
        })
        .map(|e| event_text(schema, e))
        .unwrap_or_else(|| step.event.clone())
}

/// Evaluates the pathway under both evaluators with traces and lines the steps up: steps of
/// one date and label are paired in order; a step only one policy took has the other side
/// empty.
pub fn side_by_side(
    ev_old: &Evaluator,
    ev_new: &Evaluator,
    id: &str,
    events: &[Event],
    attributes: &[(u16, Value)],
    as_at: NaiveDate,
) -> Timeline {
    let (a, b) = traces(ev_old, ev_new, id, events, attributes, as_at);
    let schema = &ev_old.policy.schema;
    let mut rows = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let same = i < a.len()
            && j < b.len()
            && a[i].date == b[j].date
            && a[i].event == b[j].event
            && a[i].line == b[j].line;
        let (old, new, step) = if same {
            let r = (Some(side(&a[i])), Some(side(&b[j])), &a[i]);
            i += 1;
            j += 1;
            r
        } else if j >= b.len() || (i < a.len() && a[i].date <= b[j].date) {
            i += 1;
            (Some(side(&a[i - 1])), None, &a[i - 1])
        } else {
            j += 1;
            (None, Some(side(&b[j - 1])), &b[j - 1])
        };
        rows.push(Row {
            date: step.date,
            event: label(step, events, schema),
            differs: old != new,
            old,
            new,
        });
    }
    Timeline {
        pathway_id: id.to_string(),
        rows,
    }
}
