//! The monthly RTT return: the policy run as at the last day of the month, each period of the
//! RTT clock counted in the parts of NHS England's return (RTT recording and reporting
//! guidance; the full-CSV layout in [`crate::io::report::rtt_return`]):
//!
//! * Part 1A — periods stopped in the month whose stop is an admission for treatment: a
//!   `treatment_started` event with `admitted: true` on the stop date (or an `attended`
//!   admission on the stop date of a first-definitive-treatment stop);
//! * Part 1B — every other period stopped in the month;
//! * Part 2 — periods open (running or paused) at the end of the month;
//! * Part 2A — those of Part 2 with a decision to admit since the period started: a
//!   `decision_to_treat` with `admitted: true`, or an `added_to_waiting_list` to the elective
//!   list;
//! * Part 3 — periods that started in the month and are not nullified by its end.
//!
//! Nullified periods are in no part (DD "Discharge After Patient Did Not Attend"). Weeks waited
//! are the reporting bands of `model::calendar::weeks_band`: `Gt 00 To 01` holds waits of 0–7
//! days, `Gt 17 To 18` ends at 126 days, `Gt 104` starts at 729. Each pathway's treatment
//! function is read from a pathway attribute and grouped by [`TreatmentFunctionGroups`].

use super::groups::{Match, TreatmentFunctionGroups};
use super::{run_gathering, Reading, ReportMonth, ReportWarning, RowAccount, WarningKind};
use crate::base::value::{Value, ValueType};
use crate::io::events::PathwayEvents;
use crate::io::report::ptl::week_band_index;
use crate::io::report::rtt_return::{
    ReturnOrganisations, RttPart, RttReturn, RttReturnRow, ALL_FUNCTIONS, BANDS,
};
use crate::model::event::Event;
use crate::model::ir::Policy;
use crate::model::schema::{EventTypeId, Schema};
use crate::runtime::eval::{PathwayResult, PeriodStatus};
use crate::services::batch::{self, Input};
use std::collections::BTreeMap;

/// What the return is about and how pathways are grouped.
#[derive(Debug, Clone)]
pub struct RttReturnOptions {
    /// The month.
    pub month: ReportMonth,
    /// Provider and commissioner (the descriptive columns).
    pub organisations: ReturnOrganisations,
    /// The clock counted (`rtt`).
    pub clock: String,
    /// The pathway attribute that holds the treatment function (`specialty`).
    pub function_attribute: String,
    /// The grouping of treatment functions.
    pub groups: TreatmentFunctionGroups,
}

/// A field of an event type: its type id and slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    kind: EventTypeId,
    field: usize,
}

impl Slot {
    fn find(schema: &Schema, event: &str, field: &str) -> Option<Slot> {
        let (kind, def) = schema.event(event)?;
        let field = def.fields.iter().position(|f| f.name == field)?;
        Some(Slot { kind, field })
    }

    /// The slot and the value of `variant` of its enum.
    fn with_variant(
        schema: &Schema,
        event: &str,
        field: &str,
        variant: &str,
    ) -> Option<(Slot, Value)> {
        let slot = Slot::find(schema, event, field)?;
        let (_, def) = schema.event(event)?;
        let ValueType::Enum(e) = def.fields.get(slot.field)?.ty else {
            return None;
        };
        let index = schema
            .enum_def(e)
            .variants
            .iter()
            .position(|v| v == variant)?;
        Some((slot, Value::Enum(e, index as u32)))
    }

    fn holds(&self, e: &Event, value: &Value) -> bool {
        e.kind == self.kind && e.fields.get(self.field) == Some(value)
    }
}

/// The event fields the parts are told apart by, resolved once against the policy's schema.
#[derive(Debug, Clone)]
struct Signs {
    admitted_treatment: Option<Slot>,
    attended_admission: Option<(Slot, Value)>,
    decision_to_admit: Option<Slot>,
    elective_listing: Option<(Slot, Value)>,
}

impl Signs {
    fn of(schema: &Schema) -> Signs {
        Signs {
            admitted_treatment: Slot::find(schema, "treatment_started", "admitted"),
            attended_admission: Slot::with_variant(schema, "attended", "appointment", "admission"),
            decision_to_admit: Slot::find(schema, "decision_to_treat", "admitted"),
            elective_listing: Slot::with_variant(
                schema,
                "added_to_waiting_list",
                "list",
                "elective",
            ),
        }
    }

