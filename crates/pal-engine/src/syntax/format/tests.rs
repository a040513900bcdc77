//! The formatter's properties: formatting keeps the AST (spans aside) and every comment in
//! place, and formatting twice changes nothing — over every shipped policy and generated ones.

#![cfg(test)]

use super::*;
use crate::base::source::FileId;

/// The AST with every span erased: two files mean the same iff their shapes are equal.
fn shape(ast: &File) -> String {
    let debug = format!("{ast:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        out.push_str("Span");
        rest = match rest[at..].find('}') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// For each comment: its text and the index of the item it is inside or above (as the
/// suppression comments read them), sorted: the comments of one item may change order.
fn comment_places(text: &str, ast: &File) -> Vec<(usize, String)> {
    let spans = item_extents(text, ast);
    let mut places: Vec<(usize, String)> = comments(text)
        .into_iter()
        .map(|c| {
            let at = c.start;
            let place = spans
                .iter()
                .position(|s| s.start <= at && at < s.end)
                .or_else(|| spans.iter().position(|s| s.start > at))
                .unwrap_or(spans.len());
            (place, c.text)
        })
        .collect();
    places.sort();
    places
}

/// Formats `text`, asserting the properties; returns the formatted text.
pub(super) fn check_roundtrip(name: &str, text: &str) -> String {
    let before = match parse_file(FileId(0), text) {
        Ok(ast) => ast,
        Err(d) => panic!("{name}: does not parse: {d:?}"),
    };
    let once = format_file(text, &before);
    let after = match parse_file(FileId(0), &once) {
        Ok(ast) => ast,
        Err(d) => panic!("{name}: formatted text does not parse: {d:?}\n{once}"),
    };
    assert_eq!(
        shape(&before),
        shape(&after),
        "{name}: formatting changed the AST\n{once}"
    );
    assert_eq!(
        comment_places(text, &before),
        comment_places(&once, &after),
        "{name}: a comment moved to another item\n{once}"
    );
    let twice = format_file(&once, &after);
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    once
}

fn pal_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            pal_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "pal") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_policy_round_trips_and_is_idempotent() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    pal_files(&root.join("policies"), &mut files);
    pal_files(&root.join("tests"), &mut files);
    pal_files(&root.join("examples"), &mut files);
    assert!(files.len() > 10, "no shipped policies found");
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if parse_file(FileId(0), &text).is_err() {
            continue; // diagnostic fixtures with deliberate syntax errors
        }
        let out = check_roundtrip(&f.display().to_string(), &text);
        if let Some(dir) = std::env::var_os("PAL_FMT_DUMP") {
            let name = f.display().to_string().replace(['/', '.'], "_");
            let _ = std::fs::write(std::path::Path::new(&dir).join(name), out);
        }
    }
}

#[test]
fn the_ugly_fixture_formats_to_its_golden_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fmt");
    let ugly = std::fs::read_to_string(root.join("ugly.pal")).unwrap_or_default();
    let golden = std::fs::read_to_string(root.join("ugly.formatted.pal")).unwrap_or_default();
    let got = check_roundtrip("tests/fmt/ugly.pal", &ugly);
    if std::env::var_os("PAL_BLESS").is_some() {
        let _ = std::fs::write(root.join("ugly.formatted.pal"), &got);
        return;
    }
    assert_eq!(
        got, golden,
        "tests/fmt/ugly.formatted.pal is out of date (PAL_BLESS=1 rewrites it)"
    );
    assert_eq!(check_roundtrip("ugly.formatted.pal", &golden), golden);
}

