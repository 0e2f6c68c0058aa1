//! Store traits and their implementations. Store crate types (redis::Value, …) never leave
//! this module: callers see `crate::domain` types and `StoreError`.

pub mod firestore;
pub mod local_vectors;
pub mod pinecone;
pub mod redis;
pub mod sqlite;

use crate::domain::{
    ConvFilter, Conversation, Cursor, Document, FsValue, Key, KeyMeta, Message, Page, PageCursor, ServerInfo,
    ValuePage, WriteOp,
};
use std::sync::Arc;
use std::time::Duration;

pub use crate::error::StoreError;

/// The short-term tier as the explorer sees it: a key-value server that can be scanned.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// Where it is, for the status line (secrets redacted).
    fn describe(&self) -> String;
    async fn ping(&self) -> Result<Duration, StoreError>;
    async fn dbsize(&self) -> Result<u64, StoreError>;
    /// The servers whose keys make up the keyspace, each with its DBSIZE: this server, or
    /// every master of a Redis Cluster (each scanned with its own cursor).
    async fn scan_nodes(&self) -> Result<Vec<crate::domain::ScanNode>, StoreError>;
    /// One SCAN call on `node` (an address from `scan_nodes`; None: this server): next cursor
    /// (0 when done) and the keys it returned.
    async fn scan_page(
        &self,
        node: Option<&str>,
        cursor: u64,
        pattern: &str,
        type_filter: Option<&str>,
        count: u32,
    ) -> Result<(u64, Vec<Key>), StoreError>;
    /// TYPE, PTTL and MEMORY USAGE of each key, pipelined.
    async fn meta(&self, keys: &[Key]) -> Result<Vec<(Key, KeyMeta)>, StoreError>;
    /// One figure of each key (PTTL or MEMORY USAGE), pipelined: one command per key, for
    /// ordering a whole listing. `None`: no TTL, or the key is gone.
    async fn measure(&self, keys: &[Key], what: crate::domain::Measure) -> Result<Vec<Option<i64>>, StoreError>;
    /// The length of each key by its type (STRLEN, LLEN, HLEN, SCARD, ZCARD, XLEN), pipelined;
    /// `None` for a module type or a key gone since.
    async fn lengths(&self, keys: &[(Key, crate::domain::KeyType)]) -> Result<Vec<Option<u64>>, StoreError>;
    /// One page of a value; `None` when the key does not exist.
    async fn value(&self, key: &[u8], cursor: &PageCursor) -> Result<Option<ValuePage>, StoreError>;
    async fn server_info(&self) -> Result<ServerInfo, StoreError>;
    /// Arms the write guard. Until armed, `write` sends nothing.
    fn set_writes_allowed(&self, allowed: bool);
    async fn write(&self, op: &WriteOp) -> Result<String, StoreError>;
    /// PING round trip, INFO, DBSIZE per database and SLOWLOG, for the Health tab.
    async fn health(&self) -> Result<crate::domain::RedisHealth, StoreError>;
    /// The slow log, clients, command counters and latency events of every node (the server,
    /// or every master of a cluster). Read-only.
    async fn server_report(&self) -> Result<Vec<crate::domain::ServerReport>, StoreError>;
    /// MONITOR on the server (every master of a cluster, merged): each command line to `each`
    /// until it answers false. Costly for the server: the caller bounds the session.
    async fn monitor(
        &self,
        each: &mut (dyn FnMut(crate::domain::MonitorLine) -> bool + Send),
    ) -> Result<(), StoreError>;
    /// HOTKEYS START (Redis 8.6+) for `secs`; false when the server has no HOTKEYS.
    async fn hotkeys_start(&self, secs: u64) -> Result<bool, StoreError>;
    /// HOTKEYS GET, merged over the nodes; None without a session or the command.
    async fn hotkeys(&self) -> Result<Option<crate::domain::HotKeys>, StoreError>;
    async fn hotkeys_stop(&self);
    /// PUBSUB CHANNELS `pattern` with their subscribers (NUMSUB; the first 1,000 channels),
    /// NUMPAT, and how many channels matched.
    async fn pubsub_channels(&self, pattern: &str) -> Result<(Vec<(String, u64)>, u64, usize), StoreError>;
    /// A read-only subscriber on `pattern` (PSUBSCRIBE): each message to `each` until it
    /// answers false.
    async fn subscribe(
        &self,
        pattern: &str,
        each: &mut (dyn FnMut(crate::domain::PubMessage) -> bool + Send),
    ) -> Result<(), StoreError>;
    /// INFO KEYSIZES (Redis 8): key size histograms without a scan; empty before.
    async fn key_sizes(&self) -> Result<Vec<crate::domain::KeySizes>, StoreError>;
    /// Keyspace hits and misses memscope's own commands caused (subtracted from INFO's).
    fn own_lookups(&self) -> (u64, u64);
    /// The memory layer's operations, in one pipeline. Writes among them need the write guard.
    async fn exec(&self, ops: &[crate::domain::CacheOp]) -> Result<Vec<crate::domain::CacheReply>, StoreError>;
}

