//! A RediSearch / valkey-search index with a VECTOR field as the vector tier
//! (`[profile.X.vector] backend = "redis"`, `index = "NAME"`): KNN with `FT.SEARCH … KNN`,
//! memscope's filter language written in the index's TAG / NUMERIC / TEXT syntax, the records'
//! fields and vectors read back from their HASH or JSON documents, the index's own figures from
//! `FT.INFO`. Read-only: the index belongs to the framework that writes it (redisvl,
//! langchain-redis, mem0, LangGraph's store, agent-memory-server).

use super::reply::{bytes_of, items};
use super::*;
use crate::domain::{
    IdPage, IndexStats, Metadata, Metric, QueryResult, SearchIndex, VectorMatch, VectorQuery, VectorRecord,
};
use crate::filter::{Cond, Filter, Scalar};
use std::sync::Arc;

/// The name the KNN clause gives each result's distance.
const SCORE: &str = "__vector_score";

pub struct RedisVectors {
    redis: Arc<RedisStore>,
    index: String,
    /// The VECTOR field to search: the one named in config, else the index's first.
    field: Option<String>,
    /// The index's schema, read by the first call (and again by every `stats`).
    schema: tokio::sync::Mutex<Option<SearchIndex>>,
}

impl RedisVectors {
    pub fn new(redis: Arc<RedisStore>, index: &str, field: Option<String>) -> RedisVectors {
        RedisVectors { redis, index: index.to_string(), field, schema: Default::default() }
    }

    /// FT.INFO, read now; a cluster is refused with what the module supports there.
    async fn read_schema(&self) -> Result<SearchIndex, StoreError> {
        if self.redis.cluster().await?.is_some() {
            return Err(StoreError::NotConfigured(format!(
                "index {}: a Redis Cluster answers FT.SEARCH per shard (the open-source search module has no \
                 coordinator), so a search there would be a partial answer: point [vector] url at a \
                 standalone server holding the index, or at a deployment whose search runs across shards",
                self.index
            )));
        }
        let info: Value = self.redis.query(redis::cmd("FT.INFO").arg(&self.index)).await.map_err(|e| match e {
            StoreError::Server(m) if m.to_lowercase().contains("unknown") || m.to_lowercase().contains("no such") => {
                StoreError::NotConfigured(format!(
                    "no search index named {} on this server (FT._LIST names the ones there; `memscope detect` lists them)",
                    self.index
                ))
            }
            StoreError::Server(m) if m.to_lowercase().contains("unknown command") => StoreError::NotConfigured(
                "this server has no search module (FT.INFO is unknown): vectors in Redis need RediSearch or valkey-search"
                    .into(),
            ),
            e => e,
        })?;
        let idx = super::info::parse_ft_info(self.index.clone(), info);
        if self.vector_of(&idx).is_none() {
            let fields: Vec<String> = idx.fields.iter().map(|f| f.describe()).collect();
            return Err(StoreError::NotConfigured(match &self.field {
                Some(f) => {
                    format!("index {}: no VECTOR field named {f} (its fields: {})", self.index, fields.join(", "))
                }
                None => format!("index {} has no VECTOR field (its fields: {})", self.index, fields.join(", ")),
            }));
        }
        *self.schema.lock().await = Some(idx.clone());
        Ok(idx)
    }

    async fn schema(&self) -> Result<SearchIndex, StoreError> {
        if let Some(s) = self.schema.lock().await.clone() {
            return Ok(s);
        }
        self.read_schema().await
    }

