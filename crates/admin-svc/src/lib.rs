//! admin-svc: the catalogue. Product CRUD for admins, a like counter per product, and the
//! events that keep main-svc's mirror in step, published through a transactional outbox.
//!
//! The binaries are thin: `admin-api` calls [`run`]; tests call [`router`] or [`run`] with
//! their own listener and shutdown.

pub mod api;
pub mod consumer;
pub mod db;
pub mod error;
pub mod validation;

use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use shop_runtime::Settings;
use shop_runtime::service::{Core, Docs, HttpService, service_router};
use sqlx::migrate::Migrator;
use utoipa::OpenApi;

/// The admin database's migrations, embedded in the binary: this service's own and the
/// runtime's (outbox, processed messages), in version order.
pub static MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| shop_runtime::migrations::with_runtime(sqlx::migrate!("./migrations")));

/// What every handler sees.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    /// The pool, the outbox wake-up, the broker status.
    pub core: Core,
}

impl AppState {
    pub fn new(core: Core, _settings: &Settings) -> Self {
        AppState { core }
    }

    /// A state over `pool` with no relay running; for router tests.
    pub fn detached(pool: sqlx::MySqlPool, broker_connected: bool) -> Self {
        AppState {
            core: Core::detached(pool, broker_connected),
        }
    }
}

/// The health check's path.
pub const HEALTH_PATH: &str = "/api/health";

#[derive(OpenApi)]
#[openapi(
    info(title = "admin-svc", description = "The shop's catalogue API."),
    paths(
        api::list_products,
        api::create_product,
        api::get_product,
        api::update_product,
        api::delete_product,
        api::random_user,
    ),
    components(schemas(
        events::Product,
        validation::ProductInput,
        api::UserId,
        shop_runtime::http::ErrorBody
    ))
)]
pub struct ApiDoc;

/// All routes, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route(
            "/api/products",
            get(api::list_products).post(api::create_product),
        )
        .route(
            "/api/products/{id}",
            get(api::get_product)
                .put(api::update_product)
                .delete(api::delete_product),
        )
        .route("/api/user", get(api::random_user));
    let docs = Docs::new("/api/docs", "/api/openapi.json", ApiDoc::openapi());
    service_router(routes, state, HEALTH_PATH, docs)
}

/// Creates an admin user, or finds the one with this email. Returns its id and whether it
/// is new.
pub async fn create_user(
    settings: &Settings,
    name: &str,
    email: &str,
) -> anyhow::Result<(u64, bool)> {
    let name = name.trim();
    let email = email.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= 200,
        "--name must be 1 to 200 characters"
    );
    anyhow::ensure!(
        email.chars().count() <= 254
            && email
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.')),
        "--email must be an address like ada@example.com"
    );
    let pool = shop_runtime::db::connect(&settings.database, Duration::from_secs(10)).await?;
    MIGRATOR.run(&pool).await?;
    let result = db::upsert_user(&pool, name, email).await?;
    pool.close().await;
    Ok(result)
}

/// The admin API as the runtime runs it (`shop_runtime::service::run_http`): its relay
/// publishes to the `MAIN_QUEUE`.
impl HttpService for AppState {
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn router(core: Core, settings: &Settings) -> Router {
        router(AppState::new(core, settings))
    }
}
