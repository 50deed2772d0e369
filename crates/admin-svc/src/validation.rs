//! Product input rules (docs/contract.md, "Rules the API enforces"), with Django REST
//! Framework's messages.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldErrors};

pub const TITLE_MAX: usize = 200;
pub const IMAGE_MAX: usize = 200;

/// A product as a client sends it. `likes` and unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Mug", "image": "https://example.com/mug.png"}))]
pub struct ProductInput {
    /// 1 to 200 characters after trimming.
    #[schema(schema_with = crate::openapi::title)]
    pub title: String,
    /// An `http://` or `https://` URL, or a path starting with `/`; at most 200 characters.
    #[schema(schema_with = crate::openapi::image)]
    pub image: String,
}

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const NOT_STRING: &str = "Not a valid string.";
const BLANK: &str = "This field may not be blank.";
/// Django's own message for a NUL in a string field.
const NUL: &str = "Null characters are not allowed.";
const CONTROL: &str = "Control characters and bidirectional overrides are not allowed.";
const USERINFO: &str = "URLs with a user name or password are not allowed.";

/// Characters refused in text fields: control characters (tabs and newlines too: titles and
/// images are single lines) and the bidirectional embeddings, overrides and isolates that
/// make text display in another order than it is stored.
pub(crate) fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: a title of only these (and spaces) is blank.
fn invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

fn too_long(max: usize) -> String {
    format!("Ensure this field has no more than {max} characters.")
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A required string field, trimmed, non-blank, at most `max` characters.
pub(crate) fn text(
    body: &serde_json::Map<String, Value>,
    field: &'static str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let message = match body.get(field) {
        None => REQUIRED.to_owned(),
        Some(Value::Null) => NULL.to_owned(),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.contains('\0') {
                NUL.to_owned()
            } else if s.chars().any(forbidden) {
                CONTROL.to_owned()
            } else if s.chars().all(invisible) {
                BLANK.to_owned()
            } else if s.chars().count() > max {
                too_long(max)
            } else {
                return Some(s.to_owned());
            }
        }
        Some(_) => NOT_STRING.to_owned(),
    };
    errors.entry(field).or_default().push(message);
    None
}

