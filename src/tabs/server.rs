//! The Keys tab's server view (`:server`): the slow log, the clients, the commands by calls
//! and by time and the latency events of every node, read again every few seconds while open.
//! Read-only. `s` sorts the clients (idle, output memory, command), `r` reads now, `o` opens
//! it whole in the pager, Esc goes back.

use super::{Ask, Cx, Pending};
use crate::domain::ServerReport;
use crate::keymap::Action;
use crate::message::RedisCmd;
use crate::message::{Command, RequestId};
use crate::server_report::{ClientSort, Emphasis};

/// How often the view reads the servers again.
pub const REFRESH_MS: u64 = 2_000;

#[derive(Debug)]
pub struct ServerView {
    pub req: Pending,
    pub nodes: Option<Result<Vec<ServerReport>, String>>,
    pub sort: ClientSort,
    pub top: usize,
    pub read_at_ms: u64,
}

/// Rows per section in the view.
const ROWS: usize = 50;

impl ServerView {
    pub fn open(cx: &mut Cx, now: u64) -> (ServerView, Command) {
        let mut v =
            ServerView { req: Pending::default(), nodes: None, sort: ClientSort::default(), top: 0, read_at_ms: now };
        let c = v.read(cx, now);
        (v, c)
    }

    fn read(&mut self, cx: &mut Cx, now: u64) -> Command {
        self.read_at_ms = now;
        Command::Redis(self.req.issue(cx), RedisCmd::Server)
    }

    /// Read again when the last reading is old and none is on its way.
    pub fn tick(&mut self, now: u64, cx: &mut Cx) -> Option<Command> {
        (!self.req.waiting() && now >= self.read_at_ms + REFRESH_MS).then(|| self.read(cx, now))
    }

    pub fn on_reply(&mut self, req: RequestId, r: Result<Vec<ServerReport>, String>) {
        if self.req.settle(req) {
            // A failed reading keeps the last good one on screen, with the error above it.
            match (&r, &self.nodes) {
                (Err(e), Some(Ok(old))) => {
                    let mut old = old.clone();
                    if let Some(first) = old.first_mut() {
                        first.errors.insert(0, format!("the last reading failed: {e}"));
                    }
                    self.nodes = Some(Ok(old));
                }
                _ => self.nodes = Some(r),
            }
        }
    }

    pub fn lines(&self) -> Vec<(Emphasis, String)> {
        match &self.nodes {
            None => vec![(Emphasis::Dim, "reading the slow log, the clients and the command counters…".into())],
            Some(Err(e)) => vec![(Emphasis::Warn, format!("✗ {e}"))],
            Some(Ok(n)) => crate::server_report::report(n, self.sort, ROWS),
        }
    }

    /// Returns whether the view closes, and what to send.
    pub fn on_action(&mut self, action: Action, page: usize, now: u64, cx: &mut Cx) -> (bool, Vec<Command>) {
        if let Some(t) = super::scroll::scrolled(action, self.top, self.lines().len(), page) {
            self.top = t;
            return (false, vec![]);
        }
        match action {
            Action::CycleSort => self.sort = self.sort.next(),
            Action::Refresh if !self.req.waiting() => return (false, vec![self.read(cx, now)]),
            Action::Pager => {
                let text: Vec<String> = self.lines().into_iter().map(|(_, l)| l).collect();
                cx.ask(Ask::Page {
                    title: "server: slow log, clients, commands".into(),
                    note: None,
                    text: text.join("\n"),
                    more: false,
                });
            }
            Action::Back => return (true, vec![Command::Cancel(crate::message::Slot::Server)]),
            _ => {}
        }
        (false, vec![])
    }
}
