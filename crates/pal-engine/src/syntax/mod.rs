//! Syntax: the pest grammar (`grammar/pal.pest`), the parser from pest pairs to the spanned
//! [`ast`], the rewriting of pest's errors into friendly [`Diagnostic`]s, and the canonical
//! layout of a file ([`format`], `pal fmt`).

pub mod ast;
mod errors;
pub mod format;
mod parser;
mod recover;

pub use parser::{parse_file, parse_repl_line, ReplLine};
pub use recover::{recover, syntax_errors, Recovery, ITEM_KEYWORDS, MAX_SYNTAX_ERRORS};

/// The deepest nesting of brackets or expressions a policy may use. Deeper input is rejected
/// with `E0004` before it can exhaust the stack.
pub const MAX_NESTING: usize = 64;