    fn vector_of<'a>(&self, idx: &'a SearchIndex) -> Option<&'a crate::domain::SearchField> {
        match &self.field {
            Some(f) => idx.fields.iter().find(|x| x.vector.is_some() && (x.name == *f || x.path == *f)),
            None => idx.vector_field(),
        }
    }

    /// LangGraph's RedisStore keeps an item (`store:{id}`, its `value`) apart from the vector of
    /// each embedded field (`store_vectors:{id}`: `prefix`, `key`, `field_name`): the item's
    /// value joins the record's metadata, and the embedded field's text as `text`.
    async fn join_store_item(&self, idx: &SearchIndex, id: &str, meta: &mut Metadata) -> Result<(), StoreError> {
        let has = |n: &str| idx.fields.iter().any(|f| f.name == n);
        let Some(item) = id.strip_prefix("store_vectors:") else { return Ok(()) };
        if idx.on != "JSON" || !(has("prefix") && has("key") && has("field_name")) {
            return Ok(());
        }
        let v: Value = self.redis.query(redis::cmd("JSON.GET").arg(format!("store:{item}")).arg("$.value")).await?;
        let value = match serde_json::from_slice::<serde_json::Value>(&bytes_of(&v)) {
            Ok(serde_json::Value::Array(mut a)) if !a.is_empty() => a.remove(0),
            _ => return Ok(()),
        };
        let field = meta.get("field_name").and_then(|f| f.as_str()).unwrap_or("text").to_string();
        if let Some(text) = value.get(&field).filter(|t| !meta.contains_key("text") && t.is_string()) {
            meta.insert("text".into(), text.clone());
        }
        meta.insert("value".into(), value);
        Ok(())
    }

    /// A document's fields as metadata and its vector, by the index's storage.
    async fn read_doc(&self, idx: &SearchIndex, key: &str) -> Result<Option<(Metadata, Option<Vec<f32>>)>, StoreError> {
        let field = self.vector_of(idx).cloned().unwrap_or_default();
        if idx.on == "JSON" {
            let v: Value = self.redis.query(redis::cmd("JSON.GET").arg(key).arg("$")).await?;
            let text = bytes_of(&v);
            if text.is_empty() {
                return Ok(None);
            }
            let doc = match serde_json::from_slice::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Array(mut a)) if !a.is_empty() => a.remove(0),
                Ok(d) => d,
                Err(_) => return Ok(None),
            };
            return Ok(Some(json_doc(doc, &field.path)));
        }
        let v: Value = self.redis.query(redis::cmd("HGETALL").arg(key)).await?;
        let pairs = items(v);
        if pairs.is_empty() {
            return Ok(None);
        }
        Ok(Some(hash_doc(pairs, &field)))
    }
}

/// A JSON document as metadata (its top-level members) and its vector (at the field's path,
/// `$.embedding` or `$.a.b`).
fn json_doc(doc: serde_json::Value, path: &str) -> (Metadata, Option<Vec<f32>>) {
    let steps: Vec<&str> = path.trim_start_matches('$').split('.').filter(|s| !s.is_empty()).collect();
    let mut at = &doc;
    for s in &steps {
        match at.get(s) {
            Some(v) => at = v,
            None => break,
        }
    }
    let values = at.as_array().map(|a| a.iter().filter_map(|x| x.as_f64()).map(|x| x as f32).collect());
    let mut meta = doc.as_object().cloned().unwrap_or_default();
    if let Some(first) = steps.first()
        && steps.len() == 1
    {
        meta.remove(*first);
    }
    (meta, values)
}

/// A hash as metadata (its fields as text; bytes that are no text as hex) and its vector (the
/// field's bytes, float32 or float64 little-endian).
fn hash_doc(pairs: Vec<Value>, field: &crate::domain::SearchField) -> (Metadata, Option<Vec<f32>>) {
    let mut meta = Metadata::new();
    let mut values = None;
    for c in pairs.chunks(2).filter(|c| c.len() == 2) {
        let k = String::from_utf8_lossy(&bytes_of(&c[0])).into_owned();
        let b = bytes_of(&c[1]);
        if k == field.path || k == field.name {
            values = crate::text::floats(&b, field.vector.as_ref().map(|v| v.dtype.as_str()).unwrap_or("FLOAT32"));
            continue;
        }
        let v = match std::str::from_utf8(&b) {
            Ok(s) => serde_json::Value::String(s.to_string()),
            Err(_) => {
                serde_json::Value::String(format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()))
            }
        };
        meta.insert(k, v);
    }
    (meta, values)
}

