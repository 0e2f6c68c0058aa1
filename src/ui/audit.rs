//! Drawing the audit view: a summary line, then every kind of drift with its count, and the
//! findings (with their ids) of the kinds that are open.

use crate::tabs::audit::{AuditRow, AuditView};
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Draws the view; returns the rows of its list.
pub fn render(f: &mut Frame, area: Rect, a: &AuditView, now_ms: u64, write_mode: bool) -> usize {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let what = if a.repairing { "repair" } else { "audit" };
    let state: Vec<Span> = if a.running() {
        let secs = now_ms.saturating_sub(a.started_ms) as f64 / 1000.0;
        let p = match &a.progress {
            Some(p) => {
                let total = p.total.map(|t| format!(" of {t}")).unwrap_or_default();
                format!("{}: {}{total} · drift so far {}", p.phase, p.done, p.drift)
            }
            None => "starting".into(),
        };
        vec![Span::styled(format!(" {what} running {secs:.0} s · {p} · Esc stops it"), theme::warn())]
    } else if let Some(e) = &a.error {
        vec![Span::styled(format!(" ✗ {what} failed: {} — r tries again", text::sanitize_str(e)), theme::error())]
    } else if let Some(r) = &a.report {
        let s = &r.scanned;
        let mut v = vec![
            Span::raw(format!(
                " scanned {} conversations · {} messages · {} vectors · {} keys · {} queued repairs in {:.1} s │ ",
                s.conversations,
                s.messages,
                s.vectors,
                s.keys,
                s.repair_entries,
                r.elapsed_ms as f64 / 1000.0
            )),
            if r.drift() == 0 {
                Span::styled("the tiers agree", theme::ok())
            } else {
                Span::styled(format!("{} findings of drift", r.drift()), theme::error())
            },
        ];
        if !r.repaired.is_empty() || !r.repair_errors.is_empty() {
            let mended: u64 = r.repaired.values().sum();
            v.push(Span::styled(
                format!(" │ mended {mended}, {} failed", r.repair_errors.len()),
                if r.repair_errors.is_empty() { theme::ok() } else { theme::error() },
            ));
        }
        if !r.skipped.is_empty() {
            v.push(Span::styled(format!(" │ not checked: {}", r.skipped.join(", ")), theme::warn()));
        }
        v
    } else {
        vec![Span::styled(" no audit yet — r runs one", theme::dim())]
    };
    let repair_hint = if write_mode { "R repairs (asks first)" } else { "W then R repairs" };
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(" Cross-tier audit", theme::title()),
                Span::styled(format!(" · Enter shows ids · r audits again · {repair_hint} · Esc back"), theme::dim()),
            ]),
            Line::from(state),
        ]),
        head,
    );
    let block = Block::default().borders(Borders::ALL).border_style(theme::title()).title(" drift by kind ");
    let inner = block.inner(body);
    f.render_widget(block, body);
    let w = inner.width as usize;
    let h = inner.height as usize;
    let rows = a.rows();
    let (selected, offset) = crate::tabs::scroll::keep_visible(a.selected, a.offset, rows.len(), h.max(1));
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(offset).take(h) {
        let line = match *row {
            AuditRow::Kind(k) => {
                let count = a.report.as_ref().map(|r| r.counts.get(&k).copied().unwrap_or(0));
                let open = if a.expanded.contains(&k) { "▾" } else { "▸" };
                let n = match count {
                    Some(n) => format!("{n:>7}"),
                    None => format!("{:>7}", "–"),
                };
                let s = format!("{open} {n}  {:<18} {}  ({})", k.name(), k.describe(), k.remedy());
                let s = text::truncate(&s, w);
                let style = match count {
                    Some(n) if n > 0 => theme::error(),
                    Some(_) => theme::dim(),
                    None => theme::label(),
                };
                Line::styled(s, style)
            }
            AuditRow::Finding(k, j) => {
                let s = a.findings(k).get(j).map(|f| text::sanitize_str(&f.summary(4))).unwrap_or_default();
                let kept = a.findings(k).len() as u64;
                let total = a.report.as_ref().and_then(|r| r.counts.get(&k).copied()).unwrap_or(0);
                let tail = if j + 1 == kept as usize && total > kept {
                    format!("  (+{} more: memscope audit --json lists them all)", total - kept)
                } else {
                    String::new()
                };
                Line::raw(text::truncate(&format!("            {s}{tail}"), w))
            }
        };
        lines.push(if i == selected { line.style(theme::selected()) } else { line });
    }
    f.render_widget(Paragraph::new(lines), inner);
    h
}
