//! Snapshots of the Conversations tab, driven through `App::update` with store replies.

use crate::support::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use memscope::app::{App, Msg, TabId};
use memscope::config::{Config, LongTermConfig};
use memscope::domain::*;
use memscope::message::{BackendEvent, Command, LongTermReply, RequestId};
use memscope::message::{LongTermCmd, MemoryCmd};
use memscope::store::StoreError;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const NOW: i64 = 1_763_935_000;

fn app() -> (App, Vec<Command>) {
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.long_term = Some(LongTermConfig::Sqlite { path: "/tmp/memory.db".into() });
    let mut app = App::new(&cfg, (110, 30));
    app.conversations.wall_start = Some(Ts { secs: NOW, nanos: 0 });
    let cmds = app.init();
    app.update(Msg::Backend(BackendEvent::Conn(Tier::LongTerm, ConnState::Up)));
    assert_eq!(app.tab, TabId::Conversations);
    (app, cmds)
}

fn key(app: &mut App, c: KeyCode) -> Vec<Command> {
    app.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn req_of(cmds: &[Command], f: fn(&Command) -> bool) -> RequestId {
    cmds.iter()
        .find(|c| f(c))
        .map(|c| match c {
            Command::LongTerm(req, LongTermCmd::Conversations { .. })
            | Command::LongTerm(req, LongTermCmd::Count { .. })
            | Command::LongTerm(req, LongTermCmd::Messages { .. })
            | Command::LongTerm(req, LongTermCmd::SideDocs { .. })
            | Command::LongTerm(req, LongTermCmd::Document { .. })
            | Command::LongTerm(req, LongTermCmd::Collections { .. })
            | Command::LongTerm(req, LongTermCmd::ListDocuments { .. }) => *req,
            _ => unreachable!(),
        })
        .expect("request")
}

fn s(x: &str) -> FsValue {
    FsValue::String(x.into())
}

fn conv(id: &str, title: &str, user: &str, updated: i64, n: i64) -> Conversation {
    Conversation::from_doc(Document {
        path: format!("conversations/{id}"),
        fields: vec![
            ("agent_id".into(), s("agent-support")),
            ("message_count".into(), FsValue::Int(n)),
            ("title".into(), s(title)),
            ("updated_at".into(), FsValue::Timestamp(Ts { secs: updated, nanos: 0 })),
            ("user".into(), FsValue::Reference(format!("users/{user}"))),
            ("user_id".into(), s(user)),
        ],
        update_time: None,
    })
}

fn msg(conv: &str, id: &str, role: &str, content: &str, ts: FsValue) -> Message {
    Message::from_doc(Document {
        path: format!("conversations/{conv}/messages/{id}"),
        fields: vec![("content".into(), s(content)), ("role".into(), s(role)), ("timestamp".into(), ts)],
        update_time: None,
    })
}

fn loaded() -> App {
    let (mut app, cmds) = app();
    let list = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Conversations { .. })));
    let count = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Count { .. })));
    let items = vec![
        conv("conv-0003", "refund for order 1182", "u-alice", NOW - 120, 5),
        conv("conv-0002", "日本語のタイトル — wide", "u-chen", NOW - 7200, 3),
        conv("conv-0001", "\u{1b}[2Jhostile title", "u-bob", NOW - 90_000, 2),
    ];
    app.update(Msg::Backend(BackendEvent::LongTerm(
        list,
        LongTermReply::Conversations(Ok(Page { items, next: None })),
    )));
    app.update(Msg::Backend(BackendEvent::LongTerm(count, LongTermReply::Count(Ok(3), None))));
    app
}

#[test]
fn conversation_list() {
    insta::assert_snapshot!(screen(&loaded()));
}

/// Conversations whose titles repeat are told apart by their id; a unique title stands alone.
#[test]
fn repeated_titles_show_their_ids() {
    let (mut app, cmds) = app();
    let list = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Conversations { .. })));
    let items = vec![
        conv("thread-a", "Plan a trip", "u-alice", NOW - 120, 5),
        conv("thread-b", "Plan a trip", "u-bob", NOW - 240, 3),
        conv("thread-c", "Something else", "u-chen", NOW - 360, 2),
    ];
    app.update(Msg::Backend(BackendEvent::LongTerm(
        list,
        LongTermReply::Conversations(Ok(Page { items, next: None })),
    )));
    let s = screen(&app);
    assert!(s.contains("Plan a trip · thread-a") && s.contains("Plan a trip · thread-b"), "{s}");
    assert!(s.contains("Something else ") && !s.contains("Something else · "), "{s}");
}

