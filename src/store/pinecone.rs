//! Pinecone over REST (API version 2025-10): the control plane finds the index host, the data
//! plane answers stats, query, fetch, list, upsert and delete. Both base URLs are configurable
//! so tests point them at loopback.
//!
//! Retries only 408/429/500/502/503/504, at most 3 times, with jittered exponential backoff that
//! honours `Retry-After`. Error bodies come in several shapes (data plane `{code, message,
//! details}`, control plane `{error: {code, message}, status}`, plain text): parsed leniently,
//! Pinecone's own message shown.

use super::VectorStore;
use crate::domain::{IdPage, IndexStats, Metadata, Metric, QueryResult, VectorMatch, VectorQuery, VectorRecord};
use crate::error::StoreError;
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};
use std::time::Duration;

pub const API_VERSION: &str = "2025-10";
pub const CONTROL_URL: &str = "https://api.pinecone.io";
const MAX_RETRIES: u32 = 3;
const UPSERT_MAX_VECTORS: usize = 1000;
const UPSERT_MAX_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PineconeOptions {
    pub api_key: String,
    /// Index name: its host is looked up on the control plane.
    pub index: Option<String>,
    /// Index host (with or without scheme); skips the lookup.
    pub host: Option<String>,
    pub control_url: String,
    pub timeout: Duration,
    /// First retry delay (doubles each retry) when no Retry-After is given.
    pub retry_base: Duration,
    /// Scheme put before a host given without one (Pinecone's hosts have none): `https`;
    /// tests use `http` for their loopback server.
    pub host_scheme: &'static str,
}

impl PineconeOptions {
    pub fn new(api_key: impl Into<String>) -> PineconeOptions {
        PineconeOptions {
            api_key: api_key.into(),
            index: None,
            host: None,
            control_url: CONTROL_URL.into(),
            timeout: Duration::from_secs(10),
            retry_base: Duration::from_millis(250),
            host_scheme: "https",
        }
    }
}

pub struct Pinecone {
    http: reqwest::Client,
    data: Url,
    opts: PineconeOptions,
    /// From describe_index, when the index was looked up by name.
    pub dimension: Option<u32>,
    pub metric: Option<Metric>,
    /// Integrated inference: the index's embedding model (it embeds queries itself).
    pub integrated_model: Option<String>,
    label: String,
}

