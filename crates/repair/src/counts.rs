//! The catalogue's like counts against the shop's likes, exact while likes keep arriving.
//!
//! For a batch of products, in this order:
//!
//! 1. lock the batch's catalogue rows (`FOR UPDATE`, in id order, as admin-consumer locks
//!    the products of a batch of likes), so no like event of theirs is applied meanwhile;
//! 2. read the shop in one consistent snapshot: each product's like rows, and the like
//!    events in the shop's outbox (a like and its event commit together, so the snapshot
//!    holds both or neither);
//! 3. read which of those events the catalogue has applied (`processed_messages`, read
//!    committed: any transaction that applied one to a locked product committed before the
//!    lock was granted).
//!
//! A product's count must then be its like rows minus its events' likes not applied yet:
//! those add theirs when they arrive, after the lock (a `product_liked` event one like, a
//! `products_liked` batch from main-api's group commit its count for each product). A like committed in the shop after the
//! snapshot is neither in the rows nor applied (its event cannot have been applied before
//! the lock, which came before the snapshot), so it adds one later, as it should. Likes
//! the catalogue counted whose rows the shop no longer has (main restored from an older
//! backup) are taken off. Outbox rows are kept `OUTBOX_RETENTION_HOURS` (7 days) and
//! applied ids `PROCESSED_RETENTION_DAYS` (30), so an event older than the outbox keeps is
//! long applied; an event in a dead-letter queue counts as not applied yet (its replay adds
//! it).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use shop_runtime::lists::Change;
use shop_runtime::lists::versions::bump_version;
use sqlx::{Connection, MySqlPool, QueryBuilder};

/// A product whose catalogue count is not what the shop's likes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountDrift {
    pub id: u64,
    /// The catalogue's count.
    pub catalogue: u64,
    /// The shop's like rows.
    pub rows: u64,
    /// Of those, likes whose event the catalogue has not applied yet.
    pub in_flight: u64,
}

impl CountDrift {
    /// What the catalogue's count must be now.
    pub fn expected(&self) -> u64 {
        self.rows.saturating_sub(self.in_flight)
    }
}

impl std::fmt::Display for CountDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "product {} counts {} likes in the catalogue, the shop has {} ({} in flight): {} expected",
            self.id,
            self.catalogue,
            self.rows,
            self.in_flight,
            self.expected()
        )
    }
}

/// What a pass over the catalogue found, and set when it was asked to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub products: u64,
    pub drift: Vec<CountDrift>,
    /// Counts set (0 when only checking).
    pub set: u64,
    /// Like events the shop had committed and the catalogue not yet applied, when their
    /// batch was read: the likes that arrive while a count is set.
    pub in_flight: u64,
}

