//! The open value: paging, the pager, copy, writes to it, and its lines as shown (text, JSON, hex).

use super::*;
use crate::message::RedisCmd;

impl KeysTab {
    /// The confirmed write, sent; its reply reloads what is shown.
    pub fn send_write(&mut self, op: WriteOp, cx: &mut Cx) -> Command {
        let req = self.write_req.issue(cx);
        Command::Redis(req, RedisCmd::Write { op })
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
                    cmds.push(Command::Redis(
                        req,
                        RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone(), format: v.format },
                    ));
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

    /// `y`: the key's name (the list), or the value page shown (the value view), as text.
    pub(super) fn copy(&self, cx: &mut Cx) {
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

    pub(super) fn current_key(&self) -> Option<Key> {
        match self.focus {
            Focus::Value => self.value.as_ref().map(|v| v.key.clone()),
            Focus::List => match self.index.row(self.selected)? {
                Row::Key { idx, .. } => Some(self.index.key(idx).into()),
                Row::Folder { .. } => None,
            },
        }
    }

    pub(super) fn open_value(&mut self, key: Key, cx: &mut Cx) -> Vec<Command> {
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
            format: None,
        });
        self.focus = Focus::Value;
        vec![Command::Redis(req, RedisCmd::Value { key, cursor: PageCursor::Start, format: None })]
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
        vec![Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: next, format: v.format })]
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

    pub(super) fn on_value_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
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
                    vec![Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: prev, format: v.format })]
                } else {
                    vec![]
                }
            }
            Action::CycleFormat => {
                let Some(page) = &v.page else { return vec![] };
                // Auto first (what the values are read as on their own), then the other formats
                // the page's values can be read as, then auto again. The backend reads the page
                // again in that format (decoding never runs here).
                let others: Vec<crate::decode::Format> =
                    page.formats.iter().skip(1).filter_map(|n| crate::decode::Format::parse(n)).collect();
                if others.is_empty() {
                    cx.status("these values read as one format only", false);
                    return vec![];
                }
                let at = v.format.and_then(|f| others.iter().position(|c| *c == f));
                v.format = match at {
                    None => others.first().copied(),
                    Some(i) => others.get(i + 1).copied(),
                };
                let shown = v.format.map(|f| f.name()).unwrap_or("auto (each value's own)");
                let all: Vec<&str> = others.iter().map(|f| f.name()).collect();
                cx.status(format!("format: {shown} — F cycles auto, {}", all.join(", ")), false);
                let req = v.req.issue(cx);
                vec![Command::Redis(
                    req,
                    RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone(), format: v.format },
                )]
            }
            Action::Refresh => {
                let req = v.req.issue(cx);
                vec![Command::Redis(
                    req,
                    RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone(), format: v.format },
                )]
            }
            Action::Back => {
                self.focus = Focus::List;
                self.value = None;
                vec![Command::Cancel(crate::message::Slot::Value)]
            }
            _ => self.on_key_action(action, cx),
        }
    }

    /// What both panes do to the key in view: a write (delete, TTL, rename) or a copy.
    pub(super) fn on_key_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        match action {
            Action::Delete | Action::Expire | Action::Persist | Action::Rename => self.write_intent(action, cx),
            Action::Copy => self.copy(cx),
            _ => {}
        }
        vec![]
    }
}
