//! Health figures from a real Redis: memscope's own lookups are accounted exactly, so the miss
//! rate it reports is the application's.

mod support;

use memscope::config::RedisConfig;
use memscope::domain::PageCursor;
use memscope::store::KeyStore;
use memscope::store::redis::RedisStore;

fn info_hits_misses(c: &mut redis::Connection) -> (u64, u64) {
    let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
    let get =
        |k: &str| info.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    (get("keyspace_hits:"), get("keyspace_misses:"))
}

#[tokio::test]
async fn own_lookups_match_what_redis_counts() {
    let r = support::redis();
    let mut c = support::client(&r);
    let mut p = redis::pipe();
    p.cmd("SET").arg("s").arg("v").ignore();
    p.cmd("SET").arg("big").arg(vec![b'x'; 5000]).ignore();
    p.cmd("PFADD").arg("hll").arg("a").arg("b").ignore();
    for i in 0..300 {
        p.cmd("RPUSH").arg("l").arg(i).ignore();
        p.cmd("HSET").arg("h").arg(i).arg(i).ignore();
        p.cmd("SADD").arg("set").arg(i).ignore();
        p.cmd("ZADD").arg("z").arg(i).arg(i).ignore();
        p.cmd("XADD").arg("x").arg("*").arg("n").arg(i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let mut rc = RedisConfig::new(r.url());
    rc.preview_bytes = 1024;
    let s = RedisStore::connect(&rc, None).unwrap();
    let before = info_hits_misses(&mut c);
    let keys: Vec<memscope::domain::Key> = ["s", "big", "hll", "l", "h", "set", "z", "x", "missing-1", "missing-2"]
        .iter()
        .map(|k| k.as_bytes().into())
        .collect();
    s.meta(&keys).await.unwrap();
    for k in ["s", "big", "hll", "l", "h", "set", "z", "x", "gone"] {
        let _ = s.value(k.as_bytes(), &PageCursor::Start).await.unwrap();
    }
    s.health().await.unwrap();
    s.scan_page(0, "*", None, 100).await.unwrap();
    let after = info_hits_misses(&mut c);
    let (oh, om) = s.own_lookups();
    assert_eq!((after.0 - before.0, after.1 - before.1), (oh, om), "INFO delta vs memscope's own count");
}
