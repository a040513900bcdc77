//! The symbol index of a loaded policy: every declaration (event types, fields, pathway
//! attributes, enums and variants, clocks, parameters, definitions, rules, exceptions, tests,
//! policies) and every place a name refers to one, across all the files of the policy.
//!
//! Names are resolved from the syntax trees alone, so the index exists (and go to definition,
//! find references and hover work) even when the checker finds errors. Resolution follows the
//! checker's scopes: `event.x` is a field of the rule's trigger events, `pathway.x` a pathway
//! attribute, `dna.x` a field of the event type `dna`, `kind.first` a variant of `kind`; a bare
//! name is a parameter, a definition, a clock, an event type or an enum variant, in that order.

use crate::base::source::Span;
use crate::syntax::ast::{
    ActionKind, ExpectKind, Expr, ExprKind, FieldDecl, File, Item, Literal, LiteralKind,
    ParamValue, PolicyRef, RecordField, TestStep, Trigger, TypeRef,
};
use std::collections::HashMap;

/// What kind of thing a name declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    /// `policy rde`.
    Policy,
    /// `event dna`.
    EventType,
    /// A field of an event type (its parent is the event type).
    Field,
    /// A field of `pathway { … }`.
    PathwayAttribute,
    /// `enum appointment_kind`.
    Enum,
    /// A variant of an enum (its parent is the enum).
    Variant,
    /// `clock rtt`.
    Clock,
    /// `param child_age`.
    Param,
    /// `def child`.
    Def,
    /// `rule …` and `exception …` (one namespace: exceptions and `disable` name either).
    Rule,
    /// `test "…"`.
    Test,
}

impl SymbolKind {
    /// The word for the kind, as the language writes it.
    pub fn word(self) -> &'static str {
        match self {
            SymbolKind::Policy => "policy",
            SymbolKind::EventType => "event",
            SymbolKind::Field => "field",
            SymbolKind::PathwayAttribute => "pathway attribute",
            SymbolKind::Enum => "enum",
            SymbolKind::Variant => "variant",
            SymbolKind::Clock => "clock",
            SymbolKind::Param => "param",
            SymbolKind::Def => "def",
            SymbolKind::Rule => "rule",
            SymbolKind::Test => "test",
        }
    }
}

/// The identity of a declared name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SymbolKey {
    /// What it is.
    pub kind: SymbolKind,
    /// The event type of a field, the enum of a variant; `None` otherwise.
    pub parent: Option<String>,
    /// The name.
    pub name: String,
}

impl SymbolKey {
    fn new(kind: SymbolKind, parent: Option<&str>, name: &str) -> SymbolKey {
        SymbolKey {
            kind,
            parent: parent.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// Where a top-level declaration is: the index of its module in the loaded policy and of the
/// item in that module's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemRef {
    /// Module (in dependency order, the root last).
    pub module: usize,
    /// Item within the module's file.
    pub item: usize,
}

/// A declaration.
#[derive(Debug, Clone)]
pub struct Definition {
    /// What it declares.
    pub key: SymbolKey,
    /// The declared name.
    pub name_span: Span,
    /// The whole declaration (the field, the variant, or the item).
    pub span: Span,
    /// The top-level item it is part of.
    pub item: ItemRef,
}

/// How a name is used where it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read or named.
    Use,
    /// `set name = …` (in a policy or a test): a new value for the parameter.
    Set,
    /// `exception … to name`: the exception overrides the rule.
    ExceptionTo,
    /// `disable name`.
    Disable,
}

/// One place a name refers to a declaration.
#[derive(Debug, Clone)]
pub struct Reference {
    /// What it refers to.
    pub key: SymbolKey,
    /// The name as written.
    pub span: Span,
    /// How it is used.
    pub role: Role,
    /// The top-level item it is written in.
    pub item: ItemRef,
}

/// Declarations and references of one loaded policy.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Every declaration, in module and source order.
    pub definitions: Vec<Definition>,
    /// Every resolved reference, in module and source order.
    pub references: Vec<Reference>,
    /// The declaration of each key (the first, if declared twice).
    by_key: HashMap<SymbolKey, usize>,
    /// Event type → its fields' names and types as written, in order.
    pub fields: HashMap<String, Vec<(String, String)>>,
    /// Event types that carry the pathway's attributes (`..pathway`).
    pub carries_pathway: std::collections::HashSet<String>,
    /// Rule or exception → the event types that trigger it (for `event.` in its body).
    pub triggers: HashMap<String, Vec<String>>,
    /// Enum → variants in order.
    pub enums: HashMap<String, Vec<String>>,
    /// Variant → the enums that declare it, in declaration order.
    variant_enums: HashMap<String, Vec<String>>,
    /// Field or attribute → its declared type name, keyed by (event type or `pathway`, field).
    field_types: HashMap<(String, String), String>,
}

