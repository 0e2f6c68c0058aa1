//! Keys and the mouse: a key event to an action, the action to the tab it is for.

use super::*;

impl App {
    pub(super) fn on_key(&mut self, ev: KeyEvent) -> Vec<Command> {
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
    pub(super) fn on_mouse(&mut self, m: crossterm::event::MouseEvent) -> Vec<Command> {
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
                    TabId::Keys
                        if self.keys.analysis.is_none()
                            && self.keys.server.is_none()
                            && self.keys.profile.is_none()
                            && self.keys.pubsub.is_none() =>
                    {
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
    pub(super) fn act(&mut self, action: Action) -> Vec<Command> {
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

    pub(super) fn keys_action(&mut self, action: Action) -> Vec<Command> {
        self.keys.on_action(action, &mut self.cx)
    }

    pub(super) fn conversations_action(&mut self, action: Action) -> Vec<Command> {
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

    pub(super) fn search_action(&mut self, action: Action) -> Vec<Command> {
        self.search.on_action(action, &mut self.cx)
    }

    pub(super) fn health_action(&mut self, action: Action) -> Vec<Command> {
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
            return self.health.on_action(action, &mut self.cx);
        }
        let rows = self.geometry.audit;
        let Some(a) = &mut self.health.audit else { return vec![] };
        a.on_action(action, self.write_mode, self.now_ms, rows, &mut self.cx)
    }
}
