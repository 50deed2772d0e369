//! A MariaDB server of a test's own (another port, its own data directory under /tmp), for
//! tests that configure the server (TLS) without touching the machine's. Stopped and removed
//! when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, MySqlConnection};

use crate::tls::TestCerts;
use crate::{free_port, unique};

pub struct MariaDbNode {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl MariaDbNode {
    /// Initialises a data directory and starts `mariadbd` on a free port of 127.0.0.1, with
    /// `root@127.0.0.1` without a password, and TLS with `certs` when given. Waits until it
    /// accepts connections.
    pub async fn start(certs: Option<&TestCerts>) -> Self {
        let dir = std::env::temp_dir().join(unique("mariadb-node"));
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(
            dir.join("init.sql"),
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';\n\
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n",
        )
        .unwrap();
        // The server drops to the mysql user when started as root.
        let _ = Command::new("chown")
            .args(["-R", "mysql:mysql"])
            .arg(&dir)
            .status();
        let out = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                &format!("--datadir={}", path(&data)),
                "--user=mysql",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("mariadb-install-db must be installed (mariadb-server)");
        assert!(
            out.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut cmd = Command::new("mariadbd");
        cmd.args([
            "--no-defaults".to_owned(),
            format!("--datadir={}", path(&data)),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".to_owned(),
            format!("--socket={}", path(&dir.join("mysqld.sock"))),
            format!("--pid-file={}", path(&dir.join("mysqld.pid"))),
            format!("--log-error={}", path(&dir.join("error.log"))),
            format!("--init-file={}", path(&dir.join("init.sql"))),
            "--user=mysql".to_owned(),
            "--skip-name-resolve".to_owned(),
            "--innodb-buffer-pool-size=32M".to_owned(),
        ]);
        if let Some(certs) = certs {
            cmd.args([
                format!("--ssl-ca={}", path(&certs.ca)),
                format!("--ssl-cert={}", path(&certs.cert)),
                format!("--ssl-key={}", path(&certs.key)),
            ]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd must be installed");
        let node = MariaDbNode { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let url = format!("{}/mysql?ssl-mode=disabled", node.root_url());
            if let Ok(conn) = MySqlConnection::connect(&url).await {
                let _ = conn.close().await;
                return node;
            }
            assert!(
                Instant::now() < deadline,
                "mariadbd did not start within 60 s (log: {})",
                node.dir.join("error.log").display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The OS process id of `mariadbd` (to pause it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its directory: the data directory (`data/`) and the error log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `mysql://root@127.0.0.1:<port>`, without a database.
    pub fn root_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }
}

impl Drop for MariaDbNode {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
