//! Health figures from a real Redis: memscope's own lookups are accounted exactly, so the miss
//! rate it reports is the application's.

use memscope::config::RedisConfig;
use memscope::domain::PageCursor;
use memscope::store::KeyStore;
use memscope::store::redis::RedisStore;

fn info_hits_misses(c: &mut redis::Connection) -> (u64, u64) {
    let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
    let get =
        |k: &str| info.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    (get("keyspace_hits:"), get("keyspace_misses:"))
}

#[tokio::test]
async fn own_lookups_match_what_redis_counts() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let mut p = redis::pipe();
    p.cmd("SET").arg("s").arg("v").ignore();
    p.cmd("SET").arg("big").arg(vec![b'x'; 5000]).ignore();
    p.cmd("PFADD").arg("hll").arg("a").arg("b").ignore();
    for i in 0..300 {
        p.cmd("RPUSH").arg("l").arg(i).ignore();
        p.cmd("HSET").arg("h").arg(i).arg(i).ignore();
        p.cmd("SADD").arg("set").arg(i).ignore();
        p.cmd("ZADD").arg("z").arg(i).arg(i).ignore();
        p.cmd("XADD").arg("x").arg("*").arg("n").arg(i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let mut rc = RedisConfig::new(r.url());
    rc.preview_bytes = 1024;
    let s = RedisStore::connect(&rc, None).unwrap();
    let before = info_hits_misses(&mut c);
    let keys: Vec<memscope::domain::Key> = ["s", "big", "hll", "l", "h", "set", "z", "x", "missing-1", "missing-2"]
        .iter()
        .map(|k| k.as_bytes().into())
        .collect();
    s.meta(&keys).await.unwrap();
    for k in ["s", "big", "hll", "l", "h", "set", "z", "x", "gone"] {
        let _ = s.value(k.as_bytes(), &PageCursor::Start).await.unwrap();
    }
    s.health().await.unwrap();
    s.scan_page(None, 0, "*", None, 100).await.unwrap();
    let after = info_hits_misses(&mut c);
    let (oh, om) = s.own_lookups();
    assert_eq!((after.0 - before.0, after.1 - before.1), (oh, om), "INFO delta vs memscope's own count");
}

fn sample(
    s: &RedisStore,
    at_ms: u64,
    h: Result<memscope::domain::RedisHealth, memscope::store::StoreError>,
) -> memscope::health::Sample {
    let _ = s;
    let (latency_ms, redis, error) = match h {
        Ok(h) => (Some(h.ping_ms), Some(h), None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    memscope::health::Sample {
        error,
        latency_ms,
        redis,
        ..memscope::health::Sample::at(memscope::health::Probe::Redis, at_ms, (at_ms / 1000) as i64)
    }
}

#[tokio::test]
async fn reported_miss_rate_is_the_workloads_while_memscope_browses() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    for i in 0..50 {
        let _: () = redis::cmd("SET").arg(format!("cache:{i}")).arg("v").query(&mut c).unwrap();
    }
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let h1 = s.health().await.unwrap();
    // The application: 300 hits and 100 misses → 25 % misses.
    for i in 0..400 {
        let k = if i % 4 == 0 { format!("missing:{i}") } else { format!("cache:{}", i % 50) };
        let _: Option<String> = redis::cmd("GET").arg(k).query(&mut c).unwrap();
    }
    // memscope browsing meanwhile, with plenty of misses of its own.
    let keys: Vec<memscope::domain::Key> =
        (0..80).map(|i| format!("nope:{i}").into_bytes().into_boxed_slice()).collect();
    s.meta(&keys).await.unwrap();
    for i in 0..20 {
        let _ = s.value(format!("cache:{i}").as_bytes(), &PageCursor::Start).await.unwrap();
    }
    let h2 = s.health().await.unwrap();
    let (miss, lookups, _, _) = memscope::health::redis_interval(&h1, &h2, 1.0);
    assert_eq!(lookups, 400);
    assert_eq!(miss, Some(0.25));
}

#[tokio::test]
async fn debug_sleep_raises_a_latency_alert_that_clears() {
    use memscope::config::Thresholds;
    use memscope::health::{History, Level};
    let r = crate::support::redis();
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let t = Thresholds::default(); // crit at 500 ms
    let mut hist = History::default();
    let window = 3_000;
    for i in 0..3 {
        hist.push(sample(&s, i * 1000, s.health().await), window, &t);
    }
    assert!(hist.alerts.is_empty());
    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(1).query(&mut c).unwrap();
    });
    crate::support::wait_frozen(&r.url());
    let st = hist.push(sample(&s, 3000, s.health().await), window, &t).unwrap();
    sleeper.join().unwrap();
    assert_eq!(st.level, Level::Crit, "{st:?}");
    assert!(hist.alerts.iter().any(|a| a.key == "latency" && a.ended_wall.is_none()));
    // Fast probes afterwards: once the slow one leaves the window the alert ends.
    for i in 4..9 {
        hist.push(sample(&s, i * 1000, s.health().await), window, &t);
    }
    let a = hist.alerts.iter().find(|a| a.key == "latency").unwrap();
    assert!(a.ended_wall.is_some(), "{a:?}");
    assert_eq!(hist.status(memscope::health::Probe::Redis, window, &t).unwrap().level, Level::Ok);
}

