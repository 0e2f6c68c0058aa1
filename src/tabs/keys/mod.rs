//! The Redis Keys tab: incremental SCAN into a flat list or namespace tree, lazily fetched
//! metadata for visible rows, a paged value viewer for every type, and guarded writes.

use super::{Ask, Cx, InputKind, Pending, WriteKind};
use crate::config::Config;
use crate::domain::{Key, KeyMeta, KeyType, PageCursor, ServerInfo, Ttl, ValuePage, WriteOp};
use crate::error::StoreError;
use crate::keymap::{Action, Context};
use crate::keytree::{KeyIndex, Row, SortBy, ViewMode};
use crate::message::RedisCmd;
use crate::message::{Command, RequestId};
use crate::tabs::{Export, Live, Tab};
use crate::text;
use std::collections::HashMap;

mod events;
mod scan;
mod sort;
mod tab;

#[cfg(test)]
mod tests;
mod value;

pub use crate::decode::page::{formats_of, value_lines, value_lines_in, value_lines_with};

/// The list refreshes itself while idle (every [`crate::tabs::LIVE_MS`]): the header's counts
/// (INFO keyspace) always, the listing itself when the database holds at most this many keys
/// and the order is by name (a list sorted by TTL or size keeps its order until `r`, so rows
/// do not move).
pub const LIVE_MAX: u64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Value,
}

#[derive(Debug, Clone, Default)]
pub struct ScanProgress {
    pub req: Pending,
    pub seen: u64,
    pub total: Option<u64>,
    pub calls: u64,
    pub running: bool,
    pub cancelled: bool,
    /// The list on screen is from the previous scan until the first batch arrives.
    pub replace_on_first: bool,
    /// A rescan of the listing on screen (`r`, a retry, a write's reload): its keys are
    /// gathered aside and swapped in whole when it ends, so the list never empties and the
    /// selection stays on its key; a rescan that fails leaves the previous listing.
    pub aside: bool,
}

/// A sort by TTL or size being measured: every key of the listing, in the backend (the rows
/// stay in name order until the order arrives; Esc stops it).
#[derive(Debug, Clone)]
pub struct SortJob {
    pub req: Pending,
    pub by: SortBy,
    pub total: u64,
    pub done: u64,
    pub started_ms: u64,
}

#[derive(Debug, Clone)]
pub struct MetaEntry {
    pub meta: KeyMeta,
    pub at_ms: u64,
}

pub use super::{LineStyle, TabError};

#[derive(Debug, Clone)]
pub struct ValueState {
    pub req: Pending,
    pub key: Key,
    pub cursor: PageCursor,
    pub back: Vec<PageCursor>,
    /// Elements on each page before this one (HSCAN/SSCAN pages have no offset of their own:
    /// their position is the sum).
    pub before: Vec<u64>,
    pub page: Option<ValuePage>,
    pub lines: Vec<(LineStyle, String)>,
    pub loaded_at_ms: u64,
    pub scroll: usize,
    pub gone: bool,
    pub error: Option<String>,
    pub expiry_checked: bool,
    /// The format asked for with `F` (None: each value's own, found automatically).
    pub format: Option<crate::decode::Format>,
}

pub struct KeysTab {
    pub configured: bool,
    /// The profile's limit of commands per second for an analysis or a sort (shown with them).
    pub max_ops_per_sec: u64,
    /// How much a compressed value may decompress to ([`crate::decode::budget_for`]).
    pub decode_budget: usize,
    /// `:analyze`: the keyspace analysis shown instead of the list while open.
    pub analysis: Option<super::analysis::AnalysisView>,
    /// `:server`: the slow log, clients and command counters, shown instead of the list.
    pub server: Option<super::server::ServerView>,
    /// `:profile`: the live profiler (MONITOR), shown instead of the list while open.
    pub profile: Option<super::profile::ProfileView>,
    /// `:pubsub`: channels and a read-only subscriber, shown instead of the list while open.
    pub pubsub: Option<super::pubsub::PubSubView>,
    /// The live refresh: when it last ran, its scan (keys gathered aside, swapped in whole so
    /// the list never empties) and the keys it found new (marked until the next one).
    live: Live,
    /// Keys of a scan gathered aside (a live refresh or a rescan), swapped in when complete.
    live_buf: Vec<Key>,
    /// The MATCH and TYPE of the keys in the list (a rescan of the same query goes aside).
    listed: Option<(String, Option<String>)>,
    pub fresh: std::collections::HashSet<Key>,
    pub index: KeyIndex,
    pub pattern: String,
    pub type_filter: Option<String>,
    pub scan: ScanProgress,
    pub meta: HashMap<Key, MetaEntry>,
    meta_req: Pending,
    meta_inflight: Vec<Key>,
    /// A sort by TTL or size being measured, and what the last one found (for the header).
    pub sorting: Option<SortJob>,
    pub sort_note: Option<String>,
    pub selected: usize,
    pub offset: usize,
    /// Rows of the key list and of the value pane in the last frame (their page sizes).
    pub view_rows: usize,
    pub value_rows: usize,
    pub focus: Focus,
    pub value: Option<ValueState>,
    pub info: Option<ServerInfo>,
    info_req: Pending,
    pub db: Option<u32>,
    pub error: Option<TabError>,
    write_req: Pending,
    now_ms: u64,
}