/// The long-term tier: conversation logs and any other documents, read page by page.
#[async_trait::async_trait]
pub trait LongTermStore: Send + Sync {
    fn describe(&self) -> String;
    async fn ping(&self) -> Result<Duration, StoreError>;
    /// Conversations, newest activity first (a prefix filter orders by that field instead).
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError>;
    async fn count_conversations(&self, filter: &ConvFilter) -> Result<u64, StoreError>;
    /// Messages of one conversation in timestamp order, both timestamp forms merged.
    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError>;
    /// One document by path (`users/u-alice`); `None` when it does not exist.
    async fn document(&self, path: &str) -> Result<Option<Document>, StoreError>;
    /// Collection ids under a document path, or the root collections for `None`.
    async fn collections(&self, parent: Option<&str>) -> Result<Vec<String>, StoreError>;
    /// Documents of a collection path (`conversations/c1/messages`), by id.
    async fn documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError>;
    /// The last `limit` documents of a collection, last first, by `id_field`: a field holding
    /// the document's own id (LangGraph's `checkpoint_id`, whose ids sort by time). Firestore
    /// cannot scan document names backwards, but orders a field descending by its automatic
    /// index; SQLite orders the ids themselves.
    async fn last_documents(&self, collection: &str, id_field: &str, limit: u32) -> Result<Vec<Document>, StoreError>;
    /// The id of a collection's last document by `id_field` (as [`last_documents`](Self::last_documents)),
    /// reading that field only: what orders LangGraph threads by their newest checkpoint without
    /// pulling each checkpoint.
    async fn last_document_id(&self, collection: &str, id_field: &str) -> Result<Option<String>, StoreError>;
    /// A thread under other names ([`ThreadPlace`]), in the order [`messages`](Self::messages)
    /// gives memscope's own: by the time field (each timestamp form a run, merged), then the
    /// messages without one in id order. `None`: this store cannot order by a field it does not
    /// index (SQLite indexes memscope's names only), and the caller reads the thread whole.
    async fn messages_at(
        &self,
        _place: &ThreadPlace,
        _after: Option<&Cursor>,
        _limit: u32,
    ) -> Result<Option<Page<Message>>, StoreError> {
        Ok(None)
    }
    /// The document browser's listing: [`documents`](Self::documents), plus the documents that
    /// do not exist but hold subcollections (a deep collection path leaves them; the Firebase
    /// console lists them in italics) — each with no fields and no update time.
    async fn browse_documents(
        &self,
        collection: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError> {
        self.documents(collection, after, limit).await
    }
    /// The documents of every collection a pattern names (`users/*/chats`), in path order: a
    /// collection-group read — one query, not one per parent (which may not even exist: a
    /// per-user collection often has no user document above it).
    async fn group_documents(
        &self,
        pattern: &crate::domain::CollectionPattern,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Document>, StoreError>;
    /// Create or replace a document (the memory layer, the demo and tests write with it).
    async fn put(&self, path: &str, fields: Vec<(String, FsValue)>) -> Result<(), StoreError>;
    /// Create or replace many documents in as few round trips as the store allows.
    async fn put_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<(), StoreError> {
        for (path, fields) in docs {
            self.put(&path, fields).await?;
        }
        Ok(())
    }
    /// Many documents by path, in the order asked (`None` where missing), in as few round
    /// trips as the store allows.
    async fn get_many(&self, paths: &[String]) -> Result<Vec<Option<Document>>, StoreError> {
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            out.push(self.document(p).await?);
        }
        Ok(out)
    }
    /// Create each document only where none exists, each on its own, decided by the store
    /// itself (a precondition, a unique key): which ones were created. A document that exists
    /// is left as it is. Two writers creating one document: exactly one gets `true`.
    async fn create_many(&self, docs: Vec<(String, Vec<(String, FsValue)>)>) -> Result<Vec<bool>, StoreError>;
    /// Delete documents by path (missing ones are fine); only their fields, never subcollections.
    async fn delete_many(&self, paths: &[String]) -> Result<(), StoreError>;
    /// Apply [`crate::domain::Merge`]s, each atomically (increments are done by the store).
    async fn merge_many(&self, merges: Vec<crate::domain::Merge>) -> Result<(), StoreError>;
}

/// The vector tier: an index of embeddings with metadata, in namespaces.
#[async_trait::async_trait]
pub trait VectorStore: Send + Sync {
    fn describe(&self) -> String;
    async fn stats(&self) -> Result<crate::domain::IndexStats, StoreError>;
    async fn query(&self, q: &crate::domain::VectorQuery) -> Result<crate::domain::QueryResult, StoreError>;
    /// Records by id (at most 1,000 per call); missing ids are left out.
    async fn fetch(&self, ids: &[String], namespace: &str) -> Result<Vec<crate::domain::VectorRecord>, StoreError>;
    /// Ids by prefix, paged (`limit` at most 100 on Pinecone).
    async fn list_ids(
        &self,
        prefix: Option<&str>,
        namespace: &str,
        token: Option<&str>,
        limit: u32,
    ) -> Result<crate::domain::IdPage, StoreError>;
    /// Upsert records, batched by the implementation; returns how many were written.
    async fn upsert(&self, records: Vec<crate::domain::VectorRecord>, namespace: &str) -> Result<u64, StoreError>;
    async fn delete(&self, ids: &[String], namespace: &str) -> Result<(), StoreError>;
    /// Indexes that embed for themselves (Pinecone integrated inference) search by text;
    /// `None` means the caller must embed the query.
    async fn search_text(
        &self,
        _text: &str,
        _top_k: u32,
        _namespace: &str,
        _filter: Option<&serde_json::Value>,
    ) -> Result<Option<crate::domain::QueryResult>, StoreError> {
        Ok(None)
    }
}

/// Whether files memscope opens may be written. In read-only mode a SQLite file is opened
/// read-only and never given schema (servers are guarded per write instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

impl Access {
    /// Read-write only when the profile allows writes.
    pub fn of(cfg: &crate::config::Config) -> Access {
        if cfg.read_only { Access::ReadOnly } else { Access::ReadWrite }
    }
}

/// Where a thread's message documents are, under a layout's names.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPlace {
    /// The conversation document's path (`conversations/c1`).
    pub conversation: String,
    /// The messages' subcollection under it.
    pub messages: String,
    /// The field holding each message's time.
    pub ts_field: String,
}

