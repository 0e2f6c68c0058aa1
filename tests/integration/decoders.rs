//! The value decoders on bytes the real producers wrote (tests/fixtures/decoders/manifest.json,
//! recorded by scripts/record-decoder-fixtures: Python's pickle 0–5, msgpack, zlib, gzip, LZ4,
//! Zstandard, Snappy, base64, numpy, protobuf), each checked against what Python says it holds;
//! then the same bytes in a private redis-server read by `memscope value` — strings, hash fields,
//! list elements and stream entries — and by the Keys tab's lines.

use base64::Engine;
use memscope::decode::{Shape, decode};
use serde_json::Value;

const BUDGET: usize = 1 << 20;

fn manifest() -> Vec<Value> {
    let p = format!("{}/tests/fixtures/decoders/manifest.json", env!("CARGO_MANIFEST_DIR"));
    let m: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    m["cases"].as_array().unwrap().clone()
}

fn bytes_of(c: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(c["bytes_b64"].as_str().unwrap()).unwrap()
}

#[test]
fn every_recorded_value_decodes_to_what_its_producer_wrote() {
    let cases = manifest();
    assert!(cases.len() >= 25, "{}", cases.len());
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let d = decode(&bytes_of(c), true, None, BUDGET);
        let chain: Vec<&str> = d.chain.iter().map(|f| f.name()).collect();
        let want: Vec<&str> = c["chain"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
        assert_eq!(chain, want, "{name} ({}): {:?}", c["producer"], d.notes);
        match (&d.shape, &c["expect"]) {
            (_, Value::Null) => {}
            (Shape::Vector(v, _), e) => {
                assert_eq!(v.len() as u64, e["dimension"].as_u64().unwrap(), "{name}");
                for (got, want) in v.iter().zip(e["first"].as_array().unwrap()) {
                    assert!((*got as f64 - want.as_f64().unwrap()).abs() < 1e-5, "{name}: {got} vs {want}");
                }
            }
            (Shape::Tree(t), e) => assert_eq!(t, e, "{name}"),
            (other, _) => panic!("{name}: {other:?}"),
        }
        let text = d.to_json().to_string();
        for s in c["contains"].as_array().unwrap() {
            assert!(text.contains(s.as_str().unwrap()), "{name}: {s} not in {text}");
        }
        // Shown on a terminal: no escape byte survives.
        assert!(d.lines().iter().all(|l| !l.contains('\x1b')), "{name}");
    }
}

