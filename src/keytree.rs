//! The key list of the Redis Keys tab: a sorted, de-duplicated set of keys shown flat or as a
//! namespace tree.
//!
//! Keys are kept sorted by bytes, so every folder (`user:` …) is a contiguous range found by
//! binary search; the tree needs no node objects. The visible rows are flattened once per
//! change (new keys, expand/collapse, sort), so drawing a frame only slices `rows`. In flat
//! mode the rows are implicit (row i = key i, or the i-th of the order) and cost no memory.
//!
//! Sorting by TTL or size needs a figure of every key, read from the server: the keys are
//! shared (`Arc`) with the task that measures them and orders them ([`order_by`]), off the UI
//! thread; the order comes back as a permutation and its inverse, installed only if the
//! listing is still the one measured. Until then the rows stay in name order.

use crate::domain::Key;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    Tree,
    Flat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
    /// Soonest to expire first; persistent and unknown last.
    Ttl,
    /// Largest first; unknown last.
    Size,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Name => SortBy::Ttl,
            SortBy::Ttl => SortBy::Size,
            SortBy::Size => SortBy::Name,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SortBy::Name => "name",
            SortBy::Ttl => "ttl",
            SortBy::Size => "size",
        }
    }
}

/// One visible row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Folder { start: u32, end: u32, prefix_len: u32, name_from: u32, depth: u16, expanded: bool },
    Key { idx: u32, name_from: u32, depth: u16 },
}

impl Row {
    pub fn depth(&self) -> u16 {
        match self {
            Row::Folder { depth, .. } | Row::Key { depth, .. } => *depth,
        }
    }
}

/// A listing ordered by a figure of each key: `order[i]` is the key shown i-th, `rank[k]` the
/// place of key k. Keys without the figure (no TTL, gone) come last, in name order.
#[derive(Debug, Clone)]
pub struct KeyOrder {
    pub by: SortBy,
    pub order: Vec<u32>,
    pub rank: Vec<u32>,
    /// Keys that had no figure (no TTL, or gone since the scan).
    pub unknown: u64,
    /// By size: the running sum of the measured bytes in key (name) order, one more entry than
    /// keys — a folder's keys are a range, so its total is two lookups.
    pub sums: Option<Vec<u64>>,
}

/// The order of keys by their figures (`metrics[k]` of key k): the largest size first, the
/// soonest expiry first; unknown last; ties by name. O(n log n): run it off the UI thread.
pub fn order_by(metrics: &[Option<i64>], by: SortBy) -> KeyOrder {
    let mut order: Vec<u32> = (0..metrics.len() as u32).collect();
    let class = |m: Option<i64>| match (by, m) {
        (_, None) => (1u8, 0i64),
        (SortBy::Size, Some(v)) => (0, -v),
        (_, Some(v)) => (0, v),
    };
    order.sort_unstable_by_key(|&i| (class(metrics[i as usize]), i));
    let mut rank = vec![0u32; order.len()];
    for (pos, &i) in order.iter().enumerate() {
        rank[i as usize] = pos as u32;
    }
    let unknown = metrics.iter().filter(|m| m.is_none()).count() as u64;
    let sums = (by == SortBy::Size).then(|| {
        let mut s = Vec::with_capacity(metrics.len() + 1);
        s.push(0u64);
        for m in metrics {
            s.push(s[s.len() - 1] + m.unwrap_or(0).max(0) as u64);
        }
        s
    });
    KeyOrder { by, order, rank, unknown, sums }
}

pub struct KeyIndex {
    keys: Arc<Vec<Key>>,
    /// The order by TTL or size of exactly these keys (dropped when they change).
    order: Option<KeyOrder>,
    pending: Vec<Key>,
    delim: Vec<u8>,
    mode: ViewMode,
    sort: SortBy,
    expanded: HashSet<Box<[u8]>>,
    rows: Vec<Row>,
    implicit: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

impl KeyIndex {
    pub fn new(delim: &str) -> KeyIndex {
        KeyIndex {
            keys: Arc::new(Vec::new()),
            order: None,
            pending: Vec::new(),
            delim: delim.as_bytes().to_vec(),
            mode: ViewMode::Tree,
            sort: SortBy::Name,
            expanded: HashSet::new(),
            rows: Vec::new(),
            implicit: false,
        }
    }

