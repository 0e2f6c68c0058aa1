//! `memscope index` and `memscope search` with the embedded index and the local model.

use crate::support::memscope as run;

#[test]
fn index_then_search_with_filter_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!("[profile.p.vector]\nbackend = \"local\"\npath = \"{}/v.db\"\n\n[profile.p.embedding]\nprovider = \"local\"\n", d.display()),
    )
    .unwrap();
    let docs = d.join("docs.jsonl");
    std::fs::write(
        &docs,
        [
            r#"{"id": "m1", "text": "It is sunny and 72F in NYC", "metadata": {"category": "weather", "conversation_id": "conv-1"}}"#,
            r#"{"id": "m2", "text": "The refund for order 1182 was issued", "metadata": {"category": "support"}}"#,
            r#"{"id": "m3", "text": "Seafood restaurants in Lisbon open at 8pm", "metadata": {"category": "travel"}}"#,
            r#"{"id": "m4", "text": "Heavy rain expected in Boston", "metadata": {"category": "weather"}}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    // A write: refused in read-only mode, nothing upserted.
    let out = run(d, &["--config", c, "index", docs.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "refused: a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only: rerun with --write"));
    let out = run(d, &["--config", c, "--write", "index", docs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("upserted 4 vectors"));

    let out = run(d, &["--config", c, "search", "What's the weather like in New York?", "--json", "--top-k", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matches"][0]["id"], "m1");
    assert_eq!(v["matches"].as_array().unwrap().len(), 2);
    assert_eq!(v["matches"][0]["metadata"]["text"], "It is sunny and 72F in NYC");

    let out = run(d, &["--config", c, "search", "weather", "--filter", r#"{"category": {"$ne": "weather"}}"#]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("m1") && !text.contains("m4") && text.contains("embed"), "{text}");

    let out = run(d, &["--config", c, "search", "x", "--filter", r#"{"category": {"$gtx": 1}}"#]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown operator $gtx"));

    std::fs::write(&docs, "{\"id\": \"ok\", \"text\": \"fine\"}\n{\"id\": 7}\n").unwrap();
    let out = run(d, &["--config", c, "index", docs.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("docs.jsonl:2: missing string field `id`"));

    // top_k outside Pinecone's 1–10,000: a usage error (it used to panic on 0), never a search.
    for k in ["0", "10001", "100000000"] {
        let out = run(d, &["--config", c, "search", "weather", "--top-k", k]);
        assert_eq!(out.status.code(), Some(2), "--top-k {k}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--top-k") && err.contains("1..=10000"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A missing embedding model is not a down index: the index stays up (Health OK, its count),
/// only the embedder is out, and a search says the one-line fix.
#[test]
fn a_missing_model_leaves_the_index_up_and_says_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profile.p.vector]\nbackend = \"local\"\npath = \"{0}/v.db\"\n\n[profile.p.embedding]\nprovider = \"local\"\n",
            d.display()
        ),
    )
    .unwrap();
    // The index written first, with the model.
    let with_model = d.join("with-model.toml");
    std::fs::write(
        &with_model,
        format!("[profile.p.vector]\nbackend = \"local\"\npath = \"{}/v.db\"\n\n[profile.p.embedding]\nprovider = \"local\"\n", d.display()),
    )
    .unwrap();
    let docs = d.join("docs.jsonl");
    std::fs::write(&docs, "{\"id\": \"m1\", \"text\": \"sunny in NYC\"}\n").unwrap();
    let out = run(d, &["--config", with_model.to_str().unwrap(), "--write", "index", docs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c = cfg.to_str().unwrap();
    // Then without it: no model_dir, no MEMSCOPE_MODEL_DIR, a HOME with no model in it.
    let no_model = |args: &[&str]| crate::support::memscope_command(d, args).output().unwrap();
    let out = no_model(&["--config", c, "health", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let tiers: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let tier = |name: &str| tiers.iter().find(|t| t["tier"] == name).unwrap_or_else(|| panic!("{name}: {text}"));
    assert_eq!(tier("vector")["state"], "OK", "the index is up: {text}");
    let e = tier("embedder");
    assert_ne!(e["state"], "OK", "{text}");
    assert!(e.to_string().contains("memscope model fetch"), "the fix: {e}");
    let out = no_model(&["--config", c, "search", "weather"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("queries need the local model: run `memscope model fetch`"), "{err}");
}