/// What the layout passed over is said beside the count, never left out in silence.
#[test]
fn conversation_list_says_what_it_passed_over() {
    let (mut app, cmds) = app();
    let list = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Conversations { .. })));
    let count = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Count { .. })));
    let items = vec![conv("conv-0003", "refund for order 1182", "u-alice", NOW - 120, 5)];
    app.update(Msg::Backend(BackendEvent::LongTerm(
        list,
        LongTermReply::Conversations(Ok(Page { items, next: None })),
    )));
    let note = "passed over 10200 lists under `*` that hold no LlamaIndex messages".to_string();
    app.update(Msg::Backend(BackendEvent::LongTerm(count, LongTermReply::Count(Ok(1), Some(note)))));
    let s = screen(&app);
    assert!(s.contains("1 conversations (passed over 10200 lists under `*`"), "{s}");
}

#[test]
fn conversation_list_error_retrying() {
    let (mut app, cmds) = app();
    let list = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Conversations { .. })));
    let e = StoreError::Server("FAILED_PRECONDITION: The query requires an index. You can create it here: https://console.firebase.google.com/v1/r/project/p/firestore/indexes?create_composite=abc".into());
    app.update(Msg::Backend(BackendEvent::LongTerm(list, LongTermReply::Conversations(Err(e)))));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn thread_with_mixed_timestamps_long_message_and_side_panel() {
    let mut app = loaded();
    let cmds = key(&mut app, KeyCode::Enter);
    let mreq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { .. })));
    let long: String = (0..40).map(|i| format!("line {i} of a long tool output\n")).collect();
    let items = vec![
        msg(
            "conv-0003",
            "m1",
            "user",
            "I was charged twice for order 1182.",
            FsValue::Timestamp(Ts { secs: NOW - 400, nanos: 0 }),
        ),
        msg(
            "conv-0003",
            "m2",
            "assistant",
            "Checking:\n```python\nprint(charges)\n```\nDone.",
            s("2025-11-23T21:50:00.500000"),
        ),
        msg("conv-0003", "m3", "tool", &long, FsValue::Timestamp(Ts { secs: NOW - 300, nanos: 0 })),
        msg(
            "conv-0003",
            "m4",
            "system",
            "escape \u{1b}]0;title\u{7} shown",
            FsValue::Timestamp(Ts { secs: NOW - 200, nanos: 0 }),
        ),
    ];
    let more =
        app.update(Msg::Backend(BackendEvent::LongTerm(mreq, LongTermReply::Messages(Ok(Page { items, next: None })))));
    assert!(
        !more.iter().any(|c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { .. }))),
        "no next page: the stream stops"
    );
    assert!(
        matches!(&more[..], [Command::Memory(_, MemoryCmd::Badges { ids, .. })] if ids.len() == 4),
        "then the badges: {more:?}"
    );
    key(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!("thread", screen(&app));
    let cmds = key(&mut app, KeyCode::Char('i'));
    let dreq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::SideDocs { .. })));
    let user = Document {
        path: "users/u-alice".into(),
        fields: vec![("name".into(), s("Alice")), ("home".into(), FsValue::GeoPoint { lat: 51.5, lng: -0.12 })],
        update_time: None,
    };
    app.update(Msg::Backend(BackendEvent::LongTerm(
        dreq,
        LongTermReply::Documents(Ok(vec![
            ("conversations/conv-0003".into(), Some(app.conversations.thread.as_ref().unwrap().conv.doc.clone())),
            ("users/u-alice".into(), Some(user)),
            ("agents/agent-support".into(), None),
        ])),
    )));
    insta::assert_snapshot!("thread_side_panel", screen(&app));
}

