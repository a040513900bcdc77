//! Data-driven language tests: small policies written in PAL, checked and run whole (loader,
//! checker, evaluator, test runner), each with its `test` blocks as the expectations. A case
//! that must not check names the diagnostic code it expects.

use crate::base::diagnostic::Diagnostic;
use crate::base::source::SourceMap;
use crate::front::check::check;
use crate::front::loader::load_text;
use crate::model::event::Event;
use crate::runtime::testing::run_test;

/// A schema the cases share; each case adds rules and tests.
const BASE: &str = r#"
enum appointment_kind { first, follow_up }
enum specialty { cardiology, dermatology, urology }
pathway {
  birth_date: Date?
  specialty: specialty = cardiology
  vulnerable: Bool = false
  planned: Date?
}
event referral_received { ..pathway }
event dna { appointment: appointment_kind = first }
event attended
event offer_made { offered_date: Date }
event offer_declined { offered_date: Date }
event patient_cancelled
event discharged
event treated
event decision_to_treat
event cancer_diagnosis
clock rtt "referral to treatment" { target 18 weeks cite "RTT rules" }
clock c31 "decision to treat to first treatment" { target 31 days cite "CWT" }
rule start_rtt "a referral starts the clock" on referral_received cite "RTT rules" { start rtt }
"#;

/// Checks `BASE + src`; returns the diagnostics and, when it checked, each test's failures.
fn run(src: &str) -> (Vec<Diagnostic>, Vec<String>) {
    let text = format!("{BASE}\n{src}");
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let loaded = load_text(
        "case.pal",
        &text,
        std::path::Path::new("."),
        &mut sources,
        &mut diags,
    );
    let checked = check(&loaded, &sources);
    diags.extend(checked.diagnostics);
    let mut failures = Vec::new();
    if let Some(policy) = checked.policy {
        assert!(!policy.tests.is_empty(), "the case has no test:\n{src}");
        for case in &policy.tests {
            let report = run_test(&policy, case);
            for (x, why) in report.failures {
                failures.push(format!("{}: `{}` but {why}", report.name, x.text));
            }
        }
    }
    (diags, failures)
}

/// Every test of the case passes and nothing is an error.
fn passes(src: &str) {
    let (diags, failures) = run(src);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "errors: {errors:#?}\n{src}");
    assert!(failures.is_empty(), "failures: {failures:#?}\n{src}");
}

/// The case reports `code` (an error or a warning).
fn reports(src: &str, code: &str) {
    let (diags, _) = run(src);
    assert!(
        diags.iter().any(|d| d.code.as_str() == code),
        "expected {code}, got {:#?}\n{src}",
        diags
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect::<Vec<_>>()
    );
}

#[test]
fn calendar_month_built_ins() {
    passes(
        r#"
        test "month bounds" {
          2024-02-10 referral_received { }
          expect month_end(2024-02-10) == 2024-02-29
          expect month_end(2023-02-10) == 2023-02-28
          expect month_end(2025-12-31) == 2025-12-31
          expect month_start(2024-02-29) == 2024-02-01
          expect month_end(rtt.start ?? 2000-01-01) == 2024-02-29
          expect same_month(2024-02-01, 2024-02-29)
          expect not same_month(2024-02-29, 2024-03-01)
          expect not same_month(2024-02-29, 2025-02-28)
        }
        "#,
    );
    // 10.4.3: "in the planned month" = by the end of the planned date's calendar month.
    passes(
        r#"
        rule late_for_planned_month "treated after the planned month"
          on treated when pathway.planned is set and event.date > month_end(pathway.planned)
          cite "10.4.3"
        { outcome review_planned_patient }
        test "treated on the last day of the planned month is in time" {
          pathway { planned: 2025-01-10 }
          2025-01-02 referral_received { }
          2025-01-31 treated
          expect no outcome review_planned_patient
        }
        test "treated on the 1st of the next month is late" {
          pathway { planned: 2025-01-10 }
          2025-01-02 referral_received { }
          2025-02-01 treated
          expect outcome review_planned_patient
        }
        "#,
    );
    for bad in [
        "def x = month_end(3)",
        "def x = month_end(2025-01-01, 2025-01-02)",
        "def x = same_month(2025-01-01)",
        "def x = month_end(2025-01-01) + 1",
    ] {
        let code = if bad.contains(", 2025-01-02)") || bad.contains("same_month(2025-01-01)") {
            "E0206"
        } else {
            "E0201"
        };
        reports(&format!("{bad}\ntest \"t\" {{ expect true }}"), code);
    }
}

