//! Types of expressions as the checker sees them, including the non-value types that can only
//! be the receiver of a `.field` (an event, the pathway, a clock, an enum, a query result).

use crate::base::value::{DurationKind, EnumId, ValueType};
use crate::model::ir::{ClockId, EventRef, Query};
use crate::model::schema::{EventTypeId, Schema};

/// A checker type.
#[derive(Debug, Clone)]
pub enum Ty {
    /// `Bool`.
    Bool,
    /// `Int`.
    Int,
    /// `Date`.
    Date,
    /// `Duration` of a kind.
    Dur(DurationKind),
    /// `String`.
    Str,
    /// A value of an enum.
    Enum(EnumId),
    /// A bare name that is a variant of several enums; settled by what it is compared with.
    Variant(String),
    /// An event (the trigger or a query candidate) of one of these types.
    Event(EventRef, Vec<EventTypeId>),
    /// The event a `last`/`first` query finds (absent if none).
    Found(Box<Query>),
    /// `pathway` / `patient`.
    Pathway,
    /// A clock.
    Clock(ClockId),
    /// An enum's name, for `enum_name.variant`.
    EnumType(EnumId),
    /// An optional value.
    Opt(Box<Ty>),
    /// A list of values (a list parameter, a list literal).
    List(Box<Ty>),
    /// Already reported: suppresses follow-on errors.
    Error,
}

impl Ty {
    /// The checker type of a schema type.
    pub fn of(vt: &ValueType) -> Ty {
        match vt {
            ValueType::Bool => Ty::Bool,
            ValueType::Int => Ty::Int,
            ValueType::Date => Ty::Date,
            ValueType::Duration(k) => Ty::Dur(*k),
            ValueType::String => Ty::Str,
            ValueType::Enum(e) => Ty::Enum(*e),
            ValueType::List(t) => Ty::List(Box::new(Ty::of(t))),
        }
    }

    /// The value type and optionality, for plain values.
    pub fn value_type(&self) -> Option<(ValueType, bool)> {
        Some(match self {
            Ty::Bool => (ValueType::Bool, false),
            Ty::Int => (ValueType::Int, false),
            Ty::Date => (ValueType::Date, false),
            Ty::Dur(k) => (ValueType::Duration(*k), false),
            Ty::Str => (ValueType::String, false),
            Ty::Enum(e) => (ValueType::Enum(*e), false),
            Ty::Opt(inner) => (inner.value_type()?.0, true),
            Ty::List(inner) => (ValueType::List(Box::new(inner.value_type()?.0)), false),
            _ => return None,
        })
    }

    /// Wraps in `Opt` when `optional`.
    pub fn optional_if(self, optional: bool) -> Ty {
        if optional {
            Ty::Opt(Box::new(self))
        } else {
            self
        }
    }

    /// True for the poison type.
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// Same type (durations of the same kind; a variant matches nothing here).
    pub fn same(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Bool, Ty::Bool)
            | (Ty::Int, Ty::Int)
            | (Ty::Date, Ty::Date)
            | (Ty::Str, Ty::Str) => true,
            (Ty::Dur(a), Ty::Dur(b)) => a == b,
            (Ty::Enum(a), Ty::Enum(b)) => a == b,
            (Ty::Opt(a), Ty::Opt(b)) | (Ty::List(a), Ty::List(b)) => a.same(b),
            _ => false,
        }
    }

    /// The name shown to users.
    pub fn name(&self, schema: &Schema) -> String {
        match self {
            Ty::Bool => "Bool".into(),
            Ty::Int => "Int".into(),
            Ty::Date => "Date".into(),
            Ty::Dur(DurationKind::Days) => "Duration (days)".into(),
            Ty::Dur(DurationKind::Months) => "Duration (months)".into(),
            Ty::Dur(DurationKind::WorkingDays) => "Duration (working days)".into(),
            Ty::Str => "String".into(),
            Ty::Enum(e) => schema.type_name(&ValueType::Enum(*e)),
            Ty::Variant(v) => format!("enum value `{v}`"),
            Ty::Event(_, types) => format!(
                "event {}",
                types
                    .iter()
                    .map(|t| format!(
                        "`{}`",
                        schema
                            .events
                            .get(*t as usize)
                            .map(|e| e.name.as_str())
                            .unwrap_or("?")
                    ))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Ty::Found(_) => "event found by a query".into(),
            Ty::Pathway => "pathway".into(),
            Ty::Clock(_) => "clock".into(),
            Ty::EnumType(e) => format!("enum `{}`", schema.type_name(&ValueType::Enum(*e))),
            Ty::Opt(t) => format!("{}?", t.name(schema)),
            Ty::List(t) => format!("[{}]", t.name(schema)),
            Ty::Error => "?".into(),
        }
    }
}
