//! Vector-tier figures (printed, never asserted):
//! - the embedded index: exact top-10 over 100,000 × 384 vectors (p50/p99), with the same data
//!   written to target/vector_bench.f32 for benches/scripts/vector_vs_numpy.py to compare against;
//! - from the debounce expiring to results drawn, with the local model (p50/p99).
//!
//! `cargo bench --bench main -- vector_search`, then `python3 benches/scripts/vector_vs_numpy.py`.

use criterion::Criterion;
use memscope::domain::{Metric, VectorQuery, VectorRecord};
use memscope::message::VectorCmd;
use memscope::store::VectorStore;
use memscope::store::local_vectors::LocalVectors;
use std::time::Instant;

const N: usize = 100_000;
const DIM: usize = 384;

/// The index's 100,000 vectors and 200 queries after them, flat ([`crate::unit_vectors`]).
fn data() -> Vec<f32> {
    crate::unit_vectors(N + 200, DIM, 0x2545F4914F6CDD1D).concat()
}

fn pct(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!("p50 {:.2} ms, p99 {:.2} ms (n={})", v[v.len() / 2], v[(v.len() * 99) / 100], v.len())
}

/// A top-10 query for `q` (values and metadata left out), with an optional filter.
fn top10(q: &[f32], filter: Option<serde_json::Value>) -> VectorQuery {
    VectorQuery {
        vector: Some(q.to_vec()),
        id: None,
        top_k: 10,
        namespace: String::new(),
        filter,
        include_values: false,
        include_metadata: false,
    }
}

fn index_figures(rt: &tokio::runtime::Runtime, store: &LocalVectors, queries: &[Vec<f32>]) {
    let mut t = Vec::new();
    for q in queries {
        let vq = top10(q, None);
        let s = Instant::now();
        let r = rt.block_on(store.query(&vq)).unwrap();
        t.push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.matches.len(), 10);
    }
    println!("embedded index, exact top-10 over {N} x {DIM} (cosine): {}", pct(t));
    let mut tf = Vec::new();
    for q in queries.iter().take(50) {
        let vq = top10(q, Some(serde_json::json!({"bucket": {"$in": [1, 3]}})));
        let s = Instant::now();
        rt.block_on(store.query(&vq)).unwrap();
        tf.push(s.elapsed().as_secs_f64() * 1e3);
    }
    println!("embedded index, top-10 with a metadata filter ($in, 40% pass): {}", pct(tf));
}

fn keystroke_to_results(rt: &tokio::runtime::Runtime) {
    use memscope::app::{App, Msg};
    use memscope::config::{Config, VectorConfig};
    use memscope::message::Command;
    let Ok(model) = memscope::embed::local::find_model(None) else {
        println!("keystroke→results: skipped, the local model is not installed (memscope model fetch)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db").display().to_string();
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.vector = Some(VectorConfig::local(Some(path)));
    cfg.embedding = Some(memscope::config::EmbeddingConfig {
        provider: "local".into(),
        model: None,
        base_url: None,
        model_dir: Some(model.display().to_string()),
        dimensions: None,
        api_key: None,
    });
    rt.block_on(async {
        // 2,000 passages in the index.
        let store = memscope::tiers::build_vector(cfg.vector.as_ref().unwrap(), memscope::store::Access::ReadWrite)
            .await
            .unwrap();
        let emb = memscope::embed::for_config(&cfg).unwrap();
        let items: Vec<memscope::search::TextItem> = (0..2000)
            .map(|i| memscope::search::TextItem {
                id: format!("p{i}"),
                text: format!("passage {i} about topic {} with some words of a chat message", i % 37),
                metadata: Default::default(),
            })
            .collect();
        memscope::search::from_texts(store.as_ref(), emb.as_ref(), items, "", "text", 64, |_| {}).await.unwrap();
        drop(store);
        let mut be = memscope::backend::spawn(cfg.clone());
        let mut app = App::new(&cfg, (160, 48));
        for c in app.init() {
            be.commands.send(c).unwrap();
        }
        // Wait until the tier is up.
        loop {
            let ev = be.events.recv().await.unwrap();
            let up = matches!(
                ev,
                memscope::message::BackendEvent::Conn(memscope::domain::Tier::Vector, memscope::domain::ConnState::Up)
            );
            for c in app.update(Msg::Backend(ev)) {
                be.commands.send(c).unwrap();
            }
            if up {
                break;
            }
        }
        app.update(Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('3'),
            crossterm::event::KeyModifiers::NONE,
        )));
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        let mut times = Vec::new();
        let mut now = 1_000u64;
        for i in 0..60 {
            // A new query each time (no cache hits): Ctrl-U, then type it.
            app.update(Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char('u'),
                crossterm::event::KeyModifiers::CONTROL,
            )));
            for ch in format!("question {i} about topic {}", i % 37).chars() {
                app.update(Msg::Key(crossterm::event::KeyEvent::new(
                    crossterm::event::KeyCode::Char(ch),
                    crossterm::event::KeyModifiers::NONE,
                )));
            }
            now += 1_000;
            let start = Instant::now();
            let cmds = app.update(Msg::Tick(now)); // the debounce expires
            assert!(cmds.iter().any(|c| matches!(c, Command::Vector(_, VectorCmd::Search { .. }))));
            for c in cmds {
                be.commands.send(c).unwrap();
            }
            loop {
                let ev = be.events.recv().await.unwrap();
                let done =
                    matches!(ev, memscope::message::BackendEvent::Vector(_, memscope::message::VectorReply::Search(_)));
                app.update(Msg::Backend(ev));
                if done {
                    break;
                }
            }
            term.draw(|f| {
                memscope::ui::draw(f, &app);
            })
            .unwrap();
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
        println!("debounce expired → results drawn (local model, 2,000 passages): {}", pct(times));
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let d = data();
    let store = LocalVectors::in_memory(Metric::Cosine);
    let recs: Vec<VectorRecord> = (0..N)
        .map(|i| VectorRecord {
            id: format!("v{i}"),
            values: d[i * DIM..(i + 1) * DIM].to_vec(),
            metadata: serde_json::json!({"bucket": i % 5}).as_object().cloned().unwrap_or_default(),
        })
        .collect();
    rt.block_on(store.upsert(recs, "")).unwrap();
    let queries: Vec<Vec<f32>> = (0..200).map(|i| d[(N + i) * DIM..(N + i + 1) * DIM].to_vec()).collect();
    // The same data for the NumPy comparison.
    let bytes: Vec<u8> = d.iter().flat_map(|x| x.to_le_bytes()).collect();
    let _ = std::fs::create_dir_all("target");
    std::fs::write("target/vector_bench.f32", bytes).unwrap();
    index_figures(&rt, &store, &queries);
    keystroke_to_results(&rt);
    let q = queries[0].clone();
    c.bench_function("embedded index top-10 over 100k x 384", |b| {
        b.iter(|| {
            let vq = top10(&q, None);
            rt.block_on(store.query(&vq)).unwrap()
        })
    });
}

pub fn bench_main() {
    let mut c = Criterion::default();
    bench(&mut c);
    c.final_summary();
}
