//! `pal check [PATH…]`: check policy files and report every problem.

use super::{color_stdout, default_paths, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE};
use pal_engine::base::diagnostic::Code;
use pal_engine::io::render::{render, Format};
use pal_engine::services::project::check_paths_with;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pal check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Policy files or directories (searched for *.pal). Default: `policies/`.
    pub paths: Vec<PathBuf>,
    /// Also let policies import, extend and read holiday files under DIR (repeatable; the
    /// policy's own folder is always allowed).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// Output format: human, short (file:line:col), json (versioned, see docs) or github.
    #[arg(long, default_value = "human", value_parser = parse_format)]
    pub format: Format,
    /// Treat warnings as errors (exit 1 if there are any).
    #[arg(long)]
    pub deny_warnings: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>()
        .map_err(|_| format!("unknown format `{s}`: use human, short, json or github"))
}

/// Runs `pal check`.
pub fn run(args: &CheckArgs, out: &mut dyn Write) -> u8 {
    let paths = default_paths(&args.paths);
    let checked = check_paths_with(&paths, &args.policy_path);
    let text = render(
        &checked.diagnostics,
        &checked.sources,
        args.format,
        color_stdout(),
    );
    let _ = out.write_all(text.as_bytes());
    let (errors, warnings) = checked.counts();
    if args.format == Format::Human && errors == 0 && warnings == 0 {
        let _ = writeln!(
            out,
            "checked {} polic{}: no problems found",
            checked.roots.len(),
            if checked.roots.len() == 1 { "y" } else { "ies" }
        );
    }
    let unreadable = checked
        .diagnostics
        .iter()
        .any(|d| d.code == Code::E0002 || d.code == Code::E0003);
    if !checked.unreadable.is_empty() || unreadable {
        return EXIT_UNREADABLE;
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
