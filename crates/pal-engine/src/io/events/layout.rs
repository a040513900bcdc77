//! A tabular source's columns resolved against the schema once (`ColumnLayout`), and one row
//! built from its cells (`build_row`): the seam every reader of rows and columns goes through
//! (CSV and mapped JSON Lines here; any source that gives column names and a cell per column
//! index). A new reader:
//!
//! 1. resolves its column names once: `ColumnLayout::new(names, opts.schema, opts.mapping, file)`
//!    (a mapping's unknown columns are reported here, with the mapping's file and line);
//! 2. for each row, calls `layout.row(opts, file, line, seq, |i| cell_text(i), |kind|
//!    layout.undeclared_in(kind, n_cells, |i| cell_is_blank(i)))` and pushes the `Row` into a
//!    `ChunkRows` — so every row is validated, typed, mapped and rejected with its provenance
//!    exactly as a CSV row is. (`line` is what a rejection names: a file line, or a row number.)

use super::cell::parse_value;
use super::{ReadError, ReadOptions, Rejection, Row};
use crate::base::suggest::did_you_mean;
use crate::base::text::{excerpt, name_list};
use crate::base::value::{parse_date, Value};
use crate::model::event::Event;
use crate::model::mapping::{formats_text, read_date, Column, DateFormat, InputMapping};
use crate::model::schema::{EventTypeId, FieldDef, Schema};
use std::collections::{HashMap, HashSet};

/// A field's cell as it comes: the text, and how the mapping (if any) reads it.
pub(crate) struct FieldCell<'c> {
    /// The cell's text.
    pub text: &'c str,
    /// The mapping's reading of its column; `None`: PAL's own.
    pub conv: Option<&'c FieldConv>,
}

/// How a mapped column's cells become a field's values.
#[derive(Debug)]
pub(crate) struct FieldConv {
    /// The source column's name (for messages).
    column: String,
    /// The mapping's name.
    mapping: String,
    /// Date formats (a Date field).
    formats: Vec<DateFormat>,
    /// Local code → value.
    values: Option<HashMap<String, Value>>,
    /// The codes in declaration order (for messages).
    codes: Vec<String>,
}

/// How the core cells are read: PAL's own shape, or a mapping's.
#[derive(Debug, Default)]
pub(crate) struct CoreReading {
    /// The columns' names in messages: `pathway_id`, `date`, `event`, or the mapping's.
    names: Option<[String; 3]>,
    /// Date formats (empty: `YYYY-MM-DD`).
    date_formats: Vec<DateFormat>,
    /// Local code → event type, the codes in declaration order, and the mapping's name.
    event_codes: Option<(HashMap<String, EventTypeId>, Vec<String>, String)>,
}

impl CoreReading {
    fn name(&self, i: usize) -> &str {
        match &self.names {
            Some(n) => &n[i],
            None => ["pathway_id", "date", "event"][i],
        }
    }
}

/// A tabular source's columns resolved against the schema (and a mapping, if any) once: the
/// seam every reader of named columns goes through. A reader resolves its column names into
/// a layout, then hands each row's cells, by column index, to [`ColumnLayout::row`].
#[derive(Debug)]
pub(crate) struct ColumnLayout {
    /// The pathway id's column.
    pub(crate) pathway_id: usize,
    date: usize,
    event: usize,
    /// Every column's name, in source order.
    pub(crate) names: Vec<String>,
    /// Per event type: for each field, its column and (mapped) reading.
    field_columns: Vec<Vec<Option<FieldSource>>>,
    /// The mapped readings of field columns.
    convs: Vec<FieldConv>,
    /// Per event type: the non-core columns it does not declare (none under a mapping: an
    /// extract's other columns, and mapped fields of other event types, are not read).
    undeclared: Vec<Vec<usize>>,
    core: CoreReading,
}

/// A field's column, and the index of its mapped reading in `convs` (none: PAL's own).
type FieldSource = (usize, Option<usize>);

/// The CSV layout is the column layout.
pub(super) type CsvLayout = ColumnLayout;

