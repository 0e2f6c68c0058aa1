//! Drawing the Conversations tab: list, thread (with side panel) and document browser.
//! Each view draws only what fits on screen.

use crate::domain::{ConnState, Message, Ts, TsForm};
use crate::tabs::conversations::{
    BrowserLevel, COLLAPSE_LINES, ConversationsTab, FieldLine, Thread, TierMarks, TraceView, View,
};
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

fn relative(t: Option<Ts>, now: Option<Ts>) -> String {
    match (t, now) {
        (Some(t), Some(now)) => {
            let d = now.secs - t.secs;
            if d < 0 { "in the future".into() } else { format!("{} ago", text::human_ms(d * 1000)) }
        }
        _ => String::new(),
    }
}

fn role_style(role: &str) -> Style {
    let c = match role {
        "user" => Color::Cyan,
        "assistant" => Color::Green,
        "system" => Color::Magenta,
        "tool" => Color::Yellow,
        _ => Color::Gray,
    };
    Style::new().fg(c).add_modifier(Modifier::BOLD)
}

/// Draws the tab; returns the rows of the list it shows (conversations, messages or documents),
/// a page, and sets `top` to the screen row of the list's first entry (a mouse click picks a
/// row by it).
pub fn render(
    f: &mut Frame,
    area: Rect,
    tab: &ConversationsTab,
    conn: &ConnState,
    label: Option<&str>,
    top: &mut u16,
    drawn: &mut Option<(usize, usize, usize, usize)>,
) -> usize {
    *drawn = None;
    match tab.view {
        View::List => render_list(f, area, tab, conn, label, top),
        View::Thread => match &tab.thread {
            Some(t) => render_thread(f, area, tab, t, drawn),
            None => render_list(f, area, tab, conn, label, top),
        },
        View::Browser => render_browser(f, area, tab),
    }
}

