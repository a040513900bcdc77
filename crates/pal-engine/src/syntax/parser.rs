//! From pest pairs to the spanned AST. Expressions go through a Pratt parser.

use super::ast::*;
use super::errors::{nesting_error, syntax_error};
use super::MAX_NESTING;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{FileId, Span};
use crate::base::value::{parse_date, Duration, DurationKind};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/pal.pest"]
pub(crate) struct PalParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::eq_op, Assoc::Left)
            | Op::infix(Rule::ne_op, Assoc::Left)
            | Op::infix(Rule::lt_op, Assoc::Left)
            | Op::infix(Rule::le_op, Assoc::Left)
            | Op::infix(Rule::gt_op, Assoc::Left)
            | Op::infix(Rule::ge_op, Assoc::Left)
            | Op::infix(Rule::within_op, Assoc::Left)
            | Op::infix(Rule::at_least_op, Assoc::Left)
            | Op::postfix(Rule::is_set_op)
            | Op::postfix(Rule::is_not_set_op)
            | Op::postfix(Rule::in_op)
            | Op::postfix(Rule::not_in_op))
        .op(Op::infix(Rule::coalesce_op, Assoc::Left))
        .op(Op::infix(Rule::add_op, Assoc::Left) | Op::infix(Rule::sub_op, Assoc::Left))
        .op(Op::infix(Rule::mul_op, Assoc::Left) | Op::infix(Rule::div_op, Assoc::Left))
        .op(Op::prefix(Rule::neg_op))
        .op(Op::postfix(Rule::field_op) | Op::postfix(Rule::method_op))
});

type PResult<T> = Result<T, Diagnostic>;

/// Parses a whole policy file. On a syntax error, returns the one diagnostic that explains it.
pub fn parse_file(file: FileId, text: &str) -> Result<File, Diagnostic> {
    check_nesting(file, text)?;
    let pairs = PalParser::parse(Rule::file, text).map_err(|e| syntax_error(file, text, e))?;
    let b = Builder::new(file);
    let mut out = File::default();
    for pair in pairs.flatten().take(1) {
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::header => out.header = Some(b.header(p)?),
                Rule::EOI => {}
                _ => out.items.push(b.item(p)?),
            }
        }
    }
    Ok(out)
}

/// What a REPL line contains.
#[derive(Debug, Clone)]
pub enum ReplLine {
    /// Declarations (rules, params, …) to add to the session's policy.
    Items(Vec<Item>),
    /// A test-style step: an event, `pathway {…}`, `set`, `as at` or `expect`.
    Step(TestStep),
    /// An expression to evaluate.
    Expr(Expr),
}

/// Parses one REPL input (possibly several lines).
pub fn parse_repl_line(file: FileId, text: &str) -> Result<ReplLine, Diagnostic> {
    check_nesting(file, text)?;
    let mut pairs =
        PalParser::parse(Rule::repl_line, text).map_err(|e| syntax_error(file, text, e))?;
    let b = Builder::new(file);
    let line = pairs.next().map(|p| p.into_inner());
    let mut inner: Vec<Pair<Rule>> = line
        .into_iter()
        .flatten()
        .filter(|p| p.as_rule() != Rule::EOI)
        .collect();
    let first = inner.first().map(|p| p.as_rule());
    match first {
        Some(Rule::expr) => Ok(ReplLine::Expr(b.expr(inner.remove(0))?)),
        Some(Rule::test_pathway)
        | Some(Rule::test_event)
        | Some(Rule::test_set)
        | Some(Rule::test_as_at)
        | Some(Rule::expect) => Ok(ReplLine::Step(b.test_step(inner.remove(0))?)),
        _ => Ok(ReplLine::Items(
            inner
                .into_iter()
                .map(|p| b.item(p))
                .collect::<PResult<_>>()?,
        )),
    }
}

/// Rejects bracket nesting deeper than [`MAX_NESTING`] before pest (which recurses) sees it.
/// Comments are skipped as the grammar skips them (a `"` inside `/* … */` opens no string).
/// Nesting without brackets (`a within b within … of c of d`) is bounded by pest's own stack
/// guard (reported as `E0004` too) and by the builder's depth count.
fn check_nesting(file: FileId, text: &str) -> PResult<()> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek().map(|p| p.1) == Some('/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().map(|p| p.1) == Some('*') => {
                chars.next();
                let mut star = false;
                for (_, c) in chars.by_ref() {
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(nesting_error(Span::new(file, i..i + 1)));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

struct Builder {
    file: FileId,
    /// How many expressions enclose the one being built: checked *before* each recursive
    /// step, so the builder's own recursion is bounded whatever pest accepted.
    depth: std::cell::Cell<usize>,
}

/// The length of `text` up to the end of its last token: trailing whitespace and comments
/// (`// …`, `/* … */`) are not counted; comment markers inside strings are text.
fn code_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut end) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                end = i;
            }
            _ => {
                // A whole character; the byte-order mark is whitespace to the grammar.
                let c = text[i..].chars().next().unwrap_or(' ');
                i += c.len_utf8();
                if c != '\u{feff}' {
                    end = i;
                }
            }
        }
    }
    end
}

impl Builder {
    fn new(file: FileId) -> Builder {
        Builder {
            file,
            depth: std::cell::Cell::new(0),
        }
    }
}

fn first_inner(pair: Pair<Rule>) -> Option<Pair<Rule>> {
    pair.into_inner().next()
}

