//! The channel protocol between the UI task and the backend task.

use crate::domain::{
    ConnState, ConvFilter, Conversation, Cursor, Document, Key, KeyMeta, Message, Page, PageCursor, ScanBatch,
    ServerInfo, Tier, ValuePage, WriteOp,
};
use crate::error::StoreError;

/// Identifies one request; replies carry it back so late ones can be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RequestId(pub u64);

/// At most one request per slot runs at a time: a new one aborts the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Redis: the listing, the keys on screen measured, a listing measured and ordered (a sort
    /// by TTL or size), the open value, INFO, a write, the keyspace analysis, the server view.
    Scan,
    Meta,
    Sort,
    Value,
    Info,
    Write,
    Analyze,
    Server,
    /// The profiler's session (MONITOR), and its filter's update.
    Profile,
    ProfileFilter,
    /// The pub/sub view's subscriber.
    PubSub,
    /// Long-term tier: the conversation list, its count (or a detection), a thread, side
    /// documents, the document browser.
    Conversations,
    Count,
    Thread,
    SideDocs,
    Browser,
    /// Vector tier: a search, index stats, a "why not" lookup.
    Search,
    IndexStats,
    WhyNot,
    Recall,
    /// The memory layer across the tiers: a thread's badges, a message's trace, an audit.
    Badges,
    Trace,
    Audit,
    /// Files: `:export FILE`, a `:replay FILE` recording read.
    Export,
    Replay,
    /// The health poller (runs for the backend's lifetime).
    Health,
}

/// UI → backend: a request to one tier (or a file), carrying its id; or a control message.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Redis(RequestId, RedisCmd),
    LongTerm(RequestId, LongTermCmd),
    Vector(RequestId, VectorCmd),
    Memory(RequestId, MemoryCmd),
    File(RequestId, FileCmd),
    /// Abort whatever runs in the slot.
    Cancel(Slot),
    /// Arms or disarms the backend's own write guard.
    SetWriteMode(bool),
}

impl Command {
    /// The slot a request runs in: the one place that decides it.
    pub fn slot(&self) -> Option<Slot> {
        Some(match self {
            Command::Redis(_, c) => c.slot(),
            Command::LongTerm(_, c) => c.slot(),
            Command::Vector(_, c) => c.slot(),
            Command::Memory(_, c) => c.slot(),
            Command::File(_, c) => c.slot(),
            Command::Cancel(_) | Command::SetWriteMode(_) => return None,
        })
    }

    /// A short name for the log.
    pub fn name(&self) -> String {
        match self {
            Command::Redis(_, c) => format!("redis {:?}", c.slot()),
            Command::LongTerm(_, c) => format!("long-term {:?}", c.slot()),
            Command::Vector(_, c) => format!("vector {:?}", c.slot()),
            Command::Memory(_, c) => format!("memory {:?}", c.slot()),
            Command::File(_, c) => format!("file {:?}", c.slot()),
            Command::Cancel(s) => format!("cancel {s:?}"),
            Command::SetWriteMode(on) => format!("write mode {on}"),
        }
    }
}

/// The Keys tab's requests of Redis.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisCmd {
    Scan {
        pattern: String,
        type_filter: Option<String>,
    },
    /// TYPE, TTL and size of the keys on screen.
    Meta {
        keys: Vec<Key>,
    },
    /// Measure every key of the listing (shared, not copied) and order it, off the UI thread.
    Sort {
        keys: std::sync::Arc<Vec<Key>>,
        by: crate::keytree::SortBy,
    },
    /// A page of a value, decoded and drawn in the backend (`format`: the one `F` chose,
    /// None for each value's own).
    Value {
        key: Key,
        cursor: PageCursor,
        format: Option<crate::decode::Format>,
    },
    Info,
    SelectDb {
        db: u32,
    },
    Write {
        op: WriteOp,
    },
    /// One pass over the keyspace: what is eating Redis (`crate::analysis`).
    Analyze {
        pattern: String,
    },
    /// The slow log, clients, command counters and latency events of every node.
    Server,
    /// A bounded MONITOR session (`:profile`): snapshots every half second, then the last.
    Profile {
        seconds: u64,
        max_lines: u64,
    },
    /// `:pubsub PATTERN`: the channels and a read-only subscriber, snapshots until cancelled.
    PubSub {
        pattern: String,
    },
    /// The running session's tail filter (no reply).
    ProfileFilter {
        filter: crate::analysis::profile::TailFilter,
    },
}