#[tokio::test]
async fn a_killed_server_goes_down_and_comes_back() {
    use memscope::config::Thresholds;
    use memscope::health::{History, Level};
    let mut r = crate::support::redis();
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let t = Thresholds::default();
    let mut hist = History::default();
    assert_eq!(hist.push(sample(&s, 0, s.health().await), 60_000, &t).unwrap().level, Level::Ok);
    r.kill();
    assert_eq!(hist.push(sample(&s, 1000, s.health().await), 60_000, &t).unwrap().level, Level::Down);
    r.restart().unwrap();
    let mut level = Level::Down;
    for i in 2..40 {
        level = hist.push(sample(&s, i * 1000, s.health().await), 60_000, &t).unwrap().level;
        if level == Level::Ok {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(level, Level::Ok);
    let down = hist.alerts.iter().find(|a| a.level == Level::Down).unwrap();
    assert!(down.ended_wall.is_some(), "the DOWN alert ended when the server came back");
}

/// A freeze drill through the real backend and App, as the Health tab lives it: DEBUG SLEEP 6
/// on a private server. The tier turns DOWN with "NO ANSWER n s" while the server is asleep
/// (panel and header alike — they are one state), is OK again with the first answer (no CRIT
/// after it), and the alert list holds one alert for the freeze, from about when it began to
/// about when it ended. (The figures of how soon are measured by benches/scripts, not here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freeze_is_no_answer_while_it_lasts_and_one_alert_after() {
    use memscope::health::{Level, Probe};
    let r = crate::support::redis();
    let cfg = memscope::config::Config::with_redis(&r.url());
    let mut h = crate::support::Harness::new(cfg);
    let ok = |a: &memscope::app::App| a.health.statuses.get(&Probe::Redis).is_some_and(|s| s.level == Level::Ok);
    h.until(20, "the first good probe", ok).await;
    let url = r.url();
    let began = memscope::health::wall_now();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(6).query(&mut c).unwrap();
        memscope::health::wall_now()
    });
    crate::support::wait_frozen(&r.url());
    // memscope's own calls stuck in the freeze too (a rescan of the Keys tab): their time is
    // the outage's, not the latency after it.
    h.keys("2");
    h.keys("r");
    let no_answer = |a: &memscope::app::App| {
        a.health.statuses.get(&Probe::Redis).is_some_and(|s| {
            s.level == Level::Down && s.last_error.as_deref().is_some_and(|e| e.starts_with("NO ANSWER"))
        })
    };
    h.until(10, "NO ANSWER while the server sleeps", no_answer).await;
    let screen = crate::support::screen_of(&h.app, 160, 40);
    assert!(screen.contains("redis ● NO ANSWER"), "the header says what the panel says:\n{screen}");
    let st = &h.app.health.statuses[&Probe::Redis];
    assert_eq!(st.figures.keys, None, "no figure of now while it does not answer");
    let ended = tokio::task::spawn_blocking(move || sleeper.join().unwrap()).await.unwrap();
    h.until(10, "OK again after the freeze", ok).await;
    // A few more probes: nothing raises a CRIT from the freeze's round trip or the calls
    // stuck in it.
    h.until(6, "three more good probes", |a| {
        a.health.history.samples[&Probe::Redis].iter().rev().take(3).all(|s| s.is_good())
    })
    .await;
    assert_eq!(h.app.health.statuses[&Probe::Redis].level, Level::Ok, "{:?}", h.app.health.statuses[&Probe::Redis]);
    let alerts: Vec<_> = h.app.health.history.alerts.iter().filter(|a| a.probe == Probe::Redis).collect();
    assert_eq!(alerts.len(), 1, "one alert for one freeze: {alerts:?}");
    let a = alerts[0];
    assert_eq!(a.level, Level::Down);
    assert!(a.message.starts_with("NO ANSWER"), "{a:?}");
    let end = a.ended_wall.expect("the alert ended when the server answered");
    assert!((a.started_wall - began).abs() <= 2, "started {} vs the freeze's {began}", a.started_wall);
    assert!((end - ended).abs() <= 2, "ended {end} vs the freeze's end {ended}");
}