impl KeysTab {
    pub fn new(cfg: &Config) -> KeysTab {
        let delim = cfg.redis_settings().delimiter.clone();
        KeysTab {
            configured: cfg.redis.is_some(),
            max_ops_per_sec: cfg.redis_settings().max_ops_per_sec,
            decode_budget: crate::decode::budget_for(cfg.redis_settings().preview_bytes),
            analysis: None,
            server: None,
            profile: None,
            pubsub: None,
            live: Live::default(),
            live_buf: Vec::new(),
            listed: None,
            fresh: Default::default(),
            index: KeyIndex::new(&delim),
            pattern: "*".into(),
            type_filter: None,
            scan: ScanProgress::default(),
            meta: HashMap::new(),
            meta_req: Pending::default(),
            meta_inflight: Vec::new(),
            sorting: None,
            sort_note: None,
            selected: 0,
            offset: 0,
            view_rows: 20,
            value_rows: 20,
            focus: Focus::List,
            value: None,
            info: None,
            info_req: Pending::default(),
            db: None,
            error: None,
            write_req: Pending::default(),
            now_ms: 0,
        }
    }

    /// The rows the frame gave the list and the value pane; the rows now in view get metadata.
    pub fn set_view_rows(&mut self, list: usize, value: usize, cx: &mut Cx) -> Option<Command> {
        self.view_rows = list.max(1);
        self.value_rows = value.max(1);
        self.clamp_scroll();
        self.visible_meta(cx)
    }

    fn info_cmd(&mut self, cx: &mut Cx) -> Command {
        let req = self.info_req.issue(cx);
        Command::Redis(req, RedisCmd::Info)
    }

    /// Keys in the selected database now (INFO keyspace), when known.
    pub fn db_keys(&self) -> Option<u64> {
        let db = self.db.unwrap_or(0);
        self.info.as_ref().map(|i| i.keyspace.iter().find(|d| d.db == db).map(|d| d.keys).unwrap_or(0))
    }

    pub fn type_name_of(&self, key: &[u8]) -> String {
        match self.meta.get(key).and_then(|m| m.meta.ktype.clone()) {
            Some(t) => t.name().to_string(),
            None => "type unknown".into(),
        }
    }

    /// The key under the cursor (list) or shown (value).
    /// A click on the list's `r`-th row on screen: it is selected; the selected one opens.
    pub fn click_row(&mut self, r: usize, cx: &mut Cx) -> Vec<Command> {
        let i = self.offset + r;
        if i >= self.index.row_count() {
            return vec![];
        }
        self.focus = Focus::List;
        if i == self.selected {
            return self.on_action(Action::Open, cx);
        }
        self.selected = i;
        self.visible_meta(cx).into_iter().collect()
    }

    fn move_to(&mut self, i: usize, cx: &mut Cx) -> Vec<Command> {
        self.selected = i;
        self.clamp_scroll();
        let mut cmds: Vec<Command> = self.visible_meta(cx).into_iter().collect();
        // A value open beside the list follows the selection (a preview; Tab gives it focus).
        if self.value.is_some()
            && let Some(Row::Key { idx, .. }) = self.index.row(i)
        {
            let k: Key = self.index.key(idx).into();
            if self.value.as_ref().is_none_or(|v| v.key != k) {
                cmds.extend(self.open_value(k, cx));
                self.focus = Focus::List;
            }
        }
        cmds
    }

