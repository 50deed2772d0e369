//! main-svc: the shop front. A mirror of the catalogue, kept by the consumer of queue
//! `main`, that shoppers browse and like; each like goes back to admin-svc as a
//! `product_liked` event through a transactional outbox.
//!
//! The binaries are thin: `main-api` calls [`run`], `main-consumer` runs
//! [`consumer::ProductHandler`] under `shop_runtime::consumer::main`.

pub mod api;
pub mod consumer;
pub mod db;
pub mod error;
pub mod shopper;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use shop_runtime::Settings;
use shop_runtime::service::{Core, Docs, HttpService, service_router};
use sqlx::migrate::Migrator;
use utoipa::OpenApi;

/// The main database's migrations, embedded in the binary: this service's own and the
/// runtime's (outbox, processed messages), in version order.
pub static MIGRATOR: LazyLock<Migrator> =
    LazyLock::new(|| shop_runtime::migrations::with_runtime(sqlx::migrate!("./migrations")));

/// What every handler sees.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    /// The pool, the outbox wake-up, the broker status.
    pub core: Core,
    /// Mark the shopper cookie `Secure` (`COOKIE_SECURE`, for a shop served over HTTPS).
    pub cookie_secure: bool,
}

impl AppState {
    pub fn new(core: Core, settings: &Settings) -> Self {
        AppState {
            core,
            cookie_secure: settings.http.cookie_secure,
        }
    }
}

/// The health check's path.
pub const HEALTH_PATH: &str = "/flask/api/health";

#[derive(OpenApi)]
#[openapi(
    info(title = "main-svc", description = "The shop front's API."),
    paths(api::list_products, api::like_product),
    components(schemas(events::Product, api::Liked, shop_runtime::http::ErrorBody))
)]
pub struct ApiDoc;

/// All routes, with the shared middleware.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/flask/api/products", get(api::list_products))
        .route("/flask/api/products/{id}/like", post(api::like_product));
    let docs = Docs::new(
        "/flask/api/docs",
        "/flask/api/openapi.json",
        ApiDoc::openapi(),
    );
    service_router(routes, state, HEALTH_PATH, docs)
}

/// The main API as the runtime runs it (`shop_runtime::service::run_http`): its relay
/// publishes to the `ADMIN_QUEUE`.
impl HttpService for AppState {
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn router(core: Core, settings: &Settings) -> Router {
        router(AppState::new(core, settings))
    }
}
