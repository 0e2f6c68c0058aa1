//! LangGraph checkpoints in Redis (RedisSaver and ShallowRedisSaver).

use super::recognise::{Claim, Recognise, SampledKey};
use super::*;

/// A checkpoint's messages (LangChain messages, in any of their serialised forms) as a thread.
pub(super) fn checkpoint_messages(l: &LayoutConfig, path: &str, messages: &[Value]) -> Vec<Message> {
    messages.iter().enumerate().map(|(i, m)| positional(l, path, i, m)).collect()
}

/// langgraph-checkpoint-redis: a thread's conversation is its latest checkpoint's
/// `channel_values.messages` (LangChain messages in the `lc` constructor form, with ids).
/// `RedisSaver` keeps every checkpoint (`checkpoint:{thread}:{ns}:{id}`) and a pointer to the
/// latest (`checkpoint_latest:{thread}:{ns}`, the default namespace spelt `__empty__`);
/// `ShallowRedisSaver` keeps one document per thread, `checkpoint:{thread}:{ns}` (the default
/// namespace empty) and no pointer. Both are read. A thread id is taken whole: it may hold
/// `:` (`user:42`) or `@`.
pub(super) struct Checkpoints {
    pub(super) redis: Arc<dyn KeyStore>,
    pub(super) layout: LayoutConfig,
    pub(super) cache: ThreadCache<Vec<Message>>,
    /// Subgraph namespaces the last listing kept under their threads.
    pub(super) folded: std::sync::Mutex<Option<u64>>,
}

/// The default checkpoint namespace's name in the keys.
pub(super) const EMPTY_NS: &str = ":__empty__";
/// Where checkpoints are kept (the pointers' prefix is the layout's `key_prefix`).
pub(super) const CHECKPOINT_PREFIX: &str = "checkpoint:";

/// Where a thread's state is: the key of its latest checkpoint, and the stem its other
/// checkpoints are under (`checkpoint:{stem}:{id}`; None for a shallow saver's thread).
pub(super) struct ThreadState {
    pub(super) latest: String,
    pub(super) stem: Option<String>,
}

