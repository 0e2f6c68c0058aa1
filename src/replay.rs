//! An incident, recorded and replayed: the `--record` file's format (a sample a JSON line,
//! [`sample_json`] / [`sample_from_json`]), its samples read back ([`read`]) for the
//! Health tab's time cursor, and the summary an on-call engineer pastes into the incident
//! channel ([`summarize`]: each tier's episodes with start, end, duration, worst latency, peak
//! miss rate, and its restarts). The summary streams the file (twice: the episodes, then their
//! worst figures), so a day of samples at 1 s costs no more memory than the alert list.

use crate::config::Thresholds;
use crate::domain::{IndexStats, RedisHealth};
use crate::health::{Alert, History, Probe, Sample};
use std::io::BufRead;

// ---------- the recording's format: one sample a JSON line ----------

/// A sample as one JSON line (`--record`).
pub fn sample_json(s: &Sample) -> serde_json::Value {
    use serde_json::json;
    json!({
        "tier": s.probe.name(),
        "mono_ms": s.mono_ms,
        "wall": s.wall_secs,
        "error": s.error,
        "latency_ms": s.latency_ms,
        "redis": s.redis.as_ref().map(|h| json!({
            "ping_ms": h.ping_ms, "used_memory": h.used_memory, "maxmemory": h.maxmemory,
            "keyspace_hits": h.keyspace_hits, "keyspace_misses": h.keyspace_misses,
            "own_hits": h.own_hits, "own_misses": h.own_misses,
            "evicted_keys": h.evicted_keys, "expired_keys": h.expired_keys, "ops_per_sec": h.ops_per_sec,
            "connected_clients": h.connected_clients, "blocked_clients": h.blocked_clients,
            "rejected_connections": h.rejected_connections, "slowlog_len": h.slowlog_len,
            "keyspace": h.keyspace.iter().map(|d| json!({"db": d.db, "keys": d.keys, "expires": d.expires})).collect::<Vec<_>>(),
            "run_id": h.run_id, "uptime_s": h.uptime_s, "master_addr": h.master_addr,
        })),
        "documents": s.documents,
        "vectors": s.vectors.as_ref().map(|v| json!({
            "total": v.total, "dimension": v.dimension, "fullness": v.fullness,
            "namespaces": v.namespaces.iter().map(|(n, c)| json!({"name": n, "vectors": c})).collect::<Vec<_>>(),
        })),
        "calls": s.calls,
        "errors": s.errors,
        "no_answer_ms": s.no_answer_ms,
        "answered_late": s.answered_late,
        "model_check": s.model_check.as_ref().map(|c| json!({"agrees": c.agrees, "said": c.said, "wall": c.wall_secs})),
    })
}

