//! SQLite implementation of [`LongTermStore`]: the same logical layout as Firestore (document
//! paths, collections, typed values) in one file, for the demo and for agents that keep memory
//! locally. Values are stored as typed JSON so none loses its type; the columns the explorer
//! sorts and filters on are denormalised and indexed. The schema is versioned and created on
//! first use.
//!
//! Why one file of ~800 lines: the [`LongTermStore`] implementation is one trait block (~430
//! lines); the rest is the schema, the read-only opening and the typed-JSON encoding it uses.

use super::LongTermStore;
use crate::domain::{ConvFilter, Conversation, Cursor, Document, FsValue, Message, Page, Ts};
use crate::error::StoreError;
use rusqlite::{OptionalExtension, params};
use serde_json::{Value as J, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SCHEMA_VERSION: i64 = 1;
const NO_TS: i64 = i64::MIN;

pub struct SqliteStore {
    conn: Arc<Mutex<rusqlite::Connection>>,
    path: String,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("sqlite: {e}"))
}

// ---------- typed JSON ----------

pub fn encode(v: &FsValue) -> J {
    match v {
        FsValue::Null => json!({ "null": null }),
        FsValue::Bool(b) => json!({ "bool": b }),
        FsValue::Int(i) => json!({ "int": i.to_string() }),
        FsValue::Double(d) if d.is_finite() => json!({ "double": d }),
        FsValue::Double(d) => json!({ "double": d.to_string() }),
        FsValue::Timestamp(t) => json!({ "ts": [t.secs, t.nanos] }),
        FsValue::String(s) => json!({ "str": s }),
        FsValue::Bytes(b) => json!({ "bytes": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
        FsValue::Reference(r) => json!({ "ref": r }),
        FsValue::GeoPoint { lat, lng } => json!({ "geo": [lat, lng] }),
        FsValue::Array(a) => json!({ "arr": a.iter().map(encode).collect::<Vec<_>>() }),
        FsValue::Map(m) => {
            json!({ "map": m.iter().map(|(k, v)| (k.clone(), encode(v))).collect::<serde_json::Map<_, _>>() })
        }
    }
}

pub fn decode(j: &J) -> FsValue {
    let Some((k, v)) = j.as_object().and_then(|o| o.iter().next()) else { return FsValue::Null };
    match k.as_str() {
        "bool" => FsValue::Bool(v.as_bool().unwrap_or(false)),
        "int" => FsValue::Int(v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0)),
        "double" => FsValue::Double(match v {
            J::String(s) => s.parse().unwrap_or(f64::NAN),
            other => other.as_f64().unwrap_or(f64::NAN),
        }),
        "ts" => FsValue::Timestamp(Ts {
            secs: v.get(0).and_then(J::as_i64).unwrap_or(0),
            nanos: v.get(1).and_then(J::as_u64).unwrap_or(0) as u32,
        }),
        "str" => FsValue::String(v.as_str().unwrap_or_default().to_string()),
        "bytes" => {
            let h = v.as_str().unwrap_or_default();
            FsValue::Bytes((0..h.len() / 2).filter_map(|i| u8::from_str_radix(&h[i * 2..i * 2 + 2], 16).ok()).collect())
        }
        "ref" => FsValue::Reference(v.as_str().unwrap_or_default().to_string()),
        "geo" => FsValue::GeoPoint {
            lat: v.get(0).and_then(J::as_f64).unwrap_or(0.0),
            lng: v.get(1).and_then(J::as_f64).unwrap_or(0.0),
        },
        "arr" => FsValue::Array(v.as_array().map(|a| a.iter().map(decode).collect()).unwrap_or_default()),
        "map" => FsValue::Map(
            v.as_object().map(|o| o.iter().map(|(k, x)| (k.clone(), decode(x))).collect()).unwrap_or_default(),
        ),
        _ => FsValue::Null,
    }
}

fn encode_fields(fields: &[(String, FsValue)]) -> String {
    J::Object(fields.iter().map(|(k, v)| (k.clone(), encode(v))).collect()).to_string()
}

fn decode_fields(s: &str) -> Vec<(String, FsValue)> {
    let mut v: Vec<(String, FsValue)> = serde_json::from_str::<serde_json::Map<String, J>>(s)
        .map(|o| o.iter().map(|(k, x)| (k.clone(), decode(x))).collect())
        .unwrap_or_default();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The document path a page starts after (`None`: the first page).
fn path_after(after: Option<&Cursor>) -> Option<String> {
    match after {
        Some(Cursor::After { path, .. }) => Some(path.clone()),
        _ => None,
    }
}

/// `~/` expanded.
pub fn expand_home(path: &str) -> String {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var("HOME").map(|h| format!("{h}/{rest}")).unwrap_or_else(|_| path.to_string()),
        None => path.to_string(),
    }
}

/// A connection that cannot write: SQLite's read-only open (no file is created) plus
/// `query_only`, so not even a pragma changes the file.
///
/// A WAL-mode database gets `-wal`/`-shm` files beside it on any open, read-only included.
/// When it has none now (no writer has it open), it is opened `immutable`: nothing is created
/// beside it. The price: a writer that starts later is not seen until memscope opens the file
/// again. When a writer has it open, its sidecars exist already and the open is the usual
/// read-only one, which sees the writer's commits.
pub(crate) fn open_read_only(path: &str) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    if !std::path::Path::new(path).exists() {
        return Err(StoreError::NotConfigured(format!(
            "{path} does not exist (read-only mode creates no file: pass --write, or point the profile at an existing store)"
        )));
    }
    let writer_active = ["-wal", "-shm"].iter().any(|s| std::path::Path::new(&format!("{path}{s}")).exists());
    let target = if is_wal(path) && !writer_active {
        format!("file:{}?immutable=1", uri_path(path))
    } else {
        format!("file:{}", uri_path(path))
    };
    let conn = rusqlite::Connection::open_with_flags(
        target,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| StoreError::Other(format!("{path}: {e}")))?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    conn.execute_batch("PRAGMA query_only = ON;").map_err(err)?;
    Ok(conn)
}

