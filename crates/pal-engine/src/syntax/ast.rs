//! The syntax tree of a policy file. Every node carries the [`Span`] of its text.

use crate::base::source::Span;
use chrono::NaiveDate;

/// A name with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal (escapes resolved) with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The text.
    pub value: String,
    /// Where it is written, quotes included.
    pub span: Span,
}

/// One parsed `.pal` file.
#[derive(Debug, Clone, Default)]
pub struct File {
    /// `policy NAME [extends …]`, if present.
    pub header: Option<Header>,
    /// Declarations in source order.
    pub items: Vec<Item>,
}

/// `policy rde extends national`.
#[derive(Debug, Clone)]
pub struct Header {
    /// The policy's name.
    pub name: Ident,
    /// The policy it extends.
    pub extends: Option<PolicyRef>,
    /// The whole header.
    pub span: Span,
}

/// How another policy file is named: by policy name (`national` → `national.pal` beside this
/// file) or by a relative path.
#[derive(Debug, Clone)]
pub enum PolicyRef {
    /// `extends national`.
    Name(Ident),
    /// `extends "../rde.pal"`.
    Path(StrLit),
}

/// A top-level declaration.
#[derive(Debug, Clone)]
pub enum Item {
    /// `import "file.pal"`.
    Import(StrLit),
    /// `enum name { a, b }`.
    Enum(EnumDecl),
    /// `pathway { field: Type … }`.
    Pathway(PathwayDecl),
    /// `event name { field: Type … }`.
    Event(EventDecl),
    /// `clock name { target … }`.
    Clock(ClockDecl),
    /// `calendar { holidays "…" month_end clamp }`.
    Calendar(CalendarDecl),
    /// `param name: Type = value cite "…"`.
    Param(ParamDecl),
    /// `set name = value`.
    Set(SetDecl),
    /// `def name = expr`.
    Def(DefDecl),
    /// `rule …`.
    Rule(RuleDecl),
    /// `exception … to rule …`.
    Exception(ExceptionDecl),
    /// `disable rule because "…"`.
    Disable(DisableDecl),
    /// `test "…" { … }`.
    Test(TestDecl),
    /// `same_day_order { dna, discharged }`: the order of these event types on one date.
    SameDayOrder(Vec<Ident>, Span),
    /// `mapping wlmds { pathway_id from "…" … }`: how a trust's extract gives PAL's events.
    Mapping(MappingDecl),
}

impl Item {
    /// The whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(s) => s.span,
            Item::Enum(d) => d.span,
            Item::Pathway(d) => d.span,
            Item::Event(d) => d.span,
            Item::Clock(d) => d.span,
            Item::Calendar(d) => d.span,
            Item::Param(d) => d.span,
            Item::Set(d) => d.span,
            Item::Def(d) => d.span,
            Item::Rule(d) => d.span,
            Item::Exception(d) => d.span,
            Item::Disable(d) => d.span,
            Item::Test(d) => d.span,
            Item::SameDayOrder(_, span) => *span,
            Item::Mapping(d) => d.span,
        }
    }
}

/// `mapping wlmds "…" { pathway_id from "PATIENT_PATHWAY_IDENTIFIER" … }`.
#[derive(Debug, Clone)]
pub struct MappingDecl {
    /// The mapping's name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// Its entries, in source order.
    pub entries: Vec<MapEntry>,
    /// Whole declaration.
    pub span: Span,
}

/// `field priority from "PRIORITY_TYPE_CODE" { "1" => routine }`, or a core column
/// (`pathway_id`, `date`, `event`) `from "…"`.
#[derive(Debug, Clone)]
pub struct MapEntry {
    /// What the column gives.
    pub target: MapTarget,
    /// The source column's name.
    pub column: StrLit,
    /// `format "DD/MM/YYYY" or "…"`: date formats, tried in order.
    pub formats: Vec<StrLit>,
    /// `{ "CODE" => VALUE, … }`: local codes and what they mean.
    pub values: Option<ValueMap>,
    /// Whole entry.
    pub span: Span,
}

