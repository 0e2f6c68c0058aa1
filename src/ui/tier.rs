//! A tab whose tier is not configured says which keys configure it.

use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn render_unconfigured(f: &mut Frame, area: Rect, title: &str, lines: &[&str]) {
    let block = Block::default().borders(Borders::ALL).title(format!(" {title} "));
    let mut text: Vec<Line> = vec![Line::styled("not configured", theme::warn()), Line::raw("")];
    text.extend(lines.iter().map(|l| Line::raw(*l)));
    f.render_widget(Paragraph::new(text).block(block).wrap(Wrap { trim: false }), area);
}
