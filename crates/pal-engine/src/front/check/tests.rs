//! Checks `test` blocks against the schema and compiles them into [`TestCase`]s.

use super::expr::Scope;
use super::{did_you_mean, Checker};
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::value::Value;
use crate::model::event::Event;
use crate::model::ir::{Action as IrAction, Expectation, ExpectationKind, TestCase};
use crate::model::status::{ObligationStatus, PeriodStatus};
use crate::syntax::ast::{self, ExpectKind, TestStep};

impl Checker<'_> {
    /// Builds an event from a test line, with defaults applied, and for each field whether the
    /// line wrote it (rather than it taking its default). `None` if it does not fit the schema.
    pub(crate) fn test_event(
        &mut self,
        e: &ast::TestEvent,
        seq: u32,
    ) -> Option<(Event, Vec<bool>)> {
        let kind = self.event_type(&e.kind.name, e.kind.span)?;
        let def = self.schema.events[kind as usize].clone();
        let mut fields: Vec<Option<Value>> = vec![None; def.fields.len()];
        // Fields written, even with a bad value: those are not also reported as missing.
        let mut given = vec![false; def.fields.len()];
        let mut ok = true;
        for f in &e.fields {
            match def.fields.iter().position(|d| d.name == f.name.name) {
                Some(i) => {
                    given[i] = true;
                    match self.literal_value(
                        &f.value,
                        &def.fields[i].ty,
                        &format!("field `{}`", f.name.name),
                    ) {
                        Some(v) => fields[i] = Some(v),
                        None => ok = false,
                    }
                }
                None => {
                    let mut d = Diagnostic::new(
                        Code::E0102,
                        format!("unknown field `{}` on event `{}`", f.name.name, def.name),
                    )
                    .primary(
                        f.name.span,
                        format!("`{}` has no field `{}`", def.name, f.name.name),
                    );
                    if let Some(h) =
                        did_you_mean(&f.name.name, def.fields.iter().map(|d| d.name.as_str()))
                    {
                        d = d.help(h);
                    }
                    self.diags.push(d);
                    ok = false;
                }
            }
        }
        let mut values = Vec::with_capacity(def.fields.len());
        for ((slot, fd), given) in fields
            .into_iter()
            .zip(&def.fields)
            .zip(given.iter().copied())
        {
            match slot.or_else(|| fd.default.clone()) {
                Some(v) => values.push(v),
                None if fd.optional => values.push(Value::Unset),
                None if given => {}
                None => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0304,
                            format!("event `{}` needs the field `{}`", def.name, fd.name),
                        )
                        .primary(e.span, format!("no `{}` given", fd.name))
                        .help(format!("add `{}: …` inside the braces", fd.name)),
                    );
                    ok = false;
                }
            }
        }
        let (line, _) = self
            .sources
            .get(e.span.file)
            .line_col(e.span.start as usize);
        ok.then(|| {
            let ev = Event {
                date: e.date,
                kind,
                fields: values.into_boxed_slice(),
                line: line as u32,
                seq,
            };
            (ev, given)
        })
    }

    /// Pathway attributes given by `pathway { … }`.
    pub(crate) fn test_attributes(&mut self, fields: &[ast::RecordField]) -> Vec<(u16, Value)> {
        let mut out = Vec::new();
        for f in fields {
            match self
                .schema
                .attributes
                .iter()
                .position(|a| a.name == f.name.name)
            {
                Some(i) => {
                    let ty = self.schema.attributes[i].ty.clone();
                    if let Some(v) =
                        self.literal_value(&f.value, &ty, &format!("attribute `{}`", f.name.name))
                    {
                        out.push((i as u16, v));
                    }
                }
                None => {
                    let mut d = Diagnostic::new(
                        Code::E0102,
                        format!("unknown pathway attribute `{}`", f.name.name),
                    )
                    .primary(f.name.span, "not a pathway attribute");
                    if let Some(h) = did_you_mean(
                        &f.name.name,
                        self.schema.attributes.iter().map(|a| a.name.as_str()),
                    ) {
                        d = d.help(h);
                    }
                    self.diags.push(d);
                }
            }
        }
        out
    }

    /// A `set` inside a test or the REPL: the parameter and its new value(s).
    pub(crate) fn test_set(
        &mut self,
        name: &ast::Ident,
        value: &ast::ParamValue,
    ) -> Option<crate::model::ir::ParamOverride> {
        let Some(i) = self.param_index(&name.name) else {
            let mut d = Diagnostic::new(Code::E0105, format!("unknown parameter `{}`", name.name))
                .primary(name.span, "no parameter of this name");
            if let Some(h) = did_you_mean(&name.name, self.params.iter().map(|p| p.name.as_str())) {
                d = d.help(h);
            }
            self.diags.push(d);
            return None;
        };
        let ty = self.params[i].ty.clone();
        let (initial, dated) = self.param_values(value, &ty, &name.name)?;
        Some((i as u32, initial, dated))
    }

    /// True if some rule or exception of the policy records the outcome (`what` = "outcome")
    /// or creates the obligation (`"obligation"`) `name`; otherwise reports `E0304`, since an
    /// expectation about a name nothing produces (`expect no outcome rebok`) proves nothing.
    fn known_result_name(&mut self, name: &ast::Ident, what: &str) -> bool {
        let names: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|r| &r.actions)
            .filter_map(|a| match (a, what) {
                (IrAction::Outcome(n, _), "outcome") => Some(&**n),
                (IrAction::Require { what: n, .. }, "obligation") => Some(&**n),
                _ => None,
            })
            .collect();
        if names.contains(&name.name.as_str()) {
            return true;
        }
        let mut d = Diagnostic::new(
            Code::E0304,
            format!("no rule of this policy records the {what} `{}`", name.name),
        )
        .primary(name.span, format!("not an {what} of this policy"));
        d = match did_you_mean(&name.name, names.iter().copied()) {
            Some(h) => d.help(h),
            None => d.help(format!(
                "an expectation about an {what} nothing can produce would always hold (or always fail)"
            )),
        };
        self.diags.push(d);
        false
    }

    /// An expectation, checked.
    pub(crate) fn expectation(&mut self, x: &ast::Expectation) -> Option<Expectation> {
        let kind = match &x.kind {
            ExpectKind::Outcome {
                negated,
                name,
                cite,
            } => {
                if !self.known_result_name(name, "outcome") {
                    return None;
                }
                ExpectationKind::Outcome {
                    negated: *negated,
                    name: name.name.clone(),
                    cite: cite.iter().map(|c| c.value.clone()).collect(),
                }
            }
            ExpectKind::Obligation {
                negated,
                name,
                status,
            } => {
                let expected = status
                    .as_ref()
                    .and_then(|s| ObligationStatus::from_name(&s.name));
                if let Some(status) = status {
                    if expected.is_none() {
                        let mut d = Diagnostic::new(
                            Code::E0304,
                            format!("`{}` is not an obligation status", status.name),
                        )
                        .primary(status.span, "expected `met`, `missed` or `open`");
                        if let Some(h) = did_you_mean(&status.name, ["met", "missed", "open"]) {
                            d = d.help(h);
                        }
                        self.diags.push(d);
                        return None;
                    }
                } else if !negated {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0304,
                            format!("`expect obligation {}` needs a status", name.name),
                        )
                        .primary(x.span, "no status")
                        .help(format!(
                            "write `expect obligation {0} met`, `missed` or `open`, or `expect no obligation {0}`",
                            name.name
                        )),
                    );
                    return None;
                }
                if !self.known_result_name(name, "obligation") {
                    return None;
                };
                ExpectationKind::Obligation {
                    negated: *negated,
                    name: name.name.clone(),
                    status: expected,
                }
            }
            ExpectKind::Conflict { negated } => ExpectationKind::Conflict { negated: *negated },
            ExpectKind::Warning { negated } => ExpectationKind::Warning { negated: *negated },
            ExpectKind::Clock {
                clock,
                period,
                status,
                on,
            } => {
                let Some(c) = self.clock_index(&clock.name) else {
                    let mut d =
                        Diagnostic::new(Code::E0104, format!("unknown clock `{}`", clock.name))
                            .primary(clock.span, "no clock of this name");
                    if let Some(h) =
                        did_you_mean(&clock.name, self.clocks.iter().map(|c| c.name.as_str()))
                    {
                        d = d.help(h);
                    }
                    self.diags.push(d);
                    return None;
                };
                // Unknown names were reported where the status enum is checked.
                let expected = match status.name.as_str() {
                    "not_started" => None,
                    other => Some(PeriodStatus::from_name(other)?),
                };
                if let Some((0, span)) = period {
                    self.diags.push(
                        Diagnostic::new(Code::E0304, "periods are numbered from 1")
                            .primary(*span, "no period 0"),
                    );
                    return None;
                }
                ExpectationKind::Clock {
                    clock: c as u16,
                    period: period.map(|(n, _)| n),
                    status: expected,
                    on: *on,
                }
            }
            ExpectKind::Expr(e) => {
                // An expectation asserts the value: an unset clock date just fails the test
                // (reported as "unset"), so clock dates need no guard here.
                let mut sc = Scope::default();
                for c in &self.clocks {
                    for f in ["start", "stop", "target_date"] {
                        sc.narrowed.push(format!("{}.{f}", c.name));
                    }
                }
                ExpectationKind::Holds(self.condition(e, &sc))
            }
        };
        Some(Expectation {
            kind,
            span: x.span,
            text: self
                .sources
                .snippet(x.span)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        })
    }

    pub(crate) fn declare_test(&mut self, t: &ast::TestDecl) {
        if let Some(first) = self.tests.iter().find(|x| x.name == t.name.value) {
            let first = first.span;
            self.diags.push(
                Diagnostic::new(
                    Code::E0110,
                    format!("test `{}` is declared twice", t.name.value),
                )
                .primary(t.name.span, "declared again here")
                .secondary(first, "first declared here")
                .help("give each test its own name, so failures say which scenario broke"),
            );
        }
        let mut case = TestCase {
            name: t.name.value.clone(),
            span: t.name.span,
            attributes: Vec::new(),
            events: Vec::new(),
            sets: Vec::new(),
            as_at: None,
            expectations: Vec::new(),
        };
        let mut as_at_span = None;
        // Per event: which fields its line wrote.
        let mut written: Vec<Vec<bool>> = Vec::new();
        for step in &t.steps {
            match step {
                TestStep::Pathway(fields, _) => {
                    let attrs = self.test_attributes(fields);
                    case.attributes.extend(attrs);
                }
                TestStep::Event(e) => {
                    let seq = case.events.len() as u32;
                    if let Some((ev, given)) = self.test_event(e, seq) {
                        case.events.push(ev);
                        written.push(given);
                    }
                }
                TestStep::Set(name, value, _) => {
                    if let Some(s) = self.test_set(name, value) {
                        case.sets.push(s);
                    }
                }
                TestStep::AsAt(d, span) => {
                    case.as_at = Some(*d);
                    as_at_span = Some(*span);
                }
                TestStep::Expect(x) => {
                    if let Some(e) = self.expectation(x) {
                        case.expectations.push(e);
                    }
                }
            }
        }
        if let (Some(as_at), Some(span)) = (case.as_at, as_at_span) {
            if let Some(late) = case.events.iter().find(|e| e.date > as_at) {
                self.diags.push(
                    Diagnostic::new(
                        Code::E0304,
                        format!("an event on {} is after the test's `as at {as_at}`", late.date),
                    )
                    .primary(span, "the report date")
                    .help("events after the as-at date are not yet known; move `as at` later or drop the event"),
                );
            }
        }
        crate::model::event::hold_attributes(
            &self.schema,
            &case.attributes,
            &mut case.events,
            &written,
        );
        // (An expectation rejected above was reported already: not also "expects nothing".)
        if !t.steps.iter().any(|s| matches!(s, TestStep::Expect(_))) {
            self.diags.push(
                Diagnostic::new(
                    Code::E0304,
                    format!("test `{}` expects nothing", t.name.value),
                )
                .primary(t.name.span, "no `expect` line")
                .help("a test must check something, e.g. `expect rtt running`"),
            );
        }
        self.tests.push(case);
    }
}
