//! PAL — Patient Access Language: NHS patient access policies as checked, executable data.
//!
//! See `ARCHITECTURE.md` for the map of modules and the flow between them.

pub mod diagnostic;
pub mod schema;
pub mod source;
pub mod value;
pub mod syntax;