fn with_scheme(host: &str, scheme: &str) -> String {
    if host.starts_with("http://") || host.starts_with("https://") {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Pinecone's message from any of its error body shapes.
pub fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let msg = v.pointer("/error/message").or_else(|| v.get("message")).and_then(Value::as_str).map(str::to_string);
        let code = v.pointer("/error/code").or_else(|| v.get("code")).map(|c| match c {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        match (code, msg) {
            (Some(c), Some(m)) => return format!("{c}: {m}"),
            (None, Some(m)) => return m,
            _ => {}
        }
    }
    let t = body.trim();
    if t.is_empty() { "(empty body)".into() } else { t.chars().take(500).collect() }
}

fn jitter(max_ms: u64) -> u64 {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    if max_ms == 0 { 0 } else { n as u64 % max_ms }
}

impl Pinecone {
    pub async fn connect(opts: PineconeOptions) -> Result<Pinecone, StoreError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| StoreError::Other(format!("http client: {e}")))?;
        let mut me = Pinecone {
            http,
            data: Url::parse("http://unset.invalid").map_err(|e| StoreError::Other(e.to_string()))?,
            dimension: None,
            metric: None,
            integrated_model: None,
            label: String::new(),
            opts,
        };
        let host = match (&me.opts.host, &me.opts.index) {
            (Some(h), _) => with_scheme(h, me.opts.host_scheme),
            (None, Some(name)) => {
                let url = format!("{}/indexes/{name}", me.opts.control_url.trim_end_matches('/'));
                let url = Url::parse(&url)
                    .map_err(|e| StoreError::NotConfigured(format!("control_url `{}`: {e}", me.opts.control_url)))?;
                let v = me.send_url(Method::GET, url, None).await?;
                me.dimension = v.get("dimension").and_then(Value::as_u64).map(|d| d as u32);
                me.metric = v.get("metric").and_then(Value::as_str).and_then(Metric::parse);
                me.integrated_model = v.pointer("/embed/model").and_then(Value::as_str).map(str::to_string);
                let h = v
                    .get("host")
                    .and_then(Value::as_str)
                    .ok_or_else(|| StoreError::Server(format!("describe_index `{name}` returned no host")))?;
                with_scheme(h, me.opts.host_scheme)
            }
            (None, None) => {
                return Err(StoreError::NotConfigured("pinecone needs an index name or host".into()));
            }
        };
        me.data = Url::parse(&host).map_err(|e| StoreError::NotConfigured(format!("index host `{host}`: {e}")))?;
        me.label = match &me.opts.index {
            Some(i) => format!("pinecone {i}"),
            None => format!("pinecone {}", me.data.host_str().unwrap_or("?")),
        };
        Ok(me)
    }

    fn url(&self, path: &str) -> Result<Url, StoreError> {
        self.data.join(path).map_err(|e| StoreError::Other(e.to_string()))
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, StoreError> {
        let url = self.url(path)?;
        self.send_url(method, url, body).await
    }

    /// One call, retries included, within one deadline (`timeout`): a hanging or rate-limited
    /// Pinecone is reported once that time is up, not after every retry's own timeout.
    async fn send_url(&self, method: Method, url: Url, body: Option<Value>) -> Result<Value, StoreError> {
        let deadline = tokio::time::Instant::now() + self.opts.timeout;
        let ms = self.opts.timeout.as_millis() as u64;
        match tokio::time::timeout_at(deadline, self.send_until(method, url, body, deadline)).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Timeout(ms)),
        }
    }

    async fn send_until(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        deadline: tokio::time::Instant,
    ) -> Result<Value, StoreError> {
        let mut attempt = 0u32;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header("Api-Key", &self.opts.api_key)
                .header("X-Pinecone-API-Version", API_VERSION)
                .header("Accept", "application/json");
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    if attempt < MAX_RETRIES {
                        attempt += 1;
                        tokio::time::sleep(self.backoff(attempt, None)).await;
                        continue;
                    }
                    return Err(StoreError::Timeout(self.opts.timeout.as_millis() as u64));
                }
                Err(e) => return Err(StoreError::Unreachable(format!("pinecone: {e}"))),
            };
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|s| Duration::from_millis((s * 1000.0) as u64));
            let text = resp.text().await.map_err(|e| StoreError::Unreachable(format!("pinecone: {e}")))?;
            // A key the server echoes back (in an error, a record) never reaches the screen,
            // a log, a recording or an export.
            let text = crate::text::mask_secrets(&text, &[&self.opts.api_key]);
            if status.is_success() {
                if text.trim().is_empty() {
                    return Ok(json!({}));
                }
                return serde_json::from_str(&text).map_err(|e| {
                    StoreError::Server(format!(
                        "pinecone sent malformed JSON ({e}): {}",
                        text.chars().take(200).collect::<String>()
                    ))
                });
            }
            let retryable = matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504);
            let msg = error_message(&text);
            if retryable && attempt < MAX_RETRIES {
                attempt += 1;
                let wait = self.backoff(attempt, retry_after);
                if tokio::time::Instant::now() + wait >= deadline {
                    // Waiting as asked would overrun the deadline: say so now.
                    return Err(StoreError::Unreachable(format!(
                        "pinecone {status}: {msg} (asked to retry in {:.1} s, past this call's {} ms deadline)",
                        wait.as_secs_f64(),
                        self.opts.timeout.as_millis()
                    )));
                }
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    StoreError::Server(format!("{status}: {msg} (check PINECONE_API_KEY)"))
                }
                s if s.is_server_error() => StoreError::Unreachable(format!("pinecone {s}: {msg}")),
                s => StoreError::Server(format!("{s}: {msg}")),
            });
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(Duration::from_secs(30)),
            None => {
                let base = self.opts.retry_base.as_millis() as u64 * (1 << (attempt - 1));
                Duration::from_millis(base / 2 + jitter(base / 2 + 1))
            }
        }
    }
}

