//! `pal convert`: an events extract from CSV to Parquet, losslessly. Each column is stored as
//! the narrowest type that gives back exactly the text it was given ([`ColumnType::infer`]:
//! dates, whole numbers, booleans, else text), found in a first pass over the file; the second
//! pass writes the rows. So `pal run` on the Parquet file reads the same cells as on the CSV
//! file, and its results are byte-identical (a row the CSV run rejects is rejected the same way,
//! under a row number instead of a line).

use crate::base::text::excerpt;
use crate::io::sinks::parquet::ParquetSink;
use crate::io::sinks::ColumnType;
use crate::services::output::OutputFile;
use std::collections::HashMap;
use std::path::Path;

/// A column's type as far as the values seen so far allow.
#[derive(Clone, Copy)]
struct Guess {
    date: bool,
    int: bool,
    boolean: bool,
    any: bool,
}

impl Guess {
    fn see(&mut self, v: &str) {
        if v.is_empty() {
            return;
        }
        self.any = true;
        let t = ColumnType::infer([v]);
        self.date &= t == ColumnType::Date;
        self.int &= t == ColumnType::Int;
        self.boolean &= t == ColumnType::Bool;
    }

    fn column_type(self) -> ColumnType {
        match (self.any, self.date, self.int, self.boolean) {
            (true, true, _, _) => ColumnType::Date,
            (true, _, true, _) => ColumnType::Int,
            (true, _, _, true) => ColumnType::Bool,
            _ => ColumnType::Text,
        }
    }
}

fn reader(path: &Path) -> Result<csv::Reader<std::fs::File>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file))
}

fn header(r: &mut csv::Reader<std::fs::File>, path: &Path) -> Result<Vec<String>, String> {
    Ok(r.headers()
        .map_err(|e| format!("cannot read the CSV header of `{}`: {e}", path.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect())
}

/// The line a record starts on, for messages.
fn line_of(e: &csv::Error) -> String {
    e.position()
        .map(|p| format!(" (line {})", p.line()))
        .unwrap_or_default()
}

/// Converts the CSV extract `input` to the Parquet file `output` (complete or absent); returns
/// the rows written and each column's type.
pub fn csv_to_parquet(
    input: &Path,
    output: &Path,
) -> Result<(u64, Vec<(String, ColumnType)>), String> {
    let shown = input.display();
    let mut first = reader(input)?;
    let names = header(&mut first, input)?;
    let mut guesses = vec![
        Guess {
            date: true,
            int: true,
            boolean: true,
            any: false,
        };
        names.len()
    ];
    for record in first.records() {
        let record = record.map_err(|e| format!("cannot read `{shown}`{}: {e}", line_of(&e)))?;
        if record.len() != names.len() {
            return Err(format!(
                "`{shown}` line {}: the row has {} cells but the header has {} columns",
                record.position().map_or(0, csv::Position::line),
                record.len(),
                names.len()
            ));
        }
        for (g, v) in guesses.iter_mut().zip(record.iter()) {
            g.see(v);
        }
    }
    let types: Vec<(String, ColumnType)> = names
        .iter()
        .cloned()
        .zip(guesses.iter().map(|g| g.column_type()))
        .collect();
    let by_name: HashMap<String, ColumnType> = types.iter().cloned().collect();
    let file = OutputFile::create(output)
        .map_err(|e| format!("cannot write `{}`: {e}", output.display()))?;
    let sink = ParquetSink::new(
        file,
        Box::new(move |n: &str| by_name.get(n).copied().unwrap_or(ColumnType::Text)),
    );
    let mut w = csv::Writer::from_writer(sink);
    let write_err = |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", output.display());
    w.write_record(&names).map_err(|e| write_err(&e))?;
    let mut second = reader(input)?;
    header(&mut second, input)?;
    let mut rows = 0u64;
    for record in second.records() {
        let record = record.map_err(|e| format!("cannot read `{shown}`{}: {e}", line_of(&e)))?;
        w.write_record(&record).map_err(|e| {
            write_err(&format!(
                "line {}: {}",
                record.position().map_or(0, csv::Position::line),
                excerpt(&e.to_string())
            ))
        })?;
        rows += 1;
    }
    let sink = w
        .into_inner()
        .map_err(|e| write_err(&e.error().to_string()))?;
    let file = sink.finish().map_err(|e| write_err(&e))?;
    file.commit().map_err(|e| write_err(&e))?;
    Ok((rows, types))
}
