//! The Keys tab's pub/sub view (`:pubsub [PATTERN]`): the channels matching the pattern with
//! their subscribers, and a read-only subscriber's live messages, decoded. Esc unsubscribes and
//! closes; `o` opens it in the pager.

use super::{Ask, Cx, Streamed};
use crate::analysis::pubsub::{self, PubSubSnapshot};
use crate::keymap::Action;
use crate::message::{Command, RedisCmd, RequestId, Slot};

#[derive(Debug)]
pub struct PubSubView {
    pub stream: Streamed<PubSubSnapshot>,
    pub pattern: String,
    pub top: usize,
}

impl PubSubView {
    pub fn open(pattern: &str, cx: &mut Cx) -> (PubSubView, Command) {
        let pattern = if pattern.trim().is_empty() { "*".to_string() } else { pattern.trim().to_string() };
        let mut v = PubSubView { stream: Streamed::default(), pattern: pattern.clone(), top: 0 };
        let c = Command::Redis(v.stream.start(cx), RedisCmd::PubSub { pattern });
        (v, c)
    }

    pub fn on_reply(&mut self, req: RequestId, r: Result<PubSubSnapshot, String>) {
        self.stream.on_reply(req, r, |s| s.stopped.is_some());
    }

    pub fn lines(&self) -> Vec<String> {
        match (&self.stream.last, &self.stream.error) {
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
        if let Some(t) = super::scroll::scrolled(action, self.top, self.lines().len(), page) {
            self.top = t;
            return (false, vec![]);
        }
        match action {
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
