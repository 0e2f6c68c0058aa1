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

use crate::domain::{CacheOp, CacheReply, Key, Message};
use crate::memory::{Memory, RecentMessage, recent_key, text_item, vector_agrees, vector_disagreements};
use crate::store::StoreError;
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
    /// The embedder's dimension differs from the index's.
    DimensionMismatch,
    /// A tier write that failed after the long-term write, waiting in the repair queue.
    PendingRepair,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::MissingVector,
        Kind::OrphanVector,
        Kind::VectorMismatch,
        Kind::RecentMissing,
        Kind::RecentOrder,
        Kind::RecentStale,
        Kind::RecentOrphan,
        Kind::SessionOrphan,
        Kind::DimensionMismatch,
        Kind::PendingRepair,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Kind::MissingVector => "missing_vector",
            Kind::OrphanVector => "orphan_vector",
            Kind::VectorMismatch => "vector_mismatch",
            Kind::RecentMissing => "recent_missing",
            Kind::RecentOrder => "recent_order",
            Kind::RecentStale => "recent_stale",
            Kind::RecentOrphan => "recent_orphan",
            Kind::SessionOrphan => "session_orphan",
            Kind::DimensionMismatch => "dimension_mismatch",
            Kind::PendingRepair => "pending_repair",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Kind::MissingVector => "messages that should have a vector and have none",
            Kind::OrphanVector => "vectors whose message no longer exists",
            Kind::VectorMismatch => "vector metadata that disagrees with its message",
            Kind::RecentMissing => "recent lists missing newest messages",
            Kind::RecentOrder => "recent lists out of order",
            Kind::RecentStale => "recent lists holding stale messages",
            Kind::RecentOrphan => "recent lists of missing conversations",
            Kind::SessionOrphan => "sessions pointing at missing conversations",
            Kind::DimensionMismatch => "embedder dimension ≠ index dimension",
            Kind::PendingRepair => "pending tier writes in the repair queue",
        }
    }
    /// What `--repair` does about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Kind::MissingVector | Kind::VectorMismatch => "re-embed and upsert",
            Kind::OrphanVector => "delete the vector",
            Kind::RecentMissing | Kind::RecentOrder | Kind::RecentStale => "rebuild the list from long-term",
            Kind::RecentOrphan | Kind::SessionOrphan => "delete the key",
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
                let _ = writeln!(out, "    {}", crate::ui::text::sanitize_str(&line));
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Mend what is found (the caller has armed the stores' write guards).
    pub repair: bool,
    /// With `repair`: say what would be done, write nothing.
    pub dry_run: bool,
}

struct Run<'a> {
    mem: &'a Memory,
    opts: Options,
    report: Report,
    progress: &'a mut (dyn FnMut(&Progress) + Send),
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
    let mut r = Run { mem, opts, report: Report::default(), progress };
    if mem.redis().is_none() {
        r.report.skipped.push("Redis (not configured)".into());
    }
    if mem.vector().is_none() {
        r.report.skipped.push("vector tier (not configured)".into());
    }
    repair_queue(&mut r).await?;
    dimension(&mut r).await;
    conversations(&mut r).await?;
    orphan_vectors(&mut r).await?;
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
    let model = match v.embedder.dimension() {
        Some(d) => Some(d),
        None => v
            .embedder
            .embed(&["dimension probe".into()], crate::embed::Kind::Query)
            .await
            .ok()
            .and_then(|mut x| x.pop().map(|v| v.len())),
    };
    if let (Some(i), Some(m)) = (index, model)
        && i as usize != m
    {
        r.report.add(Finding::new(
            Kind::DimensionMismatch,
            format!("the embedder ({}) makes {m}-dimensional vectors; the index holds {i}", v.embedder.describe()),
        ));
    }
}

