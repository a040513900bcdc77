//! Runtime values and their types, shared by the event readers, the checker and the evaluator.

use chrono::NaiveDate;
use std::fmt;
use std::sync::Arc;

/// Index of an enum in a [`crate::schema::Schema`].
pub type EnumId = u32;

/// What a duration counts. Days and weeks are interchangeable (a week is 7 days); calendar months
/// and working days are not a fixed number of days, so they are kinds of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DurationKind {
    /// Calendar days (weeks are stored as 7 days).
    Days,
    /// Calendar months (years are stored as 12 months).
    Months,
    /// Working days: Monday to Friday, except bank holidays of the policy's calendar.
    WorkingDays,
}

impl DurationKind {
    /// The unit word used in messages (`days`, `months`, `working days`).
    pub fn noun(self) -> &'static str {
        match self {
            DurationKind::Days => "days",
            DurationKind::Months => "months",
            DurationKind::WorkingDays => "working days",
        }
    }
}

/// A length of time such as `3 weeks` (21 days), `6 months` or `5 working days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    /// What is counted.
    pub kind: DurationKind,
    /// How many (may be negative after subtraction).
    pub amount: i64,
}

impl Duration {
    /// `n` calendar days.
    pub fn days(n: i64) -> Duration {
        Duration {
            kind: DurationKind::Days,
            amount: n,
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = match self.kind {
            DurationKind::Days if self.amount != 0 && self.amount % 7 == 0 => {
                (self.amount / 7, "week")
            }
            DurationKind::Days => (self.amount, "day"),
            DurationKind::Months if self.amount != 0 && self.amount % 12 == 0 => {
                (self.amount / 12, "year")
            }
            DurationKind::Months => (self.amount, "month"),
            DurationKind::WorkingDays => (self.amount, "working day"),
        };
        let plural = if n == 1 || n == -1 { "" } else { "s" };
        write!(f, "{n} {unit}{plural}")
    }
}

/// The type of a field, parameter or expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Int,
    /// A calendar date.
    Date,
    /// A duration of the given kind.
    Duration(DurationKind),
    /// Text.
    String,
    /// A value of a declared enum.
    Enum(EnumId),
}

/// A value of a field, parameter or expression. `Unset` is an absent optional.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An optional field with no value.
    Unset,
    /// A truth value.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A date.
    Date(NaiveDate),
    /// A duration.
    Duration(Duration),
    /// Text.
    Str(Arc<str>),
    /// Enum `.0`, variant index `.1`.
    Enum(EnumId, u32),
}

impl Value {
    /// True unless `Unset`.
    pub fn is_set(&self) -> bool {
        !matches!(self, Value::Unset)
    }
}

/// Parses a `YYYY-MM-DD` date strictly (four-digit year, two-digit month and day).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Parses a Bool as the event contract allows: `true`/`false`, `Y`/`N`, `yes`/`no`, `1`/`0`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "y" | "yes" | "1" => Some(true),
        "false" | "n" | "no" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_display_in_their_natural_unit() {
        assert_eq!(Duration::days(21).to_string(), "3 weeks");
        assert_eq!(Duration::days(1).to_string(), "1 day");
        let m = Duration {
            kind: DurationKind::Months,
            amount: 24,
        };
        assert_eq!(m.to_string(), "2 years");
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2025-01-06").is_some());
        assert!(parse_date("2025-1-6").is_none());
        assert!(parse_date("2025-02-30").is_none());
        assert!(parse_date("06/01/2025").is_none());
    }

    #[test]
    fn bools_accept_the_contract_spellings() {
        for t in ["true", "Y", "yes", "1", "TRUE"] {
            assert_eq!(parse_bool(t), Some(true));
        }
        for f in ["false", "n", "No", "0"] {
            assert_eq!(parse_bool(f), Some(false));
        }
        assert_eq!(parse_bool("maybe"), None);
    }
}
