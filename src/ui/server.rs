//! `:server`: the slow log, clients, commands and latency events of every node.

use crate::tabs::server::ServerView;
use crate::text;
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// `:server`: the report, scrolled, with how old the reading is.
pub fn render(f: &mut Frame, area: Rect, v: &ServerView, now: u64) -> usize {
    use crate::server_report::Emphasis;
    let age = now.saturating_sub(v.read_at_ms);
    let reading =
        if v.req.waiting() { "reading…".to_string() } else { format!("read {:.0} s ago", age as f64 / 1000.0) };
    let title = format!(" server · {reading} · every 2 s · clients by {} ", v.sort.name());
    let block =
        Block::default().borders(Borders::ALL).border_style(theme::title()).title(Span::styled(title, theme::title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = (inner.height as usize).max(1);
    let lines: Vec<Line> = v
        .lines()
        .into_iter()
        .skip(v.top)
        .take(rows)
        .map(|(e, l)| {
            let st = match e {
                Emphasis::Heading => theme::label(),
                Emphasis::Normal => ratatui::style::Style::new(),
                Emphasis::Dim => theme::dim(),
                Emphasis::Warn => theme::warn(),
            };
            Line::styled(text::truncate(&l, inner.width as usize), st)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    rows
}
