//! The parts of every service's OpenAPI document that the runtime answers itself: the
//! operations routes ([`super::operations_routes`]), the paging parameters of the
//! product lists ([`crate::lists::page`]), product ids in paths ([`crate::http::positive_id`]),
//! and the answers of the shared middleware (a cross-site write refused, a request shed when
//! the service is busy, a body over the limit).
//!
//! The services reference the responses by name (`response = shop_runtime::service::openapi::Busy`)
//! and list them under `components(responses(...))` of their document.

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{
    ComponentsBuilder, Content, OpenApi, OpenApiBuilder, Ref, RefOr, ResponseBuilder, Schema,
};
use utoipa::{IntoParams, PartialSchema, ToResponse, ToSchema};

use crate::problem::ErrorBody;

/// What the document says of `/alive`, `/ready` and `/metrics`.
const PROCESS_ONLY: &str = "Served by each process on its own port, for Prometheus and the \
     probes of Kubernetes and compose; the shop's web server (nginx) does not pass it on.";

/// The probes (`/alive`, `/ready`, the original's health check at `health_path`) and
/// `/metrics`, to merge into a service's document.
pub fn operations(health_path: &str) -> OpenApi {
    let report = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("HealthReport"))),
            )
            .build()
    };
    let readiness = |id: &str, summary: &str| {
        OperationBuilder::new()
            .tag("operations")
            .operation_id(Some(id))
            .summary(Some(summary))
            .response("200", report("Ready"))
            .response("503", report("A dependency it needs is down"))
    };
    let health = readiness(
        "health",
        "The original's health check: 200 when the database answers and the broker is \
         connected; 503 naming what failed.",
    );
    let ready = readiness(
        "ready",
        "200 while the process can do its work (an API: its database answers; a consumer: \
         its database answers and its broker is connected); 503 naming what failed.",
    )
    .description(Some(PROCESS_ONLY));
    let alive = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("alive"))
        .summary(Some("200 whenever the process answers."))
        .description(Some(PROCESS_ONLY))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Alive: {\"status\": \"alive\"}")
                .content("application/json", Content::new(None::<Schema>))
                .build(),
        );
    let metrics = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("metrics"))
        .summary(Some("Prometheus metrics in text format."))
        .description(Some(PROCESS_ONLY))
        .response(
            "200",
            ResponseBuilder::new()
                .description("Prometheus text format")
                .content("text/plain", Content::new(None::<Schema>))
                .build(),
        );
    OpenApiBuilder::new()
        .paths(
            PathsBuilder::new()
                .path(health_path, PathItem::new(HttpMethod::Get, health))
                .path("/alive", PathItem::new(HttpMethod::Get, alive))
                .path("/ready", PathItem::new(HttpMethod::Get, ready))
                .path("/metrics", PathItem::new(HttpMethod::Get, metrics)),
        )
        .components(Some(
            ComponentsBuilder::new()
                .schema("HealthReport", health_report())
                .build(),
        ))
        .build()
}

/// The health answer's body (`crate::http::health::HealthReport`).
fn health_report() -> Schema {
    let state = |values: [&str; 2]| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    };
    let texts = |description: &str| {
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(description))
            .build()
    };
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("What a health check found"))
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["ok", "degraded", "unavailable"]))
                    .description(Some(
                        "degraded: ready, with something it can do without down (an API's broker)",
                    ))
                    .build(),
            )
            .required("status")
            .property("database", state(["up", "down"]))
            .required("database")
            .property("broker", state(["up", "down"]))
            .required("broker")
            .property(
                "errors",
                texts("The failed dependencies, with a short reason each (only when some failed)"),
            )
            .property(
                "warnings",
                texts("Unsafe configuration an operator should know of, e.g. ADMIN_AUTH=disabled"),
            )
            .build(),
    )
}

/// `?limit=N&after=ID`: one page of a product list (`crate::lists::page::Page`). Other query
/// parameters are ignored.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// A page of at most this many products (1 to 1000); without `limit` or `after`, all of
    /// them.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Products with a larger id than this; the page size is 100 without `limit`.
    #[param(value_type = Option<AfterId>, inline)]
    pub after: Option<u64>,
}

/// `?q=…`: a search by title (`crate::lists::search`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Products whose title has these words (case and accents ignored; the last word may be
    /// the start of one). With no letters or digits, no filter. A page of 100 without `limit`.
    #[param(max_length = 200)]
    pub q: Option<String>,
}

/// `after`: a whole number from 0 to 2^64 − 1 in plain digits (the format `int64` would cap
/// it at 2^63 − 1).
pub struct AfterId;

impl PartialSchema for AfterId {
    fn schema() -> RefOr<Schema> {
        unsigned(0).into()
    }
}

impl ToSchema for AfterId {}

/// `{id}` in a product's path: a whole number from 1 to 2^64 − 1 in plain digits; anything
/// else names no product (404). Used as `("id" = inline(ProductId), Path, …)`.
pub struct ProductId;

impl PartialSchema for ProductId {
    fn schema() -> RefOr<Schema> {
        unsigned(1).into()
    }
}

impl ToSchema for ProductId {}

/// A whole number from `minimum` to 2^64 − 1.
fn unsigned(minimum: usize) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(minimum))
            .maximum(Some(u64::MAX as usize))
            .build(),
    )
}

/// Refused: a browser request from another site (`Sec-Fetch-Site` or `Origin` names one
/// that is not the shop's own nor listed in `CORS_ALLOWED_ORIGINS`). Only state-changing
/// methods are checked; a client that is not a browser sends neither header and passes.
#[derive(ToResponse)]
pub struct CrossSiteRefused(pub ErrorBody);

/// The service is busy (every database connection taken and the queue for them full, or
/// none came in time): try again after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait before trying again")))]
pub struct Busy(pub ErrorBody);

/// The request body is larger than 64 KiB.
#[derive(ToResponse)]
pub struct BodyTooLarge(pub ErrorBody);
