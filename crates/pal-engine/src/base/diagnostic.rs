//! The one diagnostic type of the front end: a stable code, a severity, a message, labelled
//! spans (possibly in several files) and an optional help line. Renderers live in `render`.

use crate::base::source::Span;
use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A lint: the policy still runs.
    Warning,
    /// The policy cannot be compiled.
    Error,
}

/// A span with a short message under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there (may be empty).
    pub message: String,
    /// The primary label is the one the short form's `file:line:col` points at.
    pub primary: bool,
}

/// One finding about a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code such as `E0102` (see [`CODES`]).
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One lowercase sentence; user input in backticks.
    pub message: String,
    /// The first label is primary; others add context, possibly in other files.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// Further notes (e.g. "imported from …").
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic of `code`, whose severity comes from the code's registry entry.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds the primary label.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.insert(
            0,
            Label {
                span,
                message: message.into(),
                primary: true,
            },
        );
        self
    }

    /// Adds a secondary label.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
            .map(|l| l.span)
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A stable diagnostic code: `E0xxx` errors, `W0xxx` warnings. Never renumber, only add; each
/// has an entry in [`CODES`] (a test holds that every variant has one, and a fixture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// `E0001`: see [`CODES`].
    E0001,
    /// `E0002`: see [`CODES`].
    E0002,
    /// `E0003`: see [`CODES`].
    E0003,
    /// `E0004`: see [`CODES`].
    E0004,
    /// `E0005`: see [`CODES`].
    E0005,
    /// `E0101`: see [`CODES`].
    E0101,
    /// `E0102`: see [`CODES`].
    E0102,
    /// `E0103`: see [`CODES`].
    E0103,
    /// `E0104`: see [`CODES`].
    E0104,
    /// `E0105`: see [`CODES`].
    E0105,
    /// `E0106`: see [`CODES`].
    E0106,
    /// `E0107`: see [`CODES`].
    E0107,
    /// `E0108`: see [`CODES`].
    E0108,
    /// `E0109`: see [`CODES`].
    E0109,
    /// `E0110`: see [`CODES`].
    E0110,
    /// `E0111`: see [`CODES`].
    E0111,
    /// `E0112`: see [`CODES`].
    E0112,
    /// `E0201`: see [`CODES`].
    E0201,
    /// `E0202`: see [`CODES`].
    E0202,
    /// `E0203`: see [`CODES`].
    E0203,
    /// `E0204`: see [`CODES`].
    E0204,
    /// `E0205`: see [`CODES`].
    E0205,
    /// `E0206`: see [`CODES`].
    E0206,
    /// `E0207`: see [`CODES`].
    E0207,
    /// `E0208`: see [`CODES`].
    E0208,
    /// `E0209`: see [`CODES`].
    E0209,
    /// `E0301`: see [`CODES`].
    E0301,
    /// `E0302`: see [`CODES`].
    E0302,
    /// `E0303`: see [`CODES`].
    E0303,
    /// `E0304`: see [`CODES`].
    E0304,
    /// `E0401`: see [`CODES`].
    E0401,
    /// `E0402`: see [`CODES`].
    E0402,
    /// `E0403`: see [`CODES`].
    E0403,
    /// `W0001`: see [`CODES`].
    W0001,
    /// `W0002`: see [`CODES`].
    W0002,
    /// `W0003`: see [`CODES`].
    W0003,
    /// `W0004`: see [`CODES`].
    W0004,
    /// `W0005`: see [`CODES`].
    W0005,
    /// `W0006`: see [`CODES`].
    W0006,
    /// `W0007`: see [`CODES`].
    W0007,
    /// `W0008`: see [`CODES`].
    W0008,
    /// `W0009`: see [`CODES`].
    W0009,
}