/// Compares every product's count in batches of `batch`, setting those that differ when
/// `fix` (each batch its own transaction: a repair stopped halfway keeps the batches done,
/// and the next run finds only the rest).
pub async fn pass(
    admin: &MySqlPool,
    main: &MySqlPool,
    batch: usize,
    fix: bool,
    pause: Duration,
) -> Result<Counts, sqlx::Error> {
    let mut out = Counts::default();
    let mut after = 0u64;
    loop {
        let ids: Vec<u64> =
            sqlx::query_scalar("SELECT id FROM products WHERE id > ? ORDER BY id LIMIT ?")
                .bind(after)
                .bind(batch.max(1) as u64)
                .fetch_all(admin)
                .await?;
        let (Some(&lo), Some(&hi)) = (ids.first(), ids.last()) else {
            return Ok(out);
        };
        after = hi;
        let (seen, drift, set, in_flight) =
            crate::retrying(|| one_batch(admin, main, lo, hi, fix)).await?;
        out.products += seen;
        out.in_flight += in_flight;
        out.set += set;
        out.drift.extend(drift);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

async fn one_batch(
    admin: &MySqlPool,
    main: &MySqlPool,
    lo: u64,
    hi: u64,
    fix: bool,
) -> Result<(u64, Vec<CountDrift>, u64, u64), sqlx::Error> {
    let mut a = admin.acquire().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(&mut *a)
        .await?;
    let mut tx = a.begin().await?;
    // 1. The catalogue's rows of the batch, locked.
    let locked: Vec<(u64, u64)> = sqlx::query_as(
        "SELECT id, likes FROM products WHERE id BETWEEN ? AND ? ORDER BY id FOR UPDATE",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&mut *tx)
    .await?;
    // 2. The shop's rows and like events, in one snapshot taken after the lock.
    let (rows, events) = shop_snapshot(main, lo, hi).await?;
    // 3. Which of those events the catalogue applied.
    let applied = applied(&mut tx, &events).await?;
    let mut in_flight: BTreeMap<u64, u64> = BTreeMap::new();
    for (message_id, product, likes) in &events {
        if !applied.contains(message_id) {
            *in_flight.entry(*product).or_default() += likes;
        }
    }
    let drift: Vec<CountDrift> = locked
        .iter()
        .map(|&(id, likes)| CountDrift {
            id,
            catalogue: likes,
            rows: rows.get(&id).copied().unwrap_or(0),
            in_flight: in_flight.get(&id).copied().unwrap_or(0),
        })
        .filter(|d| d.catalogue != d.expected())
        .collect();
    let mut set = 0;
    if fix && !drift.is_empty() {
        for d in &drift {
            sqlx::query("UPDATE products SET likes = ? WHERE id = ?")
                .bind(d.expected())
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
            set += 1;
        }
        bump_version(&mut tx, Change::Counts).await?;
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    let pending = in_flight.values().sum();
    Ok((locked.len() as u64, drift, set, pending))
}

/// A like event's message id, one of its products, and that product's likes in it.
type LikeEvent = (String, u64, u64);

/// Like rows by product, and the like events of the outbox, of the products `lo..=hi`, read
/// in one consistent snapshot of the shop.
async fn shop_snapshot(
    main: &MySqlPool,
    lo: u64,
    hi: u64,
) -> Result<(BTreeMap<u64, u64>, Vec<LikeEvent>), sqlx::Error> {
    let mut m = main.acquire().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *m)
        .await?;
    sqlx::query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .execute(&mut *m)
        .await?;
    let read = async {
        let rows: Vec<(u64, i64)> = sqlx::query_as(
            r#"SELECT product_id, COUNT(*) FROM product_likes
               WHERE product_id BETWEEN ? AND ? GROUP BY product_id"#,
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *m)
        .await?;
        // The outbox has no product column: a like's body is its product's id.
        let events: Vec<(String, u64)> = sqlx::query_as(
            r#"SELECT message_id, CAST(CAST(body AS CHAR) AS UNSIGNED) AS product
               FROM outbox WHERE content_type = 'product_liked'
               HAVING product BETWEEN ? AND ?"#,
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *m)
        .await?;
        let mut events: Vec<LikeEvent> = events.into_iter().map(|(m, p)| (m, p, 1)).collect();
        // A batch names its products in its body: read them all, keep the batch's.
        let batches: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT message_id, body FROM outbox WHERE content_type = 'products_liked'",
        )
        .fetch_all(&mut *m)
        .await?;
        for (message_id, body) in batches {
            let Ok(events::Event::ProductsLiked(likes)) =
                events::Event::decode("products_liked", &body)
            else {
                continue;
            };
            for like in likes.iter().filter(|l| (lo..=hi).contains(&l.id)) {
                events.push((message_id.clone(), like.id, like.count));
            }
        }
        Ok::<_, sqlx::Error>((rows, events))
    }
    .await;
    sqlx::query("COMMIT").execute(&mut *m).await?;
    let (rows, events) = read?;
    let rows = rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect();
    Ok((rows, events))
}

/// The message ids of `events` that the catalogue's processed_messages holds.
async fn applied(
    tx: &mut sqlx::MySqlConnection,
    events: &[LikeEvent],
) -> Result<HashSet<String>, sqlx::Error> {
    let mut found = HashSet::new();
    for chunk in events.chunks(1000) {
        let mut q =
            QueryBuilder::new("SELECT message_id FROM processed_messages WHERE message_id IN (");
        let mut list = q.separated(", ");
        for (id, _, _) in chunk {
            list.push_bind(id.as_str());
        }
        q.push(")");
        let ids: Vec<String> = q.build_query_scalar().fetch_all(&mut *tx).await?;
        found.extend(ids);
    }
    Ok(found)
}
