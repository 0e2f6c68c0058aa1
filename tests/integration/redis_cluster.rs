//! Redis Cluster, on real clusters built by `redis-cli --cluster create` on free loopback
//! ports: every master listed (headless and in the Keys tab), keyed commands routed by slot,
//! the memory layer's batches split per slot, a master killed while memscope runs.

use crate::support::{Harness, memscope as run};
use memscope::config::{Config, RedisConfig, RedisMode};
use memscope::demo::PrivateCluster;
use memscope::domain::{CacheOp, Key, ServerMode, WriteOp};
use memscope::store::redis::RedisStore;
use memscope::store::{KeyStore, KeyspaceScan};
use std::collections::HashSet;

/// A cluster, or fail saying what is missing.
fn cluster(masters: usize, replicas: usize) -> PrivateCluster {
    PrivateCluster::start(masters, replicas)
        .unwrap_or_else(|e| panic!("{e}\n(redis-server and redis-cli 7: apt-get install redis-server)"))
}

/// `n` keys written through a cluster client (they spread over every master).
fn fill(c: &PrivateCluster, n: usize) -> Vec<String> {
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    let keys: Vec<String> = (0..n).map(|i| format!("k:{i:04}")).collect();
    for k in &keys {
        redis::cmd("SET").arg(k).arg("v").exec(&mut conn).unwrap();
    }
    keys
}

/// Wait until every replica holds as many keys as its master (else a failover loses keys, a
/// fact of asynchronous replication, not a finding about memscope).
fn replicas_caught_up(c: &PrivateCluster) {
    for r in &c.nodes {
        let mut conn = crate::support::client(r);
        let role: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).unwrap();
        let Some(redis::Value::Int(port)) = role.get(2).cloned() else { continue };
        let master = c.nodes.iter().find(|m| m.port() as i64 == port).unwrap();
        let mut mconn = crate::support::client(master);
        crate::support::eventually(&format!("replica {} to catch up", r.port()), 15, || {
            let (a, b): (u64, u64) =
                (redis::cmd("DBSIZE").query(&mut conn).unwrap(), redis::cmd("DBSIZE").query(&mut mconn).unwrap());
            if a == b { Ok(()) } else { Err(format!("{a} keys of {b}")) }
        });
    }
}

