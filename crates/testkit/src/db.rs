//! Databases: the MariaDB server tests use, and a database of one test's own.

use std::net::SocketAddr;

use sqlx::{Connection as _, MySqlConnection};

use crate::unique;

/// The MySQL server tests use, without a database name.
pub fn mysql_server_url() -> String {
    let url = std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/mysql".to_owned());
    // Strip the database part: tests name their own.
    match url.rfind('/') {
        Some(i) if i > "mysql://".len() => url[..i].to_owned(),
        _ => url,
    }
}

/// host:port of the MySQL server tests use, for proxies in front of it.
pub fn mysql_addr() -> SocketAddr {
    let url = mysql_server_url();
    let host_port = url
        .rsplit('@')
        .next()
        .unwrap_or("127.0.0.1:3306")
        .trim_start_matches("mysql://");
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:3306")
    };
    host_port
        .replace("localhost", "127.0.0.1")
        .parse()
        .unwrap_or_else(|_| "127.0.0.1:3306".parse().unwrap())
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
