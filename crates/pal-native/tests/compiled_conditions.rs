//! The evaluator decides rule conditions with closures compiled once per evaluator
//! (`runtime/eval/compile.rs`); the REPL's `:whynot` shows the value of each part of a
//! condition computed by the tree walker. This checks, for every rule of the shipped policies
//! at every step where it is considered, on synthetic pathways, that
//! the compiled condition held exactly when the tree walker found every part `true`: the two
//! implementations of the language's semantics agree wherever the policies reach.

use chrono::NaiveDate;
use pal_engine::io::events::{read_events, EventSet, InputFormat, ReadOptions};
use pal_engine::model::ir::Policy;
use pal_engine::runtime::eval::Evaluator;
use pal_synth::{generate, SynthFormat, SynthOptions};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(path: &str) -> Policy {
    let policies = [root().join("policies")];
    match pal_engine::services::project::load_policy_with(&root().join(path), &policies) {
        Ok((_, p, _)) => p,
        Err((_, diags)) => panic!("{path} does not load: {diags:?}"),
    }
}

fn read(policy: &Policy, bytes: &[u8], name: &str, format: InputFormat) -> EventSet {
    let opts = ReadOptions {
        schema: &policy.schema,
        as_at: None,
        strict: false,
        mapping: None,
    };
    match read_events(bytes, name, format, &opts) {
        Ok(set) => set,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn extracts(policy: &Policy) -> Vec<EventSet> {
    let opts = SynthOptions {
        pathways: 80,
        seed: 11,
        ..SynthOptions::default()
    };
    let mut bytes = Vec::new();
    if let Err(e) = generate(&opts, SynthFormat::Csv, &mut bytes) {
        panic!("synth: {e}");
    }
    vec![read(policy, &bytes, "synthetic.csv", InputFormat::Csv)]
}

/// Every consideration of every rule: compiled `held` equals "every part is true".
fn agree(path: &str) -> usize {
    let policy = load(path);
    let ev = Evaluator::new(&policy);
    let as_at = NaiveDate::from_ymd_opt(2025, 3, 1).expect("a valid date");
    let mut considered = 0;
    let mut held = 0;
    for set in extracts(&policy) {
        for p in &set.pathways {
            for (r, rule) in policy.rules.iter().enumerate() {
                if rule.when.is_none() {
                    continue;
                }
                for c in ev.considerations(r as u32, &p.events, &[], as_at) {
                    let all_true = c.conjuncts.iter().all(|(_, v)| v == "true");
                    assert_eq!(
                        c.held, all_true,
                        "{path}: rule `{}` on pathway {} at {} ({}): compiled {} but the parts are {:?}",
                        rule.name, p.id, c.date, c.event, c.held, c.conjuncts
                    );
                    considered += 1;
                    held += usize::from(c.held);
                }
            }
        }
    }
    // Not vacuous: conditions were considered, and both held and failed.
    assert!(
        held > 100 && considered - held > 100,
        "{held} of {considered}"
    );
    considered
}

#[test]
fn compiled_conditions_agree_with_the_tree_walker_on_the_trust_policy() {
    assert!(agree("policies/rde.pal") > 500);
}

#[test]
fn compiled_conditions_agree_with_the_tree_walker_on_the_national_rules() {
    assert!(agree("policies/national.pal") > 500);
}
