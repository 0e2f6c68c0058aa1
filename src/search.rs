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

/// Does the configured embedder make the vectors this index holds? Stored texts re-embedded and
/// compared with their stored vectors: the same model gives cosine ≈ 1 (a different one, near 0
/// or anything in between). `sampled` records had a text and a vector.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedderCheck {
    pub embedder: String,
    pub sampled: usize,
    pub median: f32,
    /// Records whose self-check disagrees with the median's verdict: an index that mixes models.
    pub disagree: usize,
    /// The stored vectors' dimension when it is not the embedder's (nothing could be compared).
    pub other_dimension: Option<(usize, usize)>,
}

/// How close a re-embedded text must be to its stored vector to count as the same model.
pub const SAME_MODEL_COSINE: f32 = 0.98;

impl EmbedderCheck {
    pub fn same_model(&self) -> bool {
        self.median >= SAME_MODEL_COSINE
    }

    /// The verdict in a line, for the Search header and `memscope search`.
    pub fn said(&self) -> String {
        let mixed = if self.disagree > 0 {
            format!(
                "; {} of {} records disagree: the index mixes models (re-index after switching models)",
                self.disagree, self.sampled
            )
        } else {
            String::new()
        };
        if let Some((stored, ours)) = self.other_dimension {
            return format!(
                "these vectors were not made by {}: they have {stored} dimensions, its {ours} ({} records)",
                self.embedder, self.sampled
            );
        }
        if self.same_model() {
            format!(
                "embedder checked: {} made these vectors (median cosine {:.2} over {} records){mixed}",
                self.embedder, self.median, self.sampled
            )
        } else {
            format!(
                "these vectors were not made by {} (median cosine {:.2} over {} records): results rank by another model's meaning{mixed}",
                self.embedder, self.median, self.sampled
            )
        }
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut d, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        d += (*x as f64) * (*y as f64);
        na += (*x as f64) * (*x as f64);
        nb += (*y as f64) * (*y as f64);
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { (d / (na.sqrt() * nb.sqrt())) as f32 }
}

/// Re-embed up to `sample` stored texts (`text_field` of their metadata) and compare each with
/// its stored vector. None when the index holds no record with both (nothing to check).
pub async fn check_embedder(
    store: &dyn VectorStore,
    embedder: &dyn Embedder,
    namespace: &str,
    text_field: &str,
    sample: usize,
) -> Result<Option<EmbedderCheck>, StoreError> {
    let ids = store.list_ids(None, namespace, None, (sample as u32 * 2).min(100)).await?.ids;
    let records = store.fetch(&ids, namespace).await?;
    let pairs: Vec<(String, Vec<f32>)> = records
        .into_iter()
        .filter_map(|r| {
            let text = r.metadata.get(text_field)?.as_str()?.to_string();
            (!r.values.is_empty() && !text.trim().is_empty()).then_some((text, r.values))
        })
        .take(sample)
        .collect();
    if pairs.is_empty() {
        return Ok(None);
    }
    let texts: Vec<String> = pairs.iter().map(|(t, _)| t.clone()).collect();
    let fresh = embedder.embed(&texts, InputType::Passage).await?;
    let mut sims: Vec<f32> = pairs
        .iter()
        .zip(&fresh)
        .filter(|((_, stored), new)| stored.len() == new.len())
        .map(|((_, stored), new)| cosine(stored, new))
        .collect();
    if sims.is_empty() {
        // Texts and vectors there, but of another dimension: a verdict, not "nothing to check".
        let stored = pairs[0].1.len();
        let ours = fresh.first().map(Vec::len).unwrap_or(0);
        return Ok(Some(EmbedderCheck {
            embedder: embedder.describe(),
            sampled: pairs.len(),
            median: 0.0,
            disagree: 0,
            other_dimension: Some((stored, ours)),
        }));
    }
    sims.sort_by(|a, b| a.total_cmp(b));
    let median = sims[sims.len() / 2];
    let same = median >= SAME_MODEL_COSINE;
    let disagree = sims.iter().filter(|s| (**s >= SAME_MODEL_COSINE) != same).count();
    Ok(Some(EmbedderCheck {
        embedder: embedder.describe(),
        sampled: sims.len(),
        median,
        disagree,
        other_dimension: None,
    }))
}

/// recall@k of one query: the share of the exact top-k — every record read and scored by the
/// index's metric — that the index returned. An exact index gives 1; an approximate one (HNSW)
/// less when it misses neighbours. Measured only when the whole index is read (`cap`): a larger
/// one is said, never estimated from a part.
#[derive(Debug, Clone, PartialEq)]
pub struct Recall {
    pub k: usize,
    /// Of the exact top-k, how many the index returned.
    pub found: usize,
    /// Records read for the exact pass.
    pub scanned: usize,
    /// The pass stopped at `cap` records: no figure.
    pub capped: bool,
}

impl Recall {
    pub fn said(&self) -> String {
        if self.capped {
            format!(
                "recall@{} not measured: the index holds more than the {} records an exact pass reads",
                self.k, self.scanned
            )
        } else {
            format!(
                "recall@{} {:.2} against an exact pass over all {} records ({} of the exact top {} returned)",
                self.k,
                self.found as f64 / self.k.max(1) as f64,
                self.scanned,
                self.found,
                self.k
            )
        }
    }
}

fn similarity(metric: crate::domain::Metric, a: &[f32], b: &[f32]) -> f32 {
    use crate::domain::Metric;
    match metric {
        Metric::Cosine => cosine(a, b),
        Metric::DotProduct => a.iter().zip(b).map(|(x, y)| x * y).sum(),
        // Nearer is better: the negated distance ranks like a similarity.
        Metric::Euclidean => -a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>().sqrt(),
    }
}

/// [`Recall`] of a search's results (`returned`, best first): the query embedded again (the
/// embedder's cache keeps it), the index's metric, an exact pass over at most `cap` records.
pub async fn recall_of(
    store: &dyn VectorStore,
    embedder: crate::embed::QueryEmbedder<'_>,
    params: &SearchParams,
    returned: &[String],
    cap: usize,
) -> Result<Recall, StoreError> {
    let e = embedder.map_err(|why| StoreError::NotConfigured(format!("recall needs the query's vector: {why}")))?;
    let q = e.embed(std::slice::from_ref(&params.text), InputType::Query).await?.remove(0);
    let metric = store.stats().await?.metric.unwrap_or(crate::domain::Metric::Cosine);
    recall_at_k(store, &q, returned, &params.namespace, params.filter.as_ref(), metric, cap).await
}

/// [`Recall`] of `returned` (the ids a query of `vector` got, best first) against an exact pass
/// over every record of `namespace` (at most `cap`), filtered like the query.
pub async fn recall_at_k(
    store: &dyn VectorStore,
    vector: &[f32],
    returned: &[String],
    namespace: &str,
    filter: Option<&serde_json::Value>,
    metric: crate::domain::Metric,
    cap: usize,
) -> Result<Recall, StoreError> {
    let f = match filter {
        Some(v) => Some(crate::filter::from_json(v).map_err(|(at, e)| StoreError::Other(format!("filter {at}: {e}")))?),
        None => None,
    };
    let k = returned.len();
    let mut scored: Vec<(f32, String)> = Vec::new();
    let (mut token, mut scanned) = (None::<String>, 0usize);
    loop {
        let page = store.list_ids(None, namespace, token.as_deref(), 100).await?;
        let records = store.fetch(&page.ids, namespace).await?;
        scanned += records.len();
        for r in records {
            if r.values.len() == vector.len() && f.as_ref().is_none_or(|f| crate::filter::matches(f, &r.metadata)) {
                scored.push((similarity(metric, vector, &r.values), r.id));
            }
        }
        if scanned >= cap && page.next.is_some() {
            return Ok(Recall { k, found: 0, scanned, capped: true });
        }
        match page.next {
            Some(t) if !page.ids.is_empty() => token = Some(t),
            _ => break,
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let exact: std::collections::HashSet<&str> = scored.iter().take(k).map(|(_, id)| id.as_str()).collect();
    let found = returned.iter().filter(|id| exact.contains(id.as_str())).count();
    Ok(Recall { k, found, scanned, capped: false })
}
