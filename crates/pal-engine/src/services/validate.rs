//! `pal validate`: the validation view of the national RTT rules. The PAS's own view of each
//! pathway (its recorded RTT period start and status, `io::pas_view`) is compared with what
//! the policy makes of the pathway's events as at a date; every pathway where they disagree is
//! listed with the policy's reason — the rule (name, description, citation) that started or
//! stopped the clock and the event it fired on, taken from the evaluator's trace.

use crate::io::events::{EventSet, ReadError, Rejection};
use crate::io::pas_view::{PasPathway, PasStatus, PasView};
use crate::model::ir::Policy;
use crate::model::status::{PeriodStatus, RuleOutcome};
use crate::runtime::eval::{Evaluator, PathwayResult, PeriodResult};
use crate::services::batch::{self, Input};
use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// How the PAS and the policy disagree about one pathway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisagreementKind {
    /// Both hold the pathway open, from different clock starts.
    ClockStartDiffers,
    /// The PAS holds it open; the policy stopped the clock.
    PasOpenPolicyStopped,
    /// The PAS holds it open; the policy nullified the clock.
    PasOpenPolicyNullified,
    /// The PAS holds it open; the policy has no period of the clock for it (no events, or
    /// none that starts the clock).
    PasOpenPolicyNoClock,
    /// The policy holds it open; the PAS lists it as closed.
    PolicyOpenPasClosed,
    /// The policy holds it open; the PAS does not list it.
    PolicyOpenPasAbsent,
}

impl DisagreementKind {
    /// Every kind, in report order.
    pub const ALL: &'static [DisagreementKind] = &[
        DisagreementKind::ClockStartDiffers,
        DisagreementKind::PasOpenPolicyStopped,
        DisagreementKind::PasOpenPolicyNullified,
        DisagreementKind::PasOpenPolicyNoClock,
        DisagreementKind::PolicyOpenPasClosed,
        DisagreementKind::PolicyOpenPasAbsent,
    ];

    /// The kind's name in CSV and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            DisagreementKind::ClockStartDiffers => "clock_start_differs",
            DisagreementKind::PasOpenPolicyStopped => "pas_open_policy_stopped",
            DisagreementKind::PasOpenPolicyNullified => "pas_open_policy_nullified",
            DisagreementKind::PasOpenPolicyNoClock => "pas_open_policy_no_clock",
            DisagreementKind::PolicyOpenPasClosed => "policy_open_pas_closed",
            DisagreementKind::PolicyOpenPasAbsent => "policy_open_pas_absent",
        }
    }

    /// The kind in words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            DisagreementKind::ClockStartDiffers => "clock start differs",
            DisagreementKind::PasOpenPolicyStopped => "PAS open, policy stopped",
            DisagreementKind::PasOpenPolicyNullified => "PAS open, policy nullified",
            DisagreementKind::PasOpenPolicyNoClock => "PAS open, no clock in the events",
            DisagreementKind::PolicyOpenPasClosed => "policy open, PAS closed",
            DisagreementKind::PolicyOpenPasAbsent => "policy open, not on the PAS list",
        }
    }
}

/// The rule that decided the policy's view, and the step it fired on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The rule (or exception).
    pub rule: String,
    /// Its description.
    pub description: Option<String>,
    /// Its citations.
    pub cite: String,
    /// The event type it fired on (or `timer RULE`).
    pub event: Option<String>,
    /// The date of that step.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub date: Option<NaiveDate>,
    /// The event's input line.
    pub line: Option<u32>,
}

/// One pathway where the PAS and the policy disagree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    /// The pathway.
    pub pathway_id: String,
    /// How they disagree.
    pub kind: DisagreementKind,
    /// The PAS's status cell as written (`open` when the view has no status column; empty
    /// when the PAS does not list the pathway).
    pub pas_status: String,
    /// The RTT period start the PAS recorded.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub pas_start: Option<NaiveDate>,
    /// The PAS's waiting-list type.
    pub pas_waiting_list_type: Option<String>,
    /// The policy's latest period of the clock: its status (none: no period).
    pub policy_status: Option<PeriodStatus>,
    /// Its start.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub policy_start: Option<NaiveDate>,
    /// Its stop, if stopped or nullified.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub policy_stop: Option<NaiveDate>,
    /// Its stop or nullify reason.
    pub policy_reason: Option<String>,
    /// Days from the PAS's start to the policy's (positive: the policy starts later).
    pub start_difference_days: Option<i64>,
    /// The rule that started (start differs, policy open) or stopped/nullified the period.
    pub decided_by: Option<Decision>,
    /// A note when no rule decided it (e.g. "no events for this pathway").
    pub note: Option<String>,
}

