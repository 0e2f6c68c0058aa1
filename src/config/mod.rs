//! Configuration: built-in defaults < file (`--config`, `$MEMSCOPE_CONFIG`, OS config dir)
//! < environment (`REDIS_URL`, …) < flags. Profiles live in `[profile.NAME]` sections.
//! Malformed TOML and unknown keys are errors naming the file, the line and the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod file;
mod health;
mod key_template;
mod layout;
mod redis;
#[cfg(test)]
mod tests;
mod tiers;

use file::*;
pub use health::*;
pub use key_template::*;
pub use layout::*;
pub use redis::*;
pub use tiers::*;

/// The configuration shipped inside the binary; documents every key.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}:{line}:{column}: {message}")]
    Parse { path: String, line: usize, column: usize, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// A value from the environment or a flag (named), not from a file.
    #[error("{source_name}: {message}")]
    Source { source_name: String, message: String },
}

// ---------- file shape (every key optional; unknown keys are errors) ----------

/// The memory layer's rules (`[profile.NAME.memory]`): what it caches, for how long, and which
/// messages it embeds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// Messages kept in each `conversation:{id}:messages` list.
    pub recent_messages: u32,
    /// TTL of `session:{id}`, refreshed by every message.
    pub session_ttl_s: u64,
    /// Roles whose messages are embedded into the vector tier …
    pub vector_roles: Vec<String>,
    /// … when at least this many characters long.
    pub vector_min_chars: usize,
    /// TTL of documents cached by fallback reads and of `cache_result` entries.
    pub cache_ttl_s: u64,
    /// TTL of cached vector-search results (`vsearch:{hash}`).
    pub vsearch_ttl_s: u64,
    /// The in-process LRU in front of Redis: entries, and how long one is trusted.
    pub lru_capacity: usize,
    pub lru_ttl_s: u64,
    /// Messages per batch of `memscope import` (Firestore commits at most 500 writes each).
    pub batch: usize,
}

impl MemoryConfig {
    /// The rule of the vector tier: whether a message of this role and content is embedded.
    pub fn is_relevant(&self, role: &str, content: &str) -> bool {
        self.vector_roles.iter().any(|r| r == role) && content.chars().count() >= self.vector_min_chars
    }
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            recent_messages: 50,
            session_ttl_s: 1800,
            vector_roles: vec!["user".into(), "assistant".into()],
            vector_min_chars: 20,
            cache_ttl_s: 300,
            vsearch_ttl_s: 120,
            lru_capacity: 1000,
            lru_ttl_s: 30,
            batch: 500,
        }
    }
}

/// The configuration memscope runs with, after every layer was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub profile: String,
    /// `"default"` or `"high-contrast"` (the profile's `theme`, or `MEMSCOPE_THEME`).
    pub theme: String,
    pub read_only: bool,
    pub redis: Option<RedisConfig>,
    pub long_term: Option<LongTermConfig>,
    pub vector: Option<VectorConfig>,
    pub embedding: Option<EmbeddingConfig>,
    pub health: HealthConfig,
    pub memory: MemoryConfig,
    /// Where the conversations are and how they are written (`[profile.X.layout]`).
    pub layout: LayoutConfig,
    pub keymap: BTreeMap<String, String>,
    /// Files looked at, in order, and whether each was found.
    pub searched: Vec<(PathBuf, bool)>,
    /// The file that was loaded, if any.
    pub file: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// What the command line contributes (highest precedence).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub profile: Option<String>,
    pub redis_url: Option<String>,
    pub write: bool,
}

/// Where the configuration file is looked for, in order: `--config`, `$MEMSCOPE_CONFIG`,
/// then `config.toml` in the OS config dir. The first two must exist when named.
pub fn candidate_paths(ov: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> (Vec<PathBuf>, bool) {
    if let Some(p) = &ov.config {
        return (vec![p.clone()], true);
    }
    if let Some(p) = env("MEMSCOPE_CONFIG").filter(|s| !s.is_empty()) {
        return (vec![PathBuf::from(p)], true);
    }
    let mut v = Vec::new();
    if let Some(d) = directories::ProjectDirs::from("", "", "memscope") {
        v.push(d.config_dir().join("config.toml"));
    }
    (v, false)
}

/// Load with the process environment.
pub fn load(ov: &Overrides) -> Result<Config, ConfigError> {
    load_with(ov, &|k| std::env::var(k).ok())
}

/// Load with an injected environment (tests).
pub fn load_with(ov: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let (paths, required) = candidate_paths(ov, env);
    let mut searched = Vec::new();
    let mut file = None;
    let mut parsed = FileConfig::default();
    let mut warnings = Vec::new();
    for p in paths {
        match std::fs::read_to_string(&p) {
            Ok(text) => {
                searched.push((p.clone(), true));
                parsed = parse_str(&text, &p.display().to_string())?;
                warn_if_secrets_readable(&p, &parsed, &mut warnings);
                file = Some(p);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => searched.push((p, false)),
            Err(e) => {
                return Err(ConfigError::Io { path: p.display().to_string(), source: e });
            }
        }
    }
    let path_s = file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<defaults>".into());
    resolve(parsed, &path_s, ov, env, searched, file, warnings)
}

/// Parse TOML text; errors carry file, line, column and the offending key.
fn parse_str(text: &str, path: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError::Parse { path: path.into(), line, column, message: e.message().trim().to_string() }
    })
}

