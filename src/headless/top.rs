//! `memscope top [--seconds N] [--max-lines N] [--filter F] [--json]`: a bounded profiling
//! session (MONITOR), then its tables — commands by rate and by server time, hot keys with
//! their namespace, clients with their names, per node on a cluster, and the server's own
//! HOTKEYS and INFO KEYSIZES where it has them — each saying its source.

use super::HeadlessError;
use crate::analysis::profile::{self, Limits, TailFilter};
use crate::config::Config;
use std::io::Write;

pub async fn top(
    cfg: &Config,
    seconds: u64,
    max_lines: u64,
    filter: Option<&str>,
    json_out: bool,
) -> Result<u8, HeadlessError> {
    let store = crate::tiers::redis(cfg, None)?;
    let limits = Limits {
        seconds: seconds.max(1),
        max_lines: max_lines.max(1),
        delimiter: cfg.redis_settings().delimiter.clone(),
        tail_rows: 20,
    };
    eprintln!("{} — for {} s or {} commands", profile::COST_WARNING, limits.seconds, limits.max_lines);
    let f = std::sync::Arc::new(std::sync::Mutex::new(TailFilter::parse(filter.unwrap_or(""))));
    let last = profile::session(store, limits, f, |_| {}).await;
    let failed = last.stopped.as_deref().is_some_and(|w| w.starts_with("stopped:"));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json_out {
        writeln!(out, "{}", crate::text::json_safe(profile::snapshot_json(&last).to_string()))?;
    } else {
        for l in profile::lines(&last) {
            writeln!(out, "{l}")?;
        }
        if !last.tail.is_empty() {
            writeln!(out, "last commands:")?;
            for l in &last.tail {
                writeln!(out, "  {l}")?;
            }
        }
    }
    Ok(if failed { 2 } else { 0 })
}
