//! Evaluates every pathway of an extract once, on one thread, with one engine: the program
//! BENCHMARKS.md runs under `valgrind --tool=callgrind` to count the instructions of evaluation
//! alone (the count of `none`, which only loads the policy and reads the extract, is subtracted).
//!
//! ```sh
//! cargo build --release -p pal-native --example eval_count
//! valgrind --tool=callgrind target/release/examples/eval_count interpreter policies/rde.pal S.csv
//! ```

use pal_engine::io::events::{read_events, InputFormat, ReadOptions};
use pal_engine::runtime::eval::Evaluator;
use pal_engine::services::project::load_policy;
use pal_native::NativeRde;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, engine, policy, csv] = args.as_slice() else {
        eprintln!("usage: eval_count interpreter|native|none POLICY EXTRACT.csv");
        std::process::exit(2);
    };
    let as_at = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("a valid date");
    let Ok((_, policy, _)) = load_policy(std::path::Path::new(policy)) else {
        eprintln!("{policy} does not load; run `pal check` on it");
        std::process::exit(3);
    };
    let file = std::fs::File::open(csv).unwrap_or_else(|e| {
        eprintln!("{csv}: {e}");
        std::process::exit(3);
    });
    let opts = ReadOptions {
        schema: &policy.schema,
        as_at: Some(as_at),
        strict: false,
        mapping: None,
    };
    let set = read_events(std::io::BufReader::new(file), csv, InputFormat::Csv, &opts)
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(3);
        });
    let mut periods = 0usize;
    match engine.as_str() {
        "interpreter" => {
            let ev = Evaluator::new(&policy);
            for p in &set.pathways {
                periods += ev.run(&p.id, &p.events, &[], as_at, false).clocks.len();
            }
        }
        "native" => {
            let native = NativeRde::new(&policy).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(2);
            });
            for p in &set.pathways {
                periods += native.run(&p.id, &p.events, as_at).clocks.len();
            }
        }
        "none" => {}
        other => {
            eprintln!("unknown engine `{other}`");
            std::process::exit(2);
        }
    }
    println!("{} pathways, {periods} periods", set.pathways.len());
}