/// Whether the file's header says WAL mode (bytes 18 and 19, the read and write versions, are 2).
fn is_wal(path: &str) -> bool {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok()
        && head.starts_with(b"SQLite format 3\0")
        && head[18] == 2
        && head[19] == 2
}

/// A path as the path of a `file:` URI: `%`, `?` and `#` escaped.
fn uri_path(path: &str) -> String {
    path.replace('%', "%25").replace('?', "%3f").replace('#', "%23")
}

/// mem0's history database (`history.db`, mem0's own SQLite file, opened read-only): when
/// each memory was added — ISO 8601 to the microsecond, where mem0's vector stores keep whole
/// seconds — by memory id.
pub fn mem0_added_times(path: &str) -> Result<std::collections::HashMap<String, Ts>, StoreError> {
    let path = expand_home(path);
    let conn = open_read_only(&path).map_err(|e| StoreError::Other(format!("mem0 history: {e}")))?;
    let mut st = conn
        .prepare("SELECT memory_id, MIN(created_at) FROM history WHERE event = 'ADD' GROUP BY memory_id")
        .map_err(|e| StoreError::Other(format!("{path}: not a mem0 history database ({e})")))?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StoreError::Other(format!("{path}: {e}")))?;
    Ok(rows.into_iter().filter_map(|(id, at)| Some((id?, Ts::parse(&at?)?))).collect())
}

/// The file is empty or holds memscope's tables (`want`: at least one of them); another
/// program's database is named as such, with its tables, and left alone.
pub(crate) fn check_ours(conn: &rusqlite::Connection, path: &str, want: &[&str]) -> Result<(), StoreError> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| StoreError::Other(format!("{path} is not a SQLite database memscope can read: {e}")))?;
    if tables.is_empty() || tables.iter().any(|t| want.contains(&t.as_str())) {
        return Ok(());
    }
    let shown: Vec<&str> = tables.iter().take(8).map(String::as_str).collect();
    Err(StoreError::NotConfigured(format!(
        "{path} is not a memscope store (it holds the tables {}{}); memscope leaves it unchanged — point the profile at a memscope store or a new file",
        shown.join(", "),
        if tables.len() > 8 { ", …" } else { "" }
    )))
}

fn row_doc(path: String, fields: String, updated_us: i64) -> Document {
    Document { path, fields: decode_fields(&fields), update_time: Some(Ts::from_micros(updated_us)) }
}

