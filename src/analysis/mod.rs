//! What is eating Redis: one pass over the whole keyspace (every master of a cluster) with
//! SCAN and pipelined TYPE / PTTL / MEMORY USAGE and each key's length, aggregated as it goes —
//! memory and keys per namespace (a tree by delimiter, id-like parts folded into `*`), per type,
//! the biggest keys by memory and by length, TTLs per namespace, namespaces that look like
//! leaks, and the keys about to expire. Nothing per key is kept but the top lists, so memory
//! stays flat on millions of keys. Exact: MEMORY USAGE of every key, summed (no sampling of
//! keys). Throttled to a rate of commands so the server is not hurt.

mod aggregate;
mod pass;
pub mod profile;
pub mod pubsub;
mod report;
use aggregate::*;
pub use aggregate::{NO_NAMESPACE, id_like, namespaces_of};
pub use pass::{Throttle, analyze, measure_listing};
pub use report::{compare, report_text};

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
            max_ops_per_sec: crate::config::DEFAULT_MAX_OPS_PER_SEC,
            batch: 1000,
            top: 100,
            depth: 3,
        }
    }
}

/// Distinct namespaces kept per level; more are counted under `(other)` and said so.
pub const NAMESPACE_CAP: usize = 20_000;

/// TTL buckets: no TTL, under a minute, an hour, a day, longer.
pub const TTL_BUCKETS: [&str; 5] = ["none", "<1m", "<1h", "<1d", "longer"];

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

/// `v1`, `v2`, `v10`: a version names a kind of thing, not one thing.
fn version(s: &str) -> bool {
    s.len() <= 4 && s.starts_with(['v', 'V']) && s[1..].bytes().all(|b| b.is_ascii_digit())
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
