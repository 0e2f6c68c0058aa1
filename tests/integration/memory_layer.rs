//! The memory layer against real services: a private redis-server, the Firestore emulator and
//! the embedded vector index. Fault injection (Redis killed mid-save), idempotency, fallback
//! reads, the vector-search cache, and the audit finding each seeded kind of drift with exact
//! counts, then repairing it.
//! Why ~750 lines: the scenarios share one seeded stack each (servers, emulator, index); the
//! audit case alone seeds every kind of drift and checks its exact counts and repair.

use memscope::audit::{self, Kind, Options};
use memscope::config::{MemoryConfig, RedisConfig};
use memscope::domain::{FsValue, Metric, Ts, VectorRecord};
use memscope::embed::{Embedder, InputType};
use memscope::memory::{Memory, NewMessage, ReadFrom, TierWrite};
use memscope::store::firestore::FirestoreStore;
use memscope::store::local_vectors::LocalVectors;
use memscope::store::redis::RedisStore;
use memscope::store::{KeyStore, LongTermStore, StoreError, VectorStore};
use memscope::tiers::VectorTier;
use std::sync::Arc;

/// Feature hashing of words into 32 dimensions: a real (if crude) embedder, deterministic and fast.
struct HashEmbedder;

#[async_trait::async_trait]
impl Embedder for HashEmbedder {
    fn describe(&self) -> String {
        "hashing (test)".into()
    }
    fn dimension(&self) -> Option<usize> {
        Some(32)
    }
    async fn embed(&self, texts: &[String], _kind: InputType) -> Result<Vec<Vec<f32>>, StoreError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; 32];
                for w in t.split_whitespace() {
                    v[(memscope::memory::stable_hash(&[&w.to_lowercase()]) % 32) as usize] += 1.0;
                }
                v[0] += 0.01;
                v
            })
            .collect())
    }
}

struct Stack {
    redis: memscope::demo::PrivateRedis,
    lt: Arc<dyn LongTermStore>,
    vectors: Arc<dyn VectorStore>,
}

async fn stack(test: &str) -> Stack {
    let emu = crate::support::firestore_emulator();
    let lt = Arc::new(
        FirestoreStore::connect(&crate::support::project_id(test), "(default)", Some(&emu.host)).await.unwrap(),
    );
    Stack { redis: crate::support::redis(), lt, vectors: Arc::new(LocalVectors::in_memory(Metric::Cosine)) }
}

fn layer(s: &Stack, cfg: MemoryConfig) -> Memory {
    let r = RedisStore::connect(&RedisConfig::new(s.redis.url()), None).unwrap();
    r.set_writes_allowed(true);
    let vector = VectorTier {
        store: s.vectors.clone(),
        embedder: Some(Arc::new(HashEmbedder)),
        embedder_error: None,
        dimension: Some(32),
        namespace: String::new(),
        text_field: "text".into(),
    };
    Memory::new(s.lt.clone(), Some(Arc::new(r)), Some(vector), cfg)
}

fn msg(conv: &str, id: &str, role: &str, content: &str, secs: i64) -> NewMessage {
    NewMessage {
        conversation_id: conv.into(),
        message_id: Some(id.into()),
        user_id: "u-alice".into(),
        role: role.into(),
        content: content.into(),
        timestamp: Some(Ts { secs, nanos: 0 }),
        agent_id: Some("agent-support".into()),
    }
}

fn list(c: &mut redis::Connection, key: &str) -> Vec<String> {
    redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query::<Vec<String>>(c).unwrap()
}

