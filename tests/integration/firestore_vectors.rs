//! `[vector] backend = "firestore"`: a collection whose documents hold a vector field, searched
//! with `find_nearest` on the Firestore emulator — the paraphrase first, cosine scores, the
//! filter language as where-clause prefilters, the document's fields as metadata.

use memscope::domain::{FsValue, Metric};
use memscope::embed::{Embedder, InputType};
use memscope::store::firestore::FirestoreStore;
use memscope::store::firestore::vectors::{FirestoreVectors, vector_value};
use memscope::store::{LongTermStore, VectorStore};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn find_nearest_over_a_collection_with_prefilters() {
    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("firestore_vectors");
    let fs = Arc::new(FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap());
    let model = memscope::embed::local::MiniLm::load(Some(&crate::support::model_dir())).unwrap();
    let passages = [
        ("p1", "support", 2024, "I was charged twice for order 1182, please refund the duplicate."),
        ("p2", "travel", 2023, "Your flight to Lisbon departs at 9:40 from gate B12."),
        ("p3", "coding", 2024, "Reverse a linked list in Rust by moving the nodes, without cloning."),
        ("p4", "travel", 2024, "The hotel in Rome has breakfast from 7 to 10."),
    ];
    let texts: Vec<String> = passages.iter().map(|p| p.3.to_string()).collect();
    let vecs = model.embed(&texts, InputType::Passage).await.unwrap();
    let docs = passages
        .iter()
        .zip(&vecs)
        .map(|((id, agent, year, text), v)| {
            (
                format!("lc_vectors/{id}"),
                vec![
                    ("content".to_string(), FsValue::String(text.to_string())),
                    ("agent".to_string(), FsValue::String(agent.to_string())),
                    ("year".to_string(), FsValue::Int(*year)),
                    ("embedding".to_string(), vector_value(v)),
                ],
            )
        })
        .collect();
    fs.put_many(docs).await.unwrap();
    let s = FirestoreVectors::new(fs.clone(), "lc_vectors", "embedding", Metric::Cosine);
    let st = s.stats().await.unwrap();
    assert_eq!((st.total, st.dimension, st.metric), (4, Some(384), Some(Metric::Cosine)), "{st:?}");
    for (q, want) in [("refund my double charge", "lc_vectors/p1"), ("when does my plane leave", "lc_vectors/p2")] {
        let e = model.embed(&[q.to_string()], InputType::Query).await.unwrap().remove(0);
        let r = s.query(&crate::support::knn(e.clone(), 3, None)).await.unwrap();
        assert_eq!(r.matches[0].id, want, "{q}: {:?}", r.matches);
        assert!(r.matches.windows(2).all(|w| w[0].score >= w[1].score), "{:?}", r.matches);
        let stored = &vecs[passages.iter().position(|p| format!("lc_vectors/{}", p.0) == want).unwrap()];
        let cos: f32 = e.iter().zip(stored).map(|(a, b)| a * b).sum();
        assert!((r.matches[0].score - cos).abs() < 1e-3, "score {} vs cosine {cos}", r.matches[0].score);
        let md = r.matches[0].metadata.clone().unwrap();
        assert!(md.contains_key("content") && !md.contains_key("embedding"), "{md:?}");
    }
    // Prefilters: only travel, only 2024, both, or either.
    let e = model.embed(&["a trip abroad".to_string()], InputType::Query).await.unwrap().remove(0);
    let ids = |r: memscope::domain::QueryResult| {
        let mut v: Vec<String> = r.matches.into_iter().map(|m| m.id).collect();
        v.sort();
        v
    };
    let travel = s.query(&crate::support::knn(e.clone(), 4, Some(json!({"agent": "travel"})))).await.unwrap();
    assert_eq!(ids(travel), ["lc_vectors/p2", "lc_vectors/p4"]);
    let both = s
        .query(&crate::support::knn(e.clone(), 4, Some(json!({"agent": "travel", "year": {"$gte": 2024}}))))
        .await
        .unwrap();
    assert_eq!(ids(both), ["lc_vectors/p4"]);
    let either = s
        .query(&crate::support::knn(e.clone(), 4, Some(json!({"$or": [{"agent": "coding"}, {"year": 2023}]}))))
        .await
        .unwrap();
    assert_eq!(ids(either), ["lc_vectors/p2", "lc_vectors/p3"]);
    let e2 =
        s.query(&crate::support::knn(e, 4, Some(json!({"agent": {"$exists": true}})))).await.unwrap_err().to_string();
    assert!(e2.contains("$exists") && e2.contains("where-clause"), "{e2}");
    // By id, and the records behind ids (the self-check reads them).
    let mut by_id = crate::support::knn(vec![], 1, None);
    by_id.vector = None;
    by_id.id = Some("lc_vectors/p3".into());
    assert_eq!(s.query(&by_id).await.unwrap().matches[0].id, "lc_vectors/p3");
    let page = s.list_ids(None, "", None, 10).await.unwrap();
    assert_eq!(page.ids.len(), 4);
    let recs = s.fetch(&page.ids, "").await.unwrap();
    assert!(recs.iter().all(|r| r.values.len() == 384));
    let c = memscope::search::check_embedder(&s, &model, "", "content", 20).await.unwrap().unwrap();
    assert!(c.same_model() && c.sampled == 4, "{c:?}");
    // detect names the collection and the lines that search it.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n"))
        .unwrap();
    let out = crate::support::memscope_command(dir.path(), &["--config", cfg.to_str().unwrap(), "detect", "--json"])
        .env("FIRESTORE_EMULATOR_HOST", &emu.host)
        .output()
        .unwrap();
    let d: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let found = d["vector_indexes"].as_array().unwrap().iter().find(|x| x["index"] == "lc_vectors").expect("listed");
    assert_eq!(found["field"], "embedding vector 384", "{found}");
    assert!(found["on"].as_str().unwrap().contains("4 of its first 4 documents"), "{found}");
    assert!(found["config"].as_str().unwrap().contains("backend = \"firestore\"\nindex = \"lc_vectors\""), "{found}");
}

