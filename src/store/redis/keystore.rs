//! [`KeyStore`] for [`RedisStore`]: scanning, metadata, values, writes, health and the memory layer's pipelines.

use super::*;

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
        let body_is_stream = matches!(body, ValueBody::Stream(_));
        let node = match self.cluster().await? {
            Some(_) => {
                let slot = cluster::slot_of(key);
                let nodes = self.cluster_nodes().await.unwrap_or_default();
                let master = nodes.iter().find(|n| n.master && n.serves(slot)).map(|n| self.node_addr(&n.addr));
                Some((slot, master.unwrap_or_else(|| "no master serves it".into())))
            }
            None => None,
        };
        let (groups, groups_left_out) = if body_is_stream && matches!(cursor, PageCursor::Start) {
            self.stream_groups(key).await?
        } else {
            (Vec::new(), 0)
        };
        Ok(Some(ValuePage {
            groups,
            groups_left_out,
            lines: Vec::new(),
            formats: Vec::new(),
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

    async fn monitor(
        &self,
        each: &mut (dyn FnMut(crate::domain::MonitorLine) -> bool + Send),
    ) -> Result<(), StoreError> {
        self.monitor_nodes(each).await
    }

    async fn hotkeys_start(&self, secs: u64) -> Result<bool, StoreError> {
        self.hotkeys_begin(secs).await
    }

    async fn hotkeys(&self) -> Result<Option<crate::domain::HotKeys>, StoreError> {
        self.hotkeys_read().await
    }

    async fn pubsub_channels(&self, pattern: &str) -> Result<(Vec<(String, u64)>, u64, usize), StoreError> {
        RedisStore::pubsub_channels(self, pattern).await
    }

    async fn subscribe(
        &self,
        pattern: &str,
        each: &mut (dyn FnMut(crate::domain::PubMessage) -> bool + Send),
    ) -> Result<(), StoreError> {
        self.subscribe_pattern(pattern, each).await
    }

    async fn hotkeys_stop(&self) {
        self.hotkeys_end().await
    }

    async fn key_sizes(&self) -> Result<Vec<crate::domain::KeySizes>, StoreError> {
        self.key_sizes().await
    }

    async fn server_report(&self) -> Result<Vec<crate::domain::ServerReport>, StoreError> {
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
                O::JsonArrLen { key, path } => {
                    b.add(key, redis::cmd("JSON.ARRLEN").arg(&**key).arg(path).clone());
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