#[test]
fn comparisons_with_an_unset_value_follow_one_rule() {
    // `last(offer_made).offered_date` is unset here: no offer was made. Reading it through
    // `??` keeps the checker content; the unset value reaches the operators.
    passes(
        r#"
        def none = last(dna where dna.appointment == follow_up).date
        test "unset compared" {
          2025-01-02 referral_received { }
          2025-01-03 dna { appointment: first }
          expect exists(dna)
          expect not exists(dna where dna.appointment == follow_up)
          expect (rtt.stop == rtt.stop)
          expect not (rtt.stop != rtt.stop)
          expect (rtt.stop != rtt.start) == not (rtt.stop == rtt.start)
          expect rtt.stop != rtt.start
          expect not (rtt.stop < rtt.start) and not (rtt.stop >= rtt.start)
          expect (rtt.stop ?? 2000-01-01) == 2000-01-01
        }
        "#,
    );
}

#[test]
fn nested_queries_read_the_outer_candidate() {
    passes(
        r#"
        def declines_with_their_offer =
          count(offer_declined where exists(offer_made where offer_made.offered_date == offer_declined.offered_date))
        def declines_after_their_offer =
          count(offer_declined where exists(offer_made where offer_made.offered_date == offer_declined.offered_date
                                                        and offer_made.date < offer_declined.date))
        test "every decline has its offer" {
          2025-01-02 referral_received { }
          2025-01-06 offer_made { offered_date: 2025-02-01 }
          2025-01-07 offer_made { offered_date: 2025-02-08 }
          2025-01-09 offer_declined { offered_date: 2025-02-01 }
          2025-01-10 offer_declined { offered_date: 2025-02-08 }
          2025-01-10 offer_declined { offered_date: 2025-03-01 }
          expect declines_with_their_offer == 2
          expect declines_after_their_offer == 2
          expect exists(offer_declined where not exists(offer_made where offer_made.offered_date == offer_declined.offered_date))
        }
        test "three levels: each level reads every outer one" {
          2025-01-02 referral_received { }
          2025-01-06 offer_made { offered_date: 2025-02-01 }
          2025-01-09 offer_declined { offered_date: 2025-02-01 }
          2025-01-12 dna { }
          expect count(dna where exists(offer_declined where offer_declined.date < dna.date
            and exists(offer_made where offer_made.offered_date == offer_declined.offered_date
                                    and offer_made.date < dna.date))) == 1
        }
        test "an inner query of the same type hides the outer candidate" {
          2025-01-02 referral_received { }
          2025-01-03 dna { appointment: first }
          2025-01-04 dna { appointment: follow_up }
          expect count(dna where exists(dna where dna.appointment == follow_up)) == 2
        }
        "#,
    );
    // In a rule: the trigger and the candidates together.
    passes(
        r#"
        rule decline_without_offer "a decline with no matching offer"
          on offer_declined
          when not exists(offer_made where offer_made.offered_date == event.offered_date
                          and exists(offer_declined where offer_declined.offered_date == offer_made.offered_date))
          cite "data quality"
        { warn "declined an offer that was not made" }
        test "matched decline: no warning" {
          2025-01-02 referral_received { }
          2025-01-06 offer_made { offered_date: 2025-02-01 }
          2025-01-09 offer_declined { offered_date: 2025-02-01 }
          expect no warning
        }
        test "unmatched decline: a warning" {
          2025-01-02 referral_received { }
          2025-01-06 offer_made { offered_date: 2025-02-01 }
          2025-01-09 offer_declined { offered_date: 2025-02-15 }
          expect warning
        }
        "#,
    );
    // An obligation's `by … where` binds the meeting event; a query inside reads it too.
    passes(
        r#"
        rule offer_after_dna "a DNA needs a new offer made after it" on dna cite "9.12"
        { require offer_made within 2 weeks by offer_made
            where not exists(offer_declined where offer_declined.offered_date == offer_made.offered_date) }
        test "re-offering a date already declined does not meet it" {
          2025-01-02 referral_received { }
          2025-01-03 dna { }
          2025-01-04 offer_declined { offered_date: 2025-01-20 }
          2025-01-05 offer_made { offered_date: 2025-01-20 }
          as at 2025-01-31
          expect obligation offer_made missed
        }
        test "a fresh date meets it" {
          2025-01-02 referral_received { }
          2025-01-03 dna { }
          2025-01-04 offer_declined { offered_date: 2025-01-20 }
          2025-01-05 offer_made { offered_date: 2025-01-20 }
          2025-01-08 offer_made { offered_date: 2025-01-27 }
          as at 2025-01-31
          expect obligation offer_made met
        }
        "#,
    );
    reports(
        r#"def deep = exists(dna where exists(dna where exists(dna where exists(dna where exists(dna)))))
        test "t" { expect true }"#,
        "E0206",
    );
}