/// What a mapped column gives.
#[derive(Debug, Clone)]
pub enum MapTarget {
    /// `pathway_id`, `date` or `event` (any other bare name is reported by the checker).
    Core(Ident),
    /// `field NAME`: a field of the event types that declare it.
    Field(Ident),
}

impl MapTarget {
    /// The name written.
    pub fn ident(&self) -> &Ident {
        match self {
            MapTarget::Core(i) | MapTarget::Field(i) => i,
        }
    }
}

/// `{ "1" => routine, "2" | "02" => urgent }`.
#[derive(Debug, Clone)]
pub struct ValueMap {
    /// The arms, in source order.
    pub arms: Vec<MapArm>,
    /// From `{` to `}`.
    pub span: Span,
}

/// `"2" | "02" => urgent`.
#[derive(Debug, Clone)]
pub struct MapArm {
    /// The local codes.
    pub codes: Vec<StrLit>,
    /// What they mean: an event type (for `event`) or a value of the field's type.
    pub value: Literal,
    /// Whole arm.
    pub span: Span,
}

/// `enum appointment_kind { first, follow_up }`.
#[derive(Debug, Clone)]
pub struct EnumDecl {
    /// Enum name.
    pub name: Ident,
    /// Variants in order.
    pub variants: Vec<Ident>,
    /// Whole declaration.
    pub span: Span,
}

/// `pathway { birth_date: Date? … }`: the pathway attributes.
#[derive(Debug, Clone)]
pub struct PathwayDecl {
    /// The attributes.
    pub fields: Vec<FieldDecl>,
    /// Whole declaration.
    pub span: Span,
}

/// `event dna "…" { appointment: appointment_kind, communicated: Bool = true }`.
#[derive(Debug, Clone)]
pub struct EventDecl {
    /// Event type name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// Declared fields.
    pub fields: Vec<FieldDecl>,
    /// `..pathway`: the event carries (and updates) every pathway attribute.
    pub carries_pathway: Option<Span>,
    /// Whole declaration.
    pub span: Span,
}

/// `name: Type? = default`.
#[derive(Debug, Clone)]
pub struct FieldDecl {
    /// Field name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeRef,
    /// Default value.
    pub default: Option<Literal>,
    /// Whole declaration.
    pub span: Span,
}

/// A type as written: `Date`, `appointment_kind?`.
#[derive(Debug, Clone)]
pub struct TypeRef {
    /// Type name.
    pub name: Ident,
    /// Trailing `?`.
    pub optional: bool,
    /// Written `[name]`: a list of `name`.
    pub list: bool,
    /// Whole reference.
    pub span: Span,
}

/// `clock rtt "…" { target 18 weeks }`.
#[derive(Debug, Clone)]
pub struct ClockDecl {
    /// Clock name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// The standard, a day/week duration (literal or parameter).
    pub target: Expr,
    /// The share of periods that must be within target (`standard 92%`), for the summary.
    pub standard: Option<Expr>,
    /// `of incomplete` / `of completed`: which periods the standard measures.
    pub measured_on: Option<Ident>,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Whole declaration.
    pub span: Span,
}

/// `calendar { holidays "file.json" month_end clamp }`.
#[derive(Debug, Clone)]
pub struct CalendarDecl {
    /// Bank-holiday file (gov.uk JSON shape), relative to this policy file.
    pub holidays: Option<StrLit>,
    /// Month-end rule name (`clamp` or `roll_forward`).
    pub month_end: Option<Ident>,
    /// Whole declaration.
    pub span: Span,
}

/// `param reasonable_notice: Duration = 3 weeks cite "10.2.1"`.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    /// Parameter name.
    pub name: Ident,
    /// Declared type.
    pub ty: TypeRef,
    /// Value, possibly dated.
    pub value: ParamValue,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Whole declaration.
    pub span: Span,
}

/// `= 75, 80 from 2026-03-01`: a value and later values effective from dates.
#[derive(Debug, Clone)]
pub struct ParamValue {
    /// The value before any dated change.
    pub initial: Expr,
    /// `(from, value)` in source order.
    pub dated: Vec<(NaiveDate, Span, Expr)>,
    /// The whole value.
    pub span: Span,
}

