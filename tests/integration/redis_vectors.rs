//! `[vector] backend = "redis"`: a RediSearch index with a VECTOR field (Valkey 9 with the
//! search module, from `scripts/fetch-test-servers`) as the vector tier — KNN, the filter
//! language in the index's syntax (hand-written translations, then the golden filters' answers
//! on a real index), the index's figures, the embedder checked against the field.

use memscope::domain::{Metric, SearchField, SearchIndex, VectorSpec};
use memscope::embed::{Embedder, InputType};
use memscope::store::VectorStore;
use memscope::store::redis::vectors::{RedisVectors, redisearch_filter};
use serde_json::{Value, json};
use std::sync::Arc;

fn field(name: &str, kind: &str) -> SearchField {
    SearchField { name: name.into(), path: name.into(), kind: kind.into(), vector: None }
}

fn schema() -> SearchIndex {
    SearchIndex {
        name: "docs".into(),
        on: "HASH".into(),
        prefixes: vec!["doc:".into()],
        fields: vec![
            field("genre", "TAG"),
            field("year", "NUMERIC"),
            field("title", "TEXT"),
            field("watched", "TAG"),
            SearchField {
                name: "vec".into(),
                path: "vec".into(),
                kind: "VECTOR".into(),
                vector: Some(VectorSpec {
                    algorithm: "FLAT".into(),
                    dtype: "FLOAT32".into(),
                    dim: 2,
                    metric: "COSINE".into(),
                }),
            },
        ],
        ..Default::default()
    }
}

fn translate(f: Value) -> Result<String, String> {
    let parsed = memscope::filter::from_json(&f).map_err(|e| format!("{e:?}"))?;
    redisearch_filter(&parsed, &schema())
}

/// Each translation written by hand from RediSearch's query syntax (tags in braces, numeric
/// ranges with `(` for an open end, `-` for not, `|` for or, juxtaposition for and).
#[test]
fn filters_are_written_in_the_indexs_syntax() {
    let cases = [
        (json!({"genre": "drama"}), "@genre:{drama}"),
        (json!({"genre": {"$ne": "drama"}}), "-@genre:{drama}"),
        (json!({"genre": {"$in": ["comedy", "drama"]}}), "@genre:{comedy | drama}"),
        (json!({"genre": {"$nin": ["comedy", "drama"]}}), "-@genre:{comedy | drama}"),
        (json!({"genre": "sci-fi & more"}), "@genre:{sci\\-fi\\ \\&\\ more}"),
        (json!({"year": 2019}), "@year:[2019 2019]"),
        (json!({"year": {"$gt": 2019}}), "@year:[(2019 +inf]"),
        (json!({"year": {"$gte": 2020, "$lt": 2022}}), "(@year:[2020 +inf] @year:[-inf (2022])"),
        (json!({"year": {"$lte": 2018.5}}), "@year:[-inf 2018.5]"),
        (json!({"year": {"$in": [2019, 2021]}}), "(@year:[2019 2019] | @year:[2021 2021])"),
        (json!({"year": {"$nin": [2019]}}), "-(@year:[2019 2019])"),
        (json!({"title": "the \"big\" one"}), "@title:\"the \\\"big\\\" one\""),
        (json!({"watched": true}), "@watched:{true}"),
        (json!({"$and": [{"genre": "drama"}, {"year": {"$gte": 2020}}]}), "(@genre:{drama} @year:[2020 +inf])"),
        (json!({"$or": [{"genre": "drama"}, {"year": {"$gte": 2022}}]}), "(@genre:{drama} | @year:[2022 +inf])"),
    ];
    for (f, want) in cases {
        assert_eq!(translate(f.clone()).unwrap_or_else(|e| panic!("{f}: {e}")), want, "{f}");
    }
}

