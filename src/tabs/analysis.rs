//! The Keys tab's analysis view (`:analyze [GLOB]`): one pass over the keyspace running in the
//! backend with its progress, then the figures as rows — namespaces, the biggest keys, leak
//! suspects, keys about to expire. Enter on a namespace lists its keys (MATCH), on a key opens
//! it; `o` opens the whole report in the pager; `r` runs it again; Esc closes (and stops it).

use super::{Ask, Cx, LineStyle, Pending};
use crate::analysis::{Analysis, TTL_BUCKETS};
use crate::keymap::Action;
use crate::message::Command;
use crate::message::RedisCmd;
use crate::text;

/// What a row of the view is.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKind {
    Text,
    /// Enter lists the namespace's keys with this MATCH glob.
    Namespace(String),
    /// Enter opens this key.
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRow {
    pub kind: RowKind,
    pub style: LineStyle,
    pub text: String,
}

#[derive(Debug)]
pub struct AnalysisView {
    pub req: Pending,
    pub pattern: String,
    /// Keys read so far, of the keyspace's size when known.
    pub progress: (u64, Option<u64>),
    pub result: Option<Result<Box<Analysis>, String>>,
    pub rows: Vec<AnalysisRow>,
    pub selected: usize,
}

/// What the view asks of the Keys tab.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    None,
    Close,
    Match(String),
    Open(String),
}

impl AnalysisView {
    pub fn start(pattern: String, cx: &mut Cx) -> (AnalysisView, Command) {
        let mut v = AnalysisView {
            req: Pending::default(),
            pattern: if pattern.is_empty() { "*".into() } else { pattern },
            progress: (0, None),
            result: None,
            rows: Vec::new(),
            selected: 0,
        };
        let cmd = v.run(cx);
        (v, cmd)
    }

    fn run(&mut self, cx: &mut Cx) -> Command {
        let req = self.req.issue(cx);
        self.result = None;
        self.rows.clear();
        self.progress = (0, None);
        Command::Redis(req, RedisCmd::Analyze { pattern: self.pattern.clone() })
    }

    pub fn running(&self) -> bool {
        self.result.is_none()
    }

    pub fn on_progress(&mut self, req: crate::message::RequestId, done: u64, total: Option<u64>) {
        if self.req.is(req) {
            self.progress = (done, total);
        }
    }

    pub fn on_result(&mut self, req: crate::message::RequestId, r: Result<Box<Analysis>, String>) {
        if !self.req.settle(req) {
            return;
        }
        if let Ok(a) = &r {
            self.rows = rows_of(a);
            self.selected = self.rows.iter().position(|r| r.kind != RowKind::Text).unwrap_or(0);
        }
        self.result = Some(r);
    }

    fn selectable(&self) -> Vec<usize> {
        self.rows.iter().enumerate().filter(|(_, r)| r.kind != RowKind::Text).map(|(i, _)| i).collect()
    }

    pub fn on_action(&mut self, action: Action, page: usize, cx: &mut Cx) -> (Outcome, Vec<Command>) {
        let sel = self.selectable();
        let at = sel.iter().position(|i| *i == self.selected).unwrap_or(0);
        let go = |i: usize| sel.get(i.min(sel.len().saturating_sub(1))).copied().unwrap_or(0);
        match action {
            Action::Up => self.selected = go(at.saturating_sub(1)),
            Action::Down => self.selected = go(at + 1),
            Action::PageUp => self.selected = go(at.saturating_sub(page.max(1))),
            Action::PageDown => self.selected = go(at + page.max(1)),
            Action::Top => self.selected = go(0),
            Action::Bottom => self.selected = go(usize::MAX),
            Action::Open => {
                return match self.rows.get(self.selected).map(|r| r.kind.clone()) {
                    Some(RowKind::Namespace(g)) => (Outcome::Match(g), vec![]),
                    Some(RowKind::Key(k)) => (Outcome::Open(k), vec![]),
                    _ => (Outcome::None, vec![]),
                };
            }
            Action::Refresh => return (Outcome::None, vec![self.run(cx)]),
            Action::Pager => {
                if let Some(Ok(a)) = &self.result {
                    let title = format!("analysis of {}", self.pattern);
                    cx.ask(Ask::Page {
                        title,
                        note: None,
                        text: crate::analysis::report_text(a, None, None),
                        more: false,
                    });
                }
            }
            Action::Back => {
                let stop = self.running().then_some(Command::Cancel(crate::message::Slot::Analyze));
                return (Outcome::Close, stop.into_iter().collect());
            }
            _ => {}
        }
        (Outcome::None, vec![])
    }
}