/// The recorded bytes under keys of every type; `memscope value` decodes each (JSON and text),
/// a format asked for applies to all, a cut string says so and exits 1.
#[test]
fn memscope_value_decodes_strings_fields_elements_and_entries() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let cases = manifest();
    let get = |n: &str| bytes_of(cases.iter().find(|c| c["name"] == n).unwrap());
    redis::cmd("SET").arg("cache:answer").arg(get("zlib-json")).exec(&mut c).unwrap();
    redis::cmd("SET").arg("obj:memory").arg(get("pickle-class")).exec(&mut c).unwrap();
    redis::cmd("HSET")
        .arg("doc:1")
        .arg("content")
        .arg("plain text")
        .arg("payload")
        .arg(get("msgpack"))
        .arg("embedding")
        .arg(get("numpy-f32"))
        .exec(&mut c)
        .unwrap();
    redis::cmd("RPUSH").arg("queue").arg(get("gzip-json")).arg(get("snappy-json")).exec(&mut c).unwrap();
    redis::cmd("XADD").arg("events").arg("*").arg("msg").arg(get("pickle-p5-dict")).exec(&mut c).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = r.url();
    let run = |args: &[&str]| {
        let mut a = vec!["--redis-url", url.as_str(), "value"];
        a.extend_from_slice(args);
        crate::support::memscope(dir.path(), &a)
    };
    let json = |args: &[&str]| -> Value {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = json(&["cache:answer", "--json"]);
    assert_eq!((v["type"].as_str(), v["value"]["format"].as_str()), (Some("string"), Some("zlib → JSON")), "{v}");
    assert_eq!(v["value"]["value"]["role"], "assistant");
    let v = json(&["obj:memory", "--json"]);
    assert_eq!(v["value"]["value"]["__class__"], "__main__.Memory", "{v}");
    let v = json(&["doc:1", "--json"]);
    let field = |f: &str| v["elements"].as_array().unwrap().iter().find(|e| e["field"] == f).unwrap()["value"].clone();
    assert_eq!(field("payload")["format"], "msgpack");
    assert_eq!(field("embedding")["value"]["dimension"], 384);
    assert_eq!(field("content")["format"], "text");
    let v = json(&["queue", "--json"]);
    let formats: Vec<&str> =
        v["elements"].as_array().unwrap().iter().map(|e| e["value"]["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["gzip → JSON", "snappy → JSON"]);
    let v = json(&["events", "--json"]);
    assert_eq!(v["elements"][0]["fields"][0]["value"]["format"], "pickle", "{v}");
    // Text: the Keys tab's lines, formats named.
    let o = run(&["doc:1"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("payload") && text.contains("‹msgpack›") && text.contains("384 × f32"), "{text}");
    // --format applies to every value; a value that is not that format says so.
    let v = json(&["queue", "--json", "--format", "hex"]);
    assert!(v["elements"][0]["value"]["value"].as_str().unwrap().starts_with("0x1f8b"), "{v}");
    let v = json(&["cache:answer", "--json", "--format", "pickle"]);
    assert!(v["value"]["notes"][0].as_str().unwrap().starts_with("not a pickle"), "{v}");
    let o = run(&["nope"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    // A compressed string larger than the preview: decompressed from its first bytes, said,
    // exit 1 (some of it left out).
    let big: String = (0..40_000).map(|i| format!("{{\"turn\":{i},\"text\":\"hello there number {i}\"}},")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, big.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    redis::cmd("SET").arg("big").arg(&gz).exec(&mut c).unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[profile.p.redis]\nurl = \"{url}\"\npreview_bytes = 4096\n")).unwrap();
    let o = crate::support::memscope(dir.path(), &["--config", cfg.to_str().unwrap(), "value", "big", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["complete"], false);
    assert!(v["why"].as_str().unwrap().contains("were read and decoded"), "{v}");
    assert!(v["value"]["format"].as_str().unwrap().starts_with("gzip"), "{v}");
    assert!(v["value"]["notes"][0].as_str().unwrap().contains("cut by the preview"), "{v}");
}

/// The Keys tab on a zlib-compressed JSON value: the backend decodes it (the lines arrive
/// drawn); `F` asks the backend for the page in the next format (hex here, one press after
/// the others), and back to auto at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_tab_gets_values_decoded_and_f_asks_for_another_format() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let case = manifest().into_iter().find(|c| c["name"] == "zlib-json").unwrap();
    redis::cmd("SET").arg("cache:answer").arg(bytes_of(&case)).exec(&mut c).unwrap();
    let mut h = crate::support::Harness::new(memscope::config::Config::with_redis(&r.url()));
    h.keys("2");
    h.keys(":flat");
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the key listed", |a| a.keys.index.len() == 1).await;
    h.key(crossterm::event::KeyCode::Enter);
    h.until(10, "the value drawn by the backend", |a| {
        a.keys.value.as_ref().is_some_and(|v| v.lines.iter().any(|(_, l)| l.starts_with("zlib → JSON")))
    })
    .await;
    let formats = h.app.keys.value.as_ref().unwrap().page.as_ref().unwrap().formats.clone();
    assert_eq!(formats.first().map(String::as_str), Some("zlib"), "{formats:?}");
    let mut labels = Vec::new();
    for _ in 0..formats.len() {
        h.keys("F");
        let want = h.app.keys.value.as_ref().unwrap().format;
        h.until(10, "the page in the format asked for", |a| {
            a.keys.value.as_ref().is_some_and(|v| !v.req.waiting() && v.format == want)
        })
        .await;
        labels.push(h.app.keys.value.as_ref().unwrap().lines.first().map(|(_, l)| l.clone()).unwrap_or_default());
        if want.is_none() {
            break;
        }
    }
    assert!(labels.iter().any(|l| l.starts_with("hex")), "{labels:?}");
    assert!(labels.last().unwrap().starts_with("zlib → JSON"), "auto again: {labels:?}");
}
