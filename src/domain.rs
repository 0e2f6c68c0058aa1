//! Backend-neutral types. Store crate types never leave `store/`; these do.

use std::fmt;

/// The three memory tiers (plus the embedder the vector tier needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    LongTerm,
    ShortTerm,
    Vector,
}

/// Connection state of one tier, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    NotConfigured,
    Connecting,
    Up,
    Down(String),
}

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

/// Lazily fetched facts about a key (for visible rows only).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMeta {
    /// `None`: the key no longer exists.
    pub ktype: Option<KeyType>,
    pub ttl: Ttl,
    /// Bytes from `MEMORY USAGE` (default sampling); `None` when not available.
    pub memory: Option<u64>,
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
    /// Module or unknown type: only its name and size are shown.
    Opaque,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry {
    pub id: String,
    pub fields: Vec<(Blob, Blob)>,
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
    pub version: String,
    pub keyspace: Vec<DbInfo>,
    pub databases: Option<u32>,
    pub db: u32,
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
