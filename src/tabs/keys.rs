//! The Redis Keys tab: incremental SCAN into a flat list or namespace tree, lazily fetched
//! metadata for visible rows, a paged value viewer for every type, and guarded writes.

use super::{Ask, Cx, InputKind, Pending, WriteKind};
use crate::config::Config;
use crate::domain::{Blob, Key, KeyMeta, KeyType, PageCursor, ServerInfo, Ttl, ValueBody, ValuePage, WriteOp};
use crate::error::StoreError;
use crate::keymap::{Action, Context};
use crate::keytree::{KeyIndex, Row, SortBy, ViewMode};
use crate::message::{BackendEvent, Command, RequestId};
use crate::text::{self, Encoding};
use std::collections::HashMap;

/// How often the list refreshes itself while idle: the header's counts (INFO keyspace) always,
/// the listing itself when the database holds at most [`LIVE_MAX`] keys and the order is by
/// name (a list sorted by TTL or size keeps its order until `r`, so rows do not move).
pub const LIVE_MS: u64 = 5_000;
pub const LIVE_MAX: u64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Value,
}

#[derive(Debug, Clone, Default)]
pub struct ScanProgress {
    pub req: Pending,
    pub seen: u64,
    pub total: Option<u64>,
    pub calls: u64,
    pub running: bool,
    pub cancelled: bool,
    /// The list on screen is from the previous scan until the first batch arrives.
    pub replace_on_first: bool,
    /// A rescan of the listing on screen (`r`, a retry, a write's reload): its keys are
    /// gathered aside and swapped in whole when it ends, so the list never empties and the
    /// selection stays on its key; a rescan that fails leaves the previous listing.
    pub aside: bool,
}

/// A sort by TTL or size being measured: every key of the listing, in the backend (the rows
/// stay in name order until the order arrives; Esc stops it).
#[derive(Debug, Clone)]
pub struct SortJob {
    pub req: Pending,
    pub by: SortBy,
    pub total: u64,
    pub done: u64,
    pub started_ms: u64,
}

#[derive(Debug, Clone)]
pub struct MetaEntry {
    pub meta: KeyMeta,
    pub at_ms: u64,
}

pub use super::{LineStyle, TabError};

#[derive(Debug, Clone)]
pub struct ValueState {
    pub req: Pending,
    pub key: Key,
    pub cursor: PageCursor,
    pub back: Vec<PageCursor>,
    /// Elements on each page before this one (HSCAN/SSCAN pages have no offset of their own:
    /// their position is the sum).
    pub before: Vec<u64>,
    pub page: Option<ValuePage>,
    pub lines: Vec<(LineStyle, String)>,
    pub loaded_at_ms: u64,
    pub scroll: usize,
    pub gone: bool,
    pub error: Option<String>,
    pub expiry_checked: bool,
}

pub struct KeysTab {
    pub configured: bool,
    /// The profile's limit of commands per second for an analysis or a sort (shown with them).
    pub max_ops_per_sec: u64,
    /// `:analyze`: the keyspace analysis shown instead of the list while open.
    pub analysis: Option<super::analysis::AnalysisView>,
    /// `:server`: the slow log, clients and command counters, shown instead of the list.
    pub server: Option<super::server::ServerView>,
    /// The live refresh: when it last ran, its scan (keys gathered aside, swapped in whole so
    /// the list never empties) and the keys it found new (marked until the next one).
    live_at_ms: u64,
    live_req: Pending,
    /// Keys of a scan gathered aside (a live refresh or a rescan), swapped in when complete.
    live_buf: Vec<Key>,
    /// The MATCH and TYPE of the keys in the list (a rescan of the same query goes aside).
    listed: Option<(String, Option<String>)>,
    pub fresh: std::collections::HashSet<Key>,
    pub index: KeyIndex,
    pub pattern: String,
    pub type_filter: Option<String>,
    pub scan: ScanProgress,
    pub meta: HashMap<Key, MetaEntry>,
    meta_req: Pending,
    meta_inflight: Vec<Key>,
    /// A sort by TTL or size being measured, and what the last one found (for the header).
    pub sorting: Option<SortJob>,
    pub sort_note: Option<String>,
    pub selected: usize,
    pub offset: usize,
    /// Rows of the key list and of the value pane in the last frame (their page sizes).
    pub view_rows: usize,
    pub value_rows: usize,
    pub focus: Focus,
    pub value: Option<ValueState>,
    pub info: Option<ServerInfo>,
    info_req: Pending,
    pub db: Option<u32>,
    pub error: Option<TabError>,
    write_req: Pending,
    now_ms: u64,
}

impl KeysTab {
    pub fn new(cfg: &Config) -> KeysTab {
        let delim = cfg.redis.as_ref().map(|r| r.delimiter.clone()).unwrap_or_else(|| ":".into());
        KeysTab {
            configured: cfg.redis.is_some(),
            max_ops_per_sec: cfg.redis.as_ref().map(|r| r.max_ops_per_sec).unwrap_or(crate::analysis::DEFAULT_MAX_OPS),
            analysis: None,
            server: None,
            live_at_ms: 0,
            live_req: Pending::default(),
            live_buf: Vec::new(),
            listed: None,
            fresh: Default::default(),
            index: KeyIndex::new(&delim),
            pattern: "*".into(),
            type_filter: None,
            scan: ScanProgress::default(),
            meta: HashMap::new(),
            meta_req: Pending::default(),
            meta_inflight: Vec::new(),
            sorting: None,
            sort_note: None,
            selected: 0,
            offset: 0,
            view_rows: 20,
            value_rows: 20,
            focus: Focus::List,
            value: None,
            info: None,
            info_req: Pending::default(),
            db: None,
            error: None,
            write_req: Pending::default(),
            now_ms: 0,
        }
    }

    pub fn context(&self) -> Context {
        if self.server.is_some() {
            return Context::Server;
        }
        if self.analysis.is_some() {
            return Context::Analysis;
        }
        match self.focus {
            Focus::List => Context::KeyList,
            Focus::Value => Context::Value,
        }
    }

    /// The rows the frame gave the list and the value pane; the rows now in view get metadata.
    pub fn set_view_rows(&mut self, list: usize, value: usize, cx: &mut Cx) -> Option<Command> {
        self.view_rows = list.max(1);
        self.value_rows = value.max(1);
        self.clamp_scroll();
        self.visible_meta(cx)
    }

