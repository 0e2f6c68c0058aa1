//! The Conversations tab: conversations newest first (cursor-paged, COUNT in the background,
//! filters), a thread streamed page by page in timestamp order, a side panel with the
//! conversation/user/agent documents, and a document browser for any collection.

use super::TabError;
use super::{Ask, Cx, Pending};
use crate::config::Config;
use crate::domain::{ConvFilter, Conversation, Cursor, Document, FsValue, Message, Ts};
use crate::error::StoreError;
use crate::keymap::{Action, Context};
use crate::message::{Command, LtReply, RequestId};
use crate::text;
use std::collections::HashSet;

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
    live_at_ms: u64,
    live_req: Pending,
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
    /// The live refresh of the list (every [`LIVE_MS`] in the list view): when it last ran,
    /// its request, and the conversations it found new (marked until the next one).
    live_at_ms: u64,
    live_req: Pending,
    pub fresh: std::collections::HashSet<String>,
}

/// How often the conversation list and its count are read again while the list is shown.
pub const LIVE_MS: u64 = 5_000;
/// A list longer than this (loaded page after page) is not refreshed whole: `r` reloads it.
pub const LIVE_MAX: usize = 500;

/// Parse the `/` filter: `user:ID`, `agent:ID`, `id:PREFIX`, anything else words of the title (case-insensitive).
/// A value as one line of text (untrusted text made safe).
pub fn value_text(v: &FsValue) -> String {
    match v {
        FsValue::Null => "null".into(),
        FsValue::Bool(b) => b.to_string(),
        FsValue::Int(i) => i.to_string(),
        FsValue::Double(d) if d.is_nan() => "NaN".into(),
        FsValue::Double(d) if d.is_infinite() => if *d > 0.0 { "+Infinity" } else { "-Infinity" }.into(),
        FsValue::Double(d) => format!("{d:?}"),
        FsValue::Timestamp(t) => t.to_rfc3339(),
        FsValue::String(s) => format!("\"{}\"", text::sanitize_str(s)),
        // Bytes that are UTF-8 text (LangChain's encoded messages) read as text.
        FsValue::Bytes(b) if looks_like_text(b) => {
            format!("\"{}\" (UTF-8 bytes)", text::sanitize_line(b))
        }
        FsValue::Bytes(b) => {
            let hex: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
            if b.len() > 64 {
                format!("0x{hex}… ({})", text::human_bytes(b.len() as u64))
            } else {
                format!("0x{hex}")
            }
        }
        FsValue::Reference(r) => format!("→ {}", text::sanitize_str(r)),
        FsValue::GeoPoint { lat, lng } => format!("({lat}, {lng})"),
        FsValue::Array(a) => format!("[{} items]", a.len()),
        FsValue::Map(m) => format!("{{{} fields}}", m.len()),
    }
}

/// Bytes that read as text: valid UTF-8, no control characters to speak of, and mostly ASCII
/// (two random bytes can be valid UTF-8 too: `de ad` is one Thaana letter).
fn looks_like_text(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else { return false };
    let chars = s.chars().count();
    chars > 0 && text::classify(b) == text::Encoding::Text && s.chars().filter(char::is_ascii).count() * 2 >= chars
}

/// A string or bytes value as it is opened whole: JSON pretty-printed, UTF-8 text as text,
/// other bytes as a hex dump.
pub fn whole_value(v: &FsValue) -> Option<String> {
    let raw: &[u8] = match v {
        FsValue::String(s) => s.as_bytes(),
        FsValue::Bytes(b) => b,
        _ => return None,
    };
    if let Ok(j) = serde_json::from_slice::<serde_json::Value>(raw)
        && (j.is_object() || j.is_array())
        && let Ok(p) = serde_json::to_string_pretty(&j)
    {
        return Some(text::sanitize_multiline(p.as_bytes()));
    }
    match std::str::from_utf8(raw) {
        Ok(s) => Some(text::sanitize_multiline(s.as_bytes())),
        Err(_) => Some(text::hex_dump(raw, 0).join("\n")),
    }
}

