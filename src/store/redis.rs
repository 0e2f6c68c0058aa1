//! Redis implementation of [`KeyStore`] over a tuned `ConnectionManager`.
//!
//! The crate's defaults block a call for ~9 s of retries while the server is down; here one
//! retry with 50–200 ms delays and a 250 ms connect timeout make calls fail fast, and every
//! call has its own deadline (`timeout_ms`, or `scan_timeout_ms` for SCAN) so that a server
//! frozen by `DEBUG SLEEP` yields a timeout, not a hang.

use super::KeyStore;
use super::redis_client::{client_for, map_err};
use super::redis_cluster::{self as cluster, ClusterNode, KeyedBatch};
use super::redis_sentinel::{SentinelMaster, SentinelUrl, is_sentinel_url};
use crate::config::{RedisConfig, RedisMode, redact_url, url_parts};
use crate::domain::{
    Blob, Key, KeyMeta, KeyType, PageCursor, ScanNode, ServerInfo, ServerMode, StreamEntry, Ttl, ValueBody, ValuePage,
    WriteOp,
};
use crate::error::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{IntoConnectionInfo, Value};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the store reaches its one server (when not a cluster): the URL's, or the master the
/// Sentinels name now.
enum Direct {
    Fixed(ConnectionManager),
    Sentinel(std::sync::Arc<SentinelMaster>),
}

pub struct RedisStore {
    direct: Direct,
    /// The URL with Valkey's schemes as Redis's (the seed of a cluster client).
    url: String,
    /// Set on first use: the cluster connection when the server is a Redis Cluster node and
    /// the mode is `auto` or `cluster` (None: one server).
    cluster: tokio::sync::OnceCell<Option<ClusterConnection>>,
    /// Connections to single cluster nodes by address (SCAN and DBSIZE per master): opened
    /// when first needed, so a replica promoted after a failover is reached as well.
    node_conns: tokio::sync::Mutex<std::collections::HashMap<String, redis::aio::MultiplexedConnection>>,
    /// A cluster's masters by slot, for reads sent per node; dropped when a node says a slot
    /// moved (or fails), read again on the next batch.
    slot_map: tokio::sync::Mutex<Option<std::sync::Arc<SlotMap>>>,
    cfg: RedisConfig,
    db: u32,
    label: String,
    writes_allowed: AtomicBool,
    /// Keyspace hits and misses our own reads cause (TYPE, PTTL, GET, LLEN, …): Redis counts
    /// them in INFO too, and the Health tab subtracts them to show the application's miss rate.
    own_hits: std::sync::atomic::AtomicU64,
    own_misses: std::sync::atomic::AtomicU64,
    /// The server answered once: later failures are not a TLS mismatch ([`tls_hint`]).
    ever_answered: AtomicBool,
}

/// Which master serves each hash slot (an index into `addrs`, or [`NO_OWNER`]).
struct SlotMap {
    owner: Vec<u16>,
    addrs: Vec<String>,
}

const NO_OWNER: u16 = u16::MAX;

/// A failure that points at TLS says so — from what the bytes said, and only before the server
/// ever answered (a server killed or frozen later resets or times out too, and has nothing to
/// do with TLS). The advice never is to drop TLS: a certificate that is not trusted wants
/// `tls_ca_file`; a server that does not answer the handshake may have its TLS on another port.
fn tls_hint(url: &str, e: StoreError, ever_answered: bool) -> StoreError {
    let tls = url.starts_with("rediss://") || url.starts_with("valkeys://");
    let said = |m: &str, words: &[&str]| words.iter().any(|w| m.to_lowercase().contains(w));
    match e {
        StoreError::Unreachable(m)
            if tls && said(&m, &["certificate", "unknownissuer", "notvalidforname", "expired"]) =>
        {
            StoreError::Unreachable(format!(
                "{m} — the server's TLS certificate is not trusted: set tls_ca_file to the CA that signed it"
            ))
        }
        StoreError::Unreachable(m) if tls && said(&m, &["corrupt message", "invalidcontenttype", "content type"]) => {
            StoreError::Unreachable(format!(
                "{m} — the server answered without TLS on this port: point rediss:// at the server's tls-port"
            ))
        }
        StoreError::Timeout(ms) if tls && !ever_answered => StoreError::Unreachable(format!(
            "no reply within {ms} ms to the TLS handshake (rediss://): is this port the server's tls-port?"
        )),
        StoreError::Unreachable(m) if !tls && !ever_answered && said(&m, &["reset by peer"]) => {
            StoreError::Unreachable(format!(
                "{m} — the server closed the connection before any answer: if it requires TLS, use rediss://"
            ))
        }
        other => other,
    }
}

/// An error of one cluster node names the node (a timeout becomes "unreachable" to say so).
fn node_err(addr: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Unreachable(m) => StoreError::Unreachable(format!("cluster node {addr}: {m}")),
        StoreError::Timeout(ms) => StoreError::Unreachable(format!("cluster node {addr}: no reply within {ms} ms")),
        StoreError::Server(m) => StoreError::Server(format!("cluster node {addr}: {m}")),
        other => other,
    }
}

/// The name memscope's connections carry on the server (CLIENT LIST, the slow log), so that
/// its own traffic can be told from the application's.
pub const CLIENT_NAME: &str = "memscope";

/// A `redis://` or `rediss://` URL as redis-rs reads it: credentials holding `?`, `#`, `/` or
/// `@` percent-encoded (found as [`redact_url`] finds them), and a password given as a query
/// parameter (`?password=`, `?pass=`) moved into the credentials — redis-rs reads it there
/// only, and would otherwise connect without it (NOAUTH).
pub fn connectable_url(url: &str) -> String {
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return url.to_string();
    }
    let encode = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '?' | '#' | '/' | '@' | ' ' | '[' | ']' => format!("%{:02X}", c as u32),
                c => c.to_string(),
            })
            .collect()
    };
    let (scheme, cred, rest) = url_parts(url);
    let (mut user, mut password) = match cred.map(|c| c.split_once(':').unwrap_or((c, ""))) {
        Some((u, p)) => (encode(u), (!p.is_empty()).then(|| encode(p))),
        None => (String::new(), None),
    };
    let (mut head, query, fragment) = {
        let (before, fragment) = rest.split_once('#').map_or((rest, None), |(b, f)| (b, Some(f)));
        let (head, query) = before.split_once('?').map_or((before, None), |(h, q)| (h, Some(q)));
        (head.to_string(), query, fragment)
    };
    let mut kept = Vec::new();
    for kv in query.into_iter().flat_map(|q| q.split('&')) {
        match kv.split_once('=') {
            Some((k, v)) if ["password", "pass"].contains(&k.to_ascii_lowercase().as_str()) => {
                password.get_or_insert_with(|| encode(v));
            }
            Some((k, v)) if k.eq_ignore_ascii_case("username") || k.eq_ignore_ascii_case("user") => {
                if user.is_empty() {
                    user = encode(v);
                }
            }
            _ => kept.push(kv),
        }
    }
    if !kept.is_empty() {
        head = format!("{head}?{}", kept.join("&"));
    }
    if let Some(f) = fragment {
        head = format!("{head}#{f}");
    }
    match (user.is_empty(), password) {
        (true, None) => format!("{scheme}{head}"),
        (_, None) => format!("{scheme}{user}@{head}"),
        (_, Some(p)) => format!("{scheme}{user}:{p}@{head}"),
    }
}

/// What is wrong with a URL redis-rs refused, in words: the port or the database.
fn url_problem(url: &str) -> Option<String> {
    let (_, _, rest) = url_parts(url);
    let before_query = rest.split(['?', '#']).next().unwrap_or("");
    let (host_port, db) = before_query.split_once('/').unwrap_or((before_query, ""));
    if let Some((_, port)) = host_port.rsplit_once(':')
        && !host_port.ends_with(']')
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Some(format!("port `{port}` is not a number from 1 to 65535"));
    }
    if !db.is_empty() && db.parse::<u32>().is_err() {
        return Some(format!("database `{db}` is not a number (redis://host:port/DB)"));
    }
    None
}

