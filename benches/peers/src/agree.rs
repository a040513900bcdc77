//! Agreement: every peer engine's fired list must equal PAL's, pathway by pathway, before
//! anything is timed. Besides the benchmark's pathways, the policy's own scenario tests
//! (`policies/rde/tests_*.pal`, which make every rule fire) are run through every engine, with
//! their `pathway { … }` attributes and `set` parameter overrides.

use crate::cedar::CedarChecks;
use crate::cel_checks::{self, CelChecks};
use crate::checks::{classify, CheckSet};
use crate::data::{self, Params, Pw};
use crate::pal_ref::{self, Fired};
use crate::rego;
use crate::table::Table;
use pal_engine::runtime::eval::Evaluator;
use pal_engine::io::events::PathwayEvents;
use pal_engine::model::ir::Policy;
use regorus::rvm::vm::RegoVM;
use regorus::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The peer engines, loaded with the checks and one set of parameter values.
pub struct Engines {
    /// The checks as nodes.
    pub table: Table,
    /// Event type names by id.
    pub event_names: Vec<String>,
    /// The parameter values.
    pub params: Params,
    /// regorus's interpreter.
    pub rego: Engine,
    /// regorus's VM.
    pub vm: RegoVM,
    /// CEL.
    pub cel: CelChecks,
    /// Cedar.
    pub cedar: CedarChecks,
}

/// The engines' names as reported.
pub const NAMES: [&str; 4] = [
    "regorus (interpreter)",
    "regorus (RVM)",
    "cel",
    "cedar-policy",
];

impl Engines {
    /// Loads every engine.
    pub fn new(set: &CheckSet, policy: &Policy, params: Params) -> Result<Engines, String> {
        let event_names: Vec<String> = policy
            .schema
            .events
            .iter()
            .map(|e| e.name.clone())
            .collect();
        let table = Table::new(set, event_names.len());
        Ok(Engines {
            rego: rego::engine(&params)?,
            vm: rego::vm(&params)?,
            cel: CelChecks::new(&table, &params)?,
            cedar: CedarChecks::new(&table, &event_names)?,
            table,
            event_names,
            params,
        })
    }

    /// Every engine's fired list for one pathway (inputs built on the spot), in [`NAMES`] order.
    pub fn fired(&mut self, p: &Pw) -> Result<[Vec<Fired>; 4], String> {
        let input = rego::input(p)?;
        let interp = rego::fired(&rego::eval(&mut self.rego, &input)?)?;
        let vm = rego::fired(&rego::eval_vm(&mut self.vm, &input)?)?;
        let mut out = Vec::new();
        self.cel
            .eval(&self.table, &cel_checks::pathway(p)?, &mut out)?;
        let cel = self.table.fired(&out);
        out.clear();
        let kinds: Vec<usize> = p.events.iter().map(|e| e.kind).collect();
        let requests = self.cedar.pathway(p, &self.params, &self.event_names)?;
        self.cedar.eval(&self.table, &kinds, &requests, &mut out)?;
        let cedar = self.table.fired(&out);
        Ok([interp, vm, cel, cedar])
    }
}

/// A fired list, readably.
pub fn show(list: &[Fired]) -> String {
    if list.is_empty() {
        return "(nothing)".into();
    }
    list.iter()
        .map(|(i, r, o)| format!("event {i}: {r} → {o}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Compares every engine with PAL; the first difference is an error naming `what`.
pub fn compare(what: &str, want: &[Fired], got: &[Vec<Fired>; 4]) -> Result<(), String> {
    for (engine, list) in NAMES.iter().zip(got) {
        if list != want {
            return Err(format!(
                "disagreement on {what}:\n  PAL: {}\n  {engine}: {}",
                show(want),
                show(list)
            ));
        }
    }
    Ok(())
}

/// Counts of fired checks by rule or exception name.
pub type PerRule = BTreeMap<String, usize>;

/// What the scenario tests showed.
#[derive(Debug, Default)]
pub struct TestsAgreement {
    /// Scenario tests run through every engine.
    pub tests: usize,
    /// Test files read.
    pub files: usize,
    /// Checks fired, by name.
    pub per_rule: PerRule,
}

/// Runs the scenario tests of the `*.pal` files in `dir` (policies that extend the benchmarked
/// one) through PAL and every engine.
pub fn policy_tests(dir: &Path, names: &BTreeSet<String>) -> Result<TestsAgreement, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pal"))
        .collect();
    files.sort();
    let mut out = TestsAgreement {
        per_rule: names.iter().map(|n| (n.clone(), 0)).collect(),
        ..TestsAgreement::default()
    };
    for file in files {
        // They import the benchmarked policy from the folder above theirs.
        let above: Vec<std::path::PathBuf> = dir.parent().map(Path::to_path_buf).into_iter().collect();
        let policy = crate::load_with(&file, &above)?;
        let set = classify(&policy)?;
        if set.names() != *names {
            return Err(format!(
                "`{}` changes which rules are checked; its tests cannot be compared",
                file.display()
            ));
        }
        out.files += 1;
        for case in &policy.tests {
            let mut ev = Evaluator::new(&policy);
            for (p, initial, dated) in &case.sets {
                ev.set_param(*p, initial.clone(), dated.clone());
            }
            let as_at = case
                .as_at
                .or_else(|| case.events.iter().map(|e| e.date).max())
                .unwrap_or(chrono::NaiveDate::MIN);
            let mut events: Vec<_> = case
                .events
                .iter()
                .filter(|e| e.date <= as_at)
                .cloned()
                .collect();
            events.sort_by_key(|e| policy.schema.same_day.key(e));
            let pe = PathwayEvents {
                id: case.name.clone(),
                events,
            };
            let want = pal_ref::fired(&ev, &policy, names, &pe, &case.attributes, as_at)?;
            let params = data::params(ev.params(), &policy.schema)?;
            let mut engines = Engines::new(&set, &policy, params)?;
            let pw = data::pathway(&pe, &policy, &case.attributes)?;
            let got = engines.fired(&pw)?;
            compare(
                &format!("test \"{}\" of {}", case.name, file.display()),
                &want,
                &got,
            )?;
            out.tests += 1;
            for (_, r, _) in &want {
                if let Some(c) = out.per_rule.get_mut(r) {
                    *c += 1;
                }
            }
        }
    }
    Ok(out)
}
