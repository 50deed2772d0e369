//! Rolling upgrades with mixed versions (docs/operating/upgrades.md): the previous release's
//! binaries (`PREVIOUS_BIN_DIR`, built by `scripts/previous-release.sh`) beside the current
//! ones (`SHOP_BIN_DIR`, or this target directory's) on one database per service and one
//! broker, through a whole rolling upgrade and back:
//!
//! 1. all four processes of the previous release, on databases it migrated; traffic;
//! 2. the current release migrates both databases while the old APIs serve, and a write
//!    stream runs through them during the migration; everything the old APIs do still works
//!    on the new schema (reads, writes, the console's lists), and an old replica starting
//!    on the new schema does what its release promises;
//! 3. the old consumers stop, the old APIs queue events, the new consumers drain them;
//! 4. old APIs with new consumers;
//! 5. new API replicas beside the old ones (both relays, one outbox), then the old APIs
//!    stop: new APIs with new consumers;
//! 6. new APIs with the old consumers (a consumer rollback: main-api writes single like
//!    events meanwhile, `LIKE_EVENTS=single`), then the new consumers again;
//!
//! and at the end, counted: every accepted write's effect is there once, nothing lost and
//! nothing doubled (each service's outbox rows are the other's processed message ids, the
//! like counts are the accepted likes, no dead letter, no message left).
//!
//! Skipped, saying so, when `PREVIOUS_BIN_DIR` is unset, so that a plain `cargo test` passes;
//! `scripts/upgrade-check.sh` sets it.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;
use testkit::service::run_args_to_exit;
use testkit::{
    Proc, Service, ShopClient, ShopStack, amqp_url, binary_in, eventually, workspace_binary,
};

const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    Old,
    New,
}