/// The MATCH glob of a namespace: `conversation:*:` lists `conversation:*:*`.
fn glob_of(prefix: &str) -> String {
    format!("{prefix}*")
}

fn rows_of(a: &Analysis) -> Vec<AnalysisRow> {
    use LineStyle::*;
    let hb = text::human_bytes;
    let s = |x: &str| text::sanitize_str(x);
    let mut rows = Vec::new();
    let mut line = |kind: RowKind, style: LineStyle, text: String| rows.push(AnalysisRow { kind, style, text });
    line(RowKind::Text, Label, a.summary());
    if let Some(p) = &a.partial {
        line(RowKind::Text, Warn, format!("PARTIAL: the pass ended early ({}); figures of the keys read", s(p)));
    }
    if a.gone > 0 {
        line(RowKind::Text, Dim, format!("{} keys expired or were deleted during the pass", text::num(a.gone)));
    }
    let types: Vec<String> = a
        .by_type
        .iter()
        .map(|t| {
            format!(
                "{} {} ({}, {})",
                s(&t.ktype),
                text::num(t.keys),
                hb(t.bytes),
                crate::analysis::pct(t.bytes, a.bytes)
            )
        })
        .collect();
    line(RowKind::Text, Dim, format!("by type: {}", types.join(" · ")));
    line(RowKind::Text, Normal, String::new());
    line(
        RowKind::Text,
        Label,
        format!(
            "NAMESPACES (Enter lists the keys) {:>22} {:>10} {:>6}   TTL {}",
            "KEYS",
            "MEMORY",
            "%",
            TTL_BUCKETS.join("/")
        ),
    );
    for n in a.namespaces.iter().take(200) {
        let name = format!("{}{}", "  ".repeat(n.depth.saturating_sub(1)), s(&n.prefix));
        let ttl: Vec<String> = n.ttl.iter().map(|x| text::num(*x)).collect();
        let kind = if n.prefix.starts_with("(other") || n.prefix == crate::analysis::NO_NAMESPACE {
            RowKind::Text
        } else {
            RowKind::Namespace(glob_of(&n.prefix))
        };
        line(
            kind,
            Normal,
            format!(
                "{:<46} {:>10} {:>10} {:>6}   {}",
                text::fit(&name, 46),
                text::num(n.keys),
                hb(n.bytes),
                crate::analysis::pct(n.bytes, a.bytes),
                ttl.join("/")
            ),
        );
    }
    if a.namespaces.len() > 200 {
        line(RowKind::Text, Dim, format!("… {} more namespaces (o: the whole report)", a.namespaces.len() - 200));
    }
    let mut keys = |title: &str, list: &[crate::analysis::KeyStat]| {
        line(RowKind::Text, Normal, String::new());
        line(RowKind::Text, Label, title.to_string());
        for k in list {
            line(RowKind::Key(k.key.clone()), Normal, k.row());
        }
    };
    keys("BIGGEST KEYS BY MEMORY (Enter opens)", &a.top_by_memory);
    line(RowKind::Text, Normal, String::new());
    line(RowKind::Text, Label, "BIGGEST KEYS BY LENGTH, BY TYPE".into());
    for (header, list) in crate::analysis::by_length(&a.top_by_elements) {
        line(RowKind::Text, Dim, format!("  {header}"));
        for k in list {
            line(RowKind::Key(k.key.clone()), Normal, k.row());
        }
    }
    line(RowKind::Text, Normal, String::new());
    line(RowKind::Text, Label, "LEAK SUSPECTS (most keys of the namespace expire, these do not)".into());
    if a.leak_suspects.is_empty() {
        line(RowKind::Text, Dim, "none".into());
    }
    for l in &a.leak_suspects {
        line(RowKind::Namespace(glob_of(&l.prefix)), Warn, format!("{:<46} {}", s(&l.prefix), l.describe()));
    }
    line(RowKind::Text, Normal, String::new());
    line(
        RowKind::Text,
        Label,
        format!("EXPIRING WITHIN A MINUTE: {} keys, soonest first", text::num(a.expiring_within_1m)),
    );
    for k in &a.expiring_keys {
        let ttl = k.ttl_ms.map(text::human_ms).unwrap_or_default();
        line(RowKind::Key(k.key.clone()), Normal, format!("{ttl:>10} {}", s(&k.key)));
    }
    let more = a.expiring_within_1m.saturating_sub(a.expiring_keys.len() as u64);
    if more > 0 {
        line(RowKind::Text, Dim, format!("… {} more", text::num(more)));
    }
    rows
}
