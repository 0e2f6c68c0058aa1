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
