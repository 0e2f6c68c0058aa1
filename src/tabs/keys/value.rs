//! The open value: paging, the pager, copy, writes to it, and its lines as shown (text, JSON, hex).

use super::*;
use crate::message::RedisCmd;

impl KeysTab {
    /// The confirmed write, sent; its reply reloads what is shown.
    pub fn send_write(&mut self, op: WriteOp, cx: &mut Cx) -> Command {
        let req = self.write_req.issue(cx);
        Command::Redis(req, RedisCmd::Write { op })
    }

    pub fn on_write(&mut self, req: RequestId, r: Result<String, StoreError>, cx: &mut Cx) -> Vec<Command> {
        if !self.write_req.settle(req) {
            return vec![];
        }
        match r {
            Ok(msg) => {
                let mut cmds = Vec::new();
                // Reflect the change: drop stale metadata, reload what is shown.
                if let Some(v) = &mut self.value {
                    self.meta.remove(&v.key);
                    let req = v.req.issue(cx);
                    cmds.push(Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone() }));
                }
                cmds.extend(self.rescan(cx));
                cx.status(msg, false);
                cmds
            }
            Err(e) => {
                cx.status(format!("write failed: {e}"), true);
                vec![]
            }
        }
    }

    /// `y`: the key's name (the list), or the value page shown (the value view), as text.
    pub(super) fn copy(&self, cx: &mut Cx) {
        match (&self.focus, &self.value) {
            // The data, as `:export` writes it: a string's text itself, else JSON lines.
            (Focus::Value, Some(v)) if v.page.is_some() => {
                let page = v.page.as_ref().expect("checked");
                let text = match &page.body {
                    crate::domain::ValueBody::String(b) if !b.truncated() && std::str::from_utf8(&b.bytes).is_ok() => {
                        String::from_utf8_lossy(&b.bytes).into_owned()
                    }
                    _ => page.data_lines().iter().skip(1).map(|l| l.to_string()).collect::<Vec<_>>().join("\n"),
                };
                cx.ask(Ask::Copy { what: format!("the value of {}", text::sanitize_line(&v.key)), text });
            }
            _ => match self.current_key() {
                Some(k) => {
                    cx.ask(Ask::Copy { what: "the key's name".into(), text: String::from_utf8_lossy(&k).into_owned() })
                }
                None => cx.status("select a key first (a folder has no name to copy)", true),
            },
        }
    }

    pub(super) fn current_key(&self) -> Option<Key> {
        match self.focus {
            Focus::Value => self.value.as_ref().map(|v| v.key.clone()),
            Focus::List => match self.index.row(self.selected)? {
                Row::Key { idx, .. } => Some(self.index.key(idx).into()),
                Row::Folder { .. } => None,
            },
        }
    }

    pub(super) fn open_value(&mut self, key: Key, cx: &mut Cx) -> Vec<Command> {
        let req = cx.fresh();
        self.value = Some(ValueState {
            req: Pending::at(req),
            key: key.clone(),
            cursor: PageCursor::Start,
            back: Vec::new(),
            before: Vec::new(),
            page: None,
            lines: Vec::new(),
            loaded_at_ms: self.now_ms,
            scroll: 0,
            gone: false,
            error: None,
            expiry_checked: false,
        });
        self.focus = Focus::Value;
        vec![Command::Redis(req, RedisCmd::Value { key, cursor: PageCursor::Start })]
    }

    /// The value page shown, whole, in the pager (`]` there loads the next window).
    pub fn open_pager(&self, cx: &mut Cx) {
        let Some(v) = &self.value else { return };
        let name = text::sanitize_line(&v.key);
        let more = v.page.as_ref().is_some_and(|p| p.next.is_some());
        let note = v.page.as_ref().map(|p| {
            let hint = if more { " · ] loads the next window / page" } else { "" };
            format!("{} · {}{hint}", p.ktype.name(), text::human_bytes(p.memory.unwrap_or(0)))
        });
        let text = v.lines.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>().join("\n");
        cx.ask(Ask::Page { title: name, note, text, more });
    }

    /// The value's next page (or string window) now, whatever is scrolled (the pager's `]`).
    pub fn next_value_page(&mut self, cx: &mut Cx) -> Vec<Command> {
        let Some(v) = &mut self.value else { return vec![] };
        let Some(next) = v.page.as_ref().and_then(|p| p.next.clone()) else { return vec![] };
        v.back.push(v.cursor.clone());
        v.before.push(v.page.as_ref().map(|p| p.body.elements() as u64).unwrap_or(0));
        v.cursor = next.clone();
        v.scroll = 0;
        let req = v.req.issue(cx);
        vec![Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: next })]
    }

    /// Tab with a value open: the focus goes between the list (j/k move through keys, the
    /// value follows) and the value (j/k scroll it). Returns false when no value is open.
    pub fn switch_pane(&mut self) -> bool {
        if self.value.is_none() {
            return false;
        }
        self.focus = if self.focus == Focus::List { Focus::Value } else { Focus::List };
        true
    }

    pub(super) fn on_value_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let page_rows = self.value_rows.max(1);
        let Some(v) = &mut self.value else {
            self.focus = Focus::List;
            return vec![];
        };
        let last = v.lines.len().saturating_sub(1);
        match action {
            // This page of the value, whole, in the pager (search, wrap, sideways).
            Action::Pager => {
                self.open_pager(cx);
                vec![]
            }
            Action::Up => {
                v.scroll = v.scroll.saturating_sub(1);
                vec![]
            }
            Action::Down => {
                v.scroll = (v.scroll + 1).min(last);
                vec![]
            }
            Action::Top => {
                v.scroll = 0;
                vec![]
            }
            Action::Bottom => {
                v.scroll = last.saturating_sub(page_rows.saturating_sub(1));
                vec![]
            }
            Action::NextPage => {
                // Scroll within a long page first, then fetch the next page.
                if v.scroll + page_rows <= last {
                    v.scroll += page_rows;
                    vec![]
                } else if v.page.as_ref().is_some_and(|p| p.next.is_some()) {
                    self.next_value_page(cx)
                } else {
                    vec![]
                }
            }
            Action::PrevPage => {
                if v.scroll > 0 {
                    v.scroll = v.scroll.saturating_sub(page_rows);
                    vec![]
                } else if let Some(prev) = v.back.pop() {
                    v.before.pop();
                    v.cursor = prev.clone();
                    let req = v.req.issue(cx);
                    vec![Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: prev })]
                } else {
                    vec![]
                }
            }
            Action::Refresh => {
                let req = v.req.issue(cx);
                vec![Command::Redis(req, RedisCmd::Value { key: v.key.clone(), cursor: v.cursor.clone() })]
            }
            Action::Back => {
                self.focus = Focus::List;
                self.value = None;
                vec![Command::Cancel(crate::message::Slot::Value)]
            }
            _ => self.on_key_action(action, cx),
        }
    }

    /// What both panes do to the key in view: a write (delete, TTL, rename) or a copy.
    pub(super) fn on_key_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        match action {
            Action::Delete | Action::Expire | Action::Persist | Action::Rename => self.write_intent(action, cx),
            Action::Copy => self.copy(cx),
            _ => {}
        }
        vec![]
    }
}

pub(super) fn blob_line(b: &Blob) -> String {
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
pub(super) fn json_pretty(b: &crate::domain::Blob) -> Option<String> {
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
    use LineStyle::*;
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
                match json_pretty(b) {
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
