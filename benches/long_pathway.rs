//! One very long pathway evaluated under `policies/rde.pal`: `cargo bench --bench long_pathway`.
//!
//! A benchmark, not a test (issue 19): evaluation must be linear in a pathway's length. Each
//! pathway is a referral followed by a repeating cycle of bookings, offers, attendances, DNAs
//! and cancellations (every rule with a history query or an obligation is exercised on every
//! cycle), 10K, 100K and 1M events long, a few hundred a day. Figures are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pal_engine::base::value::parse_date;
use pal_engine::io::events::{read_events, EventSet, InputFormat, ReadOptions};
use pal_engine::model::ir::Policy;
use pal_engine::runtime::eval::Evaluator;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const AS_AT: &str = "2035-01-01";

fn policy() -> Policy {
    match pal_engine::services::project::load_policy(Path::new("policies/rde.pal")) {
        Ok((_, p, _)) => p,
        Err(_) => panic!("policies/rde.pal does not load"),
    }
}

use pal_synth::long_pathway_csv;

fn read(csv: &str, policy: &Policy) -> EventSet {
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at: parse_date(AS_AT),
        strict: false,
    };
    match read_events(csv.as_bytes(), "long.csv", InputFormat::Csv, &opts) {
        Ok(set) => set,
        Err(e) => panic!("reading the pathway failed: {e}"),
    }
}

fn long_pathway(c: &mut Criterion) {
    let policy = policy();
    let ev = Evaluator::new(&policy);
    let as_at = parse_date(AS_AT).unwrap_or_default();
    let mut g = c.benchmark_group("one long pathway under rde.pal");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    for n in [10_000usize, 100_000, 1_000_000] {
        let set = read(&long_pathway_csv(n), &policy);
        let Some(p) = set.pathways.first() else {
            panic!("no pathway read");
        };
        assert_eq!(p.events.len(), n, "every row is an event");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n} events"), |b| {
            b.iter(|| ev.run(&p.id, black_box(&p.events), &[], as_at, false))
        });
    }
    g.finish();
}

criterion_group!(benches, long_pathway);
criterion_main!(benches);
