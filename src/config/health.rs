//! The Health tab's sampling and alert thresholds.

use super::*;

/// The health poller's intervals and the thresholds of its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// `--record FILE`: every sample appended as a JSON line (by the poller, off the UI thread).
    pub record: Option<PathBuf>,
    pub interval_ms: u64,
    /// A probe not answered within this long makes its tier "NO ANSWER" at once …
    pub deadline_ms: u64,
    /// … or within its own (`[profile.X.health.deadlines] redis = 500`; tier names as in
    /// `memscope health`: long_term, redis, vector, embedder).
    pub deadlines: BTreeMap<String, u64>,
    pub heavy_interval_ms: u64,
    pub window_s: u64,
    pub thresholds: Thresholds,
}

impl HealthConfig {
    /// The deadline of the tier named `tier`.
    pub fn deadline_for(&self, tier: &str) -> u64 {
        self.deadlines.get(tier).copied().unwrap_or(self.deadline_ms)
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            record: None,
            // Every second, so that a freeze is seen within two (the deadline's second).
            interval_ms: 1_000,
            deadline_ms: 1_000,
            // An embedding is work, not a round trip (a remote one often takes most of a second).
            deadlines: BTreeMap::from([("embedder".to_string(), 5_000)]),
            heavy_interval_ms: 60_000,
            window_s: 3_600,
            thresholds: Default::default(),
        }
    }
}

/// The Health tab's intervals and alert thresholds (warn before crit, rates as fractions).
pub(super) fn resolve_health(path: &str, name: &str, section: Option<FileHealth>) -> Result<HealthConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let mut health = HealthConfig::default();
    if let Some(h) = section {
        let t = &mut health.thresholds;
        if let Some(v) = h.interval_ms {
            health.interval_ms = v.max(100);
        }
        if let Some(v) = h.deadline_ms {
            health.deadline_ms = v.max(50);
        }
        for (tier, ms) in h.deadlines.unwrap_or_default() {
            if !["long_term", "redis", "vector", "embedder"].contains(&tier.as_str()) {
                return Err(invalid(format!(
                    "[profile.{name}.health.deadlines] `{tier}`: not a tier (long_term, redis, vector, embedder)"
                )));
            }
            health.deadlines.insert(tier, ms.max(50));
        }
        if let Some(v) = h.heavy_interval_ms {
            health.heavy_interval_ms = v.max(1_000);
        }
        if let Some(v) = h.window_s {
            health.window_s = v.clamp(10, 24 * 3600);
        }
        let set = |dst: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set(&mut t.latency_warn_ms, h.latency_warn_ms);
        set(&mut t.latency_crit_ms, h.latency_crit_ms);
        set(&mut t.miss_rate_warn, h.miss_rate_warn);
        set(&mut t.miss_rate_crit, h.miss_rate_crit);
        set(&mut t.memory_warn_pct, h.memory_warn_pct);
        set(&mut t.memory_crit_pct, h.memory_crit_pct);
        set(&mut t.fullness_warn, h.fullness_warn);
        set(&mut t.fullness_crit, h.fullness_crit);
        set(&mut t.evictions_warn_per_s, h.evictions_warn_per_s);
        set(&mut t.evictions_crit_per_s, h.evictions_crit_per_s);
        set(&mut t.time_to_full_warn_s, h.time_to_full_warn_s);
        set(&mut t.time_to_full_crit_s, h.time_to_full_crit_s);
        // warn must come before crit; rates are fractions.
        let checks = [
            ("latency_warn_ms", t.latency_warn_ms, "latency_crit_ms", t.latency_crit_ms),
            ("miss_rate_warn", t.miss_rate_warn, "miss_rate_crit", t.miss_rate_crit),
            ("memory_warn_pct", t.memory_warn_pct, "memory_crit_pct", t.memory_crit_pct),
            ("fullness_warn", t.fullness_warn, "fullness_crit", t.fullness_crit),
            ("evictions_warn_per_s", t.evictions_warn_per_s, "evictions_crit_per_s", t.evictions_crit_per_s),
        ];
        for (w, wv, c, cv) in checks {
            if wv > cv || wv < 0.0 {
                return Err(invalid(format!("[profile.{name}.health] {w} = {wv} must be ≥ 0 and ≤ {c} = {cv}")));
            }
        }
        for (k, v) in [("miss_rate_crit", t.miss_rate_crit), ("fullness_crit", t.fullness_crit)] {
            if v > 1.0 {
                return Err(invalid(format!("[profile.{name}.health] {k} = {v} is a fraction (0 to 1)")));
            }
        }
        if t.time_to_full_crit_s > t.time_to_full_warn_s {
            return Err(invalid(format!(
                "[profile.{name}.health] time_to_full_crit_s must be ≤ time_to_full_warn_s (it warns earlier)"
            )));
        }
    }
    Ok(health)
}

/// The levels the Health evaluation judges each figure by (`[profile.NAME.health]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub latency_warn_ms: f64,
    pub latency_crit_ms: f64,
    pub miss_rate_warn: f64,
    pub miss_rate_crit: f64,
    /// Lookups an interval needs before its miss rate is judged.
    pub miss_rate_min_lookups: u64,
    pub memory_warn_pct: f64,
    pub memory_crit_pct: f64,
    pub fullness_warn: f64,
    pub fullness_crit: f64,
    pub evictions_warn_per_s: f64,
    pub evictions_crit_per_s: f64,
    pub time_to_full_warn_s: f64,
    pub time_to_full_crit_s: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            latency_warn_ms: 100.0,
            latency_crit_ms: 500.0,
            miss_rate_warn: 0.5,
            miss_rate_crit: 0.8,
            miss_rate_min_lookups: 20,
            memory_warn_pct: 80.0,
            memory_crit_pct: 95.0,
            fullness_warn: 0.8,
            fullness_crit: 0.95,
            evictions_warn_per_s: 1.0,
            evictions_crit_per_s: 50.0,
            time_to_full_warn_s: 3600.0,
            time_to_full_crit_s: 600.0,
        }
    }
}
