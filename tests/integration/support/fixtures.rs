//! The fixtures scripts/record-layout-fixtures recorded from the real frameworks
//! (tests/fixtures/layouts/*.json), loaded into the tests' private servers: Redis keys element
//! for element, the search indexes over them as FT.INFO described them, Firestore documents.

use base64::Engine;
use memscope::domain::FsValue;
use memscope::store::LongTermStore;
use serde_json::Value;
use std::sync::Arc;

pub fn fixture(name: &str) -> serde_json::Value {
    let p = format!("{}/tests/fixtures/layouts/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

pub fn b64(s: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s.as_str().unwrap()).unwrap()
}

/// The recorded keys, element for element, in their stored order.
pub fn load_redis(r: &memscope::demo::PrivateRedis, name: &str) {
    let mut c = crate::support::client(r);
    for k in fixture(name)["redis"].as_array().unwrap() {
        let key = k["key"].as_str().unwrap();
        match k["type"].as_str().unwrap() {
            "list" => {
                for item in k["items"].as_array().unwrap() {
                    redis::cmd("RPUSH").arg(key).arg(b64(item)).exec(&mut c).unwrap();
                }
            }
            "ReJSON-RL" => redis::cmd("JSON.SET").arg(key).arg("$").arg(k["json"].to_string()).exec(&mut c).unwrap(),
            "hash" => {
                for (f, v) in k["fields"].as_object().unwrap() {
                    redis::cmd("HSET").arg(key).arg(f).arg(b64(v)).exec(&mut c).unwrap();
                }
            }
            "string" => redis::cmd("SET").arg(key).arg(b64(&k["value"])).exec(&mut c).unwrap(),
            "zset" => {
                for m in k["members"].as_array().unwrap() {
                    redis::cmd("ZADD")
                        .arg(key)
                        .arg(m[1].as_f64().unwrap())
                        .arg(m[0].as_str().unwrap())
                        .exec(&mut c)
                        .unwrap();
                }
            }
            other => panic!("fixture type {other}"),
        }
        if let Some(ttl) = k["ttl"].as_i64().filter(|t| *t > 0) {
            redis::cmd("EXPIRE").arg(key).arg(ttl).exec(&mut c).unwrap();
        }
    }
}

pub fn fs_value(v: &serde_json::Value) -> FsValue {
    let (kind, x) = v.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "bytes" => FsValue::Bytes(b64(x)),
        "string" => FsValue::String(x.as_str().unwrap().into()),
        "int" => FsValue::Int(x.as_i64().unwrap()),
        "bool" => FsValue::Bool(x.as_bool().unwrap()),
        "double" => FsValue::Double(x.as_f64().unwrap()),
        "null" => FsValue::Null,
        "array" => FsValue::Array(x.as_array().unwrap().iter().map(fs_value).collect()),
        "map" => FsValue::Map(x.as_object().unwrap().iter().map(|(k, v)| (k.clone(), fs_value(v))).collect()),
        "vector" => memscope::store::firestore::vectors::vector_value(
            &x.as_array().unwrap().iter().map(|f| f.as_f64().unwrap() as f32).collect::<Vec<_>>(),
        ),
        other => panic!("fixture value {other}"),
    }
}

pub async fn load_documents(s: &Arc<dyn LongTermStore>, name: &str) {
    for d in fixture(name)["firestore"].as_array().unwrap() {
        let fields = d["fields"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), fs_value(v))).collect();
        s.put(d["path"].as_str().unwrap(), fields).await.unwrap();
    }
}

/// A fixture's search indexes created again as FT.INFO described them when the library made
/// them (the server needs the search module), then its keys: the library's index over the
/// library's records.
pub fn load_with_indexes(v: &memscope::demo::PrivateRedis, name: &str) -> Value {
    let fx = fixture(name);
    let mut c = crate::support::client(v);
    for idx in fx["indexes"].as_array().unwrap() {
        let def: Vec<Value> = idx["definition"].as_array().unwrap().clone();
        let get = |k: &str| def.iter().position(|x| x == k).and_then(|i| def.get(i + 1)).cloned();
        let mut args: Vec<String> = vec!["FT.CREATE".into(), idx["name"].as_str().unwrap().into()];
        args.extend(["ON".into(), get("key_type").unwrap().as_str().unwrap().into()]);
        let prefixes: Vec<String> =
            get("prefixes").unwrap().as_array().unwrap().iter().map(|p| p.as_str().unwrap().into()).collect();
        args.extend(["PREFIX".into(), prefixes.len().to_string()]);
        args.extend(prefixes);
        args.push("SCHEMA".into());
        for a in idx["attributes"].as_array().unwrap() {
            let a: Vec<&str> = a.as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
            let at = |k: &str| a.iter().position(|x| x.eq_ignore_ascii_case(k)).map(|i| a[i + 1].to_string());
            let kind = at("type").unwrap();
            args.extend([at("identifier").unwrap(), "AS".into(), at("attribute").unwrap(), kind.clone()]);
            if kind == "VECTOR" {
                args.extend([at("algorithm").unwrap(), "6".into(), "TYPE".into(), at("data_type").unwrap()]);
                args.extend([
                    "DIM".into(),
                    at("dim").unwrap(),
                    "DISTANCE_METRIC".into(),
                    at("distance_metric").unwrap(),
                ]);
            }
            if kind == "TAG"
                && let Some(sep) = at("separator").filter(|s| !s.is_empty())
            {
                args.extend(["SEPARATOR".into(), sep]);
            }
        }
        redis::cmd(&args[0]).arg(&args[1..]).exec(&mut c).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    load_redis(v, name);
    fx
}
