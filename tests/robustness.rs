//! The front end never panics, whatever it is given: random text, policy fragments spliced
//! together, deep nesting, huge numbers. (Property tests; a failure prints the input.)

use pal_engine::base::source::SourceMap;
use pal_engine::front::check::check;
use pal_engine::front::loader::load_text;
use proptest::prelude::*;
use std::path::Path;

fn check_text(text: &str) {
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let loaded = load_text(
        "fuzz.pal",
        text,
        Path::new("policies"),
        &mut sources,
        &mut diags,
    );
    let checked = check(&loaded, &sources);
    // Rendering must not panic either (spans must be valid).
    let all: Vec<_> = diags.into_iter().chain(checked.diagnostics).collect();
    for format in [
        pal_engine::io::render::Format::Human,
        pal_engine::io::render::Format::Short,
        pal_engine::io::render::Format::Json,
        pal_engine::io::render::Format::Github,
    ] {
        let _ = pal_engine::io::render::render(&all, &sources, format, false);
    }
}

const PIECES: &[&str] = &[
    "rule r",
    "on dna",
    "when",
    "event.appointment",
    "==",
    "first",
    "cite \"9.12.1\"",
    "{",
    "}",
    "nullify rtt reason x",
    "stop rtt reason y",
    "start rtt",
    "exception e to r",
    "param p: Int = 2",
    "set p = 3 weeks",
    "def d =",
    "count(dna where dna.appointment == first since rtt.start)",
    "last(dna).date",
    "is set",
    "??",
    "and",
    "or",
    "not",
    "(",
    ")",
    "[",
    "]",
    "3 weeks",
    "2025-02-30",
    "2025-01-06",
    "after 14 days from patient_undecided unless decision_to_treat",
    "test \"t\" {",
    "expect rtt running",
    "as at 2025-03-31",
    "2025-01-06 referral_received {}",
    "import \"national.pal\"",
    "policy x extends national",
    "disable r",
    "require appointment_booked within 5 working days",
    "pathway.birth_date",
    "age(pathway.birth_date, now)",
    "99999999999999999999",
    "-",
    "+",
    "\"unterminated",
    "£",
    "\u{0}",
    "//",
    "/*",
    "enum e { a, b }",
    "event ev { f: Date? }",
    "clock c { target 3 months }",
    "within 2 weeks of",
    "at least 3 weeks before",
    "in [first, follow_up]",
    "rtt.days_waited",
    ".",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        check_text(&text);
    }

    #[test]
    fn spliced_policy_fragments_never_panic(parts in prop::collection::vec(0..PIECES.len(), 0..40)) {
        let text: Vec<&str> = parts.iter().map(|i| PIECES[*i]).collect();
        check_text(&text.join(" "));
        check_text(&format!("import \"national.pal\"\n{}", text.join("\n")));
    }
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    check_text(&format!(
        "def x = {}true{}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    ));
    check_text(&format!("def x = {}true", "not ".repeat(100_000)));
    check_text(&format!("def x = true{}", " and true".repeat(50_000)));
    check_text(&"{".repeat(100_000));
    check_text(&format!(
        "test \"t\" {{ {} }}",
        "expect rtt running ".repeat(10_000)
    ));
}