/// `http(s)://host/…`, or a same-site path `/…`. Anything else (`javascript:`, `data:`,
/// `//other-host`, relative paths) could run script or load from elsewhere in the admin UI.
pub fn is_valid_image(image: &str) -> bool {
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if image.starts_with('/') {
        return !image.starts_with("//") && !image.starts_with("/\\");
    }
    match url::Url::parse(image) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

/// A URL that carries a user name or password (`https://user:pass@host/…`): a credential
/// that would be shown to every shopper.
fn has_userinfo(image: &str) -> bool {
    url::Url::parse(image).is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
}

/// Validates a create or update body: a JSON object with `title` and `image`.
pub fn product_input(body: &Value) -> Result<ProductInput, ApiError> {
    let mut errors = FieldErrors::new();
    let Value::Object(map) = body else {
        errors.insert(
            "non_field_errors",
            vec![format!(
                "Invalid data. Expected a dictionary, but got {}.",
                type_name(body)
            )],
        );
        return Err(ApiError::Validation(errors));
    };
    let title = text(map, "title", TITLE_MAX, &mut errors);
    let image = image(map, &mut errors);
    match (title, image) {
        (Some(title), Some(image)) if errors.is_empty() => Ok(ProductInput { title, image }),
        _ => Err(ApiError::Validation(errors)),
    }
}

/// `image`, checked as a text field and as a URL or path.
fn image(map: &serde_json::Map<String, Value>, errors: &mut FieldErrors) -> Option<String> {
    text(map, "image", IMAGE_MAX, errors).filter(|image| {
        let message = if !is_valid_image(image) {
            "Enter a valid URL (http:// or https://) or a path starting with /."
        } else if has_userinfo(image) {
            USERINFO
        } else {
            return true;
        };
        errors.entry("image").or_default().push(message.to_owned());
        false
    })
}

/// The message of a `PATCH` body with neither field.
pub const PATCH_EMPTY: &str = "Send title, image or both.";

/// Validates a `PATCH` body: a JSON object with `title`, `image` or both, each under the
/// rules of [`product_input`]; the fields it leaves out keep `current`'s values.
pub fn product_patch(body: &Value, current: &events::Product) -> Result<ProductInput, ApiError> {
    let Value::Object(map) = body else {
        return product_input(body);
    };
    let mut errors = FieldErrors::new();
    if !map.contains_key("title") && !map.contains_key("image") {
        errors.insert("non_field_errors", vec![PATCH_EMPTY.to_owned()]);
        return Err(ApiError::Validation(errors));
    }
    let title = match map.contains_key("title") {
        true => text(map, "title", TITLE_MAX, &mut errors),
        false => Some(current.title.clone()),
    };
    let image = match map.contains_key("image") {
        true => image(map, &mut errors),
        false => Some(current.image.clone()),
    };
    match (title, image) {
        (Some(title), Some(image)) if errors.is_empty() => Ok(ProductInput { title, image }),
        _ => Err(ApiError::Validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(body: Value) -> FieldErrors {
        match product_input(&body) {
            Err(ApiError::Validation(e)) => e,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_urls_and_paths_and_trims() {
        for image in [
            "https://example.com/mug.png",
            "http://cdn.example.com:8080/a?b=c",
            "/img/mug.png",
        ] {
            let ok =
                product_input(&json!({"title": "  Mug ", "image": image, "likes": 99, "extra": 1}))
                    .unwrap();
            assert_eq!(ok.title, "Mug");
            assert_eq!(ok.image, image);
        }
    }

    #[test]
    fn rejects_dangerous_or_odd_images() {
        for image in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://example.com/a.png",
            "//evil.example/a.png",
            "mug.png",
            "https://",
            "https://exa mple.com/a.png",
            "/a\nb",
            "file:///etc/passwd",
        ] {
            let e = errors(json!({"title": "Mug", "image": image}));
            assert_eq!(e.keys().collect::<Vec<_>>(), vec![&"image"], "{image}");
        }
    }

    #[test]
    fn messages_follow_django_rest_framework() {
        assert_eq!(
            errors(json!({})),
            FieldErrors::from([
                ("image", vec![REQUIRED.to_owned()]),
                ("title", vec![REQUIRED.to_owned()]),
            ])
        );
        assert_eq!(
            errors(json!({"title": "   ", "image": "/a"}))["title"],
            vec![BLANK]
        );
        assert_eq!(
            errors(json!({"title": null, "image": "/a"}))["title"],
            vec![NULL]
        );
        assert_eq!(
            errors(json!({"title": 5, "image": "/a"}))["title"],
            vec![NOT_STRING]
        );
        assert_eq!(
            errors(json!({"title": ["a"], "image": {}}))["image"],
            vec![NOT_STRING]
        );
        assert_eq!(
            errors(json!([1]))["non_field_errors"],
            vec!["Invalid data. Expected a dictionary, but got list."]
        );
    }

    #[test]
    fn hostile_text_is_refused_with_a_field_error() {
        let title = |t: &str| errors(json!({"title": t, "image": "/a"}))["title"].clone();
        assert_eq!(title("a\u{0000}b"), vec![NUL]);
        for bad in [
            "a\u{0007}b",
            "a\tb",
            "a\nb",
            "a\u{007F}b",
            "a\u{009B}b",
            "\u{202E}gpj.exe",
            "a\u{2066}b",
        ] {
            assert_eq!(title(bad), vec![CONTROL], "{bad:?}");
        }
        for blank in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{FEFF}",
            " \u{2060} ",
        ] {
            assert_eq!(title(blank), vec![BLANK], "{blank:?}");
        }
        // Visible text with a joiner inside (emoji sequences) is fine.
        assert!(product_input(&json!({"title": "👩\u{200D}💻 Mug", "image": "/a"})).is_ok());
        assert_eq!(
            errors(json!({"title": "t", "image": "/a\u{0000}"}))["image"],
            vec![NUL]
        );
        for image in [
            "https://user:pass@example.com/x.png",
            "https://user@example.com/x.png",
            "http://:pw@example.com/x.png",
        ] {
            assert_eq!(
                errors(json!({"title": "t", "image": image}))["image"],
                vec![USERINFO],
                "{image}"
            );
        }
    }

    #[test]
    fn length_limits_count_characters_not_bytes() {
        let ok = "é".repeat(200);
        assert!(product_input(&json!({"title": ok, "image": "/a"})).is_ok());
        let long = "a".repeat(201);
        assert_eq!(
            errors(json!({"title": long, "image": "/a"}))["title"],
            vec![too_long(200)]
        );
        let long_image = format!("/{}", "a".repeat(200));
        assert_eq!(
            errors(json!({"title": "t", "image": long_image}))["image"],
            vec![too_long(200)]
        );
    }
}
