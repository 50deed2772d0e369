//! MariaDB's single-row commit rate on this machine: 16 connections each doing autocommit
//! single-row `INSERT`s into a scratch table for 5 s (in a database of its own, dropped at
//! the end). This is the ceiling for anything that must commit once per request, such as
//! a like. Prints `commits/s N`.
//!
//! `DATABASE_URL=mysql://root@127.0.0.1:3306/mysql db_commit_rate [CONNECTIONS] [SECONDS]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};

#[tokio::main]
async fn main() -> Result<(), sqlx::Error> {
    let mut args = std::env::args().skip(1);
    let connections: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned());
    let server: MySqlConnectOptions = url.parse()?;
    let database = format!("bench_commit_rate_{}", std::process::id());

    let mut admin = MySqlConnection::connect_with(&server).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE `{database}`"))
        .execute(&mut admin)
        .await?;
    let result = measure(&server, &database, connections, seconds).await;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{database}`"))
        .execute(&mut admin)
        .await?;
    let (commits, elapsed) = result?;
    println!(
        "commits/s {:.0}  ({commits} single-row commits from {connections} connections in {:.2} s)",
        commits as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    Ok(())
}

async fn measure(
    server: &MySqlConnectOptions,
    database: &str,
    connections: usize,
    seconds: u64,
) -> Result<(u64, Duration), sqlx::Error> {
    let options = server.clone().database(database);
    let mut first = MySqlConnection::connect_with(&options).await?;
    sqlx::raw_sql(
        "CREATE TABLE t (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, \
         v CHAR(36) NOT NULL) ENGINE = InnoDB",
    )
    .execute(&mut first)
    .await?;
    let mut conns = vec![first];
    while conns.len() < connections {
        conns.push(MySqlConnection::connect_with(&options).await?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut conn) in conns.into_iter().enumerate() {
        let (stop, commits) = (stop.clone(), commits.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                sqlx::query("INSERT INTO t (v) VALUES (?)")
                    .bind(format!("{i:08}-{n:027}"))
                    .execute(&mut conn)
                    .await?;
                n += 1;
                commits.fetch_add(1, Ordering::Relaxed);
            }
            conn.close().await
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let counted = commits.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    for task in tasks {
        task.await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))??;
    }
    Ok((counted, elapsed))
}
