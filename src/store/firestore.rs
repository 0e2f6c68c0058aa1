//! Firestore implementation of [`LongTermStore`] with the `firestore` crate.
//!
//! Documents are read raw (typed protobuf values), never through `serde_json::Value`, so every
//! value keeps its type. Emulator: when an emulator host is configured, requests go there with
//! the emulator's conventional stub token and no credentials are looked up; otherwise
//! Application Default Credentials / `GOOGLE_APPLICATION_CREDENTIALS`.
//!
//! Why one file of ~1,000 lines: the [`LongTermStore`] implementation is one trait block (~430
//! lines) and the rest is what it calls (value conversion, the ordered runs of a thread, the
//! emulator's token); splitting the conversion into its own file is the next cut (#25).

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

fn from_pb(v: &pb::Value, root: &str) -> FsValue {
    use pb::value::ValueType as V;
    match &v.value_type {
        None | Some(V::NullValue(_)) => FsValue::Null,
        Some(V::BooleanValue(b)) => FsValue::Bool(*b),
        Some(V::IntegerValue(i)) => FsValue::Int(*i),
        Some(V::DoubleValue(d)) => FsValue::Double(*d),
        Some(V::TimestampValue(t)) => FsValue::Timestamp(Ts { secs: t.seconds, nanos: t.nanos.max(0) as u32 }),
        Some(V::StringValue(s)) => FsValue::String(s.clone()),
        Some(V::BytesValue(b)) => FsValue::Bytes(b.to_vec()),
        Some(V::ReferenceValue(r)) => {
            FsValue::Reference(r.strip_prefix(root).unwrap_or(r).trim_start_matches('/').to_string())
        }
        Some(V::GeoPointValue(g)) => FsValue::GeoPoint { lat: g.latitude, lng: g.longitude },
        Some(V::ArrayValue(a)) => FsValue::Array(a.values.iter().map(|x| from_pb(x, root)).collect()),
        Some(V::MapValue(m)) => FsValue::Map(sorted_fields(&m.fields, root)),
        #[allow(unreachable_patterns)]
        Some(_) => FsValue::Null,
    }
}

