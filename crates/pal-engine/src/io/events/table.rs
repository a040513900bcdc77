//! Sources of named columns rather than lines of text — Parquet files, database queries. Their
//! column names are resolved against the schema (and the input mapping, if any) exactly as a
//! CSV header is (the same `ColumnLayout`), and every row goes through the same validation as
//! a CSV row (`csv_row` → `ColumnLayout::row`: mapping, types, defaults, undeclared fields,
//! did-you-mean), so a row means the same whatever it was read from. Only provenance differs: a rejected row names its row number
//! or its key columns ([`RowRef`]) instead of a line.
//!
//! A source reads batches of rows on a thread of its own; batches are turned into events in
//! parallel (rayon) and handed on in input order, as the text readers' chunks are.

use super::csv_rows::csv_row;
use super::layout::CsvLayout;
use super::{
    excerpt, stream_pathways, EventSet, OnRows, ReadError, ReadOptions, Rejection, Row, RowRef,
    Tally,
};
use super::{ChunkRows, PathwayEvents};
use rayon::prelude::*;
use std::ops::ControlFlow;

/// One row's cells in column order. An empty cell is missing, as in CSV.
#[derive(Default)]
pub struct Cells(pub(crate) csv::ByteRecord);

impl Cells {
    /// Appends a cell's text.
    pub fn push(&mut self, text: &[u8]) {
        self.0.push_field(text);
    }

    /// Appends a missing (null) cell.
    pub fn push_missing(&mut self) {
        self.0.push_field(b"");
    }

    /// The cells as text (for tests and tools).
    pub fn texts(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }
}

/// A batch of rows read by a source, turned into cells on whichever thread parses it.
pub trait RowBatch: Send + Sync {
    /// Rows in the batch.
    fn len(&self) -> usize;
    /// Whether the batch has no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends row `i`'s cells, in column order, to `cells` (which is empty).
    fn row(&self, i: usize, cells: &mut Cells);
}

/// How a source's rejected rows say where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// By row number (1-based, in the source's order).
    RowNumber,
    /// By the values of these columns; empty: the columns that give the pathway id, date and
    /// event.
    KeyColumns(Vec<String>),
}

/// A source of named columns, read batch by batch.
pub trait TableSource: Send {
    /// The name rejections are reported under (never with a password in it).
    fn name(&self) -> &str;
    /// The column names, in the order of each row's cells.
    fn columns(&self) -> &[String];
    /// How rejected rows are placed.
    fn provenance(&self) -> Provenance;
    /// Reads every row, handing batches to `emit` in order until it returns `false`.
    fn read(
        self: Box<Self>,
        emit: &mut dyn FnMut(Box<dyn RowBatch>) -> bool,
    ) -> Result<(), ReadError>;
}

/// Where rejections of a source are placed.
enum Place {
    Number,
    Key(Vec<(String, usize)>),
}

