#![cfg(test)]
//! Unit tests of the evaluator, data-driven: each case is a small self-contained policy, a
//! pathway's events as REPL-style text (`2025-01-06 referral { child: true }`), an as-at date
//! and the whole expected result in a compact text form (one line per clock period, outcome,
//! obligation, conflict and warning). The front end compiles the policy and the events, as
//! `pal test` and the REPL do; a failure shows the case and the whole actual result.

use super::{Evaluator, PathwayResult};
use crate::base::source::SourceMap;
use crate::base::value::Value;
use crate::front::check::check;
use crate::front::check::repl::{check_step, ReplItem};
use crate::front::loader::load_text;
use crate::model::event::Event;
use crate::model::ir::Policy;
use crate::syntax::{parse_repl_line, ReplLine};
use chrono::NaiveDate;
use std::fmt::Write;
use std::path::Path;

/// One case: a policy, the pathway's events (and `pathway { … }` attribute lines), the as-at
/// date and the expected result, as [`render`] writes it.
struct Case {
    name: &'static str,
    policy: &'static str,
    events: &'static [&'static str],
    as_at: &'static str,
    expect: &'static str,
}

/// Compiles a policy from text; panics with its errors if it does not compile.
fn compile(text: &str) -> (Policy, SourceMap) {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let loaded = load_text("case.pal", text, Path::new(""), &mut sources, &mut diags);
    let checked = check(&loaded, &sources);
    diags.extend(checked.diagnostics);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect();
    match checked.policy {
        Some(p) if errors.is_empty() => (p, sources),
        _ => panic!(
            "policy does not compile:\n{text}\nerrors:\n{}",
            errors.join("\n")
        ),
    }
}

