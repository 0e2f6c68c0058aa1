//! The long-term tier: documents and their values, conversations, messages, cursors, pages, filters, collection patterns.

use super::*;

/// Every Firestore value type, kept as its type (never flattened to a string).
#[derive(Debug, Clone, PartialEq)]
pub enum FsValue {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Timestamp(Ts),
    String(String),
    Bytes(Vec<u8>),
    /// A document path relative to the database root: `users/u-alice`.
    Reference(String),
    GeoPoint {
        lat: f64,
        lng: f64,
    },
    Array(Vec<FsValue>),
    /// Fields in key order.
    Map(Vec<(String, FsValue)>),
}

/// A document's fields as JSON (timestamps as RFC 3339, bytes as hex, references as paths).
pub fn fields_json(fields: &[(String, FsValue)]) -> serde_json::Value {
    serde_json::Value::Object(fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

impl FsValue {
    /// A Firestore vector value (a map `{__type__: "__vector__", value: [..]}`, as LangChain's
    /// `FirestoreVectorStore` and Firestore's vector search store one) as floats.
    pub fn as_vector(&self) -> Option<Vec<f32>> {
        let FsValue::Map(m) = self else { return None };
        if !m.iter().any(|(k, x)| k == "__type__" && *x == FsValue::String("__vector__".into())) {
            return None;
        }
        let FsValue::Array(a) = &m.iter().find(|(k, _)| k == "value")?.1 else { return None };
        Some(
            a.iter()
                .filter_map(|x| match x {
                    FsValue::Double(d) => Some(*d as f32),
                    FsValue::Int(i) => Some(*i as f32),
                    _ => None,
                })
                .collect(),
        )
    }

    /// The value as JSON, as [`fields_json`] writes each field.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            FsValue::Null => J::Null,
            FsValue::Bool(b) => J::Bool(*b),
            FsValue::Int(i) => J::from(*i),
            FsValue::Double(d) => serde_json::Number::from_f64(*d).map(J::Number).unwrap_or(J::String(d.to_string())),
            FsValue::Timestamp(t) => J::String(t.to_rfc3339_micros()),
            FsValue::String(s) => J::String(s.clone()),
            FsValue::Bytes(b) => J::String(b.iter().map(|x| format!("{x:02x}")).collect()),
            FsValue::Reference(p) => J::String(p.clone()),
            FsValue::GeoPoint { lat, lng } => serde_json::json!({"lat": lat, "lng": lng}),
            FsValue::Array(a) => J::Array(a.iter().map(FsValue::to_json).collect()),
            FsValue::Map(m) => fields_json(m),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            FsValue::Null => "null",
            FsValue::Bool(_) => "bool",
            FsValue::Int(_) => "int64",
            FsValue::Double(_) => "double",
            FsValue::Timestamp(_) => "timestamp",
            FsValue::String(_) => "string",
            FsValue::Bytes(_) => "bytes",
            FsValue::Reference(_) => "reference",
            FsValue::GeoPoint { .. } => "geopoint",
            FsValue::Array(_) => "array",
            FsValue::Map(_) => "map",
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FsValue::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FsValue::Int(i) => Some(*i),
            FsValue::Double(d) if d.is_finite() => Some(*d as i64),
            _ => None,
        }
    }
    /// A timestamp, or an ISO-8601 string read as UTC (older writers).
    /// The instant this value stands for: a timestamp, an ISO-8601 string, or a number of
    /// Unix seconds (int or float; numbers too large to be seconds before the year 5000 are
    /// read as milliseconds, then microseconds, as JavaScript and some Python writers store them).
    pub fn as_ts(&self) -> Option<Ts> {
        match self {
            FsValue::Timestamp(t) => Some(*t),
            FsValue::String(s) => Ts::parse(s),
            FsValue::Int(i) => Ts::from_unix_number(*i as f64),
            FsValue::Double(d) => Ts::from_unix_number(*d),
            _ => None,
        }
    }
}

/// A document: its path relative to the database root and its typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub path: String,
    pub fields: Vec<(String, FsValue)>,
    pub update_time: Option<Ts>,
}

impl Document {
    pub fn id(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
    pub fn get(&self, field: &str) -> Option<&FsValue> {
        self.fields.iter().find(|(k, _)| k == field).map(|(_, v)| v)
    }
    pub fn str_field(&self, field: &str) -> Option<String> {
        self.get(field).and_then(|v| v.as_str()).map(str::to_string)
    }
}

/// A conversation as the list shows it; `doc` keeps every field, known or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub title: Option<String>,
    pub user_id: Option<String>,
    pub agent_id: Option<String>,
    pub created_at: Option<Ts>,
    pub updated_at: Option<Ts>,
    pub message_count: Option<i64>,
    pub doc: Document,
}

