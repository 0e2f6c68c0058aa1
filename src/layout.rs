//! Where conversations live and how they were written: memscope's own layout, or what a
//! framework wrote (`[profile.X.layout] preset`). One reader per layout gives the Conversations
//! tab and `memscope conversations` / `show` the same [`Conversation`]s and [`Message`]s.
//! What a layout cannot know (message ids, timestamps, users) stays empty and is said so; the
//! trace, badges and audit check memscope's layout only and say "not checked" under another.

use crate::config::{Encoding, KeyTemplate, LayoutConfig, LayoutPreset, MessagesIn};
use crate::domain::{
    CacheOp, CacheReply, ConvFilter, Conversation, Cursor, Document, FsValue, Key, Message, Page, ToolCall, Ts, TsForm,
};
use crate::error::StoreError;
use crate::store::{KeyStore, KeyspaceScan, LongTermStore, ThreadPlace};
use serde_json::Value;
use std::sync::Arc;

/// Conversations and their messages, as one layout stores them.
#[async_trait::async_trait]
pub trait ConversationReader: Send + Sync {
    fn preset(&self) -> LayoutPreset;
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError>;
    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError>;
    /// Messages in the order they were written.
    async fn messages(
        &self,
        conversation: &str,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError>;
    /// A checkpointing layout's earlier states of a thread, newest first: (checkpoint id, time,
    /// messages); [`checkpoint`](Self::checkpoint) opens one. `None`: this layout keeps no
    /// history.
    async fn checkpoints(&self, _thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        Ok(None)
    }
    /// One earlier state of a thread, by checkpoint id (the thread id is taken whole: any `@`
    /// or `:` in it is its own). `None`: this layout keeps no history.
    async fn checkpoint(&self, _thread: &str, _id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        Ok(None)
    }
    /// What the last listing or count passed over and why ("passed over 3 lists under `*` that
    /// hold no LlamaIndex messages"), for the list to say beside its count.
    fn left_out(&self) -> Option<String> {
        None
    }
}

/// The reader of a layout over the stores it needs (a Redis layout needs Redis only); with a
/// second source (`[profile.X.layout.recent]`), both combined.
pub fn reader(
    layout: &LayoutConfig,
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Arc<dyn ConversationReader>, StoreError> {
    let first = one_reader(layout, long_term.clone(), redis.clone())?;
    let inner: Arc<dyn ConversationReader> = match &layout.recent {
        Some(r) => Arc::new(Combined { first, second: one_reader(r, long_term, redis)? }),
        None => first,
    };
    Ok(Arc::new(TitleSearch(inner)))
}

fn one_reader(
    layout: &LayoutConfig,
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Arc<dyn ConversationReader>, StoreError> {
    let need = |what: &str| {
        StoreError::NotConfigured(format!(
            "layout preset \"{}\" (messages in \"{}\") reads {what}",
            layout.preset.name(),
            layout.messages_in.name()
        ))
    };
    let l = layout.clone();
    let inner: Arc<dyn ConversationReader> = match layout.messages_in {
        MessagesIn::Memscope => Arc::new(Memscope(long_term.ok_or_else(|| need("the long-term store"))?)),
        MessagesIn::Array => Arc::new(FirestoreArray {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            cache: Default::default(),
        }),
        MessagesIn::Subcollection => Arc::new(FirestoreDocs {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            time_fields: Default::default(),
            cache: Default::default(),
        }),
        MessagesIn::FirestoreCheckpoints => Arc::new(FirestoreCheckpoints {
            store: long_term.ok_or_else(|| need("the long-term store (Firestore)"))?,
            layout: l,
            cache: Default::default(),
        }),
        MessagesIn::List => {
            Arc::new(RedisList { redis: redis.ok_or_else(|| need("Redis"))?, layout: l, passed: Default::default() })
        }
        MessagesIn::Keys => {
            let template = KeyTemplate::parse(&l.key_template).map_err(StoreError::Other)?;
            Arc::new(KeyPerMessage {
                redis: redis.ok_or_else(|| need("Redis"))?,
                layout: l,
                template,
                cache: Default::default(),
            })
        }
        MessagesIn::RedisDocument => {
            Arc::new(RedisDocument { redis: redis.ok_or_else(|| need("Redis"))?, layout: l, cache: Default::default() })
        }
        MessagesIn::RedisCheckpoints => Arc::new(Checkpoints {
            redis: redis.ok_or_else(|| need("Redis"))?,
            layout: l,
            cache: Default::default(),
            folded: Default::default(),
        }),
    };
    Ok(inner)
}

/// Two sources in one profile (long-term from one framework, recent messages from another):
/// the first's conversations, then the second's that the first does not hold; a thread from
/// the first, or from the second when the first has none. Each conversation's `doc.path` says
/// where it is stored.
struct Combined {
    first: Arc<dyn ConversationReader>,
    second: Arc<dyn ConversationReader>,
}

/// The second source's part of a combined listing: its cursor wraps the second's.
const SECOND: &str = "\u{1}second";

impl Combined {
    /// The first source holds this conversation (it has at least one message).
    async fn first_holds(&self, id: &str) -> bool {
        self.first.messages(id, None, 1).await.is_ok_and(|p| !p.items.is_empty())
    }

    fn second_cursor(c: Option<Cursor>) -> Cursor {
        Cursor::After {
            values: vec![FsValue::String(SECOND.into())],
            path: serde_json::to_string(&c.map(cursor_json)).unwrap_or_default(),
        }
    }

    fn in_second(after: Option<&Cursor>) -> Option<Option<Cursor>> {
        match after {
            Some(Cursor::After { values, path }) if values.first().and_then(FsValue::as_str) == Some(SECOND) => {
                Some(serde_json::from_str::<Option<Value>>(path).ok().flatten().and_then(cursor_of_json))
            }
            _ => None,
        }
    }
}

/// The cursors a second source can have (its own layouts' ids and positions), as JSON.
fn cursor_json(c: Cursor) -> Value {
    match c {
        Cursor::Absent { after } => serde_json::json!({"absent": after}),
        Cursor::After { values, path } => serde_json::json!({
            "after": path,
            "token": values.first().and_then(FsValue::as_str),
        }),
        Cursor::Merged { .. } => Value::Null,
        Cursor::Phantoms(at) => serde_json::json!({"phantoms": at.map(|c| cursor_json(*c))}),
    }
}

fn cursor_of_json(v: Value) -> Option<Cursor> {
    if let Some(a) = v.get("absent") {
        return Some(Cursor::Absent { after: a.as_str().map(str::to_string) });
    }
    if let Some(p) = v.get("phantoms") {
        return Some(Cursor::Phantoms(cursor_of_json(p.clone()).map(Box::new)));
    }
    let path = v.get("after")?.as_str()?.to_string();
    let values = v.get("token").and_then(Value::as_str).map(|t| vec![FsValue::String(t.into())]).unwrap_or_default();
    Some(Cursor::After { values, path })
}

#[async_trait::async_trait]
impl ConversationReader for Combined {
    fn preset(&self) -> LayoutPreset {
        self.first.preset()
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let mut items = Vec::new();
        let mut second_after = match Self::in_second(after) {
            Some(c) => c,
            None => {
                let page = self.first.conversations(filter, after, limit).await?;
                if page.next.is_some() {
                    return Ok(page);
                }
                items = page.items;
                None
            }
        };
        // The second source, without what the first holds, until the page is full.
        loop {
            let page = self.second.conversations(filter, second_after.as_ref(), limit).await?;
            for c in page.items {
                if !self.first_holds(&c.id).await {
                    items.push(c);
                }
            }
            match page.next {
                Some(n) if items.len() < limit as usize => second_after = Some(n),
                Some(n) => return Ok(Page { items, next: Some(Self::second_cursor(Some(n))) }),
                None => return Ok(Page { items, next: None }),
            }
        }
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let mut n = self.first.count(filter).await?;
        let mut after = None;
        loop {
            let page = self.second.conversations(filter, after.as_ref(), 500).await?;
            for c in &page.items {
                n += u64::from(!self.first_holds(&c.id).await);
            }
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        match self.first.messages(c, after, limit).await {
            Ok(p) if !p.items.is_empty() => Ok(p),
            first => match self.second.messages(c, after, limit).await {
                Ok(p) => Ok(p),
                Err(e) => first.map_err(|f| StoreError::Other(format!("{f}; {e}"))),
            },
        }
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        match self.first.checkpoints(thread).await? {
            Some(c) => Ok(Some(c)),
            None => self.second.checkpoints(thread).await,
        }
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        match self.first.checkpoint(thread, id).await? {
            Some(c) => Ok(Some(c)),
            None => self.second.checkpoint(thread, id).await,
        }
    }

    fn left_out(&self) -> Option<String> {
        match (self.first.left_out(), self.second.left_out()) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        }
    }
}

/// A title search (case-insensitive substring, `ConvFilter::TitleContains`) over any layout:
/// no store can query a substring, so newest-first pages of everything are read and filtered,
/// at most `SEARCH_SCAN` conversations a call; the order stays the layout's, and the cursor
/// continues where the scan stopped (a page may be short: the list says "+" while more exist).
struct TitleSearch(Arc<dyn ConversationReader>);

/// Conversations read per call of a title search.
pub const SEARCH_SCAN: usize = 2_000;

fn title_matches(c: &Conversation, q: &str) -> bool {
    c.title.as_deref().is_some_and(|t| t.to_lowercase().contains(q)) || c.id.to_lowercase().contains(q)
}

#[async_trait::async_trait]
impl ConversationReader for TitleSearch {
    fn preset(&self) -> LayoutPreset {
        self.0.preset()
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ConvFilter::TitleContains(q) = filter else { return self.0.conversations(filter, after, limit).await };
        let q = q.to_lowercase();
        let (mut items, mut cursor, mut scanned) = (Vec::new(), after.cloned(), 0usize);
        loop {
            let page = self.0.conversations(&ConvFilter::All, cursor.as_ref(), 200).await?;
            scanned += page.items.len();
            items.extend(page.items.into_iter().filter(|c| title_matches(c, &q)));
            cursor = page.next;
            if cursor.is_none() || items.len() >= limit as usize || scanned >= SEARCH_SCAN {
                return Ok(Page { items, next: cursor });
            }
        }
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let ConvFilter::TitleContains(q) = filter else { return self.0.count(filter).await };
        let q = q.to_lowercase();
        let (mut n, mut cursor) = (0u64, None);
        loop {
            let page = self.0.conversations(&ConvFilter::All, cursor.as_ref(), 500).await?;
            n += page.items.iter().filter(|c| title_matches(c, &q)).count() as u64;
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        self.0.messages(c, after, limit).await
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        self.0.checkpoints(thread).await
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        self.0.checkpoint(thread, id).await
    }

    fn left_out(&self) -> Option<String> {
        self.0.left_out()
    }
}

/// The trace, the tier badges and the audit check memscope's own layout (a message with one id
/// in every tier); under another they are not checked, and say so (never a false "clean").
pub fn cross_tier_checks(layout: &LayoutConfig) -> Result<(), StoreError> {
    if layout.is_memscopes_own() {
        return Ok(());
    }
    let what = if layout.preset == LayoutPreset::Memscope {
        "this profile renames memscope's layout".to_string()
    } else {
        format!("layout preset \"{}\" keeps no message ids across tiers", layout.preset.name())
    };
    Err(StoreError::NotConfigured(format!(
        "not checked: {what}, and the trace, tier badges and audit follow memscope's own layout (preset = \"memscope\", no overrides)"
    )))
}

/// memscope's own layout: the long-term store's conversations and messages.
struct Memscope(Arc<dyn LongTermStore>);

#[async_trait::async_trait]
impl ConversationReader for Memscope {
    fn preset(&self) -> LayoutPreset {
        LayoutPreset::Memscope
    }
    /// The documents, then the conversations whose messages have no document (Firestore's
    /// "missing" parents; a query never returns them), by id. Those have no fields: they are
    /// listed when the filter can match them (all, or an id prefix).
    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let phantoms_match = matches!(filter, ConvFilter::All | ConvFilter::IdPrefix(_));
        if let Some(Cursor::Phantoms(at)) = after {
            return self.phantoms(filter, at.as_deref(), limit).await;
        }
        let page = self.0.conversations(filter, after, limit).await?;
        if page.next.is_none() && phantoms_match {
            return Ok(Page { items: page.items, next: Some(Cursor::Phantoms(None)) });
        }
        Ok(page)
    }
    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        self.0.count_conversations(filter).await
    }
    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        self.0.messages(c, after, limit).await
    }
}

impl Memscope {
    /// A page of the conversations that have messages but no document, browsed by id from `at`.
    async fn phantoms(
        &self,
        filter: &ConvFilter,
        at: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let mut items = Vec::new();
        let mut at = at.cloned();
        loop {
            let page = self.0.browse_documents("conversations", at.as_ref(), 300).await?;
            for d in page.items {
                let phantom = d.fields.is_empty() && d.update_time.is_none();
                let wanted = match filter {
                    ConvFilter::IdPrefix(p) => d.id().starts_with(p.as_str()),
                    _ => true,
                };
                if phantom && wanted {
                    items.push(Conversation::from_doc(d));
                }
            }
            at = page.next;
            if at.is_none() || items.len() >= limit as usize {
                break;
            }
        }
        Ok(Page { items, next: at.map(|c| Cursor::Phantoms(Some(Box::new(c)))) })
    }
}

/// The role names frameworks write, as memscope shows them.
pub fn role_of(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "human" | "user" | "humanmessage" | "humanmessagechunk" => "user",
        "ai" | "assistant" | "llm" | "chatbot" | "model" | "aimessage" | "aimessagechunk" => "assistant",
        "system" | "systemmessage" => "system",
        "tool" | "function" | "toolmessage" | "functionmessage" => "tool",
        "" => "?",
        other => return other.to_string(),
    }
    .to_string()
}

