//! A hand-written native Rust baseline of `policies/rde.pal`: the practical speed limit for
//! evaluating that policy.
//!
//! [`NativeRde`] implements every rule of the trust's policy and of the national rules it
//! inherits (`national.pal` and `national/cancer.pal`, without the rule rde disables), with
//! rde's exceptions, timers, obligations, outcomes and warnings, as plain Rust `match`es and
//! `if`s over the same parsed [`Event`]s the interpreter reads. Parameter values are constants.
//! It does not touch the IR's expressions or the interpreter: history queries become counters
//! kept as events are applied, and a pathway is one pass over its events.
//!
//! The results are meant to be *identical* to `Evaluator::new(policy).run(id, events, &[],
//! as_at, false)` (`tests/native_baseline.rs` asserts it on synthetic and example data), so it
//! mirrors the interpreter's order of work exactly: timers due before an event fire first (in
//! due order, then policy order), then the event sets pathway attributes, meets obligations,
//! cancels timers, has every triggered rule's condition evaluated against the state *before*
//! any of them acts, applies the acting rules (or their deepest applicable exceptions) in
//! policy order, and arms timers.
//!
//! Conflicts cannot arise in this policy: wherever two rules (or two exceptions of one rule)
//! could act on one clock for one event, their conditions exclude each other on a required
//! field (`appointment`, `subsequent`, `list`, `initiated_by`, `cancer`, `code`), on a clock's
//! `open`, on `exists(attended since rtt.start)` or on `national_keeps_2ww_clock`; the
//! comments at each such place say which. Same-date events are ordered by the schema's
//! `same_day_order` with the engine's own `model::event::SameDayOrder` (date, rank, input
//! order), as the interpreter orders them.
//!
//! [`NativeRde::new`] resolves event types, fields, enum variants and pathway attributes
//! against the loaded policy's schema once, copies rule names and citations (metadata), and
//! checks that the policy is the one implemented here: the rule set, each rule's actions, the
//! order in which an event triggers rules, timers, exceptions, every parameter value, and a
//! fingerprint of each rule's and definition's IR (conditions included), so that a policy
//! changed in a single comparison is refused too.

/// The interned [`Name`] of a string literal, made once per call site (what a hand-written
/// engine keeps as a constant), so that a result copies it.
macro_rules! name {
    ($s:literal) => {{
        static NAME: std::sync::OnceLock<pal_engine::runtime::eval::Name> =
            std::sync::OnceLock::new();
        *NAME.get_or_init(|| pal_engine::runtime::eval::Name::from($s))
    }};
}

mod run;
mod verify;

use chrono::NaiveDate;
use pal_engine::base::value::{Duration, DurationKind, EnumId, Value};
use pal_engine::model::calendar::Calendar;
use pal_engine::model::event::Event;
use pal_engine::model::ir::Policy;
use pal_engine::model::schema::EventTypeId;
use pal_engine::runtime::eval::{Name, PathwayResult};

const fn days(amount: i64) -> Duration {
    Duration {
        kind: DurationKind::Days,
        amount,
    }
}

const fn working_days(amount: i64) -> Duration {
    Duration {
        kind: DurationKind::WorkingDays,
        amount,
    }
}

const fn months(amount: i64) -> Duration {
    Duration {
        kind: DurationKind::Months,
        amount,
    }
}

// ------------------------------------------------------------------ parameters (the .pal values)

