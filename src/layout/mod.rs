//! Where conversations live and how they were written: memscope's own layout, or what a
//! framework wrote (`[profile.X.layout] preset`). One reader per layout gives the Conversations
//! tab and `memscope conversations` / `show` the same [`Conversation`]s and [`Message`]s.
//! What a layout cannot know (message ids, timestamps, users) stays empty and is said so; the
//! trace, badges and audit check memscope's layout only and say "not checked" under another.

use crate::config::{Encoding, LayoutConfig, LayoutPreset, MessagesIn};
use crate::domain::{
    CacheOp, CacheReply, ConvFilter, Conversation, Cursor, Document, FsValue, Key, Message, Page, ToolCall, Ts, TsForm,
};
use crate::error::StoreError;
use crate::store::{KeyStore, KeyspaceScan, LongTermStore, ThreadPlace};
use serde_json::Value;
use std::sync::Arc;

mod checkpoints;
mod decode;
mod detect;
mod firestore;
mod firestore_checkpoints;
mod keys;
mod memscope;
mod paging;
mod recognise;
mod redis_document;
mod redis_list;
#[cfg(test)]
mod tests;
pub mod vector_schemas;

use checkpoints::*;
use decode::*;
pub use decode::{decode_message, role_of};
pub use detect::{
    DETECT_COLLECTIONS, DETECT_DEPTH, DETECT_FANOUT, DETECT_SAMPLE, Detected, DetectedIndex, Detection, detect,
};
pub use firestore::THREAD_CAP;
use firestore::*;
use firestore_checkpoints::*;
use keys::*;
use memscope::*;
use paging::*;
use redis_document::*;
use redis_list::*;

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
    /// A checkpointing layout's earlier states of a thread, newest first: (checkpoint id, time,
    /// messages); [`checkpoint`](Self::checkpoint) opens one. `None`: this layout keeps no
    /// history.
    async fn checkpoints(&self, _thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        Ok(None)
    }
    /// One earlier state of a thread, by checkpoint id (the thread id is taken whole: any `@`
    /// or `:` in it is its own). `None`: this layout keeps no history.
    async fn checkpoint(&self, _thread: &str, _id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        Ok(None)
    }
    /// What the last listing or count passed over and why ("passed over 3 lists under `*` that
    /// hold no LlamaIndex messages"), for the list to say beside its count.
    fn left_out(&self) -> Option<String> {
        None
    }
}