fn ids_of(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|j| serde_json::from_str::<serde_json::Value>(j).unwrap()["message_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn save_message_writes_every_tier_in_order_and_only_once() {
    let s = stack("save_message").await;
    let mem = layer(&s, MemoryConfig { recent_messages: 3, ..Default::default() });
    let mut rc = crate::support::client(&s.redis);
    // Saved out of order: the list is ordered by timestamp and trimmed to the 3 newest.
    for (i, secs) in [(1, 100), (3, 300), (2, 200), (4, 400)] {
        let r = mem
            .save_message(
                "c1",
                msg("", &format!("m{i}"), "user", &format!("question number {i} about refunds"), secs),
                "u-alice",
            )
            .await
            .unwrap();
        assert!(r.created);
        assert_eq!((r.redis.clone(), r.vector.clone()), (TierWrite::Written, TierWrite::Written), "{r:?}");
    }
    let short = mem.save_message("c1", msg("", "m5", "assistant", "ok", 500), "u-alice").await.unwrap();
    assert!(matches!(short.vector, TierWrite::Skipped(_)), "too short to embed: {short:?}");
    // Saving again changes nothing anywhere.
    let again = mem.save_message("c1", msg("", "m4", "user", "question number 4 about refunds", 400), "u-alice").await;
    let again = again.unwrap();
    assert!(!again.created);
    assert_eq!(again.vector, TierWrite::Skipped(memscope::memory::Skip::UpToDate));

    let conv = s.lt.document("conversations/c1").await.unwrap().unwrap();
    assert_eq!(conv.get("message_count"), Some(&FsValue::Int(5)));
    assert_eq!(conv.get("updated_at").and_then(FsValue::as_ts), Some(Ts { secs: 500, nanos: 0 }));
    assert_eq!(conv.get("created_at").and_then(FsValue::as_ts), Some(Ts { secs: 100, nanos: 0 }));
    assert_eq!(conv.str_field("title").as_deref(), Some("question number 1 about refunds"));
    assert_eq!(ids_of(&list(&mut rc, "conversation:c1:messages")), ["m3", "m4", "m5"]);
    let ttl: i64 = redis::cmd("TTL").arg("session:c1").query(&mut rc).unwrap();
    assert!(ttl > 1700, "session TTL refreshed: {ttl}");
    let last: String = redis::cmd("HGET").arg("session:c1").arg("last_message_id").query(&mut rc).unwrap();
    assert_eq!(last, "m5");
    let recs = s.vectors.fetch(&["c1#m1".into(), "c1#m4".into(), "c1#m5".into()], "").await.unwrap();
    let mut ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["c1#m1", "c1#m4"], "records are keyed conversation#message");
    let md = &recs.iter().find(|r| r.id == "c1#m4").unwrap().metadata;
    assert_eq!(md["conversation_id"], "c1");
    assert_eq!(md["user_id"], "u-alice");
    assert_eq!(md["role"], "user");
    assert_eq!(md["timestamp"], 400);
    assert_eq!(md["text"], "question number 4 about refunds");
    assert_eq!(s.vectors.stats().await.unwrap().total, 4);
}

#[tokio::test]
async fn redis_down_during_save_loses_nothing_and_repair_finishes_it() {
    let mut s = stack("redis_down").await;
    let mem = layer(&s, MemoryConfig::default());
    mem.save_message("c1", msg("", "m1", "user", "my order never arrived, what now?", 100), "u-alice").await.unwrap();
    s.redis.kill();
    let r = mem
        .save_message("c1", msg("", "m2", "assistant", "I have opened a refund for the order.", 200), "u-alice")
        .await
        .expect("the source of truth was written: the save succeeds");
    assert!(matches!(r.redis, TierWrite::Queued(_)), "{r:?}");
    assert_eq!(r.vector, TierWrite::Written);
    assert!(s.lt.document("conversations/c1/messages/m2").await.unwrap().is_some(), "nothing lost");
    assert_eq!(mem.stats().queued, 1);

    // Redis is back, empty (no persistence): the audit reports the queued write…
    s.redis.restart().unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.counts.get(&Kind::PendingRepair), Some(&1), "{:#?}", report.findings);
    assert_eq!(report.drift(), 1, "{:#?}", report.findings);
    // …and repair completes it, then the queue is empty.
    let fixed = audit::run(&mem, Options { repair: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    assert_eq!(fixed.repaired.get(&Kind::PendingRepair), Some(&1));
    let mut rc = crate::support::client(&s.redis);
    assert_eq!(ids_of(&list(&mut rc, "conversation:c1:messages")), ["m1", "m2"]);
    assert_eq!(audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap().drift(), 0);
}

/// A re-run that writes what failed before settles the repair queue's entries for it: the
/// audit is clean without `--repair` (it stayed at "pending_repair N" with exit 1).
#[tokio::test]
async fn a_re_run_that_completes_the_writes_settles_the_repair_queue() {
    let mut s = stack("settle").await;
    let mem = layer(&s, MemoryConfig::default());
    let batch = |i: i64| {
        (1..=3)
            .map(|c| {
                let mut m =
                    msg("", &format!("m{i}"), "user", &format!("question {i} about order {c} and its refund"), i);
                m.conversation_id = format!("c{c}");
                m.user_id = "u".into();
                m
            })
            .collect::<Vec<_>>()
    };
    mem.save_batch(batch(1), |_| {}).await.unwrap();
    s.redis.kill();
    let r = mem.save_batch(batch(2), |_| {}).await.unwrap();
    assert_eq!((r.queued, r.settled), (3, 0), "one pending rebuild per conversation");
    s.redis.restart().unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.counts.get(&Kind::PendingRepair), Some(&3));
    // The same import again: every write goes through, and settles what was pending.
    let r = mem.save_batch(batch(2), |_| {}).await.unwrap();
    assert_eq!((r.queued, r.settled), (0, 3));
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.counts.get(&Kind::PendingRepair), None, "{:#?}", report.findings);
}

