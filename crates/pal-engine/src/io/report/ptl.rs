//! The patient tracking list a PTL meeting works down: one row per open pathway of the tracked
//! clock, with the attributes the trust chooses, the wait and its band, the breach and 52-week
//! dates, the next booked appointment or TCI, the next action (the earliest obligation still
//! to be met, overdue first, with its rule and citation) and the DNA and cancellation counts.
//! Sorted by breach date, then longest wait. `docs/ptl.md` describes the columns.
//!
//! A national list has millions of rows, and its order is known only when every pathway has
//! been seen. So a run does not keep them: each row is encoded as it is made — its CSV record
//! and a sort key ([`PtlBatch`]) — and the records go through an external sort
//! ([`crate::io::spill`]) that holds at most [`PtlSpec::spill`]'s budget and spills sorted runs
//! to temporary files beyond it ([`PtlSorter`], [`SortedPtl`]). A report that shows only the
//! top of the list keeps only that ([`TopRows`]). Either way the rows come out in [`sort`]'s
//! order, byte for byte.

use crate::base::value::{date_text, Value, ValueType};
use crate::io::sinks::ColumnType;
use crate::io::spill::{self, ExternalSort, Sorted, SpillOptions};
use crate::model::event::Event;
use crate::model::ir::Policy;
use crate::model::schema::EventTypeId;
use crate::runtime::eval::{ObligationResult, ObligationStatus, PathwayResult, PeriodStatus};
use chrono::{Datelike, Days, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
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
    /// The next action: the earliest obligation not yet met, overdue ones first (what).
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
    /// The values of the PTL's attribute columns ([`PtlSpec::columns`]), in order; empty text
    /// for an attribute the pathway does not have.
    pub columns: Vec<String>,
    /// The first day over the standard (the day after [`PtlRow::target_date`]).
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub breach_date: NaiveDate,
    /// The first day the wait is over 52 weeks (past, when it already is), if the clock runs
    /// on unpaused.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub week_52_date: NaiveDate,
    /// The next booked appointment or admission (TCI) on or after the as-at date, if known.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub next_appointment: Option<NaiveDate>,
    /// Its kind (`first`, `follow_up`, `diagnostic`, `admission` — an admission is a TCI).
    pub next_appointment_kind: String,
    /// Whether the next action is overdue or still open.
    pub next_action_status: Option<NextActionStatus>,
    /// The rule that created the next action.
    pub next_action_rule: String,
    /// That rule's description.
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub next_action_description: String,
    /// That rule's citation.
    #[serde(serialize_with = "super::serialize_spreadsheet_safe")]
    pub next_action_cite: String,
    /// DNAs since the clock started.
    pub dnas: u32,
    /// Appointments the patient cancelled since the clock started.
    pub patient_cancellations: u32,
    /// Appointments the hospital cancelled since the clock started.
    pub hospital_cancellations: u32,
}

/// Whether a PTL row's next action is past its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextActionStatus {
    /// Past its due date and not met: what the meeting chases first.
    Overdue,
    /// Not yet due.
    Open,
}

impl NextActionStatus {
    /// `overdue` or `open`.
    pub fn as_str(self) -> &'static str {
        match self {
            NextActionStatus::Overdue => "overdue",
            NextActionStatus::Open => "open",
        }
    }
}

