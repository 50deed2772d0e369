//! main-svc: the shop front. A mirror of the catalogue, kept by the consumer of queue
//! `main`, that shoppers browse and like; each like goes back to admin-svc as a
//! `product_liked` event through a transactional outbox.
//!
//! The binaries are thin: `main-api` calls [`run`], `main-consumer` runs
//! [`consumer::ProductHandler`] under `shop_runtime::consumer::run_consumer`.

pub mod api;
pub mod consumer;
pub mod db;
pub mod error;
pub mod shopper;

use axum::Router;
use axum::routing::{get, post};
use shop_runtime::service::Core;
use shop_runtime::settings::ServiceDefaults;
use shop_runtime::{Env, Settings};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub const DEFAULTS: ServiceDefaults = ServiceDefaults {
    app_id: "main-svc",
    port: 5000,
    database: "main",
};

/// The main database's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Core,
    /// Mark the shopper cookie `Secure` (`COOKIE_SECURE`, for a shop served over HTTPS).
    pub cookie_secure: bool,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "main-svc", description = "The shop front's API."),
    paths(api::list_products, api::like_product, api::health, api::metrics),
    components(schemas(api::Product, api::Liked, api::ErrorBody))
)]
pub struct ApiDoc;

/// All routes, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/flask/api/products", get(api::list_products))
        .route("/flask/api/products/{id}/like", post(api::like_product))
        .route("/flask/api/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .with_state(state);
    let docs = SwaggerUi::new("/flask/api/docs").url("/flask/api/openapi.json", ApiDoc::openapi());
    shop_runtime::http::with_middleware(api.merge(docs))
}

/// Runs the HTTP API and its outbox relay (to the `ADMIN_QUEUE`) until `shutdown`.
pub async fn run(
    settings: Settings,
    env: &Env,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let cookie_secure = env.bool("COOKIE_SECURE", false)?;
    let queue = settings.amqp.admin_queue.clone();
    shop_runtime::service::run_http(settings, listener, shutdown, &MIGRATOR, queue, |core| {
        router(AppState {
            core,
            cookie_secure,
        })
    })
    .await
}
