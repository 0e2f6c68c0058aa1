//! `memscope detect`: which layouts the stores hold, and the lines that read them.

use super::recognise::{Claim, CollectionClaim, CollectionSample, Recognise, SampledKey};
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
    /// Search indexes with a VECTOR field: what Semantic Search can read with
    /// `[vector] backend = "redis"`.
    pub vector_indexes: Vec<DetectedIndex>,
    /// Search indexes listed by name only (FT.INFO is read for the first 50): whether they
    /// hold vectors is not known.
    pub indexes_not_read: usize,
}

/// A search index holding vectors, and the lines that search it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DetectedIndex {
    pub index: String,
    /// `HASH on doc:*`.
    pub on: String,
    /// `embedding VECTOR 384 × FLOAT32 COSINE HNSW`.
    pub field: String,
    pub documents: u64,
    /// The framework that wrote it, told by its fields.
    pub framework: Option<&'static str>,
    pub config: String,
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

/// Every layout `detect` recognises, in the order they are asked (the first claim wins).
pub(super) static RECOGNISERS: &[&dyn Recognise] = &[
    &super::memscope::Own,
    &super::redis_list::LangchainList,
    &super::redis_list::LlamaIndex,
    &super::checkpoints::LanggraphRedis,
    &super::keys::LangchainJson,
    &super::keys::Redisvl,
    &super::keys::Mem0,
    &super::redis_document::AgentMemoryServer,
    &super::firestore::LangchainFirestore,
    &super::firestore_checkpoints::LanggraphFirestore,
];

/// What the sample found, per (layout, place): conversation ids seen, or a count.
#[derive(Default)]
struct Found {
    counts: std::collections::BTreeMap<(LayoutPreset, String), u64>,
    seen: std::collections::HashSet<(LayoutPreset, String)>,
}

impl Found {
    fn conversation(&mut self, p: LayoutPreset, at: &str, id: &str) {
        if self.seen.insert((p, id.to_string())) {
            *self.counts.entry((p, at.to_string())).or_default() += 1;
        }
    }

    fn holds(&self, p: LayoutPreset) -> bool {
        self.counts.keys().any(|(q, _)| *q == p)
    }
}

/// Sample the stores (a bounded SCAN of Redis, the collections of the long-term store) and
/// say which layouts are there, with counts, most conversations first.
pub async fn detect(
    long_term: Option<Arc<dyn LongTermStore>>,
    redis: Option<Arc<dyn KeyStore>>,
) -> Result<Detection, StoreError> {
    let mut found = Found::default();
    let mut d = Detection {
        found: vec![],
        keys_sampled: 0,
        keys_total: None,
        capped: false,
        collections_walked: 0,
        unplaced: vec![],
        vector_indexes: vec![],
        indexes_not_read: 0,
    };
    if let Some(r) = &redis {
        detect_redis(r, &mut found, &mut d).await?;
    }
    if let Some(lt) = &long_term {
        detect_long_term(&**lt, &mut found, &mut d).await?;
    }
    let mut out: Vec<Detected> = found
        .counts
        .into_iter()
        .map(|((p, at), n)| {
            let config = RECOGNISERS.iter().find(|r| r.preset() == p).map(|r| r.config_lines(&at));
            Detected { supported: true, layout: p.name().to_string(), conversations: n, at, config }
        })
        .collect();
    out.sort_by(|a, b| b.conversations.cmp(&a.conversations).then(a.layout.cmp(&b.layout)));
    d.found = out;
    Ok(d)
}