/// The source's columns resolved against the schema, and its provenance columns.
fn resolve(
    name: &str,
    columns: &[String],
    provenance: Provenance,
    opts: &ReadOptions,
) -> Result<(CsvLayout, Place), ReadError> {
    let layout =
        CsvLayout::new(columns.to_vec(), opts.schema, opts.mapping, name).map_err(|e| match e {
            ReadError::Header(m) => ReadError::Header(format!("`{name}`: {m}")),
            other => other,
        })?;
    let place = match provenance {
        Provenance::RowNumber => Place::Number,
        Provenance::KeyColumns(keys) if keys.is_empty() => Place::Key(
            layout
                .core_columns()
                .into_iter()
                .map(|i| (layout.names[i].clone(), i))
                .collect(),
        ),
        Provenance::KeyColumns(keys) => Place::Key(
            keys.into_iter()
                .map(|k| match layout.names.iter().position(|n| *n == k) {
                    Some(i) => Ok((k, i)),
                    None => {
                        let hint = crate::base::suggest::did_you_mean(
                            &k,
                            layout.names.iter().map(String::as_str),
                        )
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                        Err(ReadError::Header(format!(
                            "`{name}`: key column `{}` is not a column of the source{hint}",
                            excerpt(&k)
                        )))
                    }
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok((layout, place))
}

/// Validates one batch's rows.
fn parse_batch(
    first_row: u64,
    batch: &dyn RowBatch,
    layout: &CsvLayout,
    place: &Place,
    opts: &ReadOptions,
    name: &str,
) -> ChunkRows {
    let mut rows = ChunkRows::default();
    let mut cells = Cells(csv::ByteRecord::with_capacity(256, layout.names.len()));
    for i in 0..batch.len() {
        cells.0.clear();
        batch.row(i, &mut cells);
        let n = first_row + i as u64;
        let line = u32::try_from(n).unwrap_or(u32::MAX);
        match csv_row(&cells.0, layout, opts, name, line) {
            Row::Rejected(mut r) => {
                r.row = Some(match place {
                    Place::Number => RowRef::Number(n),
                    Place::Key(keys) => RowRef::Key(
                        keys.iter()
                            .map(|(k, c)| {
                                let v = cells
                                    .0
                                    .get(*c)
                                    .map(String::from_utf8_lossy)
                                    .unwrap_or_default();
                                (k.clone(), v.into_owned())
                            })
                            .collect(),
                    ),
                });
                rows.push(Row::Rejected(r));
            }
            row => rows.push(row),
        }
    }
    rows
}

/// Reads `source` on a thread of its own, validates its batches in parallel and hands their
/// rows to `on_rows` in order.
fn each_batch(
    source: Box<dyn TableSource>,
    layout: &CsvLayout,
    place: &Place,
    name: &str,
    opts: &ReadOptions,
    on_rows: &mut OnRows<'_>,
) -> Result<(), ReadError> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Box<dyn RowBatch>, ReadError>>(4);
        scope.spawn(move || {
            let sent = tx.clone();
            if let Err(e) = source.read(&mut |b| sent.send(Ok(b)).is_ok()) {
                let _ = tx.send(Err(e));
            }
        });
        // Dropping `batches` (on any return) stops the reading thread at its next batch.
        let mut batches = rx.into_iter();
        let group = rayon::current_num_threads().max(1) * 2;
        let mut next_row: u64 = 1;
        loop {
            let mut pending: Vec<(u64, Box<dyn RowBatch>)> = Vec::with_capacity(group);
            while pending.len() < group {
                match batches.next() {
                    Some(b) => {
                        let b = b?;
                        let first = next_row;
                        next_row += b.len() as u64;
                        pending.push((first, b));
                    }
                    None => break,
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            let parsed: Vec<ChunkRows> = pending
                .par_iter()
                .map(|(first, b)| parse_batch(*first, b.as_ref(), layout, place, opts, name))
                .collect();
            for rows in parsed {
                if on_rows(rows)?.is_break() {
                    return Ok(());
                }
            }
        }
    })
}

/// Reads a whole table source, grouping events by pathway (rows need not be sorted): the
/// table counterpart of [`super::read_events`].
pub fn read_table_events(
    source: Box<dyn TableSource>,
    opts: &ReadOptions,
) -> Result<EventSet, ReadError> {
    let name = source.name().to_string();
    let (layout, place) = resolve(&name, source.columns(), source.provenance(), opts)?;
    super::collect_events(opts, |on_rows| {
        each_batch(source, &layout, &place, &name, opts, on_rows)
    })
}

/// Streams a table source whose rows are grouped by pathway (a query with
/// `ORDER BY pathway_id`): the table counterpart of [`super::for_each_pathway`].
pub fn for_each_table_pathway(
    source: Box<dyn TableSource>,
    opts: &ReadOptions,
    on_pathway: impl FnMut(PathwayEvents) -> ControlFlow<()>,
    on_rejected: impl FnMut(Rejection),
) -> Result<Tally, ReadError> {
    let name = source.name().to_string();
    let (layout, place) = resolve(&name, source.columns(), source.provenance(), opts)?;
    let keyed = matches!(place, Place::Key(_));
    let schema = opts.schema;
    stream_pathways(
        &name,
        opts,
        |on_rows| each_batch(source, &layout, &place, &name, opts, on_rows),
        |pid, e| {
            Some(if keyed {
                RowRef::Key(vec![
                    ("pathway_id".into(), pid.to_string()),
                    ("date".into(), e.date.format("%Y-%m-%d").to_string()),
                    (
                        "event".into(),
                        schema
                            .events
                            .get(e.kind as usize)
                            .map(|d| d.name.clone())
                            .unwrap_or_default(),
                    ),
                ])
            } else {
                RowRef::Number(u64::from(e.line))
            })
        },
        on_pathway,
        on_rejected,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::events::{read_events, InputFormat};

    /// Rows in memory, handed over `per_batch` at a time.
    struct Memory {
        columns: Vec<String>,
        rows: Vec<Vec<&'static str>>,
        per_batch: usize,
        provenance: Provenance,
    }

    struct Rows(Vec<Vec<&'static str>>);

    impl RowBatch for Rows {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn row(&self, i: usize, cells: &mut Cells) {
            for c in &self.0[i] {
                cells.push(c.as_bytes());
            }
        }
    }

    impl TableSource for Memory {
        fn name(&self) -> &str {
            "memory"
        }
        fn columns(&self) -> &[String] {
            &self.columns
        }
        fn provenance(&self) -> Provenance {
            self.provenance.clone()
        }
        fn read(
            self: Box<Self>,
            emit: &mut dyn FnMut(Box<dyn RowBatch>) -> bool,
        ) -> Result<(), ReadError> {
            for b in self.rows.chunks(self.per_batch) {
                if !emit(Box::new(Rows(b.to_vec()))) {
                    break;
                }
            }
            Ok(())
        }
    }

    const CSV: &str = "pathway_id,date,event,appointment\n\
        P1,2024-01-02,referral_received,\n\
        P1,2024-01-09,dna,frist\n\
        P2,2024-01-03,referral_received,\n\
        P1,2024-01-20,attended,first\n\
        P2,2024-13-01,dna,first\n";

    fn memory(per_batch: usize, provenance: Provenance) -> Box<dyn TableSource> {
        let mut lines = CSV.lines();
        let columns = lines
            .next()
            .map(|h| h.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        Box::new(Memory {
            columns,
            rows: lines.map(|l| l.split(',').collect()).collect(),
            per_batch,
            provenance,
        })
    }

    #[test]
    fn a_table_reads_like_the_same_csv_with_rows_or_keys_for_lines() {
        let schema = crate::io::events::tests::schema();
        let opts = ReadOptions {
            schema: &schema,
            as_at: None,
            strict: false,
            mapping: None,
        };
        let csv = read_events(CSV.as_bytes(), "memory", InputFormat::Csv, &opts).expect("csv");
        for per_batch in [1, 2, 5] {
            let t =
                read_table_events(memory(per_batch, Provenance::RowNumber), &opts).expect("table");
            assert_eq!(t.rows_read, csv.rows_read);
            assert_eq!(
                t.pathways
                    .iter()
                    .map(|p| (&p.id, p.events.len()))
                    .collect::<Vec<_>>(),
                csv.pathways
                    .iter()
                    .map(|p| (&p.id, p.events.len()))
                    .collect::<Vec<_>>()
            );
            let places: Vec<(String, String)> = t
                .rejected
                .iter()
                .map(|r| (r.place(), r.reason.clone()))
                .collect();
            let want: Vec<(String, String)> = csv
                .rejected
                .iter()
                .map(|r| (format!("memory: row {}", r.line - 1), r.reason.clone()))
                .collect();
            assert_eq!(places, want);
        }
        let keyed =
            read_table_events(memory(2, Provenance::KeyColumns(vec![])), &opts).expect("keyed");
        assert_eq!(
            keyed.rejected[0].place(),
            "memory: row where pathway_id=P1, date=2024-01-09, event=dna"
        );
        let chosen = read_table_events(
            memory(
                2,
                Provenance::KeyColumns(vec!["event".into(), "pathway_id".into()]),
            ),
            &opts,
        )
        .expect("chosen keys");
        assert_eq!(
            chosen.rejected[1].place(),
            "memory: row where event=dna, pathway_id=P2"
        );
        let Err(ReadError::Header(e)) = read_table_events(
            memory(2, Provenance::KeyColumns(vec!["pathway".into()])),
            &opts,
        ) else {
            panic!("a misspelt key column is an error");
        };
        assert!(e.contains("did you mean `pathway_id`"), "{e}");
    }

    #[test]
    fn streaming_a_table_rejects_a_pathway_that_comes_back_by_its_key() {
        let schema = crate::io::events::tests::schema();
        let opts = ReadOptions {
            schema: &schema,
            as_at: None,
            strict: false,
            mapping: None,
        };
        let mut pathways = Vec::new();
        let mut rejected = Vec::new();
        let tally = for_each_table_pathway(
            memory(2, Provenance::KeyColumns(vec![])),
            &opts,
            |p| {
                pathways.push(p.id);
                ControlFlow::Continue(())
            },
            |r| rejected.push(r.to_string()),
        )
        .expect("stream");
        assert_eq!(pathways, ["P1", "P2"]);
        assert_eq!(tally.rows_read, 5);
        assert_eq!(tally.rows_rejected, 3);
        assert!(
            rejected.iter().any(|r| r.starts_with(
                "memory: row where pathway_id=P1, date=2024-01-20, event=attended: rows of pathway `P1` are not adjacent"
            )),
            "{rejected:?}"
        );
    }
}
