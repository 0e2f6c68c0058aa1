//! `memscope health`: the tiers' state, once or `--watch`ed, as a table or JSON.

use super::HeadlessError;
use crate::config::Config;
use crate::text;
use std::io::Write;

/// `memscope health [--json] [--watch]`: returns the exit code. `--record` is done by the
/// backend's poller, as in the TUI.
pub async fn health(cfg: &Config, json: bool, watch: bool) -> Result<u8, HeadlessError> {
    use crate::health::{History, Level};
    let probes = crate::health::Probe::configured(cfg);
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
    // --watch: a round of lines, one per tier in the configured order (the probes answer in any
    // order); printed when every tier has answered, or when one answers again first.
    let mut round: std::collections::BTreeMap<usize, String> = Default::default();
    let mut round_since: Option<std::time::Instant> = None;
    let flush = |round: &mut std::collections::BTreeMap<usize, String>| -> std::io::Result<()> {
        let mut o = out.lock();
        for l in std::mem::take(round).into_values() {
            writeln!(o, "{l}")?;
        }
        o.flush()
    };
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
        let late = s.answered_late.then(|| s.latency_ms.map(|l| format!(" · answered after {l:.0} ms"))).flatten();
        let st = hist.push(*s, keep, &t);
        if watch && let Some(st) = st {
            let clock =
                crate::domain::Ts { secs: hist.samples[&probe].back().map(|x| x.wall_secs).unwrap_or(0), nanos: 0 }
                    .to_rfc3339();
            let lat = st.figures.latency_ms.map(|l| format!("{l:.1} ms")).unwrap_or_else(|| "-".into());
            let figures = st.figures.summary().join(" · ");
            let err =
                st.last_error.as_deref().map(|e| format!(" {}", text::sanitize_str(e))).or(late).unwrap_or_default();
            let line =
                format!("{} {:<9} {:<4} {lat:>9}  {figures}{err}", &clock[11..19], probe.name(), st.level.name());
            let at = probes.iter().position(|p| *p == probe).unwrap_or(usize::MAX);
            // A tier that answers again before the others have: its newer line takes the old
            // one's place, so every round lists the tiers in order — unless the round has waited
            // three intervals (a tier that stopped reporting): then what it holds is printed.
            let waited = round_since.is_some_and(|t: std::time::Instant| {
                t.elapsed() >= std::time::Duration::from_millis(cfg.health.interval_ms * 3)
            });
            if round.contains_key(&at) && waited {
                flush(&mut round)?;
            }
            if round.is_empty() {
                round_since = Some(std::time::Instant::now());
            }
            round.insert(at, line);
            if round.len() == probes.len() {
                flush(&mut round)?;
            }
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
            last_good: None,
            probe: *p,
            level: Level::Down,
            latency_p50: None,
            latency_p99: None,
            errors: 0,
            conditions: vec![("down".into(), Level::Down, "no answer to the health probe".into())],
            figures: Default::default(),
            last_error: Some("no answer to the health probe".into()),
            cluster: None,
        });
        worst = worst.max(st.level);
        rows.push(st);
    }
    let mut o = out.lock();
    if json {
        let rows = serde_json::Value::Array(rows.iter().map(crate::health::status_json).collect());
        writeln!(o, "{}", text::json_safe(rows.to_string()))?;
    } else if !watch {
        // Latency now (the state follows it), the window's p50/p99, the key figures; then each
        // alert on a line of its own, whole.
        writeln!(o, "{:<10} {:<5} {:>8} {:>8} {:>8}  FIGURES", "TIER", "STATE", "NOW MS", "P50 MS", "P99 MS")?;
        for st in &rows {
            let f = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
            writeln!(
                o,
                "{:<10} {:<5} {:>8} {:>8} {:>8}  {}",
                st.probe.name(),
                st.level.name(),
                f(st.figures.latency_ms),
                f(st.latency_p50),
                f(st.latency_p99),
                st.figures.summary().join(" · ")
            )?;
            for (_, l, m) in &st.conditions {
                writeln!(o, "{:<10} {:<5} {}", "", l.name(), text::sanitize_str(m))?;
            }
            // A cluster: a row per node under the redis tier.
            for n in st.cluster.iter().flat_map(|c| &c.nodes) {
                let state = if n.error.is_some() { "DOWN" } else { "OK" };
                let what = match &n.error {
                    Some(e) => text::sanitize_str(e),
                    None => format!("{} keys · {}", n.keys, text::human_bytes(n.used_memory)),
                };
                writeln!(o, "  {:<8} {:<5} {:>8} {:>8} {:>8}  {} {what}", "node", state, f(n.ping_ms), "", "", n.addr)?;
            }
        }
    }
    Ok(worst.exit_code())
}

/// `memscope replay FILE --summary [--json]`: each tier's episodes and events, for the incident
/// channel; the file is streamed.
pub fn replay_summary(cfg: &Config, file: &std::path::Path, json: bool) -> Result<(), HeadlessError> {
    let sum = crate::replay::summarize(file, &cfg.health.thresholds, cfg.health.window_s * 1000)
        .map_err(HeadlessError::Usage)?;
    let mut o = std::io::stdout().lock();
    if json {
        writeln!(o, "{}", text::json_safe(sum.json().to_string()))?;
    } else {
        write!(o, "{}", sum.text())?;
    }
    Ok(())
}
