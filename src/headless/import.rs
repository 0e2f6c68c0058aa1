//! `memscope import FILE.jsonl`: every line checked first, then through the memory layer.

use super::{HeadlessError, ProgressLine, bar, refuse_read_only};
use crate::config::Config;

/// Read an import file: every line checked (shape, and Firestore's documented limits), errors
/// named by file and line (up to 20 shown). Each message comes with its line number. A message
/// id given twice with different content is an error naming both lines; an identical repeat is
/// kept once.
pub fn read_import(file: &std::path::Path) -> Result<Vec<(usize, crate::memory::NewMessage)>, HeadlessError> {
    use std::io::BufRead;
    let f = std::fs::File::open(file).map_err(|e| HeadlessError::Usage(format!("{}: {e}", file.display())))?;
    let mut out: Vec<(usize, crate::memory::NewMessage)> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| HeadlessError::Usage(format!("{}:{}: {e}", file.display(), n + 1)))?;
        // A UTF-8 byte order mark (editors on Windows write one) is not part of the JSON.
        let line = if n == 0 { line.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(line) } else { line };
        if line.trim().is_empty() {
            continue;
        }
        match parse_import_line(&line) {
            Ok(m) => match seen.entry((m.conversation_id.clone(), m.id())) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (first_line, first) = &out[*e.get()];
                    if *first != m {
                        errors.push(format!(
                            "{}:{}: message {:?} of conversation {:?} was already given on line {first_line} with other content",
                            file.display(),
                            n + 1,
                            m.id(),
                            m.conversation_id
                        ));
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(out.len());
                    out.push((n + 1, m));
                }
            },
            Err(e) => errors.push(format!("{}:{}: {e}", file.display(), n + 1)),
        }
    }
    if !errors.is_empty() {
        let more = errors.len().saturating_sub(20);
        let mut msg = errors.into_iter().take(20).collect::<Vec<_>>().join("\n");
        if more > 0 {
            msg.push_str(&format!("\n… and {more} more bad lines"));
        }
        return Err(HeadlessError::Usage(format!("{msg}\nnothing was imported")));
    }
    Ok(out)
}

/// Firestore's documented limit that an import line is checked against up front (the ids'
/// rules are `store::firestore::doc_id_problem`).
const MAX_DOC_BYTES: usize = 1_048_576;

fn parse_import_line(line: &str) -> Result<crate::memory::NewMessage, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let o = v.as_object().ok_or("each line must be a JSON object")?;
    const KNOWN: [&str; 7] = ["conversation_id", "message_id", "user_id", "role", "content", "timestamp", "agent_id"];
    if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown field `{k}` (expected: {})", KNOWN.join(", ")));
    }
    let id_field = |k: &str, required: bool| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            None | Some(serde_json::Value::Null) => Err(format!("missing field `{k}`")),
            Some(serde_json::Value::String(s)) if s.is_empty() => Err(format!("`{k}` is empty")),
            Some(serde_json::Value::String(s)) if let Some(why) = crate::store::firestore::doc_id_problem(s) => {
                Err(format!("`{k}`: {why}"))
            }
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("`{k}` must be a string, not {other}")),
        }
    };
    let text = |k: &str| -> Result<String, String> {
        match o.get(k) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            None => Err(format!("missing field `{k}`")),
            Some(other) => {
                Err(format!("`{k}` must be a string, not {}", other.to_string().chars().take(40).collect::<String>()))
            }
        }
    };
    let timestamp = match o.get("timestamp") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => {
            Some(crate::domain::Ts::parse(s).ok_or_else(|| format!("`timestamp` {s:?} is not ISO-8601"))?)
        }
        Some(serde_json::Value::Number(n)) => {
            let f = n.as_f64().ok_or("bad `timestamp`")?;
            Some(crate::domain::Ts::from_unix_number(f).ok_or_else(|| {
                format!("`timestamp` {n} is outside Firestore's range (years 1–9999 in Unix seconds or ms)")
            })?)
        }
        Some(_) => return Err("`timestamp` must be an ISO-8601 string or Unix seconds".into()),
    };
    if let Some(t) = timestamp
        && !(crate::domain::Ts::MIN..=crate::domain::Ts::MAX).contains(&t)
    {
        return Err(format!("`timestamp` {} is outside Firestore's range (years 1–9999)", t.to_rfc3339()));
    }
    let role = text("role")?;
    if role.is_empty() {
        return Err("`role` is empty".into());
    }
    // The message document: its fields and their names, plus Firestore's per-document overhead
    // (32 bytes, and the document name) must stay within 1 MiB.
    let size: usize =
        o.iter().map(|(k, v)| k.len() + 1 + v.as_str().map_or(8, |s| s.len() + 1)).sum::<usize>() + 32 + 128;
    if size > MAX_DOC_BYTES {
        return Err(format!(
            "the message would be a {size}-byte document; Firestore's limit is {MAX_DOC_BYTES} bytes (1 MiB)"
        ));
    }
    Ok(crate::memory::NewMessage {
        conversation_id: id_field("conversation_id", true)?.unwrap_or_default(),
        message_id: id_field("message_id", false)?,
        user_id: id_field("user_id", true)?.unwrap_or_default(),
        agent_id: id_field("agent_id", false)?,
        role,
        content: text("content")?,
        timestamp,
    })
}

