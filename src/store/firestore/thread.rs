//! A thread in time order across every timestamp form: ordered runs merged by instant, ISO strings with their look-ahead.

use super::*;

impl FirestoreStore {
    /// A thread at `place`: each ordered run ([`TIMED_RUNS`]) read in time order and merged by
    /// instant, then the messages without a usable time in id order.
    pub(super) async fn thread_at(
        &self,
        place: &ThreadPlace,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Message>, StoreError> {
        let (mut runs, mut untimed) = match after {
            Some(Cursor::Merged { runs, untimed }) => ((**runs).clone(), untimed.clone()),
            _ => Default::default(),
        };
        let mut items: Vec<Message> = Vec::new();
        // Every round takes or passes over something, or ends a run: the loop ends.
        while items.len() < limit as usize && runs.iter().any(|r| !r.done) {
            let want = limit - items.len() as u32;
            // The runs are asked for at once (one round trip's wait, not seven).
            let asks = TIMED_RUNS.iter().zip(&runs).map(|(run, pos)| async move {
                match run {
                    _ if pos.done => Ok((vec![], false, pos.clone())),
                    TimedRun::IsoString => self.string_run(place, pos.clone(), want).await,
                    _ => self.message_run(place, *run, pos.clone(), want).await,
                }
            });
            let got = futures_util::future::try_join_all(asks).await?;
            let offers: Vec<(Vec<Message>, bool)> = got.iter().map(|(o, more, _)| (o.clone(), *more)).collect();
            let (page, taken) = merge_runs(&offers, want as usize);
            let before = items.len();
            items.extend(page);
            let mut moved = items.len() > before;
            let each = got.into_iter().zip(taken).zip(runs.iter_mut()).zip(TIMED_RUNS);
            for ((((offer, more, mut pos), t), slot), run) in each {
                moved |= t > 0 || pos.after != slot.after;
                if run == TimedRun::IsoString {
                    // Read ahead: what was not taken stays ahead.
                    pos.ahead.drain(..t);
                    pos.done = pos.ended && pos.ahead.is_empty();
                } else {
                    // Read in place: the run continues after the last message taken.
                    if let Some(m) = t.checked_sub(1).map(|i| &offer[i]) {
                        let v = m.doc.get(&place.ts_field).cloned().unwrap_or(FsValue::Null);
                        pos.after = Some((v, m.doc.path.clone()));
                    }
                    pos.done = !more && t == offer.len();
                }
                moved |= pos.done != slot.done;
                *slot = pos;
            }
            if !moved {
                break;
            }
        }
        // Then the messages without a usable timestamp, in id order (they sort last).
        if runs.iter().all(|r| r.done) && items.len() < limit as usize && !untimed.done {
            let after = untimed.after.as_ref().map(|(_, p)| p.clone());
            let parent = format!("{}/{}", self.root(), place.conversation);
            let (more, ended) = self
                .scan_keeping(&parent, &place.messages, &ConvFilter::All, after, limit - items.len() as u32, |d| {
                    // No usable instant: no timestamp, or one that does not parse ("", "soon").
                    d.get(&place.ts_field).and_then(FsValue::as_ts).is_none()
                })
                .await?;
            if let Some(m) = more.last() {
                untimed.after = Some((FsValue::Null, m.path.clone()));
            }
            untimed.done = ended;
            items.extend(more.into_iter().map(|d| Message::from_doc_at(d, &place.ts_field)));
        }
        let next = (!(runs.iter().all(|r| r.done) && untimed.done))
            .then_some(Cursor::Merged { runs: Box::new(runs), untimed });
        Ok(Page { items, next })
    }

    /// The messages of one ordered run after `pos`, in timestamp order: what it offers, whether
    /// it may hold more, and its position unchanged (it moves by what the merge takes). A
    /// range filter brackets one value type (Firestore orders values by type first) and, for
    /// Unix numbers, one unit, so each run is its own query.
    pub(super) async fn message_run(
        &self,
        place: &ThreadPlace,
        run: TimedRun,
        pos: RunPos,
        limit: u32,
    ) -> Result<(Vec<Message>, bool, RunPos), StoreError> {
        let (lower, upper) = match run {
            TimedRun::Timestamp => (FsValue::Timestamp(Ts::MIN), None),
            TimedRun::Number { lo, hi } => (FsValue::Double(lo), Some(FsValue::Double(hi))),
            TimedRun::IsoString => (FsValue::String(String::new()), None),
        };
        let docs = self.run_query(place, lower, upper, pos.after.clone(), limit).await?;
        let more = docs.len() >= limit as usize;
        Ok((docs, more, pos))
    }

    /// The ISO-string run. Firestore orders strings as text, and text order is not time order
    /// across offsets (`10:00+02:00` is before `09:00Z`), so this run reads ahead of what it
    /// gives out: strings are read in text order into `ahead` (kept in instant order), and a
    /// message is given out only once no string still unread can be earlier. Dates are
    /// `YYYY-MM-DD` exactly ([`Ts::parse`]) and offsets under a day, so every string after a
    /// frontier dated D is at or after D's midnight minus a day. It reads until `want` are
    /// placeable, the run has ended, or [`LOOK_AHEAD`] wait: then all of them are given out in
    /// instant order (only a thread with that many strings within a day of each other, in
    /// different offsets, can then list one out of place).
    pub(super) async fn string_run(
        &self,
        place: &ThreadPlace,
        mut pos: RunPos,
        want: u32,
    ) -> Result<(Vec<Message>, bool, RunPos), StoreError> {
        let placeable = |pos: &RunPos| -> usize {
            if pos.ended || pos.ahead.len() >= LOOK_AHEAD {
                return pos.ahead.len();
            }
            let Some(bound) = pos.after.as_ref().and_then(|(v, _)| match v {
                FsValue::String(s) => string_floor(s),
                _ => None,
            }) else {
                return 0;
            };
            pos.ahead.iter().take_while(|m| m.timestamp.is_some_and(|t| t < bound)).count()
        };
        while placeable(&pos) < want as usize && !pos.ended && pos.ahead.len() < LOOK_AHEAD {
            let chunk = want.clamp(100, SCAN_PAGE);
            let docs = self.run_query(place, FsValue::String(String::new()), None, pos.after.clone(), chunk).await?;
            pos.ended = docs.len() < chunk as usize;
            for m in docs {
                pos.after = Some((m.doc.get(&place.ts_field).cloned().unwrap_or(FsValue::Null), m.doc.path.clone()));
                // A string that does not parse is left to the untimed pass.
                if m.timestamp.is_some() {
                    let at = pos.ahead.partition_point(|a| a.sort_key() <= m.sort_key());
                    pos.ahead.insert(at, m);
                }
            }
        }
        let n = placeable(&pos);
        let offer = pos.ahead[..n].to_vec();
        Ok((offer, !(pos.ended && n == pos.ahead.len()), pos))
    }

    /// Messages whose timestamp is `>= lower` (and `< upper`), in (timestamp, name) order,
    /// after `after`.
    pub(super) async fn run_query(
        &self,
        place: &ThreadPlace,
        lower: FsValue,
        upper: Option<FsValue>,
        after: Option<(FsValue, String)>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let parent = format!("{}/{}", self.root(), place.conversation);
        let field = place.ts_field.clone();
        let lower = self.fv(&lower);
        let upper = upper.map(|u| self.fv(&u));
        let mut q = self
            .db
            .fluent()
            .select()
            .from(place.messages.as_str())
            .parent(&parent)
            .filter(move |q| {
                q.for_all([
                    q.field(field.as_str()).greater_than_or_equal(lower.clone()),
                    upper.clone().and_then(|u| q.field(field.as_str()).less_than(u)),
                ])
            })
            .order(|o| o.fields([o.field(place.ts_field.as_str()).asc(), o.field("__name__").asc()]))
            .limit(limit);
        if let Some((v, path)) = after {
            q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&v), self.fv(&FsValue::Reference(path))]));
        }
        let docs = q.query().await.map_err(map_err)?;
        Ok(docs.iter().map(|d| Message::from_doc_at(self.doc(d), &place.ts_field)).collect())
    }

    /// The documents of a collection that an ordered query leaves out, in name order after
    /// `after` (Firestore scans keys ascending only): the collection (under `filter`) is read by name a page at a time, keeping those
    /// `keep` accepts until `limit` are found. Returns them and whether the collection has ended.
    pub(super) async fn scan_keeping(
        &self,
        parent: &str,
        collection: &str,
        filter: &ConvFilter,
        after: Option<String>,
        limit: u32,
        keep: impl Fn(&Document) -> bool,
    ) -> Result<(Vec<Document>, bool), StoreError> {
        let root = self.root().to_string();
        let mut after = after;
        let mut out = Vec::new();
        loop {
            let f = filter.clone();
            let mut q = self
                .db
                .fluent()
                .select()
                .from(collection)
                .parent(parent)
                .filter(|q| q.for_all(conv_filters(&q, &f, &root)))
                .order(|o| o.fields([o.field("__name__").asc()]))
                .limit(SCAN_PAGE);
            if let Some(path) = &after {
                q = q.start_at(FirestoreQueryCursor::AfterValue(vec![self.fv(&FsValue::Reference(path.clone()))]));
            }
            let docs = q.query().await.map_err(map_err)?;
            let ended = docs.len() < SCAN_PAGE as usize;
            for (i, d) in docs.iter().enumerate() {
                let doc = self.doc(d);
                after = Some(doc.path.clone());
                if keep(&doc) {
                    out.push(doc);
                    if out.len() >= limit as usize {
                        return Ok((out, ended && i + 1 == docs.len()));
                    }
                }
            }
            if ended {
                return Ok((out, true));
            }
        }
    }
}
/// Documents read per query while looking for those an ordered query leaves out.
pub(super) const SCAN_PAGE: u32 = 500;

/// How many ISO-string messages the thread reader holds read but not yet placed before it
/// gives them out in the order it has (see `string_run`).
pub(super) const LOOK_AHEAD: usize = 2_000;

/// The earliest instant a timestamp string that sorts after `s` as text can stand for (and so
/// every held message before it can be placed), or None when that cannot be told yet.
pub(super) fn string_floor(s: &str) -> Option<Ts> {
    match s.as_bytes().first() {
        // Past every string that starts with a digit: nothing unread parses.
        Some(c) if *c > b'9' => Some(Ts { secs: i64::MAX, nanos: 0 }),
        // Dated D: what follows is dated D or later, at an offset of under a day.
        _ => s.get(..10).and_then(Ts::parse).map(|d| Ts { secs: d.secs - 86_400, nanos: 0 }),
    }
}
