//! `memscope audit`: do the three tiers agree? Read-only unless asked to repair.
//!
//! It walks the long-term store conversation by conversation and its messages page by page
//! (memory stays bounded by one page and one recent list), and for each page checks the vector
//! records of the relevant messages (fetch ≤ 1,000 ids) and, at the end of a conversation, its
//! Redis recent list against the newest messages. Then it pages through the vector ids (list, 100
//! per page) to find records whose message is gone, scans `session:*` and the recent lists for
//! conversations that do not exist, compares the embedder's dimension with the index's and reads
//! the repair queue. With `repair`, each finding is mended as soon as it is found, through the
//! memory layer (re-embed, delete orphans, rebuild lists, drain the queue).

mod conversations;
mod keys;
mod vectors;
use conversations::*;
use keys::*;
use vectors::*;

use crate::domain::{CacheOp, CacheReply, FsValue, Key, Merge, Message};
use crate::error::StoreError;
use crate::memory::{
    Memory, RecentMessage, recent_key, recent_window, text_item, vector_agrees, vector_disagreements, vector_id,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// At most this many findings are kept per kind (counts stay exact).
pub const KEEP_PER_KIND: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A relevant message without a vector record.
    MissingVector,
    /// A vector record whose message no longer exists.
    OrphanVector,
    /// A vector record whose metadata (conversation, user, role, timestamp, text) disagrees with its message.
    VectorMismatch,
    /// A vector record of an existing message stored under another id than
    /// [`crate::memory::vector_id`] (indexes written with bare message ids, where conversations
    /// that number their messages alike overwrite each other).
    LegacyVectorId,
    /// A recent list lacking some of the conversation's newest messages.
    RecentMissing,
    /// A recent list in another order than the messages' timestamps.
    RecentOrder,
    /// A recent list holding messages that are gone, changed or no longer among the newest.
    RecentStale,
    /// A recent list of a conversation that does not exist.
    RecentOrphan,
    /// A session pointing at a conversation that does not exist.
    SessionOrphan,
    /// A conversation whose `message_count` or `updated_at` disagrees with its messages.
    ConversationStats,
    /// The embedder's dimension differs from the index's.
    DimensionMismatch,
    /// A tier write that failed after the long-term write, waiting in the repair queue.
    PendingRepair,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::MissingVector,
        Kind::OrphanVector,
        Kind::VectorMismatch,
        Kind::LegacyVectorId,
        Kind::RecentMissing,
        Kind::RecentOrder,
        Kind::RecentStale,
        Kind::RecentOrphan,
        Kind::SessionOrphan,
        Kind::ConversationStats,
        Kind::DimensionMismatch,
        Kind::PendingRepair,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Kind::MissingVector => "missing_vector",
            Kind::OrphanVector => "orphan_vector",
            Kind::VectorMismatch => "vector_mismatch",
            Kind::LegacyVectorId => "legacy_vector_id",
            Kind::RecentMissing => "recent_missing",
            Kind::RecentOrder => "recent_order",
            Kind::RecentStale => "recent_stale",
            Kind::RecentOrphan => "recent_orphan",
            Kind::SessionOrphan => "session_orphan",
            Kind::ConversationStats => "conversation_stats",
            Kind::DimensionMismatch => "dimension_mismatch",
            Kind::PendingRepair => "pending_repair",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Kind::MissingVector => "messages that should have a vector and have none",
            Kind::OrphanVector => "vectors whose message no longer exists",
            Kind::VectorMismatch => "vector metadata that disagrees with its message",
            Kind::LegacyVectorId => "vectors keyed by a bare message id",
            Kind::RecentMissing => "recent lists missing newest messages",
            Kind::RecentOrder => "recent lists out of order",
            Kind::RecentStale => "recent lists holding stale messages",
            Kind::RecentOrphan => "recent lists of missing conversations",
            Kind::SessionOrphan => "sessions pointing at missing conversations",
            Kind::ConversationStats => "message_count/updated_at ≠ the messages",
            Kind::DimensionMismatch => "embedder dimension ≠ index dimension",
            Kind::PendingRepair => "pending tier writes in the repair queue",
        }
    }
    /// What `--repair` does about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Kind::MissingVector | Kind::VectorMismatch => "re-embed and upsert",
            Kind::OrphanVector => "delete the vector",
            Kind::LegacyVectorId => "re-key as conversation#message",
            Kind::RecentMissing | Kind::RecentOrder | Kind::RecentStale => "rebuild the list from long-term",
            Kind::RecentOrphan | Kind::SessionOrphan => "delete the key",
            Kind::ConversationStats => "set them from the messages",
            Kind::DimensionMismatch => "none: re-index with the right model, or configure the index's model",
            Kind::PendingRepair => "complete the write, then drop the entry",
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// The message ids concerned (for a recent list: the ids missing, misplaced or stale).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub detail: String,
}

