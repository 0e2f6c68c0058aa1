//! `memscope conversations` and `memscope show ID`: the Conversations tab's reads, headless,
//! through the profile's layout — a thread exported or piped as JSON Lines.

use super::HeadlessError;
use crate::config::Config;
use crate::domain::{Conversation, Cursor, Message};
use crate::layout::ConversationReader;
use crate::store::Access;
use crate::text;
use std::io::Write;
use std::sync::Arc;

/// The profile's conversation reader (read-only: files are opened read-only).
async fn reader(cfg: &Config) -> Result<Arc<dyn ConversationReader>, HeadlessError> {
    if !cfg.has_conversations() {
        return Err(HeadlessError::Usage(
            "no conversations to read: configure [profile.NAME.long_term], or a [profile.NAME.layout] preset whose conversations are in Redis".into(),
        ));
    }
    let in_redis = cfg.layout.in_redis();
    let lt = if in_redis { None } else { Some(crate::tiers::long_term(cfg, Access::ReadOnly).await?) };
    let redis = if cfg.redis.is_some() { Some(crate::tiers::redis(cfg, None)?) } else { None };
    Ok(crate::layout::reader(&cfg.layout, lt, redis)?)
}

fn ts(t: Option<crate::domain::Ts>) -> serde_json::Value {
    t.map(|t| serde_json::Value::String(t.to_rfc3339())).unwrap_or(serde_json::Value::Null)
}

/// `phantom`: memscope's layout, and the conversation has messages but no document.
fn conv_json(c: &Conversation, phantom: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": c.id, "title": c.title, "user_id": c.user_id, "agent_id": c.agent_id,
        "created_at": ts(c.created_at), "updated_at": ts(c.updated_at), "message_count": c.message_count,
        "stored_at": c.doc.path,
    });
    if phantom {
        v["document"] = serde_json::Value::Bool(false);
    }
    v
}

