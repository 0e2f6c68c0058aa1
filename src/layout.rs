//! Where conversations live and how they were written: memscope's own layout, or what a
//! framework wrote (`[profile.X.layout] preset`). One reader per layout gives the Conversations
//! tab and `memscope conversations` / `show` the same [`Conversation`]s and [`Message`]s.
//! What a layout cannot know (message ids, timestamps, users) stays empty and is said so; the
//! trace, badges and audit check memscope's layout only and say "not checked" under another.

use crate::config::{LayoutConfig, LayoutPreset};
use crate::domain::{
    CacheOp, CacheReply, ConvFilter, Conversation, Cursor, Document, FsValue, Key, Message, Page, TsForm,
};
use crate::error::StoreError;
use crate::store::{KeyStore, KeyspaceScan, LongTermStore};
use serde_json::Value;
use std::sync::Arc;

/// Conversations and their messages, as one layout stores them.
#[async_trait::async_trait]
pub trait ConversationReader: Send + Sync {
    fn preset(&self) -> LayoutPreset;
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError>;
    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError>;
    /// Messages in the order they were written.
    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError>;
}

/// The reader of a layout over the stores it needs (a Redis layout needs Redis only).
pub fn reader(
    layout: &LayoutConfig,
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Arc<dyn ConversationReader>, StoreError> {
    let need =
        |what: &str| StoreError::NotConfigured(format!("layout preset \"{}\" reads {what}", layout.preset.name()));
    let inner: Arc<dyn ConversationReader> = match layout.preset {
        LayoutPreset::Memscope => Arc::new(Memscope(long_term.ok_or_else(|| need("the long-term store"))?)),
        LayoutPreset::LangchainFirestore => Arc::new(FirestoreArray {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: layout.clone(),
        }),
        LayoutPreset::LangchainRedisList | LayoutPreset::LlamaindexRedis => {
            Arc::new(RedisList { redis: redis.ok_or_else(|| need("Redis"))?, layout: layout.clone() })
        }
        LayoutPreset::LangchainRedisJson | LayoutPreset::Redisvl => {
            Arc::new(KeyPerMessage { redis: redis.ok_or_else(|| need("Redis"))?, layout: layout.clone() })
        }
        LayoutPreset::LanggraphRedis => {
            Arc::new(Checkpoints { redis: redis.ok_or_else(|| need("Redis"))?, layout: layout.clone() })
        }
    };
    Ok(Arc::new(TitleSearch(inner)))
}

/// A title search (case-insensitive substring, `ConvFilter::TitleContains`) over any layout:
/// no store can query a substring, so newest-first pages of everything are read and filtered,
/// at most `SEARCH_SCAN` conversations a call; the order stays the layout's, and the cursor
/// continues where the scan stopped (a page may be short: the list says "+" while more exist).
struct TitleSearch(Arc<dyn ConversationReader>);

/// Conversations read per call of a title search.
pub const SEARCH_SCAN: usize = 2_000;

fn title_matches(c: &Conversation, q: &str) -> bool {
    c.title.as_deref().is_some_and(|t| t.to_lowercase().contains(q)) || c.id.to_lowercase().contains(q)
}

#[async_trait::async_trait]
impl ConversationReader for TitleSearch {
    fn preset(&self) -> LayoutPreset {
        self.0.preset()
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ConvFilter::TitleContains(q) = filter else { return self.0.conversations(filter, after, limit).await };
        let q = q.to_lowercase();
        let (mut items, mut cursor, mut scanned) = (Vec::new(), after.cloned(), 0usize);
        loop {
            let page = self.0.conversations(&ConvFilter::All, cursor.as_ref(), 200).await?;
            scanned += page.items.len();
            items.extend(page.items.into_iter().filter(|c| title_matches(c, &q)));
            cursor = page.next;
            if cursor.is_none() || items.len() >= limit as usize || scanned >= SEARCH_SCAN {
                return Ok(Page { items, next: cursor });
            }
        }
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let ConvFilter::TitleContains(q) = filter else { return self.0.count(filter).await };
        let q = q.to_lowercase();
        let (mut n, mut cursor) = (0u64, None);
        loop {
            let page = self.0.conversations(&ConvFilter::All, cursor.as_ref(), 500).await?;
            n += page.items.iter().filter(|c| title_matches(c, &q)).count() as u64;
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        self.0.messages(c, after, limit).await
    }
}

/// The trace, the tier badges and the audit check memscope's own layout (a message with one id
/// in every tier); under another they are not checked, and say so (never a false "clean").
pub fn cross_tier_checks(layout: &LayoutConfig) -> Result<(), StoreError> {
    match layout.preset {
        LayoutPreset::Memscope => Ok(()),
        p => Err(StoreError::NotConfigured(format!(
            "not checked: layout preset \"{}\" keeps no message ids across tiers, and the trace, tier badges and audit follow memscope's own layout (preset = \"memscope\")",
            p.name()
        ))),
    }
}

/// memscope's own layout: the long-term store's conversations and messages.
struct Memscope(Arc<dyn LongTermStore>);

#[async_trait::async_trait]
impl ConversationReader for Memscope {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Memscope
    }
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        self.0.conversations(filter, after, limit).await
    }
    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        self.0.count_conversations(filter).await
    }
    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        self.0.messages(c, after, limit).await
    }
}

