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
    /// (name, type) of each field.
    pub fields: Vec<(String, String)>,
    pub docs: u64,
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
    /// On a Redis Cluster: the key's hash slot and the master serving it.
    pub node: Option<(u16, String)>,
}

/// Bytes as data: `{"value": text}` when they are UTF-8, else `{"value_base64": …}` (never
/// screen text, never escapes); a preview says how much of the whole it holds.
fn blob_json(name: &str, b: &Blob) -> serde_json::Map<String, serde_json::Value> {
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

// ---------- long-term tier (Firestore / SQLite) ----------

/// A UTC instant with nanoseconds, as Firestore keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts {
    pub secs: i64,
    pub nanos: u32,
}

impl Ts {
    pub fn from_micros(us: i64) -> Ts {
        Ts { secs: us.div_euclid(1_000_000), nanos: (us.rem_euclid(1_000_000) * 1000) as u32 }
    }
    /// Unix seconds (or milliseconds, or microseconds, told apart by magnitude) as an instant;
    /// None for NaN and infinities, and outside Firestore's years 1–9999.
    pub fn from_unix_number(n: f64) -> Option<Ts> {
        if !n.is_finite() {
            return None;
        }
        let (_, _, scale) = UNIX_BANDS.iter().find(|(lo, hi, _)| (*lo..*hi).contains(&n))?;
        let t = Ts::from_micros((n / scale * 1e6).round() as i64);
        (Ts::MIN..=Ts::MAX).contains(&t).then_some(t)
    }
    /// 0001-01-01T00:00:00Z, the earliest instant Firestore stores.
    pub const MIN: Ts = Ts { secs: -62_135_596_800, nanos: 0 };
    /// 9999-12-31T23:59:59.999999999Z, the latest.
    pub const MAX: Ts = Ts { secs: 253_402_300_799, nanos: 999_999_999 };
    pub fn micros(&self) -> i64 {
        self.secs.saturating_mul(1_000_000).saturating_add((self.nanos / 1000) as i64)
    }

    /// Parse RFC 3339 / ISO-8601. A string without a zone (Python's `utcnow().isoformat()`) is
    /// read as UTC; `Z` and `±hh:mm` offsets are honoured; a date alone is midnight UTC.
    pub fn parse(s: &str) -> Option<Ts> {
        // ASCII space only: what it trims sorts before every digit.
        let s = s.trim_ascii();
        let (date, rest) = match s.find(['T', 't', ' ']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        // The date is YYYY-MM-DD (a longer year allowed: it is past year 9999 whatever its
        // text), so that these strings sort as their dates do: the Firestore reader relies on
        // it to place ISO strings it has not read yet.
        let b = date.as_bytes();
        let n = b.len();
        let canonical = n >= 10
            && b.iter()
                .enumerate()
                .all(|(i, c)| if i == n - 3 || i == n - 6 { *c == b'-' } else { c.is_ascii_digit() });
        if !canonical {
            return None;
        }
        let mut d = date.split('-');
        let y: i64 = d.next()?.parse().ok()?;
        let mo: u32 = d.next()?.parse().ok()?;
        let day: u32 = d.next()?.parse().ok()?;
        if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&day) {
            return None;
        }
        let (time, offset_secs) = if rest.is_empty() {
            ("00:00:00", 0i64)
        } else if let Some(t) = rest.strip_suffix(['Z', 'z']) {
            (t, 0)
        } else if let Some(i) = rest.rfind(['+', '-']).filter(|&i| i >= 5) {
            let (t, off) = rest.split_at(i);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let off = &off[1..];
            let (oh, om) = off.split_once(':').unwrap_or((&off[..off.len().min(2)], &off[off.len().min(2)..]));
            let oh: i64 = oh.parse().ok()?;
            let om: i64 = if om.is_empty() { 0 } else { om.parse().ok()? };
            // RFC 3339 offsets are under a day: a bound the Firestore reader relies on.
            if oh > 23 || om > 59 {
                return None;
            }
            (t, sign * (oh * 3600 + om * 60))
        } else {
            (rest, 0)
        };
        let mut t = time.split(':');
        let h: i64 = t.next()?.parse().ok()?;
        let mi: i64 = t.next()?.parse().ok()?;
        let sec_s = t.next().unwrap_or("0");
        let (whole, frac) = sec_s.split_once('.').unwrap_or((sec_s, ""));
        let sec: i64 = whole.parse().ok()?;
        if h > 23 || mi > 59 || sec > 60 || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut nanos: u32 = 0;
        for (i, c) in frac.chars().take(9).enumerate() {
            nanos += (c as u32 - '0' as u32) * 10u32.pow(8 - i as u32);
        }
        let days = days_from_civil(y, mo, day);
        Some(Ts { secs: days * 86_400 + h * 3600 + mi * 60 + sec - offset_secs, nanos })
    }

