//! Redis Sentinel: `redis+sentinel://` finds the master through a real Sentinel
//! (`redis-server --sentinel`) and follows it through `SENTINEL FAILOVER` while memscope runs.

use memscope::config::RedisConfig;
use memscope::demo::PrivateRedis;
use memscope::domain::{CacheOp, CacheReply};
use memscope::store::KeyStore;
use memscope::store::redis::RedisStore;

fn wait(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    crate::support::eventually(what, secs, || if f() { Ok(()) } else { Err("not yet".into()) })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sentinel_failover_is_followed_without_restarting() {
    let master = crate::support::redis();
    let mport = master.port().to_string();
    let replica = PrivateRedis::start(&["--replicaof", "127.0.0.1", &mport]).unwrap();
    let sentinel = PrivateRedis::start_sentinel(master.port()).unwrap();
    let mut m = crate::support::client(&master);
    redis::cmd("SET").arg("k:before").arg("1").exec(&mut m).unwrap();
    let mut r = crate::support::client(&replica);
    wait("the replica to sync", 15, || redis::cmd("EXISTS").arg("k:before").query::<i64>(&mut r).unwrap() == 1);
    let mut s = crate::support::client(&sentinel);
    wait("the Sentinel to see the replica", 20, || {
        let v: Vec<redis::Value> = redis::cmd("SENTINEL").arg("REPLICAS").arg("mymaster").query(&mut s).unwrap();
        !v.is_empty()
    });

    let url = format!("redis+sentinel://127.0.0.1:{}/mymaster/0", sentinel.port());
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::memscope(dir.path(), &["keys", "--redis-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "k:before");

    let store = RedisStore::connect(&RedisConfig::new(url.clone()), None).unwrap();
    store.set_writes_allowed(true);
    let info = store.server_info().await.unwrap();
    assert_eq!(info.sentinel_master, Some(("mymaster".into(), format!("127.0.0.1:{}", master.port()))));

    // Health's history of the probes: a failover is an event of its own, not a restart.
    let mut hist = memscope::health::History::default();
    let t = memscope::config::Thresholds::default();
    let probe = |h: memscope::domain::RedisHealth| memscope::health::Sample {
        latency_ms: Some(h.ping_ms),
        redis: Some(h),
        ..memscope::health::Sample::at(memscope::health::Probe::Redis, 0, memscope::health::wall_now())
    };
    hist.push(probe(store.health().await.unwrap()), 60_000, &t);

    // The failover: the replica becomes the master; memscope follows on its next probe.
    redis::cmd("SENTINEL").arg("FAILOVER").arg("mymaster").exec(&mut s).unwrap();
    let new_master = format!("127.0.0.1:{}", replica.port());
    let hist = std::sync::Mutex::new(hist);
    crate::support::eventually_async("memscope to follow the failover", 30, || async {
        if let Ok(h) = store.health().await {
            hist.lock().unwrap().push(probe(h), 60_000, &t);
        }
        let info = store.server_info().await;
        if info.as_ref().is_ok_and(|i| i.sentinel_master.as_ref().is_some_and(|(_, a)| *a == new_master)) {
            Ok(())
        } else {
            Err(format!("{info:?}"))
        }
    })
    .await;
    let mut hist = hist.into_inner().unwrap();
    if let Ok(h) = store.health().await {
        hist.push(probe(h), 60_000, &t);
    }
    let events: Vec<&str> = hist.alerts.iter().map(|a| a.message.as_str()).collect();
    assert!(events.iter().any(|m| m.starts_with(&format!("failover: the master is {new_master} now"))), "{events:?}");
    assert!(!events.iter().any(|m| m.contains("restarted")), "a failover is not a restart: {events:?}");
    // Writes go to the new master (the old one is a replica now, and would refuse them).
    let ops = [CacheOp::SetEx { key: b"k:after".as_slice().into(), value: b"2".to_vec(), ttl_s: 60 }];
    crate::support::eventually_async("writes to reach the new master", 15, || async {
        store.exec(&ops).await.map(|_| ()).map_err(|e| e.to_string())
    })
    .await;
    let got = store.exec(&[CacheOp::Get(b"k:after".as_slice().into())]).await.unwrap();
    assert_eq!(got, vec![CacheReply::Value(Some(b"2".to_vec()))]);
    let mut r = crate::support::client(&replica); // the failover closed the replica's clients
    let v: Option<String> = redis::cmd("GET").arg("k:after").query(&mut r).unwrap();
    assert_eq!(v.as_deref(), Some("2"), "written on the promoted replica");
}

#[test]
fn sentinel_urls_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::memscope(dir.path(), &["keys", "--redis-url", "redis+sentinel://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no master name"), "{err}");
    let out = crate::support::memscope(dir.path(), &["keys", "--redis-url", "redis+sentinel://127.0.0.1:1/mymaster"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no Sentinel named the master `mymaster`"), "{err}");
}

/// A Sentinel that requires a password of its own: `?sentinel_password=` reaches it (the
/// master's credentials stay in the URL's user part), and the password is never printed.
#[test]
fn a_sentinel_with_its_own_password() {
    let master = crate::support::redis();
    let mut m = crate::support::client(&master);
    redis::cmd("SET").arg("k:one").arg("1").exec(&mut m).unwrap();
    let sentinel = PrivateRedis::start_sentinel_with(master.port(), "requirepass S3ntinelPW\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("redis+sentinel://127.0.0.1:{}/mymaster/0", sentinel.port());
    let with_pw = format!("{base}?sentinel_password=S3ntinelPW");
    let out = crate::support::memscope(dir.path(), &["keys", "--redis-url", &with_pw]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "k:one");
    // Without it the Sentinel refuses, and the error says so.
    let out = crate::support::memscope(dir.path(), &["keys", "--redis-url", &base]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.to_lowercase().contains("auth"), "{err}");
    let out = crate::support::memscope(dir.path(), &["config", "check", "--redis-url", &with_pw]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("S3ntinelPW") && all.contains("sentinel_password=***"), "{all}");
}
