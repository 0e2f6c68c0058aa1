//! The Semantic Search tab: a query editor that searches as you type (debounced), parameters
//! (top_k, namespace from the index stats, a metadata filter validated as you type, a score
//! threshold, values on/off), history, results with timings, a detail pane, a pinned result set
//! to diff against, and "why not?" for an id that should have matched.

use super::line_edit::LineEdit;
use super::{Ask, Cx, InputKind, Pending};
use crate::config::Config;
use crate::domain::{IndexStats, Metric, VectorMatch};
use crate::filter::{self, FilterError};
use crate::keymap::{Action, Context};
use crate::message::VectorCmd;
use crate::message::{Command, RequestId, VectorReply};
use crate::search::{SearchOutcome, SearchParams, WhyNot};
use crate::tabs::OnReply;
use crate::tabs::{Export, Tab};
use crossterm::event::{KeyCode, KeyEvent};

pub const DEBOUNCE_MS: u64 = 300;
const TOP_K_STEPS: [u32; 8] = [1, 3, 5, 10, 20, 50, 100, 200];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Query,
    Filter,
}

pub struct SearchTab {
    pub configured: bool,
    pub editing: Option<Field>,
    /// The query field; its history is the queries searched (Up/Down).
    pub query: LineEdit,
    pub filter: LineEdit,
    pub filter_error: Option<FilterError>,
    pub top_k: u32,
    pub namespace: String,
    pub threshold: Option<f32>,
    pub include_values: bool,
    last_edit_ms: Option<u64>,
    req: Pending,
    pub outcome: Option<SearchOutcome>,
    pub searched: Option<SearchParams>,
    pub error: Option<String>,
    pub pinned: Option<(SearchParams, Vec<VectorMatch>)>,
    pub selected: usize,
    pub detail: bool,
    pub why: Option<Result<WhyNot, String>>,
    why_req: Pending,
    /// recall@k of the results shown (`R`), until the next search.
    pub recall: Option<Result<crate::search::Recall, String>>,
    recall_req: Pending,
    pub stats: Option<IndexStats>,
    stats_req: Pending,
    pub text_field: String,
    /// The metadata naming a result's conversation and message (the layout's names).
    pub conversation_field: String,
    pub message_field: String,
    pub now_ms: u64,
    /// Every search's total time this session (the newest 1,000): the tuning's cost.
    pub latencies: std::collections::VecDeque<f64>,
}

impl SearchTab {
    /// p50 and p99 of this session's searches (ms), and how many: None before the first.
    pub fn session_latency(&self) -> Option<(f64, f64, usize)> {
        if self.latencies.is_empty() {
            return None;
        }
        let mut t: Vec<f64> = self.latencies.iter().copied().collect();
        t.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize];
        Some((at(0.5), at(0.99), t.len()))
    }
}

/// A field holding `text`, not selected (restored state, not a prompt).
fn line_area(text: &str) -> LineEdit {
    let mut e = LineEdit::new("");
    e.set_text(text);
    e
}

impl SearchTab {
    pub fn new(cfg: &Config) -> SearchTab {
        SearchTab {
            configured: cfg.vector.is_some(),
            // An editor has the keyboard only while opened (`/` query, `f` filter): on entry the
            // global keys (1–4, ?, q) work as everywhere else.
            editing: None,
            query: line_area(""),
            filter: line_area(""),
            filter_error: None,
            top_k: 10,
            namespace: cfg.vector.as_ref().map(|v| v.namespace.clone()).unwrap_or_default(),
            threshold: None,
            include_values: false,
            last_edit_ms: None,
            req: Pending::default(),
            outcome: None,
            latencies: Default::default(),
            searched: None,
            error: None,
            pinned: None,
            selected: 0,
            detail: false,
            why: None,
            why_req: Pending::default(),
            recall: None,
            recall_req: Pending::default(),
            stats: None,
            stats_req: Pending::default(),
            text_field: cfg.vector.as_ref().map(|v| v.text_field.clone()).unwrap_or_else(|| "text".into()),
            conversation_field: cfg.layout.vector_conversation_field.clone(),
            message_field: cfg.layout.vector_message_field.clone(),
            now_ms: 0,
        }
    }

