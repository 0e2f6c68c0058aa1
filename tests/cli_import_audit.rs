//! `memscope import` and `memscope audit` through the binary: a private redis-server, an
//! embedded SQLite long-term store, the embedded vector index and the local model.

mod support;

use support::memscope as run;

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn import_is_idempotent_everywhere_and_audit_sees_drift() {
    let redis = support::redis();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{d}/m.db\"\n\
             [profile.p.vector]\nbackend = \"local\"\npath = \"{d}/v.db\"\n[profile.p.embedding]\nprovider = \"local\"\n",
            redis.url(),
            d = d.display()
        ),
    )
    .unwrap();
    let file = d.join("msgs.jsonl");
    let mut lines = Vec::new();
    for c in 1..=3 {
        for m in 1..=4 {
            let role = if m % 2 == 1 { "user" } else { "assistant" };
            let id = if m == 4 { String::new() } else { format!(r#""message_id": "c{c}-m{m}", "#) };
            lines.push(format!(
                r#"{{"conversation_id": "c{c}", {id}"user_id": "u-{c}", "role": "{role}", "content": "message {m} of conversation {c} about a refund", "timestamp": "2026-11-2{c}T10:00:0{m}"}}"#
            ));
        }
    }
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (c, f) = (cfg.to_str().unwrap(), file.to_str().unwrap());

    // Read-only profile: refused, nothing written.
    let out = run(d, &["--config", c, "import", f]);
    assert_eq!(out.status.code(), Some(2), "refused: a usage error");
    assert!(text(&out).contains("--write"), "{}", text(&out));
    let out = run(d, &["--config", c, "import", f, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("12 new messages, 0 already stored"), "{}", text(&out));

    for round in 0..2 {
        let out = run(d, &["--config", c, "--write", "import", f]);
        assert!(out.status.success(), "{}", text(&out));
        let want = if round == 0 { "12 new, 0 already stored" } else { "0 new, 12 already stored" };
        assert!(text(&out).contains(want), "round {round}: {}", text(&out));
    }
    let mut rc = support::client(&redis);
    for conv in 1..=3 {
        let n: i64 = redis::cmd("LLEN").arg(format!("conversation:c{conv}:messages")).query(&mut rc).unwrap();
        assert_eq!(n, 4, "no duplicates in the recent list of c{conv}");
    }
    let out = run(d, &["--config", c, "audit", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["clean"], true);
    assert_eq!(v["scanned"]["messages"], 12);
    assert_eq!(v["scanned"]["vectors"], 12);

    // Drift: a stale session; audit exits 1 and names it; repair needs --write and --yes here.
    redis::cmd("HSET").arg("session:nope").arg("user_id").arg("u").query::<()>(&mut rc).unwrap();
    let out = run(d, &["--config", c, "audit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("session_orphan") && text(&out).contains("session:nope"), "{}", text(&out));
    let out = run(d, &["--config", c, "audit", "--repair"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = run(d, &["--config", c, "audit", "--repair", "--dry-run"]);
    assert!(text(&out).contains("would delete the key"), "{}", text(&out));
    let out = run(d, &["--config", c, "--write", "audit", "--repair", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(run(d, &["--config", c, "audit"]).status.code(), Some(0));

    // A bad line is named with file and line, and nothing is imported.
    std::fs::write(&file, "{\"conversation_id\": \"c9\", \"user_id\": \"u\", \"role\": \"user\"}\n").unwrap();
    let out = run(d, &["--config", c, "--write", "import", f]);
    assert_eq!(out.status.code(), Some(2), "a bad input line is a usage error");
    assert!(text(&out).contains("msgs.jsonl:1: missing field `content`"), "{}", text(&out));
}
