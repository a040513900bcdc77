//! The compiled policy: a small resolved IR the evaluator runs. Names are gone: events, fields,
//! parameters, clocks and rules are indices, so the hot loop does no string look-ups.

use crate::base::name::Name;
use crate::base::source::Span;
use crate::base::value::{Value, ValueType};
use crate::model::calendar::Calendar;
use crate::model::schema::{EventTypeId, Schema};
use crate::model::status::{ObligationStatus, PeriodStatus};
use chrono::NaiveDate;

/// Index of a rule (or exception) in [`Policy::rules`].
pub type RuleId = u32;
/// Index of a clock in [`Policy::clocks`].
pub type ClockId = u16;
/// Index of a parameter in [`Policy::params`].
pub type ParamId = u32;

/// A checked, compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The policy's name (`rde`), or the root file's stem.
    pub name: String,
    /// Enums, pathway attributes and event types.
    pub schema: Schema,
    /// Bank holidays and the month-end rule.
    pub calendar: Calendar,
    /// Clocks in declaration order.
    pub clocks: Vec<ClockDef>,
    /// Parameters (after every `set`).
    pub params: Vec<ParamDef>,
    /// Named expressions.
    pub defs: Vec<DefDef>,
    /// Rules, timers and exceptions.
    pub rules: Vec<RuleDef>,
    /// Per event type: the enabled `on` rules it triggers, in policy order.
    pub on_event: Vec<Vec<RuleId>>,
    /// Per event type: the enabled timers it arms.
    pub arms: Vec<Vec<RuleId>>,
    /// Per event type: the timers it cancels.
    pub cancels: Vec<Vec<RuleId>>,
    /// Per event type: whether any obligation can be met by it.
    pub meets: Vec<bool>,
    /// Scenario tests declared in the policy's files.
    pub tests: Vec<TestCase>,
    /// The built-in enum of stop and nullify reasons (`rtt.reason`): every reason the policy's
    /// actions name.
    pub stop_reasons: crate::base::value::EnumId,
    /// Input mappings declared in the policy's files (`mapping NAME { … }`), checked against
    /// the schema.
    pub mappings: Vec<crate::model::mapping::InputMapping>,
}

impl Policy {
    /// Looks up a rule by name.
    pub fn rule_id(&self, name: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|r| r.name == name)
            .map(|i| i as RuleId)
    }

    /// Looks up a clock by name.
    pub fn clock_id(&self, name: &str) -> Option<ClockId> {
        self.clocks
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as ClockId)
    }

    /// Looks up a parameter by name.
    pub fn param_id(&self, name: &str) -> Option<ParamId> {
        self.params
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as ParamId)
    }
}

/// A clock and its standard.
#[derive(Debug, Clone)]
pub struct ClockDef {
    /// `rtt`, `cancer_62`, ….
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The target in days (a parameter's value resolved at the period start when dated).
    pub target: Target,
    /// The share of periods that must be within target, in percent (for the summary).
    pub standard: Option<Standard>,
    /// True if the standard measures incomplete (open) periods at the census date, as the RTT
    /// standard does; false if it measures completed periods, as the cancer standards do.
    pub measured_on_incomplete: bool,
    /// Citations.
    pub cite: Vec<String>,
}

/// A clock's operational standard (`standard 92%`).
#[derive(Debug, Clone)]
pub enum Standard {
    /// A fixed percentage.
    Percent(i64),
    /// An Int parameter (possibly dated).
    Param(ParamId),
}

/// A clock's target.
#[derive(Debug, Clone)]
pub enum Target {
    /// A fixed number of days.
    Days(i64),
    /// A Duration parameter (days kind).
    Param(ParamId),
}

/// A parameter and its value(s).
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// Name.
    pub name: String,
    /// Declared type.
    pub ty: ValueType,
    /// The value before any dated change.
    pub initial: Value,
    /// `(effective from, value)`, sorted by date.
    pub dated: Vec<(NaiveDate, Value)>,
    /// Citations (of the `set` if overridden).
    pub cite: Vec<String>,
    /// Where it is declared (or last set).
    pub span: Span,
}

impl ParamDef {
    /// The value in force on `date`.
    pub fn value_on(&self, date: NaiveDate) -> &Value {
        self.dated
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, v)| v)
            .unwrap_or(&self.initial)
    }
}

/// A named expression.
#[derive(Debug, Clone)]
pub struct DefDef {
    /// Name.
    pub name: String,
    /// Body.
    pub body: Expr,
    /// Its value type and whether it may be unset (`None` if it is not a plain value).
    pub ty: Option<(ValueType, bool)>,
}

