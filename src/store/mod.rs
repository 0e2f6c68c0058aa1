//! Store traits and their implementations. Store crate types (redis::Value, …) never leave
//! this module: callers see `crate::domain` types and `StoreError`.

pub mod redis;

use crate::domain::{Key, KeyMeta, PageCursor, ServerInfo, ValuePage, WriteOp};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("not configured: {0}")]
    NotConfigured(String),
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("no reply within {0} ms")]
    Timeout(u64),
    #[error("server error: {0}")]
    Server(String),
    #[error("read-only: {0} was not sent (enable write mode first)")]
    ReadOnly(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Errors that mean "the store cannot be reached now": shown as DOWN and retried.
    pub fn is_connection(&self) -> bool {
        matches!(self, StoreError::Unreachable(_) | StoreError::Timeout(_))
    }
}

/// The short-term tier as the explorer sees it: a key-value server that can be scanned.
#[async_trait::async_trait]
pub trait KeyStore: Send + Sync {
    /// Where it is, for the status line (secrets redacted).
    fn describe(&self) -> String;
    async fn ping(&self) -> Result<Duration, StoreError>;
    async fn dbsize(&self) -> Result<u64, StoreError>;
    /// One SCAN call: next cursor (0 when done) and the keys it returned.
    async fn scan_page(
        &self,
        cursor: u64,
        pattern: &str,
        type_filter: Option<&str>,
        count: u32,
    ) -> Result<(u64, Vec<Key>), StoreError>;
    /// TYPE, PTTL and MEMORY USAGE of each key, pipelined.
    async fn meta(&self, keys: &[Key]) -> Result<Vec<(Key, KeyMeta)>, StoreError>;
    /// One page of a value; `None` when the key does not exist.
    async fn value(&self, key: &[u8], cursor: &PageCursor) -> Result<Option<ValuePage>, StoreError>;
    async fn server_info(&self) -> Result<ServerInfo, StoreError>;
    /// Arms the write guard. Until armed, `write` sends nothing.
    fn set_writes_allowed(&self, allowed: bool);
    async fn write(&self, op: &WriteOp) -> Result<String, StoreError>;
}
