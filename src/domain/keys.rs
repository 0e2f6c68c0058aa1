//! The short-term tier's keys and values: types, TTLs, scan batches, value pages and what `:export` writes of them, server facts, writes.

use std::fmt;

/// A Redis key: untrusted bytes.
pub type Key = Box<[u8]>;

/// Redis data types, as `TYPE` names them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyType {
    String,
    List,
    Hash,
    Set,
    ZSet,
    Stream,
    /// A module type (`ReJSON-RL`, `MBbloom--`, …) or anything unknown.
    Other(String),
}

impl KeyType {
    pub fn parse(s: &str) -> Option<KeyType> {
        Some(match s {
            "none" => return None,
            "string" => KeyType::String,
            "list" => KeyType::List,
            "hash" => KeyType::Hash,
            "set" => KeyType::Set,
            "zset" => KeyType::ZSet,
            "stream" => KeyType::Stream,
            other => KeyType::Other(other.to_string()),
        })
    }
    pub fn name(&self) -> &str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Stream => "stream",
            KeyType::Other(s) => s,
        }
    }
    /// The types a SCAN TYPE filter cycles through.
    pub const FILTERS: [Option<&'static str>; 7] =
        [None, Some("string"), Some("list"), Some("hash"), Some("set"), Some("zset"), Some("stream")];
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Expiry of a key, as `PTTL` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    Persistent,
    /// Milliseconds left when it was read.
    Millis(i64),
    /// The key does not exist (any more).
    Gone,
}

impl Ttl {
    pub fn from_pttl(v: i64) -> Ttl {
        match v {
            -1 => Ttl::Persistent,
            -2 => Ttl::Gone,
            ms => Ttl::Millis(ms.max(0)),
        }
    }
}

/// One figure of every key, for ordering a whole listing (the Keys tab's sort by TTL or size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// PTTL in milliseconds; `None` for a key without a TTL or gone.
    Ttl,
    /// MEMORY USAGE in bytes; `None` for a key gone.
    Memory,
}

/// Lazily fetched facts about a key (for visible rows only).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMeta {
    /// `None`: the key no longer exists.
    pub ktype: Option<KeyType>,
    pub ttl: Ttl,
    /// Bytes from `MEMORY USAGE` (default sampling); `None` when not available.
    pub memory: Option<u64>,
}

/// A key as data, one convention for every output (`keys --json`, `:export`): `key` (or
/// `key_hex` when not UTF-8), and with what is known of it `type`, `ttl_ms` (-1 no TTL, -2 gone)
/// and `memory` (null when the server would not say). Without `meta` the key was not measured:
/// the fields are absent, never made up.
pub fn key_json(k: &[u8], meta: Option<&KeyMeta>) -> serde_json::Value {
    use serde_json::json;
    let mut v = match std::str::from_utf8(k) {
        Ok(s) => json!({"key": s}),
        Err(_) => json!({"key_hex": k.iter().map(|b| format!("{b:02x}")).collect::<String>()}),
    };
    if let Some(m) = meta {
        v["type"] = json!(m.ktype.as_ref().map(|t| t.name().to_string()));
        v["ttl_ms"] = json!(match m.ttl {
            Ttl::Millis(ms) => ms,
            Ttl::Persistent => -1,
            Ttl::Gone => -2,
        });
        v["memory"] = json!(m.memory);
    }
    v
}

/// One server whose keys SCAN lists: the server itself (`addr` None), or one master of a
/// Redis Cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanNode {
    pub addr: Option<String>,
    /// DBSIZE of the node when asked (None: it did not say).
    pub keys: Option<u64>,
}

/// One batch of a running SCAN.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanBatch {
    pub keys: Vec<Key>,
    /// Keys returned so far (may contain duplicates: SCAN guarantees at-least-once).
    pub seen: u64,
    /// DBSIZE when the scan started.
    pub total: Option<u64>,
    /// SCAN calls made so far.
    pub calls: u64,
    pub done: bool,
}

impl ScanBatch {
    /// An empty batch (progress only).
    pub fn progress(seen: u64, total: Option<u64>, calls: u64, done: bool) -> ScanBatch {
        ScanBatch { keys: Vec::new(), seen, total, calls, done }
    }
}

/// Where a page of a collection starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    Start,
    /// LRANGE / ZRANGE index.
    Offset(u64),
    /// HSCAN / SSCAN cursor.
    Cursor(u64),
    /// XRANGE: entries after this id.
    After(String),
}

/// The bytes of a string value, whole or previewed.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// Full length (STRLEN).
    pub total_len: u64,
}

