//! Layouts of memory frameworks keep in Redis and Valkey, read from what the libraries wrote.

use super::*;

/// langchain-community's RedisChatMessageHistory (LPUSH, newest first): conversations from
/// Redis alone, threads oldest first, roles mapped, tool calls shown; the audit and the trace
/// say they did not check.
#[tokio::test]
async fn langchain_redis_list() {
    let (r, dir, c) = on_redis("langchain-redis-list", "langchain-redis-list");
    assert_eq!(listed(dir.path(), &c), [("sess-alice-1".into(), 5), ("sess-bob-2".into(), 2)]);
    let convs = lines(&run(dir.path(), &["--config", &c, "conversations", "--json"]));
    assert_eq!(
        convs[0]["title"], "What's the weather in Paris? \u{1b}[31m(red)",
        "the oldest message that is not the system prompt"
    );
    assert_eq!(convs[1]["title"], "Book me a table for two.", "the oldest message");
    assert_langchain_turn(&lines(&run(dir.path(), &["--config", &c, "show", "sess-alice-1", "--json"])));
    let bob = lines(&run(dir.path(), &["--config", &c, "show", "sess-bob-2", "--json"]));
    assert_eq!(bob.iter().map(|m| m["role"].as_str().unwrap()).collect::<Vec<_>>(), ["user", "assistant"]);

    let out = run(dir.path(), &["--config", &c, "audit"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "never a clean audit: {err}");
    assert!(err.contains("not checked") && err.contains("langchain-redis-list"), "{err}");

    // The Conversations tab reads the same, with Redis only (no long-term store configured).
    let mut cfg = memscope::config::Config::with_redis(&r.url());
    cfg.layout = memscope::config::LayoutConfig::preset(memscope::config::LayoutPreset::LangchainRedisList);
    let mut h = crate::support::Harness::new(cfg);
    assert_eq!(h.app.tab, memscope::app::TabId::Conversations);
    h.until(10, "the list", |a| a.conversations.convs.len() == 2 && a.conversations.count == Some(2)).await;
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the thread", |a| a.conversations.thread.as_ref().is_some_and(|t| t.done && t.messages.len() == 5))
        .await;
    let screen = crate::support::screen_of(&h.app, 120, 30);
    assert!(screen.contains("→ tool call weather"), "{screen}");
    assert!(screen.contains("\\x1b[31m(red)"), "escape made visible: {screen}");
    h.keys("t");
    h.until(10, "the trace", |a| {
        a.conversations.thread.as_ref().unwrap().trace.as_ref().is_some_and(|v| v.result.is_some())
    })
    .await;
    let tr = h.app.conversations.thread.as_ref().unwrap().trace.as_ref().unwrap().result.clone().unwrap();
    let e = tr.document.unwrap_err().to_string();
    assert!(e.contains("not checked"), "{e}");
}

/// llama-index's RedisChatStore: bare caller-chosen keys (`keys = "*"` lists every list),
/// RPUSH oldest first, text in blocks.
#[test]
fn llamaindex_redis() {
    let (r, dir, c) = on_redis("llamaindex-redis", "llamaindex-redis");
    assert_eq!(listed(dir.path(), &c), [("chat_history".into(), 1), ("user-erin".into(), 2)]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "user-erin", "--json"]));
    assert_eq!(
        m.iter().map(|x| (x["role"].as_str().unwrap(), x["content"].as_str().unwrap())).collect::<Vec<_>>(),
        [("user", "Remind me what I ordered."), ("assistant", "Two croissants and a coffee.")]
    );
    let out = run(dir.path(), &["--config", &c, "conversations"]);
    assert!(out.stderr.is_empty(), "nothing passed over yet: {out:?}");

    // Lists that are not LlamaIndex's — a job queue, a list of ids, LangChain's messages — are
    // no conversations: passed over, and counted on stderr.
    load_redis(&r, "langchain-redis-list");
    let mut k = crate::support::client(&r);
    redis::cmd("RPUSH").arg("jobs:email").arg(r#"{"job":"send","to":"a@b.c"}"#).exec(&mut k).unwrap();
    redis::cmd("RPUSH").arg("recent:views").arg("item-1").arg("item-2").exec(&mut k).unwrap();
    assert_eq!(listed(dir.path(), &c), [("chat_history".into(), 1), ("user-erin".into(), 2)]);
    let out = run(dir.path(), &["--config", &c, "conversations"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let lists: i64 = redis::cmd("EVAL")
        .arg("local n=0 for _,k in ipairs(redis.call('keys','*')) do if redis.call('type',k).ok=='list' then n=n+1 end end return n")
        .arg(0)
        .query(&mut k)
        .unwrap();
    let passed = lists - 2;
    assert!(passed >= 3, "a job queue, recent:views and LangChain's lists: {lists} lists");
    assert!(err.contains(&format!("passed over {passed} lists under `*` that hold no LlamaIndex messages")), "{err}");
}

/// LlamaIndex with tools: OpenAI-form tool calls in `additional_kwargs`, 0.14's ToolCallBlock,
/// tool results linked to their call, a ThinkingBlock's text shown — as text and as fields.
#[test]
fn llamaindex_redis_tool_calls_and_thinking() {
    let (_server, dir, c) = on_redis("llamaindex-redis-tools", "llamaindex-redis");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "user-finn", "--json"]));
    assert_eq!(
        role_content(&m),
        [
            ("user", "Weather in Paris, then Rome?"),
            ("assistant", r#"→ tool call weather({"city":"Paris"}) call_9"#),
            ("tool", "← result of call_9: 18 C, sunny"),
            ("assistant", r#"→ tool call weather({"city":"Rome"}) call_10"#),
            ("tool", "← result of call_10: 21 C, clear"),
            ("assistant", "(thinking) Both are warm; Rome is warmer.\nParis 18 °C, Rome 21 °C."),
        ]
    );
    let call = |name: &str, city: &str, id: &str| serde_json::json!([{"name": name, "args": {"city": city}, "id": id}]);
    assert_eq!(m[1]["tool_calls"], call("weather", "Paris", "call_9"), "OpenAI's arguments string read as JSON");
    assert_eq!(m[2]["tool_call_id"], "call_9");
    assert_eq!(m[3]["tool_calls"], call("weather", "Rome", "call_10"), "a ToolCallBlock");
    assert_eq!(m[4]["tool_call_id"], "call_10");
}

/// langchain-redis: a RedisJSON document per message (Valkey 9 with the modules): sessions from
/// the key names, messages in time order with their own ids and timestamps — and the tool call
/// the library did not store is not invented (an empty AI message).
#[test]
fn langchain_redis_json() {
    let (_server, dir, c) = on_valkey("langchain-redis-json", "langchain-redis-json");
    // Newest first: hana's one message was written after frank's thread.
    assert_eq!(listed(dir.path(), &c), [("sess-hana-5".into(), 1), ("sess-frank-9".into(), 5)]);
    let convs = lines(&run(dir.path(), &["--config", &c, "conversations", "--json"]));
    assert!(convs[0]["updated_at"].as_str() > convs[1]["updated_at"].as_str(), "{convs:?}");
    assert!(convs[0]["updated_at"].as_str().is_some_and(|t| t.starts_with("2026-")), "{:?}", convs[0]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "sess-frank-9", "--json"]));
    let roles: Vec<&str> = m.iter().map(|x| x["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant"]);
    assert_eq!(m[2]["content"], "", "langchain-redis stored no tool call: none invented");
    assert_eq!(m[3]["content"], "← result of call_1: 18 C, sunny");
    let recorded = &fixture("langchain-redis-json")["redis"][0]["json"]["message_id"];
    assert_eq!(&m[0]["message_id"], recorded, "the library's own ids");
    let times: Vec<&str> = m.iter().map(|x| x["timestamp"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

/// redisvl's MessageHistory: a hash per message, `llm` shown as assistant, its entry ids and
/// timestamps.
#[test]
fn redisvl() {
    let (_server, dir, c) = on_redis("redisvl", "redisvl");
    assert_eq!(listed(dir.path(), &c), [("sess-gina".into(), 2)]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "sess-gina", "--json"]));
    assert_eq!(
        m.iter().map(|x| (x["role"].as_str().unwrap(), x["content"].as_str().unwrap())).collect::<Vec<_>>(),
        [("user", "What's the refund policy?"), ("assistant", "30 days, no questions asked.")]
    );
    assert!(m[0]["message_id"].as_str().unwrap().starts_with("sess-gina:"), "{:?}", m[0]);
    let out = run(dir.path(), &["--config", &c, "detect", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["found"][0]["layout"], "redisvl", "{v}");
    assert_eq!(v["found"][0]["at"], "agent_chat:");
}

/// redisvl's `MessageHistory(name=…)` under another name than the default: `detect`'s lines,
/// pasted into a profile as they are, list the history (the prefix drives the key template).
#[test]
fn redisvl_under_any_name_reads_with_detects_lines() {
    let r = crate::support::redis();
    load_redis(&r, "redisvl");
    let mut c = crate::support::client(&r);
    let keys: Vec<String> = redis::cmd("KEYS").arg("agent_chat:*").query(&mut c).unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        let to = k.replacen("agent_chat:", "support_bot:", 1);
        redis::cmd("RENAME").arg(k).arg(&to).exec(&mut c).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let probe = preset_config(dir.path(), &r.url(), "memscope");
    let out = run(dir.path(), &["--config", &probe, "detect", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = v["found"].as_array().unwrap().iter().find(|d| d["layout"] == "redisvl").expect("redisvl found");
    assert_eq!(found["at"], "support_bot:", "{v}");
    let lines = found["config"].as_str().unwrap();
    let c = config(dir.path(), &format!("[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\n{lines}\n", r.url()));
    assert_eq!(listed(dir.path(), &c), [("sess-gina".into(), 2)], "detect's lines, pasted, read it");
}

/// langgraph-checkpoint-redis: a thread is its latest checkpoint's messages (LangChain's `lc`
/// constructor form, with their ids); earlier checkpoints are not listed as threads.
#[test]
fn langgraph_redis() {
    let (_server, dir, c) = on_valkey("langgraph-redis", "langgraph-redis");
    assert_eq!(listed(dir.path(), &c), [("thread-ivy-1".into(), 4)]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "thread-ivy-1", "--json"]));
    assert_eq!(
        m.iter().map(|x| (x["role"].as_str().unwrap(), x["content"].as_str().unwrap())).collect::<Vec<_>>(),
        [
            ("user", "Plan a trip to Lisbon"),
            ("assistant", "Noted: Plan a trip to Lisbon"),
            ("user", "In May, for two"),
            ("assistant", "Noted: In May, for two")
        ]
    );
    assert_eq!(m[0]["message_id"].as_str().unwrap().len(), 36, "LangChain's message uuid: {:?}", m[0]);
    let out = run(dir.path(), &["--config", &c, "detect", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        d["found"].as_array().unwrap().iter().any(|x| x["layout"] == "langgraph-redis" && x["supported"] == true),
        "{d}"
    );
}

/// Thread ids as users choose them (`user:42`, `alice@example.com`) are taken whole: listed,
/// shown, their checkpoints listed and opened — and one such id breaks no other thread.
#[test]
fn langgraph_redis_thread_ids_with_colon_and_at() {
    let (_server, dir, c) = on_valkey("langgraph-redis-ids", "langgraph-redis");
    // Newest first (the checkpoint ids are time-ordered UUIDs): written user:42, alice, plain-7.
    assert_eq!(listed(dir.path(), &c), [("plain-7".into(), 4), ("alice@example.com".into(), 4), ("user:42".into(), 4)]);
    for thread in ["user:42", "alice@example.com"] {
        let m = lines(&run(dir.path(), &["--config", &c, "show", thread, "--json"]));
        assert_eq!(
            role_content(&m),
            [
                ("user", format!("Plan a trip to Lisbon ({thread})").as_str()),
                ("assistant", format!("Noted: Plan a trip to Lisbon ({thread})").as_str()),
                ("user", "In May, for two"),
                ("assistant", "Noted: In May, for two"),
            ],
            "{thread}"
        );
        let cps = lines(&run(dir.path(), &["--config", &c, "show", thread, "--checkpoints", "--json"]));
        let counts: Vec<i64> = cps.iter().map(|x| x["messages"].as_i64().unwrap()).collect();
        assert_eq!(counts, [4, 3, 2, 2, 1, 0], "{thread}: {cps:?}");
        let older = cps[2]["checkpoint_id"].as_str().unwrap();
        let m = lines(&run(dir.path(), &["--config", &c, "show", thread, "--checkpoint", older, "--json"]));
        assert_eq!(m.len(), 2, "{thread} at {older}: {m:?}");
    }
    assert_eq!(detected(dir.path(), &c, "langgraph-redis"), 3, "user:42 is one thread, not `user`");
    let out = run(dir.path(), &["--config", &c, "show", "user:43"]);
    assert_eq!(out.status.code(), Some(1), "an unknown thread: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("user:43"), "{out:?}");
}

/// A subgraph's checkpoints (namespace `planner`) belong to their thread: one row, the
/// parent's conversation, and the namespace said on stderr — not a look-alike thread.
#[test]
fn langgraph_redis_subgraphs_stay_under_their_thread() {
    let (_server, dir, c) = on_valkey("langgraph-redis-subgraph", "langgraph-redis");
    let ids: Vec<String> = listed(dir.path(), &c).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["thread-sub-1"]);
    let out = run(dir.path(), &["--config", &c, "conversations"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 subgraph namespace kept under its thread"), "{err}");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "thread-sub-1", "--json"]));
    assert_eq!(role_content(&m)[0], ("user", "Trip to Porto"));
    assert_eq!(detected(dir.path(), &c, "langgraph-redis"), 1, "detect counts the thread once");
}

/// LangGraph's ShallowRedisSaver keeps one `checkpoint:{thread}:` document per thread and no
/// pointer: its threads are listed and shown, and their one checkpoint listed.
#[test]
fn langgraph_redis_shallow_saver() {
    let (_server, dir, c) = on_valkey("langgraph-redis-shallow", "langgraph-redis");
    assert_eq!(listed(dir.path(), &c), [("user:9".into(), 4), ("thread-sh-1".into(), 4)], "newest first");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "user:9", "--json"]));
    assert_eq!(role_content(&m)[1], ("assistant", "Noted: Plan a trip to Lisbon (user:9)"));
    let cps = lines(&run(dir.path(), &["--config", &c, "show", "user:9", "--checkpoints", "--json"]));
    assert_eq!(cps.len(), 1, "a shallow saver keeps the latest only: {cps:?}");
    assert_eq!(cps[0]["messages"], 4);
    let id = cps[0]["checkpoint_id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "{cps:?}");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "user:9", "--checkpoint", id, "--json"]));
    assert_eq!(m.len(), 4);
    assert_eq!(detected(dir.path(), &c, "langgraph-redis"), 2);
}

/// mem0 (Valkey vector store, `infer=False`): a hash per memory, grouped by `user_id` into one
/// conversation per user, text from `memory`, role from the `metadata` JSON string, mem0's ids
/// and times; the embedding is never shown; `user:` filters; detect counts users.
#[test]
fn mem0() {
    let (r, dir, c) = on_redis("mem0", "mem0");
    assert_eq!(listed(dir.path(), &c), [("user-lena".into(), 3), ("user-max".into(), 1)]);
    let convs = lines(&run(dir.path(), &["--config", &c, "conversations", "--json"]));
    assert_eq!(convs[0]["user_id"], "user-lena");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "user-lena", "--json"]));
    let mut got = role_content(&m);
    got.sort();
    assert_eq!(
        got,
        [
            ("assistant", "Noted: vegetarian, no nuts."),
            ("user", "I am vegetarian and allergic to nuts."),
            ("user", "I prefer window seats."),
        ],
        "mem0 keeps times in whole seconds: within one second the order is not known"
    );
    // mem0's history database knows the microsecond: with it, the written order, and the
    // newest conversation first. The file is read, never written (no sidecar, same bytes).
    let db = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layouts/mem0-history.db");
    let hdir = tempfile::tempdir().unwrap();
    let copy = hdir.path().join("history.db");
    std::fs::copy(&db, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let ch = config(
        hdir.path(),
        &format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\npreset = \"mem0\"\nhistory = \"{}\"\n",
            r.url(),
            copy.display()
        ),
    );
    assert_eq!(listed(hdir.path(), &ch), [("user-max".into(), 1), ("user-lena".into(), 3)], "newest first");
    let m = lines(&run(hdir.path(), &["--config", &ch, "show", "user-lena", "--json"]));
    assert_eq!(
        role_content(&m),
        [
            ("user", "I am vegetarian and allergic to nuts."),
            ("assistant", "Noted: vegetarian, no nuts."),
            ("user", "I prefer window seats."),
        ],
        "the written order"
    );
    assert!(m[0]["timestamp"].as_str().is_some_and(|t| t.contains('.')), "to the sub-second: {}", m[0]);
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    let sidecars: Vec<_> = std::fs::read_dir(hdir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("history.db-"))
        .collect();
    assert!(sidecars.is_empty(), "{sidecars:?}");
    // A history path that is not one is an error naming it, never a silent fallback.
    let bdir = tempfile::tempdir().unwrap();
    let bad = config(
        bdir.path(),
        &format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\npreset = \"mem0\"\nhistory = \"/nonexistent/history.db\"\n",
            r.url()
        ),
    );
    let out = run(bdir.path(), &["--config", &bad, "conversations"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mem0 history") && err.contains("/nonexistent/history.db"), "{err}");
    let recorded: Vec<String> = fixture("mem0")["redis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| String::from_utf8(b64(&k["fields"]["memory_id"])).unwrap())
        .collect();
    assert!(m.iter().all(|x| recorded.contains(&x["message_id"].as_str().unwrap().to_string())), "mem0's ids");
    assert!(m.iter().all(|x| x["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-"))), "{m:?}");
    assert!(m.iter().all(|x| x["user_id"] == "user-lena"));
    let only = lines(&run(dir.path(), &["--config", &c, "conversations", "--filter", "user:user-max", "--json"]));
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["id"], "user-max");
    let text = String::from_utf8(run(dir.path(), &["--config", &c, "show", "user-max"]).stdout).unwrap();
    assert!(text.contains("Call me Max.") && !text.contains("embedding"), "{text}");
    // A memory kept by agent alone (no user_id) is listed under a conversation saying so.
    let mut cl = crate::support::client(&r);
    redis::cmd("HSET")
        .arg("mem0:mem0:00000000-aaaa-4000-8000-000000000000")
        .arg("memory_id")
        .arg("agent-only")
        .arg("memory")
        .arg("The agent prefers short answers.")
        .arg("agent_id")
        .arg("travel-bot")
        .arg("created_at")
        .arg("1795964081")
        .exec(&mut cl)
        .unwrap();
    let all = listed(dir.path(), &c);
    assert!(all.contains(&("(no user_id)".into(), 1)), "{all:?}");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "(no user_id)", "--json"]));
    assert_eq!(m[0]["content"], "The agent prefers short answers.");
    let out = run(dir.path(), &["--config", &c, "detect", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&d["found"][0]["layout"], &d["found"][0]["conversations"]), (&"mem0".into(), &2.into()), "{d}");
    assert_eq!(d["found"][0]["supported"], true);
}

