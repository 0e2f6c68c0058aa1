//! Writing through the tiers: one message or a batch (Firestore first, then Redis, then the vector tier), and the repairs recorded when a tier fails.

use super::*;

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
    /// Not needed, and why.
    Skipped(Skip),
    /// Failed after the long-term write: recorded in the repair queue.
    Queued(String),
}

/// Why a tier's part of a write was not needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No such tier configured (its name).
    NotConfigured(&'static str),
    /// The layer's rule (`vector_roles`, `vector_min_chars`) keeps the message out of the vector tier.
    NotRelevant,
    /// The record already holds this message's text and metadata.
    UpToDate,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::NotConfigured(tier) => write!(f, "no {tier} configured"),
            Skip::NotRelevant => f.write_str("not relevant (role or length)"),
            Skip::UpToDate => f.write_str("already up to date"),
        }
    }
}

/// A batch as the phases see it: one entry per message id (a later line for the same message
/// wins), in first-seen order, and the conversations it touches.
struct Batch {
    msgs: Vec<NewMessage>,
    /// `(conversation, message id)` of `msgs[i]`.
    keys: Vec<(String, String)>,
    convs: Vec<String>,
    /// Indices into `msgs` per conversation.
    per_conv: HashMap<String, Vec<usize>>,
}

impl Batch {
    fn of(messages: Vec<NewMessage>) -> Batch {
        let mut at: HashMap<(String, String), usize> = HashMap::new();
        let (mut msgs, mut keys) = (Vec::new(), Vec::new());
        for m in messages {
            let key = (m.conversation_id.clone(), m.id());
            match at.get(&key) {
                Some(&i) => msgs[i] = m,
                None => {
                    at.insert(key.clone(), msgs.len());
                    msgs.push(m);
                    keys.push(key);
                }
            }
        }
        let mut per_conv: HashMap<String, Vec<usize>> = HashMap::new();
        let mut convs = Vec::new();
        for (i, (c, _)) in keys.iter().enumerate() {
            per_conv
                .entry(c.clone())
                .or_insert_with(|| {
                    convs.push(c.clone());
                    Vec::new()
                })
                .push(i);
        }
        Batch { msgs, keys, convs, per_conv }
    }

    fn len(&self) -> usize {
        self.msgs.len()
    }
}

/// What the phases of one batch learn and leave for the next: each message's outcome and
/// timestamp, the repair entries pending before it, the repairs it queues and settles.
struct Run {
    saved: Vec<Saved>,
    ts: Vec<Ts>,
    now: Ts,
    pending: HashSet<String>,
    not_newest: HashSet<String>,
    repairs: Vec<Repair>,
    settled: Vec<String>,
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
pub(super) fn repair_path(r: &Repair) -> String {
    format!("{REPAIR_COLLECTION}/{}", r.doc_id())
}

impl Repair {
    /// A pending rebuild of a conversation's recent list and session (its id only).
    pub(super) fn redis(conversation: &str) -> Repair {
        Repair {
            tier: "redis".into(),
            conversation_id: conversation.into(),
            message_id: None,
            error: String::new(),
            queued_at: None,
        }
    }

    /// A pending embedding of one message (its id only).
    pub(super) fn vector(conversation: &str, message: &str) -> Repair {
        Repair { message_id: Some(message.into()), tier: "vector".into(), ..Repair::redis(conversation) }
    }

