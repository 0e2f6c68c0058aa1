//! One contract for the vector tier, run against the embedded index (in memory, and persisted
//! then reopened) and against the Pinecone client talking to a server with Pinecone's shapes.

use memscope::domain::{Metric, VectorQuery, VectorRecord};
use memscope::store::VectorStore;
use memscope::store::local_vectors::LocalVectors;
use memscope::store::pinecone::{Pinecone, PineconeOptions};
use serde_json::json;
use std::sync::Arc;

const DIM: usize = 4;

fn rec(id: &str, v: [f32; DIM], meta: serde_json::Value) -> VectorRecord {
    VectorRecord { id: id.into(), values: v.to_vec(), metadata: meta.as_object().cloned().unwrap_or_default() }
}

fn q(v: [f32; DIM], k: u32) -> VectorQuery {
    VectorQuery {
        vector: Some(v.to_vec()),
        id: None,
        top_k: k,
        namespace: String::new(),
        filter: None,
        include_values: false,
        include_metadata: true,
    }
}

async fn pinecone() -> (Arc<dyn VectorStore>, (crate::support::http::Server, crate::support::http::Server)) {
    let (control, data) = crate::support::fake_pinecone::start(DIM as u32).await;
    let mut o = PineconeOptions::new(crate::support::fake_pinecone::API_KEY);
    o.index = Some(crate::support::fake_pinecone::INDEX.into());
    o.control_url = control.url.clone();
    o.host_scheme = "http";
    let p = Pinecone::connect(o).await.unwrap();
    assert_eq!(p.dimension, Some(DIM as u32));
    (Arc::new(p), (control, data))
}

macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn local_in_memory() {
                super::$name(std::sync::Arc::new(super::LocalVectors::in_memory(super::Metric::Cosine)), None).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn local_persisted() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("v.db").display().to_string();
                let s = std::sync::Arc::new(super::LocalVectors::open(&path, super::Metric::Cosine).unwrap());
                super::$name(s, Some(path)).await;
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn pinecone() {
                let (s, _servers) = super::pinecone().await;
                super::$name(s, None).await;
            }
        }
    };
}

async fn seed(s: &Arc<dyn VectorStore>) {
    let n = s
        .upsert(
            vec![
                rec("nyc-weather", [1.0, 0.0, 0.0, 0.0], json!({"text": "It is sunny and 72F in NYC", "category": "weather", "tags": ["nyc", "today"], "turn": 3})),
                rec("lisbon-food", [0.0, 1.0, 0.0, 0.0], json!({"text": "Seafood in Lisbon", "category": "travel", "tags": ["lisbon"], "turn": 5})),
                rec("nyc-food", [0.7, 0.7, 0.0, 0.0], json!({"text": "Pizza in NYC", "category": "travel", "tags": ["nyc"], "turn": 8})),
                rec("refund", [0.0, 0.0, 1.0, 0.0], json!({"text": "Refund for order 1182", "category": "support", "turn": 1})),
            ],
            "",
        )
        .await
        .unwrap();
    assert_eq!(n, 4);
}

async fn query_ranks_filters_and_includes(s: Arc<dyn VectorStore>, _path: Option<String>) {
    seed(&s).await;
    let r = s.query(&q([1.0, 0.1, 0.0, 0.0], 3)).await.unwrap();
    let ids: Vec<&str> = r.matches.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["nyc-weather", "nyc-food", "lisbon-food"]);
    assert!(r.matches.windows(2).all(|w| w[0].score >= w[1].score));
    assert!((r.matches[0].score - 0.995).abs() < 0.01, "cosine score {}", r.matches[0].score);
    assert_eq!(r.matches[0].metadata.as_ref().unwrap()["category"], "weather");
    assert!(r.matches[0].values.is_none());

    let mut f = q([1.0, 0.1, 0.0, 0.0], 10);
    f.filter = Some(json!({"tags": "nyc", "category": {"$ne": "weather"}}));
    let r = s.query(&f).await.unwrap();
    assert_eq!(r.matches.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["nyc-food"]);
    f.filter = Some(json!({"$or": [{"turn": {"$lt": 2}}, {"tags": {"$in": ["lisbon"]}}]}));
    let r = s.query(&f).await.unwrap();
    let mut got: Vec<&str> = r.matches.iter().map(|m| m.id.as_str()).collect();
    got.sort();
    assert_eq!(got, ["lisbon-food", "refund"]);

    // By id, with values.
    let r = s
        .query(&VectorQuery {
            vector: None,
            id: Some("refund".into()),
            top_k: 1,
            namespace: String::new(),
            filter: None,
            include_values: true,
            include_metadata: false,
        })
        .await
        .unwrap();
    assert_eq!(r.matches[0].id, "refund");
    assert_eq!(r.matches[0].values.as_deref(), Some(&[0.0, 0.0, 1.0, 0.0][..]));
    assert!(r.matches[0].metadata.is_none());
}
contract!(query_ranks_filters_and_includes);

