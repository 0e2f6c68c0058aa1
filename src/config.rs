//! Configuration: built-in defaults < file (`--config`, `$MEMSCOPE_CONFIG`, OS config dir)
//! < environment (`REDIS_URL`, …) < flags. Profiles live in `[profile.NAME]` sections.
//! Malformed TOML and unknown keys are errors naming the file, the line and the key.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The configuration shipped inside the binary; documents every key.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profile: BTreeMap<String, FileProfile>,
    #[serde(default)]
    keymap: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProfile {
    read_only: Option<bool>,
    theme: Option<String>,
    redis: Option<FileRedis>,
    long_term: Option<FileLongTerm>,
    vector: Option<FileVector>,
    embedding: Option<FileEmbedding>,
    health: Option<FileHealth>,
    memory: Option<MemoryConfig>,
    layout: Option<FileLayout>,
}

/// Commands per second at most over a whole-keyspace pass (analyze, the Keys tab's sorts,
/// `keys --long`) unless a profile says otherwise: a fifth of what one Redis core serves of
/// these commands (~1M/s), so a pass over a busy production server leaves it room; 0 lifts it.
pub const DEFAULT_MAX_OPS_PER_SEC: u64 = 200_000;

/// A field override: one name (or dot path), or a list of alternatives tried in order
/// (`content_field = ["content", "text"]`), kept as `a|b` (see `layout::at_path`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FieldNames {
    One(String),
    Many(Vec<String>),
}

impl FieldNames {
    fn joined(self) -> String {
        match self {
            FieldNames::One(s) => s,
            FieldNames::Many(v) => v.join("|"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayout {
    preset: Option<String>,
    collection: Option<String>,
    messages_in: Option<String>,
    messages_field: Option<String>,
    encoding: Option<String>,
    order: Option<String>,
    key_prefix: Option<String>,
    keys: Option<String>,
    key: Option<String>,
    conversation_field: Option<String>,
    role_field: Option<FieldNames>,
    content_field: Option<FieldNames>,
    timestamp_field: Option<String>,
    id_field: Option<FieldNames>,
    user_field: Option<FieldNames>,
    agent_field: Option<FieldNames>,
    roles: Option<BTreeMap<String, String>>,
    vector_text_field: Option<String>,
    vector_conversation_field: Option<String>,
    vector_message_field: Option<String>,
    /// mem0's history database (`history.db`): the sub-second time of each memory.
    history: Option<String>,
    /// A second source: the recent messages from another framework (`[profile.X.layout.recent]`).
    recent: Option<Box<FileLayout>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHealth {
    interval_ms: Option<u64>,
    deadline_ms: Option<u64>,
    deadlines: Option<BTreeMap<String, u64>>,
    heavy_interval_ms: Option<u64>,
    window_s: Option<u64>,
    latency_warn_ms: Option<f64>,
    latency_crit_ms: Option<f64>,
    miss_rate_warn: Option<f64>,
    miss_rate_crit: Option<f64>,
    memory_warn_pct: Option<f64>,
    memory_crit_pct: Option<f64>,
    fullness_warn: Option<f64>,
    fullness_crit: Option<f64>,
    evictions_warn_per_s: Option<f64>,
    evictions_crit_per_s: Option<f64>,
    time_to_full_warn_s: Option<f64>,
    time_to_full_crit_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRedis {
    url: Option<String>,
    delimiter: Option<String>,
    scan_count: Option<u32>,
    preview_bytes: Option<u64>,
    page_size: Option<u32>,
    timeout_ms: Option<u64>,
    scan_timeout_ms: Option<u64>,
    max_ops_per_sec: Option<u64>,
    tls_ca_file: Option<String>,
    mode: Option<String>,
    read_from_replicas: Option<bool>,
    /// Sentinel addresses (`host:port`) and the master's name: another way to write a
    /// redis+sentinel:// URL.
    sentinels: Option<Vec<String>>,
    sentinel_master: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLongTerm {
    backend: Option<String>,
    project_id: Option<String>,
    database_id: Option<String>,
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVector {
    backend: Option<String>,
    index: Option<String>,
    host: Option<String>,
    control_url: Option<String>,
    metric: Option<String>,
    namespace: Option<String>,
    text_field: Option<String>,
    path: Option<String>,
    api_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEmbedding {
    provider: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
    model_dir: Option<String>,
    dimensions: Option<u32>,
    api_key: Option<String>,
}

// ---------- resolved configuration ----------

#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    pub url: String,
    pub delimiter: String,
    pub scan_count: u32,
    pub preview_bytes: u64,
    pub page_size: u32,
    pub timeout_ms: u64,
    pub scan_timeout_ms: u64,
    /// Commands per second at most of a whole-keyspace pass (an analysis, a sort by TTL or
    /// size); 0: no limit.
    pub max_ops_per_sec: u64,
    /// PEM file of the CA that signed the server's certificate (rediss:// with a private CA).
    pub tls_ca_file: Option<String>,
    /// One server, or a Redis Cluster (detected by `auto`).
    pub mode: RedisMode,
    /// Cluster: reads may be served by replicas (opt-in: a replica can lag).
    pub read_from_replicas: bool,
}

/// A `redis+sentinel://[user:password@]host:port[,host:port…]/MASTER[/DB]` URL, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SentinelUrl {
    pub sentinels: Vec<(String, u16)>,
    pub master: String,
    pub db: u32,
    /// `user:password@` for the master (and its replicas), if any.
    pub auth: Option<String>,
    /// `rediss+sentinel://`: TLS to the master.
    pub tls: bool,
    /// The Sentinels' own credentials (`?sentinel_password=…[&sentinel_username=…]`), when
    /// they require them (`requirepass` in sentinel.conf): (username, password).
    pub sentinel_auth: Option<(Option<String>, String)>,
}

pub fn is_sentinel_url(url: &str) -> bool {
    url.starts_with("redis+sentinel://") || url.starts_with("rediss+sentinel://")
}

impl SentinelUrl {
    pub fn parse(url: &str) -> Result<SentinelUrl, String> {
        let (tls, rest) = match url.split_once("://") {
            Some(("redis+sentinel", r)) => (false, r),
            Some(("rediss+sentinel", r)) => (true, r),
            _ => return Err("expected redis+sentinel://host:port[,host:port…]/MASTER[/DB]".into()),
        };
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a.to_string()), r),
            None => (None, rest),
        };
        // The Sentinels' own credentials ride in the query.
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut sentinel_user = None;
        let mut sentinel_pw = None;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            match kv.split_once('=') {
                Some(("sentinel_password", v)) => sentinel_pw = Some(v.to_string()),
                Some(("sentinel_username", v)) => sentinel_user = Some(v.to_string()),
                _ => return Err(format!("`{kv}`: the query takes sentinel_password= and sentinel_username=")),
            }
        }
        let sentinel_auth = sentinel_pw.map(|p| (sentinel_user, p));
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let sentinels = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|h| match h.rsplit_once(':') {
                Some((host, port)) => {
                    port.parse().map(|p| (host.to_string(), p)).map_err(|_| format!("`{h}`: not host:port"))
                }
                None => Ok((h.to_string(), 26379)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sentinels.is_empty() {
            return Err("no Sentinel address before the master's name".into());
        }
        let mut parts = path.split('/');
        let master = parts.next().unwrap_or("").to_string();
        if master.is_empty() {
            return Err("no master name: redis+sentinel://host:26379/MASTER/DB".into());
        }
        let db = match parts.next() {
            None | Some("") => 0,
            Some(d) => d.parse().map_err(|_| format!("`{d}`: not a database number"))?,
        };
        Ok(SentinelUrl { sentinels, master, db, auth, tls, sentinel_auth })
    }
}

/// Which framework wrote the conversations (`[profile.X.layout] preset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutPreset {
    /// memscope's own: `conversations/{id}` + `messages`, Redis recent lists and sessions.
    #[default]
    Memscope,
    /// langchain-google-firestore: `ChatHistory/{session}`, a `messages` array of JSON.
    LangchainFirestore,
    /// langchain-community's RedisChatMessageHistory: a list `message_store:{session}`, LPUSH.
    LangchainRedisList,
    /// llama-index's RedisChatStore: a list per caller-chosen key, RPUSH, text in blocks.
    LlamaindexRedis,
    /// langchain-redis: a RedisJSON document per message, `chat:{session}:{ULID}`.
    LangchainRedisJson,
    /// redisvl's MessageHistory: a hash per message, `{name}:{session}:{unix ts}:{hex}`.
    Redisvl,
    /// langgraph-checkpoint-redis: RedisJSON checkpoints; a thread is its latest checkpoint's
    /// messages (`checkpoint_latest:{thread}:{ns}` names it).
    LanggraphRedis,
    /// langgraph-checkpoint-firestore: `checkpoints/{thread}_{ns}/checkpoints/{id}`, each a
    /// base64 msgpack checkpoint; a thread is its newest checkpoint's messages.
    LanggraphFirestore,
    /// mem0: a hash per memory `mem0:{collection}:{uuid}` (text in `memory`, role in the
    /// `metadata` JSON); a conversation is one user's memories in time order.
    Mem0,
    /// Redis's agent-memory-server: working memory (a RedisJSON document per session,
    /// `working_memory:[namespace:][user:]{session}`, messages in an array) and long-term memory
    /// records (a hash per memory, `memory_idx:{id}`, by `session_id`) as its second source.
    AgentMemoryServer,
}

impl LayoutPreset {
    pub const ALL: [LayoutPreset; 10] = [
        LayoutPreset::Memscope,
        LayoutPreset::LangchainFirestore,
        LayoutPreset::LanggraphFirestore,
        LayoutPreset::LangchainRedisList,
        LayoutPreset::LlamaindexRedis,
        LayoutPreset::LangchainRedisJson,
        LayoutPreset::LanggraphRedis,
        LayoutPreset::Redisvl,
        LayoutPreset::Mem0,
        LayoutPreset::AgentMemoryServer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LayoutPreset::Memscope => "memscope",
            LayoutPreset::LangchainFirestore => "langchain-firestore",
            LayoutPreset::LangchainRedisList => "langchain-redis-list",
            LayoutPreset::LlamaindexRedis => "llamaindex-redis",
            LayoutPreset::LangchainRedisJson => "langchain-redis-json",
            LayoutPreset::Redisvl => "redisvl",
            LayoutPreset::LanggraphRedis => "langgraph-redis",
            LayoutPreset::LanggraphFirestore => "langgraph-firestore",
            LayoutPreset::Mem0 => "mem0",
            LayoutPreset::AgentMemoryServer => "agent-memory-server",
        }
    }

    /// Its conversations are in Redis (no long-term store needed).
    pub fn in_redis(self) -> bool {
        LayoutConfig::preset(self).messages_in.in_redis()
    }
}

/// Where a layout keeps a conversation's messages (`messages_in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagesIn {
    /// memscope's own: `conversations/{id}` + `messages`, read by the store's ordered queries.
    Memscope,
    /// A Firestore subcollection of message documents under each conversation document.
    Subcollection,
    /// A Firestore array field of the conversation document.
    Array,
    /// A Redis list per conversation.
    List,
    /// A Redis key per message (hash or RedisJSON).
    Keys,
    /// LangGraph checkpoints in Redis (RedisJSON).
    RedisCheckpoints,
    /// LangGraph checkpoints in Firestore (base64 msgpack).
    FirestoreCheckpoints,
    /// A RedisJSON document per conversation, its messages an array field (agent-memory-server's
    /// working memory).
    RedisDocument,
}

impl MessagesIn {
    pub const NAMES: [(&str, MessagesIn); 8] = [
        ("memscope", MessagesIn::Memscope),
        ("subcollection", MessagesIn::Subcollection),
        ("array", MessagesIn::Array),
        ("list", MessagesIn::List),
        ("keys", MessagesIn::Keys),
        ("redis-checkpoints", MessagesIn::RedisCheckpoints),
        ("firestore-checkpoints", MessagesIn::FirestoreCheckpoints),
        ("redis-document", MessagesIn::RedisDocument),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, m)| *m == self).map(|(n, _)| *n).unwrap_or("?")
    }

