//! API errors: the use cases' [`AppError`] as HTTP.
//!
//! Policy (the use cases' own policy is in `redress_app::error`): every error a client can
//! cause is a 4xx with the body `{ "error": { "code", "message", "field"? } }`, its status
//! chosen from the error's kind alone. Errors the framework raises before a handler runs (an
//! unknown route, a method not allowed, a path that is not UTF-8, a body too large or
//! unreadable) have the same shape. A 500 carries no detail: the cause is logged with the
//! request's span.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::{AppError, ErrorKind};
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error of the given kind and code.
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(AppError::new(kind, code, message))
    }

    /// The HTTP status of an error kind (the same for the API and the pages).
    pub fn status(kind: ErrorKind) -> StatusCode {
        redress_web::error::status_of(kind)
    }
}

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.kind == ErrorKind::Internal {
            let cause = e.source.as_ref().map(|s| s.to_string()).unwrap_or_default();
            tracing::error!(error = %e.message, %cause, "internal error");
        }
        let mut error = json!({ "code": e.code, "message": e.message });
        if let Some(f) = e.field {
            error["field"] = json!(f);
        }
        let mut response = (Self::status(e.kind), Json(json!({ "error": error }))).into_response();
        if e.kind == ErrorKind::Unauthenticated {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
