//! Firestore implementation of [`LongTermStore`] with the `firestore` crate.
//!
//! Documents are read raw (typed protobuf values), never through `serde_json::Value`, so every
//! value keeps its type. Emulator: when an emulator host is configured, requests go there with
//! the emulator's conventional stub token and no credentials are looked up; otherwise
//! Application Default Credentials / `GOOGLE_APPLICATION_CREDENTIALS`.

use super::{LongTermStore, ThreadPlace, merge_runs};
use crate::domain::{
    ConvFilter, Conversation, Cursor, Document, FsValue, Message, Page, RunPos, TIMED_RUNS, TimedRun, Ts,
};
use crate::error::StoreError;
use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::google::firestore::v1 as pb;
use firestore::gcloud_sdk::google_cloud_auth::credentials::{CacheableResource, CredentialsProvider, EntityTag};
use firestore::gcloud_sdk::google_cloud_auth::errors::CredentialsError;
use firestore::*;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

mod long_term;
mod thread;
mod values;
pub mod vectors;
mod writes;

use values::*;

pub struct FirestoreStore {
    db: FirestoreDb,
    label: String,
}

/// The stub credentials the Firebase tools send to local emulators.
#[derive(Debug)]
struct EmulatorToken(EntityTag);

impl CredentialsProvider for EmulatorToken {
    async fn headers(&self, ext: http::Extensions) -> Result<CacheableResource<http::HeaderMap>, CredentialsError> {
        if ext.get::<EntityTag>() == Some(&self.0) {
            return Ok(CacheableResource::NotModified);
        }
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static("Bearer owner"));
        Ok(CacheableResource::New { entity_tag: self.0.clone(), data: h })
    }
    async fn universe_domain(&self) -> Option<String> {
        None
    }
}

/// Why `id` cannot be a Firestore document id, by Firestore's documented rules (no `/`, not
/// `.` or `..`, not `__…__`, at most 1,500 bytes, not empty), or `None` when it can.
pub fn doc_id_problem(id: &str) -> Option<String> {
    const MAX_ID_BYTES: usize = 1500;
    if id.is_empty() {
        Some("an empty id cannot be a Firestore document id".into())
    } else if id.contains('/') || id == "." || id == ".." {
        Some(format!("{id:?} cannot be a Firestore document id (no `/`, not `.` or `..`)"))
    } else if id.len() > 2 && id.starts_with("__") && id.ends_with("__") {
        Some(format!("{id:?}: ids of the form __…__ are reserved by Firestore"))
    } else if id.len() > MAX_ID_BYTES {
        Some(format!("an id of {} bytes: Firestore's limit for a document id is {MAX_ID_BYTES}", id.len()))
    } else {
        None
    }
}

/// A document path whose every id Firestore accepts, or the error that says which does not
/// (asked before sending, so the user never sees a raw gRPC error).
fn check_doc_path(path: &str) -> Result<(), StoreError> {
    let ids: Vec<&str> = path.split('/').collect();
    if !ids.len().is_multiple_of(2) {
        return Err(StoreError::Invalid(format!("{path:?} is not a document path (collection/id pairs)")));
    }
    match ids.iter().skip(1).step_by(2).find_map(|id| doc_id_problem(id)) {
        Some(why) => Err(StoreError::Invalid(why)),
        None => Ok(()),
    }
}

fn map_err(e: FirestoreError) -> StoreError {
    let s = e.to_string();
    let lower = s.to_lowercase();
    if lower.contains("unavailable")
        || lower.contains("connect")
        || lower.contains("transport")
        || lower.contains("deadline")
        || lower.contains("dns")
    {
        StoreError::Unreachable(s)
    } else {
        // PERMISSION_DENIED, FAILED_PRECONDITION (missing index, with its link), … shown whole.
        StoreError::Server(s)
    }
}

// ---------- protobuf values <-> FsValue ----------

impl FirestoreStore {
    pub async fn connect(project: &str, database: &str, emulator: Option<&str>) -> Result<FirestoreStore, StoreError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut opts = FirestoreDbOptions::new(project.to_string())
            .with_database_id(database.to_string())
            .with_max_retries(1)
            .with_request_timeout(Duration::from_secs(10));
        let db = match emulator {
            Some(host) => {
                let url = if host.starts_with("http") { host.to_string() } else { format!("http://{host}") };
                opts = opts.with_firebase_api_url(url);
                let creds = firestore::gcloud_sdk::google_cloud_auth::credentials::Credentials::from(EmulatorToken(
                    EntityTag::new(),
                ));
                FirestoreDb::with_options_auth(opts, firestore::gcloud_sdk::GoogleAuthHeaders::from(creds)).await
            }
            None => FirestoreDb::with_options(opts).await,
        }
        .map_err(map_err)?;
        let label = match emulator {
            Some(h) => format!("firestore {project} (emulator {h})"),
            None => format!("firestore {project}/{database}"),
        };
        Ok(FirestoreStore { db, label })
    }

    fn root(&self) -> &str {
        self.db.get_documents_path()
    }

    fn doc(&self, d: &pb::Document) -> Document {
        let root = self.root();
        Document {
            path: d.name.strip_prefix(root).unwrap_or(&d.name).trim_start_matches('/').to_string(),
            fields: sorted_fields(&d.fields, root),
            update_time: d.update_time.as_ref().map(|t| Ts { secs: t.seconds, nanos: t.nanos.max(0) as u32 }),
        }
    }

    fn fv(&self, v: &FsValue) -> FirestoreValue {
        FirestoreValue::from(to_pb(v, self.root()))
    }

    /// (parent path for the query, collection id) of a collection path like `a/b/c`.
    fn split_collection<'p>(&self, collection: &'p str) -> (String, &'p str) {
        match collection.rsplit_once('/') {
            Some((parent, id)) => (format!("{}/{parent}", self.root()), id),
            None => (self.root().to_string(), collection),
        }
    }
}

/// What a `count` aggregation answered (its `count` field), 0 when it said nothing.
fn count_of(docs: &[pb::Document]) -> u64 {
    docs.first()
        .and_then(|d| d.fields.get("count"))
        .and_then(|v| match &v.value_type {
            Some(pb::value::ValueType::IntegerValue(i)) => Some(*i as u64),
            _ => None,
        })
        .unwrap_or(0)
}

/// Another writer changed the document between our read and our conditional write.
fn is_contention(e: &firestore::gcloud_sdk::tonic::Status) -> bool {
    use firestore::gcloud_sdk::tonic::Code;
    matches!(e.code(), Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists | Code::NotFound)
}

/// A field name as a Firestore field path (backquoted unless a plain identifier).
fn field_path(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { name.to_string() } else { format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`")) }
}

fn write(op: pb::write::Operation) -> pb::Write {
    pb::Write { operation: Some(op), ..Default::default() }
}

fn status_err(e: &firestore::gcloud_sdk::tonic::Status) -> StoreError {
    use firestore::gcloud_sdk::tonic::Code;
    match e.code() {
        Code::Unavailable | Code::DeadlineExceeded => StoreError::Unreachable(e.to_string()),
        _ => StoreError::Server(e.to_string()),
    }
}
