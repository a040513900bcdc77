//! Cedar through `cedar-policy`: one `permit` per rule and exception (`checks.cedar`), one
//! authorization request per event with the event type as the action. Cedar cannot aggregate,
//! so the harness computes each event's history queries into `context.agg` when it builds the
//! requests (before timing); Cedar evaluates the rest of every condition.

use crate::data::{Ev, Fields, Params, Pw, F};
use crate::table::Table;
use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Entities, EntityUid, PolicyId, PolicySet,
    Request, RestrictedExpression,
};
use std::collections::HashMap;
use std::str::FromStr;

/// The Cedar source of the checks.
pub const SOURCE: &str = include_str!("../checks.cedar");

/// What the harness computes for Cedar, per event (the names in `context.agg`).
pub const AGGREGATES: &str = "per event, over the events so far: the counts of non-admission \
patient cancellations, reasonable first and admission offer declines (each measured from its \
offer), the date the current decline's notice runs from, hospital cancellations, \
first-appointment and diagnostic DNAs, whether a consultant upgrade happened, whether the \
cancelled date was booked at short notice, and the run of consecutive first-appointment DNAs";

/// The policies, split by the event type (action) they are scoped to, renamed to their rule.
pub struct CedarChecks {
    /// Per event type id, its policies (`None`: no rule on that event).
    sets: Vec<Option<PolicySet>>,
    authorizer: Authorizer,
    entities: Entities,
}

/// Per event: its request, or `None` when no rule is on its type.
pub type CedarPathway = Vec<Option<Request>>;

fn expr(f: &F) -> RestrictedExpression {
    match f {
        F::Bool(b) => RestrictedExpression::new_bool(*b),
        F::Int(i) => RestrictedExpression::new_long(*i),
        F::Str(s) => RestrictedExpression::new_string(s.to_string()),
    }
}

fn record(
    fields: &Fields,
    extra: Vec<(String, RestrictedExpression)>,
) -> Result<RestrictedExpression, String> {
    let mut all: Vec<(String, RestrictedExpression)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), expr(v)))
        .collect();
    all.extend(extra);
    RestrictedExpression::new_record(all).map_err(|e| format!("cedar record: {e}"))
}

fn param(params: &Params, name: &str) -> Result<i64, String> {
    match params.iter().find(|(n, _)| *n == name) {
        Some((_, F::Int(i))) => Ok(*i),
        _ => Err(format!("parameter `{name}` is not a number")),
    }
}

/// The history queries of event `i`, as PAL defines them (events up to and including `i`).
fn aggregates(
    p: &Pw,
    i: usize,
    params: &Params,
) -> Result<Vec<(String, RestrictedExpression)>, String> {
    let notice = param(params, "reasonable_notice")?;
    let hist = &p.events[..=i];
    let ev = &p.events[i];
    let count = |f: &dyn Fn(&Ev) -> bool| hist.iter().filter(|e| f(e)).count() as i64;
    // A decline's notice runs from its offer (3.34, 9.7.3, 10.2.1): the date of the latest
    // `offer_made` so far of the same appointment and offered date, else the decline's own.
    let notice_from = |e: &Ev| -> i64 {
        let offered = e.int("offered_date");
        hist.iter()
            .rev()
            .find(|m| {
                &*m.event == "offer_made"
                    && e.get("appointment").is_some()
                    && m.get("appointment") == e.get("appointment")
                    && offered.is_some()
                    && m.int("offered_date") == offered
            })
            .map_or(e.date, |m| m.date)
    };
    let reasonable = |e: &Ev, kind: &str| {
        &*e.event == "offer_declined"
            && e.is("appointment", kind)
            && matches!((e.int("offered_date"), notice_from(e).checked_add(notice)), (Some(o), Some(d)) if d <= o)
    };
    let first_dna = |e: &Ev| &*e.event == "dna" && e.is("appointment", "first");
    let mut consecutive = 0i64;
    for e in hist.iter().rev() {
        if !(&*e.event == "dna" || &*e.event == "attended") {
            continue;
        }
        if !first_dna(e) {
            break;
        }
        consecutive += 1;
    }
    let short_notice_booking = match ev.int("appointment_date") {
        Some(d) => hist.iter().any(|e| {
            &*e.event == "appointment_booked"
                && e.int("appointment_date") == Some(d)
                && !matches!(e.date.checked_add(notice), Some(x) if x <= d)
        }),
        None => false,
    };
    let long = RestrictedExpression::new_long;
    Ok(vec![
        (
            "patient_cancelled_not_admission".into(),
            long(count(&|e| {
                &*e.event == "patient_cancelled" && !e.is("appointment", "admission")
            })),
        ),
        (
            "reasonable_first_declines".into(),
            long(count(&|e| reasonable(e, "first"))),
        ),
        (
            "reasonable_admission_declines".into(),
            long(count(&|e| reasonable(e, "admission"))),
        ),
        (
            "hospital_cancelled".into(),
            long(count(&|e| &*e.event == "hospital_cancelled")),
        ),
        ("first_dnas".into(), long(count(&first_dna))),
        (
            "diagnostic_dnas".into(),
            long(count(&|e| {
                &*e.event == "dna" && e.is("appointment", "diagnostic")
            })),
        ),
        (
            "consultant_upgrade".into(),
            RestrictedExpression::new_bool(hist.iter().any(|e| &*e.event == "consultant_upgrade")),
        ),
        (
            "booked_at_short_notice_for_this_date".into(),
            RestrictedExpression::new_bool(short_notice_booking),
        ),
        ("consecutive_first_dnas".into(), long(consecutive)),
        ("offer_notice_from".into(), long(notice_from(ev))),
    ])
}

