//! Hover: what the name under the cursor is, in Markdown — a parameter's type and value(s)
//! with the dates they take effect, where each is set (this policy or an inherited one) and
//! why (citation); a rule's description, trigger, citations and the exceptions that override
//! it; an event type's fields with their defaults; a definition's type and body.

use super::index::{ItemRef, Role, SymbolKey, SymbolKind, PATHWAY};
use super::Analysis;
use crate::base::source::{FileId, Span};
use crate::syntax::ast::{FieldDecl, Item, ParamValue, StrLit};

/// The text to show for the name at a position, and the name's span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// Markdown.
    pub markdown: String,
    /// The name hovered.
    pub span: Span,
}

impl Analysis {
    /// The hover for the name at `offset` of `file`.
    pub fn hover(&self, file: FileId, offset: u32) -> Option<Hover> {
        let (key, span) = self.symbol_at(file, offset)?;
        let markdown = self.describe(&key, file)?;
        Some(Hover { markdown, span })
    }

    fn item(&self, at: ItemRef) -> Option<&Item> {
        self.loaded.modules.get(at.module)?.ast.items.get(at.item)
    }

    fn file_name(&self, file: FileId) -> String {
        let p = self.path(file);
        p.strip_prefix(self.root.parent().unwrap_or(&p))
            .unwrap_or(&p)
            .display()
            .to_string()
    }

