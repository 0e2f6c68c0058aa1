//! The Conversations tab through the real App and backend: data from a real store, and a
//! store that is down.

use crate::support::Harness;
use crossterm::event::KeyCode;
use memscope::config::{Config, LongTermConfig};
use memscope::domain::ConnState;
use memscope::message::MemoryCmd;

fn config(lt: LongTermConfig) -> Config {
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.long_term = Some(lt);
    cfg
}

#[tokio::test]
async fn emulator_down_is_shown_and_retried_with_backoff() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = config(LongTermConfig::Firestore {
        project_id: "down".into(),
        database_id: "(default)".into(),
        emulator_host: Some(format!("127.0.0.1:{port}")),
    });
    let mut h = Harness::new(cfg);
    h.until(20, "error shown", |a| a.conversations.error.is_some()).await;
    let first = h.app.conversations.error.clone().unwrap();
    // The connect task, not a request that found it still connecting, says the tier is down.
    h.until(30, "tier down", |a| matches!(a.long_term.state, ConnState::Down(_))).await;
    // Retried with backoff, no key pressed.
    h.until(20, "retried", |a| a.conversations.error.as_ref().is_some_and(|e| e.attempt > first.attempt)).await;
}

#[tokio::test]
async fn sqlite_store_through_the_backend_list_thread_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let store = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    memscope::demo::seed_long_term(&store, 20, 1_763_900_000).await.unwrap();
    let mut h = Harness::new(config(LongTermConfig::Sqlite { path }));
    h.until(10, "list", |a| a.conversations.convs.len() == 20 && a.conversations.count == Some(20)).await;
    assert_eq!(h.app.conversations.convs[0].id, "conv-0020");
    h.key(KeyCode::Enter);
    h.until(10, "thread", |a| a.conversations.thread.as_ref().is_some_and(|t| t.done)).await;
    let t = h.app.conversations.thread.as_ref().unwrap();
    assert!(t.messages.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    h.key(KeyCode::Esc);
    h.keys("/");
    h.keys("user:u-alice");
    h.key(KeyCode::Enter);
    h.until(10, "filtered", |a| a.conversations.count == Some(3) && a.conversations.convs.len() == 3).await;
    assert!(h.app.conversations.convs.iter().all(|c| c.user_id.as_deref() == Some("u-alice")));
}