/// A `--record` line read back ([`sample_json`]'s inverse). `None` for a line
/// that is not a sample. Slow-log entries and cluster nodes are not recorded.
pub fn sample_from_json(v: &serde_json::Value) -> Option<Sample> {
    use serde_json::Value as J;
    let probe = Probe::ALL.into_iter().find(|p| v.get("tier").and_then(J::as_str) == Some(p.name()))?;
    let u = |o: &J, k: &str| o.get(k).and_then(J::as_u64).unwrap_or(0);
    let redis = v.get("redis").filter(|r| r.is_object()).map(|r| RedisHealth {
        ping_ms: r.get("ping_ms").and_then(J::as_f64).unwrap_or(0.0),
        used_memory: u(r, "used_memory"),
        maxmemory: u(r, "maxmemory"),
        keyspace_hits: u(r, "keyspace_hits"),
        keyspace_misses: u(r, "keyspace_misses"),
        own_hits: u(r, "own_hits"),
        own_misses: u(r, "own_misses"),
        evicted_keys: u(r, "evicted_keys"),
        expired_keys: u(r, "expired_keys"),
        ops_per_sec: r.get("ops_per_sec").and_then(J::as_f64).unwrap_or(0.0),
        connected_clients: u(r, "connected_clients"),
        blocked_clients: u(r, "blocked_clients"),
        rejected_connections: u(r, "rejected_connections"),
        slowlog_len: u(r, "slowlog_len"),
        keyspace: r
            .get("keyspace")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .map(|d| crate::domain::DbInfo {
                        db: u(d, "db") as u32,
                        keys: u(d, "keys"),
                        expires: u(d, "expires"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        run_id: r.get("run_id").and_then(J::as_str).unwrap_or_default().to_string(),
        uptime_s: u(r, "uptime_s"),
        master_addr: r.get("master_addr").and_then(J::as_str).map(str::to_string),
        ..Default::default()
    });
    let vectors = v.get("vectors").filter(|x| x.is_object()).map(|x| IndexStats {
        dimension: x.get("dimension").and_then(J::as_u64).map(|d| d as u32),
        metric: None,
        total: u(x, "total"),
        fullness: x.get("fullness").and_then(J::as_f64),
        namespaces: x
            .get("namespaces")
            .and_then(J::as_array)
            .map(|a| {
                a.iter()
                    .map(|n| (n.get("name").and_then(J::as_str).unwrap_or_default().to_string(), u(n, "vectors")))
                    .collect()
            })
            .unwrap_or_default(),
        detail: None,
    });
    Some(Sample {
        probe,
        mono_ms: v.get("mono_ms").and_then(J::as_u64)?,
        wall_secs: v.get("wall").and_then(J::as_i64)?,
        error: v.get("error").and_then(J::as_str).map(str::to_string),
        latency_ms: v.get("latency_ms").and_then(J::as_f64),
        redis,
        documents: v.get("documents").and_then(J::as_u64),
        vectors,
        calls: u(v, "calls"),
        errors: u(v, "errors"),
        own_ms: vec![],
        no_answer_ms: v.get("no_answer_ms").and_then(J::as_u64),
        answered_late: v.get("answered_late").and_then(J::as_bool).unwrap_or(false),
        model_check: v.get("model_check").and_then(|c| {
            Some(crate::health::ModelCheck {
                agrees: c.get("agrees")?.as_bool()?,
                said: c.get("said")?.as_str()?.to_string(),
                wall_secs: c.get("wall")?.as_i64()?,
            })
        }),
    })
}

// ---------- reading a recording ----------

/// A recording read whole, in time order, for the time cursor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    pub file: String,
    pub samples: Vec<Sample>,
    /// Lines that were not samples (a cut last line, another file's).
    pub skipped: usize,
}

/// Every sample of a recording, one after the other: (sample, lines skipped so far). Runs
/// appended to one file each count their own `mono_ms` from 0; the samples come out on one
/// clock, each run continuing where the last left off by the wall clock.
fn stream(path: &std::path::Path, mut each: impl FnMut(Sample)) -> Result<usize, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut skipped, mut base, mut last): (usize, i64, Option<(u64, i64, u64)>) = (0, 0, None);
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        let Some(mut s) = serde_json::from_str(&line).ok().as_ref().and_then(sample_from_json) else {
            skipped += usize::from(!line.trim().is_empty());
            continue;
        };
        if let Some((orig, wall, norm)) = last
            && s.mono_ms < orig
        {
            // A new run: its clock restarts at 0.
            base = norm as i64 + (s.wall_secs - wall).max(1) * 1000 - s.mono_ms as i64;
        }
        let orig = s.mono_ms;
        s.mono_ms = (orig as i64 + base).max(0) as u64;
        last = Some((orig, s.wall_secs, s.mono_ms));
        each(s);
    }
    Ok(skipped)
}

/// Read a recording whole (the time cursor moves over all of it).
pub fn read(path: &std::path::Path) -> Result<Recording, String> {
    let mut samples = Vec::new();
    let skipped = stream(path, |s| samples.push(s))?;
    if samples.is_empty() {
        return Err(format!(
            "{}: no health samples in it (record them with `memscope --record FILE` or `memscope health --watch --record FILE`)",
            path.display()
        ));
    }
    samples.sort_by_key(|s| s.mono_ms);
    Ok(Recording { file: path.display().to_string(), samples, skipped })
}