    fn text(&self, span: Span) -> String {
        self.sources
            .snippet(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Where a declaration is, relative to the file asked about: "this file" or its name.
    fn whence(&self, span: Span, asked: FileId) -> String {
        if span.file == asked {
            "this file".into()
        } else {
            let (_, line, _) = self.sources.location(span);
            format!("`{}`:{line}", self.file_name(span.file))
        }
    }

    fn describe(&self, key: &SymbolKey, asked: FileId) -> Option<String> {
        let def = self.index.definition(key)?;
        let item = self.item(def.item)?;
        let mut out = String::new();
        let whence = self.whence(def.name_span, asked);
        match (key.kind, item) {
            (SymbolKind::Param, Item::Param(p)) => {
                let ty = super::index::type_text(&p.ty);
                out.push_str(&format!("```pal\nparam {}: {ty}\n```\n", p.name.name));
                out.push_str(&format!(
                    "Declared in {whence}: {}{}\n",
                    self.value_text(&p.value),
                    cites(&p.cite)
                ));
                // Every later `set` in the policy's files, in load order: the last one wins.
                let mut sets = Vec::new();
                for r in self
                    .index
                    .references_to(key)
                    .filter(|r| r.role == Role::Set)
                {
                    // A test's `set` changes the value for that test only.
                    if let Some(Item::Set(s)) = self.item(r.item) {
                        sets.push(format!(
                            "\nSet in {}: {}{}\n",
                            self.whence(s.name.span, asked),
                            self.value_text(&s.value),
                            cites(&s.cite)
                        ));
                    }
                }
                for s in &sets {
                    out.push_str(s);
                }
                if let Some(policy) = &self.policy {
                    if let Some(pd) = policy.params.iter().find(|d| d.name == p.name.name) {
                        let show = |v| policy.schema.display_value(v);
                        let mut v = format!(
                            "\nIn effect for policy `{}`: {}",
                            policy.name,
                            show(&pd.initial)
                        );
                        for (date, value) in &pd.dated {
                            v.push_str(&format!(", {} from {date}", show(value)));
                        }
                        out.push_str(&v);
                        out.push('\n');
                    }
                }
            }
            (SymbolKind::Rule, Item::Rule(r)) => {
                out.push_str(&format!("```pal\nrule {}\n```\n", r.name.name));
                if let Some(d) = &r.description {
                    out.push_str(&format!("{}\n\n", d.value));
                }
                out.push_str(&format!("Trigger: `{}`", self.text(r.trigger_span)));
                if let Some(w) = &r.when {
                    out.push_str(&format!(" when `{}`", self.text(w.span)));
                }
                out.push('\n');
                self.rule_tail(&mut out, key, &r.cite, &whence, asked);
            }
            (SymbolKind::Rule, Item::Exception(e)) => {
                out.push_str(&format!(
                    "```pal\nexception {} to {}\n```\n",
                    e.name.name, e.target.name
                ));
                if let Some(d) = &e.description {
                    out.push_str(&format!("{}\n\n", d.value));
                }
                if let Some(w) = &e.when {
                    out.push_str(&format!("When `{}`\n", self.text(w.span)));
                }
                self.rule_tail(&mut out, key, &e.cite, &whence, asked);
            }
            (SymbolKind::EventType, Item::Event(e)) => {
                out.push_str(&format!("```pal\nevent {}\n```\n", e.name.name));
                if let Some(d) = &e.description {
                    out.push_str(&format!("{}\n\n", d.value));
                }
                out.push_str(&format!("Declared in {whence}.\n"));
                if e.carries_pathway.is_some() {
                    out.push_str("\nCarries the pathway's attributes (`..pathway`).\n");
                }
                if !e.fields.is_empty() {
                    out.push_str("\n| field | type | default |\n|---|---|---|\n");
                    for f in &e.fields {
                        out.push_str(&self.field_row(f));
                    }
                }
            }
            (
                SymbolKind::Field | SymbolKind::PathwayAttribute,
                Item::Event(_) | Item::Pathway(_),
            ) => {
                let owner = key.parent.as_deref().unwrap_or(PATHWAY);
                let f = match item {
                    Item::Event(e) => e.fields.iter().find(|f| f.name.name == key.name),
                    Item::Pathway(p) => p.fields.iter().find(|f| f.name.name == key.name),
                    _ => None,
                }?;
                out.push_str(&format!(
                    "```pal\n{owner}.{}: {}{}\n```\n",
                    key.name,
                    super::index::type_text(&f.ty),
                    f.default
                        .as_ref()
                        .map(|d| format!(" = {}", self.text(d.span)))
                        .unwrap_or_default()
                ));
                out.push_str(&format!("Declared in {whence}.\n"));
            }
            (SymbolKind::Enum, Item::Enum(e)) => {
                let vs: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
                out.push_str(&format!(
                    "```pal\nenum {} {{ {} }}\n```\nDeclared in {whence}.\n",
                    e.name.name,
                    vs.join(", ")
                ));
            }
            (SymbolKind::Variant, Item::Enum(e)) => {
                out.push_str(&format!(
                    "```pal\n{}.{}\n```\nA variant of `{}`, declared in {whence}.\n",
                    e.name.name, key.name, e.name.name
                ));
            }
            (SymbolKind::Clock, Item::Clock(c)) => {
                out.push_str(&format!("```pal\nclock {}\n```\n", c.name.name));
                if let Some(d) = &c.description {
                    out.push_str(&format!("{}\n\n", d.value));
                }
                out.push_str(&format!("Target: `{}`", self.text(c.target.span)));
                if let Some(s) = &c.standard {
                    out.push_str(&format!(", standard `{}`%", self.text(s.span)));
                }
                out.push_str(&format!("{}\n\nDeclared in {whence}.\n", cites(&c.cite)));
            }
            (SymbolKind::Def, Item::Def(d)) => {
                let ty = self
                    .policy
                    .as_ref()
                    .and_then(|p| p.defs.iter().find(|x| x.name == d.name.name))
                    .and_then(|x| {
                        let p = self.policy.as_ref()?;
                        let (t, optional) = x.ty.as_ref()?;
                        Some(format!(
                            ": {}{}",
                            p.schema.type_name(t),
                            if *optional { "?" } else { "" }
                        ))
                    })
                    .unwrap_or_default();
                out.push_str(&format!(
                    "```pal\ndef {}{ty} = {}\n```\n",
                    d.name.name,
                    self.text(d.body.span)
                ));
                if let Some(desc) = &d.description {
                    out.push_str(&format!("{}\n\n", desc.value));
                }
                out.push_str(&format!("Declared in {whence}{}.\n", cites(&d.cite)));
            }
            (SymbolKind::Policy, _) => {
                out.push_str(&format!(
                    "```pal\npolicy {}\n```\nDeclared in {whence}.\n",
                    key.name
                ));
            }
            (SymbolKind::Test, Item::Test(t)) => {
                out.push_str(&format!(
                    "```pal\ntest \"{}\"\n```\n{} steps, declared in {whence}.\n",
                    t.name.value,
                    t.steps.len()
                ));
            }
            _ => return None,
        }
        Some(out)
    }

    /// Citations, the exceptions that override a rule or exception, and whether it is disabled.
    fn rule_tail(
        &self,
        out: &mut String,
        key: &SymbolKey,
        cite: &[StrLit],
        whence: &str,
        asked: FileId,
    ) {
        if !cite.is_empty() {
            let c: Vec<String> = cite.iter().map(|c| format!("\"{}\"", c.value)).collect();
            out.push_str(&format!("\nCites {}\n", c.join(", ")));
        }
        for r in self.index.references_to(key) {
            match (r.role, self.item(r.item)) {
                (Role::ExceptionTo, Some(Item::Exception(e))) => out.push_str(&format!(
                    "\nOverridden by exception `{}` ({}){}\n",
                    e.name.name,
                    self.whence(e.name.span, asked),
                    e.description
                        .as_ref()
                        .map(|d| format!(": {}", d.value))
                        .unwrap_or_default()
                )),
                (Role::Disable, Some(Item::Disable(d))) => out.push_str(&format!(
                    "\nDisabled in {}{}\n",
                    self.whence(d.span, asked),
                    d.because
                        .as_ref()
                        .map(|b| format!(" because \"{}\"", b.value))
                        .unwrap_or_default()
                )),
                _ => {}
            }
        }
        out.push_str(&format!("\nDeclared in {whence}.\n"));
    }

    fn field_row(&self, f: &FieldDecl) -> String {
        format!(
            "| `{}` | `{}` | {} |\n",
            f.name.name,
            super::index::type_text(&f.ty),
            f.default
                .as_ref()
                .map(|d| format!("`{}`", self.text(d.span)))
                .unwrap_or_default()
        )
    }

    fn value_text(&self, v: &ParamValue) -> String {
        format!("`{}`", self.text(v.span))
    }
}

fn cites(cite: &[StrLit]) -> String {
    if cite.is_empty() {
        String::new()
    } else {
        let c: Vec<String> = cite.iter().map(|c| format!("\"{}\"", c.value)).collect();
        format!(" (cite {})", c.join(", "))
    }
}
