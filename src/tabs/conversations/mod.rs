//! The Conversations tab: conversations newest first (cursor-paged, COUNT in the background,
//! filters), a thread streamed page by page in timestamp order, a side panel with the
//! conversation/user/agent documents, and a document browser for any collection.

use super::TabError;
use super::{Ask, Cx, Pending};
use crate::config::Config;
use crate::domain::{ConvFilter, Conversation, Cursor, Document, FsValue, Message, Ts};
use crate::error::StoreError;
use crate::keymap::{Action, Context};
use crate::message::LongTermCmd;
use crate::message::{Command, LongTermReply, RequestId};
use crate::tabs::{Export, Live, Tab};
use crate::text;
use std::collections::HashSet;

mod browser;
mod list;
mod replies;

#[cfg(test)]
mod tests;
mod thread;

pub use browser::{field_lines, value_text, whole_value};

pub const LIST_PAGE: u32 = 100;
pub const THREAD_PAGE: u32 = 200;
/// Messages longer than this many wrapped lines are collapsed until expanded.
pub const COLLAPSE_LINES: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    List,
    Thread,
    Browser,
}

pub struct Thread {
    pub conv: Conversation,
    pub messages: Vec<Message>,
    pub next: Option<Cursor>,
    pub req: Pending,
    pub done: bool,
    pub error: Option<String>,
    /// When the failed page is asked for again, and how many times it failed.
    pub retry: Option<(u64, u32)>,
    pub selected: usize,
    pub expanded: HashSet<usize>,
    pub search: Option<String>,
    /// The user asked for the last message before it was loaded: follow the stream to the end.
    pub follow_end: bool,
    /// Select this message once it has streamed in (opened from a search result).
    pub target: Option<String>,
    pub side: bool,
    pub side_docs: Vec<(String, Option<Document>)>,
    pub side_req: Pending,
    /// Which messages the recent list and the vector tier hold (asked once the stream ends).
    pub badges: Option<crate::trace::Badges>,
    pub badges_req: Pending,
    /// The trace panel (`t`): the selected message followed across the tiers.
    pub trace: Option<TraceView>,
    /// Where the last page began, and the cursor that read it: the live refresh reads that
    /// page again (new messages in their place, by time).
    tail: (usize, Option<Cursor>),
    /// Its live refresh: the last page read again while the thread is shown.
    live: Live,
    /// Messages the last live refresh found new (marked until the next one).
    pub fresh: HashSet<String>,
    /// Lines of the selected message scrolled past (a message longer than the screen is read
    /// page by page before PgDn goes on to the next one).
    pub inner: usize,
}

pub struct TraceView {
    pub message: String,
    pub req: Pending,
    pub result: Option<crate::trace::Trace>,
    /// When the result arrived (TTLs count down from it).
    pub at_ms: u64,
}

/// What the thread shows of one message's faster tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TierMarks {
    /// In the conversation's recent list (None: not known).
    pub redis: Option<bool>,
    /// Has a vector record (None: not known).
    pub vector: Option<bool>,
    /// The layer's rule says it belongs in the vector tier.
    pub relevant: bool,
}

/// One line of a document's field tree.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldLine {
    pub depth: usize,
    pub key: String,
    pub type_name: &'static str,
    pub value: String,
    /// Set on reference values: Enter follows it.
    pub reference: Option<String>,
    /// A string or bytes value, whole (JSON pretty-printed): Enter opens it.
    pub full: Option<String>,
}

pub enum BrowserLevel {
    Collections { parent: Option<String>, items: Vec<String>, selected: usize },
    Documents { collection: String, items: Vec<Document>, next: Option<Cursor>, selected: usize },
    Document { path: String, doc: Option<Document>, found: Option<bool>, lines: Vec<FieldLine>, selected: usize },
}

pub struct Browser {
    pub stack: Vec<BrowserLevel>,
    pub req: Pending,
    pub error: Option<String>,
}

