//! Every row of a Parquet file as the cell text PAL reads (what a Parquet source hands the
//! shared validator). Included with `#[path]` by `tests/parquet.rs` and `tests/postgres.rs`.

use pal_engine::io::events::{Cells, ParquetSource, TableSource};
use std::path::Path;

/// The file's column names, and each row's cells as text, in file order.
pub fn parquet_cells(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let src = ParquetSource::open(path).expect("a Parquet file");
    let columns = src.columns().to_vec();
    let mut rows = Vec::new();
    Box::new(src)
        .read(&mut |b| {
            for i in 0..b.len() {
                let mut c = Cells::default();
                b.row(i, &mut c);
                rows.push(c.texts());
            }
            true
        })
        .expect("read");
    (columns, rows)
}
