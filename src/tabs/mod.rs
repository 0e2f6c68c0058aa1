//! One file per tab: its state and its update logic (pure; drawing lives in `crate::ui`).

pub mod audit;
pub mod conversations;
pub mod health;
pub mod keys;
pub mod scroll;
pub mod search;

/// How long a failed view waits before it asks again: 1 s after the first failure, doubling to
/// at most 30 s. The one retry curve of every view.
pub fn retry_backoff_ms(attempt: u32) -> u64 {
    (1000u64 << attempt.min(5)).min(30_000)
}
