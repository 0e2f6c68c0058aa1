//! `App` owns all UI state; `update(Msg) -> Vec<Command>` is pure (no I/O, no clock: time
//! arrives in `Msg::Tick`), so it is tested without a runtime or a terminal.

use crate::config::{Config, LongTermConfig, redact_url};
use crate::domain::{ConnState, Tier, WriteOp};
use crate::keymap::{Action, Context, Keymap};
use crate::message::{BackendEvent, Command};
pub use crate::tabs::InputKind;
use crate::tabs::conversations::ConversationsTab;
use crate::tabs::health::HealthTab;
use crate::tabs::keys::KeysTab;
use crate::tabs::search::SearchTab;
use crate::tabs::{Ask, Cx, WriteKind};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabId {
    Conversations,
    Keys,
    Search,
    Health,
}

impl TabId {
    pub const ALL: [TabId; 4] = [TabId::Conversations, TabId::Keys, TabId::Search, TabId::Health];
    pub fn title(self) -> &'static str {
        match self {
            TabId::Conversations => "Conversations",
            TabId::Keys => "Redis Keys",
            TabId::Search => "Semantic Search",
            TabId::Health => "Health",
        }
    }
    fn index(self) -> usize {
        TabId::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// How many rows each list had in the last frame drawn (`ui::draw` measures them): the
/// lists page and scroll by what is on screen, never by a hand-kept count of chrome rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub keys: usize,
    pub value: usize,
    pub conversations: usize,
    pub audit: usize,
    /// Screen rows of the first entry of the key list and of the conversation list.
    pub keys_top: u16,
    pub conversations_top: u16,
    /// The thread's selected message as drawn: (its index, first body line shown, body lines
    /// shown, body lines in all) — PgDn/PgUp page through it by what was on the screen.
    pub thread_selected: Option<(usize, usize, usize, usize)>,
}

impl Default for Geometry {
    /// Before the first frame: a guess, replaced as soon as a frame is drawn.
    fn default() -> Geometry {
        Geometry {
            keys: 20,
            value: 20,
            conversations: 20,
            audit: 20,
            keys_top: 0,
            conversations_top: 0,
            thread_selected: None,
        }
    }
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(crossterm::event::MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// Milliseconds since start (monotonic).
    Tick(u64),
    /// The list geometry of the frame just drawn.
    Layout(Geometry),
    Backend(BackendEvent),
    /// SIGINT / SIGTERM / SIGHUP.
    Quit,
}

pub enum Popup {
    /// Any text whole: a value, a message, the alerts, the help.
    Pager(Box<crate::tabs::pager::Pager>),
    /// `:messages`: the status lines of this session, newest last.
    Messages,
    Input {
        kind: InputKind,
        title: String,
        area: Box<crate::tabs::line_edit::LineEdit>,
    },
    Confirm {
        action: Confirmed,
        question: String,
    },
}

/// What a confirmation popup sends when answered `y`.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmed {
    Write(WriteOp),
    /// Repair the drift the audit view shows.
    Repair,
}

/// The most text copied with OSC 52 (terminals cap it; xterm's default is 100,000 bytes).
pub const CLIPBOARD_MAX: usize = 75_000;

/// How long an error stays in the status line.
pub const STATUS_ERROR_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub at_ms: u64,
}

/// How each tier is set up, for the status line and the tabs of unconfigured tiers.
#[derive(Debug, Clone)]
pub struct TierInfo {
    pub state: ConnState,
    pub label: Option<String>,
}

pub struct App {
    pub profile: String,
    /// The profile allows writes (read_only = false or --write).
    pub writes_permitted: bool,
    /// The in-app toggle (`W`).
    pub write_mode: bool,
    pub tab: TabId,
    pub keymap: Keymap,
    pub long_term: TierInfo,
    pub short_term: TierInfo,
    pub vector: TierInfo,
    pub keys: KeysTab,
    pub conversations: ConversationsTab,
    pub search: SearchTab,
    pub health: HealthTab,
    pub popup: Option<Popup>,
    /// Each input field's earlier entries (Up/Down), by what it edits.
    input_history: std::collections::HashMap<&'static str, Vec<String>>,
    pub status: Option<Status>,
    /// Every status line of this session (the last 200), for `:messages`.
    pub log: std::collections::VecDeque<Status>,
    pub now_ms: u64,
    pub size: (u16, u16),
    /// The list geometry of the last frame drawn.
    pub geometry: Geometry,
    pub should_quit: bool,
    /// Text to put on the clipboard with OSC 52, written by the UI loop after the next frame.
    pub clipboard: Option<String>,
    export_req: crate::tabs::Pending,
    replay_req: crate::tabs::Pending,
    /// The pager asked for the value's next window: reopen it when the page arrives.
    pager_follows_value: bool,
    /// Something changed since the last draw.
    pub dirty: bool,
    /// Request ids and the queue of what the tabs ask of the App.
    cx: Cx,
}

impl App {
    pub fn new(cfg: &Config, size: (u16, u16)) -> App {
        let keymap = Keymap::new(&cfg.keymap).unwrap_or_default();
        let redis_label = cfg.redis.as_ref().map(|r| redact_url(&r.url));
        let lt_label = cfg.long_term.as_ref().map(|lt| match lt {
            LongTermConfig::Firestore { project_id, emulator_host, .. } => match emulator_host {
                Some(h) => format!("firestore {project_id} (emulator {h})"),
                None => format!("firestore {project_id}"),
            },
            LongTermConfig::Sqlite { path } => format!("sqlite {path}"),
        });
        let vec_label = cfg.vector.as_ref().map(|v| {
            format!("{} {}", v.backend, v.index.clone().or(v.host.clone()).or(v.path.clone()).unwrap_or_default())
        });
        let state = |configured: bool| {
            if configured { ConnState::Connecting } else { ConnState::NotConfigured }
        };
        let mut app = App {
            profile: cfg.profile.clone(),
            writes_permitted: !cfg.read_only,
            write_mode: false,
            // Tab 1, Conversations, when there is long-term memory to show (the demo opens there);
            // else the Keys tab.
            tab: if cfg.has_conversations() { TabId::Conversations } else { TabId::Keys },
            keymap,
            long_term: TierInfo { state: state(lt_label.is_some()), label: lt_label },
            short_term: TierInfo { state: state(redis_label.is_some()), label: redis_label },
            vector: TierInfo { state: state(vec_label.is_some()), label: vec_label },
            keys: KeysTab::new(cfg),
            conversations: ConversationsTab::new(cfg),
            search: SearchTab::new(cfg),
            health: HealthTab::new(cfg),
            popup: None,
            input_history: Default::default(),
            status: None,
            log: std::collections::VecDeque::new(),
            now_ms: 0,
            size,
            geometry: Geometry::default(),
            should_quit: false,
            clipboard: None,
            export_req: Default::default(),
            replay_req: Default::default(),
            pager_follows_value: false,
            dirty: true,
            cx: Cx::default(),
        };
        for w in &cfg.warnings {
            app.set_status(w.clone(), true);
        }
        app
    }

