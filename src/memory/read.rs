//! Reading with fallback: a conversation's recent messages (Redis, else Firestore), cached documents and results, rebuilding the recent window.

use super::*;

/// A message as the recent list keeps it (JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RecentMessage {
    pub message_id: String,
    pub role: String,
    pub content: String,
    #[serde(default)]
    pub timestamp: serde_json::Value,
    #[serde(default)]
    pub user_id: Option<String>,
}

impl RecentMessage {
    pub fn of(m: &Message) -> RecentMessage {
        RecentMessage {
            message_id: m.id.clone(),
            role: m.role.clone(),
            content: m.content.clone(),
            timestamp: m.timestamp.map(|t| t.to_rfc3339_micros().into()).unwrap_or_default(),
            user_id: m.user_id.clone(),
        }
    }
    pub fn json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn parse(raw: &[u8]) -> Option<RecentMessage> {
        serde_json::from_slice(raw).ok()
    }
    /// The instant of `timestamp` (an RFC 3339 string or Unix seconds).
    pub fn ts(&self) -> Option<Ts> {
        match &self.timestamp {
            serde_json::Value::String(s) => Ts::parse(s),
            serde_json::Value::Number(n) => n.as_f64().map(|f| Ts::from_micros((f * 1e6) as i64)),
            _ => None,
        }
    }
}

/// Which tier answered a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    Process,
    Redis,
    LongTerm,
    Vector,
}

impl Memory {
    /// The recent messages of a conversation: from Redis when its list covers `limit`, else
    /// from the long-term store, refreshing the Redis list on the way back.
    pub async fn get_conversation(&self, id: &str, limit: usize) -> Result<(Vec<RecentMessage>, ReadFrom), StoreError> {
        let keep = self.cfg.recent_messages as usize;
        if let Some(redis) = &self.redis {
            let op = CacheOp::LRange { key: recent_key(id), start: -(limit.max(1) as i64), stop: -1 };
            match redis.exec(&[op]).await.map(|mut r| r.pop()) {
                Ok(Some(CacheReply::Items(items))) if !items.is_empty() && (items.len() >= limit || limit <= keep) => {
                    bump(&self.stats.redis_hits);
                    return Ok((items.iter().filter_map(|b| RecentMessage::parse(b)).collect(), ReadFrom::Redis));
                }
                Ok(_) => bump(&self.stats.redis_misses),
                Err(e) => {
                    bump(&self.stats.redis_errors);
                    tracing::debug!(error = %e, "recent list unavailable; reading the long-term store");
                }
            }
        }
        bump(&self.stats.long_term_reads);
        let tail = self.tail_messages(id, limit.max(keep)).await?;
        if let Some(redis) = &self.redis
            && !tail.is_empty()
        {
            let start = tail.len().saturating_sub(keep);
            let items = tail[start..].iter().map(|m| RecentMessage::of(m).json()).collect();
            let op = CacheOp::ReplaceList { key: recent_key(id), items };
            if redis.exec(&[op]).await.is_err() {
                bump(&self.stats.redis_errors);
            }
        }
        let start = tail.len().saturating_sub(limit);
        Ok((tail[start..].iter().map(RecentMessage::of).collect(), ReadFrom::LongTerm))
    }

