//! A value page as lines for a terminal (the Keys tab's value pane, `memscope value`): each
//! string, element, field and member read by its format ([`super::decode`]), a hash field a
//! search index holds as a VECTOR by the index's type and dimension, binary as hex, and what
//! the preview cut said. Computed once per page load, never per frame.

use crate::domain::{Blob, PageCursor, ValueBody, ValuePage};
use crate::text::{self, BytesKind};

pub use crate::domain::LineStyle;

/// An element, field or member in a line: read by the format asked for, else by its own (a
/// decoded one tagged `‹gzip → JSON›`), else as text or hex.
fn element_line(b: &Blob, format: Option<super::Format>, budget: usize) -> String {
    let d = super::decode(&b.bytes, !b.truncated(), format, budget);
    // A vector found by its shape says so (blob_line); one asked for with F is just read.
    if (d.decoded() && d.chain != [super::Format::F32Vector]) || format.is_some() {
        let cut = if b.truncated() {
            format!(" … ({}, cut by the preview)", text::human_bytes(b.total_len))
        } else {
            String::new()
        };
        return format!("{}{cut}", d.one_line(512));
    }
    blob_line(b)
}

pub fn blob_line(b: &Blob) -> String {
    const MAX: usize = 512;
    // An embedding stored raw: its shape, never hex (a value cut by the preview says so).
    if b.bytes.len() as u64 == b.total_len && text::looks_like_f32_vector(&b.bytes) {
        let v: Vec<f32> = b.bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        return format!("{} (by its shape)", text::vector_summary(&v, "f32"));
    }
    let shown = &b.bytes[..b.bytes.len().min(MAX)];
    let mut s = match text::classify(shown) {
        BytesKind::Binary => {
            let hex: String = shown.iter().take(64).map(|x| format!("{x:02x}")).collect();
            format!("0x{hex}")
        }
        _ => text::sanitize_line(shown),
    };
    if b.bytes.len() > MAX || text::classify(shown) == BytesKind::Binary && shown.len() > 64 {
        s.push_str(&format!("… ({})", text::human_bytes(b.total_len)));
    }
    s
}

