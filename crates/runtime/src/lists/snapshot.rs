//! A list as built at one moment: its JSON, the gzip and brotli encodings made on first
//! use, its `ETag`, and the answers made from it (the whole list, negotiated and
//! revalidated, or a page with its `Link`).

use std::io::Write;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::Product;
use sha2::{Digest, Sha256};

use super::page::Page;

/// A list as built at one moment: its products, and the bytes of each encoding (the
/// compressed ones made on first use).
#[derive(Debug)]
pub struct Snapshot {
    /// The feed's `(catalogue, counts)` generations and this process's own counts
    /// generation, read before the database was.
    pub(super) generations: (u64, u64, u64),
    pub(super) built: Instant,
    /// It took long to build: this process's own count changes wait like the others'.
    pub(super) expensive: bool,
    products: Vec<Product>,
    pub(super) identity: Bytes,
    gzip: tokio::sync::OnceCell<Bytes>,
    brotli: tokio::sync::OnceCell<Bytes>,
    /// A digest of the identity bytes; the `ETag` of each encoding is derived from it.
    tag: String,
}

/// The encodings a snapshot holds, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding `accept` (an `Accept-Encoding` value) allows: brotli, then gzip,
    /// else none. A coding with `q=0` is refused; `*` stands for any coding not named.
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let Some(accept) = accept else {
            return Encoding::Identity;
        };
        let (mut br, mut gzip, mut any) = (None, None, None);
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let acceptable = q > 0.0;
            if coding.eq_ignore_ascii_case("br") {
                br = Some(acceptable);
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(acceptable);
            } else if coding == "*" {
                any = Some(acceptable);
            }
        }
        if br.or(any) == Some(true) {
            Encoding::Brotli
        } else if gzip.or(any) == Some(true) {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn name(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// How long a list's like counts may lag, and clients revalidate with their `ETag`.
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("no-cache");
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Snapshot {
    pub(super) fn build(generations: (u64, u64, u64), products: Vec<Product>) -> Snapshot {
        // Serialising a list of plain structs into a Vec cannot fail.
        let identity = serde_json::to_vec(&products).unwrap_or_default();
        let digest = Sha256::digest(&identity);
        let tag = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Snapshot {
            generations,
            built: Instant::now(),
            expensive: false,
            products,
            identity: identity.into(),
            gzip: tokio::sync::OnceCell::new(),
            brotli: tokio::sync::OnceCell::new(),
            tag,
        }
    }

    /// The body in `encoding`, compressed on first use (off the async threads when large).
    async fn body(&self, encoding: Encoding) -> Bytes {
        let cell = match encoding {
            Encoding::Identity => return self.identity.clone(),
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.brotli,
        };
        cell.get_or_init(|| async {
            let identity = self.identity.clone();
            if identity.len() > 64 * 1024 {
                tokio::task::spawn_blocking(move || compress(encoding, &identity))
                    .await
                    .unwrap_or_default()
            } else {
                compress(encoding, &identity)
            }
        })
        .await
        .clone()
    }

    /// The products, in id order.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    fn etag(&self, encoding: Encoding) -> HeaderValue {
        let value = match encoding.name() {
            Some(coding) => format!("\"{}-{coding}\"", self.tag),
            None => format!("\"{}\"", self.tag),
        };
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("\"\""))
    }

    /// Whether `If-None-Match` names this list in any encoding (or is `*`).
    fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').any(|candidate| {
            let candidate = candidate.trim();
            let candidate = candidate.strip_prefix("W/").unwrap_or(candidate);
            if candidate == "*" {
                return true;
            }
            let Some(inner) = candidate
                .strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
            else {
                return false;
            };
            let base = inner
                .strip_suffix("-br")
                .or_else(|| inner.strip_suffix("-gzip"))
                .unwrap_or(inner);
            base == self.tag
        })
    }

    pub(super) async fn whole(&self, headers: &HeaderMap) -> Response {
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok());
        let encoding = Encoding::negotiate(accept);
        let not_modified = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| self.matches(v));
        let mut response = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Response::new(Body::from(self.body(encoding).await));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, JSON);
            if let Some(coding) = encoding.name() {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            }
            response
        };
        let h = response.headers_mut();
        h.insert(header::ETAG, self.etag(encoding));
        h.insert(header::VARY, VARY);
        h.insert(header::CACHE_CONTROL, CACHE_CONTROL);
        response
    }

    pub(super) fn page(&self, path: &str, page: Page) -> Response {
        let start = self.products.partition_point(|p| p.id <= page.after);
        let end = (start + page.limit).min(self.products.len());
        let items = &self.products[start..end];
        let next = (end < self.products.len())
            .then(|| items.last())
            .flatten()
            .map(|last| page.next_link(path, None, last.id));
        page_answer(items.iter(), next)
    }

    /// The products of `ids` (ascending; the page of a search) this snapshot holds. `more`
    /// when the search has more after the last of `ids`.
    pub(super) fn found(
        &self,
        path: &str,
        page: Page,
        search: &str,
        ids: &[u64],
        more: bool,
    ) -> Response {
        let items = ids.iter().filter_map(|id| {
            self.products
                .binary_search_by_key(id, |p| p.id)
                .ok()
                .map(|i| &self.products[i])
        });
        let next = more
            .then(|| ids.last())
            .flatten()
            .map(|last| page.next_link(path, Some(search), *last));
        page_answer(items, next)
    }
}