#[test]
fn layout_decisions() {
    // (input, canonical form)
    let cases: &[(&str, &str)] = &[
        (
            "rule r on a cite \"x\" {outcome o}",
            "rule r on a cite \"x\" { outcome o }\n",
        ),
        (
            "rule r on a cite \"x\" {outcome o;warn \"w\"}",
            "rule r\n  on a\n  cite \"x\"\n{\n  outcome o\n  warn \"w\"\n}\n",
        ),
        ("def d = (a and b) or c", "def d = (a and b) or c\n"),
        ("def d = a+b*c", "def d = a + b * c\n"),
        (
            "def d = pathway.age_at(now)",
            "def d = pathway.age_at(now)\n",
        ),
        (
            "def d = age_at(pathway,now)",
            "def d = age_at(pathway, now)\n",
        ),
        (
            "param p: Duration = 2   weeks",
            "param p: Duration = 2 weeks\n",
        ),
        (
            "param p: Duration = 5 working\tdays",
            "param p: Duration = 5 working days\n",
        ),
        ("enum e {a,b,}", "enum e { a, b }\n"),
        (
            "def d = x // why\n  and y",
            "def d =\n  x // why\n  and y\n",
        ),
        (
            "// pal: allow(unused-parameter)\nparam p: Int = 1",
            "// pal: allow(unused-parameter)\nparam p: Int = 1\n",
        ),
        (
            "param p: Int = 1 // pal: allow(unused-parameter)\nparam q: Int = 2",
            "param p: Int = 1 // pal: allow(unused-parameter)\nparam q: Int = 2\n",
        ),
        (
            "rule r on a cite \"x\" { outcome o } // pal: allow(possible-conflict)\nrule s on a cite \"y\" { outcome p }",
            "rule r on a cite \"x\" { outcome o } // pal: allow(possible-conflict)\nrule s on a cite \"y\" { outcome p }\n",
        ),
        (
            "rule r on a cite \"x\" {\n  // why\n  outcome o // because\n}",
            "rule r\n  on a\n  cite \"x\"\n{\n  // why\n  outcome o // because\n}\n",
        ),
        // A comment inside an expression goes above its item, never into another one.
        (
            "def d = a + /* one */ b\ndef e = c",
            "/* one */\ndef d = a + b\ndef e = c\n",
        ),
        ("", ""),
    ];
    for (input, want) in cases {
        assert_eq!(&check_roundtrip(input, input), want, "{input:?}");
    }
}

mod generated {
    //! Policies from a small generator of declarations and expressions, written with random
    //! spacing, line breaks and comments between tokens.

    use super::check_roundtrip;
    use proptest::prelude::*;
    use proptest::sample::select;

    const OPS: &[&str] = &[
        "and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "??",
    ];

    fn wrap(e: String, paren: bool) -> String {
        if paren {
            format!("({e})")
        } else {
            e
        }
    }

    fn leaf() -> BoxedStrategy<String> {
        prop_oneof![
            select(vec!["a", "b", "rtt.open", "event.date", "now", "x_1"]).prop_map(String::from),
            (0u32..200).prop_map(|n| n.to_string()),
            select(vec![
                "3 weeks",
                "2 days",
                "5 working days",
                "1 month",
                "10 years"
            ])
            .prop_map(String::from),
            Just("2025-01-06".to_string()),
            Just("\"s t\"".to_string()),
            Just("true".to_string()),
        ]
        .boxed()
    }

    pub(super) fn expr() -> BoxedStrategy<String> {
        leaf()
            .prop_recursive(4, 24, 3, |inner| {
                let e = || inner.clone();
                prop_oneof![
                    (e(), select(OPS), e(), any::<bool>(), any::<bool>()).prop_map(
                        |(a, op, b, pa, pb)| format!("{} {op} {}", wrap(a, pa), wrap(b, pb))
                    ),
                    (e(), any::<bool>()).prop_map(|(a, p)| format!("not {}", wrap(a, p))),
                    (e(), any::<bool>()).prop_map(|(a, p)| format!("-{}", wrap(a, p))),
                    (e(), any::<bool>(), any::<bool>()).prop_map(|(a, p, yes)| format!(
                        "{} is {}set",
                        wrap(a, p),
                        if yes { "" } else { "not " }
                    )),
                    (e(), prop::collection::vec(e(), 0..3), any::<bool>()).prop_map(
                        |(a, l, yes)| {
                            format!("{a} {}in [{}]", if yes { "" } else { "not " }, l.join(", "))
                        }
                    ),
                    (e(), e(), e(), any::<bool>()).prop_map(|(a, w, o, p)| format!(
                        "{} within {w} of {}",
                        wrap(a, p),
                        wrap(o, p)
                    )),
                    (e(), e(), any::<bool>(), e()).prop_map(|(a, g, before, r)| format!(
                        "({a}) at least {g} {} ({r})",
                        if before { "before" } else { "after" }
                    )),
                    (e(), proptest::option::of(e()), proptest::option::of(e())).prop_map(
                        |(a, w, s)| {
                            let mut t = format!("count({a}");
                            if let Some(w) = w {
                                t += &format!(" where {w}");
                            }
                            if let Some(s) = s {
                                t += &format!(" since {s}");
                            }
                            t + ")"
                        }
                    ),
                    (e(), e()).prop_map(|(a, b)| format!("max({a}, {b})")),
                    (e(), any::<bool>()).prop_map(|(a, p)| format!("{}.age_at(now)", wrap(a, p))),
                    (e(), any::<bool>()).prop_map(|(a, p)| format!("{}.date", wrap(a, p))),
                    e().prop_map(|a| format!("({a})")),
                ]
            })
            .boxed()
    }