/// `memscope import FILE.jsonl [--dry-run] [--batch N]`.
pub async fn import(
    cfg: &Config,
    file: &std::path::Path,
    dry_run: bool,
    batch: Option<usize>,
) -> Result<(), HeadlessError> {
    let msgs = read_import(file)?;
    if !dry_run {
        refuse_read_only(cfg, "import writes to every tier")?;
    }
    // A dry run into a SQLite store that does not exist yet: everything would be new (the
    // file is not created to find that out).
    let fresh_store = dry_run
        && matches!(&cfg.long_term, Some(crate::config::LongTermConfig::Sqlite { path })
            if !std::path::Path::new(&crate::store::sqlite::expand_home(path)).exists());
    let mem = if fresh_store {
        let empty = crate::store::sqlite::SqliteStore::open(":memory:")?;
        crate::memory::Memory::new(std::sync::Arc::new(empty), None, None, cfg.memory.clone())
    } else {
        crate::memory::Memory::from_config(cfg, !dry_run).await?
    };
    let total = msgs.len() as u64;
    let batch = batch.unwrap_or(cfg.memory.batch).clamp(1, 500);
    let t0 = std::time::Instant::now();
    let mut line = ProgressLine::new();
    let (mut created, mut existing, mut embedded, mut queued, mut settled) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut convs = std::collections::HashSet::new();
    let mut new_convs = 0u64;
    let mut relevant = 0u64;
    let mut done = 0u64;
    for lines in msgs.chunks(batch) {
        let chunk: Vec<crate::memory::NewMessage> = lines.iter().map(|(_, m)| m.clone()).collect();
        if dry_run {
            let mut paths: Vec<String> =
                chunk.iter().map(|m| crate::memory::message_path(&m.conversation_id, &m.id())).collect();
            let fresh: Vec<&str> =
                chunk.iter().map(|m| m.conversation_id.as_str()).filter(|c| convs.insert(c.to_string())).collect();
            paths.extend(fresh.iter().map(|c| format!("conversations/{c}")));
            let docs = mem.long_term().get_many(&paths).await?;
            let (m, c) = docs.split_at(chunk.len());
            let n_new = m.iter().filter(|d| d.is_none()).count() as u64;
            created += n_new;
            existing += chunk.len() as u64 - n_new;
            new_convs += c.iter().filter(|d| d.is_none()).count() as u64;
            relevant += chunk.iter().filter(|m| mem.is_relevant(&m.role, &m.content)).count() as u64;
        } else {
            let r = mem
                .save_batch(chunk.clone(), |tier| {
                    let rate = done as f64 / t0.elapsed().as_secs_f64().max(1e-3);
                    line.show(
                        "import",
                        &format!("import {} {done}/{total} messages  {rate:.0} msg/s  ({tier})", bar(done, total)),
                    );
                })
                .await;
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    line.done();
                    // Say exactly what was written: every line before this batch went through
                    // the layer; this batch may be partly in the long-term store; the rest was
                    // not tried. A re-run rewrites what exists in place and writes the rest.
                    let (first, last) = (lines[0].0, lines[lines.len() - 1].0);
                    let written = match msgs.iter().take_while(|(n, _)| *n < first).last() {
                        Some((n, _)) => format!("lines up to {n} ({done} messages) were written"),
                        None => "nothing was written before it".into(),
                    };
                    return Err(HeadlessError::Store(crate::error::StoreError::Other(format!(
                        "{}:{first}-{last}: the batch failed: {e}\n{written}; lines {first}-{last} may be partly written, \
                         later lines were not tried.\nRe-running the same import completes it (messages already stored \
                         are rewritten in place, never duplicated).",
                        file.display()
                    ))));
                }
            };
            created += r.created as u64;
            existing += r.existing as u64;
            embedded += r.embedded as u64;
            queued += r.queued as u64;
            settled += r.settled as u64;
            convs.extend(chunk.iter().map(|m| m.conversation_id.clone()));
        }
        done += chunk.len() as u64;
        let rate = done as f64 / t0.elapsed().as_secs_f64().max(1e-3);
        line.show("import", &format!("import {} {done}/{total} messages  {rate:.0} msg/s", bar(done, total)));
    }
    line.done();
    let secs = t0.elapsed().as_secs_f64();
    if dry_run {
        println!(
            "dry run: {total} messages in {} conversations ({new_convs} new): {created} new messages, {existing} already stored \
             (rewritten in place, never duplicated)",
            convs.len()
        );
        let tiers = format!(
            "would write: long-term {} documents; Redis {}; vector tier {}",
            total + convs.len() as u64,
            if cfg.redis.is_some() {
                format!("{} recent lists and sessions", convs.len())
            } else {
                "not configured".into()
            },
            if cfg.vector.is_some() {
                format!("up to {relevant} relevant messages embedded")
            } else {
                "not configured".into()
            },
        );
        println!("{tiers}");
        return Ok(());
    }
    println!(
        "imported {total} messages into {} conversations in {secs:.1} s ({:.0} msg/s): {created} new, {existing} already stored; {embedded} embedded",
        convs.len(),
        total as f64 / secs.max(1e-3)
    );
    if settled > 0 {
        println!("{settled} writes an earlier run left in the repair queue are done now: removed from the queue");
    }
    if queued > 0 {
        // Every message is in the long-term store, but not every tier has it: not a success.
        return Err(HeadlessError::Store(crate::error::StoreError::Other(format!(
            "{queued} tier writes failed after the long-term write and wait in the repair queue: \
             run `memscope --write audit --repair`, or this import again"
        ))));
    }
    Ok(())
}
