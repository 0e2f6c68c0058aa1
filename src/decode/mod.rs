//! What is in the bytes agents store: a value read as the format it holds — JSON, msgpack, a
//! Python pickle (read without executing anything), gzip / zlib / Zstandard / LZ4 / Snappy
//! (decompressed within a budget, then decoded again), base64 holding one of these, a float32
//! or float64 vector, protobuf's wire format — named, with the chain that led there
//! (`gzip → JSON`). Automatic, and any format can be asked for (the Keys tab's `F` cycles
//! them). A value cut by the preview is decoded as far as its bytes allow and says so.

mod compress;
pub mod page;
pub mod pickle;
pub mod protobuf;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Msgpack,
    Pickle,
    Gzip,
    Zlib,
    Zstd,
    Lz4,
    Snappy,
    Base64,
    F32Vector,
    F64Vector,
    Protobuf,
    Text,
    Hex,
}

impl Format {
    /// Every format, in the order `F` offers them.
    pub const ALL: [Format; 14] = [
        Format::Json,
        Format::Msgpack,
        Format::Pickle,
        Format::Gzip,
        Format::Zlib,
        Format::Zstd,
        Format::Lz4,
        Format::Snappy,
        Format::Base64,
        Format::F32Vector,
        Format::F64Vector,
        Format::Protobuf,
        Format::Text,
        Format::Hex,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Msgpack => "msgpack",
            Format::Pickle => "pickle",
            Format::Gzip => "gzip",
            Format::Zlib => "zlib",
            Format::Zstd => "zstd",
            Format::Lz4 => "lz4",
            Format::Snappy => "snappy",
            Format::Base64 => "base64",
            Format::F32Vector => "f32 vector",
            Format::F64Vector => "f64 vector",
            Format::Protobuf => "protobuf (no schema)",
            Format::Text => "text",
            Format::Hex => "hex",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        let s = s.to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.name().to_ascii_lowercase().split(' ').next() == Some(s.as_str())).or(
            match s.as_str() {
                "f32" | "vector" => Some(Format::F32Vector),
                "f64" => Some(Format::F64Vector),
                _ => None,
            },
        )
    }

    fn compression(self) -> bool {
        matches!(self, Format::Gzip | Format::Zlib | Format::Zstd | Format::Lz4 | Format::Snappy)
    }
}

/// What the bytes became.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A tree: JSON, msgpack, a pickle (classes as `{"__class__": …}`), protobuf fields.
    Tree(Value),
    /// Text as stored (made safe only when shown).
    Text(String),
    Vector(Vec<f32>, &'static str),
    /// Bytes no decoder took.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// How the bytes were read, outermost first: `[Gzip, Json]`.
    pub chain: Vec<Format>,
    pub shape: Shape,
    /// What the reader must know: cut by the preview, over the decode budget, a format asked
    /// for that the bytes are not.
    pub notes: Vec<String>,
}

/// Layers a value may be wrapped in (base64 of gzip of …), at most.
const MAX_LAYERS: usize = 4;

impl Decoded {
    /// `gzip → JSON`.
    pub fn label(&self) -> String {
        self.chain.iter().map(|f| f.name()).collect::<Vec<_>>().join(" → ")
    }

    /// Whether a decoder did more than show text or bytes.
    pub fn decoded(&self) -> bool {
        !matches!(self.shape, Shape::Text(_) | Shape::Bytes(_)) || self.chain.len() > 1
    }

    /// The value as lines for the terminal (made safe): a tree pretty-printed, text as it is,
    /// a vector's shape and values, bytes as a hex dump.
    pub fn lines(&self) -> Vec<String> {
        match &self.shape {
            Shape::Tree(v) => {
                let pretty = serde_json::to_string_pretty(v).unwrap_or_default();
                crate::text::sanitize_multiline(crate::text::json_safe(pretty).as_bytes())
                    .split('\n')
                    .map(str::to_string)
                    .collect()
            }
            Shape::Text(t) => crate::text::sanitize_multiline(t.as_bytes()).split('\n').map(str::to_string).collect(),
            Shape::Vector(v, t) => {
                let mut out = vec![crate::text::vector_summary(v, t)];
                for c in v.chunks(8) {
                    out.push(c.iter().map(|x| format!("{x:>9.5}")).collect::<Vec<_>>().join(" "));
                }
                out
            }
            Shape::Bytes(b) => crate::text::hex_dump(b, 0),
        }
    }

    /// One line (a hash field, a list element): compact, made safe, at most `max` columns.
    pub fn one_line(&self, max: usize) -> String {
        let body = match &self.shape {
            Shape::Tree(v) => crate::text::sanitize_line(crate::text::json_safe(v.to_string()).as_bytes()),
            Shape::Text(t) => crate::text::sanitize_line(t.as_bytes()),
            Shape::Vector(v, t) => crate::text::vector_summary(v, t),
            Shape::Bytes(b) => format!("0x{}", b.iter().take(64).map(|x| format!("{x:02x}")).collect::<String>()),
        };
        let tag = if self.decoded() { format!("‹{}› ", self.label()) } else { String::new() };
        crate::text::truncate(&format!("{tag}{body}"), max)
    }