/// A session hash of 200,000 fields and a recent list of 300,000 entries (other writers, an
/// untrimmed list): the trace and the audit read a bounded part of each — measured by what the
/// server sent — and say what they left unread.
#[tokio::test]
async fn the_trace_and_the_audit_read_huge_structures_in_part_and_say_so() {
    let s = stack("bounded").await;
    let mem = layer(&s, MemoryConfig::default());
    mem.save_message("c1", msg("", "m1", "user", "where is my parcel, it is late", 100), "u-alice").await.unwrap();
    let mut rc = crate::support::client(&s.redis);
    let filler = "x".repeat(100);
    for chunk in 0..20 {
        let mut p = redis::pipe();
        for i in 0..10_000 {
            let n = chunk * 10_000 + i;
            p.cmd("HSET").arg("session:c1").arg(format!("extra:{n}")).arg(&filler).ignore();
            p.cmd("LPUSH").arg("conversation:c1:messages").arg(format!("{{\"message_id\": \"old{n}\"}}")).ignore();
            p.cmd("LPUSH").arg("conversation:c1:messages").arg(format!("{{\"message_id\": \"older{n}\"}}")).ignore();
        }
        p.query::<()>(&mut rc).unwrap();
    }
    let sent = |rc: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(rc).unwrap();
        info.lines().find_map(|l| l.strip_prefix("total_net_output_bytes:")).unwrap().trim().parse().unwrap()
    };
    let before = sent(&mut rc);
    let t = memscope::trace::trace(&mem, "c1", "m1").await;
    let redis = t.redis.unwrap().unwrap();
    let session = redis.iter().find(|e| e.role == "session").unwrap();
    assert!(session.detail.contains("last_message_id=m1"), "{session:?}");
    assert!(session.detail.contains("+200000 other fields (not read)"), "{session:?}");
    let recent = redis.iter().find(|e| e.role == "recent list").unwrap();
    assert!(recent.holds && recent.detail.contains("entry 400001 of 400001"), "{recent:?}");
    assert!(recent.detail.contains("the newest 1000 of 400001 entries read"), "{recent:?}");
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    let stale = report.findings.iter().find(|f| f.kind == Kind::RecentStale).expect("the bloated list is a finding");
    assert!(stale.detail.contains("the newest 1000 were checked, 399001 older ones not read"), "{stale:?}");
    // The hash (22 MB) and the list (11 MB) were never sent whole.
    let bytes = sent(&mut rc) - before;
    assert!(bytes < 2_000_000, "the server sent {bytes} bytes");
}

