//! Parquet files as an events source. Columns are read by their Arrow type, never through a
//! CSV parser: text (`Utf8`, `LargeUtf8`, `Utf8View`, and dictionaries of them), whole numbers
//! (signed and unsigned), `Boolean`, dates (`Date32`, `Date64`) and timestamps without a time
//! zone or in UTC (their date). Each value becomes the cell text the shared validator takes
//! (`2024-01-31`, `42`, `true`) so a Parquet row is validated, defaulted and mapped exactly as
//! the same row of a CSV file; a null is a missing cell. Rejected rows name the file and the
//! row number (1-based, across row groups).

use super::table::{Cells, Provenance, RowBatch, TableSource};
use super::ReadError;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::io::Write;
use std::path::Path;

/// Rows per batch handed to a parsing thread.
const BATCH_ROWS: usize = 8192;

/// A Parquet file being read.
pub struct ParquetSource {
    name: String,
    columns: Vec<String>,
    reader: ParquetRecordBatchReader,
}

impl ParquetSource {
    /// Opens `path` and checks that every column has a type PAL reads.
    pub fn open(path: &Path) -> Result<ParquetSource, ReadError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| ReadError::Io(format!("cannot read `{name}`: {e}")))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| ReadError::Io(format!("cannot read `{name}` as Parquet: {e}")))?;
        let schema = builder.schema().clone();
        for f in schema.fields() {
            if let Err(why) = check_type(f.data_type()) {
                return Err(ReadError::Header(format!(
                    "`{name}`: column `{}` is {why}",
                    f.name()
                )));
            }
        }
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| ReadError::Io(format!("cannot read `{name}` as Parquet: {e}")))?;
        Ok(ParquetSource {
            name,
            columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
            reader,
        })
    }
}

/// Whether PAL reads a column of this type (and why not).
fn check_type(t: &DataType) -> Result<(), String> {
    match t {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date32
        | DataType::Date64
        | DataType::Null => Ok(()),
        DataType::Timestamp(_, None) => Ok(()),
        DataType::Timestamp(_, Some(tz)) if is_utc(tz) => Ok(()),
        DataType::Timestamp(_, Some(tz)) => Err(format!(
            "a timestamp in time zone `{tz}`, whose date PAL cannot tell without a time-zone database: write it as a date, a timestamp without a time zone, or in UTC"
        )),
        DataType::Dictionary(_, values) => check_type(values),
        other => Err(format!(
            "of type {other}, which PAL does not read: use text, a whole number, a boolean, a date or a timestamp"
        )),
    }
}

fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "utc" | "Etc/UTC" | "+00:00" | "Z" | "GMT")
}

impl TableSource for ParquetSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn columns(&self) -> &[String] {
        &self.columns
    }

    fn provenance(&self) -> Provenance {
        Provenance::RowNumber
    }

    fn read(
        self: Box<Self>,
        emit: &mut dyn FnMut(Box<dyn RowBatch>) -> bool,
    ) -> Result<(), ReadError> {
        let name = self.name;
        for batch in self.reader {
            let batch = batch.map_err(|e| ReadError::Io(format!("cannot read `{name}`: {e}")))?;
            if !emit(Box::new(ArrowRows::new(&batch))) {
                break;
            }
        }
        Ok(())
    }
}

/// A record batch's columns, ready to be turned into cells row by row.
struct ArrowRows {
    len: usize,
    columns: Vec<Column>,
}

/// A column of a batch; a dictionary's keys are resolved once per batch, not once per cell.
enum Column {
    Plain(ArrayRef),
    Dictionary {
        array: ArrayRef,
        keys: Vec<usize>,
        values: ArrayRef,
    },
}

impl ArrowRows {
    fn new(batch: &RecordBatch) -> ArrowRows {
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.as_any_dictionary_opt() {
                Some(d) => Column::Dictionary {
                    array: c.clone(),
                    keys: d.normalized_keys(),
                    values: d.values().clone(),
                },
                None => Column::Plain(c.clone()),
            })
            .collect();
        ArrowRows {
            len: batch.num_rows(),
            columns,
        }
    }
}

