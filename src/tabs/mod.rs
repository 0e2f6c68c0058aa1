//! One file per tab: its state and its update logic (pure; drawing lives in `crate::ui`).

pub mod audit;
pub mod conversations;
pub mod health;
pub mod keys;
pub mod scroll;
pub mod search;