    pub fn in_redis(self) -> bool {
        matches!(self, MessagesIn::List | MessagesIn::Keys | MessagesIn::RedisCheckpoints | MessagesIn::RedisDocument)
    }

    /// The encodings a message can have in this place.
    fn encodings(self) -> &'static [Encoding] {
        match self {
            MessagesIn::Array | MessagesIn::List => &[Encoding::Json, Encoding::MsgpackBase64],
            MessagesIn::Keys => &[Encoding::Hash, Encoding::RedisJson, Encoding::Json],
            MessagesIn::RedisCheckpoints | MessagesIn::RedisDocument => &[Encoding::RedisJson],
            MessagesIn::FirestoreCheckpoints => &[Encoding::MsgpackBase64],
            MessagesIn::Memscope | MessagesIn::Subcollection => &[Encoding::Document],
        }
    }
}

/// How one stored message is encoded (`encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JSON text, as a string or bytes (a list element, an array item, a string key).
    Json,
    /// msgpack, base64-encoded (LangGraph's serializer; its extension types decoded).
    MsgpackBase64,
    /// A Redis hash's fields.
    Hash,
    /// A RedisJSON document.
    RedisJson,
    /// A Firestore document's fields.
    Document,
}

impl Encoding {
    pub const NAMES: [(&str, Encoding); 5] = [
        ("json", Encoding::Json),
        ("msgpack-base64", Encoding::MsgpackBase64),
        ("hash", Encoding::Hash),
        ("redisjson", Encoding::RedisJson),
        ("document", Encoding::Document),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, e)| *e == self).map(|(n, _)| *n).unwrap_or("?")
    }
}

/// Where in a stored message each part is (dot paths; a JSON string on the way is parsed).
/// Unset parts are found the frameworks' way (LangChain `type`/`data`, `role`, `content`…).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageFields {
    pub role: Option<String>,
    pub content: Option<String>,
    pub timestamp: Option<String>,
    pub id: Option<String>,
    pub user: Option<String>,
    pub agent: Option<String>,
    /// Conversations are the values of this field (mem0: `user_id`), not a part of the key.
    pub conversation: Option<String>,
}