/// One episode of one tier: an alert, with the worst its samples showed meanwhile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Episode {
    pub tier: &'static str,
    pub level: &'static str,
    pub key: String,
    pub message: String,
    pub start: i64,
    /// `None`: still on when the recording ends.
    pub end: Option<i64>,
    pub duration_s: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_miss_rate: Option<f64>,
}

/// What a recording says happened.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub file: String,
    pub from: i64,
    pub to: i64,
    pub samples: u64,
    pub skipped: usize,
    /// Tiers recorded, in `memscope health`'s order.
    pub tiers: Vec<&'static str>,
    /// Episodes (alerts that lasted) and events (restarts, failovers), by start.
    pub episodes: Vec<Episode>,
    pub events: Vec<Episode>,
}

/// The recording's episodes: alerts from the same evaluation as the Health tab, then each
/// one's worst latency and peak miss rate from a second pass over its samples.
pub fn summarize(path: &std::path::Path, t: &Thresholds, keep_ms: u64) -> Result<Summary, String> {
    let mut h = History::default();
    let (mut from, mut to, mut n) = (i64::MAX, i64::MIN, 0u64);
    let mut tiers = std::collections::BTreeSet::new();
    let mut alerts: Vec<Alert> = Vec::new();
    let skipped = stream(path, |s| {
        (from, to, n) = (from.min(s.wall_secs), to.max(s.wall_secs), n + 1);
        tiers.insert(s.probe);
        h.push(s, keep_ms, t);
        // The history keeps the newest 500 alerts: take them as they come.
        if h.alerts.len() > 400 {
            alerts.extend(h.alerts.drain(..300));
        }
    })?;
    if n == 0 {
        return Err(format!("{}: no health samples in it", path.display()));
    }
    alerts.append(&mut h.alerts);
    let mut episodes: Vec<Episode> = alerts
        .iter()
        .map(|a| Episode {
            tier: a.probe.name(),
            level: a.level.name(),
            key: a.key.clone(),
            message: a.message.clone(),
            start: a.started_wall,
            end: a.ended_wall,
            duration_s: a.ended_wall.unwrap_or(to) - a.started_wall,
            worst_latency_ms: None,
            peak_miss_rate: None,
        })
        .collect();
    // Second pass: the worst each episode's tier showed between its start and end.
    let mut prev_redis: Option<Sample> = None;
    stream(path, |s| {
        let miss = match (&prev_redis, &s.redis) {
            (Some(p), Some(cur)) if s.probe == Probe::Redis => p.redis.as_ref().and_then(|ph| {
                let secs = s.mono_ms.saturating_sub(p.mono_ms) as f64 / 1000.0;
                crate::health::redis_interval(ph, cur, secs).0
            }),
            _ => None,
        };
        let lat = s.latency_ms.or(s.no_answer_ms.map(|ms| ms as f64));
        for e in episodes.iter_mut().filter(|e| e.tier == s.probe.name()) {
            if s.wall_secs < e.start || s.wall_secs > e.end.unwrap_or(i64::MAX) {
                continue;
            }
            if let Some(l) = lat {
                e.worst_latency_ms = Some(e.worst_latency_ms.map_or(l, |w| w.max(l)));
            }
            if let Some(m) = miss {
                e.peak_miss_rate = Some(e.peak_miss_rate.map_or(m, |w| w.max(m)));
            }
        }
        if s.redis.is_some() {
            prev_redis = Some(s);
        }
    })?;
    let (events, episodes): (Vec<Episode>, Vec<Episode>) =
        episodes.into_iter().partition(|e| e.key == "restart" || e.key == "failover");
    let tiers = Probe::ALL.into_iter().filter(|p| tiers.contains(p)).map(Probe::name).collect();
    Ok(Summary { file: path.display().to_string(), from, to, samples: n, skipped, tiers, episodes, events })
}