impl Conversation {
    /// Messages exist under it but its own document does not (Firestore's "missing" parent).
    pub fn has_no_document(&self) -> bool {
        self.doc.fields.is_empty() && self.doc.update_time.is_none()
    }

    pub fn from_doc(doc: Document) -> Conversation {
        Conversation {
            id: doc.id().to_string(),
            title: doc.str_field("title"),
            user_id: doc.str_field("user_id"),
            agent_id: doc.str_field("agent_id"),
            created_at: doc.get("created_at").and_then(FsValue::as_ts),
            updated_at: doc.get("updated_at").and_then(FsValue::as_ts),
            message_count: doc.get("message_count").and_then(FsValue::as_i64),
            doc,
        }
    }
}

/// A tool call an assistant message makes, as the framework stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: String,
    /// The arguments (a JSON string stored by OpenAI's form is read as the JSON it holds).
    pub args: serde_json::Value,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub role: String,
    pub content: String,
    pub timestamp: Option<Ts>,
    pub ts_form: TsForm,
    pub user_id: Option<String>,
    /// The tool calls it makes (also shown in `content`, a `→ tool call` line each).
    pub tool_calls: Vec<ToolCall>,
    /// A tool result: the call it answers.
    pub tool_call_id: Option<String>,
    pub doc: Document,
}

impl Message {
    /// The message as data — what `show --json` prints and the thread's `:export` writes:
    /// content that is not text (a map, an array) given as its value, tool calls as fields.
    pub fn to_json(&self, conversation: &str) -> serde_json::Value {
        let content = match self.doc.get("content") {
            Some(v) if !matches!(v, FsValue::String(_)) => v.to_json(),
            _ => serde_json::Value::String(self.content.clone()),
        };
        let mut j = serde_json::json!({
            "conversation_id": conversation, "message_id": self.id, "role": self.role, "content": content,
            "timestamp": self.timestamp.map(|t| t.to_rfc3339()), "user_id": self.user_id,
        });
        if !self.tool_calls.is_empty() {
            j["tool_calls"] = self
                .tool_calls
                .iter()
                .map(|c| serde_json::json!({"name": c.name, "args": c.args, "id": c.id}))
                .collect();
        }
        if let Some(id) = &self.tool_call_id {
            j["tool_call_id"] = id.clone().into();
        }
        j
    }

    pub fn from_doc(doc: Document) -> Message {
        Message::from_doc_at(doc, "timestamp")
    }

    /// A message document whose time is in `ts_field` (a layout that renames `timestamp`).
    pub fn from_doc_at(doc: Document, ts_field: &str) -> Message {
        let raw = doc.get(ts_field);
        let ts_form = TsForm::of(raw);
        let timestamp = match ts_form {
            TsForm::Missing => None,
            _ => raw.and_then(FsValue::as_ts),
        };
        Message {
            id: doc.id().to_string(),
            role: doc.str_field("role").unwrap_or_else(|| "?".into()),
            content: match doc.get("content") {
                Some(FsValue::String(s)) => s.clone(),
                Some(other) => format!("<{}>", other.type_name()),
                None => String::new(),
            },
            timestamp,
            ts_form,
            user_id: doc.str_field("user_id"),
            tool_calls: Vec::new(),
            tool_call_id: None,
            doc,
        }
    }
    /// Chronological sort key: instant, then id; messages without a usable instant last.
    pub fn sort_key(&self) -> (bool, Option<Ts>, &str) {
        (self.timestamp.is_none(), self.timestamp, &self.id)
    }
}

