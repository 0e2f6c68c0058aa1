//! The audit view (Health `a`, or `:audit`): a cross-tier audit run in the backend, its drift
//! by kind with the ids, and repair in write mode.

use super::{Ask, Cx, Pending};
use crate::audit::{Finding, Kind, Progress, Report};
use crate::keymap::Action;
use crate::message::MemoryCmd;
use crate::message::{Command, MemoryReply, RequestId, Slot};
use crate::tabs::OnReply;
use std::collections::HashSet;

/// One row of the view: a kind (its header), or one of its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditRow {
    Kind(Kind),
    Finding(Kind, usize),
}

#[derive(Debug, Default)]
pub struct AuditView {
    pub req: Pending,
    /// The running (or last) run repairs.
    pub repairing: bool,
    pub progress: Option<Progress>,
    pub started_ms: u64,
    /// The last report, its findings ordered by kind (as they arrive) so that a kind's
    /// findings are one slice.
    pub report: Option<Report>,
    pub error: Option<String>,
    pub selected: usize,
    pub offset: usize,
    pub expanded: HashSet<Kind>,
}

impl AuditView {
    /// Start an audit (or a repair).
    pub fn run(&mut self, repair: bool, now_ms: u64, cx: &mut Cx) -> Command {
        let req = self.req.issue(cx);
        self.repairing = repair;
        self.progress = None;
        self.error = None;
        self.started_ms = now_ms;
        if repair {
            self.report = None;
        }
        Command::Memory(req, MemoryCmd::Audit { repair })
    }

    pub fn running(&self) -> bool {
        self.req.waiting()
    }

    /// Findings of one kind in the report (a slice: the findings are ordered by kind).
    pub fn findings(&self, kind: Kind) -> &[Finding] {
        let Some(r) = &self.report else { return &[] };
        let lo = r.findings.partition_point(|f| f.kind < kind);
        let hi = r.findings.partition_point(|f| f.kind <= kind);
        &r.findings[lo..hi]
    }

    /// The rows shown: every kind, then the findings of the expanded ones.
    pub fn rows(&self) -> Vec<AuditRow> {
        let mut out = Vec::new();
        for k in Kind::ALL {
            out.push(AuditRow::Kind(k));
            if self.expanded.contains(&k) {
                out.extend((0..self.findings(k).len()).map(|i| AuditRow::Finding(k, i)));
            }
        }
        out
    }

    fn clamp(&mut self, rows: usize) {
        let n = self.rows().len();
        let rows = rows.min(n.max(1));
        (self.selected, self.offset) = crate::tabs::scroll::keep_visible(self.selected, self.offset, n, rows);
    }

    pub fn on_action(
        &mut self,
        action: Action,
        write_mode: bool,
        now_ms: u64,
        view_rows: usize,
        cx: &mut Cx,
    ) -> Vec<Command> {
        let n = self.rows().len();
        let page = view_rows.max(1);
        if let Some(i) = crate::tabs::scroll::moved(action, self.selected, n, page) {
            self.selected = i;
        }
        match action {
            Action::Open => {
                let kind = match self.rows().get(self.selected) {
                    Some(AuditRow::Kind(k)) | Some(AuditRow::Finding(k, _)) => *k,
                    None => return vec![],
                };
                if !self.expanded.remove(&kind) {
                    self.expanded.insert(kind);
                }
                // Stay on the kind's header when its findings fold away.
                if let Some(i) = self.rows().iter().position(|r| *r == AuditRow::Kind(kind)) {
                    self.selected = i;
                }
            }
            Action::Refresh => {
                if self.running() {
                    cx.status("an audit is running", false);
                    return vec![];
                }
                return vec![self.run(false, now_ms, cx)];
            }
            Action::Repair => {
                let Some(r) = &self.report else {
                    cx.status("run an audit first (r)", true);
                    return vec![];
                };
                if self.running() {
                    cx.status("an audit is running", false);
                    return vec![];
                }
                if !write_mode {
                    cx.status("read-only mode: press W to enable writes, then R", true);
                    return vec![];
                }
                if r.drift() == 0 {
                    cx.status("nothing to repair: the tiers agree", false);
                    return vec![];
                }
                let plan: Vec<String> = r
                    .counts
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| format!("{n} {}: {}", k.name(), k.remedy()))
                    .collect();
                cx.ask(Ask::ConfirmRepair(format!("Repair {} findings? {}", r.drift(), plan.join("; "))));
                return vec![];
            }
            Action::Back => {
                let cmds = if self.running() { vec![Command::Cancel(Slot::Audit)] } else { vec![] };
                self.req.forget();
                cx.ask(Ask::CloseAudit);
                return cmds;
            }
            _ => {}
        }
        self.clamp(page);
        vec![]
    }
}

