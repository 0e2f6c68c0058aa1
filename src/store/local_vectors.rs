//! The embedded vector index: exact search over every vector, Pinecone's scoring and metadata
//! filter language, namespaces; persisted in a SQLite file and loaded into memory at start.
//!
//! Scores as Pinecone reports them: cosine similarity, dot product, or for `euclidean` the
//! squared Euclidean distance; matches are always ordered most similar first (for euclidean
//! that is the smallest distance).

use super::VectorStore;
use crate::domain::{IdPage, IndexStats, Metadata, Metric, QueryResult, VectorMatch, VectorQuery, VectorRecord};
use crate::error::StoreError;
use crate::filter;
use rusqlite::params;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

#[derive(Default)]
struct Space {
    ids: Vec<String>,
    pos: HashMap<String, usize>,
    values: Vec<f32>,
    norms: Vec<f32>,
    meta: Vec<Metadata>,
}

pub struct LocalVectors {
    index: RwLock<(Option<usize>, BTreeMap<String, Space>)>,
    metric: Metric,
    db: Option<Arc<Mutex<rusqlite::Connection>>>,
    label: String,
    /// False when the file was opened read-only: upserts and deletes are refused.
    writable: bool,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("local vector index: {e}"))
}

/// Dot product written so the compiler vectorises it (8 independent accumulators).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_blob(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

impl Space {
    fn dim(&self) -> usize {
        if self.ids.is_empty() { 0 } else { self.values.len() / self.ids.len() }
    }
    fn row(&self, i: usize, dim: usize) -> &[f32] {
        &self.values[i * dim..(i + 1) * dim]
    }
    fn put(&mut self, r: VectorRecord, dim: usize) {
        let norm = dot(&r.values, &r.values).sqrt();
        match self.pos.get(&r.id) {
            Some(&i) => {
                self.values[i * dim..(i + 1) * dim].copy_from_slice(&r.values);
                self.norms[i] = norm;
                self.meta[i] = r.metadata;
            }
            None => {
                self.pos.insert(r.id.clone(), self.ids.len());
                self.ids.push(r.id);
                self.values.extend_from_slice(&r.values);
                self.norms.push(norm);
                self.meta.push(r.metadata);
            }
        }
    }
    fn remove(&mut self, id: &str, dim: usize) {
        let Some(i) = self.pos.remove(id) else { return };
        let last = self.ids.len() - 1;
        if i != last {
            let moved = self.ids[last].clone();
            self.pos.insert(moved, i);
            let (a, b) = self.values.split_at_mut(last * dim);
            a[i * dim..(i + 1) * dim].copy_from_slice(&b[..dim]);
        }
        self.ids.swap_remove(i);
        self.norms.swap_remove(i);
        self.meta.swap_remove(i);
        self.values.truncate(last * dim);
    }
}

impl LocalVectors {
    /// An index in memory only (tests, benchmarks).
    pub fn in_memory(metric: Metric) -> LocalVectors {
        LocalVectors {
            index: RwLock::new((None, BTreeMap::new())),
            metric,
            db: None,
            label: "local (in memory)".into(),
            writable: true,
        }
    }

