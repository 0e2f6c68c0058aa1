//! A 10,000-message thread in each framework layout: time to its first screen (the reader's
//! first page of 200 messages, what the Conversations tab shows first) and to all of it, and
//! the conversation list's first page. Printed figures, no assertions.
//! `cargo bench --bench main -- layout_thread` (Valkey with the modules: scripts/fetch-test-servers).

use memscope::config::{LayoutConfig, LayoutPreset};
use memscope::domain::{ConvFilter, Cursor, FsValue};
use memscope::store::{KeyStore, LongTermStore};
use std::sync::Arc;
use std::time::Instant;

const N: usize = 10_000;

fn lc(i: usize) -> String {
    let (t, c) = if i.is_multiple_of(2) { ("human", "user question") } else { ("ai", "assistant answer") };
    format!(r#"{{"type": "{t}", "data": {{"content": "{c} number {i} about the refund", "type": "{t}"}}}}"#)
}

async fn time(name: &str, reader: Arc<dyn memscope::layout::ConversationReader>, id: &str) {
    let t = Instant::now();
    let list = reader.conversations(&ConvFilter::All, None, 100).await.unwrap();
    let list_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let first = reader.messages(id, None, 200).await.unwrap();
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let (mut n, mut next): (usize, Option<Cursor>) = (first.items.len(), first.next);
    while let Some(c) = next {
        let p = reader.messages(id, Some(&c), 200).await.unwrap();
        n += p.items.len();
        next = p.next;
    }
    let all_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{name:<22} list ({} conv.) {list_ms:>7.1} ms · first screen ({} msgs) {first_ms:>7.1} ms · all {n} {all_ms:>8.1} ms",
        list.items.len(),
        first.items.len()
    );
}

fn store(url: &str) -> Arc<dyn KeyStore> {
    Arc::new(
        memscope::store::redis::RedisStore::connect(&memscope::config::RedisConfig::new(url.to_string()), None)
            .unwrap(),
    )
}

