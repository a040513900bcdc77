//! Type-checks expressions and elaborates them into the resolved IR in one pass.

use super::types::Ty;
use super::Checker;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::Span;
use crate::base::suggest::did_you_mean;
use crate::base::value::{DurationKind, Value};
use crate::model::ir::{
    Builtin, ClockField, EventRef, Expr as Ir, Query, QueryKind, MAX_QUERY_DEPTH,
};
use crate::model::schema::EventTypeId;
use crate::syntax::ast::{BinOp, Call, Expr, ExprKind, LiteralKind};

/// What names mean where an expression is checked.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The event types `event` may be (absent: `event` is an error here).
    pub trigger: Option<Vec<EventTypeId>>,
    /// Names bound to a candidate event (inside a query's or obligation's `where`), with the
    /// nesting level of the query that binds them.
    pub bound: Vec<(String, EventTypeId, u8)>,
    /// How many queries (or obligation `where`s) enclose this expression.
    pub depth: u8,
    /// Optional expressions known to be set here (their whitespace-free text).
    pub narrowed: Vec<String>,
}

/// An elaborated expression and its type.
pub struct Typed {
    /// Its type.
    pub ty: Ty,
    /// Its IR.
    pub ir: Ir,
}

fn typed(ty: Ty, ir: Ir) -> Typed {
    Typed { ty, ir }
}

fn poison() -> Typed {
    typed(Ty::Error, Ir::Const(Value::Unset))
}

/// The fields of a clock (`rtt.open`).
pub const CLOCK_FIELDS: &[&str] = &[
    "start",
    "stop",
    "status",
    "days_waited",
    "weeks_waited",
    "target_date",
    "running",
    "open",
    "periods",
    "breached",
    "paused_days",
    "reason",
];

/// The built-in functions.
pub const FUNCTIONS: &[&str] = &[
    "count",
    "exists",
    "consecutive",
    "last",
    "first",
    "age",
    "age_at",
    "working_days",
    "days_between",
    "min",
    "max",
    "month_start",
    "month_end",
    "same_month",
];

