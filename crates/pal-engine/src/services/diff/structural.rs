//! What differs between two compiled policies, item by item and by name: parameters whose
//! values differ, rules and exceptions added, removed, switched on or off or rewritten,
//! definitions and clocks rewritten. Both policies usually extend one base, so the compiled
//! items line up; a difference is reported on the item's name.
//!
//! The same computation guides the data-free search (which event types to try first) and
//! explains the causes in a report (a rule that reads a changed parameter).

use crate::model::event::Event;
use crate::model::ir::{Expr, Policy, RuleDef, RuleId, RuleKind};
use crate::model::schema::{EventTypeId, Schema};
use serde::Serialize;

/// A parameter whose value differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamChange {
    /// Its name.
    pub name: String,
    /// Its value under the old policy (dated values after `;`), absent if not declared.
    pub old: Option<String>,
    /// Its value under the new policy.
    pub new: Option<String>,
    /// The new policy's citation for it (of its `set`, when overridden).
    pub cite: Vec<String>,
}

/// How a rule differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleChangeKind {
    /// Only in the new policy.
    Added,
    /// Only in the old policy.
    Removed,
    /// Disabled in the new policy.
    Disabled,
    /// Disabled in the old policy, enabled in the new.
    Enabled,
    /// Its trigger, condition or actions differ.
    Rewritten,
}

impl RuleChangeKind {
    /// How the change is named in reports.
    pub fn label(self) -> &'static str {
        match self {
            RuleChangeKind::Added => "added",
            RuleChangeKind::Removed => "removed",
            RuleChangeKind::Disabled => "disabled",
            RuleChangeKind::Enabled => "enabled",
            RuleChangeKind::Rewritten => "condition, trigger or actions rewritten",
        }
    }
}

/// A rule or exception that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleChange {
    /// Its name.
    pub name: String,
    /// How.
    pub change: RuleChangeKind,
    /// Its citations (the new policy's, if it has the rule).
    pub cite: Vec<String>,
}

/// Everything that differs between two policies.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyChanges {
    /// Parameters.
    pub params: Vec<ParamChange>,
    /// Rules, timers and exceptions.
    pub rules: Vec<RuleChange>,
    /// Definitions whose body differs (or that only one policy has).
    pub defs: Vec<String>,
    /// Clocks whose target or standard differs (or that only one policy has).
    pub clocks: Vec<String>,
}

impl PolicyChanges {
    /// True if the two policies are the same, item for item.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
            && self.rules.is_empty()
            && self.defs.is_empty()
            && self.clocks.is_empty()
    }
}

fn param_text(schema: &Schema, p: &crate::model::ir::ParamDef) -> String {
    let mut s = schema.display_value(&p.initial);
    for (from, v) in &p.dated {
        s.push_str(&format!("; from {from}: {}", schema.display_value(v)));
    }
    s
}

/// A rule's meaning, without where it is written: trigger, condition, actions, exceptions'
/// parent. Indices are compared as they are: policies built on one base share them.
fn rule_body(r: &RuleDef) -> String {
    format!("{:?}|{:?}|{:?}", r.kind, r.when, r.actions)
}

/// The items of `old` and `new` that differ.
pub fn policy_changes(old: &Policy, new: &Policy) -> PolicyChanges {
    let mut out = PolicyChanges::default();
    for p in &new.params {
        let before = old
            .params
            .iter()
            .find(|q| q.name == p.name)
            .map(|q| param_text(&old.schema, q));
        let after = param_text(&new.schema, p);
        if before.as_deref() != Some(after.as_str()) {
            out.params.push(ParamChange {
                name: p.name.clone(),
                old: before,
                new: Some(after),
                cite: p.cite.clone(),
            });
        }
    }
    for q in &old.params {
        if !new.params.iter().any(|p| p.name == q.name) {
            out.params.push(ParamChange {
                name: q.name.clone(),
                old: Some(param_text(&old.schema, q)),
                new: None,
                cite: q.cite.clone(),
            });
        }
    }
    for r in &new.rules {
        let change = match old.rules.iter().find(|q| q.name == r.name) {
            None => Some(RuleChangeKind::Added),
            Some(q) => match (q.disabled.is_some(), r.disabled.is_some()) {
                (false, true) => Some(RuleChangeKind::Disabled),
                (true, false) => Some(RuleChangeKind::Enabled),
                _ if rule_body(q) != rule_body(r) => Some(RuleChangeKind::Rewritten),
                _ => None,
            },
        };
        if let Some(change) = change {
            out.rules.push(RuleChange {
                name: r.name.clone(),
                change,
                cite: r.cite.clone(),
            });
        }
    }
    for q in &old.rules {
        if !new.rules.iter().any(|r| r.name == q.name) {
            out.rules.push(RuleChange {
                name: q.name.clone(),
                change: RuleChangeKind::Removed,
                cite: q.cite.clone(),
            });
        }
    }
    for d in &new.defs {
        match old.defs.iter().find(|e| e.name == d.name) {
            Some(e) if format!("{:?}", e.body) == format!("{:?}", d.body) => {}
            _ => out.defs.push(d.name.clone()),
        }
    }
    for e in &old.defs {
        if !new.defs.iter().any(|d| d.name == e.name) {
            out.defs.push(e.name.clone());
        }
    }
    for c in &new.clocks {
        match old.clocks.iter().find(|d| d.name == c.name) {
            Some(d)
                if format!("{:?}{:?}{}", d.target, d.standard, d.measured_on_incomplete)
                    == format!("{:?}{:?}{}", c.target, c.standard, c.measured_on_incomplete) => {}
            _ => out.clocks.push(c.name.clone()),
        }
    }
    for d in &old.clocks {
        if !new.clocks.iter().any(|c| c.name == d.name) {
            out.clocks.push(d.name.clone());
        }
    }
    out
}

