//! What admin-svc and main-svc share, so that neither repeats the other: typed settings from
//! the environment, the MySQL pool, the AMQP connection and queue topology, the transactional
//! outbox and its relay, logging, Prometheus metrics, HTTP middleware and graceful shutdown.

pub mod amqp;
pub mod backoff;
pub mod consumer;
pub mod db;
pub mod health;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod telemetry;

pub use settings::{ConfigError, Env, Settings};