impl RedisStore {
    /// Build a lazily connecting store; `db` overrides the URL's database index.
    /// Must be called inside a tokio runtime. Connection errors surface on the first call.
    pub fn connect(cfg: &RedisConfig, db: Option<u32>) -> Result<RedisStore, StoreError> {
        // rustls needs a process-wide crypto provider for rediss://; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if is_sentinel_url(&cfg.url) {
            return Self::via_sentinel(cfg, db);
        }
        // Valkey's schemes are Redis's under another name.
        let url = match cfg.url.split_once("://") {
            Some(("valkey", rest)) => format!("redis://{rest}"),
            Some(("valkeys", rest)) => format!("rediss://{rest}"),
            _ => cfg.url.clone(),
        };
        let url = connectable_url(&url);
        let info = url.as_str().into_connection_info().map_err(|e| {
            let why = url_problem(&url).unwrap_or_else(|| e.to_string());
            StoreError::NotConfigured(format!("invalid redis url {}: {why}", redact_url(&cfg.url)))
        })?;
        let db = db.unwrap_or(info.redis_settings().db().max(0) as u32);
        let settings =
            info.redis_settings().clone().set_db(db as i64).set_lib_name(CLIENT_NAME, env!("CARGO_PKG_VERSION"));
        let info = info.set_redis_settings(settings);
        let client = client_for(info, cfg)?;
        let mgr_cfg = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(200))
            .set_connection_timeout(Some(Duration::from_millis(250.max(cfg.timeout_ms.min(5_000)))))
            .set_response_timeout(None);
        let conn = ConnectionManager::new_lazy_with_config(client, mgr_cfg).map_err(map_err)?;
        let base = redact_url(&cfg.url);
        let label = match base.rsplit_once('/') {
            Some((head, tail)) if tail.chars().all(|c| c.is_ascii_digit()) && !head.ends_with('/') => {
                format!("{head}/{db}")
            }
            _ => format!("{}/{db}", base.trim_end_matches('/')),
        };
        if db != 0 && cfg.mode == RedisMode::Cluster {
            return Err(StoreError::Other(format!(
                "{}: a Redis Cluster has only database 0 (mode = \"cluster\")",
                redact_url(&cfg.url)
            )));
        }
        Ok(Self::assemble(Direct::Fixed(conn), url, cfg, db, label))
    }

    /// A store around its connection, disarmed (writes refused until armed).
    fn assemble(direct: Direct, url: String, cfg: &RedisConfig, db: u32, label: String) -> RedisStore {
        RedisStore {
            direct,
            url,
            cluster: tokio::sync::OnceCell::new(),
            node_conns: Default::default(),
            slot_map: Default::default(),
            cfg: cfg.clone(),
            db,
            label,
            writes_allowed: AtomicBool::new(false),
            own_hits: Default::default(),
            own_misses: Default::default(),
            ever_answered: AtomicBool::new(false),
        }
    }

    /// A store on the master a Sentinel names (`redis+sentinel://…/MASTER/DB`), found on the
    /// first call and again after a failover.
    fn via_sentinel(cfg: &RedisConfig, db: Option<u32>) -> Result<RedisStore, StoreError> {
        let u = SentinelUrl::parse(&cfg.url)
            .map_err(|e| StoreError::NotConfigured(format!("invalid Sentinel URL {}: {e}", redact_url(&cfg.url))))?;
        let db = db.unwrap_or(u.db);
        let label = format!(
            "sentinel {} via {}/{db}",
            u.master,
            u.sentinels.iter().map(|(h, p)| format!("{h}:{p}")).collect::<Vec<_>>().join(",")
        );
        let master = Direct::Sentinel(std::sync::Arc::new(SentinelMaster::new(u, cfg, db)));
        Ok(Self::assemble(master, String::new(), cfg, db, label))
    }

    /// The connection to the one server: the URL's, or the Sentinels' master now.
    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        match &self.direct {
            Direct::Fixed(c) => Ok(c.clone()),
            Direct::Sentinel(s) => s.conn().await,
        }
    }

    /// After an error: a master that stopped answering, or that became a replica (`READONLY`),
    /// is asked of the Sentinels again on the next call.
    async fn after_error(&self, e: &StoreError) {
        if let Direct::Sentinel(s) = &self.direct
            && (e.is_connection() || e.to_string().contains("READONLY"))
        {
            s.forget().await;
        }
    }

    pub fn db(&self) -> u32 {
        self.db
    }

    /// Count `n` keyspace lookups of ours on a key that exists (`hit`) or not.
    fn looked_up(&self, hit: bool, n: u64) {
        let c = if hit { &self.own_hits } else { &self.own_misses };
        c.fetch_add(n, Ordering::Relaxed);
    }

    async fn run<T>(&self, ms: u64, f: impl Future<Output = redis::RedisResult<T>>) -> Result<T, StoreError> {
        let r = match tokio::time::timeout(Duration::from_millis(ms), f).await {
            Ok(r) => r.map_err(map_err),
            Err(_) => Err(StoreError::Timeout(ms)),
        };
        if r.is_ok() {
            self.ever_answered.store(true, Ordering::Relaxed);
        }
        r.map_err(|e| tls_hint(&self.cfg.url, e, self.ever_answered.load(Ordering::Relaxed)))
    }

    /// The cluster connection when this store talks to a Redis Cluster; resolved on first use
    /// (`auto` asks the server with `INFO cluster`) and kept. None: one server.
    async fn cluster(&self) -> Result<Option<ClusterConnection>, StoreError> {
        if self.cfg.mode == RedisMode::Standalone || matches!(self.direct, Direct::Sentinel(_)) {
            return Ok(None);
        }
        let c = self
            .cluster
            .get_or_try_init(|| async {
                if self.cfg.mode == RedisMode::Auto {
                    let mut c = self.conn().await?;
                    let info: String =
                        self.run(self.cfg.timeout_ms, redis::cmd("INFO").arg("cluster").query_async(&mut c)).await?;
                    if !info.lines().any(|l| l.trim() == "cluster_enabled:1") {
                        return Ok(None);
                    }
                }
                let mut b = redis::cluster::ClusterClientBuilder::new(vec![self.url.clone()])
                    .retries(1)
                    .connection_timeout(Duration::from_millis(250.max(self.cfg.timeout_ms.min(5_000))));
                if self.cfg.read_from_replicas {
                    b = b.read_routing_strategy(redis::cluster_read_routing::RandomReplicaStrategy);
                }
                if let Some(path) = &self.cfg.tls_ca_file {
                    let pem = std::fs::read(path)
                        .map_err(|e| StoreError::NotConfigured(format!("cannot read tls_ca_file {path}: {e}")))?;
                    b = b.certs(redis::TlsCertificates { client_tls: None, root_cert: Some(pem) });
                }
                let client = b.build().map_err(map_err)?;
                let conn = self.run(self.cfg.timeout_ms.max(2_000), client.get_async_connection()).await?;
                tracing::info!(seed = %redact_url(&self.cfg.url), "Redis Cluster: connected");
                Ok::<_, StoreError>(Some(conn))
            })
            .await?;
        Ok(c.clone())
    }

    /// One command: on a cluster, routed to the node serving its key's slot.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
        match self.cluster().await? {
            Some(mut c) => self.run(self.cfg.timeout_ms, cmd.query_async(&mut c)).await,
            None => {
                let mut c = self.conn().await?;
                let r = self.run(self.cfg.timeout_ms, cmd.query_async(&mut c)).await;
                if let Err(e) = &r {
                    self.after_error(e).await;
                }
                r
            }
        }
    }

    /// A pipeline whose commands share one key (or none: then any node of a cluster answers).
    async fn pipe(&self, p: &redis::Pipeline) -> Result<Vec<Value>, StoreError> {
        if p.cmd_iter().next().is_none() {
            return Ok(Vec::new());
        }
        match self.cluster().await? {
            Some(mut c) => self.run(self.cfg.timeout_ms, p.query_async(&mut c)).await,
            None => {
                let mut c = self.conn().await?;
                let r = self.run(self.cfg.timeout_ms, p.query_async(&mut c)).await;
                if let Err(e) = &r {
                    self.after_error(e).await;
                }
                r
            }
        }
    }

    /// Commands over many keys: one pipeline on one server. On a cluster, reads (each reply
    /// kept, errors included) go as one pipeline per master over its own connection — a node
    /// runs single-key commands over any of its slots, and per slot nearly every key of a
    /// spread-out keyspace was its own round trip; a group a node answers with MOVED/ASK (a
    /// slot migrating) or cannot be reached for is sent again per slot, which redis-rs
    /// redirects. Writes go per hash slot, concurrently, and are never sent twice.
    async fn batch(&self, b: &KeyedBatch, ignore_errors: bool) -> Result<Vec<Value>, StoreError> {
        // Nothing to send: no round trip (an empty pipeline is refused as "empty command").
        if b.is_empty() {
            return Ok(Vec::new());
        }
        let Some(c) = self.cluster().await? else {
            return self.pipe(&b.pipeline(ignore_errors)).await;
        };
        if ignore_errors && let Ok(map) = self.slot_map().await {
            return self.batch_per_node(b, &map).await;
        }
        self.batch_per_slot(b, ignore_errors, c).await
    }

    /// A cluster's masters by slot (from `CLUSTER NODES`), read once and kept.
    async fn slot_map(&self) -> Result<std::sync::Arc<SlotMap>, StoreError> {
        if let Some(m) = self.slot_map.lock().await.clone() {
            return Ok(m);
        }
        let nodes = self.cluster_nodes().await?;
        let masters: Vec<&ClusterNode> = nodes.iter().filter(|n| n.master && !n.failing).collect();
        let mut owner = vec![NO_OWNER; 16384];
        for (i, n) in masters.iter().enumerate() {
            for &(a, z) in &n.slots {
                for s in a..=z.min(16383) {
                    owner[s as usize] = i as u16;
                }
            }
        }
        let m =
            std::sync::Arc::new(SlotMap { owner, addrs: masters.iter().map(|n| self.node_addr(&n.addr)).collect() });
        *self.slot_map.lock().await = Some(m.clone());
        Ok(m)
    }

    async fn batch_per_node(&self, b: &KeyedBatch, map: &SlotMap) -> Result<Vec<Value>, StoreError> {
        let groups = b.per_group(|s| map.owner[s as usize] as usize, true);
        let runs = groups.iter().map(|g| async move {
            // Slots no master serves, a node out of reach, a slot moved: that group per slot.
            let direct = match map.addrs.get(g.group) {
                Some(addr) => match self.node_conn(addr).await {
                    Ok(mut conn) => {
                        self.run(self.cfg.timeout_ms, g.pipeline.query_async::<Vec<Value>>(&mut conn)).await.ok()
                    }
                    Err(_) => None,
                },
                None => None,
            };
            let redirected = |vals: &[Value]| {
                vals.iter().any(|v| {
                    matches!(v, Value::ServerError(e) if matches!(
                        e.kind(),
                        Some(redis::ServerErrorKind::Moved | redis::ServerErrorKind::Ask
                            | redis::ServerErrorKind::TryAgain | redis::ServerErrorKind::ClusterDown)
                    ))
                })
            };
            match direct {
                Some(vals) if vals.len() == g.positions.len() && !redirected(&vals) => Ok((vals, false)),
                _ => {
                    let c = self.cluster().await?.ok_or_else(|| StoreError::Other("not a cluster any more".into()))?;
                    Ok((self.batch_per_slot(&b.subset(&g.cmds), true, c).await?, true))
                }
            }
        });
        let replies = futures_util::future::join_all(runs).await;
        let mut out = Vec::with_capacity(replies.len());
        let mut stale = false;
        for (g, r) in groups.into_iter().zip(replies) {
            let (vals, again) = r?;
            stale |= again;
            out.push((g.positions, vals));
        }
        if stale {
            // The slot map no longer matches the cluster: read it again next time.
            *self.slot_map.lock().await = None;
        }
        Ok(KeyedBatch::reassemble(out))
    }

    async fn batch_per_slot(
        &self,
        b: &KeyedBatch,
        ignore_errors: bool,
        c: ClusterConnection,
    ) -> Result<Vec<Value>, StoreError> {
        let parts = b.per_slot(ignore_errors);
        let runs = parts.iter().map(|(_, p)| {
            let mut c = c.clone();
            async move { self.run(self.cfg.timeout_ms, p.query_async::<Vec<Value>>(&mut c)).await }
        });
        let replies = futures_util::future::join_all(runs).await;
        let mut out = Vec::with_capacity(replies.len());
        for ((positions, _), r) in parts.into_iter().zip(replies) {
            out.push((positions, r?));
        }
        Ok(KeyedBatch::reassemble(out))
    }

    /// The cluster's nodes (`CLUSTER NODES` from any node).
    async fn cluster_nodes(&self) -> Result<Vec<ClusterNode>, StoreError> {
        let text: String = self.query(redis::cmd("CLUSTER").arg("NODES")).await?;
        Ok(cluster::parse_nodes(&text))
    }

    /// The Health probe of a cluster: every node probed on its own connection (a node down is
    /// that node DOWN, the others keep reporting); the figures are the reachable masters' sums.
    async fn cluster_health(&self) -> Result<crate::domain::RedisHealth, StoreError> {
        use crate::domain::{ClusterHealth, NodeHealth, RedisHealth};
        let nodes = self.cluster_nodes().await?;
        let info: String = self.query(redis::cmd("CLUSTER").arg("INFO")).await?;
        let state = info.lines().find_map(|l| l.strip_prefix("cluster_state:")).unwrap_or("?").trim().to_string();
        let ms = self.cfg.scan_timeout_ms;
        let probes = nodes.iter().map(|n| async move {
            let addr = self.node_addr(&n.addr);
            let t = Instant::now();
            let r = async {
                let _: String = self.on_node(&addr, redis::cmd("PING"), ms).await?;
                let ping = t.elapsed().as_secs_f64() * 1e3;
                let info: String = self
                    .on_node(
                        &addr,
                        redis::cmd("INFO").arg("memory").arg("stats").arg("clients").arg("keyspace").clone(),
                        ms,
                    )
                    .await?;
                let slow: u64 = self.on_node(&addr, redis::cmd("SLOWLOG").arg("LEN").clone(), ms).await.unwrap_or(0);
                Ok::<_, StoreError>((ping, parse_health_info(&info), slow))
            }
            .await;
            (n, addr, r)
        });
        let probed = futures_util::future::join_all(probes).await;
        let mut total = RedisHealth { ping_ms: 0.0, ..Default::default() };
        let mut cluster = ClusterHealth { state, uncovered_slots: cluster::uncovered_slots(&nodes), nodes: Vec::new() };
        let mut masters_up = 0;
        let mut keys = 0;
        for (n, addr, r) in probed {
            let role = match (n.master, n.slots.is_empty()) {
                (true, false) => "master",
                // A failed master whose slots a replica took over.
                (true, true) => "master without slots",
                _ => "replica",
            }
            .to_string();
            let mut node = NodeHealth { addr, role, ..Default::default() };
            match r {
                Ok((ping, h, slow)) => {
                    let k = h.keyspace.iter().map(|d| d.keys).sum();
                    node = NodeHealth {
                        ping_ms: Some(ping),
                        used_memory: h.used_memory,
                        ops_per_sec: h.ops_per_sec,
                        keys: k,
                        keyspace_hits: h.keyspace_hits,
                        keyspace_misses: h.keyspace_misses,
                        slowlog_len: slow,
                        error: n.failing.then(|| "marked failing by the cluster".to_string()),
                        ..node
                    };
                    if n.master && !n.slots.is_empty() {
                        masters_up += 1;
                        keys += k;
                        total.ping_ms = total.ping_ms.max(ping);
                        total.used_memory += h.used_memory;
                        total.maxmemory += h.maxmemory;
                        total.keyspace_hits += h.keyspace_hits;
                        total.keyspace_misses += h.keyspace_misses;
                        total.evicted_keys += h.evicted_keys;
                        total.expired_keys += h.expired_keys;
                        total.ops_per_sec += h.ops_per_sec;
                        total.connected_clients += h.connected_clients;
                        total.blocked_clients += h.blocked_clients;
                        total.rejected_connections += h.rejected_connections;
                        total.slowlog_len += slow;
                    }
                }
                Err(e) => node.error = Some(e.to_string()),
            }
            cluster.nodes.push(node);
        }
        if masters_up == 0 {
            return Err(StoreError::Unreachable(format!(
                "no master of the cluster answered ({})",
                cluster.nodes.iter().filter_map(|n| n.error.clone()).collect::<Vec<_>>().join("; ")
            )));
        }
        total.keyspace = vec![crate::domain::DbInfo { db: 0, keys, expires: 0 }];
        let (own_hits, own_misses) = self.own_lookups();
        total.own_hits = own_hits;
        total.own_misses = own_misses;
        total.cluster = Some(cluster);
        Ok(total)
    }

    /// A RedisJSON document: whole up to `preview_bytes` (its `JSON.DEBUG MEMORY`), else one
    /// page of its top-level members from `from`, each read by path when small.
    async fn json_body(
        &self,
        key: &[u8],
        memory: Option<u64>,
        from: u64,
    ) -> Result<(u64, crate::domain::JsonDoc), StoreError> {
        use crate::domain::{JsonDoc, JsonMember};
        let size = match self.query::<u64>(redis::cmd("JSON.DEBUG").arg("MEMORY").arg(key)).await {
            Ok(n) => n,
            Err(_) => memory.unwrap_or(u64::MAX),
        };
        if size <= self.cfg.preview_bytes {
            let text: Vec<u8> = self.query(redis::cmd("JSON.GET").arg(key).arg("$")).await?;
            // `$` answers a one-element array: show the document itself.
            let doc = match serde_json::from_slice::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Array(mut a)) if a.len() == 1 => serde_json::to_vec(&a.remove(0)).unwrap_or(text),
                _ => text,
            };
            return Ok((size, JsonDoc::Whole(Blob { total_len: doc.len() as u64, bytes: doc })));
        }
        let kind: Vec<String> = self.query(redis::cmd("JSON.TYPE").arg(key).arg("$")).await?;
        let kind = kind.into_iter().next().unwrap_or_default();
        let page = self.cfg.page_size as u64;
        let (count, paths): (u64, Vec<String>) = match kind.as_str() {
            "object" => {
                let keys: Vec<Vec<String>> = self.query(redis::cmd("JSON.OBJKEYS").arg(key).arg("$")).await?;
                let keys = keys.into_iter().next().unwrap_or_default();
                let paths = keys
                    .iter()
                    .skip(from as usize)
                    .take(page as usize)
                    .map(|k| format!("$[{}]", serde_json::Value::String(k.clone())))
                    .collect();
                (keys.len() as u64, paths)
            }
            "array" => {
                let n: Vec<Option<u64>> = self.query(redis::cmd("JSON.ARRLEN").arg(key).arg("$")).await?;
                let n = n.into_iter().next().flatten().unwrap_or(0);
                (n, (from.min(n)..n.min(from.saturating_add(page))).map(|i| format!("$[{i}]")).collect())
            }
            _ => (0, Vec::new()),
        };
        let mut members = Vec::with_capacity(paths.len());
        for path in paths {
            let kind: Vec<String> = self.query(redis::cmd("JSON.TYPE").arg(key).arg(&path)).await.unwrap_or_default();
            let bytes: Option<u64> = self
                .query::<Vec<u64>>(redis::cmd("JSON.DEBUG").arg("MEMORY").arg(key).arg(&path))
                .await
                .ok()
                .and_then(|v| v.first().copied());
            let preview = match bytes {
                Some(b) if b <= 4096 => {
                    let t: Option<String> = self.query(redis::cmd("JSON.GET").arg(key).arg(&path)).await.ok();
                    t.map(|t| t.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(&t).to_string())
                }
                _ => None,
            };
            members.push(JsonMember { path, kind: kind.into_iter().next().unwrap_or_default(), bytes, preview });
        }
        Ok((size, JsonDoc::Members { kind, total: size, count, members }))
    }

    /// RediSearch's indexes (`FT._LIST`, then `FT.INFO` of the first 50, the rest by name);
    /// none without the module.
    async fn search_indexes(&self) -> Vec<crate::domain::SearchIndex> {
        let Ok(names) = self.query::<Vec<String>>(&redis::cmd("FT._LIST")).await else { return Vec::new() };
        let mut out = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            // FT.INFO of the first 50; the others are listed by name (never left out).
            let info = if i < 50 { self.query::<Value>(redis::cmd("FT.INFO").arg(&name)).await.ok() } else { None };
            out.push(match info {
                Some(info) => parse_ft_info(name, info),
                None => crate::domain::SearchIndex { name, on: "?".into(), ..Default::default() },
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The seed's connection settings (password, TLS) for the node at `addr`.
    async fn node_conn(&self, addr: &str) -> Result<redis::aio::MultiplexedConnection, StoreError> {
        if let Some(c) = self.node_conns.lock().await.get(addr) {
            return Ok(c.clone());
        }
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| StoreError::Other(format!("not a node address: {addr}")))?;
        let info = self.url.as_str().into_connection_info().map_err(map_err)?;
        let node = match info.addr() {
            redis::ConnectionAddr::TcpTls { insecure, tls_params, .. } => {
                redis::ConnectionAddr::TcpTls { host, port, insecure: *insecure, tls_params: tls_params.clone() }
            }
            _ => redis::ConnectionAddr::Tcp(host, port),
        };
        let client = client_for(info.set_addr(node), &self.cfg)?;
        let mut c = self.run(self.cfg.timeout_ms, client.get_multiplexed_async_connection()).await?;
        let _: Result<(), _> = redis::cmd("CLIENT").arg("SETNAME").arg(CLIENT_NAME).query_async(&mut c).await;
        self.node_conns.lock().await.insert(addr.to_string(), c.clone());
        Ok(c)
    }

    /// A keyless command on one node of the cluster, by address (errors name the node).
    async fn on_node<T: redis::FromRedisValue>(&self, addr: &str, cmd: redis::Cmd, ms: u64) -> Result<T, StoreError> {
        let r = match self.node_conn(addr).await {
            Ok(mut c) => self.run(ms, cmd.query_async(&mut c)).await,
            Err(e) => Err(e),
        };
        if r.as_ref().is_err_and(|e| e.is_connection()) {
            self.node_conns.lock().await.remove(addr); // reconnect next time
        }
        r.map_err(|e| node_err(addr, e))
    }

    /// A node address as clients reach it: a node that never met another reports `:port`.
    fn node_addr(&self, addr: &str) -> String {
        match addr.strip_prefix(':') {
            Some(port) => {
                let host = match self.url.as_str().into_connection_info().map(|i| i.addr().clone()) {
                    Ok(redis::ConnectionAddr::Tcp(h, _)) | Ok(redis::ConnectionAddr::TcpTls { host: h, .. }) => h,
                    _ => "127.0.0.1".into(),
                };
                format!("{host}:{port}")
            }
            None => addr.to_string(),
        }
    }

    /// Elements per page: `page_size`, fewer when the elements are large, so that one page
    /// moves about `4 × preview_bytes` at most (a list of 10 MB elements is paged one by one).
    async fn page_len(&self, key: &[u8], ktype: &KeyType, memory: Option<u64>) -> u64 {
        let page = self.cfg.page_size as u64;
        let len_cmd = match ktype {
            KeyType::List => "LLEN",
            KeyType::Hash => "HLEN",
            KeyType::Set => "SCARD",
            KeyType::ZSet => "ZCARD",
            KeyType::Stream => "XLEN",
            _ => return page,
        };
        let Some(mem) = memory else { return page };
        let Ok(len) = self.query::<u64>(redis::cmd(len_cmd).arg(key)).await else { return page };
        self.looked_up(true, 1);
        let avg = mem / len.max(1);
        let budget = self.cfg.preview_bytes.saturating_mul(4);
        (budget / avg.max(1)).clamp(1, page)
    }

    /// A string whole when it is at most `preview_bytes`, else the window of `preview_bytes`
    /// starting at `offset` (GETRANGE; never the whole value) and the offset of the next.
    async fn string_body(&self, key: &[u8], offset: u64) -> Result<(u64, Option<u64>, ValueBody), StoreError> {
        let len: u64 = self.query(redis::cmd("STRLEN").arg(key)).await?;
        let limit = self.cfg.preview_bytes;
        if len > limit && offset > 0 {
            let from = offset.min(len);
            let bytes: Vec<u8> =
                self.query(redis::cmd("GETRANGE").arg(key).arg(from as i64).arg((from + limit) as i64 - 1)).await?;
            let next = (from + limit < len).then_some(from + limit);
            return Ok((len, next, ValueBody::String(Blob { total_len: len, bytes })));
        }
        let bytes: Vec<u8> = if len <= limit {
            self.query(redis::cmd("GET").arg(key)).await.or_else(|e| match e {
                StoreError::Server(s) if s.contains("WRONGTYPE") => Ok(Vec::new()),
                e => Err(e),
            })?
        } else {
            self.query(redis::cmd("GETRANGE").arg(key).arg(0).arg(limit as i64 - 1)).await?
        };
        if bytes.starts_with(b"HYLL")
            && bytes.len() >= 16
            && let Ok(count) = self.query::<u64>(redis::cmd("PFCOUNT").arg(key)).await
        {
            self.looked_up(true, 1);
            return Ok((len, None, ValueBody::HyperLogLog { count, bytes: len }));
        }
        let next = (len > limit).then_some(limit);
        Ok((len, next, ValueBody::String(Blob { total_len: len, bytes })))
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.as_bytes().to_vec(),
        Value::VerbatimString { text, .. } => text.as_bytes().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Double(d) => d.to_string().into_bytes(),
        Value::Okay => b"OK".to_vec(),
        Value::Nil => Vec::new(),
        other => format!("{other:?}").into_bytes(),
    }
}

fn blob(v: &Value) -> Blob {
    let bytes = bytes_of(v);
    Blob { total_len: bytes.len() as u64, bytes }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        Value::Nil => Vec::new(),
        other => vec![other],
    }
}