    /// `2026-11-23T21:40:05.123000Z`: always six fractional digits, so that these strings sort
    /// as the instants do (the memory layer's Redis entries are ordered by them).
    pub fn to_rfc3339_micros(&self) -> String {
        let s = Ts { secs: self.secs, nanos: 0 }.to_rfc3339();
        format!("{}.{:06}Z", s.trim_end_matches('Z'), self.nanos / 1000)
    }

    pub fn now() -> Ts {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Ts { secs: d.as_secs() as i64, nanos: d.subsec_nanos() }
    }

    /// `2026-11-23T21:40:05.123Z` (milliseconds shown when present).
    pub fn to_rfc3339(&self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let ms = self.nanos / 1_000_000;
        let frac = if self.nanos == 0 { String::new() } else { format!(".{ms:03}") };
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian, UTC).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

/// Every Firestore value type, kept as its type (never flattened to a string).
#[derive(Debug, Clone, PartialEq)]
pub enum FsValue {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Timestamp(Ts),
    String(String),
    Bytes(Vec<u8>),
    /// A document path relative to the database root: `users/u-alice`.
    Reference(String),
    GeoPoint {
        lat: f64,
        lng: f64,
    },
    Array(Vec<FsValue>),
    /// Fields in key order.
    Map(Vec<(String, FsValue)>),
}

/// A document's fields as JSON (timestamps as RFC 3339, bytes as hex, references as paths).
pub fn fields_json(fields: &[(String, FsValue)]) -> serde_json::Value {
    serde_json::Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

impl FsValue {
    /// The value as JSON, as [`fields_json`] writes each field.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            FsValue::Null => J::Null,
            FsValue::Bool(b) => J::Bool(*b),
            FsValue::Int(i) => J::from(*i),
            FsValue::Double(d) => serde_json::Number::from_f64(*d).map(J::Number).unwrap_or(J::String(d.to_string())),
            FsValue::Timestamp(t) => J::String(t.to_rfc3339_micros()),
            FsValue::String(s) => J::String(s.clone()),
            FsValue::Bytes(b) => J::String(b.iter().map(|x| format!("{x:02x}")).collect()),
            FsValue::Reference(p) => J::String(p.clone()),
            FsValue::GeoPoint { lat, lng } => serde_json::json!({"lat": lat, "lng": lng}),
            FsValue::Array(a) => J::Array(a.iter().map(FsValue::to_json).collect()),
            FsValue::Map(m) => fields_json(m),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            FsValue::Null => "null",
            FsValue::Bool(_) => "bool",
            FsValue::Int(_) => "int64",
            FsValue::Double(_) => "double",
            FsValue::Timestamp(_) => "timestamp",
            FsValue::String(_) => "string",
            FsValue::Bytes(_) => "bytes",
            FsValue::Reference(_) => "reference",
            FsValue::GeoPoint { .. } => "geopoint",
            FsValue::Array(_) => "array",
            FsValue::Map(_) => "map",
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FsValue::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FsValue::Int(i) => Some(*i),
            FsValue::Double(d) if d.is_finite() => Some(*d as i64),
            _ => None,
        }
    }
    /// A timestamp, or an ISO-8601 string read as UTC (older writers).
    /// The instant this value stands for: a timestamp, an ISO-8601 string, or a number of
    /// Unix seconds (int or float; numbers too large to be seconds before the year 5000 are
    /// read as milliseconds, then microseconds, as JavaScript and some Python writers store them).
    pub fn as_ts(&self) -> Option<Ts> {
        match self {
            FsValue::Timestamp(t) => Some(*t),
            FsValue::String(s) => Ts::parse(s),
            FsValue::Int(i) => Ts::from_unix_number(*i as f64),
            FsValue::Double(d) => Ts::from_unix_number(*d),
            _ => None,
        }
    }
}

/// A document: its path relative to the database root and its typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub path: String,
    pub fields: Vec<(String, FsValue)>,
    pub update_time: Option<Ts>,
}

impl Document {
    pub fn id(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
    pub fn get(&self, field: &str) -> Option<&FsValue> {
        self.fields.iter().find(|(k, _)| k == field).map(|(_, v)| v)
    }
    pub fn str_field(&self, field: &str) -> Option<String> {
        self.get(field).and_then(|v| v.as_str()).map(str::to_string)
    }
}

/// A conversation as the list shows it; `doc` keeps every field, known or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub title: Option<String>,
    pub user_id: Option<String>,
    pub agent_id: Option<String>,
    pub created_at: Option<Ts>,
    pub updated_at: Option<Ts>,
    pub message_count: Option<i64>,
    pub doc: Document,
}

