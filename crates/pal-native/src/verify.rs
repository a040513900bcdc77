//! Resolves the schema's names to indices once and checks that the loaded policy is the rde
//! policy the baseline implements: clocks, event types and fields, enum variants, pathway
//! attributes, the rule set with each rule's actions, the order in which each event triggers
//! rules, timers, exceptions and parameter values, and each rule's and definition's IR by
//! fingerprint. Only metadata is read: no expression is evaluated.

use super::*;
use pal_engine::base::value::ValueType;
use pal_engine::model::ir::{Action, Builtin, ClockId, EventRef, Expr, RuleKind, Target};
use pal_engine::model::schema::Schema;

/// The rules each event triggers, in the order the interpreter runs them (`Policy::on_event`).
const ON_EVENT: &[(&str, &[&str])] = &[
    (
        "referral_received",
        &[
            "fds_start_referral",
            "c62_start_referral",
            "rtt_start_referral",
            "paper_referral_booking",
            "cas_referral_triage",
            "paper_referral_grading",
        ],
    ),
    (
        "ubrn_converted",
        &["fds_start_ubrn", "c62_start_ubrn", "rtt_start_ubrn"],
    ),
    (
        "referral_rejected",
        &[
            "rejected_referral_return",
            "rejected_referral_nullify",
            "rejected_after_assessment",
        ],
    ),
    (
        "appointment_booked",
        &[
            "fds_reset_after_first_dna",
            "c62_reset_after_first_dna",
            "activity_before_referral",
        ],
    ),
    ("offer_made", &["follow_up_pending_list"]),
    (
        "offer_declined",
        &[
            "c62_pause_declined_admission",
            "c31_pause_declined_admission",
            "short_notice_offer_declined",
            "first_offers_declined",
            "admission_offers_declined",
        ],
    ),
    (
        "attended",
        &["activity_before_referral", "rtt_outcome_recorded"],
    ),
    (
        "dna",
        &[
            "rtt_nullify_first_dna",
            "activity_before_referral",
            "first_dna_discharge",
            "uncommunicated_dna_rebook",
            "repeat_first_dna_review",
            "cancer_diagnostic_dna_review",
            "follow_up_dna_review",
        ],
    ),
    ("patient_cancelled", &["patient_cancellation_discharge"]),
    (
        "hospital_cancelled",
        &[
            "short_notice_clinic_cancellation",
            "patient_notice_of_cancellation",
            "hospital_cancellation_rebook",
            "repeat_hospital_cancellation",
            "on_the_day_operation_cancelled",
        ],
    ),
    (
        "decision_to_treat",
        &[
            "c31_start_first",
            "c31_start_subsequent",
            "fds_stop_decision_to_treat",
            "rtt_new_clock_after_monitoring",
        ],
    ),
    (
        "added_to_waiting_list",
        &["deferred_list_monitoring", "deferred_patient_ready"],
    ),
    (
        "treatment_started",
        &[
            "c62_stop_treatment",
            "c31_stop_treatment",
            "rtt_stop_treatment",
            "treatment_without_clock",
            "short_cancer_route_breach",
        ],
    ),
    (
        "active_monitoring_started",
        &[
            "rtt_stop_clinician_monitoring",
            "rtt_stop_patient_monitoring",
            "monitoring_review_booked",
        ],
    ),
    ("decision_not_to_treat", &["rtt_stop_not_treating"]),
    ("returned_to_primary_care", &["rtt_stop_primary_care"]),
    (
        "patient_declined_treatment",
        &["rtt_stop_declined", "declined_treatment_discharge"],
    ),
    (
        "patient_died",
        &[
            "cancer_stop_died",
            "fds_ended_died",
            "c31_ended_died",
            "rtt_stop_died",
        ],
    ),
    ("transplant_listed", &["rtt_stop_transplant"]),
    ("fit_and_ready", &["rtt_new_clock_bilateral"]),
    ("new_treatment_decided", &["rtt_new_clock_new_treatment"]),
    ("medically_unfit", &["medically_unfit_short_term"]),
    ("patient_undecided", &[]),
    ("patient_unavailable", &["cancer_referral_unavailable"]),
    ("consultant_upgrade", &["c62_start_upgrade"]),
    (
        "diagnosis_communicated",
        &[
            "fds_stop_diagnosis",
            "fds_stop_ruled_out",
            "c62_ended_ruled_out",
        ],
    ),
    (
        "clinically_appropriate_date",
        &[
            "c31_earliest_clinically_appropriate_date",
            "planned_procedure_due",
        ],
    ),
    (
        "transferred_in",
        &[
            "fds_transfer_in_new",
            "fds_transfer_in_running",
            "c62_transfer_in_new",
            "c62_transfer_in_running",
            "rtt_transfer_in_new",
            "rtt_transfer_in_running",
        ],
    ),
    ("discharged", &["rtt_stop_discharged"]),
    (
        "rtt_status",
        &[
            "rtt_status_start",
            "rtt_status_treatment",
            "rtt_status_patient_monitoring",
            "rtt_status_clinician_monitoring",
            "rtt_status_first_dna",
            "rtt_status_33_not_first",
            "rtt_status_not_treating",
            "rtt_status_declined",
            "rtt_status_died",
            "rtt_status_outside_period",
            "rtt_status_unknown",
            "monitoring_review_booked_status",
        ],
    ),
    ("referral_graded", &[]),
    (
        "appointment_slot_issue",
        &["slot_issue_clock_start", "slot_issue_booking"],
    ),
];

