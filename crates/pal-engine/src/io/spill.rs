//! Sorting more records than memory should hold: an external merge sort of encoded records.
//!
//! A record is a sort key and a payload, both bytes; records are ordered by their keys' bytes
//! (so a key is written in an order-preserving encoding, see [`key`]), and records with equal
//! keys keep the order they were pushed in: the sort is stable. Records are kept in one buffer
//! until it would pass the memory budget ([`SpillOptions::memory`]); the buffer is then sorted
//! and written as a *run* to an anonymous temporary file ([`tempfile::tempfile_in`]: unlinked
//! from the start, so it is gone when the run ends, whether it succeeded, failed or was
//! killed). At the end the runs and what is still in memory are merged.
//!
//! Runs are merged early as they pile up, [`FAN_IN`] at a time (a run made of `FAN_IN` runs of
//! one level is a run of the next level), so however small the budget, no more than
//! `FAN_IN - 1` runs per level are open at once, and each record is rewritten only once per
//! level.
//!
//! The merge is `std`'s [`BinaryHeap`] over one head record per run, each head's buffer reused
//! for the run's next record: a merge crate (`itertools::kmerge_by`) would want runs as
//! iterators of owned items — an allocation per record — and has no way to stop at a failed
//! read of a temporary file, which here must end the merge with that error.
//!
//! **Invariant:** memory is bounded by the budget (the buffer, its index of 16 bytes a
//! record, and 64 KiB of read buffer per open run while merging), whatever the number of
//! records; the result is the same for every budget, byte for byte.

use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The memory budget unless told otherwise: 64 MiB.
pub const DEFAULT_MEMORY: usize = 64 << 20;

/// Runs of one level merged into one run of the next.
pub const FAN_IN: usize = 16;

/// Read and write buffer per run file.
const RUN_BUFFER: usize = 64 << 10;

/// How much memory a sort may hold and where it spills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpillOptions {
    /// Bytes of records (keys, payloads and their index) kept in memory before a run is
    /// spilled. Zero spills every record (for tests: the output is the same).
    pub memory: usize,
    /// The folder of the temporary files; `None`: the system's ([`std::env::temp_dir`]).
    pub dir: Option<PathBuf>,
}

impl Default for SpillOptions {
    fn default() -> SpillOptions {
        SpillOptions {
            memory: DEFAULT_MEMORY,
            dir: None,
        }
    }
}

impl SpillOptions {
    /// `memory` bytes, spilling beside `output`, a file about to be written (the same disk,
    /// which will have to hold what is sorted anyway) — unless it is not a regular file (a
    /// device, a FIFO) or its folder does not exist: then in the system's temporary folder.
    pub fn beside(output: Option<&Path>, memory: usize) -> SpillOptions {
        let dir = output
            .filter(|p| std::fs::metadata(p).map_or(true, |m| m.is_file()))
            .map(|p| match p.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            })
            .filter(|d| d.is_dir());
        SpillOptions { memory, dir }
    }

    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }
}

/// Where a record lies in the buffer.
#[derive(Debug, Clone, Copy)]
struct Slot {
    at: usize,
    key: u32,
    payload: u32,
}

impl Slot {
    fn key<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.at..self.at + self.key as usize]
    }

    fn payload<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        let start = self.at + self.key as usize;
        &buf[start..start + self.payload as usize]
    }
}

/// Records in memory, in push order until sorted.
#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
}

impl Buffer {
    fn held(&self) -> usize {
        self.bytes.len() + self.slots.len() * std::mem::size_of::<Slot>()
    }

    fn push(&mut self, key: &[u8], payload: &[u8], budget: usize) -> io::Result<()> {
        let too_long = |what: &str, n: usize| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a record's {what} of {n} bytes is too long to sort"),
            )
        };
        let key_len = u32::try_from(key.len()).map_err(|_| too_long("key", key.len()))?;
        let payload_len =
            u32::try_from(payload.len()).map_err(|_| too_long("payload", payload.len()))?;
        // Grow no further than the budget needs (a doubling past it would hold up to twice).
        let need = key.len() + payload.len();
        if self.bytes.len() + need > self.bytes.capacity() {
            let doubled = (self.bytes.capacity() * 2).max(4096);
            let target = doubled.min(budget).max(self.bytes.len() + need);
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.slots.push(Slot {
            at: self.bytes.len(),
            key: key_len,
            payload: payload_len,
        });
        self.bytes.extend_from_slice(key);
        self.bytes.extend_from_slice(payload);
        Ok(())
    }

    /// Sorts the slots by key, stably.
    fn sort(&mut self) {
        let bytes = &self.bytes;
        self.slots
            .par_sort_by(|a, b| a.key(bytes).cmp(b.key(bytes)));
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.slots.clear();
    }
}

