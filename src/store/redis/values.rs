//! Reading one value: strings in windows, page sizing, RedisJSON documents by member.

use super::*;

impl RedisStore {
    /// A RedisJSON document: whole up to `preview_bytes` (its `JSON.DEBUG MEMORY`), else one
    /// page of its top-level members from `from`, each read by path when small.
    pub(super) async fn json_body(
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

    /// Elements per page: `page_size`, fewer when the elements are large, so that one page
    /// moves about `4 × preview_bytes` at most (a list of 10 MB elements is paged one by one).
    pub(super) async fn page_len(&self, key: &[u8], ktype: &KeyType, memory: Option<u64>) -> u64 {
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
    pub(super) async fn string_body(
        &self,
        key: &[u8],
        offset: u64,
    ) -> Result<(u64, Option<u64>, ValueBody), StoreError> {
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

    /// A stream's consumer groups: XINFO GROUPS, then per group (at most
    /// [`GROUPS_READ`](crate::domain::GROUPS_READ)) XINFO CONSUMERS and the oldest pending
    /// entries (XPENDING … - + N), pipelined. The number of groups not read comes back too.
    pub(super) async fn stream_groups(
        &self,
        key: &[u8],
    ) -> Result<(Vec<crate::domain::StreamGroup>, usize), StoreError> {
        use crate::domain::{GROUPS_READ, PENDING_SHOWN, PendingEntry, StreamConsumer, StreamGroup};
        let reply: Value = self.query(redis::cmd("XINFO").arg("GROUPS").arg(key)).await?;
        self.looked_up(true, 1); // XINFO GROUPS reads the key (INFO counts a hit)
        let field = |m: &[Value], name: &str| {
            m.chunks(2).find(|c| c.len() == 2 && bytes_of(&c[0]) == name.as_bytes()).map(|c| c[1].clone())
        };
        let text =
            |v: Option<Value>| v.map(|v| String::from_utf8_lossy(&bytes_of(&v)).into_owned()).unwrap_or_default();
        let num = |v: Option<Value>| v.as_ref().and_then(int_of);
        let all = items(reply);
        let left_out = all.len().saturating_sub(GROUPS_READ);
        let mut groups: Vec<StreamGroup> = all
            .into_iter()
            .take(GROUPS_READ)
            .map(|g| {
                let m = items(g);
                StreamGroup {
                    name: text(field(&m, "name")),
                    pending: num(field(&m, "pending")).unwrap_or(0) as u64,
                    last_delivered: text(field(&m, "last-delivered-id")),
                    lag: num(field(&m, "lag")).map(|l| l as u64),
                    ..Default::default()
                }
            })
            .collect();
        if groups.is_empty() {
            return Ok((groups, left_out));
        }
        let mut p = redis::pipe();
        for g in &groups {
            p.cmd("XINFO").arg("CONSUMERS").arg(key).arg(&g.name);
            p.cmd("XPENDING").arg(key).arg(&g.name).arg("-").arg("+").arg(PENDING_SHOWN);
        }
        let mut r = self.pipe(&p).await?.into_iter();
        self.looked_up(true, 2 * groups.len() as u64); // XINFO CONSUMERS and XPENDING
        for g in &mut groups {
            g.consumers = items(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .map(|c| {
                    let m = items(c);
                    StreamConsumer {
                        name: text(field(&m, "name")),
                        pending: num(field(&m, "pending")).unwrap_or(0) as u64,
                        idle_ms: num(field(&m, "idle")).unwrap_or(0).max(0) as u64,
                        inactive_ms: num(field(&m, "inactive")),
                    }
                })
                .collect();
            g.oldest_pending = items(r.next().unwrap_or(Value::Nil))
                .into_iter()
                .filter_map(|e| {
                    let mut it = items(e).into_iter();
                    Some(PendingEntry {
                        id: String::from_utf8_lossy(&bytes_of(&it.next()?)).into_owned(),
                        consumer: String::from_utf8_lossy(&bytes_of(&it.next()?)).into_owned(),
                        idle_ms: it.next().as_ref().and_then(int_of).unwrap_or(0).max(0) as u64,
                        deliveries: it.next().as_ref().and_then(int_of).unwrap_or(0).max(0) as u64,
                    })
                })
                .collect();
        }
        Ok((groups, left_out))
    }
}