/// The IR fingerprints of the rules and definitions implemented, in policy order
/// ([`fingerprints`]).
const RULE_IR: &[(&str, u64)] = &[
    ("fds_start_referral", 0x5642165792e36dc3),
    ("fds_start_ubrn", 0x75a3226124a27ebc),
    ("c62_start_referral", 0x722f9ab38f838061),
    ("c62_start_ubrn", 0x116fb7c5edec80fa),
    ("fds_transfer_in_new", 0xb26f2ee18c7b9c0d),
    ("fds_transfer_in_running", 0x5a23ee3b1613d2a1),
    ("c62_transfer_in_new", 0x562a4662d2d1903e),
    ("c62_transfer_in_running", 0x1c74950c954bdc8b),
    ("c62_start_upgrade", 0xaf973f9003e09fe8),
    ("c31_start_first", 0x686982b7ae740a43),
    ("c31_start_subsequent", 0xd74b04902f0af79e),
    (
        "c31_earliest_clinically_appropriate_date",
        0x123ebda45d88b16c,
    ),
    ("fds_stop_diagnosis", 0x8d11a7a703d6cdaa),
    ("fds_stop_ruled_out", 0x98df35582371fe24),
    ("c62_ended_ruled_out", 0x7213406ec1066941),
    ("fds_stop_decision_to_treat", 0x1facf50bf8a48162),
    ("c62_stop_treatment", 0xd16907673d95a8ad),
    ("c31_stop_treatment", 0x6a2052dc9e1c8959),
    ("cancer_stop_died", 0x2f750450de196fee),
    ("fds_ended_died", 0xf26010e2dd3aa33c),
    ("c31_ended_died", 0x4631a765b4b9354c),
    ("fds_reset_after_first_dna", 0x94decfd9c9101db3),
    ("c62_reset_after_first_dna", 0xe64c30a333bdd361),
    ("c62_pause_declined_admission", 0x668b8003b4ac9804),
    ("c31_pause_declined_admission", 0xa2b7820505a6f469),
    ("rtt_start_referral", 0xe45b2eb2f19db0dc),
    ("rtt_start_ubrn", 0x4702092b11f41d7d),
    ("rtt_transfer_in_new", 0x06605d33c0099871),
    ("rtt_transfer_in_running", 0xce8e4344d67524f7),
    ("rtt_new_clock_bilateral", 0x653d28d5f100dd17),
    ("rtt_new_clock_new_treatment", 0x10b67d1683b005f7),
    ("rtt_new_clock_after_monitoring", 0x258be63d596ef6c9),
    ("rtt_new_clock_rebooked", 0xc657e4f5891bd191),
    ("rtt_stop_treatment", 0x784f6827a6fc1749),
    ("rtt_stop_transplant", 0xd97e4f47fb9ba8bb),
    ("rtt_stop_primary_care", 0xa6d7b54a114294a7),
    ("rtt_stop_clinician_monitoring", 0x2ea3d39a0dd488b7),
    ("rtt_stop_patient_monitoring", 0x142d843a24cf3e5a),
    ("rtt_stop_declined", 0x4d70d5734aeb7f15),
    ("rtt_stop_not_treating", 0x44b4bcd758ca2e1e),
    ("rtt_stop_died", 0x50392d1980a2fa77),
    ("rtt_stop_discharged", 0x8399e69eb69bd463),
    ("rtt_nullify_first_dna", 0x5ea53110c5931d22),
    ("rtt_status_start", 0x42711d4b3b195eb5),
    ("rtt_status_treatment", 0x40dc4156ec32de48),
    ("rtt_status_patient_monitoring", 0x388ca819c077507d),
    ("rtt_status_clinician_monitoring", 0x0993df16a1fc0af2),
    ("rtt_status_first_dna", 0x80c0715a9f39e067),
    ("rtt_status_33_not_first", 0xc13d2d9117319d08),
    ("rtt_status_not_treating", 0x6f45667d675e60ed),
    ("rtt_status_declined", 0xe16711e9c110cd31),
    ("rtt_status_died", 0x38803b7165baaf0d),
    ("rtt_status_outside_period", 0x445d23e14a03de16),
    ("rtt_status_unknown", 0xd1593b019a82494d),
    ("treatment_without_clock", 0xf435160ec2b250de),
    ("activity_before_referral", 0xd44f4e02ab065757),
    ("monitoring_review_booked", 0x29f679c46e295eb3),
    ("monitoring_review_booked_status", 0x95cd16722607b7bb),
    ("cancer_referral_unavailable", 0x2a8eb426ef1dce86),
    ("short_cancer_route_breach", 0xac7514160cb013c0),
    ("cancer_first_seen_two_weeks", 0x80b20f93bd20376f),
    ("rtt_outcome_recorded", 0xad6d5e852a98cad1),
    ("short_notice_offer_declined", 0x1ce5c4dd00e67244),
    ("paper_referral_booking", 0x102425fc573d9991),
    ("cas_referral_triage", 0x023b8167bb92412b),
    ("ers_referral_not_graded", 0x4fe3879492325ff4),
    ("paper_referral_grading", 0xc098cf56937c9dc7),
    ("first_offers_declined", 0x2c87e46a84e4d251),
    ("follow_up_pending_list", 0x860478a90e315b40),
    ("slot_issue_clock_start", 0xd67911178f6d5982),
    ("slot_issue_booking", 0x3b323a9cfd1284de),
    ("patient_cancellation_discharge", 0xa48894acf2539caf),
    ("declined_treatment_discharge", 0x6ea73ae965416807),
    ("short_notice_clinic_cancellation", 0x291a2750e80ca785),
    ("patient_notice_of_cancellation", 0x705f080425e5dde1),
    ("hospital_cancellation_rebook", 0xe7b1f5ad4ce92486),
    ("repeat_hospital_cancellation", 0xea4d63d1fd2b200f),
    ("on_the_day_operation_cancelled", 0x79b9e066de94b04d),
    ("first_dna_discharge", 0x6b5601d2d5cf1da1),
    ("uncommunicated_dna_rebook", 0xd2511a3c1d296336),
    ("repeat_first_dna_review", 0xbee6d6a9148cca59),
    ("cancer_diagnostic_dna_review", 0xa518f47c065d492c),
    ("follow_up_dna_review", 0x80a930e18672ad01),
    ("rejected_referral_return", 0xcde16a61f17198c6),
    ("rejected_referral_nullify", 0xaeabbbe1a7a0ad2e),
    ("rejected_after_assessment", 0x2589a01fad906138),
    ("medically_unfit_short_term", 0x43907f48a9c32ff5),
    ("undecided_becomes_monitoring", 0x14b9a2199fdc45a5),
    ("admission_offers_declined", 0x4a12bee1fa35502f),
    ("deferred_list_monitoring", 0x99144fccee194318),
    ("deferred_patient_ready", 0x82360cdc976b3062),
    ("planned_procedure_due", 0x83ce5475f6a9b59e),
    ("rtt_discharge_after_first_dna", 0xe94db56e987fa11e),
    ("rtt_first_dna_two_week_wait", 0x32ca8d090089ea17),
    ("rtt_status_first_dna_two_week_wait", 0xfe3c307e6c34a874),
    ("bilateral_start_when_available", 0x356328d1257716ec),
    ("first_seen_patient_choice", 0xa4a47433f116b6bf),
    ("cancer_short_notice_admission", 0x0c79f9699dfb6c73),
    ("short_notice_cancellation", 0x8d4e5b8e01a43fb3),
    ("suspected_cancer_cancellations", 0x240abc7e3acd3896),
    ("first_dna_second_appointment", 0x434e142058fbea39),
    ("first_dna_reset", 0xbad3db49b7331670),
    ("two_week_wait_first_dna_reset", 0x7bf4c7c155117687),
    ("status_first_dna_reset", 0xe27ea6c679fd89c5),
    ("status_two_week_wait_reset", 0xa43d94b4289a3938),
    ("cancer_repeat_first_dna", 0xe25d27e7d9b0e7b0),
    ("follow_up_dna_discharge", 0xfe521428eb5f013d),
    ("follow_up_dna_protected", 0x65fc6c47f02f9762),
    ("medically_unfit_long_term", 0xcea0ff4b833ae97f),
    ("cancer_offer_beyond_62_standard", 0x397fd40c23e19c7b),
    ("cancer_offer_beyond_31_standard", 0x06feb21dc88c588e),
];
const DEF_IR: &[(&str, u64)] = &[
    ("urgent_cancer_referral", 0x66d9efe2ffd23583),
    ("first_seen_dna_before_rebooking", 0xbee1049085c91ed0),
    ("is_two_week_wait", 0x412819edc9cc173d),
    ("ers_referral", 0x7daf133b6df8f1f4),
    ("cancer_62_route", 0xbc6fdf21b1a9bc9e),
    ("not_seen_since_referral", 0xf1a94cdc8452024f),
    ("first_care_activity", 0x6781acb519c434cc),
    ("first_activity_missed", 0xe8210832c61f0561),
    ("status_33_communicated", 0x0c0712d9109228da),
    ("child", 0xbc117ca8b2a52ebc),
    ("protected_patient", 0xd8fbf219dc39cae4),
    ("cancer_suspected", 0x990e2e4420323245),
    ("clinically_urgent", 0x86445206750a7636),
    ("second_appointment_group", 0xce6726f48e93bb69),
    ("national_keeps_2ww_clock", 0xd75b81766b0f63cd),
    ("follow_up_protected", 0xb1cc64f649a26889),
    ("cas_referral", 0x6df6394805b16e92),
    ("short_cancer_route", 0xd5083da6876cc2fd),
    ("cancer_treatment_pathway", 0x0c1eae4cfd4af75b),
    ("deferred_since_start", 0x6770136a8a6a6ea1),
];

