//! The statistics cells the store keeps and the questions asked of them.
//!
//! The store adds each registration's cells ([`crate::Registration::stats`]) and each save's
//! difference ([`crate::Change::stats`]) to one table in the same transaction as the
//! complaint, and answers [`StatQuery`]s by summing cells: the work grows with days × groups,
//! not with the number of complaints.

pub use redress_analytics::cells::{Cell, CellKey, Measure};

/// A column of the cells to group or filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatColumn {
    /// The local day (its number, see `redress_analytics::cells::day_number`).
    Day,
    /// Owner department.
    Department,
    /// Handler id.
    Handler,
    /// Channel.
    Channel,
    /// Business-type code.
    BusinessType,
    /// Cause code.
    Cause,
    /// Severity.
    Severity,
    /// Product.
    Product,
    /// The measure's own breakdown.
    Value,
}

impl StatColumn {
    /// The column's name in the cells table.
    pub fn column(self) -> &'static str {
        match self {
            StatColumn::Day => "day",
            StatColumn::Department => "department",
            StatColumn::Handler => "handler",
            StatColumn::Channel => "channel",
            StatColumn::BusinessType => "business_type",
            StatColumn::Cause => "cause",
            StatColumn::Severity => "severity",
            StatColumn::Product => "product",
            StatColumn::Value => "value",
        }
    }
}

/// One question: the sums of one measure's cells over days `[from_day, to_day)` that pass every
/// given filter, grouped by `group_by`.
#[derive(Debug, Clone)]
pub struct StatQuery {
    /// The measure.
    pub measure: Measure,
    /// First day (number), inclusive.
    pub from_day: i32,
    /// Last day (number), exclusive.
    pub to_day: i32,
    /// Only these departments; `None`: any. An empty list matches nothing.
    pub departments: Option<Vec<String>>,
    /// Only this handler (id).
    pub handler: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only business types with this code prefix.
    pub business_type: Option<String>,
    /// Only causes with this code prefix.
    pub cause: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this product (exact).
    pub product: Option<String>,
    /// Only this value (exact).
    pub value: Option<String>,
    /// Group by these columns, in this order; empty: one row with the grand sums.
    pub group_by: Vec<StatColumn>,
}

impl StatQuery {
    /// A question about `measure` over `[from_day, to_day)` with no filter and no grouping.
    pub fn new(measure: Measure, from_day: i32, to_day: i32) -> Self {
        StatQuery {
            measure,
            from_day,
            to_day,
            departments: None,
            handler: None,
            channel: None,
            business_type: None,
            cause: None,
            severity: None,
            product: None,
            value: None,
            group_by: Vec::new(),
        }
    }
}

/// One group's sums. Groups whose count and sum are both zero are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    /// The group's values, in the order of `group_by` (a day as its number in decimal).
    pub keys: Vec<String>,
    /// Sum of the counts.
    pub n: i64,
    /// Sum of the sums.
    pub total: i64,
}