    pub fn clear(&mut self) {
        self.keys = Arc::new(Vec::new());
        self.stale();
        self.pending = Vec::new();
        self.rows = Vec::new();
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
    pub fn mode(&self) -> ViewMode {
        self.mode
    }
    pub fn sort(&self) -> SortBy {
        self.sort
    }
    pub fn delimiter(&self) -> String {
        String::from_utf8_lossy(&self.delim).into_owned()
    }
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    /// The keys, shared: what a sort measures off the UI thread (no copy).
    pub fn snapshot(&self) -> Arc<Vec<Key>> {
        self.keys.clone()
    }
    /// The keys, to change: any order of them no longer holds.
    fn keys_mut(&mut self) -> &mut Vec<Key> {
        self.stale();
        Arc::make_mut(&mut self.keys)
    }
    /// The keys changed: their order and the rows (which refer to keys by position) no longer
    /// hold until the next `rebuild`.
    fn stale(&mut self) {
        self.order = None;
        self.rows.clear();
        self.implicit = false;
    }
    /// Install the order of `keys` if they are still the listing (else false: measure again).
    pub fn set_order(&mut self, keys: &Arc<Vec<Key>>, order: KeyOrder) -> bool {
        if !Arc::ptr_eq(keys, &self.keys) || order.order.len() != self.keys.len() {
            return false;
        }
        self.order = Some(order);
        true
    }
    /// The order installed for the current sort, if any (name order needs none).
    pub fn order(&self) -> Option<&KeyOrder> {
        self.order.as_ref().filter(|o| o.by == self.sort && self.sort != SortBy::Name)
    }
    /// The memory the keys `start..end` hold (a folder's), while an order by size measured
    /// for this listing stands.
    pub fn bytes_of(&self, start: u32, end: u32) -> Option<u64> {
        let s = self.order.as_ref()?.sums.as_ref()?;
        Some(s.get(end as usize)? - s.get(start as usize)?)
    }
    /// Whether the rows follow the sort asked for (by TTL or size: once measured).
    pub fn ordered(&self) -> bool {
        self.sort == SortBy::Name || self.order().is_some()
    }
    pub fn key(&self, idx: u32) -> &[u8] {
        &self.keys[idx as usize]
    }

    /// A whole new listing (sorted, de-duplicated), replacing the one there.
    pub fn replace(&mut self, keys: Vec<Key>) {
        debug_assert!(keys.is_sorted());
        self.keys = Arc::new(keys);
        self.stale();
        self.pending = Vec::new();
    }

    /// Queue keys from a SCAN batch; they appear at the next `commit`.
    pub fn push(&mut self, keys: Vec<Key>) {
        if self.pending.is_empty() {
            self.pending = keys;
        } else {
            self.pending.extend(keys);
        }
    }

    /// Merge queued keys (sorted, de-duplicated: SCAN may return a key twice).
    /// Returns whether anything changed; the caller then calls `rebuild`.
    pub fn merge_pending(&mut self) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        let mut p = std::mem::take(&mut self.pending);
        p.sort_unstable();
        if self.keys.is_empty() {
            p.dedup();
            self.keys = Arc::new(p);
            self.stale();
        } else {
            // Two sorted runs: the stable sort detects and merges them in linear time.
            let keys = self.keys_mut();
            keys.extend(p);
            keys.sort();
            keys.dedup();
        }
        true
    }

    pub fn set_mode(&mut self, mode: ViewMode) {
        self.mode = mode;
    }
    /// A new sort: an order measured for another one is dropped (its figures are old).
    pub fn set_sort(&mut self, sort: SortBy) {
        if sort != self.sort {
            self.order = None;
        }
        self.sort = sort;
    }
    pub fn set_delimiter(&mut self, delim: &str) {
        if !delim.is_empty() {
            self.delim = delim.as_bytes().to_vec();
            self.expanded.clear();
        }
    }

    pub fn is_expanded(&self, prefix: &[u8]) -> bool {
        self.expanded.contains(prefix)
    }
    pub fn set_expanded(&mut self, prefix: &[u8], on: bool) {
        if on {
            self.expanded.insert(prefix.into());
        } else {
            self.expanded.remove(prefix);
        }
    }
    pub fn collapse_all(&mut self) {
        self.expanded.clear();
    }

    pub fn row_count(&self) -> usize {
        if self.implicit { self.keys.len() } else { self.rows.len() }
    }

    pub fn row(&self, i: usize) -> Option<Row> {
        if self.implicit {
            let idx = match self.order() {
                Some(o) => *o.order.get(i)?,
                None => (i < self.keys.len()).then_some(i as u32)?,
            };
            Some(Row::Key { idx, name_from: 0, depth: 0 })
        } else {
            self.rows.get(i).copied()
        }
    }

    /// The full prefix of a folder row (`user:42:`), or the key of a key row.
    pub fn row_bytes(&self, row: &Row) -> &[u8] {
        match *row {
            Row::Folder { start, prefix_len, .. } => &self.keys[start as usize][..prefix_len as usize],
            Row::Key { idx, .. } => &self.keys[idx as usize],
        }
    }