#[tokio::test]
async fn fallback_reads_refresh_the_faster_tiers() {
    let s = stack("fallback").await;
    let mem = layer(&s, MemoryConfig::default());
    s.lt.put("users/u-alice", vec![("plan".into(), FsValue::String("pro".into()))]).await.unwrap();
    let (v, tier) = mem.get_with_fallback("users/u-alice").await.unwrap().unwrap();
    assert_eq!((v["plan"].as_str(), tier), (Some("pro"), ReadFrom::LongTerm));
    assert_eq!(mem.get_with_fallback("users/u-alice").await.unwrap().unwrap().1, ReadFrom::Process);
    let mut rc = crate::support::client(&s.redis);
    let ttl: i64 = redis::cmd("TTL").arg("cache:doc:users/u-alice").query(&mut rc).unwrap();
    assert!(ttl > 250 && ttl <= 300, "cached in Redis with a TTL: {ttl}");
    // Another process (a fresh LRU) is served by Redis.
    let other = layer(&s, MemoryConfig::default());
    assert_eq!(other.get_with_fallback("users/u-alice").await.unwrap().unwrap().1, ReadFrom::Redis);
    assert!(mem.get_with_fallback("users/nobody").await.unwrap().is_none());
    let st = mem.stats();
    assert_eq!((st.lru_hits, st.long_term_reads), (1, 2));

    // Conversations: a missing list is rebuilt from the long-term store on the first read.
    for i in 1..=4 {
        mem.save_message("c9", msg("", &format!("m{i}"), "user", &format!("hello number {i}"), i * 10), "u")
            .await
            .unwrap();
    }
    redis::cmd("DEL").arg("conversation:c9:messages").query::<()>(&mut rc).unwrap();
    let (msgs, tier) = mem.get_conversation("c9", 3).await.unwrap();
    assert_eq!(tier, ReadFrom::LongTerm);
    assert_eq!(msgs.iter().map(|m| m.message_id.as_str()).collect::<Vec<_>>(), ["m2", "m3", "m4"]);
    let (msgs, tier) = mem.get_conversation("c9", 3).await.unwrap();
    assert_eq!((tier, msgs.len()), (ReadFrom::Redis, 3));

    // Cached results and cached vector searches.
    mem.cache_result("cache:weather:nyc", &serde_json::json!({"t": 21}), std::time::Duration::from_secs(60)).await;
    assert_eq!(other.get_cached_result("cache:weather:nyc").await, Some(serde_json::json!({"t": 21})));
    let (a, cached_a) = mem.query("hello number", 2, None).await.unwrap();
    let (b, cached_b) = other.query("hello number", 2, None).await.unwrap();
    assert_eq!((cached_a, cached_b), (false, true));
    assert_eq!(
        a.matches.iter().map(|m| &m.id).collect::<Vec<_>>(),
        b.matches.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    let keys: Vec<String> = redis::cmd("KEYS").arg("vsearch:*").query(&mut rc).unwrap();
    assert_eq!(keys.len(), 1);
}

#[tokio::test]
async fn audit_finds_each_kind_of_drift_with_exact_counts_and_repair_clears_it() {
    let s = stack("audit").await;
    let mem = layer(&s, MemoryConfig::default());
    let mut batch = Vec::new();
    for c in 1..=4 {
        for m in 1..=5 {
            let role = if m % 2 == 1 { "user" } else { "assistant" };
            batch.push(msg(
                &format!("c{c}"),
                &format!("c{c}-m{m}"),
                role,
                &format!("conversation {c} says thing {m} here"),
                c * 1000 + m,
            ));
        }
    }
    let r = mem.save_batch(batch, |_| {}).await.unwrap();
    assert_eq!((r.created, r.conversations, r.embedded), (20, 4, 20));
    assert_eq!(audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap().drift(), 0, "a clean start");

    let mut rc = crate::support::client(&s.redis);
    // 2 missing vectors.
    s.vectors.delete(&["c1#c1-m1".into(), "c2#c2-m3".into()], "").await.unwrap();
    // 3 orphans: vectors of messages that are gone (one deleted message, two never written).
    s.lt.delete_many(&["conversations/c3/messages/c3-m5".into()]).await.unwrap();
    let ghost = |id: &str| {
        let mut md = memscope::domain::Metadata::new();
        md.insert("conversation_id".into(), "c3".into());
        md.insert("message_id".into(), id.into());
        VectorRecord { id: id.into(), values: vec![1.0; 32], metadata: md }
    };
    s.vectors.upsert(vec![ghost("ghost-1"), ghost("ghost-2")], "").await.unwrap();
    // A vector of another writer (no conversation metadata) is not an orphan.
    s.vectors
        .upsert(vec![VectorRecord { id: "doc-1".into(), values: vec![1.0; 32], metadata: Default::default() }], "")
        .await
        .unwrap();
    // 1 metadata mismatch: the record says another user.
    let mut rec = s.vectors.fetch(&["c4#c4-m1".into()], "").await.unwrap().pop().unwrap();
    rec.metadata.insert("user_id".into(), "u-mallory".into());
    s.vectors.upsert(vec![rec], "").await.unwrap();
    // Recent lists: c1 misses its newest message, c2 is out of order; c3 holds the deleted message (stale).
    redis::cmd("RPOP").arg("conversation:c1:messages").query::<()>(&mut rc).unwrap();
    let c2 = list(&mut rc, "conversation:c2:messages");
    redis::cmd("DEL").arg("conversation:c2:messages").query::<()>(&mut rc).unwrap();
    for j in [&c2[1], &c2[0], &c2[2], &c2[3], &c2[4]] {
        redis::cmd("RPUSH").arg("conversation:c2:messages").arg(j).query::<()>(&mut rc).unwrap();
    }
    // 2 sessions and 1 list of conversations that do not exist.
    for k in ["session:gone-1", "session:gone-2"] {
        redis::cmd("HSET").arg(k).arg("user_id").arg("u-x").query::<()>(&mut rc).unwrap();
    }
    redis::cmd("RPUSH").arg("conversation:gone-3:messages").arg("{}").query::<()>(&mut rc).unwrap();

    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    let count = |k: Kind| *report.counts.get(&k).unwrap_or(&0);
    let got: Vec<(Kind, u64)> = Kind::ALL.iter().map(|k| (*k, count(*k))).filter(|(_, n)| *n > 0).collect();
    assert_eq!(
        got,
        vec![
            (Kind::MissingVector, 2),
            (Kind::OrphanVector, 3),
            (Kind::VectorMismatch, 1),
            (Kind::RecentMissing, 1),
            (Kind::RecentOrder, 1),
            (Kind::RecentStale, 1),
            (Kind::RecentOrphan, 1),
            (Kind::SessionOrphan, 2),
            (Kind::ConversationStats, 1),
        ],
        "{:#?}",
        report.findings
    );
    let ids = |k: Kind| -> Vec<String> {
        let mut v: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.kind == k)
            .flat_map(|f| f.vector_id.iter().cloned().chain(f.key.iter().cloned()).chain(f.message_ids.iter().cloned()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(ids(Kind::MissingVector), ["c1-m1", "c2-m3"]);
    assert_eq!(ids(Kind::OrphanVector), ["c3#c3-m5", "c3-m5", "ghost-1", "ghost-2"]);
    assert_eq!(ids(Kind::RecentMissing), ["c1-m5", "conversation:c1:messages"]);
    assert_eq!(ids(Kind::SessionOrphan), ["session:gone-1", "session:gone-2"]);
    let json = report.json(false);
    assert_eq!(json["counts"]["orphan_vector"], 3);
    // The other writer's record is not judged, and the report says so (never a silent "clean").
    assert!(
        report.skipped.iter().any(|s| s.starts_with("1 vector record without conversation_id/message_id")),
        "{:?}",
        report.skipped
    );
    assert_eq!(json["clean"], false);

    // A dry run changes nothing.
    let dry =
        audit::run(&mem, Options { repair: true, dry_run: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    assert_eq!(dry.drift(), report.drift());
    assert!(dry.repaired.is_empty());
    assert_eq!(audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap().drift(), report.drift());

    let fixed = audit::run(&mem, Options { repair: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    assert_eq!(fixed.unrepaired(), 0, "{:#?} {:?}", fixed.repaired, fixed.repair_errors);
    let after = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(after.drift(), 0, "{:#?}", after.findings);
    assert_eq!(s.vectors.fetch(&["doc-1".into()], "").await.unwrap().len(), 1, "other writers' vectors kept");
}

#[tokio::test]
async fn audit_reports_a_dimension_mismatch() {
    let s = stack("dimension").await;
    let mem = layer(&s, MemoryConfig::default());
    s.vectors
        .upsert(vec![VectorRecord { id: "x".into(), values: vec![0.5; 8], metadata: Default::default() }], "")
        .await
        .unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.counts.get(&Kind::DimensionMismatch), Some(&1));
    assert!(report.findings[0].detail.contains("32-dimensional"), "{}", report.findings[0].detail);
}

#[tokio::test]
async fn trace_follows_one_message_across_the_tiers_and_badges_say_who_holds_what() {
    let mut s = stack("trace").await;
    let mem = layer(&s, MemoryConfig { recent_messages: 2, ..Default::default() });
    let mut rc = crate::support::client(&s.redis);
    for (i, secs) in [(1, 100), (2, 200), (3, 300)] {
        let content = format!("how do refunds work for order number {i}");
        mem.save_message("c1", msg("", &format!("m{i}"), "user", &content, secs), "u-alice").await.unwrap();
    }
    mem.save_message("c1", msg("", "m4", "assistant", "ok", 400), "u-alice").await.unwrap();
    mem.save_message("c2", msg("", "n1", "user", "how do refunds work for my order", 100), "u-bob").await.unwrap();

    // Badges: the list keeps the 2 newest; the vector tier holds the relevant ones.
    let ids: Vec<String> = ["m1", "m2", "m3", "m4"].iter().map(|s| s.to_string()).collect();
    let b = memscope::trace::badges(&mem, "c1", &ids).await;
    assert!(b.errors.is_empty(), "{:?}", b.errors);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<std::collections::HashSet<_>>();
    assert_eq!(b.redis, Some(set(&["m3", "m4"])));
    assert_eq!(b.vector, Some(set(&["m1", "m2", "m3"])));

    // A cached read puts the document in the read-through cache.
    mem.get_with_fallback("conversations/c1/messages/m3").await.unwrap();
    let t = memscope::trace::trace(&mem, "c1", "m3").await;
    assert_eq!(t.path, "conversations/c1/messages/m3");
    let doc = t.document.as_ref().unwrap().as_ref().expect("the long-term document");
    assert_eq!(doc.get("role"), Some(&FsValue::String("user".into())));
    let redis = t.redis.as_ref().unwrap().as_ref().unwrap();
    let by_role = |r: &str| redis.iter().find(|e| e.role == r).unwrap().clone();
    let recent = by_role("recent list");
    assert!(recent.holds && recent.detail.contains("entry 1 of 2") && recent.detail.contains("agrees"), "{recent:?}");
    assert_eq!(recent.pttl_ms, -1, "the recent list has no TTL of its own");
    let session = by_role("session");
    assert!(!session.holds, "the session points at the newest message, m4: {session:?}");
    assert!(session.detail.contains("last_message_id=m4"), "{session:?}");
    assert!(session.pttl_ms > 0 && session.pttl_ms <= 1_800_000, "session TTL: {}", session.pttl_ms);
    let cache = by_role("read-through cache");
    assert!(cache.holds && cache.pttl_ms > 0, "{cache:?}");
    let v = t.vector.as_ref().unwrap().as_ref().unwrap();
    let (dims, md) = v.record.as_ref().expect("a vector record");
    assert_eq!(*dims, 32);
    assert_eq!(md.get("conversation_id"), Some(&"c1".into()));
    assert!(v.relevant && v.disagreements.is_empty(), "{:?}", v.disagreements);
    // Its nearest neighbours: the other refund questions, itself excluded.
    let nids: Vec<&str> = v.neighbours.iter().map(|n| n.id.as_str()).collect();
    assert!(!nids.contains(&"c1#m3") && nids.contains(&"c1#m2") && nids.contains(&"c2#n1"), "{nids:?}");
    assert_eq!(v.neighbours.iter().find(|n| n.id == "c2#n1").unwrap().conversation_id.as_deref(), Some("c2"));

    // Drift shows: the list entry dropped, the vector's metadata changed behind the layer's back.
    redis::cmd("DEL").arg("conversation:c1:messages").exec(&mut rc).unwrap();
    let mut rec = s.vectors.fetch(&["c1#m3".into()], "").await.unwrap().remove(0);
    rec.metadata.insert("user_id".into(), "u-mallory".into());
    s.vectors.upsert(vec![VectorRecord { ..rec }], "").await.unwrap();
    let t = memscope::trace::trace(&mem, "c1", "m3").await;
    let redis = t.redis.unwrap().unwrap();
    assert!(!redis[0].holds && redis[0].pttl_ms == -2 && redis[0].detail.contains("no recent list"), "{:?}", redis[0]);
    let v = t.vector.unwrap().unwrap();
    assert_eq!(v.disagreements.len(), 1, "{:?}", v.disagreements);
    assert!(v.disagreements[0].starts_with("user_id"), "{:?}", v.disagreements);

    // A message that is gone from long-term: said so, the other tiers still read.
    let t = memscope::trace::trace(&mem, "c1", "m-nope").await;
    assert_eq!(t.document, Ok(None));
    assert!(t.vector.unwrap().unwrap().record.is_none());

    // Redis down: its part fails alone.
    s.redis.kill();
    let t = memscope::trace::trace(&mem, "c1", "m3").await;
    assert!(matches!(t.redis, Some(Err(_))), "{:?}", t.redis);
    assert!(matches!(t.document, Ok(Some(_))));
    let b = memscope::trace::badges(&mem, "c1", &ids).await;
    assert!(b.redis.is_none() && b.vector.is_some() && b.errors.len() == 1, "{b:?}");
}

#[tokio::test]
async fn concurrent_writers_to_one_conversation_count_every_message() {
    let s = stack("concurrent").await;
    let mem = Arc::new(layer(&s, MemoryConfig::default()));
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let mem = mem.clone();
            tokio::spawn(async move {
                let m = msg("", &format!("m{i}"), "user", &format!("agent number {i} writes at once"), 100 + i);
                mem.save_message("cc", m, "u-alice").await
            })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap().created);
    }
    let conv = s.lt.document("conversations/cc").await.unwrap().unwrap();
    assert_eq!(conv.get("message_count"), Some(&FsValue::Int(10)), "no increment lost");
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.drift(), 0, "{:#?}", report.findings);
}

/// Two imports of overlapping message sets at once (each conversation's 20 messages, 10 of
/// them in both): every message is counted once — `message_count` is 20, not 30 — on both
/// long-term stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_imports_at_once_count_each_message_once() {
    let s = stack("overlap").await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn memscope::store::LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(dir.path().join("m.db").to_str().unwrap()).unwrap());
    for lt in [s.lt.clone() as Arc<dyn memscope::store::LongTermStore>, sqlite] {
        let mem = Arc::new(Memory::new(lt.clone(), None, None, MemoryConfig::default()));
        let batch = |from: i64, to: i64| {
            let mut b = Vec::new();
            for c in 0..20 {
                for m in from..to {
                    b.push(msg(&format!("c{c}"), &format!("m{m:02}"), "user", &format!("message {m} of {c}"), 100 + m));
                }
            }
            b
        };
        for _trial in 0..2 {
            let (a, b) = (mem.clone(), mem.clone());
            let (ba, bb) = (batch(0, 15), batch(5, 20));
            let (ra, rb) = tokio::join!(
                tokio::spawn(async move { a.save_batch(ba, |_| {}).await.unwrap() }),
                tokio::spawn(async move { b.save_batch(bb, |_| {}).await.unwrap() })
            );
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            if _trial == 0 {
                assert_eq!(ra.created + rb.created, 400, "each message created once");
            } else {
                assert_eq!(ra.created + rb.created, 0, "a re-run creates nothing");
            }
            for c in 0..20 {
                let conv = lt.document(&format!("conversations/c{c}")).await.unwrap().unwrap();
                assert_eq!(conv.get("message_count"), Some(&FsValue::Int(20)), "c{c} after trial {_trial}");
            }
        }
    }
}

/// Messages under a conversation that has no document (written by another tool, or the
/// document deleted): the list shows it (after the others, marked as such) and the audit
/// reports it and repairs it — on both long-term stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_without_a_document_are_listed_and_audited() {
    let s = stack("phantoms").await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn memscope::store::LongTermStore> =
        Arc::new(memscope::store::sqlite::SqliteStore::open(dir.path().join("m.db").to_str().unwrap()).unwrap());
    for lt in [s.lt.clone() as Arc<dyn memscope::store::LongTermStore>, sqlite] {
        let mem = Memory::new(lt.clone(), None, None, MemoryConfig::default());
        mem.save_message("c1", msg("", "m1", "user", "a conversation with its document", 100), "u").await.unwrap();
        for m in ["m1", "m2"] {
            lt.put(
                &format!("conversations/orphan/messages/{m}"),
                vec![
                    ("role".into(), FsValue::String("user".into())),
                    ("content".into(), FsValue::String(format!("{m} with no parent"))),
                    ("timestamp".into(), FsValue::Timestamp(Ts { secs: 200, nanos: 0 })),
                ],
            )
            .await
            .unwrap();
        }
        let reader =
            memscope::layout::reader(&memscope::config::LayoutConfig::default(), Some(lt.clone()), None).unwrap();
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = reader.conversations(&memscope::domain::ConvFilter::All, after.as_ref(), 1).await.unwrap();
            ids.extend(page.items.iter().map(|c| (c.id.clone(), c.has_no_document())));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(ids, [("c1".to_string(), false), ("orphan".to_string(), true)], "listed, last, marked");
        let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
        let f = report.findings.iter().find(|f| f.conversation_id.as_deref() == Some("orphan")).expect("audited");
        assert!(f.detail.contains("no conversation document; 2 messages"), "{f:?}");
        // The repair writes the document from its messages; the next audit is clean of it.
        let fixed = audit::run(&mem, Options { repair: true, ..Options::default() }, &mut |_| {}).await.unwrap();
        assert_eq!(fixed.repaired.get(&Kind::ConversationStats), Some(&1), "{:#?}", fixed.repair_errors);
        let doc = lt.document("conversations/orphan").await.unwrap().expect("written by the repair");
        assert_eq!(doc.get("message_count"), Some(&FsValue::Int(2)));
        let again = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
        assert!(again.findings.iter().all(|f| f.conversation_id.as_deref() != Some("orphan")), "{:#?}", again.findings);
    }
}

