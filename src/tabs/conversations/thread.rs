//! An open thread: its pages, moving and paging in it, search within it, tier marks and the trace.

use super::*;
use crate::message::{LongTermCmd, MemoryCmd};

impl ConversationsTab {
    /// The thread's page after `c` (the stream goes on).
    pub(super) fn page_after(t: &mut Thread, c: Cursor, cx: &mut Cx) -> Command {
        let req = t.req.issue(cx);
        Command::LongTerm(
            req,
            LongTermCmd::Messages { conversation: t.conv.id.clone(), after: Some(c), limit: THREAD_PAGE },
        )
    }

    /// Show `conv`'s thread and ask for its first page; `target` is selected once it streams in.
    pub(super) fn start_thread(&mut self, conv: Conversation, target: Option<String>, cx: &mut Cx) -> Command {
        let req = cx.fresh();
        let conversation = conv.id.clone();
        self.thread = Some(Thread {
            conv,
            messages: Vec::new(),
            next: None,
            req: Pending::at(req),
            done: false,
            error: None,
            retry: None,
            selected: 0,
            expanded: HashSet::new(),
            search: None,
            follow_end: false,
            target,
            side: false,
            side_docs: Vec::new(),
            side_req: Pending::default(),
            badges: None,
            badges_req: Pending::default(),
            trace: None,
            tail: (0, None),
            // Its clock starts once the thread is read (the first look), not at time zero.
            live: Live::from_first_look(),
            fresh: HashSet::new(),
            inner: 0,
        });
        self.view = View::Thread;
        Command::LongTerm(req, LongTermCmd::Messages { conversation, after: None, limit: THREAD_PAGE })
    }

    /// The tier marks of message `i` of the thread.
    pub fn marks(&self, t: &Thread, i: usize) -> TierMarks {
        let Some(m) = t.messages.get(i) else { return TierMarks::default() };
        let b = t.badges.as_ref();
        TierMarks {
            redis: b.and_then(|b| b.redis.as_ref()).map(|s| s.contains(&m.id)),
            vector: b.and_then(|b| b.vector.as_ref()).map(|s| s.contains(&m.id)),
            relevant: self.memory.is_relevant(&m.role, &m.content),
        }
    }

    /// Ask which faster tiers hold the thread's messages (once the whole thread is read).
    pub(super) fn badges_cmd(t: &mut Thread, cx: &mut Cx) -> Option<Command> {
        if t.messages.is_empty() || !t.done {
            return None;
        }
        let req = t.badges_req.issue(cx);
        Some(Command::Memory(
            req,
            MemoryCmd::Badges {
                conversation: t.conv.id.clone(),
                ids: t.messages.iter().map(|m| m.id.clone()).collect(),
            },
        ))
    }

    /// Trace the selected message (the panel follows the selection while open).
    pub(super) fn trace_selected(t: &mut Thread, cx: &mut Cx) -> Vec<Command> {
        let Some(m) = t.messages.get(t.selected) else { return vec![] };
        if t.trace.as_ref().is_some_and(|v| v.message == m.id && v.req.waiting()) {
            return vec![];
        }
        let req = cx.fresh();
        let keep = t.trace.as_ref().filter(|v| v.message == m.id).and_then(|v| v.result.clone());
        let at_ms = t.trace.as_ref().map(|v| v.at_ms).unwrap_or(0);
        t.trace = Some(TraceView { message: m.id.clone(), req: Pending::at(req), result: keep, at_ms });
        vec![Command::Memory(req, MemoryCmd::Trace { conversation: t.conv.id.clone(), message: m.id.clone() })]
    }

    pub(super) fn open_thread(&mut self, cx: &mut Cx) -> Vec<Command> {
        let Some(conv) = self.convs.get(self.selected).cloned() else { return vec![] };
        self.opened_from_search = false;
        vec![self.start_thread(conv, None, cx)]
    }

    /// Open a conversation by id and select one of its messages (from a search result).
    pub fn open_message(&mut self, conversation: &str, message: Option<&str>, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        let path = format!("conversations/{conversation}");
        let conv = self.convs.iter().find(|c| c.id == conversation).cloned().unwrap_or_else(|| {
            Conversation::from_doc(Document { path: path.clone(), fields: vec![], update_time: None })
        });
        let messages = self.start_thread(conv, message.map(str::to_string), cx);
        // Its own document fills the header when the conversation was not in the list.
        let Some(t) = &mut self.thread else { return vec![messages] };
        let dreq = t.side_req.issue(cx);
        vec![messages, Command::LongTerm(dreq, LongTermCmd::SideDocs { paths: vec![path] })]
    }

