//! Evaluation of `policies/rde.pal` on generated rows: every few input bytes make one event
//! (a type of the schema, a date, a value for each field, sometimes left empty), written as
//! CSV and read by the real reader; every pathway is evaluated twice, with and without a
//! trace, and the results must be identical (and serialise, and give a PTL row and summary).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pal_engine::base::value::ValueType;
use pal_engine::io::events::{read_events, InputFormat, ReadOptions};
use pal_engine::io::report;
use pal_engine::runtime::eval::Evaluator;

mod common;

fuzz_target!(|data: &[u8]| {
    let policy = common::rde();
    let schema = &policy.schema;
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let Some(as_at_byte) = next() else {
        return;
    };
    let base = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let as_at = base + chrono::Duration::days(i64::from(as_at_byte) * 4);
    // The header: every field of every event type.
    let mut columns: Vec<String> = Vec::new();
    for e in &schema.events {
        for f in &e.fields {
            if !columns.contains(&f.name) {
                columns.push(f.name.clone());
            }
        }
    }
    let mut csv = format!("pathway_id,date,event,{}\n", columns.join(","));
    let mut day = 0i64;
    while let (Some(kind), Some(step)) = (next(), next()) {
        let def = &schema.events[kind as usize % schema.events.len()];
        day += i64::from(step % 40) - 2;
        let date = base + chrono::Duration::days(day.max(0));
        let pathway = if step & 0x80 != 0 { "P2" } else { "P1" };
        let mut cells = vec![String::new(); columns.len()];
        for f in &def.fields {
            let b = next().unwrap_or(0);
            if b % 7 == 0 {
                continue;
            }
            let text = match &f.ty {
                ValueType::Bool => (b & 1 == 1).to_string(),
                ValueType::Int => (i64::from(b) - 20).to_string(),
                ValueType::Date => (date + chrono::Duration::days(i64::from(b) - 60)).to_string(),
                ValueType::String => format!("s{}", b % 5),
                ValueType::Duration(_) => format!("{} weeks", b % 60),
                // List fields have no CSV spelling to generate here: left empty.
                ValueType::List(_) => continue,
                ValueType::Enum(e) => {
                    let variants = &schema.enum_def(*e).variants;
                    variants[b as usize % variants.len()].clone()
                }
            };
            if let Some(i) = columns.iter().position(|c| *c == f.name) {
                cells[i] = text;
            }
        }
        csv.push_str(&format!(
            "{pathway},{date},{},{}\n",
            def.name,
            cells.join(",")
        ));
    }
    let opts = ReadOptions {
        schema,
        mapping: None,
        as_at: Some(as_at),
        strict: false,
    };
    let Ok(set) = read_events(csv.as_bytes(), "fuzz", InputFormat::Csv, &opts) else {
        return;
    };
    let ev = Evaluator::new(policy);
    let mut summary = report::summary::SummaryBuilder::new(policy, ev.params(), as_at);
    for p in &set.pathways {
        let first = ev.run(&p.id, &p.events, &[], as_at, false);
        let again = ev.run(&p.id, &p.events, &[], as_at, false);
        let traced = ev.run(&p.id, &p.events, &[], as_at, true);
        let json = |r| serde_json::to_string(r).unwrap_or_default();
        assert_eq!(
            json(&first),
            json(&again),
            "evaluation is not deterministic"
        );
        let mut untraced = traced.clone();
        untraced.trace = None;
        assert_eq!(
            json(&first),
            json(&untraced),
            "the trace changed the result"
        );
        let mut out = Vec::new();
        let _ = report::write_csv_rows(&first, &mut out);
        let _ = report::ptl::row(&first, "rtt");
        summary.add(&first);
    }
    let _ = summary.finish();
});