/// The outcome of a validation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Validation {
    /// The report date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub as_at: NaiveDate,
    /// The clock compared.
    pub clock: String,
    /// Pathways compared (on the PAS list or open by the policy).
    pub pathways_compared: u64,
    /// Of which the PAS and the policy agree.
    pub agreed: u64,
    /// Disagreements by kind, every kind listed (in JSON: an object by kind name).
    #[serde(serialize_with = "serialize_counts")]
    pub counts: Vec<(DisagreementKind, u64)>,
    /// Every disagreement, in the PAS list's order, then the policy's open pathways absent from it.
    pub disagreements: Vec<Disagreement>,
    /// Rows of the events that were rejected.
    #[serde(skip)]
    pub event_rejections: Vec<Rejection>,
    /// Rows of the PAS view that were rejected.
    #[serde(skip)]
    pub pas_rejections: Vec<Rejection>,
    /// The events' row account: read, evaluated, rejected, after the as-at date.
    #[serde(skip)]
    pub rows: (u64, u64, u64, u64),
}

fn serialize_counts<S: serde::Serializer>(
    counts: &[(DisagreementKind, u64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(counts.len()))?;
    for (k, n) in counts {
        m.serialize_entry(k.as_str(), n)?;
    }
    m.end()
}

/// Compares the PAS's view with the policy's for the clock `clock` (e.g. `rtt`) as at `as_at`.
pub fn validate(
    policy: &Policy,
    events: Input,
    pas: PasView,
    as_at: NaiveDate,
    clock: &str,
) -> Result<Validation, ReadError> {
    let set = batch::read(events, policy, as_at, false)?;
    Ok(compare(policy, set, pas, as_at, clock))
}

/// [`validate`] on events already read.
pub fn compare(
    policy: &Policy,
    set: EventSet,
    pas: PasView,
    as_at: NaiveDate,
    clock: &str,
) -> Validation {
    let ev = Evaluator::new(policy);
    let results: Vec<PathwayResult> = set
        .pathways
        .par_iter()
        .map(|p| ev.run(&p.id, &p.events, &[], as_at, true))
        .collect();
    let by_id: HashMap<&str, &PathwayResult> =
        results.iter().map(|r| (r.pathway_id.as_str(), r)).collect();
    let latest = |r: &PathwayResult| -> Option<PeriodResult> {
        r.clocks.iter().rev().find(|p| p.clock == clock).cloned()
    };
    let mut out = Validation {
        as_at,
        clock: clock.to_string(),
        rows: (
            set.rows_read,
            set.rows_evaluated,
            set.rejected.len() as u64,
            set.rows_after_as_at,
        ),
        event_rejections: set.rejected.clone(),
        pas_rejections: pas.rejected.clone(),
        ..Validation::default()
    };
    let mut listed: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for p in &pas.pathways {
        listed.insert(&p.pathway_id);
        out.pathways_compared += 1;
        let result = by_id.get(p.pathway_id.as_str()).copied();
        let period = result.and_then(latest);
        match judge(p, period.as_ref()) {
            None => out.agreed += 1,
            Some(kind) => out.disagreements.push(disagreement(
                policy,
                kind,
                Some(p),
                result,
                period,
                &p.pathway_id,
            )),
        }
    }
    for r in &results {
        if listed.contains(r.pathway_id.as_str()) {
            continue;
        }
        let Some(period) = latest(r) else { continue };
        if matches!(period.status, PeriodStatus::Running | PeriodStatus::Paused) {
            out.pathways_compared += 1;
            out.disagreements.push(disagreement(
                policy,
                DisagreementKind::PolicyOpenPasAbsent,
                None,
                Some(r),
                Some(period),
                &r.pathway_id,
            ));
        }
    }
    out.counts = DisagreementKind::ALL
        .iter()
        .map(|k| {
            (
                *k,
                out.disagreements.iter().filter(|d| d.kind == *k).count() as u64,
            )
        })
        .collect();
    out
}

/// How the PAS's row and the policy's latest period disagree, if they do.
fn judge(p: &PasPathway, period: Option<&PeriodResult>) -> Option<DisagreementKind> {
    let open =
        period.is_some_and(|q| matches!(q.status, PeriodStatus::Running | PeriodStatus::Paused));
    match (p.status, period) {
        (PasStatus::Open, None) => Some(DisagreementKind::PasOpenPolicyNoClock),
        (PasStatus::Open, Some(q)) => match q.status {
            PeriodStatus::Stopped => Some(DisagreementKind::PasOpenPolicyStopped),
            PeriodStatus::Nullified => Some(DisagreementKind::PasOpenPolicyNullified),
            PeriodStatus::Running | PeriodStatus::Paused => {
                (p.rtt_start != Some(q.start)).then_some(DisagreementKind::ClockStartDiffers)
            }
        },
        (PasStatus::Closed, _) if open => Some(DisagreementKind::PolicyOpenPasClosed),
        (PasStatus::Closed, _) => None,
    }
}

fn disagreement(
    policy: &Policy,
    kind: DisagreementKind,
    pas: Option<&PasPathway>,
    result: Option<&PathwayResult>,
    period: Option<PeriodResult>,
    pathway_id: &str,
) -> Disagreement {
    // The rule to show: what stopped the period when the policy closed it, else what started it.
    let rule = period.as_ref().and_then(|q| match kind {
        DisagreementKind::PasOpenPolicyStopped | DisagreementKind::PasOpenPolicyNullified => {
            q.stopped_by.map(|r| (r, q.stop))
        }
        _ => q.started_by.map(|r| (r, Some(q.start))),
    });
    let decided_by = rule.map(|(name, on)| decision(policy, result, &name, on));
    let note = match (kind, result) {
        (DisagreementKind::PasOpenPolicyNoClock, None) => {
            Some("the events have no rows for this pathway".to_string())
        }
        (DisagreementKind::PasOpenPolicyNoClock, Some(_)) => {
            Some("no rule started the clock on this pathway's events".to_string())
        }
        _ => None,
    };
    Disagreement {
        pathway_id: pathway_id.to_string(),
        kind,
        pas_status: pas.map_or(String::new(), |p| {
            if p.status_text.is_empty() {
                "open".to_string()
            } else {
                p.status_text.clone()
            }
        }),
        pas_start: pas.and_then(|p| p.rtt_start),
        pas_waiting_list_type: pas.and_then(|p| p.waiting_list_type.clone()),
        policy_status: period.as_ref().map(|q| q.status),
        policy_start: period.as_ref().map(|q| q.start),
        policy_stop: period.as_ref().and_then(|q| q.stop),
        policy_reason: period
            .as_ref()
            .and_then(|q| q.reason.map(|r| r.to_string())),
        start_difference_days: match (pas.and_then(|p| p.rtt_start), &period) {
            (Some(a), Some(q)) => Some((q.start - a).num_days()),
            _ => None,
        },
        decided_by,
        note,
    }
}

/// The rule `name` with its description and citation, and the trace step where it fired on
/// or before `on` (the latest such).
fn decision(
    policy: &Policy,
    result: Option<&PathwayResult>,
    name: &str,
    on: Option<NaiveDate>,
) -> Decision {
    let def = policy.rules.iter().find(|r| r.name == name);
    let step = result.and_then(|r| r.trace.as_ref()).and_then(|steps| {
        steps.iter().rev().find(|s| {
            on.is_none_or(|d| s.date <= d)
                && s.rules
                    .iter()
                    .any(|t| t.rule == name && t.result == RuleOutcome::Fired)
        })
    });
    Decision {
        rule: name.to_string(),
        description: def.and_then(|d| d.description.clone()),
        cite: def.map(|d| d.cite_text()).unwrap_or_default(),
        event: step.map(|s| s.event.clone()),
        date: step.map(|s| s.date),
        line: step.and_then(|s| s.line),
    }
}

/// How a validation is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationFormat {
    /// A summary and one paragraph per disagreement, for people.
    Human,
    /// One CSV row per disagreement (spreadsheet-safe text cells).
    Csv,
    /// One JSON object: the summary and every disagreement.
    Json,
}

