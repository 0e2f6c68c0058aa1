//! What is eating Redis: one pass over the whole keyspace (every master of a cluster) with
//! SCAN and pipelined TYPE / PTTL / MEMORY USAGE and each key's length, aggregated as it goes —
//! memory and keys per namespace (a tree by delimiter, id-like parts folded into `*`), per type,
//! the biggest keys by memory and by length, TTLs per namespace, namespaces that look like
//! leaks, and the keys about to expire. Nothing per key is kept but the top lists, so memory
//! stays flat on millions of keys. Exact: MEMORY USAGE of every key, summed (no sampling of
//! keys). Throttled to a rate of commands so the server is not hurt.

use crate::domain::{Key, KeyType, Ttl};
use crate::error::StoreError;
use crate::store::{KeyStore, KeyspaceScan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

/// How an analysis runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub pattern: String,
    pub delimiter: String,
    /// Commands per second at most (SCAN, TYPE, PTTL, MEMORY USAGE, the length); 0: no limit.
    pub max_ops_per_sec: u64,
    /// Keys per SCAN page and per pipeline.
    pub batch: u32,
    /// How many keys the top lists keep.
    pub top: usize,
    /// Namespace levels kept (`a:`, `a:b:`, `a:b:c:`).
    pub depth: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pattern: "*".into(),
            delimiter: ":".into(),
            max_ops_per_sec: DEFAULT_MAX_OPS,
            batch: 1000,
            top: 100,
            depth: 3,
        }
    }
}

/// The default limit of every whole-keyspace pass (the profile's `max_ops_per_sec`).
pub const DEFAULT_MAX_OPS: u64 = crate::config::DEFAULT_MAX_OPS_PER_SEC;

/// Distinct namespaces kept per level; more are counted under `(other)` and said so.
pub const NAMESPACE_CAP: usize = 20_000;

/// TTL buckets: no TTL, under a minute, an hour, a day, longer.
pub const TTL_BUCKETS: [&str; 5] = ["none", "<1m", "<1h", "<1d", "longer"];

fn ttl_bucket(ttl: &Ttl) -> usize {
    match ttl {
        Ttl::Persistent | Ttl::Gone => 0,
        Ttl::Millis(ms) if *ms < 60_000 => 1,
        Ttl::Millis(ms) if *ms < 3_600_000 => 2,
        Ttl::Millis(ms) if *ms < 86_400_000 => 3,
        Ttl::Millis(_) => 4,
    }
}

/// One namespace's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Namespace {
    pub prefix: String,
    pub depth: usize,
    pub keys: u64,
    pub bytes: u64,
    /// Keys per [`TTL_BUCKETS`].
    pub ttl: [u64; 5],
    /// What the keys without a TTL hold (MEMORY USAGE summed).
    #[serde(default)]
    pub no_ttl_bytes: u64,
}

/// One key of a top list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStat {
    pub key: String,
    #[serde(rename = "type")]
    pub ktype: String,
    pub bytes: u64,
    pub elements: Option<u64>,
    /// Milliseconds left; None without a TTL.
    pub ttl_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeStat {
    #[serde(rename = "type")]
    pub ktype: String,
    pub keys: u64,
    pub bytes: u64,
}

impl KeyStat {
    /// One line: memory, length (bytes for a string, elements else), type, TTL, the key.
    pub fn row(&self) -> String {
        let hb = crate::text::human_bytes;
        let n = match (self.elements, self.ktype.as_str()) {
            (Some(e), "string") => hb(e),
            (Some(e), _) => format!("{e} el."),
            (None, _) => "-".into(),
        };
        let ttl = self.ttl_ms.map(|t| format!("TTL {}", crate::text::human_ms(t))).unwrap_or_else(|| "no TTL".into());
        let s = crate::text::sanitize_str;
        format!("{:>10} {:>12} {:<8} {:<12} {}", hb(self.bytes), n, s(&self.ktype), ttl, s(&self.key))
    }
}

/// A namespace where most keys expire but some do not: the ones without a TTL may be leaking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    pub prefix: String,
    pub keys: u64,
    pub without_ttl: u64,
    /// The namespace's memory, all its keys.
    pub bytes: u64,
    /// What its keys without a TTL hold: the figure that may be leaking.
    #[serde(default)]
    pub bytes_without_ttl: u64,
}