/// The config: the collection is named; the profile's Firestore is the one searched, and a
/// profile without one says how to give it.
#[test]
fn a_firestore_vector_tier_is_configured_by_collection() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.toml");
    let load = |body: &str, env: &dyn Fn(&str) -> Option<String>| {
        std::fs::write(&p, body).unwrap();
        memscope::config::load_with(&memscope::config::Overrides { config: Some(p.clone()), ..Default::default() }, env)
    };
    let emulator = |k: &str| (k == "FIRESTORE_EMULATOR_HOST").then(|| "127.0.0.1:8080".to_string());
    let cfg = load(
        "[profile.p.vector]\nbackend = \"firestore\"\nindex = \"lc_vectors\"\nvector_field = \"emb\"\n",
        &emulator,
    )
    .unwrap();
    let v = cfg.vector.unwrap();
    assert_eq!(
        (v.backend.as_str(), v.index.as_deref(), v.vector_field.as_deref()),
        ("firestore", Some("lc_vectors"), Some("emb"))
    );
    let e = load("[profile.p.vector]\nbackend = \"firestore\"\nindex = \"lc_vectors\"\n", &|_| None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("searches the profile's Firestore") && e.contains("FIRESTORE_EMULATOR_HOST"), "{e}");
    let e = load("[profile.p.vector]\nbackend = \"firestore\"\n", &emulator).unwrap_err().to_string();
    assert!(e.contains("needs index = \"COLLECTION\""), "{e}");
}

