//! The HTML report's figures: the policy run as at the census date with the PTL of the tracked
//! clock gathered; the open periods counted by band, by specialty and against the target; the
//! top rows of the PTL re-evaluated with the trace for their timelines. Rendering is
//! [`crate::io::report::html`]; writing the file is the front end's, through
//! [`crate::services::output::OutputFile`].
//!
//! Only the rows shown are kept ([`TopRows`]), with their pathways' events, so memory is
//! bounded by `--top`, not by the waiting list.

use super::groups::{Match, TreatmentFunctionGroups};
use super::{run_gathering, Reading, RowAccount};
use crate::base::value::Value;
use crate::io::events::PathwayEvents;
use crate::io::report::html::{Headline, HtmlReport, PtlLine, SpecialtyLine, Timeline};
use crate::io::report::ptl::{week_band_index, NextActionStatus, PtlRow, PtlSpec, TopRows};
use crate::io::report::summary::LONG_WAITS;
use crate::model::event::Event;
use crate::model::ir::{Policy, Standard};
use crate::runtime::eval::{Evaluator, PathwayResult};
use crate::services::batch::{self, Input};
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashMap};

/// What the report covers.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// The census date.
    pub as_at: NaiveDate,
    /// The clock tracked (`rtt`).
    pub clock: String,
    /// PTL rows shown (each with its timeline).
    pub top: usize,
    /// The pathway attribute grouped by in the specialty table (`specialty`).
    pub specialty_attribute: String,
    /// Names the specialties: a listed value shows its treatment-function group's name.
    pub groups: TreatmentFunctionGroups,
    /// The page title.
    pub title: String,
}

/// The wait at rank `p` (0 < p ≤ 1) of sorted `days`, nearest rank, in weeks.
fn percentile_weeks(sorted_days: &[i64], p: f64) -> Option<f64> {
    if sorted_days.is_empty() {
        return None;
    }
    let rank = ((p * sorted_days.len() as f64).ceil() as usize).clamp(1, sorted_days.len());
    Some((sorted_days[rank - 1] as f64 / 7.0 * 10.0).round() / 10.0)
}

struct Gather {
    clock: String,
    specialty_attribute: String,
    groups: TreatmentFunctionGroups,
    bands: Vec<u64>,
    days: Vec<i64>,
    within: u64,
    target_days: Option<i64>,
    specialties: BTreeMap<String, SpecialtyLine>,
    /// The PTL's columns (the default ones).
    spec: PtlSpec,
    /// The rows shown so far.
    top: TopRows,
    /// The events of the pathways of those rows.
    events: HashMap<String, Vec<Event>>,
}

impl Gather {
    fn add(&mut self, p: &PathwayEvents, r: &PathwayResult) {
        let Some(period) = r
            .clocks
            .iter()
            .rev()
            .find(|c| c.clock == self.clock && c.status.is_open())
        else {
            return;
        };
        let days = period.days_waited.unwrap_or(0);
        self.bands[week_band_index(days)] += 1;
        self.days.push(days);
        let within = days <= period.target_days;
        self.within += u64::from(within);
        self.target_days = Some(period.target_days);
        let raw = r.attributes.get(&self.specialty_attribute);
        let name = match self.groups.find(raw) {
            Match::Listed(i) => self.groups.functions[i].name.clone(),
            Match::Unlisted(_) => raw.unwrap_or_default().to_string(),
            Match::Missing(_) => "(not recorded)".to_string(),
        };
        let line = self
            .specialties
            .entry(name.clone())
            .or_insert_with(|| SpecialtyLine {
                name,
                total: 0,
                within: 0,
                over_52: 0,
                longest_days: 0,
            });
        line.total += 1;
        line.within += u64::from(within);
        line.over_52 += u64::from(days > 52 * 7);
        line.longest_days = line.longest_days.max(days);
        if let Some(row) = self.spec.row(r, &p.events) {
            self.events.insert(p.id.clone(), p.events.clone());
            if let Some(dropped) = self.top.offer(row) {
                self.events.remove(&dropped.pathway_id);
            }
        }
    }
}

