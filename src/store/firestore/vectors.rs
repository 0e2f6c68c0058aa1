//! A Firestore collection with a vector field as the vector tier (`[profile.X.vector] backend =
//! "firestore"`, `index = "COLLECTION"`, `vector_field`): `find_nearest` with the configured
//! distance measure (and a threshold), memscope's filter language as where-clause prefilters,
//! each document's fields as metadata. LangChain's `FirestoreVectorStore` and Firestore's own
//! vector search keep vectors this way (a `__vector__` value). A pattern (`users/*/memories`) reads
//! every collection of that name under its literal parent as one collection group. Read-only.

use super::*;
use crate::domain::{IdPage, IndexStats, Metadata, Metric, QueryResult, VectorMatch, VectorQuery, VectorRecord};
use crate::filter::{Cond, Filter, Scalar};
use firestore::select_filter_builder::FirestoreQueryFilterBuilder;
use firestore::{
    FirestoreFindNearestDistanceMeasure, FirestoreFindNearestOptions, FirestoreQueryFilter, FirestoreVector,
};
use std::sync::Arc;

/// The field `find_nearest` writes each result's distance into.
const DISTANCE: &str = "__vector_distance";

pub struct FirestoreVectors {
    store: Arc<FirestoreStore>,
    collection: String,
    /// `users/*/memories`: a collection group (validated with the config).
    pattern: Option<crate::domain::CollectionPattern>,
    field: String,
    metric: Metric,
    /// find_nearest's distance threshold (`[vector] distance_threshold`).
    threshold: Option<f64>,
}

impl FirestoreVectors {
    pub fn new(store: Arc<FirestoreStore>, collection: &str, field: &str, metric: Metric) -> FirestoreVectors {
        let pattern = crate::domain::CollectionPattern::parse(collection).ok().flatten();
        FirestoreVectors {
            store,
            collection: collection.to_string(),
            pattern,
            field: field.to_string(),
            metric,
            threshold: None,
        }
    }

    /// Only documents within `t` by the measure (for the dot product: at least `t`), cut by
    /// Firestore itself.
    pub fn with_threshold(mut self, t: Option<f64>) -> FirestoreVectors {
        self.threshold = t;
        self
    }

    /// Where a query reads: the parent and collection id, and whether it is a collection group
    /// (every collection of that id below the parent).
    fn source(&self) -> (String, String, bool) {
        match &self.pattern {
            Some(p) => {
                let parent = match p.parent_document() {
                    d if d.is_empty() => self.store.root().to_string(),
                    d => format!("{}/{d}", self.store.root()),
                };
                (parent, p.collection_id().to_string(), true)
            }
            None => {
                let (parent, coll) = self.store.split_collection(&self.collection);
                (parent, coll.to_string(), false)
            }
        }
    }

    /// The nearest `limit` documents of the source, the filter applied in the query.
    async fn nearest(
        &self,
        vector: &[f32],
        filter: Option<&Filter>,
        limit: u32,
    ) -> Result<Vec<pb::Document>, StoreError> {
        let (parent, coll, group) = self.source();
        let opts = FirestoreFindNearestOptions::new(
            self.field.clone(),
            FirestoreVector::new(vector.iter().map(|x| *x as f64).collect()),
            self.measure(),
            limit,
        )
        .with_distance_result_field(DISTANCE.to_string());
        let opts = match self.threshold {
            Some(t) => opts.with_distance_threshold(t),
            None => opts,
        };
        let store = &self.store;
        let value = |v: &FsValue| store.fv(v);
        let mut q = self
            .store
            .db
            .fluent()
            .select()
            .from(coll.as_str())
            .parent(&parent)
            .filter(|b| filter.and_then(|f| where_clause(&b, f, &value)));
        if group {
            q = q.all_descendants();
        }
        q.find_nearest_with_options(opts).query().await.map_err(map_err)
    }

    fn measure(&self) -> FirestoreFindNearestDistanceMeasure {
        match self.metric {
            Metric::Cosine => FirestoreFindNearestDistanceMeasure::Cosine,
            Metric::DotProduct => FirestoreFindNearestDistanceMeasure::DotProduct,
            Metric::Euclidean => FirestoreFindNearestDistanceMeasure::Euclidean,
        }
    }

    /// A document as a record: its fields (the vector and the distance left out) and its vector.
    fn record(&self, d: &Document) -> (Metadata, Option<Vec<f32>>, Option<f64>) {
        let mut meta = Metadata::new();
        let (mut values, mut distance) = (None, None);
        for (k, v) in &d.fields {
            if *k == self.field {
                values = vector_of(v);
            } else if k == DISTANCE {
                distance = match v {
                    FsValue::Double(x) => Some(*x),
                    FsValue::Int(i) => Some(*i as f64),
                    _ => None,
                };
            } else {
                meta.insert(k.clone(), v.to_json());
            }
        }
        (meta, values, distance)
    }
}