/// national.pal `rtt_target` (18 weeks).
const RTT_TARGET_DAYS: i64 = 126;
/// national.pal `fds_target`.
const FDS_TARGET_DAYS: i64 = 28;
/// national.pal `cancer_62_target`.
const CANCER_62_TARGET_DAYS: i64 = 62;
/// national.pal `cancer_31_target`.
const CANCER_31_TARGET_DAYS: i64 = 31;
/// national.pal `include_breast_symptomatic_in_62`.
const INCLUDE_BREAST_SYMPTOMATIC_IN_62: bool = true;
/// national.pal `nullify_two_week_wait_first_dna`.
const NULLIFY_TWO_WEEK_WAIT_FIRST_DNA: bool = false;
/// rde.pal `child_age`.
const CHILD_AGE: i64 = 18;
/// rde.pal `second_appointment_within` (2 weeks).
const SECOND_APPOINTMENT_WITHIN: Duration = days(14);
/// rde.pal `repeat_dna_limit`.
const REPEAT_DNA_LIMIT: u32 = 2;
/// rde.pal `discharge_follow_up_dna_without_review`.
const DISCHARGE_FOLLOW_UP_DNA_WITHOUT_REVIEW: bool = false;
/// rde.pal `cancellation_limit`.
const CANCELLATION_LIMIT: u32 = 2;
/// rde.pal `reasonable_notice` (3 weeks).
const REASONABLE_NOTICE: Duration = days(21);
/// rde.pal `reasonable_offers`.
const REASONABLE_OFFERS: u32 = 2;
/// rde.pal `tci_window` (6 weeks).
const TCI_WINDOW: Duration = days(42);
/// rde.pal `undecided_days`.
const UNDECIDED_DAYS: Duration = days(14);
/// rde.pal `monitoring_review_within`.
const MONITORING_REVIEW_WITHIN: Duration = months(3);
/// rde.pal `short_term_unfit`.
const SHORT_TERM_UNFIT: Duration = days(14);
/// rde.pal `paper_booking_within`.
const PAPER_BOOKING_WITHIN: Duration = working_days(5);
/// rde.pal `grading_within`.
const GRADING_WITHIN: Duration = working_days(5);
/// rde.pal `cas_booking_within`.
const CAS_BOOKING_WITHIN: Duration = days(14);
/// rde.pal `slot_offer_within`.
const SLOT_OFFER_WITHIN: Duration = working_days(10);
/// rde.pal `slot_within`.
const SLOT_WITHIN: Duration = working_days(5);
/// rde.pal `rtt_outcome_within`.
const RTT_OUTCOME_WITHIN: Duration = working_days(1);
/// rde.pal `pending_list_horizon` (6 weeks).
const PENDING_LIST_HORIZON: Duration = days(42);
/// rde.pal `clinic_cancellation_notice` (6 weeks).
const CLINIC_CANCELLATION_NOTICE: Duration = days(42);
/// rde.pal `patient_cancellation_notice` (5 weeks).
const PATIENT_CANCELLATION_NOTICE: Duration = days(35);
/// rde.pal `repeat_hospital_cancellation`.
const REPEAT_HOSPITAL_CANCELLATION: u32 = 2;
/// rde.pal `on_the_day_rebook_within`.
const ON_THE_DAY_REBOOK_WITHIN: Duration = days(28);
/// rde.pal `cancer_first_seen_within`.
const CANCER_FIRST_SEEN_WITHIN: Duration = days(14);
/// rde.pal `short_cancer_route_days`.
const SHORT_CANCER_ROUTE_DAYS: i64 = 31;
/// rde.pal `cas_specialties`: the Clinical Assessment Service specialties (9.6).
const CAS_SPECIALTIES: [&str; 12] = [
    "orthopaedics",
    "spinal",
    "foot_and_ankle",
    "hand_and_wrist",
    "plastic_surgery",
    "endocrinology",
    "gastroenterology",
    "respiratory",
    "cardiology",
    "ophthalmology",
    "minor_ops",
    "paediatrics",
];

/// rde.pal `short_route_tumour_groups`: tumour groups with a 31-day limit (4.8).
const SHORT_CANCER_TUMOUR_GROUPS: [&str; 3] = ["children", "testicular", "acute_leukaemia"];

