//! The vectors the frameworks keep, as they wrote them (tests/fixtures/layouts, recorded by
//! scripts/record-layout-fixtures): mem0 and agent-memory-server in Valkey's search module,
//! LangGraph's RedisStore with an index. `detect` names each index and the framework, its lines
//! pasted give a working profile, and a result opened with Enter lands on its message in
//! Conversations, through the layout.

use memscope::store::VectorStore;
use memscope::store::redis::vectors::RedisVectors;
use serde_json::Value;
use std::sync::Arc;

fn store(url: &str, index: &str) -> RedisVectors {
    let r = memscope::store::redis::RedisStore::connect(&memscope::config::RedisConfig::new(url), None).unwrap();
    RedisVectors::new(Arc::new(r), index, None)
}

/// The index as `detect --json` lists it.
fn detected(dir: &std::path::Path, url: &str, index: &str) -> Value {
    let out = crate::support::memscope(dir, &["detect", "--json", "--redis-url", url]);
    let d: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    d["vector_indexes"].as_array().unwrap().iter().find(|x| x["index"] == index).cloned().unwrap_or_else(|| {
        panic!("{index} not listed: {d}");
    })
}

/// Wait until the index holds `n` documents, then its first record, read by its own vector
/// (the library's stand-in embedder is not memscope's): it comes first, at cosine 1.
async fn first_record(s: &RedisVectors, n: u64) -> memscope::domain::VectorMatch {
    crate::support::eventually_async("indexed", 10, || async {
        let st = s.stats().await.map_err(|e| e.to_string())?;
        if st.total == n { Ok(()) } else { Err(format!("{st:?}")) }
    })
    .await;
    let first = s.list_ids(None, "", None, 1).await.unwrap().ids.remove(0);
    let mut q = crate::support::knn(vec![], 5, None);
    (q.vector, q.id) = (None, Some(first.clone()));
    let mut r = s.query(&q).await.unwrap();
    assert_eq!(r.matches[0].id, first, "{:?}", r.matches);
    assert!((r.matches[0].score - 1.0).abs() < 1e-4, "{:?}", r.matches[0]);
    r.matches.remove(0)
}

/// detect's lines for the index, pasted into a profile with the framework's layout preset;
/// the config as memscope reads it.
fn pasted(dir: &std::path::Path, url: &str, lines: &str, preset: &str) -> memscope::config::Config {
    let path = dir.join("c.toml");
    let body = format!(
        "[profile.p.redis]\nurl = \"{url}\"\n{}\n[profile.p.layout]\npreset = \"{preset}\"\n",
        lines.replace("NAME", "p")
    );
    std::fs::write(&path, &body).unwrap();
    let ov = memscope::config::Overrides { config: Some(path), ..Default::default() };
    memscope::config::load_with(&ov, &|_| None).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

/// The Search tab showing `m` as its one result; Enter: Conversations opens the record's
/// conversation and selects its message.
async fn enter_opens(
    cfg: memscope::config::Config,
    m: memscope::domain::VectorMatch,
    conversation: &str,
    message: &str,
) {
    let mut h = crate::support::Harness::new(cfg);
    h.keys("3");
    h.app.search.outcome = Some(memscope::search::SearchOutcome {
        result: memscope::domain::QueryResult { matches: vec![m], namespace: String::new(), read_units: None },
        embed_ms: 0.0,
        query_ms: 0.0,
        total_ms: 0.0,
    });
    h.key(crossterm::event::KeyCode::Enter);
    assert_eq!(h.app.tab, memscope::app::TabId::Conversations, "{:?}", h.app.status);
    h.until(20, "the record's message selected in its thread", |a| {
        a.conversations
            .thread
            .as_ref()
            .is_some_and(|t| t.conv.id == conversation && t.messages.get(t.selected).is_some_and(|x| x.id == message))
    })
    .await;
}

/// mem0 on Valkey (mem0ai 2.2.1): `detect` names the index mem0's with `text_field = "memory"`;
/// the record's text and ids come back as fields; Enter opens the user's conversation at the
/// memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mem0_on_valkey() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    crate::support::fixtures::load_with_indexes(&v, "mem0");
    let dir = tempfile::tempdir().unwrap();
    let d = detected(dir.path(), &v.url(), "mem0");
    assert_eq!(d["framework"], "mem0", "{d}");
    let lines = d["config"].as_str().unwrap();
    assert!(lines.contains("text_field = \"memory\"") && lines.contains("preset = \"mem0\""), "{lines}");
    let m = first_record(&store(&v.url(), "mem0"), 4).await;
    let md = m.metadata.clone().unwrap();
    let (user, id) = (md["user_id"].as_str().unwrap().to_string(), md["memory_id"].as_str().unwrap().to_string());
    assert!(md["memory"].as_str().is_some_and(|t| !t.is_empty()) && !md.contains_key("embedding"), "{md:?}");
    let cfg = pasted(dir.path(), &v.url(), lines, "mem0");
    let vc = cfg.vector.clone().unwrap();
    assert_eq!((vc.backend.as_str(), vc.text_field.as_str()), ("redis", "memory"));
    enter_opens(cfg, m, &user, &id).await;
}

