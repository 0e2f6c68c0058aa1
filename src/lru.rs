//! Values by key with a capacity and an optional expiry; the least recently used goes first.
//! One cache for the embedders' query vectors and the memory layer's in-process tier.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

pub struct Lru<V> {
    cap: usize,
    /// None: entries never expire.
    ttl: Option<Duration>,
    map: HashMap<String, (Instant, V)>,
    /// Keys by use, oldest first.
    order: VecDeque<String>,
}

impl<V: Clone> Lru<V> {
    /// A cache of `cap` entries (0 keeps nothing).
    pub fn new(cap: usize, ttl: Option<Duration>) -> Lru<V> {
        Lru { cap, ttl, map: HashMap::new(), order: VecDeque::new() }
    }

    pub fn get(&mut self, key: &str) -> Option<V> {
        let (at, v) = self.map.get(key)?;
        if self.ttl.is_some_and(|ttl| at.elapsed() > ttl) {
            self.map.remove(key);
            self.order.retain(|k| k != key);
            return None;
        }
        let v = v.clone();
        if self.order.back().map(String::as_str) != Some(key) {
            self.order.retain(|k| k != key);
            self.order.push_back(key.to_string());
        }
        Some(v)
    }

    pub fn put(&mut self, key: &str, v: V) {
        if self.cap == 0 {
            return;
        }
        if self.map.insert(key.to_string(), (Instant::now(), v)).is_some() {
            self.order.retain(|k| k != key);
        }
        self.order.push_back(key.to_string());
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    #[cfg(test)]
    pub fn set_ttl(&mut self, ttl: Option<Duration>) {
        self.ttl = ttl;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_evicts_least_recently_used() {
        let mut l: Lru<i32> = Lru::new(2, Some(Duration::from_secs(60)));
        l.put("a", 1);
        l.put("b", 2);
        assert_eq!(l.get("a"), Some(1));
        l.put("c", 3);
        assert_eq!(l.get("b"), None, "b was least recently used");
        assert_eq!(l.get("a"), Some(1));
        l.set_ttl(Some(Duration::ZERO));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(l.get("a"), None, "expired");
        let mut none: Lru<i32> = Lru::new(0, None);
        none.put("a", 1);
        assert_eq!(none.get("a"), None);
    }
}
