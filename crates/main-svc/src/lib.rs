//! main-svc: the shop front. A mirror of the catalogue, kept by the consumer of queue
//! `main`, that shoppers browse and like; each like goes back to admin-svc as a
//! `product_liked` event through a transactional outbox.
//!
//! The binaries are thin: `main-api` calls [`run`], `main-consumer` runs
//! [`consumer::ProductHandler`] under `shop_runtime::service::consumer::main`.

pub mod api;
pub mod consumer;
pub mod db;
pub mod error;
pub mod likes;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod shopper;

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use shop_runtime::lists::Listing;
use shop_runtime::lists::VersionsQuery;
use shop_runtime::service::{Core, Docs, HttpService, service_router};
use shop_runtime::settings::{ApiSettings, TrustedProxies};
use shop_runtime::{ConfigError, Env};
use sqlx::migrate::Migrator;
use utoipa::OpenApi;

use crate::likes::{Committer, LikeBatchSettings, Likes};
use crate::limits::LikeLimitSettings;

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
    /// How fast one address or shopper may like.
    pub likes: Arc<limits::LikeLimits>,
    /// The shop's product list, served from memory.
    pub list: Listing,
    /// Live like counts (`GET /flask/api/products/events`).
    pub live: live::Live,
    /// The like batcher ([`likes`]), committing through this state's core, list and live.
    pub batcher: Likes,
    /// Its bounds.
    pub batches: LikeBatchSettings,
}

impl AppState {
    /// The state over `core`, with `likes` limits and the shopper cookie `Secure` when
    /// `cookie_secure` (`COOKIE_SECURE`).
    pub fn new(core: Core, likes: LikeLimitSettings, cookie_secure: bool) -> Self {
        let list = core.listing("shop", db::load_list);
        let live = live::Live::new(&core, live::LiveSettings::default());
        let batches = LikeBatchSettings::default();
        let batcher = start_batcher(&core, &list, &live, batches);
        AppState {
            cookie_secure,
            likes: Arc::new(limits::LikeLimits::new(likes)),
            list,
            live,
            batcher,
            batches,
            core,
        }
    }

    /// The same state with the live streams under `settings` (and a batcher that tells
    /// them).
    pub fn with_live(self, settings: live::LiveSettings) -> Self {
        AppState {
            live: live::Live::new(&self.core, settings),
            ..self
        }
        .restart_batcher()
    }

    /// The same state with the like batcher under `settings`.
    pub fn with_batches(self, batches: LikeBatchSettings) -> Self {
        AppState { batches, ..self }.restart_batcher()
    }

    /// A new batcher over this state's core, list and live streams (after one of them was
    /// replaced); the old one ends when its last handle goes.
    pub fn restart_batcher(self) -> Self {
        AppState {
            batcher: start_batcher(&self.core, &self.list, &self.live, self.batches),
            ..self
        }
    }

    /// A state over `pool` with no relay running, the default settings and no like limits
    /// (they have tests of their own); for router tests.
    pub fn detached(pool: sqlx::MySqlPool) -> Self {
        let off = LikeLimitSettings {
            per_address_per_minute: 0,
            per_shopper_per_minute: 0,
        };
        AppState::new(Core::detached(pool, true), off, false)
    }
}

fn start_batcher(
    core: &Core,
    list: &Listing,
    live: &live::Live,
    batches: LikeBatchSettings,
) -> Likes {
    let committer = Committer {
        core: core.clone(),
        list: list.clone(),
        live: live.clone(),
        events: batches.events,
    };
    Likes::start(committer, batches).0
}

/// The client's address ([`shop_runtime::http::ClientIp`]) is told by the core's proxies.
impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        TrustedProxies::from_ref(&state.core)
    }
}

/// The health check's path.
pub const HEALTH_PATH: &str = "/flask/api/health";

#[derive(OpenApi)]
#[openapi(
    info(title = "main-svc", description = "The shop front's API."),
    paths(api::list_products, api::like_product, api::my_likes, live::events),
    components(
        schemas(
            events::Product,
            api::Liked,
            live::frame::LikeCount,
            shop_runtime::problem::ErrorBody
        ),
        responses(
            shop_runtime::service::openapi::CrossSiteRefused,
            shop_runtime::service::openapi::Busy
        )
    )
)]
pub struct ApiDoc;

/// All routes, with the shared middleware. Those that need the database take a permit
/// first (`shop_runtime::http::admission`); the list, served from memory, does not.
pub fn router(state: AppState) -> Router {
    let admit = axum::middleware::from_fn_with_state(
        state.core.admission.clone(),
        shop_runtime::http::admission::admit,
    );
    let routes = Router::new()
        .route("/flask/api/products/{id}/like", post(api::like_product))
        .route("/flask/api/likes", get(api::my_likes))
        .route_layer(admit)
        .route("/flask/api/products", get(api::list_products))
        // A stream holds no permit: it needs the database only before its answer starts.
        .route("/flask/api/products/events", get(live::events));
    let docs = Docs::new(
        "/flask/api/docs",
        "/flask/api/openapi.json",
        ApiDoc::openapi(),
    );
    service_router(routes, state, HEALTH_PATH, docs)
}

/// main-api's own settings: the like limits, the like batcher and the live streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopSettings {
    pub likes: LikeLimitSettings,
    pub batches: LikeBatchSettings,
    pub live: live::LiveSettings,
}

/// The main API as the runtime runs it (`shop_runtime::service::run_http`): its relay
/// publishes to the `ADMIN_QUEUE`.
impl HttpService for AppState {
    type Settings = ShopSettings;

    fn settings(env: &Env) -> Result<ShopSettings, ConfigError> {
        Ok(ShopSettings {
            likes: LikeLimitSettings::from_env(env)?,
            batches: LikeBatchSettings::from_env(env)?,
            live: live::LiveSettings::from_env(env)?,
        })
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn searchable() -> &'static str {
        db::SEARCHABLE
    }

    fn list_versions() -> VersionsQuery {
        db::list_versions
    }

    fn router(core: Core, api: &ApiSettings, own: &ShopSettings) -> Router {
        metrics::describe();
        let state = AppState {
            batches: own.batches,
            ..AppState::new(core, own.likes, api.http.cookie_secure)
        }
        .with_live(own.live);
        let likes = Arc::downgrade(&state.likes);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            while let Some(limits) = {
                every.tick().await;
                likes.upgrade()
            } {
                limits.forget_idle();
            }
        });
        router(state)
    }
}