/// A query vector as the field's bytes.
fn blob(v: &[f32], dtype: &str) -> Vec<u8> {
    if dtype.eq_ignore_ascii_case("FLOAT64") {
        v.iter().flat_map(|x| (*x as f64).to_le_bytes()).collect()
    } else {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
}

/// The index's metric as memscope's: COSINE, IP (inner product) or L2.
pub fn metric_of(m: &str) -> Option<Metric> {
    match m.to_uppercase().as_str() {
        "COSINE" => Some(Metric::Cosine),
        "IP" => Some(Metric::DotProduct),
        "L2" => Some(Metric::Euclidean),
        _ => None,
    }
}

/// A KNN distance as a score on the metric's own scale: cosine similarity (1 − distance), the
/// inner product (1 − distance), or the L2 distance itself (smaller is nearer).
pub fn score_of(distance: f32, metric: Option<Metric>) -> f32 {
    match metric {
        Some(Metric::Euclidean) => distance,
        _ => 1.0 - distance,
    }
}

/// memscope's filter language (Pinecone's) as a RediSearch query over the index's fields:
/// TAG fields take `$eq $ne $in $nin` (`@f:{a | b}`), NUMERIC fields every comparison
/// (`@f:[(2020 +inf]`), TEXT fields `$eq $ne $in $nin` as exact phrases. A field the index does
/// not have, or an operator its type cannot answer, is an error that says which — never a
/// filter silently dropped.
pub fn redisearch_filter(f: &Filter, idx: &SearchIndex) -> Result<String, String> {
    match f {
        Filter::And(fs) => {
            let parts: Result<Vec<String>, String> = fs.iter().map(|f| redisearch_filter(f, idx)).collect();
            Ok(format!("({})", parts?.join(" ")))
        }
        Filter::Or(fs) => {
            let parts: Result<Vec<String>, String> = fs.iter().map(|f| redisearch_filter(f, idx)).collect();
            Ok(format!("({})", parts?.join(" | ")))
        }
        Filter::Field(name, conds) => {
            let field = idx.fields.iter().find(|x| x.name == *name && x.vector.is_none()).ok_or_else(|| {
                let names: Vec<&str> =
                    idx.fields.iter().filter(|x| x.vector.is_none()).map(|x| x.name.as_str()).collect();
                format!("`{name}` is not a field of index {} (its fields: {})", idx.name, names.join(", "))
            })?;
            let parts: Result<Vec<String>, String> = conds.iter().map(|c| clause(name, &field.kind, c)).collect();
            let parts = parts?;
            Ok(if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                format!("({})", parts.join(" "))
            })
        }
    }
}

fn clause(name: &str, kind: &str, c: &Cond) -> Result<String, String> {
    let f = escape_name(name);
    let not_for = |op: &str| format!("{op} cannot be asked of `{name}`, a {kind} field (NUMERIC fields compare)");
    let scalar_text = |s: &Scalar| match s {
        Scalar::Str(s) => s.clone(),
        Scalar::Num(n) => num(*n),
        Scalar::Bool(b) => b.to_string(),
    };
    match kind {
        "TAG" => {
            let tags = |l: &[Scalar]| l.iter().map(|s| escape_tag(&scalar_text(s))).collect::<Vec<_>>().join(" | ");
            Ok(match c {
                Cond::Eq(s) => format!("@{f}:{{{}}}", escape_tag(&scalar_text(s))),
                Cond::Ne(s) => format!("-@{f}:{{{}}}", escape_tag(&scalar_text(s))),
                Cond::In(l) => format!("@{f}:{{{}}}", tags(l)),
                Cond::Nin(l) => format!("-@{f}:{{{}}}", tags(l)),
                Cond::Gt(_) => return Err(not_for("$gt")),
                Cond::Gte(_) => return Err(not_for("$gte")),
                Cond::Lt(_) => return Err(not_for("$lt")),
                Cond::Lte(_) => return Err(not_for("$lte")),
                Cond::Exists(_) => return Err(no_exists(name)),
            })
        }
        "NUMERIC" => {
            let n = |s: &Scalar, op: &str| match s {
                Scalar::Num(n) => Ok(num(*n)),
                other => Err(format!("{op} on `{name}`, a NUMERIC field, needs a number, not {other:?}")),
            };
            let any = |l: &[Scalar], op: &str| -> Result<String, String> {
                let r: Result<Vec<String>, String> =
                    l.iter().map(|s| n(s, op).map(|x| format!("@{f}:[{x} {x}]"))).collect();
                Ok(format!("({})", r?.join(" | ")))
            };
            Ok(match c {
                Cond::Eq(s) => {
                    let x = n(s, "$eq")?;
                    format!("@{f}:[{x} {x}]")
                }
                Cond::Ne(s) => {
                    let x = n(s, "$ne")?;
                    format!("-@{f}:[{x} {x}]")
                }
                Cond::Gt(x) => format!("@{f}:[({} +inf]", num(*x)),
                Cond::Gte(x) => format!("@{f}:[{} +inf]", num(*x)),
                Cond::Lt(x) => format!("@{f}:[-inf ({}]", num(*x)),
                Cond::Lte(x) => format!("@{f}:[-inf {}]", num(*x)),
                Cond::In(l) => any(l, "$in")?,
                Cond::Nin(l) => format!("-{}", any(l, "$nin")?),
                Cond::Exists(_) => return Err(no_exists(name)),
            })
        }
        "TEXT" => {
            let phrases = |l: &[Scalar]| l.iter().map(|s| phrase(&scalar_text(s))).collect::<Vec<_>>().join(" | ");
            Ok(match c {
                Cond::Eq(s) => format!("@{f}:{}", phrase(&scalar_text(s))),
                Cond::Ne(s) => format!("-@{f}:{}", phrase(&scalar_text(s))),
                Cond::In(l) => format!("@{f}:({})", phrases(l)),
                Cond::Nin(l) => format!("-@{f}:({})", phrases(l)),
                Cond::Gt(_) => return Err(not_for("$gt")),
                Cond::Gte(_) => return Err(not_for("$gte")),
                Cond::Lt(_) => return Err(not_for("$lt")),
                Cond::Lte(_) => return Err(not_for("$lte")),
                Cond::Exists(_) => return Err(no_exists(name)),
            })
        }
        other => Err(format!("`{name}` is a {other} field: filters take its TAG, NUMERIC and TEXT fields")),
    }
}

