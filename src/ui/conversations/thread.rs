//! A thread: its messages (wrapped, collapsed, searched), the side panel of documents.

use super::*;

/// The lines of one message at a width: header, then content (code blocks styled), collapsed
/// after COLLAPSE_LINES unless expanded.
pub(super) fn message_lines(
    m: &Message,
    width: usize,
    expanded: bool,
    selected: bool,
    now: Option<Ts>,
    hit: bool,
    marks: TierMarks,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let ts = match (m.timestamp, m.ts_form) {
        (Some(t), TsForm::IsoString) => format!("{} (ISO string, read as UTC)", t.to_rfc3339()),
        (Some(t), TsForm::UnixNumber) => format!("{} (Unix number)", t.to_rfc3339()),
        (Some(t), _) => t.to_rfc3339(),
        // A framework's layout that keeps no timestamps: the stored order is the order.
        (None, TsForm::Missing) if m.doc.get("stored").is_some() => "no timestamp in this layout (stored order)".into(),
        (None, TsForm::Missing) => match m.doc.get("timestamp") {
            None => "no timestamp (listed after the timed messages)".into(),
            Some(v) => format!("no timestamp ({} value; listed after the timed messages)", v.type_name()),
        },
        (None, _) => "no timestamp (unreadable value; listed after the timed messages)".into(),
    };
    let marker = if selected { "▶" } else { "▍" };
    let mut head = vec![Span::styled(format!("{marker} {}", text::sanitize_str(&m.role)), role_style(&m.role))];
    // Tier badges, right after the role so that they survive a narrow screen.
    if marks.redis == Some(true) {
        head.push(Span::styled(" [R]", Style::new().fg(Color::LightRed)));
    }
    match marks.vector {
        Some(true) => head.push(Span::styled(" [V]", Style::new().fg(Color::LightMagenta))),
        Some(false) if marks.relevant => head.push(Span::styled(" [V!]", theme::warn())),
        _ => {}
    }
    head.push(Span::styled(format!(" · {ts} · {}", relative(m.timestamp, now)), theme::dim()));
    head.push(Span::styled(format!(" · {}", text::sanitize_str(&m.id)), theme::dim()));
    if hit {
        head.push(Span::styled(" · match", theme::warn()));
    }
    let mut head = Line::from(head);
    if selected {
        head = head.style(Style::new().add_modifier(Modifier::REVERSED));
    }
    out.push(head);
    let body_w = width.saturating_sub(2).max(10);
    let mut body: Vec<Line<'static>> = Vec::new();
    let mut code = false;
    for raw in text::sanitize_multiline(m.content.as_bytes()).split('\n') {
        if raw.trim_start().starts_with("```") {
            code = !code;
            body.push(Line::styled(format!("  {}", text::truncate(raw, body_w)), theme::dim()));
            continue;
        }
        let style = if code { Style::new().fg(Color::LightYellow) } else { Style::new() };
        for w in text::wrap(raw, body_w) {
            body.push(Line::styled(format!("  {w}"), style));
        }
    }
    let total = body.len();
    if total > COLLAPSE_LINES && !expanded {
        body.truncate(COLLAPSE_LINES - 2);
        body.push(Line::styled(
            format!(
                "  … {} more lines ({}) — Enter expands",
                total - (COLLAPSE_LINES - 2),
                text::human_bytes(m.content.len() as u64)
            ),
            theme::warn(),
        ));
    }
    out.extend(body);
    out.push(Line::raw(""));
    out
}