impl Blob {
    pub fn truncated(&self) -> bool {
        (self.bytes.len() as u64) < self.total_len
    }
}

/// A value, or one page of it.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueBody {
    String(Blob),
    /// A string holding a HyperLogLog; `PFCOUNT` estimate.
    HyperLogLog {
        count: u64,
        bytes: u64,
    },
    List(Vec<Blob>),
    Hash(Vec<(Blob, Blob)>),
    Set(Vec<Blob>),
    ZSet(Vec<(Blob, f64)>),
    Stream(Vec<StreamEntry>),
    /// A RedisJSON document (`ReJSON-RL`).
    Json(JsonDoc),
    /// Module or unknown type: only its name and size are shown.
    Opaque,
}

impl ValueBody {
    /// Elements on this page (fields, members, entries); 0 for strings and documents.
    pub fn elements(&self) -> usize {
        match self {
            ValueBody::List(v) | ValueBody::Set(v) => v.len(),
            ValueBody::Hash(v) => v.len(),
            ValueBody::ZSet(v) => v.len(),
            ValueBody::Stream(v) => v.len(),
            ValueBody::Json(JsonDoc::Members { members, .. }) => members.len(),
            _ => 0,
        }
    }
}

/// A RedisJSON document: whole when it is small, else its top-level members by path (never
/// pulled whole: the size guard of strings applies).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonDoc {
    /// `JSON.GET key $` (the document, not the one-element array `$` returns).
    Whole(Blob),
    /// The document is larger than `preview_bytes`: its kind, its size, how many top-level
    /// members it has and one page of them (from the page's cursor offset).
    Members { kind: String, total: u64, count: u64, members: Vec<JsonMember> },
}

/// One top-level member of a large JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonMember {
    /// The JSONPath that reads it (`$["name"]` or `$[3]`).
    pub path: String,
    /// object, array, string, integer, number, boolean, null.
    pub kind: String,
    pub bytes: Option<u64>,
    /// Its JSON text when small enough to show.
    pub preview: Option<String>,
}

/// A RediSearch index (`FT._LIST`, `FT.INFO`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchIndex {
    pub name: String,
    /// HASH or JSON.
    pub on: String,
    pub prefixes: Vec<String>,
    pub fields: Vec<SearchField>,
    pub docs: u64,
    /// The vector index's memory (`vector_index_sz_mb`), when the server says.
    pub vector_mb: Option<f64>,
    /// How much of the keyspace is indexed (`percent_indexed`: 1.0 when done).
    pub percent_indexed: Option<f64>,
    /// Documents the index could not take (`hash_indexing_failures`).
    pub failures: u64,
}

impl SearchIndex {
    /// The index's VECTOR field (the first, when it has several).
    pub fn vector_field(&self) -> Option<&SearchField> {
        self.fields.iter().find(|f| f.vector.is_some())
    }
}

/// One field of a RediSearch index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchField {
    /// Its name in queries (`AS …`, else the identifier).
    pub name: String,
    /// Where its value is: a hash field, or a JSON path (`$.embedding`).
    pub path: String,
    /// TAG, TEXT, NUMERIC, VECTOR, GEO …
    pub kind: String,
    pub vector: Option<VectorSpec>,
}

impl SearchField {
    /// `embedding VECTOR 384 × FLOAT32 COSINE HNSW`, as the Keys tab and detect say it.
    pub fn describe(&self) -> String {
        match &self.vector {
            Some(v) => format!("{} VECTOR {} × {} {} {}", self.name, v.dim, v.dtype, v.metric, v.algorithm),
            None => format!("{} {}", self.name, self.kind),
        }
    }
}

/// A VECTOR field's shape: FLAT or HNSW, FLOAT32 or FLOAT64, its dimension and distance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorSpec {
    pub algorithm: String,
    pub dtype: String,
    pub dim: u32,
    /// COSINE, IP or L2.
    pub metric: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(Blob, Blob)>,
}