fn no_exists(name: &str) -> String {
    format!(
        "$exists on `{name}`: a search index cannot find documents without a field (unless it was created with INDEXMISSING); filter on a value instead"
    )
}

/// A number as RediSearch reads it (integers without a fraction).
fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// A TAG value: punctuation and spaces escaped.
fn escape_tag(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii_punctuation() || ch == ' ' {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A field name as a query names it.
fn escape_name(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        if !(ch.is_alphanumeric() || ch == '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// An exact phrase for a TEXT field.
fn phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[async_trait::async_trait]
impl crate::store::VectorStore for RedisVectors {
    fn describe(&self) -> String {
        format!("redis index {} ({})", self.index, self.redis.label)
    }

    async fn stats(&self) -> Result<IndexStats, StoreError> {
        let idx = self.read_schema().await?;
        let v = self.vector_of(&idx).and_then(|f| f.vector.clone()).unwrap_or_default();
        let prefixes: Vec<String> = idx.prefixes.iter().map(|p| format!("{p}*")).collect();
        let mut detail = vec![format!("{} {}", v.algorithm, v.dtype), format!("{} on {}", idx.on, prefixes.join(" "))];
        if let Some(mb) = idx.vector_mb {
            detail.push(format!("vectors {}", crate::text::human_bytes((mb * 1024.0 * 1024.0) as u64)));
        }
        match idx.percent_indexed {
            Some(p) if p < 1.0 => detail.push(format!("indexing: {:.0}% done", p * 100.0)),
            _ => {}
        }
        if idx.failures > 0 {
            detail.push(format!("{} documents failed to index", idx.failures));
        }
        Ok(IndexStats {
            dimension: Some(v.dim),
            metric: metric_of(&v.metric),
            total: idx.docs,
            fullness: None,
            namespaces: vec![(String::new(), idx.docs)],
            detail: Some(detail.join(" · ")),
        })
    }

    async fn query(&self, q: &VectorQuery) -> Result<QueryResult, StoreError> {
        let idx = self.schema().await?;
        let field = self.vector_of(&idx).cloned().unwrap_or_default();
        let spec = field.vector.clone().unwrap_or_default();
        let vector = match (&q.vector, &q.id) {
            (Some(v), _) => v.clone(),
            (None, Some(id)) => match self.read_doc(&idx, id).await? {
                Some((_, Some(v))) => v,
                _ => return Err(StoreError::Other(format!("no vector stored under {id}"))),
            },
            (None, None) => return Err(StoreError::Other("a query needs a vector or an id".into())),
        };
        if spec.dim > 0 && vector.len() != spec.dim as usize {
            return Err(StoreError::Other(format!(
                "the query vector has {} dimensions; index {}'s field {} holds {}: the embedder is not the one that made this index",
                vector.len(),
                idx.name,
                field.name,
                spec.dim
            )));
        }
        let filter = match &q.filter {
            Some(f) => {
                let parsed =
                    crate::filter::from_json(f).map_err(|(at, e)| StoreError::Other(format!("filter {at}: {e}")))?;
                // In parentheses: a negative clause alone (`-@f:{x}`) cannot stand before `=>`.
                format!(
                    "({})",
                    redisearch_filter(&parsed, &idx).map_err(|e| StoreError::Other(format!("filter: {e}")))?
                )
            }
            None => "*".to_string(),
        };
        let query = format!("{filter}=>[KNN {} @{} $vec AS {SCORE}]", q.top_k, escape_name(&field.name));
        let mut cmd = redis::cmd("FT.SEARCH");
        cmd.arg(&self.index)
            .arg(&query)
            .arg("PARAMS")
            .arg(2)
            .arg("vec")
            .arg(blob(&vector, &spec.dtype))
            .arg("SORTBY")
            .arg(SCORE)
            .arg("LIMIT")
            .arg(0)
            .arg(q.top_k)
            .arg("DIALECT")
            .arg(2);
        let reply: Value = self.redis.query(&cmd).await?;
        let metric = metric_of(&spec.metric);
        let mut out = items(reply).into_iter();
        let _total = out.next();
        let mut matches = Vec::new();
        while let (Some(k), Some(fields)) = (out.next(), out.next()) {
            let id = String::from_utf8_lossy(&bytes_of(&k)).into_owned();
            let pairs = items(fields);
            let mut distance = None;
            let mut rest = Vec::new();
            for c in pairs.chunks(2).filter(|c| c.len() == 2) {
                if bytes_of(&c[0]) == SCORE.as_bytes() {
                    distance = String::from_utf8_lossy(&bytes_of(&c[1])).parse::<f32>().ok();
                } else {
                    rest.push(c[0].clone());
                    rest.push(c[1].clone());
                }
            }
            let (mut metadata, values) = if idx.on == "JSON" {
                let doc = rest
                    .chunks(2)
                    .find(|c| bytes_of(&c[0]) == b"$")
                    .and_then(|c| serde_json::from_slice::<serde_json::Value>(&bytes_of(&c[1])).ok())
                    .unwrap_or_default();
                json_doc(doc, &field.path)
            } else {
                hash_doc(rest, &field)
            };
            if q.include_metadata {
                self.join_store_item(&idx, &id, &mut metadata).await?;
            }
            matches.push(VectorMatch {
                id,
                score: score_of(distance.unwrap_or(f32::NAN), metric),
                values: if q.include_values { values } else { None },
                metadata: q.include_metadata.then_some(metadata),
            });
        }
        Ok(QueryResult { matches, namespace: String::new(), read_units: None })
    }

    async fn fetch(&self, ids: &[String], _namespace: &str) -> Result<Vec<VectorRecord>, StoreError> {
        let idx = self.schema().await?;
        let mut out = Vec::new();
        for id in ids.iter().take(1000) {
            if let Some((mut metadata, values)) = self.read_doc(&idx, id).await? {
                self.join_store_item(&idx, id, &mut metadata).await?;
                out.push(VectorRecord { id: id.clone(), values: values.unwrap_or_default(), metadata });
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
        let from: u64 = token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let mut cmd = redis::cmd("FT.SEARCH");
        cmd.arg(&self.index).arg("*").arg("NOCONTENT").arg("LIMIT").arg(from).arg(limit).arg("DIALECT").arg(2);
        let reply: Value = self.redis.query(&cmd).await?;
        let mut it = items(reply).into_iter();
        let total = it.next().as_ref().and_then(super::reply::int_of).unwrap_or(0).max(0) as u64;
        let ids: Vec<String> = it
            .map(|k| String::from_utf8_lossy(&bytes_of(&k)).into_owned())
            .filter(|k| prefix.is_none_or(|p| k.starts_with(p)))
            .collect();
        let next = from + limit as u64;
        Ok(IdPage { ids, next: (next < total).then(|| next.to_string()) })
    }

    async fn upsert(&self, _records: Vec<VectorRecord>, _namespace: &str) -> Result<u64, StoreError> {
        Err(self.read_only())
    }

    async fn delete(&self, _ids: &[String], _namespace: &str) -> Result<(), StoreError> {
        Err(self.read_only())
    }
}

impl RedisVectors {
    fn read_only(&self) -> StoreError {
        StoreError::ReadOnly(format!(
            "index {} is written by the framework that made it; memscope reads it and writes nothing there",
            self.index
        ))
    }
}
