//! `:server`: the slow log, clients, commands and latency events of every node.

use crate::tabs::server::ServerView;
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

/// `:server`: the report, scrolled, with how old the reading is.
pub fn render(f: &mut Frame, area: Rect, v: &ServerView, now: u64) -> usize {
    use crate::server_report::Emphasis;
    let age = now.saturating_sub(v.read_at_ms);
    let reading =
        if v.req.waiting() { "reading…".to_string() } else { format!("read {:.0} s ago", age as f64 / 1000.0) };
    let title = format!(" server · {reading} · every 2 s · clients by {} ", v.sort.name());
    let block =
        Block::default().borders(Borders::ALL).border_style(theme::title()).title(Span::styled(title, theme::title()));
    let lines = v.lines().into_iter().map(|(e, l)| {
        let st = match e {
            Emphasis::Heading => theme::label(),
            Emphasis::Normal => ratatui::style::Style::new(),
            Emphasis::Dim => theme::dim(),
            Emphasis::Warn => theme::warn(),
        };
        (st, l)
    });
    crate::ui::scrolled_lines(f, area, block, lines, v.top)
}