    pub fn doc_id(&self) -> String {
        match &self.message_id {
            Some(m) if self.tier == "vector" => format!("vector~{}~{m}", self.conversation_id),
            _ => format!("{}~{}", self.tier, self.conversation_id),
        }
    }
    pub(super) fn fields(&self) -> Vec<(String, FsValue)> {
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

impl Memory {
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
        let batch = Batch::of(messages);
        progress("long-term");
        let mut run = self.write_long_term(&batch).await?;
        if let Some(redis) = &self.redis {
            progress("redis");
            self.write_redis(&**redis, &batch, &mut run).await;
        }
        let mut embedded = 0;
        if let Some(v) = &self.vector {
            progress("vector");
            embedded = self.write_vectors(v, &batch, &mut run).await?;
        }
        let queued = run.repairs.len();
        self.record_repairs(std::mem::take(&mut run.repairs)).await;
        if !run.settled.is_empty()
            && let Err(e) = self.long_term.delete_many(&run.settled).await
        {
            tracing::warn!(error = %e, n = run.settled.len(), "could not remove settled entries from the repair queue");
        }
        let created = run.saved.iter().filter(|s| s.created).count();
        Ok(BatchReport {
            existing: run.saved.len() - created,
            created,
            conversations: batch.convs.len(),
            embedded,
            queued,
            settled: run.settled.len(),
            saved: run.saved,
        })
    }

    /// The long-term phase: read what exists (messages, conversations, the repair entries the
    /// batch may settle) in one round trip, then write the messages and merge the conversations.
    async fn write_long_term(&self, batch: &Batch) -> Result<Run, StoreError> {
        let mut paths: Vec<String> = batch.keys.iter().map(|(c, m)| message_path(c, m)).collect();
        paths.extend(batch.convs.iter().map(|c| format!("conversations/{c}")));
        let repair_paths: Vec<String> = batch
            .convs
            .iter()
            .map(|c| repair_path(&Repair::redis(c)))
            .chain(batch.keys.iter().map(|(c, m)| repair_path(&Repair::vector(c, m))))
            .collect();
        paths.extend(repair_paths.iter().cloned());
        let existing = self.long_term.get_many(&paths).await?;
        let (msg_docs, rest) = existing.split_at(batch.len());
        let (conv_docs, repair_docs) = rest.split_at(batch.convs.len());
        let pending: HashSet<String> =
            repair_paths.into_iter().zip(repair_docs).filter(|(_, d)| d.is_some()).map(|(p, _)| p).collect();
        let now = Ts::now();
        let mut writes = Vec::with_capacity(batch.len());
        let mut saved = Vec::with_capacity(batch.len());
        let mut ts = Vec::with_capacity(batch.len());
        for (i, old) in msg_docs.iter().enumerate() {
            let (m, (c, id)) = (&batch.msgs[i], &batch.keys[i]);
            let t = m.timestamp.or_else(|| old.as_ref().and_then(|d| d.get("timestamp")?.as_ts())).unwrap_or(now);
            let mut fields = vec![
                ("role".to_string(), FsValue::String(m.role.clone())),
                ("content".to_string(), FsValue::String(m.content.clone())),
                ("timestamp".to_string(), FsValue::Timestamp(t)),
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
            writes.push((message_path(c, id), fields));
            ts.push(t);
            saved.push(Saved {
                message_id: id.clone(),
                created: old.is_none(),
                redis: TierWrite::Skipped(Skip::NotConfigured("Redis")),
                vector: TierWrite::Skipped(Skip::NotConfigured("vector tier")),
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
        let mut run = Run { saved, ts, now, pending, not_newest: HashSet::new(), repairs: vec![], settled: vec![] };
        let merges = batch.convs.iter().zip(conv_docs).map(|(c, old)| self.conversation_merge(batch, &mut run, c, old));
        let merges: Vec<Merge> = merges.collect();
        self.long_term.merge_many(merges).await?;
        self.stats.saved.fetch_add(run.saved.len() as u64, Ordering::Relaxed);
        Ok(run)
    }

    /// What the batch changes in one conversation's document: only the fields it decides (other
    /// writers' fields are kept), the count added by the store so concurrent writers add up, and
    /// `updated_at` / `created_at` moved only forward / backward, by the store, atomically. A
    /// conversation whose newest message is older than what it holds is marked: its session keeps
    /// its last message.
    fn conversation_merge(&self, batch: &Batch, run: &mut Run, c: &str, old: &Option<Document>) -> Merge {
        let idx = &batch.per_conv[c];
        let first = idx.iter().map(|&i| run.ts[i]).min().unwrap_or(run.now);
        let last = idx.iter().map(|&i| run.ts[i]).max().unwrap_or(run.now);
        if old.as_ref().and_then(|d| d.get("updated_at")?.as_ts()).is_some_and(|u| u > last) {
            run.not_newest.insert(c.to_string());
        }
        let new_count = idx.iter().filter(|&&i| run.saved[i].created).count() as i64;
        let has = |k: &str| old.as_ref().is_some_and(|d| d.get(k).is_some());
        let mut set: Vec<(String, FsValue)> = Vec::new();
        if !has("user_id") {
            set.push(("user_id".into(), FsValue::String(batch.msgs[idx[0]].user_id.clone())));
        }
        if let Some(a) = idx.iter().find_map(|&i| batch.msgs[i].agent_id.clone()) {
            set.push(("agent_id".into(), FsValue::String(a)));
        }
        if !has("title")
            && let Some(m) = idx.iter().map(|&i| &batch.msgs[i]).find(|m| m.role == "user")
        {
            let title: String = m.content.lines().next().unwrap_or("").chars().take(60).collect();
            set.push(("title".into(), FsValue::String(title)));
        }
        Merge {
            path: format!("conversations/{c}"),
            set,
            increment: vec![("message_count".into(), new_count)],
            at_least: vec![("updated_at".into(), last)],
            at_most: vec![("created_at".into(), first)],
        }
    }

    /// The Redis phase: per conversation the recent list (merged, ordered, trimmed) and the
    /// session, in pipelines of 500 commands; the conversations from a failed pipeline on are
    /// queued for repair.
    async fn write_redis(&self, redis: &dyn KeyStore, batch: &Batch, run: &mut Run) {
        let mut ops = Vec::with_capacity(batch.convs.len() * 2);
        for c in &batch.convs {
            let idx = &batch.per_conv[c.as_str()];
            let items = idx
                .iter()
                .map(|&i| {
                    let m = &batch.msgs[i];
                    RecentMessage {
                        message_id: batch.keys[i].1.clone(),
                        role: m.role.clone(),
                        content: m.content.clone(),
                        timestamp: run.ts[i].to_rfc3339_micros().into(),
                        user_id: Some(m.user_id.clone()),
                    }
                    .json()
                })
                .collect();
            ops.push(CacheOp::MergeRecent { key: recent_key(c), items, keep: self.cfg.recent_messages });
            let last = *idx.iter().max_by_key(|&&i| (run.ts[i], &batch.keys[i].1)).expect("≥1");
            let last_m = &batch.msgs[last];
            let mut fields = vec![(b"user_id".to_vec(), last_m.user_id.clone().into_bytes())];
            if !run.not_newest.contains(c) {
                fields.push((b"last_message_id".to_vec(), batch.keys[last].1.clone().into_bytes()));
                fields.push((b"last_active".to_vec(), run.ts[last].to_rfc3339_micros().into_bytes()));
            }
            if let Some(a) = &last_m.agent_id {
                fields.push((b"agent_id".to_vec(), a.clone().into_bytes()));
            }
            ops.push(CacheOp::HSet { key: session_key(c), fields, ttl_s: self.cfg.session_ttl_s });
        }
        // Two commands a conversation: a failed pipeline of 500 fails from conversation i × 250.
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
                for c in &batch.convs[*from..] {
                    run.repairs.push(Repair {
                        tier: "redis".into(),
                        conversation_id: c.clone(),
                        message_id: None,
                        error: e.clone(),
                        queued_at: Some(run.now),
                    });
                }
                batch.convs[*from..].iter().map(String::as_str).collect()
            }
            None => HashSet::new(),
        };
        for ((c, _), s) in batch.keys.iter().zip(run.saved.iter_mut()) {
            s.redis = match &failed_from {
                Some((_, e)) if failed.contains(c.as_str()) => TierWrite::Queued(e.clone()),
                _ => TierWrite::Written,
            };
        }
        // A conversation written now settles what an earlier run left pending for it.
        let settled: Vec<String> = batch
            .convs
            .iter()
            .filter(|c| !failed.contains(c.as_str()))
            .map(|c| repair_path(&Repair::redis(c)))
            .filter(|p| run.pending.contains(p))
            .collect();
        run.settled.extend(settled);
    }

    /// The vector phase: relevant messages whose record is missing or out of date are embedded
    /// and upserted; those a failure left unwritten are queued for repair. Returns how many
    /// were embedded.
    async fn write_vectors(&self, v: &VectorTier, batch: &Batch, run: &mut Run) -> Result<usize, StoreError> {
        let mut items = Vec::new();
        for (i, ((c, id), s)) in batch.keys.iter().zip(run.saved.iter_mut()).enumerate() {
            let m = &batch.msgs[i];
            if !self.is_relevant(&m.role, &m.content) {
                s.vector = TierWrite::Skipped(Skip::NotRelevant);
                continue;
            }
            items.push(text_item(c, id, &m.user_id, &m.role, run.ts[i], &m.content));
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
        let failed: HashMap<String, String> = match r {
            Ok(_) => HashMap::new(),
            Err(e) => items[done..].iter().map(|i| (i.id.clone(), e.to_string())).collect(),
        };
        for ((c, id), s) in batch.keys.iter().zip(run.saved.iter_mut()) {
            if s.vector == TierWrite::Skipped(Skip::NotRelevant) {
                continue;
            }
            let vid = vector_id(c, id);
            s.vector = if let Some(e) = failed.get(&vid) {
                run.repairs.push(Repair {
                    tier: "vector".into(),
                    conversation_id: c.clone(),
                    message_id: Some(id.clone()),
                    error: e.clone(),
                    queued_at: Some(run.now),
                });
                TierWrite::Queued(e.clone())
            } else if todo.contains(&vid) {
                TierWrite::Written
            } else {
                TierWrite::Skipped(Skip::UpToDate)
            };
            let p = repair_path(&Repair::vector(c, id));
            if !matches!(s.vector, TierWrite::Queued(_)) && run.pending.contains(&p) {
                run.settled.push(p);
            }
        }
        Ok(done)
    }

    pub(super) async fn record_repairs(&self, repairs: Vec<Repair>) {
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

    /// The repair queue, page by page (`after` = the last document path of the previous page).
    pub async fn repairs(&self, after: Option<&str>, limit: u32) -> Result<(Vec<(String, Repair)>, bool), StoreError> {
        let cursor = after.map(|p| crate::domain::Cursor::After { values: vec![], path: p.to_string() });
        let page = self.long_term.documents(REPAIR_COLLECTION, cursor.as_ref(), limit).await?;
        let more = page.next.is_some();
        Ok((page.items.iter().filter_map(|d| Some((d.path.clone(), Repair::from_doc(d)?))).collect(), more))
    }
}
