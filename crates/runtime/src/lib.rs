//! What admin-svc and main-svc share, so that neither repeats the other: typed settings from
//! the environment, the MySQL pool, the AMQP connection and queue topology, the transactional
//! outbox and its relay, the consumer loop, the in-memory product lists, logging, Prometheus
//! metrics, HTTP middleware and graceful shutdown.
//!
//! # Layers
//!
//! The modules are layered: each imports only from the layers below it (and within its own
//! layer, without a cycle). `tests/layers.rs` reads the `crate::` paths of every module and
//! fails on an import that goes up or round, so the order stays true.
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 0 foundations | [`config`], [`backoff`], [`shutdown`], [`metrics`], [`memory`], [`statement`], [`telemetry`] | environment values, retry timing, signals, metric definitions, freed memory given back, timed statements, logs and traces |
//! | 1 credentials | [`secrets`] | reading credentials from AWS Secrets Manager |
//! | 2 settings | [`settings`] | plain data, per process: every process's, an API's, a consumer's |
//! | 3 connections | [`db`], [`amqp`], [`migrations`] | the pool, the broker and its topology, the schema |
//! | 4 problems | [`problem`] | the JSON error answers, `Retry-After` built in one place |
//! | 5 HTTP | [`http`] | middleware, server, client address, origins, admission, probes |
//! | 6 loops | [`outbox`], [`consumer`], [`dead_letters`], [`lists`] | the relay, the consumer loop, dead letters and their tools, the product lists and their change feed |
//! | 7 processes | [`service`] | an API process, a consumer process, their start and documents, the consumers' commands |
//!
//! The tables the runtime's code reads and writes (`outbox`, `processed_messages`,
//! `cache_versions`) are the runtime's too: their one definition is
//! `crates/runtime/migrations/`, which each service applies together with its own through
//! [`migrations::with_runtime`], in the one `_sqlx_migrations` history sqlx keeps, under the
//! versions and bytes the services used before, so databases migrated before keep working.
//! The reasons are in [`migrations`].

// Layer 0
pub mod backoff;
pub mod config;
pub mod memory;
pub mod metrics;
pub mod shutdown;
pub mod statement;
pub mod telemetry;
// Layer 1
pub mod secrets;
// Layer 2
pub mod settings;
// Layer 3
pub mod amqp;
pub mod db;
pub mod migrations;
// Layer 4
pub mod problem;
// Layer 5
pub mod http;
// Layer 6
pub mod consumer;
pub mod dead_letters;
pub mod lists;
pub mod outbox;
// Layer 7
pub mod service;

pub use config::{ConfigError, Env, Secret};
pub use settings::{ApiSettings, ConsumerProcessSettings, Settings};