/// What fires a rule.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// Fires when one of these events is applied.
    On(Vec<EventTypeId>),
    /// Armed by `from`, fires `delay` later unless one of `unless` happens first.
    Timer {
        /// The delay (a Duration expression, evaluated when armed).
        delay: Expr,
        /// The arming event.
        from: EventTypeId,
        /// Events that cancel a pending timer.
        unless: Vec<EventTypeId>,
    },
    /// Replaces the actions of `parent` when its own condition also holds.
    Exception {
        /// The rule or exception it overrides.
        parent: RuleId,
    },
}

/// A rule, timer or exception.
#[derive(Debug, Clone)]
pub struct RuleDef {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Citations; they travel into every outcome and trace.
    pub cite: Vec<String>,
    /// Trigger.
    pub kind: RuleKind,
    /// Guard (absent = always).
    pub when: Option<Expr>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Exceptions that name this rule, in policy order.
    pub exceptions: Vec<RuleId>,
    /// `disable … because "…"`: the reason, when switched off.
    pub disabled: Option<String>,
    /// Where it is declared.
    pub span: Span,
    /// The source text of each top-level `and` operand of `when`, for `:whynot`.
    pub conjuncts: Vec<String>,
}

impl RuleDef {
    /// The citations joined for output (`"9.12.1"`, `"9.12.3, 9.12.5"`).
    pub fn cite_text(&self) -> String {
        self.cite.join(", ")
    }
}

/// A stop or nullify reason: its name, and its value of the policy's `stop_reason` enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// As written (`dna_first_appointment`).
    pub name: Name,
    /// Its variant of [`Policy::stop_reasons`].
    pub id: u32,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// An action, resolved.
#[derive(Debug, Clone)]
pub enum Action {
    /// Start a new period (default date: now).
    Start(ClockId, Option<Expr>),
    /// Stop the open period with a reason.
    Stop(ClockId, Reason, Option<Expr>),
    /// Nullify the open period with a reason.
    Nullify(ClockId, Reason, Option<Expr>),
    /// Move the open period's start.
    Reset(ClockId, Expr),
    /// Open a pause.
    Pause(ClockId, Option<Expr>),
    /// Close the pause.
    Resume(ClockId, Option<Expr>),
    /// Record an outcome.
    Outcome(Name, Option<Expr>),
    /// Create an obligation.
    Require {
        /// Its name.
        what: Name,
        /// How long.
        within: Expr,
        /// From when (default now).
        of: Option<Expr>,
        /// Events that meet it.
        by: Vec<EventTypeId>,
        /// Condition on the meeting event (bound as the candidate).
        by_where: Option<Expr>,
    },
    /// Record a data-quality warning.
    Warn(Name),
}

impl Action {
    /// The clock the action changes, if any.
    pub fn clock(&self) -> Option<ClockId> {
        match self {
            Action::Start(c, _)
            | Action::Stop(c, _, _)
            | Action::Nullify(c, _, _)
            | Action::Reset(c, _)
            | Action::Pause(c, _)
            | Action::Resume(c, _) => Some(*c),
            _ => None,
        }
    }
}

/// A field of a clock readable in expressions (`rtt.start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockField {
    /// `Date?` start of the latest period.
    Start,
    /// `Date?` stop of the latest period.
    Stop,
    /// `clock_status` of the latest period (`not_started` if none).
    Status,
    /// `Int` days waited in the latest period (0 if none).
    DaysWaited,
    /// `Int` completed weeks waited.
    WeeksWaited,
    /// `Date?` the last day within the target.
    TargetDate,
    /// `Bool` running (not paused, not stopped).
    Running,
    /// `Bool` running or paused.
    Open,
    /// `Int` number of periods so far.
    Periods,
    /// `Bool` days waited over the target.
    Breached,
    /// `Int` paused days of the latest period.
    PausedDays,
    /// `stop_reason?` the stop or nullify reason of the latest period (unset while open).
    Reason,
}

/// The history queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `count(E …)`: Int.
    Count,
    /// `exists(E …)`: Bool.
    Exists,
    /// `consecutive(E …)`: Int, the run of matching events at the end of the history.
    Consecutive,
    /// `last(E …)`: the latest matching event.
    Last,
    /// `first(E …)`: the earliest matching event.
    First,
}

/// A history query over the pathway's events so far.
#[derive(Debug, Clone)]
pub struct Query {
    /// Which query.
    pub kind: QueryKind,
    /// Event types that match.
    pub events: Vec<EventTypeId>,
    /// Condition on the candidate event.
    pub where_: Option<Box<Expr>>,
    /// Only events on or after this date (an unset date means from the start).
    pub since: Option<Box<Expr>>,
    /// The candidate slot `where` reads this query's candidate from: 0 for a query that is not
    /// inside another query's `where`, one more per enclosing query (or obligation `where`).
    pub level: u8,
    /// For `consecutive`: the event types considered (default: all).
    pub among: Vec<EventTypeId>,
}

