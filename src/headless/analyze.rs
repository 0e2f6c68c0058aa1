//! `memscope analyze [PATTERN]`: what is eating Redis, from one pass over the whole keyspace —
//! as text, or one JSON object (`--json`); saved (`--save FILE`) and compared with an earlier
//! one (`--compare FILE`).

use super::{HeadlessError, ProgressLine, bar};
use crate::analysis::{Analysis, Options, TTL_BUCKETS};
use crate::config::Config;
use crate::text;
use std::io::Write;

pub struct Args {
    pub pattern: String,
    pub json: bool,
    pub max_ops_per_sec: u64,
    pub top: usize,
    pub save: Option<std::path::PathBuf>,
    pub compare: Option<std::path::PathBuf>,
}

/// Returns the exit code: 0, or 1 when the pass ended early (the figures are of what was read).
pub async fn analyze(cfg: &Config, a: Args) -> Result<u8, HeadlessError> {
    let old: Option<Analysis> = match &a.compare {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| HeadlessError::Usage(format!("--compare {}: {e}", p.display())))?;
            Some(serde_json::from_str(&text).map_err(|e| {
                HeadlessError::Usage(format!(
                    "--compare {}: not an analysis saved by `analyze --save`: {e}",
                    p.display()
                ))
            })?)
        }
        None => None,
    };
    let redis = crate::tiers::redis(cfg, None)?;
    let delimiter = cfg.redis.as_ref().map(|r| r.delimiter.clone()).unwrap_or_else(|| ":".into());
    let opt = Options {
        pattern: a.pattern.clone(),
        delimiter,
        max_ops_per_sec: a.max_ops_per_sec,
        top: a.top,
        ..Default::default()
    };
    let progress = std::sync::Mutex::new(ProgressLine::new());
    let report = |done: u64, total: Option<u64>| {
        let line = match total {
            Some(t) => format!("analyzing {} {done} of ~{t} keys", bar(done, t)),
            None => format!("analyzing… {done} keys"),
        };
        if let Ok(mut p) = progress.lock() {
            p.show("analyze", &line);
        }
    };
    let r = crate::analysis::analyze(redis, opt, report).await?;
    if let Ok(mut p) = progress.lock() {
        p.done();
    }
    if let Some(p) = &a.save {
        let json = serde_json::to_string(&r).map_err(|e| HeadlessError::Usage(e.to_string()))?;
        std::fs::write(p, json).map_err(|e| HeadlessError::Usage(format!("--save {}: {e}", p.display())))?;
    }
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if a.json {
        let mut v = serde_json::to_value(&r).map_err(|e| HeadlessError::Usage(e.to_string()))?;
        if let Some(old) = &old {
            v["compared"] = serde_json::json!(crate::analysis::compare(old, &r)
                .iter()
                .filter(|(_, b, n, _, _)| b != n)
                .map(|(p, b, n, kb, kn)| serde_json::json!({"prefix": p, "bytes_before": b, "bytes_now": n, "keys_before": kb, "keys_now": kn}))
                .collect::<Vec<_>>());
        }
        writeln!(o, "{}", text::json_safe(v.to_string()))?;
    } else {
        print_text(&mut o, &r, old.as_ref(), &a)?;
    }
    Ok(if r.partial.is_some() { 1 } else { 0 })
}

