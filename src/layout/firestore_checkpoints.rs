//! LangGraph checkpoints in Firestore.

use super::*;

/// langgraph-checkpoint-firestore: `{collection}/{thread}_{ns}` (a document that does not
/// exist) holds `checkpoints/{checkpoint_id}`, each with `checkpoint` = base64 msgpack of the
/// whole state; ids sort by time, so the newest is the last by name. `thread@ID` reads another.
pub(super) struct FirestoreCheckpoints {
    pub(super) store: Arc<dyn LongTermStore>,
    pub(super) layout: LayoutConfig,
    pub(super) cache: ThreadCache<Vec<Message>>,
}

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
        let ids = self.threads(filter).await?;
        let start = start_after(&ids, after);
        let mut items = Vec::new();
        for id in ids[start..].iter().take(limit as usize) {
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
        let next = cursor_after(end, ids.len(), items.last().map(|c| &c.id));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.threads(filter).await?.len() as u64)
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
