//! The Health tab's state: a bounded history of samples per tier, the evaluation of the
//! chosen window, alerts, freeze (`f`) and window size (`+`/`-`).

use crate::config::{Config, Thresholds};
use crate::health::{History, Probe, Sample, TierStatus};
use crate::keymap::Action;
use std::collections::BTreeMap;

pub const WINDOWS_S: [u64; 5] = [60, 300, 900, 1800, 3600];

pub struct HealthTab {
    pub history: History,
    pub thresholds: Thresholds,
    /// History kept (config window_s).
    pub keep_ms: u64,
    /// The window shown and evaluated.
    pub window_s: u64,
    pub statuses: BTreeMap<Probe, TierStatus>,
    /// Frozen: the display keeps what it showed at that moment; samples still arrive.
    pub frozen: Option<(History, BTreeMap<Probe, TierStatus>)>,
    pub configured: Vec<Probe>,
    /// The cross-tier audit view, over the charts while open.
    pub audit: Option<super::audit::AuditView>,
}

impl HealthTab {
    pub fn new(cfg: &Config) -> HealthTab {
        let mut configured = Vec::new();
        if cfg.long_term.is_some() {
            configured.push(Probe::LongTerm);
        }
        if cfg.redis.is_some() {
            configured.push(Probe::Redis);
        }
        if cfg.vector.is_some() {
            configured.push(Probe::Vector);
            configured.push(Probe::Embedder);
        }
        let keep = cfg.health.window_s;
        HealthTab {
            history: History::default(),
            thresholds: cfg.health.thresholds.clone(),
            keep_ms: keep * 1000,
            window_s: WINDOWS_S.iter().copied().find(|w| *w >= 300).unwrap_or(300).min(keep),
            statuses: BTreeMap::new(),
            frozen: None,
            configured,
            audit: None,
        }
    }

    pub fn on_sample(&mut self, s: Sample) {
        let probe = s.probe;
        if let Some(st) = self.history.push(s, self.keep_ms, &self.thresholds) {
            // Levels over the displayed window.
            let st = self.history.status(probe, self.window_s * 1000, &self.thresholds).unwrap_or(st);
            self.statuses.insert(probe, st);
        }
    }

    /// Every alert of the view, newest first, whole: what `o` opens in the pager.
    pub fn alerts_text(&self) -> String {
        let (hist, _) = self.view();
        if hist.alerts.is_empty() {
            return "no alerts".into();
        }
        let clock = |s: i64| crate::domain::Ts { secs: s, nanos: 0 }.to_rfc3339();
        hist.alerts
            .iter()
            .rev()
            .map(|a| {
                let when = match a.ended_wall {
                    Some(e) => format!("{} → {}", clock(a.started_wall), clock(e)),
                    None => format!("since {} (still on)", clock(a.started_wall)),
                };
                format!(
                    "{:<4} {:<9} {when}\n     {}",
                    a.level.name(),
                    a.probe.name(),
                    crate::text::sanitize_multiline(a.message.as_bytes())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the screen shows: live, or as frozen.
    pub fn view(&self) -> (&History, &BTreeMap<Probe, TierStatus>) {
        match &self.frozen {
            Some((h, s)) => (h, s),
            None => (&self.history, &self.statuses),
        }
    }

    pub fn on_action(&mut self, a: Action) {
        match a {
            Action::Freeze => {
                self.frozen = match self.frozen {
                    Some(_) => None,
                    None => Some((self.history.clone(), self.statuses.clone())),
                }
            }
            Action::TopKUp | Action::TopKDown => {
                let i = WINDOWS_S.iter().position(|w| *w >= self.window_s).unwrap_or(0);
                let j = if a == Action::TopKUp { (i + 1).min(WINDOWS_S.len() - 1) } else { i.saturating_sub(1) };
                self.window_s = WINDOWS_S[j].min(self.keep_ms / 1000).max(WINDOWS_S[0]);
                for p in self.configured.clone() {
                    if let Some(st) = self.history.status(p, self.window_s * 1000, &self.thresholds) {
                        self.statuses.insert(p, st);
                    }
                }
            }
            _ => {}
        }
    }
}