/// Badges, trace and the audit view through the real backend: SQLite long-term store, a
/// private redis-server, the embedded vector index and the local model.
#[tokio::test]
async fn badges_trace_and_audit_repair_through_the_backend() {
    use memscope::config::{EmbeddingConfig, RedisConfig, VectorConfig};
    use memscope::memory::{Memory, NewMessage};
    let model = crate::support::model_dir();
    let redis = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut cfg = config(LongTermConfig::Sqlite { path: format!("{d}/m.db") });
    cfg.redis = Some(RedisConfig::new(redis.url()));
    cfg.vector = Some(VectorConfig::local(Some(format!("{d}/v.db"))));
    cfg.embedding = Some(EmbeddingConfig {
        provider: "local".into(),
        model: None,
        base_url: None,
        model_dir: Some(model),
        dimensions: None,
        api_key: None,
    });
    cfg.read_only = false;
    cfg.memory.recent_messages = 2;
    // Seed through the layer, as an agent would.
    {
        let mem = Memory::from_config(&cfg, true).await.unwrap();
        for (i, (role, content)) in [
            ("user", "My parcel never arrived, can I get a refund?"),
            ("assistant", "I am sorry about that. I have opened a refund for your order."),
            ("user", "thanks!"),
        ]
        .into_iter()
        .enumerate()
        {
            let m = NewMessage {
                conversation_id: "c1".into(),
                message_id: Some(format!("m{}", i + 1)),
                user_id: "u-alice".into(),
                role: role.into(),
                content: content.into(),
                timestamp: Some(memscope::domain::Ts { secs: 1_763_900_000 + i as i64, nanos: 0 }),
                agent_id: Some("agent-support".into()),
            };
            mem.save_message("c1", m, "u-alice").await.unwrap();
        }
    }
    let mut h = Harness::new(cfg);
    h.keys("1");
    h.until(20, "list", |a| a.conversations.convs.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(20, "badges", |a| a.conversations.thread.as_ref().is_some_and(|t| t.badges.is_some())).await;
    let t = h.app.conversations.thread.as_ref().unwrap();
    let marks: Vec<_> = (0..3).map(|i| h.app.conversations.marks(t, i)).collect();
    assert_eq!(marks.iter().map(|m| m.redis).collect::<Vec<_>>(), [Some(false), Some(true), Some(true)]);
    assert_eq!(marks.iter().map(|m| m.vector).collect::<Vec<_>>(), [Some(true), Some(true), Some(false)]);
    assert_eq!(marks.iter().map(|m| m.relevant).collect::<Vec<_>>(), [true, true, false], "`thanks!` is too short");

    // Trace the first message; the panel follows the selection.
    h.keys("t");
    h.until(20, "trace", |a| a.conversations.thread.as_ref().unwrap().trace.as_ref().unwrap().result.is_some()).await;
    let tr = h.app.conversations.thread.as_ref().unwrap().trace.as_ref().unwrap().result.clone().unwrap();
    assert_eq!(tr.message, "m1");
    assert!(matches!(tr.document, Ok(Some(_))));
    let vt = tr.vector.unwrap().unwrap();
    assert_eq!(vt.record.as_ref().map(|r| r.0), Some(384));
    assert_eq!(vt.neighbours.first().map(|n| n.id.as_str()), Some("c1#m2"), "{:?}", vt.neighbours);
    assert!(!tr.redis.unwrap().unwrap()[0].holds, "m1 fell out of the 2-entry recent list");
    h.keys("j");
    h.until(20, "trace follows", |a| {
        let v = a.conversations.thread.as_ref().unwrap().trace.as_ref().unwrap();
        v.message == "m2" && v.result.as_ref().is_some_and(|r| r.message == "m2")
    })
    .await;
    // `r` reads the trace and the badges again.
    let sent = h.sent.len();
    h.keys("r");
    let again: Vec<_> = h.sent[sent..].iter().collect();
    assert!(
        again.iter().any(
            |c| matches!(c, memscope::message::Command::Memory(_, MemoryCmd::Trace { message, .. }) if message == "m2")
        ),
        "{again:?}"
    );
    assert!(
        again.iter().any(|c| matches!(c, memscope::message::Command::Memory(_, MemoryCmd::Badges { .. }))),
        "{again:?}"
    );
    h.until(20, "trace read again", |a| {
        let v = a.conversations.thread.as_ref().unwrap().trace.as_ref().unwrap();
        !v.req.waiting() && v.result.is_some()
    })
    .await;
    h.key(KeyCode::Esc);
    assert!(h.app.conversations.thread.as_ref().unwrap().trace.is_none(), "Esc closes the trace first");

    // Drift behind the layer's back (an entry of the recent list lost), then `:audit`.
    let mut rc = crate::support::client(&redis);
    redis::cmd("LPOP").arg("conversation:c1:messages").exec(&mut rc).unwrap();
    h.keys(":");
    h.keys("audit");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.tab, memscope::app::TabId::Health);
    let done = |a: &memscope::app::App| a.health.audit.as_ref().is_some_and(|v| !v.running() && v.report.is_some());
    h.until(30, "audit", done).await;
    let rep = h.app.health.audit.as_ref().unwrap().report.clone().unwrap();
    assert_eq!(rep.drift(), 1, "{:#?}", rep.findings);
    assert_eq!(rep.counts.get(&memscope::audit::Kind::RecentMissing), Some(&1));
    // Repair: refused in read-only mode (nothing sent), then write mode and `y`.
    let sent = h.sent.len();
    h.keys("R");
    assert_eq!(h.sent.len(), sent, "read-only: nothing sent");
    assert!(h.app.status.as_ref().unwrap().text.contains("read-only"));
    h.keys("W");
    h.keys("R");
    assert!(matches!(h.app.popup, Some(memscope::app::Popup::Confirm { .. })));
    h.keys("y");
    h.until(30, "repair", done).await;
    let fixed = h.app.health.audit.as_ref().unwrap().report.clone().unwrap();
    assert_eq!(fixed.repaired.get(&memscope::audit::Kind::RecentMissing), Some(&1), "{fixed:#?}");
    let items: Vec<String> =
        redis::cmd("LRANGE").arg("conversation:c1:messages").arg(0).arg(-1).query(&mut rc).unwrap();
    assert_eq!(items.len(), 2, "the list is rebuilt");
    h.keys("r");
    h.until(30, "re-audit", done).await;
    assert_eq!(h.app.health.audit.as_ref().unwrap().report.as_ref().unwrap().drift(), 0);
    h.key(KeyCode::Esc);
    assert!(h.app.health.audit.is_none());
}

