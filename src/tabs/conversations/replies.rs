//! The backend's replies to the Conversations tab's commands (long-term reads, the memory layer's badges and traces).

use super::*;
use crate::domain::Page;
use crate::message::{LongTermCmd, MemoryReply};
use crate::tabs::OnReply;

impl OnReply<LongTermReply> for ConversationsTab {
    fn on_reply(&mut self, req: RequestId, reply: LongTermReply, cx: &mut Cx) -> Vec<Command> {
        match reply {
            LongTermReply::Conversations(r) if self.live.req.is(req) => self.on_list_refresh(r),
            LongTermReply::Conversations(r) if self.list_req.is(req) => return self.on_list_page(r, cx),
            LongTermReply::Count(r, left_out) if self.count_req.is(req) => {
                self.count_req.forget();
                self.count = r.ok();
                self.left_out = left_out;
            }
            LongTermReply::Detected(r) if self.detect_req.is(req) => {
                self.detect_req.forget();
                self.found = Some(match r {
                    Ok(d) => d.said_to_an_empty_list(self.layout.preset),
                    Err(e) => format!("could not sample the stores for other layouts: {e}"),
                });
            }
            LongTermReply::Messages(r) => return self.on_messages(req, r, cx),
            LongTermReply::Documents(r) => self.on_documents(req, r),
            LongTermReply::Collections(r) if self.browser.req.is(req) => {
                self.browser.req.forget();
                match r {
                    Ok(list) => {
                        if let Some(BrowserLevel::Collections { items, .. }) = self.browser.stack.last_mut() {
                            *items = list;
                        }
                    }
                    Err(e) => self.browser.error = Some(e.to_string()),
                }
            }
            LongTermReply::ListDocuments(r) if self.browser.req.is(req) => {
                self.browser.req.forget();
                match r {
                    Ok(page) => {
                        if let Some(BrowserLevel::Documents { items, next, .. }) = self.browser.stack.last_mut() {
                            items.extend(page.items);
                            *next = page.next;
                        }
                    }
                    Err(e) => self.browser.error = Some(e.to_string()),
                }
            }
            // A superseded request's reply.
            LongTermReply::Conversations(_)
            | LongTermReply::Count(..)
            | LongTermReply::Detected(_)
            | LongTermReply::Collections(_)
            | LongTermReply::ListDocuments(_) => {}
        }
        vec![]
    }
}

impl ConversationsTab {
    /// The list read again: new conversations marked, the selection kept on its conversation
    /// and where it was on screen. A failed refresh changes nothing; the next one tries again.
    fn on_list_refresh(&mut self, r: Result<Page<Conversation>, StoreError>) {
        self.live.req.forget();
        let Ok(page) = r else { return };
        let selected = self.convs.get(self.selected).map(|c| c.id.clone());
        let old: HashSet<&str> = self.convs.iter().map(|c| c.id.as_str()).collect();
        self.fresh = page.items.iter().filter(|c| !old.contains(c.id.as_str())).map(|c| c.id.clone()).collect();
        self.convs = page.items;
        self.next = page.next;
        if let Some(i) = selected.and_then(|id| self.convs.iter().position(|c| c.id == id)) {
            self.offset = (self.offset + i).saturating_sub(self.selected);
            self.selected = i;
        }
        self.clamp();
    }

    /// A page of the list; an empty first one asks `detect` what is there instead.
    fn on_list_page(&mut self, r: Result<Page<Conversation>, StoreError>, cx: &mut Cx) -> Vec<Command> {
        self.list_req.forget();
        match r {
            Ok(page) => {
                self.error = None;
                if !self.loaded_once || self.next.is_none() {
                    self.convs.clear();
                }
                self.loaded_once = true;
                self.convs.extend(page.items);
                self.next = page.next;
                self.clamp();
                if self.convs.is_empty() && self.filter == ConvFilter::All && self.found.is_none() {
                    let req = self.detect_req.issue(cx);
                    return vec![Command::LongTerm(req, LongTermCmd::Detect)];
                }
            }
            Err(e) => self.fail(e),
        }
        vec![]
    }

    /// A page of the open thread (streamed: the next is asked for while this one is read), or
    /// its live refresh.
    fn on_messages(&mut self, req: RequestId, r: Result<Page<Message>, StoreError>, cx: &mut Cx) -> Vec<Command> {
        let now = self.now_ms;
        let Some(t) = &mut self.thread else { return vec![] };
        if t.live.req.is(req) {
            t.live.req.forget();
            return Self::on_thread_refresh(t, r, cx);
        }
        if !t.req.is(req) {
            return vec![];
        }
        t.req.forget();
        match r {
            Ok(page) => {
                t.error = None;
                t.retry = None;
                t.tail = (t.messages.len(), t.next.clone());
                t.messages.extend(page.items);
                t.next = page.next;
                t.done = t.next.is_none();
                if t.follow_end {
                    t.selected = t.messages.len().saturating_sub(1);
                }
                if let Some(target) = &t.target
                    && let Some(i) = t.messages.iter().position(|m| &m.id == target)
                {
                    t.selected = i;
                    t.target = None;
                }
                if let Some(c) = t.next.clone() {
                    return vec![Self::page_after(t, c, cx)];
                }
                t.follow_end = false;
                Self::badges_cmd(t, cx).into_iter().collect()
            }
            Err(e) => {
                t.error = Some(e.to_string());
                let attempt = t.retry.map(|(_, a)| a + 1).unwrap_or(0);
                t.retry = Some((now + crate::tabs::retry_backoff_ms(attempt), attempt));
                vec![]
            }
        }
    }

