//! THE one place a `Config` becomes connected tiers: the Redis key store, the long-term store,
//! and the vector tier (store + embedder + the index's dimension, namespace and text field).
//! The backend, the memory layer, the headless commands and the demo all connect through here,
//! so a new kind of tier (a Redis Cluster, a Sentinel) is added in one place.

use crate::config::Config;
use crate::embed::Embedder;
use crate::error::StoreError;
use crate::store::{Access, KeyStore, LongTermStore, VectorStore};
use std::sync::Arc;

/// The vector tier as everything above the stores uses it.
#[derive(Clone)]
pub struct VectorTier {
    pub store: Arc<dyn VectorStore>,
    /// None for an index that embeds for itself (integrated inference) when no embedding is
    /// configured.
    pub embedder: Option<Arc<dyn Embedder>>,
    /// Why the configured embedder could not be loaded (its model not found…): the index
    /// stays up — stats, browsing, the trace — and only queries cannot be embedded.
    pub embedder_error: Option<String>,
    /// The index's dimension, when its stats say.
    pub dimension: Option<usize>,
    pub namespace: String,
    pub text_field: String,
}

impl VectorTier {
    /// The embedder, for those that must embed texts themselves (the memory layer, `index`).
    pub fn embedder(&self) -> Result<&Arc<dyn Embedder>, StoreError> {
        self.embedder.as_ref().ok_or_else(|| {
            StoreError::NotConfigured(self.embedder_error.clone().unwrap_or_else(|| {
                "this needs an embedder of its own: configure [profile.NAME.embedding] (provider = \"local\", \"openai\" or \"pinecone\")"
                    .into()
            }))
        })
    }

    /// The embedder of queries, or why there is none.
    pub fn query_embedder(&self) -> crate::embed::QueryEmbedder<'_> {
        match &self.embedder {
            Some(e) => Ok(&**e),
            None => Err(self.embedder_error.as_deref().unwrap_or(crate::embed::NO_EMBEDDER)),
        }
    }
}

fn not_configured(what: &str) -> StoreError {
    StoreError::NotConfigured(what.into())
}

/// The Redis key store (`db` overrides the URL's database). Connects lazily: errors of the
/// server itself surface on the first call. Its write guard is disarmed; the caller arms it.
pub fn redis(cfg: &Config, db: Option<u32>) -> Result<Arc<dyn KeyStore>, StoreError> {
    let rc = cfg
        .redis
        .as_ref()
        .ok_or_else(|| not_configured("Redis: set [profile.NAME.redis] url, REDIS_URL or --redis-url"))?;
    Ok(Arc::new(crate::store::redis::RedisStore::connect(rc, db)?))
}

/// The long-term store (the source of truth), files opened as `access` allows.
pub async fn long_term(cfg: &Config, access: Access) -> Result<Arc<dyn LongTermStore>, StoreError> {
    let lt = cfg.long_term.as_ref().ok_or_else(|| {
        not_configured("the long-term tier: set [profile.NAME.long_term] (firestore or sqlite), FIRESTORE_EMULATOR_HOST or GOOGLE_CLOUD_PROJECT")
    })?;
    build_long_term(lt, access).await
}

/// The vector store with its embedder (loaded off the async runtime: the local model takes a
/// moment) and the index's dimension (a query checks the embedder's against it).
pub async fn vector(cfg: &Config, access: Access) -> Result<VectorTier, StoreError> {
    let vc = cfg.vector.as_ref().ok_or_else(|| {
        not_configured(
            "the vector tier: set [profile.NAME.vector] (backend = \"local\" or \"pinecone\"), or PINECONE_API_KEY with PINECONE_INDEX",
        )
    })?;
    let store = match (vc.backend.as_str(), &cfg.long_term) {
        // A collection with a vector field, in the profile's Firestore.
        ("firestore", Some(crate::config::LongTermConfig::Firestore { project_id, database_id, emulator_host })) => {
            let fs =
                crate::store::firestore::FirestoreStore::connect(project_id, database_id, emulator_host.as_deref())
                    .await?;
            let metric =
                vc.metric.as_deref().and_then(crate::domain::Metric::parse).unwrap_or(crate::domain::Metric::Cosine);
            Arc::new(
                crate::store::firestore::vectors::FirestoreVectors::new(
                    Arc::new(fs),
                    vc.index.as_deref().unwrap_or_default(),
                    vc.vector_field.as_deref().unwrap_or("embedding"),
                    metric,
                )
                .with_threshold(vc.distance_threshold),
            ) as Arc<dyn VectorStore>
        }
        _ => build_vector(vc, access).await?,
    };
    let has_embedding = cfg.embedding.is_some();
    let c = cfg.clone();
    let (embedder, embedder_error): (Option<Arc<dyn Embedder>>, Option<String>) =
        match tokio::task::spawn_blocking(move || crate::embed::for_config(&c))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
        {
            Ok(e) => (Some(Arc::from(e)), None),
            // An integrated-inference index needs no embedder of ours.
            Err(StoreError::NotConfigured(_)) if !has_embedding => (None, None),
            // A configured embedder that cannot load (the local model not fetched) costs the
            // queries only, not the index: said with its fix where a query is asked.
            Err(e) => {
                let why = match e {
                    StoreError::NotConfigured(m) => m,
                    e => e.to_string(),
                };
                // The fix first: a narrow screen still shows it.
                let said = if why.contains("memscope model fetch") {
                    format!("queries need the local model: run `memscope model fetch` ({why})")
                } else {
                    format!("queries cannot be embedded: {why}")
                };
                (None, Some(said))
            }
        };
    let dimension = store.stats().await?.dimension.map(|d| d as usize);
    Ok(VectorTier {
        store,
        embedder,
        embedder_error,
        dimension,
        namespace: vc.namespace.clone(),
        text_field: vc.text_field.clone(),
    })
}

