//! The real binary in a pseudo-terminal: keys typed, screen read back through a VT parser.

use crate::support::pty::Tui;
use std::time::Duration;

/// The port written on a screen after `prefix`, up to `end`.
fn port_after(screen: &str, prefix: &str, end: char) -> Option<u16> {
    screen.split(prefix).nth(1)?.split(end).next()?.parse().ok()
}

fn seeded() -> memscope::demo::PrivateRedis {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let _: () = redis::cmd("MSET")
        .arg("session:conv-1")
        .arg("x")
        .arg("weather:nyc:today")
        .arg(r#"{"forecast":"rain","temp_c":8}"#)
        .arg("plain-key")
        .arg("hello")
        .query(&mut c)
        .unwrap();
    let _: () = redis::cmd("RPUSH").arg("conversation:conv-1:messages").arg("hi").arg("there").query(&mut c).unwrap();
    r
}

#[test]
fn browse_filter_open_a_value_and_quit() {
    let r = seeded();
    let mut t = Tui::start(&["--redis-url", &r.url()], &[("MEMSCOPE_LOG", "debug")]);
    t.wait_for("weather:", 15);
    t.wait_for("4 keys", 5);
    // Tree: the folders are there; expand weather: and open the key.
    t.send("G"); // last row: weather:
    t.send("\r");
    t.wait_for("nyc:", 5);
    t.send("j\r");
    t.wait_for("nyc:", 5);
    t.send("j\r");
    let s = t.wait_for("JSON (pretty-printed)", 5);
    assert!(s.contains("\"forecast\": \"rain\""), "{s}");
    t.send("\x1b"); // back to the list
    t.wait_for("tree / flat", 5);
    // Filter with MATCH.
    t.send("/");
    t.wait_for("SCAN MATCH glob", 5);
    t.send("\x7f*conv*\r");
    let s = t.wait_for("2 keys", 5);
    assert!(s.contains("MATCH *conv*"), "{s}");
    assert!(!s.contains("plain-key"));
    // Help in the pager, searched, closed, then quit.
    t.send("?");
    t.wait_for("Esc closes · / searches", 5);
    t.send("/rename\r");
    t.wait_for("match 1/", 5);
    t.send("\x1b");
    t.send("q");
    assert!(t.wait_exit(10).success());
    t.assert_restored();
    // Logs went to the data dir, not to the screen.
    let log = std::fs::read_to_string(t._home.path().join("data/memscope/memscope.log")).expect("log file");
    assert!(log.contains("dispatch") && log.contains("scan finished"), "{log}");
    assert!(!t.screen().contains("dispatch"));
}

#[test]
fn a_frozen_server_never_delays_a_keypress() {
    let r = seeded();
    let mut t = Tui::start(&["--redis-url", &r.url()], &[]);
    t.wait_for("4 keys", 15);
    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(4).query(&mut c).unwrap();
    });
    crate::support::wait_frozen(&r.url());
    // Ask for Redis work (rescan), then for pure UI work: both answered while Redis sleeps.
    t.send("r");
    t.send("?");
    t.wait_for("Esc closes", 3);
    assert!(!sleeper.is_finished(), "the help appeared only after the server woke up");
    t.send("\x1b");
    t.send("2");
    t.wait_for("scanning", 3);
    assert!(!sleeper.is_finished());
    sleeper.join().unwrap();
    t.wait_for("4 keys", 15);
    t.send("q");
    assert!(t.wait_exit(10).success());
}

#[test]
fn sigterm_sigint_and_panic_restore_the_terminal() {
    let r = seeded();
    let mut t = Tui::start(&["--redis-url", &r.url()], &[]);
    t.wait_for("4 keys", 15);
    let pid = t.child.process_id().unwrap();
    assert!(std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap().success());
    t.wait_exit(10);
    t.assert_restored();
    drop(t); // one pseudo-terminal at a time (support::pty)

    let mut t = Tui::start(&["--redis-url", &r.url()], &[]);
    t.wait_for("4 keys", 15);
    let pid = t.child.process_id().unwrap();
    assert!(std::process::Command::new("kill").arg("-INT").arg(pid.to_string()).status().unwrap().success());
    t.wait_exit(10);
    t.assert_restored();
    drop(t);

    let mut t = Tui::start(
        &["--redis-url", &r.url()],
        &[("MEMSCOPE_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0"), ("RUST_LIB_BACKTRACE", "0")],
    );
    let st = t.wait_exit(20);
    assert!(!st.success());
    t.assert_restored();
    assert!(
        t.screen().contains("MEMSCOPE_TEST_PANIC"),
        "panic message printed on the restored screen:\n{}",
        t.screen()
    );
}

