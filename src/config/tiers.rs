//! The long-term store, the vector tier and the embedder.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub enum LongTermConfig {
    Firestore { project_id: String, database_id: String, emulator_host: Option<String> },
    Sqlite { path: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorConfig {
    pub backend: String,
    pub index: Option<String>,
    pub host: Option<String>,
    /// Pinecone's control plane (default https://api.pinecone.io).
    pub control_url: Option<String>,
    /// Local index metric: cosine (default), dotproduct or euclidean.
    pub metric: Option<String>,
    pub namespace: String,
    pub text_field: String,
    pub path: Option<String>,
    pub api_key: Option<String>,
    /// `backend = "redis"`: the server holding the index (default: the profile's Redis).
    pub url: Option<String>,
    /// `backend = "redis"`: the VECTOR field to search (default: the index's first).
    pub vector_field: Option<String>,
    /// `backend = "firestore"`: find_nearest's own distance threshold (documents farther by
    /// the measure are not returned; for the dot product, those below it).
    pub distance_threshold: Option<f64>,
}

impl VectorConfig {
    /// The embedded index at `path` (default: the data dir), cosine, default namespace.
    pub fn local(path: Option<String>) -> VectorConfig {
        VectorConfig {
            backend: "local".into(),
            index: None,
            host: None,
            control_url: None,
            metric: None,
            namespace: String::new(),
            text_field: "text".into(),
            path,
            api_key: None,
            url: None,
            vector_field: None,
            distance_threshold: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingConfig {
    pub provider: String,
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub model_dir: Option<String>,
    pub dimensions: Option<u32>,
    pub api_key: Option<String>,
}

/// The long-term tier: the file's section, else FIRESTORE_EMULATOR_HOST / GOOGLE_CLOUD_PROJECT.
pub(super) fn resolve_long_term(
    path: &str,
    name: &str,
    section: Option<FileLongTerm>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<LongTermConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let emulator = env("FIRESTORE_EMULATOR_HOST").filter(|s| !s.is_empty());
    let gcp_project = env("GOOGLE_CLOUD_PROJECT").filter(|s| !s.is_empty());
    Ok(match section {
        Some(lt) => match lt.backend.as_deref().unwrap_or("firestore") {
            "firestore" => Some(LongTermConfig::Firestore {
                project_id: gcp_project.clone().or(lt.project_id).ok_or_else(|| {
                    invalid(format!("[profile.{name}.long_term] firestore needs project_id (or GOOGLE_CLOUD_PROJECT)"))
                })?,
                database_id: lt.database_id.unwrap_or_else(|| "(default)".into()),
                emulator_host: emulator.clone(),
            }),
            "sqlite" => Some(LongTermConfig::Sqlite {
                path: lt.path.ok_or_else(|| invalid(format!("[profile.{name}.long_term] sqlite needs path")))?,
            }),
            other => {
                return Err(invalid(format!(
                    "[profile.{name}.long_term] backend = \"{other}\": expected \"firestore\" or \"sqlite\""
                )));
            }
        },
        None if emulator.is_some() || gcp_project.is_some() => Some(LongTermConfig::Firestore {
            project_id: gcp_project.unwrap_or_else(|| "demo-memscope".into()),
            database_id: "(default)".into(),
            emulator_host: emulator,
        }),
        None => None,
    })
}

/// The vector tier: the file's section (PINECONE_* override it), else PINECONE_* alone.
pub(super) fn resolve_vector(
    path: &str,
    name: &str,
    section: Option<FileVector>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<VectorConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let pc_key = env("PINECONE_API_KEY").filter(|s| !s.is_empty());
    let pc_index = env("PINECONE_INDEX").filter(|s| !s.is_empty());
    let pc_host = env("PINECONE_INDEX_HOST").filter(|s| !s.is_empty());
    Ok(match section {
        Some(v) => {
            let backend = v.backend.unwrap_or_else(|| "pinecone".into());
            if !["pinecone", "local", "redis", "firestore"].contains(&backend.as_str()) {
                return Err(invalid(format!(
                    "[profile.{name}.vector] backend = \"{backend}\": expected \"pinecone\", \"local\", \"redis\" (a RediSearch / valkey-search index) or \"firestore\" (a collection with a vector field)"
                )));
            }
            if backend == "firestore" && v.index.is_none() {
                return Err(invalid(format!(
                    "[profile.{name}.vector] backend = \"firestore\" needs index = \"COLLECTION\": the collection whose documents hold the vectors (and vector_field, default \"embedding\")"
                )));
            }
            if backend == "firestore"
                && let Some(Err(e)) = v.index.as_deref().map(crate::domain::CollectionPattern::parse)
            {
                return Err(invalid(format!(
                    "[profile.{name}.vector] index = \"{}\": {e}",
                    v.index.as_deref().unwrap_or_default()
                )));
            }
            if v.distance_threshold.is_some() && backend != "firestore" {
                return Err(invalid(format!(
                    "[profile.{name}.vector] distance_threshold: Firestore's find_nearest option (backend = \"firestore\"); the Search tab's `[`/`]` threshold works with every backend"
                )));
            }
            if backend == "redis" && v.index.is_none() {
                return Err(invalid(format!(
                    "[profile.{name}.vector] backend = \"redis\" needs index = \"NAME\": the search index (FT._LIST names them; `memscope detect` lists them with the lines to add)"
                )));
            }
            if let Some(m) = &v.metric
                && crate::domain::Metric::parse(m).is_none()
            {
                return Err(invalid(format!(
                    "[profile.{name}.vector] metric = \"{m}\": expected \"cosine\", \"dotproduct\" or \"euclidean\""
                )));
            }
            Some(VectorConfig {
                backend,
                index: pc_index.clone().or(v.index),
                host: pc_host.clone().or(v.host),
                control_url: v.control_url,
                metric: v.metric,
                namespace: v.namespace.unwrap_or_default(),
                text_field: v.text_field.unwrap_or_else(|| "text".into()),
                path: v.path,
                api_key: pc_key.clone().or(v.api_key),
                url: v.url,
                vector_field: v.vector_field,
                distance_threshold: v.distance_threshold,
            })
        }
        None if pc_key.is_some() && (pc_index.is_some() || pc_host.is_some()) => Some(VectorConfig {
            backend: "pinecone".into(),
            index: pc_index,
            host: pc_host,
            control_url: None,
            metric: None,
            namespace: String::new(),
            text_field: "text".into(),
            path: None,
            api_key: pc_key,
            url: None,
            vector_field: None,
            distance_threshold: None,
        }),
        None => None,
    })
}

/// The embedder: the file's section, else OPENAI_API_KEY alone.
pub(super) fn resolve_embedding(
    path: &str,
    name: &str,
    section: Option<FileEmbedding>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<EmbeddingConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let openai_key = env("OPENAI_API_KEY").filter(|s| !s.is_empty());
    Ok(match section {
        Some(e) => {
            let provider = e.provider.unwrap_or_else(|| "openai".into());
            if !matches!(provider.as_str(), "openai" | "pinecone" | "local") {
                return Err(invalid(format!(
                    "[profile.{name}.embedding] provider = \"{provider}\": expected \"openai\", \"pinecone\" or \"local\""
                )));
            }
            Some(EmbeddingConfig {
                api_key: if provider == "openai" { openai_key.or(e.api_key) } else { e.api_key },
                provider,
                model: e.model,
                base_url: e.base_url,
                model_dir: e.model_dir,
                dimensions: e.dimensions,
            })
        }
        None if openai_key.is_some() => Some(EmbeddingConfig {
            provider: "openai".into(),
            model: Some("text-embedding-3-small".into()),
            base_url: None,
            model_dir: None,
            dimensions: None,
            api_key: openai_key,
        }),
        None => None,
    })
}