fn sorted_fields(m: &std::collections::HashMap<String, pb::Value>, root: &str) -> Vec<(String, FsValue)> {
    let mut v: Vec<(String, FsValue)> = m.iter().map(|(k, x)| (k.clone(), from_pb(x, root))).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn to_pb(v: &FsValue, root: &str) -> pb::Value {
    use pb::value::ValueType as V;
    let t = match v {
        FsValue::Null => V::NullValue(0),
        FsValue::Bool(b) => V::BooleanValue(*b),
        FsValue::Int(i) => V::IntegerValue(*i),
        FsValue::Double(d) => V::DoubleValue(*d),
        FsValue::Timestamp(t) => {
            V::TimestampValue(firestore::gcloud_sdk::prost_types::Timestamp { seconds: t.secs, nanos: t.nanos as i32 })
        }
        FsValue::String(s) => V::StringValue(s.clone()),
        FsValue::Bytes(b) => V::BytesValue(b.clone()),
        FsValue::Reference(r) => V::ReferenceValue(format!("{root}/{r}")),
        FsValue::GeoPoint { lat, lng } => {
            V::GeoPointValue(firestore::gcloud_sdk::google::r#type::LatLng { latitude: *lat, longitude: *lng })
        }
        FsValue::Array(a) => V::ArrayValue(pb::ArrayValue { values: a.iter().map(|x| to_pb(x, root)).collect() }),
        FsValue::Map(m) => {
            V::MapValue(pb::MapValue { fields: m.iter().map(|(k, x)| (k.clone(), to_pb(x, root))).collect() })
        }
    };
    pb::Value { value_type: Some(t) }
}

/// The Firestore filters of a conversation filter (prefixes as ranges on the field).
fn conv_filters(
    q: &firestore::select_filter_builder::FirestoreQueryFilterBuilder,
    f: &ConvFilter,
    root: &str,
) -> Vec<Option<FirestoreQueryFilter>> {
    let reference = |p: String| FirestoreValue::from(to_pb(&FsValue::Reference(p), root));
    match f {
        // A substring is not a Firestore query: the conversation readers filter the pages
        // (`layout::TitleSearch`), so it never reaches the store through them.
        ConvFilter::All | ConvFilter::TitleContains(_) => vec![],
        ConvFilter::User(u) => vec![q.field("user_id").eq(u.clone())],
        ConvFilter::Agent(a) => vec![q.field("agent_id").eq(a.clone())],
        ConvFilter::TitlePrefix(p) => {
            vec![q.field("title").greater_than_or_equal(p.clone()), q.field("title").less_than(format!("{p}\u{f8ff}"))]
        }
        ConvFilter::IdPrefix(p) => vec![
            q.field("__name__").greater_than_or_equal(reference(format!("conversations/{p}"))),
            q.field("__name__").less_than(reference(format!("conversations/{p}\u{f8ff}"))),
        ],
    }
}

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

    /// A thread at `place`: each ordered run ([`TIMED_RUNS`]) read in time order and merged by
    /// instant, then the messages without a usable time in id order.
    async fn thread_at(
        &self,
        place: &ThreadPlace,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError> {
        let (mut runs, mut untimed) = match after {
            Some(Cursor::Merged { runs, untimed }) => ((**runs).clone(), untimed.clone()),
            _ => Default::default(),
        };
        let mut items: Vec<Message> = Vec::new();
        // Every round takes or passes over something, or ends a run: the loop ends.
        while items.len() < limit as usize && runs.iter().any(|r| !r.done) {
            let want = limit - items.len() as u32;
            // The runs are asked for at once (one round trip's wait, not seven).
            let asks = TIMED_RUNS.iter().zip(&runs).map(|(run, pos)| async move {
                match run {
                    _ if pos.done => Ok((vec![], false, pos.clone())),
                    TimedRun::IsoString => self.string_run(place, pos.clone(), want).await,
                    _ => self.message_run(place, *run, pos.clone(), want).await,
                }
            });
            let got = futures_util::future::try_join_all(asks).await?;
            let offers: Vec<(Vec<Message>, bool)> = got.iter().map(|(o, more, _)| (o.clone(), *more)).collect();
            let (page, taken) = merge_runs(&offers, want as usize);
            let before = items.len();
            items.extend(page);
            let mut moved = items.len() > before;
            let each = got.into_iter().zip(taken).zip(runs.iter_mut()).zip(TIMED_RUNS);
            for ((((offer, more, mut pos), t), slot), run) in each {
                moved |= t > 0 || pos.after != slot.after;
                if run == TimedRun::IsoString {
                    // Read ahead: what was not taken stays ahead.
                    pos.ahead.drain(..t);
                    pos.done = pos.ended && pos.ahead.is_empty();
                } else {
                    // Read in place: the run continues after the last message taken.
                    if let Some(m) = t.checked_sub(1).map(|i| &offer[i]) {
                        let v = m.doc.get(&place.ts_field).cloned().unwrap_or(FsValue::Null);
                        pos.after = Some((v, m.doc.path.clone()));
                    }
                    pos.done = !more && t == offer.len();
                }
                moved |= pos.done != slot.done;
                *slot = pos;
            }
            if !moved {
                break;
            }
        }
        // Then the messages without a usable timestamp, in id order (they sort last).
        if runs.iter().all(|r| r.done) && items.len() < limit as usize && !untimed.done {
            let after = untimed.after.as_ref().map(|(_, p)| p.clone());
            let parent = format!("{}/{}", self.root(), place.conversation);
            let (more, ended) = self
                .scan_keeping(&parent, &place.messages, &ConvFilter::All, after, limit - items.len() as u32, |d| {
                    // No usable instant: no timestamp, or one that does not parse ("", "soon").
                    d.get(&place.ts_field).and_then(FsValue::as_ts).is_none()
                })
                .await?;
            if let Some(m) = more.last() {
                untimed.after = Some((FsValue::Null, m.path.clone()));
            }
            untimed.done = ended;
            items.extend(more.into_iter().map(|d| Message::from_doc_at(d, &place.ts_field)));
        }
        let next = (!(runs.iter().all(|r| r.done) && untimed.done))
            .then_some(Cursor::Merged { runs: Box::new(runs), untimed });
        Ok(Page { items, next })
    }

    /// The messages of one ordered run after `pos`, in timestamp order: what it offers, whether
    /// it may hold more, and its position unchanged (it moves by what the merge takes). A
    /// range filter brackets one value type (Firestore orders values by type first) and, for
    /// Unix numbers, one unit, so each run is its own query.
    async fn message_run(
        &self,
        place: &ThreadPlace,
        run: TimedRun,
        pos: RunPos,
        limit: u32,
    ) -> Result<(Vec<Message>, bool, RunPos), StoreError> {
        let (lower, upper) = match run {
            TimedRun::Timestamp => (FsValue::Timestamp(Ts::MIN), None),
            TimedRun::Number { lo, hi } => (FsValue::Double(lo), Some(FsValue::Double(hi))),
            TimedRun::IsoString => (FsValue::String(String::new()), None),
        };
        let docs = self.run_query(place, lower, upper, pos.after.clone(), limit).await?;
        let more = docs.len() >= limit as usize;
        Ok((docs, more, pos))
    }

    /// The ISO-string run. Firestore orders strings as text, and text order is not time order
    /// across offsets (`10:00+02:00` is before `09:00Z`), so this run reads ahead of what it
    /// gives out: strings are read in text order into `ahead` (kept in instant order), and a
    /// message is given out only once no string still unread can be earlier. Dates are
    /// `YYYY-MM-DD` exactly ([`Ts::parse`]) and offsets under a day, so every string after a
    /// frontier dated D is at or after D's midnight minus a day. It reads until `want` are
    /// placeable, the run has ended, or [`LOOK_AHEAD`] wait: then all of them are given out in
    /// instant order (only a thread with that many strings within a day of each other, in
    /// different offsets, can then list one out of place).
    async fn string_run(
        &self,
        place: &ThreadPlace,
        mut pos: RunPos,
        want: u32,
    ) -> Result<(Vec<Message>, bool, RunPos), StoreError> {
        let placeable = |pos: &RunPos| -> usize {
            if pos.ended || pos.ahead.len() >= LOOK_AHEAD {
                return pos.ahead.len();
            }
            let Some(bound) = pos.after.as_ref().and_then(|(v, _)| match v {
                FsValue::String(s) => string_floor(s),
                _ => None,
            }) else {
                return 0;
            };
            pos.ahead.iter().take_while(|m| m.timestamp.is_some_and(|t| t < bound)).count()
        };
        while placeable(&pos) < want as usize && !pos.ended && pos.ahead.len() < LOOK_AHEAD {
            let chunk = want.clamp(100, SCAN_PAGE);
            let docs = self.run_query(place, FsValue::String(String::new()), None, pos.after.clone(), chunk).await?;
            pos.ended = docs.len() < chunk as usize;
            for m in docs {
                pos.after = Some((m.doc.get(&place.ts_field).cloned().unwrap_or(FsValue::Null), m.doc.path.clone()));
                // A string that does not parse is left to the untimed pass.
                if m.timestamp.is_some() {
                    let at = pos.ahead.partition_point(|a| a.sort_key() <= m.sort_key());
                    pos.ahead.insert(at, m);
                }
            }
        }
        let n = placeable(&pos);
        let offer = pos.ahead[..n].to_vec();
        Ok((offer, !(pos.ended && n == pos.ahead.len()), pos))
    }

    /// Messages whose timestamp is `>= lower` (and `< upper`), in (timestamp, name) order,
    /// after `after`.
    async fn run_query(
        &self,
        place: &ThreadPlace,
        lower: FsValue,
        upper: Option<FsValue>,
        after: Option<(FsValue, String)>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let parent = format!("{}/{}", self.root(), place.conversation);
        let field = place.ts_field.clone();
        let lower = self.fv(&lower);
        let upper = upper.map(|u| self.fv(&u));
        let mut q = self
            .db
            .fluent()
            .select()
            .from(place.messages.as_str())
            .parent(&parent)
            .filter(move |q| {
                q.for_all([
                    q.field(field.as_str()).greater_than_or_equal(lower.clone()),
                    upper.clone().and_then(|u| q.field(field.as_str()).less_than(u)),
                ])
            })
            .order(|o| o.fields([o.field(place.ts_field.as_str()).asc(), o.field("__name__").asc()]))
            .limit(limit);
        if let Some((v, path)) = after {
            q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&v), self.fv(&FsValue::Reference(path))]));
        }
        let docs = q.query().await.map_err(map_err)?;
        Ok(docs.iter().map(|d| Message::from_doc_at(self.doc(d), &place.ts_field)).collect())
    }

    /// The documents of a collection that an ordered query leaves out, in name order after
    /// `after` (Firestore scans keys ascending only): the collection (under `filter`) is read by name a page at a time, keeping those
    /// `keep` accepts until `limit` are found. Returns them and whether the collection has ended.
    async fn scan_keeping(
        &self,
        parent: &str,
        collection: &str,
        filter: &ConvFilter,
        after: Option<String>,
        limit: u32,
        keep: impl Fn(&Document) -> bool,
    ) -> Result<(Vec<Document>, bool), StoreError> {
        let root = self.root().to_string();
        let mut after = after;
        let mut out = Vec::new();
        loop {
            let f = filter.clone();
            let mut q = self
                .db
                .fluent()
                .select()
                .from(collection)
                .parent(parent)
                .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
                .order(|o| o.fields([o.field("__name__").asc()]))
                .limit(SCAN_PAGE);
            if let Some(path) = &after {
                q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
            }
            let docs = q.query().await.map_err(map_err)?;
            let ended = docs.len() < SCAN_PAGE as usize;
            for (i, d) in docs.iter().enumerate() {
                let doc = self.doc(d);
                after = Some(doc.path.clone());
                if keep(&doc) {
                    out.push(doc);
                    if out.len() >= limit as usize {
                        return Ok((out, ended && i + 1 == docs.len()));
                    }
                }
            }
            if ended {
                return Ok((out, true));
            }
        }
    }
}