    /// Open (or create) the index persisted at `path` for writing and load it into memory. A
    /// file holding another program's tables is refused, never given memscope's schema.
    pub fn open(path: &str, metric: Metric) -> Result<LocalVectors, StoreError> {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        if std::path::Path::new(path).exists() {
            let ro = super::sqlite::open_read_only(path)?;
            super::sqlite::check_ours(&ro, path, &["meta", "documents", "vectors"])?;
        }
        let conn = rusqlite::Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE IF NOT EXISTS vectors(
                namespace TEXT NOT NULL, id TEXT NOT NULL, dim INTEGER NOT NULL,
                vals BLOB NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY(namespace, id));",
        )
        .map_err(err)?;
        Self::load(conn, path, metric, true)
    }

    /// Open an existing index without ever writing to its file (no schema, no journal change);
    /// upserts and deletes are refused.
    pub fn open_read_only(path: &str, metric: Metric) -> Result<LocalVectors, StoreError> {
        let conn = super::sqlite::open_read_only(path)?;
        super::sqlite::check_ours(&conn, path, &["vectors"])?;
        let has: bool = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'vectors'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(err)?
            > 0;
        if !has {
            // A memscope file without vectors yet: an empty index, nothing created.
            return Ok(LocalVectors {
                index: RwLock::new((None, BTreeMap::new())),
                metric,
                db: None,
                label: format!("local {path} (read-only)"),
                writable: false,
            });
        }
        Self::load(conn, path, metric, false)
    }

    fn load(
        conn: rusqlite::Connection,
        path: &str,
        metric: Metric,
        writable: bool,
    ) -> Result<LocalVectors, StoreError> {
        let me = LocalVectors {
            index: RwLock::new((None, BTreeMap::new())),
            metric,
            db: None,
            label: if writable { format!("local {path}") } else { format!("local {path} (read-only)") },
            writable,
        };
        {
            let mut st = conn.prepare("SELECT namespace, id, vals, metadata FROM vectors").map_err(err)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(err)?;
            let mut idx = me.index.write().map_err(err)?;
            for row in rows {
                let (ns, id, vals, meta) = row.map_err(err)?;
                let values = from_blob(&vals);
                let dim = *idx.0.get_or_insert(values.len());
                if values.len() != dim {
                    continue;
                }
                let metadata = serde_json::from_str(&meta).unwrap_or_default();
                idx.1.entry(ns).or_default().put(VectorRecord { id, values, metadata }, dim);
            }
        }
        Ok(LocalVectors { db: Some(Arc::new(Mutex::new(conn))), ..me })
    }

    fn score(&self, q: &[f32], qn: f32, row: &[f32], norm: f32) -> f32 {
        match self.metric {
            Metric::Cosine => {
                if qn == 0.0 || norm == 0.0 {
                    0.0
                } else {
                    dot(q, row) / (qn * norm)
                }
            }
            Metric::DotProduct => dot(q, row),
            Metric::Euclidean => q.iter().zip(row).map(|(a, b)| (a - b) * (a - b)).sum(),
        }
    }

    /// Is `a` more similar than `b`?
    fn better(&self, a: f32, b: f32) -> bool {
        if self.metric == Metric::Euclidean { a < b } else { a > b }
    }

    fn search(&self, space: &Space, dim: usize, q: &[f32], k: usize, f: Option<&filter::Filter>) -> Vec<(usize, f32)> {
        if k == 0 {
            return vec![]; // top_k 0 asks for nothing (callers validate 1–10,000)
        }
        let qn = dot(q, q).sqrt();
        let n = space.ids.len();
        let scan = |lo: usize, hi: usize| -> Vec<(usize, f32)> {
            let mut top: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
            for i in lo..hi {
                let s = self.score(q, qn, space.row(i, dim), space.norms[i]);
                // The filter is asked only of a record that would enter the top k: the score is
                // a few SIMD lanes, the filter a walk over the metadata, and after the first
                // few thousand records almost none come close.
                if (top.len() < k || self.better(s, top[top.len() - 1].1))
                    && f.is_none_or(|f| filter::matches(f, &space.meta[i]))
                {
                    let at = top.partition_point(|&(_, t)| !self.better(s, t));
                    top.insert(at, (i, s));
                    top.truncate(k);
                }
            }
            top
        };
        // Two cores: split large scans in two halves and merge.
        let mut all = if n >= 20_000 {
            let mid = n / 2;
            std::thread::scope(|sc| {
                let h = sc.spawn(|| scan(0, mid));
                let mut b = scan(mid, n);
                b.extend(h.join().unwrap_or_default());
                b
            })
        } else {
            scan(0, n)
        };
        all.sort_by(|a, b| {
            if self.better(a.1, b.1) {
                std::cmp::Ordering::Less
            } else if self.better(b.1, a.1) {
                std::cmp::Ordering::Greater
            } else {
                a.0.cmp(&b.0)
            }
        });
        all.truncate(k);
        all
    }
}

#[async_trait::async_trait]
impl VectorStore for LocalVectors {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn stats(&self) -> Result<IndexStats, StoreError> {
        let idx = self.index.read().map_err(err)?;
        let namespaces: Vec<(String, u64)> = idx.1.iter().map(|(k, s)| (k.clone(), s.ids.len() as u64)).collect();
        Ok(IndexStats {
            dimension: idx.0.map(|d| d as u32),
            metric: Some(self.metric),
            total: namespaces.iter().map(|(_, n)| n).sum(),
            fullness: None,
            namespaces,
            detail: None,
        })
    }

    async fn query(&self, q: &VectorQuery) -> Result<QueryResult, StoreError> {
        let f = match &q.filter {
            Some(v) => Some(filter::from_json(v).map_err(|(_, m)| StoreError::Server(format!("invalid filter: {m}")))?),
            None => None,
        };
        let idx = self.index.read().map_err(err)?;
        let empty = Space::default();
        let space = idx.1.get(&q.namespace).unwrap_or(&empty);
        let dim = idx.0.unwrap_or(0);
        let qv: Vec<f32> = match (&q.vector, &q.id) {
            (Some(v), _) => v.clone(),
            (None, Some(id)) => match space.pos.get(id) {
                Some(&i) => space.row(i, dim).to_vec(),
                None => return Ok(QueryResult { matches: vec![], namespace: q.namespace.clone(), read_units: None }),
            },
            (None, None) => return Err(StoreError::Server("a query needs a vector or an id".into())),
        };
        if space.dim() != 0 && qv.len() != dim {
            return Err(StoreError::Server(format!(
                "query vector has dimension {}, the index has dimension {dim}",
                qv.len()
            )));
        }
        let top = self.search(space, dim, &qv, q.top_k as usize, f.as_ref());
        let matches = top
            .into_iter()
            .map(|(i, score)| VectorMatch {
                id: space.ids[i].clone(),
                score,
                values: q.include_values.then(|| space.row(i, dim).to_vec()),
                metadata: q.include_metadata.then(|| space.meta[i].clone()),
            })
            .collect();
        Ok(QueryResult { matches, namespace: q.namespace.clone(), read_units: None })
    }

