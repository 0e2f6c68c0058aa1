//! The short-term tier's commands: scans, metadata, values, writes, sorts and whole-value exports, INFO.

use super::*;

impl Backend {
    /// The Keys tab's commands, on the Redis connection.
    pub(super) fn redis_command(&mut self, slot: Slot, req: RequestId, cmd: RedisCmd) {
        match cmd {
            RedisCmd::SelectDb { db } => {
                self.open_redis(Some(db));
                let indexes = self.search_indexes.clone();
                self.spawn_redis(slot, req, RedisReply::Info, |s| async move { info_kept(s, indexes).await });
            }
            RedisCmd::Info => {
                let indexes = self.search_indexes.clone();
                self.spawn_redis(slot, req, RedisReply::Info, |s| async move { info_kept(s, indexes).await })
            }
            RedisCmd::Value { key, cursor, format } => {
                // Decoding (decompression, a pickle, a large JSON) runs here, off the UI thread.
                let (indexes, budget) =
                    (self.search_indexes.clone(), crate::decode::budget_for(self.cfg.redis_settings().preview_bytes));
                self.spawn_redis(slot, req, RedisReply::Value, move |s| async move {
                    let Some(page) = s.value(&key, &cursor).await? else { return Ok(None) };
                    let drawn = tokio::task::spawn_blocking(move || {
                        let idx = indexes.lock().map(|g| g.clone()).unwrap_or_default();
                        let mut page = page;
                        page.lines = crate::decode::page::value_lines_with(&page, &idx, format, budget);
                        page.formats = crate::decode::page::formats_of(&page, budget)
                            .into_iter()
                            .map(|f| f.name().to_string())
                            .collect();
                        page
                    })
                    .await
                    .map_err(|e| StoreError::Other(e.to_string()))?;
                    Ok(Some(Box::new(drawn)))
                })
            }
            RedisCmd::Server => {
                self.spawn_redis(slot, req, RedisReply::Server, |s| async move { s.server_report().await })
            }
            RedisCmd::PubSub { pattern } => {
                let budget = crate::decode::budget_for(self.cfg.redis_settings().preview_bytes);
                self.spawn_stream(slot, req, RedisReply::PubSub, move |s, send| {
                    crate::analysis::pubsub::session(s, pattern, budget, send)
                });
            }
            RedisCmd::ProfileFilter { filter } => {
                if let Ok(mut f) = self.profile_filter.lock() {
                    *f = filter;
                }
            }
            RedisCmd::Profile { seconds, max_lines } => {
                let filter = self.profile_filter.clone();
                let limits = crate::analysis::profile::Limits {
                    seconds,
                    max_lines,
                    delimiter: self.cfg.redis_settings().delimiter.clone(),
                    tail_rows: 200,
                };
                self.spawn_stream(slot, req, RedisReply::Profile, move |s, send| {
                    crate::analysis::profile::session(s, limits, filter, send)
                });
            }
            RedisCmd::Meta { keys } => self.spawn_redis(slot, req, RedisReply::Meta, move |s| async move {
                let mut out = Vec::with_capacity(keys.len());
                for chunk in keys.chunks(500) {
                    out.extend(s.meta(chunk).await?);
                }
                Ok(out)
            }),
            RedisCmd::Write { op } => {
                tracing::info!(op = ?std::mem::discriminant(&op), key = %crate::text::sanitize_line(op.key()), "write requested");
                // Defence in depth: the UI only sends writes in write mode, and the store's
                // own guard refuses them unless write mode was armed here.
                let allowed = self.write_mode && !self.cfg.read_only;
                self.spawn_redis(slot, req, RedisReply::Write, move |s| async move {
                    if allowed { s.write(&op).await } else { Err(StoreError::ReadOnly("write".into())) }
                })
            }
            RedisCmd::Scan { pattern, type_filter } => {
                let (store, tx, conn) = (self.redis_or_err(), self.tx.clone(), self.redis_conn.clone());
                let count = self.cfg.redis_settings().scan_count;
                self.spawn_in(slot, async move {
                    match store {
                        Ok(s) => scan_all(s, req, pattern, type_filter, count, tx, conn).await,
                        Err(e) => {
                            let _ = tx.send(BackendEvent::Redis(req, RedisReply::Scan(Err(e))));
                        }
                    }
                });
            }
            RedisCmd::Sort { keys, by } => {
                let (store, tx, conn) = (self.redis_or_err(), self.tx.clone(), self.redis_conn.clone());
                let (batch, max_ops) =
                    (self.cfg.redis_settings().scan_count as usize, self.cfg.redis_settings().max_ops_per_sec);
                self.spawn_in(slot, async move {
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
                    let _ = tx.send(BackendEvent::Redis(req, RedisReply::Sorted(r)));
                });
            }
            RedisCmd::Analyze { pattern } => {
                let (store, tx, conn) = (self.redis_or_err(), self.tx.clone(), self.redis_conn.clone());
                let (delimiter, max_ops) =
                    (self.cfg.redis_settings().delimiter.clone(), self.cfg.redis_settings().max_ops_per_sec);
                self.spawn_in(slot, async move {
                    let store = match store {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = tx.send(BackendEvent::Redis(req, RedisReply::Analysis(Err(e))));
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
                            let _ = ptx.send(BackendEvent::Redis(req, RedisReply::AnalysisProgress(done, total)));
                        }
                    };
                    let opt =
                        crate::analysis::Options { pattern, delimiter, max_ops_per_sec: max_ops, ..Default::default() };
                    let r = crate::analysis::analyze(store, opt, progress).await;
                    conn.report(&r);
                    let _ = tx.send(BackendEvent::Redis(req, RedisReply::Analysis(r.map(Box::new))));
                });
            }
        }
    }

    /// Run one Redis request: `call` gets the store (without one, the reason is the answer);
    /// the call is timed and its outcome given to the connection state, and `reply` makes
    /// the event of its result.
    /// A session sending snapshots (each, then its last) until it ends or is cancelled.
    fn spawn_stream<S, F, Fut>(
        &mut self,
        slot: Slot,
        req: RequestId,
        reply: fn(Result<Box<S>, StoreError>) -> RedisReply,
        session: F,
    ) where
        S: Send + 'static,
        F: FnOnce(Arc<dyn KeyStore>, Box<dyn FnMut(S) + Send>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = S> + Send + 'static,
    {
        let (store, tx) = (self.redis_or_err(), self.tx.clone());
        self.spawn_in(slot, async move {
            let s = match store {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(BackendEvent::Redis(req, reply(Err(e))));
                    return;
                }
            };
            let t = tx.clone();
            let send = Box::new(move |snap| {
                let _ = t.send(BackendEvent::Redis(req, reply(Ok(Box::new(snap)))));
            });
            let last = session(s, send).await;
            let _ = tx.send(BackendEvent::Redis(req, reply(Ok(Box::new(last)))));
        });
    }

    fn spawn_redis<T, F, Fut>(
        &mut self,
        slot: Slot,
        req: RequestId,
        reply: fn(Result<T, StoreError>) -> RedisReply,
        call: F,
    ) where
        T: Send + 'static,
        F: FnOnce(Arc<dyn KeyStore>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (store, tx, conn) = (self.redis_or_err(), self.tx.clone(), self.redis_conn.clone());
        self.spawn_in(slot, async move {
            let r = match store {
                Ok(s) => {
                    let t = std::time::Instant::now();
                    let r = call(s).await;
                    conn.took(t);
                    conn.report(&r);
                    r
                }
                Err(e) => Err(e),
            };
            let _ = tx.send(BackendEvent::Redis(req, reply(r)));
        });
    }
}

