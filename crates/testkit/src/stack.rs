//! The whole back end as real processes: admin-api, admin-consumer, main-api,
//! main-consumer, each on a free port, with two fresh databases and two fresh queues (and,
//! with [`ShopStack::add_replica`], more replicas of any of them sharing both). Each
//! process logs in as a database user of its own with only its own rights
//! (`scripts/grants.sql`): an API migrates and writes its database, a consumer reads and
//! writes rows of its own (no DDL), and neither reaches the other service's database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    DbUser, QueueReader, Service, ServiceUsers, TestDatabase, eventually, unique, workspace_binary,
};

/// One of the four processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proc {
    AdminApi,
    AdminConsumer,
    MainApi,
    MainConsumer,
}

impl Proc {
    pub const ALL: [Proc; 4] = [
        Proc::AdminApi,
        Proc::MainApi,
        Proc::AdminConsumer,
        Proc::MainConsumer,
    ];

    pub fn binary(self) -> &'static str {
        match self {
            Proc::AdminApi => "admin-api",
            Proc::AdminConsumer => "admin-consumer",
            Proc::MainApi => "main-api",
            Proc::MainConsumer => "main-consumer",
        }
    }

    pub fn health_path(self) -> &'static str {
        match self {
            Proc::AdminApi => "/api/health",
            Proc::MainApi => "/flask/api/health",
            Proc::AdminConsumer | Proc::MainConsumer => "/health",
        }
    }
}