    /// Commands to send once at start.
    pub fn init(&mut self) -> Vec<Command> {
        let mut cmds = self.keys.start(&mut self.cx);
        cmds.extend(self.conversations.start(&mut self.cx));
        cmds.extend(self.search.start(&mut self.cx));
        cmds
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        let s = Status { text: text.into(), error, at_ms: self.now_ms };
        if self.log.len() >= 200 {
            self.log.pop_front();
        }
        self.log.push_back(s.clone());
        self.status = Some(s);
        self.dirty = true;
    }

    /// The key context of what the screen shows (bindings, footer, help).
    pub fn context(&self) -> Context {
        match self.tab {
            TabId::Keys if self.keys.configured => self.keys.context(),
            TabId::Conversations if self.conversations.configured => self.conversations.context(),
            TabId::Search if self.search.configured => self.search.context(),
            TabId::Health if self.health.audit.is_some() => Context::Audit,
            TabId::Health => Context::Health,
            _ => Context::Global,
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        let mut cmds = self.handle(msg);
        // What the tabs asked for, in order (an answer may ask again: open a message, then
        // report that it is gone).
        loop {
            let asks = self.cx.take_asks();
            if asks.is_empty() {
                break;
            }
            for ask in asks {
                cmds.extend(self.on_ask(ask));
            }
        }
        cmds
    }

    /// The one place a tab's request of the App is carried out.
    fn on_ask(&mut self, ask: Ask) -> Vec<Command> {
        match ask {
            Ask::Status { text, error } => self.set_status(text, error),
            Ask::Input { kind, title, initial } => self.open_input(kind, &title, &initial),
            Ask::Write(kind) => self.ask_write(kind),
            Ask::ConfirmRepair(question) => self.popup = Some(Popup::Confirm { action: Confirmed::Repair, question }),
            Ask::CloseAudit => self.health.audit = None,
            Ask::BackToSearch => self.tab = TabId::Search,
            Ask::Page { title, note, text, more } => {
                self.open_pager(title, note, &text);
                if let Some(Popup::Pager(p)) = &mut self.popup {
                    p.more = more;
                }
            }
            Ask::Copy { what, text } => {
                let n = text.len();
                if n > CLIPBOARD_MAX {
                    self.set_status(
                        format!(
                            "{what} is {} — more than a terminal takes through OSC 52 ({}): :export FILE writes it",
                            crate::text::human_bytes(n as u64),
                            crate::text::human_bytes(CLIPBOARD_MAX as u64)
                        ),
                        true,
                    );
                } else {
                    self.set_status(
                        format!(
                            "copied {what} ({}) with OSC 52 (if the terminal allows it)",
                            crate::text::human_bytes(n as u64)
                        ),
                        false,
                    );
                    self.clipboard = Some(text);
                }
            }
            Ask::OpenMessage { conversation, message } => {
                if self.conversations.configured {
                    self.tab = TabId::Conversations;
                    self.conversations.opened_from_search = true;
                    return self.conversations.open_message(&conversation, message.as_deref(), &mut self.cx);
                }
                self.set_status("the long-term tier is not configured: cannot open the conversation", true);
            }
        }
        vec![]
    }

    /// A write a tab asked for: refused in read-only mode, else asked for (a value) and confirmed.
    fn ask_write(&mut self, kind: WriteKind) {
        if !self.write_mode {
            let hint = if self.writes_permitted {
                format!(
                    "read-only mode: press {} to enable writes",
                    self.keymap.key_for(Context::Global, Action::ToggleWrite)
                )
            } else {
                format!("profile `{}` is read-only (read_only = true); nothing was sent", self.profile)
            };
            return self.set_status(hint, true);
        }
        match kind {
            WriteKind::Delete(k, t) => self.confirm(WriteOp::Delete(k), t),
            WriteKind::Persist(k, t) => self.confirm(WriteOp::Persist(k), t),
            WriteKind::Expire(k, _) => {
                let title = format!("new TTL in seconds for `{}`", crate::text::sanitize_line(&k));
                self.open_input(InputKind::Ttl(k), &title, "")
            }
            WriteKind::Rename(k, _) => {
                let title = format!("rename `{}` to (never overwrites)", crate::text::sanitize_line(&k));
                let current = String::from_utf8_lossy(&k).into_owned();
                self.open_input(InputKind::Rename(k), &title, &current)
            }
        }
    }

    fn handle(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Tick(now) => {
                let second_changed = now / 1000 != self.now_ms / 1000;
                self.now_ms = now;
                // A notice goes after 5 s, an error after 30 s (it stays in `:messages`): a
                // header that still shows an old error after later successes misleads.
                if let Some(s) = &self.status
                    && now.saturating_sub(s.at_ms) > if s.error { STATUS_ERROR_MS } else { 5_000 }
                {
                    self.status = None;
                    self.dirty = true;
                }
                let (mut cmds, changed) = self.keys.tick(now, &mut self.cx);
                cmds.extend(self.conversations.tick(now, &mut self.cx));
                let (scmds, searched) = self.search.tick(now, &mut self.cx);
                cmds.extend(scmds);
                if changed || second_changed || searched {
                    self.dirty = true;
                }
                cmds
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                if let Some(Popup::Pager(p)) = &mut self.popup {
                    p.resize((w, h));
                }
                self.dirty = true;
                vec![]
            }
            Msg::Layout(g) => {
                if g == self.geometry {
                    return vec![];
                }
                self.geometry = g;
                self.dirty = true;
                self.conversations.set_view_rows(g.conversations);
                self.conversations.thread_drawn = g.thread_selected;
                self.keys.set_view_rows(g.keys, g.value, &mut self.cx).into_iter().collect()
            }
            Msg::Quit => {
                self.should_quit = true;
                vec![]
            }
            Msg::Backend(ev) => {
                self.dirty = true;
                self.on_backend(ev)
            }
            Msg::Mouse(m) => {
                self.dirty = true;
                self.on_mouse(m)
            }
            Msg::Paste(text) => {
                self.dirty = true;
                if let Some(Popup::Input { area, .. }) = &mut self.popup {
                    // Single-line inputs: a pasted newline would submit nothing useful.
                    area.paste(&text);
                } else if self.tab == TabId::Search {
                    self.search.paste(&text);
                }
                vec![]
            }
            Msg::Key(ev) => {
                if ev.kind == KeyEventKind::Release {
                    return vec![];
                }
                self.dirty = true;
                self.on_key(ev)
            }
        }
    }