/// Flatten a document into field-tree lines: nested maps and arrays indented under their key.
/// In a document marked `type = "msgpack"` (LangGraph's checkpointer), strings holding base64
/// msgpack are said so and open decoded (as JSON, LangGraph's extension types unwrapped).
pub fn field_lines(fields: &[(String, FsValue)]) -> Vec<FieldLine> {
    fn walk(out: &mut Vec<FieldLine>, depth: usize, key: String, v: &FsValue, msgpack: bool) {
        let decoded = match v {
            FsValue::String(s) if msgpack && s.len() > 8 => crate::msgpack::from_base64(s),
            _ => None,
        };
        let (value, full) = match (&decoded, v) {
            (Some(d), FsValue::String(s)) => (
                format!("base64 msgpack, {} — Enter opens it decoded", text::human_bytes(s.len() as u64)),
                serde_json::to_string_pretty(d).ok().map(|p| text::sanitize_multiline(p.as_bytes())),
            ),
            _ => (value_text(v), whole_value(v)),
        };
        out.push(FieldLine {
            depth,
            key,
            type_name: v.type_name(),
            value,
            reference: match v {
                FsValue::Reference(r) => Some(r.clone()),
                _ => None,
            },
            full,
        });
        match v {
            FsValue::Map(m) => {
                for (k, x) in m {
                    walk(out, depth + 1, text::sanitize_str(k), x, msgpack);
                }
            }
            FsValue::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(out, depth + 1, format!("[{i}]"), x, msgpack);
                }
            }
            _ => {}
        }
    }
    let msgpack = fields.iter().any(|(k, v)| k == "type" && v.as_str() == Some("msgpack"));
    let mut out = Vec::new();
    for (k, v) in fields {
        walk(&mut out, 0, text::sanitize_str(k), v, msgpack);
    }
    out
}

