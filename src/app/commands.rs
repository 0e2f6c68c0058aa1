//! The `:` command line, `:export` (the stored data, never the screen's text), replay and audit views.

use super::*;
use crate::message::FileCmd;
use crate::tabs::Export;

impl App {
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
    pub(super) fn open_audit(&mut self) -> Vec<Command> {
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

    /// `:export FILE`: what the view shows, as data (the active tab says what), written by the
    /// backend (a large list never stalls the UI on a disk).
    pub(super) fn export(&mut self, path: &str) -> Vec<Command> {
        let export = match self.active_tab() {
            Some(t) => t.export(),
            None => Export::nothing("this tab's tier is not configured"),
        };
        let (what, lines) = match export {
            Export::WholeValue(key) => {
                let req = self.export_req.issue(&mut self.cx);
                return vec![Command::File(req, FileCmd::ExportValue { path: path.into(), key })];
            }
            Export::Lines { what, lines } => (what, lines),
        };
        if lines.is_empty() {
            self.set_status(format!("export: {what}: nothing to write"), true);
            return vec![];
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let req = self.export_req.issue(&mut self.cx);
        vec![Command::File(req, FileCmd::Export { path: path.into(), text, what })]
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
            "pubsub" | "subscribe" => {
                self.tab = TabId::Keys;
                Ok(self.keys.open_pubsub(arg, &mut self.cx))
            }
            "profile" | "monitor" => {
                self.tab = TabId::Keys;
                Ok(self.keys.open_profile(arg, &mut self.cx))
            }
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
                    Ok(vec![Command::File(req, FileCmd::LoadReplay { path: arg.into() })])
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
