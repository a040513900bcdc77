//! Input and output: event readers (CSV, JSON Lines), result writers and reports (results,
//! PTL, summary, explain timelines), the external sort the PTL spills through ([`spill`]) and
//! the diagnostic renderers.

pub mod events;
pub mod pas_view;
pub mod pg;
pub mod render;
pub mod report;
pub mod sarif;
pub mod sinks;
pub mod spill;
