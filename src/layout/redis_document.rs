//! A RedisJSON document per conversation: agent-memory-server's working memory.

use super::recognise::{Claim, Recognise, SampledKey};
use super::*;

/// A RedisJSON document per conversation, its messages an array field (agent-memory-server's
/// working memory, `working_memory:[namespace:][user:]{session}`): a conversation is the key
/// after the prefix, taken whole (the namespace and user are part of its name); listed newest
/// first by the document's `updated_at`.
pub(super) struct RedisDocument {
    pub(super) redis: Arc<dyn KeyStore>,
    pub(super) layout: LayoutConfig,
    pub(super) cache: ThreadCache<Vec<Message>>,
}

impl RedisDocument {
    pub(super) fn key(&self, id: &str) -> Key {
        format!("{}{id}", self.layout.key_prefix).into_bytes().into()
    }

    /// The document's `$.{path}` (RedisJSON answers the array of matches: its first).
    pub(super) fn first_match(reply: Option<&CacheReply>) -> Option<Value> {
        match reply {
            Some(CacheReply::Value(Some(b))) => match first_json(b) {
                Some(Value::Array(mut a)) if !a.is_empty() => Some(a.remove(0)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every conversation id with its document's update time, newest first, as order keys.
    pub(super) async fn ids(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        // An id prefix narrows the keys; the other filters (user, title) are kept page by page.
        let prefix = match filter {
            ConvFilter::IdPrefix(p) => Some(p.clone()),
            _ => None,
        };
        let ids: Vec<String> = scan_all(self.redis.clone(), &self.layout.keys, Some("ReJSON-RL"))
            .await?
            .into_iter()
            .filter_map(|k| k.strip_prefix(&self.layout.key_prefix).map(str::to_string))
            .filter(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())))
            .collect();
        let ops: Vec<CacheOp> =
            ids.iter().map(|id| CacheOp::JsonGet { key: self.key(id), path: "$.updated_at".into() }).collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        let times = replies.iter().map(|r| Self::first_match(Some(r)).as_ref().and_then(ts_of).map(|t| t.micros()));
        Ok(newest_first(ids.into_iter().zip(times)))
    }

    /// A conversation's messages, read whole (`JSON.GET KEY $.{messages_field}`).
    pub(super) async fn read(&self, id: &str) -> Result<Vec<Message>, StoreError> {
        let path = format!("$.{}", self.layout.messages_field);
        let r = self.redis.exec(&[CacheOp::JsonGet { key: self.key(id), path }]).await?;
        let key = String::from_utf8_lossy(&self.key(id)).into_owned();
        match Self::first_match(r.first()) {
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| message_of(&self.layout, format!("{key}#{}", i + 1), format!("#{:05}", i + 1), None, v))
                .collect()),
            _ => Err(StoreError::Other(format!(
                "no conversation `{id}`: no document {key} with a `{}` array",
                self.layout.messages_field
            ))),
        }
    }
}

#[async_trait::async_trait]
impl ConversationReader for RedisDocument {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let order = self.ids(filter).await?;
        let start = start_after(&order, after);
        let page: Vec<&String> = order[start..].iter().take(limit as usize).collect();
        // One pipeline for the page: each document's messages, user and update time.
        let ops: Vec<CacheOp> = page
            .iter()
            .flat_map(|k| {
                let key = self.key(id_of_order_key(k));
                // The first messages (the title) and how many: never the whole array.
                [
                    CacheOp::JsonGet {
                        key: key.clone(),
                        path: format!("$.{}[0:{TITLE_LOOK}]", self.layout.messages_field),
                    },
                    CacheOp::JsonArrLen { key: key.clone(), path: format!("$.{}", self.layout.messages_field) },
                    CacheOp::JsonGet { key: key.clone(), path: "$.user_id".into() },
                    CacheOp::JsonGet { key: key.clone(), path: "$.updated_at".into() },
                    CacheOp::JsonGet { key, path: "$.created_at".into() },
                ]
            })
            .collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        let mut items = Vec::new();
        for (k, r) in page.iter().zip(replies.chunks(5)) {
            let id = id_of_order_key(k);
            let key = String::from_utf8_lossy(&self.key(id)).into_owned();
            // A slice path answers its matches themselves: the first messages, in order.
            let heads: Vec<Value> = match r.first() {
                Some(CacheReply::Value(Some(b))) => match first_json(b) {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let count = match r.get(1) {
                Some(CacheReply::Int(n)) => *n,
                _ => 0,
            };
            let heads: Vec<Message> = heads
                .iter()
                .enumerate()
                .map(|(i, v)| message_of(&self.layout, format!("{key}#{}", i + 1), format!("#{:05}", i + 1), None, v))
                .collect();
            let c = Conversation {
                id: id.to_string(),
                title: title_from(&heads),
                user_id: Self::first_match(r.get(2)).as_ref().and_then(text_of),
                agent_id: None,
                created_at: Self::first_match(r.get(4)).as_ref().and_then(ts_of),
                updated_at: Self::first_match(r.get(3)).as_ref().and_then(ts_of),
                message_count: Some(count),
                doc: Document { path: key, fields: Vec::new(), update_time: None },
            };
            if keeps(filter, &c) {
                items.push(c);
            }
        }
        let end = start + page.len();
        let next = cursor_after(end, order.len(), end.checked_sub(1).and_then(|e| order.get(e)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        if let ConvFilter::All | ConvFilter::IdPrefix(_) = filter {
            return Ok(self.ids(filter).await?.len() as u64);
        }
        let (mut n, mut after) = (0u64, None);
        loop {
            let page = self.conversations(filter, after.as_ref(), 500).await?;
            n += page.items.len() as u64;
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self.cache.get(c, after.is_some(), self.read(c)).await?;
        Ok(page_of(&all, after, limit))
    }
}

/// agent-memory-server to `detect`: a working-memory document per session; its long-term
/// memory records (`memory_idx:*`, read by the same preset as its second source) belong to it.
pub(super) struct AgentMemoryServer;

impl Recognise for AgentMemoryServer {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::AgentMemoryServer
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        match (k.ktype, k.name) {
            ("ReJSON-RL", n) if n.starts_with("working_memory:") => {
                Some(Claim::Conversation { at: "working_memory:*".into(), id: n.into() })
            }
            ("hash", n) if n.starts_with("memory_idx:") => Some(Claim::Belongs),
            _ => None,
        }
    }
}
