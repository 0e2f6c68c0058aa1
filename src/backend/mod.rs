//! The backend task: owns the store handles, runs one tokio task per request, aborts the
//! superseded request of the same slot, and reports every result as a `BackendEvent`.

use crate::config::Config;
use crate::domain::{ConnState, ScanBatch, Tier};
use crate::error::StoreError;
use crate::health::Probe;
use crate::message::{
    BackendEvent, Command, FileCmd, FileReply, LongTermCmd, LongTermReply, MemoryCmd, MemoryReply, RedisCmd,
    RedisReply, RequestId, Slot, SortFailed, Sorted, VectorCmd, VectorReply,
};
use crate::store::{KeyStore, LongTermStore};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

mod commands;
pub use commands::RECALL_CAP;
mod conn;
mod poller;
mod short_term;

use commands::*;
use conn::*;

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
    /// The profiler's tail filter, read by the running session (`:profile`).
    profile_filter: Arc<Mutex<crate::analysis::profile::TailFilter>>,
    /// The server's search indexes (the last INFO), for drawing values.
    search_indexes: Arc<Mutex<Vec<crate::domain::SearchIndex>>>,
    /// The memory layer over the current connections, and which connections those are.
    memory_cache: Mutex<Option<(MemoryKey, Arc<crate::memory::Memory>)>>,
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
type MemoryKey = (usize, Option<usize>, Option<usize>);

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
            profile_filter: Default::default(),
            search_indexes: Default::default(),
            memory_cache: Mutex::new(None),
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
            model_check: Default::default(),
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
        Fut: std::future::Future<Output = VectorReply> + Send + 'static,
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
        Fut: std::future::Future<Output = LongTermReply> + Send + 'static,
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
        Fut: std::future::Future<Output = LongTermReply> + Send + 'static,
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
    fn memory(&self) -> Result<Arc<crate::memory::Memory>, StoreError> {
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
        let mut cache =
            self.memory_cache.lock().map_err(|_| StoreError::Other("memory layer cache poisoned".into()))?;
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

    /// Every command goes to the group of its tier, with the slot it runs in.
    fn dispatch(&mut self, cmd: Command) {
        tracing::debug!(command = cmd.name(), "dispatch");
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
            Command::Redis(req, c) => self.redis_command(c.slot(), req, c),
            Command::LongTerm(req, c) => self.long_term_command(c.slot(), req, c),
            Command::Vector(req, c) => self.vector_command(c.slot(), req, c),
            Command::Memory(req, c) => self.memory_command(c.slot(), req, c),
            Command::File(req, c) => self.file_command(c.slot(), req, c),
        }
    }

    /// Files: an export written, a whole value streamed to a file, a recording read.
    fn file_command(&mut self, slot: Slot, req: RequestId, cmd: FileCmd) {
        let tx = self.tx.clone();
        let send = move |r| {
            let _ = tx.send(BackendEvent::File(req, r));
        };
        match cmd {
            FileCmd::Export { path, text, what } => self.spawn_in(slot, async move {
                let n = text.lines().count();
                send(FileReply::Exported(match tokio::fs::write(&path, text.as_bytes()).await {
                    Ok(()) => Ok(format!("exported {what}: {n} JSON lines to {}", path.display())),
                    Err(e) => Err(format!("export to {}: {e}", path.display())),
                }));
            }),
            FileCmd::ExportValue { path, key } => {
                let store = self.redis_or_err();
                self.spawn_in(slot, async move {
                    send(FileReply::Exported(match store {
                        Ok(s) => short_term::export_value(s, &key, &path).await,
                        Err(e) => Err(format!("export: {e}")),
                    }));
                });
            }
            FileCmd::LoadReplay { path } => {
                let (t, keep) = (self.cfg.health.thresholds.clone(), self.cfg.health.window_s * 1000);
                self.spawn_in(slot, async move {
                    let r = tokio::task::spawn_blocking(move || crate::replay::load(&path, &t, keep).map(Box::new))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    send(FileReply::Replay(r));
                });
            }
        }
    }
}