impl Conversation {
    /// Messages exist under it but its own document does not (Firestore's "missing" parent).
    pub fn has_no_document(&self) -> bool {
        self.doc.fields.is_empty() && self.doc.update_time.is_none()
    }

    pub fn from_doc(doc: Document) -> Conversation {
        Conversation {
            id: doc.id().to_string(),
            title: doc.str_field("title"),
            user_id: doc.str_field("user_id"),
            agent_id: doc.str_field("agent_id"),
            created_at: doc.get("created_at").and_then(FsValue::as_ts),
            updated_at: doc.get("updated_at").and_then(FsValue::as_ts),
            message_count: doc.get("message_count").and_then(FsValue::as_i64),
            doc,
        }
    }
}

/// How a message's `timestamp` was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsForm {
    Timestamp,
    IsoString,
    /// A number of Unix seconds (or milliseconds), int or float.
    UnixNumber,
    /// No usable timestamp: the field is missing, null or of another type. Such messages come
    /// after the timed ones, in id order, on every store.
    Missing,
}

impl TsForm {
    /// The form of a `timestamp` field's value. Each form is one run of an ordered query:
    /// Firestore orders (and range-filters) values of one type together.
    pub fn of(v: Option<&FsValue>) -> TsForm {
        match v {
            Some(FsValue::Timestamp(_)) => TsForm::Timestamp,
            Some(FsValue::String(_)) => TsForm::IsoString,
            Some(FsValue::Int(_)) => TsForm::UnixNumber,
            Some(FsValue::Double(d)) if !d.is_nan() => TsForm::UnixNumber,
            _ => TsForm::Missing,
        }
    }
}

/// A tool call an assistant message makes, as the framework stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    /// The arguments (a JSON string stored by OpenAI's form is read as the JSON it holds).
    pub args: serde_json::Value,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub role: String,
    pub content: String,
    pub timestamp: Option<Ts>,
    pub ts_form: TsForm,
    pub user_id: Option<String>,
    /// The tool calls it makes (also shown in `content`, a `→ tool call` line each).
    pub tool_calls: Vec<ToolCall>,
    /// A tool result: the call it answers.
    pub tool_call_id: Option<String>,
    pub doc: Document,
}

impl Message {
    /// The message as data — what `show --json` prints and the thread's `:export` writes:
    /// content that is not text (a map, an array) given as its value, tool calls as fields.
    pub fn to_json(&self, conversation: &str) -> serde_json::Value {
        let content = match self.doc.get("content") {
            Some(v) if !matches!(v, FsValue::String(_)) => v.to_json(),
            _ => serde_json::Value::String(self.content.clone()),
        };
        let mut j = serde_json::json!({
            "conversation_id": conversation, "message_id": self.id, "role": self.role, "content": content,
            "timestamp": self.timestamp.map(|t| t.to_rfc3339()), "user_id": self.user_id,
        });
        if !self.tool_calls.is_empty() {
            j["tool_calls"] = self
                .tool_calls
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "args": c.args, "id": c.id}))
                .collect();
        }
        if let Some(id) = &self.tool_call_id {
            j["tool_call_id"] = id.clone().into();
        }
        j
    }

    pub fn from_doc(doc: Document) -> Message {
        Message::from_doc_at(doc, "timestamp")
    }

    /// A message document whose time is in `ts_field` (a layout that renames `timestamp`).
    pub fn from_doc_at(doc: Document, ts_field: &str) -> Message {
        let raw = doc.get(ts_field);
        let ts_form = TsForm::of(raw);
        let timestamp = match ts_form {
            TsForm::Missing => None,
            _ => raw.and_then(FsValue::as_ts),
        };
        Message {
            id: doc.id().to_string(),
            role: doc.str_field("role").unwrap_or_else(|| "?".into()),
            content: match doc.get("content") {
                Some(FsValue::String(s)) => s.clone(),
                Some(other) => format!("<{}>", other.type_name()),
                None => String::new(),
            },
            timestamp,
            ts_form,
            user_id: doc.str_field("user_id"),
            tool_calls: Vec::new(),
            tool_call_id: None,
            doc,
        }
    }
    /// Chronological sort key: instant, then id; messages without a usable instant last.
    pub fn sort_key(&self) -> (bool, Option<Ts>, &str) {
        (self.timestamp.is_none(), self.timestamp, &self.id)
    }
}

/// Where the next page of a query starts; opaque to the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    /// After the document with these order-field values and this path.
    After { values: Vec<FsValue>, path: String },
    /// Messages: one position per ordered run ([`TIMED_RUNS`]: typed, Unix numbers by unit, ISO
    /// strings) merged by instant, then the messages with no usable timestamp in id order.
    Merged { runs: Box<[RunPos; 7]>, untimed: RunPos },
    /// Documents lacking the order field (which an ordered query leaves out), by name, after
    /// this path.
    Absent { after: Option<String> },
    /// Conversations whose messages exist without a document (listed after every document,
    /// by id), from this browse position.
    Phantoms(Option<Box<Cursor>>),
}