/// national.pal `rtt_status_unknown`: the national RTT period status codes.
const KNOWN_RTT_STATUS_CODES: [i64; 17] = [
    10, 11, 12, 20, 21, 30, 31, 32, 33, 34, 35, 36, 90, 91, 92, 98, 99,
];

// ------------------------------------------------------------------ clocks (policy order)

/// The clocks, by their index in the policy (checked by `new`).
const RTT: usize = 0;
const FDS: usize = 1;
const C62: usize = 2;
const C31: usize = 3;
const CLOCKS: [(&str, i64); 4] = [
    ("rtt", RTT_TARGET_DAYS),
    ("cancer_fds", FDS_TARGET_DAYS),
    ("cancer_62", CANCER_62_TARGET_DAYS),
    ("cancer_31", CANCER_31_TARGET_DAYS),
];

// ------------------------------------------------------------------ rules

macro_rules! rules {
    ($($v:ident = $name:literal, $disabled:literal, $actions:literal;)*) => {
        /// Every rule, timer and exception of the policy (names as in the .pal files). The
        /// disabled rules and the exceptions without actions never act, so some are unused.
        #[allow(dead_code)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum R { $($v,)* }

        /// `(name, disabled, the actions as `verify::describe` writes them)`, indexed by `R`.
        const RULES: &[(&str, bool, &str)] = &[$(($name, $disabled, $actions),)*];
    };
}

