//! The `pal` command line as a library, so tests call subcommands directly: argument parsing
//! and one module per subcommand ([`cli`]), the REPL's terminal front end ([`repl`]) and the
//! benchmark's measurements ([`measure`]). Everything a subcommand computes comes from the
//! engine, `pal_engine`.

pub mod cli;
pub mod measure;
pub mod repl;