/// A whole value to a file, as data (`ValuePage::data_lines`): the first page's header line
/// (its `complete` now true), then every element of every page, read one page (or string
/// window) at a time and written as it comes — a value larger than memory is never held
/// whole. A string's windows are lines of their own with their `offset`. A read that fails
/// ends the file with an `{"error": …, "complete": false}` line and says so.
pub(super) async fn export_value(
    store: Arc<dyn KeyStore>,
    key: &[u8],
    path: &std::path::Path,
) -> Result<String, String> {
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
pub(super) async fn json_member(store: &dyn KeyStore, key: &[u8], path: &str) -> Result<serde_json::Value, String> {
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
pub(super) async fn sort_listing(
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
            let _ = tx.send(BackendEvent::Redis(req, RedisReply::SortProgress(done)));
        }
    };
    let metrics = crate::analysis::measure_listing(store, keys.clone(), what, max_ops, batch, progress)
        .await
        .map_err(|(error, measured)| SortFailed { error, measured })?;
    let _ = tx.send(BackendEvent::Redis(req, RedisReply::SortProgress(metrics.len() as u64)));
    let metrics = Arc::new(metrics);
    let m = metrics.clone();
    let order = tokio::task::spawn_blocking(move || crate::keytree::order_by(&m, by))
        .await
        .map_err(|e| SortFailed { error: StoreError::Other(e.to_string()), measured: 0 })?;
    Ok(Box::new(Sorted { keys, order, metrics, took_ms: 0 }))
}

/// The incremental SCAN loop: DBSIZE for progress, then SCAN with an explicit COUNT until the
/// cursor returns to 0, streaming each reply as a batch.
pub(super) async fn scan_all(
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
            let _ = tx.send(BackendEvent::Redis(req, RedisReply::Scan(Err(e))));
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
                if tx.send(BackendEvent::Redis(req, RedisReply::Scan(Ok(batch)))).is_err() {
                    return;
                }
            }
            Err(e) => {
                // What was listed stays on screen; the error says which node stopped.
                tracing::warn!(error = %e, seen, calls, "scan failed");
                let _ = tx.send(BackendEvent::Redis(req, RedisReply::Scan(Err(e))));
                return;
            }
        }
    }
}

/// INFO for the Keys tab, its search indexes kept for drawing values (a hash field an index
/// holds as a VECTOR is shown by the index's type).
async fn info_kept(
    s: Arc<dyn KeyStore>,
    keep: Arc<Mutex<Vec<crate::domain::SearchIndex>>>,
) -> Result<crate::domain::ServerInfo, StoreError> {
    let info = s.server_info().await?;
    if let Ok(mut g) = keep.lock() {
        *g = info.search_indexes.clone();
    }
    Ok(info)
}
