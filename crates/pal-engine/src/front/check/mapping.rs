//! `mapping` declarations: every name checked against the schema (event types, fields, enum
//! values, with did-you-mean), value maps typed by their field, date formats parsed, codes and
//! columns given once; elaborated to [`InputMapping`].

use super::Checker;
use crate::base::diagnostic::{Code, Diagnostic};
use crate::base::source::{SourceMap, Span};
use crate::base::suggest::did_you_mean;
use crate::base::value::{Value, ValueType};
use crate::model::ir::Policy;
use crate::model::mapping::{
    Column, DateColumn, DateFormat, EventColumn, FieldColumn, InputMapping,
};
use crate::model::schema::EventTypeId;
use crate::syntax::ast::{self, Item, LiteralKind, MapEntry, MapTarget};
use std::collections::HashMap;

/// The columns every mapping must name.
const CORE: [&str; 3] = ["pathway_id", "date", "event"];

impl Checker<'_> {
    /// Checks one `mapping` declaration; `None` if it has an error (reported).
    pub(super) fn declare_mapping(&mut self, m: &ast::MappingDecl) -> Option<InputMapping> {
        let errors_before = self.error_count();
        let mut core: [Option<&MapEntry>; 3] = [None, None, None];
        let mut fields: Vec<FieldColumn> = Vec::new();
        let mut field_spans: HashMap<&str, ast::Ident> = HashMap::new();
        let mut pathway_id = None;
        let mut date = None;
        let mut event = None;
        for e in &m.entries {
            match &e.target {
                MapTarget::Core(id) => {
                    let Some(slot) = CORE.iter().position(|c| *c == id.name) else {
                        self.unknown_target(id);
                        continue;
                    };
                    if let Some(first) = core[slot] {
                        self.mapped_twice(id, first.target.ident(), "the column of");
                        continue;
                    }
                    core[slot] = Some(e);
                    match slot {
                        0 => {
                            self.no_formats(e, "`pathway_id`");
                            self.no_values(e, "`pathway_id`");
                            pathway_id = Some(self.column(e));
                        }
                        1 => {
                            self.no_values(e, "`date`");
                            date = Some(DateColumn {
                                column: self.column(e),
                                formats: self.formats(e),
                            });
                        }
                        _ => {
                            self.no_formats(e, "`event`");
                            event = Some(EventColumn {
                                column: self.column(e),
                                codes: e.values.as_ref().map(|vm| self.event_codes(vm)),
                            });
                        }
                    }
                }
                MapTarget::Field(id) => {
                    if let Some(first) = field_spans.get(id.name.as_str()) {
                        let first = first.clone();
                        self.mapped_twice(id, &first, "field");
                        continue;
                    }
                    field_spans.insert(&id.name, id.clone());
                    if let Some(f) = self.field_column(id, e) {
                        fields.push(f);
                    }
                }
            }
        }
        let missing: Vec<&str> = CORE
            .iter()
            .zip(core.iter())
            .filter(|(_, e)| e.is_none())
            .map(|(c, _)| *c)
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            self.diags.push(
                Diagnostic::new(
                    Code::E0401,
                    format!(
                        "mapping `{}` does not say which column gives {list}",
                        m.name.name
                    ),
                )
                .primary(m.name.span, "incomplete mapping")
                .help(format!(
                    "add {}",
                    missing
                        .iter()
                        .map(|c| format!("`{c} from \"COLUMN\"`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        if self.error_count() > errors_before {
            return None;
        }
        Some(InputMapping {
            name: m.name.name.clone(),
            pathway_id: pathway_id?,
            date: date?,
            event: event?,
            fields,
        })
    }

    fn error_count(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }

    fn column(&self, e: &MapEntry) -> Column {
        let (file, line, _) = self.sources.location(e.column.span);
        Column {
            name: e.column.value.clone(),
            origin: format!("{file}:{line}"),
        }
    }

    fn unknown_target(&mut self, id: &ast::Ident) {
        let mut d = Diagnostic::new(
            Code::E0401,
            format!("`{}` is not a column a mapping gives", id.name),
        )
        .primary(id.span, "not `pathway_id`, `date`, `event` or `field NAME`");
        d = match did_you_mean(&id.name, CORE) {
            Some(h) => d.help(h),
            None => d.help(format!(
                "a field is mapped with `field {} from \"COLUMN\"`",
                id.name
            )),
        };
        self.diags.push(d);
    }

    fn mapped_twice(&mut self, id: &ast::Ident, first: &ast::Ident, what: &str) {
        self.diags.push(
            Diagnostic::new(Code::E0402, format!("{what} `{}` is mapped twice", id.name))
                .primary(id.span, "mapped again here")
                .secondary(first.span, "first mapped here")
                .help("a column gives each name once: keep one of them"),
        );
    }

    fn no_formats(&mut self, e: &MapEntry, what: &str) {
        if let Some(f) = e.formats.first() {
            self.diags.push(
                Diagnostic::new(
                    Code::E0201,
                    format!("{what} is not a date: it has no format"),
                )
                .primary(f.span, "a date format")
                .help("`format \"…\"` applies to `date` and to Date fields"),
            );
        }
    }

    fn no_values(&mut self, e: &MapEntry, what: &str) {
        if let Some(vm) = &e.values {
            self.diags.push(
                Diagnostic::new(Code::E0201, format!("{what} takes no value map"))
                    .primary(vm.span, "a value map")
                    .help("value maps translate local codes for `event` and for fields"),
            );
        }
    }

    /// The date formats of an entry, each parsed (`E0403` for one not understood).
    fn formats(&mut self, e: &MapEntry) -> Vec<DateFormat> {
        let mut out = Vec::new();
        for f in &e.formats {
            match DateFormat::parse(&f.value) {
                Ok(df) => out.push(df),
                Err(why) => self.diags.push(
                    Diagnostic::new(
                        Code::E0403,
                        format!("`{}` is not a date format PAL can read", f.value),
                    )
                    .primary(f.span, why)
                    .help("e.g. `format \"DD/MM/YYYY\"`, `format \"YYYY-MM-DD hh:mm:ss\"`, or several: `format \"DD/MM/YYYY hh:mm\" or \"DD/MM/YYYY\"`"),
                ),
            }
        }
        out
    }

    /// `event from "…" { "30" => treatment_started }`: each code names an event type.
    fn event_codes(&mut self, vm: &ast::ValueMap) -> Vec<(String, EventTypeId)> {
        let mut out = Vec::new();
        let mut seen: HashMap<String, ast::StrLit> = HashMap::new();
        for arm in &vm.arms {
            let kind = match &arm.value.kind {
                LiteralKind::Name(None, n) => match self.schema.event(n) {
                    Some((k, _)) => Some(k),
                    None => {
                        let mut d =
                            Diagnostic::new(Code::E0101, format!("unknown event type `{n}`"))
                                .primary(arm.value.span, "not an event type of the schema");
                        if let Some(h) =
                            did_you_mean(n, self.schema.events.iter().map(|e| e.name.as_str()))
                        {
                            d = d.help(h);
                        }
                        self.diags.push(d);
                        None
                    }
                },
                _ => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E0201,
                            "a code of the event column must map to an event type",
                        )
                        .primary(arm.value.span, "not an event type name"),
                    );
                    None
                }
            };
            for code in &arm.codes {
                self.code_once(code, &mut seen);
                if let Some(k) = kind {
                    out.push((code.value.clone(), k));
                }
            }
        }
        out
    }

    /// Reports a code already mapped in this value map.
    fn code_once(&mut self, code: &ast::StrLit, seen: &mut HashMap<String, ast::StrLit>) {
        if let Some(first) = seen.get(&code.value) {
            self.diags.push(
                Diagnostic::new(
                    Code::E0402,
                    format!("code `{}` is mapped twice", code.value),
                )
                .primary(code.span, "mapped again here")
                .secondary(first.span, "first mapped here")
                .help("a code means one thing: remove one of them"),
            );
        } else {
            seen.insert(code.value.clone(), code.clone());
        }
    }

    /// `field NAME from "…" [format …] [{ … }]`.
    fn field_column(&mut self, id: &ast::Ident, e: &MapEntry) -> Option<FieldColumn> {
        // The field's type in each event type that declares it.
        let mut types: Vec<(&str, ValueType)> = Vec::new();
        for ev in &self.schema.events {
            if let Some(f) = ev.fields.iter().find(|f| f.name == id.name) {
                types.push((ev.name.as_str(), f.ty.clone()));
            }
        }
        let Some((_, ty)) = types.first().cloned() else {
            let mut names: Vec<&str> = self
                .schema
                .events
                .iter()
                .flat_map(|e| e.fields.iter().map(|f| f.name.as_str()))
                .collect();
            names.sort_unstable();
            names.dedup();
            let mut d = Diagnostic::new(
                Code::E0102,
                format!("no event type has a field `{}`", id.name),
            )
            .primary(id.span, "unknown field");
            if let Some(h) = did_you_mean(&id.name, names) {
                d = d.help(h);
            }
            self.diags.push(d);
            return None;
        };
        if let Some((other, other_ty)) = types.iter().find(|(_, t)| *t != ty) {
            if e.values.is_some() || !e.formats.is_empty() {
                let (first, _) = types[0];
                let msg = format!(
                    "field `{}` is {} in `{first}` but {} in `{other}`: one value map cannot serve both",
                    id.name,
                    self.schema.type_name(&ty),
                    self.schema.type_name(other_ty)
                );
                self.diags
                    .push(Diagnostic::new(Code::E0201, msg).primary(id.span, "two types"));
                return None;
            }
        }
        let formats = if ty == ValueType::Date {
            self.formats(e)
        } else {
            let what = format!("field `{}` ({})", id.name, self.schema.type_name(&ty));
            self.no_formats(e, &what);
            Vec::new()
        };
        let values = e.values.as_ref().map(|vm| {
            let mut out: Vec<(String, Value)> = Vec::new();
            let mut seen = HashMap::new();
            for arm in &vm.arms {
                let what = format!("a value of field `{}`", id.name);
                let v = self.literal_value(&arm.value, &ty, &what);
                for code in &arm.codes {
                    self.code_once(code, &mut seen);
                    if let Some(v) = &v {
                        out.push((code.value.clone(), v.clone()));
                    }
                }
            }
            out
        });
        Some(FieldColumn {
            field: id.name.clone(),
            column: self.column(e),
            formats,
            values,
        })
    }
}