/// The owner name used for pathway attributes in [`Index::fields`].
pub const PATHWAY: &str = "pathway";

impl Index {
    /// Indexes the files of a loaded policy, in dependency order.
    pub fn build<'a>(files: impl IntoIterator<Item = &'a File>) -> Index {
        let files: Vec<&File> = files.into_iter().collect();
        let mut ix = Index::default();
        for (m, file) in files.iter().enumerate() {
            ix.declare(m, file);
        }
        // Exceptions without a trigger of their own take their rule's, once every rule is known.
        let mut pending: Vec<(String, String)> = Vec::new();
        for file in &files {
            for item in &file.items {
                if let Item::Exception(e) = item {
                    if e.on.is_none() {
                        pending.push((e.name.name.clone(), e.target.name.clone()));
                    }
                }
            }
        }
        for _ in 0..8 {
            for (exc, target) in &pending {
                if let Some(t) = ix.triggers.get(target).cloned() {
                    ix.triggers.entry(exc.clone()).or_insert(t);
                }
            }
        }
        for (m, file) in files.iter().enumerate() {
            for (i, item) in file.items.iter().enumerate() {
                let mut r = Resolver {
                    ix: &mut ix,
                    at: ItemRef { module: m, item: i },
                    context: Vec::new(),
                };
                r.item(item);
            }
            if let Some(PolicyRef::Name(n)) = file.header.as_ref().and_then(|h| h.extends.as_ref())
            {
                ix.reference(
                    SymbolKey::new(SymbolKind::Policy, None, &n.name),
                    n.span,
                    Role::Use,
                    ItemRef { module: m, item: 0 },
                );
            }
        }
        ix
    }

    fn define(&mut self, key: SymbolKey, name_span: Span, span: Span, item: ItemRef) {
        self.by_key
            .entry(key.clone())
            .or_insert(self.definitions.len());
        self.definitions.push(Definition {
            key,
            name_span,
            span,
            item,
        });
    }

    fn reference(&mut self, key: SymbolKey, span: Span, role: Role, item: ItemRef) {
        self.references.push(Reference {
            key,
            span,
            role,
            item,
        });
    }

    fn fields_of(&mut self, owner: &str, fields: &[FieldDecl], at: ItemRef) {
        let kind = if owner == PATHWAY {
            SymbolKind::PathwayAttribute
        } else {
            SymbolKind::Field
        };
        let parent = (owner != PATHWAY).then_some(owner);
        for f in fields {
            let ty = type_text(&f.ty);
            self.fields
                .entry(owner.to_string())
                .or_default()
                .push((f.name.name.clone(), ty));
            self.field_types.insert(
                (owner.to_string(), f.name.name.clone()),
                f.ty.name.name.clone(),
            );
            self.define(
                SymbolKey::new(kind, parent, &f.name.name),
                f.name.span,
                f.span,
                at,
            );
        }
    }

    /// First pass: the declarations of one file.
    fn declare(&mut self, m: usize, file: &File) {
        if let Some(h) = &file.header {
            self.define(
                SymbolKey::new(SymbolKind::Policy, None, &h.name.name),
                h.name.span,
                h.span,
                ItemRef { module: m, item: 0 },
            );
        }
        for (i, item) in file.items.iter().enumerate() {
            let at = ItemRef { module: m, item: i };
            let span = item.span();
            match item {
                Item::Enum(e) => {
                    self.define(
                        SymbolKey::new(SymbolKind::Enum, None, &e.name.name),
                        e.name.span,
                        span,
                        at,
                    );
                    for v in &e.variants {
                        self.define(
                            SymbolKey::new(SymbolKind::Variant, Some(&e.name.name), &v.name),
                            v.span,
                            v.span,
                            at,
                        );
                        self.variant_enums
                            .entry(v.name.clone())
                            .or_default()
                            .push(e.name.name.clone());
                    }
                    self.enums.insert(
                        e.name.name.clone(),
                        e.variants.iter().map(|v| v.name.clone()).collect(),
                    );
                }
                Item::Pathway(p) => self.fields_of(PATHWAY, &p.fields, at),
                Item::Event(e) => {
                    self.define(
                        SymbolKey::new(SymbolKind::EventType, None, &e.name.name),
                        e.name.span,
                        span,
                        at,
                    );
                    self.fields.entry(e.name.name.clone()).or_default();
                    if e.carries_pathway.is_some() {
                        self.carries_pathway.insert(e.name.name.clone());
                    }
                    self.fields_of(&e.name.name, &e.fields, at);
                }
                Item::Clock(c) => self.define(
                    SymbolKey::new(SymbolKind::Clock, None, &c.name.name),
                    c.name.span,
                    span,
                    at,
                ),
                Item::Param(p) => self.define(
                    SymbolKey::new(SymbolKind::Param, None, &p.name.name),
                    p.name.span,
                    span,
                    at,
                ),
                Item::Def(d) => self.define(
                    SymbolKey::new(SymbolKind::Def, None, &d.name.name),
                    d.name.span,
                    span,
                    at,
                ),
                Item::Rule(r) => {
                    self.define(
                        SymbolKey::new(SymbolKind::Rule, None, &r.name.name),
                        r.name.span,
                        span,
                        at,
                    );
                    let events = match &r.trigger {
                        Trigger::On(ids) => ids.iter().map(|i| i.name.clone()).collect(),
                        Trigger::After { from, .. } => vec![from.name.clone()],
                    };
                    self.triggers.insert(r.name.name.clone(), events);
                }
                Item::Exception(e) => {
                    self.define(
                        SymbolKey::new(SymbolKind::Rule, None, &e.name.name),
                        e.name.span,
                        span,
                        at,
                    );
                    if let Some(on) = &e.on {
                        self.triggers.insert(
                            e.name.name.clone(),
                            on.iter().map(|i| i.name.clone()).collect(),
                        );
                    }
                }
                Item::Test(t) => self.define(
                    SymbolKey::new(SymbolKind::Test, None, &t.name.value),
                    t.name.span,
                    span,
                    at,
                ),
                _ => {}
            }
        }
    }

    /// The declaration of `key`, if it has one.
    pub fn definition(&self, key: &SymbolKey) -> Option<&Definition> {
        self.by_key.get(key).and_then(|&i| self.definitions.get(i))
    }

    /// Whether `name` is declared as `kind` (with no parent).
    pub fn has(&self, kind: SymbolKind, name: &str) -> bool {
        self.by_key.contains_key(&SymbolKey::new(kind, None, name))
    }

    /// Every reference to `key`.
    pub fn references_to<'a>(&'a self, key: &'a SymbolKey) -> impl Iterator<Item = &'a Reference> {
        self.references.iter().filter(move |r| &r.key == key)
    }

    /// The names declared as `kind`, in declaration order, without repeats.
    pub fn names(&self, kind: SymbolKind) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.definitions
            .iter()
            .filter(|d| d.key.kind == kind && d.key.parent.is_none())
            .map(|d| d.key.name.as_str())
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// The declaration or reference written at byte `offset` of a file, with its span.
    pub fn at(&self, file: crate::base::source::FileId, offset: u32) -> Option<(&SymbolKey, Span)> {
        let hit = |s: &Span| s.file == file && s.start <= offset && offset <= s.end;
        if let Some(r) = self.references.iter().find(|r| hit(&r.span)) {
            return Some((&r.key, r.span));
        }
        self.definitions
            .iter()
            .find(|d| hit(&d.name_span))
            .map(|d| (&d.key, d.name_span))
    }

    /// The key of field `name` of event type `event`: its own field, or a pathway attribute it
    /// carries.
    pub fn field_key(&self, event: &str, name: &str) -> Option<SymbolKey> {
        let own = SymbolKey::new(SymbolKind::Field, Some(event), name);
        if self.by_key.contains_key(&own) {
            return Some(own);
        }
        let attr = SymbolKey::new(SymbolKind::PathwayAttribute, None, name);
        (self.carries_pathway.contains(event) && self.by_key.contains_key(&attr)).then_some(attr)
    }

    /// The enum a bare variant name belongs to (the first that declares it).
    pub fn variant_enum(&self, variant: &str) -> Option<&str> {
        self.variant_enums
            .get(variant)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The declared type name of a field (`owner` is an event type or [`PATHWAY`]).
    pub fn field_type(&self, owner: &str, field: &str) -> Option<&str> {
        self.field_types
            .get(&(owner.to_string(), field.to_string()))
            .map(String::as_str)
    }
}

