//! CSV text in, a PostgreSQL table's rows out, in one transaction: the table is created if
//! missing (columns typed by [`ColumnType`]), given any column it lacks, emptied with `DELETE`
//! (readers keep seeing the old rows until the commit) and filled with `COPY … FROM STDIN`.
//! Any failure rolls the transaction back, so the table is exactly as it was before the run.
//!
//! [`TableSink`] is a `Write`, like the Parquet sink: PAL's CSV writers write into it as they
//! would into a file, and the rows go to the server as they come (a worker thread owns the
//! connection and feeds the `COPY`; at most [`CHUNKS_IN_FLIGHT`] chunks of [`CHUNK_BYTES`]
//! wait for it), so a streaming run's results never sit in memory. Only
//! [`TableSink::finish`] commits: a sink dropped without it (the run failed) rolls back.

use super::ColumnType;
use crate::io::pg::{describe, quote_table, PgConnection};
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes of CSV text sent to the server at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Chunks written but not yet taken by the worker, at most.
pub const CHUNKS_IN_FLIGHT: usize = 4;

/// How each column of the table is stored, chosen by name (`Send`: the worker thread uses it).
pub type TypeOf = Box<dyn Fn(&str) -> ColumnType + Send>;

/// What the writer tells the worker.
enum Message {
    /// More CSV text.
    Text(Vec<u8>),
    /// Everything is written: finish the `COPY` and commit.
    Commit,
}

/// A PostgreSQL table whose rows are replaced by the CSV text written to it (a header naming
/// the columns, then rows), in one transaction committed by [`TableSink::finish`].
pub struct TableSink {
    table: String,
    buffer: Vec<u8>,
    to_worker: Option<SyncSender<Message>>,
    worker: Option<JoinHandle<Result<u64, String>>>,
    /// Why the write failed, once known.
    failed: Option<String>,
}

impl TableSink {
    /// Connects (so a wrong server, user or database is told before any work is done) and
    /// starts the worker that will write `table` (`name` or `schema.name`), typing its columns
    /// with `type_of`.
    pub fn open(conn: &PgConnection, table: &str, type_of: TypeOf) -> Result<TableSink, String> {
        quote_table(table)?;
        let client = conn.connect()?;
        let (to_worker, from_writer) = sync_channel(CHUNKS_IN_FLIGHT);
        let (conn, name) = (conn.clone(), table.to_string());
        let worker = std::thread::Builder::new()
            .name("pal-pg-sink".into())
            .spawn(move || write_table(client, &conn, &name, type_of.as_ref(), from_writer))
            .map_err(|e| format!("cannot start writing `{table}`: {e}"))?;
        Ok(TableSink {
            table: table.to_string(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
            to_worker: Some(to_worker),
            worker: Some(worker),
            failed: None,
        })
    }

    /// Sends what is buffered; if the worker has stopped, learns why.
    fn send(&mut self, message: Message) -> Result<(), String> {
        if let Some(why) = &self.failed {
            return Err(why.clone());
        }
        let sent = match &self.to_worker {
            Some(tx) => tx.send(message).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The worker stopped early: it failed, and says why when joined.
        let why = self
            .join()
            .err()
            .unwrap_or_else(|| format!("cannot write `{}`: the writer stopped early", self.table));
        self.failed = Some(why.clone());
        Err(why)
    }

    fn join(&mut self) -> Result<u64, String> {
        self.to_worker = None;
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(format!(
                "cannot write `{}`: the writer panicked",
                self.table
            )),
            None => Err(self
                .failed
                .clone()
                .unwrap_or_else(|| format!("cannot write `{}`", self.table))),
        }
    }

    /// Sends the last rows, finishes the `COPY` and commits: the table now holds exactly the
    /// rows written. Returns their number.
    pub fn finish(mut self) -> Result<u64, String> {
        let rest = std::mem::take(&mut self.buffer);
        if !rest.is_empty() {
            self.send(Message::Text(rest))?;
        }
        self.send(Message::Commit)?;
        self.join()
    }
}

impl Drop for TableSink {
    /// Without [`TableSink::finish`] the worker sees the channel close before a commit and
    /// rolls back; it is waited for, so the table is as it was when the drop returns.
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.join();
        }
    }
}

