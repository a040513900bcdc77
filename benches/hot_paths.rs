//! Criterion micro-benchmarks of PAL's hot paths: `cargo bench --bench hot_paths`.
//!
//! The whole-system figures (tiers S to XL, the native baseline, peer engines, end-to-end runs
//! and peak memory) come from `pal bench`; these isolate the pieces it is made of, so a change
//! to one of them can be measured on its own.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pal_engine::base::value::{parse_date, Duration, DurationKind};
use pal_engine::io::events::{read_events, EventSet, InputFormat, ReadOptions};
use pal_engine::model::calendar::Calendar;
use pal_engine::model::ir::Policy;
use pal_engine::runtime::eval::Evaluator;
use pal_synth::{generate, SynthFormat, SynthOptions};
use std::hint::black_box;
use std::path::Path;

const AS_AT: &str = "2025-03-01";

fn policy() -> Policy {
    match pal_engine::services::project::load_policy(Path::new("policies/rde.pal")) {
        Ok((_, p, _)) => p,
        Err(_) => panic!("policies/rde.pal does not load"),
    }
}

fn extract(pathways: u64) -> Vec<u8> {
    let mut csv = Vec::new();
    let opts = SynthOptions {
        pathways,
        seed: 7,
        ..SynthOptions::default()
    };
    if generate(&opts, SynthFormat::Csv, &mut csv).is_err() {
        panic!("generating the extract failed");
    }
    csv
}

fn read(csv: &[u8], policy: &Policy) -> EventSet {
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at: parse_date(AS_AT),
        strict: false,
    };
    match read_events(csv, "bench.csv", InputFormat::Csv, &opts) {
        Ok(set) => set,
        Err(e) => panic!("reading the extract failed: {e}"),
    }
}

fn front_end(c: &mut Criterion) {
    c.bench_function("load and check policies/rde.pal", |b| b.iter(policy));
}

fn reading(c: &mut Criterion) {
    let policy = policy();
    let csv = extract(10_000);
    let rows = csv.iter().filter(|b| **b == b'\n').count() as u64;
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::Elements(rows));
    g.bench_function("CSV, 10K pathways", |b| {
        b.iter(|| read(black_box(&csv), &policy))
    });
    g.finish();
    c.bench_function("parse one date", |b| {
        b.iter(|| parse_date(black_box("2025-03-01")))
    });
}

fn evaluation(c: &mut Criterion) {
    let policy = policy();
    let set = read(&extract(10_000), &policy);
    let ev = Evaluator::new(&policy);
    let as_at = parse_date(AS_AT).unwrap_or_default();
    let mut by_size: Vec<_> = set.pathways.iter().collect();
    by_size.sort_by_key(|p| p.events.len());
    let median = by_size[by_size.len() / 2];
    let longest = by_size[by_size.len() - 1];
    let mut g = c.benchmark_group("evaluate");
    g.bench_function(
        format!("median pathway ({} events)", median.events.len()),
        |b| b.iter(|| ev.run(&median.id, black_box(&median.events), &[], as_at, false)),
    );
    g.bench_function(
        format!("longest pathway ({} events)", longest.events.len()),
        |b| b.iter(|| ev.run(&longest.id, black_box(&longest.events), &[], as_at, false)),
    );
    let first: Vec<_> = set.pathways.iter().take(1000).collect();
    let events: usize = first.iter().map(|p| p.events.len()).sum();
    g.throughput(Throughput::Elements(events as u64));
    g.bench_function("1,000 pathways, 1 thread", |b| {
        b.iter(|| {
            first
                .iter()
                .map(|p| ev.run(&p.id, &p.events, &[], as_at, false).clocks.len())
                .sum::<usize>()
        })
    });
    g.finish();
    c.bench_function("encode one result as JSON", |b| {
        b.iter_batched(
            || ev.run(&median.id, &median.events, &[], as_at, false),
            |r| {
                let mut out = Vec::with_capacity(2048);
                let _ = pal_engine::io::report::write_jsonl(&r, &mut out);
                out
            },
            BatchSize::SmallInput,
        )
    });
}

fn calendar(c: &mut Criterion) {
    let cal = Calendar::england_and_wales();
    let d = parse_date("2024-12-20").unwrap_or_default();
    let five = Duration {
        kind: DurationKind::WorkingDays,
        amount: 5,
    };
    let month = Duration {
        kind: DurationKind::Months,
        amount: 1,
    };
    c.bench_function("add 5 working days over Christmas", |b| {
        b.iter(|| cal.add(black_box(d), black_box(five)))
    });
    c.bench_function("add 1 month", |b| {
        b.iter(|| cal.add(black_box(d), black_box(month)))
    });
}

criterion_group!(benches, front_end, reading, evaluation, calendar);
criterion_main!(benches);
