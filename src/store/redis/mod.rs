//! Redis implementation of [`KeyStore`] over a tuned `ConnectionManager`.
//!
//! The crate's defaults block a call for ~9 s of retries while the server is down; here one
//! retry with 50–200 ms delays and a 250 ms connect timeout make calls fail fast, and every
//! call has its own deadline (`timeout_ms`, or `scan_timeout_ms` for SCAN) so that a server
//! frozen by `DEBUG SLEEP` yields a timeout, not a hang.

mod client;
pub mod cluster;
mod conn;
mod info;
mod keystore;
mod monitor;
mod reply;
pub mod sentinel;
mod server_report;
#[cfg(test)]
mod tests;
mod values;
pub mod vectors;

use super::KeyStore;
use client::{client_for, map_err};
use cluster::{ClusterNode, KeyedBatch};
use info::*;
use reply::*;
use sentinel::{SentinelMaster, SentinelUrl, is_sentinel_url};
use server_report::*;

use crate::config::{RedisConfig, RedisMode, redact_url, url_parts};
use crate::domain::{
    Blob, Key, KeyMeta, KeyType, PageCursor, ScanNode, ServerInfo, ServerMode, StreamEntry, Ttl, ValueBody, ValuePage,
    WriteOp,
};
use crate::error::StoreError;
pub use info::{parse_health_info, parse_keyspace};
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
