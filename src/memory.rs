//! The tiered memory layer agents write through, and memscope uses for `import`, `audit
//! --repair` and its demo. The ecosystem's rules: the long-term store is the source of truth
//! and is written first; then Redis (the conversation's recent-messages list, trimmed, and its
//! session hash, whose TTL every message refreshes); then the vector tier for relevant messages.
//! Reads fall back from the fastest tier to the truth and refresh the faster tiers on the way
//! back. A failure after the source-of-truth write loses nothing: the pending tier write is
//! recorded in a repair queue kept in the long-term store (`memscope_repairs/…`), which
//! `memscope audit --repair` drains, and the caller is told which tiers were written.

use crate::config::MemoryConfig;
use crate::domain::{
    CacheOp, CacheReply, Document, FsValue, Key, Merge, Message, Metadata, QueryResult, StatsSnapshot, Ts, VectorMatch,
};
use crate::error::StoreError;
use crate::search::{SearchParams, TextItem};
use crate::store::{KeyStore, LongTermStore};
use crate::tiers::VectorTier;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The collection of the repair queue, in the long-term store.
pub const REPAIR_COLLECTION: &str = "memscope_repairs";

pub fn recent_key(conversation: &str) -> Key {
    format!("conversation:{conversation}:messages").into_bytes().into()
}

/// At most this many entries of a recent list are read at once (the trace, the audit): the
/// layer trims its lists to `recent_messages`, but a foreign or untrimmed one may be huge.
pub const LIST_WINDOW: i64 = 1000;

/// Reading the newest [`LIST_WINDOW`] entries of a conversation's recent list.
pub fn recent_window(conversation: &str) -> CacheOp {
    CacheOp::LRange { key: recent_key(conversation), start: -LIST_WINDOW, stop: -1 }
}

/// The session hash's fields the layer writes: what the trace reads of a session (a hash
/// grown by other writers is never read whole).
pub const SESSION_FIELDS: [&str; 4] = ["user_id", "last_message_id", "last_active", "agent_id"];

pub fn session_key(conversation: &str) -> Key {
    format!("session:{conversation}").into_bytes().into()
}

/// Where fallback reads cache a long-term document in Redis.
pub fn doc_cache_key(path: &str) -> String {
    format!("cache:doc:{path}")
}

pub fn message_path(conversation: &str, message: &str) -> String {
    format!("conversations/{conversation}/messages/{message}")
}

/// `conversations/{c}/messages/{m}` → (c, m).
pub fn split_message_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("conversations/")?;
    let (c, m) = rest.split_once("/messages/")?;
    (!c.contains('/') && !m.contains('/')).then_some((c, m))
}

/// FNV-1a, 64 bits: stable across builds and platforms (ids derived from content must not
/// change when memscope is rebuilt, or a re-import would duplicate).
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Pinecone's limit on a record id.
pub const MAX_VECTOR_ID_BYTES: usize = 512;

/// The vector record id of a message: `{conversation_id}#{message_id}`.
///
/// Message ids are often numbered per conversation (`m0001` in every one), so the bare message
/// id would make different conversations overwrite each other's vectors. `#` is the separator
/// Pinecone recommends for hierarchical ids (`list` by the prefix `{conversation_id}#` finds
/// a conversation's records). A part that would make the id ambiguous or too long — a
/// conversation id containing `#`, or an id over Pinecone's 512 bytes — is replaced by `~` and
/// the 16 hex digits of its stable hash, so every id stays unique per (conversation, message)
/// and within the limit.
pub fn vector_id(conversation: &str, message: &str) -> String {
    let hashed = |s: &str| format!("~{:016x}", stable_hash(&[s]));
    let conv = if conversation.contains('#') || conversation.len() > 240 || conversation.starts_with('~') {
        hashed(conversation)
    } else {
        conversation.to_string()
    };
    if conv.len() + 1 + message.len() <= MAX_VECTOR_ID_BYTES && !message.starts_with('~') {
        format!("{conv}#{message}")
    } else {
        format!("{conv}#{}", hashed(message))
    }
}

/// A message to save. Without `message_id`, an id is derived from the conversation, role,
/// content and timestamp, so saving the same message twice writes it once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewMessage {
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub user_id: String,
    pub role: String,
    pub content: String,
    pub timestamp: Option<Ts>,
    pub agent_id: Option<String>,
}