    async fn fetch(&self, ids: &[String], namespace: &str) -> Result<Vec<VectorRecord>, StoreError> {
        let idx = self.index.read().map_err(err)?;
        let dim = idx.0.unwrap_or(0);
        let Some(space) = idx.1.get(namespace) else { return Ok(vec![]) };
        Ok(ids
            .iter()
            .filter_map(|id| {
                let &i = space.pos.get(id)?;
                Some(VectorRecord {
                    id: id.clone(),
                    values: space.row(i, dim).to_vec(),
                    metadata: space.meta[i].clone(),
                })
            })
            .collect())
    }

    async fn list_ids(
        &self,
        prefix: Option<&str>,
        namespace: &str,
        token: Option<&str>,
        limit: u32,
    ) -> Result<IdPage, StoreError> {
        let idx = self.index.read().map_err(err)?;
        let Some(space) = idx.1.get(namespace) else { return Ok(IdPage { ids: vec![], next: None }) };
        let mut ids: Vec<&String> = space
            .ids
            .iter()
            .filter(|id| prefix.is_none_or(|p| id.starts_with(p)))
            .filter(|id| token.is_none_or(|t| id.as_str() > t))
            .collect();
        ids.sort();
        let more = ids.len() > limit as usize;
        ids.truncate(limit as usize);
        let next = if more { ids.last().map(|s| s.to_string()) } else { None };
        Ok(IdPage { ids: ids.into_iter().cloned().collect(), next })
    }

    async fn upsert(&self, records: Vec<VectorRecord>, namespace: &str) -> Result<u64, StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly(format!("an upsert to {}", self.label)));
        }
        let n = records.len() as u64;
        {
            let mut idx = self.index.write().map_err(err)?;
            let dim = match (idx.0, records.first()) {
                (Some(d), _) => d,
                (None, Some(r)) => r.values.len(),
                (None, None) => return Ok(0),
            };
            if let Some(bad) = records.iter().find(|r| r.values.len() != dim) {
                return Err(StoreError::Server(format!(
                    "vector `{}` has dimension {}, the index has dimension {dim}",
                    bad.id,
                    bad.values.len()
                )));
            }
            idx.0 = Some(dim);
            let space = idx.1.entry(namespace.to_string()).or_default();
            for r in records.iter().cloned() {
                space.put(r, dim);
            }
        }
        if let Some(db) = &self.db {
            let db = db.clone();
            let ns = namespace.to_string();
            tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                let c = db.lock().map_err(err)?;
                let tx = c.unchecked_transaction().map_err(err)?;
                {
                    let mut st = tx
                        .prepare_cached("INSERT OR REPLACE INTO vectors(namespace, id, dim, vals, metadata) VALUES (?1, ?2, ?3, ?4, ?5)")
                        .map_err(err)?;
                    for r in &records {
                        let meta = serde_json::Value::Object(r.metadata.clone()).to_string();
                        st.execute(params![ns, r.id, r.values.len() as i64, to_blob(&r.values), meta]).map_err(err)?;
                    }
                }
                tx.commit().map_err(err)
            })
            .await
            .map_err(err)??;
        }
        Ok(n)
    }

    async fn delete(&self, ids: &[String], namespace: &str) -> Result<(), StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly(format!("a delete in {}", self.label)));
        }
        {
            let mut idx = self.index.write().map_err(err)?;
            let dim = idx.0.unwrap_or(0);
            if let Some(space) = idx.1.get_mut(namespace) {
                for id in ids {
                    space.remove(id, dim);
                }
            }
        }
        if let Some(db) = &self.db {
            let db = db.clone();
            let (ids, ns) = (ids.to_vec(), namespace.to_string());
            tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
                let c = db.lock().map_err(err)?;
                for id in ids {
                    c.execute("DELETE FROM vectors WHERE namespace = ?1 AND id = ?2", params![ns, id]).map_err(err)?;
                }
                Ok(())
            })
            .await
            .map_err(err)??;
        }
        Ok(())
    }
}
