//! `memscope demo` stays in its sandbox: whatever the environment and the config file name, its
//! agents write only to the stores the demo started.

use crate::support::http::{Response, Server};
use std::io::{BufRead, Read};
use std::sync::{Arc, Mutex};

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Every store variable and a config file point at stores this test owns (a redis-server, a
/// project on the Firestore emulator, a Pinecone-shaped HTTP server, an SQLite path); the demo
/// runs with its agents writing for a while, and not one byte, connection or request reaches
/// any of them. It says once which variables it ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_touches_no_store_the_environment_or_config_names() {
    let victim = crate::support::redis();
    let mut vc = crate::support::client(&victim);
    let connections_before = info_field(&mut vc, "stats", "total_connections_received");
    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("demo_sandbox");
    let pinecone = Server::start(Arc::new(|_| Response::json(200, serde_json::json!({})))).await;
    let home = tempfile::tempdir().unwrap();
    let sqlite = home.path().join("mine.db");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profile.mine]\n[profile.mine.redis]\nurl = \"{}\"\n[profile.mine.long_term]\nbackend = \"sqlite\"\npath = \"{}\"\n",
            victim.url(),
            sqlite.display()
        ),
    )
    .unwrap();

    let mut demo = std::process::Command::new(env!("CARGO_BIN_EXE_memscope"))
        .args(["demo", "--no-tui"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("MEMSCOPE_MODEL_DIR", crate::support::model_dir())
        .env("MEMSCOPE_CONFIG", &config)
        .env("REDIS_URL", victim.url())
        .env("FIRESTORE_EMULATOR_HOST", &emu.host)
        .env("GOOGLE_CLOUD_PROJECT", &project)
        .env("PINECONE_API_KEY", "test-key")
        .env("PINECONE_INDEX_HOST", &pinecone.url)
        .env("OPENAI_API_KEY", "sk-test")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_pipe = demo.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let own_url = lines.next().unwrap().unwrap();
    assert!(own_url.starts_with("redis://127.0.0.1:") && own_url != victim.url(), "{own_url}");
    for line in lines.by_ref() {
        if line.unwrap().contains("seeded") {
            break;
        }
    }
    // The demo's agents are at work on its own server: wait until they have done plenty.
    let mut own = redis::Client::open(own_url.as_str()).unwrap().get_connection().unwrap();
    let start = info_field(&mut own, "stats", "total_commands_processed");
    crate::support::eventually("the demo's agents to write", 90, || {
        let n = info_field(&mut own, "stats", "total_commands_processed");
        if n >= start + 300 { Ok(()) } else { Err(format!("{} commands; {}", n - start, stderr.lock().unwrap())) }
    });
    std::process::Command::new("kill").args(["-INT", &demo.id().to_string()]).status().unwrap();
    assert!(demo.wait().unwrap().success(), "{}", stderr.lock().unwrap());

    // Nothing reached any store the demo did not start.
    let dbsize: u64 = redis::cmd("DBSIZE").query(&mut vc).unwrap();
    assert_eq!(dbsize, 0, "the demo wrote into REDIS_URL's server");
    assert_eq!(
        info_field(&mut vc, "stats", "total_connections_received"),
        connections_before,
        "the demo connected to REDIS_URL's server"
    );
    let fs = memscope::store::firestore::FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap();
    use memscope::store::LongTermStore;
    assert_eq!(fs.collections(None).await.unwrap(), Vec::<String>::new(), "the demo wrote into {project}");
    assert!(pinecone.requests().is_empty(), "the demo called PINECONE_INDEX_HOST");
    assert!(!sqlite.exists(), "the demo opened the config file's SQLite store");
    // …and it said so, once.
    let err = stderr.lock().unwrap().clone();
    let said: Vec<&str> = err.lines().filter(|l| l.contains("ignored:")).collect();
    assert_eq!(said.len(), 1, "{err}");
    for name in [
        "REDIS_URL",
        "FIRESTORE_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "PINECONE_API_KEY",
        "PINECONE_INDEX_HOST",
        "OPENAI_API_KEY",
        "[profile.mine.redis]",
        "[profile.mine.long_term]",
    ] {
        assert!(said[0].contains(name), "{name} not named: {}", said[0]);
    }
    assert!(!said[0].contains("sk-test") && !said[0].contains("test-key"), "a secret printed: {}", said[0]);
}
