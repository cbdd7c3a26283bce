use std::fmt;

use serde::{Deserialize, Serialize};

/// A problem that makes a whole file unusable, found before any record is
/// returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input could not be read.
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    /// The input holds no header line at all.
    #[error("the file is empty: no header line")]
    Empty,
    /// Columns without which no record can be built are absent from the
    /// header. Holds their canonical names, in the official column order.
    #[error("{}", missing_message(.0))]
    MissingColumns(Vec<String>),
    /// Two header cells name the same column, so it is unclear which to use.
    /// Positions are 1-based.
    #[error("column '{column}' appears twice in the header (columns {first} and {second})")]
    DuplicateColumn {
        /// Canonical name of the column.
        column: String,
        /// Position of the first occurrence.
        first: usize,
        /// Position of the second occurrence.
        second: usize,
    },
}

fn missing_message(columns: &[String]) -> String {
    let names = columns
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if columns.len() == 1 {
        format!("missing required column {names}")
    } else {
        format!("missing required columns {names}")
    }
}

/// A record that could not be imported; reading continues with the next one.
///
/// Displays as `line 17: Date received: unrecognised date '13/45/2023'`, or
/// without the field part when the problem concerns the whole record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// Canonical name of the offending column (as in the official export,
    /// e.g. `Date received`), whatever spelling the file's header used.
    pub field: Option<String>,
    /// What is wrong, quoting the offending value where there is one.
    pub reason: String,
}

impl RowError {
    pub(crate) fn record(line: u64, reason: impl Into<String>) -> Self {
        RowError {
            line,
            field: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(line: u64, field: &str, reason: impl Into<String>) -> Self {
        RowError {
            line,
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {}: {}", self.line, field, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for RowError {}
