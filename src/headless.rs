//! Headless commands: plain text by default, JSON with `--json`; exit code 0 means success.

use crate::config::Config;
use crate::domain::{Key, KeyMeta, Ttl};
use crate::text;
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    Store(#[from] crate::error::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

fn json_key(k: &[u8]) -> String {
    match std::str::from_utf8(k) {
        Ok(s) => format!("\"key\":{}", serde_json::Value::String(s.to_string())),
        Err(_) => {
            let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
            format!("\"key_hex\":\"{hex}\"")
        }
    }
}

fn write_row(out: &mut impl Write, k: &Key, meta: Option<&KeyMeta>, json: bool) -> std::io::Result<()> {
    if json {
        let mut row = format!("{{{}", json_key(k));
        if let Some(m) = meta {
            let t = m.ktype.as_ref().map(|t| t.name().to_string());
            let ttl = match m.ttl {
                Ttl::Millis(ms) => ms.to_string(),
                Ttl::Persistent => "-1".into(),
                Ttl::Gone => "-2".into(),
            };
            row.push_str(&format!(
                ",\"type\":{},\"ttl_ms\":{ttl},\"memory\":{}",
                t.map(|t| serde_json::Value::String(t).to_string()).unwrap_or_else(|| "null".into()),
                m.memory.map(|m| m.to_string()).unwrap_or_else(|| "null".into())
            ));
        }
        row.push_str("}\n");
        out.write_all(text::json_safe(row).as_bytes())
    } else {
        if let Some(m) = meta {
            let t = m.ktype.as_ref().map(|t| t.name()).unwrap_or("gone");
            let ttl = match m.ttl {
                Ttl::Millis(ms) => text::human_ms(ms),
                Ttl::Persistent => "-".into(),
                Ttl::Gone => "gone".into(),
            };
            let mem = m.memory.map(text::human_bytes).unwrap_or_else(|| "-".into());
            write!(out, "{t:<8} {ttl:>9} {mem:>10}  ")?;
        }
        // Plain keys go out as they are; anything else escaped so no byte reaches a terminal raw.
        if k.iter().all(|&b| (0x21..0x7f).contains(&b)) {
            out.write_all(k)?;
        } else {
            out.write_all(text::sanitize_line(k).as_bytes())?;
        }
        out.write_all(b"\n")
    }
}

/// A type SCAN TYPE can match: a core type, or a module type (their names are always 9
/// characters: `ReJSON-RL`, `MBbloom--`, `TSDB-TYPE`). Anything else would list nothing.
fn valid_key_type(t: &str) -> bool {
    matches!(t, "string" | "list" | "hash" | "set" | "zset" | "stream")
        || (t.len() == 9 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// `memscope keys [PATTERN] [--type T] [--long] [--json]`.
pub async fn keys(
    cfg: &Config,
    pattern: &str,
    key_type: Option<&str>,
    long: bool,
    json: bool,
) -> Result<u64, HeadlessError> {
    let rc = cfg.redis.as_ref().ok_or_else(|| {
        HeadlessError::Usage("Redis is not configured: set [profile.NAME.redis] url, REDIS_URL or --redis-url".into())
    })?;
    if let Some(t) = key_type
        && !valid_key_type(t)
    {
        return Err(HeadlessError::Usage(format!(
            "--type {t:?}: not a Redis type (string, list, hash, set, zset, stream, or a module type's 9-character name such as ReJSON-RL)"
        )));
    }
    let store = crate::tiers::redis(cfg, None)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut cursor = 0u64;
    let mut n = 0u64;
    loop {
        let (next, keys) = store.scan_page(cursor, pattern, key_type, rc.scan_count.max(1000)).await?;
        let metas = if long { Some(store.meta(&keys).await?) } else { None };
        for (i, k) in keys.iter().enumerate() {
            let m = metas.as_ref().and_then(|m| m.get(i)).map(|(_, m)| m);
            match write_row(&mut out, k, m, json) {
                Ok(()) => {}
                // `memscope keys | head` closes the pipe: that is success, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(n),
                Err(e) => return Err(e.into()),
            }
        }
        n += keys.len() as u64;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(n),
    }
}

fn vector_cfg(cfg: &Config) -> Result<&crate::config::VectorConfig, HeadlessError> {
    cfg.vector.as_ref().ok_or_else(|| {
        HeadlessError::Usage(
            "the vector tier is not configured: set [profile.NAME.vector] (backend = \"local\" or \"pinecone\"), or PINECONE_API_KEY with PINECONE_INDEX".into(),
        )
    })
}

/// `memscope search TEXT [--top-k N] [--namespace NS] [--filter JSON] [--json]`.
pub async fn search(
    cfg: &Config,
    text: &str,
    top_k: u32,
    namespace: Option<String>,
    filter: Option<String>,
    json: bool,
) -> Result<(), HeadlessError> {
    let vc = vector_cfg(cfg)?;
    let filter = match filter {
        Some(f) => Some(
            crate::filter::parse(&f)
                .map(|_| serde_json::from_str(&f).unwrap_or_default())
                .map_err(|e| HeadlessError::Usage(format!("--filter {e}")))?,
        ),
        None => None,
    };
    let v = crate::tiers::vector(cfg, crate::store::Access::ReadOnly).await?;
    let params = crate::search::SearchParams {
        text: text.to_string(),
        top_k,
        namespace: namespace.unwrap_or_else(|| vc.namespace.clone()),
        filter,
        include_values: false,
    };
    let out = crate::search::search(v.store.as_ref(), v.embedder.as_deref(), v.dimension, &params).await?;
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if json {
        let v = serde_json::json!({
            "query": text,
            "namespace": out.result.namespace,
            "matches": out.result.matches.iter().enumerate().map(|(i, m)| serde_json::json!({
                "rank": i + 1, "id": m.id, "score": m.score, "metadata": m.metadata,
            })).collect::<Vec<_>>(),
            "read_units": out.result.read_units,
            "embed_ms": out.embed_ms, "query_ms": out.query_ms, "total_ms": out.total_ms,
        });
        writeln!(o, "{}", text::json_safe(v.to_string()))?;
    } else {
        for (i, m) in out.result.matches.iter().enumerate() {
            let t = m.metadata.as_ref().and_then(|md| md.get(&vc.text_field)).and_then(|v| v.as_str()).unwrap_or("");
            writeln!(
                o,
                "{:>3}  {:.4}  {}  {}",
                i + 1,
                m.score,
                text::sanitize_str(&m.id),
                text::truncate(&text::sanitize_str(t), 80)
            )?;
        }
        writeln!(
            o,
            "{} matches · embed {:.1} ms · query {:.1} ms · total {:.1} ms{}",
            out.result.matches.len(),
            out.embed_ms,
            out.query_ms,
            out.total_ms,
            out.result.read_units.map(|r| format!(" · {r} read units")).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `memscope index FILE.jsonl [--namespace NS] [--batch N]`: every line is checked first; a bad
/// line is reported with its number and nothing is written.
/// Writes need write mode: say how to ask for it.
fn refuse_read_only(cfg: &Config, what: &str) -> Result<(), HeadlessError> {
    if cfg.read_only {
        return Err(HeadlessError::Usage(format!(
            "{what} of profile `{}`, which is read-only: rerun with --write (or set read_only = false){}",
            cfg.profile,
            if what.starts_with("import") { ", or see first what it would do with --dry-run" } else { "" }
        )));
    }
    Ok(())
}

pub async fn index(
    cfg: &Config,
    file: &std::path::Path,
    namespace: Option<String>,
    batch: usize,
) -> Result<u64, HeadlessError> {
    vector_cfg(cfg)?; // a usage error before reading the file
    let text_in =
        std::fs::read_to_string(file).map_err(|e| HeadlessError::Usage(format!("{}: {e}", file.display())))?;
    let mut items = Vec::new();
    for (n, line) in text_in.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |m: &str| HeadlessError::Usage(format!("{}:{}: {m}", file.display(), n + 1));
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        let id = v.get("id").and_then(|x| x.as_str()).ok_or_else(|| bad("missing string field `id`"))?;
        let t = v.get("text").and_then(|x| x.as_str()).ok_or_else(|| bad("missing string field `text`"))?;
        let metadata = match v.get("metadata") {
            None | Some(serde_json::Value::Null) => Default::default(),
            Some(serde_json::Value::Object(m)) => m.clone(),
            Some(_) => return Err(bad("`metadata` must be an object")),
        };
        items.push(crate::search::TextItem { id: id.to_string(), text: t.to_string(), metadata });
    }
    let total = items.len();
    refuse_read_only(cfg, "index upserts into the vector tier")?;
    let v = crate::tiers::vector(cfg, crate::store::Access::ReadWrite).await?;
    let embedder = v.embedder()?;
    if let (Some(d), Some(e)) = (v.dimension, embedder.dimension()) {
        crate::embed::check_dimension(e, d)?;
    }
    let (store, ns) = (&v.store, namespace.unwrap_or_else(|| v.namespace.clone()));
    let n = crate::search::from_texts(store.as_ref(), embedder.as_ref(), items, &ns, &v.text_field, batch, |done| {
        eprint!("\rindexed {done}/{total}");
    })
    .await?;
    eprintln!();
    println!("upserted {n} vectors into namespace {ns:?} of {}", store.describe());
    Ok(n)
}

/// `memscope health [--json] [--watch]`: returns the exit code. `--record` is done by the
/// backend's poller, as in the TUI.
pub async fn health(cfg: &Config, json: bool, watch: bool) -> Result<u8, HeadlessError> {
    use crate::health::{History, Level, Probe};
    let probes = crate::tabs::health::HealthTab::new(cfg).configured;
    if probes.is_empty() {
        return Err(HeadlessError::Usage("no tier is configured: nothing to check (`memscope config check`)".into()));
    }
    let mut be = crate::backend::spawn(cfg.clone());
    let keep = cfg.health.window_s * 1000;
    let t = cfg.health.thresholds.clone();
    let mut hist = History::default();
    // Two samples per tier give one interval of rates; connecting (the local model) may take a while.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(cfg.health.interval_ms * 3 + 30_000);
    let out = std::io::stdout();
    loop {
        let ev = if watch {
            be.events.recv().await
        } else {
            match tokio::time::timeout_at(deadline, be.events.recv()).await {
                Ok(e) => e,
                Err(_) => break,
            }
        };
        let Some(ev) = ev else { break };
        let crate::message::BackendEvent::Health(s) = ev else { continue };
        let probe = s.probe;
        let st = hist.push(*s, keep, &t);
        if watch && let Some(st) = st {
            let mut o = out.lock();
            let clock =
                crate::domain::Ts { secs: hist.samples[&probe].back().map(|x| x.wall_secs).unwrap_or(0), nanos: 0 }
                    .to_rfc3339();
            let lat = st.figures.get("latency_ms").map(|l| format!("{l:.1} ms")).unwrap_or_else(|| "-".into());
            let extra = match probe {
                Probe::Redis => {
                    st.figures.get("miss_rate").map(|m| format!(" miss {:.0}%", m * 100.0)).unwrap_or_default()
                }
                _ => String::new(),
            };
            let err = st.last_error.as_deref().map(|e| format!(" {}", text::sanitize_str(e))).unwrap_or_default();
            writeln!(o, "{} {:<9} {:<4} {lat}{extra}{err}", &clock[11..19], probe.name(), st.level.name())?;
            o.flush()?;
        }
        if !watch && probes.iter().all(|p| hist.samples.get(p).is_some_and(|q| q.len() >= 2)) {
            break;
        }
    }
    drop(be.commands);
    be.task.abort();
    let mut worst = Level::Ok;
    let mut rows = Vec::new();
    for p in &probes {
        let st = hist.status(*p, keep, &t).unwrap_or(crate::health::TierStatus {
            probe: *p,
            level: Level::Down,
            latency_p50: None,
            latency_p99: None,
            errors: 0,
            conditions: vec![("down".into(), Level::Down, "no answer to the health probe".into())],
            figures: Default::default(),
            last_error: Some("no answer to the health probe".into()),
        });
        worst = worst.max(st.level);
        rows.push(st);
    }
    let mut o = out.lock();
    if json {
        let rows = serde_json::Value::Array(rows.iter().map(crate::health::status_json).collect());
        writeln!(o, "{}", text::json_safe(rows.to_string()))?;
    } else if !watch {
        writeln!(o, "{:<10} {:<5} {:>9} {:>9}  DETAILS", "TIER", "STATE", "P50 MS", "P99 MS")?;
        for st in &rows {
            let f = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
            let mut details: Vec<String> = st.conditions.iter().map(|(_, _, m)| text::sanitize_str(m)).collect();
            if details.is_empty() {
                details = st
                    .figures
                    .iter()
                    .filter(|(k, _)| !k.ends_with("_ms"))
                    .take(4)
                    .map(|(k, v)| format!("{k}={v:.3}"))
                    .collect();
            }
            writeln!(
                o,
                "{:<10} {:<5} {:>9} {:>9}  {}",
                st.probe.name(),
                st.level.name(),
                f(st.latency_p50),
                f(st.latency_p99),
                details.join("; ")
            )?;
        }
    }
    Ok(worst.exit_code())
}
/// A progress line on stderr: redrawn in place on a terminal (at most 10 times a second),
/// one line per phase otherwise.
pub struct ProgressLine {
    tty: bool,
    last: Option<std::time::Instant>,
    phase: String,
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        use std::io::IsTerminal;
        ProgressLine { tty: std::io::stderr().is_terminal(), last: None, phase: String::new() }
    }
    pub fn show(&mut self, phase: &str, line: &str) {
        if self.tty {
            if self.last.is_some_and(|t| t.elapsed().as_millis() < 100) {
                return;
            }
            self.last = Some(std::time::Instant::now());
            eprint!("\r\x1b[2K{line}");
        } else if phase != self.phase || self.last.is_none_or(|t| t.elapsed().as_secs() >= 10) {
            // Logs get a line per phase and one every 10 s, not a line per update.
            self.last = Some(std::time::Instant::now());
            eprintln!("{line}");
        }
        self.phase = phase.to_string();
    }
    pub fn done(&mut self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
        self.last = None;
    }
}

impl Default for ProgressLine {
    fn default() -> Self {
        Self::new()
    }
}

fn bar(done: u64, total: u64) -> String {
    let w = 24usize;
    let filled = if total == 0 { w } else { ((done as f64 / total as f64) * w as f64).round() as usize }.min(w);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(w - filled))
}

/// Read an import file: every line checked (shape, and Firestore's documented limits), errors
/// named by file and line (up to 20 shown). Each message comes with its line number. A message
/// id given twice with different content is an error naming both lines; an identical repeat is
/// kept once.
pub fn read_import(file: &std::path::Path) -> Result<Vec<(usize, crate::memory::NewMessage)>, HeadlessError> {
    use std::io::BufRead;
    let f = std::fs::File::open(file).map_err(|e| HeadlessError::Usage(format!("{}: {e}", file.display())))?;
    let mut out: Vec<(usize, crate::memory::NewMessage)> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| HeadlessError::Usage(format!("{}:{}: {e}", file.display(), n + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_import_line(&line) {
            Ok(m) => match seen.entry((m.conversation_id.clone(), m.id())) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (first_line, first) = &out[*e.get()];
                    if *first != m {
                        errors.push(format!(
                            "{}:{}: message {:?} of conversation {:?} was already given on line {first_line} with other content",
                            file.display(),
                            n + 1,
                            m.id(),
                            m.conversation_id
                        ));
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(out.len());
                    out.push((n + 1, m));
                }
            },
            Err(e) => errors.push(format!("{}:{}: {e}", file.display(), n + 1)),
        }
    }
    if !errors.is_empty() {
        let more = errors.len().saturating_sub(20);
        let mut msg = errors.into_iter().take(20).collect::<Vec<_>>().join("\n");
        if more > 0 {
            msg.push_str(&format!("\n… and {more} more bad lines"));
        }
        return Err(HeadlessError::Usage(format!("{msg}\nnothing was imported")));
    }
    Ok(out)
}

/// Firestore's documented limits that an import line is checked against up front.
const MAX_ID_BYTES: usize = 1500;
const MAX_DOC_BYTES: usize = 1_048_576;

fn parse_import_line(line: &str) -> Result<crate::memory::NewMessage, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let o = v.as_object().ok_or("each line must be a JSON object")?;
    const KNOWN: [&str; 7] = ["conversation_id", "message_id", "user_id", "role", "content", "timestamp", "agent_id"];
    if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown field `{k}` (expected: {})", KNOWN.join(", ")));
    }
    let id_field = |k: &str, required: bool| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            None | Some(serde_json::Value::Null) => Err(format!("missing field `{k}`")),
            Some(serde_json::Value::String(s)) if s.is_empty() => Err(format!("`{k}` is empty")),
            Some(serde_json::Value::String(s)) if s.contains('/') || s == "." || s == ".." => {
                Err(format!("`{k}` = {s:?} cannot be a document id (no `/`, not `.` or `..`)"))
            }
            // Firestore: ids matching __.*__ are reserved; an id is at most 1,500 bytes.
            Some(serde_json::Value::String(s)) if s.len() > 2 && s.starts_with("__") && s.ends_with("__") => {
                Err(format!("`{k}` = {s:?}: ids of the form __…__ are reserved by Firestore"))
            }
            Some(serde_json::Value::String(s)) if s.len() > MAX_ID_BYTES => {
                Err(format!("`{k}` is {} bytes; Firestore's limit for a document id is {MAX_ID_BYTES}", s.len()))
            }
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{k}` must be a string, not {other}")),
        }
    };
    let text = |k: &str| -> Result<String, String> {
        match o.get(k) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            None => Err(format!("missing field `{k}`")),
            Some(other) => {
                Err(format!("`{k}` must be a string, not {}", other.to_string().chars().take(40).collect::<String>()))
            }
        }
    };
    let timestamp = match o.get("timestamp") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => {
            Some(crate::domain::Ts::parse(s).ok_or_else(|| format!("`timestamp` {s:?} is not ISO-8601"))?)
        }
        Some(serde_json::Value::Number(n)) => {
            let f = n.as_f64().ok_or("bad `timestamp`")?;
            Some(crate::domain::Ts::from_unix_number(f).ok_or_else(|| {
                format!("`timestamp` {n} is outside Firestore's range (years 1–9999 in Unix seconds or ms)")
            })?)
        }
        Some(_) => return Err("`timestamp` must be an ISO-8601 string or Unix seconds".into()),
    };
    if let Some(t) = timestamp
        && !(crate::domain::Ts::MIN..=crate::domain::Ts::MAX).contains(&t)
    {
        return Err(format!("`timestamp` {} is outside Firestore's range (years 1–9999)", t.to_rfc3339()));
    }
    let role = text("role")?;
    if role.is_empty() {
        return Err("`role` is empty".into());
    }
    // The message document: its fields and their names, plus Firestore's per-document overhead
    // (32 bytes, and the document name) must stay within 1 MiB.
    let size: usize =
        o.iter().map(|(k, v)| k.len() + 1 + v.as_str().map_or(8, |s| s.len() + 1)).sum::<usize>() + 32 + 128;
    if size > MAX_DOC_BYTES {
        return Err(format!(
            "the message would be a {size}-byte document; Firestore's limit is {MAX_DOC_BYTES} bytes (1 MiB)"
        ));
    }
    Ok(crate::memory::NewMessage {
        conversation_id: id_field("conversation_id", true)?.unwrap_or_default(),
        message_id: id_field("message_id", false)?,
        user_id: id_field("user_id", true)?.unwrap_or_default(),
        agent_id: id_field("agent_id", false)?,
        role,
        content: text("content")?,
        timestamp,
    })
}

/// `memscope import FILE.jsonl [--dry-run] [--batch N]`.
pub async fn import(
    cfg: &Config,
    file: &std::path::Path,
    dry_run: bool,
    batch: Option<usize>,
) -> Result<(), HeadlessError> {
    let msgs = read_import(file)?;
    if !dry_run {
        refuse_read_only(cfg, "import writes to every tier")?;
    }
    // A dry run into a SQLite store that does not exist yet: everything would be new (the
    // file is not created to find that out).
    let fresh_store = dry_run
        && matches!(&cfg.long_term, Some(crate::config::LongTermConfig::Sqlite { path })
            if !std::path::Path::new(&crate::store::sqlite::expand_home(path)).exists());
    let mem = if fresh_store {
        let empty = crate::store::sqlite::SqliteStore::open(":memory:")?;
        crate::memory::Memory::new(std::sync::Arc::new(empty), None, None, cfg.memory.clone())
    } else {
        crate::memory::Memory::from_config(cfg, !dry_run).await?
    };
    let total = msgs.len() as u64;
    let batch = batch.unwrap_or(cfg.memory.batch).clamp(1, 500);
    let t0 = std::time::Instant::now();
    let mut line = ProgressLine::new();
    let (mut created, mut existing, mut embedded, mut queued) = (0u64, 0u64, 0u64, 0u64);
    let mut convs = std::collections::HashSet::new();
    let mut new_convs = 0u64;
    let mut relevant = 0u64;
    let mut done = 0u64;
    for lines in msgs.chunks(batch) {
        let chunk: Vec<crate::memory::NewMessage> = lines.iter().map(|(_, m)| m.clone()).collect();
        if dry_run {
            let mut paths: Vec<String> =
                chunk.iter().map(|m| crate::memory::message_path(&m.conversation_id, &m.id())).collect();
            let fresh: Vec<&str> =
                chunk.iter().map(|m| m.conversation_id.as_str()).filter(|c| convs.insert(c.to_string())).collect();
            paths.extend(fresh.iter().map(|c| format!("conversations/{c}")));
            let docs = mem.long_term().get_many(&paths).await?;
            let (m, c) = docs.split_at(chunk.len());
            let n_new = m.iter().filter(|d| d.is_none()).count() as u64;
            created += n_new;
            existing += chunk.len() as u64 - n_new;
            new_convs += c.iter().filter(|d| d.is_none()).count() as u64;
            relevant += chunk.iter().filter(|m| mem.is_relevant(&m.role, &m.content)).count() as u64;
        } else {
            let r = mem
                .save_batch(chunk.clone(), |tier| {
                    let rate = done as f64 / t0.elapsed().as_secs_f64().max(1e-3);
                    line.show(
                        "import",
                        &format!("import {} {done}/{total} messages  {rate:.0} msg/s  ({tier})", bar(done, total)),
                    );
                })
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    line.done();
                    // Say exactly what was written: every line before this batch went through
                    // the layer; this batch may be partly in the long-term store; the rest was
                    // not tried. A re-run rewrites what exists in place and writes the rest.
                    let (first, last) = (lines[0].0, lines[lines.len() - 1].0);
                    let written = match msgs.iter().take_while(|(n, _)| *n < first).last() {
                        Some((n, _)) => format!("lines up to {n} ({done} messages) were written"),
                        None => "nothing was written before it".into(),
                    };
                    return Err(HeadlessError::Store(crate::error::StoreError::Other(format!(
                        "{}:{first}-{last}: the batch failed: {e}\n{written}; lines {first}-{last} may be partly written, \
                         later lines were not tried.\nRe-running the same import completes it (messages already stored \
                         are rewritten in place, never duplicated).",
                        file.display()
                    ))));
                }
            };
            created += r.created as u64;
            existing += r.existing as u64;
            embedded += r.embedded as u64;
            queued += r.queued as u64;
            convs.extend(chunk.iter().map(|m| m.conversation_id.clone()));
        }
        done += chunk.len() as u64;
        let rate = done as f64 / t0.elapsed().as_secs_f64().max(1e-3);
        line.show("import", &format!("import {} {done}/{total} messages  {rate:.0} msg/s", bar(done, total)));
    }
    line.done();
    let secs = t0.elapsed().as_secs_f64();
    if dry_run {
        println!(
            "dry run: {total} messages in {} conversations ({new_convs} new): {created} new messages, {existing} already stored \
             (rewritten in place, never duplicated)",
            convs.len()
        );
        let tiers = format!(
            "would write: long-term {} documents; Redis {}; vector tier {}",
            total + convs.len() as u64,
            if cfg.redis.is_some() {
                format!("{} recent lists and sessions", convs.len())
            } else {
                "not configured".into()
            },
            if cfg.vector.is_some() {
                format!("up to {relevant} relevant messages embedded")
            } else {
                "not configured".into()
            },
        );
        println!("{tiers}");
        return Ok(());
    }
    println!(
        "imported {total} messages into {} conversations in {secs:.1} s ({:.0} msg/s): {created} new, {existing} already stored; {embedded} embedded",
        convs.len(),
        total as f64 / secs.max(1e-3)
    );
    if queued > 0 {
        println!(
            "{queued} tier writes failed after the long-term write and wait in the repair queue: run `memscope --write audit --repair`"
        );
    }
    Ok(())
}

/// `memscope audit [--json] [--repair [--dry-run] [--yes]]`: the exit code (0 agree, 1 drift).
pub async fn audit(
    cfg: &Config,
    json: bool,
    repair: bool,
    dry_run: bool,
    yes: bool,
    settle_ms: u64,
) -> Result<u8, HeadlessError> {
    use crate::audit::{Options, Progress};
    let writes = repair && !dry_run;
    if writes && cfg.read_only {
        return Err(HeadlessError::Usage(format!(
            "--repair writes to the tiers of profile `{}`, which is read-only: rerun with --write, or see what it would do with --repair --dry-run",
            cfg.profile
        )));
    }
    let mem = crate::memory::Memory::from_config(cfg, writes).await?;
    let line = std::sync::Mutex::new(ProgressLine::new());
    let done = || line.lock().map(|mut l| l.done()).unwrap_or(());
    let mut show = |p: &Progress| {
        let of = p.total.map(|t| format!("/{t}")).unwrap_or_default();
        if let Ok(mut l) = line.lock() {
            l.show(p.phase, &format!("audit: {} {}{of}  drift so far {}", p.phase, p.done, p.drift));
        }
    };
    let settle = std::time::Duration::from_millis(settle_ms);
    let mut opts = Options { repair, dry_run, settle };
    if writes && !yes {
        // Confirmation: look first, then ask.
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(HeadlessError::Usage(
                "--repair asks for confirmation on a terminal; add --yes to confirm".into(),
            ));
        }
        let look = crate::audit::run(&mem, Options { settle, ..Options::default() }, &mut show).await?;
        done();
        eprint!("{}", look.text(true, true));
        if look.drift() == 0 {
            return Ok(0);
        }
        eprint!("repair these {} findings in profile `{}`? [y/N] ", look.drift(), cfg.profile);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing was changed");
            return Ok(1);
        }
        opts = Options { repair: true, dry_run: false, settle };
    }
    let report = crate::audit::run(&mem, opts, &mut show).await?;
    done();
    if json {
        println!("{}", text::json_safe(report.json(dry_run).to_string()));
    } else {
        print!("{}", report.text(repair, dry_run));
    }
    let bad = if writes { report.unrepaired() > 0 || !report.repair_errors.is_empty() } else { report.drift() > 0 };
    Ok(u8::from(bad))
}