/// Redis: a sample of keys (SCAN, up to [`DETECT_SAMPLE`]), their types and each list's first
/// item, offered to every layout; then what no layout took, by namespace.
async fn detect_redis(r: &Arc<dyn KeyStore>, found: &mut Found, d: &mut Detection) -> Result<(), StoreError> {
    let mut scan = KeyspaceScan::start(r.clone(), "*", None, 1000).await?;
    d.keys_total = scan.total;
    // The search indexes that hold vectors (the server's own list, not the sample's).
    if let Ok(info) = r.server_info().await {
        d.indexes_not_read = info.search_indexes.iter().filter(|i| i.on == "?").count();
        for i in info.search_indexes {
            let Some(f) = i.vector_field() else { continue };
            let prefixes: Vec<String> = i.prefixes.iter().map(|p| format!("{p}*")).collect();
            let mut config = format!("[profile.NAME.vector]\nbackend = \"redis\"\nindex = \"{}\"", i.name);
            if i.fields.iter().filter(|f| f.vector.is_some()).count() > 1 {
                config.push_str(&format!("\nvector_field = \"{}\"", f.name));
            }
            let schema = super::vector_schemas::recognise(i.fields.iter().map(|f| f.name.as_str()));
            if let Some(s) = schema {
                config.push_str(&s.config_lines());
            }
            d.vector_indexes.push(DetectedIndex {
                index: i.name.clone(),
                on: format!("{} on {}", i.on, prefixes.join(" ")),
                field: f.describe(),
                documents: i.docs,
                framework: schema.map(|s| s.framework),
                config,
            });
        }
    }
    let mut keys: Vec<Key> = Vec::new();
    let mut open = scan.nodes.len();
    while let Some(p) = scan.next_page().await {
        let p = p?;
        open -= usize::from(p.node_done);
        keys.extend(p.keys);
        if keys.len() >= DETECT_SAMPLE {
            d.capped = open > 0;
            break;
        }
    }
    keys.sort();
    keys.dedup();
    d.keys_sampled = keys.len() as u64;
    let metas = r.meta(&keys).await?;
    let type_of = |m: &crate::domain::KeyMeta| m.ktype.as_ref().map(|t| t.name().to_string()).unwrap_or_default();
    // The first item of every list (a list is a conversation only if it holds messages).
    let lists: Vec<&Key> = metas.iter().filter(|(_, m)| type_of(m) == "list").map(|(k, _)| k).collect();
    let ops: Vec<CacheOp> = lists.iter().map(|k| CacheOp::LRange { key: (*k).clone(), start: 0, stop: 0 }).collect();
    let firsts = if ops.is_empty() { Vec::new() } else { r.exec(&ops).await? };
    let mut first: std::collections::HashMap<&Key, serde_json::Value> = std::collections::HashMap::new();
    for (k, reply) in lists.into_iter().zip(firsts) {
        if let CacheReply::Items(i) = reply
            && let Some(v) = i.first().and_then(|x| first_json(x))
        {
            first.insert(k, v);
        }
    }
    let mut placed: std::collections::HashSet<&Key> = std::collections::HashSet::new();
    let mut bookkeeping: Vec<(LayoutPreset, &Key)> = Vec::new();
    let mut namespaces: Vec<(LayoutPreset, String)> = Vec::new();
    let mut by_field: Vec<(LayoutPreset, String, &'static str, &Key)> = Vec::new();
    for (k, m) in &metas {
        let name = String::from_utf8_lossy(k);
        let t = type_of(m);
        let sampled = SampledKey { name: &name, ktype: &t, first: first.get(k) };
        let Some((p, claim)) = RECOGNISERS.iter().find_map(|r| r.redis_key(&sampled).map(|c| (r.preset(), c))) else {
            continue;
        };
        match claim {
            Claim::Conversation { at, id } => found.conversation(p, &at, &id),
            Claim::ByField { at, field } => by_field.push((p, at, field, k)),
            Claim::Namespace(ns) => namespaces.push((p, ns)),
            Claim::Belongs => {}
            Claim::Bookkeeping => {
                bookkeeping.push((p, k));
                continue;
            }
        }
        placed.insert(k);
    }
    // A namespace is a conversation of its own only when no thread of the sample holds it.
    for (p, ns) in namespaces {
        let threads: Vec<String> = found.seen.iter().filter(|(q, _)| *q == p).map(|(_, id)| id.clone()).collect();
        if !ns.match_indices(':').any(|(i, _)| threads.iter().any(|t| *t == ns[..i])) {
            found.conversation(p, "checkpoint:*", &ns);
        }
    }
    // Conversations named by a field: read in batches.
    for chunk in by_field.chunks(FIELD_BATCH) {
        let ops: Vec<CacheOp> =
            chunk.iter().map(|(_, _, f, k)| CacheOp::HMGet { key: (*k).clone(), fields: vec![(*f).into()] }).collect();
        for ((p, at, ..), reply) in chunk.iter().zip(r.exec(&ops).await?) {
            if let CacheReply::Pairs(v) = reply
                && let Some((_, id)) = v.first()
            {
                found.conversation(*p, at, &String::from_utf8_lossy(id));
            }
        }
    }
    placed.extend(bookkeeping.into_iter().filter(|(p, _)| found.holds(*p)).map(|(_, k)| k));
    // Lists, hashes, JSON documents and streams no layout took: by namespace (the name up to
    // its first `:`), most keys first — what was looked at and not read as conversations.
    let mut spaces: std::collections::BTreeMap<String, (u64, std::collections::BTreeSet<String>)> = Default::default();
    for (k, m) in &metas {
        let t = type_of(m);
        if placed.contains(k) || !matches!(t.as_str(), "list" | "hash" | "ReJSON-RL" | "stream") {
            continue;
        }
        let name = String::from_utf8_lossy(k);
        let space = match name.split_once(':') {
            Some((ns, _)) => format!("{ns}:*"),
            None => name.to_string(),
        };
        let e = spaces.entry(space).or_default();
        e.0 += 1;
        e.1.insert(t);
    }
    let mut spaces: Vec<_> = spaces.into_iter().collect();
    spaces.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    d.unplaced.extend(spaces.into_iter().map(|(ns, (n, types))| {
        let types: Vec<String> = types.into_iter().collect();
        format!("{ns} ({n} {})", types.join("/"))
    }));
    Ok(())
}

/// The long-term store: the root collections, then the subcollections of their documents
/// (missing ones too: a per-user `users/{uid}/chats` often has no user document above it),
/// breadth first, at most [`DETECT_COLLECTIONS`] collections and [`DETECT_DEPTH`] levels; each
/// offered to every layout, by its first documents and then by the documents under it.
async fn detect_long_term(lt: &dyn LongTermStore, found: &mut Found, d: &mut Detection) -> Result<(), StoreError> {
    let mut queue: std::collections::VecDeque<String> = lt.collections(None).await?.into_iter().take(50).collect();
    let mut at_paths: Vec<(LayoutPreset, String, u64)> = Vec::new();
    let mut looked: Vec<String> = Vec::new();
    let claim = |c: &CollectionSample| RECOGNISERS.iter().find_map(|r| r.collection(c).map(|n| (r.preset(), n)));
    while let Some(coll) = queue.pop_front() {
        if d.collections_walked >= DETECT_COLLECTIONS {
            d.capped = true;
            break;
        }
        d.collections_walked += 1;
        let page = lt.documents(&coll, None, 50).await?;
        // Documents holding a vector value: a collection Semantic Search can read.
        let vectors: Vec<(&str, usize)> = page
            .items
            .iter()
            .filter_map(|doc| doc.fields.iter().find_map(|(k, v)| v.as_vector().map(|x| (k.as_str(), x.len()))))
            .collect();
        if let Some((field, dim)) = vectors.first() {
            let schema = page.items.iter().find_map(|doc| {
                doc.fields
                    .iter()
                    .any(|(k, _)| k == field)
                    .then(|| super::vector_schemas::recognise(doc.fields.iter().map(|(k, _)| k.as_str())))?
            });
            d.vector_indexes.push(DetectedIndex {
                index: coll.clone(),
                on: format!(
                    "a Firestore collection: {} of its first {} documents hold a vector",
                    vectors.len(),
                    page.items.len()
                ),
                field: format!("{field} vector {dim}"),
                documents: vectors.len() as u64,
                framework: schema.map(|s| s.framework),
                config: format!(
                    "[profile.NAME.vector]\nbackend = \"firestore\"\nindex = \"{coll}\"\nvector_field = \"{field}\"{}",
                    schema.map(|s| s.config_lines()).unwrap_or_default()
                ),
            });
        }
        let mut sample = CollectionSample { path: &coll, docs: &page.items, children: None };
        let mut claimed = claim(&sample);
        let mut subs = Vec::new();
        let children: Vec<(Document, Vec<String>)>;
        if claimed.is_none() {
            // The documents under it (existing or not) and their subcollections.
            let docs = lt.browse_documents(&coll, None, 50).await?;
            let mut under = Vec::new();
            for doc in docs.items.into_iter().take(DETECT_FANOUT) {
                let subcollections = lt.collections(Some(&doc.path)).await?;
                under.push((doc, subcollections));
            }
            children = under;
            sample.children = Some(&children);
            claimed = claim(&sample);
            if coll.split('/').count() < DETECT_DEPTH * 2 - 1 {
                subs.extend(children.iter().flat_map(|(doc, cs)| cs.iter().map(|c| format!("{}/{c}", doc.path))));
            }
        }
        match claimed {
            Some((p, CollectionClaim::Count)) => {
                let n = lt.count_conversations(&ConvFilter::All).await.unwrap_or(page.items.len() as u64);
                *found.counts.entry((p, coll.clone())).or_default() += n;
            }
            // A layout's collection is not looked into further.
            Some((p, CollectionClaim::Holds(n))) => at_paths.push((p, coll.clone(), n)),
            None => {
                if !page.items.is_empty() {
                    looked.push(coll.clone());
                }
                queue.extend(subs);
            }
        }
    }
    // The same collection under several documents of one collection is one place:
    // `users/*/chats` (read as a collection group), counted together.
    let mut groups: std::collections::BTreeMap<(LayoutPreset, String), Vec<(String, u64)>> = Default::default();
    for (p, coll, n) in at_paths {
        let segs: Vec<&str> = coll.split('/').collect();
        let key = match segs.len() {
            1 => coll.clone(),
            k => format!("{}/*/{}", segs[..k - 2].join("/"), segs[k - 1]),
        };
        groups.entry((p, key)).or_default().push((coll, n));
    }
    for ((p, pattern), members) in groups {
        let at = if members.len() > 1 { pattern } else { members[0].0.clone() };
        *found.counts.entry((p, at)).or_default() += members.iter().map(|m| m.1).sum::<u64>();
    }
    // Collections holding documents of no known layout, and not above one that was placed:
    // named, so that an empty answer is never a silent one.
    let placed: Vec<String> = found.counts.keys().map(|(_, at)| at.clone()).collect();
    let above = |c: &String| {
        placed.iter().any(|p| {
            let (cs, ps): (Vec<&str>, Vec<&str>) = (c.split('/').collect(), p.split('/').collect());
            ps.len() > cs.len() && cs.iter().zip(&ps).all(|(a, b)| a == b || *b == "*")
        })
    };
    d.unplaced.extend(looked.into_iter().filter(|c| !above(c)));
    Ok(())
}
