//! An HTTP API process: its pool, migrations, outbox relay, change feed and router over the
//! shared [`Core`], served until a graceful stop that lets the last commits leave.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::get;
use futures_util::future::BoxFuture;
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::amqp::BrokerStatus;
use crate::config::{ConfigError, Env};
use crate::http::admission::Admission;
use crate::http::health::{self, Probes};
use crate::lists::{self, ChangeFeed, Listing, VersionsQuery};
use crate::outbox::{self, OutboxHandle, Relay};
use crate::settings::{
    AllowedOrigins, ApiSettings, ListSettings, ServerLimits, ServiceDefaults, TrustedProxies,
};
use crate::telemetry::LogOutput;

/// What a service's handlers share, built by [`run_http`].
#[derive(Debug, Clone)]
pub struct Core {
    pub pool: MySqlPool,
    /// Wake the relay after committing events.
    pub outbox: OutboxHandle,
    /// Whether the relay's broker connection is up (for health).
    pub broker: BrokerStatus,
    /// Other sites whose pages may change state here ([`crate::http::origin`]).
    pub allowed_origins: AllowedOrigins,
    /// What the health answer warns about ([`HttpService::warnings`]).
    pub warnings: Arc<[&'static str]>,
    /// Whose `X-Forwarded-For` names the client ([`crate::http::ClientIp`]).
    pub trusted_proxies: TrustedProxies,
    /// Change notices of this service's processes ([`crate::lists::feed`]).
    pub feed: ChangeFeed,
    /// Permits for routes that need the database ([`crate::http::admission`]).
    pub admission: Admission,
    /// How fresh the in-memory lists are kept.
    pub lists: ListSettings,
    /// Cancelled when the graceful stop begins: long-lived answers (event streams) end on it,
    /// so that the server's drain does not wait for them.
    pub stopping: CancellationToken,
}

impl Core {
    /// A core over `pool` with no relay running; for router tests.
    pub fn detached(pool: MySqlPool, broker_connected: bool) -> Self {
        let broker = BrokerStatus::new("relay");
        broker.set(broker_connected);
        Core {
            pool,
            outbox: OutboxHandle::new(),
            broker,
            allowed_origins: AllowedOrigins::default(),
            warnings: Arc::new([]),
            trusted_proxies: Default::default(),
            feed: ChangeFeed::detached(),
            admission: Admission::new(1000, 0),
            lists: ListSettings {
                counts_max_age: Duration::ZERO,
                version_check: Duration::from_secs(1),
            },
            stopping: CancellationToken::new(),
        }
    }

    /// The product list of this service, served from memory and kept fresh by the feed.
    pub fn listing(&self, name: &'static str, load: lists::LoadQuery) -> Listing {
        Listing::new(
            name,
            self.pool.clone(),
            self.feed.clone(),
            load,
            self.lists.counts_max_age,
            self.admission.clone(),
        )
    }
}

impl Core {
    /// What the probes look at: the pool, the relay's broker connection, the warnings.
    pub fn probes(&self) -> Probes {
        Probes {
            pool: self.pool.clone(),
            broker: self.broker.clone(),
            warnings: self.warnings.clone(),
            // Writes go on into the outbox while the broker is away.
            ready_needs_broker: false,
        }
    }
}

impl FromRef<Core> for TrustedProxies {
    fn from_ref(core: &Core) -> Self {
        core.trusted_proxies.clone()
    }
}

/// `GET /metrics` of any process, in Prometheus text format.
pub async fn metrics(State(probes): State<Probes>) -> Response {
    crate::metrics::render(&probes.pool)
}

/// What the runtime needs to know of an HTTP service to run it: its own settings, its
/// migrations, and its router over the shared [`Core`].
pub trait HttpService {
    /// The service's own settings (admin sign-in, like limits), read from the environment at
    /// start beside the runtime's [`ApiSettings`].
    type Settings: std::fmt::Debug + Clone + Send + Sync + 'static;

    /// Reads [`HttpService::Settings`]; a bad value names its variable.
    fn settings(env: &Env) -> Result<Self::Settings, ConfigError>;

    /// The service's database migrations, embedded in the binary: its own and the
    /// runtime's ([`crate::migrations::with_runtime`], built on first use, hence a function).
    fn migrator() -> &'static Migrator;

