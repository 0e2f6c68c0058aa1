//! Headless commands: `memscope keys` and `memscope config check`.

use std::process::Command;

fn memscope(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_memscope"))
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env_remove("REDIS_URL")
        .env_remove("MEMSCOPE_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn keys_lists_every_key_plain_typed_long_and_json() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let mut p = redis::pipe();
    for i in 0..3000 {
        p.cmd("SET").arg(format!("k:{i}")).arg(i).ignore();
    }
    p.cmd("RPUSH").arg("list:1").arg("a").ignore();
    p.cmd("SET").arg(&b"bin:\x1b[31m\xff"[..]).arg("x").arg("EX").arg(100).ignore();
    let _: () = p.query(&mut c).unwrap();

    let out = memscope(&["keys", "--redis-url", &r.url()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3002);
    assert!(lines.contains(&"k:2999"));
    assert!(lines.contains(&"bin:\\x1b[31m\\xff"), "binary key escaped, not raw");

    let out = memscope(&["keys", "k:1*", "--redis-url", &r.url()]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1111);

    let out = memscope(&["keys", "--type", "list", "--long", "--redis-url", &r.url()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("list") && text.trim_end().ends_with("list:1"), "{text}");

    let out = memscope(&["keys", "bin:*", "--json", "--long", "--redis-url", &r.url()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["key_hex"], "62696e3a1b5b33316dff");
    assert_eq!(v["type"], "string");
    assert!(v["ttl_ms"].as_i64().unwrap() > 90_000);
}

#[test]
fn keys_reports_an_unreachable_server_with_exit_code_1() {
    let out = memscope(&["keys", "--redis-url", "redis://127.0.0.1:1/0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreachable"));
}

#[test]
fn config_check_redacts_secrets_and_names_file_and_line_of_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[profile.p.redis]\nurl = \"redis://app:s3cret@db.internal:6380/2\"\n").unwrap();
    let out = memscope(&["config", "check", "--config", good.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("redis://app:***@db.internal:6380/2"), "{text}");
    assert!(!text.contains("s3cret"));
    assert!(text.contains("(loaded)"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "default_profile = \"p\"\n[profile.p]\nread_only = true\n[profile.p.redis]\nurll = \"x\"\n")
        .unwrap();
    let out = memscope(&["config", "check", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("{}:5:1", bad.display())), "{err}");
    assert!(err.contains("urll"), "{err}");

    // The TUI refuses a bad file the same way, before touching the terminal.
    let out = memscope(&["--config", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:5:1"));

    let missing = memscope(&["config", "check", "--config", "/nonexistent/memscope.toml"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn health_json_schema_and_exit_codes() {
    let r = crate::support::redis();
    let out = memscope(&["health", "--json", "--redis-url", &r.url()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tiers = v.as_array().unwrap();
    assert_eq!(tiers.len(), 1);
    let t = &tiers[0];
    for k in ["tier", "state", "latency_ms", "errors", "figures", "alerts", "error"] {
        assert!(t.get(k).is_some(), "missing `{k}` in {t}");
    }
    assert_eq!(t["tier"], "redis");
    assert_eq!(t["state"], "OK");
    assert!(t["latency_ms"]["p50"].as_f64().is_some());
    assert!(t["figures"]["used_memory"].as_f64().unwrap() > 0.0);
    assert_eq!(t["latency_ms"]["now"], t["figures"]["latency_ms"], "one latency now, not two that disagree");

    // The table: latency now and the window's, then the figures an incident needs.
    let out = memscope(&["health", "--redis-url", &r.url()]);
    let table = String::from_utf8_lossy(&out.stdout);
    let head = table.lines().next().unwrap();
    assert!(head.contains("NOW MS") && head.contains("P99 MS") && head.contains("FIGURES"), "{table}");
    let row = table.lines().nth(1).unwrap();
    for k in ["miss rate", "memory", "ops/s", "keys"] {
        assert!(row.contains(k), "`{k}` in {row}");
    }
    assert!(!table.contains("app_lookups") && !table.contains("blocked"), "{table}");

    // A config whose latency thresholds every probe exceeds: WARN → 1, CRIT → 2.
    let dir = tempfile::tempdir().unwrap();
    for (warn, crit, code) in [(0.0, 10_000.0, 1), (0.0, 0.0, 2)] {
        let cfg = dir.path().join(format!("h{code}.toml"));
        std::fs::write(
            &cfg,
            format!("[profile.p.redis]\nurl = \"{}\"\n[profile.p.health]\ninterval_ms = 200\nlatency_warn_ms = {warn}\nlatency_crit_ms = {crit}\n", r.url()),
        )
        .unwrap();
        let out = memscope(&["health", "--config", cfg.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stdout));
    }
    // Down → 3, and --record writes the samples.
    let rec = dir.path().join("rec.jsonl");
    let out = memscope(&["health", "--redis-url", "redis://127.0.0.1:1/0", "--record", rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let lines = std::fs::read_to_string(&rec).unwrap();
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["tier"], "redis");
    assert!(first["error"].as_str().unwrap().contains("unreachable"));
}

/// One plain `error: SOURCE: what` line, exit 2, no colour and no backtrace (even with
/// RUST_BACKTRACE set), naming where the bad value came from.
#[test]
fn a_bad_redis_url_is_one_plain_line_naming_its_source() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_memscope"));
        c.args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("RUST_BACKTRACE", "1")
            .env_remove("MEMSCOPE_CONFIG")
            .env_remove("REDIS_URL");
        if let Some(u) = env {
            c.env("REDIS_URL", u);
        }
        c.output().unwrap()
    };
    for (args, env, source) in [
        (&["--redis-url", "http://127.0.0.1:1", "keys"][..], None, "error: --redis-url: "),
        (&["keys"][..], Some("not a url"), "error: REDIS_URL: "),
        (&["config", "check"][..], Some("not a url"), "error: REDIS_URL: "),
    ] {
        let out = run(args, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with(source), "{err}");
        assert!(!err.contains('\x1b') && !err.contains("backtrace") && !err.contains("Location"), "{err}");
    }
}

#[test]
fn keys_rejects_an_unknown_type_and_json_escapes_c1_and_bidi_controls() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    redis::cmd("SET").arg("ctl:\u{9b}31m\u{202e}txt").arg("x").exec(&mut c).unwrap();
    let out = memscope(&["keys", "--type", "nosuchtype", "--redis-url", &r.url()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuchtype"));
    let out = memscope(&["keys", "ctl:*", "--json", "--redis-url", &r.url()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{9b}') && !text.contains('\u{202e}'), "raw controls: {text:?}");
    assert!(text.contains("\\u009b") && text.contains("\\u202e"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["key"], "ctl:\u{9b}31m\u{202e}txt", "the same key once parsed");
}

#[test]
fn config_check_redacts_passwords_in_every_url_form_and_rejects_hidden_keys() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["unix:///tmp/r.sock?db=0&pass=SECRET", "redis://h:1/0?password=SECRET", "redis://u:SECRET@h:1"] {
        let f = dir.path().join("c.toml");
        std::fs::write(&f, format!("[profile.p.redis]\nurl = \"{url}\"\n")).unwrap();
        let out = memscope(&["--config", f.to_str().unwrap(), "config", "check"]);
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{all}");
        assert!(!all.contains("SECRET") && all.contains("***"), "{all}");
    }
    let f = dir.path().join("k.toml");
    std::fs::write(&f, "[keymap]\nquit = \"j\"\n").unwrap();
    let out = memscope(&["--config", f.to_str().unwrap(), "config", "check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("k.toml") && err.contains("quit = \"j\""), "{err}");
}

/// A Redis Cluster node holds only its slots' keys: `memscope keys` refuses to present that as
/// the keyspace (naming the masters and `--node-only`), and with `--node-only` lists the node's
/// keys and says on stderr that they are one node's.
#[test]
fn keys_on_a_cluster_node_is_never_a_silent_partial_listing() {
    let r = memscope::demo::PrivateRedis::start(&["--cluster-enabled", "yes"]).unwrap();
    let mut c = crate::support::client(&r);
    redis::cmd("CLUSTER").arg("ADDSLOTSRANGE").arg(0).arg(16383).exec(&mut c).unwrap();
    crate::support::eventually("the one-node cluster", 10, || {
        let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut c).unwrap();
        if info.contains("cluster_state:ok") { Ok(()) } else { Err(info) }
    });
    for k in ["a", "b", "c"] {
        redis::cmd("SET").arg(k).arg(1).exec(&mut c).unwrap();
    }
    let url = r.url();
    // mode = "auto" (the default): the whole cluster (here, one master).
    let out = memscope(&["keys", "--redis-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    // mode = "standalone" keeps memscope on the node: refused without --node-only.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("c.toml");
    std::fs::write(&conf, format!("[profile.p.redis]\nurl = \"{url}\"\nmode = \"standalone\"\n")).unwrap();
    let out = memscope(&["--config", conf.to_str().unwrap(), "keys"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Redis Cluster") && err.contains("(this one)") && err.contains("--node-only"), "{err}");
    assert!(out.stdout.is_empty(), "nothing listed as if it were the keyspace");
    let out = memscope(&["keys", "--node-only", "--redis-url", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listed 3 keys of this node only"), "{err}");
}

/// Pointed at a Sentinel, memscope says what it is and where the master is, instead of
/// "unknown command 'SCAN'".
#[test]
fn keys_on_a_sentinel_names_the_master_to_use() {
    let master = crate::support::redis();
    let sentinel = memscope::demo::PrivateRedis::start_sentinel(master.port()).unwrap();
    let out = memscope(&["keys", "--redis-url", &sentinel.url()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Sentinel") && err.contains(&format!("`mymaster` at redis://127.0.0.1:{}", master.port())),
        "{err}"
    );
}

#[test]
fn valkey_urls_are_accepted() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    redis::cmd("SET").arg("via:valkey").arg(1).exec(&mut c).unwrap();
    let out = memscope(&["keys", "--redis-url", &r.url().replace("redis://", "valkey://")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "via:valkey");
}

/// `health --watch` prints a round per interval with the tiers always in the same order (the
/// probes answer in any order).
#[tokio::test]
async fn health_watch_keeps_the_tiers_in_order() {
    let r = crate::support::redis();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("w.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profile.p.redis]\nurl = \"{}\"\n[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n[profile.p.health]\ninterval_ms = 200\n",
            r.url(),
            dir.path().join("m.db").display()
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
        .args(["health", "--watch", "--config", cfg.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut text = String::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(4), async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf).await {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await;
    child.kill().await.unwrap();
    let tiers: Vec<&str> = text.lines().map(|l| l.split_whitespace().nth(1).unwrap_or("")).collect();
    assert!(tiers.len() >= 6, "{text}");
    let first = tiers[0];
    let period = tiers.iter().skip(1).position(|t| *t == first).unwrap() + 1;
    assert_eq!(period, 2, "two tiers a round: {text}");
    for (i, t) in tiers.iter().enumerate() {
        assert_eq!(*t, tiers[i % period], "line {i} out of order: {text}");
    }
}

/// A flag a command would ignore is an error naming it (exit 2), never dropped silently; the
/// flags act where they are documented, before or after the command's name.
#[test]
fn flags_a_command_ignores_are_refused() {
    let r = crate::support::redis();
    for (args, says) in [
        (
            vec!["demo", "--redis-url", "redis://127.0.0.1:1/0", "--no-tui"],
            "--redis-url: `demo` does not use your Redis",
        ),
        (vec!["--write", "keys", "--redis-url", "redis://127.0.0.1:1/0"], "--write: `keys` only reads"),
        (
            vec!["--record", "/tmp/x.jsonl", "detect", "--redis-url", "redis://127.0.0.1:1/0"],
            "--record: `detect` takes no health samples",
        ),
    ] {
        let out = memscope(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Not accepted at all where it never acts: clap names it.
    let out = memscope(&["keys", "--write"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--write"));
    // --help lists --write and --record only where they act.
    let help = |c: &str| String::from_utf8_lossy(&memscope(&[c, "--help"]).stdout).to_string();
    assert!(!help("keys").contains("--write") && !help("keys").contains("--record"));
    assert!(help("import").contains("--write") && help("health").contains("--record"));
    // ... and --redis-url everywhere but `demo`, which runs its own (and refuses it, above).
    assert!(!help("demo").contains("--redis-url") && help("keys").contains("--redis-url"));
    assert!(String::from_utf8_lossy(&memscope(&["--help"]).stdout).contains("--redis-url"));
    // After the name works as before it.
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("r.jsonl");
    let out = memscope(&["health", "--redis-url", &r.url(), "--record", rec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&rec).unwrap().contains("\"tier\":\"redis\""));
}

/// `memscope server`: the slow log (arguments escaped), the clients (memscope's own marked),
/// the commands by calls and time, the latency events — and the `:server` view reads them
/// again every few seconds.
#[tokio::test]
async fn server_shows_the_slow_log_clients_commands_and_latency() {
    let r = memscope::demo::PrivateRedis::start(&["--enable-debug-command", "local"]).unwrap();
    let mut c = crate::support::client(&r);
    redis::cmd("CONFIG").arg("SET").arg("slowlog-log-slower-than").arg(0).exec(&mut c).unwrap();
    redis::cmd("CONFIG").arg("SET").arg("latency-monitor-threshold").arg(10).exec(&mut c).unwrap();
    redis::cmd("SET").arg("evil").arg("\x1b[2Jboom").exec(&mut c).unwrap();
    for i in 0..25 {
        redis::cmd("GET").arg(format!("k{i}")).exec(&mut c).unwrap();
    }
    redis::cmd("DEBUG").arg("SLEEP").arg(0.05).exec(&mut c).unwrap();
    let out = memscope(&["server", "--json", "--redis-url", &r.url()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = &v[0];
    let slow: Vec<&str> = n["slowlog"].as_array().unwrap().iter().map(|e| e["command"].as_str().unwrap()).collect();
    assert!(slow.contains(&"SET evil \\x1b[2Jboom"), "escaped, never sent raw: {slow:?}");
    assert!(n["slowlog_len"].as_u64().unwrap() >= 27);
    assert!(n["clients"].as_array().unwrap().iter().any(|c| c["this"] == true), "memscope's own connection marked");
    let get = n["commands"].as_array().unwrap().iter().find(|c| c["name"] == "get").unwrap();
    assert!(get["calls"].as_u64().unwrap() >= 25);
    assert!(n["latency"].as_array().unwrap().iter().any(|l| l["event"] == "command"), "{}", n["latency"]);
    let text =
        String::from_utf8_lossy(&memscope(&["server", "--redis-url", &r.url(), "--sort", "memory"]).stdout).to_string();
    for k in ["SLOW LOG", "CLIENTS", "by output memory", "COMMANDS BY CALLS", "COMMANDS BY TIME", "LATENCY EVENTS"] {
        assert!(text.contains(k), "`{k}` in {text}");
    }
    assert!(!text.contains('\x1b'));
    let out = memscope(&["server", "--redis-url", &r.url(), "--sort", "age"]);
    assert_eq!(out.status.code(), Some(2));

    // The view, read again on its interval.
    let mut h = crate::support::Harness::new(memscope::config::Config::with_redis(&r.url()));
    h.keys(":");
    h.keys("server");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the first reading", |a| a.keys.server.as_ref().is_some_and(|v| v.nodes.is_some())).await;
    let first = h.app.keys.server.as_ref().unwrap().read_at_ms;
    h.until(10, "a second reading", |a| {
        a.keys.server.as_ref().is_some_and(|v| v.read_at_ms > first && !v.req.waiting())
    })
    .await;
    let screen = crate::support::screen_of(&h.app, 140, 40);
    assert!(screen.contains("SLOW LOG") && screen.contains("every 2 s"), "{screen}");
    h.keys("s");
    assert_eq!(h.app.keys.server.as_ref().unwrap().sort, memscope::server_report::ClientSort::OutputMemory);
    h.key(crossterm::event::KeyCode::Esc);
    assert!(h.app.keys.server.is_none());
}

/// `memscope health --watch | head -1`: a reader that goes away ends memscope as it ends `cat`
/// (SIGPIPE, no panic message, no abort — it was exit 134).
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let r = crate::support::redis();
    let home = tempfile::tempdir().unwrap();
    let mut child = crate::support::memscope_command(home.path(), &["health", "--watch", "--redis-url", &r.url()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(!first.is_empty());
    // The reader is gone (dropped above); the next round meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(13), "ended by SIGPIPE like cat: {:?} {err}", out.status);
    assert!(err.is_empty(), "nothing said on a closed pipe: {err}");
}

/// Configuration that cannot work is a usage error, exit 2, whichever store it is about: a
/// Redis URL's port or database, a TLS CA file missing or garbage, Pinecone without an index,
/// a control-plane URL that is no URL.
#[test]
fn configuration_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let file = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };
    let missing_ca = file(
        "a.toml",
        "[profile.p.redis]\nurl = \"rediss://127.0.0.1:1/0\"\ntls_ca_file = \"/nonexistent/ca.pem\"\n".into(),
    );
    let garbage_ca = file(
        "b.toml",
        format!("[profile.p.redis]\nurl = \"rediss://127.0.0.1:1/0\"\ntls_ca_file = \"{}\"\n", garbage.display()),
    );
    let no_index = file("c.toml", "[profile.p.vector]\nbackend = \"pinecone\"\napi_key = \"k\"\n".into());
    let bad_control = file(
        "d.toml",
        "[profile.p.vector]\nbackend = \"pinecone\"\napi_key = \"k\"\nindex = \"i\"\ncontrol_url = \"::no url\"\n"
            .into(),
    );
    for (args, says) in [
        (vec!["keys", "--redis-url", "redis://127.0.0.1:99999/0"], "port"),
        (vec!["keys", "--redis-url", "redis://127.0.0.1:6390/abc"], "atabase"),
        (vec!["--config", &missing_ca, "keys"], "tls_ca_file"),
        (vec!["--config", &garbage_ca, "keys"], "tls_ca_file"),
        (vec!["--config", &no_index, "search", "hello"], "index"),
        (vec!["--config", &bad_control, "search", "hello"], "control_url"),
    ] {
        let out = memscope(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?} should name {says}: {err}");
    }
}

/// A WAL-mode SQLite file read in read-only mode gets nothing beside it (no `-wal`, no `-shm`)
/// and keeps every byte: another program's database is "not a memscope store" with exit 2, and
/// memscope's own is listed.
#[test]
fn sqlite_files_read_only_get_no_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let sidecars = |p: &std::path::Path| {
        ["-wal", "-shm", "-journal"]
            .iter()
            .filter(|s| std::path::Path::new(&format!("{}{s}", p.display())).exists())
            .count()
    };
    // Another program's WAL-mode database.
    let foreign = dir.path().join("foreign.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE notes(x); INSERT INTO notes VALUES ('hi');").unwrap();
    }
    assert_eq!(sidecars(&foreign), 0, "closed cleanly");
    let before = std::fs::read(&foreign).unwrap();
    // memscope's own, written through its store, then closed.
    let own = dir.path().join("own.db");
    {
        let s = memscope::store::sqlite::SqliteStore::open(own.to_str().unwrap()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        use memscope::domain::FsValue;
        use memscope::store::LongTermStore;
        rt.block_on(s.put("conversations/c1", vec![("title".into(), FsValue::String("hello there".into()))])).unwrap();
    }
    assert_eq!(sidecars(&own), 0, "closed cleanly");
    for (db, code, says) in [(&foreign, 2, "not a memscope store"), (&own, 0, "hello there")] {
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n", db.display()))
            .unwrap();
        let out = memscope(&["--config", cfg.to_str().unwrap(), "conversations"]);
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "{}: {all}", db.display());
        assert!(all.contains(says), "{}: {all}", db.display());
        assert_eq!(sidecars(db), 0, "{}: read-only use left files beside it", db.display());
    }
    assert_eq!(std::fs::read(&foreign).unwrap(), before, "the foreign file's bytes changed");
}

/// An empty answer is never silent: `conversations` in a layout that finds nothing says where
/// it looked and what a sample of the stores holds instead, on stderr with exit 1; `show` of an
/// unknown id too.
#[test]
fn an_empty_answer_says_where_it_looked_and_what_is_there_instead() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    for i in 0..3 {
        redis::cmd("RPUSH")
            .arg(format!("conversation:c{i}:messages"))
            .arg(r#"{"message_id":"m1","role":"user","content":"hello","timestamp":"2026-01-01T00:00:00Z"}"#)
            .exec(&mut c)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!("[profile.p.redis]\nurl = \"{}\"\n[profile.p.layout]\npreset = \"langchain-redis-list\"\n", r.url()),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let out = memscope(&["--config", c, "conversations"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("0 conversations in layout \"langchain-redis-list\" (looked at Redis keys message_store:*)"),
        "{err}"
    );
    assert!(err.contains("found 3 conversations written as memscope"), "{err}");
    let out = memscope(&["--config", c, "show", "nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("nope") && err.lines().count() == 1, "{err}");
    // memscope's own layout on an empty store: said the same way, and `show` of an id with no
    // messages too.
    let db = dir.path().join("m.db");
    drop(memscope::store::sqlite::SqliteStore::open(db.to_str().unwrap()).unwrap());
    std::fs::write(&cfg, format!("[profile.p.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n", db.display()))
        .unwrap();
    let out = memscope(&["--config", c, "conversations"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("0 conversations in layout \"memscope\" (looked at the collection conversations)"), "{err}");
    let out = memscope(&["--config", c, "show", "nope"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no messages for conversation `nope` in layout \"memscope\""), "{err}");
}