/// `set name = value cite "…"`: overrides an inherited parameter.
#[derive(Debug, Clone)]
pub struct SetDecl {
    /// Parameter name.
    pub name: Ident,
    /// New value.
    pub value: ParamValue,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Whole declaration.
    pub span: Span,
}

/// `def child = …`: a named Bool (or other) expression.
#[derive(Debug, Clone)]
pub struct DefDecl {
    /// Name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// Body.
    pub body: Expr,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Whole declaration.
    pub span: Span,
}

/// What makes a rule fire.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// `on dna or attended`.
    On(Vec<Ident>),
    /// `after 14 days from patient_undecided unless decision_to_treat or …`.
    After {
        /// The delay.
        delay: Expr,
        /// The arming event.
        from: Ident,
        /// Events that cancel a pending timer.
        unless: Vec<Ident>,
    },
}

/// `rule name "…" on … when … cite "…" { … }`.
#[derive(Debug, Clone)]
pub struct RuleDecl {
    /// Rule name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// Trigger.
    pub trigger: Trigger,
    /// Span of the trigger clause.
    pub trigger_span: Span,
    /// Guard.
    pub when: Option<Expr>,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Actions.
    pub actions: Vec<Action>,
    /// Whole declaration.
    pub span: Span,
}

/// `exception name "…" to rule [on …] when … cite "…" { … }`.
#[derive(Debug, Clone)]
pub struct ExceptionDecl {
    /// Exception name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<StrLit>,
    /// The rule (or exception) it overrides.
    pub target: Ident,
    /// An optional restated trigger (must match the rule's).
    pub on: Option<Vec<Ident>>,
    /// Guard.
    pub when: Option<Expr>,
    /// Citations.
    pub cite: Vec<StrLit>,
    /// Replacement actions.
    pub actions: Vec<Action>,
    /// Whole declaration.
    pub span: Span,
}

/// `disable rule because "…"`.
#[derive(Debug, Clone)]
pub struct DisableDecl {
    /// The rule or exception switched off.
    pub target: Ident,
    /// Why.
    pub because: Option<StrLit>,
    /// Whole declaration.
    pub span: Span,
}

/// An action in a rule's block.
#[derive(Debug, Clone)]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// The action's text.
    pub span: Span,
}

