//! `:profile`: the cost warning and the session's state on top, the tables on the left
//! (scrolled), the live tail on the right (newest at the bottom).

use crate::tabs::profile::{MAX_LINES, ProfileView, SECONDS};
use crate::text;
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Draws the view; returns the rows the tables show (the page size).
pub fn render(f: &mut Frame, area: Rect, v: &ProfileView) -> usize {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let state = match (&v.stream.last, &v.stream.error) {
        (_, Some(_)) => Span::styled("not running", theme::error()),
        (Some(s), None) => match &s.stopped {
            Some(why) => Span::styled(format!("{why} · r starts another"), theme::warn()),
            None => Span::styled(
                format!(
                    "MONITOR running {:.0} of {SECONDS} s · {} of {} commands · Esc stops",
                    s.elapsed_s,
                    s.lines,
                    text::num(MAX_LINES)
                ),
                theme::label(),
            ),
        },
        (None, None) => Span::styled("starting MONITOR…", theme::dim()),
    };
    let filter = if v.filter.is_empty() { "everything".to_string() } else { text::sanitize_str(&v.filter) };
    let w = head.width as usize;
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(text::truncate(crate::analysis::profile::COST_WARNING, w), theme::warn()),
            Line::from(vec![state, Span::styled(format!(" · tail: {filter} (f filters)"), theme::dim())]),
        ]),
        head,
    );
    let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let block = Block::default().borders(Borders::ALL).border_style(theme::title()).title(" profile ");
    let lines = v.lines().into_iter().map(|l| (crate::ui::heading_style(&l), l));
    let rows = crate::ui::scrolled_lines(f, left, block, lines, v.top);
    let block = Block::default().borders(Borders::ALL).border_style(theme::dim()).title(" tail ");
    let tail_in = block.inner(right);
    f.render_widget(block, right);
    let tail: &[String] = v.stream.last.as_ref().map(|s| s.tail.as_slice()).unwrap_or(&[]);
    let h = tail_in.height as usize;
    let shown: Vec<Line> = tail[tail.len().saturating_sub(h)..]
        .iter()
        .map(|l| Line::raw(text::truncate(l, tail_in.width as usize)))
        .collect();
    f.render_widget(Paragraph::new(shown), tail_in);
    rows
}
