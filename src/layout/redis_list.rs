//! A Redis list per conversation: langchain-community (LPUSH) and LlamaIndex (RPUSH, blocks).

use super::recognise::{Claim, Recognise, SampledKey};
use super::*;

/// A Redis list per conversation: langchain-community (`message_store:{session}`, LPUSH: newest
/// first) or LlamaIndex (a caller-chosen key, RPUSH: oldest first, text in blocks).
pub(super) struct RedisList {
    pub(super) redis: Arc<dyn KeyStore>,
    pub(super) layout: LayoutConfig,
    /// Lists the last scan passed over: their items are not this library's messages.
    pub(super) passed: std::sync::Mutex<Option<u64>>,
}

impl RedisList {
    pub(super) fn key(&self, id: &str) -> Key {
        format!("{}{id}", self.layout.key_prefix).into_bytes().into()
    }

    /// Every conversation id (the list keys matching the glob whose first item is a message
    /// of the layout's library: job queues and other libraries' lists are passed over, and
    /// counted), sorted.
    pub(super) async fn ids(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        // An id prefix narrows the keys; the other filters (user, title) are kept page by page.
        let prefix = match filter {
            ConvFilter::IdPrefix(p) => Some(p.clone()),
            _ => None,
        };
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some("list"), 1000).await?;
        let mut out = Vec::new();
        let mut passed = 0u64;
        while let Some(page) = scan.next_page().await {
            let ids: Vec<String> = page?
                .keys
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .map(|k| k.strip_prefix(&self.layout.key_prefix).unwrap_or(&k).to_string())
                .filter(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let ops: Vec<CacheOp> =
                ids.iter().map(|id| CacheOp::LRange { key: self.key(id), start: 0, stop: 0 }).collect();
            let firsts = self.redis.exec(&ops).await?;
            for (id, first) in ids.into_iter().zip(firsts) {
                match first {
                    CacheReply::Items(v) if v.first().is_some_and(|m| is_list_message(&self.layout, m)) => out.push(id),
                    // Gone since the scan: neither a conversation nor passed over.
                    CacheReply::Items(v) if v.is_empty() => {}
                    _ => passed += 1,
                }
            }
        }
        out.sort();
        out.dedup(); // SCAN may return a key twice
        *self.passed.lock().unwrap_or_else(|e| e.into_inner()) = Some(passed);
        Ok(out)
    }
}

/// Whether a list item is a message of the layout's library: LangChain's `{type, data}`,
/// LlamaIndex's `{role, blocks}` (`content` before 0.12), or an object with the fields a
/// profile names. Under a layout whose names the profile changed, either library's message
/// is (the decoders read both). A conversation's list is judged by its first item.
pub(super) fn is_list_message(l: &LayoutConfig, raw: &[u8]) -> bool {
    let v = decode_item(l, raw);
    let Some(o) = v.as_object() else { return false };
    let named = |f: &Option<String>| f.as_deref().map(|f| o.contains_key(f.split('.').next().unwrap_or(f)));
    let langchain = o.contains_key("type") && o.contains_key("data");
    let llamaindex = o.contains_key("role") && (o.contains_key("blocks") || o.contains_key("content"));
    match (named(&l.fields.role), named(&l.fields.content)) {
        (Some(a), Some(b)) => a || b,
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) if l.overridden => langchain || llamaindex,
        (None, None) => match l.preset {
            LayoutPreset::LangchainRedisList => langchain,
            LayoutPreset::LlamaindexRedis => llamaindex,
            _ => langchain || llamaindex,
        },
    }
}

