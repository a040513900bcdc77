//! The event model: one dated, typed event of a pathway, as the readers, the REPL and test
//! blocks produce it and the evaluator consumes it.

use crate::base::value::Value;
use crate::model::schema::EventTypeId;
use chrono::NaiveDate;

/// One event of a pathway.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened.
    pub date: NaiveDate,
    /// Its type.
    pub kind: EventTypeId,
    /// One value per field of the type, in declaration order (defaults applied, `Unset` for
    /// absent optionals).
    pub fields: Box<[Value]>,
    /// The 1-based line of the row in its file.
    pub line: u32,
    /// Orders same-date events as the input did: the row's line in a file, the step's
    /// number in the REPL.
    pub seq: u32,
}
