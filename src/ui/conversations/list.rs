//! The conversation list: title, user, agent, messages, last activity.

use super::*;

pub(super) fn render_list(
    f: &mut Frame,
    area: Rect,
    tab: &ConversationsTab,
    conn: &ConnState,
    label: Option<&str>,
    top: &mut u16,
) -> usize {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let count = match tab.count {
        Some(n) => format!("{n} conversations"),
        None => "counting…".into(),
    };
    let filter = match tab.filter.text() {
        s if s.is_empty() => "all".to_string(),
        s => text::sanitize_str(&s),
    };
    let more = if tab.next.is_some() { "+" } else { "" };
    let mut l2 = vec![
        Span::styled(format!(" filter: {filter} "), theme::label()),
        Span::raw(format!("│ {count}")),
        Span::styled(
            tab.left_out.as_deref().map(|l| format!(" ({})", text::sanitize_str(l))).unwrap_or_default(),
            theme::warn(),
        ),
        Span::raw(format!(" │ {} loaded{more}", tab.convs.len())),
        // The list refreshes itself up to LIVE_MAX loaded rows; past that it says it does not.
        match (tab.error.is_some() || !tab.loaded_once, tab.convs.len() > crate::tabs::conversations::LIVE_MAX) {
            (true, _) => Span::raw(""),
            (false, true) => Span::styled(" · not refreshed past 500 rows (r reloads)", theme::warn()),
            (false, false) => Span::styled(" · live", theme::dim()),
        },
    ];
    if tab.list_req.waiting() {
        l2.push(Span::styled(" │ loading…", theme::warn()));
    }
    if let ConnState::Down(e) = conn {
        l2.push(Span::styled(format!(" │ DOWN: {}", text::sanitize_str(e)), theme::error()));
    }
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(
                if tab.layout.is_memscopes_own() {
                    format!(" {}", label.map(text::sanitize_str).unwrap_or_default())
                } else {
                    let renamed = if tab.layout.overridden { " (renamed)" } else { "" };
                    format!(
                        " layout {}{renamed} · {}",
                        tab.layout.preset.name(),
                        label.map(text::sanitize_str).unwrap_or_default()
                    )
                },
                theme::title(),
            ),
            Line::from(l2),
        ]),
        head,
    );
    let block = Block::default().borders(Borders::ALL).border_style(theme::title()).title(" conversations ");
    let inner = block.inner(body);
    f.render_widget(block, body);
    let w = inner.width as usize;
    // The agent column only when the terminal has room for it beside a readable title.
    let (uw, gw, mw, aw) = (14usize, if w >= 110 { 14usize } else { 0 }, 6usize, 34usize);
    let tw = w.saturating_sub(uw + gw + mw + aw + 3 + usize::from(gw > 0));
    let agent_col = |s: &str| if gw > 0 { format!("{} ", text::fit(s, gw)) } else { String::new() };
    let mut lines = vec![Line::styled(
        format!(
            "{} {} {}{:>mw$} {}",
            text::fit("TITLE", tw),
            text::fit("USER", uw),
            agent_col("AGENT"),
            "MSGS",
            "LAST ACTIVITY"
        ),
        theme::dim(),
    )];
    if let Some(e) = &tab.error {
        // Shown whole, wrapped (a missing-index error carries the link that creates the index).
        for l in text::wrap(&format!("✗ {}", text::sanitize_str(&e.text)), w) {
            lines.push(Line::styled(l, theme::error()));
        }
        let wait = e.retry_at_ms.saturating_sub(tab.now_ms);
        lines.push(Line::styled(
            format!("  retrying in {:.0} s (attempt {}) — r retries now", wait as f64 / 1000.0, e.attempt + 1),
            theme::warn(),
        ));
    } else if tab.convs.is_empty() {
        let msg = if tab.loaded_once { "no conversations match (/ changes the filter)" } else { "loading…" };
        lines.push(Line::styled(msg, theme::dim()));
        // What a sample of the stores found instead, and the preset that reads it.
        if let Some(found) = &tab.found {
            for l in text::wrap(&text::sanitize_str(found), w) {
                lines.push(Line::styled(l, theme::warn()));
            }
        }
    }
    let rows = (inner.height as usize).saturating_sub(lines.len());
    *top = inner.y + lines.len() as u16;
    let now = tab.wall_now();
    // Titles that repeat among the loaded rows (a framework's threads often open alike) are
    // told apart by their id.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for c in &tab.convs {
        *seen.entry(c.title.as_deref().unwrap_or(&c.id)).or_default() += 1;
    }
    for (i, c) in tab.convs.iter().enumerate().skip(tab.offset).take(rows) {
        let title = match c.title.as_deref() {
            Some(t) if seen.get(t).is_some_and(|n| *n > 1) => text::sanitize_str(&format!("{t} · {}", c.id)),
            t => text::sanitize_str(t.unwrap_or(&c.id)),
        };
        let user = text::sanitize_str(c.user_id.as_deref().unwrap_or("-"));
        let msgs = c.message_count.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        // Without `updated_at`, the creation time stands in (marked); without either, say so.
        let when = match (c.updated_at, c.created_at) {
            (Some(t), _) => format!("{} ({})", relative(Some(t), now), &t.to_rfc3339()[..16]),
            (None, Some(t)) => format!("created {}", relative(Some(t), now)),
            (None, None) if !tab.layout.is_memscopes_own() => "not stored by this layout".into(),
            (None, None) if c.has_no_document() => "no document: messages only".into(),
            (None, None) => "no updated_at".into(),
        };
        let agent = text::sanitize_str(c.agent_id.as_deref().unwrap_or("-"));
        // A conversation the last live refresh found new is marked.
        let title = if tab.fresh.contains(&c.id) { format!("+ {title}") } else { title };
        let s = format!(
            "{} {} {}{msgs:>mw$} {}",
            text::fit(&title, tw),
            text::fit(&user, uw),
            agent_col(&agent),
            text::fit(&when, aw)
        );
        lines.push(if i == tab.selected { Line::styled(s, theme::selected()) } else { Line::raw(s) });
    }
    f.render_widget(Paragraph::new(lines), inner);
    rows
}