/// Checks the `mapping` declarations of a mapping file against a compiled policy's schema
/// (`pal run --map FILE`, `pal check --map FILE`): the mappings, and every finding. A mapping
/// file holds only mappings (and comments).
pub fn check_mapping_file(
    file: &ast::File,
    policy: &Policy,
    sources: &SourceMap,
) -> (Vec<crate::model::mapping::InputMapping>, Vec<Diagnostic>) {
    let mut c = Checker::from_policy(sources, policy);
    for m in &policy.mappings {
        c.mapping_names.insert(m.name.clone(), Span::default());
    }
    if let Some(h) = &file.header {
        c.diags.push(
            Diagnostic::new(Code::E0401, "a mapping file has no `policy` header")
                .primary(h.span, "a policy header")
                .help("a mapping file holds `mapping` declarations only; it is read with the policy it maps for: `pal run POLICY --map FILE`"),
        );
    }
    for item in &file.items {
        match item {
            Item::Mapping(m) => {
                if let Some(&first) = c.mapping_names.get(&m.name.name) {
                    c.duplicate("mapping", &m.name, first);
                    continue;
                }
                c.mapping_names.insert(m.name.name.clone(), m.name.span);
                if let Some(im) = c.declare_mapping(m) {
                    c.mappings.push(im);
                }
            }
            other => c.diags.push(
                Diagnostic::new(Code::E0401, "a mapping file declares only mappings")
                    .primary(other.span(), "not a `mapping`")
                    .help("declare rules, events and parameters in the policy; a mapping file is read with it (`--map FILE`)"),
            ),
        }
    }
    (c.mappings, c.diags)
}