impl Leak {
    /// "20,000 of 60,000 keys without a TTL hold 21 MiB of 63 MiB".
    pub fn describe(&self) -> String {
        let hb = crate::text::human_bytes;
        format!(
            "{} of {} keys without a TTL hold {} of {}",
            crate::text::num(self.without_ttl),
            crate::text::num(self.keys),
            hb(self.bytes_without_ttl),
            hb(self.bytes)
        )
    }
}

/// `part` as a share of `whole`: "12.3%" (a tenth of a percent shown as "<0.1%").
pub fn pct(part: u64, whole: u64) -> String {
    match whole {
        0 => "-".into(),
        w => {
            let p = part as f64 * 100.0 / w as f64;
            if p > 0.0 && p < 0.1 { "<0.1%".into() } else { format!("{p:.1}%") }
        }
    }
}

/// The biggest keys by length, by type: a header each (a string's length is bytes, the others'
/// elements: not one column), most first within a type.
pub fn by_length(list: &[KeyStat]) -> Vec<(String, Vec<&KeyStat>)> {
    let mut groups: Vec<(String, Vec<&KeyStat>)> = Vec::new();
    for k in list {
        match groups.iter_mut().find(|(t, _)| *t == k.ktype) {
            Some((_, v)) => v.push(k),
            None => groups.push((k.ktype.clone(), vec![k])),
        }
    }
    groups
        .into_iter()
        .map(|(t, v)| {
            let unit = if t == "string" { "length in bytes" } else { "elements" };
            (format!("{} — {unit}", crate::text::sanitize_str(&t)), v)
        })
        .collect()
}

/// What one analysis found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub pattern: String,
    pub delimiter: String,
    /// Unix seconds when it started.
    pub started: i64,
    pub took_ms: u64,
    pub keys: u64,
    /// MEMORY USAGE of every key, summed.
    pub bytes: u64,
    /// Keys SCAN listed that were gone before they were read (expired or deleted meanwhile).
    pub gone: u64,
    /// Keys whose MEMORY USAGE the server did not give.
    pub unmeasured: u64,
    /// Commands sent.
    pub ops: u64,
    /// The keyspace's size when the pass started (sum of DBSIZE), when known.
    pub dbsize: Option<u64>,
    /// INFO `used_memory` when the pass ended (every master summed), when the server said:
    /// what the keys' MEMORY USAGE is set against.
    #[serde(default)]
    pub used_memory: Option<u64>,
    pub nodes: usize,
    pub by_type: Vec<TypeStat>,
    /// Every namespace, most bytes first.
    pub namespaces: Vec<Namespace>,
    /// Namespaces past [`NAMESPACE_CAP`] at a level, counted under `(other)`.
    pub namespaces_folded: u64,
    pub top_by_memory: Vec<KeyStat>,
    pub top_by_elements: Vec<KeyStat>,
    pub expiring_within_1m: u64,
    /// The soonest of them (at most `top`), soonest first.
    pub expiring_keys: Vec<KeyStat>,
    pub leak_suspects: Vec<Leak>,
    /// The pass ended early (cancelled, or a node failed): the figures are of what was read.
    pub partial: Option<String>,
}