impl ThreadPlace {
    /// memscope's own: `conversations/{id}/messages`, `timestamp`.
    pub fn memscope(conversation: &str) -> ThreadPlace {
        ThreadPlace {
            conversation: format!("conversations/{conversation}"),
            messages: "messages".into(),
            ts_field: "timestamp".into(),
        }
    }
}

/// Merge chronologically sorted message runs ([`TIMED_RUNS`](crate::domain::TIMED_RUNS))
/// into one page of at most `limit`, taking the earliest head each time. `runs[i]` is what run
/// `i` offers now and whether it may hold more behind that: a run that may hold more and has
/// nothing left to offer stops the merge (what it holds next could be earlier than any other
/// head). A message with no usable instant (an ISO string that does not parse, "") is passed
/// over — the untimed pass lists it after every timed one — so that it never holds back the
/// runs behind it. Returns the page and how many of each run's messages were taken or passed.
pub(crate) fn merge_runs(runs: &[(Vec<Message>, bool)], limit: usize) -> (Vec<Message>, Vec<usize>) {
    let mut taken = vec![0; runs.len()];
    let mut items = Vec::with_capacity(limit);
    while items.len() < limit {
        for ((run, _), t) in runs.iter().zip(taken.iter_mut()) {
            while run.get(*t).is_some_and(|m| m.timestamp.is_none()) {
                *t += 1;
            }
        }
        if runs.iter().zip(&taken).any(|((run, more), t)| *more && *t == run.len()) {
            break;
        }
        let next = runs
            .iter()
            .zip(&taken)
            .enumerate()
            .filter_map(|(i, ((run, _), t))| run.get(*t).map(|m| (i, m.sort_key())))
            .min_by(|a, b| a.1.cmp(&b.1))
            .map(|(i, _)| i);
        let Some(i) = next else { break };
        items.push(runs[i].0[taken[i]].clone());
        taken[i] += 1;
    }
    (items, taken)
}

