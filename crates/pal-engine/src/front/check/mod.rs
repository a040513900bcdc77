//! The checker: resolves names, checks types and lints a loaded policy, collecting *all*
//! problems before stopping, and elaborates what it checks into the compiled [`Policy`].
//!
//! Declarations are checked in dependency order (bases and imports first): enums, then the
//! pathway and event schema, clocks and parameters (with `set` overrides), definitions, rules
//! and timers, exceptions and `disable`s, and finally the `test` blocks. Lints run last.

mod expr;
mod limits;
pub mod lints;
mod mapping;
pub use mapping::check_mapping_file;
pub mod repl;

/// The fields every clock has (`rtt.open`) and the built-in functions, for editors' completion.
pub use expr::{CLOCK_FIELDS, FUNCTIONS};
mod tests;
mod types;
mod unit_tests;

use crate::base::suggest::did_you_mean;

use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{SourceMap, Span};
use crate::base::value::{DurationKind, Value, ValueType};
use crate::front::loader::{LoadedPolicy, Module};
use crate::model::calendar::{Calendar, MonthEnd};
use crate::model::ir::{
    Action as IrAction, ClockDef, DefDef, ParamDef, Policy, Reason, RuleDef, RuleId, RuleKind,
    Standard, Target,
};
use crate::model::schema::{EnumDef, EventTypeDef, EventTypeId, FieldDef, Schema};
use crate::syntax::ast::{self, ActionKind, Item, Literal, LiteralKind, Trigger};
use expr::Scope;
use lints::suppress::Suppressions;
use std::collections::HashMap;
use types::Ty;

/// The name of the built-in enum of clock states (`rtt.status == nullified`).
pub const CLOCK_STATUS_ENUM: &str = "clock_status";
/// Its variants, in order.
pub const CLOCK_STATUSES: &[&str] = &["not_started", "running", "paused", "stopped", "nullified"];
/// The name of the built-in enum of stop and nullify reasons (`rtt.reason == discharged`); its
/// values are the reasons the policy's actions name.
pub const STOP_REASON_ENUM: &str = "stop_reason";

/// What checking produced: the compiled policy if there were no errors, and every finding.
#[derive(Debug)]
pub struct Checked {
    /// The policy, when no error was found.
    pub policy: Option<Policy>,
    /// Errors and warnings, in the order found.
    pub diagnostics: Vec<Diagnostic>,
    /// The policy's suppression comments, for lints that run later (`untested-rule`).
    pub suppressions: Suppressions,
}

/// Checks a loaded policy.
pub fn check(loaded: &LoadedPolicy, sources: &SourceMap) -> Checked {
    let mut c = Checker::new(sources);
    c.run(loaded);
    let mut diagnostics = std::mem::take(&mut c.diags);
    let mut suppressions = lints::suppress::collect(loaded, sources, &mut diagnostics);
    suppressions.apply(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    if !has_errors {
        // With errors, lints may not have seen every item: an unused suppression then says
        // nothing. `untested-rule` is decided once the tests have run.
        diagnostics.extend(suppressions.unused(|lint| lint != Code::W0007));
    }
    let policy = if has_errors || loaded.modules.is_empty() {
        None
    } else {
        Some(c.finish(loaded.name.clone()))
    };
    Checked {
        policy,
        diagnostics,
        suppressions,
    }
}

/// Facts about a rule that lints need beyond the IR.
pub(crate) struct RuleInfo<'a> {
    pub ast_when: Option<&'a ast::Expr>,
    pub name_span: Span,
    pub trigger_span: Span,
    /// The event types `event` may be in this rule (for exceptions: the root rule's).
    pub context: Vec<EventTypeId>,
    /// The body as written has no action (`{ }`).
    pub empty_body: bool,
}

pub(crate) struct Checker<'a> {
    pub(crate) sources: &'a SourceMap,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) schema: Schema,
    pub(crate) event_spans: Vec<Span>,
    enum_spans: Vec<Span>,
    attr_spans: Vec<Span>,
    pub(crate) clock_status_enum: u32,
    pub(crate) stop_reason_enum: u32,
    pub(crate) clocks: Vec<ClockDef>,
    clock_spans: Vec<Span>,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) param_used: Vec<bool>,
    pub(crate) param_spans: Vec<Span>,
    pub(crate) defs: Vec<DefDef>,
    pub(crate) def_types: Vec<Ty>,
    def_spans: Vec<Span>,
    /// What evaluating each definition costs (see `limits`).
    def_costs: Vec<limits::Cost>,
    /// Each definition's body as written (for lints that see through definitions).
    pub(crate) def_asts: Vec<Option<&'a ast::Expr>>,
    pub(crate) rules: Vec<RuleDef>,
    pub(crate) rule_info: Vec<RuleInfo<'a>>,
    calendar: Calendar,
    pub(crate) tests: Vec<crate::model::ir::TestCase>,
    /// Names declared with `disable`, for lints.
    pub(crate) disabled_spans: HashMap<RuleId, Span>,
    /// Name → index of params, defs, clocks and rules, so a look-up is not a scan (150,000
    /// definitions would otherwise take quadratic time to check).
    names: std::cell::RefCell<[NameIndex; 4]>,
    /// Checked `mapping` declarations, and where each is named.
    mappings: Vec<crate::model::mapping::InputMapping>,
    mapping_names: HashMap<String, Span>,
}

/// Which list a [`NameIndex`] covers.
#[derive(Clone, Copy)]
enum Names {
    Params = 0,
    Defs = 1,
    Clocks = 2,
    Rules = 3,
}

/// The first index of each name in a list that only grows; entries appended since the last
/// look-up are indexed on the next one.
#[derive(Default)]
struct NameIndex {
    map: HashMap<String, usize>,
    indexed: usize,
}

impl NameIndex {
    fn find<T>(&mut self, items: &[T], name_of: impl Fn(&T) -> &str, name: &str) -> Option<usize> {
        if items.len() < self.indexed {
            *self = NameIndex::default();
        }
        for (i, item) in items.iter().enumerate().skip(self.indexed) {
            self.map.entry(name_of(item).to_string()).or_insert(i);
        }
        self.indexed = items.len();
        self.map.get(name).copied()
    }
}