rules! {
    // national/cancer.pal
    FdsStartReferral = "fds_start_referral", false, "start cancer_fds";
    FdsStartUbrn = "fds_start_ubrn", false, "start cancer_fds";
    C62StartReferral = "c62_start_referral", false, "start cancer_62";
    C62StartUbrn = "c62_start_ubrn", false, "start cancer_62";
    C62StartUpgrade = "c62_start_upgrade", false, "start cancer_62";
    C31StartFirst = "c31_start_first", false, "start cancer_31";
    C31StartSubsequent = "c31_start_subsequent", false, "start cancer_31";
    C31Ecad = "c31_earliest_clinically_appropriate_date", false, "reset cancer_31";
    FdsStopDiagnosis = "fds_stop_diagnosis", false, "stop cancer_fds cancer_diagnosed";
    FdsStopRuledOut = "fds_stop_ruled_out", false, "stop cancer_fds cancer_ruled_out";
    C62EndedRuledOut = "c62_ended_ruled_out", false, "nullify cancer_62 cancer_ruled_out";
    FdsStopDecisionToTreat = "fds_stop_decision_to_treat", false, "stop cancer_fds decision_to_treat";
    C62StopTreatment = "c62_stop_treatment", false, "stop cancer_62 first_definitive_treatment";
    C31StopTreatment = "c31_stop_treatment", false, "stop cancer_31 treatment_started";
    FdsTransferInNew = "fds_transfer_in_new", false, "start cancer_fds on";
    FdsTransferInRunning = "fds_transfer_in_running", false, "reset cancer_fds";
    C62TransferInNew = "c62_transfer_in_new", false, "start cancer_62 on";
    C62TransferInRunning = "c62_transfer_in_running", false, "reset cancer_62";
    CancerStopDied = "cancer_stop_died", false, "nullify cancer_62 patient_died";
    FdsEndedDied = "fds_ended_died", false, "nullify cancer_fds patient_died";
    C31EndedDied = "c31_ended_died", false, "nullify cancer_31 patient_died";
    FdsResetAfterFirstDna = "fds_reset_after_first_dna", false, "reset cancer_fds";
    C62ResetAfterFirstDna = "c62_reset_after_first_dna", false, "reset cancer_62";
    C62PauseDeclinedAdmission = "c62_pause_declined_admission", false,
        "pause cancer_62 on; resume cancer_62 on";
    C31PauseDeclinedAdmission = "c31_pause_declined_admission", false,
        "pause cancer_31 on; resume cancer_31 on";
    // national.pal
    RttStartReferral = "rtt_start_referral", false, "start rtt";
    RttStartUbrn = "rtt_start_ubrn", false, "start rtt";
    RttTransferInNew = "rtt_transfer_in_new", false, "start rtt on";
    RttTransferInRunning = "rtt_transfer_in_running", false, "reset rtt";
    RttNewClockBilateral = "rtt_new_clock_bilateral", false, "start rtt";
    RttNewClockNewTreatment = "rtt_new_clock_new_treatment", false, "start rtt";
    RttNewClockAfterMonitoring = "rtt_new_clock_after_monitoring", false, "start rtt";
    RttNewClockRebooked = "rtt_new_clock_rebooked", true, "start rtt";
    RttStopTreatment = "rtt_stop_treatment", false, "stop rtt first_definitive_treatment";
    RttStopTransplant = "rtt_stop_transplant", false, "stop rtt transplant_list";
    RttStopPrimaryCare = "rtt_stop_primary_care", false, "stop rtt returned_to_primary_care";
    RttStopClinicianMonitoring = "rtt_stop_clinician_monitoring", false,
        "stop rtt clinician_initiated_active_monitoring";
    RttStopPatientMonitoring = "rtt_stop_patient_monitoring", false,
        "stop rtt patient_initiated_active_monitoring";
    RttStopDeclined = "rtt_stop_declined", false, "stop rtt patient_declined_treatment";
    RttStopNotTreating = "rtt_stop_not_treating", false, "stop rtt decision_not_to_treat";
    RttStopDied = "rtt_stop_died", false, "stop rtt patient_died";
    RttStopDischarged = "rtt_stop_discharged", false, "stop rtt discharged";
    RttDischargeAfterFirstDna = "rtt_discharge_after_first_dna", false,
        "nullify rtt discharged_after_first_dna";
    RttNullifyFirstDna = "rtt_nullify_first_dna", false, "nullify rtt dna_first_appointment";
    RttFirstDnaTwoWeekWait = "rtt_first_dna_two_week_wait", false, "";
    RttStatusStart = "rtt_status_start", false, "start rtt";
    RttStatusTreatment = "rtt_status_treatment", false, "stop rtt first_definitive_treatment";
    RttStatusPatientMonitoring = "rtt_status_patient_monitoring", false,
        "stop rtt patient_initiated_active_monitoring";
    RttStatusClinicianMonitoring = "rtt_status_clinician_monitoring", false,
        "stop rtt clinician_initiated_active_monitoring";
    RttStatusFirstDna = "rtt_status_first_dna", false, "nullify rtt dna_first_appointment";
    RttStatusFirstDnaTwoWeekWait = "rtt_status_first_dna_two_week_wait", false, "";
    RttStatus33NotFirst = "rtt_status_33_not_first", false,
        "warn RTT status 33 recorded after an attendance or for an appointment not communicated: the clock keeps running";
    RttStatusNotTreating = "rtt_status_not_treating", false, "stop rtt decision_not_to_treat";
    RttStatusDeclined = "rtt_status_declined", false, "stop rtt patient_declined_treatment";
    RttStatusDied = "rtt_status_died", false, "stop rtt patient_died";
    RttStatusOutsidePeriod = "rtt_status_outside_period", false,
        "warn RTT status 90, 91 or 92 (activity outside an RTT period) recorded while the clock is running";
    RttStatusUnknown = "rtt_status_unknown", false, "warn unknown RTT status code";
    TreatmentWithoutClock = "treatment_without_clock", false,
        "warn treatment recorded with no clock running";
    ActivityBeforeReferral = "activity_before_referral", false,
        "warn activity before the referral was received";
    // rde.pal
    MonitoringReviewBooked = "monitoring_review_booked", false, "outcome book_monitoring_review";
    MonitoringReviewBookedStatus = "monitoring_review_booked_status", false,
        "outcome book_monitoring_review";
    BilateralStartWhenAvailable = "bilateral_start_when_available", false, "start rtt on";
    CancerReferralUnavailable = "cancer_referral_unavailable", false, "outcome referrer_feedback";
    ShortCancerRouteBreach = "short_cancer_route_breach", false, "outcome breach_review";
    CancerFirstSeenTwoWeeks = "cancer_first_seen_two_weeks", false, "outcome breach_review";
    FirstSeenPatientChoice = "first_seen_patient_choice", false, "outcome record_patient_choice";
    RttOutcomeRecorded = "rtt_outcome_recorded", false,
        "require rtt_outcome within rtt_outcome_within by rtt_status|decision_to_treat|decision_not_to_treat|active_monitoring_started|returned_to_primary_care|discharged|treatment_started|added_to_waiting_list";
    ShortNoticeOfferDeclined = "short_notice_offer_declined", false, "outcome rebook";
    CancerShortNoticeAdmission = "cancer_short_notice_admission", false, "";
    PaperReferralBooking = "paper_referral_booking", false,
        "require appointment_booked within paper_booking_within by appointment_booked";
    CasReferralTriage = "cas_referral_triage", false,
        "require referral_graded within grading_within by referral_graded; require appointment_booked within cas_booking_within by appointment_booked";
    ErsReferralNotGraded = "ers_referral_not_graded", false, "outcome accept_referral";
    PaperReferralGrading = "paper_referral_grading", false,
        "require referral_graded within grading_within by referral_graded";
    FirstOffersDeclined = "first_offers_declined", false, "outcome record_patient_choice";
    FollowUpPendingList = "follow_up_pending_list", false, "outcome add_to_pending_list";
    SlotIssueClockStart = "slot_issue_clock_start", false, "start rtt";
    SlotIssueBooking = "slot_issue_booking", false,
        "require appointment_offer within slot_offer_within by offer_made|appointment_booked; require appointment_booked within slot_within by appointment_booked";
    PatientCancellationDischarge = "patient_cancellation_discharge", false,
        "outcome discharge_to_referrer";
    ShortNoticeCancellation = "short_notice_cancellation", false, "outcome rebook";
    SuspectedCancerCancellations = "suspected_cancer_cancellations", false,
        "outcome clinical_review";
    DeclinedTreatmentDischarge = "declined_treatment_discharge", false,
        "outcome discharge_to_referrer";
    ShortNoticeClinicCancellation = "short_notice_clinic_cancellation", false,
        "outcome arrange_cover";
    PatientNoticeOfCancellation = "patient_notice_of_cancellation", false,
        "warn hospital cancellation with less than 5 weeks' notice to the patient";
    HospitalCancellationRebook = "hospital_cancellation_rebook", false,
        "outcome rebook; require appointment_booked within slot_within by appointment_booked";
    RepeatHospitalCancellation = "repeat_hospital_cancellation", false,
        "outcome escalate; warn patient cancelled by the hospital more than once";
    OnTheDayOperationCancelled = "on_the_day_operation_cancelled", false,
        "outcome rebook; require readmission within on_the_day_rebook_within by attended|treatment_started where";
    FirstDnaDischarge = "first_dna_discharge", false, "outcome discharge_to_referrer";
    FirstDnaSecondAppointment = "first_dna_second_appointment", false, "outcome rebook";
    FirstDnaReset = "first_dna_reset", false,
        "reset rtt; require appointment_booked within second_appointment_within by appointment_booked where";
    TwoWeekWaitFirstDnaReset = "two_week_wait_first_dna_reset", false,
        "reset rtt; require appointment_booked within second_appointment_within by appointment_booked where";
    StatusFirstDnaReset = "status_first_dna_reset", false,
        "reset rtt; require appointment_booked within second_appointment_within by appointment_booked where";
    StatusTwoWeekWaitReset = "status_two_week_wait_reset", false,
        "reset rtt; require appointment_booked within second_appointment_within by appointment_booked where";
    UncommunicatedDnaRebook = "uncommunicated_dna_rebook", false, "outcome rebook";
    RepeatFirstDnaReview = "repeat_first_dna_review", false, "outcome clinical_review";
    CancerRepeatFirstDna = "cancer_repeat_first_dna", false, "outcome discharge_to_referrer";
    CancerDiagnosticDnaReview = "cancer_diagnostic_dna_review", false, "outcome clinical_review";
    FollowUpDnaReview = "follow_up_dna_review", false, "outcome discharge_if_clinically_agreed";
    FollowUpDnaDischarge = "follow_up_dna_discharge", false, "outcome discharge_to_referrer";
    FollowUpDnaProtected = "follow_up_dna_protected", false, "outcome rebook";
    RejectedReferralReturn = "rejected_referral_return", false, "outcome return_to_referrer";
    RejectedReferralNullify = "rejected_referral_nullify", false, "nullify rtt referral_rejected";
    RejectedAfterAssessment = "rejected_after_assessment", false,
        "warn referral rejected after assessment: the 18-week clock continues until a clock stop is recorded (9.14.3)";
    MedicallyUnfitShortTerm = "medically_unfit_short_term", false, "outcome book_when_fit";
    MedicallyUnfitLongTerm = "medically_unfit_long_term", false, "outcome clinical_review";
    UndecidedBecomesMonitoring = "undecided_becomes_monitoring", false,
        "stop rtt patient_initiated_active_monitoring; outcome active_monitoring; require monitoring_review within monitoring_review_within by attended";
    AdmissionOffersDeclined = "admission_offers_declined", false,
        "outcome book_admission; require admission within tci_window by attended|treatment_started where";
    CancerOfferBeyond62Standard = "cancer_offer_beyond_62_standard", false, "";
    CancerOfferBeyond31Standard = "cancer_offer_beyond_31_standard", false, "";
    DeferredListMonitoring = "deferred_list_monitoring", false,
        "stop rtt patient_initiated_active_monitoring";
    DeferredPatientReady = "deferred_patient_ready", false, "start rtt";
    PlannedProcedureDue = "planned_procedure_due", false,
        "require planned_procedure within 0 days of month_end(event.ecad) by treatment_started";
}