/// Documents read per query while looking for those an ordered query leaves out.
const SCAN_PAGE: u32 = 500;

/// How many ISO-string messages the thread reader holds read but not yet placed before it
/// gives them out in the order it has (see `string_run`).
const LOOK_AHEAD: usize = 2_000;

/// The earliest instant a timestamp string that sorts after `s` as text can stand for (and so
/// every held message before it can be placed), or None when that cannot be told yet.
fn string_floor(s: &str) -> Option<Ts> {
    match s.as_bytes().first() {
        // Past every string that starts with a digit: nothing unread parses.
        Some(c) if *c > b'9' => Some(Ts { secs: i64::MAX, nanos: 0 }),
        // Dated D: what follows is dated D or later, at an offset of under a day.
        _ => s.get(..10).and_then(Ts::parse).map(|d| Ts { secs: d.secs - 86_400, nanos: 0 }),
    }
}

#[async_trait::async_trait]
impl LongTermStore for FirestoreStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        let t = Instant::now();
        self.db.fluent().select().from("conversations").limit(1).query().await.map_err(map_err)?;
        Ok(t.elapsed())
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let root = self.root().to_string();
        let (order_field, desc) = match filter {
            ConvFilter::TitlePrefix(_) => ("title", false),
            ConvFilter::IdPrefix(_) => ("__name__", false),
            _ => ("updated_at", true),
        };
        let mut items: Vec<Conversation> = Vec::new();
        let mut ordered_ended = false;
        if !matches!(after, Some(Cursor::Absent { .. })) {
            let f = filter.clone();
            let mut q = self
                .db
                .fluent()
                .select()
                .from("conversations")
                .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
                .order(|o| {
                    if order_field == "__name__" {
                        o.fields([o.field("__name__").asc()])
                    } else if desc {
                        o.fields([o.field(order_field).desc(), o.field("__name__").desc()])
                    } else {
                        o.fields([o.field(order_field).asc(), o.field("__name__").asc()])
                    }
                })
                .limit(limit);
            if let Some(Cursor::After { values, path }) = after {
                let mut vals: Vec<FirestoreValue> = values.iter().map(|v| self.fv(v)).collect();
                vals.push(self.fv(&FsValue::Reference(path.clone())));
                q = q.start_at(FirestoreQueryCursor::AfterValue(vals));
            }
            let docs = q.query().await.map_err(map_err)?;
            items = docs.iter().map(|d| Conversation::from_doc(self.doc(d))).collect();
            ordered_ended = items.len() < limit as usize;
            if !ordered_ended || order_field != "updated_at" {
                return Ok(Page::of(items, limit, |c| Cursor::After {
                    values: if order_field == "__name__" {
                        vec![]
                    } else {
                        vec![c.doc.get(order_field).cloned().unwrap_or(FsValue::Null)]
                    },
                    path: c.doc.path.clone(),
                }));
            }
        }
        // Ordered by `updated_at`, Firestore leaves out documents without the field: they come
        // after the others, in id order, so that every counted conversation is listed.
        let after_path = match after {
            Some(Cursor::Absent { after }) if !ordered_ended => after.clone(),
            _ => None,
        };
        let want = limit - items.len() as u32;
        let (more, ended) = if want == 0 {
            (vec![], false)
        } else {
            self.scan_keeping(&root, "conversations", filter, after_path.clone(), want, |d| {
                d.get(order_field).is_none()
            })
            .await?
        };
        let last = more.last().map(|d| d.path.clone()).or(after_path);
        items.extend(more.into_iter().map(Conversation::from_doc));
        Ok(Page { items, next: (!ended).then_some(Cursor::Absent { after: last }) })
    }

    async fn count_conversations(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let f = filter.clone();
        let root = self.root().to_string();
        let docs = self
            .db
            .fluent()
            .select()
            .from("conversations")
            .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
            .aggregate(|a| a.fields([a.field("count").count()]))
            .query()
            .await
            .map_err(map_err)?;
        let n = docs
            .first()
            .and_then(|d| d.fields.get("count"))
            .and_then(|v| match &v.value_type {
                Some(pb::value::ValueType::IntegerValue(i)) => Some(*i as u64),
                _ => None,
            })
            .unwrap_or(0);
        Ok(n)
    }

    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError> {
        if let Some(why) = doc_id_problem(conversation) {
            return Err(StoreError::Invalid(format!("no such conversation: {why}")));
        }
        self.thread_at(&ThreadPlace::memscope(conversation), after, limit).await
    }

    async fn messages_at(
        &self,
        place: &ThreadPlace,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Option<Page<Message>>, StoreError> {
        check_doc_path(&place.conversation)?;
        self.thread_at(place, after, limit).await.map(Some)
    }

    async fn document(&self, path: &str) -> Result<Option<Document>, StoreError> {
        let (parent, id) = match path.rsplit_once('/') {
            Some((p, id)) => (p, id),
            None => return Err(StoreError::Other(format!("not a document path: {path}"))),
        };
        let (qparent, coll) = self.split_collection(parent);
        match self.db.fluent().select().by_id_in(coll).parent(&qparent).one(id).await {
            Ok(d) => Ok(d.map(|d| self.doc(&d))),
            Err(FirestoreError::DataNotFoundError(_)) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn collections(&self, parent: Option<&str>) -> Result<Vec<String>, StoreError> {
        let list = self.db.fluent().list().collections().page_size(300);
        let list = match parent {
            Some(p) => list.parent(format!("{}/{p}", self.root())),
            None => list,
        };
        let mut out: Vec<String> = list.stream_all().await.map_err(map_err)?.take(10_000).collect().await;
        out.sort();
        Ok(out)
    }

    async fn documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let mut q = self
            .db
            .fluent()
            .select()
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field("__name__").asc()]))
            .limit(limit);
        if let Some(Cursor::After { path, .. }) = after {
            q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
        }
        let docs = q.query().await.map_err(map_err)?;
        let items: Vec<Document> = docs.iter().map(|d| self.doc(d)).collect();
        Ok(Page::of(items, limit, |d| Cursor::After { values: vec![], path: d.path.clone() }))
    }

    async fn last_documents(&self, collection: &str, id_field: &str, limit: u32) -> Result<Vec<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let q = self
            .db
            .fluent()
            .select()
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field(id_field).desc()]))
            .limit(limit);
        let docs = q.query().await.map_err(map_err)?;
        Ok(docs.iter().map(|d| self.doc(d)).collect())
    }

    /// A collection-group query under the pattern's literal parent, by name; documents of a
    /// same-named collection elsewhere (`teams/x/chats` for `users/*/chats`) are passed over, so
    /// a page is filled from as many queries as that takes.
    async fn group_documents(
        &self,
        pattern: &crate::domain::CollectionPattern,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let parent = match pattern.parent_document() {
            p if p.is_empty() => self.root().to_string(),
            p => format!("{}/{p}", self.root()),
        };
        let mut last = match after {
            Some(Cursor::After { path, .. }) => Some(path.clone()),
            _ => None,
        };
        let limit = limit.max(1);
        let mut items = Vec::new();
        loop {
            let ask = limit - items.len() as u32;
            let mut q = self
                .db
                .fluent()
                .select()
                .from(pattern.collection_id())
                .parent(&parent)
                .all_descendants()
                .order(|o| o.fields([o.field("__name__").asc()]))
                .limit(ask);
            if let Some(path) = &last {
                q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
            }
            let docs = q.query().await.map_err(map_err)?;
            let got = docs.len() as u32;
            for d in &docs {
                let doc = self.doc(d);
                last = Some(doc.path.clone());
                if pattern.holds(&doc.path) {
                    items.push(doc);
                }
            }
            if got < ask {
                return Ok(Page { items, next: None });
            }
            if items.len() as u32 >= limit {
                let next = last.map(|path| Cursor::After { values: vec![], path });
                return Ok(Page { items, next });
            }
        }
    }

    async fn last_document_id(&self, collection: &str, id_field: &str) -> Result<Option<String>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let docs = self
            .db
            .fluent()
            .select()
            .fields([id_field])
            .from(coll)
            .parent(&parent)
            .order(|o| o.fields([o.field(id_field).desc()]))
            .limit(1)
            .query()
            .await
            .map_err(map_err)?;
        Ok(docs.first().map(|d| self.doc(d).id().to_string()))
    }

    /// ListDocuments with show_missing: the documents by name, and the missing ones that hold
    /// subcollections (which a query never returns). The page token rides in the cursor.
    async fn browse_documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        let (parent, coll) = self.split_collection(collection);
        let token = match after {
            Some(Cursor::After { values, .. }) => match values.first() {
                Some(FsValue::String(t)) => t.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        };
        let req = pb::ListDocumentsRequest {
            parent,
            collection_id: coll.to_string(),
            page_size: limit as i32,
            page_token: token,
            show_missing: true,
            ..Default::default()
        };
        let r = self.db.client().get().list_documents(req).await.map_err(|e| status_err(&e))?.into_inner();
        let items: Vec<Document> = r
            .documents
            .iter()
            .map(|d| if d.create_time.is_none() { Document { update_time: None, ..self.doc(d) } } else { self.doc(d) })
            .collect();
        let next = (!r.next_page_token.is_empty()).then(|| Cursor::After {
            values: vec![FsValue::String(r.next_page_token.clone())],
            path: items.last().map(|d| d.path.clone()).unwrap_or_default(),
        });
        Ok(Page { items, next })
    }

    async fn put(&self, path: &str, fields: Vec<(String, FsValue)>) -> Result<(), StoreError> {
        self.put_many(vec![(path.to_string(), fields)]).await
    }

    /// Commits of at most 500 writes (Firestore's limit per commit).
    async fn put_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<(), StoreError> {
        let root = self.root().to_string();
        let writes = docs.iter().map(|(path, fields)| {
            write(pb::write::Operation::Update(pb::Document {
                name: format!("{root}/{path}"),
                fields: fields.iter().map(|(k, v)| (k.clone(), to_pb(v, &root))).collect(),
                create_time: None,
                update_time: None,
            }))
        });
        self.commit(writes.collect()).await
    }

    async fn get_many(&self, paths: &[String]) -> Result<Vec<Option<Document>>, StoreError> {
        let root = self.root().to_string();
        let mut found = std::collections::HashMap::new();
        for chunk in paths.chunks(300) {
            let req = pb::BatchGetDocumentsRequest {
                database: self.db.get_database_path().clone(),
                documents: chunk.iter().map(|p| format!("{root}/{p}")).collect(),
                ..Default::default()
            };
            let mut stream =
                self.db.client().get().batch_get_documents(req).await.map_err(|e| status_err(&e))?.into_inner();
            while let Some(item) = stream.next().await {
                let item = item.map_err(|e| status_err(&e))?;
                if let Some(pb::batch_get_documents_response::Result::Found(d)) = item.result {
                    let doc = self.doc(&d);
                    found.insert(doc.path.clone(), doc);
                }
            }
        }
        Ok(paths.iter().map(|p| found.remove(p)).collect())
    }

    /// BatchWrite (each write applied on its own) with the precondition "does not exist":
    /// Firestore decides which were created, so racing writers never both count one.
    async fn create_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<Vec<bool>, StoreError> {
        use firestore::gcloud_sdk::google::firestore::v1::{Precondition, precondition::ConditionType};
        let root = self.root().to_string();
        let mut created = Vec::with_capacity(docs.len());
        for chunk in docs.chunks(500) {
            let writes: Vec<pb::Write> = chunk
                .iter()
                .map(|(path, fields)| pb::Write {
                    current_document: Some(Precondition { condition_type: Some(ConditionType::Exists(false)) }),
                    ..write(pb::write::Operation::Update(pb::Document {
                        name: format!("{root}/{path}"),
                        fields: fields.iter().map(|(k, v)| (k.clone(), to_pb(v, &root))).collect(),
                        create_time: None,
                        update_time: None,
                    }))
                })
                .collect();
            let req =
                pb::BatchWriteRequest { database: self.db.get_database_path().clone(), writes, ..Default::default() };
            let r = self.db.client().get().batch_write(req).await.map_err(|e| status_err(&e))?.into_inner();
            for (i, st) in r.status.iter().enumerate() {
                // 0 OK; 6 ALREADY_EXISTS / 9 FAILED_PRECONDITION: another writer made it first.
                match st.code {
                    0 => created.push(true),
                    6 | 9 => created.push(false),
                    code => {
                        return Err(StoreError::Server(format!(
                            "creating {}: code {code}: {}",
                            chunk.get(i).map(|d| d.0.as_str()).unwrap_or("?"),
                            st.message
                        )));
                    }
                }
            }
            if r.status.len() < chunk.len() {
                return Err(StoreError::Server(format!(
                    "BatchWrite answered {} of {} writes",
                    r.status.len(),
                    chunk.len()
                )));
            }
        }
        Ok(created)
    }

    async fn delete_many(&self, paths: &[String]) -> Result<(), StoreError> {
        let root = self.root().to_string();
        self.commit(paths.iter().map(|p| write(pb::write::Operation::Delete(format!("{root}/{p}")))).collect()).await
    }

    /// An update with a field mask (only these fields), and increment transforms applied by
    /// Firestore in the same write.
    async fn merge_many(&self, merges: Vec<crate::domain::Merge>) -> Result<(), StoreError> {
        let (plain, bounded): (Vec<_>, Vec<_>) =
            merges.into_iter().partition(|m| m.at_least.is_empty() && m.at_most.is_empty());
        if !plain.is_empty() {
            self.commit(plain.iter().map(|m| self.merge_write(m, vec![], None)).collect()).await?;
        }
        // Bounded time fields need the stored value: read, then write on the condition that the
        // document has not changed since (its update time), again from the read if it has.
        for chunk in bounded.chunks(500) {
            let paths: Vec<String> = chunk.iter().map(|m| m.path.clone()).collect();
            let mut attempt = 0u32;
            loop {
                let docs = self.get_many(&paths).await?;
                let writes = chunk
                    .iter()
                    .zip(&docs)
                    .map(|(m, d)| {
                        let fields = d.as_ref().map(|d| d.fields.as_slice()).unwrap_or(&[]);
                        let pre = match d.as_ref().map(|d| d.update_time) {
                            Some(Some(t)) => pb::precondition::ConditionType::UpdateTime(
                                firestore::gcloud_sdk::prost_types::Timestamp {
                                    seconds: t.secs,
                                    nanos: t.nanos as i32,
                                },
                            ),
                            Some(None) => pb::precondition::ConditionType::Exists(true),
                            None => pb::precondition::ConditionType::Exists(false),
                        };
                        self.merge_write(m, m.bounds_to_set(fields), Some(pre))
                    })
                    .collect();
                match self.commit_once(writes).await {
                    Ok(()) => break,
                    Err(e) if attempt < 30 && is_contention(&e) => {
                        attempt += 1;
                        let jitter = (std::process::id() as u64 + attempt as u64 * 7919) % 20;
                        tokio::time::sleep(Duration::from_millis(5 * attempt as u64 + jitter)).await;
                    }
                    Err(e) => return Err(status_err(&e)),
                }
            }
        }
        Ok(())
    }
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