/// Unix numbers by size, as `[lo, hi)` value ranges and what one unit of each is in seconds:
/// seconds up to 9999-12-31 (2.5e11), then milliseconds (from 1978 on), then microseconds —
/// a year-9999 sentinel in seconds is not 1978 in milliseconds. Within one band the value
/// orders as the instant does, so each band is one ordered run of a thread.
pub const UNIX_BANDS: [(f64, f64, f64); 5] = {
    const S: f64 = 253_402_300_800.0;
    [
        (-S, S, 1.0),
        (S, S * 1e3, 1e3),
        (S * 1e3, f64::INFINITY, 1e6),
        (-S * 1e3, -S, 1e3),
        (f64::NEG_INFINITY, -S * 1e3, 1e6),
    ]
};

/// One ordered run of a message thread: the messages whose `timestamp` is of one type (and,
/// for numbers, one unit), which a store can order by value with a range filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimedRun {
    Timestamp,
    /// Unix numbers in `[lo, hi)` (one of [`UNIX_BANDS`]).
    Number {
        lo: f64,
        hi: f64,
    },
    /// ISO-8601 strings: ordered as text by the store, so re-ordered by instant as they are
    /// read (see the Firestore reader's look-ahead).
    IsoString,
}

/// The runs a message thread is read in, merged by instant.
pub const TIMED_RUNS: [TimedRun; 7] = [
    TimedRun::Timestamp,
    TimedRun::Number { lo: UNIX_BANDS[0].0, hi: UNIX_BANDS[0].1 },
    TimedRun::Number { lo: UNIX_BANDS[1].0, hi: UNIX_BANDS[1].1 },
    TimedRun::Number { lo: UNIX_BANDS[2].0, hi: UNIX_BANDS[2].1 },
    TimedRun::Number { lo: UNIX_BANDS[3].0, hi: UNIX_BANDS[3].1 },
    TimedRun::Number { lo: UNIX_BANDS[4].0, hi: UNIX_BANDS[4].1 },
    TimedRun::IsoString,
];

/// Where one run of a merged message read stopped: after this (timestamp value, document path),
/// and whether it has ended. `ahead` holds what a run has read but not yet given out, in
/// instant order (the ISO-string run reads ahead of what it can place).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunPos {
    pub after: Option<(FsValue, String)>,
    pub done: bool,
    pub ahead: Vec<Message>,
    /// The store has nothing after `after` (what is `ahead` may still be to give out).
    pub ended: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page of `items`, with a cursor after the last one when the page came back full: a short
    /// page is the last.
    pub fn of(items: Vec<T>, limit: u32, cursor: impl FnOnce(&T) -> Cursor) -> Page<T> {
        let next = if limit > 0 && items.len() as u32 >= limit { items.last().map(cursor) } else { None };
        Page { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// Which conversations the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConvFilter {
    #[default]
    All,
    User(String),
    Agent(String),
    TitlePrefix(String),
    /// Case-insensitive substring of the title: no store can query it, so the conversation
    /// readers filter newest-first pages (`layout::TitleSearch`).
    TitleContains(String),
    IdPrefix(String),
}

impl ConvFilter {
    /// What the Conversations tab's `/` and `conversations --filter` accept: `user:ID`,
    /// `agent:ID`, `id:PREFIX`, else words of the title (any case).
    pub fn parse(s: &str) -> ConvFilter {
        let s = s.trim();
        if s.is_empty() {
            ConvFilter::All
        } else if let Some(u) = s.strip_prefix("user:") {
            ConvFilter::User(u.trim().to_string())
        } else if let Some(a) = s.strip_prefix("agent:") {
            ConvFilter::Agent(a.trim().to_string())
        } else if let Some(i) = s.strip_prefix("id:") {
            ConvFilter::IdPrefix(i.trim().to_string())
        } else {
            ConvFilter::TitleContains(s.to_string())
        }
    }

    /// The filter as typed (what [`ConvFilter::parse`] reads back).
    pub fn text(&self) -> String {
        match self {
            ConvFilter::All => String::new(),
            ConvFilter::User(u) => format!("user:{u}"),
            ConvFilter::Agent(a) => format!("agent:{a}"),
            ConvFilter::IdPrefix(p) => format!("id:{p}"),
            ConvFilter::TitlePrefix(p) | ConvFilter::TitleContains(p) => p.clone(),
        }
    }
}

/// The memory layer's hit/miss counters at one moment (`memory::Stats`), summed over the
/// layers of this process; the health poller adds them to its Redis sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct StatsSnapshot {
    pub lru_hits: u64,
    pub lru_misses: u64,
    pub redis_hits: u64,
    pub redis_misses: u64,
    pub redis_errors: u64,
    pub long_term_reads: u64,
    pub vsearch_hits: u64,
    pub vsearch_misses: u64,
    pub saved: u64,
    pub queued: u64,
}

