//! `memscope demo`: a private redis-server (free loopback port, temp dir, no persistence)
//! seeded from `assets/demo_redis.json`, with the UI opened on it and the server stopped on
//! exit, panic or signal. `PrivateRedis` is also what the tests use to get their own servers.

mod run;
pub use run::run_demo;

use crate::domain::{Key, Seed};
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const FIXTURE: &str = include_str!("../../assets/demo_redis.json");
/// Conversations in the demo: one per conversation of the fixture.
pub const CONVERSATIONS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "redis-server was not found on PATH. Install it: `sudo apt-get install -y redis-server` (Debian/Ubuntu), \
         `brew install redis` (macOS), or set MEMSCOPE_REDIS_SERVER to its path"
    )]
    NoRedisServer,
    #[error("could not start redis-server: {0}")]
    Start(String),
    #[error("bad demo fixture: {0}")]
    Fixture(String),
}

/// A redis-server this process started and owns; killed when dropped.
pub struct PrivateRedis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    exe: PathBuf,
}

fn redis_server_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MEMSCOPE_REDIS_SERVER")
        && !p.is_empty()
    {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("redis-server")).find(|p| p.is_file())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Major version of a redis-server binary (`Redis server v=7.0.15 …`).
fn major_version(exe: &PathBuf) -> u32 {
    Command::new(exe)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let s = String::from_utf8_lossy(&o.stdout).into_owned();
            let v = s.split("v=").nth(1)?.split('.').next()?.parse().ok()?;
            Some(v)
        })
        .unwrap_or(0)
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    // A server with a password answers -NOAUTH: it is up all the same.
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH"))
}

