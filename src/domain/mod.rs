//! Backend-neutral types. Store crate types never leave `store/`; these do.

mod cache;
mod documents;
mod health;
mod keys;
mod profile;
#[cfg(test)]
mod tests;
mod time;
mod vectors;

pub use cache::*;
pub use documents::*;
pub use health::*;
pub use keys::*;
pub use profile::*;
pub use time::*;
pub use vectors::*;

/// The three memory tiers (plus the embedder the vector tier needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    LongTerm,
    ShortTerm,
    Vector,
}

/// Connection state of one tier, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    NotConfigured,
    Connecting,
    Up,
    Down(String),
}

/// The memory layer's hit/miss counters at one moment (`memory::Stats`), summed over the
/// layers of this process; the health poller adds them to its Redis sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct StatsSnapshot {
    pub lru_hits: u64,
    pub lru_misses: u64,
    pub redis_hits: u64,
    pub redis_misses: u64,
    pub redis_errors: u64,
    pub long_term_reads: u64,
    pub vsearch_hits: u64,
    pub vsearch_misses: u64,
    pub saved: u64,
    pub queued: u64,
}

/// One write of a seed (the demo's Redis data), in backend-neutral terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Seed {
    String(Key, Vec<u8>),
    List(Key, Vec<Vec<u8>>),
    Hash(Key, Vec<(Vec<u8>, Vec<u8>)>),
    Set(Key, Vec<Vec<u8>>),
    ZSet(Key, Vec<(f64, Vec<u8>)>),
    Stream(Key, Vec<Vec<(Vec<u8>, Vec<u8>)>>),
    HyperLogLog(Key, Vec<Vec<u8>>),
    Expire(Key, u64),
}
