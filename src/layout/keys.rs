//! A Redis key per message: langchain-redis, redisvl, mem0 and agent-memory-server's long-term records.

use super::recognise::{Claim, Recognise, SampledKey};
use super::*;

/// A key per message (langchain-redis: RedisJSON `chat:{session}:{ULID}`; redisvl: a hash
/// `{name}:{session}:{unix ts}:{hex}`; mem0: a hash per memory grouped by its `user_id`):
/// conversations are the sessions the keys (or a field) name, a thread is its keys in time
/// order (the key's time: `{ts}` or a ULID; else the stored one), each read whole.
pub(super) struct KeyPerMessage {
    pub(super) redis: Arc<dyn KeyStore>,
    pub(super) layout: LayoutConfig,
    /// The session paged last: its keys in time order.
    pub(super) cache: ThreadCache<Vec<(Option<f64>, String)>>,
}

/// Milliseconds of a ULID's time part (its first 10 Crockford base-32 characters).
pub(super) fn ulid_ms(id: &str) -> Option<i64> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if id.len() != 26 {
        return None;
    }
    let mut ms: i64 = 0;
    for c in id.get(..10)?.bytes() {
        ms = ms * 32 + ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as i64;
    }
    Some(ms)
}

/// Keys read per pipeline when a layout groups messages by a stored field.
pub(super) const FIELD_BATCH: usize = 500;

/// A session's message keys with their time (`None`: the layout keeps none), in time order.
pub(super) type Sessions = std::collections::BTreeMap<String, Vec<(Option<f64>, String)>>;

impl KeyPerMessage {
    pub(super) fn read_op(&self, key: Key) -> CacheOp {
        match self.layout.encoding {
            Encoding::RedisJson => CacheOp::JsonGet { key, path: "$".into() },
            Encoding::Hash => CacheOp::HGetAll(key),
            _ => CacheOp::Get(key),
        }
    }