/// Timers: `(rule, how verify describes it)`, in [`TIMERS`] order.
const TIMER_KINDS: [(&str, &str); 3] = [
    (
        "cancer_first_seen_two_weeks",
        "after cancer_first_seen_within from referral_received unless attended",
    ),
    (
        "ers_referral_not_graded",
        "after grading_within from ubrn_converted unless referral_graded",
    ),
    (
        "undecided_becomes_monitoring",
        "after undecided_days from patient_undecided unless decision_to_treat|decision_not_to_treat|patient_declined_treatment|active_monitoring_started|treatment_started",
    ),
];

/// Exceptions of each rule that has any, in policy order.
const EXCEPTIONS: &[(&str, &[&str])] = &[
    ("rtt_stop_discharged", &["rtt_discharge_after_first_dna"]),
    (
        "rtt_nullify_first_dna",
        &["rtt_first_dna_two_week_wait", "first_dna_reset"],
    ),
    (
        "rtt_first_dna_two_week_wait",
        &["two_week_wait_first_dna_reset"],
    ),
    (
        "rtt_new_clock_bilateral",
        &["bilateral_start_when_available"],
    ),
    (
        "cancer_first_seen_two_weeks",
        &["first_seen_patient_choice"],
    ),
    (
        "short_notice_offer_declined",
        &["cancer_short_notice_admission"],
    ),
    (
        "patient_cancellation_discharge",
        &[
            "short_notice_cancellation",
            "suspected_cancer_cancellations",
        ],
    ),
    ("first_dna_discharge", &["first_dna_second_appointment"]),
    (
        "rtt_status_first_dna",
        &[
            "rtt_status_first_dna_two_week_wait",
            "status_first_dna_reset",
        ],
    ),
    (
        "rtt_status_first_dna_two_week_wait",
        &["status_two_week_wait_reset"],
    ),
    ("repeat_first_dna_review", &["cancer_repeat_first_dna"]),
    (
        "follow_up_dna_review",
        &["follow_up_dna_discharge", "follow_up_dna_protected"],
    ),
    ("medically_unfit_short_term", &["medically_unfit_long_term"]),
    (
        "c62_pause_declined_admission",
        &["cancer_offer_beyond_62_standard"],
    ),
    (
        "c31_pause_declined_admission",
        &["cancer_offer_beyond_31_standard"],
    ),
];