/// A preset and the names it sets.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutConfig {
    pub preset: LayoutPreset,
    /// Firestore: the collection (path) holding one document per conversation.
    pub collection: String,
    /// Firestore array layouts: the field holding the messages.
    pub messages_field: String,
    /// Redis list layouts: the prefix before the conversation id.
    pub key_prefix: String,
    /// Redis list layouts: the SCAN MATCH glob of the conversation keys.
    pub keys: String,
    /// Where the messages are, and how each is encoded.
    pub messages_in: MessagesIn,
    pub encoding: Encoding,
    /// Redis lists written with LPUSH (langchain-community): newest first.
    pub newest_first: bool,
    /// Key-per-message layouts: the key's shape, `{conversation}`, `{message}`, `{ts}`, `{*}`.
    pub key_template: String,
    pub fields: MessageFields,
    /// Role names as stored → as shown (`human` → `user`); unmapped names follow the defaults.
    pub roles: BTreeMap<String, String>,
    /// The vector tier's metadata names: the text, the conversation id and the message id.
    pub vector_text_field: String,
    pub vector_conversation_field: String,
    pub vector_message_field: String,
    /// mem0's history database (its SQLite `history.db`, opened read-only): the time of each
    /// memory to the microsecond, where the vector store keeps whole seconds only.
    pub history: Option<String>,
    /// A name was overridden: this is not memscope's own layout even if preset = "memscope".
    pub overridden: bool,
    /// A second source (`[profile.X.layout.recent]`): its conversations are listed after this
    /// one's (those this one also holds, once), its threads read where this one has none.
    pub recent: Option<Box<LayoutConfig>>,
}

impl Default for LayoutConfig {
    fn default() -> LayoutConfig {
        LayoutConfig::preset(LayoutPreset::Memscope)
    }
}

impl LayoutConfig {
    pub fn preset(p: LayoutPreset) -> LayoutConfig {
        use {Encoding as E, MessagesIn as M};
        let (collection, prefix, keys, template, messages_in, encoding) = match p {
            LayoutPreset::Memscope => {
                ("conversations", "conversation:", "conversation:*:messages", "", M::Memscope, E::Document)
            }
            LayoutPreset::LangchainFirestore => ("ChatHistory", "", "", "", M::Array, E::Json),
            LayoutPreset::LanggraphFirestore => ("checkpoints", "", "", "", M::FirestoreCheckpoints, E::MsgpackBase64),
            LayoutPreset::LangchainRedisList => ("", "message_store:", "message_store:*", "", M::List, E::Json),
            LayoutPreset::LlamaindexRedis => ("", "", "*", "", M::List, E::Json),
            LayoutPreset::LangchainRedisJson => {
                ("", "chat:", "chat:*", "chat:{conversation}:{message}", M::Keys, E::RedisJson)
            }
            LayoutPreset::Redisvl => {
                ("", "agent_chat:", "agent_chat:*", "agent_chat:{conversation}:{ts}:{message}", M::Keys, E::Hash)
            }
            LayoutPreset::LanggraphRedis => {
                ("", "checkpoint_latest:", "checkpoint_latest:*", "", M::RedisCheckpoints, E::RedisJson)
            }
            LayoutPreset::Mem0 => ("", "mem0:", "mem0:*", "mem0:{*}:{message}", M::Keys, E::Hash),
            // Working memory: `working_memory:[namespace:][user:]{session}`, the key's rest the id.
            LayoutPreset::AgentMemoryServer => {
                ("", "working_memory:", "working_memory:*", "", M::RedisDocument, E::RedisJson)
            }
        };
        let s = |v: &str| Some(v.to_string());
        let fields = match p {
            LayoutPreset::LangchainRedisJson => {
                MessageFields { id: s("message_id"), timestamp: s("timestamp"), ..Default::default() }
            }
            LayoutPreset::Redisvl => MessageFields {
                role: s("role"),
                content: s("content"),
                id: s("entry_id"),
                timestamp: s("timestamp"),
                ..Default::default()
            },
            LayoutPreset::Mem0 => MessageFields {
                role: s("metadata.role"),
                content: s("memory"),
                id: s("memory_id"),
                timestamp: s("created_at"),
                user: s("user_id"),
                agent: s("agent_id"),
                conversation: s("user_id"),
            },
            LayoutPreset::AgentMemoryServer => MessageFields {
                role: s("role"),
                content: s("content"),
                id: s("id"),
                timestamp: s("created_at"),
                ..Default::default()
            },
            _ => MessageFields::default(),
        };
        // mem0 on Pinecone keeps the text in `data` and no conversation or message id.
        let (vtext, vconv, vmsg) = match p {
            LayoutPreset::Mem0 => ("data", "user_id", "hash"),
            _ => ("text", "conversation_id", "message_id"),
        };
        LayoutConfig {
            preset: p,
            collection: collection.into(),
            messages_field: "messages".into(),
            key_prefix: prefix.into(),
            keys: keys.into(),
            messages_in,
            encoding,
            newest_first: p == LayoutPreset::LangchainRedisList,
            key_template: template.into(),
            fields,
            roles: BTreeMap::new(),
            vector_text_field: vtext.into(),
            vector_conversation_field: vconv.into(),
            vector_message_field: vmsg.into(),
            history: None,
            overridden: false,
            recent: (p == LayoutPreset::AgentMemoryServer).then(|| Box::new(LayoutConfig::agent_memory_records())),
        }
    }

    /// agent-memory-server's long-term memory: a hash per memory record (`memory_idx:{id}`,
    /// embedded), a conversation per `session_id`, the record's `memory_type` as its role. The
    /// preset's second source: sessions whose working memory expired keep their memories.
    fn agent_memory_records() -> LayoutConfig {
        let s = |v: &str| Some(v.to_string());
        LayoutConfig {
            key_prefix: "memory_idx:".into(),
            keys: "memory_idx:*".into(),
            key_template: "memory_idx:{message}".into(),
            messages_in: MessagesIn::Keys,
            encoding: Encoding::Hash,
            fields: MessageFields {
                role: s("memory_type"),
                content: s("text"),
                id: s("id_"),
                timestamp: s("created_at"),
                user: s("user_id"),
                agent: None,
                conversation: s("session_id"),
            },
            recent: None,
            ..LayoutConfig::preset(LayoutPreset::Redisvl)
        }
        .with_preset(LayoutPreset::AgentMemoryServer)
    }

    fn with_preset(mut self, p: LayoutPreset) -> LayoutConfig {
        self.preset = p;
        self
    }

    /// Its conversations are in Redis (no long-term store needed).
    pub fn in_redis(&self) -> bool {
        self.messages_in.in_redis() && self.recent.as_ref().is_none_or(|r| r.in_redis())
    }

    /// Where this layout looks for conversations, in words (what an empty answer names).
    pub fn place(&self) -> String {
        if self.messages_in.in_redis() {
            format!("Redis keys {}", self.keys)
        } else {
            format!("the collection {}", self.collection)
        }
    }

    /// memscope's own layout, unchanged: the trace, badges and audit can check it.
    pub fn is_memscopes_own(&self) -> bool {
        self.preset == LayoutPreset::Memscope && !self.overridden && self.recent.is_none()
    }
}

/// The shape of a key per message (`key = "chat:{conversation}:{message}"`): literal text and
/// the parts `{conversation}`, `{message}` (an id; a ULID gives the time), `{ts}` (Unix seconds)
/// and `{*}` (anything). Two parts must be separated by text.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyTemplate(Vec<KeyPart>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyVar {
    Conversation,
    Message,
    Ts,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
enum KeyPart {
    Text(String),
    Var(KeyVar),
}

/// What a key names, by its template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyParts {
    pub conversation: Option<String>,
    pub message: Option<String>,
    pub ts: Option<f64>,
}

