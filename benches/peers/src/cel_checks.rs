//! CEL through the `cel` crate: one compiled expression per rule and exception
//! (`checks.cel`), evaluated per event with the variables `ev`, `history` (the events so far),
//! `pathway` (attributes in force) and `params`. The harness dispatches on the event type and
//! applies PAL's exception semantics ([`crate::table::Table`]).

use crate::data::{Fields, Params, Pw, F};
use crate::table::Table;
use cel::common::traits::{self, Iterable, Sizer};
use cel::common::types::{self, CelInt, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::Map;
use cel::{Context, Program, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The CEL source of the checks.
pub const SOURCE: &str = include_str!("../checks.cel");

/// Reads `checks.cel`: `name:` entries with indented bodies; `@name` entries are definitions,
/// expanded textually (as `(body)`) into the expressions.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let Some((_, body)) = entries.last_mut() else {
                return Err(format!("checks.cel:{}: a body line before any name", n + 1));
            };
            body.push(' ');
            body.push_str(trimmed);
        } else {
            let name = trimmed
                .strip_suffix(':')
                .ok_or_else(|| format!("checks.cel:{}: expected `name:`", n + 1))?;
            entries.push((name.to_string(), String::new()));
        }
    }
    let defs: HashMap<String, String> = entries
        .iter()
        .filter_map(|(n, b)| n.strip_prefix('@').map(|n| (n.to_string(), b.clone())))
        .collect();
    let mut out = Vec::new();
    for (name, body) in entries.iter().filter(|(n, _)| !n.starts_with('@')) {
        let mut text = body.clone();
        let mut rounds = 0;
        while let Some(at) = text.find('@') {
            rounds += 1;
            if rounds > 1000 {
                return Err(format!("checks.cel: `{name}`: definitions nest too deeply"));
            }
            let rest = &text[at + 1..];
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let def = &rest[..len];
            let body = defs
                .get(def)
                .ok_or_else(|| format!("checks.cel: `{name}` uses undefined `@{def}`"))?;
            text = format!("{}({}){}", &text[..at], body, &rest[len..]);
        }
        out.push((name.clone(), text));
    }
    Ok(out)
}

/// `history`: a view of the first events of a pathway's list, without copying them.
#[derive(Debug, Clone, Copy)]
struct History<'a> {
    items: &'a [Box<dyn Val>],
}

struct HistoryIter<'b> {
    items: &'b [Box<dyn Val>],
    pos: usize,
}

impl<'b, 'w> traits::Iterator<'b, 'w> for HistoryIter<'b> {
    fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
        let item = self.items.get(self.pos)?;
        self.pos += 1;
        Some(item.as_ref())
    }
}

impl Val for History<'_> {
    fn get_type(&self) -> &Type {
        &types::LIST_TYPE
    }

    fn cel_type() -> &'static Type {
        &types::LIST_TYPE
    }

    fn as_iterable<'b, 'v>(&'b self) -> Option<&'b (dyn Iterable + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_sizer(&self) -> Option<&dyn Sizer> {
        Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(*self)
    }
}

impl Iterable for History<'_> {
    fn iter<'b, 'v>(&'b self) -> Box<dyn traits::Iterator<'b, 'v> + 'b>
    where
        Self: 'v,
    {
        Box::new(HistoryIter {
            items: self.items,
            pos: 0,
        })
    }
}

impl Sizer for History<'_> {
    fn size(&self) -> CelInt {
        (self.items.len() as i64).into()
    }
}

/// The variables of one event.
struct Vars<'a> {
    ev: &'a dyn Val,
    history: History<'a>,
    pathway: &'a dyn Val,
}

impl VariableResolver for Vars<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        match variable {
            "ev" => Some(CowVal::Borrowed(self.ev)),
            "history" => Some(CowVal::Borrowed(&self.history)),
            "pathway" => Some(CowVal::Borrowed(self.pathway)),
            _ => None,
        }
    }
}

fn value(f: &F) -> Value {
    match f {
        F::Bool(b) => Value::Bool(*b),
        F::Int(i) => Value::Int(*i),
        F::Str(s) => Value::String(Arc::new(s.to_string())),
    }
}

