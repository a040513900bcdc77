//! A REPL session: a policy, a pathway being built event by event, and the commands that
//! inspect it. Pure logic (input line in, text out) so transcripts are testable; the terminal
//! front end is in `repl::terminal`.

use crate::base::diagnostic::Diagnostic;
use crate::base::source::SourceMap;
use crate::base::value::Value;
use crate::front::check::repl::{check_expr, check_step, ReplItem};
use crate::front::loader::{load_text_with, PolicyAccess};
use crate::io::render::{render, Format};
use crate::model::event::Event;
use crate::model::ir::{Policy, RuleKind};
use crate::runtime::eval::{Evaluator, PathwayResult};
use crate::runtime::eval::{PeriodStatus, RuleOutcome};
use crate::syntax::{parse_repl_line, ReplLine};
use chrono::NaiveDate;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the session's pathway holds; snapshots of it make `:undo`.
#[derive(Debug, Clone, Default)]
struct Pathway {
    events: Vec<Event>,
    /// Per event: which fields its line wrote (the others yield to `pathway { … }`).
    written: Vec<Vec<bool>>,
    attributes: Vec<(u16, Value)>,
    sets: Vec<crate::model::ir::ParamOverride>,
    as_at: Option<NaiveDate>,
    /// The steps as typed, for `:save`.
    typed: Vec<String>,
}

/// A REPL session. Cloning one is cheaper than loading its policy again (the fuzz target
/// starts every input from a clone).
#[derive(Clone)]
pub struct Session {
    policy_path: Option<PathBuf>,
    /// Further folders policies may read (`--policy-path`).
    search_path: Vec<PathBuf>,
    /// Declarations typed in the session (rules, params, …), added to the policy.
    extra: String,
    policy: Option<Policy>,
    sources: SourceMap,
    pathway: Pathway,
    undo: Vec<Pathway>,
    last: Option<PathwayResult>,
    color: bool,
    line_no: usize,
    /// Lines handled that failed: an `expect` that did not hold, or a line in error.
    failures: usize,
}

/// What the front end should do after a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// `:quit`.
    Quit,
}

const HELP: &str = "\
Type events, pathway attributes, expressions or declarations in PAL syntax:
  2025-01-06 referral_received { priority: routine }   add an event
  pathway { birth_date: 2015-03-01 }                   set pathway attributes
  rtt.days_waited                                      evaluate an expression
  expect rtt running                                   check an expectation
  set cancellation_limit = 3                           what-if a parameter
  rule … / param … / def …                             add to the policy for this session
