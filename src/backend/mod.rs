//! The backend task: owns the store handles, runs one tokio task per request, aborts the
//! superseded request of the same slot, and reports every result as a `BackendEvent`.

use crate::config::Config;
use crate::domain::{ConnState, ScanBatch, Tier};
use crate::error::StoreError;
use crate::health::Probe;
use crate::message::LtReply;
use crate::message::{BackendEvent, Command, LayerReply, RequestId, Slot, SortFailed, Sorted};
use crate::store::{KeyStore, LongTermStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

mod poller;

/// Reports a tier's connection state, once per change.
#[derive(Clone)]
struct ConnTracker {
    tier: Tier,
    last: Arc<Mutex<Option<ConnState>>>,
    tx: UnboundedSender<BackendEvent>,
    /// memscope's own calls to the tier, and how many failed (for the Health tab).
    calls: Arc<std::sync::atomic::AtomicU64>,
    errors: Arc<std::sync::atomic::AtomicU64>,
    /// Our calls since the health poller last took them: when each started, and how long it
    /// took (bounded).
    durations: Arc<Mutex<Vec<(std::time::Instant, f64)>>>,
}

impl ConnTracker {
    fn new(tier: Tier, tx: UnboundedSender<BackendEvent>) -> ConnTracker {
        ConnTracker {
            tier,
            last: Arc::new(Mutex::new(None)),
            tx,
            calls: Default::default(),
            errors: Default::default(),
            durations: Default::default(),
        }
    }

    fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.calls.load(Relaxed), self.errors.load(Relaxed))
    }

    /// Record how long one of our calls took.
    fn took(&self, since: std::time::Instant) {
        if let Ok(mut d) = self.durations.lock()
            && d.len() < 10_000
        {
            d.push((since, since.elapsed().as_secs_f64() * 1e3));
        }
    }

    /// The durations of our calls since the last take, leaving out those that started before
    /// `not_before` (calls stuck in an outage that just ended: their time is the outage's).
    fn take_durations(&self, not_before: Option<std::time::Instant>) -> Vec<f64> {
        let all = self.durations.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default();
        all.into_iter().filter(|(at, _)| not_before.is_none_or(|nb| *at >= nb)).map(|(_, ms)| ms).collect()
    }

    fn report<T>(&self, r: &Result<T, StoreError>) {
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
    fn observe<T>(&self, r: &Result<T, StoreError>) {
        let state = match r {
            Ok(_) => ConnState::Up,
            Err(e) if e.is_connection() => ConnState::Down(e.to_string()),
            // A server error proves the server answered.
            Err(_) => ConnState::Up,
        };
        self.set(state);
    }
    /// The tier is still connecting (the first attempt has not ended).
    fn is_connecting(&self) -> bool {
        self.last.lock().map(|l| matches!(*l, Some(ConnState::Connecting))).unwrap_or(false)
    }

    /// The last error the tier was down with, if it is down.
    fn down_reason(&self) -> Option<String> {
        match self.last.lock().ok()?.as_ref()? {
            ConnState::Down(e) => Some(e.clone()),
            _ => None,
        }
    }

    fn set(&self, state: ConnState) {
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

use crate::tiers::VectorTier;

pub struct Backend {
    cfg: Config,
    redis: Option<Arc<dyn KeyStore>>,
    /// The current Redis store, for the health poller (replaced on SELECT).
    redis_shared: Arc<Mutex<Option<Arc<dyn KeyStore>>>>,
    redis_conn: ConnTracker,
    /// Filled in by their connect task: the vector store, its dimension, and the embedder.
    vector: Arc<Mutex<Option<VectorTier>>>,
    vec_conn: ConnTracker,
    /// Filled in by the connect task once the long-term store is reachable.
    long_term: Arc<Mutex<Option<Arc<dyn LongTermStore>>>>,
    lt_conn: ConnTracker,
    write_mode: bool,
    /// The memory layer over the current connections, and which connections those are.
    layer_cache: Mutex<Option<(LayerKey, Arc<crate::memory::Memory>)>>,
    tasks: HashMap<Slot, AbortHandle>,
    tx: UnboundedSender<BackendEvent>,
}

/// A probe of a store that is not connected: the connect loop's error when there is one.
fn not_connected(reason: &Option<String>, doing: &str) -> StoreError {
    match reason {
        Some(e) => StoreError::Unreachable(format!("not connected: {e}")),
        None => StoreError::Unreachable(format!("still {doing}")),
    }
}

/// Which stores a cached memory layer was built over (their addresses).
type LayerKey = (usize, Option<usize>, Option<usize>);

/// Handles of a running backend.
pub struct BackendHandle {
    pub commands: UnboundedSender<Command>,
    pub events: UnboundedReceiver<BackendEvent>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Start the backend task on the current runtime.
pub fn spawn(cfg: Config) -> BackendHandle {
    let (cmd_tx, cmd_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel();
    let task = tokio::spawn(async move {
        let mut b = Backend::new(cfg, ev_tx);
        b.run(cmd_rx).await;
    });
    BackendHandle { commands: cmd_tx, events: ev_rx, task }
}

impl Backend {
    fn new(cfg: Config, tx: UnboundedSender<BackendEvent>) -> Backend {
        let redis_conn = ConnTracker::new(Tier::ShortTerm, tx.clone());
        let lt_conn = ConnTracker::new(Tier::LongTerm, tx.clone());
        let vec_conn = ConnTracker::new(Tier::Vector, tx.clone());
        let mut b = Backend {
            cfg,
            redis: None,
            redis_shared: Arc::new(Mutex::new(None)),
            redis_conn,
            long_term: Arc::new(Mutex::new(None)),
            lt_conn,
            vector: Arc::new(Mutex::new(None)),
            vec_conn,
            write_mode: false,
            layer_cache: Mutex::new(None),
            tasks: HashMap::new(),
            tx,
        };
        b.open_redis(None);
        b.open_long_term();
        b.open_vector();
        b.start_poller();
        b
    }

    fn open_redis(&mut self, db: Option<u32>) {
        if self.cfg.redis.is_none() {
            self.redis_conn.set(ConnState::NotConfigured);
            return;
        }
        match crate::tiers::redis(&self.cfg, db) {
            Ok(s) => {
                s.set_writes_allowed(self.write_mode && !self.cfg.read_only);
                self.redis = Some(s.clone());
                if let Ok(mut shared) = self.redis_shared.lock() {
                    *shared = Some(s);
                }
                self.redis_conn.set(ConnState::Connecting);
            }
            Err(e) => {
                self.redis = None;
                self.redis_conn.set(ConnState::Down(e.to_string()));
            }
        }
    }

    /// Connect the long-term store in the background, retrying with backoff (1 s doubling to
    /// 30 s) so that missing credentials or a stopped emulator never hold up anything else.
    fn open_long_term(&mut self) {
        if self.cfg.long_term.is_none() {
            self.lt_conn.set(ConnState::NotConfigured);
            return;
        }
        self.lt_conn.set(ConnState::Connecting);
        let slot = self.long_term.clone();
        let conn = self.lt_conn.clone();
        let cfg = self.cfg.clone();
        tokio::spawn(async move {
            let mut wait = std::time::Duration::from_secs(1);
            loop {
                match crate::tiers::long_term(&cfg, crate::store::Access::of(&cfg)).await {
                    Ok(store) => {
                        let ping = store.ping().await;
                        if let Ok(mut s) = slot.lock() {
                            *s = Some(store);
                        }
                        conn.report(&ping);
                        return;
                    }
                    Err(e) => {
                        conn.set(ConnState::Down(e.to_string()));
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(std::time::Duration::from_secs(30));
                    }
                }
            }
        });
    }

    /// Connect the vector store and load the embedder in the background (the local model takes
    /// a moment), retrying with backoff.
    fn open_vector(&mut self) {
        if self.cfg.vector.is_none() {
            self.vec_conn.set(ConnState::NotConfigured);
            return;
        }
        self.vec_conn.set(ConnState::Connecting);
        let slot = self.vector.clone();
        let conn = self.vec_conn.clone();
        let cfg = self.cfg.clone();
        tokio::spawn(async move {
            let mut wait = std::time::Duration::from_secs(1);
            loop {
                let r = crate::tiers::vector(&cfg, crate::store::Access::of(&cfg)).await;
                match r {
                    Ok(side) => {
                        if let Ok(mut s) = slot.lock() {
                            *s = Some(side);
                        }
                        conn.set(ConnState::Up);
                        return;
                    }
                    Err(e) => {
                        conn.set(ConnState::Down(e.to_string()));
                        if matches!(e, StoreError::NotConfigured(_)) {
                            return;
                        }
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(std::time::Duration::from_secs(30));
                    }
                }
            }
        });
    }

    /// The health poller: every interval, one probe task per configured tier (a tier that
    /// hangs never holds up the others); heavy probes on their own, slower interval.
    fn start_poller(&mut self) {
        let probes: Vec<Probe> = [
            (Probe::Redis, self.cfg.redis.is_some()),
            (Probe::LongTerm, self.cfg.long_term.is_some()),
            (Probe::Vector, self.cfg.vector.is_some()),
            (Probe::Embedder, self.cfg.vector.is_some()),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(p, _)| p)
        .collect();
        if probes.is_empty() {
            return;
        }
        let config = self.cfg.health.clone();
        let recorder = config
            .record
            .as_ref()
            .and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok().map(Mutex::new));
        let poller = Arc::new(poller::Poller {
            probes,
            config,
            redis: self.redis_shared.clone(),
            long_term: self.long_term.clone(),
            vector: self.vector.clone(),
            trackers: [
                (Probe::Redis, self.redis_conn.clone()),
                (Probe::LongTerm, self.lt_conn.clone()),
                (Probe::Vector, self.vec_conn.clone()),
            ],
            tx: self.tx.clone(),
            recorder,
            silent: Default::default(),
            recovered: Default::default(),
        });
        let h = tokio::spawn(poller.run());
        self.tasks.insert(Slot::Health, h.abort_handle());
    }

    fn vector_or_err(&self) -> Result<VectorTier, StoreError> {
        if self.cfg.vector.is_none() {
            return Err(StoreError::NotConfigured(
                "vector tier: set [profile.NAME.vector], or PINECONE_API_KEY with PINECONE_INDEX".into(),
            ));
        }
        self.vector
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| StoreError::Unreachable("vector store / embedder: still connecting".into()))
    }

    fn spawn_vec<F, Fut>(&mut self, slot: Slot, req: RequestId, f: F)
    where
        F: FnOnce(Result<VectorTier, StoreError>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = crate::message::VecReply> + Send + 'static,
    {
        let side = self.vector_or_err();
        let tx = self.tx.clone();
        let conn = self.vec_conn.clone();
        self.spawn_in(slot, async move {
            let t = std::time::Instant::now();
            let reply = f(side).await;
            conn.took(t);
            let _ = tx.send(BackendEvent::Vector(req, reply));
        });
    }

    fn long_term_or_err(&self) -> Result<Arc<dyn LongTermStore>, StoreError> {
        if self.cfg.long_term.is_none() {
            return Err(StoreError::NotConfigured(
                "long-term tier: set [profile.NAME.long_term], FIRESTORE_EMULATOR_HOST or GOOGLE_CLOUD_PROJECT".into(),
            ));
        }
        self.long_term
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| StoreError::Unreachable("long-term store: still connecting".into()))
    }

    /// Run a long-term request; `f` gets the store or the reason there is none, and always
    /// answers with its own reply variant.
    fn spawn_lt<F, Fut>(&mut self, slot: Slot, req: RequestId, f: F)
    where
        F: FnOnce(Result<Arc<dyn LongTermStore>, StoreError>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = LtReply> + Send + 'static,
    {
        let mut store = self.long_term_or_err();
        let tx = self.tx.clone();
        let conn = self.lt_conn.clone();
        let slot_now = self.long_term.clone();
        self.spawn_in(slot, async move {
            // Asked while the store still connects: served once it has (the answer "still
            // connecting" raced the tier's Up, and nothing asked again).
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            while store.is_err() && conn.is_connecting() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                if let Some(s) = slot_now.lock().ok().and_then(|g| g.clone()) {
                    store = Ok(s);
                }
            }
            // Not connected (yet): the connect task owns the tier's state (no false DOWN).
            let ready = store.is_ok();
            let t = std::time::Instant::now();
            let reply = f(store).await;
            if ready {
                conn.took(t);
                conn.report(&lt_result(&reply));
            }
            let _ = tx.send(BackendEvent::LongTerm(req, reply));
        });
    }

    /// Run a read of conversations through the profile's layout (a Redis layout needs no
    /// long-term store; its calls count as Redis's).
    fn spawn_reader<F, Fut>(&mut self, slot: Slot, req: RequestId, f: F)
    where
        F: FnOnce(Result<Arc<dyn crate::layout::ConversationReader>, StoreError>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = LtReply> + Send + 'static,
    {
        let in_redis = self.cfg.layout.in_redis();
        let lt = if in_redis { Ok(None) } else { self.long_term_or_err().map(Some) };
        let ready = lt.is_ok();
        let reader = lt.and_then(|lt| crate::layout::reader(&self.cfg.layout, lt, self.redis.clone()));
        let tx = self.tx.clone();
        let conn = if in_redis { self.redis_conn.clone() } else { self.lt_conn.clone() };
        self.spawn_in(slot, async move {
            let t = std::time::Instant::now();
            let reply = f(reader).await;
            if ready {
                conn.took(t);
                conn.report(&lt_result(&reply));
            }
            let _ = tx.send(BackendEvent::LongTerm(req, reply));
        });
    }

    async fn run(&mut self, mut rx: UnboundedReceiver<Command>) {
        while let Some(cmd) = rx.recv().await {
            self.dispatch(cmd);
        }
        for (_, h) in self.tasks.drain() {
            h.abort();
        }
    }

    /// The memory layer over this backend's connections (for badges, traces and audits): the
    /// long-term store is required; Redis and the vector tier are used when ready.
    /// One `Memory` per connection set: built when first needed and again only when a
    /// connection changes (a tier connects, `SELECT` switches the Redis database), so its
    /// counters are registered once.
    fn layer(&self) -> Result<Arc<crate::memory::Memory>, StoreError> {
        crate::layout::cross_tier_checks(&self.cfg.layout)?;
        let lt = self.long_term_or_err()?;
        // A vector tier without an embedder of ours (an index that embeds for itself) is not
        // one the layer can write or trace through; one whose embedder could not load (its
        // model not fetched) is still traced and badged by id — its writes say the fix.
        let vector = self
            .vector
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .filter(|v| v.embedder.is_some() || v.embedder_error.is_some());
        let key = (
            Arc::as_ptr(&lt) as *const () as usize,
            self.redis.as_ref().map(|r| Arc::as_ptr(r) as *const () as usize),
            vector.as_ref().map(|v| Arc::as_ptr(&v.store) as *const () as usize),
        );
        let mut cache = self.layer_cache.lock().map_err(|_| StoreError::Other("layer cache poisoned".into()))?;
        if let Some((k, m)) = cache.as_ref()
            && *k == key
        {
            return Ok(m.clone());
        }
        let m = Arc::new(crate::memory::Memory::new(lt, self.redis.clone(), vector, self.cfg.memory.clone()));
        *cache = Some((key, m.clone()));
        Ok(m)
    }

    fn redis_or_err(&self) -> Result<Arc<dyn KeyStore>, StoreError> {
        self.redis.clone().ok_or_else(|| {
            StoreError::NotConfigured("Redis: set [profile.NAME.redis] url, REDIS_URL or --redis-url".into())
        })
    }

    fn spawn_in<F>(&mut self, slot: Slot, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Some(old) = self.tasks.remove(&slot) {
            old.abort();
        }
        let h = tokio::spawn(fut);
        self.tasks.insert(slot, h.abort_handle());
    }

    /// Every command is routed by name to the group that runs it: a new variant is a compile
    /// error here, never silently handed to the wrong tier.
    fn dispatch(&mut self, cmd: Command) {
        tracing::debug!(slot = ?cmd.slot(), command = command_name(&cmd), "dispatch");
        match cmd {
            Command::Cancel(slot) => {
                if let Some(h) = self.tasks.remove(&slot) {
                    h.abort();
                }
            }
            Command::SetWriteMode(on) => {
                self.write_mode = on;
                if let Some(r) = &self.redis {
                    r.set_writes_allowed(on && !self.cfg.read_only);
                }
            }
            cmd @ (Command::SelectDb { .. }
            | Command::Info { .. }
            | Command::Scan { .. }
            | Command::Meta { .. }
            | Command::SortKeys { .. }
            | Command::Value { .. }
            | Command::ExportValue { .. }
            | Command::Write { .. }
            | Command::Analyze { .. }
            | Command::Insight { .. }) => self.redis_command(cmd),
            cmd @ (Command::Conversations { .. }
            | Command::CountConversations { .. }
            | Command::DetectLayouts { .. }
            | Command::Messages { .. }
            | Command::Documents { .. }
            | Command::Document { .. }
            | Command::Collections { .. }
            | Command::ListDocuments { .. }) => self.long_term_command(cmd),
            cmd @ (Command::Search { .. } | Command::VectorStats { .. } | Command::WhyNot { .. }) => {
                self.vector_command(cmd)
            }
            cmd @ (Command::TierBadges { .. } | Command::Trace { .. } | Command::Audit { .. }) => {
                self.layer_command(cmd)
            }
            Command::Export { req, path, text, what } => {
                let tx = self.tx.clone();
                self.spawn_in(Slot::Export, async move {
                    let n = text.lines().count();
                    let r = match tokio::fs::write(&path, text.as_bytes()).await {
                        Ok(()) => Ok(format!("exported {what}: {n} JSON lines to {}", path.display())),
                        Err(e) => Err(format!("export to {}: {e}", path.display())),
                    };
                    let _ = tx.send(BackendEvent::Exported(req, r));
                });
            }
            Command::LoadReplay { req, path } => {
                let tx = self.tx.clone();
                let (t, keep) = (self.cfg.health.thresholds.clone(), self.cfg.health.window_s * 1000);
                self.spawn_in(Slot::Replay, async move {
                    let r = tokio::task::spawn_blocking(move || crate::replay::load(&path, &t, keep).map(Box::new))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    let _ = tx.send(BackendEvent::Replay(req, r));
                });
            }
        }
    }

    /// The profile's limit of commands per second for a whole-keyspace pass.
    fn max_ops(&self) -> u64 {
        self.cfg.redis.as_ref().map(|r| r.max_ops_per_sec).unwrap_or(crate::analysis::DEFAULT_MAX_OPS)
    }

    /// The Keys tab's commands, on the Redis connection.
    fn redis_command(&mut self, cmd: Command) {
        let tx = self.tx.clone();
        let conn = self.redis_conn.clone();
        let slot = cmd.slot();
        match cmd {
            Command::SelectDb { req, db } => {
                self.open_redis(Some(db));
                self.run_info(req, tx, conn);
            }
            Command::Info { req } => self.run_info(req, tx, conn),
            Command::Scan { req, pattern, type_filter } => {
                let store = self.redis_or_err();
                let count = self.cfg.redis.as_ref().map(|r| r.scan_count).unwrap_or(1000);
                self.spawn_in(Slot::Scan, async move {
                    let store = match store {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(BackendEvent::Scan(req, Err(e)));
                            return;
                        }
                    };
                    scan_all(store, req, pattern, type_filter, count, tx, conn).await;
                });
            }
            Command::Meta { req, keys, .. } => {
                let store = self.redis_or_err();
                self.spawn_in(slot.unwrap_or(Slot::Meta), async move {
                    let r = match store {
                        Ok(s) => {
                            let mut out = Vec::with_capacity(keys.len());
                            let mut res = Ok(());
                            for chunk in keys.chunks(500) {
                                let t = std::time::Instant::now();
                                let r = s.meta(chunk).await;
                                conn.took(t);
                                match r {
                                    Ok(m) => out.extend(m),
                                    Err(e) => {
                                        res = Err(e);
                                        break;
                                    }
                                }
                            }
                            conn.report(&res);
                            res.map(|_| out)
                        }
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(BackendEvent::Meta(req, r));
                });
            }
            Command::SortKeys { req, keys, by } => {
                let store = self.redis_or_err();
                let batch = self.cfg.redis.as_ref().map(|r| r.scan_count as usize).unwrap_or(1000);
                let max_ops = self.max_ops();
                self.spawn_in(Slot::Sort, async move {
                    let t0 = std::time::Instant::now();
                    let r = match store {
                        Ok(s) => sort_listing(s, keys, by, batch, max_ops, req, &tx).await,
                        Err(error) => Err(SortFailed { error, measured: 0 }),
                    };
                    let r = r.map(|mut s| {
                        s.took_ms = t0.elapsed().as_millis() as u64;
                        s
                    });
                    conn.report(&r.as_ref().map(|_| ()).map_err(|f| f.error.clone()));
                    let _ = tx.send(BackendEvent::Sorted(req, r));
                });
            }
            Command::Insight { req } => {
                let store = self.redis_or_err();
                self.spawn_in(Slot::Insight, async move {
                    let t = std::time::Instant::now();
                    let r = match store {
                        Ok(s) => s.insight().await,
                        Err(e) => Err(e),
                    };
                    conn.took(t);
                    conn.report(&r);
                    let _ = tx.send(BackendEvent::Insight(req, r));
                });
            }
            Command::Analyze { req, pattern } => {
                let store = self.redis_or_err();
                let delimiter = self.cfg.redis.as_ref().map(|r| r.delimiter.clone()).unwrap_or_else(|| ":".into());
                let max_ops = self.max_ops();
                self.spawn_in(Slot::Analyze, async move {
                    let store = match store {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(BackendEvent::Analysis(req, Err(e)));
                            return;
                        }
                    };
                    let ptx = tx.clone();
                    let last = std::sync::Mutex::new(std::time::Instant::now());
                    let progress = move |done: u64, total: Option<u64>| {
                        if let Ok(mut l) = last.lock()
                            && l.elapsed().as_millis() >= 100
                        {
                            *l = std::time::Instant::now();
                            let _ = ptx.send(BackendEvent::AnalysisProgress(req, done, total));
                        }
                    };
                    let opt =
                        crate::analysis::Options { pattern, delimiter, max_ops_per_sec: max_ops, ..Default::default() };
                    let r = crate::analysis::analyze(store, opt, progress).await;
                    conn.report(&r);
                    let _ = tx.send(BackendEvent::Analysis(req, r.map(Box::new)));
                });
            }
            Command::ExportValue { req, path, key } => {
                let store = self.redis_or_err();
                self.spawn_in(Slot::Export, async move {
                    let r = match store {
                        Ok(s) => export_value(s, &key, &path).await,
                        Err(e) => Err(format!("export: {e}")),
                    };
                    let _ = tx.send(BackendEvent::Exported(req, r));
                });
            }
            Command::Value { req, key, cursor } => {
                let store = self.redis_or_err();
                self.spawn_in(Slot::Value, async move {
                    let t = std::time::Instant::now();
                    let r = match store {
                        Ok(s) => s.value(&key, &cursor).await,
                        Err(e) => Err(e),
                    };
                    conn.took(t);
                    conn.report(&r);
                    let _ = tx.send(BackendEvent::Value(req, r));
                });
            }
            Command::Write { req, op } => {
                tracing::info!(op = ?std::mem::discriminant(&op), key = %crate::text::sanitize_line(op.key()), "write requested");
                // Defence in depth: the UI only sends writes in write mode, and the store's
                // own guard refuses them unless write mode was armed here.
                let store = self.redis_or_err();
                let allowed = self.write_mode && !self.cfg.read_only;
                self.spawn_in(Slot::Write, async move {
                    let r = match store {
                        Ok(_) if !allowed => Err(StoreError::ReadOnly("write".into())),
                        Ok(s) => s.write(&op).await,
                        Err(e) => Err(e),
                    };
                    conn.report(&r);
                    let _ = tx.send(BackendEvent::Write(req, r));
                });
            }
            other => unreachable!("{} is not a Redis command", command_name(&other)),
        }
    }

    /// The Conversations tab's reads of the long-term store.
    fn long_term_command(&mut self, cmd: Command) {
        match cmd {
            // Conversations and threads go through the profile's layout.
            Command::Conversations { req, filter, after, limit } => {
                self.spawn_reader(Slot::LtList, req, move |r| async move {
                    LtReply::Conversations(match r {
                        Ok(r) => r.conversations(&filter, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            Command::CountConversations { req, filter } => self.spawn_reader(Slot::LtCount, req, move |r| async move {
                match r {
                    Ok(r) => {
                        let n = r.count(&filter).await;
                        LtReply::Count(n, r.left_out())
                    }
                    Err(e) => LtReply::Count(Err(e), None),
                }
            }),
            Command::DetectLayouts { req } => {
                let lt = self.long_term.lock().ok().and_then(|g| g.clone());
                let redis = self.redis.clone();
                let tx = self.tx.clone();
                self.spawn_in(Slot::LtCount, async move {
                    let r = crate::layout::detect(lt, redis).await;
                    let _ = tx.send(BackendEvent::LongTerm(req, LtReply::Detected(r)));
                });
            }
            Command::Messages { req, conversation, after, limit } => {
                self.spawn_reader(Slot::LtThread, req, move |r| async move {
                    LtReply::Messages(match r {
                        Ok(r) => r.messages(&conversation, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            Command::Documents { req, paths } => self.spawn_lt(Slot::LtDocs, req, move |s| async move {
                let s = match s {
                    Ok(s) => s,
                    Err(e) => return LtReply::Documents(Err(e)),
                };
                let mut out = Vec::new();
                for p in paths {
                    match s.document(&p).await {
                        Ok(d) => out.push((p, d)),
                        Err(e) => return LtReply::Documents(Err(e)),
                    }
                }
                LtReply::Documents(Ok(out))
            }),
            Command::Document { req, path } => self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                LtReply::Documents(match s {
                    Ok(s) => s.document(&path).await.map(|d| vec![(path, d)]),
                    Err(e) => Err(e),
                })
            }),
            Command::Collections { req, parent } => self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                LtReply::Collections(match s {
                    Ok(s) => s.collections(parent.as_deref()).await,
                    Err(e) => Err(e),
                })
            }),
            Command::ListDocuments { req, collection, after, limit } => {
                self.spawn_lt(Slot::LtBrowse, req, move |s| async move {
                    LtReply::ListDocuments(match s {
                        Ok(s) => s.browse_documents(&collection, after.as_ref(), limit).await,
                        Err(e) => Err(e),
                    })
                })
            }
            other => unreachable!("{} is not a long-term command", command_name(&other)),
        }
    }

    /// The Semantic Search tab's requests of the vector tier.
    fn vector_command(&mut self, cmd: Command) {
        match cmd {
            Command::Search { req, params } => self.spawn_vec(Slot::VecSearch, req, move |v| async move {
                crate::message::VecReply::Search(match v {
                    Ok(v) => crate::search::search(v.store.as_ref(), v.query_embedder(), v.dimension, &params).await,
                    Err(e) => Err(e),
                })
            }),
            Command::VectorStats { req } => self.spawn_vec(Slot::VecStats, req, move |v| async move {
                crate::message::VecReply::Stats(match v {
                    Ok(v) => v.store.stats().await,
                    Err(e) => Err(e),
                })
            }),
            Command::WhyNot { req, params, id } => self.spawn_vec(Slot::VecWhy, req, move |v| async move {
                crate::message::VecReply::WhyNot(match v {
                    Ok(v) => crate::search::why_not(v.store.as_ref(), v.query_embedder(), &params, &id, 1000).await,
                    Err(e) => Err(e),
                })
            }),
            other => unreachable!("{} is not a vector command", command_name(&other)),
        }
    }

    /// Requests of the memory layer across the tiers (badges, trace, audit).
    fn layer_command(&mut self, cmd: Command) {
        let tx = self.tx.clone();
        match cmd {
            Command::TierBadges { req, conversation, ids } => {
                let mem = self.layer();
                self.spawn_in(Slot::Badges, async move {
                    let b = match mem {
                        Ok(m) => crate::trace::badges(&m, &conversation, &ids).await,
                        Err(e) => crate::trace::Badges { errors: vec![e.to_string()], ..Default::default() },
                    };
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Badges(Box::new(b))));
                });
            }
            Command::Trace { req, conversation, message } => {
                let mem = self.layer();
                let vector_pending = self.cfg.vector.is_some();
                self.spawn_in(Slot::Trace, async move {
                    let t = match mem {
                        Ok(m) => {
                            let mut t = crate::trace::trace(&m, &conversation, &message).await;
                            if t.vector.is_none() && vector_pending {
                                t.vector = Some(Err(StoreError::Unreachable(
                                    "vector tier: still connecting, or its index embeds for itself (no embedder)"
                                        .into(),
                                )));
                            }
                            t
                        }
                        Err(e) => crate::trace::Trace {
                            path: crate::memory::message_path(&conversation, &message),
                            conversation,
                            message,
                            document: Err(e),
                            redis: None,
                            vector: None,
                            elapsed_ms: 0,
                        },
                    };
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Trace(Box::new(t))));
                });
            }
            Command::Audit { req, repair } => {
                let mem = self.layer();
                let allowed = self.write_mode && !self.cfg.read_only;
                self.spawn_in(Slot::Audit, async move {
                    let r = match mem {
                        Ok(_) if repair && !allowed => Err(StoreError::ReadOnly("repair".into())),
                        Ok(m) => {
                            let ptx = tx.clone();
                            let mut last = std::time::Instant::now();
                            let mut progress = move |p: &crate::audit::Progress| {
                                if last.elapsed().as_millis() >= 100 {
                                    last = std::time::Instant::now();
                                    let _ = ptx.send(BackendEvent::Layer(req, LayerReply::AuditProgress(p.clone())));
                                }
                            };
                            let opts = crate::audit::Options { repair, dry_run: false, ..Default::default() };
                            crate::audit::run(&m, opts, &mut progress).await.map(Box::new)
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &r {
                        tracing::warn!(error = %e, repair, "audit failed");
                    }
                    let _ = tx.send(BackendEvent::Layer(req, LayerReply::Audit(r)));
                });
            }
            other => unreachable!("{} is not a layer command", command_name(&other)),
        }
    }

    fn run_info(&mut self, req: RequestId, tx: UnboundedSender<BackendEvent>, conn: ConnTracker) {
        let store = self.redis_or_err();
        self.spawn_in(Slot::Info, async move {
            let r = match store {
                Ok(s) => s.server_info().await,
                Err(e) => Err(e),
            };
            conn.report(&r);
            let _ = tx.send(BackendEvent::Info(req, r));
        });
    }
}

/// The outcome of a long-term reply, for the connection state.
fn lt_result(r: &LtReply) -> Result<(), StoreError> {
    let e = match r {
        LtReply::Conversations(Err(e))
        | LtReply::Count(Err(e), _)
        | LtReply::Messages(Err(e))
        | LtReply::Documents(Err(e))
        | LtReply::Collections(Err(e))
        | LtReply::ListDocuments(Err(e)) => e.clone(),
        _ => return Ok(()),
    };
    Err(e)
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Scan { .. } => "scan",
        Command::Cancel(_) => "cancel",
        Command::Meta { .. } => "meta",
        Command::SortKeys { .. } => "sort",
        Command::Value { .. } => "value",
        Command::DetectLayouts { .. } => "detect layouts",
        Command::Info { .. } => "info",
        Command::SelectDb { .. } => "select_db",
        Command::SetWriteMode(_) => "set_write_mode",
        Command::Write { .. } => "write",
        Command::Conversations { .. } => "conversations",
        Command::CountConversations { .. } => "count_conversations",
        Command::Messages { .. } => "messages",
        Command::Documents { .. } => "documents",
        Command::Collections { .. } => "collections",
        Command::Document { .. } => "document",
        Command::Search { .. } => "search",
        Command::VectorStats { .. } => "vector_stats",
        Command::WhyNot { .. } => "why_not",
        Command::ListDocuments { .. } => "list_documents",
        Command::TierBadges { .. } => "tier_badges",
        Command::Trace { .. } => "trace",
        Command::Audit { .. } => "audit",
        Command::Analyze { .. } => "analyze",
        Command::Insight { .. } => "insight",
        Command::Export { .. } => "export",
        Command::ExportValue { .. } => "export_value",
        Command::LoadReplay { .. } => "load_replay",
    }
}

/// A whole value to a file, as data (`ValuePage::data_lines`): the first page's header line
/// (its `complete` now true), then every element of every page, read one page (or string
/// window) at a time and written as it comes — a value larger than memory is never held
/// whole. A string's windows are lines of their own with their `offset`. A read that fails
/// ends the file with an `{"error": …, "complete": false}` line and says so.
async fn export_value(store: Arc<dyn KeyStore>, key: &[u8], path: &std::path::Path) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::File::create(path).await.map_err(|e| format!("export to {}: {e}", path.display()))?;
    let mut cursor = crate::domain::PageCursor::Start;
    let (mut pages, mut n) = (0u64, 0u64);
    let mut break_err: Option<String> = None;
    let failed = loop {
        let page = match store.value(key, &cursor).await {
            Ok(Some(p)) => p,
            Ok(None) if pages == 0 => return Err("export: the key no longer exists".into()),
            Ok(None) => break Some("the key was deleted or expired during the export".to_string()),
            Err(e) => break Some(e.to_string()),
        };
        let mut lines = page.data_lines();
        // A large RedisJSON document comes by member: each member too large to preview is read
        // whole now, one `JSON.GET KEY PATH` at a time.
        if let crate::domain::ValueBody::Json(crate::domain::JsonDoc::Members { .. }) = &page.body {
            for l in lines.iter_mut().skip(1).filter(|l| l["not_read"] == true) {
                let path = l["path"].as_str().unwrap_or_default().to_string();
                match json_member(&*store, key, &path).await {
                    Ok(v) => {
                        l.as_object_mut().map(|o| o.remove("not_read"));
                        l["json"] = v;
                    }
                    Err(e) => {
                        break_err = Some(e);
                        break;
                    }
                }
            }
        }
        if pages == 0 {
            lines[0]["complete"] = true.into();
            lines[0].as_object_mut().map(|o| o.remove("elements_here"));
        } else {
            lines.remove(0);
        }
        if let (crate::domain::ValueBody::String(_), Some(l)) = (&page.body, lines.last_mut()) {
            let at = match &cursor {
                crate::domain::PageCursor::Offset(o) => *o,
                _ => 0,
            };
            l["offset"] = at.into();
        }
        let mut text = String::new();
        for l in &lines {
            text.push_str(&crate::text::json_safe(l.to_string()));
            text.push('\n');
        }
        f.write_all(text.as_bytes()).await.map_err(|e| format!("export to {}: {e}", path.display()))?;
        n += lines.len() as u64;
        pages += 1;
        if let Some(e) = break_err.take() {
            break Some(e);
        }
        match page.next {
            Some(c) => cursor = c,
            None => break None,
        }
    };
    if let Some(e) = &failed {
        let l = serde_json::json!({"error": e, "complete": false}).to_string();
        let _ = f.write_all(format!("{l}\n").as_bytes()).await;
    }
    f.flush().await.map_err(|e| format!("export to {}: {e}", path.display()))?;
    match failed {
        None => Ok(format!("exported the whole value: {n} JSON lines ({pages} reads) to {}", path.display())),
        Some(e) => Err(format!("export stopped after {pages} reads ({n} lines in {}): {e}", path.display())),
    }
}

/// One member of a RedisJSON document (`JSON.GET KEY PATH`, whose answer is the array of
/// matches), as JSON.
async fn json_member(store: &dyn KeyStore, key: &[u8], path: &str) -> Result<serde_json::Value, String> {
    let op = crate::domain::CacheOp::JsonGet { key: key.to_vec().into(), path: path.into() };
    match store.exec(&[op]).await.map_err(|e| e.to_string())?.pop() {
        Some(crate::domain::CacheReply::Value(Some(text))) => match serde_json::from_slice(&text) {
            Ok(serde_json::Value::Array(mut a)) if a.len() == 1 => Ok(a.remove(0)),
            Ok(other) => Ok(other),
            Err(e) => Err(format!("{path}: not JSON ({e})")),
        },
        _ => Err(format!("{path}: gone during the export")),
    }
}

/// A sort by TTL or size: every key of the listing measured (PTTL or MEMORY USAGE, throttled
/// like an analysis, progress every 100 ms), then ordered on a blocking thread — never on the
/// UI thread, never on the runtime's workers.
async fn sort_listing(
    store: Arc<dyn KeyStore>,
    keys: Arc<Vec<crate::domain::Key>>,
    by: crate::keytree::SortBy,
    batch: usize,
    max_ops: u64,
    req: RequestId,
    tx: &UnboundedSender<BackendEvent>,
) -> Result<Box<Sorted>, SortFailed> {
    use crate::keytree::SortBy;
    let what = match by {
        SortBy::Ttl => crate::domain::Measure::Ttl,
        SortBy::Size => crate::domain::Measure::Memory,
        SortBy::Name => {
            let order = crate::keytree::order_by(&vec![None; keys.len()], by);
            return Ok(Box::new(Sorted { keys, order, metrics: Default::default(), took_ms: 0 }));
        }
    };
    let last = Mutex::new(std::time::Instant::now());
    let progress = |done: u64| {
        if let Ok(mut l) = last.lock()
            && l.elapsed().as_millis() >= 100
        {
            *l = std::time::Instant::now();
            let _ = tx.send(BackendEvent::SortProgress(req, done));
        }
    };
    let metrics = crate::analysis::measure_listing(store, keys.clone(), what, max_ops, batch, progress)
        .await
        .map_err(|(error, measured)| SortFailed { error, measured })?;
    let _ = tx.send(BackendEvent::SortProgress(req, metrics.len() as u64));
    let metrics = Arc::new(metrics);
    let m = metrics.clone();
    let order = tokio::task::spawn_blocking(move || crate::keytree::order_by(&m, by))
        .await
        .map_err(|e| SortFailed { error: StoreError::Other(e.to_string()), measured: 0 })?;
    Ok(Box::new(Sorted { keys, order, metrics, took_ms: 0 }))
}

/// The incremental SCAN loop: DBSIZE for progress, then SCAN with an explicit COUNT until the
/// cursor returns to 0, streaming each reply as a batch.
async fn scan_all(
    store: Arc<dyn KeyStore>,
    req: RequestId,
    pattern: String,
    type_filter: Option<String>,
    count: u32,
    tx: UnboundedSender<BackendEvent>,
    conn: ConnTracker,
) {
    let t = std::time::Instant::now();
    let scan = crate::store::KeyspaceScan::start(store, &pattern, type_filter.as_deref(), count).await;
    conn.took(t);
    conn.report(&scan);
    let mut scan = match scan {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(BackendEvent::Scan(req, Err(e)));
            return;
        }
    };
    let total = scan.total;
    let mut open = scan.nodes.len();
    let (mut seen, mut calls) = (0u64, 0u64);
    while open > 0 {
        let t = std::time::Instant::now();
        let Some(page) = scan.next_page().await else { break };
        conn.took(t);
        conn.report(&page);
        match page {
            Ok(p) => {
                calls += 1;
                seen += p.keys.len() as u64;
                open -= usize::from(p.node_done);
                let done = open == 0;
                if done {
                    tracing::debug!(seen, calls, nodes = scan.nodes.len(), "scan finished");
                }
                let batch = ScanBatch { keys: p.keys, seen, total, calls, done };
                if tx.send(BackendEvent::Scan(req, Ok(batch))).is_err() {
                    return;
                }
            }
            Err(e) => {
                // What was listed stays on screen; the error says which node stopped.
                tracing::warn!(error = %e, seen, calls, "scan failed");
                let _ = tx.send(BackendEvent::Scan(req, Err(e)));
                return;
            }
        }
    }
}
