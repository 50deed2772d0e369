//! Which of a service's API replicas publishes its outbox: the one holding a MariaDB named
//! lock (`GET_LOCK`), on a connection of its own.
//!
//! # Why one leader, not rows claimed with `SKIP LOCKED`
//!
//! Claiming rows (`SELECT … FOR UPDATE SKIP LOCKED`) would let every replica publish at once,
//! but two replicas would then publish neighbouring rows side by side, and a product's
//! update could reach the broker before its create; today's per-product order (rows go out in
//! id order, one relay) would rest on the consumers' version checks alone. It would also hold
//! each claim's row locks, in an open transaction, for as long as the broker takes to confirm
//! (up to `AMQP_PUBLISH_TIMEOUT_MS`). One relay is not the bottleneck either: it publishes
//! batches of `OUTBOX_BATCH_SIZE` with one confirm wait each, several thousand events a
//! second, more than a replica's API commits. So one replica publishes, in id order, and
//! the others stand by.
//!
//! # Taking over, and when
//!
//! Every replica's relay asks for the lock without waiting (`GET_LOCK(name, 0)`) each time it
//! wakes (a commit, or its poll, `OUTBOX_POLL_INTERVAL_MS`); the one that gets it publishes.
//! The leader checks it still holds the lock (`IS_USED_LOCK(name) = CONNECTION_ID()`, one
//! round trip) before every batch, and stops publishing as soon as it does not.
//!
//! - A leader that exits or is killed: its connection closes, MariaDB frees the lock at
//!   once, and a standby takes over at its next wake, within one poll interval.
//! - A leader whose host or network vanishes without closing the connection: the lock
//!   connection's session has a short `wait_timeout` ([`LEASE`]) and the leader uses it at
//!   every wake, so MariaDB ends the session, and frees the lock, at most [`LEASE`] after the
//!   leader's last word.
//! - A leader that lost its lock connection (the database restarted, the network cut) stops
//!   before its next batch; the batch it was publishing may also be published by the next
//!   leader, and consumers skip those duplicates by message id. That batch is the most that
//!   goes out twice.
//!
//! The lock is named after the database and the queue, so two services, or one service's
//! two deployments on other databases, never share one.

use std::sync::Arc;
use std::time::Duration;

use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection, MySqlConnection, MySqlPool};

use crate::metrics::catalog;

/// How long MariaDB keeps a silent leader's lock: the lock connection's `wait_timeout`. It
/// must exceed the longest stretch a leader spends without using the connection: one batch,
/// bounded by `AMQP_PUBLISH_TIMEOUT_MS` (5 s by default) and the marking of its rows.
pub const LEASE: Duration = Duration::from_secs(15);

/// Connecting for the lock gives up after this; the relay asks again at its next wake.
const CONNECT_LIMIT: Duration = Duration::from_secs(5);

/// One relay's part in the election.
pub(super) struct Leadership {
    /// Whose connect options the lock connection uses, read at each connect: a credential
    /// rotation (`crate::db`) replaces them.
    pool: MySqlPool,
    queue: String,
    /// The lock's connection, while there is one.
    conn: Option<MySqlConnection>,
    leader: bool,
}

impl Leadership {
    /// For the relay publishing `pool`'s outbox to `queue`. Connects on first use.
    pub fn new(pool: &MySqlPool, queue: &str) -> Self {
        Leadership {
            pool: pool.clone(),
            queue: queue.to_owned(),
            conn: None,
            leader: false,
        }
    }

    /// Whether this relay may publish now: it holds the lock, or has just taken it. Never
    /// waits for another replica; an error counts as "no" (and is logged when the role
    /// changes).
    pub async fn check(&mut self) -> bool {
        let held = match self.ask().await {
            Ok(held) => held,
            Err(e) => {
                if self.leader {
                    tracing::warn!(error = %e, "outbox relay lost its leader lock connection; it stops publishing");
                } else {
                    tracing::debug!(error = %e, "outbox relay cannot ask for the leader lock");
                }
                self.conn = None;
                false
            }
        };
        if held != self.leader {
            if held {
                tracing::info!(queue = %self.queue, "outbox relay is the leader: it publishes");
            } else {
                tracing::info!(queue = %self.queue, "outbox relay is no longer the leader");
            }
            self.leader = held;
        }
        catalog::OUTBOX_RELAY_LEADER.set(catalog::NO_LABELS, if held { 1.0 } else { 0.0 });
        self.count_connection();
        held
    }

    async fn ask(&mut self) -> Result<bool, sqlx::Error> {
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        let name = lock_name(&self.queue);
        let held: Option<i64> = if self.leader {
            sqlx::query_scalar("SELECT IS_USED_LOCK(CONCAT(DATABASE(), ?)) = CONNECTION_ID()")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await?
        } else {
            sqlx::query_scalar("SELECT GET_LOCK(CONCAT(DATABASE(), ?), 0)")
                .bind(&name)
                .fetch_one(&mut *conn)
                .await?
        };
        Ok(held == Some(1))
    }

    async fn connect(&self) -> Result<MySqlConnection, sqlx::Error> {
        let options: Arc<MySqlConnectOptions> = self.pool.connect_options();
        let mut conn = tokio::time::timeout(CONNECT_LIMIT, options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        sqlx::query(&format!(
            "SET SESSION wait_timeout = {0}, SESSION interactive_timeout = {0}",
            LEASE.as_secs()
        ))
        .execute(&mut conn)
        .await?;
        Ok(conn)
    }

    /// Gives the lock up (closing its connection frees it), so a standby takes over at its
    /// next wake rather than after [`LEASE`].
    pub async fn release(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.close()).await;
        }
        if self.leader {
            tracing::info!(queue = %self.queue, "outbox relay gave up the leader lock");
            self.leader = false;
        }
        catalog::OUTBOX_RELAY_LEADER.set(catalog::NO_LABELS, 0.0);
        self.count_connection();
    }

    /// The lock's connection is not the pool's: it is counted on its own, so that a look at
    /// the server's connections can tell it from a leaked one.
    fn count_connection(&self) {
        let open = if self.conn.is_some() { 1.0 } else { 0.0 };
        catalog::OUTBOX_RELAY_LOCK_CONNECTION.set(catalog::NO_LABELS, open);
    }
}

/// The part of the lock's name after the database's own: `<database>:shop-outbox-relay:<queue>`
/// (MariaDB takes lock names of any length).
fn lock_name(queue: &str) -> String {
    format!(":shop-outbox-relay:{queue}")
}