#[tokio::test]
async fn messages_numbered_alike_in_every_conversation_keep_one_vector_each() {
    let s = stack("vector-ids").await;
    let mem = layer(&s, MemoryConfig::default());
    // 5 conversations × 20 messages, numbered m0000… in each, as many agents do.
    let mut batch = Vec::new();
    for c in 0..5 {
        for m in 0..20 {
            let content = format!("conversation {c} message {m} asks about refunds for order {}", c * 100 + m);
            batch.push(msg(&format!("conv-{c}"), &format!("m{m:04}"), "user", &content, 1000 + m));
        }
    }
    let r = mem.save_batch(batch, |_| {}).await.unwrap();
    assert_eq!((r.created, r.embedded), (100, 100));
    assert_eq!(s.vectors.stats().await.unwrap().total, 100, "one record per (conversation, message)");
    let rec = s.vectors.fetch(&["conv-3#m0007".into()], "").await.unwrap().pop().expect("conv-3#m0007");
    assert_eq!(rec.metadata["conversation_id"], "conv-3");
    assert_eq!(rec.metadata["message_id"], "m0007");
    let clean = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(clean.drift(), 0, "{:#?}", clean.findings);
    assert_eq!(clean.scanned.vectors, 100);

    // An index written the old way: bare message ids, so the 5 conversations overwrote each
    // other and the last writer's record is all that is left of each id.
    let all: Vec<String> = (0..5).flat_map(|c| (0..20).map(move |m| format!("conv-{c}#m{m:04}"))).collect();
    let recs = s.vectors.fetch(&all, "").await.unwrap();
    s.vectors.delete(&all, "").await.unwrap();
    let bare: Vec<VectorRecord> = recs
        .into_iter()
        .filter(|r| r.metadata["conversation_id"] == "conv-4")
        .map(|r| VectorRecord { id: r.metadata["message_id"].as_str().unwrap().to_string(), ..r })
        .collect();
    assert_eq!(bare.len(), 20);
    s.vectors.upsert(bare, "").await.unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.counts.get(&Kind::LegacyVectorId), Some(&20), "{:#?}", report.counts);
    assert_eq!(report.counts.get(&Kind::MissingVector), Some(&80), "{:#?}", report.counts);
    assert_eq!(report.drift(), 100);
    let legacy = report.findings.iter().find(|f| f.kind == Kind::LegacyVectorId).unwrap();
    assert_eq!(legacy.conversation_id.as_deref(), Some("conv-4"));
    assert!(legacy.detail.contains("conv-4#m00"), "{}", legacy.detail);

    let fixed = audit::run(&mem, Options { repair: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    assert_eq!(fixed.repaired.get(&Kind::LegacyVectorId), Some(&20));
    assert_eq!(fixed.repaired.get(&Kind::MissingVector), Some(&80));
    assert_eq!(s.vectors.stats().await.unwrap().total, 100, "old ids deleted once re-keyed");
    assert!(s.vectors.fetch(&["m0007".into()], "").await.unwrap().is_empty());
    let again = audit::run(&mem, Options { repair: true, ..Options::default() }, &mut |_| {}).await.unwrap();
    assert_eq!(again.drift(), 0, "{:#?}", again.findings);
    assert!(again.repaired.values().all(|n| *n == 0), "a second repair repairs nothing: {:?}", again.repaired);
}

#[test]
fn vector_ids_are_unique_per_conversation_and_within_pinecones_limit() {
    use memscope::memory::{MAX_VECTOR_ID_BYTES, vector_id};
    assert_eq!(vector_id("conv-1", "m0001"), "conv-1#m0001");
    assert_ne!(vector_id("conv-1", "m0001"), vector_id("conv-2", "m0001"));
    // A '#' in a conversation id would make "a#b" + "c" and "a" + "b#c" collide: hashed.
    assert_ne!(vector_id("a#b", "c"), vector_id("a", "b#c"));
    assert!(vector_id("a#b", "c").starts_with('~'));
    let long = "x".repeat(1500);
    for (c, m) in [(long.as_str(), "m1"), ("c", long.as_str()), (long.as_str(), long.as_str())] {
        let id = vector_id(c, m);
        assert!(id.len() <= MAX_VECTOR_ID_BYTES, "{} bytes", id.len());
        assert_eq!(id, vector_id(c, m), "stable");
    }
    assert_ne!(vector_id("c", &long), vector_id("c", &format!("{long}y")));
}

/// An audit under live traffic: a message whose vector is written while the audit runs (the
/// layer writes the long-term store first) is not reported, because a suspect is checked again
/// once it has settled. The write happens after the audit has seen the message without its
/// vector, signalled by the audit's own progress.
#[tokio::test]
async fn audit_under_live_traffic_reports_only_what_stays_wrong() {
    let s = stack("audit-settle").await;
    let mem = Arc::new(layer(&s, MemoryConfig::default()));
    mem.save_message("c1", msg("", "m1", "user", "how do refunds work for my order", 100), "u-alice").await.unwrap();
    mem.save_message("c1", msg("", "m2", "user", "and what about the shipping of it", 200), "u-alice").await.unwrap();
    // Both vectors gone; one comes back while the audit runs (a write in flight), one does not.
    let recs = s.vectors.fetch(&["c1#m1".into(), "c1#m2".into()], "").await.unwrap();
    s.vectors.delete(&["c1#m1".into(), "c1#m2".into()], "").await.unwrap();
    let late = recs.into_iter().find(|r| r.id == "c1#m1").unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let vectors = s.vectors.clone();
    let writer = tokio::spawn(async move {
        rx.await.unwrap();
        vectors.upsert(vec![late], "").await.unwrap();
    });
    let mut tx = Some(tx);
    let report = audit::run(&mem, Options::default(), &mut |p| {
        if p.phase == "conversations"
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(());
        }
    })
    .await
    .unwrap();
    writer.await.unwrap();
    assert_eq!(report.counts.get(&Kind::MissingVector), Some(&1), "{:#?}", report.findings);
    assert_eq!(report.findings[0].message_ids, ["m2"], "only the one still missing");
}

