//! Databases: the MariaDB server tests use, and a database of one test's own.

use std::net::SocketAddr;

use sqlx::{Connection as _, MySqlConnection};

use crate::{unique, urls};

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306/mysql";
const VARIABLES: &str = "TEST_DATABASE_URL or DATABASE_URL";

/// A server set by [`use_server`], before the environment's.
static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes every database, user and statement of this process's testkit go to the server at
/// `url` (`mysql://root@host:port/mysql`) instead of `TEST_DATABASE_URL` or `DATABASE_URL`:
/// for a program that starts a [`crate::MariaDbNode`] of its own (the soak). Once per
/// process; `false` when a server was set already.
pub fn use_server(url: &str) -> bool {
    SERVER.set(url.to_owned()).is_ok()
}

fn database_url() -> String {
    if let Some(url) = SERVER.get() {
        return url.clone();
    }
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
        // With admin-api's audit log beside it (`<database>_audit`), if it made one.
        for name in [self.name.clone(), format!("{}_audit", self.name)] {
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS `{name}`"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// The statements that create a service's users (`scripts/grants.sql`, which
/// `scripts/run-local.sh` runs too).
const GRANTS: &str = include_str!("../../../scripts/grants.sql");

/// A MariaDB user made for one test.
#[derive(Debug, Clone)]
pub struct DbUser {
    pub name: String,
    pub password: String,
}

impl DbUser {
    /// `mysql://user:password@server/database`
    pub fn url(&self, database: &str) -> String {
        let mut url = url::Url::parse(&format!("{}/{database}", mysql_server_url())).unwrap();
        url.set_username(&self.name).unwrap();
        url.set_password(Some(&self.password)).unwrap();
        url.into()
    }

    /// Gives the user a new password, as a rotation does.
    pub async fn set_password(&mut self, password: &str) {
        root_execute(&format!(
            "ALTER USER '{}'@'%' IDENTIFIED BY '{password}'",
            self.name
        ))
        .await;
        self.password = password.to_owned();
    }

    pub async fn drop_user(&self) {
        root_execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.name)).await;
    }
}

/// The two users of one service's database, as `scripts/grants.sql` makes them: the API's
/// (DDL and rows) and the consumer's (rows only).
#[derive(Debug, Clone)]
pub struct ServiceUsers {
    pub api: DbUser,
    pub consumer: DbUser,
}

impl ServiceUsers {
    /// Creates both users for `database` (which need not exist yet) with new passwords.
    pub async fn create(database: &str) -> Self {
        let tag = &unique("u")[2..];
        let user = |role: &str| DbUser {
            name: format!("t_{role}_{tag}"),
            password: unique("pw"),
        };
        let users = ServiceUsers {
            api: user("api"),
            consumer: user("con"),
        };
        let sql = GRANTS
            .replace(
                "{database}",
                &database.replace('_', "\\_").replace('%', "\\%"),
            )
            .replace("{api_user}", &users.api.name)
            .replace("{api_password}", &users.api.password)
            .replace("{consumer_user}", &users.consumer.name)
            .replace("{consumer_password}", &users.consumer.password);
        let statements: String = sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        for statement in statements
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            root_execute(statement).await;
        }
        users
    }

    pub async fn drop_users(&self) {
        self.api.drop_user().await;
        self.consumer.drop_user().await;
    }
}

/// Runs one statement as the server's administrator (the tests' own URL).
pub async fn root_execute(sql: &str) {
    let mut conn = MySqlConnection::connect(&format!("{}/mysql", mysql_server_url()))
        .await
        .unwrap();
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