/// The three timers, in the order of [`NativeRde::timer_rules`].
const TIMERS: [R; 3] = [
    R::CancerFirstSeenTwoWeeks,
    R::ErsReferralNotGraded,
    R::UndecidedBecomesMonitoring,
];
const T_FIRST_SEEN: usize = 0;
const T_ERS_NOT_GRADED: usize = 1;
const T_UNDECIDED: usize = 2;

// ------------------------------------------------------------------ schema

macro_rules! kinds {
    ($($v:ident = $name:literal;)*) => {
        /// The event types the policy declares.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum K { $($v,)* }

        /// Event type names, indexed by `K`.
        const KINDS: &[(K, &str)] = &[$((K::$v, $name),)*];
    };
}

kinds! {
    ReferralReceived = "referral_received";
    UbrnConverted = "ubrn_converted";
    ReferralRejected = "referral_rejected";
    AppointmentBooked = "appointment_booked";
    OfferMade = "offer_made";
    OfferDeclined = "offer_declined";
    Attended = "attended";
    Dna = "dna";
    PatientCancelled = "patient_cancelled";
    HospitalCancelled = "hospital_cancelled";
    DecisionToTreat = "decision_to_treat";
    AddedToWaitingList = "added_to_waiting_list";
    TreatmentStarted = "treatment_started";
    ActiveMonitoringStarted = "active_monitoring_started";
    DecisionNotToTreat = "decision_not_to_treat";
    ReturnedToPrimaryCare = "returned_to_primary_care";
    PatientDeclinedTreatment = "patient_declined_treatment";
    PatientDied = "patient_died";
    TransplantListed = "transplant_listed";
    FitAndReady = "fit_and_ready";
    NewTreatmentDecided = "new_treatment_decided";
    MedicallyUnfit = "medically_unfit";
    PatientUndecided = "patient_undecided";
    PatientUnavailable = "patient_unavailable";
    ConsultantUpgrade = "consultant_upgrade";
    DiagnosisCommunicated = "diagnosis_communicated";
    ClinicallyAppropriateDate = "clinically_appropriate_date";
    TransferredIn = "transferred_in";
    Discharged = "discharged";
    RttStatus = "rtt_status";
    ReferralGraded = "referral_graded";
    AppointmentSlotIssue = "appointment_slot_issue";
}