impl ColumnLayout {
    /// Resolves column names (in source order, already trimmed) against the schema, or against
    /// a mapping: every column the mapping names must be there.
    pub(crate) fn new(
        names: Vec<String>,
        schema: &Schema,
        mapping: Option<&InputMapping>,
        file: &str,
    ) -> Result<ColumnLayout, ReadError> {
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
        if let Some(m) = mapping {
            return Self::mapped(&names, &find, schema, m, file);
        }
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
            field_columns.push(
                def.fields
                    .iter()
                    .map(|f| find(&f.name).map(|c| (c, None)))
                    .collect(),
            );
            undeclared.push(
                (0..names.len())
                    .filter(|i| ![pathway_id, date, event].contains(i))
                    .filter(|i| !fields.contains(names[*i].as_str()))
                    .collect(),
            );
        }
        Ok(ColumnLayout {
            pathway_id,
            date,
            event,
            names,
            field_columns,
            convs: Vec::new(),
            undeclared,
            core: CoreReading::default(),
        })
    }

    /// The layout a mapping gives.
    fn mapped(
        names: &[String],
        find: &dyn Fn(&str) -> Option<usize>,
        schema: &Schema,
        m: &InputMapping,
        file: &str,
    ) -> Result<ColumnLayout, ReadError> {
        // Every column the mapping names, found in the header or reported with where the
        // mapping names it and the closest column the extract has.
        let mut missing = Vec::new();
        let mut column = |c: &Column| {
            let found = find(&c.name);
            if found.is_none() {
                let hint = did_you_mean(&c.name, names.iter().map(String::as_str))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                missing.push(format!("  {}: `{}`{hint}", c.origin, excerpt(&c.name)));
            }
            found.unwrap_or(0)
        };
        let pathway_id = column(&m.pathway_id);
        let date = column(&m.date.column);
        let event = column(&m.event.column);
        let mut convs = Vec::new();
        let mut by_field: HashMap<&str, (usize, usize)> = HashMap::new();
        for f in &m.fields {
            let c = column(&f.column);
            let (values, codes) = match &f.values {
                Some(v) => (
                    Some(v.iter().cloned().collect::<HashMap<_, _>>()),
                    v.iter().map(|(k, _)| k.clone()).collect(),
                ),
                None => (None, Vec::new()),
            };
            by_field.insert(&f.field, (c, convs.len()));
            convs.push(FieldConv {
                column: f.column.name.clone(),
                mapping: m.name.clone(),
                formats: f.formats.clone(),
                values,
                codes,
            });
        }
        if !missing.is_empty() {
            return Err(ReadError::Header(format!(
                "mapping `{}` reads column{} that `{file}` does not have:\n{}\n(its columns: {})",
                m.name,
                if missing.len() == 1 { "" } else { "s" },
                missing.join("\n"),
                name_list(names.iter().map(String::as_str), 20)
            )));
        }
        let field_columns = schema
            .events
            .iter()
            .map(|def| {
                def.fields
                    .iter()
                    .map(|f| by_field.get(f.name.as_str()).map(|&(c, v)| (c, Some(v))))
                    .collect()
            })
            .collect();
        let event_codes = m.event.codes.as_ref().map(|codes| {
            (
                codes.iter().cloned().collect::<HashMap<_, _>>(),
                codes.iter().map(|(k, _)| k.clone()).collect(),
                m.name.clone(),
            )
        });
        Ok(ColumnLayout {
            pathway_id,
            date,
            event,
            names: names.to_vec(),
            field_columns,
            convs,
            undeclared: vec![Vec::new(); schema.events.len()],
            core: CoreReading {
                names: Some([
                    m.pathway_id.name.clone(),
                    m.date.column.name.clone(),
                    m.event.column.name.clone(),
                ]),
                date_formats: m.date.formats.clone(),
                event_codes,
            },
        })
    }

    /// The columns of the pathway id, the date and the event (PAL's names or the mapping's).
    pub(crate) fn core_columns(&self) -> [usize; 3] {
        [self.pathway_id, self.date, self.event]
    }

    /// One row from its cells by column index (`cell(i)`: `None` past the row's end or for a
    /// cell that is not text). `undeclared` lists the non-empty cells of columns the row's
    /// event type does not declare (see [`ColumnLayout::undeclared_in`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn row<'r>(
        &self,
        opts: &ReadOptions,
        file: &str,
        line: u32,
        seq: u32,
        cell: impl Fn(usize) -> Option<&'r str>,
        undeclared: impl Fn(EventTypeId) -> Vec<String>,
    ) -> Row<'r> {
        build_row(
            opts,
            &self.core,
            file,
            line,
            seq,
            cell(self.pathway_id),
            cell(self.date),
            cell(self.event),
            |kind, i| {
                self.field_columns[kind as usize][i].and_then(|(c, v)| {
                    cell(c).map(|text| FieldCell {
                        text,
                        conv: v.map(|v| &self.convs[v]),
                    })
                })
            },
            undeclared,
        )
    }

    /// The columns of `kind`'s undeclared list whose cells are not blank, by name, in source
    /// order (`blank(i)`: the cell is empty or only spaces).
    pub(crate) fn undeclared_in(
        &self,
        kind: EventTypeId,
        cells: usize,
        blank: impl Fn(usize) -> bool,
    ) -> Vec<String> {
        self.undeclared[kind as usize]
            .iter()
            .take_while(|c| **c < cells)
            .filter(|c| !blank(**c))
            .map(|c| self.names[*c].clone())
            .collect()
    }
}