/// One page of a keyspace scan.
#[derive(Debug)]
pub struct ScanPage {
    /// Index in [`KeyspaceScan::nodes`].
    pub node: usize,
    pub keys: Vec<crate::domain::Key>,
    /// The node's cursor came back to 0: its keys are all listed.
    pub node_done: bool,
}

/// Every key of the keyspace, streamed: each node of [`KeyStore::scan_nodes`] (the server, or
/// every master of a cluster) scanned with its own cursor, all nodes at once. Pages come in a
/// bounded queue (a slow reader slows the scan, memory stays flat). A node that fails ends with
/// an error naming it; the others keep going.
pub struct KeyspaceScan {
    pub nodes: Vec<crate::domain::ScanNode>,
    /// Sum of the nodes' DBSIZE when every node said.
    pub total: Option<u64>,
    rx: tokio::sync::mpsc::Receiver<Result<ScanPage, StoreError>>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl KeyspaceScan {
    pub async fn start(
        store: Arc<dyn KeyStore>,
        pattern: &str,
        type_filter: Option<&str>,
        count: u32,
    ) -> Result<KeyspaceScan, StoreError> {
        let nodes = store.scan_nodes().await?;
        let total = nodes.iter().map(|n| n.keys).sum::<Option<u64>>();
        let (tx, rx) = tokio::sync::mpsc::channel(2 * nodes.len().max(1));
        let mut tasks = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let (store, tx, addr) = (store.clone(), tx.clone(), node.addr.clone());
            let (pattern, type_filter) = (pattern.to_string(), type_filter.map(str::to_string));
            let h = tokio::spawn(async move {
                let mut cursor = 0u64;
                let mut listed = 0u64;
                loop {
                    let r = store.scan_page(addr.as_deref(), cursor, &pattern, type_filter.as_deref(), count).await;
                    let page = match r {
                        Ok((next, keys)) => {
                            cursor = next;
                            listed += keys.len() as u64;
                            Ok(ScanPage { node: i, keys, node_done: next == 0 })
                        }
                        Err(e) => Err(mid_scan(addr.as_deref(), listed, e)),
                    };
                    let stop = !matches!(page, Ok(ScanPage { node_done: false, .. }));
                    if tx.send(page).await.is_err() || stop {
                        return;
                    }
                }
            });
            tasks.push(h.abort_handle());
        }
        Ok(KeyspaceScan { nodes, total, rx, tasks })
    }

    /// The next page of any node; None when every node is done (or failed).
    pub async fn next_page(&mut self) -> Option<Result<ScanPage, StoreError>> {
        self.rx.recv().await
    }
}

impl Drop for KeyspaceScan {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A node's scan failed: say which node and how many of its keys were listed before.
fn mid_scan(addr: Option<&str>, listed: u64, e: StoreError) -> StoreError {
    let Some(addr) = addr else { return e };
    let what = format!("the scan of cluster node {addr} stopped after {listed} of its keys");
    match e {
        StoreError::Unreachable(m) => StoreError::Unreachable(format!("{what}: {m}")),
        StoreError::Timeout(ms) => StoreError::Unreachable(format!("{what}: no reply within {ms} ms")),
        StoreError::Server(m) => StoreError::Server(format!("{what}: {m}")),
        other => StoreError::Other(format!("{what}: {other}")),
    }
}

/// A page of documents by path, with the paths of missing documents that hold subcollections
/// (Firestore's "phantom" documents) merged in by path, at most `limit`. A phantom has no
/// fields and no update time.
pub(crate) fn with_phantoms(
    docs: Vec<crate::domain::Document>,
    mut phantoms: Vec<String>,
    limit: u32,
) -> Vec<crate::domain::Document> {
    phantoms.sort();
    phantoms.dedup();
    let mut out: Vec<crate::domain::Document> = docs;
    out.extend(phantoms.into_iter().map(|path| crate::domain::Document {
        path,
        fields: Vec::new(),
        update_time: None,
    }));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out.truncate(limit as usize);
    out
}