    /// Indices of messages whose content contains the search text (case-insensitive).
    pub(super) fn matches(t: &Thread) -> Vec<usize> {
        let Some(q) = t.search.as_ref().map(|s| s.to_lowercase()).filter(|s| !s.is_empty()) else { return vec![] };
        t.messages.iter().enumerate().filter(|(_, m)| m.content.to_lowercase().contains(&q)).map(|(i, _)| i).collect()
    }

    /// Select match `i` (one of `matches`, the messages holding the search): a long message
    /// opened out and scrolled to its first match; where it is said, as "match k of N".
    pub(super) fn show_match(t: &mut Thread, i: usize, matches: &[usize], cx: &mut Cx) {
        let Some(q) = t.search.clone() else { return };
        t.selected = i;
        t.expanded.insert(i);
        let body = &t.messages[i].content;
        t.inner = 0;
        let k = matches.iter().position(|&x| x == i).map(|p| p + 1).unwrap_or(0);
        let mut said = format!("match {k} of {} messages", matches.len());
        if let Some(at) = body.to_lowercase().find(&q.to_lowercase()) {
            let line = body[..at.min(body.len())].matches('\n').count() + 1;
            // A match deep inside a long message: the view scrolls to it.
            if line > 10 {
                t.inner = line - 3;
                said.push_str(&format!(" · on line {line} of this one (PgUp/PgDn scroll it; o opens it whole)"));
            }
        }
        cx.status(said, false);
    }

    pub fn set_search(&mut self, q: &str, cx: &mut Cx) {
        let Some(t) = self.thread.as_mut() else { return };
        t.search = Some(q.to_string()).filter(|s| !s.is_empty());
        let m = Self::matches(t);
        match m.iter().find(|&&i| i >= t.selected).or(m.first()) {
            Some(&i) => Self::show_match(t, i, &m, cx),
            None if t.search.is_some() => cx.status(
                format!("no message contains `{}` (of {} loaded)", text::sanitize_str(q), t.messages.len()),
                true,
            ),
            None => {}
        }
    }

