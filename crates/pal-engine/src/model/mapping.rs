//! An input mapping, checked: how a trust's own extract (its column names, local codes and
//! date formats) gives PAL's events. Declared in the language (`mapping NAME { … }`), checked
//! against the schema by the checker, applied by the readers when they resolve a header.

use crate::base::value::Value;
use crate::model::schema::EventTypeId;
use chrono::NaiveDate;

/// A checked `mapping` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct InputMapping {
    /// The mapping's name.
    pub name: String,
    /// The column holding the pathway id.
    pub pathway_id: Column,
    /// The column holding each row's date, and how it is written.
    pub date: DateColumn,
    /// The column holding the event type, and the local codes that name event types.
    pub event: EventColumn,
    /// Columns giving event fields (and pathway attributes), in declaration order.
    pub fields: Vec<FieldColumn>,
}

impl InputMapping {
    /// Every column the mapping reads, once each, in declaration order.
    pub fn columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let all = [&self.pathway_id, &self.date.column, &self.event.column]
            .into_iter()
            .chain(self.fields.iter().map(|f| &f.column));
        for c in all {
            if !out.contains(&c.name) {
                out.push(c.name.clone());
            }
        }
        out
    }
}

/// A source column named by a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name in the extract, exactly as written in its header.
    pub name: String,
    /// Where the mapping names it (`file:line`), for messages about the extract.
    pub origin: String,
}

/// The date column.
#[derive(Debug, Clone, PartialEq)]
pub struct DateColumn {
    /// The column.
    pub column: Column,
    /// The formats tried in order (empty: PAL's own `YYYY-MM-DD`).
    pub formats: Vec<DateFormat>,
}

/// The event column.
#[derive(Debug, Clone, PartialEq)]
pub struct EventColumn {
    /// The column.
    pub column: Column,
    /// Local code → event type; `None`: the column holds PAL's event type names.
    pub codes: Option<Vec<(String, EventTypeId)>>,
}

/// A column giving one field, by name, of every event type that declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldColumn {
    /// The field's name.
    pub field: String,
    /// The column.
    pub column: Column,
    /// Date formats, for a Date field (empty: `YYYY-MM-DD`).
    pub formats: Vec<DateFormat>,
    /// Local code → value of the field's type; `None`: the cell is read as PAL reads it.
    pub values: Option<Vec<(String, Value)>>,
}

/// One piece of a date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `YYYY`: a four-digit year.
    Year,
    /// `MM`: a two-digit month; `M`: one or two digits.
    Month { exact: bool },
    /// `DD`: a two-digit day; `D`: one or two digits.
    Day { exact: bool },
    /// `hh` (or `HH`): two-digit hours.
    Hour,
    /// `mm`: two-digit minutes.
    Minute,
    /// `ss`: two-digit seconds.
    Second,
    /// `fff`: a fraction of a second, one or more digits.
    Fraction,
    /// Any other character, written as is.
    Literal(char),
}

/// A date format a PAS writes, e.g. `DD/MM/YYYY`, `YYYY-MM-DD hh:mm:ss` or
/// `DD/MM/YYYY hh:mm`. A time part is checked (hours 0–23, minutes and seconds 0–59) and then
/// ignored: PAL's events are dated, not timed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    /// The pattern as written.
    pub pattern: String,
    tokens: Vec<Token>,
}