impl PrivateRedis {
    /// Start a private server on a free loopback port. `extra` are more config arguments
    /// (e.g. `["--maxmemory", "10mb"]`).
    pub fn start(extra: &[&str]) -> Result<PrivateRedis, DemoError> {
        let exe = redis_server_path().ok_or(DemoError::NoRedisServer)?;
        let dir = private_dir("redis");
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::Start(e.to_string()))?;
        let mut args: Vec<String> = vec!["--save".into(), "".into(), "--appendonly".into(), "no".into()];
        if major_version(&exe) >= 7 {
            // Tests freeze the server with DEBUG SLEEP; only this private server allows it.
            args.extend(["--enable-debug-command".into(), "local".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port().map_err(|e| DemoError::Start(e.to_string()))?;
            let mut r = PrivateRedis { child: None, port, dir: dir.clone(), args: args.clone(), exe: exe.clone() };
            match r.spawn() {
                Ok(()) => return Ok(r),
                Err(e) => last_err = e,
            }
        }
        Err(DemoError::Start(last_err))
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = self.dir.join("redis.log");
        let pidfile = self.dir.join("redis.pid.watch");
        let _ = std::fs::remove_file(&pidfile);
        // A watchdog shell runs the server and stops it as soon as this process is gone, however
        // it ended (even killed or aborted, when no destructor runs).
        // It ignores SIGHUP: when memscope dies as a terminal's session leader, its group gets one.
        let script = format!(
            "trap '' HUP; \"$0\" \"$@\" & rp=$!; echo $rp > '{pf}'; \
             while kill -0 {parent} 2>/dev/null && kill -0 $rp 2>/dev/null; do sleep 0.5; done; \
             kill -9 $rp 2>/dev/null; wait $rp 2>/dev/null",
            pf = pidfile.display(),
            parent = std::process::id()
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(&self.exe)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(&log)
            .arg("--daemonize")
            .arg("no")
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("redis-server exited ({status}): {}", tail.lines().last().unwrap_or("")));
            }
            if ping(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        self.kill_server();
        Err("redis-server did not answer PING within 10 s".into())
    }

    /// SIGKILL the server itself (the watchdog then ends on its own).
    fn kill_server(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("redis.pid.watch"))
            && !pid.trim().is_empty()
        {
            let _ = Command::new("kill").args(["-9", pid.trim()]).stderr(Stdio::null()).status();
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kill the server (SIGKILL) as a crash would.
    pub fn kill(&mut self) {
        self.kill_server();
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.dir.join("redis.pid.watch"));
    }

    /// Start it again on the same port (its data is gone: there is no persistence).
    pub fn restart(&mut self) -> Result<(), DemoError> {
        self.kill();
        self.spawn().map_err(DemoError::Start)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The Firestore emulator's launcher: MEMSCOPE_FIRESTORE_EMULATOR, else the Cloud SDK's.
pub fn emulator_command() -> Option<String> {
    if let Ok(p) = std::env::var("MEMSCOPE_FIRESTORE_EMULATOR")
        && !p.is_empty()
    {
        return Some(p);
    }
    let bundled = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator";
    std::path::Path::new(bundled).exists().then(|| bundled.to_string())
}

/// A Firestore emulator this process started, on a free port, in a process group of its own
/// with a watchdog: it is stopped when dropped, and when this process dies in any way.
pub struct PrivateEmulator {
    pub host: String,
    dir: PathBuf,
}

impl PrivateEmulator {
    pub fn start() -> Result<PrivateEmulator, DemoError> {
        let exe = emulator_command().ok_or_else(|| {
            DemoError::Start(
                "the Firestore emulator was not found: install Java 17 and the google-cloud-cli-firestore-emulator \
                 package (or `gcloud components install cloud-firestore-emulator`), or set \
                 MEMSCOPE_FIRESTORE_EMULATOR to its launcher"
                    .into(),
            )
        })?;
        PrivateEmulator::start_with(&exe)
    }

    /// Start the emulator with this launcher (`… start --host=… --port=…`).
    pub fn start_with(exe: &str) -> Result<PrivateEmulator, DemoError> {
        let port = free_port().map_err(|e| DemoError::Start(e.to_string()))?;
        let dir = private_dir("firestore");
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::Start(e.to_string()))?;
        let log = dir.join("emulator.log");
        // The shell leads its own session (`setsid -f`): killing its group stops the emulator
        // and the JVM it forks; it also does so itself once this process is gone.
        let script = format!(
            "echo $$ > '{pid}'
             '{exe}' start --host=127.0.0.1 --port={port} > '{log}' 2>&1 &
             echo $! > '{launcher}'
             while kill -0 {parent} 2>/dev/null; do sleep 0.5; done
             kill -TERM 0",
            pid = dir.join("group.pid").display(),
            launcher = dir.join("launcher.pid").display(),
            log = log.display(),
            parent = std::process::id()
        );
        Command::new("setsid")
            .args(["-f", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| DemoError::Start(format!("setsid: {e}")))?;
        let me = PrivateEmulator { host: format!("127.0.0.1:{port}"), dir };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Dev App Server is now running") {
                return Ok(me);
            }
            // A launcher that exits (no Java, a bad flag) is reported at once, not after 90 s.
            let launcher = std::fs::read_to_string(me.dir.join("launcher.pid")).ok();
            if let Some(pid) = launcher.and_then(|p| p.trim().parse::<u32>().ok())
                && !process_alive(pid)
            {
                std::thread::sleep(Duration::from_millis(100)); // its last words reach the log
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(DemoError::Start(format!(
                    "the Firestore emulator exited at start ({exe}); its log:\n{text}"
                )));
            }
            if Instant::now() > deadline {
                return Err(DemoError::Start(format!(
                    "the Firestore emulator did not start within 90 s; its log ({}):\n{text}",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PrivateEmulator {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("group.pid"))
            && let Ok(pid) = pid.trim().parse::<u32>()
        {
            let _ = Command::new("kill").args(["-TERM", "--", &format!("-{pid}")]).stderr(Stdio::null()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The private temporary folder `memscope-{kind}-{pid}-{serial}` of this process. Folders of
/// the same kind left by processes that are gone (killed with SIGKILL, which runs no cleanup)
/// are removed first.
pub fn private_dir(kind: &str) -> std::path::PathBuf {
    sweep_stale(&std::env::temp_dir(), kind);
    std::env::temp_dir().join(format!("memscope-{kind}-{}-{}", std::process::id(), next_serial()))
}

/// Remove `memscope-{kind}-{pid}[-…]` folders under `root` whose process no longer runs.
pub fn sweep_stale(root: &std::path::Path, kind: &str) -> usize {
    let prefix = format!("memscope-{kind}-");
    let Ok(entries) = std::fs::read_dir(root) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) =
            name.strip_prefix(&prefix).and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) && std::fs::remove_dir_all(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process with this id runs (Linux: /proc, a zombie counts as gone; elsewhere
/// assumed alive).
fn process_alive(pid: u32) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses: `pid (comm) S …`.
        Ok(stat) => stat.rsplit_once(") ").is_none_or(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

// ---------- the fixture ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub users: Vec<String>,
    pub agents: Vec<String>,
    pub conversations: Vec<FixtureConversation>,
    pub keys: Vec<FixtureKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureConversation {
    pub topic: String,
    /// The agent that holds the conversation (default: the agents in turn).
    #[serde(default)]
    pub agent: Option<String>,
    pub messages: Vec<(String, String)>,
}

impl Fixture {
    /// Conversation `i` of the demo (0-based; `conv-{i+1}`): its fixture, user and agent.
    pub fn conversation(&self, i: usize) -> (&FixtureConversation, &str, &str) {
        let c = &self.conversations[i % self.conversations.len()];
        let user = &self.users[i % self.users.len()];
        let agent = c.agent.as_deref().unwrap_or(&self.agents[i % self.agents.len()]);
        (c, user, agent)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureKey {
    pub key: String,
    #[serde(rename = "type")]
    pub ktype: String,
    #[serde(default)]
    pub ttl: Option<u64>,
    #[serde(default)]
    pub value: serde_json::Value,
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn k(s: &str) -> Key {
    s.as_bytes().into()
}

/// Expand the fixture into the writes that seed Redis: per conversation a session hash with a
/// TTL and a recent-messages list of JSON messages; then the fixture's own keys (caches,
/// counters, big and binary values, every type).
pub fn seed_plan(fx: &Fixture, count: usize) -> Result<Vec<Seed>, DemoError> {
    let mut out = Vec::new();
    let base_ts = 1_763_900_000i64; // 2025-11-23
    for i in 0..count {
        let (c, user, agent) = fx.conversation(i);
        let conv = format!("conv-{:04}", i + 1);
        let msgs: Vec<Vec<u8>> = c
            .messages
            .iter()
            .enumerate()
            .map(|(j, (role, content))| {
                crate::memory::RecentMessage {
                    message_id: format!("{conv}-m{:02}", j + 1),
                    role: role.clone(),
                    content: content.clone(),
                    timestamp: (base_ts + (i as i64) * 3600 + (j as i64) * 45).into(),
                    user_id: Some(user.to_string()),
                }
                .json()
            })
            .collect();
        out.push(Seed::List(crate::memory::recent_key(&conv), msgs));
        let session = crate::memory::session_key(&conv);
        out.push(Seed::Hash(
            session.clone(),
            vec![
                (b"user_id".to_vec(), user.as_bytes().to_vec()),
                (b"agent_id".to_vec(), agent.as_bytes().to_vec()),
                (b"topic".to_vec(), c.topic.clone().into_bytes()),
                (b"turns".to_vec(), c.messages.len().to_string().into_bytes()),
                (b"last_intent".to_vec(), c.topic.split_whitespace().next().unwrap_or("chat").as_bytes().to_vec()),
            ],
        ));
        out.push(Seed::Expire(session, 600 + (i as u64 * 97) % 3000));
    }
    for fk in &fx.keys {
        let key = k(&fk.key);
        let bad = |what: &str| DemoError::Fixture(format!("{}: {what}", fk.key));
        let strs = |v: &serde_json::Value| -> Result<Vec<Vec<u8>>, DemoError> {
            v.as_array()
                .ok_or_else(|| bad("value must be an array"))?
                .iter()
                .map(|x| Ok(x.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| x.to_string().into_bytes())))
                .collect()
        };
        let obj_pairs = |v: &serde_json::Value| -> Result<Pairs, DemoError> {
            Ok(v.as_object()
                .ok_or_else(|| bad("value must be an object"))?
                .iter()
                .map(|(f, x)| {
                    (
                        f.as_bytes().to_vec(),
                        x.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| x.to_string().into_bytes()),
                    )
                })
                .collect())
        };
        let seed = match fk.ktype.as_str() {
            "string" => Seed::String(
                key.clone(),
                fk.value.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| fk.value.to_string().into_bytes()),
            ),
            "json" => Seed::String(key.clone(), fk.value.to_string().into_bytes()),
            "hex" => {
                let h = fk.value.as_str().ok_or_else(|| bad("hex value must be a string"))?;
                let bytes = (0..h.len() / 2)
                    .map(|i| u8::from_str_radix(&h[i * 2..i * 2 + 2], 16).map_err(|_| bad("invalid hex")))
                    .collect::<Result<Vec<u8>, _>>()?;
                Seed::String(key.clone(), bytes)
            }
            "big" => {
                let n = fk.value.as_u64().ok_or_else(|| bad("big value must be a size in bytes"))? as usize;
                let line = b"2026-11-23T21:40:00Z INFO agent=planner step=retrieve docs=12 latency_ms=84 ok\n";
                Seed::String(key.clone(), line.iter().copied().cycle().take(n).collect())
            }
            "list" => Seed::List(key.clone(), strs(&fk.value)?),
            "set" => Seed::Set(key.clone(), strs(&fk.value)?),
            "hll" => Seed::HyperLogLog(key.clone(), strs(&fk.value)?),
            "hash" => Seed::Hash(key.clone(), obj_pairs(&fk.value)?),
            "zset" => Seed::ZSet(
                key.clone(),
                fk.value
                    .as_object()
                    .ok_or_else(|| bad("zset value must be an object of scores"))?
                    .iter()
                    .map(|(m, s)| (s.as_f64().unwrap_or(0.0), m.as_bytes().to_vec()))
                    .collect(),
            ),
            "stream" => Seed::Stream(
                key.clone(),
                fk.value
                    .as_array()
                    .ok_or_else(|| bad("stream value must be an array"))?
                    .iter()
                    .map(obj_pairs)
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(bad(&format!("unknown type `{other}`"))),
        };
        out.push(seed);
        if let Some(t) = fk.ttl {
            out.push(Seed::Expire(key, t));
        }
    }
    Ok(out)
}

pub fn fixture() -> Result<Fixture, DemoError> {
    serde_json::from_str(FIXTURE).map_err(|e| DemoError::Fixture(e.to_string()))
}

/// The long-term documents of the demo, written the way agents write them: users, agents, a
/// config document with every value type, and `count` conversations whose messages mix typed
/// timestamps and zone-less ISO strings (older Python writers).
/// `base` is the start of the oldest conversation (Unix seconds); they follow an hour apart.
pub fn long_term_plan(fx: &Fixture, count: usize, base: i64) -> Vec<(String, Vec<(String, crate::domain::FsValue)>)> {
    use crate::domain::{FsValue as V, Ts};
    let s = |x: &str| V::String(x.to_string());
    let mut out = Vec::new();
    for (i, u) in fx.users.iter().enumerate() {
        out.push((
            format!("users/{u}"),
            vec![
                ("name".into(), s(&format!("{} Example", u.trim_start_matches("u-")))),
                ("plan".into(), s(if i % 3 == 0 { "pro" } else { "free" })),
                ("locale".into(), s(["en-GB", "de-DE", "ja-JP", "pt-PT"][i % 4])),
                ("created_at".into(), V::Timestamp(Ts { secs: 1_700_000_000 + i as i64 * 86_400, nanos: 0 })),
                ("home".into(), V::GeoPoint { lat: 40.7128 + i as f64, lng: -74.006 }),
                ("avatar".into(), V::Bytes(vec![0x89, 0x50, 0x4e, 0x47, i as u8])),
            ],
        ));
    }
    for a in &fx.agents {
        out.push((
            format!("agents/{a}"),
            vec![
                ("status".into(), s("idle")),
                ("model".into(), s("gpt-4o-mini")),
                ("tools".into(), V::Array(vec![s("search"), s("refund")])),
                (
                    "limits".into(),
                    V::Map(vec![("max_tokens".into(), V::Int(4096)), ("temperature".into(), V::Double(0.2))]),
                ),
            ],
        ));
    }
    out.push((
        "config/memory".into(),
        vec![
            ("recent_messages".into(), V::Int(50)),
            ("session_ttl_s".into(), V::Int(1800)),
            ("score_threshold".into(), V::Double(0.72)),
            ("disabled_until".into(), V::Null),
            ("nan_example".into(), V::Double(f64::NAN)),
            ("inf_example".into(), V::Double(f64::INFINITY)),
            ("owner".into(), V::Reference("users/u-alice".into())),
            ("semantic_cache".into(), V::Bool(true)),
        ],
    ));
    for i in 0..count {
        let (c, user, agent) = fx.conversation(i);
        let id = format!("conv-{:04}", i + 1);
        let start = base + i as i64 * 3600;
        let n = c.messages.len();
        out.push((
            format!("conversations/{id}"),
            vec![
                ("title".into(), s(&c.topic)),
                ("user_id".into(), s(user)),
                ("agent_id".into(), s(agent)),
                ("user".into(), V::Reference(format!("users/{user}"))),
                ("created_at".into(), V::Timestamp(Ts { secs: start, nanos: 0 })),
                ("updated_at".into(), V::Timestamp(Ts { secs: start + n as i64 * 45, nanos: 0 })),
                ("message_count".into(), V::Int(n as i64)),
            ],
        ));
        for (j, (role, content)) in c.messages.iter().enumerate() {
            let t = Ts { secs: start + j as i64 * 45, nanos: 500_000_000 };
            // Every third conversation was written by an older writer: ISO strings, no zone.
            let ts = if i % 3 == 2 && j % 2 == 1 {
                s(t.to_rfc3339().trim_end_matches('Z').trim_end_matches(".500").to_string().as_str())
            } else {
                V::Timestamp(t)
            };
            out.push((
                format!("conversations/{id}/messages/{id}-m{:02}", j + 1),
                vec![
                    ("role".into(), s(role)),
                    ("content".into(), s(content)),
                    ("timestamp".into(), ts),
                    ("user_id".into(), s(user)),
                    (
                        "metadata".into(),
                        V::Map(vec![("source".into(), s("demo")), ("tokens".into(), V::Int(content.len() as i64 / 4))]),
                    ),
                ],
            ));
        }
    }
    // One very long message and one with terminal escapes, in the newest conversation.
    let newest = format!("conv-{count:04}");
    let long: String =
        (0..400).map(|k| format!("line {k}: the agent's scratchpad keeps growing with retrieved context.\n")).collect();
    out.push((
        format!("conversations/{newest}/messages/{newest}-m90"),
        vec![
            ("role".into(), s("tool")),
            ("content".into(), V::String(long)),
            ("timestamp".into(), V::Timestamp(Ts { secs: base + count as i64 * 3600 + 10_000, nanos: 0 })),
        ],
    ));
    out.push((
        format!("conversations/{newest}/messages/{newest}-m91"),
        vec![
            ("role".into(), s("user")),
            (
                "content".into(),
                s("pasted from a terminal: \u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7} and bidi \u{202e}olleh"),
            ),
            ("timestamp".into(), V::Timestamp(Ts { secs: base + count as i64 * 3600 + 10_060, nanos: 0 })),
        ],
    ));
    out
}

/// Write the long-term plan through any long-term store.
pub async fn seed_long_term(
    store: &dyn crate::store::LongTermStore,
    count: usize,
    base: i64,
) -> Result<usize, crate::error::StoreError> {
    let fx = fixture().map_err(|e| crate::error::StoreError::Other(e.to_string()))?;
    let plan = long_term_plan(&fx, count, base);
    let n = plan.len();
    store.put_many(plan).await?;
    Ok(n)
}

/// The demo's vector records: one per message of the long-term plan, with the metadata the
/// memory layer writes (so that `memscope audit` finds the demo consistent).
pub fn vector_items(plan: &[(String, Vec<(String, crate::domain::FsValue)>)]) -> Vec<crate::search::TextItem> {
    use crate::domain::{Document, Message, Ts};
    plan.iter()
        .filter_map(|(path, fields)| {
            let (conv, id) = crate::memory::split_message_path(path)?;
            let m = Message::from_doc(Document { path: path.clone(), fields: fields.clone(), update_time: None });
            let user = m.user_id.clone().unwrap_or_default();
            let ts = m.timestamp.unwrap_or(Ts { secs: 0, nanos: 0 });
            Some(crate::memory::text_item(conv, id, &user, &m.role, ts, &m.content))
        })
        .collect()
}

/// Embeddings of the demo's texts (all-MiniLM-L6-v2), computed once and shipped, so that the
/// demo starts in a second on a fresh machine. Layout, little-endian: u32 count, u32 dimension,
/// then per text: u64 FNV-1a of the text, `dimension` f32. Regenerate after editing the
/// fixture: `memscope demo --write-embeddings assets/demo_embeddings.bin` (a test says when).
pub const PRECOMPUTED: &[u8] = include_bytes!("../../assets/demo_embeddings.bin");

fn text_key(text: &str) -> u64 {
    crate::memory::stable_hash(&[text])
}

/// The shipped embeddings, by text hash.
pub fn precomputed() -> std::collections::HashMap<u64, Vec<f32>> {
    let mut out = std::collections::HashMap::new();
    let u32_at = |b: &[u8], i: usize| b.get(i..i + 4).map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]));
    let (Some(n), Some(dim)) = (u32_at(PRECOMPUTED, 0), u32_at(PRECOMPUTED, 4)) else { return out };
    let (n, dim) = (n as usize, dim as usize);
    let rec = 8 + dim * 4;
    for k in 0..n {
        let Some(r) = PRECOMPUTED.get(8 + k * rec..8 + (k + 1) * rec) else { break };
        let mut h = [0u8; 8];
        h.copy_from_slice(&r[..8]);
        let v = r[8..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(u64::from_le_bytes(h), v);
    }
    out
}

/// Embed every distinct text of the demo with `embedder` and write them in the layout of
/// [`PRECOMPUTED`].
pub async fn write_precomputed(
    path: &std::path::Path,
    items: &[crate::search::TextItem],
    embedder: &dyn crate::embed::Embedder,
) -> Result<usize, crate::error::StoreError> {
    let mut texts: Vec<String> = items.iter().map(|i| i.text.clone()).collect();
    texts.sort();
    texts.dedup();
    let mut out = Vec::new();
    let mut dim = 0u32;
    let mut body = Vec::new();
    for chunk in texts.chunks(32) {
        for (t, v) in chunk.iter().zip(embedder.embed(chunk, crate::embed::Kind::Passage).await?) {
            dim = v.len() as u32;
            body.extend_from_slice(&text_key(t).to_le_bytes());
            for x in v {
                body.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&(texts.len() as u32).to_le_bytes());
    out.extend_from_slice(&dim.to_le_bytes());
    out.extend_from_slice(&body);
    std::fs::write(path, out).map_err(|e| crate::error::StoreError::Other(format!("{}: {e}", path.display())))?;
    Ok(texts.len())
}

/// Write the demo's vector index at `path` from the shipped embeddings; texts they lack (a
/// fixture edited without regenerating them) are embedded with the embedder `load` gives,
/// loaded only then. Returns (records written, texts embedded now).
pub async fn seed_vectors(
    path: &str,
    items: Vec<crate::search::TextItem>,
    load: impl FnOnce() -> Result<Box<dyn crate::embed::Embedder>, crate::error::StoreError>,
) -> Result<(u64, usize), crate::error::StoreError> {
    use crate::domain::Metric;
    use crate::store::VectorStore;
    use crate::store::local_vectors::LocalVectors;
    let mut known = precomputed();
    let mut missing: Vec<String> =
        items.iter().filter(|i| !known.contains_key(&text_key(&i.text))).map(|i| i.text.clone()).collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        let embedder = load()?;
        for chunk in missing.chunks(64) {
            for (t, v) in chunk.iter().zip(embedder.embed(chunk, crate::embed::Kind::Passage).await?) {
                known.insert(text_key(t), v);
            }
        }
    }
    let p = path.to_string();
    let store = tokio::task::spawn_blocking(move || LocalVectors::open(&p, Metric::Cosine))
        .await
        .map_err(|e| crate::error::StoreError::Other(e.to_string()))??;
    let mut written = 0;
    for chunk in items.chunks(1000) {
        let records =
            chunk.iter().filter_map(|i| known.get(&text_key(&i.text)).map(|v| i.record(v.clone(), "text"))).collect();
        written += store.upsert(records, "").await?;
    }
    Ok((written, missing.len()))
}

// ---------- the traffic simulator ----------

/// A small xorshift generator: the simulator needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

/// Follow-up turns the simulated agents add to their conversations: (agent, user, answer).
const FOLLOW_UPS: [(&str, &str, &str); 12] = [
    (
        "agent-support",
        "Can you check the status of my last order?",
        "It shipped this morning; the tracking link is in your email.",
    ),
    (
        "agent-support",
        "Please remind me which refund option I picked.",
        "You chose store credit, which is already on your account.",
    ),
    (
        "agent-support",
        "I still cannot log in after the password reset.",
        "I sent a new reset link; it expires in 15 minutes.",
    ),
    (
        "agent-travel",
        "Is it going to rain there this weekend?",
        "Light rain on Saturday, sunny on Sunday, highs around 18°C.",
    ),
    (
        "agent-travel",
        "Can you move the booking one day later?",
        "Done: the booking now starts a day later, at no extra cost.",
    ),
    (
        "agent-travel",
        "What time should I leave for the airport?",
        "Leave by 06:15: the drive takes 40 minutes and check-in closes at 07:30.",
    ),
    (
        "agent-coder",
        "The CI job failed again on main, any idea why?",
        "The flaky test is the timezone one; pinning TZ=UTC in CI fixes it.",
    ),
    (
        "agent-coder",
        "Can you write a unit test for that fix?",
        "Added a test that runs the parser under three time zones; it fails without the fix.",
    ),
    (
        "agent-coder",
        "Is the change safe to deploy on a Friday?",
        "It only touches the test setup, so yes; production code is unchanged.",
    ),
    (
        "agent-research",
        "Summarise what we discussed yesterday in two bullet points.",
        "The budget is approved, and the launch moves to Tuesday.",
    ),
    (
        "agent-research",
        "What is the next step for the report?",
        "Next, the finance section needs the September figures.",
    ),
    (
        "agent-research",
        "Can you find one more source for that claim?",
        "A 2023 peer-reviewed survey supports it; I added it to the references.",
    ),
];

const QUERIES: [&str; 6] =
    ["refund for my order", "weather in New York", "restaurant booking", "CI failure", "password reset", "Q3 report"];

/// How the demo's agents use their memory: messages saved through the layer, fallback reads
/// with a realistic hit/miss mix (TTL'd document caches expiring), cached tool results, cached
/// vector searches, rate-limit counters, and now and then a slow call — so every tab, Health
/// included, is alive. Runs until the task is aborted.
pub async fn simulate(mem: std::sync::Arc<crate::memory::Memory>, redis_url: String, conversations: usize) {
    use crate::domain::CacheOp;
    let Ok(fx) = fixture() else { return };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64);
    let mut rng = Rng(seed.unwrap_or(88172645463325252) | 1);
    let mut next_conv = conversations + 1;
    let mut tick = tokio::time::interval(Duration::from_millis(400));
    loop {
        tick.tick().await;
        let r = rng.below(100);
        // The conversation this step is about (now and then a new one), and who holds it.
        let conv_index = if r < 15 && rng.chance(5) {
            next_conv += 1;
            next_conv - 2
        } else {
            rng.below(conversations)
        };
        let conv = format!("conv-{:04}", conv_index + 1);
        let (_, user, agent) = fx.conversation(conv_index);
        let (user, agent) = (user.to_string(), agent.to_string());
        let result: Result<(), crate::error::StoreError> = async {
            match r {
                // An agent turn: the user's message and the agent's answer.
                0..=14 => {
                    // A follow-up that fits the agent holding the conversation.
                    let fits: Vec<&(&str, &str, &str)> = FOLLOW_UPS.iter().filter(|f| f.0 == agent).collect();
                    let (_, question, answer) = match fits.len() {
                        0 => FOLLOW_UPS[rng.below(FOLLOW_UPS.len())],
                        n => *fits[rng.below(n)],
                    };
                    for (role, text) in [("user", question), ("assistant", answer)] {
                        let m = crate::memory::NewMessage {
                            message_id: Some(format!("{conv}-s{:012x}", rng.next() >> 16)),
                            role: role.into(),
                            content: text.into(),
                            agent_id: Some(agent.clone()),
                            ..Default::default()
                        };
                        mem.save_message(&conv, m, &user).await?;
                    }
                }
                // Profile and agent lookups through the fallback chain (LRU → Redis → long-term).
                15..=49 => {
                    let path = if rng.chance(60) {
                        format!("users/{user}")
                    } else {
                        format!("agents/{}", fx.agents[rng.below(fx.agents.len())])
                    };
                    mem.get_with_fallback(&path).await?;
                }
                // Context for a turn: the recent messages of a conversation.
                50..=69 => {
                    mem.get_conversation(&conv, 10).await?;
                }
                // Tool results cached with short TTLs: hits while fresh, misses once expired.
                70..=84 => {
                    let city = ["nyc", "lisbon", "tokyo", "berlin", "sf"][rng.below(5)];
                    let key = format!("weather:{city}:today");
                    if mem.get_cached_result(&key).await.is_none() {
                        let v = serde_json::json!({"city": city, "temp_c": 10 + rng.below(20), "source": "demo"});
                        mem.cache_result(&key, &v, Duration::from_secs(5 + rng.below(25) as u64)).await;
                    }
                }
                // Rate-limit counters per user and minute.
                85..=94 => {
                    if let Some(redis) = mem.redis() {
                        let minute = crate::domain::Ts::now().secs / 60;
                        let key = format!("ratelimit:{user}:{minute}");
                        redis.exec(&[CacheOp::Incr { key: key.into_bytes().into(), ttl_s: 90 }]).await?;
                    }
                }
                // Semantic recall, cached in Redis.
                95..=98 => {
                    if mem.vector().is_some() {
                        mem.query(QUERIES[rng.below(QUERIES.len())], 5, None).await?;
                    }
                }
                // Now and then a slow call (it lands in the slow log and the latency chart).
                _ => crate::store::redis::slow_call(&redis_url, 30 + rng.below(120) as u64).await?,
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "demo traffic: a call failed (the layer degrades, the simulator goes on)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_expands_to_every_type() {
        let plan = seed_plan(&fixture().unwrap(), 60).unwrap();
        let has = |f: fn(&Seed) -> bool| plan.iter().any(f);
        assert!(has(|s| matches!(s, Seed::List(..))));
        assert!(has(|s| matches!(s, Seed::Hash(..))));
        assert!(has(|s| matches!(s, Seed::Set(..))));
        assert!(has(|s| matches!(s, Seed::ZSet(..))));
        assert!(has(|s| matches!(s, Seed::Stream(..))));
        assert!(has(|s| matches!(s, Seed::HyperLogLog(..))));
        assert!(has(|s| matches!(s, Seed::String(k, _) if &**k == b"weather:nyc:today")));
        assert!(has(|s| matches!(s, Seed::String(_, v) if v.len() > 1_000_000)));
        assert!(plan.iter().filter(|s| matches!(s, Seed::List(k, _) if k.starts_with(b"conversation:"))).count() >= 50);
    }

    #[test]
    fn long_term_plan_mixes_timestamp_forms_and_covers_every_type() {
        use crate::domain::FsValue;
        let plan = long_term_plan(&fixture().unwrap(), 60, 1_700_000_000);
        let convs = plan.iter().filter(|(p, _)| p.starts_with("conversations/") && p.matches('/').count() == 1).count();
        assert_eq!(convs, 60);
        let ts_kinds: std::collections::HashSet<&str> = plan
            .iter()
            .filter(|(p, _)| p.contains("/messages/"))
            .filter_map(|(_, f)| f.iter().find(|(k, _)| k == "timestamp").map(|(_, v)| v.type_name()))
            .collect();
        assert_eq!(ts_kinds, ["timestamp", "string"].into_iter().collect());
        let types: std::collections::HashSet<&str> =
            plan.iter().flat_map(|(_, f)| f.iter().map(|(_, v)| v.type_name())).collect();
        for t in
            ["null", "bool", "int64", "double", "timestamp", "string", "bytes", "reference", "geopoint", "array", "map"]
        {
            assert!(types.contains(t), "demo has no {t}");
        }
        let _ = FsValue::Null;
        let items = vector_items(&plan);
        assert!(items.len() > 150);
        // The layer's own metadata, so that the audit finds the demo consistent.
        for k in ["conversation_id", "message_id", "user_id", "role", "timestamp"] {
            assert!(items.iter().all(|i| i.metadata.contains_key(k)), "{k}");
        }
    }

    #[test]
    fn shipped_embeddings_cover_every_demo_text() {
        let known = precomputed();
        let plan = long_term_plan(&fixture().unwrap(), CONVERSATIONS, 0);
        let missing: Vec<String> = vector_items(&plan)
            .into_iter()
            .filter(|i| !known.contains_key(&text_key(&i.text)))
            .map(|i| i.text.chars().take(40).collect())
            .collect();
        assert!(
            missing.is_empty(),
            "assets/demo_embeddings.bin lacks {} demo texts (e.g. {:?}): run `cargo run -- demo --write-embeddings \
             assets/demo_embeddings.bin`",
            missing.len(),
            missing.first()
        );
        assert!(known.values().all(|v| v.len() == 384));
    }

    #[test]
    fn fixture_has_distinct_conversations_across_users_and_agents() {
        let fx = fixture().unwrap();
        assert!(fx.conversations.len() >= 50 && fx.conversations.len() == CONVERSATIONS);
        let distinct = |f: &dyn Fn(&FixtureConversation) -> String| {
            fx.conversations.iter().map(f).collect::<std::collections::HashSet<_>>().len()
        };
        assert_eq!(distinct(&|c| c.topic.clone()), CONVERSATIONS, "topics repeat");
        let first_user = |c: &FixtureConversation| c.messages.iter().find(|m| m.0 == "user").unwrap().1.clone();
        assert_eq!(distinct(&first_user), CONVERSATIONS, "questions repeat");
        let who: Vec<(&str, &str)> = (0..CONVERSATIONS).map(|i| (fx.conversation(i).1, fx.conversation(i).2)).collect();
        let users: std::collections::HashSet<_> = who.iter().map(|w| w.0).collect();
        let agents: std::collections::HashSet<_> = who.iter().map(|w| w.1).collect();
        assert!(users.len() >= 5 && agents.len() == fx.agents.len(), "{users:?} {agents:?}");
        assert!(fx.conversations.iter().all(|c| c.agent.as_ref().is_none_or(|a| fx.agents.contains(a))));
    }
}

#[cfg(test)]
mod sweep_tests {
    #[test]
    fn an_emulator_launcher_that_exits_is_reported_with_its_log() {
        let dir = std::env::temp_dir().join(format!("memscope-fake-emulator-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("launcher");
        std::fs::write(&exe, "#!/bin/sh\necho 'Error: no Java runtime found' >&2\nexit 3\n").unwrap();
        std::process::Command::new("chmod").arg("+x").arg(&exe).status().unwrap();
        let e = super::PrivateEmulator::start_with(exe.to_str().unwrap()).err().expect("an error").to_string();
        assert!(e.contains("exited at start") && e.contains("no Java runtime found"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn folders_of_processes_that_are_gone_are_removed_others_kept() {
        let root = std::env::temp_dir().join(format!("memscope-sweep-test-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        for name in [
            format!("memscope-demo-{dead}-0"),
            format!("memscope-demo-{me}-0"),
            "memscope-demo-1-0".into(),
            "other".into(),
        ] {
            std::fs::create_dir_all(root.join(name).join("inner")).unwrap();
        }
        assert_eq!(super::sweep_stale(&root, "demo"), 1);
        let mut left: Vec<String> =
            std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        let mut want = vec![format!("memscope-demo-{me}-0"), "memscope-demo-1-0".into(), "other".into()];
        want.sort();
        assert_eq!(left, want);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
