//! Snapshots of the screen on ratatui's TestBackend, driven through `App::update` only.

use crate::support::{screen, screen_of};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use memscope::app::{App, Msg};
use memscope::config::Config;
use memscope::domain::*;
use memscope::message::{BackendEvent, Command, RequestId};
use memscope::message::{RedisCmd, RedisReply};
use memscope::store::StoreError;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn app() -> (App, Vec<Command>) {
    let cfg = Config::with_redis("redis://127.0.0.1:6379/0");
    let mut app = App::new(&cfg, (100, 24));
    let cmds = app.init();
    app.update(Msg::Backend(BackendEvent::Conn(Tier::ShortTerm, ConnState::Up)));
    (app, cmds)
}

fn scan_req(cmds: &[Command]) -> RequestId {
    cmds.iter()
        .rev()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Scan { .. }) => Some(*req),
            _ => None,
        })
        .unwrap()
}

fn key(app: &mut App, c: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn batch(keys: &[&str], done: bool) -> Result<ScanBatch, StoreError> {
    Ok(ScanBatch {
        keys: keys.iter().map(|k| k.as_bytes().into()).collect(),
        seen: keys.len() as u64,
        total: Some(9),
        calls: 1,
        done,
    })
}

const KEYS: &[&str] = &[
    "session:conv-0001",
    "session:conv-0002",
    "conversation:conv-0001:messages",
    "weather:nyc:today",
    "ratelimit:u-alice:2026-11-23T21:40",
    "notes:\x1b[31mred",
    "notes:wide:日本語キー",
    "plain",
];

#[test]
fn keys_tab_loading() {
    let (mut app, cmds) = app();
    let req = scan_req(&cmds);
    app.update(Msg::Backend(BackendEvent::Redis(
        req,
        RedisReply::Scan(Ok(ScanBatch { keys: vec![], seen: 0, total: Some(1_000_000), calls: 1, done: false })),
    )));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn keys_tab_loaded_tree_with_metadata() {
    let (mut app, cmds) = app();
    let req = scan_req(&cmds);
    let after = app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Scan(batch(KEYS, true)))));
    let info_req = after.iter().find_map(|c| match c {
        Command::Redis(req, RedisCmd::Info) => Some(*req),
        _ => None,
    });
    app.update(Msg::Backend(BackendEvent::Redis(
        info_req.unwrap(),
        RedisReply::Info(Ok(ServerInfo {
            product: "Redis".into(),
            version: "7.0.15".into(),
            keyspace: vec![DbInfo { db: 0, keys: 8, expires: 3 }],
            databases: Some(16),
            db: 0,
            mode: Default::default(),
            sentinel_master: None,
            search_indexes: vec![],
        })),
    )));
    // expand notes: (row 1) and go to the last row and back: every action may ask for metadata.
    let mut all = Vec::new();
    all.extend(key(&mut app, KeyCode::Char('j')));
    all.extend(key(&mut app, KeyCode::Enter));
    all.extend(key(&mut app, KeyCode::Char('G')));
    all.extend(key(&mut app, KeyCode::Char('g')));
    let (req, keys) = all
        .iter()
        .rev()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Meta { keys }) => Some((*req, keys.clone())),
            _ => None,
        })
        .expect("metadata requested for visible rows");
    let metas = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let ttl = if i == 0 { Ttl::Persistent } else { Ttl::Millis(90_000) };
            (k.clone(), KeyMeta { ktype: Some(KeyType::String), ttl, memory: Some(72 + i as u64) })
        })
        .collect();
    app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Meta(Ok(metas)))));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn keys_tab_empty() {
    let (mut app, cmds) = app();
    let req = scan_req(&cmds);
    app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Scan(batch(&[], true)))));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn keys_tab_error_retrying() {
    let (mut app, cmds) = app();
    let req = scan_req(&cmds);
    app.update(Msg::Backend(BackendEvent::Conn(
        Tier::ShortTerm,
        ConnState::Down("unreachable: Connection refused (os error 111)".into()),
    )));
    app.update(Msg::Backend(BackendEvent::Redis(
        req,
        RedisReply::Scan(Err(StoreError::Unreachable("Connection refused (os error 111)".into()))),
    )));
    insta::assert_snapshot!(screen(&app));
}