#[test]
fn demo_seeds_a_private_server_and_stops_it_on_exit() {
    let model = crate::support::model_dir();
    let mut t = Tui::start(&["demo"], &[("MEMSCOPE_MODEL_DIR", model.as_str())]);
    // The demo opens on Conversations.
    demo_listed(&t, 30);
    t.send("2");
    let s = t.wait_for("session:", 30);
    t.wait_for("conversation:", 5);
    let port = port_after(&s, "redis://127.0.0.1:", '/').expect("the header names the private server");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    // Every tab shows data, and the agents' traffic reaches Health through the memory layer.
    t.send("1");
    t.wait_for("survey results analysis", 20);
    t.send("4");
    t.wait_for("hits LRU", 30);
    t.send("3");
    t.send("/refund"); // `/` opens the query editor
    t.wait_for("charged twice for order 1182", 60);
    t.send("\x1b");
    std::thread::sleep(Duration::from_millis(300));
    t.send("q");
    assert!(t.wait_exit(10).success());
    t.assert_restored();
    assert!(crate::support::wait_port_closed(port, 10), "the demo's redis-server still runs");
    // The next demo starts fresh: this one's search settings were not kept.
    let state = t._home.path().join("data/memscope/state");
    assert!(!state.join("search-demo.json").exists(), "a demo keeps no search state");
}

#[test]
fn demo_on_the_firestore_emulator_seeds_it_and_stops_it_on_exit() {
    let model = crate::support::model_dir();
    let mut t = Tui::start(&["demo", "--firestore-emulator"], &[("MEMSCOPE_MODEL_DIR", model.as_str())]);
    demo_listed(&t, 120);
    t.send("2");
    t.wait_for("session:", 30);
    t.send("1");
    let s = t.wait_for("(emulator 127.0.0.1:", 20);
    let port = port_after(&s, "(emulator 127.0.0.1:", ')').expect("the header names the emulator");
    t.wait_for("survey results analysis", 30);
    t.send("q");
    assert!(t.wait_exit(20).success());
    t.assert_restored();
    assert!(crate::support::wait_port_closed(port, 20), "the demo's emulator still runs");
}

#[test]
fn demo_stops_its_server_on_panic_too() {
    let mut t =
        Tui::start(&["demo"], &[("MEMSCOPE_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0"), ("RUST_LIB_BACKTRACE", "0")]);
    let st = t.wait_exit(30);
    assert!(!st.success());
    t.assert_restored();
    let s = t.screen();
    let port = port_after(&s, "private redis-server at redis://127.0.0.1:", '/')
        .unwrap_or_else(|| panic!("the demo prints its server before the UI starts:\n{s}"));
    assert!(crate::support::wait_port_closed(port, 10), "the demo's redis-server survived a panic");
}

#[test]
fn demo_server_stops_even_when_memscope_is_killed() {
    let mut t = Tui::start(&["demo"], &[]);
    demo_listed(&t, 30);
    t.send("2");
    let s = t.wait_for("session:", 30);
    let port = port_after(&s, "redis://127.0.0.1:", '/').expect("the header names the private server");
    let pid = t.child.process_id().unwrap();
    // SIGKILL: no destructor, no handler runs. The server's watchdog must stop it.
    assert!(std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap().success());
    t.wait_exit(10);
    assert!(crate::support::wait_port_closed(port, 10), "the demo's redis-server outlived a killed memscope");
}

/// `memscope demo --no-tui` writes and prints a config for the running demo: with it, the
/// headless commands reach the demo's tiers (they said "not configured" before).
#[test]
fn demo_no_tui_prints_a_config_the_headless_commands_use() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let model = crate::support::model_dir();
    let mut demo = std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
        .args(["demo", "--no-tui"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("MEMSCOPE_MODEL_DIR", &model)
        .env_remove("REDIS_URL")
        .env_remove("MEMSCOPE_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let mut config = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.strip_prefix("config: ") {
            config = Some(p.to_string());
        }
        if line.contains("seeded") {
            break;
        }
    }
    let config = config.expect("the demo prints its config");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
            .args(["--config", &config])
            .args(args)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("MEMSCOPE_MODEL_DIR", &model)
            .env_remove("REDIS_URL")
            .output()
            .unwrap()
    };
    let out = run(&["search", "charged twice for my order", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["matches"].as_array().unwrap().is_empty(), "{v}");
    let out = run(&["keys", "session:*"]);
    assert!(out.status.success() && !out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    std::process::Command::new("kill").args(["-INT", &demo.id().to_string()]).status().unwrap();
    assert!(demo.wait().unwrap().success());
    assert!(!std::path::Path::new(&config).exists(), "the demo's folder is removed on exit");
}

/// The demo's 60 seeded conversations are listed: its live agents may already have started
/// more (the count is at least 60, never fewer).
fn demo_listed(t: &crate::support::pty::Tui, secs: u64) {
    crate::support::eventually("the seeded conversations", secs * 3, || {
        let s = t.screen();
        let n = s
            .split(" conversations")
            .next()
            .and_then(|h| h.rsplit(['│', ' ']).next())
            .and_then(|n| n.trim().parse::<u64>().ok());
        if n.is_some_and(|n| n >= 60) && s.contains(" conversations │") {
            Ok(())
        } else {
            Err(format!("screen:\n{s}"))
        }
    });
}