#[test]
fn expect_no_outcome_and_no_obligation() {
    let rules = r#"
        rule dna_review "a DNA is reviewed" on dna cite "9.12" {
          outcome review
          require attended within 2 weeks
        }
        rule discharge_ends "a discharge stops the clock" on discharged cite "RTT"
        { stop rtt reason discharged }
    "#;
    passes(&format!(
        r#"{rules}
        test "no DNA: no review, no obligation" {{
          2025-01-02 referral_received {{ }}
          2025-01-05 discharged
          expect no outcome review
          expect no obligation attended
          expect no obligation attended open
        }}
        test "a DNA: a review and an obligation, met" {{
          2025-01-02 referral_received {{ }}
          2025-01-05 dna {{ }}
          2025-01-10 attended
          expect outcome review
          expect obligation attended met
          expect no obligation attended missed
        }}
        "#
    ));
    // A negated expectation that does not hold fails, with the rule that produced it.
    let (_, failures) = run(&format!(
        r#"{rules}
        test "fails" {{
          2025-01-02 referral_received {{ }}
          2025-01-05 dna {{ }}
          expect no obligation attended
          expect no outcome review
        }}
        "#
    ));
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].contains("by rule `dna_review`"), "{failures:?}");
    for bad in [
        "test \"t\" { expect no outcome reveiw }",
        "test \"t\" { expect no obligation atended }",
        "test \"t\" { expect obligation attended }",
        "test \"t\" { expect no obligation attended mett }",
    ] {
        reports(&format!("{rules}\n{bad}"), "E0304");
    }
}

#[test]
fn a_def_named_like_an_enum_value_is_a_duplicate() {
    for name in ["follow_up", "dermatology", "nullified", "specialty"] {
        reports(
            &format!("def {name} = true\ntest \"t\" {{ expect true }}"),
            "E0110",
        );
    }
    passes("def is_follow_up = true\ntest \"t\" { expect is_follow_up }");
}

#[test]
fn test_pathway_attributes_survive_a_later_referral() {
    passes(
        r#"
        rule vulnerable_dna "a vulnerable patient's DNA is reviewed"
          on dna when pathway.vulnerable and pathway.specialty == dermatology cite "9.12.3"
        { outcome review }
        test "pathway before the referral" {
          pathway { vulnerable: true, specialty: dermatology }
          2025-01-02 referral_received { }
          2025-01-05 dna { }
          expect outcome review
          expect pathway.vulnerable
        }
        test "pathway after the referral" {
          2025-01-02 referral_received { }
          2025-01-05 dna { }
          pathway { vulnerable: true, specialty: dermatology }
          expect outcome review
        }
        test "a field the referral writes still wins" {
          pathway { vulnerable: true, specialty: dermatology }
          2025-01-02 referral_received { vulnerable: false }
          2025-01-05 dna { }
          expect no outcome review
          expect pathway.specialty == dermatology
        }
        "#,
    );
}

#[test]
fn a_periods_stop_or_nullify_reason_is_readable() {
    let rules = r#"
        rule first_dna "DNA of the first appointment nullifies" on dna
          when event.appointment == first and rtt.open cite "RTT 5e"
        { nullify rtt reason dna_first_appointment }
        rule discharge "a discharge stops the clock" on discharged when rtt.open cite "RTT"
        { stop rtt reason discharged }
        rule after_nullified "a new referral after a nullified DNA period is noted"
          on referral_received
          when rtt.reason is set and rtt.reason == dna_first_appointment
          cite "RTT 5e"
        { outcome re_referred_after_dna }
    "#;
    passes(&format!(
        r#"{rules}
        test "open: no reason" {{
          2025-01-02 referral_received {{ }}
          expect rtt.reason is not set
        }}
        test "nullified for a first DNA" {{
          2025-01-02 referral_received {{ }}
          2025-01-09 dna {{ appointment: first }}
          expect rtt.reason is set and rtt.reason == dna_first_appointment
          expect rtt.reason is set and rtt.reason != discharged
          expect rtt.reason is set and rtt.reason in [dna_first_appointment, discharged]
          expect (rtt.reason ?? discharged) == dna_first_appointment
        }}
        test "stopped on discharge" {{
          2025-01-02 referral_received {{ }}
          2025-01-09 discharged
          expect (rtt.reason ?? dna_first_appointment) == stop_reason.discharged
        }}
        test "the reason of the latest period drives a rule" {{
          2025-01-02 referral_received {{ }}
          2025-01-09 dna {{ appointment: first }}
          2025-02-01 referral_received {{ }}
          expect outcome re_referred_after_dna
          expect rtt.reason is not set
        }}
        "#
    ));
    // Typed: a misspelt reason is E0103, an unguarded one E0203, an Int comparison E0201.
    for (expr, code) in [
        (
            "rtt.reason is set and rtt.reason == dna_first_apointment",
            "E0103",
        ),
        ("rtt.reason == discharged", "E0203"),
        ("rtt.reason is set and rtt.reason == 3", "E0201"),
    ] {
        reports(
            &format!(
                "{rules}\ntest \"t\" {{ 2025-01-02 referral_received {{ }}\n expect {expr} }}"
            ),
            code,
        );
    }
}

