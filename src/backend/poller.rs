//! The Health tab's poller: one probe per configured tier every `interval_ms` (the heavy
//! figures every `heavy_interval_ms`), never two probes of one tier at once, each sample sent
//! to the UI (and appended to `--record`'s file).

use super::{ConnTracker, not_connected};
use crate::config::HealthConfig;
use crate::domain::ConnState;
use crate::error::StoreError;
use crate::health::{Probe, Sample};
use crate::message::BackendEvent;
use crate::store::{KeyStore, LongTermStore};
use crate::tiers::VectorTier;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

type Shared<T> = Arc<Mutex<Option<T>>>;

/// What the probes read: the backend's shared connections and state trackers.
pub(super) struct Poller {
    pub probes: Vec<Probe>,
    pub config: HealthConfig,
    pub redis: Shared<Arc<dyn KeyStore>>,
    pub long_term: Shared<Arc<dyn LongTermStore>>,
    pub vector: Shared<VectorTier>,
    pub trackers: [(Probe, ConnTracker); 3],
    pub tx: UnboundedSender<BackendEvent>,
    /// `--record`: the poller appends each sample (never the UI thread).
    pub recorder: Option<Mutex<std::fs::File>>,
    /// Tiers that have not answered a probe within its deadline, since when.
    pub silent: Mutex<std::collections::HashMap<Probe, Instant>>,
    /// When each tier's last silence ended: memscope's calls that started before were stuck
    /// in it, and their time is the outage's, not the latency after it.
    pub recovered: Mutex<std::collections::HashMap<Probe, Instant>>,
    /// The embedder's last self-check and when it ran (re-run every [`crate::health::MODEL_CHECK_EVERY_S`]).
    pub model_check: Mutex<Option<(Instant, crate::health::ModelCheck)>>,
}

/// Whether a tier's store is connected, and if not, why.
enum Readiness {
    Ready,
    /// Still connecting at start-up: not a failure yet, no sample.
    Connecting,
    /// Connecting failed: the sample says why (the connect loop's error).
    NotConnected(Option<String>),
}