fn metadata_of(v: Option<&Value>) -> Option<Metadata> {
    v.and_then(Value::as_object).cloned()
}

fn floats(v: Option<&Value>) -> Option<Vec<f32>> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
}

#[async_trait::async_trait]
impl VectorStore for Pinecone {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn stats(&self) -> Result<IndexStats, StoreError> {
        let v = self.send(Method::POST, "/describe_index_stats", Some(json!({}))).await?;
        let mut namespaces: Vec<(String, u64)> = v
            .get("namespaces")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter().map(|(k, x)| (k.clone(), x.get("vectorCount").and_then(Value::as_u64).unwrap_or(0))).collect()
            })
            .unwrap_or_default();
        namespaces.sort();
        Ok(IndexStats {
            dimension: v.get("dimension").and_then(Value::as_u64).map(|d| d as u32).or(self.dimension),
            metric: v.get("metric").and_then(Value::as_str).and_then(Metric::parse).or(self.metric),
            total: v.get("totalVectorCount").and_then(Value::as_u64).unwrap_or(0),
            fullness: v.get("indexFullness").and_then(Value::as_f64),
            namespaces,
            detail: None,
        })
    }

    async fn query(&self, q: &VectorQuery) -> Result<QueryResult, StoreError> {
        let mut body = json!({
            "namespace": q.namespace,
            "topK": q.top_k,
            "includeValues": q.include_values,
            "includeMetadata": q.include_metadata,
        });
        if let Some(v) = &q.vector {
            body["vector"] = json!(v);
        }
        if let Some(id) = &q.id {
            body["id"] = json!(id);
        }
        if let Some(f) = &q.filter {
            body["filter"] = f.clone();
        }
        let v = self.send(Method::POST, "/query", Some(body)).await?;
        let matches = v
            .get("matches")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| VectorMatch {
                        id: m.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                        score: m.get("score").and_then(Value::as_f64).unwrap_or(0.0) as f32,
                        values: floats(m.get("values")).filter(|v| !v.is_empty()),
                        metadata: metadata_of(m.get("metadata")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(QueryResult {
            matches,
            namespace: v.get("namespace").and_then(Value::as_str).unwrap_or(&q.namespace).to_string(),
            read_units: v.pointer("/usage/readUnits").and_then(Value::as_u64),
        })
    }

    async fn fetch(&self, ids: &[String], namespace: &str) -> Result<Vec<VectorRecord>, StoreError> {
        let mut out = Vec::new();
        // Ids travel in the URL: 200 a request keeps URLs well under common limits.
        for chunk in ids.chunks(200) {
            let mut url = self.url("/vectors/fetch")?;
            {
                let mut q = url.query_pairs_mut();
                for id in chunk {
                    q.append_pair("ids", id);
                }
                q.append_pair("namespace", namespace);
            }
            let v = self.send_url(Method::GET, url, None).await?;
            if let Some(m) = v.get("vectors").and_then(Value::as_object) {
                for id in chunk {
                    if let Some(r) = m.get(id) {
                        out.push(VectorRecord {
                            id: id.clone(),
                            values: floats(r.get("values")).unwrap_or_default(),
                            metadata: metadata_of(r.get("metadata")).unwrap_or_default(),
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    async fn list_ids(
        &self,
        prefix: Option<&str>,
        namespace: &str,
        token: Option<&str>,
        limit: u32,
    ) -> Result<IdPage, StoreError> {
        let mut url = self.url("/vectors/list")?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(p) = prefix {
                q.append_pair("prefix", p);
            }
            q.append_pair("limit", &limit.clamp(1, 100).to_string());
            if let Some(t) = token {
                q.append_pair("paginationToken", t);
            }
            q.append_pair("namespace", namespace);
        }
        let v = self.send_url(Method::GET, url, None).await?;
        Ok(IdPage {
            ids: v
                .get("vectors")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.get("id").and_then(Value::as_str)).map(str::to_string).collect())
                .unwrap_or_default(),
            next: v.pointer("/pagination/next").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
        })
    }

    async fn upsert(&self, records: Vec<VectorRecord>, namespace: &str) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut batch: Vec<Value> = Vec::new();
        let mut bytes = 0usize;
        let flush = |batch: Vec<Value>| {
            let body = json!({ "vectors": batch, "namespace": namespace });
            async move { self.send(Method::POST, "/vectors/upsert", Some(body)).await }
        };
        for r in records {
            let v = json!({ "id": r.id, "values": r.values, "metadata": r.metadata });
            let size = v.to_string().len();
            if !batch.is_empty() && (batch.len() >= UPSERT_MAX_VECTORS || bytes + size > UPSERT_MAX_BYTES - 1024) {
                let reply = flush(std::mem::take(&mut batch)).await?;
                total += reply.get("upsertedCount").and_then(Value::as_u64).unwrap_or(0);
                bytes = 0;
            }
            bytes += size + 1;
            batch.push(v);
        }
        if !batch.is_empty() {
            let reply = flush(batch).await?;
            total += reply.get("upsertedCount").and_then(Value::as_u64).unwrap_or(0);
        }
        Ok(total)
    }

    async fn search_text(
        &self,
        text: &str,
        top_k: u32,
        namespace: &str,
        filter: Option<&Value>,
    ) -> Result<Option<QueryResult>, StoreError> {
        if self.integrated_model.is_none() {
            return Ok(None);
        }
        // The records API names the default namespace `__default__`.
        let ns = if namespace.is_empty() { "__default__" } else { namespace };
        let mut query = json!({ "inputs": { "text": text }, "top_k": top_k });
        if let Some(f) = filter {
            query["filter"] = f.clone();
        }
        let path = format!("/records/namespaces/{}/search", ns.replace('/', "%2F"));
        let v = self.send(Method::POST, &path, Some(json!({ "query": query }))).await?;
        let matches = v
            .pointer("/result/hits")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|h| VectorMatch {
                        id: h.get("_id").and_then(Value::as_str).unwrap_or_default().to_string(),
                        score: h.get("_score").and_then(Value::as_f64).unwrap_or(0.0) as f32,
                        values: None,
                        metadata: metadata_of(h.get("fields")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(QueryResult {
            matches,
            namespace: namespace.to_string(),
            read_units: v.pointer("/usage/read_units").and_then(Value::as_u64),
        }))
    }

    async fn delete(&self, ids: &[String], namespace: &str) -> Result<(), StoreError> {
        for chunk in ids.chunks(1000) {
            self.send(Method::POST, "/vectors/delete", Some(json!({ "ids": chunk, "namespace": namespace }))).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_shape() {
        assert_eq!(
            error_message(
                r#"{"code":3,"message":"Vector dimension 3 does not match the dimension of the index 384","details":[]}"#
            ),
            "3: Vector dimension 3 does not match the dimension of the index 384"
        );
        assert_eq!(
            error_message(r#"{"error":{"code":"NOT_FOUND","message":"Resource agent-memory not found"},"status":404}"#),
            "NOT_FOUND: Resource agent-memory not found"
        );
        assert_eq!(error_message("upstream connect error"), "upstream connect error");
        assert_eq!(error_message(""), "(empty body)");
        assert_eq!(error_message(r#"{"message":"Invalid API Key"}"#), "Invalid API Key");
    }
}
