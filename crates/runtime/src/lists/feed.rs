//! Change notices between the processes of one service, for the lists its APIs serve from
//! memory ([`super::cache`]).
//!
//! A list depends on tables that other processes write: the shop's mirror is written by
//! main-consumer, the catalogue's like counts by admin-consumer, and there may be several
//! replicas of each API. Each process keeps two local generation counters, one per kind of
//! [`Change`], and a list snapshot remembers the generations it was built at; a bump makes
//! the snapshot stale. Three things bump them:
//!
//! 1. **A notice.** After committing a change, the writer publishes its kind to the fanout
//!    exchange `<queue>.changes` (the service's consume queue names it: `main.changes`,
//!    `admin.changes`); every API process of the service has an exclusive, auto-deleted
//!    queue bound to it. A notice reaches the other processes within a millisecond or two.
//! 2. **A version check**, the safety net for a notice lost with a broken connection: every
//!    `LIST_VERSION_CHECK_MS` (250 ms) each API reads the database's change versions (rows
//!    of `cache_versions` that writers bump in the transaction of their change, and for the
//!    shop's likes the highest `product_likes.seq`) and bumps what moved.
//! 3. **Its own writes**, at once, after its commit; and both kinds on every (re)connection
//!    to the broker, since notices may have been missed meanwhile.
//!
//! A notice is best effort (not persistent, no confirm): losing one delays a change by one
//! version check at most, and the data itself is always in the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, ExchangeKind};
use sqlx::MySqlPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::versions::{Change, VersionsQuery};
use crate::amqp::{self, AmqpError};
use crate::backoff::Backoff;
use crate::metrics::catalog;
use crate::settings::AmqpSettings;

/// The exchange a service's processes tell each other of changes on.
pub fn exchange(consume_queue: &str) -> String {
    format!("{consume_queue}.changes")
}

/// One process's end of its service's change notices: its generations, and the notices it
/// has still to send. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    exchange: String,
    /// This process, in the notices it sends, so that it skips its own.
    instance: String,
    generations: [AtomicU64; 2],
    outgoing: [AtomicBool; 2],
    wake: Notify,
    /// Whether notices and version checks keep the generations current; a detached feed
    /// (router tests) has neither, and lists built over it are rebuilt on every request.
    live: bool,
}

impl ChangeFeed {
    pub fn new(exchange: String) -> Self {
        ChangeFeed {
            inner: Arc::new(Inner {
                exchange,
                instance: uuid::Uuid::new_v4().simple().to_string(),
                generations: Default::default(),
                outgoing: Default::default(),
                wake: Notify::new(),
                live: true,
            }),
        }
    }

    /// A feed nothing keeps current: lists over it are never served from memory.
    pub fn detached() -> Self {
        ChangeFeed {
            inner: Arc::new(Inner {
                exchange: String::new(),
                instance: String::new(),
                generations: Default::default(),
                outgoing: Default::default(),
                wake: Notify::new(),
                live: false,
            }),
        }
    }

    /// Whether the generations are kept current ([`ChangeFeed::detached`]).
    pub fn is_live(&self) -> bool {
        self.inner.live
    }

    /// The current generation of each kind: `(catalogue, counts)`.
    pub fn generations(&self) -> (u64, u64) {
        let g = &self.inner.generations;
        (g[0].load(Ordering::Acquire), g[1].load(Ordering::Acquire))
    }

    /// Makes snapshots of `change` stale in this process.
    pub fn seen(&self, change: Change) {
        self.inner.generations[change.index()].fetch_add(1, Ordering::AcqRel);
    }

    /// After this process committed `change`: stale here at once, and a notice to the
    /// others (coalesced: many commits in a row send one notice or a few).
    pub fn announce(&self, change: Change) {
        self.seen(change);
        self.inner.outgoing[change.index()].store(true, Ordering::Release);
        self.inner.wake.notify_one();
    }