/// A stream's consumer group (XINFO GROUPS), its consumers (XINFO CONSUMERS) and its oldest
/// pending entries (XPENDING): what stalls when an agent's task queue stops moving.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamGroup {
    pub name: String,
    pub pending: u64,
    pub last_delivered: String,
    /// Entries the group has yet to read (Redis 7+; unknown after some deletions).
    pub lag: Option<u64>,
    pub consumers: Vec<StreamConsumer>,
    /// The oldest pending entries (at most [`PENDING_SHOWN`]).
    pub oldest_pending: Vec<PendingEntry>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamConsumer {
    pub name: String,
    pub pending: u64,
    /// Since its last attempt to read (`idle`).
    pub idle_ms: u64,
    /// Since its last successful read (`inactive`, Redis 7.2+; -1 when it never read).
    pub inactive_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PendingEntry {
    pub id: String,
    pub consumer: String,
    pub idle_ms: u64,
    pub deliveries: u64,
}

/// Consumer groups read per stream at most, and pending entries shown per group.
pub const GROUPS_READ: usize = 20;
pub const PENDING_SHOWN: usize = 10;

/// How a pre-rendered line of a view is drawn (the value view, the analysis view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    Normal,
    Dim,
    Label,
    Warn,
}

/// What the value viewer shows for one key.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePage {
    pub key: Key,
    pub ktype: KeyType,
    pub ttl: Ttl,
    /// Elements (LLEN, HLEN, …) or bytes (STRLEN).
    pub length: u64,
    pub memory: Option<u64>,
    pub cursor: PageCursor,
    /// The next page, if any.
    pub next: Option<PageCursor>,
    pub body: ValueBody,
    /// On a Redis Cluster: the key's hash slot and the master serving it.
    pub node: Option<(u16, String)>,
    /// A stream's consumer groups (read with its first page), and how many more it has.
    pub groups: Vec<StreamGroup>,
    pub groups_left_out: usize,
    /// The page as the value view draws it, made by the backend (decoding can take a while);
    /// empty until then.
    pub lines: Vec<(LineStyle, String)>,
    /// The formats the page's values can be read as, automatic choice first (what `F` cycles),
    /// by name; found by the backend with the lines.
    pub formats: Vec<String>,
}

/// Bytes as data: `{"value": text}` when they are UTF-8, else `{"value_base64": …}` (never
/// screen text, never escapes); a preview says how much of the whole it holds.
pub(super) fn blob_json(name: &str, b: &Blob) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    let mut m = serde_json::Map::new();
    match std::str::from_utf8(&b.bytes) {
        Ok(t) => m.insert(name.into(), t.into()),
        Err(_) => m.insert(format!("{name}_base64"), base64::engine::general_purpose::STANDARD.encode(&b.bytes).into()),
    };
    if b.truncated() {
        m.insert(format!("{name}_bytes_read"), (b.bytes.len() as u64).into());
        m.insert(format!("{name}_bytes"), b.total_len.into());
    }
    m
}

impl ValuePage {
    /// The page as data, a JSON object per line: first what it is (key, type, length, whether
    /// this page is all of it), then one line per element — a string's value, a hash's
    /// `{"field", "value"}`, a list's `{"index", "value"}`, a sorted set's `{"member",
    /// "score"}`, a stream's `{"id", "fields"}`, a JSON document as JSON. What `:export` writes
    /// and `y` copies: the stored data, never the screen's text.
    pub fn data_lines(&self) -> Vec<serde_json::Value> {
        use serde_json::{Value as J, json};
        let with = |mut m: serde_json::Map<String, J>, k: &str, v: J| {
            m.insert(k.into(), v);
            J::Object(m)
        };
        let elements: Vec<J> = match &self.body {
            ValueBody::String(b) => vec![J::Object(blob_json("value", b))],
            ValueBody::HyperLogLog { count, bytes } => vec![json!({"hyperloglog_count": count, "bytes": bytes})],
            ValueBody::List(items) => {
                let base = match self.cursor {
                    PageCursor::Offset(o) => o,
                    _ => 0,
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, b)| with(blob_json("value", b), "index", json!(base + i as u64)))
                    .collect()
            }
            ValueBody::Hash(pairs) => pairs
                .iter()
                .map(|(f, v)| {
                    let mut m = blob_json("field", f);
                    m.extend(blob_json("value", v));
                    J::Object(m)
                })
                .collect(),
            ValueBody::Set(items) => items.iter().map(|b| J::Object(blob_json("member", b))).collect(),
            ValueBody::ZSet(items) => {
                items.iter().map(|(b, sc)| with(blob_json("member", b), "score", json!(sc))).collect()
            }
            ValueBody::Stream(entries) => entries
                .iter()
                .map(|e| {
                    let fields: Vec<J> = e
                        .fields
                        .iter()
                        .map(|(f, v)| {
                            let mut m = blob_json("field", f);
                            m.extend(blob_json("value", v));
                            J::Object(m)
                        })
                        .collect();
                    json!({"id": e.id, "fields": fields})
                })
                .collect(),
            ValueBody::Json(JsonDoc::Whole(b)) => vec![match serde_json::from_slice::<J>(&b.bytes) {
                Ok(v) => json!({"json": v}),
                Err(_) => J::Object(blob_json("value", b)),
            }],
            ValueBody::Json(JsonDoc::Members { members, .. }) => members
                .iter()
                .map(|m| {
                    match m.preview.as_deref().and_then(|p| serde_json::from_str::<J>(p).ok()) {
                        Some(v) => json!({"path": m.path, "kind": m.kind, "bytes": m.bytes, "json": v}),
                        // Too large to show: said in its own field, never a null posing as the value.
                        None => json!({"path": m.path, "kind": m.kind, "bytes": m.bytes, "not_read": true}),
                    }
                })
                .collect(),
            ValueBody::Opaque => vec![],
        };
        let partial = self.next.is_some()
            || !matches!(self.cursor, PageCursor::Start)
            || matches!(&self.body, ValueBody::String(b) if b.truncated())
            || matches!(&self.body, ValueBody::Json(JsonDoc::Members { .. }));
        let key = match std::str::from_utf8(&self.key) {
            Ok(k) => json!({"key": k}),
            Err(_) => {
                use base64::Engine;
                json!({"key_base64": base64::engine::general_purpose::STANDARD.encode(&self.key)})
            }
        };
        let mut head = key;
        head["type"] = json!(self.ktype.name());
        head["length"] = json!(self.length);
        head["elements_here"] = json!(self.body.elements());
        head["complete"] = json!(!partial);
        if matches!(self.body, ValueBody::Opaque) {
            head["note"] = json!("a module type memscope cannot read: its name and size only");
        }
        std::iter::once(head).chain(elements).collect()
    }
}

