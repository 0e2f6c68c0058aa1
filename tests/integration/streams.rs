//! A stream used as an agent's task queue, on a real redis-server: a consumer group whose
//! worker took two tasks and acknowledged one, another that never read. The value's first page
//! shows each group's pending count and lag, its consumers and the oldest pending entries with
//! idle time and deliveries — in the Keys tab's lines and in `memscope value --json`.

#[tokio::test]
async fn a_stalled_task_queue_shows_its_groups_consumers_and_pending_entries() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    for i in 0..5 {
        redis::cmd("XADD").arg("tasks").arg("*").arg("task").arg(format!("summarise thread {i}")).exec(&mut c).unwrap();
    }
    redis::cmd("XGROUP").arg("CREATE").arg("tasks").arg("workers").arg("0").exec(&mut c).unwrap();
    redis::cmd("XGROUP").arg("CREATE").arg("tasks").arg("auditors").arg("$").exec(&mut c).unwrap();
    let read: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("worker-1")
        .arg("COUNT")
        .arg(2)
        .arg("STREAMS")
        .arg("tasks")
        .arg(">")
        .query(&mut c)
        .unwrap();
    let first_id = match &read {
        redis::Value::Array(s) => match &s[0] {
            redis::Value::Array(kv) => match &kv[1] {
                redis::Value::Array(entries) => match &entries[0] {
                    redis::Value::Array(e) => match &e[0] {
                        redis::Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
                        other => panic!("{other:?}"),
                    },
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    redis::cmd("XACK").arg("tasks").arg("workers").arg(&first_id).exec(&mut c).unwrap();
    let s = memscope::store::redis::RedisStore::connect(&memscope::config::RedisConfig::new(r.url()), None).unwrap();
    let page =
        memscope::store::KeyStore::value(&s, b"tasks", &memscope::domain::PageCursor::Start).await.unwrap().unwrap();
    let workers = page.groups.iter().find(|g| g.name == "workers").unwrap();
    assert_eq!((workers.pending, workers.lag), (1, Some(3)), "{workers:?}");
    assert_eq!(workers.consumers.len(), 1);
    assert_eq!((workers.consumers[0].name.as_str(), workers.consumers[0].pending), ("worker-1", 1));
    assert_eq!(workers.oldest_pending.len(), 1);
    assert_eq!((workers.oldest_pending[0].consumer.as_str(), workers.oldest_pending[0].deliveries), ("worker-1", 1));
    let auditors = page.groups.iter().find(|g| g.name == "auditors").unwrap();
    assert_eq!((auditors.pending, auditors.lag, auditors.consumers.len()), (0, Some(0), 0));
    let lines: Vec<String> = memscope::tabs::keys::value_lines(&page).into_iter().map(|(_, l)| l).collect();
    let text = lines.join("\n");
    assert!(text.contains("consumer groups:"), "{text}");
    assert!(text.contains("workers · 1 consumers · 1 pending · lag 3"), "{text}");
    assert!(text.contains("consumer worker-1 · 1 pending · idle"), "{text}");
    assert!(text.contains("→ worker-1 · idle") && text.contains("delivered 1×"), "{text}");
    // Headless, as data.
    let dir = tempfile::tempdir().unwrap();
    let o = crate::support::memscope(dir.path(), &["--redis-url", &r.url(), "value", "tasks", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let g = v["groups"].as_array().unwrap().iter().find(|g| g["name"] == "workers").unwrap();
    assert_eq!((g["pending"].as_u64(), g["lag"].as_u64()), (Some(1), Some(3)), "{v}");
    assert_eq!(g["oldest_pending"][0]["consumer"], "worker-1");
    assert_eq!(v["elements"].as_array().unwrap().len(), 5);
}