    /// The parameters kept per profile between runs (and the query history).
    pub fn saved(&self) -> serde_json::Value {
        serde_json::json!({
            "top_k": self.top_k,
            "namespace": self.namespace,
            "filter": self.filter_text(),
            "threshold": self.threshold,
            "include_values": self.include_values,
            "history": self.query.history().iter().rev().take(100).rev().collect::<Vec<_>>(),
        })
    }

    pub fn restore(&mut self, v: &serde_json::Value) {
        if let Some(k) = v.get("top_k").and_then(|x| x.as_u64()) {
            self.top_k = k.clamp(1, 1000) as u32;
        }
        if let Some(n) = v.get("namespace").and_then(|x| x.as_str()) {
            self.namespace = n.to_string();
        }
        if let Some(f) = v.get("filter").and_then(|x| x.as_str()) {
            self.filter = line_area(f);
            self.edited();
            self.last_edit_ms = None;
        }
        self.threshold = v.get("threshold").and_then(|x| x.as_f64()).map(|t| t as f32);
        self.include_values = v.get("include_values").and_then(|x| x.as_bool()).unwrap_or(false);
        if let Some(h) = v.get("history").and_then(|x| x.as_array()) {
            let h = h.iter().filter_map(|x| x.as_str().map(str::to_string)).collect();
            self.query = LineEdit::with_history(&self.query_text(), h);
            self.query.set_text(&self.query_text());
        }
    }

    pub fn searching(&self) -> bool {
        self.req.waiting()
    }

    pub fn query_text(&self) -> String {
        self.query.text()
    }

    pub fn filter_text(&self) -> String {
        self.filter.text()
    }

    /// The parameters as they stand; `None` while the filter does not parse.
    pub fn params(&self) -> Option<SearchParams> {
        let ft = self.filter_text();
        let filter = if ft.trim().is_empty() {
            None
        } else {
            filter::parse(&ft).ok()?;
            Some(serde_json::from_str(&ft).ok()?)
        };
        Some(SearchParams {
            text: self.query_text(),
            top_k: self.top_k,
            namespace: self.namespace.clone(),
            filter,
            include_values: self.include_values,
        })
    }

    fn search_now(&mut self, cx: &mut Cx) -> Vec<Command> {
        self.last_edit_ms = None;
        let Some(params) = self.params() else { return vec![] };
        if params.text.trim().is_empty() {
            self.outcome = None;
            self.searched = None;
            self.req.forget();
            return vec![Command::Cancel(crate::message::Slot::Search)];
        }
        let req = self.req.issue(cx);
        self.searched = Some(params.clone());
        // A recall measured for the last results says nothing of the next ones.
        self.recall = None;
        self.recall_req.forget();
        vec![Command::Vector(req, VectorCmd::Search { params })]
    }

    fn edited(&mut self) {
        self.last_edit_ms = Some(self.now_ms);
        let ft = self.filter_text();
        self.filter_error = if ft.trim().is_empty() { None } else { filter::parse(&ft).err() };
    }