impl Checkpoints {
    /// Every thread (`thread` in the default namespace, else `thread:ns`), sorted: those with
    /// a latest-checkpoint pointer and those a shallow saver keeps.
    pub(super) async fn threads(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let shallow_glob = format!("{}*:", glob_escape(CHECKPOINT_PREFIX));
        let (pointers, shallow) = tokio::join!(
            scan_all(self.redis.clone(), &self.layout.keys, Some("string")),
            scan_all(self.redis.clone(), &shallow_glob, Some("ReJSON-RL")),
        );
        let mut out = Vec::new();
        let mut namespaced = Vec::new();
        for k in pointers? {
            let Some(rest) = k.strip_prefix(&self.layout.key_prefix) else { continue };
            match rest.strip_suffix(EMPTY_NS) {
                Some(thread) => out.push(thread.to_string()),
                None => namespaced.push(rest.to_string()),
            }
        }
        // A subgraph's namespace (`{thread}:planner`, `{thread}:node:<task>`) belongs to its
        // thread: not a look-alike row beside it. One with no thread of its own is listed.
        let threads: std::collections::HashSet<&str> = out.iter().map(String::as_str).collect();
        let mut folded = 0u64;
        let mut alone = Vec::new();
        for ns in namespaced {
            let parent = ns.match_indices(':').map(|(i, _)| &ns[..i]).any(|t| threads.contains(t));
            if parent {
                folded += 1;
            } else {
                alone.push(ns);
            }
        }
        out.extend(alone);
        *self.folded.lock().unwrap_or_else(|e| e.into_inner()) = Some(folded);
        // A shallow document `checkpoint:{thread}:` (default namespace) or `…:{thread}:{ns}:`?
        // The default one ends in one `:`; RedisSaver's `checkpoint:{thread}:{ns}:{id}` never
        // ends in `:`, and its ids hold no `:`.
        for k in shallow? {
            if let Some(t) = k.strip_prefix(CHECKPOINT_PREFIX).and_then(|r| r.strip_suffix(':')) {
                out.push(t.to_string());
            }
        }
        out.retain(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())));
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Where a thread's state is: its pointer in the default namespace, else the listed id as
    /// `thread:ns`, else a shallow saver's document.
    pub(super) async fn state_of(&self, thread: &str) -> Result<ThreadState, StoreError> {
        let p = &self.layout.key_prefix;
        let key = |s: String| -> Key { s.into_bytes().into() };
        let shallow = format!("{CHECKPOINT_PREFIX}{thread}:");
        let ops = [
            CacheOp::Get(key(format!("{p}{thread}{EMPTY_NS}"))),
            CacheOp::Get(key(format!("{p}{thread}"))),
            CacheOp::JsonGet { key: key(shallow.clone()), path: "$.checkpoint_id".into() },
        ];
        let replies = self.redis.exec(&ops).await?;
        let found = |i: usize| match replies.get(i) {
            Some(CacheReply::Value(Some(v))) if !v.is_empty() && v.as_slice() != b"[]" => Some(v.clone()),
            _ => None,
        };
        if let Some(v) = found(0) {
            return Ok(ThreadState {
                latest: String::from_utf8_lossy(&v).into_owned(),
                stem: Some(format!("{thread}{EMPTY_NS}")),
            });
        }
        if let Some(v) = found(1) {
            return Ok(ThreadState {
                latest: String::from_utf8_lossy(&v).into_owned(),
                stem: Some(thread.to_string()),
            });
        }
        if found(2).is_some() {
            return Ok(ThreadState { latest: shallow, stem: None });
        }
        Err(StoreError::Other(format!(
            "no thread `{thread}` (no {p}{thread}{EMPTY_NS}, no {p}{thread}, no {shallow} of a shallow saver)"
        )))
    }

    /// The time of each thread's latest checkpoint, from its id (a time-ordered UUID), in one
    /// pipeline: the pointers [`state_of`](Self::state_of) reads, for every thread at once.
    pub(super) async fn latest_times(&self, threads: &[String]) -> Result<Vec<Option<i64>>, StoreError> {
        let p = &self.layout.key_prefix;
        let key = |s: String| -> Key { s.into_bytes().into() };
        let ops: Vec<CacheOp> = threads
            .iter()
            .flat_map(|t| {
                [
                    CacheOp::Get(key(format!("{p}{t}{EMPTY_NS}"))),
                    CacheOp::Get(key(format!("{p}{t}"))),
                    CacheOp::JsonGet { key: key(format!("{CHECKPOINT_PREFIX}{t}:")), path: "$.checkpoint_id".into() },
                ]
            })
            .collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        Ok(replies
            .chunks(3)
            .map(|r| {
                r.iter().find_map(|r| match r {
                    CacheReply::Value(Some(v)) if !v.is_empty() => {
                        let v = String::from_utf8_lossy(v);
                        // A pointer names the checkpoint's key (`…:{id}`); a shallow saver's
                        // `$.checkpoint_id` answers `["{id}"]`.
                        let id = match first_json(v.as_bytes()) {
                            Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
                            _ => v.rsplit(':').next().map(str::to_string),
                        };
                        id.as_deref().and_then(uuid_time_ms).map(|ms| ms * 1000)
                    }
                    _ => None,
                })
            })
            .collect())
    }

    /// A checkpoint's key, time and messages (raw JSON each); None when the key holds none.
    pub(super) async fn read_key(&self, cp: &str) -> Result<Option<(Option<Ts>, Vec<Value>)>, StoreError> {
        let key: Key = cp.to_string().into_bytes().into();
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
        let messages = first(r.next());
        let ts = first(r.next()).and_then(|v| v.as_str().and_then(Ts::parse));
        Ok(match messages {
            Some(Value::Array(m)) => Some((ts, m)),
            Some(_) => Some((ts, Vec::new())),
            None if ts.is_some() => Some((ts, Vec::new())),
            None => None,
        })
    }

    /// A thread's latest checkpoint: its key, time and messages.
    pub(super) async fn read(&self, thread: &str) -> Result<(String, Option<Ts>, Vec<Value>), StoreError> {
        let state = self.state_of(thread).await?;
        let (ts, messages) = self.read_key(&state.latest).await?.unwrap_or_default();
        Ok((state.latest, ts, messages))
    }
}

/// Every key matching `glob` (of `key_type`), as text.
pub(super) async fn scan_all(
    redis: Arc<dyn KeyStore>,
    glob: &str,
    key_type: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let mut scan = KeyspaceScan::start(redis, glob, key_type, 1000).await?;
    let mut out = Vec::new();
    while let Some(page) = scan.next_page().await {
        out.extend(page?.keys.iter().map(|k| String::from_utf8_lossy(k).into_owned()));
    }
    Ok(out)
}