    fn cite() -> impl Strategy<Value = String> {
        select(vec!["", " cite \"9.1\"", " cite \"9.1\", \"local\""]).prop_map(String::from)
    }

    fn action() -> BoxedStrategy<String> {
        prop_oneof![
            Just("start rtt".to_string()),
            expr().prop_map(|e| format!("stop rtt reason done on {e}")),
            Just("nullify rtt reason dna".to_string()),
            expr().prop_map(|e| format!("reset rtt to {e}")),
            Just("pause rtt".to_string()),
            expr().prop_map(|e| format!("resume rtt on {e}")),
            Just("outcome rebook".to_string()),
            (
                expr(),
                proptest::option::of(expr()),
                any::<bool>(),
                proptest::option::of(expr())
            )
                .prop_map(|(w, of, by, wh)| {
                    let mut t = format!("require booked within {w}");
                    if let Some(of) = of {
                        t += &format!(" of {of}");
                    }
                    if by {
                        t += " by attended or dna";
                        if let Some(wh) = wh {
                            t += &format!(" where {wh}");
                        }
                    }
                    t
                }),
            Just("warn \"check it\"".to_string()),
        ]
        .boxed()
    }

    fn actions() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(action(), 0..4),
            select(vec![" ", "; ", "\n"]),
        )
            .prop_map(|(a, sep)| format!("{{ {} }}", a.join(sep)))
    }

    fn item() -> BoxedStrategy<String> {
        prop_oneof![
            (expr(), proptest::option::of(expr()), cite()).prop_map(|(v, dated, c)| {
                let dated = dated.map(|d| format!(", {d} from 2026-03-01")).unwrap_or_default();
                format!("param p: Int = {v}{dated}{c}")
            }),
            (expr(), cite()).prop_map(|(v, c)| format!("set p = {v}{c}")),
            (expr(), any::<bool>(), cite())
                .prop_map(|(v, d, c)| format!("def d{} = {v}{c}", if d { " \"desc\"" } else { "" })),
            (
                any::<bool>(),
                prop_oneof![
                    Just("on dna or attended".to_string()),
                    Just("on dna".to_string()),
                    expr().prop_map(|e| format!("after {e} from dna unless attended or booked")),
                    expr().prop_map(|e| format!("after {e} from dna")),
                ],
                proptest::option::of(expr()),
                cite(),
                actions()
            )
                .prop_map(|(d, t, w, c, a)| {
                    let w = w.map(|w| format!(" when {w}")).unwrap_or_default();
                    let d = if d { " \"a rule\"" } else { "" };
                    format!("rule r{d} {t}{w}{c} {a}")
                }),
            (any::<bool>(), proptest::option::of(expr()), cite(), actions()).prop_map(|(on, w, c, a)| {
                let on = if on { " on dna" } else { "" };
                let w = w.map(|w| format!(" when {w}")).unwrap_or_default();
                format!("exception x to r{on}{w}{c} {a}")
            }),
            Just("enum kind { first, follow_up, }".to_string()),
            Just("pathway { birth_date: Date?, vulnerable: Bool = false }".to_string()),
            Just("event dna \"did not attend\" { kind: kind = first, ..pathway, n: Int = -1 }".to_string()),
            Just("event ping".to_string()),
            Just("clock rtt \"rtt\" { target 18 weeks standard 92% of incomplete cite \"x\" }".to_string()),
            Just("calendar { holidays \"bh.json\" month_end clamp }".to_string()),
            Just("disable r because \"local\"".to_string()),
            Just("import \"other.pal\"".to_string()),
            Just("mapping m \"desc\" { pathway_id from \"ID\", date from \"D\" format \"DD/MM/YYYY\" or \"YYYY-MM-DD\" event from \"E\" { \"1\" | \"01\" => dna, \"2\" => ping } field n from \"N\" { \"a\" => -1, \"b\" => 2 } field kind from \"K\" { } }".to_string()),
            (expr(), expr()).prop_map(|(s, x)| format!(
                "test \"t\" {{ pathway {{ birth_date: 1970-01-01 }} 2025-01-06 dna {{ kind: kind.first, n: -3 }} \
                 2025-01-07 ping set p = {s} as at 2025-02-01 expect rtt period 2 running on 2025-01-01 \
                 expect no outcome o cite \"x\" expect obligation booked met expect no conflict expect warning \
                 expect {x} }}"
            )),
        ]
        .boxed()
    }

    /// Replaces the spaces between tokens (not inside strings or `working days`) by spacing,
    /// line breaks and comments chosen by `noise`.
    fn noisy(text: &str, noise: &[u8]) -> String {
        const SEPS: &[&str] = &[
            " ",
            " ",
            " ",
            " ",
            " ",
            " ",
            "  ",
            "\n",
            "\n\n",
            "\n\t ",
            " /* c */ ",
            " // c\n",
            "\n// own\n",
        ];
        let mut out = String::with_capacity(text.len() * 2);
        let mut in_string = false;
        let mut k = 0;
        let mut prev = '\0';
        for c in text.chars() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            }
            if c == ' ' && !in_string && !out.ends_with("working") && !noise.is_empty() {
                out.push_str(SEPS[noise[k % noise.len()] as usize % SEPS.len()]);
                k += 1;
            } else {
                out.push(c);
            }
            prev = c;
        }
        out
    }

    fn policy() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            prop::collection::vec(item(), 0..6),
            prop::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(header, items, noise)| {
                let mut text = String::new();
                if header {
                    text.push_str("policy gen extends national\n");
                }
                text.push_str(&items.join("\n"));
                noisy(&text, &noise)
            })
    }

    proptest! {
        #[test]
        fn formatting_keeps_the_ast_and_comments_and_is_idempotent(text in policy()) {
            if crate::syntax::parse_file(crate::base::source::FileId(0), &text).is_ok() {
                check_roundtrip("generated", &text);
            }
        }
    }
}