Commands:
  :state              clocks, periods, outcomes, obligations, conflicts, warnings
  :timeline           a text timeline of events and clock periods
  :why CLOCK|OUTCOME  the rules that produced it, with citations
  :whynot RULE        each time the rule was considered: which condition failed, with values
  :as-at DATE         evaluate as at DATE (default: the last event's date)
  :rules              the policy's rules: what triggers each, its description, citation
  :params             the parameters and their values (with the session's `:set`s)
  :show NAME          a rule, parameter, clock, event type or definition as declared
  :diff FILE          how this pathway would go under another policy, side by side
  :set PARAM = VALUE  what-if a parameter for this session (says the old and new value)
  :undo  :reset       take back the last step / start a fresh pathway
  :load FILE  :reload load a policy / reload it after editing
  :save FILE          write the session as a `test` block (a regression test);
                      `:save! FILE` replaces an existing file (never the policy)
  :help  :quit";

impl Session {
    /// A session over the policy at `path` (or none). Returns the diagnostics of loading it.
    pub fn new(path: Option<&Path>, color: bool) -> (Session, String) {
        Session::with_policy_path(path, color, &[])
    }

    /// A session whose policies may also read files under the `policy_path` folders.
    pub fn with_policy_path(
        path: Option<&Path>,
        color: bool,
        policy_path: &[PathBuf],
    ) -> (Session, String) {
        let mut s = Session {
            search_path: policy_path.to_vec(),
            policy_path: path.map(Path::to_path_buf),
            extra: String::new(),
            policy: None,
            sources: SourceMap::new(),
            pathway: Pathway::default(),
            undo: Vec::new(),
            last: None,
            color,
            line_no: 0,
            failures: 0,
        };
        let msg = if path.is_some() {
            s.reload()
        } else {
            "no policy loaded: use `:load FILE`".to_string()
        };
        (s, msg)
    }

    fn render(&self, diags: &[Diagnostic]) -> String {
        render(diags, &self.sources, Format::Human, self.color)
    }

    /// (Re)loads the policy file plus the session's declarations.
    fn reload(&mut self) -> String {
        let Some(path) = &self.policy_path else {
            return "no policy loaded: use `:load FILE`".into();
        };
        let mut text = format!(
            "import \"{}\"\n",
            path.display()
                .to_string()
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        );
        text.push_str(&self.extra);
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        // The policy's files may come from its folder and the `--policy-path` folders; so may
        // an `import` typed in the session.
        let access = PolicyAccess::for_root(path, &self.search_path);
        let loaded = load_text_with(
            "<session>",
            &text,
            Path::new(""),
            &access,
            &mut sources,
            &mut diags,
        );
        let checked = crate::front::check::check(&loaded, &sources);
        diags.extend(checked.diagnostics.into_iter().filter(|d| d.is_error()));
        self.sources = sources;
        match checked.policy {
            Some(p) if diags.is_empty() => {
                let msg = format!(
                    "loaded {} ({} rules, {} clocks, {} event types)",
                    path.display(),
                    p.rules.len(),
                    p.clocks.len(),
                    p.schema.events.len()
                );
                self.policy = Some(p);
                msg
            }
            _ => {
                self.policy = None;
                format!(
                    "{}the policy has errors; fix them and `:reload`",
                    self.render(&diags)
                )
            }
        }
    }

    /// The policy, if loaded.
    pub fn policy(&self) -> Option<&Policy> {
        self.policy.as_ref()
    }

    /// True if `text` is an incomplete input (a block still open): the front end keeps reading.
    pub fn is_incomplete(text: &str) -> bool {
        let t = strip_comment_lines(text);
        if t.is_empty() || t.starts_with(':') {
            return false;
        }
        match parse_repl_line(crate::base::source::FileId(0), text) {
            Ok(_) => false,
            Err(d) => d.message.ends_with("found end of file"),
        }
    }

    /// Handles one (possibly multi-line) input. Returns what to print and whether to go on.
    /// A line that fails (an `expect` that does not hold, or a line in error) is counted in
    /// [`Session::failures`].
    pub fn handle(&mut self, input: &str) -> (String, Flow) {
        let stripped = strip_comment_lines(input);
        let text = stripped.as_str();
        if text.is_empty() {
            return (String::new(), Flow::Continue);
        }
        let before = self.failures;
        let (out, flow) = match text.strip_prefix(':') {
            Some(cmd) => self.command(cmd.trim()),
            None => (self.step(text), Flow::Continue),
        };
        // Errors are rendered as diagnostics (`error[…]`) or said in words by the commands.
        if self.failures == before && is_error_answer(&out) {
            self.failures += 1;
        }
        (out, flow)
    }

    /// Adds `events` (a pathway read from an extract, in its input order) as steps, each as if
    /// typed (`DATE event { fields }`, fields at their defaults left out), so `:undo`, `:save`
    /// and the rest treat them as any other step. Returns the answer to the last, or the first
    /// line the session refused and why.
    pub fn add_events(&mut self, events: &[Event]) -> Result<String, String> {
        let Some(policy) = &self.policy else {
            return Err("no policy loaded".into());
        };
        let lines: Vec<String> = events
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    crate::base::value::date_text(e.date),
                    crate::services::diff::structural::event_text(&policy.schema, e)
                )
            })
            .collect();
        let mut last = String::new();
        for line in lines {
            let before = self.failures;
            let (answer, _) = self.handle(&line);
            if self.failures > before {
                return Err(format!("`{line}`: {}", answer.trim_end()));
            }
            last = answer;
        }
        Ok(last)
    }

    /// How many lines have failed so far: `expect`s that did not hold and lines in error.
    /// A piped session exits 1 when there are any.
    pub fn failures(&self) -> usize {
        self.failures
    }

    fn command(&mut self, cmd: &str) -> (String, Flow) {
        let (name, arg) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
        let arg = arg.trim();
        let out = match name {
            "q" | "quit" | "exit" => return (String::new(), Flow::Quit),
            "help" | "h" | "?" => HELP.to_string(),
            "state" => self.state(),
            "timeline" => self.timeline(),
            "why" => self.why(arg),
            "whynot" => self.why_not(arg),
            "diff" => self.diff(arg),
            "undo" => match self.undo.pop() {
                Some(prev) => {
                    self.pathway = prev;
                    format!("undone; {}", self.evaluate_line())
                }
                None => "nothing to undo".into(),
            },
            "reset" => {
                self.undo.push(self.pathway.clone());
                self.pathway = Pathway::default();
                self.last = None;
                "a fresh pathway".into()
            }
            "as-at" | "asat" => match crate::base::value::parse_date(arg) {
                Some(d) => {
                    self.undo.push(self.pathway.clone());
                    self.pathway.as_at = Some(d);
                    self.pathway.typed.push(format!("as at {d}"));
                    self.evaluate_line()
                }
                None => format!("`:as-at` needs a date such as 2025-03-31, not `{arg}`"),
            },
            "set" => self.step(&format!("set {arg}")),
            "rules" => self.rules(),
            "params" => self.params(),
            "show" => self.show(arg),
            "load" => {
                if arg.is_empty() {
                    self.failures += 1;
                    "`:load` needs a policy file".into()
                } else {
                    // A policy that does not load leaves the working one in place.
                    let kept = (
                        self.policy_path.clone(),
                        std::mem::take(&mut self.extra),
                        self.policy.clone(),
                        self.sources.clone(),
                    );
                    self.policy_path = Some(PathBuf::from(arg));
                    let msg = self.reload();
                    if self.policy.is_none() {
                        self.failures += 1;
                        let had = kept.2.is_some();
                        (self.policy_path, self.extra, self.policy, self.sources) = kept;
                        if had {
                            let name = self
                                .policy_path
                                .as_deref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_default();
                            format!("{msg}\n(not loaded: still working with {name})")
                        } else {
                            msg
                        }
                    } else {
                        msg
                    }
                }
            }
            "reload" => self.reload(),
            "save" => self.save(arg, false),
            "save!" => self.save(arg, true),
            other => {
                self.failures += 1;
                let hint = crate::base::suggest::did_you_mean(other, COMMAND_NAMES.iter().copied())
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                format!("unknown command `:{other}`{hint}; `:help` lists them")
            }
        };
        (out, Flow::Continue)
    }

    fn as_at(&self) -> NaiveDate {
        self.pathway
            .as_at
            .or_else(|| self.pathway.events.iter().map(|e| e.date).max())
            .unwrap_or(NaiveDate::MIN)
    }

    fn evaluator(&self) -> Option<Evaluator<'_>> {
        let policy = self.policy.as_ref()?;
        let mut ev = Evaluator::new(policy);
        for (p, v, d) in &self.pathway.sets {
            ev.set_param(*p, v.clone(), d.clone());
        }
        Some(ev)
    }

    fn evaluate(&self) -> Option<PathwayResult> {
        let ev = self.evaluator()?;
        Some(ev.run(
            "repl",
            &self.pathway.events,
            &self.pathway.attributes,
            self.as_at(),
            true,
        ))
    }

    /// Re-evaluates and describes the clocks and anything new since the last evaluation.
    fn evaluate_line(&mut self) -> String {
        let Some(r) = self.evaluate() else {
            return "no policy loaded".into();
        };
        let mut out = clocks_line(&r);
        let prev = self.last.take();
        let seen = |o: &str| {
            prev.as_ref()
                .is_some_and(|p| p.outcomes.iter().any(|x| format!("{x:?}") == o))
        };
        for o in &r.outcomes {
            if !seen(&format!("{o:?}")) {
                let _ = write!(
                    out,
                    "\n  outcome {} on {} ({} [{}])",
                    o.outcome, o.date, o.rule, o.cite
                );
            }
        }
        for o in &r.obligations {
            let before = prev.as_ref().and_then(|p| {
                p.obligations
                    .iter()
                    .find(|x| x.what == o.what && x.created == o.created && x.rule == o.rule)
            });
            if before.is_none_or(|b| b.status != o.status) {
                let _ = write!(
                    out,
                    "\n  obligation {} due {}: {} ({} [{}])",
                    o.what, o.due, o.status, o.rule, o.cite
                );
            }
        }
        for c in r
            .conflicts
            .iter()
            .skip(prev.as_ref().map(|p| p.conflicts.len()).unwrap_or(0))
        {
            let _ = write!(
                out,
                "\n  CONFLICT on {}: {} ({})",
                c.clock,
                crate::base::name::join(&c.rules, " and "),
                c.resolution
            );
        }
        for w in r
            .warnings
            .iter()
            .skip(prev.as_ref().map(|p| p.warnings.len()).unwrap_or(0))
        {
            let _ = write!(out, "\n  warning: {}", w.message);
        }
        self.last = Some(r);
        out
    }

    fn step(&mut self, text: &str) -> String {
        let Some(policy) = self.policy.as_ref() else {
            return "no policy loaded: use `:load FILE`".into();
        };
        self.line_no += 1;
        let mut sources = self.sources.clone();
        let file = sources.add(format!("<repl:{}>", self.line_no), text);
        let parsed = match parse_repl_line(file, text) {
            Ok(p) => p,
            Err(d) => return render(&[d], &sources, Format::Human, self.color),
        };
        match parsed {
            ReplLine::Expr(e) => match check_expr(policy, &sources, &e) {
                Ok((ir, ty)) => {
                    let Some(ev) = self.evaluator() else {
                        return "no policy loaded".into();
                    };
                    let (_, state, history) = ev.run_with_state(
                        "repl",
                        &self.pathway.events,
                        &self.pathway.attributes,
                        self.as_at(),
                        false,
                    );
                    let v = ev.eval_at(&ir, &state, &history, self.as_at());
                    let shown = match v {
                        Value::Unset => "unset".to_string(),
                        Value::Str(s) => format!("{s:?}"),
                        v => policy.schema.display_value(&v),
                    };
                    format!("{shown} : {ty}")
                }
                Err(diags) => render(&diags, &sources, Format::Human, self.color),
            },
            ReplLine::Step(step) => {
                let seq = self.pathway.events.len() as u32;
                match check_step(policy, &sources, &step, seq) {
                    Err(diags) => render(&diags, &sources, Format::Human, self.color),
                    Ok(ReplItem::Expect(x)) => {
                        let mut case = crate::model::ir::TestCase {
                            name: "repl".into(),
                            span: x.span,
                            attributes: self.pathway.attributes.clone(),
                            events: self.pathway.events.clone(),
                            sets: self.pathway.sets.clone(),
                            as_at: Some(self.as_at()),
                            expectations: vec![x],
                        };
                        case.span = crate::base::source::Span::default();
                        let report = crate::runtime::testing::run_test(policy, &case);
                        match report.failures.first() {
                            None => "ok".into(),
                            Some((_, why)) => {
                                self.failures += 1;
                                format!("FAILED: {why}")
                            }
                        }
                    }
                    Ok(item) => {
                        let changed = match &item {
                            ReplItem::Set(p, v, d) => Some(self.set_change(*p, v, d)),
                            _ => None,
                        };
                        self.undo.push(self.pathway.clone());
                        match item {
                            ReplItem::Event(e, written) => {
                                self.pathway.events.push(e);
                                self.pathway.written.push(written);
                            }
                            ReplItem::Attributes(a) => self.pathway.attributes.extend(a),
                            ReplItem::Set(p, v, d) => self.pathway.sets.push((p, v, d)),
                            ReplItem::AsAt(d) => self.pathway.as_at = Some(d),
                            ReplItem::Expect(_) => {}
                        }
                        // As in a test: `pathway { … }` holds over a later event's defaults.
                        let p = &mut self.pathway;
                        crate::model::event::hold_attributes(
                            &policy.schema,
                            &p.attributes,
                            &mut p.events,
                            &p.written,
                        );
                        self.pathway
                            .typed
                            .push(text.split_whitespace().collect::<Vec<_>>().join(" "));
                        match changed {
                            Some(c) => format!("{c}\n{}", self.evaluate_line()),
                            None => self.evaluate_line(),
                        }
                    }
                }
            }
            ReplLine::Items(_) => {
                let before = self.extra.clone();
                let values_before = self.param_values();
                self.extra.push_str(text);
                self.extra.push('\n');
                let msg = self.reload();
                if self.policy.is_none() {
                    self.extra = before;
                    let restored = self.reload();
                    self.failures += 1;
                    format!("{msg}\n(declaration not added; {restored})")
                } else {
                    // Say what a `set` (or a re-declared parameter) changed.
                    let mut changes = String::new();
                    for (name, new) in self.param_values() {
                        match values_before.iter().find(|(n, _)| *n == name) {
                            Some((_, old)) if *old != new => {
                                let _ = write!(changes, "\n{name}: {old} → {new}");
                            }
                            Some(_) if text.trim_start().starts_with("set") => {
                                let mentioned = text
                                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                                    .any(|w| w == name);
                                if mentioned {
                                    let _ = write!(changes, "\n{name}: {new} (unchanged)");
                                }
                            }
                            Some(_) => {}
                            None => {
                                let _ = write!(changes, "\n{name}: new parameter = {new}");
                            }
                        }
                    }
                    format!("added; {msg}{changes}")
                }
            }
        }
    }

    fn state(&mut self) -> String {
        let Some(r) = self.evaluate() else {
            return "no policy loaded".into();
        };
        let mut out = format!("as at {} — {} events", r.as_at, self.pathway.events.len());
        if !r.attributes.is_empty() {
            let attrs: Vec<String> = r
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let _ = write!(out, "\npathway: {}", attrs.join(", "));
        }
        for p in &r.clocks {
            let stop = p.stop.map(|s| format!(" → {s}")).unwrap_or_default();
            let reason = p
                .reason
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let days = p
                .days_waited
                .map(|d| format!(", {d} days"))
                .unwrap_or_default();
            let breach = if p.breached { ", BREACHED" } else { "" };
            let _ = write!(
                out,
                "\n{} period {}: {} {}{stop}{reason}{days}, target {}{breach}",
                p.clock, p.period, p.status, p.start, p.target_date
            );
        }
        if r.clocks.is_empty() {
            out.push_str("\nno clock has started");
        }
        for o in &r.outcomes {
            let _ = write!(
                out,
                "\noutcome {} on {} ({} [{}])",
                o.outcome, o.date, o.rule, o.cite
            );
        }
        for o in &r.obligations {
            let _ = write!(
                out,
                "\nobligation {} due {}: {} ({} [{}])",
                o.what, o.due, o.status, o.rule, o.cite
            );
        }
        for c in &r.conflicts {
            let _ = write!(
                out,
                "\nconflict on {} ({}): {}",
                c.date,
                c.clock,
                crate::base::name::join(&c.rules, " and ")
            );
        }
        for w in &r.warnings {
            let _ = write!(out, "\nwarning on {}: {}", w.date, w.message);
        }
        out
    }

    fn timeline(&mut self) -> String {
        let Some(r) = self.evaluate() else {
            return "no policy loaded".into();
        };
        crate::io::report::timeline::draw(
            &r,
            &self.pathway.events,
            self.policy.as_ref().map(|p| &p.schema),
            60,
        )
    }

    fn why(&mut self, what: &str) -> String {
        let Some(r) = self.evaluate() else {
            return "no policy loaded".into();
        };
        let Some(policy) = self.policy.as_ref() else {
            return String::new();
        };
        let cite = |rule: &str| {
            policy
                .rules
                .iter()
                .find(|r| r.name == rule)
                .map(|r| r.cite_text())
                .unwrap_or_default()
        };
        let mut out = String::new();
        if policy.clock_id(what).is_some() {
            for p in r.clocks.iter().filter(|p| p.clock == what) {
                let _ = write!(out, "{what} period {} ({}):", p.period, p.status);
                if let Some(s) = &p.started_by {
                    // The start may have been reset since; the trace below shows by whom.
                    let _ = write!(
                        out,
                        "\n  clock start {} (started by {s} [{}])",
                        p.start,
                        cite(s)
                    );
                }
                if let Some(s) = &p.stopped_by {
                    let stop = p.stop.map(|d| d.to_string()).unwrap_or_default();
                    let _ = write!(out, "\n  {} {stop} by {s} [{}]", p.status, cite(s));
                }
                out.push('\n');
            }
            // Other rules that acted on the clock (resets, pauses) appear in the trace.
            for step in r.trace.iter().flatten() {
                for t in step.rules.iter().filter(|t| t.result == RuleOutcome::Fired) {
                    let acts = policy
                        .rules
                        .iter()
                        .find(|x| x.name == t.rule)
                        .is_some_and(|x| {
                            x.actions.iter().any(|a| {
                                a.clock()
                                    .is_some_and(|c| policy.clocks[c as usize].name == what)
                            })
                        });
                    if acts {
                        let _ = writeln!(
                            out,
                            "  {} {}: {} fired [{}]",
                            step.date, step.event, t.rule, t.cite
                        );
                    }
                }
            }
            if out.is_empty() {
                out = format!("`{what}` has not started: no rule started it");
            }
            return out.trim_end().to_string();
        }
        let outcomes: Vec<_> = r.outcomes.iter().filter(|o| o.outcome == what).collect();
        if !outcomes.is_empty() {
            for o in outcomes {
                let _ = writeln!(
                    out,
                    "outcome {} on {}: rule {} [{}]",
                    o.outcome, o.date, o.rule, o.cite
                );
            }
            return out.trim_end().to_string();
        }
        let obligations: Vec<_> = r.obligations.iter().filter(|o| o.what == what).collect();
        if !obligations.is_empty() {
            for o in obligations {
                let _ = writeln!(
                    out,
                    "obligation {} due {} ({}): rule {} [{}]",
                    o.what, o.due, o.status, o.rule, o.cite
                );
            }
            return out.trim_end().to_string();
        }
        format!("`{what}` is not a clock, outcome or obligation of this pathway")
    }

    fn why_not(&mut self, name: &str) -> String {
        // What became of the rule each time its condition held (fired, overridden, conflict).
        let traced = self.evaluate().and_then(|r| r.trace).unwrap_or_default();
        let Some(policy) = self.policy.as_ref() else {
            return "no policy loaded".into();
        };
        let Some(rid) = policy.rule_id(name) else {
            let hint = crate::base::suggest::did_you_mean(
                name,
                policy.rules.iter().map(|r| r.name.as_str()),
            );
            self.failures += 1;
            return format!(
                "no rule `{name}`{}",
                hint.map(|h| format!(" ({h})")).unwrap_or_default()
            );
        };
        let rule = &policy.rules[rid as usize];
        if let Some(reason) = &rule.disabled {
            return format!("`{name}` is disabled: {reason}");
        }
        let Some(ev) = self.evaluator() else {
            return String::new();
        };
        let list = ev.considerations(
            rid,
            &self.pathway.events,
            &self.pathway.attributes,
            self.as_at(),
        );
        if list.is_empty() {
            let trigger = match &rule.kind {
                RuleKind::On(events) => format!(
                    "it runs on {}",
                    events
                        .iter()
                        .map(|e| format!("`{}`", policy.schema.events[*e as usize].name))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                RuleKind::Timer { from, .. } => format!(
                    "it is a timer armed by `{}` that has not fallen due",
                    policy.schema.events[*from as usize].name
                ),
                RuleKind::Exception { parent } => format!(
                    "it is an exception to `{}`, which has not fired",
                    policy
                        .rules
                        .get(*parent as usize)
                        .map(|r| r.name.as_str())
                        .unwrap_or("?")
                ),
            };
            return format!(
                "`{name}` was never considered: {trigger}, and no such event has happened"
            );
        }
        let mut out = format!("`{name}` [{}]:", rule.cite_text());
        for c in list {
            let outcome = traced
                .iter()
                .filter(|step| step.date == c.date && step.event == c.event)
                .flat_map(|step| &step.rules)
                .find(|t| t.rule == name && t.result != RuleOutcome::NotApplicable);
            let verdict = match (c.held, outcome) {
                (false, _) => "condition failed".to_string(),
                (true, Some(t)) if t.result == RuleOutcome::Overridden => format!(
                    "condition held, but {}",
                    t.detail.as_deref().unwrap_or("an exception applied")
                ),
                (true, Some(t)) if t.result == RuleOutcome::Conflict => {
                    "condition held, but its exceptions disagreed (a conflict)".to_string()
                }
                (true, _) => "condition held".to_string(),
            };
            let _ = write!(out, "\n  {} {}: {verdict}", c.date, c.event);
            for (text, value) in &c.conjuncts {
                let mark = match value.as_str() {
                    "true" => "✓",
                    "false" | "unset" => "✗",
                    _ => "·",
                };
                let _ = write!(out, "\n    {mark} {text} = {value}");
            }
        }
        out
    }

    /// `:save FILE` (`:save! FILE` may replace an existing file, never the loaded policy).
    /// What a `set` changes: `PARAM: OLD → NEW` (from a date, when dated).
    fn set_change(
        &self,
        p: crate::model::ir::ParamId,
        new: &Value,
        dated: &[(NaiveDate, Value)],
    ) -> String {
        let Some(policy) = self.policy.as_ref() else {
            return String::new();
        };
        let Some(def) = policy.params.get(p as usize) else {
            return String::new();
        };
        let show = |v: &Value| match v {
            Value::Unset => "unset".to_string(),
            v => policy.schema.display_value(v),
        };
        let as_at = self.as_at();
        let on = |v: &Value, dated: &[(NaiveDate, Value)]| {
            dated
                .iter()
                .rev()
                .find(|(d, _)| *d <= as_at)
                .map_or_else(|| show(v), |(_, v)| show(v))
        };
        // The value in force at the session's date: its latest `set`, else the policy's.
        let old = self
            .pathway
            .sets
            .iter()
            .rev()
            .find(|(q, _, _)| *q == p)
            .map(|(_, v, d)| on(v, d))
            .unwrap_or_else(|| show(def.value_on(as_at)));
        let new = &on(new, dated);
        let when = if dated.is_empty() {
            String::new()
        } else {
            format!(" as at {as_at} (dated changes)")
        };
        if old == *new {
            format!("{}: {old} (unchanged){when}", def.name)
        } else {
            format!("{}: {old} → {new}{when}", def.name)
        }
    }

    /// Every parameter's value as at the session's date, as text.
    fn param_values(&self) -> Vec<(String, String)> {
        let Some(policy) = self.policy.as_ref() else {
            return Vec::new();
        };
        let as_at = self.as_at();
        policy
            .params
            .iter()
            .map(|p| {
                let v = match p.value_on(as_at) {
                    Value::Unset => "unset".to_string(),
                    v => policy.schema.display_value(v),
                };
                (p.name.clone(), v)
            })
            .collect()
    }

    /// `:rules`: every rule with its trigger, description and citation.
    fn rules(&mut self) -> String {
        let Some(policy) = self.policy.as_ref() else {
            self.failures += 1;
            return "no policy loaded: use `:load FILE`".into();
        };
        let event = |e: &u32| {
            policy
                .schema
                .events
                .get(*e as usize)
                .map(|d| d.name.clone())
                .unwrap_or_default()
        };
        let mut out = format!("{} rules:", policy.rules.len());
        for r in &policy.rules {
            let trigger = match &r.kind {
                RuleKind::On(es) => {
                    format!("on {}", es.iter().map(event).collect::<Vec<_>>().join(", "))
                }
                RuleKind::Timer { from, .. } => format!("timer from {}", event(from)),
                RuleKind::Exception { parent } => format!(
                    "exception to {}",
                    policy
                        .rules
                        .get(*parent as usize)
                        .map(|p| p.name.as_str())
                        .unwrap_or("?")
                ),
            };
            let disabled = if r.disabled.is_some() {
                " (disabled)"
            } else {
                ""
            };
            let _ = write!(out, "\n  {}{disabled} — {trigger}", r.name);
            if let Some(d) = &r.description {
                let _ = write!(out, ": {d}");
            }
            if !r.cite.is_empty() {
                let _ = write!(out, " [{}]", r.cite_text());
            }
        }
        out
    }

    /// `:params`: every parameter's value as at the session's date, the session's `:set`s
    /// marked.
    fn params(&mut self) -> String {
        let Some(policy) = self.policy.as_ref() else {
            self.failures += 1;
            return "no policy loaded: use `:load FILE`".into();
        };
        let as_at = self.as_at();
        let show = |v: &Value| match v {
            Value::Unset => "unset".to_string(),
            v => policy.schema.display_value(v),
        };
        let mut out = format!("{} parameters:", policy.params.len());
        for (i, p) in policy.params.iter().enumerate() {
            let set = self
                .pathway
                .sets
                .iter()
                .rev()
                .find(|(q, _, _)| *q as usize == i);
            let value = match set {
                Some((_, v, _)) => format!(
                    "{} (set in this session; the policy says {})",
                    show(v),
                    show(p.value_on(as_at))
                ),
                None => show(p.value_on(as_at)),
            };
            let _ = write!(
                out,
                "\n  {}: {} = {value}",
                p.name,
                policy.schema.type_name(&p.ty)
            );
            if !p.dated.is_empty() {
                let _ = write!(
                    out,
                    " (changes on {})",
                    p.dated
                        .iter()
                        .map(|(d, _)| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if !p.cite.is_empty() {
                let _ = write!(out, " [{}]", p.cite.join(", "));
            }
        }
        out
    }

    /// `:show NAME`: the declaration of a rule, parameter, clock, event type or definition.
    fn show(&mut self, name: &str) -> String {
        let Some(policy) = self.policy.as_ref() else {
            self.failures += 1;
            return "no policy loaded: use `:load FILE`".into();
        };
        if name.is_empty() {
            self.failures += 1;
            return "`:show` needs a name: a rule, parameter, clock, event type or definition"
                .into();
        }
        let source = |span: crate::base::source::Span| {
            let file = self.sources.get(span.file);
            let text = declaration_text(&file.text, span.start as usize);
            let (line, _) = line_col(&file.text, span.start as usize);
            format!("{}:{line}:\n{text}", file.name)
        };
        if let Some(r) = policy.rules.iter().find(|r| r.name == name) {
            return source(r.span);
        }
        if let Some(p) = policy.params.iter().find(|p| p.name == name) {
            let value = match p.value_on(self.as_at()) {
                Value::Unset => "unset".to_string(),
                v => policy.schema.display_value(v),
            };
            let when = if self.pathway.events.is_empty() && self.pathway.as_at.is_none() {
                String::new()
            } else {
                format!(" as at {}", self.as_at())
            };
            return format!("{}\n(value{when}: {value})", source(p.span));
        }
        if let Some(c) = policy.clocks.iter().find(|c| c.name == name) {
            let target = match &c.target {
                crate::model::ir::Target::Days(d) => format!("{d} days"),
                crate::model::ir::Target::Param(p) => policy
                    .params
                    .get(*p as usize)
                    .map(|p| format!("parameter {}", p.name))
                    .unwrap_or_default(),
            };
            let mut out = format!("clock {}", c.name);
            if let Some(d) = &c.description {
                let _ = write!(out, " \"{d}\"");
            }
            let _ = write!(
                out,
                "\n  target {target}; measured on {} periods",
                if c.measured_on_incomplete {
                    "incomplete"
                } else {
                    "completed"
                }
            );
            if !c.cite.is_empty() {
                let _ = write!(out, " [{}]", c.cite.join(", "));
            }
            return out;
        }
        if let Some((_, e)) = policy.schema.event(name) {
            let fields: Vec<String> = e
                .fields
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}{}",
                        f.name,
                        policy.schema.type_name(&f.ty),
                        if f.optional { "?" } else { "" }
                    )
                })
                .collect();
            return format!("event {} {{ {} }}", e.name, fields.join(", "));
        }
        if policy.defs.iter().any(|d| d.name == name) {
            return format!("`{name}` is a definition (`def`); `{name}` evaluates it");
        }
        self.failures += 1;
        let names = policy
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .chain(policy.params.iter().map(|p| p.name.as_str()))
            .chain(policy.clocks.iter().map(|c| c.name.as_str()))
            .chain(policy.schema.events.iter().map(|e| e.name.as_str()));
        let hint = crate::base::suggest::did_you_mean(name, names)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        format!("no rule, parameter, clock, event type or definition `{name}`{hint}")
    }

    fn save(&mut self, file: &str, replace: bool) -> String {
        if file.is_empty() {
            return "`:save` needs a file name, e.g. `:save tests/child_dna.pal`".into();
        }
        let Some(policy_path) = &self.policy_path else {
            return "no policy loaded".into();
        };
        let target = Path::new(file);
        // The saved test extends the loaded policy: writing it over that policy would destroy
        // the policy and leave a file that extends itself.
        if let Err(e) = crate::services::output::check_outputs(
            &[("loaded policy", policy_path)],
            &[("`:save`", target)],
        ) {
            return e;
        }
        if !replace && std::fs::symlink_metadata(target).is_ok() {
            return format!(
                "`{}` already exists: `:save! {}` replaces it",
                target.display(),
                target.display()
            );
        }
        let Some(r) = self.evaluate() else {
            return "no policy loaded".into();
        };
        let target = PathBuf::from(file);
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let rel = relative_path(dir, policy_path);
        let name = target
            .file_stem()
            .map(|s| {
                s.to_string_lossy()
                    .replace(|c: char| !c.is_alphanumeric(), "_")
            })
            .unwrap_or_else(|| "session".into());
        let mut text = format!(
            "// Saved from `pal repl` as a regression test.\npolicy {name} extends \"{}\"\n\n",
            rel.display()
        );
        if !self.extra.trim().is_empty() {
            text.push_str(&self.extra);
            text.push('\n');
        }
        let _ = writeln!(text, "test \"{name}\" {{");
        let body_start = text.len();
        for t in &self.pathway.typed {
            if !t.starts_with("as at") {
                let _ = writeln!(text, "  {t}");
            }
        }
        let _ = writeln!(text, "  as at {}", r.as_at);
        for p in &r.clocks {
            let on = match p.status {
                PeriodStatus::Stopped | PeriodStatus::Nullified => p.stop,
                _ => Some(p.start),
            };
            let _ = write!(
                text,
                "  expect {} period {} {}",
                p.clock, p.period, p.status
            );
            if let Some(d) = on {
                let _ = write!(text, " on {d}");
            }
            text.push('\n');
            if let Some(days) = p.days_waited {
                if p.period as usize == r.clocks.iter().filter(|x| x.clock == p.clock).count() {
                    let _ = writeln!(text, "  expect {}.days_waited == {days}", p.clock);
                }
            }
        }
        for c in policy_clocks_not_started(&r, self.policy.as_ref()) {
            let _ = writeln!(text, "  expect {c} not_started");
        }
        for o in &r.outcomes {
            let _ = writeln!(
                text,
                "  expect outcome {} cite \"{}\"",
                o.outcome,
                o.cite.split(", ").next().unwrap_or("")
            );
        }
        for o in &r.obligations {
            let _ = writeln!(text, "  expect obligation {} {}", o.what, o.status);
        }
        let _ = writeln!(
            text,
            "  expect {}conflict",
            if r.conflicts.is_empty() { "no " } else { "" }
        );
        // Each expectation once: two obligations (or outcomes) alike make the same line.
        let mut seen = std::collections::HashSet::new();
        let body: Vec<&str> = text[body_start..]
            .lines()
            .filter(|l| !l.trim_start().starts_with("expect ") || seen.insert(*l))
            .collect();
        let body = body.join("\n");
        text.truncate(body_start);
        text.push_str(&body);
        text.push_str("\n}\n");
        // Complete or absent: written beside the target and renamed over it.
        match crate::services::output::write_file(&target, text.as_bytes()) {
            Ok(()) => format!("saved the session as a test in {}", target.display()),
            Err(e) => format!("cannot write `{}`: {e}", target.display()),
        }
    }
}