fn clock(secs: i64) -> String {
    let t = crate::domain::Ts { secs, nanos: 0 }.to_rfc3339();
    t.get(11..19).unwrap_or(&t).to_string()
}

fn day_clock(secs: i64) -> String {
    let t = crate::domain::Ts { secs, nanos: 0 }.to_rfc3339();
    format!("{} {}", t.get(..10).unwrap_or(&t), t.get(11..19).unwrap_or(""))
}

impl Summary {
    /// The paragraph for the incident channel: a line for the recording, then per tier its
    /// episodes (start → end, duration, what, worst latency, peak miss rate) and events.
    pub fn text(&self) -> String {
        let mut out = format!(
            "Health recorded {} → {} UTC ({}, {} samples of {}){}\n",
            day_clock(self.from),
            clock(self.to),
            crate::text::human_ms((self.to - self.from) * 1000),
            crate::text::num(self.samples),
            self.tiers.join(", "),
            if self.skipped > 0 { format!("; {} lines were not samples", self.skipped) } else { String::new() }
        );
        for tier in &self.tiers {
            let eps: Vec<&Episode> = self.episodes.iter().filter(|e| e.tier == *tier).collect();
            let evs: Vec<&Episode> = self.events.iter().filter(|e| e.tier == *tier).collect();
            if eps.is_empty() && evs.is_empty() {
                out.push_str(&format!("{tier}: OK throughout\n"));
                continue;
            }
            out.push_str(&format!(
                "{tier}: {} episode{}{}\n",
                eps.len(),
                if eps.len() == 1 { "" } else { "s" },
                if evs.is_empty() {
                    String::new()
                } else {
                    format!(", {} event{}", evs.len(), if evs.len() == 1 { "" } else { "s" })
                }
            ));
            let mut lines: Vec<(i64, String)> = Vec::new();
            for e in eps {
                let end = match e.end {
                    Some(end) => clock(end),
                    None => "still on at the end".into(),
                };
                let mut l = format!(
                    "  {:<4} {} → {} ({}) {}",
                    e.level,
                    clock(e.start),
                    end,
                    crate::text::human_ms(e.duration_s * 1000),
                    crate::text::sanitize_str(&e.message)
                );
                if let Some(w) = e.worst_latency_ms {
                    l.push_str(&format!(" · worst latency {w:.1} ms"));
                }
                if let Some(m) = e.peak_miss_rate {
                    l.push_str(&format!(" · peak miss rate {:.0}%", m * 100.0));
                }
                lines.push((e.start, l));
            }
            for e in evs {
                lines.push((e.start, format!("  {}", crate::text::sanitize_str(&e.message))));
            }
            lines.sort_by_key(|l| l.0);
            for (_, l) in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The time cursor over a recording: where it is, and the history up to there.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub recording: Recording,
    /// Index of the newest sample shown.
    pub at: usize,
    /// Every alert of the whole recording (for `[` / `]`).
    pub alerts: Vec<Alert>,
}

impl Cursor {
    pub fn new(recording: Recording, t: &Thresholds, keep_ms: u64) -> Cursor {
        let mut h = History::default();
        let mut alerts = Vec::new();
        for s in &recording.samples {
            h.push(s.clone(), keep_ms, t);
            if h.alerts.len() > 400 {
                alerts.extend(h.alerts.drain(..300));
            }
        }
        alerts.append(&mut h.alerts);
        let at = recording.samples.len().saturating_sub(1);
        Cursor { recording, at, alerts }
    }

    /// The wall time (Unix seconds) at the cursor.
    pub fn wall(&self) -> i64 {
        self.recording.samples.get(self.at).map_or(0, |s| s.wall_secs)
    }

    /// Move by `secs` of recorded time (negative: back), to the newest sample at or before —
    /// and at least one sample, so a gap longer than the step (a probe late under load, a
    /// freeze) never holds the cursor in place.
    pub fn step(&mut self, secs: i64) {
        let s = &self.recording.samples;
        let Some(cur) = s.get(self.at) else { return };
        let target = cur.mono_ms as i64 + secs * 1000;
        let within = s.iter().rposition(|x| x.mono_ms as i64 <= target);
        self.at = if secs >= 0 {
            within.unwrap_or(self.at).max((self.at + 1).min(s.len() - 1))
        } else {
            within.unwrap_or(0).min(self.at.saturating_sub(1))
        };
    }

    pub fn to_start(&mut self) {
        self.at = 0;
    }

    pub fn to_end(&mut self) {
        self.at = self.recording.samples.len().saturating_sub(1);
    }

    /// To the next (or previous) alert's start; false when there is none that way.
    pub fn jump_alert(&mut self, forward: bool) -> bool {
        let now = self.wall();
        let target = if forward {
            self.alerts.iter().map(|a| a.started_wall).filter(|w| *w > now).min()
        } else {
            self.alerts.iter().map(|a| a.started_wall).filter(|w| *w < now).max()
        };
        let Some(w) = target else { return false };
        let s = &self.recording.samples;
        self.at = s.iter().position(|x| x.wall_secs >= w).unwrap_or(s.len().saturating_sub(1));
        // The sample that shows the alert open: the first at its start or after.
        true
    }

    /// The history as it was at the cursor: the samples of the `keep_ms` before it, and the
    /// alerts started by then (those that ended later shown open). O(window) per step: the
    /// alerts were evaluated once, when the recording was loaded.
    pub fn history(&self, keep_ms: u64) -> History {
        let s = &self.recording.samples;
        let mut h = History::default();
        let Some(cur) = s.get(self.at) else { return h };
        let from = s.partition_point(|x| x.mono_ms + keep_ms < cur.mono_ms);
        for x in &s[from..=self.at] {
            h.samples.entry(x.probe).or_default().push_back(x.clone());
        }
        let wall = cur.wall_secs;
        h.alerts = self
            .alerts
            .iter()
            .filter(|a| a.started_wall <= wall)
            .map(|a| Alert { ended_wall: a.ended_wall.filter(|e| *e <= wall), ..a.clone() })
            .collect();
        h
    }
}

/// Read a recording and evaluate its alerts once (seconds for a day of samples: run it off
/// the UI thread).
pub fn load(path: &std::path::Path, t: &Thresholds, keep_ms: u64) -> Result<Cursor, String> {
    Ok(Cursor::new(read(path)?, t, keep_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mono: &[u64]) -> Cursor {
        let samples = mono
            .iter()
            .map(|&m| Sample {
                latency_ms: Some(1.0),
                ..Sample::at(crate::health::Probe::Redis, m, 1_700_000_000 + (m / 1000) as i64)
            })
            .collect();
        let rec = Recording { file: "r.jsonl".into(), samples, skipped: 0 };
        let mut c = Cursor::new(rec, &Default::default(), 60_000);
        c.to_start();
        c
    }

    #[test]
    fn a_step_moves_at_least_one_sample_across_a_gap() {
        // A probe 1.5 s late after the first sample: a second on still moves.
        let mut c = at(&[0, 1500, 2000, 2400, 5000]);
        c.step(1);
        assert_eq!(c.at, 1);
        c.step(1);
        assert_eq!(c.at, 3, "the newest sample within the second");
        c.step(1);
        assert_eq!(c.at, 4, "across the gap");
        c.step(1);
        assert_eq!(c.at, 4, "the end holds");
        c.step(-1);
        assert_eq!(c.at, 3, "a second back across the gap: one sample");
        c.step(-1);
        assert_eq!(c.at, 0, "the newest at or before 1.4 s");
        c.to_start();
        c.step(-1);
        assert_eq!(c.at, 0, "the start holds");
    }
}
