//! Snapshots of the Health tab in OK, WARN and DOWN, from samples fed through `App::update`.

use crate::support::{screen, screen_of};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use memscope::app::{App, Msg, TabId};
use memscope::config::{Config, LongTermConfig};
use memscope::domain::*;
use memscope::health::{Probe, Sample};
use memscope::message::BackendEvent;
use memscope::message::MemoryCmd;

const T0: i64 = 1_763_935_000;

fn app() -> App {
    let mut cfg = Config::with_redis("redis://127.0.0.1:6379/0");
    cfg.long_term = Some(LongTermConfig::Sqlite { path: "/tmp/m.db".into() });
    let mut app = App::new(&cfg, (140, 36));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('4'), KeyModifiers::NONE)));
    assert_eq!(app.tab, TabId::Health);
    app
}

fn redis(i: u64, lat: f64, hits: u64, misses: u64, used: u64) -> Sample {
    Sample {
        probe: Probe::Redis,
        mono_ms: i * 2000,
        wall_secs: T0 + (i * 2) as i64,
        error: None,
        latency_ms: Some(lat),
        redis: Some(RedisHealth {
            ping_ms: lat,
            used_memory: used,
            maxmemory: 100 * 1024 * 1024,
            keyspace_hits: hits,
            keyspace_misses: misses,
            ops_per_sec: 420.0,
            connected_clients: 7,
            keyspace: vec![DbInfo { db: 0, keys: 1234, expires: 300 }],
            slowlog_len: 2,
            ..Default::default()
        }),
        documents: None,
        vectors: None,
        calls: 10,
        errors: 0,
        own_ms: vec![],
        no_answer_ms: None,
        answered_late: false,
        model_check: None,
    }
}

fn lt(i: u64, err: Option<&str>) -> Sample {
    Sample {
        probe: Probe::LongTerm,
        mono_ms: i * 2000,
        wall_secs: T0 + (i * 2) as i64,
        error: err.map(str::to_string),
        latency_ms: err.is_none().then_some(3.5),
        redis: None,
        documents: Some(60),
        vectors: None,
        calls: 20,
        errors: 1,
        own_ms: vec![],
        no_answer_ms: None,
        answered_late: false,
        model_check: None,
    }
}

/// A probe's sample, and the tier state the backend's tracker derives from it (the header and
/// the panels have one source).
fn feed(app: &mut App, s: Sample) {
    use memscope::domain::{ConnState, Tier};
    let tier = match s.probe {
        Probe::Redis => Some(Tier::ShortTerm),
        Probe::LongTerm => Some(Tier::LongTerm),
        Probe::Vector => Some(Tier::Vector),
        Probe::Embedder => None,
    };
    let state = match &s.error {
        Some(e) => ConnState::Down(e.clone()),
        None => ConnState::Up,
    };
    app.update(Msg::Backend(BackendEvent::Health(Box::new(s))));
    if let Some(t) = tier {
        app.update(Msg::Backend(BackendEvent::Conn(t, state)));
    }
}