impl fmt::Display for NextActionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a PTL cannot be built as asked: a clock or column the policy does not declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// `--ptl-clock` names no clock of the policy.
    UnknownClock {
        /// As given.
        name: String,
        /// The closest clock name, if close.
        suggestion: Option<String>,
        /// Every clock of the policy.
        known: Vec<String>,
    },
    /// `--ptl-columns` names no pathway attribute of the policy.
    UnknownColumn {
        /// As given.
        name: String,
        /// The closest attribute name, if close.
        suggestion: Option<String>,
        /// Every pathway attribute of the policy.
        known: Vec<String>,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, name, suggestion, known) = match self {
            SpecError::UnknownClock {
                name,
                suggestion,
                known,
            } => ("clock", name, suggestion, known),
            SpecError::UnknownColumn {
                name,
                suggestion,
                known,
            } => ("pathway attribute", name, suggestion, known),
        };
        write!(
            f,
            "the policy has no {what} `{}`",
            crate::base::text::excerpt(name)
        )?;
        match suggestion {
            Some(s) => write!(f, ": did you mean `{s}`?")?,
            None if known.is_empty() => write!(f, " (it declares none)")?,
            None => write!(f, " (it has {})", known.join(", "))?,
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// The event types of the national vocabulary (`docs/events.md`) that the PTL reads for the
/// next appointment and the DNA and cancellation counts, resolved once. A policy whose schema
/// lacks one simply has no such column values.
#[derive(Debug, Clone, Default)]
struct Vocabulary {
    /// `appointment_booked`: `(type, appointment_date slot, appointment slot)`.
    booked: Option<(EventTypeId, usize, Option<usize>)>,
    /// Event types that attend or miss an appointment on their own date (`attended`, `dna`),
    /// with their `appointment` slot.
    seen: Vec<(EventTypeId, Option<usize>)>,
    /// Event types that cancel the appointment of their `appointment_date` field.
    cancels: Vec<(EventTypeId, usize)>,
    dna: Option<EventTypeId>,
    patient_cancelled: Option<EventTypeId>,
    hospital_cancelled: Option<EventTypeId>,
}

impl Vocabulary {
    fn of(policy: &Policy) -> Vocabulary {
        let schema = &policy.schema;
        let slot = |e: EventTypeId, name: &str, date: bool| {
            schema.events.get(e as usize).and_then(|def| {
                def.fields
                    .iter()
                    .position(|f| f.name == name && (!date || matches!(f.ty, ValueType::Date)))
            })
        };
        let id = |name: &str| schema.event(name).map(|(id, _)| id);
        let booked = id("appointment_booked").and_then(|e| {
            slot(e, "appointment_date", true).map(|d| (e, d, slot(e, "appointment", false)))
        });
        let seen = ["attended", "dna"]
            .iter()
            .filter_map(|n| id(n))
            .map(|e| (e, slot(e, "appointment", false)))
            .collect();
        let cancels = ["patient_cancelled", "hospital_cancelled"]
            .iter()
            .filter_map(|n| id(n))
            .filter_map(|e| slot(e, "appointment_date", true).map(|d| (e, d)))
            .collect();
        Vocabulary {
            booked,
            seen,
            cancels,
            dna: id("dna"),
            patient_cancelled: id("patient_cancelled"),
            hospital_cancelled: id("hospital_cancelled"),
        }
    }
}

/// What a PTL holds: the clock it tracks and the attribute columns, resolved against a policy.
#[derive(Debug, Clone)]
pub struct PtlSpec {
    /// The clock tracked.
    pub clock: String,
    /// The pathway attributes shown, in order, after the pathway id.
    pub columns: Vec<String>,
    /// The schema's text of each enum value (for the appointment kind).
    enum_text: Vec<Vec<String>>,
    vocabulary: Vocabulary,
    /// Rule descriptions by rule name.
    descriptions: HashMap<String, String>,
    /// The last breach date listed (`--horizon`): rows breaching later are not kept at all.
    pub last_breach: Option<NaiveDate>,
    /// How much memory the list may hold while it is gathered, and where it spills beyond.
    pub spill: SpillOptions,
}

impl PtlSpec {
    /// The PTL of `clock` with the attribute `columns`, checked against `policy`: an unknown
    /// clock or attribute is an error with a did-you-mean.
    pub fn new(policy: &Policy, clock: &str, columns: &[String]) -> Result<PtlSpec, SpecError> {
        if policy.clock_id(clock).is_none() {
            let known: Vec<String> = policy.clocks.iter().map(|c| c.name.clone()).collect();
            return Err(SpecError::UnknownClock {
                name: clock.to_string(),
                suggestion: crate::base::suggest::suggest(clock, known.iter().map(String::as_str)),
                known,
            });
        }
        let attributes: Vec<String> = policy
            .schema
            .attributes
            .iter()
            .map(|a| a.name.clone())
            .collect();
        for c in columns {
            if !attributes.contains(c) {
                return Err(SpecError::UnknownColumn {
                    name: c.clone(),
                    suggestion: crate::base::suggest::suggest(
                        c,
                        attributes.iter().map(String::as_str),
                    ),
                    known: attributes,
                });
            }
        }
        Ok(PtlSpec::unchecked(policy, clock, columns.to_vec()))
    }

    /// The PTL of `clock` with the default columns ([`PtlSpec::default_columns`]), not checked:
    /// an unknown clock gives an empty list.
    pub fn unchecked(policy: &Policy, clock: &str, columns: Vec<String>) -> PtlSpec {
        PtlSpec {
            clock: clock.to_string(),
            columns,
            enum_text: policy
                .schema
                .enums
                .iter()
                .map(|e| e.variants.clone())
                .collect(),
            vocabulary: Vocabulary::of(policy),
            descriptions: policy
                .rules
                .iter()
                .filter_map(|r| Some((r.name.clone(), r.description.clone()?)))
                .collect(),
            last_breach: None,
            spill: SpillOptions::default(),
        }
    }

    /// The same list, of only the pathways that breach within `days` of `as_at` (on or
    /// before `as_at + days`), those already breached included: `--horizon 6w`.
    pub fn with_horizon(self, as_at: NaiveDate, days: i64) -> PtlSpec {
        PtlSpec {
            last_breach: Some(add_days(as_at, days)),
            ..self
        }
    }

    /// The same list, gathered within `spill`'s memory budget.
    pub fn spilling(self, spill: SpillOptions) -> PtlSpec {
        PtlSpec { spill, ..self }
    }

    /// Whether `row` is on the list (within the horizon, if there is one).
    pub fn keeps(&self, row: &PtlRow) -> bool {
        self.last_breach.is_none_or(|last| row.breach_date <= last)
    }

    /// The columns a PTL shows unless told otherwise: `priority` and `specialty`, those of
    /// them the policy declares.
    pub fn default_columns(policy: &Policy) -> Vec<String> {
        ["priority", "specialty"]
            .into_iter()
            .filter(|n| policy.schema.attributes.iter().any(|a| a.name == *n))
            .map(str::to_string)
            .collect()
    }

    /// The PTL row of one pathway (its latest open period of the clock, if any), reading its
    /// `events` (dated up to the as-at date, in any order) for appointments and counts.
    pub fn row(&self, r: &PathwayResult, events: &[Event]) -> Option<PtlRow> {
        let p = r
            .clocks
            .iter()
            .rev()
            .find(|p| p.clock == self.clock && p.status.is_open())?;
        let days = p.days_waited.unwrap_or(0);
        let next = next_action(&r.obligations, r.as_at);
        let (dnas, patient_cancellations, hospital_cancellations) = self.counts(events, p.start);
        let (next_appointment, next_appointment_kind) =
            self.next_appointment(events, p.start, r.as_at);
        let attr = |name: &str| r.attributes.get(name).unwrap_or_default().to_string();
        Some(PtlRow {
            pathway_id: r.pathway_id.to_string(),
            clock: p.clock.to_string(),
            status: p.status,
            start: p.start,
            days_waited: days,
            weeks_waited: days.div_euclid(7),
            week_band: week_band_label(days),
            target_date: p.target_date,
            breached: p.breached,
            next_obligation: next.map(|(o, _)| o.what.to_string()).unwrap_or_default(),
            next_due: next.map(|(o, _)| o.due),
            priority: attr("priority"),
            specialty: attr("specialty"),
            columns: self.columns.iter().map(|c| attr(c)).collect(),
            breach_date: add_days(p.target_date, 1),
            week_52_date: add_days(r.as_at, 52 * 7 + 1 - days),
            next_appointment,
            next_appointment_kind,
            next_action_status: next.map(|(_, s)| s),
            next_action_rule: next.map(|(o, _)| o.rule.to_string()).unwrap_or_default(),
            next_action_description: next
                .and_then(|(o, _)| self.descriptions.get(o.rule.as_str()).cloned())
                .unwrap_or_default(),
            next_action_cite: next.map(|(o, _)| o.cite.to_string()).unwrap_or_default(),
            dnas,
            patient_cancellations,
            hospital_cancellations,
        })
    }

    /// DNAs, patient and hospital cancellations dated on or after `since`.
    fn counts(&self, events: &[Event], since: NaiveDate) -> (u32, u32, u32) {
        let v = &self.vocabulary;
        let mut n = (0, 0, 0);
        for e in events.iter().filter(|e| e.date >= since) {
            let k = Some(e.kind);
            if k == v.dna {
                n.0 += 1;
            } else if k == v.patient_cancelled {
                n.1 += 1;
            } else if k == v.hospital_cancelled {
                n.2 += 1;
            }
        }
        n
    }

    /// The earliest appointment booked since `since` for a date on or after `as_at` that is
    /// still standing: the latest booking of its kind, not cancelled, attended or missed.
    fn next_appointment(
        &self,
        events: &[Event],
        since: NaiveDate,
        as_at: NaiveDate,
    ) -> (Option<NaiveDate>, String) {
        let v = &self.vocabulary;
        let Some((booked, date_slot, kind_slot)) = v.booked else {
            return (None, String::new());
        };
        let field = |e: &Event, slot: Option<usize>| slot.and_then(|s| e.fields.get(s)).cloned();
        // The latest booking of each kind: a new booking of a kind replaces the last.
        let mut latest: Vec<(Option<Value>, NaiveDate, u32, NaiveDate)> = Vec::new();
        for e in events
            .iter()
            .filter(|e| e.kind == booked && e.date >= since)
        {
            let Some(Value::Date(when)) = field(e, Some(date_slot)) else {
                continue;
            };
            let kind = field(e, kind_slot);
            match latest.iter_mut().find(|(k, ..)| *k == kind) {
                Some(l) if (e.date, e.seq) >= (l.1, l.2) => *l = (kind, e.date, e.seq, when),
                Some(_) => {}
                None => latest.push((kind, e.date, e.seq, when)),
            }
        }
        let standing = |kind: &Option<Value>, booked_on: NaiveDate, when: NaiveDate| {
            let cancelled = events.iter().any(|e| {
                e.date >= booked_on
                    && v.cancels.iter().any(|(t, slot)| {
                        e.kind == *t && field(e, Some(*slot)) == Some(Value::Date(when))
                    })
            });
            let seen = events.iter().any(|e| {
                e.date == when
                    && v.seen.iter().any(|(t, slot)| {
                        e.kind == *t && (slot.is_none() || field(e, *slot) == *kind)
                    })
            });
            !cancelled && !seen
        };
        let next = latest
            .iter()
            .filter(|(kind, on, _, when)| *when >= as_at && standing(kind, *on, *when))
            .min_by_key(|(_, _, _, when)| *when);
        match next {
            Some((kind, _, _, when)) => (
                Some(*when),
                match kind {
                    Some(Value::Enum(e, i)) => self
                        .enum_text
                        .get(*e as usize)
                        .and_then(|v| v.get(*i as usize))
                        .cloned()
                        .unwrap_or_default(),
                    _ => String::new(),
                },
            ),
            None => (None, String::new()),
        }
    }

    /// The CSV header: `pathway_id`, the attribute columns, then [`PTL_COLUMNS`].
    pub fn header(&self) -> Vec<String> {
        std::iter::once("pathway_id".to_string())
            .chain(self.columns.iter().cloned())
            .chain(PTL_COLUMNS.iter().map(|c| c.to_string()))
            .collect()
    }

    /// How the column `name` of [`PtlSpec::header`] is stored: the pathway id and the
    /// attribute columns are text, the rest as [`PTL_TYPED_COLUMNS`] says.
    pub fn column_type(&self, name: &str) -> ColumnType {
        column_type(&self.columns, name)
    }

    /// The cells of a row under [`PtlSpec::header`], texts from the input made
    /// [`spreadsheet_safe`](super::spreadsheet_safe).
    pub fn cells(&self, r: &PtlRow) -> Vec<String> {
        let safe = |t: &str| super::spreadsheet_safe(t).into_owned();
        let date = |d: Option<NaiveDate>| d.map(date_text).unwrap_or_default();
        let mut cells = vec![safe(&r.pathway_id)];
        cells.extend(r.columns.iter().map(|c| safe(c)));
        cells.extend([
            r.clock.clone(),
            r.status.to_string(),
            date_text(r.start),
            r.weeks_waited.to_string(),
            r.days_waited.to_string(),
            r.week_band.to_string(),
            date_text(r.breach_date),
            r.breached.to_string(),
            date_text(r.week_52_date),
            date(r.next_appointment),
            r.next_appointment_kind.clone(),
            safe(&r.next_obligation),
            r.next_action_status
                .map(|s| s.to_string())
                .unwrap_or_default(),
            date(r.next_due),
            r.next_action_rule.clone(),
            safe(&r.next_action_description),
            safe(&r.next_action_cite),
            r.dnas.to_string(),
            r.patient_cancellations.to_string(),
            r.hospital_cancellations.to_string(),
        ]);
        cells
    }

    /// Writes the PTL as CSV (header first, even when no pathway is on the list).
    pub fn write_csv(&self, rows: &[PtlRow], out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.header()).map_err(io::Error::other)?;
        for r in rows {
            w.write_record(self.cells(r)).map_err(io::Error::other)?;
        }
        w.flush()
    }
}

