//! The crate's error: what every store, embedder and the layers above them return. Leaf
//! module (it imports nothing of memscope's), so every floor can use it.

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
    /// What the user asked for cannot be asked of this store (an id it cannot hold): nothing
    /// was sent.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Errors that mean "the store cannot be reached now": shown as DOWN and retried.
    pub fn is_connection(&self) -> bool {
        matches!(self, StoreError::Unreachable(_) | StoreError::Timeout(_))
    }
}
