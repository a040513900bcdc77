//! The base layer: what every other layer may use and which uses nothing of the engine —
//! source files and spans, the diagnostic type with its code registry, did-you-mean
//! suggestions, excerpts of input text for messages, runtime values and types, and the
//! interned names results are built from.

pub mod diagnostic;
pub mod lint;
pub mod name;
pub mod source;
pub mod suggest;
pub mod text;
pub mod value;
