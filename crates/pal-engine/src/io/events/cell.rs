//! Cell text → typed values: what a field's type accepts from input (`docs/events.md`).

use crate::base::suggest::did_you_mean;
use crate::base::text::excerpt;
use crate::base::value::{parse_bool, parse_date, Duration, DurationKind, Value, ValueType};
use crate::model::schema::{FieldDef, Schema};

/// Parses a cell's text as a value of `field`.
pub(super) fn parse_value(text: &str, field: &FieldDef, schema: &Schema) -> Result<Value, String> {
    let t = text.trim();
    let name = &field.name;
    let shown = || excerpt(t);
    match &field.ty {
        ValueType::Bool => parse_bool(t).map(Value::Bool).ok_or_else(|| {
            format!(
                "field `{name}`: `{}` is not true/false (or Y/N, yes/no, 1/0)",
                shown()
            )
        }),
        ValueType::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("field `{name}`: `{}` is not a whole number", shown())),
        ValueType::Date => parse_date(t).map(Value::Date).ok_or_else(|| {
            format!(
                "field `{name}`: `{}` is not a date (expected YYYY-MM-DD)",
                shown()
            )
        }),
        ValueType::String => Ok(Value::Str(t.into())),
        ValueType::Duration(_) => parse_duration(t).map(Value::Duration).ok_or_else(|| {
            format!(
                "field `{name}`: `{}` is not a duration such as `3 weeks`",
                shown()
            )
        }),
        ValueType::Enum(e) => {
            let en = schema.enum_def(*e);
            match en.variants.iter().position(|v| v == t) {
                Some(i) => Ok(Value::Enum(*e, i as u32)),
                None => {
                    let hint = did_you_mean(t, en.variants.iter().map(String::as_str))
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    Err(format!(
                        "field `{name}`: `{}` is not one of {}{hint}",
                        shown(),
                        en.variants.join(", ")
                    ))
                }
            }
        }
        // The checker allows lists only as parameters, never as event fields.
        ValueType::List(_) => Err(format!("field `{name}`: a list cannot be read from input")),
    }
}

pub(super) fn parse_duration(t: &str) -> Option<Duration> {
    let mut parts = t.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit: Vec<&str> = parts.collect();
    let (kind, factor) = match unit.join(" ").as_str() {
        "day" | "days" => (DurationKind::Days, 1),
        "week" | "weeks" => (DurationKind::Days, 7),
        "month" | "months" => (DurationKind::Months, 1),
        "year" | "years" => (DurationKind::Months, 12),
        "working day" | "working days" => (DurationKind::WorkingDays, 1),
        _ => return None,
    };
    Some(Duration {
        kind,
        amount: n.checked_mul(factor)?,
    })
}
