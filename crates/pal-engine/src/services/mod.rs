//! Services: what a front end (the CLI, the REPL terminal, a language server) calls — loading
//! and checking a project of policies, the parallel batch run, the impact of a policy change (`diff`), output files that are complete or absent, the test run, the REPL
//! session.

pub mod batch;
pub mod convert;
pub mod diff;
pub mod mapping;
pub mod output;
pub mod project;
pub mod repl;
pub mod returns;
#[cfg(test)]
mod scenarios;
pub mod test_run;
pub mod validate;
