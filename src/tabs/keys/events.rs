//! The backend's replies to the Keys tab's commands.

use super::*;
use crate::domain::ScanBatch;
use crate::message::RedisReply;
use crate::tabs::OnReply;

impl KeysTab {
    /// A batch of the listing (or of a live refresh), or why the scan stopped.
    fn on_scan(&mut self, req: RequestId, r: Result<ScanBatch, StoreError>, now: u64, cx: &mut Cx) -> Vec<Command> {
        let mut cmds = Vec::new();
        if self.live.req.is(req) {
            match r {
                Ok(batch) => cmds.extend(self.live_batch(batch, cx)),
                // A live refresh that failed changes nothing on screen; the next one retries.
                Err(_) => self.live.req.forget(),
            }
            return cmds;
        }
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
                        retry_at_ms: now + crate::tabs::retry_backoff_ms(attempt),
                    });
                } else {
                    self.error = None;
                    cx.status(format!("scan failed: {e}{kept}"), true);
                }
            }
        }
        cmds
    }

    /// TYPE, TTL and size of the keys on screen.
    fn on_meta(
        &mut self,
        req: RequestId,
        r: Result<Vec<(Key, KeyMeta)>, StoreError>,
        now: u64,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let mut cmds = Vec::new();
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
        cmds
    }

    /// A page of the open value, or that the key is gone.
    fn on_value(&mut self, req: RequestId, r: Result<Option<Box<ValuePage>>, StoreError>, now: u64) {
        let Some(v) = &mut self.value else {
            return;
        };
        if !v.req.settle(req) {
            return;
        }
        v.loaded_at_ms = now;
        match r {
            Ok(Some(mut page)) => {
                v.error = None;
                v.gone = false;
                // The backend drew it in the format asked for (decoding off this thread); a
                // page without lines (a test's) is drawn here.
                v.lines = match std::mem::take(&mut page.lines) {
                    lines if !lines.is_empty() => lines,
                    _ => value_lines_with(
                        &page,
                        self.info.as_ref().map(|i| &i.search_indexes[..]).unwrap_or(&[]),
                        v.format,
                        self.decode_budget,
                    ),
                };
                v.scroll = v.scroll.min(v.lines.len().saturating_sub(1));
                v.expiry_checked = false;
                let meta = KeyMeta { ktype: Some(page.ktype.clone()), ttl: page.ttl, memory: page.memory };
                self.meta.insert(page.key.clone(), MetaEntry { meta, at_ms: now });
                v.page = Some(*page);
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
}

impl OnReply<RedisReply> for KeysTab {
    fn on_reply(&mut self, req: RequestId, reply: RedisReply, cx: &mut Cx) -> Vec<Command> {
        let now = cx.now_ms;
        self.now_ms = now;
        match reply {
            RedisReply::Scan(r) => return self.on_scan(req, r, now, cx),
            RedisReply::Meta(r) => return self.on_meta(req, r, now, cx),
            RedisReply::Value(r) => self.on_value(req, r, now),
            RedisReply::Write(r) => return self.on_write(req, r, cx),
            RedisReply::Info(r) => {
                if self.info_req.settle(req)
                    && let Ok(info) = r
                {
                    self.db = Some(info.db);
                    self.info = Some(info);
                }
            }
            RedisReply::SortProgress(done) => {
                if let Some(j) = self.sorting.as_mut().filter(|j| j.req.is(req)) {
                    j.done = done;
                }
            }
            RedisReply::Sorted(r) => return self.on_sorted(req, r, cx),
            RedisReply::PubSub(r) => {
                if let Some(v) = &mut self.pubsub {
                    v.on_reply(req, r.map(|b| *b).map_err(|e| e.to_string()));
                }
            }
            RedisReply::Profile(r) => {
                if let Some(v) = &mut self.profile {
                    v.on_reply(req, r.map(|b| *b).map_err(|e| e.to_string()));
                }
            }
            RedisReply::Server(r) => {
                if let Some(v) = &mut self.server {
                    v.on_reply(req, r.map_err(|e| e.to_string()));
                }
            }
            RedisReply::AnalysisProgress(done, total) => {
                if let Some(v) = &mut self.analysis {
                    v.on_progress(req, done, total);
                }
            }
            RedisReply::Analysis(r) => {
                if let Some(v) = &mut self.analysis {
                    v.on_result(req, r.map_err(|e| e.to_string()));
                }
            }
        }
        vec![]
    }
}
