//! `memscope value KEY [--format F] [--json] [--max-elements N]`: one key's value, decoded as
//! the Keys tab reads it (each string, element, field and member by its own format, or by the
//! one asked for). A string is read to the preview (preview_bytes) and never pulled whole; a
//! collection page by page, up to --max-elements. What is left out is said, and the exit status
//! is 1 then.

use super::HeadlessError;
use crate::config::Config;
use crate::decode::{self, Format};
use crate::domain::{Blob, PageCursor, Ttl, ValueBody, ValuePage};
use serde_json::{Value, json};
use std::io::Write;

/// One element decoded, as data.
fn element(b: &Blob, format: Option<Format>, budget: usize) -> Value {
    let mut v = decode::decode(&b.bytes, !b.truncated(), format, budget).to_json();
    if b.truncated() {
        v["bytes_read"] = json!(b.bytes.len());
        v["bytes"] = json!(b.total_len);
    }
    v
}

fn text_of(b: &Blob) -> Value {
    match std::str::from_utf8(&b.bytes) {
        Ok(t) => json!(t),
        Err(_) => json!(format!("0x{}", b.bytes.iter().map(|x| format!("{x:02x}")).collect::<String>())),
    }
}

/// The page's elements as data, each value decoded.
fn elements(p: &ValuePage, format: Option<Format>, budget: usize) -> Vec<Value> {
    let base = match p.cursor {
        PageCursor::Offset(o) => o,
        _ => 0,
    };
    match &p.body {
        ValueBody::String(b) => vec![element(b, format, budget)],
        ValueBody::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, b)| json!({"index": base + i as u64, "value": element(b, format, budget)}))
            .collect(),
        ValueBody::Set(items) => items.iter().map(|b| json!({"member": element(b, format, budget)})).collect(),
        ValueBody::ZSet(items) => {
            items.iter().map(|(b, s)| json!({"member": element(b, format, budget), "score": s})).collect()
        }
        ValueBody::Hash(pairs) => {
            pairs.iter().map(|(f, v)| json!({"field": text_of(f), "value": element(v, format, budget)})).collect()
        }
        ValueBody::Stream(entries) => entries
            .iter()
            .map(|e| {
                let fields: Vec<Value> = e
                    .fields
                    .iter()
                    .map(|(f, v)| json!({"field": text_of(f), "value": element(v, format, budget)}))
                    .collect();
                json!({"id": e.id, "fields": fields})
            })
            .collect(),
        // JSON documents and the rest: as `:export` writes them (already data).
        _ => p.data_lines().into_iter().skip(1).collect(),
    }
}

fn group_json(g: &crate::domain::StreamGroup) -> Value {
    json!({
        "name": g.name, "pending": g.pending, "lag": g.lag, "last_delivered": g.last_delivered,
        "consumers": g.consumers.iter().map(|c| json!({
            "name": c.name, "pending": c.pending, "idle_ms": c.idle_ms, "inactive_ms": c.inactive_ms,
        })).collect::<Vec<_>>(),
        "oldest_pending": g.oldest_pending.iter().map(|e| json!({
            "id": e.id, "consumer": e.consumer, "idle_ms": e.idle_ms, "deliveries": e.deliveries,
        })).collect::<Vec<_>>(),
    })
}

/// `memscope value KEY`: exit 0 when all of the value was read, 1 when some was left out.
pub async fn value(
    cfg: &Config,
    key: &str,
    format: Option<&str>,
    json_out: bool,
    max_elements: u64,
) -> Result<u8, HeadlessError> {
    let format = match format {
        Some(f) => Some(Format::parse(f).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name().split(' ').next().unwrap_or("")).collect();
            HeadlessError::Usage(format!("--format {f:?}: expected one of {}", names.join(", ")))
        })?),
        None => None,
    };
    let store = crate::tiers::redis(cfg, None)?;
    let budget = decode::budget_for(cfg.redis_settings().preview_bytes);
    let indexes = store.server_info().await.map(|i| i.search_indexes).unwrap_or_default();
    let mut cursor = PageCursor::Start;
    let mut pages: Vec<ValuePage> = Vec::new();
    let mut read = 0u64;
    loop {
        let Some(p) = store.value(key.as_bytes(), &cursor).await? else {
            if pages.is_empty() {
                return Err(HeadlessError::Usage(format!("no key {:?} (it does not exist, or it expired)", key)));
            }
            break; // gone between pages: what was read stands, said below
        };
        read += p.body.elements() as u64;
        let next = p.next.clone();
        let string = matches!(p.body, ValueBody::String(_));
        pages.push(p);
        match next {
            // A string is decoded from its preview only (its windows are not one value).
            Some(n) if !string && read < max_elements => cursor = n,
            _ => break,
        }
    }
    let first = &pages[0];
    let last = pages.last().expect("one page at least");
    let length = first.length;
    let string_cut = matches!(&first.body, ValueBody::String(b) if b.truncated());
    let left_out = if matches!(first.body, ValueBody::String(_)) { 0 } else { length.saturating_sub(read) };
    let partial = string_cut || last.next.is_some() && !matches!(first.body, ValueBody::String(_));
    let why = if string_cut {
        Some(format!(
            "the string is {}: its first {} (preview_bytes) were read and decoded",
            crate::text::human_bytes(length),
            crate::text::human_bytes(cfg.redis_settings().preview_bytes)
        ))
    } else if partial {
        Some(format!("{left_out} of {length} elements left out: --max-elements {max_elements} stopped the read"))
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json_out {
        let ttl = match first.ttl {
            Ttl::Millis(ms) => json!(ms),
            _ => Value::Null,
        };
        let mut all: Vec<Value> = pages.iter().flat_map(|p| elements(p, format, budget)).collect();
        let mut o = json!({
            "key": key,
            "type": first.ktype.name(),
            "length": length,
            "ttl_ms": ttl,
            "complete": !partial,
        });
        if matches!(first.body, ValueBody::String(_)) {
            o["value"] = all.pop().unwrap_or(Value::Null);
        } else {
            o["elements"] = Value::Array(all);
        }
        if !first.groups.is_empty() {
            o["groups"] = Value::Array(first.groups.iter().map(group_json).collect());
            o["groups_left_out"] = json!(first.groups_left_out);
        }
        if let Some(w) = &why {
            o["left_out"] = json!(left_out);
            o["why"] = json!(w);
        }
        writeln!(out, "{}", crate::text::json_safe(o.to_string()))?;
    } else {
        writeln!(
            out,
            "{} · {} · {} {}",
            crate::text::sanitize_str(key),
            first.ktype.name(),
            length,
            if matches!(first.body, ValueBody::String(_)) { "bytes" } else { "elements" }
        )?;
        for p in &pages {
            for (_, l) in crate::decode::page::value_lines_with(p, &indexes, format, budget) {
                // The Keys tab's hints for its next page have no place here.
                if !l.contains("n / PgDn loads the next window") {
                    writeln!(out, "{l}")?;
                }
            }
        }
        if let Some(w) = &why {
            writeln!(out, "({w})")?;
        }
    }
    Ok(if partial { 1 } else { 0 })
}