/// Event types that meet some obligation (`Policy::meets`).
const MEETS: &[&str] = &[
    "appointment_booked",
    "offer_made",
    "attended",
    "decision_to_treat",
    "added_to_waiting_list",
    "treatment_started",
    "active_monitoring_started",
    "decision_not_to_treat",
    "returned_to_primary_care",
    "discharged",
    "rtt_status",
    "referral_graded",
];

/// The pathway attributes, in slot order, with their defaults (`None` = optional).
const ATTRIBUTES: [&str; 8] = [
    "source",
    "channel",
    "priority",
    "cancer_route",
    "birth_date",
    "vulnerable",
    "tumour_group",
    "specialty",
];

fn dur(d: Duration) -> Value {
    Value::Duration(d)
}

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::Str((*s).into())).collect())
}

/// Every parameter a rule reads, with the value hard-coded in the baseline.
fn params() -> Vec<(&'static str, Value)> {
    vec![
        ("rtt_target", dur(days(RTT_TARGET_DAYS))),
        ("fds_target", dur(days(FDS_TARGET_DAYS))),
        ("cancer_62_target", dur(days(CANCER_62_TARGET_DAYS))),
        ("cancer_31_target", dur(days(CANCER_31_TARGET_DAYS))),
        (
            "include_breast_symptomatic_in_62",
            Value::Bool(INCLUDE_BREAST_SYMPTOMATIC_IN_62),
        ),
        (
            "nullify_two_week_wait_first_dna",
            Value::Bool(NULLIFY_TWO_WEEK_WAIT_FIRST_DNA),
        ),
        ("child_age", Value::Int(CHILD_AGE)),
        ("second_appointment_within", dur(SECOND_APPOINTMENT_WITHIN)),
        ("repeat_dna_limit", Value::Int(i64::from(REPEAT_DNA_LIMIT))),
        (
            "discharge_follow_up_dna_without_review",
            Value::Bool(DISCHARGE_FOLLOW_UP_DNA_WITHOUT_REVIEW),
        ),
        (
            "cancellation_limit",
            Value::Int(i64::from(CANCELLATION_LIMIT)),
        ),
        ("reasonable_notice", dur(REASONABLE_NOTICE)),
        (
            "reasonable_offers",
            Value::Int(i64::from(REASONABLE_OFFERS)),
        ),
        ("tci_window", dur(TCI_WINDOW)),
        ("undecided_days", dur(UNDECIDED_DAYS)),
        ("monitoring_review_within", dur(MONITORING_REVIEW_WITHIN)),
        ("short_term_unfit", dur(SHORT_TERM_UNFIT)),
        ("paper_booking_within", dur(PAPER_BOOKING_WITHIN)),
        ("grading_within", dur(GRADING_WITHIN)),
        ("cas_booking_within", dur(CAS_BOOKING_WITHIN)),
        ("slot_offer_within", dur(SLOT_OFFER_WITHIN)),
        ("slot_within", dur(SLOT_WITHIN)),
        ("rtt_outcome_within", dur(RTT_OUTCOME_WITHIN)),
        ("pending_list_horizon", dur(PENDING_LIST_HORIZON)),
        (
            "clinic_cancellation_notice",
            dur(CLINIC_CANCELLATION_NOTICE),
        ),
        (
            "patient_cancellation_notice",
            dur(PATIENT_CANCELLATION_NOTICE),
        ),
        (
            "repeat_hospital_cancellation",
            Value::Int(i64::from(REPEAT_HOSPITAL_CANCELLATION)),
        ),
        ("on_the_day_rebook_within", dur(ON_THE_DAY_REBOOK_WITHIN)),
        ("cancer_first_seen_within", dur(CANCER_FIRST_SEEN_WITHIN)),
        (
            "short_cancer_route_days",
            Value::Int(SHORT_CANCER_ROUTE_DAYS),
        ),
        (
            "short_route_tumour_groups",
            strings(&SHORT_CANCER_TUMOUR_GROUPS),
        ),
        ("cas_specialties", strings(&CAS_SPECIALTIES)),
    ]
}

