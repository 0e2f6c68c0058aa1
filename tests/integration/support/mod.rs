//! Test support: private redis-server instances on free ports (never a server we did not
//! start), a raw client for arranging data, and a harness that drives the real App and backend
//! through their channels.
#![allow(dead_code)]

pub mod fake_filter;
pub mod fake_pinecone;
pub mod fixtures;
pub mod http;
pub mod pty;

use memscope::app::{App, Msg};
use memscope::config::Config;
use memscope::demo::{DemoError, PrivateRedis};
use memscope::message::Command;
use std::time::{Duration, Instant};

/// The local embedding model's folder, or fail saying how to get it.
pub fn model_dir() -> String {
    memscope::embed::local::find_model(None)
        .unwrap_or_else(|e| panic!("{e}\n(./scripts/test fetches the model; or run `cargo run -- model fetch`)"))
        .display()
        .to_string()
}

/// Run the memscope binary headless with its config and data under `dir` only (no REDIS_URL,
/// MEMSCOPE_CONFIG or PINECONE_API_KEY from the caller's environment), the local model found.
pub fn memscope(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    memscope_command(dir, args).env("MEMSCOPE_MODEL_DIR", model_dir()).output().unwrap()
}

/// The same command, to spawn (piped stdout, stderr as the caller sets): HOME, config and data
/// under `dir`, no store named by the caller's environment.
pub fn memscope_command(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_memscope"));
    c.args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("REDIS_URL")
        .env_remove("MEMSCOPE_CONFIG")
        .env_remove("PINECONE_API_KEY")
        .stdout(std::process::Stdio::piped());
    c
}

/// Start a private redis-server, or fail saying how to install it.
pub fn redis() -> PrivateRedis {
    match PrivateRedis::start(&[]) {
        Ok(r) => r,
        Err(DemoError::NoRedisServer) => panic!(
            "these tests need redis-server: install it with `sudo apt-get install -y redis-server` \
             (or run ./scripts/test, which installs it)"
        ),
        Err(e) => panic!("could not start a private redis-server: {e}"),
    }
}

pub fn client(r: &PrivateRedis) -> redis::Connection {
    redis::Client::open(r.url()).unwrap().get_connection().unwrap()
}

pub fn cmd(c: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut k = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c).unwrap()
}

/// `INFO commandstats` call counts, e.g. `calls("get")`.
pub fn calls(c: &mut redis::Connection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The App and a real backend task wired as `run_tui` wires them, minus the terminal.
pub struct Harness {
    pub app: App,
    pub cmd_tx: tokio::sync::mpsc::UnboundedSender<Command>,
    pub events: tokio::sync::mpsc::UnboundedReceiver<memscope::message::BackendEvent>,
    start: Instant,
    /// Every command the App sent, for assertions.
    pub sent: Vec<Command>,
}

impl Harness {
    pub fn new(cfg: Config) -> Harness {
        let h = memscope::backend::spawn(cfg.clone());
        let mut app = App::new(&cfg, (120, 40));
        let cmds = app.init();
        let mut me = Harness { app, cmd_tx: h.commands, events: h.events, start: Instant::now(), sent: vec![] };
        me.send(cmds);
        me
    }

    pub fn send(&mut self, cmds: Vec<Command>) {
        for c in cmds {
            self.sent.push(c.clone());
            let _ = self.cmd_tx.send(c);
        }
    }

    pub fn update(&mut self, msg: Msg) {
        let cmds = self.app.update(msg);
        self.send(cmds);
    }

    pub fn key(&mut self, code: crossterm::event::KeyCode) {
        self.update(Msg::Key(crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE)));
    }

    pub fn keys(&mut self, s: &str) {
        for c in s.chars() {
            self.key(crossterm::event::KeyCode::Char(c));
        }
    }

    /// Feed backend events and ticks until `cond` holds; panics after `secs`.
    pub async fn until(&mut self, secs: u64, what: &str, cond: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if cond(&self.app) {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for: {what}");
            }
            match tokio::time::timeout(Duration::from_millis(50), self.events.recv()).await {
                Ok(Some(ev)) => self.update(Msg::Backend(ev)),
                Ok(None) => panic!("backend stopped"),
                Err(_) => {
                    let now = self.start.elapsed().as_millis() as u64;
                    self.update(Msg::Tick(now));
                }
            }
        }
    }
}

