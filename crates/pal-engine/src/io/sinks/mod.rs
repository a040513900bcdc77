//! Sinks beyond text files: Parquet files and PostgreSQL tables. Both take the CSV text PAL
//! already writes (the results' and the PTL's serializers and column lists), so a column added
//! to either flows through without a change here; [`ColumnType`] says how each column is
//! stored, as the one description of those columns says
//! ([`RESULT_COLUMNS`](crate::io::report::RESULT_COLUMNS),
//! [`PTL_TYPED_COLUMNS`](crate::io::report::ptl::PTL_TYPED_COLUMNS)).

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
    fn results_and_ptl_columns_have_their_types() {
        use crate::io::report::{self, ptl};
        let cases = [
            ("start", ColumnType::Date),
            ("days_waited", ColumnType::Int),
            ("breached", ColumnType::Bool),
            ("reason", ColumnType::Text),
            ("conflicts", ColumnType::Int),
            ("no_such_column", ColumnType::Text),
        ];
        for (name, want) in cases {
            assert_eq!(report::result_column_type(name), want, "{name}");
        }
        assert_eq!(report::CSV_HEADER.len(), report::RESULT_COLUMNS.len());
        assert_eq!(report::CSV_HEADER[5], "start");
        assert_eq!(ptl::PTL_COLUMNS[2], "clock_start");
        // An attribute column is text whatever its name.
        let attributes = ["breached".to_string()];
        assert_eq!(ptl::column_type(&attributes, "breached"), ColumnType::Text);
        assert_eq!(ptl::column_type(&[], "breached"), ColumnType::Bool);
        assert_eq!(
            ptl::column_type(&attributes, "clock_start"),
            ColumnType::Date
        );
        assert_eq!(ptl::column_type(&attributes, "dnas"), ColumnType::Int);
    }
}