/// Writes a validation.
pub fn write(
    v: &Validation,
    format: ValidationFormat,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        ValidationFormat::Human => write_human(v, out),
        ValidationFormat::Csv => write_csv(v, out),
        ValidationFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, v).map_err(std::io::Error::other)?;
            writeln!(out)
        }
    }
}

fn date_text(d: Option<NaiveDate>) -> String {
    d.map(crate::base::value::date_text).unwrap_or_default()
}

fn write_human(v: &Validation, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let n = v.disagreements.len();
    writeln!(
        out,
        "{} as at {}: {} pathway{} compared, {} agree, {n} disagree{}",
        v.clock,
        crate::base::value::date_text(v.as_at),
        v.pathways_compared,
        if v.pathways_compared == 1 { "" } else { "s" },
        v.agreed,
        if n == 1 { "s" } else { "" }
    )?;
    writeln!(out)?;
    for (k, c) in &v.counts {
        writeln!(out, "  {:<36} {c:>6}", k.describe())?;
    }
    for d in &v.disagreements {
        writeln!(out)?;
        writeln!(out, "{}  {}", d.pathway_id, d.kind.describe())?;
        let pas = match (&d.pas_status[..], d.pas_start) {
            ("", _) => "not listed".to_string(),
            (s, Some(start)) => format!("{s}, RTT period start {}", date_text(Some(start))),
            (s, None) => s.to_string(),
        };
        let list = d
            .pas_waiting_list_type
            .as_ref()
            .map(|l| format!(" (waiting list {l})"))
            .unwrap_or_default();
        writeln!(out, "  PAS:     {pas}{list}")?;
        let policy = match (d.policy_status, d.policy_start) {
            (None, _) | (_, None) => "no period".to_string(),
            (Some(s), Some(start)) => {
                let mut t = format!("{s}, started {}", date_text(Some(start)));
                if let Some(stop) = d.policy_stop {
                    t.push_str(&format!(", {s} {}", date_text(Some(stop))));
                }
                if let Some(r) = &d.policy_reason {
                    t.push_str(&format!(" ({r})"));
                }
                t
            }
        };
        let diff = match d.start_difference_days {
            Some(days) if days != 0 && d.kind == DisagreementKind::ClockStartDiffers => format!(
                "; {} day{} {} the PAS's",
                days.abs(),
                if days.abs() == 1 { "" } else { "s" },
                if days > 0 { "after" } else { "before" }
            ),
            _ => String::new(),
        };
        writeln!(out, "  policy:  {policy}{diff}")?;
        if let Some(r) = &d.decided_by {
            let desc = r
                .description
                .as_ref()
                .map(|t| format!(" \"{t}\""))
                .unwrap_or_default();
            let step = match (&r.event, r.date) {
                (Some(e), Some(date)) => {
                    let line = r
                        .line
                        .map(|l| format!(" (events line {l})"))
                        .unwrap_or_default();
                    format!(" on {e} {}{line}", date_text(Some(date)))
                }
                _ => String::new(),
            };
            writeln!(out, "  because: {}{desc} [{}]{step}", r.rule, r.cite)?;
        }
        if let Some(note) = &d.note {
            writeln!(out, "  note:    {note}")?;
        }
    }
    Ok(())
}

