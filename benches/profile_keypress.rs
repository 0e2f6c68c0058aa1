//! Keypress → frame while the profiler runs (printed figures, no assertions): the real binary
//! in a pseudo-terminal on a private redis-server kept busy by redis-benchmark (2 clients,
//! pipelines of 2); `:profile` open, `f` (the filter popup opens) and Esc (it closes) timed
//! until drawn while the session runs. The commands memscope processed are said.
//! `cargo bench --bench main -- profile_keypress`

use crate::support::pty::Tui;
use std::time::{Duration, Instant};

fn figures(name: &str, v: Vec<Duration>, missed: usize) {
    crate::keypress_figures(name, v, missed, "");
}

/// `f` then Esc for `secs`, each timed until the popup shows or is gone.
fn presses(tui: &mut Tui, secs: f64, popup: &str) -> (Vec<Duration>, usize) {
    let (mut out, mut missed) = (Vec::new(), 0);
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < secs {
        for (key, shown) in [("f", true), ("\x1b", false)] {
            let p = popup.to_string();
            match tui.time_until(key, Duration::from_secs(1), move |s| s.contents().contains(&p) == shown) {
                Some(d) => out.push(d),
                None => missed += 1,
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    (out, missed)
}

pub fn bench_main() {
    let r = memscope::demo::PrivateRedis::start(&[]).expect("redis-server");
    let port = r.url().rsplit(':').next().unwrap().trim_end_matches("/0").to_string();
    let mut load = std::process::Command::new("redis-benchmark")
        .args(["-p", &port, "-n", "100000000", "-c", "2", "-P", "2", "-r", "100000", "-t", "get,set,incr,lpush", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-benchmark (apt-get install redis-tools)");
    let mut tui = Tui::start(&["--redis-url", &r.url()], &[]);
    tui.send("2");
    tui.wait_for("MATCH", 10);
    tui.send(":profile\r");
    tui.wait_for("MONITOR running", 10);
    std::thread::sleep(Duration::from_secs(1));
    // Within the session's bounds (60 s, 1,000,000 commands): still running when done.
    let (v, m) = presses(&mut tui, 6.0, "tail filter:");
    let screen = tui.screen();
    let running = screen.contains("MONITOR running");
    let rate = screen
        .lines()
        .find(|l| l.contains(" commands in "))
        .map(|l| l.trim_matches(|c| c == '│' || c == ' ').to_string());
    figures(&format!("during :profile under redis-benchmark load (still running at the end: {running})"), v, m);
    println!("  the profiler's own count: {}", rate.unwrap_or_else(|| "(not on screen)".into()));
    tui.send("\x1b");
    let _ = load.kill();
    let _ = load.wait();
    tui.send("q");
}
