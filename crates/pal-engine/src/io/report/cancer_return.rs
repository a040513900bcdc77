//! The cancer waiting-time standards for a month: each standard (28-day Faster Diagnosis, 31-day
//! and 62-day combined, CWT 12.1) by route, with the pathways ending in the month within the
//! standard (numerator), all of them (denominator), the percentage and the operational
//! standard. The counts are the services layer's (`services::returns::cancer`); this module
//! holds and writes them (CSV, an aligned table, JSON).

use serde::Serialize;
use std::io::{self, Write};

/// A cancer waiting-time standard in force since 1 October 2023 (CWT 12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancerStandard {
    /// 28 days from an urgent referral to the patient being told of a diagnosis or that cancer
    /// is ruled out.
    FasterDiagnosis,
    /// 31 days from the decision to treat to the start of treatment (first and subsequent).
    Combined31,
    /// 62 days from an urgent referral, screening referral or consultant upgrade to the first
    /// definitive treatment.
    Combined62,
}

impl CancerStandard {
    /// Every standard, in the report's order.
    pub const ALL: [CancerStandard; 3] = [
        CancerStandard::FasterDiagnosis,
        CancerStandard::Combined31,
        CancerStandard::Combined62,
    ];

    /// Its name in the report.
    pub fn label(self) -> &'static str {
        match self {
            CancerStandard::FasterDiagnosis => "28-day Faster Diagnosis Standard",
            CancerStandard::Combined31 => "31-day combined",
            CancerStandard::Combined62 => "62-day combined",
        }
    }
}

/// One line: a standard and a route (or `All routes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CancerReturnRow {
    /// The standard.
    pub standard: CancerStandard,
    /// The route (`Urgent suspected cancer`, `Screening`, `Consultant upgrade`, …) or `All routes`.
    pub route: String,
    /// The target in days.
    pub target_days: i64,
    /// Pathways ending in the month within the target.
    pub within: u64,
    /// Pathways ending in the month.
    pub total: u64,
    /// The operational standard in percent, if the policy declares one.
    pub operational_standard: Option<i64>,
}

impl CancerReturnRow {
    /// Percentage within target (one decimal), `None` with no pathways.
    pub fn percent(&self) -> Option<f64> {
        (self.total > 0).then(|| (1000.0 * self.within as f64 / self.total as f64).round() / 10.0)
    }

    /// Whether the operational standard is met (`None` with no pathways or no standard).
    pub fn met(&self) -> Option<bool> {
        Some(self.percent()? >= self.operational_standard? as f64)
    }
}

/// The cancer standards of one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CancerReturn {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The lines, per standard: each route with pathways, then `All routes`.
    pub rows: Vec<CancerReturnRow>,
}

/// The CSV header.
pub const HEADER: [&str; 8] = [
    "month",
    "standard",
    "route",
    "target_days",
    "within_target",
    "total",
    "percent_within",
    "operational_standard_percent",
];

fn cells(month: &str, r: &CancerReturnRow) -> Vec<String> {
    vec![
        month.to_string(),
        r.standard.label().to_string(),
        r.route.clone(),
        r.target_days.to_string(),
        r.within.to_string(),
        r.total.to_string(),
        r.percent().map(|p| format!("{p:.1}")).unwrap_or_default(),
        r.operational_standard
            .map(|s| s.to_string())
            .unwrap_or_default(),
    ]
}

/// Writes the return as CSV (with a `standard_met` column).
pub fn write_csv(c: &CancerReturn, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = HEADER.to_vec();
    header.push("standard_met");
    w.write_record(&header).map_err(io::Error::other)?;
    for r in &c.rows {
        let mut row = cells(&c.month, r);
        row.push(r.met().map(|m| m.to_string()).unwrap_or_default());
        w.write_record(&row).map_err(io::Error::other)?;
    }
    w.flush()
}

/// Writes the return as an aligned table for people.
pub fn write_table(c: &CancerReturn, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Cancer waiting-time standards, {}", c.month)?;
    writeln!(out)?;
    let header = [
        "standard", "route", "within", "total", "%", "standard", "met",
    ];
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            vec![
                r.standard.label().to_string(),
                r.route.clone(),
                r.within.to_string(),
                r.total.to_string(),
                r.percent()
                    .map(|p| format!("{p:.1}%"))
                    .unwrap_or("-".into()),
                r.operational_standard
                    .map(|s| format!("{s}%"))
                    .unwrap_or("-".into()),
                match r.met() {
                    Some(true) => "met".into(),
                    Some(false) => "NOT met".into(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    super::write_table(&header, &rows, out)
}

/// Writes the return as one JSON object (percentages and verdicts included).
pub fn write_json(c: &CancerReturn, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Row<'a> {
        #[serde(flatten)]
        row: &'a CancerReturnRow,
        percent_within: Option<f64>,
        standard_met: Option<bool>,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        month: &'a str,
        rows: Vec<Row<'a>>,
    }
    let doc = Doc {
        month: &c.month,
        rows: c
            .rows
            .iter()
            .map(|row| Row {
                row,
                percent_within: row.percent(),
                standard_met: row.met(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