impl Poller {
    /// Probe every tier on the interval until the task is aborted.
    pub async fn run(self: Arc<Self>) {
        let start = Instant::now();
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(self.config.interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let busy: Arc<Mutex<HashSet<Probe>>> = Default::default();
        let mut last_heavy: Option<Instant> = None;
        loop {
            tick.tick().await;
            let heavy = last_heavy.is_none_or(|t| t.elapsed().as_millis() as u64 >= self.config.heavy_interval_ms);
            if heavy {
                last_heavy = Some(Instant::now());
            }
            for &p in &self.probes {
                if busy.lock().map(|mut b| !b.insert(p)).unwrap_or(true) {
                    continue; // the previous probe of this tier has not answered yet
                }
                let readiness = self.readiness(p);
                if matches!(readiness, Readiness::Connecting) {
                    busy.lock().map(|mut b| b.remove(&p)).ok();
                    continue;
                }
                let (me, busy) = (self.clone(), busy.clone());
                tokio::spawn(async move {
                    let s = me.probe_watched(p, heavy, readiness, start).await;
                    busy.lock().map(|mut b| b.remove(&p)).ok();
                    me.send(s);
                });
            }
        }
    }

    fn send(&self, s: Sample) {
        self.record(&s);
        let _ = self.tx.send(BackendEvent::Health(Box::new(s)));
    }

    /// A probe watched against its deadline: past it, a "no answer" sample goes out at once
    /// and again every interval while the silence lasts (counted from the first unanswered
    /// probe, across probes), and the tier is DOWN for every view. The answer that ends a
    /// silence is marked late (its round trip is the outage's); the probe's own time-out
    /// during a silence is the same silence, not another condition.
    async fn probe_watched(&self, p: Probe, heavy: bool, readiness: Readiness, start: Instant) -> Sample {
        let sent = Instant::now();
        let fut = self.probe(p, heavy, readiness, start);
        tokio::pin!(fut);
        let mut wait = std::time::Duration::from_millis(self.config.deadline_for(p.name()));
        let mut s = loop {
            match tokio::time::timeout(wait, &mut fut).await {
                Ok(s) => break s,
                Err(_) => {
                    let since = self.silent_since(p, Some(sent)).unwrap_or(sent);
                    let waited = since.elapsed().as_millis() as u64;
                    if let Some(t) = self.tracker(p)
                        && p != Probe::Embedder
                    {
                        t.set(ConnState::Down(crate::health::no_answer_text(waited)));
                    }
                    let mut na = Sample::no_answer(p, waited, start);
                    (na.calls, na.errors) = self.tracker(p).map(|t| t.counts()).unwrap_or((0, 0));
                    self.send(na);
                    wait = std::time::Duration::from_millis(self.config.interval_ms);
                }
            }
        };
        if let Some(since) = self.silent_since(p, None) {
            if s.error.as_deref().is_some_and(|e| e.starts_with("no reply within")) {
                s.error = None;
                s.no_answer_ms = Some(since.elapsed().as_millis() as u64);
            } else {
                self.silent.lock().map(|mut m| m.remove(&p)).ok();
                self.recovered.lock().map(|mut m| m.insert(p, Instant::now())).ok();
                s.answered_late = s.error.is_none();
            }
        }
        s
    }

    /// Since when tier `p` has not answered; with `begin`, a silence starts then if none is on.
    fn silent_since(&self, p: Probe, begin: Option<Instant>) -> Option<Instant> {
        let mut m = self.silent.lock().ok()?;
        match begin {
            Some(b) => Some(*m.entry(p).or_insert(b)),
            None => m.get(&p).copied(),
        }
    }

    fn tracker(&self, p: Probe) -> Option<&ConnTracker> {
        self.trackers.iter().find(|(q, _)| *q == p).map(|(_, t)| t)
    }

    fn readiness(&self, p: Probe) -> Readiness {
        let connected = match p {
            Probe::LongTerm => self.long_term.lock().map(|g| g.is_some()).unwrap_or(false),
            Probe::Vector | Probe::Embedder => self.vector.lock().map(|g| g.is_some()).unwrap_or(false),
            Probe::Redis => true,
        };
        if connected {
            return Readiness::Ready;
        }
        // The embedder is loaded with the vector tier: its state is the vector tier's.
        let state_of = self.tracker(if p == Probe::Embedder { Probe::Vector } else { p });
        let connecting =
            state_of.is_some_and(|t| t.last.lock().map(|l| matches!(*l, Some(ConnState::Connecting))).unwrap_or(false));
        if connecting { Readiness::Connecting } else { Readiness::NotConnected(state_of.and_then(|t| t.down_reason())) }
    }

    /// One probe of one tier: its sample, with memscope's own calls since the last one.
    async fn probe(&self, p: Probe, heavy: bool, readiness: Readiness, start: Instant) -> Sample {
        let tracker = self.tracker(p);
        let (calls, errors) = tracker.map(|t| t.counts()).unwrap_or((0, 0));
        let mut s = Sample {
            calls,
            errors,
            own_ms: tracker
                .map(|t| t.take_durations(self.recovered.lock().ok().and_then(|m| m.get(&p).copied())))
                .unwrap_or_default(),
            // Stamped below with when the tier answered.
            ..Sample::at(p, 0, 0)
        };
        let reason = match &readiness {
            Readiness::NotConnected(r) => r.clone(),
            _ => None,
        };
        let r = self.measure(p, heavy, &reason, &mut s).await;
        // The probe's answer is the tier's state too (unless the store is not even connected:
        // its connect loop reports that state).
        if let Some(t) = tracker
            && matches!(readiness, Readiness::Ready)
            && p != Probe::Embedder
        {
            match &r {
                // The index or the long-term store failing its probe (a 429, garbage JSON) is
                // down for every view, as the Health panel says; its next good probe is the
                // recovery the Search tab reloads on.
                Err(e) if p != Probe::Redis => t.set(ConnState::Down(e.to_string())),
                _ => t.observe(&r),
            }
        }
        if let Err(e) = r {
            s.error = Some(e.to_string());
        }
        // The time the sample describes: when the tier answered (or failed).
        s.mono_ms = start.elapsed().as_millis() as u64;
        s.wall_secs = crate::health::wall_now();
        s
    }

    /// The tier's figures into `s`: latency always, sizes on heavy rounds.
    async fn measure(&self, p: Probe, heavy: bool, reason: &Option<String>, s: &mut Sample) -> Result<(), StoreError> {
        let t0 = Instant::now();
        let vector = || self.vector.lock().ok().and_then(|g| g.clone());
        match p {
            Probe::Redis => {
                let store = self
                    .redis
                    .lock()
                    .ok()
                    .and_then(|g| g.clone())
                    .ok_or_else(|| StoreError::Unreachable("not connected".into()))?;
                let mut h = store.health().await?;
                h.layer = crate::memory::process_stats();
                s.latency_ms = Some(h.ping_ms);
                s.redis = Some(h);
            }
            Probe::LongTerm => {
                let store = self
                    .long_term
                    .lock()
                    .ok()
                    .and_then(|g| g.clone())
                    .ok_or_else(|| not_connected(reason, "connecting"))?;
                s.latency_ms = Some(store.ping().await?.as_secs_f64() * 1e3);
                if heavy {
                    s.documents = Some(store.count_conversations(&crate::domain::ConvFilter::All).await?);
                }
            }
            Probe::Vector => {
                let side = vector().ok_or_else(|| not_connected(reason, "connecting"))?;
                let st = side.store.stats().await?;
                s.latency_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
                s.vectors = Some(st);
            }
            Probe::Embedder => {
                let side = vector().ok_or_else(|| not_connected(reason, "loading"))?;
                if let Some(e) = &side.embedder {
                    e.embed(&["health".to_string()], crate::embed::InputType::Passage).await?;
                    s.latency_ms = Some(t0.elapsed().as_secs_f64() * 1e3);
                    s.model_check = self.model_check(&side, &**e).await;
                } else if let Some(why) = &side.embedder_error {
                    // The embedder alone is out (its model not fetched): the index is not.
                    return Err(StoreError::NotConfigured(why.clone()));
                }
            }
        }
        Ok(())
    }

    /// The embedder checked against 20 stored texts, at most every
    /// [`crate::health::MODEL_CHECK_EVERY_S`]; the last verdict in between. Nothing to compare
    /// (no stored text) or a failed check gives no verdict: Search and `audit --vectors` say why.
    async fn model_check(
        &self,
        side: &VectorTier,
        e: &dyn crate::embed::Embedder,
    ) -> Option<crate::health::ModelCheck> {
        let every = std::time::Duration::from_secs(crate::health::MODEL_CHECK_EVERY_S);
        let last = self.model_check.lock().ok().and_then(|g| g.clone());
        if let Some((at, c)) = &last
            && at.elapsed() < every
        {
            return Some(c.clone());
        }
        let checked =
            crate::search::check_embedder(&*side.store, e, &side.namespace, &side.text_field, 20).await.ok().flatten();
        let Some(c) = checked else { return last.map(|(_, c)| c) };
        let c = crate::health::ModelCheck {
            agrees: c.same_model() && c.disagree == 0 && c.other_dimension.is_none(),
            said: c.said(),
            wall_secs: crate::health::wall_now(),
        };
        if let Ok(mut g) = self.model_check.lock() {
            *g = Some((Instant::now(), c.clone()));
        }
        Some(c)
    }

    fn record(&self, s: &Sample) {
        if let Some(r) = &self.recorder
            && let Ok(mut f) = r.lock()
        {
            use std::io::Write;
            let _ = writeln!(f, "{}", crate::replay::sample_json(s));
        }
    }
}