#[test]
fn document_browser_field_tree_follows_references() {
    let mut app = loaded();
    let cmds = key(&mut app, KeyCode::Char('b'));
    let creq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Collections { .. })));
    app.update(Msg::Backend(BackendEvent::LongTerm(
        creq,
        LongTermReply::Collections(Ok(vec!["agents".into(), "config".into(), "conversations".into(), "users".into()])),
    )));
    key(&mut app, KeyCode::Char('j'));
    let cmds = key(&mut app, KeyCode::Enter);
    let lreq = req_of(
        &cmds,
        |c| matches!(c, Command::LongTerm(_, LongTermCmd::ListDocuments { collection, .. }) if collection == "config"),
    );
    let doc = Document {
        path: "config/memory".into(),
        fields: vec![
            ("arr".into(), FsValue::Array(vec![FsValue::Int(1), FsValue::Bool(false)])),
            ("bytes".into(), FsValue::Bytes(vec![0xde, 0xad, 0xbe, 0xef])),
            ("inf".into(), FsValue::Double(f64::NEG_INFINITY)),
            (
                "limits".into(),
                FsValue::Map(vec![("max".into(), FsValue::Int(4096)), ("t".into(), FsValue::Double(0.2))]),
            ),
            ("nan".into(), FsValue::Double(f64::NAN)),
            ("none".into(), FsValue::Null),
            ("owner".into(), FsValue::Reference("users/u-alice".into())),
            ("since".into(), FsValue::Timestamp(Ts { secs: NOW, nanos: 0 })),
            ("where".into(), FsValue::GeoPoint { lat: 1.5, lng: 2.5 }),
        ],
        update_time: None,
    };
    app.update(Msg::Backend(BackendEvent::LongTerm(
        lreq,
        LongTermReply::ListDocuments(Ok(Page { items: vec![doc.clone()], next: None })),
    )));
    let cmds = key(&mut app, KeyCode::Enter);
    let dreq = req_of(
        &cmds,
        |c| matches!(c, Command::LongTerm(_, LongTermCmd::Document { path, .. }) if path == "config/memory"),
    );
    app.update(Msg::Backend(BackendEvent::LongTerm(
        dreq,
        LongTermReply::Documents(Ok(vec![("config/memory".into(), Some(doc))])),
    )));
    insta::assert_snapshot!("document_tree", screen(&app));
    // The reference row: Enter follows it to users/u-alice.
    for _ in 0..10 {
        key(&mut app, KeyCode::Char('j'));
    }
    let cmds = key(&mut app, KeyCode::Enter);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::LongTerm(_, LongTermCmd::Document { path, .. }) if path == "users/u-alice")),
        "{cmds:?}"
    );
    // Esc walks back: document, then the collection.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    assert!(matches!(
        app.conversations.browser.stack.last(),
        Some(memscope::tabs::conversations::BrowserLevel::Documents { .. })
    ));
}

#[test]
fn a_failed_thread_page_is_retried_with_backoff() {
    let mut app = loaded();
    let cmds = key(&mut app, KeyCode::Enter);
    let mreq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { .. })));
    let e = StoreError::Unreachable("transport error".into());
    app.update(Msg::Backend(BackendEvent::LongTerm(mreq, LongTermReply::Messages(Err(e)))));
    assert!(app.conversations.thread.as_ref().unwrap().error.is_some());
    assert!(app.update(Msg::Tick(500)).is_empty(), "not before the backoff");
    let again = app.update(Msg::Tick(1_000));
    assert!(matches!(&again[..], [Command::LongTerm(_, LongTermCmd::Messages { after: None, .. })]), "{again:?}");
}

