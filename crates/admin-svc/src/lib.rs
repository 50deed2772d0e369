//! admin-svc: the catalogue. Product CRUD for admins, a like counter per product, and the
//! events that keep main-svc's mirror in step, published through a transactional outbox.
//!
//! The binaries are thin: `admin-api` calls [`run`]; tests call [`router`] or [`run`] with
//! their own listener and shutdown.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod catalogue;
pub mod commands;
pub mod conflict;
pub mod consumer;
pub mod db;
pub mod edit;
pub mod error;
pub mod fields;
pub mod metrics;
pub mod openapi;
pub mod settings;
pub mod tokens;
pub mod validation;

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{delete, get, patch, post};
use shop_runtime::lists::Listing;
use shop_runtime::service::{Core, Docs, HttpService, service_router};
use shop_runtime::settings::{ApiSettings, TrustedProxies};
use shop_runtime::{ConfigError, Env};
use sqlx::migrate::Migrator;

use crate::audit::AuditLog;
use crate::auth::Auth;
pub use crate::commands::{create_token, create_user, revoke_token, set_password};
pub use crate::openapi::ApiDoc;
use crate::settings::AdminAuthSettings;
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
    /// Sign-in settings and the failed-sign-in counters.
    pub auth: Arc<Auth>,
    /// The catalogue's product list, served from memory.
    pub list: Listing,
    /// The admin table's orders (sorted, searched), held per catalogue version.
    pub held: Arc<shop_runtime::lists::found::Held>,
    /// Where changes are recorded.
    pub audit: AuditLog,
}

impl AppState {
    /// The state over `core`, with sign-in as `auth` says, cookies `Secure` when
    /// `cookie_secure` (`COOKIE_SECURE`), and the audit log in `audit`.
    pub fn new(core: Core, auth: AdminAuthSettings, cookie_secure: bool, audit: AuditLog) -> Self {
        AppState {
            list: core.listing("catalogue", db::load_list),
            held: Arc::default(),
            core,
            auth: Auth::new(auth, cookie_secure),
            audit,
        }
    }

    /// A state over `pool` with no relay running, sign-in required, default settings, and
    /// the audit log in the pool's own database (which `testing::MIGRATOR` creates); for
    /// router tests.
    pub fn detached(pool: sqlx::MySqlPool, broker_connected: bool) -> Self {
        let auth = AdminAuthSettings::from_env(&Env::default()).expect("the defaults are valid");
        let core = Core::detached(pool, broker_connected);
        AppState::new(core, auth, false, AuditLog::in_service_database())
    }
}

/// For router tests.
#[doc(hidden)]
pub mod testing {
    use std::borrow::Cow;
    use std::sync::LazyLock;

    use sqlx::migrate::{Migration, MigrationType, Migrator};

    /// The service's migrations and the audit log's table in the same database, for
    /// `#[sqlx::test(migrator = "admin_svc::testing::MIGRATOR")]` and
    /// [`crate::AppState::detached`].
    pub static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
        let mut own = sqlx::migrate!("./migrations");
        let mut all = own.migrations.to_vec();
        all.push(Migration::new(
            29_991_231_000_001,
            Cow::Borrowed("audit log in the service's database (tests)"),
            MigrationType::Simple,
            Cow::Owned(crate::audit::create_table_sql(None)),
            false,
        ));
        own.migrations = Cow::Owned(all);
        shop_runtime::migrations::with_runtime(own)
    });
}

/// The audit log's database beside the pool's, as `auth` says.
pub(crate) fn audit_database(
    pool: &sqlx::MySqlPool,
    auth: &AdminAuthSettings,
) -> Result<String, ConfigError> {
    let service = pool
        .connect_options()
        .get_database()
        .unwrap_or_default()
        .to_owned();
    auth.audit_database_for(&service)
}

/// The client's address ([`shop_runtime::http::ClientIp`]) is told by the core's proxies.
impl FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        TrustedProxies::from_ref(&state.core)
    }
}

/// The health check's path.
pub const HEALTH_PATH: &str = "/api/health";