    /// The products that belong in the search index ([`crate::lists::search_index::reindex`]): their
    /// id and title, with an id over `?`, ascending, at most `?`, locked in share mode.
    fn searchable() -> &'static str;

    /// Every route of the API, with its state and middleware ([`service_router`]).
    fn router(core: Core, settings: &ApiSettings, own: &Self::Settings) -> Router;

    /// Reads the database's change versions for the lists' safety-net check
    /// ([`crate::lists::feed`]): by default the `cache_versions` rows.
    fn list_versions() -> VersionsQuery {
        lists::versions::versions
    }

    /// Unsafe configuration to warn about, at start and in the readiness answer.
    fn warnings(_own: &Self::Settings) -> Vec<&'static str> {
        Vec::new()
    }

    /// What the service sets up in the database beside its migrations, after them, at start
    /// and in the `migrate` command (admin-svc: its audit log's database). Nothing by default.
    fn prepare<'a>(
        _pool: &'a sqlx::MySqlPool,
        _own: &'a Self::Settings,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Where a service documents itself: Swagger UI under `ui`, the OpenAPI document at `json`.
pub struct Docs {
    pub ui: &'static str,
    pub json: &'static str,
    pub openapi: utoipa::openapi::OpenApi,
}

impl Docs {
    pub fn new(ui: &'static str, json: &'static str, openapi: utoipa::openapi::OpenApi) -> Self {
        Docs { ui, json, openapi }
    }
}

/// A service's whole router: its own `routes` over `state`, the operations routes (the
/// probes, with the original's health check at `health_path`, and `/metrics`), its
/// documentation (with the operations routes described), and the shared middleware.
pub fn service_router<S>(routes: Router<S>, state: S, health_path: &str, docs: Docs) -> Router
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    let core = Core::from_ref(&state);
    let api = routes
        .with_state(state)
        .merge(operations_routes(health_path).with_state(core.probes()));
    let openapi = docs
        .openapi
        .merge_from(super::openapi::operations(health_path));
    let ui = utoipa_swagger_ui::SwaggerUi::new(docs.ui).url(docs.json, openapi);
    crate::http::with_middleware(api.merge(ui), &core.allowed_origins)
}

/// The operations routes every process serves: `/alive`, `/ready`, the original's health
/// check at `health_path`, and `/metrics`. Their OpenAPI description is
/// [`super::openapi::operations`].
pub fn operations_routes(health_path: &str) -> Router<Probes> {
    health::routes(health_path).route("/metrics", get(metrics))
}

/// Creates the database if needed, applies the service's migrations, fills the search index
/// of the products it lists ([`prepare`]) and sets up what else it needs
/// ([`HttpService::prepare`]); the `migrate` command of the API binaries.
pub async fn migrate<S: HttpService>(
    settings: &crate::settings::Settings,
    own: &S::Settings,
) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    prepare(&pool, S::migrator(), S::searchable()).await?;
    S::prepare(&pool, own).await?;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    tracing::info!(
        database = settings.database.database_name(),
        "migrations applied"
    );
    Ok(())
}

/// Applies `migrator`, then indexes for search the products written before the index
/// existed or before its rules changed ([`lists::search_index::reindex`]: nothing to do on a
/// database already indexed; the first time, about 6 s for 100,000 products in a release
/// build). An API is not ready before its search can find every product.
pub async fn prepare(
    pool: &sqlx::MySqlPool,
    migrator: &'static Migrator,
    searchable: &'static str,
) -> anyhow::Result<()> {
    crate::migrations::apply(pool, migrator).await?;
    lists::search_index::reindex(pool, searchable).await?;
    Ok(())
}