    fn on_backend(&mut self, ev: BackendEvent) -> Vec<Command> {
        match ev {
            BackendEvent::Conn(tier, state) => {
                let was_down = matches!(self.short_term.state, ConnState::Down(_));
                let slot = match tier {
                    Tier::LongTerm => &mut self.long_term,
                    Tier::ShortTerm => &mut self.short_term,
                    Tier::Vector => &mut self.vector,
                };
                slot.state = state.clone();
                if tier == Tier::ShortTerm && was_down && state == ConnState::Up {
                    return self.keys.reconnected(&mut self.cx);
                }
                if tier == Tier::LongTerm && state == ConnState::Up {
                    // A browser read that failed while connecting is read again.
                    return self.conversations.long_term_up(&mut self.cx);
                }
                if tier == Tier::Vector && state == ConnState::Up {
                    // The index is reachable now: its stats (namespaces, dimension, metric).
                    return self.search.start(&mut self.cx);
                }
                vec![]
            }
            BackendEvent::LongTerm(req, reply) => self.conversations.on_reply(req, reply, &mut self.cx),
            BackendEvent::Vector(req, reply) => self.search.on_reply(req, reply),
            BackendEvent::Layer(req, reply) => {
                use crate::message::LayerReply;
                match reply {
                    LayerReply::Badges(_) | LayerReply::Trace(_) => self.conversations.on_layer(req, reply),
                    LayerReply::AuditProgress(_) | LayerReply::Audit(_) => {
                        if let Some(a) = &mut self.health.audit {
                            a.on_reply(req, reply, &mut self.cx);
                        }
                    }
                }
                vec![]
            }
            BackendEvent::Health(s) => {
                self.health.on_sample(*s);
                vec![]
            }
            BackendEvent::Write(req, r) => self.keys.on_write(req, r, &mut self.cx),
            BackendEvent::Replay(req, r) => {
                if self.replay_req.settle(req) {
                    match r {
                        Ok(rec) => self.open_replay(*rec),
                        Err(e) => self.set_status(format!("replay: {e}"), true),
                    }
                }
                vec![]
            }
            BackendEvent::Exported(req, r) => {
                if self.export_req.settle(req) {
                    match r {
                        Ok(s) => self.set_status(s, false),
                        Err(e) => self.set_status(e, true),
                    }
                }
                vec![]
            }
            // The Keys tab's replies; every variant is routed by name (a new one is a compile
            // error here, never silently handed to a tab).
            ev @ BackendEvent::Value(..) => {
                let cmds = self.keys.on_backend(ev, self.now_ms, &mut self.cx);
                if self.pager_follows_value
                    && self.keys.value.as_ref().is_some_and(|v| v.page.is_some() && !v.req.waiting())
                {
                    self.pager_follows_value = false;
                    self.keys.open_pager(&mut self.cx);
                }
                cmds
            }
            ev @ (BackendEvent::Scan(..)
            | BackendEvent::Meta(..)
            | BackendEvent::Info(..)
            | BackendEvent::AnalysisProgress(..)
            | BackendEvent::Insight(..)
            | BackendEvent::Analysis(..)
            | BackendEvent::SortProgress(..)
            | BackendEvent::Sorted(..)) => self.keys.on_backend(ev, self.now_ms, &mut self.cx),
        }
    }

