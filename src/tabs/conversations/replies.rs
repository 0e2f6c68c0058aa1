//! The backend's replies to the Conversations tab's commands (long-term reads, the memory layer's badges and traces).

use super::*;
use crate::message::{LongTermCmd, MemoryReply};
use crate::tabs::OnReply;

impl OnReply<LongTermReply> for ConversationsTab {
    fn on_reply(&mut self, req: RequestId, reply: LongTermReply, cx: &mut Cx) -> Vec<Command> {
        let mut cmds = Vec::new();
        match reply {
            LongTermReply::Conversations(r) if self.live.req.is(req) => {
                self.live.req.forget();
                // A failed refresh changes nothing on screen; the next one tries again.
                if let Ok(page) = r {
                    let selected = self.convs.get(self.selected).map(|c| c.id.clone());
                    let old: std::collections::HashSet<&str> = self.convs.iter().map(|c| c.id.as_str()).collect();
                    self.fresh =
                        page.items.iter().filter(|c| !old.contains(c.id.as_str())).map(|c| c.id.clone()).collect();
                    self.convs = page.items;
                    self.next = page.next;
                    // The selection stays on its conversation, and where it was on screen.
                    if let Some(i) = selected.and_then(|id| self.convs.iter().position(|c| c.id == id)) {
                        self.offset = (self.offset + i).saturating_sub(self.selected);
                        self.selected = i;
                    }
                    self.clamp();
                }
            }
            LongTermReply::Conversations(r) if self.list_req.is(req) => {
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
                        // Nothing under the configured layout: look for what is there.
                        if self.convs.is_empty() && self.filter == ConvFilter::All && self.found.is_none() {
                            let req = self.detect_req.issue(cx);
                            cmds.push(Command::LongTerm(req, LongTermCmd::Detect));
                        }
                    }
                    Err(e) => self.fail(e),
                }
            }
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
            LongTermReply::Count(..) | LongTermReply::Conversations(_) | LongTermReply::Detected(_) => {}
            LongTermReply::Messages(r) => {
                let Some(t) = &mut self.thread else { return cmds };
                if t.live.req.is(req) {
                    t.live.req.forget();
                    // The last page read again: new messages in their place; a failure
                    // changes nothing (the next refresh tries again).
                    if let Ok(page) = r {
                        let known: HashSet<String> = t.messages.iter().map(|m| m.id.clone()).collect();
                        let fresh: HashSet<String> =
                            page.items.iter().filter(|m| !known.contains(&m.id)).map(|m| m.id.clone()).collect();
                        if !fresh.is_empty() {
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
                            if let Some(c) = page.next {
                                // More than a page arrived: stream the rest.
                                t.next = Some(c.clone());
                                t.done = false;
                                cmds.push(Self::page_after(t, c, cx));
                            } else {
                                cmds.extend(Self::badges_cmd(t, cx));
                            }
                        } else {
                            t.fresh.clear();
                        }
                    }
                    return cmds;
                }
                if !t.req.is(req) {
                    return cmds;
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
                        // Stream on: the next page is fetched while this one is read.
                        if let Some(c) = t.next.clone() {
                            cmds.push(Self::page_after(t, c, cx));
                        } else {
                            t.follow_end = false;
                            cmds.extend(Self::badges_cmd(t, cx));
                        }
                    }
                    Err(e) => {
                        t.error = Some(e.to_string());
                        let attempt = t.retry.map(|(_, a)| a + 1).unwrap_or(0);
                        t.retry = Some((self.now_ms + crate::tabs::retry_backoff_ms(attempt), attempt));
                    }
                }
            }
            LongTermReply::Documents(r) => {
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
                    return cmds;
                }
                if self.browser.req.is(req) {
                    self.browser.req.forget();
                    match r {
                        Ok(mut docs) => {
                            if let Some(BrowserLevel::Document { doc, found, lines, .. }) =
                                self.browser.stack.last_mut()
                            {
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
            _ => {}
        }
        cmds
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
