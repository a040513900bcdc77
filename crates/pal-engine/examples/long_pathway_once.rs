//! Evaluates one long pathway under `policies/rde.pal` once, for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/long_pathway_once 10000` (BENCHMARKS.md).
//! The pathway is `pal_synth::long_pathway_csv`, as in `benches/long_pathway.rs` (a referral, then a repeating cycle of
//! bookings, offers, DNAs, cancellations, declines and attendances); reading it is included,
//! so compare two sizes for the growth, not one against the bench.

use pal_engine::base::value::parse_date;
use pal_engine::io::events::{read_events, InputFormat, ReadOptions};
use std::path::Path;

const AS_AT: &str = "2035-01-01";

use pal_synth::long_pathway_csv;

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