    /// The clock stopped on `stop` by an admission for treatment.
    fn admitted_stop(
        &self,
        events: &[Event],
        stop: chrono::NaiveDate,
        reason: Option<&str>,
    ) -> bool {
        let yes = Value::Bool(true);
        events.iter().filter(|e| e.date == stop).any(|e| {
            self.admitted_treatment.is_some_and(|s| s.holds(e, &yes))
                || (reason == Some("first_definitive_treatment")
                    && self
                        .attended_admission
                        .as_ref()
                        .is_some_and(|(s, v)| s.holds(e, v)))
        })
    }

    /// A decision to admit between `from` and `to` (both included).
    fn decision_to_admit(
        &self,
        events: &[Event],
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> bool {
        let yes = Value::Bool(true);
        events
            .iter()
            .filter(|e| from <= e.date && e.date <= to)
            .any(|e| {
                self.decision_to_admit.is_some_and(|s| s.holds(e, &yes))
                    || self
                        .elective_listing
                        .as_ref()
                        .is_some_and(|(s, v)| s.holds(e, v))
            })
    }
}

/// Counts gathered pathway by pathway.
#[derive(Debug, Clone)]
pub struct RttReturnBuilder {
    options: RttReturnOptions,
    signs: Signs,
    /// Per part, per return function: the row.
    rows: BTreeMap<RttPart, Vec<RttReturnRow>>,
    missing_function: u64,
    unlisted: BTreeMap<String, u64>,
    conflicts: u64,
    clock_declared: bool,
}

impl RttReturnBuilder {
    /// A builder for `policy` (its schema says which events mark an admission or a decision to
    /// admit).
    pub fn new(policy: &Policy, options: RttReturnOptions) -> RttReturnBuilder {
        let rows = RttPart::ALL
            .iter()
            .map(|p| {
                let rows = options
                    .groups
                    .functions
                    .iter()
                    .map(|f| RttReturnRow::new(*p, &f.code, &f.name))
                    .collect();
                (*p, rows)
            })
            .collect();
        RttReturnBuilder {
            signs: Signs::of(&policy.schema),
            clock_declared: policy.clocks.iter().any(|c| c.name == options.clock),
            options,
            rows,
            missing_function: 0,
            unlisted: BTreeMap::new(),
            conflicts: 0,
        }
    }

    fn count(&mut self, part: RttPart, function: usize, days: Option<i64>) {
        if let Some(row) = self.rows.get_mut(&part).and_then(|r| r.get_mut(function)) {
            row.total_all += 1;
            if part.banded() {
                match days {
                    Some(d) => row.bands[week_band_index(d)] += 1,
                    None => row.unknown_start += 1,
                }
            }
        }
    }

    /// Counts one pathway's periods of the clock.
    pub fn add(&mut self, events: &[Event], r: &PathwayResult) {
        let month = self.options.month;
        let clock = self.options.clock.clone();
        let clock = clock.as_str();
        if !r.clocks.iter().any(|p| p.clock == clock) {
            return;
        }
        let found = self
            .options
            .groups
            .find(r.attributes.get(&self.options.function_attribute));
        match found {
            Match::Listed(_) => {}
            Match::Unlisted(_) => {
                let v = r
                    .attributes
                    .get(&self.options.function_attribute)
                    .unwrap_or_default()
                    .to_string();
                *self
                    .unlisted
                    .entry(crate::base::text::excerpt(&v))
                    .or_default() += 1;
            }
            Match::Missing(_) => self.missing_function += 1,
        }
        let function = found.index();
        if r.conflicts.iter().any(|c| c.clock == clock) {
            self.conflicts += 1;
        }
        for p in r.clocks.iter().filter(|p| p.clock == clock) {
            if p.status == PeriodStatus::Nullified {
                continue;
            }
            if month.contains(p.start) {
                self.count(RttPart::Part3, function, None);
            }
            match (p.status, p.stop) {
                (PeriodStatus::Stopped, Some(stop)) if month.contains(stop) => {
                    let days = p.days_waited.or(Some((stop - p.start).num_days()));
                    let part = if self.signs.admitted_stop(events, stop, p.reason.as_deref()) {
                        RttPart::Part1A
                    } else {
                        RttPart::Part1B
                    };
                    self.count(part, function, days);
                }
                (status, _) if status.is_open() && p.start <= month.last => {
                    let days = p.days_waited.or(Some((month.last - p.start).num_days()));
                    self.count(RttPart::Part2, function, days);
                    if self.signs.decision_to_admit(events, p.start, month.last) {
                        self.count(RttPart::Part2A, function, days);
                    }
                }
                _ => {}
            }
        }
    }