fn pairs(v: Value) -> Vec<(Blob, Blob)> {
    let flat = items(v);
    flat.chunks(2).filter(|c| c.len() == 2).map(|c| (blob(&c[0]), blob(&c[1]))).collect()
}

fn server_err(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(format!("{e:?}")),
        _ => None,
    }
}

fn parse_meta(t: &Value, ttl: &Value, mem: &Value) -> KeyMeta {
    let ktype = match t {
        Value::SimpleString(s) => KeyType::parse(s),
        Value::BulkString(b) => KeyType::parse(&String::from_utf8_lossy(b)),
        _ => None,
    };
    let ttl = if ktype.is_none() { Ttl::Gone } else { int_of(ttl).map(Ttl::from_pttl).unwrap_or(Ttl::Persistent) };
    KeyMeta { ktype, ttl, memory: int_of(mem).and_then(|m| u64::try_from(m).ok()) }
}

/// The figures of `INFO memory stats clients keyspace`.
pub fn parse_health_info(info: &str) -> crate::domain::RedisHealth {
    let get = |k: &str| -> Option<&str> {
        info.lines().find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(':'))).map(str::trim)
    };
    let n = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    crate::domain::RedisHealth {
        used_memory: n("used_memory"),
        maxmemory: n("maxmemory"),
        keyspace_hits: n("keyspace_hits"),
        keyspace_misses: n("keyspace_misses"),
        evicted_keys: n("evicted_keys"),
        expired_keys: n("expired_keys"),
        ops_per_sec: get("instantaneous_ops_per_sec").and_then(|v| v.parse().ok()).unwrap_or(0.0),
        connected_clients: n("connected_clients"),
        blocked_clients: n("blocked_clients"),
        rejected_connections: n("rejected_connections"),
        keyspace: parse_keyspace(info),
        run_id: get("run_id").unwrap_or_default().to_string(),
        uptime_s: n("uptime_in_seconds"),
        ..Default::default()
    }
}

