//! Protocol Buffers' wire format read without a schema: each field by its number and wire type
//! (`"1:varint": 150`, `"2:string": "text"`, `"3:message": {…}`, `"4:bytes": "0x…"`,
//! `"5:fixed64"`, `"6:fixed32"`), a repeated field as an array. A length-delimited field is
//! read as a message when its bytes parse as one, else as text when they are UTF-8, else as
//! bytes. Groups (wire types 3 and 4, deprecated) are refused: bytes holding them are said not
//! to be protobuf.

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 32;

enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

fn varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let x = *b.get(*at)?;
        *at += 1;
        v |= ((x & 0x7f) as u64).checked_shl(shift)?;
        if x & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The fields of one message, every byte consumed; `None` when the bytes are not one.
fn fields(b: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < b.len() {
        let tag = varint(b, &mut at)?;
        let (num, wt) = (tag >> 3, tag & 7);
        if num == 0 || num > 536_870_911 {
            return None;
        }
        let w = match wt {
            0 => Wire::Varint(varint(b, &mut at)?),
            1 => {
                let s = b.get(at..at + 8)?;
                at += 8;
                Wire::Fixed64(u64::from_le_bytes(s.try_into().ok()?))
            }
            2 => {
                let n = varint(b, &mut at)? as usize;
                let s = b.get(at..at.checked_add(n)?)?;
                at += n;
                Wire::Len(s)
            }
            5 => {
                let s = b.get(at..at + 4)?;
                at += 4;
                Wire::Fixed32(u32::from_le_bytes(s.try_into().ok()?))
            }
            _ => return None,
        };
        out.push((num, w));
    }
    Some(out)
}

/// Whether the bytes parse whole as a message with at least one field.
pub fn looks_like(b: &[u8]) -> bool {
    fields(b).is_some_and(|f| !f.is_empty())
}

/// The message as a tree, or `None` when the bytes are not one.
pub fn decode(b: &[u8]) -> Option<Value> {
    message(b, 0)
}

fn message(b: &[u8], depth: usize) -> Option<Value> {
    let fs = fields(b)?;
    if fs.is_empty() {
        return None;
    }
    // Field keys in the order first seen; a repeated field's values together.
    let mut seen: Vec<(String, Vec<Value>)> = Vec::new();
    for (num, w) in fs {
        let (kind, v) = match w {
            Wire::Varint(x) => ("varint", Value::from(x)),
            Wire::Fixed64(x) => ("fixed64", Value::from(x)),
            Wire::Fixed32(x) => ("fixed32", Value::from(x)),
            Wire::Len(s) => match (depth < MAX_DEPTH).then(|| message(s, depth + 1)).flatten() {
                // Printable text parses as a message now and then: text wins when it is text.
                Some(inner) if std::str::from_utf8(s).map_or(true, |t| t.chars().any(|c| c.is_control())) => {
                    ("message", inner)
                }
                _ => match std::str::from_utf8(s) {
                    Ok(t) => ("string", Value::String(t.to_string())),
                    Err(_) => (
                        "bytes",
                        Value::String(format!("0x{}", s.iter().map(|x| format!("{x:02x}")).collect::<String>())),
                    ),
                },
            },
        };
        let key = format!("{num}:{kind}");
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, vs)) => vs.push(v),
            None => seen.push((key, vec![v])),
        }
    }
    let m: Map<String, Value> =
        seen.into_iter().map(|(k, mut vs)| (k, if vs.len() == 1 { vs.remove(0) } else { Value::Array(vs) })).collect();
    Some(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_by_number_and_type() {
        // The documentation's example (field 1 = 150), a string, a nested message, repeats.
        let mut b = vec![0x08, 0x96, 0x01];
        b.extend([0x12, 0x07]);
        b.extend(b"testing");
        b.extend([0x1a, 0x03, 0x08, 0x96, 0x01]);
        b.extend([0x20, 0x01, 0x20, 0x02, 0x20, 0x03]);
        let v = decode(&b).unwrap();
        assert_eq!(v["1:varint"], 150);
        assert_eq!(v["2:string"], "testing");
        assert_eq!(v["3:message"]["1:varint"], 150);
        assert_eq!(v["4:varint"], serde_json::json!([1, 2, 3]));
        assert!(decode(b"hello world").is_none() || !looks_like(b"\x00\x01"));
        assert!(!looks_like(&[0x0b, 0x01]), "groups are refused");
    }
}
