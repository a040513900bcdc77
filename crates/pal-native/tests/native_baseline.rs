//! The native baseline (`pal_native::NativeRde`, hand-written Rust for `policies/rde.pal`)
//! gives results identical to the interpreter on every pathway: synthetic extracts of several
//! seeds, the example extract and the primer's examples, at several as-at dates, with events in
//! order and out of order. Timing comparisons are only meaningful once this holds.

use chrono::NaiveDate;
use pal_engine::base::value::{Value as PalValue, ValueType};
use pal_engine::io::events::{read_events, EventSet, InputFormat, ReadOptions};
use pal_engine::model::event::Event;
use pal_engine::model::ir::Policy;
use pal_engine::runtime::eval::{Evaluator, PathwayResult};
use pal_native::NativeRde;
use pal_synth::{generate, SynthFormat, SynthOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(path: &str) -> Policy {
    // The scenario tests under `policies/rde/` extend `../rde.pal`: the policies folder is on
    // the policy path, as `pal test policies/` has it.
    let policies = [root().join("policies")];
    match pal_engine::services::project::load_policy_with(&root().join(path), &policies) {
        Ok((_, p, _)) => p,
        Err((_, diags)) => panic!("{path} does not load: {diags:?}"),
    }
}

fn date(s: &str) -> NaiveDate {
    match pal_engine::base::value::parse_date(s) {
        Some(d) => d,
        None => panic!("bad date {s}"),
    }
}

fn native(policy: &Policy) -> NativeRde {
    match NativeRde::new(policy) {
        Ok(n) => n,
        Err(e) => panic!("NativeRde::new: {e}"),
    }
}

fn read(policy: &Policy, bytes: &[u8], name: &str, format: InputFormat) -> EventSet {
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at: None,
        strict: false,
    };
    match read_events(bytes, name, format, &opts) {
        Ok(set) => set,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn read_file(policy: &Policy, path: &str) -> EventSet {
    let bytes = match std::fs::read(root().join(path)) {
        Ok(b) => b,
        Err(e) => panic!("{path}: {e}"),
    };
    let format = InputFormat::from_path(Path::new(path)).unwrap_or(InputFormat::Csv);
    read(policy, &bytes, path, format)
}

fn synthetic(policy: &Policy, seed: u64, pathways: u64) -> EventSet {
    let opts = SynthOptions {
        pathways,
        seed,
        ..SynthOptions::default()
    };
    let mut bytes = Vec::new();
    if let Err(e) = generate(&opts, SynthFormat::Csv, &mut bytes) {
        panic!("synth: {e}");
    }
    let set = read(policy, &bytes, "synthetic.csv", InputFormat::Csv);
    assert!(set.rejected.is_empty(), "{:?}", set.rejected.first());
    set
}

/// The parts of two results that differ, as JSON, for a readable failure.
fn diff(a: &PathwayResult, b: &PathwayResult) -> String {
    let to_json = |r: &PathwayResult| serde_json::to_value(r).unwrap_or(Value::Null);
    let (Value::Object(a), Value::Object(b)) = (to_json(a), to_json(b)) else {
        return format!("interpreter: {a:?}\nnative:      {b:?}");
    };
    let mut out = String::new();
    for (key, x) in &a {
        let y = b.get(key).unwrap_or(&Value::Null);
        if x == y {
            continue;
        }
        out.push_str(&format!("  `{key}` differs:\n"));
        match (x, y) {
            (Value::Array(xs), Value::Array(ys)) => {
                for i in 0..xs.len().max(ys.len()) {
                    let (p, q) = (xs.get(i), ys.get(i));
                    if p != q {
                        out.push_str(&format!(
                            "    [{i}] interpreter: {}\n    [{i}] native:      {}\n",
                            p.map_or("(none)".into(), Value::to_string),
                            q.map_or("(none)".into(), Value::to_string)
                        ));
                    }
                }
            }
            _ => out.push_str(&format!("    interpreter: {x}\n    native:      {y}\n")),
        }
    }
    if out.is_empty() {
        out = "  (equal as JSON: a difference in a field not serialised)".into();
    }
    out
}

/// Runs both engines on every pathway of `set` at `as_at`; panics at the first difference.
/// Returns the number of pathways compared.
fn compare(
    policy: &Policy,
    native: &NativeRde,
    set: &EventSet,
    as_at: NaiveDate,
    what: &str,
) -> usize {
    let ev = Evaluator::new(policy);
    for p in &set.pathways {
        let a = ev.run(&p.id, &p.events, &[], as_at, false);
        let b = native.run(&p.id, &p.events, as_at);
        if a != b {
            panic!(
                "{what}, as at {as_at}: the native baseline differs from the interpreter on pathway `{}`:\n{}\n  events:\n{}",
                p.id,
                diff(&a, &b),
                show_events(policy, &p.events, as_at)
            );
        }
    }
    set.pathways.len()
}

/// A pathway's events (up to `as_at`), one a line, with field names.
fn show_events(policy: &Policy, events: &[Event], as_at: NaiveDate) -> String {
    let schema = &policy.schema;
    events
        .iter()
        .filter(|e| e.date <= as_at)
        .map(|e| {
            let Some(def) = schema.events.get(e.kind as usize) else {
                return format!("    {} ? (seq {})", e.date, e.seq);
            };
            let fields: Vec<String> = def
                .fields
                .iter()
                .zip(e.fields.iter())
                .filter(|(_, v)| v.is_set())
                .map(|(f, v)| format!("{}: {}", f.name, schema.display_value(v)))
                .collect();
            format!(
                "    {} {} {{ {} }} (seq {})",
                e.date,
                def.name,
                fields.join(", "),
                e.seq
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The as-at dates to compare at: the export date, mid-way, and the last event's date.
fn as_at_dates(set: &EventSet) -> Vec<NaiveDate> {
    let last = set
        .pathways
        .iter()
        .flat_map(|p| p.events.iter().map(|e| e.date))
        .max()
        .unwrap_or(date("2025-03-01"));
    let mut dates = vec![date("2025-03-01"), date("2024-06-30"), last];
    dates.sort();
    dates.dedup();
    dates
}

#[test]
fn identical_on_synthetic_extracts() {
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    let mut total = 0;
    for seed in [1, 2, 3, 42] {
        let set = synthetic(&policy, seed, 2000);
        for as_at in as_at_dates(&set) {
            total += compare(&policy, &native, &set, as_at, &format!("seed {seed}"));
        }
    }
    assert!(total >= 4 * 2000 * 2);
}

#[test]
fn identical_on_the_examples_and_primer_fixtures() {
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    for path in [
        "examples/events.csv",
        "examples/events.jsonl",
        "tests/fixtures/primer_examples.csv",
    ] {
        let set = read_file(&policy, path);
        assert!(!set.pathways.is_empty(), "{path}");
        let mut dates = as_at_dates(&set);
        dates.extend([date("2025-01-31"), date("2026-12-31")]);
        for as_at in dates {
            compare(&policy, &native, &set, as_at, path);
        }
    }
}

#[test]
fn identical_when_events_are_out_of_order() {
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    let mut set = synthetic(&policy, 7, 500);
    for p in &mut set.pathways {
        p.events.reverse();
    }
    for as_at in as_at_dates(&set) {
        compare(&policy, &native, &set, as_at, "reversed events");
    }
}

#[test]
fn identical_on_the_scenario_tests_of_the_trust_policy() {
    // The hand-made edge cases of policies/rde/tests_*.pal (each file extends rde.pal and adds
    // only tests), with their pathway attributes and as-at dates; tests that `set` a parameter
    // are skipped (the baseline hard-codes the parameters).
    let mut compared = 0;
    let mut files: Vec<PathBuf> = match std::fs::read_dir(root().join("policies/rde")) {
        Ok(d) => d.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("policies/rde: {e}"),
    };
    files.sort();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "pal"))
    {
        let path = file
            .strip_prefix(root())
            .unwrap_or(file)
            .display()
            .to_string();
        let policy = load(&path);
        let native = native(&policy);
        let ev = Evaluator::new(&policy);
        for t in policy.tests.iter().filter(|t| t.sets.is_empty()) {
            let as_at = t
                .as_at
                .or_else(|| t.events.iter().map(|e| e.date).max())
                .unwrap_or(date("2025-03-01"));
            let a = ev.run(&t.name, &t.events, &t.attributes, as_at, false);
            let b = native.run_with_attributes(&t.name, &t.events, &t.attributes, as_at);
            assert!(
                a == b,
                "{path}: test `{}` as at {as_at}:\n{}",
                t.name,
                diff(&a, &b)
            );
            compared += 1;
        }
    }
    assert!(compared >= 100, "only {compared} scenario tests compared");
}

#[test]
fn refuses_a_policy_it_does_not_implement() {
    for path in [
        "policies/national.pal",
        "policies/variants/strict_trust.pal",
    ] {
        let policy = load(path);
        assert!(NativeRde::new(&policy).is_err(), "{path} was accepted");
    }
}

#[test]
fn refuses_a_policy_whose_conditions_differ() {
    // The same rules, actions, tables and parameters, one condition changed (`>=` to `>`):
    // only the IR fingerprints tell the two apart.
    let dir = std::env::temp_dir().join(format!("pal-native-verify-{}", std::process::id()));
    let copy = |from: &str| {
        let to = dir.join(from);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::copy(root().join("policies").join(from), &to).unwrap_or_else(|e| panic!("{e}"));
    };
    for f in [
        "national.pal",
        "national/schema.pal",
        "national/cancer.pal",
        "rde.pal",
    ] {
        copy(f);
    }
    let rde = dir.join("rde.pal");
    let text = std::fs::read_to_string(&rde).unwrap_or_else(|e| panic!("{e}"));
    let changed = text.replace(
        "count(hospital_cancelled) >= repeat_hospital_cancellation",
        "count(hospital_cancelled) > repeat_hospital_cancellation",
    );
    assert_ne!(text, changed, "the condition to change was not found");
    std::fs::write(&rde, changed).unwrap_or_else(|e| panic!("{e}"));
    let policy = match pal_engine::services::project::load_policy(&rde) {
        Ok((_, p, _)) => p,
        Err((_, diags)) => panic!("the changed copy does not load: {diags:?}"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    match NativeRde::new(&policy) {
        Ok(_) => panic!("a policy with a changed condition was accepted"),
        Err(e) => assert!(
            e.contains("rule `repeat_hospital_cancellation` differs"),
            "{e}"
        ),
    }
}

/// 200,000 pathways (or `PAL_NATIVE_PATHWAYS`), for rare cases; run in release:
/// `cargo test --release --test native_baseline -- --ignored --nocapture`.
#[test]
#[ignore]
fn identical_on_a_large_synthetic_extract() {
    let n: u64 = std::env::var("PAL_NATIVE_PATHWAYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    let set = synthetic(&policy, 2025, n);
    let events: usize = set.pathways.iter().map(|p| p.events.len()).sum();
    for as_at in as_at_dates(&set) {
        compare(&policy, &native, &set, as_at, "large extract");
        let ev = Evaluator::new(&policy);
        let t = std::time::Instant::now();
        let mut clocks = 0;
        for p in &set.pathways {
            clocks += ev.run(&p.id, &p.events, &[], as_at, false).clocks.len();
        }
        let interp = t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let mut clocks_n = 0;
        for p in &set.pathways {
            clocks_n += native.run(&p.id, &p.events, as_at).clocks.len();
        }
        let nat = t.elapsed().as_secs_f64();
        assert_eq!(clocks, clocks_n);
        println!(
            "as at {as_at}: {n} pathways, {events} events identical; interpreter {interp:.3} s ({:.0} events/s), native {nat:.3} s ({:.0} events/s), {:.1}x",
            events as f64 / interp,
            events as f64 / nat,
            interp / nat
        );
    }
}

// ------------------------------------------------------------------ random pathways

/// Event types and how often the fuzzer draws them (every type of the rde schema).
const FUZZ_EVENTS: &[(&str, u32)] = &[
    ("referral_received", 4),
    ("ubrn_converted", 3),
    ("referral_rejected", 1),
    ("appointment_booked", 10),
    ("offer_made", 3),
    ("offer_declined", 6),
    ("attended", 8),
    ("dna", 10),
    ("patient_cancelled", 5),
    ("hospital_cancelled", 4),
    ("decision_to_treat", 5),
    ("added_to_waiting_list", 5),
    ("treatment_started", 4),
    ("active_monitoring_started", 3),
    ("decision_not_to_treat", 1),
    ("returned_to_primary_care", 1),
    ("patient_declined_treatment", 1),
    ("patient_died", 1),
    ("transplant_listed", 1),
    ("fit_and_ready", 2),
    ("new_treatment_decided", 2),
    ("medically_unfit", 2),
    ("patient_undecided", 3),
    ("patient_unavailable", 3),
    ("consultant_upgrade", 2),
    ("diagnosis_communicated", 3),
    ("clinically_appropriate_date", 3),
    ("transferred_in", 2),
    ("discharged", 2),
    ("rtt_status", 6),
    ("referral_graded", 3),
    ("appointment_slot_issue", 2),
];

const FUZZ_CODES: &[i64] = &[
    10, 11, 12, 20, 21, 30, 31, 32, 33, 33, 33, 34, 35, 36, 90, 91, 92, 98, 99, 7, 50,
];

fn plus_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_signed(chrono::Duration::days(n)).unwrap_or(d)
}

/// A random value for a field; `hostile` sometimes leaves even required fields unset.
fn fuzz_value(
    rng: &mut ChaCha8Rng,
    policy: &Policy,
    name: &str,
    ty: &ValueType,
    optional: bool,
    near: NaiveDate,
    hostile: bool,
) -> PalValue {
    if (optional && rng.gen_bool(0.3)) || (hostile && rng.gen_bool(0.05)) {
        return PalValue::Unset;
    }
    let pick = |rng: &mut ChaCha8Rng, xs: &[&str]| -> PalValue {
        PalValue::Str(xs[rng.gen_range(0..xs.len())].into())
    };
    match ty {
        ValueType::Bool => PalValue::Bool(rng.gen_bool(0.5)),
        ValueType::Int => PalValue::Int(FUZZ_CODES[rng.gen_range(0..FUZZ_CODES.len())]),
        ValueType::Date if name == "birth_date" => {
            PalValue::Date(plus_days(date("2024-01-01"), -rng.gen_range(0..365 * 90)))
        }
        ValueType::Date => PalValue::Date(plus_days(near, rng.gen_range(-30..=90))),
        ValueType::String if name == "tumour_group" => pick(
            rng,
            &[
                "children",
                "testicular",
                "acute_leukaemia",
                "breast",
                "lung",
            ],
        ),
        ValueType::String if name == "specialty" => pick(
            rng,
            &[
                "orthopaedics",
                "cardiology",
                "paediatrics",
                "dermatology",
                "breast_surgery",
            ],
        ),
        ValueType::String => pick(rng, &["no reason", "other"]),
        ValueType::Enum(id) => {
            let n = policy
                .schema
                .enums
                .get(*id as usize)
                .map_or(1, |e| e.variants.len());
            PalValue::Enum(*id, rng.gen_range(0..n) as u32)
        }
        ValueType::Duration(_) => PalValue::Duration(pal_engine::base::value::Duration::days(7)),
        // Event fields are never lists (lists are parameters only).
        ValueType::List(_) => PalValue::Unset,
    }
}

/// A random pathway over the whole vocabulary: dense dates (same-day events, timers and
/// 14-day windows interact), repeated referrals, any order of events.
fn fuzz_pathway(rng: &mut ChaCha8Rng, policy: &Policy, hostile: bool) -> Vec<Event> {
    let schema = &policy.schema;
    let total: u32 = FUZZ_EVENTS.iter().map(|(_, w)| w).sum();
    let mut d = plus_days(date("2024-01-01"), rng.gen_range(0..60));
    let n = rng.gen_range(1..=24);
    let mut events = Vec::new();
    let mut booked = Vec::new();
    for seq in 0..n {
        let name = if seq == 0 && rng.gen_bool(0.9) {
            "referral_received"
        } else {
            let mut x = rng.gen_range(0..total);
            let mut chosen = "attended";
            for (name, w) in FUZZ_EVENTS {
                if x < *w {
                    chosen = name;
                    break;
                }
                x -= w;
            }
            chosen
        };
        let Some((kind, def)) = schema.event(name) else {
            panic!("no event type {name}");
        };
        let mut fields: Vec<PalValue> = def
            .fields
            .iter()
            .map(|f| {
                let v = fuzz_value(rng, policy, &f.name, &f.ty, f.optional, d, hostile);
                match (&v, &f.default) {
                    (PalValue::Unset, Some(default)) if !hostile => default.clone(),
                    _ => v,
                }
            })
            .collect();
        // Cancellations often name a date that was booked (9.10.2's short-notice exception).
        let date_field = def.fields.iter().position(|f| f.name == "appointment_date");
        if let Some(i) = date_field {
            if name == "appointment_booked" {
                booked.push(fields[i].clone());
            } else if !booked.is_empty() && rng.gen_bool(0.6) {
                fields[i] = booked[rng.gen_range(0..booked.len())].clone();
            }
        }
        events.push(Event {
            date: d,
            kind,
            fields: fields.into_boxed_slice(),
            line: seq + 2,
            seq,
        });
        d = plus_days(
            d,
            match rng.gen_range(0..10) {
                0..=3 => 0,
                4..=7 => rng.gen_range(1..=15),
                _ => rng.gen_range(10..=70),
            },
        );
    }
    if rng.gen_bool(0.1) {
        events.reverse();
    }
    events
}

/// Compares the engines on `n` random pathways of `seed`; returns the events compared.
fn fuzz(policy: &Policy, native: &NativeRde, seed: u64, n: usize, hostile: bool) -> usize {
    let ev = Evaluator::new(policy);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut events_seen = 0;
    for i in 0..n {
        let events = fuzz_pathway(&mut rng, policy, hostile);
        let last = events
            .iter()
            .map(|e| e.date)
            .max()
            .unwrap_or(date("2024-01-01"));
        let as_at = plus_days(last, rng.gen_range(-20..=120));
        let id = format!("F{seed}-{i}");
        let a = ev.run(&id, &events, &[], as_at, false);
        let b = native.run(&id, &events, as_at);
        if a != b {
            panic!(
                "random pathway `{id}` (hostile: {hostile}), as at {as_at}: the native baseline differs from the interpreter:\n{}\n  events:\n{}",
                diff(&a, &b),
                show_events(policy, &events, as_at)
            );
        }
        events_seen += events.len();
    }
    events_seen
}

#[test]
fn identical_on_random_pathways_over_the_whole_vocabulary() {
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    for seed in 0..4 {
        fuzz(&policy, &native, seed, 3000, false);
    }
}

#[test]
fn identical_on_random_pathways_with_unset_required_fields() {
    // Not what the readers produce (they reject such rows), but the evaluator's three-valued
    // logic over unset values is mirrored too, and neither engine may panic.
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    for seed in 100..102 {
        fuzz(&policy, &native, seed, 3000, true);
    }
}

/// Random pathways in bulk (`PAL_NATIVE_PATHWAYS`, default 200,000), for rare cases; run in
/// release: `cargo test --release --test native_baseline -- --ignored --nocapture`.
#[test]
#[ignore]
fn identical_on_many_random_pathways() {
    let n: usize = std::env::var("PAL_NATIVE_PATHWAYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let policy = load("policies/rde.pal");
    let native = native(&policy);
    let events = fuzz(&policy, &native, 9001, n, false) + fuzz(&policy, &native, 9002, n / 4, true);
    println!("{} random pathways ({events} events) identical", n + n / 4);
}
