//! `memscope analyze [PATTERN]`: what is eating Redis, from one pass over the whole keyspace —
//! as text, or one JSON object (`--json`); saved (`--save FILE`) and compared with an earlier
//! one (`--compare FILE`).

use super::{HeadlessError, ProgressLine, bar};
use crate::analysis::{Analysis, Options};
use crate::config::Config;
use crate::text;
use std::io::Write;

pub struct Args {
    pub pattern: String,
    pub json: bool,
    /// `--max-ops-per-sec`; None: the profile's `max_ops_per_sec`.
    pub max_ops_per_sec: Option<u64>,
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
    let delimiter = cfg.redis_settings().delimiter.clone();
    let max_ops = a.max_ops_per_sec.unwrap_or(cfg.redis_settings().max_ops_per_sec);
    let opt =
        Options { pattern: a.pattern.clone(), delimiter, max_ops_per_sec: max_ops, top: a.top, ..Default::default() };
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
        let limit = (max_ops > 0).then_some(max_ops);
        write!(o, "{}", crate::analysis::report_text(&r, old.as_ref(), limit))?;
    }
    Ok(if r.partial.is_some() { 1 } else { 0 })
}
