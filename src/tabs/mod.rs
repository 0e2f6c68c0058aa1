//! One file per tab: its state, its update logic and its rendering.

pub mod audit;
pub mod audit_view;
pub mod conversations;
pub mod conversations_view;
pub mod health;
pub mod health_view;
pub mod keys;
pub mod keys_view;
pub mod search;
pub mod search_view;
pub mod tier;
