//! The model layer: the data the engine reasons about — the checked schema, the calendar
//! (bank holidays, working days, months), the event model and the compiled policy (IR). It
//! knows nothing of the syntax that produced a policy or of how events are read.

pub mod calendar;
pub mod event;
pub mod ir;
pub mod mapping;
pub mod schema;
pub mod status;
