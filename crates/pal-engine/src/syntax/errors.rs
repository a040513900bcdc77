//! Rewrites pest's parse errors into PAL diagnostics with friendly names for what was expected
//! ("expected a duration such as `3 weeks`"), never pest's raw rule list.

use super::parser::Rule;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{FileId, Span};
use pest::error::{Error, ErrorVariant, InputLocation};

/// The diagnostic for input nested deeper than [`super::MAX_NESTING`].
pub(crate) fn nesting_error(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0004,
        format!("nesting is deeper than {} levels", super::MAX_NESTING),
    )
    .primary(span, "too deeply nested")
    .help("split the condition into named parts with `def`")
}

/// What a grammar rule is called in an error message, or `None` to leave it out.
fn friendly(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        ident => "a name",
        string | string_inner | description => "a quoted string such as `\"9.12.1\"`",
        date => "a date such as `2025-01-06`",
        int | neg_int => "a number",
        duration => "a duration such as `3 weeks`",
        duration_unit => "a unit such as `days`, `weeks`, `months` or `working days`",
        bool_lit => "`true` or `false`",
        literal | qualified_ident => "a value",
        type_ref | list_type => "a type such as `Date`, `Bool`, `Int` or `[specialty]`",
        optional_mark => "`?`",
        expr | paren | call | primary | list_lit => "an expression",
        not_op | neg_op => "an expression",
        or_op | and_op | coalesce_op | eq_op | ne_op | le_op | ge_op | lt_op | gt_op
        | within_op | at_least_op | add_op | sub_op | mul_op | div_op | is_set_op
        | is_not_set_op | in_op | not_in_op | field_op | method_op => {
            "an operator such as `and`, `==` or `+`"
        }
        call_args => "arguments",
        where_clause => "`where`",
        since_clause => "`since`",
        among_clause => "`among`",
        header => "`policy`",
        extends_clause => "`extends`",
        import_decl | enum_decl | pathway_decl | event_decl | clock_decl | calendar_decl
        | param_decl | set_decl | def_decl | rule_decl | exception_decl | disable_decl
        | test_decl | same_day_decl | mapping_decl => "a declaration (`rule`, `exception`, `param`, `event`, `test`, …)",
        field_decl => "a field such as `appointment: appointment_kind`",
        spread => "`..pathway`",
        calendar_setting => "`holidays` or `month_end`",
        param_value => "a value",
        dated_value => "`, VALUE from DATE`",
        on_trigger => "`on EVENT`",
        after_trigger => "`after DURATION from EVENT`",
        unless_clause => "`unless`",
        when_clause => "`when`",
        cite => "`cite \"paragraph\"`",
        action_block => "`{`",
        start_action | stop_action | nullify_action | reset_action | pause_action
        | resume_action | outcome_action | require_action | warn_action => {
            "an action (`start`, `stop`, `nullify`, `reset`, `pause`, `resume`, `outcome`, `require`, `warn`)"
        }
        on_date => "`on DATE`",
        of_date => "`of DATE`",
        met_by => "`by EVENT`",
        test_pathway | test_event | test_set | test_as_at | expect => {
            "a test step (an event line such as `2025-01-06 referral_received`, `as at DATE` or `expect …`)"
        }
        record => "`{`",
        record_field => "a field such as `appointment: first`",
        expect_outcome | expect_obligation | expect_conflict | expect_warning | expect_clock => {
            "an expectation"
        }
        clock_status => "a clock status (`running`, `paused`, `stopped`, `nullified` or `not_started`)",
        before_after => "`before` or `after`",
        no => "`no`",
        EOI => "end of file",
        kw_pathway => "`pathway`",
        kw_expect => "`expect`",
        kw_after => "`after`",
        kw_among => "`among`",
        kw_and => "`and`",
        kw_as => "`as`",
        kw_at => "`at`",
        kw_because => "`because`",
        kw_before => "`before`",
        kw_by => "`by`",
        kw_cite => "`cite`",
        kw_from => "`from`",
        kw_in => "`in`",
        kw_is => "`is`",
        kw_least => "`least`",
        kw_not => "`not`",
        kw_of => "`of`",
        kw_on => "`on`",
        kw_or => "`or`",
        kw_reason => "`reason REASON`",
        kw_set => "`set`",
        kw_target => "`target DURATION`",
        standard_clause | kw_standard => "`standard PERCENT%`",
        kw_to => "`to`",
        kw_unless => "`unless`",
        kw_when => "`when`",
        kw_where => "`where`",
        kw_within => "`within`",
        kw_period => "`period`",
        map_entry | map_field => {
            "a mapping entry such as `pathway_id from \"COLUMN\"` or `field priority from \"COLUMN\"`"
        }
        map_format | kw_format => "`format \"DD/MM/YYYY\"`",
        value_map => "`{ \"CODE\" => VALUE, … }`",
        map_arm => "`\"CODE\" => VALUE`",
        kw_field => "`field`",
        _ => return None,
    })
}

