//! The life of an HTTP service process: pool, migrations, outbox relay, serving, and a
//! graceful stop that lets the last commits leave.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::routing::get;
use sqlx::MySqlPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Settings;
use crate::admission::Admission;
use crate::changes::{self, ChangeFeed, VersionsQuery};
use crate::health::BrokerStatus;
use crate::listing::Listing;
use crate::origin::AllowedOrigins;
use crate::outbox::{self, OutboxHandle, Relay};
use crate::settings::ServiceDefaults;

/// What a service's handlers share, built by [`run_http`].
#[derive(Debug, Clone)]
pub struct Core {
    pub pool: MySqlPool,
    /// Wake the relay after committing events.
    pub outbox: OutboxHandle,
    /// Whether the relay's broker connection is up (for health).
    pub broker: BrokerStatus,
    /// Other sites whose pages may change state here ([`crate::origin`]).
    pub allowed_origins: AllowedOrigins,
    /// What the health answer warns about ([`HttpService::warnings`]).
    pub warnings: Arc<[&'static str]>,
    /// Whose `X-Forwarded-For` names the client ([`crate::server::ClientIp`]).
    pub trusted_proxies: crate::server::TrustedProxies,
    /// Change notices of this service's processes ([`crate::changes`]).
    pub feed: ChangeFeed,
    /// Permits for routes that need the database ([`crate::admission`]).
    pub admission: Admission,
    /// How fresh the in-memory lists are kept.
    pub lists: crate::settings::ListSettings,
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
            lists: crate::settings::ListSettings {
                counts_max_age: Duration::ZERO,
                version_check: Duration::from_secs(1),
            },
        }
    }

    /// The product list of this service, served from memory and kept fresh by the feed.
    pub fn listing(&self, name: &'static str, load: crate::listing::LoadQuery) -> Listing {
        Listing::new(
            name,
            self.pool.clone(),
            self.feed.clone(),
            load,
            self.lists.counts_max_age,
        )
    }
}

/// `GET` health check of any process: 200 when the database answers and the broker is
/// connected, 503 naming what failed.
pub async fn health(State(core): State<Core>) -> Response {
    crate::health::check(&core.pool, &core.broker, &core.warnings).await
}

/// `GET /metrics` of any process, in Prometheus text format.
pub async fn metrics(State(core): State<Core>) -> Response {
    crate::metrics::render(&core.pool)
}

/// What the runtime needs to know of an HTTP service to run it: its migrations, and its
/// router over the shared [`Core`].
pub trait HttpService {
    /// The service's database migrations, embedded in the binary: its own and the
    /// runtime's ([`crate::migrations::with_runtime`], built on first use, hence a function).
    fn migrator() -> &'static Migrator;

    /// Every route of the API, with its state and middleware ([`service_router`]).
    fn router(core: Core, settings: &Settings) -> Router;

    /// Reads the database's change versions for the lists' safety-net check
    /// ([`crate::changes`]): by default the `cache_versions` rows.
    fn list_versions() -> VersionsQuery {
        changes::versions
    }

    /// Unsafe configuration to warn about, at start and in the health answer.
    fn warnings(_settings: &Settings) -> Vec<&'static str> {
        Vec::new()
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

/// A service's whole router: its own `routes` over `state`, the operations routes (its
/// health check at `health_path`, `/metrics`), its documentation (with the operations
/// routes described), and the shared middleware.
pub fn service_router<S>(routes: Router<S>, state: S, health_path: &str, docs: Docs) -> Router
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    let allowed = Core::from_ref(&state).allowed_origins;
    let api = routes
        .merge(operations_routes(health_path))
        .with_state(state);
    let openapi = docs
        .openapi
        .merge_from(crate::openapi::operations(health_path));
    let ui = utoipa_swagger_ui::SwaggerUi::new(docs.ui).url(docs.json, openapi);
    crate::http::with_middleware(api.merge(ui), &allowed)
}

