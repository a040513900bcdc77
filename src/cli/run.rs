//! `pal run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {}
pub fn run(_a: &RunArgs, _out: &mut dyn std::io::Write) -> u8 { 0 }
