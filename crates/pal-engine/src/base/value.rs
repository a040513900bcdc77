//! Runtime values and their types, shared by the event readers, the checker and the evaluator.

use chrono::NaiveDate;
use std::fmt;
use std::sync::Arc;

/// Index of an enum in a [`crate::model::schema::Schema`].
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
    /// A list of values of one type (parameters only: `[specialty]`).
    List(Box<ValueType>),
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
    /// A list (a list parameter's value).
    List(Arc<[Value]>),
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
    // By hand: this runs for every date cell of an extract, and chrono's format parser is
    // several times slower.
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
}

/// The first date PAL writes: `0000-01-01`.
pub const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(0, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last date PAL writes: `9999-12-31`. Arithmetic may go further (a target date
/// 18 weeks after 9999-12-01); such dates are written as this one, the same saturation as a
/// duration too large for the calendar, so every date in every output is `YYYY-MM-DD`.
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Writes `d` as `YYYY-MM-DD` into a stack buffer, saturated to [`FIRST_DATE`]..=[`LAST_DATE`].
pub fn iso_date(d: NaiveDate) -> [u8; 10] {
    use chrono::Datelike;
    let d = d.clamp(FIRST_DATE, LAST_DATE);
    let year = u32::try_from(d.year()).unwrap_or(0);
    let mut b = *b"0000-00-00";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, d.month());
    put(8, 2, d.day());
    b
}

/// A date as `YYYY-MM-DD` text (what `Display` gives for years 0 to 9999, quicker); dates
/// outside those years are saturated ([`LAST_DATE`]), never written as `+10000-04-05`.
pub fn date_text(d: NaiveDate) -> String {
    String::from_utf8_lossy(&iso_date(d)).into_owned()
}

/// Serialises a date as `YYYY-MM-DD` (as chrono does, without its general formatter: results
/// hold many dates and this is on `pal run`'s output path), saturated as [`date_text`] is.
pub fn serialize_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(std::str::from_utf8(&iso_date(*d)).unwrap_or_default())
}

/// [`serialize_date`] for an optional date (`null` when absent).
pub fn serialize_opt_date<S: serde::Serializer>(
    d: &Option<NaiveDate>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize_date(d, s),
        None => s.serialize_none(),
    }
}

/// Parses a Bool as the event contract allows: `true`/`false`, `Y`/`N`, `yes`/`no`, `1`/`0`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    let is = |words: [&str; 4]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
    if is(["true", "y", "yes", "1"]) {
        Some(true)
    } else if is(["false", "n", "no", "0"]) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

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
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2025-13-01").is_none());
        assert!(parse_date("2025-00-10").is_none());
        assert!(parse_date("2025-01-00").is_none());
        assert!(parse_date("+025-01-06").is_none());
        assert!(parse_date("2025-01-0x").is_none());
        assert!(parse_date("0000-01-01").is_some());
    }

    #[test]
    fn dates_serialise_as_chrono_does_within_years_0_to_9999() {
        for d in [
            NaiveDate::from_ymd_opt(2025, 1, 6),
            NaiveDate::from_ymd_opt(1, 12, 31),
            NaiveDate::from_ymd_opt(0, 1, 1),
            NaiveDate::from_ymd_opt(9999, 12, 31),
        ]
        .into_iter()
        .flatten()
        {
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::new(&mut out);
            assert!(serialize_date(&d, &mut ser).is_ok());
            assert_eq!(String::from_utf8_lossy(&out), format!("\"{d}\""));
            assert_eq!(date_text(d), d.to_string());
        }
    }

    #[test]
    fn dates_past_9999_are_never_written_with_five_digits() {
        for (d, text) in [
            (NaiveDate::from_ymd_opt(10000, 4, 5), "9999-12-31"),
            (Some(NaiveDate::MAX), "9999-12-31"),
            (NaiveDate::from_ymd_opt(-1, 1, 1), "0000-01-01"),
            (Some(NaiveDate::MIN), "0000-01-01"),
        ] {
            let Some(d) = d else { continue };
            assert_eq!(date_text(d), text);
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::new(&mut out);
            assert!(serialize_date(&d, &mut ser).is_ok());
            assert_eq!(String::from_utf8_lossy(&out), format!("\"{text}\""));
        }
    }

    #[test]
    fn the_date_parser_agrees_with_chrono() {
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 25);
        while let Some(day) = d.filter(|d| d.year() < 2101) {
            let text = day.format("%Y-%m-%d").to_string();
            assert_eq!(parse_date(&text), Some(day), "{text}");
            d = day.succ_opt();
        }
        for text in [
            "2025-02-31",
            "2025-04-31",
            "1900-02-29",
            "2000-02-30",
            "2025-1a-01",
        ] {
            assert_eq!(
                parse_date(text),
                NaiveDate::parse_from_str(text, "%Y-%m-%d").ok(),
                "{text}"
            );
        }
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
