//! Completion in context: event types after `on`, `or` (in a trigger), `from`, `unless`, `by`
//! and `among`; fields after `event.` (of the rule's trigger events), `pathway.` and `dna.`;
//! variants after `kind.` and `reason`; clocks after `start`, `stop`, …; rules after `to`
//! (an exception's) and `disable`; citations already used inside `cite "…"`; declaration
//! keywords at the start of a line; otherwise the names an expression may read.
//!
//! The context is read from the text being typed (which often does not parse); the names come
//! from the latest analysis of the policy in which the file parsed.

use super::index::{SymbolKind, PATHWAY};
use super::Analysis;
use crate::front::check::{CLOCK_FIELDS, FUNCTIONS};
use crate::syntax::ast::Item;
use crate::syntax::ITEM_KEYWORDS;

/// What a completion item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompletionKind {
    /// An event type.
    EventType,
    /// A field or pathway attribute.
    Field,
    /// An enum.
    Enum,
    /// An enum variant.
    Variant,
    /// A parameter.
    Param,
    /// A definition.
    Def,
    /// A clock.
    Clock,
    /// A rule or exception.
    Rule,
    /// A citation used elsewhere in the policy.
    Citation,
    /// A built-in function.
    Function,
    /// A keyword.
    Keyword,
    /// A type.
    Type,
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The text inserted (and shown).
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A short description (a field's type, an event's description).
    pub detail: Option<String>,
}

/// The built-in types.
const TYPES: &[&str] = &["Bool", "Int", "Date", "Duration", "String"];

/// Words inside an action block.
const ACTIONS: &[&str] = &[
    "start", "stop", "nullify", "reset", "pause", "resume", "outcome", "require", "warn",
];

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The word that ends `s` (possibly empty) and what comes before it.
fn split_word(s: &str) -> (&str, &str) {
    let at = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    (&s[..at], &s[at..])
}

/// The declaration that the text before the cursor is inside: its first line onwards.
fn enclosing_item(before: &str) -> &str {
    let mut at = 0;
    let mut start = 0;
    for line in before.split_inclusive('\n') {
        if ITEM_KEYWORDS.iter().any(|k| {
            line.strip_prefix(k)
                .is_some_and(|r| r.starts_with([' ', '\t', '{', '\n', '\r']) || r.is_empty())
        }) {
            start = at;
        }
        at += line.len();
    }
    &before[start..]
}

impl Analysis {
    /// Completions at byte `offset` of `text` (the file's current text, which need not be the
    /// text this analysis was made from).
    pub fn completions(&self, text: &str, offset: usize) -> Vec<Completion> {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or("");
        let (head, _partial) = split_word(before);
        let line = head.rsplit('\n').next().unwrap_or("");
        let mut out = Vec::new();

        // Inside a string after `cite`: citations used elsewhere.
        if line.matches('"').count() % 2 == 1 {
            if line.contains("cite") || line.trim_start().starts_with('"') {
                self.citations(&mut out);
            }
            return out;
        }
        if let Some(base_text) = head.strip_suffix('.') {
            let (_, base) = split_word(base_text);
            self.members(base, enclosing_item(before), &mut out);
            return out;
        }
        let (_, previous) = split_word(head.trim_end());
        let trimmed = line.trim_start();
        let item = enclosing_item(before);
        // Still in a rule's or exception's header, before its condition and actions.
        let in_header = (item.starts_with("rule") || item.starts_with("exception"))
            && !item.contains('{')
            && !item.split_whitespace().any(|w| w == "when");
        let in_trigger = in_header && item.split_whitespace().any(|w| w == "on");
        match previous {
            "on" if in_header => {
                self.names_of(SymbolKind::EventType, CompletionKind::EventType, &mut out)
            }
            "or" if in_trigger || line.contains(" by ") => {
                self.names_of(SymbolKind::EventType, CompletionKind::EventType, &mut out)
            }
            "from" | "unless" | "by" | "among" if !item.starts_with("param") => {
                self.names_of(SymbolKind::EventType, CompletionKind::EventType, &mut out)
            }
            "to" if item.starts_with("exception") && !trimmed.starts_with("reset") => {
                self.names_of(SymbolKind::Rule, CompletionKind::Rule, &mut out)
            }
            "disable" => self.names_of(SymbolKind::Rule, CompletionKind::Rule, &mut out),
            "start" | "stop" | "pause" | "resume" | "nullify" | "reset" => {
                self.names_of(SymbolKind::Clock, CompletionKind::Clock, &mut out)
            }
            "reason" => self.reasons(&mut out),
            "require" | "outcome" | "warn" | "cite" | "because" => {}
            _ if head.trim_end().ends_with(':') => {
                push_all(&mut out, TYPES, CompletionKind::Type);
                self.names_of(SymbolKind::Enum, CompletionKind::Enum, &mut out);
            }
            _ if trimmed.is_empty() && depth(before) == 0 => {
                push_all(&mut out, ITEM_KEYWORDS, CompletionKind::Keyword)
            }
            _ if trimmed.is_empty() && item.starts_with("rule")
                || item.starts_with("exception") =>
            {
                push_all(&mut out, ACTIONS, CompletionKind::Keyword);
                self.expression_names(&mut out);
            }
            _ => self.expression_names(&mut out),
        }
        out
    }