/// IR fingerprints by name, in policy order: `(rules, definitions)` ([`NativeRde::fingerprints`]).
pub type Fingerprints = (Vec<(String, u64)>, Vec<(String, u64)>);

/// An enum value, as `Value::Enum(enum, variant)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EnumVal {
    e: EnumId,
    v: u32,
}

/// The enum variants the rules compare with.
#[derive(Debug, Clone, Copy)]
struct Variants {
    first: EnumVal,
    follow_up: EnumVal,
    diagnostic: EnumVal,
    admission: EnumVal,
    elective: EnumVal,
    planned: EnumVal,
    deferred: EnumVal,
    clinician: EnumVal,
    patient: EnumVal,
    paper: EnumVal,
    ers: EnumVal,
    urgent: EnumVal,
    two_week_wait: EnumVal,
    route_none: EnumVal,
    suspected_cancer: EnumVal,
    breast_symptomatic: EnumVal,
    screening: EnumVal,
}

/// Field indices (into `Event::fields`) of the fields the rules read.
#[derive(Debug, Clone, Copy)]
struct Fields {
    booked_appointment: usize,
    booked_date: usize,
    made_appointment: usize,
    made_offered: usize,
    declined_appointment: usize,
    declined_offered: usize,
    declined_available: usize,
    attended_appointment: usize,
    dna_appointment: usize,
    dna_communicated: usize,
    booked_communicated: usize,
    pc_appointment: usize,
    pc_date: usize,
    hc_appointment: usize,
    hc_date: usize,
    hc_on_the_day: usize,
    dtt_subsequent: usize,
    list: usize,
    ts_definitive: usize,
    ts_admitted: usize,
    ts_subsequent: usize,
    initiated_by: usize,
    expected_until: usize,
    unavailable_until: usize,
    cancer: usize,
    ecad: usize,
    original_start: usize,
    code: usize,
}

