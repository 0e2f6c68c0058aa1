//! The semantic-search pipeline shared by the Search tab and `memscope search`: embed the query
//! (cached), check the embedder's dimension against the index's, query, and time each step.
//! And `from_texts`: embed and upsert texts in batches (`memscope index`, the memory layer).

use crate::domain::{Metadata, QueryResult, VectorQuery, VectorRecord};
use crate::embed::{Embedder, InputType, check_dimension};
use crate::error::StoreError;
use crate::store::VectorStore;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub text: String,
    pub top_k: u32,
    pub namespace: String,
    pub filter: Option<serde_json::Value>,
    pub include_values: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchOutcome {
    pub result: QueryResult,
    pub embed_ms: f64,
    pub query_ms: f64,
    pub total_ms: f64,
}

pub use crate::embed::{NO_EMBEDDER, QueryEmbedder};

/// Embed `text` and query; the dimension is checked against the index's before querying.
/// An index that embeds for itself (integrated inference) gets the text and no embedder is used.
pub async fn search(
    store: &dyn VectorStore,
    embedder: QueryEmbedder<'_>,
    index_dimension: Option<usize>,
    p: &SearchParams,
) -> Result<SearchOutcome, StoreError> {
    let t0 = Instant::now();
    if let Some(result) = store.search_text(&p.text, p.top_k, &p.namespace, p.filter.as_ref()).await? {
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        return Ok(SearchOutcome { result, embed_ms: 0.0, query_ms: ms, total_ms: ms });
    }
    let embedder = embedder.map_err(|why| StoreError::NotConfigured(why.to_string()))?;
    let v = embedder
        .embed(std::slice::from_ref(&p.text), InputType::Query)
        .await?
        .pop()
        .ok_or_else(|| StoreError::Server("the embedder returned no vector".into()))?;
    let embed_ms = t0.elapsed().as_secs_f64() * 1e3;
    if let Some(d) = index_dimension {
        check_dimension(v.len(), d)?;
    }
    let t1 = Instant::now();
    let result = store
        .query(&VectorQuery {
            vector: Some(v),
            id: None,
            top_k: p.top_k,
            namespace: p.namespace.clone(),
            filter: p.filter.clone(),
            include_values: p.include_values,
            include_metadata: true,
        })
        .await?;
    let query_ms = t1.elapsed().as_secs_f64() * 1e3;
    Ok(SearchOutcome { result, embed_ms, query_ms, total_ms: t0.elapsed().as_secs_f64() * 1e3 })
}

/// One text to index.
#[derive(Debug, Clone, PartialEq)]
pub struct TextItem {
    pub id: String,
    pub text: String,
    pub metadata: Metadata,
}

impl TextItem {
    /// The record of this text with its embedding: the text is stored in metadata under `text_field`.
    pub fn record(&self, values: Vec<f32>, text_field: &str) -> VectorRecord {
        let mut metadata = self.metadata.clone();
        metadata.insert(text_field.to_string(), serde_json::Value::String(self.text.clone()));
        VectorRecord { id: self.id.clone(), values, metadata }
    }
}

/// Embed and upsert texts in batches; the text is stored in metadata under `text_field`.
/// `progress` is called with the number done after each batch.
pub async fn from_texts(
    store: &dyn VectorStore,
    embedder: &dyn Embedder,
    items: Vec<TextItem>,
    namespace: &str,
    text_field: &str,
    batch: usize,
    mut progress: impl FnMut(usize),
) -> Result<u64, StoreError> {
    let mut done = 0usize;
    let mut written = 0u64;
    for chunk in items.chunks(batch.max(1)) {
        let texts: Vec<String> = chunk.iter().map(|i| i.text.clone()).collect();
        let vectors = embedder.embed(&texts, InputType::Passage).await?;
        let records: Vec<VectorRecord> = chunk.iter().zip(vectors).map(|(i, v)| i.record(v, text_field)).collect();
        written += store.upsert(records, namespace).await?;
        done += chunk.len();
        progress(done);
    }
    Ok(written)
}

/// The answer to "why did `id` not match?".
#[derive(Debug, Clone, PartialEq)]
pub struct WhyNot {
    pub id: String,
    /// The record exists in this namespace.
    pub found: bool,
    /// Its metadata passes the filter.
    pub passes_filter: bool,
    /// Its score for this query (the metric's own scale).
    pub score: Option<f32>,
    /// 1-based rank among all vectors the filter admits (up to `limit`), if within it.
    pub rank: Option<usize>,
    pub limit: usize,
}

/// Score and rank one id for a query: fetch its vector, score it with the index's metric, and
/// count how many admitted vectors score better (querying up to `limit` results).
pub async fn why_not(
    store: &dyn VectorStore,
    embedder: QueryEmbedder<'_>,
    p: &SearchParams,
    id: &str,
    limit: usize,
) -> Result<WhyNot, StoreError> {
    let recs = store.fetch(&[id.to_string()], &p.namespace).await?;
    let Some(rec) = recs.into_iter().next() else {
        return Ok(WhyNot { id: id.into(), found: false, passes_filter: false, score: None, rank: None, limit });
    };
    let passes_filter = match &p.filter {
        Some(f) => crate::filter::from_json(f).map(|f| crate::filter::matches(&f, &rec.metadata)).unwrap_or(false),
        None => true,
    };
    let wide = SearchParams { top_k: limit as u32, ..p.clone() };
    let out = search(store, embedder, Some(rec.values.len()), &wide).await?;
    let pos = out.result.matches.iter().position(|m| m.id == id);
    let score = pos.map(|i| out.result.matches[i].score);
    // Outside the window (or filtered out): score it directly, unfiltered.
    let score = match score {
        Some(s) => Some(s),
        None => {
            let unfiltered = SearchParams { top_k: limit as u32, filter: None, ..p.clone() };
            let o = search(store, embedder, Some(rec.values.len()), &unfiltered).await?;
            o.result.matches.iter().find(|m| m.id == id).map(|m| m.score)
        }
    };
    Ok(WhyNot { id: id.into(), found: true, passes_filter, score, rank: pos.map(|i| i + 1), limit })
}