impl NewMessage {
    pub fn id(&self) -> String {
        match &self.message_id {
            Some(id) => id.clone(),
            None => {
                let ts = self.timestamp.map(|t| t.micros().to_string()).unwrap_or_default();
                format!("m-{:016x}", stable_hash(&[&self.conversation_id, &self.role, &self.content, &ts]))
            }
        }
    }
}

/// What happened to one tier's part of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierWrite {
    Written,
    /// Not needed (no such tier configured, message not relevant, already up to date).
    Skipped(String),
    /// Failed after the long-term write: recorded in the repair queue.
    Queued(String),
}

/// The outcome of `save_message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    pub message_id: String,
    /// False when the message already existed (its document was rewritten, nothing duplicated).
    pub created: bool,
    pub redis: TierWrite,
    pub vector: TierWrite,
}

/// The outcome of a batch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchReport {
    pub saved: Vec<Saved>,
    pub created: usize,
    pub existing: usize,
    pub conversations: usize,
    pub embedded: usize,
    pub queued: usize,
    /// Entries of the repair queue (left by an earlier run) that this batch's writes settled.
    pub settled: usize,
}

/// One pending tier write in the repair queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// `redis` (rebuild the conversation's recent list and session) or `vector` (embed the message).
    pub tier: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub error: String,
    pub queued_at: Option<Ts>,
}

/// Where a repair entry is kept in the long-term store.
fn repair_path(r: &Repair) -> String {
    format!("{REPAIR_COLLECTION}/{}", r.doc_id())
}

impl Repair {
    /// A pending rebuild of a conversation's recent list and session (its id only).
    fn redis(conversation: &str) -> Repair {
        Repair {
            tier: "redis".into(),
            conversation_id: conversation.into(),
            message_id: None,
            error: String::new(),
            queued_at: None,
        }
    }

    /// A pending embedding of one message (its id only).
    fn vector(conversation: &str, message: &str) -> Repair {
        Repair { message_id: Some(message.into()), tier: "vector".into(), ..Repair::redis(conversation) }
    }

    pub fn doc_id(&self) -> String {
        match &self.message_id {
            Some(m) if self.tier == "vector" => format!("vector~{}~{m}", self.conversation_id),
            _ => format!("{}~{}", self.tier, self.conversation_id),
        }
    }
    fn fields(&self) -> Vec<(String, FsValue)> {
        let mut f = vec![
            ("tier".into(), FsValue::String(self.tier.clone())),
            ("conversation_id".into(), FsValue::String(self.conversation_id.clone())),
            ("error".into(), FsValue::String(self.error.clone())),
            ("queued_at".into(), FsValue::Timestamp(self.queued_at.unwrap_or_else(Ts::now))),
        ];
        if let Some(m) = &self.message_id {
            f.push(("message_id".into(), FsValue::String(m.clone())));
        }
        f
    }
    pub fn from_doc(d: &Document) -> Option<Repair> {
        Some(Repair {
            tier: d.str_field("tier")?,
            conversation_id: d.str_field("conversation_id")?,
            message_id: d.str_field("message_id"),
            error: d.str_field("error").unwrap_or_default(),
            queued_at: d.get("queued_at").and_then(FsValue::as_ts),
        })
    }
}

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