/// detect's lines work as pasted, for every recorded Redis fixture: `detect` on the fixture
/// alone, its `config` lines pasted into a profile, and `conversations` lists exactly the
/// conversations the framework wrote, newest first where the library stores a time.
#[test]
fn detects_lines_pasted_read_every_redis_fixture() {
    let cases: [(&str, &str, &[&str]); 10] = [
        ("langchain-redis-list", "langchain-redis-list", &["sess-alice-1", "sess-bob-2"]),
        ("langchain-redis-json", "langchain-redis-json", &["sess-hana-5", "sess-frank-9"]),
        ("llamaindex-redis", "llamaindex-redis", &["chat_history", "user-erin"]),
        ("llamaindex-redis-tools", "llamaindex-redis", &["user-finn"]),
        ("langgraph-redis", "langgraph-redis", &["thread-ivy-1"]),
        ("langgraph-redis-ids", "langgraph-redis", &["plain-7", "alice@example.com", "user:42"]),
        ("langgraph-redis-shallow", "langgraph-redis", &["user:9", "thread-sh-1"]),
        ("langgraph-redis-subgraph", "langgraph-redis", &["thread-sub-1"]),
        ("redisvl", "redisvl", &["sess-gina"]),
        ("mem0", "mem0", &["user-lena", "user-max"]),
    ];
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    let mut k = crate::support::client(&v);
    let dir = tempfile::tempdir().unwrap();
    for (fixture, layout, want) in cases {
        redis::cmd("FLUSHALL").exec(&mut k).unwrap();
        load_redis(&v, fixture);
        let probe = preset_config(dir.path(), &v.url(), "memscope");
        let out = run(dir.path(), &["--config", &probe, "detect", "--json"]);
        let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let found = d["found"].as_array().unwrap().iter().find(|x| x["layout"] == layout);
        let found = found.unwrap_or_else(|| panic!("{fixture}: {layout} not detected: {d}"));
        assert_eq!(found["conversations"].as_i64(), Some(want.len() as i64), "{fixture}: {found}");
        assert_eq!(d["unplaced"], serde_json::json!([]), "{fixture}: every key the framework wrote is placed");
        let lines = found["config"].as_str().unwrap_or_else(|| panic!("{fixture}: no config lines: {found}"));
        let c = config(dir.path(), &format!("[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\n{lines}\n", v.url()));
        let ids: Vec<String> = listed(dir.path(), &c).into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, want, "{fixture}: detect's lines, pasted:\n{lines}");
    }
    // What no layout takes is named by namespace, most keys first, never passed over in silence.
    let mut p = redis::pipe();
    p.cmd("RPUSH").arg("jobs:email").arg("{\"to\":\"a@b\"}").ignore();
    p.cmd("RPUSH").arg("jobs:sms").arg("x").ignore();
    p.cmd("HSET").arg("profile:u1").arg("name").arg("Ada").ignore();
    p.query::<()>(&mut k).unwrap();
    let probe = preset_config(dir.path(), &v.url(), "memscope");
    let d: serde_json::Value =
        serde_json::from_slice(&run(dir.path(), &["--config", &probe, "detect", "--json"]).stdout).unwrap();
    assert_eq!(d["unplaced"], serde_json::json!(["jobs:* (2 list)", "profile:* (1 hash)"]), "{d}");
    let text = String::from_utf8(run(dir.path(), &["--config", &probe, "detect"]).stdout).unwrap();
    assert!(text.contains("not placed (documents of no known layout): jobs:* (2 list), profile:* (1 hash)"), "{text}");
}