/// What `INFO keyspace` says of one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInfo {
    pub db: u32,
    pub keys: u64,
    pub expires: u64,
}

/// Facts for the tab header.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// "Redis" or "Valkey", from `INFO server`.
    pub product: String,
    pub version: String,
    pub keyspace: Vec<DbInfo>,
    pub databases: Option<u32>,
    pub db: u32,
    pub mode: ServerMode,
    /// Reached through Sentinels: (master name, its address now).
    pub sentinel_master: Option<(String, String)>,
    /// RediSearch indexes (empty without the module).
    pub search_indexes: Vec<SearchIndex>,
}

/// What kind of server the URL reached. Anything but a standalone server (or a replica of
/// one) holds a part of the keyspace, or none of it: memscope says so instead of showing that
/// part as the whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ServerMode {
    #[default]
    Standalone,
    /// A Redis Cluster. The masters, `host:port` (the node the URL names marked). `whole`:
    /// memscope talks to the whole cluster (every master scanned, commands routed by slot);
    /// false with `mode = "standalone"`: this node's own slots' keys only.
    Cluster { masters: Vec<(String, bool)>, whole: bool },
    /// A Sentinel: it watches masters and holds no keys. (name, `host:port`) of each master.
    Sentinel { masters: Vec<(String, String)> },
}

impl ServerMode {
    /// Why a listing through this server is not the whole keyspace, and what to do; None for
    /// a standalone server.
    pub fn partial_reason(&self) -> Option<String> {
        match self {
            ServerMode::Standalone | ServerMode::Cluster { whole: true, .. } => None,
            ServerMode::Cluster { masters, whole: false } => Some(format!(
                "this server is one node of a Redis Cluster with {} master{} ({}): it holds only its own slots' keys, and mode = \"standalone\" keeps memscope on this node",
                masters.len(),
                if masters.len() == 1 { "" } else { "s" },
                masters
                    .iter()
                    .map(|(a, me)| if *me { format!("{a} (this one)") } else { a.clone() })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ServerMode::Sentinel { masters } => Some(format!(
                "this is a Redis Sentinel: it holds no keys. Use redis+sentinel://HOST:PORT/MASTER/DB to follow the master it names through failovers, or point memscope at the master{}",
                if masters.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {}",
                        masters.iter().map(|(n, a)| format!("`{n}` at redis://{a}")).collect::<Vec<_>>().join(", ")
                    )
                }
            )),
        }
    }
}

/// The write operations of the Keys tab.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Delete(Key),
    Expire(Key, u64),
    Persist(Key),
    Rename(Key, Key),
}

impl WriteOp {
    pub fn key(&self) -> &[u8] {
        match self {
            WriteOp::Delete(k) | WriteOp::Expire(k, _) | WriteOp::Persist(k) | WriteOp::Rename(k, _) => k,
        }
    }
}
