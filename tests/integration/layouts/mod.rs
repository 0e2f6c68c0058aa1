//! Layout presets on memory the frameworks themselves wrote: tests/fixtures/layouts/*.json were
//! recorded by scripts/record-layout-fixtures from langchain-community, llama-index and
//! langchain-google-firestore (pinned versions) and are loaded here into private servers.

mod in_firestore;
mod in_redis;

pub(crate) use crate::support::fixtures::{b64, fixture, load_documents, load_redis};

use crate::support::memscope as run;
use memscope::domain::FsValue;
use memscope::store::LongTermStore;
use std::sync::Arc;

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

/// How many conversations `detect` counts for `layout`.
fn detected(dir: &std::path::Path, c: &str, layout: &str) -> i64 {
    let out = run(dir, &["--config", c, "detect", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = d["found"].as_array().unwrap().iter().find(|x| x["layout"] == layout);
    found.and_then(|x| x["conversations"].as_i64()).unwrap_or_else(|| panic!("{layout} not detected: {d}"))
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
