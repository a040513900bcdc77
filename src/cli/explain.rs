//! `pal explain`: one pathway's timeline with the rules considered at each step.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {}
pub fn run(_a: &ExplainArgs, _out: &mut dyn std::io::Write) -> u8 { 0 }
