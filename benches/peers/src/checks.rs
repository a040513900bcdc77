//! Which rde.pal rules the peer engines check, and the proof, read off PAL's compiled IR, that
//! PAL's outcome for each of them depends only on the pathway's events and attributes: no clock
//! field, no timer, no parameter that changes with the date, in the rule's condition or in the
//! condition of any of its exceptions.

use pal_engine::model::ir::{Action, Expr, Policy, Query, RuleId, RuleKind};
use pal_engine::model::schema::EventTypeId;
use std::collections::BTreeSet;

/// The outcome rules of rde.pal the brief lists as candidates, in policy order. Their
/// exceptions come from the IR. [`classify`] keeps the ones whose outcome provably never
/// depends on clock state and says why it drops the others.
pub const CANDIDATES: &[&str] = &[
    "first_offers_declined",
    "follow_up_pending_list",
    "patient_cancellation_discharge",
    "declined_treatment_discharge",
    "short_notice_clinic_cancellation",
    "hospital_cancellation_rebook",
    "repeat_hospital_cancellation",
    "on_the_day_operation_cancelled",
    "uncommunicated_dna_rebook",
    "repeat_first_dna_review",
    "cancer_diagnostic_dna_review",
    "follow_up_dna_review",
    "rejected_referral_return",
    "medically_unfit_short_term",
    "admission_offers_declined",
    "short_notice_offer_declined",
];

/// The parameters the checks read, passed to every engine as data (durations in days).
pub const PARAMS: &[&str] = &[
    "child_age",
    "reasonable_notice",
    "reasonable_offers",
    "pending_list_horizon",
    "cancellation_limit",
    "clinic_cancellation_notice",
    "repeat_hospital_cancellation",
    "repeat_dna_limit",
    "discharge_follow_up_dna_without_review",
    "short_term_unfit",
];

/// A rule or exception the engines decide: its name, the outcome its actions record (if any)
/// and its exceptions. An exception fires on its parent's event.
#[derive(Debug, Clone)]
pub struct Check {
    /// The rule or exception name, as in PAL's outcomes.
    pub name: String,
    /// The outcome its actions record (`None` for an exception with no outcome).
    pub outcome: Option<String>,
    /// Its enabled exceptions, in policy order.
    pub exceptions: Vec<Check>,
}

impl Check {
    /// This check's name and all its exceptions' names.
    pub fn names(&self, out: &mut BTreeSet<String>) {
        out.insert(self.name.clone());
        for x in &self.exceptions {
            x.names(out);
        }
    }

    /// Number of exceptions, at any depth.
    pub fn exception_count(&self) -> usize {
        self.exceptions
            .iter()
            .map(|x| 1 + x.exception_count())
            .sum()
    }
}

/// A top-level rule: the event type it is `on`, and its check.
#[derive(Debug, Clone)]
pub struct RuleCheck {
    /// The event type id.
    pub event: EventTypeId,
    /// The event type name.
    pub event_name: String,
    /// The rule with its exceptions.
    pub check: Check,
}

/// The candidates split into the checks and the rules left out (with the reason).
#[derive(Debug, Clone)]
pub struct CheckSet {
    /// The rules the engines decide, in [`CANDIDATES`] order.
    pub rules: Vec<RuleCheck>,
    /// Candidates left out, with why.
    pub excluded: Vec<(String, String)>,
}

impl CheckSet {
    /// Every rule and exception name in the set.
    pub fn names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for r in &self.rules {
            r.check.names(&mut out);
        }
        out
    }

    /// "16 rules + 7 exceptions".
    pub fn summary(&self) -> String {
        let x: usize = self.rules.iter().map(|r| r.check.exception_count()).sum();
        format!("{} rules + {x} exceptions", self.rules.len())
    }
}

