//! Which sites may change state here: the browser's own origin always, other origins only
//! when the operator lists them (`CORS_ALLOWED_ORIGINS`, empty by default because the web
//! UI reaches both APIs through nginx on one origin).
//!
//! A state-changing request (`POST`, `PUT`, `PATCH`, `DELETE`) from another site is refused
//! with `403`, whatever its content type: a foreign page's auto-submitted `text/plain` form or
//! `no-cors` fetch would otherwise like products (or, with a cookie, edit them) in the name
//! of the browser's user. Browsers say where a request comes from in `Sec-Fetch-Site` (all
//! current ones) and `Origin`; a request with neither is not a browser's (curl, a script, a
//! monitoring check) and passes. Reads stay open to all, as the contract says.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::settings::AllowedOrigins;

/// CORS for the listed origins (credentials allowed, so never `*`); `None` when none is
/// listed, and browsers then keep other sites from reading any answer.
pub fn cors(allowed: &AllowedOrigins) -> Option<CorsLayer> {
    if allowed.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = allowed
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::IF_MATCH,
                header::HeaderName::from_static("traceparent"),
                header::HeaderName::from_static("tracestate"),
            ])
            // A page's links, the catalogue's total and a product's version (edit
            // conflicts), for a UI served from another origin.
            .expose_headers([
                header::LINK,
                header::ETAG,
                header::HeaderName::from_static("x-total-count"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Whether a request may change state, by where the browser says it comes from.
pub fn same_site_or_allowed(
    method: &Method,
    headers: &HeaderMap,
    allowed: &AllowedOrigins,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = get("origin");
    let listed = origin.is_some_and(|o| allowed.allows(o));
    match get("sec-fetch-site") {
        // The browser's own page, or the user typing or bookmarking the address.
        Some("same-origin" | "none") => true,
        Some(_) => listed,
        None => match origin {
            // Not a browser: it could send anything anyway.
            None => true,
            Some(origin) => listed || origin == own_origin(headers).as_deref().unwrap_or(""),
        },
    }
}

/// The origin the request was sent to: `X-Forwarded-Proto` (nginx) or `http`, and `Host`.
fn own_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|s| matches!(*s, "http" | "https"))
        .unwrap_or("http");
    Some(format!("{scheme}://{host}"))
}

/// Middleware: refuses state changes from other sites with `403` and the JSON error shape.
pub async fn refuse_cross_site(
    State(allowed): State<AllowedOrigins>,
    req: Request,
    next: Next,
) -> Response {
    if same_site_or_allowed(req.method(), req.headers(), &allowed) {
        return next.run(req).await;
    }
    crate::problem::error(
        StatusCode::FORBIDDEN,
        "Cross-site request refused: this action is only accepted from the shop's own pages",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn writes_from_other_sites_are_refused_and_the_shops_own_pass() {
        let none = AllowedOrigins::default();
        let post = Method::POST;
        for ok in [
            headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "http://shop.example"),
            ]),
            headers(&[("sec-fetch-site", "none")]),
            headers(&[]),
            headers(&[
                ("origin", "http://shop.example:8080"),
                ("host", "shop.example:8080"),
            ]),
            headers(&[
                ("origin", "https://shop.example"),
                ("host", "shop.example"),
                ("x-forwarded-proto", "https"),
            ]),
        ] {
            assert!(same_site_or_allowed(&post, &ok, &none), "{ok:?}");
        }
        for bad in [
            headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ]),
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://blog.shop.example"),
            ]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("origin", "https://evil.example"), ("host", "shop.example")]),
            headers(&[("origin", "null"), ("host", "shop.example")]),
            headers(&[
                ("origin", "http://shop.example"),
                ("host", "shop.example"),
                ("x-forwarded-proto", "https"),
            ]),
        ] {
            assert!(!same_site_or_allowed(&post, &bad, &none), "{bad:?}");
            assert!(
                !same_site_or_allowed(&Method::DELETE, &bad, &none),
                "{bad:?}"
            );
            assert!(
                same_site_or_allowed(&Method::GET, &bad, &none),
                "reads stay open"
            );
        }
        let listed = AllowedOrigins::parse("X", "https://admin.example.com").unwrap();
        let h = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://admin.example.com"),
        ]);
        assert!(same_site_or_allowed(&post, &h, &listed));
    }

    #[test]
    fn allowed_origins_are_checked_and_normalised() {
        let o = AllowedOrigins::parse(
            "CORS_ALLOWED_ORIGINS",
            " https://a.example , http://b.example:8080/ ",
        )
        .unwrap();
        assert!(o.allows("https://a.example") && o.allows("http://b.example:8080"));
        assert!(AllowedOrigins::parse("V", "").unwrap().is_empty());
        for bad in [
            "*",
            "a.example",
            "ftp://a.example",
            "https://a.example/path",
            "https://a.example/?q",
        ] {
            let e = AllowedOrigins::parse("CORS_ALLOWED_ORIGINS", bad).unwrap_err();
            assert_eq!(e.name, "CORS_ALLOWED_ORIGINS", "{bad}");
        }
    }
}
