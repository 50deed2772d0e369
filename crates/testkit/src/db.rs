//! Databases: the MariaDB server tests use, and a database of one test's own.

use std::net::SocketAddr;

use sqlx::{Connection as _, MySqlConnection};

use crate::{unique, urls};

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/mysql";
const VARIABLES: &str = "TEST_DATABASE_URL or DATABASE_URL";

fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The MySQL server tests use, without a database name: tests name their own.
pub fn mysql_server_url() -> String {
    urls::server_only(&database_url(), VARIABLES)
}

/// host:port of the MySQL server tests use, for proxies in front of it.
pub fn mysql_addr() -> SocketAddr {
    urls::socket_addr(&database_url(), VARIABLES, 3306)
}

/// A database created for one test and dropped by [`TestDatabase::drop_database`].
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    /// Names a new database; the service under test creates it (DB_CREATE_IF_MISSING).
    pub fn named(prefix: &str) -> Self {
        TestDatabase {
            name: unique(prefix),
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", mysql_server_url(), self.name)
    }

    pub async fn connect(&self) -> MySqlConnection {
        MySqlConnection::connect(&self.url()).await.unwrap()
    }

    pub async fn drop_database(&self) {
        let mut conn = MySqlConnection::connect(&format!("{}/mysql", mysql_server_url()))
            .await
            .unwrap();
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}