/// Where the next page of a query starts; opaque to the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Cursor {
    /// After the document with these order-field values and this path.
    After { values: Vec<FsValue>, path: String },
    /// Messages: one position per ordered run ([`TIMED_RUNS`]: typed, Unix numbers by unit, ISO
    /// strings) merged by instant, then the messages with no usable timestamp in id order.
    Merged { runs: Box<[RunPos; 7]>, untimed: RunPos },
    /// Documents lacking the order field (which an ordered query leaves out), by name, after
    /// this path.
    Absent { after: Option<String> },
    /// Conversations whose messages exist without a document (listed after every document,
    /// by id), from this browse position.
    Phantoms(Option<Box<Cursor>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A page of `items`, with a cursor after the last one when the page came back full: a short
    /// page is the last.
    pub fn of(items: Vec<T>, limit: u32, cursor: impl FnOnce(&T) -> Cursor) -> Page<T> {
        let next = if limit > 0 && items.len() as u32 >= limit { items.last().map(cursor) } else { None };
        Page { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

/// Which conversations the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConvFilter {
    #[default]
    All,
    User(String),
    Agent(String),
    TitlePrefix(String),
    /// Case-insensitive substring of the title: no store can query it, so the conversation
    /// readers filter newest-first pages (`layout::TitleSearch`).
    TitleContains(String),
    IdPrefix(String),
}

impl ConvFilter {
    /// What the Conversations tab's `/` and `conversations --filter` accept: `user:ID`,
    /// `agent:ID`, `id:PREFIX`, else words of the title (any case).
    pub fn parse(s: &str) -> ConvFilter {
        let s = s.trim();
        if s.is_empty() {
            ConvFilter::All
        } else if let Some(u) = s.strip_prefix("user:") {
            ConvFilter::User(u.trim().to_string())
        } else if let Some(a) = s.strip_prefix("agent:") {
            ConvFilter::Agent(a.trim().to_string())
        } else if let Some(i) = s.strip_prefix("id:") {
            ConvFilter::IdPrefix(i.trim().to_string())
        } else {
            ConvFilter::TitleContains(s.to_string())
        }
    }

    /// The filter as typed (what [`ConvFilter::parse`] reads back).
    pub fn text(&self) -> String {
        match self {
            ConvFilter::All => String::new(),
            ConvFilter::User(u) => format!("user:{u}"),
            ConvFilter::Agent(a) => format!("agent:{a}"),
            ConvFilter::IdPrefix(p) => format!("id:{p}"),
            ConvFilter::TitlePrefix(p) | ConvFilter::TitleContains(p) => p.clone(),
        }
    }
}

/// A collection path whose document segments may be `*` (`users/*/chats`: every user's
/// `chats`): the collections it names are read as one, a collection-group read. A conversation
/// under it is named by its `*` segments and its document id joined with `/` (`u-42/s1`):
/// Firestore ids hold no `/`, so the name is unambiguous and turns back into the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionPattern {
    segs: Vec<String>,
}

impl CollectionPattern {
    /// The pattern of a collection path holding a `*`; `Ok(None)` for a plain path; an error
    /// for a `*` where a collection id must be (the pattern reads collections of one name).
    pub fn parse(path: &str) -> Result<Option<CollectionPattern>, String> {
        let segs: Vec<String> = path.trim_matches('/').split('/').map(str::to_string).collect();
        if !segs.iter().any(|s| s.contains('*')) {
            return Ok(None);
        }
        if segs.len().is_multiple_of(2) {
            return Err(format!("`{path}`: a collection path ends with a collection's name (`users/*/chats`)"));
        }
        for (i, s) in segs.iter().enumerate() {
            if s.contains('*') && (s != "*" || i % 2 == 0) {
                return Err(format!(
                    "`{path}`: `*` stands for a whole document id (`users/*/chats`), never a collection's name or part of one"
                ));
            }
        }
        Ok(Some(CollectionPattern { segs }))
    }

    /// The collection id every matched collection has (the last segment).
    pub fn collection_id(&self) -> &str {
        self.segs.last().map(String::as_str).unwrap_or_default()
    }

    /// The deepest document path before the first `*` ("" for the root): where a
    /// collection-group read starts.
    pub fn parent_document(&self) -> String {
        let first = self.segs.iter().position(|s| s == "*").unwrap_or(0);
        self.segs[..first - first % 2].join("/")
    }

    /// The segments as SQLite GLOB patterns: `*` as is, literal ones with `*`, `?` and `[`
    /// bracketed.
    pub fn glob_segments(&self) -> Vec<String> {
        self.segs
            .iter()
            .map(|s| match s.as_str() {
                "*" => "*".to_string(),
                lit => lit
                    .chars()
                    .map(|c| if matches!(c, '*' | '?' | '[') { format!("[{c}]") } else { c.to_string() })
                    .collect(),
            })
            .collect()
    }

    /// Whether a document at `doc_path` is in one of the collections.
    pub fn holds(&self, doc_path: &str) -> bool {
        let parts: Vec<&str> = doc_path.split('/').collect();
        parts.len() == self.segs.len() + 1 && self.segs.iter().zip(&parts).all(|(s, p)| s == "*" || s == p)
    }

    /// The conversation name of a document in one of the collections.
    pub fn id_of(&self, doc_path: &str) -> Option<String> {
        if !self.holds(doc_path) {
            return None;
        }
        let parts: Vec<&str> = doc_path.split('/').collect();
        let mut id: Vec<&str> = self.segs.iter().zip(&parts).filter(|(s, _)| *s == "*").map(|(_, p)| *p).collect();
        id.push(parts[parts.len() - 1]);
        Some(id.join("/"))
    }

    /// The document path of a conversation name ([`id_of`](Self::id_of) reversed).
    pub fn path_of(&self, id: &str) -> Option<String> {
        let mut parts = id.split('/');
        let mut out: Vec<&str> = Vec::with_capacity(self.segs.len() + 1);
        for s in &self.segs {
            out.push(if s == "*" { parts.next().filter(|p| !p.is_empty())? } else { s });
        }
        out.push(parts.next().filter(|p| !p.is_empty())?);
        parts.next().is_none().then(|| out.join("/"))
    }
}
