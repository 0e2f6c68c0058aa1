//! The Keys tab's pub/sub view (`:pubsub [PATTERN]`): the channels matching the pattern with
//! their subscribers, and a read-only subscriber's live messages, decoded. Esc unsubscribes and
//! closes; `o` opens it in the pager.

use super::{Ask, Cx, Pending};
use crate::analysis::pubsub::{self, PubSubSnapshot};
use crate::keymap::Action;
use crate::message::{Command, RedisCmd, RequestId, Slot};

#[derive(Debug)]
pub struct PubSubView {
    pub req: Pending,
    pub pattern: String,
    pub snapshot: Option<PubSubSnapshot>,
    pub error: Option<String>,
    pub top: usize,
}

impl PubSubView {
    pub fn open(pattern: &str, cx: &mut Cx) -> (PubSubView, Command) {
        let pattern = if pattern.trim().is_empty() { "*".to_string() } else { pattern.trim().to_string() };
        let mut v =
            PubSubView { req: Pending::default(), pattern: pattern.clone(), snapshot: None, error: None, top: 0 };
        let c = Command::Redis(v.req.issue(cx), RedisCmd::PubSub { pattern });
        (v, c)
    }

    pub fn on_reply(&mut self, req: RequestId, r: Result<PubSubSnapshot, String>) {
        if !self.req.is(req) {
            return;
        }
        match r {
            Ok(s) => {
                if s.stopped.is_some() {
                    self.req.settle(req);
                }
                self.snapshot = Some(s);
            }
            Err(e) => {
                self.req.settle(req);
                self.error = Some(e);
            }
        }
    }

    pub fn lines(&self) -> Vec<String> {
        match (&self.snapshot, &self.error) {
            (_, Some(e)) => vec![format!("✗ {e}")],
            (None, None) => vec![format!("subscribing to {}…", crate::text::sanitize_str(&self.pattern))],
            (Some(s), None) => {
                let mut l = pubsub::lines(s, pubsub::KEPT);
                if let Some(w) = &s.stopped {
                    l.insert(0, w.clone());
                }
                l
            }
        }
    }

    /// Returns whether the view closes, and what to send.
    pub fn on_action(&mut self, action: Action, page: usize, cx: &mut Cx) -> (bool, Vec<Command>) {
        let last = self.lines().len().saturating_sub(page.max(1));
        match action {
            Action::Up => self.top = self.top.saturating_sub(1),
            Action::Down => self.top = (self.top + 1).min(last),
            Action::PageUp => self.top = self.top.saturating_sub(page.max(1)),
            Action::PageDown => self.top = (self.top + page.max(1)).min(last),
            Action::Top => self.top = 0,
            Action::Bottom => self.top = last,
            Action::Pager => cx.ask(Ask::Page {
                title: format!("pub/sub {}", crate::text::sanitize_str(&self.pattern)),
                note: None,
                text: self.lines().join("\n"),
                more: false,
            }),
            Action::Back => return (true, vec![Command::Cancel(Slot::PubSub)]),
            _ => {}
        }
        (false, vec![])
    }
}
