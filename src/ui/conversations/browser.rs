//! The document browser: collections, documents, a document's typed field tree.

use super::*;

pub(super) fn field_line(l: &FieldLine, w: usize, selected: bool) -> Line<'static> {
    let indent = "  ".repeat(l.depth);
    let key = format!("{indent}{}", l.key);
    let s = format!("{} {:<9} {}", text::fit(&key, 24.min(w / 2)), l.type_name, l.value);
    let s = text::truncate(&s, w);
    if selected {
        Line::styled(s, theme::selected())
    } else if l.reference.is_some() {
        Line::styled(s, Style::new().fg(Color::LightBlue).add_modifier(Modifier::UNDERLINED))
    } else {
        Line::raw(s)
    }
}

/// A document's fields for a narrow panel: the name column as wide as the longest name (at most
/// a third of the width), the type in a few columns, and a value that does not fit continued on
/// the following lines (up to `MAX_VALUE_LINES`, then how much more there is).
pub(super) fn panel_field_lines(ls: &[FieldLine], w: usize) -> Vec<Line<'static>> {
    const MAX_VALUE_LINES: usize = 4;
    let key_w = ls.iter().map(|l| text::width(&l.key) + 2 * l.depth).max().unwrap_or(0).min(w / 3).max(4);
    let type_w = ls.iter().map(|l| l.type_name.len()).max().unwrap_or(0);
    let value_w = w.saturating_sub(key_w + type_w + 2).max(8);
    let mut out = Vec::new();
    for l in ls {
        let key = format!("{}{}", "  ".repeat(l.depth), l.key);
        let head = format!("{} {:<type_w$} ", text::fit(&key, key_w), l.type_name);
        let chunks = text::wrap(&l.value, value_w);
        let total = chunks.len();
        let style = if l.reference.is_some() { Style::new().fg(Color::LightBlue) } else { Style::new() };
        for (i, chunk) in chunks.into_iter().take(MAX_VALUE_LINES).enumerate() {
            let lead = if i == 0 { head.clone() } else { " ".repeat(key_w + type_w + 2) };
            out.push(Line::styled(format!("{lead}{chunk}"), style));
        }
        if total > MAX_VALUE_LINES {
            out.push(Line::styled(
                format!(
                    "{}… {} more lines (b opens the document)",
                    " ".repeat(key_w + type_w + 2),
                    total - MAX_VALUE_LINES
                ),
                theme::dim(),
            ));
        }
    }
    out
}

pub(super) fn render_browser(f: &mut Frame, area: Rect, tab: &ConversationsTab) -> usize {
    let b = &tab.browser;
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let crumb = match b.stack.last() {
        Some(BrowserLevel::Collections { parent: None, .. }) | None => "/ (root collections)".to_string(),
        Some(BrowserLevel::Collections { parent: Some(p), .. }) => format!("/{p} (subcollections)"),
        Some(BrowserLevel::Documents { collection, .. }) => format!("/{collection}"),
        Some(BrowserLevel::Document { path, .. }) => format!("/{path}"),
    };
    let mut l2 = vec![Span::raw(" Enter opens · c subcollections · Esc back")];
    if b.req.waiting() {
        l2.push(Span::styled(" │ loading…", theme::warn()));
    }
    if let Some(e) = &b.error {
        l2.push(Span::styled(format!(" │ ✗ {}", text::sanitize_str(e)), theme::error()));
    }
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(format!(" documents {}", text::sanitize_str(&crumb)), theme::title()),
            Line::from(l2),
        ]),
        head,
    );
    let block = Block::default().borders(Borders::ALL).border_style(theme::title());
    let inner = block.inner(body);
    f.render_widget(block, body);
    let h = inner.height as usize;
    let w = inner.width as usize;
    let window = |sel: usize, n: usize| -> usize { if sel >= h { (sel + 1 - h).min(n.saturating_sub(h)) } else { 0 } };
    let mut lines: Vec<Line> = Vec::new();
    match b.stack.last() {
        Some(BrowserLevel::Collections { items, selected, .. }) => {
            if items.is_empty() && !b.req.waiting() {
                lines.push(Line::styled("(no collections)", theme::dim()));
            }
            let off = window(*selected, items.len());
            for (i, c) in items.iter().enumerate().skip(off).take(h) {
                let s = format!("▸ {}/", text::sanitize_str(c));
                lines.push(if i == *selected {
                    Line::styled(s, theme::selected())
                } else {
                    Line::styled(s, theme::folder())
                });
            }
        }
        Some(BrowserLevel::Documents { items, selected, next, .. }) => {
            if items.is_empty() && !b.req.waiting() {
                lines.push(Line::styled("(no documents)", theme::dim()));
            }
            let off = window(*selected, items.len());
            for (i, d) in items.iter().enumerate().skip(off).take(h) {
                // A document that does not exist but holds subcollections, as the Firebase
                // console shows it (in italics).
                let phantom = d.fields.is_empty() && d.update_time.is_none();
                let what = if phantom {
                    "no document: holds subcollections (c)".to_string()
                } else {
                    format!("{} fields", d.fields.len())
                };
                let s = text::truncate(&format!("{}  ({what})", text::sanitize_str(d.id())), w);
                lines.push(match (i == *selected, phantom) {
                    (true, _) => Line::styled(s, theme::selected()),
                    (false, true) => Line::styled(s, theme::dim().add_modifier(Modifier::ITALIC)),
                    (false, false) => Line::raw(s),
                });
            }
            if next.is_some() && lines.len() < h {
                lines.push(Line::styled("… more below", theme::dim()));
            }
        }
        Some(BrowserLevel::Document { lines: fl, selected, found, .. }) => {
            match found {
                Some(false) => lines.push(Line::styled(
                    "(no such document — a path that holds subcollections lists them with c)",
                    theme::warn(),
                )),
                None => lines.push(Line::styled("loading…", theme::dim())),
                Some(true) if fl.is_empty() => lines.push(Line::styled("(empty document)", theme::dim())),
                _ => {}
            }
            let off = window(*selected, fl.len());
            for (i, l) in fl.iter().enumerate().skip(off).take(h) {
                lines.push(field_line(l, w, i == *selected));
            }
        }
        None => {}
    }
    f.render_widget(Paragraph::new(lines), inner);
    h
}