async fn conversations(r: &mut Run<'_>) -> Result<(), StoreError> {
    let total = r.mem.long_term().count_conversations(&crate::domain::ConvFilter::All).await.ok();
    let mut cursor = None;
    loop {
        let page = r.mem.long_term().documents("conversations", cursor.as_ref(), 100).await?;
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
    let keep = r.mem.config().recent_messages as usize;
    let mut tail: std::collections::VecDeque<Message> = std::collections::VecDeque::with_capacity(keep + 1);
    let mut cursor = None;
    loop {
        let page = r.mem.long_term().messages(c, cursor.as_ref(), 500).await?;
        r.report.scanned.messages += page.items.len() as u64;
        check_vectors(r, c, &page.items).await?;
        for m in page.items {
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
    check_recent(r, c, tail.make_contiguous()).await
}

/// Vector records of the relevant messages of one page.
async fn check_vectors(r: &mut Run<'_>, c: &str, msgs: &[Message]) -> Result<(), StoreError> {
    let Some(v) = r.mem.vector().cloned() else { return Ok(()) };
    let relevant: Vec<&Message> = msgs.iter().filter(|m| r.mem.is_relevant(&m.role, &m.content)).collect();
    let mut to_embed = Vec::new();
    for chunk in relevant.chunks(1000) {
        let ids: Vec<String> = chunk.iter().map(|m| m.id.clone()).collect();
        let found: HashMap<String, crate::domain::Metadata> =
            v.store.fetch(&ids, &v.namespace).await?.into_iter().map(|rec| (rec.id, rec.metadata)).collect();
        for m in chunk {
            let user = m.user_id.clone().unwrap_or_default();
            let ts = m.timestamp.unwrap_or(crate::domain::Ts { secs: 0, nanos: 0 });
            let want = text_item(c, &m.id, &user, &m.role, ts, &m.content);
            match found.get(&m.id) {
                None => {
                    let mut f = Finding::new(Kind::MissingVector, format!("{} message, no record", m.role)).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    r.report.add(f);
                    to_embed.push((Kind::MissingVector, (*m).clone()));
                }
                Some(md) if !vector_agrees(md, &want, &v.text_field) => {
                    let diff = vector_disagreements(md, &want, &v.text_field);
                    let mut f = Finding::new(Kind::VectorMismatch, diff.join("; ")).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    f.vector_id = Some(m.id.clone());
                    r.report.add(f);
                    to_embed.push((Kind::VectorMismatch, (*m).clone()));
                }
                Some(_) => {}
            }
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
            Err(e) => r.fail(&format!("re-embedding {} messages of {c}", msgs.len()), e),
        }
    }
    Ok(())
}

/// The recent list against the conversation's newest messages.
async fn check_recent(r: &mut Run<'_>, c: &str, newest: &[Message]) -> Result<(), StoreError> {
    let Some(redis) = r.mem.redis().cloned() else { return Ok(()) };
    let key = recent_key(c);
    let items = match redis.exec(&[CacheOp::LRange { key: key.clone(), start: 0, stop: -1 }]).await?.pop() {
        Some(CacheReply::Items(items)) => items,
        _ => vec![],
    };
    if items.is_empty() {
        return Ok(()); // a cold cache, not drift: the next read fills it
    }
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
    let mut kinds = Vec::new();
    for (kind, ids, what) in [
        (Kind::RecentMissing, missing, "not in the list"),
        (Kind::RecentOrder, misplaced, "out of timestamp order"),
        (Kind::RecentStale, stale, "gone, changed or no longer among the newest"),
    ] {
        if ids.is_empty() {
            continue;
        }
        let mut f = Finding::new(kind, format!("{} message(s) {what}", ids.len())).conv(c);
        f.message_ids = ids;
        f.key = Some(k.clone());
        r.report.add(f);
        kinds.push(kind);
    }
    if r.writes() && !kinds.is_empty() {
        match r.mem.rebuild_recent(&[c.to_string()]).await {
            Ok(()) => kinds.iter().for_each(|k| r.report.repaired(*k, 1)),
            Err(e) => r.fail(&format!("rebuilding {k}"), e),
        }
    }
    Ok(())
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

async fn check_orphans(r: &mut Run<'_>, v: &crate::memory::VectorTier, ids: Vec<String>) -> Result<(), StoreError> {
    r.report.scanned.vectors += ids.len() as u64;
    let recs = v.store.fetch(&ids, &v.namespace).await?;
    let owned: Vec<(String, String, String)> = recs
        .iter()
        .filter_map(|rec| {
            let c = rec.metadata.get("conversation_id")?.as_str()?;
            let m = rec.metadata.get("message_id")?.as_str()?;
            Some((rec.id.clone(), c.to_string(), m.to_string()))
        })
        .collect();
    let paths: Vec<String> = owned.iter().map(|(_, c, m)| crate::memory::message_path(c, m)).collect();
    let docs = r.mem.long_term().get_many(&paths).await?;
    let mut gone = Vec::new();
    for ((id, c, m), d) in owned.iter().zip(docs) {
        if d.is_none() {
            let mut f = Finding::new(Kind::OrphanVector, "its message does not exist").conv(c);
            f.message_ids = vec![m.clone()];
            f.vector_id = Some(id.clone());
            r.report.add(f);
            gone.push(id.clone());
        }
    }
    if r.writes() && !gone.is_empty() {
        match v.store.delete(&gone, &v.namespace).await {
            Ok(()) => r.report.repaired(Kind::OrphanVector, gone.len() as u64),
            Err(e) => r.fail(&format!("deleting {} orphan vectors", gone.len()), e),
        }
    }
    Ok(())
}

/// Sessions and recent lists of conversations that do not exist.
async fn orphan_keys(r: &mut Run<'_>) -> Result<(), StoreError> {
    let Some(redis) = r.mem.redis().cloned() else { return Ok(()) };
    for (pattern, kind) in [("session:*", Kind::SessionOrphan), ("conversation:*:messages", Kind::RecentOrphan)] {
        let mut cursor = 0u64;
        loop {
            let (next, keys) = redis.scan_page(cursor, pattern, None, 1000).await?;
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
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    Ok(())
}