impl ConversationsTab {
    pub fn new(cfg: &Config) -> ConversationsTab {
        ConversationsTab {
            configured: cfg.has_conversations(),
            layout: cfg.layout.clone(),
            found: None,
            opened_from_search: false,
            live_at_ms: 0,
            live_req: Pending::default(),
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

    pub fn context(&self) -> Context {
        match self.view {
            View::List => Context::ConvList,
            View::Thread => Context::Thread,
            View::Browser => Context::Browser,
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

    pub fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        self.reload(cx)
    }

    fn reload(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.live_req.forget();
        self.fresh.clear();
        let req = self.list_req.issue(cx);
        self.next = None;
        let creq = self.count_req.issue(cx);
        self.count = None;
        vec![
            Command::Conversations { req, filter: self.filter.clone(), after: None, limit: LIST_PAGE },
            Command::CountConversations { req: creq, filter: self.filter.clone() },
        ]
    }

    fn more(&mut self, cx: &mut Cx) -> Vec<Command> {
        match (&self.next, self.list_req.waiting()) {
            (Some(c), false) => {
                let req = self.list_req.issue(cx);
                vec![Command::Conversations {
                    req,
                    filter: self.filter.clone(),
                    after: Some(c.clone()),
                    limit: LIST_PAGE,
                }]
            }
            _ => vec![],
        }
    }

    fn clamp(&mut self) {
        (self.selected, self.offset) =
            crate::tabs::scroll::keep_visible(self.selected, self.offset, self.convs.len(), self.view_rows);
    }

    pub fn set_filter(&mut self, text: &str, cx: &mut Cx) -> Vec<Command> {
        self.filter = ConvFilter::parse(text);
        self.selected = 0;
        self.offset = 0;
        self.reload(cx)
    }

    pub fn tick(&mut self, now: u64, cx: &mut Cx) -> Vec<Command> {
        self.now_ms = now;
        // An open thread, read to its end, looks for new messages while it is shown.
        if self.view == View::Thread
            && let Some(t) = &mut self.thread
            && t.done
            && t.error.is_none()
            && !t.req.waiting()
            && !t.live_req.waiting()
            && now >= t.live_at_ms + LIVE_MS
        {
            if t.live_at_ms == 0 {
                // The first time: from now (the thread was just read).
                t.live_at_ms = now;
                return vec![];
            }
            t.live_at_ms = now;
            let req = t.live_req.issue(cx);
            return vec![Command::Messages {
                req,
                conversation: t.conv.id.clone(),
                after: t.tail.1.clone(),
                limit: THREAD_PAGE,
            }];
        }
        // The list and its count, read again while they are shown.
        if self.configured
            && self.view == View::List
            && self.loaded_once
            && self.error.is_none()
            && !self.list_req.waiting()
            && !self.live_req.waiting()
            && self.convs.len() <= LIVE_MAX
            && now >= self.live_at_ms + LIVE_MS
        {
            self.live_at_ms = now;
            let req = self.live_req.issue(cx);
            let creq = self.count_req.issue(cx);
            let limit = (self.convs.len() as u32).clamp(LIST_PAGE, LIVE_MAX as u32);
            return vec![
                Command::Conversations { req, filter: self.filter.clone(), after: None, limit },
                Command::CountConversations { req: creq, filter: self.filter.clone() },
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
            return vec![Command::Messages { req, conversation: t.conv.id.clone(), after, limit: THREAD_PAGE }];
        }
        if let Some(e) = &self.error
            && now >= e.retry_at_ms
            && !self.list_req.waiting()
        {
            let mut e = e.clone();
            e.retry_at_ms = now + super::retry_backoff_ms(e.attempt + 1);
            e.attempt += 1;
            self.error = Some(e);
            return self.reload(cx);
        }
        vec![]
    }

    fn fail(&mut self, e: StoreError) {
        let attempt = self.error.as_ref().map(|e| e.attempt).unwrap_or(0);
        self.error = Some(TabError {
            text: e.to_string(),
            attempt,
            retry_at_ms: self.now_ms + super::retry_backoff_ms(attempt),
        });
    }

    pub fn on_reply(&mut self, req: RequestId, reply: LtReply, cx: &mut Cx) -> Vec<Command> {
        let mut cmds = Vec::new();
        match reply {
            LtReply::Conversations(r) if self.live_req.is(req) => {
                self.live_req.forget();
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
            LtReply::Conversations(r) if self.list_req.is(req) => {
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
                            cmds.push(Command::DetectLayouts { req });
                        }
                    }
                    Err(e) => self.fail(e),
                }
            }
            LtReply::Count(r, left_out) if self.count_req.is(req) => {
                self.count_req.forget();
                self.count = r.ok();
                self.left_out = left_out;
            }
            LtReply::Detected(r) if self.detect_req.is(req) => {
                self.detect_req.forget();
                self.found = Some(match r {
                    Ok(d) => d.said_to_an_empty_list(self.layout.preset),
                    Err(e) => format!("could not sample the stores for other layouts: {e}"),
                });
            }
            LtReply::Count(..) | LtReply::Conversations(_) | LtReply::Detected(_) => {}
            LtReply::Messages(r) => {
                let Some(t) = &mut self.thread else { return cmds };
                if t.live_req.is(req) {
                    t.live_req.forget();
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
                        t.retry = Some((self.now_ms + super::retry_backoff_ms(attempt), attempt));
                    }
                }
            }
            LtReply::Documents(r) => {
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
            LtReply::Collections(r) if self.browser.req.is(req) => {
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
            LtReply::ListDocuments(r) if self.browser.req.is(req) => {
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

    /// The thread's page after `c` (the stream goes on).
    fn page_after(t: &mut Thread, c: Cursor, cx: &mut Cx) -> Command {
        let req = t.req.issue(cx);
        Command::Messages { req, conversation: t.conv.id.clone(), after: Some(c), limit: THREAD_PAGE }
    }

    /// Show `conv`'s thread and ask for its first page; `target` is selected once it streams in.
    fn start_thread(&mut self, conv: Conversation, target: Option<String>, cx: &mut Cx) -> Command {
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
            live_at_ms: 0,
            live_req: Pending::default(),
            fresh: HashSet::new(),
            inner: 0,
        });
        self.view = View::Thread;
        Command::Messages { req, conversation, after: None, limit: THREAD_PAGE }
    }

    /// A cross-tier reply: the thread's badges, or the trace of a message.
    pub fn on_layer(&mut self, req: RequestId, reply: crate::message::LayerReply) {
        use crate::message::LayerReply;
        let now = self.now_ms;
        let Some(t) = &mut self.thread else { return };
        match reply {
            LayerReply::Badges(b) if t.badges_req.is(req) => {
                t.badges_req.forget();
                t.badges = Some(*b);
            }
            LayerReply::Trace(tr) => {
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
    fn badges_cmd(t: &mut Thread, cx: &mut Cx) -> Option<Command> {
        if t.messages.is_empty() || !t.done {
            return None;
        }
        let req = t.badges_req.issue(cx);
        Some(Command::TierBadges {
            req,
            conversation: t.conv.id.clone(),
            ids: t.messages.iter().map(|m| m.id.clone()).collect(),
        })
    }

    /// Trace the selected message (the panel follows the selection while open).
    fn trace_selected(t: &mut Thread, cx: &mut Cx) -> Vec<Command> {
        let Some(m) = t.messages.get(t.selected) else { return vec![] };
        if t.trace.as_ref().is_some_and(|v| v.message == m.id && v.req.waiting()) {
            return vec![];
        }
        let req = cx.fresh();
        let keep = t.trace.as_ref().filter(|v| v.message == m.id).and_then(|v| v.result.clone());
        let at_ms = t.trace.as_ref().map(|v| v.at_ms).unwrap_or(0);
        t.trace = Some(TraceView { message: m.id.clone(), req: Pending::at(req), result: keep, at_ms });
        vec![Command::Trace { req, conversation: t.conv.id.clone(), message: m.id.clone() }]
    }

    fn open_thread(&mut self, cx: &mut Cx) -> Vec<Command> {
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
        vec![messages, Command::Documents { req: dreq, paths: vec![path] }]
    }

    /// The long-term store is up: a document-browser read that failed before is asked again
    /// (the list and threads retry on their own backoff).
    pub fn long_term_up(&mut self, cx: &mut Cx) -> Vec<Command> {
        if self.view == View::Browser && self.browser.error.is_some() && !self.browser.req.waiting() {
            return self.browser_action(Action::Refresh, cx);
        }
        vec![]
    }

    pub fn open_browser(&mut self, path: Option<&str>, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        self.view = View::Browser;
        self.browser.stack.clear();
        self.browser.error = None;
        let path = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty());
        match path {
            None => self.push_collections(None, cx),
            Some(p) if p.split('/').count() % 2 == 1 => self.push_documents(p.to_string(), cx),
            Some(p) => self.push_document(p.to_string(), cx),
        }
    }

    fn push_collections(&mut self, parent: Option<String>, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Collections { parent: parent.clone(), items: Vec::new(), selected: 0 });
        vec![Command::Collections { req, parent }]
    }

    fn push_documents(&mut self, collection: String, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Documents {
            collection: collection.clone(),
            items: Vec::new(),
            next: None,
            selected: 0,
        });
        vec![Command::ListDocuments { req, collection, after: None, limit: LIST_PAGE }]
    }

    fn push_document(&mut self, path: String, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Document {
            path: path.clone(),
            doc: None,
            found: None,
            lines: Vec::new(),
            selected: 0,
        });
        vec![Command::Document { req, path }]
    }

    /// Indices of messages whose content contains the search text (case-insensitive).
    fn matches(t: &Thread) -> Vec<usize> {
        let Some(q) = t.search.as_ref().map(|s| s.to_lowercase()).filter(|s| !s.is_empty()) else { return vec![] };
        t.messages.iter().enumerate().filter(|(_, m)| m.content.to_lowercase().contains(&q)).map(|(i, _)| i).collect()
    }

    /// Select match `i` (one of `matches`, the messages holding the search): a long message
    /// opened out and scrolled to its first match; where it is said, as "match k of N".
    fn show_match(t: &mut Thread, i: usize, matches: &[usize], cx: &mut Cx) {
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

    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        match self.view {
            View::List => self.list_action(action, cx),
            View::Thread => self.thread_action(action, cx),
            View::Browser => self.browser_action(action, cx),
        }
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

    fn list_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let n = self.convs.len();
        let page = self.view_rows.max(1);
        if let Some(i) = crate::tabs::scroll::moved(action, self.selected, n, page) {
            self.selected = i;
        }
        match action {
            Action::Open => return self.open_thread(cx),
            Action::Refresh => {
                self.error = None;
                return self.reload(cx);
            }
            Action::Browse => return self.open_browser(None, cx),
            Action::Copy => {
                if let Some(c) = self.convs.get(self.selected) {
                    cx.ask(Ask::Copy { what: "the conversation id".into(), text: c.id.clone() });
                }
                return vec![];
            }
            _ => {}
        }
        self.clamp();
        // Fetch the next page before the cursor reaches the end of what is loaded.
        if self.selected + page >= n { self.more(cx) } else { vec![] }
    }

    fn thread_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
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
                    Command::Cancel(crate::message::Slot::LtThread),
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

    fn thread_move(
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
                    return vec![Command::Documents { req, paths }];
                }
            }
            Action::Refresh => {
                let req = t.req.issue(cx);
                t.messages.clear();
                t.error = None;
                t.done = false;
                t.badges = None;
                let mut cmds =
                    vec![Command::Messages { req, conversation: t.conv.id.clone(), after: None, limit: THREAD_PAGE }];
                if let Some(v) = &mut t.trace {
                    let treq = v.req.issue(cx);
                    cmds.push(Command::Trace {
                        req: treq,
                        conversation: t.conv.id.clone(),
                        message: v.message.clone(),
                    });
                }
                return cmds;
            }
            _ => {}
        }
        vec![]
    }