/// A part of a key that names one thing (an id) rather than a kind of thing: digits, hex of 8
/// or more, a UUID, a ULID, a long token with digits, or a short one that is a third digits
/// or more (`c-0042`, `u42`). Folded into `*` so that
/// `session:8f3a…` and `session:91c2…` are one namespace, `session:*`.
pub fn id_like(s: &str) -> bool {
    let n = s.len();
    if n == 0 {
        return false;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let hex = s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    let token = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    digits == n
        || (hex && n >= 8 && digits > 0)
        || (token && n >= 12 && digits > 0)
        || (token && digits >= 1 && digits * 3 >= n && !version(s))
}

/// `v1`, `v2`, `v10`: a version names a kind of thing, not one thing.
fn version(s: &str) -> bool {
    s.len() <= 4 && s.starts_with(['v', 'V']) && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The namespace row of the keys without the delimiter (listed like any other, not a glob).
pub const NO_NAMESPACE: &str = "(no namespace)";

/// The namespaces a key belongs to, outermost first: each prefix up to a delimiter, at most
/// `depth`, id-like parts as `*` (the key's last part is the key itself, not a namespace).
pub fn namespaces_of(key: &str, delim: &str, depth: usize) -> Vec<String> {
    if delim.is_empty() {
        return Vec::new();
    }
    let parts: Vec<&str> = key.split(delim).collect();
    let mut out = Vec::new();
    let mut prefix = String::new();
    for p in parts.iter().take(parts.len().saturating_sub(1)).take(depth) {
        prefix.push_str(if id_like(p) { "*" } else { p });
        prefix.push_str(delim);
        out.push(prefix.clone());
    }
    out
}

/// Namespaces as a tree: each under its parent, siblings by memory (most first).
fn tree_order(ns: Vec<Namespace>, delim: &str) -> Vec<Namespace> {
    let parent_of = |n: &Namespace| -> String {
        if n.depth <= 1 || n.prefix.starts_with("(other") {
            return String::new();
        }
        let body = n.prefix.strip_suffix(delim).unwrap_or(&n.prefix);
        body.rsplit_once(delim).map(|(p, _)| format!("{p}{delim}")).unwrap_or_default()
    };
    let known: std::collections::HashSet<String> = ns.iter().map(|n| n.prefix.clone()).collect();
    let mut children: HashMap<String, Vec<Namespace>> = HashMap::new();
    for n in ns {
        let p = parent_of(&n);
        let p = if known.contains(&p) { p } else { String::new() };
        children.entry(p).or_default().push(n);
    }
    for v in children.values_mut() {
        v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.prefix.cmp(&b.prefix)));
    }
    let mut out = Vec::new();
    let mut stack: Vec<Namespace> = children.remove("").unwrap_or_default().into_iter().rev().collect();
    while let Some(n) = stack.pop() {
        if let Some(kids) = children.remove(&n.prefix) {
            stack.extend(kids.into_iter().rev());
        }
        out.push(n);
    }
    // Anything left (a parent folded away): at the end, most memory first.
    let mut rest: Vec<Namespace> = children.into_values().flatten().collect();
    rest.sort_by_key(|n| std::cmp::Reverse(n.bytes));
    out.extend(rest);
    out
}

/// Orders a top list entry by one figure (smallest first out of the heap).
#[derive(Debug, PartialEq, Eq)]
struct Ranked(u64, KeyStat);

impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        o.0.cmp(&self.0).then_with(|| o.1.key.cmp(&self.1.key))
    }
}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The `n` biggest by a figure, kept as keys stream by.
struct Top {
    n: usize,
    heap: BinaryHeap<Ranked>,
}

impl Top {
    fn new(n: usize) -> Top {
        Top { n, heap: BinaryHeap::with_capacity(n + 1) }
    }
    fn offer(&mut self, v: u64, k: impl FnOnce() -> KeyStat) {
        if self.n == 0 {
            return;
        }
        if self.heap.len() < self.n {
            self.heap.push(Ranked(v, k()));
        } else if self.heap.peek().is_some_and(|m| v > m.0) {
            self.heap.pop();
            self.heap.push(Ranked(v, k()));
        }
    }
    fn into_sorted(self) -> Vec<KeyStat> {
        let mut v: Vec<Ranked> = self.heap.into_vec();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
        v.into_iter().map(|r| r.1).collect()
    }
}

/// The running totals of a pass.
struct Acc {
    opt: Options,
    a: Analysis,
    types: HashMap<String, TypeStat>,
    levels: Vec<HashMap<String, Namespace>>,
    mem: Top,
    /// The longest of each type: a string's bytes and a hash's elements are not one ranking.
    elems: BTreeMap<String, Top>,
    /// Keys expiring within a minute, the soonest kept.
    soon: Top,
}

impl Acc {
    fn add(&mut self, key: &Key, ktype: &KeyType, ttl: &Ttl, bytes: Option<u64>, len: Option<u64>) {
        let name = String::from_utf8_lossy(key).into_owned();
        let b = bytes.unwrap_or(0);
        self.a.keys += 1;
        self.a.bytes += b;
        self.a.unmeasured += u64::from(bytes.is_none());
        let t = self
            .types
            .entry(ktype.name().to_string())
            .or_insert_with(|| TypeStat { ktype: ktype.name().to_string(), ..Default::default() });
        t.keys += 1;
        t.bytes += b;
        let bucket = ttl_bucket(ttl);
        let mut spaces = namespaces_of(&name, &self.opt.delimiter, self.opt.depth);
        if spaces.is_empty() {
            // A key without the delimiter still counts: its own row, never left out.
            spaces.push(NO_NAMESPACE.to_string());
        }
        for (level, prefix) in spaces.into_iter().enumerate() {
            let map = &mut self.levels[level];
            let full = map.len() >= NAMESPACE_CAP && !map.contains_key(&prefix);
            let prefix = if full {
                self.a.namespaces_folded += 1;
                format!("(other at level {})", level + 1)
            } else {
                prefix
            };
            let ns = map.entry(prefix.clone()).or_insert_with(|| Namespace {
                prefix,
                depth: level + 1,
                ..Default::default()
            });
            ns.keys += 1;
            ns.bytes += b;
            ns.ttl[bucket] += 1;
            if bucket == 0 {
                ns.no_ttl_bytes += b;
            }
        }
        let ttl_ms = match ttl {
            Ttl::Millis(ms) => Some(*ms),
            _ => None,
        };
        let stat = || KeyStat { key: name.clone(), ktype: ktype.name().to_string(), bytes: b, elements: len, ttl_ms };
        self.mem.offer(b, stat);
        if let Some(n) = len {
            let top = self.opt.top;
            self.elems.entry(ktype.name().to_string()).or_insert_with(|| Top::new(top)).offer(n, stat);
        }
        if bucket == 1 {
            self.a.expiring_within_1m += 1;
            // The soonest first: the largest figure is the least time left.
            self.soon.offer(u64::MAX - ttl_ms.unwrap_or(0).max(0) as u64, stat);
        }
    }

