//! Keypress → frame on a Redis Cluster, with and without a frozen master (printed figures, no
//! assertions): the real binary in a pseudo-terminal on the Keys tab of a private 3-master
//! cluster (3,000 keys, flat list); 200 keypresses (`j`/`k`), each timed until the selection is
//! drawn on its new row, first with every node answering, then while one master is frozen by
//! `DEBUG SLEEP 10` and `r` rescans. "Moved by itself" counts the selection found on another
//! screen row than the last keypress left it (the rows moving under the cursor: an emptied
//! list, an error line pushed above them — both fixed; it should stay 0). memscope's log (`MEMSCOPE_LOG=info`, steps over 16 ms;
//! `memscope::tui=debug`, each key and frame) is left in `$MEMSCOPE_BENCH_DATA`
//! (`/tmp/memscope-bench-data`).
//! `cargo bench --bench main -- cluster_keypress`

use crate::support::pty::Tui;
use std::time::Duration;

fn figures(name: &str, v: Vec<Duration>, missed: usize, jumped: usize) {
    crate::keypress_figures(name, v, missed, &format!(", the selection moved by itself {jumped} times"));
}

/// `j`/`k` alternately, each timed until the selection is drawn on its new row (a frame that
/// changes on its own — scan progress, a node going down — is not taken for the keypress's).
/// Also counts the times the selection was found elsewhere than the last keypress left it.
fn run(tui: &mut Tui, n: usize) -> (Vec<Duration>, usize, usize) {
    let (mut out, mut missed, mut jumped) = (Vec::new(), 0, 0);
    let mut left: Option<u16> = None;
    for _ in 0..n {
        let Some(row) = Tui::selected_row(tui.parser.lock().unwrap().screen()) else {
            panic!("no selected row on the screen:\n{}", tui.screen());
        };
        if let Some(l) = left.filter(|l| *l != row) {
            jumped += 1;
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            let line = tui.screen().lines().nth(5).unwrap_or_default().trim().to_string();
            println!(
                "  the selection moved by itself from row {l} to {row} at {:.3} s; row 5: {line}",
                (t.as_secs_f64()) % 86_400.0
            );
        }
        // Down from the first row, else up: the selection always has somewhere to go.
        let (key, want) = if left.is_none_or(|l| l <= row) && row < 30 { ("j", row + 1) } else { ("k", row - 1) };
        let at = std::time::SystemTime::now();
        match tui.time_until(key, Duration::from_secs(1), |s| Tui::selected_row(s) == Some(want)) {
            Some(d) => {
                if d > Duration::from_millis(50) {
                    let t = at.duration_since(std::time::UNIX_EPOCH).unwrap();
                    println!(
                        "  slow keypress at {}.{:06} s: {:.0} ms",
                        t.as_secs() % 86_400,
                        t.subsec_micros(),
                        d.as_secs_f64() * 1e3
                    );
                }
                out.push(d);
                left = Some(want);
            }
            None => {
                let t = at.duration_since(std::time::UNIX_EPOCH).unwrap();
                println!(
                    "  `{key}` at {:.3} s: row {want} not selected within 1 s; screen:\n{}",
                    t.as_secs_f64() % 86_400.0,
                    tui.screen()
                );
                missed += 1;
                left = None;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (out, missed, jumped)
}

pub fn bench_main() {
    let c = memscope::demo::PrivateCluster::start(3, 0).expect("a private cluster (redis-server, redis-cli)");
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    for i in 0..3000 {
        redis::cmd("SET").arg(format!("k:{i:05}")).arg("v").exec(&mut conn).unwrap();
    }
    let url = c.url();
    // memscope's log (UI steps over 16 ms) where it can be read after the run.
    let data = std::env::var("MEMSCOPE_BENCH_DATA").unwrap_or_else(|_| "/tmp/memscope-bench-data".into());
    let mut tui = crate::support::pty::Tui::start(
        &["--redis-url", &url],
        &[("XDG_DATA_HOME", data.as_str()), ("MEMSCOPE_LOG", "info,memscope::tui=debug,memscope::backend=warn")],
    );
    tui.wait_for("Redis Keys", 10);
    tui.send("2");
    tui.wait_for("3,000 keys", 20);
    tui.send("v"); // flat list: every j/k moves the selection
    let (base, missed, jumped) = run(&mut tui, 200);
    figures("all nodes answering", base, missed, jumped);
    // Freeze a master that is not the seed for 10 s, and press keys meanwhile.
    let frozen = c.nodes[1].url();
    let sleeper = std::thread::spawn(move || {
        let mut r = redis::Client::open(frozen).unwrap().get_connection().unwrap();
        let _ = redis::cmd("DEBUG").arg("SLEEP").arg(10).exec(&mut r);
    });
    std::thread::sleep(Duration::from_millis(200));
    tui.send("r"); // a rescan that waits on the frozen node
    let (frozen_run, missed, jumped) = run(&mut tui, 200);
    figures("one master frozen by DEBUG SLEEP 10", frozen_run, missed, jumped);
    let _ = sleeper.join();
    tui.send("q");
}