/// A sorted run in a temporary file: records as `key length, payload length` (u32, little
/// endian), key, payload.
#[derive(Debug)]
struct Run {
    file: File,
    records: u64,
    level: u32,
}

/// Records being gathered for an external sort ([the module](self)).
#[derive(Debug)]
pub struct ExternalSort {
    options: SpillOptions,
    buffer: Buffer,
    runs: Vec<Run>,
    records: u64,
}

impl ExternalSort {
    /// An empty sort holding up to `options.memory` bytes, spilling to `options.dir`.
    pub fn new(options: SpillOptions) -> ExternalSort {
        ExternalSort {
            options,
            buffer: Buffer::default(),
            runs: Vec::new(),
            records: 0,
        }
    }

    /// Adds a record, first spilling what is held if the record would take it past the
    /// budget. Fails when a run cannot be written (the temporary folder is missing, full or
    /// read-only), naming the folder.
    pub fn push(&mut self, key: &[u8], payload: &[u8]) -> io::Result<()> {
        let need = key.len() + payload.len() + std::mem::size_of::<Slot>();
        if !self.buffer.slots.is_empty() && self.buffer.held() + need > self.options.memory {
            self.spill()?;
        }
        self.buffer.push(key, payload, self.options.memory)?;
        self.records += 1;
        Ok(())
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether no record was pushed.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Sorts what is held and writes it as a run, then merges runs that have piled up.
    fn spill(&mut self) -> io::Result<()> {
        self.buffer.sort();
        let dir = self.options.dir();
        let mut w = RunWriter::create(&dir)?;
        for s in &self.buffer.slots {
            w.write(s.key(&self.buffer.bytes), s.payload(&self.buffer.bytes))?;
        }
        self.runs.push(w.finish(0)?);
        self.buffer.clear();
        // A run of FAN_IN runs of one level is a run of the next.
        while self.runs.len() >= FAN_IN {
            let tail = self.runs.len() - FAN_IN;
            let level = self.runs[tail].level;
            if self.runs[tail..].iter().any(|r| r.level != level) {
                break;
            }
            let mut merging: Vec<Run> = self.runs.drain(tail..).collect();
            let mut w = RunWriter::create(&dir)?;
            merge(&mut merging, None, &mut |k, p| w.write(k, p))?;
            self.runs.push(w.finish(level + 1)?);
        }
        Ok(())
    }

    /// Ends the gathering: what is still held is sorted (in memory) for the merge.
    pub fn finish(mut self) -> Sorted {
        self.buffer.sort();
        Sorted {
            buffer: self.buffer,
            runs: self.runs,
            records: self.records,
        }
    }
}

/// Writes one run.
struct RunWriter {
    out: BufWriter<File>,
    records: u64,
    dir: PathBuf,
}

impl RunWriter {
    fn create(dir: &Path) -> io::Result<RunWriter> {
        let file = tempfile::tempfile_in(dir).map_err(|e| spill_error(dir, e))?;
        Ok(RunWriter {
            out: BufWriter::with_capacity(RUN_BUFFER, file),
            records: 0,
            dir: dir.to_path_buf(),
        })
    }

    fn write(&mut self, key: &[u8], payload: &[u8]) -> io::Result<()> {
        let mut head = [0u8; 8];
        // Lengths were checked to fit when the records were pushed.
        head[..4].copy_from_slice(&(key.len() as u32).to_le_bytes());
        head[4..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        let dir = &self.dir;
        (|| {
            self.out.write_all(&head)?;
            self.out.write_all(key)?;
            self.out.write_all(payload)
        })()
        .map_err(|e| spill_error(dir, e))?;
        self.records += 1;
        Ok(())
    }

    fn finish(self, level: u32) -> io::Result<Run> {
        let dir = self.dir;
        let file = self
            .out
            .into_inner()
            .map_err(|e| spill_error(&dir, e.into_error()))?;
        Ok(Run {
            file,
            records: self.records,
            level,
        })
    }
}

fn spill_error(dir: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot spill sorted rows to a temporary file in `{}`: {e}",
            dir.display()
        ),
    )
}

/// The records of an [`ExternalSort`], ready to be read in order (as often as wanted).
#[derive(Debug)]
pub struct Sorted {
    buffer: Buffer,
    runs: Vec<Run>,
    records: u64,
}

impl Sorted {
    /// Records in all.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Runs written to temporary files (0: everything fitted in memory).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// Hands every record to `each` (key, payload) in key order; stops at the first error,
    /// of `each` or of reading a run back.
    pub fn for_each(
        &mut self,
        mut each: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.runs.is_empty() {
            for s in &self.buffer.slots {
                each(s.key(&self.buffer.bytes), s.payload(&self.buffer.bytes))?;
            }
            return Ok(());
        }
        merge(&mut self.runs, Some(&self.buffer), &mut each)
    }
}

