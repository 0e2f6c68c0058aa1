//! `:pubsub`: the channels and the live messages; the newest stay in view unless scrolled.

use crate::tabs::pubsub::PubSubView;
use crate::text;
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders};

pub fn render(f: &mut Frame, area: Rect, v: &PubSubView) -> usize {
    let state = match (&v.stream.last, &v.stream.error) {
        (Some(s), None) if s.stopped.is_none() => "subscribed (read-only) · Esc unsubscribes",
        (None, None) => "subscribing…",
        _ => "not subscribed",
    };
    let title = format!(" pub/sub {} · {state} ", text::sanitize_str(&v.pattern));
    let block = Block::default().borders(Borders::ALL).border_style(theme::title()).title(title);
    let rows = (block.inner(area).height as usize).max(1);
    let all = v.lines();
    // Unscrolled: the channels, then the newest messages that fit under them.
    let shown: Vec<String> = if v.top == 0 {
        let split = all.iter().position(|l| l.starts_with("messages, newest last")).map_or(all.len(), |i| i + 1);
        let head: Vec<String> = all[..split].iter().take(rows.div_ceil(2)).cloned().collect();
        let room = rows.saturating_sub(head.len());
        let tail = &all[split..];
        head.into_iter().chain(tail[tail.len().saturating_sub(room)..].iter().cloned()).collect()
    } else {
        all.into_iter().skip(v.top).take(rows).collect()
    };
    crate::ui::scrolled_lines(f, area, block, shown.into_iter().map(|l| (crate::ui::heading_style(&l), l)), 0)
}