/// What the index cannot answer is an error naming the field and the fix, never a filter
/// dropped.
#[test]
fn filters_the_index_cannot_answer_say_why() {
    let e = translate(json!({"author": "x"})).unwrap_err();
    assert!(e.contains("`author` is not a field of index docs") && e.contains("genre, year, title, watched"), "{e}");
    let e = translate(json!({"genre": {"$gt": 3}})).unwrap_err();
    assert!(e.contains("$gt") && e.contains("TAG"), "{e}");
    let e = translate(json!({"genre": {"$exists": false}})).unwrap_err();
    assert!(e.contains("INDEXMISSING"), "{e}");
    let e = translate(json!({"year": "2019"})).unwrap_err();
    assert!(e.contains("NUMERIC") && e.contains("needs a number"), "{e}");
}

fn cmd(c: &mut redis::Connection, args: &[&[u8]]) -> Value {
    let mut r = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        r.arg(*a);
    }
    let v: redis::Value = r.query(c).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])));
    json!(format!("{v:?}"))
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn store(url: &str, index: &str) -> RedisVectors {
    let r = memscope::store::redis::RedisStore::connect(&memscope::config::RedisConfig::new(url), None).unwrap();
    RedisVectors::new(Arc::new(r), index, None)
}

/// The golden filters (Pinecone's documented answers) on a real index holding the same
/// records: RediSearch gives the same documents for every filter it can express (all but
/// `$exists`, which it refuses saying why).
#[tokio::test]
async fn the_golden_filters_give_the_documented_answers_on_a_real_index() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    let mut c = crate::support::client(&v);
    cmd(
        &mut c,
        &[
            b"FT.CREATE",
            b"docs",
            b"ON",
            b"HASH",
            b"PREFIX",
            b"1",
            b"doc:",
            b"SCHEMA",
            b"genre",
            b"TAG",
            b"year",
            b"NUMERIC",
            b"watched",
            b"TAG",
            b"vec",
            b"VECTOR",
            b"FLAT",
            b"6",
            b"TYPE",
            b"FLOAT32",
            b"DIM",
            b"2",
            b"DISTANCE_METRIC",
            b"COSINE",
        ],
    );
    for (i, (id, md)) in crate::filter_golden::records().into_iter().enumerate() {
        let key = format!("doc:{id}");
        let mut args: Vec<Vec<u8>> = vec![b"HSET".to_vec(), key.into_bytes()];
        for (k, val) in &md {
            let text = match val {
                Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect::<Vec<_>>().join(","),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            args.push(k.clone().into_bytes());
            args.push(text.into_bytes());
        }
        args.push(b"vec".to_vec());
        args.push(blob(&[1.0, i as f32 * 0.1]));
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        cmd(&mut c, &refs);
    }
    let s = store(&v.url(), "docs");
    crate::support::eventually_async("the documents indexed", 10, || async {
        let st = s.stats().await.map_err(|e| e.to_string())?;
        if st.total == 6 { Ok(()) } else { Err(format!("{st:?}")) }
    })
    .await;
    for (f, want) in crate::filter_golden::golden() {
        if f.to_string().contains("$exists") {
            let e = s.query(&crate::support::knn(vec![1.0, 0.0], 10, Some(f.clone()))).await.unwrap_err().to_string();
            assert!(e.contains("INDEXMISSING"), "{f}: {e}");
            continue;
        }
        let r = s
            .query(&crate::support::knn(vec![1.0, 0.0], 10, Some(f.clone())))
            .await
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let mut got: Vec<String> = r.matches.iter().map(|m| m.id.trim_start_matches("doc:").to_string()).collect();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "RediSearch on {f}");
    }
}

