//! Each tier's connection state: up, down with its error, reconnecting with backoff; what the header shows.

use super::*;

/// Reports a tier's connection state, once per change.
#[derive(Clone)]
pub(super) struct ConnTracker {
    pub(super) tier: Tier,
    pub(super) last: Arc<Mutex<Option<ConnState>>>,
    pub(super) tx: UnboundedSender<BackendEvent>,
    /// memscope's own calls to the tier, and how many failed (for the Health tab).
    pub(super) calls: Arc<std::sync::atomic::AtomicU64>,
    pub(super) errors: Arc<std::sync::atomic::AtomicU64>,
    /// Our calls since the health poller last took them: when each started, and how long it
    /// took (bounded).
    pub(super) durations: Arc<Mutex<Vec<(std::time::Instant, f64)>>>,
}

impl ConnTracker {
    pub(super) fn new(tier: Tier, tx: UnboundedSender<BackendEvent>) -> ConnTracker {
        ConnTracker {
            tier,
            last: Arc::new(Mutex::new(None)),
            tx,
            calls: Default::default(),
            errors: Default::default(),
            durations: Default::default(),
        }
    }

    pub(super) fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.calls.load(Relaxed), self.errors.load(Relaxed))
    }

    /// Record how long one of our calls took.
    pub(super) fn took(&self, since: std::time::Instant) {
        if let Ok(mut d) = self.durations.lock()
            && d.len() < 10_000
        {
            d.push((since, since.elapsed().as_secs_f64() * 1e3));
        }
    }

    /// The durations of our calls since the last take, leaving out those that started before
    /// `not_before` (calls stuck in an outage that just ended: their time is the outage's).
    pub(super) fn take_durations(&self, not_before: Option<std::time::Instant>) -> Vec<f64> {
        let all = self.durations.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default();
        all.into_iter().filter(|(at, _)| not_before.is_none_or(|nb| *at >= nb)).map(|(_, ms)| ms).collect()
    }

    pub(super) fn report<T>(&self, r: &Result<T, StoreError>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.calls.fetch_add(1, Relaxed);
        if r.is_err() {
            self.errors.fetch_add(1, Relaxed);
        }
        self.observe(r);
    }

    /// The state a result proves, without counting it as one of memscope's own calls (the
    /// health probes): the header, the tabs and Health read one source of tier state, and an
    /// idle view notices an outage and a recovery through it.
    pub(super) fn observe<T>(&self, r: &Result<T, StoreError>) {
        let state = match r {
            Ok(_) => ConnState::Up,
            Err(e) if e.is_connection() => ConnState::Down(e.to_string()),
            // A server error proves the server answered.
            Err(_) => ConnState::Up,
        };
        self.set(state);
    }
    /// The tier is still connecting (the first attempt has not ended).
    pub(super) fn is_connecting(&self) -> bool {
        self.last.lock().map(|l| matches!(*l, Some(ConnState::Connecting))).unwrap_or(false)
    }

    /// The last error the tier was down with, if it is down.
    pub(super) fn down_reason(&self) -> Option<String> {
        match self.last.lock().ok()?.as_ref()? {
            ConnState::Down(e) => Some(e.clone()),
            _ => None,
        }
    }

    pub(super) fn set(&self, state: ConnState) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.as_ref() != Some(&state) {
            match &state {
                ConnState::Down(e) => tracing::warn!(tier = ?self.tier, error = %e, "tier down"),
                other => tracing::info!(tier = ?self.tier, state = ?other, "tier state"),
            }
            *last = Some(state.clone());
            let _ = self.tx.send(BackendEvent::Conn(self.tier, state));
        }
    }
}
