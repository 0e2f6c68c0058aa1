use super::*;
use crate::domain::{Key, ScanBatch};
use crate::message::{RedisCmd, RedisReply};

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
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&["k"])))));
    press(&mut app, '/');
    match &app.popup {
        Some(Popup::Input { area, .. }) => assert!(area.is_fresh() && area.text() == "*", "{area:?}"),
        _ => panic!("the filter opens"),
    }
    for c in "session:*".chars() {
        press(&mut app, c);
    }
    let sent = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(
        matches!(&sent[..], [Command::Redis(_, RedisCmd::Scan { pattern, .. })] if pattern == "session:*"),
        "{sent:?}"
    );
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
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&["a", "b"])))));
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
            Command::Redis(req, RedisCmd::Scan { .. }) => Some(*req),
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
    app.update(Msg::Backend(BackendEvent::Redis(old, RedisReply::Scan(batch(&["stale"])))));
    assert!(app.keys.index.is_empty());
    app.update(Msg::Backend(BackendEvent::Redis(new, RedisReply::Scan(batch(&["fresh"])))));
    assert_eq!(app.keys.index.len(), 1);
}

#[test]
fn read_only_profile_cannot_enter_write_mode_or_send_writes() {
    let (mut app, cmds) = app(true);
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&["k"])))));
    assert!(press(&mut app, 'W').is_empty());
    assert!(!app.write_mode);
    assert!(app.status.as_ref().unwrap().text.contains("read-only"));
    assert!(press(&mut app, 'x').is_empty());
    assert!(app.popup.is_none());
}

#[test]
fn write_needs_toggle_then_confirmation() {
    let (mut app, cmds) = app(false);
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&["k"])))));
    assert!(press(&mut app, 'x').is_empty());
    assert!(app.popup.is_none(), "not in write mode yet");
    assert_eq!(press(&mut app, 'W'), vec![Command::SetWriteMode(true)]);
    assert!(press(&mut app, 'x').is_empty());
    assert!(matches!(app.popup, Some(Popup::Confirm { .. })));
    let sent = press(&mut app, 'y');
    assert!(matches!(&sent[..], [Command::Redis(_, RedisCmd::Write { op: WriteOp::Delete(k), .. })] if &**k == b"k"));
}

#[test]
fn command_line_and_unknown_commands() {
    let (mut app, _) = app(true);
    let cmds = app.run_command("match user:*");
    assert!(matches!(&cmds[..], [Command::Redis(_, RedisCmd::Scan { pattern, .. })] if pattern == "user:*"));
    let cmds = app.run_command("db 2");
    assert!(matches!(cmds[0], Command::Redis(_, RedisCmd::SelectDb { db: 2, .. })));
    assert!(app.run_command("frobnicate").is_empty());
    assert!(app.status.as_ref().unwrap().text.contains("unknown command"));
    app.run_command("q");
    assert!(app.should_quit);
}

/// Every command of the one table is run by the command line (none "unknown"), found in
/// the help, and completed by Tab; `docs/keybindings.md` lists exactly the table.
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
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keybindings.md")).unwrap();
    let row = crate::keymap::COMMANDS
        .iter()
        .map(|c| format!("`{}`", c.usage().replace('|', "\\|")))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        readme.contains(&format!("| `:` | everywhere | command line (Tab completes): {row} |")),
        "docs/keybindings.md's `:` row must list the table: {row}"
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