/// KNN over an HNSW index of passages embedded by the local model: a paraphrase finds its
/// passage first; scores are cosine similarities (1 − the distance RediSearch returns), highest
/// first; the stats say the index's shape; a query of another dimension names both.
#[tokio::test]
async fn knn_finds_the_paraphrase_first_with_cosine_scores() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    let mut c = crate::support::client(&v);
    cmd(
        &mut c,
        &[
            b"FT.CREATE",
            b"sem",
            b"ON",
            b"HASH",
            b"PREFIX",
            b"1",
            b"msg:",
            b"SCHEMA",
            b"content",
            b"TEXT",
            b"role",
            b"TAG",
            b"embedding",
            b"VECTOR",
            b"HNSW",
            b"6",
            b"TYPE",
            b"FLOAT32",
            b"DIM",
            b"384",
            b"DISTANCE_METRIC",
            b"COSINE",
        ],
    );
    let model = memscope::embed::local::MiniLm::load(Some(&crate::support::model_dir())).unwrap();
    let passages = [
        ("msg:1", "user", "I was charged twice for order 1182, please refund the duplicate."),
        ("msg:2", "assistant", "The weather in New York will be sunny with a high of 75 degrees."),
        ("msg:3", "user", "How do I reverse a linked list in Rust without cloning?"),
        ("msg:4", "assistant", "Your flight to Lisbon departs at 9:40 from gate B12."),
    ];
    let texts: Vec<String> = passages.iter().map(|p| p.2.to_string()).collect();
    let vecs = model.embed(&texts, InputType::Passage).await.unwrap();
    for ((key, role, text), e) in passages.iter().zip(&vecs) {
        cmd(
            &mut c,
            &[b"HSET", key.as_bytes(), b"content", text.as_bytes(), b"role", role.as_bytes(), b"embedding", &blob(e)],
        );
    }
    let s = store(&v.url(), "sem");
    let st = crate::support::eventually_async("the passages indexed", 10, || async {
        let st = s.stats().await.map_err(|e| e.to_string())?;
        if st.total == 4 { Ok(st) } else { Err(format!("{st:?}")) }
    })
    .await;
    assert_eq!((st.dimension, st.metric), (Some(384), Some(Metric::Cosine)));
    let detail = st.detail.clone().unwrap_or_default();
    assert!(detail.contains("HNSW FLOAT32") && detail.contains("HASH on msg:*"), "{detail}");
    for (q, want) in [
        ("refund the second charge on my order", "msg:1"),
        ("is it going to rain in NYC", "msg:2"),
        ("when does my plane leave", "msg:4"),
    ] {
        let e = model.embed(&[q.to_string()], InputType::Query).await.unwrap().remove(0);
        let r = s.query(&crate::support::knn(e.clone(), 3, None)).await.unwrap();
        assert_eq!(r.matches[0].id, want, "{q}: {:?}", r.matches);
        assert!(r.matches.windows(2).all(|w| w[0].score >= w[1].score), "highest first: {:?}", r.matches);
        // The score is the cosine similarity itself.
        let stored = &vecs[passages.iter().position(|p| p.0 == want).unwrap()];
        let cos: f32 = e.iter().zip(stored).map(|(a, b)| a * b).sum();
        assert!((r.matches[0].score - cos).abs() < 1e-3, "score {} vs cosine {cos}", r.matches[0].score);
        let md = r.matches[0].metadata.clone().unwrap();
        assert!(md.contains_key("content") && !md.contains_key("embedding"), "fields, not the blob: {md:?}");
    }
    // A filter in the index's syntax: only the assistant's messages.
    let e = model.embed(&["refund my order".to_string()], InputType::Query).await.unwrap().remove(0);
    let r = s.query(&crate::support::knn(e, 4, Some(json!({"role": "assistant"})))).await.unwrap();
    assert!(r.matches.iter().all(|m| m.metadata.as_ref().unwrap()["role"] == "assistant"), "{:?}", r.matches);
    assert_eq!(r.matches.len(), 2);
    // Another embedder's dimension: one clear error naming both.
    let e = s.query(&crate::support::knn(vec![0.1; 3], 3, None)).await.unwrap_err().to_string();
    assert!(e.contains("3 dimensions") && e.contains("holds 384"), "{e}");
    // By id: the stored vector is the query.
    let mut by_id = crate::support::knn(vec![], 1, None);
    by_id.vector = None;
    by_id.id = Some("msg:3".into());
    assert_eq!(s.query(&by_id).await.unwrap().matches[0].id, "msg:3");
    // It writes nothing there.
    assert!(s.upsert(vec![], "").await.unwrap_err().to_string().contains("writes nothing"));
    // An index that is not there says how to find the ones that are.
    let e = store(&v.url(), "nope").stats().await.unwrap_err().to_string();
    assert!(e.contains("no search index named nope"), "{e}");
}