impl RedisCmd {
    pub fn slot(&self) -> Slot {
        match self {
            RedisCmd::Scan { .. } => Slot::Scan,
            RedisCmd::Meta { .. } => Slot::Meta,
            RedisCmd::Sort { .. } => Slot::Sort,
            RedisCmd::Value { .. } => Slot::Value,
            RedisCmd::Info | RedisCmd::SelectDb { .. } => Slot::Info,
            RedisCmd::Write { .. } => Slot::Write,
            RedisCmd::Analyze { .. } => Slot::Analyze,
            RedisCmd::Server => Slot::Server,
            RedisCmd::Profile { .. } => Slot::Profile,
            RedisCmd::ProfileFilter { .. } => Slot::ProfileFilter,
            RedisCmd::PubSub { .. } => Slot::PubSub,
        }
    }
}

/// The Conversations tab's requests of the long-term tier (conversations and threads through
/// the profile's layout, documents from the store).
#[derive(Debug, Clone, PartialEq)]
pub enum LongTermCmd {
    Conversations {
        filter: ConvFilter,
        after: Option<Cursor>,
        limit: u32,
    },
    Count {
        filter: ConvFilter,
    },
    /// Sample the stores for known layouts (the list is empty under the configured one).
    Detect,
    Messages {
        conversation: String,
        after: Option<Cursor>,
        limit: u32,
    },
    /// Several documents by path (side panel: conversation, user, agent).
    SideDocs {
        paths: Vec<String>,
    },
    /// One document for the browser.
    Document {
        path: String,
    },
    Collections {
        parent: Option<String>,
    },
    ListDocuments {
        collection: String,
        after: Option<Cursor>,
        limit: u32,
    },
}

impl LongTermCmd {
    pub fn slot(&self) -> Slot {
        match self {
            LongTermCmd::Conversations { .. } => Slot::Conversations,
            LongTermCmd::Count { .. } | LongTermCmd::Detect => Slot::Count,
            LongTermCmd::Messages { .. } => Slot::Thread,
            LongTermCmd::SideDocs { .. } => Slot::SideDocs,
            LongTermCmd::Document { .. } | LongTermCmd::Collections { .. } | LongTermCmd::ListDocuments { .. } => {
                Slot::Browser
            }
        }
    }
}

/// The Semantic Search tab's requests of the vector tier.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorCmd {
    Search {
        params: crate::search::SearchParams,
    },
    Stats,
    /// Where does `id` rank for this query, and why not higher?
    WhyNot {
        params: crate::search::SearchParams,
        id: String,
    },
    /// recall@k of this query's results (`returned`, best first) against an exact pass.
    Recall {
        params: crate::search::SearchParams,
        returned: Vec<String>,
    },
}

impl VectorCmd {
    pub fn slot(&self) -> Slot {
        match self {
            VectorCmd::Search { .. } => Slot::Search,
            VectorCmd::Stats => Slot::IndexStats,
            VectorCmd::WhyNot { .. } => Slot::WhyNot,
            VectorCmd::Recall { .. } => Slot::Recall,
        }
    }
}

/// Requests of the memory layer, across the tiers.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryCmd {
    /// Which of these messages the recent list and the vector tier hold.
    Badges { conversation: String, ids: Vec<String> },
    /// Follow one message across the three tiers.
    Trace { conversation: String, message: String },
    /// Cross-tier audit; with `repair` (write mode only) mend what it finds.
    Audit { repair: bool },
}

impl MemoryCmd {
    pub fn slot(&self) -> Slot {
        match self {
            MemoryCmd::Badges { .. } => Slot::Badges,
            MemoryCmd::Trace { .. } => Slot::Trace,
            MemoryCmd::Audit { .. } => Slot::Audit,
        }
    }
}

/// Files, written and read off the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub enum FileCmd {
    /// Write what a view shows to a file (`:export FILE`).
    Export { path: std::path::PathBuf, text: String, what: String },
    /// Write a whole value to a file (`:export FILE` on a value larger than its page): read page
    /// after page (string windows after windows) from Redis, streamed to the file.
    ExportValue { path: std::path::PathBuf, key: Key },
    /// Read a `--record` file for the Health tab's replay (`:replay FILE`).
    LoadReplay { path: std::path::PathBuf },
}

