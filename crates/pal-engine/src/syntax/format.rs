//! `pal fmt`: the one canonical layout of a policy file, built from the parsed AST on the
//! `pretty` crate (Wadler-style documents: a group goes on one line if it fits in
//! [`WIDTH`] columns, else every line break in it is taken).
//!
//! pest drops comments, so they are collected from the text with their positions and put back
//! at the nearest anchor: own-line comments above the item, clause, action, field or test step
//! they stand above; a comment after code on the same line stays at the end of that line.
//! Nothing else of the author's layout survives except one blank line where there were blank
//! lines between items, and the parentheses the author wrote. Literals keep their written form
//! (`2 weeks` stays `2 weeks`); a method call stays a method call.
//!
//! The layout, in short: two-space indents; a rule or exception on one line if it fits, else
//! its name and description, then one clause (`on`, `when`, `cite`, …) per line indented, then
//! the block at the left margin; a block `{ a; b }` on one line if it fits, else one action per
//! line; a broken `and`/`or` chain has one operand per line with the operator first; test
//! blocks one step per line.

use super::ast::*;
use super::parse_file;
use crate::base::diagnostic::Diagnostic;
use crate::base::source::{FileId, Span};
use pretty::RcDoc;

/// The line width the layout aims at.
pub const WIDTH: usize = 100;
const INDENT: isize = 2;

type Doc = RcDoc<'static, ()>;

/// Parses `text` and returns its canonical layout, or the syntax error that stops it.
pub fn format_source(file: FileId, text: &str) -> Result<String, Diagnostic> {
    let ast = parse_file(file, text)?;
    Ok(format_file(text, &ast))
}

/// The canonical layout of a parsed file; `text` is the source `ast` was parsed from.
pub fn format_file(text: &str, ast: &File) -> String {
    let mut f = Fmt {
        src: text,
        comments: comments(text),
        hoisted: Vec::new(),
        next: 0,
        last: 0,
    };
    let doc = f.file(ast);
    let mut raw = String::new();
    let _ = doc.render_fmt(WIDTH, &mut raw);
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').len();
    out.truncate(trimmed);
    out.push('\n');
    if out.trim().is_empty() {
        out.clear();
    }
    out
}

/// Each item's extent from its first token to its last: pest's spans of some items run on over
/// the whitespace and comments after them (a rule ending in an optional part skips them before
/// trying it), which would put a comment above the next item inside this one.
pub fn item_extents(text: &str, ast: &File) -> Vec<Span> {
    let f = Fmt {
        src: text,
        comments: comments(text),
        hoisted: Vec::new(),
        next: 0,
        last: 0,
    };
    ast.items
        .iter()
        .map(|item| {
            let span = f.item_extent(item);
            Span {
                end: f.tight_end(span.end).max(span.start),
                ..span
            }
        })
        .collect()
}

/// A comment in the source.
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    pub(crate) start: u32,
    pub(crate) end: u32,
    text: String,
    /// `// …` (must end its line) rather than `/* … */`.
    line: bool,
}

/// Every comment of `text`, in order (strings skipped, as the grammar does).
pub(crate) fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push(Comment {
                    start: i as u32,
                    end: end as u32,
                    text: text[i..end].trim_end().to_string(),
                    line: true,
                });
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                out.push(Comment {
                    start: i as u32,
                    end: end as u32,
                    text: text[i..end].to_string(),
                    line: false,
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// One laid-out unit of a sequence (an item, a clause, an action, a field…) with the comments
/// that belong to it.
struct Part {
    doc: Doc,
    /// It ends with a line comment (or dangling comments): the next separator must be a newline.
    breaks_after: bool,
    /// The author left a blank line before it (or before its leading comments).
    blank_before: bool,
}

struct Fmt<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// Comments placed above their item because no anchor inside it took them.
    hoisted: Vec<usize>,
    /// The first comment not yet placed.
    next: usize,
    /// The end of the last thing placed (for blank lines).
    last: u32,
}

fn text(s: impl Into<String>) -> Doc {
    RcDoc::text(s.into())
}

fn nil() -> Doc {
    RcDoc::nil()
}

fn line() -> Doc {
    RcDoc::line()
}

fn hard() -> Doc {
    RcDoc::hardline()
}

/// `, ` on one line, a newline when broken (fields, record entries).
fn comma_or_newline() -> Doc {
    RcDoc::hardline().flat_alt(RcDoc::text(", "))
}

/// `; ` on one line, a newline when broken (actions).
fn semi_or_newline() -> Doc {
    RcDoc::hardline().flat_alt(RcDoc::text("; "))
}

/// Joins parts, each preceded by `sep` (or a newline after a comment, or a blank line where
/// the author left one and `blank` is set). Returns whether the last part ends in a comment.
fn seq(mut prev_breaks: bool, parts: Vec<Part>, sep: &Doc, blank: bool) -> (Doc, bool) {
    let mut doc = nil();
    for p in parts {
        let s = if blank && p.blank_before {
            hard().append(hard())
        } else if prev_breaks {
            hard()
        } else {
            sep.clone()
        };
        doc = doc.append(s).append(p.doc);
        prev_breaks = p.breaks_after;
    }
    (doc, prev_breaks)
}

fn sep_after(breaks: bool, sep: Doc) -> Doc {
    if breaks {
        hard()
    } else {
        sep
    }
}

fn cite_span(cite: &[StrLit]) -> Option<Span> {
    Some(cite.first()?.span.to(cite.last()?.span))
}

/// Binding strength of an expression's outermost operator (as the parser's Pratt table).
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => match op {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Coalesce => 5,
            BinOp::Add | BinOp::Sub => 6,
            BinOp::Mul | BinOp::Div => 7,
        },
        ExprKind::Not(_) => 3,
        ExprKind::Within { .. } | ExprKind::AtLeast { .. } | ExprKind::IsSet(..) => 4,
        ExprKind::In(..) | ExprKind::Member(..) => 4,
        ExprKind::Neg(_) => 8,
        ExprKind::Field(..) => 9,
        ExprKind::Call(c) if is_method(c) => 9,
        ExprKind::Call(_) | ExprKind::Lit(_) | ExprKind::Name(_) | ExprKind::List(_) => 10,
    }
}

