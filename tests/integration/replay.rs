//! An incident recorded by the real poller (`memscope health --watch --record`) during a freeze
//! of a private redis-server, then replayed: the summary to paste, and the Health tab's time
//! cursor showing the tier as it was.

use std::io::BufRead;

/// Record `health --watch` on `r` into `file` while the server sleeps `sleep_s` seconds in the
/// middle; returns when the recording holds the freeze and a few good probes after it.
fn record_a_freeze(r: &memscope::demo::PrivateRedis, file: &std::path::Path, sleep_s: u32) {
    let home = tempfile::tempdir().unwrap();
    let args = ["health", "--watch", "--redis-url", &r.url(), "--record", file.to_str().unwrap()];
    let mut child =
        crate::support::memscope_command(home.path(), &args).stderr(std::process::Stdio::null()).spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    for _ in 0..2 {
        assert!(next().contains(" OK "), "good probes first");
    }
    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(sleep_s).query(&mut c).unwrap();
    });
    crate::support::wait_frozen(&r.url());
    // `--watch` prints a line every interval, NO ANSWER while the server sleeps.
    let mut said_no_answer = false;
    loop {
        let l = next();
        said_no_answer |= l.contains("NO ANSWER");
        if said_no_answer && l.contains(" OK ") {
            break;
        }
    }
    sleeper.join().unwrap();
    for _ in 0..2 {
        next();
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_recorded_freeze_replays_as_one_episode_and_a_cursor_over_it() {
    let r = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("incident.jsonl");
    record_a_freeze(&r, &file, 3);
    let run = |args: &[&str]| crate::support::memscope(dir.path(), args);

    // The summary: one DOWN episode for redis, its duration and worst figure.
    let out = run(&["replay", file.to_str().unwrap(), "--summary"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("Health recorded "), "{text}");
    assert!(text.contains("redis: 1 episode"), "{text}");
    assert!(text.contains("DOWN") && text.contains("NO ANSWER") && text.contains("worst latency"), "{text}");
    let out = run(&["replay", file.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let eps = v["episodes"].as_array().unwrap();
    assert_eq!(eps.len(), 1, "{v}");
    let e = &eps[0];
    assert_eq!((e["tier"].as_str(), e["level"].as_str()), (Some("redis"), Some("DOWN")));
    let dur = e["duration_s"].as_i64().unwrap();
    assert!((1..=5).contains(&dur), "a 3 s freeze lasted {dur} s: {e}");
    assert!(e["worst_latency_ms"].as_f64().unwrap() >= 1000.0, "{e}");
    assert!(e["end"].as_i64().is_some(), "it ended: {e}");

    // The Health tab on the recording: the cursor at the end shows OK; `[` jumps back to the
    // freeze, which shows NO ANSWER; g / G go to the ends; Esc is live again.
    let cfg = memscope::config::Config::with_redis("redis://127.0.0.1:1/0").without_stores();
    let cursor = memscope::replay::load(&file, &cfg.health.thresholds, cfg.health.window_s * 1000).unwrap();
    let mut app = memscope::app::App::new(&cfg, (140, 40));
    app.open_replay(cursor);
    let key = |app: &mut memscope::app::App, c: crossterm::event::KeyCode| {
        app.update(memscope::app::Msg::Key(crossterm::event::KeyEvent::new(c, crossterm::event::KeyModifiers::NONE)));
    };
    use crossterm::event::KeyCode::{Char, Esc};
    let screen = crate::support::screen_of(&app, 140, 40);
    assert!(screen.contains("REPLAY incident.jsonl"), "{screen}");
    assert!(screen.contains("redis ● up") || screen.contains(" OK "), "{screen}");
    key(&mut app, Char('['));
    let screen = crate::support::screen_of(&app, 140, 40);
    assert!(screen.contains("NO ANSWER"), "the cursor at the freeze:\n{screen}");
    key(&mut app, Char('g'));
    let first = app.health.replay.as_ref().unwrap().cursor.at;
    assert_eq!(first, 0);
    key(&mut app, Char('l'));
    assert!(app.health.replay.as_ref().unwrap().cursor.at > 0, "→ steps on");
    key(&mut app, Char('G'));
    let r = app.health.replay.as_ref().unwrap();
    assert_eq!(r.cursor.at, r.cursor.recording.samples.len() - 1);
    key(&mut app, Esc);
    assert!(app.health.replay.is_none(), "Esc is live again");
}

/// `:replay FILE` in the running UI: the backend reads and evaluates the file (never the UI
/// thread), the Health tab opens on it; a file that is no recording is said so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colon_replay_loads_a_recording_off_the_ui_thread() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rec.jsonl");
    let mut lines = String::new();
    for i in 0..30u64 {
        let s = memscope::health::Sample {
            error: (10..15).contains(&i).then(|| "unreachable: connection refused".to_string()),
            latency_ms: Some(2.0),
            documents: Some(60),
            ..memscope::health::Sample::at(memscope::health::Probe::LongTerm, i * 1000, 1_765_000_000 + i as i64)
        };
        lines.push_str(&memscope::replay::sample_json(&s).to_string());
        lines.push('\n');
    }
    std::fs::write(&file, lines).unwrap();
    std::fs::write(dir.path().join("not.jsonl"), "hello\n").unwrap();
    let mut h = crate::support::Harness::new(memscope::config::Config::with_redis("redis://127.0.0.1:1/0"));
    let cmds = h.app.run_command(&format!("replay {}", dir.path().join("not.jsonl").display()));
    h.send(cmds);
    h.until(10, "the refusal", |a| a.status.as_ref().is_some_and(|s| s.error && s.text.contains("no health samples")))
        .await;
    let cmds = h.app.run_command(&format!("replay {}", file.display()));
    h.send(cmds);
    h.until(10, "the replay open", |a| a.health.replay.is_some()).await;
    let r = h.app.health.replay.as_ref().unwrap();
    assert_eq!(r.cursor.recording.samples.len(), 30);
    assert_eq!(r.cursor.alerts.len(), 1, "one DOWN episode: {:?}", r.cursor.alerts);
    assert_eq!(h.app.health.configured, [memscope::health::Probe::LongTerm], "the tiers recorded");
}
