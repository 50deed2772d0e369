//! The processes, assembled from the layers below: an HTTP API ([`api`]: pool, migrations,
//! outbox relay, change feed, router, graceful stop) and a consumer ([`consumer`]: the
//! consumer loop and its probe server), each started the same way ([`start`]: environment,
//! logs, typed settings, secrets), and the documents of their routes ([`openapi`]).

pub mod api;
pub mod consumer;
pub mod openapi;
pub mod start;
pub mod tools;

pub use api::{
    ApiCommand, Core, Docs, HttpService, migrate, operations_routes, run_command, run_http,
    service_router,
};