impl OnReply<MemoryReply> for AuditView {
    fn on_reply(&mut self, req: RequestId, reply: MemoryReply, cx: &mut Cx) -> Vec<Command> {
        if !self.req.is(req) {
            return vec![];
        }
        match reply {
            MemoryReply::AuditProgress(p) => self.progress = Some(p),
            MemoryReply::Audit(r) => {
                self.req.forget();
                match r {
                    Ok(rep) => {
                        let mut rep = *rep;
                        rep.findings.sort_by_key(|f| f.kind);
                        let status = if self.repairing {
                            let mended: u64 = rep.repaired.values().sum();
                            let failed = rep.repair_errors.len();
                            (format!("repair finished: {mended} mended, {failed} failed — r audits again"), failed > 0)
                        } else if rep.drift() == 0 {
                            ("audit: the tiers agree".to_string(), false)
                        } else {
                            (format!("audit: {} findings of drift", rep.drift()), true)
                        };
                        // Open the kinds with drift, so their ids are in view.
                        if self.expanded.is_empty() {
                            self.expanded = rep.counts.iter().filter(|(_, n)| **n > 0).map(|(k, _)| *k).collect();
                        }
                        self.report = Some(rep);
                        self.clamp(usize::MAX);
                        cx.status(status.0, status.1);
                    }
                    Err(e) => {
                        self.error = Some(e.to_string());
                        cx.status(format!("audit failed: {e}"), true);
                    }
                }
            }
            _ => {}
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn report() -> Report {
        let f = |k: Kind, id: &str| Finding {
            kind: k,
            conversation_id: Some("c1".into()),
            message_ids: vec![id.into()],
            vector_id: None,
            key: None,
            detail: String::new(),
        };
        let findings = vec![f(Kind::MissingVector, "m1"), f(Kind::MissingVector, "m2"), f(Kind::RecentStale, "m3")];
        let counts = BTreeMap::from([(Kind::MissingVector, 2), (Kind::RecentStale, 1)]);
        Report { findings, counts, ..Default::default() }
    }

    #[test]
    fn audit_then_guarded_repair() {
        let mut cx = Cx::default();
        let mut v = AuditView::default();
        let Command::Memory(req, MemoryCmd::Audit { repair: false }) = v.run(false, 0, &mut cx) else { panic!() };
        assert!(v.running());
        v.on_reply(
            req,
            MemoryReply::AuditProgress(Progress { phase: "messages", done: 5, total: None, drift: 1 }),
            &mut cx,
        );
        assert_eq!(v.progress.as_ref().map(|p| p.done), Some(5));
        v.on_reply(req, MemoryReply::Audit(Ok(Box::new(report()))), &mut cx);
        let asks = cx.take_asks();
        assert!(matches!(&asks[..], [Ask::Status { text, error: true }] if text.contains("3 findings")), "{asks:?}");
        // Every kind has a row; those with drift open: 12 kinds + 3 findings.
        assert_eq!(v.rows().len(), Kind::ALL.len() + 3);
        assert_eq!(v.rows()[1], AuditRow::Finding(Kind::MissingVector, 0));
        // Enter folds the kind the cursor is in.
        v.on_action(Action::Down, false, 0, 20, &mut cx);
        v.on_action(Action::Open, false, 0, 20, &mut cx);
        assert_eq!((v.rows().len(), v.selected), (Kind::ALL.len() + 1, 0));
        // Repair: refused in read-only mode, asks first in write mode.
        let c = v.on_action(Action::Repair, false, 0, 20, &mut cx);
        let i = cx.take_asks();
        assert!(c.is_empty() && matches!(&i[..], [Ask::Status { text, error: true }] if text.contains("read-only")));
        let c = v.on_action(Action::Repair, true, 0, 20, &mut cx);
        assert!(c.is_empty());
        let i = cx.take_asks();
        let [Ask::ConfirmRepair(q)] = &i[..] else { panic!("{i:?}") };
        assert!(q.contains("2 missing_vector: re-embed and upsert"), "{q}");
        let Command::Memory(_, MemoryCmd::Audit { repair: true, .. }) = v.run(true, 0, &mut cx) else { panic!() };
        assert!(v.report.is_none());
        // Esc while running cancels the backend's audit.
        let c = v.on_action(Action::Back, true, 0, 20, &mut cx);
        assert_eq!(c, vec![Command::Cancel(Slot::Audit)]);
        assert_eq!(cx.take_asks(), vec![Ask::CloseAudit]);
    }

    #[test]
    fn late_replies_are_dropped() {
        let mut cx = Cx::default();
        let mut v = AuditView::default();
        v.run(false, 0, &mut cx);
        v.on_reply(RequestId(99), MemoryReply::Audit(Ok(Box::new(report()))), &mut cx);
        assert!(v.report.is_none() && cx.take_asks().is_empty());
    }
}