impl FirestoreStore {
    /// The write of one merge: its `set` fields plus `extra`, increments as transforms, under an
    /// optional precondition.
    fn merge_write(
        &self,
        m: &crate::domain::Merge,
        extra: Vec<(String, FsValue)>,
        pre: Option<pb::precondition::ConditionType>,
    ) -> pb::Write {
        use pb::document_transform::{FieldTransform, field_transform::TransformType};
        let root = self.root();
        let set: Vec<&(String, FsValue)> = m.set.iter().chain(&extra).collect();
        pb::Write {
            update_mask: Some(pb::DocumentMask { field_paths: set.iter().map(|(k, _)| field_path(k)).collect() }),
            update_transforms: m
                .increment
                .iter()
                .map(|(k, n)| FieldTransform {
                    field_path: field_path(k),
                    transform_type: Some(TransformType::Increment(to_pb(&FsValue::Int(*n), root))),
                })
                .collect(),
            current_document: pre.map(|c| pb::Precondition { condition_type: Some(c) }),
            ..write(pb::write::Operation::Update(pb::Document {
                name: format!("{root}/{}", m.path),
                fields: set.iter().map(|(k, v)| (k.clone(), to_pb(v, root))).collect(),
                create_time: None,
                update_time: None,
            }))
        }
    }