/// `x.f(a)` rather than `f(x, a)`: the receiver is written before the name.
fn is_method(c: &Call) -> bool {
    c.args
        .first()
        .is_some_and(|r| r.span.start < c.func.span.start)
}

fn escape(value: &str) -> String {
    let mut s = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

impl Fmt<'_> {
    fn slice(&self, start: u32, end: u32) -> &str {
        self.src.get(start as usize..end as usize).unwrap_or("")
    }

    fn is_space(c: char) -> bool {
        matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{feff}')
    }

    /// `end` moved back over whitespace and comments (pest's spans can include them).
    fn tight_end(&self, end: u32) -> u32 {
        let mut e = end as usize;
        loop {
            e = self
                .src
                .get(..e)
                .map_or(e, |s| s.trim_end_matches(Self::is_space).len());
            let at = self.comments.partition_point(|c| (c.end as usize) < e);
            match self.comments.get(at) {
                Some(c) if c.end as usize == e && (c.start as usize) < e => e = c.start as usize,
                _ => return e as u32,
            }
        }
    }

    /// The first token at or after `pos` (whitespace and comments skipped).
    fn next_token(&self, pos: u32) -> u32 {
        let mut p = pos as usize;
        loop {
            let rest = self.src.get(p..).unwrap_or("");
            p += rest.len() - rest.trim_start_matches(Self::is_space).len();
            let at = self.comments.partition_point(|c| (c.start as usize) < p);
            match self.comments.get(at) {
                Some(c) if c.start as usize == p => p = c.end as usize,
                _ => return p as u32,
            }
        }
    }

    /// The next comment not yet placed.
    fn peek(&mut self) -> Option<Comment> {
        while self.hoisted.contains(&self.next) {
            self.next += 1;
        }
        self.comments.get(self.next).cloned()
    }

    /// A top-level item. Comments inside it that no anchor takes (inside an expression, say)
    /// go above it, so they stay with their item (`// pal: allow(…)` keeps its meaning).
    fn item_part(&mut self, span: Span, limit: u32, build: impl Fn(&mut Self) -> Doc) -> Part {
        let (next, last) = (self.next, self.last);
        let _ = self.part(span.start, span.end, span.start, &build);
        let end = self.tight_end(span.end);
        let mut stray = Vec::new();
        let mut i = self.next;
        while let Some(c) = self.comments.get(i) {
            if c.start >= end {
                break;
            }
            if c.start >= span.start && !self.hoisted.contains(&i) {
                stray.push(i);
            }
            i += 1;
        }
        self.next = next;
        self.last = last;
        if stray.is_empty() {
            return self.part(span.start, span.end, limit, build);
        }
        let (lead, blank) = self.leading(span.start);
        let mut doc = lead;
        for &i in &stray {
            if let Some(c) = self.comments.get(i) {
                doc = doc.append(text(c.text.clone())).append(hard());
            }
        }
        self.hoisted.extend(stray);
        let mut part = self.part(span.start, span.end, limit, build);
        part.doc = doc.append(part.doc);
        part.blank_before = blank || part.blank_before;
        part
    }

    fn blank_between(&self, a: u32, b: u32) -> bool {
        a < b && self.slice(a, b).matches('\n').count() >= 2
    }

    /// The comments before `start` not yet placed, each on its own line.
    fn leading(&mut self, start: u32) -> (Doc, bool) {
        let mut doc = nil();
        let mut blank = false;
        let mut any = false;
        while let Some(c) = self.peek() {
            if c.start >= start {
                break;
            }
            let b = self.blank_between(self.last, c.start);
            if !any {
                blank = b;
            } else if b {
                doc = doc.append(hard());
            }
            doc = doc.append(text(c.text)).append(hard());
            self.last = c.end;
            self.next += 1;
            any = true;
        }
        let b = self.blank_between(self.last, start);
        if !any {
            blank = b;
        } else if b {
            doc = doc.append(hard());
        }
        (doc, blank)
    }

    /// Comments after `end` on the same line (before `limit`): they stay at the end of the line.
    fn trailing(&mut self, end: u32, limit: u32) -> Option<Doc> {
        let mut doc: Option<Doc> = None;
        while let Some(c) = self.peek() {
            if c.start < end || c.start >= limit || self.slice(end, c.start).contains('\n') {
                break;
            }
            let d = doc.unwrap_or_else(nil).append(text(format!(" {}", c.text)));
            doc = Some(d);
            self.last = c.end;
            self.next += 1;
            if c.line {
                break;
            }
        }
        doc
    }

    /// A unit spanning `start..end`: its leading comments, its layout, its trailing comments
    /// (those before `limit`; pass `limit <= end` for none).
    fn part(
        &mut self,
        start: u32,
        end: u32,
        limit: u32,
        build: impl FnOnce(&mut Self) -> Doc,
    ) -> Part {
        let (lead, blank) = self.leading(start);
        let body = build(self);
        let end = self.tight_end(end).max(start);
        self.last = self.last.max(end);
        let trailing = if limit > end {
            self.trailing(end, limit)
        } else {
            None
        };
        let breaks_after = trailing.is_some();
        let doc = lead.append(body).append(trailing.unwrap_or_else(nil));
        Part {
            doc,
            breaks_after,
            blank_before: blank,
        }
    }

    /// Comments left before `close` (a closing brace): each on its own line, as a part.
    fn dangling(&mut self, close: u32) -> Option<Part> {
        let mut docs = Vec::new();
        while let Some(c) = self.peek() {
            if c.start >= close {
                break;
            }
            docs.push(text(c.text));
            self.last = c.end;
            self.next += 1;
        }
        if docs.is_empty() {
            return None;
        }
        Some(Part {
            doc: RcDoc::intersperse(docs, hard()),
            breaks_after: true,
            blank_before: false,
        })
    }

    /// `open { parts }` on one line if it fits, else one part per line; `close` is the position
    /// of the closing brace.
    fn braces(
        &mut self,
        open: Doc,
        mut parts: Vec<Part>,
        sep: Doc,
        close: u32,
        always_break: bool,
    ) -> Doc {
        parts.extend(self.dangling(close));
        if parts.is_empty() {
            return open.append(text(" }"));
        }
        let first = if always_break { hard() } else { line() };
        let mut body = nil();
        let mut prev_breaks = false;
        for (i, p) in parts.into_iter().enumerate() {
            let s = if i == 0 {
                first.clone()
            } else if p.blank_before && always_break {
                hard().append(hard())
            } else if prev_breaks {
                hard()
            } else {
                sep.clone()
            };
            body = body.append(s).append(p.doc);
            prev_breaks = p.breaks_after;
        }
        let end = if prev_breaks || always_break {
            hard()
        } else {
            line()
        };
        open.append(body.nest(INDENT))
            .append(end)
            .append(text("}"))
            .group()
    }

    /// The position of the `}` that ends a span.
    fn close_of(&self, span: Span) -> u32 {
        self.tight_end(span.end).saturating_sub(1)
    }

    fn str_lit(&self, s: &StrLit) -> Doc {
        let raw = self.slice(s.span.start, s.span.end);
        if raw.starts_with('"') && raw.ends_with('"') && raw.len() >= 2 && !raw.contains('\n') {
            text(raw.to_string())
        } else {
            text(escape(&s.value))
        }
    }

    fn cites(&self, cite: &[StrLit]) -> Doc {
        let docs: Vec<Doc> = cite.iter().map(|s| self.str_lit(s)).collect();
        text("cite ").append(RcDoc::intersperse(docs, text(", ")))
    }

    /// `a or b or c`, filling the line and continuing with `or …` on the next.
    fn fill_or(ids: &[Ident]) -> Doc {
        let mut d = nil();
        for (i, id) in ids.iter().enumerate() {
            d = if i == 0 {
                text(id.name.clone())
            } else {
                d.append(line().append(text(format!("or {}", id.name))).group())
            };
        }
        d
    }

    fn names(ids: &[Ident], sep: &str) -> Doc {
        text(
            ids.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(sep),
        )
    }

    // ------------------------------------------------------------------ file and items

    fn file(&mut self, ast: &File) -> Doc {
        let mut units: Vec<(Span, Option<&Item>)> = Vec::new();
        if let Some(h) = &ast.header {
            units.push((h.span, None));
        }
        for item in &ast.items {
            units.push((self.item_extent(item), Some(item)));
        }
        let mut parts = Vec::new();
        for (i, (span, item)) in units.iter().enumerate() {
            let limit = units.get(i + 1).map_or(u32::MAX, |(s, _)| s.start);
            parts.push(match (item, &ast.header) {
                (Some(item), _) => self.item_part(*span, limit, |f| f.item(item)),
                (None, Some(h)) => self.item_part(*span, limit, |f| f.header(h)),
                (None, None) => continue,
            });
        }
        let blank_at_end = self
            .peek()
            .is_some_and(|c| self.blank_between(self.last, c.start));
        let mut iter = parts.into_iter();
        let mut doc = nil();
        let any = iter.len() > 0;
        if let Some(first) = iter.next() {
            let (rest, _) = seq(first.breaks_after, iter.collect(), &hard(), true);
            doc = first.doc.append(rest);
        }
        // Comments after the last item.
        if let Some(rest) = self.dangling(u32::MAX) {
            if any {
                doc = doc.append(hard());
                if blank_at_end {
                    doc = doc.append(hard());
                }
            }
            doc = doc.append(rest.doc);
        }
        doc
    }

    /// An item's span, from its keyword (an import's span is its string only).
    fn item_extent(&self, item: &Item) -> Span {
        let span = item.span();
        if let Item::Import(_) = item {
            let before = self.src.get(..span.start as usize).unwrap_or("");
            let t = before.trim_end_matches(Self::is_space);
            if let Some(kw) = t.strip_suffix("import") {
                return Span {
                    start: kw.len() as u32,
                    ..span
                };
            }
        }
        span
    }

    fn header(&self, h: &Header) -> Doc {
        let mut d = text(format!("policy {}", h.name.name));
        match &h.extends {
            Some(PolicyRef::Name(n)) => d = d.append(text(format!(" extends {}", n.name))),
            Some(PolicyRef::Path(p)) => d = d.append(text(" extends ")).append(self.str_lit(p)),
            None => {}
        }
        d
    }

    fn item(&mut self, item: &Item) -> Doc {
        match item {
            Item::Import(s) => text("import ").append(self.str_lit(s)),
            Item::Enum(d) => {
                let head = text(format!("enum {} {{", d.name.name));
                self.name_list(head, &d.variants, d.span)
            }
            Item::SameDayOrder(types, span) => {
                self.name_list(text("same_day_order {"), types, *span)
            }
            Item::Mapping(d) => self.mapping(d),
            Item::Pathway(d) => {
                let close = self.close_of(d.span);
                let parts = self.fields(&d.fields, None, close);
                self.braces(text("pathway {"), parts, comma_or_newline(), close, false)
            }
            Item::Event(d) => {
                let mut head = text(format!("event {}", d.name.name));
                if let Some(desc) = &d.description {
                    head = head.append(text(" ")).append(self.str_lit(desc));
                }
                if d.fields.is_empty() && d.carries_pathway.is_none() {
                    return head;
                }
                let close = self.close_of(d.span);
                let parts = self.fields(&d.fields, d.carries_pathway, close);
                self.braces(
                    head.append(text(" {")),
                    parts,
                    comma_or_newline(),
                    close,
                    false,
                )
            }
            Item::Clock(d) => self.clock(d),
            Item::Calendar(d) => {
                let close = self.close_of(d.span);
                let mut parts = Vec::new();
                if let Some(h) = &d.holidays {
                    let limit = d
                        .month_end
                        .as_ref()
                        .map_or(close, |m| m.span.start.max(h.span.end));
                    parts.push(self.part(h.span.start, h.span.end, limit, |f| {
                        text("holidays ").append(f.str_lit(h))
                    }));
                }
                if let Some(m) = &d.month_end {
                    parts.push(self.part(m.span.start, m.span.end, close, |_| {
                        text(format!("month_end {}", m.name))
                    }));
                }
                self.braces(text("calendar {"), parts, line(), close, false)
            }
            Item::Param(d) => {
                let head = format!("param {}: {} = ", d.name.name, self.type_ref(&d.ty));
                self.valued(text(head), &d.value, &d.cite)
            }
            Item::Set(d) => {
                let head = format!("set {} = ", d.name.name);
                self.valued(text(head), &d.value, &d.cite)
            }
            Item::Def(d) => self.def(d),
            Item::Rule(d) => self.rule(d),
            Item::Exception(d) => self.exception(d),
            Item::Disable(d) => {
                let mut doc = text(format!("disable {}", d.target.name));
                if let Some(b) = &d.because {
                    let part = self.part(b.span.start, b.span.end, b.span.start, |f| {
                        text("because ").append(f.str_lit(b))
                    });
                    let (rest, _) = seq(false, vec![part], &line(), false);
                    doc = doc.append(rest.nest(INDENT)).group();
                }
                doc
            }
            Item::Test(t) => self.test(t),
        }
    }

    /// `head a, b, c }`: a braced, comma-separated list of names (enum variants, the same-day
    /// order), on one line if it fits, comments kept beside their names.
    fn name_list(&mut self, head: Doc, names: &[Ident], span: Span) -> Doc {
        let close = self.close_of(span);
        let n = names.len();
        let parts: Vec<Part> = names
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let limit = names.get(i + 1).map_or(close, |w| w.span.start);
                let last = i + 1 == n;
                self.part(v.span.start, v.span.end, limit, |_| {
                    let comma = if last {
                        RcDoc::text(",").flat_alt(RcDoc::nil())
                    } else {
                        text(",")
                    };
                    text(v.name.clone()).append(comma)
                })
            })
            .collect();
        self.braces(head, parts, line(), close, false)
    }

    /// `mapping NAME "…" { entry per line }`.
    fn mapping(&mut self, d: &MappingDecl) -> Doc {
        let mut head = text(format!("mapping {}", d.name.name));
        if let Some(desc) = &d.description {
            head = head.append(text(" ")).append(self.str_lit(desc));
        }
        let close = self.close_of(d.span);
        let mut parts = Vec::new();
        for (i, e) in d.entries.iter().enumerate() {
            let limit = d.entries.get(i + 1).map_or(close, |n| n.span.start);
            parts.push(self.part(e.span.start, e.span.end, limit, |f| f.map_entry(e)));
        }
        self.braces(head.append(text(" {")), parts, hard(), close, true)
    }

    /// `field NAME from "COLUMN" format "…" or "…" { "CODE" => VALUE, … }`.
    fn map_entry(&mut self, e: &MapEntry) -> Doc {
        let mut d = match &e.target {
            MapTarget::Core(i) => text(i.name.clone()),
            MapTarget::Field(i) => text(format!("field {}", i.name)),
        };
        d = d.append(text(" from ")).append(self.str_lit(&e.column));
        if !e.formats.is_empty() {
            let fs: Vec<Doc> = e.formats.iter().map(|f| self.str_lit(f)).collect();
            d = d
                .append(text(" format "))
                .append(RcDoc::intersperse(fs, text(" or ")));
        }
        if let Some(vm) = &e.values {
            let close = self.close_of(vm.span);
            let mut parts = Vec::new();
            for (i, arm) in vm.arms.iter().enumerate() {
                let limit = vm.arms.get(i + 1).map_or(close, |n| n.span.start);
                parts.push(self.part(arm.span.start, arm.span.end, limit, |f| {
                    let codes: Vec<Doc> = arm.codes.iter().map(|c| f.str_lit(c)).collect();
                    RcDoc::intersperse(codes, text(" | "))
                        .append(text(format!(" => {}", f.literal(&arm.value))))
                }));
            }
            d = d.append(self.braces(text(" {"), parts, comma_or_newline(), close, false));
        }
        d
    }

    fn type_ref(&self, t: &TypeRef) -> String {
        let name = if t.list {
            format!("[{}]", t.name.name)
        } else {
            t.name.name.clone()
        };
        format!("{name}{}", if t.optional { "?" } else { "" })
    }

    fn fields(&mut self, fields: &[FieldDecl], spread: Option<Span>, close: u32) -> Vec<Part> {
        let mut units: Vec<(Span, Option<&FieldDecl>)> =
            fields.iter().map(|f| (f.span, Some(f))).collect();
        if let Some(s) = spread {
            units.push((s, None));
        }
        units.sort_by_key(|(s, _)| s.start);
        let mut parts = Vec::new();
        for (i, (span, field)) in units.iter().enumerate() {
            let limit = units.get(i + 1).map_or(close, |(s, _)| s.start);
            parts.push(self.part(span.start, span.end, limit, |f| match field {
                None => text("..pathway"),
                Some(fd) => {
                    let mut d = text(format!("{}: {}", fd.name.name, f.type_ref(&fd.ty)));
                    if let Some(lit) = &fd.default {
                        d = d.append(text(format!(" = {}", f.literal(lit))));
                    }
                    d
                }
            }));
        }
        parts
    }

    fn clock(&mut self, d: &ClockDecl) -> Doc {
        let mut head = text(format!("clock {}", d.name.name));
        if let Some(desc) = &d.description {
            head = head.append(text(" ")).append(self.str_lit(desc));
        }
        let close = self.close_of(d.span);
        let cite = cite_span(&d.cite);
        let target_end = d
            .measured_on
            .as_ref()
            .map(|m| m.span.end)
            .or(d.standard.as_ref().map(|s| s.span.end))
            .unwrap_or(d.target.span.end);
        let mut parts = vec![self.part(
            d.target.span.start,
            target_end,
            cite.map_or(close, |c| c.start),
            |f| {
                let mut t = text("target ").append(f.expr(&d.target));
                if let Some(s) = &d.standard {
                    t = t
                        .append(text(" standard "))
                        .append(f.expr(s))
                        .append(text("%"));
                    if let Some(m) = &d.measured_on {
                        t = t.append(text(format!(" of {}", m.name)));
                    }
                }
                t
            },
        )];
        if let Some(c) = cite {
            parts.push(self.part(c.start, c.end, close, |f| f.cites(&d.cite)));
        }
        parts.extend(self.dangling(close));
        let mut iter = parts.into_iter();
        let Some(first) = iter.next() else {
            return head;
        };
        let (rest, breaks) = seq(first.breaks_after, iter.collect(), &line(), false);
        let body = first.doc.append(rest).group();
        head.append(text(" {"))
            .append(line().append(body).nest(INDENT))
            .append(sep_after(breaks, line()))
            .append(text("}"))
            .group()
    }

    /// `param …= value [cite …]` and `set … = value [cite …]`.
    fn valued(&mut self, head: Doc, value: &ParamValue, cite: &[StrLit]) -> Doc {
        let cs = cite_span(cite);
        let v = self.param_value(value);
        let mut doc = head.append(v);
        if let Some(c) = cs {
            let part = self.part(c.start, c.end, c.start, |f| f.cites(cite));
            let (rest, _) = seq(false, vec![part], &line(), false);
            doc = doc.append(rest.nest(INDENT)).group();
        }
        doc
    }

    fn param_value(&mut self, v: &ParamValue) -> Doc {
        let mut d = self.expr(&v.initial);
        for (_, span, e) in &v.dated {
            d = d
                .append(text(", "))
                .append(self.expr(e))
                .append(text(format!(" from {}", self.slice(span.start, span.end))));
        }
        d
    }

    fn def(&mut self, d: &DefDecl) -> Doc {
        let mut head = text(format!("def {}", d.name.name));
        if let Some(desc) = &d.description {
            head = head.append(text(" ")).append(self.str_lit(desc));
        }
        head = head.append(text(" ="));
        let cs = cite_span(&d.cite);
        let mut parts = vec![self.part(
            d.body.span.start,
            d.body.span.end,
            cs.map_or(d.body.span.start, |c| c.start),
            |f| f.expr(&d.body),
        )];
        if let Some(c) = cs {
            parts.push(self.part(c.start, c.end, c.start, |f| f.cites(&d.cite)));
        }
        let (rest, _) = seq(false, parts, &line(), false);
        head.append(rest.nest(INDENT)).group()
    }

    /// `head` then the clauses, one per line when broken, then the action block.
    fn clauses_and_block(
        &mut self,
        head: Doc,
        clauses: Vec<Part>,
        actions: &[Action],
        span: Span,
        open: u32,
    ) -> Doc {
        let close = self.close_of(span);
        let (mid, breaks) = seq(false, clauses, &line(), false);
        let (lead, _) = self.leading(open);
        let parts: Vec<Part> = actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let limit = actions.get(i + 1).map_or(close, |b| b.span.start);
                self.part(a.span.start, a.span.end, limit, |f| f.action(a))
            })
            .collect();
        // One action may share the line; several take a line each.
        let several = actions.len() > 1;
        let block = self.braces(text("{"), parts, semi_or_newline(), close, several);
        head.append(mid.nest(INDENT))
            .append(sep_after(breaks, line()))
            .append(lead)
            .append(block)
            .group()
    }

    fn rule(&mut self, d: &RuleDecl) -> Doc {
        let mut head = text(format!("rule {}", d.name.name));
        if let Some(desc) = &d.description {
            head = head.append(text(" ")).append(self.str_lit(desc));
        }
        let when = d.when.as_ref().map(|w| w.span);
        let cite = cite_span(&d.cite);
        let open = self.block_open(d.span, &d.actions);
        let mut clauses = Vec::new();
        let ts = d.trigger_span;
        let after_trigger = when.or(cite).map_or(open, |s| s.start);
        clauses.push(self.part(ts.start, ts.end, after_trigger, |f| f.trigger(&d.trigger)));
        if let Some(w) = &d.when {
            let limit = cite.map_or(open, |s| s.start);
            clauses.push(self.part(w.span.start, w.span.end, limit, |f| f.when(w)));
        }
        if let Some(c) = cite {
            clauses.push(self.part(c.start, c.end, open, |f| f.cites(&d.cite)));
        }
        self.clauses_and_block(head, clauses, &d.actions, d.span, open)
    }

    fn exception(&mut self, d: &ExceptionDecl) -> Doc {
        let mut head = text(format!("exception {}", d.name.name));
        if let Some(desc) = &d.description {
            head = head.append(text(" ")).append(self.str_lit(desc));
        }
        let on =
            d.on.as_ref()
                .and_then(|ids| Some(ids.first()?.span.to(ids.last()?.span)));
        let when = d.when.as_ref().map(|w| w.span);
        let cite = cite_span(&d.cite);
        let open = self.block_open(d.span, &d.actions);
        let mut clauses = Vec::new();
        let t = d.target.span;
        let limit = on.or(when).or(cite).map_or(open, |s| s.start);
        clauses.push(self.part(t.start, t.end, limit, |_| {
            text(format!("to {}", d.target.name))
        }));
        if let (Some(span), Some(ids)) = (on, &d.on) {
            let limit = when.or(cite).map_or(open, |s| s.start);
            clauses.push(self.part(span.start, span.end, limit, |_| {
                text("on ").append(Self::names(ids, " or "))
            }));
        }
        if let Some(w) = &d.when {
            let limit = cite.map_or(open, |s| s.start);
            clauses.push(self.part(w.span.start, w.span.end, limit, |f| f.when(w)));
        }
        if let Some(c) = cite {
            clauses.push(self.part(c.start, c.end, open, |f| f.cites(&d.cite)));
        }
        self.clauses_and_block(head, clauses, &d.actions, d.span, open)
    }

    /// Where a rule's `{` is: just before its first action, or its closing `}` when empty.
    fn block_open(&self, span: Span, actions: &[Action]) -> u32 {
        let close = self.close_of(span);
        let upto = actions.first().map_or(close, |a| a.span.start);
        let before = self.slice(span.start, upto);
        match before.rfind('{') {
            Some(i) if actions.is_empty() || self.next_token(span.start + i as u32 + 1) == upto => {
                span.start + i as u32
            }
            _ => upto,
        }
    }

    fn when(&mut self, w: &Expr) -> Doc {
        text("when ").append(self.expr(w).nest(INDENT))
    }

    fn trigger(&mut self, t: &Trigger) -> Doc {
        match t {
            Trigger::On(ids) => text("on ").append(Self::fill_or(ids).nest(INDENT)),
            Trigger::After {
                delay,
                from,
                unless,
            } => {
                let d = text("after ")
                    .append(self.expr(delay))
                    .append(text(format!(" from {}", from.name)));
                if unless.is_empty() {
                    return d;
                }
                let list = text("unless ").append(Self::fill_or(unless).nest(INDENT));
                d.append(line().append(list).nest(INDENT)).group()
            }
        }
    }

    fn on_date(&mut self, d: Doc, on: &Option<Expr>) -> Doc {
        match on {
            Some(e) => d.append(text(" on ")).append(self.expr(e)),
            None => d,
        }
    }

    fn action(&mut self, a: &Action) -> Doc {
        match &a.kind {
            ActionKind::Start { clock, on } => {
                self.on_date(text(format!("start {}", clock.name)), on)
            }
            ActionKind::Stop { clock, reason, on } => self.on_date(
                text(format!("stop {} reason {}", clock.name, reason.name)),
                on,
            ),
            ActionKind::Nullify { clock, reason, on } => self.on_date(
                text(format!("nullify {} reason {}", clock.name, reason.name)),
                on,
            ),
            ActionKind::Reset { clock, to } => {
                text(format!("reset {} to ", clock.name)).append(self.expr(to))
            }
            ActionKind::Pause { clock, on } => {
                self.on_date(text(format!("pause {}", clock.name)), on)
            }
            ActionKind::Resume { clock, on } => {
                self.on_date(text(format!("resume {}", clock.name)), on)
            }
            ActionKind::Outcome { name, on } => {
                self.on_date(text(format!("outcome {}", name.name)), on)
            }
            ActionKind::Require(r) => {
                let mut d =
                    text(format!("require {} within ", r.what.name)).append(self.expr(&r.within));
                if let Some(of) = &r.of {
                    d = d.append(text(" of ")).append(self.expr(of));
                }
                if r.by.is_empty() {
                    return d;
                }
                let mut by = text(format!("by {}", r.by[0].name));
                for e in &r.by[1..] {
                    by = by.append(line().append(text(format!("or {}", e.name))).group());
                }
                if let Some(w) = &r.by_where {
                    by = by.append(
                        line()
                            .append(text("where "))
                            .append(self.expr(w).nest(INDENT))
                            .group(),
                    );
                }
                d.append(line().append(by.nest(3)).nest(INDENT)).group()
            }
            ActionKind::Warn(s) => text("warn ").append(self.str_lit(s)),
        }
    }

    // ------------------------------------------------------------------ tests

    fn test(&mut self, t: &TestDecl) -> Doc {
        let head = text("test ").append(self.str_lit(&t.name));
        let close = self.close_of(t.span);
        let mut parts = Vec::new();
        for (i, step) in t.steps.iter().enumerate() {
            let span = step_span(step);
            let limit = t.steps.get(i + 1).map_or(close, |s| step_span(s).start);
            parts.push(self.part(span.start, span.end, limit, |f| f.step(step)));
        }
        self.braces(head.append(text(" {")), parts, hard(), close, true)
    }

    fn step(&mut self, s: &TestStep) -> Doc {
        match s {
            TestStep::Pathway(fields, _) => text("pathway").append(self.record(fields, true)),
            TestStep::Event(e) => text(format!("{} {}", e.date.format("%Y-%m-%d"), e.kind.name))
                .append(self.record(&e.fields, false)),
            TestStep::Set(name, v, _) => {
                text(format!("set {} = ", name.name)).append(self.param_value(v))
            }
            TestStep::AsAt(d, _) => text(format!("as at {}", d.format("%Y-%m-%d"))),
            TestStep::Expect(x) => text("expect ").append(self.expectation(&x.kind)),
        }
    }

    fn record(&self, fields: &[RecordField], always: bool) -> Doc {
        if fields.is_empty() {
            return if always { text(" { }") } else { nil() };
        }
        let docs: Vec<Doc> = fields
            .iter()
            .map(|rf| text(format!("{}: {}", rf.name.name, self.literal(&rf.value))))
            .collect();
        text(" {")
            .append(
                line()
                    .append(RcDoc::intersperse(docs, comma_or_newline()))
                    .nest(INDENT),
            )
            .append(line())
            .append(text("}"))
            .group()
    }

    fn expectation(&mut self, k: &ExpectKind) -> Doc {
        let no = |n: &bool| if *n { "no " } else { "" };
        match k {
            ExpectKind::Outcome {
                negated,
                name,
                cite,
            } => {
                let d = text(format!("{}outcome {}", no(negated), name.name));
                if cite.is_empty() {
                    d
                } else {
                    d.append(text(" ")).append(self.cites(cite))
                }
            }
            ExpectKind::Obligation {
                negated,
                name,
                status,
            } => {
                let status = status
                    .as_ref()
                    .map(|s| format!(" {}", s.name))
                    .unwrap_or_default();
                text(format!("{}obligation {}{status}", no(negated), name.name))
            }
            ExpectKind::Conflict { negated } => text(format!("{}conflict", no(negated))),
            ExpectKind::Warning { negated } => text(format!("{}warning", no(negated))),
            ExpectKind::Clock {
                clock,
                period,
                status,
                on,
            } => {
                let mut s = clock.name.clone();
                if let Some((n, _)) = period {
                    s += &format!(" period {n}");
                }
                s += &format!(" {}", status.name);
                if let Some(d) = on {
                    s += &format!(" on {}", d.format("%Y-%m-%d"));
                }
                text(s)
            }
            ExpectKind::Expr(e) => self.expr(e),
        }
    }

    // ------------------------------------------------------------------ literals and expressions

    /// A literal as written where that is unambiguous (`2 weeks` stays `2 weeks`).
    fn lit_text(&self, k: &LiteralKind, span: Span) -> String {
        let (s, e) = self.unwrap_parens(span);
        let raw = self.slice(s, e);
        match k {
            LiteralKind::Bool(b) => b.to_string(),
            LiteralKind::Int(n) => n.to_string(),
            LiteralKind::Date(d) => d.format("%Y-%m-%d").to_string(),
            LiteralKind::Duration(d) => {
                if raw.contains('/') || raw.is_empty() {
                    d.to_string()
                } else {
                    raw.split_whitespace().collect::<Vec<_>>().join(" ")
                }
            }
            LiteralKind::Str(v) => {
                if raw.len() >= 2
                    && raw.starts_with('"')
                    && raw.ends_with('"')
                    && !raw.contains('\n')
                {
                    raw.to_string()
                } else {
                    escape(v)
                }
            }
            LiteralKind::Name(Some(q), n) => format!("{q}.{n}"),
            LiteralKind::Name(None, n) => n.clone(),
        }
    }

    fn literal(&self, l: &Literal) -> String {
        self.lit_text(&l.kind, l.span)
    }

    /// Whether the source wraps `span` in one pair of parentheses.
    fn wrapped(&self, start: u32, end: u32) -> bool {
        let bytes = self.src.as_bytes();
        let (s, e) = (start as usize, end as usize);
        if e <= s + 1 || bytes.get(s) != Some(&b'(') || bytes.get(e - 1) != Some(&b')') {
            return false;
        }
        let mut depth = 0usize;
        let mut i = s;
        while i < e {
            match bytes[i] {
                b'"' => {
                    i += 1;
                    while i < e && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'/' if matches!(bytes.get(i + 1), Some(b'/') | Some(b'*')) => {
                    let at = self.comments.partition_point(|c| (c.start as usize) < i);
                    if let Some(c) = self.comments.get(at).filter(|c| c.start as usize == i) {
                        i = c.end as usize;
                        continue;
                    }
                }
                b'(' | b'[' => depth += 1,
                b')' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i == e - 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        false
    }

    /// `span` without the parentheses that wrap it.
    fn unwrap_parens(&self, span: Span) -> (u32, u32) {
        let (mut s, mut e) = (span.start, span.end);
        while self.wrapped(s, e) {
            s = self.next_token(s + 1);
            e = self.tight_end(e - 1);
        }
        (s, e)
    }

    fn expr(&mut self, e: &Expr) -> Doc {
        if self.wrapped(e.span.start, e.span.end) {
            let d = self.bare(e);
            return parenthesised(d);
        }
        self.bare(e)
    }

    /// An operand: parenthesised if the source did, or if `min` binds tighter than it.
    fn operand(&mut self, e: &Expr, min: u8) -> Doc {
        if !self.wrapped(e.span.start, e.span.end) && prec(e) < min {
            // The same layout as written parentheses, so the next run lays it out alike.
            let d = self.bare(e);
            return parenthesised(d);
        }
        self.expr(e)
    }

    fn bare(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Lit(k) => text(self.lit_text(k, e.span)),
            ExprKind::Name(n) => text(n.clone()),
            ExprKind::Field(x, f) => self.operand(x, 9).append(text(format!(".{}", f.name))),
            ExprKind::Call(c) => self.call(c),
            ExprKind::Not(x) => text("not ").append(self.operand(x, 3)),
            ExprKind::Neg(x) => text("-").append(self.operand(x, 8)),
            ExprKind::Binary(op @ (BinOp::And | BinOp::Or), ..) => self.chain(e, *op),
            ExprKind::Binary(op, a, b) => {
                let p = prec(e);
                self.operand(a, p)
                    .append(text(format!(" {} ", op.symbol())))
                    .append(self.operand(b, p + 1))
            }
            ExprKind::Within { value, window, of } => self
                .operand(value, 4)
                .append(text(" within "))
                .append(self.expr(window))
                .append(text(" of "))
                .append(self.operand(of, 5)),
            ExprKind::AtLeast {
                value,
                gap,
                before,
                reference,
            } => self
                .operand(value, 4)
                .append(text(" at least "))
                .append(self.expr(gap))
                .append(text(if *before { " before " } else { " after " }))
                .append(self.operand(reference, 5)),
            ExprKind::IsSet(x, yes) => {
                self.operand(x, 4)
                    .append(text(if *yes { " is set" } else { " is not set" }))
            }
            ExprKind::In(x, list, yes) => {
                let head =
                    self.operand(x, 4)
                        .append(text(if *yes { " in [" } else { " not in [" }));
                if list.is_empty() {
                    return head.append(text("]"));
                }
                let mut items = nil();
                for (i, item) in list.iter().enumerate() {
                    let d = self.expr(item);
                    items = if i == 0 {
                        d
                    } else {
                        items.append(text(",")).append(line().append(d).group())
                    };
                }
                head.append(RcDoc::line_().append(items).nest(INDENT))
                    .append(RcDoc::line_())
                    .append(text("]"))
                    .group()
            }
            ExprKind::Member(x, list, yes) => self
                .operand(x, 4)
                .append(text(if *yes { " in " } else { " not in " }))
                .append(self.operand(list, 5)),
            ExprKind::List(items) => {
                if items.is_empty() {
                    return text("[]");
                }
                let mut inner = nil();
                for (i, item) in items.iter().enumerate() {
                    let d = self.expr(item);
                    inner = if i == 0 {
                        d
                    } else {
                        inner.append(text(",")).append(line().append(d).group())
                    };
                }
                text("[")
                    .append(RcDoc::line_().append(inner).nest(INDENT))
                    .append(RcDoc::line_())
                    .append(text("]"))
                    .group()
            }
        }
    }

    /// `a and b and c`: on one line if it fits, else one operand per line, operator first.
    fn chain(&mut self, e: &Expr, op: BinOp) -> Doc {
        let mut operands = Vec::new();
        self.flatten(e, op, &mut operands);
        let p = prec(e);
        let mut parts = Vec::new();
        for (i, x) in operands.iter().enumerate() {
            let min = if i == 0 { p } else { p + 1 };
            let limit = operands.get(i + 1).map_or(x.span.end, |y| y.span.start);
            let first = i == 0;
            parts.push(self.part(x.span.start, x.span.end, limit, |f| {
                let d = f.operand(x, min);
                if first {
                    d
                } else {
                    text(format!("{} ", op.symbol())).append(d)
                }
            }));
        }
        let mut iter = parts.into_iter();
        let Some(first) = iter.next() else {
            return nil();
        };
        let (rest, _) = seq(first.breaks_after, iter.collect(), &line(), false);
        first.doc.append(rest).group()
    }

    fn flatten<'e>(&self, e: &'e Expr, op: BinOp, out: &mut Vec<&'e Expr>) {
        match &e.kind {
            ExprKind::Binary(o, a, b) if *o == op => {
                if self.wrapped(a.span.start, a.span.end) {
                    out.push(a);
                } else {
                    self.flatten(a, op, out);
                }
                out.push(b);
            }
            _ => out.push(e),
        }
    }

    fn call(&mut self, c: &Call) -> Doc {
        let method = is_method(c);
        let (head, args) = if method {
            let recv = self.operand(&c.args[0], 9);
            (
                recv.append(text(format!(".{}(", c.func.name))),
                &c.args[1..],
            )
        } else {
            (text(format!("{}(", c.func.name)), &c.args[..])
        };
        let mut inner = nil();
        for (i, a) in args.iter().enumerate() {
            let d = self.expr(a);
            inner = if i == 0 {
                d
            } else {
                inner.append(text(",")).append(line()).append(d)
            };
            if i == 0 {
                if let Some(w) = &c.where_ {
                    let w = self.expr(w).nest(INDENT);
                    inner = inner.append(line()).append(text("where ")).append(w);
                }
                if let Some(s) = &c.since {
                    let s = self.expr(s).nest(INDENT);
                    inner = inner.append(line()).append(text("since ")).append(s);
                }
                if !c.among.is_empty() {
                    inner = inner
                        .append(line())
                        .append(text("among "))
                        .append(Self::names(&c.among, ", "));
                }
            }
        }
        if args.is_empty() {
            return head.append(text(")"));
        }
        head.append(RcDoc::line_().append(inner).nest(INDENT))
            .append(RcDoc::line_())
            .append(text(")"))
            .group()
    }
}

/// `(e)`, breaking inside the parentheses when it does not fit.
fn parenthesised(d: Doc) -> Doc {
    text("(")
        .append(RcDoc::line_().append(d).nest(INDENT))
        .append(RcDoc::line_())
        .append(text(")"))
        .group()
}

/// The span of a test step.
fn step_span(s: &TestStep) -> Span {
    match s {
        TestStep::Pathway(_, span) | TestStep::Set(_, _, span) | TestStep::AsAt(_, span) => *span,
        TestStep::Event(e) => e.span,
        TestStep::Expect(x) => x.span,
    }
}

#[cfg(test)]
mod tests;