/// The config: `backend = "redis"` takes the profile's Redis unless it names its own, and
/// needs the index's name.
#[test]
fn a_redis_vector_tier_is_configured_by_index_and_server() {
    let dir = tempfile::tempdir().unwrap();
    let write = |body: &str| {
        let p = dir.path().join("c.toml");
        std::fs::write(&p, body).unwrap();
        p
    };
    let load = |p: &std::path::Path| {
        memscope::config::load_with(
            &memscope::config::Overrides { config: Some(p.to_path_buf()), ..Default::default() },
            &|_| None,
        )
    };
    let p = write(
        "[profile.p.redis]\nurl = \"redis://127.0.0.1:7000/0\"\n[profile.p.vector]\nbackend = \"redis\"\nindex = \"lc_docs\"\n",
    );
    let cfg = load(&p).unwrap();
    let v = cfg.vector.unwrap();
    assert_eq!(
        (v.backend.as_str(), v.index.as_deref(), v.url.as_deref()),
        ("redis", Some("lc_docs"), Some("redis://127.0.0.1:7000/0"))
    );
    let p = write("[profile.p.vector]\nbackend = \"redis\"\n");
    let e = load(&p).unwrap_err().to_string();
    assert!(e.contains("needs index = \"NAME\"") && e.contains("c.toml"), "{e}");
    let p = write("[profile.p.vector]\nbackend = \"weaviate\"\n");
    let e = load(&p).unwrap_err().to_string();
    assert!(e.contains("\"redis\""), "{e}");
}

/// Another model, for the self-check: MiniLM's vectors with their dimensions reversed (same
/// dimension, unrelated directions).
struct Reversed(memscope::embed::local::MiniLm);

#[async_trait::async_trait]
impl Embedder for Reversed {
    fn describe(&self) -> String {
        "reversed-minilm".into()
    }
    fn dimension(&self) -> Option<usize> {
        Some(384)
    }
    async fn embed(&self, texts: &[String], kind: InputType) -> Result<Vec<Vec<f32>>, memscope::store::StoreError> {
        Ok(self
            .0
            .embed(texts, kind)
            .await?
            .into_iter()
            .map(|mut v| {
                v.reverse();
                v
            })
            .collect())
    }
}

