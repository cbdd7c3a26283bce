//! API errors.
//!
//! Error-handling policy:
//! - Every failure a client can cause (bad JSON, a wrong type, a missing or unknown field, an
//!   unknown enum value, a body too large, an unknown id, an action the lifecycle refuses, a
//!   stale version) is a 4xx with the body `{ "error": { "code", "message", "field"? } }`. The
//!   `code` is stable and machine-readable; the `message` is for a person; `field` names the
//!   offending field (a JSON path such as `complainant.phone`) when there is one.
//! - A complaint another department owns answers 404, exactly like one that does not exist, so
//!   the API never confirms what a caller may not see.
//! - Anything else (the database failing, damaged stored data) is a 500 whose body says only that
//!   an internal error happened; the detail goes to the log with the request's span, never to
//!   the client.
//! - Validation happens before any write, and every write is one transaction, so an error never
//!   leaves anything half-written.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_domain::complaint::ActionError;
use redress_domain::fields::FieldError;
use redress_store::StoreError;
use serde_json::json;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Explanation.
    pub message: String,
    /// Offending field.
    pub field: Option<String>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    /// Names the offending field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 404 for anything that does not exist or may not be seen.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid API token is required (Authorization: Bearer TOKEN)")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 422 for a field that failed validation.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    /// 500; the detail is logged, not returned.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(f) = self.field {
            error["field"] = json!(f);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            StoreError::NotFound => ApiError::not_found("complaint"),
            StoreError::IdempotencyMismatch => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", e.to_string()).with_field("Idempotency-Key")
            }
            StoreError::Duplicate(m) => ApiError::new(StatusCode::CONFLICT, "duplicate", m),
            StoreError::Database(_) | StoreError::Corrupt(_) => ApiError::internal(e),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        let status = match e.code {
            "forbidden" => StatusCode::FORBIDDEN,
            "invalid_reason" | "invalid_label" | "missing_field" | "invalid_target" | "unknown_department" => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        ApiError { status, code: e.code, message: e.message, field: e.field }
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
