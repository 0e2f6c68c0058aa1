//! msgpack as LangGraph writes it (its `JsonPlusSerializer`, base64-encoded by the Firestore
//! checkpointer), read into JSON for display: maps, arrays and scalars as they are, bytes as
//! hex, and LangGraph's extension types unwrapped — a pydantic model or a constructor call
//! becomes its fields or arguments, so a LangChain message reads like its JSON form.

use base64::Engine;
use serde_json::Value;

/// LangGraph's extension codes (`langgraph/checkpoint/serde/jsonplus.py`).
const EXT_CONSTRUCTOR_SINGLE_ARG: i8 = 0;
const EXT_CONSTRUCTOR_POS_ARGS: i8 = 1;
const EXT_CONSTRUCTOR_KW_ARGS: i8 = 2;
const EXT_METHOD_SINGLE_ARG: i8 = 3;
const EXT_PYDANTIC_V1: i8 = 4;
const EXT_PYDANTIC_V2: i8 = 5;
const EXT_NUMPY_ARRAY: i8 = 6;

/// Decode base64 text holding msgpack; `None` when it is neither.
pub fn from_base64(text: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    decode(&bytes)
}

/// Decode msgpack bytes (one value, nothing after it); `None` when they are not msgpack.
pub fn decode(bytes: &[u8]) -> Option<Value> {
    let mut rest = bytes;
    let v = rmpv::decode::read_value(&mut rest).ok()?;
    rest.is_empty().then(|| to_json(v))
}

fn to_json(v: rmpv::Value) -> Value {
    use rmpv::Value as M;
    match v {
        M::Nil => Value::Null,
        M::Boolean(b) => Value::Bool(b),
        M::Integer(i) => i
            .as_i64()
            .map(Value::from)
            .or_else(|| i.as_u64().map(Value::from))
            .unwrap_or_else(|| Value::String(i.to_string())),
        M::F32(f) => serde_json::Number::from_f64(f as f64).map(Value::Number).unwrap_or(Value::String(f.to_string())),
        M::F64(f) => serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::String(f.to_string())),
        M::String(s) => match s.into_str() {
            Some(s) => Value::String(s),
            None => Value::String("<invalid UTF-8 string>".into()),
        },
        M::Binary(b) => Value::String(b.iter().map(|x| format!("{x:02x}")).collect()),
        M::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        M::Map(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let k = match to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, to_json(v))
                })
                .collect(),
        ),
        M::Ext(code, data) => ext(code, &data),
    }
}

/// An extension value: `[module, class, payload, method?]` unwrapped to the payload.
fn ext(code: i8, data: &[u8]) -> Value {
    let inner = decode(data);
    let parts = inner.as_ref().and_then(Value::as_array);
    let payload = parts.and_then(|p| p.get(2)).cloned();
    match (code, payload) {
        (EXT_CONSTRUCTOR_SINGLE_ARG | EXT_METHOD_SINGLE_ARG, Some(arg)) => arg,
        (EXT_CONSTRUCTOR_POS_ARGS, Some(args)) => args,
        (EXT_CONSTRUCTOR_KW_ARGS | EXT_PYDANTIC_V1 | EXT_PYDANTIC_V2, Some(fields)) => fields,
        (EXT_NUMPY_ARRAY, _) => Value::String("<numpy array>".into()),
        _ => Value::String(format!("<msgpack extension {code}, {} bytes>", data.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext_bytes(code: i8, inner: rmpv::Value) -> Vec<u8> {
        let mut payload = Vec::new();
        rmpv::encode::write_value(&mut payload, &inner).unwrap();
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &rmpv::Value::Ext(code, payload)).unwrap();
        out
    }

    #[test]
    fn langgraph_pydantic_messages_read_as_their_fields() {
        use rmpv::Value as M;
        let msg = M::Array(vec![
            "langchain_core.messages.human".into(),
            "HumanMessage".into(),
            M::Map(vec![("content".into(), "hi".into()), ("type".into(), "human".into())]),
            "model_validate_json".into(),
        ]);
        let v = decode(&ext_bytes(EXT_PYDANTIC_V2, msg)).unwrap();
        assert_eq!(v, serde_json::json!({"content": "hi", "type": "human"}));
        let uuid = M::Array(vec!["uuid".into(), "UUID".into(), "0f".into()]);
        assert_eq!(decode(&ext_bytes(EXT_CONSTRUCTOR_SINGLE_ARG, uuid)).unwrap(), Value::String("0f".into()));
        assert!(decode(&ext_bytes(42, M::Nil)).unwrap().as_str().unwrap().contains("extension 42"));
        assert_eq!(decode(b"\x92\x01"), None, "an array of two with one element: cut short");
        assert_eq!(decode(b"\x01\x02"), None, "trailing bytes: not one value");
        assert_eq!(from_base64("not base64!"), None);
    }
}