/// Parse `INFO keyspace` lines such as `db0:keys=12,expires=3,avg_ttl=0`.
pub fn parse_keyspace(info: &str) -> Vec<crate::domain::DbInfo> {
    info.lines()
        .filter_map(|l| {
            let (db, rest) = l.trim().split_once(':')?;
            let db: u32 = db.strip_prefix("db")?.parse().ok()?;
            let mut keys = 0;
            let mut expires = 0;
            for kv in rest.split(',') {
                match kv.split_once('=') {
                    Some(("keys", v)) => keys = v.parse().unwrap_or(0),
                    Some(("expires", v)) => expires = v.parse().unwrap_or(0),
                    _ => {}
                }
            }
            Some(crate::domain::DbInfo { db, keys, expires })
        })
        .collect()
}

#[async_trait::async_trait]
impl KeyStore for RedisStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let t = Instant::now();
        let _: String = self.query(&redis::cmd("PING")).await?;
        Ok(t.elapsed())
    }

    async fn dbsize(&self) -> Result<u64, StoreError> {
        self.query(&redis::cmd("DBSIZE")).await
    }

    async fn scan_nodes(&self) -> Result<Vec<ScanNode>, StoreError> {
        if self.cluster().await?.is_none() {
            let keys = match self.dbsize().await {
                Ok(n) => Some(n),
                Err(e) if e.is_connection() => return Err(e),
                Err(_) => None,
            };
            return Ok(vec![ScanNode { addr: None, keys }]);
        };
        let masters: Vec<String> = self
            .cluster_nodes()
            .await?
            .into_iter()
            .filter(|n| n.master && !n.slots.is_empty())
            .map(|n| self.node_addr(&n.addr))
            .collect();
        let sizes = masters.iter().map(|a| self.on_node::<u64>(a, redis::cmd("DBSIZE"), self.cfg.timeout_ms));
        let sizes = futures_util::future::join_all(sizes).await;
        Ok(masters.into_iter().zip(sizes).map(|(a, s)| ScanNode { addr: Some(a), keys: s.ok() }).collect())
    }

    async fn scan_page(
        &self,
        node: Option<&str>,
        cursor: u64,
        pattern: &str,
        type_filter: Option<&str>,
        count: u32,
    ) -> Result<(u64, Vec<Key>), StoreError> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(count);
        if let Some(t) = type_filter {
            cmd.arg("TYPE").arg(t);
        }
        let (next, keys): (u64, Vec<Vec<u8>>) = match (node, self.cluster().await?) {
            (Some(addr), Some(_)) => self.on_node(addr, cmd, self.cfg.scan_timeout_ms).await?,
            (Some(addr), None) => {
                return Err(StoreError::Other(format!("{addr}: not a cluster node of this connection")));
            }
            (None, _) => {
                let mut c = self.conn().await?;
                let r = self.run(self.cfg.scan_timeout_ms, cmd.query_async(&mut c)).await;
                if let Err(e) = &r {
                    self.after_error(e).await;
                }
                r?
            }
        };
        Ok((next, keys.into_iter().map(Vec::into_boxed_slice).collect()))
    }

    async fn meta(&self, keys: &[Key]) -> Result<Vec<(Key, KeyMeta)>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = KeyedBatch::default();
        for k in keys {
            b.add(k, redis::cmd("TYPE").arg(&**k).clone());
            b.add(k, redis::cmd("PTTL").arg(&**k).clone());
            b.add(k, redis::cmd("MEMORY").arg("USAGE").arg(&**k).clone());
        }
        let vals = self.batch(&b, true).await?;
        let out: Vec<(Key, KeyMeta)> = keys
            .iter()
            .zip(vals.chunks(3))
            .map(|(k, c)| (k.clone(), parse_meta(&c[0], &c[1], c.get(2).unwrap_or(&Value::Nil))))
            .collect();
        for (_, m) in &out {
            self.looked_up(m.ktype.is_some(), 2); // TYPE and PTTL
        }
        Ok(out)
    }

    async fn measure(&self, keys: &[Key], what: crate::domain::Measure) -> Result<Vec<Option<i64>>, StoreError> {
        use crate::domain::Measure;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = KeyedBatch::default();
        for k in keys {
            let c = match what {
                Measure::Ttl => redis::cmd("PTTL").arg(&**k).clone(),
                Measure::Memory => redis::cmd("MEMORY").arg("USAGE").arg(&**k).clone(),
            };
            b.add(k, c);
        }
        let vals = self.batch(&b, true).await?;
        let out: Vec<Option<i64>> = vals.iter().map(|v| int_of(v).filter(|n| *n >= 0)).collect();
        if what == Measure::Ttl {
            // PTTL is a keyspace lookup: -2 (a miss) when the key is gone.
            let misses = vals.iter().filter(|v| int_of(v) == Some(-2)).count() as u64;
            self.looked_up(true, keys.len() as u64 - misses);
            self.looked_up(false, misses);
        }
        Ok(out)
    }

    async fn lengths(&self, keys: &[(Key, KeyType)]) -> Result<Vec<Option<u64>>, StoreError> {
        let mut b = KeyedBatch::default();
        let mut asked = Vec::with_capacity(keys.len());
        for (k, t) in keys {
            let cmd = match t {
                KeyType::String => "STRLEN",
                KeyType::List => "LLEN",
                KeyType::Hash => "HLEN",
                KeyType::Set => "SCARD",
                KeyType::ZSet => "ZCARD",
                KeyType::Stream => "XLEN",
                KeyType::Other(_) => {
                    asked.push(false);
                    continue;
                }
            };
            b.add(k, redis::cmd(cmd).arg(&**k).clone());
            asked.push(true);
        }
        let n_asked = asked.iter().filter(|a| **a).count() as u64;
        let mut vals = if n_asked > 0 { self.batch(&b, true).await? } else { Vec::new() }.into_iter();
        let out: Vec<Option<u64>> = asked
            .into_iter()
            .map(|a| if a { vals.next().as_ref().and_then(int_of).map(|n| n.max(0) as u64) } else { None })
            .collect();
        // Each length command is a keyspace lookup (a hit when the key is still there).
        let hits = out.iter().filter(|n| n.is_some_and(|n| n > 0)).count() as u64;
        self.looked_up(true, hits);
        self.looked_up(false, n_asked - hits.min(n_asked));
        Ok(out)
    }

    async fn value(&self, key: &[u8], cursor: &PageCursor) -> Result<Option<ValuePage>, StoreError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        p.cmd("TYPE").arg(key).cmd("PTTL").arg(key).cmd("MEMORY").arg("USAGE").arg(key);
        let v = self.pipe(&p).await?;
        let meta = parse_meta(&v[0], &v[1], v.get(2).unwrap_or(&Value::Nil));
        self.looked_up(meta.ktype.is_some(), 2); // TYPE and PTTL
        let Some(ktype) = meta.ktype.clone() else {
            return Ok(None);
        };
        // Each type reads its length and one page (two lookups); PFCOUNT and page sizing add one.
        let extra = if matches!(ktype, KeyType::Other(_)) { 0 } else { 2 };
        self.looked_up(true, extra);
        let offset = match cursor {
            PageCursor::Offset(o) => *o,
            _ => 0,
        };
        let n = self.page_len(key, &ktype, meta.memory).await;
        let (length, next, body) = match &ktype {
            KeyType::String => {
                let (len, next, body) = self.string_body(key, offset).await?;
                (len, next.map(PageCursor::Offset), body)
            }
            KeyType::List => {
                let mut p = redis::pipe();
                p.cmd("LLEN").arg(key).cmd("LRANGE").arg(key).arg(offset).arg(offset + n - 1);
                let mut r = self.pipe(&p).await?.into_iter();
                let len = r.next().as_ref().and_then(int_of).unwrap_or(0) as u64;
                let list: Vec<Blob> = items(r.next().unwrap_or(Value::Nil)).iter().map(blob).collect();
                let next = (offset + n < len).then_some(PageCursor::Offset(offset + n));
                (len, next, ValueBody::List(list))
            }
            KeyType::ZSet => {
                let mut p = redis::pipe();
                p.cmd("ZCARD").arg(key).cmd("ZRANGE").arg(key).arg(offset).arg(offset + n - 1).arg("WITHSCORES");
                let mut r = self.pipe(&p).await?.into_iter();
                let len = r.next().as_ref().and_then(int_of).unwrap_or(0) as u64;
                let flat = items(r.next().unwrap_or(Value::Nil));
                let mut z = Vec::new();
                for it in flat.chunks(2) {
                    match it {
                        [Value::Array(pair), ..] if pair.len() == 2 => {
                            z.push((blob(&pair[0]), score(&pair[1])));
                        }
                        [m, s] => z.push((blob(m), score(s))),
                        _ => {}
                    }
                }
                let next = (offset + n < len).then_some(PageCursor::Offset(offset + n));
                (len, next, ValueBody::ZSet(z))
            }
            KeyType::Hash | KeyType::Set => {
                let c = match cursor {
                    PageCursor::Cursor(c) => *c,
                    _ => 0,
                };
                let (len_cmd, scan_cmd) = if ktype == KeyType::Hash { ("HLEN", "HSCAN") } else { ("SCARD", "SSCAN") };
                let mut p = redis::pipe();
                p.cmd(len_cmd).arg(key).cmd(scan_cmd).arg(key).arg(c).arg("COUNT").arg(n);
                let mut r = self.pipe(&p).await?.into_iter();
                let len = r.next().as_ref().and_then(int_of).unwrap_or(0) as u64;
                let reply = items(r.next().unwrap_or(Value::Nil));
                if let Some(e) = reply.iter().find_map(server_err) {
                    return Err(StoreError::Server(e));
                }
                let mut it = reply.into_iter();
                let next_c = it.next().as_ref().and_then(int_of).unwrap_or(0) as u64;
                let page = it.next().unwrap_or(Value::Nil);
                let next = (next_c != 0).then_some(PageCursor::Cursor(next_c));
                let body = if ktype == KeyType::Hash {
                    ValueBody::Hash(pairs(page))
                } else {
                    ValueBody::Set(items(page).iter().map(blob).collect())
                };
                (len, next, body)
            }
            KeyType::Stream => {
                let start = match cursor {
                    PageCursor::After(id) => format!("({id}"),
                    _ => "-".to_string(),
                };
                let mut p = redis::pipe();
                p.cmd("XLEN").arg(key).cmd("XRANGE").arg(key).arg(&start).arg("+").arg("COUNT").arg(n);
                let mut r = self.pipe(&p).await?.into_iter();
                let len = r.next().as_ref().and_then(int_of).unwrap_or(0) as u64;
                let entries: Vec<StreamEntry> = items(r.next().unwrap_or(Value::Nil))
                    .into_iter()
                    .filter_map(|e| {
                        let mut parts = items(e).into_iter();
                        let id = String::from_utf8_lossy(&bytes_of(&parts.next()?)).into_owned();
                        Some(StreamEntry { id, fields: pairs(parts.next().unwrap_or(Value::Nil)) })
                    })
                    .collect();
                let next = match entries.last() {
                    Some(last) if entries.len() as u64 == n => Some(PageCursor::After(last.id.clone())),
                    _ => None,
                };
                (len, next, ValueBody::Stream(entries))
            }
            KeyType::Other(name) if name == "ReJSON-RL" => {
                let (total, doc) = self.json_body(key, meta.memory, offset).await?;
                let next = match &doc {
                    crate::domain::JsonDoc::Members { count, members, .. }
                        if offset + (members.len() as u64) < *count && !members.is_empty() =>
                    {
                        Some(PageCursor::Offset(offset + members.len() as u64))
                    }
                    _ => None,
                };
                (total, next, ValueBody::Json(doc))
            }
            KeyType::Other(_) => (0, None, ValueBody::Opaque),
        };
        let node = match self.cluster().await? {
            Some(_) => {
                let slot = cluster::slot_of(key);
                let nodes = self.cluster_nodes().await.unwrap_or_default();
                let master = nodes.iter().find(|n| n.master && n.serves(slot)).map(|n| self.node_addr(&n.addr));
                Some((slot, master.unwrap_or_else(|| "no master serves it".into())))
            }
            None => None,
        };
        Ok(Some(ValuePage {
            node,
            key: key.into(),
            ktype,
            ttl: meta.ttl,
            length,
            memory: meta.memory,
            cursor: cursor.clone(),
            next,
            body,
        }))
    }

    async fn server_info(&self) -> Result<ServerInfo, StoreError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        p.cmd("INFO").arg("server").cmd("INFO").arg("keyspace").cmd("CONFIG").arg("GET").arg("databases");
        let v = self.pipe(&p).await?;
        let server = String::from_utf8_lossy(&bytes_of(&v[0])).into_owned();
        let field = |k: &str| server.lines().find_map(|l| l.strip_prefix(k)).map(|x| x.trim().to_string());
        // Valkey answers with server_name:valkey and valkey_version (and a redis_version for
        // compatibility).
        let (product, version) = match (field("server_name:").as_deref(), field("valkey_version:")) {
            (Some("valkey"), v) | (_, v @ Some(_)) => {
                ("Valkey".to_string(), v.or_else(|| field("redis_version:")).unwrap_or("?".into()))
            }
            _ => ("Redis".to_string(), field("redis_version:").unwrap_or("?".into())),
        };
        let mut keyspace = parse_keyspace(&String::from_utf8_lossy(&bytes_of(&v[1])));
        let cfg = items(v.get(2).cloned().unwrap_or(Value::Nil));
        let mut databases = cfg.get(1).and_then(int_of).map(|d| d as u32);
        let whole = self.cluster().await?.is_some();
        if whole {
            // One node's INFO keyspace is not the cluster's: each serving master's, summed —
            // keys and expires — from the topology as the cluster reports it now (a master
            // that failed, or gave its slots to a promoted replica, holds none of them).
            let masters: Vec<String> = self
                .cluster_nodes()
                .await?
                .into_iter()
                .filter(|n| n.master && !n.failing && !n.slots.is_empty())
                .map(|n| self.node_addr(&n.addr))
                .collect();
            let infos = masters
                .iter()
                .map(|a| self.on_node::<String>(a, redis::cmd("INFO").arg("keyspace").clone(), self.cfg.timeout_ms));
            let (mut keys, mut expires) = (0u64, 0u64);
            for info in futures_util::future::join_all(infos).await.into_iter().flatten() {
                for d in parse_keyspace(&info).into_iter().filter(|d| d.db == 0) {
                    keys += d.keys;
                    expires += d.expires;
                }
            }
            keyspace = vec![crate::domain::DbInfo { db: 0, keys, expires }];
            databases = Some(1);
        }
        let mode = match field("redis_mode:").or_else(|| field("server_mode:")).as_deref() {
            Some("cluster") => {
                // Asked of the node the URL names, so that "this one" is that node.
                let mut c = self.conn().await?;
                let nodes: String = self
                    .run(self.cfg.timeout_ms, redis::cmd("CLUSTER").arg("NODES").query_async(&mut c))
                    .await
                    .unwrap_or_default();
                ServerMode::Cluster { masters: cluster_masters(&nodes), whole }
            }
            Some("sentinel") => {
                let reply: Value = self.query(redis::cmd("SENTINEL").arg("MASTERS")).await.unwrap_or(Value::Nil);
                ServerMode::Sentinel { masters: sentinel_masters(reply) }
            }
            _ => ServerMode::Standalone,
        };
        let sentinel_master = match &self.direct {
            Direct::Sentinel(s) => s.current_addr().await.map(|a| (s.url.master.clone(), a)),
            Direct::Fixed(_) => None,
        };
        let search_indexes = self.search_indexes().await;
        Ok(ServerInfo { product, version, keyspace, databases, db: self.db, mode, sentinel_master, search_indexes })
    }

    async fn health(&self) -> Result<crate::domain::RedisHealth, StoreError> {
        if self.cluster().await?.is_some() {
            return self.cluster_health().await;
        }
        // Behind Sentinels: ask them every probe, so a failover is followed within one.
        if let Direct::Sentinel(s) = &self.direct {
            s.refresh().await?;
        }
        // A longer deadline than browsing: a slow server should read as slow, not as down.
        let t = Instant::now();
        let mut c = self.conn().await?;
        let _: String = self.run(self.cfg.scan_timeout_ms, redis::cmd("PING").query_async(&mut c)).await?;
        let ping_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut p = redis::pipe();
        p.ignore_errors();
        p.cmd("INFO").arg("memory").arg("stats").arg("clients").arg("keyspace").arg("server");
        p.cmd("SLOWLOG").arg("LEN").cmd("SLOWLOG").arg("GET").arg(5);
        // Named again every probe: the connection manager's reconnects lose the name.
        p.cmd("CLIENT").arg("SETNAME").arg(CLIENT_NAME).ignore();
        let v = self.pipe(&p).await?;
        let info = String::from_utf8_lossy(&bytes_of(&v[0])).into_owned();
        let mut h = parse_health_info(&info);
        h.ping_ms = ping_ms;
        h.slowlog_len = v.get(1).and_then(int_of).unwrap_or(0) as u64;
        h.slowlog = items(v.get(2).cloned().unwrap_or(Value::Nil))
            .into_iter()
            .filter_map(|e| {
                let parts = items(e);
                let us = parts.get(2).and_then(int_of)? as u64;
                let cmd: Vec<String> =
                    items(parts.get(3)?.clone()).iter().map(|a| crate::text::sanitize_line(&bytes_of(a))).collect();
                Some((us, cmd.join(" ")))
            })
            .collect();
        let (own_hits, own_misses) = self.own_lookups();
        h.own_hits = own_hits;
        h.own_misses = own_misses;
        if let Direct::Sentinel(s) = &self.direct {
            h.master_addr = s.current_addr().await;
        }
        Ok(h)
    }

    fn own_lookups(&self) -> (u64, u64) {
        (self.own_hits.load(Ordering::Relaxed), self.own_misses.load(Ordering::Relaxed))
    }

    async fn insight(&self) -> Result<Vec<crate::domain::ServerInsight>, StoreError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        p.cmd("CLIENT").arg("SETNAME").arg(CLIENT_NAME).ignore();
        p.cmd("SLOWLOG").arg("GET").arg(128);
        p.cmd("SLOWLOG").arg("LEN");
        p.cmd("CLIENT").arg("LIST");
        p.cmd("INFO").arg("commandstats");
        p.cmd("LATENCY").arg("LATEST");
        let nodes = self.scan_nodes().await?;
        let mut out = Vec::with_capacity(nodes.len());
        for n in nodes {
            let v: Vec<Value> = match &n.addr {
                None => self.pipe(&p).await?,
                Some(addr) => {
                    let mut c = self.node_conn(addr).await?;
                    self.run(self.cfg.timeout_ms, p.query_async(&mut c)).await?
                }
            };
            let mut i = parse_insight(&v);
            i.node = n.addr.clone();
            out.push(i);
        }
        Ok(out)
    }

    async fn exec(&self, ops: &[crate::domain::CacheOp]) -> Result<Vec<crate::domain::CacheReply>, StoreError> {
        use crate::domain::CacheOp as O;
        if let Some(w) = ops.iter().find(|o| o.is_write())
            && !self.writes_allowed.load(Ordering::SeqCst)
        {
            return Err(StoreError::ReadOnly(format!("{w:?}").chars().take(80).collect()));
        }
        // Each op touches one key: on a cluster, the batch goes per slot (a recent list and a
        // session of one conversation may live on different nodes).
        let mut b = KeyedBatch::default();
        for op in ops {
            match op {
                O::MergeRecent { key, items, keep } => {
                    b.add(key, redis::cmd("EVAL").arg(MERGE_RECENT).arg(1).arg(&**key).arg(*keep).arg(items).clone());
                }
                O::ReplaceList { key, items } => {
                    b.add_quiet(key, redis::cmd("DEL").arg(&**key).clone());
                    if items.is_empty() {
                        b.add(key, redis::cmd("PING"));
                    } else {
                        b.add(key, redis::cmd("RPUSH").arg(&**key).arg(items).clone());
                    }
                }
                O::HSet { key, fields, ttl_s } => {
                    b.add_quiet(key, redis::cmd("HSET").arg(&**key).arg(fields).clone());
                    b.add(key, redis::cmd("EXPIRE").arg(&**key).arg(*ttl_s).clone());
                }
                O::SetEx { key, value, ttl_s } => {
                    b.add(key, redis::cmd("SET").arg(&**key).arg(value).arg("EX").arg((*ttl_s).max(1)).clone());
                }
                O::Incr { key, ttl_s } => {
                    b.add_quiet(
                        key,
                        redis::cmd("SET").arg(&**key).arg(0).arg("EX").arg((*ttl_s).max(1)).arg("NX").clone(),
                    );
                    b.add(key, redis::cmd("INCR").arg(&**key).clone());
                }
                O::Del(key) => {
                    b.add(key, redis::cmd("DEL").arg(&**key).clone());
                }
                O::Get(key) => {
                    b.add(key, redis::cmd("GET").arg(&**key).clone());
                }
                O::LRange { key, start, stop } => {
                    b.add(key, redis::cmd("LRANGE").arg(&**key).arg(*start).arg(*stop).clone());
                }
                O::HGetAll(key) => {
                    b.add(key, redis::cmd("HGETALL").arg(&**key).clone());
                }
                O::PTtl(key) => {
                    b.add(key, redis::cmd("PTTL").arg(&**key).clone());
                }
                O::LLen(key) => {
                    b.add(key, redis::cmd("LLEN").arg(&**key).clone());
                }
                O::HLen(key) => {
                    b.add(key, redis::cmd("HLEN").arg(&**key).clone());
                }
                O::JsonGet { key, path } => {
                    b.add(key, redis::cmd("JSON.GET").arg(&**key).arg(path).clone());
                }
                O::HMGet { key, fields } => {
                    b.add(key, redis::cmd("HMGET").arg(&**key).arg(fields).clone());
                }
            }
        }
        let replies = self.batch(&b, false).await?;
        ops.iter()
            .zip(replies)
            .map(|(op, v)| {
                let r = cache_reply(op, v)?;
                use crate::domain::CacheReply as R;
                match (op, &r) {
                    (O::Get(_), R::Value(v)) => self.looked_up(v.is_some(), 1),
                    (O::LRange { .. }, R::Items(v)) => self.looked_up(!v.is_empty(), 1),
                    (O::HGetAll(_), R::Pairs(v)) => self.looked_up(!v.is_empty(), 1),
                    (O::PTtl(_), R::Int(t)) => self.looked_up(*t != -2, 1),
                    _ => {}
                }
                Ok(r)
            })
            .collect()
    }

    fn set_writes_allowed(&self, allowed: bool) {
        self.writes_allowed.store(allowed, Ordering::SeqCst);
    }

    async fn write(&self, op: &WriteOp) -> Result<String, StoreError> {
        let name = crate::text::sanitize_line(op.key());
        if !self.writes_allowed.load(Ordering::SeqCst) {
            return Err(StoreError::ReadOnly(format!("write to `{name}`")));
        }
        match op {
            WriteOp::Delete(k) => {
                let n: i64 = self.query(redis::cmd("UNLINK").arg(&**k)).await?;
                Ok(if n == 1 { format!("deleted `{name}`") } else { format!("`{name}` was already gone") })
            }
            WriteOp::Expire(k, secs) => {
                let n: i64 = self.query(redis::cmd("EXPIRE").arg(&**k).arg(*secs)).await?;
                Ok(if n == 1 { format!("`{name}` now expires in {secs}s") } else { format!("`{name}` is gone") })
            }
            WriteOp::Persist(k) => {
                let n: i64 = self.query(redis::cmd("PERSIST").arg(&**k)).await?;
                Ok(if n == 1 { format!("`{name}` no longer expires") } else { format!("`{name}` had no TTL") })
            }
            WriteOp::Rename(k, to) => {
                let (from_slot, to_slot) = (cluster::slot_of(k), cluster::slot_of(to));
                if from_slot != to_slot && self.cluster().await?.is_some() {
                    return Err(StoreError::Other(format!(
                        "a Redis Cluster cannot rename across hash slots: `{name}` is in slot {from_slot}, the new name in slot {to_slot} (keys sharing a {{hash tag}} share a slot); nothing renamed"
                    )));
                }
                // RENAMENX: never overwrite an existing key by accident.
                let n: i64 = self.query(redis::cmd("RENAMENX").arg(&**k).arg(&**to)).await?;
                let to_s = crate::text::sanitize_line(to);
                if n == 1 {
                    Ok(format!("renamed `{name}` to `{to_s}`"))
                } else {
                    Err(StoreError::Server(format!("`{to_s}` already exists; nothing renamed")))
                }
            }
        }
    }
}