/// How deeply queries may nest (candidate slots an expression can read).
pub const MAX_QUERY_DEPTH: usize = 4;

/// Which event an event field is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRef {
    /// The event that triggered the rule (or armed the timer).
    Trigger,
    /// A candidate event inside a query's `where` or an obligation's `where`: the candidate of
    /// the query at this nesting level (0 = the outermost), so an inner query's condition can
    /// read the outer candidates.
    Candidate(u8),
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `age(birth, on)`: completed years.
    Age,
    /// `working_days(a, b)`: working days d with a < d <= b.
    WorkingDays,
    /// `days_between(a, b)`: b − a in days.
    DaysBetween,
    /// `min(a, b)`.
    Min,
    /// `max(a, b)`.
    Max,
    /// `month_start(d)`: the first day of `d`'s calendar month.
    MonthStart,
    /// `month_end(d)`: the last day of `d`'s calendar month.
    MonthEnd,
    /// `same_month(a, b)`: same calendar month of the same year.
    SameMonth,
}

/// A resolved expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant.
    Const(Value),
    /// A parameter's value on `now`.
    Param(ParamId),
    /// A definition's value.
    Def(u32),
    /// The date being evaluated: the event's date, a timer's due date, or the as-at date.
    Now,
    /// The date of an event.
    EventDate(EventRef),
    /// A field of an event; `(event type, field index)` pairs for rules on several types.
    EventField(EventRef, Box<[(EventTypeId, u16)]>),
    /// A pathway attribute.
    Attr(u16),
    /// A clock field.
    Clock(ClockId, ClockField),
    /// A history query returning Int or Bool.
    Query(Box<Query>),
    /// A field of the event a `last`/`first` query finds (`None` = its date).
    QueryField(Box<Query>, Option<Box<[(EventTypeId, u16)]>>),
    /// A built-in function.
    Call(Builtin, Vec<Expr>),
    /// `not`.
    Not(Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a within D of b`.
    Within(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a at least D before|after b` (`true` = before).
    AtLeast(Box<Expr>, Box<Expr>, bool, Box<Expr>),
    /// `x is set` (`true`) / `is not set`.
    IsSet(Box<Expr>, bool),
    /// `x in [..]` (`true`) / `not in`.
    In(Box<Expr>, Vec<Expr>, bool),
    /// `x in list` (`true`) / `not in`, where `list` evaluates to a list value.
    Member(Box<Expr>, Box<Expr>, bool),
}

/// A parameter override: the parameter, its value and its dated values (tests' and the
/// REPL's `set`).
pub type ParamOverride = (ParamId, Value, Vec<(NaiveDate, Value)>);

/// A scenario test.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// The test's name.
    pub name: String,
    /// Where it is declared.
    pub span: Span,
    /// Pathway attributes given by `pathway { … }`.
    pub attributes: Vec<(u16, Value)>,
    /// Events in order (fields complete, defaults applied).
    pub events: Vec<crate::model::event::Event>,
    /// Parameter overrides for this test.
    pub sets: Vec<ParamOverride>,
    /// The as-at date (default: the last event's date).
    pub as_at: Option<NaiveDate>,
    /// Expectations.
    pub expectations: Vec<Expectation>,
}

/// What a test expects.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The kind.
    pub kind: ExpectationKind,
    /// The `expect` line.
    pub span: Span,
    /// The line as written (for reports).
    pub text: String,
}

/// Expectation kinds.
#[derive(Debug, Clone)]
pub enum ExpectationKind {
    /// An outcome was (or with `negated`, was not) recorded; with citations if given.
    Outcome {
        /// `expect no outcome`.
        negated: bool,
        /// Outcome name.
        name: String,
        /// Citations the outcome must carry.
        cite: Vec<String>,
    },
    /// An obligation has this status; with `negated`, none of this name (with this status, if
    /// given) was created.
    Obligation {
        /// `expect no obligation`.
        negated: bool,
        /// Its name.
        name: String,
        /// The status expected (`None`: any, only when negated).
        status: Option<ObligationStatus>,
    },
    /// Any conflict (or none).
    Conflict {
        /// `expect no conflict`.
        negated: bool,
    },
    /// Any warning (or none).
    Warning {
        /// `expect no warning`.
        negated: bool,
    },
    /// A period of a clock has a status (and a date).
    Clock {
        /// Clock.
        clock: ClockId,
        /// 1-based period, or the latest.
        period: Option<u32>,
        /// The status expected; `None` for `not_started` (no period at all).
        status: Option<PeriodStatus>,
        /// Stop date (stopped/nullified) or start date (running/paused).
        on: Option<NaiveDate>,
    },
    /// A Bool expression, true at the as-at date.
    Holds(Expr),
}