fn event_id(schema: &Schema, name: &str) -> Result<EventTypeId, String> {
    schema
        .event(name)
        .map(|(id, _)| id)
        .ok_or_else(|| format!("the schema has no event type `{name}`"))
}

fn enum_val(schema: &Schema, enum_name: &str, variant: &str) -> Result<EnumVal, String> {
    let (e, def) = schema
        .enums
        .iter()
        .enumerate()
        .find(|(_, e)| e.name == enum_name)
        .ok_or_else(|| format!("the schema has no enum `{enum_name}`"))?;
    let v = def
        .variants
        .iter()
        .position(|v| v == variant)
        .ok_or_else(|| format!("enum `{enum_name}` has no variant `{variant}`"))?;
    Ok(EnumVal {
        e: e as EnumId,
        v: v as u32,
    })
}

/// The expected type of a field.
#[derive(Clone, Copy)]
enum Ty {
    Bool,
    Int,
    Date,
    Enum(&'static str),
}

fn type_ok(schema: &Schema, ty: &ValueType, want: Ty) -> bool {
    match (ty, want) {
        (ValueType::Bool, Ty::Bool) | (ValueType::Int, Ty::Int) | (ValueType::Date, Ty::Date) => {
            true
        }
        (ValueType::Enum(id), Ty::Enum(name)) => schema
            .enums
            .get(*id as usize)
            .is_some_and(|e| e.name == name),
        _ => false,
    }
}

fn field(schema: &Schema, event: &str, name: &str, want: Ty) -> Result<usize, String> {
    let (_, def) = schema
        .event(event)
        .ok_or_else(|| format!("the schema has no event type `{event}`"))?;
    let (i, f) = def
        .fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.name == name)
        .ok_or_else(|| format!("event `{event}` has no field `{name}`"))?;
    if !type_ok(schema, &f.ty, want) {
        return Err(format!(
            "field `{name}` of `{event}` has type {}",
            schema.type_name(&f.ty)
        ));
    }
    Ok(i)
}

fn attr(schema: &Schema, name: &str, want: Option<Ty>) -> Result<usize, String> {
    let (i, a) = schema
        .attributes
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == name)
        .ok_or_else(|| format!("the schema has no pathway attribute `{name}`"))?;
    let ok = match want {
        Some(t) => type_ok(schema, &a.ty, t),
        None => a.ty == ValueType::String,
    };
    if !ok {
        return Err(format!(
            "pathway attribute `{name}` has type {}",
            schema.type_name(&a.ty)
        ));
    }
    Ok(i)
}

fn param_name(policy: &Policy, e: &Expr) -> String {
    match e {
        Expr::Param(p) => policy
            .params
            .get(*p as usize)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "?".into()),
        Expr::Const(Value::Duration(d)) => d.to_string(),
        _ => "?".into(),
    }
}

