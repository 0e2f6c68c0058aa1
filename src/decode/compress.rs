//! Decompression within a budget: gzip, zlib, Zstandard, LZ4 (frame, and a block with its size
//! prepended as python-lz4 writes one), Snappy (framed, and raw as python-snappy writes it). At
//! most `budget` bytes come out; a compressed value cut by the preview gives what its first
//! bytes hold (the streaming formats), said.

use super::Format;
use std::io::Read;

pub struct Inflated {
    pub bytes: Vec<u8>,
    /// More would have come out than the budget allows.
    pub over_budget: bool,
    /// The compressed bytes ended before their stream did (a value cut by the preview).
    pub input_cut: bool,
}

/// The compression these bytes start with, by its magic number.
pub fn magic(b: &[u8]) -> Option<Format> {
    match b {
        [0x1f, 0x8b, ..] => Some(Format::Gzip),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some(Format::Zstd),
        [0x04, 0x22, 0x4d, 0x18, ..] => Some(Format::Lz4),
        [0xff, 0x06, 0x00, 0x00, b's', b'N', b'a', b'P', b'p', b'Y', ..] => Some(Format::Snappy),
        [cmf, flg, ..] if cmf & 0x0f == 8 && cmf >> 4 <= 7 && ((*cmf as u16) << 8 | *flg as u16).is_multiple_of(31) => {
            Some(Format::Zlib)
        }
        _ => None,
    }
}

/// Read a decompressing stream to the budget; a stream that fails after giving bytes, on
/// input known to be cut, keeps what it gave.
fn drain(mut r: impl Read, budget: usize, complete: bool) -> Result<Inflated, String> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(Inflated { bytes: out, over_budget: false, input_cut: false }),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > budget {
                    out.truncate(budget);
                    return Ok(Inflated { bytes: out, over_budget: true, input_cut: false });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) if !complete && !out.is_empty() => {
                return Ok(Inflated { bytes: out, over_budget: false, input_cut: true });
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Decompress `b` as `f`, at most `budget` bytes out.
pub fn inflate(f: Format, b: &[u8], complete: bool, budget: usize) -> Result<Inflated, String> {
    let mut r = match f {
        Format::Gzip => drain(flate2::read::MultiGzDecoder::new(b), budget, complete),
        Format::Zlib => drain(flate2::read::ZlibDecoder::new(b), budget, complete),
        Format::Zstd => {
            let d = ruzstd::decoding::StreamingDecoder::new(b).map_err(|e| e.to_string())?;
            drain(d, budget, complete)
        }
        Format::Lz4 if b.starts_with(&[0x04, 0x22, 0x4d, 0x18]) => {
            drain(lz4_flex::frame::FrameDecoder::new(b), budget, complete)
        }
        // python-lz4's lz4.block.compress: the size, little-endian, then one block.
        Format::Lz4 => {
            let n =
                b.get(..4).map(|s| u32::from_le_bytes(s.try_into().unwrap_or_default()) as usize).ok_or("too short")?;
            if n > budget {
                return Err(format!("an LZ4 block of {n} bytes: over the decode budget of {budget}"));
            }
            lz4_flex::block::decompress_size_prepended(b)
                .map(|bytes| Inflated { bytes, over_budget: false, input_cut: false })
                .map_err(|e| e.to_string())
        }
        Format::Snappy if b.starts_with(b"\xff\x06\x00\x00sNaPpY") => {
            drain(snap::read::FrameDecoder::new(b), budget, complete)
        }
        Format::Snappy => {
            let n = snap::raw::decompress_len(b).map_err(|e| e.to_string())?;
            if n > budget {
                return Err(format!("raw Snappy of {n} bytes: over the decode budget of {budget}"));
            }
            snap::raw::Decoder::new()
                .decompress_vec(b)
                .map(|bytes| Inflated { bytes, over_budget: false, input_cut: false })
                .map_err(|e| e.to_string())
        }
        other => Err(format!("{} is no compression", other.name())),
    };
    // A stream that yields nothing is no stream of that format.
    if let Ok(i) = &mut r
        && i.bytes.is_empty()
        && !b.is_empty()
        && magic(b) != Some(f)
    {
        return Err("nothing came out".into());
    }
    r
}