    pub fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        let mut v = self.rescan(cx);
        v.push(self.info_cmd(cx));
        v
    }

    fn info_cmd(&mut self, cx: &mut Cx) -> Command {
        let req = self.info_req.issue(cx);
        Command::Info { req }
    }

    /// Keys in the selected database now (INFO keyspace), when known.
    pub fn db_keys(&self) -> Option<u64> {
        let db = self.db.unwrap_or(0);
        self.info.as_ref().map(|i| i.keyspace.iter().find(|d| d.db == db).map(|d| d.keys).unwrap_or(0))
    }

    /// The listing refreshes itself (`LIVE_MS`): the counts always, the keys when it is small
    /// and ordered by name; never while a scan, a value page, an error or a view is on.
    fn live(&mut self, now: u64, cx: &mut Cx) -> Vec<Command> {
        if !self.configured
            || self.scan.running
            || self.error.is_some()
            || self.analysis.is_some()
            || self.server.is_some()
            || self.live_req.waiting()
            || now < self.live_at_ms + LIVE_MS
        {
            return vec![];
        }
        self.live_at_ms = now;
        let mut cmds = vec![self.info_cmd(cx)];
        let small = self.db_keys().is_some_and(|n| n <= LIVE_MAX) && self.index.len() as u64 <= LIVE_MAX;
        if small && self.index.sort() == SortBy::Name && !self.scan.cancelled {
            self.live_buf.clear();
            let req = self.live_req.issue(cx);
            cmds.push(Command::Scan { req, pattern: self.pattern.clone(), type_filter: self.type_filter.clone() });
        }
        cmds
    }

    /// A live scan's keys, swapped in when it is complete: new keys inserted (and marked),
    /// deleted ones removed, the selection kept on its key.
    fn live_batch(&mut self, batch: crate::domain::ScanBatch, cx: &mut Cx) -> Vec<Command> {
        self.live_buf.extend(batch.keys);
        if !batch.done {
            return vec![];
        }
        self.live_req.forget();
        let now = std::mem::take(&mut self.live_buf);
        self.swap_in(now, cx)
    }

    /// A complete listing gathered aside replaces the one on screen: the selection kept on its
    /// key, metadata of keys gone dropped, new keys marked when the listing is small enough to
    /// compare (`LIVE_MAX`).
    fn swap_in(&mut self, mut now: Vec<Key>, cx: &mut Cx) -> Vec<Command> {
        now.sort_unstable();
        now.dedup();
        let old = self.index.keys();
        if now.as_slice() == old {
            self.fresh.clear();
            return vec![];
        }
        self.fresh = if now.len() as u64 <= LIVE_MAX && old.len() as u64 <= LIVE_MAX {
            now.iter().filter(|k| old.binary_search(k).is_err()).cloned().collect()
        } else {
            Default::default()
        };
        self.meta.retain(|k, _| now.binary_search(k).is_ok());
        let anchor = self.anchor();
        self.index.replace(now);
        self.rebuild_at(anchor);
        self.visible_meta(cx).into_iter().collect()
    }

    /// Start a new scan; the old list stays on screen until the first batch arrives.
    pub fn rescan(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        self.live_req.forget();
        self.live_buf.clear();
        self.fresh.clear();
        let query = (self.pattern.clone(), self.type_filter.clone());
        let aside = !self.index.is_empty() && self.listed.as_ref() == Some(&query);
        self.listed = Some(query);
        self.scan = ScanProgress { running: true, replace_on_first: !aside, aside, ..Default::default() };
        let req = self.scan.req.issue(cx);
        let mut cmds = Vec::new();
        // A sort measuring the old listing stops; the new one is measured when the scan ends.
        if self.sorting.take().is_some() {
            cmds.push(Command::Cancel(crate::message::Slot::Sort));
        }
        cmds.push(Command::Scan { req, pattern: self.pattern.clone(), type_filter: self.type_filter.clone() });
        cmds
    }

    /// Re-flatten the rows, keeping the selected row under the cursor.
    fn rebuild(&mut self) {
        let anchor = self.anchor();
        self.rebuild_at(anchor);
    }

    /// What the selected row shows (a key, a folder's prefix): read before the keys change,
    /// as the rows refer to the keys by position.
    fn anchor(&self) -> Option<Box<[u8]>> {
        self.index.row(self.selected).map(|r| self.index.row_bytes(&r).into())
    }

    /// Re-flatten the rows and put the selection back on `anchor`'s row.
    fn rebuild_at(&mut self, anchor: Option<Box<[u8]>>) {
        self.index.rebuild();
        if let Some(a) = anchor
            && let Some(i) = self.index.find_row(&a)
        {
            let delta = i as isize - self.selected as isize;
            self.selected = i;
            self.offset = (self.offset as isize + delta).max(0) as usize;
        }
        self.clamp_scroll();
    }

    fn clamp_scroll(&mut self) {
        (self.selected, self.offset) =
            crate::tabs::scroll::keep_visible(self.selected, self.offset, self.index.row_count(), self.view_rows);
    }

    /// Metadata request for visible key rows that have none yet.
    pub fn visible_meta(&mut self, cx: &mut Cx) -> Option<Command> {
        let end = (self.offset + self.view_rows).min(self.index.row_count());
        let missing: Vec<Key> = (self.offset..end)
            .filter_map(|i| match self.index.row(i)? {
                Row::Key { idx, .. } => {
                    let k = self.index.key(idx);
                    (!self.meta.contains_key(k)).then(|| k.into())
                }
                Row::Folder { .. } => None,
            })
            .collect();
        if missing.is_empty() || (self.meta_req.waiting() && missing == self.meta_inflight) {
            return None;
        }
        let req = self.meta_req.issue(cx);
        self.meta_inflight = missing.clone();
        Some(Command::Meta { req, keys: missing })
    }

    /// Measure the whole listing for a sort by TTL or size (in the backend; the keys are
    /// shared, not copied). Waits for a running scan: its end asks again.
    fn request_sort(&mut self, cx: &mut Cx) -> Option<Command> {
        let by = self.index.sort();
        if by == SortBy::Name || self.index.ordered() || self.scan.running || self.index.is_empty() {
            return None;
        }
        let keys = self.index.snapshot();
        let mut job =
            SortJob { req: Pending::default(), by, total: keys.len() as u64, done: 0, started_ms: self.now_ms };
        let req = job.req.issue(cx);
        self.sorting = Some(job);
        Some(Command::SortKeys { req, keys, by })
    }

    /// A sort that ended without an order: the list stays by name, and the status says why.
    fn sort_abandoned(&mut self, job: &SortJob, why: &str, error: bool, cx: &mut Cx) {
        self.index.set_sort(SortBy::Name);
        self.rebuild();
        cx.status(format!("sort by {}: {why}; the list stays by name", job.by.name()), error);
    }

    /// The order measured: installed if the listing is still the one measured (else measured
    /// again), the selection at the top if it had not moved, else kept on its key.
    fn on_sorted(
        &mut self,
        req: RequestId,
        r: Result<Box<crate::message::Sorted>, crate::message::SortFailed>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let Some(job) = self.sorting.take_if(|j| j.req.is(req)) else { return vec![] };
        match r {
            Ok(s) => {
                let (unknown, took) = (s.order.unknown, s.took_ms);
                if !self.index.set_order(&s.keys, s.order) {
                    return self.request_sort(cx).into_iter().collect();
                }
                // The figures just measured feed the columns they describe (a SIZE cell from
                // before the sort would make the rows look out of order).
                if !s.metrics.is_empty() {
                    for (k, m) in s.keys.iter().zip(s.metrics.iter()) {
                        let (Some(e), Some(v)) = (self.meta.get_mut(k), m) else { continue };
                        match job.by {
                            SortBy::Size => e.meta.memory = Some(*v as u64),
                            SortBy::Ttl => e.meta.ttl = crate::domain::Ttl::Millis(*v),
                            SortBy::Name => {}
                        }
                    }
                }
                let untouched = self.selected == 0 && self.offset == 0;
                self.rebuild();
                if untouched {
                    (self.selected, self.offset) = (0, 0);
                }
                // The header keeps what the order leaves at its end; the status, what it cost.
                self.sort_note = match job.by {
                    SortBy::Ttl if unknown > 0 => Some(format!("{} without a TTL, last", text::num(unknown))),
                    _ if unknown > 0 => Some(format!("{} gone since the scan, last", text::num(unknown))),
                    _ => None,
                };
                cx.status(
                    format!(
                        "sorted by {}: every key measured ({} keys, {:.1} s)",
                        job.by.name(),
                        text::num(job.total),
                        took as f64 / 1000.0
                    ),
                    false,
                );
                self.visible_meta(cx).into_iter().collect()
            }
            Err(f) => {
                let why = format!("{} after {} / {} keys", f.error, text::num(f.measured), text::num(job.total));
                self.sort_abandoned(&job, &why, true, cx);
                vec![]
            }
        }
    }

    pub fn tick(&mut self, now: u64, cx: &mut Cx) -> (Vec<Command>, bool) {
        self.now_ms = now;
        let mut cmds = Vec::new();
        let mut changed = false;
        if let Some(c) = self.server.as_mut().and_then(|v| v.tick(now, cx)) {
            cmds.push(c);
        }
        cmds.extend(self.live(now, cx));
        if self.index.pending_len() > 0 {
            self.merge();
            changed = true;
            cmds.extend(self.visible_meta(cx));
        }
        if let Some(e) = &self.error
            && now >= e.retry_at_ms
            && !self.scan.running
        {
            cmds.extend(self.rescan(cx));
            changed = true;
        }
        // A TTL that ran out: look again, the key is probably gone.
        if let Some(v) = &mut self.value
            && !v.gone
            && !v.expiry_checked
            && !v.req.waiting()
            && let Some(ValuePage { ttl: Ttl::Millis(ms), .. }) = &v.page
            && now >= v.loaded_at_ms + *ms as u64
        {
            v.expiry_checked = true;
            let req = v.req.issue(cx);
            cmds.push(Command::Value { req, key: v.key.clone(), cursor: v.cursor.clone() });
        }
        // Same for list rows whose countdown reached zero: refresh their metadata.
        let expired: Vec<Key> = self
            .meta
            .iter()
            .filter(|(_, e)| matches!(e.meta.ttl, Ttl::Millis(ms) if now >= e.at_ms + ms as u64))
            .map(|(k, _)| k.clone())
            .take(500)
            .collect();
        if !expired.is_empty() && !self.meta_req.waiting() {
            for k in &expired {
                self.meta.remove(k);
            }
            cmds.extend(self.visible_meta(cx));
            changed = true;
        }
        (cmds, changed)
    }

    fn merge(&mut self) {
        // A selection still at the top stays at the top as batches arrive (a new MATCH, Enter
        // on a namespace from :analyze): following its first key would land mid-list once
        // keys that sort before it come in. One moved by the user keeps its key.
        let anchor = if self.selected == 0 && self.offset == 0 { None } else { self.anchor() };
        if self.index.merge_pending() {
            self.rebuild_at(anchor);
        }
    }

    pub fn reconnected(&mut self, cx: &mut Cx) -> Vec<Command> {
        let mut cmds = Vec::new();
        if self.error.is_some() && !self.scan.running {
            cmds.extend(self.rescan(cx));
        }
        if let Some(v) = &mut self.value
            && v.error.is_some()
        {
            let req = v.req.issue(cx);
            cmds.push(Command::Value { req, key: v.key.clone(), cursor: v.cursor.clone() });
        }
        // Metadata that failed during the outage ("…" in the TYPE/TTL/SIZE columns).
        self.meta_req.forget();
        self.meta_inflight.clear();
        cmds.extend(self.visible_meta(cx));
        cmds.push(self.info_cmd(cx));
        cmds
    }

    pub fn on_backend(&mut self, ev: BackendEvent, now: u64, cx: &mut Cx) -> Vec<Command> {
        self.now_ms = now;
        let mut cmds = Vec::new();
        match ev {
            BackendEvent::Scan(req, r) if self.live_req.is(req) => match r {
                Ok(batch) => cmds.extend(self.live_batch(batch, cx)),
                // A live refresh that failed changes nothing on screen; the next one retries.
                Err(_) => self.live_req.forget(),
            },
            BackendEvent::Scan(req, r) => {
                if !self.scan.req.is(req) {
                    return cmds; // late reply of a superseded scan
                }
                match r {
                    Ok(batch) if self.scan.aside => {
                        self.error = None;
                        self.scan.seen = batch.seen;
                        self.scan.total = batch.total;
                        self.scan.calls = batch.calls;
                        self.live_buf.extend(batch.keys);
                        if batch.done {
                            self.scan.running = false;
                            let now = std::mem::take(&mut self.live_buf);
                            cmds.extend(self.swap_in(now, cx));
                            cmds.push(self.info_cmd(cx));
                            cmds.extend(self.request_sort(cx));
                        }
                    }
                    Ok(batch) => {
                        self.error = None;
                        if self.scan.replace_on_first {
                            self.scan.replace_on_first = false;
                            self.index.clear();
                            self.meta.clear();
                            self.meta_req.forget();
                        }
                        self.scan.seen = batch.seen;
                        self.scan.total = batch.total;
                        self.scan.calls = batch.calls;
                        self.index.push(batch.keys);
                        // Merge now when the batch is large relative to the list (first
                        // screens appear at once), else on the next tick: merging costs
                        // O(n), so merging every batch of a 1M-key scan would be quadratic.
                        if batch.done || self.index.pending_len() >= 2_000 + self.index.len() / 4 {
                            self.merge();
                            cmds.extend(self.visible_meta(cx));
                        }
                        if batch.done {
                            self.scan.running = false;
                            cmds.push(self.info_cmd(cx));
                            cmds.extend(self.request_sort(cx));
                        }
                    }
                    Err(e) => {
                        self.scan.running = false;
                        self.scan.replace_on_first = false;
                        // A rescan that failed leaves the previous listing as it was.
                        self.live_buf = Vec::new();
                        self.merge();
                        let attempt = self.error.as_ref().map(|e| e.attempt + 1).unwrap_or(0);
                        let kept = if self.scan.aside { " — the list is the previous scan's" } else { "" };
                        if e.is_connection() {
                            self.error = Some(TabError {
                                text: format!("{e}{kept}"),
                                attempt,
                                retry_at_ms: now + super::retry_backoff_ms(attempt),
                            });
                        } else {
                            self.error = None;
                            cx.status(format!("scan failed: {e}{kept}"), true);
                        }
                    }
                }
            }
            BackendEvent::Meta(req, r) => {
                if !self.meta_req.settle(req) {
                    return cmds;
                }
                self.meta_inflight.clear();
                match r {
                    Ok(list) => {
                        for (k, m) in list {
                            self.meta.insert(k, MetaEntry { meta: m, at_ms: now });
                        }
                        cmds.extend(self.visible_meta(cx));
                    }
                    Err(e) if e.is_connection() => {}
                    Err(e) => cx.status(format!("metadata: {e}"), true),
                }
            }
            BackendEvent::Value(req, r) => {
                let Some(v) = &mut self.value else {
                    return cmds;
                };
                if !v.req.settle(req) {
                    return cmds;
                }
                v.loaded_at_ms = now;
                match r {
                    Ok(Some(page)) => {
                        v.error = None;
                        v.gone = false;
                        v.lines = value_lines(&page);
                        v.scroll = v.scroll.min(v.lines.len().saturating_sub(1));
                        v.expiry_checked = false;
                        let meta = KeyMeta { ktype: Some(page.ktype.clone()), ttl: page.ttl, memory: page.memory };
                        self.meta.insert(page.key.clone(), MetaEntry { meta, at_ms: now });
                        v.page = Some(page);
                    }
                    Ok(None) => {
                        // Expired or deleted while shown: a fact to show, not an error.
                        v.gone = true;
                        v.error = None;
                        let gone = KeyMeta { ktype: None, ttl: Ttl::Gone, memory: None };
                        self.meta.insert(v.key.clone(), MetaEntry { meta: gone, at_ms: now });
                    }
                    Err(e) => v.error = Some(e.to_string()),
                }
            }
            BackendEvent::Info(req, r) => {
                if !self.info_req.settle(req) {
                    return cmds;
                }
                if let Ok(info) = r {
                    self.db = Some(info.db);
                    self.info = Some(info);
                }
            }
            BackendEvent::SortProgress(req, done) => {
                if let Some(j) = self.sorting.as_mut().filter(|j| j.req.is(req)) {
                    j.done = done;
                }
            }
            BackendEvent::Sorted(req, r) => cmds.extend(self.on_sorted(req, r, cx)),
            BackendEvent::Insight(req, r) => {
                if let Some(v) = &mut self.server {
                    v.on_reply(req, r.map_err(|e| e.to_string()));
                }
            }
            BackendEvent::AnalysisProgress(req, done, total) => {
                if let Some(v) = &mut self.analysis {
                    v.on_progress(req, done, total);
                }
            }
            BackendEvent::Analysis(req, r) => {
                if let Some(v) = &mut self.analysis {
                    v.on_result(req, r.map_err(|e| e.to_string()));
                }
            }
            BackendEvent::Write(..)
            | BackendEvent::Exported(..)
            | BackendEvent::Replay(..)
            | BackendEvent::Conn(..)
            | BackendEvent::LongTerm(..)
            | BackendEvent::Vector(..)
            | BackendEvent::Health(..)
            | BackendEvent::Layer(..) => {}
        }
        cmds
    }

    /// The confirmed write, sent; its reply reloads what is shown.
    pub fn send_write(&mut self, op: WriteOp, cx: &mut Cx) -> Command {
        let req = self.write_req.issue(cx);
        Command::Write { req, op }
    }

    pub fn on_write(&mut self, req: RequestId, r: Result<String, StoreError>, cx: &mut Cx) -> Vec<Command> {
        if !self.write_req.settle(req) {
            return vec![];
        }
        match r {
            Ok(msg) => {
                let mut cmds = Vec::new();
                // Reflect the change: drop stale metadata, reload what is shown.
                if let Some(v) = &mut self.value {
                    self.meta.remove(&v.key);
                    let req = v.req.issue(cx);
                    cmds.push(Command::Value { req, key: v.key.clone(), cursor: v.cursor.clone() });
                }
                cmds.extend(self.rescan(cx));
                cx.status(msg, false);
                cmds
            }
            Err(e) => {
                cx.status(format!("write failed: {e}"), true);
                vec![]
            }
        }
    }

    pub fn type_name_of(&self, key: &[u8]) -> String {
        match self.meta.get(key).and_then(|m| m.meta.ktype.clone()) {
            Some(t) => t.name().to_string(),
            None => "type unknown".into(),
        }
    }

    /// The key under the cursor (list) or shown (value).
    /// A click on the list's `r`-th row on screen: it is selected; the selected one opens.
    pub fn click_row(&mut self, r: usize, cx: &mut Cx) -> Vec<Command> {
        let i = self.offset + r;
        if i >= self.index.row_count() {
            return vec![];
        }
        self.focus = Focus::List;
        if i == self.selected {
            return self.on_action(Action::Open, cx);
        }
        self.selected = i;
        self.visible_meta(cx).into_iter().collect()
    }

    /// `y`: the key's name (the list), or the value page shown (the value view), as text.
    fn copy(&self, cx: &mut Cx) {
        match (&self.focus, &self.value) {
            // The data, as `:export` writes it: a string's text itself, else JSON lines.
            (Focus::Value, Some(v)) if v.page.is_some() => {
                let page = v.page.as_ref().expect("checked");
                let text = match &page.body {
                    crate::domain::ValueBody::String(b) if !b.truncated() && std::str::from_utf8(&b.bytes).is_ok() => {
                        String::from_utf8_lossy(&b.bytes).into_owned()
                    }
                    _ => page.data_lines().iter().skip(1).map(|l| l.to_string()).collect::<Vec<_>>().join("\n"),
                };
                cx.ask(Ask::Copy { what: format!("the value of {}", text::sanitize_line(&v.key)), text });
            }
            _ => match self.current_key() {
                Some(k) => {
                    cx.ask(Ask::Copy { what: "the key's name".into(), text: String::from_utf8_lossy(&k).into_owned() })
                }
                None => cx.status("select a key first (a folder has no name to copy)", true),
            },
        }
    }

    fn current_key(&self) -> Option<Key> {
        match self.focus {
            Focus::Value => self.value.as_ref().map(|v| v.key.clone()),
            Focus::List => match self.index.row(self.selected)? {
                Row::Key { idx, .. } => Some(self.index.key(idx).into()),
                Row::Folder { .. } => None,
            },
        }
    }

    fn open_value(&mut self, key: Key, cx: &mut Cx) -> Vec<Command> {
        let req = cx.fresh();
        self.value = Some(ValueState {
            req: Pending::at(req),
            key: key.clone(),
            cursor: PageCursor::Start,
            back: Vec::new(),
            before: Vec::new(),
            page: None,
            lines: Vec::new(),
            loaded_at_ms: self.now_ms,
            scroll: 0,
            gone: false,
            error: None,
            expiry_checked: false,
        });
        self.focus = Focus::Value;
        vec![Command::Value { req, key, cursor: PageCursor::Start }]
    }

    fn move_to(&mut self, i: usize, cx: &mut Cx) -> Vec<Command> {
        self.selected = i;
        self.clamp_scroll();
        let mut cmds: Vec<Command> = self.visible_meta(cx).into_iter().collect();
        // A value open beside the list follows the selection (a preview; Tab gives it focus).
        if self.value.is_some()
            && let Some(Row::Key { idx, .. }) = self.index.row(i)
        {
            let k: Key = self.index.key(idx).into();
            if self.value.as_ref().is_none_or(|v| v.key != k) {
                cmds.extend(self.open_value(k, cx));
                self.focus = Focus::List;
            }
        }
        cmds
    }

    /// The value page shown, whole, in the pager (`]` there loads the next window).
    pub fn open_pager(&self, cx: &mut Cx) {
        let Some(v) = &self.value else { return };
        let name = text::sanitize_line(&v.key);
        let more = v.page.as_ref().is_some_and(|p| p.next.is_some());
        let note = v.page.as_ref().map(|p| {
            let hint = if more { " · ] loads the next window / page" } else { "" };
            format!("{} · {}{hint}", p.ktype.name(), text::human_bytes(p.memory.unwrap_or(0)))
        });
        let text = v.lines.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n");
        cx.ask(Ask::Page { title: name, note, text, more });
    }

    /// The value's next page (or string window) now, whatever is scrolled (the pager's `]`).
    pub fn next_value_page(&mut self, cx: &mut Cx) -> Vec<Command> {
        let Some(v) = &mut self.value else { return vec![] };
        let Some(next) = v.page.as_ref().and_then(|p| p.next.clone()) else { return vec![] };
        v.back.push(v.cursor.clone());
        v.before.push(v.page.as_ref().map(|p| p.body.elements() as u64).unwrap_or(0));
        v.cursor = next.clone();
        v.scroll = 0;
        let req = v.req.issue(cx);
        vec![Command::Value { req, key: v.key.clone(), cursor: next }]
    }

    /// Tab with a value open: the focus goes between the list (j/k move through keys, the
    /// value follows) and the value (j/k scroll it). Returns false when no value is open.
    pub fn switch_pane(&mut self) -> bool {
        if self.value.is_none() {
            return false;
        }
        self.focus = if self.focus == Focus::List { Focus::Value } else { Focus::List };
        true
    }

    /// `:analyze [GLOB]`: one pass over the keyspace, shown in place of the list.
    pub fn analyze(&mut self, pattern: &str, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured: nothing to analyze", true);
            return vec![];
        }
        let (v, cmd) = super::analysis::AnalysisView::start(pattern.to_string(), cx);
        self.analysis = Some(v);
        vec![cmd]
    }

    /// `:server`: the servers' slow log, clients and command counters, read every few seconds.
    pub fn open_server(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured", true);
            return vec![];
        }
        let (v, cmd) = super::server::ServerView::open(cx, self.now_ms);
        self.server = Some(v);
        vec![cmd]
    }

    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        if let Some(v) = &mut self.server {
            let (close, cmds) = v.on_action(action, self.view_rows.max(1), self.now_ms, cx);
            if close {
                self.server = None;
            }
            return cmds;
        }
        if let Some(v) = &mut self.analysis {
            use super::analysis::Outcome;
            let (out, mut cmds) = v.on_action(action, self.view_rows.max(1), cx);
            match out {
                Outcome::None => {}
                Outcome::Close => self.analysis = None,
                Outcome::Match(glob) => {
                    self.analysis = None;
                    cmds.extend(self.set_pattern(glob, cx));
                }
                Outcome::Open(key) => {
                    self.analysis = None;
                    cmds.extend(self.open_value(key.into_bytes().into(), cx));
                }
            }
            return cmds;
        }
        let n = self.index.row_count();
        let page = self.view_rows.max(1);
        if self.focus == Focus::Value {
            return self.on_value_action(action, cx);
        }
        if let Some(i) = crate::tabs::scroll::moved(action, self.selected, n, page) {
            return self.move_to(i, cx);
        }
        match action {
            Action::Open | Action::Expand => match self.index.row(self.selected) {
                Some(Row::Folder { expanded, .. }) if action == Action::Open || !expanded => self.toggle_folder(cx),
                Some(Row::Folder { .. }) => self.move_to((self.selected + 1).min(n.saturating_sub(1)), cx),
                Some(Row::Key { idx, .. }) => {
                    let k: Key = self.index.key(idx).into();
                    self.open_value(k, cx)
                }
                None => vec![],
            },
            Action::Collapse => match self.index.row(self.selected) {
                Some(Row::Folder { expanded: true, .. }) => self.toggle_folder(cx),
                Some(_) => match self.index.parent_row(self.selected) {
                    Some(p) => self.move_to(p, cx),
                    None => vec![],
                },
                None => vec![],
            },
            Action::Filter => {
                cx.ask(Ask::Input {
                    kind: InputKind::Filter,
                    title: "SCAN MATCH glob (Enter: rescan, Esc: cancel)".into(),
                    initial: self.pattern.clone(),
                });
                vec![]
            }
            Action::Refresh => {
                let mut c = self.rescan(cx);
                self.error = None;
                c.push(self.info_cmd(cx));
                c
            }
            Action::Cancel => {
                if let Some(j) = self.sorting.take() {
                    let why = format!("stopped at {} / {} keys", text::num(j.done), text::num(j.total));
                    self.sort_abandoned(&j, &why, false, cx);
                    vec![Command::Cancel(crate::message::Slot::Sort)]
                } else if self.scan.running && self.scan.aside {
                    self.scan.running = false;
                    self.scan.req.forget();
                    self.live_buf = Vec::new();
                    cx.status("rescan stopped: the list is the previous scan's", false);
                    vec![Command::Cancel(crate::message::Slot::Scan)]
                } else if self.scan.running {
                    self.scan.running = false;
                    self.scan.cancelled = true;
                    self.scan.req.forget();
                    self.merge();
                    vec![Command::Cancel(crate::message::Slot::Scan)]
                } else {
                    vec![]
                }
            }
            Action::ToggleTree => {
                let m = if self.index.mode() == ViewMode::Tree { ViewMode::Flat } else { ViewMode::Tree };
                self.set_mode(m, cx)
            }
            Action::CycleSort => {
                let s = self.index.sort().next();
                self.set_sort(s, cx)
            }
            Action::CycleType => {
                let filters = KeyType::FILTERS;
                let cur = filters.iter().position(|f| f.map(str::to_string) == self.type_filter).unwrap_or(0);
                self.type_filter = filters[(cur + 1) % filters.len()].map(str::to_string);
                self.rescan(cx)
            }
            Action::SelectDb => {
                let hint = match &self.info {
                    Some(info) => {
                        let ks: Vec<String> =
                            info.keyspace.iter().map(|d| format!("db{}: {} keys", d.db, d.keys)).collect();
                        let range = info.databases.map(|d| format!("0–{}", d.saturating_sub(1))).unwrap_or_default();
                        format!("{range} {}", ks.join(", "))
                    }
                    None => "0–15".into(),
                };
                cx.ask(Ask::Input {
                    kind: InputKind::Db,
                    title: format!("database number — {hint}"),
                    initial: String::new(),
                });
                vec![]
            }
            Action::Delete | Action::Expire | Action::Persist | Action::Rename => {
                self.write_intent(action, cx);
                vec![]
            }
            Action::Copy => {
                self.copy(cx);
                vec![]
            }
            // The value shown, whole, whichever pane has the focus.
            Action::Pager if self.value.is_some() => {
                self.open_pager(cx);
                vec![]
            }
            Action::Pager => {
                cx.status("no value open: Enter opens the selected key", false);
                vec![]
            }
            _ => vec![],
        }
    }

    fn write_intent(&self, action: Action, cx: &mut Cx) {
        let Some(key) = self.current_key() else {
            return cx.status("select a key first (folders cannot be written)", true);
        };
        let t = self.type_name_of(&key);
        let w = match action {
            Action::Delete => WriteKind::Delete(key, t),
            Action::Expire => WriteKind::Expire(key, t),
            Action::Persist => WriteKind::Persist(key, t),
            _ => WriteKind::Rename(key, t),
        };
        cx.ask(Ask::Write(w));
    }

    fn on_value_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let page_rows = self.value_rows.max(1);
        let Some(v) = &mut self.value else {
            self.focus = Focus::List;
            return vec![];
        };
        let last = v.lines.len().saturating_sub(1);
        match action {
            // This page of the value, whole, in the pager (search, wrap, sideways).
            Action::Pager => {
                self.open_pager(cx);
                vec![]
            }
            Action::Up => {
                v.scroll = v.scroll.saturating_sub(1);
                vec![]
            }
            Action::Down => {
                v.scroll = (v.scroll + 1).min(last);
                vec![]
            }
            Action::Top => {
                v.scroll = 0;
                vec![]
            }
            Action::Bottom => {
                v.scroll = last.saturating_sub(page_rows.saturating_sub(1));
                vec![]
            }
            Action::NextPage => {
                // Scroll within a long page first, then fetch the next page.
                if v.scroll + page_rows <= last {
                    v.scroll += page_rows;
                    vec![]
                } else if v.page.as_ref().is_some_and(|p| p.next.is_some()) {
                    self.next_value_page(cx)
                } else {
                    vec![]
                }
            }
            Action::PrevPage => {
                if v.scroll > 0 {
                    v.scroll = v.scroll.saturating_sub(page_rows);
                    vec![]
                } else if let Some(prev) = v.back.pop() {
                    v.before.pop();
                    v.cursor = prev.clone();
                    let req = v.req.issue(cx);
                    vec![Command::Value { req, key: v.key.clone(), cursor: prev }]
                } else {
                    vec![]
                }
            }
            Action::Refresh => {
                let req = v.req.issue(cx);
                vec![Command::Value { req, key: v.key.clone(), cursor: v.cursor.clone() }]
            }
            Action::Back => {
                self.focus = Focus::List;
                self.value = None;
                vec![Command::Cancel(crate::message::Slot::Value)]
            }
            Action::Delete | Action::Expire | Action::Persist | Action::Rename => {
                self.write_intent(action, cx);
                vec![]
            }
            Action::Copy => {
                self.copy(cx);
                vec![]
            }
            _ => vec![],
        }
    }

    fn toggle_folder(&mut self, cx: &mut Cx) -> Vec<Command> {
        if let Some(row @ Row::Folder { expanded, .. }) = self.index.row(self.selected) {
            let prefix: Vec<u8> = self.index.row_bytes(&row).to_vec();
            self.index.set_expanded(&prefix, !expanded);
            self.rebuild();
        }
        self.visible_meta(cx).into_iter().collect()
    }

    pub fn set_pattern(&mut self, p: String, cx: &mut Cx) -> Vec<Command> {
        self.pattern = if p.is_empty() { "*".into() } else { p };
        self.selected = 0;
        self.offset = 0;
        self.rescan(cx)
    }

    pub fn set_type_filter(&mut self, t: &str, cx: &mut Cx) -> Result<Vec<Command>, String> {
        self.type_filter = match t {
            "" | "all" | "*" => None,
            t if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => Some(t.to_string()),
            _ => {
                return Err(format!("type: not a type name: `{}`", text::sanitize_str(t)));
            }
        };
        Ok(self.rescan(cx))
    }

    pub fn set_delimiter(&mut self, d: &str) -> Result<Vec<Command>, String> {
        if d.is_empty() {
            return Err("delim: give a delimiter, e.g. `delim :` or `delim /`".into());
        }
        self.index.set_delimiter(d);
        self.rebuild();
        Ok(vec![])
    }

    pub fn set_mode(&mut self, m: ViewMode, cx: &mut Cx) -> Vec<Command> {
        self.index.set_mode(m);
        self.rebuild();
        self.visible_meta(cx).into_iter().collect()
    }

    /// A new sort. By name: at once. By TTL or size: every key of the listing is measured in
    /// the backend (the header shows how far; Esc stops it) and the rows keep their order until
    /// the new one arrives. A new order is read from its top (the largest, the soonest to expire).
    fn set_sort(&mut self, s: SortBy, cx: &mut Cx) -> Vec<Command> {
        let mut c = Vec::new();
        if self.sorting.take().is_some() {
            c.push(Command::Cancel(crate::message::Slot::Sort));
        }
        self.sort_note = None;
        self.index.set_sort(s);
        self.rebuild();
        self.selected = 0;
        self.offset = 0;
        c.extend(self.request_sort(cx));
        c.extend(self.visible_meta(cx));
        c
    }

    pub fn set_sort_named(&mut self, s: &str, cx: &mut Cx) -> Result<Vec<Command>, String> {
        let s = match s {
            "name" => SortBy::Name,
            "ttl" => SortBy::Ttl,
            "size" | "memory" => SortBy::Size,
            other => {
                return Err(format!("sort: expected name, ttl or size, got `{}`", text::sanitize_str(other)));
            }
        };
        Ok(self.set_sort(s, cx))
    }

    pub fn select_db(&mut self, db: u32, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        if let Some(ServerInfo { mode: crate::domain::ServerMode::Cluster { whole: true, .. }, .. }) = &self.info
            && db != 0
        {
            cx.status("a Redis Cluster has only database 0: SELECT is refused in cluster mode", true);
            return vec![];
        }
        if let Some(n) = self.info.as_ref().and_then(|i| i.databases)
            && db >= n
        {
            cx.status(format!("database {db} does not exist: this server has {n} (0–{})", n.saturating_sub(1)), true);
            return vec![];
        }
        let mut v = Vec::new();
        // Another database is another listing: by name, no sort note or job of the last one.
        if self.sorting.take().is_some() {
            v.push(Command::Cancel(crate::message::Slot::Sort));
        }
        self.sort_note = None;
        self.index.set_sort(SortBy::Name);
        self.db = Some(db);
        self.value = None;
        self.focus = Focus::List;
        self.selected = 0;
        self.offset = 0;
        self.index.clear();
        self.meta.clear();
        let req = self.info_req.issue(cx);
        v.push(Command::SelectDb { req, db });
        v.extend(self.rescan(cx));
        self.scan.replace_on_first = false;
        v
    }

    /// Remaining TTL in ms now, from a TTL read at `at_ms`.
    pub fn ttl_left(ttl: Ttl, at_ms: u64, now_ms: u64) -> Ttl {
        match ttl {
            Ttl::Millis(ms) => Ttl::Millis((ms - (now_ms.saturating_sub(at_ms)) as i64).max(0)),
            t => t,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

fn blob_line(b: &Blob) -> String {
    const MAX: usize = 512;
    let shown = &b.bytes[..b.bytes.len().min(MAX)];
    let mut s = match text::classify(shown) {
        Encoding::Binary => {
            let hex: String = shown.iter().take(64).map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}")
        }
        _ => text::sanitize_line(shown),
    };
    if b.bytes.len() > MAX || text::classify(shown) == Encoding::Binary && shown.len() > 64 {
        s.push_str(&format!("… ({})", text::human_bytes(b.total_len)));
    }
    s
}

/// Pre-rendered lines of a value page (computed once per load, not per frame).
/// A whole value holding a JSON object or array, pretty-printed (None for anything else, or
/// a window of a larger value).
fn json_pretty(b: &crate::domain::Blob) -> Option<String> {
    if b.truncated() {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(&b.bytes)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
}

pub fn value_lines(p: &ValuePage) -> Vec<(LineStyle, String)> {
    use LineStyle::*;
    let mut out = Vec::new();
    let start = match &p.cursor {
        PageCursor::Offset(o) => *o,
        _ => 0,
    };
    if let Some((slot, node)) = &p.node {
        out.push((Dim, format!("cluster: slot {slot} on {}", text::sanitize_str(node))));
    }
    match &p.body {
        ValueBody::String(b) => {
            if b.truncated() {
                out.push((
                    Warn,
                    format!(
                        "window: bytes {}–{} of {} (GETRANGE; the value is never fetched whole)",
                        start,
                        start + b.bytes.len() as u64,
                        text::human_bytes(b.total_len)
                    ),
                ));
            }
            match text::classify(&b.bytes) {
                Encoding::Binary => {
                    out.push((Dim, format!("binary, {} — hex dump", text::human_bytes(b.total_len))));
                    out.extend(text::hex_dump(&b.bytes, start as usize).into_iter().map(|l| (Normal, l)));
                }
                enc => {
                    let pretty = if enc == Encoding::Text { json_pretty(b) } else { None };
                    if pretty.is_some() {
                        out.push((Dim, "JSON (pretty-printed)".into()));
                    } else if enc == Encoding::EscapedBytes {
                        out.push((Dim, "not valid UTF-8: invalid bytes shown as \\xNN".into()));
                    }
                    let body = match pretty {
                        Some(p) => text::sanitize_multiline(p.as_bytes()),
                        None => text::sanitize_multiline(&b.bytes),
                    };
                    out.extend(body.split('\n').map(|l| (Normal, l.to_string())));
                }
            }
        }
        ValueBody::HyperLogLog { count, bytes } => {
            out.push((Label, format!("HyperLogLog: ~{count} distinct elements (PFCOUNT)")));
            out.push((Dim, format!("{} of registers", text::human_bytes(*bytes))));
        }
        ValueBody::List(items) | ValueBody::Set(items) => {
            for (i, b) in items.iter().enumerate() {
                let label = if matches!(p.body, ValueBody::List(_)) {
                    format!("{:>6} ", start + i as u64)
                } else {
                    "  • ".into()
                };
                // An element holding a JSON object or array (a framework's message) is
                // pretty-printed under its index, not one long line.
                match json_pretty(b) {
                    Some(pretty) => {
                        let pad = " ".repeat(text::width(&label));
                        for (j, l) in text::sanitize_multiline(pretty.as_bytes()).split('\n').enumerate() {
                            out.push((Normal, format!("{}{l}", if j == 0 { &label } else { &pad })));
                        }
                    }
                    None => out.push((Normal, format!("{label}{}", blob_line(b)))),
                }
            }
        }
        ValueBody::Hash(fields) => {
            let w = fields.iter().map(|(f, _)| text::width(&blob_line(f))).max().unwrap_or(0).min(32);
            for (f, v) in fields {
                out.push((Normal, format!("{} │ {}", text::fit(&blob_line(f), w), blob_line(v))));
            }
        }
        ValueBody::ZSet(members) => {
            for (m, s) in members {
                out.push((Normal, format!("{s:>14} │ {}", blob_line(m))));
            }
        }
        ValueBody::Stream(entries) => {
            for e in entries {
                // An entry id is milliseconds since the epoch, then a sequence number.
                let when =
                    e.id.split_once('-')
                        .and_then(|(ms, _)| ms.parse::<i64>().ok())
                        .map(|ms| format!("  {}", crate::domain::Ts::from_micros(ms.saturating_mul(1000)).to_rfc3339()))
                        .unwrap_or_default();
                out.push((Label, format!("{}{when}", text::sanitize_str(&e.id))));
                for (f, v) in &e.fields {
                    out.push((Normal, format!("    {} = {}", blob_line(f), blob_line(v))));
                }
            }
        }
        ValueBody::Json(crate::domain::JsonDoc::Whole(b)) => {
            out.push((Dim, "RedisJSON document (pretty-printed)".into()));
            let pretty = serde_json::from_slice::<serde_json::Value>(&b.bytes)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .map(String::into_bytes)
                .unwrap_or_else(|| b.bytes.clone());
            out.extend(text::sanitize_multiline(&pretty).split('\n').map(|l| (Normal, l.to_string())));
        }
        ValueBody::Json(crate::domain::JsonDoc::Members { kind, total, count, members }) => {
            out.push((
                Warn,
                format!(
                    "RedisJSON {kind} of {} and {} members: larger than preview_bytes, shown by member \
                     (JSON.GET KEY PATH reads one; :export FILE writes the whole document)",
                    text::human_bytes(*total),
                    text::num(*count)
                ),
            ));
            for m in members {
                let size = m.bytes.map(text::human_bytes).unwrap_or_else(|| "?".into());
                out.push((Label, format!("{}  {} · {size}", text::sanitize_str(&m.path), m.kind)));
                if let Some(p) = &m.preview {
                    out.push((Normal, format!("    {}", text::sanitize_line(p.as_bytes()))));
                }
            }
        }
        ValueBody::Opaque => {
            out.push((Label, format!("type `{}`: a module or unknown type", text::sanitize_str(p.ktype.name()))));
            out.push((Dim, "memscope shows its name and size only.".into()));
        }
    }
    if let (ValueBody::String(b), Some(PageCursor::Offset(next))) = (&p.body, &p.next) {
        out.push((
            Warn,
            format!(
                "… {} more from byte {next}: n / PgDn loads the next window (o opens this one in the pager)",
                text::human_bytes(b.total_len.saturating_sub(*next))
            ),
        ));
    }
    if out.is_empty() {
        out.push((Dim, "(empty)".into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{SortFailed, Sorted};

    fn listed(n: usize, cx: &mut Cx) -> KeysTab {
        let mut t = KeysTab::new(&Config::with_redis("redis://127.0.0.1:1"));
        let cmds = t.start(cx);
        let Some(Command::Scan { req, .. }) = cmds.into_iter().find(|c| matches!(c, Command::Scan { .. })) else {
            panic!("no scan")
        };
        let keys: Vec<Key> = (0..n).map(|i| format!("k{i:04}").into_bytes().into_boxed_slice()).collect();
        let batch = crate::domain::ScanBatch { keys, seen: n as u64, total: Some(n as u64), calls: 1, done: true };
        t.on_backend(BackendEvent::Scan(req, Ok(batch)), 0, cx);
        t
    }

    fn sort_cmd(cmds: Vec<Command>) -> (RequestId, std::sync::Arc<Vec<Key>>) {
        cmds.into_iter()
            .find_map(|c| match c {
                Command::SortKeys { req, keys, .. } => Some((req, keys)),
                _ => None,
            })
            .expect("a sort request")
    }

    #[test]
    fn a_sort_that_fails_says_how_far_it_got_and_keeps_the_name_order() {
        let mut cx = Cx::after(0);
        let mut t = listed(1000, &mut cx);
        let (req, keys) = sort_cmd(t.set_sort_named("size", &mut cx).unwrap());
        assert_eq!(keys.len(), 1000, "the whole listing, shared");
        t.on_backend(BackendEvent::SortProgress(req, 500), 0, &mut cx);
        assert_eq!(t.sorting.as_ref().map(|j| (j.done, j.total)), Some((500, 1000)));
        cx.take_asks();
        let failed = SortFailed { error: StoreError::Timeout(2000), measured: 500 };
        t.on_backend(BackendEvent::Sorted(req, Err(failed)), 0, &mut cx);
        assert!(t.sorting.is_none());
        assert_eq!(t.index.sort(), SortBy::Name);
        let asks = cx.take_asks();
        assert!(
            matches!(&asks[..], [Ask::Status { text, error: true }] if text.contains("after 500 / 1,000 keys")),
            "{asks:?}"
        );
    }

    fn scan_req(cmds: &[Command]) -> RequestId {
        cmds.iter()
            .find_map(|c| match c {
                Command::Scan { req, .. } => Some(*req),
                _ => None,
            })
            .expect("a scan")
    }

    fn keys(names: impl IntoIterator<Item = String>) -> Vec<Key> {
        names.into_iter().map(|s| s.into_bytes().into_boxed_slice()).collect()
    }

    /// A new MATCH (or Enter on a namespace from :analyze) starts at the top and stays there
    /// while batches arrive, though later batches hold keys that sort first.
    #[test]
    fn a_new_listing_stays_at_the_top_as_batches_arrive() {
        let mut cx = Cx::after(0);
        let mut t = listed(50, &mut cx);
        t.index.set_mode(crate::keytree::ViewMode::Flat);
        let req = scan_req(&t.set_pattern("s:*".into(), &mut cx));
        let batch = |names: Vec<String>, done: bool| crate::domain::ScanBatch {
            keys: keys(names),
            seen: 2_102,
            total: Some(2_102),
            calls: 1,
            done,
        };
        // A first batch large enough to be shown at once, then keys that sort before it.
        let first: Vec<String> = (0..2_100).map(|i| format!("s:m{i:04}")).collect();
        t.on_backend(BackendEvent::Scan(req, Ok(batch(first, false))), 0, &mut cx);
        assert_eq!(t.current_key().as_deref(), Some(b"s:m0000".as_slice()));
        t.on_backend(BackendEvent::Scan(req, Ok(batch(vec!["s:a".into(), "s:b".into()], true))), 0, &mut cx);
        assert_eq!((t.selected, t.offset), (0, 0));
        assert_eq!(t.current_key().as_deref(), Some(b"s:a".as_slice()), "the top of the new listing");
    }

    /// `r`, a retry after an error, a write's reload: the list on screen stays whole (never
    /// "loading…"), the selection on its key; a rescan that fails leaves the previous listing.
    #[test]
    fn a_rescan_keeps_the_list_until_it_is_complete() {
        let mut cx = Cx::after(0);
        let mut t = listed(100, &mut cx);
        t.set_mode(ViewMode::Flat, &mut cx);
        t.move_to(5, &mut cx);
        let req = scan_req(&t.on_action(Action::Refresh, &mut cx));
        assert!(t.scan.aside);
        let half = crate::domain::ScanBatch {
            keys: keys((0..50).map(|i| format!("k{i:04}"))),
            seen: 50,
            total: Some(100),
            calls: 1,
            done: false,
        };
        t.on_backend(BackendEvent::Scan(req, Ok(half)), 0, &mut cx);
        t.tick(300, &mut cx);
        assert_eq!((t.index.len(), t.selected), (100, 5), "the previous listing, whole, until the rescan ends");
        // It fails: the previous listing stays and the error says so.
        t.on_backend(BackendEvent::Scan(req, Err(StoreError::Timeout(2000))), 0, &mut cx);
        assert_eq!(t.index.len(), 100);
        assert!(t.error.as_ref().is_some_and(|e| e.text.contains("the list is the previous scan's")));
        // The retry completes: swapped in whole, k0002 gone, the selection still on k0005.
        let req = scan_req(&t.on_action(Action::Refresh, &mut cx));
        let all = crate::domain::ScanBatch {
            keys: keys((0..100).filter(|i| *i != 2).map(|i| format!("k{i:04}")).chain(["a-new".to_string()])),
            seen: 100,
            total: Some(100),
            calls: 1,
            done: true,
        };
        t.on_backend(BackendEvent::Scan(req, Ok(all)), 0, &mut cx);
        assert_eq!(t.index.len(), 100);
        assert_eq!(t.current_key().as_deref(), Some(b"k0005".as_slice()));
        assert!(t.fresh.contains(b"a-new".as_slice()));
        // A new MATCH is another listing: it replaces the list from its first batch.
        let cmds = t.set_pattern("x*".into(), &mut cx);
        assert!(!t.scan.aside && t.scan.replace_on_first, "{cmds:?}");
    }

    /// The figures a sort measured feed the SIZE cells (older figures would make the rows look
    /// out of order); another database starts by name, with no sort note from the last one.
    #[test]
    fn a_sort_feeds_its_figures_to_the_columns_and_a_new_db_starts_by_name() {
        let mut cx = Cx::after(0);
        let mut t = listed(3, &mut cx);
        for i in 0..3 {
            let meta = KeyMeta {
                ktype: Some(crate::domain::KeyType::String),
                ttl: crate::domain::Ttl::Persistent,
                memory: Some(1),
            };
            t.meta.insert(format!("k{i:04}").into_bytes().into_boxed_slice(), MetaEntry { meta, at_ms: 0 });
        }
        let (req, keys) = sort_cmd(t.set_sort_named("size", &mut cx).unwrap());
        let metrics = vec![Some(300), Some(100), Some(200)];
        let order = crate::keytree::order_by(&metrics, SortBy::Size);
        let sorted = Sorted { keys, order, metrics: std::sync::Arc::new(metrics), took_ms: 1 };
        t.on_backend(BackendEvent::Sorted(req, Ok(Box::new(sorted))), 0, &mut cx);
        let mem = |t: &KeysTab, k: &str| t.meta[k.as_bytes()].meta.memory;
        assert_eq!((mem(&t, "k0000"), mem(&t, "k0001"), mem(&t, "k0002")), (Some(300), Some(100), Some(200)));
        t.sort_note = Some("stale".into());
        t.select_db(3, &mut cx);
        assert_eq!(t.index.sort(), SortBy::Name);
        assert!(t.sort_note.is_none() && t.sorting.is_none());
    }

    #[test]
    fn an_order_for_an_older_listing_is_measured_again_not_installed() {
        let mut cx = Cx::after(0);
        let mut t = listed(10, &mut cx);
        let (req, keys) = sort_cmd(t.set_sort_named("ttl", &mut cx).unwrap());
        // The listing changes meanwhile (a key deleted by the live view's write, say).
        let fewer: Vec<Key> = t.index.keys().iter().filter(|k| &***k != b"k0003").cloned().collect();
        t.index.replace(fewer);
        let order = crate::keytree::order_by(&vec![None; keys.len()], SortBy::Ttl);
        let cmds = t.on_backend(
            BackendEvent::Sorted(req, Ok(Box::new(Sorted { keys, order, metrics: Default::default(), took_ms: 1 }))),
            0,
            &mut cx,
        );
        assert!(!t.index.ordered());
        let (_, again) = sort_cmd(cmds);
        assert_eq!(again.len(), 9);
        assert!(t.sorting.is_some());
    }

    /// A list element holding JSON (a framework's message) is pretty-printed under its index.
    #[test]
    fn list_elements_holding_json_are_pretty_printed() {
        let blob = |x: &str| crate::domain::Blob { bytes: x.as_bytes().to_vec(), total_len: x.len() as u64 };
        let p = ValuePage {
            key: b"message_store:s".as_slice().into(),
            ktype: crate::domain::KeyType::List,
            ttl: crate::domain::Ttl::Persistent,
            length: 2,
            memory: None,
            cursor: PageCursor::Start,
            next: None,
            body: ValueBody::List(vec![blob(r#"{"type":"human","data":{"content":"hi"}}"#), blob("plain")]),
            node: None,
        };
        let lines: Vec<String> = value_lines(&p).into_iter().map(|(_, l)| l).collect();
        assert_eq!(lines[0], "     0 {");
        assert!(lines.iter().any(|l| l == r#"         "type": "human""#), "{lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("     1 plain"));
    }
}
