//! What evaluating one pathway returns: the result shape of `docs/events.md` (clocks, outcomes,
//! obligations, conflicts, warnings) plus an optional trace for `pal explain` and failing tests.

pub use crate::base::name::{Name, ShortText};
pub use crate::model::status::{ObligationStatus, PeriodStatus, RuleOutcome};
use chrono::NaiveDate;
use serde::Serialize;

/// The result for one pathway, serialised as one JSON Lines object by `pal run`.
///
/// Names and citations from the policy are [`Name`]s and data values [`ShortText`]s, so
/// building a result allocates only its lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathwayResult {
    /// The pathway's id.
    pub pathway_id: ShortText,
    /// The report date.
    pub as_at: NaiveDate,
    /// Every period of every clock, in start order.
    pub clocks: Vec<PeriodResult>,
    /// Outcomes the policy required, in date order.
    pub outcomes: Vec<OutcomeResult>,
    /// Obligations created, with their status at the as-at date.
    pub obligations: Vec<ObligationResult>,
    /// Rules that disagreed about a clock; never settled silently.
    pub conflicts: Vec<ConflictResult>,
    /// Data-quality warnings.
    pub warnings: Vec<WarningResult>,
    /// The pathway attributes at the as-at date (those that are set), e.g. priority, specialty.
    pub attributes: Attributes,
    /// The step-by-step trace (only when asked for).
    pub trace: Option<Vec<TraceStep>>,
}

impl Serialize for PathwayResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = if self.trace.is_some() { 9 } else { 8 };
        let mut st = s.serialize_struct("PathwayResult", fields)?;
        st.serialize_field("pathway_id", &self.pathway_id)?;
        st.serialize_field("as_at", &crate::base::value::date_text(self.as_at))?;
        st.serialize_field("clocks", &self.clocks)?;
        st.serialize_field("outcomes", &self.outcomes)?;
        st.serialize_field("obligations", &self.obligations)?;
        st.serialize_field("conflicts", &self.conflicts)?;
        st.serialize_field("warnings", &self.warnings)?;
        st.serialize_field("attributes", &self.attributes)?;
        if let Some(t) = &self.trace {
            st.serialize_field("trace", t)?;
        }
        st.end()
    }
}

/// A pathway's attributes at the as-at date, in name order: a small sorted vector rather than a
/// map, since a policy declares a handful and each result is built once.
///
/// In JSON (an object), a `Bool` or `Int` attribute is a boolean or a number and every other
/// type (enum, date, text — an NHS number too) a string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(Vec<Attribute>);

/// One attribute's value, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: Name,
    /// Its value as the policy writes it (`routine`, `2025-01-06`, `true`).
    pub value: ShortText,
    /// Whether its type is `Bool` or `Int`: JSON writes it as a boolean or a number.
    pub literal: bool,
}

impl Attributes {
    /// Sets `name` to `value`, keeping name order (appending in order is the cheap case).
    pub fn insert(&mut self, name: Name, value: impl Into<ShortText>, literal: bool) {
        let attribute = Attribute {
            name,
            value: value.into(),
            literal,
        };
        match self.0.last() {
            Some(last) if last.name.as_str() >= name.as_str() => {
                match self.position(name.as_str()) {
                    Ok(i) => self.0[i] = attribute,
                    Err(i) => self.0.insert(i, attribute),
                }
            }
            _ => self.0.push(attribute),
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|a| a.name.as_str().cmp(name))
    }

    /// The value of attribute `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|i| self.0[i].value.as_str())
    }

    /// Whether attribute `name` is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Each attribute's name and value, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|a| (a.name.as_str(), a.value.as_str()))
    }

    /// The attributes with whether each is literal, in name order.
    pub fn entries(&self) -> &[Attribute] {
        &self.0
    }

    /// How many are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Attributes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for a in &self.0 {
            let name = a.name.as_str();
            match (a.literal, a.value.as_str()) {
                (true, "true") => m.serialize_entry(name, &true)?,
                (true, "false") => m.serialize_entry(name, &false)?,
                (true, v) => match v.parse::<i64>() {
                    Ok(n) => m.serialize_entry(name, &n)?,
                    Err(_) => m.serialize_entry(name, v)?,
                },
                (false, v) => m.serialize_entry(name, v)?,
            }
        }
        m.end()
    }
}