#[tokio::main]
pub async fn bench_main() {
    let r = crate::support::redis();
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().expect("scripts/fetch-test-servers");
    let mut c = crate::support::client(&r);
    let mut p = redis::pipe();
    for i in (0..N).rev() {
        p.cmd("RPUSH").arg("message_store:big").arg(lc(i)).ignore(); // LPUSH order: newest first
    }
    for i in 0..N {
        let m = format!(r#"{{"role":"user","blocks":[{{"block_type":"text","text":"message {i}"}}]}}"#);
        p.cmd("RPUSH").arg("big").arg(m).ignore();
        p.cmd("HSET")
            .arg(format!("agent_chat:big:{}.{i:05}:0000abcd", 1_795_000_000 + i))
            .arg("role")
            .arg("user")
            .arg("content")
            .arg(format!("message {i}"))
            .arg("entry_id")
            .arg(i)
            .arg("timestamp")
            .arg(format!("{}.{i:05}", 1_795_000_000 + i))
            .ignore();
    }
    p.exec(&mut c).unwrap();
    let mut vc = crate::support::client(&v);
    let mut p = redis::pipe();
    for i in 0..N {
        // ULIDs in time order: 10 characters of time, 16 of randomness.
        let key = format!("chat:big:01M8KN{i:04}{:016}", i);
        let doc = format!(
            r#"{{"type":"human","message_id":"{i}","data":{{"content":"message {i}","type":"human"}},"session_id":"big","timestamp":{}.0}}"#,
            1_795_000_000 + i
        );
        p.cmd("JSON.SET").arg(key).arg("$").arg(doc).ignore();
    }
    p.exec(&mut vc).unwrap();

    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("layout_bench");
    let fs: Arc<dyn LongTermStore> = Arc::new(
        memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap(),
    );
    // One document, 10,000 messages as JSON bytes (about 0.9 MB: under Firestore's 1 MiB).
    let items: Vec<FsValue> =
        (0..N).map(|i| FsValue::Bytes(format!(r#"{{"content":"m{i}","type":"human"}}"#).into_bytes())).collect();
    fs.put("ChatHistory/big", vec![("messages".into(), FsValue::Array(items))]).await.unwrap();

    let layout = |p| LayoutConfig::preset(p);
    let reader = |p, lt: Option<Arc<dyn LongTermStore>>, rs: Option<Arc<dyn KeyStore>>| {
        memscope::layout::reader(&layout(p), lt, rs).unwrap()
    };
    time("langchain-firestore", reader(LayoutPreset::LangchainFirestore, Some(fs.clone()), None), "big").await;
    time("langchain-redis-list", reader(LayoutPreset::LangchainRedisList, None, Some(store(&r.url()))), "big").await;
    let mut llama = layout(LayoutPreset::LlamaindexRedis);
    llama.keys = "big".into();
    time("llamaindex-redis", memscope::layout::reader(&llama, None, Some(store(&r.url()))).unwrap(), "big").await;
    time("redisvl", reader(LayoutPreset::Redisvl, None, Some(store(&r.url()))), "big").await;
    time("langchain-redis-json", reader(LayoutPreset::LangchainRedisJson, None, Some(store(&v.url()))), "big").await;

    // mem0: 10,000 memories of one user, each with a 384-float embedding (never read).
    let mut p = redis::pipe();
    for i in 0..N {
        p.cmd("HSET")
            .arg(format!("mem0:mem0:{i:08x}-0000-4000-8000-000000000000"))
            .arg("memory_id")
            .arg(format!("{i:08x}"))
            .arg("memory")
            .arg(format!("memory {i} about the refund"))
            .arg("user_id")
            .arg("big")
            .arg("created_at")
            .arg(1_795_000_000 + i)
            .arg("metadata")
            .arg(r#"{"role": "user"}"#)
            .arg("embedding")
            .arg(vec![7u8; 384 * 4])
            .ignore();
    }
    p.exec(&mut c).unwrap();
    time("mem0", reader(LayoutPreset::Mem0, None, Some(store(&r.url()))), "big").await;

    // agent-memory-server: one working-memory document of 10,000 messages (RedisJSON).
    let messages: Vec<serde_json::Value> = (0..N)
        .map(|i| {
            serde_json::json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": format!("message {i}"),
                "id": format!("01M8KN{i:04}{:016}", i), "created_at": format!("2026-12-07T16:{:02}:{:02}.000000Z", i / 3600 % 60, i % 60)})
        })
        .collect();
    let doc =
        serde_json::json!({"messages": messages, "session_id": "big", "user_id": "u", "updated_at": 1_796_659_390});
    redis::cmd("JSON.SET").arg("working_memory:big").arg("$").arg(doc.to_string()).exec(&mut vc).unwrap();
    time("agent-memory-server", reader(LayoutPreset::AgentMemoryServer, None, Some(store(&v.url()))), "big").await;

    // langgraph-firestore: one checkpoint of LangChain messages in LangGraph's msgpack (each an
    // extension-5 pydantic model), base64, as the checkpointer writes it. 10,000 of them do not
    // fit in one Firestore document (1 MiB a property): 6,000 do.
    use rmpv::Value as M;
    let msg = |i: usize| {
        let model = M::Array(vec![
            "langchain_core.messages.human".into(),
            "HumanMessage".into(),
            M::Map(vec![("content".into(), format!("m{i}").into()), ("type".into(), "human".into())]),
            "model_validate_json".into(),
        ]);
        let mut payload = Vec::new();
        rmpv::encode::write_value(&mut payload, &model).unwrap();
        M::Ext(5, payload)
    };
    let state = M::Map(vec![
        ("ts".into(), "2026-11-29T14:54:16.004214+00:00".into()),
        ("channel_values".into(), M::Map(vec![("messages".into(), M::Array((0..6_000).map(msg).collect()))])),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &state).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let id = "1f1ec04b-f614-6178-8004-d9c6371f1f00";
    fs.put(
        &format!("checkpoints/big_/checkpoints/{id}"),
        vec![
            ("type".into(), FsValue::String("msgpack".into())),
            ("checkpoint".into(), FsValue::String(b64.clone())),
            ("checkpoint_id".into(), FsValue::String(id.into())),
        ],
    )
    .await
    .unwrap();
    println!("(the checkpoint: {} KB of base64 msgpack in one document)", b64.len() / 1024);
    time("langgraph-firestore", reader(LayoutPreset::LanggraphFirestore, Some(fs.clone()), None), "big").await;

    // memscope's layout renamed (camelCase, `author`/`body`): 10,000 message documents, read
    // whole and ordered in memory.
    let docs: Vec<(String, Vec<(String, FsValue)>)> = (0..N)
        .map(|i| {
            let at = memscope::domain::Ts { secs: 1_795_000_000 + i as i64, nanos: 0 };
            (
                format!("chats/big/items/m{i:05}"),
                vec![
                    ("author".into(), FsValue::String("human".into())),
                    ("body".into(), FsValue::String(format!("message {i}"))),
                    ("createdAt".into(), FsValue::Timestamp(at)),
                ],
            )
        })
        .collect();
    fs.put("chats/big", vec![("title".into(), FsValue::String("big".into()))]).await.unwrap();
    fs.put_many(docs).await.unwrap();
    let mut renamed = layout(LayoutPreset::Memscope);
    renamed.collection = "chats".into();
    renamed.messages_field = "items".into();
    renamed.messages_in = memscope::config::MessagesIn::Subcollection;
    renamed.fields.role = Some("author".into());
    renamed.fields.content = Some("body".into());
    renamed.overridden = true;
    time("renamed subcollection", memscope::layout::reader(&renamed, Some(fs.clone()), None).unwrap(), "big").await;
}