/// agent-memory-server 0.14's long-term memory index (`memory_records`, 1536 dimensions):
/// named, searched, and a record opens its session (the preset's second source) at the memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_memory_server_long_term_index() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    crate::support::fixtures::load_with_indexes(&v, "agent-memory-server");
    let dir = tempfile::tempdir().unwrap();
    let d = detected(dir.path(), &v.url(), "memory_records");
    assert_eq!(d["framework"], "agent-memory-server long-term memory", "{d}");
    assert!(d["field"].as_str().unwrap().contains("VECTOR 1536 × FLOAT32 COSINE"), "{d}");
    let lines = d["config"].as_str().unwrap();
    assert!(lines.contains("text_field = \"text\"") && lines.contains("preset = \"agent-memory-server\""), "{lines}");
    let m = first_record(&store(&v.url(), "memory_records"), 3).await;
    let md = m.metadata.clone().unwrap();
    let (session, id) = (md["session_id"].as_str().unwrap().to_string(), md["id_"].as_str().unwrap().to_string());
    let cfg = pasted(dir.path(), &v.url(), lines, "agent-memory-server");
    assert_eq!(
        (cfg.layout.vector_conversation_field.as_str(), cfg.layout.vector_message_field.as_str()),
        ("session_id", "id_")
    );
    enter_opens(cfg, m, &session, &id).await;
}

/// LangGraph's RedisStore with an index (langgraph-checkpoint-redis 0.5.2): the vector
/// documents hold no text; the item's value is joined in, its embedded field as `text`; the
/// item stored with `index=False` is in no vector index.
#[tokio::test]
async fn langgraph_redis_store_index() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    crate::support::fixtures::load_with_indexes(&v, "langgraph-redis-store");
    let dir = tempfile::tempdir().unwrap();
    let d = detected(dir.path(), &v.url(), "store_vectors");
    assert_eq!(d["framework"], "LangGraph RedisStore", "{d}");
    assert!(d["config"].as_str().unwrap().contains("text_field = \"text\""), "{d}");
    let s = store(&v.url(), "store_vectors");
    let m = first_record(&s, 3).await;
    let md = m.metadata.clone().unwrap();
    let text = md["text"].as_str().unwrap();
    assert_eq!(md["value"]["text"].as_str(), Some(text), "{md:?}");
    assert!(md["key"].is_string() && md["prefix"].is_string(), "{md:?}");
    // All three embedded items, each with its text; the unindexed one is not among them.
    let mut q = crate::support::knn(vec![], 10, None);
    (q.vector, q.id) = (None, Some(m.id.clone()));
    let all = s.query(&q).await.unwrap().matches;
    let texts: Vec<&str> = all.iter().filter_map(|x| x.metadata.as_ref()?.get("text")?.as_str()).collect();
    assert_eq!(texts.len(), 3, "{all:?}");
    assert!(texts.iter().any(|t| t.contains("peanuts")) && !texts.iter().any(|t| t.contains("dark")), "{texts:?}");
    // fetch (what the embedder check and recall read) joins the same way.
    let rec = s.fetch(std::slice::from_ref(&m.id), "").await.unwrap().remove(0);
    assert_eq!(rec.metadata["text"].as_str(), Some(text));
}