/// The embedder checked against what the index holds: stored texts re-embedded give cosine ≈ 1
/// with the model that made them, not with another; an index half written by each says so.
#[tokio::test]
async fn the_embedder_is_checked_against_the_stored_vectors() {
    use memscope::store::local_vectors::LocalVectors;
    let model = memscope::embed::local::MiniLm::load(Some(&crate::support::model_dir())).unwrap();
    let texts: Vec<String> = (0..20).map(|i| format!("message {i} about topic {} in a chat", i % 7)).collect();
    let vecs = model.embed(&texts, InputType::Passage).await.unwrap();
    let records = |vs: &[Vec<f32>]| -> Vec<memscope::domain::VectorRecord> {
        texts
            .iter()
            .zip(vs)
            .enumerate()
            .map(|(i, (t, v))| memscope::domain::VectorRecord {
                id: format!("m{i:02}"),
                values: v.clone(),
                metadata: json!({"text": t}).as_object().cloned().unwrap(),
            })
            .collect()
    };
    let store = LocalVectors::in_memory(Metric::Cosine);
    store.upsert(records(&vecs), "").await.unwrap();
    let c = memscope::search::check_embedder(&store, &model, "", "text", 20).await.unwrap().unwrap();
    assert!(c.same_model() && c.median > 0.999 && c.disagree == 0 && c.sampled == 20, "{c:?}");
    assert!(c.said().starts_with("embedder checked: local all-MiniLM-L6-v2"), "{}", c.said());
    let other = Reversed(memscope::embed::local::MiniLm::load(Some(&crate::support::model_dir())).unwrap());
    let c = memscope::search::check_embedder(&store, &other, "", "text", 20).await.unwrap().unwrap();
    assert!(!c.same_model() && c.median < 0.5, "{c:?}");
    assert!(c.said().starts_with("these vectors were not made by reversed-minilm (median cosine"), "{}", c.said());
    // Half the records rewritten by the other model: the index mixes models.
    let reversed: Vec<Vec<f32>> = vecs.iter().map(|v| v.iter().rev().copied().collect()).collect();
    store.upsert(records(&reversed).into_iter().take(8).collect(), "").await.unwrap();
    let c = memscope::search::check_embedder(&store, &model, "", "text", 20).await.unwrap().unwrap();
    assert_eq!(c.disagree, 8, "{c:?}");
    assert!(c.said().contains("8 of 20 records disagree: the index mixes models"), "{}", c.said());
    // recall@k of an exact index is 1, measured over every record.
    let q = model.embed(&["topic 3".to_string()], InputType::Query).await.unwrap().remove(0);
    let got = store.query(&crate::support::knn(q.clone(), 5, None)).await.unwrap();
    let ids: Vec<String> = got.matches.iter().map(|m| m.id.clone()).collect();
    let r = memscope::search::recall_at_k(&store, &q, &ids, "", None, Metric::Cosine, 1000).await.unwrap();
    assert_eq!((r.found, r.k, r.scanned, r.capped), (5, 5, 20, false), "{r:?}");
    assert!(r.said().starts_with("recall@5 1.00 against an exact pass over all 20 records"), "{}", r.said());
    // Ids an index did not return count against it.
    let fewer: Vec<String> = ids.iter().take(3).cloned().chain(["m99".to_string(), "m98".to_string()]).collect();
    let r = memscope::search::recall_at_k(&store, &q, &fewer, "", None, Metric::Cosine, 1000).await.unwrap();
    assert_eq!(r.found, 3, "{r:?}");
    // An index larger than the pass reads: said, no figure.
    let big = LocalVectors::in_memory(Metric::Cosine);
    let recs = (0..150)
        .map(|i| memscope::domain::VectorRecord {
            id: format!("r{i:03}"),
            values: vec![1.0, i as f32, 0.5],
            metadata: Default::default(),
        })
        .collect();
    big.upsert(recs, "").await.unwrap();
    let r = memscope::search::recall_at_k(&big, &[1.0, 0.0, 0.0], &["r000".into()], "", None, Metric::Cosine, 100)
        .await
        .unwrap();
    assert!(r.capped && r.said().contains("not measured: the index holds more than the"), "{r:?}");
}

/// Search the first record of `index` by its own stored vector (the library's embedder is not
/// memscope's): it comes first, at cosine 1.
async fn finds_itself(s: &RedisVectors, filter: Option<Value>) -> Vec<memscope::domain::VectorMatch> {
    let first = s.list_ids(None, "", None, 1).await.unwrap().ids.remove(0);
    let mut q = crate::support::knn(vec![], 10, filter);
    q.vector = None;
    q.id = Some(first.clone());
    let r = s.query(&q).await.unwrap();
    assert_eq!(r.matches[0].id, first, "{:?}", r.matches);
    assert!((r.matches[0].score - 1.0).abs() < 1e-4, "{:?}", r.matches[0]);
    r.matches
}