/// `CacheOp::MergeRecent`: merge, dedupe by message_id, order by timestamp, trim, atomically.
const MERGE_RECENT: &str = r#"
local keep = tonumber(ARGV[1])
local byid, order = {}, {}
local function add(raw)
  local ok, m = pcall(cjson.decode, raw)
  local id, ts = raw, ''
  if ok and type(m) == 'table' then
    if m.message_id ~= nil then id = tostring(m.message_id) end
    if type(m.timestamp) == 'string' then ts = m.timestamp
    elseif type(m.timestamp) == 'number' then ts = string.format('%020.6f', m.timestamp) end
  end
  if byid[id] == nil then table.insert(order, id) end
  byid[id] = {ts, id, raw}
end
for _, r in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do add(r) end
for i = 2, #ARGV do add(ARGV[i]) end
local all = {}
for _, id in ipairs(order) do table.insert(all, byid[id]) end
table.sort(all, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
local from = math.max(1, #all - keep + 1)
redis.call('DEL', KEYS[1])
for i = from, #all do redis.call('RPUSH', KEYS[1], all[i][3]) end
return #all - from + 1
"#;

/// The replies of SLOWLOG GET, SLOWLOG LEN, CLIENT LIST, INFO commandstats and LATENCY LATEST.
fn parse_insight(v: &[Value]) -> crate::domain::ServerInsight {
    use crate::domain::{ClientInfo, CommandStat, LatencyEvent, ServerInsight, SlowEntry};
    let safe = |b: &[u8]| crate::text::sanitize_line(b);
    let mut s = ServerInsight::default();
    let part = |i: usize, what: &str, errors: &mut Vec<String>| -> Option<Value> {
        let x = v.get(i).cloned().unwrap_or(Value::Nil);
        match server_err(&x) {
            Some(e) => {
                errors.push(format!("{what}: {}", safe(e.as_bytes())));
                None
            }
            None => Some(x),
        }
    };
    if let Some(x) = part(0, "SLOWLOG GET", &mut s.errors) {
        s.slowlog = items(x)
            .into_iter()
            .filter_map(|e| {
                let f = items(e);
                let args: Vec<String> =
                    items(f.get(3)?.clone()).iter().map(|a| crate::text::truncate(&safe(&bytes_of(a)), 80)).collect();
                Some(SlowEntry {
                    id: f.first().and_then(int_of)? as u64,
                    at: f.get(1).and_then(int_of)?,
                    micros: f.get(2).and_then(int_of)? as u64,
                    command: args.join(" "),
                    client: f.get(4).map(|c| safe(&bytes_of(c))).unwrap_or_default(),
                    client_name: f.get(5).map(|c| safe(&bytes_of(c))).unwrap_or_default(),
                })
            })
            .collect();
    }
    s.slowlog_len = part(1, "SLOWLOG LEN", &mut s.errors).as_ref().and_then(int_of).unwrap_or(0) as u64;
    if let Some(x) = part(2, "CLIENT LIST", &mut s.errors) {
        let text = String::from_utf8_lossy(&bytes_of(&x)).into_owned();
        s.clients = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let kv: std::collections::HashMap<&str, &str> =
                    l.split(' ').filter_map(|p| p.split_once('=')).collect();
                let n = |k: &str| kv.get(k).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                let t = |k: &str| safe(kv.get(k).copied().unwrap_or("").as_bytes());
                let cmd = t("cmd");
                ClientInfo {
                    id: n("id"),
                    addr: t("addr"),
                    name: t("name"),
                    age_s: n("age"),
                    idle_s: n("idle"),
                    db: n("db") as u32,
                    // memscope's connections are named (CLIENT SETNAME, and LIB-NAME where the
                    // server keeps it); an unnamed one listing now is memscope's too.
                    this: kv.get("name") == Some(&CLIENT_NAME)
                        || kv.get("lib-name") == Some(&CLIENT_NAME)
                        || (kv.get("name").is_none_or(|n| n.is_empty()) && cmd == "client|list"),
                    cmd,
                    omem: n("omem"),
                    tot_mem: kv.get("tot-mem").and_then(|x| x.parse().ok()),
                    flags: t("flags"),
                }
            })
            .collect();
    }
    if let Some(x) = part(3, "INFO commandstats", &mut s.errors) {
        let text = String::from_utf8_lossy(&bytes_of(&x)).into_owned();
        s.commands = text
            .lines()
            .filter_map(|l| {
                let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
                let kv: std::collections::HashMap<&str, &str> =
                    rest.split(',').filter_map(|p| p.split_once('=')).collect();
                let n = |k: &str| kv.get(k).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                Some(CommandStat {
                    name: safe(name.as_bytes()),
                    calls: n("calls"),
                    usec: n("usec"),
                    usec_per_call: kv.get("usec_per_call").and_then(|x| x.parse().ok()).unwrap_or(0.0),
                    rejected: n("rejected_calls"),
                    failed: n("failed_calls"),
                })
            })
            .collect();
    }
    if let Some(x) = part(4, "LATENCY LATEST", &mut s.errors) {
        s.latency = items(x)
            .into_iter()
            .filter_map(|e| {
                let f = items(e);
                Some(LatencyEvent {
                    event: safe(&bytes_of(f.first()?)),
                    at: f.get(1).and_then(int_of)?,
                    latest_ms: f.get(2).and_then(int_of)? as u64,
                    max_ms: f.get(3).and_then(int_of)? as u64,
                })
            })
            .collect();
    }
    s
}