    /// `:analyze [GLOB]`: one pass over the keyspace, shown in place of the list.
    pub fn analyze(&mut self, pattern: &str, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured: nothing to analyze", true);
            return vec![];
        }
        let (v, cmd) = super::analysis::AnalysisView::start(pattern.to_string(), cx);
        self.analysis = Some(v);
        vec![cmd]
    }

    /// `:profile [FILTER]`: a bounded MONITOR session, its tables and tail.
    pub fn open_profile(&mut self, filter: &str, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured", true);
            return vec![];
        }
        self.server = None;
        self.analysis = None;
        let (v, cmds) = super::profile::ProfileView::open(filter, cx);
        self.profile = Some(v);
        cmds
    }

    /// `:pubsub [PATTERN]`: the channels and their live messages.
    pub fn open_pubsub(&mut self, pattern: &str, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured", true);
            return vec![];
        }
        let (v, cmd) = super::pubsub::PubSubView::open(pattern, cx);
        self.pubsub = Some(v);
        vec![cmd]
    }

    /// `:server`: the servers' slow log, clients and command counters, read every few seconds.
    pub fn open_server(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            cx.status("Redis is not configured", true);
            return vec![];
        }
        let (v, cmd) = super::server::ServerView::open(cx, self.now_ms);
        self.server = Some(v);
        vec![cmd]
    }

    fn write_intent(&self, action: Action, cx: &mut Cx) {
        let Some(key) = self.current_key() else {
            return cx.status("select a key first (folders cannot be written)", true);
        };
        let t = self.type_name_of(&key);
        let w = match action {
            Action::Delete => WriteKind::Delete(key, t),
            Action::Expire => WriteKind::Expire(key, t),
            Action::Persist => WriteKind::Persist(key, t),
            _ => WriteKind::Rename(key, t),
        };
        cx.ask(Ask::Write(w));
    }

    fn toggle_folder(&mut self, cx: &mut Cx) -> Vec<Command> {
        if let Some(row @ Row::Folder { expanded, .. }) = self.index.row(self.selected) {
            let prefix: Vec<u8> = self.index.row_bytes(&row).to_vec();
            self.index.set_expanded(&prefix, !expanded);
            self.rebuild();
        }
        self.visible_meta(cx).into_iter().collect()
    }

    pub fn set_pattern(&mut self, p: String, cx: &mut Cx) -> Vec<Command> {
        self.pattern = if p.is_empty() { "*".into() } else { p };
        self.selected = 0;
        self.offset = 0;
        self.rescan(cx)
    }

    pub fn set_type_filter(&mut self, t: &str, cx: &mut Cx) -> Result<Vec<Command>, String> {
        self.type_filter = match t {
            "" | "all" | "*" => None,
            t if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => Some(t.to_string()),
            _ => {
                return Err(format!("type: not a type name: `{}`", text::sanitize_str(t)));
            }
        };
        Ok(self.rescan(cx))
    }

    pub fn set_delimiter(&mut self, d: &str) -> Result<Vec<Command>, String> {
        if d.is_empty() {
            return Err("delim: give a delimiter, e.g. `delim :` or `delim /`".into());
        }
        self.index.set_delimiter(d);
        self.rebuild();
        Ok(vec![])
    }

    pub fn set_mode(&mut self, m: ViewMode, cx: &mut Cx) -> Vec<Command> {
        self.index.set_mode(m);
        self.rebuild();
        self.visible_meta(cx).into_iter().collect()
    }

    pub fn select_db(&mut self, db: u32, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        if let Some(ServerInfo { mode: crate::domain::ServerMode::Cluster { whole: true, .. }, .. }) = &self.info
            && db != 0
        {
            cx.status("a Redis Cluster has only database 0: SELECT is refused in cluster mode", true);
            return vec![];
        }
        if let Some(n) = self.info.as_ref().and_then(|i| i.databases)
            && db >= n
        {
            cx.status(format!("database {db} does not exist: this server has {n} (0–{})", n.saturating_sub(1)), true);
            return vec![];
        }
        let mut v = Vec::new();
        // Another database is another listing: by name, no sort note or job of the last one.
        if self.sorting.take().is_some() {
            v.push(Command::Cancel(crate::message::Slot::Sort));
        }
        self.sort_note = None;
        self.index.set_sort(SortBy::Name);
        self.db = Some(db);
        self.value = None;
        self.focus = Focus::List;
        self.selected = 0;
        self.offset = 0;
        self.index.clear();
        self.meta.clear();
        let req = self.info_req.issue(cx);
        v.push(Command::Redis(req, RedisCmd::SelectDb { db }));
        v.extend(self.rescan(cx));
        self.scan.replace_on_first = false;
        v
    }

    /// Remaining TTL in ms now, from a TTL read at `at_ms`.
    pub fn ttl_left(ttl: Ttl, at_ms: u64, now_ms: u64) -> Ttl {
        match ttl {
            Ttl::Millis(ms) => Ttl::Millis((ms - (now_ms.saturating_sub(at_ms)) as i64).max(0)),
            t => t,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }
}