/// The PTL columns after the pathway id and the attribute columns, each with how it is stored
/// (the pathway id and the attributes are text). The one description of these columns.
pub const PTL_TYPED_COLUMNS: [(&str, ColumnType); 20] = [
    ("clock", ColumnType::Text),
    ("status", ColumnType::Text),
    ("clock_start", ColumnType::Date),
    ("weeks_waited", ColumnType::Int),
    ("days_waited", ColumnType::Int),
    ("week_band", ColumnType::Text),
    ("breach_date", ColumnType::Date),
    ("breached", ColumnType::Bool),
    ("week_52_date", ColumnType::Date),
    ("next_appointment", ColumnType::Date),
    ("next_appointment_kind", ColumnType::Text),
    ("next_action", ColumnType::Text),
    ("next_action_status", ColumnType::Text),
    ("next_action_due", ColumnType::Date),
    ("next_action_rule", ColumnType::Text),
    ("next_action_description", ColumnType::Text),
    ("next_action_cite", ColumnType::Text),
    ("dnas", ColumnType::Int),
    ("patient_cancellations", ColumnType::Int),
    ("hospital_cancellations", ColumnType::Int),
];

/// How the PTL column `name` is stored when `attributes` are its attribute columns: the
/// pathway id and the attributes are text (whatever their names), the rest as
/// [`PTL_TYPED_COLUMNS`] says.
pub fn column_type(attributes: &[String], name: &str) -> ColumnType {
    if name == "pathway_id" || attributes.iter().any(|c| c == name) {
        return ColumnType::Text;
    }
    PTL_TYPED_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(ColumnType::Text, |(_, t)| *t)
}