impl Finding {
    /// One line naming what is concerned (at most `max_ids` message ids), then the detail.
    /// Not yet made safe for a terminal.
    pub fn summary(&self, max_ids: usize) -> String {
        let mut what = Vec::new();
        if let Some(c) = &self.conversation_id {
            what.push(format!("conversation {c}"));
        }
        if let Some(v) = &self.vector_id
            && !self.message_ids.contains(v)
        {
            what.push(format!("vector {v}"));
        }
        if let Some(key) = &self.key {
            what.push(format!("key {key}"));
        }
        if !self.message_ids.is_empty() {
            let ids: Vec<&str> = self.message_ids.iter().take(max_ids).map(String::as_str).collect();
            let more = self.message_ids.len().saturating_sub(max_ids);
            let more = if more > 0 { format!(" +{more}") } else { String::new() };
            what.push(format!("messages {}{more}", ids.join(", ")));
        }
        format!("{}: {}", what.join(", "), self.detail)
    }

    fn new(kind: Kind, detail: impl Into<String>) -> Finding {
        Finding { kind, conversation_id: None, message_ids: vec![], vector_id: None, key: None, detail: detail.into() }
    }
    fn conv(mut self, c: &str) -> Finding {
        self.conversation_id = Some(c.to_string());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Scanned {
    pub conversations: u64,
    pub messages: u64,
    pub vectors: u64,
    pub keys: u64,
    pub repair_entries: u64,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Exact counts per kind (findings beyond `KEEP_PER_KIND` are counted, not kept).
    pub counts: BTreeMap<Kind, u64>,
    pub scanned: Scanned,
    /// Findings mended, per kind (with `repair`).
    pub repaired: BTreeMap<Kind, u64>,
    /// Repairs that failed: what and why.
    pub repair_errors: Vec<String>,
    /// Tiers not checked, and why.
    pub skipped: Vec<String>,
    pub elapsed_ms: u64,
}

impl Report {
    pub fn drift(&self) -> u64 {
        self.counts.values().sum()
    }
    pub fn unrepaired(&self) -> u64 {
        self.counts.iter().map(|(k, n)| n.saturating_sub(*self.repaired.get(k).unwrap_or(&0))).sum()
    }
    fn add(&mut self, f: Finding) {
        let n = self.counts.entry(f.kind).or_default();
        *n += 1;
        if *n as usize <= KEEP_PER_KIND {
            self.findings.push(f);
        }
    }
    fn repaired(&mut self, k: Kind, n: u64) {
        *self.repaired.entry(k).or_default() += n;
    }
    pub fn json(&self, dry_run: bool) -> serde_json::Value {
        let counts: serde_json::Map<String, serde_json::Value> =
            Kind::ALL.iter().map(|k| (k.name().to_string(), (*self.counts.get(k).unwrap_or(&0)).into())).collect();
        let repaired: serde_json::Map<String, serde_json::Value> =
            self.repaired.iter().map(|(k, n)| (k.name().to_string(), (*n).into())).collect();
        serde_json::json!({
            "clean": self.drift() == 0,
            "drift": self.drift(),
            "counts": counts,
            "findings": self.findings,
            "scanned": self.scanned,
            "repaired": repaired,
            "repair_errors": self.repair_errors,
            "dry_run": dry_run,
            "skipped": self.skipped,
            "elapsed_ms": self.elapsed_ms,
        })
    }
    /// The plain-text report `memscope audit` prints.
    pub fn text(&self, repair: bool, dry_run: bool) -> String {
        use std::fmt::Write;
        let s = &self.scanned;
        let mut out = format!(
            "audited {} conversations, {} messages, {} vectors, {} Redis keys, {} repair entries in {:.1} s\n",
            s.conversations,
            s.messages,
            s.vectors,
            s.keys,
            s.repair_entries,
            self.elapsed_ms as f64 / 1000.0
        );
        for why in &self.skipped {
            let _ = writeln!(out, "not checked: {why}");
        }
        if self.drift() == 0 {
            out.push_str("no drift: the tiers agree\n");
            return out;
        }
        for k in Kind::ALL {
            let n = *self.counts.get(&k).unwrap_or(&0);
            if n == 0 {
                continue;
            }
            let fixed = match (repair, dry_run) {
                (true, true) => format!("  → would {}", k.remedy()),
                (true, false) => format!("  → repaired {}", self.repaired.get(&k).unwrap_or(&0)),
                _ => String::new(),
            };
            let _ = writeln!(out, "{:<20} {n:>7}  {}{fixed}", k.name(), k.describe());
            for f in self.findings.iter().filter(|f| f.kind == k).take(20) {
                let line = f.summary(8);
                let _ = writeln!(out, "    {}", crate::text::sanitize_str(&line));
            }
            let shown = self.findings.iter().filter(|f| f.kind == k).count().min(20) as u64;
            if n > shown {
                let _ = writeln!(out, "    … {} more (--json lists up to {KEEP_PER_KIND} per kind)", n - shown);
            }
        }
        for e in &self.repair_errors {
            let _ = writeln!(out, "repair failed: {e}");
        }
        if !repair {
            out.push_str("to mend: memscope --write audit --repair (see first: --repair --dry-run)\n");
        }
        out
    }
}

/// Where the audit is, for a progress line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    /// Known total for this phase, if any.
    pub total: Option<u64>,
    pub drift: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Mend what is found (the caller has armed the stores' write guards).
    pub repair: bool,
    /// With `repair`: say what would be done, write nothing.
    pub dry_run: bool,
    /// A suspected drift is checked again once it has been seen this long, and reported only
    /// if it is still there: a message saved a moment ago is written to the long-term store
    /// before Redis and the vector tier, so an audit under live traffic would otherwise report
    /// writes in flight.
    pub settle: std::time::Duration,
}

/// How long a suspected drift settles before it is checked again, by default.
pub const DEFAULT_SETTLE: std::time::Duration = std::time::Duration::from_millis(1500);

impl Default for Options {
    fn default() -> Options {
        Options { repair: false, dry_run: false, settle: DEFAULT_SETTLE }
    }
}

/// Suspects are re-checked in batches of at most this many (memory stays bounded).
const SUSPECTS: usize = 1000;

struct Run<'a> {
    mem: &'a Memory,
    opts: Options,
    report: Report,
    progress: &'a mut (dyn FnMut(&Progress) + Send),
    /// Messages whose vector looked missing or wrong, when first seen.
    vector_suspects: Vec<(Message, std::time::Instant)>,
    /// Conversations whose recent list or stats looked wrong, when first seen.
    conv_suspects: Vec<(String, std::time::Instant)>,
    /// Vector records with no conversation/message metadata: not the layer's, not checked.
    foreign_vectors: u64,
}

impl Run<'_> {
    fn writes(&self) -> bool {
        self.opts.repair && !self.opts.dry_run
    }
    fn tick(&mut self, phase: &'static str, done: u64, total: Option<u64>) {
        let p = Progress { phase, done, total, drift: self.report.drift() };
        (self.progress)(&p);
    }
    fn fail(&mut self, what: &str, e: StoreError) {
        self.report.repair_errors.push(format!("{what}: {e}"));
    }
}

