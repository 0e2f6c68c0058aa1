//! Pinecone Inference `POST /embed` with `input_type` query or passage.

use super::{Embedder, InputType};
use crate::config::EmbeddingConfig;
use crate::error::StoreError;
use serde_json::{Value, json};

pub struct PineconeInference {
    http: reqwest::Client,
    base: String,
    model: String,
    key: String,
}

impl PineconeInference {
    pub fn new(cfg: &EmbeddingConfig) -> Result<PineconeInference, StoreError> {
        let key = cfg
            .api_key
            .clone()
            .or_else(|| std::env::var("PINECONE_API_KEY").ok())
            .ok_or_else(|| StoreError::NotConfigured("Pinecone Inference needs PINECONE_API_KEY".into()))?;
        Ok(PineconeInference {
            http: super::http_client()?,
            base: cfg
                .base_url
                .clone()
                .unwrap_or_else(|| crate::store::pinecone::CONTROL_URL.into())
                .trim_end_matches('/')
                .to_string(),
            model: cfg.model.clone().unwrap_or_else(|| "multilingual-e5-large".into()),
            key,
        })
    }
}

#[async_trait::async_trait]
impl Embedder for PineconeInference {
    fn describe(&self) -> String {
        format!("pinecone inference {}", self.model)
    }
    fn dimension(&self) -> Option<usize> {
        None
    }
    async fn embed(&self, texts: &[String], kind: InputType) -> Result<Vec<Vec<f32>>, StoreError> {
        let input_type = if kind == InputType::Query { "query" } else { "passage" };
        let body = json!({
            "model": self.model,
            "parameters": { "input_type": input_type, "truncate": "END" },
            "inputs": texts.iter().map(|t| json!({ "text": t })).collect::<Vec<_>>(),
        });
        let req = self
            .http
            .post(format!("{}/embed", self.base))
            .header("Api-Key", &self.key)
            .header("X-Pinecone-API-Version", crate::store::pinecone::API_VERSION)
            .json(&body);
        let v = super::send_json(req, "pinecone inference", &self.key).await?;
        let data =
            v.get("data").and_then(Value::as_array).ok_or_else(|| StoreError::Server("reply has no `data`".into()))?;
        Ok(data
            .iter()
            .map(|d| {
                d.get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
                    .unwrap_or_default()
            })
            .collect())
    }
}
