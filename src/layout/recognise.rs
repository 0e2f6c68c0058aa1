//! What a layout recognises of its own data, for `detect`: a Redis key of the sample, a
//! long-term collection. Each reader family implements [`Recognise`] in its own file.

use super::*;

/// One key of the sample, as a layout sees it: its name, its type, and a list's first item
/// read as JSON.
pub(super) struct SampledKey<'a> {
    pub name: &'a str,
    pub ktype: &'a str,
    pub first: Option<&'a serde_json::Value>,
}

/// What a layout makes of a key of the sample.
pub(super) enum Claim {
    /// A message (or a checkpoint, a list) of conversation `id`, found at `at` — the place the
    /// config lines name. Conversations are counted once each.
    Conversation { at: String, id: String },
    /// Conversations named by a hash field, read after the scan (mem0: `user_id`).
    ByField { at: String, field: &'static str },
    /// A subgraph's namespace (LangGraph): a conversation of its own only when no thread of
    /// the sample holds it.
    Namespace(String),
    /// The layout's own key that is no conversation (a second source's record).
    Belongs,
    /// The layout's bookkeeping (`checkpoint_write:*`): its own once the layout is found, else
    /// named as unplaced like any other key.
    Bookkeeping,
}

/// A long-term collection as a layout sees it: its first documents, and — asked for only when
/// no layout took it by those — the documents under it with their subcollections.
pub(super) struct CollectionSample<'a> {
    pub path: &'a str,
    pub docs: &'a [Document],
    pub children: Option<&'a [(Document, Vec<String>)]>,
}

/// What a layout makes of a collection.
pub(super) enum CollectionClaim {
    /// This many conversations (in the sample).
    Holds(u64),
    /// Conversations counted by the store (memscope's own: a COUNT).
    Count,
}

/// A layout that knows its own data: `detect` is a loop over these, so a new preset adds its
/// recogniser in its own file and one line to [`RECOGNISERS`].
pub(super) trait Recognise: Sync {
    fn preset(&self) -> LayoutPreset;
    fn redis_key(&self, _k: &SampledKey) -> Option<Claim> {
        None
    }
    fn collection(&self, _c: &CollectionSample) -> Option<CollectionClaim> {
        None
    }
    /// The `[profile.X.layout]` lines that read what was found at `at`.
    fn config_lines(&self, at: &str) -> String {
        let _ = at;
        format!("preset = \"{}\"", self.preset().name())
    }
}