/// `/` with words of a title finds them anywhere in it, in any case, newest first, on both
/// stores (no store can query a substring: the reader filters newest-first pages); the AGENT
/// column shows whose conversation it is.
#[tokio::test]
async fn title_search_is_a_case_insensitive_substring_and_agents_are_shown() {
    use memscope::domain::FsValue;
    use memscope::store::LongTermStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let project = crate::support::project_id("title_search");
    let emu = crate::support::firestore_emulator();
    let sqlite = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    let fs = memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap();
    let titles = [
        ("c1", "Kubernetes crash loop", "agent-coder"),
        ("c2", "refund", "agent-support"),
        ("c3", "the CRASH report", "agent-coder"),
    ];
    for s in [&sqlite as &dyn LongTermStore, &fs] {
        for (i, (id, title, agent)) in titles.iter().enumerate() {
            let t = FsValue::Timestamp(memscope::domain::Ts { secs: 1_763_900_000 + i as i64 * 60, nanos: 0 });
            s.put(
                &format!("conversations/{id}"),
                vec![
                    ("title".into(), FsValue::String(title.to_string())),
                    ("user_id".into(), FsValue::String("u-alice".into())),
                    ("agent_id".into(), FsValue::String(agent.to_string())),
                    ("updated_at".into(), t),
                ],
            )
            .await
            .unwrap();
        }
    }
    let configs = [
        config(LongTermConfig::Sqlite { path }),
        config(LongTermConfig::Firestore {
            project_id: project.clone(),
            database_id: "(default)".into(),
            emulator_host: Some(emu.host.clone()),
        }),
    ];
    for cfg in configs {
        let mut h = Harness::new(cfg);
        h.until(15, "list", |a| a.conversations.convs.len() == 3).await;
        let screen = crate::support::screen_of(&h.app, 140, 20);
        assert!(screen.contains("AGENT") && screen.contains("agent-coder"), "{screen}");
        h.keys("/");
        h.keys("crash");
        h.key(KeyCode::Enter);
        h.until(15, "filtered", |a| a.conversations.count == Some(2) && a.conversations.convs.len() == 2).await;
        let ids: Vec<&str> = h.app.conversations.convs.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c3", "c1"], "any case, anywhere in the title, newest first");
    }
}

/// One pager for everything that is long: a 400-line message reads to its last line (PgDn used
/// to jump to the next message), searched with the match counted and highlighted; the help
/// scrolls at 80x24; the alerts open whole.
#[tokio::test]
async fn long_things_open_whole_in_the_pager() {
    use memscope::app::Popup;
    use memscope::domain::FsValue;
    use memscope::store::LongTermStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let s = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    let t = |secs: i64| FsValue::Timestamp(memscope::domain::Ts { secs, nanos: 0 });
    let body: Vec<String> = (0..400).map(|i| format!("line {i} of the stack trace")).collect();
    let body = format!("{}\nthe root cause is a NullPointer\n{}", body.join("\n"), "tail \x1b[31m red");
    s.put(
        "conversations/c1",
        vec![("title".into(), FsValue::String("crash".into())), ("updated_at".into(), t(1_763_900_000))],
    )
    .await
    .unwrap();
    s.put(
        "conversations/c1/messages/m1",
        vec![
            ("role".into(), FsValue::String("user".into())),
            ("content".into(), FsValue::String(body)),
            ("timestamp".into(), t(1_763_900_000)),
        ],
    )
    .await
    .unwrap();
    let mut h = Harness::new(config(LongTermConfig::Sqlite { path }));
    h.until(10, "list", |a| a.conversations.convs.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(10, "thread", |a| a.conversations.thread.as_ref().is_some_and(|t| t.done)).await;
    h.keys("o");
    assert!(matches!(h.app.popup, Some(Popup::Pager(_))));
    let (w, ht) = h.app.size;
    h.key(KeyCode::End);
    let screen = crate::support::screen_of(&h.app, w, ht);
    assert!(screen.contains("tail \\x1b[31m red"), "the last line, escapes made visible: {screen}");
    assert!(screen.contains("line 399 of the stack trace") || ht < 6, "{screen}");
    h.keys("g/nullpointer");
    h.key(KeyCode::Enter);
    let screen = crate::support::screen_of(&h.app, w, ht);
    assert!(screen.contains("match 1/1") && screen.contains("the root cause is a NullPointer"), "{screen}");
    h.key(KeyCode::Esc);
    assert!(h.app.popup.is_none(), "Esc closes the pager, back to the thread");
    assert!(h.app.conversations.thread.is_some());
    // `/` in the thread: the message opened out, the match highlighted, a deep one said.
    h.keys("/");
    h.keys("NullPointer");
    h.key(KeyCode::Enter);
    assert!(h.app.conversations.thread.as_ref().unwrap().expanded.contains(&0));
    let status = h.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.contains("match 1 of 1 messages · on line 401 of this one"), "{status}");
    let screen = crate::support::screen_of(&h.app, w, ht);
    assert!(
        screen.contains("the root cause is a NullPointer") && screen.contains("· line 399 of"),
        "scrolled to it: {screen}"
    );
    // PgUp/PgDn read the long message page by page before moving on.
    h.key(KeyCode::PageUp);
    let inner = h.app.conversations.thread.as_ref().unwrap().inner;
    assert!(inner > 0 && inner < 398, "{inner}");
    h.key(KeyCode::Home);
    assert_eq!(h.app.conversations.thread.as_ref().unwrap().inner, 0);
    h.key(KeyCode::PageDown);
    let inner = h.app.conversations.thread.as_ref().unwrap().inner;
    assert!(inner > 0, "PgDn scrolls inside the long message");
    let screen = crate::support::screen_of(&h.app, w, ht);
    assert!(screen.contains(&format!("· line {} of", inner + 1)), "{screen}");

    // The help at 80x24: it scrolls to its last line.
    h.app.update(memscope::app::Msg::Resize(80, 24));
    h.keys("?");
    h.key(KeyCode::End);
    let screen = crate::support::screen_of(&h.app, 80, 24);
    assert!(screen.contains("config.example.toml [keymap]"), "{screen}");
    h.key(KeyCode::Esc);
    // The alerts, whole.
    h.keys("4");
    h.keys("o");
    let screen = crate::support::screen_of(&h.app, 80, 24);
    assert!(screen.contains("alerts (") && screen.contains("no alerts"), "{screen}");
}