/// One write of a seed (the demo's Redis data), in backend-neutral terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Seed {
    String(Key, Vec<u8>),
    List(Key, Vec<Vec<u8>>),
    Hash(Key, Vec<(Vec<u8>, Vec<u8>)>),
    Set(Key, Vec<Vec<u8>>),
    ZSet(Key, Vec<(f64, Vec<u8>)>),
    Stream(Key, Vec<Vec<(Vec<u8>, Vec<u8>)>>),
    HyperLogLog(Key, Vec<Vec<u8>>),
    Expire(Key, u64),
}

/// A collection path whose document segments may be `*` (`users/*/chats`: every user's
/// `chats`): the collections it names are read as one, a collection-group read. A conversation
/// under it is named by its `*` segments and its document id joined with `/` (`u-42/s1`):
/// Firestore ids hold no `/`, so the name is unambiguous and turns back into the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionPattern {
    segs: Vec<String>,
}

impl CollectionPattern {
    /// The pattern of a collection path holding a `*`; `Ok(None)` for a plain path; an error
    /// for a `*` where a collection id must be (the pattern reads collections of one name).
    pub fn parse(path: &str) -> Result<Option<CollectionPattern>, String> {
        let segs: Vec<String> = path.trim_matches('/').split('/').map(str::to_string).collect();
        if !segs.iter().any(|s| s.contains('*')) {
            return Ok(None);
        }
        if segs.len().is_multiple_of(2) {
            return Err(format!("`{path}`: a collection path ends with a collection's name (`users/*/chats`)"));
        }
        for (i, s) in segs.iter().enumerate() {
            if s.contains('*') && (s != "*" || i % 2 == 0) {
                return Err(format!(
                    "`{path}`: `*` stands for a whole document id (`users/*/chats`), never a collection's name or part of one"
                ));
            }
        }
        Ok(Some(CollectionPattern { segs }))
    }

    /// The collection id every matched collection has (the last segment).
    pub fn collection_id(&self) -> &str {
        self.segs.last().map(String::as_str).unwrap_or_default()
    }

    /// The deepest document path before the first `*` ("" for the root): where a
    /// collection-group read starts.
    pub fn parent_document(&self) -> String {
        let first = self.segs.iter().position(|s| s == "*").unwrap_or(0);
        self.segs[..first - first % 2].join("/")
    }

    /// The segments as SQLite GLOB patterns: `*` as is, literal ones with `*`, `?` and `[`
    /// bracketed.
    pub fn glob_segments(&self) -> Vec<String> {
        self.segs
            .iter()
            .map(|s| match s.as_str() {
                "*" => "*".to_string(),
                lit => lit
                    .chars()
                    .map(|c| if matches!(c, '*' | '?' | '[') { format!("[{c}]") } else { c.to_string() })
                    .collect(),
            })
            .collect()
    }

    /// Whether a document at `doc_path` is in one of the collections.
    pub fn holds(&self, doc_path: &str) -> bool {
        let parts: Vec<&str> = doc_path.split('/').collect();
        parts.len() == self.segs.len() + 1 && self.segs.iter().zip(&parts).all(|(s, p)| s == "*" || s == p)
    }

    /// The conversation name of a document in one of the collections.
    pub fn id_of(&self, doc_path: &str) -> Option<String> {
        if !self.holds(doc_path) {
            return None;
        }
        let parts: Vec<&str> = doc_path.split('/').collect();
        let mut id: Vec<&str> = self.segs.iter().zip(&parts).filter(|(s, _)| *s == "*").map(|(_, p)| *p).collect();
        id.push(parts[parts.len() - 1]);
        Some(id.join("/"))
    }

    /// The document path of a conversation name ([`id_of`](Self::id_of) reversed).
    pub fn path_of(&self, id: &str) -> Option<String> {
        let mut parts = id.split('/');
        let mut out: Vec<&str> = Vec::with_capacity(self.segs.len() + 1);
        for s in &self.segs {
            out.push(if s == "*" { parts.next().filter(|p| !p.is_empty())? } else { s });
        }
        out.push(parts.next().filter(|p| !p.is_empty())?);
        parts.next().is_none().then(|| out.join("/"))
    }
}

#[cfg(test)]
mod ts_tests {
    use super::*;

