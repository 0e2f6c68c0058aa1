//! `memscope analyze`: the whole keyspace in one pass, its sums checked against the server's
//! own MEMORY USAGE of every key; namespaces, types, top lists, TTLs, leaks, expiring keys;
//! save and compare; every master of a cluster.

use crate::support::memscope as run;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// MEMORY USAGE of every key, summed, asked of the server key by key.
fn memory_of_every_key(c: &mut redis::Connection) -> (u64, u64) {
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    let mut sum = 0u64;
    for k in &keys {
        let m: Option<u64> = redis::cmd("MEMORY").arg("USAGE").arg(k).query(c).unwrap();
        sum += m.unwrap_or(0);
    }
    (keys.len() as u64, sum)
}

#[test]
fn analyze_sums_every_key_and_finds_namespaces_leaks_and_expiring_keys() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let mut p = redis::pipe();
    for i in 0..300 {
        p.cmd("SET")
            .arg(format!("session:{:08x}-1b4d-4c1a-9e2f-1234567890ab", i))
            .arg("x".repeat(40))
            .arg("EX")
            .arg(1800)
            .ignore();
    }
    for i in 0..5 {
        p.cmd("SET").arg(format!("session:{:08x}-dead-4c1a-9e2f-1234567890ab", i)).arg("leaked").ignore();
    }
    for i in 0..50 {
        for j in 0..10 {
            p.cmd("RPUSH").arg(format!("conversation:c-{i:04}:messages")).arg(format!("message {j}")).ignore();
        }
    }
    for f in 0..1000 {
        p.cmd("HSET").arg("big:hash").arg(format!("field{f}")).arg("v").ignore();
    }
    for i in 0..20 {
        p.cmd("SET").arg(format!("tmp:{i}")).arg("t").arg("EX").arg(30).ignore();
    }
    p.cmd("SET").arg("plain").arg("p").ignore();
    p.exec(&mut c).unwrap();
    let (n, bytes) = memory_of_every_key(&mut c);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("before.json");
    let a = json(&run(dir.path(), &["analyze", "--json", "--redis-url", &r.url(), "--save", saved.to_str().unwrap()]));
    assert_eq!((a["keys"].as_u64(), a["gone"].as_u64()), (Some(n), Some(0)), "every key, once");
    assert_eq!(a["bytes"].as_u64(), Some(bytes), "exactly MEMORY USAGE of every key, summed");
    assert!(a["partial"].is_null());
    let ns = |p: &str| a["namespaces"].as_array().unwrap().iter().find(|x| x["prefix"] == p).cloned();
    let s = ns("session:").expect("session:");
    assert_eq!((s["keys"].as_u64(), s["ttl"][0].as_u64(), s["ttl"][2].as_u64()), (Some(305), Some(5), Some(300)));
    assert_eq!(ns("conversation:*:").unwrap()["keys"].as_u64(), Some(50), "ids folded into *");
    // The key without a delimiter has its row: the outermost rows add up to every key.
    assert_eq!(ns("(no namespace)").expect("(no namespace)")["keys"].as_u64(), Some(1));
    let outer = a["namespaces"].as_array().unwrap().iter().filter(|x| x["depth"] == 1);
    let (keys, b) = outer.fold((0, 0), |(k, b), x| (k + x["keys"].as_u64().unwrap(), b + x["bytes"].as_u64().unwrap()));
    assert_eq!((keys, b), (n, bytes), "every key in one outermost namespace");
    let leaks: Vec<&str> =
        a["leak_suspects"].as_array().unwrap().iter().map(|l| l["prefix"].as_str().unwrap()).collect();
    assert!(leaks.contains(&"session:"), "{leaks:?}");
    // The leak's figure is what its keys without a TTL hold, not the namespace's.
    let leak = a["leak_suspects"].as_array().unwrap().iter().find(|l| l["prefix"] == "session:").unwrap();
    let mut leaked = 0u64;
    for i in 0..5 {
        let k = format!("session:{:08x}-dead-4c1a-9e2f-1234567890ab", i);
        leaked += redis::cmd("MEMORY").arg("USAGE").arg(&k).query::<u64>(&mut c).unwrap();
    }
    assert_eq!(leak["bytes_without_ttl"].as_u64(), Some(leaked), "{leak}");
    // Expiring keys soonest first; the total set against INFO used_memory.
    let ttls: Vec<i64> = a["expiring_keys"].as_array().unwrap().iter().map(|k| k["ttl_ms"].as_i64().unwrap()).collect();
    assert!(ttls.windows(2).all(|w| w[0] <= w[1]), "soonest first: {ttls:?}");
    assert!(a["used_memory"].as_u64().is_some_and(|u| u >= bytes), "{}", a["used_memory"]);
    assert_eq!(a["top_by_elements"][0]["key"], "big:hash");
    assert_eq!(a["top_by_elements"][0]["elements"].as_u64(), Some(1000));
    assert_eq!(a["top_by_memory"][0]["key"], "big:hash");
    assert_eq!(a["expiring_within_1m"].as_u64(), Some(20));
    let types: Vec<(&str, u64)> = a["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].as_str().unwrap(), t["keys"].as_u64().unwrap()))
        .collect();
    assert!(
        types.contains(&("string", 326)) && types.contains(&("list", 50)) && types.contains(&("hash", 1)),
        "{types:?}"
    );

    // Later, sessions grew: the comparison puts them first.
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("session:{:08x}-9999-4c1a-9e2f-1234567890ab", i)).arg("y".repeat(400)).ignore();
    }
    p.exec(&mut c).unwrap();
    let out = run(dir.path(), &["analyze", "--redis-url", &r.url(), "--compare", saved.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cmp = text.split("GROWTH SINCE").nth(1).expect(&text);
    let first = cmp.lines().nth(1).unwrap();
    assert!(first.trim_start().starts_with("session:") && first.contains("keys 305 → 505"), "{text}");
    assert!(text.find("GROWTH SINCE") < text.find("BY TYPE"), "the growth first:\n{text}");
    assert!(text.contains("LEAK SUSPECTS") && text.contains("BIGGEST KEYS BY MEMORY"), "{text}");
    // At a glance: separators, a share of the total, lengths per type under their headers, the
    // leak in the figure of its keys without a TTL, the rest of the expiring keys counted.
    assert!(text.contains("1,326 keys") || text.contains("1,327 keys") || text.contains(" keys ·"), "{text}");
    assert!(text.contains("used_memory (INFO;"), "{text}");
    assert!(text.contains("hash — elements") && text.contains("list — elements"), "{text}");
    assert!(text.contains("205 of 505 keys without a TTL hold"), "{text}");
    assert!(text.contains("EXPIRING WITHIN A MINUTE: 20 keys, soonest first") && text.contains("… 10 more"), "{text}");
    let ns_line = text.lines().find(|l| l.trim_start().starts_with("session:") && l.contains('%')).expect(&text);
    assert!(ns_line.contains('%'), "{ns_line}");
    // A file that is not an analysis is named.
    std::fs::write(dir.path().join("bad.json"), "{}x").unwrap();
    let out = run(
        dir.path(),
        &["analyze", "--redis-url", &r.url(), "--compare", dir.path().join("bad.json").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an analysis saved by `analyze --save`"));
}

/// On a cluster every master is read: the keys are the cluster's, not one node's.
#[test]
fn analyze_reads_every_master_of_a_cluster() {
    let c = memscope::demo::PrivateCluster::start(3, 0)
        .unwrap_or_else(|e| panic!("{e}\n(redis-server and redis-cli 7: apt-get install redis-server)"));
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    for i in 0..600 {
        redis::cmd("SET").arg(format!("user:{i}:profile")).arg("v").exec(&mut conn).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let a = json(&run(dir.path(), &["analyze", "--json", "--redis-url", &c.url()]));
    assert_eq!((a["keys"].as_u64(), a["nodes"].as_u64()), (Some(600), Some(3)), "{a}");
    let mut sum = 0u64;
    for n in &c.nodes {
        let (_, b) = memory_of_every_key(&mut crate::support::client(n));
        sum += b;
    }
    assert_eq!(a["bytes"].as_u64(), Some(sum));
}
