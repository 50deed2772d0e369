//! The anonymous shopper: a random id in an HttpOnly cookie that main-svc issues on the
//! first like and reads on every later one.

use axum::http::{HeaderMap, HeaderValue, header};

pub const COOKIE: &str = "shopper_id";
/// A year, renewed on every like.
const MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// Who is liking: an id the browser sent back, or a new one to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shopper {
    pub id: String,
    pub is_new: bool,
}

/// The shopper id from the `Cookie` headers, when it is a well-formed UUID; otherwise a new
/// one (a forged or corrupted cookie simply becomes a new shopper).
pub fn identify(headers: &HeaderMap) -> Shopper {
    let existing = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| uuid::Uuid::parse_str(value.trim_matches('"')).ok());
    match existing {
        Some(id) => Shopper {
            id: id.hyphenated().to_string(),
            is_new: false,
        },
        None => Shopper {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            is_new: true,
        },
    }
}

/// The `Set-Cookie` value for `shopper`. `Secure` when the shop is served over HTTPS
/// (`COOKIE_SECURE`); `SameSite=Lax` keeps other sites from liking on a shopper's behalf.
pub fn set_cookie(shopper: &Shopper, secure: bool) -> HeaderValue {
    let mut value = format!(
        "{COOKIE}={}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax",
        shopper.id
    );
    if secure {
        value.push_str("; Secure");
    }
    // A UUID and fixed text: always a valid header value.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn reads_a_valid_cookie_among_others() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let s = identify(&headers(&format!("theme=dark; {COOKIE}={id}; x=y")));
        assert_eq!(
            s,
            Shopper {
                id: id.to_owned(),
                is_new: false
            }
        );
    }

    #[test]
    fn a_missing_or_forged_cookie_makes_a_new_shopper() {
        for cookie in [
            "",
            "other=1",
            "shopper_id=",
            "shopper_id=1 OR 1=1",
            "shopper_id=../../etc",
        ] {
            let s = identify(&headers(cookie));
            assert!(s.is_new, "{cookie}");
            assert!(uuid::Uuid::parse_str(&s.id).is_ok());
        }
        assert_ne!(
            identify(&HeaderMap::new()).id,
            identify(&HeaderMap::new()).id
        );
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site() {
        let s = Shopper {
            id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            is_new: true,
        };
        let v = set_cookie(&s, false);
        let v = v.to_str().unwrap();
        assert!(v.starts_with("shopper_id=0f8fad5b-d9cb-469f-a165-70867728950e;"));
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Lax") && v.contains("Path=/"));
        assert!(!v.contains("Secure"));
        assert!(set_cookie(&s, true).to_str().unwrap().ends_with("; Secure"));
    }
}
