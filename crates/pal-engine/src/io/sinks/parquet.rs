//! CSV text in, a Parquet file out. [`ParquetSink`] is a `Write`: PAL's CSV writers (results,
//! PTL, an events extract being converted) write into it as they would into a file; its first
//! record names the columns, whose types a function of the name chooses. Rows are stored in
//! row groups of [`ROW_GROUP_ROWS`] (Snappy-compressed), so a streaming run holds one group.
//! [`ParquetSink::finish`] writes the footer and returns the underlying writer (an
//! `OutputFile`, committed by the caller: the file is complete or absent).

use super::ColumnType;
use crate::base::value::{parse_bool, parse_date};
use arrow_array::builder::{BooleanBuilder, Date32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::{self, Write};
use std::sync::Arc;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The type a column is stored as, chosen by name.
pub type TypeOf = Box<dyn Fn(&str) -> ColumnType + Send>;

/// A Parquet file written from CSV text.
pub struct ParquetSink<W: Write + Send> {
    parser: csv_core::Reader,
    field: Vec<u8>,
    field_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    type_of: TypeOf,
    columns: Vec<(String, ColumnType)>,
    schema: Arc<Schema>,
    builders: Vec<Builder>,
    rows: usize,
    /// Data records seen (for messages).
    record: u64,
    state: State<W>,
}

enum State<W: Write + Send> {
    /// Waiting for the header record.
    Header(W),
    Writing(Box<ArrowWriter<W>>),
    /// A write failed.
    Failed,
}

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(t: ColumnType) -> Builder {
        match t {
            ColumnType::Text => Builder::Text(StringBuilder::new()),
            ColumnType::Int => Builder::Int(Int64Builder::new()),
            ColumnType::Date => Builder::Date(Date32Builder::new()),
            ColumnType::Bool => Builder::Bool(BooleanBuilder::new()),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

fn data_type(t: ColumnType) -> DataType {
    match t {
        ColumnType::Text => DataType::Utf8,
        ColumnType::Int => DataType::Int64,
        ColumnType::Date => DataType::Date32,
        ColumnType::Bool => DataType::Boolean,
    }
}

/// Days from 1970-01-01.
fn epoch_days(d: chrono::NaiveDate) -> Option<i32> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl<W: Write + Send> ParquetSink<W> {
    /// Starts a Parquet file on `out`, typing each column with `type_of`.
    pub fn new(out: W, type_of: TypeOf) -> ParquetSink<W> {
        ParquetSink {
            parser: csv_core::Reader::new(),
            field: vec![0; 4096],
            field_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            type_of,
            columns: Vec::new(),
            schema: Arc::new(Schema::empty()),
            builders: Vec::new(),
            rows: 0,
            record: 0,
            state: State::Header(out),
        }
    }

    /// Takes a complete record.
    fn record(&mut self) -> io::Result<()> {
        let mut start = 0;
        let fields: Vec<&str> = self.ends[..self.ends_len]
            .iter()
            .map(|&end| {
                let f = &self.field[start..end];
                start = end;
                std::str::from_utf8(f).map_err(other)
            })
            .collect::<io::Result<_>>()?;
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Header(out) => {
                self.columns = fields
                    .iter()
                    .map(|n| (n.to_string(), (self.type_of)(n)))
                    .collect();
                self.builders = self.columns.iter().map(|(_, t)| Builder::new(*t)).collect();
                let schema = Schema::new(
                    self.columns
                        .iter()
                        .map(|(n, t)| Field::new(n, data_type(*t), true))
                        .collect::<Vec<_>>(),
                );
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                self.schema = Arc::new(schema);
                let writer =
                    ArrowWriter::try_new(out, self.schema.clone(), Some(props)).map_err(other)?;
                self.state = State::Writing(Box::new(writer));
                Ok(())
            }
            State::Writing(w) => {
                self.state = State::Writing(w);
                self.record += 1;
                if fields.len() != self.columns.len() {
                    return Err(other(format!(
                        "record {} has {} cells where the header has {} columns",
                        self.record,
                        fields.len(),
                        self.columns.len()
                    )));
                }
                let record = self.record;
                for ((b, text), (name, _)) in
                    self.builders.iter_mut().zip(&fields).zip(&self.columns)
                {
                    let bad = || {
                        other(format!(
                            "record {record}: column `{name}`: `{}` is not a value of its type",
                            crate::base::text::excerpt(text)
                        ))
                    };
                    if text.is_empty() {
                        match b {
                            Builder::Text(b) => b.append_null(),
                            Builder::Int(b) => b.append_null(),
                            Builder::Date(b) => b.append_null(),
                            Builder::Bool(b) => b.append_null(),
                        }
                        continue;
                    }
                    match b {
                        Builder::Text(b) => b.append_value(text),
                        Builder::Int(b) => b.append_value(text.parse::<i64>().map_err(|_| bad())?),
                        Builder::Date(b) => {
                            b.append_value(parse_date(text).and_then(epoch_days).ok_or_else(bad)?)
                        }
                        Builder::Bool(b) => b.append_value(parse_bool(text).ok_or_else(bad)?),
                    }
                }
                self.rows += 1;
                if self.rows >= ROW_GROUP_ROWS {
                    self.flush_group()?;
                }
                Ok(())
            }
            State::Failed => Err(other("an earlier write failed")),
        }
    }

    /// Writes the rows gathered as a row group.
    fn flush_group(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let State::Writing(w) = &mut self.state else {
            return Ok(());
        };
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays).map_err(other)?;
        w.write(&batch).map_err(other)?;
        w.flush().map_err(other)?;
        self.rows = 0;
        Ok(())
    }

    /// Parses `input` (`&[]` at the end), taking each record it completes.
    fn parse(&mut self, mut input: &[u8]) -> io::Result<()> {
        use csv_core::ReadRecordResult as R;
        loop {
            let (res, nin, nout, nend) = self.parser.read_record(
                input,
                &mut self.field[self.field_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[nin..];
            // csv_core keeps ends relative to the record's start, across calls.
            self.field_len += nout;
            self.ends_len += nend;
            match res {
                R::InputEmpty => return Ok(()),
                R::OutputFull => {
                    let n = self.field.len() * 2;
                    self.field.resize(n, 0);
                }
                R::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                R::Record => {
                    let r = self.record();
                    self.field_len = 0;
                    self.ends_len = 0;
                    if r.is_err() {
                        self.state = State::Failed;
                    }
                    r?;
                }
                R::End => return Ok(()),
            }
        }
    }

    /// Writes the last row group and the footer; returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.parse(&[])?;
        self.flush_group()?;
        match self.state {
            State::Writing(w) => w.into_inner().map_err(other),
            State::Header(_) => Err(other("no header was written")),
            State::Failed => Err(other("an earlier write failed")),
        }
    }
}

impl<W: Write + Send> Write for ParquetSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.parse(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::events::ParquetSource;

    #[test]
    fn csv_text_written_in_any_pieces_makes_the_same_typed_file() {
        let csv =
            "pathway_id,start,days,flag,note\nP1,2024-01-31,12,true,\"a, \"\"b\"\"\nc\"\nP2,,,,\n";
        let dir = std::env::temp_dir().join(format!("pal-pq-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        for piece in [1, 3, 7, csv.len()] {
            let type_of: TypeOf = Box::new(|n: &str| match n {
                "start" => ColumnType::Date,
                "days" => ColumnType::Int,
                "flag" => ColumnType::Bool,
                _ => ColumnType::Text,
            });
            let mut sink = ParquetSink::new(Vec::new(), type_of);
            for c in csv.as_bytes().chunks(piece) {
                sink.write_all(c).expect("write");
            }
            let bytes = sink.finish().expect("finish");
            let path = dir.join(format!("t{piece}.parquet"));
            std::fs::write(&path, &bytes).expect("write file");
            let src = ParquetSource::open(&path).expect("open");
            use crate::io::events::TableSource;
            assert_eq!(
                src.columns(),
                ["pathway_id", "start", "days", "flag", "note"]
            );
            let mut rows = Vec::new();
            Box::new(src)
                .read(&mut |b| {
                    for i in 0..b.len() {
                        let mut cells = crate::io::events::Cells::default();
                        b.row(i, &mut cells);
                        rows.push(
                            cells
                                .0
                                .iter()
                                .map(|c| String::from_utf8_lossy(c).into_owned())
                                .collect::<Vec<_>>(),
                        );
                    }
                    true
                })
                .expect("read");
            assert_eq!(
                rows,
                [
                    vec!["P1", "2024-01-31", "12", "true", "a, \"b\"\nc"],
                    vec!["P2", "", "", "", ""]
                ]
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_value_that_is_not_of_its_column_type_fails_the_write() {
        let mut sink = ParquetSink::new(Vec::new(), Box::new(|_: &str| ColumnType::Int));
        let r = sink.write_all(b"n\n1\nx\n");
        assert!(r.is_err());
        assert!(sink.finish().is_err());
    }
}
