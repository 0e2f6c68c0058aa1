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
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod read;
#[cfg(test)]
mod tests;
mod vectors;
mod write;

pub use read::*;
pub use vectors::*;
pub use write::*;

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
}
