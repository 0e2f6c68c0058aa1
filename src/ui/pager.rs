//! Drawing the pager: the whole screen, its title with the position and the match count, the
//! rows from the top, every match highlighted (the current one brighter), and the keys or the
//! search being typed on the last line.

use crate::tabs::pager::Pager;
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(f: &mut Frame, p: &Pager) {
    let area = f.area();
    f.render_widget(Clear, area);
    // The frame's own size (the pager's is the terminal's, for its page moves: the same).
    let note_rows = usize::from(p.note.is_some());
    let (w, h) =
        ((area.width as usize).saturating_sub(2).max(1), (area.height as usize).saturating_sub(3 + note_rows).max(1));
    let rows = p.rows(w);
    let matches = p.matches();
    let last = (p.top + h).min(rows.len());
    let position = if rows.len() <= h {
        "all".to_string()
    } else {
        format!("rows {}–{} of {} ({}%)", p.top + 1, last, rows.len(), last * 100 / rows.len().max(1))
    };
    let found = match (&p.query, matches.len()) {
        (Some(q), 0) => format!(" · no match for \"{}\"", text::sanitize_str(q)),
        (Some(_), n) => format!(" · match {}/{n}", p.current.min(n - 1) + 1),
        _ => String::new(),
    };
    let wrap = if p.wrap { "wrap" } else { "no wrap" };
    let title = format!(" {} · {position}{found} · {wrap} ", text::sanitize_str(&p.title));
    let block = Block::default().borders(Borders::ALL).title(Span::styled(title, theme::title()));
    let note_h = u16::from(p.note.is_some());
    let [main, keys] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let inner = block.inner(main);
    f.render_widget(block, main);
    let [note, body] = Layout::vertical([Constraint::Length(note_h), Constraint::Min(1)]).areas(inner);
    if let Some(n) = &p.note {
        f.render_widget(Paragraph::new(Line::styled(text::sanitize_str(n), theme::warn())), note);
    }
    let current = matches.get(p.current).copied();
    let lines: Vec<Line> = rows[p.top.min(rows.len())..last]
        .iter()
        .map(|r| {
            let chars: Vec<char> = r.text.chars().collect();
            let end = r.start + chars.len();
            // Sideways: the row from `left` on.
            let skip = if p.wrap { 0 } else { p.left.min(chars.len()) };
            // Character styles of this row: matches that overlap it.
            let mut marks: Vec<Option<bool>> = vec![None; chars.len()];
            for m @ &(line, s, n) in &matches {
                if line != r.line || s + n <= r.start || s >= end {
                    continue;
                }
                for c in s.max(r.start)..(s + n).min(end) {
                    marks[c - r.start] = Some(Some(*m) == current);
                }
            }
            let mut spans: Vec<Span> = Vec::new();
            let mut run = String::new();
            let mut style = None;
            for (c, m) in chars.iter().zip(&marks).skip(skip) {
                if *m != style && !run.is_empty() {
                    spans.push(styled(std::mem::take(&mut run), style));
                }
                style = *m;
                run.push(*c);
            }
            if !run.is_empty() {
                spans.push(styled(run, style));
            }
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
    let bottom = match &p.editing {
        Some(q) => {
            let t: Vec<char> = q.text().chars().collect();
            let at = q.area().cursor().1.min(t.len());
            let (before, after): (String, String) = (t[..at].iter().collect(), t[at..].iter().collect());
            let typed = if q.is_fresh() { theme::selected() } else { ratatui::style::Style::default() };
            Line::from(vec![
                Span::styled(" search: ", theme::key_hint()),
                Span::raw(" "),
                Span::styled(text::sanitize_str(&before), typed),
                Span::raw("▏"),
                Span::styled(text::sanitize_str(&after), typed),
                Span::raw(" (Enter finds · Esc cancels)"),
            ])
        }
        None => Line::styled(
            format!(
                // The way out first: a narrow screen cuts the end of the line, not Esc.
                " Esc close · / search · n/N match{} · j/k line · Space/b page · g/G top/end · w wrap · ←/→",
                if p.more { " · ] next window" } else { "" }
            ),
            theme::dim(),
        ),
    };
    f.render_widget(Paragraph::new(bottom), keys);
}

fn styled(s: String, m: Option<bool>) -> Span<'static> {
    match m {
        Some(true) => Span::styled(s, theme::found_current()),
        Some(false) => Span::styled(s, theme::found()),
        None => Span::raw(s),
    }
}