/// A rescan that fails over a listing on screen: the listing stays, rows where they were, the
/// error and its retry in the list's bottom border.
#[test]
fn keys_tab_error_over_a_listing_keeps_the_rows_still() {
    let (mut app, cmds) = app();
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&["a:1", "a:2", "b"], true)))));
    let before = screen(&app);
    let cmds = key(&mut app, KeyCode::Char('r'));
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(Err(StoreError::Timeout(2000))))));
    let after = screen(&app);
    let rows = |s: &str| s.lines().skip(5).take(3).map(String::from).collect::<Vec<_>>();
    assert_eq!(rows(&before), rows(&after), "the rows did not move");
    insta::assert_snapshot!(after);
}

#[test]
fn value_viewer_hash_page_with_ttl_countdown() {
    let mut app = with_hash_value_open();
    insta::assert_snapshot!(screen(&app));
    // The list focused (Tab): its pane is the marked one now, and `o` still opens the value.
    key(&mut app, KeyCode::Tab);
    let s = screen(&app);
    assert!(s.contains("┏ ▶ keys ") && !s.contains("▶ session:conv-0001"), "{s}");
    key(&mut app, KeyCode::Char('o'));
    assert!(matches!(app.popup, Some(memscope::app::Popup::Pager(_))), "o opens the value shown whatever the focus");
}

/// The app with `session:conv-0001` (a hash of three fields, one with an escape sequence)
/// open, 65 s after it was read with a 10 min TTL.
fn with_hash_value_open() -> App {
    let (mut app, cmds) = app();
    app.update(Msg::Backend(BackendEvent::Redis(
        scan_req(&cmds),
        RedisReply::Scan(batch(&["session:conv-0001"], true)),
    )));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('j'));
    let cmds = key(&mut app, KeyCode::Enter);
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Value { .. }) => Some(*req),
            _ => None,
        })
        .unwrap();
    let blob = |s: &str| Blob { bytes: s.as_bytes().to_vec(), total_len: s.len() as u64 };
    let page = ValuePage {
        groups: vec![],
        groups_left_out: 0,
        lines: vec![],
        formats: vec![],
        key: b"session:conv-0001".as_slice().into(),
        ktype: KeyType::Hash,
        ttl: Ttl::Millis(600_000),
        length: 3,
        memory: Some(248),
        cursor: PageCursor::Start,
        next: None,
        body: ValueBody::Hash(vec![
            (blob("user_id"), blob("u-alice")),
            (blob("agent_id"), blob("agent-support")),
            (blob("topic"), blob("refund \x1b[1mfor\x1b[0m order 1182")),
        ]),
        node: None,
    };
    app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Value(Ok(Some(Box::new(page)))))));
    app.update(Msg::Tick(65_000)); // countdown: 10m − 65 s
    app
}

/// `o` on a value: the page whole in the pager, its escape sequence made visible, with the
/// pager's position and keys.
#[test]
fn pager_on_a_value_page() {
    let mut app = with_hash_value_open();
    key(&mut app, KeyCode::Char('o'));
    insta::assert_snapshot!(screen(&app));
}

/// A delete in write mode asks first, naming the key and its type.
#[test]
fn confirm_before_a_delete() {
    let (mut app, cmds) = {
        let mut cfg = Config::with_redis("redis://127.0.0.1:6379/0");
        cfg.read_only = false;
        let mut app = App::new(&cfg, (100, 24));
        let cmds = app.init();
        app.update(Msg::Backend(BackendEvent::Conn(Tier::ShortTerm, ConnState::Up)));
        (app, cmds)
    };
    app.update(Msg::Backend(BackendEvent::Redis(
        scan_req(&cmds),
        RedisReply::Scan(batch(&["cache:weather:nyc"], true)),
    )));
    key(&mut app, KeyCode::Char('W'));
    key(&mut app, KeyCode::Char('v')); // flat: the key itself is selected
    key(&mut app, KeyCode::Char('x'));
    assert!(matches!(app.popup, Some(memscope::app::Popup::Confirm { .. })), "{:?}", app.popup.is_some());
    insta::assert_snapshot!(screen(&app));
}

