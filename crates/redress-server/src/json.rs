//! JSON bodies parsed with the path of the field at fault, so an error can name it.

use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parses a JSON body; malformed JSON is a 400, a wrong or missing field a 422 naming it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => {
                    Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("the body is not valid JSON: {inner}")))
                }
                Category::Data => {
                    let message = strip_position(&inner.to_string());
                    let field = match (missing_field(&message), path.as_str()) {
                        (Some(name), ".") => Some(name),
                        (Some(name), parent) => Some(format!("{parent}.{name}")),
                        (None, ".") => None,
                        (None, _) => Some(path),
                    };
                    let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message);
                    err.field = field;
                    Err(err)
                }
            }
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}
