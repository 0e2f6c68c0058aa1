//! The profiler's sources on the server: MONITOR on the server (or on every master of a
//! cluster, merged), and where the server has them HOTKEYS (Redis 8.6+) and INFO KEYSIZES
//! (Redis 8). MONITOR lines are handed over as they arrive, on the reading task, so the server
//! never queues output for a slow reader; the caller bounds the session (time, lines).

use super::*;
use crate::domain::{HotKeys, HotValue, KeySizes, MonitorLine};
use futures_util::StreamExt;

/// Channels whose subscribers are counted (NUMSUB) per reading, at most.
pub const CHANNELS_READ: usize = 1_000;

impl RedisStore {
    /// A client for this server, or for the cluster node at `addr`, with the URL's settings.
    fn client_at(&self, addr: Option<&str>) -> Result<redis::Client, StoreError> {
        let info = self.url.as_str().into_connection_info().map_err(map_err)?;
        let info = match addr {
            None => info,
            Some(addr) => {
                let (host, port) = addr
                    .rsplit_once(':')
                    .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                    .ok_or_else(|| StoreError::Other(format!("not a node address: {addr}")))?;
                let node = match info.addr() {
                    redis::ConnectionAddr::TcpTls { insecure, tls_params, .. } => redis::ConnectionAddr::TcpTls {
                        host,
                        port,
                        insecure: *insecure,
                        tls_params: tls_params.clone(),
                    },
                    _ => redis::ConnectionAddr::Tcp(host, port),
                };
                info.set_addr(node)
            }
        };
        let settings = info.redis_settings().clone().set_lib_name(CLIENT_NAME, env!("CARGO_PKG_VERSION"));
        client_for(info.set_redis_settings(settings), &self.cfg)
    }

    /// MONITOR on every node that holds keys, merged; each line to `each` until it answers
    /// false (Ok) or a connection ends (Err).
    pub(super) async fn monitor_nodes(
        &self,
        each: &mut (dyn FnMut(MonitorLine) -> bool + Send),
    ) -> Result<(), StoreError> {
        if matches!(self.direct, Direct::Sentinel(_)) {
            return Err(StoreError::NotConfigured(
                "the profiler needs the master's address: point --redis-url (or [profile.NAME.redis] url) at the master the Sentinels name"
                    .into(),
            ));
        }
        let nodes = self.scan_nodes().await?;
        let mut streams = Vec::new();
        for n in nodes {
            let client = self.client_at(n.addr.as_deref())?;
            let m = self.run(self.cfg.timeout_ms.max(2_000), client.get_async_monitor()).await?;
            let node = n.addr.unwrap_or_default();
            streams.push(m.into_on_message::<String>().map(move |l| (node.clone(), l)).boxed());
        }
        let mut merged = futures_util::stream::select_all(streams);
        while let Some((node, line)) = merged.next().await {
            if let Some(l) = crate::domain::parse_monitor_line(&node, &line)
                && !each(l)
            {
                return Ok(());
            }
        }
        Err(StoreError::Unreachable("a MONITOR connection closed".into()))
    }

    /// One command on every node that holds keys (the server, or each master).
    async fn on_each_node(&self, cmd: redis::Cmd) -> Result<Vec<(String, Value)>, StoreError> {
        let mut out = Vec::new();
        for n in self.scan_nodes().await? {
            let v = match &n.addr {
                None => self.query::<Value>(&cmd).await,
                Some(a) => self.on_node::<Value>(a, cmd.clone(), self.cfg.timeout_ms).await,
            };
            out.push((n.addr.unwrap_or_default(), v?));
        }
        Ok(out)
    }