    /// Names after `base.`.
    fn members(&self, base: &str, item: &str, out: &mut Vec<Completion>) {
        let ix = &self.index;
        let events: Vec<String> = if base == "event" {
            trigger_events(item, ix)
        } else if ix.has(SymbolKind::EventType, base) {
            vec![base.to_string()]
        } else {
            Vec::new()
        };
        if base == PATHWAY {
            self.fields_of(PATHWAY, out);
        } else if !events.is_empty() {
            for e in &events {
                self.fields_of(e, out);
                if ix.carries_pathway.contains(e) {
                    self.fields_of(PATHWAY, out);
                }
            }
        } else if ix.has(SymbolKind::Clock, base) {
            push_all(out, CLOCK_FIELDS, CompletionKind::Field);
        } else if let Some(vs) = ix.enums.get(base) {
            push_all(out, vs, CompletionKind::Variant);
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|c| seen.insert(c.label.clone()));
    }

    fn fields_of(&self, owner: &str, out: &mut Vec<Completion>) {
        for (name, ty) in self.index.fields.get(owner).into_iter().flatten() {
            out.push(Completion {
                label: name.clone(),
                kind: CompletionKind::Field,
                detail: Some(ty.clone()),
            });
        }
    }

    fn names_of(&self, kind: SymbolKind, as_kind: CompletionKind, out: &mut Vec<Completion>) {
        for n in self.index.names(kind) {
            out.push(Completion {
                label: n.to_string(),
                kind: as_kind,
                detail: None,
            });
        }
    }

    fn all_variants(&self, out: &mut Vec<Completion>) {
        let mut enums: Vec<(&String, &Vec<String>)> = self.index.enums.iter().collect();
        enums.sort();
        for (en, vs) in enums {
            for v in vs {
                out.push(Completion {
                    label: v.clone(),
                    kind: CompletionKind::Variant,
                    detail: Some(en.clone()),
                });
            }
        }
    }

    fn expression_names(&self, out: &mut Vec<Completion>) {
        self.names_of(SymbolKind::Param, CompletionKind::Param, out);
        self.names_of(SymbolKind::Def, CompletionKind::Def, out);
        self.names_of(SymbolKind::Clock, CompletionKind::Clock, out);
        self.names_of(SymbolKind::EventType, CompletionKind::EventType, out);
        push_all(out, FUNCTIONS, CompletionKind::Function);
        push_all(
            out,
            &[
                "event", "pathway", "now", "and", "or", "not", "is", "in", "within", "at",
            ],
            CompletionKind::Keyword,
        );
        self.all_variants(out);
    }

    /// The stop and nullify reasons the policy's actions name (the built-in `stop_reason`).
    fn reasons(&self, out: &mut Vec<Completion>) {
        use crate::syntax::ast::ActionKind;
        let mut seen = std::collections::HashSet::new();
        for m in &self.loaded.modules {
            for item in &m.ast.items {
                let actions = match item {
                    Item::Rule(r) => &r.actions,
                    Item::Exception(e) => &e.actions,
                    _ => continue,
                };
                for a in actions {
                    if let ActionKind::Stop { reason, .. } | ActionKind::Nullify { reason, .. } =
                        &a.kind
                    {
                        if seen.insert(reason.name.clone()) {
                            out.push(Completion {
                                label: reason.name.clone(),
                                kind: CompletionKind::Variant,
                                detail: Some("stop_reason".into()),
                            });
                        }
                    }
                }
            }
        }
    }

    /// Every citation written anywhere in the policy, once each, in order.
    fn citations(&self, out: &mut Vec<Completion>) {
        let mut seen = std::collections::HashSet::new();
        for m in &self.loaded.modules {
            for item in &m.ast.items {
                let cite = match item {
                    Item::Rule(r) => &r.cite,
                    Item::Exception(e) => &e.cite,
                    Item::Param(p) => &p.cite,
                    Item::Set(s) => &s.cite,
                    Item::Clock(c) => &c.cite,
                    Item::Def(d) => &d.cite,
                    _ => continue,
                };
                for c in cite {
                    if seen.insert(c.value.clone()) {
                        out.push(Completion {
                            label: c.value.clone(),
                            kind: CompletionKind::Citation,
                            detail: None,
                        });
                    }
                }
            }
        }
    }
}

/// The event types that `event` stands for in the declaration `item` (its text so far): a
/// rule's `on a or b`, a timer's `from a`, an exception's own `on` or its rule's trigger.
fn trigger_events(item: &str, ix: &super::index::Index) -> Vec<String> {
    let words: Vec<&str> = item
        .split(|c: char| !is_word(c))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    if let Some(at) = words.iter().position(|w| *w == "on") {
        let mut i = at + 1;
        while let Some(w) = words.get(i) {
            if ix.has(SymbolKind::EventType, w) {
                out.push(w.to_string());
            }
            if words.get(i + 1) != Some(&"or") {
                break;
            }
            i += 2;
        }
    }
    if out.is_empty() && words.first() == Some(&"rule") {
        if let Some(at) = words.iter().position(|w| *w == "from") {
            if let Some(w) = words.get(at + 1) {
                out.push(w.to_string());
            }
        }
    }
    if out.is_empty() && words.first() == Some(&"exception") {
        if let Some(at) = words.iter().position(|w| *w == "to") {
            if let Some(t) = words.get(at + 1).and_then(|r| ix.triggers.get(*r)) {
                out.extend(t.iter().cloned());
            }
        }
    }
    out
}

/// How many braces are open at the end of `text` (outside strings and line comments).
fn depth(text: &str) -> i64 {
    let mut d = 0i64;
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            match c {
                '"' if prev != '\\' => in_str = !in_str,
                '/' if !in_str && prev == '/' => break,
                '{' if !in_str => d += 1,
                '}' if !in_str => d -= 1,
                _ => {}
            }
            prev = c;
        }
    }
    d.max(0)
}

fn push_all<S: AsRef<str>>(out: &mut Vec<Completion>, names: &[S], kind: CompletionKind) {
    for n in names {
        out.push(Completion {
            label: n.as_ref().to_string(),
            kind,
            detail: None,
        });
    }
}
