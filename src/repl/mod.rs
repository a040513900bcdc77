//! `pal repl`: try scenarios against a policy interactively, or from piped standard input.

pub mod session;
mod terminal;

pub use session::{Flow, Session};
pub use terminal::run;