fn event_names(policy: &Policy, ids: &[EventTypeId]) -> String {
    ids.iter()
        .map(|id| {
            policy
                .schema
                .events
                .get(*id as usize)
                .map(|e| e.name.as_str())
                .unwrap_or("?")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The names of an event field read through `slots` (one per event type it may be on).
fn field_names(policy: &Policy, slots: &[(EventTypeId, u16)]) -> String {
    slots
        .iter()
        .map(|(t, i)| {
            policy
                .schema
                .events
                .get(*t as usize)
                .and_then(|e| e.fields.get(*i as usize))
                .map(|f| f.name.as_str())
                .unwrap_or("?")
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// An action as the `RULES` table writes it.
fn describe(policy: &Policy, a: &Action) -> String {
    let clock = |c: ClockId| {
        policy
            .clocks
            .get(c as usize)
            .map(|c| c.name.as_str())
            .unwrap_or("?")
    };
    let on = |o: &Option<Expr>| if o.is_some() { " on" } else { "" };
    match a {
        Action::Start(c, o) => format!("start {}{}", clock(*c), on(o)),
        Action::Stop(c, r, o) => format!("stop {} {r}{}", clock(*c), on(o)),
        Action::Nullify(c, r, o) => format!("nullify {} {r}{}", clock(*c), on(o)),
        Action::Reset(c, _) => format!("reset {}", clock(*c)),
        Action::Pause(c, o) => format!("pause {}{}", clock(*c), on(o)),
        Action::Resume(c, o) => format!("resume {}{}", clock(*c), on(o)),
        Action::Outcome(n, o) => format!("outcome {n}{}", on(o)),
        Action::Require {
            what,
            within,
            of,
            by,
            by_where,
        } => format!(
            "require {what} within {}{} by {}{}",
            param_name(policy, within),
            match of {
                Some(Expr::Call(Builtin::MonthEnd, args)) => match args.as_slice() {
                    [Expr::EventField(EventRef::Trigger, slots)] =>
                        format!(" of month_end(event.{})", field_names(policy, slots)),
                    _ => " of month_end(?)".to_string(),
                },
                Some(_) => " of".to_string(),
                None => String::new(),
            },
            event_names(policy, by),
            if by_where.is_some() { " where" } else { "" }
        ),
        Action::Warn(t) => format!("warn {t}"),
    }
}

fn rule_names(policy: &Policy, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|r| {
            policy
                .rules
                .get(*r as usize)
                .map(|r| r.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// Rule names and citation texts (indexed by `R`), and the timers' rule ids.
type RuleMeta = (Vec<Name>, Vec<Name>, [u32; 3]);

fn check_rules(policy: &Policy) -> Result<RuleMeta, String> {
    if policy.rules.len() != RULES.len() {
        return Err(format!(
            "the policy has {} rules and exceptions; the baseline implements {}",
            policy.rules.len(),
            RULES.len()
        ));
    }
    let mut names = Vec::new();
    let mut cites = Vec::new();
    for &(name, disabled, actions) in RULES {
        let id = policy
            .rule_id(name)
            .ok_or_else(|| format!("the policy has no rule `{name}`"))?;
        let rule = &policy.rules[id as usize];
        if rule.disabled.is_some() != disabled {
            return Err(format!(
                "rule `{name}` is {}disabled in the policy",
                if disabled { "not " } else { "" }
            ));
        }
        let got: Vec<String> = rule.actions.iter().map(|a| describe(policy, a)).collect();
        let got = got.join("; ");
        if got != actions {
            return Err(format!(
                "rule `{name}` does `{got}`; the baseline implements `{actions}`"
            ));
        }
        let exceptions = rule_names(policy, &rule.exceptions);
        let want: Vec<&str> = EXCEPTIONS
            .iter()
            .find(|(r, _)| *r == name)
            .map(|(_, x)| x.to_vec())
            .unwrap_or_default();
        if exceptions != want {
            return Err(format!(
                "rule `{name}` has exceptions {exceptions:?}; the baseline implements {want:?}"
            ));
        }
        names.push(Name::from(&*rule.name));
        cites.push(Name::from(rule.cite_text().as_str()));
    }
    let mut timer_rules = [0u32; 3];
    for (t, (name, want)) in TIMER_KINDS.iter().enumerate() {
        let id = policy
            .rule_id(name)
            .ok_or_else(|| format!("the policy has no timer `{name}`"))?;
        let got = match &policy.rules[id as usize].kind {
            RuleKind::Timer {
                delay,
                from,
                unless,
            } => format!(
                "after {} from {} unless {}",
                param_name(policy, delay),
                event_names(policy, &[*from]),
                event_names(policy, unless)
            ),
            _ => "not a timer".into(),
        };
        if got != *want {
            return Err(format!(
                "timer `{name}` is `{got}`; the baseline implements `{want}`"
            ));
        }
        if RULES.get(TIMERS[t] as usize).map(|r| r.0) != Some(*name) {
            return Err(format!("timer `{name}` is out of place in the baseline"));
        }
        timer_rules[t] = id;
    }
    Ok((names, cites, timer_rules))
}

fn check_tables(policy: &Policy) -> Result<(), String> {
    let schema = &policy.schema;
    let timer_of = |e: &str| -> Vec<&str> {
        TIMER_KINDS
            .iter()
            .filter(|(_, d)| d.split(' ').nth(3) == Some(e))
            .map(|(n, _)| *n)
            .collect()
    };
    let cancelled_by = |e: &str| -> Vec<&str> {
        TIMER_KINDS
            .iter()
            .filter(|(_, d)| {
                d.split(" unless ")
                    .nth(1)
                    .is_some_and(|u| u.split('|').any(|x| x == e))
            })
            .map(|(n, _)| *n)
            .collect()
    };
    for &(event, rules) in ON_EVENT {
        let id = event_id(schema, event)? as usize;
        let table =
            |t: &[Vec<u32>]| rule_names(policy, t.get(id).map(Vec::as_slice).unwrap_or(&[]));
        let on = table(&policy.on_event);
        if on != rules {
            return Err(format!(
                "`{event}` triggers {on:?}; the baseline implements {rules:?}"
            ));
        }
        let arms = table(&policy.arms);
        if arms != timer_of(event) {
            return Err(format!("`{event}` arms {arms:?}"));
        }
        let cancels = table(&policy.cancels);
        if cancels != cancelled_by(event) {
            return Err(format!("`{event}` cancels {cancels:?}"));
        }
        let meets = policy.meets.get(id).copied().unwrap_or(false);
        if meets != MEETS.contains(&event) {
            return Err(format!("`{event}` meets obligations: {meets}"));
        }
    }
    Ok(())
}

/// FNV-1a (64-bit) of a text.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The fingerprints of every rule's IR (trigger or timer, condition and actions with their
/// expressions) and every definition's body, by name, in policy order: what the baseline's
/// `if`s implement. The IR holds no source positions, so comments and layout do not count.
/// When the policy changes on purpose, the baseline is changed to match, the equality tests
/// pass, and these tables are copied from this function's output.
pub(super) fn fingerprints(policy: &Policy) -> Fingerprints {
    let rules = policy
        .rules
        .iter()
        .map(|r| {
            let text = format!("{:?}|{:?}|{:?}", r.kind, r.when, r.actions);
            (r.name.clone(), fnv(&text))
        })
        .collect();
    let defs = policy
        .defs
        .iter()
        .map(|d| (d.name.clone(), fnv(&format!("{:?}", d.body))))
        .collect();
    (rules, defs)
}

/// Every rule's and definition's IR is the one implemented (see [`fingerprints`]).
fn check_fingerprints(policy: &Policy) -> Result<(), String> {
    let (rules, defs) = fingerprints(policy);
    for (what, got, want) in [("rule", &rules, RULE_IR), ("definition", &defs, DEF_IR)] {
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<&str> = want.iter().map(|(n, _)| *n).collect();
        if names != expected {
            return Err(format!(
                "the policy's {what}s are {names:?}; the baseline implements {expected:?}"
            ));
        }
        for ((name, g), (_, w)) in got.iter().zip(want) {
            if g != w {
                return Err(format!(
                    "{what} `{name}` differs from the one implemented (IR fingerprint {g:#018x}, \
                     the baseline implements {w:#018x})"
                ));
            }
        }
    }
    Ok(())
}

fn check_params_and_clocks(policy: &Policy) -> Result<(), String> {
    for (name, want) in params() {
        let id = policy
            .param_id(name)
            .ok_or_else(|| format!("the policy has no parameter `{name}`"))?;
        let p = &policy.params[id as usize];
        if p.initial != want || !p.dated.is_empty() {
            return Err(format!(
                "parameter `{name}` is {:?} (dated {:?}); the baseline hard-codes {want:?}",
                p.initial, p.dated
            ));
        }
    }
    if policy.clocks.len() != CLOCKS.len() {
        return Err(format!(
            "the policy has {} clocks; the baseline implements {}",
            policy.clocks.len(),
            CLOCKS.len()
        ));
    }
    for (c, (name, target)) in policy.clocks.iter().zip(CLOCKS) {
        let days = match &c.target {
            Target::Days(d) => Some(*d),
            Target::Param(p) => policy.params.get(*p as usize).and_then(|p| {
                match (&p.initial, p.dated.is_empty()) {
                    (Value::Duration(d), true) if d.kind == DurationKind::Days => Some(d.amount),
                    _ => None,
                }
            }),
        };
        if c.name != name || days != Some(target) {
            return Err(format!(
                "clock `{}` (target {days:?} days) where the baseline has `{name}` ({target} days)",
                c.name
            ));
        }
    }
    Ok(())
}

/// Builds the baseline for `policy`, or says why it is not the policy implemented.
pub(super) fn resolve(policy: &Policy) -> Result<NativeRde, String> {
    let schema = &policy.schema;
    if schema.events.len() != KINDS.len() {
        return Err(format!(
            "the schema declares {} event types; the baseline knows {}",
            schema.events.len(),
            KINDS.len()
        ));
    }
    let mut kinds = vec![None; schema.events.len()];
    for &(k, name) in KINDS {
        let id = event_id(schema, name)? as usize;
        if let Some(slot) = kinds.get_mut(id) {
            *slot = Some(k);
        }
    }
    check_params_and_clocks(policy)?;
    check_tables(policy)?;
    let (names, cites, timer_rules) = check_rules(policy)?;
    check_fingerprints(policy)?;

    let appt = Ty::Enum("appointment_kind");
    let f = Fields {
        booked_appointment: field(schema, "appointment_booked", "appointment", appt)?,
        booked_date: field(schema, "appointment_booked", "appointment_date", Ty::Date)?,
        made_appointment: field(schema, "offer_made", "appointment", appt)?,
        made_offered: field(schema, "offer_made", "offered_date", Ty::Date)?,
        declined_appointment: field(schema, "offer_declined", "appointment", appt)?,
        declined_offered: field(schema, "offer_declined", "offered_date", Ty::Date)?,
        declined_available: field(schema, "offer_declined", "available_from", Ty::Date)?,
        attended_appointment: field(schema, "attended", "appointment", appt)?,
        dna_appointment: field(schema, "dna", "appointment", appt)?,
        dna_communicated: field(schema, "dna", "communicated", Ty::Bool)?,
        booked_communicated: field(schema, "appointment_booked", "communicated", Ty::Bool)?,
        pc_appointment: field(schema, "patient_cancelled", "appointment", appt)?,
        pc_date: field(schema, "patient_cancelled", "appointment_date", Ty::Date)?,
        hc_appointment: field(schema, "hospital_cancelled", "appointment", appt)?,
        hc_date: field(schema, "hospital_cancelled", "appointment_date", Ty::Date)?,
        hc_on_the_day: field(schema, "hospital_cancelled", "on_the_day", Ty::Bool)?,
        dtt_subsequent: field(schema, "decision_to_treat", "subsequent", Ty::Bool)?,
        list: field(
            schema,
            "added_to_waiting_list",
            "list",
            Ty::Enum("waiting_list_kind"),
        )?,
        ts_definitive: field(schema, "treatment_started", "definitive", Ty::Bool)?,
        ts_admitted: field(schema, "treatment_started", "admitted", Ty::Bool)?,
        ts_subsequent: field(schema, "treatment_started", "subsequent", Ty::Bool)?,
        initiated_by: field(
            schema,
            "active_monitoring_started",
            "initiated_by",
            Ty::Enum("initiator"),
        )?,
        expected_until: field(schema, "medically_unfit", "expected_until", Ty::Date)?,
        unavailable_until: field(schema, "patient_unavailable", "until", Ty::Date)?,
        cancer: field(schema, "diagnosis_communicated", "cancer", Ty::Bool)?,
        ecad: field(schema, "clinically_appropriate_date", "ecad", Ty::Date)?,
        original_start: field(schema, "transferred_in", "original_start", Ty::Date)?,
        code: field(schema, "rtt_status", "code", Ty::Int)?,
    };
    let v = Variants {
        first: enum_val(schema, "appointment_kind", "first")?,
        follow_up: enum_val(schema, "appointment_kind", "follow_up")?,
        diagnostic: enum_val(schema, "appointment_kind", "diagnostic")?,
        admission: enum_val(schema, "appointment_kind", "admission")?,
        elective: enum_val(schema, "waiting_list_kind", "elective")?,
        planned: enum_val(schema, "waiting_list_kind", "planned")?,
        deferred: enum_val(schema, "waiting_list_kind", "deferred")?,
        clinician: enum_val(schema, "initiator", "clinician")?,
        patient: enum_val(schema, "initiator", "patient")?,
        paper: enum_val(schema, "referral_channel", "paper")?,
        ers: enum_val(schema, "referral_channel", "ers")?,
        urgent: enum_val(schema, "referral_priority", "urgent")?,
        two_week_wait: enum_val(schema, "referral_priority", "two_week_wait")?,
        route_none: enum_val(schema, "cancer_route_kind", "none")?,
        suspected_cancer: enum_val(schema, "cancer_route_kind", "suspected_cancer")?,
        breast_symptomatic: enum_val(schema, "cancer_route_kind", "breast_symptomatic")?,
        screening: enum_val(schema, "cancer_route_kind", "screening")?,
    };
    let names_in_schema: Vec<&str> = schema.attributes.iter().map(|a| a.name.as_str()).collect();
    if names_in_schema != ATTRIBUTES {
        return Err(format!(
            "the pathway attributes are {names_in_schema:?}; the baseline knows {ATTRIBUTES:?}"
        ));
    }
    let a = Attrs {
        channel: attr(schema, "channel", Some(Ty::Enum("referral_channel")))?,
        priority: attr(schema, "priority", Some(Ty::Enum("referral_priority")))?,
        cancer_route: attr(schema, "cancer_route", Some(Ty::Enum("cancer_route_kind")))?,
        birth_date: attr(schema, "birth_date", Some(Ty::Date))?,
        vulnerable: attr(schema, "vulnerable", Some(Ty::Bool))?,
        tumour_group: attr(schema, "tumour_group", None)?,
        specialty: attr(schema, "specialty", None)?,
    };
    // Only the referral carries attributes (`{ ..pathway }`).
    let mut referral_sets = Vec::new();
    for (id, def) in schema.events.iter().enumerate() {
        let referral = kinds.get(id).copied().flatten() == Some(K::ReferralReceived);
        for (f, slot) in def.sets_attribute.iter().enumerate() {
            match (slot, referral) {
                (None, _) => {}
                (Some(slot), true) => referral_sets.push((f, *slot as usize)),
                (Some(_), false) => {
                    return Err(format!(
                        "event `{}` sets a pathway attribute; the baseline expects only the referral to",
                        def.name
                    ))
                }
            }
        }
    }
    if referral_sets.iter().any(|(_, s)| *s >= ATTRIBUTES.len()) {
        return Err("a referral field sets an unknown attribute".into());
    }
    let mut attr_order: Vec<usize> = (0..ATTRIBUTES.len()).collect();
    attr_order.sort_by_key(|i| ATTRIBUTES[*i]);
    let defaults: Vec<Value> = schema
        .attributes
        .iter()
        .map(|a| a.default.clone().unwrap_or(Value::Unset))
        .collect();
    let attr_defaults: [Value; 8] = defaults
        .try_into()
        .map_err(|_| "eight pathway attributes expected".to_string())?;
    let end = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(WORKING_DAYS_FROM);
    let working = WORKING_DAYS_FROM
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|d| policy.calendar.is_working_day(d))
        .collect();
    Ok(NativeRde {
        same_day: policy.schema.same_day.clone(),
        kinds,
        f,
        v,
        a,
        referral_sets,
        attr_names: schema
            .attributes
            .iter()
            .map(|a| Name::from(&*a.name))
            .collect(),
        attr_defaults,
        attr_order,
        enum_variants: schema.enums.iter().map(|e| e.variants.clone()).collect(),
        names,
        cites,
        timer_rules,
        clock_names: CLOCKS.map(|(n, _)| Name::from(n)),
        cal: policy.calendar.clone(),
        working,
    })
}