    fn finish(mut self) -> Analysis {
        let mut types: Vec<TypeStat> = self.types.into_values().collect();
        types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.ktype.cmp(&b.ktype)));
        self.a.by_type = types;
        let ns: Vec<Namespace> = self.levels.into_iter().flat_map(|m| m.into_values()).collect();
        let ns = tree_order(ns, &self.opt.delimiter);
        // Leaks: at least 10 keys, most with a TTL, some without.
        let leaks: Vec<Leak> = ns
            .iter()
            .filter(|n| n.keys >= 10 && n.ttl[0] > 0 && n.ttl[0] * 2 < n.keys)
            .map(|n| Leak {
                prefix: n.prefix.clone(),
                keys: n.keys,
                without_ttl: n.ttl[0],
                bytes: n.bytes,
                bytes_without_ttl: n.no_ttl_bytes,
            })
            .collect();
        // A parent whose keys without a TTL are all one listed child's is that child: listed
        // once, where it is most precise.
        self.a.leak_suspects = leaks
            .iter()
            .filter(|l| {
                !leaks
                    .iter()
                    .any(|c| c.prefix != l.prefix && c.prefix.starts_with(&l.prefix) && c.without_ttl == l.without_ttl)
            })
            .cloned()
            .collect();
        self.a.namespaces = ns;
        self.a.top_by_memory = self.mem.into_sorted();
        // By type, the type with the longest key first; within a type, longest first.
        let mut by_type: Vec<Vec<KeyStat>> = self.elems.into_values().map(Top::into_sorted).collect();
        by_type.sort_by_key(|v| std::cmp::Reverse(v.first().and_then(|k| k.elements).unwrap_or(0)));
        self.a.top_by_elements = by_type.into_iter().flatten().collect();
        self.a.expiring_keys = self.soon.into_sorted();
        self.a
    }
}

/// Batches read at once (each a pipeline of its keys' commands).
const IN_FLIGHT: usize = 3;

/// One key read: its metadata and its length.
type Row = (Key, crate::domain::KeyMeta, Option<u64>);

/// A limit of commands per second: waits before a batch that would go over it.
/// At most `per_sec` commands a second over a whole-keyspace pass (0: no limit): the one rule
/// of `analyze`, the Keys tab's sorts and `keys --long`.
pub struct Throttle {
    per_sec: u64,
    start: tokio::time::Instant,
    sent: u64,
}

impl Throttle {
    pub fn new(per_sec: u64) -> Throttle {
        Throttle { per_sec, start: tokio::time::Instant::now(), sent: 0 }
    }

    /// Count `n` commands about to be sent; wait until they are due.
    pub async fn take(&mut self, n: u64) {
        self.sent += n;
        if self.per_sec == 0 {
            return;
        }
        let due = self.start + std::time::Duration::from_secs_f64(self.sent as f64 / self.per_sec as f64);
        tokio::time::sleep_until(due).await;
    }
}

