//! Import of complaint data published by others.
//!
//! The only format so far is the CFPB public Consumer Complaint Database CSV
//! export, read as a stream by [`CfpbReader`] so that multi-gigabyte exports
//! never need to fit in memory. Problems in one row become a [`RowError`] for
//! that row and reading carries on; only problems that make the whole file
//! unusable are an [`ImportError`].

mod date;
mod error;
mod header;
mod lines;
mod reader;

pub use date::parse_cfpb_date;
pub use error::{ImportError, RowError};
pub use reader::{CfpbReader, CfpbRecord};