impl DateFormat {
    /// Parses a pattern. Tokens: `YYYY`, `MM`/`M`, `DD`/`D`, `hh`/`HH`, `mm`, `ss`, `fff`; any
    /// other character that is not a letter stands for itself. A pattern needs a year, a
    /// month and a day, each once.
    pub fn parse(pattern: &str) -> Result<DateFormat, String> {
        let mut tokens = Vec::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            let (token, len) = if rest.starts_with("YYYY") {
                (Token::Year, 4)
            } else if rest.starts_with("MM") {
                (Token::Month { exact: true }, 2)
            } else if rest.starts_with('M') {
                (Token::Month { exact: false }, 1)
            } else if rest.starts_with("DD") {
                (Token::Day { exact: true }, 2)
            } else if rest.starts_with('D') {
                (Token::Day { exact: false }, 1)
            } else if rest.starts_with("hh") || rest.starts_with("HH") {
                (Token::Hour, 2)
            } else if rest.starts_with("mm") {
                (Token::Minute, 2)
            } else if rest.starts_with("ss") {
                (Token::Second, 2)
            } else if rest.starts_with("fff") {
                let n = rest.chars().take_while(|c| *c == 'f').count();
                (Token::Fraction, n)
            } else if c.is_alphabetic() && c != 'T' {
                return Err(format!(
                    "`{c}` is not part of a date format: use YYYY, MM, DD, hh, mm, ss (e.g. `DD/MM/YYYY` or `YYYY-MM-DD hh:mm:ss`)"
                ));
            } else {
                (Token::Literal(c), c.len_utf8())
            };
            tokens.push(token);
            rest = &rest[len..];
        }
        let count = |f: fn(&Token) -> bool| tokens.iter().filter(|t| f(t)).count();
        let years = count(|t| matches!(t, Token::Year));
        let months = count(|t| matches!(t, Token::Month { .. }));
        let days = count(|t| matches!(t, Token::Day { .. }));
        if years != 1 || months != 1 || days != 1 {
            return Err(
                "a date format needs a year (`YYYY`), a month (`MM`) and a day (`DD`), each once"
                    .into(),
            );
        }
        for (t, name) in [
            (Token::Hour, "hh"),
            (Token::Minute, "mm"),
            (Token::Second, "ss"),
            (Token::Fraction, "fff"),
        ] {
            if tokens.iter().filter(|x| **x == t).count() > 1 {
                return Err(format!("`{name}` appears twice in the date format"));
            }
        }
        Ok(DateFormat {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    /// Reads `text` (already trimmed) in this format: the date, or `None` if it does not fit.
    pub fn read(&self, text: &str) -> Option<NaiveDate> {
        let b = text.as_bytes();
        let mut at = 0;
        let (mut year, mut month, mut day) = (0i32, 0u32, 0u32);
        // Digits at `at`: exactly `min` of them when `max == min`, else `min..=max`.
        let digits = |at: &mut usize, min: usize, max: usize| -> Option<u32> {
            let n = b[*at..]
                .iter()
                .take(max)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n < min {
                return None;
            }
            let v = std::str::from_utf8(&b[*at..*at + n]).ok()?.parse().ok()?;
            *at += n;
            Some(v)
        };
        for t in &self.tokens {
            match *t {
                Token::Year => year = i32::try_from(digits(&mut at, 4, 4)?).ok()?,
                Token::Month { exact } => month = digits(&mut at, if exact { 2 } else { 1 }, 2)?,
                Token::Day { exact } => day = digits(&mut at, if exact { 2 } else { 1 }, 2)?,
                Token::Hour => (digits(&mut at, 2, 2)? < 24).then_some(())?,
                Token::Minute | Token::Second => (digits(&mut at, 2, 2)? < 60).then_some(())?,
                Token::Fraction => {
                    digits(&mut at, 1, 9)?;
                }
                Token::Literal(c) => {
                    let mut buf = [0u8; 4];
                    let s = c.encode_utf8(&mut buf).as_bytes();
                    if !b[at..].starts_with(s) {
                        return None;
                    }
                    at += s.len();
                }
            }
        }
        if at != b.len() {
            return None;
        }
        NaiveDate::from_ymd_opt(year, month, day)
    }
}

/// Reads a date in the first of `formats` it fits (none: `YYYY-MM-DD`).
pub fn read_date(text: &str, formats: &[DateFormat]) -> Option<NaiveDate> {
    if formats.is_empty() {
        return crate::base::value::parse_date(text);
    }
    formats.iter().find_map(|f| f.read(text))
}

/// How a list of formats is shown in a message: `DD/MM/YYYY or DD/MM/YYYY hh:mm`.
pub fn formats_text(formats: &[DateFormat]) -> String {
    if formats.is_empty() {
        return "YYYY-MM-DD".into();
    }
    formats
        .iter()
        .map(|f| f.pattern.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn formats_a_pas_writes() {
        let cases: &[(&str, &str, Option<NaiveDate>)] = &[
            ("YYYY-MM-DD", "2025-03-01", d(2025, 3, 1)),
            ("DD/MM/YYYY", "01/03/2025", d(2025, 3, 1)),
            ("DD/MM/YYYY", "1/3/2025", None),
            ("D/M/YYYY", "1/3/2025", d(2025, 3, 1)),
            ("D/M/YYYY", "01/03/2025", d(2025, 3, 1)),
            ("DD/MM/YYYY", "31/02/2025", None),
            ("DD/MM/YYYY", "29/02/2024", d(2024, 2, 29)),
            ("DD/MM/YYYY", "29/02/2023", None),
            ("DD/MM/YYYY", "01/03/2025 09:30", None),
            ("DD/MM/YYYY hh:mm", "01/03/2025 09:30", d(2025, 3, 1)),
            ("DD/MM/YYYY hh:mm", "01/03/2025 24:00", None),
            ("YYYY-MM-DD hh:mm:ss", "2025-03-01 09:30:00", d(2025, 3, 1)),
            ("YYYY-MM-DD hh:mm:ss", "2025-03-01 09:60:00", None),
            (
                "YYYY-MM-DD hh:mm:ss.fff",
                "2025-03-01 00:00:00.000",
                d(2025, 3, 1),
            ),
            ("YYYY-MM-DDThh:mm:ss", "2025-03-01T23:59:59", d(2025, 3, 1)),
            ("YYYYMMDD", "20250301", d(2025, 3, 1)),
            ("YYYYMMDD", "2025031", None),
            ("DD/MM/YYYY", "01/03/25", None),
            ("DD/MM/YYYY", "01-03-2025", None),
            ("DD.MM.YYYY", "01.03.2025", d(2025, 3, 1)),
        ];
        for (pattern, text, want) in cases {
            let f = DateFormat::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(f.read(text), *want, "{pattern} reading {text}");
        }
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "DD/MM",
            "YYYY-MM-DD-DD",
            "dd/mm/yyyy",
            "YY-MM-DD",
            "DD/MM/YYYY hh:hh",
        ] {
            assert!(DateFormat::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_list_of_formats_takes_the_first_that_fits() {
        let fs: Vec<DateFormat> = ["DD/MM/YYYY hh:mm", "DD/MM/YYYY"]
            .iter()
            .filter_map(|p| DateFormat::parse(p).ok())
            .collect();
        assert_eq!(read_date("01/03/2025", &fs), d(2025, 3, 1));
        assert_eq!(read_date("01/03/2025 10:15", &fs), d(2025, 3, 1));
        assert_eq!(read_date("2025-03-01", &fs), None);
        assert_eq!(read_date("2025-03-01", &[]), d(2025, 3, 1));
        assert_eq!(formats_text(&fs), "DD/MM/YYYY hh:mm or DD/MM/YYYY");
    }
}
