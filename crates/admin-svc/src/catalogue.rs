//! The admin table's view of the catalogue: numbered pages, sorted and searched in the
//! database (`?q=…&sort=…&page=P&per_page=N`), with the total as `X-Total-Count` and
//! `Link`s to the first, previous, next and last pages.
//!
//! Every order reads an index: `id` the primary key, `title` and `likes` their own indexes
//! (ties broken by id, which each index holds); a search joins the term index
//! ([`shop_runtime::lists::search`]) and sorts its matches. The whole order of ids is read
//! once and held until the catalogue (for `likes`, its counts) changes
//! ([`shop_runtime::lists::found`]): its length is the total, a page is a slice of it, from
//! the end when descending, and only the page's rows are read, by id. So page 2,000 costs
//! what page 1 does, a total is never counted twice, and paging through a search reads its
//! matches once.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use events::Product;
use shop_runtime::lists::ChangeFeed;
use shop_runtime::lists::found::{By, Held, Key};
use shop_runtime::lists::page::{Numbered, SortKey};
use shop_runtime::lists::snapshot::page_answer;
use shop_runtime::statement;
use sqlx::{MySqlPool, QueryBuilder};

/// The page `n` asks for, and how many products match: the whole order read once and held
/// ([`Held`]), the page's rows read by id.
pub async fn page(
    pool: &MySqlPool,
    feed: &ChangeFeed,
    held: &Held,
    n: &Numbered,
) -> Result<(Vec<Product>, u64), sqlx::Error> {
    let by = match n.sort.key {
        SortKey::Id => By::Id,
        SortKey::Title => By::Title,
        SortKey::Likes => By::Likes,
    };
    let key = Key {
        search: n.search.clone(),
        by,
    };
    let read_pool = pool.clone();
    let order = held
        .order(feed, key.clone(), move || {
            Box::pin(read_order(read_pool, key))
        })
        .await?;
    let total = order.len() as u64;
    let (offset, per_page) = (n.offset(), n.per_page);
    if offset >= total {
        return Ok((Vec::new(), total));
    }
    // Descending is the ascending order read from its end.
    let positions = offset..(offset + per_page).min(total);
    let ids: Vec<u64> = positions
        .map(|i| {
            let i = usize::try_from(i).unwrap_or(usize::MAX);
            if n.sort.descending {
                order[order.len() - 1 - i]
            } else {
                order[i]
            }
        })
        .collect();
    let mut q = QueryBuilder::new("SELECT id, title, image, likes FROM products WHERE id IN (");
    let mut list = q.separated(", ");
    for id in &ids {
        list.push_bind(*id);
    }
    q.push(")");
    let mut rows: Vec<Product> = statement::run(
        "catalogue_page",
        "SELECT products",
        q.build_query_as().fetch_all(pool),
    )
    .await?;
    // In the page's order; a product deleted since the order was read is left out.
    rows.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
    Ok((rows, total))
}

/// Every id `key` orders, ascending (ties by id).
async fn read_order(pool: MySqlPool, key: Key) -> Result<Vec<u64>, sqlx::Error> {
    let by = match key.by {
        By::Id => "id",
        By::Title => "title, s.id",
        By::Likes => "likes, s.id",
    };
    let mut q = QueryBuilder::new("SELECT s.id FROM products s");
    if let Some(search) = &key.search {
        q.push(" JOIN (SELECT t0.product_id");
        search.push_matches(&mut q);
        q.push(") m ON m.product_id = s.id");
    }
    q.push(format_args!(" ORDER BY s.{by}"));
    statement::run(
        "catalogue_order",
        "SELECT products",
        q.build_query_scalar().fetch_all(&pool),
    )
    .await
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