/// Pathway attribute slots (into the policy's attribute list).
#[derive(Debug, Clone, Copy)]
struct Attrs {
    channel: usize,
    priority: usize,
    cancer_route: usize,
    birth_date: usize,
    vulnerable: usize,
    tumour_group: usize,
    specialty: usize,
}

/// The hand-written baseline of `policies/rde.pal`, with the field, event and attribute
/// indices resolved once from the loaded policy's schema (so it reads the same parsed
/// [`Event`]s as the interpreter), and the rules' names and citations copied for the results.
#[derive(Debug, Clone)]
pub struct NativeRde {
    /// Per event type id: which event it is (`None` for a type the rules ignore).
    kinds: Vec<Option<K>>,
    /// How same-date events are ordered (the schema's, as the interpreter orders them).
    same_day: pal_engine::model::event::SameDayOrder,
    f: Fields,
    v: Variants,
    a: Attrs,
    /// `(field of referral_received, attribute slot)`: the attributes the referral sets.
    referral_sets: Vec<(usize, usize)>,
    /// Attribute names and defaults, by slot, and the slots in name order (the order of the
    /// result's attribute map).
    attr_names: Vec<Name>,
    attr_defaults: [Value; 8],
    attr_order: Vec<usize>,
    /// Enum variant names by enum id (to display attribute values).
    enum_variants: Vec<Vec<String>>,
    /// Rule names and citation texts, indexed by `R`.
    names: Vec<Name>,
    cites: Vec<Name>,
    /// The timers' rule ids (firing order among timers due the same day).
    timer_rules: [u32; 3],
    clock_names: [Name; 4],
    cal: Calendar,
    /// `cal.is_working_day` for every day from `WORKING_DAYS_FROM`, so that adding working
    /// days needs no holiday look-ups.
    working: Vec<bool>,
}