/// Extra or replaced environment variables for some processes. `{database}` in a value is
/// replaced by the name of the process's own database, `{user}` and `{password}` by its
/// database user's, e.g. to reach it through a proxy:
/// `format!("mysql://{{user}}:{{password}}@{}/{{database}}", proxy.addr)`.
pub type Overrides = HashMap<Proc, Vec<(&'static str, String)>>;

pub struct ShopStack {
    pub admin_db: TestDatabase,
    pub main_db: TestDatabase,
    /// admin-api's and admin-consumer's database users.
    pub admin_users: ServiceUsers,
    /// main-api's and main-consumer's database users.
    pub main_users: ServiceUsers,
    pub main_queue: String,
    pub admin_queue: String,
    pub amqp_url: String,
    /// Where [`ShopStack::broker`] connects, the first that answers: `amqp_url`, or each
    /// node of a cluster.
    broker_urls: Vec<String>,
    envs: HashMap<Proc, HashMap<String, String>>,
    procs: HashMap<Proc, Service>,
    /// Replicas started by [`ShopStack::add_replica`] (`None`: killed), numbered from 2.
    replicas: HashMap<Proc, Vec<Option<Service>>>,
    /// `/metrics` of processes as they were just before they were SIGKILLed.
    killed_metrics: Vec<(Proc, String)>,
    /// What users do, over HTTP. The APIs are never respawned, so it stays valid.
    pub client: ShopClient,
    log_dir: Option<std::path::PathBuf>,
}

pub const WAIT: Duration = Duration::from_secs(30);

impl ShopStack {
    /// Starts all four processes against the broker at `amqp_url` and waits until each is
    /// healthy.
    pub async fn start(amqp_url: &str, overrides: Overrides) -> Self {
        Self::prepare(amqp_url, overrides).await.launch().await
    }

    /// [`ShopStack::start`] against a cluster: every process gets its first node's URL as
    /// `AMQP_URL` and all its nodes as `AMQP_ADDRESSES` (unless `overrides` says otherwise);
    /// [`ShopStack::broker`] connects to whichever node answers.
    pub async fn start_on_cluster(
        cluster: &crate::RabbitCluster,
        mut overrides: Overrides,
    ) -> Self {
        for p in Proc::ALL {
            let env = overrides.entry(p).or_default();
            if !env.iter().any(|(k, _)| *k == "AMQP_ADDRESSES") {
                env.insert(0, ("AMQP_ADDRESSES", cluster.addresses()));
            }
        }
        let mut stack = Self::prepare(&cluster.amqp_url(), overrides).await;
        stack.broker_urls = cluster.urls();
        stack.launch().await
    }

    /// Everything [`ShopStack::start`] does before it starts the processes: the databases'
    /// names, their users, the queues' names, each process's environment. For a test that
    /// needs the users first (to put their passwords in secrets); [`ShopStack::launch`]
    /// starts the processes.
    pub async fn prepare(amqp_url: &str, overrides: Overrides) -> Self {
        // A missing binary fails here, before any database or queue exists to be left behind.
        for p in Proc::ALL {
            workspace_binary(p.binary());
        }
        let admin_db = TestDatabase::named("sys_admin");
        let main_db = TestDatabase::named("sys_main");
        let admin_users = ServiceUsers::create(&admin_db.name).await;
        let main_users = ServiceUsers::create(&main_db.name).await;
        let main_queue = unique("sys-main");
        let admin_queue = unique("sys-admin");
        let mut envs = HashMap::new();
        for p in Proc::ALL {
            let (db, user): (&TestDatabase, &DbUser) = match p {
                Proc::AdminApi => (&admin_db, &admin_users.api),
                Proc::AdminConsumer => (&admin_db, &admin_users.consumer),
                Proc::MainApi => (&main_db, &main_users.api),
                Proc::MainConsumer => (&main_db, &main_users.consumer),
            };
            let mut env = HashMap::from([
                ("DATABASE_URL".to_owned(), user.url(&db.name)),
                ("AMQP_URL".to_owned(), amqp_url.to_owned()),
                ("MAIN_QUEUE".to_owned(), main_queue.clone()),
                ("ADMIN_QUEUE".to_owned(), admin_queue.clone()),
                ("AMQP_RECONNECT_MAX_MS".to_owned(), "1000".to_owned()),
                // All of a test's traffic comes from one address: no like limits (they
                // have tests of their own).
                ("LIKES_PER_MINUTE_PER_ADDRESS".to_owned(), "0".to_owned()),
                ("LIKES_PER_MINUTE_PER_SHOPPER".to_owned(), "0".to_owned()),
            ]);
            for (k, v) in overrides.get(&p).into_iter().flatten() {
                let v = v
                    .replace("{database}", &db.name)
                    .replace("{user}", &user.name)
                    .replace("{password}", &user.password);
                env.insert((*k).to_owned(), v);
            }
            envs.insert(p, env);
        }
        ShopStack {
            admin_db,
            main_db,
            admin_users,
            main_users,
            main_queue,
            admin_queue,
            amqp_url: amqp_url.to_owned(),
            broker_urls: vec![amqp_url.to_owned()],
            envs,
            procs: HashMap::new(),
            replicas: HashMap::new(),
            killed_metrics: Vec::new(),
            client: ShopClient::default(),
            log_dir: None,
        }
    }

    /// Writes what each process prints to `<dir>/<binary>.log` (appended to by a respawn),
    /// instead of the test's output.
    pub fn log_to(mut self, dir: &std::path::Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        self.log_dir = Some(dir.to_owned());
        self
    }

    /// Where process `p`'s output goes, with [`ShopStack::log_to`].
    pub fn log_path(&self, p: Proc) -> Option<std::path::PathBuf> {
        self.log_dir
            .as_ref()
            .map(|d| d.join(format!("{}.log", p.binary())))
    }

    /// Where replica `n` (from 2) of `p` logs, with [`ShopStack::log_to`].
    fn replica_log_path(&self, p: Proc, n: usize) -> Option<std::path::PathBuf> {
        self.log_dir
            .as_ref()
            .map(|d| d.join(format!("{}-{n}.log", p.binary())))
    }

    /// Starts the four processes of a prepared stack and waits until each is healthy.
    pub async fn launch(mut self) -> Self {
        // The APIs create and migrate the databases; the consumers wait for that.
        for p in Proc::ALL {
            self.spawn(p).await;
        }
        self.wait_healthy().await;
        let token = self.create_token().await;
        self.client = ShopClient::new(
            self.svc(Proc::AdminApi).base_url.clone(),
            self.svc(Proc::MainApi).base_url.clone(),
            Some(token),
        );
        self
    }

    /// An API token for the admin's writes, on the stack's admin database.
    async fn create_token(&self) -> String {
        crate::service::admin_token(&self.envs[&Proc::AdminApi]).await
    }

    async fn spawn(&mut self, p: Proc) {
        let svc = self.start_process(p, self.log_path(p)).await;
        self.procs.insert(p, svc);
    }

    /// Starts `p`'s binary with its environment, logging to `log` when given.
    async fn start_process(&self, p: Proc, log: Option<std::path::PathBuf>) -> Service {
        Service::spawn_with(
            &workspace_binary(p.binary()),
            &self.envs[&p],
            p.health_path(),
            log.as_deref(),
        )
        .await
    }

    /// Process `p`'s environment: another replica of it started with this environment
    /// shares its database and queues.
    pub fn env(&self, p: Proc) -> &HashMap<String, String> {
        &self.envs[&p]
    }

    pub fn svc(&self, p: Proc) -> &Service {
        &self.procs[&p]
    }

    /// Another replica of `p` with its environment (and `extra`), sharing its database and
    /// queues, once healthy; the caller owns it (see [`ShopStack::add_replica`] for one the
    /// stack owns).
    pub async fn spawn_replica(&self, p: Proc, extra: &[(&str, &str)]) -> Service {
        let mut env = self.envs[&p].clone();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let svc = Service::spawn(&workspace_binary(p.binary()), &env, p.health_path()).await;
        svc.wait_healthy(p.health_path(), WAIT).await;
        svc
    }

    /// Starts another replica of `p`, owned by the stack (in its health waits, its checks'
    /// figures, [`ShopStack::stop`]); returns its number (the first replica, `svc(p)`, is
    /// 1), once healthy.
    pub async fn add_replica(&mut self, p: Proc) -> usize {
        let n = self.replicas.get(&p).map_or(0, Vec::len) + 2;
        let svc = self.start_process(p, self.replica_log_path(p, n)).await;
        svc.wait_healthy(p.health_path(), WAIT).await;
        self.replicas.entry(p).or_default().push(Some(svc));
        n
    }

    /// Replica `n` of `p` (1: [`ShopStack::svc`]).
    pub fn replica(&self, p: Proc, n: usize) -> &Service {
        if n == 1 {
            return self.svc(p);
        }
        self.replicas[&p][n - 2].as_ref().expect("replica killed")
    }

    /// Every running replica of `p`, the first one first.
    pub fn instances(&self, p: Proc) -> Vec<&Service> {
        self.procs
            .get(&p)
            .into_iter()
            .chain(self.replicas.get(&p).into_iter().flatten().flatten())
            .collect()
    }

    /// Waits until every process reports healthy.
    pub async fn wait_healthy(&self) {
        for p in Proc::ALL {
            for svc in self.instances(p) {
                eventually(WAIT, &format!("{} healthy", p.binary()), || {
                    crate::service::answers_ok(&svc.http, svc.url(p.health_path()))
                })
                .await;
            }
        }
    }

    /// SIGKILL: no shutdown, no ack of the message in hand. Its `/metrics` just before are
    /// kept ([`ShopStack::killed_metrics`]).
    pub async fn kill(&mut self, p: Proc) {
        let svc = self.procs.remove(&p).unwrap();
        self.kill_service(p, svc).await;
    }

    /// SIGKILL of replica `n` (from 2) of `p`, as [`ShopStack::kill`].
    pub async fn kill_replica(&mut self, p: Proc, n: usize) {
        let svc = self.replicas.get_mut(&p).unwrap()[n - 2]
            .take()
            .expect("replica already killed");
        self.kill_service(p, svc).await;
    }

    async fn kill_service(&mut self, p: Proc, mut svc: Service) {
        let scrape = svc.http.get(svc.url("/metrics")).send();
        if let Ok(Ok(res)) = tokio::time::timeout(Duration::from_millis(500), scrape).await
            && let Ok(text) = res.text().await
        {
            self.killed_metrics.push((p, text));
        }
        svc.child.kill().await.unwrap();
    }

    /// The `/metrics` of SIGKILLed replicas of `p`, scraped just before they were killed
    /// (what they counted since is lost with them).
    pub fn killed_metrics(&self, p: Proc) -> Vec<&str> {
        self.killed_metrics
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, m)| m.as_str())
            .collect()
    }

    /// Starts a killed process again, with the same configuration.
    pub async fn respawn(&mut self, p: Proc) {
        self.spawn(p).await;
    }

    pub async fn metrics(&self, p: Proc) -> String {
        Self::metrics_of(self.svc(p)).await
    }

    /// The `/metrics` of every running replica of `p`.
    pub async fn metrics_all(&self, p: Proc) -> Vec<String> {
        let mut all = Vec::new();
        for svc in self.instances(p) {
            all.push(Self::metrics_of(svc).await);
        }
        all
    }

    async fn metrics_of(svc: &Service) -> String {
        svc.http
            .get(svc.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A reader on this stack's broker (the first node of a cluster that answers).
    pub async fn broker(&self) -> QueueReader {
        for url in &self.broker_urls[..self.broker_urls.len() - 1] {
            if let Some(reader) = QueueReader::try_connect_to(url).await {
                return reader;
            }
        }
        QueueReader::connect_to(self.broker_urls.last().unwrap()).await
    }

    /// Stops every process with SIGTERM (each must exit 0), deletes the queues and drops
    /// the databases.
    pub async fn stop(mut self) {
        for p in Proc::ALL {
            let replicas = self.replicas.remove(&p).unwrap_or_default();
            for svc in self
                .procs
                .remove(&p)
                .into_iter()
                .chain(replicas.into_iter().flatten())
            {
                assert_eq!(
                    svc.terminate().await,
                    Some(0),
                    "{} exits 0 on SIGTERM",
                    p.binary()
                );
            }
        }
        self.clean_up().await;
    }

    /// Sends SIGTERM to every process at once and waits up to `limit` for each; returns each
    /// one's exit code (`None`: still running after `limit`, then killed) and time to exit,
    /// for the caller to judge. Deletes the queues and drops the databases, as
    /// [`ShopStack::stop`].
    pub async fn stop_within(mut self, limit: Duration) -> Vec<(Proc, Option<i32>, Duration)> {
        let mut stopping = tokio::task::JoinSet::new();
        for p in Proc::ALL {
            let replicas = self.replicas.remove(&p).unwrap_or_default();
            for svc in self
                .procs
                .remove(&p)
                .into_iter()
                .chain(replicas.into_iter().flatten())
            {
                stopping.spawn(async move {
                    let (code, took) = svc.terminate_within(limit).await;
                    (p, code, took)
                });
            }
        }
        let mut stopped = stopping.join_all().await;
        stopped.sort_by_key(|(p, _, _)| Proc::ALL.iter().position(|q| q == p));
        self.clean_up().await;
        stopped
    }

    async fn clean_up(self) {
        let broker = self.broker().await;
        for q in [&self.main_queue, &self.admin_queue] {
            broker.delete_queues(q).await;
        }
        self.admin_db.drop_database().await;
        self.main_db.drop_database().await;
        self.admin_users.drop_users().await;
        self.main_users.drop_users().await;
    }
}

/// The two APIs as a user reaches them: shoppers anonymous, the admin with an API token
/// (sent on every request of `http`). Cheap to clone; clones share one count of the `503`s
/// they retried ([`ShopClient::retried_503s`]), [`ShopClient::counting_apart`] makes one
/// with a count of its own.
#[derive(Debug, Clone, Default)]
pub struct ShopClient {
    pub admin: String,
    pub main: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
    retried_503s: Arc<AtomicU64>,
}

/// How often [`ShopClient`] sends a request again while it is answered `503`, and how long
/// it waits before each: 10 s in all. A `503` after the last is a failure, not an answer.
const RETRIES: u64 = 100;
const RETRY_PAUSE: Duration = if cfg!(test) {
    Duration::from_millis(1)
} else {
    Duration::from_millis(100)
};

impl ShopClient {
    pub fn new(admin: String, main: String, token: Option<String>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = &token {
            let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        ShopClient {
            admin,
            main,
            token,
            http,
            retried_503s: Arc::default(),
        }
    }

    /// A clone of this client whose retries are counted apart from this one's (and its
    /// other clones'): for a part of a test that asserts how many it may see.
    pub fn counting_apart(&self) -> Self {
        ShopClient {
            retried_503s: Arc::default(),
            ..self.clone()
        }
    }

    /// How many times this client (with the clones that share its count) sent a request
    /// again because it was answered `503`. Every `503` it retried is counted, so a test
    /// that claims the services stayed available asserts it is 0; one that overloads them
    /// bounds it.
    pub fn retried_503s(&self) -> u64 {
        self.retried_503s.load(Ordering::SeqCst)
    }

    fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.admin)
    }

    fn main_url(&self, path: &str) -> String {
        format!("{}{path}", self.main)
    }

    /// Sends the request `make` builds, again after a pause while it is answered `503`, as
    /// a well-behaved client does with `Retry-After`: a service sheds load before starting
    /// any work, so a `503` changed nothing and the retry is exact. The stream of the fault
    /// suite shares the services with bursts that may fill their waiting rooms. Each retry
    /// is counted ([`ShopClient::retried_503s`]); still `503` after 10 s of retries, it
    /// panics: that is a service that stayed unavailable, not an answer for the caller.
    async fn send(&self, make: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
        let started = std::time::Instant::now();
        for retry in 0..=RETRIES {
            if retry > 0 {
                self.retried_503s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            let (client, request) = make().build_split();
            let request = request.unwrap();
            let (method, url) = (request.method().clone(), request.url().clone());
            let res = client.execute(request).await.unwrap();
            if res.status() != StatusCode::SERVICE_UNAVAILABLE {
                return res;
            }
            if retry == RETRIES {
                let body = res.text().await.unwrap_or_default();
                panic!(
                    "{method} {url} still answered 503 after {RETRIES} retries in {:.1} s: {body}",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        unreachable!("the last retry returns or panics")
    }

    pub async fn create(&self, title: &str, image: &str) -> u64 {
        let res = self
            .send(|| {
                self.http
                    .post(format!("{}/api/products", self.admin))
                    .json(&json!({"title": title, "image": image}))
            })
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    /// Replaces a product's title and image; the answer's status (202, or 404 when gone).
    pub async fn update(&self, id: u64, title: &str, image: &str) -> StatusCode {
        self.send(|| {
            self.http
                .put(self.admin_url(&format!("/api/products/{id}")))
                .json(&json!({"title": title, "image": image}))
        })
        .await
        .status()
    }

    pub async fn delete(&self, id: u64) {
        let res = self
            .send(|| {
                self.http
                    .delete(self.admin_url(&format!("/api/products/{id}")))
            })
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }

    /// Likes as the shopper whose cookie is in `jar` (filled on the first like).
    pub async fn like(&self, id: u64, jar: &mut Option<String>) -> StatusCode {
        let cookie = jar.clone();
        let res = self
            .send(|| {
                let req = self
                    .http
                    .post(self.main_url(&format!("/flask/api/products/{id}/like")));
                match cookie.as_deref() {
                    Some(cookie) => req.header("cookie", cookie),
                    None => req,
                }
            })
            .await;
        if let Some(set) = res.headers().get("set-cookie") {
            *jar = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        res.status()
    }

    /// The shop's product list.
    pub async fn shop(&self) -> Vec<Value> {
        let res = self
            .http
            .get(self.main_url("/flask/api/products"))
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    pub async fn shop_product(&self, id: u64) -> Option<Value> {
        self.shop().await.into_iter().find(|p| p["id"] == id)
    }

    /// The catalogue's product list.
    pub async fn catalogue(&self) -> Vec<Value> {
        let res = self
            .http
            .get(self.admin_url("/api/products"))
            .send()
            .await
            .unwrap();
        res.json().await.unwrap()
    }

    pub async fn catalogue_product(&self, id: u64) -> Value {
        let url = self.admin_url(&format!("/api/products/{id}"));
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use axum::Router;
    use axum::routing::post;

    use super::*;

    /// An admin API whose product writes are answered `503` `unavailable` times, then `201`.
    async fn api(unavailable: u32) -> ShopClient {
        let calls = Arc::new(AtomicU32::new(0));
        let app = Router::new().route(
            "/api/products",
            post(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < unavailable {
                        (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned())
                    } else {
                        (StatusCode::CREATED, json!({"id": 7}).to_string())
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        ShopClient::new(base.clone(), base, None)
    }

    #[tokio::test]
    async fn every_503_retried_is_counted_per_client() {
        let client = api(3).await;
        let apart = client.counting_apart();
        assert_eq!(client.create("Mug", "/m.png").await, 7);
        assert_eq!(client.retried_503s(), 3);
        assert_eq!(client.clone().retried_503s(), 3, "clones share the count");
        assert_eq!(apart.create("Mug", "/m.png").await, 7);
        assert_eq!(apart.retried_503s(), 0, "its own count");
        assert_eq!(client.retried_503s(), 3);
    }

    #[tokio::test]
    async fn a_503_after_the_last_retry_fails_loudly() {
        let client = api(u32::MAX).await;
        let counted = client.clone();
        let sent = tokio::spawn(async move { client.create("Mug", "/m.png").await });
        let panic = sent.await.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("/api/products still answered 503 after 100 retries"),
            "{message}"
        );
        assert!(message.ends_with("busy"), "{message}");
        assert_eq!(counted.retried_503s(), RETRIES);
    }
}