fn cache_reply(op: &crate::domain::CacheOp, v: Value) -> Result<crate::domain::CacheReply, StoreError> {
    use crate::domain::{CacheOp as O, CacheReply as R};
    if let Some(e) = server_err(&v) {
        return Err(StoreError::Server(e));
    }
    Ok(match op {
        O::MergeRecent { .. } | O::Incr { .. } | O::PTtl(_) | O::LLen(_) | O::HLen(_) => {
            R::Int(int_of(&v).unwrap_or(0))
        }
        O::Get(_) | O::JsonGet { .. } => R::Value((!matches!(v, Value::Nil)).then(|| bytes_of(&v))),
        O::LRange { .. } => R::Items(items(v).iter().map(bytes_of).collect()),
        O::HGetAll(_) => R::Pairs(pairs(v).into_iter().map(|(a, b)| (a.bytes, b.bytes)).collect()),
        O::HMGet { fields, .. } => R::Pairs(
            fields
                .iter()
                .zip(items(v))
                .filter(|(_, v)| !matches!(v, Value::Nil))
                .map(|(f, v)| (f.clone().into_bytes(), bytes_of(&v)))
                .collect(),
        ),
        O::ReplaceList { .. } | O::HSet { .. } | O::SetEx { .. } | O::Del(_) => R::Done,
    })
}