    /// A stored message as JSON: a RedisJSON document, a JSON string, or a hash's fields
    /// (binary values such as embeddings named by their size, never shown).
    pub(super) fn stored(&self, reply: CacheReply) -> Option<Value> {
        match reply {
            CacheReply::Value(Some(b)) => Some(match first_json(&b) {
                // `$` answers a one-element array.
                Some(Value::Array(mut a)) if a.len() == 1 && self.layout.encoding == Encoding::RedisJson => a.remove(0),
                Some(v) => v,
                None => Value::String(String::from_utf8_lossy(&b).into_owned()),
            }),
            CacheReply::Pairs(pairs) if !pairs.is_empty() => Some(Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match String::from_utf8(v) {
                            Ok(s) => Value::String(s),
                            Err(e) => Value::String(format!("<{} bytes, binary>", e.as_bytes().len())),
                        };
                        (String::from_utf8_lossy(&k).into_owned(), v)
                    })
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Every session with its message keys in time order.
    pub(super) async fn sessions(&self) -> Result<Sessions, StoreError> {
        let ty = match self.layout.encoding {
            Encoding::RedisJson => "ReJSON-RL",
            Encoding::Hash => "hash",
            _ => "string",
        };
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some(ty), 1000).await?;
        let mut out = Sessions::new();
        let mut by_field: Vec<(String, Option<f64>)> = Vec::new();
        while let Some(page) = scan.next_page().await {
            for k in page?.keys {
                let k = String::from_utf8_lossy(&k).into_owned();
                let Some(p) = self.layout.key_template.parts(&k) else { continue };
                let t = p.ts.or_else(|| p.message.as_deref().and_then(ulid_ms).map(|ms| ms as f64 / 1000.0));
                match p.conversation {
                    Some(c) if self.layout.fields.conversation.is_none() => out.entry(c).or_default().push((t, k)),
                    _ => by_field.push((k, t)),
                }
            }
        }
        by_field.sort_by(|a, b| a.0.cmp(&b.0));
        by_field.dedup_by(|a, b| a.0 == b.0);
        self.group_by_field(by_field, &mut out).await?;
        for v in out.values_mut() {
            v.sort_by(|a, b| {
                a.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY)).then(a.1.cmp(&b.1))
            });
            v.dedup();
        }
        Ok(out)
    }

    /// Keys whose conversation is a stored field (mem0's `user_id`): read it, and the stored
    /// time, of every key (the fields alone for hashes), in pipelines of [`FIELD_BATCH`].
    pub(super) async fn group_by_field(
        &self,
        keys: Vec<(String, Option<f64>)>,
        out: &mut Sessions,
    ) -> Result<(), StoreError> {
        let Some(conv) = self.layout.fields.conversation.clone() else { return Ok(()) };
        let root = |p: &str| p.split('.').next().unwrap_or(p).to_string();
        let mut wanted = vec![root(&conv)];
        if let Some(t) = &self.layout.fields.timestamp {
            wanted.push(root(t));
        }
        // mem0's vector stores keep whole seconds: its history database orders memories added
        // in one second (the memory id is the key's `{message}`).
        let history = match self.layout.history.clone() {
            Some(path) => Some(
                tokio::task::spawn_blocking(move || crate::store::sqlite::mem0_added_times(&path))
                    .await
                    .map_err(|e| StoreError::Other(format!("mem0 history: {e}")))??,
            ),
            None => None,
        };
        let added = |k: &str| {
            let id = self.layout.key_template.parts(k)?.message?;
            history.as_ref()?.get(&id).map(|t| t.secs as f64 + t.nanos as f64 / 1e9)
        };
        for chunk in keys.chunks(FIELD_BATCH) {
            let ops: Vec<CacheOp> = chunk
                .iter()
                .map(|(k, _)| {
                    let key: Key = k.clone().into_bytes().into();
                    match self.layout.encoding {
                        Encoding::Hash => CacheOp::HMGet { key, fields: wanted.clone() },
                        _ => self.read_op(key),
                    }
                })
                .collect();
            for ((k, t), r) in chunk.iter().zip(self.redis.exec(&ops).await?) {
                let Some(v) = self.stored(r) else { continue };
                // A memory without the field is listed under a conversation saying so, never
                // dropped (mem0 keeps memories by agent or run alone too).
                let c = at_path(&v, &conv).and_then(|c| text_of(&c)).unwrap_or_else(|| format!("(no {conv})"));
                let stored_t =
                    self.layout.fields.timestamp.as_deref().and_then(|p| at_path(&v, p)).as_ref().and_then(ts_of);
                let t = t.or(added(k)).or(stored_t.map(|t| t.secs as f64 + t.nanos as f64 / 1e9));
                out.entry(c).or_default().push((t, k.clone()));
            }
        }
        Ok(())
    }

    /// Stored messages, read whole in one batch (one pipeline per hash slot on a cluster).
    pub(super) async fn messages_of(&self, keys: &[(Option<f64>, String)]) -> Result<Vec<Message>, StoreError> {
        let ops: Vec<CacheOp> = keys.iter().map(|(_, k)| self.read_op(k.clone().into_bytes().into())).collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        Ok(keys
            .iter()
            .zip(replies)
            .map(|((t, k), r)| {
                let fallback_id =
                    self.layout.key_template.parts(k).and_then(|p| p.message).unwrap_or_else(|| k.clone());
                let ts = t.and_then(Ts::from_unix_number);
                match self.stored(r) {
                    Some(v) => message_of(&self.layout, k.clone(), fallback_id, ts, &v),
                    None => {
                        let gone = Value::String(format!("<{k}: gone (expired or deleted)>"));
                        message_of(&self.layout, k.clone(), fallback_id, ts, &gone)
                    }
                }
            })
            .collect())
    }

    pub(super) async fn conversation(
        &self,
        id: &str,
        msgs: &[(Option<f64>, String)],
    ) -> Result<Conversation, StoreError> {
        let first = self.messages_of(&msgs[..msgs.len().min(1)]).await?.pop();
        let agent = first.as_ref().and_then(|m| {
            let v: Value =
                serde_json::from_str(m.doc.get("stored").and_then(FsValue::as_str).unwrap_or("null")).ok()?;
            self.layout.fields.agent.as_deref().and_then(|p| at_path(&v, p)).and_then(|a| text_of(&a))
        });
        Ok(Conversation {
            id: id.to_string(),
            title: first.as_ref().map(title_of),
            user_id: first.as_ref().and_then(|m| m.user_id.clone()),
            agent_id: agent,
            created_at: msgs.first().and_then(|m| m.0).and_then(Ts::from_unix_number),
            updated_at: msgs.last().and_then(|m| m.0).and_then(Ts::from_unix_number),
            message_count: Some(msgs.len() as i64),
            doc: Document { path: format!("{}{id}", self.layout.key_prefix), fields: Vec::new(), update_time: None },
        })
    }
}