/// A type as written: `Date?`, `[String]`.
pub fn type_text(t: &TypeRef) -> String {
    let base = if t.list {
        format!("[{}]", t.name.name)
    } else {
        t.name.name.clone()
    };
    if t.optional {
        format!("{base}?")
    } else {
        base
    }
}

/// Second pass: resolves the names one item uses.
struct Resolver<'a> {
    ix: &'a mut Index,
    at: ItemRef,
    /// The event types `event` stands for here.
    context: Vec<String>,
}

impl Resolver<'_> {
    fn refer(&mut self, kind: SymbolKind, parent: Option<&str>, name: &str, span: Span) {
        self.refer_as(kind, parent, name, span, Role::Use);
    }

    fn refer_as(
        &mut self,
        kind: SymbolKind,
        parent: Option<&str>,
        name: &str,
        span: Span,
        role: Role,
    ) {
        let key = SymbolKey::new(kind, parent, name);
        if self.ix.by_key.contains_key(&key) {
            self.ix.reference(key, span, role, self.at);
        }
    }

    fn event(&mut self, name: &str, span: Span) {
        self.refer(SymbolKind::EventType, None, name, span);
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Enum(_) | Item::Calendar(_) | Item::Import(_) => {}
            // The meanings a mapping gives local codes: event types and enum variants, found
            // and renamed with the rest. (A `field NAME` target names a field of every event
            // type that declares it, so it is left to the checker.)
            Item::Mapping(m) => {
                let arms = m.entries.iter().filter_map(|e| e.values.as_ref());
                for arm in arms.flat_map(|v| &v.arms) {
                    if let LiteralKind::Name(None, n) = &arm.value.kind {
                        self.name(n, arm.value.span);
                    }
                }
            }
            Item::Pathway(p) => self.field_decls(&p.fields, PATHWAY),
            Item::Event(e) => self.field_decls(&e.fields, &e.name.name),
            Item::Clock(c) => {
                self.expr(&c.target);
                if let Some(s) = &c.standard {
                    self.expr(s);
                }
            }
            Item::Param(p) => {
                self.type_ref(&p.ty);
                self.param_value(&p.value);
            }
            Item::Set(s) => {
                self.refer_as(
                    SymbolKind::Param,
                    None,
                    &s.name.name,
                    s.name.span,
                    Role::Set,
                );
                self.param_value(&s.value);
            }
            Item::Def(d) => self.expr(&d.body),
            Item::Rule(r) => {
                match &r.trigger {
                    Trigger::On(ids) => {
                        for i in ids {
                            self.event(&i.name, i.span);
                        }
                    }
                    Trigger::After {
                        delay,
                        from,
                        unless,
                    } => {
                        self.expr(delay);
                        self.event(&from.name, from.span);
                        for i in unless {
                            self.event(&i.name, i.span);
                        }
                    }
                }
                self.context = self
                    .ix
                    .triggers
                    .get(&r.name.name)
                    .cloned()
                    .unwrap_or_default();
                if let Some(w) = &r.when {
                    self.expr(w);
                }
                self.actions(&r.actions);
            }
            Item::Exception(e) => {
                self.refer_as(
                    SymbolKind::Rule,
                    None,
                    &e.target.name,
                    e.target.span,
                    Role::ExceptionTo,
                );
                for i in e.on.iter().flatten() {
                    self.event(&i.name, i.span);
                }
                self.context = self
                    .ix
                    .triggers
                    .get(&e.name.name)
                    .cloned()
                    .unwrap_or_default();
                if let Some(w) = &e.when {
                    self.expr(w);
                }
                self.actions(&e.actions);
            }
            Item::Disable(d) => self.refer_as(
                SymbolKind::Rule,
                None,
                &d.target.name,
                d.target.span,
                Role::Disable,
            ),
            Item::SameDayOrder(ids, _) => {
                for i in ids {
                    self.event(&i.name, i.span);
                }
            }
            Item::Test(t) => {
                for step in &t.steps {
                    self.test_step(step);
                }
            }
        }
    }

    fn field_decls(&mut self, fields: &[FieldDecl], owner: &str) {
        for f in fields {
            self.type_ref(&f.ty);
            if let Some(d) = &f.default {
                self.literal(d, Some(&f.ty.name.name));
            }
        }
        let _ = owner;
    }

    fn type_ref(&mut self, t: &TypeRef) {
        self.refer(SymbolKind::Enum, None, &t.name.name, t.name.span);
    }

    /// A literal in a position whose type is `ty` (an enum's variants are resolved there).
    fn literal(&mut self, l: &Literal, ty: Option<&str>) {
        if let LiteralKind::Name(qualifier, variant) = &l.kind {
            let en = qualifier
                .as_deref()
                .or(ty)
                .filter(|e| self.ix.enums.contains_key(*e))
                .map(str::to_string)
                .or_else(|| self.ix.variant_enum(variant).map(str::to_string));
            if let Some(en) = en {
                // The variant is the last word of the literal.
                let span = Span {
                    start: l
                        .span
                        .end
                        .saturating_sub(variant.len() as u32)
                        .max(l.span.start),
                    ..l.span
                };
                self.refer(SymbolKind::Variant, Some(&en), variant, span);
            }
        }
    }

    fn param_value(&mut self, v: &ParamValue) {
        self.expr(&v.initial);
        for (_, _, e) in &v.dated {
            self.expr(e);
        }
    }

    fn actions(&mut self, actions: &[crate::syntax::ast::Action]) {
        for a in actions {
            match &a.kind {
                ActionKind::Start { clock, on }
                | ActionKind::Pause { clock, on }
                | ActionKind::Resume { clock, on } => {
                    self.refer(SymbolKind::Clock, None, &clock.name, clock.span);
                    if let Some(e) = on {
                        self.expr(e);
                    }
                }
                ActionKind::Stop { clock, reason, on }
                | ActionKind::Nullify { clock, reason, on } => {
                    self.refer(SymbolKind::Clock, None, &clock.name, clock.span);
                    if let Some(en) = self.ix.variant_enum(&reason.name).map(str::to_string) {
                        self.refer(SymbolKind::Variant, Some(&en), &reason.name, reason.span);
                    }
                    if let Some(e) = on {
                        self.expr(e);
                    }
                }
                ActionKind::Reset { clock, to } => {
                    self.refer(SymbolKind::Clock, None, &clock.name, clock.span);
                    self.expr(to);
                }
                ActionKind::Outcome { on, .. } => {
                    if let Some(e) = on {
                        self.expr(e);
                    }
                }
                ActionKind::Require(r) => {
                    self.event(&r.what.name, r.what.span);
                    self.expr(&r.within);
                    if let Some(e) = &r.of {
                        self.expr(e);
                    }
                    for b in &r.by {
                        self.event(&b.name, b.span);
                    }
                    if let Some(w) = &r.by_where {
                        let saved = std::mem::replace(
                            &mut self.context,
                            if r.by.is_empty() {
                                vec![r.what.name.clone()]
                            } else {
                                r.by.iter().map(|b| b.name.clone()).collect()
                            },
                        );
                        self.expr(w);
                        self.context = saved;
                    }
                }
                ActionKind::Warn(_) => {}
            }
        }
    }

    fn record(&mut self, fields: &[RecordField], owner: &str) {
        for f in fields {
            let key = if owner == PATHWAY {
                Some(SymbolKey::new(
                    SymbolKind::PathwayAttribute,
                    None,
                    &f.name.name,
                ))
            } else {
                self.ix.field_key(owner, &f.name.name)
            };
            let ty = key.as_ref().and_then(|k| {
                let o = k.parent.as_deref().unwrap_or(PATHWAY);
                self.ix.field_type(o, &f.name.name).map(str::to_string)
            });
            if let Some(k) = key {
                self.refer(k.kind, k.parent.as_deref(), &k.name, f.name.span);
            }
            self.literal(&f.value, ty.as_deref());
        }
    }

    fn test_step(&mut self, step: &TestStep) {
        match step {
            TestStep::Pathway(fields, _) => self.record(fields, PATHWAY),
            TestStep::Event(e) => {
                self.event(&e.kind.name, e.kind.span);
                self.record(&e.fields, &e.kind.name.clone());
            }
            TestStep::Set(name, value, _) => {
                self.refer_as(SymbolKind::Param, None, &name.name, name.span, Role::Set);
                self.param_value(value);
            }
            TestStep::AsAt(..) => {}
            TestStep::Expect(x) => match &x.kind {
                ExpectKind::Clock { clock, .. } => {
                    self.refer(SymbolKind::Clock, None, &clock.name, clock.span)
                }
                ExpectKind::Expr(e) => self.expr(e),
                _ => {}
            },
        }
    }

    /// Resolves a bare name read in an expression.
    fn name(&mut self, n: &str, span: Span) {
        for kind in [
            SymbolKind::Param,
            SymbolKind::Def,
            SymbolKind::Clock,
            SymbolKind::EventType,
        ] {
            if self.ix.has(kind, n) {
                self.refer(kind, None, n, span);
                return;
            }
        }
        if self.ix.enums.contains_key(n) {
            self.refer(SymbolKind::Enum, None, n, span);
        } else if let Some(en) = self.ix.variant_enum(n).map(str::to_string) {
            self.refer(SymbolKind::Variant, Some(&en), n, span);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) | ExprKind::Lit(LiteralKind::Name(None, n)) => self.name(n, e.span),
            ExprKind::Lit(LiteralKind::Name(Some(en), v)) => {
                self.refer(
                    SymbolKind::Enum,
                    None,
                    en,
                    Span {
                        end: e.span.start + en.len() as u32,
                        ..e.span
                    },
                );
                self.refer(
                    SymbolKind::Variant,
                    Some(en),
                    v,
                    Span {
                        start: e.span.end.saturating_sub(v.len() as u32),
                        ..e.span
                    },
                );
            }
            ExprKind::Lit(_) => {}
            ExprKind::Field(base, field) => {
                self.expr(base);
                if let ExprKind::Name(b) = &base.kind {
                    self.field(b, &field.name, field.span);
                }
            }
            ExprKind::Not(x) | ExprKind::Neg(x) | ExprKind::IsSet(x, _) => self.expr(x),
            ExprKind::Binary(_, a, b) | ExprKind::Member(a, b, _) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Within { value, window, of } => {
                for x in [value, window, of] {
                    self.expr(x);
                }
            }
            ExprKind::AtLeast {
                value,
                gap,
                reference,
                ..
            } => {
                for x in [value, gap, reference] {
                    self.expr(x);
                }
            }
            ExprKind::In(x, list, _) => {
                self.expr(x);
                for i in list {
                    self.expr(i);
                }
            }
            ExprKind::List(items) => {
                for i in items {
                    self.expr(i);
                }
            }
            ExprKind::Call(c) => {
                for a in &c.args {
                    self.expr(a);
                }
                for x in c.where_.iter().chain(c.since.iter()) {
                    self.expr(x);
                }
                for a in &c.among {
                    self.event(&a.name, a.span);
                }
            }
        }
    }

    /// `base.field` where `base` is a bare name.
    fn field(&mut self, base: &str, field: &str, span: Span) {
        if base == "event" {
            let key = self
                .context
                .iter()
                .find_map(|ev| self.ix.field_key(ev, field));
            if let Some(k) = key {
                self.refer(k.kind, k.parent.as_deref(), &k.name, span);
            }
        } else if base == PATHWAY {
            self.refer(SymbolKind::PathwayAttribute, None, field, span);
        } else if self.ix.has(SymbolKind::EventType, base) {
            if let Some(k) = self.ix.field_key(base, field) {
                self.refer(k.kind, k.parent.as_deref(), &k.name, span);
            }
        } else if self.ix.enums.contains_key(base) {
            self.refer(SymbolKind::Variant, Some(base), field, span);
        }
    }
}
