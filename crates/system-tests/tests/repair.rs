//! Disaster recovery end to end (docs/operating/backup-and-repair.md): the four processes,
//! a real backup of both databases (`scripts/backup.sh`, mariadb-dump
//! --single-transaction), 100 writes, main's database restored from the backup
//! (`scripts/restore.sh`), the drift check finding what the restore lost, the repair run
//! while a bounded load keeps creating products and liking them, then every product and
//! every count compared with what the load was answered. Then a second repair that changes
//! nothing, a repair killed halfway and run again, and the refusals.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sqlx::MySqlConnection;
use testkit::{Proc, ShopClient, ShopStack, eventually, workspace_binary};

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

/// Runs a script of scripts/ against the test's MariaDB; (exit code, what it printed).
async fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let addr = testkit::mysql_addr();
    let out = tokio::process::Command::new(scripts().join(name))
        .args(args)
        .env("MARIADB_HOST", addr.ip().to_string())
        .env("MARIADB_PORT", addr.port().to_string())
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), printed)
}

/// shop-repair with the two consumers' users (the rights the docs tell operators to use).
fn repair_env(stack: &ShopStack) -> HashMap<String, String> {
    HashMap::from([
        (
            "ADMIN_DATABASE_URL".to_owned(),
            stack.admin_users.consumer.url(&stack.admin_db.name),
        ),
        (
            "MAIN_DATABASE_URL".to_owned(),
            stack.main_users.consumer.url(&stack.main_db.name),
        ),
    ])
}

async fn shop_repair(env: &HashMap<String, String>, args: &[&str]) -> (Option<i32>, String) {
    let (code, out) = testkit::service::run_args_to_exit(
        &workspace_binary("shop-repair"),
        args,
        env,
        Duration::from_secs(120),
    )
    .await;
    eprintln!("shop-repair {args:?} -> {code:?}\n{out}");
    (code, out)
}

/// Each product's like rows in the shop.
async fn like_rows(main: &mut MySqlConnection) -> BTreeMap<u64, u64> {
    let rows: Vec<(u64, i64)> =
        sqlx::query_as("SELECT product_id, COUNT(*) FROM product_likes GROUP BY product_id")
            .fetch_all(main)
            .await
            .unwrap();
    rows.into_iter().map(|(p, n)| (p, n as u64)).collect()
}

/// The catalogue: id -> (title, image, likes).
async fn catalogue(admin: &mut MySqlConnection) -> BTreeMap<u64, (String, String, u64)> {
    let rows: Vec<(u64, String, String, u64)> =
        sqlx::query_as("SELECT id, title, image, likes FROM products")
            .fetch_all(admin)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(i, t, m, l)| (i, (t, m, l)))
        .collect()
}

/// The shop's live mirror: id -> (title, image).
async fn mirror(main: &mut MySqlConnection) -> BTreeMap<u64, (String, String)> {
    let rows: Vec<(u64, String, String)> =
        sqlx::query_as("SELECT id, title, image FROM products WHERE deleted_at IS NULL")
            .fetch_all(main)
            .await
            .unwrap();
    rows.into_iter().map(|(i, t, m)| (i, (t, m))).collect()
}

/// Whether the mirror shows the catalogue and each count equals the shop's like rows.
async fn converged(stack: &ShopStack) -> Result<(), String> {
    let (mut admin, mut main) = (
        stack.admin_db.connect().await,
        stack.main_db.connect().await,
    );
    let cat = catalogue(&mut admin).await;
    let rows = like_rows(&mut main).await;
    let shown: BTreeMap<u64, (String, String)> = cat
        .iter()
        .map(|(i, (t, m, _))| (*i, (t.clone(), m.clone())))
        .collect();
    if mirror(&mut main).await != shown {
        return Err("mirror differs".into());
    }
    for (id, (_, _, likes)) in &cat {
        let want = rows.get(id).copied().unwrap_or(0);
        if *likes != want {
            return Err(format!("product {id}: {likes} likes, {want} rows"));
        }
    }
    Ok(())
}

