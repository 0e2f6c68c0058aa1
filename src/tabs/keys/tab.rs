//! The Keys tab as the App drives it: its first requests, time passing, the actions of the
//! list and the views over it, its keymap context, and what `:export` writes of each view.

use super::*;

impl Tab for KeysTab {
    fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        let mut v = self.rescan(cx);
        v.push(self.info_cmd(cx));
        v
    }

    fn tick(&mut self, cx: &mut Cx) -> (Vec<Command>, bool) {
        let now = cx.now_ms;
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
            cmds.push(Command::Redis(
                req,
                RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone(), format: v.format },
            ));
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

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        if let Some(v) = &mut self.pubsub {
            let (close, cmds) = v.on_action(action, self.view_rows.max(1), cx);
            if close {
                self.pubsub = None;
            }
            return cmds;
        }
        if let Some(v) = &mut self.profile {
            let (close, cmds) = v.on_action(action, self.view_rows.max(1), cx);
            if close {
                self.profile = None;
            }
            return cmds;
        }
        if let Some(v) = &mut self.server {
            let (close, cmds) = v.on_action(action, self.view_rows.max(1), self.now_ms, cx);
            if close {
                self.server = None;
            }
            return cmds;
        }
        if let Some(v) = &mut self.analysis {
            use crate::tabs::analysis::Outcome;
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
            Action::Delete | Action::Expire | Action::Persist | Action::Rename | Action::Copy => {
                self.on_key_action(action, cx)
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

    fn context(&self) -> Context {
        if self.pubsub.is_some() {
            return Context::PubSub;
        }
        if self.profile.is_some() {
            return Context::Profile;
        }
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

    /// The view's data: every key listed (type, TTL and memory where measured — absent fields
    /// are unmeasured, never made up, and `what` says for how many), a value page (or the whole
    /// value, read by the backend), the analysis, the server view.
    fn export(&self) -> Export {
        match self.context() {
            Context::Value => match self.value.as_ref().and_then(|v| v.page.as_ref()) {
                Some(p) if p.data_lines().first().is_some_and(|h| h["complete"] == false) => {
                    Export::WholeValue(p.key.clone())
                }
                Some(p) => Export::lines("this page of the value", p.data_lines()),
                None => Export::nothing("no value open"),
            },
            Context::Analysis => match self.analysis.as_ref().and_then(|a| a.result.as_ref()) {
                Some(Ok(a)) => Export::lines("the analysis", [serde_json::to_value(a).unwrap_or_default()]),
                _ => Export::nothing("the analysis has not finished"),
            },
            Context::PubSub => match self.pubsub.as_ref().and_then(|v| v.stream.last.as_ref()) {
                Some(s) => Export::lines(
                    "the channels and the messages kept",
                    [serde_json::json!({"pattern": s.pattern, "received": s.received, "numpat": s.numpat,
                        "channels": s.channels.iter().map(|c| serde_json::json!({"channel": c.name, "subscribers": c.subscribers, "messages": c.messages})).collect::<Vec<_>>(),
                        "messages": s.records})],
                ),
                None => Export::nothing("not subscribed yet"),
            },
            Context::Profile => match self.profile.as_ref().and_then(|v| v.stream.last.as_ref()) {
                Some(s) => Export::lines("the profile's tables and tail", [crate::analysis::profile::snapshot_json(s)]),
                None => Export::nothing("the profile has not started"),
            },
            Context::Server => match self.server.as_ref().and_then(|v| v.nodes.as_ref()) {
                Some(Ok(n)) => Export::lines(
                    "the slow log, clients and commands",
                    n.iter().map(|x| serde_json::to_value(x).unwrap_or_default()),
                ),
                _ => Export::nothing("not read yet"),
            },
            _ => {
                let keys = self.index.keys();
                let measured = keys.iter().filter(|k| self.meta.contains_key(*k)).count();
                let what = if measured == keys.len() {
                    format!("{} keys (MATCH {})", keys.len(), self.pattern)
                } else {
                    format!(
                        "{} keys (MATCH {}), type/TTL/memory for the {measured} measured (s sorts by TTL or size, measuring every key)",
                        keys.len(),
                        self.pattern
                    )
                };
                Export::lines(what, keys.iter().map(|k| crate::domain::key_json(k, self.meta.get(k).map(|m| &m.meta))))
            }
        }
    }
}
