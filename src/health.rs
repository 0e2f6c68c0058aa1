//! Health: samples from the poller, and the pure evaluation of a window of them — latency
//! percentiles, interval rates (the application's miss rate: memscope's own lookups taken out),
//! a time-to-full projection from the size trend, levels against thresholds, and alerts that
//! remember when they started and ended. The Health tab and `memscope health` share all of it.
//! One concern — samples in, states and alerts out — at some 700 lines and 135 of tests (the embedder's model check joined it); the
//! `--record` format and the replay live in `replay.rs`, the drawing in `ui/health.rs`.

use crate::config::Thresholds;
use crate::domain::{IndexStats, RedisHealth};
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Ok,
    Warn,
    Crit,
    Down,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Crit => "CRIT",
            Level::Down => "DOWN",
        }
    }
    /// `memscope health` exit codes: 0 OK, 1 WARN, 2 CRIT, 3 DOWN.
    pub fn exit_code(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Probe {
    Redis,
    LongTerm,
    Vector,
    Embedder,
}

impl Probe {
    pub const ALL: [Probe; 4] = [Probe::LongTerm, Probe::Redis, Probe::Vector, Probe::Embedder];

    /// The probes a profile's tiers call for, in the order they are shown.
    pub fn configured(cfg: &crate::config::Config) -> Vec<Probe> {
        let mut out = Vec::new();
        if cfg.long_term.is_some() {
            out.push(Probe::LongTerm);
        }
        if cfg.redis.is_some() {
            out.push(Probe::Redis);
        }
        if cfg.vector.is_some() {
            out.extend([Probe::Vector, Probe::Embedder]);
        }
        out
    }

    pub fn name(self) -> &'static str {
        match self {
            Probe::Redis => "redis",
            Probe::LongTerm => "long_term",
            Probe::Vector => "vector",
            Probe::Embedder => "embedder",
        }
    }
}

/// One probe of one tier.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub probe: Probe,
    /// Monotonic milliseconds since start (the UI's clock).
    pub mono_ms: u64,
    /// Unix seconds.
    pub wall_secs: i64,
    pub error: Option<String>,
    /// Round trip of the probe's small request.
    pub latency_ms: Option<f64>,
    pub redis: Option<RedisHealth>,
    /// Firestore/SQLite: conversation count (heavy probe, not every sample).
    pub documents: Option<u64>,
    pub vectors: Option<IndexStats>,
    /// memscope's own calls to the tier and how many failed (cumulative).
    pub calls: u64,
    pub errors: u64,
    /// Durations of memscope's own calls since the previous sample (ms).
    pub own_ms: Vec<f64>,
    /// The tier has not answered for this long (ms): a probe is still out past its deadline.
    /// Such a sample is sent while the silence lasts; it carries no figures.
    pub no_answer_ms: Option<u64>,
    /// The probe answered after a silence: the tier is back, and its round trip (the silence)
    /// belongs to the outage, not to the latency now.
    pub answered_late: bool,
    /// The embedder's last self-check against the stored vectors (re-run every
    /// [`MODEL_CHECK_EVERY_S`]), carried by each embedder sample with its time.
    pub model_check: Option<ModelCheck>,
}

/// Whether the configured embedder made the vectors the index holds ([`crate::search::check_embedder`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCheck {
    /// Same model, and no record disagrees.
    pub agrees: bool,
    pub said: String,
    /// Unix seconds of the check.
    pub wall_secs: i64,
}

/// How often the Health poller re-embeds stored texts to check the embedder (20 texts a time).
pub const MODEL_CHECK_EVERY_S: u64 = 600;

/// Unix seconds now.
pub fn wall_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Sample {
    /// A sample of `probe` at these times with nothing measured yet (the poller and tests fill
    /// in what they have).
    pub fn at(probe: Probe, mono_ms: u64, wall_secs: i64) -> Sample {
        Sample {
            probe,
            mono_ms,
            wall_secs,
            error: None,
            latency_ms: None,
            redis: None,
            documents: None,
            vectors: None,
            calls: 0,
            errors: 0,
            own_ms: vec![],
            no_answer_ms: None,
            answered_late: false,
            model_check: None,
        }
    }

    /// The tier has not answered for `waited_ms`: a sample with no figures, stamped now.
    pub fn no_answer(probe: Probe, waited_ms: u64, start: std::time::Instant) -> Sample {
        Sample { no_answer_ms: Some(waited_ms), ..Sample::at(probe, start.elapsed().as_millis() as u64, wall_now()) }
    }

    /// A probe that failed or got no answer: no figures of the tier now.
    pub fn is_outage(&self) -> bool {
        self.error.is_some() || self.no_answer_ms.is_some()
    }

    /// Whether this sample measured the tier now (answered, in time): its figures are fresh.
    pub fn is_good(&self) -> bool {
        !self.is_outage() && !self.answered_late
    }
}

