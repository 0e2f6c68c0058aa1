//! The demo's data: the fixture (`assets/demo_redis.json`), the Redis seed plan and the
//! long-term plan derived from it.

use super::{DemoError, FIXTURE};
use crate::domain::{Key, Seed};
use serde::Deserialize;

// ---------- the fixture ----------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub users: Vec<String>,
    pub agents: Vec<String>,
    pub conversations: Vec<FixtureConversation>,
    pub keys: Vec<FixtureKey>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureConversation {
    pub topic: String,
    /// The agent that holds the conversation (default: the agents in turn).
    #[serde(default)]
    pub agent: Option<String>,
    pub messages: Vec<(String, String)>,
}

impl Fixture {
    /// Conversation `i` of the demo (0-based; `conv-{i+1}`): its fixture, user and agent.
    pub fn conversation(&self, i: usize) -> (&FixtureConversation, &str, &str) {
        let c = &self.conversations[i % self.conversations.len()];
        let user = &self.users[i % self.users.len()];
        let agent = c.agent.as_deref().unwrap_or(&self.agents[i % self.agents.len()]);
        (c, user, agent)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureKey {
    pub key: String,
    #[serde(rename = "type")]
    pub ktype: String,
    #[serde(default)]
    pub ttl: Option<u64>,
    #[serde(default)]
    pub value: serde_json::Value,
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn k(s: &str) -> Key {
    s.as_bytes().into()
}

/// Expand the fixture into the writes that seed Redis: per conversation a session hash with a
/// TTL and a recent-messages list of JSON messages; then the fixture's own keys (caches,
/// counters, big and binary values, every type).
pub fn seed_plan(fx: &Fixture, count: usize) -> Result<Vec<Seed>, DemoError> {
    let mut out = Vec::new();
    let base_ts = 1_763_900_000i64; // 2025-11-23
    for i in 0..count {
        let (c, user, agent) = fx.conversation(i);
        let conv = format!("conv-{:04}", i + 1);
        let msgs: Vec<Vec<u8>> = c
            .messages
            .iter()
            .enumerate()
            .map(|(j, (role, content))| {
                crate::memory::RecentMessage {
                    message_id: format!("{conv}-m{:02}", j + 1),
                    role: role.clone(),
                    content: content.clone(),
                    timestamp: (base_ts + (i as i64) * 3600 + (j as i64) * 45).into(),
                    user_id: Some(user.to_string()),
                }
                .json()
            })
            .collect();
        out.push(Seed::List(crate::memory::recent_key(&conv), msgs));
        let session = crate::memory::session_key(&conv);
        out.push(Seed::Hash(
            session.clone(),
            vec![
                (b"user_id".to_vec(), user.as_bytes().to_vec()),
                (b"agent_id".to_vec(), agent.as_bytes().to_vec()),
                (b"topic".to_vec(), c.topic.clone().into_bytes()),
                (b"turns".to_vec(), c.messages.len().to_string().into_bytes()),
                (b"last_intent".to_vec(), c.topic.split_whitespace().next().unwrap_or("chat").as_bytes().to_vec()),
            ],
        ));
        out.push(Seed::Expire(session, 600 + (i as u64 * 97) % 3000));
    }
    for fk in &fx.keys {
        let key = k(&fk.key);
        let bad = |what: &str| DemoError::Fixture(format!("{}: {what}", fk.key));
        let strs = |v: &serde_json::Value| -> Result<Vec<Vec<u8>>, DemoError> {
            v.as_array()
                .ok_or_else(|| bad("value must be an array"))?
                .iter()
                .map(|x| Ok(x.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| x.to_string().into_bytes())))
                .collect()
        };
        let obj_pairs = |v: &serde_json::Value| -> Result<Pairs, DemoError> {
            Ok(v.as_object()
                .ok_or_else(|| bad("value must be an object"))?
                .iter()
                .map(|(f, x)| {
                    (
                        f.as_bytes().to_vec(),
                        x.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| x.to_string().into_bytes()),
                    )
                })
                .collect())
        };
        let seed = match fk.ktype.as_str() {
            "string" => Seed::String(
                key.clone(),
                fk.value.as_str().map(|s| s.as_bytes().to_vec()).unwrap_or_else(|| fk.value.to_string().into_bytes()),
            ),
            "json" => Seed::String(key.clone(), fk.value.to_string().into_bytes()),
            "hex" => {
                let h = fk.value.as_str().ok_or_else(|| bad("hex value must be a string"))?;
                let bytes = (0..h.len() / 2)
                    .map(|i| u8::from_str_radix(&h[i * 2..i * 2 + 2], 16).map_err(|_| bad("invalid hex")))
                    .collect::<Result<Vec<u8>, _>>()?;
                Seed::String(key.clone(), bytes)
            }
            "big" => {
                let n = fk.value.as_u64().ok_or_else(|| bad("big value must be a size in bytes"))? as usize;
                let line = b"2026-11-23T21:40:00Z INFO agent=planner step=retrieve docs=12 latency_ms=84 ok\n";
                Seed::String(key.clone(), line.iter().copied().cycle().take(n).collect())
            }
            "list" => Seed::List(key.clone(), strs(&fk.value)?),
            "set" => Seed::Set(key.clone(), strs(&fk.value)?),
            "hll" => Seed::HyperLogLog(key.clone(), strs(&fk.value)?),
            "hash" => Seed::Hash(key.clone(), obj_pairs(&fk.value)?),
            "zset" => Seed::ZSet(
                key.clone(),
                fk.value
                    .as_object()
                    .ok_or_else(|| bad("zset value must be an object of scores"))?
                    .iter()
                    .map(|(m, s)| (s.as_f64().unwrap_or(0.0), m.as_bytes().to_vec()))
                    .collect(),
            ),
            "stream" => Seed::Stream(
                key.clone(),
                fk.value
                    .as_array()
                    .ok_or_else(|| bad("stream value must be an array"))?
                    .iter()
                    .map(obj_pairs)
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(bad(&format!("unknown type `{other}`"))),
        };
        out.push(seed);
        if let Some(t) = fk.ttl {
            out.push(Seed::Expire(key, t));
        }
    }
    Ok(out)
}

pub fn fixture() -> Result<Fixture, DemoError> {
    serde_json::from_str(FIXTURE).map_err(|e| DemoError::Fixture(e.to_string()))
}

/// The long-term documents of the demo, written the way agents write them: users, agents, a
/// config document with every value type, and `count` conversations whose messages mix typed
/// timestamps and zone-less ISO strings (older Python writers).
/// `base` is the start of the oldest conversation (Unix seconds); they follow an hour apart.
pub fn long_term_plan(fx: &Fixture, count: usize, base: i64) -> Vec<(String, Vec<(String, crate::domain::FsValue)>)> {
    use crate::domain::{FsValue as V, Ts};
    let s = |x: &str| V::String(x.to_string());
    let mut out = Vec::new();
    for (i, u) in fx.users.iter().enumerate() {
        out.push((
            format!("users/{u}"),
            vec![
                ("name".into(), s(&format!("{} Example", u.trim_start_matches("u-")))),
                ("plan".into(), s(if i % 3 == 0 { "pro" } else { "free" })),
                ("locale".into(), s(["en-GB", "de-DE", "ja-JP", "pt-PT"][i % 4])),
                ("created_at".into(), V::Timestamp(Ts { secs: 1_700_000_000 + i as i64 * 86_400, nanos: 0 })),
                ("home".into(), V::GeoPoint { lat: 40.7128 + i as f64, lng: -74.006 }),
                ("avatar".into(), V::Bytes(vec![0x89, 0x50, 0x4e, 0x47, i as u8])),
            ],
        ));
    }
    for a in &fx.agents {
        out.push((
            format!("agents/{a}"),
            vec![
                ("status".into(), s("idle")),
                ("model".into(), s("gpt-4o-mini")),
                ("tools".into(), V::Array(vec![s("search"), s("refund")])),
                (
                    "limits".into(),
                    V::Map(vec![("max_tokens".into(), V::Int(4096)), ("temperature".into(), V::Double(0.2))]),
                ),
            ],
        ));
    }
    out.push((
        "config/memory".into(),
        vec![
            ("recent_messages".into(), V::Int(50)),
            ("session_ttl_s".into(), V::Int(1800)),
            ("score_threshold".into(), V::Double(0.72)),
            ("disabled_until".into(), V::Null),
            ("nan_example".into(), V::Double(f64::NAN)),
            ("inf_example".into(), V::Double(f64::INFINITY)),
            ("owner".into(), V::Reference("users/u-alice".into())),
            ("semantic_cache".into(), V::Bool(true)),
        ],
    ));
    for i in 0..count {
        let (c, user, agent) = fx.conversation(i);
        let id = format!("conv-{:04}", i + 1);
        let start = base + i as i64 * 3600;
        let n = c.messages.len();
        out.push((
            format!("conversations/{id}"),
            vec![
                ("title".into(), s(&c.topic)),
                ("user_id".into(), s(user)),
                ("agent_id".into(), s(agent)),
                ("user".into(), V::Reference(format!("users/{user}"))),
                ("created_at".into(), V::Timestamp(Ts { secs: start, nanos: 0 })),
                ("updated_at".into(), V::Timestamp(Ts { secs: start + n as i64 * 45, nanos: 0 })),
                ("message_count".into(), V::Int(n as i64)),
            ],
        ));
        for (j, (role, content)) in c.messages.iter().enumerate() {
            let t = Ts { secs: start + j as i64 * 45, nanos: 500_000_000 };
            // Every third conversation was written by an older writer: ISO strings, no zone.
            let ts = if i % 3 == 2 && j % 2 == 1 {
                s(t.to_rfc3339().trim_end_matches('Z').trim_end_matches(".500").to_string().as_str())
            } else {
                V::Timestamp(t)
            };
            out.push((
                format!("conversations/{id}/messages/{id}-m{:02}", j + 1),
                vec![
                    ("role".into(), s(role)),
                    ("content".into(), s(content)),
                    ("timestamp".into(), ts),
                    ("user_id".into(), s(user)),
                    (
                        "metadata".into(),
                        V::Map(vec![("source".into(), s("demo")), ("tokens".into(), V::Int(content.len() as i64 / 4))]),
                    ),
                ],
            ));
        }
    }
    // One very long message and one with terminal escapes, in the newest conversation.
    let newest = format!("conv-{count:04}");
    let long: String =
        (0..400).map(|k| format!("line {k}: the agent's scratchpad keeps growing with retrieved context.\n")).collect();
    out.push((
        format!("conversations/{newest}/messages/{newest}-m90"),
        vec![
            ("role".into(), s("tool")),
            ("content".into(), V::String(long)),
            ("timestamp".into(), V::Timestamp(Ts { secs: base + count as i64 * 3600 + 10_000, nanos: 0 })),
        ],
    ));
    out.push((
        format!("conversations/{newest}/messages/{newest}-m91"),
        vec![
            ("role".into(), s("user")),
            (
                "content".into(),
                s("pasted from a terminal: \u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7} and bidi \u{202e}olleh"),
            ),
            ("timestamp".into(), V::Timestamp(Ts { secs: base + count as i64 * 3600 + 10_060, nanos: 0 })),
        ],
    ));
    out
}

/// Write the long-term plan through any long-term store.
pub async fn seed_long_term(
    store: &dyn crate::store::LongTermStore,
    count: usize,
    base: i64,
) -> Result<usize, crate::error::StoreError> {
    let fx = fixture().map_err(|e| crate::error::StoreError::Other(e.to_string()))?;
    let plan = long_term_plan(&fx, count, base);
    let n = plan.len();
    store.put_many(plan).await?;
    Ok(n)
}

/// The demo's vector records: one per message of the long-term plan, with the metadata the
/// memory layer writes (so that `memscope audit` finds the demo consistent).
pub fn vector_items(plan: &[(String, Vec<(String, crate::domain::FsValue)>)]) -> Vec<crate::search::TextItem> {
    use crate::domain::{Document, Message, Ts};
    plan.iter()
        .filter_map(|(path, fields)| {
            let (conv, id) = crate::memory::split_message_path(path)?;
            let m = Message::from_doc(Document { path: path.clone(), fields: fields.clone(), update_time: None });
            let user = m.user_id.clone().unwrap_or_default();
            let ts = m.timestamp.unwrap_or(Ts { secs: 0, nanos: 0 });
            Some(crate::memory::text_item(conv, id, &user, &m.role, ts, &m.content))
        })
        .collect()
}