fn print_text(o: &mut impl Write, r: &Analysis, old: Option<&Analysis>, a: &Args) -> std::io::Result<()> {
    let hb = text::human_bytes;
    let s = |k: &str| text::sanitize_str(k);
    writeln!(
        o,
        "{} keys · {} (MEMORY USAGE of every key, summed) · {} node{} · {:.1} s · {} commands{}",
        r.keys,
        hb(r.bytes),
        r.nodes,
        if r.nodes == 1 { "" } else { "s" },
        r.took_ms as f64 / 1000.0,
        r.ops,
        if a.max_ops_per_sec > 0 { format!(" (at most {}/s)", a.max_ops_per_sec) } else { String::new() }
    )?;
    if let Some(p) = &r.partial {
        writeln!(o, "PARTIAL: the pass ended early ({}); the figures are of the keys read", s(p))?;
    }
    if r.gone > 0 || r.unmeasured > 0 {
        writeln!(o, "{} keys expired or were deleted during the pass; {} had no MEMORY USAGE", r.gone, r.unmeasured)?;
    }
    writeln!(o, "\nBY TYPE")?;
    for t in &r.by_type {
        writeln!(o, "  {:<12} {:>10} keys {:>12}", s(&t.ktype), t.keys, hb(t.bytes))?;
    }
    writeln!(o, "\nNAMESPACES (by \"{}\", ids folded into *; most memory first)", s(&r.delimiter))?;
    writeln!(o, "  {:<44} {:>10} {:>12}   TTL {}", "", "KEYS", "MEMORY", TTL_BUCKETS.join(" / "))?;
    let shown: Vec<_> = r.namespaces.iter().take(40).collect();
    for n in &shown {
        let name = format!("{}{}", "  ".repeat(n.depth - 1), s(&n.prefix));
        let ttl: Vec<String> = n.ttl.iter().map(|x| x.to_string()).collect();
        writeln!(o, "  {:<44} {:>10} {:>12}   {}", text::truncate(&name, 44), n.keys, hb(n.bytes), ttl.join(" / "))?;
    }
    if r.namespaces.len() > shown.len() {
        writeln!(o, "  … {} more namespaces (--json lists every one)", r.namespaces.len() - shown.len())?;
    }
    if r.namespaces_folded > 0 {
        writeln!(
            o,
            "  ({} keys counted under \"(other …)\": more than {} namespaces at a level)",
            r.namespaces_folded,
            crate::analysis::NAMESPACE_CAP
        )?;
    }
    let keys = |o: &mut dyn Write, title: &str, list: &[crate::analysis::KeyStat]| -> std::io::Result<()> {
        writeln!(o, "\n{title}")?;
        for k in list.iter().take(20) {
            let n = match (k.elements, k.ktype.as_str()) {
                (Some(e), "string") => hb(e),
                (Some(e), _) => format!("{e} el."),
                (None, _) => "-".into(),
            };
            let ttl = k.ttl_ms.map(|t| format!("TTL {}", text::human_ms(t))).unwrap_or_else(|| "no TTL".into());
            writeln!(o, "  {:>12} {:>12} {:<8} {:<12} {}", hb(k.bytes), n, s(&k.ktype), ttl, s(&k.key))?;
        }
        if list.len() > 20 {
            writeln!(o, "  … {} more in --json", list.len() - 20)?;
        }
        Ok(())
    };
    keys(o, "BIGGEST KEYS BY MEMORY", &r.top_by_memory)?;
    keys(o, "BIGGEST KEYS BY LENGTH (elements; bytes for strings)", &r.top_by_elements)?;
    writeln!(o, "\nLEAK SUSPECTS (most keys of the namespace expire, these do not)")?;
    if r.leak_suspects.is_empty() {
        writeln!(o, "  none")?;
    }
    for l in &r.leak_suspects {
        writeln!(o, "  {:<44} {} of {} keys without a TTL ({})", s(&l.prefix), l.without_ttl, l.keys, hb(l.bytes))?;
    }
    writeln!(o, "\nEXPIRING WITHIN A MINUTE: {} keys", r.expiring_within_1m)?;
    for k in r.expiring_keys.iter().take(10) {
        writeln!(o, "  {:>8} {}", k.ttl_ms.map(text::human_ms).unwrap_or_default(), s(&k.key))?;
    }
    if let Some(old) = old {
        writeln!(
            o,
            "\nCOMPARED WITH THE ANALYSIS OF {} (growth first)",
            crate::domain::Ts { secs: old.started, nanos: 0 }.to_rfc3339()
        )?;
        for (p, b, n, kb, kn) in crate::analysis::compare(old, r).iter().filter(|x| x.1 != x.2).take(30) {
            let d = *n as i128 - *b as i128;
            let sign = if d >= 0 { "+" } else { "-" };
            writeln!(
                o,
                "  {:<44} {sign}{:>11}  {} → {}  keys {kb} → {kn}",
                s(p),
                hb(d.unsigned_abs() as u64),
                hb(*b),
                hb(*n)
            )?;
        }
    }
    Ok(())
}
