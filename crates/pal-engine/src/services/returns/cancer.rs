//! The cancer waiting-time standards of a month (CWT 12.1, in force since 1 October 2023): the
//! policy run as at the month's last day, and every period of the three cancer clocks that
//! *ended* in the month counted against its target — as the national dataset reports a
//! pathway in the month of its end point:
//!
//! * 28-day Faster Diagnosis Standard (`cancer_fds`): periods stopped in the month (the patient
//!   told of a diagnosis or that cancer is ruled out, or a decision to treat first), by route;
//! * 31-day combined (`cancer_31`): periods stopped in the month (treatment started), split into
//!   first and subsequent treatments;
//! * 62-day combined (`cancer_62`): periods stopped in the month (first definitive treatment), by
//!   route, consultant upgrades apart.
//!
//! Nullified periods (cancer ruled out, death before treatment) are not measured. Within target
//! ⇔ days waited (adjustments already subtracted by the policy) ≤ the period's target. The
//! operational standard is the clock's `standard` in the policy on the month's last day (the
//! national policy: FDS 75%, 80% from March 2026; 31-day 96%; 62-day 85% — CWT 12.1).

use super::{run_gathering, Reading, ReportMonth, ReportWarning, RowAccount, WarningKind};
use crate::base::value::Value;
use crate::io::events::PathwayEvents;
use crate::io::report::cancer_return::{CancerReturn, CancerReturnRow, CancerStandard};
use crate::model::event::Event;
use crate::model::ir::{Policy, Standard};
use crate::model::schema::EventTypeId;
use crate::runtime::eval::{PathwayResult, PeriodResult, PeriodStatus};
use crate::services::batch::{self, Input};
use std::collections::BTreeMap;

/// The routes a cancer pathway is reported under.
pub const URGENT_SUSPECTED_CANCER: &str = "Urgent suspected cancer";
/// Breast symptoms, cancer not suspected.
pub const BREAST_SYMPTOMATIC: &str = "Breast symptomatic";
/// An urgent referral from a screening programme.
pub const SCREENING: &str = "Screening";
/// A consultant upgrade (62-day only).
pub const CONSULTANT_UPGRADE: &str = "Consultant upgrade";
/// A route the attributes do not say.
pub const OTHER_ROUTE: &str = "Other";
/// The 31-day standard's first treatment.
pub const FIRST_TREATMENT: &str = "First treatment";
/// The 31-day standard's subsequent treatments.
pub const SUBSEQUENT_TREATMENT: &str = "Subsequent treatment";
/// The line of a standard over every route.
pub const ALL_ROUTES: &str = "All routes";

/// Which clock measures which standard.
#[derive(Debug, Clone)]
pub struct CancerReturnOptions {
    /// The month.
    pub month: ReportMonth,
    /// Clock names, per standard (the national policy's `cancer_fds`, `cancer_31`, `cancer_62`).
    pub clocks: Vec<(CancerStandard, String)>,
}

impl CancerReturnOptions {
    /// The national policy's clocks for `month`.
    pub fn national(month: ReportMonth) -> CancerReturnOptions {
        CancerReturnOptions {
            month,
            clocks: vec![
                (CancerStandard::FasterDiagnosis, "cancer_fds".into()),
                (CancerStandard::Combined31, "cancer_31".into()),
                (CancerStandard::Combined62, "cancer_62".into()),
            ],
        }
    }
}

/// The route orders of each standard's lines.
fn routes(standard: CancerStandard) -> &'static [&'static str] {
    match standard {
        CancerStandard::FasterDiagnosis => &[
            URGENT_SUSPECTED_CANCER,
            BREAST_SYMPTOMATIC,
            SCREENING,
            OTHER_ROUTE,
        ],
        CancerStandard::Combined31 => &[FIRST_TREATMENT, SUBSEQUENT_TREATMENT],
        CancerStandard::Combined62 => &[
            URGENT_SUSPECTED_CANCER,
            BREAST_SYMPTOMATIC,
            SCREENING,
            CONSULTANT_UPGRADE,
            OTHER_ROUTE,
        ],
    }
}

/// The referral route of a pathway from its attributes: `cancer_route`, or a two-week-wait
/// priority with no route (docs/events.md, "Cancer route").
fn referral_route(r: &PathwayResult) -> &'static str {
    match r.attributes.get("cancer_route") {
        Some("suspected_cancer") => URGENT_SUSPECTED_CANCER,
        Some("breast_symptomatic") => BREAST_SYMPTOMATIC,
        Some("screening") => SCREENING,
        _ if r.attributes.get("priority") == Some("two_week_wait") => URGENT_SUSPECTED_CANCER,
        _ => OTHER_ROUTE,
    }
}

