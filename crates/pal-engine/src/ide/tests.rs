//! The IDE analysis as tables: a small two-file policy held as unsaved texts (a trust's file
//! extending a national one), a cursor marked `$0`, and what each query answers there; and the
//! shipped `policies/`.

use super::complete::CompletionKind;
use super::index::SymbolKind;
use super::outline::outline;
use super::Workspace;
use crate::base::source::FileId;
use std::path::{Path, PathBuf};

const NATIONAL: &str = r#"policy national

enum appointment_kind { first, follow_up }
pathway { birth_date: Date?, vulnerable: Bool = false }
event referral_received "a referral arrives" { ..pathway }
event dna "the patient did not attend" { appointment: appointment_kind, communicated: Bool = true }
event attended { appointment: appointment_kind }

param rtt_target: Duration = 18 weeks cite "RTT rules suite"
param child_age: Int = 16, 18 from 2026-01-01 cite "RTT Rule 9"

clock rtt "referral to treatment" { target rtt_target }

rule rtt_start "a referral starts the clock" on referral_received cite "RTT Rule 1" { start rtt }
rule nullify_first_dna "a first DNA nullifies the clock"
  on dna
  when event.appointment == first and event.communicated
  cite "RTT Rule 5"
{ nullify rtt reason dna_first_appointment }
"#;

const TRUST: &str = r#"policy trust extends national

set child_age = 19 cite "9.12.3"
def child "under the child age" = pathway.birth_date is set and age(pathway.birth_date, now) < child_age

exception child_dna "children are not nullified" to nullify_first_dna
  when child
  cite "9.12.3"
{ outcome second_appointment }

disable rtt_start because "local start rule"

rule trust_start "the trust starts the clock" on referral_received
  when not event.vulnerable or exists(dna where dna.appointment == follow_up)
  cite "9.1"
{ start rtt }

mapping pas "the PAS's activity codes" {
  pathway_id from "ID"
  date from "WHEN" format "DD/MM/YYYY"
  event from "ACT" { "REF" => referral_received, "DNA" => dna }
  field appointment from "APPT" { "N" => first, "F" => follow_up }
}

test "a child's DNA" {
  pathway { birth_date: 2015-01-01 }
  2025-01-06 referral_received
  2025-02-01 dna { appointment: first }
  expect outcome second_appointment
}

test "fails on purpose" {
  2025-01-06 referral_received
  expect rtt stopped
}
"#;

const DIR: &str = "/nonexistent-pal-ide-test";

fn workspace() -> Workspace {
    let mut w = Workspace::new(Path::new(DIR), &[]);
    w.set_text(&path("national.pal"), NATIONAL.into());
    w.set_text(&path("trust.pal"), TRUST.into());
    w
}

fn path(name: &str) -> PathBuf {
    Path::new(DIR).join(name)
}

