//! The waiting-time position at the as-at date: for each clock with a standard, how many
//! periods are within target against the standard. Clocks measured on incomplete pathways
//! (RTT) also get the weekly bands and the long-wait counts.

use crate::eval::PathwayResult;
use crate::ir::{Policy, Standard};
use crate::value::Value;
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

/// Builds the summary.
pub fn build(
    policy: &Policy,
    params: &[crate::ir::ParamDef],
    results: &[PathwayResult],
    as_at: NaiveDate,
) -> Summary {
    let mut clocks = Vec::new();
    for c in &policy.clocks {
        let Some(standard) = &c.standard else {
            continue;
        };
        let standard_percent = match standard {
            Standard::Percent(p) => Some(*p),
            Standard::Param(p) => match params[*p as usize].value_on(as_at) {
                Value::Int(i) => Some(*i),
                _ => None,
            },
        };
        let incomplete = c.measured_on_incomplete;
        let periods: Vec<_> = results
            .iter()
            .flat_map(|r| r.clocks.iter())
            .filter(|p| p.clock == c.name)
            .filter(|p| {
                if incomplete {
                    matches!(p.status, "running" | "paused")
                } else {
                    p.status == "stopped"
                }
            })
            .collect();
        let within = periods
            .iter()
            .filter(|p| p.days_waited.is_some_and(|d| d <= p.target_days))
            .count();
        let percent = (!periods.is_empty())
            .then(|| (1000.0 * within as f64 / periods.len() as f64).round() / 10.0);
        let mut week_bands = Vec::new();
        let mut over_weeks = Vec::new();
        if incomplete {
            let mut counts = vec![0usize; 105];
            for p in &periods {
                let k = crate::calendar::weeks_band(p.days_waited.unwrap_or(0)).clamp(1, 105);
                counts[(k - 1) as usize] += 1;
            }
            for (i, n) in counts.iter().enumerate() {
                let label = if i == 104 {
                    ">104".to_string()
                } else {
                    format!(">{}-{}", i, i + 1)
                };
                week_bands.push((label, *n));
            }
            for w in LONG_WAITS {
                let n = periods
                    .iter()
                    .filter(|p| p.days_waited.unwrap_or(0) > w * 7)
                    .count();
                over_weeks.push((w, n));
            }
        }
        clocks.push(ClockSummary {
            clock: c.name.clone(),
            measured_on: if incomplete {
                "incomplete"
            } else {
                "completed"
            },
            target_days: periods.last().map(|p| p.target_days),
            standard_percent,
            periods: periods.len(),
            within_target: within,
            percent_within: percent,
            standard_met: match (percent, standard_percent) {
                (Some(p), Some(s)) => Some(p >= s as f64),
                _ => None,
            },
            week_bands,
            over_weeks,
        });
    }
    Summary {
        as_at,
        pathways: results.len(),
        clocks,
    }
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
