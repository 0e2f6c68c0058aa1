//! Decoding a 1 MiB compressed value (printed figures, no assertions): 1 MiB of an agent's JSON
//! messages compressed with gzip, zlib, LZ4 (frame) and Snappy (raw) — the formats whose
//! encoders memscope's crates carry (Zstandard is decode-only here) — then read back the way the
//! Keys tab reads it: detect, decompress within the budget, parse, and make the lines it draws. The budget is the default's (4 × 256 KiB = 1 MiB) and
//! one that holds it whole. `cargo bench --bench main -- decode_value`

use std::io::Write;
use std::time::{Duration, Instant};

fn json_of(size: usize) -> Vec<u8> {
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < size - 200 {
        s.push_str(&format!(
            "{{\"role\":\"{}\",\"content\":\"message {i}: the refund for order {} was issued on day {}\",\"ts\":{}}},",
            if i % 2 == 0 { "user" } else { "assistant" },
            1000 + i % 977,
            i % 31,
            1_700_000_000 + i
        ));
        i += 1;
    }
    s.pop();
    s.push(']');
    s.into_bytes()
}

fn time(name: &str, bytes: &[u8], budget: usize) {
    let mut v: Vec<Duration> = Vec::new();
    let mut label = String::new();
    let mut lines = 0;
    for _ in 0..30 {
        let t = Instant::now();
        let d = memscope::decode::decode(bytes, true, None, budget);
        lines = d.lines().len();
        v.push(t.elapsed());
        label = d.label();
    }
    v.sort();
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    println!(
        "{name} ({} stored, budget {}): read as {label}, {lines} lines, p50 {:.1} ms, p99 {:.1} ms",
        memscope::text::human_bytes(bytes.len() as u64),
        memscope::text::human_bytes(budget as u64),
        q(0.5),
        q(0.99)
    );
}

pub fn bench_main() {
    let json = json_of(1 << 20);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).unwrap();
    let gz = gz.finish().unwrap();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&json).unwrap();
    let z = z.finish().unwrap();
    let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
    lz.write_all(&json).unwrap();
    let lz = lz.finish().unwrap();
    let sn = snap::raw::Encoder::new().compress_vec(&json).unwrap();
    let default = memscope::decode::budget_for(256 * 1024);
    let whole = 4 << 20;
    println!("1 MiB of JSON messages ({} bytes):", json.len());
    for (name, b) in [("gzip", &gz), ("zlib", &z), ("lz4 frame", &lz), ("snappy raw", &sn)] {
        time(name, b, default);
        time(name, b, whole);
    }
    time("JSON itself", &json, default);
    // A value that is 1 MiB compressed (12 MiB of JSON): the default budget decompresses its
    // first 1 MiB and says so; 16 MiB reads it whole.
    let big = json_of(12 << 20);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&big).unwrap();
    let gz = gz.finish().unwrap();
    println!("{} of JSON, gzip:", memscope::text::human_bytes(big.len() as u64));
    time("gzip", &gz, default);
    time("gzip", &gz, 16 << 20);
}