/// The names of [`PTL_TYPED_COLUMNS`].
pub const PTL_COLUMNS: &[&str] = &super::column_names(PTL_TYPED_COLUMNS);

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    let moved = if n >= 0 {
        d.checked_add_days(Days::new(n.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(n.unsigned_abs()))
    };
    moved.unwrap_or(d)
}

/// The next action among a pathway's obligations at `as_at`: the earliest-due obligation
/// that is overdue (past due, not met), else the earliest-due one still open. An obligation
/// met, on time or late, is no action.
pub fn next_action(
    obligations: &[ObligationResult],
    as_at: NaiveDate,
) -> Option<(&ObligationResult, NextActionStatus)> {
    let unmet = || obligations.iter().filter(|o| o.met_on.is_none());
    let overdue = unmet()
        .filter(|o| o.status == ObligationStatus::Missed || o.due < as_at)
        .min_by_key(|o| o.due);
    match overdue {
        Some(o) => Some((o, NextActionStatus::Overdue)),
        None => unmet()
            .filter(|o| o.status == ObligationStatus::Open)
            .min_by_key(|o| o.due)
            .map(|o| (o, NextActionStatus::Open)),
    }
}

/// Keeps the rows that breach within `days` of `as_at` (on or before `as_at + days`),
/// those already breached included: `--horizon 6w`.
pub fn within_horizon(rows: &mut Vec<PtlRow>, as_at: NaiveDate, days: i64) {
    let last = add_days(as_at, days);
    rows.retain(|r| r.breach_date <= last);
}

