//! pal-peers: the per-pathway checks of rde.pal in peer engines (Rego with regorus, CEL with
//! `cel`, Cedar with `cedar-policy`), checked for agreement with PAL's own outcomes, then
//! timed against PAL's interpreter running the full policy on the same pathways.
//!
//! See README.md for what is checked and how each engine is driven.

mod agree;
mod cedar;
mod cel_checks;
mod checks;
mod data;
mod pal_ref;
mod rego;
mod table;

use chrono::NaiveDate;
use clap::Parser;
use pal_engine::runtime::eval::Evaluator;
use pal_engine::io::events::{read_events, InputFormat, PathwayEvents, ReadOptions};
use pal_engine::model::ir::Policy;
use pal_cli::measure::thousands;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Peer-engine benchmarks: the same per-pathway checks in PAL, Rego, CEL and Cedar.
#[derive(Parser, Debug)]
#[command(name = "pal-peers")]
struct Args {
    /// Pathway events (CSV or JSON Lines, as `pal run` reads them).
    #[arg(long)]
    events: PathBuf,
    /// The report date: later rows are not evaluated.
    #[arg(long)]
    as_at: NaiveDate,
    /// Evaluate only the first N pathways (0: all). The peers are slow; PAL is timed on the same ones.
    #[arg(long, default_value_t = 2000)]
    pathways_limit: usize,
    /// Timed repetitions after one warm-up.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Print one JSON object on standard output.
    #[arg(long)]
    json: bool,
    /// The policy (default: policies/rde.pal of the main project).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Print one pathway's Rego input and every engine's fired list, then stop (no timing).
    #[arg(long, value_name = "PATHWAY_ID")]
    show: Option<String>,
}

fn default_policy() -> PathBuf {
    let here = PathBuf::from("policies/rde.pal");
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/rde.pal")
}

/// One engine's timings.
struct Timed {
    name: String,
    checks: String,
    samples: Vec<Duration>,
}

impl Timed {
    fn sorted(&self) -> Vec<u128> {
        let mut s: Vec<u128> = self.samples.iter().map(Duration::as_nanos).collect();
        s.sort_unstable();
        s
    }

    fn median_ns(&self) -> f64 {
        let s = self.sorted();
        match s.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => s[n / 2] as f64,
            n => (s[n / 2 - 1] + s[n / 2]) as f64 / 2.0,
        }
    }

    fn min_ns(&self) -> u128 {
        self.sorted().first().copied().unwrap_or(0)
    }

    fn max_ns(&self) -> u128 {
        self.sorted().last().copied().unwrap_or(0)
    }
}

/// Warms up once, then times `reps` runs of `f` (which returns a count that is kept, so the
/// work cannot be optimised away).
fn time(
    reps: usize,
    mut f: impl FnMut() -> Result<usize, String>,
) -> Result<Vec<Duration>, String> {
    black_box(f()?);
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        let n = f()?;
        samples.push(t.elapsed());
        black_box(n);
    }
    Ok(samples)
}