fn previous_bin_dir() -> Option<PathBuf> {
    std::env::var_os("PREVIOUS_BIN_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// What the test expects of one product.
#[derive(Debug, Clone)]
struct Expected {
    title: String,
    deleted: bool,
    /// Likes answered 200.
    likes: u64,
    /// Created in a round that is over: the mirror has it (liked only then).
    settled: bool,
    /// Deleted in the next round (and never liked, so that no like races its delete).
    doomed: bool,
}

/// The previous and the current release's processes on one stack's databases and queues.
struct Upgrade {
    /// Prepared only: its databases, users, queues and each process's environment; the
    /// processes are ours.
    stack: ShopStack,
    old_dir: PathBuf,
    running: Vec<(Proc, Release, Service)>,
    token: String,
    products: BTreeMap<u64, Expected>,
    rounds: u32,
}

impl Upgrade {
    fn binary(&self, p: Proc, r: Release) -> String {
        match r {
            Release::Old => binary_in(&self.old_dir, p.binary()),
            Release::New => workspace_binary(p.binary()),
        }
    }

    async fn start(&mut self, p: Proc, r: Release) {
        self.start_with(p, r, &[]).await;
    }

    /// [`Self::start`] with `extra` settings over the stack's.
    async fn start_with(&mut self, p: Proc, r: Release, extra: &[(&str, &str)]) {
        let mut env = self.stack.env(p).clone();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let svc = Service::spawn(&self.binary(p, r), &env, p.health_path()).await;
        svc.wait_healthy(p.health_path(), WAIT).await;
        self.running.push((p, r, svc));
    }

    /// SIGTERM to `p` of release `r`; it must exit 0.
    async fn stop(&mut self, p: Proc, r: Release) {
        let i = self
            .running
            .iter()
            .position(|(q, s, _)| *q == p && *s == r)
            .unwrap_or_else(|| panic!("no {r:?} {} running", p.binary()));
        let (_, _, svc) = self.running.remove(i);
        assert_eq!(
            svc.terminate().await,
            Some(0),
            "{r:?} {} exits 0",
            p.binary()
        );
    }

    fn svc(&self, p: Proc, r: Release) -> &Service {
        self.running
            .iter()
            .find(|(q, s, _)| *q == p && *s == r)
            .map(|(_, _, svc)| svc)
            .unwrap_or_else(|| panic!("no {r:?} {} running", p.binary()))
    }

    /// A client of release `r`'s two APIs.
    fn client(&self, r: Release) -> ShopClient {
        ShopClient::new(
            self.svc(Proc::AdminApi, r).base_url.clone(),
            self.svc(Proc::MainApi, r).base_url.clone(),
            Some(self.token.clone()),
        )
    }

    /// A round of writes through `client`: three products created (the third doomed: it is
    /// updated now and deleted in the next round), the first product of an earlier round
    /// still alive renamed, the last round's doomed one deleted, and one like by a new
    /// shopper of each settled product (at most four), a second like of one refused.
    async fn round(&mut self, client: &ShopClient) {
        self.rounds += 1;
        let n = self.rounds;
        let doomed: Vec<u64> = self
            .products
            .iter()
            .filter(|(_, e)| e.doomed && !e.deleted)
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            client.delete(id).await;
            self.products.get_mut(&id).unwrap().deleted = true;
        }
        if let Some((&id, e)) = self
            .products
            .iter_mut()
            .find(|(_, e)| e.settled && !e.deleted && !e.doomed)
        {
            e.title = format!("{} r{n}", e.title);
            assert_eq!(
                client.update(id, &e.title, "/renamed.png").await,
                StatusCode::ACCEPTED
            );
        }
        let likeable: Vec<u64> = self
            .products
            .iter()
            .filter(|(_, e)| e.settled && !e.deleted && !e.doomed)
            .map(|(id, _)| *id)
            .rev()
            .take(4)
            .collect();
        for (i, id) in likeable.iter().enumerate() {
            let mut jar = None;
            assert_eq!(
                client.like(*id, &mut jar).await,
                StatusCode::OK,
                "like {id}"
            );
            self.products.get_mut(id).unwrap().likes += 1;
            if i == 0 {
                assert_eq!(
                    client.like(*id, &mut jar).await,
                    StatusCode::BAD_REQUEST,
                    "already liked"
                );
            }
        }
        for i in 0..3 {
            let title = format!("Round {n} product {i}");
            let id = client.create(&title, "/p.png").await;
            let mut e = Expected {
                title,
                deleted: false,
                likes: 0,
                settled: false,
                doomed: i == 2,
            };
            if e.doomed {
                e.title = format!("{} doomed", e.title);
                assert_eq!(
                    client.update(id, &e.title, "/d.png").await,
                    StatusCode::ACCEPTED
                );
            }
            self.products.insert(id, e);
        }
    }

    /// Waits until both APIs behind `client` show every product as expected: the catalogue
    /// its title and its likes, the shop's mirror its title (a deleted one in neither);
    /// then every product counts as settled.
    async fn converge(&mut self, client: &ShopClient) {
        let expected = self.products.clone();
        eventually(
            WAIT,
            "the catalogue and the mirror agree with the writes",
            || {
                let (client, expected) = (client.clone(), expected.clone());
                async move { check_lists(&client, &expected).await }
            },
        )
        .await;
        for e in self.products.values_mut() {
            e.settled = true;
        }
    }
}

async fn check_lists(
    client: &ShopClient,
    expected: &BTreeMap<u64, Expected>,
) -> Result<(), String> {
    let catalogue: HashMap<u64, Value> = by_id(client.catalogue().await);
    let shop: HashMap<u64, Value> = by_id(client.shop().await);
    for (id, e) in expected {
        let (in_catalogue, in_shop) = (catalogue.get(id), shop.get(id));
        if e.deleted {
            if in_catalogue.is_some() || in_shop.is_some() {
                return Err(format!("{id} deleted, still listed"));
            }
            continue;
        }
        let Some(c) = in_catalogue else {
            return Err(format!("{id} not in the catalogue"));
        };
        if c["title"] != e.title.as_str() || c["likes"] != e.likes {
            return Err(format!("catalogue {c}, expected {e:?}"));
        }
        match in_shop {
            Some(s) if s["title"] == e.title.as_str() => {}
            other => return Err(format!("shop {other:?}, expected {e:?}")),
        }
    }
    Ok(())
}

fn by_id(list: Vec<Value>) -> HashMap<u64, Value> {
    list.into_iter()
        .map(|p| (p["id"].as_u64().unwrap(), p))
        .collect()
}

async fn applied_versions(db: &testkit::TestDatabase) -> Vec<i64> {
    let mut conn = db.connect().await;
    let versions = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    versions
}

async fn count(db: &testkit::TestDatabase, sql: &str) -> i64 {
    let mut conn = db.connect().await;
    let n = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    n
}

/// Every route an admin or a shopper reads, through release `r`'s APIs: each answers 200.
async fn reads_answer(up: &Upgrade, r: Release) {
    let client = up.client(r);
    let some = *up.products.keys().next().unwrap();
    let admin = &client.admin;
    let main = &client.main;
    for url in [
        format!("{admin}/api/products"),
        format!("{admin}/api/products?q=Round"),
        format!("{admin}/api/products/{some}"),
        format!("{admin}/api/products/{some}/history"),
        format!("{admin}/api/audit"),
        format!("{admin}/api/tokens"),
        format!("{admin}/api/admins"),
        format!("{main}/flask/api/products"),
        format!("{main}/flask/api/likes"),
    ] {
        let res = client.http.get(&url).send().await.unwrap();
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "{r:?} GET {url}: {}",
            res.text().await.unwrap()
        );
    }
}