    #[test]
    fn collection_patterns_name_and_place_documents() {
        assert_eq!(CollectionPattern::parse("ChatHistory"), Ok(None));
        assert_eq!(CollectionPattern::parse("agent_memory/prod/chats"), Ok(None));
        assert!(CollectionPattern::parse("users/*").unwrap_err().contains("ends with a collection's name"));
        assert!(CollectionPattern::parse("users/*/ch*").unwrap_err().contains("never a collection"));
        assert!(CollectionPattern::parse("*/u/chats").is_err());
        assert!(CollectionPattern::parse("users/u*/chats").is_err());
        let p = CollectionPattern::parse("users/*/chats").unwrap().unwrap();
        assert_eq!((p.collection_id(), p.parent_document().as_str()), ("chats", ""));
        assert!(p.holds("users/u-1/chats/s1"));
        assert!(!p.holds("users/u-1/other/s1") && !p.holds("teams/u-1/chats/s1") && !p.holds("users/u-1/chats"));
        assert!(!p.holds("users/u-1/chats/s1/messages/m1"));
        assert_eq!(p.id_of("users/bob@example.com/chats/s1").as_deref(), Some("bob@example.com/s1"));
        assert_eq!(p.path_of("bob@example.com/s1").as_deref(), Some("users/bob@example.com/chats/s1"));
        assert_eq!(p.path_of("s1"), None);
        assert_eq!(p.path_of("a/b/c"), None);
        let deep = CollectionPattern::parse("orgs/acme/users/*/chats").unwrap().unwrap();
        assert_eq!(deep.parent_document(), "orgs/acme");
        assert_eq!(deep.id_of("orgs/acme/users/u1/chats/s9").as_deref(), Some("u1/s9"));
        let two = CollectionPattern::parse("orgs/*/users/*/chats").unwrap().unwrap();
        assert_eq!(two.parent_document(), "");
        assert_eq!(two.path_of("acme/u1/s9").as_deref(), Some("orgs/acme/users/u1/chats/s9"));
    }

