//! Layout presets on memory the frameworks themselves wrote: tests/fixtures/layouts/*.json were
//! recorded by scripts/record-layout-fixtures from langchain-community, llama-index and
//! langchain-google-firestore (pinned versions) and are loaded here into private servers.

use crate::support::memscope as run;
use base64::Engine;
use memscope::domain::FsValue;
use memscope::store::LongTermStore;
use std::sync::Arc;

fn fixture(name: &str) -> serde_json::Value {
    let p = format!("{}/tests/fixtures/layouts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn b64(s: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap()).unwrap()
}

/// The recorded keys, element for element, in their stored order.
fn load_redis(r: &memscope::demo::PrivateRedis, name: &str) {
    let mut c = crate::support::client(r);
    for k in fixture(name)["redis"].as_array().unwrap() {
        let key = k["key"].as_str().unwrap();
        match k["type"].as_str().unwrap() {
            "list" => {
                for item in k["items"].as_array().unwrap() {
                    redis::cmd("RPUSH").arg(key).arg(b64(item)).exec(&mut c).unwrap();
                }
            }
            "ReJSON-RL" => redis::cmd("JSON.SET").arg(key).arg("$").arg(k["json"].to_string()).exec(&mut c).unwrap(),
            "hash" => {
                for (f, v) in k["fields"].as_object().unwrap() {
                    redis::cmd("HSET").arg(key).arg(f).arg(b64(v)).exec(&mut c).unwrap();
                }
            }
            "string" => redis::cmd("SET").arg(key).arg(b64(&k["value"])).exec(&mut c).unwrap(),
            "zset" => {
                for m in k["members"].as_array().unwrap() {
                    redis::cmd("ZADD")
                        .arg(key)
                        .arg(m[1].as_f64().unwrap())
                        .arg(m[0].as_str().unwrap())
                        .exec(&mut c)
                        .unwrap();
                }
            }
            other => panic!("fixture type {other}"),
        }
        if let Some(ttl) = k["ttl"].as_i64().filter(|t| *t > 0) {
            redis::cmd("EXPIRE").arg(key).arg(ttl).exec(&mut c).unwrap();
        }
    }
}

fn fs_value(v: &serde_json::Value) -> FsValue {
    let (kind, x) = v.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "bytes" => FsValue::Bytes(b64(x)),
        "string" => FsValue::String(x.as_str().unwrap().into()),
        "int" => FsValue::Int(x.as_i64().unwrap()),
        "bool" => FsValue::Bool(x.as_bool().unwrap()),
        "double" => FsValue::Double(x.as_f64().unwrap()),
        "null" => FsValue::Null,
        "array" => FsValue::Array(x.as_array().unwrap().iter().map(fs_value).collect()),
        "map" => FsValue::Map(x.as_object().unwrap().iter().map(|(k, v)| (k.clone(), fs_value(v))).collect()),
        other => panic!("fixture value {other}"),
    }
}

async fn load_documents(s: &Arc<dyn LongTermStore>, name: &str) {
    for d in fixture(name)["firestore"].as_array().unwrap() {
        let fields = d["fields"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), fs_value(v))).collect();
        s.put(d["path"].as_str().unwrap(), fields).await.unwrap();
    }
}

/// A SQLite long-term file `dir/m.db` holding a recorded Firestore fixture.
async fn sqlite_with(dir: &std::path::Path, fixture: &str) -> std::path::PathBuf {
    let db = dir.join("m.db");
    let sqlite: Arc<dyn LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(db.to_str().unwrap()).unwrap());
    load_documents(&sqlite, fixture).await;
    db
}

fn config(dir: &std::path::Path, body: &str) -> String {
    let p = dir.join("c.toml");
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

/// A profile `p` on this Redis reading it with `preset`.
fn preset_config(dir: &std::path::Path, url: &str, preset: &str) -> String {
    config(dir, &format!("[profile.p.redis]\nurl = \"{url}\"\n[profile.p.layout]\npreset = \"{preset}\"\n"))
}

/// A private redis-server holding `fixture`, and a config reading it with `preset`.
fn on_redis(fixture: &str, preset: &str) -> (memscope::demo::PrivateRedis, tempfile::TempDir, String) {
    with_layout(crate::support::redis(), fixture, preset)
}

/// A private Valkey 9 with the JSON and search modules holding `fixture`, and a config reading
/// it with `preset`.
fn on_valkey(fixture: &str, preset: &str) -> (memscope::demo::PrivateRedis, tempfile::TempDir, String) {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    with_layout(v, fixture, preset)
}

fn with_layout(
    r: memscope::demo::PrivateRedis,
    fixture: &str,
    preset: &str,
) -> (memscope::demo::PrivateRedis, tempfile::TempDir, String) {
    load_redis(&r, fixture);
    let dir = tempfile::tempdir().unwrap();
    let c = preset_config(dir.path(), &r.url(), preset);
    (r, dir, c)
}

/// `memscope conversations --json`: (id, message count) of each.
fn listed(dir: &std::path::Path, c: &str) -> Vec<(String, i64)> {
    lines(&run(dir, &["--config", c, "conversations", "--json"]))
        .iter()
        .map(|x| (x["id"].as_str().unwrap().to_string(), x["message_count"].as_i64().unwrap()))
        .collect()
}

fn lines(o: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The same LangChain conversation (system, user, an AI tool call, the tool's result, the
/// answer) as every LangChain layout stores it.
fn assert_langchain_turn(m: &[serde_json::Value]) {
    let roles: Vec<&str> = m.iter().map(|x| x["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant"], "{m:?}");
    assert_eq!(m[1]["content"], "What's the weather in Paris? \u{1b}[31m(red)", "stored text, escapes kept as data");
    assert_eq!(m[2]["content"], r#"→ tool call weather({"city":"Paris"}) call_1"#);
    assert_eq!(m[3]["content"], "← result of call_1: 18 C, sunny");
    assert_eq!(m[4]["content"], "It is 18 °C and sunny in Paris.");
    // Tool calls as fields too, not only as text.
    assert_eq!(m[2]["tool_calls"], serde_json::json!([{"name": "weather", "args": {"city": "Paris"}, "id": "call_1"}]));
    assert_eq!(m[3]["tool_call_id"], "call_1");
    assert!(m[4].get("tool_calls").is_none() && m[4].get("tool_call_id").is_none(), "{:?}", m[4]);
    assert!(m.iter().all(|x| x["timestamp"].is_null()), "the layout has no timestamps: none invented");
}

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

/// How many conversations `detect` counts for `layout`.
fn detected(dir: &std::path::Path, c: &str, layout: &str) -> i64 {
    let out = run(dir, &["--config", c, "detect", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = d["found"].as_array().unwrap().iter().find(|x| x["layout"] == layout);
    found.and_then(|x| x["conversations"].as_i64()).unwrap_or_else(|| panic!("{layout} not detected: {d}"))
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

/// Run memscope with the Firestore emulator's address.
fn run_fs(c: &str, emu: &memscope::demo::PrivateEmulator, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
        .args(["--config", c])
        .args(args)
        .env("FIRESTORE_EMULATOR_HOST", &emu.host)
        .env_remove("GOOGLE_CLOUD_PROJECT")
        .output()
        .unwrap()
}

fn role_content(m: &[serde_json::Value]) -> Vec<(&str, &str)> {
    m.iter().map(|x| (x["role"].as_str().unwrap(), x["content"].as_str().unwrap())).collect()
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
