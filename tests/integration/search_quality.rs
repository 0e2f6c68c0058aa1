//! Tuning's quality in the app, on a Valkey search index: four records embedded by the local
//! model and two by another model (the failure of switching models without re-indexing). Health
//! says the index mixes models; `R` in the Search tab measures recall@k of the results shown
//! against an exact pass over the records.

use memscope::embed::{Embedder, InputType};

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_the_index_mixes_models_and_search_measures_recall() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    let mut c = crate::support::client(&v);
    redis::cmd("FT.CREATE")
        .arg(&["mixed", "ON", "HASH", "PREFIX", "1", "doc:", "SCHEMA", "content", "TEXT", "embedding", "VECTOR"])
        .arg(&["HNSW", "6", "TYPE", "FLOAT32", "DIM", "384", "DISTANCE_METRIC", "COSINE"])
        .exec(&mut c)
        .unwrap();
    let model = memscope::embed::local::MiniLm::load(Some(&crate::support::model_dir())).unwrap();
    let texts = [
        "I was charged twice for order 1182, please refund the duplicate.",
        "The weather in New York will be sunny with a high of 75 degrees.",
        "How do I reverse a linked list in Rust without cloning?",
        "Your flight to Lisbon departs at 9:40 from gate B12.",
        "The hotel in Rome serves breakfast from 7 to 10.",
        "Spiders have eight legs and most spin webs.",
    ];
    let owned: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    let mut vecs = model.embed(&owned, InputType::Passage).await.unwrap();
    // The last two from "another model": vectors unrelated to their texts (a fixed LCG's).
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for other in &mut vecs[4..] {
        *other = (0..384)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
    }
    for (i, (t, e)) in texts.iter().zip(&vecs).enumerate() {
        redis::cmd("HSET")
            .arg(format!("doc:{i}"))
            .arg("content")
            .arg(*t)
            .arg("embedding")
            .arg(blob(e))
            .exec(&mut c)
            .unwrap();
    }
    let mut cfg = memscope::config::Config::with_redis(&v.url());
    let mut vc = memscope::config::VectorConfig::local(None);
    (vc.backend, vc.index, vc.text_field) = ("redis".into(), Some("mixed".into()), "content".into());
    vc.url = Some(v.url());
    cfg.vector = Some(vc);
    cfg.embedding = Some(memscope::config::EmbeddingConfig {
        provider: "local".into(),
        model: None,
        base_url: None,
        model_dir: Some(crate::support::model_dir()),
        dimensions: None,
        api_key: None,
    });
    cfg.health.interval_ms = 200;
    let mut h = crate::support::Harness::new(cfg);
    let embedder = memscope::health::Probe::Embedder;
    h.until(60, "Health's embedder WARN: the index mixes models", |a| {
        a.health.statuses.get(&embedder).is_some_and(|s| s.conditions.iter().any(|c| c.0 == "model"))
    })
    .await;
    let st = &h.app.health.statuses[&embedder];
    let said = &st.conditions.iter().find(|c| c.0 == "model").unwrap().2;
    assert_eq!(st.level, memscope::health::Level::Warn, "{st:?}");
    assert!(said.contains("2 of 6 records disagree: the index mixes models"), "{said}");
    assert!(said.contains("checked") && said.contains("ago"), "with its age: {said}");
    h.keys("4");
    let screen = crate::support::screen_of(&h.app, 200, 40);
    assert!(screen.contains("the index mixes models"), "{screen}");

    // Search, then R: recall@3 against an exact pass over the six records.
    h.keys("3/");
    h.keys("refund the second charge on my order");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(30, "the results", |a| !a.search.matches().is_empty()).await;
    assert_eq!(h.app.search.matches()[0].id, "doc:0");
    h.key(crossterm::event::KeyCode::Esc);
    h.keys("--"); // top_k 10 → 5 → 3
    h.until(30, "three results", |a| a.search.matches().len() == 3 && !a.search.searching()).await;
    h.keys("R");
    h.until(30, "recall measured", |a| a.search.recall.is_some()).await;
    let r = h.app.search.recall.clone().unwrap().unwrap();
    assert_eq!((r.k, r.scanned, r.capped), (3, 6, false), "{r:?}");
    assert_eq!(r.found, 3, "HNSW over six records is exact: {r:?}");
    let screen = crate::support::screen_of(&h.app, 200, 40);
    assert!(screen.contains("recall@3 1.00 against an exact pass over all 6 records"), "{screen}");
    // A new search forgets the figure (it was the last results').
    h.keys("/ again");
    h.key(crossterm::event::KeyCode::Enter);
    assert!(h.app.search.recall.is_none());
}