#[tokio::test]
async fn a_rolling_upgrade_with_mixed_versions_loses_and_doubles_nothing() {
    let Some(old_dir) = previous_bin_dir() else {
        eprintln!(
            "SKIPPED: PREVIOUS_BIN_DIR is unset; it names the previous release's binaries \
             (PREVIOUS_BIN_DIR=$(scripts/previous-release.sh), as scripts/upgrade-check.sh does)"
        );
        return;
    };
    let started = Instant::now();
    let stack = ShopStack::prepare(&amqp_url(), HashMap::new()).await;
    let mut up = Upgrade {
        stack,
        old_dir,
        running: Vec::new(),
        token: String::new(),
        products: BTreeMap::new(),
        rounds: 0,
    };
    use Release::{New, Old};

    // 1. The previous release, whole, on databases it migrated.
    for p in [
        Proc::AdminApi,
        Proc::MainApi,
        Proc::AdminConsumer,
        Proc::MainConsumer,
    ] {
        up.start(p, Old).await;
    }
    up.token = testkit::admin_token_of(
        &up.binary(Proc::AdminApi, Old),
        up.stack.env(Proc::AdminApi),
    )
    .await;
    let old = up.client(Old);
    up.round(&old).await;
    up.converge(&old).await;
    up.round(&old).await;
    up.converge(&old).await;
    let old_versions = (
        applied_versions(&up.stack.admin_db).await,
        applied_versions(&up.stack.main_db).await,
    );

    // 2. The current release migrates both databases while the old APIs serve writes.
    let writes = {
        let client = old.clone();
        tokio::spawn(async move {
            let mut n = 0;
            let stop = Instant::now() + Duration::from_secs(3);
            while Instant::now() < stop {
                client
                    .create(&format!("During migration {n}"), "/m.png")
                    .await;
                n += 1;
            }
            n
        })
    };
    for p in [Proc::AdminApi, Proc::MainApi] {
        let (code, out) = run_args_to_exit(
            &up.binary(p, New),
            &["migrate"],
            up.stack.env(p),
            Duration::from_secs(120),
        )
        .await;
        assert_eq!(code, Some(0), "the new {} migrate: {out}", p.binary());
    }
    let during = writes.await.unwrap();
    assert!(during > 0, "writes went on during the migration");
    // The products written during the migration are in the count: expected like any other.
    for p in old.catalogue().await {
        let id = p["id"].as_u64().unwrap();
        up.products.entry(id).or_insert_with(|| Expected {
            title: p["title"].as_str().unwrap().to_owned(),
            deleted: false,
            likes: 0,
            settled: false,
            doomed: false,
        });
    }
    let newer = (
        new_versions(&old_versions.0, &applied_versions(&up.stack.admin_db).await),
        new_versions(&old_versions.1, &applied_versions(&up.stack.main_db).await),
    );
    eprintln!(
        "migrations the new release added: admin {:?}, main {:?}",
        newer.0, newer.1
    );
    up.round(&old).await;
    up.converge(&old).await;
    reads_answer(&up, Old).await;
    old_replica_on_the_new_schema(&up, newer.0.is_empty(), newer.1.is_empty()).await;

    // 3. Old events queued with no consumer, drained by the new consumers.
    up.stop(Proc::AdminConsumer, Old).await;
    up.stop(Proc::MainConsumer, Old).await;
    up.round(&old).await;
    let broker = up.stack.broker().await;
    for q in [&up.stack.main_queue, &up.stack.admin_queue] {
        eventually(WAIT, &format!("old events queued on {q}"), || async {
            match broker.counts(q).await {
                Ok((messages, 0)) if messages > 0 => Ok(messages),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    }
    up.start(Proc::AdminConsumer, New).await;
    up.start(Proc::MainConsumer, New).await;
    up.converge(&old).await;

    // 4. Old APIs, new consumers.
    up.round(&old).await;
    up.converge(&old).await;

    // 5. New API replicas beside the old ones, both serving; then the old ones stop.
    up.start(Proc::AdminApi, New).await;
    up.start(Proc::MainApi, New).await;
    let new = up.client(New);
    up.round(&old).await;
    up.round(&new).await;
    up.converge(&new).await;
    up.converge(&old).await;
    up.stop(Proc::AdminApi, Old).await;
    up.stop(Proc::MainApi, Old).await;
    up.round(&new).await;
    up.converge(&new).await;

    // 6. New APIs, old consumers (a consumer rollback); then the new ones again. The old
    // admin-consumer does not know main-api's batch of likes (`products_liked`): as
    // docs/operating/upgrades.md says, main-api first goes back to the single
    // `product_liked` events (LIKE_EVENTS=single), and to batches after the new consumers.
    up.stop(Proc::MainApi, New).await;
    up.start_with(Proc::MainApi, New, &[("LIKE_EVENTS", "single")])
        .await;
    // A process started again listens on another port.
    let new = up.client(New);
    // The batches already written are applied by the new admin-consumer before it goes.
    up.converge(&new).await;
    up.stop(Proc::AdminConsumer, New).await;
    up.stop(Proc::MainConsumer, New).await;
    up.start(Proc::AdminConsumer, Old).await;
    up.start(Proc::MainConsumer, Old).await;
    up.round(&new).await;
    up.converge(&new).await;
    up.stop(Proc::AdminConsumer, Old).await;
    up.stop(Proc::MainConsumer, Old).await;
    up.start(Proc::AdminConsumer, New).await;
    up.start(Proc::MainConsumer, New).await;
    up.stop(Proc::MainApi, New).await;
    up.start(Proc::MainApi, New).await;
    let new = up.client(New);
    up.round(&new).await;
    up.converge(&new).await;
    reads_answer(&up, New).await;

    // The count: nothing lost, nothing doubled.
    let (admin_db, main_db) = (&up.stack.admin_db, &up.stack.main_db);
    let admin_events = count(admin_db, "SELECT COUNT(*) FROM outbox").await;
    let main_events = count(main_db, "SELECT COUNT(*) FROM outbox").await;
    eventually(WAIT, "every event published and applied", || async {
        let unpublished = count(
            admin_db,
            "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL",
        )
        .await
            + count(
                main_db,
                "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL",
            )
            .await;
        let applied = (
            count(main_db, "SELECT COUNT(*) FROM processed_messages").await,
            count(admin_db, "SELECT COUNT(*) FROM processed_messages").await,
        );
        if unpublished == 0 && applied == (admin_events, main_events) {
            Ok(())
        } else {
            Err(format!(
                "{unpublished} unpublished; applied {applied:?} of ({admin_events}, {main_events})"
            ))
        }
    })
    .await;
    // Each published message id is applied exactly once: the ids match, row for row.
    let unmatched = count(
        main_db,
        &format!(
            "SELECT COUNT(*) FROM processed_messages p LEFT JOIN `{}`.outbox o \
             ON o.message_id = p.message_id WHERE o.message_id IS NULL",
            admin_db.name
        ),
    )
    .await;
    assert_eq!(
        unmatched, 0,
        "main applied message ids admin never published"
    );
    let accepted_likes: u64 = up.products.values().map(|e| e.likes).sum();
    let counted_likes = count(
        admin_db,
        "SELECT CAST(COALESCE(SUM(likes), 0) AS SIGNED) FROM products",
    )
    .await;
    assert_eq!(
        counted_likes, accepted_likes as i64,
        "like counts are the accepted likes"
    );
    let mirrored = count(main_db, "SELECT COUNT(*) FROM products").await;
    assert_eq!(
        mirrored,
        up.products.len() as i64,
        "one mirror row per product created"
    );
    let like_rows = count(main_db, "SELECT COUNT(*) FROM product_likes").await;
    assert_eq!(
        like_rows, accepted_likes as i64,
        "one like row per accepted like"
    );
    for q in [&up.stack.main_queue, &up.stack.admin_queue] {
        let (left, _) = broker.counts(q).await.unwrap();
        assert_eq!(left, 0, "nothing left on {q}");
        let dead = shop_runtime::amqp::dead_letter_queue(q);
        let (dead_letters, _) = broker.counts(&dead).await.unwrap();
        assert_eq!(dead_letters, 0, "nothing dead-lettered on {dead}");
    }
    eprintln!(
        "upgrade measured: {} products ({} deleted), {} likes, {} written during the migration; \
         {admin_events} product events published and applied once, {main_events} like events \
         published and applied once; 0 lost, 0 duplicated, 0 dead-lettered; {:.0} s",
        up.products.len(),
        up.products.values().filter(|e| e.deleted).count(),
        accepted_likes,
        during,
        started.elapsed().as_secs_f64()
    );

    for (p, r, svc) in std::mem::take(&mut up.running) {
        assert_eq!(
            svc.terminate().await,
            Some(0),
            "{r:?} {} exits 0",
            p.binary()
        );
    }
    up.stack.stop().await;
}

fn new_versions(before: &[i64], after: &[i64]) -> Vec<i64> {
    after
        .iter()
        .filter(|v| !before.contains(v))
        .copied()
        .collect()
}

/// Releases whose APIs exit at start on a schema with a migration they do not know (sqlx's
/// `VersionMissing`): they came before the tolerance (docs/operating/upgrades.md). Their
/// running replicas keep serving; a restarted one does not start until the rollout ends.
const INTOLERANT: [&str; 1] = ["v0.1.0"];

/// An old API replica started after the new release migrated: it serves (its `migrate`
/// exits 0, then it starts healthy) when the new release added no migration to its database
/// or the old release tolerates newer ones; a release in [`INTOLERANT`] refuses the newer
/// schema, saying which migration it lacks.
async fn old_replica_on_the_new_schema(up: &Upgrade, admin_same: bool, main_same: bool) {
    let release = std::fs::read_to_string(up.old_dir.join("release.txt")).unwrap_or_default();
    let release = release.split_whitespace().next().unwrap_or("?").to_owned();
    let intolerant = INTOLERANT.contains(&release.as_str());
    for (p, same_schema) in [(Proc::AdminApi, admin_same), (Proc::MainApi, main_same)] {
        let old = up.binary(p, Release::Old);
        let (code, out) = run_args_to_exit(
            &old,
            &["migrate"],
            up.stack.env(p),
            Duration::from_secs(120),
        )
        .await;
        if same_schema || !intolerant {
            assert_eq!(
                code,
                Some(0),
                "an old {} on the new schema: {out}",
                p.binary()
            );
            let svc = Service::spawn(&old, up.stack.env(p), p.health_path()).await;
            svc.wait_healthy(p.health_path(), WAIT).await;
            assert_eq!(svc.terminate().await, Some(0));
            eprintln!(
                "{release}: an old {} replica starts on the new schema",
                p.binary()
            );
        } else {
            assert_ne!(code, Some(0), "{release} refuses the newer schema: {out}");
            assert!(out.contains("previously applied but is missing"), "{out}");
            eprintln!(
                "{release}: an old {} refuses the newer schema at start, as known",
                p.binary()
            );
        }
    }
}