fn score(v: &Value) -> f64 {
    match v {
        Value::Double(d) => *d,
        other => String::from_utf8_lossy(&bytes_of(other)).parse().unwrap_or(f64::NAN),
    }
}

/// Write a seed plan (demo, tests) in pipelines of 1,000 commands. Not guarded by write mode:
/// only ever pointed at a server memscope started itself.
pub async fn apply_seed(url: &str, plan: &[crate::domain::Seed]) -> Result<(), StoreError> {
    use crate::domain::Seed;
    let client = redis::Client::open(url).map_err(map_err)?;
    let mut conn = client.get_multiplexed_async_connection().await.map_err(map_err)?;
    for chunk in plan.chunks(1000) {
        let mut p = redis::pipe();
        for s in chunk {
            match s {
                Seed::String(k, v) => p.cmd("SET").arg(&**k).arg(v),
                Seed::List(k, items) => p.cmd("DEL").arg(&**k).ignore().cmd("RPUSH").arg(&**k).arg(items),
                Seed::Hash(k, fields) => p.cmd("HSET").arg(&**k).arg(fields),
                Seed::Set(k, items) => p.cmd("SADD").arg(&**k).arg(items),
                Seed::ZSet(k, items) => p.cmd("ZADD").arg(&**k).arg(items),
                Seed::Stream(k, entries) => {
                    for e in entries {
                        p.cmd("XADD").arg(&**k).arg("*").arg(e).ignore();
                    }
                    p.cmd("PING")
                }
                Seed::HyperLogLog(k, items) => p.cmd("PFADD").arg(&**k).arg(items),
                Seed::Expire(k, s) => p.cmd("EXPIRE").arg(&**k).arg(*s),
            }
            .ignore();
        }
        let _: () = p.query_async(&mut conn).await.map_err(map_err)?;
    }
    Ok(())
}