/// All routes, with the shared middleware.
pub fn router(state: AppState) -> Router {
    // Every route but the list (served from memory) needs the database: a permit first.
    let admit = axum::middleware::from_fn_with_state(
        state.core.admission.clone(),
        shop_runtime::http::admission::admit,
    );
    let routes = Router::new()
        .route("/api/products", post(api::create_product))
        .route("/api/products/bulk-delete", post(bulk::bulk_delete))
        .route(
            "/api/products/{id}",
            get(api::get_product)
                .put(api::update_product)
                .patch(edit::patch_product)
                .delete(api::delete_product),
        )
        .route(
            "/api/products/{id}/history",
            get(audit::routes::product_history),
        )
        .route("/api/audit", get(audit::routes::audit_log))
        .route("/api/user", get(api::random_user))
        .route("/api/auth/login", post(auth::handlers::login))
        .route("/api/auth/logout", post(auth::handlers::logout))
        .route("/api/auth/me", get(auth::handlers::me))
        .route(
            "/api/auth/password",
            axum::routing::put(auth::own::change_password),
        )
        .route("/api/auth/sessions", get(auth::sessions::list))
        .route("/api/auth/sessions/{id}", delete(auth::sessions::revoke))
        .route(
            "/api/auth/sessions/sign-out-others",
            post(auth::sessions::sign_out_others),
        )
        .route(
            "/api/admins",
            get(accounts::handlers::list).post(accounts::handlers::create),
        )
        .route("/api/admins/{id}", patch(accounts::handlers::update))
        .route("/api/admins/{id}/link", post(accounts::handlers::link))
        .route("/api/account-links/inspect", post(accounts::links::inspect))
        .route("/api/account-links/redeem", post(accounts::links::redeem))
        .route("/api/tokens", get(tokens::list).post(tokens::create))
        .route("/api/tokens/{id}", delete(tokens::revoke))
        .route_layer(admit)
        .route("/api/products", get(api::list_products))
        .layer(state.auth.sessions(auth::store(&state.core.pool)))
        .layer(axum::middleware::from_fn(auth::no_store_when_signed_in));
    let docs = Docs::new("/api/docs", "/api/openapi.json", ApiDoc::openapi());
    service_router(routes, state, HEALTH_PATH, docs)
}

/// The admin API as the runtime runs it (`shop_runtime::service::run_http`): its relay
/// publishes to the `MAIN_QUEUE`.
impl HttpService for AppState {
    type Settings = AdminAuthSettings;

    fn settings(env: &Env) -> Result<AdminAuthSettings, ConfigError> {
        AdminAuthSettings::from_env(env)
    }

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn searchable() -> &'static str {
        db::SEARCHABLE
    }

    fn router(core: Core, api: &ApiSettings, auth: &AdminAuthSettings) -> Router {
        metrics::describe();
        // Expired sessions, and their rows in the sessions list, are deleted every
        // PURGE_INTERVAL_SECS, hourly by default (a valid one is never served past its end).
        let store = auth::store(&core.pool);
        let pool = core.pool.clone();
        let every = auth.purge_interval;
        tokio::spawn(async move {
            use tower_sessions::ExpiredDeletion;
            let mut hourly = tokio::time::interval(every);
            loop {
                hourly.tick().await;
                let store_purged = store.delete_expired().await;
                if let Err(e) = &store_purged {
                    tracing::warn!(error = %e, "cannot delete expired sessions");
                }
                let purged = auth::sessions::delete_expired(&pool).await;
                if let Err(e) = &purged {
                    tracing::warn!(error = %e, "cannot delete expired admin_sessions rows");
                }
                let both = store_purged.map_err(drop).and(purged.map_err(drop));
                shop_runtime::metrics::purged("sessions", &both);
            }
        });
        let audit = audit_database(&core.pool, auth)
            .map(|db| AuditLog::in_database(&db))
            .expect("checked by prepare, which runs first");
        router(AppState::new(
            core,
            auth.clone(),
            api.http.cookie_secure,
            audit,
        ))
    }

    fn prepare<'a>(
        pool: &'a sqlx::MySqlPool,
        auth: &'a AdminAuthSettings,
    ) -> futures_util::future::BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let database = audit_database(pool, auth)?;
            audit::prepare(pool, &database).await?;
            Ok(())
        })
    }

    fn warnings(auth: &AdminAuthSettings) -> Vec<&'static str> {
        if auth.disabled {
            vec!["ADMIN_AUTH=disabled: anyone who can reach admin-api can change the catalogue"]
        } else {
            Vec::new()
        }
    }
}