impl Checker<'_> {
    /// Whitespace-free text of an expression, the key for narrowing.
    pub(crate) fn key(&self, e: &Expr) -> String {
        self.sources
            .snippet(e.span)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    /// Checks a condition: must be `Bool`.
    pub(crate) fn condition(&mut self, e: &Expr, sc: &Scope) -> Ir {
        let t = self.expr(e, sc);
        let t = self.value(e, t, sc);
        match t.ty {
            Ty::Bool | Ty::Error => {}
            ref other => {
                let name = other.name(&self.schema);
                self.diags.push(
                    Diagnostic::new(Code::E0202, format!("condition is {name}, not Bool"))
                        .primary(e.span, format!("this is {name}"))
                        .help("a condition must be true or false, e.g. `event.communicated` or `count(dna) >= 2`"),
                );
            }
        }
        t.ir
    }

    /// Checks an expression that must have a Date type.
    pub(crate) fn date_expr(&mut self, e: &Expr, sc: &Scope) -> Ir {
        let t = self.expr(e, sc);
        let t = self.value(e, t, sc);
        self.expect_ty(e, &t, &Ty::Date);
        t.ir
    }

    /// Checks an expression that must be a Duration (any kind); returns its kind.
    pub(crate) fn duration_expr(&mut self, e: &Expr, sc: &Scope) -> (Ir, Option<DurationKind>) {
        let t = self.expr(e, sc);
        let t = self.value(e, t, sc);
        match t.ty {
            Ty::Dur(k) => (t.ir, Some(k)),
            Ty::Error => (t.ir, None),
            Ty::Int => {
                self.diags.push(
                    Diagnostic::new(Code::E0201, "expected a duration, found a number")
                        .primary(e.span, "a number without a unit")
                        .help("write a unit after the number, e.g. `3 weeks`, `14 days` or `5 working days`"),
                );
                (t.ir, None)
            }
            ref other => {
                self.mismatch(e, "a Duration", other);
                (t.ir, None)
            }
        }
    }

    fn expect_ty(&mut self, e: &Expr, t: &Typed, want: &Ty) {
        if t.ty.is_error() || t.ty.same(want) {
            return;
        }
        if let Ty::Opt(inner) = &t.ty {
            if inner.same(want) {
                self.optional_error(e, &t.ty);
                return;
            }
        }
        let w = want.name(&self.schema);
        self.mismatch(e, &format!("a {w}"), &t.ty);
    }

    pub(crate) fn mismatch(&mut self, e: &Expr, want: &str, found: &Ty) {
        let f = found.name(&self.schema);
        let mut d = Diagnostic::new(Code::E0201, format!("expected {want}, found {f}"))
            .primary(e.span, format!("this is {f}"));
        if matches!(found, Ty::Dur(_)) && want.contains("Date") {
            d = d.help("add the duration to a date, e.g. `event.date + 3 weeks`");
        }
        self.diags.push(d);
    }

    fn optional_error(&mut self, e: &Expr, ty: &Ty) {
        let text = self.sources.snippet(e.span).to_string();
        let name = ty.name(&self.schema);
        self.diags.push(
            Diagnostic::new(
                Code::E0203,
                format!("`{text}` is optional ({name}) and may not be set"),
            )
            .primary(e.span, "may be absent")
            .help(format!(
                "check it first with `{text} is set and …`, or give a fallback with `{text} ?? …`"
            )),
        );
    }

    /// [`Checker::value`] for other modules.
    pub(crate) fn value_in(&mut self, e: &Expr, t: Typed, sc: &Scope) -> Typed {
        match t.ty {
            // An optional value may be shown as it is in the REPL.
            Ty::Opt(_) => t,
            _ => self.value(e, t, sc),
        }
    }

    /// Unwraps an optional that the scope has narrowed; reports an unguarded optional.
    fn value(&mut self, e: &Expr, t: Typed, sc: &Scope) -> Typed {
        match t.ty {
            Ty::Opt(inner) => {
                if sc.narrowed.contains(&self.key(e)) {
                    typed(*inner, t.ir)
                } else {
                    self.optional_error(e, &Ty::Opt(inner));
                    poison()
                }
            }
            Ty::Found(_) => {
                let text = self.sources.snippet(e.span).to_string();
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("`{text}` is an event, not a value"))
                        .primary(e.span, "an event")
                        .help(format!("use one of its fields, e.g. `{text}.date`")),
                );
                poison()
            }
            Ty::Event(..) | Ty::Pathway | Ty::Clock(_) | Ty::EnumType(_) => {
                let text = self.sources.snippet(e.span).to_string();
                let name = t.ty.name(&self.schema);
                let help = match t.ty {
                    Ty::Clock(_) => format!(
                        "use one of its fields: {}",
                        CLOCK_FIELDS
                            .iter()
                            .map(|f| format!("`{text}.{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => format!("use one of its fields, e.g. `{text}.date`"),
                };
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("`{text}` is a {name}, not a value"))
                        .primary(e.span, format!("a {name}"))
                        .help(help),
                );
                poison()
            }
            _ => t,
        }
    }

    /// Checks and elaborates an expression.
    pub(crate) fn expr(&mut self, e: &Expr, sc: &Scope) -> Typed {
        match &e.kind {
            ExprKind::Lit(l) => match l {
                LiteralKind::Bool(b) => typed(Ty::Bool, Ir::Const(Value::Bool(*b))),
                LiteralKind::Int(i) => typed(Ty::Int, Ir::Const(Value::Int(*i))),
                LiteralKind::Date(d) => typed(Ty::Date, Ir::Const(Value::Date(*d))),
                LiteralKind::Duration(d) => typed(Ty::Dur(d.kind), Ir::Const(Value::Duration(*d))),
                LiteralKind::Str(s) => typed(Ty::Str, Ir::Const(Value::Str(s.as_str().into()))),
                LiteralKind::Name(_, n) => self.name(n, e.span, sc),
            },
            ExprKind::Name(n) => self.name(n, e.span, sc),
            ExprKind::Field(recv, field) => {
                let r = self.expr(recv, sc);
                self.field(recv, r, &field.name, field.span, e.span, sc)
            }
            ExprKind::Call(c) => self.call(c, e.span, sc),
            ExprKind::Not(x) => {
                let ir = self.condition(x, sc);
                typed(Ty::Bool, Ir::Not(Box::new(ir)))
            }
            ExprKind::Neg(x) => {
                let t = self.expr(x, sc);
                let t = self.value(x, t, sc);
                match t.ty {
                    Ty::Int | Ty::Dur(_) | Ty::Error => typed(t.ty, Ir::Neg(Box::new(t.ir))),
                    other => {
                        self.mismatch(x, "a number or duration", &other);
                        poison()
                    }
                }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e, sc),
            ExprKind::Within { value, window, of } => {
                let v = self.date_expr(value, sc);
                let (w, _) = self.duration_expr(window, sc);
                let o = self.date_expr(of, sc);
                typed(Ty::Bool, Ir::Within(Box::new(v), Box::new(w), Box::new(o)))
            }
            ExprKind::AtLeast {
                value,
                gap,
                before,
                reference,
            } => {
                let v = self.date_expr(value, sc);
                let (g, _) = self.duration_expr(gap, sc);
                let r = self.date_expr(reference, sc);
                typed(
                    Ty::Bool,
                    Ir::AtLeast(Box::new(v), Box::new(g), *before, Box::new(r)),
                )
            }
            ExprKind::IsSet(x, yes) => {
                let t = self.expr(x, sc);
                let ir = match t.ty {
                    // `last(E) is set` is `exists(E)`.
                    Ty::Found(q) => Ir::Query(Box::new(Query {
                        kind: QueryKind::Exists,
                        ..*q
                    })),
                    _ => t.ir,
                };
                typed(Ty::Bool, Ir::IsSet(Box::new(ir), *yes))
            }
            ExprKind::In(x, list, yes) => {
                let t = self.expr(x, sc);
                let mut t = self.value(x, t, sc);
                let mut items = Vec::new();
                for item in list {
                    let it = self.operand_against(item, &t.ty, sc);
                    let (l, r) = self.unify(x, t_clone(&t), item, it);
                    if !l.ty.is_error() && !r.ty.is_error() && !l.ty.same(&r.ty) {
                        self.incomparable(BinOp::Eq, x, &l.ty, &r.ty);
                    }
                    if !l.ty.is_error() {
                        t = l;
                    }
                    items.push(r.ir);
                }
                typed(Ty::Bool, Ir::In(Box::new(t.ir), items, *yes))
            }
            ExprKind::Member(x, list, yes) => self.member(x, list, *yes, sc),
            ExprKind::List(items) => self.list_literal(e, items, sc),
        }
    }

    /// `x in list` / `x not in list`: `list` must be a list, `x` a value of its element type.
    fn member(&mut self, x: &Expr, list: &Expr, yes: bool, sc: &Scope) -> Typed {
        let l = self.expr(list, sc);
        let l = self.value(list, l, sc);
        let elem = match &l.ty {
            Ty::List(elem) => (**elem).clone(),
            Ty::Error => Ty::Error,
            other => {
                let other = other.clone();
                self.mismatch(list, "a list (a parameter of type `[T]`)", &other);
                return typed(Ty::Bool, Ir::Const(Value::Unset));
            }
        };
        let t = self.operand_against(x, &elem, sc);
        let t = if matches!(t.ty, Ty::Variant(_)) {
            self.settle(t, x.span, &elem)
        } else {
            t
        };
        if !t.ty.is_error() && !elem.is_error() && !t.ty.same(&elem) {
            self.incomparable(BinOp::Eq, x, &t.ty, &Ty::List(Box::new(elem)));
        }
        typed(Ty::Bool, Ir::Member(Box::new(t.ir), Box::new(l.ir), yes))
    }

    /// `[a, b]` in an expression: constant values of one type.
    fn list_literal(&mut self, e: &Expr, items: &[Expr], sc: &Scope) -> Typed {
        let Some(first) = items.first() else {
            self.diags.push(
                Diagnostic::new(Code::E0201, "an empty list has no type here")
                    .primary(e.span, "`[]`")
                    .help("an empty list is the value of a list parameter: `param p: [specialty] = []`"),
            );
            return poison();
        };
        let f = self.expr(first, sc);
        let mut elem = self.value(first, f, sc);
        let mut values = Vec::new();
        let mut irs = vec![elem.ir.clone()];
        for item in &items[1..] {
            let it = self.operand_against(item, &elem.ty, sc);
            let (l, r) = self.unify(first, t_clone(&elem), item, it);
            if !l.ty.is_error() && !r.ty.is_error() && !l.ty.same(&r.ty) {
                self.incomparable(BinOp::Eq, item, &r.ty, &l.ty);
                return poison();
            }
            if !l.ty.is_error() {
                elem = l;
            }
            irs.push(r.ir);
        }
        if matches!(elem.ty, Ty::List(_)) {
            self.diags.push(
                Diagnostic::new(Code::E0201, "a list cannot hold lists")
                    .primary(e.span, "a list of lists"),
            );
            return poison();
        }
        for (ir, item) in irs.into_iter().zip(items) {
            match ir {
                Ir::Const(v) if v.is_set() => values.push(v),
                _ => {
                    if !elem.ty.is_error() {
                        self.diags.push(
                            Diagnostic::new(Code::E0201, "a list holds constant values")
                                .primary(item.span, "not a constant")
                                .help("write values such as `[dermatology, urology]` or `[2, 3]`"),
                        );
                    }
                    return poison();
                }
            }
        }
        typed(
            Ty::List(Box::new(elem.ty)),
            Ir::Const(Value::List(values.into())),
        )
    }

    fn name(&mut self, n: &str, span: Span, sc: &Scope) -> Typed {
        // The innermost binding of a name wins (an inner query of the same event type hides
        // the outer candidate).
        if let Some((_, ty, level)) = sc.bound.iter().rev().find(|(b, _, _)| b == n) {
            return typed(
                Ty::Event(EventRef::Candidate(*level), vec![*ty]),
                Ir::EventDate(EventRef::Candidate(*level)),
            );
        }
        match n {
            "event" => {
                return match &sc.trigger {
                    Some(types) => typed(
                        Ty::Event(EventRef::Trigger, types.clone()),
                        Ir::EventDate(EventRef::Trigger),
                    ),
                    None => {
                        self.diags.push(
                            Diagnostic::new(Code::E0208, "`event` is not available here")
                                .primary(span, "no triggering event here")
                                .help("`event` means the event that triggered a rule; definitions and expectations have none (use `now` for the date)"),
                        );
                        poison()
                    }
                }
            }
            "pathway" => return typed(Ty::Pathway, Ir::Const(Value::Unset)),
            "now" => return typed(Ty::Date, Ir::Now),
            _ => {}
        }
        if let Some(i) = self.param_index(n) {
            self.param_used[i] = true;
            let ty = Ty::of(&self.params[i].ty);
            return typed(ty, Ir::Param(i as u32));
        }
        if let Some(i) = self.def_index(n) {
            return typed(self.def_types[i].clone(), Ir::Def(i as u32));
        }
        if let Some(c) = self.clock_index(n) {
            return typed(Ty::Clock(c as u16), Ir::Const(Value::Unset));
        }
        if let Some(e) = self.schema.enums.iter().position(|e| e.name == n) {
            return typed(Ty::EnumType(e as u32), Ir::Const(Value::Unset));
        }
        let owners: Vec<(u32, u32)> = self
            .schema
            .enums
            .iter()
            .enumerate()
            .filter_map(|(ei, e)| {
                e.variants
                    .iter()
                    .position(|v| v == n)
                    .map(|vi| (ei as u32, vi as u32))
            })
            .collect();
        match owners.as_slice() {
            [(e, v)] => return typed(Ty::Enum(*e), Ir::Const(Value::Enum(*e, *v))),
            [_, ..] => return typed(Ty::Variant(n.to_string()), Ir::Const(Value::Unset)),
            [] => {}
        }
        if self.schema.event_index.contains_key(n) {
            self.diags.push(
                Diagnostic::new(Code::E0107, format!("`{n}` is an event type, not a value"))
                    .primary(span, "an event type")
                    .help(format!(
                        "to ask about the pathway's history use a query such as `exists({n})` or `count({n})`; for the triggering event use `event`"
                    )),
            );
            return poison();
        }
        let mut candidates: Vec<String> = vec!["event".into(), "pathway".into(), "now".into()];
        candidates.extend(self.params.iter().map(|p| p.name.clone()));
        candidates.extend(self.defs.iter().map(|d| d.name.clone()));
        candidates.extend(self.clocks.iter().map(|c| c.name.clone()));
        for en in &self.schema.enums {
            candidates.extend(en.variants.iter().cloned());
        }
        let mut d = Diagnostic::new(Code::E0107, format!("unknown name `{n}`"))
            .primary(span, "not a parameter, definition, clock or enum value");
        if let Some(h) = did_you_mean(n, candidates.iter().map(String::as_str)) {
            d = d.help(h);
        }
        self.diags.push(d);
        poison()
    }

    fn field(
        &mut self,
        recv_expr: &Expr,
        recv: Typed,
        field: &str,
        field_span: Span,
        whole: Span,
        sc: &Scope,
    ) -> Typed {
        match recv.ty {
            Ty::Error => poison(),
            Ty::Event(r, types) => {
                if field == "date" {
                    return typed(Ty::Date, Ir::EventDate(r));
                }
                let mut slots = Vec::new();
                let mut ty: Option<Ty> = None;
                for t in &types {
                    let ev = &self.schema.events[*t as usize];
                    match ev.fields.iter().position(|f| f.name == field) {
                        Some(i) => {
                            let f = &ev.fields[i];
                            let fty = Ty::of(&f.ty).optional_if(f.optional && f.default.is_none());
                            slots.push((*t, i as u16));
                            if ty.is_none() {
                                ty = Some(fty);
                            }
                        }
                        None => {
                            let mut d = Diagnostic::new(
                                Code::E0102,
                                format!("unknown field `{field}` on event `{}`", ev.name),
                            )
                            .primary(field_span, format!("`{}` has no field `{field}`", ev.name));
                            let names = ev
                                .fields
                                .iter()
                                .map(|f| f.name.as_str())
                                .chain(std::iter::once("date"));
                            d = match did_you_mean(field, names) {
                                Some(h) => d.help(h),
                                None => d.help(format!(
                                    "`{}` has the fields: date{}",
                                    ev.name,
                                    ev.fields
                                        .iter()
                                        .map(|f| format!(", {}", f.name))
                                        .collect::<String>()
                                )),
                            };
                            if let Some(span) = self.event_spans.get(*t as usize) {
                                d = d.secondary(*span, format!("`{}` is declared here", ev.name));
                            }
                            self.diags.push(d);
                            return poison();
                        }
                    }
                }
                let ir = Ir::EventField(r, slots.into_boxed_slice());
                typed(ty.unwrap_or(Ty::Error), ir)
            }
            Ty::Found(q) => {
                let narrowed = sc.narrowed.contains(&self.key(recv_expr));
                let wrap = |t: Ty| if narrowed { t } else { Ty::Opt(Box::new(t)) };
                if field == "date" {
                    return typed(wrap(Ty::Date), Ir::QueryField(q, None));
                }
                let mut slots = Vec::new();
                let mut ty = None;
                for t in &q.events {
                    let ev = &self.schema.events[*t as usize];
                    if let Some(i) = ev.fields.iter().position(|f| f.name == field) {
                        let f = &ev.fields[i];
                        slots.push((*t, i as u16));
                        ty.get_or_insert(
                            Ty::of(&f.ty).optional_if(f.optional && f.default.is_none()),
                        );
                    } else {
                        let mut d = Diagnostic::new(
                            Code::E0102,
                            format!("unknown field `{field}` on event `{}`", ev.name),
                        )
                        .primary(field_span, "no such field");
                        let names = ev.fields.iter().map(|f| f.name.as_str()).chain(["date"]);
                        if let Some(h) = did_you_mean(field, names) {
                            d = d.help(h);
                        }
                        self.diags.push(d);
                        return poison();
                    }
                }
                let inner = ty.unwrap_or(Ty::Error);
                let t = match inner {
                    Ty::Opt(_) => inner,
                    other => wrap(other),
                };
                typed(t, Ir::QueryField(q, Some(slots.into_boxed_slice())))
            }
            Ty::Pathway => match self.schema.attributes.iter().position(|a| a.name == field) {
                Some(i) => {
                    let a = &self.schema.attributes[i];
                    let ty = Ty::of(&a.ty).optional_if(a.optional && a.default.is_none());
                    typed(ty, Ir::Attr(i as u16))
                }
                None => {
                    let mut d = Diagnostic::new(
                        Code::E0102,
                        format!("unknown pathway attribute `{field}`"),
                    )
                    .primary(field_span, "not a pathway attribute");
                    let names: Vec<&str> = self
                        .schema
                        .attributes
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect();
                    d = match did_you_mean(field, names.iter().copied()) {
                        Some(h) => d.help(h),
                        None => d.help(format!("pathway attributes: {}", names.join(", "))),
                    };
                    self.diags.push(d);
                    poison()
                }
            },
            Ty::Clock(c) => {
                let f = match field {
                    "start" => ClockField::Start,
                    "stop" => ClockField::Stop,
                    "status" => ClockField::Status,
                    "days_waited" => ClockField::DaysWaited,
                    "weeks_waited" => ClockField::WeeksWaited,
                    "target_date" => ClockField::TargetDate,
                    "running" => ClockField::Running,
                    "open" => ClockField::Open,
                    "periods" => ClockField::Periods,
                    "breached" => ClockField::Breached,
                    "paused_days" => ClockField::PausedDays,
                    "reason" => ClockField::Reason,
                    _ => {
                        let mut d =
                            Diagnostic::new(Code::E0102, format!("unknown clock field `{field}`"))
                                .primary(field_span, "not a clock field");
                        d = match did_you_mean(field, CLOCK_FIELDS.iter().copied()) {
                            Some(h) => d.help(h),
                            None => d.help(format!("clock fields: {}", CLOCK_FIELDS.join(", "))),
                        };
                        self.diags.push(d);
                        return poison();
                    }
                };
                let ty = match f {
                    ClockField::Start | ClockField::Stop | ClockField::TargetDate => {
                        Ty::Opt(Box::new(Ty::Date))
                    }
                    ClockField::Status => Ty::Enum(self.clock_status_enum),
                    ClockField::Reason => Ty::Opt(Box::new(Ty::Enum(self.stop_reason_enum))),
                    ClockField::Running | ClockField::Open | ClockField::Breached => Ty::Bool,
                    _ => Ty::Int,
                };
                typed(ty, Ir::Clock(c, f))
            }
            Ty::EnumType(e) => {
                let en = &self.schema.enums[e as usize];
                match en.variants.iter().position(|v| v == field) {
                    Some(v) => typed(Ty::Enum(e), Ir::Const(Value::Enum(e, v as u32))),
                    None => {
                        let mut d = Diagnostic::new(
                            Code::E0103,
                            format!("`{field}` is not a value of `{}`", en.name),
                        )
                        .primary(field_span, "unknown value")
                        .help(format!(
                            "`{}` is one of: {}",
                            en.name,
                            en.variants.join(", ")
                        ));
                        if let Some(h) = did_you_mean(field, en.variants.iter().map(String::as_str))
                        {
                            d = d.help(h);
                        }
                        self.diags.push(d);
                        poison()
                    }
                }
            }
            Ty::Opt(inner) => {
                self.optional_error(recv_expr, &Ty::Opt(inner));
                poison()
            }
            other => {
                let name = other.name(&self.schema);
                self.diags.push(
                    Diagnostic::new(Code::E0201, format!("{name} has no fields"))
                        .primary(whole, format!("`.{field}` on a {name}")),
                );
                poison()
            }
        }
    }

    /// Resolves an ambiguous enum variant against the other operand's enum.
    fn settle(&mut self, t: Typed, span: Span, other: &Ty) -> Typed {
        let Ty::Variant(name) = &t.ty else {
            return t;
        };
        let Ty::Enum(e) = other else {
            let owners: Vec<String> = self
                .schema
                .enums
                .iter()
                .filter(|en| en.variants.iter().any(|v| v == name))
                .map(|en| format!("`{}.{name}`", en.name))
                .collect();
            self.diags.push(
                Diagnostic::new(Code::E0207, format!("`{name}` is a value of several enums"))
                    .primary(span, "which enum?")
                    .help(format!("say which: {}", owners.join(" or "))),
            );
            return poison();
        };
        let en = &self.schema.enums[*e as usize];
        match en.variants.iter().position(|v| v == name) {
            Some(v) => typed(Ty::Enum(*e), Ir::Const(Value::Enum(*e, v as u32))),
            None => {
                self.unknown_variant(name, span, *e);
                poison()
            }
        }
    }

    fn unknown_variant(&mut self, name: &str, span: Span, e: u32) {
        let en = &self.schema.enums[e as usize];
        let mut d = Diagnostic::new(
            Code::E0103,
            format!("`{name}` is not a value of `{}`", en.name),
        )
        .primary(
            span,
            format!(
                "not {} `{}`",
                crate::base::suggest::article(&en.name),
                en.name
            ),
        );
        d = match did_you_mean(name, en.variants.iter().map(String::as_str)) {
            Some(h) => d.help(h),
            None => d.help(format!(
                "`{}` is one of: {}",
                en.name,
                en.variants.join(", ")
            )),
        };
        self.diags.push(d);
    }

    /// Makes two operands comparable: settles variants; reports mismatches.
    fn unify(&mut self, ae: &Expr, a: Typed, be: &Expr, b: Typed) -> (Typed, Typed) {
        // A name that is a variant of a different enum than the other side: report E0103.
        let b = match (&a.ty, &b.ty, &be.kind) {
            (Ty::Enum(e), Ty::Enum(f), ExprKind::Name(n)) if e != f => {
                let en = &self.schema.enums[*e as usize];
                if !en.variants.iter().any(|v| v == n) {
                    self.unknown_variant(n, be.span, *e);
                    return (a, poison());
                }
                typed(Ty::Variant(n.clone()), Ir::Const(Value::Unset))
            }
            _ => b,
        };
        let a = if matches!(a.ty, Ty::Variant(_)) {
            self.settle(a, ae.span, &b.ty)
        } else {
            a
        };
        let b = if matches!(b.ty, Ty::Variant(_)) {
            self.settle(b, be.span, &a.ty)
        } else {
            b
        };
        (a, b)
    }

    /// True if a bare name means something here (so it is not a misspelled enum value).
    fn is_known_name(&self, n: &str, sc: &Scope) -> bool {
        matches!(n, "event" | "pathway" | "now")
            || sc.bound.iter().any(|(b, _, _)| b == n)
            || self.param_index(n).is_some()
            || self.def_index(n).is_some()
            || self.clock_index(n).is_some()
            || self
                .schema
                .enums
                .iter()
                .any(|e| e.name == n || e.variants.iter().any(|v| v == n))
            || self.schema.event_index.contains_key(n)
    }

    /// Checks the operand compared with an enum value: a bare unknown name is a misspelled
    /// variant of that enum (`E0103`), not an unknown name.
    fn operand_against(&mut self, e: &Expr, other: &Ty, sc: &Scope) -> Typed {
        if let (Ty::Enum(en), ExprKind::Name(n)) = (other, &e.kind) {
            if !self.is_known_name(n, sc) {
                self.unknown_variant(n, e.span, *en);
                return poison();
            }
        }
        let t = self.expr(e, sc);
        self.value(e, t, sc)
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, whole: &Expr, sc: &Scope) -> Typed {
        match op {
            BinOp::And => {
                let l = self.condition(a, sc);
                let mut inner = sc.clone();
                self.collect_set(a, true, &mut inner.narrowed);
                let r = self.condition(b, &inner);
                return typed(Ty::Bool, Ir::Binary(lower(op), Box::new(l), Box::new(r)));
            }
            BinOp::Or => {
                let l = self.condition(a, sc);
                let mut inner = sc.clone();
                self.collect_set(a, false, &mut inner.narrowed);
                let r = self.condition(b, &inner);
                return typed(Ty::Bool, Ir::Binary(lower(op), Box::new(l), Box::new(r)));
            }
            BinOp::Coalesce => {
                let l = self.expr(a, sc);
                let r = self.expr(b, sc);
                let r = self.value(b, r, sc);
                let lt = match l.ty {
                    Ty::Opt(t) => *t,
                    Ty::Found(_) => {
                        self.mismatch(a, "an optional value", &Ty::Error);
                        return poison();
                    }
                    t => t,
                };
                let (lt, r) = self.unify(a, typed(lt, Ir::Const(Value::Unset)), b, r);
                if !lt.ty.is_error() && !r.ty.is_error() && !lt.ty.same(&r.ty) {
                    let want = lt.ty.name(&self.schema);
                    self.mismatch(b, &format!("a {want} fallback"), &r.ty);
                    return poison();
                }
                return typed(lt.ty, Ir::Binary(lower(op), Box::new(l.ir), Box::new(r.ir)));
            }
            _ => {}
        }
        let l = self.expr(a, sc);
        let l = self.value(a, l, sc);
        let r = self.operand_against(b, &l.ty, sc);
        let (l, r) = self.unify(a, l, b, r);
        if l.ty.is_error() || r.ty.is_error() {
            return typed(
                match op {
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        Ty::Bool
                    }
                    _ => Ty::Error,
                },
                Ir::Const(Value::Unset),
            );
        }
        if matches!(l.ty, Ty::List(_)) || matches!(r.ty, Ty::List(_)) {
            let (ln, rn) = (l.ty.name(&self.schema), r.ty.name(&self.schema));
            self.diags.push(
                Diagnostic::new(
                    Code::E0201,
                    format!("`{}` cannot combine {ln} and {rn}", op.symbol()),
                )
                .primary(whole.span, "a list here")
                .help("a list is used only with membership: `x in list` or `x not in list`"),
            );
            return poison();
        }
        let out = |ty: Ty, l: Typed, r: Typed| {
            typed(ty, Ir::Binary(lower(op), Box::new(l.ir), Box::new(r.ir)))
        };
        use Ty::*;
        match op {
            BinOp::Eq | BinOp::Ne => {
                if l.ty.same(&r.ty) {
                    return out(Bool, l, r);
                }
                if let (Dur(x), Dur(y)) = (&l.ty, &r.ty) {
                    self.kinds_error(whole, *x, *y);
                    return poison();
                }
                self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                poison()
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match (&l.ty, &r.ty) {
                (Int, Int) | (Date, Date) => out(Bool, l, r),
                (Dur(x), Dur(y)) if x == y => out(Bool, l, r),
                (Dur(x), Dur(y)) => {
                    self.kinds_error(whole, *x, *y);
                    poison()
                }
                _ => {
                    self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                    poison()
                }
            },
            BinOp::Add => match (&l.ty, &r.ty) {
                (Int, Int) => out(Int, l, r),
                (Date, Dur(_)) | (Dur(_), Date) => out(Date, l, r),
                (Dur(x), Dur(y)) if x == y => {
                    let k = *x;
                    out(Dur(k), l, r)
                }
                (Dur(x), Dur(y)) => {
                    self.kinds_error(whole, *x, *y);
                    poison()
                }
                (Date, Date) => {
                    self.diags.push(
                        Diagnostic::new(Code::E0201, "cannot add two dates")
                            .primary(whole.span, "Date + Date")
                            .help("subtract them for the time between (`b - a`), or add a duration (`a + 3 weeks`)"),
                    );
                    poison()
                }
                (Date, Int) => {
                    self.diags.push(
                        Diagnostic::new(Code::E0201, "cannot add a number to a date")
                            .primary(b.span, "a number without a unit")
                            .help("write a unit, e.g. `event.date + 14 days`"),
                    );
                    poison()
                }
                _ => {
                    self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                    poison()
                }
            },
            BinOp::Sub => match (&l.ty, &r.ty) {
                (Int, Int) => out(Int, l, r),
                (Date, Date) => out(Dur(DurationKind::Days), l, r),
                (Date, Dur(_)) => out(Date, l, r),
                (Dur(x), Dur(y)) if x == y => {
                    let k = *x;
                    out(Dur(k), l, r)
                }
                (Dur(x), Dur(y)) => {
                    self.kinds_error(whole, *x, *y);
                    poison()
                }
                _ => {
                    self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                    poison()
                }
            },
            BinOp::Mul => match (&l.ty, &r.ty) {
                (Int, Int) => out(Int, l, r),
                (Int, Dur(k)) | (Dur(k), Int) => {
                    let k = *k;
                    out(Dur(k), l, r)
                }
                _ => {
                    self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                    poison()
                }
            },
            BinOp::Div => match (&l.ty, &r.ty) {
                (Int, Int) => out(Int, l, r),
                _ => {
                    self.incomparable_sides(op, a, Some(b), &l.ty, &r.ty);
                    poison()
                }
            },
            BinOp::And | BinOp::Or | BinOp::Coalesce => poison(),
        }
    }

    fn kinds_error(&mut self, whole: &Expr, x: DurationKind, y: DurationKind) {
        self.diags.push(
            Diagnostic::new(
                Code::E0204,
                format!("cannot mix {} and {}", x.noun(), y.noun()),
            )
            .primary(whole.span, format!("{} and {}", x.noun(), y.noun()))
            .help("months and working days are not a fixed number of days: compare dates instead, e.g. `event.date + 3 months < now`"),
        );
    }

    fn incomparable(&mut self, op: BinOp, a: &Expr, l: &Ty, r: &Ty) {
        self.incomparable_sides(op, a, None, l, r);
    }

    /// E0201 for `a op b` with each side labelled with its type (`b` when the other side is
    /// an expression of its own).
    fn incomparable_sides(&mut self, op: BinOp, a: &Expr, b: Option<&Expr>, l: &Ty, r: &Ty) {
        let (ln, rn) = (l.name(&self.schema), r.name(&self.schema));
        let mut d = Diagnostic::new(
            Code::E0201,
            format!("`{}` cannot combine {ln} and {rn}", op.symbol()),
        )
        .primary(a.span, format!("this is {ln}"));
        if let Some(b) = b {
            d = d.secondary(b.span, format!("this is {rn}"));
        }
        if matches!((l, r), (Ty::Date, Ty::Dur(_)) | (Ty::Dur(_), Ty::Date)) {
            d = d.help("compare a date with a date: e.g. `event.date + 3 weeks <= now`, or `now - event.date > 3 weeks`");
        }
        self.diags.push(d);
    }

    /// Adds to `out` the optional expressions that `e` proves set when it is `truth`.
    fn collect_set(&self, e: &Expr, truth: bool, out: &mut Vec<String>) {
        match &e.kind {
            ExprKind::IsSet(x, yes) if *yes == truth => out.push(self.key(x)),
            ExprKind::Binary(BinOp::And, a, b) if truth => {
                self.collect_set(a, true, out);
                self.collect_set(b, true, out);
            }
            ExprKind::Binary(BinOp::Or, a, b) if !truth => {
                self.collect_set(a, false, out);
                self.collect_set(b, false, out);
            }
            ExprKind::Not(x) => self.collect_set(x, !truth, out),
            ExprKind::Call(c) if truth && c.func.name == "exists" && c.since.is_none() => {
                // exists(E where C) proves last(E where C) and first(E where C) set.
                let text = self.key(e);
                if let Some(rest) = text.strip_prefix("exists") {
                    out.push(format!("last{rest}"));
                    out.push(format!("first{rest}"));
                }
            }
            _ => {}
        }
    }

    fn call(&mut self, c: &Call, span: Span, sc: &Scope) -> Typed {
        let f = c.func.name.as_str();
        let query = match f {
            "count" => Some(QueryKind::Count),
            "exists" => Some(QueryKind::Exists),
            "consecutive" => Some(QueryKind::Consecutive),
            "last" => Some(QueryKind::Last),
            "first" => Some(QueryKind::First),
            _ => None,
        };
        if let Some(kind) = query {
            return self.query(kind, c, span, sc);
        }
        if c.where_.is_some() || c.since.is_some() || !c.among.is_empty() {
            self.diags.push(
                Diagnostic::new(Code::E0206, format!("`{f}` does not take `where`, `since` or `among`"))
                    .primary(span, "only history queries take these")
                    .help("`where`, `since` and `among` belong to `count`, `exists`, `consecutive`, `last` and `first`"),
            );
        }
        let builtin = match f {
            "age" => Builtin::Age,
            "age_at" => Builtin::Age,
            "working_days" => Builtin::WorkingDays,
            "days_between" => Builtin::DaysBetween,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "month_start" => Builtin::MonthStart,
            "month_end" => Builtin::MonthEnd,
            "same_month" => Builtin::SameMonth,
            _ => {
                let mut d = Diagnostic::new(Code::E0109, format!("unknown function `{f}`"))
                    .primary(c.func.span, "not a built-in function");
                d = match did_you_mean(f, FUNCTIONS.iter().copied()) {
                    Some(h) => d.help(h),
                    None => d.help(format!("functions: {}", FUNCTIONS.join(", "))),
                };
                self.diags.push(d);
                return poison();
            }
        };
        if matches!(builtin, Builtin::MonthStart | Builtin::MonthEnd) {
            if c.args.len() != 1 {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0206,
                        format!("`{f}` takes 1 argument, {} given", c.args.len()),
                    )
                    .primary(span, "wrong number of arguments")
                    .help(format!("use `{f}(date)`, e.g. `{f}(event.date)`")),
                );
                return poison();
            }
            let d = self.date_expr(&c.args[0], sc);
            return typed(Ty::Date, Ir::Call(builtin, vec![d]));
        }
        if c.args.len() != 2 {
            let usage = match f {
                "age" => "age(birth_date, on_date)",
                "age_at" => "pathway.age_at(on_date)",
                "working_days" => "working_days(from_date, to_date)",
                "days_between" => "days_between(from_date, to_date)",
                "min" => "min(a, b)",
                "same_month" => "same_month(date_a, date_b)",
                _ => "max(a, b)",
            };
            self.diags.push(
                Diagnostic::new(
                    Code::E0206,
                    format!("`{f}` takes 2 arguments, {} given", c.args.len()),
                )
                .primary(span, "wrong number of arguments")
                .help(format!("use `{usage}`")),
            );
            return poison();
        }
        if f == "age_at" {
            // pathway.age_at(d) is age(pathway.birth_date, d).
            let recv = self.expr(&c.args[0], sc);
            if !matches!(recv.ty, Ty::Pathway | Ty::Error) {
                self.mismatch(&c.args[0], "the pathway (`pathway.age_at(date)`)", &recv.ty);
                return poison();
            }
            let Some(i) = self
                .schema
                .attributes
                .iter()
                .position(|a| a.name == "birth_date")
            else {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0102,
                        "`age_at` needs a pathway attribute `birth_date`",
                    )
                    .primary(span, "no `birth_date` attribute"),
                );
                return poison();
            };
            let on = self.date_expr(&c.args[1], sc);
            let a = &self.schema.attributes[i];
            let guarded = !a.optional
                || a.default.is_some()
                || sc.narrowed.iter().any(|k| k == "pathway.birth_date");
            let ir = Ir::Call(Builtin::Age, vec![Ir::Attr(i as u16), on]);
            return typed(
                if guarded {
                    Ty::Int
                } else {
                    Ty::Opt(Box::new(Ty::Int))
                },
                ir,
            );
        }
        let a = self.expr(&c.args[0], sc);
        let a = self.value(&c.args[0], a, sc);
        let b = self.expr(&c.args[1], sc);
        let b = self.value(&c.args[1], b, sc);
        if a.ty.is_error() || b.ty.is_error() {
            return typed(
                match builtin {
                    Builtin::Min | Builtin::Max => Ty::Error,
                    Builtin::SameMonth => Ty::Bool,
                    _ => Ty::Int,
                },
                Ir::Const(Value::Unset),
            );
        }
        match builtin {
            Builtin::Age | Builtin::WorkingDays | Builtin::DaysBetween => {
                for (e, t) in [(&c.args[0], &a), (&c.args[1], &b)] {
                    self.expect_ty(e, t, &Ty::Date);
                }
                typed(Ty::Int, Ir::Call(builtin, vec![a.ir, b.ir]))
            }
            Builtin::SameMonth => {
                for (e, t) in [(&c.args[0], &a), (&c.args[1], &b)] {
                    self.expect_ty(e, t, &Ty::Date);
                }
                typed(Ty::Bool, Ir::Call(builtin, vec![a.ir, b.ir]))
            }
            Builtin::MonthStart | Builtin::MonthEnd => poison(),
            Builtin::Min | Builtin::Max => {
                let ok = a.ty.same(&b.ty) && matches!(a.ty, Ty::Int | Ty::Date | Ty::Dur(_));
                if !ok {
                    self.incomparable(BinOp::Lt, &c.args[0], &a.ty, &b.ty);
                    return poison();
                }
                typed(a.ty, Ir::Call(builtin, vec![a.ir, b.ir]))
            }
        }
    }

    fn query(&mut self, kind: QueryKind, c: &Call, span: Span, sc: &Scope) -> Typed {
        let f = c.func.name.as_str();
        let usage = format!("`{f}(EVENT [where CONDITION] [since DATE])`");
        let Some(first) = c.args.first() else {
            self.diags.push(
                Diagnostic::new(Code::E0206, format!("`{f}` needs an event type"))
                    .primary(span, "no event type")
                    .help(format!("use {usage}, e.g. `{f}(dna)`")),
            );
            return poison();
        };
        if c.args.len() > 1 {
            self.diags.push(
                Diagnostic::new(Code::E0206, format!("`{f}` takes one event type"))
                    .primary(c.args[1].span, "unexpected argument")
                    .help(format!("use {usage}")),
            );
        }
        let ExprKind::Name(ev_name) = &first.kind else {
            self.diags.push(
                Diagnostic::new(
                    Code::E0206,
                    format!("`{f}` takes an event type, not an expression"),
                )
                .primary(first.span, "not an event type")
                .help(format!("use {usage}, e.g. `{f}(dna)`")),
            );
            return poison();
        };
        let Some(ev) = self.event_type(ev_name, first.span) else {
            return poison();
        };
        let level = sc.depth;
        if usize::from(level) >= MAX_QUERY_DEPTH {
            self.diags.push(
                Diagnostic::new(
                    Code::E0206,
                    format!("history queries nest at most {MAX_QUERY_DEPTH} deep"),
                )
                .primary(span, "too deeply nested")
                .help("name part of the condition with a `def`, or simplify it"),
            );
            return poison();
        }
        let where_ = c.where_.as_ref().map(|w| {
            let mut inner = sc.clone();
            inner.bound.push((ev_name.clone(), ev, level));
            inner.depth = level + 1;
            Box::new(self.condition(w, &inner))
        });
        let since = c.since.as_ref().map(|s| {
            let t = self.expr(s, sc);
            match &t.ty {
                Ty::Date | Ty::Error => {}
                Ty::Opt(inner) if matches!(**inner, Ty::Date) => {}
                other => {
                    let other = other.clone();
                    self.mismatch(s, "a Date", &other);
                }
            }
            Box::new(t.ir)
        });
        let among = c
            .among
            .iter()
            .filter_map(|id| self.event_type(&id.name, id.span))
            .collect();
        if kind != QueryKind::Consecutive && !c.among.is_empty() {
            self.diags.push(
                Diagnostic::new(Code::E0206, "`among` belongs to `consecutive`")
                    .primary(span, "`among` here")
                    .help("`consecutive(dna among attended, dna)` counts the run of `dna` at the end of the history, looking only at those event types"),
            );
        }
        let q = Query {
            kind,
            events: vec![ev],
            where_,
            since,
            level,
            among,
        };
        let cost = self.cost(&Ir::Query(Box::new(q.clone())));
        if !self.check_cost(cost, span, &format!("`{f}`")) {
            return poison();
        }
        match kind {
            QueryKind::Count | QueryKind::Consecutive => typed(Ty::Int, Ir::Query(Box::new(q))),
            QueryKind::Exists => typed(Ty::Bool, Ir::Query(Box::new(q))),
            QueryKind::Last | QueryKind::First => {
                typed(Ty::Found(Box::new(q)), Ir::Const(Value::Unset))
            }
        }
    }

    /// Resolves an event type name, reporting `E0101` with a suggestion.
    pub(crate) fn event_type(&mut self, name: &str, span: Span) -> Option<EventTypeId> {
        if let Some(id) = self.schema.event_index.get(name) {
            return Some(*id);
        }
        let mut d = Diagnostic::new(Code::E0101, format!("unknown event type `{name}`"))
            .primary(span, "not an event type of this policy's schema");
        if let Some(h) = did_you_mean(name, self.schema.event_index.keys().map(String::as_str)) {
            d = d.help(h);
        }
        self.diags.push(d);
        None
    }
}

fn t_clone(t: &Typed) -> Typed {
    typed(t.ty.clone(), t.ir.clone())
}

/// The IR's operator for a syntax operator.
fn lower(op: BinOp) -> crate::model::ir::BinOp {
    use crate::model::ir::BinOp as I;
    match op {
        BinOp::And => I::And,
        BinOp::Or => I::Or,
        BinOp::Coalesce => I::Coalesce,
        BinOp::Eq => I::Eq,
        BinOp::Ne => I::Ne,
        BinOp::Lt => I::Lt,
        BinOp::Le => I::Le,
        BinOp::Gt => I::Gt,
        BinOp::Ge => I::Ge,
        BinOp::Add => I::Add,
        BinOp::Sub => I::Sub,
        BinOp::Mul => I::Mul,
        BinOp::Div => I::Div,
    }
}
