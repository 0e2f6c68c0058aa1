//! Keypress → frame while a large listing is sorted by TTL and by size, and while a keyspace
//! analysis runs; memscope's resident memory after each sort cycle (printed figures, no
//! assertions). The real binary in a pseudo-terminal on a private redis-server filled by
//! `DEBUG POPULATE` (every 10th key given a TTL). A keypress is timed until the frame shows its
//! effect (the selection moved, the help opened or closed): the progress redrawn meanwhile is
//! not mistaken for it.
//! `cargo bench --bench main -- sort_keypress` (`MEMSCOPE_SORT_KEYS=100000` for a smaller keyspace;
//! `MEMSCOPE_SORT_URL` for a server or cluster filled by the caller: benches/scripts/cluster_sort.sh)

use crate::support::pty::Tui;
use std::time::{Duration, Instant};

fn figures(name: &str, v: Vec<Duration>, missed: usize) {
    crate::keypress_figures(name, v, missed, "");
}

/// `j`/`k` alternately (the selection moves down, then up) while `busy` holds for the screen,
/// at most `max` presses; then waits for `busy` to end (at most 10 minutes).
fn presses(tui: &mut Tui, max: usize, busy: impl Fn(&str) -> bool) -> (Vec<Duration>, usize) {
    let (mut out, mut missed) = (Vec::new(), 0);
    for i in 0..max {
        if !busy(&tui.screen()) {
            break;
        }
        let Some(row) = Tui::selected_row(tui.parser.lock().unwrap().screen()) else {
            panic!("no selected row on the screen:\n{}", tui.screen());
        };
        let (key, want) = if i % 2 == 0 { ("j", row + 1) } else { ("k", row - 1) };
        match tui.time_until(key, Duration::from_secs(1), |s| Tui::selected_row(s) == Some(want)) {
            Some(d) => out.push(d),
            None => missed += 1,
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    let t = Instant::now();
    while busy(&tui.screen()) && t.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(50));
    }
    (out, missed)
}

fn mb(tui: &Tui) -> String {
    tui.rss_kb().map(|k| format!("{:.0} MB", k as f64 / 1024.0)).unwrap_or("?".into())
}

pub fn bench_main() {
    let n: u64 = std::env::var("MEMSCOPE_SORT_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    // MEMSCOPE_SORT_URL: a server or cluster the caller filled with those keys
    // (benches/scripts/cluster_sort.sh); otherwise a private redis-server filled here.
    let mut own = None;
    let url = match std::env::var("MEMSCOPE_SORT_URL") {
        Ok(url) => url,
        Err(_) => {
            let r = memscope::demo::PrivateRedis::start(&[]).expect("a private redis-server");
            populate(&r.url(), n);
            let url = r.url();
            own = Some(r);
            url
        }
    };
    let mut tui = Tui::start(&["--redis-url", &url], &[]);
    tui.wait_for("Redis Keys", 10);
    tui.send("2");
    let t = Instant::now();
    tui.wait_for(&format!("{} keys", memscope::text::num(n)), 120);
    println!("{n} keys listed in {:.1} s; memscope RSS {}", t.elapsed().as_secs_f64(), mb(&tui));
    tui.send("v"); // flat: every key a row
    let t = Instant::now();
    let (idle, missed) = presses(&mut tui, 200, |_| t.elapsed() < Duration::from_secs(30));
    figures("idle, sorted by name", idle, missed);
    for cycle in 1..=3 {
        for by in ["ttl", "size"] {
            let t = Instant::now();
            tui.send("s");
            let (v, missed) = presses(&mut tui, 400, |s| s.contains("measuring"));
            let took = t.elapsed().as_secs_f64();
            figures(&format!("cycle {cycle}, while sorting by {by} ({took:.1} s)"), v, missed);
            println!("  RSS sorted by {by}: {}", mb(&tui));
        }
        tui.send("s"); // back to name
        std::thread::sleep(Duration::from_millis(500));
        println!("  RSS after cycle {cycle} (by name again): {}", mb(&tui));
    }
    // An analysis of the whole keyspace (default limit), while the help opens and closes.
    tui.send(":");
    tui.send("analyze\r");
    tui.wait_for("analyzing", 10);
    let (mut v, mut missed) = (Vec::new(), 0);
    let help = "keys here";
    for i in 0..400 {
        if !tui.screen().contains("analyzing") && !tui.screen().contains(help) {
            break;
        }
        let (key, open) = if i % 2 == 0 { ("?", true) } else { ("\x1b", false) };
        match tui.time_until(key, Duration::from_secs(1), |s| s.contents().contains(help) == open) {
            Some(d) => v.push(d),
            None => missed += 1,
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    figures("while an analysis runs (help opened and closed)", v, missed);
    println!("  RSS during the analysis: {}", mb(&tui));
    tui.send("\x1b");
    tui.send("q");
    drop(own);
}

/// `n` keys by `DEBUG POPULATE`, every 10th given a TTL.
fn populate(url: &str, n: u64) {
    let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
    redis::cmd("DEBUG").arg("POPULATE").arg(n).arg("key").arg(16).exec(&mut c).unwrap();
    let mut p = redis::pipe();
    for i in (0..n).step_by(10) {
        p.cmd("EXPIRE").arg(format!("key:{i}")).arg(3_600 + (i * 7_919) % 86_400).ignore();
        if p.cmd_iter().count() >= 10_000 {
            p.exec(&mut c).unwrap();
            p = redis::pipe();
        }
    }
    if p.cmd_iter().count() > 0 {
        p.exec(&mut c).unwrap();
    }
}