#[async_trait::async_trait]
impl ConversationReader for KeyPerMessage {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let sessions = self.sessions().await?;
        // Newest first: by each session's last message time (its keys are in time order).
        let order = newest_first(sessions.iter().map(|(id, msgs)| {
            let last = msgs.iter().rev().find_map(|m| m.0).map(|t| (t * 1e6) as i64);
            (id.clone(), last)
        }));
        let mut i = start_after(&order, after);
        let mut items = Vec::new();
        while i < order.len() && items.len() < limit as usize {
            let id = id_of_order_key(&order[i]);
            let c = self.conversation(id, &sessions[id]).await?;
            if keeps(filter, &c) {
                items.push(c);
            }
            i += 1;
        }
        let next = cursor_after(i, order.len(), order.get(i.wrapping_sub(1)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let sessions = self.sessions().await?;
        if let ConvFilter::All | ConvFilter::IdPrefix(_) = filter {
            let prefix = id_filter(self.layout.preset, filter)?;
            return Ok(
                sessions.keys().filter(|s| prefix.as_ref().is_none_or(|p| s.starts_with(p.as_str()))).count() as u64
            );
        }
        let mut n = 0;
        for (id, msgs) in &sessions {
            n += u64::from(keeps(filter, &self.conversation(id, msgs).await?));
        }
        Ok(n)
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let keys = self
            .cache
            .get(c, after.is_some(), async {
                let mut sessions = self.sessions().await?;
                sessions
                    .remove(c)
                    .ok_or_else(|| StoreError::Other(format!("no messages of `{c}` under {}", self.layout.keys)))
            })
            .await?;
        let from = position(after, keys.len());
        let to = (from + limit.max(1) as usize).min(keys.len());
        let items = self.messages_of(&keys[from.min(to)..to]).await?;
        let next = (to < keys.len()).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items, next })
    }
}

/// `{name}:{session}:{unix ts}:{8 hex}`: redisvl's message key.
pub(super) fn is_redisvl_key(k: &str) -> bool {
    let parts: Vec<&str> = k.rsplitn(3, ':').collect();
    parts.len() == 3
        && parts[0].len() == 8
        && parts[0].bytes().all(|b| b.is_ascii_hexdigit())
        && parts[1].parse::<f64>().is_ok()
        && parts[2].contains(':')
}

/// langchain-redis to `detect`: a RedisJSON document per message, `chat:{session}:{ULID}`.
pub(super) struct LangchainJson;

impl Recognise for LangchainJson {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LangchainRedisJson
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        (k.ktype == "ReJSON-RL" && k.name.starts_with("chat:"))
            .then(|| Claim::Conversation { at: "chat:*".into(), id: k.name.split(':').nth(1).unwrap_or("").into() })
    }
}

/// redisvl's message history to `detect`: a hash per message, `{name}:{session}:{ts}:{hex}`,
/// at its name.
pub(super) struct Redisvl;

impl Recognise for Redisvl {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Redisvl
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        if k.ktype != "hash" || !is_redisvl_key(k.name) {
            return None;
        }
        let (head, _) = k.name.rsplit_once(':').unwrap_or_default();
        let (head, _) = head.rsplit_once(':').unwrap_or_default();
        let (prefix, session) = head.split_once(':').unwrap_or_default();
        Some(Claim::Conversation { at: format!("{prefix}:"), id: session.into() })
    }

    fn config_lines(&self, at: &str) -> String {
        super::redis_list::key_prefix_lines(self.preset(), at)
    }
}

/// mem0 to `detect`: a hash per memory, a conversation per `user_id`.
pub(super) struct Mem0;

impl Recognise for Mem0 {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Mem0
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        (k.ktype == "hash" && k.name.starts_with("mem0:"))
            .then(|| Claim::ByField { at: "mem0:*".into(), field: "user_id" })
    }

    /// mem0 keeps whole seconds; its history database, where mem0 put it by default, gives the
    /// order within one (a comment: it may be another stack's).
    fn config_lines(&self, _at: &str) -> String {
        "preset = \"mem0\"\n# history = \"~/.mem0/history.db\"   # mem0's history database: the order within a second"
            .into()
    }
}
