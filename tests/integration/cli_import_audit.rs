//! `memscope import` and `memscope audit` through the binary: a private redis-server, an
//! embedded SQLite long-term store, the embedded vector index and the local model.

use crate::support::memscope as run;

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A profile `p` in `d/c.toml`: the private Redis, SQLite long-term `d/m.db`, and with `vectors`
/// the local index `d/v.db` with the local model.
fn config(d: &std::path::Path, redis: &memscope::demo::PrivateRedis, vectors: bool) -> std::path::PathBuf {
    let cfg = d.join("c.toml");
    let mut text = format!(
        "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}/m.db\"\n",
        redis.url(),
        d.display()
    );
    if vectors {
        text.push_str(&format!(
            "[profile.p.vector]\nbackend = \"local\"\npath = \"{}/v.db\"\n[profile.p.embedding]\nprovider = \"local\"\n",
            d.display()
        ));
    }
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn import_is_idempotent_everywhere_and_audit_sees_drift() {
    let redis = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, &redis, true);
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
    let mut rc = crate::support::client(&redis);
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

/// Lines that pass the shape checks but that Firestore would reject (reserved ids, ids over
/// 1,500 bytes, documents over 1 MiB, timestamps outside years 1–9999) and one message id given
/// twice with different content: each named by file and line, exit 2, nothing written anywhere.
#[test]
fn import_checks_firestores_limits_up_front_and_writes_nothing_on_a_bad_file() {
    let redis = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, &redis, false);
    let ok = |id: &str, content: &str| {
        format!(
            r#"{{"conversation_id": "c1", "message_id": "{id}", "user_id": "u", "role": "user", "content": "{content}"}}"#
        )
    };
    let lines = [
        ok("m1", "fine"),
        ok("__reserved__", "x"),
        ok(&"i".repeat(1501), "x"),
        ok("m4", &"x".repeat(1_100_000)),
        r#"{"conversation_id": "c1", "message_id": "m5", "user_id": "u", "role": "user", "content": "x", "timestamp": "10000-01-01T00:00:00"}"#.to_string(),
        r#"{"conversation_id": "c1", "message_id": "m6", "user_id": "u", "role": "user", "content": "x", "timestamp": 1e20}"#.to_string(),
        ok("m1", "other content"),
        ok("m1", "fine"),
    ];
    let file = d.join("bad.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = run(d, &["--config", cfg.to_str().unwrap(), "--write", "import", file.to_str().unwrap()]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    for (n, what) in [
        (2, "reserved by Firestore"),
        (3, "1501 bytes"),
        (4, "1 MiB"),
        (5, "10000-01-01T00:00:00Z is outside Firestore's range"),
        (6, "1e+20 is outside Firestore's range"),
        (7, "already given on line 1 with other content"),
    ] {
        let line = t.lines().find(|l| l.contains(&format!("bad.jsonl:{n}: "))).unwrap_or_default();
        assert!(line.contains(what), "line {n} ({what}): {t}");
    }
    assert!(!t.contains("bad.jsonl:8:"), "an identical repeat is not an error: {t}");
    assert!(t.contains("nothing was imported"), "{t}");
    assert!(!d.join("m.db").exists(), "no long-term file was created");
    let mut rc = crate::support::client(&redis);
    let n: i64 = redis::cmd("DBSIZE").query(&mut rc).unwrap();
    assert_eq!(n, 0, "nothing was written to Redis");
}

/// Bad or odd input gets one clear line and the right exit code: a UTF-8 byte order mark
/// before the first line is accepted; ids Firestore cannot hold are refused before anything is
/// sent (no raw gRPC error); `show --json` gives a map's content as its value; a mistyped
/// command line is one line with its usage, exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("odd_input");
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!("[profile.p]\nread_only = false\n[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n"),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let host = emu.host.clone();
    let go = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_memscope"));
        cmd.args(["--config", c])
            .args(args)
            .env("HOME", d)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("FIRESTORE_EMULATOR_HOST", &host)
            .env_remove("GOOGLE_CLOUD_PROJECT")
            .env_remove("REDIS_URL");
        tokio::task::block_in_place(|| cmd.output().unwrap())
    };
    // A byte order mark, as editors on Windows write it.
    let file = d.join("bom.jsonl");
    std::fs::write(
        &file,
        "\u{feff}{\"conversation_id\": \"c1\", \"message_id\": \"m1\", \"user_id\": \"u\", \"role\": \"user\", \"content\": \"hi\"}\n",
    )
    .unwrap();
    let out = go(&["import", "--write", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // Ids Firestore cannot hold: one line naming the rule, exit 2, nothing sent.
    for id in ["", "a/b", "..", "__x__"] {
        let out = go(&["show", id]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{id:?}: {t}");
        assert_eq!(t.lines().count(), 1, "{id:?}: {t}");
        assert!(t.contains("document id") || t.contains("reserved"), "{id:?}: {t}");
        assert!(!t.contains("gRPC") && !t.contains("status:"), "{id:?}: {t}");
    }
    // A message whose content is a map: `show --json` gives the map.
    let fs = memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap();
    use memscope::domain::FsValue;
    use memscope::store::LongTermStore;
    let map = FsValue::Map(vec![("tool".into(), FsValue::String("weather".into())), ("args".into(), FsValue::Int(3))]);
    fs.put(
        "conversations/c1/messages/m2",
        vec![("role".into(), FsValue::String("tool".into())), ("content".into(), map)],
    )
    .await
    .unwrap();
    let out = go(&["show", "c1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let m2 = lines.iter().find(|l| l["message_id"] == "m2").expect("m2 shown");
    assert_eq!(m2["content"], serde_json::json!({"tool": "weather", "args": 3}));
    // The command line itself: one line, with the usage, exit 2.
    for args in [&["keys", "--bogus"][..], &["frobnicate"], &["search"]] {
        let out = go(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let t = text(&out);
        assert_eq!(t.lines().count(), 1, "{args:?}: {t}");
        assert!(t.starts_with("error: ") && t.contains("usage: memscope"), "{args:?}: {t}");
    }
}

/// An import whose Redis writes fail exits 1 with the count queued; once Redis is back, the
/// same import again settles the queue and the audit is clean with no `--repair`.
#[test]
fn an_import_with_queued_writes_exits_1_and_a_re_run_settles_them() {
    let mut redis = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = config(d, &redis, false);
    let file = d.join("msgs.jsonl");
    let lines: Vec<String> = (1..=4)
        .map(|c| format!(r#"{{"conversation_id": "c{c}", "message_id": "m1", "user_id": "u", "role": "user", "content": "hello {c}"}}"#))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (c, f) = (cfg.to_str().unwrap(), file.to_str().unwrap());
    redis.kill();
    let out = run(d, &["--config", c, "--write", "import", f]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("4 tier writes failed"), "{}", text(&out));
    redis.restart().unwrap();
    let out = run(d, &["--config", c, "--write", "import", f]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 writes an earlier run left in the repair queue are done now"), "{}", text(&out));
    let out = run(d, &["--config", c, "audit"]);
    assert_eq!(out.status.code(), Some(0), "the audit is clean: {}", text(&out));
}
