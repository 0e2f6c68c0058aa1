//! What INFO and friends say: health, keyspace, the cluster's health, search indexes, CLUSTER NODES and SENTINEL replies.

use super::*;

impl RedisStore {
    /// The Health probe of a cluster: every node probed on its own connection (a node down is
    /// that node DOWN, the others keep reporting); the figures are the reachable masters' sums.
    pub(super) async fn cluster_health(&self) -> Result<crate::domain::RedisHealth, StoreError> {
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

    /// RediSearch's indexes (`FT._LIST`, then `FT.INFO` of the first 50, the rest by name);
    /// none without the module.
    pub(super) async fn search_indexes(&self) -> Vec<crate::domain::SearchIndex> {
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
/// The masters of `CLUSTER NODES` (`id host:port@bus flags …`): `host:port`, and whether it is
/// the node that answered.
/// The masters serving slots now (a failed one, or one whose slots a promoted replica took,
/// is not counted), each with whether it is the node asked.
pub(super) fn cluster_masters(nodes: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = cluster::parse_nodes(nodes)
        .into_iter()
        .filter(|n| n.master && !n.failing && !n.slots.is_empty())
        .map(|n| (n.addr, n.myself))
        .collect();
    out.sort();
    out
}

/// The parts of an `FT.INFO` reply memscope shows: what it indexes, its fields, its documents.
pub(super) fn parse_ft_info(name: String, info: Value) -> crate::domain::SearchIndex {
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
            // Attributes are flat pairs, except flags (SORTABLE, NOSTEM) that stand alone: look
            // a key up wherever it stands.
            let field =
                |k: &str| f.iter().position(|x| text(x).eq_ignore_ascii_case(k)).and_then(|i| f.get(i + 1)).map(text);
            let Some(kind) = field("type") else { continue };
            let path = field("identifier").unwrap_or_default();
            let name = field("attribute").unwrap_or_else(|| path.clone());
            let vector = (kind == "VECTOR").then(|| crate::domain::VectorSpec {
                algorithm: field("algorithm").unwrap_or_default(),
                dtype: field("data_type").or_else(|| field("type_")).unwrap_or_else(|| "FLOAT32".into()),
                dim: field("dim").or_else(|| field("dimension")).and_then(|d| d.parse().ok()).unwrap_or(0),
                metric: field("distance_metric").unwrap_or_default(),
            });
            idx.fields.push(crate::domain::SearchField { name, path, kind, vector });
        }
    }
    let float = |k: &str| get(k).and_then(|v| text(&v).parse::<f64>().ok());
    idx.vector_mb = float("vector_index_sz_mb");
    idx.percent_indexed = float("percent_indexed");
    idx.failures = float("hash_indexing_failures").unwrap_or(0.0) as u64;
    idx.docs = get("num_docs")
        .as_ref()
        .and_then(|v| int_of(v).or_else(|| text(v).parse::<f64>().ok().map(|f| f as i64)))
        .unwrap_or(0)
        .max(0) as u64;
    idx
}

/// (name, `ip:port`) of each master in a `SENTINEL MASTERS` reply (a list of flat field maps).
pub(super) fn sentinel_masters(reply: Value) -> Vec<(String, String)> {
    items(reply)
        .into_iter()
        .filter_map(|m| {
            let kv: Vec<String> = items(m).iter().map(|x| String::from_utf8_lossy(&bytes_of(x)).into_owned()).collect();
            let get = |k: &str| kv.chunks(2).find(|c| c[0] == k).and_then(|c| c.get(1).cloned());
            Some((get("name")?, format!("{}:{}", get("ip")?, get("port")?)))
        })
        .collect()
}
