//! PAL — Patient Access Language: NHS patient access policies as checked, executable data.
//!
//! See `ARCHITECTURE.md` for the map of modules and the flow between them.

pub mod calendar;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod driver;
pub mod eval;
pub mod events;
pub mod ir;
pub mod loader;
pub mod measure;
pub mod native;
pub mod render;
pub mod repl;
pub mod report;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod synth;
pub mod testing;
pub mod value;