/// Runs an HTTP service until `shutdown`: opens the pool (creating the database if needed),
/// runs the service's migrations, starts the outbox relay towards its publish queue, and
/// serves its router on `listener`. On shutdown, in-flight requests finish (10 s at
/// most), the relay gets 3 s to publish what they committed, and the pool closes.
pub async fn run_http<S: HttpService>(
    api: ApiSettings,
    own: S::Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let migrator = S::migrator();
    let settings = &api.process;
    crate::metrics::handle();
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    prepare(&pool, migrator, S::searchable()).await?;
    S::prepare(&pool, &own).await?;
    let core = Core {
        pool: pool.clone(),
        outbox: OutboxHandle::new(),
        broker: BrokerStatus::new("relay"),
        allowed_origins: api.http.allowed_origins.clone(),
        warnings: S::warnings(&own).into(),
        trusted_proxies: api.http.trusted_proxies.clone(),
        feed: ChangeFeed::new(lists::feed::exchange(&settings.amqp.consume_queue)),
        admission: Admission::new(
            settings.database.max_connections as usize,
            api.http.max_waiting,
        ),
        lists: api.http.lists,
        stopping: shutdown.clone(),
    };
    let feed_stop = CancellationToken::new();
    let feed_tasks = [
        tokio::spawn(core.feed.clone().run(
            settings.amqp.clone(),
            settings.app_id.to_owned(),
            true,
            feed_stop.clone(),
        )),
        tokio::spawn(core.feed.clone().check_versions(
            pool.clone(),
            S::list_versions(),
            api.http.lists.version_check,
            feed_stop.clone(),
        )),
    ];
    for warning in core.warnings.iter() {
        tracing::warn!("{warning}");
    }
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(
        Relay {
            pool: pool.clone(),
            amqp: settings.amqp.clone(),
            settings: api.outbox.clone(),
            queue: settings.amqp.publish_queue.clone(),
            app_id: settings.app_id,
            handle: core.outbox.clone(),
            broker: core.broker.clone(),
        }
        .run(relay_stop.clone()),
    );
    tracing::info!(addr = %listener.local_addr()?, service = settings.app_id, "listening");
    let app = S::router(core.clone(), &api, &own);
    let stop = shutdown.clone();
    crate::http::server::serve(
        listener,
        app,
        async move { stop.cancelled().await },
        Duration::from_secs(10),
        ServerLimits {
            // An API serves its connections on a runtime per core unless told otherwise.
            threads: Some(
                settings
                    .server
                    .threads
                    .unwrap_or_else(crate::http::server::cores),
            ),
            ..settings.server
        },
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
    feed_stop.cancel();
    let _ = relay.await;
    for task in feed_tasks {
        let _ = task.await;
    }
    crate::db::close(&pool, Duration::from_secs(2)).await;
    tracing::info!(service = settings.app_id, "stopped");
    Ok(())
}

/// The commands every API binary has.
#[derive(Debug, Clone, Copy, Default, clap::Subcommand)]
pub enum ApiCommand {
    /// Serve the HTTP API and publish events (the default).
    #[default]
    Serve,
    /// Create the database if needed, run migrations, and exit.
    Migrate,
    /// Rebuild the search index of every product (after products were written into the
    /// database by other means than the services, e.g. restored or bulk-loaded), and exit.
    /// Safe while the service runs: each batch of products is replaced in one transaction.
    ReindexSearch,
}

/// The settings of an API binary, its service's own included; `logs` says where its log
/// lines go (standard error for an operator command whose standard output is its answer).
pub async fn start<S: HttpService>(
    defaults: ServiceDefaults,
    logs: LogOutput,
) -> anyhow::Result<(ApiSettings, S::Settings)> {
    super::start::api(defaults, logs, S::settings).await
}

/// Runs one of the API binary's common commands; `serve` until SIGTERM or Ctrl-C.
pub async fn run_command<S: HttpService>(
    command: ApiCommand,
    api: ApiSettings,
    own: S::Settings,
) -> anyhow::Result<()> {
    match command {
        ApiCommand::Serve => {
            let listener = crate::http::bind(api.process.http_addr).await?;
            let result = run_http::<S>(api, own, listener, crate::shutdown::on_signal()).await;
            crate::telemetry::shutdown(Duration::from_secs(2)).await;
            result
        }
        ApiCommand::Migrate => migrate::<S>(&api.process, &own).await,
        ApiCommand::ReindexSearch => {
            let pool = crate::db::connect(&api.process.database, Duration::from_secs(60)).await?;
            crate::migrations::apply(&pool, S::migrator()).await?;
            lists::search_index::restart_index(&pool).await?;
            let indexed = lists::search_index::reindex(&pool, S::searchable()).await?;
            crate::db::close(&pool, Duration::from_secs(2)).await;
            println!("{indexed} products indexed for search");
            Ok(())
        }
    }
}