/// One pass over the keyspace. `progress` is called after each batch; dropping the future
/// cancels the pass (the server sees nothing more).
/// `progress` gets the keys read and the keyspace's size when known.
pub async fn analyze(
    store: Arc<dyn KeyStore>,
    opt: Options,
    progress: impl Fn(u64, Option<u64>),
) -> Result<Analysis, StoreError> {
    let t0 = std::time::Instant::now();
    let mut scan = KeyspaceScan::start(store.clone(), &opt.pattern, None, opt.batch).await?;
    let mut acc = Acc {
        a: Analysis {
            pattern: opt.pattern.clone(),
            delimiter: opt.delimiter.clone(),
            started: crate::domain::Ts::now().secs,
            dbsize: scan.total,
            nodes: scan.nodes.len(),
            ..Default::default()
        },
        types: HashMap::new(),
        levels: vec![HashMap::new(); opt.depth],
        mem: Top::new(opt.top),
        elems: BTreeMap::new(),
        soon: Top::new(opt.top),
        opt: opt.clone(),
    };
    let mut throttle = Throttle { per_sec: opt.max_ops_per_sec, start: tokio::time::Instant::now(), sent: 0 };
    // Batches in flight: the server works on some while the replies of others are read.
    let mut inflight: std::collections::VecDeque<tokio::task::JoinHandle<Result<Vec<Row>, StoreError>>> =
        Default::default();
    let read = |keys: Vec<Key>| {
        let store = store.clone();
        tokio::spawn(async move {
            let metas = store.meta(&keys).await?;
            let typed: Vec<(Key, KeyType)> =
                metas.iter().filter_map(|(k, m)| m.ktype.clone().map(|t| (k.clone(), t))).collect();
            let lens = store.lengths(&typed).await?;
            let mut lens = typed.into_iter().zip(lens).map(|((_, _), l)| l);
            Ok(metas
                .into_iter()
                .map(|(k, m)| {
                    let l = if m.ktype.is_some() { lens.next().flatten() } else { None };
                    (k, m, l)
                })
                .collect())
        })
    };
    let drain = |acc: &mut Acc, rows: Vec<Row>| {
        for (k, m, l) in rows {
            match &m.ktype {
                Some(t) => acc.add(&k, t, &m.ttl, m.memory, l),
                None => acc.a.gone += 1,
            }
        }
        progress(acc.a.keys + acc.a.gone, acc.a.dbsize);
    };
    loop {
        let page = match scan.next_page().await {
            None => break,
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                acc.a.partial = Some(e.to_string());
                break;
            }
        };
        let mut keys = page.keys;
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            continue;
        }
        // TYPE, PTTL, MEMORY USAGE and a length per key, and the SCAN.
        let ops = keys.len() as u64 * 4 + 1;
        throttle.take(ops).await;
        acc.a.ops += ops;
        inflight.push_back(read(keys));
        if inflight.len() > IN_FLIGHT
            && let Some(h) = inflight.pop_front()
        {
            match h.await {
                Ok(Ok(rows)) => drain(&mut acc, rows),
                Ok(Err(e)) => {
                    acc.a.partial = Some(e.to_string());
                    break;
                }
                Err(e) => return Err(StoreError::Other(e.to_string())),
            }
        }
    }
    while let Some(h) = inflight.pop_front() {
        match h.await {
            Ok(Ok(rows)) => drain(&mut acc, rows),
            Ok(Err(e)) => acc.a.partial = acc.a.partial.take().or(Some(e.to_string())),
            Err(e) => return Err(StoreError::Other(e.to_string())),
        }
    }
    acc.a.took_ms = t0.elapsed().as_millis() as u64;
    // What the server says it uses, to set the keys' sum against (one INFO per master).
    acc.a.used_memory = store.health().await.ok().map(|h| h.used_memory).filter(|m| *m > 0);
    Ok(acc.finish())
}

/// One figure of every key of a listing (the Keys tab's sort by TTL or size: the whole
/// listing, not a sample), in pipelines of `batch` keys, [`IN_FLIGHT`] at once, under the same
/// limit of commands per second as an analysis. `progress` gets the keys measured so far.
/// On an error, the keys measured before it are said with it: a partial order is never used.
pub async fn measure_listing(
    store: Arc<dyn KeyStore>,
    keys: Arc<Vec<Key>>,
    what: crate::domain::Measure,
    max_ops_per_sec: u64,
    batch: usize,
    progress: impl Fn(u64),
) -> Result<Vec<Option<i64>>, (StoreError, u64)> {
    let batch = batch.max(1);
    let mut out: Vec<Option<i64>> = Vec::with_capacity(keys.len());
    let mut throttle = Throttle { per_sec: max_ops_per_sec, start: tokio::time::Instant::now(), sent: 0 };
    type Part = tokio::task::JoinHandle<Result<Vec<Option<i64>>, StoreError>>;
    let mut inflight: std::collections::VecDeque<Part> = Default::default();
    let read = |lo: usize| {
        let (store, keys) = (store.clone(), keys.clone());
        tokio::spawn(async move { store.measure(&keys[lo..(lo + batch).min(keys.len())], what).await })
    };
    let mut lo = 0;
    while lo < keys.len() || !inflight.is_empty() {
        if lo < keys.len() && inflight.len() < IN_FLIGHT {
            throttle.take(((lo + batch).min(keys.len()) - lo) as u64).await;
            inflight.push_back(read(lo));
            lo += batch;
            continue;
        }
        let Some(h) = inflight.pop_front() else { break };
        match h.await {
            Ok(Ok(part)) => {
                out.extend(part);
                progress(out.len() as u64);
            }
            Ok(Err(e)) => return Err((e, out.len() as u64)),
            Err(e) => return Err((StoreError::Other(e.to_string()), out.len() as u64)),
        }
    }
    Ok(out)
}

