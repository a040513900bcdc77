//! Synthetic pathway events: a seeded, streaming generator of realistic PAS exports (CSV or JSON Lines) in the `docs/events.md` vocabulary.
//!
//! Every pathway is a coherent story: a referral (paper, e-RS with a later UBRN conversion, or
//! phone), first appointments with DNAs and patient or hospital cancellations, diagnostics,
//! follow-ups, decisions to treat, waiting lists with offers and declined offers, admitted and
//! non-admitted treatment, active monitoring, undecided patients, medically unfit or unavailable
//! patients, transfers in, bilateral second sides, RTT status clinic outcomes, and the cancer
//! routes (faster diagnosis, consultant upgrades, first and subsequent treatments).
//!
//! * **Streaming.** Output is written pathway by pathway; only one pathway is held in memory.
//! * **Ordering.** The rows of a pathway are adjacent and in date order (rows of the same date
//!   in their logical order: booked before attended, decision before listing). A streaming
//!   evaluator may rely on this. Malformed rows (see [`SynthOptions::bad_rows`]) sit next to
//!   the row they were derived from and carry its date, unless the date itself is the fault.
//! * **Reproducible.** Pathway `i` is generated from its own `ChaCha8Rng` stream (the seed,
//!   with `i` as the stream number), so the same options give the same bytes, and any range of
//!   pathways can be generated on its own with [`generate_range`] and concatenated.
//! * **The export is taken on `end`.** Referrals arrive uniformly in `start..=end`; no event is
//!   dated after `end` (booked appointments may lie beyond it). Pathways referred late, and
//!   those that stalled, are still open, and some have waited past 52, 78 and 104 weeks.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::ops::Range;

/// The generator's version: bumped whenever the same options give different bytes, so that
/// extracts cached by file name (`pal bench`'s tiers) are generated again. 2: referral
/// grading, appointment slot issues, clinic-outcome status codes, status-only pathways. 3:
/// declined first-appointment offers, pending-list follow-ups, rejections after assessment,
/// deferred-list returns, planned-list dates, status 11 and 33 outcomes, short-route tumour
/// groups, subsequent-treatment ECADs, deaths during cancer pathways.
pub const GENERATOR_VERSION: u32 = 3;

/// The output format of [`generate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthFormat {
    /// CSV with a header row: `pathway_id,date,event`, then every field column of the vocabulary.
    Csv,
    /// JSON Lines: one object per event, with only the keys the event uses.
    JsonLines,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// Number of pathways (ids `P1`…, zero-padded to the width of this count).
    pub pathways: u64,
    /// Seed of the random streams: the same seed gives the same bytes.
    pub seed: u64,
    /// First day on which referrals arrive.
    pub start: NaiveDate,
    /// Last day on which referrals arrive; also the export date (no event is dated later).
    pub end: NaiveDate,
    /// Number of deliberately malformed rows sprinkled in at deterministic positions (bad
    /// dates, unknown event names, values in undeclared columns, empty pathway ids, enum
    /// typos, bad booleans and integers, missing required fields). Default 0.
    pub bad_rows: u64,
}