/// A binary operator of the compiled form. The IR has its own operator type so that the model
/// does not depend on the syntax that produced it (the checker lowers `syntax::ast::BinOp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// Both operands true (short-circuits).
    And,
    /// Either operand true (short-circuits).
    Or,
    /// The left value if set, else the right.
    Coalesce,
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Addition (numbers, date + duration, durations).
    Add,
    /// Subtraction (numbers, date - duration, date - date).
    Sub,
    /// Multiplication (numbers, duration × number).
    Mul,
    /// Division.
    Div,
}

impl Expr {
    /// Calls `f` on each direct sub-expression, with `true` for a query's `where` (evaluated
    /// once per candidate event) and `false` otherwise.
    pub fn for_each_child(&self, mut f: impl FnMut(&Expr, bool)) {
        let query = |q: &Query, f: &mut dyn FnMut(&Expr, bool)| {
            if let Some(w) = q.where_.as_deref() {
                f(w, true);
            }
            if let Some(s) = q.since.as_deref() {
                f(s, false);
            }
        };
        match self {
            Expr::Const(_)
            | Expr::Param(_)
            | Expr::Def(_)
            | Expr::Now
            | Expr::EventDate(_)
            | Expr::EventField(..)
            | Expr::Attr(_)
            | Expr::Clock(..) => {}
            Expr::Query(q) | Expr::QueryField(q, _) => query(q, &mut f),
            Expr::Call(_, args) => args.iter().for_each(|a| f(a, false)),
            Expr::Not(x) | Expr::Neg(x) | Expr::IsSet(x, _) => f(x, false),
            Expr::Binary(_, a, b) => {
                f(a, false);
                f(b, false);
            }
            Expr::Within(a, b, c) | Expr::AtLeast(a, b, _, c) => {
                f(a, false);
                f(b, false);
                f(c, false);
            }
            Expr::In(x, list, _) => {
                f(x, false);
                list.iter().for_each(|e| f(e, false));
            }
            Expr::Member(x, list, _) => {
                f(x, false);
                f(list, false);
            }
        }
    }
}

impl Expr {
    /// Calls `f` with this expression and every expression inside it (query conditions
    /// included), outermost first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Const(_)
            | Expr::Param(_)
            | Expr::Def(_)
            | Expr::Now
            | Expr::EventDate(_)
            | Expr::EventField(..)
            | Expr::Attr(_)
            | Expr::Clock(..) => {}
            Expr::Query(q) | Expr::QueryField(q, _) => {
                for e in q.where_.iter().chain(q.since.iter()) {
                    e.walk(f);
                }
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Not(e) | Expr::Neg(e) | Expr::IsSet(e, _) => e.walk(f),
            Expr::Binary(_, a, b) | Expr::Member(a, b, _) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Within(a, b, c) | Expr::AtLeast(a, b, _, c) => {
                for e in [a, b, c] {
                    e.walk(f);
                }
            }
            Expr::In(e, list, _) => {
                e.walk(f);
                list.iter().for_each(|x| x.walk(f));
            }
        }
    }
}

impl Action {
    /// The expressions the action evaluates.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            Action::Start(_, e)
            | Action::Stop(_, _, e)
            | Action::Nullify(_, _, e)
            | Action::Pause(_, e)
            | Action::Resume(_, e)
            | Action::Outcome(_, e) => e.iter().collect(),
            Action::Reset(_, e) => vec![e],
            Action::Require {
                within,
                of,
                by_where,
                ..
            } => std::iter::once(within)
                .chain(of.iter())
                .chain(by_where.iter())
                .collect(),
            Action::Warn(_) => Vec::new(),
        }
    }
}

impl Policy {
    /// The parameters rule `r` reads: in its condition, its actions, its timer delay, and
    /// (transitively) the definitions those read.
    pub fn params_read(&self, r: RuleId) -> Vec<ParamId> {
        let Some(rule) = self.rules.get(r as usize) else {
            return Vec::new();
        };
        let mut roots: Vec<&Expr> = rule.when.iter().collect();
        rule.actions.iter().for_each(|a| roots.extend(a.exprs()));
        if let RuleKind::Timer { delay, .. } = &rule.kind {
            roots.push(delay);
        }
        let mut params = Vec::new();
        let mut seen_defs = vec![false; self.defs.len()];
        while let Some(e) = roots.pop() {
            e.walk(&mut |x| match x {
                Expr::Param(p) if !params.contains(p) => params.push(*p),
                Expr::Def(d) => {
                    if let Some(seen) = seen_defs.get_mut(*d as usize) {
                        if !*seen {
                            *seen = true;
                            if let Some(def) = self.defs.get(*d as usize) {
                                roots.push(&def.body);
                            }
                        }
                    }
                }
                _ => {}
            });
        }
        params
    }
}
