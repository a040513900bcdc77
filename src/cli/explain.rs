//! `pal explain POLICY --events FILE --pathway ID --as-at DATE`: one pathway's timeline.

use super::run::{choose_mapping, parse_date_arg, read_input};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use chrono::NaiveDate;
use pal_engine::io::events::PathwayEvents;
use pal_engine::io::render::{render, Format};
use pal_engine::model::ir::Policy;
use pal_engine::runtime::eval::Evaluator;
use pal_engine::services::project::load_policy_with;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Arguments of `pal explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The policy file.
    pub policy: PathBuf,
    /// Also let policies import, extend and read holiday files under DIR (repeatable; the
    /// policy's own folder is always allowed).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// The events file.
    #[arg(long)]
    pub events: PathBuf,
    /// The pathway to explain.
    #[arg(long)]
    pub pathway: String,
    /// The report date. Default: today.
    #[arg(long, value_parser = parse_date_arg)]
    pub as_at: Option<NaiveDate>,
    /// Input format when the extension does not say.
    #[arg(long)]
    pub input_format: Option<String>,
    /// The extract's own shape, as for `pal run`: a mapping the policy declares (by name), or a
    /// mapping file; `none` reads PAL's own columns. Default: the policy's mapping if it
    /// declares exactly one, else PAL's own columns.
    #[arg(long = "map", value_name = "NAME|FILE")]
    pub map: Option<String>,
    /// `text` (for people, the default) or `json` (the traced result, for programs).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ExplainFormat,
    /// The same as `--format json` (kept for scripts that use it).
    #[arg(long, hide = true)]
    pub json: bool,
}

/// `pal explain --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    /// The timeline in words.
    Text,
    /// The traced result as one JSON document (the `docs/events.md` result, with `trace`).
    Json,
}

/// One pathway of an extract, as `pal explain` and `pal repl --events` name it.
#[derive(Debug, Clone)]
pub struct Extract {
    /// The events file.
    pub events: PathBuf,
    /// Its format when the extension does not say.
    pub input_format: Option<String>,
    /// `--map`: the extract's own shape (resolved as `pal run` resolves it).
    pub map: Option<String>,
    /// The pathway.
    pub pathway: String,
}

/// Reads the pathway `extract` names, through the mapping its `--map` chooses, with the rows
/// of it that were rejected reported on stderr; or prints why not and gives the exit code.
pub(crate) fn read_pathway(
    policy: &Policy,
    extract: &Extract,
    as_at: NaiveDate,
) -> Result<PathwayEvents, u8> {
    let mapping = choose_mapping(policy, extract.map.as_deref())?;
    let set = match read_input(
        &extract.events,
        extract.input_format.as_deref(),
        mapping,
        policy,
        as_at,
    ) {
        Ok(s) => s,
        Err((code, msg)) => {
            say!("error: {msg}");
            return Err(code);
        }
    };
    for r in set
        .rejected
        .iter()
        .filter(|r| r.pathway_id.as_deref() == Some(&extract.pathway))
    {
        say!("{}:{}: rejected: {}", r.file, r.line, r.reason);
    }
    let mut pathways = set.pathways;
    match pathways.iter().position(|p| p.id == extract.pathway) {
        Some(i) => Ok(pathways.swap_remove(i)),
        None => {
            let close = pal_engine::base::suggest::did_you_mean(
                &extract.pathway,
                pathways.iter().map(|p| p.id.as_str()),
            );
            say!(
                "error: no pathway `{}` in `{}`{}",
                extract.pathway,
                extract.events.display(),
                close.map(|h| format!(" ({h})")).unwrap_or_default()
            );
            Err(EXIT_USAGE)
        }
    }
}

/// Runs `pal explain`.
pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> u8 {
    let (_sources, policy, _) = match load_policy_with(&args.policy, &args.policy_path) {
        Ok(x) => x,
        Err((sources, diags)) => {
            say_text!(
                "{}",
                render(
                    &diags,
                    &sources,
                    Format::Human,
                    std::io::stderr().is_terminal()
                )
            );
            return EXIT_FINDINGS;
        }
    };
    let as_at = args
        .as_at
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let extract = Extract {
        events: args.events.clone(),
        input_format: args.input_format.clone(),
        map: args.map.clone(),
        pathway: args.pathway.clone(),
    };
    let p = match read_pathway(&policy, &extract, as_at) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let result = Evaluator::new(&policy).run(&p.id, &p.events, &[], as_at, true);
    let res = if args.json || args.format == ExplainFormat::Json {
        serde_json::to_string_pretty(&result)
            .map_err(std::io::Error::other)
            .and_then(|j| writeln!(out, "{j}"))
    } else {
        pal_engine::io::report::explain::write_for(&policy, &result, out)
    };
    match res {
        Ok(()) => EXIT_OK,
        Err(_) => EXIT_UNREADABLE,
    }
}