/// The declaration around byte `offset` of `text`: from the start of its line to the `}` that
/// closes its first block, or to the end of the line (or of the lines that continue it) when
/// it has no block before a blank line.
fn declaration_text(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let rest = text.get(start..).unwrap_or("");
    let mut depth = 0usize;
    let mut in_string = false;
    let mut end = rest.len();
    let mut prev = '\0';
    for (i, c) in rest.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = i + 1;
                    break;
                }
            }
            '\n' if depth == 0 && prev == '\n' => {
                end = i;
                break;
            }
            _ => {}
        }
        prev = c;
    }
    rest.get(..end).unwrap_or(rest).trim_end().to_string()
}

/// The 1-based line and column of byte `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The commands, for did-you-mean.
const COMMAND_NAMES: &[&str] = &[
    "state", "timeline", "why", "whynot", "as-at", "rules", "params", "show", "set", "undo",
    "reset", "load", "reload", "save", "save!", "help", "quit",
];

/// True if an answer reports an error: a rendered diagnostic, or a command's refusal.
fn is_error_answer(out: &str) -> bool {
    out.lines()
        .any(|l| l.starts_with("error[") || l.starts_with("error:"))
        || out.starts_with("no policy loaded")
        || out.starts_with("cannot write")
        || out.contains("the policy has errors")
}

