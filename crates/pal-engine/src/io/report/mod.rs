//! Reports over evaluated pathways: results as JSON Lines, CSV or a table; the patient
//! tracking list; the waiting-time summary; and `pal explain`'s timeline.

pub mod cancer_return;
pub mod explain;
pub mod html;
pub mod ptl;
pub mod rtt_return;
pub mod summary;
pub mod timeline;

use crate::base::value::date_text;
use crate::io::sinks::ColumnType;
use crate::runtime::eval::{ObligationStatus, PathwayResult};
use std::borrow::Cow;
use std::io::{self, Write};

/// A text cell of a CSV output (results, PTL) made safe to open in a spreadsheet: text from
/// the input that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) would be read
/// as a formula, so it gets a leading `'`, as OWASP advises against CSV injection. Numbers and
/// dates are PAL's own and never changed.
pub fn spreadsheet_safe(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// [`spreadsheet_safe`] as a serde `serialize_with`.
pub fn serialize_spreadsheet_safe<S: serde::Serializer>(
    text: &str,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&spreadsheet_safe(text))
}

/// How `pal run` writes results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultFormat {
    /// One JSON object per pathway (the `docs/events.md` contract).
    Jsonl,
    /// One CSV row per clock period.
    Csv,
    /// An aligned text table, one row per clock period.
    Table,
}

/// Writes one pathway's result as a JSON line.
pub fn write_jsonl<W: Write + ?Sized>(r: &PathwayResult, out: &mut W) -> io::Result<()> {
    // Generic rather than `dyn Write`: serde_json makes many small writes, and into a `Vec`
    // they are inlined instead of each being a virtual call.
    serde_json::to_writer(&mut *out, r).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The flattened results, one row per clock period, as every tabular sink writes them (CSV,
/// Parquet, a PostgreSQL table): each column's name and how it is stored. The one description
/// of these columns; [`CSV_HEADER`] is their names.
pub const RESULT_COLUMNS: [(&str, ColumnType); 18] = [
    ("pathway_id", ColumnType::Text),
    ("as_at", ColumnType::Date),
    ("clock", ColumnType::Text),
    ("period", ColumnType::Int),
    ("status", ColumnType::Text),
    ("start", ColumnType::Date),
    ("stop", ColumnType::Date),
    ("reason", ColumnType::Text),
    ("days_waited", ColumnType::Int),
    ("weeks_waited", ColumnType::Int),
    ("paused_days", ColumnType::Int),
    ("target_days", ColumnType::Int),
    ("target_date", ColumnType::Date),
    ("breached", ColumnType::Bool),
    ("outcomes", ColumnType::Text),
    ("open_obligations", ColumnType::Text),
    ("conflicts", ColumnType::Int),
    ("warnings", ColumnType::Int),
];

/// The CSV header of [`write_csv_rows`]: the names of [`RESULT_COLUMNS`].
pub const CSV_HEADER: &[&str] = &column_names(RESULT_COLUMNS);

/// The names of a list of typed columns.
pub(crate) const fn column_names<const N: usize>(
    columns: [(&'static str, ColumnType); N],
) -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = columns[i].0;
        i += 1;
    }
    names
}

/// How the results column `name` is stored ([`RESULT_COLUMNS`]; a name not among them is
/// text).
pub fn result_column_type(name: &str) -> ColumnType {
    RESULT_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(ColumnType::Text, |(_, t)| *t)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(T::to_string).unwrap_or_default()
}

fn opt_date(v: &Option<chrono::NaiveDate>) -> String {
    v.map(date_text).unwrap_or_default()
}

/// The cells of each period row of a pathway (a pathway with no clock gets one row), text
/// cells made [`spreadsheet_safe`].
pub fn period_rows(r: &PathwayResult) -> Vec<Vec<String>> {
    let mut rows = plain_period_rows(r);
    for row in &mut rows {
        for i in [0, 7, 14, 15] {
            if let Some(cell) = row.get_mut(i) {
                if let Cow::Owned(safe) = spreadsheet_safe(cell) {
                    *cell = safe;
                }
            }
        }
    }
    rows
}

fn plain_period_rows(r: &PathwayResult) -> Vec<Vec<String>> {
    let outcomes = r
        .outcomes
        .iter()
        .map(|o| o.outcome.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let open = r
        .obligations
        .iter()
        // Open or missed: an obligation met late is not open (its lateness is in the JSON
        // result's `met_on` and `pal explain`).
        .filter(|o| o.status != ObligationStatus::Met && o.met_on.is_none())
        .map(|o| format!("{} {} {}", o.what, o.status, date_text(o.due)))
        .collect::<Vec<_>>()
        .join(";");
    let tail = [
        outcomes,
        open,
        r.conflicts.len().to_string(),
        r.warnings.len().to_string(),
    ];
    if r.clocks.is_empty() {
        let mut row = vec![r.pathway_id.to_string(), date_text(r.as_at)];
        row.extend(std::iter::repeat_n(String::new(), 12));
        row.extend(tail);
        return vec![row];
    }
    r.clocks
        .iter()
        .map(|p| {
            let mut row = vec![
                r.pathway_id.to_string(),
                date_text(r.as_at),
                p.clock.to_string(),
                p.period.to_string(),
                p.status.to_string(),
                date_text(p.start),
                opt_date(&p.stop),
                opt(&p.reason),
                opt(&p.days_waited),
                opt(&p.weeks_waited),
                p.paused_days.to_string(),
                p.target_days.to_string(),
                date_text(p.target_date),
                p.breached.to_string(),
            ];
            row.extend(tail.iter().cloned());
            row
        })
        .collect()
}

/// Writes results as CSV, one row per clock period.
pub fn write_csv(results: &[PathwayResult], out: &mut dyn Write) -> io::Result<()> {
    write_csv_header(out)?;
    for r in results {
        write_csv_rows(r, out)?;
    }
    Ok(())
}

/// Writes the CSV results header, [`CSV_HEADER`].
pub fn write_csv_header<W: Write + ?Sized>(out: &mut W) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER).map_err(io::Error::other)?;
    w.flush()
}

/// Writes one pathway's CSV result rows (one per clock period), without the header.
pub fn write_csv_rows<W: Write + ?Sized>(r: &PathwayResult, out: &mut W) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(out);
    for row in period_rows(r) {
        w.write_record(&row).map_err(io::Error::other)?;
    }
    w.flush()
}

/// Writes an aligned text table of the given header and rows.
pub fn write_table(header: &[&str], rows: &[Vec<String>], out: &mut dyn Write) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>, out: &mut dyn Write| -> io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", text.join("  ").trim_end())
    };
    line(header.to_vec(), out)?;
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
        out,
    )?;
    for row in rows {
        line(row.iter().map(String::as_str).collect(), out)?;
    }
    Ok(())
}

/// Writes results as a table, one row per clock period (the main columns only).
pub fn write_results_table(results: &[PathwayResult], out: &mut dyn Write) -> io::Result<()> {
    let keep = [0usize, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15];
    let header: Vec<&str> = keep.iter().map(|i| CSV_HEADER[*i]).collect();
    let rows: Vec<Vec<String>> = results
        .iter()
        .flat_map(period_rows)
        .map(|row| keep.iter().map(|i| row[*i].clone()).collect())
        .collect();
    write_table(&header, &rows, out)
}