#[test]
fn opening_a_message_by_id_selects_it_once_streamed() {
    let mut app = loaded();
    let mut cx = memscope::tabs::Cx::after(1000);
    let cmds = app.conversations.open_message("conv-0009", Some("m2"), &mut cx);
    let mreq = req_of(
        &cmds,
        |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { conversation, .. }) if conversation == "conv-0009"),
    );
    let dreq = req_of(
        &cmds,
        |c| matches!(c, Command::LongTerm(_, LongTermCmd::SideDocs { paths, .. }) if paths == &vec!["conversations/conv-0009".to_string()]),
    );
    let items = vec![
        msg("conv-0009", "m1", "user", "first", FsValue::Timestamp(Ts { secs: NOW - 30, nanos: 0 })),
        msg("conv-0009", "m2", "assistant", "second", FsValue::Timestamp(Ts { secs: NOW - 20, nanos: 0 })),
    ];
    app.update(Msg::Backend(BackendEvent::LongTerm(mreq, LongTermReply::Messages(Ok(Page { items, next: None })))));
    app.update(Msg::Backend(BackendEvent::LongTerm(
        dreq,
        LongTermReply::Documents(Ok(vec![(
            "conversations/conv-0009".into(),
            Some(conv("conv-0009", "found by search", "u-bob", NOW, 2).doc),
        )])),
    )));
    let t = app.conversations.thread.as_ref().unwrap();
    assert_eq!(t.selected, 1, "the target message is selected");
    assert_eq!(t.conv.title.as_deref(), Some("found by search"), "the document fills the header");
}

#[test]
fn thread_tier_badges_and_trace_panel_with_ttl_countdown() {
    use memscope::message::MemoryReply;
    use memscope::trace::{Badges, Neighbour, RedisEntry, Trace, VectorTrace};
    let mut app = loaded();
    let cmds = key(&mut app, KeyCode::Enter);
    let mreq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { .. })));
    let at = |d: i64| FsValue::Timestamp(Ts { secs: NOW - d, nanos: 0 });
    let items = vec![
        msg("conv-0003", "m1", "user", "I was charged twice for order 1182.", at(400)),
        msg("conv-0003", "m2", "assistant", "I can see two charges; refunding the second one now.", at(300)),
        msg("conv-0003", "m3", "user", "thanks!", at(200)),
    ];
    let cmds =
        app.update(Msg::Backend(BackendEvent::LongTerm(mreq, LongTermReply::Messages(Ok(Page { items, next: None })))));
    let breq = match &cmds[..] {
        [Command::Memory(req, MemoryCmd::Badges { conversation, ids })] => {
            assert_eq!((conversation.as_str(), ids.len()), ("conv-0003", 3));
            *req
        }
        other => panic!("{other:?}"),
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    let badges = Badges { redis: Some(set(&["m2", "m3"])), vector: Some(set(&["m1"])), errors: vec![] };
    app.update(Msg::Backend(BackendEvent::Memory(breq, MemoryReply::Badges(Box::new(badges)))));
    insta::assert_snapshot!("thread_badges", screen(&app));

    key(&mut app, KeyCode::Char('j'));
    let cmds = key(&mut app, KeyCode::Char('t'));
    let treq = match &cmds[..] {
        [Command::Memory(req, MemoryCmd::Trace { conversation, message })]
            if conversation == "conv-0003" && message == "m2" =>
        {
            *req
        }
        other => panic!("{other:?}"),
    };
    app.update(Msg::Tick(10_000));
    let doc = app.conversations.thread.as_ref().unwrap().messages[1].doc.clone();
    let mut md = Metadata::new();
    md.insert("conversation_id".into(), "conv-0003".into());
    md.insert("message_id".into(), "m2".into());
    md.insert("role".into(), "assistant".into());
    md.insert("user_id".into(), "u-mallory".into());
    let trace = Trace {
        conversation: "conv-0003".into(),
        message: "m2".into(),
        path: doc.path.clone(),
        document: Ok(Some(doc)),
        redis: Some(Ok(vec![
            RedisEntry {
                key: "conversation:conv-0003:messages".into(),
                role: "recent list",
                holds: true,
                detail: "entry 1 of 2 (newest last) · agrees with long-term".into(),
                pttl_ms: -1,
            },
            RedisEntry {
                key: "session:conv-0003".into(),
                role: "session",
                holds: false,
                detail: "last_message_id=m3 · user_id=u-alice".into(),
                pttl_ms: 1_800_000,
            },
            RedisEntry {
                key: "cache:doc:conversations/conv-0003/messages/m2".into(),
                role: "read-through cache",
                holds: false,
                detail: "not cached (read from long-term on demand)".into(),
                pttl_ms: -2,
            },
        ])),
        vector: Some(Ok(VectorTrace {
            namespace: String::new(),
            relevant: true,
            record: Some((384, md)),
            disagreements: vec!["user_id: index \"u-mallory\" ≠ \"u-alice\"".into()],
            neighbours: vec![Neighbour {
                id: "m-77".into(),
                score: 0.912,
                conversation_id: Some("conv-0042".into()),
                text: "Refund issued for the duplicate charge.".into(),
            }],
        })),
        elapsed_ms: 7,
    };
    app.update(Msg::Backend(BackendEvent::Memory(treq, MemoryReply::Trace(Box::new(trace)))));
    // The TTL counts down from when the trace was read.
    app.update(Msg::Tick(75_000));
    let s = screen(&app);
    // The badges follow the trace, the newer reading: m2 has a vector now, no `[V!]` beside it.
    let m2 = s.lines().find(|l| l.contains("▶ assistant")).unwrap_or_default();
    assert!(m2.contains("[V]") && !m2.contains("[V!]"), "{m2}");
    insta::assert_snapshot!("thread_trace", s);
    // The panel follows the selection; Esc closes it before leaving the thread.
    let cmds = key(&mut app, KeyCode::Char('j'));
    assert!(matches!(&cmds[..], [Command::Memory(_, MemoryCmd::Trace { message, .. })] if message == "m3"), "{cmds:?}");
    key(&mut app, KeyCode::Esc);
    assert!(app.conversations.thread.as_ref().is_some_and(|t| t.trace.is_none()));
}

