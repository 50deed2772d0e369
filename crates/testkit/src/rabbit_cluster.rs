//! A three-node RabbitMQ cluster of a test's own, to lose a node from and to partition.
//!
//! Three [`RabbitNode`]s on free ports, each with its own data directory, sharing an Erlang
//! cookie of the cluster's own (passed with `-setcookie`, see [`NodeOptions::cookie`]; the
//! machine's broker and other clusters cannot talk to them), joined with `rabbitmqctl
//! join_cluster`. Quorum queues get a member on every node (their default initial group
//! size is the cluster's size), so a queue survives the loss of any one node.
//!
//! The nodes run `cluster_partition_handling = pause_minority`, as RabbitMQ recommends for
//! three nodes and as the RabbitMQ Cluster Operator configures: a node cut off from the
//! other two pauses (closes its clients' connections and its listeners) until it sees them
//! again, so no client keeps talking to a node that cannot reach a quorum.
//!
//! [`RabbitCluster::partition`] cuts one node's distribution links to the other two and
//! keeps them cut: on that node, the cookie it expects from each peer is set to a wrong one
//! (`erlang:set_cookie/2`) and the links are dropped (`erlang:disconnect_node/1`), through
//! `rabbitmqctl eval`. Every reconnection attempt then fails the distribution handshake in
//! both directions (the node checks a peer's answer with the cookie it holds for that peer,
//! and answers a peer's challenge with it), so each side sees the other down: a real,
//! lasting partition of the Erlang cluster, while the CLI (another node name) still reaches
//! the node. [`RabbitCluster::heal`] puts the cookies back and pings the peers. A bare
//! `disconnect_node` is not a partition: the nodes reconnect at their next message, within
//! a second.
//!
//! Dropped (the nodes stopped, their directories removed) when the cluster is.

use std::time::{Duration, Instant};

use crate::rabbit_node::{NodeOptions, RabbitNode};
use crate::unique;

pub struct RabbitCluster {
    pub nodes: Vec<RabbitNode>,
    cookie: String,
}

/// How long a node may take to come back and rejoin.
const REJOIN: Duration = Duration::from_secs(90);

