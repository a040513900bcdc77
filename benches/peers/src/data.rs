//! The pathways as every peer engine sees them: one neutral form, converted from PAL's typed
//! events once, before anything is timed, and from which each engine's own input values are
//! built (also before timing).
//!
//! * Events are in PAL's order (date, then input order), numbered from 0.
//! * Dates are whole days since 1970-01-01, so `d + 3 weeks` is `d + 21` in every engine; each
//!   event also carries its date as a `yyyymmdd` number (`ymd`), and each Date attribute its
//!   `<name>_ymd`, for the age test (`age(birth, on) < n` ⇔ `ymd(on) − ymd(birth) < n × 10000`,
//!   which is PAL's `age` including 29 February birthdays).
//! * Enum values are their variant names; absent optional fields are left out.
//! * Pathway attributes ride on `referral_received`. PAL updates them as it applies the events;
//!   here the harness resolves which values are in force at each event (the attributes of the
//!   latest referral so far, schema defaults before the first) and gives each event the index of
//!   its attribute snapshot. Most pathways have a single snapshot.

use crate::checks::PARAMS;
use chrono::{Datelike, NaiveDate};
use pal_engine::io::events::PathwayEvents;
use pal_engine::model::ir::{ParamDef, Policy};
use pal_engine::model::schema::Schema;
use pal_engine::base::value::{DurationKind, Value};
use std::sync::Arc;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum F {
    /// A Bool.
    Bool(bool),
    /// An Int, or a date as days since 1970-01-01, or a duration in days.
    Int(i64),
    /// A String, or an enum variant's name.
    Str(Arc<str>),
}

/// Named field values.
pub type Fields = Vec<(Arc<str>, F)>;

/// One event.
#[derive(Debug, Clone)]
pub struct Ev {
    /// Its type's id in the policy's schema.
    pub kind: usize,
    /// Its type's name.
    pub event: Arc<str>,
    /// Its date (days since 1970-01-01).
    pub date: i64,
    /// Its date as yyyymmdd.
    pub ymd: i64,
    /// The index of the attribute snapshot in force at this event.
    pub attrs: usize,
    /// Its set fields.
    pub fields: Fields,
}

impl Ev {
    /// A field, if set.
    pub fn get(&self, name: &str) -> Option<&F> {
        self.fields
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v)
    }

    /// A string or enum field equals `v`.
    pub fn is(&self, name: &str, v: &str) -> bool {
        matches!(self.get(name), Some(F::Str(s)) if s.as_ref() == v)
    }

    /// An Int or Date field.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(F::Int(i)) => Some(*i),
            _ => None,
        }
    }
}

/// One pathway.
#[derive(Debug, Clone)]
pub struct Pw {
    /// Attribute snapshots.
    pub attrs: Vec<Fields>,
    /// Events in order.
    pub events: Vec<Ev>,
}

/// The parameters the checks read.
pub type Params = Vec<(&'static str, F)>;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

/// yyyymmdd.
pub fn ymd(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// A PAL value as a neutral field value (`None` when unset).
fn convert(v: &Value, schema: &Schema) -> Result<Option<F>, String> {
    Ok(Some(match v {
        Value::Unset => return Ok(None),
        Value::Bool(b) => F::Bool(*b),
        Value::Int(i) => F::Int(*i),
        Value::Date(d) => F::Int(day_number(*d)),
        Value::Duration(d) if d.kind == DurationKind::Days => F::Int(d.amount),
        Value::Duration(d) => {
            return Err(format!(
                "a duration of {d} cannot be given to the peers in days"
            ))
        }
        Value::Str(s) => F::Str(s.clone()),
        Value::List(_) => return Err("a list value cannot be given to the peers".to_string()),
        Value::Enum(e, i) => F::Str(
            schema
                .enums
                .get(*e as usize)
                .and_then(|en| en.variants.get(*i as usize))
                .ok_or_else(|| format!("enum value {e}/{i} is not in the schema"))?
                .as_str()
                .into(),
        ),
    }))
}

/// The parameters of [`PARAMS`] with the values in force (`Evaluator::params`: the policy's,
/// or a test's overrides); durations must be whole days and no parameter may change with the
/// date.
pub fn params(values: &[ParamDef], schema: &Schema) -> Result<Params, String> {
    let mut out = Vec::new();
    for name in PARAMS {
        let def = values
            .iter()
            .find(|p| p.name == *name)
            .ok_or_else(|| format!("the policy has no parameter `{name}`"))?;
        if !def.dated.is_empty() {
            return Err(format!(
                "parameter `{name}` changes with the date; the peers take constant parameters"
            ));
        }
        let v = convert(&def.initial, schema)?
            .ok_or_else(|| format!("parameter `{name}` has no value"))?;
        out.push((*name, v));
    }
    Ok(out)
}

/// Converts one pathway (events already sorted and filtered to the as-at date by the reader)
/// whose attributes start as the schema's defaults overridden by `initial` (a test's
/// `pathway { … }`).
pub fn pathway(p: &PathwayEvents, policy: &Policy, initial: &[(u16, Value)]) -> Result<Pw, String> {
    let schema = &policy.schema;
    let mut current: Vec<Value> = schema
        .attributes
        .iter()
        .map(|a| a.default.clone().unwrap_or(Value::Unset))
        .collect();
    for (slot, v) in initial {
        if let Some(a) = current.get_mut(*slot as usize) {
            *a = v.clone();
        }
    }
    let snapshot = |attrs: &[Value]| -> Result<Fields, String> {
        let mut out = Vec::new();
        for (def, v) in schema.attributes.iter().zip(attrs) {
            if let Some(f) = convert(v, schema)? {
                out.push((Arc::from(def.name.as_str()), f));
            }
            if let Value::Date(d) = v {
                out.push((Arc::from(format!("{}_ymd", def.name)), F::Int(ymd(*d))));
            }
        }
        Ok(out)
    };
    let mut attrs = vec![snapshot(&current)?];
    let mut events = Vec::with_capacity(p.events.len());
    for e in &p.events {
        let def = schema
            .events
            .get(e.kind as usize)
            .ok_or_else(|| format!("event type {} is not in the schema", e.kind))?;
        let mut changed = false;
        for (f, slot) in def.sets_attribute.iter().enumerate() {
            if let (Some(slot), Some(v)) = (slot, e.fields.get(f)) {
                if v.is_set() {
                    if let Some(a) = current.get_mut(*slot as usize) {
                        if a != v {
                            *a = v.clone();
                            changed = true;
                        }
                    }
                }
            }
        }
        if changed {
            attrs.push(snapshot(&current)?);
        }
        let mut fields = Vec::with_capacity(def.fields.len());
        for (fd, v) in def.fields.iter().zip(e.fields.iter()) {
            if let Some(f) = convert(v, schema)? {
                fields.push((Arc::from(fd.name.as_str()), f));
            }
        }
        events.push(Ev {
            kind: e.kind as usize,
            event: Arc::from(def.name.as_str()),
            date: day_number(e.date),
            ymd: ymd(e.date),
            attrs: attrs.len() - 1,
            fields,
        });
    }
    Ok(Pw { attrs, events })
}

/// A neutral value as JSON (for the Rego input).
pub fn json_of(f: &F) -> serde_json::Value {
    match f {
        F::Bool(b) => serde_json::Value::Bool(*b),
        F::Int(i) => serde_json::Value::from(*i),
        F::Str(s) => serde_json::Value::String(s.to_string()),
    }
}

/// Named fields as a JSON object.
pub fn json_object(fields: &Fields) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), json_of(v)))
        .collect()
}
