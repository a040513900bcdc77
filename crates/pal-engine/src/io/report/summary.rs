//! The waiting-time position at the as-at date: for each clock with a standard, how many
//! periods are within target against the standard. Clocks measured on incomplete pathways
//! (RTT) also get the weekly bands and the long-wait counts.

use crate::base::value::Value;
use crate::model::ir::{Policy, Standard};
use crate::runtime::eval::{PathwayResult, PeriodStatus};
use chrono::NaiveDate;
use serde::Serialize;
use std::io::{self, Write};

/// The summary of one clock.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClockSummary {
    /// Clock name.
    pub clock: String,
    /// `incomplete` (open periods at the census date) or `completed` (stopped periods).
    pub measured_on: &'static str,
    /// Target in days (of the latest period seen; a parameter may change it over time).
    pub target_days: Option<i64>,
    /// The standard in percent, if declared.
    pub standard_percent: Option<i64>,
    /// Periods measured.
    pub periods: usize,
    /// Of which within target.
    pub within_target: usize,
    /// Percentage within target (one decimal), `null` with no periods.
    pub percent_within: Option<f64>,
    /// Whether the standard is met (`null` with no periods or no standard).
    pub standard_met: Option<bool>,
    /// For incomplete measures: `(band, count)` from `>0-1` to `>104`, all bands listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub week_bands: Vec<(String, usize)>,
    /// For incomplete measures: waits over 52, 65, 78 and 104 weeks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub over_weeks: Vec<(i64, usize)>,
}

/// The summary across clocks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// The census date.
    pub as_at: NaiveDate,
    /// Pathways evaluated.
    pub pathways: usize,
    /// One entry per clock with a standard, in declaration order.
    pub clocks: Vec<ClockSummary>,
}

/// Long-wait thresholds reported for incomplete pathways, in weeks.
pub const LONG_WAITS: [i64; 4] = [52, 65, 78, 104];

/// Counts of one clock's measured periods, gathered pathway by pathway.
#[derive(Debug, Clone)]
struct ClockTally {
    name: String,
    incomplete: bool,
    standard_percent: Option<i64>,
    periods: usize,
    within: usize,
    last_target_days: Option<i64>,
    /// Open periods per reporting band `>0-1` … `>104` (incomplete measures only).
    bands: [usize; 105],
    over_weeks: [usize; LONG_WAITS.len()],
}

/// Builds a [`Summary`] one pathway at a time, so `pal run` need not keep every result.
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    as_at: NaiveDate,
    pathways: usize,
    clocks: Vec<ClockTally>,
}

impl SummaryBuilder {
    /// A builder for the clocks of `policy` that declare a standard, with the standards in
    /// force at `as_at` under `params`.
    pub fn new(
        policy: &Policy,
        params: &[crate::model::ir::ParamDef],
        as_at: NaiveDate,
    ) -> SummaryBuilder {
        let clocks = policy
            .clocks
            .iter()
            .filter_map(|c| {
                let standard_percent = match c.standard.as_ref()? {
                    Standard::Percent(p) => Some(*p),
                    Standard::Param(p) => {
                        match params.get(*p as usize).map(|d| d.value_on(as_at)) {
                            Some(Value::Int(i)) => Some(*i),
                            _ => None,
                        }
                    }
                };
                Some(ClockTally {
                    name: c.name.clone(),
                    incomplete: c.measured_on_incomplete,
                    standard_percent,
                    periods: 0,
                    within: 0,
                    last_target_days: None,
                    bands: [0; 105],
                    over_weeks: [0; LONG_WAITS.len()],
                })
            })
            .collect();
        SummaryBuilder {
            as_at,
            pathways: 0,
            clocks,
        }
    }

    /// Counts one pathway's periods.
    pub fn add(&mut self, r: &PathwayResult) {
        self.pathways += 1;
        for p in &r.clocks {
            let Some(c) = self.clocks.iter_mut().find(|c| c.name == p.clock) else {
                continue;
            };
            let measured = if c.incomplete {
                p.status.is_open()
            } else {
                p.status == PeriodStatus::Stopped
            };
            if !measured {
                continue;
            }
            c.periods += 1;
            c.last_target_days = Some(p.target_days);
            if p.days_waited.is_some_and(|d| d <= p.target_days) {
                c.within += 1;
            }
            if c.incomplete {
                let days = p.days_waited.unwrap_or(0);
                c.bands[super::ptl::week_band_index(days)] += 1;
                for (n, w) in c.over_weeks.iter_mut().zip(LONG_WAITS) {
                    if days > w * 7 {
                        *n += 1;
                    }
                }
            }
        }
    }

    /// The summary of everything added.
    pub fn finish(self) -> Summary {
        let clocks = self
            .clocks
            .into_iter()
            .map(|c| {
                let percent = (c.periods > 0)
                    .then(|| (1000.0 * c.within as f64 / c.periods as f64).round() / 10.0);
                let (week_bands, over_weeks) = if c.incomplete {
                    let bands = c
                        .bands
                        .iter()
                        .enumerate()
                        .map(|(i, n)| (super::ptl::week_band_label_at(i).to_string(), *n))
                        .collect();
                    (bands, LONG_WAITS.into_iter().zip(c.over_weeks).collect())
                } else {
                    (Vec::new(), Vec::new())
                };
                ClockSummary {
                    measured_on: if c.incomplete {
                        "incomplete"
                    } else {
                        "completed"
                    },
                    target_days: c.last_target_days,
                    standard_percent: c.standard_percent,
                    periods: c.periods,
                    within_target: c.within,
                    percent_within: percent,
                    standard_met: match (percent, c.standard_percent) {
                        (Some(p), Some(s)) => Some(p >= s as f64),
                        _ => None,
                    },
                    week_bands,
                    over_weeks,
                    clock: c.name,
                }
            })
            .collect();
        Summary {
            as_at: self.as_at,
            pathways: self.pathways,
            clocks,
        }
    }
}

/// Builds the summary of a whole set of results.
pub fn build(
    policy: &Policy,
    params: &[crate::model::ir::ParamDef],
    results: &[PathwayResult],
    as_at: NaiveDate,
) -> Summary {
    let mut b = SummaryBuilder::new(policy, params, as_at);
    for r in results {
        b.add(r);
    }
    b.finish()
}

/// Writes the summary as text.
pub fn write_text(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Waiting-time position as at {} ({} pathways)",
        s.as_at, s.pathways
    )?;
    for c in &s.clocks {
        writeln!(out)?;
        let target = c
            .target_days
            .map(|d| format!("{d} days"))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{} — {} periods, target {target}",
            c.clock, c.measured_on
        )?;
        let pct = c
            .percent_within
            .map(|p| format!("{p:.1}%"))
            .unwrap_or_else(|| "-".into());
        let verdict = match c.standard_met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "-",
        };
        let standard = c
            .standard_percent
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "  within target: {} of {} ({pct}); standard {standard}: {verdict}",
            c.within_target, c.periods
        )?;
        if !c.over_weeks.is_empty() {
            let over: Vec<String> = c
                .over_weeks
                .iter()
                .map(|(w, n)| format!(">{w} weeks: {n}"))
                .collect();
            writeln!(out, "  {}", over.join("  "))?;
        }
        if !c.week_bands.is_empty() {
            writeln!(out, "  weeks waited (band: pathways):")?;
            let nonzero: Vec<String> = c
                .week_bands
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(b, n)| format!("{b}: {n}"))
                .collect();
            for chunk in nonzero.chunks(8) {
                writeln!(out, "    {}", chunk.join("  "))?;
            }
        }
    }
    Ok(())
}
