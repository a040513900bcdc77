//! Evaluates one long pathway under `policies/rde.pal` once, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/long_pathway_once 10000` (BENCHMARKS.md).
//! The pathway is the one of `benches/long_pathway.rs` (a referral, then a repeating cycle of
//! bookings, offers, DNAs, cancellations, declines and attendances); reading it is included,
//! so compare two sizes for the growth, not one against the bench.

use pal_engine::base::value::parse_date;
use pal_engine::io::events::{read_events, InputFormat, ReadOptions};
use std::fmt::Write;
use std::path::Path;

const AS_AT: &str = "2035-01-01";

/// The CSV of one pathway of `n` events (as `benches/long_pathway.rs` writes it).
fn long_pathway_csv(n: usize) -> String {
    let mut csv = String::from(
        "pathway_id,date,event,priority,appointment,appointment_date,offered_date,communicated\n",
    );
    let start = parse_date("2025-01-06").unwrap_or_default();
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

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let Ok((_, policy, _)) =
        pal_engine::services::project::load_policy(Path::new("policies/rde.pal"))
    else {
        eprintln!("policies/rde.pal does not load (run from the repository root)");
        std::process::exit(3);
    };
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at: parse_date(AS_AT),
        strict: false,
    };
    let csv = long_pathway_csv(n);
    let set = match read_events(csv.as_bytes(), "long.csv", InputFormat::Csv, &opts) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("reading the pathway failed: {e}");
            std::process::exit(3);
        }
    };
    let ev = pal_engine::runtime::eval::Evaluator::new(&policy);
    let as_at = parse_date(AS_AT).unwrap_or_default();
    for p in &set.pathways {
        let r = ev.run(&p.id, &p.events, &[], as_at, false);
        println!("{} events: {} outcomes", p.events.len(), r.outcomes.len());
    }
}
