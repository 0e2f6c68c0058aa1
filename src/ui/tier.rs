//! Tabs whose tier this build does not browse yet, or whose tier is not configured: they say
//! exactly what is configured and which key to set.

use crate::app::TierInfo;
use crate::domain::ConnState;
use crate::{text, ui::theme};
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

/// A tab for a tier: configuration help when unconfigured, else what is configured.
pub fn render(f: &mut Frame, area: Rect, title: &str, tier: &TierInfo, how: &[&str], pending: &str) {
    match (&tier.state, &tier.label) {
        (ConnState::NotConfigured, _) | (_, None) => render_unconfigured(f, area, title, how),
        (state, Some(label)) => {
            let block = Block::default().borders(Borders::ALL).title(format!(" {title} "));
            let st = match state {
                ConnState::Down(e) => Line::styled(format!("DOWN: {}", text::sanitize_str(e)), theme::error()),
                ConnState::Up => Line::styled("up", theme::ok()),
                _ => Line::styled("configured", theme::label()),
            };
            let lines = vec![
                Line::raw(format!("configured: {}", text::sanitize_str(label))),
                st,
                Line::raw(""),
                Line::styled(pending.to_string(), theme::dim()),
            ];
            f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), area);
        }
    }
}
