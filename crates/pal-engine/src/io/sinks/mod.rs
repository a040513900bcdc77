//! Sinks beyond text files: Parquet files and PostgreSQL tables. Both take the CSV text PAL
//! already writes (the results' and the PTL's serializers and column lists), so a column added
//! to either flows through without a change here; [`ColumnType`] says how each column is
//! stored.

pub mod parquet;
pub mod postgres;

use crate::base::value::{parse_bool, parse_date};

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// A whole number (64-bit).
    Int,
    /// A date.
    Date,
    /// `true` / `false`.
    Bool,
}

impl ColumnType {
    /// The type of a column of PAL's results or PTL, by name; a column not listed here (a new
    /// one) is text until it is.
    pub fn of_output_column(name: &str) -> ColumnType {
        match name {
            // Results.
            "as_at" | "start" | "stop" | "target_date" => ColumnType::Date,
            "period" | "days_waited" | "weeks_waited" | "paused_days" | "target_days" => {
                ColumnType::Int
            }
            "breached" => ColumnType::Bool,
            // The PTL (docs/ptl.md); its attribute columns are text.
            "clock_start" | "breach_date" | "week_52_date" | "next_appointment"
            | "next_action_due" => ColumnType::Date,
            "dnas" | "patient_cancellations" | "hospital_cancellations" => ColumnType::Int,
            _ => ColumnType::Text,
        }
    }

    /// The narrowest type that holds every value exactly as written (empty values are
    /// missing): a date only if every value is `YYYY-MM-DD`, a number only if every value is
    /// a whole number written without leading zeros or `+`, a boolean only if every value is
    /// `true` or `false`. So text read back from the stored column is the text written.
    pub fn infer<'a>(values: impl IntoIterator<Item = &'a str>) -> ColumnType {
        let (mut date, mut int, mut boolean, mut any) = (true, true, true, false);
        for v in values {
            if v.is_empty() {
                continue;
            }
            any = true;
            date = date && parse_date(v).is_some();
            int = int && v.parse::<i64>().is_ok_and(|n| n.to_string() == v);
            boolean = boolean && (v == "true" || v == "false");
            if !(date || int || boolean) {
                return ColumnType::Text;
            }
        }
        match (any, date, int, boolean) {
            (false, ..) => ColumnType::Text,
            (_, true, _, _) => ColumnType::Date,
            (_, _, true, _) => ColumnType::Int,
            (_, _, _, true) => ColumnType::Bool,
            _ => ColumnType::Text,
        }
    }

    /// Whether `text` (non-empty) is a value of this type.
    pub fn holds(self, text: &str) -> bool {
        match self {
            ColumnType::Text => true,
            ColumnType::Int => text.parse::<i64>().is_ok(),
            ColumnType::Date => parse_date(text).is_some(),
            ColumnType::Bool => parse_bool(text).is_some(),
        }
    }

    /// The PostgreSQL type of the column.
    pub fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Int => "bigint",
            ColumnType::Date => "date",
            ColumnType::Bool => "boolean",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ColumnType;

    #[test]
    fn inference_keeps_the_text_exactly() {
        let cases: &[(&[&str], ColumnType)] = &[
            (&["2024-01-31", "", "2023-12-01"], ColumnType::Date),
            (&["12", "-3", ""], ColumnType::Int),
            (&["007", "12"], ColumnType::Text),
            (&["+1"], ColumnType::Text),
            (&["true", "false"], ColumnType::Bool),
            (&["Y", "N"], ColumnType::Text),
            (&["2024-1-31"], ColumnType::Text),
            (&["2024-02-30"], ColumnType::Text),
            (&["", ""], ColumnType::Text),
            (&["1", "true"], ColumnType::Text),
        ];
        for (values, want) in cases {
            assert_eq!(
                ColumnType::infer(values.iter().copied()),
                *want,
                "{values:?}"
            );
        }
    }

    #[test]
    fn every_results_column_has_a_type() {
        let typed: Vec<_> = crate::io::report::CSV_HEADER
            .iter()
            .map(|c| (*c, ColumnType::of_output_column(c)))
            .collect();
        assert!(typed.contains(&("start", ColumnType::Date)));
        assert!(typed.contains(&("days_waited", ColumnType::Int)));
        assert!(typed.contains(&("breached", ColumnType::Bool)));
        assert!(typed.contains(&("reason", ColumnType::Text)));
    }
}
