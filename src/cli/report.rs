//! `pal report`: what the performance team submits and the board reads — the monthly RTT
//! return (NHS England's full CSV), the cancer waiting-time standards of a month, and the
//! self-contained HTML report. Arguments and printing only; the figures are
//! `pal_engine::services::returns`.

use super::run::{load_with_files, open_input, parse_date_arg, print_rejection, read_error};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE};
use chrono::NaiveDate;
use pal_engine::io::report::rtt_return::{Organisation, ReturnOrganisations};
use pal_engine::io::report::{cancer_return, html, rtt_return};
use pal_engine::model::ir::Policy;
use pal_engine::services::batch;
use pal_engine::services::output::{check_outputs, OutputFile};
use pal_engine::services::returns::groups::TreatmentFunctionGroups;
use pal_engine::services::returns::{
    self, cancer, rtt, ReportMonth, ReportWarning, RowAccount, WarningKind,
};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `pal report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The report.
    #[command(subcommand)]
    pub report: Report,
}

/// The reports.
#[derive(Debug, clap::Subcommand)]
pub enum Report {
    /// The monthly RTT return in NHS England's full-CSV layout (Parts 1A, 1B, 2, 2A, 3 by
    /// treatment function).
    RttReturn(RttReturnArgs),
    /// The cancer waiting-time standards of a month (28-day FDS, 31-day, 62-day) by route.
    CancerReturn(CancerReturnArgs),
    /// One self-contained HTML page: histogram, headline figures, specialties, the PTL's top
    /// rows and their timelines.
    Html(HtmlArgs),
}

/// What every report reads.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The policy file (e.g. `policies/rde.pal`).
    pub policy: PathBuf,
    /// Also let policies import, extend and read holiday files under DIR (repeatable).
    #[arg(long = "policy-path", value_name = "DIR")]
    pub policy_path: Vec<PathBuf>,
    /// The events: CSV or JSON Lines (by extension, or `--input-format`); `-` reads stdin.
    #[arg(long)]
    pub events: PathBuf,
    /// Input format when the file extension does not say (csv, jsonl).
    #[arg(long)]
    pub input_format: Option<String>,
    /// Fail on the first rejected row.
    #[arg(long)]
    pub strict: bool,
    /// Stream input whose rows are grouped by pathway.
    #[arg(long)]
    pub streaming: bool,
    /// Write to this file (complete or not at all) instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Exit 1 when the report has warnings (failed submission checks, data warnings).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Arguments of `pal report rtt-return`.
#[derive(Debug, clap::Args)]
pub struct RttReturnArgs {
    #[command(flatten)]
    common: Common,
    /// The month reported (YYYY-MM): clocks stopped and started in it, open at its last day.
    #[arg(long, value_parser = parse_month)]
    month: ReportMonth,
    /// Provider org code (ODS), e.g. RH8.
    #[arg(long, default_value = "")]
    provider: String,
    /// Provider org name.
    #[arg(long, default_value = "")]
    provider_name: String,
    /// Provider parent org code (the ICB).
    #[arg(long, default_value = "")]
    provider_parent: String,
    /// Provider parent name.
    #[arg(long, default_value = "")]
    provider_parent_name: String,
    /// Commissioner org code.
    #[arg(long, default_value = "")]
    commissioner: String,
    /// Commissioner org name.
    #[arg(long, default_value = "")]
    commissioner_name: String,
    /// Commissioner parent org code.
    #[arg(long, default_value = "")]
    commissioner_parent: String,
    /// Commissioner parent name.
    #[arg(long, default_value = "")]
    commissioner_parent_name: String,
    /// The clock reported.
    #[arg(long, default_value = "rtt")]
    clock: String,
    /// The pathway attribute holding the treatment function (a code such as 110, or a name the
    /// grouping file lists).
    #[arg(long, default_value = "specialty")]
    function_attribute: String,
    /// A treatment-function grouping file instead of the shipped one
    /// (crates/pal-engine/data/treatment-function-groups.csv).
    #[arg(long, value_name = "FILE")]
    treatment_functions: Option<PathBuf>,
}

/// `--format` of the cancer return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CancerFormat {
    /// An aligned table for people.
    Table,
    /// CSV, one line per standard and route.
    Csv,
    /// One JSON object.
    Json,
}

/// Arguments of `pal report cancer-return`.
#[derive(Debug, clap::Args)]
pub struct CancerReturnArgs {
    #[command(flatten)]
    common: Common,
    /// The month reported (YYYY-MM): pathways whose end point falls in it.
    #[arg(long, value_parser = parse_month)]
    month: ReportMonth,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: CancerFormat,
}

/// Arguments of `pal report html`.
#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    #[command(flatten)]
    common: Common,
    /// The census date (YYYY-MM-DD). Default: today.
    #[arg(long, value_parser = parse_date_arg)]
    as_at: Option<NaiveDate>,
    /// The clock tracked.
    #[arg(long, default_value = "rtt")]
    clock: String,
    /// PTL rows shown, each with its timeline.
    #[arg(long, default_value_t = 50)]
    top: usize,
    /// The pathway attribute of the specialty table.
    #[arg(long, default_value = "specialty")]
    specialty_attribute: String,
    /// The page title.
    #[arg(long, default_value = "Waiting list report")]
    title: String,
}

fn parse_month(s: &str) -> Result<ReportMonth, String> {
    s.parse()
}

/// Runs `pal report`.
pub fn run(args: &ReportArgs, out: &mut dyn Write) -> u8 {
    match &args.report {
        Report::RttReturn(a) => rtt_return(a, out),
        Report::CancerReturn(a) => cancer_return(a, out),
        Report::Html(a) => html_report(a, out),
    }
}

/// Loads the policy and opens the input, refusing an output that names an input.
fn open(c: &Common) -> Result<(Policy, batch::Input), u8> {
    let outputs: Vec<(&str, &Path)> = c.output.iter().map(|p| ("-o", p.as_path())).collect();
    let inputs = [
        ("events file", c.events.as_path()),
        ("policy", c.policy.as_path()),
    ];
    if let Err(msg) = check_outputs(&inputs, &outputs) {
        say!("error: {msg}");
        return Err(EXIT_USAGE);
    }
    let (policy, files) = load_with_files(&c.policy, &c.policy_path)?;
    let imported: Vec<(&str, &Path)> = files.iter().map(|p| ("policy file", p.as_path())).collect();
    if let Err(msg) = check_outputs(&imported, &outputs) {
        say!("error: {msg}");
        return Err(EXIT_USAGE);
    }
    let input = open_input(&c.events, c.input_format.as_deref()).map_err(|(code, msg)| {
        say!("error: {msg}");
        code
    })?;
    Ok((policy, input))
}

fn run_failed(e: &batch::Error) -> u8 {
    say!("error: {e}");
    match e {
        batch::Error::Read(r) => read_error(r),
        batch::Error::Write(_) | batch::Error::Ptl(_) => EXIT_UNREADABLE,
    }
}

/// Writes the report to `-o` (complete or absent) or `out`, prints the warnings and the row
/// account, and gives the exit code.
fn finish(
    c: &Common,
    out: &mut dyn Write,
    write: &dyn Fn(&mut dyn Write) -> std::io::Result<()>,
    warnings: &[ReportWarning],
    counts: &RowAccount,
    submission: bool,
) -> u8 {
    let written = match &c.output {
        Some(path) => OutputFile::create(path).and_then(|mut f| {
            write(&mut f)?;
            f.commit()
        }),
        None => write(out).and_then(|()| out.flush()),
    };
    if let Err(e) = written {
        let target = c
            .output
            .as_deref()
            .map_or("standard output".to_string(), |p| {
                format!("`{}`", p.display())
            });
        say!("error: cannot write {target}: {e}");
        return EXIT_UNREADABLE;
    }
    for w in warnings {
        say!("warning: {w}");
    }
    let checks = warnings
        .iter()
        .filter(|w| w.kind == WarningKind::SubmissionCheck)
        .count();
    let account = format!(
        "{} rows read, {} evaluated, {} rejected, {} after the census date; {} pathways",
        counts.rows_read,
        counts.rows_evaluated,
        counts.rows_rejected,
        counts.rows_after_as_at,
        counts.pathways,
    );
    if submission {
        say!(
            "{account}; {} warning{} ({checks} submission check{} failed)",
            warnings.len(),
            if warnings.len() == 1 { "" } else { "s" },
            if checks == 1 { "" } else { "s" },
        );
    } else {
        say!("{account}");
    }
    if c.deny_warnings && !warnings.is_empty() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn reading<'w>(
    c: &Common,
    on_rejection: &'w mut dyn FnMut(&pal_engine::io::events::Rejection),
) -> returns::Reading<'w> {
    returns::Reading {
        strict: c.strict,
        streaming: c.streaming,
        on_rejection,
    }
}

fn rtt_return(a: &RttReturnArgs, out: &mut dyn Write) -> u8 {
    let groups = match &a.treatment_functions {
        None => TreatmentFunctionGroups::shipped(),
        Some(path) => {
            let text = match read_grouping(path) {
                Ok(t) => t,
                Err(e) => {
                    say!("error: cannot read `{}`: {e}", path.display());
                    return EXIT_UNREADABLE;
                }
            };
            match TreatmentFunctionGroups::parse(&path.display().to_string(), &text) {
                Ok(g) => g,
                Err(msg) => {
                    say!("error: {msg}");
                    return EXIT_UNREADABLE;
                }
            }
        }
    };
    let (policy, input) = match open(&a.common) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let org = |code: &str, name: &str| Organisation {
        code: code.to_string(),
        name: name.to_string(),
    };
    let options = rtt::RttReturnOptions {
        month: a.month,
        organisations: ReturnOrganisations {
            provider_parent: org(&a.provider_parent, &a.provider_parent_name),
            provider: org(&a.provider, &a.provider_name),
            commissioner_parent: org(&a.commissioner_parent, &a.commissioner_parent_name),
            commissioner: org(&a.commissioner, &a.commissioner_name),
        },
        clock: a.clock.clone(),
        function_attribute: a.function_attribute.clone(),
        groups,
    };
    let mut on_rejection = print_rejection;
    let built = rtt::build(
        &policy,
        input,
        reading(&a.common, &mut on_rejection),
        options,
    );
    let (ret, warnings, counts) = match built {
        Ok(x) => x,
        Err(e) => return run_failed(&e),
    };
    finish(
        &a.common,
        out,
        &|w| rtt_return::write_csv(&ret, w),
        &warnings,
        &counts,
        true,
    )
}

fn cancer_return(a: &CancerReturnArgs, out: &mut dyn Write) -> u8 {
    let (policy, input) = match open(&a.common) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut on_rejection = print_rejection;
    let options = cancer::CancerReturnOptions::national(a.month);
    let built = cancer::build(
        &policy,
        input,
        reading(&a.common, &mut on_rejection),
        options,
    );
    let (ret, warnings, counts) = match built {
        Ok(x) => x,
        Err(e) => return run_failed(&e),
    };
    let format = a.format;
    finish(
        &a.common,
        out,
        &|w| match format {
            CancerFormat::Table => cancer_return::write_table(&ret, w),
            CancerFormat::Csv => cancer_return::write_csv(&ret, w),
            CancerFormat::Json => cancer_return::write_json(&ret, w),
        },
        &warnings,
        &counts,
        false,
    )
}

fn html_report(a: &HtmlArgs, out: &mut dyn Write) -> u8 {
    let (policy, input) = match open(&a.common) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let as_at = a.as_at.unwrap_or_else(|| chrono::Local::now().date_naive());
    let options = returns::html::HtmlOptions {
        as_at,
        clock: a.clock.clone(),
        top: a.top,
        specialty_attribute: a.specialty_attribute.clone(),
        groups: TreatmentFunctionGroups::shipped(),
        title: a.title.clone(),
    };
    let mut on_rejection = print_rejection;
    let built = returns::html::build(
        &policy,
        input,
        reading(&a.common, &mut on_rejection),
        options,
    );
    let (report, counts) = match built {
        Ok(x) => x,
        Err(e) => return run_failed(&e),
    };
    let page = html::render(&report, &policy);
    finish(
        &a.common,
        out,
        &|w| w.write_all(page.as_bytes()),
        &[],
        &counts,
        false,
    )
}

/// The largest grouping file read (the shipped one is 6 KiB).
const MAX_GROUPING_BYTES: u64 = 1 << 20;

/// Reads a treatment-function grouping file: a regular file (a FIFO or device would never
/// end), UTF-8, at most [`MAX_GROUPING_BYTES`].
fn read_grouping(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_GROUPING_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_GROUPING_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is over {MAX_GROUPING_BYTES} bytes"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8"))
}
