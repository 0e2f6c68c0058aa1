//! The listing: SCAN batches merged into the key index, the live refresh, visible rows' metadata, the tick.

use super::*;
use crate::message::RedisCmd;

impl KeysTab {
    /// The listing refreshes itself (`crate::tabs::LIVE_MS`): the counts always, the keys when it is small
    /// and ordered by name; never while a scan, a value page, an error or a view is on.
    pub(super) fn live(&mut self, now: u64, cx: &mut Cx) -> Vec<Command> {
        if !self.configured
            || self.scan.running
            || self.error.is_some()
            || self.analysis.is_some()
            || self.server.is_some()
            || !self.live.due(now)
        {
            return vec![];
        }
        let mut cmds = vec![self.info_cmd(cx)];
        let small = self.db_keys().is_some_and(|n| n <= LIVE_MAX) && self.index.len() as u64 <= LIVE_MAX;
        if small && self.index.sort() == SortBy::Name && !self.scan.cancelled {
            self.live_buf.clear();
            let req = self.live.req.issue(cx);
            cmds.push(Command::Redis(
                req,
                RedisCmd::Scan { pattern: self.pattern.clone(), type_filter: self.type_filter.clone() },
            ));
        }
        cmds
    }

    /// A live scan's keys, swapped in when it is complete: new keys inserted (and marked),
    /// deleted ones removed, the selection kept on its key.
    pub(super) fn live_batch(&mut self, batch: crate::domain::ScanBatch, cx: &mut Cx) -> Vec<Command> {
        self.live_buf.extend(batch.keys);
        if !batch.done {
            return vec![];
        }
        self.live.req.forget();
        let now = std::mem::take(&mut self.live_buf);
        self.swap_in(now, cx)
    }

    /// A complete listing gathered aside replaces the one on screen: the selection kept on its
    /// key, metadata of keys gone dropped, new keys marked when the listing is small enough to
    /// compare (`LIVE_MAX`).
    pub(super) fn swap_in(&mut self, mut now: Vec<Key>, cx: &mut Cx) -> Vec<Command> {
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
        self.live.req.forget();
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
        cmds.push(Command::Redis(
            req,
            RedisCmd::Scan { pattern: self.pattern.clone(), type_filter: self.type_filter.clone() },
        ));
        cmds
    }

    /// Re-flatten the rows, keeping the selected row under the cursor.
    pub(super) fn rebuild(&mut self) {
        let anchor = self.anchor();
        self.rebuild_at(anchor);
    }

    /// What the selected row shows (a key, a folder's prefix): read before the keys change,
    /// as the rows refer to the keys by position.
    pub(super) fn anchor(&self) -> Option<Box<[u8]>> {
        self.index.row(self.selected).map(|r| self.index.row_bytes(&r).into())
    }

    /// Re-flatten the rows and put the selection back on `anchor`'s row.
    pub(super) fn rebuild_at(&mut self, anchor: Option<Box<[u8]>>) {
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

    pub(super) fn clamp_scroll(&mut self) {
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
        Some(Command::Redis(req, RedisCmd::Meta { keys: missing }))
    }

    pub(super) fn merge(&mut self) {
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
            cmds.push(Command::Redis(
                req,
                RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone(), format: v.format },
            ));
        }
        // Metadata that failed during the outage ("…" in the TYPE/TTL/SIZE columns).
        self.meta_req.forget();
        self.meta_inflight.clear();
        cmds.extend(self.visible_meta(cx));
        cmds.push(self.info_cmd(cx));
        cmds
    }
}
