//! CSV text in, a PostgreSQL table's rows out, in one transaction: the table is created if
//! missing (columns typed by [`ColumnType`]), given any column it lacks, emptied with `DELETE`
//! (readers keep seeing the old rows until the commit) and filled with `COPY … FROM STDIN`.
//! Any failure rolls the transaction back, so the table is exactly as it was before the run.

use super::ColumnType;
use crate::io::pg::{describe, quote_table, PgConnection};
use std::io::{self, Write};

/// Replaces the rows of `table` (`name` or `schema.name`) with the CSV text `write_csv`
/// writes (a header, then rows), in one transaction. Returns the rows written.
pub fn replace_table(
    conn: &PgConnection,
    table: &str,
    type_of: &dyn Fn(&str) -> ColumnType,
    write_csv: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<u64, String> {
    let quoted = quote_table(table)?;
    // The text is produced first: the header names the columns the table must have. The PTL is
    // in memory already; its text is of the same order.
    let mut text = Vec::new();
    write_csv(&mut text).map_err(|e| format!("cannot write the rows for `{table}`: {e}"))?;
    let header_end = text.iter().position(|b| *b == b'\n').unwrap_or(text.len());
    let columns: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&text[..header_end])
        .records()
        .next()
        .transpose()
        .map_err(|e| format!("cannot read the header for `{table}`: {e}"))?
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default();
    if columns.is_empty() {
        return Err(format!("no columns to write to `{table}`"));
    }
    let ident = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "cannot {what} `{table}` on {}: {}",
            conn.shown(),
            conn.scrub(e)
        )
    };
    let failpg = |what: &str, e: &postgres::Error| fail(what, &describe(e));
    let mut client = conn.connect()?;
    let mut tx = client
        .transaction()
        .map_err(|e| failpg("start a transaction for", &e))?;
    let mut ddl = format!(
        "CREATE TABLE IF NOT EXISTS {quoted} ({});",
        columns
            .iter()
            .map(|c| format!("{} {}", ident(c), type_of(c).sql()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for c in &columns {
        ddl.push_str(&format!(
            " ALTER TABLE {quoted} ADD COLUMN IF NOT EXISTS {} {};",
            ident(c),
            type_of(c).sql()
        ));
    }
    ddl.push_str(&format!(" DELETE FROM {quoted};"));
    tx.batch_execute(&ddl).map_err(|e| failpg("prepare", &e))?;
    let copy = format!(
        "COPY {quoted} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)",
        columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut writer = tx.copy_in(&copy).map_err(|e| failpg("write", &e))?;
    writer.write_all(&text).map_err(|e| fail("write", &e))?;
    let rows = writer.finish().map_err(|e| failpg("write", &e))?;
    tx.commit().map_err(|e| failpg("commit", &e))?;
    Ok(rows)
}
