//! A Pinecone stand-in on loopback that answers with the documented request/response shapes of
//! API 2025-10 (control plane describe_index, data plane stats, query, fetch, list, upsert,
//! delete). It keeps its records, scores them (cosine, exact) and evaluates filters with code of
//! its own (`fake_filter`), never with memscope's local index: the client is checked against an
//! independent implementation of the documented behaviour. It checks the headers.

use super::fake_filter;
use super::http::{Handler, Request, Response, Server};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub const API_KEY: &str = "test-key";
pub const INDEX: &str = "agent-memory";

/// namespace → id → (values, metadata).
type Records = Arc<Mutex<HashMap<String, BTreeMap<String, (Vec<f32>, Map<String, Value>)>>>>;

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        ab += (*x as f64) * (*y as f64);
        aa += (*x as f64) * (*x as f64);
        bb += (*y as f64) * (*y as f64);
    }
    if aa == 0.0 || bb == 0.0 { 0.0 } else { (ab / (aa.sqrt() * bb.sqrt())) as f32 }
}

fn floats(v: Option<&Value>) -> Option<Vec<f32>> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
}

fn bad_request(message: String) -> Response {
    Response::json(400, json!({"code": 3, "message": message, "details": []}))
}

pub async fn start(dimension: u32) -> (Server, Server) {
    let store: Records = Arc::default();
    let data_handler: Handler = {
        let store = store.clone();
        Arc::new(move |r: &Request| {
            if r.header("Api-Key") != Some(API_KEY) {
                return Response::json(401, json!({"code": 16, "message": "Invalid API Key", "details": []}));
            }
            if r.header("X-Pinecone-API-Version") != Some("2025-10") {
                return Response::json(
                    400,
                    json!({"code": 3, "message": "missing or wrong X-Pinecone-API-Version", "details": []}),
                );
            }
            let body = r.json();
            let ns = |v: &Value| v.get("namespace").and_then(Value::as_str).unwrap_or("").to_string();
            let mut db = store.lock().unwrap();
            match (r.method.as_str(), r.path()) {
                ("POST", "/describe_index_stats") => {
                    let nss: Map<String, Value> = db
                        .iter()
                        .filter(|(_, recs)| !recs.is_empty())
                        .map(|(k, recs)| (k.clone(), json!({"vectorCount": recs.len()})))
                        .collect();
                    let total: usize = db.values().map(BTreeMap::len).sum();
                    Response::json(
                        200,
                        json!({
                            "namespaces": nss, "dimension": dimension, "indexFullness": 0.0,
                            "totalVectorCount": total, "metric": "cosine", "vectorType": "dense"
                        }),
                    )
                }
                ("POST", "/query") => {
                    let n = ns(&body);
                    let recs = db.entry(n.clone()).or_default();
                    let top_k = body.get("topK").and_then(Value::as_u64).unwrap_or(10) as usize;
                    let q = match (floats(body.get("vector")), body.get("id").and_then(Value::as_str)) {
                        (Some(v), _) => v,
                        (None, Some(id)) => match recs.get(id) {
                            Some((v, _)) => v.clone(),
                            None => return Response::json(200, json!({"matches": [], "namespace": n})),
                        },
                        _ => return bad_request("either vector or id is required".into()),
                    };
                    if q.len() as u32 != dimension {
                        return bad_request(format!(
                            "Vector dimension {} does not match the dimension of the index {dimension}",
                            q.len()
                        ));
                    }
                    let filter = body.get("filter").cloned();
                    let mut scored = Vec::new();
                    for (id, (values, md)) in recs.iter() {
                        if let Some(f) = &filter {
                            match fake_filter::matches(f, md) {
                                Ok(true) => {}
                                Ok(false) => continue,
                                Err(e) => return bad_request(format!("Invalid filter: {e}")),
                            }
                        }
                        scored.push((cosine(&q, values), id, values, md));
                    }
                    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
                    let with_values = body.get("includeValues").and_then(Value::as_bool).unwrap_or(false);
                    let with_md = body.get("includeMetadata").and_then(Value::as_bool).unwrap_or(false);
                    let matches: Vec<Value> = scored
                        .into_iter()
                        .take(top_k)
                        .map(|(score, id, values, md)| {
                            let mut o = json!({"id": id, "score": score, "values": if with_values { values.clone() } else { vec![] }});
                            if with_md {
                                o["metadata"] = Value::Object(md.clone());
                            }
                            o
                        })
                        .collect();
                    Response::json(
                        200,
                        json!({"results": [], "matches": matches, "namespace": n, "usage": {"readUnits": 6}}),
                    )
                }
                ("GET", "/vectors/fetch") => {
                    let qp = r.query();
                    let ids: Vec<String> = qp.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect();
                    let n = qp.iter().find(|(k, _)| k == "namespace").map(|(_, v)| v.clone()).unwrap_or_default();
                    let recs = db.entry(n.clone()).or_default();
                    let m: Map<String, Value> = ids
                        .iter()
                        .filter_map(|id| {
                            recs.get(id).map(|(v, md)| (id.clone(), json!({"id": id, "values": v, "metadata": md})))
                        })
                        .collect();
                    Response::json(200, json!({"vectors": m, "namespace": n, "usage": {"readUnits": 1}}))
                }
                ("GET", "/vectors/list") => {
                    let qp = r.query();
                    let get = |k: &str| qp.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
                    let limit: usize = get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
                    let n = get("namespace").unwrap_or_default();
                    let prefix = get("prefix").unwrap_or_default();
                    // The token is opaque to clients; here it is the last id of the previous page.
                    let after = get("paginationToken");
                    let recs = db.entry(n.clone()).or_default();
                    let ids: Vec<&String> = recs
                        .keys()
                        .filter(|id| id.starts_with(&prefix) && after.as_ref().is_none_or(|a| *id > a))
                        .take(limit + 1)
                        .collect();
                    let more = ids.len() > limit;
                    let page: Vec<&String> = ids.into_iter().take(limit).collect();
                    let mut body = json!({"vectors": page.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(), "namespace": n, "usage": {"readUnits": 1}});
                    if more && let Some(last) = page.last() {
                        body["pagination"] = json!({"next": last});
                    }
                    Response::json(200, body)
                }
                ("POST", "/vectors/upsert") => {
                    let vs = body.get("vectors").and_then(Value::as_array).cloned().unwrap_or_default();
                    if vs.len() > 1000 {
                        return bad_request("too many vectors in one upsert".into());
                    }
                    let mut recs = Vec::new();
                    for v in &vs {
                        let values = floats(v.get("values")).unwrap_or_default();
                        if values.len() as u32 != dimension {
                            return bad_request(format!(
                                "Vector dimension {} does not match the dimension of the index {dimension}",
                                values.len()
                            ));
                        }
                        let id = v["id"].as_str().unwrap_or_default().to_string();
                        let md = v.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
                        recs.push((id, (values, md)));
                    }
                    let n = recs.len();
                    db.entry(ns(&body)).or_default().extend(recs);
                    Response::json(200, json!({"upsertedCount": n}))
                }
                ("POST", "/vectors/delete") => {
                    let recs = db.entry(ns(&body)).or_default();
                    for id in body.get("ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
                    {
                        recs.remove(id);
                    }
                    Response::json(200, json!({}))
                }
                _ => Response::json(
                    404,
                    json!({"code": 5, "message": format!("no route {} {}", r.method, r.path()), "details": []}),
                ),
            }
        })
    };
    let data = Server::start(data_handler).await;
    let host = data.host.clone();
    let control_handler: Handler = Arc::new(move |r: &Request| {
        if r.header("Api-Key") != Some(API_KEY) {
            return Response::json(
                401,
                json!({"error": {"code": "UNAUTHENTICATED", "message": "Invalid API Key"}, "status": 401}),
            );
        }
        match r.path().strip_prefix("/indexes/") {
            Some(INDEX) => Response::json(
                200,
                json!({
                    "name": INDEX, "dimension": dimension, "metric": "cosine", "host": host,
                    "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}},
                    "status": {"ready": true, "state": "Ready"}, "vector_type": "dense", "deletion_protection": "disabled"
                }),
            ),
            Some(other) => Response::json(
                404,
                json!({"error": {"code": "NOT_FOUND", "message": format!("Resource {other} not found")}, "status": 404}),
            ),
            None => Response::json(404, json!({"error": {"code": "NOT_FOUND", "message": "not found"}, "status": 404})),
        }
    });
    let control = Server::start(control_handler).await;
    (control, data)
}