    /// The return and its warnings: the data warnings gathered, then the submission checks.
    pub fn finish(self) -> (RttReturn, Vec<ReportWarning>) {
        let mut warnings = Vec::new();
        let data = |message: String| ReportWarning {
            kind: WarningKind::Data,
            message,
        };
        if !self.clock_declared {
            warnings.push(data(format!(
                "the policy declares no clock `{}`: every count is zero",
                self.options.clock
            )));
        }
        let default = self.options.groups.find(None).index();
        let default_code = self.options.groups.functions[default].code.clone();
        if self.missing_function > 0 {
            warnings.push(data(format!(
                "{} pathway{} with no `{}` counted under {default_code}",
                self.missing_function,
                if self.missing_function == 1 { "" } else { "s" },
                self.options.function_attribute
            )));
        }
        for (value, n) in &self.unlisted {
            warnings.push(data(format!(
                "`{}` = `{value}` is not in the treatment-function grouping: {n} pathway{} counted under {default_code}",
                self.options.function_attribute,
                if *n == 1 { "" } else { "s" }
            )));
        }
        if self.conflicts > 0 {
            warnings.push(data(format!(
                "{} pathway{} with rules in conflict on the `{}` clock: counted as the clock stands, check them",
                self.conflicts,
                if self.conflicts == 1 { "" } else { "s" },
                self.options.clock
            )));
        }
        let mut rows = Vec::new();
        for (part, functions) in self.rows {
            let mut total = RttReturnRow::new(part, ALL_FUNCTIONS.0, ALL_FUNCTIONS.1);
            for f in functions.into_iter().filter(|f| f.total_all > 0) {
                for (t, b) in total.bands.iter_mut().zip(&f.bands) {
                    *t += b;
                }
                total.unknown_start += f.unknown_start;
                total.total_all += f.total_all;
                rows.push(f);
            }
            rows.push(total);
        }
        let ret = RttReturn {
            period: self.options.month.rtt_period(),
            blocks: vec![(self.options.organisations, rows)],
        };
        warnings.extend(submission_checks(&ret));
        (ret, warnings)
    }
}

/// The national submission checks a return must pass, each failure a warning: Part 2A is at
/// most Part 2 (per function and in total); the all-functions row of each part is the sum of
/// the others; `Total` is the sum of the bands and `Total All` is `Total` plus the unknown
/// clock starts (completed parts) or the sum of the bands (incomplete parts); the bands sum
/// to nothing in Part 3.
pub fn submission_checks(r: &RttReturn) -> Vec<ReportWarning> {
    let mut out = Vec::new();
    let mut fail = |message: String| {
        out.push(ReportWarning {
            kind: WarningKind::SubmissionCheck,
            message,
        })
    };
    for (orgs, rows) in &r.blocks {
        let block = if orgs.provider.code.is_empty() && orgs.commissioner.code.is_empty() {
            String::new()
        } else {
            format!(
                "provider {}, commissioner {}: ",
                orgs.provider.code, orgs.commissioner.code
            )
        };
        let of = |part: RttPart, code: &str| {
            rows.iter()
                .find(|row| row.part == part && row.function_code == code)
                .map_or(0, |row| row.total_all)
        };
        for row in rows.iter().filter(|row| row.part == RttPart::Part2A) {
            let two = of(RttPart::Part2, &row.function_code);
            if row.total_all > two {
                fail(format!(
                    "{block}{}: Part_2A ({}) is more than Part_2 ({two})",
                    row.function_code, row.total_all
                ));
            }
        }
        for part in RttPart::ALL {
            let in_part: Vec<&RttReturnRow> = rows.iter().filter(|row| row.part == part).collect();
            let (totals, functions): (Vec<&RttReturnRow>, Vec<&RttReturnRow>) = in_part
                .iter()
                .partition(|row| row.function_code == ALL_FUNCTIONS.0);
            match totals.as_slice() {
                [total] => {
                    let sum_all: u64 = functions.iter().map(|f| f.total_all).sum();
                    let bands_agree = (0..BANDS).all(|i| {
                        functions.iter().map(|f| f.bands[i]).sum::<u64>() == total.bands[i]
                    });
                    if sum_all != total.total_all || !bands_agree {
                        fail(format!(
                            "{block}{}: the {} row is not the sum of the treatment functions",
                            part.code(),
                            ALL_FUNCTIONS.0
                        ));
                    }
                }
                _ => fail(format!(
                    "{block}{}: {} rows for {}, not one",
                    part.code(),
                    totals.len(),
                    ALL_FUNCTIONS.0
                )),
            }
            for row in in_part {
                let expected = if part.completed() {
                    row.total() + row.unknown_start
                } else if part.banded() {
                    row.total()
                } else {
                    row.total_all
                };
                if row.total_all != expected || (!part.banded() && row.total() != 0) {
                    fail(format!(
                        "{block}{} {}: Total All ({}) does not add up from the bands ({}) and unknown starts ({})",
                        part.code(),
                        row.function_code,
                        row.total_all,
                        row.total(),
                        row.unknown_start
                    ));
                }
            }
        }
    }
    out
}

/// Builds the return of `options.month` from `input`: the policy run as at the month's last
/// day.
pub fn build(
    policy: &Policy,
    input: Input,
    reading: Reading,
    options: RttReturnOptions,
) -> Result<(RttReturn, Vec<ReportWarning>, RowAccount), batch::Error> {
    let as_at = options.month.last;
    let mut builder = RttReturnBuilder::new(policy, options);
    let outcome = run_gathering(
        policy,
        input,
        as_at,
        reading,
        None,
        &mut |p: &PathwayEvents, r: &PathwayResult| builder.add(&p.events, r),
    )?;
    let (ret, warnings) = builder.finish();
    Ok((ret, warnings, outcome.counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(part: RttPart, code: &str, band: usize, n: u64) -> RttReturnRow {
        let mut r = RttReturnRow::new(part, code, code);
        if part.banded() {
            r.bands[band] = n;
        }
        r.total_all = n;
        r
    }

    fn consistent() -> RttReturn {
        let mut rows = Vec::new();
        for part in RttPart::ALL {
            rows.push(row(part, "C_100", 3, 2));
            rows.push(row(part, ALL_FUNCTIONS.0, 3, 2));
        }
        RttReturn {
            period: "RTT-March-2025".into(),
            blocks: vec![(ReturnOrganisations::default(), rows)],
        }
    }

    fn messages(r: &RttReturn) -> Vec<String> {
        submission_checks(r)
            .into_iter()
            .map(|w| w.message)
            .collect()
    }

    #[test]
    fn a_consistent_return_passes_every_check() {
        assert_eq!(messages(&consistent()), Vec::<String>::new());
    }

    #[test]
    fn each_check_fails_on_its_own_fault() {
        type Tamper = fn(&mut Vec<RttReturnRow>);
        let cases: &[(&str, Tamper, &str)] = &[
            (
                "2A above 2",
                |rows| {
                    for r in rows.iter_mut().filter(|r| r.part == RttPart::Part2A) {
                        r.bands[3] = 5;
                        r.total_all = 5;
                    }
                },
                "C_100: Part_2A (5) is more than Part_2 (2)",
            ),
            (
                "total row not the sum",
                |rows| rows[1].bands[3] = 1,
                "Part_1A: the C_999 row is not the sum of the treatment functions",
            ),
            (
                "Total All not the bands",
                |rows| rows[4].total_all = 9,
                "Part_2 C_100: Total All (9) does not add up from the bands (2) and unknown starts (0)",
            ),
            (
                "two total rows",
                |rows| {
                    let extra = rows[9].clone();
                    rows.push(extra)
                },
                "Part_3: 2 rows for C_999, not one",
            ),
            (
                "bands in Part 3",
                |rows| rows[8].bands[0] = 2,
                "Part_3 C_100: Total All (2) does not add up",
            ),
        ];
        for (name, tamper, want) in cases {
            let mut r = consistent();
            tamper(&mut r.blocks[0].1);
            let got = messages(&r);
            assert!(got.iter().any(|m| m.contains(want)), "{name}: {got:?}");
        }
    }
}