/// Validate a config file's text without loading anything else (used by tests and `config check`).
pub fn validate_text(text: &str, path: &str) -> Result<(), ConfigError> {
    let parsed = parse_str(text, path)?;
    resolve(parsed, path, &Overrides::default(), &|_| None, vec![], None, vec![]).map(|_| ())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

fn warn_if_secrets_readable(path: &Path, parsed: &FileConfig, warnings: &mut Vec<String>) {
    let has_secret = parsed.profile.values().any(|p| {
        p.vector.as_ref().is_some_and(|v| v.api_key.is_some())
            || p.embedding.as_ref().is_some_and(|e| e.api_key.is_some())
            || p.redis.as_ref().and_then(|r| r.url.as_deref()).is_some_and(|u| redact_url(u) != u)
    });
    #[cfg(unix)]
    if has_secret {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            warnings.push(format!(
                "{} holds secrets and is readable by other users: chmod 600 it, or move the secrets to the environment",
                path.display()
            ));
        }
    }
}

fn resolve(
    file: FileConfig,
    path: &str,
    ov: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    searched: Vec<(PathBuf, bool)>,
    file_path: Option<PathBuf>,
    warnings: Vec<String>,
) -> Result<Config, ConfigError> {
    let FileConfig { default_profile, mut profile, keymap } = file;
    let name = pick_profile(path, ov, default_profile, &profile)?;
    let p = profile.remove(&name).unwrap_or_default();
    let redis = resolve_redis(path, &name, p.redis, ov, env)?;
    let long_term = resolve_long_term(path, &name, p.long_term, env)?;
    let text_field_set = p.vector.as_ref().is_some_and(|v| v.text_field.is_some());
    let mut vector = resolve_vector(path, &name, p.vector, env)?;
    let embedding = resolve_embedding(path, &name, p.embedding, env)?;
    let health = resolve_health(path, &name, p.health)?;
    let memory = resolve_memory(path, &name, p.memory)?;
    let mut layout = resolve_layout(path, &name, p.layout)?;
    if let Some(v) = &vector {
        layout.on_vector_backend(&v.backend);
    }
    if let Some(v) = vector.as_mut().filter(|_| !text_field_set) {
        // The layout names where its framework keeps the text (mem0: `data`).
        v.text_field = layout.vector_text_field.clone();
    }
    // A Firestore vector collection is in the profile's long-term Firestore.
    if vector.as_ref().is_some_and(|v| v.backend == "firestore")
        && !matches!(long_term, Some(LongTermConfig::Firestore { .. }))
    {
        return Err(ConfigError::Invalid {
            path: path.into(),
            message: format!(
                "[profile.{name}.vector] backend = \"firestore\" searches the profile's Firestore: set [profile.{name}.long_term] (backend = \"firestore\", project_id), or FIRESTORE_EMULATOR_HOST / GOOGLE_CLOUD_PROJECT"
            ),
        });
    }
    // A Redis search index is on the profile's Redis unless it names its own server.
    if let Some(v) = vector.as_mut().filter(|v| v.backend == "redis" && v.url.is_none()) {
        v.url = redis.as_ref().map(|r| r.url.clone());
        if v.url.is_none() {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!(
                    "[profile.{name}.vector] backend = \"redis\": set url = \"redis://…\" there, or the profile's [profile.{name}.redis] url"
                ),
            });
        }
    }
    let read_only = if ov.write { false } else { p.read_only.unwrap_or(true) };
    let theme = match env("MEMSCOPE_THEME").or(p.theme) {
        None => "default".to_string(),
        Some(t) if t == "default" || t == "high-contrast" => t,
        Some(t) => {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!(
                    "[profile.{name}] theme = \"{t}\" (or MEMSCOPE_THEME): expected \"default\" or \"high-contrast\""
                ),
            });
        }
    };
    Ok(Config {
        profile: name,
        theme,
        read_only,
        redis,
        long_term,
        vector,
        embedding,
        health,
        memory,
        layout,
        keymap,
        searched,
        file: file_path,
        warnings,
    })
}

