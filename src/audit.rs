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

async fn dimension(r: &mut Run<'_>) {
    let Some(v) = r.mem.vector() else { return };
    let index = match v.store.stats().await {
        Ok(s) => s.dimension,
        Err(e) => {
            r.report.skipped.push(format!("index dimension ({e})"));
            return;
        }
    };
    let Some(embedder) = &v.embedder else { return };
    let model = match embedder.dimension() {
        Some(d) => Some(d),
        None => embedder
            .embed(&["dimension probe".into()], crate::embed::InputType::Query)
            .await
            .ok()
            .and_then(|mut x| x.pop().map(|v| v.len())),
    };
    if let (Some(i), Some(m)) = (index, model)
        && i as usize != m
    {
        r.report.add(Finding::new(
            Kind::DimensionMismatch,
            format!("the embedder ({}) makes {m}-dimensional vectors; the index holds {i}", embedder.describe()),
        ));
    }
}

async fn conversations(r: &mut Run<'_>) -> Result<(), StoreError> {
    let total = r.mem.long_term().count_conversations(&crate::domain::ConvFilter::All).await.ok();
    let mut cursor = None;
    loop {
        // Browsed, not queried: conversations whose messages exist without a document (a query
        // never returns those) are audited too.
        let page = r.mem.long_term().browse_documents("conversations", cursor.as_ref(), 100).await?;
        for d in &page.items {
            conversation(r, d.id()).await?;
            r.report.scanned.conversations += 1;
            let n = r.report.scanned.conversations;
            if n.is_multiple_of(10) {
                r.tick("conversations", n, total);
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let n = r.report.scanned.conversations;
    r.tick("conversations", n, total);
    Ok(())
}

async fn conversation(r: &mut Run<'_>, c: &str) -> Result<(), StoreError> {
    let t = read_conversation(r, c, true).await?;
    if !conversation_findings(r, c, &t).await?.is_empty() {
        r.conv_suspects.push((c.to_string(), std::time::Instant::now()));
        if r.conv_suspects.len() >= SUSPECTS {
            settle_conversations(r).await?;
        }
    }
    Ok(())
}

/// What the audit reads of one conversation: its newest messages, how many there are, and the
/// newest instant among them.
struct ConvRead {
    newest: Vec<Message>,
    count: u64,
    last: Option<crate::domain::Ts>,
    untimed: u64,
    doc: Option<crate::domain::Conversation>,
}

/// Read a conversation's messages page by page (memory bounded by one page and the recent
/// list's length); with `check_vectors`, each page's vector records are checked on the way.
async fn read_conversation(r: &mut Run<'_>, c: &str, with_vectors: bool) -> Result<ConvRead, StoreError> {
    let keep = r.mem.config().recent_messages as usize;
    let mut out = ConvRead { newest: vec![], count: 0, last: None, untimed: 0, doc: None };
    let mut tail: std::collections::VecDeque<Message> = std::collections::VecDeque::with_capacity(keep + 1);
    let mut cursor = None;
    loop {
        let page = r.mem.long_term().messages(c, cursor.as_ref(), 500).await?;
        if with_vectors {
            r.report.scanned.messages += page.items.len() as u64;
            check_vectors(r, c, &page.items).await?;
        }
        for m in page.items {
            out.count += 1;
            match m.timestamp {
                Some(t) => out.last = out.last.max(Some(t)),
                None => out.untimed += 1,
            }
            tail.push_back(m);
            if tail.len() > keep {
                tail.pop_front();
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.newest = tail.into();
    out.doc =
        r.mem.long_term().document(&format!("conversations/{c}")).await?.map(crate::domain::Conversation::from_doc);
    Ok(out)
}

/// The findings of one conversation's document and recent list, not yet reported.
async fn conversation_findings(r: &mut Run<'_>, c: &str, t: &ConvRead) -> Result<Vec<Finding>, StoreError> {
    let mut out = stats_findings(c, t);
    out.extend(recent_findings(r.mem, c, &t.newest).await?);
    Ok(out)
}

/// `message_count` and `updated_at` against the messages themselves.
fn stats_findings(c: &str, t: &ConvRead) -> Vec<Finding> {
    let Some(doc) = &t.doc else {
        // Messages without their conversation's document: the repair writes it from them.
        return if t.count > 0 {
            vec![
                Finding::new(Kind::ConversationStats, format!("no conversation document; {} messages", t.count))
                    .conv(c),
            ]
        } else {
            vec![]
        };
    };
    let mut what = Vec::new();
    if doc.message_count != Some(t.count as i64) {
        let said = doc.message_count.map(|n| n.to_string()).unwrap_or("none".into());
        what.push(format!("message_count {said}, {} messages", t.count));
    }
    if let Some(last) = t.last
        && doc.updated_at.is_none_or(|u| u < last)
    {
        let said = doc.updated_at.map(|u| u.to_rfc3339()).unwrap_or("none".into());
        what.push(format!("updated_at {said}, newest message {}", last.to_rfc3339()));
    }
    if what.is_empty() {
        return vec![];
    }
    vec![Finding::new(Kind::ConversationStats, what.join("; ")).conv(c)]
}

/// Suspected conversations, read again once they have settled: what is still wrong is reported
/// (and repaired).
async fn settle_conversations(r: &mut Run<'_>) -> Result<(), StoreError> {
    let suspects = std::mem::take(&mut r.conv_suspects);
    let Some((_, first)) = suspects.first() else { return Ok(()) };
    wait_until(*first + r.opts.settle).await;
    for (c, _) in suspects {
        let t = read_conversation(r, &c, false).await?;
        let found = conversation_findings(r, &c, &t).await?;
        let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
        for f in found {
            r.report.add(f);
        }
        if !r.writes() {
            continue;
        }
        if kinds.contains(&Kind::ConversationStats) {
            let mut set = vec![("message_count".to_string(), FsValue::Int(t.count as i64))];
            if let Some(last) = t.last
                && t.doc.as_ref().is_none_or(|d| d.updated_at.is_none_or(|u| u < last))
            {
                set.push(("updated_at".into(), FsValue::Timestamp(last)));
            }
            let m = Merge { path: format!("conversations/{c}"), set, ..Merge::default() };
            match r.mem.long_term().merge_many(vec![m]).await {
                Ok(()) => r.report.repaired(Kind::ConversationStats, 1),
                Err(e) => r.fail(&format!("setting the stats of {c}"), e),
            }
        }
        let recent: Vec<Kind> = kinds.into_iter().filter(|k| *k != Kind::ConversationStats).collect();
        if !recent.is_empty() {
            match r.mem.rebuild_recent(std::slice::from_ref(&c)).await {
                Ok(()) => recent.iter().for_each(|k| r.report.repaired(*k, 1)),
                Err(e) => r.fail(&format!("rebuilding the recent list of {c}"), e),
            }
        }
    }
    Ok(())
}

async fn wait_until(t: std::time::Instant) {
    tokio::time::sleep_until(t.into()).await;
}

/// Vector records of the relevant messages of one page: those missing or wrong become
/// suspects, checked again once settled.
async fn check_vectors(r: &mut Run<'_>, c: &str, msgs: &[Message]) -> Result<(), StoreError> {
    let relevant: Vec<Message> = msgs.iter().filter(|m| r.mem.is_relevant(&m.role, &m.content)).cloned().collect();
    let now = std::time::Instant::now();
    for chunk in relevant.chunks(1000) {
        let found = vector_findings(r.mem, c, chunk).await?;
        for (_, m) in found {
            r.vector_suspects.push((m, now));
        }
    }
    if r.vector_suspects.len() >= SUSPECTS {
        settle_vectors(r).await?;
    }
    Ok(())
}

/// The vector findings of some relevant messages of one conversation, with the message each
/// concerns.
async fn vector_findings(mem: &Memory, c: &str, chunk: &[Message]) -> Result<Vec<(Finding, Message)>, StoreError> {
    let Some(v) = mem.vector() else { return Ok(vec![]) };
    let mut out = Vec::new();
    {
        let ids: Vec<String> = chunk.iter().map(|m| vector_id(c, &m.id)).collect();
        let found: HashMap<String, crate::domain::Metadata> =
            v.store.fetch(&ids, &v.namespace).await?.into_iter().map(|rec| (rec.id, rec.metadata)).collect();
        // A message without its record may still have one under its bare id (an index written
        // before ids were made unique per conversation): that is re-keyed by the vector pass,
        // not reported missing.
        let bare: Vec<String> =
            chunk.iter().zip(&ids).filter(|(_, vid)| !found.contains_key(*vid)).map(|(m, _)| m.id.clone()).collect();
        let legacy: HashSet<String> = if bare.is_empty() {
            HashSet::new()
        } else {
            v.store
                .fetch(&bare, &v.namespace)
                .await?
                .into_iter()
                .filter_map(|rec| {
                    let owner = |k: &str| rec.metadata.get(k).and_then(|x| x.as_str());
                    (owner("conversation_id") == Some(c) && owner("message_id") == Some(rec.id.as_str()))
                        .then(|| vector_id(c, &rec.id))
                })
                .collect()
        };
        for (m, vid) in chunk.iter().zip(&ids) {
            let user = m.user_id.clone().unwrap_or_default();
            let ts = m.timestamp.unwrap_or(crate::domain::Ts { secs: 0, nanos: 0 });
            let want = text_item(c, &m.id, &user, &m.role, ts, &m.content);
            match found.get(vid) {
                None if legacy.contains(vid) => {}
                None => {
                    let mut f = Finding::new(Kind::MissingVector, format!("{} message, no record", m.role)).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    out.push((f, m.clone()));
                }
                Some(md) if !vector_agrees(md, &want, &v.text_field) => {
                    let diff = vector_disagreements(md, &want, &v.text_field);
                    let mut f = Finding::new(Kind::VectorMismatch, diff.join("; ")).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    f.vector_id = Some(vid.clone());
                    out.push((f, m.clone()));
                }
                Some(_) => {}
            }
        }
    }
    Ok(out)
}

/// Suspected vector drift, checked again once settled (the message re-read too): what is still
/// wrong is reported, and re-embedded with `repair`.
async fn settle_vectors(r: &mut Run<'_>) -> Result<(), StoreError> {
    let suspects = std::mem::take(&mut r.vector_suspects);
    let Some((_, first)) = suspects.first() else { return Ok(()) };
    wait_until(*first + r.opts.settle).await;
    let paths: Vec<String> = suspects.iter().map(|(m, _)| m.doc.path.clone()).collect();
    let docs = r.mem.long_term().get_many(&paths).await?;
    let mut by_conv: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for d in docs.into_iter().flatten() {
        let m = Message::from_doc(d);
        if let Some((c, _)) = crate::memory::split_message_path(&m.doc.path)
            && r.mem.is_relevant(&m.role, &m.content)
        {
            by_conv.entry(c.to_string()).or_default().push(m);
        }
    }
    let mut to_embed = Vec::new();
    for (c, msgs) in by_conv {
        for (f, m) in vector_findings(r.mem, &c, &msgs).await? {
            to_embed.push((f.kind, m));
            r.report.add(f);
        }
    }
    if r.writes() && !to_embed.is_empty() {
        let msgs: Vec<Message> = to_embed.iter().map(|(_, m)| m.clone()).collect();
        match r.mem.embed_messages(&msgs).await {
            Ok(_) => {
                for (k, _) in &to_embed {
                    r.report.repaired(*k, 1);
                }
            }
            Err(e) => r.fail(&format!("re-embedding {} messages", msgs.len()), e),
        }
    }
    Ok(())
}

/// The recent list against the conversation's newest messages.
async fn recent_findings(mem: &Memory, c: &str, newest: &[Message]) -> Result<Vec<Finding>, StoreError> {
    let Some(redis) = mem.redis().cloned() else { return Ok(vec![]) };
    let key = recent_key(c);
    // The newest LIST_WINDOW entries only: a list the layer trims is far shorter, and one that
    // grew past it is a finding of its own, said with how much of it was checked.
    let mut replies = redis.exec(&[CacheOp::LLen(key.clone()), recent_window(c)]).await?.into_iter();
    let len = match replies.next() {
        Some(CacheReply::Int(n)) => n,
        _ => 0,
    };
    let items = match replies.next() {
        Some(CacheReply::Items(items)) => items,
        _ => vec![],
    };
    if items.is_empty() {
        return Ok(vec![]); // a cold cache, not drift: the next read fills it
    }
    let unread = (len - items.len() as i64).max(0) as usize;
    let list: Vec<Option<RecentMessage>> = items.iter().map(|b| RecentMessage::parse(b)).collect();
    let truth: HashMap<&str, &Message> = newest.iter().map(|m| (m.id.as_str(), m)).collect();
    let in_list: HashSet<&str> = list.iter().flatten().map(|m| m.message_id.as_str()).collect();
    let missing: Vec<String> =
        newest.iter().filter(|m| !in_list.contains(m.id.as_str())).map(|m| m.id.clone()).collect();
    let mut stale = Vec::new();
    for (i, e) in list.iter().enumerate() {
        match e {
            None => stale.push(format!("#{i} (not a message)")),
            Some(e) => match truth.get(e.message_id.as_str()) {
                None => stale.push(e.message_id.clone()),
                Some(m) if m.content != e.content || m.role != e.role => stale.push(e.message_id.clone()),
                Some(_) => {}
            },
        }
    }
    // Order: the common ids must appear in the messages' order.
    let rank: HashMap<&str, usize> = newest.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    let ranks: Vec<(usize, &str)> = list
        .iter()
        .flatten()
        .filter_map(|e| Some((*rank.get(e.message_id.as_str())?, e.message_id.as_str())))
        .collect();
    let misplaced: Vec<String> = ranks.windows(2).filter(|w| w[1].0 < w[0].0).map(|w| w[1].1.to_string()).collect();
    let k = String::from_utf8_lossy(&key).into_owned();
    let mut out = Vec::new();
    for (kind, ids, what) in [
        (Kind::RecentMissing, missing, "not in the list"),
        (Kind::RecentOrder, misplaced, "out of timestamp order"),
        (Kind::RecentStale, stale, "gone, changed or no longer among the newest"),
    ] {
        // Entries past the window were not read: too many for a trimmed list, so stale.
        let unread = if kind == Kind::RecentStale { unread } else { 0 };
        if ids.is_empty() && unread == 0 {
            continue;
        }
        let mut text = format!("{} message(s) {what}", ids.len() + unread);
        if unread > 0 {
            text.push_str(&format!(
                " — the list holds {len} entries and the layer keeps {}; the newest {} were checked, \
                 {unread} older ones not read",
                mem.config().recent_messages,
                items.len()
            ));
        }
        let mut f = Finding::new(kind, text).conv(c);
        f.message_ids = ids;
        f.key = Some(k.clone());
        out.push(f);
    }
    Ok(out)
}

/// Vector records whose message is gone (records without `conversation_id`/`message_id`
/// metadata are not the layer's and are left alone).
async fn orphan_vectors(r: &mut Run<'_>) -> Result<(), StoreError> {
    let Some(v) = r.mem.vector().cloned() else { return Ok(()) };
    let total = v.store.stats().await.ok().map(|s| {
        s.namespaces.iter().find(|(n, _)| *n == v.namespace).map(|(_, c)| *c).unwrap_or(if v.namespace.is_empty() {
            s.total
        } else {
            0
        })
    });
    let mut token: Option<String> = None;
    let mut ids: Vec<String> = Vec::new();
    loop {
        let page = v.store.list_ids(None, &v.namespace, token.as_deref(), 100).await?;
        ids.extend(page.ids);
        token = page.next;
        if ids.len() >= 1000 || token.is_none() {
            check_orphans(r, &v, std::mem::take(&mut ids)).await?;
            let n = r.report.scanned.vectors;
            r.tick("vectors", n, total);
        }
        if token.is_none() {
            return Ok(());
        }
    }
}

async fn check_orphans(r: &mut Run<'_>, v: &crate::tiers::VectorTier, ids: Vec<String>) -> Result<(), StoreError> {
    r.report.scanned.vectors += ids.len() as u64;
    let recs = v.store.fetch(&ids, &v.namespace).await?;
    let owned: Vec<(&crate::domain::VectorRecord, String, String)> = recs
        .iter()
        .filter_map(|rec| {
            let c = rec.metadata.get("conversation_id")?.as_str()?;
            let m = rec.metadata.get("message_id")?.as_str()?;
            Some((rec, c.to_string(), m.to_string()))
        })
        .collect();
    r.foreign_vectors += (recs.len() - owned.len()) as u64;
    let paths: Vec<String> = owned.iter().map(|(_, c, m)| crate::memory::message_path(c, m)).collect();
    let docs = r.mem.long_term().get_many(&paths).await?;
    let mut gone = Vec::new();
    let mut rekey = Vec::new();
    for ((rec, c, m), d) in owned.into_iter().zip(docs) {
        match d {
            None => {
                let mut f = Finding::new(Kind::OrphanVector, "its message does not exist").conv(&c);
                f.message_ids = vec![m.clone()];
                f.vector_id = Some(rec.id.clone());
                r.report.add(f);
                gone.push(rec.id.clone());
            }
            Some(doc) if rec.id != vector_id(&c, &m) => {
                let mut f = Finding::new(
                    Kind::LegacyVectorId,
                    format!("stored as {:?}, expected {:?}", rec.id, vector_id(&c, &m)),
                )
                .conv(&c);
                f.message_ids = vec![m.clone()];
                f.vector_id = Some(rec.id.clone());
                r.report.add(f);
                rekey.push((rec, Message::from_doc(doc)));
            }
            Some(_) => {}
        }
    }
    if r.writes() && !gone.is_empty() {
        match v.store.delete(&gone, &v.namespace).await {
            Ok(()) => r.report.repaired(Kind::OrphanVector, gone.len() as u64),
            Err(e) => r.fail(&format!("deleting {} orphan vectors", gone.len()), e),
        }
    }
    if r.writes() && !rekey.is_empty() {
        let n = rekey.len() as u64;
        match rekey_vectors(r.mem, v, rekey).await {
            Ok(()) => r.report.repaired(Kind::LegacyVectorId, n),
            Err(e) => r.fail(&format!("re-keying {n} vectors"), e),
        }
    }
    Ok(())
}

/// Move records stored under an old id to [`vector_id`]: a record whose metadata and text
/// agree with its message keeps its values (no embedding call); one that disagrees is embedded
/// again. The old id is deleted only once the new record is written.
async fn rekey_vectors(
    mem: &Memory,
    v: &crate::tiers::VectorTier,
    recs: Vec<(&crate::domain::VectorRecord, Message)>,
) -> Result<(), StoreError> {
    let mut keep = Vec::new();
    let mut embed = Vec::new();
    let mut old = Vec::new();
    for (rec, m) in recs {
        let Some((c, id)) = crate::memory::split_message_path(&m.doc.path) else { continue };
        let user = m.user_id.clone().unwrap_or_default();
        let want = text_item(
            c,
            id,
            &user,
            &m.role,
            m.timestamp.unwrap_or(crate::domain::Ts { secs: 0, nanos: 0 }),
            &m.content,
        );
        old.push(rec.id.clone());
        if vector_agrees(&rec.metadata, &want, &v.text_field) && !rec.values.is_empty() {
            keep.push(crate::domain::VectorRecord {
                id: want.id,
                values: rec.values.clone(),
                metadata: rec.metadata.clone(),
            });
        } else if mem.is_relevant(&m.role, &m.content) {
            embed.push(m);
        }
    }
    if !keep.is_empty() {
        v.store.upsert(keep, &v.namespace).await?;
    }
    if !embed.is_empty() {
        mem.embed_messages(&embed).await?;
    }
    v.store.delete(&old, &v.namespace).await
}

/// Sessions and recent lists of conversations that do not exist.
async fn orphan_keys(r: &mut Run<'_>) -> Result<(), StoreError> {
    let Some(redis) = r.mem.redis().cloned() else { return Ok(()) };
    for (pattern, kind) in [("session:*", Kind::SessionOrphan), ("conversation:*:messages", Kind::RecentOrphan)] {
        let mut scan = crate::store::KeyspaceScan::start(redis.clone(), pattern, None, 1000).await?;
        while let Some(page) = scan.next_page().await {
            let keys = page?.keys;
            r.report.scanned.keys += keys.len() as u64;
            let convs: Vec<(Key, String)> = keys
                .into_iter()
                .filter_map(|k| {
                    let s = std::str::from_utf8(&k).ok()?;
                    let c = match kind {
                        Kind::SessionOrphan => s.strip_prefix("session:")?,
                        _ => s.strip_prefix("conversation:")?.strip_suffix(":messages")?,
                    };
                    (!c.is_empty() && !c.contains('/')).then(|| (k.clone(), c.to_string()))
                })
                .collect();
            let paths: Vec<String> = convs.iter().map(|(_, c)| format!("conversations/{c}")).collect();
            let docs = r.mem.long_term().get_many(&paths).await?;
            let mut gone = Vec::new();
            for ((k, c), d) in convs.iter().zip(docs) {
                if d.is_none() {
                    let mut f = Finding::new(kind, "no such conversation in the long-term store").conv(c);
                    f.key = Some(String::from_utf8_lossy(k).into_owned());
                    r.report.add(f);
                    gone.push(CacheOp::Del(k.clone()));
                }
            }
            if r.writes() && !gone.is_empty() {
                match redis.exec(&gone).await {
                    Ok(_) => r.report.repaired(kind, gone.len() as u64),
                    Err(e) => r.fail(&format!("deleting {} keys", gone.len()), e),
                }
            }
            let n = r.report.scanned.keys;
            r.tick("redis keys", n, None);
        }
    }
    Ok(())
}