/// Text of a `content` that is a string or a list of blocks (`{"type":"text","text":…}`,
/// LlamaIndex's `{"block_type":"text","text":…}`; a thinking block's text marked as such);
/// tool-call blocks are left to [`tool_calls_of`]; other blocks are named.
fn content_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| match b {
                Value::String(s) => Some(s.clone()),
                _ => {
                    let kind = b.get("type").or_else(|| b.get("block_type")).and_then(Value::as_str);
                    match (kind, b.get("text").and_then(Value::as_str)) {
                        (Some("tool_call" | "tool_use"), _) => None,
                        (Some("thinking"), t) => {
                            let t = t.or_else(|| b.get("thinking").and_then(Value::as_str));
                            let t = t.or_else(|| b.get("content").and_then(Value::as_str));
                            Some(format!("(thinking) {}", t.unwrap_or("")))
                        }
                        (_, Some(t)) => Some(t.to_string()),
                        (kind, None) => Some(format!("[{} block]", kind.unwrap_or("unknown"))),
                    }
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The tool calls of a message body, in the forms frameworks store them: LangChain's
/// `tool_calls` (`{name, args, id}`); else OpenAI's (`additional_kwargs.tool_calls`,
/// `{id, function: {name, arguments}}` with the arguments a JSON string), which LangChain
/// keeps beside its own; and LlamaIndex 0.14's `tool_call` blocks (`{tool_name, tool_kwargs,
/// tool_call_id}`) or Anthropic's `tool_use` blocks (`{name, input, id}`).
fn tool_calls_of(body: &Value) -> Vec<ToolCall> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    // Arguments given as a JSON string are read as the JSON they hold.
    let args = |v: Option<&Value>| match v {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let mut out: Vec<ToolCall> = Vec::new();
    let langchain = body.get("tool_calls").and_then(Value::as_array).filter(|a| !a.is_empty());
    let openai = || body.pointer("/additional_kwargs/tool_calls").and_then(Value::as_array);
    if let Some(calls) = langchain {
        out.extend(calls.iter().map(|c| ToolCall {
            name: text(c.get("name")),
            args: args(c.get("args")),
            id: text(c.get("id")),
        }));
    } else if let Some(calls) = openai() {
        out.extend(calls.iter().map(|c| ToolCall {
            name: text(c.pointer("/function/name").or_else(|| c.get("name"))),
            args: args(c.pointer("/function/arguments").or_else(|| c.get("args"))),
            id: text(c.get("id")),
        }));
    }
    for key in ["blocks", "content"] {
        for b in body.get(key).and_then(Value::as_array).into_iter().flatten() {
            let kind = b.get("type").or_else(|| b.get("block_type")).and_then(Value::as_str);
            match kind {
                Some("tool_call") => out.push(ToolCall {
                    name: text(b.get("tool_name").or_else(|| b.get("name"))),
                    args: args(b.get("tool_kwargs").or_else(|| b.get("args"))),
                    id: text(b.get("tool_call_id").or_else(|| b.get("id"))),
                }),
                Some("tool_use") if langchain.is_none() => {
                    out.push(ToolCall { name: text(b.get("name")), args: args(b.get("input")), id: text(b.get("id")) })
                }
                _ => {}
            }
        }
    }
    out
}

/// A message as the frameworks store it, decoded.
struct Decoded {
    /// The role as stored (`human`, `ai`, `assistant`, a class name…).
    ty: String,
    /// The text, with a line per tool call and a tool result's link to its call.
    content: String,
    tool_calls: Vec<ToolCall>,
    tool_call_id: Option<String>,
}

/// One stored message (JSON): LangChain's serialised messages (flat, `{type, data}` or the
/// `lc` constructor form, with tool calls and tool results), LlamaIndex's `{role, blocks}`
/// (tool calls in `additional_kwargs` or blocks, results linked by `tool_call_id`); anything
/// else is shown raw (never dropped).
fn decode_value(v: &Value) -> Decoded {
    if !v.is_object() {
        let content = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        return Decoded { ty: String::new(), content, tool_calls: Vec::new(), tool_call_id: None };
    }
    // LangChain's constructor form: {"lc":1,"type":"constructor","id":[…,"HumanMessage"],"kwargs":{…}}.
    let (ty, body) = if v.get("lc").is_some() && v.get("type").and_then(Value::as_str) == Some("constructor") {
        let class = v.get("id").and_then(Value::as_array).and_then(|a| a.last()).and_then(Value::as_str);
        let kw = v.get("kwargs").unwrap_or(&Value::Null);
        (kw.get("type").and_then(Value::as_str).or(class).unwrap_or("").to_string(), kw)
    } else if let Some(data) = v.get("data").filter(|d| d.is_object()) {
        (v.get("type").and_then(Value::as_str).unwrap_or("").to_string(), data)
    } else {
        (v.get("type").or_else(|| v.get("role")).and_then(Value::as_str).unwrap_or("").to_string(), v)
    };
    let mut content = match body.get("blocks") {
        Some(b @ Value::Array(_)) => content_text(Some(b)),
        _ => content_text(body.get("content")),
    };
    let tool_calls = tool_calls_of(body);
    for c in &tool_calls {
        content.push_str(&format!("\n→ tool call {}({}) {}", c.name, c.args, c.id));
    }
    let tool_call_id = body
        .get("tool_call_id")
        .or_else(|| body.pointer("/additional_kwargs/tool_call_id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if role_of(&ty) == "tool"
        && let Some(id) = &tool_call_id
    {
        content = format!("← result of {id}: {content}");
    }
    Decoded { ty, content: content.trim_start_matches('\n').to_string(), tool_calls, tool_call_id }
}

/// One stored message (JSON bytes) as (role, content), the frameworks' way; bytes that are not
/// JSON are shown raw.
pub fn decode_message(raw: &[u8]) -> (String, String) {
    match serde_json::from_slice::<Value>(raw) {
        Ok(v) => {
            let d = decode_value(&v);
            (role_of(&d.ty), d.content)
        }
        Err(_) => ("?".into(), String::from_utf8_lossy(raw).into_owned()),
    }
}

/// A part of a stored message by a dot path (`data.content`, `metadata.role`, `blocks.0.text`);
/// a JSON string met on the way (mem0's `metadata`) is parsed.
fn at_path(v: &Value, path: &str) -> Option<Value> {
    // Alternatives (`content|text`, from a list in the profile): the first that is there.
    if path.contains('|') {
        return path.split('|').find_map(|p| at_path(v, p.trim()));
    }
    let (seg, rest) = match path.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    };
    let next = match v {
        Value::Object(m) => m.get(seg).cloned(),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)).cloned(),
        Value::String(s) => return serde_json::from_str::<Value>(s).ok().and_then(|p| at_path(&p, path)),
        _ => None,
    }?;
    match rest {
        None => Some(next),
        Some(r) => at_path(&next, r),
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A stored time: a Timestamp's RFC 3339 text, an ISO string, or Unix seconds (ms/µs told
/// apart by size) as a number or a numeric string.
fn ts_of(v: &Value) -> Option<Ts> {
    match v {
        Value::Number(n) => n.as_f64().and_then(Ts::from_unix_number),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(n) => Ts::from_unix_number(n),
            Err(_) => Ts::parse(s),
        },
        _ => None,
    }
}

/// What a layout reads of one stored message.
struct Parts {
    role: String,
    content: String,
    id: Option<String>,
    ts: Option<Ts>,
    /// How the stored time is written (an ISO string, or a Unix number).
    ts_form: TsForm,
    user: Option<String>,
    tool_calls: Vec<ToolCall>,
    tool_call_id: Option<String>,
}

/// The parts of a stored message: by the layout's field paths where it names them, else the
/// frameworks' way; role names through the layout's role map.
fn parts(l: &LayoutConfig, v: &Value) -> Parts {
    let f = &l.fields;
    let Decoded { ty, content: auto_content, tool_calls, tool_call_id } = decode_value(v);
    let get = |p: &Option<String>| p.as_deref().and_then(|p| at_path(v, p));
    let raw_role = match &f.role {
        Some(_) => get(&f.role).and_then(|r| text_of(&r)).unwrap_or_default(),
        None => ty,
    };
    let role = l.roles.get(&raw_role.to_lowercase()).cloned().unwrap_or_else(|| role_of(&raw_role));
    let content = match (&f.content, get(&f.content)) {
        (Some(_), Some(c)) => content_text(Some(&c)),
        // Never an empty body for a near miss: the text is under a field this layout does not
        // read (`text` where it reads `content`) — say so, with the fields the message has.
        (Some(field), None) => missing_text(v, field),
        (None, _) if auto_content.is_empty() && tool_calls.is_empty() && !has_text_field(v) && v.is_object() => {
            missing_text(v, "content")
        }
        (None, _) => auto_content,
    };
    // Ids the frameworks keep: LangChain's `id` (flat, in `data` or in the constructor's kwargs).
    let id = match &f.id {
        Some(_) => get(&f.id).and_then(|x| text_of(&x)),
        None => ["/kwargs/id", "/data/id", "/id"]
            .iter()
            .find_map(|p| v.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)),
    };
    Parts {
        role,
        content,
        id,
        ts_form: match get(&f.timestamp) {
            Some(Value::String(t)) if t.trim().parse::<f64>().is_err() => TsForm::IsoString,
            _ => TsForm::UnixNumber,
        },
        ts: get(&f.timestamp).as_ref().and_then(ts_of),
        user: get(&f.user).and_then(|x| text_of(&x)),
        tool_calls,
        tool_call_id,
    }
}

/// Whether a stored message has a field the frameworks keep its text in (flat, in `data`, in
/// an `lc` constructor's `kwargs`), even an empty one.
fn has_text_field(v: &Value) -> bool {
    ["/content", "/blocks", "/data/content", "/kwargs/content", "/text"].iter().any(|p| v.pointer(p).is_some())
}

/// The marker of a message whose text is not where the layout reads it, naming its fields.
fn missing_text(v: &Value, field: &str) -> String {
    let fields: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    format!(
        "⟨no `{}` in this message — its fields: {}; set content_field to the one holding the text⟩",
        field.replace('|', "` or `"),
        if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
    )
}

/// One stored item (a list element, an array item) as JSON, by the layout's encoding; what
/// cannot be decoded stays a string, shown raw.
fn decode_item(l: &LayoutConfig, raw: &[u8]) -> Value {
    if l.encoding == Encoding::MsgpackBase64 {
        let decoded = std::str::from_utf8(raw).ok().and_then(crate::msgpack::from_base64);
        if let Some(v) = decoded.or_else(|| crate::msgpack::decode(raw)) {
            return v;
        }
    }
    serde_json::from_slice(raw).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

/// A message from its stored JSON; `fallback_id` and `fallback_ts` where the message has none.
fn message_of(l: &LayoutConfig, path: String, fallback_id: String, fallback_ts: Option<Ts>, v: &Value) -> Message {
    let p = parts(l, v);
    // The stored time, unless the key or mem0's history knows the same second more finely.
    let timestamp = match (p.ts, fallback_ts) {
        (Some(s), Some(f)) if s.nanos == 0 && f.secs == s.secs => Some(f),
        (s, f) => s.or(f),
    };
    Message {
        id: p.id.unwrap_or(fallback_id),
        role: p.role,
        content: p.content,
        timestamp,
        // The form the time is stored in; a time the key or a history gives is a Unix number.
        ts_form: match (p.ts, timestamp) {
            (_, None) => TsForm::Missing,
            (Some(s), Some(t)) if s == t => p.ts_form,
            _ => TsForm::UnixNumber,
        },
        user_id: p.user,
        tool_calls: p.tool_calls,
        tool_call_id: p.tool_call_id,
        doc: Document {
            path,
            fields: vec![(
                "stored".into(),
                FsValue::String(match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
            )],
            update_time: None,
        },
    }
}

/// A message the layout stores without an id: its position is its id.
fn positional(l: &LayoutConfig, path: &str, i: usize, v: &Value) -> Message {
    message_of(l, format!("{path}#{}", i + 1), format!("#{:05}", i + 1), None, v)
}

/// The thread read last by a reader that reads a thread whole (one document, one checkpoint,
/// or every key of a session): the pages after the first come from it, not from the store.
#[derive(Default)]
struct ThreadCache<T>(tokio::sync::Mutex<Option<(String, std::time::Instant, Arc<T>)>>);

/// How long a thread read whole serves its later pages: a thread's pages are asked for one
/// after the other; a live refresh seconds later reads the store again.
const THREAD_CACHE_MS: u128 = 2_000;

impl<T> ThreadCache<T> {
    /// The thread `c`: cached when this is a later page of the thread read last, moments ago;
    /// else loaded.
    async fn get<F>(&self, c: &str, later_page: bool, load: F) -> Result<Arc<T>, StoreError>
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

/// The title a conversation is listed with: its first message, cut.
fn title_of(m: &Message) -> String {
    m.content.chars().take(80).collect()
}

/// How many of a thread's first messages a listing reads for its title.
const TITLE_LOOK: usize = 3;

/// The title of a thread from its first messages: the first that is not a system prompt (a
/// prompt every conversation shares says nothing of this one), else the first.
fn title_from(first: &[Message]) -> Option<String> {
    first.iter().find(|m| m.role != "system").or(first.first()).map(title_of)
}

/// Where a page of sorted conversation ids starts: after the id the cursor names.
fn start_after<S: AsRef<str>>(ids: &[S], after: Option<&Cursor>) -> usize {
    match after {
        Some(Cursor::Absent { after: Some(last) }) => ids.partition_point(|i| i.as_ref() <= last.as_str()),
        _ => 0,
    }
}

/// The cursor after a page of sorted ids that ended at `end` of `n`, on the id `last`.
fn cursor_after(end: usize, n: usize, last: Option<&String>) -> Option<Cursor> {
    (end < n).then(|| Cursor::Absent { after: last.cloned() })
}

/// Conversations newest first, where a layout stores a time (those without one last, by id), as
/// *order keys* that sort in listing order: a fixed-width rank, `\x1f`, the id. A page cursor
/// is the last order key ([`start_after`] works on them unchanged), so paging holds while
/// conversations come and go.
fn newest_first(items: impl IntoIterator<Item = (String, Option<i64>)>) -> Vec<String> {
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
fn id_of_order_key(k: &str) -> &str {
    k.split_once('\x1f').map_or(k, |(_, id)| id)
}

/// Milliseconds since 1970 of a time-ordered UUID (version 6, LangGraph's checkpoint ids, or
/// version 1: 100 ns intervals since 1582-10-15) or a UUIDv7; None for any other id.
fn uuid_time_ms(id: &str) -> Option<i64> {
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
fn id_filter(preset: LayoutPreset, filter: &ConvFilter) -> Result<Option<String>, StoreError> {
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
fn keeps(filter: &ConvFilter, c: &Conversation) -> bool {
    match filter {
        ConvFilter::All | ConvFilter::TitleContains(_) => true,
        ConvFilter::IdPrefix(p) => c.id.starts_with(p.as_str()),
        ConvFilter::User(u) => c.user_id.as_deref() == Some(u.as_str()),
        ConvFilter::Agent(a) => c.agent_id.as_deref() == Some(a.as_str()),
        ConvFilter::TitlePrefix(p) => c.title.as_deref().is_some_and(|t| t.starts_with(p.as_str())),
    }
}

/// A message position in a one-page thread's cursor.
fn position(after: Option<&Cursor>, len: usize) -> usize {
    match after {
        Some(Cursor::Absent { after: Some(n) }) => n.parse::<usize>().unwrap_or(len),
        _ => 0,
    }
}

/// A page of an ordered thread read whole: `[from, from + limit)` and the cursor after it.
fn page_of(all: &[Message], after: Option<&Cursor>, limit: u32) -> Page<Message> {
    let from = position(after, all.len()).min(all.len());
    let to = (from + limit.max(1) as usize).min(all.len());
    Page {
        items: all[from..to].to_vec(),
        next: (to < all.len()).then(|| Cursor::Absent { after: Some(to.to_string()) }),
    }
}

/// A page of conversations that are documents of a collection (`browse`: with the documents
/// that do not exist but hold subcollections), filtered.
async fn documents_as_conversations(
    store: &dyn LongTermStore,
    collection: &str,
    browse: bool,
    filter: &ConvFilter,
    after: Option<&Cursor>,
    limit: u32,
    to: impl Fn(Document) -> Conversation,
) -> Result<Page<Conversation>, StoreError> {
    let page = match crate::domain::CollectionPattern::parse(collection).map_err(StoreError::Other)? {
        Some(pattern) => store.group_documents(&pattern, after, limit).await?,
        None if browse => store.browse_documents(collection, after, limit).await?,
        None => store.documents(collection, after, limit).await?,
    };
    let items = page.items.into_iter().map(to).filter(|c| keeps(filter, c)).collect();
    Ok(Page { items, next: page.next })
}

/// A conversation's name: its document's id, or under a collection pattern (`users/*/chats`)
/// its `*` segments and id (`u-42/s1`).
fn conversation_id(collection: &str, doc: &Document) -> String {
    match crate::domain::CollectionPattern::parse(collection) {
        Ok(Some(p)) => p.id_of(&doc.path).unwrap_or_else(|| doc.path.clone()),
        _ => doc.id().to_string(),
    }
}

/// The document path of a conversation ([`conversation_id`] reversed).
fn conversation_path(collection: &str, id: &str) -> Result<String, StoreError> {
    match crate::domain::CollectionPattern::parse(collection).map_err(StoreError::Other)? {
        Some(p) => p.path_of(id).ok_or_else(|| {
            StoreError::Other(format!(
                "`{id}` names no conversation under `{collection}`: one `/`-separated part per `*`, then the document id"
            ))
        }),
        None => Ok(format!("{collection}/{id}")),
    }
}

/// How many conversations of a collection pass the filter (read page after page).
async fn count_conversations_in(
    store: &dyn LongTermStore,
    collection: &str,
    browse: bool,
    filter: &ConvFilter,
    to: impl Fn(Document) -> Conversation,
) -> Result<u64, StoreError> {
    let (mut n, mut after) = (0u64, None);
    loop {
        let page = documents_as_conversations(store, collection, browse, filter, after.as_ref(), 300, &to).await?;
        n += page.items.len() as u64;
        match page.next {
            Some(c) => after = Some(c),
            None => return Ok(n),
        }
    }
}

/// langchain-google-firestore (and any layout keeping a thread in an array field): one
/// document per session, its messages JSON (bytes or strings), msgpack or maps; no ids, no
/// timestamps unless the layout names them.
struct FirestoreArray {
    store: Arc<dyn LongTermStore>,
    layout: LayoutConfig,
    cache: ThreadCache<Vec<Message>>,
}

impl FirestoreArray {
    fn items(&self, doc: &Document) -> Vec<Value> {
        match doc.get(&self.layout.messages_field) {
            Some(FsValue::Array(a)) => a
                .iter()
                .map(|v| match v {
                    FsValue::Bytes(b) => decode_item(&self.layout, b),
                    FsValue::String(s) => decode_item(&self.layout, s.as_bytes()),
                    FsValue::Map(m) => crate::domain::fields_json(m),
                    other => other.to_json(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn conversation(&self, doc: Document) -> Conversation {
        let path = doc.path.clone();
        let items = self.items(&doc);
        let heads: Vec<Message> =
            items.iter().take(TITLE_LOOK).enumerate().map(|(i, m)| positional(&self.layout, &path, i, m)).collect();
        let first = heads.first();
        let fields = crate::domain::fields_json(&doc.fields);
        let get = |p: &Option<String>| p.as_deref().and_then(|p| at_path(&fields, p)).and_then(|v| text_of(&v));
        Conversation {
            id: conversation_id(&self.layout.collection, &doc),
            title: title_from(&heads),
            user_id: get(&self.layout.fields.user).or_else(|| first.and_then(|m| m.user_id.clone())),
            agent_id: get(&self.layout.fields.agent),
            created_at: None,
            updated_at: doc.update_time,
            message_count: Some(items.len() as i64),
            doc,
        }
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreArray {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let to = |d| self.conversation(d);
        documents_as_conversations(&*self.store, &self.layout.collection, false, filter, after, limit, to).await
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        count_conversations_in(&*self.store, &self.layout.collection, false, filter, |d| self.conversation(d)).await
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self
            .cache
            .get(c, after.is_some(), async {
                let path = conversation_path(&self.layout.collection, c)?;
                let Some(doc) = self.store.document(&path).await? else {
                    return Err(StoreError::Other(format!("no document {path}")));
                };
                Ok(self.items(&doc).iter().enumerate().map(|(i, v)| positional(&self.layout, &path, i, v)).collect())
            })
            .await?;
        Ok(page_of(&all, after, limit))
    }
}

/// A Redis list per conversation: langchain-community (`message_store:{session}`, LPUSH: newest
/// first) or LlamaIndex (a caller-chosen key, RPUSH: oldest first, text in blocks).
struct RedisList {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
    /// Lists the last scan passed over: their items are not this library's messages.
    passed: std::sync::Mutex<Option<u64>>,
}

impl RedisList {
    fn key(&self, id: &str) -> Key {
        format!("{}{id}", self.layout.key_prefix).into_bytes().into()
    }

    /// Every conversation id (the list keys matching the glob whose first item is a message
    /// of the layout's library: job queues and other libraries' lists are passed over, and
    /// counted), sorted.
    async fn ids(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        // An id prefix narrows the keys; the other filters (user, title) are kept page by page.
        let prefix = match filter {
            ConvFilter::IdPrefix(p) => Some(p.clone()),
            _ => None,
        };
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some("list"), 1000).await?;
        let mut out = Vec::new();
        let mut passed = 0u64;
        while let Some(page) = scan.next_page().await {
            let ids: Vec<String> = page?
                .keys
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .map(|k| k.strip_prefix(&self.layout.key_prefix).unwrap_or(&k).to_string())
                .filter(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let ops: Vec<CacheOp> =
                ids.iter().map(|id| CacheOp::LRange { key: self.key(id), start: 0, stop: 0 }).collect();
            let firsts = self.redis.exec(&ops).await?;
            for (id, first) in ids.into_iter().zip(firsts) {
                match first {
                    CacheReply::Items(v) if v.first().is_some_and(|m| is_list_message(&self.layout, m)) => out.push(id),
                    // Gone since the scan: neither a conversation nor passed over.
                    CacheReply::Items(v) if v.is_empty() => {}
                    _ => passed += 1,
                }
            }
        }
        out.sort();
        out.dedup(); // SCAN may return a key twice
        *self.passed.lock().unwrap_or_else(|e| e.into_inner()) = Some(passed);
        Ok(out)
    }
}

/// Whether a list item is a message of the layout's library: LangChain's `{type, data}`,
/// LlamaIndex's `{role, blocks}` (`content` before 0.12), or an object with the fields a
/// profile names. Under a layout whose names the profile changed, either library's message
/// is (the decoders read both). A conversation's list is judged by its first item.
fn is_list_message(l: &LayoutConfig, raw: &[u8]) -> bool {
    let v = decode_item(l, raw);
    let Some(o) = v.as_object() else { return false };
    let named = |f: &Option<String>| f.as_deref().map(|f| o.contains_key(f.split('.').next().unwrap_or(f)));
    let langchain = o.contains_key("type") && o.contains_key("data");
    let llamaindex = o.contains_key("role") && (o.contains_key("blocks") || o.contains_key("content"));
    match (named(&l.fields.role), named(&l.fields.content)) {
        (Some(a), Some(b)) => a || b,
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) if l.overridden => langchain || llamaindex,
        (None, None) => match l.preset {
            LayoutPreset::LangchainRedisList => langchain,
            LayoutPreset::LlamaindexRedis => llamaindex,
            _ => langchain || llamaindex,
        },
    }
}

#[async_trait::async_trait]
impl ConversationReader for RedisList {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ids = self.ids(filter).await?;
        let start = start_after(&ids, after);
        let page: Vec<String> = ids[start..].iter().take(limit as usize).cloned().collect();
        // Length and first messages (the oldest: the list's tail when written newest first).
        let look = TITLE_LOOK as i64;
        let (from, to) = if self.layout.newest_first { (-look, -1) } else { (0, look - 1) };
        let ops: Vec<CacheOp> = page
            .iter()
            .flat_map(|id| [CacheOp::LLen(self.key(id)), CacheOp::LRange { key: self.key(id), start: from, stop: to }])
            .collect();
        let replies = self.redis.exec(&ops).await?;
        let items = page
            .iter()
            .zip(replies.chunks(2))
            .map(|(id, r)| {
                let count = match r.first() {
                    Some(CacheReply::Int(n)) => Some(*n),
                    _ => None,
                };
                let key = String::from_utf8_lossy(&self.key(id)).into_owned();
                let mut raw: Vec<&Vec<u8>> = match r.get(1) {
                    Some(CacheReply::Items(v)) => v.iter().collect(),
                    _ => Vec::new(),
                };
                if self.layout.newest_first {
                    raw.reverse();
                }
                let heads: Vec<Message> = raw
                    .iter()
                    .enumerate()
                    .map(|(i, m)| positional(&self.layout, &key, i, &decode_item(&self.layout, m)))
                    .collect();
                let first = heads.first();
                Conversation {
                    id: id.clone(),
                    title: title_from(&heads),
                    user_id: first.and_then(|m| m.user_id.clone()),
                    agent_id: None,
                    created_at: first.and_then(|m| m.timestamp),
                    updated_at: None,
                    message_count: count,
                    doc: Document { path: key, fields: Vec::new(), update_time: None },
                }
            })
            .collect();
        let next = cursor_after(start + page.len(), ids.len(), page.last());
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.ids(filter).await?.len() as u64)
    }

    fn left_out(&self) -> Option<String> {
        let n = (*self.passed.lock().unwrap_or_else(|e| e.into_inner()))?;
        let library = match self.layout.preset {
            LayoutPreset::LangchainRedisList => "LangChain",
            LayoutPreset::LlamaindexRedis => "LlamaIndex",
            _ => "this layout's",
        };
        (n > 0).then(|| {
            format!(
                "passed over {n} list{} under `{}` that hold{} no {library} messages",
                if n == 1 { "" } else { "s" },
                self.layout.keys,
                if n == 1 { "s" } else { "" }
            )
        })
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let key = self.key(c);
        let len = match self.redis.exec(&[CacheOp::LLen(key.clone())]).await?.first() {
            Some(CacheReply::Int(n)) => *n as usize,
            _ => 0,
        };
        if len == 0 {
            return Err(StoreError::Other(format!("no list {}", String::from_utf8_lossy(&key))));
        }
        // Chronological positions [from, to) of this page.
        let from = position(after, len);
        let to = (from + limit.max(1) as usize).min(len);
        if from >= to {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let newest_first = self.layout.newest_first;
        let (start, stop) = if newest_first { (len - to, len - from - 1) } else { (from, to - 1) };
        let mut items = match self
            .redis
            .exec(&[CacheOp::LRange { key: key.clone(), start: start as i64, stop: stop as i64 }])
            .await?
            .pop()
        {
            Some(CacheReply::Items(v)) => v,
            _ => Vec::new(),
        };
        if newest_first {
            items.reverse();
        }
        let path = String::from_utf8_lossy(&key).into_owned();
        let msgs = items
            .iter()
            .enumerate()
            .map(|(i, raw)| positional(&self.layout, &path, from + i, &decode_item(&self.layout, raw)))
            .collect();
        let next = (to < len).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items: msgs, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_says_the_form_its_time_is_stored_in() {
        let l = LayoutConfig::preset(LayoutPreset::AgentMemoryServer);
        let iso = serde_json::json!({"role": "user", "content": "hi", "created_at": "2026-12-07T16:03:10.400070Z"});
        let m = message_of(&l, "k#1".into(), "#1".into(), None, &iso);
        assert_eq!((m.ts_form, m.timestamp.map(|t| t.micros() % 1_000_000)), (TsForm::IsoString, Some(400_070)));
        let unix = serde_json::json!({"role": "user", "content": "hi", "created_at": "1796659390.5"});
        assert_eq!(message_of(&l, "k#1".into(), "#1".into(), None, &unix).ts_form, TsForm::UnixNumber);
        let none = serde_json::json!({"role": "user", "content": "hi"});
        assert_eq!(message_of(&l, "k#1".into(), "#1".into(), None, &none).ts_form, TsForm::Missing);
    }

    #[test]
    fn time_ordered_uuids_and_newest_first_order_keys() {
        // LangGraph's checkpoint id (uuid6) from the langgraph-redis fixture, and Python's uuid1.
        assert_eq!(uuid_time_ms("1f1ebf6d-64ab-6a6d-8004-859fc72772c3"), Some(1_795_958_081_489));
        assert_eq!(uuid_time_ms("cd02d4da-f254-11f1-b295-02fc00000001"), Some(1_796_658_145_588));
        assert_eq!(uuid_time_ms("019af1d2-3c4e-7abc-8def-0123456789ab"), Some(0x019a_f1d2_3c4e));
        assert_eq!(uuid_time_ms("a816cb64-4072-446b-b185-11a1c89ed76e"), None, "uuid4 holds no time");
        assert_eq!(uuid_time_ms("thread-1"), None);
        let order = newest_first([
            ("b".to_string(), Some(5)),
            ("no-time".to_string(), None),
            ("a".to_string(), Some(9)),
            ("c".to_string(), Some(5)),
            ("old".to_string(), Some(-3)),
        ]);
        let ids: Vec<&str> = order.iter().map(|k| id_of_order_key(k)).collect();
        assert_eq!(ids, ["a", "b", "c", "old", "no-time"], "newest first, ties by id, no time last");
        // A page cursor is an order key: the next page starts after it even if it is gone.
        let after = Cursor::Absent { after: Some(order[1].clone()) };
        assert_eq!(start_after(&order, Some(&after)), 2);
        let gone: Vec<String> = order.iter().filter(|k| id_of_order_key(k) != "b").cloned().collect();
        assert_eq!(id_of_order_key(&gone[start_after(&gone, Some(&after))]), "c");
    }

    #[test]
    fn langchain_and_llamaindex_messages_decode() {
        let flat = br#"{"content":"What's the weather?","additional_kwargs":{},"type":"human","name":null,"id":null}"#;
        assert_eq!(decode_message(flat), ("user".into(), "What's the weather?".into()));
        let wrapped = br#"{"type":"ai","data":{"content":"","type":"ai","tool_calls":[{"name":"weather","args":{"city":"Paris"},"id":"call_1"}]}}"#;
        let (r, c) = decode_message(wrapped);
        assert_eq!(r, "assistant");
        assert_eq!(c, r#"→ tool call weather({"city":"Paris"}) call_1"#);
        let tool = br#"{"type":"tool","data":{"content":"18 C","type":"tool","tool_call_id":"call_1"}}"#;
        assert_eq!(decode_message(tool), ("tool".into(), "← result of call_1: 18 C".into()));
        let lc = br#"{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"hi","type":"human"}}"#;
        assert_eq!(decode_message(lc), ("user".into(), "hi".into()));
        let llama = br#"{"role":"assistant","additional_kwargs":{},"blocks":[{"block_type":"text","text":"Hello!"}]}"#;
        assert_eq!(decode_message(llama), ("assistant".into(), "Hello!".into()));
        assert_eq!(decode_message(b"\xffnot json").0, "?", "shown raw, never dropped");
    }

    /// A near miss never reads as an empty body: the text under a field the layout does not
    /// read is said, with the fields the message has; an empty text stays empty.
    #[test]
    fn text_under_another_field_is_a_marker_naming_the_fields() {
        let mut l = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
        let camel: Value = serde_json::from_str(r#"{"author":"user","text":"hello","createdAt":1}"#).unwrap();
        l.fields.content = Some("content".into());
        let p = parts(&l, &camel);
        assert!(
            p.content.contains("no `content` in this message") && p.content.contains("author, createdAt, text"),
            "{}",
            p.content
        );
        l.fields.content = None;
        let odd: Value = serde_json::from_str(r#"{"who":"user","body":"hi"}"#).unwrap();
        assert!(parts(&l, &odd).content.contains("its fields: body, who"), "{}", parts(&l, &odd).content);
        // A list of alternatives: the first that is there.
        l.fields.content = Some("content|text".into());
        assert_eq!(parts(&l, &camel).content, "hello");
        l.fields.content = None;
        let empty: Value = serde_json::from_str(r#"{"type":"human","content":""}"#).unwrap();
        assert_eq!(parts(&l, &empty).content, "", "an empty text is not a near miss");
    }

    #[test]
    fn field_paths_and_role_maps_read_a_custom_shape() {
        let mut l = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
        l.fields.role = Some("who".into());
        l.fields.content = Some("body.text".into());
        l.fields.timestamp = Some("meta.at".into());
        l.fields.id = Some("mid".into());
        l.fields.user = Some("meta.user".into());
        l.roles.insert("bot".into(), "assistant".into());
        let v: Value = serde_json::from_str(
            r#"{"who":"Bot","body":{"text":"hello"},"meta":"{\"at\":1700000000123,\"user\":\"u1\"}","mid":7}"#,
        )
        .unwrap();
        let p = parts(&l, &v);
        assert_eq!((p.role.as_str(), p.content.as_str()), ("assistant", "hello"), "role map is case-insensitive");
        assert_eq!(p.id.as_deref(), Some("7"));
        assert_eq!(p.user.as_deref(), Some("u1"), "a JSON string on the path is parsed");
        assert_eq!(p.ts, Ts::from_unix_number(1_700_000_000.123), "milliseconds told apart by size");
        l.roles.clear();
        assert_eq!(parts(&l, &v).role, "bot", "an unmapped role is shown as stored");
        let mut mp = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
        mp.encoding = Encoding::MsgpackBase64;
        assert_eq!(decode_item(&mp, b"gadjb250ZW50omhp"), serde_json::json!({"content": "hi"}));
        assert_eq!(decode_item(&mp, b"{\"a\":1}"), serde_json::json!({"a": 1}), "JSON still read");
    }

    #[test]
    fn key_templates_name_conversation_message_and_time() {
        let t = KeyTemplate::parse("agent_chat:{conversation}:{ts}:{message}").unwrap();
        let p = t.parts("agent_chat:sess:with:colons:1795936271.6:0a1b2c3d").unwrap();
        assert_eq!(p.conversation.as_deref(), Some("sess:with:colons"));
        assert_eq!(p.ts, Some(1795936271.6));
        assert_eq!(p.message.as_deref(), Some("0a1b2c3d"));
        assert_eq!(t.parts("agent_chat:sess:notatime:0a1b2c3d"), None);
        assert_eq!(t.glob(), "agent_chat:*:*:*");
        let m = KeyTemplate::parse("mem0:{*}:{message}").unwrap();
        assert_eq!(m.parts("mem0:mem0:068e").unwrap().message.as_deref(), Some("068e"));
        assert!(KeyTemplate::parse("a:{conversation}{message}").is_err(), "adjacent parts are ambiguous");
        assert!(KeyTemplate::parse("a:{thread}").unwrap_err().contains("unknown part {thread}"));
        assert_eq!(KeyTemplate::parse("x*[y]:{conversation}").unwrap().glob(), "x\\*\\[y\\]:*");
    }
}

/// A key per message (langchain-redis: RedisJSON `chat:{session}:{ULID}`; redisvl: a hash
/// `{name}:{session}:{unix ts}:{hex}`; mem0: a hash per memory grouped by its `user_id`):
/// conversations are the sessions the keys (or a field) name, a thread is its keys in time
/// order (the key's time: `{ts}` or a ULID; else the stored one), each read whole.
struct KeyPerMessage {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
    template: KeyTemplate,
    /// The session paged last: its keys in time order.
    cache: ThreadCache<Vec<(Option<f64>, String)>>,
}

/// Milliseconds of a ULID's time part (its first 10 Crockford base-32 characters).
fn ulid_ms(id: &str) -> Option<i64> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if id.len() != 26 {
        return None;
    }
    let mut ms: i64 = 0;
    for c in id.get(..10)?.bytes() {
        ms = ms * 32 + ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as i64;
    }
    Some(ms)
}

/// Keys read per pipeline when a layout groups messages by a stored field.
const FIELD_BATCH: usize = 500;

/// A session's message keys with their time (`None`: the layout keeps none), in time order.
type Sessions = std::collections::BTreeMap<String, Vec<(Option<f64>, String)>>;

impl KeyPerMessage {
    fn read_op(&self, key: Key) -> CacheOp {
        match self.layout.encoding {
            Encoding::RedisJson => CacheOp::JsonGet { key, path: "$".into() },
            Encoding::Hash => CacheOp::HGetAll(key),
            _ => CacheOp::Get(key),
        }
    }

    /// A stored message as JSON: a RedisJSON document, a JSON string, or a hash's fields
    /// (binary values such as embeddings named by their size, never shown).
    fn stored(&self, reply: CacheReply) -> Option<Value> {
        match reply {
            CacheReply::Value(Some(b)) => Some(match first_json(&b) {
                // `$` answers a one-element array.
                Some(Value::Array(mut a)) if a.len() == 1 && self.layout.encoding == Encoding::RedisJson => a.remove(0),
                Some(v) => v,
                None => Value::String(String::from_utf8_lossy(&b).into_owned()),
            }),
            CacheReply::Pairs(pairs) if !pairs.is_empty() => Some(Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match String::from_utf8(v) {
                            Ok(s) => Value::String(s),
                            Err(e) => Value::String(format!("<{} bytes, binary>", e.as_bytes().len())),
                        };
                        (String::from_utf8_lossy(&k).into_owned(), v)
                    })
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Every session with its message keys in time order.
    async fn sessions(&self) -> Result<Sessions, StoreError> {
        let ty = match self.layout.encoding {
            Encoding::RedisJson => "ReJSON-RL",
            Encoding::Hash => "hash",
            _ => "string",
        };
        let mut scan = KeyspaceScan::start(self.redis.clone(), &self.layout.keys, Some(ty), 1000).await?;
        let mut out = Sessions::new();
        let mut by_field: Vec<(String, Option<f64>)> = Vec::new();
        while let Some(page) = scan.next_page().await {
            for k in page?.keys {
                let k = String::from_utf8_lossy(&k).into_owned();
                let Some(p) = self.template.parts(&k) else { continue };
                let t = p.ts.or_else(|| p.message.as_deref().and_then(ulid_ms).map(|ms| ms as f64 / 1000.0));
                match p.conversation {
                    Some(c) if self.layout.fields.conversation.is_none() => out.entry(c).or_default().push((t, k)),
                    _ => by_field.push((k, t)),
                }
            }
        }
        by_field.sort_by(|a, b| a.0.cmp(&b.0));
        by_field.dedup_by(|a, b| a.0 == b.0);
        self.group_by_field(by_field, &mut out).await?;
        for v in out.values_mut() {
            v.sort_by(|a, b| {
                a.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY)).then(a.1.cmp(&b.1))
            });
            v.dedup();
        }
        Ok(out)
    }

    /// Keys whose conversation is a stored field (mem0's `user_id`): read it, and the stored
    /// time, of every key (the fields alone for hashes), in pipelines of [`FIELD_BATCH`].
    async fn group_by_field(&self, keys: Vec<(String, Option<f64>)>, out: &mut Sessions) -> Result<(), StoreError> {
        let Some(conv) = self.layout.fields.conversation.clone() else { return Ok(()) };
        let root = |p: &str| p.split('.').next().unwrap_or(p).to_string();
        let mut wanted = vec![root(&conv)];
        if let Some(t) = &self.layout.fields.timestamp {
            wanted.push(root(t));
        }
        // mem0's vector stores keep whole seconds: its history database orders memories added
        // in one second (the memory id is the key's `{message}`).
        let history = match self.layout.history.clone() {
            Some(path) => Some(
                tokio::task::spawn_blocking(move || crate::store::sqlite::mem0_added_times(&path))
                    .await
                    .map_err(|e| StoreError::Other(format!("mem0 history: {e}")))??,
            ),
            None => None,
        };
        let added = |k: &str| {
            let id = self.template.parts(k)?.message?;
            history.as_ref()?.get(&id).map(|t| t.secs as f64 + t.nanos as f64 / 1e9)
        };
        for chunk in keys.chunks(FIELD_BATCH) {
            let ops: Vec<CacheOp> = chunk
                .iter()
                .map(|(k, _)| {
                    let key: Key = k.clone().into_bytes().into();
                    match self.layout.encoding {
                        Encoding::Hash => CacheOp::HMGet { key, fields: wanted.clone() },
                        _ => self.read_op(key),
                    }
                })
                .collect();
            for ((k, t), r) in chunk.iter().zip(self.redis.exec(&ops).await?) {
                let Some(v) = self.stored(r) else { continue };
                // A memory without the field is listed under a conversation saying so, never
                // dropped (mem0 keeps memories by agent or run alone too).
                let c = at_path(&v, &conv).and_then(|c| text_of(&c)).unwrap_or_else(|| format!("(no {conv})"));
                let stored_t =
                    self.layout.fields.timestamp.as_deref().and_then(|p| at_path(&v, p)).as_ref().and_then(ts_of);
                let t = t.or(added(k)).or(stored_t.map(|t| t.secs as f64 + t.nanos as f64 / 1e9));
                out.entry(c).or_default().push((t, k.clone()));
            }
        }
        Ok(())
    }

    /// Stored messages, read whole in one batch (one pipeline per hash slot on a cluster).
    async fn messages_of(&self, keys: &[(Option<f64>, String)]) -> Result<Vec<Message>, StoreError> {
        let ops: Vec<CacheOp> = keys.iter().map(|(_, k)| self.read_op(k.clone().into_bytes().into())).collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        Ok(keys
            .iter()
            .zip(replies)
            .map(|((t, k), r)| {
                let fallback_id = self.template.parts(k).and_then(|p| p.message).unwrap_or_else(|| k.clone());
                let ts = t.and_then(Ts::from_unix_number);
                match self.stored(r) {
                    Some(v) => message_of(&self.layout, k.clone(), fallback_id, ts, &v),
                    None => {
                        let gone = Value::String(format!("<{k}: gone (expired or deleted)>"));
                        message_of(&self.layout, k.clone(), fallback_id, ts, &gone)
                    }
                }
            })
            .collect())
    }

    async fn conversation(&self, id: &str, msgs: &[(Option<f64>, String)]) -> Result<Conversation, StoreError> {
        let first = self.messages_of(&msgs[..msgs.len().min(1)]).await?.pop();
        let agent = first.as_ref().and_then(|m| {
            let v: Value =
                serde_json::from_str(m.doc.get("stored").and_then(FsValue::as_str).unwrap_or("null")).ok()?;
            self.layout.fields.agent.as_deref().and_then(|p| at_path(&v, p)).and_then(|a| text_of(&a))
        });
        Ok(Conversation {
            id: id.to_string(),
            title: first.as_ref().map(title_of),
            user_id: first.as_ref().and_then(|m| m.user_id.clone()),
            agent_id: agent,
            created_at: msgs.first().and_then(|m| m.0).and_then(Ts::from_unix_number),
            updated_at: msgs.last().and_then(|m| m.0).and_then(Ts::from_unix_number),
            message_count: Some(msgs.len() as i64),
            doc: Document { path: format!("{}{id}", self.layout.key_prefix), fields: Vec::new(), update_time: None },
        })
    }
}

#[async_trait::async_trait]
impl ConversationReader for KeyPerMessage {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let sessions = self.sessions().await?;
        // Newest first: by each session's last message time (its keys are in time order).
        let order = newest_first(sessions.iter().map(|(id, msgs)| {
            let last = msgs.iter().rev().find_map(|m| m.0).map(|t| (t * 1e6) as i64);
            (id.clone(), last)
        }));
        let mut i = start_after(&order, after);
        let mut items = Vec::new();
        while i < order.len() && items.len() < limit as usize {
            let id = id_of_order_key(&order[i]);
            let c = self.conversation(id, &sessions[id]).await?;
            if keeps(filter, &c) {
                items.push(c);
            }
            i += 1;
        }
        let next = cursor_after(i, order.len(), order.get(i.wrapping_sub(1)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        let sessions = self.sessions().await?;
        if let ConvFilter::All | ConvFilter::IdPrefix(_) = filter {
            let prefix = id_filter(self.layout.preset, filter)?;
            return Ok(
                sessions.keys().filter(|s| prefix.as_ref().is_none_or(|p| s.starts_with(p.as_str()))).count() as u64
            );
        }
        let mut n = 0;
        for (id, msgs) in &sessions {
            n += u64::from(keeps(filter, &self.conversation(id, msgs).await?));
        }
        Ok(n)
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let keys = self
            .cache
            .get(c, after.is_some(), async {
                let mut sessions = self.sessions().await?;
                sessions
                    .remove(c)
                    .ok_or_else(|| StoreError::Other(format!("no messages of `{c}` under {}", self.layout.keys)))
            })
            .await?;
        let from = position(after, keys.len());
        let to = (from + limit.max(1) as usize).min(keys.len());
        let items = self.messages_of(&keys[from.min(to)..to]).await?;
        let next = (to < keys.len()).then(|| Cursor::Absent { after: Some(to.to_string()) });
        Ok(Page { items, next })
    }
}

/// A RedisJSON document per conversation, its messages an array field (agent-memory-server's
/// working memory, `working_memory:[namespace:][user:]{session}`): a conversation is the key
/// after the prefix, taken whole (the namespace and user are part of its name); listed newest
/// first by the document's `updated_at`.
struct RedisDocument {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
    cache: ThreadCache<Vec<Message>>,
}

impl RedisDocument {
    fn key(&self, id: &str) -> Key {
        format!("{}{id}", self.layout.key_prefix).into_bytes().into()
    }

    /// The document's `$.{path}` (RedisJSON answers the array of matches: its first).
    fn first_match(reply: Option<&CacheReply>) -> Option<Value> {
        match reply {
            Some(CacheReply::Value(Some(b))) => match first_json(b) {
                Some(Value::Array(mut a)) if !a.is_empty() => Some(a.remove(0)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every conversation id with its document's update time, newest first, as order keys.
    async fn ids(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        // An id prefix narrows the keys; the other filters (user, title) are kept page by page.
        let prefix = match filter {
            ConvFilter::IdPrefix(p) => Some(p.clone()),
            _ => None,
        };
        let ids: Vec<String> = scan_all(self.redis.clone(), &self.layout.keys, Some("ReJSON-RL"))
            .await?
            .into_iter()
            .filter_map(|k| k.strip_prefix(&self.layout.key_prefix).map(str::to_string))
            .filter(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())))
            .collect();
        let ops: Vec<CacheOp> =
            ids.iter().map(|id| CacheOp::JsonGet { key: self.key(id), path: "$.updated_at".into() }).collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        let times = replies.iter().map(|r| Self::first_match(Some(r)).as_ref().and_then(ts_of).map(|t| t.micros()));
        Ok(newest_first(ids.into_iter().zip(times)))
    }

    /// A conversation's messages, read whole (`JSON.GET KEY $.{messages_field}`).
    async fn read(&self, id: &str) -> Result<Vec<Message>, StoreError> {
        let path = format!("$.{}", self.layout.messages_field);
        let r = self.redis.exec(&[CacheOp::JsonGet { key: self.key(id), path }]).await?;
        let key = String::from_utf8_lossy(&self.key(id)).into_owned();
        match Self::first_match(r.first()) {
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| message_of(&self.layout, format!("{key}#{}", i + 1), format!("#{:05}", i + 1), None, v))
                .collect()),
            _ => Err(StoreError::Other(format!(
                "no conversation `{id}`: no document {key} with a `{}` array",
                self.layout.messages_field
            ))),
        }
    }
}

#[async_trait::async_trait]
impl ConversationReader for RedisDocument {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let order = self.ids(filter).await?;
        let start = start_after(&order, after);
        let page: Vec<&String> = order[start..].iter().take(limit as usize).collect();
        // One pipeline for the page: each document's messages, user and update time.
        let ops: Vec<CacheOp> = page
            .iter()
            .flat_map(|k| {
                let key = self.key(id_of_order_key(k));
                [
                    CacheOp::JsonGet { key: key.clone(), path: format!("$.{}", self.layout.messages_field) },
                    CacheOp::JsonGet { key: key.clone(), path: "$.user_id".into() },
                    CacheOp::JsonGet { key: key.clone(), path: "$.updated_at".into() },
                    CacheOp::JsonGet { key, path: "$.created_at".into() },
                ]
            })
            .collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        let mut items = Vec::new();
        for (k, r) in page.iter().zip(replies.chunks(4)) {
            let id = id_of_order_key(k);
            let key = String::from_utf8_lossy(&self.key(id)).into_owned();
            let msgs = match Self::first_match(r.first()) {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            let heads: Vec<Message> = msgs
                .iter()
                .take(TITLE_LOOK)
                .enumerate()
                .map(|(i, v)| message_of(&self.layout, format!("{key}#{}", i + 1), format!("#{:05}", i + 1), None, v))
                .collect();
            let c = Conversation {
                id: id.to_string(),
                title: title_from(&heads),
                user_id: Self::first_match(r.get(1)).as_ref().and_then(text_of),
                agent_id: None,
                created_at: Self::first_match(r.get(3)).as_ref().and_then(ts_of),
                updated_at: Self::first_match(r.get(2)).as_ref().and_then(ts_of),
                message_count: Some(msgs.len() as i64),
                doc: Document { path: key, fields: Vec::new(), update_time: None },
            };
            if keeps(filter, &c) {
                items.push(c);
            }
        }
        let end = start + page.len();
        let next = cursor_after(end, order.len(), end.checked_sub(1).and_then(|e| order.get(e)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        if let ConvFilter::All | ConvFilter::IdPrefix(_) = filter {
            return Ok(self.ids(filter).await?.len() as u64);
        }
        let (mut n, mut after) = (0u64, None);
        loop {
            let page = self.conversations(filter, after.as_ref(), 500).await?;
            n += page.items.len() as u64;
            match page.next {
                Some(c) => after = Some(c),
                None => return Ok(n),
            }
        }
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self.cache.get(c, after.is_some(), self.read(c)).await?;
        Ok(page_of(&all, after, limit))
    }
}

/// `{name}:{session}:{unix ts}:{8 hex}`: redisvl's message key.
fn is_redisvl_key(k: &str) -> bool {
    let parts: Vec<&str> = k.rsplitn(3, ':').collect();
    parts.len() == 3
        && parts[0].len() == 8
        && parts[0].bytes().all(|b| b.is_ascii_hexdigit())
        && parts[1].parse::<f64>().is_ok()
        && parts[2].contains(':')
}

/// A checkpoint's messages (LangChain messages, in any of their serialised forms) as a thread.
fn checkpoint_messages(l: &LayoutConfig, path: &str, messages: &[Value]) -> Vec<Message> {
    messages.iter().enumerate().map(|(i, m)| positional(l, path, i, m)).collect()
}

/// langgraph-checkpoint-redis: a thread's conversation is its latest checkpoint's
/// `channel_values.messages` (LangChain messages in the `lc` constructor form, with ids).
/// `RedisSaver` keeps every checkpoint (`checkpoint:{thread}:{ns}:{id}`) and a pointer to the
/// latest (`checkpoint_latest:{thread}:{ns}`, the default namespace spelt `__empty__`);
/// `ShallowRedisSaver` keeps one document per thread, `checkpoint:{thread}:{ns}` (the default
/// namespace empty) and no pointer. Both are read. A thread id is taken whole: it may hold
/// `:` (`user:42`) or `@`.
struct Checkpoints {
    redis: Arc<dyn KeyStore>,
    layout: LayoutConfig,
    cache: ThreadCache<Vec<Message>>,
    /// Subgraph namespaces the last listing kept under their threads.
    folded: std::sync::Mutex<Option<u64>>,
}

/// The default checkpoint namespace's name in the keys.
const EMPTY_NS: &str = ":__empty__";
/// Where checkpoints are kept (the pointers' prefix is the layout's `key_prefix`).
const CHECKPOINT_PREFIX: &str = "checkpoint:";

/// Where a thread's state is: the key of its latest checkpoint, and the stem its other
/// checkpoints are under (`checkpoint:{stem}:{id}`; None for a shallow saver's thread).
struct ThreadState {
    latest: String,
    stem: Option<String>,
}

impl Checkpoints {
    /// Every thread (`thread` in the default namespace, else `thread:ns`), sorted: those with
    /// a latest-checkpoint pointer and those a shallow saver keeps.
    async fn threads(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let shallow_glob = format!("{}*:", glob_escape(CHECKPOINT_PREFIX));
        let (pointers, shallow) = tokio::join!(
            scan_all(self.redis.clone(), &self.layout.keys, Some("string")),
            scan_all(self.redis.clone(), &shallow_glob, Some("ReJSON-RL")),
        );
        let mut out = Vec::new();
        let mut namespaced = Vec::new();
        for k in pointers? {
            let Some(rest) = k.strip_prefix(&self.layout.key_prefix) else { continue };
            match rest.strip_suffix(EMPTY_NS) {
                Some(thread) => out.push(thread.to_string()),
                None => namespaced.push(rest.to_string()),
            }
        }
        // A subgraph's namespace (`{thread}:planner`, `{thread}:node:<task>`) belongs to its
        // thread: not a look-alike row beside it. One with no thread of its own is listed.
        let threads: std::collections::HashSet<&str> = out.iter().map(String::as_str).collect();
        let mut folded = 0u64;
        let mut alone = Vec::new();
        for ns in namespaced {
            let parent = ns.match_indices(':').map(|(i, _)| &ns[..i]).any(|t| threads.contains(t));
            if parent {
                folded += 1;
            } else {
                alone.push(ns);
            }
        }
        out.extend(alone);
        *self.folded.lock().unwrap_or_else(|e| e.into_inner()) = Some(folded);
        // A shallow document `checkpoint:{thread}:` (default namespace) or `…:{thread}:{ns}:`?
        // The default one ends in one `:`; RedisSaver's `checkpoint:{thread}:{ns}:{id}` never
        // ends in `:`, and its ids hold no `:`.
        for k in shallow? {
            if let Some(t) = k.strip_prefix(CHECKPOINT_PREFIX).and_then(|r| r.strip_suffix(':')) {
                out.push(t.to_string());
            }
        }
        out.retain(|id| prefix.as_ref().is_none_or(|p| id.starts_with(p.as_str())));
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Where a thread's state is: its pointer in the default namespace, else the listed id as
    /// `thread:ns`, else a shallow saver's document.
    async fn state_of(&self, thread: &str) -> Result<ThreadState, StoreError> {
        let p = &self.layout.key_prefix;
        let key = |s: String| -> Key { s.into_bytes().into() };
        let shallow = format!("{CHECKPOINT_PREFIX}{thread}:");
        let ops = [
            CacheOp::Get(key(format!("{p}{thread}{EMPTY_NS}"))),
            CacheOp::Get(key(format!("{p}{thread}"))),
            CacheOp::JsonGet { key: key(shallow.clone()), path: "$.checkpoint_id".into() },
        ];
        let replies = self.redis.exec(&ops).await?;
        let found = |i: usize| match replies.get(i) {
            Some(CacheReply::Value(Some(v))) if !v.is_empty() && v.as_slice() != b"[]" => Some(v.clone()),
            _ => None,
        };
        if let Some(v) = found(0) {
            return Ok(ThreadState {
                latest: String::from_utf8_lossy(&v).into_owned(),
                stem: Some(format!("{thread}{EMPTY_NS}")),
            });
        }
        if let Some(v) = found(1) {
            return Ok(ThreadState {
                latest: String::from_utf8_lossy(&v).into_owned(),
                stem: Some(thread.to_string()),
            });
        }
        if found(2).is_some() {
            return Ok(ThreadState { latest: shallow, stem: None });
        }
        Err(StoreError::Other(format!(
            "no thread `{thread}` (no {p}{thread}{EMPTY_NS}, no {p}{thread}, no {shallow} of a shallow saver)"
        )))
    }

    /// The time of each thread's latest checkpoint, from its id (a time-ordered UUID), in one
    /// pipeline: the pointers [`state_of`](Self::state_of) reads, for every thread at once.
    async fn latest_times(&self, threads: &[String]) -> Result<Vec<Option<i64>>, StoreError> {
        let p = &self.layout.key_prefix;
        let key = |s: String| -> Key { s.into_bytes().into() };
        let ops: Vec<CacheOp> = threads
            .iter()
            .flat_map(|t| {
                [
                    CacheOp::Get(key(format!("{p}{t}{EMPTY_NS}"))),
                    CacheOp::Get(key(format!("{p}{t}"))),
                    CacheOp::JsonGet { key: key(format!("{CHECKPOINT_PREFIX}{t}:")), path: "$.checkpoint_id".into() },
                ]
            })
            .collect();
        let replies = if ops.is_empty() { Vec::new() } else { self.redis.exec(&ops).await? };
        Ok(replies
            .chunks(3)
            .map(|r| {
                r.iter().find_map(|r| match r {
                    CacheReply::Value(Some(v)) if !v.is_empty() => {
                        let v = String::from_utf8_lossy(v);
                        // A pointer names the checkpoint's key (`…:{id}`); a shallow saver's
                        // `$.checkpoint_id` answers `["{id}"]`.
                        let id = match first_json(v.as_bytes()) {
                            Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
                            _ => v.rsplit(':').next().map(str::to_string),
                        };
                        id.as_deref().and_then(uuid_time_ms).map(|ms| ms * 1000)
                    }
                    _ => None,
                })
            })
            .collect())
    }

    /// A checkpoint's key, time and messages (raw JSON each); None when the key holds none.
    async fn read_key(&self, cp: &str) -> Result<Option<(Option<Ts>, Vec<Value>)>, StoreError> {
        let key: Key = cp.to_string().into_bytes().into();
        let ops = [
            CacheOp::JsonGet { key: key.clone(), path: "$.checkpoint.channel_values.messages".into() },
            CacheOp::JsonGet { key, path: "$.checkpoint.ts".into() },
        ];
        let mut r = self.redis.exec(&ops).await?.into_iter();
        let first = |v: Option<CacheReply>| match v {
            Some(CacheReply::Value(Some(b))) => match first_json(&b) {
                Some(Value::Array(mut a)) if !a.is_empty() => Some(a.remove(0)),
                _ => None,
            },
            _ => None,
        };
        let messages = first(r.next());
        let ts = first(r.next()).and_then(|v| v.as_str().and_then(Ts::parse));
        Ok(match messages {
            Some(Value::Array(m)) => Some((ts, m)),
            Some(_) => Some((ts, Vec::new())),
            None if ts.is_some() => Some((ts, Vec::new())),
            None => None,
        })
    }

    /// A thread's latest checkpoint: its key, time and messages.
    async fn read(&self, thread: &str) -> Result<(String, Option<Ts>, Vec<Value>), StoreError> {
        let state = self.state_of(thread).await?;
        let (ts, messages) = self.read_key(&state.latest).await?.unwrap_or_default();
        Ok((state.latest, ts, messages))
    }
}

/// Every key matching `glob` (of `key_type`), as text.
async fn scan_all(redis: Arc<dyn KeyStore>, glob: &str, key_type: Option<&str>) -> Result<Vec<String>, StoreError> {
    let mut scan = KeyspaceScan::start(redis, glob, key_type, 1000).await?;
    let mut out = Vec::new();
    while let Some(page) = scan.next_page().await {
        out.extend(page?.keys.iter().map(|k| String::from_utf8_lossy(k).into_owned()));
    }
    Ok(out)
}

/// `s` as a glob that matches it literally.
fn glob_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut o, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            o.push('\\');
        }
        o.push(c);
        o
    })
}

#[async_trait::async_trait]
impl ConversationReader for Checkpoints {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ids = self.threads(filter).await?;
        let order = newest_first(ids.iter().cloned().zip(self.latest_times(&ids).await?));
        let start = start_after(&order, after);
        let mut items = Vec::new();
        for key in order[start..].iter().take(limit as usize) {
            let id = &id_of_order_key(key).to_string();
            let (cp, ts, messages) = self.read(id).await?;
            let heads: Vec<Message> = messages
                .iter()
                .take(TITLE_LOOK)
                .enumerate()
                .map(|(i, m)| positional(&self.layout, &cp, i, m))
                .collect();
            items.push(Conversation {
                id: id.clone(),
                title: title_from(&heads),
                user_id: None,
                agent_id: None,
                created_at: None,
                updated_at: ts,
                message_count: Some(messages.len() as i64),
                doc: Document { path: cp, fields: Vec::new(), update_time: None },
            });
        }
        let end = start + items.len();
        let next = cursor_after(end, order.len(), end.checked_sub(1).and_then(|e| order.get(e)));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.threads(filter).await?.len() as u64)
    }

    fn left_out(&self) -> Option<String> {
        let n = (*self.folded.lock().unwrap_or_else(|e| e.into_inner()))?;
        (n > 0).then(|| {
            format!(
                "{n} subgraph namespace{} kept under {} thread (not listed as threads of their own)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "its" } else { "their" }
            )
        })
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all = self
            .cache
            .get(c, after.is_some(), async {
                let (cp, _, messages) = self.read(c).await?;
                Ok(checkpoint_messages(&self.layout, &cp, &messages))
            })
            .await?;
        Ok(page_of(&all, after, limit))
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        let state = self.state_of(thread).await?;
        let Some(stem) = state.stem else {
            // A shallow saver keeps the latest state only.
            let ops =
                [CacheOp::JsonGet { key: state.latest.clone().into_bytes().into(), path: "$.checkpoint_id".into() }];
            let id = match self.redis.exec(&ops).await?.pop() {
                Some(CacheReply::Value(Some(b))) => match first_json(&b) {
                    Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
                    _ => None,
                },
                _ => None,
            };
            let (ts, m) = self.read_key(&state.latest).await?.unwrap_or_default();
            return Ok(Some(vec![(id.unwrap_or_default(), ts, m.len())]));
        };
        let prefix = format!("{CHECKPOINT_PREFIX}{stem}:");
        let mut ids: Vec<String> =
            scan_all(self.redis.clone(), &format!("{}*", glob_escape(&prefix)), Some("ReJSON-RL"))
                .await?
                .into_iter()
                .filter_map(|k| k.strip_prefix(&prefix).filter(|id| !id.contains(':')).map(str::to_string))
                .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids.iter().rev() {
            let (ts, m) = self.read_key(&format!("{prefix}{id}")).await?.unwrap_or_default();
            out.push((id.clone(), ts, m.len()));
        }
        Ok(Some(out))
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        let state = self.state_of(thread).await?;
        let key = match &state.stem {
            Some(stem) => format!("{CHECKPOINT_PREFIX}{stem}:{id}"),
            // A shallow saver's one checkpoint, if that is the one asked for.
            None => state.latest.clone(),
        };
        let known = match &state.stem {
            Some(_) => true,
            None => self.checkpoints(thread).await?.unwrap_or_default().iter().any(|(c, _, _)| c == id),
        };
        match self.read_key(&key).await? {
            Some((_, m)) if known => Ok(Some(checkpoint_messages(&self.layout, &key, &m))),
            _ => Err(StoreError::Other(format!("no checkpoint `{id}` of thread `{thread}` (no {key})"))),
        }
    }
}

/// langgraph-checkpoint-firestore: `{collection}/{thread}_{ns}` (a document that does not
/// exist) holds `checkpoints/{checkpoint_id}`, each with `checkpoint` = base64 msgpack of the
/// whole state; ids sort by time, so the newest is the last by name. `thread@ID` reads another.
struct FirestoreCheckpoints {
    store: Arc<dyn LongTermStore>,
    layout: LayoutConfig,
    cache: ThreadCache<Vec<Message>>,
}

impl FirestoreCheckpoints {
    /// A listed thread from its document's id: `{thread}_` is the default namespace.
    fn thread_of(doc_id: &str) -> String {
        doc_id.strip_suffix('_').unwrap_or(doc_id).to_string()
    }

    /// A listed thread's checkpoints collection and its newest checkpoint. The thread id is
    /// taken whole (`bob@example.com`, `user_42`): `{thread}_` (the default namespace) if it
    /// holds checkpoints, else the listed id itself (`{thread}_{ns}`).
    async fn newest(&self, thread: &str) -> Result<(String, Document), StoreError> {
        let tried = [format!("{thread}_"), thread.to_string()];
        for doc_id in &tried {
            let coll = format!("{}/{doc_id}/checkpoints", self.layout.collection);
            if let Some(d) = self.store.last_documents(&coll, "checkpoint_id", 1).await?.pop() {
                return Ok((coll, d));
            }
        }
        Err(StoreError::Other(format!("no checkpoint under {}/{}/checkpoints", self.layout.collection, tried[0])))
    }

    /// The state a checkpoint document holds: `{v, ts, id, channel_values: {messages…}}`.
    fn state(&self, doc: &Document) -> Value {
        let raw = doc.get("checkpoint").and_then(FsValue::as_str).unwrap_or("");
        match doc.get("type").and_then(FsValue::as_str) {
            Some("msgpack") | None => crate::msgpack::from_base64(raw).unwrap_or(Value::Null),
            Some(_) => first_json(raw.as_bytes()).unwrap_or(Value::Null),
        }
    }

    fn messages_of(&self, doc: &Document) -> (Option<Ts>, Vec<Message>) {
        let state = self.state(doc);
        let ts = state.get("ts").and_then(Value::as_str).and_then(Ts::parse);
        let messages = match state.pointer("/channel_values/messages") {
            Some(Value::Array(m)) => checkpoint_messages(&self.layout, &doc.path, m),
            _ => Vec::new(),
        };
        (ts, messages)
    }

    async fn threads(&self, filter: &ConvFilter) -> Result<Vec<String>, StoreError> {
        let prefix = id_filter(self.layout.preset, filter)?;
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.browse_documents(&self.layout.collection, after.as_ref(), 300).await?;
            out.extend(
                page.items
                    .iter()
                    .map(|d| Self::thread_of(d.id()))
                    .filter(|t| prefix.as_ref().is_none_or(|p| t.starts_with(p.as_str()))),
            );
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A thread's checkpoints, newest first: (id, time, message count).
    pub async fn history(&self, thread: &str) -> Result<Vec<(String, Option<Ts>, usize)>, StoreError> {
        let (coll, _) = self.newest(thread).await?;
        let (mut out, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.documents(&coll, after.as_ref(), 100).await?;
            for d in &page.items {
                let (ts, m) = self.messages_of(d);
                out.push((d.id().to_string(), ts, m.len()));
            }
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        out.reverse();
        Ok(out)
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreCheckpoints {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let ids = self.threads(filter).await?;
        let start = start_after(&ids, after);
        let mut items = Vec::new();
        for id in ids[start..].iter().take(limit as usize) {
            let (_, doc) = self.newest(id).await?;
            let (ts, messages) = self.messages_of(&doc);
            items.push(Conversation {
                id: id.clone(),
                title: title_from(&messages[..messages.len().min(TITLE_LOOK)]),
                user_id: None,
                agent_id: None,
                created_at: None,
                updated_at: ts.or(doc.update_time),
                message_count: Some(messages.len() as i64),
                doc: Document { path: doc.path, fields: Vec::new(), update_time: doc.update_time },
            });
        }
        let end = start + items.len();
        let next = cursor_after(end, ids.len(), items.last().map(|c| &c.id));
        Ok(Page { items, next })
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        Ok(self.threads(filter).await?.len() as u64)
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        let all =
            self.cache.get(c, after.is_some(), async { Ok(self.messages_of(&self.newest(c).await?.1).1) }).await?;
        Ok(page_of(&all, after, limit))
    }

    async fn checkpoints(&self, thread: &str) -> Result<Option<Vec<(String, Option<Ts>, usize)>>, StoreError> {
        self.history(thread).await.map(Some)
    }

    async fn checkpoint(&self, thread: &str, id: &str) -> Result<Option<Vec<Message>>, StoreError> {
        let (coll, _) = self.newest(thread).await?;
        match self.store.document(&format!("{coll}/{id}")).await? {
            Some(doc) => Ok(Some(self.messages_of(&doc).1)),
            None => Err(StoreError::Other(format!("no checkpoint under {coll}/{id}"))),
        }
    }
}

/// Conversations as documents with their messages in a subcollection, under the names a
/// profile gives (`collection`, `messages_field`, the field paths): the shape of memscope's
/// own layout written by someone else (`updatedAt`, `createdAt`, no timestamps…). The store
/// cannot order by names it does not know, so a thread is read whole (by document id) and
/// ordered by its timestamps here — at most [`THREAD_CAP`] messages, the rest said so.
struct FirestoreDocs {
    store: Arc<dyn LongTermStore>,
    layout: LayoutConfig,
    /// The time field found for each thread (looked for once, on its first page).
    time_fields: std::sync::Mutex<std::collections::HashMap<String, String>>,
    cache: ThreadCache<Vec<Message>>,
}

/// Messages read of one thread under a renamed layout, at most.
pub const THREAD_CAP: usize = 100_000;

/// The names a conversation document's parts have when the layout does not say.
const UPDATED: [&str; 4] = ["updated_at", "updatedAt", "last_updated", "lastUpdated"];
const CREATED: [&str; 3] = ["created_at", "createdAt", "created"];
const MESSAGE_TIME: [&str; 5] = ["timestamp", "created_at", "createdAt", "ts", "time"];

impl FirestoreDocs {
    fn conversation(&self, doc: Document) -> Conversation {
        let v = crate::domain::fields_json(&doc.fields);
        let pick = |names: &[&str]| names.iter().find_map(|n| v.get(*n)).and_then(ts_of);
        let text = |p: &Option<String>, d: &str| at_path(&v, p.as_deref().unwrap_or(d)).and_then(|x| text_of(&x));
        Conversation {
            id: conversation_id(&self.layout.collection, &doc),
            title: ["title", "name", "summary"].iter().find_map(|n| v.get(*n)).and_then(text_of),
            user_id: text(&self.layout.fields.user, "user_id"),
            agent_id: text(&self.layout.fields.agent, "agent_id"),
            created_at: pick(&CREATED),
            updated_at: pick(&UPDATED).or(doc.update_time),
            message_count: v.get("message_count").and_then(Value::as_i64),
            doc,
        }
    }

    /// The field holding a message's time: the layout's, or the usual name most of the thread's
    /// first 20 messages (by id) have; none found, "timestamp" (every message untimed).
    async fn time_field(&self, c: &str) -> Result<String, StoreError> {
        if let Some(f) = &self.layout.fields.timestamp {
            return Ok(f.clone());
        }
        if let Some(f) = self.time_fields.lock().ok().and_then(|m| m.get(c).cloned()) {
            return Ok(f);
        }
        let coll = format!("{}/{c}/{}", self.layout.collection, self.layout.messages_field);
        let sample = self.store.documents(&coll, None, 20).await?.items;
        let best = MESSAGE_TIME
            .iter()
            .map(|n| (sample.iter().filter(|d| d.get(n).is_some()).count(), *n))
            .filter(|(k, _)| *k > 0)
            .max_by_key(|(k, _)| *k);
        let f = best.map(|(_, n)| n.to_string()).unwrap_or_else(|| "timestamp".into());
        if let Ok(mut m) = self.time_fields.lock() {
            m.insert(c.to_string(), f.clone());
        }
        Ok(f)
    }

    /// A message document under the layout's names, with its time.
    fn message(&self, d: Document, ts: Option<Ts>) -> Message {
        let v = crate::domain::fields_json(&d.fields);
        let mut m = message_of(&self.layout, d.path.clone(), d.id().to_string(), ts, &v);
        m.timestamp = ts.or(m.timestamp);
        m.ts_form = if m.timestamp.is_some() { TsForm::UnixNumber } else { TsForm::Missing };
        m.doc = d;
        m
    }

    async fn thread(&self, c: &str) -> Result<Vec<Message>, StoreError> {
        let coll = format!("{}/{c}/{}", self.layout.collection, self.layout.messages_field);
        let (mut docs, mut after) = (Vec::new(), None);
        loop {
            let page = self.store.documents(&coll, after.as_ref(), 500).await?;
            docs.extend(page.items);
            match page.next {
                Some(c) if docs.len() < THREAD_CAP => after = Some(c),
                Some(_) => {
                    return Err(StoreError::Other(format!(
                        "{coll} holds more than {THREAD_CAP} messages: a renamed layout orders a thread in memory; read it with `memscope show --json` in pages or keep memscope's names"
                    )));
                }
                None => break,
            }
        }
        let mut msgs: Vec<Message> = docs
            .into_iter()
            .map(|d| {
                let v = crate::domain::fields_json(&d.fields);
                let ts = match &self.layout.fields.timestamp {
                    Some(p) => at_path(&v, p).as_ref().and_then(ts_of),
                    None => MESSAGE_TIME.iter().find_map(|n| v.get(*n)).and_then(ts_of),
                };
                let mut m = message_of(&self.layout, d.path.clone(), d.id().to_string(), ts, &v);
                if let Some(t) = ts {
                    m.timestamp = Some(t);
                    m.ts_form = TsForm::UnixNumber;
                }
                m.doc = d;
                m
            })
            .collect();
        // Timed messages by time (then id), then the untimed in id order — as memscope's own.
        msgs.sort_by(|a, b| match (a.timestamp, b.timestamp) {
            (Some(x), Some(y)) => x.cmp(&y).then(a.id.cmp(&b.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.id.cmp(&b.id),
        });
        Ok(msgs)
    }
}

#[async_trait::async_trait]
impl ConversationReader for FirestoreDocs {
    fn preset(&self) -> LayoutPreset {
        self.layout.preset
    }

    async fn conversations(
        &self,
        filter: &ConvFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Conversation>, StoreError> {
        let to = |d| self.conversation(d);
        documents_as_conversations(&*self.store, &self.layout.collection, true, filter, after, limit, to).await
    }

    async fn count(&self, filter: &ConvFilter) -> Result<u64, StoreError> {
        count_conversations_in(&*self.store, &self.layout.collection, true, filter, |d| self.conversation(d)).await
    }

    async fn messages(&self, c: &str, after: Option<&Cursor>, limit: u32) -> Result<Page<Message>, StoreError> {
        // A store that orders by the layout's time field pages the thread itself (Firestore).
        let place = ThreadPlace {
            conversation: conversation_path(&self.layout.collection, c)?,
            messages: self.layout.messages_field.clone(),
            ts_field: self.time_field(c).await?,
        };
        if let Some(page) = self.store.messages_at(&place, after, limit).await? {
            let items = page.items.into_iter().map(|m| self.message(m.doc, m.timestamp)).collect();
            return Ok(Page { items, next: page.next });
        }
        let all = self.cache.get(c, after.is_some(), self.thread(c)).await?;
        Ok(page_of(&all, after, limit))
    }
}

/// What `detect` found of one layout.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detected {
    /// A preset name, or a framework memscope has no preset for yet.
    pub layout: String,
    /// memscope can read it (`preset = layout`).
    pub supported: bool,
    /// Conversations (keys or documents) seen in the sample.
    pub conversations: u64,
    /// Where: a key glob or a collection.
    pub at: String,
    /// The `[profile.X.layout]` lines that read it.
    pub config: Option<String>,
}

impl Detected {
    /// Whether a profile's layout reads this very place (the preset and where it looks), not
    /// only the same preset somewhere else.
    pub fn read_by(&self, l: &LayoutConfig) -> bool {
        l.preset.name() == self.layout
            && (l.collection == self.at
                || l.key_prefix == self.at
                || l.keys == self.at
                || l.keys == format!("{}*", self.at))
    }

    /// A layout kept in Redis (else in the long-term store).
    pub fn in_redis(&self) -> bool {
        LayoutPreset::ALL.into_iter().find(|p| p.name() == self.layout).is_some_and(|p| p.in_redis())
    }
}

/// What `detect` found, and how much of the keyspace it looked at.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detection {
    pub found: Vec<Detected>,
    /// Redis keys looked at, and how many there are (sum of DBSIZE), when Redis is configured.
    pub keys_sampled: u64,
    pub keys_total: Option<u64>,
    /// The sample stopped at [`DETECT_SAMPLE`] keys or [`DETECT_COLLECTIONS`] collections: the
    /// counts are the sample's.
    pub capped: bool,
    /// Long-term collections looked at (roots and, below them, their documents' subcollections).
    pub collections_walked: usize,
    /// What no layout took: Redis namespaces of lists, hashes, JSON documents and streams
    /// (`jobs:* (12 list)`), most keys first, and long-term collections holding documents of
    /// no known layout (not above one that was placed).
    pub unplaced: Vec<String>,
}

impl Detection {
    /// What `detect` found, said to someone looking at an empty list (the TUI's list, the
    /// headless `conversations` and `show`): the best other layout and the preset that reads
    /// it, or that there is none; with how much was sampled.
    pub fn said_to_an_empty_list(&self, configured: crate::config::LayoutPreset) -> String {
        let sample = if self.capped {
            format!(
                " (in a sample of {} of {} keys)",
                self.keys_sampled,
                self.keys_total.map(|n| n.to_string()).unwrap_or("?".into())
            )
        } else {
            String::new()
        };
        let others: Vec<&Detected> = self.found.iter().filter(|d| d.layout != configured.name()).collect();
        let sentence = match others.iter().find(|d| d.supported) {
            Some(best) => format!(
                "found {} conversations written as {} at {}: set [profile.NAME.layout] preset = \"{}\" (`memscope detect` prints the lines)",
                best.conversations, best.layout, best.at, best.layout
            ),
            None => match others.first() {
                Some(d) => format!(
                    "found {} conversations written as {} at {} — memscope has no preset for it yet",
                    d.conversations, d.layout, d.at
                ),
                None => format!("no conversations in any known layout either (layout \"{}\")", configured.name()),
            },
        };
        format!("{sentence}{sample}")
    }
}

/// How many keys and documents `detect` looks at, at most.
pub const DETECT_SAMPLE: usize = 20_000;
/// Long-term collections `detect` looks at, at most, and how deep (collection levels:
/// `agent_memory/prod/chats` is 2, `orgs/o/users/u/chats` 3), and how many documents of each
/// it looks under for subcollections.
pub const DETECT_COLLECTIONS: usize = 200;
pub const DETECT_DEPTH: usize = 3;
pub const DETECT_FANOUT: usize = 25;

fn first_json(v: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(v).ok()
}

/// Sample the stores (a bounded SCAN of Redis, the root collections of the long-term store)
/// and say which layouts are there, with counts, most conversations first.
pub async fn detect(
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Detection, StoreError> {
    let (mut keys_sampled, mut keys_total, mut capped) = (0u64, None, false);
    use std::collections::BTreeMap;
    let mut found: BTreeMap<(String, String), u64> = BTreeMap::new();
    fn add(found: &mut std::collections::BTreeMap<(String, String), u64>, layout: &str, at: &str) {
        *found.entry((layout.to_string(), at.to_string())).or_default() += 1;
    }
    let mut unplaced: Vec<String> = Vec::new();
    if let Some(r) = &redis {
        let mut scan = KeyspaceScan::start(r.clone(), "*", None, 1000).await?;
        let mut placed: std::collections::HashSet<Key> = std::collections::HashSet::new();
        keys_total = scan.total;
        let mut keys: Vec<Key> = Vec::new();
        let mut open = scan.nodes.len();
        while let Some(p) = scan.next_page().await {
            let p = p?;
            open -= usize::from(p.node_done);
            keys.extend(p.keys);
            if keys.len() >= DETECT_SAMPLE {
                capped = open > 0;
                break;
            }
        }
        keys.sort();
        keys.dedup();
        keys_sampled = keys.len() as u64;
        let metas = r.meta(&keys).await?;
        let lists: Vec<Key> = metas
            .iter()
            .filter(|(_, m)| m.ktype.as_ref().is_some_and(|t| t.name() == "list"))
            .map(|(k, _)| k.clone())
            .collect();
        let ops: Vec<CacheOp> = lists.iter().map(|k| CacheOp::LRange { key: k.clone(), start: 0, stop: 0 }).collect();
        let firsts = if ops.is_empty() { Vec::new() } else { r.exec(&ops).await? };
        for (k, first) in lists.iter().zip(firsts) {
            let name = String::from_utf8_lossy(k);
            let v = match first {
                CacheReply::Items(i) => i.first().and_then(|x| first_json(x)),
                _ => None,
            };
            let Some(v) = v else { continue };
            if name.starts_with("conversation:") && name.ends_with(":messages") {
                add(&mut found, "memscope", "conversation:*:messages");
            } else if v.get("data").is_some() && v.get("type").is_some() {
                let prefix = name.rsplit_once(':').map(|(p, _)| format!("{p}:")).unwrap_or_default();
                add(&mut found, "langchain-redis-list", &prefix);
            } else if v.get("blocks").is_some() && v.get("role").is_some() {
                add(&mut found, "llamaindex-redis", "*");
            } else {
                continue;
            }
            placed.insert(k.clone());
        }
        // Layouts with a key per message (or checkpoint): count their conversations once.
        let mut seen = std::collections::HashSet::new();
        let mut mem0: Vec<Key> = Vec::new();
        let mut lg_threads: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut lg_namespaced: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (k, m) in &metas {
            let name = String::from_utf8_lossy(k);
            let t = m.ktype.as_ref().map(|t| t.name().to_string()).unwrap_or_default();
            let thread = name.split(':').nth(1).unwrap_or("").to_string();
            if t == "ReJSON-RL" && name.starts_with(CHECKPOINT_PREFIX) {
                // The thread whole (`user:42`): before `:__empty__:{id}`, or a shallow saver's
                // `checkpoint:{thread}:`, else `{thread}:{ns}` before the id.
                let rest = &name[CHECKPOINT_PREFIX.len()..];
                match (rest.strip_suffix(':'), rest.rfind(&format!("{EMPTY_NS}:"))) {
                    (Some(t), _) => lg_threads.insert(t.to_string()),
                    (None, Some(i)) => lg_threads.insert(rest[..i].to_string()),
                    // A namespace (a subgraph's): counted after, under its thread if it has one.
                    (None, None) => lg_namespaced.insert(rest.rsplit_once(':').map_or(rest, |(t, _)| t).to_string()),
                };
            } else if t == "ReJSON-RL" && name.starts_with("chat:") {
                placed.insert(k.clone());
                if seen.insert(("langchain-redis-json", thread)) {
                    add(&mut found, "langchain-redis-json", "chat:*");
                }
            } else if t == "hash" && is_redisvl_key(&name) {
                placed.insert(k.clone());
                let (head, _) = name.rsplit_once(':').unwrap_or_default();
                let (head, _) = head.rsplit_once(':').unwrap_or_default();
                let (prefix, session) = head.split_once(':').unwrap_or_default();
                if seen.insert(("redisvl", session.to_string())) {
                    add(&mut found, "redisvl", &format!("{prefix}:"));
                }
            } else if t == "hash" && name.starts_with("mem0:") {
                placed.insert(k.clone());
                mem0.push(k.clone());
            } else if t == "ReJSON-RL" && name.starts_with("working_memory:") {
                // agent-memory-server: a working-memory document per session.
                placed.insert(k.clone());
                add(&mut found, "agent-memory-server", "working_memory:*");
            } else if t == "hash" && name.starts_with("memory_idx:") {
                // Its long-term memory records: read by the same preset (its second source).
                placed.insert(k.clone());
            }
        }
        // LangGraph: threads, and the namespaces that have no thread of their own.
        let alone = lg_namespaced
            .iter()
            .filter(|ns| !ns.match_indices(':').any(|(i, _)| lg_threads.contains(&ns[..i])))
            .count();
        for _ in 0..lg_threads.len() + alone {
            add(&mut found, "langgraph-redis", "checkpoint:*");
        }
        // Lists, hashes, JSON documents and streams no layout took: by namespace (the name up to
        // its first `:`), most keys first — what was looked at and not read as conversations.
        // LangGraph's own bookkeeping (`checkpoint_write:*`, …) belongs to it once it is found.
        let langgraph = !lg_threads.is_empty() || alone > 0;
        let mut spaces: BTreeMap<String, (u64, std::collections::BTreeSet<String>)> = BTreeMap::new();
        for (k, m) in &metas {
            let t = m.ktype.as_ref().map(|t| t.name().to_string()).unwrap_or_default();
            if placed.contains(k) || !matches!(t.as_str(), "list" | "hash" | "ReJSON-RL" | "stream") {
                continue;
            }
            let name = String::from_utf8_lossy(k);
            if langgraph && name.starts_with("checkpoint") {
                continue;
            }
            let space = match name.split_once(':') {
                Some((ns, _)) => format!("{ns}:*"),
                None => name.to_string(),
            };
            let e = spaces.entry(space).or_default();
            e.0 += 1;
            e.1.insert(t);
        }
        let mut spaces: Vec<(String, (u64, std::collections::BTreeSet<String>))> = spaces.into_iter().collect();
        spaces.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
        unplaced.extend(spaces.into_iter().map(|(ns, (n, types))| {
            let types: Vec<String> = types.into_iter().collect();
            format!("{ns} ({n} {})", types.join("/"))
        }));
        // mem0: a conversation is a user's memories.
        for chunk in mem0.chunks(FIELD_BATCH) {
            let ops: Vec<CacheOp> =
                chunk.iter().map(|k| CacheOp::HMGet { key: k.clone(), fields: vec!["user_id".into()] }).collect();
            for r in r.exec(&ops).await? {
                if let CacheReply::Pairs(p) = r
                    && let Some((_, user)) = p.first()
                    && seen.insert(("mem0", String::from_utf8_lossy(user).into_owned()))
                {
                    add(&mut found, "mem0", "mem0:*");
                }
            }
        }
    }
    let mut collections_walked = 0usize;
    if let Some(lt) = &long_term {
        // The root collections, then the subcollections of their documents (missing ones too:
        // a per-user `users/{uid}/chats` often has no user document above it), breadth first,
        // at most DETECT_COLLECTIONS collections and DETECT_DEPTH levels.
        let mut queue: std::collections::VecDeque<String> = lt.collections(None).await?.into_iter().take(50).collect();
        let mut at_paths: Vec<(&str, String, u64)> = Vec::new();
        let mut looked: Vec<String> = Vec::new();
        while let Some(coll) = queue.pop_front() {
            if collections_walked >= DETECT_COLLECTIONS {
                capped = true;
                break;
            }
            collections_walked += 1;
            let page = lt.documents(&coll, None, 50).await?;
            if coll == "conversations" {
                let n = lt.count_conversations(&ConvFilter::All).await.unwrap_or(page.items.len() as u64);
                found.insert(("memscope".into(), coll.clone()), n);
                continue;
            }
            let chats = page
                .items
                .iter()
                .filter(|d| {
                    let raw = match d.get("messages") {
                        Some(FsValue::Array(a)) => match a.first() {
                            Some(FsValue::Bytes(b)) => b.clone(),
                            Some(FsValue::String(s)) => s.clone().into_bytes(),
                            _ => return false,
                        },
                        _ => return false,
                    };
                    first_json(&raw).is_some_and(|v| v.get("type").is_some())
                })
                .count() as u64;
            if chats > 0 {
                at_paths.push(("langchain-firestore", coll.clone(), chats));
                continue; // a chat document's subcollections are not looked into
            }
            // LangGraph's checkpointer: thread documents `{thread}_{ns}` (that do not exist)
            // holding `checkpoints`.
            let docs = lt.browse_documents(&coll, None, 50).await?;
            let mut threads = 0;
            let mut subs = Vec::new();
            for d in docs.items.iter().take(DETECT_FANOUT) {
                let under = lt.collections(Some(&d.path)).await?;
                if d.fields.is_empty() && d.update_time.is_none() && under.iter().any(|c| c == "checkpoints") {
                    threads += 1;
                } else if coll.split('/').count() < DETECT_DEPTH * 2 - 1 {
                    subs.extend(under.into_iter().map(|c| format!("{}/{c}", d.path)));
                }
            }
            if threads > 0 {
                at_paths.push(("langgraph-firestore", coll.clone(), threads));
                continue;
            }
            if !page.items.is_empty() {
                looked.push(coll.clone());
            }
            queue.extend(subs);
        }
        // The same collection under several documents of one collection is one place:
        // `users/*/chats` (read as a collection group), counted together.
        let mut groups: BTreeMap<(&str, String), Vec<(String, u64)>> = BTreeMap::new();
        for (layout, coll, n) in at_paths {
            let segs: Vec<&str> = coll.split('/').collect();
            let key = match segs.len() {
                1 => coll.clone(),
                k => format!("{}/*/{}", segs[..k - 2].join("/"), segs[k - 1]),
            };
            groups.entry((layout, key)).or_default().push((coll, n));
        }
        for ((layout, pattern), members) in groups {
            let at = if members.len() > 1 { pattern } else { members[0].0.clone() };
            *found.entry((layout.to_string(), at)).or_default() += members.iter().map(|m| m.1).sum::<u64>();
        }
        // Collections holding documents of no known layout, and not above one that was placed:
        // named, so that an empty answer is never a silent one.
        let placed: Vec<String> = found.keys().map(|(_, at)| at.clone()).collect();
        let above = |c: &String| {
            placed.iter().any(|p| {
                let (cs, ps): (Vec<&str>, Vec<&str>) = (c.split('/').collect(), p.split('/').collect());
                ps.len() > cs.len() && cs.iter().zip(&ps).all(|(a, b)| a == b || *b == "*")
            })
        };
        unplaced.extend(looked.into_iter().filter(|c| !above(c)));
    }
    let mut out: Vec<Detected> = found
        .into_iter()
        .map(|((layout, at), n)| {
            let preset = LayoutPreset::ALL.into_iter().find(|p| p.name() == layout);
            let config = preset.map(|p| {
                let mut c = format!("preset = \"{}\"", p.name());
                let d = LayoutConfig::preset(p);
                match p {
                    LayoutPreset::LangchainFirestore | LayoutPreset::LanggraphFirestore if at != d.collection => {
                        c.push_str(&format!("\ncollection = \"{at}\""))
                    }
                    LayoutPreset::LangchainRedisList | LayoutPreset::Redisvl if at != d.key_prefix => {
                        c.push_str(&format!("\nkey_prefix = \"{at}\"\nkeys = \"{at}*\""))
                    }
                    // mem0 keeps whole seconds; its history database, where mem0 put it by
                    // default, gives the order within one (a comment: it may be another stack's).
                    LayoutPreset::Mem0 => c.push_str(
                        "\n# history = \"~/.mem0/history.db\"   # mem0's history database: the order within a second",
                    ),
                    _ => {}
                }
                c
            });
            Detected { supported: preset.is_some(), layout, conversations: n, at, config }
        })
        .collect();
    out.sort_by(|a, b| b.conversations.cmp(&a.conversations).then(a.layout.cmp(&b.layout)));
    Ok(Detection { found: out, keys_sampled, keys_total, capped, collections_walked, unplaced })
}
