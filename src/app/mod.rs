//! `App` owns all UI state; `update(Msg) -> Vec<Command>` is pure (no I/O, no clock: time
//! arrives in `Msg::Tick`), so it is tested without a runtime or a terminal.

use crate::config::{Config, LongTermConfig, redact_url};
use crate::domain::{ConnState, Tier, WriteOp};
use crate::keymap::{Action, Context, Keymap};
use crate::message::{BackendEvent, Command};
use crate::message::{FileReply, MemoryReply};
pub use crate::tabs::InputKind;
use crate::tabs::OnReply;
use crate::tabs::Tab;
use crate::tabs::conversations::ConversationsTab;
use crate::tabs::health::HealthTab;
use crate::tabs::keys::KeysTab;
use crate::tabs::search::SearchTab;
use crate::tabs::{Ask, Cx, WriteKind};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

mod commands;
mod input;
mod popups;
#[cfg(test)]
mod tests;

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

    /// The tab on screen, when its tier is configured (Health always is).
    pub(super) fn active_tab(&self) -> Option<&dyn Tab> {
        match self.tab {
            TabId::Keys if self.keys.configured => Some(&self.keys),
            TabId::Conversations if self.conversations.configured => Some(&self.conversations),
            TabId::Search if self.search.configured => Some(&self.search),
            TabId::Health => Some(&self.health),
            _ => None,
        }
    }

    /// The key context of what the screen shows (bindings, footer, help).
    pub fn context(&self) -> Context {
        self.active_tab().map(|t| t.context()).unwrap_or(Context::Global)
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        self.cx.now_ms = self.now_ms;
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
                // Every tab's clock runs, shown or not (a listing left aside still refreshes).
                self.cx.now_ms = now;
                let mut cmds = Vec::new();
                let mut changed = second_changed;
                for tab in [&mut self.keys as &mut dyn Tab, &mut self.conversations, &mut self.search] {
                    let (c, ch) = tab.tick(&mut self.cx);
                    cmds.extend(c);
                    changed |= ch;
                }
                if changed {
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
            BackendEvent::Health(s) => {
                self.health.on_sample(*s);
                vec![]
            }
            BackendEvent::Redis(req, reply) => {
                let cmds = self.keys.on_reply(req, reply, &mut self.cx);
                // `o` on a value still loading opens the pager once its page is here.
                if self.pager_follows_value
                    && self.keys.value.as_ref().is_some_and(|v| v.page.is_some() && !v.req.waiting())
                {
                    self.pager_follows_value = false;
                    self.keys.open_pager(&mut self.cx);
                }
                cmds
            }
            BackendEvent::LongTerm(req, reply) => self.conversations.on_reply(req, reply, &mut self.cx),
            BackendEvent::Vector(req, reply) => self.search.on_reply(req, reply, &mut self.cx),
            // The memory layer answers whoever asked: the thread (badges, trace) or the audit.
            BackendEvent::Memory(req, reply) => match reply {
                MemoryReply::Badges(_) | MemoryReply::Trace(_) => self.conversations.on_reply(req, reply, &mut self.cx),
                MemoryReply::AuditProgress(_) | MemoryReply::Audit(_) => match &mut self.health.audit {
                    Some(a) => a.on_reply(req, reply, &mut self.cx),
                    None => vec![],
                },
            },
            BackendEvent::File(req, reply) => {
                match reply {
                    FileReply::Replay(r) if self.replay_req.settle(req) => match r {
                        Ok(rec) => self.open_replay(*rec),
                        Err(e) => self.set_status(format!("replay: {e}"), true),
                    },
                    FileReply::Exported(r) if self.export_req.settle(req) => match r {
                        Ok(s) => self.set_status(s, false),
                        Err(e) => self.set_status(e, true),
                    },
                    FileReply::Replay(_) | FileReply::Exported(_) => {} // a superseded request's
                }
                vec![]
            }
        }
    }
}
