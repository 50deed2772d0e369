//! Test support for the services' tests and the system tests. Everything here talks to the
//! real MariaDB and RabbitMQ: `TEST_DATABASE_URL` or `DATABASE_URL` (server URL, any
//! database) and `AMQP_URL`, defaulting to the local services.
//!
//! - [`db`]: the MariaDB server, and databases of one test's own;
//! - [`broker`]: the broker, and a reader that takes messages off a queue;
//! - [`proxy`]: a TCP proxy a test cuts to take a server away;
//! - [`service`]: binaries spawned on free ports;
//! - [`sockets`]: who listens on a port (`/proc`), and what waits in its accept queue;
//! - [`rabbit_node`]: a RabbitMQ node of a test's own, to stop and restart;
//! - [`rabbit_cluster`]: a three-node RabbitMQ cluster of a test's own, to kill a node of
//!   and to partition;
//! - [`poll`]: waiting for what another process does;
//! - [`stack`]: the whole back end, four processes (and more replicas of them), and a client
//!   of its two APIs;
//! - [`happy_path`]: create, listed, liked, counted: the path every user takes, written once
//!   for the system tests and the compose proof;
//! - [`monitoring`]: Prometheus and mysqld_exporter, for the checks of `grafana-prometheus/`;
//! - [`alerting`]: Alertmanager and a webhook receiver that keeps its notifications;
//! - [`hangup`] and [`leftovers`]: clients that hang up, and what they must not leave;
//! - [`otlp`]: a real OTLP trace receiver;
//! - [`moto`]: Secrets Manager on loopback (moto in server mode);
//! - [`tls`] and [`mariadb_node`]: certificates of a test's own, and a MariaDB server of its
//!   own to give them to (and [`rabbit_node`] a TLS listener).
#![allow(clippy::unwrap_used)]

pub mod alerting;
pub mod broker;
pub mod db;
pub mod hangup;
pub mod happy_path;
pub mod leftovers;
pub mod mariadb_node;
pub mod monitoring;
pub mod moto;
pub mod otlp;
pub mod poll;
pub mod proxy;
pub mod rabbit_cluster;
pub mod rabbit_node;
pub mod service;
pub mod sockets;
pub mod sse;
pub mod stack;
pub mod tls;
mod urls;
pub mod web;

pub use broker::{QueueReader, amqp_addr, amqp_url};
pub use db::{DbUser, ServiceUsers, TestDatabase, mysql_addr, mysql_server_url};
pub use happy_path::{HappyPath, happy_path};
pub use mariadb_node::MariaDbNode;
pub use moto::Moto;
pub use otlp::{OtlpReceiver, ReceivedSpan};
pub use poll::{Watch, Watched, eventually, seen};
pub use proxy::TcpProxy;
pub use rabbit_cluster::{QueueInfo, RabbitCluster};
pub use rabbit_node::{NodeOptions, RabbitNode};
pub use service::{Service, admin_token_of, binary_in, free_port, workspace_binary};
pub use stack::{Overrides, Proc, ShopClient, ShopStack, WAIT};
pub use tls::TestCerts;

/// A short unique suffix for names of databases and queues.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
