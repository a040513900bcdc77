//! One pathway, one pass: the rules of rde.pal (and the national rules it inherits) written
//! out by event type, with the history queries kept as counters.

use super::*;
use pal_engine::model::calendar::{age_in_years, month_end};
use pal_engine::runtime::eval::{
    Attributes, ObligationResult, ObligationStatus, OutcomeResult, PeriodResult, PeriodStatus,
    ShortText, WarningResult,
};

/// The events of a pathway in evaluation order: a sorted slice of the input, or a sorted list
/// of references when the input was out of order.
pub(super) trait History {
    fn count(&self) -> usize;
    fn at(&self, i: usize) -> Option<&Event>;
}

impl History for [Event] {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> Option<&Event> {
        self.get(i)
    }
}

impl History for [&Event] {
    fn count(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> Option<&Event> {
        self.get(i).copied()
    }
}

// ------------------------------------------------------------------ field access

static UNSET: Value = Value::Unset;

fn fv(e: &Event, i: usize) -> &Value {
    e.fields.get(i).unwrap_or(&UNSET)
}

fn f_date(e: &Event, i: usize) -> Option<NaiveDate> {
    match fv(e, i) {
        Value::Date(d) => Some(*d),
        _ => None,
    }
}

fn f_bool(e: &Event, i: usize) -> Option<bool> {
    match fv(e, i) {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

/// `v == variant` (false when unset).
fn is(v: &Value, x: EnumVal) -> bool {
    matches!(v, Value::Enum(e, i) if *e == x.e && *i == x.v)
}

/// `v != variant`: exactly `not (v == variant)`, so true when unset (PAL's rule for unset
/// values, docs/language.md).
fn is_not(v: &Value, x: EnumVal) -> bool {
    !is(v, x)
}

/// `base + d` in days, `None` past the representable dates (an unset value in PAL).
fn plus(base: NaiveDate, d: Duration) -> Option<NaiveDate> {
    base.checked_add_signed(chrono::Duration::try_days(d.amount)?)
}

/// `v at least d after base`, i.e. `base + d <= v` (false when anything is unset).
fn at_least_after(v: Option<NaiveDate>, d: Duration, base: NaiveDate) -> bool {
    matches!((v, plus(base, d)), (Some(v), Some(end)) if end <= v)
}

// ------------------------------------------------------------------ clocks

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PState {
    Open,
    Stopped,
    Nullified,
}

/// `clock_status`: not_started, running, paused, stopped, nullified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    NotStarted,
    Running,
    Paused,
    Stopped,
    Nullified,
}

#[derive(Debug, Clone)]
struct Period {
    start: NaiveDate,
    stop: Option<NaiveDate>,
    state: PState,
    reason: Option<Name>,
    /// `[from, to)`; `to` is `None` while open.
    pauses: Vec<(NaiveDate, Option<NaiveDate>)>,
    target_days: i64,
    started_by: R,
    stopped_by: Option<R>,
}

impl Period {
    fn end(&self, now: NaiveDate) -> NaiveDate {
        self.stop.unwrap_or(now)
    }

    fn paused_days(&self, now: NaiveDate) -> i64 {
        if self.pauses.is_empty() {
            return 0;
        }
        let end = self.end(now);
        self.pauses
            .iter()
            .map(|(from, to)| {
                let from = (*from).max(self.start);
                let to = to.unwrap_or(end).min(end);
                (to - from).num_days().max(0)
            })
            .sum()
    }

    fn days_waited(&self, now: NaiveDate) -> i64 {
        (self.end(now) - self.start).num_days() - self.paused_days(now)
    }

    fn paused_on(&self, date: NaiveDate) -> bool {
        self.state == PState::Open
            && self
                .pauses
                .iter()
                .any(|(from, to)| *from <= date && to.is_none_or(|t| date < t))
    }

    fn status(&self, now: NaiveDate) -> Status {
        match self.state {
            PState::Stopped => Status::Stopped,
            PState::Nullified => Status::Nullified,
            PState::Open if self.paused_on(now) => Status::Paused,
            PState::Open => Status::Running,
        }
    }

    fn target_date(&self, now: NaiveDate) -> NaiveDate {
        chrono::Duration::try_days(self.target_days + self.paused_days(now))
            .and_then(|d| self.start.checked_add_signed(d))
            .unwrap_or(NaiveDate::MAX)
    }
}

// ------------------------------------------------------------------ obligations and timers

/// The events that meet an obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// `appointment_booked`.
    Booked,
    /// `appointment_booked where appointment_booked.appointment != follow_up`.
    NotFollowUpBooked,
    /// `referral_graded`.
    Graded,
    /// `rtt_status or decision_to_treat or … or added_to_waiting_list` (7.1.2).
    RttOutcome,
    /// `offer_made or appointment_booked`.
    Offer,
    /// `attended or treatment_started where attended.appointment == admission or
    /// treatment_started.admitted`.
    Admission,
    /// `attended`.
    Attended,
    /// `treatment_started`.
    Treatment,
}

#[derive(Debug, Clone)]
struct Obligation {
    what: Name,
    by: By,
    created: NaiveDate,
    due: NaiveDate,
    /// Events with an index at or after this may meet it.
    from_index: usize,
    rule: R,
    met_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy)]
struct Timer {
    due: NaiveDate,
    /// The input line of the event that armed it.
    line: u32,
}

// ------------------------------------------------------------------ the history, as counters

/// What the rules ask of the events applied so far, kept up to date event by event (the
/// interpreter scans the history for each query instead). Dates are non-decreasing in
/// evaluation order, so "the latest date of E" answers `exists(E since d)`.
#[derive(Debug)]
struct Seen {
    last_referral: Option<NaiveDate>,
    any_transfer: bool,
    any_upgrade: bool,
    /// `count(dna where dna.appointment == first)`.
    first_dnas: u32,
    /// The dates of the DNAs with `dna.communicated` (for `count(dna where dna.communicated and
    /// dna.date > rtt.start)`).
    communicated_dnas: Vec<NaiveDate>,
    /// `last(dna where dna.communicated and dna.appointment != follow_up).date`.
    last_communicated_not_follow_up_dna: Option<NaiveDate>,
    /// `last(dna where not dna.communicated).date`.
    last_uncommunicated_dna: Option<NaiveDate>,
    /// `last(rtt_status where rtt_status.code == 33).date`.
    last_status_33: Option<NaiveDate>,
    /// `last(appointment_booked where appointment_booked.appointment != follow_up).communicated
    /// ?? true`.
    last_booking_communicated: bool,
    /// `count(dna where dna.appointment == diagnostic)`.
    diagnostic_dnas: u32,
    /// `consecutive(dna where dna.appointment == first among dna, attended)`.
    first_dna_run: u32,
    /// `last(dna where dna.appointment in [first, diagnostic]) is set`.
    any_first_seen_dna: bool,
    /// `count(appointment_booked where … in [first, diagnostic] since last(dna where … in
    /// [first, diagnostic]).date)`.
    first_seen_booked_since_dna: u32,
    /// The date of the latest first or diagnostic booking, and how many were booked that day.
    first_seen_booked_day: Option<NaiveDate>,
    first_seen_booked_that_day: u32,
    /// `count(patient_cancelled where patient_cancelled.appointment != admission)`.
    outpatient_patient_cancels: u32,
    any_patient_cancelled: bool,
    hospital_cancels: u32,
    /// Every `offer_made`: `(appointment, offered_date, date)`.
    offers: Vec<(Value, Value, NaiveDate)>,
    /// Every `offer_declined` of a first appointment or an admission: `(appointment,
    /// offered_date, date)`.
    declines: Vec<(Value, Value, NaiveDate)>,
    /// `exists(offer_declined where offer_declined.appointment in [first, diagnostic])`.
    first_or_diagnostic_declined: bool,
    any_unavailable: bool,
    /// `last(patient_unavailable).until`.
    last_unavailable_until: Option<NaiveDate>,
    /// `exists(diagnosis_communicated where diagnosis_communicated.cancer)`.
    cancer_diagnosed: bool,
    /// `exists(added_to_waiting_list where added_to_waiting_list.list == planned)`.
    planned_listing: bool,
    /// The latest move to the deferred list.
    last_deferred: Option<NaiveDate>,
    last_attended: Option<NaiveDate>,
    last_decision_to_treat: Option<NaiveDate>,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            last_referral: None,
            any_transfer: false,
            any_upgrade: false,
            first_dnas: 0,
            communicated_dnas: Vec::new(),
            last_communicated_not_follow_up_dna: None,
            last_uncommunicated_dna: None,
            last_status_33: None,
            last_booking_communicated: true,
            diagnostic_dnas: 0,
            first_dna_run: 0,
            any_first_seen_dna: false,
            first_seen_booked_since_dna: 0,
            first_seen_booked_day: None,
            first_seen_booked_that_day: 0,
            outpatient_patient_cancels: 0,
            any_patient_cancelled: false,
            hospital_cancels: 0,
            offers: Vec::new(),
            declines: Vec::new(),
            first_or_diagnostic_declined: false,
            any_unavailable: false,
            last_unavailable_until: None,
            cancer_diagnosed: false,
            planned_listing: false,
            last_deferred: None,
            last_attended: None,
            last_decision_to_treat: None,
        }
    }
}

