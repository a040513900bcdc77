#![cfg(test)]
//! The checker as a table: a policy fragment over a small schema in, the codes it reports out
//! (sorted), with the full messages shown when a case fails.

use crate::base::diagnostic::Code;
use crate::base::source::SourceMap;
use crate::front::check::check;
use crate::front::loader::load_text;

const SCHEMA: &str = r#"
enum appointment_kind { first, follow_up }
pathway { birth_date: Date?  vulnerable: Bool = false }
event referral_received { ..pathway }
event dna { appointment: appointment_kind, communicated: Bool = true }
event treated
clock rtt { target 18 weeks }
rule start on referral_received when not rtt.open cite "RTT Rule 1" { start rtt }
"#;

/// The codes `fragment` (appended to [`SCHEMA`]) reports, sorted, and the messages.
fn codes(fragment: &str) -> (Vec<Code>, String) {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let text = format!("{SCHEMA}{fragment}");
    let loaded = load_text(
        "case.pal",
        &text,
        std::path::Path::new("."),
        &mut sources,
        &mut diags,
    );
    let checked = check(&loaded, &sources);
    diags.extend(checked.diagnostics);
    let mut codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
    codes.sort();
    let messages = diags
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("\n");
    (codes, messages)
}

#[test]
fn checker_reports_what_each_fragment_deserves() {
    use Code::*;
    let cases: &[(&str, &str, &[Code])] = &[
        ("clean", r#"rule stop on treated when rtt.open cite "RTT Rule 3a" { stop rtt reason treated }"#, &[]),
        ("mapping clean", r#"mapping m { pathway_id from "ID" date from "D" format "DD/MM/YYYY" event from "E" { "1" | "01" => dna, "2" => treated } field appointment from "A" { "N" => first } field communicated from "C" { "Y" => true, "N" => false } field birth_date from "B" format "YYYYMMDD" }"#, &[]),
        ("mapping without codes", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field appointment from "A" }"#, &[]),
        ("mapping missing date", r#"mapping m { pathway_id from "ID" event from "E" }"#, &[E0401]),
        ("mapping unknown target", r#"mapping m { pathway_id from "ID" date from "D" event from "E" dates from "X" }"#, &[E0401]),
        ("mapping core twice", r#"mapping m { pathway_id from "ID" date from "D" date from "D2" event from "E" }"#, &[E0402]),
        ("mapping field twice", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field appointment from "A" field appointment from "B" }"#, &[E0402]),
        ("mapping code twice", r#"mapping m { pathway_id from "ID" date from "D" event from "E" { "1" => dna, "1" => treated } }"#, &[E0402]),
        ("mapping bad format", r#"mapping m { pathway_id from "ID" date from "D" format "DD/MM" event from "E" }"#, &[E0403]),
        ("mapping unknown event", r#"mapping m { pathway_id from "ID" date from "D" event from "E" { "1" => dnaa } }"#, &[E0101]),
        ("mapping unknown field", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field apointment from "A" }"#, &[E0102]),
        ("mapping value not a variant", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field appointment from "A" { "N" => frist } }"#, &[E0103]),
        ("mapping value of the wrong type", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field communicated from "C" { "Y" => 1 } }"#, &[E0201]),
        ("mapping format on a non-date", r#"mapping m { pathway_id from "ID" date from "D" event from "E" field appointment from "A" format "DD/MM/YYYY" }"#, &[E0201]),
        ("mapping value map on the id", r#"mapping m { pathway_id from "ID" { "a" => b } date from "D" event from "E" }"#, &[E0201]),
        ("mapping named twice", r#"mapping m { pathway_id from "ID" date from "D" event from "E" } mapping m { pathway_id from "ID" date from "D" event from "E" }"#, &[E0110]),
        ("unknown event", r#"rule r on dnaa cite "x" { outcome review }"#, &[E0101]),
        ("unknown field", r#"rule r on dna when event.appointmnet == first cite "x" { outcome review }"#, &[E0102]),
        ("unknown variant", r#"rule r on dna when event.appointment == frist cite "x" { outcome review }"#, &[E0103]),
        ("unknown clock", r#"rule r on dna cite "x" { stop rtx reason dna }"#, &[E0104]),
        ("unknown parameter in set", "set notice = 3 weeks", &[E0105]),
        ("unknown rule to disable", r#"disable strat because "x""#, &[E0106]),
        ("duplicate rule", r#"rule start on treated cite "x" { outcome review }"#, &[E0110]),
        ("condition not Bool", r#"rule r on dna when event.appointment cite "x" { outcome review }"#, &[E0202]),
        ("optional unguarded", r#"rule r on dna when pathway.birth_date < now cite "x" { outcome review }"#, &[E0203]),
        ("optional guarded", r#"rule r on dna when pathway.birth_date is set and pathway.birth_date < now cite "x" { outcome review }"#, &[]),
        ("missing citation", r#"rule r on dna { outcome review }"#, &[W0001]),
        ("unused parameter", r#"param notice: Duration = 3 weeks cite "3.34""#, &[W0002]),
        ("disable without reason", "disable start", &[W0006]),
        (
            "possible conflict",
            r#"rule a on dna cite "x" { stop rtt reason dna }
               rule b on dna when event.communicated cite "y" { nullify rtt reason dna }"#,
            &[W0004],
        ),
        (
            "exclusive conditions do not conflict",
            r#"rule a on dna when event.appointment == first cite "x" { stop rtt reason dna }
               rule b on dna when event.appointment == follow_up cite "y" { nullify rtt reason dna }"#,
            &[],
        ),
        (
            "suppressed conflict",
            r#"rule a on dna cite "x" { stop rtt reason dna }
               // pal: allow(possible-conflict)
               rule b on dna when event.communicated cite "y" { nullify rtt reason dna }"#,
            &[],
        ),
        (
            "suppression for the wrong item",
            r#"// pal: allow(possible-conflict)
               rule a on dna cite "x" { stop rtt reason dna }
               rule b on dna when event.communicated cite "y" { nullify rtt reason dna }"#,
            &[W0004, W0008],
        ),
        (
            "a suppression between two items is for the one below",
            "param a: Int = 1 cite \"x\"\n// pal: allow(unused-parameter)\nparam b: Int = 2 cite \"y\"",
            &[W0002],
        ),
        (
            "empty rule body",
            r#"rule r on dna cite "x" { }"#,
            &[W0009],
        ),
        (
            "empty exception body is the idiom for 'does not apply'",
            r#"rule r on dna cite "x" { outcome review }
               exception e to r when event.communicated cite "y" { }"#,
            &[],
        ),
        (
            "a definition may read one declared below it",
            "def a = b and true\ndef b = true\nrule r on dna when a cite \"x\" { outcome review }",
            &[],
        ),
        (
            "definitions that read each other",
            "def a = b\ndef b = not a\nrule r on dna when a cite \"x\" { outcome review }",
            &[E0112],
        ),
        ("suppression of no lint", "// pal: allow(missing-cite)\nparam n: Int = 1 cite \"x\"\ndef d = n > 0\nrule r on dna when d cite \"x\" { outcome review }", &[W0008]),
    ];
    for (name, fragment, want) in cases {
        let (got, messages) = codes(fragment);
        assert_eq!(&got, want, "{name}:\n{messages}");
    }
}

#[test]
fn a_suppression_below_an_item_does_not_silence_it() {
    let (_, messages) = codes("param a: Int = 1 cite \"x\"\n\n// pal: allow(unused-parameter)\nparam b: Int = 2 cite \"y\"");
    assert_eq!(messages, "W0002: parameter `a` is never used");
}
