//! Connections and round trips: the managed connection and its deadlines, pipelines, the cluster's per-node batches and slot map, direct node connections.

use super::*;

impl RedisStore {
    /// The connection to the one server: the URL's, or the Sentinels' master now.
    pub(super) async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        match &self.direct {
            Direct::Fixed(c) => Ok(c.clone()),
            Direct::Sentinel(s) => s.conn().await,
        }
    }

    /// After an error: a master that stopped answering, or that became a replica (`READONLY`),
    /// is asked of the Sentinels again on the next call.
    pub(super) async fn after_error(&self, e: &StoreError) {
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
    pub(super) fn looked_up(&self, hit: bool, n: u64) {
        let c = if hit { &self.own_hits } else { &self.own_misses };
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) async fn run<T>(
        &self,
        ms: u64,
        f: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
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
    pub(super) async fn cluster(&self) -> Result<Option<ClusterConnection>, StoreError> {
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
    pub(super) async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StoreError> {
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
    pub(super) async fn pipe(&self, p: &redis::Pipeline) -> Result<Vec<Value>, StoreError> {
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
    pub(super) async fn batch(&self, b: &KeyedBatch, ignore_errors: bool) -> Result<Vec<Value>, StoreError> {
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
    pub(super) async fn slot_map(&self) -> Result<std::sync::Arc<SlotMap>, StoreError> {
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

    pub(super) async fn batch_per_node(&self, b: &KeyedBatch, map: &SlotMap) -> Result<Vec<Value>, StoreError> {
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

    pub(super) async fn batch_per_slot(
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
    pub(super) async fn cluster_nodes(&self) -> Result<Vec<ClusterNode>, StoreError> {
        let text: String = self.query(redis::cmd("CLUSTER").arg("NODES")).await?;
        Ok(cluster::parse_nodes(&text))
    }

    /// The seed's connection settings (password, TLS) for the node at `addr`.
    pub(super) async fn node_conn(&self, addr: &str) -> Result<redis::aio::MultiplexedConnection, StoreError> {
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
    pub(super) async fn on_node<T: redis::FromRedisValue>(
        &self,
        addr: &str,
        cmd: redis::Cmd,
        ms: u64,
    ) -> Result<T, StoreError> {
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
    pub(super) fn node_addr(&self, addr: &str) -> String {
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
}