    pub(super) fn thread_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let page = self.view_rows.max(1);
        let Some(t) = &mut self.thread else {
            self.view = View::List;
            return vec![];
        };
        let n = t.messages.len();
        let before = t.selected;
        let cmds = match action {
            Action::Trace if t.trace.is_some() => {
                t.trace = None;
                return vec![Command::Cancel(crate::message::Slot::Trace)];
            }
            Action::Trace if n == 0 => {
                cx.status("no message to trace yet", true);
                return vec![];
            }
            Action::Trace => return Self::trace_selected(t, cx),
            Action::Copy => {
                if let Some(m) = t.messages.get(t.selected) {
                    cx.ask(Ask::Copy { what: format!("message {}", m.id), text: m.content.clone() });
                }
                return vec![];
            }
            // The trace (when open) or the selected message, whole, in the pager.
            Action::Pager => {
                if let Some(tr) = t.trace.as_ref().and_then(|v| v.result.as_ref()) {
                    let title = format!("trace of {}", tr.message);
                    cx.ask(Ask::Page { title, note: None, text: tr.to_text(), more: false });
                } else if let Some(m) = t.messages.get(t.selected) {
                    let when = m.timestamp.map(|t| t.to_rfc3339()).unwrap_or_else(|| "no timestamp".into());
                    let title = format!("{} · {} · {} · {when}", t.conv.id, m.id, m.role);
                    let note = format!("{} characters · {}", m.content.chars().count(), m.doc.path);
                    let text = text::sanitize_multiline(m.content.as_bytes());
                    cx.ask(Ask::Page { title, note: Some(note), text, more: false });
                }
                return vec![];
            }
            // `r`: the trace (when open) and the tier badges, read again.
            Action::Refresh => {
                let mut cmds = Vec::new();
                if let Some(v) = &mut t.trace {
                    v.req.forget();
                    cmds.extend(Self::trace_selected(t, cx));
                }
                cmds.extend(Self::badges_cmd(t, cx));
                return cmds;
            }
            Action::Back if t.trace.is_some() => {
                t.trace = None;
                return vec![Command::Cancel(crate::message::Slot::Trace)];
            }
            Action::Back => {
                self.view = View::List;
                self.thread = None;
                if std::mem::take(&mut self.opened_from_search) {
                    cx.ask(Ask::BackToSearch);
                }
                return vec![
                    Command::Cancel(crate::message::Slot::Thread),
                    Command::Cancel(crate::message::Slot::Badges),
                    Command::Cancel(crate::message::Slot::Trace),
                ];
            }
            _ => Self::thread_move(t, action, page, self.thread_drawn, cx),
        };
        // The trace panel follows the selection.
        let mut cmds = cmds;
        if t.trace.is_some() && t.selected != before {
            cmds.extend(Self::trace_selected(t, cx));
        }
        cmds
    }

    pub(super) fn thread_move(
        t: &mut Thread,
        action: Action,
        page: usize,
        drawn: Option<(usize, usize, usize, usize)>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let n = t.messages.len();
        // Inside a long, opened-out message: PgDn/PgUp page through it by what the screen
        // showed of it — contiguous pages with one line of overlap — before moving on.
        let expanded = t.expanded.contains(&t.selected);
        let shown = drawn.filter(|d| d.0 == t.selected && expanded);
        // Before a frame has said what it showed: the message's height, generously.
        let guess = t
            .messages
            .get(t.selected)
            .filter(|_| expanded && shown.is_none())
            .map(|m| m.content.lines().count() + m.content.len() / 60 + 2);
        match (action, shown, guess) {
            (Action::PageDown, Some((_, first, shown, total)), _) if first + shown < total => {
                t.inner = (first + shown).saturating_sub(1).max(first + 1);
                return vec![];
            }
            (Action::PageUp, Some((_, first, _, _)), _) if first > 0 => {
                // A page while scrolled is the screen less the header line.
                t.inner = first.saturating_sub(page.saturating_sub(2).max(1));
                return vec![];
            }
            (Action::PageDown, None, Some(h)) if t.inner + page < h => {
                t.inner += page.saturating_sub(1).max(1);
                return vec![];
            }
            (Action::PageUp, None, Some(_)) if t.inner > 0 => {
                t.inner = t.inner.saturating_sub(page.saturating_sub(1).max(1));
                return vec![];
            }
            (Action::SearchNext | Action::SearchPrev, _, _) => {}
            _ => t.inner = 0,
        }
        // A page of messages is about a third of the screen's rows.
        if let Some(i) = crate::tabs::scroll::moved(action, t.selected, n, page / 3 + 1) {
            t.selected = i;
        }
        match action {
            Action::Bottom => {
                t.selected = n.saturating_sub(1);
                if !t.done {
                    t.follow_end = true;
                }
            }
            Action::ToggleExpand => {
                let i = t.selected;
                if !t.expanded.remove(&i) {
                    t.expanded.insert(i);
                }
            }
            Action::SearchNext | Action::SearchPrev => {
                let m = Self::matches(t);
                if m.is_empty() {
                    cx.status("no search: press / to search the thread", true);
                    return vec![];
                }
                let next = if action == Action::SearchNext {
                    m.iter().find(|&&i| i > t.selected).or(m.first())
                } else {
                    m.iter().rev().find(|&&i| i < t.selected).or(m.last())
                };
                if let Some(&i) = next {
                    Self::show_match(t, i, &m, cx);
                }
            }
            Action::ToggleSide => {
                t.side = !t.side;
                if t.side && t.side_docs.is_empty() {
                    let mut paths = vec![t.conv.doc.path.clone()];
                    if let Some(u) = &t.conv.user_id {
                        paths.push(format!("users/{u}"));
                    }
                    if let Some(a) = &t.conv.agent_id {
                        paths.push(format!("agents/{a}"));
                    }
                    let req = t.side_req.issue(cx);
                    return vec![Command::LongTerm(req, LongTermCmd::SideDocs { paths })];
                }
            }
            Action::Refresh => {
                let req = t.req.issue(cx);
                t.messages.clear();
                t.error = None;
                t.done = false;
                t.badges = None;
                let mut cmds = vec![Command::LongTerm(
                    req,
                    LongTermCmd::Messages { conversation: t.conv.id.clone(), after: None, limit: THREAD_PAGE },
                )];
                if let Some(v) = &mut t.trace {
                    let treq = v.req.issue(cx);
                    cmds.push(Command::Memory(
                        treq,
                        MemoryCmd::Trace { conversation: t.conv.id.clone(), message: v.message.clone() },
                    ));
                }
                return cmds;
            }
            _ => {}
        }
        vec![]
    }
}