impl SqliteStore {
    /// Open (and create or migrate) the store at `path` for writing; `~/` is expanded. A file
    /// that holds another program's tables is refused, never given memscope's schema.
    pub fn open(path: &str) -> Result<SqliteStore, StoreError> {
        let expanded = expand_home(path);
        if let Some(dir) = std::path::Path::new(&expanded).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        if std::path::Path::new(&expanded).exists() {
            // Look before writing anything: a foreign database is left exactly as it is.
            let ro = open_read_only(&expanded)?;
            check_ours(&ro, &expanded, &["meta", "documents", "vectors"])?;
        }
        let conn = rusqlite::Connection::open(&expanded).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").map_err(err)?;
        Self::migrate(&conn)?;
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), path: expanded })
    }

    /// Open an existing store without writing to it, ever: the file is opened read-only (no
    /// schema, no journal mode change); a missing file or one memscope did not create is an error
    /// that says so.
    pub fn open_read_only(path: &str) -> Result<SqliteStore, StoreError> {
        let expanded = expand_home(path);
        let conn = open_read_only(&expanded)?;
        check_ours(&conn, &expanded, &["documents"])?;
        let v: Option<i64> = conn
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if v.is_some_and(|v| v > SCHEMA_VERSION) {
            return Err(StoreError::Other(format!(
                "{expanded} has schema version {}; this memscope understands up to {SCHEMA_VERSION}: upgrade memscope",
                v.unwrap_or_default()
            )));
        }
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), path: expanded })
    }

    fn migrate(conn: &rusqlite::Connection) -> Result<(), StoreError> {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);")
            .map_err(err)?;
        let v: Option<i64> = conn
            .query_row("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(err)?;
        match v {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::Other(format!(
                "this database has schema version {v}; this memscope understands up to {SCHEMA_VERSION}: upgrade memscope"
            ))),
            Some(_) => Ok(()),
            None => conn
                .execute_batch(&format!(
                    "BEGIN;
                     CREATE TABLE documents(
                        path TEXT PRIMARY KEY,
                        collection TEXT NOT NULL,
                        id TEXT NOT NULL,
                        fields TEXT NOT NULL,
                        updated_us INTEGER NOT NULL,
                        sort_ts INTEGER NOT NULL,
                        title TEXT, user_id TEXT, agent_id TEXT
                     );
                     CREATE INDEX documents_by_time ON documents(collection, sort_ts, path);
                     CREATE INDEX documents_by_user ON documents(collection, user_id, sort_ts, path);
                     CREATE INDEX documents_by_agent ON documents(collection, agent_id, sort_ts, path);
                     CREATE INDEX documents_by_title ON documents(collection, title, path);
                     CREATE INDEX documents_by_path ON documents(collection, path);
                     INSERT INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
                     COMMIT;"
                ))
                .map_err(err),
        }
    }

    /// Run a closure on the connection off the async runtime.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let c = conn.lock().map_err(|_| StoreError::Other("sqlite connection poisoned".into()))?;
            f(&c).map_err(err)
        })
        .await
        .map_err(err)?
    }

    fn filter_sql(filter: &ConvFilter) -> (&'static str, Option<String>, Option<String>) {
        match filter {
            ConvFilter::All => ("", None, None),
            ConvFilter::User(u) => (" AND user_id = ?2", Some(u.clone()), None),
            ConvFilter::Agent(a) => (" AND agent_id = ?2", Some(a.clone()), None),
            ConvFilter::TitlePrefix(p) => {
                (" AND title >= ?2 AND title < ?3", Some(p.clone()), Some(format!("{p}\u{f8ff}")))
            }
            ConvFilter::IdPrefix(p) => (" AND id >= ?2 AND id < ?3", Some(p.clone()), Some(format!("{p}\u{f8ff}"))),
            ConvFilter::TitleContains(q) => {
                (" AND instr(lower(IFNULL(title,'')), lower(?2)) > 0", Some(q.clone()), None)
            }
        }
    }
}