    /// Sends this process's notices and, when `listen`, takes the others', over a broker
    /// connection of its own, reconnecting with capped backoff, until `cancel`.
    pub async fn run(
        self,
        amqp: AmqpSettings,
        name: String,
        listen: bool,
        cancel: CancellationToken,
    ) {
        catalog::AMQP_CONNECT_FAILURES.start_at_zero(["change_notices"]);
        let mut backoff = Backoff::new(Duration::from_millis(100), amqp.reconnect_max);
        while !cancel.is_cancelled() {
            let reason = match self.connect(&amqp, &name, listen).await {
                Ok((conn, channel, notices)) => {
                    backoff.reset();
                    // Notices sent while this process was away are lost to it.
                    for change in Change::ALL {
                        self.seen(change);
                    }
                    let reason = self
                        .exchange_notices(&channel, notices, &amqp, &cancel)
                        .await;
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        conn.close(200, "change notices stopping".into()),
                    )
                    .await;
                    reason
                }
                Err(e) => {
                    catalog::AMQP_CONNECT_FAILURES.increment(["change_notices"]);
                    Some(e)
                }
            };
            match reason {
                None => return,
                Some(e) => tracing::debug!(error = %e, exchange = %self.inner.exchange,
                    "change notices: no broker; the version check covers meanwhile"),
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
    }

    async fn connect(
        &self,
        settings: &AmqpSettings,
        name: &str,
        listen: bool,
    ) -> Result<(lapin::Connection, Channel, Option<lapin::Consumer>), AmqpError> {
        let limit = settings.publish_timeout;
        let conn = amqp::connect(settings, &format!("{name} change notices")).await?;
        let channel = amqp::within(limit, conn.create_channel()).await?;
        let exchange = self.inner.exchange.as_str();
        amqp::within(
            limit,
            channel.exchange_declare(
                exchange.into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        if !listen {
            return Ok((conn, channel, None));
        }
        let private = QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..QueueDeclareOptions::default()
        };
        let queue = amqp::within(
            limit,
            channel.queue_declare("".into(), private, FieldTable::default()),
        )
        .await?;
        amqp::within(
            limit,
            channel.queue_bind(
                queue.name().clone(),
                exchange.into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        let notices = amqp::within(
            limit,
            channel.basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            ),
        )
        .await?;
        Ok((conn, channel, Some(notices)))
    }

    /// Until `cancel` (`None`) or the connection fails (`Some`).
    async fn exchange_notices(
        &self,
        channel: &Channel,
        mut notices: Option<lapin::Consumer>,
        settings: &AmqpSettings,
        cancel: &CancellationToken,
    ) -> Option<AmqpError> {
        loop {
            // Send first: a wake-up may have come before this connection existed.
            for change in Change::ALL {
                if self.inner.outgoing[change.index()].swap(false, Ordering::AcqRel)
                    && let Err(e) = self
                        .publish(channel, change, settings.publish_timeout)
                        .await
                {
                    self.inner.outgoing[change.index()].store(true, Ordering::Release);
                    return Some(e);
                }
            }
            let next = async {
                match notices.as_mut() {
                    Some(n) => n.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return None,
                () = self.inner.wake.notified() => {}
                delivery = next => match delivery {
                    Some(Ok(d)) => {
                        let own = d.properties.app_id().as_ref().map(ShortString::as_str)
                            == Some(self.inner.instance.as_str());
                        if let (false, Some(change)) = (own, Change::parse(&d.data)) {
                            self.seen(change);
                        }
                    }
                    Some(Err(e)) => return Some(e.into()),
                    None => return Some(AmqpError::Ended("change notice subscription")),
                },
            }
        }
    }

    async fn publish(
        &self,
        channel: &Channel,
        change: Change,
        limit: Duration,
    ) -> Result<(), AmqpError> {
        let properties =
            BasicProperties::default().with_app_id(self.inner.instance.as_str().into());
        amqp::within(
            limit,
            channel.basic_publish(
                self.inner.exchange.as_str().into(),
                "".into(),
                BasicPublishOptions::default(),
                change.as_str().as_bytes(),
                properties,
            ),
        )
        .await?;
        Ok(())
    }

    /// The safety net: every `interval` reads the database's versions with `query` and
    /// makes stale what moved, until `cancel`.
    pub async fn check_versions(
        self,
        pool: MySqlPool,
        query: VersionsQuery,
        interval: Duration,
        cancel: CancellationToken,
    ) {
        let mut last: Option<(u64, u64)> = None;
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = every.tick() => {}
            }
            // In a task of its own: stopping never cancels a query half way.
            let read = tokio::spawn({
                let pool = pool.clone();
                async move { query(&pool).await }
            });
            let now = match read.await {
                Ok(Ok(now)) => now,
                Ok(Err(e)) => {
                    crate::db::note_error(&e);
                    tracing::warn!(error = %e, "cannot read the lists' change versions");
                    continue;
                }
                Err(_) => continue,
            };
            if let Some((catalogue, counts)) = last {
                if now.0 != catalogue {
                    self.seen(Change::Catalogue);
                }
                if now.1 != counts {
                    self.seen(Change::Counts);
                }
            }
            last = Some(now);
        }
    }
}