/// One period of one clock.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeriodResult {
    /// Clock name (`rtt`, `cancer_62`, …).
    pub clock: Name,
    /// 1-based period number within the clock.
    pub period: u32,
    /// `running`, `paused`, `stopped` or `nullified`.
    pub status: PeriodStatus,
    /// Clock start (after any reset).
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub start: NaiveDate,
    /// Stop or nullification date.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub stop: Option<NaiveDate>,
    /// Stop or nullification reason.
    pub reason: Option<Name>,
    /// (stop or as-at) − start − paused days; `null` when nullified.
    pub days_waited: Option<i64>,
    /// Days excluded by pauses (cancer adjustments).
    pub paused_days: i64,
    /// The standard, in days.
    pub target_days: i64,
    /// start + target + paused days: the last day within the standard.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub target_date: NaiveDate,
    /// days_waited > target_days.
    pub breached: bool,
    /// Completed weeks waited (floor of days / 7); `null` when nullified.
    pub weeks_waited: Option<i64>,
    /// The rule that started the period.
    pub started_by: Option<Name>,
    /// The rule that stopped or nullified it.
    pub stopped_by: Option<Name>,
}

/// An outcome a rule required (discharge, rebook, review, …).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OutcomeResult {
    /// Outcome name.
    pub outcome: Name,
    /// Its date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub date: NaiveDate,
    /// The rule (or exception) that required it.
    pub rule: Name,
    /// That rule's citation.
    pub cite: Name,
}

/// An obligation (`require … within …`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ObligationResult {
    /// What is required.
    pub what: Name,
    /// When it was created.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub created: NaiveDate,
    /// The last day it may be met.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub due: NaiveDate,
    /// `open`, `met` or `missed`.
    pub status: ObligationStatus,
    /// The date of the event that met it (possibly late), if any.
    #[serde(serialize_with = "crate::base::value::serialize_opt_date")]
    pub met_on: Option<NaiveDate>,
    /// The rule that created it.
    pub rule: Name,
    /// That rule's citation.
    pub cite: Name,
}

/// Two or more rules acted on the same clock for the same event without an exception between
/// them. None of their actions on that clock was applied.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConflictResult {
    /// The date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub date: NaiveDate,
    /// The event (or timer) that triggered them.
    pub event: String,
    /// The clock they disagreed about (empty when exceptions of one rule disagreed).
    pub clock: Name,
    /// The rules, in policy order.
    pub rules: Vec<Name>,
    /// Their citations, in the same order.
    pub cites: Vec<Name>,
    /// What was done about it.
    pub resolution: String,
}

/// A data-quality warning.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WarningResult {
    /// The date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub date: NaiveDate,
    /// What is wrong.
    pub message: String,
    /// The rule involved, if any.
    pub rule: Option<Name>,
    /// Its citation.
    pub cite: Option<Name>,
    /// The input line of the event involved, if any.
    pub line: Option<u32>,
}

/// One step of the trace: an event applied, or a timer fired.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TraceStep {
    /// The date.
    #[serde(serialize_with = "crate::base::value::serialize_date")]
    pub date: NaiveDate,
    /// The event type, or `timer RULE`.
    pub event: String,
    /// Input line of the event, if any.
    pub line: Option<u32>,
    /// Every rule considered, and what happened.
    pub rules: Vec<RuleTrace>,
    /// The clocks after the step, one per clock (`rtt running since 2025-01-06 (12 days)`).
    pub clocks: Vec<String>,
}

/// What happened to one rule at one step.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RuleTrace {
    /// The rule.
    pub rule: Name,
    /// Its citation.
    pub cite: Name,
    /// What happened.
    pub result: RuleOutcome,
    /// More detail (the exception that applied, the timer's due date, …).
    pub detail: Option<String>,
}