/// Counts gathered pathway by pathway.
#[derive(Debug, Clone)]
pub struct CancerReturnBuilder {
    options: CancerReturnOptions,
    upgrade: Option<EventTypeId>,
    subsequent_decision: Option<(EventTypeId, usize)>,
    /// (standard, route) → (within, total, target days)
    counts: BTreeMap<(CancerStandard, &'static str), (u64, u64, i64)>,
    standards: Vec<(CancerStandard, Option<i64>, bool)>,
}

impl CancerReturnBuilder {
    /// A builder for `policy`: its clocks' standards on the month's last day.
    pub fn new(policy: &Policy, options: CancerReturnOptions) -> CancerReturnBuilder {
        let standards = options
            .clocks
            .iter()
            .map(|(s, name)| {
                let def = policy.clocks.iter().find(|c| &c.name == name);
                let percent = def.and_then(|c| match c.standard.as_ref()? {
                    Standard::Percent(p) => Some(*p),
                    Standard::Param(p) => match policy
                        .params
                        .get(*p as usize)
                        .map(|d| d.value_on(options.month.last))
                    {
                        Some(Value::Int(i)) => Some(*i),
                        _ => None,
                    },
                });
                (*s, percent, def.is_some())
            })
            .collect();
        let subsequent_decision = policy.schema.event("decision_to_treat").and_then(|(k, d)| {
            d.fields
                .iter()
                .position(|f| f.name == "subsequent")
                .map(|i| (k, i))
        });
        CancerReturnBuilder {
            upgrade: policy.schema.event("consultant_upgrade").map(|(k, _)| k),
            subsequent_decision,
            options,
            counts: BTreeMap::new(),
            standards,
        }
    }

    fn route_of(
        &self,
        standard: CancerStandard,
        p: &PeriodResult,
        events: &[Event],
        r: &PathwayResult,
    ) -> &'static str {
        match standard {
            CancerStandard::FasterDiagnosis => referral_route(r),
            CancerStandard::Combined62 => {
                let upgraded = self
                    .upgrade
                    .is_some_and(|k| events.iter().any(|e| e.kind == k && e.date == p.start));
                if upgraded {
                    CONSULTANT_UPGRADE
                } else {
                    referral_route(r)
                }
            }
            CancerStandard::Combined31 => {
                let subsequent_dtt = self.subsequent_decision.is_some_and(|(k, i)| {
                    events.iter().any(|e| {
                        e.kind == k
                            && e.date == p.start
                            && e.fields.get(i) == Some(&Value::Bool(true))
                    })
                });
                if p.period > 1 || subsequent_dtt {
                    SUBSEQUENT_TREATMENT
                } else {
                    FIRST_TREATMENT
                }
            }
        }
    }

    /// Counts one pathway's cancer periods that ended in the month.
    pub fn add(&mut self, events: &[Event], r: &PathwayResult) {
        let month = self.options.month;
        for (standard, clock) in &self.options.clocks {
            for p in r.clocks.iter().filter(|p| &p.clock == clock) {
                let Some(stop) = p.stop.filter(|d| month.contains(*d)) else {
                    continue;
                };
                if p.status != PeriodStatus::Stopped {
                    continue;
                }
                let days = p.days_waited.unwrap_or((stop - p.start).num_days());
                let within = u64::from(days <= p.target_days);
                let route = self.route_of(*standard, p, events, r);
                for key in [(*standard, route), (*standard, ALL_ROUTES)] {
                    let c = self.counts.entry(key).or_insert((0, 0, p.target_days));
                    c.0 += within;
                    c.1 += 1;
                }
            }
        }
    }

    /// The return: per standard, each route with pathways, then all routes (always).
    pub fn finish(self) -> (CancerReturn, Vec<ReportWarning>) {
        let mut rows = Vec::new();
        let mut warnings = Vec::new();
        for (standard, percent, declared) in &self.standards {
            if !declared {
                let clock = self
                    .options
                    .clocks
                    .iter()
                    .find(|(s, _)| s == standard)
                    .map_or("", |(_, c)| c.as_str());
                warnings.push(ReportWarning {
                    kind: WarningKind::Data,
                    message: format!(
                        "the policy declares no clock `{clock}`: the {} is not measured",
                        standard.label()
                    ),
                });
            }
            let default_days = match standard {
                CancerStandard::FasterDiagnosis => 28,
                CancerStandard::Combined31 => 31,
                CancerStandard::Combined62 => 62,
            };
            let line = |route: &str, (within, total, days): (u64, u64, i64)| CancerReturnRow {
                standard: *standard,
                route: route.to_string(),
                target_days: days,
                within,
                total,
                operational_standard: *percent,
            };
            for route in routes(*standard) {
                if let Some(c) = self.counts.get(&(*standard, *route)) {
                    rows.push(line(route, *c));
                }
            }
            let all = self
                .counts
                .get(&(*standard, ALL_ROUTES))
                .copied()
                .unwrap_or((0, 0, default_days));
            rows.push(line(ALL_ROUTES, all));
        }
        (
            CancerReturn {
                month: self.options.month.text(),
                rows,
            },
            warnings,
        )
    }
}

/// Builds the cancer standards of `options.month` from `input`: the policy run as at the
/// month's last day.
pub fn build(
    policy: &Policy,
    input: Input,
    reading: Reading,
    options: CancerReturnOptions,
) -> Result<(CancerReturn, Vec<ReportWarning>, RowAccount), batch::Error> {
    let as_at = options.month.last;
    let mut builder = CancerReturnBuilder::new(policy, options);
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
