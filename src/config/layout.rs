//! Where conversations live: the framework presets, where messages are and how they are encoded, the field overrides.

use super::*;

/// Which framework wrote the conversations (`[profile.X.layout] preset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
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
    pub(super) fn encodings(self) -> &'static [Encoding] {
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
    /// Key-per-message layouts: the key's shape, `{conversation}`, `{message}`, `{ts}`, `{*}`
    /// (parsed when the config is read).
    pub key_template: KeyTemplate,
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
        // mem0 on Pinecone keeps the text in `data` and no conversation or message id (in Redis:
        // [`LayoutConfig::on_vector_backend`]); redisvl's SemanticMessageHistory keeps its message
        // fields beside the vector, agent-memory-server its record's.
        let (vtext, vconv, vmsg) = match p {
            LayoutPreset::Mem0 => ("data", "user_id", "hash"),
            LayoutPreset::Redisvl => ("content", "session_tag", "entry_id"),
            LayoutPreset::AgentMemoryServer => ("text", "session_id", "id_"),
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
            key_template: KeyTemplate::parse(template).expect("a preset's key template parses"),
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
    pub(super) fn agent_memory_records() -> LayoutConfig {
        let s = |v: &str| Some(v.to_string());
        LayoutConfig {
            key_prefix: "memory_idx:".into(),
            keys: "memory_idx:*".into(),
            key_template: KeyTemplate::parse("memory_idx:{message}").expect("a preset's key template parses"),
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

    /// The vector tier's names as the framework writes them on this backend, where they differ
    /// and were not set: mem0's Redis/Valkey index keeps the text in `memory` and the id in
    /// `memory_id` (its Pinecone records: `data`, `hash`).
    pub(super) fn on_vector_backend(&mut self, backend: &str) {
        if self.preset == LayoutPreset::Mem0 && backend == "redis" {
            if self.vector_text_field == "data" {
                self.vector_text_field = "memory".into();
            }
            if self.vector_message_field == "hash" {
                self.vector_message_field = "memory_id".into();
            }
        }
    }

    pub(super) fn with_preset(mut self, p: LayoutPreset) -> LayoutConfig {
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

/// Where conversations live: a preset and the names it sets, each overridable.
pub(super) fn resolve_layout(path: &str, name: &str, section: Option<FileLayout>) -> Result<LayoutConfig, ConfigError> {
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

pub(super) fn resolve_one_layout(path: &str, name: &str, f: FileLayout) -> Result<LayoutConfig, ConfigError> {
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
        if let Some(rest) = l.key_template.text().strip_prefix(preset_prefix.as_str()) {
            let t = format!("{}{rest}", l.key_prefix);
            l.key_template = KeyTemplate::parse(&t)
                .map_err(|e| invalid(format!("[profile.{name}.layout] key_prefix = \"{}\": {e}", l.key_prefix)))?;
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
        let template =
            KeyTemplate::parse(&t).map_err(|e| invalid(format!("[profile.{name}.layout] key = \"{t}\": {e}")))?;
        overridden = true;
        l.key_prefix = t.split('{').next().unwrap_or("").to_string();
        l.keys = template.glob();
        l.key_template = template;
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
    if l.messages_in == MessagesIn::Keys && l.fields.conversation.is_none() && !l.key_template.names_conversation() {
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
