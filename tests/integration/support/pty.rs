//! The real binary in a pseudo-terminal, its screen read through a VT parser.

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Tui {
    pub parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub _home: tempfile::TempDir,
    /// Signalled when the reader has seen the end of the output (the child is gone).
    drained: std::sync::mpsc::Receiver<()>,
    /// One pseudo-terminal journey at a time: the journeys (the demo's stack, the local model)
    /// are the heaviest tests, and on 2 cores several at once starve each other's screens.
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Screens appear within their stated time on an idle machine; a loaded one (the whole suite in
/// one process on 2 cores) gets this many times longer before a missing screen is a failure.
const SLACK: u64 = 3;

impl Tui {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Tui {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let pty = native_pty_system();
        let pair = pty.openpty(PtySize { rows: 40, cols: 140, pixel_width: 0, pixel_height: 0 }).unwrap();
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_memscope"));
        cmd.args(args);
        // A private HOME: no user config is read, logs go to the temp dir.
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_DATA_HOME", home.path().join("data"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("REDIS_URL");
        cmd.env_remove("MEMSCOPE_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(40).unwrap(),
            std::num::NonZero::new(140).unwrap(),
            0,
        )));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let p = parser.clone();
        let (done, drained) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
            let _ = done.send(());
        });
        let writer = pair.master.take_writer().unwrap();
        // Keep the master alive for the child's lifetime.
        std::mem::forget(pair.master);
        Tui { parser, writer, child, _home: home, drained, _serial: serial }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, what: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs * SLACK);
        loop {
            let s = self.screen();
            if s.contains(what) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("`{what}` did not appear; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }

    /// Send keys and time until the screen (text or style) changes: keypress → frame.
    pub fn time_keys(&mut self, keys: &str, timeout: Duration) -> Option<Duration> {
        let before = self.parser.lock().unwrap().screen().contents_formatted();
        let t = Instant::now();
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        while t.elapsed() < timeout {
            if self.parser.lock().unwrap().screen().contents_formatted() != before {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    }

    /// Send keys and time until `done` holds for the screen: keypress → the frame showing the
    /// keypress's effect (a screen that changes on its own — progress, countdowns — is not
    /// mistaken for it).
    pub fn time_until(
        &mut self,
        keys: &str,
        timeout: Duration,
        done: impl Fn(&vt100::Screen) -> bool,
    ) -> Option<Duration> {
        let t = Instant::now();
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        while t.elapsed() < timeout {
            if done(self.parser.lock().unwrap().screen()) {
                return Some(t.elapsed());
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        None
    }

    /// The screen row drawn as the selection (its background), if one is.
    pub fn selected_row(screen: &vt100::Screen) -> Option<u16> {
        let (rows, _) = screen.size();
        let sel = |r: u16, c: u16| screen.cell(r, c).is_some_and(|x| x.bgcolor() != vt100::Color::Default);
        (3..rows.get()).find(|&r| sel(r, 2) && sel(r, 12))
    }

    /// The child's resident memory (kB, from /proc), if it runs.
    pub fn rss_kb(&self) -> Option<u64> {
        let pid = self.child.process_id()?;
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // The reader ends once it has read everything the child wrote (the pty's slave
                // side is closed with the child): the screen is final then.
                let _ = self.drained.recv_timeout(Duration::from_secs(5));
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("memscope did not exit; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// The terminal is back to normal: main screen, cursor shown.
    pub fn assert_restored(&self) {
        let p = self.parser.lock().unwrap();
        assert!(!p.screen().alternate_screen(), "still on the alternate screen");
        assert!(!p.screen().hide_cursor(), "cursor still hidden");
    }
}