/// `exists(E since s)` given the latest date of E; an unset `s` means from the start.
fn since(latest: Option<NaiveDate>, s: Option<NaiveDate>) -> bool {
    latest.is_some_and(|d| s.is_none_or(|s| d >= s))
}

// ------------------------------------------------------------------ the pathway

struct State<'a> {
    m: &'a NativeRde,
    /// The pathway attributes, borrowed from the defaults, the initial attributes or the
    /// latest referral that set them.
    attrs: [&'a Value; 8],
    clocks: [Vec<Period>; 4],
    timers: [Option<Timer>; 3],
    obligations: Vec<Obligation>,
    outcomes: Vec<OutcomeResult>,
    warnings: Vec<WarningResult>,
    seen: Seen,
}

/// The moment an action happens at: the date, and the input line for warnings.
#[derive(Clone, Copy)]
struct At {
    now: NaiveDate,
    line: Option<u32>,
    /// The number of events in the history (obligations created now are met by later ones).
    history: usize,
}

/// Evaluates a pathway whose events are in evaluation order and dated up to `as_at`.
pub(super) fn evaluate<'a, H: History + ?Sized>(
    m: &'a NativeRde,
    pathway_id: &str,
    h: &'a H,
    attributes: &'a [(u16, Value)],
    as_at: NaiveDate,
) -> PathwayResult {
    let d = &m.attr_defaults;
    let mut st = State {
        m,
        attrs: [&d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]],
        clocks: Default::default(),
        timers: [None; 3],
        obligations: Vec::new(),
        outcomes: Vec::new(),
        warnings: Vec::new(),
        seen: Seen::default(),
    };
    for (slot, v) in attributes {
        if let Some(a) = st.attrs.get_mut(*slot as usize) {
            *a = v;
        }
    }
    let n = h.count();
    for i in 0..n {
        let Some(e) = h.at(i) else { break };
        st.fire_timers(i, |due| due < e.date);
        st.apply(h, i, e);
    }
    st.fire_timers(n, |due| due <= as_at);
    st.finish(pathway_id, as_at)
}

impl<'a> State<'a> {
    // -------------------------------------------------------------- pathway attributes