/// `DaysWaited` → `days_waited`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Why an expression's value can depend on something other than the pathway's events and
/// attributes, if it can.
fn impure(policy: &Policy, e: &Expr, seen_defs: &mut Vec<u32>) -> Option<String> {
    fn many<'e>(
        policy: &Policy,
        xs: impl IntoIterator<Item = &'e Expr>,
        seen: &mut Vec<u32>,
    ) -> Option<String> {
        xs.into_iter().find_map(|x| impure(policy, x, seen))
    }
    let query = |q: &Query, seen: &mut Vec<u32>| {
        q.where_
            .as_deref()
            .and_then(|w| impure(policy, w, seen))
            .or_else(|| q.since.as_deref().and_then(|s| impure(policy, s, seen)))
    };
    match e {
        Expr::Clock(c, f) => Some(format!(
            "reads clock state (`{}.{}`)",
            policy
                .clocks
                .get(*c as usize)
                .map(|c| c.name.as_str())
                .unwrap_or("?"),
            snake(&format!("{f:?}"))
        )),
        Expr::Param(p) => match policy.params.get(*p as usize) {
            Some(def) if !def.dated.is_empty() => Some(format!(
                "reads parameter `{}`, whose value changes with the date",
                def.name
            )),
            _ => None,
        },
        Expr::Def(d) => {
            if seen_defs.contains(d) {
                return None;
            }
            seen_defs.push(*d);
            let def = policy.defs.get(*d as usize)?;
            impure(policy, &def.body, seen_defs)
                .map(|why| format!("{why} through definition `{}`", def.name))
        }
        Expr::Query(q) | Expr::QueryField(q, _) => query(q, seen_defs),
        Expr::Call(_, args) => many(policy, args, seen_defs),
        Expr::Not(x) | Expr::Neg(x) | Expr::IsSet(x, _) => impure(policy, x, seen_defs),
        Expr::Binary(_, a, b) => many(policy, [a.as_ref(), b.as_ref()], seen_defs),
        Expr::Within(a, b, c) | Expr::AtLeast(a, b, _, c) => {
            many(policy, [a.as_ref(), b.as_ref(), c.as_ref()], seen_defs)
        }
        Expr::Member(x, list, _) => many(policy, [x.as_ref(), list.as_ref()], seen_defs),
        Expr::In(x, list, _) => {
            impure(policy, x, seen_defs).or_else(|| many(policy, list, seen_defs))
        }
        Expr::Const(_)
        | Expr::Now
        | Expr::EventDate(_)
        | Expr::EventField(_, _)
        | Expr::Attr(_) => None,
    }
}

/// Builds the check for rule or exception `id`, or says why its outcome may depend on clock
/// state.
fn check_of(policy: &Policy, id: RuleId) -> Result<Check, String> {
    let rule = policy
        .rules
        .get(id as usize)
        .ok_or_else(|| format!("rule id {id} is not in the policy"))?;
    if let Some(w) = &rule.when {
        if let Some(why) = impure(policy, w, &mut Vec::new()) {
            return Err(format!("`{}` {why}", rule.name));
        }
    }
    let mut outcomes = rule.actions.iter().filter_map(|a| match a {
        Action::Outcome(name, on) => Some((name, on)),
        _ => None,
    });
    let outcome = match (outcomes.next(), outcomes.next()) {
        (None, _) => None,
        (Some((_, Some(_))), _) => {
            return Err(format!(
                "`{}` dates its outcome with an expression",
                rule.name
            ))
        }
        (Some((name, None)), None) => Some(name.to_string()),
        (Some(_), Some(_)) => return Err(format!("`{}` records two outcomes", rule.name)),
    };
    let mut exceptions = Vec::new();
    for &x in &rule.exceptions {
        if policy
            .rules
            .get(x as usize)
            .is_some_and(|r| r.disabled.is_none())
        {
            exceptions.push(check_of(policy, x)?);
        }
    }
    Ok(Check {
        name: rule.name.clone(),
        outcome,
        exceptions,
    })
}

/// Splits [`CANDIDATES`] into the checks and the rules whose outcome may depend on clock state.
pub fn classify(policy: &Policy) -> Result<CheckSet, String> {
    let mut set = CheckSet {
        rules: Vec::new(),
        excluded: Vec::new(),
    };
    for name in CANDIDATES {
        let id = policy
            .rule_id(name)
            .ok_or_else(|| format!("the policy has no rule `{name}`"))?;
        let rule = &policy.rules[id as usize];
        if rule.disabled.is_some() {
            set.excluded
                .push((name.to_string(), "disabled in this policy".into()));
            continue;
        }
        let event = match &rule.kind {
            RuleKind::On(events) if events.len() == 1 => events[0],
            _ => {
                set.excluded.push((
                    name.to_string(),
                    "not an `on` rule of a single event type".into(),
                ));
                continue;
            }
        };
        match check_of(policy, id) {
            Ok(check) => set.rules.push(RuleCheck {
                event,
                event_name: policy.schema.events[event as usize].name.clone(),
                check,
            }),
            Err(why) => set.excluded.push((name.to_string(), why)),
        }
    }
    Ok(set)
}