const EXPRESSION: &str = "an expression";
const OPERATOR: &str = "an operator such as `and`, `==` or `+`";
const ACTION: &str =
    "an action (`start`, `stop`, `nullify`, `reset`, `pause`, `resume`, `outcome`, `require`, `warn`)";
const DECLARATION: &str =
    "a declaration (`rule`, `exception`, `param`, `set`, `def`, `event`, `clock`, `test`, …)";

/// Groups what pest expected into a few friendly phrases, most useful first.
fn expected_list(positives: &[Rule]) -> Vec<&'static str> {
    use Rule::*;
    let has = |rs: &[Rule]| positives.iter().any(|r| rs.contains(r));
    let expression_start = has(&[int, date, string, bool_lit, neg_op, paren, expr, call]);
    let operator = has(&[
        or_op,
        and_op,
        coalesce_op,
        eq_op,
        ne_op,
        le_op,
        ge_op,
        lt_op,
        gt_op,
        add_op,
        sub_op,
        mul_op,
        div_op,
        field_op,
        method_op,
        is_set_op,
        in_op,
    ]);
    let mut out: Vec<&'static str> = Vec::new();
    fn push(out: &mut Vec<&'static str>, s: &'static str) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    for r in positives {
        let name = match r {
            ident | int | date | string | bool_lit | neg_op | paren | kw_not if expression_start => {
                EXPRESSION
            }
            kw_and | kw_or | kw_at | kw_in | kw_is | kw_not | kw_within if operator => OPERATOR,
            kw_start | kw_stop | kw_nullify | kw_reset | kw_pause | kw_resume | kw_outcome
            | kw_require | kw_warn => ACTION,
            kw_import | kw_enum | kw_pathway | kw_event | kw_clock | kw_calendar | kw_param
            | kw_set | kw_def | kw_rule | kw_exception | kw_disable | kw_test
                if positives.contains(&kw_rule) =>
            {
                DECLARATION
            }
            kw_obligation | kw_conflict | kw_warning | expect_outcome | expect_obligation
            | expect_conflict | expect_warning | expect_clock => {
                "an expectation (`outcome`, `obligation`, `conflict`, `warning`, `CLOCK STATUS` or a condition)"
            }
            other => match friendly(*other) {
                Some(n) => n,
                None => continue,
            },
        };
        push(&mut out, name);
    }
    // After an action keyword list, the block may also simply end.
    if out.contains(&ACTION) {
        push(&mut out, "`}`");
    }
    out
}

/// Joins `["a", "b", "c"]` as "a, b or c".
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The token at `pos`: a word, a number, a single symbol, or "end of file".
fn token_at(text: &str, pos: usize) -> (usize, usize, String) {
    let pos = pos.min(text.len());
    let rest = &text[pos..];
    let Some(first) = rest.chars().next() else {
        return (pos, pos, "end of file".to_string());
    };
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    let tok = &rest[..len];
    let shown = if first == '\n' || first == '\r' {
        "end of line".to_string()
    } else {
        format!("`{tok}`")
    };
    (pos, pos + len, shown)
}

/// Converts a pest error into an `E0001` diagnostic.
pub(crate) fn syntax_error(file: FileId, text: &str, err: Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (start, end, found) = token_at(text, pos);
    let span = Span::new(file, start..end);
    let (positives, negatives) = match &err.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => (positives.clone(), negatives.clone()),
        // pest's stack guard stopped it: the input nests deeper than can be parsed.
        ErrorVariant::CustomError { message } if message.contains("limit reached") => {
            return nesting_error(span);
        }
        ErrorVariant::CustomError { message } => {
            return Diagnostic::new(Code::E0001, message.clone()).primary(span, "here");
        }
    };
    if let Some(d) = unclosed(file, text, start) {
        return d;
    }
    let expected = expected_list(&positives);
    let message = if expected.is_empty() {
        if negatives.is_empty() {
            format!("unexpected {found}")
        } else {
            format!("{found} is a reserved word and cannot be used here")
        }
    } else {
        format!("expected {}, found {found}", or_list(&expected))
    };
    let mut d = Diagnostic::new(Code::E0001, message).primary(span, label_for(&expected));
    if text[start..].starts_with('=') && !text[start..].starts_with("==") {
        d = d.help("to compare two values write `==` (a single `=` only sets a parameter: `set name = value`)");
    } else if let Some(help) = hint(&positives, text, start) {
        d = d.help(help);
    }
    d
}