/// The role names frameworks write, as memscope shows them.
pub fn role_of(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "human" | "user" | "humanmessage" | "humanmessagechunk" => "user",
        "ai" | "assistant" | "llm" | "chatbot" | "model" | "aimessage" | "aimessagechunk" => "assistant",
        "system" | "systemmessage" => "system",
        "tool" | "function" | "toolmessage" | "functionmessage" => "tool",
        "" => "?",
        other => return other.to_string(),
    }
    .to_string()
}

/// Text of a `content` that is a string or a list of blocks (`{"type":"text","text":…}`,
/// LlamaIndex's `{"block_type":"text","text":…}`); other blocks are named.
fn content_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .map(|b| match b {
                Value::String(s) => s.clone(),
                _ => match b.get("text").and_then(Value::as_str) {
                    Some(t) => t.to_string(),
                    None => {
                        let kind = b.get("type").or_else(|| b.get("block_type")).and_then(Value::as_str);
                        format!("[{} block]", kind.unwrap_or("unknown"))
                    }
                },
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// One stored message as (role, content): LangChain's serialised messages (flat, `{type,
/// data}` or the `lc` constructor form, with tool calls and tool results), LlamaIndex's
/// `{role, blocks}`, or anything else shown raw (never dropped).
pub fn decode_message(raw: &[u8]) -> (String, String) {
    let Ok(v) = serde_json::from_slice::<Value>(raw) else {
        return ("?".into(), String::from_utf8_lossy(raw).into_owned());
    };
    // LangChain's constructor form: {"lc":1,"type":"constructor","id":[…,"HumanMessage"],"kwargs":{…}}.
    let (ty, body) = if v.get("lc").is_some() && v.get("type").and_then(Value::as_str) == Some("constructor") {
        let class = v.get("id").and_then(Value::as_array).and_then(|a| a.last()).and_then(Value::as_str);
        let kw = v.get("kwargs").cloned().unwrap_or(Value::Null);
        let ty = kw.get("type").and_then(Value::as_str).or(class).unwrap_or("").to_string();
        (ty, kw)
    } else if let Some(data) = v.get("data").filter(|d| d.is_object()) {
        (v.get("type").and_then(Value::as_str).unwrap_or("").to_string(), data.clone())
    } else {
        let ty = v.get("type").or_else(|| v.get("role")).and_then(Value::as_str).unwrap_or("").to_string();
        (ty, v.clone())
    };
    let role = role_of(&ty);
    let mut content = match body.get("blocks") {
        Some(b @ Value::Array(_)) => content_text(Some(b)),
        _ => content_text(body.get("content")),
    };
    if let Some(calls) = body.get("tool_calls").and_then(Value::as_array) {
        for c in calls {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let args = c.get("args").map(Value::to_string).unwrap_or_default();
            let id = c.get("id").and_then(Value::as_str).unwrap_or("");
            content.push_str(&format!("\n→ tool call {name}({args}) {id}"));
        }
    }
    if role == "tool"
        && let Some(id) = body.get("tool_call_id").and_then(Value::as_str)
    {
        content = format!("← result of {id}: {content}");
    }
    (role, content.trim_start_matches('\n').to_string())
}

/// A message the layout stores without an id or a timestamp: its position is its id.
fn positional(path: String, i: usize, raw: &[u8]) -> Message {
    let (role, content) = decode_message(raw);
    Message {
        id: format!("#{:05}", i + 1),
        role,
        content,
        timestamp: None,
        ts_form: TsForm::Missing,
        user_id: None,
        doc: Document {
            path: format!("{path}#{}", i + 1),
            fields: vec![("stored".into(), FsValue::String(String::from_utf8_lossy(raw).into_owned()))],
            update_time: None,
        },
    }
}

/// Where a page of sorted conversation ids starts: after the id the cursor names.
fn start_after<S: AsRef<str>>(ids: &[S], after: Option<&Cursor>) -> usize {
    match after {
        Some(Cursor::Absent { after: Some(last) }) => ids.partition_point(|i| i.as_ref() <= last.as_str()),
        _ => 0,
    }
}

/// The cursor after a page of sorted ids that ended at `end` of `n`, on the id `last`.
fn cursor_after(end: usize, n: usize, last: Option<&String>) -> Option<Cursor> {
    (end < n).then(|| Cursor::Absent { after: last.cloned() })
}

/// Filters a layout without users, agents or titles can answer: all, or an id prefix.
fn id_filter(preset: LayoutPreset, filter: &ConvFilter) -> Result<Option<String>, StoreError> {
    match filter {
        ConvFilter::All => Ok(None),
        ConvFilter::IdPrefix(p) => Ok(Some(p.clone())),
        _ => Err(StoreError::Other(format!(
            "layout \"{}\" stores no user, agent or title with a conversation: filter by id:PREFIX",
            preset.name()
        ))),
    }
}

/// langchain-google-firestore: one document per session, its messages an array of JSON
/// (bytes or strings) in one field; no ids, no timestamps.
struct FirestoreArray {
    store: Arc<dyn LongTermStore>,
    layout: LayoutConfig,
}

impl FirestoreArray {
    fn items(&self, doc: &Document) -> Vec<Vec<u8>> {
        match doc.get(&self.layout.messages_field) {
            Some(FsValue::Array(a)) => a
                .iter()
                .map(|v| match v {
                    FsValue::Bytes(b) => b.clone(),
                    FsValue::String(s) => s.clone().into_bytes(),
                    other => format!("{other:?}").into_bytes(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn conversation(&self, doc: Document) -> Conversation {
        let items = self.items(&doc);
        let title = items.first().map(|m| decode_message(m).1.chars().take(80).collect());
        Conversation {
            id: doc.id().to_string(),
            title,
            user_id: None,
            agent_id: None,
            created_at: None,
            updated_at: doc.update_time,
            message_count: Some(items.len() as i64),
            doc,
        }
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreArray {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let page = self.store.documents(&self.layout.collection, after, limit).await?;
        let items = page
            .items
            .into_iter()
            .filter(|d| prefix.as_ref().is_none_or(|p| d.id().starts_with(p.as_str())))
            .map(|d| self.conversation(d))
            .collect();
        Ok(Page { items, next: page.next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let (mut n, mut after) = (0u64, None);
        loop {
            let page = self.store.documents(&self.layout.collection, after.as_ref(), 300).await?;
            n += page.items.iter().filter(|d| prefix.as_ref().is_none_or(|p| d.id().starts_with(p.as_str()))).count()
                as u64;
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, _limit: u32) -> Result<Page<Message>, StoreError> {
        // One document holds the whole thread: one page.
        if after.is_some() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let path = format!("{}/{c}", self.layout.collection);
        let Some(doc) = self.store.document(&path).await? else {
            return Err(StoreError::Other(format!("no document {path}")));
        };
        let items = self.items(&doc).iter().enumerate().map(|(i, raw)| positional(path.clone(), i, raw)).collect();
        Ok(Page { items, next: None })
    }
}

/// A Redis list per conversation: langchain-community (`message_store:{session}`, LPUSH: newest
/// first) or LlamaIndex (a caller-chosen key, RPUSH: oldest first, text in blocks).
struct RedisList {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
}

impl RedisList {
    fn newest_first(&self) -> bool {
        self.layout.preset == LayoutPreset::LangchainRedisList
    }

    fn key(&self, id: &str) -> Key {
        format!("{}{id}", self.layout.key_prefix).into_bytes().into()
    }

    /// Every conversation id (the list keys matching the glob), sorted.
    async fn ids(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some("list"), 1000).await?;
        let mut out = Vec::new();
        while let Some(page) = scan.next_page().await {
            for k in page?.keys {
                let k = String::from_utf8_lossy(&k).into_owned();
                let id = k.strip_prefix(&self.layout.key_prefix).unwrap_or(&k).to_string();
                if prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())) {
                    out.push(id);
                }
            }
        }
        out.sort();
        out.dedup(); // SCAN may return a key twice
        Ok(out)
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
        // Length and first message (the oldest: the list's tail when written newest first).
        let first = if self.newest_first() { -1 } else { 0 };
        let ops: Vec<CacheOp> = page
            .iter()
            .flat_map(|id| {
                [CacheOp::LLen(self.key(id)), CacheOp::LRange { key: self.key(id), start: first, stop: first }]
            })
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
                let title = match r.get(1) {
                    Some(CacheReply::Items(v)) => v.first().map(|m| decode_message(m).1.chars().take(80).collect()),
                    _ => None,
                };
                let key = String::from_utf8_lossy(&self.key(id)).into_owned();
                Conversation {
                    id: id.clone(),
                    title,
                    user_id: None,
                    agent_id: None,
                    created_at: None,
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
        let from = match after {
            Some(Cursor::Absent { after: Some(n) }) => n.parse::<usize>().unwrap_or(len),
            _ => 0,
        };
        let to = (from + limit.max(1) as usize).min(len);
        if from >= to {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let (start, stop) = if self.newest_first() { (len - to, len - from - 1) } else { (from, to - 1) };
        let mut items = match self
            .redis
            .exec(&[CacheOp::LRange { key: key.clone(), start: start as i64, stop: stop as i64 }])
            .await?
            .pop()
        {
            Some(CacheReply::Items(v)) => v,
            _ => Vec::new(),
        };
        if self.newest_first() {
            items.reverse();
        }
        let path = String::from_utf8_lossy(&key).into_owned();
        let msgs = items.iter().enumerate().map(|(i, raw)| positional(path.clone(), from + i, raw)).collect();
        let next = (to < len).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items: msgs, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn langchain_and_llamaindex_messages_decode() {
        let flat = br#"{"content":"What's the weather?","additional_kwargs":{},"type":"human","name":null,"id":null}"#;
        assert_eq!(decode_message(flat), ("user".into(), "What's the weather?".into()));
        let wrapped = br#"{"type":"ai","data":{"content":"","type":"ai","tool_calls":[{"name":"weather","args":{"city":"Paris"},"id":"call_1"}]}}"#;
        let (r, c) = decode_message(wrapped);
        assert_eq!(r, "assistant");
        assert_eq!(c, r#"→ tool call weather({"city":"Paris"}) call_1"#);
        let tool = br#"{"type":"tool","data":{"content":"18 C","type":"tool","tool_call_id":"call_1"}}"#;
        assert_eq!(decode_message(tool), ("tool".into(), "← result of call_1: 18 C".into()));
        let lc = br#"{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"hi","type":"human"}}"#;
        assert_eq!(decode_message(lc), ("user".into(), "hi".into()));
        let llama = br#"{"role":"assistant","additional_kwargs":{},"blocks":[{"block_type":"text","text":"Hello!"}]}"#;
        assert_eq!(decode_message(llama), ("assistant".into(), "Hello!".into()));
        assert_eq!(decode_message(b"\xffnot json").0, "?", "shown raw, never dropped");
    }
}

/// A key per message (langchain-redis: RedisJSON `chat:{session}:{ULID}`; redisvl: a hash
/// `{name}:{session}:{unix ts}:{hex}`): conversations are the sessions in the key names, a
/// thread is its keys in time order, each read whole (both carry a message id and a time).
struct KeyPerMessage {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
}

/// Milliseconds of a ULID's time part (its first 10 Crockford base-32 characters).
fn ulid_ms(id: &str) -> Option<i64> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut ms: i64 = 0;
    for c in id.get(..10)?.bytes() {
        ms = ms * 32 + ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as i64;
    }
    Some(ms)
}

fn unix_ts(secs: f64) -> crate::domain::Ts {
    crate::domain::Ts { secs: secs.floor() as i64, nanos: ((secs - secs.floor()) * 1e9) as u32 }
}

impl KeyPerMessage {
    fn json(&self) -> bool {
        self.layout.preset == LayoutPreset::LangchainRedisJson
    }

    /// (session, time order key) of a message key, or None for a key of another shape.
    fn parse(&self, key: &str) -> Option<(String, f64)> {
        let rest = key.strip_prefix(&self.layout.key_prefix)?;
        if self.json() {
            let (session, ulid) = rest.rsplit_once(':')?;
            Some((session.to_string(), ulid_ms(ulid)? as f64 / 1000.0))
        } else {
            let (head, _hex) = rest.rsplit_once(':')?;
            let (session, ts) = head.rsplit_once(':')?;
            Some((session.to_string(), ts.parse().ok()?))
        }
    }

    /// Every session with its message keys in time order.
    async fn sessions(&self) -> Result<std::collections::BTreeMap<String, Vec<(f64, String)>>, StoreError> {
        let ty = if self.json() { "ReJSON-RL" } else { "hash" };
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some(ty), 1000).await?;
        let mut out: std::collections::BTreeMap<String, Vec<(f64, String)>> = Default::default();
        while let Some(page) = scan.next_page().await {
            for k in page?.keys {
                let k = String::from_utf8_lossy(&k).into_owned();
                if let Some((s, t)) = self.parse(&k) {
                    out.entry(s).or_default().push((t, k));
                }
            }
        }
        for v in out.values_mut() {
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            v.dedup();
        }
        Ok(out)
    }

    /// Stored messages, read whole in one batch (one pipeline per hash slot on a cluster).
    async fn messages_of(&self, keys: &[(f64, String)]) -> Result<Vec<Message>, StoreError> {
        let ops: Vec<CacheOp> = keys
            .iter()
            .map(|(_, k)| {
                let key: Key = k.clone().into_bytes().into();
                if self.json() { CacheOp::JsonGet { key, path: "$".into() } } else { CacheOp::HGetAll(key) }
            })
            .collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        Ok(keys.iter().zip(replies).map(|((t, k), r)| Self::message(k, *t, r)).collect())
    }

    /// One stored message from its reply; the time it records, when it does (else the key's).
    fn message(key: &str, t: f64, reply: CacheReply) -> Message {
        let mut t = t;
        let (raw, id, role_content) = match reply {
            CacheReply::Value(Some(b)) => {
                // `$` answers a one-element array.
                let v = match first_json(&b) {
                    Some(Value::Array(mut a)) if a.len() == 1 => a.remove(0),
                    Some(v) => v,
                    None => Value::Null,
                };
                let text = v.to_string();
                let id = v.get("message_id").and_then(Value::as_str).map(str::to_string);
                t = v.get("timestamp").and_then(Value::as_f64).unwrap_or(t);
                let rc = decode_message(text.as_bytes());
                (text, id, rc)
            }
            CacheReply::Pairs(pairs) if !pairs.is_empty() => {
                let get = |f: &str| {
                    pairs.iter().find(|(k, _)| k == f.as_bytes()).map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                };
                let raw = pairs
                    .iter()
                    .filter(|(k, _)| k != b"vector_field")
                    .map(|(k, v)| format!("{}={}", String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
                    .collect::<Vec<_>>()
                    .join(" ");
                let rc = (role_of(&get("role").unwrap_or_default()), get("content").unwrap_or_default());
                t = get("timestamp").and_then(|s| s.parse().ok()).unwrap_or(t);
                (raw, get("entry_id"), rc)
            }
            _ => (String::new(), None, ("?".into(), format!("<{key}: gone (expired or deleted)>"))),
        };
        Message {
            id: id.unwrap_or_else(|| key.rsplit(':').next().unwrap_or(key).to_string()),
            role: role_content.0,
            content: role_content.1,
            timestamp: Some(unix_ts(t)),
            ts_form: TsForm::UnixNumber,
            user_id: None,
            doc: Document {
                path: key.to_string(),
                fields: vec![("stored".into(), FsValue::String(raw))],
                update_time: None,
            },
        }
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
        let prefix = id_filter(self.layout.preset, filter)?;
        let sessions = self.sessions().await?;
        let ids: Vec<&String> =
            sessions.keys().filter(|s| prefix.as_ref().is_none_or(|p| s.starts_with(p.as_str()))).collect();
        let start = start_after(&ids, after);
        let mut items = Vec::new();
        for id in ids[start..].iter().take(limit as usize) {
            let msgs = &sessions[*id];
            let first = self.messages_of(&msgs[..msgs.len().min(1)]).await?;
            let title = first.first().map(|m| m.content.chars().take(80).collect());
            items.push(Conversation {
                id: (*id).clone(),
                title,
                user_id: None,
                agent_id: None,
                created_at: msgs.first().map(|m| unix_ts(m.0)),
                updated_at: msgs.last().map(|m| unix_ts(m.0)),
                message_count: Some(msgs.len() as i64),
                doc: Document {
                    path: format!("{}{id}", self.layout.key_prefix),
                    fields: Vec::new(),
                    update_time: None,
                },
            });
        }
        let end = start + items.len();
        let next = cursor_after(end, ids.len(), items.last().map(|c| &c.id));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        Ok(self.sessions().await?.keys().filter(|s| prefix.as_ref().is_none_or(|p| s.starts_with(p.as_str()))).count()
            as u64)
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let sessions = self.sessions().await?;
        let Some(keys) = sessions.get(c) else {
            return Err(StoreError::Other(format!("no messages of session `{c}` under {}", self.layout.keys)));
        };
        let from = match after {
            Some(Cursor::Absent { after: Some(n) }) => n.parse::<usize>().unwrap_or(keys.len()),
            _ => 0,
        };
        let to = (from + limit.max(1) as usize).min(keys.len());
        let items = self.messages_of(&keys[from.min(to)..to]).await?;
        let next = (to < keys.len()).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items, next })
    }
}

/// `{name}:{session}:{unix ts}:{8 hex}`: redisvl's message key.
fn is_redisvl_key(k: &str) -> bool {
    let parts: Vec<&str> = k.rsplitn(3, ':').collect();
    parts.len() == 3
        && parts[0].len() == 8
        && parts[0].bytes().all(|b| b.is_ascii_hexdigit())
        && parts[1].parse::<f64>().is_ok()
        && parts[2].contains(':')
}

/// langgraph-checkpoint-redis: a thread's conversation is its latest checkpoint's
/// `channel_values.messages` (LangChain messages in the `lc` constructor form, with ids);
/// `checkpoint_latest:{thread}:{ns}` names that checkpoint. Older checkpoints are not shown.
struct Checkpoints {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
}

/// The default checkpoint namespace's name in the keys.
const EMPTY_NS: &str = ":__empty__";

impl Checkpoints {
    /// Every thread (`thread` in the default namespace, else `thread:ns`), sorted.
    async fn threads(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some("string"), 1000).await?;
        let mut out = Vec::new();
        while let Some(page) = scan.next_page().await {
            for k in page?.keys {
                let k = String::from_utf8_lossy(&k).into_owned();
                let Some(rest) = k.strip_prefix(&self.layout.key_prefix) else { continue };
                let id = rest.strip_suffix(EMPTY_NS).unwrap_or(rest).to_string();
                if prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())) {
                    out.push(id);
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The latest checkpoint's key, its time and messages (raw JSON each).
    async fn latest(&self, thread: &str) -> Result<(String, Option<crate::domain::Ts>, Vec<Value>), StoreError> {
        let suffix = if thread.contains(':') { "" } else { EMPTY_NS };
        let pointer: Key = format!("{}{thread}{suffix}", self.layout.key_prefix).into_bytes().into();
        let cp = match self.redis.exec(&[CacheOp::Get(pointer.clone())]).await?.pop() {
            Some(CacheReply::Value(Some(v))) => String::from_utf8_lossy(&v).into_owned(),
            _ => {
                return Err(StoreError::Other(format!(
                    "no thread `{thread}` (no {})",
                    String::from_utf8_lossy(&pointer)
                )));
            }
        };
        let key: Key = cp.clone().into_bytes().into();
        let ops = [
            CacheOp::JsonGet { key: key.clone(), path: "$.checkpoint.channel_values.messages".into() },
            CacheOp::JsonGet { key, path: "$.checkpoint.ts".into() },
        ];
        let mut r = self.redis.exec(&ops).await?.into_iter();
        let first = |v: Option<CacheReply>| match v {
            Some(CacheReply::Value(Some(b))) => match first_json(&b) {
                Some(Value::Array(mut a)) if !a.is_empty() => Some(a.remove(0)),
                _ => None,
            },
            _ => None,
        };
        let messages = match first(r.next()) {
            Some(Value::Array(m)) => m,
            _ => Vec::new(),
        };
        let ts = first(r.next()).and_then(|v| v.as_str().and_then(crate::domain::Ts::parse));
        Ok((cp, ts, messages))
    }
}

#[async_trait::async_trait]
impl ConversationReader for Checkpoints {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ids = self.threads(filter).await?;
        let start = start_after(&ids, after);
        let mut items = Vec::new();
        for id in ids[start..].iter().take(limit as usize) {
            let (cp, ts, messages) = self.latest(id).await?;
            let title = messages.first().map(|m| decode_message(m.to_string().as_bytes()).1.chars().take(80).collect());
            items.push(Conversation {
                id: id.clone(),
                title,
                user_id: None,
                agent_id: None,
                created_at: None,
                updated_at: ts,
                message_count: Some(messages.len() as i64),
                doc: Document { path: cp, fields: Vec::new(), update_time: None },
            });
        }
        let end = start + items.len();
        let next = cursor_after(end, ids.len(), items.last().map(|c| &c.id));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.threads(filter).await?.len() as u64)
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, _limit: u32) -> Result<Page<Message>, StoreError> {
        // One checkpoint holds the whole thread: one page.
        if after.is_some() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let (cp, _, messages) = self.latest(c).await?;
        let items = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let raw = m.to_string();
                let mut msg = positional(cp.clone(), i, raw.as_bytes());
                if let Some(id) = m.pointer("/kwargs/id").and_then(Value::as_str) {
                    msg.id = id.to_string();
                }
                msg
            })
            .collect();
        Ok(Page { items, next: None })
    }
}

/// What `detect` found of one layout.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detected {
    /// A preset name, or a framework memscope has no preset for yet.
    pub layout: String,
    /// memscope can read it (`preset = layout`).
    pub supported: bool,
    /// Conversations (keys or documents) seen in the sample.
    pub conversations: u64,
    /// Where: a key glob or a collection.
    pub at: String,
    /// The `[profile.X.layout]` lines that read it.
    pub config: Option<String>,
}

/// What `detect` found, and how much of the keyspace it looked at.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detection {
    pub found: Vec<Detected>,
    /// Redis keys looked at, and how many there are (sum of DBSIZE), when Redis is configured.
    pub keys_sampled: u64,
    pub keys_total: Option<u64>,
    /// The sample stopped at [`DETECT_SAMPLE`]: the counts are the sample's.
    pub capped: bool,
}

/// How many keys and documents `detect` looks at, at most.
pub const DETECT_SAMPLE: usize = 20_000;

fn first_json(v: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(v).ok()
}

/// Sample the stores (a bounded SCAN of Redis, the root collections of the long-term store)
/// and say which layouts are there, with counts, most conversations first.
pub async fn detect(
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Detection, StoreError> {
    let (mut keys_sampled, mut keys_total, mut capped) = (0u64, None, false);
    use std::collections::BTreeMap;
    let mut found: BTreeMap<(String, String), u64> = BTreeMap::new();
    fn add(found: &mut std::collections::BTreeMap<(String, String), u64>, layout: &str, at: &str) {
        *found.entry((layout.to_string(), at.to_string())).or_default() += 1;
    }
    if let Some(r) = &redis {
        let mut scan = KeyspaceScan::start(r.clone(), "*", None, 1000).await?;
        keys_total = scan.total;
        let mut keys: Vec<Key> = Vec::new();
        let mut open = scan.nodes.len();
        while let Some(p) = scan.next_page().await {
            let p = p?;
            open -= usize::from(p.node_done);
            keys.extend(p.keys);
            if keys.len() >= DETECT_SAMPLE {
                capped = open > 0;
                break;
            }
        }
        keys.sort();
        keys.dedup();
        keys_sampled = keys.len() as u64;
        let metas = r.meta(&keys).await?;
        let lists: Vec<Key> = metas
            .iter()
            .filter(|(_, m)| m.ktype.as_ref().is_some_and(|t| t.name() == "list"))
            .map(|(k, _)| k.clone())
            .collect();
        let ops: Vec<CacheOp> = lists.iter().map(|k| CacheOp::LRange { key: k.clone(), start: 0, stop: 0 }).collect();
        let firsts = if ops.is_empty() { Vec::new() } else { r.exec(&ops).await? };
        for (k, first) in lists.iter().zip(firsts) {
            let name = String::from_utf8_lossy(k);
            let v = match first {
                CacheReply::Items(i) => i.first().and_then(|x| first_json(x)),
                _ => None,
            };
            let Some(v) = v else { continue };
            if name.starts_with("conversation:") && name.ends_with(":messages") {
                add(&mut found, "memscope", "conversation:*:messages");
            } else if v.get("data").is_some() && v.get("type").is_some() {
                let prefix = name.rsplit_once(':').map(|(p, _)| format!("{p}:")).unwrap_or_default();
                add(&mut found, "langchain-redis-list", &prefix);
            } else if v.get("blocks").is_some() && v.get("role").is_some() {
                add(&mut found, "llamaindex-redis", "*");
            }
        }
        // Layouts with a key per message (or checkpoint): count their conversations once.
        let mut seen = std::collections::HashSet::new();
        for (k, m) in &metas {
            let name = String::from_utf8_lossy(k);
            let t = m.ktype.as_ref().map(|t| t.name().to_string()).unwrap_or_default();
            let thread = name.split(':').nth(1).unwrap_or("").to_string();
            if t == "ReJSON-RL" && name.starts_with("checkpoint:") {
                if seen.insert(("langgraph-redis", thread)) {
                    add(&mut found, "langgraph-redis", "checkpoint:*");
                }
            } else if t == "ReJSON-RL" && name.starts_with("chat:") {
                if seen.insert(("langchain-redis-json", thread)) {
                    add(&mut found, "langchain-redis-json", "chat:*");
                }
            } else if t == "hash" && is_redisvl_key(&name) {
                let (head, _) = name.rsplit_once(':').unwrap_or_default();
                let (head, _) = head.rsplit_once(':').unwrap_or_default();
                let (prefix, session) = head.split_once(':').unwrap_or_default();
                if seen.insert(("redisvl", session.to_string())) {
                    add(&mut found, "redisvl", &format!("{prefix}:"));
                }
            } else if t == "hash" && name.starts_with("mem0:") {
                add(&mut found, "mem0", "mem0:*");
            }
        }
    }
    if let Some(lt) = &long_term {
        for coll in lt.collections(None).await?.into_iter().take(50) {
            let page = lt.documents(&coll, None, 50).await?;
            if coll == "conversations" {
                let n = lt.count_conversations(&ConvFilter::All).await.unwrap_or(page.items.len() as u64);
                found.insert(("memscope".into(), coll.clone()), n);
                continue;
            }
            for d in &page.items {
                if let Some(FsValue::Array(a)) = d.get("messages") {
                    let raw = match a.first() {
                        Some(FsValue::Bytes(b)) => b.clone(),
                        Some(FsValue::String(s)) => s.clone().into_bytes(),
                        _ => continue,
                    };
                    if first_json(&raw).is_some_and(|v| v.get("type").is_some()) {
                        add(&mut found, "langchain-firestore", &coll);
                    }
                }
            }
            // LangGraph's checkpointer: phantom thread documents holding `checkpoints`.
            if coll == "checkpoints" {
                add(&mut found, "langgraph-firestore", &coll);
            }
        }
    }
    let mut out: Vec<Detected> = found
        .into_iter()
        .map(|((layout, at), n)| {
            let preset = LayoutPreset::ALL.into_iter().find(|p| p.name() == layout);
            let config = preset.map(|p| {
                let mut c = format!("preset = \"{}\"", p.name());
                let d = LayoutConfig::preset(p);
                match p {
                    LayoutPreset::LangchainFirestore if at != d.collection => {
                        c.push_str(&format!("\ncollection = \"{at}\""))
                    }
                    LayoutPreset::LangchainRedisList | LayoutPreset::Redisvl if at != d.key_prefix => {
                        c.push_str(&format!("\nkey_prefix = \"{at}\"\nkeys = \"{at}*\""))
                    }
                    _ => {}
                }
                c
            });
            Detected { supported: preset.is_some(), layout, conversations: n, at, config }
        })
        .collect();
    out.sort_by(|a, b| b.conversations.cmp(&a.conversations).then(a.layout.cmp(&b.layout)));
    Ok(Detection { found: out, keys_sampled, keys_total, capped })
}
