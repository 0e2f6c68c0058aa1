//! The pass itself: SCAN every master, pipelined TYPE / PTTL / MEMORY USAGE and a length per key,
//! at most `max_ops_per_sec` commands a second; and measuring a listing for a sort.

use super::*;

/// Batches read at once (each a pipeline of its keys' commands).
pub(super) const IN_FLIGHT: usize = 3;

/// One key read: its metadata and its length.
pub(super) type Measured = (Key, crate::domain::KeyMeta, Option<u64>);

/// A limit of commands per second: waits before a batch that would go over it.
/// At most `per_sec` commands a second over a whole-keyspace pass (0: no limit): the one rule
/// of `analyze`, the Keys tab's sorts and `keys --long`.
pub struct Throttle {
    pub(super) per_sec: u64,
    pub(super) start: tokio::time::Instant,
    pub(super) sent: u64,
}

impl Throttle {
    pub fn new(per_sec: u64) -> Throttle {
        Throttle { per_sec, start: tokio::time::Instant::now(), sent: 0 }
    }

    /// Count `n` commands about to be sent; wait until they are due.
    pub async fn take(&mut self, n: u64) {
        self.sent += n;
        if self.per_sec == 0 {
            return;
        }
        let due = self.start + std::time::Duration::from_secs_f64(self.sent as f64 / self.per_sec as f64);
        tokio::time::sleep_until(due).await;
    }
}

/// One pass over the keyspace. `progress` is called after each batch; dropping the future
/// cancels the pass (the server sees nothing more).
/// `progress` gets the keys read and the keyspace's size when known.
pub async fn analyze(
    store: Arc<dyn KeyStore>,
    opt: Options,
    progress: impl Fn(u64, Option<u64>),
) -> Result<Analysis, StoreError> {
    let t0 = std::time::Instant::now();
    let mut scan = KeyspaceScan::start(store.clone(), &opt.pattern, None, opt.batch).await?;
    let mut acc = Acc {
        a: Analysis {
            pattern: opt.pattern.clone(),
            delimiter: opt.delimiter.clone(),
            started: crate::domain::Ts::now().secs,
            dbsize: scan.total,
            nodes: scan.nodes.len(),
            ..Default::default()
        },
        types: HashMap::new(),
        levels: vec![HashMap::new(); opt.depth],
        mem: Top::new(opt.top),
        elems: BTreeMap::new(),
        soon: Top::new(opt.top),
        opt: opt.clone(),
    };
    let mut throttle = Throttle { per_sec: opt.max_ops_per_sec, start: tokio::time::Instant::now(), sent: 0 };
    // Batches in flight: the server works on some while the replies of others are read.
    let mut inflight: std::collections::VecDeque<tokio::task::JoinHandle<Result<Vec<Measured>, StoreError>>> =
        Default::default();
    let read = |keys: Vec<Key>| {
        let store = store.clone();
        tokio::spawn(async move {
            let metas = store.meta(&keys).await?;
            let typed: Vec<(Key, KeyType)> =
                metas.iter().filter_map(|(k, m)| m.ktype.clone().map(|t| (k.clone(), t))).collect();
            let lens = store.lengths(&typed).await?;
            let mut lens = typed.into_iter().zip(lens).map(|((_, _), l)| l);
            Ok(metas
                .into_iter()
                .map(|(k, m)| {
                    let l = if m.ktype.is_some() { lens.next().flatten() } else { None };
                    (k, m, l)
                })
                .collect())
        })
    };
    let drain = |acc: &mut Acc, rows: Vec<Measured>| {
        for (k, m, l) in rows {
            match &m.ktype {
                Some(t) => acc.add(&k, t, &m.ttl, m.memory, l),
                None => acc.a.gone += 1,
            }
        }
        progress(acc.a.keys + acc.a.gone, acc.a.dbsize);
    };
    loop {
        let page = match scan.next_page().await {
            None => break,
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                acc.a.partial = Some(e.to_string());
                break;
            }
        };
        let mut keys = page.keys;
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            continue;
        }
        // TYPE, PTTL, MEMORY USAGE and a length per key, and the SCAN.
        let ops = keys.len() as u64 * 4 + 1;
        throttle.take(ops).await;
        acc.a.ops += ops;
        inflight.push_back(read(keys));
        if inflight.len() > IN_FLIGHT
            && let Some(h) = inflight.pop_front()
        {
            match h.await {
                Ok(Ok(rows)) => drain(&mut acc, rows),
                Ok(Err(e)) => {
                    acc.a.partial = Some(e.to_string());
                    break;
                }
                Err(e) => return Err(StoreError::Other(e.to_string())),
            }
        }
    }
    while let Some(h) = inflight.pop_front() {
        match h.await {
            Ok(Ok(rows)) => drain(&mut acc, rows),
            Ok(Err(e)) => acc.a.partial = acc.a.partial.take().or(Some(e.to_string())),
            Err(e) => return Err(StoreError::Other(e.to_string())),
        }
    }
    acc.a.took_ms = t0.elapsed().as_millis() as u64;
    // What the server says it uses, to set the keys' sum against (one INFO per master).
    acc.a.used_memory = store.health().await.ok().map(|h| h.used_memory).filter(|m| *m > 0);
    Ok(acc.finish())
}

/// One figure of every key of a listing (the Keys tab's sort by TTL or size: the whole
/// listing, not a sample), in pipelines of `batch` keys, [`IN_FLIGHT`] at once, under the same
/// limit of commands per second as an analysis. `progress` gets the keys measured so far.
/// On an error, the keys measured before it are said with it: a partial order is never used.
pub async fn measure_listing(
    store: Arc<dyn KeyStore>,
    keys: Arc<Vec<Key>>,
    what: crate::domain::Measure,
    max_ops_per_sec: u64,
    batch: usize,
    progress: impl Fn(u64),
) -> Result<Vec<Option<i64>>, (StoreError, u64)> {
    let batch = batch.max(1);
    let mut out: Vec<Option<i64>> = Vec::with_capacity(keys.len());
    let mut throttle = Throttle { per_sec: max_ops_per_sec, start: tokio::time::Instant::now(), sent: 0 };
    type Part = tokio::task::JoinHandle<Result<Vec<Option<i64>>, StoreError>>;
    let mut inflight: std::collections::VecDeque<Part> = Default::default();
    let read = |lo: usize| {
        let (store, keys) = (store.clone(), keys.clone());
        tokio::spawn(async move { store.measure(&keys[lo..(lo + batch).min(keys.len())], what).await })
    };
    let mut lo = 0;
    while lo < keys.len() || !inflight.is_empty() {
        if lo < keys.len() && inflight.len() < IN_FLIGHT {
            throttle.take(((lo + batch).min(keys.len()) - lo) as u64).await;
            inflight.push_back(read(lo));
            lo += batch;
            continue;
        }
        let Some(h) = inflight.pop_front() else { break };
        match h.await {
            Ok(Ok(part)) => {
                out.extend(part);
                progress(out.len() as u64);
            }
            Ok(Err(e)) => return Err((e, out.len() as u64)),
            Err(e) => return Err((StoreError::Other(e.to_string()), out.len() as u64)),
        }
    }
    Ok(out)
}