/// The events and initial attributes written as REPL steps, checked against the policy.
fn pathway(
    policy: &Policy,
    sources: &SourceMap,
    lines: &[&str],
) -> (Vec<Event>, Vec<(u16, Value)>) {
    let mut events = Vec::new();
    let mut attributes = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let mut sources = sources.clone();
        let file = sources.add(format!("<event {}>", i + 1), *text);
        let step = match parse_repl_line(file, text) {
            Ok(ReplLine::Step(step)) => step,
            Ok(_) => panic!("`{text}` is not an event or `pathway {{ … }}`"),
            Err(d) => panic!("`{text}` does not parse: {}", d.message),
        };
        match check_step(policy, &sources, &step, i as u32) {
            Ok(ReplItem::Event(mut e, _)) => {
                e.line = i as u32 + 1;
                events.push(e);
            }
            Ok(ReplItem::Attributes(a)) => attributes.extend(a),
            Ok(_) => panic!("`{text}` is not an event or `pathway {{ … }}`"),
            Err(diags) => panic!(
                "`{text}` does not check: {}",
                diags
                    .iter()
                    .map(|d| d.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
    (events, attributes)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad date `{s}`: {e}"))
}

/// The result in compact text, one line per item:
///
/// ```text
/// rtt#1 stopped 2025-01-06..2025-03-01 reason treated waited 54d
/// rtt#2 running 2025-03-10.. waited 3d paused 2d (target 2025-07-16)
/// outcome discharge 2025-02-01 [nullify_on_dna]
/// obligation booked created 2025-01-06 due 2025-01-20 missed met 2025-01-21 [book]
/// conflict 2025-02-01 treated on rtt: stop_on_treatment, pause_admitted
/// warning 2025-01-13 [start_clock] clock `rtt` is already running since 2025-01-06; …
/// ```
fn render(r: &PathwayResult) -> String {
    let mut out = String::new();
    for p in &r.clocks {
        let stop = p.stop.map(|d| d.to_string()).unwrap_or_default();
        let _ = write!(
            out,
            "{}#{} {} {}..{stop}",
            p.clock, p.period, p.status, p.start
        );
        if let Some(reason) = &p.reason {
            let _ = write!(out, " reason {reason}");
        }
        if let Some(d) = p.days_waited {
            let _ = write!(out, " waited {d}d");
        }
        if p.paused_days > 0 {
            let _ = write!(out, " paused {}d (target {})", p.paused_days, p.target_date);
        }
        if p.breached {
            out.push_str(" breached");
        }
        out.push('\n');
    }
    for o in &r.outcomes {
        let _ = writeln!(out, "outcome {} {} [{}]", o.outcome, o.date, o.rule);
    }
    for o in &r.obligations {
        let _ = write!(
            out,
            "obligation {} created {} due {} {}",
            o.what, o.created, o.due, o.status
        );
        if let Some(d) = o.met_on {
            let _ = write!(out, " met {d}");
        }
        let _ = writeln!(out, " [{}]", o.rule);
    }
    for c in &r.conflicts {
        let on = if c.clock.is_empty() {
            "exceptions".to_string()
        } else {
            format!("on {}", c.clock)
        };
        let _ = writeln!(
            out,
            "conflict {} {} {on}: {}",
            c.date,
            c.event,
            crate::base::name::join(&c.rules, ", ")
        );
    }
    for w in &r.warnings {
        let rule = w.rule.as_deref().unwrap_or("-");
        let _ = writeln!(out, "warning {} [{rule}] {}", w.date, w.message);
    }
    out
}

/// Trims each line and drops blank ones, so expectations can be indented raw strings.
fn normalize(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Runs one case; `Err` is the failure message, with the whole actual result.
fn run_case(case: &Case) -> Result<(), String> {
    let (policy, sources) = compile(case.policy);
    let (events, attributes) = pathway(&policy, &sources, case.events);
    let result = Evaluator::new(&policy).run("case", &events, &attributes, date(case.as_at), false);
    let actual = render(&result);
    let expected = normalize(case.expect);
    if actual == expected {
        return Ok(());
    }
    Err(format!(
        "case `{}` failed\nevents (as at {}):\n  {}\nexpected:\n{}actual:\n{}",
        case.name,
        case.as_at,
        case.events.join("\n  "),
        indent(&expected),
        indent(&actual),
    ))
}

fn indent(s: &str) -> String {
    if s.is_empty() {
        return "  (nothing)\n".into();
    }
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// Runs one case and panics with its failure (for cases outside the table).
fn check_case(case: &Case) {
    if let Err(e) = run_case(case) {
        panic!("{e}");
    }
}

// ------------------------------------------------------------------ policies

/// Starting, stopping, nullifying, resetting and pausing one clock.
const CLOCKS: &str = r#"
pathway { child: Bool = false }
event referral { ..pathway }
event treated
event dna
event transfer { original_start: Date }
event unavailable
event available
clock rtt "referral to treatment" { target 18 weeks }

rule start_clock on referral { start rtt }
rule stop_on_treatment on treated when rtt.open { stop rtt reason treated }
rule nullify_on_dna on dna when rtt.open { nullify rtt reason dna_first }
rule reset_on_transfer on transfer { reset rtt to event.original_start }
rule pause_when_unavailable on unavailable { pause rtt }
rule resume_when_available on available { resume rtt }
"#;

/// A timer armed by a referral, cancelled by a booking.
const TIMERS: &str = r#"
event referral
event booked
event cancelled
clock rtt "referral to treatment" { target 18 weeks }

rule start_clock on referral when not rtt.open { start rtt }
rule chase "no booking 14 days after the referral"
  after 14 days from referral unless booked or cancelled
  when rtt.open
{ stop rtt reason not_booked; outcome chase; outcome chased_referral on event.date }
"#;

/// An obligation created by a referral, met by a booking; a first booking requires a
/// follow-up booking (`by … where`).
const OBLIGATIONS: &str = r#"
event referral
event booked { first: Bool = true }
clock rtt "referral to treatment" { target 18 weeks }

rule book on referral { start rtt; require booked within 14 days }
rule follow_up on booked when event.first {
  require follow_up_booked within 3 days by booked where not booked.first
}
"#;

/// A rule with exceptions, one of which has an exception of its own.
const EXCEPTIONS: &str = r#"
pathway { child: Bool = false, vulnerable: Bool = false, infant: Bool = false }
event referral { ..pathway }
event transfer
event dna
clock rtt "referral to treatment" { target 18 weeks }

rule start_clock on referral or transfer when not rtt.open { start rtt }
rule nullify_on_dna on dna when rtt.open { nullify rtt reason dna_first; outcome discharge }
exception child_dna to nullify_on_dna when pathway.child { reset rtt to event.date; outcome rebook }
exception vulnerable_dna to nullify_on_dna when pathway.vulnerable { outcome review }
exception infant_dna to child_dna when pathway.infant { }
"#;

/// Two rules that can act on one clock for one event.
const CONFLICTS: &str = r#"
event referral
event treated { admitted: Bool = false }
clock rtt "referral to treatment" { target 18 weeks }
clock follow_up "treatment to follow-up" { target 6 weeks }

rule start_clock on referral { start rtt }
rule stop_on_treatment on treated when rtt.open { stop rtt reason treated; outcome treated_noted }
rule note_running on treated when rtt.running { outcome was_running }
rule pause_admitted on treated when event.admitted { pause rtt; start follow_up }
"#;

// ------------------------------------------------------------------ cases

const CASES: &[Case] = &[
    // ---- clocks
    Case {
        name: "a referral starts the clock; open periods wait until the as-at date",
        policy: CLOCKS,
        events: &["2025-01-06 referral"],
        as_at: "2025-02-01",
        expect: "rtt#1 running 2025-01-06.. waited 26d",
    },
    Case {
        name: "treatment stops the clock; the wait ends at the stop",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-03-01 treated"],
        as_at: "2025-06-01",
        expect: "rtt#1 stopped 2025-01-06..2025-03-01 reason treated waited 54d",
    },
    Case {
        name: "a wait of exactly 126 days is within the standard",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-05-12 treated"],
        as_at: "2025-06-01",
        expect: "rtt#1 stopped 2025-01-06..2025-05-12 reason treated waited 126d",
    },
    Case {
        name: "an open wait of 127 days is breached",
        policy: CLOCKS,
        events: &["2025-01-06 referral"],
        as_at: "2025-05-13",
        expect: "rtt#1 running 2025-01-06.. waited 127d breached",
    },
    Case {
        name: "a DNA nullifies the clock: no days waited",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-02-01 dna"],
        as_at: "2025-03-01",
        expect: "rtt#1 nullified 2025-01-06..2025-02-01 reason dna_first",
    },
    Case {
        name: "a reset moves the open period's start to the date given",
        policy: CLOCKS,
        events: &[
            "2025-01-06 referral",
            "2025-01-20 transfer { original_start: 2024-12-02 }",
        ],
        as_at: "2025-02-01",
        expect: "rtt#1 running 2024-12-02.. waited 61d",
    },
    Case {
        name: "a reset with no running clock warns and does nothing",
        policy: CLOCKS,
        events: &["2025-01-20 transfer { original_start: 2024-12-02 }"],
        as_at: "2025-02-01",
        expect: "warning 2025-01-20 [reset_on_transfer] `reset rtt` with no running clock",
    },
    Case {
        name: "days between pause and resume are excluded and move the target date",
        policy: CLOCKS,
        events: &[
            "2025-01-06 referral",
            "2025-01-10 unavailable",
            "2025-01-17 available",
        ],
        as_at: "2025-02-01",
        expect: "rtt#1 running 2025-01-06.. waited 19d paused 7d (target 2025-05-19)",
    },
    Case {
        name: "a clock paused at the as-at date is paused, its pause counted to the as-at date",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-01-10 unavailable"],
        as_at: "2025-01-20",
        expect: "rtt#1 paused 2025-01-06.. waited 4d paused 10d (target 2025-05-22)",
    },
    Case {
        name: "a stop while paused closes the pause at the stop",
        policy: CLOCKS,
        events: &[
            "2025-01-06 referral",
            "2025-01-10 unavailable",
            "2025-01-20 treated",
        ],
        as_at: "2025-03-01",
        expect: "rtt#1 stopped 2025-01-06..2025-01-20 reason treated waited 4d paused 10d (target 2025-05-22)",
    },
    Case {
        name: "a second pause while paused, and a resume with no pause, are warnings",
        policy: CLOCKS,
        events: &[
            "2025-01-06 referral",
            "2025-01-08 available",
            "2025-01-10 unavailable",
            "2025-01-12 unavailable",
            "2025-01-17 available",
        ],
        as_at: "2025-02-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 19d paused 7d (target 2025-05-19)
            warning 2025-01-08 [resume_when_available] `resume rtt` with no pause
            warning 2025-01-12 [pause_when_unavailable] clock `rtt` is already paused
        ",
    },
    Case {
        name: "a referral after a stop starts a new period",
        policy: CLOCKS,
        events: &[
            "2025-01-06 referral",
            "2025-02-01 treated",
            "2025-03-01 referral",
        ],
        as_at: "2025-03-10",
        expect: "
            rtt#1 stopped 2025-01-06..2025-02-01 reason treated waited 26d
            rtt#2 running 2025-03-01.. waited 9d
        ",
    },
    Case {
        name: "a start while the clock runs warns and keeps the first start",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-01-13 referral"],
        as_at: "2025-02-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 26d
            warning 2025-01-13 [start_clock] clock `rtt` is already running since 2025-01-06; `start` ignored
        ",
    },
    // ---- ordering and the as-at date
    Case {
        name: "same-date events apply in input order: start then stop",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-01-06 treated"],
        as_at: "2025-02-01",
        expect: "rtt#1 stopped 2025-01-06..2025-01-06 reason treated waited 0d",
    },
    Case {
        name: "same-date events apply in input order: a stop before the start finds no clock",
        policy: CLOCKS,
        events: &["2025-01-06 treated", "2025-01-06 referral"],
        as_at: "2025-02-01",
        expect: "rtt#1 running 2025-01-06.. waited 26d",
    },
    Case {
        name: "events are applied in date order whatever the input order",
        policy: CLOCKS,
        events: &["2025-03-01 treated", "2025-01-06 referral"],
        as_at: "2025-06-01",
        expect: "rtt#1 stopped 2025-01-06..2025-03-01 reason treated waited 54d",
    },
    Case {
        name: "events after the as-at date are ignored",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-03-01 treated"],
        as_at: "2025-02-28",
        expect: "rtt#1 running 2025-01-06.. waited 53d",
    },
    Case {
        name: "an event on the as-at date is applied",
        policy: CLOCKS,
        events: &["2025-01-06 referral", "2025-03-01 treated"],
        as_at: "2025-03-01",
        expect: "rtt#1 stopped 2025-01-06..2025-03-01 reason treated waited 54d",
    },
    // ---- timers
    Case {
        name: "a timer armed but not yet due does nothing",
        policy: TIMERS,
        events: &["2025-01-06 referral"],
        as_at: "2025-01-19",
        expect: "rtt#1 running 2025-01-06.. waited 13d",
    },
    Case {
        name: "a timer fires on its due date: `now` is the due date, `event` the arming event",
        policy: TIMERS,
        events: &["2025-01-06 referral"],
        as_at: "2025-01-20",
        expect: "
            rtt#1 stopped 2025-01-06..2025-01-20 reason not_booked waited 14d
            outcome chase 2025-01-20 [chase]
            outcome chased_referral 2025-01-06 [chase]
        ",
    },
    Case {
        name: "a timer fires before a later event, which then cannot cancel it",
        policy: TIMERS,
        events: &["2025-01-06 referral", "2025-02-01 booked"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 stopped 2025-01-06..2025-01-20 reason not_booked waited 14d
            outcome chase 2025-01-20 [chase]
            outcome chased_referral 2025-01-06 [chase]
        ",
    },
    Case {
        name: "an `unless` event before the due date cancels the timer",
        policy: TIMERS,
        events: &["2025-01-06 referral", "2025-01-10 cancelled"],
        as_at: "2025-03-01",
        expect: "rtt#1 running 2025-01-06.. waited 54d",
    },
    Case {
        name: "an `unless` event on the due date still cancels the timer",
        policy: TIMERS,
        events: &["2025-01-06 referral", "2025-01-20 booked"],
        as_at: "2025-03-01",
        expect: "rtt#1 running 2025-01-06.. waited 54d",
    },
    Case {
        name: "a new arming event replaces the pending timer",
        policy: TIMERS,
        events: &["2025-01-06 referral", "2025-01-13 referral"],
        as_at: "2025-01-26",
        expect: "rtt#1 running 2025-01-06.. waited 20d",
    },
    Case {
        name: "a replaced timer fires once, on its new due date",
        policy: TIMERS,
        events: &["2025-01-06 referral", "2025-01-13 referral"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 stopped 2025-01-06..2025-01-27 reason not_booked waited 21d
            outcome chase 2025-01-27 [chase]
            outcome chased_referral 2025-01-13 [chase]
        ",
    },
    // ---- obligations
    Case {
        name: "an obligation met before its due date is met",
        policy: OBLIGATIONS,
        events: &["2025-01-06 referral", "2025-01-15 booked"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 54d
            obligation booked created 2025-01-06 due 2025-01-20 met met 2025-01-15 [book]
            obligation follow_up_booked created 2025-01-15 due 2025-01-18 missed [follow_up]
        ",
    },
    Case {
        name: "an obligation met on its due date is met",
        policy: OBLIGATIONS,
        events: &["2025-01-06 referral", "2025-01-20 booked", "2025-01-21 booked { first: false }"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 54d
            obligation booked created 2025-01-06 due 2025-01-20 met met 2025-01-20 [book]
            obligation follow_up_booked created 2025-01-20 due 2025-01-23 met met 2025-01-21 [follow_up]
        ",
    },
    Case {
        name: "an obligation met late is missed, with the date it was met",
        policy: OBLIGATIONS,
        events: &[
            "2025-01-06 referral",
            "2025-01-21 booked",
            "2025-01-30 booked { first: false }",
        ],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 54d
            obligation booked created 2025-01-06 due 2025-01-20 missed met 2025-01-21 [book]
            obligation follow_up_booked created 2025-01-21 due 2025-01-24 missed met 2025-01-30 [follow_up]
        ",
    },
    Case {
        name: "an obligation not met by the as-at date, due on it, is open",
        policy: OBLIGATIONS,
        events: &["2025-01-06 referral"],
        as_at: "2025-01-20",
        expect: "
            rtt#1 running 2025-01-06.. waited 14d
            obligation booked created 2025-01-06 due 2025-01-20 open [book]
        ",
    },
    Case {
        name: "an obligation not met and due before the as-at date is missed",
        policy: OBLIGATIONS,
        events: &["2025-01-06 referral"],
        as_at: "2025-01-21",
        expect: "
            rtt#1 running 2025-01-06.. waited 15d
            obligation booked created 2025-01-06 due 2025-01-20 missed [book]
        ",
    },
    Case {
        name: "only an event after the one that created the obligation meets it",
        policy: OBLIGATIONS,
        events: &[
            "2025-01-06 booked { first: false }",
            "2025-01-06 referral",
        ],
        as_at: "2025-01-10",
        expect: "
            rtt#1 running 2025-01-06.. waited 4d
            obligation booked created 2025-01-06 due 2025-01-20 open [book]
        ",
    },
    Case {
        name: "`by … where` meets an obligation only with a matching event",
        policy: OBLIGATIONS,
        events: &[
            "2025-01-06 referral",
            "2025-01-07 booked",
            "2025-01-08 booked",
            "2025-01-09 booked { first: false }",
        ],
        as_at: "2025-01-10",
        expect: "
            rtt#1 running 2025-01-06.. waited 4d
            obligation booked created 2025-01-06 due 2025-01-20 met met 2025-01-07 [book]
            obligation follow_up_booked created 2025-01-07 due 2025-01-10 met met 2025-01-09 [follow_up]
            obligation follow_up_booked created 2025-01-08 due 2025-01-11 met met 2025-01-09 [follow_up]
        ",
    },
    // ---- exceptions
    Case {
        name: "with no exception applicable the rule's own actions apply",
        policy: EXCEPTIONS,
        events: &["2025-01-06 referral", "2025-02-01 dna"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 nullified 2025-01-06..2025-02-01 reason dna_first
            outcome discharge 2025-02-01 [nullify_on_dna]
        ",
    },
    Case {
        name: "an applicable exception replaces the rule's actions",
        policy: EXCEPTIONS,
        events: &["2025-01-06 referral { child: true }", "2025-02-01 dna"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-02-01.. waited 28d
            outcome rebook 2025-02-01 [child_dna]
        ",
    },
    Case {
        name: "attributes given as the pathway's initial values reach exceptions too",
        policy: EXCEPTIONS,
        events: &[
            "pathway { vulnerable: true }",
            "2025-01-06 transfer",
            "2025-02-01 dna",
        ],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 54d
            outcome review 2025-02-01 [vulnerable_dna]
        ",
    },
    Case {
        name: "an event carrying the pathway's fields sets them all, defaults included",
        policy: EXCEPTIONS,
        events: &[
            "pathway { vulnerable: true }",
            "2025-01-06 referral",
            "2025-02-01 dna",
        ],
        as_at: "2025-03-01",
        expect: "
            rtt#1 nullified 2025-01-06..2025-02-01 reason dna_first
            outcome discharge 2025-02-01 [nullify_on_dna]
        ",
    },
    Case {
        name: "the deepest applicable exception wins",
        policy: EXCEPTIONS,
        events: &[
            "2025-01-06 referral { child: true, infant: true }",
            "2025-02-01 dna",
        ],
        as_at: "2025-03-01",
        expect: "rtt#1 running 2025-01-06.. waited 54d",
    },
    Case {
        name: "an exception does not apply when its rule's condition is false",
        policy: EXCEPTIONS,
        events: &[
            "pathway { child: true }",
            "2025-01-01 dna",
            "2025-01-06 referral",
        ],
        as_at: "2025-03-01",
        expect: "rtt#1 running 2025-01-06.. waited 54d",
    },
    Case {
        name: "two applicable exceptions of one rule conflict; the rule's own actions apply",
        policy: EXCEPTIONS,
        events: &[
            "2025-01-06 referral { child: true, vulnerable: true }",
            "2025-02-01 dna",
        ],
        as_at: "2025-03-01",
        expect: "
            rtt#1 nullified 2025-01-06..2025-02-01 reason dna_first
            outcome discharge 2025-02-01 [nullify_on_dna]
            conflict 2025-02-01 dna exceptions: child_dna, vulnerable_dna
        ",
    },
    // ---- conflicts
    Case {
        name: "one rule acting on a clock is no conflict; conditions see the state before any action",
        policy: CONFLICTS,
        events: &["2025-01-06 referral", "2025-02-01 treated"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 stopped 2025-01-06..2025-02-01 reason treated waited 26d
            outcome treated_noted 2025-02-01 [stop_on_treatment]
            outcome was_running 2025-02-01 [note_running]
        ",
    },
    Case {
        name: "two rules acting on one clock for one event: a conflict, neither clock action applied",
        policy: CONFLICTS,
        events: &["2025-01-06 referral", "2025-02-01 treated { admitted: true }"],
        as_at: "2025-03-01",
        expect: "
            rtt#1 running 2025-01-06.. waited 54d
            follow_up#1 running 2025-02-01.. waited 28d
            outcome treated_noted 2025-02-01 [stop_on_treatment]
            outcome was_running 2025-02-01 [note_running]
            conflict 2025-02-01 treated on rtt: stop_on_treatment, pause_admitted
        ",
    },
];

/// Every case of the table; the failure lists each failing case with its whole result.
#[test]
fn evaluator_cases() {
    let failures: Vec<String> = CASES.iter().filter_map(|c| run_case(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// The table's case names are unique, so a failure names one case.
#[test]
fn case_names_are_unique() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate case names");
}

/// The runner reports a mismatch with the whole actual result.
#[test]
fn a_wrong_expectation_fails_with_the_actual_result() {
    let case = Case {
        name: "wrong on purpose",
        policy: CLOCKS,
        events: &["2025-01-06 referral"],
        as_at: "2025-02-01",
        expect: "rtt#1 stopped 2025-01-06..2025-02-01 reason treated waited 26d",
    };
    let err = run_case(&case).expect_err("the expectation is wrong");
    assert!(
        err.contains("actual:\n  rtt#1 running 2025-01-06.. waited 26d\n"),
        "{err}"
    );
    check_case(&Case {
        expect: "rtt#1 running 2025-01-06.. waited 26d",
        ..case
    });
}

/// A definition has the value of its body wherever it is used: in an action after an earlier
/// action changed the state, `clock_start` is the moved start, as `rtt.start` is.
#[test]
fn a_definition_in_an_action_sees_the_earlier_actions() {
    check_case(&Case {
        name: "a definition read after a reset is the new start",
        policy: r#"
            event referral
            event transfer { original_start: Date }
            clock rtt "referral to treatment" { target 18 weeks }
            def clock_start "the latest period's start" = rtt.start

            rule start_clock on referral { start rtt }
            rule moved on transfer when clock_start is set and rtt.start is set {
              reset rtt to event.original_start
              outcome start_inline on rtt.start
              outcome start_def on clock_start
            }
        "#,
        events: &[
            "2025-01-06 referral",
            "2025-01-20 transfer { original_start: 2024-12-02 }",
        ],
        as_at: "2025-02-01",
        expect: "
            rtt#1 running 2024-12-02.. waited 61d
            outcome start_inline 2024-12-02 [moved]
            outcome start_def 2024-12-02 [moved]
        ",
    });
}

// ------------------------------------------------------------------ indexed queries

/// History queries of every kind and plan (indexed, keyed by a trigger field, per step,
/// scanned, nested), each the left side of a rule's condition, read with the last event of a
/// prefix as the trigger.
const QUERIES: &str = r#"
event booked { slot: Int }
event dna { slot: Int }
event attended { slot: Int }

rule q_count on booked or dna or attended when (count(booked)) == (count(booked)) { }
rule q_where on booked or dna or attended when (count(booked where booked.slot > 1)) == (count(booked where booked.slot > 1)) { }
rule q_since on booked or dna or attended when (count(booked where booked.slot >= 2 since event.date - 3 days)) == (count(booked where booked.slot >= 2 since event.date - 3 days)) { }
rule q_exists_keyed on booked or dna or attended when (exists(dna where dna.slot == event.slot)) == (exists(dna where dna.slot == event.slot)) { }
rule q_count_keyed on booked or dna or attended when (count(booked where booked.slot == event.slot and booked.slot != 3)) == (count(booked where booked.slot == event.slot and booked.slot != 3)) { }
rule q_count_keyed_since on booked or dna or attended when (count(booked where booked.slot == event.slot since event.date - 5 days)) == (count(booked where booked.slot == event.slot since event.date - 5 days)) { }
rule q_last on booked or dna or attended when (last(booked where booked.slot == 1).date ?? event.date) == (last(booked where booked.slot == 1).date ?? event.date) { }
rule q_last_keyed on booked or dna or attended when (last(booked where booked.slot == event.slot since event.date - 4 days).date ?? event.date) == (last(booked where booked.slot == event.slot since event.date - 4 days).date ?? event.date) { }
rule q_first_keyed on booked or dna or attended when (first(dna where dna.slot == event.slot).date ?? event.date) == (first(dna where dna.slot == event.slot).date ?? event.date) { }
rule q_consecutive on booked or dna or attended when (consecutive(dna where dna.slot < 3 among dna, attended)) == (consecutive(dna where dna.slot < 3 among dna, attended)) { }
rule q_consecutive_since on booked or dna or attended when (consecutive(dna since event.date - 4 days)) == (consecutive(dna since event.date - 4 days)) { }
rule q_consecutive_all on booked or dna or attended when (consecutive(booked where booked.slot != 2)) == (consecutive(booked where booked.slot != 2)) { }
rule q_nested on booked or dna or attended when (count(dna where count(booked where booked.slot == dna.slot) > 1)) == (count(dna where count(booked where booked.slot == dna.slot) > 1)) { }
rule q_step on booked or dna or attended when (count(booked where booked.date >= event.date - 2 days)) == (count(booked where booked.date >= event.date - 2 days)) { }
"#;

/// Every definition of [`QUERIES`] at every step of `lines`, evaluated with the history
/// index shared across the steps (as a run extends it) or with no index (a plain scan).
fn query_values(lines: &[String], indexed: bool) -> Vec<Vec<Value>> {
    let (policy, sources) = compile(QUERIES);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (events, _) = pathway(&policy, &sources, &refs);
    let ev = Evaluator::new(&policy);
    let history: Vec<&Event> = events.iter().collect();
    let index = super::index::HistoryIndex::default();
    let state = super::PathwayState::default();
    let mut out = Vec::new();
    for n in 1..=history.len() {
        let memo = super::expr::DefMemo::new();
        let ctx = super::expr::Ctx {
            ev: &ev,
            state: &state,
            history: &history[..n],
            trigger: Some(history[n - 1]),
            candidates: [None; crate::model::ir::MAX_QUERY_DEPTH],
            now: history[n - 1].date,
            memo: &memo,
            index: indexed.then_some(&index),
        };
        out.push(
            policy
                .rules
                .iter()
                .map(|r| match &r.when {
                    Some(crate::model::ir::Expr::Binary(_, left, _)) => ctx.eval(left),
                    other => panic!("rule `{}` has no comparison: {other:?}", r.name),
                })
                .collect(),
        );
    }
    out
}

mod indexed_queries {
    use super::query_values;
    use proptest::prelude::*;

    /// A history in date order: each event a kind (booked, dna, attended), a slot and a gap in
    /// days from the one before.
    fn history() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec((0u8..3, 0i64..4, 0i64..3), 0..70).prop_map(|steps| {
            let mut day = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default();
            steps
                .into_iter()
                .map(|(kind, slot, gap)| {
                    day += chrono::Duration::days(gap);
                    match kind {
                        0 => format!("{day} booked {{ slot: {slot} }}"),
                        1 => format!("{day} dna {{ slot: {slot} }}"),
                        _ => format!("{day} attended {{ slot: {slot} }}"),
                    }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        /// The indexes (built once and extended as the history grows past the short-history
        /// cut-off) answer every query as a scan of the whole history does, at every step.
        #[test]
        fn indexed_queries_equal_a_scan(lines in history()) {
            prop_assert_eq!(query_values(&lines, true), query_values(&lines, false));
        }
    }
}
