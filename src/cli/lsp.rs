//! `pal lsp`: the language server, over standard input and output (`pal_lsp`). Editors start
//! it; it runs until the editor asks it to exit.

use super::{EXIT_FINDINGS, EXIT_OK};

/// Arguments of `pal lsp`.
#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it (VS Code's language client does); standard input and
    /// output are the only transport.
    #[arg(long)]
    pub stdio: bool,
}

/// Runs the language server until the client exits it.
pub fn run(_args: &LspArgs) -> u8 {
    match pal_lsp::run_stdio() {
        Ok(()) => EXIT_OK,
        Err(e) => {
            say!("error: the language server stopped: {e}");
            EXIT_FINDINGS
        }
    }
}