    fn attr(&self, slot: usize) -> &'a Value {
        self.attrs.get(slot).copied().unwrap_or(&UNSET)
    }

    /// `ers_referral`.
    fn ers(&self) -> bool {
        is(self.attr(self.m.a.channel), self.m.v.ers)
    }

    /// `is_two_week_wait`.
    fn two_week_wait(&self) -> bool {
        is(self.attr(self.m.a.priority), self.m.v.two_week_wait)
    }

    /// `urgent_cancer_referral`: `pathway.cancer_route != none or pathway.priority ==
    /// two_week_wait`.
    fn urgent_cancer(&self) -> bool {
        is_not(self.attr(self.m.a.cancer_route), self.m.v.route_none) || self.two_week_wait()
    }

    /// `cancer_62_route`.
    fn cancer_62_route(&self) -> bool {
        let r = self.attr(self.m.a.cancer_route);
        let v = &self.m.v;
        is(r, v.suspected_cancer)
            || is(r, v.screening)
            || (is(r, v.route_none) && self.two_week_wait())
            || (is(r, v.breast_symptomatic) && INCLUDE_BREAST_SYMPTOMATIC_IN_62)
    }

    /// `cancer_suspected`.
    fn cancer_suspected(&self) -> bool {
        self.urgent_cancer() || self.two_week_wait() || self.seen.any_upgrade
    }

    /// `protected_patient`: a child (on `now`) or a vulnerable adult.
    fn protected(&self, now: NaiveDate) -> bool {
        let child = match self.attr(self.m.a.birth_date) {
            Value::Date(b) => age_in_years(*b, now) < CHILD_AGE,
            _ => false,
        };
        child || matches!(self.attr(self.m.a.vulnerable), Value::Bool(true))
    }

    /// `second_appointment_group`.
    fn second_appointment_group(&self, now: NaiveDate) -> bool {
        self.protected(now) || self.cancer_suspected()
    }

    /// `follow_up_protected`.
    fn follow_up_protected(&self, now: NaiveDate) -> bool {
        self.protected(now)
            || self.cancer_suspected()
            || is(self.attr(self.m.a.priority), self.m.v.urgent)
    }

    fn attr_in(&self, slot: usize, list: &[&str]) -> bool {
        match self.attr(slot) {
            Value::Str(s) => list.contains(&&**s),
            _ => false,
        }
    }

    // -------------------------------------------------------------- clocks

    fn last(&self, c: usize) -> Option<&Period> {
        self.clocks.get(c).and_then(|p| p.last())
    }

    fn open(&self, c: usize) -> bool {
        self.last(c).is_some_and(|p| p.state == PState::Open)
    }

    fn periods(&self, c: usize) -> usize {
        self.clocks.get(c).map_or(0, Vec::len)
    }

    fn status(&self, c: usize, now: NaiveDate) -> Status {
        self.last(c).map_or(Status::NotStarted, |p| p.status(now))
    }

    fn open_period(&mut self, c: usize) -> Option<&mut Period> {
        self.clocks
            .get_mut(c)
            .and_then(|ps| ps.iter_mut().find(|p| p.state == PState::Open))
    }

    fn clock_name(&self, c: usize) -> Name {
        self.m.clock_names.get(c).copied().unwrap_or_default()
    }

    // -------------------------------------------------------------- actions

    fn warn(&mut self, at: At, rule: R, message: String) {
        self.warnings.push(WarningResult {
            date: at.now,
            message,
            rule: Some(self.m.name(rule)),
            cite: Some(self.m.cite(rule)),
            line: at.line,
        });
    }

    fn outcome(&mut self, at: At, rule: R, outcome: Name) {
        self.outcomes.push(OutcomeResult {
            outcome,
            date: at.now,
            rule: self.m.name(rule),
            cite: self.m.cite(rule),
        });
    }

    /// `start c [on d]`; `on` is `None` when the date given is unset.
    fn start(&mut self, at: At, rule: R, c: usize, on: Option<NaiveDate>) {
        let Some(d) = on else {
            let msg = format!("`start {}`: the date is not set", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        if let Some(since) = self
            .clocks
            .get(c)
            .and_then(|ps| ps.iter().find(|p| p.state == PState::Open))
            .map(|p| p.start)
        {
            let msg = format!(
                "clock `{}` is already running since {since}; `start` ignored",
                self.clock_name(c)
            );
            return self.warn(at, rule, msg);
        }
        if let Some(ps) = self.clocks.get_mut(c) {
            ps.push(Period {
                start: d,
                stop: None,
                state: PState::Open,
                reason: None,
                pauses: Vec::new(),
                target_days: CLOCKS.get(c).map_or(0, |(_, t)| *t),
                started_by: rule,
                stopped_by: None,
            });
        }
    }

    /// `stop c reason r` (or `nullify`), on `now`.
    fn stop(&mut self, at: At, rule: R, c: usize, reason: Name, nullify: bool) {
        let Some(p) = self.open_period(c) else {
            let verb = if nullify { "nullify" } else { "stop" };
            let msg = format!("`{verb} {}` with no running clock", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        let d = at.now.max(p.start);
        for pause in &mut p.pauses {
            if pause.1.is_none() {
                pause.1 = Some(d);
            }
        }
        p.stop = Some(d);
        p.state = if nullify {
            PState::Nullified
        } else {
            PState::Stopped
        };
        p.reason = Some(reason);
        p.stopped_by = Some(rule);
    }

    /// `reset c to d`.
    fn reset(&mut self, at: At, rule: R, c: usize, to: Option<NaiveDate>) {
        let Some(d) = to else {
            let msg = format!("`reset {}`: the date is not set", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        match self.open_period(c) {
            Some(p) => p.start = d,
            None => {
                let msg = format!("`reset {}` with no running clock", self.clock_name(c));
                self.warn(at, rule, msg)
            }
        }
    }

    /// `pause c on d`.
    fn pause(&mut self, at: At, rule: R, c: usize, on: Option<NaiveDate>) {
        let Some(d) = on else {
            let msg = format!("`pause {}`: the date is not set", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        let Some(p) = self.open_period(c) else {
            let msg = format!("`pause {}` with no running clock", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        if p.pauses.iter().any(|(_, to)| to.is_none()) {
            let msg = format!("clock `{}` is already paused", self.clock_name(c));
            return self.warn(at, rule, msg);
        }
        p.pauses.push((d, None));
    }

    /// `resume c on d`.
    fn resume(&mut self, at: At, rule: R, c: usize, on: Option<NaiveDate>) {
        let Some(d) = on else {
            let msg = format!("`resume {}`: the date is not set", self.clock_name(c));
            return self.warn(at, rule, msg);
        };
        let open_pause = self
            .open_period(c)
            .and_then(|p| p.pauses.iter_mut().find(|(_, to)| to.is_none()));
        match open_pause {
            Some(pause) => pause.1 = Some(d.max(pause.0)),
            None => {
                let msg = format!("`resume {}` with no pause", self.clock_name(c));
                self.warn(at, rule, msg)
            }
        }
    }

    /// `require what within d [of from] by …`.
    fn require(
        &mut self,
        at: At,
        rule: R,
        what: Name,
        by: By,
        within: Duration,
        of: Option<NaiveDate>,
    ) {
        let Some(from) = of else {
            return self.warn(at, rule, format!("`require {what}`: the date is not set"));
        };
        self.obligations.push(Obligation {
            what,
            by,
            created: at.now,
            due: self.m.add(from, within),
            from_index: at.history,
            rule,
            met_on: None,
        });
    }

    fn arm(&mut self, t: usize, base: NaiveDate, delay: Duration, line: u32) {
        let due = self.m.add(base, delay);
        if let Some(slot) = self.timers.get_mut(t) {
            *slot = Some(Timer { due, line });
        }
    }

    fn cancel(&mut self, t: usize) {
        if let Some(slot) = self.timers.get_mut(t) {
            *slot = None;
        }
    }

    // -------------------------------------------------------------- timers

    /// Fires pending timers whose due date passes `due_ok`, in due order, then policy order.
    fn fire_timers(&mut self, processed: usize, due_ok: impl Fn(NaiveDate) -> bool) {
        loop {
            let mut next: Option<(NaiveDate, u32, usize)> = None;
            for (t, slot) in self.timers.iter().enumerate() {
                if let Some(timer) = slot {
                    let key = (
                        timer.due,
                        self.m.timer_rules.get(t).copied().unwrap_or(0),
                        t,
                    );
                    if due_ok(timer.due) && next.is_none_or(|n| key < n) {
                        next = Some(key);
                    }
                }
            }
            let Some((_, _, t)) = next else { break };
            let Some(timer) = self.timers.get_mut(t).and_then(Option::take) else {
                break;
            };
            let at = At {
                now: timer.due,
                line: Some(timer.line),
                history: processed,
            };
            match t {
                T_FIRST_SEEN => self.timer_first_seen(at),
                T_ERS_NOT_GRADED => self.timer_ers_not_graded(at),
                _ => self.timer_undecided(at),
            }
        }
    }

    /// 6.1.2 `cancer_first_seen_two_weeks`, with its exception `first_seen_patient_choice`.
    fn timer_first_seen(&mut self, at: At) {
        let route = self.attr(self.m.a.cancer_route);
        if !(is(route, self.m.v.suspected_cancer)
            || is(route, self.m.v.breast_symptomatic)
            || self.two_week_wait())
        {
            return;
        }
        let s = &self.seen;
        if s.first_or_diagnostic_declined || s.any_unavailable || s.any_patient_cancelled {
            self.outcome(
                at,
                R::FirstSeenPatientChoice,
                name!("record_patient_choice"),
            );
        } else {
            self.outcome(at, R::CancerFirstSeenTwoWeeks, name!("breach_review"));
        }
    }

    /// 9.7.1 `ers_referral_not_graded`.
    fn timer_ers_not_graded(&mut self, at: At) {
        if self.ers() {
            self.outcome(at, R::ErsReferralNotGraded, name!("accept_referral"));
        }
    }

    /// 10.1.6 `undecided_becomes_monitoring`.
    fn timer_undecided(&mut self, at: At) {
        if !self.open(RTT) {
            return;
        }
        let r = R::UndecidedBecomesMonitoring;
        self.stop(
            at,
            r,
            RTT,
            name!("patient_initiated_active_monitoring"),
            false,
        );
        self.outcome(at, r, name!("active_monitoring"));
        self.require(
            at,
            r,
            name!("monitoring_review"),
            By::Attended,
            MONITORING_REVIEW_WITHIN,
            Some(at.now),
        );
    }

    // -------------------------------------------------------------- events

    /// Obligations `e` meets (before the event's rules act).
    fn meet(&mut self, k: K, e: &Event, i: usize) {
        let f = self.m.f;
        let v = self.m.v;
        for ob in &mut self.obligations {
            if ob.met_on.is_some() || i < ob.from_index {
                continue;
            }
            let meets = match ob.by {
                By::Booked => k == K::AppointmentBooked,
                By::NotFollowUpBooked => {
                    k == K::AppointmentBooked && is_not(fv(e, f.booked_appointment), v.follow_up)
                }
                By::Graded => k == K::ReferralGraded,
                By::RttOutcome => matches!(
                    k,
                    K::RttStatus
                        | K::DecisionToTreat
                        | K::DecisionNotToTreat
                        | K::ActiveMonitoringStarted
                        | K::ReturnedToPrimaryCare
                        | K::Discharged
                        | K::TreatmentStarted
                        | K::AddedToWaitingList
                ),
                By::Offer => matches!(k, K::OfferMade | K::AppointmentBooked),
                By::Admission => match k {
                    K::Attended => is(fv(e, f.attended_appointment), v.admission),
                    K::TreatmentStarted => f_bool(e, f.ts_admitted) == Some(true),
                    _ => false,
                },
                By::Attended => k == K::Attended,
                By::Treatment => k == K::TreatmentStarted,
            };
            if meets {
                ob.met_on = Some(e.date);
            }
        }
    }

    /// Applies event `i` (`e`): attributes, obligations met, timers cancelled, rules, timers
    /// armed.
    fn apply<H: History + ?Sized>(&mut self, h: &H, i: usize, e: &'a Event) {
        let Some(k) = self.m.kind(e.kind) else { return };
        let m = self.m;
        let (f, v) = (m.f, m.v);
        let now = e.date;
        let at = At {
            now,
            line: Some(e.line),
            history: i + 1,
        };
        if k == K::ReferralReceived {
            for &(field, slot) in &m.referral_sets {
                if let (Some(val), Some(a)) = (e.fields.get(field), self.attrs.get_mut(slot)) {
                    if val.is_set() {
                        *a = val;
                    }
                }
            }
        }
        self.see(k, e);
        if matches!(
            k,
            K::AppointmentBooked
                | K::OfferMade
                | K::Attended
                | K::DecisionToTreat
                | K::AddedToWaitingList
                | K::TreatmentStarted
                | K::ActiveMonitoringStarted
                | K::DecisionNotToTreat
                | K::ReturnedToPrimaryCare
                | K::Discharged
                | K::RttStatus
                | K::ReferralGraded
        ) && !self.obligations.is_empty()
        {
            self.meet(k, e, i);
        }
        match k {
            K::ReferralReceived => {
                let ers = self.ers();
                let fds = self.urgent_cancer() && !ers && !self.open(FDS);
                let c62 = self.cancer_62_route() && !ers && !self.open(C62);
                let rtt = !ers && !self.open(RTT);
                let cas = self.attr_in(m.a.specialty, &CAS_SPECIALTIES);
                let channel = self.attr(m.a.channel);
                let paper_booking = is(channel, v.paper) && !cas;
                let paper_grading = is_not(channel, v.ers) && !cas;
                if fds {
                    self.start(at, R::FdsStartReferral, FDS, Some(now));
                }
                if c62 {
                    self.start(at, R::C62StartReferral, C62, Some(now));
                }
                if rtt {
                    self.start(at, R::RttStartReferral, RTT, Some(now));
                }
                if paper_booking {
                    let r = R::PaperReferralBooking;
                    let w = PAPER_BOOKING_WITHIN;
                    self.require(at, r, name!("appointment_booked"), By::Booked, w, Some(now));
                }
                if cas {
                    let r = R::CasReferralTriage;
                    self.require(
                        at,
                        r,
                        name!("referral_graded"),
                        By::Graded,
                        GRADING_WITHIN,
                        Some(now),
                    );
                    let w = CAS_BOOKING_WITHIN;
                    self.require(at, r, name!("appointment_booked"), By::Booked, w, Some(now));
                }
                if paper_grading {
                    let r = R::PaperReferralGrading;
                    self.require(
                        at,
                        r,
                        name!("referral_graded"),
                        By::Graded,
                        GRADING_WITHIN,
                        Some(now),
                    );
                }
                self.arm(T_FIRST_SEEN, now, CANCER_FIRST_SEEN_WITHIN, e.line);
            }
            K::UbrnConverted => {
                let ers = self.ers();
                let fds = self.urgent_cancer() && ers && !self.open(FDS);
                let c62 = self.cancer_62_route() && ers && !self.open(C62);
                let rtt = ers && !self.open(RTT);
                if fds {
                    self.start(at, R::FdsStartUbrn, FDS, Some(now));
                }
                if c62 {
                    self.start(at, R::C62StartUbrn, C62, Some(now));
                }
                if rtt {
                    self.start(at, R::RttStartUbrn, RTT, Some(now));
                }
                self.arm(T_ERS_NOT_GRADED, now, GRADING_WITHIN, e.line);
            }
            K::ReferralRejected => {
                let open = self.open(RTT);
                let assessed = since(self.seen.last_attended, self.rtt_start());
                self.outcome(at, R::RejectedReferralReturn, name!("return_to_referrer"));
                // The two rules exclude each other on `exists(attended since rtt.start)`.
                if open && !assessed {
                    let r = R::RejectedReferralNullify;
                    self.stop(at, r, RTT, name!("referral_rejected"), true);
                }
                if open && assessed {
                    let msg = "referral rejected after assessment: the 18-week clock continues \
                               until a clock stop is recorded (9.14.3)";
                    self.warn(at, R::RejectedAfterAssessment, msg.to_string());
                }
            }
            K::AppointmentBooked => {
                let appt = fv(e, f.booked_appointment);
                let first_seen = is(appt, v.first) || is(appt, v.diagnostic);
                // first_seen_dna_before_rebooking
                let s = &self.seen;
                let rebooking = s.last_attended.is_none()
                    && s.any_first_seen_dna
                    && s.first_seen_booked_since_dna == 1;
                let fds = first_seen && self.open(FDS) && rebooking;
                let c62 = first_seen && self.open(C62) && rebooking;
                let before_referral = self.before_referral();
                if fds {
                    self.reset(at, R::FdsResetAfterFirstDna, FDS, Some(now));
                }
                if c62 {
                    self.reset(at, R::C62ResetAfterFirstDna, C62, Some(now));
                }
                if before_referral {
                    self.activity_before_referral(at);
                }
            }
            K::OfferMade => {
                let follow_up = is(fv(e, f.made_appointment), v.follow_up);
                let ahead = matches!(
                    (f_date(e, f.made_offered), plus(now, PENDING_LIST_HORIZON)),
                    (Some(o), Some(h)) if o > h
                );
                if follow_up && ahead {
                    self.outcome(at, R::FollowUpPendingList, name!("add_to_pending_list"));
                }
            }
            K::OfferDeclined => self.offer_declined(at, e),
            K::Attended => {
                let before_referral = self.before_referral();
                let appt = fv(e, f.attended_appointment);
                let outcome_owed = is(appt, v.first) || is(appt, v.follow_up);
                self.cancel(T_FIRST_SEEN);
                if before_referral {
                    self.activity_before_referral(at);
                }
                if outcome_owed {
                    let r = R::RttOutcomeRecorded;
                    let w = RTT_OUTCOME_WITHIN;
                    self.require(at, r, name!("rtt_outcome"), By::RttOutcome, w, Some(now));
                }
            }
            K::Dna => self.dna(at, e),
            K::PatientCancelled => self.patient_cancelled(h, i, at, e),
            K::HospitalCancelled => self.hospital_cancelled(at, e),
            K::DecisionToTreat => {
                self.cancel(T_UNDECIDED);
                let subsequent = f_bool(e, f.dtt_subsequent);
                // c31_start_first and c31_start_subsequent exclude each other on `subsequent`.
                let c31_first = subsequent == Some(false)
                    && !self.open(C31)
                    && self.periods(C31) == 0
                    && (self.open(C62) || self.seen.cancer_diagnosed);
                let c31_subsequent =
                    subsequent == Some(true) && !self.open(C31) && self.periods(C31) > 0;
                let fds = self.open(FDS);
                // rtt_new_clock_after_monitoring reads the latest period's stop reason.
                let rtt = !self.open(RTT)
                    && self.last(RTT).and_then(|p| p.reason).is_some_and(|r| {
                        r == "patient_initiated_active_monitoring"
                            || r == "clinician_initiated_active_monitoring"
                    });
                if c31_first {
                    self.start(at, R::C31StartFirst, C31, Some(now));
                }
                if c31_subsequent {
                    self.start(at, R::C31StartSubsequent, C31, Some(now));
                }
                if fds {
                    self.stop(
                        at,
                        R::FdsStopDecisionToTreat,
                        FDS,
                        name!("decision_to_treat"),
                        false,
                    );
                }
                if rtt {
                    self.start(at, R::RttNewClockAfterMonitoring, RTT, Some(now));
                }
            }
            K::AddedToWaitingList => {
                let list = fv(e, f.list);
                // The two rules exclude each other on `list`.
                let deferred = is(list, v.deferred) && self.open(RTT);
                let ready = is(list, v.elective)
                    && !self.open(RTT)
                    && self.status(RTT, now) == Status::Stopped
                    && self.deferred_since_rtt_start();
                if deferred {
                    let reason = name!("patient_initiated_active_monitoring");
                    self.stop(at, R::DeferredListMonitoring, RTT, reason, false);
                }
                if ready {
                    self.start(at, R::DeferredPatientReady, RTT, Some(now));
                }
            }
            K::TreatmentStarted => {
                self.cancel(T_UNDECIDED);
                let first_definitive = f_bool(e, f.ts_definitive) == Some(true)
                    && f_bool(e, f.ts_subsequent) == Some(false);
                let c62 = first_definitive && self.open(C62);
                let c31 = self.open(C31);
                let rtt = first_definitive && self.open(RTT);
                let no_clock = !self.open(RTT) && !self.open(C31) && !self.open(C62);
                let short_route_breach = c62
                    && self.attr_in(m.a.tumour_group, &SHORT_CANCER_TUMOUR_GROUPS)
                    && self.last(C62).map_or(0, |p| p.days_waited(now)) > SHORT_CANCER_ROUTE_DAYS;
                if c62 {
                    let reason = name!("first_definitive_treatment");
                    self.stop(at, R::C62StopTreatment, C62, reason, false);
                }
                if c31 {
                    self.stop(
                        at,
                        R::C31StopTreatment,
                        C31,
                        name!("treatment_started"),
                        false,
                    );
                }
                if rtt {
                    let reason = name!("first_definitive_treatment");
                    self.stop(at, R::RttStopTreatment, RTT, reason, false);
                }
                if no_clock {
                    let msg = "treatment recorded with no clock running".to_string();
                    self.warn(at, R::TreatmentWithoutClock, msg);
                }
                if short_route_breach {
                    self.outcome(at, R::ShortCancerRouteBreach, name!("breach_review"));
                }
            }
            K::ActiveMonitoringStarted => {
                self.cancel(T_UNDECIDED);
                let by = fv(e, f.initiated_by);
                let open = self.open(RTT);
                // The two stops exclude each other on `initiated_by`.
                if is(by, v.clinician) && open {
                    let reason = name!("clinician_initiated_active_monitoring");
                    self.stop(at, R::RttStopClinicianMonitoring, RTT, reason, false);
                }
                if is(by, v.patient) && open {
                    let reason = name!("patient_initiated_active_monitoring");
                    self.stop(at, R::RttStopPatientMonitoring, RTT, reason, false);
                }
                if open {
                    self.outcome(
                        at,
                        R::MonitoringReviewBooked,
                        name!("book_monitoring_review"),
                    );
                }
            }
            K::DecisionNotToTreat => {
                self.cancel(T_UNDECIDED);
                if self.open(RTT) {
                    let reason = name!("decision_not_to_treat");
                    self.stop(at, R::RttStopNotTreating, RTT, reason, false);
                }
            }
            K::ReturnedToPrimaryCare => {
                if self.open(RTT) {
                    let reason = name!("returned_to_primary_care");
                    self.stop(at, R::RttStopPrimaryCare, RTT, reason, false);
                }
            }
            K::PatientDeclinedTreatment => {
                self.cancel(T_UNDECIDED);
                if self.open(RTT) {
                    let reason = name!("patient_declined_treatment");
                    self.stop(at, R::RttStopDeclined, RTT, reason, false);
                }
                self.outcome(
                    at,
                    R::DeclinedTreatmentDischarge,
                    name!("discharge_to_referrer"),
                );
            }
            K::PatientDied => {
                let c62 = self.open(C62);
                let fds = self.open(FDS);
                let c31 = self.open(C31);
                let rtt = self.open(RTT);
                if c62 {
                    self.stop(at, R::CancerStopDied, C62, name!("patient_died"), true);
                }
                if fds {
                    self.stop(at, R::FdsEndedDied, FDS, name!("patient_died"), true);
                }
                if c31 {
                    self.stop(at, R::C31EndedDied, C31, name!("patient_died"), true);
                }
                if rtt {
                    self.stop(at, R::RttStopDied, RTT, name!("patient_died"), false);
                }
            }
            K::TransplantListed => {
                if self.open(RTT) {
                    self.stop(
                        at,
                        R::RttStopTransplant,
                        RTT,
                        name!("transplant_list"),
                        false,
                    );
                }
            }
            K::FitAndReady => {
                if !self.open(RTT) && self.periods(RTT) > 0 {
                    // 3.22 bilateral_start_when_available
                    match self.seen.last_unavailable_until.filter(|u| *u > now) {
                        Some(until) => {
                            self.start(at, R::BilateralStartWhenAvailable, RTT, Some(until))
                        }
                        None => self.start(at, R::RttNewClockBilateral, RTT, Some(now)),
                    }
                }
            }
            K::NewTreatmentDecided => {
                if !self.open(RTT) && self.periods(RTT) > 0 {
                    self.start(at, R::RttNewClockNewTreatment, RTT, Some(now));
                }
            }
            K::MedicallyUnfit => {
                let short_term = matches!(
                    (f_date(e, f.expected_until), plus(now, SHORT_TERM_UNFIT)),
                    (Some(u), Some(limit)) if u <= limit
                );
                if short_term {
                    self.outcome(at, R::MedicallyUnfitShortTerm, name!("book_when_fit"));
                } else {
                    self.outcome(at, R::MedicallyUnfitLongTerm, name!("clinical_review"));
                }
            }
            K::PatientUndecided => self.arm(T_UNDECIDED, now, UNDECIDED_DAYS, e.line),
            K::PatientUnavailable => {
                // 4.7: `event.date within 14 days of last(referral_received).date`.
                let within = self.seen.last_referral.is_some_and(|r| {
                    r <= now && plus(r, CANCER_FIRST_SEEN_WITHIN).is_some_and(|end| now <= end)
                });
                if self.cancer_suspected() && within {
                    self.outcome(at, R::CancerReferralUnavailable, name!("referrer_feedback"));
                }
            }
            K::ConsultantUpgrade => {
                if !self.open(C62) && self.periods(C62) == 0 {
                    self.start(at, R::C62StartUpgrade, C62, Some(now));
                }
            }
            K::DiagnosisCommunicated => {
                let cancer = f_bool(e, f.cancer);
                let fds = self.open(FDS);
                let c62 = self.open(C62);
                // The two FDS stops exclude each other on `cancer`.
                if cancer == Some(true) && fds {
                    self.stop(
                        at,
                        R::FdsStopDiagnosis,
                        FDS,
                        name!("cancer_diagnosed"),
                        false,
                    );
                }
                if cancer == Some(false) && fds {
                    self.stop(
                        at,
                        R::FdsStopRuledOut,
                        FDS,
                        name!("cancer_ruled_out"),
                        false,
                    );
                }
                if cancer == Some(false) && c62 {
                    self.stop(
                        at,
                        R::C62EndedRuledOut,
                        C62,
                        name!("cancer_ruled_out"),
                        true,
                    );
                }
            }
            K::ClinicallyAppropriateDate => {
                let ecad = f_date(e, f.ecad);
                let c31 = self.open(C31) && self.periods(C31) > 1;
                let planned = self.seen.planned_listing;
                if c31 {
                    self.reset(at, R::C31Ecad, C31, ecad);
                }
                if planned {
                    // `within 0 days of month_end(event.ecad)`.
                    let r = R::PlannedProcedureDue;
                    let due = ecad.map(month_end);
                    self.require(
                        at,
                        r,
                        name!("planned_procedure"),
                        By::Treatment,
                        days(0),
                        due,
                    );
                }
            }
            K::TransferredIn => {
                let start = f_date(e, f.original_start);
                // Each pair excludes itself on the clock's `open`.
                let fds_new = self.urgent_cancer() && !self.open(FDS) && self.periods(FDS) == 0;
                let fds_running = self.open(FDS);
                let c62_new = self.cancer_62_route() && !self.open(C62) && self.periods(C62) == 0;
                let c62_running = self.open(C62);
                if fds_new {
                    self.start(at, R::FdsTransferInNew, FDS, start);
                }
                if fds_running {
                    self.reset(at, R::FdsTransferInRunning, FDS, start);
                }
                if c62_new {
                    self.start(at, R::C62TransferInNew, C62, start);
                }
                if c62_running {
                    self.reset(at, R::C62TransferInRunning, C62, start);
                }
                if self.open(RTT) {
                    self.reset(at, R::RttTransferInRunning, RTT, start);
                } else {
                    self.start(at, R::RttTransferInNew, RTT, start);
                }
            }
            K::Discharged => {
                if self.open(RTT) {
                    if self.first_activity_missed(now) {
                        let r = R::RttDischargeAfterFirstDna;
                        self.stop(at, r, RTT, name!("discharged_after_first_dna"), true);
                    } else {
                        self.stop(at, R::RttStopDischarged, RTT, name!("discharged"), false);
                    }
                }
            }
            K::RttStatus => self.rtt_status(at, e),
            K::ReferralGraded => self.cancel(T_ERS_NOT_GRADED),
            K::AppointmentSlotIssue => {
                if !self.open(RTT) {
                    self.start(at, R::SlotIssueClockStart, RTT, Some(now));
                }
                let r = R::SlotIssueBooking;
                self.require(
                    at,
                    r,
                    name!("appointment_offer"),
                    By::Offer,
                    SLOT_OFFER_WITHIN,
                    Some(now),
                );
                self.require(
                    at,
                    r,
                    name!("appointment_booked"),
                    By::Booked,
                    SLOT_WITHIN,
                    Some(now),
                );
            }
        }
    }

    /// Updates the history counters with event `e` (conditions see the event itself).
    fn see(&mut self, k: K, e: &Event) {
        let (f, v) = (self.m.f, self.m.v);
        let s = &mut self.seen;
        let d = e.date;
        match k {
            K::ReferralReceived => s.last_referral = Some(d),
            K::TransferredIn => s.any_transfer = true,
            K::ConsultantUpgrade => s.any_upgrade = true,
            K::Dna => {
                let appt = fv(e, f.dna_appointment);
                match f_bool(e, f.dna_communicated) {
                    Some(true) => {
                        s.communicated_dnas.push(d);
                        if is_not(appt, v.follow_up) {
                            s.last_communicated_not_follow_up_dna = Some(d);
                        }
                    }
                    Some(false) => s.last_uncommunicated_dna = Some(d),
                    None => {}
                }
                if is(appt, v.first) {
                    s.first_dnas = s.first_dnas.saturating_add(1);
                    s.first_dna_run = s.first_dna_run.saturating_add(1);
                } else {
                    s.first_dna_run = 0;
                }
                if is(appt, v.first) || is(appt, v.diagnostic) {
                    s.any_first_seen_dna = true;
                    // Bookings on the DNA's own date count (`since` takes the whole day).
                    s.first_seen_booked_since_dna = if s.first_seen_booked_day == Some(d) {
                        s.first_seen_booked_that_day
                    } else {
                        0
                    };
                }
                if is(appt, v.diagnostic) {
                    s.diagnostic_dnas = s.diagnostic_dnas.saturating_add(1);
                }
            }
            K::Attended => {
                s.first_dna_run = 0;
                s.last_attended = Some(d);
            }
            K::DecisionToTreat => s.last_decision_to_treat = Some(d),
            K::AppointmentBooked => {
                let appt = fv(e, f.booked_appointment);
                if is_not(appt, v.follow_up) {
                    s.last_booking_communicated =
                        !matches!(fv(e, f.booked_communicated), Value::Bool(false));
                }
                if is(appt, v.first) || is(appt, v.diagnostic) {
                    if s.first_seen_booked_day == Some(d) {
                        s.first_seen_booked_that_day =
                            s.first_seen_booked_that_day.saturating_add(1);
                    } else {
                        s.first_seen_booked_day = Some(d);
                        s.first_seen_booked_that_day = 1;
                    }
                    s.first_seen_booked_since_dna = s.first_seen_booked_since_dna.saturating_add(1);
                }
            }
            K::PatientCancelled => {
                s.any_patient_cancelled = true;
                if is_not(fv(e, f.pc_appointment), v.admission) {
                    s.outpatient_patient_cancels = s.outpatient_patient_cancels.saturating_add(1);
                }
            }
            K::HospitalCancelled => s.hospital_cancels = s.hospital_cancels.saturating_add(1),
            K::OfferMade => {
                let appt = fv(e, f.made_appointment).clone();
                s.offers.push((appt, fv(e, f.made_offered).clone(), d));
            }
            K::OfferDeclined => {
                let appt = fv(e, f.declined_appointment);
                if is(appt, v.first) || is(appt, v.diagnostic) {
                    s.first_or_diagnostic_declined = true;
                }
                if is(appt, v.first) || is(appt, v.admission) {
                    let offered = fv(e, f.declined_offered).clone();
                    s.declines.push((appt.clone(), offered, d));
                }
            }
            K::PatientUnavailable => {
                s.any_unavailable = true;
                s.last_unavailable_until = f_date(e, f.unavailable_until);
            }
            K::DiagnosisCommunicated if f_bool(e, f.cancer) == Some(true) => {
                s.cancer_diagnosed = true;
            }
            K::AddedToWaitingList => {
                let list = fv(e, f.list);
                if is(list, v.planned) {
                    s.planned_listing = true;
                }
                if is(list, v.deferred) {
                    s.last_deferred = Some(d);
                }
            }
            K::RttStatus if matches!(fv(e, f.code), Value::Int(33)) => {
                s.last_status_33 = Some(d);
            }
            _ => {}
        }
    }

    // -------------------------------------------------------------- shared conditions

    /// `activity_before_referral`'s condition.
    fn before_referral(&self) -> bool {
        self.seen.last_referral.is_none() && !self.seen.any_transfer
    }

    fn activity_before_referral(&mut self, at: At) {
        let msg = "activity before the referral was received".to_string();
        self.warn(at, R::ActivityBeforeReferral, msg);
    }

    fn rtt_start(&self) -> Option<NaiveDate> {
        self.last(RTT).map(|p| p.start)
    }

    /// `not_seen_since_referral`: nothing attended and no decision to treat since
    /// `last(referral_received).date ?? (rtt.start ?? now)`.
    fn not_seen_since_referral(&self, now: NaiveDate) -> bool {
        let from = self.seen.last_referral.or(self.rtt_start()).unwrap_or(now);
        !since(self.seen.last_attended, Some(from))
            && !since(self.seen.last_decision_to_treat, Some(from))
    }

    /// `first_care_activity`: not seen since the referral, and at most one communicated DNA
    /// dated after `rtt.start` (none when the clock never started).
    fn first_care_activity(&self, now: NaiveDate) -> bool {
        if !self.not_seen_since_referral(now) {
            return false;
        }
        let after_start = match self.rtt_start() {
            Some(start) => {
                let dates = &self.seen.communicated_dnas;
                dates.len() - dates.partition_point(|d| *d <= start)
            }
            None => 0,
        };
        after_start <= 1
    }

    /// `first_activity_missed` (with `rtt.start` set: the rule holds only while rtt is open).
    fn first_activity_missed(&self, now: NaiveDate) -> bool {
        let start = self.rtt_start();
        self.not_seen_since_referral(now)
            && (since(self.seen.last_communicated_not_follow_up_dna, start)
                || since(self.seen.last_status_33, start))
    }

    /// `status_33_communicated`.
    fn status_33_communicated(&self) -> bool {
        !since(self.seen.last_uncommunicated_dna, self.rtt_start())
            && self.seen.last_booking_communicated
    }

    /// `last(offer_made where offer_made.appointment == appt and offer_made.offered_date ==
    /// offered).date ?? date`: the date an offer declined on `date` was made (unset values
    /// equal only unset ones).
    fn offered_on(&self, appt: &Value, offered: &Value, date: NaiveDate) -> NaiveDate {
        self.seen
            .offers
            .iter()
            .rev()
            .find(|(a, o, _)| a == appt && o == offered)
            .map_or(date, |(_, _, d)| *d)
    }

    /// `offered_date at least reasonable_notice after` the date the offer was made.
    fn reasonable(&self, appt: &Value, offered: &Value, date: NaiveDate) -> bool {
        let made = self.offered_on(appt, offered, date);
        match offered {
            Value::Date(o) => at_least_after(Some(*o), REASONABLE_NOTICE, made),
            _ => false,
        }
    }

    /// `count(offer_declined where offer_declined.appointment == kind and offer_declined
    /// .offered_date at least reasonable_notice after (last(offer_made where … == kind and …
    /// == offer_declined.offered_date).date ?? offer_declined.date))`.
    fn reasonable_declines(&self, kind: EnumVal) -> u32 {
        let mut n: u32 = 0;
        for (appt, offered, date) in &self.seen.declines {
            if is(appt, kind) && self.reasonable(appt, offered, *date) {
                n = n.saturating_add(1);
            }
        }
        n
    }

    /// `deferred_since_start`.
    fn deferred_since_rtt_start(&self) -> bool {
        since(self.seen.last_deferred, self.rtt_start())
    }

    // -------------------------------------------------------------- event types with many rules

    fn offer_declined(&mut self, at: At, e: &Event) {
        let (f, v) = (self.m.f, self.m.v);
        let now = at.now;
        let appt = fv(e, f.declined_appointment);
        let admission = is(appt, v.admission);
        let offered = f_date(e, f.declined_offered);
        let available = f_date(e, f.declined_available);
        // 10.2.5: a declined date after the standard's end does not pause (exceptions to the
        // national pauses, with no actions of their own).
        let beyond = |st: &Self, c: usize| match (st.last(c), offered) {
            (Some(p), Some(o)) => o > p.target_date(now),
            _ => false,
        };
        let c62 = admission && available.is_some() && self.open(C62) && !beyond(self, C62);
        let c31 = admission && available.is_some() && self.open(C31) && !beyond(self, C31);
        // Notice runs from the matching offer_made (3.34), else from the decline.
        let reasonable = self.reasonable(appt, fv(e, f.declined_offered), now);
        // 10.2.5 cancer_short_notice_admission: no rebook on a cancer pathway.
        let rebook = !reasonable && !(admission && (self.open(C62) || self.open(C31)));
        let first_offers = is(appt, v.first)
            && reasonable
            && self.reasonable_declines(v.first) >= REASONABLE_OFFERS;
        let admission_offers =
            admission && reasonable && self.reasonable_declines(v.admission) >= REASONABLE_OFFERS;
        if c62 {
            self.pause(at, R::C62PauseDeclinedAdmission, C62, offered);
            self.resume(at, R::C62PauseDeclinedAdmission, C62, available);
        }
        if c31 {
            self.pause(at, R::C31PauseDeclinedAdmission, C31, offered);
            self.resume(at, R::C31PauseDeclinedAdmission, C31, available);
        }
        if rebook {
            self.outcome(at, R::ShortNoticeOfferDeclined, name!("rebook"));
        }
        if first_offers {
            self.outcome(at, R::FirstOffersDeclined, name!("record_patient_choice"));
        }
        if admission_offers {
            let r = R::AdmissionOffersDeclined;
            self.outcome(at, r, name!("book_admission"));
            self.require(
                at,
                r,
                name!("admission"),
                By::Admission,
                TCI_WINDOW,
                Some(now),
            );
        }
    }

    fn dna(&mut self, at: At, e: &Event) {
        let (f, v) = (self.m.f, self.m.v);
        let now = at.now;
        let appt = fv(e, f.dna_appointment);
        let first = is(appt, v.first);
        let diagnostic = is(appt, v.diagnostic);
        let communicated = f_bool(e, f.dna_communicated);
        let rtt_open = self.open(RTT);
        let group = self.second_appointment_group(now);
        let two_week_wait = self.two_week_wait();
        let cancer = self.cancer_suspected();
        // national_keeps_2ww_clock
        let keeps_2ww = two_week_wait && !NULLIFY_TWO_WEEK_WAIT_FIRST_DNA;

        // The exceptions of rtt_nullify_first_dna exclude each other on
        // `national_keeps_2ww_clock`. rtt_nullify_first_dna and first_dna_discharge share the
        // condition (the DNA of the first care activity).
        let nullify = is_not(appt, v.follow_up)
            && communicated == Some(true)
            && rtt_open
            && self.first_care_activity(now);
        let before_referral = self.before_referral();
        let first_dna = nullify;
        let uncommunicated = communicated == Some(false);
        let repeat_first = first && self.seen.first_dnas >= REPEAT_DNA_LIMIT;
        let cancer_repeat = cancer && self.seen.first_dna_run >= REPEAT_DNA_LIMIT;
        let diagnostic_review =
            diagnostic && cancer && self.seen.diagnostic_dnas >= REPEAT_DNA_LIMIT;
        let follow_up = is(appt, v.follow_up) && communicated == Some(true);

        if nullify {
            let acting = if keeps_2ww {
                // rtt_first_dna_two_week_wait → two_week_wait_first_dna_reset
                Some(R::TwoWeekWaitFirstDnaReset)
            } else if group {
                Some(R::FirstDnaReset)
            } else {
                None
            };
            match acting {
                Some(r) => {
                    self.reset(at, r, RTT, Some(now));
                    let w = SECOND_APPOINTMENT_WITHIN;
                    self.require(
                        at,
                        r,
                        name!("appointment_booked"),
                        By::NotFollowUpBooked,
                        w,
                        Some(now),
                    );
                }
                None => {
                    let reason = name!("dna_first_appointment");
                    self.stop(at, R::RttNullifyFirstDna, RTT, reason, true);
                }
            }
        }
        if before_referral {
            self.activity_before_referral(at);
        }
        if first_dna {
            if group {
                self.outcome(at, R::FirstDnaSecondAppointment, name!("rebook"));
            } else {
                self.outcome(at, R::FirstDnaDischarge, name!("discharge_to_referrer"));
            }
        }
        if uncommunicated {
            self.outcome(at, R::UncommunicatedDnaRebook, name!("rebook"));
        }
        if repeat_first {
            if cancer_repeat {
                self.outcome(at, R::CancerRepeatFirstDna, name!("discharge_to_referrer"));
            } else {
                self.outcome(at, R::RepeatFirstDnaReview, name!("clinical_review"));
            }
        }
        if diagnostic_review {
            self.outcome(at, R::CancerDiagnosticDnaReview, name!("clinical_review"));
        }
        if follow_up {
            // The two exceptions exclude each other on `follow_up_protected`.
            let protected = self.follow_up_protected(now);
            if DISCHARGE_FOLLOW_UP_DNA_WITHOUT_REVIEW && !protected {
                self.outcome(at, R::FollowUpDnaDischarge, name!("discharge_to_referrer"));
            } else if protected {
                self.outcome(at, R::FollowUpDnaProtected, name!("rebook"));
            } else {
                self.outcome(
                    at,
                    R::FollowUpDnaReview,
                    name!("discharge_if_clinically_agreed"),
                );
            }
        }
    }

    fn patient_cancelled<H: History + ?Sized>(&mut self, h: &H, i: usize, at: At, e: &Event) {
        let (f, v) = (self.m.f, self.m.v);
        let discharge = is_not(fv(e, f.pc_appointment), v.admission)
            && self.seen.outpatient_patient_cancels >= CANCELLATION_LIMIT;
        if !discharge {
            return;
        }
        // The two exceptions exclude each other on `cancer_suspected`.
        if self.cancer_suspected() {
            self.outcome(
                at,
                R::SuspectedCancerCancellations,
                name!("clinical_review"),
            );
            return;
        }
        // 9.10.2: the cancelled date was booked with less than the reasonable notice.
        let short_notice = match fv(e, f.pc_date) {
            Value::Unset => false,
            date => (0..=i).filter_map(|j| h.at(j)).any(|b| {
                self.m.kind(b.kind) == Some(K::AppointmentBooked)
                    && fv(b, f.booked_date).is_set()
                    && fv(b, f.booked_date) == date
                    && !at_least_after(f_date(b, f.booked_date), REASONABLE_NOTICE, b.date)
            }),
        };
        if short_notice {
            self.outcome(at, R::ShortNoticeCancellation, name!("rebook"));
        } else {
            self.outcome(
                at,
                R::PatientCancellationDischarge,
                name!("discharge_to_referrer"),
            );
        }
    }

    fn hospital_cancelled(&mut self, at: At, e: &Event) {
        let (f, v) = (self.m.f, self.m.v);
        let now = at.now;
        let appt = fv(e, f.hc_appointment);
        let outpatient = is_not(appt, v.admission);
        let date = f_date(e, f.hc_date);
        let clinic_short =
            outpatient && date.is_some() && !at_least_after(date, CLINIC_CANCELLATION_NOTICE, now);
        let patient_short =
            outpatient && date.is_some() && !at_least_after(date, PATIENT_CANCELLATION_NOTICE, now);
        let repeat = self.seen.hospital_cancels >= REPEAT_HOSPITAL_CANCELLATION;
        let on_the_day = is(appt, v.admission) && f_bool(e, f.hc_on_the_day) == Some(true);
        if clinic_short {
            self.outcome(at, R::ShortNoticeClinicCancellation, name!("arrange_cover"));
        }
        if patient_short {
            let msg = "hospital cancellation with less than 5 weeks' notice to the patient";
            self.warn(at, R::PatientNoticeOfCancellation, msg.to_string());
        }
        if outpatient {
            let r = R::HospitalCancellationRebook;
            self.outcome(at, r, name!("rebook"));
            self.require(
                at,
                r,
                name!("appointment_booked"),
                By::Booked,
                SLOT_WITHIN,
                Some(now),
            );
        }
        if repeat {
            let r = R::RepeatHospitalCancellation;
            self.outcome(at, r, name!("escalate"));
            let msg = "patient cancelled by the hospital more than once";
            self.warn(at, r, msg.to_string());
        }
        if on_the_day {
            let r = R::OnTheDayOperationCancelled;
            self.outcome(at, r, name!("rebook"));
            let w = ON_THE_DAY_REBOOK_WITHIN;
            self.require(at, r, name!("readmission"), By::Admission, w, Some(now));
        }
    }

    fn rtt_status(&mut self, at: At, e: &Event) {
        let now = at.now;
        let Value::Int(code) = *fv(e, self.m.f.code) else {
            // An unset code is in no list: `event.code not in [...]` holds.
            let msg = "unknown RTT status code".to_string();
            self.warn(at, R::RttStatusUnknown, msg);
            return;
        };
        let open = self.open(RTT);
        // Every clock rule tests a different code, so at most one acts on rtt. Conditions see
        // the state before any rule acts.
        let (first_dna, not_first) = if code == 33 && open {
            let clear = self.not_seen_since_referral(now) && self.status_33_communicated();
            (clear, !clear)
        } else {
            (false, false)
        };
        let outside =
            matches!(code, 90..=92) && open && self.rtt_start().is_some_and(|start| start < now);
        let review = matches!(code, 31 | 32) && open;
        match code {
            10..=12 if !open => self.start(at, R::RttStatusStart, RTT, Some(now)),
            30 if open => {
                let reason = name!("first_definitive_treatment");
                self.stop(at, R::RttStatusTreatment, RTT, reason, false)
            }
            31 if open => {
                let reason = name!("patient_initiated_active_monitoring");
                self.stop(at, R::RttStatusPatientMonitoring, RTT, reason, false)
            }
            32 if open => {
                let reason = name!("clinician_initiated_active_monitoring");
                self.stop(at, R::RttStatusClinicianMonitoring, RTT, reason, false)
            }
            33 if first_dna => {
                // rtt_status_first_dna's exceptions exclude each other on
                // `national_keeps_2ww_clock`; the 2WW one acts through its own exception.
                let keeps_2ww = self.two_week_wait() && !NULLIFY_TWO_WEEK_WAIT_FIRST_DNA;
                let acting = if keeps_2ww {
                    Some(R::StatusTwoWeekWaitReset)
                } else if self.second_appointment_group(now) {
                    Some(R::StatusFirstDnaReset)
                } else {
                    None
                };
                match acting {
                    Some(r) => {
                        self.reset(at, r, RTT, Some(now));
                        let w = SECOND_APPOINTMENT_WITHIN;
                        let by = By::NotFollowUpBooked;
                        self.require(at, r, name!("appointment_booked"), by, w, Some(now));
                    }
                    None => {
                        let reason = name!("dna_first_appointment");
                        self.stop(at, R::RttStatusFirstDna, RTT, reason, true)
                    }
                }
            }
            34 if open => {
                let reason = name!("decision_not_to_treat");
                self.stop(at, R::RttStatusNotTreating, RTT, reason, false)
            }
            35 if open => {
                let reason = name!("patient_declined_treatment");
                self.stop(at, R::RttStatusDeclined, RTT, reason, false)
            }
            36 if open => self.stop(at, R::RttStatusDied, RTT, name!("patient_died"), false),
            _ => {}
        }
        if not_first {
            let msg = "RTT status 33 recorded after an attendance or for an appointment not \
                       communicated: the clock keeps running";
            self.warn(at, R::RttStatus33NotFirst, msg.to_string());
        }
        if outside {
            let msg = "RTT status 90, 91 or 92 (activity outside an RTT period) recorded while \
                       the clock is running";
            self.warn(at, R::RttStatusOutsidePeriod, msg.to_string());
        }
        if !KNOWN_RTT_STATUS_CODES.contains(&code) {
            let msg = "unknown RTT status code".to_string();
            self.warn(at, R::RttStatusUnknown, msg);
        }
        if review {
            self.outcome(
                at,
                R::MonitoringReviewBookedStatus,
                name!("book_monitoring_review"),
            );
        }
    }

    // -------------------------------------------------------------- the result

    fn finish(self, pathway_id: &str, as_at: NaiveDate) -> PathwayResult {
        let m = self.m;
        // Periods in start order (then clock, then period): usually already in clock order.
        let mut clocks = Vec::with_capacity(self.clocks.iter().map(Vec::len).sum());
        let mut in_order = true;
        let mut previous = None;
        for (ci, periods) in self.clocks.iter().enumerate() {
            for (pi, p) in periods.iter().enumerate() {
                let key = (p.start, ci, pi);
                in_order &= previous.is_none_or(|k| k < key);
                previous = Some(key);
                let nullified = p.state == PState::Nullified;
                let days = p.days_waited(as_at);
                clocks.push(PeriodResult {
                    clock: self.clock_name(ci),
                    period: pi as u32 + 1,
                    status: match p.status(as_at) {
                        Status::Stopped => PeriodStatus::Stopped,
                        Status::Nullified => PeriodStatus::Nullified,
                        Status::Paused => PeriodStatus::Paused,
                        _ => PeriodStatus::Running,
                    },
                    start: p.start,
                    stop: p.stop,
                    reason: p.reason,
                    days_waited: (!nullified).then_some(days),
                    paused_days: p.paused_days(as_at),
                    target_days: p.target_days,
                    target_date: p.target_date(as_at),
                    breached: !nullified && days > p.target_days,
                    weeks_waited: (!nullified).then_some(days.div_euclid(7)),
                    started_by: Some(m.name(p.started_by)),
                    stopped_by: p.stopped_by.map(|r| m.name(r)),
                });
            }
        }
        if !in_order {
            let clock_index = |name: Name| m.clock_names.iter().position(|c| *c == name);
            clocks.sort_by_key(|r| (r.start, clock_index(r.clock), r.period));
        }
        let obligations = self
            .obligations
            .iter()
            .map(|o| ObligationResult {
                what: o.what,
                created: o.created,
                due: o.due,
                status: match o.met_on {
                    Some(d) if d <= o.due => ObligationStatus::Met,
                    Some(_) => ObligationStatus::Missed,
                    None if as_at > o.due => ObligationStatus::Missed,
                    None => ObligationStatus::Open,
                },
                met_on: o.met_on,
                rule: m.name(o.rule),
                cite: m.cite(o.rule),
            })
            .collect();
        let mut attributes = Attributes::default();
        for &slot in &m.attr_order {
            let v = self.attr(slot);
            if let (true, Some(&name)) = (v.is_set(), m.attr_names.get(slot)) {
                let literal = matches!(v, Value::Bool(_) | Value::Int(_));
                attributes.insert(name, display(m, v), literal);
            }
        }
        PathwayResult {
            pathway_id: pathway_id.into(),
            as_at,
            attributes,
            clocks,
            outcomes: self.outcomes,
            obligations,
            conflicts: Vec::new(),
            warnings: self.warnings,
            trace: None,
        }
    }
}

/// A value as `Schema::display_value` writes it.
fn display(m: &NativeRde, v: &Value) -> ShortText {
    match v {
        Value::Unset => ShortText::default(),
        Value::Bool(b) => ShortText::const_new(if *b { "true" } else { "false" }),
        Value::Date(d) => ShortText::from(
            std::str::from_utf8(&pal_engine::base::value::iso_date(*d)).unwrap_or_default(),
        ),
        Value::Str(s) => ShortText::from(&**s),
        Value::Enum(e, i) => m
            .enum_variants
            .get(*e as usize)
            .and_then(|vs| vs.get(*i as usize))
            .map(|name| ShortText::from(name.as_str()))
            .unwrap_or_default(),
        Value::Int(_) | Value::Duration(_) | Value::List(_) => ShortText::from(display_list(m, v)),
    }
}

/// The rarer values, written once to a `String`.
fn display_list(m: &NativeRde, v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Duration(d) => d.to_string(),
        Value::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| display(m, v).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => display(m, other).to_string(),
    }
}
