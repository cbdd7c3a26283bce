//! Import of complaint data published by others.
//!
//! The CFPB public Consumer Complaint Database CSV
//! export is read as a stream by [`CfpbReader`] so that multi-gigabyte exports
//! never need to fit in memory. Problems in one row become a [`RowError`] for
//! that row and reading carries on; only problems that make the whole file
//! unusable are an [`ImportError`].
//!
//! Tables from other systems (the regulator's transfer lists, the hotline's call records),
//! CSV or XLSX, are read by [`sheet`] with a layout that is data.

mod date;
mod error;
mod header;
mod lines;
mod reader;

pub mod sheet;

pub use date::parse_cfpb_date;
pub use error::{ImportError, RowError};
pub use reader::{CfpbReader, CfpbRecord};