pub struct ConversationsTab {
    pub configured: bool,
    pub view: View,
    pub filter: ConvFilter,
    pub convs: Vec<Conversation>,
    pub next: Option<Cursor>,
    pub list_req: Pending,
    pub loaded_once: bool,
    pub count: Option<u64>,
    /// The thread's selected message as last drawn: (index, first body line shown, body lines
    /// shown, body lines in all).
    pub thread_drawn: Option<(usize, usize, usize, usize)>,
    /// What the layout passed over while counting, and why (said beside the count).
    pub left_out: Option<String>,
    count_req: Pending,
    pub selected: usize,
    pub offset: usize,
    pub view_rows: usize,
    pub error: Option<TabError>,
    pub thread: Option<Thread>,
    pub browser: Browser,
    pub now_ms: u64,
    /// Wall-clock time at now_ms = 0 (set by the UI loop; absent in tests).
    pub wall_start: Option<Ts>,
    /// The layer's rules (which messages belong in the vector tier).
    pub memory: crate::config::MemoryConfig,
    /// Which layout the conversations are read in.
    pub layout: crate::config::LayoutConfig,
    /// The list is empty under the layout: what a sample of the stores found instead.
    pub found: Option<String>,
    /// The open thread was opened from a Search result: leaving it returns there.
    pub opened_from_search: bool,
    detect_req: Pending,
    /// The live refresh of the list (in the list view), and the conversations it found new
    /// (marked until the next one).
    live: Live,
    pub fresh: std::collections::HashSet<String>,
}

/// A list longer than this (loaded page after page) is not refreshed whole: `r` reloads it.
pub const LIVE_MAX: usize = 500;

impl ConversationsTab {
    pub fn new(cfg: &Config) -> ConversationsTab {
        ConversationsTab {
            configured: cfg.has_conversations(),
            layout: cfg.layout.clone(),
            found: None,
            opened_from_search: false,
            live: Live::default(),
            fresh: Default::default(),
            detect_req: Pending::default(),
            view: View::List,
            filter: ConvFilter::All,
            convs: Vec::new(),
            next: None,
            list_req: Pending::default(),
            loaded_once: false,
            count: None,
            thread_drawn: None,
            left_out: None,
            count_req: Pending::default(),
            selected: 0,
            offset: 0,
            view_rows: 20,
            error: None,
            thread: None,
            browser: Browser { stack: Vec::new(), req: Pending::default(), error: None },
            now_ms: 0,
            wall_start: None,
            memory: cfg.memory.clone(),
        }
    }

    /// The rows the frame gave the list on screen (its page size).
    pub fn set_view_rows(&mut self, rows: usize) {
        self.view_rows = rows.max(1);
        self.clamp();
    }

    /// Wall-clock now, when known.
    pub fn wall_now(&self) -> Option<Ts> {
        self.wall_start.map(|w| Ts::from_micros(w.micros() + self.now_ms as i64 * 1000))
    }

    fn fail(&mut self, e: StoreError) {
        let attempt = self.error.as_ref().map(|e| e.attempt).unwrap_or(0);
        self.error = Some(TabError {
            text: e.to_string(),
            attempt,
            retry_at_ms: self.now_ms + crate::tabs::retry_backoff_ms(attempt),
        });
    }

    /// The long-term store is up: a document-browser read that failed before is asked again
    /// (the list and threads retry on their own backoff).
    pub fn long_term_up(&mut self, cx: &mut Cx) -> Vec<Command> {
        if self.view == View::Browser && self.browser.error.is_some() && !self.browser.req.waiting() {
            return self.browser_action(Action::Refresh, cx);
        }
        vec![]
    }

    /// A click on the list's `r`-th row on screen: it is selected; the selected one opens.
    pub fn click_row(&mut self, r: usize, cx: &mut Cx) -> Vec<Command> {
        let i = self.offset + r;
        if i >= self.convs.len() {
            return vec![];
        }
        if i == self.selected {
            return self.open_thread(cx);
        }
        self.selected = i;
        vec![]
    }
}