/// "NO ANSWER 3.2 s": the words of a silence, everywhere it is shown.
pub fn no_answer_text(ms: u64) -> String {
    format!("NO ANSWER {:.1} s", ms as f64 / 1000.0)
}

/// A tier's key figures now, for display and JSON (`None`: not measured). Typed, so a misspelt
/// name is a compile error rather than a silent "–".
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Figures {
    /// Latency now: the highest of the newest [`RECENT`] probes' round trips and memscope's
    /// calls between them (`latency_ms.now` in `health --json`; the state follows it).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "millis")]
    pub latency_ms: Option<f64>,
    /// Share of memscope's own calls that failed in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_error_rate: Option<f64>,
    /// Redis: bytes in use.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub used_memory: Option<f64>,
    /// Redis: instantaneous operations per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ops_per_sec: Option<f64>,
    /// Redis: connected clients.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub connected_clients: Option<f64>,
    /// Redis: clients blocked in a blocking command.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub blocked_clients: Option<f64>,
    /// Redis: connections rejected (maxclients), since start.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub rejected_connections: Option<f64>,
    /// Redis: entries in the slow log.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub slowlog_len: Option<f64>,
    /// Redis: keys in every database.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub keys: Option<f64>,
    /// Redis: used memory as % of maxmemory (when set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_pct: Option<f64>,
    /// Redis: seconds until maxmemory at the window's rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_full_s: Option<f64>,
    /// Redis: evictions per second over the newest interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evicted_per_s: Option<f64>,
    /// Redis: expirations per second over the newest interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_per_s: Option<f64>,
    /// Redis: the application's keyspace lookups in the newest interval (memscope's own excluded).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub app_lookups: Option<f64>,
    /// Redis: the application's miss rate in the newest interval (0–1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miss_rate: Option<f64>,
    /// Long-term: conversations counted.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub conversations: Option<f64>,
    /// Vector: records in the index.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub vectors: Option<f64>,
    /// Vector: namespaces.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub namespaces: Option<f64>,
    /// Vector: the index's dimension.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "count")]
    pub dimension: Option<f64>,
    /// Vector: the index's fullness (0–1), when the service says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fullness: Option<f64>,
}

/// A count as JSON: an integer (`"keys": 155`, never `155.0`).
fn count<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.serialize_u64(x.max(0.0).round() as u64),
        None => s.serialize_none(),
    }
}

/// Milliseconds to 0.1 µs (`0.2731`, not `0.27310800000000004`).
pub fn round_ms(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 1e4).round() / 1e4)
}

fn millis<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match round_ms(*v) {
        Some(x) => s.serialize_f64(x),
        None => s.serialize_none(),
    }
}

impl Figures {
    /// The figures a person reads first, as `name value` (the table of `memscope health`).
    pub fn summary(&self) -> Vec<String> {
        let pct = |x: f64| format!("{:.0}%", x * 100.0);
        let n = |x: f64| format!("{x:.0}");
        // No lookups in the interval: no miss rate to speak of, and said so.
        let no_lookups = (self.miss_rate.is_none() && self.app_lookups == Some(0.0)).then(|| "– (no lookups)".into());
        [
            ("miss rate", self.miss_rate.map(pct).or(no_lookups)),
            ("memory", self.used_memory.map(|b| crate::text::human_bytes(b as u64))),
            ("of max", self.memory_pct.map(|p| format!("{p:.0}%"))),
            ("ops/s", self.ops_per_sec.map(n)),
            ("keys", self.keys.map(n)),
            ("conversations", self.conversations.map(n)),
            ("vectors", self.vectors.map(n)),
            ("dimension", self.dimension.map(n)),
            ("fullness", self.fullness.map(pct)),
            ("calls failing", self.own_error_rate.map(pct)),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some(format!("{k} {}", v?)))
        .collect()
    }
}

