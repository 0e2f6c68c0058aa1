//! The document browser: collections, documents, a document's field tree.

use super::*;
use crate::message::LongTermCmd;

/// Parse the `/` filter: `user:ID`, `agent:ID`, `id:PREFIX`, anything else words of the title (case-insensitive).
/// A value as one line of text (untrusted text made safe).
pub fn value_text(v: &FsValue) -> String {
    match v {
        FsValue::Null => "null".into(),
        FsValue::Bool(b) => b.to_string(),
        FsValue::Int(i) => i.to_string(),
        FsValue::Double(d) if d.is_nan() => "NaN".into(),
        FsValue::Double(d) if d.is_infinite() => if *d > 0.0 { "+Infinity" } else { "-Infinity" }.into(),
        FsValue::Double(d) => format!("{d:?}"),
        FsValue::Timestamp(t) => t.to_rfc3339(),
        FsValue::String(s) => format!("\"{}\"", text::sanitize_str(s)),
        // Bytes that are UTF-8 text (LangChain's encoded messages) read as text.
        FsValue::Bytes(b) if looks_like_text(b) => {
            format!("\"{}\" (UTF-8 bytes)", text::sanitize_line(b))
        }
        FsValue::Bytes(b) => {
            let hex: String = b.iter().take(64).map(|x| format!("{x:02x}")).collect();
            if b.len() > 64 {
                format!("0x{hex}… ({})", text::human_bytes(b.len() as u64))
            } else {
                format!("0x{hex}")
            }
        }
        FsValue::Reference(r) => format!("→ {}", text::sanitize_str(r)),
        FsValue::GeoPoint { lat, lng } => format!("({lat}, {lng})"),
        FsValue::Array(a) => format!("[{} items]", a.len()),
        FsValue::Map(m) => format!("{{{} fields}}", m.len()),
    }
}

/// Bytes that read as text: valid UTF-8, no control characters to speak of, and mostly ASCII
/// (two random bytes can be valid UTF-8 too: `de ad` is one Thaana letter).
pub(super) fn looks_like_text(b: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(b) else { return false };
    let chars = s.chars().count();
    chars > 0 && text::classify(b) == text::BytesKind::Text && s.chars().filter(char::is_ascii).count() * 2 >= chars
}

/// A string or bytes value as it is opened whole: JSON pretty-printed, UTF-8 text as text,
/// other bytes as a hex dump.
pub fn whole_value(v: &FsValue) -> Option<String> {
    let raw: &[u8] = match v {
        FsValue::String(s) => s.as_bytes(),
        FsValue::Bytes(b) => b,
        _ => return None,
    };
    if let Ok(j) = serde_json::from_slice::<serde_json::Value>(raw)
        && (j.is_object() || j.is_array())
        && let Ok(p) = serde_json::to_string_pretty(&j)
    {
        return Some(text::sanitize_multiline(p.as_bytes()));
    }
    match std::str::from_utf8(raw) {
        Ok(s) => Some(text::sanitize_multiline(s.as_bytes())),
        Err(_) => Some(text::hex_dump(raw, 0).join("\n")),
    }
}

/// Flatten a document into field-tree lines: nested maps and arrays indented under their key.
/// In a document marked `type = "msgpack"` (LangGraph's checkpointer), strings holding base64
/// msgpack are said so and open decoded (as JSON, LangGraph's extension types unwrapped).
pub fn field_lines(fields: &[(String, FsValue)]) -> Vec<FieldLine> {
    fn walk(out: &mut Vec<FieldLine>, depth: usize, key: String, v: &FsValue, msgpack: bool) {
        let decoded = match v {
            FsValue::String(s) if msgpack && s.len() > 8 => crate::msgpack::from_base64(s),
            _ => None,
        };
        let (value, full) = match (&decoded, v) {
            (Some(d), FsValue::String(s)) => (
                format!("base64 msgpack, {} — Enter opens it decoded", text::human_bytes(s.len() as u64)),
                serde_json::to_string_pretty(d).ok().map(|p| text::sanitize_multiline(p.as_bytes())),
            ),
            _ => (value_text(v), whole_value(v)),
        };
        out.push(FieldLine {
            depth,
            key,
            type_name: v.type_name(),
            value,
            reference: match v {
                FsValue::Reference(r) => Some(r.clone()),
                _ => None,
            },
            full,
        });
        match v {
            FsValue::Map(m) => {
                for (k, x) in m {
                    walk(out, depth + 1, text::sanitize_str(k), x, msgpack);
                }
            }
            FsValue::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(out, depth + 1, format!("[{i}]"), x, msgpack);
                }
            }
            _ => {}
        }
    }
    let msgpack = fields.iter().any(|(k, v)| k == "type" && v.as_str() == Some("msgpack"));
    let mut out = Vec::new();
    for (k, v) in fields {
        walk(&mut out, 0, text::sanitize_str(k), v, msgpack);
    }
    out
}

