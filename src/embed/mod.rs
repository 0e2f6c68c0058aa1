//! Query and passage embedding: an `Embedder` trait with three implementations (OpenAI-compatible
//! HTTP, Pinecone Inference, and all-MiniLM-L6-v2 in-process), chosen in `build`, and an LRU
//! cache of query embeddings in front of any of them.

mod bert;
pub mod local;
pub mod openai;
pub mod pinecone;

use crate::error::StoreError;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputType {
    /// A search query (Pinecone Inference `input_type: query`).
    Query,
    /// A stored passage.
    Passage,
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    fn describe(&self) -> String;
    /// The dimension of the vectors, when known before the first call.
    fn dimension(&self) -> Option<usize>;
    async fn embed(&self, texts: &[String], kind: InputType) -> Result<Vec<Vec<f32>>, StoreError>;
}

/// An LRU cache of query embeddings in front of an embedder.
pub struct Cached<E> {
    inner: E,
    map: Mutex<crate::lru::Lru<Vec<f32>>>,
}

impl<E: Embedder> Cached<E> {
    pub fn new(inner: E, cap: usize) -> Cached<E> {
        Cached { inner, map: Mutex::new(crate::lru::Lru::new(cap.max(1), None)) }
    }

    /// One query, from the cache when it was embedded before.
    pub async fn query(&self, text: &str) -> Result<(Vec<f32>, bool), StoreError> {
        if let Some(v) = self.map.lock().ok().and_then(|mut m| m.get(text)) {
            return Ok((v, true));
        }
        let v = self
            .inner
            .embed(&[text.to_string()], InputType::Query)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Server("the embedder returned no vector".into()))?;
        if let Ok(mut m) = self.map.lock() {
            m.put(text, v.clone());
        }
        Ok((v, false))
    }

    pub fn inner(&self) -> &E {
        &self.inner
    }
}

#[async_trait::async_trait]
impl<E: Embedder> Embedder for Cached<E> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn dimension(&self) -> Option<usize> {
        self.inner.dimension()
    }
    async fn embed(&self, texts: &[String], kind: InputType) -> Result<Vec<Vec<f32>>, StoreError> {
        if kind == InputType::Query && texts.len() == 1 {
            return Ok(vec![self.query(&texts[0]).await?.0]);
        }
        self.inner.embed(texts, kind).await
    }
}

/// The one place where the embedder is chosen.
pub fn build(cfg: &crate::config::EmbeddingConfig) -> Result<Box<dyn Embedder>, StoreError> {
    Ok(match cfg.provider.as_str() {
        "openai" => Box::new(Cached::new(openai::OpenAi::new(cfg)?, 512)),
        "pinecone" => Box::new(Cached::new(pinecone::PineconeInference::new(cfg)?, 512)),
        "local" => Box::new(Cached::new(local::MiniLm::load(cfg.model_dir.as_deref())?, 512)),
        other => return Err(StoreError::NotConfigured(format!("embedding provider `{other}`"))),
    })
}

/// The embedder a profile uses: its `[embedding]`, or the local model when only a local vector
/// index is configured.
pub fn for_config(cfg: &crate::config::Config) -> Result<Box<dyn Embedder>, StoreError> {
    match (&cfg.embedding, &cfg.vector) {
        (Some(e), _) => build(e),
        (None, Some(v)) if v.backend == "local" => Ok(Box::new(Cached::new(local::MiniLm::load(None)?, 512))),
        _ => Err(StoreError::NotConfigured(
            "no embedder: set [profile.NAME.embedding] provider = \"openai\" | \"pinecone\" | \"local\" (or OPENAI_API_KEY)".into(),
        )),
    }
}

/// The HTTP client of the remote embedders (rustls with the ring provider, 30 s per request).
pub(crate) fn http_client() -> Result<reqwest::Client, StoreError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| StoreError::Other(format!("http client: {e}")))
}

/// Send an embedding request and read its JSON reply; a failure carries the provider's message.
/// The `secret` sent with it is masked in whatever the provider echoes back.
pub(crate) async fn send_json(
    req: reqwest::RequestBuilder,
    who: &str,
    secret: &str,
) -> Result<serde_json::Value, StoreError> {
    let resp = req.send().await.map_err(|e| StoreError::Unreachable(format!("{who}: {e}")))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| StoreError::Unreachable(format!("{who}: {e}")))?;
    let text = crate::text::mask_secrets(&text, &[secret]);
    if !status.is_success() {
        return Err(StoreError::Server(format!("{who} {status}: {}", crate::store::pinecone::error_message(&text))));
    }
    serde_json::from_str(&text).map_err(|e| StoreError::Server(format!("{who} sent malformed JSON: {e}")))
}

/// The embedder of queries, or why there is none (not configured, or its model not found):
/// only a search needs it; the index itself stays readable without.
pub type QueryEmbedder<'a> = Result<&'a dyn Embedder, &'a str>;

/// Why a query cannot be embedded when no embedder is configured.
pub const NO_EMBEDDER: &str =
    "no embedder for this index: set [profile.NAME.embedding] provider = \"openai\" | \"pinecone\" | \"local\"";

/// Check an embedder's dimension against an index's before the first query.
pub fn check_dimension(embedder: usize, index: usize) -> Result<(), StoreError> {
    if embedder == index {
        Ok(())
    } else {
        Err(StoreError::Server(format!(
            "the embedder makes {embedder}-dimensional vectors but the index holds {index}-dimensional ones: \
             configure the model the index was built with"
        )))
    }
}