impl KeyTemplate {
    pub fn parse(t: &str) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = t;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or("a `{` without its `}`")?;
                    let var = match &rest[1..end] {
                        "conversation" => KeyVar::Conversation,
                        "message" => KeyVar::Message,
                        "ts" => KeyVar::Ts,
                        "*" => KeyVar::Any,
                        other => {
                            return Err(format!(
                                "unknown part {{{other}}}: expected {{conversation}}, {{message}}, {{ts}} or {{*}}"
                            ));
                        }
                    };
                    if matches!(parts.last(), Some(KeyPart::Var(_))) {
                        return Err("two parts must be separated by text (e.g. `:`)".into());
                    }
                    if var != KeyVar::Any && parts.contains(&KeyPart::Var(var)) {
                        return Err(format!("{{{}}} appears twice", &rest[1..end]));
                    }
                    parts.push(KeyPart::Var(var));
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(KeyPart::Text(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(KeyPart::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        Ok(KeyTemplate(parts))
    }

    /// The SCAN MATCH glob of every key of this shape.
    pub fn glob(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                KeyPart::Text(t) => {
                    t.chars().flat_map(|c| if "*?[]\\".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
                }
                KeyPart::Var(_) => "*".to_string(),
            })
            .collect()
    }

    /// The parts of `key`, or `None` when it has another shape. A conversation id may hold the
    /// separator (it takes the longest match that leaves the rest a valid shape); `{ts}` must
    /// be a number.
    pub fn parts(&self, key: &str) -> Option<KeyParts> {
        fn go(parts: &[KeyPart], key: &str, out: &mut KeyParts) -> bool {
            let Some((first, rest)) = parts.split_first() else { return key.is_empty() };
            match first {
                KeyPart::Text(t) => key.strip_prefix(t.as_str()).is_some_and(|k| go(rest, k, out)),
                KeyPart::Var(v) => {
                    let mut ends: Vec<usize> = key.char_indices().map(|(i, _)| i).skip(1).chain([key.len()]).collect();
                    if *v == KeyVar::Conversation {
                        ends.reverse();
                    }
                    for end in ends {
                        let (val, tail) = key.split_at(end);
                        if *v == KeyVar::Ts && val.parse::<f64>().is_err() {
                            continue;
                        }
                        if go(rest, tail, out) {
                            match v {
                                KeyVar::Conversation => out.conversation = Some(val.to_string()),
                                KeyVar::Message => out.message = Some(val.to_string()),
                                KeyVar::Ts => out.ts = val.parse().ok(),
                                KeyVar::Any => {}
                            }
                            return true;
                        }
                    }
                    false
                }
            }
        }
        let mut out = KeyParts::default();
        go(&self.0, key, &mut out).then_some(out)
    }
}

/// How memscope talks to the Redis of a profile (`[profile.X.redis] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisMode {
    /// Ask the server (`INFO cluster`): a cluster node means the whole cluster.
    #[default]
    Auto,
    /// The one server the URL names, even if it is a cluster node (its keys only).
    Standalone,
    /// A Redis Cluster seeded by the URL: every master scanned, keyed commands routed by slot.
    Cluster,
}

impl RedisMode {
    pub fn name(self) -> &'static str {
        match self {
            RedisMode::Auto => "auto",
            RedisMode::Standalone => "standalone",
            RedisMode::Cluster => "cluster",
        }
    }
}

impl RedisConfig {
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            delimiter: ":".into(),
            scan_count: 1000,
            preview_bytes: 256 * 1024,
            page_size: 100,
            timeout_ms: 2_000,
            scan_timeout_ms: 10_000,
            max_ops_per_sec: DEFAULT_MAX_OPS_PER_SEC,
            tls_ca_file: None,
            mode: RedisMode::Auto,
            read_from_replicas: false,
        }
    }
}

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

/// The health poller's intervals and the thresholds of its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// `--record FILE`: every sample appended as a JSON line (by the poller, off the UI thread).
    pub record: Option<PathBuf>,
    pub interval_ms: u64,
    /// A probe not answered within this long makes its tier "NO ANSWER" at once …
    pub deadline_ms: u64,
    /// … or within its own (`[profile.X.health.deadlines] redis = 500`; tier names as in
    /// `memscope health`: long_term, redis, vector, embedder).
    pub deadlines: BTreeMap<String, u64>,
    pub heavy_interval_ms: u64,
    pub window_s: u64,
    pub thresholds: Thresholds,
}

impl HealthConfig {
    /// The deadline of the tier named `tier`.
    pub fn deadline_for(&self, tier: &str) -> u64 {
        self.deadlines.get(tier).copied().unwrap_or(self.deadline_ms)
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            record: None,
            // Every second, so that a freeze is seen within two (the deadline's second).
            interval_ms: 1_000,
            deadline_ms: 1_000,
            // An embedding is work, not a round trip (a remote one often takes most of a second).
            deadlines: BTreeMap::from([("embedder".to_string(), 5_000)]),
            heavy_interval_ms: 60_000,
            window_s: 3_600,
            thresholds: Default::default(),
        }
    }
}

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
    let layout = resolve_layout(path, &name, p.layout)?;
    if let Some(v) = vector.as_mut().filter(|_| !text_field_set) {
        // The layout names where its framework keeps the text (mem0: `data`).
        v.text_field = layout.vector_text_field.clone();
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

/// Redis: the file's section, then REDIS_URL, then --redis-url.
fn resolve_redis(
    path: &str,
    name: &str,
    section: Option<FileRedis>,
    ov: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<RedisConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let redis = section.map(|r| -> Result<RedisConfig, ConfigError> {
        let url = match (&r.sentinels, &r.sentinel_master) {
            (Some(s), Some(m)) if !s.is_empty() => {
                if r.url.is_some() {
                    return Err(invalid(format!(
                        "[profile.{name}.redis] sets both url and sentinels: give one (redis+sentinel://… is the URL form)"
                    )));
                }
                format!("redis+sentinel://{}/{m}/0", s.join(","))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(format!(
                    "[profile.{name}.redis] sentinels and sentinel_master go together (the Sentinels, and the name of the master they watch)"
                )));
            }
            _ => r.url.clone().unwrap_or_else(|| "redis://127.0.0.1:6379/0".into()),
        };
        let mut c = RedisConfig::new(url);
        if let Some(d) = r.delimiter {
            if d.is_empty() {
                return Err(invalid(format!("[profile.{name}.redis] delimiter must not be empty")));
            }
            c.delimiter = d;
        }
        if let Some(n) = r.scan_count {
            if n == 0 {
                return Err(invalid(format!("[profile.{name}.redis] scan_count must be at least 1")));
            }
            c.scan_count = n;
        }
        if let Some(n) = r.preview_bytes {
            c.preview_bytes = n.max(64);
        }
        if let Some(n) = r.max_ops_per_sec {
            c.max_ops_per_sec = n;
        }
        if let Some(n) = r.page_size {
            c.page_size = n.clamp(1, 10_000);
        }
        if let Some(n) = r.timeout_ms {
            c.timeout_ms = n.max(1);
        }
        if let Some(n) = r.scan_timeout_ms {
            c.scan_timeout_ms = n.max(1);
        }
        c.tls_ca_file = r.tls_ca_file;
        c.mode = match r.mode.as_deref() {
            None | Some("auto") => RedisMode::Auto,
            Some("standalone") => RedisMode::Standalone,
            Some("cluster") => RedisMode::Cluster,
            // The URL decides: redis+sentinel://host:26379[,host:port…]/MASTER/DB.
            Some("sentinel") => RedisMode::Auto,
            Some(other) => {
                return Err(invalid(format!(
                    "[profile.{name}.redis] mode = \"{other}\": expected \"auto\", \"standalone\" or \"cluster\""
                )));
            }
        };
        c.read_from_replicas = r.read_from_replicas.unwrap_or(false);
        if r.mode.as_deref() == Some("sentinel") && !c.url.contains("+sentinel://") {
            return Err(invalid(format!(
                "[profile.{name}.redis] mode = \"sentinel\" needs url = \"redis+sentinel://HOST:26379[,HOST:PORT…]/MASTER/DB\""
            )));
        }
        Ok(c)
    });
    let mut redis = redis.transpose()?;
    // Where the URL in force came from, for an error that names it.
    let mut url_source = format!("{path}: [profile.{name}.redis] url");
    for (url, source) in
        [(env("REDIS_URL").filter(|s| !s.is_empty()), "REDIS_URL"), (ov.redis_url.clone(), "--redis-url")]
    {
        let Some(url) = url else { continue };
        url_source = source.to_string();
        match &mut redis {
            Some(r) => r.url = url,
            None => redis = Some(RedisConfig::new(url)),
        }
    }
    if let Some(r) = &redis
        && ![
            "redis://",
            "rediss://",
            "valkey://",
            "valkeys://",
            "unix://",
            "redis+unix://",
            "redis+sentinel://",
            "rediss+sentinel://",
        ]
        .iter()
        .any(|p| r.url.starts_with(p))
    {
        return Err(ConfigError::Source {
            source_name: url_source,
            message: format!(
                "`{}` is not a Redis URL: it must start with redis://, rediss://, unix:// or redis+sentinel://",
                redact_url(&r.url)
            ),
        });
    }
    if let Some(r) = &redis
        && is_sentinel_url(&r.url)
        && let Err(e) = SentinelUrl::parse(&r.url)
    {
        return Err(ConfigError::Source { source_name: url_source, message: format!("`{}`: {e}", redact_url(&r.url)) });
    }
    Ok(redis)
}

