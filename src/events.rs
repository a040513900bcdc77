//! TEMPORARY STUB (replaced by the event readers).
use crate::schema::EventTypeId;
use crate::value::Value;
use chrono::NaiveDate;
/// An event.
#[derive(Debug, Clone)]
pub struct Event {
    pub date: NaiveDate,
    pub kind: EventTypeId,
    pub fields: Box<[Value]>,
    pub line: u32,
    pub seq: u32,
}
/// A pathway's events.
#[derive(Debug, Clone)]
pub struct PathwayEvents {
    pub id: String,
    pub events: Vec<Event>,
}
pub struct Rejection {
    pub file: String,
    pub line: u32,
    pub pathway_id: Option<String>,
    pub reason: String,
}
pub struct EventSet {
    pub pathways: Vec<PathwayEvents>,
    pub rejected: Vec<Rejection>,
    pub rows_read: u64,
    pub rows_evaluated: u64,
    pub rows_after_as_at: u64,
}
pub struct ReadOptions<'a> {
    pub schema: &'a crate::schema::Schema,
    pub as_at: Option<NaiveDate>,
    pub strict: bool,
}
#[derive(Debug, Clone, Copy)]
pub enum InputFormat {
    Csv,
    JsonLines,
}
impl InputFormat {
    pub fn from_path(_p: &std::path::Path) -> Option<InputFormat> {
        Some(InputFormat::Csv)
    }
}
impl std::str::FromStr for InputFormat {
    type Err = ();
    fn from_str(_s: &str) -> Result<Self, ()> {
        Ok(InputFormat::Csv)
    }
}
#[derive(Debug)]
pub enum ReadError {
    Io(String),
    Strict(Rejection),
    Header(String),
}
impl std::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.reason)
    }
}
impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
pub fn read_events<R: std::io::Read>(
    _r: R,
    _n: &str,
    _f: InputFormat,
    _o: &ReadOptions,
) -> Result<EventSet, ReadError> {
    Err(ReadError::Io("stub".into()))
}
