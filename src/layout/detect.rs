//! `memscope detect`: which layouts the stores hold, and the lines that read them.

use super::*;

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