/// Hit/miss counters per tier; the Health tab shows the sum over every layer in the process.
#[derive(Debug, Default)]
pub struct Stats {
    pub lru_hits: AtomicU64,
    pub lru_misses: AtomicU64,
    pub redis_hits: AtomicU64,
    pub redis_misses: AtomicU64,
    pub redis_errors: AtomicU64,
    pub long_term_reads: AtomicU64,
    pub vsearch_hits: AtomicU64,
    pub vsearch_misses: AtomicU64,
    pub saved: AtomicU64,
    pub queued: AtomicU64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            lru_hits: g(&self.lru_hits),
            lru_misses: g(&self.lru_misses),
            redis_hits: g(&self.redis_hits),
            redis_misses: g(&self.redis_misses),
            redis_errors: g(&self.redis_errors),
            long_term_reads: g(&self.long_term_reads),
            vsearch_hits: g(&self.vsearch_hits),
            vsearch_misses: g(&self.vsearch_misses),
            saved: g(&self.saved),
            queued: g(&self.queued),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

static REGISTRY: Mutex<Vec<std::sync::Weak<Stats>>> = Mutex::new(Vec::new());

/// The sum of the counters of every memory layer alive in this process (`None` when there is
/// none): the demo's agents feed the Health tab this way.
pub fn process_stats() -> Option<StatsSnapshot> {
    let reg = REGISTRY.lock().ok()?;
    let live: Vec<Arc<Stats>> = reg.iter().filter_map(|w| w.upgrade()).collect();
    if live.is_empty() {
        return None;
    }
    let mut t = StatsSnapshot::default();
    for s in live.iter().map(|s| s.snapshot()) {
        t.lru_hits += s.lru_hits;
        t.lru_misses += s.lru_misses;
        t.redis_hits += s.redis_hits;
        t.redis_misses += s.redis_misses;
        t.redis_errors += s.redis_errors;
        t.long_term_reads += s.long_term_reads;
        t.vsearch_hits += s.vsearch_hits;
        t.vsearch_misses += s.vsearch_misses;
        t.saved += s.saved;
        t.queued += s.queued;
    }
    Some(t)
}

pub struct Memory {
    long_term: Arc<dyn LongTermStore>,
    redis: Option<Arc<dyn KeyStore>>,
    vector: Option<VectorTier>,
    cfg: MemoryConfig,
    lru: Mutex<crate::lru::Lru<serde_json::Value>>,
    stats: Arc<Stats>,
    /// Repairs that could not even be recorded in the long-term store.
    unrecorded: Mutex<Vec<Repair>>,
}

impl Memory {
    /// The layer over these tiers. The Redis store's write guard must be armed by the caller
    /// (it is the caller's decision that this process writes).
    pub fn new(
        long_term: Arc<dyn LongTermStore>,
        redis: Option<Arc<dyn KeyStore>>,
        vector: Option<VectorTier>,
        cfg: MemoryConfig,
    ) -> Memory {
        let stats = Arc::new(Stats::default());
        if let Ok(mut r) = REGISTRY.lock() {
            r.retain(|w| w.strong_count() > 0);
            r.push(Arc::downgrade(&stats));
        }
        let lru = crate::lru::Lru::new(cfg.lru_capacity, Some(Duration::from_secs(cfg.lru_ttl_s)));
        Memory { long_term, redis, vector, cfg, lru: Mutex::new(lru), stats, unrecorded: Mutex::new(Vec::new()) }
    }

    /// The layer over the configured tiers (connected in `tiers`). The long-term store (the
    /// source of truth) is required; Redis and the vector tier are used when configured; the
    /// vector tier needs an embedder of its own (the layer embeds messages). `writes` arms the
    /// Redis store's write guard and opens files for writing (import, repair); without it the
    /// layer can only read.
    pub async fn from_config(cfg: &crate::config::Config, writes: bool) -> Result<Memory, StoreError> {
        if cfg.long_term.is_none() {
            return Err(StoreError::NotConfigured(
                "the memory layer needs its source of truth: configure [profile.NAME.long_term] (firestore or sqlite)"
                    .into(),
            ));
        }
        let access = if writes { crate::store::Access::ReadWrite } else { crate::store::Access::ReadOnly };
        let long_term = crate::tiers::long_term(cfg, access).await?;
        let redis = match &cfg.redis {
            Some(_) => {
                let r = crate::tiers::redis(cfg, None)?;
                r.set_writes_allowed(writes);
                Some(r)
            }
            None => None,
        };
        let vector = match &cfg.vector {
            Some(_) => {
                let v = crate::tiers::vector(cfg, access).await?;
                v.embedder()?;
                Some(v)
            }
            None => None,
        };
        Ok(Memory::new(long_term, redis, vector, cfg.memory.clone()))
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }
    pub fn config(&self) -> &MemoryConfig {
        &self.cfg
    }
    pub fn long_term(&self) -> &Arc<dyn LongTermStore> {
        &self.long_term
    }
    pub fn redis(&self) -> Option<&Arc<dyn KeyStore>> {
        self.redis.as_ref()
    }
    pub fn vector(&self) -> Option<&VectorTier> {
        self.vector.as_ref()
    }

    /// Whether a message of this role and content belongs in the vector tier.
    pub fn is_relevant(&self, role: &str, content: &str) -> bool {
        self.cfg.is_relevant(role, content)
    }

    /// Save one message through every tier: long-term first (the message document, and the
    /// conversation's `updated_at` and `message_count`), then Redis, then the vector tier.
    pub async fn save_message(
        &self,
        conversation_id: &str,
        mut message: NewMessage,
        user_id: &str,
    ) -> Result<Saved, StoreError> {
        conversation_id.clone_into(&mut message.conversation_id);
        user_id.clone_into(&mut message.user_id);
        let mut r = self.save_batch(vec![message], |_| {}).await?;
        r.saved.pop().ok_or_else(|| StoreError::Other("nothing was saved".into()))
    }