/// `s` as a glob that matches it literally.
pub(super) fn glob_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut o, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            o.push('\\');
        }
        o.push(c);
        o
    })
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
        let order = newest_first(ids.iter().cloned().zip(self.latest_times(&ids).await?));
        let start = start_after(&order, after);
        let mut items = Vec::new();
        for key in order[start..].iter().take(limit as usize) {
            let id = &id_of_order_key(key).to_string();
            let (cp, ts, messages) = self.read(id).await?;
            let heads: Vec<Message> = messages
                .iter()
                .take(TITLE_LOOK)
                .enumerate()
                .map(|(i, m)| positional(&self.layout, &cp, i, m))
                .collect();
            items.push(Conversation {
                id: id.clone(),
                title: title_from(&heads),
                user_id: None,
                agent_id: None,
                created_at: None,
                updated_at: ts,
                message_count: Some(messages.len() as i64),
                doc: Document { path: cp, fields: Vec::new(), update_time: None },
            });
        }
        let end = start + items.len();
        let next = cursor_after(end, order.len(), end.checked_sub(1).and_then(|e| order.get(e)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.threads(filter).await?.len() as u64)
    }

    fn left_out(&self) -> Option<String> {
        let n = (*self.folded.lock().unwrap_or_else(|e| e.into_inner()))?;
        (n > 0).then(|| {
            format!(
                "{n} subgraph namespace{} kept under {} thread (not listed as threads of their own)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "its" } else { "their" }
            )
        })
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self
            .cache
            .get(c, after.is_some(), async {
                let (cp, _, messages) = self.read(c).await?;
                Ok(checkpoint_messages(&self.layout, &cp, &messages))
            })
            .await?;
        Ok(page_of(&all, after, limit))
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        let state = self.state_of(thread).await?;
        let Some(stem) = state.stem else {
            // A shallow saver keeps the latest state only.
            let ops =
                [CacheOp::JsonGet { key: state.latest.clone().into_bytes().into(), path: "$.checkpoint_id".into() }];
            let id = match self.redis.exec(&ops).await?.pop() {
                Some(CacheReply::Value(Some(b))) => match first_json(&b) {
                    Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
                    _ => None,
                },
                _ => None,
            };
            let (ts, m) = self.read_key(&state.latest).await?.unwrap_or_default();
            return Ok(Some(vec![(id.unwrap_or_default(), ts, m.len())]));
        };
        let prefix = format!("{CHECKPOINT_PREFIX}{stem}:");
        let mut ids: Vec<String> =
            scan_all(self.redis.clone(), &format!("{}*", glob_escape(&prefix)), Some("ReJSON-RL"))
                .await?
                .into_iter()
                .filter_map(|k| k.strip_prefix(&prefix).filter(|id| !id.contains(':')).map(str::to_string))
                .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids.iter().rev() {
            let (ts, m) = self.read_key(&format!("{prefix}{id}")).await?.unwrap_or_default();
            out.push((id.clone(), ts, m.len()));
        }
        Ok(Some(out))
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        let state = self.state_of(thread).await?;
        let key = match &state.stem {
            Some(stem) => format!("{CHECKPOINT_PREFIX}{stem}:{id}"),
            // A shallow saver's one checkpoint, if that is the one asked for.
            None => state.latest.clone(),
        };
        let known = match &state.stem {
            Some(_) => true,
            None => self.checkpoints(thread).await?.unwrap_or_default().iter().any(|(c, _, _)| c == id),
        };
        match self.read_key(&key).await? {
            Some((_, m)) if known => Ok(Some(checkpoint_messages(&self.layout, &key, &m))),
            _ => Err(StoreError::Other(format!("no checkpoint `{id}` of thread `{thread}` (no {key})"))),
        }
    }
}

/// langgraph-checkpoint-redis to `detect`: a thread per checkpoint document (named whole,
/// `user:42`: before `:__empty__:{id}`, or a shallow saver's `checkpoint:{thread}:`); a
/// subgraph's namespace is a thread only when its own is not in the sample; its other keys
/// (`checkpoint_write:*`, …) are its bookkeeping.
pub(super) struct LanggraphRedis;

impl Recognise for LanggraphRedis {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LanggraphRedis
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        if k.ktype == "ReJSON-RL"
            && let Some(rest) = k.name.strip_prefix(CHECKPOINT_PREFIX)
        {
            let at = "checkpoint:*".to_string();
            return Some(match (rest.strip_suffix(':'), rest.rfind(&format!("{EMPTY_NS}:"))) {
                (Some(t), _) => Claim::Conversation { at, id: t.into() },
                (None, Some(i)) => Claim::Conversation { at, id: rest[..i].into() },
                (None, None) => Claim::Namespace(rest.rsplit_once(':').map_or(rest, |(t, _)| t).into()),
            });
        }
        k.name.starts_with("checkpoint").then_some(Claim::Bookkeeping)
    }
}