impl Builder {
    /// The pair's span without the blank lines and comments pest takes in after a node that
    /// ends in an optional or repeated part (`disable r (because "…")?`): a label under an
    /// item stops at its last token.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let end = s.start() + code_len(s.as_str());
        Span::new(self.file, s.start()..end)
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    fn string(&self, pair: Pair<Rule>) -> StrLit {
        let span = self.span(&pair);
        let raw = pair
            .into_inner()
            .next()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(other) => value.push(other),
                    None => {}
                }
            } else {
                value.push(c);
            }
        }
        StrLit { value, span }
    }

    /// Idents among the pair's children (keywords skipped).
    fn idents(&self, pair: Pair<Rule>) -> Vec<Ident> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::ident)
            .map(|p| self.ident(p))
            .collect()
    }

    fn date(&self, pair: &Pair<Rule>) -> PResult<NaiveDateLit> {
        parse_date(pair.as_str()).ok_or_else(|| {
            Diagnostic::new(
                Code::E0001,
                format!("`{}` is not a calendar date", pair.as_str()),
            )
            .primary(self.span(pair), "no such day")
            .help("dates are written YYYY-MM-DD, e.g. `2025-01-06`")
        })
    }

    fn int(&self, pair: &Pair<Rule>) -> PResult<i64> {
        pair.as_str().parse::<i64>().map_err(|_| {
            Diagnostic::new(
                Code::E0001,
                format!("`{}` is too large a number", pair.as_str()),
            )
            .primary(self.span(pair), "out of range")
        })
    }

    fn duration(&self, pair: Pair<Rule>) -> PResult<Duration> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let (Some(n), Some(unit)) = (inner.next(), inner.next()) else {
            return Err(Diagnostic::new(Code::E0001, "malformed duration").primary(span, ""));
        };
        let n = self.int(&n)?;
        let unit_text: String = unit
            .as_str()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let (kind, factor) = match unit_text.as_str() {
            "day" | "days" => (DurationKind::Days, 1),
            "week" | "weeks" => (DurationKind::Days, 7),
            "month" | "months" => (DurationKind::Months, 1),
            "year" | "years" => (DurationKind::Months, 12),
            _ => (DurationKind::WorkingDays, 1),
        };
        let amount = n.checked_mul(factor).ok_or_else(|| {
            Diagnostic::new(Code::E0001, "duration is too long").primary(span, "out of range")
        })?;
        Ok(Duration { kind, amount })
    }

    fn header(&self, pair: Pair<Rule>) -> PResult<Header> {
        let span = self.span(&pair);
        let mut name = None;
        let mut extends = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::extends_clause => {
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::ident => extends = Some(PolicyRef::Name(self.ident(q))),
                            Rule::string => extends = Some(PolicyRef::Path(self.string(q))),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Header {
            name: name.unwrap_or_else(|| Ident {
                name: String::new(),
                span,
            }),
            extends,
            span,
        })
    }

    fn item(&self, pair: Pair<Rule>) -> PResult<Item> {
        let span = self.span(&pair);
        Ok(match pair.as_rule() {
            Rule::import_decl => {
                let s = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::string)
                    .map(|p| self.string(p))
                    .unwrap_or(StrLit {
                        value: String::new(),
                        span,
                    });
                Item::Import(s)
            }
            Rule::enum_decl => {
                let mut ids = self.idents(pair).into_iter();
                let name = ids.next().unwrap_or_else(|| self.missing(span));
                Item::Enum(EnumDecl {
                    name,
                    variants: ids.collect(),
                    span,
                })
            }
            Rule::same_day_decl => Item::SameDayOrder(self.idents(pair), span),
            Rule::mapping_decl => Item::Mapping(self.mapping(pair)?),
            Rule::pathway_decl => Item::Pathway(PathwayDecl {
                fields: pair
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::field_decl)
                    .map(|p| self.field_decl(p))
                    .collect::<PResult<_>>()?,
                span,
            }),
            Rule::event_decl => {
                let mut name = None;
                let mut description = None;
                let mut fields = Vec::new();
                let mut carries_pathway = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::description => description = first_inner(p).map(|s| self.string(s)),
                        Rule::field_decl => fields.push(self.field_decl(p)?),
                        Rule::spread => carries_pathway = Some(self.span(&p)),
                        _ => {}
                    }
                }
                Item::Event(EventDecl {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    description,
                    fields,
                    carries_pathway,
                    span,
                })
            }
            Rule::clock_decl => {
                let mut name = None;
                let mut description = None;
                let mut target = None;
                let mut standard = None;
                let mut measured_on = None;
                let mut cite = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::description => description = first_inner(p).map(|s| self.string(s)),
                        Rule::expr => target = Some(self.expr(p)?),
                        Rule::standard_clause => {
                            for q in p.into_inner() {
                                match q.as_rule() {
                                    Rule::expr => standard = Some(self.expr(q)?),
                                    Rule::ident => measured_on = Some(self.ident(q)),
                                    _ => {}
                                }
                            }
                        }
                        Rule::cite => cite = self.cite(p),
                        _ => {}
                    }
                }
                Item::Clock(ClockDecl {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    description,
                    target: target.unwrap_or(Expr {
                        kind: ExprKind::Lit(LiteralKind::Int(0)),
                        span,
                    }),
                    standard,
                    measured_on,
                    cite,
                    span,
                })
            }
            Rule::calendar_decl => {
                let mut holidays = None;
                let mut month_end = None;
                for setting in pair.into_inner() {
                    for p in setting.into_inner() {
                        match p.as_rule() {
                            Rule::string => holidays = Some(self.string(p)),
                            Rule::ident => month_end = Some(self.ident(p)),
                            _ => {}
                        }
                    }
                }
                Item::Calendar(CalendarDecl {
                    holidays,
                    month_end,
                    span,
                })
            }
            Rule::param_decl => {
                let mut name = None;
                let mut ty = None;
                let mut value = None;
                let mut cite = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::type_ref => ty = Some(self.type_ref(p)),
                        Rule::param_value => value = Some(self.param_value(p)?),
                        Rule::cite => cite = self.cite(p),
                        _ => {}
                    }
                }
                let name = name.unwrap_or_else(|| self.missing(span));
                Item::Param(ParamDecl {
                    ty: ty.unwrap_or_else(|| TypeRef {
                        name: self.missing(span),
                        optional: false,
                        list: false,
                        span,
                    }),
                    value: value.unwrap_or_else(|| self.missing_value(span)),
                    name,
                    cite,
                    span,
                })
            }
            Rule::set_decl => {
                let mut name = None;
                let mut value = None;
                let mut cite = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::param_value => value = Some(self.param_value(p)?),
                        Rule::cite => cite = self.cite(p),
                        _ => {}
                    }
                }
                Item::Set(SetDecl {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    value: value.unwrap_or_else(|| self.missing_value(span)),
                    cite,
                    span,
                })
            }
            Rule::def_decl => {
                let mut name = None;
                let mut description = None;
                let mut body = None;
                let mut cite = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::description => description = first_inner(p).map(|s| self.string(s)),
                        Rule::expr => body = Some(self.expr(p)?),
                        Rule::cite => cite = self.cite(p),
                        _ => {}
                    }
                }
                Item::Def(DefDecl {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    description,
                    body: body.unwrap_or(Expr {
                        kind: ExprKind::Lit(LiteralKind::Bool(false)),
                        span,
                    }),
                    cite,
                    span,
                })
            }
            Rule::rule_decl => Item::Rule(self.rule(pair)?),
            Rule::exception_decl => Item::Exception(self.exception(pair)?),
            Rule::disable_decl => {
                let mut target = None;
                let mut because = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => target = Some(self.ident(p)),
                        Rule::string => because = Some(self.string(p)),
                        _ => {}
                    }
                }
                Item::Disable(DisableDecl {
                    target: target.unwrap_or_else(|| self.missing(span)),
                    because,
                    span,
                })
            }
            Rule::test_decl => {
                let mut name = None;
                let mut steps = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::string => name = Some(self.string(p)),
                        Rule::kw_test => {}
                        _ => steps.push(self.test_step(p)?),
                    }
                }
                Item::Test(TestDecl {
                    name: name.unwrap_or(StrLit {
                        value: String::new(),
                        span,
                    }),
                    steps,
                    span,
                })
            }
            other => {
                return Err(Diagnostic::new(
                    Code::E0001,
                    format!("unexpected {other:?} in a policy file"),
                )
                .primary(span, ""))
            }
        })
    }

    fn missing(&self, span: Span) -> Ident {
        Ident {
            name: String::new(),
            span,
        }
    }

    fn missing_value(&self, span: Span) -> ParamValue {
        ParamValue {
            initial: Expr {
                kind: ExprKind::Lit(LiteralKind::Bool(false)),
                span,
            },
            dated: Vec::new(),
            span,
        }
    }

    fn mapping(&self, pair: Pair<Rule>) -> PResult<MappingDecl> {
        let span = self.span(&pair);
        let mut name = None;
        let mut description = None;
        let mut entries = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::description => description = first_inner(p).map(|s| self.string(s)),
                Rule::map_entry => entries.push(self.map_entry(p)?),
                _ => {}
            }
        }
        Ok(MappingDecl {
            name: name.unwrap_or_else(|| self.missing(span)),
            description,
            entries,
            span,
        })
    }

    fn map_entry(&self, pair: Pair<Rule>) -> PResult<MapEntry> {
        let span = self.span(&pair);
        let mut target = None;
        let mut column = None;
        let mut formats = Vec::new();
        let mut values = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => target = Some(MapTarget::Core(self.ident(p))),
                Rule::map_field => {
                    let id = p
                        .into_inner()
                        .find(|q| q.as_rule() == Rule::ident)
                        .map(|q| self.ident(q))
                        .unwrap_or_else(|| self.missing(span));
                    target = Some(MapTarget::Field(id));
                }
                Rule::string => column = Some(self.string(p)),
                Rule::map_format => {
                    formats = p
                        .into_inner()
                        .filter(|q| q.as_rule() == Rule::string)
                        .map(|q| self.string(q))
                        .collect();
                }
                Rule::value_map => {
                    let vspan = self.span(&p);
                    let mut arms = Vec::new();
                    for arm in p.into_inner().filter(|q| q.as_rule() == Rule::map_arm) {
                        let aspan = self.span(&arm);
                        let mut codes = Vec::new();
                        let mut value = None;
                        for q in arm.into_inner() {
                            match q.as_rule() {
                                Rule::string => codes.push(self.string(q)),
                                Rule::literal => value = Some(self.literal(q)?),
                                _ => {}
                            }
                        }
                        arms.push(MapArm {
                            codes,
                            value: value.unwrap_or(Literal {
                                kind: LiteralKind::Name(None, String::new()),
                                span: aspan,
                            }),
                            span: aspan,
                        });
                    }
                    values = Some(ValueMap { arms, span: vspan });
                }
                _ => {}
            }
        }
        Ok(MapEntry {
            target: target.unwrap_or_else(|| MapTarget::Core(self.missing(span))),
            column: column.unwrap_or(StrLit {
                value: String::new(),
                span,
            }),
            formats,
            values,
            span,
        })
    }

    fn cite(&self, pair: Pair<Rule>) -> Vec<StrLit> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::string)
            .map(|p| self.string(p))
            .collect()
    }

    fn field_decl(&self, pair: Pair<Rule>) -> PResult<FieldDecl> {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        let mut default = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::type_ref => ty = Some(self.type_ref(p)),
                Rule::literal => default = Some(self.literal(p)?),
                _ => {}
            }
        }
        Ok(FieldDecl {
            name: name.unwrap_or_else(|| self.missing(span)),
            ty: ty.unwrap_or_else(|| TypeRef {
                name: self.missing(span),
                optional: false,
                list: false,
                span,
            }),
            default,
            span,
        })
    }

    fn type_ref(&self, pair: Pair<Rule>) -> TypeRef {
        let span = self.span(&pair);
        let mut name = self.missing(span);
        let mut optional = false;
        let mut list = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = self.ident(p),
                Rule::list_type => {
                    list = true;
                    if let Some(id) = p.into_inner().find(|q| q.as_rule() == Rule::ident) {
                        name = self.ident(id);
                    }
                }
                Rule::optional_mark => optional = true,
                _ => {}
            }
        }
        TypeRef {
            name,
            optional,
            list,
            span,
        }
    }

    fn param_value(&self, pair: Pair<Rule>) -> PResult<ParamValue> {
        let span = self.span(&pair);
        let mut initial = None;
        let mut dated = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr => initial = Some(self.expr(p)?),
                Rule::dated_value => {
                    let mut value = None;
                    let mut from = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::expr => value = Some(self.expr(q)?),
                            Rule::date => from = Some((self.date(&q)?, self.span(&q))),
                            _ => {}
                        }
                    }
                    if let (Some(v), Some((d, s))) = (value, from) {
                        dated.push((d, s, v));
                    }
                }
                _ => {}
            }
        }
        Ok(ParamValue {
            initial: initial.unwrap_or_else(|| self.missing_value(span).initial),
            dated,
            span,
        })
    }

    fn literal(&self, pair: Pair<Rule>) -> PResult<Literal> {
        let span = self.span(&pair);
        let Some(inner) = first_inner(pair) else {
            return Err(Diagnostic::new(Code::E0001, "expected a value").primary(span, ""));
        };
        let kind = match inner.as_rule() {
            Rule::date => LiteralKind::Date(self.date(&inner)?),
            Rule::duration => LiteralKind::Duration(self.duration(inner)?),
            Rule::int => LiteralKind::Int(self.int(&inner)?),
            Rule::neg_int => {
                let n = first_inner(inner.clone())
                    .map(|p| self.int(&p))
                    .transpose()?
                    .unwrap_or(0);
                LiteralKind::Int(-n)
            }
            Rule::bool_lit => LiteralKind::Bool(inner.as_str() == "true"),
            Rule::string => LiteralKind::Str(self.string(inner).value),
            _ => {
                let parts: Vec<String> = inner.into_inner().map(|p| p.as_str().into()).collect();
                match parts.as_slice() {
                    [a, b] => LiteralKind::Name(Some(a.clone()), b.clone()),
                    [a] => LiteralKind::Name(None, a.clone()),
                    _ => LiteralKind::Name(None, String::new()),
                }
            }
        };
        Ok(Literal { kind, span })
    }

    fn rule(&self, pair: Pair<Rule>) -> PResult<RuleDecl> {
        let span = self.span(&pair);
        let mut name = None;
        let mut description = None;
        let mut trigger = None;
        let mut trigger_span = span;
        let mut when = None;
        let mut cite = Vec::new();
        let mut actions = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::description => description = first_inner(p).map(|s| self.string(s)),
                Rule::on_trigger => {
                    trigger_span = self.span(&p);
                    trigger = Some(Trigger::On(self.idents(p)));
                }
                Rule::after_trigger => {
                    trigger_span = self.span(&p);
                    let mut delay = None;
                    let mut from = None;
                    let mut unless = Vec::new();
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::expr => delay = Some(self.expr(q)?),
                            Rule::ident => from = Some(self.ident(q)),
                            Rule::unless_clause => unless = self.idents(q),
                            _ => {}
                        }
                    }
                    trigger = Some(Trigger::After {
                        delay: delay.unwrap_or_else(|| self.missing_value(span).initial),
                        from: from.unwrap_or_else(|| self.missing(span)),
                        unless,
                    });
                }
                Rule::when_clause => when = self.when(p)?,
                Rule::cite => cite = self.cite(p),
                Rule::action_block => actions = self.actions(p)?,
                _ => {}
            }
        }
        Ok(RuleDecl {
            name: name.unwrap_or_else(|| self.missing(span)),
            description,
            trigger: trigger.unwrap_or(Trigger::On(Vec::new())),
            trigger_span,
            when,
            cite,
            actions,
            span,
        })
    }

    fn when(&self, pair: Pair<Rule>) -> PResult<Option<Expr>> {
        pair.into_inner()
            .find(|p| p.as_rule() == Rule::expr)
            .map(|p| self.expr(p))
            .transpose()
    }

    fn exception(&self, pair: Pair<Rule>) -> PResult<ExceptionDecl> {
        let span = self.span(&pair);
        let mut idents = Vec::new();
        let mut description = None;
        let mut on = None;
        let mut when = None;
        let mut cite = Vec::new();
        let mut actions = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => idents.push(self.ident(p)),
                Rule::description => description = first_inner(p).map(|s| self.string(s)),
                Rule::on_trigger => on = Some(self.idents(p)),
                Rule::when_clause => when = self.when(p)?,
                Rule::cite => cite = self.cite(p),
                Rule::action_block => actions = self.actions(p)?,
                _ => {}
            }
        }
        let mut idents = idents.into_iter();
        Ok(ExceptionDecl {
            name: idents.next().unwrap_or_else(|| self.missing(span)),
            target: idents.next().unwrap_or_else(|| self.missing(span)),
            description,
            on,
            when,
            cite,
            actions,
            span,
        })
    }

    fn actions(&self, pair: Pair<Rule>) -> PResult<Vec<Action>> {
        pair.into_inner().map(|p| self.action(p)).collect()
    }

    fn action(&self, pair: Pair<Rule>) -> PResult<Action> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut ids = Vec::new();
        let mut exprs: Vec<(Rule, Expr)> = Vec::new();
        let mut text = None;
        let mut by = Vec::new();
        let mut by_where = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => ids.push(self.ident(p)),
                Rule::expr => exprs.push((Rule::expr, self.expr(p)?)),
                Rule::on_date | Rule::of_date => {
                    let r = p.as_rule();
                    if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                        exprs.push((r, self.expr(e)?));
                    }
                }
                Rule::met_by => {
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::ident => by.push(self.ident(q)),
                            Rule::expr => by_where = Some(self.expr(q)?),
                            _ => {}
                        }
                    }
                }
                Rule::string => text = Some(self.string(p)),
                _ => {}
            }
        }
        let mut ids = ids.into_iter();
        let mut id = || ids.next().unwrap_or_else(|| self.missing(span));
        let take = |exprs: &mut Vec<(Rule, Expr)>, r: Rule| -> Option<Expr> {
            let i = exprs.iter().position(|(k, _)| *k == r)?;
            Some(exprs.remove(i).1)
        };
        let kind = match rule {
            Rule::start_action => ActionKind::Start {
                clock: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::stop_action => ActionKind::Stop {
                clock: id(),
                reason: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::nullify_action => ActionKind::Nullify {
                clock: id(),
                reason: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::reset_action => ActionKind::Reset {
                clock: id(),
                to: take(&mut exprs, Rule::expr)
                    .unwrap_or_else(|| self.missing_value(span).initial),
            },
            Rule::pause_action => ActionKind::Pause {
                clock: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::resume_action => ActionKind::Resume {
                clock: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::outcome_action => ActionKind::Outcome {
                name: id(),
                on: take(&mut exprs, Rule::on_date),
            },
            Rule::require_action => ActionKind::Require(Box::new(RequireAction {
                what: id(),
                within: take(&mut exprs, Rule::expr)
                    .unwrap_or_else(|| self.missing_value(span).initial),
                of: take(&mut exprs, Rule::of_date),
                by,
                by_where,
            })),
            _ => ActionKind::Warn(text.unwrap_or(StrLit {
                value: String::new(),
                span,
            })),
        };
        Ok(Action { kind, span })
    }

    fn record(&self, pair: Pair<Rule>) -> PResult<Vec<RecordField>> {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::record_field)
            .map(|f| {
                let span = self.span(&f);
                let mut name = None;
                let mut value = None;
                for p in f.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::literal => value = Some(self.literal(p)?),
                        _ => {}
                    }
                }
                Ok(RecordField {
                    name: name.unwrap_or_else(|| self.missing(span)),
                    value: value.unwrap_or(Literal {
                        kind: LiteralKind::Bool(false),
                        span,
                    }),
                })
            })
            .collect()
    }

    fn test_step(&self, pair: Pair<Rule>) -> PResult<TestStep> {
        let span = self.span(&pair);
        Ok(match pair.as_rule() {
            Rule::test_pathway => {
                let fields = match pair.into_inner().find(|p| p.as_rule() == Rule::record) {
                    Some(r) => self.record(r)?,
                    None => Vec::new(),
                };
                TestStep::Pathway(fields, span)
            }
            Rule::test_event => {
                let mut date = None;
                let mut kind = None;
                let mut fields = Vec::new();
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::date => date = Some(self.date(&p)?),
                        Rule::ident => kind = Some(self.ident(p)),
                        Rule::record => fields = self.record(p)?,
                        _ => {}
                    }
                }
                TestStep::Event(TestEvent {
                    date: date.unwrap_or_default(),
                    kind: kind.unwrap_or_else(|| self.missing(span)),
                    fields,
                    span,
                })
            }
            Rule::test_set => {
                let mut name = None;
                let mut value = None;
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::param_value => value = Some(self.param_value(p)?),
                        _ => {}
                    }
                }
                TestStep::Set(
                    name.unwrap_or_else(|| self.missing(span)),
                    value.unwrap_or_else(|| self.missing_value(span)),
                    span,
                )
            }
            Rule::test_as_at => {
                let d = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::date)
                    .map(|p| self.date(&p))
                    .transpose()?
                    .unwrap_or_default();
                TestStep::AsAt(d, span)
            }
            _ => TestStep::Expect(self.expectation(pair)?),
        })
    }

    fn expectation(&self, pair: Pair<Rule>) -> PResult<Expectation> {
        let span = self.span(&pair);
        let Some(inner) = pair.into_inner().find(|p| p.as_rule() != Rule::kw_expect) else {
            return Err(Diagnostic::new(Code::E0001, "empty expectation").primary(span, ""));
        };
        let negated = inner.clone().into_inner().any(|p| p.as_rule() == Rule::no);
        let kind = match inner.as_rule() {
            Rule::expect_outcome => {
                let mut name = None;
                let mut cite = Vec::new();
                for p in inner.into_inner() {
                    match p.as_rule() {
                        Rule::ident => name = Some(self.ident(p)),
                        Rule::cite => cite = self.cite(p),
                        _ => {}
                    }
                }
                ExpectKind::Outcome {
                    negated,
                    name: name.unwrap_or_else(|| self.missing(span)),
                    cite,
                }
            }
            Rule::expect_obligation => {
                let mut ids = self.idents(inner).into_iter();
                ExpectKind::Obligation {
                    negated,
                    name: ids.next().unwrap_or_else(|| self.missing(span)),
                    status: ids.next(),
                }
            }
            Rule::expect_conflict => ExpectKind::Conflict { negated },
            Rule::expect_warning => ExpectKind::Warning { negated },
            Rule::expect_clock => {
                let mut clock = None;
                let mut period = None;
                let mut status = None;
                let mut on = None;
                for p in inner.into_inner() {
                    match p.as_rule() {
                        Rule::ident => clock = Some(self.ident(p)),
                        Rule::int => {
                            let n = self.int(&p)?;
                            period = Some((u32::try_from(n).unwrap_or(u32::MAX), self.span(&p)));
                        }
                        Rule::clock_status => status = Some(self.ident(p)),
                        Rule::date => on = Some(self.date(&p)?),
                        _ => {}
                    }
                }
                ExpectKind::Clock {
                    clock: clock.unwrap_or_else(|| self.missing(span)),
                    period,
                    status: status.unwrap_or_else(|| self.missing(span)),
                    on,
                }
            }
            _ => ExpectKind::Expr(self.expr(inner)?),
        };
        Ok(Expectation { kind, span })
    }

    /// Builds an expression, rejecting trees deeper than [`MAX_NESTING`].
    fn expr(&self, pair: Pair<Rule>) -> PResult<Expr> {
        let span = self.span(&pair);
        let (e, depth) = self.pratt(pair.into_inner())?;
        if depth > MAX_NESTING {
            return Err(nesting_error(span));
        }
        Ok(e)
    }

    /// Builds the expression in `pairs`, refusing to recurse past [`MAX_NESTING`] enclosing
    /// expressions (pest's recursion is bounded by its stack guard; this bounds ours).
    fn pratt(&self, pairs: Pairs<Rule>) -> PResult<(Expr, usize)> {
        let level = self.depth.get() + 1;
        if level > MAX_NESTING {
            let span = match (pairs.clone().next(), pairs.clone().last()) {
                (Some(a), Some(b)) => Span::new(self.file, a.as_span().start()..b.as_span().end()),
                _ => Span::new(self.file, 0..0),
            };
            return Err(nesting_error(span));
        }
        self.depth.set(level);
        let out = self.pratt_inner(pairs);
        self.depth.set(level - 1);
        out
    }

    fn pratt_inner(&self, pairs: Pairs<Rule>) -> PResult<(Expr, usize)> {
        let file = self.file;
        // pest's Pratt parser recurses once per prefix operator: bound runs of them first.
        let mut run = 0usize;
        for p in pairs.clone() {
            if matches!(p.as_rule(), Rule::not_op | Rule::neg_op) {
                run += 1;
                if run > MAX_NESTING {
                    let s = p.as_span();
                    return Err(nesting_error(Span::new(file, s.start()..s.end())));
                }
            } else {
                run = 0;
            }
        }
        let nest = |e: Expr, d: usize| -> PResult<(Expr, usize)> {
            if d > MAX_NESTING {
                Err(nesting_error(e.span))
            } else {
                Ok((e, d))
            }
        };
        let result = PRATT
            .map_primary(|p| self.primary(p).map(|e| (e, 1)))
            .map_prefix(|op, rhs| {
                let (rhs, d) = rhs?;
                let s = Span::new(file, op.as_span().start()..op.as_span().end());
                let span = s.to(rhs.span);
                let kind = match op.as_rule() {
                    Rule::not_op => ExprKind::Not(Box::new(rhs)),
                    _ => ExprKind::Neg(Box::new(rhs)),
                };
                nest(Expr { kind, span }, d + 1)
            })
            .map_postfix(|lhs, op| {
                let (lhs, d) = lhs?;
                let opspan = Span::new(file, op.as_span().start()..op.as_span().end());
                let span = lhs.span.to(opspan);
                let rule = op.as_rule();
                let (kind, extra) = match rule {
                    Rule::is_set_op => (ExprKind::IsSet(Box::new(lhs), true), 0),
                    Rule::is_not_set_op => (ExprKind::IsSet(Box::new(lhs), false), 0),
                    Rule::in_op | Rule::not_in_op
                        if op.clone().into_inner().any(|p| p.as_rule() == Rule::ident) =>
                    {
                        // `x in list_param`: membership of a list-typed name.
                        let id = op
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::ident)
                            .map(|p| self.ident(p))
                            .unwrap_or_else(|| self.missing(opspan));
                        let list = Expr {
                            kind: ExprKind::Name(id.name),
                            span: id.span,
                        };
                        (
                            ExprKind::Member(Box::new(lhs), Box::new(list), rule == Rule::in_op),
                            0,
                        )
                    }
                    Rule::in_op | Rule::not_in_op => {
                        let mut list = Vec::new();
                        let mut deepest = 0;
                        for p in op.into_inner().filter(|p| p.as_rule() == Rule::expr) {
                            let (e, dd) = self.pratt(p.into_inner())?;
                            deepest = deepest.max(dd);
                            list.push(e);
                        }
                        (
                            ExprKind::In(Box::new(lhs), list, rule == Rule::in_op),
                            deepest,
                        )
                    }
                    Rule::field_op => {
                        let id = op
                            .into_inner()
                            .find(|p| p.as_rule() == Rule::ident)
                            .map(|p| self.ident(p))
                            .unwrap_or_else(|| self.missing(opspan));
                        (ExprKind::Field(Box::new(lhs), id), 0)
                    }
                    _ => {
                        // method call: receiver becomes the first argument
                        let mut inner = op.into_inner();
                        let func = inner
                            .find(|p| p.as_rule() == Rule::ident)
                            .map(|p| self.ident(p))
                            .unwrap_or_else(|| self.missing(opspan));
                        let mut call = match inner.find(|p| p.as_rule() == Rule::call_args) {
                            Some(args) => self.call_args(func, args)?,
                            None => Call {
                                func,
                                args: Vec::new(),
                                where_: None,
                                since: None,
                                among: Vec::new(),
                            },
                        };
                        call.args.insert(0, lhs);
                        (ExprKind::Call(call), 0)
                    }
                };
                let e = Expr { kind, span };
                let depth = e.depth().max(d + 1 + extra);
                nest(e, depth)
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, dl) = lhs?;
                let (rhs, dr) = rhs?;
                let span = lhs.span.to(rhs.span);
                let mut d = dl.max(dr) + 1;
                let bin = |b| ExprKind::Binary(b, Box::new(lhs.clone()), Box::new(rhs.clone()));
                let kind = match op.as_rule() {
                    Rule::or_op => bin(BinOp::Or),
                    Rule::and_op => bin(BinOp::And),
                    Rule::coalesce_op => bin(BinOp::Coalesce),
                    Rule::eq_op => bin(BinOp::Eq),
                    Rule::ne_op => bin(BinOp::Ne),
                    Rule::lt_op => bin(BinOp::Lt),
                    Rule::le_op => bin(BinOp::Le),
                    Rule::gt_op => bin(BinOp::Gt),
                    Rule::ge_op => bin(BinOp::Ge),
                    Rule::add_op => bin(BinOp::Add),
                    Rule::sub_op => bin(BinOp::Sub),
                    Rule::mul_op => bin(BinOp::Mul),
                    Rule::div_op => bin(BinOp::Div),
                    Rule::within_op => {
                        let inner = op.into_inner().find(|p| p.as_rule() == Rule::expr);
                        let (window, dw) = match inner {
                            Some(p) => self.pratt(p.into_inner())?,
                            None => (rhs.clone(), 1),
                        };
                        d = d.max(dw + 1);
                        ExprKind::Within {
                            value: Box::new(lhs.clone()),
                            window: Box::new(window),
                            of: Box::new(rhs.clone()),
                        }
                    }
                    _ => {
                        let mut gap = None;
                        let mut before = true;
                        for p in op.into_inner() {
                            match p.as_rule() {
                                Rule::expr => gap = Some(self.pratt(p.into_inner())?),
                                Rule::before_after => before = p.as_str().starts_with("before"),
                                _ => {}
                            }
                        }
                        let (gap, dg) = gap.unwrap_or((rhs.clone(), 1));
                        d = d.max(dg + 1);
                        ExprKind::AtLeast {
                            value: Box::new(lhs.clone()),
                            gap: Box::new(gap),
                            before,
                            reference: Box::new(rhs.clone()),
                        }
                    }
                };
                nest(Expr { kind, span }, d)
            })
            .parse(pairs);
        result
    }

    fn primary(&self, pair: Pair<Rule>) -> PResult<Expr> {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => {
                let inner = pair.into_inner().find(|p| p.as_rule() == Rule::expr);
                match inner {
                    Some(p) => return self.expr(p).map(|e| Expr { span, ..e }),
                    None => ExprKind::Lit(LiteralKind::Bool(false)),
                }
            }
            Rule::list_lit => ExprKind::List(
                pair.into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p))
                    .collect::<PResult<_>>()?,
            ),
            Rule::date => ExprKind::Lit(LiteralKind::Date(self.date(&pair)?)),
            Rule::duration => ExprKind::Lit(LiteralKind::Duration(self.duration(pair)?)),
            Rule::int => ExprKind::Lit(LiteralKind::Int(self.int(&pair)?)),
            Rule::bool_lit => ExprKind::Lit(LiteralKind::Bool(pair.as_str() == "true")),
            Rule::string => ExprKind::Lit(LiteralKind::Str(self.string(pair).value)),
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = inner
                    .next()
                    .map(|p| self.ident(p))
                    .unwrap_or_else(|| self.missing(span));
                let call = match inner.next() {
                    Some(args) => self.call_args(func, args)?,
                    None => Call {
                        func,
                        args: Vec::new(),
                        where_: None,
                        since: None,
                        among: Vec::new(),
                    },
                };
                ExprKind::Call(call)
            }
            _ => ExprKind::Name(pair.as_str().to_string()),
        };
        Ok(Expr { kind, span })
    }

    fn call_args(&self, func: Ident, pair: Pair<Rule>) -> PResult<Call> {
        let mut call = Call {
            func,
            args: Vec::new(),
            where_: None,
            since: None,
            among: Vec::new(),
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::expr => call.args.push(self.expr(p)?),
                Rule::where_clause => {
                    if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                        call.where_ = Some(Box::new(self.expr(e)?));
                    }
                }
                Rule::since_clause => {
                    if let Some(e) = p.into_inner().find(|q| q.as_rule() == Rule::expr) {
                        call.since = Some(Box::new(self.expr(e)?));
                    }
                }
                Rule::among_clause => call.among = self.idents(p),
                _ => {}
            }
        }
        Ok(call)
    }
}