    /// The last `n` messages of a conversation from the long-term store, oldest first (read
    /// page by page; memory stays bounded by `n`).
    pub async fn tail_messages(&self, conversation: &str, n: usize) -> Result<Vec<Message>, StoreError> {
        let mut tail = VecDeque::with_capacity(n + 1);
        let mut cursor = None;
        loop {
            let page = self.long_term.messages(conversation, cursor.as_ref(), 500).await?;
            for m in page.items {
                tail.push_back(m);
                if tail.len() > n {
                    tail.pop_front();
                }
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(tail.into())
    }

    /// A document by path: in-process LRU → Redis (`cache:doc:{path}`) → long-term store,
    /// refreshing the faster tiers on the way back (Redis with `cache_ttl_s`).
    pub async fn get_with_fallback(&self, path: &str) -> Result<Option<(serde_json::Value, ReadFrom)>, StoreError> {
        let key = doc_cache_key(path);
        if let Some(v) = self.lru.lock().ok().and_then(|mut l| l.get(&key)) {
            bump(&self.stats.lru_hits);
            return Ok(Some((v, ReadFrom::Process)));
        }
        bump(&self.stats.lru_misses);
        if let Some(v) = self.redis_get_json(&key).await {
            self.lru_put(&key, &v);
            return Ok(Some((v, ReadFrom::Redis)));
        }
        bump(&self.stats.long_term_reads);
        let Some(doc) = self.long_term.document(path).await? else {
            return Ok(None);
        };
        let v = crate::domain::fields_json(&doc.fields);
        self.redis_set_json(&key, &v, self.cfg.cache_ttl_s).await;
        self.lru_put(&key, &v);
        Ok(Some((v, ReadFrom::LongTerm)))
    }

    pub(super) fn lru_put(&self, key: &str, v: &serde_json::Value) {
        if let Ok(mut l) = self.lru.lock() {
            l.put(key, v.clone());
        }
    }

    pub(super) async fn redis_get_json(&self, key: &str) -> Option<serde_json::Value> {
        let redis = self.redis.as_ref()?;
        match redis.exec(&[CacheOp::Get(key.as_bytes().into())]).await.map(|mut r| r.pop()) {
            Ok(Some(CacheReply::Value(Some(b)))) => match serde_json::from_slice(&b) {
                Ok(v) => {
                    bump(&self.stats.redis_hits);
                    Some(v)
                }
                Err(_) => {
                    bump(&self.stats.redis_misses);
                    None
                }
            },
            Ok(_) => {
                bump(&self.stats.redis_misses);
                None
            }
            Err(_) => {
                bump(&self.stats.redis_errors);
                None
            }
        }
    }

    pub(super) async fn redis_set_json(&self, key: &str, v: &serde_json::Value, ttl_s: u64) -> bool {
        let Some(redis) = &self.redis else { return false };
        let op = CacheOp::SetEx { key: key.as_bytes().into(), value: v.to_string().into_bytes(), ttl_s };
        let ok = redis.exec(&[op]).await.is_ok();
        if !ok {
            bump(&self.stats.redis_errors);
        }
        ok
    }

    /// Cache a computed result in Redis (and this process) for `ttl`.
    pub async fn cache_result(&self, key: &str, value: &serde_json::Value, ttl: Duration) -> bool {
        self.lru_put(key, value);
        self.redis_set_json(key, value, ttl.as_secs().max(1)).await
    }

    /// A result cached by `cache_result` (here or by another process), if it has not expired.
    pub async fn get_cached_result(&self, key: &str) -> Option<serde_json::Value> {
        if let Some(v) = self.lru.lock().ok().and_then(|mut l| l.get(key)) {
            bump(&self.stats.lru_hits);
            return Some(v);
        }
        bump(&self.stats.lru_misses);
        let v = self.redis_get_json(key).await?;
        self.lru_put(key, &v);
        Some(v)
    }

    /// Rebuild conversations' recent lists (and sessions' message ids) from the long-term store.
    pub async fn rebuild_recent(&self, conversations: &[String]) -> Result<(), StoreError> {
        let redis = self.redis.as_ref().ok_or_else(|| StoreError::NotConfigured("no Redis configured".into()))?;
        let keep = self.cfg.recent_messages as usize;
        let mut ops = Vec::new();
        for c in conversations {
            let tail = self.tail_messages(c, keep).await?;
            let items = tail.iter().map(|m| RecentMessage::of(m).json()).collect();
            ops.push(CacheOp::ReplaceList { key: recent_key(c), items });
            if ops.len() >= 200 {
                redis.exec(&std::mem::take(&mut ops)).await?;
            }
        }
        if !ops.is_empty() {
            redis.exec(&ops).await?;
        }
        Ok(())
    }
}

pub(super) fn matches_json(ms: &[VectorMatch]) -> serde_json::Value {
    serde_json::Value::Array(
        ms.iter().map(|m| serde_json::json!({"id": m.id, "score": m.score, "metadata": m.metadata})).collect(),
    )
}

pub(super) fn matches_from_json(v: &serde_json::Value) -> Option<Vec<VectorMatch>> {
    v.as_array()?
        .iter()
        .map(|m| {
            Some(VectorMatch {
                id: m.get("id")?.as_str()?.to_string(),
                score: m.get("score")?.as_f64()? as f32,
                values: None,
                metadata: m.get("metadata").and_then(|x| x.as_object()).cloned(),
            })
        })
        .collect()
}
