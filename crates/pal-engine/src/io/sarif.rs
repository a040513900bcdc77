//! Diagnostics as a SARIF 2.1.0 log (`pal check --format sarif`, `--sarif FILE`), built with
//! `serde-sarif`'s types: one run of the `pal` tool whose rules are every registered code (id,
//! lint name, title, explanation, default level), one result per diagnostic with its primary
//! location (a repository-relative URI under `%SRCROOT%`), related locations for the other
//! labels, and a fingerprint that survives edits elsewhere in the file.

use crate::base::diagnostic::{Diagnostic, Severity, CODES};
use crate::base::lint::by_code;
use crate::base::source::{SourceMap, Span};
use crate::io::render::{locate, primary_index};
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};
use std::collections::BTreeMap;

/// The schema the log declares.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn text(s: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s.into()).build()
}

/// A rule per registered code, in code order: a result's `ruleIndex` is its code's position.
fn rules() -> Vec<ReportingDescriptor> {
    CODES
        .iter()
        .map(|info| {
            let name = by_code(info.code)
                .map_or_else(|| info.title.replace(' ', "-"), |l| l.name.to_string());
            ReportingDescriptor::builder()
                .id(info.code.as_str())
                .name(name)
                .short_description(text(info.title))
                .full_description(text(info.explanation))
                .help(text(format!(
                    "{}\n\nWrong:\n{}\n\nRight:\n{}\n\nRun `pal explain-code {}` for more.",
                    info.explanation, info.example, info.fix, info.code
                )))
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(info.code.severity())))
                        .build(),
                )
                .build()
        })
        .collect()
}

/// A file name as a SARIF artifact: relative paths are relative to the repository root
/// (`%SRCROOT%`), absolute ones become `file://` URIs.
fn artifact(file: &str) -> ArtifactLocation {
    let uri = file.replace('\\', "/");
    if uri.starts_with('/') {
        ArtifactLocation::builder()
            .uri(format!("file://{uri}"))
            .build()
    } else {
        ArtifactLocation::builder()
            .uri(uri.trim_start_matches("./").to_string())
            .uri_base_id("%SRCROOT%")
            .build()
    }
}

fn location(sources: &SourceMap, span: Span, message: Option<&str>) -> Location {
    let loc = locate(sources, span);
    let region = Region::builder()
        .start_line(loc.line as i64)
        .start_column(loc.column as i64)
        .end_line(loc.end_line as i64)
        .end_column(loc.end_column as i64)
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(artifact(loc.file))
        .region(region)
        .build();
    match message.filter(|m| !m.is_empty()) {
        Some(m) => Location::builder()
            .physical_location(physical)
            .message(Message::builder().text(m.to_string()).build())
            .build(),
        None => Location::builder().physical_location(physical).build(),
    }
}

/// FNV-1a: a hash that is the same on every machine and Rust version (the standard library's
/// hasher promises neither), for fingerprints that CI tools compare across runs.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A fingerprint from the code, the file, the message and the text of the primary line (not
/// its number, so a finding keeps its identity when lines are added above it).
fn fingerprint(d: &Diagnostic, sources: &SourceMap) -> String {
    let (file, line_text) = match d.primary_span() {
        Some(span) => {
            let f = sources.get(span.file);
            let (line, _) = f.line_col(span.start as usize);
            (f.name.as_str(), f.line_text(line).trim())
        }
        None => ("", ""),
    };
    format!(
        "{:016x}",
        fnv1a(&[d.code.as_str(), file, &d.message, line_text])
    )
}

fn result(d: &Diagnostic, sources: &SourceMap) -> SarifResult {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    for note in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    let primary = primary_index(d);
    let locations: Vec<Location> = primary
        .and_then(|i| d.labels.get(i))
        .map(|l| location(sources, l.span, Some(&l.message)))
        .into_iter()
        .collect();
    let related: Vec<Location> = d
        .labels
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != primary)
        .map(|(_, l)| location(sources, l.span, Some(&l.message)))
        .collect();
    let level = match d.severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
    };
    let fingerprints = BTreeMap::from([("palFingerprint/v1".to_string(), fingerprint(d, sources))]);
    let index = CODES
        .iter()
        .position(|c| c.code == d.code)
        .unwrap_or_default() as i64;
    let builder = SarifResult::builder()
        .rule_id(d.code.as_str())
        .rule_index(index)
        .level(level)
        .message(Message::builder().text(message).build())
        .partial_fingerprints(fingerprints);
    match (locations.is_empty(), related.is_empty()) {
        (true, _) => builder.build(),
        (false, true) => builder.locations(locations).build(),
        (false, false) => builder
            .locations(locations)
            .related_locations(related)
            .build(),
    }
}

/// The SARIF log of `diags`, pretty-printed, ending with a newline.
pub fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let driver = ToolComponent::builder()
        .name("pal")
        .full_name("PAL — Patient Access Language")
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(diags.iter().map(|d| result(d, sources)).collect::<Vec<_>>())
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(serde_json::Value::from("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    out.push('\n');
    out
}