/// The first day of [`NativeRde`]'s working-day table (it runs to the end of 2100).
const WORKING_DAYS_FROM: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl NativeRde {
    /// Resolves names against the schema of a loaded rde policy, and checks that the policy is
    /// the one implemented here. `Err(message)` if the schema lacks something or the policy
    /// differs (another rule set, other actions or parameter values).
    pub fn new(policy: &Policy) -> Result<NativeRde, String> {
        verify::resolve(policy)
    }

    /// Evaluates one pathway exactly as `Evaluator::new(policy).run(id, events, &[], as_at,
    /// false)` would (no trace). `events` need not be sorted; events after `as_at` are ignored.
    pub fn run(&self, pathway_id: &str, events: &[Event], as_at: NaiveDate) -> PathwayResult {
        self.run_with_attributes(pathway_id, events, &[], as_at)
    }

    /// [`NativeRde::run`] with initial pathway attributes by slot, as
    /// `Evaluator::run(id, events, attributes, as_at, false)` takes them (a test's
    /// `pathway { … }`).
    pub fn run_with_attributes(
        &self,
        pathway_id: &str,
        events: &[Event],
        attributes: &[(u16, Value)],
        as_at: NaiveDate,
    ) -> PathwayResult {
        if self.same_day.is_sorted(events) {
            // Sorted by date, so the events up to `as_at` are a prefix.
            let n = events.partition_point(|e| e.date <= as_at);
            let h = events.get(..n).unwrap_or(&[]);
            run::evaluate(self, pathway_id, h, attributes, as_at)
        } else {
            let mut v: Vec<&Event> = events.iter().filter(|e| e.date <= as_at).collect();
            self.same_day.sort(&mut v);
            run::evaluate(self, pathway_id, v.as_slice(), attributes, as_at)
        }
    }

    /// The IR fingerprints `new` checks: every rule's (trigger, condition, actions) and every
    /// definition's body, by name, in policy order. For updating the baseline's tables after an
    /// intended policy change (once the baseline implements it).
    pub fn fingerprints(policy: &Policy) -> Fingerprints {
        verify::fingerprints(policy)
    }

    /// `self.cal.add(d, dur)`, with working days counted on the precomputed table.
    fn add(&self, d: NaiveDate, dur: Duration) -> NaiveDate {
        if dur.kind == DurationKind::WorkingDays && dur.amount >= 0 {
            if let Some(r) = self.add_working_days(d, dur.amount) {
                return r;
            }
        }
        self.cal.add(d, dur)
    }

    /// The `n`-th working day after `d`, if the walk stays inside the table.
    fn add_working_days(&self, d: NaiveDate, n: i64) -> Option<NaiveDate> {
        let start = usize::try_from((d - WORKING_DAYS_FROM).num_days()).ok()?;
        let mut left = n;
        let mut i = start;
        while left > 0 {
            i += 1;
            if *self.working.get(i)? {
                left -= 1;
            }
        }
        let offset = i64::try_from(i).ok()?;
        WORKING_DAYS_FROM.checked_add_signed(chrono::Duration::try_days(offset)?)
    }

    fn kind(&self, id: EventTypeId) -> Option<K> {
        self.kinds.get(id as usize).copied().flatten()
    }

    fn name(&self, r: R) -> Name {
        self.names.get(r as usize).copied().unwrap_or_default()
    }

    fn cite(&self, r: R) -> Name {
        self.cites.get(r as usize).copied().unwrap_or_default()
    }
}