/// `println!` into a String.
macro_rules! outln {
    ($out:ident) => {
        $out.push('\n')
    };
    ($out:ident, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

/// Loads and checks a policy.
pub(crate) fn load(path: &Path) -> Result<Policy, String> {
    load_with(path, &[])
}

/// [`load`], the policy also reading files under the `policy_path` folders.
pub(crate) fn load_with(path: &Path, policy_path: &[std::path::PathBuf]) -> Result<Policy, String> {
    match pal_engine::services::project::load_policy_with(path, policy_path) {
        Ok((_, policy, _)) => Ok(policy),
        Err((_, diags)) => Err(format!(
            "cannot load `{}`: {}",
            path.display(),
            diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

fn read(path: &Path, policy: &Policy, as_at: NaiveDate) -> Result<Vec<PathwayEvents>, String> {
    let format = InputFormat::from_path(path).unwrap_or(InputFormat::Csv);
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let opts = ReadOptions {
        schema: &policy.schema,
        mapping: None,
        as_at: Some(as_at),
        strict: false,
    };
    let set = read_events(
        std::io::BufReader::with_capacity(1 << 20, file),
        &path.display().to_string(),
        format,
        &opts,
    )
    .map_err(|e| e.to_string())?;
    if !set.rejected.is_empty() {
        eprintln!(
            "pal-peers: {} rejected rows ignored (first: {})",
            set.rejected.len(),
            set.rejected[0]
        );
    }
    // Every engine sees a pathway's events in the order PAL applies them: by date, then the
    // policies' `same_day_order` (a cancellation before the rebooking made the same day), then
    // input order.
    let mut pathways = set.pathways;
    for p in &mut pathways {
        p.events.sort_by_key(|e| policy.schema.same_day.key(e));
    }
    Ok(pathways)
}

/// The directory of scenario tests next to the policy (`policies/rde/` for `policies/rde.pal`).
fn tests_dir(policy: &Path) -> Option<PathBuf> {
    let dir = policy.with_extension("");
    dir.is_dir().then_some(dir)
}

fn run(args: &Args) -> Result<String, String> {
    let mut out = String::new();
    if args.reps == 0 {
        return Err("--reps must be at least 1".into());
    }
    let policy_path = args.policy.clone().unwrap_or_else(default_policy);
    let policy = load(&policy_path)?;
    let set = checks::classify(&policy)?;
    let names = set.names();
    let params = data::params(&policy.params, &policy.schema)?;
    let all = read(&args.events, &policy, args.as_at)?;
    let n = if args.pathways_limit == 0 {
        all.len()
    } else {
        args.pathways_limit.min(all.len())
    };
    let pathways = &all[..n];
    let events: usize = pathways.iter().map(|p| p.events.len()).sum();
    let mut engines = agree::Engines::new(&set, &policy, params)?;
    let ev = Evaluator::new(&policy);
    let neutral = pathways
        .iter()
        .map(|p| data::pathway(p, &policy, &[]))
        .collect::<Result<Vec<_>, _>>()?;

    if let Some(id) = &args.show {
        let k = pathways
            .iter()
            .position(|p| p.id == *id)
            .ok_or_else(|| format!("no pathway `{id}` among the first {n}"))?;
        let input = rego::input(&neutral[k])?
            .to_json_str()
            .map_err(|e| format!("rego input: {e}"))?;
        let want = pal_ref::fired(&ev, &policy, &names, &pathways[k], &[], args.as_at)?;
        outln!(out, "rego input: {input}\nPAL: {}", agree::show(&want));
        for (engine, list) in agree::NAMES.iter().zip(engines.fired(&neutral[k])?) {
            outln!(out, "{engine}: {}", agree::show(&list));
        }
        return Ok(out);
    }

    // ---- agreement: every engine's fired list equals PAL's, on every pathway and test
    let tests = match tests_dir(&policy_path) {
        Some(dir) => Some((dir.clone(), agree::policy_tests(&dir, &names)?)),
        None => None,
    };
    let mut fired_total = 0usize;
    let mut per_rule: agree::PerRule = names.iter().map(|n| (n.clone(), 0)).collect();
    for (k, p) in pathways.iter().enumerate() {
        let want = pal_ref::fired(&ev, &policy, &names, p, &[], args.as_at)?;
        let got = engines.fired(&neutral[k])?;
        agree::compare(&format!("pathway {} ({} of {n})", p.id, k + 1), &want, &got)?;
        fired_total += want.len();
        for (_, r, _) in &want {
            if let Some(c) = per_rule.get_mut(r) {
                *c += 1;
            }
        }
    }

    // ---- every engine's input, built before timing
    let rego_inputs = neutral
        .iter()
        .map(rego::input)
        .collect::<Result<Vec<_>, _>>()?;
    let cel_inputs = neutral
        .iter()
        .map(cel_checks::pathway)
        .collect::<Result<Vec<_>, _>>()?;
    let cedar_inputs = neutral
        .iter()
        .map(|p| {
            engines
                .cedar
                .pathway(p, &engines.params, &engines.event_names)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let kinds: Vec<Vec<usize>> = neutral
        .iter()
        .map(|p| p.events.iter().map(|e| e.kind).collect())
        .collect();

    // ---- timing, one thread, the same pathways for every engine
    let checks_text = set.summary();
    let agreed = agree::NAMES.join(", ");
    let mut timed = Vec::new();
    timed.push(Timed {
        name: "PAL interpreter (full rde policy)".into(),
        checks: format!(
            "all {} rules, exceptions and timers of the policy, with clocks and obligations",
            policy.rules.iter().filter(|r| r.disabled.is_none()).count()
        ),
        samples: time(args.reps, || {
            let mut n = 0;
            for p in pathways {
                n += ev
                    .run(&p.id, &p.events, &[], args.as_at, false)
                    .outcomes
                    .len();
            }
            Ok(n)
        })?,
    });
    // PAL doing exactly the checks the peers do: the same policy with every other rule,
    // exception and timer disabled. Its outcomes must be the full policy's for those checks.
    let mut subset = policy.clone();
    for r in subset.rules.iter_mut() {
        if !names.contains(&r.name) && r.disabled.is_none() {
            r.disabled = Some("not one of the peer checks".into());
        }
    }
    let ev_subset = Evaluator::new(&subset);
    for p in pathways {
        let full: Vec<_> = ev
            .run(&p.id, &p.events, &[], args.as_at, false)
            .outcomes
            .into_iter()
            .filter(|o| names.contains(o.rule.as_str()))
            .collect();
        let only = ev_subset.run(&p.id, &p.events, &[], args.as_at, false).outcomes;
        if full != only {
            return Err(format!(
                "pathway {}: PAL with only the checked rules gives other outcomes ({only:?}) than the full policy ({full:?})",
                p.id
            ));
        }
    }
    timed.push(Timed {
        name: "PAL interpreter (the same checks)".into(),
        checks: format!("{checks_text}; every other rule of the policy disabled; agrees with the full policy on {n} pathways"),
        samples: time(args.reps, || {
            let mut n = 0;
            for p in pathways {
                n += ev_subset
                    .run(&p.id, &p.events, &[], args.as_at, false)
                    .outcomes
                    .len();
            }
            Ok(n)
        })?,
    });
    let agreed_suffix = format!("agrees with PAL on {n} pathways");
    let engines_ref = &mut engines;
    timed.push(Timed {
        name: "regorus (Rego, interpreter)".into(),
        checks: format!("{checks_text}; Rego computes every history query; {agreed_suffix}"),
        samples: time(args.reps, || {
            let mut n = 0;
            for input in &rego_inputs {
                n += rego::size(&rego::eval(&mut engines_ref.rego, input)?);
            }
            Ok(n)
        })?,
    });
    timed.push(Timed {
        name: "regorus (Rego, RVM)".into(),
        checks: format!("{checks_text}; Rego computes every history query; {agreed_suffix}"),
        samples: time(args.reps, || {
            let mut n = 0;
            for input in &rego_inputs {
                n += rego::size(&rego::eval_vm(&mut engines_ref.vm, input)?);
            }
            Ok(n)
        })?,
    });
    let engines = &engines;
    timed.push(Timed {
        name: "cel (CEL)".into(),
        checks: format!(
            "{checks_text}; CEL computes every history query; the harness dispatches on the event type and applies exceptions; {agreed_suffix}"
        ),
        samples: time(args.reps, || {
            let mut out = Vec::new();
            let mut n = 0;
            for p in &cel_inputs {
                out.clear();
                engines.cel.eval(&engines.table, p, &mut out)?;
                n += out.len();
            }
            Ok(n)
        })?,
    });
    timed.push(Timed {
        name: "cedar-policy (Cedar)".into(),
        checks: format!(
            "{checks_text}; the harness precomputes the history queries (untimed), dispatches on the event type and applies exceptions; {agreed_suffix}"
        ),
        samples: time(args.reps, || {
            let mut out = Vec::new();
            let mut n = 0;
            for (k, p) in cedar_inputs.iter().enumerate() {
                out.clear();
                engines.cedar.eval(&engines.table, &kinds[k], p, &mut out)?;
                n += out.len();
            }
            Ok(n)
        })?,
    });

    let pal_ns = timed.first().map(Timed::median_ns).unwrap_or(f64::NAN);
    let same_ns = timed.get(1).map(Timed::median_ns).unwrap_or(f64::NAN);
    let per = |t: &Timed| t.median_ns() / n.max(1) as f64;
    let eps = |t: &Timed| events as f64 / (t.median_ns() / 1e9);
    let untimed = format!(
        "reading and grouping the events; converting them to each engine's input values; loading and compiling the policies; for Cedar also the history queries ({})",
        cedar::AGGREGATES
    );
    if args.json {
        let engines_json: Vec<serde_json::Value> = timed
            .iter()
            .map(|t| {
                serde_json::json!({
                    "name": t.name,
                    "median_ns": t.median_ns(),
                    "min_ns": t.min_ns() as f64,
                    "max_ns": t.max_ns() as f64,
                    "ns_per_pathway": per(t),
                    "events_per_s": eps(t),
                    "checks": t.checks,
                    "vs_pal": t.median_ns() / pal_ns,
                    "vs_pal_same_checks": t.median_ns() / same_ns,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "pathways": n,
            "pathways_in_file": all.len(),
            "events": events,
            "as_at": args.as_at.to_string(),
            "policy": policy_path.display().to_string(),
            "reps": args.reps,
            "threads": 1,
            "checks": checks_text,
            "rules": set.rules.iter().map(|r| {
                let mut xs = std::collections::BTreeSet::new();
                r.check.names(&mut xs);
                xs.remove(&r.check.name);
                serde_json::json!({"rule": r.check.name, "on": r.event_name, "exceptions": xs})
            }).collect::<Vec<_>>(),
            "excluded": set.excluded.iter().map(|(r, why)| serde_json::json!({"rule": r, "why": why})).collect::<Vec<_>>(),
            "agreement": {
                "engines": agree::NAMES,
                "pathways": n,
                "fired": fired_total,
                "per_rule": per_rule,
                "policy_tests": tests.as_ref().map(|(dir, t)| serde_json::json!({
                    "dir": dir.display().to_string(), "tests": t.tests, "per_rule": t.per_rule,
                })),
            },
            "untimed": untimed,
            "engines": engines_json,
        });
        outln!(out, "{doc}");
        return Ok(out);
    }
    outln!(
        out,
        "pal-peers: {} of {} pathways ({} events), as at {}, {} reps after a warm-up, 1 thread",
        thousands(n as u64),
        thousands(all.len() as u64),
        thousands(events as u64),
        args.as_at,
        args.reps
    );
    outln!(out, "checks: {checks_text} of {}:", policy_path.display());
    for r in &set.rules {
        let mut xs = std::collections::BTreeSet::new();
        r.check.names(&mut xs);
        xs.remove(&r.check.name);
        let xs: Vec<String> = xs.into_iter().collect();
        outln!(
            out,
            "  on {:<27} {}{}",
            r.event_name,
            r.check.name,
            if xs.is_empty() {
                String::new()
            } else {
                format!(" (+ {})", xs.join(", "))
            }
        );
    }
    for (r, why) in &set.excluded {
        outln!(out, "  left out: {r}: {why}");
    }
    outln!(
        out,
        "agreement: {agreed} give PAL's outcomes on all {} pathways ({} fired){}",
        thousands(n as u64),
        thousands(fired_total as u64),
        match &tests {
            Some((dir, t)) => format!(
                " and on the {} scenario tests of {}",
                t.tests,
                dir.display()
            ),
            None => String::new(),
        }
    );
    outln!(
        out,
        "  fired per rule or exception: pathways{}",
        if tests.is_some() {
            " / scenario tests"
        } else {
            ""
        }
    );
    for (r, c) in &per_rule {
        match tests.as_ref().and_then(|(_, t)| t.per_rule.get(r)) {
            Some(t) => outln!(out, "    {r:<36} {c:>7} / {t}"),
            None => outln!(out, "    {r:<36} {c:>7}"),
        }
    }
    outln!(out, "untimed: {}", untimed.replace("; ", ";\n  "));
    outln!(out);
    outln!(
        out,
        "{:<36} {:>10} {:>10} {:>10} {:>12} {:>12} {:>9} {:>11}",
        "engine",
        "median ms",
        "min ms",
        "max ms",
        "ns/pathway",
        "events/s",
        "vs PAL",
        "vs same"
    );
    for t in &timed {
        outln!(
            out,
            "{:<36} {:>10.2} {:>10.2} {:>10.2} {:>12.0} {:>12.0} {:>8.1}× {:>10.1}×",
            t.name,
            t.median_ns() / 1e6,
            t.min_ns() as f64 / 1e6,
            t.max_ns() as f64 / 1e6,
            per(t),
            eps(t),
            t.median_ns() / pal_ns,
            t.median_ns() / same_ns
        );
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(text) => {
            use std::io::Write;
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pal-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rde() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/rde.pal")
    }

    fn ok<T>(r: Result<T, String>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_clock_dependent_rule_is_left_out_and_the_rest_kept() {
        let policy = ok(load(&rde()));
        let set = ok(checks::classify(&policy));
        assert_eq!(set.rules.len(), checks::CANDIDATES.len() - 1);
        let [(rule, why)] = set.excluded.as_slice() else {
            panic!("expected one exclusion: {:?}", set.excluded)
        };
        assert_eq!(rule, "short_notice_offer_declined");
        assert!(why.contains("cancer_short_notice_admission") && why.contains("cancer_62.open"));
    }

    #[test]
    fn every_engine_agrees_with_pal_on_the_policy_scenario_tests() {
        let policy = ok(load(&rde()));
        let names = ok(checks::classify(&policy)).names();
        let dir = tests_dir(&rde()).unwrap_or_else(|| panic!("no policies/rde/"));
        let t = ok(agree::policy_tests(&dir, &names));
        assert!(t.tests >= 100, "{} tests", t.tests);
        let never: Vec<_> = t.per_rule.iter().filter(|(_, c)| **c == 0).collect();
        assert!(never.is_empty(), "checks no test makes fire: {never:?}");
    }

    #[test]
    fn every_check_has_a_cel_expression_with_definitions_expanded() {
        let exprs = ok(cel_checks::parse(cel_checks::SOURCE));
        let policy = ok(load(&rde()));
        let names = ok(checks::classify(&policy)).names();
        for n in &names {
            let (_, e) = exprs
                .iter()
                .find(|(name, _)| name == n)
                .unwrap_or_else(|| panic!("no CEL expression for {n}"));
            assert!(!e.contains('@'), "{n}: {e}");
        }
    }

    #[test]
    fn a_disagreement_names_the_pathway_the_engine_and_both_lists() {
        let pal = vec![(
            3,
            "uncommunicated_dna_rebook".to_string(),
            "rebook".to_string(),
        )];
        let wrong = [pal.clone(), Vec::new(), pal.clone(), pal.clone()];
        let e = agree::compare("pathway P1", &pal, &wrong)
            .err()
            .unwrap_or_default();
        assert!(e.contains("pathway P1"), "{e}");
        assert!(e.contains("regorus (RVM): (nothing)"), "{e}");
        assert!(
            e.contains("PAL: event 3: uncommunicated_dna_rebook → rebook"),
            "{e}"
        );
        assert!(agree::compare(
            "pathway P1",
            &pal,
            &[pal.clone(), pal.clone(), pal.clone(), pal.clone()]
        )
        .is_ok());
    }

    #[test]
    fn the_yyyymmdd_age_test_is_pals_age() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        let births = [
            d(2000, 2, 29),
            d(2007, 3, 1),
            d(2006, 12, 31),
            d(2007, 1, 1),
            d(2030, 6, 1),
        ];
        let mut on = d(2023, 1, 1);
        while on <= d(2026, 12, 31) {
            for b in births {
                let pal = pal_engine::model::calendar::age_in_years(b, on) < 18;
                let peers = data::ymd(on) - data::ymd(b) < 18 * 10000;
                assert_eq!(pal, peers, "born {b}, on {on}");
            }
            on = on.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }
}
