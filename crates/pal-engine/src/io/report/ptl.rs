//! The patient tracking list: every open pathway on the tracked clock, longest wait first.

use crate::runtime::eval::{ObligationStatus, PathwayResult, PeriodStatus};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Write};
use std::sync::OnceLock;

/// One PTL row. Kept small (dates as dates, fixed texts borrowed): a national list holds
/// millions of them until it is sorted.
#[derive(Debug, Clone, Serialize)]
pub struct PtlRow {
    /// Pathway id (written [`spreadsheet_safe`](super::spreadsheet_safe), as the texts below).
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub pathway_id: String,
    /// The clock tracked (`rtt`).
    pub clock: String,
    /// `running` or `paused`.
    pub status: PeriodStatus,
    /// Clock start.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub start: NaiveDate,
    /// Days waited at the as-at date.
    pub days_waited: i64,
    /// Completed weeks waited.
    pub weeks_waited: i64,
    /// The reporting band (`>17-18`, `>104`).
    pub week_band: &'static str,
    /// The last day within the standard.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub target_date: NaiveDate,
    /// Over the standard.
    pub breached: bool,
    /// The earliest open obligation: what and due date.
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub next_obligation: String,
    /// Its due date.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub next_due: Option<NaiveDate>,
    /// Referral priority, if known.
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub priority: String,
    /// Specialty, if known.
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub specialty: String,
}

/// The reporting band of a wait as an index 0..=104: band `k = max(1, ceil(days / 7))` is
/// index `k - 1`, and every wait past 104 weeks is index 104 (`>104`).
pub fn week_band_index(days: i64) -> usize {
    (crate::model::calendar::weeks_band(days).clamp(1, 105) - 1) as usize
}

/// The label of a reporting band index: `>17-18`, or `>104` for the last.
pub fn week_band_label_at(index: usize) -> &'static str {
    static LABELS: OnceLock<Vec<String>> = OnceLock::new();
    let labels = LABELS.get_or_init(|| {
        (0..105)
            .map(|i| {
                if i == 104 {
                    ">104".to_string()
                } else {
                    format!(">{}-{}", i, i + 1)
                }
            })
            .collect()
    });
    labels.get(index).map_or(">104", String::as_str)
}

/// The reporting band of a wait: "> k−1 to k weeks", `k = max(1, ceil(days / 7))`; `>104` past
/// 104 weeks.
pub fn week_band_label(days: i64) -> &'static str {
    week_band_label_at(week_band_index(days))
}

/// The PTL row of one pathway: its latest open period of `clock`, if any.
pub fn row(r: &PathwayResult, clock: &str) -> Option<PtlRow> {
    let p = r
        .clocks
        .iter()
        .rev()
        .find(|p| p.clock == clock && p.status.is_open())?;
    let days = p.days_waited.unwrap_or(0);
    let next = r
        .obligations
        .iter()
        .filter(|o| o.status == ObligationStatus::Open)
        .min_by_key(|o| o.due);
    Some(PtlRow {
        pathway_id: r.pathway_id.clone(),
        clock: p.clock.clone(),
        status: p.status,
        start: p.start,
        days_waited: days,
        weeks_waited: days.div_euclid(7),
        week_band: week_band_label(days),
        target_date: p.target_date,
        breached: p.breached,
        next_obligation: next.map(|o| o.what.clone()).unwrap_or_default(),
        next_due: next.map(|o| o.due),
        priority: r.attributes.get("priority").cloned().unwrap_or_default(),
        specialty: r.attributes.get("specialty").cloned().unwrap_or_default(),
    })
}

/// Puts PTL rows in list order: longest wait first, then pathway id.
pub fn sort(rows: &mut [PtlRow]) {
    rows.par_sort_by(|a, b| {
        b.days_waited
            .cmp(&a.days_waited)
            .then_with(|| a.pathway_id.cmp(&b.pathway_id))
    });
}

/// The PTL of `clock` over the results, sorted by days waited (longest first), then id.
pub fn build(results: &[PathwayResult], clock: &str) -> Vec<PtlRow> {
    let mut rows: Vec<PtlRow> = results.iter().filter_map(|r| row(r, clock)).collect();
    sort(&mut rows);
    rows
}

/// Writes the PTL as CSV.
pub fn write_csv(rows: &[PtlRow], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for r in rows {
        w.serialize(r).map_err(io::Error::other)?;
    }
    if rows.is_empty() {
        w.write_record([
            "pathway_id",
            "clock",
            "status",
            "start",
            "days_waited",
            "weeks_waited",
            "week_band",
            "target_date",
            "breached",
            "next_obligation",
            "next_due",
            "priority",
            "specialty",
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::week_band_label;

    #[test]
    fn bands_follow_the_reporting_convention() {
        assert_eq!(week_band_label(0), ">0-1");
        assert_eq!(week_band_label(7), ">0-1");
        assert_eq!(week_band_label(8), ">1-2");
        assert_eq!(week_band_label(126), ">17-18");
        assert_eq!(week_band_label(127), ">18-19");
        assert_eq!(week_band_label(728), ">103-104");
        assert_eq!(week_band_label(729), ">104");
    }
}
