//! Rego through regorus: `checks.rego` evaluated once per pathway, with the pathway as `input`
//! and the parameters as `data.params`. Two ways to run it: regorus's interpreter
//! (`Engine::eval_rule`) and its register VM (the policy compiled to an RVM program).

use crate::data::{json_object, Params, Pw};
use crate::pal_ref::Fired;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::vm::RegoVM;
use regorus::{Engine, Value};

/// The Rego source of the checks.
pub const SOURCE: &str = include_str!("../checks.rego");
/// The rule the harness evaluates.
pub const ENTRY: &str = "data.pal.fired";

/// The pathway as Rego's `input`.
pub fn input(p: &Pw) -> Result<Value, String> {
    let attrs: Vec<serde_json::Value> = p
        .attrs
        .iter()
        .map(|a| serde_json::Value::Object(json_object(a)))
        .collect();
    let events: Vec<serde_json::Value> = p
        .events
        .iter()
        .map(|e| {
            let mut o = json_object(&e.fields);
            o.insert("event".into(), e.event.as_ref().into());
            o.insert("date".into(), e.date.into());
            o.insert("ymd".into(), e.ymd.into());
            o.insert("a".into(), e.attrs.into());
            serde_json::Value::Object(o)
        })
        .collect();
    let doc = serde_json::json!({ "attrs": attrs, "events": events });
    Value::from_json_str(&doc.to_string()).map_err(|e| format!("rego input: {e}"))
}

fn data(params: &Params) -> Result<Value, String> {
    let p: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), crate::data::json_of(v)))
        .collect();
    let doc = serde_json::json!({ "params": p });
    Value::from_json_str(&doc.to_string()).map_err(|e| format!("rego data: {e}"))
}

/// An engine loaded with the checks and the parameters.
pub fn engine(params: &Params) -> Result<Engine, String> {
    let mut engine = Engine::new();
    engine
        .add_policy("checks.rego".into(), SOURCE.into())
        .map_err(|e| format!("checks.rego: {e}"))?;
    engine
        .add_data(data(params)?)
        .map_err(|e| format!("rego data: {e}"))?;
    Ok(engine)
}

/// Evaluates the checks on one pathway with the interpreter.
pub fn eval(engine: &mut Engine, input: &Value) -> Result<Value, String> {
    engine.set_input(input.clone());
    engine
        .eval_rule(ENTRY.into())
        .map_err(|e| format!("regorus: {e}"))
}

/// A register VM loaded with the checks compiled to an RVM program, and the parameters.
pub fn vm(params: &Params) -> Result<RegoVM, String> {
    let mut engine = engine(params)?;
    let entry: regorus::Rc<str> = ENTRY.into();
    let compiled = engine
        .compile_with_entrypoint(&entry)
        .map_err(|e| format!("regorus compile: {e}"))?;
    let program = Compiler::compile_from_policy(&compiled, &[ENTRY])
        .map_err(|e| format!("regorus RVM compile: {e}"))?;
    let mut vm = RegoVM::new();
    vm.load_program(program);
    vm.set_data(data(params)?)
        .map_err(|e| format!("regorus RVM data: {e}"))?;
    // The default budget (25,000 instructions) is too small for long pathways.
    vm.set_max_instructions(usize::MAX);
    Ok(vm)
}

/// Evaluates the checks on one pathway with the VM.
pub fn eval_vm(vm: &mut RegoVM, input: &Value) -> Result<Value, String> {
    vm.set_input(input.clone());
    vm.execute().map_err(|e| format!("regorus RVM: {e}"))
}

/// Number of elements of a result set (what the timed loop keeps).
pub fn size(v: &Value) -> usize {
    match v {
        Value::Set(s) => s.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    }
}

/// The result set as sorted fired triples.
pub fn fired(v: &Value) -> Result<Vec<Fired>, String> {
    let items: Vec<&Value> = match v {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        Value::Undefined => Vec::new(),
        other => return Err(format!("`{ENTRY}` is not a set: {other}")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let bad = || format!("`{ENTRY}` has an element that is not [index, name, outcome]: {item}");
        let Value::Array(a) = item else {
            return Err(bad());
        };
        let (Some(i), Some(Value::String(n)), Some(Value::String(o))) =
            (a.first(), a.get(1), a.get(2))
        else {
            return Err(bad());
        };
        let i = i.as_u64().map_err(|_| bad())? as usize;
        out.push((i, n.to_string(), o.to_string()));
    }
    out.sort();
    Ok(out)
}