    fn on_key(&mut self, ev: KeyEvent) -> Vec<Command> {
        // Popups take every key first.
        if let Some(popup) = self.popup.take() {
            return self.on_popup_key(popup, ev);
        }
        // The search editor takes typed text; only tab switching and Ctrl-C stay global.
        if self.tab == TabId::Search && self.search.configured && self.search.editing.is_some() {
            let ctrl_c = ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL);
            match ev.code {
                _ if ctrl_c => {
                    self.should_quit = true;
                    return vec![];
                }
                KeyCode::Tab | KeyCode::BackTab => {}
                _ => {
                    return self.search.on_edit_key(ev, &mut self.cx);
                }
            }
        }
        let Some(action) = self.keymap.lookup(self.context(), &ev) else {
            return vec![];
        };
        // A new action replaces the status (it stays in `:messages`): a failure said before
        // must not read as the outcome of what was just asked. Moving the selection, switching
        // tabs or asking for help is not a new action.
        use Action as A;
        if !matches!(
            action,
            A::Up | A::Down | A::PageUp | A::PageDown | A::Top | A::Bottom | A::Help | A::NextTab | A::PrevTab
        ) {
            self.status = None;
        }
        self.act(action)
    }

    /// The mouse: the wheel scrolls what is under it (three rows a notch), a click on the tab
    /// bar switches tabs, a click on a list row selects it and a click on the selected row
    /// opens it.
    fn on_mouse(&mut self, m: crossterm::event::MouseEvent) -> Vec<Command> {
        use crossterm::event::{MouseButton, MouseEventKind as K};
        if let Some(Popup::Pager(p)) = &mut self.popup {
            let code = match m.kind {
                K::ScrollDown => KeyCode::Down,
                K::ScrollUp => KeyCode::Up,
                _ => return vec![],
            };
            for _ in 0..3 {
                p.on_key(KeyEvent::new(code, KeyModifiers::NONE));
            }
            return vec![];
        }
        if self.popup.is_some() || (self.tab == TabId::Search && self.search.editing.is_some()) {
            return vec![];
        }
        match m.kind {
            K::ScrollDown | K::ScrollUp => {
                let a = if m.kind == K::ScrollDown { Action::Down } else { Action::Up };
                (0..3).flat_map(|_| self.act(a)).collect()
            }
            K::Down(MouseButton::Left) if m.row == 0 => {
                // The tab bar: " 1 Conversations │ 2 Redis Keys │ …" (a space either side).
                let mut x = 0u16;
                for (i, t) in TabId::ALL.iter().enumerate() {
                    let w = format!("{} {}", i + 1, t.title()).chars().count() as u16 + 2;
                    if m.column < x + w {
                        self.tab = *t;
                        break;
                    }
                    x += w + 1;
                }
                vec![]
            }
            K::Down(MouseButton::Left) => {
                let g = self.geometry;
                let hit = |top: u16, rows: usize| {
                    (m.row >= top && (m.row - top) < rows as u16).then(|| (m.row - top) as usize)
                };
                match self.tab {
                    TabId::Keys if self.keys.analysis.is_none() && self.keys.server.is_none() => {
                        match hit(g.keys_top, g.keys) {
                            Some(r) => self.keys.click_row(r, &mut self.cx),
                            None => vec![],
                        }
                    }
                    TabId::Conversations if self.conversations.view == crate::tabs::conversations::View::List => {
                        match hit(g.conversations_top, g.conversations) {
                            Some(r) => self.conversations.click_row(r, &mut self.cx),
                            None => vec![],
                        }
                    }
                    _ => vec![],
                }
            }
            _ => vec![],
        }
    }

    /// One action in the view the user is in (a key, or the mouse wheel).
    fn act(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit => {
                self.should_quit = true;
                vec![]
            }
            Action::Help => {
                let text = self.help_text();
                self.open_pager("keys here".into(), Some("Esc closes · / searches".into()), &text);
                vec![]
            }
            Action::SwitchPane if self.tab == TabId::Keys && self.keys.switch_pane() => vec![],
            Action::NextTab | Action::SwitchPane => {
                self.tab = TabId::ALL[(self.tab.index() + 1) % 4];
                vec![]
            }
            Action::PrevTab => {
                self.tab = TabId::ALL[(self.tab.index() + 3) % 4];
                vec![]
            }
            Action::Tab1 | Action::Tab2 | Action::Tab3 | Action::Tab4 => {
                self.tab = match action {
                    Action::Tab1 => TabId::Conversations,
                    Action::Tab2 => TabId::Keys,
                    Action::Tab3 => TabId::Search,
                    _ => TabId::Health,
                };
                vec![]
            }
            Action::CommandLine => {
                let hint = format!("command (Tab completes): {}", crate::keymap::command_usages(" · "));
                self.open_input(InputKind::Command, &hint, "");
                vec![]
            }
            Action::ToggleWrite => {
                if !self.writes_permitted {
                    self.set_status(
                        format!(
                            "profile `{}` is read-only: set read_only = false in its config, or start with --write",
                            self.profile
                        ),
                        true,
                    );
                    return vec![];
                }
                self.write_mode = !self.write_mode;
                let on = self.write_mode;
                self.set_status(if on { "WRITE mode: writes ask for confirmation" } else { "read-only mode" }, false);
                vec![Command::SetWriteMode(on)]
            }
            _ if self.tab == TabId::Keys => self.keys_action(action),
            _ if self.tab == TabId::Conversations => self.conversations_action(action),
            _ if self.tab == TabId::Search => self.search_action(action),
            _ if self.tab == TabId::Health => self.health_action(action),
            _ => vec![],
        }
    }

    fn keys_action(&mut self, action: Action) -> Vec<Command> {
        self.keys.on_action(action, &mut self.cx)
    }

    fn conversations_action(&mut self, action: Action) -> Vec<Command> {
        use crate::tabs::conversations::View;
        if action == Action::Filter && self.conversations.configured {
            match self.conversations.view {
                View::List => {
                    let cur = self.conversations.filter.text();
                    self.open_input(
                        InputKind::ConvFilter,
                        "filter: user:ID · agent:ID · id:PREFIX · or words of the title (any case)",
                        &cur,
                    );
                }
                View::Thread => {
                    let cur = self.conversations.thread.as_ref().and_then(|t| t.search.clone()).unwrap_or_default();
                    self.open_input(InputKind::ThreadSearch, "search the thread (n / N: next / previous)", &cur);
                }
                View::Browser => {}
            }
            return vec![];
        }
        self.conversations.on_action(action, &mut self.cx)
    }

    fn search_action(&mut self, action: Action) -> Vec<Command> {
        self.search.on_action(action, &mut self.cx)
    }

    fn health_action(&mut self, action: Action) -> Vec<Command> {
        if self.health.audit.is_none() {
            if action == Action::Audit {
                return self.open_audit();
            }
            if action == Action::Pager {
                let text = self.health.alerts_text();
                let n = self.health.view().0.alerts.len();
                self.open_pager(format!("alerts ({n}), newest first"), None, &text);
                return vec![];
            }
            self.health.on_action(action);
            return vec![];
        }
        let rows = self.geometry.audit;
        let Some(a) = &mut self.health.audit else { return vec![] };
        a.on_action(action, self.write_mode, self.now_ms, rows, &mut self.cx)
    }

    /// The Health tab on a recording, its time cursor at the end.
    pub fn open_replay(&mut self, cursor: crate::replay::Cursor) {
        let rec = &cursor.recording;
        let (n, file, skipped) = (rec.samples.len(), rec.file.clone(), rec.skipped);
        self.health.open_replay(cursor);
        self.tab = TabId::Health;
        let skipped = if skipped > 0 { format!(" ({skipped} lines were not samples)") } else { String::new() };
        self.set_status(
            format!(
                "replaying {}: {n} samples{skipped} · ←/→ a second · g/G ends · [/] alerts · Esc live",
                crate::text::sanitize_str(&file)
            ),
            false,
        );
    }

    /// The audit view on the Health tab, with a fresh audit running.
    fn open_audit(&mut self) -> Vec<Command> {
        self.tab = TabId::Health;
        if self.long_term.state == ConnState::NotConfigured {
            self.set_status("audit: the long-term tier (the source of truth) is not configured", true);
            return vec![];
        }
        let a = self.health.audit.get_or_insert_with(Default::default);
        if a.running() {
            return vec![];
        }
        vec![a.run(false, self.now_ms, &mut self.cx)]
    }

    fn confirm(&mut self, op: WriteOp, ktype: String) {
        let name = crate::text::sanitize_line(op.key());
        let question = match &op {
            WriteOp::Delete(_) => format!("Delete `{name}` ({ktype})?"),
            WriteOp::Persist(_) => {
                format!("Remove the TTL of `{name}` ({ktype})? It will never expire.")
            }
            WriteOp::Expire(_, s) => format!("Set the TTL of `{name}` ({ktype}) to {s} s?"),
            WriteOp::Rename(_, to) => {
                format!("Rename `{name}` ({ktype}) to `{}`?", crate::text::sanitize_line(to))
            }
        };
        self.popup = Some(Popup::Confirm { action: Confirmed::Write(op), question });
    }

    /// `:export FILE`: what the view shows, as JSON lines, written by the backend (a large list
    /// never stalls the UI on a disk).
    fn export(&mut self, path: &str) -> Vec<Command> {
        use serde_json::json;
        let line = |v: serde_json::Value| crate::text::json_safe(v.to_string());
        let ts = |t: Option<crate::domain::Ts>| t.map(|t| t.to_rfc3339());
        let (what, lines): (String, Vec<String>) = match self.context() {
            // Every key listed; type, TTL and memory where they were measured (the rows seen),
            // and the status says for how many — absent fields are unmeasured, never made up.
            Context::KeyList => {
                let keys = self.keys.index.keys();
                let measured = keys.iter().filter(|k| self.keys.meta.contains_key(*k)).count();
                let rows =
                    keys.iter().map(|k| line(crate::domain::key_json(k, self.keys.meta.get(k).map(|m| &m.meta))));
                let what = if measured == keys.len() {
                    format!("{} keys (MATCH {})", keys.len(), self.keys.pattern)
                } else {
                    format!(
                        "{} keys (MATCH {}), type/TTL/memory for the {measured} measured (s sorts by TTL or size, measuring every key)",
                        keys.len(),
                        self.keys.pattern
                    )
                };
                (what, rows.collect())
            }
            // The stored data, not the screen's text: what this page of the value holds.
            Context::Value => match self.keys.value.as_ref().and_then(|v| v.page.as_ref()) {
                // A value larger than its page is a file the user asked for: read whole, page
                // after page, in the backend.
                Some(p) if p.data_lines().first().is_some_and(|h| h["complete"] == false) => {
                    let req = self.export_req.issue(&mut self.cx);
                    return vec![Command::ExportValue { req, path: path.into(), key: p.key.clone() }];
                }
                Some(p) => ("this page of the value".into(), p.data_lines().into_iter().map(line).collect()),
                None => ("nothing".into(), vec![]),
            },
            Context::ConvList => (
                format!("{} conversations", self.conversations.convs.len()),
                self.conversations
                    .convs
                    .iter()
                    .map(|c| {
                        line(json!({"id": c.id, "title": c.title, "user_id": c.user_id, "agent_id": c.agent_id,
                            "updated_at": ts(c.updated_at), "message_count": c.message_count}))
                    })
                    .collect(),
            ),
            Context::Thread => match &self.conversations.thread {
                Some(t) => (
                    format!("{} messages of {}", t.messages.len(), t.conv.id),
                    // The same data as `show --json`.
                    t.messages.iter().map(|m| line(m.to_json(&t.conv.id))).collect(),
                ),
                None => ("nothing".into(), vec![]),
            },
            Context::Search => (
                format!("{} search results", self.search.matches().len()),
                self.search
                    .matches()
                    .iter()
                    .enumerate()
                    .map(|(i, m)| line(json!({"rank": i + 1, "id": m.id, "score": m.score, "metadata": m.metadata})))
                    .collect(),
            ),
            Context::Analysis => match self.keys.analysis.as_ref().and_then(|a| a.result.as_ref()) {
                Some(Ok(a)) => ("the analysis".into(), vec![line(serde_json::to_value(a).unwrap_or_default())]),
                _ => ("nothing (the analysis has not finished)".into(), vec![]),
            },
            Context::Server => match self.keys.server.as_ref().and_then(|v| v.nodes.as_ref()) {
                Some(Ok(n)) => (
                    "the slow log, clients and commands".into(),
                    n.iter().map(|x| line(serde_json::to_value(x).unwrap_or_default())).collect(),
                ),
                _ => ("nothing (not read yet)".into(), vec![]),
            },
            _ => {
                let (hist, _) = self.health.view();
                (
                    format!("{} alerts", hist.alerts.len()),
                    hist.alerts
                        .iter()
                        .map(|a| {
                            line(json!({"tier": a.probe.name(), "key": a.key, "level": a.level.name(), "message": a.message,
                                "started": a.started_wall, "ended": a.ended_wall}))
                        })
                        .collect(),
                )
            }
        };
        if lines.is_empty() {
            self.set_status(format!("export: {what}: nothing to write"), true);
            return vec![];
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let req = self.export_req.issue(&mut self.cx);
        vec![Command::Export { req, path: path.into(), text, what }]
    }

    fn open_pager(&mut self, title: String, note: Option<String>, text: &str) {
        let mut p = crate::tabs::pager::Pager::new(title, text, self.size);
        p.note = note;
        self.popup = Some(Popup::Pager(Box::new(p)));
    }

    /// The keys of this context and the global ones, as text (the help, in the pager: it
    /// scrolls at 80x24 and `/` searches it).
    fn help_text(&self) -> String {
        let mut out = Vec::new();
        for (title, items) in self.keymap.help(self.context()) {
            out.push(title.to_string());
            for (k, h) in items {
                out.push(format!("  {k:<18}{h}"));
            }
            out.push(String::new());
        }
        out.push("COMMANDS (: then the name; Tab completes)".into());
        for c in crate::keymap::COMMANDS {
            let aliases =
                if c.aliases.is_empty() { String::new() } else { format!(" (also {})", c.aliases.join(", ")) };
            out.push(format!("  {:<17} {}{aliases}", format!(":{}", c.usage()), c.what));
        }
        out.push(String::new());
        out.push("every binding and how to change it: config.example.toml [keymap]".into());
        out.join("\n")
    }

    /// An input popup: `initial` pre-filled (selected: the first key that types replaces it),
    /// the field's history on Up/Down.
    fn open_input(&mut self, kind: InputKind, title: &str, initial: &str) {
        let history = self.input_history.get(history_slot(&kind)).cloned().unwrap_or_default();
        let area = crate::tabs::line_edit::LineEdit::with_history(initial, history);
        self.popup = Some(Popup::Input { kind, title: title.to_string(), area: Box::new(area) });
    }

    fn on_popup_key(&mut self, popup: Popup, ev: KeyEvent) -> Vec<Command> {
        let ctrl_c = ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL);
        match popup {
            Popup::Pager(mut p) => {
                match p.on_key(ev) {
                    crate::tabs::pager::Outcome::Stay => self.popup = Some(Popup::Pager(p)),
                    crate::tabs::pager::Outcome::Close => {}
                    crate::tabs::pager::Outcome::Quit => self.should_quit = true,
                    // The next window: read by the value view, then shown here again.
                    crate::tabs::pager::Outcome::More => {
                        self.pager_follows_value = true;
                        return self.keys.next_value_page(&mut self.cx);
                    }
                }
                vec![]
            }
            Popup::Messages => {
                if ctrl_c {
                    self.should_quit = true;
                }
                vec![]
            }
            Popup::Confirm { action, question } => match ev.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => match action {
                    Confirmed::Write(op) => {
                        self.set_status(format!("sending: {question}"), false);
                        vec![self.keys.send_write(op, &mut self.cx)]
                    }
                    Confirmed::Repair => {
                        let Some(a) = &mut self.health.audit else { return vec![] };
                        let cmd = a.run(true, self.now_ms, &mut self.cx);
                        self.set_status("repairing…", false);
                        vec![cmd]
                    }
                },
                _ => {
                    self.set_status("cancelled: nothing was sent", false);
                    vec![]
                }
            },
            Popup::Input { kind, title, mut area } => match ev.code {
                KeyCode::Esc => vec![],
                _ if ctrl_c => vec![],
                KeyCode::Tab if kind == InputKind::Command => {
                    let text = area.text();
                    let (done, hits) = crate::keymap::complete_command(&text);
                    if hits.len() > 1 {
                        self.set_status(format!("commands: {}", hits.join(" · ")), false);
                    } else if hits.is_empty() && !text.contains(' ') {
                        self.set_status(format!("no command begins `{}`", crate::text::sanitize_str(&text)), true);
                    }
                    area.set_text(&done);
                    self.popup = Some(Popup::Input { kind, title, area });
                    vec![]
                }
                KeyCode::Enter => {
                    area.remember();
                    self.input_history.insert(history_slot(&kind), area.history().to_vec());
                    self.submit_input(kind, area.text())
                }
                _ => {
                    area.input(ev);
                    self.popup = Some(Popup::Input { kind, title, area });
                    vec![]
                }
            },
        }
    }

    fn submit_input(&mut self, kind: InputKind, text: String) -> Vec<Command> {
        match kind {
            InputKind::Filter => self.keys.set_pattern(text.trim().to_string(), &mut self.cx),
            InputKind::Db => match text.trim().parse::<u32>() {
                Ok(db) => self.keys.select_db(db, &mut self.cx),
                Err(_) => {
                    self.set_status(format!("not a database number: `{}`", crate::text::sanitize_str(&text)), true);
                    vec![]
                }
            },
            InputKind::Ttl(key) => match text.trim().parse::<u64>() {
                Ok(s) if s > 0 => {
                    let t = self.keys.type_name_of(&key);
                    self.confirm(WriteOp::Expire(key, s), t);
                    vec![]
                }
                _ => {
                    self.set_status("TTL must be a whole number of seconds > 0 (use p to remove a TTL)", true);
                    vec![]
                }
            },
            InputKind::Rename(key) => {
                if text.is_empty() || text.as_bytes() == &*key {
                    self.set_status("rename cancelled: same or empty name", false);
                    return vec![];
                }
                let t = self.keys.type_name_of(&key);
                self.confirm(WriteOp::Rename(key, text.into_bytes().into_boxed_slice()), t);
                vec![]
            }
            InputKind::Command => self.run_command(text.trim()),
            InputKind::ConvFilter => self.conversations.set_filter(&text, &mut self.cx),
            InputKind::WhyNot => self.search.why_not(&text, &mut self.cx),
            InputKind::ThreadSearch => {
                self.conversations.set_search(&text, &mut self.cx);
                vec![]
            }
        }
    }

    /// The `:` command line.
    pub fn run_command(&mut self, line: &str) -> Vec<Command> {
        let (cmd, arg) = line.split_once(' ').map(|(c, a)| (c, a.trim())).unwrap_or((line, ""));
        let r = match cmd {
            "" => Ok(vec![]),
            "q" | "quit" => {
                self.should_quit = true;
                Ok(vec![])
            }
            "db" | "select" => match arg.parse::<u32>() {
                Ok(db) => Ok(self.keys.select_db(db, &mut self.cx)),
                Err(_) => Err(format!("db: expected a number, got `{arg}`")),
            },
            "match" | "filter" => Ok(self.keys.set_pattern(arg.to_string(), &mut self.cx)),
            "type" => self.keys.set_type_filter(arg, &mut self.cx),
            "delim" | "delimiter" => self.keys.set_delimiter(arg),
            "tree" => Ok(self.keys.set_mode(crate::keytree::ViewMode::Tree, &mut self.cx)),
            "flat" => Ok(self.keys.set_mode(crate::keytree::ViewMode::Flat, &mut self.cx)),
            "sort" => self.keys.set_sort_named(arg, &mut self.cx),
            "audit" => Ok(self.open_audit()),
            "server" | "slowlog" | "clients" => {
                self.tab = TabId::Keys;
                Ok(self.keys.open_server(&mut self.cx))
            }
            "export" => {
                if arg.is_empty() {
                    Err("export: name the file: `:export out.jsonl` (JSON lines of what this view shows)".into())
                } else {
                    Ok(self.export(arg))
                }
            }
            "analyze" | "analyse" => {
                self.tab = TabId::Keys;
                Ok(self.keys.analyze(arg, &mut self.cx))
            }
            "replay" => {
                if arg.is_empty() {
                    Err("replay: name a file written by --record: `:replay incident.jsonl`".into())
                } else {
                    let req = self.replay_req.issue(&mut self.cx);
                    Ok(vec![Command::LoadReplay { req, path: arg.into() }])
                }
            }
            "messages" | "log" => {
                self.popup = Some(Popup::Messages);
                Ok(vec![])
            }
            "keys" => {
                self.tab = TabId::Keys;
                Ok(vec![])
            }
            "docs" | "browse" => {
                self.tab = TabId::Conversations;
                if self.conversations.configured {
                    Ok(self.conversations.open_browser(Some(arg).filter(|a| !a.is_empty()), &mut self.cx))
                } else {
                    Err("the long-term tier is not configured".into())
                }
            }
            other => Err(format!(
                "unknown command `{}` — try {}",
                crate::text::sanitize_str(other),
                crate::keymap::COMMANDS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
            )),
        };
        if matches!(
            cmd,
            "db" | "select" | "match" | "filter" | "type" | "delim" | "delimiter" | "tree" | "flat" | "sort"
        ) {
            self.tab = TabId::Keys;
        }
        match r {
            Ok(c) => c,
            Err(e) => {
                self.set_status(e, true);
                vec![]
            }
        }
    }
}

