//! `:analyze`: what is eating Redis, by namespace, type and size.

use crate::tabs::analysis::AnalysisView;
use crate::tabs::keys::LineStyle;
use crate::text::{self, num};
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// `:analyze`: its progress while it runs, then its rows (the selected one marked).
pub fn render(f: &mut Frame, area: Rect, v: &AnalysisView, max_ops: u64) -> usize {
    let title = format!(" analysis of {} ", text::sanitize_str(&v.pattern));
    let block =
        Block::default().borders(Borders::ALL).border_style(theme::title()).title(Span::styled(title, theme::title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = (inner.height as usize).max(1);
    let mut lines: Vec<Line> = Vec::new();
    match &v.result {
        None => {
            let (done, total) = v.progress;
            let of = total.map(|t| format!(" of ~{}", num(t))).unwrap_or_default();
            let pct = total.filter(|t| *t > 0).map(|t| format!(" ({}%)", done * 100 / t)).unwrap_or_default();
            lines.push(Line::styled(format!("analyzing: {} keys read{of}{pct}", num(done)), theme::warn()));
            let limit = match max_ops {
                0 => "no limit of commands/s (max_ops_per_sec = 0)".to_string(),
                n => format!("at most {} commands/s", num(n)),
            };
            lines.push(Line::styled(
                format!("TYPE, PTTL, MEMORY USAGE and a length per key, {limit} · Esc stops it"),
                theme::dim(),
            ));
        }
        Some(Err(e)) => {
            lines.push(Line::styled(format!("✗ {}", text::sanitize_str(e)), theme::error()));
            lines.push(Line::styled("r: analyze again · Esc: back", theme::dim()));
        }
        Some(Ok(_)) => {
            // The view starts at the top and follows the selection down.
            let (_, off) = crate::tabs::scroll::keep_visible(v.selected, 0, v.rows.len(), rows);
            for (i, r) in v.rows.iter().enumerate().skip(off).take(rows) {
                let st = match r.style {
                    LineStyle::Normal => ratatui::style::Style::new(),
                    LineStyle::Dim => theme::dim(),
                    LineStyle::Label => theme::label(),
                    LineStyle::Warn => theme::warn(),
                };
                let st = if i == v.selected { theme::selected() } else { st };
                lines.push(Line::styled(text::truncate(&r.text, inner.width as usize), st));
            }
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
    rows
}