/// What the evaluation says of one tier now.
#[derive(Debug, Clone, PartialEq)]
pub struct TierStatus {
    pub probe: Probe,
    pub level: Level,
    pub latency_p50: Option<f64>,
    pub latency_p99: Option<f64>,
    pub errors: u64,
    /// Conditions now: (key, level, message).
    pub conditions: Vec<(String, Level, String)>,
    /// Key figures for display and JSON.
    pub figures: Figures,
    pub last_error: Option<String>,
    /// A Redis Cluster's state and nodes, from the newest probe.
    pub cluster: Option<crate::domain::ClusterHealth>,
    /// While DOWN: what the last good probe in the window measured, and when (Unix seconds) —
    /// shown greyed with its age, never as a figure of now.
    pub last_good: Option<(Box<Figures>, i64)>,
}

pub fn percentile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    Some(s[(((s.len() - 1) as f64) * q).round() as usize])
}

/// Seconds until `series` (time s, value) reaches `limit`, from a least-squares line; `None`
/// when not rising.
pub fn time_to_full(series: &[(f64, f64)], limit: f64) -> Option<f64> {
    if series.len() < 3 || limit <= 0.0 {
        return None;
    }
    let n = series.len() as f64;
    let (mx, my) = (series.iter().map(|p| p.0).sum::<f64>() / n, series.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = series.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = series.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let last = series.last()?;
    if slope <= 0.0 {
        return None;
    }
    Some(((limit - last.1) / slope).max(0.0))
}

/// Interval figures between two Redis probes: (app miss rate, app lookups, evictions/s, expirations/s).
pub fn redis_interval(prev: &RedisHealth, cur: &RedisHealth, secs: f64) -> (Option<f64>, u64, f64, f64) {
    let d = |a: u64, b: u64| b.saturating_sub(a);
    let hits = d(prev.keyspace_hits, cur.keyspace_hits).saturating_sub(d(prev.own_hits, cur.own_hits));
    let misses = d(prev.keyspace_misses, cur.keyspace_misses).saturating_sub(d(prev.own_misses, cur.own_misses));
    let total = hits + misses;
    let rate = (total > 0).then(|| misses as f64 / total as f64);
    let secs = secs.max(0.001);
    (
        rate,
        total,
        d(prev.evicted_keys, cur.evicted_keys) as f64 / secs,
        d(prev.expired_keys, cur.expired_keys) as f64 / secs,
    )
}

fn level_of(v: f64, warn: f64, crit: f64) -> Level {
    if v >= crit {
        Level::Crit
    } else if v >= warn {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// A cluster's own alerts: its state, slots no master serves, each node that is down.
fn cluster_conditions(c: &crate::domain::ClusterHealth) -> Vec<(String, Level, String)> {
    let mut out = Vec::new();
    if c.state != "ok" {
        out.push(("cluster_state".into(), Level::Crit, format!("cluster_state:{}", c.state)));
    }
    if c.uncovered_slots > 0 {
        out.push(("uncovered_slots".into(), Level::Crit, format!("{} slots served by no master", c.uncovered_slots)));
    }
    for n in c.nodes.iter().filter(|n| n.error.is_some()) {
        let level = if n.role == "master" { Level::Crit } else { Level::Warn };
        let why = n.error.as_deref().unwrap_or("");
        out.push((format!("node:{}", n.addr), level, format!("{} {} DOWN: {why}", n.role, n.addr)));
    }
    out
}

/// Evaluate one tier over its window of samples (oldest first).
/// The newest probes the state follows (with memscope's calls between them).
pub const RECENT: usize = 3;

pub fn evaluate(probe: Probe, window: &[&Sample], t: &Thresholds) -> Option<TierStatus> {
    let last = *window.last()?;
    // memscope's calls and the probes, over the window (shown) and now (the state follows it:
    // a tier that recovered is OK again, its bad minutes stay in the window's p99).
    let lat_of = |w: &[&Sample]| -> Vec<f64> {
        w.iter().flat_map(|s| s.latency_ms.into_iter().chain(s.own_ms.iter().copied())).collect()
    };
    let lat = lat_of(window);
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    // "Now" is measured since the last outage ended: the answer that ended it carries the
    // silence as its round trip, and counts for the window only — one answer after an outage
    // makes the tier OK again.
    let since_outage = window.iter().rposition(|s| s.is_outage() || s.answered_late).map_or(0, |i| i + 1);
    let recent = &window[since_outage.max(window.len().saturating_sub(RECENT))..];
    let now = percentile(&lat_of(recent), 1.0);
    if last.is_outage() {
        return Some(outage_status(probe, window, last, p50, p99));
    }
    let mut conditions = Vec::new();
    let mut figures = Figures { latency_ms: now, ..Default::default() };
    if let Some(n) = now {
        let l = level_of(n, t.latency_warn_ms, t.latency_crit_ms);
        if l > Level::Ok {
            let w = p99.map(|p| format!(" (window p99 {p:.0} ms)")).unwrap_or_default();
            conditions.push(("latency".into(), l, format!("latency {n:.0} ms now{w}")));
        }
    }
    let errors = window.iter().filter(|s| s.is_outage()).count() as u64;
    let first = window[0];
    // A tier that is down now: its state says so; a failure share of calls made before is not
    // "0% failing".
    if last.calls > first.calls && last.error.is_none() {
        let rate = (last.errors - first.errors.min(last.errors)) as f64 / (last.calls - first.calls) as f64;
        figures.own_error_rate = Some(rate);
    }
    match probe {
        Probe::Redis => {
            if let Some(h) = &last.redis {
                figures.used_memory = Some(h.used_memory as f64);
                figures.ops_per_sec = Some(h.ops_per_sec);
                figures.connected_clients = Some(h.connected_clients as f64);
                figures.blocked_clients = Some(h.blocked_clients as f64);
                figures.rejected_connections = Some(h.rejected_connections as f64);
                figures.slowlog_len = Some(h.slowlog_len as f64);
                figures.keys = Some(h.keyspace.iter().map(|d| d.keys).sum::<u64>() as f64);
                if let Some(c) = &h.cluster {
                    conditions.extend(cluster_conditions(c));
                }
                if h.maxmemory > 0 {
                    let pct = h.used_memory as f64 * 100.0 / h.maxmemory as f64;
                    figures.memory_pct = Some(pct);
                    let l = level_of(pct, t.memory_warn_pct, t.memory_crit_pct);
                    if l > Level::Ok {
                        conditions.push(("memory".into(), l, format!("memory at {pct:.0}% of maxmemory")));
                    }
                    let series: Vec<(f64, f64)> = window
                        .iter()
                        .filter_map(|s| s.redis.as_ref().map(|r| (s.mono_ms as f64 / 1000.0, r.used_memory as f64)))
                        .collect();
                    if let Some(ttf) = time_to_full(&series, h.maxmemory as f64) {
                        figures.time_to_full_s = Some(ttf);
                        let l = if ttf <= t.time_to_full_crit_s {
                            Level::Crit
                        } else if ttf <= t.time_to_full_warn_s {
                            Level::Warn
                        } else {
                            Level::Ok
                        };
                        if l > Level::Ok {
                            conditions.push((
                                "time_to_full".into(),
                                l,
                                format!(
                                    "maxmemory reached in ~{} at this rate",
                                    crate::text::human_ms((ttf * 1000.0) as i64)
                                ),
                            ));
                        }
                    }
                }
                // Rates over the newest interval.
                let prev = window.iter().rev().skip(1).find(|s| s.redis.is_some());
                if let Some(prev) = prev
                    && let Some(ph) = &prev.redis
                {
                    let secs = (last.mono_ms.saturating_sub(prev.mono_ms)) as f64 / 1000.0;
                    let (miss, lookups, evict, expire) = redis_interval(ph, h, secs);
                    figures.evicted_per_s = Some(evict);
                    figures.expired_per_s = Some(expire);
                    figures.app_lookups = Some(lookups as f64);
                    if let Some(m) = miss {
                        figures.miss_rate = Some(m);
                        if lookups >= t.miss_rate_min_lookups {
                            let l = level_of(m, t.miss_rate_warn, t.miss_rate_crit);
                            if l > Level::Ok {
                                conditions.push(("miss_rate".into(), l, format!("cache miss rate {:.0}%", m * 100.0)));
                            }
                        }
                    }
                    let l = level_of(evict, t.evictions_warn_per_s, t.evictions_crit_per_s);
                    if l > Level::Ok {
                        conditions.push(("evictions".into(), l, format!("{evict:.1} evictions/s")));
                    }
                }
            }
        }
        Probe::LongTerm => {
            if let Some(n) = window.iter().rev().find_map(|s| s.documents) {
                figures.conversations = Some(n as f64);
            }
        }
        Probe::Vector => {
            if let Some(st) = &last.vectors {
                figures.vectors = Some(st.total as f64);
                figures.namespaces = Some(st.namespaces.len() as f64);
                if let Some(d) = st.dimension {
                    figures.dimension = Some(d as f64);
                }
                if let Some(f) = st.fullness {
                    figures.fullness = Some(f);
                    let l = level_of(f, t.fullness_warn, t.fullness_crit);
                    if l > Level::Ok {
                        conditions.push(("fullness".into(), l, format!("index {:.0}% full", f * 100.0)));
                    }
                }
            }
        }
        Probe::Embedder => {
            if let Some(c) = window.iter().rev().find_map(|s| s.model_check.as_ref()).filter(|c| !c.agrees) {
                let age = crate::text::human_ms(last.wall_secs.saturating_sub(c.wall_secs).max(0) * 1000);
                conditions.push(("model".into(), Level::Warn, format!("{} (checked {age} ago)", c.said)));
            }
        }
    }
    let level = conditions.iter().map(|c| c.1).max().unwrap_or(Level::Ok);
    Some(TierStatus {
        probe,
        level,
        latency_p50: p50,
        latency_p99: p99,
        errors,
        conditions,
        figures,
        last_error: None,
        cluster: last.redis.as_ref().and_then(|h| h.cluster.clone()),
        last_good: None,
    })
}

/// A tier that failed or does not answer now: DOWN, with no figure of now. What the last good
/// probe measured is kept aside with its time ([`TierStatus::last_good`]), never shown as now.
fn outage_status(probe: Probe, window: &[&Sample], last: &Sample, p50: Option<f64>, p99: Option<f64>) -> TierStatus {
    let why = match (last.no_answer_ms, &last.error) {
        (Some(ms), _) => no_answer_text(ms),
        (None, Some(e)) => e.clone(),
        (None, None) => String::new(),
    };
    let last_good = window.iter().rposition(|s| s.is_good()).and_then(|i| {
        let good = evaluate(probe, &window[..=i], &Thresholds::default())?;
        Some((Box::new(good.figures), window[i].wall_secs))
    });
    TierStatus {
        probe,
        level: Level::Down,
        latency_p50: p50,
        latency_p99: p99,
        errors: window.iter().filter(|s| s.is_outage()).count() as u64,
        conditions: vec![("down".into(), Level::Down, why.clone())],
        figures: Figures::default(),
        last_error: Some(why),
        cluster: None,
        last_good,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub probe: Probe,
    pub key: String,
    pub level: Level,
    pub message: String,
    pub started_wall: i64,
    pub ended_wall: Option<i64>,
}

/// Samples per tier within a window, and the alerts raised from them.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub samples: BTreeMap<Probe, VecDeque<Sample>>,
    pub alerts: Vec<Alert>,
}

impl History {
    /// Add a sample, drop those older than `keep_ms`, and update the tier's alerts.
    pub fn push(&mut self, s: Sample, keep_ms: u64, t: &Thresholds) -> Option<TierStatus> {
        let probe = s.probe;
        let now_mono = s.mono_ms;
        let wall = s.wall_secs;
        // A silence began when the unanswered probe was sent, not when its deadline passed.
        let began = s.no_answer_ms.map_or(wall, |ms| wall - (ms / 1000) as i64);
        // The answer that ends a silence says how long it lasted: the alert's worst figure.
        let silence_ms = if s.answered_late { s.latency_ms } else { None };
        let q = self.samples.entry(probe).or_default();
        // What happened between the last figures and these: a restart, a failover.
        if let Some(prev) = q.iter().rev().find(|p| p.redis.is_some()) {
            for (key, message, at) in events(prev, &s) {
                self.alerts.push(Alert {
                    probe,
                    key,
                    level: Level::Warn,
                    message,
                    started_wall: at,
                    ended_wall: Some(at),
                });
            }
        }
        let q = self.samples.entry(probe).or_default();
        q.push_back(s);
        while q.front().is_some_and(|f| now_mono.saturating_sub(f.mono_ms) > keep_ms) {
            q.pop_front();
        }
        let status = self.status(probe, keep_ms, t)?;
        // Open alerts for new conditions, close those that cleared (or changed level).
        for a in self.alerts.iter_mut().filter(|a| a.probe == probe && a.ended_wall.is_none()) {
            match status.conditions.iter().find(|(k, l, _)| *k == a.key && *l == a.level) {
                // An open alert says what holds now (a time to full, a latency), like the panel.
                Some((_, _, m)) => a.message = m.clone(),
                None => {
                    a.ended_wall = Some(wall);
                    if let Some(ms) = silence_ms.filter(|_| a.key == "down" && a.message.starts_with("NO ANSWER")) {
                        a.message = no_answer_text(ms as u64);
                    }
                }
            }
        }
        for (k, l, m) in &status.conditions {
            let open =
                self.alerts.iter().any(|a| a.probe == probe && a.ended_wall.is_none() && a.key == *k && a.level == *l);
            if !open {
                self.alerts.push(Alert {
                    probe,
                    key: k.clone(),
                    level: *l,
                    message: m.clone(),
                    started_wall: if k == "down" { began } else { wall },
                    ended_wall: None,
                });
            }
        }
        if self.alerts.len() > 500 {
            let drop = self.alerts.len() - 500;
            self.alerts.drain(..drop);
        }
        Some(status)
    }

    /// Evaluate a tier over the newest `window_ms` of its samples.
    pub fn status(&self, probe: Probe, window_ms: u64, t: &Thresholds) -> Option<TierStatus> {
        let q = self.samples.get(&probe)?;
        let newest = q.back()?.mono_ms;
        let w: Vec<&Sample> = q.iter().filter(|s| newest.saturating_sub(s.mono_ms) <= window_ms).collect();
        evaluate(probe, &w, t)
    }
}

/// Events between two probes of a tier's figures: a restart (a new `run_id`), with when it
/// started and what the keys went from and to; a failover (a replica that is a master now).
pub fn events(prev: &Sample, cur: &Sample) -> Vec<(String, String, i64)> {
    let (Some(a), Some(b)) = (&prev.redis, &cur.redis) else { return vec![] };
    let mut out = Vec::new();
    let keys = |h: &RedisHealth| crate::text::num(h.keyspace.iter().map(|d| d.keys).sum());
    if let (Some(from), Some(to)) = (&a.master_addr, &b.master_addr)
        && from != to
    {
        // Behind Sentinels: another server answers as the master.
        out.push((
            "failover".into(),
            format!("failover: the master is {to} now (was {from}); keys {} → {}", keys(a), keys(b)),
            cur.wall_secs,
        ));
    } else if !a.run_id.is_empty() && !b.run_id.is_empty() && a.run_id != b.run_id {
        let at = cur.wall_secs - b.uptime_s as i64;
        let clock = crate::domain::Ts { secs: at, nanos: 0 }.to_rfc3339();
        let when = clock.get(11..19).unwrap_or(&clock);
        out.push(("restart".into(), format!("redis restarted at {when} UTC; keys {} → {}", keys(a), keys(b)), at));
    }
    if let (Some(ca), Some(cb)) = (&a.cluster, &b.cluster) {
        for n in cb.nodes.iter().filter(|n| n.role == "master" && n.error.is_none()) {
            if ca.nodes.iter().any(|o| o.addr == n.addr && o.role != "master") {
                out.push((
                    "failover".into(),
                    format!("failover: {} is a master now (it was a replica)", n.addr),
                    cur.wall_secs,
                ));
            }
        }
    }
    out
}

/// A tier's status as `memscope health --json` prints it (the schema is documented in
/// `docs/health.md` and kept stable).
pub fn status_json(s: &TierStatus) -> serde_json::Value {
    serde_json::json!({
        "tier": s.probe.name(),
        "state": s.level.name(),
        // `now` (the state follows it) is `figures.latency_ms`; p50 and p99 are over the window.
        "latency_ms": {"now": round_ms(s.figures.latency_ms), "p50": round_ms(s.latency_p50), "p99": round_ms(s.latency_p99)},
        "errors": s.errors,
        "figures": s.figures,
        "alerts": s.conditions.iter().map(|(k, l, m)| serde_json::json!({"key": k, "level": l.name(), "message": m})).collect::<Vec<_>>(),
        "error": s.last_error,
        // A Redis Cluster: its state and nodes (absent for one server).
        "cluster": s.cluster.as_ref().map(|c| serde_json::json!({
            "state": c.state,
            "uncovered_slots": c.uncovered_slots,
            "nodes": c.nodes.iter().map(node_json).collect::<Vec<_>>(),
        })),
    })
}

fn node_json(n: &crate::domain::NodeHealth) -> serde_json::Value {
    serde_json::json!({
        "addr": n.addr, "role": n.role, "state": if n.error.is_some() { "DOWN" } else { "OK" },
        "ping_ms": n.ping_ms, "used_memory": n.used_memory, "ops_per_sec": n.ops_per_sec, "keys": n.keys,
        "keyspace_hits": n.keyspace_hits, "keyspace_misses": n.keyspace_misses, "slowlog_len": n.slowlog_len,
        "error": n.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_sample(ms: u64, hits: u64, misses: u64, own: (u64, u64), lat: f64) -> Sample {
        Sample {
            latency_ms: Some(lat),
            redis: Some(RedisHealth {
                keyspace_hits: hits,
                keyspace_misses: misses,
                own_hits: own.0,
                own_misses: own.1,
                used_memory: 1000,
                maxmemory: 0,
                ..Default::default()
            }),
            ..Sample::at(Probe::Redis, ms, (ms / 1000) as i64)
        }
    }

    #[test]
    fn miss_rate_excludes_our_own_lookups() {
        let a = redis_sample(0, 100, 10, (50, 5), 1.0);
        // +100 hits +100 misses in INFO, of which ours: +60 hits +20 misses → app 40/80.
        let b = redis_sample(2000, 200, 110, (110, 25), 1.0);
        let s = evaluate(Probe::Redis, &[&a, &b], &Thresholds::default()).unwrap();
        assert!((s.figures.miss_rate.unwrap() - 80.0 / 120.0).abs() < 1e-9);
        assert_eq!(s.level, Level::Warn);
    }

    #[test]
    fn latency_alert_starts_and_ends() {
        let t = Thresholds::default();
        let mut h = History::default();
        for i in 0..5 {
            h.push(redis_sample(i * 1000, 0, 0, (0, 0), 1.0), 60_000, &t);
        }
        assert!(h.alerts.is_empty());
        h.push(redis_sample(5000, 0, 0, (0, 0), 900.0), 4_000, &t);
        assert_eq!(h.alerts.len(), 1);
        assert_eq!(h.alerts[0].level, Level::Crit);
        for i in 6..12 {
            h.push(redis_sample(i * 1000, 0, 0, (0, 0), 1.0), 4_000, &t);
        }
        assert_eq!(h.alerts[0].ended_wall, Some(8), "ends once the newest {RECENT} probes are fast again");
    }

    #[test]
    fn a_recovered_tier_is_ok_now_and_its_window_still_shows_the_spike() {
        let t = Thresholds::default();
        let mut h = History::default();
        for i in 0..10 {
            let lat = if i == 2 { 900.0 } else { 1.0 };
            h.push(redis_sample(i * 1000, 0, 0, (0, 0), lat), 60_000, &t);
        }
        let s = h.status(Probe::Redis, 60_000, &t).unwrap();
        assert_eq!(s.level, Level::Ok, "{:?}", s.conditions);
        assert_eq!(s.figures.latency_ms, Some(1.0));
        assert_eq!(s.latency_p99, Some(900.0), "the window keeps it");
        let j = status_json(&s);
        assert_eq!((j["latency_ms"]["now"].as_f64(), j["figures"]["latency_ms"].as_f64()), (Some(1.0), Some(1.0)));
        // Down now: no "0% of calls failing" from the calls made before.
        let mut a = redis_sample(10_000, 0, 0, (0, 0), 1.0);
        a.calls = 10;
        let mut b = redis_sample(11_000, 0, 0, (0, 0), 1.0);
        (b.calls, b.error) = (12, Some("unreachable".into()));
        let s = evaluate(Probe::Redis, &[&a, &b], &t).unwrap();
        assert_eq!((s.level, s.figures.own_error_rate), (Level::Down, None));
    }

    #[test]
    fn down_and_time_to_full() {
        let mut s = redis_sample(0, 0, 0, (0, 0), 1.0);
        s.error = Some("unreachable".into());
        assert_eq!(evaluate(Probe::Redis, &[&s], &Thresholds::default()).unwrap().level, Level::Down);
        let ttf = time_to_full(&[(0.0, 10.0), (1.0, 20.0), (2.0, 30.0)], 100.0).unwrap();
        assert!((ttf - 7.0).abs() < 1e-9);
        assert!(time_to_full(&[(0.0, 30.0), (1.0, 20.0), (2.0, 10.0)], 100.0).is_none());
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0, 100.0], 0.5), Some(3.0));
    }

    /// A freeze from 10.5 s to 20.3 s, probed every second with a 1 s deadline: DOWN with
    /// "NO ANSWER" from the first missed deadline, OK with the first answer, one alert from the
    /// silence's start to the answer with its worst figure, and the keys of the last good probe
    /// kept aside — never shown as now.
    #[test]
    fn a_freeze_is_one_alert_from_its_start_to_the_answer() {
        let t = Thresholds::default();
        let mut h = History::default();
        let with_keys = |ms: u64, lat: f64| {
            let mut s = redis_sample(ms, 0, 0, (0, 0), lat);
            s.redis.as_mut().unwrap().keyspace = vec![crate::domain::DbInfo { db: 0, keys: 1000, expires: 0 }];
            s
        };
        for i in 0..=10 {
            h.push(with_keys(i * 1000, 0.3), 60_000, &t);
        }
        // The probe sent at 10.5 s gets no answer: a sample at 11.5 s, then every second.
        for (at, waited) in [(11_500u64, 1_000u64), (12_500, 2_000), (13_500, 3_000), (19_500, 9_000)] {
            let mut s = redis_sample(at, 0, 0, (0, 0), 0.0);
            (s.latency_ms, s.redis, s.no_answer_ms) = (None, None, Some(waited));
            let st = h.push(s, 60_000, &t).unwrap();
            assert_eq!(st.level, Level::Down);
            assert_eq!(st.last_error.as_deref(), Some(no_answer_text(waited).as_str()));
            assert_eq!(st.figures.keys, None, "no figure of now while it does not answer");
            let (good, at_good) = st.last_good.as_ref().expect("the last good probe's figures, aside");
            assert_eq!((good.keys, *at_good), (Some(1000.0), 10));
        }
        assert_eq!(h.alerts.len(), 1);
        assert_eq!((h.alerts[0].started_wall, h.alerts[0].ended_wall), (10, None), "began when the probe was sent");
        // The answer at 20.3 s carries the silence as its round trip: OK at once, no CRIT.
        let mut late = with_keys(20_300, 9_800.0);
        late.answered_late = true;
        let st = h.push(late, 60_000, &t).unwrap();
        assert_eq!(st.level, Level::Ok, "{:?}", st.conditions);
        assert_eq!(st.figures.latency_ms, None, "no latency of now yet");
        assert_eq!(st.latency_p99, Some(9_800.0), "the window shows the outage");
        let st = h.push(with_keys(21_300, 0.4), 60_000, &t).unwrap();
        assert_eq!((st.level, st.figures.latency_ms), (Level::Ok, Some(0.4)));
        assert_eq!(h.alerts.len(), 1, "one alert for one freeze: {:?}", h.alerts);
        let a = &h.alerts[0];
        assert_eq!((a.level, a.started_wall, a.ended_wall), (Level::Down, 10, Some(20)));
        assert_eq!(a.message, "NO ANSWER 9.8 s", "its worst figure: the silence the answer ended");
    }

    #[test]
    fn json_counts_are_integers_and_latencies_are_rounded() {
        let mut a = redis_sample(0, 0, 0, (0, 0), 0.1 + 0.173_108);
        a.redis.as_mut().unwrap().keyspace = vec![crate::domain::DbInfo { db: 0, keys: 155, expires: 0 }];
        let j = status_json(&evaluate(Probe::Redis, &[&a], &Thresholds::default()).unwrap());
        assert!(j["figures"]["keys"].is_u64() && j["figures"]["used_memory"].is_u64(), "{j}");
        assert_eq!(j["figures"]["keys"], 155);
        assert_eq!(j["latency_ms"]["now"], 0.2731);
        assert_eq!(j["figures"]["latency_ms"], 0.2731);
    }
}
