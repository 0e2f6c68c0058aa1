//! The decoders on bytes made here (compressions by their own crates' encoders, hand-made
//! pickles and protobuf); the real producers' bytes (Python's pickle, msgpack, zlib, numpy,
//! lz4, zstandard, snappy, protobuf) are tested in tests/integration/decoders.rs.

use super::*;
use std::io::Write;

const BUDGET: usize = 1 << 20;

fn auto(b: &[u8]) -> Decoded {
    decode(b, true, None, BUDGET)
}

#[test]
fn compressed_json_is_decompressed_then_decoded() {
    let json = br#"{"role":"user","content":"refund order 1182"}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json).unwrap();
    let gz = gz.finish().unwrap();
    let d = auto(&gz);
    assert_eq!(d.label(), "gzip → JSON");
    assert!(matches!(&d.shape, Shape::Tree(v) if v["content"] == "refund order 1182"));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json).unwrap();
    assert_eq!(auto(&z.finish().unwrap()).label(), "zlib → JSON");
    assert_eq!(auto(&lz4_flex::frame::FrameEncoder::new(Vec::new()).tap(json)).label(), "lz4 → JSON");
    assert_eq!(auto(&lz4_flex::block::compress_prepend_size(json)).label(), "lz4 → JSON");
    assert_eq!(auto(&snap::raw::Encoder::new().compress_vec(json).unwrap()).label(), "snappy → JSON");
    // base64 of gzip of JSON: three layers.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
    assert_eq!(auto(b64.as_bytes()).label(), "base64 → gzip → JSON");
}

trait Tap {
    fn tap(self, b: &[u8]) -> Vec<u8>;
}
impl Tap for lz4_flex::frame::FrameEncoder<Vec<u8>> {
    fn tap(mut self, b: &[u8]) -> Vec<u8> {
        self.write_all(b).unwrap();
        self.finish().unwrap()
    }
}

#[test]
fn a_value_cut_by_the_preview_is_decoded_as_far_as_it_goes_and_says_so() {
    let big: String = (0..20_000).map(|i| format!("{{\"n\":{i}}},")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(big.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let d = decode(&gz[..gz.len() / 2], false, None, BUDGET);
    assert_eq!(d.chain[0], Format::Gzip, "{d:?}");
    assert!(d.notes.iter().any(|n| n.contains("cut by the preview")), "{:?}", d.notes);
    // Over the budget: the first bytes, said.
    let d = decode(&gz, true, None, 1000);
    assert!(d.notes.iter().any(|n| n.contains("decode budget")), "{:?}", d.notes);
    // JSON cut: text, said.
    let d = decode(br#"{"a": [1, 2"#, false, None, BUDGET);
    assert_eq!(d.chain, [Format::Text]);
    assert!(d.notes[0].contains("cut short"), "{:?}", d.notes);
}

#[test]
fn a_pickle_is_read_without_running_it() {
    // pickle.dumps({"a": [1, (2, b"x")], "b": None}, protocol=2) (bytes as Python wrote them),
    // and an object: copyreg reconstruct of a class named os.system with state — shown by name.
    let p2 = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00xq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x86q\x08eX\x01\x00\x00\x00bq\tNu.";
    let d = auto(p2);
    assert_eq!(d.label(), "pickle");
    let Shape::Tree(v) = &d.shape else { panic!("{d:?}") };
    assert_eq!(v["b"], Value::Null);
    assert_eq!(v["a"][0], 1);
    assert_eq!(v["a"][1][1]["__class__"], "_codecs.encode", "a call is recorded, never made: {v}");
    let evil = b"cos\nsystem\n(S'echo pwned'\ntR.";
    let Shape::Tree(v) = auto(evil).shape else { panic!() };
    assert_eq!(v["__class__"], "os.system");
    assert_eq!(v["args"][0], "echo pwned");
    // Not a pickle: said when asked for.
    let d = decode(b"hello.", true, Some(Format::Pickle), BUDGET);
    assert!(d.notes[0].starts_with("not a pickle"), "{:?}", d.notes);
}

#[test]
fn vectors_protobuf_and_text_by_their_shape() {
    let v: Vec<u8> = (0..32).flat_map(|i| ((i as f32 - 16.0) / 40.0).to_le_bytes()).collect();
    let d = auto(&v);
    assert_eq!(d.label(), "f32 vector");
    assert!(d.lines()[0].starts_with("32 × f32 · ‖v‖"), "{:?}", d.lines());
    let d = auto(b"plain words, nothing more");
    assert_eq!((d.label().as_str(), d.decoded()), ("text", false));
    let d = auto(&[0x08, 0x96, 0x01, 0x12, 0x02, 0xff, 0xfe]);
    assert_eq!(d.label(), "protobuf (no schema)");
    let d = auto(&[0x00, 0x01, 0x02, 0xff, 0xfe, 0x03]);
    assert_eq!(d.label(), "hex");
    // Control characters in a decoded string never reach the terminal raw.
    let d = auto(br#"{"t":"\u001b[31mred"}"#);
    assert!(d.lines().iter().all(|l| !l.contains('\x1b')), "{:?}", d.lines());
    assert!(!d.one_line(200).contains('\x1b'));
}

#[test]
fn the_cycle_offers_what_the_bytes_can_be() {
    let json = br#"{"a":1}"#;
    let f = formats(json, true, BUDGET);
    assert_eq!(f[0], Format::Json);
    assert!(f.contains(&Format::Text) && f.contains(&Format::Hex) && !f.contains(&Format::Gzip), "{f:?}");
    assert_eq!(decode(json, true, Some(Format::Hex), BUDGET).label(), "hex");
    assert_eq!(Format::parse("gzip"), Some(Format::Gzip));
    assert_eq!(Format::parse("protobuf"), Some(Format::Protobuf));
}
