//! Document symbols: the declarations of one file as an outline (events with their fields,
//! enums with their variants, parameters, clocks, definitions, rules, exceptions, tests).

use super::index::{type_text, SymbolKind};
use crate::base::source::{FileId, Span};
use crate::syntax::ast::{FieldDecl, Item};
use crate::syntax::format::item_extents;
use crate::syntax::parse_file;

/// One entry of a file's outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineItem {
    /// The declared name.
    pub name: String,
    /// What it declares.
    pub kind: SymbolKind,
    /// A short description: a type, a rule's description, an exception's rule.
    pub detail: Option<String>,
    /// The whole declaration.
    pub span: Span,
    /// The name.
    pub name_span: Span,
    /// Fields of an event, variants of an enum.
    pub children: Vec<OutlineItem>,
}

fn fields(fields: &[FieldDecl], kind: SymbolKind) -> Vec<OutlineItem> {
    fields
        .iter()
        .map(|f| OutlineItem {
            name: f.name.name.clone(),
            kind,
            detail: Some(type_text(&f.ty)),
            span: f.span,
            name_span: f.name.span,
            children: Vec::new(),
        })
        .collect()
}

/// The outline of `text` (empty when it does not parse: the editor keeps the last one).
/// Spans are in `file`.
pub fn outline(file: FileId, text: &str) -> Vec<OutlineItem> {
    let Ok(ast) = parse_file(file, text) else {
        return Vec::new();
    };
    let extents = item_extents(text, &ast);
    let mut out = Vec::new();
    if let Some(h) = &ast.header {
        out.push(OutlineItem {
            name: h.name.name.clone(),
            kind: SymbolKind::Policy,
            detail: None,
            span: h.span,
            name_span: h.name.span,
            children: Vec::new(),
        });
    }
    for (item, span) in ast.items.iter().zip(extents) {
        let (name, kind, detail, children) = match item {
            Item::Enum(e) => (
                &e.name,
                SymbolKind::Enum,
                None,
                e.variants
                    .iter()
                    .map(|v| OutlineItem {
                        name: v.name.clone(),
                        kind: SymbolKind::Variant,
                        detail: None,
                        span: v.span,
                        name_span: v.span,
                        children: Vec::new(),
                    })
                    .collect(),
            ),
            Item::Event(e) => (
                &e.name,
                SymbolKind::EventType,
                e.description.as_ref().map(|d| d.value.clone()),
                fields(&e.fields, SymbolKind::Field),
            ),
            Item::Pathway(p) => {
                out.push(OutlineItem {
                    name: "pathway".into(),
                    kind: SymbolKind::PathwayAttribute,
                    detail: None,
                    span,
                    name_span: Span {
                        end: span.start + 7,
                        ..span
                    },
                    children: fields(&p.fields, SymbolKind::PathwayAttribute),
                });
                continue;
            }
            Item::Clock(c) => (
                &c.name,
                SymbolKind::Clock,
                c.description.as_ref().map(|d| d.value.clone()),
                Vec::new(),
            ),
            Item::Param(p) => (
                &p.name,
                SymbolKind::Param,
                Some(type_text(&p.ty)),
                Vec::new(),
            ),
            Item::Set(s) => (&s.name, SymbolKind::Param, Some("set".into()), Vec::new()),
            Item::Def(d) => (
                &d.name,
                SymbolKind::Def,
                d.description.as_ref().map(|d| d.value.clone()),
                Vec::new(),
            ),
            Item::Rule(r) => (
                &r.name,
                SymbolKind::Rule,
                r.description.as_ref().map(|d| d.value.clone()),
                Vec::new(),
            ),
            Item::Exception(e) => (
                &e.name,
                SymbolKind::Rule,
                Some(format!("exception to {}", e.target.name)),
                Vec::new(),
            ),
            Item::Test(t) => {
                out.push(OutlineItem {
                    name: t.name.value.clone(),
                    kind: SymbolKind::Test,
                    detail: None,
                    span,
                    name_span: t.name.span,
                    children: Vec::new(),
                });
                continue;
            }
            Item::Import(_)
            | Item::Calendar(_)
            | Item::Disable(_)
            | Item::SameDayOrder(..)
            | Item::Mapping(_) => continue,
        };
        out.push(OutlineItem {
            name: name.name.clone(),
            kind,
            detail,
            span,
            name_span: name.span,
            children,
        });
    }
    out
}