#[test]
fn same_day_order_makes_both_input_orders_agree() {
    let rules = r#"
        rule first_dna "DNA of the first appointment nullifies" on dna
          when rtt.open cite "RTT 5e"
        { nullify rtt reason dna_first_appointment }
        rule discharge "a discharge stops the clock" on discharged when rtt.open cite "RTT"
        { stop rtt reason discharged }
        rule dtt "a decision to treat starts the 31-day clock" on decision_to_treat
          when exists(cancer_diagnosis) cite "CWT"
        { start c31 }
    "#;
    let tests = r#"
        test "dna, then discharge" {
          2025-01-02 referral_received { }
          2025-01-09 dna { }
          2025-01-09 discharged
          expect rtt nullified on 2025-01-09
          expect rtt.reason is set and rtt.reason == dna_first_appointment
          expect no warning
        }
        test "discharge, then dna" {
          2025-01-02 referral_received { }
          2025-01-09 discharged
          2025-01-09 dna { }
          expect rtt nullified on 2025-01-09
          expect rtt.reason is set and rtt.reason == dna_first_appointment
          expect no warning
        }
        test "diagnosis, then decision" {
          2025-01-02 referral_received { }
          2025-01-20 cancer_diagnosis
          2025-01-20 decision_to_treat
          expect c31 running on 2025-01-20
        }
        test "decision, then diagnosis" {
          2025-01-02 referral_received { }
          2025-01-20 decision_to_treat
          2025-01-20 cancer_diagnosis
          expect c31 running on 2025-01-20
        }
        test "unlisted types keep input order, before the listed ones" {
          2025-01-09 dna { }
          2025-01-09 referral_received { }
          expect rtt nullified on 2025-01-09
        }
    "#;
    passes(&format!(
        "same_day_order {{ dna, discharged }}\nsame_day_order {{ cancer_diagnosis, decision_to_treat }}\n{rules}{tests}"
    ));
    // Without the declaration, input order decides: the second test of each pair fails.
    let (_, failures) = run(&format!("{rules}{tests}"));
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("discharge, then dna"))
            && failures
                .iter()
                .any(|f| f.starts_with("decision, then diagnosis")),
        "{failures:#?}"
    );
    for (decl, code) in [
        ("same_day_order { dna, discharged, dna }", "E0110"),
        ("same_day_order { dna }\nsame_day_order { dna }", "E0110"),
        ("same_day_order { dan }", "E0101"),
    ] {
        reports(&format!("{decl}\ntest \"t\" {{ expect true }}"), code);
    }
}

#[test]
fn since_counts_the_whole_of_its_day() {
    passes(
        r#"
        rule restart "a decision to treat restarts the clock" on decision_to_treat cite "RTT"
        { stop rtt reason restarted; start rtt }
        rule cancellations "cancellations since the clock started"
          on patient_cancelled when count(patient_cancelled since rtt.start ?? now) >= 2 cite "9.10.2"
        { outcome cancelled_twice }
        def cancelled_since_start = count(patient_cancelled since rtt.start ?? now)
        test "a cancellation earlier on the start day counts" {
          2025-01-02 referral_received { }
          2025-01-10 patient_cancelled
          2025-01-10 decision_to_treat
          expect cancelled_since_start == 1
        }
        test "a cancellation later on the start day counts" {
          2025-01-02 referral_received { }
          2025-01-10 decision_to_treat
          2025-01-10 patient_cancelled
          expect cancelled_since_start == 1
        }
        test "the day before does not count" {
          2025-01-02 referral_received { }
          2025-01-09 patient_cancelled
          2025-01-10 decision_to_treat
          expect cancelled_since_start == 0
        }
        test "the current event counts; later same-day events are not yet history" {
          2025-01-02 referral_received { }
          2025-01-10 patient_cancelled
          2025-01-10 patient_cancelled
          expect outcome cancelled_twice
        }
        "#,
    );
}