/// Write one line; a closed pipe (`| head`) ends the listing quietly.
fn line(out: &mut impl Write, s: &str) -> Result<bool, HeadlessError> {
    match out.write_all(s.as_bytes()).and_then(|_| out.write_all(b"\n")) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Every page of a paged read, an item a line, until the last page or a closed pipe; the
/// number of items written.
async fn print_pages<T, F, Fut>(mut fetch: F, render: impl Fn(&T) -> String) -> Result<u64, HeadlessError>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: std::future::Future<Output = Result<crate::domain::Page<T>, crate::error::StoreError>>,
{
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut n, mut after): (u64, Option<Cursor>) = (0, None);
    loop {
        let page = fetch(after.take()).await?;
        for item in &page.items {
            if !line(&mut out, &render(item))? {
                return Ok(n);
            }
            n += 1;
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    out.flush().ok();
    Ok(n)
}

/// `memscope conversations [--filter F] [--json]`: every conversation, newest first in
/// memscope's layout (the layout's own order otherwise), streamed page by page.
pub async fn conversations(cfg: &Config, filter_text: Option<&str>, json: bool) -> Result<u64, HeadlessError> {
    let r = reader(cfg).await?;
    let own = cfg.layout.is_memscopes_own();
    let filter = crate::domain::ConvFilter::parse(filter_text.unwrap_or(""));
    let fetch = |after: Option<Cursor>| {
        let (r, filter) = (r.clone(), filter.clone());
        async move { r.conversations(&filter, after.as_ref(), 500).await }
    };
    let n = print_pages(fetch, |c: &Conversation| {
        if json {
            return text::json_safe(conv_json(c, own && c.has_no_document()).to_string());
        }
        let when = c.updated_at.or(c.created_at).map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
        let count = c.message_count.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let title = match &c.title {
            None if own && c.has_no_document() => "(no conversation document: messages only)".to_string(),
            t => text::sanitize_str(t.as_deref().unwrap_or("")),
        };
        format!("{}\t{count}\t{when}\t{}", text::sanitize_str(&c.id), text::truncate(&title, 80))
    })
    .await?;
    // Never a silent partial answer: what the layout passed over, on stderr.
    if let Some(l) = r.left_out() {
        eprintln!("memscope: {}", text::sanitize_str(&l));
    }
    if n == 0 {
        let what = match filter_text.map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => format!("0 conversations match `{}`", text::sanitize_str(f)),
            None => "0 conversations".to_string(),
        };
        return Err(nothing_found(cfg, &what).await);
    }
    Ok(n)
}

/// An empty answer, said: what was asked, where the layout looked, and what a sample of the
/// stores found instead (exit 1, on stderr — never an empty output with exit 0).
async fn nothing_found(cfg: &Config, what: &str) -> HeadlessError {
    let lt = match &cfg.long_term {
        Some(_) => crate::tiers::long_term(cfg, Access::ReadOnly).await.ok(),
        None => None,
    };
    let redis = cfg.redis.as_ref().and_then(|_| crate::tiers::redis(cfg, None).ok());
    let instead = match crate::layout::detect(lt, redis).await {
        Ok(d) => d.said_to_an_empty_list(cfg.layout.preset),
        Err(e) => format!("could not sample the stores for other layouts: {e}"),
    };
    HeadlessError::Store(crate::error::StoreError::Other(format!(
        "{what} in layout \"{}\" (looked at {}); {instead}",
        cfg.layout.preset.name(),
        text::sanitize_str(&cfg.layout.place())
    )))
}

/// `memscope show ID [--checkpoint CP] [--json]`: the thread in order, every message (with
/// `--json`, one JSON object per message: conversation_id, message_id, role, content,
/// timestamp, user_id); with `--checkpoint`, as it was at that checkpoint.
pub async fn show(
    cfg: &Config,
    conversation: &str,
    checkpoint: Option<&str>,
    json: bool,
) -> Result<u64, HeadlessError> {
    let r = reader(cfg).await?;
    let at = match checkpoint {
        None => None,
        Some(cp) => match r.checkpoint(conversation, cp).await? {
            Some(m) => Some(Arc::new(m)),
            None => {
                return Err(HeadlessError::Usage(format!(
                    "layout preset \"{}\" keeps no checkpoints: --checkpoint is for the LangGraph layouts",
                    cfg.layout.preset.name()
                )));
            }
        },
    };
    let fetch = |after: Option<Cursor>| {
        let (r, c, at) = (r.clone(), conversation.to_string(), at.clone());
        async move {
            match at {
                // One checkpoint's state is read whole: a single page.
                Some(m) if after.is_none() => Ok(crate::domain::Page { items: m.to_vec(), next: None }),
                Some(_) => Ok(crate::domain::Page { items: Vec::new(), next: None }),
                None => r.messages(&c, after.as_ref(), 500).await,
            }
        }
    };
    let n = print_pages(fetch, |m: &Message| {
        if json {
            return text::json_safe(m.to_json(conversation).to_string());
        }
        let when = m.timestamp.map(|t| t.to_rfc3339()).unwrap_or_else(|| "no timestamp".into());
        format!(
            "[{}] {} ({when}):\n{}\n",
            text::sanitize_str(&m.id),
            text::sanitize_str(&m.role),
            text::sanitize_multiline(m.content.as_bytes())
        )
    })
    .await?;
    if n == 0 {
        return Err(nothing_found(
            cfg,
            &format!("no messages for conversation `{}`", text::sanitize_str(conversation)),
        )
        .await);
    }
    Ok(n)
}

/// `memscope show THREAD --checkpoints [--json]`: a LangGraph thread's checkpoints, newest
/// first, each with its time, its message count and how to open it.
pub async fn checkpoints(cfg: &Config, thread: &str, json: bool) -> Result<u64, HeadlessError> {
    let r = reader(cfg).await?;
    let Some(list) = r.checkpoints(thread).await? else {
        return Err(HeadlessError::Usage(format!(
            "layout preset \"{}\" keeps no checkpoints: --checkpoints is for the LangGraph layouts",
            cfg.layout.preset.name()
        )));
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (id, t, n) in &list {
        let s = if json {
            text::json_safe(
                serde_json::json!({"thread": thread, "checkpoint_id": id, "ts": ts(*t), "messages": n}).to_string(),
            )
        } else {
            let when = t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
            format!("{}\t{when}\t{n} messages", text::sanitize_str(id))
        };
        if !line(&mut out, &s)? {
            break;
        }
    }
    Ok(list.len() as u64)
}

/// `memscope detect [--json]`: which layouts the configured stores hold (a bounded sample),
/// and the `[profile.X.layout]` lines that read the one with the most conversations. Exit 1
/// when no known layout is found.
pub async fn detect(cfg: &Config, json: bool) -> Result<u8, HeadlessError> {
    let lt = match &cfg.long_term {
        Some(_) => Some(crate::tiers::long_term(cfg, Access::ReadOnly).await?),
        None => None,
    };
    let redis = if cfg.redis.is_some() { Some(crate::tiers::redis(cfg, None)?) } else { None };
    if lt.is_none() && redis.is_none() {
        return Err(HeadlessError::Usage("nothing to sample: configure Redis or a long-term store".into()));
    }
    let detection = crate::layout::detect(lt, redis).await?;
    let found = &detection.found;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        writeln!(out, "{}", text::json_safe(serde_json::to_string(&detection).unwrap_or_default()))?;
        return Ok(if found.is_empty() { 1 } else { 0 });
    }
    if detection.collections_walked >= crate::layout::DETECT_COLLECTIONS {
        writeln!(
            out,
            "looked at the first {} long-term collections: the counts below are theirs",
            detection.collections_walked
        )?;
    }
    if detection.capped && detection.keys_sampled as usize >= crate::layout::DETECT_SAMPLE {
        writeln!(
            out,
            "sampled {} of {} Redis keys: the counts below are the sample's",
            detection.keys_sampled,
            detection.keys_total.map(|n| n.to_string()).unwrap_or_else(|| "?".into())
        )?;
    }
    let unplaced = |out: &mut std::io::StdoutLock| -> std::io::Result<()> {
        for v in &detection.vector_indexes {
            writeln!(
                out,
                "vector index {:<16} {:>7} documents  {}{} · {}   Semantic Search reads it with:\n  {}",
                text::sanitize_str(&v.index),
                v.documents,
                v.framework.map(|f| format!("written by {f} · ")).unwrap_or_default(),
                text::sanitize_str(&v.on),
                text::sanitize_str(&v.field),
                v.config.lines().map(text::sanitize_str).collect::<Vec<_>>().join("\n  ")
            )?;
        }
        if detection.indexes_not_read > 0 {
            writeln!(
                out,
                "{} more search indexes listed by name only (FT.INFO is read for the first 50): FT.INFO NAME says whether one holds vectors",
                detection.indexes_not_read
            )?;
        }
        if detection.unplaced.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = detection.unplaced.iter().take(20).map(|c| text::sanitize_str(c)).collect();
        let more = detection.unplaced.len().saturating_sub(names.len());
        let more = if more > 0 { format!(" … {more} more") } else { String::new() };
        writeln!(out, "not placed (documents of no known layout): {}{more}", names.join(", "))
    };
    if found.is_empty() {
        writeln!(
            out,
            "no known layout in the sample (up to {} Redis keys; {} long-term collections, {} levels deep)",
            crate::layout::DETECT_SAMPLE,
            detection.collections_walked,
            crate::layout::DETECT_DEPTH
        )?;
        unplaced(&mut out)?;
        return Ok(1);
    }
    for d in found {
        let how = if d.supported { "preset available" } else { "no preset yet: memscope cannot read it" };
        writeln!(
            out,
            "{:<22} {:>7} conversations  at {:<28} {how}",
            d.layout,
            d.conversations,
            text::sanitize_str(&d.at)
        )?;
    }
    unplaced(&mut out)?;
    if let Some(best) = found.iter().find(|d| d.supported) {
        writeln!(out, "\nto read {} ({}), add to the profile `{}`:", best.layout, best.at, cfg.profile)?;
        writeln!(out, "[profile.{}.layout]\n{}", cfg.profile, best.config.as_deref().unwrap_or(""))?;
        // Only when it reads this very place: the same preset elsewhere is a near miss.
        if best.read_by(&cfg.layout) {
            writeln!(out, "(the profile already reads this layout)")?;
        } else if cfg.layout.preset.name() == best.layout {
            writeln!(
                out,
                "(the profile's layout is {} but looks at {}: not where these are)",
                best.layout,
                text::sanitize_str(&cfg.layout.place())
            )?;
        }
        // Long-term history and recent messages in Redis, from two frameworks: one profile.
        let lt = found.iter().find(|d| d.supported && !d.in_redis());
        let recent = found.iter().find(|d| d.supported && d.in_redis());
        if let (Some(lt), Some(r)) = (lt, recent) {
            writeln!(
                out,
                "\nboth {} ({}) and {} ({}) are here: to read the first with the second's recent messages:",
                lt.layout, lt.at, r.layout, r.at
            )?;
            writeln!(
                out,
                "[profile.{p}.layout]\n{}\n[profile.{p}.layout.recent]\n{}",
                lt.config.as_deref().unwrap_or(""),
                r.config.as_deref().unwrap_or(""),
                p = cfg.profile
            )?;
        }
    }
    Ok(0)
}
