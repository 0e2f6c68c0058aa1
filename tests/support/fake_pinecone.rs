//! A Pinecone stand-in on loopback that answers with the documented request/response shapes of
//! API 2025-10 (control plane describe_index, data plane stats, query, fetch, list, upsert,
//! delete), keeping its vectors in memscope's own local index. It checks the headers.

use super::http::{Handler, Request, Response, Server};
use memscope::domain::{Metric, VectorQuery, VectorRecord};
use memscope::store::VectorStore;
use memscope::store::local_vectors::LocalVectors;
use serde_json::{Value, json};
use std::sync::Arc;

pub const API_KEY: &str = "test-key";
pub const INDEX: &str = "agent-memory";

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

pub async fn start(dimension: u32) -> (Server, Server) {
    let store = Arc::new(LocalVectors::in_memory(Metric::Cosine));
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
            match (r.method.as_str(), r.path()) {
                ("POST", "/describe_index_stats") => {
                    let s = block(store.stats()).unwrap();
                    let nss: serde_json::Map<String, Value> =
                        s.namespaces.iter().map(|(k, n)| (k.clone(), json!({"vectorCount": n}))).collect();
                    Response::json(
                        200,
                        json!({
                            "namespaces": nss, "dimension": dimension, "indexFullness": 0.0,
                            "totalVectorCount": s.total, "metric": "cosine", "vectorType": "dense"
                        }),
                    )
                }
                ("POST", "/query") => {
                    let q = VectorQuery {
                        vector: body
                            .get("vector")
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect()),
                        id: body.get("id").and_then(Value::as_str).map(str::to_string),
                        top_k: body.get("topK").and_then(Value::as_u64).unwrap_or(10) as u32,
                        namespace: ns(&body),
                        filter: body.get("filter").cloned(),
                        include_values: body.get("includeValues").and_then(Value::as_bool).unwrap_or(false),
                        include_metadata: body.get("includeMetadata").and_then(Value::as_bool).unwrap_or(false),
                    };
                    if let Some(v) = &q.vector
                        && v.len() as u32 != dimension
                    {
                        return Response::json(
                            400,
                            json!({"code": 3, "message": format!("Vector dimension {} does not match the dimension of the index {dimension}", v.len()), "details": []}),
                        );
                    }
                    match block(store.query(&q)) {
                        Ok(res) => Response::json(
                            200,
                            json!({
                                "results": [],
                                "matches": res.matches.iter().map(|m| {
                                    let mut o = json!({"id": m.id, "score": m.score, "values": m.values.clone().unwrap_or_default()});
                                    if let Some(md) = &m.metadata { o["metadata"] = Value::Object(md.clone()); }
                                    o
                                }).collect::<Vec<_>>(),
                                "namespace": q.namespace,
                                "usage": {"readUnits": 6}
                            }),
                        ),
                        Err(e) => Response::json(400, json!({"code": 3, "message": e.to_string(), "details": []})),
                    }
                }
                ("GET", "/vectors/fetch") => {
                    let qp = r.query();
                    let ids: Vec<String> = qp.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect();
                    let n = qp.iter().find(|(k, _)| k == "namespace").map(|(_, v)| v.clone()).unwrap_or_default();
                    let recs = block(store.fetch(&ids, &n)).unwrap();
                    let m: serde_json::Map<String, Value> = recs
                        .into_iter()
                        .map(|r| (r.id.clone(), json!({"id": r.id, "values": r.values, "metadata": r.metadata})))
                        .collect();
                    Response::json(200, json!({"vectors": m, "namespace": n, "usage": {"readUnits": 1}}))
                }
                ("GET", "/vectors/list") => {
                    let qp = r.query();
                    let get = |k: &str| qp.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
                    let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
                    let n = get("namespace").unwrap_or_default();
                    let page =
                        block(store.list_ids(get("prefix").as_deref(), &n, get("paginationToken").as_deref(), limit))
                            .unwrap();
                    let mut body = json!({"vectors": page.ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(), "namespace": n, "usage": {"readUnits": 1}});
                    if let Some(next) = page.next {
                        body["pagination"] = json!({"next": next});
                    }
                    Response::json(200, body)
                }
                ("POST", "/vectors/upsert") => {
                    let vs = body.get("vectors").and_then(Value::as_array).cloned().unwrap_or_default();
                    if vs.len() > 1000 {
                        return Response::json(
                            400,
                            json!({"code": 3, "message": "too many vectors in one upsert", "details": []}),
                        );
                    }
                    let recs: Vec<VectorRecord> = vs
                        .iter()
                        .map(|v| VectorRecord {
                            id: v["id"].as_str().unwrap_or_default().to_string(),
                            values: v["values"]
                                .as_array()
                                .map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect())
                                .unwrap_or_default(),
                            metadata: v.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default(),
                        })
                        .collect();
                    if let Some(bad) = recs.iter().find(|r| r.values.len() as u32 != dimension) {
                        return Response::json(
                            400,
                            json!({"code": 3, "message": format!("Vector dimension {} does not match the dimension of the index {dimension}", bad.values.len()), "details": []}),
                        );
                    }
                    let n = block(store.upsert(recs, &ns(&body))).unwrap();
                    Response::json(200, json!({"upsertedCount": n}))
                }
                ("POST", "/vectors/delete") => {
                    let ids: Vec<String> = body
                        .get("ids")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default();
                    block(store.delete(&ids, &ns(&body))).unwrap();
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
