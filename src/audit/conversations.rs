//! One conversation at a time: its messages page by page against its stats, its Redis recent list and
//! session, settled again before a finding is kept.

use super::*;

pub(super) async fn conversations(r: &mut Run<'_>) -> Result<(), StoreError> {
    let total = r.mem.long_term().count_conversations(&crate::domain::ConvFilter::All).await.ok();
    let mut cursor = None;
    loop {
        // Browsed, not queried: conversations whose messages exist without a document (a query
        // never returns those) are audited too.
        let page = r.mem.long_term().browse_documents("conversations", cursor.as_ref(), 100).await?;
        for d in &page.items {
            conversation(r, d.id()).await?;
            r.report.scanned.conversations += 1;
            let n = r.report.scanned.conversations;
            if n.is_multiple_of(10) {
                r.tick("conversations", n, total);
            }
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let n = r.report.scanned.conversations;
    r.tick("conversations", n, total);
    Ok(())
}

pub(super) async fn conversation(r: &mut Run<'_>, c: &str) -> Result<(), StoreError> {
    let t = read_conversation(r, c, true).await?;
    if !conversation_findings(r, c, &t).await?.is_empty() {
        r.conv_suspects.push((c.to_string(), std::time::Instant::now()));
        if r.conv_suspects.len() >= SUSPECTS {
            settle_conversations(r).await?;
        }
    }
    Ok(())
}

/// What the audit reads of one conversation: its newest messages, how many there are, and the
/// newest instant among them.
pub(super) struct ConvRead {
    pub(super) newest: Vec<Message>,
    pub(super) count: u64,
    pub(super) last: Option<crate::domain::Ts>,
    pub(super) untimed: u64,
    pub(super) doc: Option<crate::domain::Conversation>,
}

/// Read a conversation's messages page by page (memory bounded by one page and the recent
/// list's length); with `check_vectors`, each page's vector records are checked on the way.
pub(super) async fn read_conversation(r: &mut Run<'_>, c: &str, with_vectors: bool) -> Result<ConvRead, StoreError> {
    let keep = r.mem.config().recent_messages as usize;
    let mut out = ConvRead { newest: vec![], count: 0, last: None, untimed: 0, doc: None };
    let mut tail: std::collections::VecDeque<Message> = std::collections::VecDeque::with_capacity(keep + 1);
    let mut cursor = None;
    loop {
        let page = r.mem.long_term().messages(c, cursor.as_ref(), 500).await?;
        if with_vectors {
            r.report.scanned.messages += page.items.len() as u64;
            check_vectors(r, c, &page.items).await?;
        }
        for m in page.items {
            out.count += 1;
            match m.timestamp {
                Some(t) => out.last = out.last.max(Some(t)),
                None => out.untimed += 1,
            }
            tail.push_back(m);
            if tail.len() > keep {
                tail.pop_front();
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.newest = tail.into();
    out.doc =
        r.mem.long_term().document(&format!("conversations/{c}")).await?.map(crate::domain::Conversation::from_doc);
    Ok(out)
}

/// The findings of one conversation's document and recent list, not yet reported.
pub(super) async fn conversation_findings(r: &mut Run<'_>, c: &str, t: &ConvRead) -> Result<Vec<Finding>, StoreError> {
    let mut out = stats_findings(c, t);
    out.extend(recent_findings(r.mem, c, &t.newest).await?);
    Ok(out)
}

/// `message_count` and `updated_at` against the messages themselves.
pub(super) fn stats_findings(c: &str, t: &ConvRead) -> Vec<Finding> {
    let Some(doc) = &t.doc else {
        // Messages without their conversation's document: the repair writes it from them.
        return if t.count > 0 {
            vec![
                Finding::new(Kind::ConversationStats, format!("no conversation document; {} messages", t.count))
                    .conv(c),
            ]
        } else {
            vec![]
        };
    };
    let mut what = Vec::new();
    if doc.message_count != Some(t.count as i64) {
        let said = doc.message_count.map(|n| n.to_string()).unwrap_or("none".into());
        what.push(format!("message_count {said}, {} messages", t.count));
    }
    if let Some(last) = t.last
        && doc.updated_at.is_none_or(|u| u < last)
    {
        let said = doc.updated_at.map(|u| u.to_rfc3339()).unwrap_or("none".into());
        what.push(format!("updated_at {said}, newest message {}", last.to_rfc3339()));
    }
    if what.is_empty() {
        return vec![];
    }
    vec![Finding::new(Kind::ConversationStats, what.join("; ")).conv(c)]
}

/// Suspected conversations, read again once they have settled: what is still wrong is reported
/// (and repaired).
pub(super) async fn settle_conversations(r: &mut Run<'_>) -> Result<(), StoreError> {
    let suspects = std::mem::take(&mut r.conv_suspects);
    let Some((_, first)) = suspects.first() else { return Ok(()) };
    wait_until(*first + r.opts.settle).await;
    for (c, _) in suspects {
        let t = read_conversation(r, &c, false).await?;
        let found = conversation_findings(r, &c, &t).await?;
        let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
        for f in found {
            r.report.add(f);
        }
        if !r.writes() {
            continue;
        }
        if kinds.contains(&Kind::ConversationStats) {
            let mut set = vec![("message_count".to_string(), FsValue::Int(t.count as i64))];
            if let Some(last) = t.last
                && t.doc.as_ref().is_none_or(|d| d.updated_at.is_none_or(|u| u < last))
            {
                set.push(("updated_at".into(), FsValue::Timestamp(last)));
            }
            let m = Merge { path: format!("conversations/{c}"), set, ..Merge::default() };
            match r.mem.long_term().merge_many(vec![m]).await {
                Ok(()) => r.report.repaired(Kind::ConversationStats, 1),
                Err(e) => r.fail(&format!("setting the stats of {c}"), e),
            }
        }
        let recent: Vec<Kind> = kinds.into_iter().filter(|k| *k != Kind::ConversationStats).collect();
        if !recent.is_empty() {
            match r.mem.rebuild_recent(std::slice::from_ref(&c)).await {
                Ok(()) => recent.iter().for_each(|k| r.report.repaired(*k, 1)),
                Err(e) => r.fail(&format!("rebuilding the recent list of {c}"), e),
            }
        }
    }
    Ok(())
}

pub(super) async fn wait_until(t: std::time::Instant) {
    tokio::time::sleep_until(t.into()).await;
}

/// The recent list against the conversation's newest messages.
pub(super) async fn recent_findings(mem: &Memory, c: &str, newest: &[Message]) -> Result<Vec<Finding>, StoreError> {
    let Some(redis) = mem.redis().cloned() else { return Ok(vec![]) };
    let key = recent_key(c);
    // The newest LIST_WINDOW entries only: a list the layer trims is far shorter, and one that
    // grew past it is a finding of its own, said with how much of it was checked.
    let mut replies = redis.exec(&[CacheOp::LLen(key.clone()), recent_window(c)]).await?.into_iter();
    let len = match replies.next() {
        Some(CacheReply::Int(n)) => n,
        _ => 0,
    };
    let items = match replies.next() {
        Some(CacheReply::Items(items)) => items,
        _ => vec![],
    };
    if items.is_empty() {
        return Ok(vec![]); // a cold cache, not drift: the next read fills it
    }
    let unread = (len - items.len() as i64).max(0) as usize;
    let list: Vec<Option<RecentMessage>> = items.iter().map(|b| RecentMessage::parse(b)).collect();
    let truth: HashMap<&str, &Message> = newest.iter().map(|m| (m.id.as_str(), m)).collect();
    let in_list: HashSet<&str> = list.iter().flatten().map(|m| m.message_id.as_str()).collect();
    let missing: Vec<String> =
        newest.iter().filter(|m| !in_list.contains(m.id.as_str())).map(|m| m.id.clone()).collect();
    let mut stale = Vec::new();
    for (i, e) in list.iter().enumerate() {
        match e {
            None => stale.push(format!("#{i} (not a message)")),
            Some(e) => match truth.get(e.message_id.as_str()) {
                None => stale.push(e.message_id.clone()),
                Some(m) if m.content != e.content || m.role != e.role => stale.push(e.message_id.clone()),
                Some(_) => {}
            },
        }
    }
    // Order: the common ids must appear in the messages' order.
    let rank: HashMap<&str, usize> = newest.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    let ranks: Vec<(usize, &str)> = list
        .iter()
        .flatten()
        .filter_map(|e| Some((*rank.get(e.message_id.as_str())?, e.message_id.as_str())))
        .collect();
    let misplaced: Vec<String> = ranks.windows(2).filter(|w| w[1].0 < w[0].0).map(|w| w[1].1.to_string()).collect();
    let k = String::from_utf8_lossy(&key).into_owned();
    let mut out = Vec::new();
    for (kind, ids, what) in [
        (Kind::RecentMissing, missing, "not in the list"),
        (Kind::RecentOrder, misplaced, "out of timestamp order"),
        (Kind::RecentStale, stale, "gone, changed or no longer among the newest"),
    ] {
        // Entries past the window were not read: too many for a trimmed list, so stale.
        let unread = if kind == Kind::RecentStale { unread } else { 0 };
        if ids.is_empty() && unread == 0 {
            continue;
        }
        let mut text = format!("{} message(s) {what}", ids.len() + unread);
        if unread > 0 {
            text.push_str(&format!(
                " — the list holds {len} entries and the layer keeps {}; the newest {} were checked, \
                 {unread} older ones not read",
                mem.config().recent_messages,
                items.len()
            ));
        }
        let mut f = Finding::new(kind, text).conv(c);
        f.message_ids = ids;
        f.key = Some(k.clone());
        out.push(f);
    }
    Ok(out)
}
