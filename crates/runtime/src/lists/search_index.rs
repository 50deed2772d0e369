//! The search index's writes ([`super::search`] says what it holds): a product's terms
//! written in the transaction that writes the product, and the whole index built again for
//! products written before it existed or before its rules changed.

use std::collections::BTreeSet;
use std::time::Instant;

use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};

use super::search::{VERSION, terms};
use crate::statement;

/// Writes the terms of product `id` titled `title`, replacing any it had; in the
/// transaction that writes the product, which holds the product's row (so no one else
/// writes its terms meanwhile).
///
/// Only the terms that change are written, each by its whole key: a delete by key locks
/// that row alone, where a delete of a range (`WHERE product_id = ?`) would also lock the
/// gaps around it, and concurrent writes of neighbouring products' terms then deadlock
/// (InnoDB's next-key locks under repeatable read).
pub async fn index_product(
    tx: &mut MySqlConnection,
    id: u64,
    title: &str,
) -> Result<(), sqlx::Error> {
    let held = held_terms(tx, id).await?;
    let wanted = terms(title);
    let gone: Vec<&String> = held.iter().filter(|t| !wanted.contains(*t)).collect();
    delete_terms(tx, id, &gone).await?;
    let added: Vec<(u64, String)> = wanted
        .into_iter()
        .filter(|t| !held.contains(t))
        .map(|t| (id, t))
        .collect();
    insert_rows(tx, &added).await
}

/// Writes the terms of a product just created (it has none: nothing to read or delete).
pub async fn index_new_product(
    tx: &mut MySqlConnection,
    id: u64,
    title: &str,
) -> Result<(), sqlx::Error> {
    insert_terms(tx, &[(id, title)]).await
}

/// Removes the terms of product `id`: it was deleted.
pub async fn unindex_product(tx: &mut MySqlConnection, id: u64) -> Result<(), sqlx::Error> {
    let held = held_terms(tx, id).await?;
    delete_terms(tx, id, &held.iter().collect::<Vec<_>>()).await
}

/// The terms product `id` has: a plain read, which takes no lock (the caller holds the
/// product's row).
async fn held_terms(tx: &mut MySqlConnection, id: u64) -> Result<BTreeSet<String>, sqlx::Error> {
    // A binary collation (`utf8mb4_bin`) comes back as bytes.
    let held: Vec<Vec<u8>> = statement::run(
        "product_terms",
        "SELECT product_search_terms",
        sqlx::query_scalar("SELECT term FROM product_search_terms WHERE product_id = ?")
            .bind(id)
            .fetch_all(&mut *tx),
    )
    .await?;
    Ok(held
        .into_iter()
        .map(|t| String::from_utf8_lossy(&t).into_owned())
        .collect())
}

/// Deletes `terms` of product `id`, each by its whole key in a statement of its own: an
/// equality on every column of the primary key locks the row alone, where `term IN (…)` is
/// read as a range and locks the gap after it too (up to the index's end, for the newest
/// product), which concurrent inserts of other products' terms then wait on.
async fn delete_terms(
    tx: &mut MySqlConnection,
    id: u64,
    terms: &[&String],
) -> Result<(), sqlx::Error> {
    for term in terms {
        statement::run(
            "unindex_product",
            "DELETE product_search_terms",
            sqlx::query("DELETE FROM product_search_terms WHERE product_id = ? AND term = ?")
                .bind(id)
                .bind(*term)
                .execute(&mut *tx),
        )
        .await?;
    }
    Ok(())
}

/// Inserts the terms of `products` (none of which has any).
async fn insert_terms(
    tx: &mut MySqlConnection,
    products: &[(u64, &str)],
) -> Result<(), sqlx::Error> {
    let rows: Vec<(u64, String)> = products
        .iter()
        .flat_map(|(id, title)| terms(title).into_iter().map(move |t| (*id, t)))
        .collect();
    insert_rows(tx, &rows).await
}