fn render_list(
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

/// The lines of one message at a width: header, then content (code blocks styled), collapsed
/// after COLLAPSE_LINES unless expanded.
pub fn message_lines(
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
fn highlight(line: Line<'static>, q: &str) -> Line<'static> {
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

fn render_thread(
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
        (Some(area), Some(v)) => render_trace(f, area, v, tab.now_ms),
        (Some(area), None) => render_side(f, area, t),
        _ => {}
    }
    h
}

fn field_line(l: &FieldLine, w: usize, selected: bool) -> Line<'static> {
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
fn panel_field_lines(ls: &[FieldLine], w: usize) -> Vec<Line<'static>> {
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

fn render_side(f: &mut Frame, area: Rect, t: &Thread) {
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
            Some(d) => lines.extend(panel_field_lines(&crate::tabs::conversations::field_lines(&d.fields), w)),
            None => lines.push(Line::styled("  (no such document)", theme::dim())),
        }
        lines.push(Line::raw(""));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn render_browser(f: &mut Frame, area: Rect, tab: &ConversationsTab) -> usize {
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

/// A PTTL read `age_ms` ago, as what is left now.
pub fn ttl_text(pttl_ms: i64, age_ms: u64) -> String {
    match pttl_ms {
        -2 => "absent".into(),
        -1 => "no TTL".into(),
        ms => {
            let left = ms - age_ms as i64;
            if left <= 0 { "expired".into() } else { format!("TTL {}", text::human_ms(left)) }
        }
    }
}

fn render_trace(f: &mut Frame, area: Rect, v: &TraceView, now_ms: u64) {
    let busy = if v.req.waiting() { " · tracing…" } else { "" };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::label())
        .title(format!(" trace {}{busy} ", text::sanitize_str(&v.message)));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let fit = |s: String| text::truncate(&s, w);
    let mut lines: Vec<Line> = Vec::new();
    let Some(tr) = &v.result else {
        lines.push(Line::styled("reading the three tiers…", theme::dim()));
        f.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let age = now_ms.saturating_sub(v.at_ms);
    let err = |e: &dyn std::fmt::Display| {
        Line::styled(fit(format!("  ✗ {}", text::sanitize_str(&e.to_string()))), theme::error())
    };
    // Long-term: the source of truth.
    lines.push(Line::styled(fit(format!("LONG-TERM  {}", text::sanitize_str(&tr.path))), theme::title()));
    match &tr.document {
        Ok(Some(d)) => {
            lines.extend(
                panel_field_lines(&crate::tabs::conversations::field_lines(&d.fields), w.saturating_sub(2))
                    .into_iter()
                    .map(|mut l| {
                        l.spans.insert(0, Span::raw("  "));
                        l
                    }),
            );
        }
        Ok(None) => lines.push(Line::styled("  ✗ no such document (deleted?)", theme::error())),
        Err(e) => lines.push(err(e)),
    }
    lines.push(Line::raw(""));
    // Short-term.
    lines.push(Line::styled("SHORT-TERM (Redis)", theme::title()));
    match &tr.redis {
        None => lines.push(Line::styled("  not configured", theme::dim())),
        Some(Err(e)) => lines.push(err(e)),
        Some(Ok(entries)) => {
            for e in entries {
                let (sym, style) = if e.holds { ("●", theme::ok()) } else { ("○", theme::dim()) };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {sym} "), style),
                    Span::styled(format!("{:<14}", ttl_text(e.pttl_ms, age)), theme::warn()),
                    Span::styled(text::truncate(&text::sanitize_str(&e.key), w.saturating_sub(18)), theme::label()),
                ]));
                lines.push(Line::styled(
                    fit(format!("      {}: {}", e.role, text::sanitize_str(&e.detail))),
                    if e.detail.contains("DIFFERS") { theme::error() } else { theme::dim() },
                ));
            }
        }
    }
    lines.push(Line::raw(""));
    // Vector.
    lines.push(Line::styled("VECTOR", theme::title()));
    match &tr.vector {
        None => lines.push(Line::styled("  not configured", theme::dim())),
        Some(Err(e)) => lines.push(err(e)),
        Some(Ok(vt)) => {
            let ns = if vt.namespace.is_empty() { "(default)".to_string() } else { text::sanitize_str(&vt.namespace) };
            match &vt.record {
                None if vt.relevant => lines.push(Line::styled(
                    fit(format!(
                        "  ✗ no record in namespace {ns}, but the layer's rule says it belongs there (audit --repair)"
                    )),
                    theme::error(),
                )),
                None => lines.push(Line::styled(
                    fit(format!("  ○ no record in namespace {ns} (not indexed by the layer's rule)")),
                    theme::dim(),
                )),
                Some((dims, md)) => {
                    let agree = if vt.disagreements.is_empty() {
                        Span::styled(" · metadata agrees with long-term", theme::ok())
                    } else {
                        Span::styled(" · metadata differs", theme::error())
                    };
                    lines.push(Line::from(vec![
                        Span::styled("  ● ", theme::ok()),
                        Span::raw(format!("{dims} dims in namespace {ns}")),
                        agree,
                    ]));
                    for d in &vt.disagreements {
                        lines.push(Line::styled(fit(format!("      {}", text::sanitize_str(d))), theme::error()));
                    }
                    for (k, x) in md {
                        let val = match x {
                            serde_json::Value::String(s) => format!("\"{}\"", text::sanitize_str(s)),
                            other => text::sanitize_str(&other.to_string()),
                        };
                        lines.push(Line::raw(fit(format!("    {k} = {val}"))));
                    }
                    lines.push(Line::styled("  nearest neighbours", theme::label()));
                    if vt.neighbours.is_empty() {
                        lines.push(Line::styled("    (none)", theme::dim()));
                    }
                    for n in &vt.neighbours {
                        let conv = n
                            .conversation_id
                            .as_deref()
                            .map(|c| format!(" ({})", text::sanitize_str(c)))
                            .unwrap_or_default();
                        lines.push(Line::raw(fit(format!(
                            "    {:.3} {}{conv} {}",
                            n.score,
                            text::sanitize_str(&n.id),
                            text::sanitize_str(&n.text.replace('\n', " "))
                        ))));
                    }
                }
            }
        }
    }
    lines.push(Line::styled(fit(format!("read in {} ms · r reads again · t/Esc closes", tr.elapsed_ms)), theme::dim()));
    f.render_widget(Paragraph::new(lines), inner);
}
