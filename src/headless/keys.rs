//! `memscope keys [PATTERN] [--type T] [--long] [--json]`: every key, streamed.

use super::HeadlessError;
use crate::config::Config;
use crate::domain::{Key, KeyMeta, ServerMode, Ttl};
use crate::text;
use std::io::Write;

fn write_row(out: &mut impl Write, k: &Key, meta: Option<&KeyMeta>, json: bool) -> std::io::Result<()> {
    if json {
        let row = crate::domain::key_json(k, meta).to_string();
        out.write_all(text::json_safe(row).as_bytes())?;
        out.write_all(b"\n")
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
    node_only: bool,
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
    // --node-only: this server alone, even when it is a cluster node.
    let mut cfg = cfg.clone();
    if node_only && let Some(r) = &mut cfg.redis {
        r.mode = crate::config::RedisMode::Standalone;
    }
    let store = crate::tiers::redis(&cfg, None)?;
    // A Sentinel holds no keys, a cluster node only its slots': never list either as the whole.
    let info = store.server_info().await?;
    let partial = match (&info.mode, info.mode.partial_reason()) {
        (_, None) => None,
        (ServerMode::Cluster { .. }, Some(why)) if node_only => Some(why),
        (ServerMode::Cluster { .. }, Some(why)) => {
            return Err(HeadlessError::Usage(format!(
                "{why}.\nTo list the whole cluster, set mode = \"auto\" (the default) or \"cluster\"; to list this node's keys only, add --node-only."
            )));
        }
        (_, Some(why)) => return Err(HeadlessError::Usage(why)),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut scan = crate::store::KeyspaceScan::start(store.clone(), pattern, key_type, rc.scan_count.max(1000)).await?;
    let nodes = scan.nodes.clone();
    // A node that fails stops its own scan only: every reachable key is listed, then the
    // failures are said, each with its node and what it holds.
    let mut failures: Vec<crate::error::StoreError> = Vec::new();
    let mut n = 0u64;
    // With --long every key costs three commands: paced like every whole-keyspace pass.
    let mut throttle = crate::analysis::Throttle::new(rc.max_ops_per_sec);
    while let Some(page) = scan.next_page().await {
        let keys = match page {
            Ok(p) => p.keys,
            Err(e) if nodes.len() > 1 => {
                failures.push(e);
                continue;
            }
            Err(e) => {
                // The keys already written stand; the error says which node stopped, and the
                // exit status says the listing is incomplete.
                let _ = out.flush();
                return Err(e.into());
            }
        };
        let metas = if long {
            throttle.take(keys.len() as u64 * 3 + 1).await;
            Some(store.meta(&keys).await?)
        } else {
            None
        };
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
    }
    let r = match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(n),
    };
    if !failures.is_empty() {
        // What each failed node holds, when it said (DBSIZE before the scan).
        let holds = |e: &crate::error::StoreError| {
            let m = e.to_string();
            nodes
                .iter()
                .find(|x| x.addr.as_deref().is_some_and(|a| m.contains(a)))
                .map(|x| match x.keys {
                    Some(k) => format!(" (it holds {k} keys)"),
                    None => " (it did not say how many keys it holds)".to_string(),
                })
                .unwrap_or_default()
        };
        let said: Vec<String> = failures.iter().map(|e| format!("{e}{}", holds(e))).collect();
        return Err(crate::error::StoreError::Unreachable(format!(
            "listed {n} keys of the reachable masters; not listed: {}",
            said.join("; ")
        ))
        .into());
    }
    if let Some(why) = partial {
        eprintln!("warning: listed {n} keys of this node only: {}", text::sanitize_str(&why));
    }
    r
}
