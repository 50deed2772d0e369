//! What a list request asks for, checked: the whole list, a keyset page (`?limit=N&after=ID`,
//! optionally searched with `q`), or a numbered page of a sorted catalogue
//! (`?page=P&per_page=N&sort=…`, with `q`), and the `Link` headers of each (RFC 8288).

use url::form_urlencoded;

use super::search::Search;

/// The largest keyset page.
pub const MAX_PAGE: usize = 1000;

/// The page size when `after` or `q` comes without `limit`.
pub const DEFAULT_PAGE: usize = 100;

/// The largest numbered page.
pub const MAX_PER_PAGE: u64 = 100;

/// The numbered page size when `per_page` is not given.
pub const DEFAULT_PER_PAGE: u64 = 25;

/// A list request's query parameters, decoded (`+` and `%XX`); of a repeated name the last
/// counts.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `q`, checked: `Ok(None)` when absent or with nothing to search for.
    pub fn search(&self) -> Result<Option<Search>, String> {
        self.get("q").map_or(Ok(None), Search::parse)
    }
}

/// `?limit=N&after=ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub after: u64,
}

impl Page {
    /// `None` when the request asks for no page (the whole list); parameters other than
    /// `limit`, `after` and `q` are ignored, as they always were. `q` alone asks for the first
    /// page.
    pub fn parse(params: &Params) -> Result<Option<Page>, String> {
        let (limit, after) = (params.get("limit"), params.get("after"));
        if limit.is_none() && after.is_none() && !params.has("q") {
            return Ok(None);
        }
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(raw) => digits(raw)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or(format!("limit must be a whole number from 1 to {MAX_PAGE}"))?,
        };
        let after = match after {
            None => 0,
            Some(raw) => digits(raw)
                .ok_or("after must be a product id: a whole number, 0 or more".to_owned())?,
        };
        Ok(Some(Page { limit, after }))
    }

    /// The `Link` to the page after the one that ended with `last`: the same search and size.
    /// Without a search it is the link this API always sent.
    pub fn next_link(&self, path: &str, search: Option<&str>, last: u64) -> String {
        let q = search
            .map(|q| format!("q={}&", encode(q)))
            .unwrap_or_default();
        format!(
            "<{path}?{q}after={last}&limit={}>; rel=\"next\"",
            self.limit
        )
    }
}

/// The orders of a numbered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Title,
    Likes,
}

/// `sort=id|title|likes|-id|-title|-likes`: a key, and whether descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    pub const BY_ID: Sort = Sort {
        key: SortKey::Id,
        descending: false,
    };

    fn parse(raw: &str) -> Option<Sort> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        let key = match name {
            "id" => SortKey::Id,
            "title" => SortKey::Title,
            "likes" => SortKey::Likes,
            _ => return None,
        };
        Some(Sort { key, descending })
    }

    fn name(self) -> String {
        let key = match self.key {
            SortKey::Id => "id",
            SortKey::Title => "title",
            SortKey::Likes => "likes",
        };
        format!("{}{key}", if self.descending { "-" } else { "" })
    }
}

/// `?q=…&sort=…&page=P&per_page=N`: one numbered page of the sorted (and searched) catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    pub search: Option<Search>,
    /// `q` as given, for the links.
    pub q: Option<String>,
    pub sort: Sort,
    /// From 1.
    pub page: u64,
    pub per_page: u64,
}

impl Numbered {
    /// `None` when none of `q`, `sort`, `page` and `per_page` is given; an error naming the
    /// parameter when one is out of range. With any of them, `limit` and `after` are checked
    /// but not used (documented: every combination the schema allows is answered, and every
    /// value it does not is refused).
    pub fn parse(params: &Params) -> Result<Option<Numbered>, String> {
        if !["q", "sort", "page", "per_page"]
            .iter()
            .any(|p| params.has(p))
        {
            return Ok(None);
        }
        Page::parse(params)?;
        let sort = match params.get("sort") {
            None => Sort::BY_ID,
            Some(raw) => Sort::parse(raw)
                .ok_or("sort must be one of id, title, likes, -id, -title, -likes".to_owned())?,
        };
        let page = match params.get("page") {
            None => 1,
            Some(raw) => digits(raw)
                .filter(|n| *n >= 1 && *n <= MAX_PAGE_NUMBER)
                .ok_or(format!(
                    "page must be a whole number from 1 to {MAX_PAGE_NUMBER}"
                ))?,
        };
        let per_page = match params.get("per_page") {
            None => DEFAULT_PER_PAGE,
            Some(raw) => digits(raw)
                .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                .ok_or(format!(
                    "per_page must be a whole number from 1 to {MAX_PER_PAGE}"
                ))?,
        };
        Ok(Some(Numbered {
            search: params.search()?,
            q: params.get("q").map(str::to_owned),
            sort,
            page,
            per_page,
        }))
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }

