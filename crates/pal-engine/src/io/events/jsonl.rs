//! JSON Lines rows: one object per line, keys in row order, handed to the row builder.

use super::layout::{build_row, ColumnLayout, CoreReading, FieldCell};
use super::{split, ChunkRows, ReadOptions, Rejection, Row};
use crate::base::text::excerpt;
use crate::base::value::ValueType;
use std::collections::HashSet;
use std::fmt;

/// The text of a JSON value as a cell (`None` for null); objects and arrays are errors.
fn json_cell(v: &serde_json::Value) -> Result<Option<String>, ()> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::String(s) => Ok(Some(s.clone())),
        _ => Err(()),
    }
}

/// A JSON Lines row: its keys and values in row order (duplicates kept, to be rejected), or
/// something other than an object.
enum JsonLine {
    Object(Vec<(String, serde_json::Value)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for JsonLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonLine;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonLine, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(JsonLine::Object(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonLine, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonLine::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
            fn visit_unit<E>(self) -> Result<JsonLine, E> {
                Ok(JsonLine::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

fn json_row<'m>(
    entries: &'m [(String, serde_json::Value)],
    opts: &ReadOptions,
    file: &str,
    line: u32,
    seq: u32,
) -> Row<'m> {
    let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let core = |k: &str| -> Result<Option<&'m str>, String> {
        match entries.iter().find(|(key, _)| key == k).map(|(_, v)| v) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!(
                "`{k}` must be a string, found `{}`",
                excerpt(&other.to_string())
            )),
        }
    };
    let reject = |pid: Option<&str>, reason: String| {
        Row::Rejected(Rejection {
            file: file.to_string(),
            line,
            pathway_id: pid.map(str::to_string),
            reason,
            row: None,
        })
    };
    // A key given twice would otherwise let the last one win silently.
    let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
    if let Some((dup, _)) = entries.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        let pid = match get("pathway_id") {
            Some(serde_json::Value::String(p)) => Some(p.as_str()),
            _ => None,
        };
        return reject(
            pid,
            format!("key `{}` appears more than once in the row", excerpt(dup)),
        );
    }
    let pid = match core("pathway_id") {
        Ok(p) => p,
        Err(e) => return reject(None, e),
    };
    let (date, event) = match (core("date"), core("event")) {
        (Ok(d), Ok(e)) => (d, e),
        (Err(e), _) | (_, Err(e)) => return reject(pid, e),
    };
    // Field cells in row order, with JSON type checks for strings.
    let mut cells: Vec<(&str, String)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if matches!(k.as_str(), "pathway_id" | "date" | "event") {
            continue;
        }
        match json_cell(v) {
            Ok(Some(c)) => cells.push((k.as_str(), c)),
            Ok(None) => {}
            Err(()) => {
                return reject(
                    pid,
                    format!(
                        "`{}` must be a single value, not an object or list",
                        excerpt(k)
                    ),
                )
            }
        }
    }
    let schema = opts.schema;
    // A JSON number given for a String field is a type error.
    if let Some((_, def)) = event.and_then(|e| schema.event(e)) {
        for f in &def.fields {
            if f.ty == ValueType::String && get(&f.name).is_some_and(|v| v.is_number()) {
                return reject(
                    pid,
                    format!("field `{}`: expected text, found a number", f.name),
                );
            }
        }
    }
    build_row(
        opts,
        &CoreReading::default(),
        file,
        line,
        seq,
        pid,
        date,
        event,
        |kind, i| {
            let name = &schema.events[kind as usize].fields[i].name;
            cells
                .iter()
                .find(|(k, _)| *k == name.as_str())
                .map(|(_, c)| FieldCell {
                    text: c.as_str(),
                    conv: None,
                })
        },
        |kind| {
            // Every key the event does not declare, in row order.
            let def = &schema.events[kind as usize];
            cells
                .iter()
                .filter(|(k, _)| !def.fields.iter().any(|f| f.name == *k))
                .map(|(k, _)| k.to_string())
                .collect()
        },
    )
}

/// Parses one chunk of JSON Lines rows (on whichever thread rayon picks).
/// With a layout (a mapping's), each object's keys are read as the mapping's columns.
pub(super) fn parse_chunk(
    chunk: &split::Chunk,
    layout: Option<&ColumnLayout>,
    opts: &ReadOptions,
    file: &str,
) -> ChunkRows {
    let mut rows = ChunkRows::default();
    for (i, bytes) in chunk.bytes.split(|b| *b == b'\n').enumerate() {
        let line = chunk
            .first_line
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
        let reject = |reason: String| Rejection::of_line(file, line, reason);
        // As for CSV rows: text that is not UTF-8 is rejected, never patched.
        let Ok(text) = std::str::from_utf8(bytes) else {
            rows.push(reject("the line is not UTF-8 text".into()));
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonLine>(text) {
            Err(e) => rows.push(reject(format!("not valid JSON: {e}"))),
            Ok(JsonLine::Object(entries)) => match layout {
                Some(layout) => mapped_json_row(&entries, layout, opts, file, line, &mut rows),
                None => rows.push(json_row(&entries, opts, file, line, line)),
            },
            Ok(JsonLine::Other) => rows.push(reject("the line is not a JSON object".into())),
        }
    }
    rows
}

/// A JSON object read through a mapping: its keys are the mapping's columns (a key given
/// twice, or a value that is an object or a list, rejects the row).
fn mapped_json_row(
    entries: &[(String, serde_json::Value)],
    layout: &ColumnLayout,
    opts: &ReadOptions,
    file: &str,
    line: u32,
    rows: &mut ChunkRows,
) {
    let reject = |reason: String| Rejection::of_line(file, line, reason);
    let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
    if let Some((dup, _)) = entries.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        rows.push(reject(format!(
            "key `{}` appears more than once in the row",
            excerpt(dup)
        )));
        return;
    }
    let mut cells: Vec<Option<String>> = Vec::with_capacity(layout.names.len());
    for name in &layout.names {
        match entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| json_cell(v))
        {
            None => cells.push(None),
            Some(Ok(c)) => cells.push(c),
            Some(Err(())) => {
                rows.push(reject(format!(
                    "`{}` must be a single value, not an object or list",
                    excerpt(name)
                )));
                return;
            }
        }
    }
    let row = layout.row(
        opts,
        file,
        line,
        line,
        |i| cells.get(i).and_then(|c| c.as_deref()),
        |_| Vec::new(),
    );
    rows.push(row);
}
