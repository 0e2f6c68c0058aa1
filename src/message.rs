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
    Scan,
    Meta,
    /// A whole listing measured and ordered (sorting by TTL or size).
    Sort,
    Value,
    Info,
    Write,
    /// Long-term tier: the conversation list, its count, a thread, side documents, the browser.
    LtList,
    LtCount,
    LtThread,
    LtDocs,
    LtBrowse,
    /// Vector tier: a search, index stats, a "why not" lookup.
    VecSearch,
    VecStats,
    VecWhy,
    /// The health poller (runs for the backend's lifetime).
    Health,
    /// Across the tiers: a thread's badges, a message's trace, an audit (or repair).
    Badges,
    Trace,
    Audit,
    /// The Keys tab's keyspace analysis.
    Analyze,
    /// The Keys tab's server view.
    Insight,
    /// `:export FILE`.
    Export,
    /// `:replay FILE`: a recording read.
    Replay,
}

/// UI → backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Scan {
        req: RequestId,
        pattern: String,
        type_filter: Option<String>,
    },
    /// Abort whatever runs in the slot.
    Cancel(Slot),
    /// TYPE, TTL and size of the keys on screen.
    Meta {
        req: RequestId,
        keys: Vec<Key>,
    },
    /// Measure every key of the listing (shared, not copied) and order it, off the UI thread.
    SortKeys {
        req: RequestId,
        keys: std::sync::Arc<Vec<Key>>,
        by: crate::keytree::SortBy,
    },
    Value {
        req: RequestId,
        key: Key,
        cursor: PageCursor,
    },
    Info {
        req: RequestId,
    },
    SelectDb {
        req: RequestId,
        db: u32,
    },
    /// Arms or disarms the backend's own write guard.
    SetWriteMode(bool),
    Write {
        req: RequestId,
        op: WriteOp,
    },
    Conversations {
        req: RequestId,
        filter: ConvFilter,
        after: Option<Cursor>,
        limit: u32,
    },
    CountConversations {
        req: RequestId,
        filter: ConvFilter,
    },
    /// Sample the stores for known layouts (the list is empty under the configured one).
    DetectLayouts {
        req: RequestId,
    },
    Messages {
        req: RequestId,
        conversation: String,
        after: Option<Cursor>,
        limit: u32,
    },
    /// Several documents by path (side panel: conversation, user, agent).
    Documents {
        req: RequestId,
        paths: Vec<String>,
    },
    /// One document for the browser.
    Document {
        req: RequestId,
        path: String,
    },
    Collections {
        req: RequestId,
        parent: Option<String>,
    },
    ListDocuments {
        req: RequestId,
        collection: String,
        after: Option<Cursor>,
        limit: u32,
    },
    Search {
        req: RequestId,
        params: crate::search::SearchParams,
    },
    VectorStats {
        req: RequestId,
    },
    /// Where does `id` rank for this query, and why not higher?
    WhyNot {
        req: RequestId,
        params: crate::search::SearchParams,
        id: String,
    },
    /// Which of these messages the recent list and the vector tier hold.
    TierBadges {
        req: RequestId,
        conversation: String,
        ids: Vec<String>,
    },
    /// Follow one message across the three tiers.
    Trace {
        req: RequestId,
        conversation: String,
        message: String,
    },
    /// Cross-tier audit; with `repair` (write mode only) mend what it finds.
    Audit {
        req: RequestId,
        repair: bool,
    },
    /// One pass over the keyspace: what is eating Redis (`crate::analysis`).
    Analyze {
        req: RequestId,
        pattern: String,
    },
    /// The slow log, clients, command counters and latency events of every node.
    Insight {
        req: RequestId,
    },
    /// Write what a view shows to a file (`:export FILE`), off the UI thread.
    Export {
        req: RequestId,
        path: std::path::PathBuf,
        text: String,
        what: String,
    },
    /// Write a whole value to a file (`:export FILE` on a value larger than its page): read page
    /// after page (string windows after windows) in the backend, streamed to the file.
    ExportValue {
        req: RequestId,
        path: std::path::PathBuf,
        key: Key,
    },
    /// Read a `--record` file for the Health tab's replay (`:replay FILE`), off the UI thread.
    LoadReplay {
        req: RequestId,
        path: std::path::PathBuf,
    },
}

