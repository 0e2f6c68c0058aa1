//! The open value: its page, where the page is in the value, and the key's TTL.

use super::*;

pub(super) fn render_value(f: &mut Frame, area: Rect, tab: &KeysTab) -> usize {
    let Some(v) = &tab.value else { return 0 };
    let focused = tab.focus == Focus::Value;
    let name = text::truncate(&text::sanitize_line(&v.key), area.width.saturating_sub(8) as usize);
    let block = pane_block(focused, focused, format!(" {name} "));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    if v.gone {
        lines.push(Line::styled("✗ this key no longer exists (expired or deleted)", theme::warn()));
        lines.push(Line::styled("  Esc: back to the list · r: look again", theme::dim()));
    } else if let Some(e) = &v.error {
        lines.push(Line::styled(format!("✗ {}", text::sanitize_str(e)), theme::error()));
        lines.push(Line::styled("  r: retry (also retried when Redis is back)", theme::dim()));
    } else if let Some(p) = &v.page {
        let ttl = ttl_text(KeysTab::ttl_left(p.ttl, v.loaded_at_ms, tab.now_ms()));
        let len = match p.body {
            ValueBody::String(_) | ValueBody::HyperLogLog { .. } | ValueBody::Json(_) => text::human_bytes(p.length),
            ValueBody::Opaque => "-".into(),
            _ => format!("{} elements", num(p.length)),
        };
        let mem = p.memory.map(text::human_bytes).unwrap_or_else(|| "?".into());
        lines.push(Line::from(vec![
            Span::styled(p.ktype.name().to_string(), theme::type_color(p.ktype.name())),
            Span::raw(format!(" │ TTL {ttl} │ {len} │ memory {mem}")),
        ]));
        let page_info = match (&p.body, &p.cursor) {
            (ValueBody::Json(crate::domain::JsonDoc::Members { count, members, .. }), c) => {
                page_range(c, members.len(), *count, 0).replacen("elements", "members", 1)
            }
            (ValueBody::String(_) | ValueBody::HyperLogLog { .. } | ValueBody::Json(_) | ValueBody::Opaque, _) => {
                String::new()
            }
            (body, c) => page_range(c, body.elements(), p.length, v.before.iter().sum()),
        };
        let more = if p.next.is_some() { " · PgDn: next page" } else { "" };
        let back = if v.back.is_empty() { "" } else { " · PgUp: previous" };
        if !page_info.is_empty() {
            lines.push(Line::styled(format!("{page_info}{more}{back}"), theme::dim()));
        }
    } else {
        lines.push(Line::styled("loading…", theme::dim()));
    }
    if v.req.waiting() && v.page.is_some() {
        lines.push(Line::styled("reloading…", theme::dim()));
    }
    let head = lines.len();
    let rows = (inner.height as usize).saturating_sub(head);
    if !v.gone {
        for (style, l) in v.lines.iter().skip(v.scroll).take(rows) {
            let st = match style {
                LineStyle::Normal => ratatui::style::Style::new(),
                LineStyle::Dim => theme::dim(),
                LineStyle::Label => theme::label(),
                LineStyle::Warn => theme::warn(),
            };
            lines.push(Line::styled(l.as_str(), st));
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    rows
}

/// Which elements a page shows: by its offset (LRANGE, ZRANGE), or — for HSCAN, SSCAN and
/// XRANGE pages, which have none — by the elements of the pages before it.
pub(super) fn page_range(c: &PageCursor, n: usize, total: u64, before: u64) -> String {
    let from = match c {
        PageCursor::Offset(o) => *o,
        _ => before,
    };
    if n == 0 {
        return format!("no elements here of {}", num(total));
    }
    let scan = matches!(c, PageCursor::Cursor(_)).then_some(" (SCAN pages: a field may show twice)").unwrap_or("");
    format!("elements {}–{} of {}{scan}", num(from + 1), num(from + n as u64), num(total))
}
