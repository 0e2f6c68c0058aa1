//! Redis replies as domain values: bytes, integers, pairs, key metadata, the memory layer's replies.

use super::*;

pub(super) fn bytes_of(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.as_bytes().to_vec(),
        Value::VerbatimString { text, .. } => text.as_bytes().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Double(d) => d.to_string().into_bytes(),
        Value::Okay => b"OK".to_vec(),
        Value::Nil => Vec::new(),
        other => format!("{other:?}").into_bytes(),
    }
}

pub(super) fn blob(v: &Value) -> Blob {
    let bytes = bytes_of(v);
    Blob { total_len: bytes.len() as u64, bytes }
}

pub(super) fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::SimpleString(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        Value::Nil => Vec::new(),
        other => vec![other],
    }
}

pub(super) fn pairs(v: Value) -> Vec<(Blob, Blob)> {
    let flat = items(v);
    flat.chunks(2).filter(|c| c.len() == 2).map(|c| (blob(&c[0]), blob(&c[1]))).collect()
}

pub(super) fn server_err(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(format!("{e:?}")),
        _ => None,
    }
}

pub(super) fn parse_meta(t: &Value, ttl: &Value, mem: &Value) -> KeyMeta {
    let ktype = match t {
        Value::SimpleString(s) => KeyType::parse(s),
        Value::BulkString(b) => KeyType::parse(&String::from_utf8_lossy(b)),
        _ => None,
    };
    let ttl = if ktype.is_none() { Ttl::Gone } else { int_of(ttl).map(Ttl::from_pttl).unwrap_or(Ttl::Persistent) };
    KeyMeta { ktype, ttl, memory: int_of(mem).and_then(|m| u64::try_from(m).ok()) }
}

pub(super) fn cache_reply(op: &crate::domain::CacheOp, v: Value) -> Result<crate::domain::CacheReply, StoreError> {
    use crate::domain::{CacheOp as O, CacheReply as R};
    if let Some(e) = server_err(&v) {
        return Err(StoreError::Server(e));
    }
    Ok(match op {
        O::MergeRecent { .. } | O::Incr { .. } | O::PTtl(_) | O::LLen(_) | O::HLen(_) => {
            R::Int(int_of(&v).unwrap_or(0))
        }
        O::Get(_) | O::JsonGet { .. } => R::Value((!matches!(v, Value::Nil)).then(|| bytes_of(&v))),
        // A `$` path answers one length per match (nil where the match is not an array).
        O::JsonArrLen { .. } => R::Int(match v {
            Value::Array(a) => a.first().and_then(int_of).unwrap_or(0),
            other => int_of(&other).unwrap_or(0),
        }),
        O::LRange { .. } => R::Items(items(v).iter().map(bytes_of).collect()),
        O::HGetAll(_) => R::Pairs(pairs(v).into_iter().map(|(a, b)| (a.bytes, b.bytes)).collect()),
        O::HMGet { fields, .. } => R::Pairs(
            fields
                .iter()
                .zip(items(v))
                .filter(|(_, v)| !matches!(v, Value::Nil))
                .map(|(f, v)| (f.clone().into_bytes(), bytes_of(&v)))
                .collect(),
        ),
        O::ReplaceList { .. } | O::HSet { .. } | O::SetEx { .. } | O::Del(_) => R::Done,
    })
}

pub(super) fn score(v: &Value) -> f64 {
    match v {
        Value::Double(d) => *d,
        other => String::from_utf8_lossy(&bytes_of(other)).parse().unwrap_or(f64::NAN),
    }
}
