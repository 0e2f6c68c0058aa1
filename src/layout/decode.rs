//! A stored message as a [`Message`]: the frameworks' shapes (LangChain, LlamaIndex, OpenAI tool calls), field paths, times, titles.

use super::*;

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
pub(super) fn content_text(v: Option<&Value>) -> String {
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
pub(super) fn tool_calls_of(body: &Value) -> Vec<ToolCall> {
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
pub(super) struct Decoded {
    /// The role as stored (`human`, `ai`, `assistant`, a class name…).
    pub(super) ty: String,
    /// The text, with a line per tool call and a tool result's link to its call.
    pub(super) content: String,
    pub(super) tool_calls: Vec<ToolCall>,
    pub(super) tool_call_id: Option<String>,
}

/// One stored message (JSON): LangChain's serialised messages (flat, `{type, data}` or the
/// `lc` constructor form, with tool calls and tool results), LlamaIndex's `{role, blocks}`
/// (tool calls in `additional_kwargs` or blocks, results linked by `tool_call_id`); anything
/// else is shown raw (never dropped).
pub(super) fn decode_value(v: &Value) -> Decoded {
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
pub(super) fn at_path(v: &Value, path: &str) -> Option<Value> {
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

pub(super) fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A stored time: a Timestamp's RFC 3339 text, an ISO string, or Unix seconds (ms/µs told
/// apart by size) as a number or a numeric string.
pub(super) fn ts_of(v: &Value) -> Option<Ts> {
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
pub(super) struct Parts {
    pub(super) role: String,
    pub(super) content: String,
    pub(super) id: Option<String>,
    pub(super) ts: Option<Ts>,
    /// How the stored time is written (an ISO string, or a Unix number).
    pub(super) ts_form: TsForm,
    pub(super) user: Option<String>,
    pub(super) tool_calls: Vec<ToolCall>,
    pub(super) tool_call_id: Option<String>,
}

/// The parts of a stored message: by the layout's field paths where it names them, else the
/// frameworks' way; role names through the layout's role map.
pub(super) fn parts(l: &LayoutConfig, v: &Value) -> Parts {
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
pub(super) fn has_text_field(v: &Value) -> bool {
    ["/content", "/blocks", "/data/content", "/kwargs/content", "/text"].iter().any(|p| v.pointer(p).is_some())
}

/// The marker of a message whose text is not where the layout reads it, naming its fields.
pub(super) fn missing_text(v: &Value, field: &str) -> String {
    let fields: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    format!(
        "⟨no `{}` in this message — its fields: {}; set content_field to the one holding the text⟩",
        field.replace('|', "` or `"),
        if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
    )
}

/// One stored item (a list element, an array item) as JSON, by the layout's encoding; what
/// cannot be decoded stays a string, shown raw.
pub(super) fn decode_item(l: &LayoutConfig, raw: &[u8]) -> Value {
    if l.encoding == Encoding::MsgpackBase64 {
        let decoded = std::str::from_utf8(raw).ok().and_then(crate::msgpack::from_base64);
        if let Some(v) = decoded.or_else(|| crate::msgpack::decode(raw)) {
            return v;
        }
    }
    serde_json::from_slice(raw).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
}

/// A message from its stored JSON; `fallback_id` and `fallback_ts` where the message has none.
pub(super) fn message_of(
    l: &LayoutConfig,
    path: String,
    fallback_id: String,
    fallback_ts: Option<Ts>,
    v: &Value,
) -> Message {
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
pub(super) fn positional(l: &LayoutConfig, path: &str, i: usize, v: &Value) -> Message {
    message_of(l, format!("{path}#{}", i + 1), format!("#{:05}", i + 1), None, v)
}

/// The title a conversation is listed with: its first message, cut.
pub(super) fn title_of(m: &Message) -> String {
    m.content.chars().take(80).collect()
}

/// How many of a thread's first messages a listing reads for its title.
pub(super) const TITLE_LOOK: usize = 3;

/// The title of a thread from its first messages: the first that is not a system prompt (a
/// prompt every conversation shares says nothing of this one), else the first.
pub(super) fn title_from(first: &[Message]) -> Option<String> {
    first.iter().find(|m| m.role != "system").or(first.first()).map(title_of)
}

pub(super) fn first_json(v: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(v).ok()
}