const DEFAULT_START: NaiveDate = match NaiveDate::from_ymd_opt(2023, 4, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
const DEFAULT_END: NaiveDate = match NaiveDate::from_ymd_opt(2025, 3, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl Default for SynthOptions {
    /// 1000 pathways, seed 0, referrals from 2023-04-01 to 2025-03-01, no malformed rows.
    fn default() -> Self {
        SynthOptions {
            pathways: 1000,
            seed: 0,
            start: DEFAULT_START,
            end: DEFAULT_END,
            bad_rows: 0,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthStats {
    /// Data rows written (header excluded), malformed rows included.
    pub rows: u64,
    /// Pathways written.
    pub pathways: u64,
    /// Malformed rows written (not counted in `events`).
    pub bad_rows: u64,
    /// Well-formed rows written, by event type name.
    pub events: BTreeMap<&'static str, u64>,
}

impl SynthStats {
    /// The number of well-formed rows of one event type.
    pub fn count(&self, event: &str) -> u64 {
        self.events.get(event).copied().unwrap_or(0)
    }

    /// Adds another chunk's counts to these (for chunks generated in parallel).
    pub fn merge(&mut self, other: &SynthStats) {
        self.rows += other.rows;
        self.pathways += other.pathways;
        self.bad_rows += other.bad_rows;
        for (k, v) in &other.events {
            *self.events.entry(k).or_insert(0) += v;
        }
    }
}

/// One very long pathway of `n` events, as CSV: a referral, then a repeating cycle of
/// bookings, offers, DNAs, cancellations, declines and attendances, a few hundred a day. Every
/// rule with a history query or an obligation is exercised on every cycle. The pathway of
/// `benches/long_pathway.rs` and of the engine's `long_pathway_once` example (BENCHMARKS.md).
pub fn long_pathway_csv(n: usize) -> String {
    use std::fmt::Write as _;
    let mut csv = String::from(
        "pathway_id,date,event,priority,appointment,appointment_date,offered_date,communicated\n",
    );
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default();
    let _ = writeln!(csv, "P1,{start},referral_received,routine,,,,");
    let cycle = [
        "appointment_booked,,first,{d7},,true",
        "offer_made,,first,,{d7},",
        "dna,,first,,,true",
        "appointment_booked,,first,{d7},,true",
        "patient_cancelled,,first,{d7},,",
        "hospital_cancelled,,first,{d7},,",
        "offer_declined,,first,,{d7},",
        "attended,,first,,,",
        "appointment_booked,,follow_up,{d7},,true",
        "attended,,follow_up,,,",
    ];
    let per_day = 1 + n / 3000;
    for i in 1..n {
        let day = start + chrono::Duration::days((i / per_day) as i64);
        let d7 = (day + chrono::Duration::days(7)).to_string();
        let row = cycle[i % cycle.len()].replace("{d7}", &d7);
        let _ = writeln!(csv, "P1,{day},{row}");
    }
    csv
}

/// Writes the whole data set: the header (CSV) and every pathway, in order.
///
/// Same options and format ⇒ the same bytes. IO errors are returned as they happen.
pub fn generate<W: Write>(
    opts: &SynthOptions,
    format: SynthFormat,
    out: W,
) -> io::Result<SynthStats> {
    let mut sink = Sink::new(out, format);
    sink.header()?;
    let stats = write_pathways(opts, 0..opts.pathways, &mut sink)?;
    sink.out.flush()?;
    Ok(stats)
}

/// Writes only the header row (nothing for JSON Lines); see [`generate_range`].
pub fn write_header<W: Write>(format: SynthFormat, out: W) -> io::Result<()> {
    let mut sink = Sink::new(out, format);
    sink.header()?;
    sink.out.flush()
}

/// Writes the pathways whose index (0-based) is in `range`, without a header.
///
/// `write_header` followed by the ranges `0..a`, `a..b`, …, `..pathways` gives exactly the
/// bytes of [`generate`], so chunks can be generated in parallel and concatenated.
pub fn generate_range<W: Write>(
    opts: &SynthOptions,
    format: SynthFormat,
    range: Range<u64>,
    out: W,
) -> io::Result<SynthStats> {
    let mut sink = Sink::new(out, format);
    let range = range.start.min(opts.pathways)..range.end.min(opts.pathways);
    let stats = write_pathways(opts, range, &mut sink)?;
    sink.out.flush()?;
    Ok(stats)
}

// ------------------------------------------------------------------------------------------
// Vocabulary

/// Event types, in the order of the `docs/events.md` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    ReferralReceived,
    UbrnConverted,
    ReferralRejected,
    AppointmentBooked,
    OfferMade,
    OfferDeclined,
    Attended,
    Dna,
    PatientCancelled,
    HospitalCancelled,
    DecisionToTreat,
    AddedToWaitingList,
    TreatmentStarted,
    ActiveMonitoringStarted,
    DecisionNotToTreat,
    ReturnedToPrimaryCare,
    PatientDeclinedTreatment,
    PatientDied,
    TransplantListed,
    FitAndReady,
    NewTreatmentDecided,
    MedicallyUnfit,
    PatientUndecided,
    PatientUnavailable,
    ConsultantUpgrade,
    DiagnosisCommunicated,
    ClinicallyAppropriateDate,
    TransferredIn,
    Discharged,
    RttStatus,
    ReferralGraded,
    AppointmentSlotIssue,
}

/// Event types written, in [`Ev`] order: the national vocabulary of `docs/events.md`, then the
/// trust's own (`policies/rde.pal`: `referral_graded`, `appointment_slot_issue`).
const EVENT_NAMES: [&str; 32] = [
    "referral_received",
    "ubrn_converted",
    "referral_rejected",
    "appointment_booked",
    "offer_made",
    "offer_declined",
    "attended",
    "dna",
    "patient_cancelled",
    "hospital_cancelled",
    "decision_to_treat",
    "added_to_waiting_list",
    "treatment_started",
    "active_monitoring_started",
    "decision_not_to_treat",
    "returned_to_primary_care",
    "patient_declined_treatment",
    "patient_died",
    "transplant_listed",
    "fit_and_ready",
    "new_treatment_decided",
    "medically_unfit",
    "patient_undecided",
    "patient_unavailable",
    "consultant_upgrade",
    "diagnosis_communicated",
    "clinically_appropriate_date",
    "transferred_in",
    "discharged",
    "rtt_status",
    "referral_graded",
    "appointment_slot_issue",
];

impl Ev {
    fn name(self) -> &'static str {
        EVENT_NAMES[self as usize]
    }
}

/// Field columns, in CSV header order (the union of every field in `docs/events.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Source,
    Channel,
    Priority,
    CancerRoute,
    BirthDate,
    Vulnerable,
    TumourGroup,
    Specialty,
    Reason,
    Appointment,
    AppointmentDate,
    Communicated,
    OfferedDate,
    AvailableFrom,
    OnTheDay,
    Admitted,
    Subsequent,
    Definitive,
    List,
    InitiatedBy,
    ExpectedUntil,
    Until,
    Cancer,
    Ecad,
    OriginalStart,
    Code,
}

const COLUMNS: [&str; 26] = [
    "source",
    "channel",
    "priority",
    "cancer_route",
    "birth_date",
    "vulnerable",
    "tumour_group",
    "specialty",
    "reason",
    "appointment",
    "appointment_date",
    "communicated",
    "offered_date",
    "available_from",
    "on_the_day",
    "admitted",
    "subsequent",
    "definitive",
    "list",
    "initiated_by",
    "expected_until",
    "until",
    "cancer",
    "ecad",
    "original_start",
    "code",
];

/// A field value.
#[derive(Debug, Clone, Copy)]
enum Val {
    S(&'static str),
    D(NaiveDate),
    B(bool),
    I(i64),
}

const MAX_FIELDS: usize = 8;

/// The fields of one row, inline (no allocation per row).
#[derive(Debug, Clone, Copy)]
struct F {
    n: usize,
    f: [(Col, Val); MAX_FIELDS],
}

impl F {
    fn new() -> F {
        F {
            n: 0,
            f: [(Col::Code, Val::I(0)); MAX_FIELDS],
        }
    }
    fn v(mut self, c: Col, v: Val) -> F {
        if self.n < MAX_FIELDS {
            self.f[self.n] = (c, v);
            self.n += 1;
        }
        self
    }
    fn s(self, c: Col, s: &'static str) -> F {
        self.v(c, Val::S(s))
    }
    fn d(self, c: Col, d: NaiveDate) -> F {
        self.v(c, Val::D(d))
    }
    fn b(self, c: Col, b: bool) -> F {
        self.v(c, Val::B(b))
    }
    fn i(self, c: Col, i: i64) -> F {
        self.v(c, Val::I(i))
    }
    fn od(self, c: Col, d: Option<NaiveDate>) -> F {
        match d {
            Some(d) => self.d(c, d),
            None => self,
        }
    }
    fn slice(&self) -> &[(Col, Val)] {
        &self.f[..self.n]
    }
}

fn appt(kind: &'static str) -> F {
    F::new().s(Col::Appointment, kind)
}

/// One generated row.
#[derive(Debug, Clone, Copy)]
struct Row {
    date: NaiveDate,
    ev: Ev,
    f: F,
}

// ------------------------------------------------------------------------------------------
// Output

enum DateCell<'a> {
    Date(NaiveDate),
    Raw(&'a str),
}

struct Sink<W: Write> {
    out: BufWriter<W>,
    format: SynthFormat,
    line: Vec<u8>,
}

impl<W: Write> Sink<W> {
    fn new(out: W, format: SynthFormat) -> Self {
        Sink {
            out: BufWriter::with_capacity(1 << 16, out),
            format,
            line: Vec::with_capacity(256),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if self.format == SynthFormat::Csv {
            self.out.write_all(b"pathway_id,date,event")?;
            for c in COLUMNS {
                self.out.write_all(b",")?;
                self.out.write_all(c.as_bytes())?;
            }
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn row(
        &mut self,
        pid: &str,
        date: DateCell,
        event: &str,
        fields: &[(Col, Val)],
    ) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        match self.format {
            SynthFormat::Csv => {
                csv_str(&mut line, pid);
                line.push(b',');
                push_date_cell(&mut line, &date);
                line.push(b',');
                csv_str(&mut line, event);
                let mut slots: [Option<Val>; 26] = [None; 26];
                for &(c, v) in fields {
                    slots[c as usize] = Some(v);
                }
                for slot in slots {
                    line.push(b',');
                    match slot {
                        Some(Val::S(s)) => csv_str(&mut line, s),
                        Some(v) => push_scalar(&mut line, v),
                        None => {}
                    }
                }
                line.push(b'\n');
            }
            SynthFormat::JsonLines => {
                line.extend_from_slice(b"{\"pathway_id\":");
                json_str(&mut line, pid);
                line.extend_from_slice(b",\"date\":\"");
                push_date_cell(&mut line, &date);
                line.extend_from_slice(b"\",\"event\":");
                json_str(&mut line, event);
                for &(c, v) in fields {
                    line.extend_from_slice(b",\"");
                    line.extend_from_slice(COLUMNS[c as usize].as_bytes());
                    line.extend_from_slice(b"\":");
                    match v {
                        Val::S(s) => json_str(&mut line, s),
                        Val::D(_) => {
                            line.push(b'"');
                            push_scalar(&mut line, v);
                            line.push(b'"');
                        }
                        _ => push_scalar(&mut line, v),
                    }
                }
                line.extend_from_slice(b"}\n");
            }
        }
        let r = self.out.write_all(&line);
        self.line = line;
        r
    }
}

fn push_date(buf: &mut Vec<u8>, d: NaiveDate) {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        for div in [1000, 100, 10, 1] {
            buf.push(b'0' + ((y / div) % 10) as u8);
        }
    } else {
        buf.extend_from_slice(format!("{y:+05}").as_bytes());
    }
    buf.extend_from_slice(&[
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (day / 10) as u8,
        b'0' + (day % 10) as u8,
    ]);
}

fn push_date_cell(buf: &mut Vec<u8>, d: &DateCell) {
    match d {
        DateCell::Date(d) => push_date(buf, *d),
        DateCell::Raw(s) => buf.extend_from_slice(s.as_bytes()),
    }
}

fn push_scalar(buf: &mut Vec<u8>, v: Val) {
    match v {
        Val::S(s) => buf.extend_from_slice(s.as_bytes()),
        Val::D(d) => push_date(buf, d),
        Val::B(true) => buf.extend_from_slice(b"true"),
        Val::B(false) => buf.extend_from_slice(b"false"),
        Val::I(i) => buf.extend_from_slice(i.to_string().as_bytes()),
    }
}

fn csv_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

fn json_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                buf.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

// ------------------------------------------------------------------------------------------
// Driver: pathway by pathway

fn write_pathways<W: Write>(
    opts: &SynthOptions,
    range: Range<u64>,
    sink: &mut Sink<W>,
) -> io::Result<SynthStats> {
    let width = digits(opts.pathways);
    let mut counts = [0u64; EVENT_NAMES.len()];
    let mut stats = SynthStats::default();
    let mut rows: Vec<Row> = Vec::with_capacity(64);
    let mut pid = String::with_capacity(16);
    let mut bad_j = first_bad_at_or_after(opts, range.start);
    for index in range {
        rows.clear();
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(index);
        build_pathway(opts, &mut rng, &mut rows);

        pid.clear();
        pid.push('P');
        let n = (index + 1).to_string();
        for _ in n.len()..width {
            pid.push('0');
        }
        pid.push_str(&n);

        // Malformed rows planted in this pathway, each after a row chosen by its number.
        let mut bad: Vec<(usize, u64)> = Vec::new();
        while bad_j < opts.bad_rows && bad_position(opts, bad_j) == index {
            let after = if rows.is_empty() {
                0
            } else {
                ((bad_j as usize).wrapping_mul(7) + 3) % rows.len()
            };
            bad.push((after, bad_j));
            bad_j += 1;
        }

        for (i, r) in rows.iter().enumerate() {
            sink.row(&pid, DateCell::Date(r.date), r.ev.name(), r.f.slice())?;
            counts[r.ev as usize] += 1;
            stats.rows += 1;
            for &(_, j) in bad.iter().filter(|(a, _)| *a == i) {
                write_bad_row(sink, &pid, r, j)?;
                stats.rows += 1;
                stats.bad_rows += 1;
            }
        }
        stats.pathways += 1;
    }
    for (i, c) in counts.iter().enumerate() {
        if *c > 0 {
            stats.events.insert(EVENT_NAMES[i], *c);
        }
    }
    Ok(stats)
}

fn digits(n: u64) -> usize {
    n.max(1).to_string().len()
}

/// The pathway index that malformed row `j` is planted in: spread evenly over the data set.
fn bad_position(opts: &SynthOptions, j: u64) -> u64 {
    let n = opts.pathways as u128;
    let k = opts.bad_rows.max(1) as u128;
    (((2 * j as u128 + 1) * n) / (2 * k)) as u64
}

/// The first malformed row planted at or after pathway `index` (positions are monotone in `j`).
fn first_bad_at_or_after(opts: &SynthOptions, index: u64) -> u64 {
    let (mut lo, mut hi) = (0u64, opts.bad_rows);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if bad_position(opts, mid) < index {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Malformed row number `j`, derived from row `src`; the kind cycles with `j`.
fn write_bad_row<W: Write>(sink: &mut Sink<W>, pid: &str, src: &Row, j: u64) -> io::Result<()> {
    let date = DateCell::Date(src.date);
    let fu = "follow_up";
    match j % 8 {
        // A date that does not exist (near the real one), or one in another format.
        0 => {
            let (y, m, d) = (src.date.year(), src.date.month(), src.date.day());
            let bad = match ((j / 8) % 2, m) {
                (1, _) => format!("{d:02}/{m:02}/{y}"),
                (_, 2) => format!("{y}-02-30"),
                (_, 4 | 6 | 9 | 11) => format!("{y}-{m:02}-31"),
                _ => format!("{y}-13-{d:02}"),
            };
            sink.row(pid, DateCell::Raw(&bad), src.ev.name(), src.f.slice())
        }
        // An unknown event name.
        1 => sink.row(pid, date, "dnaa", appt(fu).slice()),
        // A value in a column the event type does not declare.
        2 => sink.row(pid, date, "attended", appt(fu).i(Col::Code, 20).slice()),
        // An empty pathway id.
        3 => sink.row("", date, src.ev.name(), src.f.slice()),
        // An enum typo.
        4 => {
            let f = appt("frist")
                .d(Col::AppointmentDate, add(src.date, 14))
                .b(Col::Communicated, true);
            sink.row(pid, date, "appointment_booked", f.slice())
        }
        // A boolean that is not one.
        5 => sink.row(
            pid,
            date,
            "dna",
            appt(fu).s(Col::Communicated, "maybe").slice(),
        ),
        // A required field missing (appointment_date).
        6 => sink.row(
            pid,
            date,
            "appointment_booked",
            appt(fu).b(Col::Communicated, true).slice(),
        ),
        // An integer that is not one.
        _ => sink.row(pid, date, "rtt_status", F::new().s(Col::Code, "3O").slice()),
    }
}

// ------------------------------------------------------------------------------------------
// Dates and chance

fn add(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(days)).unwrap_or(d)
}

/// Moves a weekend date to the following Monday (clinics and lists run on weekdays).
fn weekday(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => add(d, 2),
        Weekday::Sun => add(d, 1),
        _ => d,
    }
}

// ------------------------------------------------------------------------------------------
// The story of one pathway

const FIRST: &str = "first";
const FOLLOW_UP: &str = "follow_up";
const DIAGNOSTIC: &str = "diagnostic";
const ADMISSION: &str = "admission";

/// Appointment outcome probabilities, per booked appointment.
const P_HOSPITAL_CANCEL: f64 = 0.08;
const P_PATIENT_CANCEL: f64 = 0.08;
const P_DNA: f64 = 0.06;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Routine,
    Urgent,
    TwoWeekWait,
}

/// Adult specialties with rough shares of elective referrals.
const ADULT_SPECIALTIES: [(&str, u32); 18] = [
    ("trauma_orthopaedics", 14),
    ("ophthalmology", 12),
    ("general_surgery", 9),
    ("ent", 8),
    ("dermatology", 8),
    ("gynaecology", 8),
    ("urology", 6),
    ("gastroenterology", 6),
    ("cardiology", 5),
    ("oral_surgery", 5),
    ("plastic_surgery", 3),
    ("neurology", 3),
    ("respiratory_medicine", 3),
    ("rheumatology", 3),
    ("general_medicine", 3),
    ("cardiothoracic_surgery", 1),
    ("nephrology", 1),
    ("neurosurgery", 1),
];

const CHILD_SPECIALTIES: [(&str, u32); 7] = [
    ("paediatrics", 50),
    ("ent", 15),
    ("ophthalmology", 10),
    ("trauma_orthopaedics", 8),
    ("dermatology", 7),
    ("oral_surgery", 5),
    ("general_surgery", 5),
];

/// Tumour groups of the urgent suspected-cancer route, with the specialty that receives them.
const TUMOUR_GROUPS: [(&str, &str, u32); 12] = [
    ("breast", "breast_surgery", 18),
    ("lower_gi", "general_surgery", 17),
    ("skin", "dermatology", 15),
    ("urological", "urology", 14),
    ("upper_gi", "gastroenterology", 8),
    ("gynaecological", "gynaecology", 8),
    ("head_and_neck", "ent", 8),
    ("lung", "respiratory_medicine", 6),
    ("haematological", "haematology", 4),
    ("brain_cns", "neurology", 2),
    // Two of the groups with a 31-day limit on the 62-day pathway (RDE 4.8).
    ("testicular", "urology", 4),
    ("acute_leukaemia", "haematology", 2),
];

/// Screening programmes: tumour group and specialty.
const SCREENING: [(&str, &str, u32); 4] = [
    ("breast", "breast_surgery", 45),
    ("lower_gi", "general_surgery", 35),
    ("gynaecological", "gynaecology", 15),
    ("lung", "respiratory_medicine", 5),
];

/// Specialties with long follow-up loops after treatment (injections, biologics, clinics).
fn chronic_specialty(s: &str) -> bool {
    matches!(
        s,
        "rheumatology"
            | "gastroenterology"
            | "dermatology"
            | "ophthalmology"
            | "cardiology"
            | "neurology"
            | "respiratory_medicine"
            | "nephrology"
            | "paediatrics"
            | "general_medicine"
    )
}

/// Specialties where a consultant may upgrade a routine referral to a suspected cancer.
fn upgrade_specialty(s: &str) -> bool {
    matches!(
        s,
        "general_surgery"
            | "gastroenterology"
            | "urology"
            | "gynaecology"
            | "dermatology"
            | "ent"
            | "respiratory_medicine"
            | "general_medicine"
    )
}

struct Story<'a> {
    rng: &'a mut ChaCha8Rng,
    rows: &'a mut Vec<Row>,
    cursor: NaiveDate,
    cutoff: NaiveDate,
    death: Option<NaiveDate>,
    stall: Option<NaiveDate>,
    closed: bool,
    referral: NaiveDate,
    priority: Priority,
    /// The referral's cancer route (`none` off the cancer routes).
    cancer_route: &'static str,
    specialty: &'static str,
    /// Children, vulnerable adults and two-week-wait referrals: never discharged for a DNA.
    protected: bool,
    /// The PAS records this pathway's clinic outcomes only as RTT status codes: no
    /// `treatment_started`, `active_monitoring_started`, `decision_not_to_treat` or
    /// `patient_declined_treatment` row, the status code (30–35) instead.
    status_only: bool,
}

/// A story step: `None` ends the story (export date reached, patient died, pathway stalled).
type Step = Option<()>;

enum Outcome {
    Attended(NaiveDate),
    /// Discharged or declined: the story is over.
    Ended,
}

impl Story<'_> {
    // ---- primitives

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen::<f64>() < p
    }

    /// Uniform whole number of days in `lo..=hi`.
    fn days(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..=hi)
        }
    }

    fn pick<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|x| x.1).sum();
        let mut r = self.rng.gen_range(0..total.max(1));
        for &(t, w) in items {
            if r < w {
                return t;
            }
            r -= w;
        }
        items[0].0
    }

    /// Log-normal number of days with the given median, clamped to `lo..=hi`.
    fn lognormal(&mut self, median: f64, sigma: f64, lo: i64, hi: i64) -> i64 {
        let u1: f64 = 1.0 - self.rng.gen::<f64>();
        let u2: f64 = self.rng.gen::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        ((median * (sigma * z).exp()).round() as i64).clamp(lo, hi)
    }

    /// Not before the last event.
    fn now(&self, d: NaiveDate) -> NaiveDate {
        d.max(self.cursor)
    }

    /// Records an event (not before the previous one) and returns its date, or ends the story.
    fn emit(&mut self, date: NaiveDate, ev: Ev, f: F) -> Option<NaiveDate> {
        if self.closed {
            return None;
        }
        let date = self.now(date);
        if let Some(died) = self.death {
            if date >= died {
                self.closed = true;
                if died <= self.cutoff {
                    // A status-only PAS records the death as RTT status 36.
                    let (ev, f) = if self.status_only {
                        (Ev::RttStatus, F::new().i(Col::Code, 36))
                    } else {
                        (Ev::PatientDied, F::new())
                    };
                    self.rows.push(Row { date: died, ev, f });
                }
                return None;
            }
        }
        if self.stall.is_some_and(|s| date >= s) || date > self.cutoff {
            self.closed = true;
            return None;
        }
        if self.status_only
            && matches!(
                ev,
                Ev::TreatmentStarted
                    | Ev::ActiveMonitoringStarted
                    | Ev::DecisionNotToTreat
                    | Ev::PatientDeclinedTreatment
            )
        {
            // Recorded as its status code only (see `status`).
            self.cursor = date;
            return Some(date);
        }
        self.rows.push(Row { date, ev, f });
        self.cursor = date;
        Some(date)
    }

    fn ev(&mut self, date: NaiveDate, ev: Ev) -> Option<NaiveDate> {
        self.emit(date, ev, F::new())
    }

    /// A clinic outcome with its RTT status code, recorded for some clinic outcomes only.
    fn status(&mut self, date: NaiveDate, code: i64) -> Step {
        if self.status_only || self.chance(0.25) {
            // A mistyped code now and then: a data-quality warning (`rtt_status_unknown`).
            let code = if self.chance(0.004) { code + 7 } else { code };
            self.emit(date, Ev::RttStatus, F::new().i(Col::Code, code))?;
        }
        Some(())
    }

    /// The day a decision made at `d` reaches the patient: in clinic, or by letter.
    fn told(&mut self, d: NaiveDate) -> NaiveDate {
        if self.chance(0.7) {
            d
        } else {
            let n = self.days(2, 14);
            add(d, n)
        }
    }

    fn discharge(&mut self, d: NaiveDate, reason: &'static str) -> Step {
        self.emit(d, Ev::Discharged, F::new().s(Col::Reason, reason))?;
        Some(())
    }

    // ---- appointments

    /// Books an appointment of `kind` on `booked` for `date` and plays it out: hospital and
    /// patient cancellations and DNAs are rebooked (or end in discharge under the DNA and
    /// cancellation rules) until the patient attends.
    fn appointment(
        &mut self,
        kind: &'static str,
        booked: NaiveDate,
        date: NaiveDate,
    ) -> Option<Outcome> {
        let mut booked = self.now(booked);
        let mut date = weekday(date.max(add(booked, 1)));
        let mut patient_cancels = 0;
        let mut dnas = 0;
        loop {
            let communicated = !self.chance(0.04);
            let f = appt(kind)
                .d(Col::AppointmentDate, date)
                .b(Col::Communicated, communicated);
            booked = self.emit(booked, Ev::AppointmentBooked, f)?;
            let lead = (date - booked).num_days().max(0);
            let r: f64 = self.rng.gen();
            if r < P_HOSPITAL_CANCEL {
                let on_the_day = self.chance(if kind == ADMISSION { 0.35 } else { 0.08 });
                let cancelled = if on_the_day {
                    date
                } else {
                    let back = self.days(1, lead.min(42));
                    add(date, -back.min(lead))
                };
                let f = appt(kind)
                    .d(Col::AppointmentDate, date)
                    .b(Col::OnTheDay, on_the_day);
                booked = self.emit(cancelled, Ev::HospitalCancelled, f)?;
                let wait = if on_the_day && kind == ADMISSION {
                    self.days(7, 28)
                } else {
                    self.days(7, 49)
                };
                date = weekday(add(booked, wait));
            } else if r < P_HOSPITAL_CANCEL + P_PATIENT_CANCEL {
                let back = self.days(0, lead.min(21));
                let f = appt(kind).d(Col::AppointmentDate, date);
                booked = self.emit(add(date, -back), Ev::PatientCancelled, f)?;
                patient_cancels += 1;
                if patient_cancels >= 2 && kind != ADMISSION && !self.protected && self.chance(0.3)
                {
                    let d = self.told(booked);
                    self.discharge(d, "patient_cancelled_twice")?;
                    return Some(Outcome::Ended);
                }
                let wait = self.days(14, 63);
                date = weekday(add(booked, wait));
            } else if r < P_HOSPITAL_CANCEL + P_PATIENT_CANCEL + P_DNA {
                let d = if self.status_only && kind == FIRST && communicated {
                    // Recorded as RTT status 33 (DNA of the first care activity) alone.
                    self.emit(date, Ev::RttStatus, F::new().i(Col::Code, 33))?
                } else {
                    let f = appt(kind).b(Col::Communicated, communicated);
                    let d = self.emit(date, Ev::Dna, f)?;
                    if kind == FIRST && self.chance(0.6) {
                        // The clinic outcome of a missed first appointment: status 33.
                        self.emit(d, Ev::RttStatus, F::new().i(Col::Code, 33))?;
                    }
                    d
                };
                dnas += 1;
                let p_discharge = if self.protected || !communicated {
                    0.0
                } else if kind == FIRST {
                    0.5
                } else if dnas >= 2 {
                    0.6
                } else {
                    0.25
                };
                if self.chance(p_discharge) {
                    let reason = if kind == FIRST {
                        "dna_first_appointment"
                    } else {
                        "dna"
                    };
                    let n = self.days(0, 10);
                    self.discharge(add(d, n), reason)?;
                    return Some(Outcome::Ended);
                }
                // The patient phones to rebook, or the clinician asks for another appointment.
                let (call, wait) = if self.priority == Priority::TwoWeekWait {
                    (self.days(1, 4), self.days(3, 13))
                } else {
                    (self.days(1, 21), self.days(7, 42))
                };
                booked = add(d, call);
                date = weekday(add(booked, wait));
            } else {
                let d = self.emit(date, Ev::Attended, appt(kind))?;
                if kind == FIRST || kind == FOLLOW_UP {
                    // The clinic outcome: an RTT status recorded the same day (RDE 7.1.2 asks
                    // for one within a working day); now and then late, or never.
                    let r: f64 = self.rng.gen();
                    if r < 0.93 {
                        self.emit(d, Ev::RttStatus, F::new().i(Col::Code, 20))?;
                    } else if r < 0.97 {
                        let n = self.days(2, 6);
                        self.emit(add(d, n), Ev::RttStatus, F::new().i(Col::Code, 20))?;
                    }
                }
                return Some(Outcome::Attended(d));
            }
        }
    }

    /// Books `kind` `wait` days after `from` and plays it out.
    fn appointment_after(
        &mut self,
        kind: &'static str,
        from: NaiveDate,
        wait: i64,
    ) -> Option<Outcome> {
        let booking_delay = self.days(0, 5.min(wait.max(1) - 1).max(0));
        let booked = add(self.now(from), booking_delay);
        self.appointment(kind, booked, add(from, wait))
    }

    // ---- the referral to treatment pathway

    fn first_wait(&mut self) -> i64 {
        match self.priority {
            Priority::TwoWeekWait => self.days(4, 14),
            Priority::Urgent => self.lognormal(28.0, 0.5, 7, 120),
            Priority::Routine => {
                if self.chance(0.06) {
                    self.days(180, 540)
                } else {
                    self.lognormal(56.0, 0.6, 14, 300)
                }
            }
        }
    }

    fn rtt(&mut self, booked: NaiveDate, transferred: bool) -> Step {
        if transferred && self.chance(0.5) {
            // The decision to treat came with the transfer.
            let d = add(self.cursor, self.days(0, 30));
            return self.admitted(d);
        }
        if self.priority == Priority::Routine && self.chance(0.03) {
            // On a pending list: no appointment has been booked yet.
            return None;
        }
        let wait = self.first_wait();
        let mut date = add(self.referral, wait);
        let mut booked = booked;
        if self.priority == Priority::Routine && self.chance(0.04) {
            // RDE 9.7.3 / 3.34: two reasonable offers of a first appointment (three weeks'
            // notice or more), both declined; the patient is then booked for a date of their
            // choosing.
            let mut made = self.now(booked);
            for _ in 0..2 {
                let offered = weekday(add(made, self.days(22, 35)));
                let f = appt(FIRST).d(Col::OfferedDate, offered);
                made = self.emit(made, Ev::OfferMade, f)?;
                let f = appt(FIRST).d(Col::OfferedDate, offered);
                let declined = add(made, self.days(1, 6));
                let declined = self.emit(declined, Ev::OfferDeclined, f)?;
                made = add(declined, self.days(1, 5));
            }
            booked = made;
            date = add(made, self.days(28, 70));
        }
        match self.appointment(FIRST, booked, date)? {
            Outcome::Attended(d) => self.clinic_decision(d, 0),
            Outcome::Ended => Some(()),
        }
    }

    /// What the clinician decides after an attended clinic (or after results).
    fn clinic_decision(&mut self, d: NaiveDate, depth: u8) -> Step {
        let upgrade_p = match self.priority {
            Priority::TwoWeekWait => 0.2,
            Priority::Urgent => 0.04,
            Priority::Routine => 0.015,
        };
        if depth == 0
            && self.cancer_route == "none"
            && upgrade_specialty(self.specialty)
            && self.chance(upgrade_p)
        {
            return self.upgraded(d);
        }
        #[derive(Clone, Copy)]
        enum D {
            Discharge,
            NotTreat,
            OpTreatment,
            Admit,
            Monitor,
            Undecided,
            Diagnostics,
            FollowUp,
            Transplant,
            PriorApproval,
        }
        let more = |w: u32| {
            if depth >= 2 {
                0
            } else if depth == 1 {
                w / 4
            } else {
                w
            }
        };
        let transplant = if self.specialty == "nephrology" {
            12
        } else {
            0
        };
        let choice = self.pick(&[
            (D::Discharge, 13),
            (D::NotTreat, 4),
            (D::OpTreatment, 17),
            (D::Admit, 21),
            (D::Monitor, 7),
            (D::Undecided, 3),
            (D::Diagnostics, more(24)),
            (D::FollowUp, more(6)),
            (D::Transplant, transplant),
            (D::PriorApproval, if depth == 0 { 1 } else { 0 }),
        ]);
        match choice {
            D::Discharge => {
                self.status(d, 34)?;
                let t = self.told(d);
                self.ev(t, Ev::ReturnedToPrimaryCare)?;
            }
            D::NotTreat => {
                self.status(d, 34)?;
                let t = self.told(d);
                self.ev(t, Ev::DecisionNotToTreat)?;
                if self.chance(0.5) {
                    self.discharge(t, "no_treatment_required")?;
                }
            }
            D::OpTreatment => {
                let f = F::new().b(Col::Definitive, true).b(Col::Admitted, false);
                self.emit(d, Ev::TreatmentStarted, f)?;
                self.status(d, 30)?;
                self.after_treatment(d, false)?;
            }
            D::Admit => {
                self.status(d, 20)?;
                self.admitted(d)?;
            }
            D::Monitor => {
                let patient = self.chance(0.15);
                self.monitoring(d, patient)?;
            }
            D::Undecided => self.undecided(d)?,
            D::PriorApproval => {
                // RDE 9.14.3: the procedure needs prior approval; funding is sought after the
                // assessment and refused, the referral is rejected (the clock keeps ticking)
                // and the clinician's decision not to treat then stops it.
                self.status(d, 20)?;
                let r = add(d, self.days(14, 60));
                let f = F::new().s(Col::Reason, "prior_approval_required");
                let r = self.emit(r, Ev::ReferralRejected, f)?;
                let t = add(r, self.days(0, 7));
                self.ev(t, Ev::DecisionNotToTreat)?;
                self.discharge(t, "no_treatment_required")?;
            }
            D::Transplant => {
                self.status(d, 20)?;
                let t = add(d, self.days(14, 90));
                self.ev(t, Ev::TransplantListed)?;
            }
            D::Diagnostics => {
                self.status(d, 20)?;
                let n = self.pick(&[(1, 75), (2, 20), (3, 5)]);
                let mut last = d;
                for _ in 0..n {
                    let wait = match self.priority {
                        Priority::Routine => self.lognormal(28.0, 0.6, 5, 120),
                        _ => self.days(3, 21),
                    };
                    match self.appointment_after(DIAGNOSTIC, last, wait)? {
                        Outcome::Attended(t) => last = t,
                        Outcome::Ended => return Some(()),
                    }
                }
                if self.chance(0.35) {
                    // Results by letter or a virtual clinic: no appointment.
                    let t = add(last, self.days(7, 28));
                    self.clinic_decision(t, depth + 1)?;
                    return Some(());
                }
                let wait = self.lognormal(35.0, 0.5, 7, 150);
                match self.appointment_after(FOLLOW_UP, last, wait)? {
                    Outcome::Attended(t) => self.clinic_decision(t, depth + 1)?,
                    Outcome::Ended => return Some(()),
                }
            }
            D::FollowUp => {
                self.status(d, 20)?;
                let wait = self.lognormal(70.0, 0.5, 21, 240);
                match self.appointment_after(FOLLOW_UP, d, wait)? {
                    Outcome::Attended(t) => self.clinic_decision(t, depth + 1)?,
                    Outcome::Ended => return Some(()),
                }
            }
        }
        Some(())
    }

    /// Decision to admit, waiting list, offers, admission and the operation.
    fn admitted(&mut self, d: NaiveDate) -> Step {
        let f = F::new().b(Col::Admitted, true).b(Col::Subsequent, false);
        let d = self.emit(d, Ev::DecisionToTreat, f)?;
        let list = self.pick(&[("elective", 88), ("planned", 4), ("deferred", 8)]);
        let d = self.emit(d, Ev::AddedToWaitingList, F::new().s(Col::List, list))?;
        let mut ready = d;
        if list == "deferred" {
            let until = add(d, self.days(28, 120));
            self.emit(d, Ev::PatientUnavailable, F::new().d(Col::Until, until))?;
            ready = until;
            if self.chance(0.6) {
                // RDE 10.3.3: ready to proceed, the patient goes back onto the elective list
                // (a new clock).
                let f = F::new().s(Col::List, "elective");
                ready = self.emit(until, Ev::AddedToWaitingList, f)?;
            }
        }
        if list == "planned" && self.chance(0.8) {
            // RDE 10.4.3: a planned (surveillance) procedure has its planned date, recorded as
            // the earliest clinically appropriate date, and is due in that month.
            let ecad = add(d, self.days(60, 300));
            self.emit(
                d,
                Ev::ClinicallyAppropriateDate,
                F::new().d(Col::Ecad, ecad),
            )?;
            let date = if self.chance(0.85) {
                weekday(add(ecad, self.days(-12, 0)))
            } else {
                add(ecad, self.days(20, 60))
            };
            let booked = add(date, -self.days(21, 42));
            return match self.appointment(ADMISSION, booked, date)? {
                Outcome::Attended(t) => {
                    let f = F::new().b(Col::Definitive, true).b(Col::Admitted, true);
                    self.emit(t, Ev::TreatmentStarted, f)?;
                    self.status(t, 30)?;
                    self.after_treatment(t, true)
                }
                Outcome::Ended => Some(()),
            };
        }
        let wait = match self.priority {
            Priority::TwoWeekWait => self.days(10, 42),
            Priority::Urgent => self.lognormal(35.0, 0.5, 10, 150),
            Priority::Routine => {
                if self.chance(0.08) {
                    self.days(250, 640)
                } else {
                    self.lognormal(84.0, 0.6, 21, 420)
                }
            }
        };
        if self.chance(0.05) {
            let unfit = add(d, self.days(7, 60));
            let expected = add(unfit, self.days(14, 120));
            let f = F::new().od(Col::ExpectedUntil, self.chance(0.8).then_some(expected));
            let unfit = self.emit(unfit, Ev::MedicallyUnfit, f)?;
            if self.chance(0.25) {
                // Long-term unfit: back to primary care, re-referred when ready.
                let t = add(unfit, self.days(7, 30));
                self.ev(t, Ev::ReturnedToPrimaryCare)?;
                return Some(());
            }
            let fit = add(expected, self.days(-7, 30));
            ready = self.ev(fit, Ev::FitAndReady)?;
        }
        if list != "deferred" && self.chance(0.04) {
            let from = add(d, self.days(14, 90));
            let until = add(from, self.days(14, 60));
            let f = F::new().od(Col::Until, self.chance(0.85).then_some(until));
            self.emit(from, Ev::PatientUnavailable, f)?;
            ready = ready.max(until);
        }
        let notice = |s: &mut Self| match s.priority {
            Priority::Routine => s.days(21, 42),
            _ => s.days(7, 21),
        };
        let mut offer_day = add(d, wait - notice(self)).max(ready);
        let mut declines = 0;
        let mut not_before = ready;
        let booked;
        let date;
        loop {
            let offered = weekday(add(offer_day, notice(self)).max(not_before));
            let f = appt(ADMISSION).d(Col::OfferedDate, offered);
            let made = self.emit(offer_day, Ev::OfferMade, f)?;
            if declines < 2 && self.chance(0.14) {
                let dd = add(made, self.days(1, 7));
                let available = add(offered, self.days(7, 56));
                let f = appt(ADMISSION)
                    .d(Col::OfferedDate, offered)
                    .od(Col::AvailableFrom, self.chance(0.7).then_some(available));
                let dd = self.emit(dd, Ev::OfferDeclined, f)?;
                declines += 1;
                if declines == 2 && self.chance(0.15) {
                    let t = add(dd, self.days(7, 21));
                    self.ev(t, Ev::PatientDeclinedTreatment)?;
                    self.status(t, 35)?;
                    return Some(());
                }
                offer_day = add(available, -notice(self)).max(add(dd, 1));
                not_before = available;
                continue;
            }
            booked = add(made, self.days(1, 5));
            date = offered;
            break;
        }
        match self.appointment(ADMISSION, booked, date)? {
            Outcome::Attended(t) => {
                let f = F::new().b(Col::Definitive, true).b(Col::Admitted, true);
                self.emit(t, Ev::TreatmentStarted, f)?;
                self.status(t, 30)?;
                let bilateral = match self.specialty {
                    "ophthalmology" => 0.35,
                    "trauma_orthopaedics" => 0.05,
                    _ => 0.0,
                };
                if self.chance(bilateral) {
                    self.second_side(t)
                } else {
                    self.after_treatment(t, true)
                }
            }
            Outcome::Ended => Some(()),
        }
    }

    /// Bilateral procedures: fit and ready for the second side starts a new clock.
    fn second_side(&mut self, t: NaiveDate) -> Step {
        let wait = self.days(14, 42);
        let f = match self.appointment_after(FOLLOW_UP, t, wait)? {
            Outcome::Attended(f) => f,
            Outcome::Ended => return Some(()),
        };
        let ready = add(f, self.days(0, 60));
        if self.chance(0.2) {
            // RDE 3.22: fit for the second side, but away until later (the new clock starts
            // when the patient is available).
            let until = add(ready, self.days(7, 35));
            self.emit(f, Ev::PatientUnavailable, F::new().d(Col::Until, until))?;
        }
        let ready = self.ev(ready, Ev::FitAndReady)?;
        self.emit(
            ready,
            Ev::AddedToWaitingList,
            F::new().s(Col::List, "elective"),
        )?;
        let wait = self.lognormal(70.0, 0.5, 21, 300);
        let made = add(ready, wait - 28);
        let offered = weekday(add(made, self.days(21, 35)));
        let made = self.emit(
            made,
            Ev::OfferMade,
            appt(ADMISSION).d(Col::OfferedDate, offered),
        )?;
        let booked = add(made, self.days(1, 5));
        match self.appointment(ADMISSION, booked, offered)? {
            Outcome::Attended(t2) => {
                let f = F::new().b(Col::Definitive, true).b(Col::Admitted, true);
                self.emit(t2, Ev::TreatmentStarted, f)?;
                self.status(t2, 30)?;
                self.after_treatment(t2, true)
            }
            Outcome::Ended => Some(()),
        }
    }

    /// Follow-ups after treatment: a few and discharge, or a long loop in chronic specialties.
    fn after_treatment(&mut self, t: NaiveDate, admitted: bool) -> Step {
        let chronic_p = match (chronic_specialty(self.specialty), admitted) {
            (true, false) => 0.16,
            (true, true) => 0.05,
            _ => 0.01,
        };
        if self.chance(chronic_p) {
            return self.chronic(t);
        }
        let n = self.pick(&[(0, 55), (1, 35), (2, 10)]);
        let mut last = t;
        for _ in 0..n {
            let wait = self.lognormal(45.0, 0.5, 10, 200);
            if wait > 45 && self.chance(0.2) {
                // RDE 9.8.2: a follow-up more than six weeks ahead is offered from the pending
                // list rather than booked at the clinic.
                let offered = weekday(add(last, wait));
                let f = appt(FOLLOW_UP).d(Col::OfferedDate, offered);
                self.emit(last, Ev::OfferMade, f)?;
            }
            match self.appointment_after(FOLLOW_UP, last, wait)? {
                Outcome::Attended(f) => last = f,
                Outcome::Ended => return Some(()),
            }
            self.status(last, 90)?;
            if self.chance(0.05) {
                // Not working: a substantively new treatment starts a new clock.
                self.ev(last, Ev::NewTreatmentDecided)?;
                return self.admitted(last);
            }
        }
        if self.chance(0.6) {
            self.discharge(last, "treatment_complete")?;
        }
        Some(())
    }

    /// A long follow-up loop (injections, biologics, surveillance clinics) until the export.
    fn chronic(&mut self, t: NaiveDate) -> Step {
        let interval = self.days(14, 56) as f64;
        let mut last = t;
        loop {
            let wait = self.lognormal(interval, 0.2, 7, 120);
            match self.appointment_after(FOLLOW_UP, last, wait)? {
                Outcome::Attended(f) => last = f,
                Outcome::Ended => return Some(()),
            }
            if self.chance(0.2) {
                self.status(last, 90)?;
            }
            if self.chance(0.008) {
                self.ev(last, Ev::NewTreatmentDecided)?;
                return self.admitted(last);
            }
            if self.chance(0.015) {
                return self.discharge(last, "no_further_follow_up");
            }
        }
    }

    /// Active monitoring (a clock stop), reviews, and perhaps a decision to treat (a new clock).
    fn monitoring(&mut self, d: NaiveDate, patient: bool) -> Step {
        let by = if patient { "patient" } else { "clinician" };
        let d = self.emit(
            d,
            Ev::ActiveMonitoringStarted,
            F::new().s(Col::InitiatedBy, by),
        )?;
        self.status(d, if patient { 31 } else { 32 })?;
        let mut last = d;
        for _ in 0..5 {
            let wait = self.days(60, 200);
            match self.appointment_after(FOLLOW_UP, last, wait)? {
                Outcome::Attended(r) => last = r,
                Outcome::Ended => return Some(()),
            }
            let r: f64 = self.rng.gen();
            if r < 0.36 && self.status_only && self.chance(0.7) {
                // A status-only PAS opens the new period with status 11 (active monitoring
                // ends) at the review; the decision to treat follows the tests.
                last = self.emit(last, Ev::RttStatus, F::new().i(Col::Code, 11))?;
                last = add(last, self.days(1, 14));
            }
            if r < 0.3 {
                return self.admitted(last);
            } else if r < 0.36 {
                let f = F::new().b(Col::Admitted, false).b(Col::Subsequent, false);
                self.emit(last, Ev::DecisionToTreat, f)?;
                let t = add(last, self.days(0, 28));
                let f = F::new().b(Col::Definitive, true).b(Col::Admitted, false);
                let t = self.emit(t, Ev::TreatmentStarted, f)?;
                return self.after_treatment(t, false);
            } else if r < 0.48 {
                self.ev(last, Ev::ReturnedToPrimaryCare)?;
                return Some(());
            }
            self.status(last, 91)?;
        }
        self.ev(last, Ev::ReturnedToPrimaryCare)?;
        Some(())
    }

    /// The patient wants time to think: a decision within 14 days, or later.
    fn undecided(&mut self, d: NaiveDate) -> Step {
        let d = self.ev(d, Ev::PatientUndecided)?;
        let r: f64 = self.rng.gen();
        if r < 0.5 {
            let t = add(d, self.days(2, 13));
            self.admitted(t)
        } else if r < 0.62 {
            let t = add(d, self.days(3, 13));
            self.ev(t, Ev::PatientDeclinedTreatment)?;
            self.status(t, 35)
        } else if r < 0.82 {
            // Still undecided after 14 days: patient-initiated active monitoring.
            let t = add(d, self.days(15, 35));
            self.monitoring(t, true)
        } else {
            let t = add(d, self.days(15, 60));
            self.admitted(t)
        }
    }

    // ---- cancer

    fn cancer(&mut self, booked: NaiveDate, p_cancer: f64) -> Step {
        let kind = if self.chance(0.2) { DIAGNOSTIC } else { FIRST };
        let first = if self.chance(0.88) {
            self.days(5, 14)
        } else {
            self.days(15, 24)
        };
        let mut date = add(self.referral, first);
        if self.chance(0.06) {
            // RDE 4.7: the patient is away for the first two weeks (the referrer is told).
            let from = add(self.referral, self.days(1, 5));
            let until = add(from, self.days(10, 21));
            let from = self.emit(from, Ev::PatientUnavailable, F::new().d(Col::Until, until))?;
            date = date.max(add(until, self.days(1, 5))).max(add(from, 1));
        }
        let seen = match self.appointment(kind, booked, date)? {
            Outcome::Attended(t) => t,
            Outcome::Ended => return Some(()),
        };
        self.diagnosis(seen, add(self.referral, 0), p_cancer, true)
    }

    /// Tests, then the patient is told whether they have cancer (the faster diagnosis stop).
    fn diagnosis(&mut self, seen: NaiveDate, start: NaiveDate, p_cancer: f64, route: bool) -> Step {
        let mut last = seen;
        if route && self.death.is_none() && self.chance(0.03) {
            // Very ill at presentation: the patient dies during the tests.
            self.death = Some(add(seen, self.days(3, 30)));
        }
        let n = self.pick(&[(0, 25), (1, 50), (2, 25)]);
        for _ in 0..n {
            let wait = self.days(2, 12);
            match self.appointment_after(DIAGNOSTIC, last, wait)? {
                Outcome::Attended(t) => last = t,
                Outcome::Ended => return Some(()),
            }
        }
        let target = if self.chance(0.75) {
            self.days(10, 28)
        } else {
            self.days(29, 60)
        };
        let told = add(start, target).max(add(last, 2));
        let told = match self.appointment_after(FOLLOW_UP, last, (told - last).num_days())? {
            Outcome::Attended(t) => t,
            Outcome::Ended => return Some(()),
        };
        let cancer = self.chance(p_cancer);
        self.emit(
            told,
            Ev::DiagnosisCommunicated,
            F::new().b(Col::Cancer, cancer),
        )?;
        if cancer {
            return self.cancer_treatment(told);
        }
        let r: f64 = self.rng.gen();
        if route && r < 0.55 {
            self.status(told, 34)?;
            self.ev(told, Ev::ReturnedToPrimaryCare)?;
            Some(())
        } else if route && r < 0.7 {
            self.discharge(told, "cancer_ruled_out")
        } else {
            // A benign condition that still needs consultant-led care: the RTT clock runs on.
            self.clinic_decision(told, 1)
        }
    }

    fn cancer_treatment(&mut self, dx: NaiveDate) -> Step {
        let dtt = add(dx, self.days(0, 14));
        #[derive(Clone, Copy, PartialEq)]
        enum M {
            Surgery,
            NonAdmitted,
            Monitoring,
            Declined,
        }
        let m = self.pick(&[
            (M::Surgery, 50),
            (M::NonAdmitted, 38),
            (M::Monitoring, 8),
            (M::Declined, 4),
        ]);
        let f = F::new()
            .b(Col::Admitted, m == M::Surgery)
            .b(Col::Subsequent, false);
        let dtt = self.emit(dtt, Ev::DecisionToTreat, f)?;
        if self.death.is_none() && self.chance(0.07) {
            // The patient dies before the planned treatment (both clocks end, not measured).
            self.death = Some(add(dtt, self.days(3, 25)));
        }
        let t = match m {
            M::Declined => {
                let t = add(dtt, self.days(1, 14));
                self.ev(t, Ev::PatientDeclinedTreatment)?;
                return Some(());
            }
            M::Monitoring => {
                let f = F::new().s(Col::InitiatedBy, "clinician");
                self.emit(dtt, Ev::ActiveMonitoringStarted, f)?;
                return self.surveillance(dtt);
            }
            M::NonAdmitted => {
                let wait = if self.chance(0.9) {
                    self.days(5, 31)
                } else {
                    self.days(32, 50)
                };
                let f = F::new().b(Col::Definitive, true).b(Col::Admitted, false);
                self.emit(add(dtt, wait), Ev::TreatmentStarted, f)?
            }
            M::Surgery => {
                self.emit(
                    dtt,
                    Ev::AddedToWaitingList,
                    F::new().s(Col::List, "elective"),
                )?;
                let mut made = add(dtt, self.days(1, 7));
                // Now and then the first date offered is beyond the 31-day standard (a
                // declined date there is not a reasonable offer: RDE 10.2.5).
                let late = self.chance(0.06);
                let mut offered = if late {
                    weekday(add(dtt, self.days(33, 45)))
                } else {
                    weekday(add(made, self.days(7, 24)))
                };
                let made_on = self.emit(
                    made,
                    Ev::OfferMade,
                    appt(ADMISSION).d(Col::OfferedDate, offered),
                )?;
                made = made_on;
                if late || self.chance(0.15) {
                    // A declined reasonable offer of admitted treatment: the cancer clock pauses
                    // (a late date declined: the patient takes an earlier one).
                    let available = if late {
                        add(made, self.days(8, 16))
                    } else {
                        add(offered, self.days(7, 21))
                    };
                    let f = appt(ADMISSION)
                        .d(Col::OfferedDate, offered)
                        .d(Col::AvailableFrom, available);
                    let dd = add(made, self.days(1, 3));
                    let dd = self.emit(dd, Ev::OfferDeclined, f)?;
                    offered = weekday(available);
                    made = self.emit(
                        add(dd, 1),
                        Ev::OfferMade,
                        appt(ADMISSION).d(Col::OfferedDate, offered),
                    )?;
                }
                let booked = add(made, self.days(0, 3));
                match self.appointment(ADMISSION, booked, offered)? {
                    Outcome::Attended(t) => {
                        let f = F::new().b(Col::Definitive, true).b(Col::Admitted, true);
                        self.emit(t, Ev::TreatmentStarted, f)?
                    }
                    Outcome::Ended => return Some(()),
                }
            }
        };
        if self.chance(0.45) {
            // Adjuvant treatment after recovery: an earliest clinically appropriate date.
            let set = add(t, self.days(7, 21));
            let ecad = add(t, self.days(28, 70));
            let f = F::new().b(Col::Admitted, false).b(Col::Subsequent, true);
            if self.chance(0.5) {
                // Decided at the post-operative MDT; the ECAD is recorded once the patient's
                // recovery is known (the 31-day clock then runs from it).
                let dtt2 = self.emit(set, Ev::DecisionToTreat, f)?;
                let n = self.days(0, 7);
                self.emit(
                    add(dtt2, n),
                    Ev::ClinicallyAppropriateDate,
                    F::new().d(Col::Ecad, ecad),
                )?;
            } else {
                let set = self.emit(
                    set,
                    Ev::ClinicallyAppropriateDate,
                    F::new().d(Col::Ecad, ecad),
                )?;
                let dtt2 = add(ecad, -self.days(0, 7)).max(set);
                self.emit(dtt2, Ev::DecisionToTreat, f)?;
            }
            let wait = if self.chance(0.92) {
                self.days(0, 31)
            } else {
                self.days(32, 45)
            };
            let f = F::new()
                .b(Col::Definitive, true)
                .b(Col::Admitted, false)
                .b(Col::Subsequent, true);
            let t2 = self.emit(add(ecad, wait), Ev::TreatmentStarted, f)?;
            return self.surveillance(t2);
        }
        self.surveillance(t)
    }

    /// Cancer follow-up clinics every few months.
    fn surveillance(&mut self, t: NaiveDate) -> Step {
        let n = self.days(2, 8);
        let mut last = t;
        for _ in 0..n {
            let wait = self.days(42, 120);
            match self.appointment_after(FOLLOW_UP, last, wait)? {
                Outcome::Attended(f) => last = f,
                Outcome::Ended => return Some(()),
            }
        }
        Some(())
    }

    /// A consultant suspects cancer on a routine or urgent referral: the 62-day clock starts.
    fn upgraded(&mut self, d: NaiveDate) -> Step {
        let d = self.ev(d, Ev::ConsultantUpgrade)?;
        self.diagnosis(d, d, 0.3, false)
    }
}