    #[test]
    fn iso_strings_without_zone_are_utc_and_offsets_apply() {
        let a = Ts::parse("2026-11-23T21:40:05.123456").unwrap();
        let b = Ts::parse("2026-11-23T21:40:05.123456Z").unwrap();
        let c = Ts::parse("2026-11-23T22:40:05.123456+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.nanos, 123_456_000);
        assert_eq!(a.to_rfc3339(), "2026-11-23T21:40:05.123Z");
        assert_eq!(Ts::parse("1970-01-01").unwrap(), Ts { secs: 0, nanos: 0 });
        assert_eq!(Ts::parse("2024-02-29 12:00:00").unwrap().to_rfc3339(), "2024-02-29T12:00:00Z");
        assert!(Ts::parse("yesterday").is_none());
        assert!(Ts::parse("2024-13-01T00:00:00").is_none());
        assert_eq!(Ts::from_micros(a.micros()), Ts { secs: a.secs, nanos: 123_456_000 });
        assert_eq!(Ts::from_micros(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
    }

    /// The bounds the Firestore thread reader places unread ISO strings by: a date of exactly
    /// `YYYY-MM-DD` (so text order is date order) and an offset under a day.
    #[test]
    fn iso_dates_are_canonical_and_offsets_under_a_day() {
        assert_eq!(Ts::parse("2023-11-13T23:59:00-23:59").unwrap().to_rfc3339(), "2023-11-14T23:58:00Z");
        assert_eq!(Ts::parse("  2023-11-14T00:00:00Z").unwrap().to_rfc3339(), "2023-11-14T00:00:00Z");
        for bad in ["2023-11-14T00:00:00+24:00", "2023-11-14T00:00:00-05:60", "2023-1-14", "2023-11-4T00:00:00Z"] {
            assert_eq!(Ts::parse(bad), None, "{bad}");
        }
        for bad in ["999-11-14", "+2023-11-14", "-2023-11-14", "\u{3000}2023-11-14"] {
            assert_eq!(Ts::parse(bad), None, "{bad}");
        }
    }

    /// Unix numbers by band: seconds to year 9999, then milliseconds, then microseconds, and
    /// the same below zero; each band orders as its instants do.
    #[test]
    fn unix_numbers_read_by_band() {
        let at = |n: f64| Ts::from_unix_number(n).map(|t| t.to_rfc3339());
        assert_eq!(at(1_700_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(at(253_402_300_000.0).unwrap(), "9999-12-31T23:46:40Z");
        assert_eq!(at(1_700_000_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(at(1_700_000_000_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(at(-86_400.0).unwrap(), "1969-12-31T00:00:00Z");
        assert_eq!(at(-300_000_000_000.0).unwrap(), "1960-06-29T18:40:00Z");
        assert_eq!(at(-400_000_000_000_000.0).unwrap(), "1957-04-29T08:53:20Z");
        assert_eq!(at(f64::NAN), None);
        assert_eq!(at(f64::INFINITY), None);
        // Before year 1 in seconds: no instant (it is not read as milliseconds).
        assert_eq!(at(-100_000_000_000.0), None);
        assert_eq!(at(f64::NEG_INFINITY), None);
        for n in [0.0, 1.0, -1.0, 1e12, -1e12, 1e16, -1e16, f64::MAX, f64::MIN] {
            let bands = UNIX_BANDS.iter().filter(|(lo, hi, _)| (*lo..*hi).contains(&n)).count();
            assert_eq!(bands, 1, "{n} is in one band");
        }
    }
}

// ---------- vector tier (Pinecone / embedded index) ----------

/// Pinecone metadata: strings, numbers, booleans and lists of strings.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    DotProduct,
    Euclidean,
}

impl Metric {
    pub fn parse(s: &str) -> Option<Metric> {
        match s {
            "cosine" => Some(Metric::Cosine),
            "dotproduct" | "dot" => Some(Metric::DotProduct),
            "euclidean" => Some(Metric::Euclidean),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::DotProduct => "dotproduct",
            Metric::Euclidean => "euclidean",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorRecord {
    pub id: String,
    pub values: Vec<f32>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatch {
    pub id: String,
    pub score: f32,
    pub values: Option<Vec<f32>>,
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    /// Query by vector, or by the id of a stored vector.
    pub vector: Option<Vec<f32>>,
    pub id: Option<String>,
    pub top_k: u32,
    pub namespace: String,
    pub filter: Option<serde_json::Value>,
    pub include_values: bool,
    pub include_metadata: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub matches: Vec<VectorMatch>,
    pub namespace: String,
    /// Read units the query cost (Pinecone's `usage.readUnits`).
    pub read_units: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub dimension: Option<u32>,
    pub metric: Option<Metric>,
    pub total: u64,
    pub fullness: Option<f64>,
    /// (namespace, vector count), by name.
    pub namespaces: Vec<(String, u64)>,
}

/// One page of `list` (vector ids by prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct IdPage {
    pub ids: Vec<String>,
    pub next: Option<String>,
}

/// A change to one long-term document: `set` replaces just these fields (the others are kept;
/// the document is created when missing), then each `increment` is added to the stored number
/// by the store itself — atomically, so that concurrent writers add up (a missing field counts
/// from 0). `at_least` / `at_most` set a time field only when it would move later / earlier
/// than what is stored (or the field holds no instant), also atomically: writers racing with
/// out-of-order messages never move `updated_at` back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    pub path: String,
    pub set: Vec<(String, FsValue)>,
    pub increment: Vec<(String, i64)>,
    pub at_least: Vec<(String, Ts)>,
    pub at_most: Vec<(String, Ts)>,
}

impl Merge {
    /// The `at_least` / `at_most` fields that would change a document holding `fields`.
    pub fn bounds_to_set(&self, fields: &[(String, FsValue)]) -> Vec<(String, FsValue)> {
        let stored = |k: &str| fields.iter().find(|(f, _)| f == k).and_then(|(_, v)| v.as_ts());
        let later = self.at_least.iter().filter(|(k, t)| stored(k).is_none_or(|s| s < *t));
        let earlier = self.at_most.iter().filter(|(k, t)| stored(k).is_none_or(|s| s > *t));
        later.chain(earlier).map(|(k, t)| (k.clone(), FsValue::Timestamp(*t))).collect()
    }
}

// ---------- the memory layer's short-term operations ----------

/// One operation of the memory layer on the short-term tier; a batch of them runs as one
/// pipeline and yields one [`CacheReply`] each.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheOp {
    /// Merge JSON messages into a recent-messages list, atomically: one entry per
    /// `message_id` (the newer write wins), ordered by `timestamp` then id, trimmed to the
    /// `keep` newest. Replies with the list's length.
    MergeRecent {
        key: Key,
        items: Vec<Vec<u8>>,
        keep: u32,
    },
    /// Replace a list with exactly these items (or delete it when empty). Replies `Done`.
    ReplaceList {
        key: Key,
        items: Vec<Vec<u8>>,
    },
    /// Set hash fields and (re)arm the key's TTL. Replies `Done`.
    HSet {
        key: Key,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        ttl_s: u64,
    },
    /// SET with a TTL. Replies `Done`.
    SetEx {
        key: Key,
        value: Vec<u8>,
        ttl_s: u64,
    },
    /// Increment a counter whose TTL starts with its first increment. Replies `Int`.
    Incr {
        key: Key,
        ttl_s: u64,
    },
    Del(Key),
    /// Replies `Value`.
    Get(Key),
    /// Replies `Items`.
    LRange {
        key: Key,
        start: i64,
        stop: i64,
    },
    /// Replies `Pairs`.
    HGetAll(Key),
    /// Milliseconds left; -1 without TTL, -2 when the key does not exist. Replies `Int`.
    PTtl(Key),
    /// A list's length (0 when it does not exist). Replies `Int`.
    LLen(Key),
    /// A hash's number of fields (0 when it does not exist). Replies `Int`.
    HLen(Key),
    /// Some fields of a hash. Replies `Pairs` of the fields that exist.
    HMGet {
        key: Key,
        fields: Vec<String>,
    },
    /// RedisJSON `JSON.GET key path` (the JSON text of the matches). Replies `Value`.
    JsonGet {
        key: Key,
        path: String,
    },
}

impl CacheOp {
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            CacheOp::Get(_)
                | CacheOp::LRange { .. }
                | CacheOp::HGetAll(_)
                | CacheOp::PTtl(_)
                | CacheOp::LLen(_)
                | CacheOp::HLen(_)
                | CacheOp::HMGet { .. }
                | CacheOp::JsonGet { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CacheReply {
    Done,
    Int(i64),
    Value(Option<Vec<u8>>),
    Items(Vec<Vec<u8>>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
}

// ---------- health ----------

/// One slow log entry (`SLOWLOG GET`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds when it ran.
    pub at: i64,
    pub micros: u64,
    /// The command and its arguments, each made safe and cut at 80 characters.
    pub command: String,
    pub client: String,
    pub client_name: String,
}

/// One connection (`CLIENT LIST`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub name: String,
    pub age_s: u64,
    pub idle_s: u64,
    pub db: u32,
    /// The last command.
    pub cmd: String,
    /// Output buffer memory.
    pub omem: u64,
    pub tot_mem: Option<u64>,
    pub flags: String,
    /// The connection memscope asked on (the one whose last command is `client|list`).
    pub this: bool,
}

/// One command's counters (`INFO commandstats`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CommandStat {
    pub name: String,
    pub calls: u64,
    pub usec: u64,
    pub usec_per_call: f64,
    pub rejected: u64,
    pub failed: u64,
}

/// One latency event (`LATENCY LATEST`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyEvent {
    pub event: String,
    pub at: i64,
    pub latest_ms: u64,
    pub max_ms: u64,
}

/// What one Redis server says about who is doing what: the slow log, the clients, the
/// command counters, the latency events. A part the server refused (an ACL, a disabled
/// command) is named in `errors`, never silently empty.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ServerInsight {
    /// The node, on a cluster.
    pub node: Option<String>,
    pub slowlog_len: u64,
    pub slowlog: Vec<SlowEntry>,
    pub clients: Vec<ClientInfo>,
    pub commands: Vec<CommandStat>,
    pub latency: Vec<LatencyEvent>,
    pub errors: Vec<String>,
}

/// What one Redis health probe read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RedisHealth {
    /// The counters of the memory layers running in this process (the demo's agents), if any.
    pub layer: Option<StatsSnapshot>,
    pub ping_ms: f64,
    pub used_memory: u64,
    /// 0 when no maxmemory is set.
    pub maxmemory: u64,
    /// Cumulative counters from INFO stats.
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub ops_per_sec: f64,
    pub connected_clients: u64,
    pub blocked_clients: u64,
    pub rejected_connections: u64,
    /// Keys per database (INFO keyspace).
    pub keyspace: Vec<DbInfo>,
    pub slowlog_len: u64,
    /// Newest slow commands: (duration µs, command line).
    pub slowlog: Vec<(u64, String)>,
    /// memscope's own hits and misses at the time of the probe (cumulative).
    pub own_hits: u64,
    pub own_misses: u64,
    /// A Redis Cluster: its state and every node (the figures above are the masters' sums).
    pub cluster: Option<ClusterHealth>,
    /// The server's `run_id` (new at every start) and uptime (INFO server): a restart is seen.
    pub run_id: String,
    pub uptime_s: u64,
    /// Behind Sentinels: the master's address the probe reached (a new one is a failover,
    /// not a restart).
    pub master_addr: Option<String>,
}

/// A Redis Cluster as the Health probe saw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterHealth {
    /// `cluster_state` of CLUSTER INFO (`ok` or `fail`).
    pub state: String,
    /// Slots no reachable master serves.
    pub uncovered_slots: u32,
    pub nodes: Vec<NodeHealth>,
}

/// One node of a cluster: its role and figures, or why it did not answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeHealth {
    pub addr: String,
    /// `master` or `replica`.
    pub role: String,
    pub ping_ms: Option<f64>,
    pub used_memory: u64,
    pub ops_per_sec: f64,
    pub keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub slowlog_len: u64,
    /// Unreachable, or marked failing by the cluster: the node is DOWN.
    pub error: Option<String>,
}