    /// The `Link` header of this page of `total` products: first, prev, next and last, each
    /// where it applies, keeping the search, the order and the page size.
    pub fn links(&self, path: &str, total: u64) -> String {
        let last = total.div_ceil(self.per_page).max(1);
        let mut base = String::new();
        if let Some(q) = &self.q {
            base.push_str(&format!("q={}&", encode(q)));
        }
        if self.sort != Sort::BY_ID {
            base.push_str(&format!("sort={}&", self.sort.name()));
        }
        let link = |page: u64, rel: &str| {
            format!(
                "<{path}?{base}page={page}&per_page={}>; rel=\"{rel}\"",
                self.per_page
            )
        };
        let mut links = vec![link(1, "first")];
        if self.page > 1 {
            links.push(link((self.page - 1).min(last), "prev"));
        }
        if self.page < last {
            links.push(link(self.page + 1, "next"));
        }
        links.push(link(last, "last"));
        links.join(", ")
    }
}

/// The largest page number: far past any catalogue, and an offset that cannot overflow.
pub const MAX_PAGE_NUMBER: u64 = 1_000_000_000;

fn encode(q: &str) -> String {
    form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// Plain decimal digits that fit in 64 bits.
fn digits(raw: &str) -> Option<u64> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &str) -> Result<Option<Page>, String> {
        Page::parse(&Params::parse(Some(query)))
    }

    fn numbered(query: &str) -> Result<Option<Numbered>, String> {
        Numbered::parse(&Params::parse(Some(query)))
    }

    #[test]
    fn paging_parameters_are_checked() {
        assert_eq!(Page::parse(&Params::parse(None)), Ok(None));
        assert_eq!(page("x=1"), Ok(None));
        assert_eq!(
            page("limit=10"),
            Ok(Some(Page {
                limit: 10,
                after: 0
            }))
        );
        assert_eq!(
            page("after=7"),
            Ok(Some(Page {
                limit: DEFAULT_PAGE,
                after: 7
            }))
        );
        assert_eq!(
            page("q=blue"),
            Ok(Some(Page {
                limit: DEFAULT_PAGE,
                after: 0
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
            assert!(page(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_last_of_a_repeated_parameter_counts_and_values_are_decoded() {
        let p = Params::parse(Some("q=a&q=blue+wid%C3%A9&limit=%35"));
        assert_eq!(p.get("q"), Some("blue widé"));
        assert_eq!(Page::parse(&p).unwrap().unwrap().limit, 5);
    }

    #[test]
    fn next_links_keep_the_search_and_are_unchanged_without_one() {
        let p = Page {
            limit: 48,
            after: 0,
        };
        assert_eq!(
            p.next_link("/x", None, 9),
            "</x?after=9&limit=48>; rel=\"next\""
        );
        assert_eq!(
            p.next_link("/x", Some("blue & wid"), 9),
            "</x?q=blue+%26+wid&after=9&limit=48>; rel=\"next\""
        );
    }

    #[test]
    fn numbered_pages_are_checked_and_named_in_errors() {
        assert_eq!(numbered("limit=5"), Ok(None));
        let n = numbered("sort=-likes&page=3&per_page=50").unwrap().unwrap();
        assert_eq!(
            n.sort,
            Sort {
                key: SortKey::Likes,
                descending: true
            }
        );
        assert_eq!((n.page, n.per_page, n.offset()), (3, 50, 100));
        let n = numbered("q=%20%20").unwrap().unwrap();
        assert_eq!((n.search, n.page, n.per_page), (None, 1, DEFAULT_PER_PAGE));
        // Good values of limit and after are not used beside a numbered page's parameters.
        assert_eq!(numbered("page=2&limit=5&after=9").unwrap().unwrap().page, 2);
        for (bad, named) in [
            ("sort=price", "sort"),
            ("sort=", "sort"),
            ("sort=--id", "sort"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=1e3", "page"),
            ("page=1000000001", "page"),
            ("per_page=0", "per_page"),
            ("per_page=101", "per_page"),
            ("per_page=ten", "per_page"),
            ("page=2&after=x", "after"),
            ("sort=id&limit=", "limit"),
        ] {
            let e = numbered(bad).expect_err(bad);
            assert!(e.starts_with(named), "{bad}: {e}");
        }
        assert!(
            numbered(&format!("q={}", "x".repeat(201)))
                .unwrap_err()
                .starts_with("q ")
        );
    }

    #[test]
    fn numbered_links_say_first_prev_next_last_where_they_apply() {
        let n = numbered("q=blue%20wid&sort=-title&page=2&per_page=10")
            .unwrap()
            .unwrap();
        assert_eq!(
            n.links("/api/products", 35),
            "</api/products?q=blue+wid&sort=-title&page=1&per_page=10>; rel=\"first\", \
             </api/products?q=blue+wid&sort=-title&page=1&per_page=10>; rel=\"prev\", \
             </api/products?q=blue+wid&sort=-title&page=3&per_page=10>; rel=\"next\", \
             </api/products?q=blue+wid&sort=-title&page=4&per_page=10>; rel=\"last\""
        );
        let first = numbered("page=1").unwrap().unwrap();
        assert_eq!(
            first.links("/p", 0),
            "</p?page=1&per_page=25>; rel=\"first\", </p?page=1&per_page=25>; rel=\"last\""
        );
        // Past the end: prev points at the last page.
        let past = numbered("page=9").unwrap().unwrap();
        assert_eq!(
            past.links("/p", 30),
            "</p?page=1&per_page=25>; rel=\"first\", </p?page=2&per_page=25>; rel=\"prev\", \
             </p?page=2&per_page=25>; rel=\"last\""
        );
    }
}
