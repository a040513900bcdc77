//! A PostgreSQL query or table as an events source. Rows stream from the server with
//! `COPY (query) TO STDOUT (FORMAT csv)`, a batch at a time, so a national table never sits in
//! memory; with `ORDER BY` the pathway id they feed the streaming mode. Column names come from
//! the prepared query and are resolved like a CSV header. Each column's text is PostgreSQL's
//! own for its type, made PAL's where the two differ: booleans (`t`/`f`) become `true`/`false`
//! and timestamps their date (in the session's time zone, which is set to `Europe/London`).
//! A rejected row names its key columns (pathway id, date and event unless others are given).
//!
//! Only `ORDER BY` guarantees an order. A table's physical order is not its load order (at
//! tier L, 94,101 of 11.7 million rows (0.8%) COPY-loaded in pathway order came back split
//! and were rejected by a streaming run as not adjacent: `BENCHMARKS.md`), so a table
//! (`PgQuery::Table`) is read `ORDER BY` its pathway-id column (PAL's `pathway_id`, or the
//! mapping's), then `ctid`: a pathway's rows in the table's physical order, which for rows
//! loaded once and not updated is their load order (a view has no `ctid`: its rows of one
//! pathway come in whatever order the sort leaves them). A query is read in its own order.
//! The session turns off synchronized sequential scans (a scan may otherwise start part-way
//! through the table) and parallel query (whose workers return rows interleaved).

use super::table::{Cells, Provenance, RowBatch, TableSource};
use super::ReadError;
use crate::io::pg::{describe, quote_table, PgConnection};
use postgres::types::Type;
use postgres::Client;

/// Rows per batch handed to a parsing thread.
const BATCH_ROWS: usize = 8192;

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgQuery {
    /// Every row of a table or view, `name` or `schema.name`, sorted by the pathway-id column
    /// (then, for a table, its physical order).
    Table(String),
    /// The rows of a `SELECT` (add `ORDER BY` the pathway id for `--streaming`).
    Query(String),
}

/// A query being read.
pub struct PgSource {
    name: String,
    columns: Vec<String>,
    fix: Vec<Fix>,
    sql: String,
    keys: Vec<String>,
    client: Client,
    conn: PgConnection,
}

/// How a column's PostgreSQL text becomes PAL's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    None,
    Bool,
    DatePart,
}

impl PgSource {
    /// Connects and prepares the query (which names its columns). `key_columns` name the
    /// columns a rejected row is identified by; empty: the pathway id, date and event.
    /// `pathway_column` is the column that holds the pathway id (`pathway_id`, or a mapping's):
    /// a table is read sorted by it.
    pub fn open(
        conn: &PgConnection,
        query: &PgQuery,
        key_columns: Vec<String>,
        pathway_column: &str,
    ) -> Result<PgSource, ReadError> {
        let (sql, what) = match query {
            PgQuery::Table(t) => {
                let quoted = quote_table(t).map_err(ReadError::Header)?;
                (format!("SELECT * FROM {quoted}"), format!("table {t}"))
            }
            PgQuery::Query(q) => (
                q.trim().trim_end_matches(';').trim_end().to_string(),
                "query".to_string(),
            ),
        };
        let name = format!("{} ({what})", conn.shown());
        let mut client = conn.connect().map_err(ReadError::Io)?;
        client
            .batch_execute(
                "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; SET TimeZone = 'Europe/London'; SET synchronize_seqscans = off; SET max_parallel_workers_per_gather = 0",
            )
            .map_err(|e| ReadError::Io(format!("{name}: {}", conn.scrub(&describe(&e)))))?;
        let header_error = |e: &postgres::Error| {
            ReadError::Header(format!("{name}: {}", conn.scrub(&describe(e))))
        };
        let mut statement = client.prepare(&sql).map_err(|e| header_error(&e))?;
        let mut sql = sql;
        // A table is read in pathway order: by its pathway-id column when it has one (when it
        // has not, reading reports the missing column), then by physical position.
        if matches!(query, PgQuery::Table(_))
            && statement
                .columns()
                .iter()
                .any(|c| c.name() == pathway_column)
        {
            let by = format!("\"{}\"", pathway_column.replace('"', "\"\""));
            let with_ctid = format!("{sql} ORDER BY {by}, ctid");
            (sql, statement) = match client.prepare(&with_ctid) {
                Ok(st) => (with_ctid, st),
                // A view has no physical position.
                Err(_) => {
                    let plain = format!("{sql} ORDER BY {by}");
                    let st = client.prepare(&plain).map_err(|e| header_error(&e))?;
                    (plain, st)
                }
            };
        }
        let columns = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let fix = statement
            .columns()
            .iter()
            .map(|c| match *c.type_() {
                Type::BOOL => Fix::Bool,
                Type::TIMESTAMP | Type::TIMESTAMPTZ => Fix::DatePart,
                _ => Fix::None,
            })
            .collect();
        Ok(PgSource {
            name,
            columns,
            fix,
            sql,
            keys: key_columns,
            client,
            conn: conn.clone(),
        })
    }
}