/// The definitions an expression reads, transitively.
fn defs_read(policy: &Policy, roots: Vec<&Expr>) -> Vec<u32> {
    let mut seen = vec![false; policy.defs.len()];
    let mut roots = roots;
    let mut out = Vec::new();
    while let Some(e) = roots.pop() {
        e.walk(&mut |x| {
            if let Expr::Def(d) = x {
                if let Some(s) = seen.get_mut(*d as usize) {
                    if !*s {
                        *s = true;
                        out.push(*d);
                        if let Some(def) = policy.defs.get(*d as usize) {
                            roots.push(&def.body);
                        }
                    }
                }
            }
        });
    }
    out
}

/// Every expression of a rule: condition, actions, timer delay.
pub(crate) fn rule_exprs(rule: &RuleDef) -> Vec<&Expr> {
    let mut roots: Vec<&Expr> = rule.when.iter().collect();
    rule.actions.iter().for_each(|a| roots.extend(a.exprs()));
    if let RuleKind::Timer { delay, .. } = &rule.kind {
        roots.push(delay);
    }
    roots
}

/// Every expression a rule evaluates, with the bodies of the definitions it reads.
pub(crate) fn rule_exprs_deep<'p>(policy: &'p Policy, rule: &'p RuleDef) -> Vec<&'p Expr> {
    let mut roots = rule_exprs(rule);
    for d in defs_read(policy, rule_exprs(rule)) {
        if let Some(def) = policy.defs.get(d as usize) {
            roots.push(&def.body);
        }
    }
    roots
}

/// Why a rule of `policy` may behave differently: the changed parameters and definitions it
/// reads, and whether it is itself changed. Empty if none.
pub fn reasons(policy: &Policy, r: RuleId, changes: &PolicyChanges) -> Vec<String> {
    let mut out = own_reasons(policy, r, changes);
    // An exception is only considered when the rule it overrides holds: what changes that
    // rule changes where the exception applies.
    let mut at = r;
    for _ in 0..policy.rules.len() {
        let Some(RuleKind::Exception { parent }) = policy.rules.get(at as usize).map(|x| &x.kind)
        else {
            break;
        };
        let name = &policy.rules[*parent as usize].name;
        for why in own_reasons(policy, *parent, changes) {
            out.push(format!("overrides {name}, which {why}"));
        }
        at = *parent;
    }
    // A rule whose exception changed applies where it did not (or no longer applies).
    if let Some(rule) = policy.rules.get(r as usize) {
        for x in &rule.exceptions {
            let name = &policy.rules[*x as usize].name;
            for why in own_reasons(policy, *x, changes) {
                out.push(format!("its exception {name} {why}"));
            }
        }
    }
    out
}