/// Names of the visible rows (folder rows end with the delimiter).
pub fn row_names(app: &App) -> Vec<String> {
    let idx = &app.keys.index;
    (0..idx.row_count())
        .map(|i| {
            let r = idx.row(i).unwrap();
            String::from_utf8_lossy(idx.row_bytes(&r)).into_owned()
        })
        .collect()
}

/// The Firestore emulator of this test binary: started once, on a free port; its watchdog
/// stops it when this test process exits (the static is never dropped).
pub fn firestore_emulator() -> &'static memscope::demo::PrivateEmulator {
    static EMU: std::sync::OnceLock<memscope::demo::PrivateEmulator> = std::sync::OnceLock::new();
    EMU.get_or_init(|| {
        memscope::demo::PrivateEmulator::start()
            .unwrap_or_else(|e| panic!("these tests need the Firestore emulator: {e}"))
    })
}

/// A project id of its own for each test: tests on one emulator never see each other's data.
pub fn project_id(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("memscope-{}-{}-{}", test.replace('_', "-"), std::process::id(), N.fetch_add(1, Ordering::Relaxed))
        .chars()
        .take(60)
        .collect()
}

/// Block until the server at `url` is frozen (a `DEBUG SLEEP` sent elsewhere has started): a
/// PING on a fresh connection gets no answer within 50 ms. A condition, not a head-start guess.
pub fn wait_frozen(url: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("redis://").split('/').next().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_millis(50))).unwrap();
        s.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 16];
        match s.read(&mut buf) {
            Ok(n) if n > 0 => std::thread::sleep(std::time::Duration::from_millis(5)),
            Ok(_) => panic!("{url} closed the connection"),
            Err(_) => return, // no answer: asleep
        }
    }
    panic!("{url} never froze");
}

/// Polls `check` (every 50 ms) until it gives `Ok(value)`, and returns the value; `Err(state)` says
/// what it saw, and the last one is in the panic after `secs`. The one way tests wait for a
/// condition: no test sleeps for a guessed time.
pub fn eventually<T>(what: &str, secs: u64, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let last = match check() {
            Ok(v) => return v,
            Err(state) => state,
        };
        assert!(std::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}; last: {last}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// [`eventually`] for a check that awaits (it sleeps with tokio, so the runtime keeps going).
pub async fn eventually_async<T, F: std::future::Future<Output = Result<T, String>>>(
    what: &str,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let last = match check().await {
            Ok(v) => return v,
            Err(state) => state,
        };
        assert!(std::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}; last: {last}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A nearest-neighbour query for `v`: the `top_k` nearest with their metadata, optionally
/// filtered.
pub fn knn(v: Vec<f32>, top_k: u32, filter: Option<serde_json::Value>) -> memscope::domain::VectorQuery {
    memscope::domain::VectorQuery {
        vector: Some(v),
        id: None,
        top_k,
        namespace: String::new(),
        filter,
        include_values: false,
        include_metadata: true,
    }
}

/// Block until nothing listens on `port` any more (a server stopped), at most `secs`.
pub fn wait_port_closed(port: u16, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// The screen at the app's own size (`App::new`'s), as a terminal shows it.
pub fn screen(app: &App) -> String {
    screen_of(app, app.size.0, app.size.1)
}

/// The screen as a `w`×`h` terminal shows it (ratatui's TestBackend).
pub fn screen_of(app: &App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        memscope::ui::draw(f, app);
    })
    .unwrap();
    format!("{}", t.backend())
}
