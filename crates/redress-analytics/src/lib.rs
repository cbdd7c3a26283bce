//! The complaint stream as figures, pure: no SQL, HTTP, async, files or clock.
//!
//! - [`cells`]: what one complaint contributes to the statistics (`cells_of`), kept by the
//!   store in the same transaction as the complaint, so an analysis reads days × groups and
//!   never the complaints themselves.
//! - [`groups`]: the FCA complaints return's product and cause groups (data).
//! - [`hotspot`]: early warning over daily counts (a negative-binomial test of the latest week
//!   against the four before it, Bonferroni over the series tested), and its back-test.
//! - [`export`]: tables as CSV and Excel workbooks, with formula-like text neutralised.
//! - [`cfpb`]: complaints as rows of the CFPB public export (the inverse of the CFPB import).

pub mod cells;
pub mod cfpb;
pub mod export;
pub mod groups;
pub mod hotspot;

pub use cells::{Cell, CellKey, Measure, cells_of, difference};
