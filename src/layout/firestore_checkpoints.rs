//! LangGraph checkpoints in Firestore.

use super::recognise::{CollectionClaim, CollectionSample, Recognise};
use super::*;

/// langgraph-checkpoint-firestore: `{collection}/{thread}_{ns}` (a document that does not
/// exist) holds `checkpoints/{checkpoint_id}`, each with `checkpoint` = base64 msgpack of the
/// whole state; ids sort by time, so the newest is the last by name. `thread@ID` reads another.
pub(super) struct FirestoreCheckpoints {
    pub(super) store: Arc<dyn LongTermStore>,
    pub(super) layout: LayoutConfig,
    pub(super) cache: ThreadCache<Vec<Message>>,
    /// The listing's order (order keys) for a filter, reused by the pages that follow it.
    pub(super) order: std::sync::Mutex<Option<ListingOrder>>,
    /// Threads listed by id because there were more than [`ORDER_CAP`].
    pub(super) by_id: std::sync::Mutex<Option<usize>>,
}

/// A listing's order keys for one filter, and when they were read.
pub(super) type ListingOrder = (String, std::time::Instant, Arc<Vec<String>>);

/// Ordering threads newest first reads each one's newest checkpoint id (one small query a
/// thread, 16 at a time — on Firestore, one billed read each); past this many threads they are
/// listed by id, and the list says so.
pub(super) const ORDER_CAP: usize = 500;

/// How long an order serves the listings that follow (pages, the live refresh) before the
/// threads' newest checkpoints are read again: a new checkpoint moves its thread up within this.
pub(super) const ORDER_TTL_MS: u128 = 30_000;

impl FirestoreCheckpoints {
    /// A listed thread from its document's id: `{thread}_` is the default namespace.
    pub(super) fn thread_of(doc_id: &str) -> String {
        doc_id.strip_suffix('_').unwrap_or(doc_id).to_string()
    }

    /// A listed thread's checkpoints collection and its newest checkpoint. The thread id is
    /// taken whole (`bob@example.com`, `user_42`): `{thread}_` (the default namespace) if it
    /// holds checkpoints, else the listed id itself (`{thread}_{ns}`).
    pub(super) async fn newest(&self, thread: &str) -> Result<(String, Document), StoreError> {
        let tried = [format!("{thread}_"), thread.to_string()];
        for doc_id in &tried {
            let coll = format!("{}/{doc_id}/checkpoints", self.layout.collection);
            if let Some(d) = self.store.last_documents(&coll, "checkpoint_id", 1).await?.pop() {
                return Ok((coll, d));
            }
        }
        Err(StoreError::Other(format!("no checkpoint under {}/{}/checkpoints", self.layout.collection, tried[0])))
    }

    /// The state a checkpoint document holds: `{v, ts, id, channel_values: {messages…}}`.
    pub(super) fn state(&self, doc: &Document) -> Value {
        let raw = doc.get("checkpoint").and_then(FsValue::as_str).unwrap_or("");
        match doc.get("type").and_then(FsValue::as_str) {
            Some("msgpack") | None => crate::msgpack::from_base64(raw).unwrap_or(Value::Null),
            Some(_) => first_json(raw.as_bytes()).unwrap_or(Value::Null),
        }
    }

    pub(super) fn messages_of(&self, doc: &Document) -> (Option<Ts>, Vec<Message>) {
        let state = self.state(doc);
        let ts = state.get("ts").and_then(Value::as_str).and_then(Ts::parse);
        let messages = match state.pointer("/channel_values/messages") {
            Some(Value::Array(m)) => checkpoint_messages(&self.layout, &doc.path, m),
            _ => Vec::new(),
        };
        (ts, messages)
    }

