//! Request parts read with the API's error shape: axum's own rejections (a path that is not
//! UTF-8, a query that does not parse, a body too large) become JSON errors like every other.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use redress_app::ErrorKind;

use crate::error::{ApiError, ApiResult};

/// The path parameters, or a 400 naming the problem.
pub fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(v)| v).map_err(|e| ApiError::new(ErrorKind::Malformed, "invalid_path", e.body_text()))
}

/// The query parameters, or a 422 naming the problem.
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| ApiError::new(ErrorKind::Invalid, "invalid_query", e.body_text()))
}

/// The body, at most `limit` bytes.
pub fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> ApiResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorKind::TooLarge, "body_too_large", format!("the body exceeds {limit} bytes"))
        } else {
            ApiError::new(ErrorKind::Malformed, "unreadable_body", e.body_text())
        }
    })
}
