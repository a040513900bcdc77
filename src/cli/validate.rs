//! `pal validate POLICY --events FILE --pas FILE --as-at DATE`: list every pathway where the
//! PAS's recorded clock disagrees with the policy's (exit 1 if any).

use super::run::{choose_mapping, load_with_files, open_input, parse_date_arg, print_rejection};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use chrono::NaiveDate;
use pal_engine::io::events::ReadError;
use pal_engine::io::pas_view::{read_pas_view, PasColumns};
use pal_engine::model::mapping::DateFormat;
use pal_engine::services::output::{check_outputs, OutputFile};
use pal_engine::services::validate::{self, ValidationFormat};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `--format` of `pal validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// A summary and one paragraph per disagreement.
    Human,
    /// One row per disagreement.
    Csv,
    /// One JSON object: summary counts and every disagreement.
    Json,
}

/// Arguments of `pal validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The policy file (e.g. `policies/rde.pal`).
    pub policy: PathBuf,
    /// Also let policies import, extend and read holiday files under DIR (repeatable).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// The events (CSV or JSON Lines; `-` reads stdin), as for `pal run`.
    #[arg(long)]
    pub events: PathBuf,
    /// The events' own shape: a mapping the policy declares or a mapping file (as `pal run`).
    #[arg(long = "map", value_name = "NAME|FILE")]
    pub map: Option<String>,
    /// Input format of the events when the extension does not say (csv, jsonl).
    #[arg(long)]
    pub input_format: Option<String>,
    /// The PAS's view of its pathways (CSV): pathway id, RTT period start date, and optionally
    /// status and waiting-list type.
    #[arg(long)]
    pub pas: PathBuf,
    /// A column of the PAS view under its own name: `pathway_id=NAME`, `rtt_start=NAME`,
    /// `status=NAME` or `waiting_list_type=NAME` (repeatable). Defaults: those names.
    #[arg(long = "pas-column", value_name = "KEY=NAME", value_parser = parse_column)]
    pub pas_column: Vec<(String, String)>,
    /// How the PAS view writes dates, e.g. `DD/MM/YYYY` (repeatable: tried in order).
    /// Default: YYYY-MM-DD.
    #[arg(long = "pas-date-format", value_name = "FORMAT", value_parser = parse_format)]
    pub pas_date_format: Vec<DateFormat>,
    /// The report date (YYYY-MM-DD): the date the PAS view was taken.
    #[arg(long, value_parser = parse_date_arg)]
    pub as_at: NaiveDate,
    /// The clock compared.
    #[arg(long, default_value = "rtt")]
    pub clock: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

fn parse_column(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=NAME"))?;
    match k {
        "pathway_id" | "rtt_start" | "status" | "waiting_list_type" => {
            Ok((k.to_string(), v.to_string()))
        }
        _ => Err(format!(
            "`{k}` is not a PAS view column: use pathway_id, rtt_start, status or waiting_list_type"
        )),
    }
}

fn parse_format(s: &str) -> Result<DateFormat, String> {
    DateFormat::parse(s)
}

/// Runs `pal validate`.
pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> u8 {
    let outputs: Vec<(&str, &Path)> = args.output.iter().map(|p| ("-o", p.as_path())).collect();
    let inputs = [
        ("events file", args.events.as_path()),
        ("PAS view", args.pas.as_path()),
        ("policy", args.policy.as_path()),
    ];
    if let Err(msg) = check_outputs(&inputs, &outputs) {
        say!("error: {msg}");
        return EXIT_USAGE;
    }
    let (policy, _) = match load_with_files(&args.policy, &args.policy_path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if policy.clock_id(&args.clock).is_none() {
        say!(
            "error: policy `{}` has no clock `{}`",
            policy.name,
            args.clock
        );
        return EXIT_USAGE;
    }
    let mapping = match choose_mapping(&policy, args.map.as_deref()) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let events = match open_input(&args.events, args.input_format.as_deref()) {
        Ok(i) => i.with_mapping(mapping),
        Err((code, msg)) => {
            say!("error: {msg}");
            return code;
        }
    };
    let mut columns = PasColumns {
        date_formats: args.pas_date_format.clone(),
        ..PasColumns::default()
    };
    for (k, v) in &args.pas_column {
        match k.as_str() {
            "pathway_id" => columns.pathway_id = v.clone(),
            "rtt_start" => columns.rtt_start = v.clone(),
            "status" => columns.status = v.clone(),
            _ => columns.waiting_list_type = v.clone(),
        }
    }
    let pas_file = match std::fs::File::open(&args.pas) {
        Ok(f) => f,
        Err(e) => {
            say!("error: cannot read `{}`: {e}", args.pas.display());
            return EXIT_UNREADABLE;
        }
    };
    let pas_name = args.pas.display().to_string();
    let pas = match read_pas_view(std::io::BufReader::new(pas_file), &pas_name, &columns) {
        Ok(v) => v,
        Err(e) => {
            say!("error: {e}");
            return EXIT_UNREADABLE;
        }
    };
    let v = match validate::validate(&policy, events, pas, args.as_at, &args.clock) {
        Ok(v) => v,
        Err(e) => {
            say!("error: {e}");
            return match e {
                ReadError::Strict(_) => EXIT_FINDINGS,
                _ => EXIT_UNREADABLE,
            };
        }
    };
    for r in v.event_rejections.iter().chain(&v.pas_rejections) {
        print_rejection(r);
    }
    let (read, evaluated, rejected, after) = v.rows;
    say!(
        "as at {}: {read} rows read, {evaluated} evaluated, {rejected} rejected, {after} after the as-at date; {} PAS rows rejected",
        args.as_at,
        v.pas_rejections.len()
    );
    let format = match args.format {
        FormatArg::Human => ValidationFormat::Human,
        FormatArg::Csv => ValidationFormat::Csv,
        FormatArg::Json => ValidationFormat::Json,
    };
    let written = match &args.output {
        Some(path) => OutputFile::create(path).and_then(|mut f| {
            validate::write(&v, format, &mut f)?;
            f.commit()
        }),
        None => validate::write(&v, format, out),
    };
    if let Err(e) = written {
        say!("error: cannot write the report: {e}");
        return EXIT_UNREADABLE;
    }
    if v.disagreements.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}