/// A Firestore vector value as floats ([`FsValue::as_vector`]).
pub fn vector_of(v: &FsValue) -> Option<Vec<f32>> {
    v.as_vector()
}

/// A vector as Firestore stores one.
pub fn vector_value(v: &[f32]) -> FsValue {
    FsValue::Map(vec![
        ("__type__".into(), FsValue::String("__vector__".into())),
        ("value".into(), FsValue::Array(v.iter().map(|x| FsValue::Double(*x as f64)).collect())),
    ])
}

/// A distance from `find_nearest` as a score on the measure's scale: cosine similarity
/// (1 − the cosine distance), the dot product itself, or the Euclidean distance (smaller first).
pub fn score_of(distance: f64, metric: Metric) -> f32 {
    match metric {
        Metric::Cosine => (1.0 - distance) as f32,
        Metric::DotProduct | Metric::Euclidean => distance as f32,
    }
}

fn scalar_value(s: &Scalar) -> FsValue {
    match s {
        Scalar::Str(x) => FsValue::String(x.clone()),
        Scalar::Num(n) if n.fract() == 0.0 && n.abs() < 9e15 => FsValue::Int(*n as i64),
        Scalar::Num(n) => FsValue::Double(*n),
        Scalar::Bool(b) => FsValue::Bool(*b),
    }
}

/// memscope's filter language as Firestore where-clauses: `$eq $ne $gt $gte $lt $lte $in $nin`,
/// `$and`, `$or`. `$exists` has no where-clause and is refused saying so. (A vector query with
/// prefilters needs a composite vector index on those fields in Firestore; the emulator needs
/// none.)
pub fn where_clause(
    q: &FirestoreQueryFilterBuilder,
    f: &Filter,
    value: &dyn Fn(&FsValue) -> firestore::FirestoreValue,
) -> Option<FirestoreQueryFilter> {
    match f {
        Filter::And(fs) => q.for_all(fs.iter().map(|f| where_clause(q, f, value)).collect::<Vec<_>>()),
        Filter::Or(fs) => q.for_any(fs.iter().map(|f| where_clause(q, f, value)).collect::<Vec<_>>()),
        Filter::Field(name, conds) => {
            let mut parts = Vec::new();
            for c in conds {
                let fd = q.field(name.as_str());
                let list = |l: &[Scalar]| value(&FsValue::Array(l.iter().map(scalar_value).collect()));
                parts.push(match c {
                    Cond::Eq(s) => fd.eq(value(&scalar_value(s))),
                    Cond::Ne(s) => fd.not_equal(value(&scalar_value(s))),
                    Cond::Gt(n) => fd.greater_than(value(&scalar_value(&Scalar::Num(*n)))),
                    Cond::Gte(n) => fd.greater_than_or_equal(value(&scalar_value(&Scalar::Num(*n)))),
                    Cond::Lt(n) => fd.less_than(value(&scalar_value(&Scalar::Num(*n)))),
                    Cond::Lte(n) => fd.less_than_or_equal(value(&scalar_value(&Scalar::Num(*n)))),
                    Cond::In(l) => fd.is_in(list(l)),
                    Cond::Nin(l) => fd.is_not_in(list(l)),
                    // Refused before the query is built (`unsupported`).
                    Cond::Exists(_) => None,
                });
            }
            q.for_all(parts)
        }
    }
}

/// What a where-clause cannot say, checked before the query is built.
pub fn unsupported(f: &Filter) -> Option<String> {
    match f {
        Filter::And(fs) | Filter::Or(fs) => fs.iter().find_map(unsupported),
        Filter::Field(name, conds) => conds.iter().any(|c| matches!(c, Cond::Exists(_))).then(|| {
            format!("$exists on `{name}`: Firestore has no where-clause for a missing field; filter on a value instead")
        }),
    }
}

#[async_trait::async_trait]
impl crate::store::VectorStore for FirestoreVectors {
    fn describe(&self) -> String {
        format!("{} collection {} ({})", self.store.label, self.collection, self.field)
    }

