//! Pages of conversations and messages: cursors, newest-first order keys, the thread cache, filters.

use super::*;

/// The thread read last by a reader that reads a thread whole (one document, one checkpoint,
/// or every key of a session): the pages after the first come from it, not from the store.
#[derive(Default)]
pub(super) struct ThreadCache<T>(tokio::sync::Mutex<Option<(String, std::time::Instant, Arc<T>)>>);

/// How long a thread read whole serves its later pages: a thread's pages are asked for one
/// after the other; a live refresh seconds later reads the store again.
pub(super) const THREAD_CACHE_MS: u128 = 2_000;

impl<T> ThreadCache<T> {
    /// The thread `c`: cached when this is a later page of the thread read last, moments ago;
    /// else loaded.
    pub(super) async fn get<F>(&self, c: &str, later_page: bool, load: F) -> Result<Arc<T>, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        let mut slot = self.0.lock().await;
        if later_page
            && let Some((id, at, t)) = &*slot
            && id == c
            && at.elapsed().as_millis() < THREAD_CACHE_MS
        {
            return Ok(t.clone());
        }
        let t = Arc::new(load.await?);
        *slot = Some((c.to_string(), std::time::Instant::now(), t.clone()));
        Ok(t)
    }
}

/// Where a page of sorted conversation ids starts: after the id the cursor names.
pub(super) fn start_after<S: AsRef<str>>(ids: &[S], after: Option<&Cursor>) -> usize {
    match after {
        Some(Cursor::Absent { after: Some(last) }) => ids.partition_point(|i| i.as_ref() <= last.as_str()),
        _ => 0,
    }
}

/// The cursor after a page of sorted ids that ended at `end` of `n`, on the id `last`.
pub(super) fn cursor_after(end: usize, n: usize, last: Option<&String>) -> Option<Cursor> {
    (end < n).then(|| Cursor::Absent { after: last.cloned() })
}

/// Conversations newest first, where a layout stores a time (those without one last, by id), as
/// *order keys* that sort in listing order: a fixed-width rank, `\x1f`, the id. A page cursor
/// is the last order key ([`start_after`] works on them unchanged), so paging holds while
/// conversations come and go.
pub(super) fn newest_first(items: impl IntoIterator<Item = (String, Option<i64>)>) -> Vec<String> {
    // The times are microseconds: memories written within one millisecond keep their order.
    let mut keys: Vec<String> = items
        .into_iter()
        .map(|(id, ms)| {
            let rank = match ms {
                Some(ms) => format!("{:020}", i64::MAX as i128 - ms as i128),
                None => "~".repeat(20),
            };
            format!("{rank}\x1f{id}")
        })
        .collect();
    keys.sort();
    keys
}

/// The conversation id of an order key from [`newest_first`].
pub(super) fn id_of_order_key(k: &str) -> &str {
    k.split_once('\x1f').map_or(k, |(_, id)| id)
}

/// Milliseconds since 1970 of a time-ordered UUID (version 6, LangGraph's checkpoint ids, or
/// version 1: 100 ns intervals since 1582-10-15) or a UUIDv7; None for any other id.
pub(super) fn uuid_time_ms(id: &str) -> Option<i64> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let field = |a: usize, b: usize| u64::from_str_radix(&hex[a..b], 16).ok();
    const GREGORIAN_TO_UNIX: u64 = 0x01B2_1DD2_1381_4000;
    let ticks = match &hex[12..13] {
        "6" => (field(0, 8)? << 28) | (field(8, 12)? << 12) | field(13, 16)?,
        "1" => (field(13, 16)? << 48) | (field(8, 12)? << 32) | field(0, 8)?,
        "7" => return Some(field(0, 12)? as i64),
        _ => return None,
    };
    Some((ticks.checked_sub(GREGORIAN_TO_UNIX)? / 10_000) as i64)
}

/// Filters a layout without users, agents or titles can answer: all, or an id prefix.
pub(super) fn id_filter(preset: LayoutPreset, filter: &ConvFilter) -> Result<Option<String>, StoreError> {
    match filter {
        ConvFilter::All => Ok(None),
        ConvFilter::IdPrefix(p) => Ok(Some(p.clone())),
        _ => Err(StoreError::Other(format!(
            "layout \"{}\" stores no user, agent or title with a conversation: filter by id:PREFIX",
            preset.name()
        ))),
    }
}

/// A filter over conversations a layout has read whole (users and agents from its messages).
pub(super) fn keeps(filter: &ConvFilter, c: &Conversation) -> bool {
    match filter {
        ConvFilter::All | ConvFilter::TitleContains(_) => true,
        ConvFilter::IdPrefix(p) => c.id.starts_with(p.as_str()),
        ConvFilter::User(u) => c.user_id.as_deref() == Some(u.as_str()),
        ConvFilter::Agent(a) => c.agent_id.as_deref() == Some(a.as_str()),
        ConvFilter::TitlePrefix(p) => c.title.as_deref().is_some_and(|t| t.starts_with(p.as_str())),
    }
}

/// A message position in a one-page thread's cursor.
pub(super) fn position(after: Option<&Cursor>, len: usize) -> usize {
    match after {
        Some(Cursor::Absent { after: Some(n) }) => n.parse::<usize>().unwrap_or(len),
        _ => 0,
    }
}

/// A page of an ordered thread read whole: `[from, from + limit)` and the cursor after it.
pub(super) fn page_of(all: &[Message], after: Option<&Cursor>, limit: u32) -> Page<Message> {
    let from = position(after, all.len()).min(all.len());
    let to = (from + limit.max(1) as usize).min(all.len());
    Page {
        items: all[from..to].to_vec(),
        next: (to < all.len()).then(|| Cursor::Absent { after: Some(to.to_string()) }),
    }
}
