//! The admin table's view of the catalogue: numbered pages, sorted and searched in the
//! database (`?q=…&sort=…&page=P&per_page=N`), with the total as `X-Total-Count` and
//! `Link`s to the first, previous, next and last pages.
//!
//! Every order reads an index: `id` the primary key, `title` and `likes` their own indexes
//! (ties broken by id, which each index holds). The page's ids are found first from the index
//! alone (a deep page skips index entries, not rows), then its rows are read by id. A search
//! joins the term index ([`shop_runtime::lists::search`]) and sorts its matches.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use events::Product;
use shop_runtime::lists::page::{Numbered, SortKey};
use shop_runtime::lists::snapshot::page_answer;
use shop_runtime::statement;
use sqlx::{MySql, MySqlPool, QueryBuilder};

/// The page `n` asks for, and how many products match.
pub async fn page(pool: &MySqlPool, n: &Numbered) -> Result<(Vec<Product>, u64), sqlx::Error> {
    let total = match &n.search {
        Some(search) => search.count(pool).await?,
        None => count(pool).await?,
    };
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