#[test]
fn ok() {
    let mut app = app();
    for i in 0..30 {
        feed(&mut app, redis(i, 0.4 + (i % 3) as f64 * 0.1, 1000 + i * 90, 100 + i * 10, 40 << 20));
        feed(&mut app, lt(i, None));
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn warn_miss_rate_and_memory_trend() {
    let mut app = app();
    for i in 0..30 {
        // 60 % of the application's lookups miss, memory climbing towards maxmemory.
        feed(&mut app, redis(i, 0.5, 1000 + i * 40, 100 + i * 60, (60 << 20) + i * (40 << 10)));
        feed(&mut app, lt(i, None));
    }
    let s = screen(&app);
    assert!(s.contains("Redis (short-term)  WARN"), "{s}");
    insta::assert_snapshot!(s);
}

/// 80×24: each tier's state badge and key figures stay visible (one line each), the alerts
/// are whole (wrapped), nothing is drawn over anything.
#[test]
fn compact_at_80x24() {
    let mut app = app();
    for i in 0..30 {
        feed(&mut app, redis(i, 0.5, 1000 + i * 40, 100 + i * 60, (60 << 20) + i * (40 << 10)));
        feed(&mut app, lt(i, None));
    }
    feed(
        &mut app,
        lt(
            30,
            Some(
                "unreachable: transport error: connection refused (os error 111) while reading the conversations collection",
            ),
        ),
    );
    let s = screen_of(&app, 80, 24);
    assert!(s.contains("WARN redis") && s.contains("DOWN long_term"), "{s}");
    assert!(s.contains("miss rate 60%") && s.contains("memory"), "{s}");
    assert!(s.contains("(os error 111) while"), "an alert is never cut: {s}");
    insta::assert_snapshot!(s);
}

#[test]
fn down_and_frozen() {
    let mut app = app();
    for i in 0..10 {
        feed(&mut app, redis(i, 0.5, 1000, 100, 40 << 20));
        feed(&mut app, lt(i, None));
    }
    feed(&mut app, lt(10, Some("unreachable: transport error: connection refused")));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE)));
    // Samples arriving while frozen do not change the display.
    feed(&mut app, lt(11, None));
    let s = screen(&app);
    assert!(s.contains("DOWN") && s.contains("FROZEN"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn audit_view_running_then_drift_by_kind() {
    use memscope::audit::{Finding, Kind, Progress, Report, Scanned};
    use memscope::message::{Command, MemoryReply};
    let mut app = app();
    let press = |app: &mut App, c: char| app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    let cmds = press(&mut app, 'a');
    let req = match &cmds[..] {
        [Command::Memory(req, MemoryCmd::Audit { repair: false })] => *req,
        other => panic!("{other:?}"),
    };
    app.update(Msg::Tick(4_000));
    let p = Progress { phase: "conversations", done: 1200, total: Some(5000), drift: 3 };
    app.update(Msg::Backend(BackendEvent::Memory(req, MemoryReply::AuditProgress(p))));
    insta::assert_snapshot!("audit_running", screen(&app));
    let f = |kind: Kind, conv: &str, ids: &[&str], detail: &str| Finding {
        kind,
        conversation_id: Some(conv.into()),
        message_ids: ids.iter().map(|s| s.to_string()).collect(),
        vector_id: None,
        key: None,
        detail: detail.into(),
    };
    let mut orphan = f(Kind::OrphanVector, "conv-0007", &[], "no message conversations/conv-0007/messages/m-9");
    orphan.vector_id = Some("m-9".into());
    let mut session = f(Kind::SessionOrphan, "conv-0404", &[], "no conversation");
    session.key = Some("session:conv-0404".into());
    let report = Report {
        findings: vec![
            f(Kind::MissingVector, "conv-0001", &["m-1"], "user message, no record"),
            f(Kind::MissingVector, "conv-0002", &["m-7"], "assistant message, no record"),
            orphan,
            f(Kind::RecentMissing, "conv-0003", &["m-11", "m-12"], "2 of the newest messages are not in the list"),
            session,
        ],
        counts: [(Kind::MissingVector, 2), (Kind::OrphanVector, 1), (Kind::RecentMissing, 1), (Kind::SessionOrphan, 1)]
            .into_iter()
            .collect(),
        scanned: Scanned { conversations: 60, messages: 540, vectors: 380, keys: 210, repair_entries: 0 },
        elapsed_ms: 1830,
        ..Default::default()
    };
    app.update(Msg::Backend(BackendEvent::Memory(req, MemoryReply::Audit(Ok(Box::new(report))))));
    insta::assert_snapshot!("audit_drift", screen(&app));
}

/// A cluster: the Redis panel grows a line per node (a DOWN node in its own words), the tier
/// CRIT names the dead master in the alerts.
#[test]
fn cluster_nodes_and_a_dead_master() {
    let mut app = app();
    let node = |port: u16, role: &str, err: Option<&str>, i: u64| NodeHealth {
        addr: format!("127.0.0.1:{port}"),
        role: role.into(),
        ping_ms: err.is_none().then_some(0.3),
        used_memory: 2 << 20,
        ops_per_sec: 12.0,
        keys: if err.is_none() { 400 } else { 0 },
        keyspace_hits: 100 * i,
        keyspace_misses: 25 * i,
        slowlog_len: if port == 7003 { 4 } else { 0 },
        error: err.map(str::to_string),
    };
    for i in 0..5 {
        let mut s = redis(i, 0.4, 1000 + i * 90, 100 + i * 10, 40 << 20);
        let dead = (i >= 3).then_some("unreachable: Connection refused (os error 111)");
        s.redis.as_mut().unwrap().cluster = Some(ClusterHealth {
            state: if dead.is_some() { "fail".into() } else { "ok".into() },
            uncovered_slots: if dead.is_some() { 5462 } else { 0 },
            nodes: vec![node(7001, "master", None, i), node(7002, "master", dead, i), node(7003, "master", None, i)],
        });
        feed(&mut app, s);
        feed(&mut app, lt(i, None));
    }
    let s = screen(&app);
    assert!(s.contains("cluster fail · 3 masters · 3 nodes · 5462 slots uncovered"), "{s}");
    assert!(s.contains("M 127.0.0.1:7001 0.3 ms") && s.contains("M 127.0.0.1:7002 DOWN"), "{s}");
    assert!(s.contains("7001 0.3 ms · miss 20% · 400 keys"), "each node's miss rate over the last interval: {s}");
    assert!(s.contains("7003 0.3 ms · miss 20% · slowlog 4 · 400 keys"), "{s}");
    assert!(s.contains("Redis (short-term)  CRIT"), "{s}");
    assert!(s.contains("master 127.0.0.1:7002 DOWN"), "the alert names the node: {s}");
}
