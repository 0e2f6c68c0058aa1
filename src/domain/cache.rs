//! The memory layer's short-term operations and their replies.

use super::*;

/// One operation of the memory layer on the short-term tier; a batch of them runs as one
/// pipeline and yields one [`CacheReply`] each.
#[derive(Debug, Clone, PartialEq)]
pub enum CacheOp {
    /// Merge JSON messages into a recent-messages list, atomically: one entry per
    /// `message_id` (the newer write wins), ordered by `timestamp` then id, trimmed to the
    /// `keep` newest. Replies with the list's length.
    MergeRecent {
        key: Key,
        items: Vec<Vec<u8>>,
        keep: u32,
    },
    /// Replace a list with exactly these items (or delete it when empty). Replies `Done`.
    ReplaceList {
        key: Key,
        items: Vec<Vec<u8>>,
    },
    /// Set hash fields and (re)arm the key's TTL. Replies `Done`.
    HSet {
        key: Key,
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        ttl_s: u64,
    },
    /// SET with a TTL. Replies `Done`.
    SetEx {
        key: Key,
        value: Vec<u8>,
        ttl_s: u64,
    },
    /// Increment a counter whose TTL starts with its first increment. Replies `Int`.
    Incr {
        key: Key,
        ttl_s: u64,
    },
    Del(Key),
    /// Replies `Value`.
    Get(Key),
    /// Replies `Items`.
    LRange {
        key: Key,
        start: i64,
        stop: i64,
    },
    /// Replies `Pairs`.
    HGetAll(Key),
    /// Milliseconds left; -1 without TTL, -2 when the key does not exist. Replies `Int`.
    PTtl(Key),
    /// A list's length (0 when it does not exist). Replies `Int`.
    LLen(Key),
    /// A hash's number of fields (0 when it does not exist). Replies `Int`.
    HLen(Key),
    /// Some fields of a hash. Replies `Pairs` of the fields that exist.
    HMGet {
        key: Key,
        fields: Vec<String>,
    },
    /// RedisJSON `JSON.GET key path` (the JSON text of the matches). Replies `Value`.
    JsonGet {
        key: Key,
        path: String,
    },
    /// RedisJSON `JSON.ARRLEN key path`: the length of the first array the path matches.
    /// Replies `Int` (0 when it matches none).
    JsonArrLen {
        key: Key,
        path: String,
    },
}

impl CacheOp {
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            CacheOp::Get(_)
                | CacheOp::LRange { .. }
                | CacheOp::HGetAll(_)
                | CacheOp::PTtl(_)
                | CacheOp::LLen(_)
                | CacheOp::HLen(_)
                | CacheOp::HMGet { .. }
                | CacheOp::JsonGet { .. }
                | CacheOp::JsonArrLen { .. }
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum CacheReply {
    Done,
    Int(i64),
    Value(Option<Vec<u8>>),
    Items(Vec<Vec<u8>>),
    Pairs(Vec<(Vec<u8>, Vec<u8>)>),
}