/// Which history an input field keeps (a TTL or a new name is asked once per key: none).
fn history_slot(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Filter => "match",
        InputKind::Command => "command",
        InputKind::Db => "db",
        InputKind::Ttl(_) | InputKind::Rename(_) => "",
        InputKind::ConvFilter => "conversations",
        InputKind::ThreadSearch => "thread",
        InputKind::WhyNot => "why-not",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Key, ScanBatch};

    fn app(read_only: bool) -> (App, Vec<Command>) {
        let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
        cfg.read_only = read_only;
        let mut app = App::new(&cfg, (100, 30));
        let cmds = app.init();
        (app, cmds)
    }

    #[test]
    fn errors_leave_the_header_after_a_while_and_stay_in_messages() {
        let (mut app, _) = app(true);
        app.update(Msg::Tick(1_000));
        app.set_status("scan failed: boom", true);
        app.update(Msg::Tick(20_000));
        assert!(app.status.is_some(), "still there after 19 s");
        app.update(Msg::Tick(1_000 + STATUS_ERROR_MS + 1_000));
        assert!(app.status.is_none(), "gone after 30 s");
        assert_eq!(app.log.back().map(|s| s.text.as_str()), Some("scan failed: boom"));
        app.run_command("messages");
        assert!(matches!(app.popup, Some(Popup::Messages)));
    }

    /// Every field is the one line editor: the Keys `/` pre-fills `*` selected, so typing
    /// `session:*` scans `session:*` (not `*session:*`); Ctrl-U clears a pre-filled field;
    /// Up brings back what was entered before.
    #[test]
    fn every_input_is_the_one_line_editor() {
        let (mut app, cmds) = app(true);
        app.update(Msg::Backend(BackendEvent::Scan(scan_req(&cmds), batch(&["k"]))));
        press(&mut app, '/');
        match &app.popup {
            Some(Popup::Input { area, .. }) => assert!(area.is_fresh() && area.text() == "*", "{area:?}"),
            _ => panic!("the filter opens"),
        }
        for c in "session:*".chars() {
            press(&mut app, c);
        }
        let sent = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert!(matches!(&sent[..], [Command::Scan { pattern, .. }] if pattern == "session:*"), "{sent:?}");
        // Opened again: the pattern in effect, selected; Ctrl-U clears it, Up brings it back.
        press(&mut app, '/');
        app.update(Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)));
        match &app.popup {
            Some(Popup::Input { area, .. }) => assert_eq!(area.text(), ""),
            _ => panic!(),
        }
        app.update(Msg::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)));
        match &app.popup {
            Some(Popup::Input { area, .. }) => assert_eq!(area.text(), "session:*", "the field's history"),
            _ => panic!(),
        }
    }

    /// A new action replaces the status (kept in `:messages`); moving the selection does not.
    #[test]
    fn a_new_action_replaces_the_status() {
        let (mut app, cmds) = app(true);
        app.update(Msg::Backend(BackendEvent::Scan(scan_req(&cmds), batch(&["a", "b"]))));
        app.set_status("search failed: boom", true);
        press(&mut app, 'j');
        assert!(app.status.is_some(), "a movement keeps it");
        press(&mut app, 'r');
        assert!(app.status.as_ref().is_none_or(|s| !s.text.contains("boom")), "{:?}", app.status);
        assert!(app.log.iter().any(|s| s.text.contains("boom")), "still in :messages");
    }

    #[test]
    fn a_database_that_does_not_exist_is_said() {
        let (mut app, _) = app(true);
        app.keys.info = Some(crate::domain::ServerInfo {
            product: "Redis".into(),
            version: "7".into(),
            keyspace: vec![],
            databases: Some(16),
            db: 0,
            mode: Default::default(),
            sentinel_master: None,
            search_indexes: vec![],
        });
        for c in ":db 99".chars() {
            app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
        }
        assert!(app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))).is_empty(), "nothing sent");
        let s = app.status.clone().unwrap();
        assert!(s.error && s.text.contains("database 99 does not exist") && s.text.contains("0–15"), "{s:?}");
    }

    fn press(app: &mut App, c: char) -> Vec<Command> {
        app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
    }

    fn scan_req(cmds: &[Command]) -> crate::message::RequestId {
        cmds.iter()
            .rev()
            .find_map(|c| match c {
                Command::Scan { req, .. } => Some(*req),
                _ => None,
            })
            .expect("a scan")
    }

    fn batch(keys: &[&str]) -> Result<ScanBatch, crate::error::StoreError> {
        let keys: Vec<Key> = keys.iter().map(|k| k.as_bytes().into()).collect();
        Ok(ScanBatch { seen: keys.len() as u64, keys, total: None, calls: 1, done: true })
    }

    #[test]
    fn a_late_reply_of_a_superseded_scan_is_dropped() {
        let (mut app, cmds) = app(true);
        let old = scan_req(&cmds);
        let new = scan_req(&press(&mut app, 'r'));
        assert_ne!(old, new);
        app.update(Msg::Backend(BackendEvent::Scan(old, batch(&["stale"]))));
        assert!(app.keys.index.is_empty());
        app.update(Msg::Backend(BackendEvent::Scan(new, batch(&["fresh"]))));
        assert_eq!(app.keys.index.len(), 1);
    }

    #[test]
    fn read_only_profile_cannot_enter_write_mode_or_send_writes() {
        let (mut app, cmds) = app(true);
        app.update(Msg::Backend(BackendEvent::Scan(scan_req(&cmds), batch(&["k"]))));
        assert!(press(&mut app, 'W').is_empty());
        assert!(!app.write_mode);
        assert!(app.status.as_ref().unwrap().text.contains("read-only"));
        assert!(press(&mut app, 'x').is_empty());
        assert!(app.popup.is_none());
    }

    #[test]
    fn write_needs_toggle_then_confirmation() {
        let (mut app, cmds) = app(false);
        app.update(Msg::Backend(BackendEvent::Scan(scan_req(&cmds), batch(&["k"]))));
        assert!(press(&mut app, 'x').is_empty());
        assert!(app.popup.is_none(), "not in write mode yet");
        assert_eq!(press(&mut app, 'W'), vec![Command::SetWriteMode(true)]);
        assert!(press(&mut app, 'x').is_empty());
        assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
        let sent = press(&mut app, 'y');
        assert!(matches!(&sent[..], [Command::Write { op: WriteOp::Delete(k), .. }] if &**k == b"k"));
    }

    #[test]
    fn command_line_and_unknown_commands() {
        let (mut app, _) = app(true);
        let cmds = app.run_command("match user:*");
        assert!(matches!(&cmds[..], [Command::Scan { pattern, .. }] if pattern == "user:*"));
        let cmds = app.run_command("db 2");
        assert!(matches!(cmds[0], Command::SelectDb { db: 2, .. }));
        assert!(app.run_command("frobnicate").is_empty());
        assert!(app.status.as_ref().unwrap().text.contains("unknown command"));
        app.run_command("q");
        assert!(app.should_quit);
    }

    /// Every command of the one table is run by the command line (none "unknown"), found in
    /// the help, and completed by Tab; the README lists exactly the table.
    #[test]
    fn the_command_table_drives_the_line_the_help_completion_and_the_readme() {
        for c in crate::keymap::COMMANDS {
            for name in std::iter::once(c.name).chain(c.aliases.iter().copied()) {
                let (mut app, _) = app(true);
                app.status = None;
                // `q` quits; the others run (an argument they need missing is their own error).
                app.run_command(name);
                let said = app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
                assert!(!said.contains("unknown command"), ":{name}: {said}");
            }
        }
        let (mut app, _) = app(true);
        let help = app.help_text();
        for c in crate::keymap::COMMANDS {
            assert!(help.contains(&format!(":{}", c.usage())), "help lists :{}", c.name);
        }
        // Tab: one command completes with a space; several to what they share, named.
        assert_eq!(crate::keymap::complete_command("an"), ("analyze ".to_string(), vec!["analyze"]));
        assert_eq!(crate::keymap::complete_command("d").0, "d");
        assert_eq!(crate::keymap::complete_command("de").0, "delim ", "delimiter is its alias");
        assert_eq!(crate::keymap::complete_command("t"), ("t".to_string(), vec!["type", "tree"]));
        press(&mut app, ':');
        for ch in "ser".chars() {
            press(&mut app, ch);
        }
        app.update(Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
        match &app.popup {
            Some(Popup::Input { area, .. }) => assert_eq!(area.text(), "server "),
            _ => panic!("the command line stays open"),
        }
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let row = crate::keymap::COMMANDS
            .iter()
            .map(|c| format!("`{}`", c.usage().replace('|', "\\|")))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            readme.contains(&format!("| `:` | everywhere | command line (Tab completes): {row} |")),
            "README's `:` row must list the table: {row}"
        );
    }

    #[test]
    fn ticks_redraw_once_a_second_not_every_tick() {
        let (mut app, _) = app(true);
        app.dirty = false;
        app.update(Msg::Tick(1_000));
        assert!(app.dirty);
        app.dirty = false;
        app.update(Msg::Tick(1_250));
        assert!(!app.dirty);
    }
}