/// Where a merge takes its records from.
enum Source<'a> {
    File {
        reader: BufReader<&'a File>,
        left: u64,
    },
    Memory {
        buffer: &'a Buffer,
        next: usize,
    },
}

impl Source<'_> {
    /// Reads the next record into `buf` (key then payload); its key's length, or `None` at
    /// the end.
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        buf.clear();
        match self {
            Source::File { reader, left } => {
                if *left == 0 {
                    return Ok(None);
                }
                *left -= 1;
                let mut head = [0u8; 8];
                reader.read_exact(&mut head)?;
                let [k0, k1, k2, k3, p0, p1, p2, p3] = head;
                let key = u32::from_le_bytes([k0, k1, k2, k3]) as usize;
                let payload = u32::from_le_bytes([p0, p1, p2, p3]) as usize;
                buf.resize(key + payload, 0);
                reader.read_exact(buf)?;
                Ok(Some(key))
            }
            Source::Memory { buffer, next } => {
                let Some(s) = buffer.slots.get(*next) else {
                    return Ok(None);
                };
                *next += 1;
                buf.extend_from_slice(s.key(&buffer.bytes));
                buf.extend_from_slice(s.payload(&buffer.bytes));
                Ok(Some(s.key as usize))
            }
        }
    }
}

/// One source's current record in the merge heap. Ordered so that the heap's greatest is the
/// smallest key, and of equal keys the earliest source (runs are in push order, memory last):
/// the merge is stable.
struct Head {
    record: Vec<u8>,
    key: usize,
    source: usize,
}

impl Head {
    fn key(&self) -> &[u8] {
        &self.record[..self.key]
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .key()
            .cmp(self.key())
            .then_with(|| other.source.cmp(&self.source))
    }
}

/// Told of each record of a merge (key, payload), in order.
type Each<'a> = dyn FnMut(&[u8], &[u8]) -> io::Result<()> + 'a;

/// Merges `runs` (and the sorted `memory`, after them) into `each`, in key order.
fn merge(runs: &mut [Run], memory: Option<&Buffer>, each: &mut Each) -> io::Result<()> {
    let mut sources = Vec::with_capacity(runs.len() + 1);
    for run in runs.iter_mut() {
        run.file.seek(SeekFrom::Start(0))?;
        sources.push(Source::File {
            reader: BufReader::with_capacity(RUN_BUFFER, &run.file),
            left: run.records,
        });
    }
    sources.extend(memory.map(|buffer| Source::Memory { buffer, next: 0 }));
    let mut heap = BinaryHeap::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        let mut record = Vec::new();
        if let Some(key) = s.next(&mut record)? {
            heap.push(Head {
                record,
                key,
                source: i,
            });
        }
    }
    while let Some(mut head) = heap.pop() {
        each(head.key(), &head.record[head.key..])?;
        if let Some(key) = sources[head.source].next(&mut head.record)? {
            head.key = key;
            heap.push(head);
        }
    }
    Ok(())
}

/// Order-preserving encodings of sort keys: the bytes of encoded values compare as the values
/// do, so a key is the concatenation of its fields' encodings.
pub mod key {
    /// A signed number, ascending.
    pub fn int(out: &mut Vec<u8>, n: i64) {
        out.extend_from_slice(&((n as u64) ^ (1 << 63)).to_be_bytes());
    }

    /// A signed number, descending.
    pub fn int_desc(out: &mut Vec<u8>, n: i64) {
        out.extend_from_slice(&(!((n as u64) ^ (1 << 63))).to_be_bytes());
    }

    /// An unsigned number, ascending.
    pub fn uint(out: &mut Vec<u8>, n: u64) {
        out.extend_from_slice(&n.to_be_bytes());
    }