mod mutated {
    //! The shipped policies with a piece cut out or a piece of another place pasted in: what
    //! still parses must format with the same properties (and nothing may panic).

    use super::{check_roundtrip, pal_files};
    use proptest::prelude::*;

    fn sources() -> &'static [String] {
        static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        TEXTS.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
            let mut files = Vec::new();
            pal_files(&root, &mut files);
            files
                .iter()
                .filter_map(|f| std::fs::read_to_string(f).ok())
                .collect()
        })
    }

    /// The nearest char boundary at or before `i`.
    fn boundary(s: &str, mut i: usize) -> usize {
        i = i.min(s.len());
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    proptest! {
        #[test]
        fn a_mutated_policy_that_parses_formats_faithfully(
            file in any::<prop::sample::Index>(),
            at in any::<prop::sample::Index>(),
            len in 0usize..200,
            from in any::<prop::sample::Index>(),
            paste in 0usize..80,
        ) {
            let texts = sources();
            prop_assume!(!texts.is_empty());
            let text = &texts[file.index(texts.len())];
            let a = boundary(text, at.index(text.len() + 1));
            let b = boundary(text, a + len);
            let f = boundary(text, from.index(text.len() + 1));
            let g = boundary(text, f + paste);
            let mutated = format!("{}{}{}", &text[..a], &text[f..g], &text[b..]);
            if crate::syntax::parse_file(crate::base::source::FileId(0), &mutated).is_ok() {
                check_roundtrip("mutated", &mutated);
            }
        }
    }
}
