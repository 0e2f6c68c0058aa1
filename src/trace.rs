//! One message followed across the three tiers (the thread's `t`), and the per-message tier
//! badges of a thread. Each tier is read on its own: an outage of one never hides the others.

use crate::domain::{CacheOp, CacheReply, Document, Message, Metadata, Ts, VectorQuery};
use crate::error::StoreError;
use crate::memory::{
    Memory, RecentMessage, SESSION_FIELDS, doc_cache_key, message_path, recent_key, recent_window, session_key,
    text_item, vector_disagreements, vector_id,
};
use std::collections::{HashMap, HashSet};

/// Nearest neighbours shown with a vector record.
pub const NEIGHBOURS: u32 = 5;

/// One Redis key that holds (or should hold) something of the message.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisEntry {
    pub key: String,
    /// What the key is to the layer: "recent list", "session", "read-through cache".
    pub role: &'static str,
    /// The key holds this message (for a session: points at it).
    pub holds: bool,
    pub detail: String,
    /// PTTL when read: milliseconds left, -1 without TTL, -2 when the key does not exist.
    pub pttl_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub id: String,
    pub score: f32,
    pub conversation_id: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorTrace {
    pub namespace: String,
    /// The layer's rule says this message belongs in the vector tier.
    pub relevant: bool,
    /// (dimension, metadata) of the record, if there is one.
    pub record: Option<(usize, Metadata)>,
    /// How the record's metadata differs from the long-term message (empty: agrees).
    pub disagreements: Vec<String>,
    pub neighbours: Vec<Neighbour>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub conversation: String,
    pub message: String,
    pub path: String,
    /// The long-term document (None: no such document).
    pub document: Result<Option<Document>, StoreError>,
    /// None: Redis is not configured.
    pub redis: Option<Result<Vec<RedisEntry>, StoreError>>,
    /// None: the vector tier is not configured.
    pub vector: Option<Result<VectorTrace, StoreError>>,
    pub elapsed_ms: u64,
}

impl Trace {
    /// The whole trace as text, nothing cut (the pager shows it; the side panel fits it to its
    /// width): each tier's findings, every field and metadata value whole.
    pub fn to_text(&self) -> String {
        use crate::text::sanitize_multiline as safe;
        let mut out = vec![format!("LONG-TERM  {}", safe(self.path.as_bytes()))];
        match &self.document {
            Ok(Some(d)) => {
                let json = crate::domain::fields_json(&d.fields);
                let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
                out.extend(safe(pretty.as_bytes()).split('\n').map(|l| format!("  {l}")));
            }
            Ok(None) => out.push("  ✗ no such document (deleted?)".into()),
            Err(e) => out.push(format!("  ✗ {}", safe(e.to_string().as_bytes()))),
        }
        out.push(String::new());
        out.push("SHORT-TERM (Redis)".into());
        match &self.redis {
            None => out.push("  not configured".into()),
            Some(Err(e)) => out.push(format!("  ✗ {}", safe(e.to_string().as_bytes()))),
            Some(Ok(entries)) => {
                for e in entries {
                    let ttl = match e.pttl_ms {
                        -2 => "absent".to_string(),
                        -1 => "no TTL".to_string(),
                        ms => format!("TTL {} when read", crate::text::human_ms(ms)),
                    };
                    let held = if e.holds { "●" } else { "○" };
                    out.push(format!("  {held} {} ({ttl})", safe(e.key.as_bytes())));
                    out.push(format!("      {}: {}", e.role, safe(e.detail.as_bytes())));
                }
            }
        }
        out.push(String::new());
        out.push("VECTOR".into());
        match &self.vector {
            None => out.push("  not configured".into()),
            Some(Err(e)) => out.push(format!("  ✗ {}", safe(e.to_string().as_bytes()))),
            Some(Ok(v)) => {
                let ns = if v.namespace.is_empty() { "(default)".to_string() } else { safe(v.namespace.as_bytes()) };
                match &v.record {
                    None if v.relevant => out.push(format!(
                        "  ✗ no record in namespace {ns}, but the layer's rule says it belongs there (audit --repair)"
                    )),
                    None => out.push(format!("  ○ no record in namespace {ns} (not indexed by the layer's rule)")),
                    Some((dims, md)) => {
                        let agree = if v.disagreements.is_empty() { "agrees with" } else { "differs from" };
                        out.push(format!("  ● {dims} dims in namespace {ns}; metadata {agree} long-term"));
                        out.extend(v.disagreements.iter().map(|d| format!("      {}", safe(d.as_bytes()))));
                        for (k, x) in md {
                            let val = match x {
                                serde_json::Value::String(s) => format!("\"{}\"", safe(s.as_bytes())),
                                other => other.to_string(),
                            };
                            out.push(format!("    {}: {val}", safe(k.as_bytes())));
                        }
                    }
                }
                if !v.neighbours.is_empty() {
                    out.push("  nearest neighbours:".into());
                    for n in &v.neighbours {
                        out.push(format!("    {:.3}  {}  {}", n.score, safe(n.id.as_bytes()), safe(n.text.as_bytes())));
                    }
                }
            }
        }
        out.push(String::new());
        out.push(format!("read in {} ms", self.elapsed_ms));
        out.join("\n")
    }
}

