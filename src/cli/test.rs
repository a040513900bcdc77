//! `pal test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {}
pub fn run(_a: &TestArgs, _out: &mut dyn std::io::Write) -> u8 { 0 }