    /// HOTKEYS START for `secs` on every node; false when the server has no HOTKEYS (before
    /// Redis 8.6, Valkey) or another session is running (its results are read all the same).
    pub(super) async fn hotkeys_begin(&self, secs: u64) -> Result<bool, StoreError> {
        let mut c = redis::cmd("HOTKEYS");
        c.arg("START").arg("METRICS").arg(2).arg("CPU").arg("NET").arg("DURATION").arg(secs.max(1));
        match self.on_each_node(c).await {
            Ok(_) => Ok(true),
            Err(StoreError::Server(m)) if m.to_lowercase().contains("unknown") => Ok(false),
            Err(StoreError::Server(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// HOTKEYS GET of every node, merged (None when the server has no HOTKEYS or no session).
    pub(super) async fn hotkeys_read(&self) -> Result<Option<HotKeys>, StoreError> {
        let replies = match self.on_each_node(redis::cmd("HOTKEYS").arg("GET").clone()).await {
            Ok(r) => r,
            Err(StoreError::Server(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut all: Option<HotKeys> = None;
        for (_, v) in replies {
            let flat = items(v);
            let pairs: Vec<(String, HotValue)> = flat
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| {
                    let k = String::from_utf8_lossy(&bytes_of(&c[0])).into_owned();
                    let v = match &c[1] {
                        Value::Int(n) => HotValue::Int(*n),
                        Value::Array(a) => HotValue::Pairs(
                            a.chunks(2)
                                .filter(|p| p.len() == 2)
                                .map(|p| {
                                    (
                                        String::from_utf8_lossy(&bytes_of(&p[0])).into_owned(),
                                        int_of(&p[1]).unwrap_or(0).max(0) as u64,
                                    )
                                })
                                .collect(),
                        ),
                        other => HotValue::Text(String::from_utf8_lossy(&bytes_of(other)).into_owned()),
                    };
                    (k, v)
                })
                .collect();
            let h = crate::domain::parse_hotkeys(&pairs);
            all = Some(match all {
                None => h,
                Some(mut a) => {
                    a.by_cpu_us.extend(h.by_cpu_us);
                    a.by_net_bytes.extend(h.by_net_bytes);
                    a.all_commands_us += h.all_commands_us;
                    a.all_net_bytes += h.all_net_bytes;
                    a.duration_ms = a.duration_ms.max(h.duration_ms);
                    a.active |= h.active;
                    a
                }
            });
        }
        if let Some(a) = &mut all {
            a.by_cpu_us.sort_by_key(|x| std::cmp::Reverse(x.1));
            a.by_net_bytes.sort_by_key(|x| std::cmp::Reverse(x.1));
        }
        Ok(all)
    }

    /// HOTKEYS STOP on every node (the session memscope started).
    pub(super) async fn hotkeys_end(&self) {
        let _ = self.on_each_node(redis::cmd("HOTKEYS").arg("STOP").clone()).await;
    }

    /// INFO KEYSIZES of every node, summed per database and kind (empty before Redis 8).
    pub(super) async fn key_sizes(&self) -> Result<Vec<KeySizes>, StoreError> {
        let mut out: Vec<KeySizes> = Vec::new();
        for (_, v) in self.on_each_node(redis::cmd("INFO").arg("keysizes").clone()).await? {
            for k in crate::domain::parse_keysizes(&String::from_utf8_lossy(&bytes_of(&v))) {
                match out.iter_mut().find(|o| o.db == k.db && o.kind == k.kind) {
                    Some(o) => {
                        for (b, n) in k.buckets {
                            match o.buckets.iter_mut().find(|x| x.0 == b) {
                                Some(x) => x.1 += n,
                                None => o.buckets.push((b, n)),
                            }
                        }
                        o.buckets.sort();
                    }
                    None => out.push(k),
                }
            }
        }
        Ok(out)
    }

    /// PUBSUB CHANNELS `pattern` with each channel's NUMSUB (the first [`CHANNELS_READ`]), NUMPAT,
    /// and how many channels matched (one node: classic pub/sub reaches every node of a
    /// cluster; its channel lists are the node's).
    pub(super) async fn pubsub_channels(&self, pattern: &str) -> Result<(Vec<(String, u64)>, u64, usize), StoreError> {
        let node = self.scan_nodes().await?.into_iter().next().and_then(|n| n.addr);
        let q = |cmd: redis::Cmd| async {
            match &node {
                None => self.query::<Value>(&cmd).await,
                Some(a) => self.on_node::<Value>(a, cmd, self.cfg.timeout_ms).await,
            }
        };
        let all = items(q(redis::cmd("PUBSUB").arg("CHANNELS").arg(pattern).clone()).await?);
        let matched = all.len();
        let names: Vec<String> =
            all.iter().take(CHANNELS_READ).map(|v| String::from_utf8_lossy(&bytes_of(v)).into_owned()).collect();
        let mut channels = Vec::new();
        if !names.is_empty() {
            let mut c = redis::cmd("PUBSUB");
            c.arg("NUMSUB");
            for n in &names {
                c.arg(n);
            }
            let flat = items(q(c).await?);
            channels = flat
                .chunks(2)
                .filter(|p| p.len() == 2)
                .map(|p| {
                    (String::from_utf8_lossy(&bytes_of(&p[0])).into_owned(), int_of(&p[1]).unwrap_or(0).max(0) as u64)
                })
                .collect();
        }
        let numpat = int_of(&q(redis::cmd("PUBSUB").arg("NUMPAT").clone()).await?).unwrap_or(0).max(0) as u64;
        Ok((channels, numpat, matched))
    }

    /// PSUBSCRIBE `pattern` on its own connection (read-only: a subscriber sends nothing else);
    /// each message to `each` until it answers false.
    pub(super) async fn subscribe_pattern(
        &self,
        pattern: &str,
        each: &mut (dyn FnMut(crate::domain::PubMessage) -> bool + Send),
    ) -> Result<(), StoreError> {
        if matches!(self.direct, Direct::Sentinel(_)) {
            return Err(StoreError::NotConfigured(
                "pub/sub needs the master's address: point the url at the master the Sentinels name".into(),
            ));
        }
        let node = self.scan_nodes().await?.into_iter().next().and_then(|n| n.addr);
        let client = self.client_at(node.as_deref())?;
        let mut ps = self.run(self.cfg.timeout_ms.max(2_000), client.get_async_pubsub()).await?;
        self.run(self.cfg.timeout_ms.max(2_000), ps.psubscribe(pattern)).await?;
        let mut stream = ps.into_on_message();
        while let Some(m) = stream.next().await {
            let msg = crate::domain::PubMessage {
                channel: m.get_channel_name().to_string(),
                payload: m.get_payload_bytes().to_vec(),
                at_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0),
            };
            if !each(msg) {
                return Ok(());
            }
        }
        Err(StoreError::Unreachable("the subscriber's connection closed".into()))
    }
}