impl RowBatch for ArrowRows {
    fn len(&self) -> usize {
        self.len
    }

    fn row(&self, i: usize, cells: &mut Cells) {
        let mut text = Vec::with_capacity(32);
        for c in &self.columns {
            text.clear();
            let present = match c {
                Column::Plain(a) => cell(a.as_ref(), i, &mut text),
                Column::Dictionary {
                    array,
                    keys,
                    values,
                } => {
                    !array.is_null(i)
                        && keys.get(i).is_some_and(|k| {
                            *k < values.len() && cell(values.as_ref(), *k, &mut text)
                        })
                }
            };
            if present {
                cells.push(&text);
            } else {
                cells.push_missing();
            }
        }
    }
}

/// The date `days` after 1970-01-01.
fn epoch_date(days: i64) -> Option<NaiveDate> {
    const UNIX_EPOCH_FROM_CE: i64 = 719_163;
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + UNIX_EPOCH_FROM_CE).ok()?)
}

fn write_date(days: i64, out: &mut Vec<u8>) {
    match epoch_date(days) {
        Some(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        // Out of chrono's range: written as days, so the row is rejected with the value.
        None => {
            let _ = write!(out, "{days} days after 1970-01-01");
        }
    }
}

/// Writes the text of row `i` of `a` into `out`; `false` for a null.
fn cell(a: &dyn Array, i: usize, out: &mut Vec<u8>) -> bool {
    if a.is_null(i) {
        return false;
    }
    macro_rules! int {
        ($t:ty) => {
            match a.as_primitive_opt::<$t>() {
                Some(p) => {
                    let _ = write!(out, "{}", p.value(i));
                    true
                }
                None => false,
            }
        };
    }
    match a.data_type() {
        DataType::Utf8 => a
            .as_string_opt::<i32>()
            .map(|s| out.extend_from_slice(s.value(i).as_bytes()))
            .is_some(),
        DataType::LargeUtf8 => a
            .as_string_opt::<i64>()
            .map(|s| out.extend_from_slice(s.value(i).as_bytes()))
            .is_some(),
        DataType::Utf8View => a
            .as_string_view_opt()
            .map(|s| out.extend_from_slice(s.value(i).as_bytes()))
            .is_some(),
        DataType::Boolean => a
            .as_boolean_opt()
            .map(|b| out.extend_from_slice(if b.value(i) { b"true" } else { b"false" }))
            .is_some(),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float32 => int!(Float32Type),
        DataType::Float64 => int!(Float64Type),
        DataType::Date32 => match a.as_primitive_opt::<Date32Type>() {
            Some(p) => {
                write_date(i64::from(p.value(i)), out);
                true
            }
            None => false,
        },
        DataType::Date64 => match a.as_primitive_opt::<Date64Type>() {
            Some(p) => {
                write_date(p.value(i).div_euclid(86_400_000), out);
                true
            }
            None => false,
        },
        DataType::Timestamp(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => 86_400_000,
                TimeUnit::Microsecond => 86_400_000_000,
                TimeUnit::Nanosecond => 86_400_000_000_000,
            };
            let v = match unit {
                TimeUnit::Second => a
                    .as_primitive_opt::<TimestampSecondType>()
                    .map(|p| p.value(i)),
                TimeUnit::Millisecond => a
                    .as_primitive_opt::<TimestampMillisecondType>()
                    .map(|p| p.value(i)),
                TimeUnit::Microsecond => a
                    .as_primitive_opt::<TimestampMicrosecondType>()
                    .map(|p| p.value(i)),
                TimeUnit::Nanosecond => a
                    .as_primitive_opt::<TimestampNanosecondType>()
                    .map(|p| p.value(i)),
            };
            match v {
                Some(v) => {
                    write_date(v.div_euclid(per_day), out);
                    true
                }
                None => false,
            }
        }
        _ => false,
    }
}