impl Code {
    /// Every code, in order.
    pub const ALL: &'static [Code] = &[
        Code::E0001,
        Code::E0002,
        Code::E0003,
        Code::E0004,
        Code::E0005,
        Code::E0101,
        Code::E0102,
        Code::E0103,
        Code::E0104,
        Code::E0105,
        Code::E0106,
        Code::E0107,
        Code::E0108,
        Code::E0109,
        Code::E0110,
        Code::E0111,
        Code::E0112,
        Code::E0201,
        Code::E0202,
        Code::E0203,
        Code::E0204,
        Code::E0205,
        Code::E0206,
        Code::E0207,
        Code::E0208,
        Code::E0209,
        Code::E0301,
        Code::E0302,
        Code::E0303,
        Code::E0304,
        Code::E0401,
        Code::E0402,
        Code::E0403,
        Code::W0001,
        Code::W0002,
        Code::W0003,
        Code::W0004,
        Code::W0005,
        Code::W0006,
        Code::W0007,
        Code::W0008,
        Code::W0009,
    ];

    /// The code as written, e.g. `E0102`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0003 => "E0003",
            Code::E0004 => "E0004",
            Code::E0005 => "E0005",
            Code::E0101 => "E0101",
            Code::E0102 => "E0102",
            Code::E0103 => "E0103",
            Code::E0104 => "E0104",
            Code::E0105 => "E0105",
            Code::E0106 => "E0106",
            Code::E0107 => "E0107",
            Code::E0108 => "E0108",
            Code::E0109 => "E0109",
            Code::E0110 => "E0110",
            Code::E0111 => "E0111",
            Code::E0112 => "E0112",
            Code::E0201 => "E0201",
            Code::E0202 => "E0202",
            Code::E0203 => "E0203",
            Code::E0204 => "E0204",
            Code::E0205 => "E0205",
            Code::E0206 => "E0206",
            Code::E0207 => "E0207",
            Code::E0208 => "E0208",
            Code::E0209 => "E0209",
            Code::E0301 => "E0301",
            Code::E0302 => "E0302",
            Code::E0303 => "E0303",
            Code::E0304 => "E0304",
            Code::E0401 => "E0401",
            Code::E0402 => "E0402",
            Code::E0403 => "E0403",
            Code::W0001 => "W0001",
            Code::W0002 => "W0002",
            Code::W0003 => "W0003",
            Code::W0004 => "W0004",
            Code::W0005 => "W0005",
            Code::W0006 => "W0006",
            Code::W0007 => "W0007",
            Code::W0008 => "W0008",
            Code::W0009 => "W0009",
        }
    }

    /// Errors stop a policy from compiling; warnings (lints) do not.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The registry entry: title, explanation, example.
    pub fn info(self) -> Option<&'static CodeInfo> {
        CODES.iter().find(|c| c.code == self)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One entry of the diagnostic code registry, shown by `pal explain-code`.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The code, e.g. `E0102`.
    pub code: Code,
    /// A short title.
    pub title: &'static str,
    /// A few sentences of explanation.
    pub explanation: &'static str,
    /// A small policy fragment that triggers it.
    pub example: &'static str,
    /// The same fragment, put right.
    pub fix: &'static str,
}

/// Looks up a code written as text, case-insensitively (`pal explain-code e0102`).
pub fn code_info(code: &str) -> Option<&'static CodeInfo> {
    CODES
        .iter()
        .find(|c| c.code.as_str().eq_ignore_ascii_case(code))
}