impl Command {
    pub fn slot(&self) -> Option<Slot> {
        Some(match self {
            Command::Scan { .. } => Slot::Scan,
            Command::Meta { .. } => Slot::Meta,
            Command::SortKeys { .. } => Slot::Sort,
            Command::Value { .. } => Slot::Value,
            Command::Info { .. } | Command::SelectDb { .. } => Slot::Info,
            Command::Write { .. } => Slot::Write,
            Command::Conversations { .. } => Slot::LtList,
            Command::CountConversations { .. } | Command::DetectLayouts { .. } => Slot::LtCount,
            Command::Messages { .. } => Slot::LtThread,
            Command::Documents { .. } => Slot::LtDocs,
            Command::Collections { .. } | Command::ListDocuments { .. } | Command::Document { .. } => Slot::LtBrowse,
            Command::Search { .. } => Slot::VecSearch,
            Command::VectorStats { .. } => Slot::VecStats,
            Command::WhyNot { .. } => Slot::VecWhy,
            Command::TierBadges { .. } => Slot::Badges,
            Command::Trace { .. } => Slot::Trace,
            Command::Audit { .. } => Slot::Audit,
            Command::Analyze { .. } => Slot::Analyze,
            Command::Insight { .. } => Slot::Insight,
            Command::Export { .. } | Command::ExportValue { .. } => Slot::Export,
            Command::LoadReplay { .. } => Slot::Replay,
            Command::Cancel(_) | Command::SetWriteMode(_) => return None,
        })
    }
}

/// Backend → UI.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    Scan(RequestId, Result<ScanBatch, StoreError>),
    Meta(RequestId, Result<Vec<(Key, KeyMeta)>, StoreError>),
    Value(RequestId, Result<Option<ValuePage>, StoreError>),
    Info(RequestId, Result<ServerInfo, StoreError>),
    Write(RequestId, Result<String, StoreError>),
    Conn(Tier, ConnState),
    LongTerm(RequestId, LtReply),
    Vector(RequestId, VecReply),
    /// A health probe's sample (from the poller; no request).
    Health(Box<crate::health::Sample>),
    Layer(RequestId, LayerReply),
    /// A keyspace analysis: its progress (keys read, of the keyspace's size), then its result.
    AnalysisProgress(RequestId, u64, Option<u64>),
    Analysis(RequestId, Result<Box<crate::analysis::Analysis>, StoreError>),
    Insight(RequestId, Result<Vec<crate::domain::ServerInsight>, StoreError>),
    /// A listing being measured for a sort (keys measured), then its order or why none.
    SortProgress(RequestId, u64),
    Sorted(RequestId, Result<Box<Sorted>, SortFailed>),
    /// An export written (its status line), or why not.
    Exported(RequestId, Result<String, String>),
    /// A recording read for the replay, or why not.
    Replay(RequestId, Result<Box<crate::replay::Cursor>, String>),
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

/// Replies of the cross-tier requests.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerReply {
    Badges(Box<crate::trace::Badges>),
    Trace(Box<crate::trace::Trace>),
    /// Where a running audit is (throttled).
    AuditProgress(crate::audit::Progress),
    Audit(Result<Box<crate::audit::Report>, StoreError>),
}

/// Replies of the vector tier.
#[derive(Debug, Clone, PartialEq)]
pub enum VecReply {
    Search(Result<crate::search::SearchOutcome, StoreError>),
    Stats(Result<crate::domain::IndexStats, StoreError>),
    WhyNot(Result<crate::search::WhyNot, StoreError>),
}

/// Replies of the long-term tier.
#[derive(Debug, Clone, PartialEq)]
pub enum LtReply {
    Conversations(Result<Page<Conversation>, StoreError>),
    /// The count, and what the layout passed over ([`ConversationReader::left_out`](crate::layout::ConversationReader::left_out)).
    Count(Result<u64, StoreError>, Option<String>),
    Messages(Result<Page<Message>, StoreError>),
    Documents(Result<Vec<(String, Option<Document>)>, StoreError>),
    Collections(Result<Vec<String>, StoreError>),
    ListDocuments(Result<Page<Document>, StoreError>),
    Detected(Result<crate::layout::Detection, StoreError>),
}
