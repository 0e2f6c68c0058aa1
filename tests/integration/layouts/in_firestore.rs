//! Layouts the frameworks keep in Firestore (and SQLite), detect, overrides and two sources.
//! Why ~630 lines: each test is one framework's fixture end to end (list, thread, browser,
//! detect's pasted lines); splitting them further would scatter one framework's checks.

use super::*;

/// langchain-google-firestore: `ChatHistory/{session}` documents holding a `messages` array of
/// JSON bytes (or strings with encode_message=False), read from SQLite and from the emulator.
#[tokio::test]
async fn langchain_firestore() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langchain-firestore").await;
    let project = crate::support::project_id("layout_langchain_firestore");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    load_documents(&fs, "langchain-firestore").await;
    let layout = "[profile.p.layout]\npreset = \"langchain-firestore\"\n";
    let configs = [
        format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n{layout}", db.display()),
        format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n{layout}"),
    ];
    for body in configs {
        let c = config(dir.path(), &body);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
            .args(["--config", &c, "conversations", "--json"])
            .env("FIRESTORE_EMULATOR_HOST", &emu.host)
            .env_remove("GOOGLE_CLOUD_PROJECT")
            .output()
            .unwrap();
        let convs = lines(&o);
        let ids: Vec<(&str, i64)> =
            convs.iter().map(|x| (x["id"].as_str().unwrap(), x["message_count"].as_i64().unwrap())).collect();
        assert_eq!(ids, [("sess-carol-3", 5), ("sess-dan-4", 1)], "{body}");
        let show = |id: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
                .args(["--config", &c, "show", id, "--json"])
                .env("FIRESTORE_EMULATOR_HOST", &emu.host)
                .env_remove("GOOGLE_CLOUD_PROJECT")
                .output()
                .unwrap()
        };
        assert_langchain_turn(&lines(&show("sess-carol-3")));
        assert_eq!(lines(&show("sess-dan-4"))[0]["content"], "Strings, not bytes.");
    }
}

