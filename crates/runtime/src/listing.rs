//! Product lists served from memory: one pre-serialised snapshot per process, with its gzip
//! and brotli encodings and an `ETag`, rebuilt when the data changes.
//!
//! Every list request used to read and decode the whole table and encode it again: that was
//! most of an API's time under load. Now a request takes the snapshot (an `Arc` clone),
//! picks the encoding the client accepts and writes bytes; a client that already has them
//! (`If-None-Match`) gets `304` and no body.
//!
//! # How fresh
//!
//! A snapshot remembers the [`ChangeFeed`] generations it was built at
//! ([`crate::changes`] says what bumps them and how fast):
//!
//! - **products** (created, updated, deleted): a snapshot older than the process's last
//!   catalogue change is never served; the first request after a change rebuilds it (the
//!   others wait for that one rebuild, they do not each query the database);
//! - **like counts this process committed** (main-api's own likes) are shown at once too: a
//!   shopper who likes and reloads sees the like. The rebuild is cheap (a few hundred
//!   microseconds for a hundred products, encodings made on first use), and concurrent
//!   requests share it. For a list that takes over 20 ms to rebuild (tens of thousands of
//!   products) they are treated like the next kind instead;
//! - **like counts from other processes** (another replica's likes, the catalogue's counts
//!   from admin-consumer) may be served up to `LIST_COUNTS_MAX_AGE_MS` (250 ms) late: they
//!   arrive thousands a second, and rebuilding on each would be the per-request query
//!   again. While one request rebuilds for them, the others are answered the held snapshot.
//!
//! # Paging
//!
//! `?limit=N` (1 to 1,000) and `?after=ID` (products with a larger id) page through the same
//! snapshot in id order; a page that is not the last has a `Link: <…>; rel="next"` header.
//! Without either parameter the answer is the whole list, as it always was.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::Product;
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use sqlx::MySqlPool;

use crate::changes::ChangeFeed;
use crate::metrics::catalog;

/// Reads the whole list from the database, in id order.
pub type LoadQuery = fn(&MySqlPool) -> BoxFuture<'_, Result<Vec<Product>, sqlx::Error>>;

/// The largest page.
pub const MAX_PAGE: usize = 1000;

/// The page size when `after` comes without `limit`.
pub const DEFAULT_PAGE: usize = 100;

/// One list of one process. Cheap to clone.
#[derive(Clone)]
pub struct Listing {
    inner: Arc<Inner>,
}

