//! The parts of every service's OpenAPI document that the runtime serves itself: the
//! operations routes ([`crate::service::operations_routes`]).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::{Content, OpenApi, OpenApiBuilder, ResponseBuilder, Schema};

/// The health check at `health_path` and `/metrics`, to merge into a service's document.
pub fn operations(health_path: &str) -> OpenApi {
    let health = OperationBuilder::new()
        .tag("operations")
        .operation_id(Some("health"))
        .summary(Some(
            "200 when the database answers and the broker is connected; 503 naming what failed.",
        ))
        .response("200", ResponseBuilder::new().description("Healthy").build())
        .response(
            "503",
            ResponseBuilder::new()
                .description("A dependency is down")
                .build(),
        );
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
                .path("/metrics", PathItem::new(HttpMethod::Get, metrics)),
        )
        .build()
}