/// Messages written by other clients with numeric, null or missing timestamps are audited too
/// (an ordered Firestore query leaves them out): every document is scanned, and the
/// conversation's count and updated_at are checked against all of them.
#[tokio::test]
async fn the_audit_reads_messages_of_every_timestamp_form() {
    let s = stack("audit-forms").await;
    let mem = layer(&s, MemoryConfig::default());
    let put = |id: &str, ts: Option<FsValue>| {
        let mut f = vec![
            ("role".to_string(), FsValue::String("tool".into())),
            ("content".to_string(), FsValue::String(format!("output {id}"))),
        ];
        if let Some(t) = ts {
            f.push(("timestamp".into(), t));
        }
        (format!("conversations/c1/messages/{id}"), f)
    };
    s.lt.put_many(vec![
        put("a", Some(FsValue::Timestamp(Ts { secs: 100, nanos: 0 }))),
        put("b", Some(FsValue::Int(200))),
        put("c", Some(FsValue::Double(300.5))),
        put("d", Some(FsValue::Null)),
        put("e", None),
        (
            "conversations/c1".into(),
            vec![
                ("message_count".into(), FsValue::Int(5)),
                ("updated_at".into(), FsValue::Timestamp(Ts { secs: 300, nanos: 500_000_000 })),
            ],
        ),
    ])
    .await
    .unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.scanned.messages, 5, "every message document");
    assert_eq!(report.drift(), 0, "{:#?}", report.findings);
    // One more, untimed: the count no longer matches, and the audit says so.
    s.lt.put_many(vec![put("f", None)]).await.unwrap();
    let report = audit::run(&mem, Options::default(), &mut |_| {}).await.unwrap();
    assert_eq!(report.scanned.messages, 6);
    assert_eq!(report.counts.get(&Kind::ConversationStats), Some(&1), "{:#?}", report.findings);
    assert!(report.findings[0].detail.contains("message_count 5, 6 messages"), "{}", report.findings[0].detail);
}
