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
    /// The median wait in days of the periods measured (nearest rank: the least wait at least
    /// half the periods are within), `null` with none.
    pub median_days: Option<i64>,
    /// The 92nd-percentile wait in days (nearest rank: the least wait at least 92% of the
    /// periods are within), `null` with none.
    pub p92_days: Option<i64>,
}

impl ClockSummary {
    /// The median wait in weeks, one decimal.
    pub fn median_weeks(&self) -> Option<f64> {
        self.median_days.map(weeks_of)
    }

    /// The 92nd-percentile wait in weeks, one decimal.
    pub fn p92_weeks(&self) -> Option<f64> {
        self.p92_days.map(weeks_of)
    }
}

fn weeks_of(days: i64) -> f64 {
    (days as f64 / 7.0 * 10.0).round() / 10.0
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
    /// Periods measured by days waited, for the percentiles.
    waits: std::collections::BTreeMap<i64, usize>,
}

impl ClockTally {
    /// A clock's tally with nothing counted yet.
    fn empty(name: String, incomplete: bool, standard_percent: Option<i64>) -> ClockTally {
        ClockTally {
            name,
            incomplete,
            standard_percent,
            periods: 0,
            within: 0,
            last_target_days: None,
            bands: [0; 105],
            over_weeks: [0; LONG_WAITS.len()],
            waits: std::collections::BTreeMap::new(),
        }
    }
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
                Some(ClockTally::empty(
                    c.name.clone(),
                    c.measured_on_incomplete,
                    standard_percent,
                ))
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
            if let Some(d) = p.days_waited {
                *c.waits.entry(d).or_insert(0) += 1;
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

    /// A builder of the same clocks and standards with nothing added: for a part of the
    /// input counted on its own and [`merge`](SummaryBuilder::merge)d back in input order.
    pub fn empty_like(&self) -> SummaryBuilder {
        SummaryBuilder {
            as_at: self.as_at,
            pathways: 0,
            clocks: self
                .clocks
                .iter()
                .map(|c| ClockTally::empty(c.name.clone(), c.incomplete, c.standard_percent))
                .collect(),
        }
    }

    /// Adds the counts of `later`, made by [`empty_like`](SummaryBuilder::empty_like) of this
    /// builder (or of one like it) over pathways that come after this one's: the same as
    /// adding them here one by one.
    pub fn merge(&mut self, later: SummaryBuilder) {
        self.pathways += later.pathways;
        for (c, l) in self.clocks.iter_mut().zip(later.clocks) {
            c.periods += l.periods;
            c.within += l.within;
            if l.last_target_days.is_some() {
                c.last_target_days = l.last_target_days;
            }
            for (n, m) in c.bands.iter_mut().zip(l.bands) {
                *n += m;
            }
            for (n, m) in c.over_weeks.iter_mut().zip(l.over_weeks) {
                *n += m;
            }
            for (days, n) in l.waits {
                *c.waits.entry(days).or_insert(0) += n;
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
                let measured: usize = c.waits.values().sum();
                let median_days = nearest_rank(&c.waits, measured, 50);
                let p92_days = nearest_rank(&c.waits, measured, 92);
                ClockSummary {
                    median_days,
                    p92_days,
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

/// The least wait at least `percent`% of the `n` periods in `waits` are within (nearest rank).
fn nearest_rank(
    waits: &std::collections::BTreeMap<i64, usize>,
    n: usize,
    percent: usize,
) -> Option<i64> {
    if n == 0 {
        return None;
    }
    // The rank ceil(n × p / 100), at least 1.
    let rank = (n * percent).div_ceil(100).max(1);
    let mut seen = 0;
    for (days, count) in waits {
        seen += count;
        if seen >= rank {
            return Some(*days);
        }
    }
    waits.keys().next_back().copied()
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

/// How the summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryFormat {
    /// For people: the headline against the standard, the long waits, the median and 92nd
    /// percentile, and the week bands grouped as a compact table.
    Table,
    /// For programs: one JSON document, every band listed (`docs/summary.md`).
    Json,
    /// For spreadsheets: one CSV row per clock, every band a column (`docs/summary.md`).
    Csv,
}

/// Writes the summary in `format`.
pub fn write(s: &Summary, format: SummaryFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        SummaryFormat::Table => write_text(s, out),
        SummaryFormat::Json => {
            serde_json::to_writer(&mut *out, s).map_err(io::Error::other)?;
            writeln!(out)
        }
        SummaryFormat::Csv => write_csv(s, out),
    }
}

/// The week-band groups of the readable summary, as `(label, first band index, last band
/// index)`: `0-6` is bands `>0-1` to `>5-6`.
const BAND_GROUPS: [(&str, usize, usize); 10] = [
    ("0-6", 0, 5),
    ("6-12", 6, 11),
    ("12-18", 12, 17),
    ("18-26", 18, 25),
    ("26-35", 26, 34),
    ("35-52", 35, 51),
    ("52-65", 52, 64),
    ("65-78", 65, 77),
    ("78-104", 78, 103),
    ("over 104", 104, 104),
];

fn weeks_text(days: i64) -> String {
    if days % 7 == 0 {
        crate::base::text::count_of(days / 7, "week", "weeks")
    } else {
        crate::base::text::count_of(days, "day", "days")
    }
}

/// Writes the summary as text for people.
pub fn write_text(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    use crate::base::text::{count_of, thousands};
    let n = |v: usize| thousands(v as i64);
    writeln!(
        out,
        "Waiting-time position as at {} ({})",
        s.as_at,
        count_of(s.pathways as i64, "pathway", "pathways")
    )?;
    for c in &s.clocks {
        writeln!(out)?;
        let target = c.target_days.map(weeks_text);
        let pct = c
            .percent_within
            .map(|p| format!("{p:.1}%"))
            .unwrap_or_else(|| "-".into());
        let standard = match (c.standard_percent, c.standard_met) {
            (Some(p), Some(true)) => format!("standard {p}%: met"),
            (Some(p), Some(false)) => format!("standard {p}%: NOT met"),
            (Some(p), None) => format!("standard {p}%"),
            (None, _) => "no standard declared".to_string(),
        };
        let measured = if c.measured_on == "incomplete" {
            "waiting at the census date"
        } else {
            "completed periods"
        };
        writeln!(out, "{} — {measured}", c.clock)?;
        if c.periods == 0 {
            writeln!(out, "  none measured; {standard}")?;
            continue;
        }
        let within = match &target {
            Some(t) => format!("within {t}"),
            None => "within target".to_string(),
        };
        writeln!(
            out,
            "  {:<22}{pct} ({} of {}); {standard}",
            format!("{}:", capitalise(&within)),
            n(c.within_target),
            n(c.periods)
        )?;
        let total = if c.measured_on == "incomplete" {
            "total waiting:"
        } else {
            "periods completed:"
        };
        writeln!(out, "  {:<22}{}", capitalise(total), n(c.periods))?;
        let in_weeks = c.target_days.is_none_or(|d| d % 7 == 0);
        match (c.median_days, c.p92_days) {
            (Some(m), Some(p)) if in_weeks => writeln!(
                out,
                "  {:<22}{:.1} weeks; 92nd percentile {:.1} weeks",
                "Median wait:",
                weeks_of(m),
                weeks_of(p)
            )?,
            (Some(m), Some(p)) => writeln!(
                out,
                "  {:<22}{}; 92nd percentile {}",
                "Median wait:",
                count_of(m, "day", "days"),
                count_of(p, "day", "days")
            )?,
            _ => {}
        }
        if !c.over_weeks.is_empty() {
            let over: Vec<String> = c
                .over_weeks
                .iter()
                .map(|(w, k)| format!("over {w} weeks: {}", n(*k)))
                .collect();
            writeln!(out, "  {:<22}{}", "Long waits:", over.join("   "))?;
        }
        if !c.week_bands.is_empty() {
            writeln!(out)?;
            let rows: Vec<Vec<String>> = BAND_GROUPS
                .iter()
                .map(|(label, from, to)| {
                    let k: usize = c
                        .week_bands
                        .get(*from..=*to)
                        .map(|b| b.iter().map(|(_, k)| *k).sum())
                        .unwrap_or(0);
                    let share = if c.periods > 0 {
                        format!("{:.1}%", 100.0 * k as f64 / c.periods as f64)
                    } else {
                        "-".into()
                    };
                    vec![format!("  {label}"), n(k), share]
                })
                .collect();
            write_aligned(&["  weeks waited", "pathways", "share"], &rows, out)?;
        }
    }
    Ok(())
}

fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A table with the first column left-aligned and the others right-aligned (numbers).
fn write_aligned(header: &[&str], rows: &[Vec<String>], out: &mut dyn Write) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str], out: &mut dyn Write| -> io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        writeln!(out, "{}", text.join("  ").trim_end())
    };
    line(header, out)?;
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cells, out)?;
    }
    Ok(())
}

