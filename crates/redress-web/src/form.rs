//! Posted forms: URL-encoded or multipart (with files), read whole into one value.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use redress_app::{AppError, ErrorKind};

use crate::error::PageError;

/// A file posted with a form.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The name the browser gave.
    pub filename: String,
    /// The bytes.
    pub content: Vec<u8>,
}

/// A posted form: its fields in order (a name may repeat) and its files.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    fields: Vec<(String, String)>,
    /// Files, in order (empty file inputs left out).
    pub files: Vec<Upload>,
}

impl FormData {
    /// A form of these fields.
    pub fn from_pairs(fields: Vec<(String, String)>) -> FormData {
        FormData { fields, files: Vec::new() }
    }

    /// The first value of a field, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The first value of a field, trimmed, or "".
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    /// The first value of a field as given (not trimmed), or "": for passwords.
    pub fn raw(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every non-blank value of a field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }

    /// Whether the form has a field of this name (even blank).
    pub fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The CSRF token the form carries.
    pub fn csrf(&self) -> Option<&str> {
        self.get("csrf")
    }
}

fn malformed(what: impl std::fmt::Display) -> PageError {
    PageError(AppError::new(ErrorKind::Malformed, "malformed_form", format!("the form could not be read: {what}")))
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state).await.map_err(malformed)?;
            let mut form = FormData::default();
            while let Some(field) = multipart.next_field().await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    PageError(AppError::new(ErrorKind::TooLarge, "too_large", "the files are too large"))
                } else {
                    malformed(e)
                }
            })? {
                let name = field.name().unwrap_or("").to_string();
                match field.file_name().map(str::to_string) {
                    Some(filename) => {
                        let content = field.bytes().await.map_err(malformed)?.to_vec();
                        if !filename.is_empty() || !content.is_empty() {
                            form.files.push(Upload { filename, content });
                        }
                    }
                    None => {
                        let value = field.text().await.map_err(malformed)?;
                        form.fields.push((name, value));
                    }
                }
            }
            Ok(form)
        } else {
            let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    PageError(AppError::new(ErrorKind::TooLarge, "too_large", "the form is too large"))
                } else {
                    malformed(e)
                }
            })?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(malformed)?;
            Ok(FormData::from_pairs(fields))
        }
    }
}

/// Validation messages by field name, shown beside the fields.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// The errors of a failed use case: its field's message, or a form-wide one under `""`.
    pub fn from_app(e: &AppError) -> FieldErrors {
        FieldErrors(vec![(e.field.clone().unwrap_or_default(), e.message.clone())])
    }

    /// Whether a field has an error.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(f, _)| f == name)
    }

    /// A field's message.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == name).map(|(_, m)| m.as_str())
    }

    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, for the summary above a form.
    pub fn messages(&self) -> Vec<&str> {
        self.0.iter().map(|(_, m)| m.as_str()).collect()
    }
}
