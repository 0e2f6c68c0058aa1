//! Frame time of the Redis Keys tab holding 1,000,000 keys, at 200×60.
//!
//! `cargo bench --bench main -- render_tree` prints p50/p99 over 2,000 frames (the tree with a
//! 250,000-key folder expanded, scrolled to a new position every frame), then runs criterion.

use criterion::Criterion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use memscope::app::{App, Msg};
use memscope::config::Config;
use memscope::domain::ScanBatch;
use memscope::message::{BackendEvent, Command};
use memscope::message::{RedisCmd, RedisReply};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

const N: usize = 1_000_000;

/// Mixed agent-memory keys: sessions, message lists, caches, rate limits, vector caches.
pub fn synthetic_keys(n: usize) -> Vec<Box<[u8]>> {
    (0..n)
        .map(|i| {
            let s = match i % 4 {
                0 => format!("session:conv-{i:07}"),
                1 => format!("conversation:conv-{i:07}:messages"),
                2 => format!("cache:user:{}:profile:{i}", i % 5000),
                _ => format!("ratelimit:u-{}:{}", i % 20_000, i),
            };
            s.into_bytes().into_boxed_slice()
        })
        .collect()
}

pub fn loaded_app(n: usize) -> App {
    let cfg = Config::with_redis("redis://127.0.0.1:6379/0");
    let mut app = App::new(&cfg, (200, 60));
    let req = app
        .init()
        .into_iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Scan { .. }) => Some(req),
            _ => None,
        })
        .expect("scan");
    let keys = synthetic_keys(n);
    let chunks: Vec<Vec<Box<[u8]>>> = keys.chunks(1000).map(|c| c.to_vec()).collect();
    let last = chunks.len() - 1;
    for (i, c) in chunks.into_iter().enumerate() {
        let b = ScanBatch { keys: c, seen: 0, total: Some(n as u64), calls: i as u64, done: i == last };
        app.update(Msg::Backend(BackendEvent::Redis(req, RedisReply::Scan(Ok(b)))));
    }
    // Expand `session:` (250,000 keys): rows = 4 folders + 250,000 keys.
    let key = |app: &mut App, c: KeyCode| app.update(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    key(&mut app, KeyCode::Char('G'));
    key(&mut app, KeyCode::Enter);
    app
}

fn percentiles() {
    let t0 = Instant::now();
    let mut app = loaded_app(N);
    eprintln!(
        "loaded {} keys, {} visible rows in {:.2} s",
        app.keys.index.len(),
        app.keys.index.row_count(),
        t0.elapsed().as_secs_f64()
    );
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut times = Vec::with_capacity(2000);
    for i in 0..2000 {
        // Jump somewhere new each frame (the update is not timed, only the draw).
        let target = (i * 7919) % app.keys.index.row_count();
        app.keys.selected = target;
        app.keys.offset = target.saturating_sub(10);
        let t = Instant::now();
        term.draw(|f| {
            memscope::ui::draw(f, &app);
        })
        .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!("render_tree 1M keys 200x60: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms", p(0.5), p(0.99), p(1.0));
    flatten(&mut app);
}

/// The UI thread's share of a sort: re-flattening the rows (an expand, a collapse, an order
/// arriving) with the 250,000-key folder open, by name and by an installed size order (the
/// order itself is computed off the UI thread; timed here once, for scale).
fn flatten(app: &mut App) {
    use memscope::keytree::{SortBy, order_by};
    let idx = &mut app.keys.index;
    let time = |idx: &mut memscope::keytree::KeyIndex| {
        let mut t: Vec<f64> = (0..30)
            .map(|_| {
                let s = Instant::now();
                idx.rebuild();
                s.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        t.sort_by(|a, b| a.total_cmp(b));
        (t[15], t[29])
    };
    let (p50, max) = time(idx);
    println!("flatten, tree by name ({} rows): p50 {p50:.1} ms  max {max:.1} ms", idx.row_count());
    let metrics: Vec<Option<i64>> = (0..idx.len() as i64).map(|i| Some((i * 7919) % 100_003)).collect();
    let s = Instant::now();
    let order = order_by(&metrics, SortBy::Size);
    println!("order_by 1M keys (off the UI thread): {:.0} ms", s.elapsed().as_secs_f64() * 1e3);
    idx.set_sort(SortBy::Size);
    let snap = idx.snapshot();
    assert!(idx.set_order(&snap, order));
    let (p50, max) = time(idx);
    println!("flatten, tree by size ({} rows): p50 {p50:.1} ms  max {max:.1} ms", idx.row_count());
    idx.set_mode(memscope::keytree::ViewMode::Flat);
    let (p50, max) = time(idx);
    println!("flatten, flat by size ({} rows, implicit): p50 {p50:.3} ms  max {max:.3} ms", idx.row_count());
}

fn bench(c: &mut Criterion) {
    let app = loaded_app(N);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("draw keys tab, 1M keys, tree, 200x60", |b| {
        b.iter(|| {
            term.draw(|f| {
                memscope::ui::draw(f, &app);
            })
            .unwrap();
        })
    });
}

pub fn bench_main() {
    percentiles();
    let mut c = Criterion::default();
    bench(&mut c);
    c.final_summary();
}
