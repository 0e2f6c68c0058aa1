//! What a tab asks of the app (a pager, an input line, a confirmation) and the popups that answer: help, pager, input with its history, confirm.

use super::*;

impl App {
    /// The one place a tab's request of the App is carried out.
    pub(super) fn on_ask(&mut self, ask: Ask) -> Vec<Command> {
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
    pub(super) fn ask_write(&mut self, kind: WriteKind) {
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

    pub(super) fn confirm(&mut self, op: WriteOp, ktype: String) {
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

    pub(super) fn open_pager(&mut self, title: String, note: Option<String>, text: &str) {
        let mut p = crate::tabs::pager::Pager::new(title, text, self.size);
        p.note = note;
        self.popup = Some(Popup::Pager(Box::new(p)));
    }

    /// The keys of this context and the global ones, as text (the help, in the pager: it
    /// scrolls at 80x24 and `/` searches it).
    pub(super) fn help_text(&self) -> String {
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
    pub(super) fn open_input(&mut self, kind: InputKind, title: &str, initial: &str) {
        let history = self.input_history.get(history_slot(&kind)).cloned().unwrap_or_default();
        let area = crate::tabs::line_edit::LineEdit::with_history(initial, history);
        self.popup = Some(Popup::Input { kind, title: title.to_string(), area: Box::new(area) });
    }

    pub(super) fn on_popup_key(&mut self, popup: Popup, ev: KeyEvent) -> Vec<Command> {
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

    pub(super) fn submit_input(&mut self, kind: InputKind, text: String) -> Vec<Command> {
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
            InputKind::ProfileFilter => match &mut self.keys.profile {
                Some(v) => v.set_filter(&text, &mut self.cx),
                None => vec![],
            },
            InputKind::ThreadSearch => {
                self.conversations.set_search(&text, &mut self.cx);
                vec![]
            }
        }
    }
}

/// Which history an input field keeps (a TTL or a new name is asked once per key: none).
pub(super) fn history_slot(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Filter => "match",
        InputKind::Command => "command",
        InputKind::Db => "db",
        InputKind::Ttl(_) | InputKind::Rename(_) => "",
        InputKind::ConvFilter => "conversations",
        InputKind::ThreadSearch => "thread",
        InputKind::WhyNot => "why-not",
        InputKind::ProfileFilter => "profile",
    }
}