/// `:analyze`: memory by namespace and type, the biggest keys, what is about to expire and
/// the namespaces that look like leaks.
#[test]
fn analysis_view() {
    let (mut app, _) = app();
    let cmds = app.run_command("analyze");
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Analyze { .. }) => Some(*req),
            _ => None,
        })
        .expect("an analysis asked for");
    use memscope::analysis::{Analysis, KeyStat, Namespace, TypeStat};
    let ns = |prefix: &str, depth, keys, bytes, ttl: [u64; 5]| Namespace {
        prefix: prefix.into(),
        depth,
        keys,
        bytes,
        ttl,
        no_ttl_bytes: bytes / 2,
    };
    let key =
        |k: &str, t: &str, bytes, elements, ttl_ms| KeyStat { key: k.into(), ktype: t.into(), bytes, elements, ttl_ms };
    let a = Analysis {
        pattern: "*".into(),
        delimiter: ":".into(),
        started: 1_763_935_000,
        took_ms: 1_840,
        keys: 120_000,
        bytes: 96 * 1024 * 1024,
        ops: 480_000,
        dbsize: Some(120_000),
        used_memory: Some(120 * 1024 * 1024),
        nodes: 1,
        by_type: vec![
            TypeStat { ktype: "hash".into(), keys: 60_000, bytes: 64 * 1024 * 1024 },
            TypeStat { ktype: "list".into(), keys: 40_000, bytes: 28 * 1024 * 1024 },
            TypeStat { ktype: "string".into(), keys: 20_000, bytes: 4 * 1024 * 1024 },
        ],
        namespaces: vec![
            ns("session:", 0, 60_000, 64 * 1024 * 1024, [0, 0, 0, 60_000, 0]),
            ns("conversation:", 0, 40_000, 28 * 1024 * 1024, [40_000, 0, 0, 0, 0]),
            ns("cache:", 0, 20_000, 4 * 1024 * 1024, [0, 5_000, 15_000, 0, 0]),
        ],
        top_by_memory: vec![key("conversation:conv-0042:messages", "list", 2 * 1024 * 1024, Some(5_000), None)],
        top_by_elements: vec![key("conversation:conv-0042:messages", "list", 2 * 1024 * 1024, Some(5_000), None)],
        expiring_within_1m: 3,
        expiring_keys: vec![key("cache:weather:nyc", "string", 120, None, Some(4_000))],
        ..Default::default()
    };
    app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Analysis(Ok(Box::new(a))))));
    insta::assert_snapshot!(screen_of(&app, 120, 40));
}

/// `:server`: the slow log, the clients (memscope's own marked), commands by time, latency
/// events.
#[test]
fn server_view() {
    let (mut app, _) = app();
    let cmds = app.run_command("server");
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Server) => Some(*req),
            _ => None,
        })
        .expect("the server view asked for");
    let report = ServerReport {
        node: None,
        slowlog_len: 2,
        slowlog: vec![SlowEntry {
            id: 7,
            at: 1_763_934_990,
            micros: 48_000,
            command: "KEYS *".into(),
            client: "10.0.0.7:51234".into(),
            client_name: "agent-worker".into(),
        }],
        clients: vec![
            ClientInfo {
                id: 12,
                addr: "10.0.0.7:51234".into(),
                name: "agent-worker".into(),
                age_s: 3_600,
                idle_s: 0,
                db: 0,
                cmd: "hset".into(),
                omem: 0,
                tot_mem: Some(22_000),
                flags: "N".into(),
                this: false,
            },
            ClientInfo {
                id: 15,
                addr: "127.0.0.1:40002".into(),
                name: "memscope".into(),
                age_s: 20,
                idle_s: 2,
                db: 0,
                cmd: "client|list".into(),
                omem: 0,
                tot_mem: Some(20_000),
                flags: "N".into(),
                this: true,
            },
        ],
        commands: vec![CommandStat {
            name: "hset".into(),
            calls: 90_000,
            usec: 180_000,
            usec_per_call: 2.0,
            rejected: 0,
            failed: 0,
        }],
        latency: vec![LatencyEvent { event: "command".into(), at: 1_763_934_990, latest_ms: 48, max_ms: 48 }],
        errors: vec![],
    };
    app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Server(Ok(vec![report])))));
    insta::assert_snapshot!(screen_of(&app, 120, 36));
}

