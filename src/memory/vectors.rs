//! The vector tier through the layer: upserts, queries, embedding messages, and checking a stored vector's metadata against its message.

use super::*;

impl Memory {
    pub(super) fn vector_tier(&self) -> Result<&VectorTier, StoreError> {
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