    /// The thread's last page read again: new messages in their place; a failure changes
    /// nothing (the next refresh tries again).
    fn on_thread_refresh(t: &mut Thread, r: Result<Page<Message>, StoreError>, cx: &mut Cx) -> Vec<Command> {
        let Ok(page) = r else { return vec![] };
        let known: HashSet<String> = t.messages.iter().map(|m| m.id.clone()).collect();
        let fresh: HashSet<String> =
            page.items.iter().filter(|m| !known.contains(&m.id)).map(|m| m.id.clone()).collect();
        if fresh.is_empty() {
            t.fresh.clear();
            return vec![];
        }
        let selected = t.messages.get(t.selected).map(|m| m.id.clone());
        let at_end = t.selected + 1 >= t.messages.len();
        t.messages.truncate(t.tail.0);
        t.messages.extend(page.items);
        t.selected = if at_end {
            t.messages.len() - 1
        } else {
            selected.and_then(|id| t.messages.iter().position(|m| m.id == id)).unwrap_or(t.selected)
        };
        t.fresh = fresh;
        match page.next {
            // More than a page arrived: stream the rest.
            Some(c) => {
                t.next = Some(c.clone());
                t.done = false;
                vec![Self::page_after(t, c, cx)]
            }
            None => Self::badges_cmd(t, cx).into_iter().collect(),
        }
    }

    /// Documents: the thread's side panel (the conversation, its user and agent), or the one
    /// the browser opened.
    fn on_documents(&mut self, req: RequestId, r: Result<Vec<(String, Option<Document>)>, StoreError>) {
        if let Some(t) = &mut self.thread
            && t.side_req.is(req)
        {
            t.side_req.forget();
            if let Ok(docs) = r {
                // Opened by id: the conversation's own document fills the header.
                if t.conv.doc.fields.is_empty()
                    && let Some((_, Some(d))) = docs.iter().find(|(p, _)| *p == t.conv.doc.path)
                {
                    t.conv = Conversation::from_doc(d.clone());
                }
                if t.side || docs.len() > 1 {
                    t.side_docs = docs;
                }
            }
            return;
        }
        if !self.browser.req.is(req) {
            return;
        }
        self.browser.req.forget();
        match r {
            Ok(mut docs) => {
                if let Some(BrowserLevel::Document { doc, found, lines, .. }) = self.browser.stack.last_mut() {
                    let d = docs.pop().and_then(|(_, d)| d);
                    *found = Some(d.is_some());
                    *lines = d.as_ref().map(|d| field_lines(&d.fields)).unwrap_or_default();
                    *doc = d;
                }
            }
            Err(e) => self.browser.error = Some(e.to_string()),
        }
    }
}

impl OnReply<MemoryReply> for ConversationsTab {
    /// A cross-tier reply: the thread's badges, or the trace of a message.
    fn on_reply(&mut self, req: RequestId, reply: MemoryReply, _cx: &mut Cx) -> Vec<Command> {
        let now = self.now_ms;
        let Some(t) = &mut self.thread else { return vec![] };
        match reply {
            MemoryReply::Badges(b) if t.badges_req.is(req) => {
                t.badges_req.forget();
                t.badges = Some(*b);
            }
            MemoryReply::Trace(tr) => {
                if let Some(v) = &mut t.trace
                    && v.req.is(req)
                {
                    v.req.forget();
                    // The trace is the newer reading: the message's badges follow it, so a
                    // badge never contradicts the panel beside it.
                    if let Some(b) = &mut t.badges {
                        let mark = |set: &mut Option<std::collections::HashSet<String>>, holds: bool| {
                            if let Some(set) = set {
                                if holds {
                                    set.insert(tr.message.clone());
                                } else {
                                    set.remove(&tr.message);
                                }
                            }
                        };
                        if let Some(Ok(vt)) = &tr.vector {
                            mark(&mut b.vector, vt.record.is_some());
                        }
                        if let Some(Ok(entries)) = &tr.redis {
                            mark(&mut b.redis, entries.iter().any(|e| e.role == "recent list" && e.holds));
                        }
                    }
                    v.result = Some(*tr);
                    v.at_ms = now;
                }
            }
            _ => {}
        }
        vec![]
    }
}
