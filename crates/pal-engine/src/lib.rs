//! PAL — Patient Access Language: NHS patient access policies as checked, executable data.
//!
//! The engine, in layers that depend only downwards (`ARCHITECTURE.md` states what each may
//! import; `tests/layers.rs` holds it):
//!
//! | layer | job |
//! |---|---|
//! | [`base`] | sources and spans, the diagnostic type and code registry, suggestions, values |
//! | [`model`] | the schema, the calendar, the event model and the compiled policy (IR) |
//! | [`syntax`] | the grammar and the parser: text → spanned AST |
//! | [`front`] | the loader (the only reader of policy-side files) and the checker |
//! | [`runtime`] | the evaluator and the test runner: pure functions of policy, events, as-at |
//! | [`io`] | event readers, result writers, reports, diagnostic renderers |
//! | [`services`] | what a front end calls: projects of policies, the batch run, the REPL session |
//! | [`ide`] | what an editor asks: diagnostics, hover, definitions, references, completion, outline, fixes, test runs |
//!
//! The command line, the REPL's terminal, the synthetic-data generator and the benchmark live
//! in other crates of the workspace and call this one.

pub mod base;
pub mod front;
pub mod ide;
pub mod io;
pub mod model;
pub mod runtime;
pub mod services;
pub mod syntax;