    pub(super) async fn threads(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.browse_documents(&self.layout.collection, after.as_ref(), 300).await?;
            out.extend(
                page.items
                    .iter()
                    .map(|d| Self::thread_of(d.id()))
                    .filter(|t| prefix.as_ref().is_none_or(|p| t.starts_with(p.as_str()))),
            );
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// When a thread's newest checkpoint was written, from its id (LangGraph's ids are
    /// time-ordered UUIDs), in microseconds: that field alone is read.
    pub(super) async fn newest_time(&self, thread: &str) -> Result<Option<i64>, StoreError> {
        for doc_id in [format!("{thread}_"), thread.to_string()] {
            let coll = format!("{}/{doc_id}/checkpoints", self.layout.collection);
            if let Some(id) = self.store.last_document_id(&coll, "checkpoint_id").await? {
                return Ok(uuid_time_ms(&id).map(|ms| ms * 1000));
            }
        }
        Ok(None)
    }

    /// The threads as order keys, newest first (by id past [`ORDER_CAP`]); kept
    /// [`ORDER_TTL_MS`] for the pages and refreshes that follow.
    pub(super) async fn ordered(&self, filter: &ConvFilter) -> Result<Arc<Vec<String>>, StoreError> {
        use futures_util::StreamExt;
        let key = format!("{filter:?}");
        if let Some((k, at, order)) = &*self.order.lock().unwrap_or_else(|e| e.into_inner())
            && *k == key
            && at.elapsed().as_millis() < ORDER_TTL_MS
        {
            return Ok(order.clone());
        }
        let threads = self.threads(filter).await?;
        let order = if threads.len() <= ORDER_CAP {
            let times: Vec<Result<Option<i64>, StoreError>> = futures_util::stream::iter(
                threads.clone().into_iter().map(|t| async move { self.newest_time(&t).await }),
            )
            .buffered(16)
            .collect()
            .await;
            let times = times.into_iter().collect::<Result<Vec<_>, _>>()?;
            *self.by_id.lock().unwrap_or_else(|e| e.into_inner()) = None;
            newest_first(threads.into_iter().zip(times))
        } else {
            *self.by_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(threads.len());
            newest_first(threads.into_iter().map(|t| (t, None)))
        };
        let order = Arc::new(order);
        *self.order.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, std::time::Instant::now(), order.clone()));
        Ok(order)
    }

    /// A thread's checkpoints, newest first: (id, time, message count).
    pub async fn history(&self, thread: &str) -> Result<Vec<(String, Option<Ts>, usize)>, StoreError> {
        let (coll, _) = self.newest(thread).await?;
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.documents(&coll, after.as_ref(), 100).await?;
            for d in &page.items {
                let (ts, m) = self.messages_of(d);
                out.push((d.id().to_string(), ts, m.len()));
            }
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        out.reverse();
        Ok(out)
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreCheckpoints {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let order = self.ordered(filter).await?;
        let start = start_after(&order, after);
        let mut items = Vec::new();
        for key in order[start..].iter().take(limit as usize) {
            let id = &id_of_order_key(key).to_string();
            let (_, doc) = self.newest(id).await?;
            let (ts, messages) = self.messages_of(&doc);
            items.push(Conversation {
                id: id.clone(),
                title: title_from(&messages[..messages.len().min(TITLE_LOOK)]),
                user_id: None,
                agent_id: None,
                created_at: None,
                updated_at: ts.or(doc.update_time),
                message_count: Some(messages.len() as i64),
                doc: Document { path: doc.path, fields: Vec::new(), update_time: doc.update_time },
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
        let n = (*self.by_id.lock().unwrap_or_else(|e| e.into_inner()))?;
        Some(format!(
            "{n} threads listed by id, not newest first: ordering more than {} reads each one's newest checkpoint",
            crate::text::num(ORDER_CAP as u64)
        ))
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all =
            self.cache.get(c, after.is_some(), async { Ok(self.messages_of(&self.newest(c).await?.1).1) }).await?;
        Ok(page_of(&all, after, limit))
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        self.history(thread).await.map(Some)
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        let (coll, _) = self.newest(thread).await?;
        match self.store.document(&format!("{coll}/{id}")).await? {
            Some(doc) => Ok(Some(self.messages_of(&doc).1)),
            None => Err(StoreError::Other(format!("no checkpoint under {coll}/{id}"))),
        }
    }
}

/// langgraph-checkpoint-firestore to `detect`: thread documents `{thread}_{ns}` that do not
/// exist and hold `checkpoints`.
pub(super) struct LanggraphFirestore;

impl Recognise for LanggraphFirestore {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LanggraphFirestore
    }

    fn collection(&self, c: &CollectionSample) -> Option<CollectionClaim> {
        let threads = c
            .children?
            .iter()
            .filter(|(d, under)| {
                d.fields.is_empty() && d.update_time.is_none() && under.iter().any(|c| c == "checkpoints")
            })
            .count() as u64;
        (threads > 0).then_some(CollectionClaim::Holds(threads))
    }

    fn config_lines(&self, at: &str) -> String {
        super::firestore::collection_lines(self.preset(), at)
    }
}
