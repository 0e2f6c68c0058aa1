//! One file per tab: its state and its update logic (pure; drawing lives in `crate::ui`).

pub mod analysis;
pub mod audit;
pub mod conversations;
pub mod health;
pub mod keys;
pub mod line_edit;
pub mod pager;
pub mod profile;
pub mod pubsub;
pub mod scroll;
pub mod search;
pub mod server;

/// A view's read that failed: what went wrong, how many times in a row, and when it is asked
/// again (see [`retry_backoff_ms`]). One shape for every tab.
#[derive(Debug, Clone)]
pub struct TabError {
    pub text: String,
    pub attempt: u32,
    pub retry_at_ms: u64,
}

/// How long a failed view waits before it asks again: 1 s after the first failure, doubling to
/// at most 30 s. The one retry curve of every view.
pub fn retry_backoff_ms(attempt: u32) -> u64 {
    (1000u64 << attempt.min(5)).min(30_000)
}

use crate::domain::Key;
use crate::keymap::{Action, Context};
use crate::message::{Command, RequestId};

/// What the App asks of every tab: the requests to start with, time passing, an action, the
/// keymap context of its view, and what `:export` writes. Replies come through [`OnReply`].
pub trait Tab {
    /// Requests when the tab's tier comes up (its first listing, its stats).
    fn start(&mut self, _cx: &mut Cx) -> Vec<Command> {
        vec![]
    }
    /// Time passing (`cx.now_ms`): live refreshes, retries, debounces. The bool says the screen
    /// changed.
    fn tick(&mut self, _cx: &mut Cx) -> (Vec<Command>, bool) {
        (vec![], false)
    }
    fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command>;
    /// The keymap context of the view it shows.
    fn context(&self) -> Context;
    /// What `:export FILE` writes for the view it shows: its data, never screen text.
    fn export(&self) -> Export;
}

/// A tab (or view) taking the replies of one group of the protocol; the one name for it.
pub trait OnReply<R> {
    fn on_reply(&mut self, req: RequestId, reply: R, cx: &mut Cx) -> Vec<Command>;
}

/// What a view exports.
#[derive(Debug, Clone, PartialEq)]
pub enum Export {
    /// JSON lines, and what they are (for the status line).
    Lines { what: String, lines: Vec<String> },
    /// A value larger than its page: read whole, page after page, by the backend.
    WholeValue(Key),
}

impl Export {
    /// Lines of JSON, each made safe for a terminal and a file.
    pub fn lines(what: impl Into<String>, values: impl IntoIterator<Item = serde_json::Value>) -> Export {
        Export::Lines {
            what: what.into(),
            lines: values.into_iter().map(|v| crate::text::json_safe(v.to_string())).collect(),
        }
    }

    pub fn nothing(why: &str) -> Export {
        Export::Lines { what: format!("nothing ({why})"), lines: vec![] }
    }
}

/// How often a shown listing (keys, conversations, a thread) reads itself again.
pub const LIVE_MS: u64 = 5_000;

/// A view's live refresh: when it last ran and its request (latest wins). One rule for every
/// view that refreshes itself.
#[derive(Debug, Clone, Default)]
pub struct Live {
    at_ms: u64,
    first_look: bool,
    pub req: Pending,
}

impl Live {
    /// A refresh whose clock starts at the first look (a view just read whole: the first
    /// refresh is [`LIVE_MS`] after it), not at time zero.
    pub fn from_first_look() -> Live {
        Live { at_ms: 0, first_look: true, req: Pending::default() }
    }

    /// Whether a refresh is due at `now` (none waiting, [`LIVE_MS`] since the last); if so it
    /// counts as run.
    pub fn due(&mut self, now: u64) -> bool {
        if self.req.waiting() {
            return false;
        }
        if std::mem::take(&mut self.first_look) {
            self.at_ms = now;
            return false;
        }
        if now < self.at_ms + LIVE_MS {
            return false;
        }
        self.at_ms = now;
        true
    }
}

pub use crate::decode::page::LineStyle;

/// What an input popup edits.
#[derive(Debug, Clone, PartialEq)]
pub enum InputKind {
    Filter,
    Command,
    Db,
    Ttl(Key),
    Rename(Key),
    ConvFilter,
    ThreadSearch,
    WhyNot,
    ProfileFilter,
}

/// A write a tab wants to make, with the key's type for the confirmation question.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteKind {
    Delete(Key, String),
    Persist(Key, String),
    Expire(Key, String),
    Rename(Key, String),
}

