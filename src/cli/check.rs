//! `pal check [PATH…]`: check policy files and report every problem.

use super::{color_stdout, default_paths, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use pal_engine::io::render::{render, Format};
use pal_engine::services::output::{check_outputs, write_file};
use pal_engine::services::project::check_paths_with_maps;
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
    /// Output format: human, short (file:line:col), json (versioned, see docs), github or sarif
    /// (SARIF 2.1.0).
    #[arg(long, default_value = "human", value_parser = parse_format)]
    pub format: Format,
    /// Also write the findings as SARIF 2.1.0 to this file (one run, two outputs: e.g. the
    /// human form on the terminal and SARIF for code scanning).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also check this mapping file against each policy checked (repeatable): every column,
    /// code and value it names against the policy's schema.
    #[arg(long = "map", value_name = "FILE")]
    pub map: Vec<PathBuf>,
    /// Treat warnings as errors (exit 1 if there are any).
    #[arg(long)]
    pub deny_warnings: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

/// Runs `pal check`.
pub fn run(args: &CheckArgs, out: &mut dyn Write) -> u8 {
    let paths = default_paths(&args.paths);
    let checked = check_paths_with_maps(&paths, &args.policy_path, &args.map);
    let text = render(
        &checked.diagnostics,
        &checked.sources,
        args.format,
        color_stdout(),
    );
    let _ = out.write_all(text.as_bytes());
    if let Some(path) = &args.sarif {
        // Never over a policy that was just checked.
        let names: Vec<PathBuf> = checked
            .sources
            .files()
            .map(|(_, f)| PathBuf::from(&f.name))
            .collect();
        let inputs: Vec<(&str, &std::path::Path)> =
            names.iter().map(|p| ("policy file", p.as_path())).collect();
        if let Err(msg) = check_outputs(&inputs, &[("--sarif", path)]) {
            say!("error: {msg}");
            return EXIT_USAGE;
        }
        let sarif = render(&checked.diagnostics, &checked.sources, Format::Sarif, false);
        // Complete or absent: written beside the target and renamed over it.
        if let Err(e) = write_file(path, sarif.as_bytes()) {
            say!("error: cannot write `{}`: {e}", path.display());
            return EXIT_UNREADABLE;
        }
    }
    let (errors, warnings) = checked.counts();
    if args.format == Format::Human && errors == 0 && warnings == 0 {
        let _ = writeln!(
            out,
            "checked {} polic{}: no problems found",
            checked.roots.len(),
            if checked.roots.len() == 1 { "y" } else { "ies" }
        );
    }
    let unreadable = pal_engine::services::project::unreadable_input(&checked.diagnostics);
    if !checked.unreadable.is_empty() || unreadable {
        return EXIT_UNREADABLE;
    }
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