impl Analysis {
    /// Its first line: keys, bytes (exact), nodes, time and commands.
    pub fn summary(&self) -> String {
        let hb = crate::text::human_bytes;
        let of_used = match self.used_memory {
            Some(u) => format!(" of {} used_memory (INFO; {} in keys)", hb(u), pct(self.bytes, u)),
            None => String::new(),
        };
        format!(
            "{} keys · {} (MEMORY USAGE of every key, summed){of_used} · {} node{} · {:.1} s · {} commands",
            crate::text::num(self.keys),
            hb(self.bytes),
            self.nodes,
            if self.nodes == 1 { "" } else { "s" },
            self.took_ms as f64 / 1000.0,
            crate::text::num(self.ops)
        )
    }
}

/// What changed between two analyses, per namespace: (prefix, bytes before, bytes now, keys
/// before, keys now), the biggest growth first. Namespaces new or gone count from zero.
pub fn compare(old: &Analysis, new: &Analysis) -> Vec<(String, u64, u64, u64, u64)> {
    let before: BTreeMap<&str, &Namespace> = old.namespaces.iter().map(|n| (n.prefix.as_str(), n)).collect();
    let now: BTreeMap<&str, &Namespace> = new.namespaces.iter().map(|n| (n.prefix.as_str(), n)).collect();
    let mut out: Vec<(String, u64, u64, u64, u64)> = before
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|p| {
            let (b, n) = (before.get(p), now.get(p));
            (
                p.to_string(),
                b.map(|x| x.bytes).unwrap_or(0),
                n.map(|x| x.bytes).unwrap_or(0),
                b.map(|x| x.keys).unwrap_or(0),
                n.map(|x| x.keys).unwrap_or(0),
            )
        })
        .collect();
    out.sort_by_key(|(p, b, n, _, _)| (std::cmp::Reverse(*n as i128 - *b as i128), p.clone()));
    out
}

/// The analysis as text, every section: what `memscope analyze` prints and the Keys tab's
/// analysis view opens in the pager (`o`). `limit`: the commands/s it ran at, when limited.
pub fn report_text(r: &Analysis, old: Option<&Analysis>, limit: Option<u64>) -> String {
    let mut o: Vec<u8> = Vec::new();
    let _ = write_report(&mut o, r, old, limit);
    String::from_utf8_lossy(&o).into_owned()
}

