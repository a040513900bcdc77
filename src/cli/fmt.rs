//! `pal fmt [--check] [PATH…]`: rewrite policy files in the canonical layout
//! (`pal_engine::syntax::format`) and print the name of each file rewritten (with `--check`:
//! each file that would be). A file that cannot be read or parsed is reported on stderr and
//! never rewritten; `-` formats standard input to standard output.

use super::{default_paths, EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use pal_engine::base::diagnostic::{Code, Diagnostic};
use pal_engine::base::source::SourceMap;
use pal_engine::front::loader::{read_source, source_from_bytes};
use pal_engine::io::render::{render, Format};
use pal_engine::services::project::pal_files;
use pal_engine::syntax::format::format_source;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Arguments of `pal fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Policy files or directories (searched for *.pal), or `-` to format standard input to
    /// standard output. Default: `policies/`.
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files whose layout differs, and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

/// What happened to the files of one run.
#[derive(Default)]
struct Tally {
    sources: SourceMap,
    diagnostics: Vec<Diagnostic>,
    unreadable: bool,
    unparsable: bool,
    differ: usize,
}

/// Runs `pal fmt`.
pub fn run(args: &FmtArgs, out: &mut dyn Write) -> u8 {
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin && args.paths.len() > 1 {
        say!("error: `-` (standard input) cannot be combined with other paths");
        return EXIT_USAGE;
    }
    let mut tally = Tally::default();
    if stdin {
        format_stdin(args.check, out, &mut tally);
    } else {
        for file in files(&default_paths(&args.paths), &mut tally) {
            format_file(&file, args.check, out, &mut tally);
        }
    }
    if !tally.diagnostics.is_empty() {
        say_text!(
            "{}",
            render(&tally.diagnostics, &tally.sources, Format::Human, false)
        );
    }
    if tally.unreadable {
        EXIT_UNREADABLE
    } else if tally.unparsable || (args.check && tally.differ > 0) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// The `.pal` files named by `paths` (directories searched), reporting missing ones.
fn files(paths: &[PathBuf], tally: &mut Tally) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for p in paths {
        if p.is_dir() {
            if let Err(e) = pal_files(p, &mut found) {
                tally.diagnostics.push(Diagnostic::new(
                    Code::E0003,
                    format!("cannot read directory `{}`: {e}", p.display()),
                ));
                tally.unreadable = true;
            }
        } else if p.exists() {
            found.push(p.clone());
        } else {
            tally.diagnostics.push(
                Diagnostic::new(
                    Code::E0003,
                    format!("cannot read `{}`: no such file", p.display()),
                )
                .help("name a .pal file or a directory of them"),
            );
            tally.unreadable = true;
        }
    }
    found
}

fn format_file(path: &Path, check: bool, out: &mut dyn Write, tally: &mut Tally) {
    let id = match read_source(path, None, &mut tally.sources) {
        Ok(id) => id,
        Err(d) => {
            tally.diagnostics.push(d);
            tally.unreadable = true;
            return;
        }
    };
    let text = tally.sources.get(id).text.clone();
    let formatted = match format_source(id, &text) {
        Ok(f) => f,
        Err(d) => {
            tally.diagnostics.push(d);
            tally.unparsable = true;
            return;
        }
    };
    if formatted == text {
        return;
    }
    tally.differ += 1;
    if !check {
        if let Err(e) = pal_engine::services::output::write_file(path, formatted.as_bytes()) {
            tally.diagnostics.push(Diagnostic::new(
                Code::E0003,
                format!("cannot write `{}`: {e}", path.display()),
            ));
            tally.unreadable = true;
            return;
        }
    }
    let _ = writeln!(out, "{}", path.display());
}

fn format_stdin(check: bool, out: &mut dyn Write, tally: &mut Tally) {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        tally.diagnostics.push(Diagnostic::new(
            Code::E0003,
            format!("cannot read standard input: {e}"),
        ));
        tally.unreadable = true;
        return;
    }
    let id = match source_from_bytes("<stdin>", bytes, &mut tally.sources) {
        Ok(id) => id,
        Err(d) => {
            tally.diagnostics.push(d);
            tally.unreadable = true;
            return;
        }
    };
    let text = tally.sources.get(id).text.clone();
    match format_source(id, &text) {
        Ok(formatted) if check => {
            if formatted != text {
                tally.differ += 1;
                let _ = writeln!(out, "<stdin>");
            }
        }
        Ok(formatted) => {
            let _ = out.write_all(formatted.as_bytes());
        }
        Err(d) => {
            tally.diagnostics.push(d);
            tally.unparsable = true;
        }
    }
}