/// Keep a server memscope started busy for about `ms` (a Lua loop checking the clock): the
/// demo's occasional slow operation, visible in SLOWLOG and in latency.
pub async fn slow_call(url: &str, ms: u64) -> Result<(), StoreError> {
    let client = redis::Client::open(url).map_err(map_err)?;
    let mut conn = client.get_multiplexed_async_connection().await.map_err(map_err)?;
    let script = "local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]; \
                  local i = 0; \
                  while true do i = i + 1; if i % 10000 == 0 then \
                  local n = redis.call('TIME'); if n[1] * 1000000 + n[2] - start > tonumber(ARGV[1]) * 1000 then break end \
                  end end; return i";
    let _: i64 = redis::cmd("EVAL").arg(script).arg(0).arg(ms).query_async(&mut conn).await.map_err(map_err)?;
    Ok(())
}

/// The masters of `CLUSTER NODES` (`id host:port@bus flags …`): `host:port`, and whether it is
/// the node that answered.
/// The masters serving slots now (a failed one, or one whose slots a promoted replica took,
/// is not counted), each with whether it is the node asked.
fn cluster_masters(nodes: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = cluster::parse_nodes(nodes)
        .into_iter()
        .filter(|n| n.master && !n.failing && !n.slots.is_empty())
        .map(|n| (n.addr, n.myself))
        .collect();
    out.sort();
    out
}

/// The parts of an `FT.INFO` reply memscope shows: what it indexes, its fields, its documents.
fn parse_ft_info(name: String, info: Value) -> crate::domain::SearchIndex {
    let text = |v: &Value| String::from_utf8_lossy(&bytes_of(v)).into_owned();
    let flat = items(info);
    let get = |k: &str| flat.chunks(2).find(|c| c.len() == 2 && text(&c[0]) == k).map(|c| c[1].clone());
    let mut idx = crate::domain::SearchIndex { name, ..Default::default() };
    if let Some(def) = get("index_definition") {
        let d = items(def);
        for c in d.chunks(2).filter(|c| c.len() == 2) {
            match text(&c[0]).as_str() {
                "key_type" => idx.on = text(&c[1]),
                "prefixes" => idx.prefixes = items(c[1].clone()).iter().map(text).collect(),
                _ => {}
            }
        }
    }
    if let Some(attrs) = get("attributes").or_else(|| get("fields")) {
        for a in items(attrs) {
            let f = items(a);
            let field = |k: &str| f.chunks(2).find(|c| c.len() == 2 && text(&c[0]) == k).map(|c| text(&c[1]));
            if let (Some(n), Some(t)) = (field("attribute").or_else(|| field("identifier")), field("type")) {
                idx.fields.push((n, t));
            }
        }
    }
    idx.docs = get("num_docs")
        .as_ref()
        .and_then(|v| int_of(v).or_else(|| text(v).parse::<f64>().ok().map(|f| f as i64)))
        .unwrap_or(0)
        .max(0) as u64;
    idx
}

/// (name, `ip:port`) of each master in a `SENTINEL MASTERS` reply (a list of flat field maps).
fn sentinel_masters(reply: Value) -> Vec<(String, String)> {
    items(reply)
        .into_iter()
        .filter_map(|m| {
            let kv: Vec<String> = items(m).iter().map(|x| String::from_utf8_lossy(&bytes_of(x)).into_owned()).collect();
            let get = |k: &str| kv.chunks(2).find(|c| c[0] == k).and_then(|c| c.get(1).cloned());
            Some((get("name")?, format!("{}:{}", get("ip")?, get("port")?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a failover the header counts the masters serving slots: not the failed one, nor
    /// one whose slots a promoted replica took ("cluster of 4 masters" until it came back).
    #[test]
    fn the_masters_counted_are_those_serving_slots() {
        let text = "\
e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
67ed 127.0.0.1:30002@40002 master,fail - 0 1 2 connected
292f 127.0.0.1:30003@40003 master - 0 1 3 connected 10923-16383
07c3 127.0.0.1:30004@40004 master - 0 1 4 connected 5461-10922
";
        let m = cluster_masters(text);
        assert_eq!(
            m,
            [
                ("127.0.0.1:30001".to_string(), true),
                ("127.0.0.1:30003".into(), false),
                ("127.0.0.1:30004".into(), false)
            ]
        );
    }

    #[test]
    fn keyspace_lines() {
        let ks = parse_keyspace("# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n");
        assert_eq!(ks.len(), 2);
        assert_eq!((ks[0].db, ks[0].keys, ks[0].expires), (0, 12, 3));
        assert_eq!(ks[1].db, 5);
    }

    #[test]
    fn urls_redis_rs_can_read() {
        // Credentials with characters that end a URL's parts are encoded, not cut.
        let u = connectable_url("redis://:S3CRET?PW4@127.0.0.1:6379/0");
        assert_eq!(u, "redis://:S3CRET%3FPW4@127.0.0.1:6379/0");
        let info = u.as_str().into_connection_info().unwrap();
        assert_eq!(info.redis_settings().password(), Some("S3CRET?PW4"));
        let info = connectable_url("rediss://me:a/b#c@h:1/2").as_str().into_connection_info().unwrap();
        assert_eq!((info.redis_settings().username(), info.redis_settings().password()), (Some("me"), Some("a/b#c")));
        // A password as a query parameter is sent (redis-rs reads it only in the credentials).
        let info = connectable_url("redis://h:1/3?password=pw&protocol=resp3").as_str().into_connection_info().unwrap();
        assert_eq!(info.redis_settings().password(), Some("pw"));
        assert_eq!(info.redis_settings().db(), 3);
        // The credentials' own password wins; plain URLs stay as they are.
        assert_eq!(connectable_url("redis://u:x@h?password=y"), "redis://u:x@h");
        assert_eq!(connectable_url("redis://h:1/0"), "redis://h:1/0");
        assert_eq!(connectable_url("unix:///s?pass=x"), "unix:///s?pass=x");
    }
}