#[async_trait::async_trait]
impl ConversationReader for RedisList {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ids = self.ids(filter).await?;
        let start = start_after(&ids, after);
        let page: Vec<String> = ids[start..].iter().take(limit as usize).cloned().collect();
        // Length and first messages (the oldest: the list's tail when written newest first).
        let look = TITLE_LOOK as i64;
        let (from, to) = if self.layout.newest_first { (-look, -1) } else { (0, look - 1) };
        let ops: Vec<CacheOp> = page
            .iter()
            .flat_map(|id| [CacheOp::LLen(self.key(id)), CacheOp::LRange { key: self.key(id), start: from, stop: to }])
            .collect();
        let replies = self.redis.exec(&ops).await?;
        let items = page
            .iter()
            .zip(replies.chunks(2))
            .map(|(id, r)| {
                let count = match r.first() {
                    Some(CacheReply::Int(n)) => Some(*n),
                    _ => None,
                };
                let key = String::from_utf8_lossy(&self.key(id)).into_owned();
                let mut raw: Vec<&Vec<u8>> = match r.get(1) {
                    Some(CacheReply::Items(v)) => v.iter().collect(),
                    _ => Vec::new(),
                };
                if self.layout.newest_first {
                    raw.reverse();
                }
                let heads: Vec<Message> = raw
                    .iter()
                    .enumerate()
                    .map(|(i, m)| positional(&self.layout, &key, i, &decode_item(&self.layout, m)))
                    .collect();
                let first = heads.first();
                Conversation {
                    id: id.clone(),
                    title: title_from(&heads),
                    user_id: first.and_then(|m| m.user_id.clone()),
                    agent_id: None,
                    created_at: first.and_then(|m| m.timestamp),
                    updated_at: None,
                    message_count: count,
                    doc: Document { path: key, fields: Vec::new(), update_time: None },
                }
            })
            .collect();
        let next = cursor_after(start + page.len(), ids.len(), page.last());
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.ids(filter).await?.len() as u64)
    }

    fn left_out(&self) -> Option<String> {
        let n = (*self.passed.lock().unwrap_or_else(|e| e.into_inner()))?;
        let library = match self.layout.preset {
            LayoutPreset::LangchainRedisList => "LangChain",
            LayoutPreset::LlamaindexRedis => "LlamaIndex",
            _ => "this layout's",
        };
        (n > 0).then(|| {
            format!(
                "passed over {n} list{} under `{}` that hold{} no {library} messages",
                if n == 1 { "" } else { "s" },
                self.layout.keys,
                if n == 1 { "s" } else { "" }
            )
        })
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let key = self.key(c);
        let len = match self.redis.exec(&[CacheOp::LLen(key.clone())]).await?.first() {
            Some(CacheReply::Int(n)) => *n as usize,
            _ => 0,
        };
        if len == 0 {
            return Err(StoreError::Other(format!("no list {}", String::from_utf8_lossy(&key))));
        }
        // Chronological positions [from, to) of this page.
        let from = position(after, len);
        let to = (from + limit.max(1) as usize).min(len);
        if from >= to {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let newest_first = self.layout.newest_first;
        let (start, stop) = if newest_first { (len - to, len - from - 1) } else { (from, to - 1) };
        let mut items = match self
            .redis
            .exec(&[CacheOp::LRange { key: key.clone(), start: start as i64, stop: stop as i64 }])
            .await?
            .pop()
        {
            Some(CacheReply::Items(v)) => v,
            _ => Vec::new(),
        };
        if newest_first {
            items.reverse();
        }
        let path = String::from_utf8_lossy(&key).into_owned();
        let msgs = items
            .iter()
            .enumerate()
            .map(|(i, raw)| positional(&self.layout, &path, from + i, &decode_item(&self.layout, raw)))
            .collect();
        let next = (to < len).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items: msgs, next })
    }
}

/// langchain-community's lists to `detect`: a list whose first item is a `{type, data}`
/// message, at its prefix.
pub(super) struct LangchainList;

impl Recognise for LangchainList {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LangchainRedisList
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        let v = k.first?;
        (v.get("data").is_some() && v.get("type").is_some()).then(|| {
            let at = k.name.rsplit_once(':').map(|(p, _)| format!("{p}:")).unwrap_or_default();
            Claim::Conversation { at, id: k.name.into() }
        })
    }

    fn config_lines(&self, at: &str) -> String {
        key_prefix_lines(self.preset(), at)
    }
}

/// LlamaIndex's chat store to `detect`: a list whose first item has `blocks` and a `role`.
pub(super) struct LlamaIndex;

impl Recognise for LlamaIndex {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LlamaindexRedis
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        let v = k.first?;
        (v.get("blocks").is_some() && v.get("role").is_some())
            .then(|| Claim::Conversation { at: "*".into(), id: k.name.into() })
    }
}

/// The lines for a preset found under another prefix than its own: the prefix, and the keys
/// under it.
pub(super) fn key_prefix_lines(p: LayoutPreset, at: &str) -> String {
    let mut c = format!("preset = \"{}\"", p.name());
    if at != LayoutConfig::preset(p).key_prefix {
        c.push_str(&format!("\nkey_prefix = \"{at}\"\nkeys = \"{at}*\""));
    }
    c
}