    /// One commit of at most 500 writes, all or nothing.
    async fn commit_once(&self, writes: Vec<pb::Write>) -> Result<(), firestore::gcloud_sdk::tonic::Status> {
        let req = pb::CommitRequest {
            database: self.db.get_database_path().clone(),
            writes,
            transaction: Default::default(),
            request_options: None,
        };
        self.db.client().get().commit(req).await.map(|_| ())
    }

    /// Commit writes in as few requests as Firestore's limits allow: at most 500 writes and
    /// about 3.5 MiB a request (Firestore rejects a commit over 10 MiB even when every document
    /// is under 1 MiB, and the emulator any gRPC message over 4 MiB). Each request is all or
    /// nothing; an error says how many writes went before it.
    async fn commit(&self, writes: Vec<pb::Write>) -> Result<(), StoreError> {
        use firestore::gcloud_sdk::prost::Message as _;
        const MAX_WRITES: usize = 500;
        const MAX_BYTES: usize = 7 << 19; // 3.5 MiB
        let total = writes.len();
        let mut done = 0usize;
        let mut batch: Vec<pb::Write> = Vec::new();
        let mut bytes = 0usize;
        let mut all = writes.into_iter().peekable();
        while let Some(w) = all.next() {
            bytes += w.encoded_len();
            batch.push(w);
            let full = batch.len() >= MAX_WRITES
                || all.peek().is_some_and(|next| bytes + next.encoded_len() > MAX_BYTES)
                || all.peek().is_none();
            if full {
                let n = batch.len();
                if let Err(e) = self.commit_once(std::mem::take(&mut batch)).await {
                    return Err(match status_err(&e) {
                        StoreError::Unreachable(m) => {
                            StoreError::Unreachable(format!("{m} (after {done} of {total} writes were committed)"))
                        }
                        other if done > 0 => {
                            StoreError::Server(format!("{other} (after {done} of {total} writes were committed)"))
                        }
                        other => other,
                    });
                }
                done += n;
                bytes = 0;
            }
        }
        Ok(())
    }
}
