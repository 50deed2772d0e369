//! The parts of every service's OpenAPI document that the runtime serves itself: the
//! operations routes ([`super::operations_routes`]).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::{Content, OpenApi, OpenApiBuilder, ResponseBuilder, Schema};

/// The probes (`/alive`, `/ready`, the original's health check at `health_path`) and
/// `/metrics`, to merge into a service's document.
pub fn operations(health_path: &str) -> OpenApi {
    let readiness = |id: &str, summary: &str| {
        OperationBuilder::new()
            .tag("operations")
            .operation_id(Some(id))
            .summary(Some(summary))
            .response("200", ResponseBuilder::new().description("Ready").build())
            .response(
                "503",
                ResponseBuilder::new()
                    .description("A dependency is down")
                    .build(),
            )
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
    );
    let alive = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("alive"))
        .summary(Some("200 whenever the process answers."))
        .response("200", ResponseBuilder::new().description("Alive").build());
    let metrics = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("metrics"))
        .summary(Some("Prometheus metrics in text format."))
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
        .build()
}
