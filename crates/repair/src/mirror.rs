//! The shop's mirror against the catalogue: what differs, and applying the catalogue's
//! state where it does, under main-consumer's rules.
//!
//! The shop is read **before** the catalogue. A product live in the shop was created in the
//! catalogue before the shop saw it, so one missing from the later read of the catalogue
//! was deleted there (ids are never reused, a delete is final): the shop must tombstone it.
//! Read the other way round, a product created in between would look deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use events::ProductState;
use main_svc::db as shop;
use shop_runtime::lists::Change;
use shop_runtime::lists::versions::bump_version;
use sqlx::{FromRow, MySqlConnection, MySqlPool};

/// A product as the catalogue holds it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Catalogued {
    pub id: u64,
    pub title: String,
    pub image: String,
    pub version: u64,
}

/// A product as the shop's mirror holds it (a tombstone too).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Mirrored {
    pub id: u64,
    pub title: String,
    pub image: String,
    pub version: Option<u64>,
    pub deleted: bool,
}

/// One product on which the mirror and the catalogue disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// In the catalogue, not in the shop.
    Missing(Catalogued),
    /// In both, the shop's version older (or the same version with other fields).
    Stale {
        state: Catalogued,
        shop: Option<u64>,
    },
    /// Live in the shop, gone from the catalogue.
    Extra(u64),
    /// Deleted in the shop, live in the catalogue: a delete is final, so only an operator
    /// can decide (the catalogue was restored from before the delete?).
    DeletedInShop(u64),
    /// The shop holds a newer version than the catalogue: the catalogue went back in time
    /// (restored from an older backup); the repair leaves it to an operator.
    Ahead { id: u64, catalogue: u64, shop: u64 },
}

impl Drift {
    pub fn id(&self) -> u64 {
        match self {
            Drift::Missing(s) | Drift::Stale { state: s, .. } => s.id,
            Drift::Extra(id) | Drift::DeletedInShop(id) | Drift::Ahead { id, .. } => *id,
        }
    }

    /// The metric label of this kind of drift.
    pub fn kind(&self) -> &'static str {
        match self {
            Drift::Missing(_) => "missing",
            Drift::Stale { .. } => "stale",
            Drift::Extra(_) => "extra",
            Drift::DeletedInShop(_) => "deleted_in_shop",
            Drift::Ahead { .. } => "ahead",
        }
    }

    /// Whether the repair fixes it (the others wait for an operator).
    pub fn repairable(&self) -> bool {
        matches!(
            self,
            Drift::Missing(_) | Drift::Stale { .. } | Drift::Extra(_)
        )
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(s) => write!(
                f,
                "product {} missing from the shop (catalogue version {})",
                s.id, s.version
            ),
            Drift::Stale { state, shop } => write!(
                f,
                "product {} stale in the shop (shop version {}, catalogue version {})",
                state.id,
                shop.map_or("none".to_owned(), |v| v.to_string()),
                state.version
            ),
            Drift::Extra(id) => write!(
                f,
                "product {id} live in the shop but deleted from the catalogue"
            ),
            Drift::DeletedInShop(id) => write!(
                f,
                "product {id} deleted in the shop but live in the catalogue (left to an operator)"
            ),
            Drift::Ahead {
                id,
                catalogue,
                shop,
            } => write!(
                f,
                "product {id} newer in the shop (version {shop}) than in the catalogue \
                 (version {catalogue}): was the catalogue restored? (left to an operator)"
            ),
        }
    }
}

/// Every difference between the two sides as read (shop first, then catalogue).
pub fn diff(shop: &[Mirrored], catalogue: &[Catalogued]) -> Vec<Drift> {
    let in_shop: BTreeMap<u64, &Mirrored> = shop.iter().map(|m| (m.id, m)).collect();
    let in_catalogue: BTreeSet<u64> = catalogue.iter().map(|c| c.id).collect();
    let mut out = Vec::new();
    for c in catalogue {
        match in_shop.get(&c.id) {
            None => out.push(Drift::Missing(c.clone())),
            Some(m) if m.deleted => out.push(Drift::DeletedInShop(c.id)),
            Some(m) => match m.version {
                Some(v) if v > c.version => out.push(Drift::Ahead {
                    id: c.id,
                    catalogue: c.version,
                    shop: v,
                }),
                Some(v) if v == c.version && m.title == c.title && m.image == c.image => {}
                version => out.push(Drift::Stale {
                    state: c.clone(),
                    shop: version,
                }),
            },
        }
    }
    out.extend(
        shop.iter()
            .filter(|m| !m.deleted && !in_catalogue.contains(&m.id))
            .map(|m| Drift::Extra(m.id)),
    );
    out.sort_by_key(Drift::id);
    out
}

