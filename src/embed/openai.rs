//! Any OpenAI-compatible `POST {base_url}/embeddings` (OpenAI, Ollama, vLLM, LM Studio, TEI).

use super::{Embedder, InputType};
use crate::config::EmbeddingConfig;
use crate::error::StoreError;
use serde_json::{Value, json};

pub struct OpenAi {
    http: reqwest::Client,
    base: String,
    model: String,
    key: Option<String>,
    dimensions: Option<u32>,
}

impl OpenAi {
    pub fn new(cfg: &EmbeddingConfig) -> Result<OpenAi, StoreError> {
        Ok(OpenAi {
            http: super::http_client()?,
            base: cfg
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.openai.com/v1".into())
                .trim_end_matches('/')
                .to_string(),
            model: cfg.model.clone().unwrap_or_else(|| "text-embedding-3-small".into()),
            key: cfg.api_key.clone(),
            dimensions: cfg.dimensions,
        })
    }
}

#[async_trait::async_trait]
impl Embedder for OpenAi {
    fn describe(&self) -> String {
        format!("openai-compatible {} at {}", self.model, self.base)
    }
    fn dimension(&self) -> Option<usize> {
        self.dimensions.map(|d| d as usize)
    }
    async fn embed(&self, texts: &[String], _kind: InputType) -> Result<Vec<Vec<f32>>, StoreError> {
        let mut body = json!({ "model": self.model, "input": texts });
        if let Some(d) = self.dimensions {
            body["dimensions"] = json!(d);
        }
        let mut req = self.http.post(format!("{}/embeddings", self.base)).json(&body);
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let v = super::send_json(req, "embedder", self.key.as_deref().unwrap_or_default()).await?;
        let mut rows: Vec<(usize, Vec<f32>)> = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| StoreError::Server("embedder reply has no `data`".into()))?
            .iter()
            .enumerate()
            .map(|(i, d)| {
                // Match results by their `index`, not by position.
                let idx = d.get("index").and_then(Value::as_u64).map(|x| x as usize).unwrap_or(i);
                let e = d
                    .get("embedding")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
                    .unwrap_or_default();
                (idx, e)
            })
            .collect();
        rows.sort_by_key(|(i, _)| *i);
        if rows.len() != texts.len() {
            return Err(StoreError::Server(format!(
                "embedder returned {} vectors for {} inputs",
                rows.len(),
                texts.len()
            )));
        }
        Ok(rows.into_iter().map(|(_, e)| e).collect())
    }
}