impl TableSource for PgSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn provenance(&self) -> Provenance {
        Provenance::KeyColumns(self.keys.clone())
    }

    fn read(
        self: Box<Self>,
        emit: &mut dyn FnMut(Box<dyn RowBatch>) -> bool,
    ) -> Result<(), ReadError> {
        let PgSource {
            name,
            fix,
            sql,
            mut client,
            conn,
            ..
        } = *self;
        let copy = format!("COPY ({sql}) TO STDOUT WITH (FORMAT csv)");
        let reader = client
            .copy_out(&copy)
            .map_err(|e| ReadError::Io(format!("{name}: {}", conn.scrub(&describe(&e)))))?;
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        let mut rows = Vec::with_capacity(BATCH_ROWS);
        let mut record = csv::ByteRecord::new();
        loop {
            let more = csv
                .read_byte_record(&mut record)
                .map_err(|e| ReadError::Io(format!("{name}: {}", conn.scrub(&stream_error(&e)))))?;
            if more {
                rows.push(std::mem::take(&mut record));
            }
            if rows.len() == BATCH_ROWS || (!more && !rows.is_empty()) {
                let batch = CopiedRows {
                    rows: std::mem::replace(&mut rows, Vec::with_capacity(BATCH_ROWS)),
                    fix: fix.clone(),
                };
                if !emit(Box::new(batch)) {
                    // Stopped early: the connection is dropped with the COPY unfinished.
                    return Ok(());
                }
            }
            if !more {
                return Ok(());
            }
        }
    }
}

/// An error while the COPY streams: the server's own message when the server ended it (a
/// query that fails partway, say for lack of disk for its sort), which the client wraps in an
/// I/O error whose `Display` is only "db error".
fn stream_error(e: &csv::Error) -> String {
    if let csv::ErrorKind::Io(io) = e.kind() {
        if let Some(pg) = io
            .get_ref()
            .and_then(|x| x.downcast_ref::<postgres::Error>())
        {
            return describe(pg);
        }
    }
    e.to_string()
}

/// Rows copied out of the server.
struct CopiedRows {
    rows: Vec<csv::ByteRecord>,
    fix: Vec<Fix>,
}

impl RowBatch for CopiedRows {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn row(&self, i: usize, cells: &mut Cells) {
        let Some(record) = self.rows.get(i) else {
            return;
        };
        for (c, text) in record.iter().enumerate() {
            match (self.fix.get(c).copied().unwrap_or(Fix::None), text) {
                (Fix::Bool, b"t") => cells.push(b"true"),
                (Fix::Bool, b"f") => cells.push(b"false"),
                (Fix::DatePart, t) if t.len() > 10 && t[10] == b' ' => cells.push(&t[..10]),
                (_, t) => cells.push(t),
            }
        }
    }
}