/// Validates a row given its core cells and a way to fetch field cells.
#[allow(clippy::too_many_arguments)]
pub(super) fn build_row<'p, 'c>(
    opts: &ReadOptions,
    core: &CoreReading,
    file: &str,
    line: u32,
    seq: u32,
    pathway_id: Option<&'p str>,
    date: Option<&str>,
    event: Option<&str>,
    field: impl Fn(EventTypeId, usize) -> Option<FieldCell<'c>>,
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
            row: None,
        })
    };
    let Some(pid) = pid else {
        return reject(format!("missing `{}`", core.name(0)));
    };
    if pid.trim() != pid {
        return reject(format!(
            "`{}` `{}` has spaces before or after it; ids are compared exactly",
            core.name(0),
            excerpt(pid)
        ));
    }
    let Some(date_text) = date.map(str::trim).filter(|d| !d.is_empty()) else {
        return reject(format!("missing `{}`", core.name(1)));
    };
    let Some(date) = (if core.date_formats.is_empty() {
        parse_date(date_text)
    } else {
        read_date(date_text, &core.date_formats)
    }) else {
        return reject(format!(
            "`{}`: `{}` is not a date (expected {})",
            core.name(1),
            excerpt(date_text),
            formats_text(&core.date_formats)
        ));
    };
    let Some(event_name) = event.map(str::trim).filter(|e| !e.is_empty()) else {
        return reject(format!("missing `{}`", core.name(2)));
    };
    let found = match &core.event_codes {
        None => schema.event(event_name),
        Some((codes, order, mapping)) => match codes.get(event_name) {
            Some(&k) => Some((k, &schema.events[k as usize])),
            None => {
                return reject(format!(
                    "`{}`: {}",
                    core.name(2),
                    unmapped(event_name, order, mapping)
                ))
            }
        },
    };
    let Some((kind, def)) = found else {
        let hint = did_you_mean(event_name, schema.event_index.keys().map(String::as_str))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return reject(format!(
            "unknown event type `{}`{hint}",
            excerpt(event_name)
        ));
    };
    let event_name = def.name.as_str();
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
        let cell = field(kind, i).and_then(|c| {
            let t = c.text.trim();
            (!t.is_empty()).then_some((t, c.conv))
        });
        let v = match cell {
            Some((text, conv)) => match read_field(text, f, conv, schema) {
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

/// A field's value from its (trimmed, non-empty) cell: through the mapping's value map or
/// date formats when it has them, else as PAL reads the field's type.
fn read_field(
    text: &str,
    f: &FieldDef,
    conv: Option<&FieldConv>,
    schema: &Schema,
) -> Result<Value, String> {
    let Some(conv) = conv else {
        return parse_value(text, f, schema);
    };
    if let Some(values) = &conv.values {
        return match values.get(text) {
            Some(v) => Ok(v.clone()),
            None => Err(format!(
                "field `{}` (column `{}`): {}",
                f.name,
                conv.column,
                unmapped(text, &conv.codes, &conv.mapping)
            )),
        };
    }
    if !conv.formats.is_empty() {
        return read_date(text, &conv.formats)
            .map(Value::Date)
            .ok_or_else(|| {
                format!(
                    "field `{}` (column `{}`): `{}` is not a date (expected {})",
                    f.name,
                    conv.column,
                    excerpt(text),
                    formats_text(&conv.formats)
                )
            });
    }
    parse_value(text, f, schema).map_err(|e| format!("{e} (column `{}`)", conv.column))
}

/// "code `X` has no mapping in `M` (did you mean `Y`? mapped: …)". Codes of one or two
/// characters get no suggestion: `4` is one edit from every other one-digit code.
fn unmapped(code: &str, codes: &[String], mapping: &str) -> String {
    let hint = if code.chars().count() >= 3 {
        did_you_mean(code, codes.iter().map(String::as_str))
            .map(|h| format!("{h} "))
            .unwrap_or_default()
    } else {
        String::new()
    };
    format!(
        "code `{}` has no mapping in `{mapping}` ({hint}mapped: {})",
        excerpt(code),
        name_list(codes.iter().map(String::as_str), 12)
    )
}
