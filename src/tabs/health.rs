//! The Health tab's state: a bounded history of samples per tier, the evaluation of the
//! chosen window, alerts, freeze (`f`) and window size (`+`/`-`).

use super::{Cx, Export, Tab};
use crate::config::{Config, Thresholds};
use crate::health::{History, Probe, Sample, TierStatus};
use crate::keymap::Action;
use crate::keymap::Context;
use crate::message::Command;
use std::collections::BTreeMap;

pub const WINDOWS_S: [u64; 5] = [60, 300, 900, 1800, 3600];

/// The next longer (or shorter) window, within what is kept.
fn next_window(now: u64, longer: bool, keep_ms: u64) -> u64 {
    let i = WINDOWS_S.iter().position(|w| *w >= now).unwrap_or(0);
    let j = if longer { (i + 1).min(WINDOWS_S.len() - 1) } else { i.saturating_sub(1) };
    WINDOWS_S[j].min(keep_ms / 1000).max(WINDOWS_S[0])
}

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
    /// A recording replayed (`memscope replay FILE`, `:replay FILE`): the display is the
    /// history at its time cursor; live samples still arrive underneath.
    pub replay: Option<Replay>,
}

/// The replay's cursor and what the display shows at it.
pub struct Replay {
    pub cursor: crate::replay::Cursor,
    pub history: History,
    pub statuses: BTreeMap<Probe, TierStatus>,
    /// The live tiers, kept for when the replay closes.
    live_configured: Vec<Probe>,
}

impl HealthTab {
    pub fn new(cfg: &Config) -> HealthTab {
        let configured = Probe::configured(cfg);
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
            replay: None,
        }
    }

    /// Replay a recording (loaded off the UI thread): the cursor at its end, the tiers it
    /// recorded.
    pub fn open_replay(&mut self, cursor: crate::replay::Cursor) {
        let mut tiers: Vec<Probe> =
            Probe::ALL.into_iter().filter(|p| cursor.recording.samples.iter().any(|s| s.probe == *p)).collect();
        let live = match self.replay.take() {
            Some(r) => r.live_configured,
            None => self.configured.clone(),
        };
        std::mem::swap(&mut self.configured, &mut tiers);
        let mut r = Replay { cursor, history: History::default(), statuses: BTreeMap::new(), live_configured: live };
        self.show_cursor(&mut r);
        self.replay = Some(r);
    }

    /// The history and the levels at the replay's cursor.
    fn show_cursor(&self, r: &mut Replay) {
        r.history = r.cursor.history(self.keep_ms);
        r.statuses = self
            .configured
            .iter()
            .filter_map(|p| Some((*p, r.history.status(*p, self.window_s * 1000, &self.thresholds)?)))
            .collect();
    }

    /// Back to the live view.
    pub fn close_replay(&mut self) -> bool {
        match self.replay.take() {
            Some(r) => {
                self.configured = r.live_configured;
                true
            }
            None => false,
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

    /// What the screen shows: the replay at its cursor, live, or as frozen.
    pub fn view(&self) -> (&History, &BTreeMap<Probe, TierStatus>) {
        if let Some(r) = &self.replay {
            return (&r.history, &r.statuses);
        }
        match &self.frozen {
            Some((h, s)) => (h, s),
            None => (&self.history, &self.statuses),
        }
    }
}

impl Tab for HealthTab {
    fn on_action(&mut self, a: Action, _cx: &mut Cx) -> Vec<Command> {
        if let Some(mut r) = self.replay.take() {
            let moved = match a {
                Action::Collapse => {
                    r.cursor.step(-1);
                    true
                }
                Action::Expand => {
                    r.cursor.step(1);
                    true
                }
                Action::Top => {
                    r.cursor.to_start();
                    true
                }
                Action::Bottom => {
                    r.cursor.to_end();
                    true
                }
                Action::SearchPrev => r.cursor.jump_alert(false),
                Action::SearchNext => r.cursor.jump_alert(true),
                Action::Back => {
                    self.configured = r.live_configured;
                    return vec![];
                }
                _ => false,
            };
            if moved || matches!(a, Action::TopKUp | Action::TopKDown) {
                if matches!(a, Action::TopKUp | Action::TopKDown) {
                    self.window_s = next_window(self.window_s, a == Action::TopKUp, self.keep_ms);
                }
                self.show_cursor(&mut r);
            }
            self.replay = Some(r);
            return vec![];
        }
        match a {
            Action::Freeze => {
                self.frozen = match self.frozen {
                    Some(_) => None,
                    None => Some((self.history.clone(), self.statuses.clone())),
                }
            }
            Action::TopKUp | Action::TopKDown => {
                self.window_s = next_window(self.window_s, a == Action::TopKUp, self.keep_ms);
                for p in self.configured.clone() {
                    if let Some(st) = self.history.status(p, self.window_s * 1000, &self.thresholds) {
                        self.statuses.insert(p, st);
                    }
                }
            }
            _ => {}
        }
        vec![]
    }

    fn context(&self) -> Context {
        if self.audit.is_some() { Context::Audit } else { Context::Health }
    }

    /// The alerts (each with when it started and ended), or the open audit's report.
    fn export(&self) -> Export {
        if let Some(a) = &self.audit {
            return match &a.report {
                Some(r) => Export::lines("the audit's report", [serde_json::to_value(r).unwrap_or_default()]),
                None => Export::nothing("the audit has not finished"),
            };
        }
        let (hist, _) = self.view();
        Export::lines(
            format!("{} alerts", hist.alerts.len()),
            hist.alerts.iter().map(|a| {
                serde_json::json!({"tier": a.probe.name(), "key": a.key, "level": a.level.name(), "message": a.message,
                    "started": a.started_wall, "ended": a.ended_wall})
            }),
        )
    }
}
