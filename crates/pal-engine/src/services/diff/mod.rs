//! `pal diff`: what changing a policy does, before a board approves it.
//!
//! * [`extract`]: both policies over a trust's own extract, read once and evaluated per
//!   pathway in parallel: which pathways change and how, grouped by the rules whose firing
//!   differs (with citations), the effect on the waiting-time position, example timelines.
//! * [`search`]: without data, a bounded search for the smallest pathway on which the two
//!   policies disagree, printed as a ready-to-paste `test` block.
//! * [`compare`] (one pathway's results, and its traces, under both), [`structural`] (what
//!   differs between the two compiled policies), [`timeline`] (side-by-side steps) and
//!   [`render`] (the human report) and [`html`] (its HTML page) are the pieces; the REPL's `:diff` uses them too.

pub mod compare;
pub mod extract;
pub mod html;
pub mod render;
pub mod search;
pub mod structural;
pub mod timeline;

pub use compare::{compare, PathwayDiff};
pub use extract::{diff_extract, ExtractDiff, Options};
pub use structural::{policy_changes, PolicyChanges};