/// A line with every case-insensitive occurrence of `q` (lower case) highlighted.
pub(super) fn highlight(line: Line<'static>, q: &str) -> Line<'static> {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let lower = text.to_lowercase();
    if q.is_empty() || lower.len() != text.len() || !lower.contains(q) {
        return line;
    }
    let base = line.spans.first().map(|s| s.style).unwrap_or_default().patch(line.style);
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(q) {
        let (s, e) = (at + i, at + i + q.len());
        if s > at {
            spans.push(Span::styled(text[at..s].to_string(), base));
        }
        spans.push(Span::styled(text[s..e].to_string(), theme::found()));
        at = e;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    Line::from(spans)
}

pub(super) fn render_thread(
    f: &mut Frame,
    area: Rect,
    tab: &ConversationsTab,
    t: &Thread,
    drawn: &mut Option<(usize, usize, usize, usize)>,
) -> usize {
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let c = &t.conv;
    let title = text::sanitize_str(c.title.as_deref().unwrap_or(&c.id));
    let state = if let Some(e) = &t.error {
        Span::styled(format!("✗ {}", text::sanitize_str(e)), theme::error())
    } else if t.done {
        Span::styled(format!("{} messages", t.messages.len()), theme::ok())
    } else {
        Span::styled(format!("{} messages loaded, streaming…", t.messages.len()), theme::warn())
    };
    let search = match &t.search {
        Some(q) => format!(" │ search: {}", text::sanitize_str(q)),
        None => String::new(),
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::styled(format!(" {title}"), theme::title()),
            Line::from(vec![
                Span::raw(format!(
                    " {} · user {} · agent {} │ ",
                    text::sanitize_str(&c.id),
                    text::sanitize_str(c.user_id.as_deref().unwrap_or("-")),
                    text::sanitize_str(c.agent_id.as_deref().unwrap_or("-"))
                )),
                state,
                Span::styled(search, theme::label()),
                Span::styled(
                    if t.badges.is_some() { " │ [R] Redis list · [V] vector · [V!] missing" } else { "" },
                    theme::dim(),
                ),
                // A tier the badges could not read: its badges are absent, and this says why.
                // Under a framework's layout they are not checked at all: said plainly.
                match tab.layout.is_memscopes_own() {
                    true => Span::styled(
                        match t.badges.as_ref().map(|b| b.errors.join("; ")) {
                            Some(e) if !e.is_empty() => format!(" │ ✗ {}", text::sanitize_str(&e)),
                            _ => String::new(),
                        },
                        theme::error(),
                    ),
                    false => Span::styled(
                        format!(" │ tiers not checked (layout {})", tab.layout.preset.name()),
                        theme::dim(),
                    ),
                },
            ]),
        ]),
        head,
    );
    let (main, side) = if t.side || t.trace.is_some() {
        let main_pct = if t.trace.is_some() { 50 } else { 62 };
        let [a, b] =
            Layout::horizontal([Constraint::Percentage(main_pct), Constraint::Percentage(100 - main_pct)]).areas(body);
        (a, Some(b))
    } else {
        (body, None)
    };
    let block = Block::default().borders(Borders::ALL).border_style(theme::title());
    let inner = block.inner(main);
    f.render_widget(block, main);
    let h = inner.height as usize;
    let w = inner.width as usize;
    let now = tab.wall_now();
    let q = t.search.as_ref().map(|s| s.to_lowercase());
    let lines_of = |i: usize| {
        let m = &t.messages[i];
        let hit = q.as_ref().is_some_and(|q| !q.is_empty() && m.content.to_lowercase().contains(q));
        let mut l = message_lines(m, w, t.expanded.contains(&i), i == t.selected, now, hit, tab.marks(t, i));
        // The search's matches, highlighted in the message's text.
        if hit && let Some(q) = q.as_deref() {
            for line in l.iter_mut().skip(1) {
                *line = highlight(std::mem::take(line), q);
            }
        }
        // A message the last live refresh found new is marked.
        if t.fresh.contains(&m.id)
            && let Some(head) = l.first_mut()
        {
            head.spans.push(Span::styled(" · new", theme::ok()));
        }
        l
    };
    let mut lines: Vec<Line> = Vec::new();
    if t.messages.is_empty() {
        lines.push(Line::styled(if t.done { "(no messages)" } else { "loading…" }, theme::dim()));
    } else {
        // Start a few messages above the selection (about a third of the screen), then fill;
        // inside a long message scrolled down, start with the selected message's lines from
        // there (its header first, so it is clear whose text this is).
        let mut start = t.selected.min(t.messages.len() - 1);
        let mut above = 0usize;
        if t.inner > 0 {
            let own = lines_of(start);
            let body = own.len().saturating_sub(1);
            let skip = t.inner.min(body.saturating_sub(1));
            let mut head = own[0].clone();
            head.spans.push(Span::styled(format!(" · line {} of {}", skip + 1, body), theme::warn()));
            lines.push(head);
            lines.extend(own.into_iter().skip(1 + skip));
            *drawn = Some((start, skip, (body - skip).min(h.saturating_sub(1)), body));
            start += 1;
            above = usize::MAX;
        }
        while start > 0 && above != usize::MAX {
            let hgt = lines_of(start - 1).len();
            if above + hgt > h / 3 {
                break;
            }
            above += hgt;
            start -= 1;
        }
        // Near the end of the thread, the screen is filled from the bottom (`G` shows the last
        // messages, not one message and an empty screen).
        if above != usize::MAX {
            // (Counted only until the screen is full: a thread may be long.)
            let mut below = 0;
            for i in start..t.messages.len() {
                below += lines_of(i).len();
                if below >= h {
                    break;
                }
            }
            while start > 0 && below < h {
                let hgt = lines_of(start - 1).len();
                if below + hgt > h {
                    break;
                }
                below += hgt;
                start -= 1;
            }
            let sel = t.selected.min(t.messages.len() - 1);
            let own = lines_of(sel).len().saturating_sub(1);
            let before: usize = (start..sel).map(|i| lines_of(i).len()).sum();
            *drawn = Some((sel, 0, own.min(h.saturating_sub(before + 1)), own));
        }
        let mut i = start;
        while i < t.messages.len() && lines.len() < h {
            lines.extend(lines_of(i));
            i += 1;
        }
        lines.truncate(h);
    }
    f.render_widget(Paragraph::new(lines), inner);
    match (side, &t.trace) {
        (Some(area), Some(v)) => super::trace::render_trace(f, area, v, tab.now_ms),
        (Some(area), None) => render_side(f, area, t),
        _ => {}
    }
    h
}

pub(super) fn render_side(f: &mut Frame, area: Rect, t: &Thread) {
    let block = Block::default().borders(Borders::ALL).border_style(theme::dim()).title(" documents ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines = Vec::new();
    if t.side_docs.is_empty() {
        lines.push(Line::styled(if t.side_req.waiting() { "loading…" } else { "(none)" }, theme::dim()));
    }
    for (path, doc) in &t.side_docs {
        lines.push(Line::styled(text::truncate(&text::sanitize_str(path), w), theme::label()));
        match doc {
            Some(d) => {
                lines.extend(super::browser::panel_field_lines(&crate::tabs::conversations::field_lines(&d.fields), w))
            }
            None => lines.push(Line::styled("  (no such document)", theme::dim())),
        }
        lines.push(Line::raw(""));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