/// The codes the case reports.
fn codes(src: &str) -> Vec<String> {
    run(src).0.iter().map(|d| d.code.to_string()).collect()
}

#[test]
fn the_possible_conflict_lint_sees_through_definitions() {
    let test = "test \"t\" { 2025-01-02 referral_received { }\n 2025-01-03 dna { }\n expect true }";
    // (conditions of two rules that both stop rtt on `dna`, whether W0004 is expected)
    for (a, b, warned) in [
        // Through a definition and its negation.
        ("derm", "not derm", false),
        // Through the definition's body: the specialty cannot be both.
        ("derm", "pathway.specialty == cardiology", false),
        ("derm and pathway.vulnerable", "is_cardio", false),
        ("not derm", "pathway.specialty == dermatology", false),
        ("not not_derm", "pathway.specialty == cardiology", false),
        ("derm_and_vulnerable", "not pathway.vulnerable", false),
        // Not exclusive: still warned.
        ("derm", "pathway.vulnerable", true),
        (
            "not derm_and_vulnerable",
            "pathway.specialty == dermatology",
            true,
        ),
        ("derm", "is_cardio or pathway.vulnerable", true),
    ] {
        let src = format!(
            r#"
            def derm = pathway.specialty == dermatology
            def is_cardio = pathway.specialty == cardiology
            def not_derm = pathway.specialty != dermatology
            def derm_and_vulnerable = derm and pathway.vulnerable
            rule a "a" on dna when {a} cite "x" {{ stop rtt reason a }}
            rule b "b" on dna when {b} cite "x" {{ stop rtt reason b }}
            {test}
            "#
        );
        let found = codes(&src).iter().any(|c| c == "W0004");
        assert_eq!(found, warned, "`{a}` vs `{b}`");
    }
}

#[test]
fn list_parameters() {
    let decls = r#"
        param cas_specialties: [specialty] = [dermatology, urology] cite "9.6"
        param no_codes: [Int] = [] cite "test"
        param limits: [Int] = [1, 2], [1, 2, 3] from 2025-06-01 cite "test"
        rule cas "a CAS referral" on referral_received
          when pathway.specialty in cas_specialties cite "9.6"
        { outcome cas_triage }
        rule not_cas "not a CAS referral" on referral_received
          when pathway.specialty not in cas_specialties cite "9.6"
        { outcome direct_booking }
    "#;
    passes(&format!(
        r#"{decls}
        test "a CAS specialty" {{
          2025-01-02 referral_received {{ specialty: dermatology }}
          expect outcome cas_triage
          expect no outcome direct_booking
        }}
        test "not a CAS specialty" {{
          2025-01-02 referral_received {{ specialty: cardiology }}
          expect outcome direct_booking
          expect no outcome cas_triage
        }}
        test "set in a test replaces the whole list" {{
          set cas_specialties = [cardiology]
          2025-01-02 referral_received {{ specialty: cardiology }}
          expect outcome cas_triage
        }}
        test "an empty list and dated lists" {{
          2025-01-02 referral_received {{ }}
          expect 1 not in no_codes
          expect 3 not in limits
          expect 2 in limits
        }}
        test "a dated list in force later" {{
          2025-07-02 referral_received {{ }}
          expect 3 in limits
        }}
        "#
    ));
    // A trust's `set` of a list, in a policy of its own.
    passes(&format!(
        r#"{decls}
        set cas_specialties = [cardiology] cite "local variation"
        test "the trust's list" {{
          2025-01-02 referral_received {{ specialty: cardiology }}
          expect outcome cas_triage
        }}
        "#
    ));
    for (bad, code) in [
        // Element types are checked.
        ("param p: [specialty] = [dermatolgy] cite \"x\"", "E0103"),
        ("param p: [Int] = [1, true] cite \"x\"", "E0201"),
        ("param p: [Int] = 1 cite \"x\"", "E0201"),
        ("param p: Int = [1] cite \"x\"", "E0201"),
        ("set cas_specialties = [1]", "E0205"),
        ("set cas_specialties = dermatology", "E0205"),
        // Membership against the element type; lists only with `in`.
        ("def d = 3 in cas_specialties", "E0201"),
        ("def d = pathway.specialty in cardiology", "E0201"),
        ("def d = cas_specialties == cas_specialties", "E0201"),
        ("def d = pathway.specialty in cas_specialtie", "E0107"),
        // Not for fields.
        ("event e2 { xs: [Int] }", "E0108"),
        ("def d = []", "E0201"),
    ] {
        reports(
            &format!("{decls}\n{bad}\ntest \"t\" {{ expect true }}"),
            code,
        );
    }
}