/// The kinds of action.
#[derive(Debug, Clone)]
pub enum ActionKind {
    /// `start clock [on date]`.
    Start {
        /// Clock.
        clock: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `stop clock reason r [on date]`.
    Stop {
        /// Clock.
        clock: Ident,
        /// Stop reason.
        reason: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `nullify clock reason r [on date]`.
    Nullify {
        /// Clock.
        clock: Ident,
        /// Reason.
        reason: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `reset clock to date`: moves the running period's start.
    Reset {
        /// Clock.
        clock: Ident,
        /// New start.
        to: Expr,
    },
    /// `pause clock [on date]`.
    Pause {
        /// Clock.
        clock: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `resume clock [on date]`.
    Resume {
        /// Clock.
        clock: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `outcome name [on date]`.
    Outcome {
        /// Outcome name.
        name: Ident,
        /// Date (default: now).
        on: Option<Expr>,
    },
    /// `require what within D [of date] [by e1 or e2 [where cond]]`.
    Require(Box<RequireAction>),
    /// `warn "text"`: a data-quality warning on the pathway.
    Warn(StrLit),
}

/// The parts of a `require` action.
#[derive(Debug, Clone)]
pub struct RequireAction {
    /// What is required (an event type, or a name met `by` events).
    pub what: Ident,
    /// How long.
    pub within: Expr,
    /// From when (default: now).
    pub of: Option<Expr>,
    /// Events that meet it (default: the event type `what`).
    pub by: Vec<Ident>,
    /// Condition on the meeting event.
    pub by_where: Option<Expr>,
}

/// `test "name" { … }`.
#[derive(Debug, Clone)]
pub struct TestDecl {
    /// Test name.
    pub name: StrLit,
    /// Steps in order.
    pub steps: Vec<TestStep>,
    /// Whole declaration.
    pub span: Span,
}

/// One line of a test block.
#[derive(Debug, Clone)]
pub enum TestStep {
    /// `pathway { attr: value }`.
    Pathway(Vec<RecordField>, Span),
    /// `2025-01-06 referral_received { … }`.
    Event(TestEvent),
    /// `set param = value`.
    Set(Ident, ParamValue, Span),
    /// `as at 2025-03-31`.
    AsAt(NaiveDate, Span),
    /// `expect …`.
    Expect(Expectation),
}

/// An event written in a test or REPL line.
#[derive(Debug, Clone)]
pub struct TestEvent {
    /// Its date.
    pub date: NaiveDate,
    /// Event type.
    pub kind: Ident,
    /// Fields given.
    pub fields: Vec<RecordField>,
    /// Whole line.
    pub span: Span,
}

/// `name: literal` inside `{ … }` of a test event.
#[derive(Debug, Clone)]
pub struct RecordField {
    /// Field name.
    pub name: Ident,
    /// Value.
    pub value: Literal,
}

/// An `expect` line.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// What is expected.
    pub kind: ExpectKind,
    /// Whole line.
    pub span: Span,
}

/// The kinds of expectation.
#[derive(Debug, Clone)]
pub enum ExpectKind {
    /// `expect [no] outcome name [cite "…"]`.
    Outcome {
        /// `no`.
        negated: bool,
        /// Outcome name.
        name: Ident,
        /// Expected citation(s).
        cite: Vec<StrLit>,
    },
    /// `expect obligation name met|missed|open`, `expect no obligation name [status]`.
    Obligation {
        /// `no`: no obligation of this name (with this status) exists.
        negated: bool,
        /// Obligation name (`what`).
        name: Ident,
        /// Expected status (required unless `negated`).
        status: Option<Ident>,
    },
    /// `expect [no] conflict`.
    Conflict {
        /// `no`.
        negated: bool,
    },
    /// `expect [no] warning`.
    Warning {
        /// `no`.
        negated: bool,
    },
    /// `expect rtt [period 2] running [on 2025-01-01]`.
    Clock {
        /// Clock.
        clock: Ident,
        /// 1-based period (default: latest).
        period: Option<(u32, Span)>,
        /// Expected status (`running`, `paused`, `stopped`, `nullified`, `not_started`).
        status: Ident,
        /// For stopped/nullified: the stop date; for running/paused: the start date.
        on: Option<NaiveDate>,
    },
    /// `expect <Bool expression>` evaluated at the as-at date.
    Expr(Expr),
}

/// A literal in a default, record or enum position.
#[derive(Debug, Clone)]
pub struct Literal {
    /// Its value.
    pub kind: LiteralKind,
    /// Where.
    pub span: Span,
}

/// Literal forms.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    /// `true`/`false`.
    Bool(bool),
    /// `42`, `-1`.
    Int(i64),
    /// `2025-01-06`.
    Date(NaiveDate),
    /// `3 weeks`.
    Duration(crate::base::value::Duration),
    /// `"text"`.
    Str(String),
    /// An enum variant, bare (`first`) or qualified (`appointment_kind.first`).
    Name(Option<String>, String),
}

/// An expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// Its form.
    pub kind: ExprKind,
    /// Its text.
    pub span: Span,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `??`: the left value if set, else the right.
    Coalesce,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Coalesce => "??",
        }
    }
}

