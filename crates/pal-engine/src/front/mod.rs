//! The front end: the loader (the only code that reads policy-side files: policies, their
//! imports and holiday files) and the checker, which resolves names, checks types, runs the
//! lints and elaborates a policy to the IR.

pub mod check;
pub mod loader;