#[test]
fn the_repl_holds_pathway_attributes_as_a_test_does() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/language/expectations.pal");
    let (mut session, _) = crate::services::repl::Session::new(Some(&path), false);
    for line in [
        "pathway { vulnerable: true }",
        "2025-01-06 referral_received { priority: urgent }",
        "2025-02-03 dna { appointment: first }",
    ] {
        let _ = session.handle(line);
    }
    let (shown, _) = session.handle("pathway.vulnerable");
    assert!(shown.starts_with("true"), "{shown}");
    // A field the referral writes still wins.
    let _ = session.handle("2025-02-10 referral_received { vulnerable: false }");
    let (shown, _) = session.handle("pathway.vulnerable");
    assert!(shown.starts_with("false"), "{shown}");
}

/// Compiles `BASE + src` and builds a pathway's events from REPL-style lines.
fn policy_and_events(src: &str, lines: &[&str]) -> (crate::model::ir::Policy, Vec<Event>) {
    use crate::front::check::repl::{check_step, ReplItem};
    use crate::syntax::{parse_repl_line, ReplLine};
    let text = format!("{BASE}\n{src}");
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let loaded = load_text(
        "case.pal",
        &text,
        std::path::Path::new("."),
        &mut sources,
        &mut diags,
    );
    let Some(policy) = check(&loaded, &sources).policy else {
        panic!("does not check:\n{src}");
    };
    let mut events = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let file = sources.add(format!("<event {i}>"), *line);
        let Ok(ReplLine::Step(step)) = parse_repl_line(file, line) else {
            panic!("not an event: {line}");
        };
        match check_step(&policy, &sources, &step, i as u32) {
            Ok(ReplItem::Event(e, _)) => events.push(e),
            _ => panic!("not an event: {line}"),
        }
    }
    (policy, events)
}

#[test]
fn both_input_orders_of_a_ranked_same_day_pair_give_identical_results() {
    let src = r#"
        same_day_order { dna, discharged, cancer_diagnosis, decision_to_treat }
        rule first_dna "DNA of the first appointment nullifies" on dna
          when rtt.open and count(dna) == 1 cite "RTT 5e"
        { nullify rtt reason dna_first_appointment; outcome discharge_to_referrer }
        rule discharge "a discharge stops the clock" on discharged when rtt.open cite "RTT"
        { stop rtt reason discharged }
        rule discharge_note "a discharge with nothing open" on discharged when not rtt.open cite "RTT"
        { warn "discharged with no clock running" }
        rule dtt "a decision to treat starts the 31-day clock" on decision_to_treat
          when exists(cancer_diagnosis) cite "CWT"
        { start c31; require treated within 31 days }
    "#;
    let head = ["2025-01-02 referral_received { }"];
    let unranked = src.replacen("same_day_order", "// same_day_order", 1);
    for (src, ranked) in [(src, true), (unranked.as_str(), false)] {
        for (a, b) in [
            ("2025-02-03 dna { }", "2025-02-03 discharged"),
            (
                "2025-02-10 cancer_diagnosis",
                "2025-02-10 decision_to_treat",
            ),
        ] {
            let results: Vec<String> = [[a, b], [b, a]]
                .iter()
                .map(|pair| {
                    let lines: Vec<&str> =
                        head.iter().copied().chain(pair.iter().copied()).collect();
                    let (policy, events) = policy_and_events(src, &lines);
                    let ev = crate::runtime::eval::Evaluator::new(&policy);
                    let as_at = chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or_default();
                    let r = ev.run("p", &events, &[], as_at, false);
                    serde_json::to_string(&r).unwrap_or_default()
                })
                .collect();
            // Without the declaration, input order decides (the reason this declaration exists).
            assert_eq!(
                results[0] == results[1],
                ranked,
                "`{a}` and `{b}` in either order"
            );
        }
    }
}
