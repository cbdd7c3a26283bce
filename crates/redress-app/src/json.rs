//! JSON input parsed with the path of the field at fault, so an error can name it.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, AppResult, ErrorKind};

/// Fields whose value is a list; everywhere else a JSON array stands where an object or a
/// scalar belongs and is refused (serde would otherwise read an array as a struct's fields in
/// order, silently accepting `[…]` for `{…}`).
const LIST_FIELDS: &[&str] = &["staff", "remedies"];

/// Parses a JSON object into `T`: malformed JSON (trailing bytes included) is `Malformed`; an
/// array where an object belongs, or a wrong, missing or unknown field, is `Invalid` naming the
/// field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        AppError::new(ErrorKind::Malformed, "malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    if !value.is_object() {
        return Err(AppError::invalid("(body)", "the body must be a JSON object"));
    }
    refuse_misplaced_arrays(&value, "")?;
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let message = strip_position(&e.inner().to_string());
            let field = match (missing_field(&message), path.as_str()) {
                (Some(name), ".") => Some(name),
                (Some(name), parent) => Some(format!("{parent}.{name}")),
                (None, ".") => None,
                (None, _) => Some(path),
            };
            let mut err = AppError::new(ErrorKind::Invalid, "invalid_field", message);
            err.field = field;
            Err(err)
        }
    }
}

fn refuse_misplaced_arrays(value: &Value, path: &str) -> AppResult<()> {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match v {
                    Value::Array(items) if LIST_FIELDS.contains(&key.as_str()) => {
                        for (i, item) in items.iter().enumerate() {
                            if item.is_array() {
                                return Err(AppError::invalid(format!("{child}[{i}]"), "a list inside a list is not accepted"));
                            }
                            refuse_misplaced_arrays(item, &format!("{child}[{i}]"))?;
                        }
                    }
                    Value::Array(_) => return Err(AppError::invalid(child, "a list is not accepted here")),
                    other => refuse_misplaced_arrays(other, &child)?,
                }
            }
            Ok(())
        }
        _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[expect(dead_code, reason = "read only by the parser under test")]
        a: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        #[expect(dead_code, reason = "read only by the parser under test")]
        inner: Inner,
        #[serde(default)]
        #[expect(dead_code, reason = "read only by the parser under test")]
        staff: Vec<String>,
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let e = parse_json::<Outer>(br#"{"inner":{"a":"x"}} xyz"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Malformed);
    }

    #[test]
    fn arrays_stand_only_where_lists_belong() {
        assert!(parse_json::<Outer>(br#"{"inner":{"a":"x"},"staff":["p"]}"#).is_ok());
        let e = parse_json::<Outer>(br#"{"inner":["x"]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner"));
        let e = parse_json::<Outer>(br#"[{"a":"x"}]"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let e = parse_json::<Outer>(br#"{"inner":{}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.a"));
    }
}
