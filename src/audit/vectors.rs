//! The vector tier against the long-term store: missing and stale records, records no message owns,
//! records under a moved key, and the index's dimension.

use super::*;

pub(super) async fn dimension(r: &mut Run<'_>) {
    let Some(v) = r.mem.vector() else { return };
    let index = match v.store.stats().await {
        Ok(s) => s.dimension,
        Err(e) => {
            r.report.skipped.push(format!("index dimension ({e})"));
            return;
        }
    };
    let Some(embedder) = &v.embedder else { return };
    let model = match embedder.dimension() {
        Some(d) => Some(d),
        None => embedder
            .embed(&["dimension probe".into()], crate::embed::InputType::Query)
            .await
            .ok()
            .and_then(|mut x| x.pop().map(|v| v.len())),
    };
    if let (Some(i), Some(m)) = (index, model)
        && i as usize != m
    {
        r.report.add(Finding::new(
            Kind::DimensionMismatch,
            format!("the embedder ({}) makes {m}-dimensional vectors; the index holds {i}", embedder.describe()),
        ));
    }
}

/// Vector records of the relevant messages of one page: those missing or wrong become
/// suspects, checked again once settled.
pub(super) async fn check_vectors(r: &mut Run<'_>, c: &str, msgs: &[Message]) -> Result<(), StoreError> {
    let relevant: Vec<Message> = msgs.iter().filter(|m| r.mem.is_relevant(&m.role, &m.content)).cloned().collect();
    let now = std::time::Instant::now();
    for chunk in relevant.chunks(1000) {
        let found = vector_findings(r.mem, c, chunk).await?;
        for (_, m) in found {
            r.vector_suspects.push((m, now));
        }
    }
    if r.vector_suspects.len() >= SUSPECTS {
        settle_vectors(r).await?;
    }
    Ok(())
}

/// The vector findings of some relevant messages of one conversation, with the message each
/// concerns.
pub(super) async fn vector_findings(
    mem: &Memory,
    c: &str,
    chunk: &[Message],
) -> Result<Vec<(Finding, Message)>, StoreError> {
    let Some(v) = mem.vector() else { return Ok(vec![]) };
    let mut out = Vec::new();
    {
        let ids: Vec<String> = chunk.iter().map(|m| vector_id(c, &m.id)).collect();
        let found: HashMap<String, crate::domain::Metadata> =
            v.store.fetch(&ids, &v.namespace).await?.into_iter().map(|rec| (rec.id, rec.metadata)).collect();
        // A message without its record may still have one under its bare id (an index written
        // before ids were made unique per conversation): that is re-keyed by the vector pass,
        // not reported missing.
        let bare: Vec<String> =
            chunk.iter().zip(&ids).filter(|(_, vid)| !found.contains_key(*vid)).map(|(m, _)| m.id.clone()).collect();
        let legacy: HashSet<String> = if bare.is_empty() {
            HashSet::new()
        } else {
            v.store
                .fetch(&bare, &v.namespace)
                .await?
                .into_iter()
                .filter_map(|rec| {
                    let owner = |k: &str| rec.metadata.get(k).and_then(|x| x.as_str());
                    (owner("conversation_id") == Some(c) && owner("message_id") == Some(rec.id.as_str()))
                        .then(|| vector_id(c, &rec.id))
                })
                .collect()
        };
        for (m, vid) in chunk.iter().zip(&ids) {
            let user = m.user_id.clone().unwrap_or_default();
            let ts = m.timestamp.unwrap_or(crate::domain::Ts { secs: 0, nanos: 0 });
            let want = text_item(c, &m.id, &user, &m.role, ts, &m.content);
            match found.get(vid) {
                None if legacy.contains(vid) => {}
                None => {
                    let mut f = Finding::new(Kind::MissingVector, format!("{} message, no record", m.role)).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    out.push((f, m.clone()));
                }
                Some(md) if !vector_agrees(md, &want, &v.text_field) => {
                    let diff = vector_disagreements(md, &want, &v.text_field);
                    let mut f = Finding::new(Kind::VectorMismatch, diff.join("; ")).conv(c);
                    f.message_ids = vec![m.id.clone()];
                    f.vector_id = Some(vid.clone());
                    out.push((f, m.clone()));
                }
                Some(_) => {}
            }
        }
    }
    Ok(out)
}

/// Suspected vector drift, checked again once settled (the message re-read too): what is still
/// wrong is reported, and re-embedded with `repair`.
pub(super) async fn settle_vectors(r: &mut Run<'_>) -> Result<(), StoreError> {
    let suspects = std::mem::take(&mut r.vector_suspects);
    let Some((_, first)) = suspects.first() else { return Ok(()) };
    wait_until(*first + r.opts.settle).await;
    let paths: Vec<String> = suspects.iter().map(|(m, _)| m.doc.path.clone()).collect();
    let docs = r.mem.long_term().get_many(&paths).await?;
    let mut by_conv: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for d in docs.into_iter().flatten() {
        let m = Message::from_doc(d);
        if let Some((c, _)) = crate::memory::split_message_path(&m.doc.path)
            && r.mem.is_relevant(&m.role, &m.content)
        {
            by_conv.entry(c.to_string()).or_default().push(m);
        }
    }
    let mut to_embed = Vec::new();
    for (c, msgs) in by_conv {
        for (f, m) in vector_findings(r.mem, &c, &msgs).await? {
            to_embed.push((f.kind, m));
            r.report.add(f);
        }
    }
    if r.writes() && !to_embed.is_empty() {
        let msgs: Vec<Message> = to_embed.iter().map(|(_, m)| m.clone()).collect();
        match r.mem.embed_messages(&msgs).await {
            Ok(_) => {
                for (k, _) in &to_embed {
                    r.report.repaired(*k, 1);
                }
            }
            Err(e) => r.fail(&format!("re-embedding {} messages", msgs.len()), e),
        }
    }
    Ok(())
}