/// Redis's agent-memory-server, written by the server's own functions: working memory (a
/// RedisJSON document per session, with and without namespace and user) read as threads in
/// their order, with ids and times; long-term memory records (hashes by `session_id`) as the
/// preset's second source, so a session whose working memory expired keeps its memories;
/// detect finds it and its lines read it as pasted.
#[test]
fn agent_memory_server() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    load_redis(&v, "agent-memory-server");
    let dir = tempfile::tempdir().unwrap();
    let probe = preset_config(dir.path(), &v.url(), "memscope");
    let d: serde_json::Value =
        serde_json::from_slice(&run(dir.path(), &["--config", &probe, "detect", "--json"]).stdout).unwrap();
    let found: Vec<(&str, u64)> = d["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["layout"].as_str().unwrap(), x["conversations"].as_u64().unwrap()))
        .collect();
    assert_eq!(found, [("agent-memory-server", 2)], "{d}");
    assert_eq!(d["unplaced"], serde_json::json!([]), "{d}");
    let lines_of = d["found"][0]["config"].as_str().unwrap();
    let c = config(dir.path(), &format!("[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\n{lines_of}\n", v.url()));
    assert_eq!(
        listed(dir.path(), &c),
        [
            ("sess-june".into(), 1),
            ("travel:u-ivan:sess-ivan".into(), 3),
            // The long-term records, newest first: Kai's working memory is gone, not his memory.
            ("sess-kai".into(), 1),
            ("sess-ivan".into(), 2),
        ]
    );
    let m = lines(&run(dir.path(), &["--config", &c, "show", "travel:u-ivan:sess-ivan", "--json"]));
    assert_eq!(
        role_content(&m),
        [
            ("user", "Find me a flight to Oslo."),
            ("assistant", "Three flights on Friday; the 9:40 is cheapest."),
            ("user", "Book the 9:40, aisle seat."),
        ]
    );
    assert!(m.iter().all(|x| x["message_id"].as_str().is_some_and(|id| id.len() == 26)), "ULIDs: {m:?}");
    assert!(m[0]["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-")), "{m:?}");
    let convs = lines(&run(dir.path(), &["--config", &c, "conversations", "--json"]));
    assert_eq!(convs[1]["user_id"], "u-ivan");
    let m = lines(&run(dir.path(), &["--config", &c, "show", "sess-kai", "--json"]));
    assert_eq!(role_content(&m), [("semantic", "Kai's working memory expired; this memory remains.")]);
    let m = lines(&run(dir.path(), &["--config", &c, "show", "sess-ivan", "--json"]));
    assert_eq!(role_content(&m)[1], ("episodic", "Ivan flew to Oslo on a Friday."));
    assert!(m.iter().all(|x| x["user_id"] == "u-ivan"), "{m:?}");
    // A user filter reads the working memory's `user_id`.
    let only = lines(&run(dir.path(), &["--config", &c, "conversations", "--filter", "user:u-ivan", "--json"]));
    assert!(only.iter().any(|x| x["id"] == "travel:u-ivan:sess-ivan") && !only.iter().any(|x| x["id"] == "sess-june"));
    let out = run(dir.path(), &["--config", &c, "show", "no-such-session"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