type NaiveDateLit = chrono::NaiveDate;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> File {
        match parse_file(FileId(0), src) {
            Ok(f) => f,
            Err(d) => panic!("parse failed: {d:?}"),
        }
    }

    fn expr_of(src: &str) -> Expr {
        match parse_repl_line(FileId(0), src) {
            Ok(ReplLine::Expr(e)) => e,
            other => panic!("not an expression: {other:?}"),
        }
    }

    /// Renders an expression fully parenthesised, to check precedence.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Lit(LiteralKind::Duration(d)) => d.to_string(),
            ExprKind::Lit(l) => format!("{l:?}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Field(x, f) => format!("{}.{}", show(x), f.name),
            ExprKind::Call(c) => {
                let mut s = format!(
                    "{}({}",
                    c.func.name,
                    c.args.iter().map(show).collect::<Vec<_>>().join(", ")
                );
                if let Some(w) = &c.where_ {
                    s += &format!(" where {}", show(w));
                }
                if let Some(w) = &c.since {
                    s += &format!(" since {}", show(w));
                }
                s + ")"
            }
            ExprKind::Not(x) => format!("(not {})", show(x)),
            ExprKind::Neg(x) => format!("(-{})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Within { value, window, of } => {
                format!("({} within {} of {})", show(value), show(window), show(of))
            }
            ExprKind::AtLeast {
                value,
                gap,
                before,
                reference,
            } => format!(
                "({} at least {} {} {})",
                show(value),
                show(gap),
                if *before { "before" } else { "after" },
                show(reference)
            ),
            ExprKind::IsSet(x, yes) => {
                format!("({} is {}set)", show(x), if *yes { "" } else { "not " })
            }
            ExprKind::In(x, l, yes) => format!(
                "({} {}in [{}])",
                show(x),
                if *yes { "" } else { "not " },
                l.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            ExprKind::Member(x, l, yes) => format!(
                "({} {}in {})",
                show(x),
                if *yes { "" } else { "not " },
                show(l)
            ),
            ExprKind::List(items) => {
                format!(
                    "[{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }

    #[test]
    fn precedence_follows_the_usual_rules() {
        let cases = [
            ("a or b and c", "(a or (b and c))"),
            ("not a == b", "(not (a == b))"),
            ("a + b * c > d", "((a + (b * c)) > d)"),
            ("x is set and y", "((x is set) and y)"),
            ("x ?? 3 > 2", "((x ?? Int(3)) > Int(2))"),
            (
                "event.appointment in [first, follow_up]",
                "(event.appointment in [first, follow_up])",
            ),
            (
                "event.specialty in cas and x not in [] or y not in l",
                "(((event.specialty in cas) and (x not in [])) or (y not in l))",
            ),
            ("[a, b]", "[a, b]"),
            ("[]", "[]"),
            ("-a.b", "(-a.b)"),
            (
                "event.offered_date at least 3 weeks after event.date",
                "(event.offered_date at least 3 weeks after event.date)",
            ),
            (
                "now within 6 weeks of last(offer_made).date",
                "(now within 6 weeks of last(offer_made).date)",
            ),
            (
                "count(dna where dna.appointment == first since rtt.start) >= 2",
                "(count(dna where (dna.appointment == first) since rtt.start) >= Int(2))",
            ),
            (
                "pathway.age_at(now) < 18",
                "(age_at(pathway, now) < Int(18))",
            ),
            ("5 working days", "5 working days"),
            ("x not in [a]", "(x not in [a])"),
        ];
        for (src, want) in cases {
            assert_eq!(show(&expr_of(src)), want, "{src}");
        }
    }

    #[test]
    fn parses_every_declaration_kind() {
        let f = parse(
            r#"
            policy rde extends national
            import "national/cancer.pal"
            enum appointment_kind { first, follow_up, }
            pathway { birth_date: Date?, vulnerable: Bool = false }
            event dna "did not attend" { appointment: appointment_kind, communicated: Bool = true }
            event referral_received { ..pathway, source: String? }
            event ubrn_converted
            clock rtt "18 weeks" { target 18 weeks cite "5.1" }
            calendar { holidays "bh.json" month_end clamp }
            param limit: Int = 2 cite "9.10.2"
            param fds: Int = 75, 80 from 2026-03-01 cite "CWT"
            set limit = 3 cite "local"
            def child = pathway.birth_date is set and age(pathway.birth_date, now) < 18
            rule first_dna "nullify" on dna when event.appointment == first cite "9.12.1" {
              nullify rtt reason dna_first_appointment
              outcome discharge_to_referrer
            }
            exception protected to first_dna when child cite "9.12.3" {
              reset rtt to event.date; require appointment_booked within 2 weeks of event.date
            }
            rule undecided after 14 days from patient_undecided unless decision_to_treat or decision_not_to_treat cite "10.1.6" {
              stop rtt reason patient_initiated_active_monitoring
              require review within 3 months by attended or dna where attended.appointment == follow_up
              warn "check"
            }
            disable first_dna because "local"
            test "t" {
              pathway { birth_date: 1970-01-01 }
              2016-01-04 referral_received { priority: routine, code: -1, kind: appointment_kind.first }
              2016-02-01 dna { appointment: first, communicated: true }
              set limit = 3
              as at 2016-03-31
              expect rtt nullified
              expect rtt period 1 stopped on 2016-02-01
              expect outcome discharge_to_referrer cite "9.12.1"
              expect no outcome rebook
              expect obligation review missed
              expect no conflict
              expect warning
              expect rtt.days_waited == 39
            }
            "#,
        );
        assert!(f.header.as_ref().is_some_and(|h| h.extends.is_some()));
        assert_eq!(f.items.len(), 17);
        let Some(Item::Test(t)) = f.items.last() else {
            panic!("no test")
        };
        assert_eq!(t.steps.len(), 13);
    }

    #[test]
    fn keywords_end_at_word_boundaries() {
        // `rulex` is not `rule x`, `ontime` is not `on time`.
        assert!(parse_file(FileId(0), "rulex r on dna { outcome x }").is_err());
        let f = parse("rule r on dna when ontime cite \"x\" { outcome x }");
        let Some(Item::Rule(r)) = f.items.first() else {
            panic!()
        };
        assert!(
            matches!(r.when.as_ref().map(|e| &e.kind), Some(ExprKind::Name(n)) if n == "ontime")
        );
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let deep = format!("def x = {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let err = parse_file(FileId(0), &deep).err().map(|d| d.code);
        assert_eq!(err, Some(Code::E0004));
        let long = format!("def x = a{}", " and a".repeat(100_000));
        let err = parse_file(FileId(0), &long).err().map(|d| d.code);
        assert_eq!(err, Some(Code::E0004));
        let minus = format!("def x = {}1", "-".repeat(100_000));
        let err = parse_file(FileId(0), &minus).err().map(|d| d.code);
        assert_eq!(err, Some(Code::E0004));
        // Nesting without brackets: the builder counts before it recurses.
        let within = format!(
            "def x = now{}{}",
            " within now".repeat(3000),
            " of now".repeat(3000)
        );
        let err = parse_file(FileId(0), &within).err().map(|d| d.code);
        assert_eq!(err, Some(Code::E0004));
        // A `"` inside a block comment opens no string for the pre-check.
        let comment = format!("def x = /* \" */ {}1{}", "(".repeat(5000), ")".repeat(5000));
        let err = parse_file(FileId(0), &comment).err().map(|d| d.code);
        assert_eq!(err, Some(Code::E0004));
    }

    #[test]
    fn bad_dates_are_diagnosed() {
        let err = parse_file(FileId(0), "param d: Date = 2025-02-30 cite \"x\"").err();
        assert!(err.is_some_and(|d| d.message.contains("not a calendar date")));
    }
}