/// Generates one pathway's rows into `rows`, in date order.
fn build_pathway(opts: &SynthOptions, rng: &mut ChaCha8Rng, rows: &mut Vec<Row>) {
    let span = (opts.end - opts.start).num_days().max(0);
    let arrived = add(opts.start, rng.gen_range(0..=span));
    let received = {
        let w = weekday(arrived);
        if w <= opts.end {
            w
        } else {
            arrived
        }
    };
    let mut s = Story {
        rng,
        rows,
        cursor: received,
        cutoff: opts.end.max(received),
        death: None,
        stall: None,
        closed: false,
        referral: received,
        priority: Priority::Routine,
        cancer_route: "none",
        specialty: "",
        protected: false,
        status_only: false,
    };

    let child = s.chance(0.15);
    let vulnerable = s.chance(0.05);
    let age_days = if child {
        s.days(20, 6550)
    } else {
        let u = s.rng.gen::<f64>().max(s.rng.gen::<f64>());
        6600 + (u * 77.0 * 365.25) as i64
    };
    let birth = add(received, -age_days);

    // Route and priority: ~3% on a cancer route (two-week-wait priority), ~5% 2WW overall.
    let cancer_route = if child {
        // A child with suspected cancer (RDE 4.8: children's cancers have 31 days).
        s.pick(&[("none", 9800), ("suspected_cancer", 200)])
    } else {
        s.pick(&[
            ("none", 9660),
            ("suspected_cancer", 240),
            ("breast_symptomatic", 60),
            ("screening", 40),
        ])
    };
    let priority = if cancer_route != "none" {
        Priority::TwoWeekWait
    } else {
        s.pick(&[
            (Priority::Routine, 825),
            (Priority::Urgent, 155),
            (Priority::TwoWeekWait, 20),
        ])
    };
    let (tumour, specialty) = match cancer_route {
        "suspected_cancer" if child => (Some("children"), "paediatrics"),
        "suspected_cancer" => {
            let (t, sp, _) = TUMOUR_GROUPS[s.pick(&index_weights(&TUMOUR_GROUPS))];
            (Some(t), sp)
        }
        "breast_symptomatic" => (Some("breast"), "breast_surgery"),
        "screening" => {
            let (t, sp, _) = SCREENING[s.pick(&index_weights(&SCREENING))];
            (Some(t), sp)
        }
        _ if child => (None, s.pick(&CHILD_SPECIALTIES)),
        _ => (None, s.pick(&ADULT_SPECIALTIES)),
    };
    let transferred = s.chance(0.03);
    let source = if cancer_route == "screening" {
        "screening"
    } else if transferred {
        "consultant"
    } else {
        s.pick(&[("gp", 880), ("consultant", 70), ("self", 20), ("other", 30)])
    };
    let channel = s.pick(&[("paper", 40), ("ers", 55), ("phone", 5)]);
    let priority_name = match priority {
        Priority::Routine => "routine",
        Priority::Urgent => "urgent",
        Priority::TwoWeekWait => "two_week_wait",
    };

    s.priority = priority;
    s.cancer_route = cancer_route;
    s.specialty = specialty;
    s.protected = child || vulnerable || priority == Priority::TwoWeekWait;
    // Some PAS record clinic outcomes only as RTT status codes (not on cancer routes, whose
    // clocks need the treatment itself).
    s.status_only = cancer_route == "none" && s.chance(0.08);
    let p_death = if cancer_route != "none" { 0.03 } else { 0.008 };
    if s.chance(p_death) {
        let n = s.days(20, 700);
        s.death = Some(add(received, n));
    }
    if s.chance(0.06) {
        let n = s.days(14, 300);
        s.stall = Some(add(received, n));
    }

    let mut f = F::new()
        .s(Col::Source, source)
        .s(Col::Channel, channel)
        .s(Col::Priority, priority_name)
        .s(Col::CancerRoute, cancer_route)
        .d(Col::BirthDate, birth)
        .b(Col::Vulnerable, vulnerable);
    if let Some(t) = tumour {
        f = f.s(Col::TumourGroup, t);
    }
    f = f.s(Col::Specialty, specialty);
    if s.emit(received, Ev::ReferralReceived, f).is_none() {
        return;
    }
    let _ = story(&mut s, channel, transferred);
}

