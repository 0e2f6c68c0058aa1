//! The key list of the Redis Keys tab: a sorted, de-duplicated set of keys shown flat or as a
//! namespace tree.
//!
//! Keys are kept sorted by bytes, so every folder (`user:` …) is a contiguous range found by
//! binary search; the tree needs no node objects. The visible rows are flattened once per
//! change (new keys, expand/collapse, sort), so drawing a frame only slices `rows`. In flat
//! mode sorted by name the rows are implicit (row i = key i) and cost no memory.

use crate::domain::Key;
use std::collections::HashSet;

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

pub struct KeyIndex {
    keys: Vec<Key>,
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
            keys: Vec::new(),
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
        self.keys = Vec::new();
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
    pub fn key(&self, idx: u32) -> &[u8] {
        &self.keys[idx as usize]
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
            self.keys = p;
        } else {
            // Two sorted runs: the stable sort detects and merges them in linear time.
            self.keys.extend(p);
            self.keys.sort();
        }
        self.keys.dedup();
        true
    }

    pub fn insert(&mut self, key: Key) {
        if let Err(pos) = self.keys.binary_search(&key) {
            self.keys.insert(pos, key);
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> bool {
        match self.keys.binary_search_by(|k| (**k).cmp(key)) {
            Ok(pos) => {
                self.keys.remove(pos);
                true
            }
            Err(_) => false,
        }
    }

    pub fn set_mode(&mut self, mode: ViewMode) {
        self.mode = mode;
    }
    pub fn set_sort(&mut self, sort: SortBy) {
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
            (i < self.keys.len()).then_some(Row::Key { idx: i as u32, name_from: 0, depth: 0 })
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
            return self.keys.binary_search_by(|k| (**k).cmp(bytes)).ok();
        }
        (0..self.rows.len()).find(|&i| self.row_bytes(&self.rows[i]) == bytes)
    }

    /// Index of the nearest row above `i` with a smaller depth (the parent folder).
    pub fn parent_row(&self, i: usize) -> Option<usize> {
        let d = self.row(i)?.depth();
        (0..i).rev().find(|&j| self.rows.get(j).is_some_and(|r| r.depth() < d))
    }

    /// Recompute the visible rows. `metric` gives the sort value of a key for TTL/size sorts.
    pub fn rebuild(&mut self, metric: &dyn Fn(&[u8]) -> Option<i64>) {
        let mut rows = std::mem::take(&mut self.rows);
        rows.clear();
        self.implicit = false;
        match (self.mode, self.sort) {
            (ViewMode::Flat, SortBy::Name) => {
                self.implicit = true;
                rows = Vec::new();
            }
            (ViewMode::Flat, sort) => {
                let mut idx: Vec<u32> = (0..self.keys.len() as u32).collect();
                sort_by_metric(&mut idx, &self.keys, sort, metric);
                rows.extend(idx.into_iter().map(|idx| Row::Key { idx, name_from: 0, depth: 0 }));
            }
            (ViewMode::Tree, _) => self.build(0, self.keys.len(), 0, 0, &mut rows, metric),
        }
        self.rows = rows;
    }

    fn build(
        &self,
        lo: usize,
        hi: usize,
        prefix_len: usize,
        depth: u16,
        out: &mut Vec<Row>,
        metric: &dyn Fn(&[u8]) -> Option<i64>,
    ) {
        let mut leaves: Vec<u32> = Vec::new();
        let by_name = self.sort == SortBy::Name;
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
                        self.build(i, end, plen, depth + 1, out, metric);
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
        if !by_name {
            sort_by_metric(&mut leaves, &self.keys, self.sort, metric);
            out.extend(leaves.into_iter().map(|idx| Row::Key { idx, name_from: prefix_len as u32, depth }));
        }
    }
}

fn sort_by_metric(idx: &mut [u32], keys: &[Key], sort: SortBy, metric: &dyn Fn(&[u8]) -> Option<i64>) {
    // Unknown (None) sorts last in both orders; ties keep name order (stable sort).
    idx.sort_by_cached_key(|&i| {
        let m = metric(&keys[i as usize]);
        match (sort, m) {
            (_, None) => (1u8, 0i64),
            (SortBy::Size, Some(v)) => (0, -v),
            (_, Some(v)) => (0, v),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(keys: &[&str]) -> KeyIndex {
        let mut k = KeyIndex::new(":");
        k.push(keys.iter().map(|s| s.as_bytes().into()).collect());
        k.merge_pending();
        k.rebuild(&|_| None);
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
        k.rebuild(&|_| None);
        assert_eq!(names(&k), vec!["plain", "session/ (2)", "user/ (3)", "  1/ (2)", "  2/ (1)"]);
        k.set_expanded(b"user:1:", true);
        k.rebuild(&|_| None);
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
        k.rebuild(&|_| None);
        assert_eq!(names(&k), vec!["a", "b", "c"]);
        assert!(k.remove(b"b"));
        assert_eq!(k.len(), 2);
    }

    #[test]
    fn sort_by_size_puts_largest_first_and_unknown_last() {
        let mut k = idx(&["a", "b", "c", "d"]);
        k.set_mode(ViewMode::Flat);
        k.set_sort(SortBy::Size);
        k.rebuild(&|key| match key {
            b"a" => Some(10),
            b"c" => Some(300),
            b"d" => Some(20),
            _ => None,
        });
        assert_eq!(names(&k), vec!["c", "d", "a", "b"]);
    }

    #[test]
    fn multibyte_delimiter_and_empty_segments() {
        let mut k = KeyIndex::new("::");
        k.push(vec![b"a::b".as_slice().into(), b"a::".as_slice().into(), b"a:c".as_slice().into()]);
        k.merge_pending();
        k.rebuild(&|_| None);
        assert_eq!(names(&k), vec!["a/ (2)", "a:c"]);
    }
}