/// Draw a frame the way the TUI does: the geometry it drew goes back to the app.
fn frame(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(110, 30)).unwrap();
    let mut g = None;
    t.draw(|f| g = Some(memscope::ui::draw(f, app))).unwrap();
    app.update(Msg::Layout(g.unwrap()));
    format!("{}", t.backend())
}

/// Paging without gaps: PgDn through an opened-out long message shows every line, pages
/// overlapping by one; `G` fills the screen with the thread's end; `n` says which match.
#[test]
fn paging_a_long_message_has_no_gaps() {
    let mut app = loaded();
    let cmds = key(&mut app, KeyCode::Enter);
    let mreq = req_of(&cmds, |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { .. })));
    let long: String = (1..=120).map(|i| format!("row {i:03} of a long tool output\n")).collect();
    let mut items = vec![msg("conv-0003", "m00", "tool", &long, FsValue::Timestamp(Ts { secs: NOW - 900, nanos: 0 }))];
    for i in 1..30 {
        let t = FsValue::Timestamp(Ts { secs: NOW - 800 + i, nanos: 0 });
        items.push(msg("conv-0003", &format!("m{i:02}"), "user", &format!("short {i:02}"), t));
    }
    app.update(Msg::Backend(BackendEvent::LongTerm(mreq, LongTermReply::Messages(Ok(Page { items, next: None })))));
    key(&mut app, KeyCode::Char('e')); // open out the long message
    let rows_of = |s: &str| -> Vec<u32> {
        s.match_indices("row ").filter_map(|(i, _)| s.get(i + 4..i + 7)?.parse().ok()).collect()
    };
    let mut seen: Vec<u32> = rows_of(&frame(&mut app));
    let mut prev_last = *seen.last().unwrap();
    for _ in 0..20 {
        key(&mut app, KeyCode::PageDown);
        let s = frame(&mut app);
        let rows = rows_of(&s);
        if rows.is_empty() {
            break;
        }
        assert!(rows[0] <= prev_last, "a gap after row {prev_last}: the next page starts at {}\n{s}", rows[0]);
        prev_last = *rows.last().unwrap();
        seen.extend(rows);
        if prev_last == 120 {
            break;
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, (1..=120).collect::<Vec<_>>(), "every row shown");
    // G: the end of the thread fills the screen.
    key(&mut app, KeyCode::Char('G'));
    let s = frame(&mut app);
    assert!(s.contains("short 29") && s.contains("short 23"), "the last messages, the screen full:\n{s}");
    // n / N say which match: "match k of N".
    key(&mut app, KeyCode::Char('g'));
    key(&mut app, KeyCode::Char('/'));
    for c in "short 2".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let said = |app: &App| app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(said(&app).contains("match 1 of 10 messages"), "{}", said(&app));
    key(&mut app, KeyCode::Char('n'));
    assert!(said(&app).contains("match 2 of 10 messages"), "{}", said(&app));
}