impl ConversationsTab {
    pub fn open_browser(&mut self, path: Option<&str>, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        self.view = View::Browser;
        self.browser.stack.clear();
        self.browser.error = None;
        let path = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty());
        match path {
            None => self.push_collections(None, cx),
            Some(p) if p.split('/').count() % 2 == 1 => self.push_documents(p.to_string(), cx),
            Some(p) => self.push_document(p.to_string(), cx),
        }
    }

    pub(super) fn push_collections(&mut self, parent: Option<String>, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Collections { parent: parent.clone(), items: Vec::new(), selected: 0 });
        vec![Command::LongTerm(req, LongTermCmd::Collections { parent })]
    }

    pub(super) fn push_documents(&mut self, collection: String, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Documents {
            collection: collection.clone(),
            items: Vec::new(),
            next: None,
            selected: 0,
        });
        vec![Command::LongTerm(req, LongTermCmd::ListDocuments { collection, after: None, limit: LIST_PAGE })]
    }

    pub(super) fn push_document(&mut self, path: String, cx: &mut Cx) -> Vec<Command> {
        let req = self.browser.req.issue(cx);
        self.browser.stack.push(BrowserLevel::Document {
            path: path.clone(),
            doc: None,
            found: None,
            lines: Vec::new(),
            selected: 0,
        });
        vec![Command::LongTerm(req, LongTermCmd::Document { path })]
    }

    pub(super) fn browser_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        let page = self.view_rows.max(1);
        let Some(level) = self.browser.stack.last_mut() else {
            self.view = View::List;
            return vec![];
        };
        let (len, sel) = match level {
            BrowserLevel::Collections { items, selected, .. } => (items.len(), selected),
            BrowserLevel::Documents { items, selected, .. } => (items.len(), selected),
            BrowserLevel::Document { lines, selected, .. } => (lines.len(), selected),
        };
        if let Some(i) = crate::tabs::scroll::moved(action, *sel, len, page) {
            *sel = i;
        }
        match action {
            Action::Back => {
                self.browser.stack.pop();
                self.browser.error = None;
                if self.browser.stack.is_empty() {
                    self.view = if self.thread.is_some() { View::Thread } else { View::List };
                }
                return vec![];
            }
            Action::Refresh => {
                let Some(top) = self.browser.stack.pop() else { return vec![] };
                self.browser.error = None;
                return match top {
                    BrowserLevel::Collections { parent, .. } => self.push_collections(parent, cx),
                    BrowserLevel::Documents { collection, .. } => self.push_documents(collection, cx),
                    BrowserLevel::Document { path, .. } => self.push_document(path, cx),
                };
            }
            Action::Open => {
                let target = match level {
                    BrowserLevel::Collections { parent, items, selected } => {
                        items.get(*selected).map(|c| match parent {
                            Some(p) => (1, format!("{p}/{c}")),
                            None => (1, c.clone()),
                        })
                    }
                    BrowserLevel::Documents { items, selected, .. } => {
                        items.get(*selected).map(|d| (2, d.path.clone()))
                    }
                    BrowserLevel::Document { lines, selected, path, .. } => match lines.get(*selected) {
                        Some(l) if l.reference.is_some() => l.reference.clone().map(|r| (2, r)),
                        // A string or bytes value opens whole, in the pager.
                        Some(FieldLine { full: Some(v), key, .. }) => {
                            let title = format!("{path} · {}", key.trim());
                            cx.ask(Ask::Page { title, note: None, text: v.clone(), more: false });
                            return vec![];
                        }
                        _ => None,
                    },
                };
                return match target {
                    Some((1, coll)) => self.push_documents(coll, cx),
                    Some((_, path)) => self.push_document(path, cx),
                    None => vec![],
                };
            }
            Action::Subcollections => {
                let path = match level {
                    BrowserLevel::Document { path, .. } => Some(path.clone()),
                    BrowserLevel::Documents { items, selected, .. } => items.get(*selected).map(|d| d.path.clone()),
                    _ => None,
                };
                if let Some(p) = path {
                    return self.push_collections(Some(p), cx);
                }
            }
            _ => {}
        }
        // Documents: load the next page near the end.
        if let Some(BrowserLevel::Documents { collection, items, next: Some(c), selected }) = self.browser.stack.last()
            && !self.browser.req.waiting()
            && selected + page >= items.len()
        {
            let (collection, after) = (collection.clone(), Some(c.clone()));
            let req = self.browser.req.issue(cx);
            return vec![Command::LongTerm(req, LongTermCmd::ListDocuments { collection, after, limit: LIST_PAGE })];
        }
        vec![]
    }
}