/// Chats where apps put them: per user (`users/{uid}/chats`, no user document above them) and
/// deep (`agent_memory/prod/chats`), written by langchain-google-firestore. `detect` finds both
/// (the per-user ones as one collection-group place, `users/*/chats`) and its lines read them,
/// as pasted, on Firestore and on SQLite; a same-named collection elsewhere is not mixed in; a
/// conversation is named by its user and session, and shown by that name.
#[tokio::test]
async fn per_user_and_deep_firestore_collections() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langchain-firestore-deep").await;
    let project = crate::support::project_id("layout_langchain_firestore_deep");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    load_documents(&fs, "langchain-firestore-deep").await;
    // Documents of no known layout beside them: named by detect, never passed over in silence.
    let sqlite: Arc<dyn LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(db.to_str().unwrap()).unwrap());
    for s in [&fs, &sqlite] {
        s.put("settings/app", vec![("theme".into(), memscope::domain::FsValue::String("dark".into()))]).await.unwrap();
    }
    drop(sqlite);
    let stores = [
        format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n", db.display()),
        format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n"),
    ];
    let cmd = |c: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
            .arg("--config")
            .arg(c)
            .args(args)
            .env("FIRESTORE_EMULATOR_HOST", &emu.host)
            .env_remove("GOOGLE_CLOUD_PROJECT")
            .output()
            .unwrap()
    };
    for store in stores {
        let c = config(dir.path(), &store);
        let out = cmd(&c, &["detect", "--json"]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let places: Vec<(&str, &str, u64)> = d["found"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["layout"].as_str().unwrap(), x["at"].as_str().unwrap(), x["conversations"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            places,
            [
                ("langchain-firestore", "users/*/chats", 3),
                ("langchain-firestore", "agent_memory/prod/chats", 1),
                ("langchain-firestore", "teams/t1/chats", 1),
            ],
            "{store}"
        );
        assert_eq!(d["unplaced"], serde_json::json!(["settings"]), "{store}");
        let text = String::from_utf8(cmd(&c, &["detect"]).stdout).unwrap();
        assert!(text.contains("not placed (documents of no known layout): settings"), "{text}");
        let lines_of = |at: &str| {
            d["found"].as_array().unwrap().iter().find(|x| x["at"] == at).unwrap()["config"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let read = |at: &str| config(dir.path(), &format!("{store}[profile.p.layout]\n{}\n", lines_of(at)));
        let c = read("users/*/chats");
        let convs = lines(&cmd(&c, &["conversations", "--json"]));
        let ids: Vec<(&str, i64)> =
            convs.iter().map(|x| (x["id"].as_str().unwrap(), x["message_count"].as_i64().unwrap())).collect();
        assert_eq!(ids, [("bob@example.com/s1", 2), ("u-ada/s1", 2), ("u-ada/s2", 2)], "{store}");
        let m = lines(&cmd(&c, &["show", "u-ada/s2", "--json"]));
        assert_eq!(role_content(&m), [("user", "Cancel it."), ("assistant", "Done: Cancel it.")]);
        let out = cmd(&c, &["show", "s2"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("one `/`-separated part per `*`"), "{out:?}");
        let c = read("agent_memory/prod/chats");
        let convs = lines(&cmd(&c, &["conversations", "--json"]));
        assert_eq!(convs.len(), 1);
        assert_eq!(lines(&cmd(&c, &["show", "ops-1", "--json"]))[0]["content"], "Deep path.");
    }
    // A `*` where a collection's name must be is a configuration error naming the line.
    let c = config(dir.path(), "[profile.p.layout]\npreset = \"langchain-firestore\"\ncollection = \"users/*\"\n");
    let out = cmd(&c, &["conversations"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ends with a collection's name"), "{out:?}");
}

/// `memscope detect` names each layout with its count and prints the lines that read it; the
/// Conversations tab, empty under memscope's layout, says what it found and the preset to set.
#[tokio::test]
async fn detect_names_the_layouts_found() {
    let r = crate::support::redis();
    load_redis(&r, "langchain-redis-list");
    load_redis(&r, "llamaindex-redis");
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langchain-firestore").await;
    let c = config(
        dir.path(),
        &format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n",
            r.url(),
            db.display()
        ),
    );
    let out = run(dir.path(), &["--config", &c, "detect", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["capped"].as_bool(), v["keys_sampled"].as_u64()), (Some(false), Some(4)), "{v}");
    let found: Vec<(&str, u64, &str)> = v["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["layout"].as_str().unwrap(), d["conversations"].as_u64().unwrap(), d["at"].as_str().unwrap()))
        .collect();
    assert!(found.contains(&("langchain-redis-list", 2, "message_store:")), "{found:?}");
    assert!(found.contains(&("llamaindex-redis", 2, "*")), "{found:?}");
    assert!(found.contains(&("langchain-firestore", 2, "ChatHistory")), "{found:?}");
    let out = run(dir.path(), &["--config", &c, "detect"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[profile.p.layout]\npreset = \""), "{text}");

    // The tab, under memscope's own layout, finds nothing and says what is there.
    let mut cfg = memscope::config::Config::with_redis(&r.url());
    cfg.long_term = Some(memscope::config::LongTermConfig::Sqlite { path: db.to_str().unwrap().into() });
    let mut h = crate::support::Harness::new(cfg);
    h.until(15, "the suggestion", |a| a.conversations.found.is_some()).await;
    let s = h.app.conversations.found.clone().unwrap();
    assert!(s.contains("found 2 conversations written as") && s.contains("preset = "), "{s}");
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(
        screen.contains("no conversations match") && screen.contains("preset = \"langchain-firestore\""),
        "{screen}"
    );
}

/// The document browser on LangChain's Firestore history: the message bytes read as UTF-8 text
/// (not hex cut at the edge), and Enter opens a value whole, JSON pretty-printed.
#[tokio::test]
async fn the_browser_reads_utf8_bytes_and_opens_values_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langchain-firestore").await;
    let mut cfg = memscope::config::Config::with_redis("redis://127.0.0.1:1/0");
    cfg.long_term = Some(memscope::config::LongTermConfig::Sqlite { path: db.to_str().unwrap().into() });
    let mut h = crate::support::Harness::new(cfg);
    h.keys(":");
    h.keys("docs ChatHistory/sess-carol-3");
    h.key(crossterm::event::KeyCode::Enter);
    // Sent before the store is connected: read again once it is up.
    h.until(10, "the document", |a| {
        matches!(
            a.conversations.browser.stack.last(),
            Some(memscope::tabs::conversations::BrowserLevel::Document { found: Some(true), .. })
        )
    })
    .await;
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains(r#"bytes     "{"content":"You are a travel agent.""#), "{screen}");
    h.keys("jj");
    h.key(crossterm::event::KeyCode::Enter);
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains("ChatHistory/sess-carol-3 · [1]"), "{screen}");
    assert!(screen.contains(r#""content": "What's the weather in Paris? \u001b[31m(red)","#), "{screen}");
    assert!(screen.contains(r#""type": "human""#), "pretty-printed, one member a line: {screen}");
    h.key(crossterm::event::KeyCode::Esc);
    assert!(matches!(
        h.app.conversations.browser.stack.last(),
        Some(memscope::tabs::conversations::BrowserLevel::Document { .. })
    ));
}

/// langgraph-checkpoint-firestore joins thread and namespace with `_`: thread ids holding `@`
/// or `_` are listed, shown and their checkpoints opened, whole.
#[tokio::test]
async fn langgraph_firestore_thread_ids_with_at_and_underscore() {
    let dir = tempfile::tempdir().unwrap();
    let project = crate::support::project_id("layout_langgraph_firestore_ids");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    load_documents(&fs, "langgraph-firestore-ids").await;
    let c = config(
        dir.path(),
        &format!(
            "[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n[profile.p.layout]\npreset = \"langgraph-firestore\"\n"
        ),
    );
    let convs = lines(&run_fs(&c, emu, &["conversations", "--json"]));
    let ids: Vec<(&str, i64)> =
        convs.iter().map(|x| (x["id"].as_str().unwrap(), x["message_count"].as_i64().unwrap())).collect();
    assert_eq!(
        ids,
        [("plain-8", 4), ("user_42", 4), ("bob@example.com", 4)],
        "newest first: written bob, user_42, plain-8"
    );
    for thread in ["bob@example.com", "user_42"] {
        let m = lines(&run_fs(&c, emu, &["show", thread, "--json"]));
        assert_eq!(role_content(&m)[0], ("user", format!("Plan a trip to Oslo ({thread})").as_str()), "{thread}");
        let cps = lines(&run_fs(&c, emu, &["show", thread, "--checkpoints", "--json"]));
        assert_eq!(cps.len(), 6, "{thread}: {cps:?}");
        let older = cps[3]["checkpoint_id"].as_str().unwrap();
        let m = lines(&run_fs(&c, emu, &["show", thread, "--checkpoint", older, "--json"]));
        assert_eq!(m.len(), 2, "{thread} at {older}");
    }
}

/// langgraph-checkpoint-firestore: thread documents that do not exist hold base64 msgpack
/// checkpoints; a thread is its newest checkpoint's messages (LangChain messages inside
/// LangGraph's msgpack extension types), tool calls shown, earlier checkpoints listed and
/// opened with `--checkpoint ID` — on the emulator and on SQLite.
#[tokio::test]
async fn langgraph_firestore() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langgraph-firestore").await;
    let project = crate::support::project_id("layout_langgraph_firestore");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    load_documents(&fs, "langgraph-firestore").await;
    let layout = "[profile.p.layout]\npreset = \"langgraph-firestore\"\n";
    for body in [
        format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n{layout}", db.display()),
        format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n{layout}"),
    ] {
        let c = config(dir.path(), &body);
        let convs = lines(&run_fs(&c, emu, &["conversations", "--json"]));
        let ids: Vec<(&str, i64)> =
            convs.iter().map(|x| (x["id"].as_str().unwrap(), x["message_count"].as_i64().unwrap())).collect();
        // Newest first, by each thread's newest checkpoint id (a time-ordered UUID): Kim's came last.
        assert_eq!(ids, [("thread-kim-3", 2), ("thread-jon-2", 6)], "{body}");
        assert!(convs[0]["updated_at"].as_str().is_some_and(|t| t.starts_with("2026-")), "the checkpoint's ts");
        let m = lines(&run_fs(&c, emu, &["show", "thread-jon-2", "--json"]));
        assert_eq!(
            role_content(&m),
            [
                ("user", "Plan a trip to Oslo"),
                ("assistant", "Noted: Plan a trip to Oslo"),
                ("user", "What's the weather there?"),
                ("assistant", r#"→ tool call weather({"city":"Oslo"}) call_7"#),
                ("tool", "← result of call_7: -3 C, snow"),
                ("assistant", "It is -3 °C and snowing in Oslo."),
            ],
            "{body}"
        );
        assert_eq!(m[0]["message_id"].as_str().unwrap().len(), 36, "LangChain's message uuid: {:?}", m[0]);
        // Earlier checkpoints: newest first, the first turn's state openable by id.
        let cps = lines(&run_fs(&c, emu, &["show", "thread-jon-2", "--checkpoints", "--json"]));
        let counts: Vec<i64> = cps.iter().map(|x| x["messages"].as_i64().unwrap()).collect();
        assert_eq!(counts, [6, 3, 2, 2, 1, 0], "{cps:?}");
        let older = cps[3]["checkpoint_id"].as_str().unwrap();
        let m = lines(&run_fs(&c, emu, &["show", "thread-jon-2", "--checkpoint", older, "--json"]));
        assert_eq!(role_content(&m), [("user", "Plan a trip to Oslo"), ("assistant", "Noted: Plan a trip to Oslo")]);
        let out = run_fs(&c, emu, &["show", "thread-jon-2", "--checkpoint", "nope", "--json"]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no checkpoint"), "{out:?}");
        let out = run_fs(&c, emu, &["detect", "--json"]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = d["found"].as_array().unwrap();
        assert!(
            found.iter().any(|x| x["layout"] == "langgraph-firestore"
                && x["supported"] == true
                && x["conversations"] == 2
                && x["at"] == "checkpoints"),
            "{d}"
        );
    }
}

/// The overrides read a layout no preset names, on what the libraries wrote: redisvl's hashes
/// through a key template and field paths alone (no preset defaults), langchain-community's
/// lists as "llamaindex-redis" renamed (prefix, LPUSH order), and a role map.
#[test]
fn overrides_read_what_no_preset_names() {
    let r = crate::support::redis();
    load_redis(&r, "redisvl");
    load_redis(&r, "langchain-redis-list");
    let dir = tempfile::tempdir().unwrap();
    let c = config(
        dir.path(),
        &format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\npreset = \"langchain-redis-json\"\n\
             encoding = \"hash\"\nkey = \"agent_chat:{{conversation}}:{{ts}}:{{*}}\"\nrole_field = \"role\"\n\
             content_field = [\"text\", \"content\"]\nid_field = \"entry_id\"\ntimestamp_field = \"timestamp\"\n\
             [profile.p.layout.roles]\nllm = \"model\"\n",
            r.url()
        ),
    );
    assert_eq!(listed(dir.path(), &c), [("sess-gina".into(), 2)]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "sess-gina", "--json"]));
    assert_eq!(role_content(&m), [("user", "What's the refund policy?"), ("model", "30 days, no questions asked.")]);
    assert!(m[0]["message_id"].as_str().unwrap().starts_with("sess-gina:"));
    assert!(m[0]["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-")));
    // The audit under a renamed layout says it did not check.
    let out = run(dir.path(), &["--config", &c, "audit"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not checked"));

    let c = config(
        dir.path(),
        &format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\npreset = \"llamaindex-redis\"\n\
             key_prefix = \"message_store:\"\nkeys = \"message_store:*\"\norder = \"newest-first\"\n",
            r.url()
        ),
    );
    assert_eq!(listed(dir.path(), &c), [("sess-alice-1".into(), 5), ("sess-bob-2".into(), 2)]);
    assert_langchain_turn(&lines(&run(dir.path(), &["--config", &c, "show", "sess-alice-1", "--json"])));
}

/// A near-miss of memscope's own layout (camelCase names, a role field named `author`, a
/// message without any time) read by renaming: listed newest first by `updatedAt`, the thread
/// in time order with the untimed message last and marked — and each bad setting is an error
/// naming the key and what it accepts.
#[tokio::test]
async fn a_renamed_subcollection_layout() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let sqlite: Arc<dyn LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(db.to_str().unwrap()).unwrap());
    let project = crate::support::project_id("layout_renamed");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    let ts = |secs: i64| FsValue::Timestamp(memscope::domain::Ts { secs, nanos: 0 });
    let text = |s: &str| FsValue::String(s.into());
    for s in [&sqlite, &fs] {
        let conv = vec![
            ("title".into(), text("Kubernetes crash")),
            ("updatedAt".into(), ts(1_790_000_000)),
            ("userId".into(), text("u-1")),
        ];
        s.put("chats/c1", conv).await.unwrap();
        for (id, author, body, at) in [
            ("m2", "bot", "Check the pod logs.", Some(1_790_000_060)),
            ("m1", "human", "My pod crashes.", Some(1_790_000_000)),
            ("m0", "human", "(pasted later, no time)", None),
            ("m3", "bot", "Then restart it.", Some(1_790_000_120)),
        ] {
            let mut f = vec![("author".into(), text(author)), ("body".into(), text(body))];
            if let Some(t) = at {
                f.push(("createdAt".into(), ts(t)));
            }
            s.put(&format!("chats/c1/items/{id}"), f).await.unwrap();
        }
    }
    let layout = "[profile.p.layout]\ncollection = \"chats\"\nmessages_field = \"items\"\nrole_field = \"author\"\n\
                  content_field = \"body\"\nuser_field = \"userId\"\n[profile.p.layout.roles]\nbot = \"assistant\"\n";
    let sqlite_base = format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n", db.display());
    let fs_base = format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n");
    for base in [&sqlite_base, &fs_base] {
        let c = config(dir.path(), &format!("{base}{layout}"));
        let convs = lines(&run_fs(&c, emu, &["conversations", "--json"]));
        assert_eq!(
            (&convs[0]["id"], &convs[0]["title"], &convs[0]["user_id"]),
            (&"c1".into(), &"Kubernetes crash".into(), &"u-1".into())
        );
        assert!(convs[0]["updated_at"].as_str().unwrap().starts_with("2026-09-21"), "{:?}", convs[0]);
        let m = lines(&run_fs(&c, emu, &["show", "c1", "--json"]));
        assert_eq!(
            role_content(&m),
            [
                ("user", "My pod crashes."),
                ("assistant", "Check the pod logs."),
                ("assistant", "Then restart it."),
                ("user", "(pasted later, no time)")
            ],
            "{base}"
        );
        assert!(m[3]["timestamp"].is_null());
    }
    let base = format!("{sqlite_base}[profile.p.layout]\n");
    for (bad, says) in [
        ("messages_in = \"tree\"", "messages_in = \"tree\": expected one of"),
        ("messages_in = \"list\"\nencoding = \"hash\"", "messages in \"list\" can be \"json\", \"msgpack-base64\""),
        ("order = \"sideways\"", "expected \"oldest-first\" (RPUSH) or \"newest-first\" (LPUSH)"),
        ("preset = \"redisvl\"\nkey = \"a:{thread}\"", "unknown part {thread}"),
        ("key = \"a:{conversation}\"", "a key template is for messages_in = \"keys\""),
        ("preset = \"redisvl\"\nkey = \"a:{message}\"", "needs the conversation"),
    ] {
        let c = config(dir.path(), &format!("{base}{bad}\n"));
        let out = run(dir.path(), &["--config", &c, "conversations"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says) && err.contains("c.toml"), "{bad}: {err}");
    }
}

/// The document browser on LangGraph's Firestore checkpoints: the thread documents that do not
/// exist are listed, and a checkpoint's base64 msgpack opens decoded (its messages readable).
#[tokio::test]
async fn the_browser_opens_langgraph_checkpoints_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langgraph-firestore").await;
    let newest = fixture("langgraph-firestore")["firestore"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .filter(|p| p.starts_with("checkpoints/thread-jon-2_/checkpoints/") && !p.contains("/writes/"))
        .max()
        .unwrap();
    let mut cfg = memscope::config::Config::with_redis("redis://127.0.0.1:1/0");
    cfg.long_term = Some(memscope::config::LongTermConfig::Sqlite { path: db.to_str().unwrap().into() });
    let mut h = crate::support::Harness::new(cfg);
    h.keys(":");
    h.keys("docs checkpoints");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the thread documents", |a| {
        matches!(a.conversations.browser.stack.last(), Some(memscope::tabs::conversations::BrowserLevel::Documents { items, .. }) if items.len() == 2)
    })
    .await;
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains("thread-jon-2_") && screen.contains("thread-kim-3_"), "{screen}");
    h.keys(":");
    h.keys(&format!("docs {newest}"));
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the checkpoint", |a| {
        matches!(
            a.conversations.browser.stack.last(),
            Some(memscope::tabs::conversations::BrowserLevel::Document { found: Some(true), .. })
        )
    })
    .await;
    let Some(memscope::tabs::conversations::BrowserLevel::Document { lines, .. }) =
        h.app.conversations.browser.stack.last()
    else {
        unreachable!()
    };
    let at = lines.iter().position(|l| l.key.trim() == "checkpoint").unwrap();
    assert!(lines[at].value.contains("base64 msgpack"), "{:?}", lines[at]);
    h.keys(&"j".repeat(at));
    h.key(crossterm::event::KeyCode::Enter);
    let screen = crate::support::screen_of(&h.app, 140, 40);
    assert!(screen.contains(r#""content": "Plan a trip to Oslo","#), "{screen}");
    assert!(screen.contains(r#""type": "human""#), "{screen}");
}

/// One profile, two sources (`[profile.p.layout.recent]`): LangChain's Firestore history as the
/// long-term and langchain-community's Redis lists as the recent messages. Both sources'
/// conversations are listed, one held by both once (the long-term's row), each thread read
/// where it is; a bad second source is named as such.
#[tokio::test]
async fn a_profile_combines_two_sources() {
    let r = crate::support::redis();
    load_redis(&r, "langchain-redis-list");
    let mut c = crate::support::client(&r);
    redis::cmd("LPUSH")
        .arg("message_store:sess-carol-3")
        .arg(r#"{"type":"human","data":{"content":"only the recent copy","type":"human"}}"#)
        .exec(&mut c)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_with(dir.path(), "langchain-firestore").await;
    let base = format!(
        "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n\
         [profile.p.layout]\npreset = \"langchain-firestore\"\n",
        r.url(),
        db.display()
    );
    let c = config(dir.path(), &format!("{base}[profile.p.layout.recent]\npreset = \"langchain-redis-list\"\n"));
    let convs = lines(&run(dir.path(), &["--config", &c, "conversations", "--json"]));
    let rows: Vec<(&str, &str)> =
        convs.iter().map(|x| (x["id"].as_str().unwrap(), x["stored_at"].as_str().unwrap())).collect();
    assert_eq!(
        rows,
        [
            ("sess-carol-3", "ChatHistory/sess-carol-3"),
            ("sess-dan-4", "ChatHistory/sess-dan-4"),
            ("sess-alice-1", "message_store:sess-alice-1"),
            ("sess-bob-2", "message_store:sess-bob-2"),
        ]
    );
    assert_langchain_turn(&lines(&run(dir.path(), &["--config", &c, "show", "sess-carol-3", "--json"])));
    assert_langchain_turn(&lines(&run(dir.path(), &["--config", &c, "show", "sess-alice-1", "--json"])));
    let out = run(dir.path(), &["--config", &c, "show", "nobody", "--json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("ChatHistory/nobody") && err.contains("message_store:nobody"),
        "{err}"
    );
    let c = config(dir.path(), &format!("{base}[profile.p.layout.recent]\npreset = \"langchain-redis-lists\"\n"));
    let err = String::from_utf8_lossy(&run(dir.path(), &["--config", &c, "conversations"]).stderr).to_string();
    assert!(err.contains("[profile.p.layout.recent] preset = \"langchain-redis-lists\""), "{err}");
}

/// Past 500 LangGraph threads on Firestore, ordering newest first would read each one's newest
/// checkpoint: they are listed by id, and the listing says so (stderr, beside the count).
#[tokio::test]
async fn many_langgraph_firestore_threads_are_listed_by_id_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let sqlite: Arc<dyn LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(db.to_str().unwrap()).unwrap());
    let docs: Vec<(String, Vec<(String, FsValue)>)> = (0..501)
        .map(|i| {
            let id = format!("1f1ebf6d-64ab-6a6d-8004-{i:012}");
            (format!("checkpoints/t{i:04}_/checkpoints/{id}"), vec![("checkpoint_id".into(), FsValue::String(id))])
        })
        .collect();
    sqlite.put_many(docs).await.unwrap();
    drop(sqlite);
    let c = config(
        dir.path(),
        &format!(
            "[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n[profile.p.layout]\npreset = \"langgraph-firestore\"\n",
            db.display()
        ),
    );
    let out = run(dir.path(), &["--config", &c, "conversations", "--json"]);
    let convs = lines(&out);
    assert_eq!(convs.len(), 501);
    assert_eq!((convs[0]["id"].as_str(), convs[500]["id"].as_str()), (Some("t0000"), Some("t0500")), "by id");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("501 threads listed by id, not newest first"), "{err}");
}

/// The same for every recorded Firestore fixture, on the emulator.
#[tokio::test]
async fn detects_lines_pasted_read_every_firestore_fixture() {
    let cases: [(&str, &str, &[&str]); 3] = [
        ("langchain-firestore", "langchain-firestore", &["sess-carol-3", "sess-dan-4"]),
        ("langgraph-firestore", "langgraph-firestore", &["thread-kim-3", "thread-jon-2"]),
        ("langgraph-firestore-ids", "langgraph-firestore", &["plain-8", "user_42", "bob@example.com"]),
    ];
    let emu = crate::support::firestore_emulator();
    let dir = tempfile::tempdir().unwrap();
    for (fixture, layout, want) in cases {
        let project = crate::support::project_id(&format!("detect_{}", fixture.replace('-', "_")));
        let fs: Arc<dyn LongTermStore> = Arc::new(
            memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
        );
        load_documents(&fs, fixture).await;
        let store = format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n");
        let probe = config(dir.path(), &store);
        let out = run_fs(&probe, emu, &["detect", "--json"]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = d["found"].as_array().unwrap().iter().find(|x| x["layout"] == layout);
        let found = found.unwrap_or_else(|| panic!("{fixture}: {layout} not detected: {d}"));
        assert_eq!(found["conversations"].as_i64(), Some(want.len() as i64), "{fixture}: {found}");
        assert_eq!(d["unplaced"], serde_json::json!([]), "{fixture}: every key the framework wrote is placed");
        let lines = found["config"].as_str().unwrap_or_else(|| panic!("{fixture}: no config lines: {found}"));
        let c = config(dir.path(), &format!("{store}[profile.p.layout]\n{lines}\n"));
        let convs = self::lines(&run_fs(&c, emu, &["conversations", "--json"]));
        let ids: Vec<&str> = convs.iter().map(|x| x["id"].as_str().unwrap()).collect();
        assert_eq!(ids, want, "{fixture}: detect's lines, pasted:\n{lines}");
    }
}

/// detect on a store holding two frameworks' memory — LangChain's Firestore history and
/// LangChain's Redis lists — proposes one profile reading the first with the second's recent
/// messages, and those lines work as pasted; the same preset looking elsewhere is called a
/// near miss, never "already reads".
#[tokio::test]
async fn detect_proposes_recent_for_two_layouts_and_names_a_near_miss() {
    let r = crate::support::redis();
    load_redis(&r, "langchain-redis-list");
    let project = crate::support::project_id("detect_two_layouts");
    let emu = crate::support::firestore_emulator();
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    load_documents(&fs, "langchain-firestore").await;
    let dir = tempfile::tempdir().unwrap();
    let stores = format!(
        "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n",
        r.url()
    );
    let probe = config(
        dir.path(),
        &format!(
            "{stores}[profile.p.layout]\npreset = \"langchain-redis-list\"\nkey_prefix = \"other:\"\nkeys = \"other:*\"\n"
        ),
    );
    let out = run_fs(&probe, emu, &["detect"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!text.contains("already reads"), "a near miss: {text}");
    let lines = text.split("[profile.p.layout]\n").last().unwrap_or("");
    assert!(text.contains("[profile.p.layout.recent]"), "{text}");
    let c = config(dir.path(), &format!("{stores}[profile.p.layout]\n{lines}"));
    let convs = self::lines(&run_fs(&c, emu, &["conversations", "--json"]));
    let mut ids: Vec<&str> = convs.iter().map(|x| x["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["sess-alice-1", "sess-bob-2", "sess-carol-3", "sess-dan-4"], "both, as pasted:\n{lines}");
}
