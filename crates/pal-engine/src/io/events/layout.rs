//! A tabular source's columns resolved against the schema once (`ColumnLayout`), and one row
//! built from its cells (`build_row`): the seam every reader of rows and columns goes through
//! (CSV here; any source that gives column names and a cell per column index).

use super::cell::parse_value;
use super::{ReadError, ReadOptions, Rejection, Row};
use crate::base::suggest::did_you_mean;
use crate::base::text::{excerpt, name_list};
use crate::base::value::{parse_date, Value};
use crate::model::event::Event;
use crate::model::schema::{EventTypeId, Schema};
use std::collections::{HashMap, HashSet};

/// The columns of a CSV file, resolved against the schema once.
pub(super) struct CsvLayout {
    pub(super) pathway_id: usize,
    pub(super) date: usize,
    pub(super) event: usize,
    pub(super) names: Vec<String>,
    /// Per event type: for each field, its column.
    pub(super) field_columns: Vec<Vec<Option<usize>>>,
    /// Per event type: the non-core columns it does not declare.
    pub(super) undeclared: Vec<Vec<usize>>,
}

impl CsvLayout {
    pub(super) fn new(header: &csv::StringRecord, schema: &Schema) -> Result<CsvLayout, ReadError> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        // Column → index, one pass (a million columns take a moment, not minutes).
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            if index.insert(n.as_str(), i).is_some() {
                return Err(ReadError::Header(format!(
                    "the header names column `{}` twice",
                    excerpt(n)
                )));
            }
        }
        let find = |c: &str| index.get(c).copied();
        let missing: Vec<&str> = ["pathway_id", "date", "event"]
            .into_iter()
            .filter(|c| find(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ReadError::Header(format!(
                "the header has no {} column{} (it has: {})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "" } else { "s" },
                name_list(names.iter().map(String::as_str), 20)
            )));
        }
        let (pathway_id, date, event) = match (find("pathway_id"), find("date"), find("event")) {
            (Some(p), Some(d), Some(e)) => (p, d, e),
            _ => return Err(ReadError::Header("missing core columns".into())),
        };
        let mut field_columns = Vec::new();
        let mut undeclared = Vec::new();
        for def in &schema.events {
            let fields: HashSet<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
            field_columns.push(def.fields.iter().map(|f| find(&f.name)).collect());
            undeclared.push(
                (0..names.len())
                    .filter(|i| ![pathway_id, date, event].contains(i))
                    .filter(|i| !fields.contains(names[*i].as_str()))
                    .collect(),
            );
        }
        Ok(CsvLayout {
            pathway_id,
            date,
            event,
            names,
            field_columns,
            undeclared,
        })
    }
}

/// Validates a row given its core cells and a way to fetch field cells.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_row<'p, 'c>(
    opts: &ReadOptions,
    file: &str,
    line: u32,
    seq: u32,
    pathway_id: Option<&'p str>,
    date: Option<&str>,
    event: Option<&str>,
    field: impl Fn(EventTypeId, usize) -> Option<&'c str>,
    undeclared: impl Fn(EventTypeId) -> Vec<String>,
) -> Row<'p> {
    let schema = opts.schema;
    // Pathway ids are kept exactly as given: ` P1` and `P1` would be two pathways, so an id
    // with spaces around it is rejected rather than trimmed into another one (docs/data.md).
    let pid = pathway_id.filter(|p| !p.trim().is_empty());
    let reject = |reason: String| {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: pid.map(str::to_string),
            reason,
        })
    };
    let Some(pid) = pid else {
        return reject("missing `pathway_id`".into());
    };
    if pid.trim() != pid {
        return reject(format!(
            "`pathway_id` `{}` has spaces before or after it; ids are compared exactly",
            excerpt(pid)
        ));
    }
    let Some(date_text) = date.map(str::trim).filter(|d| !d.is_empty()) else {
        return reject("missing `date`".into());
    };
    let Some(date) = parse_date(date_text) else {
        return reject(format!(
            "`date`: `{}` is not a date (expected YYYY-MM-DD)",
            excerpt(date_text)
        ));
    };
    let Some(event_name) = event.map(str::trim).filter(|e| !e.is_empty()) else {
        return reject("missing `event`".into());
    };
    let Some((kind, def)) = schema.event(event_name) else {
        let hint = did_you_mean(event_name, schema.event_index.keys().map(String::as_str))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return reject(format!(
            "unknown event type `{}`{hint}",
            excerpt(event_name)
        ));
    };
    let extra = undeclared(kind);
    if !extra.is_empty() {
        return reject(if extra.len() == 1 {
            format!(
                "column {} is not a field of `{event_name}`",
                name_list(extra.iter().map(String::as_str), 1)
            )
        } else {
            format!(
                "columns {} are not fields of `{event_name}`",
                name_list(extra.iter().map(String::as_str), 5)
            )
        });
    }
    let mut values = Vec::with_capacity(def.fields.len());
    for (i, f) in def.fields.iter().enumerate() {
        let cell = field(kind, i).map(str::trim).filter(|c| !c.is_empty());
        let v = match cell {
            Some(text) => match parse_value(text, f, schema) {
                Ok(v) => v,
                Err(e) => return reject(e),
            },
            None => match (&f.default, f.optional) {
                (Some(d), _) => d.clone(),
                (None, true) => Value::Unset,
                (None, false) => {
                    return reject(format!(
                        "required field `{}` of `{event_name}` is missing",
                        f.name
                    ))
                }
            },
        };
        values.push(v);
    }
    if opts.as_at.is_some_and(|a| date > a) {
        return Row::AfterAsAt;
    }
    Row::Event(
        pid,
        Event {
            date,
            kind,
            fields: values.into_boxed_slice(),
            line,
            seq,
        },
    )
}
