//! Conversations as Firestore documents: a messages array (langchain-google-firestore) or a subcollection under renamed fields; collection patterns (`users/*/chats`).

use super::recognise::{CollectionClaim, CollectionSample, Recognise};
use super::*;

/// A page of conversations that are documents of a collection (`browse`: with the documents
/// that do not exist but hold subcollections), filtered.
pub(super) async fn documents_as_conversations(
    store: &dyn LongTermStore,
    collection: &str,
    browse: bool,
    filter: &ConvFilter,
    after: Option<&Cursor>,
    limit: u32,
    to: impl Fn(Document) -> Conversation,
) -> Result<Page<Conversation>, StoreError> {
    let page = match crate::domain::CollectionPattern::parse(collection).map_err(StoreError::Other)? {
        Some(pattern) => store.group_documents(&pattern, after, limit).await?,
        None if browse => store.browse_documents(collection, after, limit).await?,
        None => store.documents(collection, after, limit).await?,
    };
    let items = page.items.into_iter().map(to).filter(|c| keeps(filter, c)).collect();
    Ok(Page { items, next: page.next })
}

/// A conversation's name: its document's id, or under a collection pattern (`users/*/chats`)
/// its `*` segments and id (`u-42/s1`).
pub(super) fn conversation_id(collection: &str, doc: &Document) -> String {
    match crate::domain::CollectionPattern::parse(collection) {
        Ok(Some(p)) => p.id_of(&doc.path).unwrap_or_else(|| doc.path.clone()),
        _ => doc.id().to_string(),
    }
}

/// The document path of a conversation ([`conversation_id`] reversed).
pub(super) fn conversation_path(collection: &str, id: &str) -> Result<String, StoreError> {
    match crate::domain::CollectionPattern::parse(collection).map_err(StoreError::Other)? {
        Some(p) => p.path_of(id).ok_or_else(|| {
            StoreError::Other(format!(
                "`{id}` names no conversation under `{collection}`: one `/`-separated part per `*`, then the document id"
            ))
        }),
        None => Ok(format!("{collection}/{id}")),
    }
}

/// How many conversations of a collection pass the filter (read page after page).
pub(super) async fn count_conversations_in(
    store: &dyn LongTermStore,
    collection: &str,
    browse: bool,
    filter: &ConvFilter,
    to: impl Fn(Document) -> Conversation,
) -> Result<u64, StoreError> {
    let (mut n, mut after) = (0u64, None);
    loop {
        let page = documents_as_conversations(store, collection, browse, filter, after.as_ref(), 300, &to).await?;
        n += page.items.len() as u64;
        match page.next {
            Some(c) => after = Some(c),
            None => return Ok(n),
        }
    }
}

/// langchain-google-firestore (and any layout keeping a thread in an array field): one
/// document per session, its messages JSON (bytes or strings), msgpack or maps; no ids, no
/// timestamps unless the layout names them.
pub(super) struct FirestoreArray {
    pub(super) store: Arc<dyn LongTermStore>,
    pub(super) layout: LayoutConfig,
    pub(super) cache: ThreadCache<Vec<Message>>,
}

