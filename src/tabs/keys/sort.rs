//! Sorting the listing by name, TTL or size: every key measured in the backend, the order applied.

use super::*;
use crate::message::RedisCmd;

impl KeysTab {
    /// Measure the whole listing for a sort by TTL or size (in the backend; the keys are
    /// shared, not copied). Waits for a running scan: its end asks again.
    pub(super) fn request_sort(&mut self, cx: &mut Cx) -> Option<Command> {
        let by = self.index.sort();
        if by == SortBy::Name || self.index.ordered() || self.scan.running || self.index.is_empty() {
            return None;
        }
        let keys = self.index.snapshot();
        let mut job =
            SortJob { req: Pending::default(), by, total: keys.len() as u64, done: 0, started_ms: self.now_ms };
        let req = job.req.issue(cx);
        self.sorting = Some(job);
        Some(Command::Redis(req, RedisCmd::Sort { keys, by }))
    }

    /// A sort that ended without an order: the list stays by name, and the status says why.
    pub(super) fn sort_abandoned(&mut self, job: &SortJob, why: &str, error: bool, cx: &mut Cx) {
        self.index.set_sort(SortBy::Name);
        self.rebuild();
        cx.status(format!("sort by {}: {why}; the list stays by name", job.by.name()), error);
    }

    /// The order measured: installed if the listing is still the one measured (else measured
    /// again), the selection at the top if it had not moved, else kept on its key.
    pub(super) fn on_sorted(
        &mut self,
        req: RequestId,
        r: Result<Box<crate::message::Sorted>, crate::message::SortFailed>,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let Some(job) = self.sorting.take_if(|j| j.req.is(req)) else { return vec![] };
        match r {
            Ok(s) => {
                let (unknown, took) = (s.order.unknown, s.took_ms);
                if !self.index.set_order(&s.keys, s.order) {
                    return self.request_sort(cx).into_iter().collect();
                }
                // The figures just measured feed the columns they describe (a SIZE cell from
                // before the sort would make the rows look out of order).
                if !s.metrics.is_empty() {
                    for (k, m) in s.keys.iter().zip(s.metrics.iter()) {
                        let (Some(e), Some(v)) = (self.meta.get_mut(k), m) else { continue };
                        match job.by {
                            SortBy::Size => e.meta.memory = Some(*v as u64),
                            SortBy::Ttl => e.meta.ttl = crate::domain::Ttl::Millis(*v),
                            SortBy::Name => {}
                        }
                    }
                }
                let untouched = self.selected == 0 && self.offset == 0;
                self.rebuild();
                if untouched {
                    (self.selected, self.offset) = (0, 0);
                }
                // The header keeps what the order leaves at its end; the status, what it cost.
                self.sort_note = match job.by {
                    SortBy::Ttl if unknown > 0 => Some(format!("{} without a TTL, last", text::num(unknown))),
                    _ if unknown > 0 => Some(format!("{} gone since the scan, last", text::num(unknown))),
                    _ => None,
                };
                cx.status(
                    format!(
                        "sorted by {}: every key measured ({} keys, {:.1} s)",
                        job.by.name(),
                        text::num(job.total),
                        took as f64 / 1000.0
                    ),
                    false,
                );
                self.visible_meta(cx).into_iter().collect()
            }
            Err(f) => {
                let why = format!("{} after {} / {} keys", f.error, text::num(f.measured), text::num(job.total));
                self.sort_abandoned(&job, &why, true, cx);
                vec![]
            }
        }
    }

    /// A new sort. By name: at once. By TTL or size: every key of the listing is measured in
    /// the backend (the header shows how far; Esc stops it) and the rows keep their order until
    /// the new one arrives. A new order is read from its top (the largest, the soonest to expire).
    pub(super) fn set_sort(&mut self, s: SortBy, cx: &mut Cx) -> Vec<Command> {
        let mut c = Vec::new();
        if self.sorting.take().is_some() {
            c.push(Command::Cancel(crate::message::Slot::Sort));
        }
        self.sort_note = None;
        self.index.set_sort(s);
        self.rebuild();
        self.selected = 0;
        self.offset = 0;
        c.extend(self.request_sort(cx));
        c.extend(self.visible_meta(cx));
        c
    }

    pub fn set_sort_named(&mut self, s: &str, cx: &mut Cx) -> Result<Vec<Command>, String> {
        let s = match s {
            "name" => SortBy::Name,
            "ttl" => SortBy::Ttl,
            "size" | "memory" => SortBy::Size,
            other => {
                return Err(format!("sort: expected name, ttl or size, got `{}`", text::sanitize_str(other)));
            }
        };
        Ok(self.set_sort(s, cx))
    }
}
