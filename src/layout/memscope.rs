//! memscope's own layout, read through the long-term store's ordered queries.

use super::recognise::{Claim, CollectionClaim, CollectionSample, Recognise, SampledKey};
use super::*;

/// memscope's own layout: the long-term store's conversations and messages.
pub(super) struct Memscope(pub(super) Arc<dyn LongTermStore>);

#[async_trait::async_trait]
impl ConversationReader for Memscope {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Memscope
    }
    /// The documents, then the conversations whose messages have no document (Firestore's
    /// "missing" parents; a query never returns them), by id. Those have no fields: they are
    /// listed when the filter can match them (all, or an id prefix).
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let phantoms_match = matches!(filter, ConvFilter::All | ConvFilter::IdPrefix(_));
        if let Some(Cursor::Phantoms(at)) = after {
            return self.phantoms(filter, at.as_deref(), limit).await;
        }
        let page = self.0.conversations(filter, after, limit).await?;
        if page.next.is_none() && phantoms_match {
            return Ok(Page { items: page.items, next: Some(Cursor::Phantoms(None)) });
        }
        Ok(page)
    }
    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        self.0.count_conversations(filter).await
    }
    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        self.0.messages(c, after, limit).await
    }
}

impl Memscope {
    /// A page of the conversations that have messages but no document, browsed by id from `at`.
    pub(super) async fn phantoms(
        &self,
        filter: &ConvFilter,
        at: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let mut items = Vec::new();
        let mut at = at.cloned();
        loop {
            let page = self.0.browse_documents("conversations", at.as_ref(), 300).await?;
            for d in page.items {
                let phantom = d.fields.is_empty() && d.update_time.is_none();
                let wanted = match filter {
                    ConvFilter::IdPrefix(p) => d.id().starts_with(p.as_str()),
                    _ => true,
                };
                if phantom && wanted {
                    items.push(Conversation::from_doc(d));
                }
            }
            at = page.next;
            if at.is_none() || items.len() >= limit as usize {
                break;
            }
        }
        Ok(Page { items, next: at.map(|c| Cursor::Phantoms(Some(Box::new(c)))) })
    }
}

/// memscope's own layout to `detect`: its recent lists in Redis, `conversations` in the
/// long-term store.
pub(super) struct Own;

impl Recognise for Own {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Memscope
    }

    fn redis_key(&self, k: &SampledKey) -> Option<Claim> {
        (k.first.is_some() && k.name.starts_with("conversation:") && k.name.ends_with(":messages"))
            .then(|| Claim::Conversation { at: "conversation:*:messages".into(), id: k.name.into() })
    }

    fn collection(&self, c: &CollectionSample) -> Option<CollectionClaim> {
        (c.path == "conversations").then_some(CollectionClaim::Count)
    }
}