fn uid(text: &str) -> Result<EntityUid, String> {
    EntityUid::from_str(text).map_err(|e| format!("cedar entity `{text}`: {e}"))
}

impl CedarChecks {
    /// Parses the policies and splits them by event type; every node of `table` must have one.
    pub fn new(table: &Table, event_names: &[String]) -> Result<CedarChecks, String> {
        let all = PolicySet::from_str(SOURCE).map_err(|e| format!("checks.cedar: {e}"))?;
        let kind_of: HashMap<String, usize> = event_names
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("Action::\"{n}\""), i))
            .collect();
        let mut sets: Vec<Option<PolicySet>> = vec![None; event_names.len()];
        let mut seen = Vec::new();
        for policy in all.policies() {
            let rule = policy
                .annotation("rule")
                .ok_or_else(|| format!("checks.cedar: policy {} has no @rule", policy.id()))?;
            let ActionConstraint::Eq(action) = policy.action_constraint() else {
                return Err(format!(
                    "checks.cedar: `{rule}` is not scoped to one action"
                ));
            };
            let kind = *kind_of
                .get(&action.to_string())
                .ok_or_else(|| format!("checks.cedar: `{rule}`: unknown event {action}"))?;
            let set = sets[kind].get_or_insert_with(PolicySet::new);
            set.add(policy.new_id(PolicyId::new(rule)))
                .map_err(|e| format!("checks.cedar: `{rule}`: {e}"))?;
            seen.push(rule.to_string());
        }
        for node in &table.nodes {
            if !seen.contains(&node.name) {
                return Err(format!("checks.cedar has no policy for `{}`", node.name));
            }
        }
        Ok(CedarChecks {
            sets,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
        })
    }

    /// Builds a pathway's requests (the harness's aggregates included).
    pub fn pathway(
        &self,
        p: &Pw,
        params: &Params,
        event_names: &[String],
    ) -> Result<CedarPathway, String> {
        let principal = uid("Pathway::\"p\"")?;
        let resource = uid("Event::\"e\"")?;
        let params_rec = record(&params_fields(params), Vec::new())?;
        let mut out = Vec::with_capacity(p.events.len());
        for (i, e) in p.events.iter().enumerate() {
            if self.sets.get(e.kind).is_none_or(|s| s.is_none()) {
                out.push(None);
                continue;
            }
            let ev = record(
                &e.fields,
                vec![
                    ("date".into(), RestrictedExpression::new_long(e.date)),
                    ("ymd".into(), RestrictedExpression::new_long(e.ymd)),
                ],
            )?;
            let attrs = p
                .attrs
                .get(e.attrs)
                .ok_or_else(|| "cedar: malformed pathway".to_string())?;
            let context = Context::from_pairs([
                ("ev".to_string(), ev),
                ("pathway".to_string(), record(attrs, Vec::new())?),
                ("params".to_string(), params_rec.clone()),
                (
                    "agg".to_string(),
                    RestrictedExpression::new_record(aggregates(p, i, params)?)
                        .map_err(|e| format!("cedar record: {e}"))?,
                ),
            ])
            .map_err(|e| format!("cedar context: {e}"))?;
            let action = uid(&format!(
                "Action::\"{}\"",
                event_names.get(e.kind).map(String::as_str).unwrap_or("?")
            ))?;
            out.push(Some(
                Request::new(principal.clone(), action, resource.clone(), context, None)
                    .map_err(|e| format!("cedar request: {e}"))?,
            ));
        }
        Ok(out)
    }

    /// Evaluates the checks on one pathway, pushing `(event, node)` for each that fires.
    pub fn eval(
        &self,
        table: &Table,
        kinds: &[usize],
        p: &CedarPathway,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<(), String> {
        for (i, req) in p.iter().enumerate() {
            let Some(req) = req else { continue };
            let kind = kinds.get(i).copied().unwrap_or(usize::MAX);
            let Some(Some(set)) = self.sets.get(kind) else {
                continue;
            };
            let response = self.authorizer.is_authorized(req, set, &self.entities);
            if let Some(err) = response.diagnostics().errors().next() {
                return Err(format!("cedar: {err}"));
            }
            if response.decision() != Decision::Allow {
                continue;
            }
            let holding: Vec<&str> = response
                .diagnostics()
                .reason()
                .map(PolicyId::as_ref)
                .collect();
            table.on_event::<String>(
                kind,
                i,
                |n| Ok(holding.contains(&table.nodes[n].name.as_str())),
                out,
            )?;
        }
        Ok(())
    }
}

fn params_fields(params: &Params) -> Fields {
    params
        .iter()
        .map(|(k, v)| (std::sync::Arc::from(*k), v.clone()))
        .collect()
}
