//! The runtime: the evaluator (IR × one pathway's events × as-at date → result) and the test
//! runner for `test` blocks. Pure: no files, no network, no system clock.

pub mod eval;
pub mod testing;