#[async_trait::async_trait]
impl LongTermStore for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite {}", self.path)
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let t = Instant::now();
        self.with(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))).await?;
        Ok(t.elapsed())
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let (where_f, a1, a2) = Self::filter_sql(filter);
        let by_title = matches!(filter, ConvFilter::TitlePrefix(_));
        let by_id = matches!(filter, ConvFilter::IdPrefix(_));
        let (after_sql, order) = if by_title {
            (" AND (IFNULL(title,''), path) > (?4, ?5)", " ORDER BY IFNULL(title,''), path")
        } else if by_id {
            (" AND path > ?5", " ORDER BY path")
        } else {
            (" AND (sort_ts, path) < (?4, ?5)", " ORDER BY sort_ts DESC, path DESC")
        };
        let (cv, cp) = match after {
            Some(Cursor::After { values, path }) => (values.first().cloned(), Some(path.clone())),
            _ => (None, None),
        };
        let cursor_key: Option<rusqlite::types::Value> = cv.map(|v| {
            if by_title {
                rusqlite::types::Value::Text(v.as_str().unwrap_or_default().to_string())
            } else {
                rusqlite::types::Value::Integer(v.as_ts().map(|t| t.micros()).unwrap_or(NO_TS))
            }
        });
        // Newest first; conversations without an `updated_at` instant (sort_ts = NO_TS) after
        // the others in id order, as Firestore's reader lists them.
        let by_time = !by_title && !by_id;
        let in_undated = by_time && matches!(cursor_key, Some(rusqlite::types::Value::Integer(NO_TS)));
        let sql = if in_undated {
            format!(
                "SELECT path, fields, updated_us FROM documents WHERE collection = ?1{where_f} AND sort_ts = {NO_TS} AND path > ?5 ORDER BY path LIMIT ?6"
            )
        } else {
            format!(
                "SELECT path, fields, updated_us FROM documents WHERE collection = ?1{where_f}{}{}{order} LIMIT ?6",
                if by_time { format!(" AND sort_ts > {NO_TS}") } else { String::new() },
                if cp.is_some() { after_sql } else { "" }
            )
        };
        let undated = format!(
            "SELECT path, fields, updated_us FROM documents WHERE collection = ?1{where_f} AND sort_ts = {NO_TS} ORDER BY path LIMIT ?6"
        );
        let rows = self
            .with(move |c| {
                let mut st = c.prepare_cached(&sql)?;
                let key = cursor_key.unwrap_or(rusqlite::types::Value::Null);
                let it = st.query_map(params!["conversations", a1, a2, key, cp, limit], |r| {
                    Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                let mut rows = it.collect::<rusqlite::Result<Vec<Document>>>()?;
                if by_time && !in_undated && rows.len() < limit as usize {
                    let mut st = c.prepare_cached(&undated)?;
                    let rest = limit - rows.len() as u32;
                    let none: Option<String> = None;
                    let it = st.query_map(params!["conversations", a1, a2, none, none, rest], |r| {
                        Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    for d in it {
                        rows.push(d?);
                    }
                }
                Ok(rows)
            })
            .await?;
        let items: Vec<Conversation> = rows.into_iter().map(Conversation::from_doc).collect();
        Ok(Page::of(items, limit, |c| Cursor::After {
            values: vec![if by_title {
                FsValue::String(c.title.clone().unwrap_or_default())
            } else {
                c.updated_at.map(FsValue::Timestamp).unwrap_or(FsValue::Null)
            }],
            path: c.doc.path.clone(),
        }))
    }

    async fn count_conversations(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let (where_f, a1, a2) = Self::filter_sql(filter);
        let sql = format!("SELECT COUNT(*) FROM documents WHERE collection = ?1{where_f}");
        self.with(move |c| {
            let mut st = c.prepare_cached(&sql)?;
            let n: i64 = match (a1, a2) {
                (Some(a), Some(b)) => st.query_row(params!["conversations", a, b], |r| r.get(0))?,
                (Some(a), None) => st.query_row(params!["conversations", a], |r| r.get(0))?,
                _ => st.query_row(params!["conversations"], |r| r.get(0))?,
            };
            Ok(n as u64)
        })
        .await
    }

    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError> {
        let coll = format!("conversations/{conversation}/messages");
        let (ts, path) = match after {
            Some(Cursor::After { values, path }) => (values.first().and_then(FsValue::as_i64), Some(path.clone())),
            _ => (None, None),
        };
        // Timed messages by instant, then those without a usable timestamp (sort_ts = NO_TS) by
        // path: the order Firestore's reader gives too.
        let rows = self
            .with(move |c| {
                let mut out = Vec::new();
                let read = |st: &mut rusqlite::Statement<'_>,
                            p: &[&dyn rusqlite::ToSql],
                            out: &mut Vec<(Document, i64)>|
                 -> rusqlite::Result<()> {
                    let it =
                        st.query_map(p, |r| Ok((row_doc(r.get(0)?, r.get(1)?, r.get(2)?), r.get::<_, i64>(3)?)))?;
                    for row in it {
                        out.push(row?);
                    }
                    Ok(())
                };
                if ts != Some(NO_TS) {
                    let mut st = c.prepare_cached(
                        "SELECT path, fields, updated_us, sort_ts FROM documents WHERE collection = ?1 AND sort_ts > ?5
                         AND (?3 IS NULL OR (sort_ts, path) > (?2, ?3)) ORDER BY sort_ts, path LIMIT ?4",
                    )?;
                    read(&mut st, &[&coll, &ts.unwrap_or(NO_TS), &path, &limit, &NO_TS], &mut out)?;
                }
                if out.len() < limit as usize {
                    let from = if ts == Some(NO_TS) { path.clone() } else { None };
                    let mut st = c.prepare_cached(
                        "SELECT path, fields, updated_us, sort_ts FROM documents WHERE collection = ?1 AND sort_ts = ?4
                         AND (?2 IS NULL OR path > ?2) ORDER BY path LIMIT ?3",
                    )?;
                    read(&mut st, &[&coll, &from, &(limit - out.len() as u32), &NO_TS], &mut out)?;
                }
                Ok(out)
            })
            .await?;
        let page =
            Page::of(rows, limit, |(d, ts)| Cursor::After { values: vec![FsValue::Int(*ts)], path: d.path.clone() });
        Ok(page.map(|(d, _)| Message::from_doc(d)))
    }

    async fn document(&self, path: &str) -> Result<Option<Document>, StoreError> {
        let path = path.to_string();
        self.with(move |c| {
            c.query_row("SELECT path, fields, updated_us FROM documents WHERE path = ?1", [path], |r| {
                Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .await
    }

    async fn collections(&self, parent: Option<&str>) -> Result<Vec<String>, StoreError> {
        let prefix = parent.map(|p| format!("{p}/"));
        self.with(move |c| {
            let mut out: Vec<String> = match &prefix {
                None => {
                    let mut st = c.prepare_cached(
                        "SELECT DISTINCT CASE WHEN instr(collection, '/') = 0 THEN collection
                         ELSE substr(collection, 1, instr(collection, '/') - 1) END FROM documents",
                    )?;
                    st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
                }
                Some(p) => {
                    let mut st = c.prepare_cached(
                        "SELECT DISTINCT collection FROM documents WHERE collection > ?1 AND collection < ?2",
                    )?;
                    let rows: Vec<String> = st
                        .query_map(params![p, format!("{p}\u{10ffff}")], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    rows.into_iter()
                        .filter_map(|c| {
                            c.strip_prefix(p.as_str()).map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
                        })
                        .collect()
                }
            };
            out.sort();
            out.dedup();
            Ok(out)
        })
        .await
    }

    async fn documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let coll = collection.to_string();
        let after_path = path_after(after);
        let items = self
            .with(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT path, fields, updated_us FROM documents WHERE collection = ?1
                     AND (?2 IS NULL OR path > ?2) ORDER BY path LIMIT ?3",
                )?;
                let it =
                    st.query_map(params![coll, after_path, limit], |r| Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?)))?;
                it.collect::<rusqlite::Result<Vec<Document>>>()
            })
            .await?;
        Ok(Page::of(items, limit, |d| Cursor::After { values: vec![], path: d.path.clone() }))
    }

    async fn group_documents(
        &self,
        pattern: &crate::domain::CollectionPattern,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        // GLOB on the collection (literal parts escaped, `*` per pattern segment), the same
        // number of segments; the pattern's own check keeps any `*` from spanning a `/`.
        let segs: Vec<String> = pattern.glob_segments();
        let depth = segs.len() as i64 - 1;
        let glob = segs.join("/");
        let after_path = path_after(after);
        let items = self
            .with(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT path, fields, updated_us FROM documents WHERE collection GLOB ?1
                     AND length(collection) - length(replace(collection, '/', '')) = ?2
                     AND (?3 IS NULL OR path > ?3) ORDER BY path LIMIT ?4",
                )?;
                let it = st.query_map(params![glob, depth, after_path, limit], |r| {
                    Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                it.collect::<rusqlite::Result<Vec<Document>>>()
            })
            .await?;
        let page = Page::of(items, limit, |d| Cursor::After { values: vec![], path: d.path.clone() });
        Ok(Page { items: page.items.into_iter().filter(|d| pattern.holds(&d.path)).collect(), next: page.next })
    }

    async fn last_document_id(&self, collection: &str, _id_field: &str) -> Result<Option<String>, StoreError> {
        let coll = collection.to_string();
        self.with(move |c| {
            c.prepare_cached("SELECT id FROM documents WHERE collection = ?1 ORDER BY path DESC LIMIT 1")?
                .query_row(params![coll], |r| r.get::<_, String>(0))
                .optional()
        })
        .await
    }

    async fn last_documents(&self, collection: &str, _id_field: &str, limit: u32) -> Result<Vec<Document>, StoreError> {
        let coll = collection.to_string();
        self.with(move |c| {
            let mut st = c.prepare_cached(
                "SELECT path, fields, updated_us FROM documents WHERE collection = ?1 ORDER BY path DESC LIMIT ?2",
            )?;
            let it = st.query_map(params![coll, limit], |r| Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?)))?;
            it.collect::<rusqlite::Result<Vec<Document>>>()
        })
        .await
    }

    async fn browse_documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let page = self.documents(collection, after, limit).await?;
        let coll = collection.to_string();
        let after_path = path_after(after);
        // Documents that do not exist but hold subcollections: the first segment below this
        // collection of every deeper document's collection, where no row has that path.
        let phantoms = self
            .with(move |c| {
                let mut st = c.prepare_cached(
                    "SELECT DISTINCT collection FROM documents WHERE substr(collection, 1, length(?1) + 1) = ?1 || '/'",
                )?;
                let deeper =
                    st.query_map(params![coll], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
                let mut exists = c.prepare_cached("SELECT 1 FROM documents WHERE path = ?1")?;
                let mut out = Vec::new();
                for d in deeper {
                    let id = d[coll.len() + 1..].split('/').next().unwrap_or_default();
                    let path = format!("{coll}/{id}");
                    if after_path.as_ref().is_none_or(|a| path > *a) && !exists.exists(params![path])? {
                        out.push(path);
                    }
                }
                Ok(out)
            })
            .await?;
        let items = super::with_phantoms(page.items, phantoms, limit);
        Ok(Page::of(items, limit, |d| Cursor::After { values: vec![], path: d.path.clone() }))
    }

    async fn get_many(&self, paths: &[String]) -> Result<Vec<Option<Document>>, StoreError> {
        let paths = paths.to_vec();
        self.with(move |c| {
            let mut st = c.prepare_cached("SELECT path, fields, updated_us FROM documents WHERE path = ?1")?;
            paths
                .iter()
                .map(|p| st.query_row([p], |r| Ok(row_doc(r.get(0)?, r.get(1)?, r.get(2)?))).optional())
                .collect()
        })
        .await
    }

    async fn delete_many(&self, paths: &[String]) -> Result<(), StoreError> {
        let paths = paths.to_vec();
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached("DELETE FROM documents WHERE path = ?1")?;
                for p in &paths {
                    st.execute([p])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn put(&self, path: &str, fields: Vec<(String, FsValue)>) -> Result<(), StoreError> {
        self.put_many(vec![(path.to_string(), fields)]).await
    }

    /// Each document read, merged and written inside one IMMEDIATE transaction: no other
    /// writer comes between (in this process the connection's lock, in another SQLite's).
    async fn merge_many(&self, merges: Vec<crate::domain::Merge>) -> Result<(), StoreError> {
        for m in &merges {
            row_of(&m.path, &[])?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.with(move |c| {
            let tx = rusqlite::Transaction::new_unchecked(c, rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut get = tx.prepare_cached("SELECT fields FROM documents WHERE path = ?1")?;
                let mut put = tx.prepare_cached(
                    "INSERT OR REPLACE INTO documents(path, collection, id, fields, updated_us, sort_ts, title, user_id, agent_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for m in merges {
                    let old: Option<String> = get.query_row([&m.path], |r| r.get(0)).optional()?;
                    let mut fields = old.map(|s| decode_fields(&s)).unwrap_or_default();
                    let bounds = m.bounds_to_set(&fields);
                    for (k, v) in m.set.into_iter().chain(bounds) {
                        match fields.iter_mut().find(|(f, _)| *f == k) {
                            Some((_, x)) => *x = v,
                            None => fields.push((k, v)),
                        }
                    }
                    // As Firestore's increment: a field that is not a number is replaced by it.
                    for (k, n) in m.increment {
                        match fields.iter_mut().find(|(f, _)| *f == k) {
                            Some((_, FsValue::Int(i))) => *i = i.saturating_add(n),
                            Some((_, FsValue::Double(d))) => *d += n as f64,
                            Some((_, x)) => *x = FsValue::Int(n),
                            None => fields.push((k, FsValue::Int(n))),
                        }
                    }
                    let r = row_of(&m.path, &fields).map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))?;
                    put.execute(params![r.path, r.collection, r.id, r.json, now, r.sort_ts, r.title, r.user, r.agent])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// One transaction for the whole batch.
    /// INSERT OR IGNORE in one transaction: a row that exists is left, `changes()` says which
    /// were new (SQLite serialises writers, so two importers never both create one).
    async fn create_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<Vec<bool>, StoreError> {
        let (rows, now) = rows_now(&docs)?;
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            let mut created = Vec::with_capacity(rows.len());
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR IGNORE INTO documents(path, collection, id, fields, updated_us, sort_ts, title, user_id, agent_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for r in rows {
                    created.push(
                        st.execute(params![r.path, r.collection, r.id, r.json, now, r.sort_ts, r.title, r.user, r.agent])?
                            == 1,
                    );
                }
            }
            tx.commit()?;
            Ok(created)
        })
        .await
    }

    async fn put_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<(), StoreError> {
        let (rows, now) = rows_now(&docs)?;
        self.with(move |c| {
            let tx = c.unchecked_transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO documents(path, collection, id, fields, updated_us, sort_ts, title, user_id, agent_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?;
                for r in rows {
                    st.execute(params![r.path, r.collection, r.id, r.json, now, r.sort_ts, r.title, r.user, r.agent])?;
                }
            }
            tx.commit()
        })
        .await
    }
}

/// Documents as rows, and the time they are written at (µs).
fn rows_now(docs: &[(String, Vec<(String, FsValue)>)]) -> Result<(Vec<Row>, i64), StoreError> {
    let rows = docs.iter().map(|(p, f)| row_of(p, f)).collect::<Result<Vec<Row>, StoreError>>()?;
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0);
    Ok((rows, now))
}

/// A document as the `documents` table stores it.
struct Row {
    path: String,
    collection: String,
    id: String,
    json: String,
    sort_ts: i64,
    title: Option<String>,
    user: Option<String>,
    agent: Option<String>,
}

fn row_of(path: &str, fields: &[(String, FsValue)]) -> Result<Row, StoreError> {
    let Some((collection, id)) = path.rsplit_once('/') else {
        return Err(StoreError::Other(format!("not a document path: {path}")));
    };
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v);
    let is_conv = collection == "conversations";
    let is_msg = collection.starts_with("conversations/") && collection.ends_with("/messages");
    let sort_ts = if is_conv {
        get("updated_at").and_then(FsValue::as_ts).map(|t| t.micros()).unwrap_or(NO_TS)
    } else if is_msg {
        get("timestamp").and_then(FsValue::as_ts).map(|t| t.micros()).unwrap_or(NO_TS)
    } else {
        NO_TS
    };
    let text = |k: &str| get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(Row {
        path: path.to_string(),
        collection: collection.to_string(),
        id: id.to_string(),
        json: encode_fields(fields),
        sort_ts,
        title: text("title"),
        user: text("user_id"),
        agent: text("agent_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_json_round_trips_every_value_type() {
        let v = FsValue::Map(vec![
            ("a".into(), FsValue::Null),
            ("b".into(), FsValue::Bool(true)),
            ("c".into(), FsValue::Int(i64::MAX)),
            ("d".into(), FsValue::Double(f64::NEG_INFINITY)),
            ("e".into(), FsValue::Timestamp(Ts { secs: -5, nanos: 7 })),
            ("f".into(), FsValue::String("\u{1b}[31m".into())),
            ("g".into(), FsValue::Bytes(vec![0, 255])),
            ("h".into(), FsValue::Reference("users/u1".into())),
            ("i".into(), FsValue::GeoPoint { lat: 1.5, lng: -2.25 }),
            ("j".into(), FsValue::Array(vec![FsValue::Int(1), FsValue::String("x".into())])),
        ]);
        assert_eq!(decode(&encode(&v)), v);
        match decode(&encode(&FsValue::Double(f64::NAN))) {
            FsValue::Double(d) => assert!(d.is_nan()),
            other => panic!("{other:?}"),
        }
    }
}
