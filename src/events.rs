//! TEMPORARY STUB (replaced by the event readers).
use crate::schema::EventTypeId;
use crate::value::Value;
use chrono::NaiveDate;
/// An event.
#[derive(Debug, Clone)]
pub struct Event { pub date: NaiveDate, pub kind: EventTypeId, pub fields: Box<[Value]>, pub line: u32, pub seq: u32 }
/// A pathway's events.
#[derive(Debug, Clone)]
pub struct PathwayEvents { pub id: String, pub events: Vec<Event> }