    /// Keys while a field is being edited.
    pub fn on_edit_key(&mut self, ev: KeyEvent, cx: &mut Cx) -> Vec<Command> {
        let Some(field) = self.editing else { return vec![] };
        match ev.code {
            KeyCode::Esc => {
                self.editing = None;
                vec![]
            }
            // Enter leaves the editor (the search runs); `/` or `f` opens one again.
            KeyCode::Enter => {
                self.editing = None;
                let _ = field;
                self.query.remember();
                self.search_now(cx)
            }
            // The one line editor's keys (Up/Down: the queries searched before).
            _ => {
                let area = if field == Field::Query { &mut self.query } else { &mut self.filter };
                if area.input(ev) {
                    self.edited();
                }
                vec![]
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        let Some(field) = self.editing else { return };
        let area = if field == Field::Query { &mut self.query } else { &mut self.filter };
        area.paste(text);
        self.edited();
    }

    /// The index's metric, once its stats are known.
    pub fn metric(&self) -> Option<Metric> {
        self.stats.as_ref().and_then(|s| s.metric)
    }

    /// Score comparison for the index's metric (euclidean: smaller is better).
    pub fn better_or_equal(&self, a: f32, b: f32) -> bool {
        if self.stats.as_ref().and_then(|s| s.metric) == Some(Metric::Euclidean) { a <= b } else { a >= b }
    }

    pub fn why_not(&mut self, id: &str, cx: &mut Cx) -> Vec<Command> {
        let Some(params) = self.searched.clone().or_else(|| self.params()) else { return vec![] };
        let req = self.why_req.issue(cx);
        self.why = None;
        vec![Command::Vector(req, VectorCmd::WhyNot { params, id: id.trim().to_string() })]
    }

    pub fn recall_waiting(&self) -> bool {
        self.recall_req.waiting()
    }

    pub fn matches(&self) -> &[VectorMatch] {
        self.outcome.as_ref().map(|o| o.result.matches.as_slice()).unwrap_or(&[])
    }
}

/// How the current results differ from the pinned ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Per current result: `None` new, `Some(d)` moved by d places (positive = up).
    pub moves: Vec<Option<i64>>,
    pub dropped: Vec<String>,
    pub overlap: usize,
    pub k: usize,
}

pub fn diff(pinned: &[VectorMatch], now: &[VectorMatch]) -> Diff {
    let moves = now
        .iter()
        .enumerate()
        .map(|(i, m)| pinned.iter().position(|p| p.id == m.id).map(|j| j as i64 - i as i64))
        .collect::<Vec<_>>();
    let dropped = pinned.iter().filter(|p| !now.iter().any(|m| m.id == p.id)).map(|p| p.id.clone()).collect();
    let overlap = moves.iter().filter(|m| m.is_some()).count();
    Diff { moves, dropped, overlap, k: pinned.len().max(now.len()) }
}

impl OnReply<VectorReply> for SearchTab {
    fn on_reply(&mut self, req: RequestId, reply: VectorReply, _cx: &mut Cx) -> Vec<Command> {
        match reply {
            VectorReply::Search(r) if self.req.settle(req) => {
                match r {
                    Ok(o) => {
                        self.error = None;
                        if self.latencies.len() >= 1000 {
                            self.latencies.pop_front();
                        }
                        self.latencies.push_back(o.total_ms);
                        self.selected = self.selected.min(o.result.matches.len().saturating_sub(1));
                        self.outcome = Some(o);
                    }
                    Err(e) => {
                        // The previous query's results would answer another question: gone.
                        self.outcome = None;
                        self.error = Some(e.to_string());
                    }
                }
            }
            VectorReply::Stats(r) if self.stats_req.settle(req) => match r {
                Ok(s) => self.stats = Some(s),
                Err(e) => self.error = Some(e.to_string()),
            },
            VectorReply::WhyNot(r) if self.why_req.settle(req) => {
                self.why = Some(r.map_err(|e| e.to_string()));
            }
            VectorReply::Recall(r) if self.recall_req.settle(req) => {
                self.recall = Some(r.map_err(|e| e.to_string()));
            }
            _ => {}
        }
        vec![]
    }
}

impl Tab for SearchTab {
    fn start(&mut self, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        let req = self.stats_req.issue(cx);
        let mut cmds = vec![Command::Vector(req, VectorCmd::Stats)];
        // A search that failed before the tier was up ("still connecting") is asked again:
        // the error must not outlive the state it describes.
        if self.error.is_some() {
            self.error = None;
            cmds.extend(self.search_now(cx));
        }
        cmds
    }

