//! The vector tier (Pinecone, the embedded index): records, queries, matches, stats.

use super::*;

/// Pinecone metadata: strings, numbers, booleans and lists of strings.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    DotProduct,
    Euclidean,
}

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        match s {
            "cosine" => Some(Metric::Cosine),
            "dotproduct" | "dot" => Some(Metric::DotProduct),
            "euclidean" => Some(Metric::Euclidean),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::DotProduct => "dotproduct",
            Metric::Euclidean => "euclidean",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    pub id: String,
    pub values: Vec<f32>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatch {
    pub id: String,
    pub score: f32,
    pub values: Option<Vec<f32>>,
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    /// Query by vector, or by the id of a stored vector.
    pub vector: Option<Vec<f32>>,
    pub id: Option<String>,
    pub top_k: u32,
    pub namespace: String,
    pub filter: Option<serde_json::Value>,
    pub include_values: bool,
    pub include_metadata: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub matches: Vec<VectorMatch>,
    pub namespace: String,
    /// Read units the query cost (Pinecone's `usage.readUnits`).
    pub read_units: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub dimension: Option<u32>,
    pub metric: Option<Metric>,
    pub total: u64,
    pub fullness: Option<f64>,
    /// (namespace, vector count), by name.
    pub namespaces: Vec<(String, u64)>,
    /// What else the index says of itself, in a line (a search index: its algorithm, type,
    /// storage, memory, indexing progress and failures).
    pub detail: Option<String>,
}

/// One page of `list` (vector ids by prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct IdPage {
    pub ids: Vec<String>,
    pub next: Option<String>,
}

/// A change to one long-term document: `set` replaces just these fields (the others are kept;
/// the document is created when missing), then each `increment` is added to the stored number
/// by the store itself — atomically, so that concurrent writers add up (a missing field counts
/// from 0). `at_least` / `at_most` set a time field only when it would move later / earlier
/// than what is stored (or the field holds no instant), also atomically: writers racing with
/// out-of-order messages never move `updated_at` back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    pub path: String,
    pub set: Vec<(String, FsValue)>,
    pub increment: Vec<(String, i64)>,
    pub at_least: Vec<(String, Ts)>,
    pub at_most: Vec<(String, Ts)>,
}

impl Merge {
    /// The `at_least` / `at_most` fields that would change a document holding `fields`.
    pub fn bounds_to_set(&self, fields: &[(String, FsValue)]) -> Vec<(String, FsValue)> {
        let stored = |k: &str| fields.iter().find(|(f, _)| f == k).and_then(|(_, v)| v.as_ts());
        let later = self.at_least.iter().filter(|(k, t)| stored(k).is_none_or(|s| s < *t));
        let earlier = self.at_most.iter().filter(|(k, t)| stored(k).is_none_or(|s| s > *t));
        later.chain(earlier).map(|(k, t)| (k.clone(), FsValue::Timestamp(*t))).collect()
    }
}