/// Expression forms.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal.
    Lit(LiteralKind),
    /// A bare name: parameter, def, clock, enum variant, `event`, `pathway`, `now`.
    Name(String),
    /// `x.field`.
    Field(Box<Expr>, Ident),
    /// `f(args)` or `x.f(args)` (the receiver is the first argument).
    Call(Call),
    /// `not x`.
    Not(Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a within D of b` ⇔ `b <= a <= b + D`.
    Within {
        /// The date tested.
        value: Box<Expr>,
        /// The window.
        window: Box<Expr>,
        /// The window's start.
        of: Box<Expr>,
    },
    /// `a at least D before b` ⇔ `a + D <= b`; `after` ⇔ `b + D <= a`.
    AtLeast {
        /// The date tested.
        value: Box<Expr>,
        /// The gap.
        gap: Box<Expr>,
        /// `before` (true) or `after` (false).
        before: bool,
        /// The reference date.
        reference: Box<Expr>,
    },
    /// `x is set` / `x is not set`.
    IsSet(Box<Expr>, bool),
    /// `x in [a, b]` / `x not in [a, b]`.
    In(Box<Expr>, Vec<Expr>, bool),
    /// `x in list` / `x not in list`: membership of a list-typed name.
    Member(Box<Expr>, Box<Expr>, bool),
    /// `[a, b]`: a list literal (a list parameter's value).
    List(Vec<Expr>),
}

/// A function call with optional query clauses.
#[derive(Debug, Clone)]
pub struct Call {
    /// Function name.
    pub func: Ident,
    /// Positional arguments.
    pub args: Vec<Expr>,
    /// `where cond` (history queries).
    pub where_: Option<Box<Expr>>,
    /// `since date` (history queries).
    pub since: Option<Box<Expr>>,
    /// `among e1, e2` (consecutive).
    pub among: Vec<Ident>,
}

impl Expr {
    /// Calls `f` with every bare name the expression reads (`protected`, `child_age`, a
    /// variant written alone), outermost first. Names of fields and functions are not included.
    pub fn for_each_name(&self, f: &mut dyn FnMut(&str, Span)) {
        match &self.kind {
            ExprKind::Name(n) | ExprKind::Lit(LiteralKind::Name(None, n)) => f(n, self.span),
            ExprKind::Lit(_) => {}
            ExprKind::Field(e, _) | ExprKind::Not(e) | ExprKind::Neg(e) | ExprKind::IsSet(e, _) => {
                e.for_each_name(f)
            }
            ExprKind::Binary(_, a, b) | ExprKind::Member(a, b, _) => {
                a.for_each_name(f);
                b.for_each_name(f);
            }
            ExprKind::Within { value, window, of } => {
                for e in [value, window, of] {
                    e.for_each_name(f);
                }
            }
            ExprKind::AtLeast {
                value,
                gap,
                reference,
                ..
            } => {
                for e in [value, gap, reference] {
                    e.for_each_name(f);
                }
            }
            ExprKind::In(e, list, _) => {
                e.for_each_name(f);
                list.iter().for_each(|x| x.for_each_name(f));
            }
            ExprKind::List(items) => items.iter().for_each(|x| x.for_each_name(f)),
            ExprKind::Call(c) => {
                c.args.iter().for_each(|x| x.for_each_name(f));
                for e in c.where_.iter().chain(c.since.iter()) {
                    e.for_each_name(f);
                }
            }
        }
    }

    /// Depth of the expression tree (a leaf is 1).
    pub fn depth(&self) -> usize {
        1 + match &self.kind {
            ExprKind::Lit(_) | ExprKind::Name(_) => 0,
            ExprKind::Field(e, _) | ExprKind::Not(e) | ExprKind::Neg(e) | ExprKind::IsSet(e, _) => {
                e.depth()
            }
            ExprKind::Binary(_, a, b) => a.depth().max(b.depth()),
            ExprKind::Within { value, window, of } => {
                value.depth().max(window.depth()).max(of.depth())
            }
            ExprKind::AtLeast {
                value,
                gap,
                reference,
                ..
            } => value.depth().max(gap.depth()).max(reference.depth()),
            ExprKind::In(e, list, _) => list.iter().map(Expr::depth).fold(e.depth(), usize::max),
            ExprKind::Member(e, list, _) => e.depth().max(list.depth()),
            ExprKind::List(items) => items.iter().map(Expr::depth).max().unwrap_or(0),
            ExprKind::Call(c) => c
                .args
                .iter()
                .chain(c.where_.as_deref())
                .chain(c.since.as_deref())
                .map(Expr::depth)
                .max()
                .unwrap_or(0),
        }
    }
}