/// Which of a thread's messages each faster tier holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Badges {
    /// Ids in the conversation's recent list (None: Redis not configured or unreachable).
    pub redis: Option<HashSet<String>>,
    /// Ids with a vector record (None: vector tier not configured or unreachable).
    pub vector: Option<HashSet<String>>,
    pub errors: Vec<String>,
}

fn int(r: Option<&CacheReply>) -> i64 {
    match r {
        Some(CacheReply::Int(i)) => *i,
        _ => -2,
    }
}

/// The messages of that read's reply (entries that are not the layer's JSON are left out).
fn recent_items(reply: Option<&CacheReply>) -> Vec<RecentMessage> {
    match reply {
        Some(CacheReply::Items(items)) => items.iter().filter_map(|i| RecentMessage::parse(i)).collect(),
        _ => vec![],
    }
}

/// The recent list's messages (None: Redis is not configured).
async fn recent_ids(mem: &Memory, conversation: &str) -> Result<Option<Vec<RecentMessage>>, StoreError> {
    let Some(r) = mem.redis() else { return Ok(None) };
    Ok(Some(recent_items(r.exec(&[recent_window(conversation)]).await?.first())))
}

/// Which of `ids` the recent list and the vector tier hold.
pub async fn badges(mem: &Memory, conversation: &str, ids: &[String]) -> Badges {
    let mut b = Badges::default();
    match recent_ids(mem, conversation).await {
        Ok(Some(items)) => b.redis = Some(items.into_iter().map(|m| m.message_id).collect()),
        Ok(None) => {}
        Err(e) => b.errors.push(format!("Redis: {e}")),
    }
    if let Some(v) = mem.vector() {
        let mut found = HashSet::new();
        let mut ok = true;
        // Records are keyed per conversation; the badges speak of message ids.
        let by_vid: HashMap<String, &String> = ids.iter().map(|m| (vector_id(conversation, m), m)).collect();
        let vids: Vec<String> = by_vid.keys().cloned().collect();
        for chunk in vids.chunks(1000) {
            match v.store.fetch(chunk, &v.namespace).await {
                Ok(recs) => found.extend(recs.into_iter().filter_map(|r| by_vid.get(&r.id).map(|m| (*m).clone()))),
                Err(e) => {
                    b.errors.push(format!("vector tier: {e}"));
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            b.vector = Some(found);
        }
    }
    b
}

async fn redis_entries(
    mem: &Memory,
    conversation: &str,
    message: &str,
    doc: Option<&Message>,
) -> Option<Result<Vec<RedisEntry>, StoreError>> {
    let r = mem.redis()?;
    let recent = recent_key(conversation);
    let session = session_key(conversation);
    let cache = doc_cache_key(&message_path(conversation, message));
    let ops = [
        recent_window(conversation),
        CacheOp::PTtl(recent.clone()),
        CacheOp::HMGet { key: session.clone(), fields: SESSION_FIELDS.map(String::from).to_vec() },
        CacheOp::PTtl(session.clone()),
        CacheOp::Get(cache.clone().into_bytes().into()),
        CacheOp::PTtl(cache.clone().into_bytes().into()),
        CacheOp::LLen(recent.clone()),
        CacheOp::HLen(session.clone()),
    ];
    let replies = match r.exec(&ops).await {
        Ok(r) => r,
        Err(e) => return Some(Err(e)),
    };
    let mut out = Vec::new();
    // The recent list.
    // Each entry read with its position (entries that are not the layer's JSON are counted,
    // not shown); only the newest LIST_WINDOW were read, so positions count from the start.
    let raw: &[Vec<u8>] = match replies.first() {
        Some(CacheReply::Items(v)) => v,
        _ => &[],
    };
    let found = raw
        .iter()
        .enumerate()
        .find_map(|(i, b)| Some((i, RecentMessage::parse(b)?)).filter(|(_, m)| m.message_id == message));
    let pos = found.as_ref().map(|(i, _)| *i);
    let items: Vec<RecentMessage> = found.map(|(_, m)| m).into_iter().collect();
    let keep = mem.config().recent_messages;
    let list_len = int(replies.get(6)).max(raw.len() as i64);
    let unread = (list_len - raw.len() as i64).max(0);
    let window =
        if unread > 0 { format!("; the newest {} of {list_len} entries read", raw.len()) } else { String::new() };
    let detail = match pos {
        Some(i) => {
            let m = &items[0];
            let agrees = doc.map(|d| d.content == m.content && d.role == m.role);
            format!(
                "entry {} of {} (newest last){}{window}",
                unread as usize + i + 1,
                list_len,
                match agrees {
                    Some(true) => " · agrees with long-term",
                    Some(false) => " · DIFFERS from long-term",
                    None => "",
                }
            )
        }
        None if raw.is_empty() => "no recent list for this conversation".into(),
        None => format!("not in the list ({list_len} entries; the layer keeps the newest {keep}){window}"),
    };
    out.push(RedisEntry {
        key: String::from_utf8_lossy(&recent).into_owned(),
        role: "recent list",
        holds: pos.is_some(),
        detail,
        pttl_ms: int(replies.get(1)),
    });
    // The session hash.
    let fields: Vec<(String, String)> = match replies.get(2) {
        Some(CacheReply::Pairs(p)) => p
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect(),
        _ => vec![],
    };
    let last = fields.iter().find(|(k, _)| k == "last_message_id").map(|(_, v)| v.clone());
    out.push(RedisEntry {
        key: String::from_utf8_lossy(&session).into_owned(),
        role: "session",
        holds: last.as_deref() == Some(message),
        detail: if fields.is_empty() && int(replies.get(7)) <= 0 {
            "no session (expired or never written)".into()
        } else {
            let mut f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let others = int(replies.get(7)) - fields.len() as i64;
            if others > 0 {
                f.push(format!("+{others} other fields (not read)"));
            }
            f.join(" · ")
        },
        pttl_ms: int(replies.get(3)),
    });
    // The read-through cache of the document.
    let cached = matches!(replies.get(4), Some(CacheReply::Value(Some(_))));
    out.push(RedisEntry {
        key: cache,
        role: "read-through cache",
        holds: cached,
        detail: if cached {
            "cached copy of the document".into()
        } else {
            "not cached (read from long-term on demand)".into()
        },
        pttl_ms: int(replies.get(5)),
    });
    Some(Ok(out))
}

async fn vector_trace(
    mem: &Memory,
    conversation: &str,
    message: &str,
    doc: Option<&Message>,
) -> Option<Result<VectorTrace, StoreError>> {
    let v = mem.vector()?;
    let run = async {
        let relevant = doc.is_some_and(|m| mem.is_relevant(&m.role, &m.content));
        let vid = vector_id(conversation, message);
        let rec = v.store.fetch(std::slice::from_ref(&vid), &v.namespace).await?.into_iter().next();
        let mut t = VectorTrace {
            namespace: v.namespace.clone(),
            relevant,
            record: None,
            disagreements: vec![],
            neighbours: vec![],
        };
        let Some(rec) = rec else { return Ok(t) };
        if let Some(m) = doc {
            let user = m.user_id.clone().unwrap_or_default();
            let want = text_item(
                conversation,
                message,
                &user,
                &m.role,
                m.timestamp.unwrap_or(Ts { secs: 0, nanos: 0 }),
                &m.content,
            );
            t.disagreements = vector_disagreements(&rec.metadata, &want, &v.text_field);
        }
        if !rec.values.is_empty() {
            let q = VectorQuery {
                vector: Some(rec.values.clone()),
                id: None,
                top_k: NEIGHBOURS + 1,
                namespace: v.namespace.clone(),
                filter: None,
                include_values: false,
                include_metadata: true,
            };
            let res = v.store.query(&q).await?;
            t.neighbours = res
                .matches
                .into_iter()
                .filter(|m| m.id != vid)
                .take(NEIGHBOURS as usize)
                .map(|m| {
                    let md = m.metadata.unwrap_or_default();
                    Neighbour {
                        id: m.id,
                        score: m.score,
                        conversation_id: md.get("conversation_id").and_then(|x| x.as_str()).map(str::to_string),
                        text: md
                            .get(&v.text_field)
                            .and_then(|x| x.as_str())
                            .unwrap_or_default()
                            .chars()
                            .take(200)
                            .collect(),
                    }
                })
                .collect();
        }
        t.record = Some((rec.values.len(), rec.metadata));
        Ok(t)
    };
    Some(run.await)
}

/// Follow one message across the tiers.
pub async fn trace(mem: &Memory, conversation: &str, message: &str) -> Trace {
    let t0 = std::time::Instant::now();
    let path = message_path(conversation, message);
    let document = mem.long_term().document(&path).await;
    let msg = match &document {
        Ok(Some(d)) => Some(Message::from_doc(d.clone())),
        _ => None,
    };
    let (redis, vector) = tokio::join!(
        redis_entries(mem, conversation, message, msg.as_ref()),
        vector_trace(mem, conversation, message, msg.as_ref())
    );
    Trace {
        conversation: conversation.to_string(),
        message: message.to_string(),
        path,
        document,
        redis,
        vector,
        elapsed_ms: t0.elapsed().as_millis() as u64,
    }
}
