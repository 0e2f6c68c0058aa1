//! The live profiler on a real redis-server: an application's named connection hammering one
//! key while `memscope top` runs (MONITOR): the commands, the hot key with its namespace, the
//! client by its name, memscope's own commands left out and counted, the server's time per
//! command (INFO commandstats), the time limit and the line budget; in the Keys tab, `:profile`
//! shows the tables and Esc ends the MONITOR connection. And `:pubsub`: channels, subscribers and
//! live messages decoded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A connection named `agent-api` running GET/INCR on `rate:user:7` and a SET on other keys
/// until `stop`.
fn traffic(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        redis::cmd("CLIENT").arg("SETNAME").arg("agent-api").exec(&mut c).unwrap();
        let mut n = 0u64;
        while !stop.load(Ordering::SeqCst) {
            redis::cmd("INCR").arg("rate:user:7").exec(&mut c).unwrap();
            redis::cmd("GET").arg("rate:user:7").exec(&mut c).unwrap();
            redis::cmd("SET").arg(format!("session:{}:ctx", n % 50)).arg("x").exec(&mut c).unwrap();
            n += 3;
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        n
    })
}

#[test]
fn memscope_top_names_the_hot_key_the_commands_and_the_client() {
    let r = crate::support::redis();
    let stop = Arc::new(AtomicBool::new(false));
    let t = traffic(r.url(), stop.clone());
    let dir = tempfile::tempdir().unwrap();
    let o = crate::support::memscope(dir.path(), &["--redis-url", &r.url(), "top", "--seconds", "3", "--json"]);
    stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("MONITOR streams every command"), "the cost, said first");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stopped"], "stopped at the time limit (3 s)", "{v}");
    assert!(v["commands_seen"].as_u64().unwrap() > 100, "{v}");
    let cmds: Vec<&str> = v["commands"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(cmds.contains(&"incr") && cmds.contains(&"get") && cmds.contains(&"set"), "{cmds:?}");
    assert_eq!(v["keys"][0]["name"], "rate:user:7", "the hot key first: {}", v["keys"]);
    assert_eq!(v["keys"][0]["note"], "rate:user:*", "with its namespace");
    assert_eq!(v["clients"][0]["note"], "agent-api", "the client by its name: {}", v["clients"]);
    assert!(v["distinct_commands"].as_u64().unwrap() >= 3, "{v}");
    // The tail as data: each command's arguments as stored, not screen text.
    let t = v["tail"].as_array().unwrap();
    assert!(!t.is_empty() && t.iter().all(|l| l["args"].is_array() && l["client"].is_string()), "{v}");
    assert!(t.iter().any(|l| l["args"] == serde_json::json!(["INCR", "rate:user:7"])), "{v}");
    // memscope's own reads (CLIENT LIST, INFO, SLOWLOG) are not the application's.
    assert!(v["memscope_own_left_out"].as_u64().unwrap() > 0, "{v}");
    assert!(!cmds.contains(&"slowlog"), "{cmds:?}");
    let by_time: Vec<&str> =
        v["commands_by_time"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(by_time.contains(&"incr"), "{by_time:?}");
    assert!(v["hotkeys"].is_null(), "redis-server 7 has no HOTKEYS: {v}");
    // The line budget ends a session early.
    let stop = Arc::new(AtomicBool::new(false));
    let t = traffic(r.url(), stop.clone());
    let o = crate::support::memscope(
        dir.path(),
        &["--redis-url", &r.url(), "top", "--seconds", "20", "--max-lines", "50", "--json"],
    );
    stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stopped"], "stopped at the line budget (50 commands)", "{v}");
    assert!(v["seconds"].as_f64().unwrap() < 20.0);
    // Text: the tables with their sources.
    let o = crate::support::memscope(dir.path(), &["--redis-url", &r.url(), "top", "--seconds", "1"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("commands by rate (MONITOR; ") && text.contains("INFO commandstats"), "{text}");
    assert!(text.contains("this server has no HOTKEYS"), "{text}");
}

/// `:profile` in the Keys tab: the tables arrive while it runs; Esc ends MONITOR on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_view_runs_and_esc_closes_monitor() {
    let r = crate::support::redis();
    let stop = Arc::new(AtomicBool::new(false));
    let t = traffic(r.url(), stop.clone());
    let mut h = crate::support::Harness::new(memscope::config::Config::with_redis(&r.url()));
    h.keys("2");
    h.keys(":profile key:rate:*");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(20, "a snapshot with the hot key", |a| {
        a.keys
            .profile
            .as_ref()
            .and_then(|p| p.stream.last.as_ref())
            .is_some_and(|s| s.keys.first().is_some_and(|k| k.name == "rate:user:7") && !s.tail.is_empty())
    })
    .await;
    let s = h.app.keys.profile.as_ref().unwrap().stream.last.clone().unwrap();
    assert!(s.tail.iter().all(|l| l.contains("rate:user:7")), "the tail filtered by key: {:?}", s.tail);
    let screen = crate::support::screen_of(&h.app, 200, 45);
    assert!(screen.contains("MONITOR streams every command") && screen.contains("hot keys by rate"), "{screen}");
    let monitors = |r: &memscope::demo::PrivateRedis| {
        let mut c = crate::support::client(r);
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
        list.lines().filter(|l| l.contains("cmd=monitor")).count()
    };
    assert_eq!(monitors(&r), 1);
    h.key(crossterm::event::KeyCode::Esc);
    assert!(h.app.keys.profile.is_none());
    crate::support::eventually("the MONITOR connection closed", 10, || {
        if monitors(&r) == 0 { Ok(()) } else { Err("still monitoring".to_string()) }
    });
    stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
}

/// `:pubsub agent:*`: the channels with their subscribers (another application's subscriber
/// counts), the messages as they arrive decoded (msgpack here), the rate per channel; Esc
/// unsubscribes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_lists_channels_and_decodes_live_messages() {
    let r = crate::support::redis();
    // Another application's subscriber, so the channel exists with one subscriber.
    let url = r.url();
    let other = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let mut ps = c.as_pubsub();
        ps.subscribe("agent:events").unwrap();
        ps.set_read_timeout(Some(std::time::Duration::from_secs(8))).unwrap();
        let _ = ps.get_message();
    });
    let mut h = crate::support::Harness::new(memscope::config::Config::with_redis(&r.url()));
    h.keys("2");
    h.keys(":pubsub agent:*");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(20, "subscribed, the channel listed", |a| {
        a.keys.pubsub.as_ref().and_then(|p| p.stream.last.as_ref()).is_some_and(|s| {
            s.channels.iter().any(|c| c.name == "agent:events" && c.subscribers == Some(1))
                && s.numpat >= 1
                && s.matched == 1
        })
    })
    .await;
    let mut c = crate::support::client(&r);
    // msgpack of {"role": "tool", "ok": true}, as an agent's event bus would publish it.
    let payload: Vec<u8> =
        vec![0x82, 0xa4, b'r', b'o', b'l', b'e', 0xa4, b't', b'o', b'o', b'l', 0xa2, b'o', b'k', 0xc3];
    for _ in 0..3 {
        redis::cmd("PUBLISH").arg("agent:events").arg(&payload).exec(&mut c).unwrap();
    }
    redis::cmd("PUBLISH").arg("agent:other").arg("plain \x1b[31m text").exec(&mut c).unwrap();
    redis::cmd("PUBLISH").arg("unrelated").arg("x").exec(&mut c).unwrap();
    h.until(20, "four messages received", |a| {
        a.keys.pubsub.as_ref().and_then(|p| p.stream.last.as_ref()).is_some_and(|s| s.received == 4)
    })
    .await;
    let s = h.app.keys.pubsub.as_ref().unwrap().stream.last.clone().unwrap();
    assert!(
        s.messages.iter().filter(|m| m.contains("agent:events  ‹msgpack› {\"ok\":true,\"role\":\"tool\"}")).count()
            == 3,
        "{:?}",
        s.messages
    );
    assert!(s.messages.iter().all(|m| !m.contains('\x1b')), "{:?}", s.messages);
    // As data (`:export`): the decoded value itself, its format and channel.
    let rec = s.records.iter().find(|r| r["channel"] == "agent:events").unwrap();
    assert_eq!(
        (rec["format"].as_str(), &rec["value"]),
        (Some("msgpack"), &serde_json::json!({"role": "tool", "ok": true}))
    );
    assert!(s.records.iter().any(|r| r["value"] == "plain \x1b[31m text"), "the text as stored: {:?}", s.records);
    let events = s.channels.iter().find(|c| c.name == "agent:events").unwrap();
    assert_eq!(events.messages, 3);
    let screen = crate::support::screen_of(&h.app, 160, 40);
    assert!(screen.contains("pub/sub agent:*") && screen.contains("‹msgpack›"), "{screen}");
    h.key(crossterm::event::KeyCode::Esc);
    assert!(h.app.keys.pubsub.is_none());
    crate::support::eventually("unsubscribed", 10, || {
        let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).map_err(|e| e.to_string())?;
        if n == 0 { Ok(()) } else { Err(format!("{n} pattern subscriptions")) }
    });
    other.join().unwrap();
}