impl Write for TableSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(why) = &self.failed {
            return Err(io::Error::other(why.clone()));
        }
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK_BYTES {
            let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES));
            self.send(Message::Text(chunk)).map_err(io::Error::other)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The worker: reads the header from the first text, prepares the table, then copies every
/// chunk in; commits on [`Message::Commit`], rolls back if the channel closes first.
fn write_table(
    mut client: postgres::Client,
    conn: &PgConnection,
    table: &str,
    type_of: &(dyn Fn(&str) -> ColumnType + Send),
    from_writer: Receiver<Message>,
) -> Result<u64, String> {
    let quoted = quote_table(table)?;
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "cannot {what} `{table}` on {}: {}",
            conn.shown(),
            conn.scrub(e)
        )
    };
    let failpg = |what: &str, e: &postgres::Error| fail(what, &describe(e));
    // The COPY writer wraps the client's error in an `io::Error`: the server's own words.
    let failio = |e: &io::Error| match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<postgres::Error>())
    {
        Some(pg) => failpg("write", pg),
        None => fail("write", e),
    };
    let abandoned = || format!("`{table}` left as it was: the run did not finish");
    // The header: the text up to the first line end (column names hold no line break).
    let mut head = Vec::new();
    let mut committing = false;
    let header_end = loop {
        if let Some(end) = head.iter().position(|b| *b == b'\n') {
            break end;
        }
        match from_writer.recv() {
            Ok(Message::Text(t)) => head.extend_from_slice(&t),
            Ok(Message::Commit) => {
                committing = true;
                break head.len();
            }
            Err(_) => return Err(abandoned()),
        }
    };
    let columns: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&head[..header_end])
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
    writer.write_all(&head).map_err(|e| failio(&e))?;
    while !committing {
        match from_writer.recv() {
            Ok(Message::Text(t)) => writer.write_all(&t).map_err(|e| failio(&e))?,
            Ok(Message::Commit) => committing = true,
            // Dropping the writer and the transaction without finishing rolls back.
            Err(_) => return Err(abandoned()),
        }
    }
    let rows = writer.finish().map_err(|e| failpg("write", &e))?;
    tx.commit().map_err(|e| failpg("commit", &e))?;
    Ok(rows)
}

/// Replaces the rows of `table` (`name` or `schema.name`) with the CSV text `write_csv`
/// writes (a header, then rows), in one transaction. Returns the rows written.
pub fn replace_table(
    conn: &PgConnection,
    table: &str,
    type_of: TypeOf,
    write_csv: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<u64, String> {
    let mut sink = TableSink::open(conn, table, type_of)?;
    if let Err(e) = write_csv(&mut sink) {
        // The worker's own reason, if it stopped, names the table and the server.
        return Err(sink
            .failed
            .take()
            .unwrap_or_else(|| format!("cannot write the rows for `{table}`: {e}")));
    }
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_table_name_or_an_unreachable_server_fails_before_any_row_is_written() {
        // Port 1 on the loopback address: nothing listens there.
        let conn = PgConnection::new(Some("postgres://pal@127.0.0.1:1/nhs"), |_| None)
            .expect("a connection description");
        let type_of = || -> TypeOf { Box::new(|_: &str| ColumnType::Text) };
        let e = TableSink::open(&conn, "a.b.c", type_of())
            .err()
            .expect("not a table name");
        assert!(e.contains("is not a table name"), "{e}");
        let e = TableSink::open(&conn, "rtt.results", type_of())
            .err()
            .expect("no server");
        assert!(
            e.contains("cannot connect to postgres://pal@127.0.0.1:1/nhs"),
            "{e}"
        );
        let mut wrote = false;
        let e = replace_table(&conn, "rtt.ptl", type_of(), |_| {
            wrote = true;
            Ok(())
        })
        .expect_err("no server");
        assert!(!wrote && e.contains("cannot connect"), "{e}");
    }
}
