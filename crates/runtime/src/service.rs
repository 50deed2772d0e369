//! The life of an HTTP service process: pool, migrations, outbox relay, serving, and a
//! graceful stop that lets the last commits leave.

use std::time::Duration;

use axum::Router;
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Settings;
use crate::health::BrokerStatus;
use crate::outbox::{self, OutboxHandle, Relay};

/// What a service's handlers share, built by [`run_http`].
#[derive(Debug, Clone)]
pub struct Core {
    pub pool: MySqlPool,
    /// Wake the relay after committing events.
    pub outbox: OutboxHandle,
    /// Whether the relay's broker connection is up (for health).
    pub broker: BrokerStatus,
}

impl Core {
    /// A core over `pool` with no relay running; for router tests.
    pub fn detached(pool: MySqlPool, broker_connected: bool) -> Self {
        let broker = BrokerStatus::default();
        broker.set(broker_connected);
        Core {
            pool,
            outbox: OutboxHandle::new(),
            broker,
        }
    }
}

/// Creates the database if needed and applies `migrator`; the `migrate` command of the API
/// binaries.
pub async fn migrate(settings: &Settings, migrator: &'static Migrator) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    migrator.run(&pool).await?;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    tracing::info!(
        database = settings.database.database_name(),
        "migrations applied"
    );
    Ok(())
}

/// Runs an HTTP service until `shutdown`: opens the pool (creating the database if needed),
/// runs `migrator`, starts the outbox relay towards `queue`, and serves `router(core)` on
/// `listener`. On shutdown, in-flight requests finish (10 s at most), the relay gets 3 s to
/// publish what they committed, and the pool closes.
pub async fn run_http(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    migrator: &'static Migrator,
    queue: String,
    router: impl FnOnce(Core) -> Router,
) -> anyhow::Result<()> {
    crate::metrics::handle();
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    migrator.run(&pool).await?;
    let core = Core {
        pool: pool.clone(),
        outbox: OutboxHandle::new(),
        broker: BrokerStatus::default(),
    };
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(
        Relay {
            pool: pool.clone(),
            amqp: settings.amqp.clone(),
            settings: settings.outbox.clone(),
            queue,
            app_id: settings.app_id,
            handle: core.outbox.clone(),
            broker: core.broker.clone(),
        }
        .run(relay_stop.clone()),
    );
    tracing::info!(addr = %listener.local_addr()?, service = settings.app_id, "listening");
    let app = router(core.clone());
    let stop = shutdown.clone();
    crate::http::serve(
        listener,
        app,
        async move { stop.cancelled().await },
        Duration::from_secs(10),
    )
    .await?;

    // What the last requests committed gets a moment to leave; what does not stays in the
    // outbox and goes out at the next start.
    core.outbox.committed();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while core.broker.is_connected() && tokio::time::Instant::now() < deadline {
        match outbox::pending_count(&pool).await {
            Ok(0) | Err(_) => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    relay_stop.cancel();
    let _ = relay.await;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    tracing::info!(service = settings.app_id, "stopped");
    Ok(())
}