    /// What the row shows as its name (the part after its parent's prefix).
    pub fn row_name(&self, row: &Row) -> &[u8] {
        match *row {
            Row::Folder { start, prefix_len, name_from, .. } => {
                &self.keys[start as usize][name_from as usize..prefix_len as usize - self.delim.len()]
            }
            Row::Key { idx, name_from, .. } => &self.keys[idx as usize][name_from as usize..],
        }
    }

    /// Index of the row showing `bytes` (a key or a folder prefix).
    pub fn find_row(&self, bytes: &[u8]) -> Option<usize> {
        if self.implicit {
            let i = self.keys.binary_search_by(|k| (**k).cmp(bytes)).ok()?;
            return Some(self.order().map(|o| o.rank[i] as usize).unwrap_or(i));
        }
        (0..self.rows.len()).find(|&i| self.row_bytes(&self.rows[i]) == bytes)
    }

    /// Index of the nearest row above `i` with a smaller depth (the parent folder).
    pub fn parent_row(&self, i: usize) -> Option<usize> {
        let d = self.row(i)?.depth();
        (0..i).rev().find(|&j| self.rows.get(j).is_some_and(|r| r.depth() < d))
    }

    /// Recompute the visible rows: by name, or by the installed order of the sort asked for
    /// (by name until it is installed). Flat rows are implicit; a tree orders each folder's
    /// keys by their rank.
    pub fn rebuild(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        self.implicit = self.mode == ViewMode::Flat;
        if self.implicit {
            rows = Vec::new();
        } else {
            self.build(0, self.keys.len(), 0, 0, &mut rows);
        }
        self.rows = rows;
    }