/// The one place where the long-term implementation is chosen.
pub async fn build_long_term(
    cfg: &crate::config::LongTermConfig,
    access: Access,
) -> Result<std::sync::Arc<dyn LongTermStore>, StoreError> {
    use crate::config::LongTermConfig;
    Ok(match cfg {
        LongTermConfig::Firestore { project_id, database_id, emulator_host } => std::sync::Arc::new(
            crate::store::firestore::FirestoreStore::connect(project_id, database_id, emulator_host.as_deref()).await?,
        ),
        LongTermConfig::Sqlite { path } => {
            let path = path.clone();
            let s = tokio::task::spawn_blocking(move || match access {
                Access::ReadWrite => crate::store::sqlite::SqliteStore::open(&path),
                Access::ReadOnly => crate::store::sqlite::SqliteStore::open_read_only(&path),
            })
            .await
            .map_err(|e| StoreError::Other(e.to_string()))??;
            std::sync::Arc::new(s)
        }
    })
}

/// The one place where the vector store is chosen.
pub async fn build_vector(
    cfg: &crate::config::VectorConfig,
    access: Access,
) -> Result<std::sync::Arc<dyn VectorStore>, StoreError> {
    use crate::domain::Metric;
    Ok(match cfg.backend.as_str() {
        "pinecone" => {
            let key = cfg
                .api_key
                .clone()
                .ok_or_else(|| StoreError::NotConfigured("Pinecone needs an API key: set PINECONE_API_KEY".into()))?;
            let mut o = crate::store::pinecone::PineconeOptions::new(key);
            o.index = cfg.index.clone();
            o.host = cfg.host.clone();
            if let Some(u) = &cfg.control_url {
                o.control_url = u.clone();
            }
            std::sync::Arc::new(crate::store::pinecone::Pinecone::connect(o).await?)
        }
        "firestore" => {
            return Err(StoreError::NotConfigured(
                "[vector] backend = \"firestore\" searches the profile's long-term Firestore: it opens with the profile (tiers::vector)".into(),
            ));
        }
        "redis" => {
            let url = cfg.url.clone().ok_or_else(|| {
                StoreError::NotConfigured("[vector] backend = \"redis\" needs url (or the profile's Redis)".into())
            })?;
            let index = cfg.index.clone().ok_or_else(|| {
                StoreError::NotConfigured("[vector] backend = \"redis\" needs index = \"NAME\"".into())
            })?;
            let store = crate::store::redis::RedisStore::connect(&crate::config::RedisConfig::new(url), None)?;
            std::sync::Arc::new(crate::store::redis::vectors::RedisVectors::new(
                std::sync::Arc::new(store),
                &index,
                cfg.vector_field.clone(),
            ))
        }
        _ => {
            let metric = cfg.metric.as_deref().and_then(Metric::parse).unwrap_or(Metric::Cosine);
            let path = match &cfg.path {
                Some(p) => p.clone(),
                None => directories::ProjectDirs::from("", "", "memscope")
                    .map(|d| d.data_dir().join("vectors.db").display().to_string())
                    .ok_or_else(|| StoreError::NotConfigured("[vector] path".into()))?,
            };
            let path = match path.strip_prefix("~/") {
                Some(rest) => std::env::var("HOME").map(|h| format!("{h}/{rest}")).unwrap_or(path.clone()),
                None => path,
            };
            let file = std::fs::canonicalize(&path).map(|p| p.display().to_string()).unwrap_or(path.clone());
            let key = format!("{file}\0{access:?}");
            // A reader shares a writer's index open in this process (the demo's TUI sees what its
            // agents write); a writer needs its own read-write instance.
            let shared = [format!("{file}\0{:?}", Access::ReadWrite), key.clone()];
            let candidates = if access == Access::ReadOnly { &shared[..] } else { &shared[..1] };
            if let Some(open) = LOCAL_OPEN
                .lock()
                .ok()
                .and_then(|m| candidates.iter().find_map(|k| m.get(k).and_then(std::sync::Weak::upgrade)))
            {
                return Ok(open);
            }
            let p2 = path.clone();
            let store = std::sync::Arc::new(
                tokio::task::spawn_blocking(move || match access {
                    Access::ReadWrite => crate::store::local_vectors::LocalVectors::open(&p2, metric),
                    Access::ReadOnly => crate::store::local_vectors::LocalVectors::open_read_only(&p2, metric),
                })
                .await
                .map_err(|e| StoreError::Other(e.to_string()))??,
            );
            if let Ok(mut m) = LOCAL_OPEN.lock() {
                m.retain(|_, w| w.strong_count() > 0);
                m.insert(key, std::sync::Arc::downgrade(&store));
            }
            store
        }
    })
}

/// Local indexes open in this process, by file: everyone in the process who opens one file
/// shares one index (a second instance would not see the first one's writes — the demo's
/// agents and its TUI would disagree about what is stored).
static LOCAL_OPEN: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Weak<crate::store::local_vectors::LocalVectors>>>,
> = std::sync::LazyLock::new(Default::default);
