//! Headless commands: plain text by default, JSON with `--json`; exit code 0 means success.

use crate::config::Config;
use crate::domain::{Key, KeyMeta, Ttl};
use crate::store::KeyStore;
use crate::store::redis::RedisStore;
use crate::ui::text;
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
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
        write!(out, "{{{}", json_key(k))?;
        if let Some(m) = meta {
            let t = m.ktype.as_ref().map(|t| t.name().to_string());
            let ttl = match m.ttl {
                Ttl::Millis(ms) => ms.to_string(),
                Ttl::Persistent => "-1".into(),
                Ttl::Gone => "-2".into(),
            };
            write!(
                out,
                ",\"type\":{},\"ttl_ms\":{ttl},\"memory\":{}",
                t.map(|t| serde_json::Value::String(t).to_string()).unwrap_or_else(|| "null".into()),
                m.memory.map(|m| m.to_string()).unwrap_or_else(|| "null".into())
            )?;
        }
        out.write_all(b"}\n")
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
    let store = RedisStore::connect(rc, None)?;
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
            crate::store::filter::parse(&f)
                .map(|_| serde_json::from_str(&f).unwrap_or_default())
                .map_err(|e| HeadlessError::Usage(format!("--filter {e}")))?,
        ),
        None => None,
    };
    let store = crate::store::build_vector(vc).await?;
    let embedder = match crate::embed::for_config(cfg) {
        Ok(e) => Some(e),
        // An integrated-inference index embeds the query itself.
        Err(crate::store::StoreError::NotConfigured(_)) if cfg.embedding.is_none() => None,
        Err(e) => return Err(e.into()),
    };
    let dim = store.stats().await?.dimension.map(|d| d as usize);
    let params = crate::search::SearchParams {
        text: text.to_string(),
        top_k,
        namespace: namespace.unwrap_or_else(|| vc.namespace.clone()),
        filter,
        include_values: false,
    };
    let out = crate::search::search(store.as_ref(), embedder.as_deref(), dim, &params).await?;
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
        writeln!(o, "{v}")?;
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
pub async fn index(
    cfg: &Config,
    file: &std::path::Path,
    namespace: Option<String>,
    batch: usize,
) -> Result<u64, HeadlessError> {
    let vc = vector_cfg(cfg)?;
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
    let store = crate::store::build_vector(vc).await?;
    let embedder = crate::embed::for_config(cfg)?;
    if let (Some(d), Some(e)) = (store.stats().await?.dimension, embedder.dimension()) {
        crate::embed::check_dimension(e, d as usize)?;
    }
    let ns = namespace.unwrap_or_else(|| vc.namespace.clone());
    let n = crate::search::from_texts(store.as_ref(), embedder.as_ref(), items, &ns, &vc.text_field, batch, |done| {
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
        writeln!(o, "{}", serde_json::Value::Array(rows.iter().map(crate::health::status_json).collect()))?;
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