/// Vector records whose message is gone (records without `conversation_id`/`message_id`
/// metadata are not the layer's and are left alone).
pub(super) async fn orphan_vectors(r: &mut Run<'_>) -> Result<(), StoreError> {
    let Some(v) = r.mem.vector().cloned() else { return Ok(()) };
    let total = v.store.stats().await.ok().map(|s| {
        s.namespaces.iter().find(|(n, _)| *n == v.namespace).map(|(_, c)| *c).unwrap_or(if v.namespace.is_empty() {
            s.total
        } else {
            0
        })
    });
    let mut token: Option<String> = None;
    let mut ids: Vec<String> = Vec::new();
    loop {
        let page = v.store.list_ids(None, &v.namespace, token.as_deref(), 100).await?;
        ids.extend(page.ids);
        token = page.next;
        if ids.len() >= 1000 || token.is_none() {
            check_orphans(r, &v, std::mem::take(&mut ids)).await?;
            let n = r.report.scanned.vectors;
            r.tick("vectors", n, total);
        }
        if token.is_none() {
            return Ok(());
        }
    }
}

pub(super) async fn check_orphans(
    r: &mut Run<'_>,
    v: &crate::tiers::VectorTier,
    ids: Vec<String>,
) -> Result<(), StoreError> {
    r.report.scanned.vectors += ids.len() as u64;
    let recs = v.store.fetch(&ids, &v.namespace).await?;
    let owned: Vec<(&crate::domain::VectorRecord, String, String)> = recs
        .iter()
        .filter_map(|rec| {
            let c = rec.metadata.get("conversation_id")?.as_str()?;
            let m = rec.metadata.get("message_id")?.as_str()?;
            Some((rec, c.to_string(), m.to_string()))
        })
        .collect();
    r.foreign_vectors += (recs.len() - owned.len()) as u64;
    let paths: Vec<String> = owned.iter().map(|(_, c, m)| crate::memory::message_path(c, m)).collect();
    let docs = r.mem.long_term().get_many(&paths).await?;
    let mut gone = Vec::new();
    let mut rekey = Vec::new();
    for ((rec, c, m), d) in owned.into_iter().zip(docs) {
        match d {
            None => {
                let mut f = Finding::new(Kind::OrphanVector, "its message does not exist").conv(&c);
                f.message_ids = vec![m.clone()];
                f.vector_id = Some(rec.id.clone());
                r.report.add(f);
                gone.push(rec.id.clone());
            }
            Some(doc) if rec.id != vector_id(&c, &m) => {
                let mut f = Finding::new(
                    Kind::LegacyVectorId,
                    format!("stored as {:?}, expected {:?}", rec.id, vector_id(&c, &m)),
                )
                .conv(&c);
                f.message_ids = vec![m.clone()];
                f.vector_id = Some(rec.id.clone());
                r.report.add(f);
                rekey.push((rec, Message::from_doc(doc)));
            }
            Some(_) => {}
        }
    }
    if r.writes() && !gone.is_empty() {
        match v.store.delete(&gone, &v.namespace).await {
            Ok(()) => r.report.repaired(Kind::OrphanVector, gone.len() as u64),
            Err(e) => r.fail(&format!("deleting {} orphan vectors", gone.len()), e),
        }
    }
    if r.writes() && !rekey.is_empty() {
        let n = rekey.len() as u64;
        match rekey_vectors(r.mem, v, rekey).await {
            Ok(()) => r.report.repaired(Kind::LegacyVectorId, n),
            Err(e) => r.fail(&format!("re-keying {n} vectors"), e),
        }
    }
    Ok(())
}

/// Move records stored under an old id to [`vector_id`]: a record whose metadata and text
/// agree with its message keeps its values (no embedding call); one that disagrees is embedded
/// again. The old id is deleted only once the new record is written.
pub(super) async fn rekey_vectors(
    mem: &Memory,
    v: &crate::tiers::VectorTier,
    recs: Vec<(&crate::domain::VectorRecord, Message)>,
) -> Result<(), StoreError> {
    let mut keep = Vec::new();
    let mut embed = Vec::new();
    let mut old = Vec::new();
    for (rec, m) in recs {
        let Some((c, id)) = crate::memory::split_message_path(&m.doc.path) else { continue };
        let user = m.user_id.clone().unwrap_or_default();
        let want = text_item(
            c,
            id,
            &user,
            &m.role,
            m.timestamp.unwrap_or(crate::domain::Ts { secs: 0, nanos: 0 }),
            &m.content,
        );
        old.push(rec.id.clone());
        if vector_agrees(&rec.metadata, &want, &v.text_field) && !rec.values.is_empty() {
            keep.push(crate::domain::VectorRecord {
                id: want.id,
                values: rec.values.clone(),
                metadata: rec.metadata.clone(),
            });
        } else if mem.is_relevant(&m.role, &m.content) {
            embed.push(m);
        }
    }
    if !keep.is_empty() {
        v.store.upsert(keep, &v.namespace).await?;
    }
    if !embed.is_empty() {
        mem.embed_messages(&embed).await?;
    }
    v.store.delete(&old, &v.namespace).await
}