/// The long-term tier: the file's section, else FIRESTORE_EMULATOR_HOST / GOOGLE_CLOUD_PROJECT.
fn resolve_long_term(
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
fn resolve_vector(
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
            if backend != "pinecone" && backend != "local" {
                return Err(invalid(format!(
                    "[profile.{name}.vector] backend = \"{backend}\": expected \"pinecone\" or \"local\""
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
        }),
        None => None,
    })
}

/// The embedder: the file's section, else OPENAI_API_KEY alone.
fn resolve_embedding(
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

/// The Health tab's intervals and alert thresholds (warn before crit, rates as fractions).
fn resolve_health(path: &str, name: &str, section: Option<FileHealth>) -> Result<HealthConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let mut health = HealthConfig::default();
    if let Some(h) = section {
        let t = &mut health.thresholds;
        if let Some(v) = h.interval_ms {
            health.interval_ms = v.max(100);
        }
        if let Some(v) = h.deadline_ms {
            health.deadline_ms = v.max(50);
        }
        for (tier, ms) in h.deadlines.unwrap_or_default() {
            if !["long_term", "redis", "vector", "embedder"].contains(&tier.as_str()) {
                return Err(invalid(format!(
                    "[profile.{name}.health.deadlines] `{tier}`: not a tier (long_term, redis, vector, embedder)"
                )));
            }
            health.deadlines.insert(tier, ms.max(50));
        }
        if let Some(v) = h.heavy_interval_ms {
            health.heavy_interval_ms = v.max(1_000);
        }
        if let Some(v) = h.window_s {
            health.window_s = v.clamp(10, 24 * 3600);
        }
        let set = |dst: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut t.latency_warn_ms, h.latency_warn_ms);
        set(&mut t.latency_crit_ms, h.latency_crit_ms);
        set(&mut t.miss_rate_warn, h.miss_rate_warn);
        set(&mut t.miss_rate_crit, h.miss_rate_crit);
        set(&mut t.memory_warn_pct, h.memory_warn_pct);
        set(&mut t.memory_crit_pct, h.memory_crit_pct);
        set(&mut t.fullness_warn, h.fullness_warn);
        set(&mut t.fullness_crit, h.fullness_crit);
        set(&mut t.evictions_warn_per_s, h.evictions_warn_per_s);
        set(&mut t.evictions_crit_per_s, h.evictions_crit_per_s);
        set(&mut t.time_to_full_warn_s, h.time_to_full_warn_s);
        set(&mut t.time_to_full_crit_s, h.time_to_full_crit_s);
        // warn must come before crit; rates are fractions.
        let checks = [
            ("latency_warn_ms", t.latency_warn_ms, "latency_crit_ms", t.latency_crit_ms),
            ("miss_rate_warn", t.miss_rate_warn, "miss_rate_crit", t.miss_rate_crit),
            ("memory_warn_pct", t.memory_warn_pct, "memory_crit_pct", t.memory_crit_pct),
            ("fullness_warn", t.fullness_warn, "fullness_crit", t.fullness_crit),
            ("evictions_warn_per_s", t.evictions_warn_per_s, "evictions_crit_per_s", t.evictions_crit_per_s),
        ];
        for (w, wv, c, cv) in checks {
            if wv > cv || wv < 0.0 {
                return Err(invalid(format!("[profile.{name}.health] {w} = {wv} must be ≥ 0 and ≤ {c} = {cv}")));
            }
        }
        for (k, v) in [("miss_rate_crit", t.miss_rate_crit), ("fullness_crit", t.fullness_crit)] {
            if v > 1.0 {
                return Err(invalid(format!("[profile.{name}.health] {k} = {v} is a fraction (0 to 1)")));
            }
        }
        if t.time_to_full_crit_s > t.time_to_full_warn_s {
            return Err(invalid(format!(
                "[profile.{name}.health] time_to_full_crit_s must be ≤ time_to_full_warn_s (it warns earlier)"
            )));
        }
    }
    Ok(health)
}

/// Where conversations live: a preset and the names it sets, each overridable.
fn resolve_layout(path: &str, name: &str, section: Option<FileLayout>) -> Result<LayoutConfig, ConfigError> {
    let Some(mut f) = section else { return Ok(LayoutConfig::default()) };
    let recent = match f.recent.take() {
        Some(r) if r.recent.is_some() => {
            return Err(ConfigError::Invalid {
                path: path.into(),
                message: format!("[profile.{name}.layout.recent.recent]: a profile combines two sources at most"),
            });
        }
        Some(r) => {
            Some(Box::new(
                resolve_one_layout(path, name, *r).map_err(|e| match e {
                    ConfigError::Invalid { path, message } => ConfigError::Invalid {
                        path,
                        message: message
                            .replace(&format!("[profile.{name}.layout]"), &format!("[profile.{name}.layout.recent]")),
                    },
                    other => other,
                })?,
            ))
        }
        None => None,
    };
    let mut l = resolve_one_layout(path, name, f)?;
    // A preset's own second source (agent-memory-server's long-term records) unless one is given.
    if recent.is_some() {
        l.recent = recent;
    }
    Ok(l)
}

