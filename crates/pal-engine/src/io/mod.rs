//! Input and output: event readers (CSV, JSON Lines), result writers and reports (results,
//! PTL, summary, explain timelines) and the diagnostic renderers.

pub mod events;
pub mod pas_view;
pub mod pg;
pub mod render;
pub mod report;
pub mod sarif;
pub mod sinks;