/// A page's answer: `items` as JSON, with a `Link` to the `next` page when there is one.
pub fn page_answer<'a>(items: impl Iterator<Item = &'a Product>, next: Option<String>) -> Response {
    let items: Vec<&Product> = items.collect();
    let body = serde_json::to_vec(&items).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, JSON);
    h.insert(header::CACHE_CONTROL, CACHE_CONTROL);
    if let Some(link) = next.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LINK, link);
    }
    response
}

/// `identity` compressed: the usual levels for a list of hundreds of products, the fast ones
/// for a large list (tens of thousands), which is compressed again after each change.
fn compress(encoding: Encoding, identity: &[u8]) -> Bytes {
    let large = identity.len() > 1 << 20;
    let mut out = Vec::new();
    match encoding {
        Encoding::Identity => out.extend_from_slice(identity),
        Encoding::Gzip => {
            let level = if large { 1 } else { 6 };
            let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::new(level));
            let _ = e.write_all(identity);
            out = e.finish().unwrap_or_default();
        }
        Encoding::Brotli => {
            let quality = if large { 1 } else { 5 };
            let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, quality, 22);
            let _ = w.write_all(identity);
            drop(w);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64) -> Product {
        Product {
            id,
            title: format!("Product {id}"),
            image: format!("/img/{id}.png"),
            likes: id * 2,
        }
    }

    #[test]
    fn negotiates_the_best_acceptable_encoding() {
        use Encoding::*;
        for (accept, expected) in [
            (None, Identity),
            (Some(""), Identity),
            (Some("gzip, deflate, br"), Brotli),
            (Some("gzip"), Gzip),
            (Some("x-gzip"), Gzip),
            (Some("br;q=0, gzip"), Gzip),
            (Some("BR;q=0.5"), Brotli),
            (Some("gzip;q=0"), Identity),
            (Some("identity"), Identity),
            (Some("*"), Brotli),
            (Some("*;q=0"), Identity),
            (Some("br;q=0, *"), Gzip),
            (Some("deflate"), Identity),
        ] {
            assert_eq!(Encoding::negotiate(accept), expected, "{accept:?}");
        }
    }

    #[tokio::test]
    async fn snapshots_answer_every_encoding_and_revalidation() {
        let s = Snapshot::build((0, 0, 0), (1..=50).map(product).collect());
        let plain: Vec<Product> = serde_json::from_slice(&s.identity).unwrap_or_default();
        assert_eq!(plain.len(), 50);
        let gzip = s.body(Encoding::Gzip).await;
        let mut gunzip = flate2::read::GzDecoder::new(&gzip[..]);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut gunzip, &mut out).ok();
        assert_eq!(out, s.identity);
        let mut out = Vec::new();
        let br = s.body(Encoding::Brotli).await;
        brotli::BrotliDecompress(&mut &br[..], &mut out).ok();
        assert_eq!(out, s.identity);

        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let r = s.whole(&headers).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let etag = r.headers()[header::ETAG].clone();
        headers.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(s.whole(&headers).await.status(), StatusCode::NOT_MODIFIED);
        // A tag of another encoding names the same list.
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(s.whole(&headers).await.status(), StatusCode::NOT_MODIFIED);
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(s.whole(&headers).await.status(), StatusCode::OK);
    }

    #[test]
    fn pages_follow_ids_and_link_the_next() {
        let s = Snapshot::build((0, 0, 0), [1, 2, 5, 9, 10].map(product).to_vec());
        let r = s.page("/p", Page { limit: 2, after: 2 });
        assert_eq!(
            r.headers()[header::LINK],
            "</p?after=9&limit=2>; rel=\"next\""
        );
        let r = s.page("/p", Page { limit: 2, after: 9 });
        assert!(r.headers().get(header::LINK).is_none());
        let r = s.page(
            "/p",
            Page {
                limit: 5,
                after: 10,
            },
        );
        assert!(r.headers().get(header::LINK).is_none());
    }
}