    fn browser_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let page = self.view_rows.max(1);
        let Some(level) = self.browser.stack.last_mut() else {
            self.view = View::List;
            return vec![];
        };
        let (len, sel) = match level {
            BrowserLevel::Collections { items, selected, .. } => (items.len(), selected),
            BrowserLevel::Documents { items, selected, .. } => (items.len(), selected),
            BrowserLevel::Document { lines, selected, .. } => (lines.len(), selected),
        };
        if let Some(i) = crate::tabs::scroll::moved(action, *sel, len, page) {
            *sel = i;
        }
        match action {
            Action::Back => {
                self.browser.stack.pop();
                self.browser.error = None;
                if self.browser.stack.is_empty() {
                    self.view = if self.thread.is_some() { View::Thread } else { View::List };
                }
                return vec![];
            }
            Action::Refresh => {
                let Some(top) = self.browser.stack.pop() else { return vec![] };
                self.browser.error = None;
                return match top {
                    BrowserLevel::Collections { parent, .. } => self.push_collections(parent, cx),
                    BrowserLevel::Documents { collection, .. } => self.push_documents(collection, cx),
                    BrowserLevel::Document { path, .. } => self.push_document(path, cx),
                };
            }
            Action::Open => {
                let target = match level {
                    BrowserLevel::Collections { parent, items, selected } => {
                        items.get(*selected).map(|c| match parent {
                            Some(p) => (1, format!("{p}/{c}")),
                            None => (1, c.clone()),
                        })
                    }
                    BrowserLevel::Documents { items, selected, .. } => {
                        items.get(*selected).map(|d| (2, d.path.clone()))
                    }
                    BrowserLevel::Document { lines, selected, path, .. } => match lines.get(*selected) {
                        Some(l) if l.reference.is_some() => l.reference.clone().map(|r| (2, r)),
                        // A string or bytes value opens whole, in the pager.
                        Some(FieldLine { full: Some(v), key, .. }) => {
                            let title = format!("{path} · {}", key.trim());
                            cx.ask(Ask::Page { title, note: None, text: v.clone(), more: false });
                            return vec![];
                        }
                        _ => None,
                    },
                };
                return match target {
                    Some((1, coll)) => self.push_documents(coll, cx),
                    Some((_, path)) => self.push_document(path, cx),
                    None => vec![],
                };
            }
            Action::Subcollections => {
                let path = match level {
                    BrowserLevel::Document { path, .. } => Some(path.clone()),
                    BrowserLevel::Documents { items, selected, .. } => items.get(*selected).map(|d| d.path.clone()),
                    _ => None,
                };
                if let Some(p) = path {
                    return self.push_collections(Some(p), cx);
                }
            }
            _ => {}
        }
        // Documents: load the next page near the end.
        if let Some(BrowserLevel::Documents { collection, items, next: Some(c), selected }) = self.browser.stack.last()
            && !self.browser.req.waiting()
            && selected + page >= items.len()
        {
            let (collection, after) = (collection.clone(), Some(c.clone()));
            let req = self.browser.req.issue(cx);
            return vec![Command::ListDocuments { req, collection, after, limit: LIST_PAGE }];
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_syntax() {
        assert_eq!(ConvFilter::parse(" user:u-alice "), ConvFilter::User("u-alice".into()));
        assert_eq!(ConvFilter::parse("agent:a1"), ConvFilter::Agent("a1".into()));
        assert_eq!(ConvFilter::parse("id:conv-00"), ConvFilter::IdPrefix("conv-00".into()));
        assert_eq!(ConvFilter::parse("refund"), ConvFilter::TitleContains("refund".into()));
        assert_eq!(ConvFilter::parse(""), ConvFilter::All);
        assert_eq!(ConvFilter::parse("user:x").text(), "user:x");
    }

    #[test]
    fn field_tree_renders_every_type_and_marks_references() {
        let lines = field_lines(&[
            ("m".into(), FsValue::Map(vec![("r".into(), FsValue::Reference("users/u1".into()))])),
            ("n".into(), FsValue::Double(f64::NAN)),
            ("s".into(), FsValue::String("\u{1b}[31mx".into())),
            ("a".into(), FsValue::Array(vec![FsValue::Bytes(vec![0xde, 0xad])])),
            ("j".into(), FsValue::Bytes(br#"{"type":"human"}"#.to_vec())),
        ]);
        assert_eq!(lines[0].value, "{1 fields}");
        assert_eq!((lines[1].depth, lines[1].reference.as_deref()), (1, Some("users/u1")));
        assert_eq!(lines[2].value, "NaN");
        assert_eq!(lines[3].value, "\"\\x1b[31mx\"");
        assert_eq!(lines[5].value, "0xdead");
        assert_eq!(lines[6].value, r#""{"type":"human"}" (UTF-8 bytes)"#, "JSON bytes read as text");
        assert_eq!(lines[6].full.as_deref(), Some("{\n  \"type\": \"human\"\n}"), "opened whole, pretty");
    }
}