/// Inserts `(product_id, term)` rows (one there already is left as it is).
async fn insert_rows(tx: &mut MySqlConnection, rows: &[(u64, String)]) -> Result<(), sqlx::Error> {
    // Well under MariaDB's 65,535 placeholders a statement.
    for chunk in rows.chunks(10_000) {
        let mut query =
            QueryBuilder::new("INSERT IGNORE INTO product_search_terms (product_id, term) ");
        query.push_values(chunk, |mut row, (id, term)| {
            row.push_bind(*id).push_bind(term.clone());
        });
        statement::run(
            "index_products",
            "INSERT product_search_terms",
            query.build().execute(&mut *tx),
        )
        .await?;
    }
    Ok(())
}

/// Marks the index as to be built again from the first product: the next [`reindex`]
/// rewrites every product's terms.
pub async fn restart_index(pool: &MySqlPool) -> Result<(), sqlx::Error> {
    statement::run(
        "restart_search_index",
        "UPDATE search_index",
        sqlx::query("UPDATE search_index SET version = 0, after_id = 0, complete = FALSE WHERE name = 'products'")
            .execute(pool),
    )
    .await?;
    Ok(())
}

/// Products indexed per transaction by [`reindex`].
const REINDEX_BATCH: u64 = 500;

/// Indexes every product not yet indexed with this [`VERSION`] of the rules: after the table
/// was created, or when the rules changed. `live` reads the id and title of products that
/// belong in the index, with an id over `?`, ascending, at most `?` (two binds); the rows are
/// locked for the batch's transaction so that a concurrent change of one waits for it.
///
/// Resumable (each batch commits its progress) and safe to run in several processes at once
/// (each batch locks the progress row). Returns how many products it indexed.
pub async fn reindex(pool: &MySqlPool, live: &'static str) -> Result<u64, sqlx::Error> {
    let start = Instant::now();
    let mut indexed = 0;
    loop {
        let mut tx = pool.begin().await?;
        let (version, after, complete): (u32, u64, bool) = statement::run(
            "lock_search_index",
            "SELECT search_index",
            sqlx::query_as(
                "SELECT version, after_id, complete FROM search_index WHERE name = 'products' FOR UPDATE",
            )
            .fetch_one(&mut *tx),
        )
        .await?;
        let after = if version == VERSION {
            if complete {
                break;
            }
            after
        } else {
            // Other rules, or none yet: every product again.
            0
        };
        let batch: Vec<(u64, String)> = statement::run(
            "reindex_products",
            "SELECT products",
            sqlx::query_as(live)
                .bind(after)
                .bind(REINDEX_BATCH)
                .fetch_all(&mut *tx),
        )
        .await?;
        let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            statement::run(
                "unindex_products",
                "DELETE product_search_terms",
                sqlx::query("DELETE FROM product_search_terms WHERE product_id BETWEEN ? AND ?")
                    .bind(first)
                    .bind(last)
                    .execute(&mut *tx),
            )
            .await?;
            let products: Vec<(u64, &str)> = batch
                .iter()
                .map(|(id, title)| (*id, title.as_str()))
                .collect();
            insert_terms(&mut tx, &products).await?;
        }
        let done = (batch.len() as u64) < REINDEX_BATCH;
        if !batch.is_empty() {
            // What searches find changed: the lists' version check tells every process, so
            // that none answers from what it held (admin-api's totals).
            super::versions::bump_version(&mut tx, super::versions::Change::Catalogue).await?;
        }
        statement::run(
            "record_search_index",
            "UPDATE search_index",
            sqlx::query(
                "UPDATE search_index SET version = ?, after_id = ?, complete = ? WHERE name = 'products'",
            )
            .bind(VERSION)
            .bind(ids.last().copied().unwrap_or(after))
            .bind(done)
            .execute(&mut *tx),
        )
        .await?;
        statement::commit(tx).await?;
        indexed += batch.len() as u64;
        if done {
            break;
        }
    }
    if indexed > 0 {
        tracing::info!(
            products = indexed,
            seconds = start.elapsed().as_secs_f64(),
            "search index built"
        );
    }
    Ok(indexed)
}