fn resolve_one_layout(path: &str, name: &str, f: FileLayout) -> Result<LayoutConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let one_of =
        |names: &mut dyn Iterator<Item = &str>| names.map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
    let preset = match f.preset.as_deref() {
        None => LayoutPreset::Memscope,
        Some(p) => LayoutPreset::ALL.into_iter().find(|x| x.name() == p).ok_or_else(|| {
            invalid(format!(
                "[profile.{name}.layout] preset = \"{p}\": expected one of {}",
                one_of(&mut LayoutPreset::ALL.iter().map(|x| x.name()))
            ))
        })?,
    };
    let mut l = LayoutConfig::preset(preset);
    let mut overridden = false;
    let mut set = |slot: &mut String, v: Option<String>| {
        if let Some(v) = v {
            overridden |= *slot != v;
            *slot = v;
        }
    };
    set(&mut l.collection, f.collection.map(|c| c.trim_matches('/').to_string()));
    set(&mut l.messages_field, f.messages_field);
    let preset_prefix = l.key_prefix.clone();
    let keys_given = f.keys.is_some();
    set(&mut l.key_prefix, f.key_prefix);
    set(&mut l.keys, f.keys);
    // A key per message: the prefix drives the key template (redisvl's `name`, a chat store's
    // prefix), and the SCAN glob unless that is given too — `detect`'s lines work as pasted.
    if l.messages_in == MessagesIn::Keys && l.key_prefix != preset_prefix && f.key.is_none() {
        if let Some(rest) = l.key_template.strip_prefix(preset_prefix.as_str()) {
            l.key_template = format!("{}{rest}", l.key_prefix);
        }
        if !keys_given {
            l.keys = format!("{}*", l.key_prefix);
        }
    }
    set(&mut l.vector_text_field, f.vector_text_field);
    set(&mut l.vector_conversation_field, f.vector_conversation_field);
    set(&mut l.vector_message_field, f.vector_message_field);
    if let Some(h) = f.history {
        if l.preset != LayoutPreset::Mem0 {
            return Err(invalid(format!(
                "[profile.{name}.layout] history = \"{h}\": a history database is mem0's (preset = \"mem0\")"
            )));
        }
        l.history = Some(h);
    }
    if let Some(m) = f.messages_in {
        let Some((_, v)) = MessagesIn::NAMES.iter().find(|(n, _)| *n == m) else {
            return Err(invalid(format!(
                "[profile.{name}.layout] messages_in = \"{m}\": expected one of {}",
                one_of(&mut MessagesIn::NAMES.iter().map(|(n, _)| *n))
            )));
        };
        if *v != l.messages_in {
            overridden = true;
            l.messages_in = *v;
            l.encoding = v.encodings()[0];
        }
    }
    if let Some(e) = f.encoding {
        let allowed = l.messages_in.encodings();
        let Some((_, v)) = Encoding::NAMES.iter().find(|(n, _)| *n == e).filter(|(_, v)| allowed.contains(v)) else {
            return Err(invalid(format!(
                "[profile.{name}.layout] encoding = \"{e}\": messages in \"{}\" can be {}",
                l.messages_in.name(),
                one_of(&mut allowed.iter().map(|e| e.name()))
            )));
        };
        overridden |= *v != l.encoding;
        l.encoding = *v;
    }
    if let Some(o) = f.order {
        l.newest_first = match o.as_str() {
            "oldest-first" => false,
            "newest-first" => true,
            _ => {
                return Err(invalid(format!(
                    "[profile.{name}.layout] order = \"{o}\": expected \"oldest-first\" (RPUSH) or \"newest-first\" (LPUSH)"
                )));
            }
        };
        overridden = true;
    }
    if let Some(t) = f.key {
        if l.messages_in != MessagesIn::Keys {
            return Err(invalid(format!(
                "[profile.{name}.layout] key = \"{t}\": a key template is for messages_in = \"keys\" (a key per message); lists and checkpoints use key_prefix and keys"
            )));
        }
        if let Err(e) = KeyTemplate::parse(&t) {
            return Err(invalid(format!("[profile.{name}.layout] key = \"{t}\": {e}")));
        }
        overridden = true;
        l.key_prefix = t.split('{').next().unwrap_or("").to_string();
        l.keys = KeyTemplate::parse(&t).map(|k| k.glob()).unwrap_or_default();
        l.key_template = t;
    }
    let mut field = |slot: &mut Option<String>, v: Option<String>| {
        if let Some(v) = v {
            overridden = true;
            *slot = (!v.is_empty()).then_some(v);
        }
    };
    field(&mut l.fields.role, f.role_field.map(FieldNames::joined));
    field(&mut l.fields.content, f.content_field.map(FieldNames::joined));
    field(&mut l.fields.timestamp, f.timestamp_field);
    field(&mut l.fields.id, f.id_field.map(FieldNames::joined));
    field(&mut l.fields.user, f.user_field.map(FieldNames::joined));
    field(&mut l.fields.agent, f.agent_field.map(FieldNames::joined));
    field(&mut l.fields.conversation, f.conversation_field);
    if let Some(r) = f.roles {
        overridden = true;
        l.roles = r.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    }
    if l.fields.conversation.is_some() && l.messages_in != MessagesIn::Keys {
        return Err(invalid(format!(
            "[profile.{name}.layout] conversation_field: conversations grouped by a field are for messages_in = \"keys\""
        )));
    }
    if l.messages_in == MessagesIn::Keys
        && l.fields.conversation.is_none()
        && !l.key_template.contains("{conversation}")
    {
        return Err(invalid(format!(
            "[profile.{name}.layout] a key per message needs the conversation: key = \"…{{conversation}}…\" or conversation_field"
        )));
    }
    if l.collection.contains('*') {
        if let Err(e) = crate::domain::CollectionPattern::parse(&l.collection) {
            return Err(invalid(format!("[profile.{name}.layout] collection = {e}")));
        }
        if !matches!(l.messages_in, MessagesIn::Array | MessagesIn::Subcollection | MessagesIn::Memscope) {
            return Err(invalid(format!(
                "[profile.{name}.layout] collection = \"{}\": a `*` (every parent's collection) is for conversations as documents (messages_in = \"array\" or \"subcollection\"), not \"{}\"",
                l.collection,
                l.messages_in.name()
            )));
        }
    }
    if overridden && l.messages_in == MessagesIn::Memscope {
        // memscope's store queries know memscope's names only: renamed, it is a subcollection.
        l.messages_in = MessagesIn::Subcollection;
    }
    l.overridden = overridden;
    Ok(l)
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

/// Query parameters that carry a secret in the URL forms redis-rs and the official clients
/// accept (`unix:///path?db=0&pass=…`, `redis://host?password=…`).
const SECRET_PARAMS: [&str; 8] =
    ["pass", "password", "passwd", "pwd", "secret", "token", "api_key", "sentinel_password"];

/// Hide every secret in a URL: the password of `scheme://user:password@host` and the value of
/// secret-bearing query parameters (`pass=`, `password=`, …).
///
/// A password may hold `?`, `/`, `#` or `@` unencoded (`redis://:S3CRET?PW4@host`), so the
/// credentials are found first ([`url_parts`]). When a query value holds an `@` before a
/// host-like word, more is hidden than needed — never less.
pub fn redact_url(url: &str) -> String {
    match url_parts(url) {
        (scheme, Some(cred), rest) => {
            let user = match cred.find(':') {
                Some(c) => format!("{}:***", &cred[..c]),
                None if cred.is_empty() => String::new(),
                None => "***".to_string(),
            };
            format!("{scheme}{user}@{}", redact_query(rest))
        }
        (scheme, None, rest) => format!("{scheme}{}", redact_query(rest)),
    }
}

/// A URL's `scheme://` (empty without one), its credentials — everything before the last `@`
/// that a host follows, so that a password may hold `?`, `/`, `#` or `@` unencoded — and the
/// rest (`host:port/path?query#fragment`).
pub fn url_parts(url: &str) -> (&str, Option<&str>, &str) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return ("", None, url) };
    let rest = &url[scheme_end..];
    let host_like = |s: &str| {
        let host = s.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:[]%".contains(c))
    };
    match rest.char_indices().rev().find(|&(i, c)| c == '@' && host_like(&rest[i + 1..])).map(|(i, _)| i) {
        Some(at) => (&url[..scheme_end], Some(&rest[..at]), &rest[at + 1..]),
        None => (&url[..scheme_end], None, rest),
    }
}

