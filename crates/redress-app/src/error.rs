//! The use cases' one error type.
//!
//! Error-handling policy:
//! - Every failure a caller can cause (a wrong or missing field, malformed input, an unknown
//!   id, an action the lifecycle or a rule refuses, a stale version, a permission missing) is an
//!   [`AppError`] of a client [`ErrorKind`] with a stable machine-readable `code`, a `message`
//!   for a person and, when there is one, the offending `field` (a path such as
//!   `complainant.phone`). Edges map the kind to their own terms (an HTTP status, an exit code)
//!   and never look inside the message.
//! - A complaint the caller may not see is `NotFound`, exactly like one that does not exist, so
//!   no path confirms what a caller may not see. A replay of a request whose complaint the
//!   caller may not see is a `Conflict` without the complaint's contents.
//! - Anything else (the database failing, damaged stored data) is `Internal`; the cause is kept
//!   as the error's `source()` for the log, and its message says only that an internal error
//!   happened.
//! - Validation and permission checks happen before any write, and every write is one
//!   transaction, so an error never leaves anything half-written.

use redress_domain::complaint::ActionError;
use redress_domain::fields::FieldError;
use redress_store::{BoxError, StoreError};

/// What kind of failure an [`AppError`] is; edges map this, not the code, to their own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input that is not well-formed (e.g. not JSON at all).
    Malformed,
    /// A field failed validation, or a value is unknown.
    Invalid,
    /// Input larger than allowed.
    TooLarge,
    /// No valid credentials.
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// It does not exist, or the caller may not see it.
    NotFound,
    /// The state of things refuses it (lifecycle, a stale version, a replay, a duplicate).
    Conflict,
    /// Too many attempts; try again later.
    RateLimited,
    /// The system failed; nothing the caller can fix.
    Internal,
}

/// A failed use case.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Explanation for a person.
    pub message: String,
    /// The offending field, when there is one.
    pub field: Option<String>,
    /// The underlying error of an internal failure.
    #[source]
    pub source: Option<BoxError>,
}

/// Result alias of the use cases.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A new error without a field.
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self { kind, code, message: message.into(), field: None, source: None }
    }

    /// Names the offending field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Something that does not exist or may not be seen.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", format!("{what} not found"))
    }

    /// Missing or invalid credentials.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, "unauthenticated", "a valid API token is required (Authorization: Bearer TOKEN)")
    }

    /// The caller lacks a permission.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", message)
    }

    /// A field failed validation.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "invalid_field", message).with_field(field)
    }

    /// The state of things refuses the request.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// An internal failure; `cause` is kept for the log.
    pub fn internal(cause: impl Into<BoxError>) -> Self {
        Self { kind: ErrorKind::Internal, code: "internal", message: "an internal error occurred; it has been logged".into(), field: None, source: Some(cause.into()) }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::invalid(e.field, e.message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => AppError::conflict("conflict", e.to_string()),
            StoreError::NotFound => AppError::not_found("complaint"),
            StoreError::IdempotencyMismatch => AppError::new(ErrorKind::Invalid, "idempotency_key_reused", e.to_string()).with_field("Idempotency-Key"),
            StoreError::Duplicate(m) => AppError::conflict("duplicate", m),
            StoreError::Database(_) | StoreError::Corrupt { .. } => AppError::internal(e),
        }
    }
}

impl From<ActionError> for AppError {
    fn from(e: ActionError) -> Self {
        let kind = match e.code {
            "forbidden" => ErrorKind::Forbidden,
            "invalid_reason" | "invalid_label" | "missing_field" | "invalid_target" | "unknown_department" | "invalid_field" => ErrorKind::Invalid,
            _ => ErrorKind::Conflict,
        };
        AppError { kind, code: e.code, message: e.message, field: e.field, source: None }
    }
}
