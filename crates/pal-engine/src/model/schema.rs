//! The checked schema of a policy: enums, pathway attributes and event types with typed fields.
//! Built by the checker; read by the event readers, the compiler and the evaluator.

use crate::base::name::ShortText;
use crate::base::value::{EnumId, Value, ValueType};
use std::collections::HashMap;

/// Index of an event type in [`Schema::events`].
pub type EventTypeId = u32;

/// A declared enum.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Its name, e.g. `appointment_kind`.
    pub name: String,
    /// Variant names in declaration order; a value is an index into this list.
    pub variants: Vec<String>,
}

/// A field of an event type, or a pathway attribute.
#[derive(Debug, Clone)]
pub struct FieldDef {
    /// Name as written in CSV headers, JSON keys and expressions.
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// Declared `T?`: may be absent (reads as unset).
    pub optional: bool,
    /// Value used when the input leaves the field absent.
    pub default: Option<Value>,
}

impl FieldDef {
    /// True if an input row must give this field a value (not optional and no default).
    pub fn required(&self) -> bool {
        !self.optional && self.default.is_none()
    }
}

/// A declared event type.
#[derive(Debug, Clone)]
pub struct EventTypeDef {
    /// Its name, e.g. `dna`.
    pub name: String,
    /// Fields in declaration order (the implicit `date` is not listed).
    pub fields: Vec<FieldDef>,
    /// For each field, the pathway attribute it sets when the event is applied, if any.
    pub sets_attribute: Vec<Option<u32>>,
}

/// The whole schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Enums by [`EnumId`].
    pub enums: Vec<EnumDef>,
    /// Pathway attributes (set by events that carry them, or by a test's `pathway { … }`).
    pub attributes: Vec<FieldDef>,
    /// Event types by [`EventTypeId`].
    pub events: Vec<EventTypeDef>,
    /// Event type ids by name.
    pub event_index: HashMap<String, EventTypeId>,
    /// How events of one date are ordered (`same_day_order { … }`).
    pub same_day: crate::model::event::SameDayOrder,
}

impl Schema {
    /// The event type called `name`.
    pub fn event(&self, name: &str) -> Option<(EventTypeId, &EventTypeDef)> {
        let id = *self.event_index.get(name)?;
        Some((id, &self.events[id as usize]))
    }

    /// The enum with `id`.
    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id as usize]
    }

    /// The name of a type as users write it (`Date`, `appointment_kind`, …).
    pub fn type_name(&self, ty: &ValueType) -> String {
        match ty {
            ValueType::Bool => "Bool".into(),
            ValueType::Int => "Int".into(),
            ValueType::Date => "Date".into(),
            ValueType::Duration(_) => "Duration".into(),
            ValueType::String => "String".into(),
            ValueType::Enum(id) => self
                .enums
                .get(*id as usize)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| "enum".into()),
            ValueType::List(t) => format!("[{}]", self.type_name(t)),
        }
    }

    /// [`Schema::display_value`] as a [`ShortText`], without allocating for the values a result
    /// holds (variants, dates, codes, ids).
    pub fn display_short(&self, v: &Value) -> ShortText {
        match v {
            Value::Enum(e, i) => self
                .enums
                .get(*e as usize)
                .and_then(|e| e.variants.get(*i as usize))
                .map(|name| ShortText::from(name.as_str()))
                .unwrap_or_default(),
            Value::Date(d) => ShortText::from(
                std::str::from_utf8(&crate::base::value::iso_date(*d)).unwrap_or_default(),
            ),
            Value::Str(s) => ShortText::from(&**s),
            Value::Bool(b) => ShortText::const_new(if *b { "true" } else { "false" }),
            Value::Unset | Value::Int(_) | Value::Duration(_) | Value::List(_) => {
                ShortText::from(self.display_value(v))
            }
        }
    }

    /// The textual form of a value, as written in input files and JSON output.
    pub fn display_value(&self, v: &Value) -> String {
        match v {
            Value::Unset => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Duration(d) => d.to_string(),
            Value::Bool(_) | Value::Date(_) | Value::Str(_) | Value::Enum(..) => {
                self.display_short(v).into()
            }
            Value::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|v| self.display_value(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}