fn per_master(c: &PrivateCluster) -> Vec<u64> {
    c.nodes
        .iter()
        .filter_map(|r| {
            let mut conn = crate::support::client(r);
            let role: String =
                redis::cmd("ROLE").query::<Vec<redis::Value>>(&mut conn).ok().and_then(|v| match v.first() {
                    Some(redis::Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                    _ => None,
                })?;
            (role == "master").then(|| redis::cmd("DBSIZE").query(&mut conn).unwrap())
        })
        .collect()
}

/// `memscope keys` on one node of a 3-master cluster lists the keys of every master, exit 0;
/// `--long` reads each key's metadata from its own node; `--node-only` lists the node's third
/// and says so.
#[test]
fn keys_lists_every_master_of_a_cluster() {
    let c = cluster(3, 0);
    let written: HashSet<String> = fill(&c, 330).into_iter().collect();
    let spread = per_master(&c);
    assert_eq!(spread.len(), 3);
    assert!(spread.iter().all(|&n| n > 50 && n < 330), "{spread:?}");
    let dir = tempfile::tempdir().unwrap();
    let url = c.url();
    let out = run(dir.path(), &["keys", "--redis-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: HashSet<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert_eq!(listed, written, "every master's keys, each once");

    let out = run(dir.path(), &["keys", "--long", "--json", "--redis-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().filter(|l| l.contains("\"type\":\"string\"")).count(),
        330,
        "metadata from each key's node"
    );

    let out = run(dir.path(), &["keys", "--node-only", "--redis-url", &url]);
    assert!(out.status.success());
    let n = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
    assert!(spread.contains(&n), "one master's keys: {n} of {spread:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("listed {n} keys of this node only")), "{err}");
}

/// The store on a cluster: one scan cursor per master, progress against the sum of DBSIZE;
/// metadata and values from each key's node (the value says which); a rename across slots
/// refused with the reason, within a hash tag done; `:db` refused; the memory layer's batches
/// over keys of different slots.
#[tokio::test]
async fn the_store_routes_by_slot_and_scans_each_master() {
    let c = cluster(3, 0);
    fill(&c, 120);
    let mut rc = RedisConfig::new(c.url());
    let s: std::sync::Arc<dyn KeyStore> = std::sync::Arc::new(RedisStore::connect(&rc, None).unwrap());
    let nodes = s.scan_nodes().await.unwrap();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    assert_eq!(nodes.iter().map(|n| n.keys.unwrap()).sum::<u64>(), 120);
    let (total, keys) = every_key(&s, 10).await;
    assert_eq!(total, Some(120));
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 120);
    let meta = s.meta(&keys).await.unwrap();
    assert!(meta.iter().all(|(_, m)| m.ktype.is_some()), "every key's TYPE from its own node");
    let page = s.value(b"k:0007", &memscope::domain::PageCursor::Start).await.unwrap().unwrap();
    let (slot, node) = page.node.clone().unwrap();
    assert_eq!(slot, memscope::store::redis::cluster::slot_of(b"k:0007"));
    assert!(node.starts_with("127.0.0.1:"), "{node}");
    let info = s.server_info().await.unwrap();
    assert!(matches!(&info.mode, ServerMode::Cluster { masters, whole: true } if masters.len() == 3), "{info:?}");
    assert_eq!(info.keyspace[0].keys, 120);

    s.set_writes_allowed(true);
    let e = s.write(&WriteOp::Rename(b"k:0001".as_slice().into(), b"k:renamed".as_slice().into())).await;
    let slots =
        (memscope::store::redis::cluster::slot_of(b"k:0001"), memscope::store::redis::cluster::slot_of(b"k:renamed"));
    if slots.0 != slots.1 {
        let e = e.unwrap_err().to_string();
        assert!(e.contains("across hash slots") && e.contains("nothing renamed"), "{e}");
    }
    s.write(&WriteOp::Rename(b"k:0002".as_slice().into(), b"{k:0002}.old".as_slice().into())).await.unwrap();
    // The layer's batch: keys on different slots in one call.
    let ops: Vec<CacheOp> = (0..20)
        .map(|i| CacheOp::SetEx { key: format!("session:c{i}").into_bytes().into(), value: b"x".to_vec(), ttl_s: 60 })
        .chain((0..20).map(|i| CacheOp::Get(format!("session:c{i}").into_bytes().into())))
        .collect();
    let replies = s.exec(&ops).await.unwrap();
    assert_eq!(replies.len(), 40);
    assert!(
        replies[20..].iter().all(|r| matches!(r, memscope::domain::CacheReply::Value(Some(v)) if v == b"x")),
        "replies in the order asked: {:?}",
        &replies[20..]
    );

    rc.mode = RedisMode::Cluster;
    let e = RedisStore::connect(&rc, Some(3)).err().unwrap().to_string();
    assert!(e.contains("only database 0"), "{e}");
}

/// The Keys tab on a cluster lists every master's keys, progress against the cluster's DBSIZE,
/// the header says "cluster of 3 masters"; `mode = "standalone"` shows one node and says so.
#[tokio::test]
async fn the_keys_tab_lists_the_whole_cluster() {
    let c = cluster(3, 0);
    let keys = fill(&c, 90);
    // A third of them expire: the header's expire count is the masters' sum, not "0 expire".
    {
        let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
        let mut conn = client.get_connection().unwrap();
        for k in keys.iter().step_by(3) {
            redis::cmd("EXPIRE").arg(k).arg(3600).exec(&mut conn).unwrap();
        }
    }
    let mut h = Harness::new(Config::with_redis(&c.url()));
    h.until(20, "the whole cluster listed", |a| a.keys.index.len() == 90 && !a.keys.scan.running).await;
    assert_eq!(h.app.keys.scan.total, Some(90));
    h.until(10, "server info", |a| a.keys.info.is_some()).await;
    let screen = crate::support::screen_of(&h.app, 120, 30);
    assert!(screen.contains("cluster of 3 masters") && !screen.contains("one node of"), "{screen}");
    assert!(screen.contains("db0=90 (30 expire)"), "{screen}");
    // A sort by size measures every key on its own master: the big one, on whichever node,
    // comes first.
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    redis::cmd("SET").arg("k:0042").arg("x".repeat(40_000)).exec(&mut conn).unwrap();
    h.keys("v");
    h.keys("s");
    h.keys("s");
    h.until(20, "sorted by size", |a| a.keys.index.ordered() && a.keys.sorting.is_none()).await;
    assert_eq!(crate::support::row_names(&h.app)[0], "k:0042");
    let status = h.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.contains("every key measured (90 keys"), "{status}");

    let mut cfg = Config::with_redis(&c.url());
    cfg.redis.as_mut().unwrap().mode = RedisMode::Standalone;
    let mut h = Harness::new(cfg);
    h.until(20, "one node listed", |a| !a.keys.scan.running && a.keys.info.is_some()).await;
    assert!(h.app.keys.index.len() < 90);
    // Wide enough that the warning never wraps inside "(this one)" whatever the ports' widths.
    let screen = crate::support::screen_of(&h.app, 240, 30);
    assert!(screen.contains("one node of a Redis Cluster") && screen.contains("(this one)"), "{screen}");
}

/// A master killed while memscope runs: the listing stops with the node named and what was
/// listed kept (exit non-zero, never a silent third); once its replica takes over, the whole
/// keyspace lists again.
#[test]
fn a_master_killed_is_named_then_its_replica_takes_over() {
    let mut c = cluster(3, 1);
    fill(&c, 150);
    replicas_caught_up(&c);
    let dir = tempfile::tempdir().unwrap();
    // Kill a master that is not the seed.
    let seed = c.nodes[0].port();
    let victim = c
        .nodes
        .iter()
        .position(|r| {
            r.port() != seed && {
                let mut conn = crate::support::client(r);
                let v: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).unwrap();
                matches!(v.first(), Some(redis::Value::BulkString(b)) if b == b"master")
            }
        })
        .unwrap();
    let victim_port = c.nodes[victim].port();
    let victim_keys: u64 = redis::cmd("DBSIZE").query(&mut crate::support::client(&c.nodes[victim])).unwrap();
    c.nodes[victim].kill();
    let url = c.url();
    let out = run(dir.path(), &["keys", "--redis-url", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        assert!(err.contains(&format!("127.0.0.1:{victim_port}")), "the failed node is named: {err}");
        // Every reachable key listed (never a few or none), then what was not, and why.
        let listed = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
        assert_eq!(listed, 150 - victim_keys, "every key of the reachable masters: {err}");
        assert!(err.contains(&format!("listed {listed} keys of the reachable masters; not listed")), "{err}");
    }
    // The replica is promoted after the node timeout; then every key lists again.
    crate::support::eventually("every key listed again", 30, || {
        let out = run(dir.path(), &["keys", "--redis-url", &url]);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).lines().count() == 150 {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
}

/// The memory layer on a cluster: `import` writes sessions and recent lists that hash to
/// different nodes (batches split per slot, the merge script run per key), the audit reads
/// them back clean, finds an orphan on any master and repairs it.
#[test]
fn import_and_audit_work_on_a_cluster() {
    let c = cluster(3, 0);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let conf = d.join("c.toml");
    std::fs::write(
        &conf,
        format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}/m.db\"\n",
            c.url(),
            d.display()
        ),
    )
    .unwrap();
    let lines: Vec<String> = (1..=12)
        .flat_map(|conv| {
            (1..=3).map(move |m| {
                format!(
                    r#"{{"conversation_id": "c{conv}", "message_id": "m{m}", "user_id": "u", "role": "user", "content": "message {m} of c{conv}", "timestamp": "2026-11-2{}T10:00:0{m}"}}"#,
                    conv % 9
                )
            })
        })
        .collect();
    let file = d.join("msgs.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (cf, f) = (conf.to_str().unwrap(), file.to_str().unwrap());
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    let out = run(d, &["--config", cf, "--write", "import", f]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("36 new, 0 already stored"), "{}", text(&out));
    assert!(!text(&out).contains("repair"), "nothing queued for repair: {}", text(&out));
    // The recent lists landed on more than one master.
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    let slots: HashSet<u16> = (1..=12)
        .map(|i| {
            let k = format!("conversation:c{i}:messages");
            let n: i64 = redis::cmd("LLEN").arg(&k).query(&mut conn).unwrap();
            assert_eq!(n, 3, "{k}");
            memscope::store::redis::cluster::slot_of(k.as_bytes())
        })
        .collect();
    assert!(slots.len() > 1);
    assert!(per_master(&c).iter().filter(|&&n| n > 0).count() > 1, "{:?}", per_master(&c));

    let out = run(d, &["--config", cf, "audit", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clean"], true, "{v}");
    // An orphan session, wherever its slot is: found, then repaired.
    redis::cmd("HSET").arg("session:nope").arg("user_id").arg("u").exec(&mut conn).unwrap();
    let out = run(d, &["--config", cf, "audit"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("session:nope"), "{}", text(&out));
    let out = run(d, &["--config", cf, "--write", "audit", "--repair", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let gone: bool = redis::cmd("EXISTS").arg("session:nope").query::<i64>(&mut conn).unwrap() == 0;
    assert!(gone);
}

/// Health on a cluster: `health --json` lists every node under the redis tier with its role
/// and figures, the totals are the masters' sums; a master killed is that node DOWN and the
/// tier CRIT with the node named, while the other nodes keep reporting; the table shows a row
/// per node; the TUI's Redis panel a line per node.
#[test]
fn health_reports_every_node_and_a_dead_one() {
    let mut c = cluster(3, 0);
    fill(&c, 60);
    let dir = tempfile::tempdir().unwrap();
    let url = c.url();
    let out = run(dir.path(), &["health", "--json", "--redis-url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let redis = v.as_array().unwrap().iter().find(|t| t["tier"] == "redis").unwrap().clone();
    assert_eq!(redis["state"], "OK", "{redis}");
    assert_eq!(redis["cluster"]["state"], "ok");
    let nodes = redis["cluster"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(nodes.iter().all(|n| n["role"] == "master" && n["state"] == "OK"), "{nodes:?}");
    assert_eq!(nodes.iter().map(|n| n["keys"].as_u64().unwrap()).sum::<u64>(), 60);
    assert_eq!(redis["figures"]["keys"], 60.0, "the totals are the masters' sums: {redis}");

    // Kill a master that is not the seed: it is DOWN, the tier CRIT, the others still report.
    let victim = c.nodes.iter().position(|r| r.port() != c.nodes[0].port()).unwrap();
    let port = c.nodes[victim].port();
    c.nodes[victim].kill();
    let out = run(dir.path(), &["health", "--json", "--redis-url", &url]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let redis = v.as_array().unwrap().iter().find(|t| t["tier"] == "redis").unwrap().clone();
    assert_eq!(redis["state"], "CRIT", "{redis}");
    let nodes = redis["cluster"]["nodes"].as_array().unwrap();
    let dead = nodes.iter().find(|n| n["addr"] == format!("127.0.0.1:{port}")).unwrap();
    assert_eq!(dead["state"], "DOWN", "{dead}");
    assert_eq!(nodes.iter().filter(|n| n["state"] == "OK").count(), 2, "the others keep reporting: {nodes:?}");
    let alerts = redis["alerts"].to_string();
    assert!(alerts.contains(&format!("master 127.0.0.1:{port} DOWN")), "{alerts}");
    assert_eq!(out.status.code(), Some(2), "CRIT exits 2 (documented)");
    let out = run(dir.path(), &["health", "--redis-url", &url]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(table.lines().filter(|l| l.trim_start().starts_with("node")).count(), 3, "{table}");
    assert!(table.contains("DOWN"), "{table}");
}

/// A replica promoted with `CLUSTER FAILOVER` while a store is in use: the next listing scans
/// the new master (the old one is a replica now), every key still listed once; with
/// `read_from_replicas` the values are read as well.
#[tokio::test(flavor = "multi_thread")]
async fn a_replica_promoted_by_cluster_failover_is_followed() {
    let c = cluster(3, 1);
    fill(&c, 90);
    replicas_caught_up(&c);
    let mut rc = RedisConfig::new(c.url());
    rc.read_from_replicas = true;
    let s: std::sync::Arc<dyn KeyStore> = std::sync::Arc::new(RedisStore::connect(&rc, None).unwrap());
    let before: Vec<String> = s.scan_nodes().await.unwrap().into_iter().filter_map(|n| n.addr).collect();
    // Promote the replica of a master that is not the seed.
    let replica = c
        .nodes
        .iter()
        .find(|r| {
            let mut conn = crate::support::client(r);
            let v: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).unwrap();
            matches!(v.first(), Some(redis::Value::BulkString(b)) if b == b"slave")
        })
        .unwrap();
    let mut conn = crate::support::client(replica);
    redis::cmd("CLUSTER").arg("FAILOVER").exec(&mut conn).unwrap();
    let promoted = format!("127.0.0.1:{}", replica.port());
    let now = crate::support::eventually_async("the promotion to show", 20, || async {
        let now: Vec<String> = s.scan_nodes().await.unwrap().into_iter().filter_map(|n| n.addr).collect();
        if now.contains(&promoted) { Ok(now) } else { Err(format!("{now:?}")) }
    })
    .await;
    assert_eq!(now.len(), 3, "{now:?}");
    assert_ne!(now, before);
    let (_, keys) = every_key(&s, 50).await;
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 90);
    let page = s.value(b"k:0042", &memscope::domain::PageCursor::Start).await.unwrap();
    assert!(page.is_some(), "read (possibly from a replica) after the failover");
}

/// Every key of a 3-master cluster, SCAN page after page until each master is done; with the
/// keyspace's size as the scan counted it.
async fn every_key(s: &std::sync::Arc<dyn KeyStore>, count: u32) -> (Option<u64>, Vec<Key>) {
    let mut scan = KeyspaceScan::start(s.clone(), "*", None, count).await.unwrap();
    let (mut keys, mut done) = (Vec::new(), 0);
    while let Some(p) = scan.next_page().await {
        let p = p.unwrap();
        done += usize::from(p.node_done);
        keys.extend(p.keys);
        if done == 3 {
            break;
        }
    }
    (scan.total, keys)
}

/// `memscope top` on a cluster: one MONITOR per master, merged; the lines per node say so.
#[test]
fn the_profiler_monitors_every_master() {
    let c = cluster(3, 0);
    let url = c.url();
    let writer = std::thread::spawn(move || {
        let t0 = std::time::Instant::now();
        let mut n = 0;
        while t0.elapsed() < std::time::Duration::from_secs(4) {
            fill_from(&url, n);
            n += 1;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["top", "--seconds", "3", "--json", "--redis-url", &c.url()]);
    writer.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "a MONITOR per master: {v}");
    assert!(nodes.iter().all(|n| n["commands"].as_u64().unwrap() > 0), "{v}");
    assert_eq!(v["commands"][0]["name"], "set", "{v}");
}

/// 60 keys written through a cluster client (every master gets some).
fn fill_from(url: &str, round: usize) {
    let client = redis::cluster::ClusterClient::new(vec![url.to_string()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    for i in 0..60 {
        redis::cmd("SET").arg(format!("k:{i:04}")).arg(round).exec(&mut conn).unwrap();
    }
}