impl RabbitCluster {
    /// Boots three nodes at once, joins the second and third to the first, and waits until
    /// all three run in one cluster.
    pub async fn start() -> Self {
        let base = unique("shopclu");
        let cookie = unique("cookie");
        let nodes: Vec<RabbitNode> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                RabbitNode::create(NodeOptions {
                    name: Some(format!("{base}-{n}")),
                    cookie: Some(cookie.clone()),
                    conf: "cluster_partition_handling = pause_minority\n".to_owned(),
                    ..NodeOptions::default()
                })
            })
            .collect();
        for node in &nodes {
            node.start_server();
        }
        let cluster = RabbitCluster { nodes, cookie };
        for node in &cluster.nodes {
            node.wait_accepting(REJOIN).await;
        }
        let first = cluster.nodes[0].name.clone();
        for node in &cluster.nodes[1..] {
            node.ctl(&["stop_app"]);
            node.ctl(&["join_cluster", &first]);
            node.ctl(&["start_app"]);
        }
        cluster.wait_whole().await;
        cluster
    }

    /// `amqp://guest:guest@…` to the first node: with [`RabbitCluster::addresses`] as
    /// `AMQP_ADDRESSES`, the credentials and vhost for every node.
    pub fn amqp_url(&self) -> String {
        self.nodes[0].amqp_url()
    }

    /// `AMQP_ADDRESSES` for the cluster: `127.0.0.1:<port>` of each node.
    pub fn addresses(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Each node's `amqp://` URL.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RabbitNode::amqp_url).collect()
    }

    /// The names of the nodes running in the cluster, as node `i` sees them (empty when it
    /// cannot say).
    pub fn running_nodes(&self, i: usize) -> Vec<String> {
        let out = self.nodes[i].cli(
            "rabbitmqctl",
            &[
                "eval",
                "io:format(\"~s~n\", [lists:join(\",\", [atom_to_list(N) || N <- rabbit_nodes:all_running()])]).",
            ],
        );
        if !out.status.success() {
            return Vec::new();
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut names: Vec<String> = text
            .lines()
            .next()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    /// Waits until every node runs and sees all three, with no partition recorded, and
    /// accepts AMQP connections.
    pub async fn wait_whole(&self) {
        let mut all: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        all.sort();
        let deadline = Instant::now() + REJOIN;
        loop {
            let whole = (0..self.nodes.len()).all(|i| self.running_nodes(i) == all)
                && self.partitions().is_empty();
            if whole {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster is not whole after {REJOIN:?}: {:?} (logs under {})",
                (0..self.nodes.len())
                    .map(|i| self.running_nodes(i))
                    .collect::<Vec<_>>(),
                self.nodes[0].dir().display()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for node in &self.nodes {
            node.wait_accepting(REJOIN).await;
        }
    }

    /// The partitions the nodes have recorded (`rabbit_node_monitor:partitions/0`), per node
    /// that has any.
    pub fn partitions(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter_map(|n| {
                let out = n.cli(
                    "rabbitmqctl",
                    &[
                        "eval",
                        "io:format(\"~p~n\", [rabbit_node_monitor:partitions()]).",
                    ],
                );
                let text = String::from_utf8_lossy(&out.stdout);
                let first = text.lines().next().unwrap_or("").trim().to_owned();
                (out.status.success() && first != "[]").then(|| format!("{}: {first}", n.name))
            })
            .collect()
    }

    /// Node `i`'s Erlang VM SIGKILLed.
    pub fn kill(&self, i: usize) {
        self.nodes[i].kill();
    }

    /// Starts node `i` again (after [`RabbitCluster::kill`]) and waits until the cluster is
    /// whole.
    pub async fn boot(&self, i: usize) {
        self.nodes[i].start_server();
        self.wait_whole().await;
    }

    /// Cuts node `i` off from the other two, until [`RabbitCluster::heal`]: see the module's
    /// documentation for how. Returns once node `i` has paused (it no longer runs the broker
    /// application, so it has closed its clients' connections).
    pub async fn partition(&self, i: usize) {
        let peers = self.peers(i);
        self.nodes[i].ctl(&[
            "eval",
            &format!(
                "[erlang:set_cookie(N, '{}') || N <- [{peers}]], \
                 [erlang:disconnect_node(N) || N <- [{peers}]], ok.",
                unique("wrong")
            ),
        ]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.nodes[i]
            .ctl(&["eval", "rabbit:is_running()."])
            .trim()
            .ends_with("true")
        {
            assert!(
                Instant::now() < deadline,
                "node {} did not pause within 30 s of its partition",
                self.nodes[i].name
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Ends node `i`'s partition: the right cookie back for its peers, a ping to each; waits
    /// until the cluster is whole.
    pub async fn heal(&self, i: usize) {
        let peers = self.peers(i);
        self.nodes[i].ctl(&[
            "eval",
            &format!(
                "[erlang:set_cookie(N, '{}') || N <- [{peers}]], \
                 [net_adm:ping(N) || N <- [{peers}]].",
                self.cookie
            ),
        ]);
        self.wait_whole().await;
    }

    /// The other nodes' names, as an Erlang list's elements.
    fn peers(&self, i: usize) -> String {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("'{}'", n.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `rabbitmqctl list_queues name type leader members` on a running node: per queue, its
    /// type, leader node and member nodes.
    pub fn queues(&self) -> Vec<QueueInfo> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.os_pid().is_some())
            .expect("a running node");
        let text = node.ctl(&[
            "list_queues",
            "--no-table-headers",
            "name",
            "type",
            "leader",
            "members",
        ]);
        text.lines()
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let name = cols.next()?.to_owned();
                let kind = cols.next()?.to_owned();
                let leader = cols.next()?.to_owned();
                let members = cols
                    .next()
                    .unwrap_or("")
                    .trim_matches(|c| c == '[' || c == ']')
                    .split(',')
                    .map(|m| m.trim().trim_matches('\'').to_owned())
                    .filter(|m| !m.is_empty())
                    .collect();
                Some(QueueInfo {
                    name,
                    kind,
                    leader,
                    members,
                })
            })
            .collect()
    }

    /// Client connections per node (by the AMQP port they reached), as the first running
    /// node lists them for the whole cluster.
    pub fn connections(&self) -> Vec<usize> {
        let i = self
            .nodes
            .iter()
            .position(|n| n.os_pid().is_some())
            .expect("a running node");
        self.connections_seen_by(i)
    }

    /// [`RabbitCluster::connections`] as node `i` lists them (the nodes it can reach); all 0
    /// when it cannot list them.
    pub fn connections_seen_by(&self, i: usize) -> Vec<usize> {
        let out = self.nodes[i].cli(
            "rabbitmqctl",
            &["list_connections", "--no-table-headers", "port"],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut counts = vec![0; self.nodes.len()];
        for port in text.lines().filter_map(|l| l.trim().parse::<u16>().ok()) {
            if let Some(n) = self.nodes.iter().position(|n| n.port == port) {
                counts[n] += 1;
            }
        }
        counts
    }

    /// Waits (up to `within`) until the nodes other than `gone` hold `total` client
    /// connections or more, as another node lists them: the clients of node `gone` have
    /// moved. The time it took.
    pub async fn wait_moved(&self, gone: usize, total: usize, within: Duration) -> Duration {
        let start = Instant::now();
        let other = (gone + 1) % self.nodes.len();
        loop {
            let counts = self.connections_seen_by(other);
            let elsewhere: usize = (0..counts.len())
                .filter(|&n| n != gone)
                .map(|n| counts[n])
                .sum();
            if elsewhere >= total {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "the clients did not move off {} within {within:?}: {counts:?}, {total} expected",
                self.nodes[gone].name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The index of the node named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// A queue as `rabbitmqctl list_queues` shows it.
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    /// `quorum`, `classic`, `stream`.
    pub kind: String,
    /// The node of its leader (quorum queues).
    pub leader: String,
    /// The nodes it has a member on (quorum queues).
    pub members: Vec<String>,
}

impl Drop for RabbitCluster {
    fn drop(&mut self) {
        // All three at once: stopping them one after another waits for each.
        std::thread::scope(|s| {
            for node in &self.nodes {
                s.spawn(|| node.stop());
            }
        });
    }
}
