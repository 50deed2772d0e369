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

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use shop_runtime::Settings;
use shop_runtime::service::Core;
use shop_runtime::settings::ServiceDefaults;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub const DEFAULTS: ServiceDefaults = ServiceDefaults {
    app_id: "admin-svc",
    port: 8000,
    database: "admin",
};

/// The admin database's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What every handler sees: the pool, the outbox wake-up, the broker status.
pub type AppState = Core;

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
        api::health,
        api::metrics,
    ),
    components(schemas(api::Product, validation::ProductInput, api::UserId, api::ErrorBody))
)]
pub struct ApiDoc;

/// All routes, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
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
        .route("/api/user", get(api::random_user))
        .route("/api/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .with_state(state);
    let docs = SwaggerUi::new("/api/docs").url("/api/openapi.json", ApiDoc::openapi());
    shop_runtime::http::with_middleware(api.merge(docs))
}

/// Runs the HTTP API and its outbox relay (to the `MAIN_QUEUE`) until `shutdown`.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let queue = settings.amqp.main_queue.clone();
    shop_runtime::service::run_http(settings, listener, shutdown, &MIGRATOR, queue, router).await
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