/// A string or block comment opened at `start` and never closed where the author meant to close
/// it: pest reports the error at the opening `"` or `/*` with a list of expected tokens, which
/// says nothing of the real mistake.
fn unclosed(file: FileId, text: &str, start: usize) -> Option<Diagnostic> {
    let rest = &text[start..];
    if rest.starts_with('"') {
        let line_end = rest.find('\n').unwrap_or(rest.len());
        let closed_on_line = rest[1..line_end].contains('"');
        if closed_on_line {
            return None;
        }
        return Some(
            Diagnostic::new(Code::E0001, "unterminated string")
                .primary(Span::new(file, start..start + 1), "this `\"` is not closed on its line")
                .help("close the string with `\"` before the end of the line (strings cannot span lines)"),
        );
    }
    if rest.starts_with("/*") && !rest[2..].contains("*/") {
        return Some(
            Diagnostic::new(Code::E0001, "unterminated block comment")
                .primary(
                    Span::new(file, start..start + 2),
                    "this `/*` is never closed",
                )
                .help("close the comment with `*/`, or use `//` for a one-line comment"),
        );
    }
    None
}

fn label_for(expected: &[&str]) -> String {
    match expected {
        [one] => format!("expected {one} here"),
        _ => "unexpected here".to_string(),
    }
}

/// A targeted hint for common mistakes.
fn hint(positives: &[Rule], text: &str, pos: usize) -> Option<String> {
    let before = text[..pos.min(text.len())].trim_end();
    let word = text[pos.min(text.len())..]
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    const RESERVED: &[&str] = &[
        "policy",
        "extends",
        "import",
        "enum",
        "calendar",
        "param",
        "def",
        "rule",
        "exception",
        "disable",
        "because",
        "test",
        "expect",
        "on",
        "when",
        "after",
        "from",
        "unless",
        "to",
        "cite",
        "within",
        "of",
        "by",
        "where",
        "since",
        "among",
        "and",
        "or",
        "not",
        "is",
        "in",
        "at",
        "least",
        "before",
        "true",
        "false",
        "as",
    ];
    let opens = before.matches('(').count();
    let closes = before.matches(')').count();
    if opens > closes && !positives.contains(&Rule::duration_unit) {
        return Some("a `(` before this point is not closed: add the matching `)`".into());
    }
    if positives.contains(&Rule::duration_unit) {
        return Some(
            "write a unit after the number, e.g. `3 weeks`, `14 days` or `5 working days`".into(),
        );
    }
    if positives.contains(&Rule::ident) && RESERVED.contains(&word) {
        return Some(format!("`{word}` is a reserved word; choose another name"));
    }
    if positives.contains(&Rule::kw_reason) {
        return Some("a clock stop or nullification needs a reason, e.g. `stop rtt reason first_definitive_treatment`".into());
    }
    if positives.contains(&Rule::action_block) && before.ends_with('"') {
        return Some("a rule's actions go in braces: `{ stop rtt reason … }`".into());
    }
    if word.chars().all(|c| c.is_ascii_digit())
        && !word.is_empty()
        && positives.contains(&Rule::ident)
    {
        return Some("names start with a letter or `_`".into());
    }
    if positives.iter().any(|r| {
        matches!(
            r,
            Rule::start_action
                | Rule::stop_action
                | Rule::nullify_action
                | Rule::outcome_action
                | Rule::require_action
        )
    }) && !word.is_empty()
    {
        return Some(format!(
            "`{word}` is not an action; actions are `start`, `stop`, `nullify`, `reset`, `pause`, `resume`, `outcome`, `require` and `warn`"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::parse_file;
    use crate::base::diagnostic::Code;
    use crate::base::source::FileId;

    fn err(src: &str) -> crate::base::diagnostic::Diagnostic {
        match parse_file(FileId(0), src) {
            Err(d) => d,
            Ok(_) => panic!("expected a syntax error in {src}"),
        }
    }

    #[test]
    fn a_number_without_a_unit_asks_for_a_unit() {
        let d = err("rule r after 3 wekks from dna cite \"x\" { outcome x }");
        assert_eq!(d.code, Code::E0001);
        assert!(d.message.contains("a unit such as"), "{}", d.message);
        assert!(d.help.as_deref().is_some_and(|h| h.contains("3 weeks")));
    }

    #[test]
    fn messages_never_show_raw_rule_names() {
        for src in [
            "rule",
            "rule r on",
            "rule r on dna {",
            "rule r on dna { stop rtt }",
            "param x: = 3",
            "test \"t\" { expect }",
            "enum e { }",
            "event e { a: }",
            "rule r on dna when a == { outcome x }",
        ] {
            let d = err(src);
            assert!(
                !d.message.contains('_') || d.message.contains('`'),
                "{src}: {}",
                d.message
            );
            assert!(!d.message.contains("Rule"), "{src}: {}", d.message);
        }
    }

    #[test]
    fn a_stop_without_reason_explains_itself() {
        let d = err("rule r on dna cite \"x\" { stop rtt }");
        assert!(d.message.contains("`reason REASON`"), "{}", d.message);
    }

    #[test]
    fn a_reserved_word_as_a_name_is_explained() {
        let d = err("param from: Int = 3 cite \"x\"");
        assert!(
            d.help.as_deref().is_some_and(|h| h.contains("reserved")),
            "{d:?}"
        );
    }
}