/// redisvl's SemanticMessageHistory and SemanticCache, as redisvl 0.28 wrote them: the indexes'
/// shape from FT.INFO, KNN by a stored vector, a filter on its TAG field, the message fields
/// without the blob; `detect` lists both indexes with the lines to add.
#[tokio::test]
async fn redisvl_semantic_history_and_cache() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    crate::support::fixtures::load_with_indexes(&v, "redisvl-vectors");
    let s = store(&v.url(), "sem_chat");
    let st = crate::support::eventually_async("sem_chat indexed", 10, || async {
        let st = s.stats().await.map_err(|e| e.to_string())?;
        if st.total == 4 { Ok(st) } else { Err(format!("{st:?}")) }
    })
    .await;
    assert_eq!((st.dimension, st.metric), (Some(32), Some(Metric::Cosine)), "{st:?}");
    let all = finds_itself(&s, None).await;
    assert_eq!(all.len(), 4);
    let md = all[0].metadata.clone().unwrap();
    assert!(md.contains_key("content") && md.contains_key("role") && !md.contains_key("vector_field"), "{md:?}");
    let users = finds_itself(&s, Some(json!({"role": "user"}))).await;
    assert!(users.len() == 2 && users.iter().all(|m| m.metadata.as_ref().unwrap()["role"] == "user"), "{users:?}");
    let cache = store(&v.url(), "llmcache");
    let st = cache.stats().await.unwrap();
    assert_eq!(st.total, 2, "{st:?}");
    finds_itself(&cache, None).await;
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::memscope(dir.path(), &["detect", "--json", "--redis-url", &v.url()]);
    let d: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let names: Vec<&str> =
        d["vector_indexes"].as_array().unwrap().iter().map(|x| x["index"].as_str().unwrap()).collect();
    assert!(names.contains(&"sem_chat") && names.contains(&"llmcache"), "{d}");
    let sem = d["vector_indexes"].as_array().unwrap().iter().find(|x| x["index"] == "sem_chat").unwrap();
    assert!(sem["field"].as_str().unwrap().contains("VECTOR 32 × FLOAT32 COSINE"), "{sem}");
    assert!(sem["config"].as_str().unwrap().contains("backend = \"redis\"\nindex = \"sem_chat\""), "{sem}");
    // `audit --vectors`: redisvl's vectors here came from another embedder than the local model
    // a profile names: said, exit 1; without a text field to re-embed: said, exit 2.
    let cfg = dir.path().join("c.toml");
    let write = |text_field: &str| {
        std::fs::write(
            &cfg,
            format!(
                "[profile.p.redis]\nurl = \"{}\"\n[profile.p.vector]\nbackend = \"redis\"\nindex = \"sem_chat\"\ntext_field = \"{text_field}\"\n[profile.p.embedding]\nprovider = \"local\"\n",
                v.url()
            ),
        )
        .unwrap();
    };
    write("content");
    let out =
        crate::support::memscope(dir.path(), &["--config", cfg.to_str().unwrap(), "audit", "--vectors", "--json"]);
    let j: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{j}");
    assert_eq!((j["same_model"].as_bool(), j["sampled"].as_u64()), (Some(false), Some(4)), "{j}");
    // The local model's dimension is 384 and these vectors' 32: said as such.
    let out = crate::support::memscope(dir.path(), &["--config", cfg.to_str().unwrap(), "audit", "--vectors"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("these vectors were not made by local all-MiniLM-L6-v2")
            && said.contains("they have 32 dimensions, its 384"),
        "{said}"
    );
    write("nope");
    let out = crate::support::memscope(dir.path(), &["--config", cfg.to_str().unwrap(), "audit", "--vectors"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no record of") && err.contains("`nope`"), "{err}");
}

/// langchain-redis's RedisVectorStore (0.2.4): its TAG and NUMERIC metadata fields filter in the
/// index's syntax; the text comes back as a field.
#[tokio::test]
async fn langchain_redis_vector_store() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().unwrap_or_else(|e| panic!("{e}"));
    crate::support::fixtures::load_with_indexes(&v, "langchain-redis-vectors");
    let s = store(&v.url(), "lc_docs");
    crate::support::eventually_async("lc_docs indexed", 10, || async {
        let st = s.stats().await.map_err(|e| e.to_string())?;
        if st.total == 4 { Ok(()) } else { Err(format!("{st:?}")) }
    })
    .await;
    let all = finds_itself(&s, None).await;
    assert_eq!(all.len(), 4);
    assert!(all[0].metadata.as_ref().unwrap().contains_key("text"), "{:?}", all[0]);
    let by_first = |filter: Value| {
        let mut q = crate::support::knn(vec![], 10, Some(filter));
        q.vector = None;
        q.id = Some(all[0].id.clone());
        q
    };
    let trivia = s.query(&by_first(json!({"topic": "trivia"}))).await.unwrap();
    assert_eq!(trivia.matches.len(), 2, "{:?}", trivia.matches);
    let recent = s.query(&by_first(json!({"year": {"$gte": 2024}}))).await.unwrap();
    assert_eq!(recent.matches.len(), 2, "{:?}", recent.matches);
}