impl ConversationsTab {
    /// Live refreshes of the list and the open thread, and retries with backoff.
    fn refresh(&mut self, now: u64, cx: &mut Cx) -> Vec<Command> {
        self.now_ms = now;
        // An open thread, read to its end, looks for new messages while it is shown.
        if self.view == View::Thread
            && let Some(t) = &mut self.thread
            && t.done
            && t.error.is_none()
            && !t.req.waiting()
            && t.live.due(now)
        {
            let req = t.live.req.issue(cx);
            return vec![Command::LongTerm(
                req,
                LongTermCmd::Messages { conversation: t.conv.id.clone(), after: t.tail.1.clone(), limit: THREAD_PAGE },
            )];
        }
        // The list and its count, read again while they are shown.
        if self.configured
            && self.view == View::List
            && self.loaded_once
            && self.error.is_none()
            && !self.list_req.waiting()
            && self.convs.len() <= LIVE_MAX
            && self.live.due(now)
        {
            let req = self.live.req.issue(cx);
            let creq = self.count_req.issue(cx);
            let limit = (self.convs.len() as u32).clamp(LIST_PAGE, LIVE_MAX as u32);
            return vec![
                Command::LongTerm(req, LongTermCmd::Conversations { filter: self.filter.clone(), after: None, limit }),
                Command::LongTerm(creq, LongTermCmd::Count { filter: self.filter.clone() }),
            ];
        }
        // A thread page that failed is asked for again, with backoff.
        if let Some(t) = &mut self.thread
            && !t.req.waiting()
            && let Some((at, _)) = t.retry
            && now >= at
        {
            let req = t.req.issue(cx);
            let after = if t.messages.is_empty() { None } else { t.next.clone() };
            return vec![Command::LongTerm(
                req,
                LongTermCmd::Messages { conversation: t.conv.id.clone(), after, limit: THREAD_PAGE },
            )];
        }
        if let Some(e) = &self.error
            && now >= e.retry_at_ms
            && !self.list_req.waiting()
        {
            let mut e = e.clone();
            e.retry_at_ms = now + crate::tabs::retry_backoff_ms(e.attempt + 1);
            e.attempt += 1;
            self.error = Some(e);
            return self.reload(cx);
        }
        vec![]
    }
}

impl Tab for ConversationsTab {
    fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        self.reload(cx)
    }

    fn tick(&mut self, cx: &mut Cx) -> (Vec<Command>, bool) {
        let now = cx.now_ms;
        (self.refresh(now, cx), false)
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        match self.view {
            View::List => self.list_action(action, cx),
            View::Thread => self.thread_action(action, cx),
            View::Browser => self.browser_action(action, cx),
        }
    }

    fn context(&self) -> Context {
        match self.view {
            View::List => Context::ConvList,
            View::Thread => Context::Thread,
            View::Browser => Context::Browser,
        }
    }

    /// The view's data: the conversations listed, a thread as `show --json` prints it, or
    /// what the document browser shows (collections, documents, one document's fields).
    fn export(&self) -> Export {
        let ts = |t: Option<Ts>| t.map(|t| t.to_rfc3339());
        match self.view {
            View::List => Export::lines(
                format!("{} conversations", self.convs.len()),
                self.convs.iter().map(|c| {
                    serde_json::json!({"id": c.id, "title": c.title, "user_id": c.user_id, "agent_id": c.agent_id,
                        "updated_at": ts(c.updated_at), "message_count": c.message_count})
                }),
            ),
            View::Thread => match &self.thread {
                Some(t) => Export::lines(
                    format!("{} messages of {}", t.messages.len(), t.conv.id),
                    t.messages.iter().map(|m| m.to_json(&t.conv.id)),
                ),
                None => Export::nothing("no thread open"),
            },
            View::Browser => match self.browser.stack.last() {
                Some(BrowserLevel::Collections { parent, items, .. }) => Export::lines(
                    format!("{} collections", items.len()),
                    items.iter().map(|c| serde_json::json!({"parent": parent, "collection": c})),
                ),
                Some(BrowserLevel::Documents { collection, items, .. }) => Export::lines(
                    format!("{} documents of {collection}", items.len()),
                    items
                        .iter()
                        .map(|d| serde_json::json!({"path": d.path, "fields": crate::domain::fields_json(&d.fields)})),
                ),
                Some(BrowserLevel::Document { path, doc: Some(d), .. }) => Export::lines(
                    format!("the document {path}"),
                    [serde_json::json!({"path": path, "fields": crate::domain::fields_json(&d.fields)})],
                ),
                _ => Export::nothing("no document read"),
            },
        }
    }
}
