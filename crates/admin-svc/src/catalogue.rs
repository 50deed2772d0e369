//! The admin table's view of the catalogue: numbered pages, sorted and searched in the
//! database (`?q=…&sort=…&page=P&per_page=N`), with the total as `X-Total-Count` and
//! `Link`s to the first, previous, next and last pages.
//!
//! Every order reads an index: `id` the primary key, `title` and `likes` their own indexes
//! (ties broken by id, which each index holds). The page's ids are found first from the index
//! alone (a deep page skips index entries, not rows), then its rows are read by id. A search
//! joins the term index ([`shop_runtime::lists::search`]) and sorts its matches.
//!
//! Totals are counted once per search until the catalogue changes ([`Totals`]): counting a
//! hundred thousand index entries takes milliseconds, and an admin paging through one search,
//! or many admins on the first page, would count them again on every page.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use events::Product;
use std::collections::HashMap;
use std::sync::Mutex;

use shop_runtime::lists::ChangeFeed;
use shop_runtime::lists::page::{Numbered, SortKey};
use shop_runtime::lists::search::Search;
use shop_runtime::lists::snapshot::page_answer;
use shop_runtime::statement;
use sqlx::{MySql, MySqlPool, QueryBuilder};

/// How many products matched recent searches (`None`: the unfiltered catalogue), as of one
/// generation of the catalogue ([`ChangeFeed`]). Forgotten at the next change.
#[derive(Debug, Default)]
pub struct Totals(Mutex<(u64, HashMap<Option<Search>, u64>)>);

/// Searches whose totals are held at most.
const TOTALS_HELD: usize = 256;

impl Totals {
    /// The total of `search` at `feed`'s catalogue generation: remembered, or counted. Not
    /// remembered while the feed is not live (no notices: changes could go unseen).
    async fn of(
        &self,
        pool: &MySqlPool,
        feed: &ChangeFeed,
        search: &Option<Search>,
    ) -> Result<u64, sqlx::Error> {
        let generation = feed.generations().0;
        let held = {
            let totals = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (totals.0 == generation)
                .then(|| totals.1.get(search).copied())
                .flatten()
        };
        if let Some(total) = held.filter(|_| feed.is_live()) {
            return Ok(total);
        }
        let total = match search {
            Some(search) => search.count(pool).await?,
            None => count(pool).await?,
        };
        let mut totals = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if totals.0 != generation || totals.1.len() >= TOTALS_HELD {
            *totals = (generation, HashMap::new());
        }
        totals.1.insert(search.clone(), total);
        Ok(total)
    }
}

/// The page `n` asks for, and how many products match.
pub async fn page(
    pool: &MySqlPool,
    feed: &ChangeFeed,
    totals: &Totals,
    n: &Numbered,
) -> Result<(Vec<Product>, u64), sqlx::Error> {
    let total = totals.of(pool, feed, &n.search).await?;
    if n.offset() >= total {
        return Ok((Vec::new(), total));
    }
    let mut q = QueryBuilder::new(
        "SELECT p.id, p.title, p.image, p.likes FROM products p JOIN (SELECT s.id FROM products s",
    );
    if let Some(search) = &n.search {
        q.push(" JOIN (SELECT t0.product_id");
        search.push_matches(&mut q);
        q.push(") m ON m.product_id = s.id");
    }
    push_order(&mut q, n, "s");
    q.push(" LIMIT ");
    q.push_bind(n.per_page);
    q.push(" OFFSET ");
    q.push_bind(n.offset());
    q.push(") k ON k.id = p.id");
    push_order(&mut q, n, "p");
    let rows = statement::run(
        "catalogue_page",
        "SELECT products",
        q.build_query_as().fetch_all(pool),
    )
    .await?;
    Ok((rows, total))
}

/// ` ORDER BY <key>[ DESC], id[ DESC]` over the table aliased `table`.
fn push_order(q: &mut QueryBuilder<'_, MySql>, n: &Numbered, table: &str) {
    let dir = if n.sort.descending { " DESC" } else { "" };
    let key = match n.sort.key {
        SortKey::Id => "id",
        SortKey::Title => "title",
        SortKey::Likes => "likes",
    };
    q.push(format_args!(" ORDER BY {table}.{key}{dir}"));
    if n.sort.key != SortKey::Id {
        q.push(format_args!(", {table}.id{dir}"));
    }
}

async fn count(pool: &MySqlPool) -> Result<u64, sqlx::Error> {
    let n: i64 = statement::run(
        "count_products",
        "SELECT products",
        sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(pool),
    )
    .await?;
    Ok(n.unsigned_abs())
}

/// The answer: the page's products, `X-Total-Count` and the `Link`s.
pub fn answer(path: &str, n: &Numbered, products: &[Product], total: u64) -> Response {
    let mut response = page_answer(products.iter(), None);
    let h = response.headers_mut();
    h.insert("x-total-count", HeaderValue::from(total));
    if let Ok(links) = HeaderValue::from_str(&n.links(path, total)) {
        h.insert(header::LINK, links);
    }
    response
}
