//! The JSON form of a complaint shared by the API and the command line: the whole record plus
//! `deadline`, the decision deadline.

use redress_domain::complaint::Complaint;
use serde_json::{Value, json};

use crate::error::{AppError, AppResult};

/// The record as a JSON value with `deadline`.
pub fn complaint_view(c: &Complaint) -> AppResult<Value> {
    let mut v = serde_json::to_value(c).map_err(AppError::internal)?;
    v["deadline"] = json!(c.deadlines.decide_by.or(c.deadlines.max_decide_by));
    Ok(v)
}

/// The same view as [`complaint_view`], written straight to JSON text: registration answers
/// thousands of these a second, and building a `Value` first doubles the work.
pub fn complaint_json(c: &Complaint) -> AppResult<Vec<u8>> {
    let mut out = serde_json::to_vec(c).map_err(AppError::internal)?;
    // The record serializes as an object; append `deadline` before its closing brace.
    if out.pop() != Some(b'}') {
        return Err(AppError::internal("a complaint did not serialize as a JSON object"));
    }
    out.extend_from_slice(b",\"deadline\":");
    serde_json::to_writer(&mut out, &c.deadlines.decide_by.or(c.deadlines.max_decide_by)).map_err(AppError::internal)?;
    out.push(b'}');
    Ok(out)
}