fn map(fields: &Fields, extra: &[(&str, Value)]) -> Result<Box<dyn Val>, String> {
    let mut m: HashMap<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), value(v)))
        .collect();
    for (k, v) in extra {
        m.insert(k.to_string(), v.clone());
    }
    Box::<dyn Val>::try_from(Value::Map(Map::from(m))).map_err(|e| format!("cel value: {e}"))
}

/// One pathway's CEL values, built before timing.
pub struct CelPathway {
    events: Vec<Box<dyn Val>>,
    attrs: Vec<Box<dyn Val>>,
    attr_of: Vec<usize>,
    kinds: Vec<usize>,
}

/// Builds a pathway's CEL values.
pub fn pathway(p: &Pw) -> Result<CelPathway, String> {
    let mut events = Vec::with_capacity(p.events.len());
    for (i, e) in p.events.iter().enumerate() {
        events.push(map(
            &e.fields,
            &[
                ("event", Value::String(Arc::new(e.event.to_string()))),
                ("i", Value::Int(i as i64)),
                ("date", Value::Int(e.date)),
                ("ymd", Value::Int(e.ymd)),
            ],
        )?);
    }
    let attrs = p
        .attrs
        .iter()
        .map(|a| map(a, &[]))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CelPathway {
        events,
        attrs,
        attr_of: p.events.iter().map(|e| e.attrs).collect(),
        kinds: p.events.iter().map(|e| e.kind).collect(),
    })
}

/// The compiled checks.
pub struct CelChecks {
    /// Per table node, its program.
    programs: Vec<Program>,
    /// The standard library and `params`.
    root: Context<'static, 'static>,
}

/// A child scope of `root` whose variables come from `vars`.
fn scope<'b, 'v>(root: &'b Context<'b, 'v>, vars: &'v Vars<'v>) -> Context<'b, 'v> {
    let mut ctx = root.new_inner_scope();
    ctx.set_variable_resolver(vars);
    ctx
}

impl CelChecks {
    /// Compiles one expression per node of `table`.
    pub fn new(table: &Table, params: &Params) -> Result<CelChecks, String> {
        let exprs: HashMap<String, String> = parse(SOURCE)?.into_iter().collect();
        let mut programs = Vec::with_capacity(table.nodes.len());
        for node in &table.nodes {
            let src = exprs
                .get(&node.name)
                .ok_or_else(|| format!("checks.cel has no expression for `{}`", node.name))?;
            programs.push(
                Program::compile(src).map_err(|e| format!("checks.cel: `{}`: {e}", node.name))?,
            );
        }
        let mut root = Context::default();
        let p: HashMap<String, Value> = params
            .iter()
            .map(|(k, v)| (k.to_string(), value(v)))
            .collect();
        root.add_variable_from_value("params", Value::Map(Map::from(p)));
        Ok(CelChecks { programs, root })
    }

    /// Evaluates the checks on one pathway, pushing `(event, node)` for each that fires.
    pub fn eval(
        &self,
        table: &Table,
        p: &CelPathway,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<(), String> {
        for i in 0..p.events.len() {
            let kind = p.kinds[i];
            if table.by_kind.get(kind).is_none_or(|r| r.is_empty()) {
                continue;
            }
            let (Some(ev), Some(pathway)) = (
                p.events.get(i),
                p.attr_of.get(i).and_then(|a| p.attrs.get(*a)),
            ) else {
                return Err("cel: malformed pathway".into());
            };
            let vars = Vars {
                ev: ev.as_ref(),
                history: History {
                    items: &p.events[..=i],
                },
                pathway: pathway.as_ref(),
            };
            let ctx = scope(&self.root, &vars);
            table.on_event(
                kind,
                i,
                |n| match self.programs[n].execute(&ctx) {
                    Ok(Value::Bool(b)) => Ok(b),
                    Ok(other) => Err(format!(
                        "cel: `{}` gave {other:?}, not a bool",
                        table.nodes[n].name
                    )),
                    Err(e) => Err(format!("cel: `{}`: {e}", table.nodes[n].name)),
                },
                out,
            )?;
        }
        Ok(())
    }
}