/// The next action of a PTL row as one text: what, overdue or due when, and the citation.
fn next_action(row: &PtlRow) -> String {
    if row.next_obligation.is_empty() {
        return String::new();
    }
    let due = row
        .next_due
        .map(crate::base::value::date_text)
        .unwrap_or_default();
    let when = match row.next_action_status {
        Some(NextActionStatus::Overdue) => format!("overdue since {due}"),
        _ => format!("due {due}"),
    };
    if row.next_action_cite.is_empty() {
        format!("{} ({when})", row.next_obligation)
    } else {
        format!("{} ({when}; {})", row.next_obligation, row.next_action_cite)
    }
}

/// Builds the report from `input`.
pub fn build(
    policy: &Policy,
    input: Input,
    reading: Reading,
    options: HtmlOptions,
) -> Result<(HtmlReport, RowAccount), batch::Error> {
    let mut g = Gather {
        clock: options.clock.clone(),
        specialty_attribute: options.specialty_attribute.clone(),
        groups: options.groups.clone(),
        bands: vec![0; 105],
        days: Vec::new(),
        within: 0,
        target_days: None,
        specialties: BTreeMap::new(),
        spec: PtlSpec::unchecked(policy, &options.clock, PtlSpec::default_columns(policy)),
        top: TopRows::new(options.top),
        events: HashMap::new(),
    };
    let outcome = run_gathering(
        policy,
        input,
        options.as_at,
        reading,
        None,
        &mut |p: &PathwayEvents, r: &PathwayResult| g.add(p, r),
    )?;
    let clock_def = policy.clocks.iter().find(|c| c.name == options.clock);
    let standard_percent = clock_def.and_then(|c| match c.standard.as_ref()? {
        Standard::Percent(p) => Some(*p),
        Standard::Param(p) => match policy
            .params
            .get(*p as usize)
            .map(|d| d.value_on(options.as_at))
        {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        },
    });
    let mut days = std::mem::take(&mut g.days);
    days.sort_unstable();
    let headline = Headline {
        total: days.len() as u64,
        within: g.within,
        target_days: g.target_days.unwrap_or(126),
        standard_percent,
        over_weeks: LONG_WAITS
            .iter()
            .map(|w| (*w, days.iter().filter(|d| **d > w * 7).count() as u64))
            .collect(),
        median_weeks: percentile_weeks(&days, 0.5),
        p92_weeks: percentile_weeks(&days, 0.92),
    };
    let ptl_total = g.top.offered();
    let ptl_rows = std::mem::replace(&mut g.top, TopRows::new(0)).into_rows();
    let ev = Evaluator::new(policy);
    let mut ptl = Vec::new();
    let mut timelines = Vec::new();
    for row in ptl_rows.iter().take(options.top) {
        let events = g.events.remove(&row.pathway_id).unwrap_or_default();
        let result = ev.run(&row.pathway_id, &events, &[], options.as_at, true);
        ptl.push(PtlLine {
            pathway_id: row.pathway_id.clone(),
            start: row.start,
            days_waited: row.days_waited,
            week_band: row.week_band.to_string(),
            breach_date: row.breach_date,
            next_action: next_action(row),
            next_appointment: row
                .next_appointment
                .map(|d| {
                    format!(
                        "{} {}",
                        crate::base::value::date_text(d),
                        row.next_appointment_kind
                    )
                })
                .unwrap_or_default(),
            dnas_and_cancellations: (
                row.dnas,
                row.patient_cancellations,
                row.hospital_cancellations,
            ),
        });
        timelines.push(Timeline { result, events });
    }
    let mut specialties: Vec<SpecialtyLine> = g.specialties.into_values().collect();
    specialties.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
    Ok((
        HtmlReport {
            title: options.title,
            policy: policy.name.clone(),
            as_at: options.as_at,
            clock: options.clock,
            headline,
            bands: g.bands,
            specialties,
            ptl,
            ptl_total,
            timelines,
        },
        outcome.counts,
    ))
}

#[cfg(test)]
mod tests {
    use super::percentile_weeks;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile_weeks(&[], 0.5), None);
        assert_eq!(percentile_weeks(&[7], 0.92), Some(1.0));
        let days: Vec<i64> = (1..=100).map(|d| d * 7).collect();
        assert_eq!(percentile_weeks(&days, 0.5), Some(50.0));
        assert_eq!(percentile_weeks(&days, 0.92), Some(92.0));
        assert_eq!(percentile_weeks(&[0, 10, 20], 0.5), Some(1.4));
    }
}