/// The reader of a layout over the stores it needs (a Redis layout needs Redis only); with a
/// second source (`[profile.X.layout.recent]`), both combined.
pub fn reader(
    layout: &LayoutConfig,
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Arc<dyn ConversationReader>, StoreError> {
    let first = one_reader(layout, long_term.clone(), redis.clone())?;
    let inner: Arc<dyn ConversationReader> = match &layout.recent {
        Some(r) => Arc::new(Combined { first, second: one_reader(r, long_term, redis)? }),
        None => first,
    };
    Ok(Arc::new(TitleSearch(inner)))
}

fn one_reader(
    layout: &LayoutConfig,
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Arc<dyn ConversationReader>, StoreError> {
    let need = |what: &str| {
        StoreError::NotConfigured(format!(
            "layout preset \"{}\" (messages in \"{}\") reads {what}",
            layout.preset.name(),
            layout.messages_in.name()
        ))
    };
    let l = layout.clone();
    let inner: Arc<dyn ConversationReader> = match layout.messages_in {
        MessagesIn::Memscope => Arc::new(Memscope(long_term.ok_or_else(|| need("the long-term store"))?)),
        MessagesIn::Array => Arc::new(FirestoreArray {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            cache: Default::default(),
        }),
        MessagesIn::Subcollection => Arc::new(FirestoreDocs {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            time_fields: Default::default(),
            cache: Default::default(),
        }),
        MessagesIn::FirestoreCheckpoints => Arc::new(FirestoreCheckpoints {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            cache: Default::default(),
            order: Default::default(),
            by_id: Default::default(),
        }),
        MessagesIn::List => {
            Arc::new(RedisList { redis: redis.ok_or_else(|| need("Redis"))?, layout: l, passed: Default::default() })
        }
        MessagesIn::Keys => {
            Arc::new(KeyPerMessage { redis: redis.ok_or_else(|| need("Redis"))?, layout: l, cache: Default::default() })
        }
        MessagesIn::RedisDocument => {
            Arc::new(RedisDocument { redis: redis.ok_or_else(|| need("Redis"))?, layout: l, cache: Default::default() })
        }
        MessagesIn::RedisCheckpoints => Arc::new(Checkpoints {
            redis: redis.ok_or_else(|| need("Redis"))?,
            layout: l,
            cache: Default::default(),
            folded: Default::default(),
        }),
    };
    Ok(inner)
}

/// Two sources in one profile (long-term from one framework, recent messages from another):
/// the first's conversations, then the second's that the first does not hold; a thread from
/// the first, or from the second when the first has none. Each conversation's `doc.path` says
/// where it is stored.
struct Combined {
    first: Arc<dyn ConversationReader>,
    second: Arc<dyn ConversationReader>,
}

/// The second source's part of a combined listing: its cursor wraps the second's.
const SECOND: &str = "\u{1}second";

impl Combined {
    /// The first source holds this conversation (it has at least one message).
    async fn first_holds(&self, id: &str) -> bool {
        self.first.messages(id, None, 1).await.is_ok_and(|p| !p.items.is_empty())
    }

    fn second_cursor(c: Option<Cursor>) -> Cursor {
        Cursor::After {
            values: vec![FsValue::String(SECOND.into())],
            path: serde_json::to_string(&c.map(cursor_json)).unwrap_or_default(),
        }
    }

    fn in_second(after: Option<&Cursor>) -> Option<Option<Cursor>> {
        match after {
            Some(Cursor::After { values, path }) if values.first().and_then(FsValue::as_str) == Some(SECOND) => {
                Some(serde_json::from_str::<Option<Value>>(path).ok().flatten().and_then(cursor_of_json))
            }
            _ => None,
        }
    }
}

/// The cursors a second source can have (its own layouts' ids and positions), as JSON.
fn cursor_json(c: Cursor) -> Value {
    match c {
        Cursor::Absent { after } => serde_json::json!({"absent": after}),
        Cursor::After { values, path } => serde_json::json!({
            "after": path,
            "token": values.first().and_then(FsValue::as_str),
        }),
        Cursor::Merged { .. } => Value::Null,
        Cursor::Phantoms(at) => serde_json::json!({"phantoms": at.map(|c| cursor_json(*c))}),
    }
}

fn cursor_of_json(v: Value) -> Option<Cursor> {
    if let Some(a) = v.get("absent") {
        return Some(Cursor::Absent { after: a.as_str().map(str::to_string) });
    }
    if let Some(p) = v.get("phantoms") {
        return Some(Cursor::Phantoms(cursor_of_json(p.clone()).map(Box::new)));
    }
    let path = v.get("after")?.as_str()?.to_string();
    let values = v.get("token").and_then(Value::as_str).map(|t| vec![FsValue::String(t.into())]).unwrap_or_default();
    Some(Cursor::After { values, path })
}

#[async_trait::async_trait]
impl ConversationReader for Combined {
    fn preset(&self) -> LayoutPreset {
        self.first.preset()
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let mut items = Vec::new();
        let mut second_after = match Self::in_second(after) {
            Some(c) => c,
            None => {
                let page = self.first.conversations(filter, after, limit).await?;
                if page.next.is_some() {
                    return Ok(page);
                }
                items = page.items;
                None
            }
        };
        // The second source, without what the first holds, until the page is full.
        loop {
            let page = self.second.conversations(filter, second_after.as_ref(), limit).await?;
            for c in page.items {
                if !self.first_holds(&c.id).await {
                    items.push(c);
                }
            }
            match page.next {
                Some(n) if items.len() < limit as usize => second_after = Some(n),
                Some(n) => return Ok(Page { items, next: Some(Self::second_cursor(Some(n))) }),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let mut n = self.first.count(filter).await?;
        let mut after = None;
        loop {
            let page = self.second.conversations(filter, after.as_ref(), 500).await?;
            for c in &page.items {
                n += u64::from(!self.first_holds(&c.id).await);
            }
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        match self.first.messages(c, after, limit).await {
            Ok(p) if !p.items.is_empty() => Ok(p),
            first => match self.second.messages(c, after, limit).await {
                Ok(p) => Ok(p),
                Err(e) => first.map_err(|f| StoreError::Other(format!("{f}; {e}"))),
            },
        }
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        match self.first.checkpoints(thread).await? {
            Some(c) => Ok(Some(c)),
            None => self.second.checkpoints(thread).await,
        }
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        match self.first.checkpoint(thread, id).await? {
            Some(c) => Ok(Some(c)),
            None => self.second.checkpoint(thread, id).await,
        }
    }

    fn left_out(&self) -> Option<String> {
        match (self.first.left_out(), self.second.left_out()) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        }
    }
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

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        self.0.checkpoints(thread).await
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        self.0.checkpoint(thread, id).await
    }

    fn left_out(&self) -> Option<String> {
        self.0.left_out()
    }
}

/// The trace, the tier badges and the audit check memscope's own layout (a message with one id
/// in every tier); under another they are not checked, and say so (never a false "clean").
pub fn cross_tier_checks(layout: &LayoutConfig) -> Result<(), StoreError> {
    if layout.is_memscopes_own() {
        return Ok(());
    }
    let what = if layout.preset == LayoutPreset::Memscope {
        "this profile renames memscope's layout".to_string()
    } else {
        format!("layout preset \"{}\" keeps no message ids across tiers", layout.preset.name())
    };
    Err(StoreError::NotConfigured(format!(
        "not checked: {what}, and the trace, tier badges and audit follow memscope's own layout (preset = \"memscope\", no overrides)"
    )))
}
