//! The command line: argument parsing and one module per subcommand. Each subcommand is a
//! function from its arguments to an exit code, writing to the given output, so tests can call
//! it directly.
//!
//! Exit codes (all subcommands): 0 success; 1 findings (errors, or warnings with
//! `--deny-warnings`; failed tests; rejected rows with `--strict`); 2 usage error;
//! 3 unreadable input (a missing or unreadable file).
//!
//! Messages go to standard error through [`say!`], which never panics: with stderr closed or
//! full (`pal run … 2>&-`) the message is lost, not the run.

/// `eprintln!` that ignores a failed write instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` that ignores a failed write instead of panicking.
macro_rules! say_text {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod bench;
mod check;
mod convert;
mod diff;
mod explain;
mod fmt;
mod lsp;
mod report;
mod run;
mod synth;
mod test;
mod validate;

pub(crate) use explain::{read_pathway, Extract};

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings (policy errors, failed tests, rejected rows under `--strict`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: the command line itself is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: an input file could not be read.
pub const EXIT_UNREADABLE: u8 = 3;

/// PAL — Patient Access Language: NHS access policies as checked, executable rules.
#[derive(Debug, Parser)]
#[command(name = "pal", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process: the size of `run`'s arguments costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check policy files (names, types, lints) and report every problem.
    Check(check::CheckArgs),
    /// Run a policy over pathway events: clocks, outcomes, obligations, PTL and RTT summary.
    Run(run::RunArgs),
    /// Compare the PAS's view of each open pathway with the policy's: clock starts, open or
    /// stopped, each disagreement with the rule that decided it (exit 1 if any).
    Validate(validate::ValidateArgs),
    /// What changing a policy does: both over an extract (`--events`), or the smallest pathway
    /// on which they disagree. Exit 0: no difference; 1: differences found.
    Diff(diff::DiffArgs),
    /// Run the `test` blocks of policy files.
    Test(test::TestArgs),
    /// Rewrite policy files in the canonical layout (`--check`: list those that differ).
    Fmt(fmt::FmtArgs),
    /// Reports: the monthly RTT return, the cancer standards of a month, the HTML report.
    Report(report::ReportArgs),
    /// Show one pathway's timeline: which rules fired, which did not and why, clock states.
    Explain(explain::ExplainArgs),
    /// Convert a CSV events extract to Parquet, losslessly (typed columns where exact).
    Convert(convert::ConvertArgs),
    /// Write a seeded synthetic PAS extract (CSV or JSON Lines).
    Synth(synth::SynthArgs),
    /// Measure PAL on synthetic extracts against the native baseline and peer engines.
    Bench(bench::BenchArgs),
    /// Try scenarios interactively (or from piped standard input).
    Repl {
        /// The policy to load.
        policy: Option<PathBuf>,
        /// Also let policies import, extend and read holiday files under DIR (repeatable; the
        /// loaded policy's own folder is always allowed).
        #[arg(long = "policy-path", value_name = "DIR")]
        policy_path: Vec<PathBuf>,
        /// Start with a pathway of this events file (`--pathway`), its events added as if
        /// typed (so `:undo`, `:set`, `:save` work on them).
        #[arg(long, requires_all = ["pathway", "policy"])]
        events: Option<PathBuf>,
        /// The pathway of `--events` to start with.
        #[arg(long, requires = "events")]
        pathway: Option<String>,
        /// The format of `--events` when its extension does not say.
        #[arg(long, requires = "events")]
        input_format: Option<String>,
        /// The shape of `--events`, as for `pal run`: a mapping the policy declares (by name),
        /// or a mapping file; `none` reads PAL's own columns. Default: the policy's mapping if
        /// it declares exactly one, else PAL's own columns.
        #[arg(long = "map", value_name = "NAME|FILE", requires = "events")]
        map: Option<String>,
    },
    /// Serve editors: the PAL language server over standard input and output.
    Lsp(lsp::LspArgs),
    /// Explain a diagnostic code such as E0102.
    ExplainCode {
        /// The code, e.g. `E0102`.
        code: String,
    },
}

/// Whether to colour output written to stdout.
pub(crate) fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Parses the command line and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    // The language server's writer thread owns standard output: nothing may hold its lock.
    if let Command::Lsp(a) = &cli.command {
        return ExitCode::from(lsp::run(a));
    }
    let mut out = std::io::stdout().lock();
    let code = match &cli.command {
        Command::Check(a) => check::run(a, &mut out),
        Command::Run(a) => run::run(a, &mut out),
        Command::Validate(a) => validate::run(a, &mut out),
        Command::Test(a) => test::run(a, &mut out),
        Command::Diff(a) => diff::run(a, &mut out),
        Command::Fmt(a) => fmt::run(a, &mut out),
        Command::Explain(a) => explain::run(a, &mut out),
        Command::Report(a) => report::run(a, &mut out),
        Command::ExplainCode { code } => explain_code(code, &mut out),
        Command::Convert(a) => convert::run(a, &mut out),
        Command::Synth(a) => synth::run(a, &mut out),
        Command::Bench(a) => bench::run(a, &mut out),
        // Served above, before standard output is locked.
        Command::Lsp(_) => EXIT_OK,
        Command::Repl {
            policy,
            policy_path,
            events,
            pathway,
            input_format,
            map,
        } => {
            let start = events.as_ref().map(|events| Extract {
                events: events.clone(),
                input_format: input_format.clone(),
                map: map.clone(),
                pathway: pathway.clone().unwrap_or_default(),
            });
            crate::repl::run(policy.as_deref(), policy_path, start.as_ref())
        }
    };
    ExitCode::from(code)
}

fn explain_code(code: &str, out: &mut dyn std::io::Write) -> u8 {
    match pal_engine::base::diagnostic::code_info(code) {
        Some(info) => {
            let kind = match info.code.severity() {
                pal_engine::base::diagnostic::Severity::Warning => "warning",
                pal_engine::base::diagnostic::Severity::Error => "error",
            };
            let _ = writeln!(out, "{} ({kind}): {}\n", info.code, info.title);
            if let Some(lint) = pal_engine::base::lint::by_code(info.code) {
                let _ = writeln!(
                    out,
                    "Lint `{}`; silence it for one item with `// pal: allow({})` on or above it.\n",
                    lint.name, lint.name
                );
            }
            let _ = writeln!(out, "{}\n", info.explanation);
            let _ = writeln!(out, "Wrong:\n");
            for line in info.example.lines() {
                let _ = writeln!(out, "    {line}");
            }
            let _ = writeln!(out, "\nRight:\n");
            for line in info.fix.lines() {
                let _ = writeln!(out, "    {line}");
            }
            EXIT_OK
        }
        None => {
            say!(
                "error: unknown diagnostic code `{code}`; codes are {}",
                pal_engine::base::diagnostic::CODES
                    .iter()
                    .map(|c| c.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            EXIT_USAGE
        }
    }
}

/// Paths given on the command line, or `policies/` when none.
pub(crate) fn default_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("policies")]
    } else {
        paths.to_vec()
    }
}
