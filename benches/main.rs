//! Every benchmark of memscope, one binary (built and linked once): each module measures one
//! thing and prints its figures — never asserts a time. `cargo bench --bench main` runs them
//! all; `cargo bench --bench main -- NAME …` runs the ones named. Shell measurements (against
//! redis-cli, NumPy, the server's CPU) are in `benches/scripts/`.

#[path = "../tests/integration/support/mod.rs"]
#[allow(unused_imports)]
mod support;

mod cluster_keypress;
mod decode_value;
mod health_keypress;
mod layout_thread;
mod long_term_latency;
mod profile_keypress;
mod redis_knn;
mod render_health;
mod render_tree;
mod sort_keypress;
mod vector_search;

/// Each benchmark by the name `cargo bench --bench main -- NAME` takes.
const BENCHES: &[(&str, fn())] = &[
    ("render_tree", render_tree::bench_main),
    ("render_health", render_health::bench_main),
    ("sort_keypress", sort_keypress::bench_main),
    ("health_keypress", health_keypress::bench_main),
    ("cluster_keypress", cluster_keypress::bench_main),
    ("layout_thread", layout_thread::bench_main),
    ("long_term_latency", long_term_latency::bench_main),
    ("vector_search", vector_search::bench_main),
    ("redis_knn", redis_knn::bench_main),
    ("profile_keypress", profile_keypress::bench_main),
    ("decode_value", decode_value::bench_main),
];

/// Keypress → frame figures in a line: p50, p99 and max of the timed presses, those never drawn
/// within a second, and anything else the bench counts (`extra`, appended).
pub fn keypress_figures(name: &str, mut v: Vec<std::time::Duration>, missed: usize, extra: &str) {
    if v.is_empty() {
        println!("{name}: no keypress drawn ({missed} not drawn within 1 s){extra}");
        return;
    }
    v.sort();
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name}: {} keypresses, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {missed} not drawn within 1 s{extra}",
        v.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

/// Deterministic unit vectors (xorshift from `seed`): the same for every run of every bench.
pub fn unit_vectors(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let v: Vec<f32> = (0..dim)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / norm).collect()
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo test --benches` runs bench targets without `--bench`: nothing to measure then.
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let named: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if let Some(unknown) = named.iter().find(|n| !BENCHES.iter().any(|(b, _)| *b == n.as_str())) {
        let all: Vec<&str> = BENCHES.iter().map(|(b, _)| *b).collect();
        eprintln!("no benchmark named {unknown}: {}", all.join(", "));
        std::process::exit(2);
    }
    for (name, measure) in BENCHES {
        if named.is_empty() || named.iter().any(|n| n.as_str() == *name) {
            println!("== {name}");
            measure();
        }
    }
}
