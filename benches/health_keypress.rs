//! Keypress → frame on the Health tab through the drills (printed figures, no assertions): the
//! real binary in a pseudo-terminal, a private redis-server; `+`/`-` change the window, each
//! timed until the header shows the new one. Three phases: every tier answering, the server
//! frozen by `DEBUG SLEEP 8` (Health says NO ANSWER meanwhile), and the server killed and
//! restarted with other data. `cargo bench --bench main -- health_keypress`

use crate::support::pty::Tui;
use std::time::{Duration, Instant};

fn figures(name: &str, v: Vec<Duration>, missed: usize) {
    crate::keypress_figures(name, v, missed, "");
}

/// The window the header names now (its third line).
fn window(tui: &Tui) -> String {
    tui.screen().lines().nth(2).unwrap_or_default().split(" · ").next().unwrap_or_default().trim().to_string()
}

/// `+` or `-` for `secs` (between the 5 and 15 minute windows), each timed until the header
/// names the new window.
fn presses(tui: &mut Tui, secs: f64) -> (Vec<Duration>, usize) {
    let (mut out, mut missed) = (Vec::new(), 0);
    let t0 = Instant::now();
    while t0.elapsed().as_secs_f64() < secs {
        let now = window(tui);
        let (key, want) = if now == "window 5 min" { ("+", "window 15 min") } else { ("-", "window 5 min") };
        let line = |s: &vt100::Screen| s.contents().lines().nth(2).is_some_and(|l| l.trim_start().starts_with(want));
        match tui.time_until(key, Duration::from_secs(1), line) {
            Some(d) => out.push(d),
            None => {
                println!("  `{key}` not drawn within 1 s (header: {})", window(tui));
                missed += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    (out, missed)
}

pub fn bench_main() {
    let mut r = memscope::demo::PrivateRedis::start(&[]).expect("redis-server");
    let mut c = redis::Client::open(r.url()).unwrap().get_connection().unwrap();
    for i in 0..1000 {
        redis::cmd("SET").arg(format!("k:{i}")).arg(i).exec(&mut c).unwrap();
    }
    let mut tui = Tui::start(&["--redis-url", &r.url()], &[]);
    tui.send("4");
    tui.wait_for("window 5 min", 10);
    tui.wait_for("now ", 10);
    let (v, m) = presses(&mut tui, 4.0);
    figures("every tier answering", v, m);

    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _ = redis::cmd("DEBUG").arg("SLEEP").arg(8).exec(&mut c);
    });
    std::thread::sleep(Duration::from_millis(100));
    let (v, m) = presses(&mut tui, 7.5);
    let said = tui.screen().contains("NO ANSWER");
    figures(&format!("frozen by DEBUG SLEEP 8 (NO ANSWER on screen: {said})"), v, m);
    let _ = sleeper.join();

    r.kill();
    let (v1, m1) = presses(&mut tui, 2.0);
    r.restart().unwrap();
    let mut c = redis::Client::open(r.url()).unwrap().get_connection().unwrap();
    for i in 0..300 {
        redis::cmd("SET").arg(format!("n:{i}")).arg(i).exec(&mut c).unwrap();
    }
    let (v2, m2) = presses(&mut tui, 4.0);
    let restarted = tui.screen().contains("restarted");
    figures(
        &format!("killed, then restarted with other data (restart event on screen: {restarted})"),
        v1.into_iter().chain(v2).collect(),
        m1 + m2,
    );
    tui.send("q");
}