/// Which profile: --profile, else default_profile, else "default", else the only one.
fn pick_profile(
    path: &str,
    ov: &Overrides,
    default_profile: Option<String>,
    profile: &BTreeMap<String, FileProfile>,
) -> Result<String, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    Ok(if let Some(p) = &ov.profile {
        if !profile.contains_key(p) && !profile.is_empty() {
            return Err(invalid(format!(
                "profile `{p}` not found; profiles: {}",
                profile.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        p.clone()
    } else if let Some(p) = default_profile {
        if !profile.contains_key(&p) {
            return Err(invalid(format!("default_profile = \"{p}\" names no [profile.{p}] section")));
        }
        p
    } else if profile.contains_key("default") {
        "default".into()
    } else if profile.len() == 1 {
        profile.keys().next().cloned().unwrap_or_default()
    } else if profile.is_empty() {
        "default".into()
    } else {
        return Err(invalid(format!(
            "several profiles ({}) and no default_profile: set default_profile or pass --profile",
            profile.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    })
}

/// The memory layer's rules.
fn resolve_memory(path: &str, name: &str, section: Option<MemoryConfig>) -> Result<MemoryConfig, ConfigError> {
    let memory = section.unwrap_or_default();
    if memory.recent_messages == 0 || memory.batch == 0 || memory.batch > 500 {
        return Err(ConfigError::Invalid {
            path: path.into(),
            message: format!(
                "[profile.{name}.memory] recent_messages must be ≥ 1 and batch 1…500 (Firestore's limit per commit)"
            ),
        });
    }
    Ok(memory)
}

impl Config {
    /// The Redis settings consumers use, resolved: the profile's, or the defaults when the
    /// profile has no Redis (a command line `--redis-url` still gets these).
    pub fn redis_settings(&self) -> &RedisConfig {
        static DEFAULTS: std::sync::LazyLock<RedisConfig> = std::sync::LazyLock::new(|| RedisConfig::new(""));
        self.redis.as_ref().unwrap_or(&DEFAULTS)
    }

    /// A config with only Redis configured (tests, demo).
    /// The Conversations tab has something to read: a long-term store, or a layout whose
    /// conversations are in Redis.
    pub fn has_conversations(&self) -> bool {
        self.long_term.is_some() || (self.layout.in_redis() && self.redis.is_some())
    }

    /// This config with no tier at all (`memscope replay` reads a file, never a store).
    pub fn without_stores(mut self) -> Config {
        (self.redis, self.long_term, self.vector, self.embedding) = (None, None, None, None);
        self
    }

    pub fn with_redis(url: &str) -> Config {
        Config {
            profile: "default".into(),
            theme: "default".into(),
            read_only: true,
            redis: Some(RedisConfig::new(url)),
            long_term: None,
            vector: None,
            embedding: None,
            health: HealthConfig::default(),
            memory: MemoryConfig::default(),
            layout: LayoutConfig::default(),
            keymap: BTreeMap::new(),
            searched: vec![],
            file: None,
            warnings: vec![],
        }
    }

    /// The tiers of this config as a config file with one profile `name` (what `memscope demo
    /// --no-tui` writes for the running demo). Secrets are never written (they stay in the
    /// environment); a Firestore emulator is named in the returned environment, which is how
    /// the emulator is configured.
    pub fn tiers_toml(&self, name: &str) -> (String, Vec<(String, String)>) {
        let q = |v: &str| toml::Value::String(v.to_string()).to_string();
        let mut out = format!("default_profile = {}\n\n[profile.{name}]\nread_only = {}\n", q(name), self.read_only);
        let mut env = Vec::new();
        if let Some(r) = &self.redis {
            out.push_str(&format!("\n[profile.{name}.redis]\nurl = {}\n", q(&redact_url(&r.url))));
        }
        match &self.long_term {
            Some(LongTermConfig::Sqlite { path }) => {
                out.push_str(&format!("\n[profile.{name}.long_term]\nbackend = \"sqlite\"\npath = {}\n", q(path)))
            }
            Some(LongTermConfig::Firestore { project_id, database_id, emulator_host }) => {
                out.push_str(&format!(
                    "\n[profile.{name}.long_term]\nbackend = \"firestore\"\nproject_id = {}\ndatabase_id = {}\n",
                    q(project_id),
                    q(database_id)
                ));
                if let Some(h) = emulator_host {
                    env.push(("FIRESTORE_EMULATOR_HOST".to_string(), h.clone()));
                }
            }
            None => {}
        }
        if let Some(v) = &self.vector {
            out.push_str(&format!("\n[profile.{name}.vector]\nbackend = {}\n", q(&v.backend)));
            for (k, x) in [
                ("index", &v.index),
                ("host", &v.host),
                ("metric", &v.metric),
                ("path", &v.path),
                ("url", &v.url),
                ("vector_field", &v.vector_field),
            ] {
                if let Some(x) = x {
                    out.push_str(&format!("{k} = {}\n", q(x)));
                }
            }
            if !v.namespace.is_empty() {
                out.push_str(&format!("namespace = {}\n", q(&v.namespace)));
            }
        }
        if let Some(e) = &self.embedding {
            out.push_str(&format!("\n[profile.{name}.embedding]\nprovider = {}\n", q(&e.provider)));
            for (k, x) in [("model", &e.model), ("base_url", &e.base_url), ("model_dir", &e.model_dir)] {
                if let Some(x) = x {
                    out.push_str(&format!("{k} = {}\n", q(x)));
                }
            }
        }
        (out, env)
    }

    /// Human-readable report for `memscope config check`; secrets redacted.
    pub fn report(&self) -> String {
        let mut s = String::new();
        s.push_str("config files looked at:\n");
        if self.searched.is_empty() {
            s.push_str("  (none)\n");
        }
        for (p, found) in &self.searched {
            s.push_str(&format!("  {} {}\n", p.display(), if *found { "(loaded)" } else { "(not found)" }));
        }
        s.push_str(&format!("profile: {}\nread_only: {}\n", self.profile, self.read_only));
        match &self.redis {
            Some(r) => s.push_str(&format!(
                "redis: url={} delimiter={:?} scan_count={} preview_bytes={} page_size={} timeout_ms={} scan_timeout_ms={} max_ops_per_sec={} tls_ca_file={}\n",
                redact_url(&r.url),
                r.delimiter,
                r.scan_count,
                r.preview_bytes,
                r.page_size,
                r.timeout_ms,
                r.scan_timeout_ms,
                r.max_ops_per_sec,
                r.tls_ca_file.as_deref().unwrap_or("-")
            )),
            None => s.push_str("redis: not configured (set [profile.NAME.redis] url, REDIS_URL or --redis-url)\n"),
        }
        match &self.long_term {
            Some(LongTermConfig::Firestore { project_id, database_id, emulator_host }) => s.push_str(&format!(
                "long_term: firestore project_id={project_id} database_id={database_id} emulator={}\n",
                emulator_host.as_deref().unwrap_or("(none: Application Default Credentials)")
            )),
            Some(LongTermConfig::Sqlite { path }) => s.push_str(&format!("long_term: sqlite path={path}\n")),
            None => s.push_str(
                "long_term: not configured (set [profile.NAME.long_term], FIRESTORE_EMULATOR_HOST or GOOGLE_CLOUD_PROJECT)\n",
            ),
        }
        match &self.vector {
            Some(v) => s.push_str(&format!(
                "vector: backend={} index={} host={} url={} namespace={:?} text_field={} api_key={}\n",
                v.backend,
                v.index.as_deref().unwrap_or("-"),
                v.host.as_deref().unwrap_or("-"),
                v.url.as_deref().map(redact_url).unwrap_or("-".into()),
                v.namespace,
                v.text_field,
                if v.api_key.is_some() { "(set, hidden)" } else { "(not set)" }
            )),
            None => s.push_str(
                "vector: not configured (set [profile.NAME.vector] or PINECONE_API_KEY with PINECONE_INDEX)\n",
            ),
        }
        match &self.embedding {
            Some(e) => s.push_str(&format!(
                "embedding: provider={} model={} api_key={}\n",
                e.provider,
                e.model.as_deref().unwrap_or("-"),
                if e.api_key.is_some() { "(set, hidden)" } else { "(not set)" }
            )),
            None => s.push_str("embedding: not configured (set [profile.NAME.embedding] or OPENAI_API_KEY)\n"),
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }
}