/// The columns of the CSV summary before the week bands.
pub const CSV_COLUMNS: &[&str] = &[
    "as_at",
    "pathways",
    "clock",
    "measured_on",
    "target_days",
    "standard_percent",
    "periods",
    "within_target",
    "percent_within",
    "standard_met",
    "median_days",
    "p92_days",
    "over_52_weeks",
    "over_65_weeks",
    "over_78_weeks",
    "over_104_weeks",
];

/// Writes the summary as CSV: a header, then one row per clock; after [`CSV_COLUMNS`] one
/// column per week band (`>0-1` … `>104`), empty for clocks measured on completed periods.
pub fn write_csv(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend((0..105).map(|i| super::ptl::week_band_label_at(i).to_string()));
    w.write_record(&header).map_err(io::Error::other)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for c in &s.clocks {
        let mut row = vec![
            crate::base::value::date_text(s.as_at),
            s.pathways.to_string(),
            c.clock.clone(),
            c.measured_on.to_string(),
            opt(c.target_days.map(|d| d.to_string())),
            opt(c.standard_percent.map(|d| d.to_string())),
            c.periods.to_string(),
            c.within_target.to_string(),
            opt(c.percent_within.map(|p| format!("{p:.1}"))),
            opt(c.standard_met.map(|m| m.to_string())),
            opt(c.median_days.map(|d| d.to_string())),
            opt(c.p92_days.map(|d| d.to_string())),
        ];
        for wk in LONG_WAITS {
            row.push(opt(c
                .over_weeks
                .iter()
                .find(|(w, _)| *w == wk)
                .map(|(_, k)| k.to_string())));
        }
        if c.week_bands.is_empty() {
            row.extend(std::iter::repeat_n(String::new(), 105));
        } else {
            row.extend(c.week_bands.iter().map(|(_, k)| k.to_string()));
        }
        w.write_record(&row).map_err(io::Error::other)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn percentiles_are_nearest_rank() {
        // (waits in days with their counts, percent, expected)
        type Case<'a> = (&'a [(i64, usize)], usize, Option<i64>);
        let cases: &[Case] = &[
            (&[], 50, None),
            (&[(10, 1)], 50, Some(10)),
            (&[(10, 1)], 92, Some(10)),
            (&[(1, 1), (2, 1)], 50, Some(1)),
            (&[(1, 1), (2, 1), (3, 1)], 50, Some(2)),
            (&[(1, 1), (2, 1), (3, 1), (4, 1)], 50, Some(2)),
            // 92% of 25 = 23: the 23rd wait.
            (&[(5, 22), (6, 1), (7, 2)], 92, Some(6)),
            (&[(5, 23), (6, 2)], 92, Some(5)),
            (&[(5, 24), (6, 1)], 92, Some(5)),
        ];
        for (waits, p, expected) in cases {
            let map: BTreeMap<i64, usize> = waits.iter().copied().collect();
            let n = map.values().sum();
            assert_eq!(nearest_rank(&map, n, *p), *expected, "{waits:?} p{p}");
        }
    }

    #[test]
    fn weeks_are_rounded_to_one_decimal() {
        assert_eq!(weeks_of(0), 0.0);
        assert_eq!(weeks_of(7), 1.0);
        assert_eq!(weeks_of(10), 1.4);
        assert_eq!(weeks_of(127), 18.1);
    }
}