/// Parses a PTL horizon: `6w` (weeks) or `42d` (days), a whole number of either.
pub fn parse_horizon(text: &str) -> Option<i64> {
    let t = text.trim();
    let (n, unit) = t.split_at(t.len().checked_sub(1)?);
    let n: i64 = n.parse().ok().filter(|n| *n >= 0 && *n <= 100_000)?;
    match unit {
        "w" => Some(n * 7),
        "d" => Some(n),
        _ => None,
    }
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

/// The PTL row of one pathway without its events (so no appointment or counts) and no
/// attribute columns: its latest open period of `clock`, if any.
pub fn row(r: &PathwayResult, clock: &str) -> Option<PtlRow> {
    PtlSpec {
        clock: clock.to_string(),
        columns: Vec::new(),
        enum_text: Vec::new(),
        vocabulary: Vocabulary::default(),
        descriptions: HashMap::new(),
        last_breach: None,
        spill: SpillOptions::default(),
    }
    .row(r, &[])
}

/// Puts PTL rows in list order: earliest breach date first, then longest wait, then pathway
/// id; rows equal in all three keep their order (the sort is stable), which [`sort_key`]'s
/// sequence number makes explicit.
pub fn sort(rows: &mut [PtlRow]) {
    rows.par_sort_by(|a, b| {
        a.breach_date
            .cmp(&b.breach_date)
            .then_with(|| b.days_waited.cmp(&a.days_waited))
            .then_with(|| a.pathway_id.cmp(&b.pathway_id))
    });
}

/// Appends the sort key of `row` to `key`: its bytes order rows as [`sort`] does — breach
/// date, then longest wait, then pathway id — and then by `seq`, the row's place in the input,
/// so that no two rows' keys are equal and every merge of them comes out the same.
pub fn sort_key(row: &PtlRow, seq: u64, key: &mut Vec<u8>) {
    spill::key::int(key, i64::from(row.breach_date.num_days_from_ce()));
    spill::key::int_desc(key, row.days_waited);
    spill::key::text(key, row.pathway_id.as_bytes());
    spill::key::uint(key, seq);
}

/// PTL rows of a part of the input, encoded (where the pathways are evaluated, in parallel) for
/// a [`PtlSorter`]: each row's [`sort_key`] and its CSV record under [`PtlSpec::header`].
pub struct PtlBatch {
    keys: Vec<u8>,
    records: csv::Writer<Vec<u8>>,
    lengths: Vec<(u32, u32)>,
}

impl Default for PtlBatch {
    fn default() -> PtlBatch {
        PtlBatch {
            keys: Vec::new(),
            records: csv::WriterBuilder::new()
                .buffer_capacity(4096)
                .from_writer(Vec::new()),
            lengths: Vec::new(),
        }
    }
}

impl PtlBatch {
    /// Adds `row`, the `seq`-th pathway of the input, as `spec` writes it.
    pub fn add(&mut self, spec: &PtlSpec, row: &PtlRow, seq: u64) -> io::Result<()> {
        let keys = self.keys.len();
        sort_key(row, seq, &mut self.keys);
        let records = self.records.get_ref().len();
        self.records
            .write_record(spec.cells(row))
            .map_err(io::Error::other)?;
        self.records.flush()?;
        let length = |n: usize| u32::try_from(n).map_err(io::Error::other);
        self.lengths.push((
            length(self.keys.len() - keys)?,
            length(self.records.get_ref().len() - records)?,
        ));
        Ok(())
    }

    /// Rows added.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// Each row's key and CSV record, in the order added.
    fn rows(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (keys, records) = (&self.keys[..], &self.records.get_ref()[..]);
        self.lengths
            .iter()
            .scan((0usize, 0usize), move |(k, r), (kl, rl)| {
                let (kl, rl) = (*kl as usize, *rl as usize);
                let row = (&keys[*k..*k + kl], &records[*r..*r + rl]);
                *k += kl;
                *r += rl;
                Some(row)
            })
    }
}

/// A PTL being gathered: encoded rows ([`PtlBatch`]) through an external sort within the
/// spec's memory budget ([`PtlSpec::spill`]).
pub struct PtlSorter {
    header: Vec<String>,
    sort: ExternalSort,
}

impl PtlSorter {
    /// An empty list of `spec`'s columns.
    pub fn new(spec: &PtlSpec) -> PtlSorter {
        PtlSorter {
            header: spec.header(),
            sort: ExternalSort::new(spec.spill.clone()),
        }
    }

    /// Adds a batch's rows; fails when a sorted run cannot be spilled.
    pub fn extend(&mut self, batch: &PtlBatch) -> io::Result<()> {
        for (key, record) in batch.rows() {
            self.sort.push(key, record)?;
        }
        Ok(())
    }

    /// The list, in order.
    pub fn finish(self) -> SortedPtl {
        SortedPtl {
            header: self.header,
            rows: self.sort.finish(),
        }
    }
}

/// A gathered PTL in list order, ready to be written (as often as wanted: to a file and to a
/// table). Its temporary files are removed when it is dropped.
#[derive(Debug)]
pub struct SortedPtl {
    header: Vec<String>,
    rows: Sorted,
}

impl SortedPtl {
    /// Rows on the list.
    pub fn len(&self) -> u64 {
        self.rows.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Sorted runs spilled to temporary files while it was gathered (0: it fitted in memory).
    pub fn spilled_runs(&self) -> usize {
        self.rows.spilled_runs()
    }

    /// Writes the list as CSV (header first, even when no pathway is on the list): the same
    /// bytes as [`PtlSpec::write_csv`] of the rows [`sort`]ed.
    pub fn write_csv(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(&mut *out);
        w.write_record(&self.header).map_err(io::Error::other)?;
        w.flush()?;
        drop(w);
        self.rows.for_each(|_, record| out.write_all(record))?;
        out.flush()
    }
}

/// The first `n` rows of a PTL in list order, kept as rows are offered in input order: the
/// rows a report shows, without the rest of the list.
#[derive(Debug)]
pub struct TopRows {
    n: usize,
    offered: u64,
    heap: BinaryHeap<Ranked>,
}

/// A row with its sort key; the heap's greatest is the last row on the list.
#[derive(Debug)]
struct Ranked {
    key: Vec<u8>,
    row: PtlRow,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl TopRows {
    /// Keeps the first `n` rows.
    pub fn new(n: usize) -> TopRows {
        TopRows {
            n,
            offered: 0,
            heap: BinaryHeap::with_capacity(n.min(1 << 16) + 1),
        }
    }

    /// Offers the next row of the input; gives back the row no longer kept (this one, or one
    /// it displaced), if any.
    pub fn offer(&mut self, row: PtlRow) -> Option<PtlRow> {
        let mut key = Vec::with_capacity(48);
        sort_key(&row, self.offered, &mut key);
        self.offered += 1;
        self.heap.push(Ranked { key, row });
        if self.heap.len() > self.n {
            return self.heap.pop().map(|r| r.row);
        }
        None
    }

    /// Rows offered (the length of the whole list).
    pub fn offered(&self) -> u64 {
        self.offered
    }

    /// The rows kept, in list order.
    pub fn into_rows(self) -> Vec<PtlRow> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.row)
            .collect()
    }
}

/// The PTL of `clock` over the results (without events), sorted as [`sort`] does.
pub fn build(results: &[PathwayResult], clock: &str) -> Vec<PtlRow> {
    let mut rows: Vec<PtlRow> = results.iter().filter_map(|r| row(r, clock)).collect();
    sort(&mut rows);
    rows
}

/// Writes a PTL without attribute columns as CSV (see [`PtlSpec::write_csv`]).
pub fn write_csv(rows: &[PtlRow], out: &mut dyn Write) -> io::Result<()> {
    PtlSpec {
        clock: String::new(),
        columns: Vec::new(),
        enum_text: Vec::new(),
        vocabulary: Vocabulary::default(),
        descriptions: HashMap::new(),
        last_breach: None,
        spill: SpillOptions::default(),
    }
    .write_csv(rows, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        crate::base::value::parse_date(s).unwrap_or_default()
    }

    fn obligation(
        what: &str,
        due: &str,
        status: ObligationStatus,
        met: Option<&str>,
    ) -> ObligationResult {
        ObligationResult {
            what: what.into(),
            created: d("2025-01-01"),
            due: d(due),
            status,
            met_on: met.map(d),
            rule: crate::runtime::eval::Name::from(format!("rule_{what}").as_str()),
            cite: "1.1".into(),
        }
    }

    #[test]
    fn the_next_action_is_the_earliest_overdue_then_the_earliest_open() {
        use ObligationStatus::{Met, Missed, Open};
        let as_at = d("2025-03-31");
        // (obligations, expected what and status)
        type Case = (
            Vec<ObligationResult>,
            Option<(&'static str, NextActionStatus)>,
        );
        let cases: Vec<Case> = vec![
            (vec![], None),
            (
                vec![obligation("a", "2025-04-10", Open, None)],
                Some(("a", NextActionStatus::Open)),
            ),
            // Overdue before open, even when the open one is due earlier than some overdue.
            (
                vec![
                    obligation("open", "2025-04-01", Open, None),
                    obligation("late2", "2025-03-20", Missed, None),
                    obligation("late1", "2025-03-01", Missed, None),
                ],
                Some(("late1", NextActionStatus::Overdue)),
            ),
            // Met (on time or late) is no action.
            (
                vec![
                    obligation("met_late", "2025-03-01", Missed, Some("2025-03-05")),
                    obligation("met", "2025-02-01", Met, Some("2025-02-01")),
                    obligation("open", "2025-04-30", Open, None),
                ],
                Some(("open", NextActionStatus::Open)),
            ),
            (
                vec![obligation(
                    "met_late",
                    "2025-03-01",
                    Missed,
                    Some("2025-03-05"),
                )],
                None,
            ),
        ];
        for (obligations, expected) in cases {
            let got = next_action(&obligations, as_at).map(|(o, s)| (o.what.as_str(), s));
            assert_eq!(got, expected, "{obligations:?}");
        }
    }

    /// A row with the fields the list is sorted by; the rest empty.
    fn ranked(breach: i64, days_waited: i64, id: &str) -> PtlRow {
        let day = add_days(d("2025-01-01"), breach);
        PtlRow {
            pathway_id: id.to_string(),
            clock: "rtt".into(),
            status: PeriodStatus::Running,
            start: day,
            days_waited,
            weeks_waited: days_waited / 7,
            week_band: week_band_label(days_waited),
            target_date: day,
            breached: false,
            next_obligation: String::new(),
            next_due: None,
            priority: String::new(),
            specialty: String::new(),
            columns: Vec::new(),
            breach_date: day,
            week_52_date: day,
            next_appointment: None,
            next_appointment_kind: String::new(),
            next_action_status: None,
            next_action_rule: String::new(),
            next_action_description: String::new(),
            next_action_cite: String::new(),
            dnas: 0,
            patient_cancellations: 0,
            hospital_cancellations: 0,
        }
    }

    proptest::proptest! {
        /// Sorting by the encoded keys is `sort`, ties included (equal rows keep their input
        /// order); so is keeping the top rows.
        #[test]
        fn sort_keys_order_rows_as_the_list_does(
            rows in proptest::collection::vec(
                (-3i64..3, -2i64..400, proptest::sample::select(vec!["", "a", "a\0", "ab", "b", "P10", "P9"])),
                0..60,
            ),
            top in 0usize..70,
        ) {
            let rows: Vec<PtlRow> = rows.iter().map(|(b, w, id)| ranked(*b, *w, id)).collect();
            let order = |rows: &[PtlRow]| -> Vec<(NaiveDate, i64, String, usize)> {
                rows.iter().map(|r| (r.breach_date, r.days_waited, r.pathway_id.clone(), r.columns.len())).collect()
            };
            // Each row carries its input position (in `columns`, by length) to check stability.
            let rows: Vec<PtlRow> = rows
                .into_iter()
                .enumerate()
                .map(|(i, mut r)| {
                    r.columns = vec![String::new(); i];
                    r
                })
                .collect();
            let mut want = rows.clone();
            sort(&mut want);
            let mut keyed: Vec<(Vec<u8>, PtlRow)> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut k = Vec::new();
                    sort_key(r, i as u64, &mut k);
                    (k, r.clone())
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            let got: Vec<PtlRow> = keyed.into_iter().map(|(_, r)| r).collect();
            proptest::prop_assert_eq!(order(&got), order(&want));
            let mut kept = TopRows::new(top);
            for r in &rows {
                kept.offer(r.clone());
            }
            let head = &want[..top.min(want.len())];
            proptest::prop_assert_eq!(order(&kept.into_rows()), order(head));
        }
    }

    #[test]
    fn horizons_are_weeks_or_days() {
        for (text, days) in [
            ("6w", Some(42)),
            ("42d", Some(42)),
            ("0w", Some(0)),
            (" 1w ", Some(7)),
            ("6", None),
            ("w", None),
            ("-1w", None),
            ("6m", None),
            ("", None),
            ("999999w", None),
        ] {
            assert_eq!(parse_horizon(text), days, "{text:?}");
        }
    }

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