impl FileCmd {
    pub fn slot(&self) -> Slot {
        match self {
            FileCmd::Export { .. } | FileCmd::ExportValue { .. } => Slot::Export,
            FileCmd::LoadReplay { .. } => Slot::Replay,
        }
    }
}

/// Backend → UI: a connection's state, a health sample, or the reply to a request, in the
/// group of its command.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    Conn(Tier, ConnState),
    /// A health probe's sample (from the poller; no request).
    Health(Box<crate::health::Sample>),
    Redis(RequestId, RedisReply),
    LongTerm(RequestId, LongTermReply),
    Vector(RequestId, VectorReply),
    Memory(RequestId, MemoryReply),
    File(RequestId, FileReply),
}

/// Replies of Redis.
#[derive(Debug, Clone, PartialEq)]
pub enum RedisReply {
    Scan(Result<ScanBatch, StoreError>),
    Meta(Result<Vec<(Key, KeyMeta)>, StoreError>),
    Value(Result<Option<Box<ValuePage>>, StoreError>),
    Info(Result<ServerInfo, StoreError>),
    Write(Result<String, StoreError>),
    /// A listing being measured for a sort (keys measured), then its order or why none.
    SortProgress(u64),
    Sorted(Result<Box<Sorted>, SortFailed>),
    /// A keyspace analysis: its progress (keys read, of the keyspace's size), then its result.
    AnalysisProgress(u64, Option<u64>),
    Analysis(Result<Box<crate::analysis::Analysis>, StoreError>),
    Server(Result<Vec<crate::domain::ServerReport>, StoreError>),
    /// A profiling session's snapshot (`stopped` set on the last one), or why none started.
    Profile(Result<Box<crate::analysis::profile::ProfileSnapshot>, StoreError>),
    PubSub(Result<Box<crate::analysis::pubsub::PubSubSnapshot>, StoreError>),
}

/// Replies of files.
#[derive(Debug, Clone, PartialEq)]
pub enum FileReply {
    /// An export written (its status line), or why not.
    Exported(Result<String, String>),
    /// A recording read for the replay, or why not.
    Replay(Result<Box<crate::replay::Cursor>, String>),
}

/// A listing's order by TTL or size, for exactly `keys` (the listing it was asked for).
#[derive(Debug, Clone)]
pub struct Sorted {
    pub keys: std::sync::Arc<Vec<Key>>,
    pub order: crate::keytree::KeyOrder,
    /// What was measured of each key (`keys[i]`): bytes by size, milliseconds left by TTL;
    /// empty by name. The columns show these, not older figures.
    pub metrics: std::sync::Arc<Vec<Option<i64>>>,
    pub took_ms: u64,
}

impl PartialEq for Sorted {
    fn eq(&self, o: &Sorted) -> bool {
        std::sync::Arc::ptr_eq(&self.keys, &o.keys) && self.order.order == o.order.order
    }
}

/// A sort that could not measure every key: why, and how many it had measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SortFailed {
    pub error: StoreError,
    pub measured: u64,
}

/// Replies of the memory layer.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryReply {
    Badges(Box<crate::trace::Badges>),
    Trace(Box<crate::trace::Trace>),
    /// Where a running audit is (throttled).
    AuditProgress(crate::audit::Progress),
    Audit(Result<Box<crate::audit::Report>, StoreError>),
}

/// Replies of the vector tier.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorReply {
    Search(Result<crate::search::SearchOutcome, StoreError>),
    Stats(Result<crate::domain::IndexStats, StoreError>),
    WhyNot(Result<crate::search::WhyNot, StoreError>),
    Recall(Result<crate::search::Recall, StoreError>),
}

/// Replies of the long-term tier.
#[derive(Debug, Clone, PartialEq)]
pub enum LongTermReply {
    Conversations(Result<Page<Conversation>, StoreError>),
    /// The count, and what the layout passed over ([`ConversationReader::left_out`](crate::layout::ConversationReader::left_out)).
    Count(Result<u64, StoreError>, Option<String>),
    Messages(Result<Page<Message>, StoreError>),
    /// The side panel's documents, or the browser's one.
    Documents(Result<Vec<(String, Option<Document>)>, StoreError>),
    Collections(Result<Vec<String>, StoreError>),
    ListDocuments(Result<Page<Document>, StoreError>),
    Detected(Result<crate::layout::Detection, StoreError>),
}