/// The offset of the `n`th occurrence (0-based) of `needle` in `text`, plus `at` bytes.
fn offset_of(text: &str, needle: &str, n: usize, at: usize) -> u32 {
    let pos = text
        .match_indices(needle)
        .nth(n)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` occurs fewer than {} times", n + 1));
    (pos + at) as u32
}

#[test]
fn the_fixture_checks_clean_and_links_files() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    let errors: Vec<String> = a.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(a.policy.is_some(), "{errors:?}");
    assert_eq!(w.root_of(&path("national.pal")), path("national.pal"));
    assert_eq!(w.dependents(&path("national.pal")), vec![path("trust.pal")]);
}

#[test]
fn go_to_definition_crosses_files() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    let trust = a.file_id(&path("trust.pal")).expect("trust.pal analysed");
    // (needle in trust.pal, which occurrence, offset into it) → (file, declared name)
    let cases: &[(&str, usize, usize, &str, &str)] = &[
        ("child_age = 19", 0, 0, "national.pal", "child_age"),
        ("< child_age", 0, 3, "national.pal", "child_age"),
        (
            "to nullify_first_dna",
            0,
            4,
            "national.pal",
            "nullify_first_dna",
        ),
        ("disable rtt_start", 0, 9, "national.pal", "rtt_start"),
        ("event.vulnerable", 0, 7, "national.pal", "vulnerable"),
        ("dna.appointment", 0, 5, "national.pal", "appointment"),
        ("dna.appointment", 0, 1, "national.pal", "dna"),
        ("== follow_up", 0, 4, "national.pal", "follow_up"),
        ("start rtt", 0, 7, "national.pal", "rtt"),
        ("when child", 0, 6, "trust.pal", "child"),
        ("pathway.birth_date", 0, 9, "national.pal", "birth_date"),
        ("extends national", 0, 9, "national.pal", "national"),
        (
            "dna { appointment: first",
            0,
            7,
            "national.pal",
            "appointment",
        ),
        ("appointment: first", 0, 14, "national.pal", "first"),
        ("\"DNA\" => dna", 0, 9, "national.pal", "dna"),
        ("\"F\" => follow_up", 0, 7, "national.pal", "follow_up"),
        (
            "on referral_received\n",
            0,
            4,
            "national.pal",
            "referral_received",
        ),
    ];
    for (needle, n, at, file, name) in cases {
        let off = offset_of(TRUST, needle, *n, *at);
        let loc = a
            .definition(trust, off)
            .unwrap_or_else(|| panic!("no definition at `{needle}`+{at}"));
        assert_eq!(loc.path, path(file), "{needle}");
        assert_eq!(a.sources.snippet(loc.span), *name, "{needle}");
    }
}

#[test]
fn references_find_every_use_across_files() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    let national = a.file_id(&path("national.pal")).expect("analysed");
    // (needle in national.pal at a declaration, uses expected, declaration included)
    let cases: &[(&str, usize)] = &[
        ("param child_age", 2), // `set`, `< child_age`
        ("event dna ", 5),      // `on dna`, `exists(dna …`, `dna.appointment`, test event, mapping
        ("clock rtt", 4),       // declaration, two `start rtt`, `nullify rtt`
        ("rule nullify_first_dna", 1),
        ("{ appointment: appointment_kind, communicated", 3), // event.appointment, dna.appointment, test
    ];
    for (needle, count) in cases {
        let word_at = needle.find(' ').map(|i| i + 1).unwrap_or(0);
        let off = offset_of(NATIONAL, needle, 0, word_at);
        let refs = a.references(national, off, true);
        assert_eq!(refs.len(), *count + 1, "{needle}: {refs:?}");
    }
}

#[test]
fn hover_tells_values_rules_and_events() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    let trust = a.file_id(&path("trust.pal")).expect("analysed");
    let national = a.file_id(&path("national.pal")).expect("analysed");
    // (file, text, needle, offset into needle, what the hover must say)
    let cases: &[(FileId, &str, &str, usize, &[&str])] = &[
        (
            trust,
            TRUST,
            "< child_age",
            3,
            &[
                "param child_age: Int",
                "`16, 18 from 2026-01-01` (cite \"RTT Rule 9\")",
                "Set in this file: `19` (cite \"9.12.3\")",
                "In effect for policy `trust`: 19",
            ],
        ),
        (
            trust,
            TRUST,
            "to nullify_first_dna",
            4,
            &[
                "a first DNA nullifies the clock",
                "Trigger: `on dna` when `event.appointment == first and event.communicated`",
                "Cites \"RTT Rule 5\"",
                "Overridden by exception `child_dna` (this file): children are not nullified",
            ],
        ),
        (
            trust,
            TRUST,
            "disable rtt_start",
            9,
            &["Disabled in this file because \"local start rule\""],
        ),
        (
            national,
            NATIONAL,
            "on dna",
            4,
            &[
                "the patient did not attend",
                "| `appointment` | `appointment_kind` |  |",
                "| `communicated` | `Bool` | `true` |",
            ],
        ),
        (
            trust,
            TRUST,
            "when child",
            6,
            &["def child: Bool", "under the child age"],
        ),
        (
            national,
            NATIONAL,
            "start rtt",
            7,
            &["Target: `rtt_target`"],
        ),
    ];
    for (file, text, needle, at, wants) in cases {
        let h = a
            .hover(*file, offset_of(text, needle, 0, *at))
            .unwrap_or_else(|| panic!("no hover at `{needle}`"));
        for want in *wants {
            assert!(
                h.markdown.contains(want),
                "{needle}: wanted {want:?} in\n{}",
                h.markdown
            );
        }
    }
}

#[test]
fn completion_depends_on_context() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    // (text before the cursor appended to the trust file, labels wanted, labels not wanted)
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "rule r on ",
            &["dna", "attended", "referral_received"],
            &["rtt"],
        ),
        ("rule r on dna or ", &["attended"], &[]),
        (
            "rule r on dna when event.",
            &["appointment", "communicated"],
            &["vulnerable"],
        ),
        (
            "rule r on referral_received when event.",
            &["vulnerable", "birth_date"],
            &[],
        ),
        (
            "exception e to nullify_first_dna when event.",
            &["appointment"],
            &[],
        ),
        (
            "rule r on attended when pathway.",
            &["birth_date", "vulnerable"],
            &[],
        ),
        ("rule r on attended when rtt.", &["open", "start"], &[]),
        (
            "rule r on attended when appointment_kind.",
            &["first", "follow_up"],
            &[],
        ),
        ("exception e to ", &["nullify_first_dna", "rtt_start"], &[]),
        ("disable nul", &["nullify_first_dna"], &[]),
        ("rule r on dna cite \"", &["RTT Rule 5", "9.12.3"], &["dna"]),
        (
            "rule r on dna { nullify rtt reason ",
            &["dna_first_appointment"],
            &[],
        ),
        (
            "rule r on dna when ch",
            &["child_age", "child", "exists"],
            &[],
        ),
        ("param p: ", &["Duration", "appointment_kind"], &[]),
        ("", &["rule", "exception", "param"], &[]),
    ];
    for (typed, wanted, unwanted) in cases {
        let text = format!("{TRUST}\n{typed}");
        let labels: Vec<String> = a
            .completions(&text, text.len())
            .into_iter()
            .map(|c| c.label)
            .collect();
        for want in *wanted {
            assert!(
                labels.iter().any(|l| l == want),
                "{typed:?}: wanted {want} in {labels:?}"
            );
        }
        for not in *unwanted {
            assert!(
                !labels.iter().any(|l| l == not),
                "{typed:?}: did not want {not} in {labels:?}"
            );
        }
    }
    let text = format!("{TRUST}\nrule r on dna when event.");
    let c = a.completions(&text, text.len());
    assert!(c.iter().any(|c| c.label == "appointment"
        && c.kind == CompletionKind::Field
        && c.detail.as_deref() == Some("appointment_kind")));
}

#[test]
fn a_misspelt_name_is_an_error_with_a_fix_and_completion_survives_it() {
    let mut w = workspace();
    w.analyze(&path("trust.pal"));
    // (misspelling put in place of `attended` in the trigger, the fix's replacement)
    let cases: &[(&str, &str, &str)] = &[
        (
            "clock\" on referral_received",
            "clock\" on referal_received",
            "referral_received",
        ),
        ("when child\n", "when chidl\n", "child"),
        (
            "dna.appointment == follow_up",
            "dna.apointment == follow_up",
            "appointment",
        ),
        (
            "to nullify_first_dna",
            "to nullify_frist_dna",
            "nullify_first_dna",
        ),
    ];
    for (from, to, replacement) in cases {
        let text = TRUST.replacen(from, to, 1);
        w.set_text(&path("trust.pal"), text.clone());
        let a = w.analyze(&path("trust.pal"));
        let ds = a.diagnostics_for(&path("trust.pal"));
        // The misspelt name is the first finding (a cascade may follow it: a misspelt
        // exception target leaves its outcome unproduced).
        assert!(!ds.is_empty(), "{to}: no diagnostic");
        let fix = super::fixes::did_you_mean_fix(ds[0], &a.sources)
            .unwrap_or_else(|| panic!("{to}: no fix for {:?}", ds[0]));
        assert_eq!(fix.replacement, *replacement);
        let fixed = format!(
            "{}{}{}",
            &text[..fix.span.start as usize],
            fix.replacement,
            &text[fix.span.end as usize..]
        );
        assert_eq!(fixed, TRUST, "{to}");
    }
    // Completion while the file does not parse uses the last analysis that parsed.
    let broken = format!("{TRUST}\nrule r on dna when event.");
    w.set_text(&path("trust.pal"), broken.clone());
    let now = w.analyze(&path("trust.pal"));
    assert!(now.policy.is_none());
    let good = w
        .last_good(&path("trust.pal"))
        .expect("an earlier analysis parsed");
    assert!(good
        .completions(&broken, broken.len())
        .iter()
        .any(|c| c.label == "communicated"));
}

#[test]
fn the_outline_lists_declarations_with_children() {
    let items = outline(FileId(0), NATIONAL);
    let names: Vec<(&str, SymbolKind, usize)> = items
        .iter()
        .map(|i| (i.name.as_str(), i.kind, i.children.len()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("national", SymbolKind::Policy, 0),
            ("appointment_kind", SymbolKind::Enum, 2),
            ("pathway", SymbolKind::PathwayAttribute, 2),
            ("referral_received", SymbolKind::EventType, 0),
            ("dna", SymbolKind::EventType, 2),
            ("attended", SymbolKind::EventType, 1),
            ("rtt_target", SymbolKind::Param, 0),
            ("child_age", SymbolKind::Param, 0),
            ("rtt", SymbolKind::Clock, 0),
            ("rtt_start", SymbolKind::Rule, 0),
            ("nullify_first_dna", SymbolKind::Rule, 0),
        ]
    );
    // A rule's extent ends at its closing brace, not at the next declaration.
    let last = items.last().expect("items");
    assert!(NATIONAL[last.span.range()].ends_with('}'));
    assert!(outline(FileId(0), "rule broken on {").is_empty());
}

#[test]
fn tests_run_per_file_and_per_rule() {
    let mut w = workspace();
    let a = w.analyze(&path("trust.pal"));
    let trust = a.file_id(&path("trust.pal")).expect("analysed");
    let all = a.run_tests(trust, None);
    let passed: Vec<(&str, bool)> = all
        .outcomes
        .iter()
        .map(|o| (o.name.as_str(), o.passed()))
        .collect();
    assert_eq!(
        passed,
        vec![("a child's DNA", true), ("fails on purpose", false)]
    );
    assert!(
        all.line()
            .starts_with("1 passed, 1 failed; `fails on purpose`: `expect rtt stopped` but"),
        "{}",
        all.line()
    );
    assert_eq!(a.run_tests(trust, Some("a child's DNA")).outcomes.len(), 1);
    // The exception fires in the first test only; the national rule it overrides fires in none.
    let r = w.run_rule_tests(&path("trust.pal"), "child_dna");
    assert_eq!(r.outcomes.len(), 1, "{r:?}");
    let r = w.run_rule_tests(&path("national.pal"), "trust_start");
    assert_eq!(r.outcomes.len(), 2, "{r:?}");
}

#[test]
fn the_shipped_policies_resolve_into_the_national_files() {
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut w = Workspace::new(&policies, &[]);
    let rde = policies.join("rde.pal");
    let a = w.analyze(&rde);
    assert!(a.diagnostics_for(&rde).is_empty(), "{:?}", a.diagnostics);
    assert!(a.policy.is_some());
    let id = a.file_id(&rde).expect("rde.pal analysed");
    let text = &a.sources.get(id).text;
    // `start rtt` in rde.pal → `clock rtt` in national.pal; an event type → national/schema.pal.
    let loc = a
        .definition(id, offset_of(text, "{ start rtt", 0, 9))
        .expect("rtt declared");
    assert!(loc.path.ends_with("national.pal"), "{loc:?}");
    let loc = a
        .definition(id, offset_of(text, "on active_monitoring_started", 0, 4))
        .expect("event declared");
    assert!(loc.path.ends_with("national/schema.pal"), "{loc:?}");
    // schema.pal is checked as part of national.pal, which imports it.
    assert_eq!(
        w.root_of(&policies.join("national/schema.pal")),
        crate::front::loader::overlay_key(&policies.join("national.pal"))
    );
}