/// Every diagnostic code PAL can emit. Codes are stable: never renumber, only add.
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: Code::E0001,
        title: "syntax error",
        explanation: "The text does not follow PAL's grammar at this point. The message says what \
was expected there; the most common causes are a missing `{`/`}`, a duration without a unit \
(`3` instead of `3 weeks`) or a keyword used as a name.",
        example: "rule r on dna cite \"9.12.1\" {\n  nullify rtt reason\n}",
        fix: "rule r on dna cite \"9.12.1\" {\n  nullify rtt reason dna_first_appointment\n}",
    },
    CodeInfo {
        code: Code::E0002,
        title: "file is not UTF-8 text",
        explanation: "Policy files must be UTF-8 text. The file contains bytes that are not valid \
UTF-8 (or NUL bytes), which usually means it is a binary file or was saved in another encoding.",
        example: "(a .pal file saved as UTF-16 or containing binary data)",
        fix: "(the same file saved as UTF-8 text)",
    },
    CodeInfo {
        code: Code::E0003,
        title: "file cannot be read",
        explanation: "A file named on the command line, or by `import`/`extends`, does not exist or \
cannot be read. Paths in `import` and `extends` are relative to the file that names them.",
        example: "import \"national/cancer.pal\"   // no such file beside this one",
        fix: "import \"national/cancer.pal\"   // the path, relative to this file, of a file that exists",
    },
    CodeInfo {
        code: Code::E0004,
        title: "nesting too deep",
        explanation: "Expressions or blocks are nested more deeply than PAL allows (a guard against \
runaway input). Split the condition with `def` definitions.",
        example: "when ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))",
        fix: "def eligible = age(pathway.birth_date, now) < child_age\nrule r on referral_received when eligible cite \"9.12.3\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0005,
        title: "file outside the policy path",
        explanation: "A policy may `import`, `extend` and name bank-holiday files only under the \
root policy's folder (the folder of the file named on the command line, or the directory being \
checked) and the folders named with `--policy-path DIR`. Anything else, including a symbolic \
link leading outside them, is refused before it is opened, so a policy cannot read or show \
other files. A file reached through `import`/`extends` that is not valid policy text is reported \
without its content.",
        example: "import \"/etc/passwd\"",
        fix: "import \"national/schema.pal\"   // under the policy's folder, or run with --policy-path",
    },
    CodeInfo {
        code: Code::E0101,
        title: "unknown event type",
        explanation: "The name is not an event type declared in the policy's schema (the national \
schema or an `event` declaration in one of the policy's files).",
        example: "rule r on dnaa cite \"9.12.1\" { outcome review }",
        fix: "rule r on dna cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0102,
        title: "unknown field",
        explanation: "The event type (or the pathway) has no field of this name. Fields are declared \
in `event` and `pathway` blocks of the schema.",
        example: "rule r on dna when event.knid == first cite \"9.12.1\" { outcome review }",
        fix: "rule r on dna when event.appointment == first cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0103,
        title: "unknown enum value",
        explanation: "The value is not one of the variants of the enum being compared against.",
        example: "rule r on dna when event.appointment == frist cite \"9.12.1\" { outcome review }",
        fix: "rule r on dna when event.appointment == first cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0104,
        title: "unknown clock",
        explanation: "Clocks are declared with `clock NAME { target … }`; actions and expressions \
can only name declared clocks.",
        example: "rule r on dna cite \"9.12.1\" { nullify rt reason dna }",
        fix: "rule r on dna cite \"9.12.1\" { nullify rtt reason dna }",
    },
    CodeInfo {
        code: Code::E0105,
        title: "unknown parameter",
        explanation: "`set` names a parameter that no file of the policy declares.",
        example: "set reasonable_notise = 3 weeks",
        fix: "set reasonable_notice = 3 weeks",
    },
    CodeInfo {
        code: Code::E0106,
        title: "unknown rule",
        explanation: "An `exception … to RULE`, `disable RULE` or test expectation names a rule \
that is not declared in the policy or the policies it extends.",
        example: "exception e to first_apointment_dna when true cite \"9.12.3\" { outcome review }",
        fix: "exception e to first_appointment_dna when true cite \"9.12.3\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0107,
        title: "unknown name",
        explanation: "A name in an expression is not a parameter, definition, clock, enum value or \
one of the built-in names (`event`, `pathway`, `now`).",
        example: "rule r on dna when cancelation_limit > 2 cite \"9.10.2\" { outcome review }",
        fix: "rule r on dna when cancellation_limit > 2 cite \"9.10.2\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0108,
        title: "unknown type",
        explanation: "A field or parameter is declared with a type that is neither built in \
(`Bool`, `Int`, `Date`, `Duration`, `String`) nor a declared enum; or an event field or pathway \
attribute is declared as a list (`[T]` is a parameter type only).",
        example: "param limit: Integer = 2 cite \"9.10.2\"",
        fix: "param limit: Int = 2 cite \"9.10.2\"",
    },
    CodeInfo {
        code: Code::E0109,
        title: "unknown function",
        explanation: "The called function is not one of PAL's built-ins: `count`, `exists`, \
`consecutive`, `last`, `first`, `age`, `working_days`, `days_between`, `min`, `max`, \
`month_start`, `month_end`, `same_month`.",
        example: "rule r on dna when cnt(dna) >= 2 cite \"9.13.1\" { outcome review }",
        fix: "rule r on dna when count(dna) >= 2 cite \"9.13.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0110,
        title: "duplicate declaration",
        explanation: "Two declarations of the same kind share a name (in one file, or across files \
that import one another). To change an inherited parameter use `set`; to replace an inherited \
rule, `disable` it and declare a new one, or add an `exception`. A definition may not take the \
name of an enum or enum value (a bare name must mean one thing), and an event type has one place \
in the `same_day_order`.",
        example: "param limit: Int = 2 cite \"9.10.2\"\nparam limit: Int = 3 cite \"9.10.2\"",
        fix: "param limit: Int = 2 cite \"9.10.2\"\nset limit = 3   // a trust changes an inherited value with `set`",
    },
    CodeInfo {
        code: Code::E0111,
        title: "cyclic import or extends",
        explanation: "Files import or extend one another in a cycle. A policy's files must form a \
tree: the national rules at the root, local variations on top.",
        example: "// a.pal\nimport \"b.pal\"\n// b.pal\nimport \"a.pal\"",
        fix: "// a.pal\nimport \"b.pal\"\n// b.pal: imports only what it builds on, never a.pal",
    },
    CodeInfo {
        code: Code::E0112,
        title: "definitions that read each other",
        explanation: "A definition's value is computed from the definitions it reads, so a chain of \
definitions that comes back to where it started has no value. Definitions may be declared in \
any order; they may not depend on themselves.",
        example: "def protected = vulnerable_or_child\ndef vulnerable_or_child = pathway.vulnerable or protected",
        fix: "def child = pathway.birth_date is set and age(pathway.birth_date, now) < 18\ndef protected = pathway.vulnerable or child",
    },
    CodeInfo {
        code: Code::E0201,
        title: "type mismatch",
        explanation: "An operand has a different type from the one required here, such as \
comparing a Date with a Duration or adding two dates.",
        example: "rule r on dna when event.date > 3 weeks cite \"9.12.1\" { outcome review }",
        fix: "rule r on dna when event.date > now - 3 weeks cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0202,
        title: "condition is not a Bool",
        explanation: "`when` conditions, `expect` expressions and the operands of `and`/`or`/`not` \
must be true-or-false.",
        example: "rule r on dna when event.date cite \"9.12.1\" { outcome review }",
        fix: "rule r on dna when event.date < now cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0203,
        title: "optional value used without a guard",
        explanation: "The field is optional (declared `T?`), so it may be absent. Check it first \
with `X is set and …`, or give a fallback with `X ?? default`.",
        example: "rule r on referral_received when age(pathway.birth_date, now) < 18 cite \"9.12.3\" { outcome review }",
        fix: "rule r on referral_received when pathway.birth_date is set and age(pathway.birth_date, now) < 18 cite \"9.12.3\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0204,
        title: "durations of different kinds",
        explanation: "Calendar months and working days are not a fixed number of days, so they \
cannot be compared with or added to day/week durations. Compare dates instead: \
`event.date + 3 months < now`.",
        example: "rule r on dna when now - event.date > 3 months cite \"x\" { outcome review }",
        fix: "rule r on dna when now - event.date > 90 days cite \"x\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0205,
        title: "parameter set to a value of the wrong type",
        explanation: "`set` must give a parameter a value of its declared type.",
        example: "param limit: Int = 2 cite \"9.10.2\"\nset limit = 3 weeks",
        fix: "param limit: Int = 2 cite \"9.10.2\"\nset limit = 3",
    },
    CodeInfo {
        code: Code::E0206,
        title: "wrong arguments to a function",
        explanation: "The built-in function was called with the wrong number or kind of arguments, \
or history queries are nested more than 4 deep.",
        example: "rule r on dna when working_days(now) > 5 cite \"9.7.1\" { outcome review }",
        fix: "rule r on dna when working_days(event.date, now) > 5 cite \"9.7.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0207,
        title: "ambiguous enum value",
        explanation: "The bare name is a value of several enums and nothing around it says which. \
Compare it with a field (`event.appointment == first`) or qualify it (`appointment.first`).",
        example: "def x = first",
        fix: "def x = appointment_kind.first",
    },
    CodeInfo {
        code: Code::E0208,
        title: "`event` used where there is no event",
        explanation: "`event` refers to the event that triggered a rule (or armed a timer). \
Definitions (`def`) and test expectations have no triggering event; use `now` for the date.",
        example: "def late = event.date > 2025-01-01",
        fix: "rule late on dna when event.date > 2025-01-01 cite \"x\" { outcome review }",
    },
    CodeInfo {
        code: Code::E0209,
        title: "too costly to evaluate",
        explanation: "Evaluating the expression would recurse too deeply (a long chain of \
definitions, each naming the one before), or it nests queries that read an enclosing query's \
event inside one another. Such a query is evaluated once per candidate of the enclosing one, so \
each level multiplies the work by the pathway's length; two levels are allowed. Compute the \
value in fewer steps, or compare with the triggering `event` instead.",
        example: "def n = count(dna where exists(attended where attended.date > dna.date and exists(dna where dna.date > attended.date and exists(attended where attended.date > dna.date))))",
        fix: "def n = count(dna where exists(attended where attended.date > dna.date and exists(dna where dna.date > attended.date)))",
    },
    CodeInfo {
        code: Code::E0301,
        title: "exception incompatible with its rule",
        explanation: "An exception replaces the actions of the rule it names, for the same \
triggering event. It may not name a different trigger (`on`/`after`) from its rule.",
        example: "rule r on dna cite \"9.12.1\" { outcome review }\nexception e to r on attended when true cite \"9.12.3\" { outcome rebook }",
        fix: "rule r on dna cite \"9.12.1\" { outcome review }\nexception e to r when event.appointment == first cite \"9.12.3\" { outcome rebook }",
    },
    CodeInfo {
        code: Code::E0302,
        title: "invalid action",
        explanation: "An action is not valid here, e.g. a clock target that is not a number of days \
or weeks, or `stop` without a reason.",
        example: "clock rtt { target 3 months }",
        fix: "clock rtt { target 18 weeks }",
    },
    CodeInfo {
        code: Code::E0303,
        title: "obligation cannot be met",
        explanation: "`require NAME within …` is met by a later event. NAME must be an event type, \
or the obligation must say which events meet it with `by EVENT`.",
        example: "rule r on dna cite \"9.12.5\" { require review within 2 weeks }",
        fix: "rule r on dna cite \"9.12.5\" { require appointment_booked within 2 weeks of event.date }",
    },
    CodeInfo {
        code: Code::E0304,
        title: "invalid test",
        explanation: "A `test` block has an event or expectation that does not fit the schema, \
e.g. an event dated after `as at`, an expectation about an unknown clock, or about an outcome or \
obligation no rule of the policy produces (`expect no outcome rebok` would pass whatever happens).",
        example: "test \"t\" { 2025-01-06 referral_received {} as at 2024-01-01 expect rtt running }",
        fix: "test \"t\" { 2025-01-06 referral_received {} as at 2025-03-31 expect rtt running }",
    },
    CodeInfo {
        code: Code::E0401,
        title: "invalid input mapping",
        explanation: "A `mapping` declaration says how a trust's own extract gives PAL's events: \
which column gives the pathway id, the date and the event type (`pathway_id from \"…\"`, \
`date from \"…\"`, `event from \"…\"`), and which give fields (`field NAME from \"…\"`). \
Each of the three core columns must be named, and only they are written without `field`.",
        example: "mapping pas {\n  pathway_id from \"PATIENT_PATHWAY_IDENTIFIER\"\n  event from \"ACTIVITY\"\n}",
        fix: "mapping pas {\n  pathway_id from \"PATIENT_PATHWAY_IDENTIFIER\"\n  date from \"ACTIVITY_DATE\" format \"DD/MM/YYYY\"\n  event from \"ACTIVITY\"\n}",
    },
    CodeInfo {
        code: Code::E0402,
        title: "mapped twice",
        explanation: "A mapping gives each column of PAL's shape once, and a value map gives each \
local code one meaning. A code listed in two arms (or a field mapped from two columns) would \
make the reading depend on which one wins.",
        example: "field priority from \"PRIORITY_TYPE_CODE\" { \"1\" => routine, \"1\" => urgent }",
        fix: "field priority from \"PRIORITY_TYPE_CODE\" { \"1\" => routine, \"2\" => urgent }",
    },
    CodeInfo {
        code: Code::E0403,
        title: "date format not understood",
        explanation: "A mapping's `format` says how a PAS writes its dates, from the tokens `YYYY` \
(four-digit year), `MM`/`M` (month, two digits / one or two), `DD`/`D` (day), and for a time part \
`hh`, `mm`, `ss` and `fff` (fractions of a second; the time is checked and ignored). Other \
characters that are not letters stand for themselves. Several formats are tried in order: \
`format \"DD/MM/YYYY hh:mm\" or \"DD/MM/YYYY\"`.",
        example: "date from \"ACTIVITY_DATE\" format \"dd/mm/yy\"",
        fix: "date from \"ACTIVITY_DATE\" format \"DD/MM/YYYY\"",
    },
    CodeInfo {
        code: Code::W0001,
        title: "missing citation",
        explanation: "Every rule, exception and parameter should cite the policy paragraph it \
implements (`cite \"9.12.1\"`). The citation travels into every outcome and trace, so a PTL \
validator can check the result against the policy text.",
        example: "rule r on dna { outcome review }",
        fix: "rule r on dna cite \"9.12.1\" { outcome review }",
    },
    CodeInfo {
        code: Code::W0002,
        title: "unused parameter",
        explanation: "The parameter is declared but no rule, definition, clock or other parameter \
uses it. Remove it, or use it where the policy text intends.",
        example: "param unused_limit: Int = 2 cite \"9.10.2\"",
        fix: "param limit: Int = 2 cite \"9.10.2\"\nrule r on patient_cancelled when count(patient_cancelled) >= limit cite \"9.10.2\" { outcome review }",
    },
    CodeInfo {
        code: Code::W0003,
        title: "unreachable exception",
        explanation: "The exception can never apply: its condition is always false, it contradicts \
the condition of the rule it overrides, or that rule is disabled in the same file. (Disabling an \
inherited rule takes its inherited exceptions with it; those are not reported.)",
        example: "rule r on dna when event.appointment == first cite \"9.12.1\" { outcome discharge }\nexception e to r when event.appointment == follow_up cite \"9.13.1\" { outcome rebook }",
        fix: "rule r on dna when event.appointment == first cite \"9.12.1\" { outcome discharge }\nexception e to r when pathway.vulnerable cite \"9.12.3\" { outcome rebook }",
    },
    CodeInfo {
        code: Code::W0004,
        title: "possible conflict",
        explanation: "Two rules act on the same clock for the same event, neither is an exception \
to the other, and their conditions do not exclude each other. If both fire, the result reports a \
conflict and applies neither clock action. Make one an `exception` to the other, or make their \
conditions exclusive.",
        example: "rule a on dna cite \"9.12.1\" { nullify rtt reason dna }\nrule b on dna cite \"9.13.1\" { stop rtt reason discharged }",
        fix: "rule a on dna cite \"9.12.1\" { nullify rtt reason dna }\nexception b to a when event.appointment == follow_up cite \"9.13.1\" { stop rtt reason discharged }",
    },
    CodeInfo {
        code: Code::W0005,
        title: "timer can never fire",
        explanation: "The timer's condition is always false, or the event that arms it also \
cancels it.",
        example: "rule t after 14 days from patient_undecided unless patient_undecided cite \"10.1.6\" { outcome review }",
        fix: "rule t after 14 days from patient_undecided unless decision_to_treat cite \"10.1.6\" { outcome review }",
    },
    CodeInfo {
        code: Code::W0006,
        title: "disable without a reason",
        explanation: "Switching off an inherited rule is a policy decision that reviewers need to \
understand: say why with `because \"…\"`.",
        example: "disable rebook_after_first_dna",
        fix: "disable rebook_after_first_dna because \"9.12.1: only a new referral starts a new clock\"",
    },
    CodeInfo {
        code: Code::W0007,
        title: "rule not exercised by any test",
        explanation: "No `test` block makes this rule, exception or timer fire. The tests that count \
are those in the `.pal` files under the folder of the file that declares the rule (recursively), \
whichever paths are checked; a rule is reported only when some test there runs against its file. Add a \
scenario that does, so a change to the rule is caught.",
        example: "rule r on dna cite \"9.12.1\" { outcome review }   // and no test with a dna",
        fix: "test \"a dna is reviewed\" { 2025-01-06 referral_received {} 2025-02-03 dna { appointment: first } expect outcome review }",
    },
    CodeInfo {
        code: Code::W0008,
        title: "suppression that silences nothing",
        explanation: "A `// pal: allow(NAME)` comment silences lint NAME for the item it stands on \
or above. This one names no lint (the names are listed by `pal explain-code` for each W code), \
or the lint it names reports nothing on that item, so the comment can go. Suppressions that \
no longer do anything hide the next real finding on that item.",
        example: "// pal: allow(possible-conflict)\nparam notice: Duration = 3 weeks cite \"3.34\"",
        fix: "param notice: Duration = 3 weeks cite \"3.34\"   // no suppression where nothing needs silencing",
    },
    CodeInfo {
        code: Code::W0009,
        title: "rule without an action",
        explanation: "A rule or timer with an empty body does nothing when it fires: usually an \
action was forgotten. (An exception may have an empty body: that is how a policy says the rule \
it excepts does not apply.)",
        example: "rule r on dna when event.appointment == first cite \"9.12.1\" { }",
        fix: "rule r on dna when event.appointment == first cite \"9.12.1\" { nullify rtt reason dna_first_appointment }",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_registry_entry() {
        for &code in Code::ALL {
            let entries = CODES.iter().filter(|c| c.code == code).count();
            assert_eq!(entries, 1, "{code} has {entries} registry entries");
            let text = code.as_str();
            assert_eq!(text.len(), 5);
            assert!(text.starts_with('E') || text.starts_with('W'));
            assert_eq!(code_info(&text.to_lowercase()).map(|i| i.code), Some(code));
            let info = code.info().map(|i| (i.example, i.fix));
            assert!(
                info.is_some_and(|(wrong, right)| wrong != right && !right.is_empty()),
                "{code}: no fix"
            );
        }
        assert_eq!(CODES.len(), Code::ALL.len());
    }

    #[test]
    fn severity_follows_code_letter() {
        assert_eq!(
            Diagnostic::new(Code::W0001, "x").severity,
            Severity::Warning
        );
        assert_eq!(Diagnostic::new(Code::E0001, "x").severity, Severity::Error);
    }

    /// Every registered code is emitted somewhere in the engine (a code nothing emits is a
    /// registry entry that documents nothing).
    #[test]
    fn every_code_is_used() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut text = String::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs")
                    && !p.ends_with("base/diagnostic.rs")
                {
                    text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
                }
            }
        }
        for code in Code::ALL {
            assert!(
                text.contains(&format!("Code::{code}")),
                "{code} is registered but never emitted"
            );
        }
    }
}