/// The input without whole-line `//` comments, trimmed.
fn strip_comment_lines(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn policy_clocks_not_started(r: &PathwayResult, policy: Option<&Policy>) -> Vec<String> {
    policy
        .map(|p| {
            p.clocks
                .iter()
                .filter(|c| !r.clocks.iter().any(|x| x.clock == c.name))
                .map(|c| c.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `target` relative to `from` (both made absolute first).
fn relative_path(from: &Path, target: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (from, target) = (abs(from), abs(target));
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = target.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// One line: each started clock's state.
pub fn clocks_line(r: &PathwayResult) -> String {
    let mut latest: Vec<&crate::runtime::eval::PeriodResult> = Vec::new();
    for p in &r.clocks {
        match latest.iter_mut().find(|x| x.clock == p.clock) {
            Some(x) if x.period < p.period => *x = p,
            Some(_) => {}
            None => latest.push(p),
        }
    }
    if latest.is_empty() {
        return "no clock running".into();
    }
    latest
        .iter()
        .map(|p| match p.status {
            PeriodStatus::Running | PeriodStatus::Paused => format!(
                "{} {} since {} ({})",
                p.clock,
                p.status,
                p.start,
                crate::base::text::count_of(p.days_waited.unwrap_or(0), "day", "days")
            ),
            status => format!(
                "{} {status} {}{}",
                p.clock,
                p.stop.map(|d| d.to_string()).unwrap_or_default(),
                p.reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

impl Session {
    /// `:diff FILE`: the session's pathway under another policy (loaded with the session's
    /// policy path), compared with the session's policy: what differs, and the two timelines
    /// side by side. Parameters set in the session are set in the other policy too (by name).
    fn diff(&self, arg: &str) -> String {
        use crate::services::diff::{compare, render, structural, timeline};
        if arg.is_empty() {
            return "`:diff` needs a policy file: `:diff policies/variants/strict_trust.pal`"
                .into();
        }
        let Some(policy) = self.policy.as_ref() else {
            return "no policy loaded".into();
        };
        let path = Path::new(arg);
        let other = match crate::services::project::load_policy_with(path, &self.search_path) {
            Ok((_, p, _)) => p,
            Err((sources, diags)) => {
                return format!(
                    "{}`{arg}` has errors: nothing compared",
                    render(&diags, &sources, Format::Human, self.color)
                )
            }
        };
        if let Some(why) = structural::schema_difference(&policy.schema, &other.schema) {
            return format!("error: `{arg}` reads events differently ({why}): nothing compared");
        }
        let Some(ev) = self.evaluator() else {
            return "no policy loaded".into();
        };
        let mut ev_other = Evaluator::new(&other);
        for (p, v, d) in &self.pathway.sets {
            let Some(name) = policy.params.get(*p as usize).map(|x| &x.name) else {
                continue;
            };
            if let Some(q) = other.param_id(name) {
                ev_other.set_param(q, v.clone(), d.clone());
            }
        }
        let (events, attrs, as_at) = (&self.pathway.events, &self.pathway.attributes, self.as_at());
        // The session's policy is named after its file (its compiled name is the session's).
        let this = self
            .policy_path
            .as_deref()
            .and_then(Path::file_stem)
            .map_or(policy.name.clone(), |s| s.to_string_lossy().to_string());
        let a = ev.run("repl", events, attrs, as_at, false);
        let b = ev_other.run("repl", events, attrs, as_at, false);
        let mut out = String::new();
        match compare(&a, &b) {
            None => {
                let _ = write!(
                    out,
                    "the same under {} as under {this}: {}",
                    other.name,
                    clocks_line(&b)
                );
            }
            Some(d) => {
                let _ = writeln!(out, "under {} (new) instead of {this} (old):", other.name);
                render::pathway_diff(&d, "  ", &mut out);
                let t = timeline::side_by_side(&ev, &ev_other, "repl", events, attrs, as_at);
                render::timeline(&t, &this, &other.name, "", &mut out);
                while out.ends_with('\n') {
                    out.pop();
                }
            }
        }
        out
    }
}
