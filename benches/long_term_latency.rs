//! Long-term tier latency, printed as figures (no assertions):
//! - a conversation of 10,000 messages: time to its first screen (the first page) and to stream
//!   all of it, page by page;
//! - 100,000 conversations: time to the first page of the list, and the COUNT.
//!
//! Runs against the Firestore emulator (started privately, as the tests do) and SQLite.
//! `cargo bench --bench main -- long_term_latency` (seeding 110,000 documents takes a minute or two).

use memscope::domain::{ConvFilter, FsValue, Ts};
use memscope::store::LongTermStore;
use memscope::store::firestore::FirestoreStore;
use memscope::store::sqlite::SqliteStore;
use std::time::Instant;

const MESSAGES: usize = 10_000;
const CONVERSATIONS: usize = 100_000;

fn s(x: &str) -> FsValue {
    FsValue::String(x.into())
}

async fn seed(store: &dyn LongTermStore) {
    let t = Instant::now();
    let mut docs = Vec::new();
    docs.push((
        "conversations/big".to_string(),
        vec![("title".into(), s("ten thousand messages")), ("user_id".into(), s("u-load"))],
    ));
    for i in 0..MESSAGES {
        // Mixed forms, as older and newer writers left them.
        let ts = Ts { secs: 1_700_000_000 + i as i64, nanos: 0 };
        let v = if i % 4 == 3 { s(ts.to_rfc3339().trim_end_matches('Z')) } else { FsValue::Timestamp(ts) };
        docs.push((
            format!("conversations/big/messages/m{i:05}"),
            vec![
                ("role".into(), s(if i % 2 == 0 { "user" } else { "assistant" })),
                ("content".into(), s(&format!("message {i}: some text of a usual length for a chat turn."))),
                ("timestamp".into(), v),
            ],
        ));
    }
    store.put_many(docs).await.unwrap();
    let mut docs = Vec::with_capacity(CONVERSATIONS);
    for i in 0..CONVERSATIONS {
        docs.push((
            format!("conversations/c{i:06}"),
            vec![
                ("title".into(), s(&format!("conversation {i}"))),
                ("user_id".into(), s(&format!("u-{}", i % 1000))),
                ("updated_at".into(), FsValue::Timestamp(Ts { secs: 1_600_000_000 + i as i64, nanos: 0 })),
                ("message_count".into(), FsValue::Int(4)),
            ],
        ));
    }
    store.put_many(docs).await.unwrap();
    eprintln!("  seeded {} documents in {:.1} s", MESSAGES + CONVERSATIONS + 1, t.elapsed().as_secs_f64());
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!("p50 {:.1} ms, max {:.1} ms (n={})", v[v.len() / 2], v[v.len() - 1], v.len())
}

async fn measure(name: &str, store: &dyn LongTermStore) {
    seed(store).await;
    let mut first = Vec::new();
    let mut whole = Vec::new();
    let mut pages_ms = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut page = store.messages("big", None, 200).await.unwrap();
        first.push(t.elapsed().as_secs_f64() * 1e3);
        let mut n = page.items.len();
        while let Some(c) = page.next.take() {
            let tp = Instant::now();
            page = store.messages("big", Some(&c), 200).await.unwrap();
            pages_ms.push(tp.elapsed().as_secs_f64() * 1e3);
            n += page.items.len();
        }
        assert_eq!(n, MESSAGES);
        whole.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("{name}: 10,000-message thread, first screen (first 200 messages): {}", stats(first));
    println!("{name}: 10,000-message thread, each further page of 200: {}", stats(pages_ms));
    println!("{name}: 10,000-message thread, all of it streamed: {}", stats(whole));
    let mut list = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let p = store.conversations(&ConvFilter::All, None, 100).await.unwrap();
        list.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(p.items.len(), 100);
    }
    println!("{name}: 100,001 conversations, first page of 100: {}", stats(list));
    // Control: the same page size in document-name order, which needs no sort by the server.
    let mut by_name = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let p = store.documents("conversations", None, 100).await.unwrap();
        by_name.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(p.items.len(), 100);
    }
    println!("{name}: control, first 100 conversations by document name (no sort): {}", stats(by_name));
    let mut deep = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let t = Instant::now();
        let p = store.conversations(&ConvFilter::All, cursor.as_ref(), 100).await.unwrap();
        deep.push(t.elapsed().as_secs_f64() * 1e3);
        cursor = p.next;
    }
    println!("{name}: 100,001 conversations, each next page of 100: {}", stats(deep));
    let t = Instant::now();
    let n = store.count_conversations(&ConvFilter::All).await.unwrap();
    println!("{name}: COUNT = {n} in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}

pub fn bench_main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` builds benches; only `cargo bench` runs this.
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        if std::env::var_os("BENCH_SKIP_SQLITE").is_none() {
            let dir = tempfile::tempdir().unwrap();
            let sqlite = SqliteStore::open(dir.path().join("bench.db").to_str().unwrap()).unwrap();
            measure("sqlite", &sqlite).await;
        }
        let emu = crate::support::firestore_emulator();
        let fs =
            FirestoreStore::connect(&crate::support::project_id("bench"), "(default)", Some(&emu.host)).await.unwrap();
        measure("firestore emulator", &fs).await;
    });
}
