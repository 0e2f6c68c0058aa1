//! Redis keys no conversation owns.

use super::*;

/// Sessions and recent lists of conversations that do not exist.
pub(super) async fn orphan_keys(r: &mut Run<'_>) -> Result<(), StoreError> {
    let Some(redis) = r.mem.redis().cloned() else { return Ok(()) };
    for (pattern, kind) in [("session:*", Kind::SessionOrphan), ("conversation:*:messages", Kind::RecentOrphan)] {
        let mut scan = crate::store::KeyspaceScan::start(redis.clone(), pattern, None, 1000).await?;
        while let Some(page) = scan.next_page().await {
            let keys = page?.keys;
            r.report.scanned.keys += keys.len() as u64;
            let convs: Vec<(Key, String)> = keys
                .into_iter()
                .filter_map(|k| {
                    let s = std::str::from_utf8(&k).ok()?;
                    let c = match kind {
                        Kind::SessionOrphan => s.strip_prefix("session:")?,
                        _ => s.strip_prefix("conversation:")?.strip_suffix(":messages")?,
                    };
                    (!c.is_empty() && !c.contains('/')).then(|| (k.clone(), c.to_string()))
                })
                .collect();
            let paths: Vec<String> = convs.iter().map(|(_, c)| format!("conversations/{c}")).collect();
            let docs = r.mem.long_term().get_many(&paths).await?;
            let mut gone = Vec::new();
            for ((k, c), d) in convs.iter().zip(docs) {
                if d.is_none() {
                    let mut f = Finding::new(kind, "no such conversation in the long-term store").conv(c);
                    f.key = Some(String::from_utf8_lossy(k).into_owned());
                    r.report.add(f);
                    gone.push(CacheOp::Del(k.clone()));
                }
            }
            if r.writes() && !gone.is_empty() {
                match redis.exec(&gone).await {
                    Ok(_) => r.report.repaired(kind, gone.len() as u64),
                    Err(e) => r.fail(&format!("deleting {} keys", gone.len()), e),
                }
            }
            let n = r.report.scanned.keys;
            r.tick("redis keys", n, None);
        }
    }
    Ok(())
}