    /// Text (any bytes), ascending as `str`'s order, and followed by further fields: `0x00`
    /// is written `0x00 0xFF` and the text ends with `0x00 0x00`, so a text sorts before
    /// every longer text it begins.
    pub fn text(out: &mut Vec<u8>, t: &[u8]) {
        for &b in t {
            out.push(b);
            if b == 0 {
                out.push(0xFF);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records as (key, payload).
    type Records = Vec<(Vec<u8>, Vec<u8>)>;

    /// Sorts `records` with `memory` bytes and returns them in order, with the number of runs
    /// spilled.
    fn external(records: &Records, memory: usize) -> (Records, usize) {
        let mut sort = ExternalSort::new(SpillOptions { memory, dir: None });
        for (k, p) in records {
            assert!(sort.push(k, p).is_ok());
        }
        let mut sorted = sort.finish();
        let runs = sorted.spilled_runs();
        let mut out = Vec::new();
        let mut read = |k: &[u8], p: &[u8]| {
            out.push((k.to_vec(), p.to_vec()));
            Ok(())
        };
        assert!(sorted.for_each(&mut read).is_ok());
        // A second reading gives the same.
        let mut again = Vec::new();
        assert!(sorted
            .for_each(|k, p| {
                again.push((k.to_vec(), p.to_vec()));
                Ok(())
            })
            .is_ok());
        assert_eq!(out, again);
        (out, runs)
    }

    /// The reference: a stable sort by key.
    fn stable(records: &Records) -> Records {
        let mut v = records.to_vec();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any budget gives a stable sort by key: equal keys (there are many, from a small
        /// alphabet) keep their push order, whatever runs they were spilled in.
        #[test]
        fn every_budget_sorts_stably(
            records in proptest::collection::vec(
                (proptest::collection::vec(0u8..4, 0..4), proptest::collection::vec(any::<u8>(), 0..6)),
                0..400,
            ),
            memory in prop_oneof![Just(0usize), 1usize..200, 200usize..4000, Just(1 << 20)],
        ) {
            // Payloads carry the push order, so stability is checked too.
            let records: Records = records
                .into_iter()
                .enumerate()
                .map(|(i, (k, mut p))| {
                    p.extend_from_slice(&(i as u32).to_be_bytes());
                    (k, p)
                })
                .collect();
            let (got, _) = external(&records, memory);
            prop_assert_eq!(got, stable(&records));
        }

        /// The key encodings order as the values do.
        #[test]
        fn keys_order_as_their_values(
            a in (any::<i64>(), any::<i64>(), proptest::collection::vec(0u8..3, 0..5), any::<u64>()),
            b in (any::<i64>(), any::<i64>(), proptest::collection::vec(0u8..3, 0..5), any::<u64>()),
        ) {
            let enc = |(x, y, t, n): &(i64, i64, Vec<u8>, u64)| {
                let mut k = Vec::new();
                key::int(&mut k, *x);
                key::int_desc(&mut k, *y);
                key::text(&mut k, t);
                key::uint(&mut k, *n);
                k
            };
            let want = a.0.cmp(&b.0)
                .then_with(|| b.1.cmp(&a.1))
                .then_with(|| a.2.cmp(&b.2))
                .then_with(|| a.3.cmp(&b.3));
            prop_assert_eq!(enc(&a).cmp(&enc(&b)), want);
        }
    }

    #[test]
    fn a_tiny_budget_spills_and_merges_in_levels() {
        // 5,000 records, one per run: levels of FAN_IN runs are merged as they pile up.
        let records: Records = (0u32..5000)
            .map(|i| {
                let k = (i.wrapping_mul(2_654_435_761) % 1000)
                    .to_be_bytes()
                    .to_vec();
                (k, i.to_le_bytes().to_vec())
            })
            .collect();
        let (got, runs) = external(&records, 0);
        assert_eq!(got, stable(&records));
        // Each push spills the record before it: 4,999 runs of one record, merged FAN_IN at a
        // time, leave one run per unit of each digit of 4,999 in base FAN_IN (the last record
        // stays in memory).
        let mut digits = 0;
        let mut n = records.len() - 1;
        while n > 0 {
            digits += n % FAN_IN;
            n /= FAN_IN;
        }
        assert_eq!(runs, digits);
        assert!(runs < 4 * FAN_IN);
        let (got, runs) = external(&records, 1 << 20);
        assert_eq!((got, runs), (stable(&records), 0));
    }

    #[test]
    fn runs_go_beside_a_file_output_else_to_the_temporary_folder() {
        let tmp = std::env::temp_dir();
        let beside = |p: Option<&str>| SpillOptions::beside(p.map(Path::new), 1).dir;
        let file = tmp.join("ptl.csv").display().to_string();
        let missing = tmp.join("pal-no-such-dir/ptl.csv").display().to_string();
        for (output, dir) in [
            (Some(file.as_str()), Some(tmp.clone())),
            (Some("ptl.csv"), Some(PathBuf::from("."))),
            (Some("/dev/null"), None),
            (Some(missing.as_str()), None),
            (None, None),
        ] {
            assert_eq!(beside(output), dir, "{output:?}");
        }
    }

    #[test]
    fn an_unusable_folder_is_a_clear_error() {
        let missing = std::env::temp_dir().join(format!("pal-no-such-dir-{}", std::process::id()));
        let mut sort = ExternalSort::new(SpillOptions {
            memory: 0,
            dir: Some(missing.clone()),
        });
        // The first record is held; the second spills it.
        assert!(sort.push(b"a", b"1").is_ok());
        let e = sort
            .push(b"b", b"2")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("cannot spill sorted rows") && e.contains(&missing.display().to_string()),
            "{e}"
        );
    }
}
