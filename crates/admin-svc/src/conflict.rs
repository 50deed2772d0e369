//! Edit conflicts (docs/contract.md, "Edit conflicts"): a product's `ETag` is its version,
//! `"N"`; a write that carries `If-Match` changes nothing unless one of its tags is the
//! version of the row it locked (RFC 9110, 13.1.1: `*` matches any existing product, weak
//! tags never match).

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::Product;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::ProductRow;
use crate::error::ApiError;

/// The message of a malformed `If-Match`.
pub const MALFORMED: &str =
    "If-Match must be * or a list of quoted tags, like \"3\" (a product's ETag)";

/// An `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any existing product.
    Any,
    /// The strong tags' values (weak ones are dropped: they never match).
    Tags(Vec<String>),
}

impl IfMatch {
    /// The request's `If-Match` (its lines joined, as lists are): `None` without one;
    /// [`MALFORMED`] as a 400 when it is neither `*` nor a list of quoted tags.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
        let mut values = headers.get_all(header::IF_MATCH).iter().peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut joined = Vec::new();
        for value in values {
            let text = value
                .to_str()
                .map_err(|_| ApiError::BadParameter(MALFORMED.to_owned()))?;
            joined.push(text);
        }
        IfMatch::parse(&joined.join(","))
            .map(Some)
            .ok_or_else(|| ApiError::BadParameter(MALFORMED.to_owned()))
    }

    /// `*` or a comma-separated list of `"tag"` / `W/"tag"` (at least one; empty elements
    /// are not allowed), with optional spaces and tabs around each. A tag may hold any
    /// visible ASCII character but `"`, commas included.
    pub fn parse(raw: &str) -> Option<IfMatch> {
        let ows = |s: &str| s.trim_start_matches([' ', '\t']).to_owned();
        if raw.trim_matches([' ', '\t']) == "*" {
            return Some(IfMatch::Any);
        }
        let mut rest = ows(raw);
        let mut strong = Vec::new();
        loop {
            let weak = rest.starts_with("W/");
            if weak {
                rest.drain(..2);
            }
            let inner = rest.strip_prefix('"')?;
            let close = inner.find('"')?;
            let tag = &inner[..close];
            if !tag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
                return None;
            }
            if !weak {
                strong.push(tag.to_owned());
            }
            rest = ows(&inner[close + 1..]);
            if rest.is_empty() {
                return Some(IfMatch::Tags(strong));
            }
            rest = ows(rest.strip_prefix(',')?);
        }
    }

    /// Whether a product at `version` matches.
    pub fn matches(&self, version: u64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| *t == version.to_string()),
        }
    }
}

/// `"N"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// `412 {"error": …, "product": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictBody {
    /// `The product changed since you read it`
    pub error: String,
    /// The product as it is now.
    pub product: Product,
}

/// The answer to a write whose `If-Match` did not match `current`: nothing changed.
pub fn precondition_failed(current: ProductRow) -> Response {
    let body = ConflictBody {
        error: "The product changed since you read it".to_owned(),
        product: current.product,
    };
    (
        StatusCode::PRECONDITION_FAILED,
        [(header::ETAG, etag(current.version))],
        Json(body),
    )
        .into_response()
}

/// The 412 answer when `if_match` is given and does not match `current`.
pub fn refusal(if_match: Option<&IfMatch>, current: &ProductRow) -> Option<Response> {
    match if_match {
        Some(m) if !m.matches(current.version) => Some(precondition_failed(current.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_is_a_star_or_a_list_of_quoted_tags() {
        assert_eq!(IfMatch::parse("*"), Some(IfMatch::Any));
        assert_eq!(
            IfMatch::parse(r#" "3" ,W/"4",	"x" "#),
            Some(IfMatch::Tags(vec!["3".into(), "x".into()]))
        );
        assert_eq!(
            IfMatch::parse(r#""""#),
            Some(IfMatch::Tags(vec![String::new()]))
        );
        // A tag may hold a comma.
        assert_eq!(
            IfMatch::parse(r#"W/"a,b", "c,d" ,"7""#),
            Some(IfMatch::Tags(vec!["c,d".into(), "7".into()]))
        );
        for bad in [
            "",
            "3",
            r#""3"#,
            r#"3""#,
            r#""3",,"4""#,
            r#""a b""#,
            "*, \"3\"",
            "w/\"3\"",
            "\"",
            r#""1","#,
            r#""1"x"#,
            r#" , "1""#,
            "*,*",
        ] {
            assert_eq!(IfMatch::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_a_strong_tag_of_the_version_or_a_star_matches() {
        assert!(IfMatch::parse(r#""1", "4""#).unwrap().matches(4));
        assert!(!IfMatch::parse(r#"W/"4""#).unwrap().matches(4));
        assert!(!IfMatch::parse(r#""04""#).unwrap().matches(4));
        assert!(IfMatch::Any.matches(9));
    }
}
