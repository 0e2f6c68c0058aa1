//! What the pass adds up as it goes: namespaces (id-like parts folded into `*`), types, the top keys by
//! memory and by length, TTL buckets and leak suspects — nothing per key but the top lists.

use super::*;

pub(super) fn ttl_bucket(ttl: &Ttl) -> usize {
    match ttl {
        Ttl::Persistent | Ttl::Gone => 0,
        Ttl::Millis(ms) if *ms < 60_000 => 1,
        Ttl::Millis(ms) if *ms < 3_600_000 => 2,
        Ttl::Millis(ms) if *ms < 86_400_000 => 3,
        Ttl::Millis(_) => 4,
    }
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
pub(super) fn tree_order(ns: Vec<Namespace>, delim: &str) -> Vec<Namespace> {
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
pub(super) struct Ranked(u64, KeyStat);

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
pub(super) struct Top {
    pub(super) n: usize,
    pub(super) heap: BinaryHeap<Ranked>,
}

impl Top {
    pub(super) fn new(n: usize) -> Top {
        Top { n, heap: BinaryHeap::with_capacity(n + 1) }
    }
    pub(super) fn offer(&mut self, v: u64, k: impl FnOnce() -> KeyStat) {
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
    pub(super) fn into_sorted(self) -> Vec<KeyStat> {
        let mut v: Vec<Ranked> = self.heap.into_vec();
        v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
        v.into_iter().map(|r| r.1).collect()
    }
}

/// The running totals of a pass.
pub(super) struct Acc {
    pub(super) opt: Options,
    pub(super) a: Analysis,
    pub(super) types: HashMap<String, TypeStat>,
    pub(super) levels: Vec<HashMap<String, Namespace>>,
    pub(super) mem: Top,
    /// The longest of each type: a string's bytes and a hash's elements are not one ranking.
    pub(super) elems: BTreeMap<String, Top>,
    /// Keys expiring within a minute, the soonest kept.
    pub(super) soon: Top,
}

impl Acc {
    pub(super) fn add(&mut self, key: &Key, ktype: &KeyType, ttl: &Ttl, bytes: Option<u64>, len: Option<u64>) {
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

    pub(super) fn finish(mut self) -> Analysis {
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