/// The conversation list stays live: a conversation written elsewhere appears on its own
/// (marked new), the count follows, and the selection stays on its conversation.
#[tokio::test]
async fn the_conversation_list_stays_live() {
    use memscope::domain::FsValue;
    use memscope::store::LongTermStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let s = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    let put = |id: &'static str, secs: i64| {
        let s = &s;
        async move {
            let t = FsValue::Timestamp(memscope::domain::Ts { secs, nanos: 0 });
            s.put(
                &format!("conversations/{id}"),
                vec![("title".into(), FsValue::String(id.into())), ("updated_at".into(), t)],
            )
            .await
            .unwrap();
        }
    };
    put("c1", 1_763_900_000).await;
    put("c2", 1_763_900_060).await;
    put("c3", 1_763_900_120).await;
    let mut h = Harness::new(config(LongTermConfig::Sqlite { path }));
    h.until(10, "list", |a| a.conversations.convs.len() == 3 && a.conversations.count == Some(3)).await;
    h.keys("j");
    assert_eq!(h.app.conversations.convs[h.app.conversations.selected].id, "c2");
    put("c4", 1_763_900_180).await;
    h.until(15, "the live refresh", |a| a.conversations.convs.len() == 4 && a.conversations.count == Some(4)).await;
    let c = &h.app.conversations;
    assert_eq!(c.convs[0].id, "c4", "newest first");
    assert_eq!(c.convs[c.selected].id, "c2", "the selection stays on its conversation");
    assert!(c.fresh.contains("c4") && c.fresh.len() == 1);
    let screen = crate::support::screen_of(&h.app, 140, 20);
    assert!(screen.contains("+ c4"), "{screen}");
}

/// An open thread, read to its end, shows messages that arrive later on its own, in their
/// place and marked new; a reader at the end follows them.
#[tokio::test]
async fn an_open_thread_stays_live() {
    use memscope::domain::FsValue;
    use memscope::store::LongTermStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let s = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    let t = |secs: i64| FsValue::Timestamp(memscope::domain::Ts { secs, nanos: 0 });
    s.put(
        "conversations/c1",
        vec![("title".into(), FsValue::String("c1".into())), ("updated_at".into(), t(1_763_900_000))],
    )
    .await
    .unwrap();
    let msg = |id: &str, secs: i64| {
        (
            format!("conversations/c1/messages/{id}"),
            vec![
                ("role".into(), FsValue::String("user".into())),
                ("content".into(), FsValue::String(format!("message {id}"))),
                ("timestamp".into(), t(secs)),
            ],
        )
    };
    for (p, f) in [msg("m1", 1_763_900_000), msg("m2", 1_763_900_060)] {
        s.put(&p, f).await.unwrap();
    }
    let mut h = Harness::new(config(LongTermConfig::Sqlite { path }));
    h.until(10, "list", |a| a.conversations.convs.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(10, "thread", |a| a.conversations.thread.as_ref().is_some_and(|t| t.done && t.messages.len() == 2)).await;
    h.keys("G");
    let (p, f) = msg("m3", 1_763_900_120);
    s.put(&p, f).await.unwrap();
    h.until(20, "the new message", |a| a.conversations.thread.as_ref().is_some_and(|t| t.messages.len() == 3)).await;
    let th = h.app.conversations.thread.as_ref().unwrap();
    let ids: Vec<&str> = th.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert!(th.fresh.contains("m3") && th.fresh.len() == 1);
    assert_eq!(th.selected, 2, "a reader at the end follows");
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains("· new"), "{screen}");
}