    /// Save messages in as few round trips as each tier allows: one `get_many` and one
    /// `put_many` (Firestore commits of ≤ 500 writes) for the long-term store, one pipeline for
    /// Redis, embedding batches and batched upserts for the vector tier. `progress` gets the
    /// tier being written.
    pub async fn save_batch(
        &self,
        messages: Vec<NewMessage>,
        mut progress: impl FnMut(&str),
    ) -> Result<BatchReport, StoreError> {
        // One entry per id: a later line for the same message wins.
        let mut by_id: BTreeMap<(String, String), NewMessage> = BTreeMap::new();
        let mut order = Vec::new();
        for m in messages {
            let key = (m.conversation_id.clone(), m.id());
            if by_id.insert(key.clone(), m).is_none() {
                order.push(key);
            }
        }
        let convs: Vec<String> = {
            let mut seen = HashSet::new();
            order.iter().filter(|(c, _)| seen.insert(c.clone())).map(|(c, _)| c.clone()).collect()
        };
        // ---- long-term: read what exists, then write messages and conversations together.
        progress("long-term");
        let mut paths: Vec<String> = order.iter().map(|(c, m)| message_path(c, m)).collect();
        paths.extend(convs.iter().map(|c| format!("conversations/{c}")));
        // The repair entries this batch may settle, read in the same round trip.
        let repair_paths: Vec<String> = convs
            .iter()
            .map(|c| repair_path(&Repair::redis(c)))
            .chain(order.iter().map(|(c, m)| repair_path(&Repair::vector(c, m))))
            .collect();
        paths.extend(repair_paths.iter().cloned());
        let existing = self.long_term.get_many(&paths).await?;
        let (msg_docs, rest) = existing.split_at(order.len());
        let (conv_docs, repair_docs) = rest.split_at(convs.len());
        let pending: HashSet<&str> =
            repair_paths.iter().zip(repair_docs).filter(|(_, d)| d.is_some()).map(|(p, _)| p.as_str()).collect();
        let mut settled: Vec<String> = Vec::new();
        let now = Ts::now();
        let mut writes = Vec::with_capacity(paths.len());
        let mut saved = Vec::with_capacity(order.len());
        let mut per_conv: HashMap<&str, Vec<(Ts, &NewMessage, String)>> = HashMap::new();
        for (key, old) in order.iter().zip(msg_docs) {
            let m = &by_id[key];
            let ts = m.timestamp.or_else(|| old.as_ref().and_then(|d| d.get("timestamp")?.as_ts())).unwrap_or(now);
            let mut fields = vec![
                ("role".to_string(), FsValue::String(m.role.clone())),
                ("content".to_string(), FsValue::String(m.content.clone())),
                ("timestamp".to_string(), FsValue::Timestamp(ts)),
                ("user_id".to_string(), FsValue::String(m.user_id.clone())),
            ];
            // Fields other writers added (metadata, …) are kept.
            if let Some(d) = old {
                for (k, v) in &d.fields {
                    if !fields.iter().any(|(f, _)| f == k) {
                        fields.push((k.clone(), v.clone()));
                    }
                }
            }
            writes.push((message_path(&key.0, &key.1), fields));
            per_conv.entry(&key.0).or_default().push((ts, m, key.1.clone()));
            saved.push(Saved {
                message_id: key.1.clone(),
                created: old.is_none(),
                redis: TierWrite::Skipped("no Redis configured".into()),
                vector: TierWrite::Skipped("no vector tier configured".into()),
            });
        }
        // New messages are created by the store only where none exists (a writer racing this
        // one may have made some since the read): `created` is what the store says, and the
        // count below follows it. The others are rewritten in place — a create another writer
        // won too (this batch's content is the later write).
        let is_new: Vec<bool> = msg_docs.iter().map(Option::is_none).collect();
        let (mut creates, mut updates) = (Vec::new(), Vec::new());
        for (w, new) in writes.into_iter().zip(&is_new) {
            if *new { creates.push(w) } else { updates.push(w) }
        }
        let made = if creates.is_empty() { vec![] } else { self.long_term.create_many(creates.clone()).await? };
        updates.extend(creates.into_iter().zip(&made).filter(|(_, c)| !**c).map(|(w, _)| w));
        let mut made = made.into_iter();
        for (s, new) in saved.iter_mut().zip(&is_new) {
            if *new {
                s.created = made.next().unwrap_or(false);
            }
        }
        if !updates.is_empty() {
            self.long_term.put_many(updates).await?;
        }
        // Conversations whose newest message is older than what they already hold: their session
        // keeps its last message.
        let mut not_newest = HashSet::new();
        let mut merges = Vec::with_capacity(convs.len());
        let created: HashSet<(&str, &str)> =
            order.iter().zip(&saved).filter(|(_, s)| s.created).map(|((c, m), _)| (c.as_str(), m.as_str())).collect();
        for (c, old) in convs.iter().zip(conv_docs) {
            let msgs = &per_conv[c.as_str()];
            let batch_last = msgs.iter().map(|(t, ..)| *t).max();
            if old.as_ref().and_then(|d| d.get("updated_at")?.as_ts()).is_some_and(|u| Some(u) > batch_last) {
                not_newest.insert(c.clone());
            }
            // By (conversation, message): ids are often numbered alike in every conversation.
            let new_count =
                msgs.iter().filter(|(_, _, id)| created.contains(&(c.as_str(), id.as_str()))).count() as i64;
            // Only the fields this batch decides are written (other writers' fields are kept),
            // and the count is added by the store, so concurrent writers add up.
            let has = |k: &str| old.as_ref().is_some_and(|d| d.get(k).is_some());
            let mut set: Vec<(String, FsValue)> = Vec::new();
            let first = msgs.iter().map(|(t, ..)| *t).min().unwrap_or(now);
            let last = msgs.iter().map(|(t, ..)| *t).max().unwrap_or(now);
            let (_, m0, _) = msgs[0];
            if !has("user_id") {
                set.push(("user_id".into(), FsValue::String(m0.user_id.clone())));
            }
            if let Some(a) = msgs.iter().find_map(|(_, m, _)| m.agent_id.clone()) {
                set.push(("agent_id".into(), FsValue::String(a)));
            }
            if !has("title")
                && let Some((_, m, _)) = msgs.iter().find(|(_, m, _)| m.role == "user")
            {
                let title: String = m.content.lines().next().unwrap_or("").chars().take(60).collect();
                set.push(("title".into(), FsValue::String(title)));
            }
            merges.push(Merge {
                path: format!("conversations/{c}"),
                set,
                increment: vec![("message_count".into(), new_count)],
                // Moved only forward (backward for created_at), by the store, atomically.
                at_least: vec![("updated_at".into(), last)],
                at_most: vec![("created_at".into(), first)],
            });
        }
        self.long_term.merge_many(merges).await?;
        self.stats.saved.fetch_add(saved.len() as u64, Ordering::Relaxed);
        let mut repairs = Vec::new();

        // ---- Redis: the recent list (merged, ordered, trimmed) and the session, per conversation.
        if let Some(redis) = &self.redis {
            progress("redis");
            let mut ops = Vec::with_capacity(convs.len() * 2);
            for c in &convs {
                let msgs = &per_conv[c.as_str()];
                let items = msgs
                    .iter()
                    .map(|(ts, m, id)| {
                        RecentMessage {
                            message_id: id.clone(),
                            role: m.role.clone(),
                            content: m.content.clone(),
                            timestamp: ts.to_rfc3339_micros().into(),
                            user_id: Some(m.user_id.clone()),
                        }
                        .json()
                    })
                    .collect();
                ops.push(CacheOp::MergeRecent { key: recent_key(c), items, keep: self.cfg.recent_messages });
                let (last_ts, last_m, last_id) = msgs.iter().max_by_key(|(t, _, id)| (*t, id.clone())).expect("≥1");
                let mut fields = vec![(b"user_id".to_vec(), last_m.user_id.clone().into_bytes())];
                if !not_newest.contains(c) {
                    fields.push((b"last_message_id".to_vec(), last_id.clone().into_bytes()));
                    fields.push((b"last_active".to_vec(), last_ts.to_rfc3339_micros().into_bytes()));
                }
                if let Some(a) = &last_m.agent_id {
                    fields.push((b"agent_id".to_vec(), a.clone().into_bytes()));
                }
                ops.push(CacheOp::HSet { key: session_key(c), fields, ttl_s: self.cfg.session_ttl_s });
            }
            let mut failed_from = None;
            for (i, chunk) in ops.chunks(500).enumerate() {
                if let Err(e) = redis.exec(chunk).await {
                    bump(&self.stats.redis_errors);
                    failed_from = Some((i * 250, e.to_string()));
                    break;
                }
            }
            let failed: HashSet<&str> = match &failed_from {
                Some((from, e)) => {
                    for c in &convs[*from..] {
                        repairs.push(Repair {
                            tier: "redis".into(),
                            conversation_id: c.clone(),
                            message_id: None,
                            error: e.clone(),
                            queued_at: Some(now),
                        });
                    }
                    convs[*from..].iter().map(String::as_str).collect()
                }
                None => HashSet::new(),
            };
            for ((c, _), s) in order.iter().zip(saved.iter_mut()) {
                s.redis = match &failed_from {
                    Some((_, e)) if failed.contains(c.as_str()) => TierWrite::Queued(e.clone()),
                    _ => TierWrite::Written,
                };
            }
            // A conversation written now settles what an earlier run left pending for it.
            settled.extend(
                convs
                    .iter()
                    .filter(|c| !failed.contains(c.as_str()))
                    .map(|c| repair_path(&Repair::redis(c)))
                    .filter(|p| pending.contains(p.as_str())),
            );
        }

        // ---- vector: relevant messages whose record is missing or out of date.
        let mut embedded = 0;
        if let Some(v) = &self.vector {
            progress("vector");
            let mut items = Vec::new();
            for ((c, id), s) in order.iter().zip(saved.iter_mut()) {
                let m = &by_id[&(c.clone(), id.clone())];
                if !self.is_relevant(&m.role, &m.content) {
                    s.vector = TierWrite::Skipped("not relevant (role or length)".into());
                    continue;
                }
                let ts = per_conv[c.as_str()].iter().find(|(_, _, i)| i == id).map(|(t, ..)| *t).unwrap_or(now);
                items.push(text_item(c, id, &m.user_id, &m.role, ts, &m.content));
            }
            // Records already up to date are left alone: a re-import embeds nothing again.
            let mut current = HashSet::new();
            for chunk in items.chunks(1000) {
                let ids: Vec<String> = chunk.iter().map(|i| i.id.clone()).collect();
                if let Ok(recs) = v.store.fetch(&ids, &v.namespace).await {
                    for r in recs {
                        if let Some(i) = chunk.iter().find(|i| i.id == r.id)
                            && vector_agrees(&r.metadata, i, &v.text_field)
                        {
                            current.insert(r.id);
                        }
                    }
                }
            }
            items.retain(|i| !current.contains(&i.id));
            let todo: HashSet<String> = items.iter().map(|i| i.id.clone()).collect();
            let mut done = 0usize;
            let r = crate::search::from_texts(
                &*v.store,
                &**v.embedder()?,
                items.clone(),
                &v.namespace,
                &v.text_field,
                64,
                |n| done = n,
            )
            .await;
            embedded = done;
            let failed: HashMap<String, String> = match r {
                Ok(_) => HashMap::new(),
                Err(e) => items[done..].iter().map(|i| (i.id.clone(), e.to_string())).collect(),
            };
            for ((c, id), s) in order.iter().zip(saved.iter_mut()) {
                if matches!(s.vector, TierWrite::Skipped(ref why) if why.starts_with("not relevant")) {
                    continue;
                }
                let vid = vector_id(c, id);
                s.vector = if let Some(e) = failed.get(&vid) {
                    repairs.push(Repair {
                        tier: "vector".into(),
                        conversation_id: c.clone(),
                        message_id: Some(id.clone()),
                        error: e.clone(),
                        queued_at: Some(now),
                    });
                    TierWrite::Queued(e.clone())
                } else if todo.contains(&vid) {
                    TierWrite::Written
                } else {
                    TierWrite::Skipped("already up to date".into())
                };
                let p = repair_path(&Repair::vector(c, id));
                if !matches!(s.vector, TierWrite::Queued(_)) && pending.contains(p.as_str()) {
                    settled.push(p);
                }
            }
        }
        let queued = repairs.len();
        self.record_repairs(repairs).await;
        let settled_n = settled.len();
        if !settled.is_empty()
            && let Err(e) = self.long_term.delete_many(&settled).await
        {
            tracing::warn!(error = %e, n = settled.len(), "could not remove settled entries from the repair queue");
        }
        let created = saved.iter().filter(|s| s.created).count();
        Ok(BatchReport {
            existing: saved.len() - created,
            created,
            conversations: convs.len(),
            embedded,
            queued,
            settled: settled_n,
            saved,
        })
    }