fn write_report(
    o: &mut dyn std::io::Write,
    r: &Analysis,
    old: Option<&Analysis>,
    limit: Option<u64>,
) -> std::io::Result<()> {
    let hb = crate::text::human_bytes;
    let s = |k: &str| crate::text::sanitize_str(k);
    writeln!(o, "{}{}", r.summary(), limit.map(|l| format!(" (at most {l}/s)")).unwrap_or_default())?;
    if let Some(p) = &r.partial {
        writeln!(o, "PARTIAL: the pass ended early ({}); the figures are of the keys read", s(p))?;
    }
    if r.gone > 0 || r.unmeasured > 0 {
        writeln!(
            o,
            "{} keys expired or were deleted during the pass; {} had no MEMORY USAGE",
            crate::text::num(r.gone),
            crate::text::num(r.unmeasured)
        )?;
    }
    // Under --compare, what grew comes first: it is why one compares.
    if let Some(old) = old {
        writeln!(
            o,
            "\nGROWTH SINCE THE ANALYSIS OF {} (most growth first)",
            crate::domain::Ts { secs: old.started, nanos: 0 }.to_rfc3339()
        )?;
        for (p, b, n, kb, kn) in compare(old, r).iter().filter(|x| x.1 != x.2).take(30) {
            let d = *n as i128 - *b as i128;
            let sign = if d >= 0 { "+" } else { "-" };
            writeln!(
                o,
                "  {:<44} {sign}{:>11}  {} → {}  keys {} → {}",
                s(p),
                hb(d.unsigned_abs() as u64),
                hb(*b),
                hb(*n),
                crate::text::num(*kb),
                crate::text::num(*kn)
            )?;
        }
    }
    writeln!(o, "\nBY TYPE")?;
    for t in &r.by_type {
        writeln!(
            o,
            "  {:<12} {:>12} keys {:>12} {:>7}",
            s(&t.ktype),
            crate::text::num(t.keys),
            hb(t.bytes),
            pct(t.bytes, r.bytes)
        )?;
    }
    writeln!(o, "\nNAMESPACES (by \"{}\", ids folded into *; most memory first)", s(&r.delimiter))?;
    writeln!(o, "  {:<44} {:>12} {:>12} {:>7}   TTL {}", "", "KEYS", "MEMORY", "%", TTL_BUCKETS.join(" / "))?;
    let shown: Vec<_> = r.namespaces.iter().take(40).collect();
    for n in &shown {
        let name = format!("{}{}", "  ".repeat(n.depth - 1), s(&n.prefix));
        let ttl: Vec<String> = n.ttl.iter().map(|x| crate::text::num(*x)).collect();
        writeln!(
            o,
            "  {:<44} {:>12} {:>12} {:>7}   {}",
            crate::text::truncate(&name, 44),
            crate::text::num(n.keys),
            hb(n.bytes),
            pct(n.bytes, r.bytes),
            ttl.join(" / ")
        )?;
    }
    if r.namespaces.len() > shown.len() {
        writeln!(
            o,
            "  … {} more namespaces (--json lists every one)",
            crate::text::num((r.namespaces.len() - shown.len()) as u64)
        )?;
    }
    if r.namespaces_folded > 0 {
        writeln!(
            o,
            "  ({} keys counted under \"(other …)\": more than {} namespaces at a level)",
            crate::text::num(r.namespaces_folded),
            NAMESPACE_CAP
        )?;
    }
    writeln!(o, "\nBIGGEST KEYS BY MEMORY")?;
    for k in r.top_by_memory.iter().take(20) {
        writeln!(o, "  {}", k.row())?;
    }
    if r.top_by_memory.len() > 20 {
        writeln!(o, "  … {} more in --json", r.top_by_memory.len() - 20)?;
    }
    writeln!(o, "\nBIGGEST KEYS BY LENGTH, BY TYPE")?;
    for (header, list) in by_length(&r.top_by_elements) {
        writeln!(o, "  {header}")?;
        for k in list.iter().take(10) {
            writeln!(o, "    {}", k.row())?;
        }
        if list.len() > 10 {
            writeln!(o, "    … {} more in --json", list.len() - 10)?;
        }
    }
    writeln!(o, "\nLEAK SUSPECTS (most keys of the namespace expire, these do not)")?;
    if r.leak_suspects.is_empty() {
        writeln!(o, "  none")?;
    }
    for l in &r.leak_suspects {
        writeln!(o, "  {:<44} {}", s(&l.prefix), l.describe())?;
    }
    writeln!(o, "\nEXPIRING WITHIN A MINUTE: {} keys, soonest first", crate::text::num(r.expiring_within_1m))?;
    for k in r.expiring_keys.iter().take(10) {
        writeln!(o, "  {:>8} {}", k.ttl_ms.map(crate::text::human_ms).unwrap_or_default(), s(&k.key))?;
    }
    let more = r.expiring_within_1m.saturating_sub(r.expiring_keys.len().min(10) as u64);
    if more > 0 {
        writeln!(o, "  … {} more", crate::text::num(more))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leak is listed once, where it is most precise: a parent whose keys without a TTL are
    /// all one listed child's is not listed again; its figure is what those keys hold.
    #[test]
    fn leaks_are_listed_once_with_what_their_keys_without_a_ttl_hold() {
        let opt = Options::default();
        let mut acc = Acc {
            a: Analysis::default(),
            types: HashMap::new(),
            levels: vec![HashMap::new(); opt.depth],
            mem: Top::new(opt.top),
            elems: BTreeMap::new(),
            soon: Top::new(opt.top),
            opt,
        };
        let s = KeyType::String;
        for i in 0..30 {
            acc.add(&format!("cache:user:{i}x").into_bytes().into(), &s, &Ttl::Millis(3_600_000), Some(100), Some(1));
        }
        for i in 0..4 {
            acc.add(&format!("cache:user:{i}y").into_bytes().into(), &s, &Ttl::Persistent, Some(1_000), Some(1));
        }
        for (i, ms) in [(0, 40_000), (1, 5_000), (2, 20_000)] {
            acc.add(&format!("tmp:{i}").into_bytes().into(), &s, &Ttl::Millis(ms), Some(10), Some(1));
        }
        let a = acc.finish();
        let leaks: Vec<(&str, u64, u64)> =
            a.leak_suspects.iter().map(|l| (l.prefix.as_str(), l.without_ttl, l.bytes_without_ttl)).collect();
        assert_eq!(leaks, [("cache:user:", 4, 4_000)], "{:?}", a.leak_suspects);
        assert_eq!(a.leak_suspects[0].describe(), "4 of 34 keys without a TTL hold 3.9 KiB of 6.8 KiB");
        let soon: Vec<Option<i64>> = a.expiring_keys.iter().map(|k| k.ttl_ms).collect();
        assert_eq!(soon, [Some(5_000), Some(20_000), Some(40_000)], "soonest first");
    }

    #[test]
    fn namespaces_fold_ids_and_stop_at_the_depth() {
        assert_eq!(namespaces_of("conversation:c-0042:messages", ":", 3), ["conversation:", "conversation:*:"]);
        assert_eq!(namespaces_of("session:8f3a9c2e-1b4d-4c1a-9e2f-1234567890ab", ":", 3), ["session:"]);
        assert_eq!(namespaces_of("cache:user:42:profile:v2", ":", 3), ["cache:", "cache:user:", "cache:user:*:"]);
        assert_eq!(namespaces_of("plain", ":", 3), Vec::<String>::new());
        assert!(id_like("01M8KN0001000000000000001") && id_like("1795936271") && id_like("0a1b2c3d"));
        assert!(id_like("c-0042") && id_like("u42") && id_like("c-1"));
        assert!(!id_like("messages") && !id_like("user") && !id_like("v2") && !id_like("cafe"));
    }

    #[test]
    fn namespaces_read_as_a_tree_siblings_by_memory() {
        let ns = |p: &str, d: usize, b: u64| Namespace {
            prefix: p.into(),
            depth: d,
            keys: 1,
            bytes: b,
            ttl: [0; 5],
            no_ttl_bytes: 0,
        };
        let order: Vec<String> = tree_order(
            vec![
                ns("cache:", 1, 100),
                ns("log:", 1, 50),
                ns("cache:doc:", 2, 10),
                ns("cache:big:", 2, 90),
                ns("events:", 1, 5),
            ],
            ":",
        )
        .into_iter()
        .map(|n| n.prefix)
        .collect();
        assert_eq!(order, ["cache:", "cache:big:", "cache:doc:", "log:", "events:"]);
    }

    #[test]
    fn top_lists_keep_the_biggest_in_order() {
        let mut t = Top::new(3);
        for (i, v) in [5u64, 1, 9, 7, 3, 9].iter().enumerate() {
            t.offer(*v, || KeyStat {
                key: format!("k{i}"),
                ktype: "string".into(),
                bytes: *v,
                elements: None,
                ttl_ms: None,
            });
        }
        let got: Vec<(String, u64)> = t.into_sorted().into_iter().map(|k| (k.key, k.bytes)).collect();
        assert_eq!(got, [("k2".into(), 9), ("k5".into(), 9), ("k3".into(), 7)]);
    }

    #[test]
    fn compare_puts_the_biggest_growth_first() {
        let ns = |p: &str, b: u64, k: u64| Namespace {
            prefix: p.into(),
            depth: 1,
            keys: k,
            bytes: b,
            ttl: [0; 5],
            no_ttl_bytes: 0,
        };
        let old =
            Analysis { namespaces: vec![ns("a:", 100, 1), ns("b:", 500, 5), ns("gone:", 50, 1)], ..Default::default() };
        let new =
            Analysis { namespaces: vec![ns("a:", 900, 9), ns("b:", 400, 4), ns("new:", 300, 3)], ..Default::default() };
        let c = compare(&old, &new);
        let order: Vec<&str> = c.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(order, ["a:", "new:", "gone:", "b:"]);
        assert_eq!(c[0], ("a:".into(), 100, 900, 1, 9));
    }
}