/// Reads both sides (the shop first) and compares them.
pub async fn read(admin: &MySqlPool, main: &MySqlPool) -> Result<Vec<Drift>, sqlx::Error> {
    let shop: Vec<Mirrored> = sqlx::query_as(
        r#"SELECT id, title, image, version, deleted_at IS NOT NULL AS deleted
           FROM products ORDER BY id"#,
    )
    .fetch_all(main)
    .await?;
    let catalogue: Vec<Catalogued> =
        sqlx::query_as(r#"SELECT id, title, image, version FROM products ORDER BY id"#)
            .fetch_all(admin)
            .await?;
    Ok(diff(&shop, &catalogue))
}

/// The differences that outlast `settle`: events in flight make a product differ for a
/// moment, so a difference counts only if, read again after `settle`, the shop has still
/// not reached what the first read saw in the catalogue.
pub async fn settled(
    admin: &MySqlPool,
    main: &MySqlPool,
    settle: Duration,
) -> Result<Vec<Drift>, sqlx::Error> {
    let first = read(admin, main).await?;
    if first.is_empty() || settle.is_zero() {
        return Ok(first);
    }
    tokio::time::sleep(settle).await;
    let before: BTreeMap<u64, Drift> = first.into_iter().map(|d| (d.id(), d)).collect();
    Ok(read(admin, main)
        .await?
        .into_iter()
        .filter(|d| match (before.get(&d.id()), d) {
            (None, _) => false,
            (Some(Drift::Stale { state, .. }), Drift::Stale { shop, .. }) => {
                shop.is_none_or(|v| v < state.version)
            }
            (Some(_), _) => true,
        })
        .collect())
}

/// What the repair did to the mirror.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    /// Already as new or newer when locked (an event came first).
    pub skipped: u64,
}

impl Applied {
    pub fn changed(&self) -> u64 {
        self.inserted + self.updated + self.deleted
    }
}

/// Applies the catalogue's side of each repairable difference, `batch` products a
/// transaction, each under the mirror row's lock and main-consumer's version rule.
pub async fn repair(
    main: &MySqlPool,
    drift: &[Drift],
    batch: usize,
    pause: Duration,
) -> Result<Applied, sqlx::Error> {
    let mut applied = Applied::default();
    let todo: Vec<&Drift> = drift.iter().filter(|d| d.repairable()).collect();
    for chunk in todo.chunks(batch.max(1)) {
        let done = crate::retrying(|| async {
            let mut tx = main.begin().await?;
            let mut done = Applied::default();
            for d in chunk {
                apply(&mut tx, d, &mut done).await?;
            }
            if done.changed() > 0 {
                bump_version(&mut tx, Change::Catalogue).await?;
            }
            tx.commit().await?;
            Ok(done)
        })
        .await?;
        applied.inserted += done.inserted;
        applied.updated += done.updated;
        applied.deleted += done.deleted;
        applied.skipped += done.skipped;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    Ok(applied)
}

async fn apply(
    tx: &mut MySqlConnection,
    drift: &Drift,
    applied: &mut Applied,
) -> Result<(), sqlx::Error> {
    let id = drift.id();
    let now: Option<Mirrored> = sqlx::query_as(
        r#"SELECT id, title, image, version, deleted_at IS NOT NULL AS deleted
           FROM products WHERE id = ? FOR UPDATE"#,
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    match (drift, now) {
        (Drift::Extra(_), Some(m)) if !m.deleted => {
            shop::tombstone(tx, id).await?;
            applied.deleted += 1;
        }
        (Drift::Missing(s) | Drift::Stale { state: s, .. }, None) => {
            shop::insert_mirror(tx, &state_of(s)).await?;
            applied.inserted += 1;
        }
        (Drift::Missing(s) | Drift::Stale { state: s, .. }, Some(m))
            if !m.deleted
                && m.version.is_none_or(|v| {
                    v < s.version
                        || (v == s.version && (&m.title, &m.image) != (&s.title, &s.image))
                }) =>
        {
            shop::update_mirror(tx, &state_of(s)).await?;
            applied.updated += 1;
        }
        _ => applied.skipped += 1,
    }
    Ok(())
}

fn state_of(c: &Catalogued) -> ProductState {
    ProductState {
        id: c.id,
        title: c.title.clone(),
        image: c.image.clone(),
        likes: 0,
        version: Some(c.version),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn c(id: u64, version: u64) -> Catalogued {
        Catalogued {
            id,
            title: format!("t{id}"),
            image: "i".into(),
            version,
        }
    }

    fn m(id: u64, version: Option<u64>, deleted: bool) -> Mirrored {
        Mirrored {
            id,
            title: format!("t{id}"),
            image: "i".into(),
            version,
            deleted,
        }
    }

    #[test]
    fn diff_names_each_kind_and_nothing_when_equal() {
        let catalogue = [c(1, 2), c(2, 1), c(3, 3), c(5, 1), c(6, 1), c(7, 1)];
        let mut changed = m(7, Some(1), false);
        changed.title = "other".into();
        let shop = [
            m(1, Some(2), false),
            m(3, Some(2), false),
            m(4, Some(1), false),
            m(5, Some(1), true),
            m(6, Some(4), false),
            changed,
            m(8, Some(1), true),
        ];
        let kinds: Vec<(u64, &str)> = diff(&shop, &catalogue)
            .iter()
            .map(|d| (d.id(), d.kind()))
            .collect();
        assert_eq!(
            kinds,
            [
                (2, "missing"),
                (3, "stale"),
                (4, "extra"),
                (5, "deleted_in_shop"),
                (6, "ahead"),
                (7, "stale")
            ]
        );
        assert!(diff(&[m(1, Some(2), false)], &[c(1, 2)]).is_empty());
    }
}