    /// The collection's documents (a COUNT) and the vector field's dimension, from the first
    /// document that has one.
    async fn stats(&self) -> Result<IndexStats, StoreError> {
        let (parent, coll, group) = self.source();
        let mut q = self.store.db.fluent().select().from(coll.as_str()).parent(&parent);
        if group {
            q = q.all_descendants();
        }
        let counted = q.aggregate(|a| a.fields([a.field("count").count()])).query().await.map_err(map_err)?;
        let total = count_of(&counted);
        let sample = match &self.pattern {
            Some(p) => self.store.group_documents(p, None, 20).await?,
            None => self.store.documents(&self.collection, None, 20).await?,
        };
        let dimension =
            sample.items.iter().find_map(|d| d.get(&self.field).and_then(vector_of)).map(|v| v.len() as u32);
        Ok(IndexStats {
            dimension,
            metric: Some(self.metric),
            total,
            fullness: None,
            namespaces: vec![(String::new(), total)],
            detail: Some(
                match group {
                    // The count is the group's: same-named collections outside the pattern too.
                    true => format!(
                        "find_nearest on every `{coll}` collection matching {}, field {} ({}); the count includes any other `{coll}` collection under that parent",
                        self.collection,
                        self.field,
                        self.metric.name()
                    ),
                    false => format!("find_nearest on {}.{} ({})", self.collection, self.field, self.metric.name()),
                } + &self
                    .threshold
                    .map(|t| format!(" · distance threshold {t} (Firestore returns nothing beyond it)"))
                    .unwrap_or_default(),
            ),
        })
    }

    async fn query(&self, q: &VectorQuery) -> Result<QueryResult, StoreError> {
        let vector = match (&q.vector, &q.id) {
            (Some(v), _) => v.clone(),
            (None, Some(id)) => match self.fetch(std::slice::from_ref(id), "").await?.pop() {
                Some(r) if !r.values.is_empty() => r.values,
                _ => return Err(StoreError::Other(format!("no vector stored under {id}"))),
            },
            (None, None) => return Err(StoreError::Other("a query needs a vector or an id".into())),
        };
        let filter = match &q.filter {
            Some(f) => {
                Some(crate::filter::from_json(f).map_err(|(at, e)| StoreError::Other(format!("filter {at}: {e}")))?)
            }
            None => None,
        };
        if let Some(why) = filter.as_ref().and_then(unsupported) {
            return Err(StoreError::Other(format!("filter: {why}")));
        }
        // A collection group may hold same-named collections outside the pattern: their
        // documents are passed over, and the query asked again for more until k are found.
        let mut limit = q.top_k.max(1);
        let docs = loop {
            let docs = self.nearest(&vector, filter.as_ref(), limit).await?;
            let got = docs.len() as u32;
            let kept: Vec<Document> = docs
                .iter()
                .map(|d| self.store.doc(d))
                .filter(|d| self.pattern.as_ref().is_none_or(|p| p.holds(&d.path)))
                .collect();
            if kept.len() as u32 >= q.top_k || got < limit || limit >= 1000 {
                break kept.into_iter().take(q.top_k as usize).collect::<Vec<_>>();
            }
            limit = (limit * 4).min(1000);
        };
        let matches = docs
            .iter()
            .map(|d| {
                let (metadata, values, distance) = self.record(d);
                VectorMatch {
                    id: d.path.clone(),
                    score: score_of(distance.unwrap_or(f64::NAN), self.metric),
                    values: if q.include_values { values } else { None },
                    metadata: q.include_metadata.then_some(metadata),
                }
            })
            .collect();
        Ok(QueryResult { matches, namespace: String::new(), read_units: None })
    }

    /// Records by document path (or id within the collection).
    async fn fetch(&self, ids: &[String], _namespace: &str) -> Result<Vec<VectorRecord>, StoreError> {
        let mut out = Vec::new();
        for id in ids.iter().take(1000) {
            let path = if id.contains('/') { id.clone() } else { format!("{}/{id}", self.collection) };
            if let Some(d) = self.store.document(&path).await? {
                let (metadata, values, _) = self.record(&d);
                out.push(VectorRecord { id: d.path.clone(), values: values.unwrap_or_default(), metadata });
            }
        }
        Ok(out)
    }

    async fn list_ids(
        &self,
        prefix: Option<&str>,
        _namespace: &str,
        token: Option<&str>,
        limit: u32,
    ) -> Result<IdPage, StoreError> {
        // The token is the last path of the page before: documents by name after it.
        let after = token.map(|t| crate::domain::Cursor::After { values: vec![], path: t.to_string() });
        let page = match &self.pattern {
            Some(p) => self.store.group_documents(p, after.as_ref(), limit).await?,
            None => self.store.documents(&self.collection, after.as_ref(), limit).await?,
        };
        let next = match &page.next {
            Some(crate::domain::Cursor::After { path, .. }) => Some(path.clone()),
            _ => None,
        };
        let ids = page.items.into_iter().map(|d| d.path).filter(|p| prefix.is_none_or(|x| p.starts_with(x))).collect();
        Ok(IdPage { ids, next })
    }

    async fn upsert(&self, _records: Vec<VectorRecord>, _namespace: &str) -> Result<u64, StoreError> {
        Err(StoreError::ReadOnly(format!(
            "collection {} is written by the framework that made it; memscope reads it and writes nothing there",
            self.collection
        )))
    }

    async fn delete(&self, _ids: &[String], _namespace: &str) -> Result<(), StoreError> {
        self.upsert(vec![], "").await.map(|_| ())
    }
}