/// What a tab asks of the App (the status line, popups, another tab). One enum for every
/// tab, queued in [`Cx`] and handled by the App in one place after each message.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    Status {
        text: String,
        error: bool,
    },
    /// Open an input popup, pre-filled with `initial`.
    Input {
        kind: InputKind,
        title: String,
        initial: String,
    },
    /// A write: refused unless write mode is on, then confirmed by the user.
    Write(WriteKind),
    /// Confirm repairing the drift the audit view shows.
    ConfirmRepair(String),
    CloseAudit,
    /// Leaving a thread opened from a search result: back to the Search tab.
    BackToSearch,
    /// Show a message in the Conversations tab.
    OpenMessage {
        conversation: String,
        message: Option<String>,
    },
    /// Copy text to the clipboard (OSC 52); `what` names it in the status line.
    Copy {
        what: String,
        text: String,
    },
    /// Open text whole in the full-screen pager (safe text: control characters made visible).
    Page {
        title: String,
        note: Option<String>,
        text: String,
        /// The text is one window of more (a previewed string, a value page): `]` in the
        /// pager loads the next.
        more: bool,
    },
}

/// The context a tab's update runs in: request ids from the App's one counter, and the queue
/// of what the tab asks of the App.
#[derive(Debug, Default)]
pub struct Cx {
    next_id: u64,
    asks: Vec<Ask>,
    /// The App's clock (ms since it started), as of the message being handled.
    pub now_ms: u64,
}

impl Cx {
    /// A context whose ids start after `last` (to drive a tab beside an App's own ids).
    pub fn after(last: u64) -> Cx {
        Cx { next_id: last, asks: Vec::new(), now_ms: 0 }
    }

    pub fn fresh(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    pub fn ask(&mut self, ask: Ask) {
        self.asks.push(ask);
    }

    /// A line for the status bar (`error` makes it stay until replaced).
    pub fn status(&mut self, text: impl Into<String>, error: bool) {
        self.asks.push(Ask::Status { text: text.into(), error });
    }

    pub fn take_asks(&mut self) -> Vec<Ask> {
        std::mem::take(&mut self.asks)
    }
}

/// A view's one outstanding request, latest wins: issuing a new request forgets the previous
/// A view fed by a stream of snapshots (a profiling session, a subscriber) until its last one
/// (`done`), or the error that ended it.
#[derive(Debug)]
pub struct Streamed<S> {
    pub req: Pending,
    pub last: Option<S>,
    pub error: Option<String>,
}

impl<S> Default for Streamed<S> {
    fn default() -> Self {
        Streamed { req: Pending::default(), last: None, error: None }
    }
}

impl<S> Streamed<S> {
    /// A new stream: what the last one showed is gone.
    pub fn start(&mut self, cx: &mut Cx) -> RequestId {
        self.last = None;
        self.error = None;
        self.req.issue(cx)
    }

    /// Still sending.
    pub fn running(&self) -> bool {
        self.req.waiting()
    }

    pub fn on_reply(&mut self, req: RequestId, r: Result<S, String>, done: impl Fn(&S) -> bool) {
        if !self.req.is(req) {
            return;
        }
        match r {
            Ok(s) => {
                if done(&s) {
                    self.req.settle(req);
                }
                self.last = Some(s);
            }
            Err(e) => {
                self.req.settle(req);
                self.error = Some(e);
            }
        }
    }
}

/// one, and a reply is taken only if it answers the newest (a stale reply is dropped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending(Option<RequestId>);

impl Pending {
    /// A pending request already issued (e.g. when building a view around it).
    pub fn at(req: RequestId) -> Pending {
        Pending(Some(req))
    }

    /// A fresh request id, now the one this view waits for.
    pub fn issue(&mut self, cx: &mut Cx) -> RequestId {
        let req = cx.fresh();
        self.0 = Some(req);
        req
    }

    /// `req` answers the request this view waits for.
    pub fn is(&self, req: RequestId) -> bool {
        self.0 == Some(req)
    }

    /// Take a final reply: true (and no longer waiting) if `req` is the awaited one.
    pub fn settle(&mut self, req: RequestId) -> bool {
        let ours = self.is(req);
        if ours {
            self.0 = None;
        }
        ours
    }

    pub fn waiting(&self) -> bool {
        self.0.is_some()
    }

    /// Stop waiting: any reply still on its way is dropped.
    pub fn forget(&mut self) {
        self.0 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_takes_only_the_newest_reply() {
        let mut cx = Cx::default();
        let mut p = Pending::default();
        assert!(!p.waiting());
        let old = p.issue(&mut cx);
        let new = p.issue(&mut cx);
        assert_ne!(old, new);
        assert!(!p.settle(old), "a stale reply is dropped");
        assert!(p.waiting());
        assert!(p.is(new));
        assert!(p.settle(new));
        assert!(!p.waiting() && !p.settle(new), "a reply is taken once");
        p.issue(&mut cx);
        p.forget();
        assert!(!p.waiting());
    }

    #[test]
    fn asks_queue_in_order_and_drain() {
        let mut cx = Cx::default();
        cx.status("one", false);
        cx.ask(Ask::CloseAudit);
        assert_eq!(cx.take_asks(), vec![Ask::Status { text: "one".into(), error: false }, Ask::CloseAudit]);
        assert!(cx.take_asks().is_empty());
    }
}