impl FirestoreArray {
    pub(super) fn items(&self, doc: &Document) -> Vec<Value> {
        match doc.get(&self.layout.messages_field) {
            Some(FsValue::Array(a)) => a
                .iter()
                .map(|v| match v {
                    FsValue::Bytes(b) => decode_item(&self.layout, b),
                    FsValue::String(s) => decode_item(&self.layout, s.as_bytes()),
                    FsValue::Map(m) => crate::domain::fields_json(m),
                    other => other.to_json(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn conversation(&self, doc: Document) -> Conversation {
        let path = doc.path.clone();
        let items = self.items(&doc);
        let heads: Vec<Message> =
            items.iter().take(TITLE_LOOK).enumerate().map(|(i, m)| positional(&self.layout, &path, i, m)).collect();
        let first = heads.first();
        let fields = crate::domain::fields_json(&doc.fields);
        let get = |p: &Option<String>| p.as_deref().and_then(|p| at_path(&fields, p)).and_then(|v| text_of(&v));
        Conversation {
            id: conversation_id(&self.layout.collection, &doc),
            title: title_from(&heads),
            user_id: get(&self.layout.fields.user).or_else(|| first.and_then(|m| m.user_id.clone())),
            agent_id: get(&self.layout.fields.agent),
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
        let to = |d| self.conversation(d);
        documents_as_conversations(&*self.store, &self.layout.collection, false, filter, after, limit, to).await
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        count_conversations_in(&*self.store, &self.layout.collection, false, filter, |d| self.conversation(d)).await
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self
            .cache
            .get(c, after.is_some(), async {
                let path = conversation_path(&self.layout.collection, c)?;
                let Some(doc) = self.store.document(&path).await? else {
                    return Err(StoreError::Other(format!("no document {path}")));
                };
                Ok(self.items(&doc).iter().enumerate().map(|(i, v)| positional(&self.layout, &path, i, v)).collect())
            })
            .await?;
        Ok(page_of(&all, after, limit))
    }
}

/// Conversations as documents with their messages in a subcollection, under the names a
/// profile gives (`collection`, `messages_field`, the field paths): the shape of memscope's
/// own layout written by someone else (`updatedAt`, `createdAt`, no timestamps…). The store
/// cannot order by names it does not know, so a thread is read whole (by document id) and
/// ordered by its timestamps here — at most [`THREAD_CAP`] messages, the rest said so.
pub(super) struct FirestoreDocs {
    pub(super) store: Arc<dyn LongTermStore>,
    pub(super) layout: LayoutConfig,
    /// The time field found for each thread (looked for once, on its first page).
    pub(super) time_fields: std::sync::Mutex<std::collections::HashMap<String, String>>,
    pub(super) cache: ThreadCache<Vec<Message>>,
}

/// Messages read of one thread under a renamed layout, at most.
pub const THREAD_CAP: usize = 100_000;

/// The names a conversation document's parts have when the layout does not say.
pub(super) const UPDATED: [&str; 4] = ["updated_at", "updatedAt", "last_updated", "lastUpdated"];
pub(super) const CREATED: [&str; 3] = ["created_at", "createdAt", "created"];
pub(super) const MESSAGE_TIME: [&str; 5] = ["timestamp", "created_at", "createdAt", "ts", "time"];

impl FirestoreDocs {
    pub(super) fn conversation(&self, doc: Document) -> Conversation {
        let v = crate::domain::fields_json(&doc.fields);
        let pick = |names: &[&str]| names.iter().find_map(|n| v.get(*n)).and_then(ts_of);
        let text = |p: &Option<String>, d: &str| at_path(&v, p.as_deref().unwrap_or(d)).and_then(|x| text_of(&x));
        Conversation {
            id: conversation_id(&self.layout.collection, &doc),
            title: ["title", "name", "summary"].iter().find_map(|n| v.get(*n)).and_then(text_of),
            user_id: text(&self.layout.fields.user, "user_id"),
            agent_id: text(&self.layout.fields.agent, "agent_id"),
            created_at: pick(&CREATED),
            updated_at: pick(&UPDATED).or(doc.update_time),
            message_count: v.get("message_count").and_then(Value::as_i64),
            doc,
        }
    }

    /// The field holding a message's time: the layout's, or the usual name most of the thread's
    /// first 20 messages (by id) have; none found, "timestamp" (every message untimed).
    pub(super) async fn time_field(&self, c: &str) -> Result<String, StoreError> {
        if let Some(f) = &self.layout.fields.timestamp {
            return Ok(f.clone());
        }
        if let Some(f) = self.time_fields.lock().ok().and_then(|m| m.get(c).cloned()) {
            return Ok(f);
        }
        let coll = format!("{}/{c}/{}", self.layout.collection, self.layout.messages_field);
        let sample = self.store.documents(&coll, None, 20).await?.items;
        let best = MESSAGE_TIME
            .iter()
            .map(|n| (sample.iter().filter(|d| d.get(n).is_some()).count(), *n))
            .filter(|(k, _)| *k > 0)
            .max_by_key(|(k, _)| *k);
        let f = best.map(|(_, n)| n.to_string()).unwrap_or_else(|| "timestamp".into());
        if let Ok(mut m) = self.time_fields.lock() {
            m.insert(c.to_string(), f.clone());
        }
        Ok(f)
    }

    /// A message document under the layout's names, with its time.
    pub(super) fn message(&self, d: Document, ts: Option<Ts>) -> Message {
        let v = crate::domain::fields_json(&d.fields);
        let mut m = message_of(&self.layout, d.path.clone(), d.id().to_string(), ts, &v);
        m.timestamp = ts.or(m.timestamp);
        m.ts_form = if m.timestamp.is_some() { TsForm::UnixNumber } else { TsForm::Missing };
        m.doc = d;
        m
    }

    pub(super) async fn thread(&self, c: &str) -> Result<Vec<Message>, StoreError> {
        let coll = format!("{}/{c}/{}", self.layout.collection, self.layout.messages_field);
        let (mut docs, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.documents(&coll, after.as_ref(), 500).await?;
            docs.extend(page.items);
            match page.next {
                Some(c) if docs.len() < THREAD_CAP => after = Some(c),
                Some(_) => {
                    return Err(StoreError::Other(format!(
                        "{coll} holds more than {THREAD_CAP} messages: a renamed layout orders a thread in memory; read it with `memscope show --json` in pages or keep memscope's names"
                    )));
                }
                None => break,
            }
        }
        let mut msgs: Vec<Message> = docs
            .into_iter()
            .map(|d| {
                let v = crate::domain::fields_json(&d.fields);
                let ts = match &self.layout.fields.timestamp {
                    Some(p) => at_path(&v, p).as_ref().and_then(ts_of),
                    None => MESSAGE_TIME.iter().find_map(|n| v.get(*n)).and_then(ts_of),
                };
                let mut m = message_of(&self.layout, d.path.clone(), d.id().to_string(), ts, &v);
                if let Some(t) = ts {
                    m.timestamp = Some(t);
                    m.ts_form = TsForm::UnixNumber;
                }
                m.doc = d;
                m
            })
            .collect();
        // Timed messages by time (then id), then the untimed in id order — as memscope's own.
        msgs.sort_by(|a, b| match (a.timestamp, b.timestamp) {
            (Some(x), Some(y)) => x.cmp(&y).then(a.id.cmp(&b.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.id.cmp(&b.id),
        });
        Ok(msgs)
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreDocs {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let to = |d| self.conversation(d);
        documents_as_conversations(&*self.store, &self.layout.collection, true, filter, after, limit, to).await
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        count_conversations_in(&*self.store, &self.layout.collection, true, filter, |d| self.conversation(d)).await
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        // A store that orders by the layout's time field pages the thread itself (Firestore).
        let place = ThreadPlace {
            conversation: conversation_path(&self.layout.collection, c)?,
            messages: self.layout.messages_field.clone(),
            ts_field: self.time_field(c).await?,
        };
        if let Some(page) = self.store.messages_at(&place, after, limit).await? {
            let items = page.items.into_iter().map(|m| self.message(m.doc, m.timestamp)).collect();
            return Ok(Page { items, next: page.next });
        }
        let all = self.cache.get(c, after.is_some(), self.thread(c)).await?;
        Ok(page_of(&all, after, limit))
    }
}

/// langchain-google-firestore to `detect`: documents whose `messages` array holds LangChain
/// messages (JSON, as bytes or strings), in a collection of any depth.
pub(super) struct LangchainFirestore;

impl Recognise for LangchainFirestore {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::LangchainFirestore
    }

    fn collection(&self, c: &CollectionSample) -> Option<CollectionClaim> {
        let chats = c
            .docs
            .iter()
            .filter(|d| {
                let raw = match d.get("messages") {
                    Some(FsValue::Array(a)) => match a.first() {
                        Some(FsValue::Bytes(b)) => b.clone(),
                        Some(FsValue::String(s)) => s.clone().into_bytes(),
                        _ => return false,
                    },
                    _ => return false,
                };
                first_json(&raw).is_some_and(|v| v.get("type").is_some())
            })
            .count() as u64;
        (chats > 0).then_some(CollectionClaim::Holds(chats))
    }

    fn config_lines(&self, at: &str) -> String {
        collection_lines(self.preset(), at)
    }
}

/// The lines for a preset found in another collection than its own.
pub(super) fn collection_lines(p: LayoutPreset, at: &str) -> String {
    let mut c = format!("preset = \"{}\"", p.name());
    if at != LayoutConfig::preset(p).collection {
        c.push_str(&format!("\ncollection = \"{at}\""));
    }
    c
}