async fn namespaces_stats_fetch_list_delete(s: Arc<dyn VectorStore>, path: Option<String>) {
    seed(&s).await;
    let other: Vec<VectorRecord> =
        (0..250).map(|i| rec(&format!("doc-{i:03}"), [0.5, 0.5, 0.5, i as f32 / 250.0], json!({"n": i}))).collect();
    assert_eq!(s.upsert(other, "docs").await.unwrap(), 250);
    let st = s.stats().await.unwrap();
    assert_eq!(st.total, 254);
    assert_eq!(st.dimension, Some(DIM as u32));
    assert_eq!(st.namespaces, vec![(String::new(), 4), ("docs".to_string(), 250)]);
    // Namespaces are isolated.
    let r = s.query(&q([1.0, 0.0, 0.0, 0.0], 10)).await.unwrap();
    assert_eq!(r.matches.len(), 4);
    let got = s.fetch(&["doc-007".into(), "missing".into(), "doc-249".into()], "docs").await.unwrap();
    assert_eq!(got.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["doc-007", "doc-249"]);
    assert_eq!(got[0].metadata["n"], 7);
    // Ids by prefix, 100 a page.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let p = s.list_ids(Some("doc-1"), "docs", token.as_deref(), 100).await.unwrap();
        assert!(p.ids.len() <= 100);
        all.extend(p.ids);
        match p.next {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(all.len(), 100);
    s.delete(&["doc-100".into(), "doc-101".into()], "docs").await.unwrap();
    assert_eq!(s.stats().await.unwrap().total, 252);
    if let Some(path) = path {
        // Persisted: a reopened index has everything.
        let again = LocalVectors::open(&path, Metric::Cosine).unwrap();
        assert_eq!(again.stats().await.unwrap().total, 252);
        assert_eq!(again.query(&q([1.0, 0.0, 0.0, 0.0], 1)).await.unwrap().matches[0].id, "nyc-weather");
    }
}
contract!(namespaces_stats_fetch_list_delete);

async fn dimension_mismatch_is_a_clear_error(s: Arc<dyn VectorStore>, _path: Option<String>) {
    seed(&s).await;
    let e = s.query(&VectorQuery { vector: Some(vec![1.0; 3]), ..q([0.0; DIM], 1) }).await.unwrap_err().to_string();
    // Both dimensions named, each as a number of its own (not any message with a 3 and a 4).
    let numbers: Vec<u64> = e.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(numbers.contains(&3) && numbers.contains(&(DIM as u64)) && e.contains("dimension"), "{e}");
    let e = s
        .upsert(vec![VectorRecord { id: "x".into(), values: vec![1.0; 5], metadata: Default::default() }], "")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("dimension"), "{e}");
}
contract!(dimension_mismatch_is_a_clear_error);

#[tokio::test(flavor = "multi_thread")]
async fn pinecone_upserts_are_batched_by_count() {
    let (s, (_c, data)) = pinecone().await;
    let many: Vec<VectorRecord> =
        (0..2500).map(|i| rec(&format!("v{i}"), [1.0, 0.0, 0.0, i as f32], json!({}))).collect();
    assert_eq!(s.upsert(many, "bulk").await.unwrap(), 2500);
    let upserts: Vec<usize> = data
        .requests()
        .iter()
        .filter(|r| r.path() == "/vectors/upsert")
        .map(|r| r.json()["vectors"].as_array().unwrap().len())
        .collect();
    assert_eq!(upserts, [1000, 1000, 500]);
}

/// One file, one index per process: a write through one handle is seen through the other
/// (the demo's agents and its TUI open the same file).
#[tokio::test]
async fn local_index_opened_twice_in_one_process_is_shared() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = memscope::config::VectorConfig::local(Some(dir.path().join("v.db").display().to_string()));
    use memscope::store::Access;
    let a = memscope::tiers::build_vector(&cfg, Access::ReadWrite).await.unwrap();
    let b = memscope::tiers::build_vector(&cfg, Access::ReadOnly).await.unwrap();
    let rec = memscope::domain::VectorRecord { id: "x".into(), values: vec![1.0, 0.0], metadata: Default::default() };
    a.upsert(vec![rec], "").await.unwrap();
    assert_eq!(b.fetch(&["x".into()], "").await.unwrap().len(), 1, "a reader sees the writer's write");
    drop((a, b));
    // Closed everywhere: a new handle reads the file again (read-only: it cannot write).
    let c = memscope::tiers::build_vector(&cfg, Access::ReadOnly).await.unwrap();
    let rec = memscope::domain::VectorRecord { id: "y".into(), values: vec![1.0, 0.0], metadata: Default::default() };
    assert!(matches!(c.upsert(vec![rec], "").await, Err(memscope::store::StoreError::ReadOnly(_))));
    assert_eq!(c.fetch(&["x".into()], "").await.unwrap().len(), 1);
}
