//! Secrets never leave memscope: a Redis password in every URL form, and an API key a server
//! echoes back, are hidden on every path a string takes out — stdout (`--json` too), stderr,
//! the log file (mode 0600) and the `--record` file. The screen and `:export` show the same
//! strings: the Pinecone and embedder clients mask the key where the reply is read.

use crate::support::http::{Response, Server};
use std::process::Command;

struct Run {
    home: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        Run { home: tempfile::tempdir().unwrap() }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_memscope"));
        c.args(args)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("MEMSCOPE_LOG", "debug")
            .env_remove("REDIS_URL")
            .env_remove("MEMSCOPE_CONFIG")
            .env_remove("PINECONE_API_KEY")
            .env_remove("FIRESTORE_EMULATOR_HOST")
            .env_remove("GOOGLE_CLOUD_PROJECT");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn log(&self) -> std::path::PathBuf {
        self.home.path().join("data/memscope/memscope.log")
    }

    /// Every byte memscope left: the outputs of `outs`, its log and the files named.
    fn everything(&self, outs: &[&std::process::Output], files: &[&std::path::Path]) -> String {
        let mut all = String::new();
        for o in outs {
            all.push_str(&String::from_utf8_lossy(&o.stdout));
            all.push_str(&String::from_utf8_lossy(&o.stderr));
        }
        for f in files.iter().copied().chain([self.log().as_path()]) {
            all.push_str(&std::fs::read_to_string(f).unwrap_or_default());
        }
        all
    }
}

#[test]
fn a_redis_password_holding_a_question_mark_connects_and_never_shows() {
    const PW: &str = "S3CRET?PW4";
    let r = memscope::demo::PrivateRedis::start(&["--requirepass", PW]).unwrap();
    let mut c = redis::Client::open(format!("redis://:S3CRET%3FPW4@127.0.0.1:{}/0", r.port()))
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("SET").arg("hello").arg("world").exec(&mut c).unwrap();
    let run = Run::new();
    let rec = run.home.path().join("rec.jsonl");
    let mut outs = Vec::new();
    // The password as typed, and as a query parameter: both connect.
    for url in
        [format!("redis://:{PW}@127.0.0.1:{}/0", r.port()), format!("redis://127.0.0.1:{}/0?password={PW}", r.port())]
    {
        let out = run.run(&["keys", "--redis-url", &url], &[]);
        assert!(out.status.success(), "{url}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello");
        outs.push(out);
        let out = run.run(&["config", "check"], &[("REDIS_URL", &url)]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("127.0.0.1"), "config check names the server");
        outs.push(out);
        let out = run.run(&["health", "--json", "--record", rec.to_str().unwrap()], &[("REDIS_URL", &url)]);
        outs.push(out);
    }
    // A wrong password: the error line says so, never with the password tried.
    let out = run.run(&["keys", "--redis-url", &format!("redis://:WR0NG?PW9@127.0.0.1:{}/0", r.port())], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication failed"));
    outs.push(out);
    let all = run.everything(&outs.iter().collect::<Vec<_>>(), &[&rec]);
    assert!(std::fs::read_to_string(&rec).unwrap().contains("\"tier\":\"redis\""), "the record was written");
    for secret in ["S3CRET", "PW4", "WR0NG", "PW9"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(run.log()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log file is readable by others");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_the_server_echoes_back_is_masked() {
    const KEY: &str = "pk-SECRET-0042";
    let pinecone = Server::start(std::sync::Arc::new(|_| {
        Response::json(
            401,
            serde_json::json!({"error": {"code": "UNAUTHENTICATED", "message": format!("Invalid API key {KEY}")}}),
        )
    }))
    .await;
    let run = Run::new();
    let rec = run.home.path().join("rec.jsonl");
    let env = [("PINECONE_API_KEY", KEY), ("PINECONE_INDEX_HOST", pinecone.url.as_str())];
    let out = tokio::task::block_in_place(|| run.run(&["health", "--json", "--record", rec.to_str().unwrap()], &env));
    assert!(!pinecone.requests().is_empty(), "the index was asked");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Invalid API key ***"), "the server's message is kept, the key masked: {stdout}");
    let all = run.everything(&[&out], &[&rec]);
    assert!(!all.contains(KEY), "the key leaked:\n{all}");
}