#[test]
fn help_popup_is_generated_from_the_keymap() {
    let (mut app, _) = app();
    key(&mut app, KeyCode::Char('?'));
    let mut t = Terminal::new(TestBackend::new(100, 60)).unwrap();
    t.draw(|f| {
        memscope::ui::draw(f, &app);
    })
    .unwrap();
    insta::assert_snapshot!(format!("{}", t.backend()));
    // At 80 columns the pager's footer still says how to leave.
    app.update(Msg::Resize(80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| {
        memscope::ui::draw(f, &app);
    })
    .unwrap();
    let screen = format!("{}", t.backend());
    assert!(screen.lines().last().is_some_and(|l| l.contains("Esc close")), "{screen}");
}

#[test]
fn unconfigured_tiers_say_which_key_to_set() {
    let cfg = Config { redis: None, ..Config::with_redis("redis://x") };
    let mut app = App::new(&cfg, (100, 24));
    assert!(app.init().is_empty());
    insta::assert_snapshot!("keys_unconfigured", screen(&app));
    key(&mut app, KeyCode::Char('1'));
    insta::assert_snapshot!("conversations_unconfigured", screen(&app));
}

/// Draws like the UI loop: the frame, then its list geometry back into the App.
fn draw_and_measure(app: &mut App, w: u16, h: u16) -> Vec<Command> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut geo = app.geometry;
    t.draw(|f| geo = memscope::ui::draw(f, app)).unwrap();
    app.update(Msg::Layout(geo))
}

#[test]
fn list_pages_are_the_rows_the_frame_gave_them() {
    let (mut app, cmds) = app();
    let many: Vec<String> = (0..200).map(|i| format!("k{i:03}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let after = app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(&refs, true)))));
    app.update(Msg::Backend(BackendEvent::Conn(Tier::ShortTerm, ConnState::Up)));
    let info_req = after.iter().find_map(|c| match c {
        Command::Redis(req, RedisCmd::Info) => Some(*req),
        _ => None,
    });
    key(&mut app, KeyCode::Char('2'));
    draw_and_measure(&mut app, 100, 30);
    // 30 rows: tab bar, status, a 2-row header, the list's borders and column header, footer.
    let standalone = app.keys.view_rows;
    assert_eq!(standalone, 30 - 1 - 1 - 2 - 2 - 1 - 1);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.keys.selected, standalone, "a page is what the list shows");

    // A cluster node: the header grows a warning; the list shrinks by the rows it took.
    app.update(Msg::Backend(BackendEvent::Redis(
        info_req.unwrap(),
        RedisReply::Info(Ok(ServerInfo {
            product: "Redis".into(),
            version: "7.0.15".into(),
            keyspace: vec![],
            databases: None,
            db: 0,
            mode: ServerMode::Cluster {
                masters: vec![("127.0.0.1:7000".into(), true), ("127.0.0.1:7001".into(), false)],
                whole: false,
            },
            sentinel_master: None,
            search_indexes: vec![],
        })),
    )));
    draw_and_measure(&mut app, 100, 30);
    assert_eq!(app.keys.view_rows, standalone - 2, "the warning's two rows come out of the list");
    // The selection stays in view of the smaller list.
    assert!(app.keys.selected < app.keys.offset + app.keys.view_rows);
    // A resize is measured on the next frame.
    app.update(Msg::Resize(100, 50));
    draw_and_measure(&mut app, 100, 50);
    assert_eq!(app.keys.view_rows, standalone - 2 + 20);
}

/// After `:db 3` the header names database 3 (the URL said /0).
#[test]
fn the_header_names_the_database_selected() {
    let (mut app, _) = app();
    for c in ":db 3".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(cmds.iter().any(|c| matches!(c, Command::Redis(_, RedisCmd::SelectDb { db: 3, .. }))), "{cmds:?}");
    let s = screen(&app);
    assert!(s.contains("redis://127.0.0.1:6379/3") && !s.contains("6379/0"), "{s}");
}

/// NO_COLOR: a frame without one colour; the selection still stands out (reversed).
#[test]
fn no_color_strips_every_colour_and_keeps_the_selection_visible() {
    let (mut app, cmds) = app();
    app.update(Msg::Backend(BackendEvent::Redis(scan_req(&cmds), RedisReply::Scan(batch(KEYS, true)))));
    let mut t = Terminal::new(TestBackend::new(100, 24)).unwrap();
    t.draw(|f| {
        memscope::ui::draw(f, &app);
        memscope::ui::theme::strip_colors(f.buffer_mut());
    })
    .unwrap();
    let buf = t.backend().buffer();
    use ratatui::style::{Color, Modifier};
    assert!(buf.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    assert!(buf.content.iter().any(|c| c.modifier.contains(Modifier::REVERSED)), "the selection is reversed");
}
