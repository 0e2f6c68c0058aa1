//! The Search tab in a pseudo-terminal with the embedded index and the local model: type a
//! query, change top_k, pin, add a filter, read the diff.

use crate::support::pty::Tui;

#[test]
fn type_change_top_k_pin_filter_and_read_the_diff() {
    let model = crate::support::model_dir();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cfg = d.join("c.toml");
    std::fs::write(
        &cfg,
        format!("[profile.p.vector]\nbackend = \"local\"\npath = \"{}/v.db\"\n[profile.p.embedding]\nprovider = \"local\"\n", d.display()),
    )
    .unwrap();
    let docs = d.join("docs.jsonl");
    std::fs::write(
        &docs,
        [
            r#"{"id": "m-sunny", "text": "It is sunny and 72F in NYC", "metadata": {"category": "weather"}}"#,
            r#"{"id": "m-rain", "text": "Expect rain in New York tomorrow morning", "metadata": {"category": "weather"}}"#,
            r#"{"id": "m-refund", "text": "The refund for order 1182 was issued", "metadata": {"category": "support"}}"#,
            r#"{"id": "m-pizza", "text": "The best pizza in New York is in Brooklyn", "metadata": {"category": "travel"}}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let env = [("MEMSCOPE_MODEL_DIR", model.as_str())];
    let c = cfg.to_str().unwrap();
    let mut ix = Tui::start(&["--config", c, "--write", "index", docs.to_str().unwrap()], &env);
    assert!(ix.wait_exit(60).success(), "{}", ix.screen());
    drop(ix); // one pseudo-terminal at a time (support::pty)

    let mut t = Tui::start(&["--config", c], &env);
    t.wait_for("vector ● up", 30);
    t.send("3");
    t.send("/"); // the query editor opens on `/`
    t.wait_for("type to search", 5);
    t.send("weather in new york");
    let s = t.wait_for("4 matches", 20);
    let first = s.lines().find(|l| l.contains("  1 ")).unwrap_or_default().to_string();
    assert!(first.contains("m-rain") || first.contains("m-sunny"), "{s}");
    // top_k down to 3, pin, then filter to travel only: the diff shows what dropped.
    t.send("\x1b");
    t.send("-");
    t.wait_for("top_k 5", 5);
    t.send("-");
    let s = t.wait_for("3 matches", 10);
    assert!(s.contains("top_k 3"), "{s}");
    t.send("p");
    t.wait_for("diff against the pin", 5);
    t.send("f");
    t.send(r#"{"category": {"$in": ["travel", "weather"]}, "id": "#);
    t.wait_for("filter ✗", 5);
    t.send("\x15"); // Ctrl-U clears the field
    t.send(r#"{"category": "travel"}"#);
    t.wait_for("metadata filter (JSON) ✓", 5);
    t.send("\r");
    let s = t.wait_for("dropped since the pin", 20);
    assert!(s.contains("m-pizza") && s.contains("overlap@3"), "{s}");
    t.send("\x1b");
    t.send("q");
    assert!(t.wait_exit(10).success());
    t.assert_restored();
}