/// Creates and likes, each like by a new shopper: (likes answered 200 by product, creates).
async fn load(client: ShopClient, mut live: Vec<u64>, ops: usize) -> (BTreeMap<u64, u64>, usize) {
    let mut liked = BTreeMap::new();
    let mut created = 0;
    for i in 0..ops {
        if i % 5 == 0 {
            live.push(
                client
                    .create(&format!("load {i}"), "https://example.com/l.png")
                    .await,
            );
            created += 1;
        } else {
            let id = live[(i * 7) % live.len()];
            if client.like(id, &mut None).await == StatusCode::OK {
                *liked.entry(id).or_default() += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    (liked, created)
}

#[tokio::test]
async fn main_restored_from_an_older_backup_is_repaired_under_load() {
    let overrides = HashMap::from([(
        Proc::MainApi,
        vec![("LIKES_PER_MINUTE_PER_ADDRESS", "1000000".to_owned())],
    )]);
    let mut stack = ShopStack::start(&testkit::amqp_url(), overrides).await;
    let c = stack.client.clone();
    let env = repair_env(&stack);
    let (admin_db, main_db) = (stack.admin_db.name.clone(), stack.main_db.name.clone());

    // Before the backup: 20 products, 40 likes.
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            c.create(&format!("before {i}"), "https://example.com/b.png")
                .await,
        );
    }
    eventually(testkit::WAIT, "the shop shows 20 products", || async {
        testkit::seen(c.shop().await.len(), |n| *n == 20)
    })
    .await;
    for i in 0..40 {
        assert_eq!(c.like(ids[i % 20], &mut None).await, StatusCode::OK);
    }
    eventually(testkit::WAIT, "converged before the backup", || {
        converged(&stack)
    })
    .await;
    let in_backup = like_rows(&mut stack.main_db.connect().await).await;

    let dir = std::env::temp_dir().join(testkit::unique("shop-backup"));
    let dir_s = dir.to_str().unwrap();
    let (code, out) = script(
        "backup.sh",
        &[dir_s],
        &[("ADMIN_DB", &admin_db), ("MAIN_DB", &main_db)],
    )
    .await;
    assert_eq!(code, Some(0), "backup: {out}");
    let main_dump = dir.join(format!("{main_db}.sql.gz"));

    // 100 writes after it: 30 creates, 25 updates, 15 deletes, 30 likes.
    let mut after = Vec::new();
    for i in 0..30 {
        after.push(
            c.create(&format!("after {i}"), "https://example.com/a.png")
                .await,
        );
    }
    for (i, id) in ids.iter().chain(&after).take(25).enumerate() {
        assert_eq!(
            c.update(*id, &format!("changed {i}"), "https://example.com/c.png")
                .await,
            StatusCode::ACCEPTED
        );
    }
    for id in ids[10..15].iter().chain(&after[20..30]) {
        c.delete(*id).await;
    }
    let live: Vec<u64> = ids[..10]
        .iter()
        .chain(&ids[15..])
        .chain(&after[..20])
        .copied()
        .collect();
    for i in 0..30 {
        assert_eq!(
            c.like(live[i % live.len()], &mut None).await,
            StatusCode::OK
        );
    }
    eventually(testkit::WAIT, "converged after 100 writes", || {
        converged(&stack)
    })
    .await;

    // A restore into the wrong database is refused and changes nothing.
    let (code, out) = script(
        "restore.sh",
        &[main_dump.to_str().unwrap(), &admin_db, "--replace"],
        &[],
    )
    .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("refusing"), "{out}");
    let (code, out) = script(
        "restore.sh",
        &[main_dump.to_str().unwrap(), &admin_db, "--replace"],
        &[("RESTORE_AS", &main_db)],
    )
    .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("the catalogue's tables"), "{out}");
    converged(&stack).await.unwrap();

    // Main's database restored from the backup, its processes stopped meanwhile.
    stack.kill(Proc::MainApi).await;
    stack.kill(Proc::MainConsumer).await;
    let (code, out) = script(
        "restore.sh",
        &[main_dump.to_str().unwrap(), &main_db, "--replace"],
        &[],
    )
    .await;
    assert_eq!(code, Some(0), "restore: {out}");
    stack.respawn(Proc::MainApi).await;
    stack.respawn(Proc::MainConsumer).await;
    let c = ShopClient::new(
        c.admin.clone(),
        stack.svc(Proc::MainApi).base_url.clone(),
        c.token.clone(),
    );
    assert_eq!(
        like_rows(&mut stack.main_db.connect().await).await,
        in_backup
    );

    // The drift check sees it: 20 created products missing, 5 deleted ones still live, 25
    // stale, and every count the 30 lost likes touched.
    let (code, drift) = shop_repair(&env, &["drift", "--settle-ms", "500"]).await;
    assert_eq!(code, Some(1), "{drift}");
    assert_eq!(
        drift.matches("missing from the shop").count(),
        20,
        "{drift}"
    );
    assert_eq!(
        drift.matches("deleted from the catalogue").count(),
        5,
        "{drift}"
    );
    assert_eq!(drift.matches("stale in the shop").count(), 15, "{drift}");
    assert!(drift.contains("counts: product"), "{drift}");

    // The same drift as metrics, from `shop-repair watch`.
    let port = testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut watch = testkit::service::command(&workspace_binary("shop-repair"), &env)
        .args([
            "watch",
            "--listen",
            &listen,
            "--every-secs",
            "1",
            "--settle-ms",
            "300",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = eventually(testkit::WAIT, "the watch's first check", || async {
        let text = c
            .http
            .get(format!("http://{listen}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("catalogue_drift_check_success 1")
            .then_some(text)
    })
    .await;
    assert!(
        metrics.contains("catalogue_drift_products{kind=\"missing\"} 20"),
        "{metrics}"
    );
    assert!(
        metrics.contains("catalogue_drift_products{kind=\"extra\"} 5"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("catalogue_drift_like_counts 0"),
        "{metrics}"
    );
    watch.kill().await.unwrap();

    // Refusals: a database that does not exist, the two swapped, the audit log.
    let mut wrong = env.clone();
    wrong.insert(
        "MAIN_DATABASE_URL".into(),
        stack.main_users.consumer.url(&format!("{main_db}x")),
    );
    let (code, out) = shop_repair(&wrong, &["repair"]).await;
    assert_eq!(
        (code, out.contains("does not exist")),
        (Some(2), true),
        "{out}"
    );
    let root = |db: &str| format!("{}/{db}", testkit::mysql_server_url());
    let swapped = HashMap::from([
        ("ADMIN_DATABASE_URL".to_owned(), root(&main_db)),
        ("MAIN_DATABASE_URL".to_owned(), root(&admin_db)),
    ]);
    let (code, out) = shop_repair(&swapped, &["repair"]).await;
    assert_eq!((code, out.contains("refusing")), (Some(2), true), "{out}");
    let audit = HashMap::from([
        (
            "ADMIN_DATABASE_URL".to_owned(),
            root(&format!("{admin_db}_audit")),
        ),
        ("MAIN_DATABASE_URL".to_owned(), root(&main_db)),
    ]);
    let (code, out) = shop_repair(&audit, &["repair"]).await;
    assert_eq!((code, out.contains("refusing")), (Some(2), true), "{out}");
    let (code, again) = shop_repair(&env, &["drift", "--settle-ms", "500"]).await;
    assert_eq!(
        (code, again.lines().count()),
        (Some(1), drift.lines().count()),
        "refusals changed nothing"
    );

    // The repair while a bounded load creates and likes.
    // Two loaders. admin-consumer is stopped while the first repair runs, so that every
    // batch of counts finds like events committed in the shop and not yet applied (the
    // likes that must not be counted twice); then a second repair runs with admin-consumer
    // started again, applying that backlog and the load's likes under its locks.
    let loaders = [
        tokio::spawn(load(c.clone(), live.clone(), 200)),
        tokio::spawn(load(c.clone(), live[..8].to_vec(), 200)),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.kill(Proc::AdminConsumer).await;
    let started = Instant::now();
    let repair = ["repair", "--settle-ms", "1000", "--batch", "3"];
    let (code, out) = shop_repair(&env, &repair).await;
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{out}");
    let in_flight: u64 = out
        .split(" likes in flight accounted for")
        .next()
        .and_then(|s| s.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(in_flight > 0, "the repair met likes in flight: {out}");
    stack.respawn(Proc::AdminConsumer).await;
    let (code, out) = shop_repair(&env, &["repair", "--settle-ms", "0", "--batch", "1"]).await;
    assert_eq!(code, Some(0), "{out}");
    let (mut liked, mut created) = (BTreeMap::new(), 0);
    for loader in loaders {
        let (l, n) = loader.await.unwrap();
        for (id, k) in l {
            *liked.entry(id).or_default() += k;
        }
        created += n;
    }
    eventually(testkit::WAIT, "converged after the repair", || {
        converged(&stack)
    })
    .await;
    let (code, out) = shop_repair(&env, &["drift"]).await;
    assert_eq!(code, Some(0), "{out}");

    // Nothing lost, nothing doubled: each live product's likes are those of the backup plus
    // those the load was answered 200 for (the 30 likes made after the backup went with it).
    let (mut admin, mut main) = (
        stack.admin_db.connect().await,
        stack.main_db.connect().await,
    );
    let cat = catalogue(&mut admin).await;
    let rows = like_rows(&mut main).await;
    let (mut lost, mut doubled, mut answered) = (0, 0, 0);
    for (id, (_, _, likes)) in &cat {
        let want = in_backup.get(id).copied().unwrap_or(0) + liked.get(id).copied().unwrap_or(0);
        answered += liked.get(id).copied().unwrap_or(0);
        let have = rows.get(id).copied().unwrap_or(0);
        assert_eq!(*likes, have, "product {id}: catalogue and shop");
        lost += want.saturating_sub(have);
        doubled += have.saturating_sub(want);
    }
    let total: u64 = cat.values().map(|p| p.2).sum();
    eventually(testkit::WAIT, "the shop shows the counts", || async {
        let shown: u64 = c
            .shop()
            .await
            .iter()
            .map(|p| p["likes"].as_u64().unwrap())
            .sum();
        testkit::seen(shown, |n| *n == total)
    })
    .await;
    eprintln!(
        "repair under load: {:.2} s, {in_flight} likes in flight accounted for; load: {created} creates, {answered} likes answered 200; lost {lost}, doubled {doubled}",
        took.as_secs_f64()
    );
    assert_eq!((lost, doubled), (0, 0));

    // Run again, it changes nothing.
    let (code, out) = shop_repair(&env, &["repair"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("changed 0"), "{out}");

    // Killed halfway, then run again: converges.
    sqlx::raw_sql("UPDATE products SET likes = likes + 3")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::raw_sql("UPDATE products SET title = 'old', version = 0 WHERE deleted_at IS NULL ORDER BY id LIMIT 6")
        .execute(&mut main)
        .await
        .unwrap();
    let mut child = testkit::service::command(&workspace_binary("shop-repair"), &env)
        .args([
            "repair",
            "--settle-ms",
            "0",
            "--batch",
            "1",
            "--pause-ms",
            "200",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once it has set a few counts (one product every 200 ms: the rest take seconds).
    eventually(testkit::WAIT, "the repair setting counts", || async {
        let cat = catalogue(&mut stack.admin_db.connect().await).await;
        let rows = like_rows(&mut stack.main_db.connect().await).await;
        let set = cat
            .iter()
            .filter(|(id, p)| p.2 == rows.get(*id).copied().unwrap_or(0))
            .count();
        testkit::seen(set, |n| *n >= 2)
    })
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the repair still ran when killed"
    );
    child.kill().await.unwrap();
    let (code, out) = shop_repair(&env, &["drift", "--settle-ms", "0"]).await;
    assert_eq!(code, Some(1), "{out}");
    let left = out.matches("counts: product").count();
    assert!(
        left > 0 && left < cat.len(),
        "killed halfway: {left} of {} counts left\n{out}",
        cat.len()
    );
    let (code, out) = shop_repair(&env, &["repair"]).await;
    assert_eq!(code, Some(0), "{out}");
    converged(&stack).await.unwrap();
    let (code, out) = shop_repair(&env, &["drift"]).await;
    assert_eq!(code, Some(0), "{out}");

    // A catalogue whose next id the shop already knows (as after the catalogue's restore):
    // the repair refuses rather than tombstone the shop's newer products.
    let top = *cat.keys().max().unwrap();
    sqlx::raw_sql(&format!(
        "DELETE FROM products WHERE id = {top}; ALTER TABLE products AUTO_INCREMENT = 1"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let (code, out) = shop_repair(&env, &["repair"]).await;
    assert_eq!(
        (code, out.contains("AUTO_INCREMENT")),
        (Some(2), true),
        "{out}"
    );
    let (code, out) = shop_repair(&env, &["drift"]).await;
    assert_eq!((code, out.contains("ids: ")), (Some(1), true), "{out}");
    assert!(
        mirror(&mut main).await.contains_key(&top),
        "the refused repair changed nothing"
    );

    let _ = std::fs::remove_dir_all(&dir);
    stack.stop().await;
}
