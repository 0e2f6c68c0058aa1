//! Embedders: the local MiniLM against an independent NumPy reference, and the HTTP embedders
//! against loopback servers with the providers' request/response shapes.

use crate::support::http::{Request, Response, Server};
use memscope::config::EmbeddingConfig;
use memscope::embed::local::MiniLm;
use memscope::embed::openai::OpenAi;
use memscope::embed::pinecone::PineconeInference;
use memscope::embed::{Cached, Embedder, InputType, check_dimension};
use serde_json::{Value, json};
use std::sync::Arc;

fn local() -> MiniLm {
    MiniLm::load(None).unwrap_or_else(|e| {
        panic!("{e}\n(these tests need the local model: `cargo run -- model fetch`, which ./scripts/test runs for you)")
    })
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * y).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x.powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn local_model_matches_the_numpy_reference() {
    let m = local();
    let fixtures: Vec<Value> = serde_json::from_str(include_str!("../fixtures/minilm_reference.json")).unwrap();
    for f in fixtures {
        let text = f["text"].as_str().unwrap().to_string();
        let want_ids: Vec<u32> = f["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
        assert_eq!(m.token_ids(&text).unwrap(), want_ids, "token ids of {text:?}");
        let reference: Vec<f64> = f["vector"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        let got = m.embed_blocking(std::slice::from_ref(&text)).unwrap().remove(0);
        assert_eq!(got.len(), 384);
        let c = cosine(&got, &reference);
        assert!(c > 1.0 - 1e-5, "cosine {c} for {text:?}");
    }
}

#[test]
fn batches_embed_like_single_texts() {
    // Padding a short text to a longer neighbour must not change its vector.
    let m = local();
    let texts = vec!["short".to_string(), "a much longer sentence about refunds, orders and charges".to_string()];
    let batch = m.embed_blocking(&texts).unwrap();
    let single = m.embed_blocking(&texts[..1]).unwrap();
    let c: f64 = batch[0].iter().zip(&single[0]).map(|(a, b)| (*a as f64) * (*b as f64)).sum();
    assert!(c > 1.0 - 1e-5, "{c}");
}

#[test]
fn paraphrase_ranking() {
    let m = local();
    let query = "What's the weather like in New York today?".to_string();
    let docs = [
        "It is sunny and 72F in NYC",
        "The refund for order 1182 was issued",
        "Seafood restaurants in Lisbon open at 8pm",
        "Python dataclasses share mutable defaults",
        "New York has many museums",
    ];
    let q = m.embed_blocking(std::slice::from_ref(&query)).unwrap().remove(0);
    let d = m.embed_blocking(&docs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut scored: Vec<(f32, &str)> =
        d.iter().zip(docs).map(|(v, t)| (v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>(), t)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(scored[0].1, "It is sunny and 72F in NYC", "{scored:?}");
}

fn cfg(base: &str) -> EmbeddingConfig {
    EmbeddingConfig {
        provider: "openai".into(),
        model: Some("text-embedding-3-small".into()),
        base_url: Some(base.into()),
        model_dir: None,
        dimensions: Some(3),
        api_key: Some("sk-test".into()),
    }
}

#[tokio::test]
async fn openai_compatible_request_and_results_matched_by_index() {
    let s = Server::start(Arc::new(|r: &Request| {
        let n = r.json()["input"].as_array().map(|a| a.len()).unwrap_or(0);
        // Answer out of order: the client must match by `index`.
        let data: Vec<Value> = (0..n).rev().map(|i| json!({"object": "embedding", "index": i, "embedding": [i as f32, 1.0, 0.0]})).collect();
        Response::json(200, json!({"object": "list", "data": data, "model": "text-embedding-3-small", "usage": {"prompt_tokens": 3, "total_tokens": 3}}))
    }))
    .await;
    let e = OpenAi::new(&cfg(&format!("{}/v1", s.url))).unwrap();
    let v = e.embed(&["a".into(), "b".into(), "c".into()], InputType::Passage).await.unwrap();
    assert_eq!(v.iter().map(|x| x[0]).collect::<Vec<_>>(), [0.0, 1.0, 2.0]);
    let req = &s.requests()[0];
    assert_eq!((req.method.as_str(), req.path()), ("POST", "/v1/embeddings"));
    assert_eq!(req.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(req.json(), json!({"model": "text-embedding-3-small", "input": ["a", "b", "c"], "dimensions": 3}));

    // Query embeddings are cached: the second identical query sends nothing.
    let cached = Cached::new(OpenAi::new(&cfg(&format!("{}/v1", s.url))).unwrap(), 8);
    let (_, hit1) = cached.query("hello").await.unwrap();
    let (_, hit2) = cached.query("hello").await.unwrap();
    assert!(!hit1 && hit2);
    assert_eq!(s.requests().len(), 2);
}

#[tokio::test]
async fn openai_errors_show_the_providers_message() {
    let s = Server::start(Arc::new(|_r: &Request| {
        Response::json(401, json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}))
    }))
    .await;
    let e = OpenAi::new(&cfg(&s.url)).unwrap().embed(&["x".into()], InputType::Query).await.unwrap_err().to_string();
    assert!(e.contains("Incorrect API key provided"), "{e}");
}

#[tokio::test]
async fn pinecone_inference_sends_input_type() {
    let s = Server::start(Arc::new(|r: &Request| {
        let n = r.json()["inputs"].as_array().map(|a| a.len()).unwrap_or(0);
        Response::json(200, json!({"model": "multilingual-e5-large", "vector_type": "dense", "data": (0..n).map(|_| json!({"vector_type": "dense", "values": [0.5, 0.5]})).collect::<Vec<_>>(), "usage": {"total_tokens": 4}}))
    }))
    .await;
    let mut c = cfg(&s.url);
    c.provider = "pinecone".into();
    c.model = Some("multilingual-e5-large".into());
    let e = PineconeInference::new(&c).unwrap();
    e.embed(&["q".into()], InputType::Query).await.unwrap();
    e.embed(&["p1".into(), "p2".into()], InputType::Passage).await.unwrap();
    let reqs = s.requests();
    assert_eq!(reqs[0].path(), "/embed");
    assert_eq!(reqs[0].header("Api-Key"), Some("sk-test"));
    assert_eq!(reqs[0].header("X-Pinecone-API-Version"), Some("2025-10"));
    assert_eq!(reqs[0].json()["parameters"]["input_type"], "query");
    assert_eq!(reqs[1].json()["parameters"]["input_type"], "passage");
    assert_eq!(reqs[1].json()["inputs"], json!([{"text": "p1"}, {"text": "p2"}]));
}

#[test]
fn dimension_mismatch_names_both() {
    let e = check_dimension(384, 1536).unwrap_err().to_string();
    assert!(e.contains("384") && e.contains("1536"), "{e}");
    check_dimension(384, 384).unwrap();
}
