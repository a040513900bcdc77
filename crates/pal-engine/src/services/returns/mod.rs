//! What the performance team submits and the board reads, built from a batch run: the monthly
//! RTT return in NHS England's full-CSV layout ([`rtt`]), the cancer waiting-time standards of
//! a month ([`cancer`]), and the self-contained HTML report ([`html`]).
//!
//! Each runs the policy through [`crate::services::batch::run_visiting`] with the as-at date set
//! to the census (the last day of the month for the returns), and gathers its counts pathway by
//! pathway from each result and its events; nothing is kept per pathway but what the report
//! needs. The treatment-function grouping is data ([`groups`]), not code.

pub mod cancer;
pub mod groups;
pub mod html;
pub mod rtt;

use crate::io::events::Rejection;
use crate::services::batch::{self, Counts, Input, Sinks};
use chrono::{Datelike, NaiveDate};
use std::fmt;

/// A calendar month of a return (`--month 2025-03`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportMonth {
    /// The first day.
    pub first: NaiveDate,
    /// The last day: the census date of incomplete pathways.
    pub last: NaiveDate,
}

impl ReportMonth {
    /// The month holding `date`.
    pub fn of(date: NaiveDate) -> ReportMonth {
        ReportMonth {
            first: crate::model::calendar::month_start(date),
            last: crate::model::calendar::month_end(date),
        }
    }

    /// True if `date` falls in the month (first and last days included).
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    /// `YYYY-MM`.
    pub fn text(&self) -> String {
        format!("{:04}-{:02}", self.first.year(), self.first.month())
    }

    /// The RTT return's `Period` cell: `RTT-March-2025`.
    pub fn rtt_period(&self) -> String {
        format!("RTT-{}-{}", self.first.format("%B"), self.first.year())
    }
}

impl std::str::FromStr for ReportMonth {
    type Err = String;

    /// Parses `YYYY-MM`.
    fn from_str(s: &str) -> Result<ReportMonth, String> {
        let bad = || {
            format!(
                "`{}` is not a month: use YYYY-MM, e.g. 2025-03",
                crate::base::text::excerpt(s)
            )
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        Ok(ReportMonth::of(first))
    }
}

impl fmt::Display for ReportMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

/// What a report found wrong or worth checking, besides its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWarning {
    /// Which kind of warning.
    pub kind: WarningKind,
    /// What it says.
    pub message: String,
}

/// The kinds of [`ReportWarning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// A national submission check the return fails (e.g. Part 2A above Part 2).
    SubmissionCheck,
    /// Something in the input the figures depend on (a pathway with no treatment function, a
    /// clock the policy does not declare, a conflict left unresolved).
    Data,
}

impl fmt::Display for ReportWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            WarningKind::SubmissionCheck => write!(f, "submission check: {}", self.message),
            WarningKind::Data => f.write_str(&self.message),
        }
    }
}

/// How a report reads its extract.
pub struct Reading<'w> {
    /// Stop at the first rejected row.
    pub strict: bool,
    /// The input's rows are grouped by pathway: stream it.
    pub streaming: bool,
    /// Told of each rejected row, in input order.
    pub on_rejection: &'w mut dyn FnMut(&Rejection),
}

/// Runs `policy` over `input` as at `as_at`, handing every pathway to `visit`; gathers the PTL
/// of `ptl_clock` if asked. Results are not written.
pub(crate) fn run_gathering(
    policy: &crate::model::ir::Policy,
    input: Input,
    as_at: NaiveDate,
    reading: Reading,
    ptl_clock: Option<String>,
    visit: batch::OnPathway,
) -> Result<batch::Outcome, batch::Error> {
    let options = batch::Options {
        as_at,
        strict: reading.strict,
        trace: false,
        streaming: reading.streaming,
    };
    let sinks = Sinks {
        ptl_clock,
        ..Sinks::discard(reading.on_rejection)
    };
    batch::run_visiting(policy, input, &options, sinks, visit)
}

/// The row account of a report's run, for the front end to print.
pub type RowAccount = Counts;

#[cfg(test)]
mod tests {
    use super::ReportMonth;

    #[test]
    fn months_parse_and_print() {
        let m: ReportMonth = "2024-02".parse().expect("a month");
        assert_eq!(m.first.to_string(), "2024-02-01");
        assert_eq!(m.last.to_string(), "2024-02-29");
        assert_eq!(m.rtt_period(), "RTT-February-2024");
        assert_eq!(m.text(), "2024-02");
        for bad in ["2024-13", "2024-2", "24-02", "2024/02", "", "2024-02-01"] {
            assert!(bad.parse::<ReportMonth>().is_err(), "{bad}");
        }
    }
}