impl<'a> Checker<'a> {
    fn new(sources: &'a SourceMap) -> Checker<'a> {
        let mut schema = Schema::default();
        schema.enums.push(EnumDef {
            name: CLOCK_STATUS_ENUM.into(),
            variants: CLOCK_STATUSES.iter().map(|s| s.to_string()).collect(),
        });
        schema.enums.push(EnumDef {
            name: STOP_REASON_ENUM.into(),
            variants: Vec::new(),
        });
        Checker {
            sources,
            diags: Vec::new(),
            schema,
            event_spans: Vec::new(),
            enum_spans: vec![Span::default(), Span::default()],
            attr_spans: Vec::new(),
            clock_status_enum: 0,
            stop_reason_enum: 1,
            clocks: Vec::new(),
            clock_spans: Vec::new(),
            params: Vec::new(),
            param_used: Vec::new(),
            param_spans: Vec::new(),
            defs: Vec::new(),
            def_types: Vec::new(),
            def_spans: Vec::new(),
            def_costs: Vec::new(),
            def_asts: Vec::new(),
            rules: Vec::new(),
            rule_info: Vec::new(),
            calendar: Calendar::england_and_wales(),
            tests: Vec::new(),
            disabled_spans: HashMap::new(),
            names: Default::default(),
            mappings: Vec::new(),
            mapping_names: HashMap::new(),
        }
    }

    fn index_of(&self, which: Names, name: &str) -> Option<usize> {
        let mut names = self.names.borrow_mut();
        let ix = &mut names[which as usize];
        match which {
            Names::Params => ix.find(&self.params, |p| &p.name, name),
            Names::Defs => ix.find(&self.defs, |d| &d.name, name),
            Names::Clocks => ix.find(&self.clocks, |c| &c.name, name),
            Names::Rules => ix.find(&self.rules, |r| &r.name, name),
        }
    }

    pub(crate) fn def_index(&self, name: &str) -> Option<usize> {
        self.index_of(Names::Defs, name)
    }

    pub(crate) fn clock_index(&self, name: &str) -> Option<usize> {
        self.index_of(Names::Clocks, name)
    }

    pub(crate) fn rule_index(&self, name: &str) -> Option<usize> {
        self.index_of(Names::Rules, name)
    }

    pub(crate) fn param_index(&self, name: &str) -> Option<usize> {
        self.index_of(Names::Params, name)
    }

    fn duplicate(&mut self, what: &str, name: &ast::Ident, first: Span) {
        let mut d = Diagnostic::new(
            Code::E0110,
            format!("{what} `{}` is declared twice", name.name),
        )
        .primary(name.span, "declared again here");
        if first != Span::default() {
            d = d.secondary(first, "first declared here");
        }
        let help = match what {
            "parameter" => "to change an inherited parameter use `set NAME = VALUE`",
            "rule" | "exception" => "to replace an inherited rule, `disable` it and add a new rule, or add an `exception`",
            _ => "give one of them another name",
        };
        self.diags.push(d.help(help));
    }

    fn items(loaded: &'a LoadedPolicy) -> impl Iterator<Item = (&'a Module, &'a Item)> {
        loaded
            .modules
            .iter()
            .flat_map(|m| m.ast.items.iter().map(move |i| (m, i)))
    }

    fn run(&mut self, loaded: &'a LoadedPolicy) {
        // 0. The reasons every stop and nullify names: the values of `stop_reason`.
        for (_, item) in Self::items(loaded) {
            let actions = match item {
                Item::Rule(r) => &r.actions,
                Item::Exception(e) => &e.actions,
                _ => continue,
            };
            for a in actions {
                if let ActionKind::Stop { reason, .. } | ActionKind::Nullify { reason, .. } =
                    &a.kind
                {
                    let variants = &mut self.schema.enums[self.stop_reason_enum as usize].variants;
                    if !variants.contains(&reason.name) {
                        variants.push(reason.name.clone());
                    }
                }
            }
        }
        // 1. Enums.
        for (_, item) in Self::items(loaded) {
            if let Item::Enum(e) = item {
                self.declare_enum(e);
            }
        }
        // 2. Pathway attributes, then event types (which may carry them).
        for (_, item) in Self::items(loaded) {
            if let Item::Pathway(p) = item {
                for f in &p.fields {
                    if let Some(i) = self
                        .schema
                        .attributes
                        .iter()
                        .position(|a| a.name == f.name.name)
                    {
                        let first = self.attr_spans[i];
                        self.duplicate("pathway attribute", &f.name, first);
                        continue;
                    }
                    if let Some(fd) = self.field_def(f) {
                        self.schema.attributes.push(fd);
                        self.attr_spans.push(f.name.span);
                    }
                }
            }
        }
        for (_, item) in Self::items(loaded) {
            if let Item::Event(e) = item {
                self.declare_event(e);
            }
        }
        self.declare_same_day_order(loaded);
        // Input mappings read only the schema.
        for (_, item) in Self::items(loaded) {
            if let Item::Mapping(m) = item {
                if let Some(&first) = self.mapping_names.get(&m.name.name) {
                    self.duplicate("mapping", &m.name, first);
                    continue;
                }
                self.mapping_names.insert(m.name.name.clone(), m.name.span);
                if self.schema.events.is_empty() {
                    // A mapping file checked on its own: one finding, not one per name.
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0401,
                            format!("mapping `{}` has no schema to be checked against", m.name.name),
                        )
                        .primary(m.name.span, "no event type is declared here")
                        .help("a mapping file is checked with the policy it maps for: `pal check POLICY --map FILE`"),
                    );
                    continue;
                }
                if let Some(im) = self.declare_mapping(m) {
                    self.mappings.push(im);
                }
            }
        }
        // 3. Calendar, clocks' names, parameters and their overrides.
        for (m, item) in Self::items(loaded) {
            if let Item::Calendar(c) = item {
                self.declare_calendar(m, c);
            }
        }
        for (_, item) in Self::items(loaded) {
            if let Item::Param(p) = item {
                self.declare_param(p);
            }
        }
        for (_, item) in Self::items(loaded) {
            if let Item::Set(s) = item {
                self.apply_set(s);
            }
        }
        for (_, item) in Self::items(loaded) {
            if let Item::Clock(c) = item {
                self.declare_clock(c);
            }
        }
        // 4. Definitions, each after the definitions it reads (declarations may come in any
        // order); definitions that read each other are one E0112 and are not checked further.
        let defs: Vec<&ast::DefDecl> = Self::items(loaded)
            .filter_map(|(_, i)| match i {
                Item::Def(d) => Some(d),
                _ => None,
            })
            .collect();
        let (order, cycles) = definition_order(&defs);
        let in_cycle: std::collections::HashSet<usize> = cycles.iter().flatten().copied().collect();
        for cycle in &cycles {
            self.cyclic_definitions(cycle.iter().map(|&i| defs[i]).collect());
        }
        for i in order {
            if in_cycle.contains(&i) {
                self.declare_poisoned_def(defs[i]);
            } else {
                self.declare_def(defs[i]);
            }
        }
        // 5. Rules and timers; then exceptions (which may name rules declared later).
        for (_, item) in Self::items(loaded) {
            if let Item::Rule(r) = item {
                self.declare_rule(r);
            }
        }
        let exceptions: Vec<&ast::ExceptionDecl> = Self::items(loaded)
            .filter_map(|(_, i)| match i {
                Item::Exception(e) => Some(e),
                _ => None,
            })
            .collect();
        self.declare_exceptions(&exceptions);
        for (_, item) in Self::items(loaded) {
            if let Item::Disable(d) = item {
                self.apply_disable(d);
            }
        }
        // 6. Tests.
        for (_, item) in Self::items(loaded) {
            if let Item::Test(t) = item {
                self.declare_test(t);
            }
        }
        // 7. Lints.
        let lints = lints::run(self);
        self.diags.extend(lints);
    }

    fn declare_enum(&mut self, e: &ast::EnumDecl) {
        if let Some(i) = self.schema.enums.iter().position(|x| x.name == e.name.name) {
            let first = self.enum_spans[i];
            self.duplicate("enum", &e.name, first);
            return;
        }
        if is_builtin_type(&e.name.name) {
            self.diags.push(
                Diagnostic::new(Code::E0110, format!("`{}` is a built-in type", e.name.name))
                    .primary(e.name.span, "already a type")
                    .help("give the enum another name"),
            );
            return;
        }
        let mut variants: Vec<String> = Vec::new();
        for v in &e.variants {
            if variants.contains(&v.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0110,
                        format!("enum value `{}` is listed twice", v.name),
                    )
                    .primary(v.span, "listed again here"),
                );
                continue;
            }
            variants.push(v.name.clone());
        }
        self.schema.enums.push(EnumDef {
            name: e.name.name.clone(),
            variants,
        });
        self.enum_spans.push(e.name.span);
    }

    /// Resolves a written type (`[T]`: a list of `T`).
    fn value_type(&mut self, t: &ast::TypeRef) -> Option<ValueType> {
        let elem = self.scalar_type(t)?;
        Some(if t.list {
            ValueType::List(Box::new(elem))
        } else {
            elem
        })
    }

    fn scalar_type(&mut self, t: &ast::TypeRef) -> Option<ValueType> {
        Some(match t.name.name.as_str() {
            "Bool" => ValueType::Bool,
            "Int" => ValueType::Int,
            "Date" => ValueType::Date,
            "Duration" => ValueType::Duration(DurationKind::Days),
            "String" => ValueType::String,
            other => match self.schema.enums.iter().position(|e| e.name == other) {
                Some(i) => ValueType::Enum(i as u32),
                None => {
                    let mut names: Vec<&str> = vec!["Bool", "Int", "Date", "Duration", "String"];
                    names.extend(self.schema.enums.iter().map(|e| e.name.as_str()));
                    let mut d = Diagnostic::new(Code::E0108, format!("unknown type `{other}`"))
                        .primary(t.name.span, "not a type");
                    d = match did_you_mean(other, names.iter().copied()) {
                        Some(h) => d.help(h),
                        None => {
                            d.help("types are Bool, Int, Date, Duration, String or a declared enum")
                        }
                    };
                    self.diags.push(d);
                    return None;
                }
            },
        })
    }

    /// Converts a literal to a value of `ty`, reporting a mismatch.
    pub(crate) fn literal_value(
        &mut self,
        lit: &Literal,
        ty: &ValueType,
        what: &str,
    ) -> Option<Value> {
        let value = match (&lit.kind, ty) {
            (LiteralKind::Bool(b), ValueType::Bool) => Value::Bool(*b),
            (LiteralKind::Int(i), ValueType::Int) => Value::Int(*i),
            (LiteralKind::Date(d), ValueType::Date) => Value::Date(*d),
            (LiteralKind::Duration(d), ValueType::Duration(_)) => Value::Duration(*d),
            (LiteralKind::Str(s), ValueType::String) => Value::Str(s.as_str().into()),
            (LiteralKind::Name(q, n), ValueType::Enum(e)) => {
                let en = &self.schema.enums[*e as usize];
                if let Some(q) = q {
                    if *q != en.name {
                        self.diags.push(
                            Diagnostic::new(
                                Code::E0201,
                                format!("expected a `{}`, found a `{q}` value", en.name),
                            )
                            .primary(lit.span, "wrong enum"),
                        );
                        return None;
                    }
                }
                match en.variants.iter().position(|v| v == n) {
                    Some(v) => Value::Enum(*e, v as u32),
                    None => {
                        let mut d = Diagnostic::new(
                            Code::E0103,
                            format!("`{n}` is not a value of `{}`", en.name),
                        )
                        .primary(
                            lit.span,
                            format!(
                                "not {} `{}`",
                                crate::base::suggest::article(&en.name),
                                en.name
                            ),
                        );
                        d = match did_you_mean(n, en.variants.iter().map(String::as_str)) {
                            Some(h) => d.help(h),
                            None => d.help(format!(
                                "`{}` is one of: {}",
                                en.name,
                                en.variants.join(", ")
                            )),
                        };
                        self.diags.push(d);
                        return None;
                    }
                }
            }
            (LiteralKind::Int(_), ValueType::Duration(_)) => {
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("{what} must be a duration, found a number"))
                        .primary(lit.span, "a number without a unit")
                        .help("write a unit after the number, e.g. `3 weeks`, `14 days` or `5 working days`"),
                );
                return None;
            }
            (_, ty) => {
                let want = self.schema.type_name(ty);
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("{what} must be {want}"))
                        .primary(lit.span, format!("not {want}")),
                );
                return None;
            }
        };
        Some(value)
    }

    fn field_def(&mut self, f: &ast::FieldDecl) -> Option<FieldDef> {
        if f.ty.list {
            self.diags.push(
                Diagnostic::new(
                    Code::E0108,
                    format!("`{}` cannot be a list", f.name.name),
                )
                .primary(f.ty.span, "a list type")
                .help("event fields and pathway attributes hold one value; lists are for parameters (`param p: [T] = [...]`)"),
            );
            return None;
        }
        let ty = self.value_type(&f.ty)?;
        let default = match &f.default {
            Some(lit) => {
                Some(self.literal_value(lit, &ty, &format!("the default of `{}`", f.name.name))?)
            }
            None => None,
        };
        Some(FieldDef {
            name: f.name.name.clone(),
            ty,
            optional: f.ty.optional,
            default,
        })
    }

    fn declare_event(&mut self, e: &ast::EventDecl) {
        if let Some(&i) = self.schema.event_index.get(&e.name.name) {
            let first = self.event_spans[i as usize];
            self.duplicate("event type", &e.name, first);
            return;
        }
        let mut fields: Vec<FieldDef> = Vec::new();
        let mut sets_attribute = Vec::new();
        if e.carries_pathway.is_some() {
            for (i, a) in self.schema.attributes.iter().enumerate() {
                fields.push(a.clone());
                sets_attribute.push(Some(i as u32));
            }
        }
        for f in &e.fields {
            if f.name.name == "date" || f.name.name == "pathway_id" || f.name.name == "event" {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0110,
                        format!("`{}` is a column every event has", f.name.name),
                    )
                    .primary(f.name.span, "reserved field name")
                    .help("every event already has `pathway_id`, `date` and `event`"),
                );
                continue;
            }
            if fields.iter().any(|x| x.name == f.name.name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0110,
                        format!(
                            "field `{}` is declared twice on `{}`",
                            f.name.name, e.name.name
                        ),
                    )
                    .primary(f.name.span, "declared again here"),
                );
                continue;
            }
            if let Some(fd) = self.field_def(f) {
                fields.push(fd);
                sets_attribute.push(None);
            }
        }
        let id = self.schema.events.len() as EventTypeId;
        self.schema.events.push(EventTypeDef {
            name: e.name.name.clone(),
            fields,
            sets_attribute,
        });
        self.schema.event_index.insert(e.name.name.clone(), id);
        self.event_spans.push(e.name.span);
    }

    /// `same_day_order { … }` declarations, concatenated in policy order, rank the listed
    /// event types 1, 2, … on one date (unlisted types: 0).
    fn declare_same_day_order(&mut self, loaded: &'a LoadedPolicy) {
        let mut rank = vec![0u32; self.schema.events.len()];
        let mut spans: Vec<Option<Span>> = vec![None; self.schema.events.len()];
        let mut next = 1;
        for (_, item) in Self::items(loaded) {
            let Item::SameDayOrder(types, _) = item else {
                continue;
            };
            for t in types {
                let Some(id) = self.event_type(&t.name, t.span) else {
                    continue;
                };
                if let Some(first) = spans[id as usize] {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0110,
                            format!("`{}` is listed twice in the same-day order", t.name),
                        )
                        .primary(t.span, "listed again here")
                        .secondary(first, "first listed here")
                        .help("an event type has one place in the same-day order"),
                    );
                    continue;
                }
                spans[id as usize] = Some(t.span);
                rank[id as usize] = next;
                next += 1;
            }
        }
        self.schema.same_day = crate::model::event::SameDayOrder::new(rank);
    }

    fn declare_calendar(&mut self, m: &Module, c: &ast::CalendarDecl) {
        if let Some(h) = &c.holidays {
            match m
                .holidays
                .iter()
                .find(|(span, _)| *span == h.span)
                .map(|(_, r)| r)
            {
                Some(Ok(text)) => match Calendar::from_json(&h.value, text) {
                    Ok(cal) => self.calendar = cal,
                    Err(why) => self.diags.push(
                        Diagnostic::new(
                            Code::E0003,
                            format!("bank holidays in `{}` cannot be used: {why}", h.value),
                        )
                        .primary(h.span, "this file")
                        .help("the file must have the shape of the gov.uk bank-holidays JSON"),
                    ),
                },
                Some(Err(why)) => self.diags.push(
                    Diagnostic::new(Code::E0003, why.clone())
                        .primary(h.span, "named here")
                        .help("the path is relative to this policy file"),
                ),
                None => {}
            }
        }
        if let Some(me) = &c.month_end {
            match me.name.as_str() {
                "clamp" => self.calendar = self.calendar.clone().with_month_end(MonthEnd::Clamp),
                "roll_forward" => {
                    self.calendar = self.calendar.clone().with_month_end(MonthEnd::RollForward)
                }
                other => {
                    let mut d = Diagnostic::new(
                        Code::E0103,
                        format!("unknown month-end rule `{other}`"),
                    )
                    .primary(me.span, "not a month-end rule")
                    .help("`clamp` (31 Jan + 1 month = 28/29 Feb) or `roll_forward` (= 1 Mar)");
                    if let Some(h) = did_you_mean(other, ["clamp", "roll_forward"]) {
                        d = d.help(h);
                    }
                    self.diags.push(d);
                }
            }
        }
    }

    /// Evaluates a parameter value: a literal (or a negative number, or an enum value), or
    /// for a list type a list literal of those.
    fn const_value(&mut self, e: &ast::Expr, ty: &ValueType, what: &str) -> Option<Value> {
        match (&e.kind, ty) {
            (ast::ExprKind::List(items), ValueType::List(elem)) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    if matches!(item.kind, ast::ExprKind::List(_)) {
                        self.diags.push(
                            Diagnostic::new(Code::E0201, "a list cannot hold lists")
                                .primary(item.span, "a list inside a list"),
                        );
                        return None;
                    }
                    values.push(self.const_value(item, elem, what)?);
                }
                return Some(Value::List(values.into()));
            }
            (_, ValueType::List(elem)) => {
                let want = self.schema.type_name(elem);
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("{what} must be a list of {want}"))
                        .primary(e.span, "not a list")
                        .help("write the values in brackets, e.g. `[a, b]` (or `[]` for none)"),
                );
                return None;
            }
            (ast::ExprKind::List(_), _) => {
                let want = self.schema.type_name(ty);
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("{what} must be {want}, not a list"))
                        .primary(e.span, "a list")
                        .help("declare the parameter as a list to hold several values: `param p: [T] = [...]`"),
                );
                return None;
            }
            _ => {}
        }
        let lit = match &e.kind {
            ast::ExprKind::Lit(k) => Literal {
                kind: k.clone(),
                span: e.span,
            },
            ast::ExprKind::Neg(inner) => match &inner.kind {
                ast::ExprKind::Lit(LiteralKind::Int(i)) => Literal {
                    kind: LiteralKind::Int(-i),
                    span: e.span,
                },
                _ => return self.not_constant(e, what),
            },
            ast::ExprKind::Name(n) => Literal {
                kind: LiteralKind::Name(None, n.clone()),
                span: e.span,
            },
            ast::ExprKind::Field(recv, f) => match &recv.kind {
                ast::ExprKind::Name(q) => Literal {
                    kind: LiteralKind::Name(Some(q.clone()), f.name.clone()),
                    span: e.span,
                },
                _ => return self.not_constant(e, what),
            },
            _ => return self.not_constant(e, what),
        };
        self.literal_value(&lit, ty, what)
    }

    fn not_constant(&mut self, e: &ast::Expr, what: &str) -> Option<Value> {
        self.diags.push(
            Diagnostic::new(Code::E0201, format!("{what} must be a constant value"))
                .primary(e.span, "not a constant")
                .help("parameters hold a value such as `3 weeks`, `2`, `true` or `2025-04-01`"),
        );
        None
    }

    fn param_values(
        &mut self,
        v: &ast::ParamValue,
        ty: &ValueType,
        name: &str,
    ) -> Option<(Value, Vec<(chrono::NaiveDate, Value)>)> {
        let what = format!("parameter `{name}`");
        let initial = self.const_value(&v.initial, ty, &what)?;
        let mut dated = Vec::new();
        for (from, span, e) in &v.dated {
            let val = self.const_value(e, ty, &what)?;
            if dated.iter().any(|(d, _)| d == from) {
                self.diags.push(
                    Diagnostic::new(Code::E0110, format!("two values of `{name}` from {from}"))
                        .primary(*span, "date given twice"),
                );
            }
            dated.push((*from, val));
        }
        dated.sort_by_key(|(d, _)| *d);
        Some((initial, dated))
    }

    fn declare_param(&mut self, p: &ast::ParamDecl) {
        if let Some(i) = self.param_index(&p.name.name) {
            let first = self.param_spans[i];
            self.duplicate("parameter", &p.name, first);
            return;
        }
        let Some(mut ty) = self.value_type(&p.ty) else {
            return;
        };
        if p.ty.optional {
            self.diags.push(
                Diagnostic::new(
                    Code::E0201,
                    "a parameter always has a value: it cannot be optional",
                )
                .primary(p.ty.span, "remove the `?`"),
            );
        }
        let Some((initial, dated)) = self.param_values(&p.value, &ty, &p.name.name) else {
            return;
        };
        if let Value::Duration(d) = &initial {
            ty = ValueType::Duration(d.kind);
        }
        self.check_duration_kinds(&ty, &dated, &p.value);
        self.params.push(ParamDef {
            name: p.name.name.clone(),
            ty,
            initial,
            dated,
            cite: p.cite.iter().map(|c| c.value.clone()).collect(),
            span: p.name.span,
        });
        self.param_used.push(false);
        self.param_spans.push(p.name.span);
    }

    fn check_duration_kinds(
        &mut self,
        ty: &ValueType,
        dated: &[(chrono::NaiveDate, Value)],
        v: &ast::ParamValue,
    ) {
        if let ValueType::Duration(k) = ty {
            for ((_, val), (_, span, _)) in dated.iter().zip(&v.dated) {
                if let Value::Duration(d) = val {
                    if d.kind != *k {
                        self.diags.push(
                            Diagnostic::new(
                                Code::E0204,
                                format!("cannot mix {} and {}", k.noun(), d.kind.noun()),
                            )
                            .primary(*span, "a different kind of duration")
                            .help("every value of a duration parameter must count the same unit"),
                        );
                    }
                }
            }
        }
    }

    fn apply_set(&mut self, s: &ast::SetDecl) {
        let Some(i) = self.param_index(&s.name.name) else {
            let mut d =
                Diagnostic::new(Code::E0105, format!("unknown parameter `{}`", s.name.name))
                    .primary(s.name.span, "no parameter of this name to set");
            d = match did_you_mean(&s.name.name, self.params.iter().map(|p| p.name.as_str())) {
                Some(h) => d.help(h),
                None => d.help("`set` changes a parameter declared with `param` in this policy or one it extends"),
            };
            self.diags.push(d);
            return;
        };
        let ty = self.params[i].ty.clone();
        let before = self.diags.len();
        let Some((initial, dated)) = self.param_values(&s.value, &ty, &s.name.name) else {
            // Re-badge type errors of a `set` as E0205, pointing at the declaration too.
            for d in &mut self.diags[before..] {
                if d.code == Code::E0201 || d.code == Code::E0103 {
                    d.code = Code::E0205;
                    d.message = format!(
                        "`set {}` gives a value of the wrong type: {}",
                        s.name.name, d.message
                    );
                }
            }
            let decl = self.param_spans[i];
            if let Some(d) = self.diags.last_mut() {
                d.labels.push(crate::base::diagnostic::Label {
                    span: decl,
                    message: format!("declared as {} here", self.schema.type_name(&ty)),
                    primary: false,
                });
            }
            return;
        };
        if let (ValueType::Duration(k), Value::Duration(d)) = (&ty, &initial) {
            if d.kind != *k {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0205,
                        format!(
                            "`{}` counts {}, but the new value counts {}",
                            s.name.name,
                            k.noun(),
                            d.kind.noun()
                        ),
                    )
                    .primary(s.value.initial.span, format!("{}", d))
                    .secondary(self.param_spans[i], "declared here")
                    .help("durations of different kinds are not interchangeable"),
                );
                return;
            }
        }
        let p = &mut self.params[i];
        p.initial = initial;
        p.dated = dated;
        if !s.cite.is_empty() {
            p.cite = s.cite.iter().map(|c| c.value.clone()).collect();
        }
        p.span = s.name.span;
    }

    fn declare_clock(&mut self, c: &ast::ClockDecl) {
        if let Some(i) = self.clock_index(&c.name.name) {
            let first = self.clock_spans[i];
            self.duplicate("clock", &c.name, first);
            return;
        }
        let target = match &c.target.kind {
            ast::ExprKind::Lit(LiteralKind::Duration(d)) if d.kind == DurationKind::Days => {
                Some(Target::Days(d.amount))
            }
            ast::ExprKind::Name(n) if self.param_index(n).is_some() => {
                let i = self.param_index(n).unwrap_or(0);
                self.param_used[i] = true;
                match self.params[i].ty {
                    ValueType::Duration(DurationKind::Days) => Some(Target::Param(i as u32)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(target) = target else {
            self.diags.push(
                Diagnostic::new(Code::E0302, "a clock's target must be a number of days or weeks")
                    .primary(c.target.span, "not a day or week duration")
                    .help("write e.g. `target 18 weeks` or `target 62 days`, or name a Duration parameter in days"),
            );
            return;
        };
        let standard = match &c.standard {
            None => None,
            Some(e) => match &e.kind {
                ast::ExprKind::Lit(LiteralKind::Int(p)) if (0..=100).contains(p) => {
                    Some(Standard::Percent(*p))
                }
                ast::ExprKind::Name(n)
                    if self
                        .param_index(n)
                        .is_some_and(|i| self.params[i].ty == ValueType::Int) =>
                {
                    let i = self.param_index(n).unwrap_or(0);
                    self.param_used[i] = true;
                    Some(Standard::Param(i as u32))
                }
                _ => {
                    self.diags.push(
                        Diagnostic::new(Code::E0302, "a clock's standard must be a percentage")
                            .primary(e.span, "not a percentage from 0 to 100")
                            .help("write e.g. `standard 92%`, or name an Int parameter: `standard rtt_standard%`"),
                    );
                    None
                }
            },
        };
        let measured_on_incomplete = match &c.measured_on {
            None => false,
            Some(m) if m.name == "incomplete" => true,
            Some(m) if m.name == "completed" => false,
            Some(m) => {
                let mut d = Diagnostic::new(
                    Code::E0302,
                    format!(
                        "a standard is measured `of incomplete` or `of completed`, not `{}`",
                        m.name
                    ),
                )
                .primary(m.span, "unknown measure");
                if let Some(h) = did_you_mean(&m.name, ["incomplete", "completed"]) {
                    d = d.help(h);
                }
                self.diags.push(d);
                false
            }
        };
        self.clocks.push(ClockDef {
            name: c.name.name.clone(),
            description: c.description.as_ref().map(|d| d.value.clone()),
            target,
            standard,
            measured_on_incomplete,
            cite: c.cite.iter().map(|s| s.value.clone()).collect(),
        });
        self.clock_spans.push(c.name.span);
    }

    fn name_taken(&self, name: &str) -> Option<Span> {
        if let Some(i) = self.param_index(name) {
            return Some(self.param_spans[i]);
        }
        if let Some(i) = self.def_index(name) {
            return Some(self.def_spans[i]);
        }
        if let Some(i) = self.clock_index(name) {
            return Some(self.clock_spans[i]);
        }
        None
    }

    /// E0112: definitions that read each other have no value.
    fn cyclic_definitions(&mut self, cycle: Vec<&ast::DefDecl>) {
        let Some(first) = cycle.first() else { return };
        let chain: Vec<String> = cycle
            .iter()
            .map(|d| format!("`{}`", d.name.name))
            .chain(std::iter::once(format!("`{}`", first.name.name)))
            .collect();
        let mut d = Diagnostic::new(
            Code::E0112,
            if cycle.len() == 1 {
                format!("definition `{}` reads itself", first.name.name)
            } else {
                format!(
                    "definitions {} read each other",
                    chain[..cycle.len()].join(", ")
                )
            },
        )
        .primary(first.name.span, "has no value: it depends on itself");
        for other in &cycle[1..] {
            d = d.secondary(other.name.span, "part of the cycle");
        }
        self.diags.push(
            d.note(format!("cycle: {}", chain.join(" → ")))
                .help("a definition may read other definitions in any order, but not itself: break the cycle by writing one of them out in full"),
        );
    }

    /// A definition in a cycle: declared (so names that read it do not cascade as unknown)
    /// but with no type and no value.
    fn declare_poisoned_def(&mut self, d: &'a ast::DefDecl) {
        if let Some(first) = self.name_taken(&d.name.name) {
            self.duplicate("name", &d.name, first);
            return;
        }
        self.def_costs.push(limits::Cost::default());
        self.defs.push(DefDef {
            name: d.name.name.clone(),
            body: crate::model::ir::Expr::Const(Value::Unset),
            ty: None,
        });
        self.def_types.push(Ty::Error);
        self.def_spans.push(d.name.span);
        self.def_asts.push(Some(&d.body));
    }

    fn declare_def(&mut self, d: &'a ast::DefDecl) {
        if let Some(first) = self.name_taken(&d.name.name) {
            self.duplicate("name", &d.name, first);
            return;
        }
        // A bare name must mean one thing: a definition named like an enum value (or an enum)
        // would silently change what that value means in every comparison.
        let n = d.name.name.as_str();
        if let Some((i, en)) = self
            .schema
            .enums
            .iter()
            .enumerate()
            .find(|(_, e)| e.name == n || e.variants.iter().any(|v| v == n))
        {
            let what = if en.name == n {
                "an enum".to_string()
            } else {
                format!("a value of the enum `{}`", en.name)
            };
            let mut diag = Diagnostic::new(
                Code::E0110,
                format!("definition `{n}` has the name of {what}"),
            )
            .primary(d.name.span, "declared again here, as a definition")
            .help(format!("give the definition another name, e.g. `is_{n}`"));
            if let Some(span) = self.enum_spans.get(i).filter(|s| **s != Span::default()) {
                diag = diag.secondary(*span, format!("`{}` is declared here", en.name));
            }
            self.diags.push(diag);
        }
        let mut t = self.expr(&d.body, &Scope::default());
        let mut cost = self.cost(&t.ir);
        if !self.check_cost(cost, d.name.span, &format!("definition `{}`", d.name.name)) {
            // Reported once: definitions naming this one are not reported for it again.
            t.ir = crate::model::ir::Expr::Const(Value::Unset);
            cost = limits::Cost::default();
        }
        self.def_costs.push(cost);
        self.defs.push(DefDef {
            name: d.name.name.clone(),
            body: t.ir,
            ty: t.ty.value_type(),
        });
        self.def_types.push(t.ty);
        self.def_spans.push(d.name.span);
        self.def_asts.push(Some(&d.body));
    }

    fn declare_rule(&mut self, r: &'a ast::RuleDecl) {
        if let Some(i) = self.rule_index(&r.name.name) {
            let first = self.rule_info[i].name_span;
            self.duplicate("rule", &r.name, first);
            return;
        }
        let (kind, context) = match &r.trigger {
            Trigger::On(events) => {
                let ids: Vec<EventTypeId> = events
                    .iter()
                    .filter_map(|e| self.event_type(&e.name, e.span))
                    .collect();
                if ids.len() != events.len() {
                    return self.placeholder_rule(r);
                }
                (RuleKind::On(ids.clone()), ids)
            }
            Trigger::After {
                delay,
                from,
                unless,
            } => {
                let sc = Scope::default();
                let (delay_ir, _) = self.duration_expr(delay, &sc);
                let from_id = self.event_type(&from.name, from.span);
                let unless_ids: Vec<EventTypeId> = unless
                    .iter()
                    .filter_map(|e| self.event_type(&e.name, e.span))
                    .collect();
                let Some(from_id) = from_id else {
                    return self.placeholder_rule(r);
                };
                (
                    RuleKind::Timer {
                        delay: delay_ir,
                        from: from_id,
                        unless: unless_ids,
                    },
                    vec![from_id],
                )
            }
        };
        let sc = Scope {
            trigger: Some(context.clone()),
            ..Scope::default()
        };
        let when = r.when.as_ref().map(|w| self.condition(w, &sc));
        let mut narrowed = sc.clone();
        if let Some(w) = &r.when {
            self.collect_set_pub(w, &mut narrowed.narrowed);
        }
        let actions = self.actions(&r.actions, &narrowed);
        self.rules.push(RuleDef {
            name: r.name.name.clone(),
            description: r.description.as_ref().map(|d| d.value.clone()),
            cite: r.cite.iter().map(|c| c.value.clone()).collect(),
            kind,
            when,
            actions,
            exceptions: Vec::new(),
            disabled: None,
            span: r.name.span,
            conjuncts: r
                .when
                .as_ref()
                .map(|w| self.conjuncts(w))
                .unwrap_or_default(),
        });
        self.rule_info.push(RuleInfo {
            ast_when: r.when.as_ref(),
            name_span: r.name.span,
            trigger_span: r.trigger_span,
            context,
            empty_body: r.actions.is_empty(),
        });
    }

    /// Records a rule whose trigger did not resolve, so later references to it do not cascade.
    fn placeholder_rule(&mut self, r: &'a ast::RuleDecl) {
        self.rules.push(RuleDef {
            name: r.name.name.clone(),
            description: None,
            cite: r.cite.iter().map(|c| c.value.clone()).collect(),
            kind: RuleKind::On(Vec::new()),
            when: None,
            actions: Vec::new(),
            exceptions: Vec::new(),
            disabled: None,
            span: r.name.span,
            conjuncts: Vec::new(),
        });
        self.rule_info.push(RuleInfo {
            ast_when: None,
            name_span: r.name.span,
            trigger_span: r.trigger_span,
            context: Vec::new(),
            empty_body: r.actions.is_empty(),
        });
    }

    pub(crate) fn collect_set_pub(&self, e: &ast::Expr, out: &mut Vec<String>) {
        // The guard of a rule holds whenever its actions run.
        let mut keys = Vec::new();
        self.collect_guard(e, &mut keys);
        out.extend(keys);
    }

    fn collect_guard(&self, e: &ast::Expr, out: &mut Vec<String>) {
        match &e.kind {
            ast::ExprKind::IsSet(x, true) => out.push(self.key(x)),
            ast::ExprKind::Binary(ast::BinOp::And, a, b) => {
                self.collect_guard(a, out);
                self.collect_guard(b, out);
            }
            _ => {}
        }
    }

    /// The source text of each top-level `and` operand.
    fn conjuncts(&self, e: &ast::Expr) -> Vec<String> {
        match &e.kind {
            ast::ExprKind::Binary(ast::BinOp::And, a, b) => {
                let mut out = self.conjuncts(a);
                out.extend(self.conjuncts(b));
                out
            }
            _ => vec![self
                .sources
                .snippet(e.span)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")],
        }
    }

    /// A checker primed with a compiled policy's names, for checking REPL input against it.
    pub(crate) fn from_policy(sources: &'a SourceMap, policy: &Policy) -> Checker<'a> {
        let mut c = Checker::new(sources);
        c.schema = policy.schema.clone();
        c.event_spans = vec![Span::default(); policy.schema.events.len()];
        c.enum_spans = vec![Span::default(); policy.schema.enums.len()];
        c.attr_spans = vec![Span::default(); policy.schema.attributes.len()];
        c.clocks = policy.clocks.clone();
        c.clock_spans = vec![Span::default(); policy.clocks.len()];
        c.params = policy.params.clone();
        c.param_used = vec![true; policy.params.len()];
        c.param_spans = policy.params.iter().map(|p| p.span).collect();
        c.defs = policy.defs.clone();
        c.def_types = policy
            .defs
            .iter()
            .map(|d| match &d.ty {
                Some((vt, opt)) => Ty::of(vt).optional_if(*opt),
                None => Ty::Error,
            })
            .collect();
        c.def_spans = vec![Span::default(); policy.defs.len()];
        for d in &policy.defs {
            let cost = c.cost(&d.body);
            c.def_costs.push(cost);
        }
        c.def_asts = vec![None; policy.defs.len()];
        c.calendar = policy.calendar.clone();
        // For the names of outcomes and obligations an `expect` may mention.
        c.rules = policy.rules.clone();
        c
    }

    /// A stop or nullify reason and its value of `stop_reason` (collected before any rule).
    fn reason(&self, r: &ast::Ident) -> Reason {
        let id = self.schema.enums[self.stop_reason_enum as usize]
            .variants
            .iter()
            .position(|v| *v == r.name)
            .unwrap_or(0);
        Reason {
            name: r.name.as_str().into(),
            id: id as u32,
        }
    }

    fn clock_ref(&mut self, id: &ast::Ident) -> Option<u16> {
        if let Some(i) = self.clock_index(&id.name) {
            return Some(i as u16);
        }
        let mut d = Diagnostic::new(Code::E0104, format!("unknown clock `{}`", id.name))
            .primary(id.span, "no clock of this name");
        d = match did_you_mean(&id.name, self.clocks.iter().map(|c| c.name.as_str())) {
            Some(h) => d.help(h),
            None if self.clocks.is_empty() => d.help(
                "this policy declares no clock: declare one (`clock rtt { target 18 weeks }`) or build on the national rules with `extends national`",
            ),
            None => d.help(format!(
                "declared clocks: {}",
                self.clocks
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.diags.push(d);
        None
    }

    fn actions(&mut self, actions: &[ast::Action], sc: &Scope) -> Vec<IrAction> {
        let mut out = Vec::new();
        for a in actions {
            let date = |c: &mut Self, e: &Option<ast::Expr>| e.as_ref().map(|e| c.date_expr(e, sc));
            let act = match &a.kind {
                ActionKind::Start { clock, on } => {
                    let on = date(self, on);
                    self.clock_ref(clock).map(|c| IrAction::Start(c, on))
                }
                ActionKind::Stop { clock, reason, on } => {
                    let on = date(self, on);
                    let reason = self.reason(reason);
                    self.clock_ref(clock).map(|c| IrAction::Stop(c, reason, on))
                }
                ActionKind::Nullify { clock, reason, on } => {
                    let on = date(self, on);
                    let reason = self.reason(reason);
                    self.clock_ref(clock)
                        .map(|c| IrAction::Nullify(c, reason, on))
                }
                ActionKind::Reset { clock, to } => {
                    let to = self.date_expr(to, sc);
                    self.clock_ref(clock).map(|c| IrAction::Reset(c, to))
                }
                ActionKind::Pause { clock, on } => {
                    let on = date(self, on);
                    self.clock_ref(clock).map(|c| IrAction::Pause(c, on))
                }
                ActionKind::Resume { clock, on } => {
                    let on = date(self, on);
                    self.clock_ref(clock).map(|c| IrAction::Resume(c, on))
                }
                ActionKind::Outcome { name, on } => {
                    let on = date(self, on);
                    Some(IrAction::Outcome(name.name.as_str().into(), on))
                }
                ActionKind::Require(req) => {
                    let ast::RequireAction {
                        what,
                        within,
                        of,
                        by,
                        by_where,
                    } = req.as_ref();
                    let (within_ir, _) = self.duration_expr(within, sc);
                    let of = date(self, of);
                    let mut by_ids = Vec::new();
                    let mut bound = Vec::new();
                    if by.is_empty() {
                        match self.schema.event_index.get(&what.name) {
                            Some(id) => {
                                by_ids.push(*id);
                                bound.push((what.name.clone(), *id, sc.depth));
                            }
                            None => {
                                let mut d = Diagnostic::new(
                                    Code::E0303,
                                    format!("nothing can meet the obligation `{}`", what.name),
                                )
                                .primary(what.span, "not an event type");
                                d = match did_you_mean(&what.name, self.schema.event_index.keys().map(String::as_str)) {
                                    Some(h) => d.help(format!("{h} Or say which events meet it: `require {} within … by attended`", what.name)),
                                    None => d.help(format!("say which events meet it: `require {} within … by attended`", what.name)),
                                };
                                self.diags.push(d);
                            }
                        }
                    } else {
                        for b in by {
                            if let Some(id) = self.event_type(&b.name, b.span) {
                                by_ids.push(id);
                                bound.push((b.name.clone(), id, sc.depth));
                            }
                        }
                    }
                    let by_where = by_where.as_ref().map(|w| {
                        let mut inner = sc.clone();
                        inner.bound.extend(bound);
                        inner.depth = sc.depth + 1;
                        self.condition(w, &inner)
                    });
                    Some(IrAction::Require {
                        what: what.name.as_str().into(),
                        within: within_ir,
                        of,
                        by: by_ids,
                        by_where,
                    })
                }
                ActionKind::Warn(s) => Some(IrAction::Warn(s.value.as_str().into())),
            };
            out.extend(act);
        }
        out
    }

    fn declare_exceptions(&mut self, exceptions: &[&'a ast::ExceptionDecl]) {
        // Declare names first, so an exception may name an exception declared after it.
        let first_new = self.rules.len();
        for e in exceptions {
            if let Some(i) = self.rule_index(&e.name.name) {
                let first = self.rule_info[i].name_span;
                self.duplicate("exception", &e.name, first);
            }
        }
        let mut ids = Vec::new();
        for e in exceptions {
            let id = self.rules.len() as RuleId;
            self.rules.push(RuleDef {
                name: e.name.name.clone(),
                description: e.description.as_ref().map(|d| d.value.clone()),
                cite: e.cite.iter().map(|c| c.value.clone()).collect(),
                kind: RuleKind::Exception {
                    parent: RuleId::MAX,
                },
                when: None,
                actions: Vec::new(),
                exceptions: Vec::new(),
                disabled: None,
                span: e.name.span,
                conjuncts: e
                    .when
                    .as_ref()
                    .map(|w| self.conjuncts(w))
                    .unwrap_or_default(),
            });
            self.rule_info.push(RuleInfo {
                ast_when: e.when.as_ref(),
                name_span: e.name.span,
                trigger_span: e.target.span,
                context: Vec::new(),
                empty_body: e.actions.is_empty(),
            });
            ids.push(id);
        }
        // Resolve targets.
        for (e, id) in exceptions.iter().zip(&ids) {
            let parent = self
                .rules
                .iter()
                .position(|r| r.name == e.target.name)
                .map(|p| p as RuleId);
            let Some(parent) = parent else {
                let mut d =
                    Diagnostic::new(Code::E0106, format!("unknown rule `{}`", e.target.name))
                        .primary(e.target.span, "no rule or exception of this name");
                if let Some(h) =
                    did_you_mean(&e.target.name, self.rules.iter().map(|r| r.name.as_str()))
                {
                    d = d.help(h);
                }
                self.diags.push(d);
                continue;
            };
            if parent == *id {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0301,
                        format!("exception `{}` names itself", e.name.name),
                    )
                    .primary(e.target.span, "an exception overrides another rule"),
                );
                continue;
            }
            self.rules[*id as usize].kind = RuleKind::Exception { parent };
        }
        // Contexts follow the chain to the root rule; a cycle of exceptions is an error.
        for (e, id) in exceptions.iter().zip(&ids) {
            let mut seen = vec![*id];
            let mut cur = *id;
            let root = loop {
                match self.rules[cur as usize].kind {
                    RuleKind::Exception { parent } if parent != RuleId::MAX => {
                        if seen.contains(&parent) {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::E0301,
                                    format!(
                                        "exceptions `{}` and `{}` override each other",
                                        e.name.name, self.rules[parent as usize].name
                                    ),
                                )
                                .primary(e.target.span, "this makes a cycle"),
                            );
                            break None;
                        }
                        seen.push(parent);
                        cur = parent;
                    }
                    RuleKind::Exception { .. } => break None,
                    _ => break Some(cur),
                }
            };
            let Some(root) = root else {
                self.rules[*id as usize].kind = RuleKind::Exception {
                    parent: RuleId::MAX,
                };
                continue;
            };
            let context = self.rule_info[root as usize].context.clone();
            self.rule_info[*id as usize].context = context.clone();
            if let Some(on) = &e.on {
                let mine: Vec<Option<EventTypeId>> = on
                    .iter()
                    .map(|i| self.event_type(&i.name, i.span))
                    .collect();
                let same = mine.len() == context.len()
                    && mine.iter().all(|m| m.is_some_and(|m| context.contains(&m)));
                if !same && mine.iter().all(Option::is_some) {
                    let root_rule = &self.rules[root as usize];
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0301,
                            format!("exception `{}` has a different trigger from rule `{}`", e.name.name, root_rule.name),
                        )
                        .primary(on.first().map(|i| i.span).unwrap_or(e.span), "this trigger")
                        .secondary(self.rule_info[root as usize].trigger_span, "the rule's trigger")
                        .help("an exception replaces its rule's actions for the same event: drop the `on` clause, or write a separate rule"),
                    );
                }
            }
        }
        for (e, id) in exceptions.iter().zip(&ids) {
            let RuleKind::Exception { parent } = self.rules[*id as usize].kind else {
                continue;
            };
            if parent == RuleId::MAX {
                continue;
            }
            let sc = Scope {
                trigger: Some(self.rule_info[*id as usize].context.clone()),
                ..Scope::default()
            };
            let when = e.when.as_ref().map(|w| self.condition(w, &sc));
            let mut narrowed = sc.clone();
            // The parent's guard holds too when the exception applies.
            let mut cur = Some(parent);
            while let Some(p) = cur {
                if let Some(w) = self.rule_info[p as usize].ast_when {
                    self.collect_set_pub(w, &mut narrowed.narrowed);
                }
                cur = match self.rules[p as usize].kind {
                    RuleKind::Exception { parent } if parent != RuleId::MAX => Some(parent),
                    _ => None,
                };
            }
            if let Some(w) = &e.when {
                self.collect_set_pub(w, &mut narrowed.narrowed);
            }
            let actions = self.actions(&e.actions, &narrowed);
            let rule = &mut self.rules[*id as usize];
            rule.when = when;
            rule.actions = actions;
            self.rules[parent as usize].exceptions.push(*id);
        }
        let _ = first_new;
    }

    fn apply_disable(&mut self, d: &ast::DisableDecl) {
        let Some(i) = self.rule_index(&d.target.name) else {
            let mut diag =
                Diagnostic::new(Code::E0106, format!("unknown rule `{}`", d.target.name))
                    .primary(d.target.span, "nothing of this name to disable");
            if let Some(h) =
                did_you_mean(&d.target.name, self.rules.iter().map(|r| r.name.as_str()))
            {
                diag = diag.help(h);
            }
            self.diags.push(diag);
            return;
        };
        let reason = match &d.because {
            Some(b) => b.value.clone(),
            // `disable-without-reason` reports it.
            None => String::new(),
        };
        self.rules[i].disabled = Some(reason);
        self.disabled_spans.insert(i as RuleId, d.span);
    }

    fn finish(self, name: String) -> Policy {
        let n = self.schema.events.len();
        let mut on_event = vec![Vec::new(); n];
        let mut arms = vec![Vec::new(); n];
        let mut cancels = vec![Vec::new(); n];
        let mut meets = vec![false; n];
        for (i, r) in self.rules.iter().enumerate() {
            for a in &r.actions {
                if let IrAction::Require { by, .. } = a {
                    for b in by {
                        meets[*b as usize] = true;
                    }
                }
            }
            if r.disabled.is_some() {
                continue;
            }
            match &r.kind {
                RuleKind::On(events) => {
                    for e in events {
                        on_event[*e as usize].push(i as RuleId);
                    }
                }
                RuleKind::Timer { from, unless, .. } => {
                    arms[*from as usize].push(i as RuleId);
                    for u in unless {
                        cancels[*u as usize].push(i as RuleId);
                    }
                }
                RuleKind::Exception { .. } => {}
            }
        }
        Policy {
            name,
            schema: self.schema,
            calendar: self.calendar,
            clocks: self.clocks,
            params: self.params,
            defs: self.defs,
            rules: self.rules,
            on_event,
            arms,
            cancels,
            meets,
            tests: self.tests,
            stop_reasons: self.stop_reason_enum,
            mappings: self.mappings,
        }
    }
}

fn is_builtin_type(name: &str) -> bool {
    matches!(
        name,
        "Bool" | "Int" | "Date" | "Duration" | "String" | CLOCK_STATUS_ENUM | STOP_REASON_ENUM
    )
}

/// The order to check definitions in: each after the definitions its body reads, otherwise in
/// declaration order; and the cycles (indices into `defs`, in declaration order of their first
/// member). Iterative, so a long chain cannot exhaust the stack.
fn definition_order(defs: &[&ast::DefDecl]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, d) in defs.iter().enumerate() {
        by_name.entry(d.name.name.as_str()).or_insert(i);
    }
    let reads: Vec<Vec<usize>> = defs
        .iter()
        .map(|d| {
            let mut out = Vec::new();
            d.body.for_each_name(&mut |n, _| {
                if let Some(&j) = by_name.get(n) {
                    if !out.contains(&j) {
                        out.push(j);
                    }
                }
            });
            out
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; defs.len()];
    let mut order = Vec::with_capacity(defs.len());
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    for root in 0..defs.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // (definition, next dependency to visit)
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (at, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = reads[at].get(*next) {
                *next += 1;
                match mark[dep] {
                    Mark::New => {
                        mark[dep] = Mark::Open;
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(d, _)| *d == dep).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|(d, _)| *d).collect();
                        let start = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, d)| **d)
                            .map_or(0, |(k, _)| k);
                        cycle.rotate_left(start);
                        if !cycles.iter().any(|c| c.contains(&cycle[0])) {
                            cycles.push(cycle);
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                mark[at] = Mark::Done;
                order.push(at);
                stack.pop();
            }
        }
    }
    (order, cycles)
}

#[cfg(test)]
mod quick {
    #[test]
    fn national_schema_checks() {
        let mut sources = crate::base::source::SourceMap::new();
        let mut diags = Vec::new();
        let loaded = crate::front::loader::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../policies/national/schema.pal"),
            &mut sources,
            &mut diags,
        );
        let checked = super::check(&loaded, &sources);
        for d in diags.iter().chain(&checked.diagnostics) {
            eprintln!("{:?} {} {:?}", d.code, d.message, d.help);
        }
        assert!(checked.policy.is_some());
    }
}