fn own_reasons(policy: &Policy, r: RuleId, changes: &PolicyChanges) -> Vec<String> {
    let Some(rule) = policy.rules.get(r as usize) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(c) = changes.rules.iter().find(|c| c.name == rule.name) {
        out.push(
            match c.change {
                RuleChangeKind::Added => "is added",
                RuleChangeKind::Removed => "is removed",
                RuleChangeKind::Disabled => "is disabled",
                RuleChangeKind::Enabled => "is enabled",
                RuleChangeKind::Rewritten => "is rewritten",
            }
            .to_string(),
        );
    }
    for p in policy.params_read(r) {
        if let Some(pd) = policy.params.get(p as usize) {
            if let Some(c) = changes.params.iter().find(|c| c.name == pd.name) {
                out.push(format!(
                    "reads {}: {} → {}",
                    c.name,
                    c.old.as_deref().unwrap_or("—"),
                    c.new.as_deref().unwrap_or("—")
                ));
            }
        }
    }
    for d in defs_read(policy, rule_exprs(rule)) {
        if let Some(def) = policy.defs.get(d as usize) {
            if changes.defs.contains(&def.name) {
                out.push(format!("reads definition {}", def.name));
            }
        }
    }
    out
}

/// The event types that can make rule `r` act: its own triggers, or its parent's for an
/// exception.
pub fn triggers(policy: &Policy, r: RuleId) -> Vec<EventTypeId> {
    let mut r = r;
    for _ in 0..=policy.rules.len() {
        match policy.rules.get(r as usize).map(|x| &x.kind) {
            Some(RuleKind::On(types)) => return types.clone(),
            Some(RuleKind::Timer { from, .. }) => return vec![*from],
            Some(RuleKind::Exception { parent }) => r = *parent,
            None => return Vec::new(),
        }
    }
    Vec::new()
}

/// The rules of `policy` that may behave differently under the changes: changed rules,
/// exceptions and their parents, rules that read a changed parameter or definition, and the
/// rules whose target clock changed.
pub fn affected_rules(policy: &Policy, changes: &PolicyChanges) -> Vec<RuleId> {
    let mut out: Vec<RuleId> = Vec::new();
    for (i, _) in policy.rules.iter().enumerate() {
        let i = i as RuleId;
        if !reasons(policy, i, changes).is_empty() {
            out.push(i);
        }
    }
    // A changed exception changes what its parent does.
    let mut k = 0;
    while k < out.len() {
        if let Some(RuleKind::Exception { parent }) =
            policy.rules.get(out[k] as usize).map(|r| &r.kind)
        {
            if !out.contains(parent) {
                out.push(*parent);
            }
        }
        k += 1;
    }
    out
}

/// A short text of an event for reports: `offer_declined { appointment: first, offered_date:
/// 2025-02-03 }`, fields left at their defaults (or unset) omitted.
pub fn event_text(schema: &Schema, e: &Event) -> String {
    let Some(def) = schema.events.get(e.kind as usize) else {
        return format!("event #{}", e.kind);
    };
    let fields: Vec<String> = def
        .fields
        .iter()
        .zip(e.fields.iter())
        .filter(|(f, v)| v.is_set() && f.default.as_ref() != Some(*v))
        .map(|(f, v)| format!("{}: {}", f.name, value_text(schema, v)))
        .collect();
    if fields.is_empty() {
        def.name.clone()
    } else {
        format!("{} {{ {} }}", def.name, fields.join(", "))
    }
}

/// A value as PAL source writes it (strings quoted).
pub fn value_text(schema: &Schema, v: &crate::base::value::Value) -> String {
    match v {
        crate::base::value::Value::Str(s) => format!("{:?}", s.as_ref()),
        other => schema.display_value(other),
    }
}

/// Why events read with one policy's schema cannot be given to the other: the first
/// difference between the two schemas (enums, attributes, event types, fields, same-day
/// order), or `None` if they read events the same way.
pub fn schema_difference(old: &Schema, new: &Schema) -> Option<String> {
    let fields = |a: &[crate::model::schema::FieldDef], b: &[crate::model::schema::FieldDef]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.name == y.name
                    && x.ty == y.ty
                    && x.optional == y.optional
                    && x.default == y.default
            })
    };
    if old.enums.len() != new.enums.len() {
        return Some("they declare different enums".into());
    }
    for (a, b) in old.enums.iter().zip(&new.enums) {
        if a.name != b.name || a.variants != b.variants {
            return Some(format!("enum `{}` differs", b.name));
        }
    }
    if !fields(&old.attributes, &new.attributes) {
        return Some("the pathway attributes differ".into());
    }
    if old.events.len() != new.events.len() {
        return Some("they declare different event types".into());
    }
    for (a, b) in old.events.iter().zip(&new.events) {
        if a.name != b.name || !fields(&a.fields, &b.fields) || a.sets_attribute != b.sets_attribute
        {
            return Some(format!("event type `{}` differs", b.name));
        }
    }
    if old.same_day != new.same_day {
        return Some("the same-day order differs".into());
    }
    None
}