struct Inner {
    /// Names the list in metrics (`shop`, `catalogue`).
    name: &'static str,
    pool: MySqlPool,
    feed: ChangeFeed,
    load: LoadQuery,
    counts_max_age: Duration,
    /// Bumped when this process commits a change of counts ([`Listing::counts_changed_here`]).
    own: AtomicU64,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// Held by the one request that rebuilds.
    building: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

/// A list as built at one moment: its products, and the bytes of each encoding (the
/// compressed ones made on first use).
#[derive(Debug)]
pub struct Snapshot {
    /// The feed's `(catalogue, counts)` generations and this process's own counts
    /// generation, read before the database was.
    generations: (u64, u64, u64),
    built: Instant,
    /// It took long to build: this process's own count changes wait like the others'.
    expensive: bool,
    products: Vec<Product>,
    identity: Bytes,
    gzip: tokio::sync::OnceCell<Bytes>,
    brotli: tokio::sync::OnceCell<Bytes>,
    /// A digest of the identity bytes; the `ETag` of each encoding is derived from it.
    tag: String,
}

impl Listing {
    pub fn new(
        name: &'static str,
        pool: MySqlPool,
        feed: ChangeFeed,
        load: LoadQuery,
        counts_max_age: Duration,
    ) -> Self {
        Listing {
            inner: Arc::new(Inner {
                name,
                pool,
                feed,
                load,
                counts_max_age,
                own: AtomicU64::new(0),
                snapshot: RwLock::new(None),
                building: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The feed that makes this list stale.
    pub fn feed(&self) -> &ChangeFeed {
        &self.inner.feed
    }

    fn held(&self) -> Option<Arc<Snapshot>> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// After this process committed a change of like counts: its next answer shows it.
    pub fn counts_changed_here(&self) {
        self.inner.own.fetch_add(1, Ordering::AcqRel);
    }

    fn generations(&self) -> (u64, u64, u64) {
        let (catalogue, counts) = self.inner.feed.generations();
        (catalogue, counts, self.inner.own.load(Ordering::Acquire))
    }

    /// Whether `s` may be served now, may be served while another request rebuilds, or
    /// must be rebuilt first.
    fn freshness(&self, s: &Snapshot) -> Freshness {
        let now = self.generations();
        if !self.inner.feed.is_live() || s.generations.0 != now.0 {
            return Freshness::Stale;
        }
        let own_late = s.generations.2 != now.2;
        if own_late && !s.expensive {
            return Freshness::Stale;
        }
        if !own_late && s.generations.1 == now.1 {
            return Freshness::Fresh;
        }
        if s.built.elapsed() < self.inner.counts_max_age {
            Freshness::Fresh
        } else {
            Freshness::Late
        }
    }

    /// The snapshot to serve, rebuilt first when it is stale.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        if let Some(s) = self.held() {
            match self.freshness(&s) {
                Freshness::Fresh => return Ok(s),
                // Only counts from elsewhere are late: one request rebuilds, the others
                // are answered these meanwhile.
                Freshness::Late => {
                    let Ok(_guard) = self.inner.building.try_lock() else {
                        return Ok(s);
                    };
                    return match self.rebuild().await {
                        Ok(new) => Ok(new),
                        Err(e) => {
                            crate::db::note_error(&e);
                            tracing::warn!(error = %e, list = self.inner.name,
                                "cannot rebuild the list for new like counts; serving the held one");
                            Ok(s)
                        }
                    };
                }
                Freshness::Stale => {}
            }
        }
        let _guard = self.inner.building.lock().await;
        // Another request may have rebuilt it while this one waited.
        if let Some(s) = self.held()
            && self.freshness(&s) == Freshness::Fresh
        {
            return Ok(s);
        }
        self.rebuild().await
    }

    /// Reads the list and encodes it; the caller holds `building`.
    async fn rebuild(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        let start = Instant::now();
        // Read before the database: a change committed after this read bumps them again,
        // so the snapshot can only look older than it is, never newer.
        let generations = self.generations();
        let products = (self.inner.load)(&self.inner.pool).await?;
        let mut snapshot = if products.len() > 1000 {
            tokio::task::spawn_blocking(move || Snapshot::build(generations, products))
                .await
                .map_err(|e| sqlx::Error::Protocol(format!("encoding the list failed: {e}")))?
        } else {
            Snapshot::build(generations, products)
        };
        snapshot.expensive = start.elapsed() > EXPENSIVE;
        let snapshot = Arc::new(snapshot);
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(snapshot.clone());
        catalog::LIST_REBUILDS.increment([self.inner.name]);
        catalog::LIST_REBUILD_DURATION.record([self.inner.name], start.elapsed().as_secs_f64());
        catalog::LIST_BYTES.set([self.inner.name], snapshot.identity.len() as f64);
        Ok(snapshot)
    }

    /// The answer to `GET path?query` with `headers`: the whole list (negotiated encoding,
    /// `ETag`, `304`), or a page; `400` for a bad paging parameter.
    pub async fn respond(&self, path: &str, query: Option<&str>, headers: &HeaderMap) -> Response {
        let page = match Page::parse(query) {
            Ok(page) => page,
            Err(message) => return crate::http::error(StatusCode::BAD_REQUEST, message),
        };
        let snapshot = match self.snapshot().await {
            Ok(s) => s,
            Err(e) => return crate::http::database_error(&e),
        };
        match page {
            None => snapshot.whole(headers).await,
            Some(page) => snapshot.page(path, page),
        }
    }
}

/// A list slower than this to rebuild is not rebuilt for each of this process's likes.
const EXPENSIVE: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freshness {
    /// May be served.
    Fresh,
    /// Counts from elsewhere are older than `LIST_COUNTS_MAX_AGE_MS`: rebuild, but whoever
    /// cannot help with that may be served it.
    Late,
    /// Must not be served: rebuild first.
    Stale,
}

/// `?limit=N&after=ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub after: u64,
}

impl Page {
    /// `None` when the query asks for no page (the whole list); other parameters are
    /// ignored, as they always were.
    pub fn parse(query: Option<&str>) -> Result<Option<Page>, &'static str> {
        let (mut limit, mut after) = (None, None);
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "limit" => limit = Some(value),
                "after" => after = Some(value),
                _ => {}
            }
        }
        if limit.is_none() && after.is_none() {
            return Ok(None);
        }
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(raw) => digits(raw)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or("limit must be a whole number from 1 to 1000")?,
        };
        let after = match after {
            None => 0,
            Some(raw) => {
                digits(raw).ok_or("after must be a product id: a whole number, 0 or more")?
            }
        };
        Ok(Some(Page { limit, after }))
    }
}

/// Plain decimal digits that fit in 64 bits.
fn digits(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
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
    fn build(generations: (u64, u64, u64), products: Vec<Product>) -> Snapshot {
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

    async fn whole(&self, headers: &HeaderMap) -> Response {
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

    fn page(&self, path: &str, page: Page) -> Response {
        let start = self.products.partition_point(|p| p.id <= page.after);
        let end = (start + page.limit).min(self.products.len());
        let items = &self.products[start..end];
        let body = serde_json::to_vec(items).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, JSON);
        h.insert(header::CACHE_CONTROL, CACHE_CONTROL);
        if end < self.products.len()
            && let Some(last) = items.last()
            && let Ok(link) = HeaderValue::from_str(&format!(
                "<{path}?after={}&limit={}>; rel=\"next\"",
                last.id, page.limit
            ))
        {
            h.insert(header::LINK, link);
        }
        response
    }
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

    #[test]
    fn paging_parameters_are_checked() {
        assert_eq!(Page::parse(None), Ok(None));
        assert_eq!(Page::parse(Some("x=1")), Ok(None));
        assert_eq!(
            Page::parse(Some("limit=10")),
            Ok(Some(Page {
                limit: 10,
                after: 0
            }))
        );
        assert_eq!(
            Page::parse(Some("after=7")),
            Ok(Some(Page {
                limit: DEFAULT_PAGE,
                after: 7
            }))
        );
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=-1",
            "limit=",
            "limit=ten",
            "after=-1",
            "after=1.5",
            "after=",
            "after=99999999999999999999",
        ] {
            assert!(Page::parse(Some(bad)).is_err(), "{bad}");
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
