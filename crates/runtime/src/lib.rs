//! What admin-svc and main-svc share, so that neither repeats the other: typed settings from
//! the environment, the MySQL pool, the AMQP connection and queue topology, the transactional
//! outbox and its relay, logging, Prometheus metrics, HTTP middleware and graceful shutdown.
//!
//! The tables the runtime's code reads and writes (`outbox`, `processed_messages`) are the
//! runtime's too: their one definition is `crates/runtime/migrations/`, which each service
//! applies together with its own through [`migrations::with_runtime`], in the one
//! `_sqlx_migrations` history sqlx keeps, under the versions and bytes the services used
//! before, so databases migrated before keep working. The reasons are in [`migrations`].

pub mod admission;
pub mod amqp;
pub mod backoff;
pub mod changes;
pub mod consumer;
pub mod db;
pub mod health;
pub mod http;
pub mod listing;
pub mod metrics;
pub mod migrations;
pub mod openapi;
pub mod origin;
pub mod outbox;
pub mod secrets;
pub mod server;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod statement;
pub mod telemetry;

pub use settings::{ConfigError, Env, Settings};
