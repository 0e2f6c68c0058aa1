//! The Health tab's frame time with an hour of 1 s samples for four tiers, at 200×60 (prints
//! p50/p99 over 1,000 frames, then criterion). `cargo bench --bench main -- render_health`.

use criterion::Criterion;
use memscope::app::{App, Msg};
use memscope::config::{Config, LongTermConfig, VectorConfig};
use memscope::domain::{DbInfo, IndexStats, RedisHealth};
use memscope::health::{Probe, Sample};
use memscope::message::BackendEvent;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

fn loaded() -> App {
    let mut cfg = Config::with_redis("redis://127.0.0.1:6379/0");
    cfg.long_term = Some(LongTermConfig::Sqlite { path: "/tmp/m.db".into() });
    cfg.vector = Some(VectorConfig::local(None));
    cfg.health.interval_ms = 1000;
    let mut app = App::new(&cfg, (200, 60));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('4'),
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('+'),
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('+'),
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('+'),
        crossterm::event::KeyModifiers::NONE,
    )));
    for i in 0..3600u64 {
        for p in Probe::ALL {
            let s = Sample {
                probe: p,
                mono_ms: i * 1000,
                wall_secs: 1_763_935_000 + i as i64,
                error: None,
                latency_ms: Some(1.0 + (i % 17) as f64 * 0.3),
                redis: (p == Probe::Redis).then(|| RedisHealth {
                    ping_ms: 0.5,
                    used_memory: (40 << 20) + i * 1000,
                    maxmemory: 200 << 20,
                    keyspace_hits: i * 900,
                    keyspace_misses: i * 100,
                    ops_per_sec: 500.0,
                    keyspace: vec![DbInfo { db: 0, keys: 10_000, expires: 2000 }],
                    ..Default::default()
                }),
                documents: (p == Probe::LongTerm).then_some(100_000),
                vectors: (p == Probe::Vector).then(|| IndexStats {
                    dimension: Some(384),
                    metric: None,
                    total: 100_000,
                    fullness: Some(0.3),
                    namespaces: vec![(String::new(), 100_000)],
                    detail: None,
                }),
                calls: i,
                errors: 0,
                own_ms: vec![],
                no_answer_ms: None,
                answered_late: false,
                model_check: None,
            };
            app.update(Msg::Backend(BackendEvent::Health(Box::new(s))));
        }
    }
    app
}

fn percentiles(app: &App) {
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut t = Vec::new();
    for _ in 0..1000 {
        let s = Instant::now();
        term.draw(|f| {
            memscope::ui::draw(f, app);
        })
        .unwrap();
        t.push(s.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(|a, b| a.total_cmp(b));
    println!(
        "health tab, 4 tiers x 3,600 samples, window {} min, 200x60: p50 {:.3} ms  p99 {:.3} ms",
        app.health.window_s / 60,
        t[500],
        t[990]
    );
}

fn bench(c: &mut Criterion) {
    let app = loaded();
    percentiles(&app);
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("draw health tab, an hour of 1 s samples", |b| {
        b.iter(|| {
            term.draw(|f| {
                memscope::ui::draw(f, &app);
            })
            .unwrap();
        })
    });
}

pub fn bench_main() {
    let mut c = Criterion::default();
    bench(&mut c);
    c.final_summary();
}