    /// Search as you type: once the keys have been quiet for the debounce.
    fn tick(&mut self, cx: &mut Cx) -> (Vec<Command>, bool) {
        let now = cx.now_ms;
        self.now_ms = now;
        match self.last_edit_ms {
            Some(t) if now.saturating_sub(t) >= DEBOUNCE_MS => (self.search_now(cx), true),
            _ => (vec![], false),
        }
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> Vec<Command> {
        if !self.configured {
            return vec![];
        }
        let n = self.matches().len();
        if matches!(action, Action::Up | Action::Down | Action::Top | Action::Bottom)
            && let Some(i) = crate::tabs::scroll::moved(action, self.selected, n, 1)
        {
            self.selected = i;
        }
        match action {
            Action::Filter => {
                self.editing = Some(Field::Query);
                self.query.select_all();
            }
            Action::EditFilter => {
                self.editing = Some(Field::Filter);
                self.filter.select_all();
            }
            Action::TopKUp | Action::TopKDown => {
                let i = TOP_K_STEPS.iter().position(|&k| k >= self.top_k).unwrap_or(3);
                let j = if action == Action::TopKUp { (i + 1).min(TOP_K_STEPS.len() - 1) } else { i.saturating_sub(1) };
                self.top_k = TOP_K_STEPS[j];
                return self.search_now(cx);
            }
            Action::NextNamespace => {
                let names: Vec<String> = self
                    .stats
                    .as_ref()
                    .map(|s| s.namespaces.iter().map(|(n, _)| n.clone()).collect())
                    .unwrap_or_default();
                if names.is_empty() {
                    cx.status("no namespaces in the index stats", true);
                    return vec![];
                }
                let i = names.iter().position(|n| *n == self.namespace).map(|i| (i + 1) % names.len()).unwrap_or(0);
                self.namespace = names[i].clone();
                return self.search_now(cx);
            }
            Action::ThresholdUp | Action::ThresholdDown => {
                let step = if action == Action::ThresholdUp { 0.05 } else { -0.05 };
                // From no threshold, `]` starts just under the lowest score shown (it cuts
                // nothing yet; each press then cuts 0.05 more) — not at an arbitrary 0.50;
                // `[` has nothing to lower.
                let lowest = self
                    .outcome
                    .as_ref()
                    .and_then(|o| o.result.matches.iter().map(|m| m.score).min_by(|a, b| a.total_cmp(b)));
                let t = match (self.threshold, action) {
                    (Some(t), _) => t + step,
                    (None, Action::ThresholdUp) => lowest.map(|l| (l / 0.05).floor() * 0.05).unwrap_or(0.05).max(0.0),
                    (None, _) => return vec![],
                };
                // Cosine scores lie in [-1, 1] (the threshold stops at 1); other metrics are unbounded.
                let max = if self.metric().is_none_or(|m| m == Metric::Cosine) { 1.0 } else { f32::MAX };
                self.threshold = if t < -0.001 { None } else { Some(((t * 100.0).round() / 100.0).min(max)) };
            }
            Action::ToggleValues => {
                self.include_values = !self.include_values;
                return self.search_now(cx);
            }
            Action::Pin => {
                self.pinned = match (&self.pinned, &self.outcome, &self.searched) {
                    (Some(_), _, _) => None,
                    (None, Some(o), Some(p)) => Some((p.clone(), o.result.matches.clone())),
                    _ => {
                        cx.status("nothing to pin yet: search first", true);
                        return vec![];
                    }
                };
            }
            Action::WhyNot => cx.ask(Ask::Input {
                kind: InputKind::WhyNot,
                title: "why not? the id that should have matched".into(),
                initial: String::new(),
            }),
            Action::Recall => {
                let (Some(o), Some(params)) = (&self.outcome, self.searched.clone()) else {
                    cx.status("nothing to measure yet: search first", true);
                    return vec![];
                };
                let returned = o.result.matches.iter().map(|m| m.id.clone()).collect();
                let req = self.recall_req.issue(cx);
                self.recall = None;
                return vec![Command::Vector(req, VectorCmd::Recall { params, returned })];
            }
            Action::ToggleSide => self.detail = !self.detail,
            Action::Refresh => {
                let req = self.stats_req.issue(cx);
                let mut c = vec![Command::Vector(req, VectorCmd::Stats)];
                c.extend(self.search_now(cx));
                return c;
            }
            Action::Open => {
                let Some(m) = self.matches().get(self.selected) else { return vec![] };
                let md = m.metadata.clone().unwrap_or_default();
                let conv = md.get(&self.conversation_field).and_then(|v| v.as_str()).map(str::to_string);
                let msg = md.get(&self.message_field).and_then(|v| v.as_str()).map(str::to_string);
                match conv {
                    Some(conversation) => cx.ask(Ask::OpenMessage { conversation, message: msg }),
                    None => cx.status(
                        format!(
                            "this result's metadata has no `{}` (set [profile.NAME.layout] vector_conversation_field)",
                            self.conversation_field
                        ),
                        true,
                    ),
                }
            }
            _ => {}
        }
        vec![]
    }

    fn context(&self) -> Context {
        Context::Search
    }

    /// The results: rank, id, score and metadata.
    fn export(&self) -> Export {
        Export::lines(
            format!("{} search results", self.matches().len()),
            self.matches()
                .iter()
                .enumerate()
                .map(|(i, m)| serde_json::json!({"rank": i + 1, "id": m.id, "score": m.score, "metadata": m.metadata})),
        )
    }
}

#[cfg(test)]
mod tests;