    /// For `memscope value --json`: the format, the value as data (a tree, text, a vector's
    /// floats, bytes as hex) and the notes.
    pub fn to_json(&self) -> Value {
        let value = match &self.shape {
            Shape::Tree(v) => v.clone(),
            Shape::Text(t) => Value::String(t.clone()),
            Shape::Vector(v, t) => {
                let norm = v.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt();
                serde_json::json!({"dimension": v.len(), "type": t, "norm": norm, "values": v})
            }
            Shape::Bytes(b) => Value::String(format!("0x{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())),
        };
        serde_json::json!({
            "format": self.label(),
            "chain": self.chain.iter().map(|f| f.name()).collect::<Vec<_>>(),
            "value": value,
            "notes": self.notes,
        })
    }
}

fn text_or_bytes(b: &[u8]) -> Decoded {
    match std::str::from_utf8(b) {
        Ok(t) => Decoded { chain: vec![Format::Text], shape: Shape::Text(t.to_string()), notes: vec![] },
        // Mostly text with a few bad bytes (or a UTF-8 character cut by a window): text.
        Err(_) if crate::text::classify(b) != crate::text::BytesKind::Binary => Decoded {
            chain: vec![Format::Text],
            shape: Shape::Text(String::from_utf8_lossy(b).into_owned()),
            notes: vec!["not valid UTF-8: invalid bytes shown as \u{fffd}".into()],
        },
        Err(_) => Decoded { chain: vec![Format::Hex], shape: Shape::Bytes(b.to_vec()), notes: vec![] },
    }
}

fn floats64_plausible(b: &[u8]) -> bool {
    b.len() >= 128
        && b.len().is_multiple_of(8)
        && std::str::from_utf8(b).is_err()
        && b.chunks_exact(8).all(|c| {
            let f = f64::from_le_bytes(c.try_into().unwrap_or_default());
            f.is_finite() && f.abs() <= 1e3 && (f == 0.0 || f.abs() >= 1e-12)
        })
}

fn base64_text(b: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let t = std::str::from_utf8(b).ok()?.trim();
    if t.len() < 16 || !t.bytes().all(|c| c.is_ascii_alphanumeric() || b"+/=-_".contains(&c)) {
        return None;
    }
    let e = base64::engine::general_purpose::STANDARD;
    let u = base64::engine::general_purpose::URL_SAFE;
    e.decode(t).or_else(|_| u.decode(t)).ok()
}

/// Read `b` as `f` (one layer); the inner bytes of a wrapping format are read automatically.
/// `Err` when the bytes are not `f`.
fn as_format(f: Format, b: &[u8], complete: bool, budget: usize, depth: usize) -> Result<Decoded, String> {
    let cut = || format!("the value was cut by the preview: not read as {}", f.name());
    let one = |shape| Ok(Decoded { chain: vec![f], shape, notes: vec![] });
    match f {
        Format::Json => {
            if !complete {
                return Err(cut());
            }
            serde_json::from_slice::<Value>(b).map(Shape::Tree).map_err(|e| format!("not JSON: {e}")).and_then(one)
        }
        Format::Msgpack => {
            if !complete {
                return Err(cut());
            }
            crate::msgpack::decode(b).map(Shape::Tree).ok_or_else(|| "not msgpack".to_string()).and_then(one)
        }
        Format::Pickle => {
            if !complete {
                return Err(cut());
            }
            pickle::decode(b).map(Shape::Tree).map_err(|e| format!("not a pickle: {e}")).and_then(one)
        }
        Format::Protobuf => {
            if !complete {
                return Err(cut());
            }
            protobuf::decode(b).map(Shape::Tree).ok_or_else(|| "not protobuf's wire format".to_string()).and_then(one)
        }
        Format::F32Vector | Format::F64Vector => {
            let (size, t) = if f == Format::F32Vector { (4, "f32") } else { (8, "f64") };
            if !complete {
                return Err(cut());
            }
            if b.len() < 4 * size || !b.len().is_multiple_of(size) {
                return Err(format!("{} bytes are no whole number of {t}", b.len()));
            }
            let v = crate::text::floats(b, if size == 8 { "FLOAT64" } else { "FLOAT32" }).unwrap_or_default();
            one(Shape::Vector(v, t))
        }
        Format::Text => one(Shape::Text(String::from_utf8_lossy(b).into_owned())),
        Format::Hex => one(Shape::Bytes(b.to_vec())),
        Format::Base64 => {
            if !complete {
                return Err(cut());
            }
            let inner = base64_text(b).ok_or("not base64")?;
            Ok(wrap(f, auto(&inner, true, budget, depth + 1)))
        }
        f if f.compression() => {
            let out = compress::inflate(f, b, complete, budget).map_err(|e| format!("not {}: {e}", f.name()))?;
            let mut notes = Vec::new();
            if out.input_cut {
                notes.push(format!(
                    "the compressed value was cut by the preview: {} decompressed from its first {}",
                    crate::text::human_bytes(out.bytes.len() as u64),
                    crate::text::human_bytes(b.len() as u64)
                ));
            }
            if out.over_budget {
                notes.push(format!(
                    "decompressed to the decode budget ({}); the rest is not read",
                    crate::text::human_bytes(budget as u64)
                ));
            }
            let mut d = wrap(f, auto(&out.bytes, !out.input_cut && !out.over_budget, budget, depth + 1));
            d.notes.splice(0..0, notes);
            Ok(d)
        }
        _ => Err(format!("{} is not read here", f.name())),
    }
}

fn wrap(f: Format, mut inner: Decoded) -> Decoded {
    inner.chain.insert(0, f);
    inner
}

/// The format the bytes hold, tried most telling first: a compression's magic number, a
/// pickle, JSON, base64 of something decodable, msgpack, a raw Snappy or LZ4 block holding
/// something decodable, a float vector, protobuf's wire format; else text, else bytes.
fn auto(b: &[u8], complete: bool, budget: usize, depth: usize) -> Decoded {
    let try_as = |f| as_format(f, b, complete, budget, depth).ok();
    if depth >= MAX_LAYERS {
        return text_or_bytes(b);
    }
    if let Some(d) = compress::magic(b).and_then(try_as) {
        return d;
    }
    if pickle::looks_like(b)
        && let Some(d) = try_as(Format::Pickle)
    {
        return d;
    }
    // Text: UTF-8 that is not mostly control bytes (protobuf's ASCII-only messages are).
    let text = std::str::from_utf8(b).is_ok() && crate::text::classify(b) != crate::text::BytesKind::Binary;
    if text {
        let t = b.trim_ascii_start();
        if matches!(t.first(), Some(b'{') | Some(b'['))
            && let Some(d) = try_as(Format::Json)
        {
            return d;
        }
        if let Some(d) = try_as(Format::Base64).filter(|d| d.chain.len() > 1 && d.chain[1] != Format::Text) {
            return d;
        }
        let mut d = text_or_bytes(b);
        if !complete && matches!(t.first(), Some(b'{') | Some(b'[')) {
            d.notes.push("JSON cut short (by the preview or the decode budget): shown as text".into());
        }
        return d;
    }
    if matches!(b.first(), Some(0x80..=0x8f | 0x90..=0x9f | 0xdc..=0xdf | 0xc7..=0xc9 | 0xd4..=0xd8))
        && let Some(d) = try_as(Format::Msgpack)
    {
        return d;
    }
    for f in [Format::Snappy, Format::Lz4] {
        if let Some(d) = try_as(f).filter(|d| d.chain.get(1).is_some_and(|x| *x != Format::Hex)) {
            return d;
        }
    }
    if complete && crate::text::looks_like_f32_vector(b) {
        return Decoded {
            chain: vec![Format::F32Vector],
            shape: Shape::Vector(crate::text::floats(b, "FLOAT32").unwrap_or_default(), "f32"),
            notes: vec![],
        };
    }
    if complete && floats64_plausible(b) {
        return Decoded {
            chain: vec![Format::F64Vector],
            shape: Shape::Vector(crate::text::floats(b, "FLOAT64").unwrap_or_default(), "f64"),
            notes: vec![],
        };
    }
    if complete
        && protobuf::looks_like(b)
        && let Some(d) = try_as(Format::Protobuf)
    {
        return d;
    }
    let mut d = text_or_bytes(b);
    if !complete {
        d.notes.push("cut short (by the preview or the decode budget): binary shown as bytes".into());
    }
    d
}

/// The budget decompression gets, from the preview's: four times it (1 MiB at the default
/// 256 KiB), so a compressed preview opens whole.
pub fn budget_for(preview_bytes: u64) -> usize {
    (preview_bytes.saturating_mul(4)).clamp(64 * 1024, 64 * 1024 * 1024) as usize
}

/// Read the bytes: automatically (`want = None`), or as the format asked for — when they are
/// not that format, automatically with a note saying so. `complete` is false for a value cut
/// by the preview.
pub fn decode(b: &[u8], complete: bool, want: Option<Format>, budget: usize) -> Decoded {
    match want {
        None => auto(b, complete, budget, 0),
        Some(f) => match as_format(f, b, complete, budget, 0) {
            Ok(d) => d,
            Err(why) => {
                let mut d = auto(b, complete, budget, 0);
                d.notes.insert(0, why);
                d
            }
        },
    }
}

/// Every format these bytes can be read as, the automatic choice first (what `F` cycles).
pub fn formats(b: &[u8], complete: bool, budget: usize) -> Vec<Format> {
    let first = auto(b, complete, budget, 0).chain[0];
    let mut out = vec![first];
    for f in Format::ALL {
        if f != first && as_format(f, b, complete, budget, 0).is_ok() {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests;
