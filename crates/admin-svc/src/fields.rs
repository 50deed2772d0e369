//! The fields of the account, token, link and password bodies, read with Django REST
//! Framework's messages (as [`crate::validation`] reads a product's), and timestamps as the
//! API writes them.

use serde_json::{Map, Value};

use crate::auth::{Role, password};
use crate::error::{ApiError, FieldErrors};
use crate::validation;

pub const REQUIRED: &str = "This field is required.";
pub const NULL: &str = "This field may not be null.";
pub const NOT_STRING: &str = "Not a valid string.";
pub const BLANK: &str = "This field may not be blank.";

/// The body as an object, or DRF's `non_field_errors`.
pub fn object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    match body {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::Validation(FieldErrors::from([(
            "non_field_errors",
            vec![format!(
                "Invalid data. Expected a dictionary, but got {}.",
                validation::type_name(other)
            )],
        )]))),
    }
}

fn error(errors: &mut FieldErrors, field: &'static str, message: impl Into<String>) {
    errors.entry(field).or_default().push(message.into());
}

/// A one-line name: trimmed, 1 to `max` characters, no control characters (a product
/// title's rule).
pub fn name(
    map: &Map<String, Value>,
    field: &'static str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    validation::text(map, field, max, errors)
}

/// A required string taken as it is (a password, a link's token): not blank.
pub fn secret(
    map: &Map<String, Value>,
    field: &'static str,
    errors: &mut FieldErrors,
) -> Option<String> {
    match map.get(field) {
        Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
        Some(Value::String(_)) => error(errors, field, BLANK),
        None => error(errors, field, REQUIRED),
        Some(Value::Null) => error(errors, field, NULL),
        Some(_) => error(errors, field, NOT_STRING),
    }
    None
}

/// A new password: [`password::MIN_CHARS`] to [`password::MAX_CHARS`] characters.
pub fn new_password(
    map: &Map<String, Value>,
    field: &'static str,
    errors: &mut FieldErrors,
) -> Option<String> {
    let p = secret(map, field, errors)?;
    let n = p.chars().count();
    if n < password::MIN_CHARS {
        error(
            errors,
            field,
            format!(
                "Ensure this field has at least {} characters.",
                password::MIN_CHARS
            ),
        );
    } else if n > password::MAX_CHARS {
        error(
            errors,
            field,
            format!(
                "Ensure this field has no more than {} characters.",
                password::MAX_CHARS
            ),
        );
    } else {
        return Some(p);
    }
    None
}

/// The longest part before the `@` of an email, the longest label after it, and the most
/// labels (so an address is at most 228 characters, under the column's 254).
pub const EMAIL_LOCAL_MAX: usize = 64;
pub const EMAIL_LABEL_MAX: usize = 40;
pub const EMAIL_LABELS_MAX: usize = 4;

/// Whether `email` (trimmed) is an address as `openapi::EMAIL_PATTERN` describes it: a
/// local part of 1 to 64 characters, `@`, then 2 to 4 dot-separated labels of 1 to 40
/// characters; no white space, control character or second `@`.
pub fn is_email(email: &str) -> bool {
    let solid = |c: char| !c.is_whitespace() && !validation::forbidden(c) && c != '@';
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    (1..=EMAIL_LOCAL_MAX).contains(&local.chars().count())
        && local.chars().all(solid)
        && (2..=EMAIL_LABELS_MAX).contains(&labels.len())
        && labels
            .iter()
            .all(|l| (1..=EMAIL_LABEL_MAX).contains(&l.chars().count()) && l.chars().all(solid))
}

/// An email address, trimmed and lower-cased.
pub fn email(map: &Map<String, Value>, errors: &mut FieldErrors) -> Option<String> {
    let raw = match map.get("email") {
        Some(Value::String(s)) => s.trim(),
        None => {
            error(errors, "email", REQUIRED);
            return None;
        }
        Some(Value::Null) => {
            error(errors, "email", NULL);
            return None;
        }
        Some(_) => {
            error(errors, "email", NOT_STRING);
            return None;
        }
    };
    if raw.is_empty() {
        error(errors, "email", BLANK);
    } else if !is_email(raw) {
        error(errors, "email", "Enter a valid email address.");
    } else {
        return Some(raw.to_lowercase());
    }
    None
}

/// A role: `"admin"` or `"viewer"`; `None` when absent and not `required`.
pub fn role(map: &Map<String, Value>, required: bool, errors: &mut FieldErrors) -> Option<Role> {
    match map.get("role") {
        None if !required => {}
        Some(Value::String(s)) if Role::parse(s).is_some() => return Role::parse(s),
        None => error(errors, "role", REQUIRED),
        Some(Value::Null) => error(errors, "role", NULL),
        Some(other) => error(
            errors,
            "role",
            format!(
                "\"{}\" is not a valid choice.",
                other.as_str().unwrap_or(&other.to_string())
            ),
        ),
    }
    None
}

/// An optional boolean; `Err(())` when present and not one (the error noted).
pub fn boolean(
    map: &Map<String, Value>,
    field: &'static str,
    errors: &mut FieldErrors,
) -> Option<bool> {
    match map.get(field) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Null) => {
            error(errors, field, NULL);
            None
        }
        Some(_) => {
            error(errors, field, "Must be a valid boolean.");
            None
        }
    }
}

/// Microseconds since 1970 (UTC) as RFC 3339 with microseconds: `2026-12-07T13:01:25.123456Z`.
pub fn rfc3339(micros: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

/// A column as microseconds since 1970, for [`rfc3339`] (`NULL` stays `NULL`).
#[macro_export]
macro_rules! micros {
    ($column:literal) => {
        concat!("CAST(UNIX_TIMESTAMP(", $column, ") * 1000000 AS SIGNED)")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc_with_microseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_796_648_485_123_456),
            "2026-12-07T13:01:25.123456Z"
        );
    }

    #[test]
    fn emails_have_one_at_and_a_dotted_domain() {
        for ok in ["ada@example.com", "a.b+c@x.y.z", "é@ü.de"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a@b@c.d",
            "a b@c.d",
            "a@b..c",
            "a@.b",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
