//! The file's schema: what `[profile.NAME]` sections may hold, as read (unknown keys are errors).

use super::*;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    pub(super) default_profile: Option<String>,
    #[serde(default)]
    pub(super) profile: BTreeMap<String, FileProfile>,
    #[serde(default)]
    pub(super) keymap: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProfile {
    pub(super) read_only: Option<bool>,
    pub(super) theme: Option<String>,
    pub(super) redis: Option<FileRedis>,
    pub(super) long_term: Option<FileLongTerm>,
    pub(super) vector: Option<FileVector>,
    pub(super) embedding: Option<FileEmbedding>,
    pub(super) health: Option<FileHealth>,
    pub(super) memory: Option<MemoryConfig>,
    pub(super) layout: Option<FileLayout>,
}

/// A field override: one name (or dot path), or a list of alternatives tried in order
/// (`content_field = ["content", "text"]`), kept as `a|b` (see `layout::at_path`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum FieldNames {
    One(String),
    Many(Vec<String>),
}

impl FieldNames {
    pub(super) fn joined(self) -> String {
        match self {
            FieldNames::One(s) => s,
            FieldNames::Many(v) => v.join("|"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLayout {
    pub(super) preset: Option<String>,
    pub(super) collection: Option<String>,
    pub(super) messages_in: Option<String>,
    pub(super) messages_field: Option<String>,
    pub(super) encoding: Option<String>,
    pub(super) order: Option<String>,
    pub(super) key_prefix: Option<String>,
    pub(super) keys: Option<String>,
    pub(super) key: Option<String>,
    pub(super) conversation_field: Option<String>,
    pub(super) role_field: Option<FieldNames>,
    pub(super) content_field: Option<FieldNames>,
    pub(super) timestamp_field: Option<String>,
    pub(super) id_field: Option<FieldNames>,
    pub(super) user_field: Option<FieldNames>,
    pub(super) agent_field: Option<FieldNames>,
    pub(super) roles: Option<BTreeMap<String, String>>,
    pub(super) vector_text_field: Option<String>,
    pub(super) vector_conversation_field: Option<String>,
    pub(super) vector_message_field: Option<String>,
    /// mem0's history database (`history.db`): the sub-second time of each memory.
    pub(super) history: Option<String>,
    /// A second source: the recent messages from another framework (`[profile.X.layout.recent]`).
    pub(super) recent: Option<Box<FileLayout>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHealth {
    pub(super) interval_ms: Option<u64>,
    pub(super) deadline_ms: Option<u64>,
    pub(super) deadlines: Option<BTreeMap<String, u64>>,
    pub(super) heavy_interval_ms: Option<u64>,
    pub(super) window_s: Option<u64>,
    pub(super) latency_warn_ms: Option<f64>,
    pub(super) latency_crit_ms: Option<f64>,
    pub(super) miss_rate_warn: Option<f64>,
    pub(super) miss_rate_crit: Option<f64>,
    pub(super) memory_warn_pct: Option<f64>,
    pub(super) memory_crit_pct: Option<f64>,
    pub(super) fullness_warn: Option<f64>,
    pub(super) fullness_crit: Option<f64>,
    pub(super) evictions_warn_per_s: Option<f64>,
    pub(super) evictions_crit_per_s: Option<f64>,
    pub(super) time_to_full_warn_s: Option<f64>,
    pub(super) time_to_full_crit_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRedis {
    pub(super) url: Option<String>,
    pub(super) delimiter: Option<String>,
    pub(super) scan_count: Option<u32>,
    pub(super) preview_bytes: Option<u64>,
    pub(super) page_size: Option<u32>,
    pub(super) timeout_ms: Option<u64>,
    pub(super) scan_timeout_ms: Option<u64>,
    pub(super) max_ops_per_sec: Option<u64>,
    pub(super) tls_ca_file: Option<String>,
    pub(super) mode: Option<String>,
    pub(super) read_from_replicas: Option<bool>,
    /// Sentinel addresses (`host:port`) and the master's name: another way to write a
    /// redis+sentinel:// URL.
    pub(super) sentinels: Option<Vec<String>>,
    pub(super) sentinel_master: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLongTerm {
    pub(super) backend: Option<String>,
    pub(super) project_id: Option<String>,
    pub(super) database_id: Option<String>,
    pub(super) path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileVector {
    pub(super) backend: Option<String>,
    pub(super) index: Option<String>,
    pub(super) host: Option<String>,
    pub(super) control_url: Option<String>,
    pub(super) metric: Option<String>,
    pub(super) namespace: Option<String>,
    pub(super) text_field: Option<String>,
    pub(super) path: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) url: Option<String>,
    pub(super) vector_field: Option<String>,
    pub(super) distance_threshold: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEmbedding {
    pub(super) provider: Option<String>,
    pub(super) model: Option<String>,
    pub(super) base_url: Option<String>,
    pub(super) model_dir: Option<String>,
    pub(super) dimensions: Option<u32>,
    pub(super) api_key: Option<String>,
}

// ---------- resolved configuration ----------