/// The operations routes every process serves: its health check at `health_path`, and
/// `/metrics`. Their OpenAPI description is [`crate::openapi::operations`].
pub fn operations_routes<S>(health_path: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Core: FromRef<S>,
{
    Router::new()
        .route(health_path, get(health))
        .route("/metrics", get(metrics))
}

/// Creates the database if needed and applies `migrator`; the `migrate` command of the API
/// binaries.
pub async fn migrate(settings: &Settings, migrator: &'static Migrator) -> anyhow::Result<()> {
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    crate::migrations::apply(&pool, migrator).await?;
    crate::db::close(&pool, Duration::from_secs(2)).await;
    tracing::info!(
        database = settings.database.database_name(),
        "migrations applied"
    );
    Ok(())
}

/// Runs an HTTP service until `shutdown`: opens the pool (creating the database if needed),
/// runs the service's migrations, starts the outbox relay towards its publish queue, and
/// serves its router on `listener`. On shutdown, in-flight requests finish (10 s at
/// most), the relay gets 3 s to publish what they committed, and the pool closes.
pub async fn run_http<S: HttpService>(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let migrator = S::migrator();
    crate::metrics::handle();
    let pool = crate::db::connect(&settings.database, Duration::from_secs(60)).await?;
    crate::migrations::apply(&pool, migrator).await?;
    let core = Core {
        pool: pool.clone(),
        outbox: OutboxHandle::new(),
        broker: BrokerStatus::new("relay"),
        allowed_origins: settings.http.allowed_origins.clone(),
        warnings: S::warnings(&settings).into(),
        trusted_proxies: settings.http.trusted_proxies.clone(),
        feed: ChangeFeed::new(changes::exchange(&settings.amqp.consume_queue)),
        admission: Admission::new(
            settings.database.max_connections as usize,
            settings.http.max_waiting,
        ),
        lists: settings.http.lists,
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
            settings.http.lists.version_check,
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
            settings: settings.outbox.clone(),
            queue: settings.amqp.publish_queue.clone(),
            app_id: settings.app_id,
            handle: core.outbox.clone(),
            broker: core.broker.clone(),
        }
        .run(relay_stop.clone()),
    );
    tracing::info!(addr = %listener.local_addr()?, service = settings.app_id, "listening");
    let app = S::router(core.clone(), &settings);
    let stop = shutdown.clone();
    crate::server::serve(
        listener,
        app,
        async move { stop.cancelled().await },
        Duration::from_secs(10),
        settings.http.limits,
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
}

/// The first steps of every binary: reads the environment, starts logging, types the
/// settings (a bad value stops the process with a message naming the variable) and applies
/// the secrets they name ([`crate::secrets`]).
pub async fn start(defaults: ServiceDefaults) -> anyhow::Result<Settings> {
    start_with(defaults, crate::telemetry::LogOutput::Stdout).await
}

/// [`start`] for an operator command whose standard output is its answer (an id, a token):
/// its log lines go to standard error.
pub async fn start_command(defaults: ServiceDefaults) -> anyhow::Result<Settings> {
    start_with(defaults, crate::telemetry::LogOutput::Stderr).await
}

async fn start_with(
    defaults: ServiceDefaults,
    logs: crate::telemetry::LogOutput,
) -> anyhow::Result<Settings> {
    let env = crate::Env::from_process();
    crate::telemetry::init(defaults.process, &env, logs)?;
    let mut settings = Settings::from_env(&env, defaults)?;
    crate::secrets::apply(&env, &mut settings).await?;
    Ok(settings)
}

/// Runs one of the API binary's common commands; `serve` until SIGTERM or Ctrl-C.
pub async fn run_command<S: HttpService>(
    command: ApiCommand,
    settings: Settings,
) -> anyhow::Result<()> {
    match command {
        ApiCommand::Serve => {
            let listener = crate::http::bind(settings.http_addr).await?;
            let result = run_http::<S>(settings, listener, crate::shutdown::on_signal()).await;
            crate::telemetry::shutdown(Duration::from_secs(2)).await;
            result
        }
        ApiCommand::Migrate => migrate(&settings, S::migrator()).await,
    }
}