/// `host/path?k=v#f` with the values of secret-bearing query parameters hidden.
fn redact_query(s: &str) -> String {
    let Some((head, q)) = s.split_once('?') else { return s.to_string() };
    let (q, fragment) = match q.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (q, None),
    };
    let params: Vec<String> = q
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    let mut out = format!("{head}?{}", params.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

impl Config {
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
            for (k, x) in [("index", &v.index), ("host", &v.host), ("metric", &v.metric), ("path", &v.path)] {
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
                "vector: backend={} index={} host={} namespace={:?} text_field={} api_key={}\n",
                v.backend,
                v.index.as_deref().unwrap_or("-"),
                v.host.as_deref().unwrap_or("-"),
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

/// The levels the Health evaluation judges each figure by (`[profile.NAME.health]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub latency_warn_ms: f64,
    pub latency_crit_ms: f64,
    pub miss_rate_warn: f64,
    pub miss_rate_crit: f64,
    /// Lookups an interval needs before its miss rate is judged.
    pub miss_rate_min_lookups: u64,
    pub memory_warn_pct: f64,
    pub memory_crit_pct: f64,
    pub fullness_warn: f64,
    pub fullness_crit: f64,
    pub evictions_warn_per_s: f64,
    pub evictions_crit_per_s: f64,
    pub time_to_full_warn_s: f64,
    pub time_to_full_crit_s: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            latency_warn_ms: 100.0,
            latency_crit_ms: 500.0,
            miss_rate_warn: 0.5,
            miss_rate_crit: 0.8,
            miss_rate_min_lookups: 20,
            memory_warn_pct: 80.0,
            memory_crit_pct: 95.0,
            fullness_warn: 0.8,
            fullness_crit: 0.95,
            evictions_warn_per_s: 1.0,
            evictions_crit_per_s: 50.0,
            time_to_full_warn_s: 3600.0,
            time_to_full_crit_s: 600.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn example_config_parses_and_validates() {
        validate_text(EXAMPLE, "config.example.toml").expect("config.example.toml must be valid");
    }

    #[test]
    fn a_layout_names_the_vector_metadata_unless_the_vector_section_does() {
        let body = "[profile.p.vector]\nbackend = \"local\"\n[profile.p.layout]\npreset = \"mem0\"\n";
        let f = parse_str(body, "f").unwrap();
        let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
        assert_eq!(c.vector.unwrap().text_field, "data", "mem0 keeps the text in `data`");
        assert_eq!((c.layout.vector_conversation_field.as_str(), c.layout.in_redis()), ("user_id", true));
        let body = format!("{body}vector_conversation_field = \"run_id\"\n[profile.p.vector.x]\n");
        let body = body.replace("[profile.p.vector.x]\n", "");
        let f = parse_str(&body.replace("backend = \"local\"", "backend = \"local\"\ntext_field = \"memory\""), "f")
            .unwrap();
        let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
        assert_eq!(c.vector.unwrap().text_field, "memory", "[vector] text_field wins");
        assert_eq!(c.layout.vector_conversation_field, "run_id");
        assert!(c.layout.overridden && !c.layout.is_memscopes_own());
        assert!(LayoutConfig::default().is_memscopes_own());
    }

    #[test]
    fn a_history_database_is_mem0s_only() {
        let ok = "[profile.p.redis]\nurl = \"redis://h\"\n[profile.p.layout]\npreset = \"mem0\"\nhistory = \"~/.mem0/history.db\"\n";
        let c = resolve(
            parse_str(ok, "f").unwrap(),
            "f",
            &Overrides::default(),
            &env_none,
            vec![],
            Some("p".into()),
            vec![],
        )
        .unwrap();
        assert_eq!(c.layout.history.as_deref(), Some("~/.mem0/history.db"), "expanded when opened");
        let bad = ok.replace("mem0", "redisvl").replace("~/.redisvl", "~/.mem0");
        let e = resolve(
            parse_str(&bad, "f").unwrap(),
            "f",
            &Overrides::default(),
            &env_none,
            vec![],
            Some("p".into()),
            vec![],
        )
        .unwrap_err();
        assert!(e.to_string().contains("a history database is mem0's"), "{e}");
    }

    #[test]
    fn the_theme_comes_from_the_profile_or_the_environment_and_is_checked() {
        let f = parse_str("[profile.p]\ntheme = \"high-contrast\"\n", "f").unwrap();
        let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
        assert_eq!(c.theme, "high-contrast");
        let f = parse_str("[profile.p]\ntheme = \"neon\"\n", "f").unwrap();
        let e = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap_err();
        assert!(e.to_string().contains("expected \"default\" or \"high-contrast\""), "{e}");
        let env = |k: &str| (k == "MEMSCOPE_THEME").then(|| "high-contrast".to_string());
        let c = resolve(FileConfig::default(), "f", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
        assert_eq!(c.theme, "high-contrast");
    }

    #[test]
    fn a_whole_keyspace_pass_is_limited_by_the_profile() {
        let f = parse_str("[profile.p.redis]\nurl = \"redis://x\"\n", "f").unwrap();
        let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
        assert_eq!(c.redis.unwrap().max_ops_per_sec, 200_000);
        let f = parse_str("[profile.p.redis]\nurl = \"redis://x\"\nmax_ops_per_sec = 0\n", "f").unwrap();
        let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
        assert_eq!(c.redis.unwrap().max_ops_per_sec, 0, "0: no limit");
        let e = parse_str("[profile.p.redis]\nmax_ops_per_sec = -5\n", "f").unwrap_err().to_string();
        assert!(e.starts_with("f:2:"), "{e}");
    }

    #[test]
    fn empty_file_is_valid_and_read_only() {
        let c = resolve(FileConfig::default(), "x", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap();
        assert!(c.read_only);
        assert!(c.redis.is_none());
        assert_eq!(c.profile, "default");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = "[profile.local]\nread_only = true\n\n[profile.local.redis]\nurl = \"redis://x\"\nscan_cuont = 5\n";
        let err = parse_str(text, "my.toml").unwrap_err().to_string();
        assert!(err.starts_with("my.toml:6:"), "{err}");
        assert!(err.contains("scan_cuont"), "{err}");
    }

    #[test]
    fn malformed_toml_names_line() {
        let err = parse_str("[profile.a]\nread_only = tru\n", "bad.toml").unwrap_err().to_string();
        assert!(err.starts_with("bad.toml:2:"), "{err}");
    }

    #[test]
    fn precedence_file_env_flag() {
        let file = parse_str("[profile.p.redis]\nurl = \"redis://file:1\"\n", "f").unwrap();
        let env = |k: &str| (k == "REDIS_URL").then(|| "redis://env:2".to_string());
        let c = resolve(file, "f", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
        assert_eq!(c.redis.unwrap().url, "redis://env:2");
        let file = parse_str("[profile.p.redis]\nurl = \"redis://file:1\"\n", "f").unwrap();
        let ov = Overrides { redis_url: Some("redis://flag:3".into()), ..Default::default() };
        let c = resolve(file, "f", &ov, &env, vec![], None, vec![]).unwrap();
        assert_eq!(c.redis.unwrap().url, "redis://flag:3");
    }

    #[test]
    fn profile_choice() {
        let text = "default_profile = \"b\"\n[profile.a]\nread_only = false\n[profile.b]\n";
        let c = resolve(parse_str(text, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![])
            .unwrap();
        assert_eq!(c.profile, "b");
        assert!(c.read_only);
        let ov = Overrides { profile: Some("a".into()), ..Default::default() };
        let c = resolve(parse_str(text, "f").unwrap(), "f", &ov, &env_none, vec![], None, vec![]).unwrap();
        assert!(!c.read_only);
        let ov = Overrides { profile: Some("zzz".into()), ..Default::default() };
        let err = resolve(parse_str(text, "f").unwrap(), "f", &ov, &env_none, vec![], None, vec![]).unwrap_err();
        assert!(err.to_string().contains("profile `zzz` not found"));
        let two = "[profile.a]\n[profile.b]\n";
        let err = resolve(parse_str(two, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![])
            .unwrap_err();
        assert!(err.to_string().contains("default_profile"));
    }

    #[test]
    fn env_alone_configures_tiers() {
        let env = |k: &str| match k {
            "REDIS_URL" => Some("redis://e:1".to_string()),
            "FIRESTORE_EMULATOR_HOST" => Some("127.0.0.1:8080".to_string()),
            "PINECONE_API_KEY" => Some("pk".to_string()),
            "PINECONE_INDEX" => Some("idx".to_string()),
            _ => None,
        };
        let c = resolve(FileConfig::default(), "x", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
        assert!(c.redis.is_some());
        assert!(matches!(c.long_term, Some(LongTermConfig::Firestore { .. })));
        assert_eq!(c.vector.unwrap().index.as_deref(), Some("idx"));
    }

    #[test]
    fn write_flag_lifts_read_only_and_bad_values_are_errors() {
        let ov = Overrides { write: true, ..Default::default() };
        let c = resolve(FileConfig::default(), "x", &ov, &env_none, vec![], None, vec![]).unwrap();
        assert!(!c.read_only);
        let bad = parse_str("[profile.a.redis]\nurl = \"http://x\"\n", "f").unwrap();
        assert!(resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).is_err());
        let bad = parse_str("[profile.a.long_term]\nbackend = \"mongo\"\n", "f").unwrap();
        let e = resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap_err();
        assert!(e.to_string().contains("mongo"));
    }

    #[test]
    fn redis_modes_and_sentinel_fields() {
        let r =
            |t: &str| resolve(parse_str(t, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![]);
        let c = r(
            "[profile.p.redis]\nsentinels = [\"10.0.0.1:26379\", \"10.0.0.2:26379\"]\nsentinel_master = \"mymaster\"\n",
        )
        .unwrap();
        assert_eq!(c.redis.unwrap().url, "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0");
        let e = r("[profile.p.redis]\nsentinels = [\"h:1\"]\n").unwrap_err().to_string();
        assert!(e.contains("sentinel_master"), "{e}");
        let e =
            r("[profile.p.redis]\nurl = \"redis://x\"\nsentinels = [\"h:1\"]\nsentinel_master = \"m\"\n").unwrap_err();
        assert!(e.to_string().contains("both url and sentinels"), "{e}");
        let c = r("[profile.p.redis]\nmode = \"cluster\"\nread_from_replicas = true\n").unwrap().redis.unwrap();
        assert_eq!((c.mode, c.read_from_replicas), (RedisMode::Cluster, true));
        let e = r("[profile.p.redis]\nmode = \"swarm\"\n").unwrap_err().to_string();
        assert!(e.contains("\"swarm\"") && e.contains("standalone"), "{e}");
        let e = r("[profile.p.redis]\nmode = \"sentinel\"\nurl = \"redis://x\"\n").unwrap_err().to_string();
        assert!(e.contains("redis+sentinel://"), "{e}");
        let e = r("[profile.p.redis]\nurl = \"redis+sentinel://h:26379\"\n").unwrap_err().to_string();
        assert!(e.contains("no master name"), "{e}");
    }

    #[test]
    fn health_thresholds_parse_and_validate() {
        let ok = parse_str("[profile.p.health]\ninterval_ms = 1000\nlatency_warn_ms = 20\nlatency_crit_ms = 80\nmiss_rate_warn = 0.3\n", "f").unwrap();
        let c = resolve(ok, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap();
        assert_eq!(c.health.interval_ms, 1000);
        assert_eq!(c.health.thresholds.latency_crit_ms, 80.0);
        assert_eq!(c.health.thresholds.miss_rate_warn, 0.3);
        let bad = parse_str("[profile.p.health]\nlatency_warn_ms = 900\n", "f").unwrap();
        let e = resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap_err().to_string();
        assert!(e.contains("latency_warn_ms") && e.contains("latency_crit_ms"), "{e}");
        let bad = parse_str("[profile.p.health]\nmiss_rate_crit = 80\n", "f").unwrap();
        assert!(resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).is_err());
        let typo = parse_str("[profile.p.health]\nlatency_wran_ms = 1\n", "f").unwrap_err().to_string();
        assert!(typo.contains("latency_wran_ms"), "{typo}");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("redis://user:secret@host:6379/0"), "redis://user:***@host:6379/0");
        assert_eq!(redact_url("rediss://:secret@host"), "rediss://:***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        // Passwords in query parameters, as redis-rs reads them for unix sockets and URLs.
        assert_eq!(redact_url("unix:///tmp/r.sock?db=0&pass=SECRET"), "unix:///tmp/r.sock?db=0&pass=***");
        assert_eq!(redact_url("redis://h:1/0?password=X&protocol=resp3"), "redis://h:1/0?password=***&protocol=resp3");
        assert_eq!(redact_url("redis+unix:///s?PASS=X"), "redis+unix:///s?PASS=***");
        // A password holding what ends a URL's parts, unencoded.
        assert_eq!(redact_url("redis://:S3CRET?PW4@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(redact_url("redis://u:a/b#c@h:1/2?password=Z"), "redis://u:***@h:1/2?password=***");
        assert_eq!(redact_url("redis://u:p@ss@h"), "redis://u:***@h");
        assert_eq!(redact_url("redis://h:1/0?client=a@b"), "redis://h:***@b", "too much hidden, never too little");
        for u in [
            "unix:///tmp/r.sock?db=0&pass=SECRET",
            "redis://u:SECRET@h?password=SECRET",
            "redis://:SECRET?x@h",
            "rediss://default:SE?CR/ET@[::1]:6380",
            "redis+sentinel://:SECRET?@h:26379/mymaster",
        ] {
            assert!(!redact_url(u).contains("SECRET"), "{u} → {}", redact_url(u));
        }
    }
}

#[cfg(test)]
mod sentinel_url_tests {
    use super::*;
    #[test]
    fn sentinel_urls_parse() {
        let u = SentinelUrl::parse("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster/2").unwrap();
        assert_eq!(u.sentinels, vec![("10.0.0.1".into(), 26379), ("10.0.0.2".into(), 26379)]);
        assert_eq!((u.master.as_str(), u.db, u.auth.as_deref(), u.tls), ("mymaster", 2, Some(":pw"), false));
        let u = SentinelUrl::parse("rediss+sentinel://h:5000/m").unwrap();
        assert_eq!((u.db, u.tls), (0, true));
        assert!(SentinelUrl::parse("redis+sentinel://h:26379").unwrap_err().contains("master name"));
        assert!(SentinelUrl::parse("redis+sentinel://h:x/m").unwrap_err().contains("host:port"));
    }
}