    async fn record_repairs(&self, repairs: Vec<Repair>) {
        if repairs.is_empty() {
            return;
        }
        self.stats.queued.fetch_add(repairs.len() as u64, Ordering::Relaxed);
        let docs = repairs.iter().map(|r| (repair_path(r), r.fields())).collect();
        if let Err(e) = self.long_term.put_many(docs).await {
            tracing::warn!(error = %e, n = repairs.len(), "could not record pending tier writes in the repair queue");
            if let Ok(mut u) = self.unrecorded.lock() {
                u.extend(repairs);
            }
        }
    }

    /// Repairs this process could not record in the long-term store (it failed too).
    pub fn unrecorded_repairs(&self) -> Vec<Repair> {
        self.unrecorded.lock().map(|u| u.clone()).unwrap_or_default()
    }

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

    fn lru_put(&self, key: &str, v: &serde_json::Value) {
        if let Ok(mut l) = self.lru.lock() {
            l.put(key, v.clone());
        }
    }

    async fn redis_get_json(&self, key: &str) -> Option<serde_json::Value> {
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

    async fn redis_set_json(&self, key: &str, v: &serde_json::Value, ttl_s: u64) -> bool {
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

    fn vector_tier(&self) -> Result<&VectorTier, StoreError> {
        self.vector.as_ref().ok_or_else(|| StoreError::NotConfigured("no vector tier configured".into()))
    }

    /// Embed and upsert one text; the id is [`vector_id`] of `metadata.conversation_id` and
    /// `metadata.message_id`, else `message_id` alone, else derived from the text.
    pub async fn upsert_text(&self, text: &str, metadata: Metadata) -> Result<String, StoreError> {
        let mut ids = self.from_texts(vec![text.to_string()], vec![metadata]).await?;
        ids.pop().ok_or_else(|| StoreError::Other("nothing was upserted".into()))
    }

    /// Embed and upsert texts in batches (embedding batches of 64; the store splits upserts at
    /// 1,000 vectors / 2 MB). Returns the ids, in order.
    pub async fn from_texts(&self, texts: Vec<String>, metadatas: Vec<Metadata>) -> Result<Vec<String>, StoreError> {
        let v = self.vector_tier()?;
        let items: Vec<TextItem> = texts
            .into_iter()
            .zip(metadatas.into_iter().chain(std::iter::repeat_with(Metadata::new)))
            .map(|(text, metadata)| {
                let field = |k: &str| metadata.get(k).and_then(|x| x.as_str());
                let id = match (field("conversation_id"), field("message_id")) {
                    (Some(c), Some(m)) => vector_id(c, m),
                    (None, Some(m)) => m.to_string(),
                    _ => format!("t-{:016x}", stable_hash(&[&text])),
                };
                TextItem { id, text, metadata }
            })
            .collect();
        let ids = items.iter().map(|i| i.id.clone()).collect();
        crate::search::from_texts(&*v.store, &**v.embedder()?, items, &v.namespace, &v.text_field, 64, |_| {}).await?;
        Ok(ids)
    }

    /// Semantic search, with results cached in Redis (`vsearch:{hash}`, `vsearch_ttl_s`).
    /// The flag says whether the answer came from the cache.
    pub async fn query(
        &self,
        text: &str,
        top_k: u32,
        filter: Option<&serde_json::Value>,
    ) -> Result<(QueryResult, bool), StoreError> {
        let v = self.vector_tier()?;
        let f = filter.map(|f| f.to_string()).unwrap_or_default();
        let key = format!("vsearch:{:016x}", stable_hash(&[&v.namespace, &top_k.to_string(), &f, text]));
        if let Some(cached) = self.redis_get_json(&key).await
            && let Some(matches) = matches_from_json(&cached)
        {
            bump(&self.stats.vsearch_hits);
            return Ok((QueryResult { matches, namespace: v.namespace.clone(), read_units: Some(0) }, true));
        }
        bump(&self.stats.vsearch_misses);
        let p = SearchParams {
            text: text.to_string(),
            top_k,
            namespace: v.namespace.clone(),
            filter: filter.cloned(),
            include_values: false,
        };
        let out = crate::search::search(&*v.store, v.query_embedder(), v.dimension, &p).await?;
        self.redis_set_json(&key, &matches_json(&out.result.matches), self.cfg.vsearch_ttl_s).await;
        Ok((out.result, false))
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

    /// Embed long-term messages and upsert them with the layer's metadata.
    pub async fn embed_messages(&self, messages: &[Message]) -> Result<u64, StoreError> {
        let v = self.vector_tier()?;
        let items: Vec<TextItem> = messages
            .iter()
            .filter_map(|m| {
                let (c, id) = split_message_path(&m.doc.path)?;
                let user = m.user_id.clone().unwrap_or_default();
                Some(text_item(c, id, &user, &m.role, m.timestamp.unwrap_or(Ts { secs: 0, nanos: 0 }), &m.content))
            })
            .collect();
        crate::search::from_texts(&*v.store, &**v.embedder()?, items, &v.namespace, &v.text_field, 64, |_| {}).await
    }

    /// The repair queue, page by page (`after` = the last document path of the previous page).
    pub async fn repairs(&self, after: Option<&str>, limit: u32) -> Result<(Vec<(String, Repair)>, bool), StoreError> {
        let cursor = after.map(|p| crate::domain::Cursor::After { values: vec![], path: p.to_string() });
        let page = self.long_term.documents(REPAIR_COLLECTION, cursor.as_ref(), limit).await?;
        let more = page.next.is_some();
        Ok((page.items.iter().filter_map(|d| Some((d.path.clone(), Repair::from_doc(d)?))).collect(), more))
    }
}

/// The vector record the layer writes for a message.
pub fn text_item(conversation: &str, id: &str, user: &str, role: &str, ts: Ts, content: &str) -> TextItem {
    let mut md = Metadata::new();
    md.insert("conversation_id".into(), conversation.into());
    md.insert("message_id".into(), id.into());
    md.insert("user_id".into(), user.into());
    md.insert("role".into(), role.into());
    md.insert("timestamp".into(), ts.secs.into());
    TextItem { id: vector_id(conversation, id), text: content.chars().take(8000).collect(), metadata: md }
}

/// Whether a stored record's metadata says what the layer would write for this item.
pub fn vector_agrees(stored: &Metadata, item: &TextItem, text_field: &str) -> bool {
    vector_disagreements(stored, item, text_field).is_empty()
}

/// How a stored record's metadata differs from what the layer would write for this item, one
/// line per field (`user_id: index "u1" ≠ "u2"`); empty when they agree.
pub fn vector_disagreements(stored: &Metadata, item: &TextItem, text_field: &str) -> Vec<String> {
    item.metadata
        .iter()
        .filter(|(k, x)| stored.get(*k) != Some(x))
        .map(|(k, x)| format!("{k}: index {} ≠ {x}", stored.get(k).map(|y| y.to_string()).unwrap_or("–".into())))
        .chain(
            (stored.get(text_field).and_then(|t| t.as_str()) != Some(item.text.as_str()))
                .then(|| format!("{text_field}: differs from the message")),
        )
        .collect()
}

fn matches_json(ms: &[VectorMatch]) -> serde_json::Value {
    serde_json::Value::Array(
        ms.iter().map(|m| serde_json::json!({"id": m.id, "score": m.score, "metadata": m.metadata})).collect(),
    )
}

fn matches_from_json(v: &serde_json::Value) -> Option<Vec<VectorMatch>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_content_addressed() {
        let m = NewMessage {
            conversation_id: "c1".into(),
            role: "user".into(),
            content: "hello".into(),
            ..Default::default()
        };
        // A fixed value (FNV-1a of "c1␀user␀hello␀␀" with 0xff separators, computed outside
        // memscope): a rebuilt memscope must derive the same id, or re-imports duplicate.
        assert_eq!(m.id(), "m-0786e0b2ee7e8544");
        assert_eq!(stable_hash(&["a"]), 0x089b_c907_b544_c769);
        let mut other = m.clone();
        other.content = "hello!".into();
        assert_ne!(m.id(), other.id());
        assert_eq!(split_message_path("conversations/c1/messages/m-1"), Some(("c1", "m-1")));
        assert_eq!(split_message_path("users/u1"), None);
    }

    #[test]
    fn recent_message_timestamps_sort_as_instants() {
        let a = Ts { secs: 1_700_000_000, nanos: 0 }.to_rfc3339_micros();
        let b = Ts { secs: 1_700_000_000, nanos: 5_000 }.to_rfc3339_micros();
        let c = Ts { secs: 1_700_000_001, nanos: 0 }.to_rfc3339_micros();
        assert!(a < b && b < c, "{a} {b} {c}");
        assert_eq!(Ts::parse(&b), Some(Ts { secs: 1_700_000_000, nanos: 5_000 }));
    }
}