/// Pre-rendered lines of a value page (computed once per load, not per frame).
/// A whole value holding a JSON object or array, pretty-printed (None for anything else, or
/// a window of a larger value).
pub fn json_pretty(b: &crate::domain::Blob) -> Option<String> {
    if b.truncated() {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(&b.bytes)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
}

pub fn value_lines(p: &ValuePage) -> Vec<(LineStyle, String)> {
    value_lines_in(p, &[])
}

/// The formats `F` offers for this page: those its string, or any of its first 50 elements,
/// can be read as, found automatically first.
pub fn formats_of(p: &ValuePage, budget: usize) -> Vec<super::Format> {
    let blobs: Vec<&Blob> = match &p.body {
        ValueBody::String(b) => vec![b],
        ValueBody::List(i) | ValueBody::Set(i) => i.iter().take(50).collect(),
        ValueBody::Hash(f) => f.iter().take(50).map(|(_, v)| v).collect(),
        ValueBody::ZSet(m) => m.iter().take(50).map(|(m, _)| m).collect(),
        ValueBody::Stream(e) => e.iter().take(10).flat_map(|e| e.fields.iter().map(|(_, v)| v)).collect(),
        _ => vec![],
    };
    let mut out = Vec::new();
    for b in blobs {
        for f in super::formats(&b.bytes, !b.truncated(), budget) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// A hash field that a search index holds as a VECTOR: its floats by the field's type, with
/// its dimension checked against the index's.
fn vector_field_line(key: &[u8], field: &[u8], value: &Blob, indexes: &[crate::domain::SearchIndex]) -> Option<String> {
    let key = std::str::from_utf8(key).ok()?;
    let field = std::str::from_utf8(field).ok()?;
    let (idx, f) = indexes.iter().filter(|i| i.on == "HASH").find_map(|i| {
        let covers = i.prefixes.is_empty() || i.prefixes.iter().any(|p| key.starts_with(p.as_str()));
        let f = i.fields.iter().find(|f| f.vector.is_some() && f.path == field)?;
        covers.then_some((i, f))
    })?;
    let spec = f.vector.as_ref()?;
    if value.bytes.len() as u64 != value.total_len {
        return Some(format!("{} × {} vector of index {}, cut by the preview", spec.dim, spec.dtype, idx.name));
    }
    let v = text::floats(&value.bytes, &spec.dtype)?;
    let dim = if v.len() as u32 == spec.dim {
        String::new()
    } else {
        format!(" — index {} says {} dimensions", idx.name, spec.dim)
    };
    let t = if spec.dtype.eq_ignore_ascii_case("FLOAT64") { "f64" } else { "f32" };
    Some(format!("{} (index {}, {}){dim}", text::vector_summary(&v, t), idx.name, spec.metric))
}

/// [`value_lines`], with the search indexes of the server: a hash field one of them holds as a
/// VECTOR is shown by the index's type and dimension.
pub fn value_lines_in(p: &ValuePage, indexes: &[crate::domain::SearchIndex]) -> Vec<(LineStyle, String)> {
    value_lines_with(p, indexes, None, super::budget_for(256 * 1024))
}

/// [`value_lines_in`], each value read by `format` (None: by its own, found automatically).
pub fn value_lines_with(
    p: &ValuePage,
    indexes: &[crate::domain::SearchIndex],
    format: Option<super::Format>,
    budget: usize,
) -> Vec<(LineStyle, String)> {
    use LineStyle::*;
    let blob_line = |b: &Blob| element_line(b, format, budget);
    let mut out = Vec::new();
    let start = match &p.cursor {
        PageCursor::Offset(o) => *o,
        _ => 0,
    };
    if let Some((slot, node)) = &p.node {
        out.push((Dim, format!("cluster: slot {slot} on {}", text::sanitize_str(node))));
    }
    match &p.body {
        ValueBody::String(b) => {
            if b.truncated() {
                out.push((
                    Warn,
                    format!(
                        "window: bytes {}–{} of {} (GETRANGE; the value is never fetched whole)",
                        start,
                        start + b.bytes.len() as u64,
                        text::human_bytes(b.total_len)
                    ),
                ));
            }
            let d = super::decode(&b.bytes, !b.truncated(), format, budget);
            if d.decoded() || format.is_some() {
                let label = if d.chain == [super::Format::Json] { "JSON (pretty-printed)".into() } else { d.label() };
                out.push((Label, format!("{label} · F cycles the formats")));
                out.extend(d.notes.iter().map(|n| (Warn, n.clone())));
                match &d.shape {
                    super::Shape::Bytes(bytes) => {
                        out.extend(text::hex_dump(bytes, start as usize).into_iter().map(|l| (Normal, l)))
                    }
                    _ => out.extend(d.lines().into_iter().map(|l| (Normal, l))),
                }
            } else {
                match text::classify(&b.bytes) {
                    BytesKind::Binary => {
                        out.push((Dim, format!("binary, {} — hex dump", text::human_bytes(b.total_len))));
                        out.extend(text::hex_dump(&b.bytes, start as usize).into_iter().map(|l| (Normal, l)));
                    }
                    enc => {
                        let pretty = if enc == BytesKind::Text { json_pretty(b) } else { None };
                        if pretty.is_some() {
                            out.push((Dim, "JSON (pretty-printed)".into()));
                        } else if enc == BytesKind::EscapedBytes {
                            out.push((Dim, "not valid UTF-8: invalid bytes shown as \\xNN".into()));
                        }
                        let body = match pretty {
                            Some(p) => text::sanitize_multiline(p.as_bytes()),
                            None => text::sanitize_multiline(&b.bytes),
                        };
                        out.extend(body.split('\n').map(|l| (Normal, l.to_string())));
                    }
                }
            }
        }
        ValueBody::HyperLogLog { count, bytes } => {
            out.push((Label, format!("HyperLogLog: ~{count} distinct elements (PFCOUNT)")));
            out.push((Dim, format!("{} of registers", text::human_bytes(*bytes))));
        }
        ValueBody::List(items) | ValueBody::Set(items) => {
            for (i, b) in items.iter().enumerate() {
                let label = if matches!(p.body, ValueBody::List(_)) {
                    format!("{:>6} ", start + i as u64)
                } else {
                    "  • ".into()
                };
                // An element holding a JSON object or array (a framework's message) is
                // pretty-printed under its index, not one long line.
                match json_pretty(b).filter(|_| format.is_none()) {
                    Some(pretty) => {
                        let pad = " ".repeat(text::width(&label));
                        for (j, l) in text::sanitize_multiline(pretty.as_bytes()).split('\n').enumerate() {
                            out.push((Normal, format!("{}{l}", if j == 0 { &label } else { &pad })));
                        }
                    }
                    None => out.push((Normal, format!("{label}{}", blob_line(b)))),
                }
            }
        }
        ValueBody::Hash(fields) => {
            let w = fields.iter().map(|(f, _)| text::width(&blob_line(f))).max().unwrap_or(0).min(32);
            for (f, v) in fields {
                let shown = vector_field_line(&p.key, &f.bytes, v, indexes).unwrap_or_else(|| blob_line(v));
                out.push((Normal, format!("{} │ {}", text::fit(&blob_line(f), w), shown)));
            }
        }
        ValueBody::ZSet(members) => {
            for (m, s) in members {
                out.push((Normal, format!("{s:>14} │ {}", blob_line(m))));
            }
        }
        ValueBody::Stream(entries) => {
            out.extend(group_lines(p));
            for e in entries {
                // An entry id is milliseconds since the epoch, then a sequence number.
                let when =
                    e.id.split_once('-')
                        .and_then(|(ms, _)| ms.parse::<i64>().ok())
                        .map(|ms| format!("  {}", crate::domain::Ts::from_micros(ms.saturating_mul(1000)).to_rfc3339()))
                        .unwrap_or_default();
                out.push((Label, format!("{}{when}", text::sanitize_str(&e.id))));
                for (f, v) in &e.fields {
                    out.push((Normal, format!("    {} = {}", blob_line(f), blob_line(v))));
                }
            }
        }
        ValueBody::Json(crate::domain::JsonDoc::Whole(b)) => {
            out.push((Dim, "RedisJSON document (pretty-printed)".into()));
            let pretty = serde_json::from_slice::<serde_json::Value>(&b.bytes)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .map(String::into_bytes)
                .unwrap_or_else(|| b.bytes.clone());
            out.extend(text::sanitize_multiline(&pretty).split('\n').map(|l| (Normal, l.to_string())));
        }
        ValueBody::Json(crate::domain::JsonDoc::Members { kind, total, count, members }) => {
            out.push((
                Warn,
                format!(
                    "RedisJSON {kind} of {} and {} members: larger than preview_bytes, shown by member \
                     (JSON.GET KEY PATH reads one; :export FILE writes the whole document)",
                    text::human_bytes(*total),
                    text::num(*count)
                ),
            ));
            for m in members {
                let size = m.bytes.map(text::human_bytes).unwrap_or_else(|| "?".into());
                out.push((Label, format!("{}  {} · {size}", text::sanitize_str(&m.path), m.kind)));
                if let Some(p) = &m.preview {
                    out.push((Normal, format!("    {}", text::sanitize_line(p.as_bytes()))));
                }
            }
        }
        ValueBody::Opaque => {
            out.push((Label, format!("type `{}`: a module or unknown type", text::sanitize_str(p.ktype.name()))));
            out.push((Dim, "memscope shows its name and size only.".into()));
        }
    }
    if let (ValueBody::String(b), Some(PageCursor::Offset(next))) = (&p.body, &p.next) {
        out.push((
            Warn,
            format!(
                "… {} more from byte {next}: n / PgDn loads the next window (o opens this one in the pager)",
                text::human_bytes(b.total_len.saturating_sub(*next))
            ),
        ));
    }
    if out.is_empty() {
        out.push((Dim, "(empty)".into()));
    }
    out
}

/// A stream's consumer groups, as the first page shows them: per group its pending count, lag
/// and last delivered id; its consumers with their pending and idle time; its oldest pending
/// entries with idle time and deliveries (an entry delivered again and again, or idle for
/// minutes, is the stall — shown as a warning).
fn group_lines(p: &ValuePage) -> Vec<(LineStyle, String)> {
    use LineStyle::*;
    let mut out = Vec::new();
    if p.groups.is_empty() {
        return out;
    }
    let more = if p.groups_left_out > 0 {
        format!(" (the first {}; {} more)", p.groups.len(), p.groups_left_out)
    } else {
        String::new()
    };
    out.push((Label, format!("consumer groups{more}:")));
    let secs = |ms: u64| text::human_ms(ms as i64);
    for g in &p.groups {
        let lag = g.lag.map(|l| format!(" · lag {l}")).unwrap_or_else(|| " · lag unknown".into());
        out.push((
            if g.pending > 0 { Warn } else { Normal },
            format!(
                "  {} · {} consumers · {} pending{lag} · last delivered {}",
                text::sanitize_str(&g.name),
                g.consumers.len(),
                g.pending,
                text::sanitize_str(&g.last_delivered)
            ),
        ));
        for c in &g.consumers {
            let inactive = match c.inactive_ms {
                Some(ms) if ms >= 0 => format!(" · last read {} ago", secs(ms as u64)),
                Some(_) => " · never read".into(),
                None => String::new(),
            };
            out.push((
                Dim,
                format!(
                    "    consumer {} · {} pending · idle {}{inactive}",
                    text::sanitize_str(&c.name),
                    c.pending,
                    secs(c.idle_ms)
                ),
            ));
        }
        for e in &g.oldest_pending {
            let stuck = e.deliveries > 1 || e.idle_ms >= 60_000;
            out.push((
                if stuck { Warn } else { Dim },
                format!(
                    "    pending {} → {} · idle {} · delivered {}×",
                    text::sanitize_str(&e.id),
                    text::sanitize_str(&e.consumer),
                    secs(e.idle_ms),
                    e.deliveries
                ),
            ));
        }
        if (g.oldest_pending.len() as u64) < g.pending {
            out.push((
                Dim,
                format!("    … {} more pending (XPENDING shows them)", g.pending - g.oldest_pending.len() as u64),
            ));
        }
    }
    out.push((Label, "entries:".into()));
    out
}
