//! Keypress → frame on a Redis Cluster, with and without a frozen master (printed figures, no
//! assertions): the real binary in a pseudo-terminal on the Keys tab of a private 3-master
//! cluster; 200 keypresses (`j`/`k`), timed until the screen changes, first with every node
//! answering, then while one master is frozen by `DEBUG SLEEP`.
//! `cargo bench --bench cluster_keypress`

#[path = "../tests/integration/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::Duration;

fn figures(name: &str, mut v: Vec<Duration>, missed: usize) {
    v.sort();
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name}: {} keypresses, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {missed} without a new frame within 1 s",
        v.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

fn run(tui: &mut support::pty::Tui, n: usize) -> (Vec<Duration>, usize) {
    let (mut out, mut missed) = (Vec::new(), 0);
    for i in 0..n {
        match tui.time_keys(if i % 2 == 0 { "j" } else { "k" }, Duration::from_secs(1)) {
            Some(d) => out.push(d),
            None => missed += 1,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (out, missed)
}

fn main() {
    let c = memscope::demo::PrivateCluster::start(3, 0).expect("a private cluster (redis-server, redis-cli)");
    let client = redis::cluster::ClusterClient::new(vec![c.url()]).unwrap();
    let mut conn = client.get_connection().unwrap();
    for i in 0..3000 {
        redis::cmd("SET").arg(format!("k:{i:05}")).arg("v").exec(&mut conn).unwrap();
    }
    let url = c.url();
    let mut tui = support::pty::Tui::start(&["--redis-url", &url], &[]);
    tui.wait_for("Redis Keys", 10);
    tui.send("2");
    tui.wait_for("3,000 keys", 20);
    tui.send("v"); // flat list: every j/k moves the selection
    let (base, missed) = run(&mut tui, 200);
    figures("all nodes answering", base, missed);
    // Freeze a master that is not the seed for 10 s, and press keys meanwhile.
    let frozen = c.nodes[1].url();
    let sleeper = std::thread::spawn(move || {
        let mut r = redis::Client::open(frozen).unwrap().get_connection().unwrap();
        let _ = redis::cmd("DEBUG").arg("SLEEP").arg(10).exec(&mut r);
    });
    std::thread::sleep(Duration::from_millis(200));
    tui.send("r"); // a rescan that waits on the frozen node
    let (frozen_run, missed) = run(&mut tui, 200);
    figures("one master frozen by DEBUG SLEEP 10", frozen_run, missed);
    let _ = sleeper.join();
    tui.send("q");
}