/// Audit the tiers the layer is built on.
pub async fn run(
    mem: &Memory,
    opts: Options,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Report, StoreError> {
    let t0 = std::time::Instant::now();
    let mut r = Run {
        mem,
        opts,
        report: Report::default(),
        progress,
        vector_suspects: vec![],
        conv_suspects: vec![],
        foreign_vectors: 0,
    };
    if mem.redis().is_none() {
        r.report.skipped.push("Redis (not configured)".into());
    }
    if mem.vector().is_none() {
        r.report.skipped.push("vector tier (not configured)".into());
    }
    repair_queue(&mut r).await?;
    dimension(&mut r).await;
    conversations(&mut r).await?;
    settle_vectors(&mut r).await?;
    settle_conversations(&mut r).await?;
    orphan_vectors(&mut r).await?;
    if r.foreign_vectors > 0 {
        // Never a silent "clean" over records the audit cannot tie to a message.
        let n = r.foreign_vectors;
        r.report.skipped.push(format!(
            "{n} vector record{} without conversation_id/message_id metadata (written by another tool or layout)",
            if n == 1 { "" } else { "s" }
        ));
    }
    orphan_keys(&mut r).await?;
    r.report.elapsed_ms = t0.elapsed().as_millis() as u64;
    Ok(r.report)
}

async fn repair_queue(r: &mut Run<'_>) -> Result<(), StoreError> {
    let mut after: Option<String> = None;
    loop {
        let (page, more) = r.mem.repairs(after.as_deref(), 300).await?;
        after = page.last().map(|(p, _)| p.clone());
        for (path, rep) in page {
            r.report.scanned.repair_entries += 1;
            let mut f = Finding::new(
                Kind::PendingRepair,
                format!("{} write failed: {}", rep.tier, rep.error.chars().take(200).collect::<String>()),
            )
            .conv(&rep.conversation_id);
            f.message_ids = rep.message_id.iter().cloned().collect();
            f.key = Some(path.clone());
            r.report.add(f);
            if r.writes() {
                match complete(r.mem, &rep).await {
                    Ok(()) => match r.mem.long_term().delete_many(std::slice::from_ref(&path)).await {
                        Ok(()) => r.report.repaired(Kind::PendingRepair, 1),
                        Err(e) => r.fail(&path, e),
                    },
                    Err(e) => r.fail(&path, e),
                }
            }
        }
        let n = r.report.scanned.repair_entries;
        r.tick("repair queue", n, None);
        if !more {
            return Ok(());
        }
    }
}

/// Complete one queued tier write.
async fn complete(mem: &Memory, rep: &crate::memory::Repair) -> Result<(), StoreError> {
    match (rep.tier.as_str(), &rep.message_id) {
        ("vector", Some(id)) => {
            let path = crate::memory::message_path(&rep.conversation_id, id);
            match mem.long_term().document(&path).await? {
                Some(doc) => {
                    let m = Message::from_doc(doc);
                    if mem.is_relevant(&m.role, &m.content) {
                        mem.embed_messages(&[m]).await?;
                    }
                    Ok(())
                }
                None => Ok(()), // the message is gone: nothing to embed
            }
        }
        _ => mem.rebuild_recent(std::slice::from_ref(&rep.conversation_id)).await,
    }
}