fn index_weights<A, B>(table: &[(A, B, u32)]) -> Vec<(usize, u32)> {
    table.iter().enumerate().map(|(i, x)| (i, x.2)).collect()
}

/// The rest of the story, after the referral row.
fn story(s: &mut Story<'_>, channel: &'static str, transferred: bool) -> Step {
    let d0 = s.referral;
    if transferred {
        // Inter-provider transfers (mutual aid) are often long waiters, and some wait on here.
        let long = s.chance(0.5);
        let back = if long {
            s.days(180, 600)
        } else {
            s.days(20, 180)
        };
        if s.stall.is_none() && s.chance(if long { 0.4 } else { 0.1 }) {
            let n = s.days(30, 120);
            s.stall = Some(add(d0, n));
        }
        let f = F::new().d(Col::OriginalStart, add(d0, -back));
        s.emit(d0, Ev::TransferredIn, f)?;
    }
    // e-RS: the UBRN is converted when the first slot is booked, a few days later; now and
    // then no slot is available and the booking is deferred to the provider (an appointment
    // slot issue, RDE 9.9), who offers and books a date within two weeks or so.
    let booked = if channel == "ers" {
        if s.priority != Priority::TwoWeekWait && s.chance(0.05) {
            let n = s.days(0, 3);
            let issue = s.ev(add(d0, n), Ev::AppointmentSlotIssue)?;
            let offered = add(issue, s.days(3, 16));
            let slot = add(offered, s.days(7, 35));
            s.emit(
                offered,
                Ev::OfferMade,
                F::new()
                    .s(Col::Appointment, "first")
                    .d(Col::OfferedDate, slot),
            )?;
            let n = s.days(0, 6);
            s.ev(add(offered, n), Ev::UbrnConverted)?
        } else {
            let n = s.days(1, 7);
            s.ev(add(d0, n), Ev::UbrnConverted)?
        }
    } else if s.priority == Priority::TwoWeekWait {
        add(d0, s.days(0, 2))
    } else if s.chance(0.85) {
        // Paper and phone referrals are booked within 5 working days (RDE 9.4), mostly.
        add(d0, s.days(1, 6))
    } else {
        add(d0, s.days(8, 21))
    };
    // The clinician grades (triages) the referral: mostly within the 5 working days of its
    // receipt that the trust's policy allows (RDE 9.6, 9.7), sometimes late, and a few are
    // never graded (an e-RS referral's grading is recorded once its UBRN is converted).
    if !transferred && !s.chance(0.04) {
        let from = d0;
        let n = if s.chance(0.88) {
            s.days(0, 6)
        } else {
            s.days(8, 20)
        };
        s.ev(add(from, n), Ev::ReferralGraded)?;
    }
    if !transferred && s.chance(0.02) {
        let reason = s.pick(&[
            ("prior_approval_required", 40),
            ("insufficient_information", 35),
            ("wrong_service", 25),
        ]);
        let n = s.days(1, 10);
        s.emit(
            add(d0, n),
            Ev::ReferralRejected,
            F::new().s(Col::Reason, reason),
        )?;
        return Some(());
    }
    let p_cancer = match s.cancer_route {
        "none" => return s.rtt(booked, transferred),
        "breast_symptomatic" => 0.03,
        "screening" => 0.15,
        _ => 0.1,
    };
    s.cancer(booked, p_cancer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A field's type in the `docs/events.md` vocabulary.
    #[derive(Clone, Copy)]
    enum Ty {
        Enum(&'static [&'static str]),
        Date,
        Bool,
        Int,
        Str,
    }

    const APPT: Ty = Ty::Enum(&["first", "follow_up", "diagnostic", "admission"]);

    /// A declared field: name, type, required (no default and not optional).
    type Field = (&'static str, Ty, bool);

    /// The national vocabulary of `docs/events.md`: event → declared fields.
    const VOCAB: &[(&str, &[Field])] = &[
        (
            "referral_received",
            &[
                (
                    "source",
                    Ty::Enum(&["gp", "consultant", "self", "screening", "other"]),
                    false,
                ),
                ("channel", Ty::Enum(&["paper", "ers", "phone"]), false),
                (
                    "priority",
                    Ty::Enum(&["routine", "urgent", "two_week_wait"]),
                    false,
                ),
                (
                    "cancer_route",
                    Ty::Enum(&[
                        "none",
                        "suspected_cancer",
                        "breast_symptomatic",
                        "screening",
                    ]),
                    false,
                ),
                ("birth_date", Ty::Date, false),
                ("vulnerable", Ty::Bool, false),
                ("tumour_group", Ty::Str, false),
                ("specialty", Ty::Str, false),
            ],
        ),
        ("ubrn_converted", &[]),
        ("referral_rejected", &[("reason", Ty::Str, false)]),
        (
            "appointment_booked",
            &[
                ("appointment", APPT, true),
                ("appointment_date", Ty::Date, true),
                ("communicated", Ty::Bool, false),
            ],
        ),
        (
            "offer_made",
            &[
                ("appointment", APPT, true),
                ("offered_date", Ty::Date, true),
            ],
        ),
        (
            "offer_declined",
            &[
                ("appointment", APPT, true),
                ("offered_date", Ty::Date, true),
                ("available_from", Ty::Date, false),
            ],
        ),
        ("attended", &[("appointment", APPT, true)]),
        (
            "dna",
            &[
                ("appointment", APPT, true),
                ("communicated", Ty::Bool, false),
            ],
        ),
        (
            "patient_cancelled",
            &[
                ("appointment", APPT, true),
                ("appointment_date", Ty::Date, false),
            ],
        ),
        (
            "hospital_cancelled",
            &[
                ("appointment", APPT, true),
                ("appointment_date", Ty::Date, false),
                ("on_the_day", Ty::Bool, false),
            ],
        ),
        (
            "decision_to_treat",
            &[
                ("admitted", Ty::Bool, false),
                ("subsequent", Ty::Bool, false),
            ],
        ),
        (
            "added_to_waiting_list",
            &[("list", Ty::Enum(&["elective", "planned", "deferred"]), true)],
        ),
        (
            "treatment_started",
            &[
                ("definitive", Ty::Bool, false),
                ("admitted", Ty::Bool, false),
                ("subsequent", Ty::Bool, false),
            ],
        ),
        (
            "active_monitoring_started",
            &[("initiated_by", Ty::Enum(&["clinician", "patient"]), true)],
        ),
        ("decision_not_to_treat", &[]),
        ("returned_to_primary_care", &[]),
        ("patient_declined_treatment", &[]),
        ("patient_died", &[]),
        ("transplant_listed", &[]),
        ("fit_and_ready", &[]),
        ("new_treatment_decided", &[]),
        ("medically_unfit", &[("expected_until", Ty::Date, false)]),
        ("patient_undecided", &[]),
        ("patient_unavailable", &[("until", Ty::Date, false)]),
        ("consultant_upgrade", &[]),
        ("diagnosis_communicated", &[("cancer", Ty::Bool, true)]),
        ("clinically_appropriate_date", &[("ecad", Ty::Date, true)]),
        ("transferred_in", &[("original_start", Ty::Date, true)]),
        ("discharged", &[("reason", Ty::Str, false)]),
        ("rtt_status", &[("code", Ty::Int, true)]),
        // The trust's own event types (`policies/rde.pal`).
        ("referral_graded", &[]),
        ("appointment_slot_issue", &[]),
    ];

    const RTT_CODES: &[i64] = &[
        10, 11, 12, 20, 21, 30, 31, 32, 33, 34, 35, 36, 90, 91, 92, 98, 99,
    ];

    fn date(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|_| s.len() == 10)
    }

    /// Checks one row against the vocabulary; `fields` are the non-empty field cells.
    fn validate(
        pid: &str,
        day: &str,
        event: &str,
        fields: &[(String, String)],
    ) -> Result<(), String> {
        if pid.is_empty() {
            return Err("empty pathway_id".into());
        }
        date(day).ok_or(format!("bad date {day}"))?;
        let decl = VOCAB
            .iter()
            .find(|(e, _)| *e == event)
            .ok_or(format!("unknown event {event}"))?
            .1;
        for (k, v) in fields {
            let (_, ty, _) = decl
                .iter()
                .find(|(f, _, _)| f == k)
                .ok_or(format!("{event} does not declare {k}"))?;
            let ok = match ty {
                Ty::Enum(vals) => vals.contains(&v.as_str()),
                Ty::Date => date(v).is_some(),
                Ty::Bool => v == "true" || v == "false",
                // A national code, or one mistyped on purpose (a national code + 7).
                Ty::Int => v
                    .parse::<i64>()
                    .is_ok_and(|c| RTT_CODES.contains(&c) || RTT_CODES.contains(&(c - 7))),
                Ty::Str => !v.is_empty(),
            };
            if !ok {
                return Err(format!("bad value {v:?} for {event}.{k}"));
            }
        }
        for (f, _, required) in decl {
            if *required && !fields.iter().any(|(k, _)| k == f) {
                return Err(format!("{event} lacks {f}"));
            }
        }
        Ok(())
    }

    fn options(pathways: u64, seed: u64, bad_rows: u64) -> SynthOptions {
        SynthOptions {
            pathways,
            seed,
            bad_rows,
            ..SynthOptions::default()
        }
    }

    fn run(opts: &SynthOptions, format: SynthFormat) -> io::Result<(Vec<u8>, SynthStats)> {
        let mut buf = Vec::new();
        let stats = generate(opts, format, &mut buf)?;
        Ok((buf, stats))
    }

    /// A parsed CSV row: pathway id, date, event, non-empty fields.
    type Parsed = (String, String, String, Vec<(String, String)>);

    fn parse_csv(buf: &[u8]) -> Result<Vec<Parsed>, csv::Error> {
        let mut rdr = csv::Reader::from_reader(buf);
        let header = rdr.headers()?.clone();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec?;
            let fields = header
                .iter()
                .zip(rec.iter())
                .skip(3)
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            rows.push((
                rec[0].to_string(),
                rec[1].to_string(),
                rec[2].to_string(),
                fields,
            ));
        }
        Ok(rows)
    }

    #[test]
    fn same_options_same_bytes() -> TestResult {
        for format in [SynthFormat::Csv, SynthFormat::JsonLines] {
            let opts = options(500, 7, 9);
            let (a, sa) = run(&opts, format)?;
            let (b, sb) = run(&opts, format)?;
            assert_eq!(a, b);
            assert_eq!(sa, sb);
            let (c, _) = run(&options(500, 8, 9), format)?;
            assert_ne!(a, c, "another seed gives other data");
        }
        Ok(())
    }

    #[test]
    fn chunks_concatenate_to_the_whole() -> TestResult {
        let opts = options(300, 2025, 6);
        for format in [SynthFormat::Csv, SynthFormat::JsonLines] {
            let (whole, stats) = run(&opts, format)?;
            let mut parts = Vec::new();
            write_header(format, &mut parts)?;
            let mut merged = SynthStats::default();
            for r in [0..37, 37..38, 38..200, 200..300, 300..400] {
                merged.merge(&generate_range(&opts, format, r, &mut parts)?);
            }
            assert_eq!(whole, parts);
            assert_eq!(stats, merged);
        }
        Ok(())
    }

    #[test]
    fn csv_header_and_shape() -> TestResult {
        let (buf, stats) = run(&options(200, 1, 0), SynthFormat::Csv)?;
        let text = String::from_utf8(buf)?;
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "pathway_id,date,event,source,channel,priority,cancer_route,birth_date,vulnerable,\
                 tumour_group,specialty,reason,appointment,appointment_date,communicated,\
                 offered_date,available_from,on_the_day,admitted,subsequent,definitive,list,\
                 initiated_by,expected_until,until,cancer,ecad,original_start,code"
            )
        );
        let mut n = 0;
        for line in lines {
            assert_eq!(line.split(',').count(), 29, "{line}");
            n += 1;
        }
        assert_eq!(n, stats.rows);
        assert_eq!(stats.pathways, 200);
        assert_eq!(stats.events.values().sum::<u64>(), stats.rows);
        // Ids are zero-padded to the width of the count.
        assert!(text.contains("\nP001,") && text.contains("\nP200,") && !text.contains("\nP0001,"));
        let (empty, stats) = run(&options(0, 1, 3), SynthFormat::Csv)?;
        assert_eq!(empty.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(stats.rows, 0);
        Ok(())
    }

    #[test]
    fn vocabulary_adjacency_and_date_order() -> TestResult {
        let (buf, _) = run(&options(2000, 2025, 0), SynthFormat::Csv)?;
        let rows = parse_csv(&buf)?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut used: HashSet<String> = HashSet::new();
        let mut prev: Option<(String, NaiveDate)> = None;
        for (pid, day, event, fields) in &rows {
            validate(pid, day, event, fields).map_err(|e| format!("{pid} {day} {event}: {e}"))?;
            used.insert(event.clone());
            let d = date(day).ok_or("date")?;
            match &prev {
                Some((p, last)) if p == pid => assert!(d >= *last, "{pid}: {day} before {last}"),
                _ => {
                    assert!(seen.insert(pid.clone()), "{pid} is not adjacent");
                    assert_eq!(event, "referral_received", "{pid} starts with its referral");
                }
            }
            prev = Some((pid.clone(), d));
        }
        assert_eq!(seen.len(), 2000);
        for e in [
            "referral_received",
            "ubrn_converted",
            "referral_rejected",
            "appointment_booked",
            "offer_made",
            "offer_declined",
            "attended",
            "dna",
            "patient_cancelled",
            "hospital_cancelled",
            "decision_to_treat",
            "added_to_waiting_list",
            "treatment_started",
            "active_monitoring_started",
            "decision_not_to_treat",
            "returned_to_primary_care",
            "fit_and_ready",
            "medically_unfit",
            "patient_undecided",
            "patient_unavailable",
            "consultant_upgrade",
            "diagnosis_communicated",
            "transferred_in",
            "discharged",
            "rtt_status",
        ] {
            assert!(used.contains(e), "{e} never generated");
        }
        Ok(())
    }

    #[test]
    fn jsonl_carries_the_same_rows_with_only_used_keys() -> TestResult {
        let opts = options(300, 99, 0);
        let (csv_buf, cs) = run(&opts, SynthFormat::Csv)?;
        let (json_buf, js) = run(&opts, SynthFormat::JsonLines)?;
        assert_eq!(cs, js);
        let rows = parse_csv(&csv_buf)?;
        let text = String::from_utf8(json_buf)?;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), rows.len());
        for (line, (pid, day, event, fields)) in lines.iter().zip(&rows) {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let obj = v.as_object().ok_or("not an object")?;
            assert_eq!(obj.len(), 3 + fields.len(), "{line}");
            assert_eq!(
                obj.get("pathway_id").and_then(|x| x.as_str()),
                Some(pid.as_str())
            );
            assert_eq!(obj.get("date").and_then(|x| x.as_str()), Some(day.as_str()));
            assert_eq!(
                obj.get("event").and_then(|x| x.as_str()),
                Some(event.as_str())
            );
            for (k, val) in fields {
                let j = obj.get(k).ok_or(format!("{line} lacks {k}"))?;
                let s = match j {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Bool(_) | serde_json::Value::Number(_) => j.to_string(),
                    _ => return Err(format!("{line}: {k} has an unexpected type").into()),
                };
                assert_eq!(&s, val);
            }
        }
        Ok(())
    }

    #[test]
    fn event_mix_is_realistic() -> TestResult {
        let (buf, stats) = run(&options(2000, 2025, 0), SynthFormat::Csv)?;
        let mean = stats.rows as f64 / stats.pathways as f64;
        assert!(
            (7.0..=13.0).contains(&mean),
            "mean events per pathway {mean}"
        );
        let outcomes: u64 = ["attended", "dna", "patient_cancelled", "hospital_cancelled"]
            .iter()
            .map(|e| stats.count(e))
            .sum();
        let share = |n: u64| n as f64 / outcomes as f64;
        let dna = share(stats.count("dna"));
        let cancelled = share(stats.count("patient_cancelled") + stats.count("hospital_cancelled"));
        assert!((0.04..=0.08).contains(&dna), "DNA share {dna}");
        assert!(
            (0.12..=0.20).contains(&cancelled),
            "cancellation share {cancelled}"
        );

        let rows = parse_csv(&buf)?;
        let referrals: Vec<&Vec<(String, String)>> = rows
            .iter()
            .filter(|r| r.2 == "referral_received")
            .map(|r| &r.3)
            .collect();
        let frac = |k: &str, v: &str| {
            referrals
                .iter()
                .filter(|f| f.iter().any(|(a, b)| a == k && b == v))
                .count() as f64
                / referrals.len() as f64
        };
        let between = |x: f64, lo: f64, hi: f64, what: &str| {
            assert!((lo..=hi).contains(&x), "{what}: {x}");
        };
        between(frac("channel", "ers"), 0.50, 0.60, "e-RS");
        between(frac("channel", "paper"), 0.35, 0.45, "paper");
        between(frac("priority", "routine"), 0.76, 0.84, "routine");
        between(frac("priority", "urgent"), 0.12, 0.18, "urgent");
        between(frac("priority", "two_week_wait"), 0.03, 0.07, "2WW");
        between(frac("vulnerable", "true"), 0.03, 0.07, "vulnerable");
        between(
            1.0 - frac("cancer_route", "none"),
            0.015,
            0.045,
            "cancer routes",
        );
        let children = rows
            .iter()
            .filter(|r| r.2 == "referral_received")
            .filter(|r| {
                let born =
                    r.3.iter()
                        .find(|(k, _)| k == "birth_date")
                        .and_then(|(_, v)| date(v));
                match (born, date(&r.1)) {
                    (Some(b), Some(d)) => (d - b).num_days() < 18 * 365,
                    _ => false,
                }
            })
            .count() as f64
            / referrals.len() as f64;
        between(children, 0.12, 0.18, "children");
        // Every cancer route is a two-week-wait referral with a tumour group.
        for f in &referrals {
            let get = |k: &str| f.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
            if get("cancer_route") != Some("none") {
                assert_eq!(get("priority"), Some("two_week_wait"));
                assert!(get("tumour_group").is_some());
            }
        }
        Ok(())
    }

    /// Pathway id → rows, in order.
    fn by_pathway(rows: &[Parsed]) -> Vec<&[Parsed]> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=rows.len() {
            if i == rows.len() || rows[i].0 != rows[start].0 {
                out.push(&rows[start..i]);
                start = i;
            }
        }
        out
    }

    #[test]
    fn long_tail_and_long_waiters() -> TestResult {
        let opts = options(20000, 2025, 0);
        let (buf, _) = run(&opts, SynthFormat::Csv)?;
        let rows = parse_csv(&buf)?;
        let pathways = by_pathway(&rows);
        let longest = pathways.iter().map(|p| p.len()).max().unwrap_or(0);
        assert!(longest > 50, "longest pathway has {longest} events");

        // A crude RTT reading: open pathways and their waits at an as-at date after `end`.
        let as_at = add(opts.end, 30);
        let mut waits: HashMap<&str, u32> = HashMap::new();
        let mut open = 0;
        for p in &pathways {
            let (mut start, mut running, mut monitoring) = (None, false, false);
            for (_, day, event, fields) in p.iter() {
                let d = date(day);
                let field = |k: &str| {
                    fields
                        .iter()
                        .find(|(a, _)| a == k)
                        .and_then(|(_, v)| date(v))
                };
                match event.as_str() {
                    "referral_received" => (start, running) = (d, true),
                    "ubrn_converted" => start = d,
                    "transferred_in" => start = field("original_start"),
                    "treatment_started"
                    | "returned_to_primary_care"
                    | "decision_not_to_treat"
                    | "patient_declined_treatment"
                    | "patient_died"
                    | "discharged"
                    | "referral_rejected"
                    | "transplant_listed" => running = false,
                    "active_monitoring_started" => (running, monitoring) = (false, true),
                    "decision_to_treat" if monitoring && !running => {
                        (start, running, monitoring) = (d, true, false)
                    }
                    "fit_and_ready" if !running => (start, running) = (d, true),
                    _ => {}
                }
            }
            if let (true, Some(s)) = (running, start) {
                open += 1;
                let days = (as_at - s).num_days();
                for (label, limit) in [("52", 364), ("78", 546), ("104", 728)] {
                    if days > limit {
                        *waits.entry(label).or_insert(0) += 1;
                    }
                }
            }
        }
        let share = open as f64 / pathways.len() as f64;
        assert!((0.15..=0.45).contains(&share), "open share {share}");
        for label in ["52", "78", "104"] {
            assert!(
                waits.get(label).copied().unwrap_or(0) >= 3,
                "too few > {label} weeks: {waits:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn bad_rows_are_extra_rejectable_rows() -> TestResult {
        let clean = options(500, 11, 0);
        let dirty = options(500, 11, 16);
        let (clean_buf, clean_stats) = run(&clean, SynthFormat::Csv)?;
        let (dirty_buf, dirty_stats) = run(&dirty, SynthFormat::Csv)?;
        assert_eq!(dirty_stats.bad_rows, 16);
        assert_eq!(dirty_stats.rows, clean_stats.rows + 16);
        assert_eq!(dirty_stats.events, clean_stats.events);

        let rows = parse_csv(&dirty_buf)?;
        let mut reasons = Vec::new();
        let mut kept = Vec::new();
        for (pid, day, event, fields) in &rows {
            match validate(pid, day, event, fields) {
                Ok(()) => kept.push((pid.clone(), day.clone(), event.clone(), fields.clone())),
                Err(e) => reasons.push(e),
            }
        }
        assert_eq!(reasons.len(), 16, "{reasons:?}");
        for kind in [
            "bad date",
            "unknown event dnaa",
            "does not declare code",
            "empty pathway_id",
            "bad value \"frist\"",
            "bad value \"maybe\"",
            "lacks appointment_date",
            "bad value \"3O\"",
        ] {
            assert!(
                reasons.iter().any(|r| r.contains(kind)),
                "no {kind} in {reasons:?}"
            );
        }
        // Removing the malformed rows gives back the clean data set.
        assert_eq!(kept, parse_csv(&clean_buf)?);

        // Valid-dated malformed rows keep the pathway's date order and adjacency.
        let mut last: HashMap<&str, NaiveDate> = HashMap::new();
        for (pid, day, _, _) in &rows {
            if let (false, Some(d)) = (pid.is_empty(), date(day)) {
                let prev = last.insert(pid.as_str(), d);
                assert!(prev.is_none_or(|p| p <= d), "{pid} out of order at {day}");
            }
        }

        // The same malformed rows in JSON Lines: every line still parses as JSON.
        let (json, _) = run(&dirty, SynthFormat::JsonLines)?;
        for line in String::from_utf8(json)?.lines() {
            serde_json::from_str::<serde_json::Value>(line)?;
        }
        Ok(())
    }

    #[test]
    fn odd_windows_do_not_panic() -> TestResult {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).ok_or("date")?;
        for (start, end) in [(d, d), (d, add(d, -30))] {
            let opts = SynthOptions {
                pathways: 50,
                seed: 3,
                start,
                end,
                bad_rows: 2,
            };
            let (buf, stats) = run(&opts, SynthFormat::Csv)?;
            assert_eq!(stats.pathways, 50);
            assert!(!buf.is_empty());
        }
        Ok(())
    }
}
