//! The `:` command line, `:export` (the stored data, never the screen's text), replay and audit views.

use super::*;

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

    /// `:export FILE`: what the view shows, as JSON lines, written by the backend (a large list
    /// never stalls the UI on a disk).
    pub(super) fn export(&mut self, path: &str) -> Vec<Command> {
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
