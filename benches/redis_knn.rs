//! KNN top-10 over 100,000 × 384 float32 vectors in a Valkey 9 search index (HNSW, cosine), on a
//! private server (`scripts/fetch-test-servers`): memscope's query path — `backend = "redis"`'s
//! store, FT.SEARCH with its filter and the reply decoded into matches with their fields — against
//! the raw command (the same FT.SEARCH sent with the redis crate, the reply left as it comes), with
//! the same 200 query vectors; and the local model's embed time for one query, which memscope's
//! whole search adds. Printed figures, no assertions.
//! `cargo bench --bench main -- redis_knn`

use memscope::domain::VectorQuery;
use memscope::store::VectorStore;
use std::time::Instant;

const N: usize = 100_000;
const DIM: usize = 384;

fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    crate::unit_vectors(n, DIM, seed)
}

fn blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn pct(mut t: Vec<f64>) -> String {
    t.sort_by(|a, b| a.total_cmp(b));
    format!("p50 {:.2} ms, p99 {:.2} ms (n={})", t[t.len() / 2], t[(t.len() * 99) / 100], t.len())
}

#[tokio::main]
pub async fn bench_main() {
    let v = memscope::demo::PrivateRedis::start_valkey_with_modules().expect("scripts/fetch-test-servers");
    let mut c = redis::Client::open(v.url()).unwrap().get_connection().unwrap();
    redis::cmd("FT.CREATE")
        .arg("knn")
        .arg("ON")
        .arg("HASH")
        .arg("PREFIX")
        .arg(1)
        .arg("v:")
        .arg("SCHEMA")
        .arg("bucket")
        .arg("TAG")
        .arg("embedding")
        .arg("VECTOR")
        .arg("HNSW")
        .arg(6)
        .arg("TYPE")
        .arg("FLOAT32")
        .arg("DIM")
        .arg(DIM)
        .arg("DISTANCE_METRIC")
        .arg("COSINE")
        .exec(&mut c)
        .unwrap();
    let t = Instant::now();
    let data = vectors(N, 0x2545F4914F6CDD1D);
    for (chunk_i, chunk) in data.chunks(1000).enumerate() {
        let mut p = redis::pipe();
        for (i, x) in chunk.iter().enumerate() {
            let id = chunk_i * 1000 + i;
            p.cmd("HSET").arg(format!("v:{id}")).arg("bucket").arg(id % 5).arg("embedding").arg(blob(x)).ignore();
        }
        p.exec(&mut c).unwrap();
    }
    // Wait for the index to take every document.
    let store = memscope::store::redis::vectors::RedisVectors::new(
        std::sync::Arc::new(
            memscope::store::redis::RedisStore::connect(&memscope::config::RedisConfig::new(v.url()), None).unwrap(),
        ),
        "knn",
        None,
    );
    while !store.stats().await.map(|s| s.total as usize == N).unwrap_or(false) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    println!("loaded and indexed {N} × {DIM} in {:.1} s", t.elapsed().as_secs_f64());
    let queries = vectors(200, 0x9E3779B97F4A7C15);
    let q = |x: &[f32], filter: Option<serde_json::Value>| VectorQuery {
        vector: Some(x.to_vec()),
        id: None,
        top_k: 10,
        namespace: String::new(),
        filter,
        include_values: false,
        include_metadata: true,
    };
    // Warm both paths once.
    store.query(&q(&queries[0], None)).await.unwrap();
    let (mut raw, mut ours, mut ours_f) = (Vec::new(), Vec::new(), Vec::new());
    let mut recall = Vec::new();
    for x in &queries {
        let s = Instant::now();
        let _: redis::Value = redis::cmd("FT.SEARCH")
            .arg("knn")
            .arg("*=>[KNN 10 @embedding $vec AS __vector_score]")
            .arg("PARAMS")
            .arg(2)
            .arg("vec")
            .arg(blob(x))
            .arg("SORTBY")
            .arg("__vector_score")
            .arg("LIMIT")
            .arg(0)
            .arg(10)
            .arg("DIALECT")
            .arg(2)
            .query(&mut c)
            .unwrap();
        raw.push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        let r = store.query(&q(x, None)).await.unwrap();
        ours.push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.matches.len(), 10);
        // recall@10 of HNSW: the exact top 10 over every vector (unit vectors: cosine = dot).
        let mut exact: Vec<(f32, usize)> =
            data.iter().enumerate().map(|(i, d)| (d.iter().zip(x).map(|(a, b)| a * b).sum::<f32>(), i)).collect();
        exact.select_nth_unstable_by(10, |a, b| b.0.total_cmp(&a.0));
        let top: std::collections::HashSet<String> = exact[..10].iter().map(|(_, i)| format!("v:{i}")).collect();
        recall.push(r.matches.iter().filter(|m| top.contains(&m.id)).count() as f64 / 10.0);
        let s = Instant::now();
        store.query(&q(x, Some(serde_json::json!({"bucket": {"$in": ["1", "3"]}})))).await.unwrap();
        ours_f.push(s.elapsed().as_secs_f64() * 1e3);
    }
    println!("raw FT.SEARCH KNN 10 (redis crate, reply undecoded): {}", pct(raw));
    println!("memscope's query (FT.SEARCH + matches decoded with their fields): {}", pct(ours));
    println!("memscope's query with a TAG filter ($in, 40% pass): {}", pct(ours_f));
    println!(
        "recall@10 of the HNSW index against the exact top 10 over all {N}: mean {:.3}, worst {:.1}",
        recall.iter().sum::<f64>() / recall.len() as f64,
        recall.iter().copied().fold(1.0, f64::min)
    );
    match memscope::embed::local::MiniLm::load(None) {
        Ok(m) => {
            let mut e = Vec::new();
            for i in 0..50 {
                let s = Instant::now();
                m.embed_blocking(&[format!("a question about topic {i} in a chat")]).unwrap();
                e.push(s.elapsed().as_secs_f64() * 1e3);
            }
            println!("local model, one query embedded (added by memscope's whole search): {}", pct(e));
        }
        Err(e) => println!("local model not installed ({e}): run `memscope model fetch` for the embed figure"),
    }
}