/// LangChain's FirestoreVectorStore (langchain-google-firestore 0.5.0) as it wrote its
/// collection: `detect` names it with `text_field = "content"`; a record finds itself at cosine
/// 1 with its `metadata` map; a where-clause on a field inside that map. The same documents
/// under per-user collections (`users/*/memories`) read as one collection group, a same-named
/// collection elsewhere (`teams/t1/memories`) passed over even when it is nearer.
#[tokio::test]
async fn langchain_firestore_vector_store_and_a_collection_group() {
    // distance_threshold is find_nearest's: another backend refuses it, saying so.
    let dir0 = tempfile::tempdir().unwrap();
    let c0 = dir0.path().join("c.toml");
    std::fs::write(
        &c0,
        "[profile.p.redis]\nurl = \"redis://127.0.0.1:1\"\n[profile.p.vector]\nbackend = \"redis\"\nindex = \"i\"\ndistance_threshold = 0.2\n",
    )
    .unwrap();
    let o = crate::support::memscope(dir0.path(), &["--config", c0.to_str().unwrap(), "config", "check"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("distance_threshold: Firestore's find_nearest option"),
        "{o:?}"
    );
    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("firestore_vectors_lc");
    let fs = Arc::new(FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap());
    let lt: Arc<dyn LongTermStore> = fs.clone();
    crate::support::fixtures::load_documents(&lt, "langchain-firestore-vectors").await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("c.toml");
    std::fs::write(&c, format!("[profile.p.long_term]\nbackend = \"firestore\"\nproject_id = \"{project}\"\n"))
        .unwrap();
    let o = crate::support::memscope_command(dir.path(), &["--config", c.to_str().unwrap(), "detect", "--json"])
        .env("FIRESTORE_EMULATOR_HOST", &emu.host)
        .output()
        .unwrap();
    let d: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let ix = d["vector_indexes"].as_array().unwrap().iter().find(|x| x["index"] == "lc_vectors").unwrap();
    assert_eq!(ix["framework"], "LangChain FirestoreVectorStore", "{ix}");
    let lines = ix["config"].as_str().unwrap();
    assert!(lines.contains("backend = \"firestore\"") && lines.contains("text_field = \"content\""), "{lines}");
    let s = FirestoreVectors::new(fs.clone(), "lc_vectors", "embedding", Metric::Cosine);
    let by_id = |id: &str, k: u32, filter: Option<serde_json::Value>| {
        let mut q = crate::support::knn(vec![], k, filter);
        (q.vector, q.id) = (None, Some(id.to_string()));
        q
    };
    let r = s.query(&by_id("lc_vectors/doc-paris", 4, None)).await.unwrap();
    assert_eq!(r.matches[0].id, "lc_vectors/doc-paris");
    assert!((r.matches[0].score - 1.0).abs() < 1e-4, "{:?}", r.matches[0]);
    let md = r.matches[0].metadata.clone().unwrap();
    assert_eq!(
        (md["content"].as_str(), md["metadata"]["topic"].as_str()),
        (Some("Paris is the capital of France."), Some("trivia"))
    );
    let trivia = s.query(&by_id("lc_vectors/doc-paris", 4, Some(json!({"metadata.topic": "trivia"})))).await.unwrap();
    let mut ids: Vec<String> = trivia.matches.into_iter().map(|m| m.id).collect();
    ids.sort();
    assert_eq!(ids, ["lc_vectors/doc-paris", "lc_vectors/doc-spiders"]);
    // Firestore's own distance threshold: only the documents within it come back (here the
    // record itself, at cosine distance 0), and the stats say the threshold is on.
    let near = FirestoreVectors::new(fs.clone(), "lc_vectors", "embedding", Metric::Cosine).with_threshold(Some(0.01));
    let r = near.query(&by_id("lc_vectors/doc-paris", 4, None)).await.unwrap();
    assert_eq!(r.matches.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["lc_vectors/doc-paris"]);
    assert!(near.stats().await.unwrap().detail.unwrap().contains("distance threshold 0.01"));

    // The collection group: two users' memories, and a team's nearer copy that must not count.
    let records = s.fetch(&["doc-paris".into(), "doc-lisbon".into(), "doc-spiders".into()], "").await.unwrap();
    let put = |path: &str, r: &memscope::domain::VectorRecord| {
        (
            path.to_string(),
            vec![
                ("content".to_string(), FsValue::String(r.metadata["content"].as_str().unwrap().to_string())),
                ("embedding".to_string(), vector_value(&r.values)),
            ],
        )
    };
    fs.put_many(vec![
        put("users/u1/memories/m1", &records[0]),
        put("users/u2/memories/m2", &records[1]),
        put("users/u2/memories/m3", &records[2]),
        put("teams/t1/memories/copy", &records[0]),
    ])
    .await
    .unwrap();
    let g = FirestoreVectors::new(fs.clone(), "users/*/memories", "embedding", Metric::Cosine);
    let mut q = crate::support::knn(records[0].values.clone(), 2, None);
    q.id = None;
    let r = g.query(&q).await.unwrap();
    let ids: Vec<&str> = r.matches.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], "users/u1/memories/m1", "{ids:?}");
    assert!(ids.iter().all(|i| i.starts_with("users/")), "the team's copy is passed over: {ids:?}");
    let st = g.stats().await.unwrap();
    assert_eq!(st.dimension, Some(32), "{st:?}");
    assert!(st.detail.unwrap().contains("the count includes any other `memories` collection"));
    let listed = g.list_ids(None, "", None, 10).await.unwrap().ids;
    assert_eq!(listed, ["users/u1/memories/m1", "users/u2/memories/m2", "users/u2/memories/m3"]);
}