    fn build(&self, lo: usize, hi: usize, prefix_len: usize, depth: u16, out: &mut Vec<Row>) {
        let mut leaves: Vec<u32> = Vec::new();
        let order = self.order();
        let by_name = order.is_none();
        let mut i = lo;
        while i < hi {
            let k = &self.keys[i];
            match find(&k[prefix_len..], &self.delim) {
                Some(pos) => {
                    let plen = prefix_len + pos + self.delim.len();
                    let prefix = &k[..plen];
                    let end = i + self.keys[i..hi].partition_point(|x| x.starts_with(prefix));
                    let expanded = self.expanded.contains(prefix);
                    out.push(Row::Folder {
                        start: i as u32,
                        end: end as u32,
                        prefix_len: plen as u32,
                        name_from: prefix_len as u32,
                        depth,
                        expanded,
                    });
                    if expanded {
                        self.build(i, end, plen, depth + 1, out);
                    }
                    i = end;
                }
                None => {
                    if by_name {
                        out.push(Row::Key { idx: i as u32, name_from: prefix_len as u32, depth });
                    } else {
                        leaves.push(i as u32);
                    }
                    i += 1;
                }
            }
        }
        if let Some(o) = order {
            ordered_leaves(&mut leaves, o);
            out.extend(leaves.into_iter().map(|idx| Row::Key { idx, name_from: prefix_len as u32, depth }));
        }
    }
}

/// A folder's keys in the order's sequence. Few: sorted by rank. Many (a folder holding most
/// of a million keys): picked from the order in one pass, O(n) instead of O(n log n).
fn ordered_leaves(leaves: &mut Vec<u32>, o: &KeyOrder) {
    let n = o.order.len();
    if leaves.len() < 4096 || leaves.len() < n / 16 {
        leaves.sort_unstable_by_key(|&i| o.rank[i as usize]);
        return;
    }
    let mut member = vec![0u64; n.div_ceil(64)];
    for &i in leaves.iter() {
        member[i as usize / 64] |= 1 << (i % 64);
    }
    leaves.clear();
    leaves.extend(o.order.iter().copied().filter(|&i| member[i as usize / 64] & (1 << (i % 64)) != 0));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(keys: &[&str]) -> KeyIndex {
        let mut k = KeyIndex::new(":");
        k.push(keys.iter().map(|s| s.as_bytes().into()).collect());
        k.merge_pending();
        k.rebuild();
        k
    }

    fn names(k: &KeyIndex) -> Vec<String> {
        (0..k.row_count())
            .map(|i| {
                let r = k.row(i).unwrap();
                let n = String::from_utf8_lossy(k.row_name(&r)).into_owned();
                let pad = "  ".repeat(r.depth() as usize);
                match r {
                    Row::Folder { start, end, .. } => format!("{pad}{n}/ ({})", end - start),
                    Row::Key { .. } => format!("{pad}{n}"),
                }
            })
            .collect()
    }

    #[test]
    fn groups_by_namespace_with_counts() {
        let mut k = idx(&["user:1:profile", "user:2:profile", "user:1:prefs", "session:a", "plain", "session:b"]);
        assert_eq!(names(&k), vec!["plain", "session/ (2)", "user/ (3)"]);
        k.set_expanded(b"user:", true);
        k.rebuild();
        assert_eq!(names(&k), vec!["plain", "session/ (2)", "user/ (3)", "  1/ (2)", "  2/ (1)"]);
        k.set_expanded(b"user:1:", true);
        k.rebuild();
        assert_eq!(names(&k)[4..6], ["    prefs".to_string(), "    profile".to_string()]);
        assert_eq!(k.parent_row(4), Some(3));
        assert_eq!(k.find_row(b"user:2:"), Some(6));
    }

    #[test]
    fn duplicates_from_scan_are_merged_in_order() {
        let mut k = idx(&["b", "a"]);
        k.push(vec![b"c".as_slice().into(), b"a".as_slice().into()]);
        k.merge_pending();
        k.set_mode(ViewMode::Flat);
        k.rebuild();
        assert_eq!(names(&k), vec!["a", "b", "c"]);
        k.replace(vec![b"a".as_slice().into(), b"c".as_slice().into()]);
        k.rebuild();
        assert_eq!(names(&k), vec!["a", "c"]);
    }

    #[test]
    fn sort_by_size_puts_largest_first_and_unknown_last() {
        let mut k = idx(&["a", "b", "c", "d"]);
        k.set_mode(ViewMode::Flat);
        k.set_sort(SortBy::Size);
        k.rebuild();
        // Until the order is measured, the rows stay by name.
        assert_eq!(names(&k), vec!["a", "b", "c", "d"]);
        assert!(!k.ordered());
        let snap = k.snapshot();
        let o = order_by(&[Some(10), None, Some(300), Some(20)], SortBy::Size);
        assert_eq!(o.sums.as_deref(), Some([0, 10, 10, 310, 330].as_slice()), "running sums in key order");
        assert!(order_by(&[Some(1)], SortBy::Ttl).sums.is_none());
        assert_eq!(o.unknown, 1);
        assert!(k.set_order(&snap, o));
        k.rebuild();
        assert!(k.ordered());
        assert_eq!(names(&k), vec!["c", "d", "a", "b"]);
        assert_eq!(k.find_row(b"a"), Some(2));
        // The soonest expiry first; keys without a TTL last, by name.
        k.set_sort(SortBy::Ttl);
        let o = order_by(&[None, Some(5_000), None, Some(10)], SortBy::Ttl);
        assert!(k.set_order(&snap, o));
        k.rebuild();
        assert_eq!(names(&k), vec!["d", "b", "a", "c"]);
        // A listing that changed since it was measured: the order is refused.
        k.replace(["a", "b", "c", "d", "e"].map(|s| s.as_bytes().into()).to_vec());
        k.rebuild();
        assert!(!k.ordered());
        assert!(!k.set_order(&snap, order_by(&[None; 4], SortBy::Ttl)));
        assert_eq!(names(&k), vec!["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_tree_orders_each_folder_by_rank_small_or_large() {
        // A folder of 10,000 keys (picked from the order in one pass) and a small one (sorted).
        let mut keys: Vec<String> = (0..10_000).map(|i| format!("big:{i:05}")).collect();
        keys.extend(["small:a", "small:b", "small:c"].map(String::from));
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut k = idx(&refs);
        k.set_sort(SortBy::Size);
        let snap = k.snapshot();
        // Sizes grow with the number; the small folder's are reversed.
        let mut m: Vec<Option<i64>> = (0..10_000).map(Some).collect();
        m.extend([Some(1), Some(2), Some(3)]);
        assert!(k.set_order(&snap, order_by(&m, SortBy::Size)));
        k.set_expanded(b"big:", true);
        k.set_expanded(b"small:", true);
        k.rebuild();
        // The folders' totals, from the sizes measured: 0+1+…+9999 and 1+2+3.
        assert_eq!(k.bytes_of(0, 10_000), Some(49_995_000));
        assert_eq!(k.bytes_of(10_000, 10_003), Some(6));
        let n = names(&k);
        assert_eq!(n[0], "big/ (10000)");
        assert_eq!(&n[1..3], ["  09999", "  09998"]);
        assert_eq!(n[10_000], "  00000");
        assert_eq!(&n[10_001..], ["small/ (3)", "  c", "  b", "  a"]);
    }

    #[test]
    fn multibyte_delimiter_and_empty_segments() {
        let mut k = KeyIndex::new("::");
        k.push(vec![b"a::b".as_slice().into(), b"a::".as_slice().into(), b"a:c".as_slice().into()]);
        k.merge_pending();
        k.rebuild();
        assert_eq!(names(&k), vec!["a/ (2)", "a:c"]);
    }
}
