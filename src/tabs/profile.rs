//! The Keys tab's profiler (`:profile [FILTER]`): a bounded MONITOR session with a visible
//! cost warning — the tables (commands by rate and by server time, hot keys, clients) and a
//! live tail filterable by command, key glob and client (`f`). It stops on Esc, at its time
//! limit and at its line budget; `r` starts another. The aggregation runs in the backend: the
//! view only keeps the latest snapshot.

use super::{Ask, Cx, InputKind, Streamed};
use crate::analysis::profile::{self, ProfileSnapshot, TailFilter};
use crate::keymap::Action;
use crate::message::{Command, RedisCmd, RequestId, Slot};

/// A session's bounds in the UI.
pub const SECONDS: u64 = 60;
pub const MAX_LINES: u64 = 1_000_000;

#[derive(Debug)]
pub struct ProfileView {
    pub stream: Streamed<ProfileSnapshot>,
    pub filter: String,
    pub top: usize,
}

impl ProfileView {
    pub fn open(filter: &str, cx: &mut Cx) -> (ProfileView, Vec<Command>) {
        let mut v = ProfileView { stream: Streamed::default(), filter: filter.to_string(), top: 0 };
        let cmds = v.start(cx);
        (v, cmds)
    }

    fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        let f = Command::Redis(cx.fresh(), RedisCmd::ProfileFilter { filter: TailFilter::parse(&self.filter) });
        vec![f, Command::Redis(self.stream.start(cx), RedisCmd::Profile { seconds: SECONDS, max_lines: MAX_LINES })]
    }

    pub fn on_reply(&mut self, req: RequestId, r: Result<ProfileSnapshot, String>) {
        self.stream.on_reply(req, r, |s| s.stopped.is_some());
    }

    /// The new tail filter, sent to the running session.
    pub fn set_filter(&mut self, text: &str, cx: &mut Cx) -> Vec<Command> {
        self.filter = text.trim().to_string();
        vec![Command::Redis(cx.fresh(), RedisCmd::ProfileFilter { filter: TailFilter::parse(&self.filter) })]
    }

    /// The tables as lines (the view's left side, the pager).
    pub fn lines(&self) -> Vec<String> {
        match (&self.stream.last, &self.stream.error) {
            (_, Some(e)) => vec![format!("✗ {e}")],
            (None, None) => vec!["starting MONITOR…".into()],
            (Some(s), None) => profile::lines(s),
        }
    }

    /// Returns whether the view closes, and what to send.
    pub fn on_action(&mut self, action: Action, page: usize, cx: &mut Cx) -> (bool, Vec<Command>) {
        if let Some(t) = super::scroll::scrolled(action, self.top, self.lines().len(), page) {
            self.top = t;
            return (false, vec![]);
        }
        match action {
            Action::EditFilter => cx.ask(Ask::Input {
                kind: InputKind::ProfileFilter,
                title: "tail filter: cmd:get key:session:* client:ADDR-or-NAME (empty: everything)".into(),
                initial: self.filter.clone(),
            }),
            Action::Refresh if !self.stream.running() => return (false, self.start(cx)),
            Action::Pager => {
                let mut text = self.lines();
                if let Some(s) = &self.stream.last {
                    text.push("tail:".into());
                    text.extend(s.tail.iter().cloned());
                }
                cx.ask(Ask::Page { title: "profile".into(), note: None, text: text.join("\n"), more: false });
            }
            Action::Back => return (true, vec![Command::Cancel(Slot::Profile)]),
            _ => {}
        }
        (false, vec![])
    }
}