fn write_csv(v: &Validation, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use crate::io::report::spreadsheet_safe as safe;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "pathway_id",
        "kind",
        "pas_status",
        "pas_start",
        "pas_waiting_list_type",
        "policy_status",
        "policy_start",
        "policy_stop",
        "policy_reason",
        "start_difference_days",
        "rule",
        "rule_description",
        "cite",
        "event",
        "event_date",
        "event_line",
        "note",
    ])?;
    for d in &v.disagreements {
        let r = d.decided_by.as_ref();
        let opt = |s: Option<&String>| safe(s.map_or("", String::as_str)).into_owned();
        w.write_record([
            safe(&d.pathway_id).into_owned(),
            d.kind.as_str().to_string(),
            safe(&d.pas_status).into_owned(),
            date_text(d.pas_start),
            opt(d.pas_waiting_list_type.as_ref()),
            d.policy_status.map(|s| s.to_string()).unwrap_or_default(),
            date_text(d.policy_start),
            date_text(d.policy_stop),
            opt(d.policy_reason.as_ref()),
            d.start_difference_days
                .map(|n| n.to_string())
                .unwrap_or_default(),
            opt(r.map(|r| &r.rule)),
            opt(r.and_then(|r| r.description.as_ref())),
            opt(r.map(|r| &r.cite)),
            opt(r.and_then(|r| r.event.as_ref())),
            date_text(r.and_then(|r| r.date)),
            r.and_then(|r| r.line)
                .map(|l| l.to_string())
                .unwrap_or_default(),
            opt(d.note.as_ref()),
        ])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::base::value::parse_date(s).unwrap_or_default()
    }

    fn pas(status: PasStatus, start: Option<&str>) -> PasPathway {
        PasPathway {
            pathway_id: "P".into(),
            rtt_start: start.map(d),
            status,
            status_text: String::new(),
            waiting_list_type: None,
            line: 2,
        }
    }

    fn period(status: PeriodStatus, start: &str) -> PeriodResult {
        PeriodResult {
            clock: "rtt".into(),
            period: 1,
            status,
            start: d(start),
            stop: None,
            reason: None,
            days_waited: None,
            paused_days: 0,
            target_days: 126,
            target_date: d(start),
            breached: false,
            weeks_waited: None,
            started_by: None,
            stopped_by: None,
        }
    }

    /// The PAS's status and start, the policy's latest period, the judgement.
    type Case<'a> = (
        PasStatus,
        Option<&'a str>,
        Option<(PeriodStatus, &'a str)>,
        Option<DisagreementKind>,
    );

    #[test]
    fn each_pair_of_views_is_judged() {
        use DisagreementKind::*;
        use PasStatus::{Closed, Open};
        use PeriodStatus::{Nullified, Paused, Running, Stopped};
        let cases: &[Case] = &[
            (
                Open,
                Some("2025-01-06"),
                Some((Running, "2025-01-06")),
                None,
            ),
            (Open, Some("2025-01-06"), Some((Paused, "2025-01-06")), None),
            (
                Open,
                Some("2025-01-06"),
                Some((Running, "2025-01-07")),
                Some(ClockStartDiffers),
            ),
            (
                Open,
                Some("2025-01-07"),
                Some((Running, "2025-01-06")),
                Some(ClockStartDiffers),
            ),
            (
                Open,
                Some("2025-01-06"),
                Some((Stopped, "2025-01-06")),
                Some(PasOpenPolicyStopped),
            ),
            (
                Open,
                Some("2025-01-06"),
                Some((Nullified, "2025-01-06")),
                Some(PasOpenPolicyNullified),
            ),
            (Open, Some("2025-01-06"), None, Some(PasOpenPolicyNoClock)),
            (
                Closed,
                Some("2025-01-06"),
                Some((Running, "2025-01-06")),
                Some(PolicyOpenPasClosed),
            ),
            (
                Closed,
                None,
                Some((Paused, "2025-01-06")),
                Some(PolicyOpenPasClosed),
            ),
            (
                Closed,
                Some("2025-01-06"),
                Some((Stopped, "2025-01-06")),
                None,
            ),
            (
                Closed,
                Some("2025-01-06"),
                Some((Nullified, "2025-01-06")),
                None,
            ),
            // A closed pathway's start is not compared: the PAS may have stopped a later period.
            (
                Closed,
                Some("2024-01-01"),
                Some((Stopped, "2025-01-06")),
                None,
            ),
            (Closed, None, None, None),
        ];
        for (status, start, policy, want) in cases {
            let p = pas(*status, *start);
            let q = policy.map(|(s, st)| period(s, st));
            assert_eq!(
                judge(&p, q.as_ref()),
                *want,
                "{status:?} {start:?} {policy:?}"
            );
        }
    }
}