/// The panel itself, on a real terminal, during a freeze: it says NO ANSWER, counting up.
#[test]
fn the_health_panel_says_no_answer_during_a_freeze() {
    let r = crate::support::redis();
    let mut t = crate::support::pty::Tui::start(&["--redis-url", &r.url()], &[]);
    t.send("4");
    t.wait_for("now ", 20);
    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(5).query(&mut c).unwrap();
    });
    crate::support::wait_frozen(&r.url());
    let s = t.wait_for("NO ANSWER 2.", 10);
    assert!(s.contains("last good probe"), "{s}");
    sleeper.join().unwrap();
    t.wait_for("redis ● up", 10);
    t.send("q");
    t.wait_exit(10);
}

/// kill -9 and a restart with other data on the same port: the alert list says the server
/// restarted, when, and what its keys went from and to.
#[tokio::test]
async fn a_restart_is_an_event_with_its_keys_before_and_after() {
    use memscope::config::Thresholds;
    use memscope::health::{History, Level};
    let mut r = crate::support::redis();
    let fill = |r: &memscope::demo::PrivateRedis, n: usize| {
        let mut c = crate::support::client(r);
        let mut p = redis::pipe();
        for i in 0..n {
            p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
        }
        p.query::<()>(&mut c).unwrap();
    };
    fill(&r, 1000);
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let t = Thresholds::default();
    let mut hist = History::default();
    hist.push(sample(&s, 0, s.health().await), 60_000, &t);
    r.kill();
    r.restart().unwrap();
    fill(&r, 300);
    let mut level = Level::Down;
    for i in 1..40 {
        level = hist.push(sample(&s, i * 1000, s.health().await), 60_000, &t).unwrap().level;
        if level == Level::Ok {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(level, Level::Ok);
    let restart = hist.alerts.iter().find(|a| a.key == "restart").expect("a restart event");
    assert!(
        restart.message.contains("redis restarted at") && restart.message.contains("keys 1,000 → 300"),
        "{restart:?}"
    );
    assert_eq!(restart.ended_wall, Some(restart.started_wall), "an event, not a condition");
}

/// An index answering 429 is DOWN in the header as in Health (it said "up" for 20 s), and
/// when it answers again the Search tab's error goes with no `r`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_that_refuses_is_down_everywhere_and_its_recovery_clears_search() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let failing = std::sync::Arc::new(AtomicBool::new(true));
    let f = failing.clone();
    let server = crate::support::http::Server::start(std::sync::Arc::new(move |_| {
        if f.load(Ordering::SeqCst) {
            crate::support::http::Response::json(429, serde_json::json!({"code": 8, "message": "slow down"}))
        } else {
            crate::support::http::Response::json(
                200,
                serde_json::json!({"namespaces": {"": {"vectorCount": 3}}, "dimension": 8, "totalVectorCount": 3}),
            )
        }
    }))
    .await;
    let mut cfg = memscope::config::Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    let mut v = memscope::config::VectorConfig::local(None);
    (v.backend, v.host, v.api_key) = ("pinecone".into(), Some(server.url.clone()), Some("k".into()));
    cfg.vector = Some(v);
    let mut h = crate::support::Harness::new(cfg);
    h.until(30, "the vector tier DOWN in Health", |a| {
        a.health
            .statuses
            .get(&memscope::health::Probe::Vector)
            .is_some_and(|s| s.level == memscope::health::Level::Down)
    })
    .await;
    let screen = crate::support::screen_of(&h.app, 160, 40);
    assert!(screen.contains("vector ● DOWN") || screen.contains("vector ● NO ANSWER"), "{screen}");
    h.keys("3");
    h.until(30, "the Search tab's error", |a| a.search.error.is_some()).await;
    failing.store(false, Ordering::SeqCst);
    h.until(30, "the error gone with the recovery, no r pressed", |a| a.search.error.is_none()).await;
    h.until(30, "the header up with Health", |a| {
        crate::support::screen_of(a, 160, 40).contains("vector ● up")
            && a.health.statuses[&memscope::health::Probe::Vector].level == memscope::health::Level::Ok
    })
    .await;
    assert!(h.app.search.error.is_none());
}

/// memscope's connections carry its name: CLIENT LIST and the server view tell them from the
/// application's.
#[tokio::test]
async fn memscopes_own_connections_are_named_and_marked() {
    let r = crate::support::redis();
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    s.health().await.unwrap();
    let mut app = crate::support::client(&r);
    redis::cmd("CLIENT").arg("SETNAME").arg("the-agent").exec(&mut app).unwrap();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut app).unwrap();
    assert!(list.contains("name=memscope"), "{list}");
    let insight = s.server_report().await.unwrap();
    let clients = &insight[0].clients;
    assert!(clients.iter().any(|c| c.name == "memscope" && c.this), "{clients:?}");
    assert!(clients.iter().any(|c| c.name == "the-agent" && !c.this), "{clients:?}");
}
