//! The Redress domain: complaints, their lifecycle, rule profiles, calendars, deadlines,
//! classification and routing.
//!
//! This crate is pure: no SQL, no HTTP, no async. Everything jurisdiction-specific is data
//! (rule profiles, calendars, taxonomy, organisation, message templates) parsed here and shipped
//! under `data/`.

pub mod attachment;
pub mod calendar;
pub mod classify;
pub mod clock;
pub mod complaint;
pub mod deadline;
pub mod delivery;
pub mod fields;
pub mod lifecycle;
pub mod messages;
pub mod org;
pub mod profile;
pub mod rulebook;
