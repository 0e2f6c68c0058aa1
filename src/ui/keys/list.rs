//! The key list: a tree or flat rows, each with its type, TTL and size.

use super::*;

pub(super) fn render_list(f: &mut Frame, area: Rect, tab: &KeysTab, top: &mut u16) -> usize {
    let focused = tab.focus == Focus::List;
    let mut block = pane_block(focused && tab.value.is_some(), focused, " keys ".into());
    // An error over a listing that is still shown goes in the border: the rows stay where they
    // are while it comes and goes (a node that keeps timing out retries every few seconds).
    let rows_shown = tab.index.row_count() > 0;
    if let Some(e) = tab.error.as_ref().filter(|_| rows_shown) {
        let wait = e.retry_at_ms.saturating_sub(tab.now_ms());
        let l = format!(
            " ✗ retry in {:.1} s (attempt {}, r now) · Redis {} ",
            wait as f64 / 1000.0,
            e.attempt + 1,
            text::sanitize_str(&e.text)
        );
        block =
            block.title_bottom(Line::styled(text::truncate(&l, area.width.saturating_sub(2) as usize), theme::error()));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 2 || inner.width < 10 {
        return 1;
    }
    let w = inner.width as usize;
    // A narrow list (a value open at 80 columns) keeps the names readable: TTL and size go
    // (the value pane shows them for the selected key).
    let narrow = w < 60;
    let (tw, ttlw, sw) = if narrow { (7usize, 0usize, 0usize) } else { (7, 9, 10) };
    let name_w = w.saturating_sub(tw + if narrow { 1 } else { ttlw + sw + 3 });
    let cols = |ttl: &str, size: &str| if narrow { String::new() } else { format!(" {ttl:>ttlw$} {size:>sw$}") };
    let mut lines: Vec<Line> = Vec::with_capacity(inner.height as usize);
    lines.push(Line::styled(
        format!("{} {:<tw$}{}", text::fit("NAME", name_w), "TYPE", cols("TTL", "SIZE")),
        theme::dim(),
    ));
    let rows = inner.height as usize - 1;
    if let Some(e) = tab.error.as_ref().filter(|_| !rows_shown) {
        let wait = e.retry_at_ms.saturating_sub(tab.now_ms());
        lines
            .push(Line::styled(text::truncate(&format!("✗ Redis {}", text::sanitize_str(&e.text)), w), theme::error()));
        lines.push(Line::styled(
            format!("  retrying in {:.1} s (attempt {}) — press r to retry now", wait as f64 / 1000.0, e.attempt + 1),
            theme::warn(),
        ));
    }
    if tab.index.row_count() == 0 && tab.error.is_none() {
        let msg = if tab.scan.running {
            "loading…"
        } else if tab.pattern == "*" && tab.type_filter.is_none() {
            "this database is empty (d or :db N picks another)"
        } else {
            "no keys match (press / to change MATCH, t for the type filter)"
        };
        lines.push(Line::styled(msg, theme::dim()));
    }
    let used = lines.len() - 1;
    *top = inner.y + lines.len() as u16;
    let end = (tab.offset + rows.saturating_sub(used)).min(tab.index.row_count());
    for i in tab.offset..end {
        let Some(row) = tab.index.row(i) else { break };
        let indent = "  ".repeat(row.depth() as usize);
        let sel = i == tab.selected;
        let line = match row {
            Row::Folder { start, end, expanded, .. } => {
                let name = text::sanitize_line(tab.index.row_name(&row));
                let mark = if expanded { "▾" } else { "▸" };
                // Once a sort by size measured the listing, a folder says what its keys hold.
                let bytes =
                    tab.index.bytes_of(start, end).map(|b| format!(" · {}", text::human_bytes(b))).unwrap_or_default();
                let s =
                    format!("{indent}{mark} {name}{} ({}{bytes})", tab.index.delimiter(), num((end - start) as u64));
                Line::styled(text::fit(&s, w), if sel { theme::selected() } else { theme::folder() })
            }
            Row::Key { idx, .. } => {
                let key = tab.index.key(idx);
                let name = text::sanitize_line(tab.index.row_name(&row));
                let (t, ttl, size) = match tab.meta.get(key) {
                    Some(m) => (
                        m.meta.ktype.as_ref().map(|t| t.name().to_string()).unwrap_or_else(|| "gone".into()),
                        ttl_text(KeysTab::ttl_left(m.meta.ttl, m.at_ms, tab.now_ms())),
                        m.meta.memory.map(text::human_bytes).unwrap_or_else(|| "-".into()),
                    ),
                    None => ("…".into(), "".into(), "".into()),
                };
                // A key the last live refresh found new is marked.
                let lead = match (tab.fresh.contains(key), tab.index.mode() == ViewMode::Tree) {
                    (true, _) => "+ ",
                    (false, true) => "  ",
                    (false, false) => "",
                };
                let name_cell = text::fit(&format!("{indent}{lead}{name}"), name_w);
                let tcell = text::fit(&text::sanitize_str(&t), tw);
                if sel {
                    Line::styled(format!("{name_cell} {tcell}{}", cols(&ttl, &size)), theme::selected())
                } else {
                    Line::from(vec![
                        Span::raw(name_cell),
                        Span::raw(" "),
                        Span::styled(tcell, theme::type_color(&t)),
                        Span::styled(cols(&ttl, &size), theme::dim()),
                    ])
                }
            }
        };
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
    rows
}
