//! The frame: tab bar, status line, the active tab, footer and popups. `draw` takes `&App`.

//! One file (or folder) per view, mirroring `tabs/`; `tier.rs` what a tab shows when its tier is not
//! configured (the keys that configure it), and the theme.

pub mod analysis;
pub mod audit;
pub mod conversations;
pub mod health;
pub mod keys;
pub mod pager;
pub mod profile;
pub mod pubsub;
pub mod search;
pub mod server;
pub mod theme;
pub mod tier;

use crate::app::{App, Geometry, Popup, TabId};
use crate::domain::ConnState;
use crate::text;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};

/// Draws the frame; returns the list geometry it drew, for the App to page by.
pub fn draw(f: &mut Frame, app: &App) -> Geometry {
    let mut geo = app.geometry;
    let [tabs, status, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)])
            .areas(f.area());
    let titles: Vec<Line> =
        TabId::ALL.iter().enumerate().map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title()))).collect();
    let sel = TabId::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
    f.render_widget(
        Tabs::new(titles)
            .select(sel)
            .highlight_style(theme::title().add_modifier(ratatui::style::Modifier::REVERSED))
            .divider("│"),
        tabs,
    );
    draw_status(f, status, app);
    match app.tab {
        TabId::Keys => {
            (geo.keys, geo.value) = crate::ui::keys::render(
                f,
                body,
                &app.keys,
                &app.short_term.state,
                app.short_term.label.as_deref(),
                &mut geo.keys_top,
            )
        }
        TabId::Conversations if app.conversations.configured => {
            // A layout whose conversations are in Redis reads Redis: its state and address.
            let tier = if app.conversations.layout.in_redis() { &app.short_term } else { &app.long_term };
            geo.conversations = crate::ui::conversations::render(
                f,
                body,
                &app.conversations,
                &tier.state,
                tier.label.as_deref(),
                &mut geo.conversations_top,
                &mut geo.thread_selected,
            )
        }
        TabId::Conversations => crate::ui::tier::render_unconfigured(
            f,
            body,
            "Conversations (long-term memory)",
            &[
                "The long-term tier is not configured for this profile. Set one of:",
                "  [profile.NAME.long_term] backend = \"firestore\", project_id = \"…\"",
                "  [profile.NAME.long_term] backend = \"sqlite\", path = \"…/memory.db\"",
                "  FIRESTORE_EMULATOR_HOST=127.0.0.1:8080 and/or GOOGLE_CLOUD_PROJECT=…",
            ],
        ),
        TabId::Search if app.search.configured => {
            crate::ui::search::render(f, body, &app.search, &app.vector.state, app.vector.label.as_deref())
        }
        TabId::Search => crate::ui::tier::render_unconfigured(
            f,
            body,
            "Semantic Search (vector memory)",
            &[
                "The vector tier is not configured for this profile. Set one of:",
                "  [profile.NAME.vector] backend = \"pinecone\", index = \"…\"  (key: PINECONE_API_KEY)",
                "  [profile.NAME.vector] backend = \"local\", path = \"…/vectors.db\"",
                "  PINECONE_API_KEY with PINECONE_INDEX or PINECONE_INDEX_HOST",
            ],
        ),
        TabId::Health => match &app.health.audit {
            Some(a) => geo.audit = crate::ui::audit::render(f, body, a, app.now_ms, app.write_mode),
            None => crate::ui::health::render(f, body, &app.health),
        },
    }
    draw_footer(f, footer, app);
    match &app.popup {
        Some(Popup::Pager(p)) => crate::ui::pager::render(f, p),
        Some(Popup::Messages) => draw_messages(f, app),
        Some(Popup::Input { title, area, .. }) => {
            let r = centered(f.area(), 70, 3);
            f.render_widget(Clear, r);
            let block =
                Block::default().borders(Borders::ALL).title(Span::styled(format!(" {title} "), theme::title()));
            let inner = block.inner(r);
            f.render_widget(block, r);
            f.render_widget(area.area(), inner);
        }
        Some(Popup::Confirm { question, .. }) => {
            let w = (f.area().width * 70 / 100).max(20) as usize;
            let r = centered(f.area(), 70, (question.chars().count() / w.saturating_sub(4).max(1) + 5).min(14) as u16);
            f.render_widget(Clear, r);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(theme::error())
                .title(Span::styled(" confirm write ", theme::error()));
            let lines = vec![
                Line::raw(question.as_str()),
                Line::raw(""),
                Line::styled("y: yes, send it · any other key: cancel", theme::warn()),
            ];
            f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), r);
        }
        None => {}
    }
    if theme::no_color() {
        theme::strip_colors(f.buffer_mut());
    }
    geo
}

/// A tier in the header: the Health evaluation's state once a probe has been evaluated (the
/// header and the Health panel say the same thing, "NO ANSWER 3.2 s" included), else the
/// connection's state.
fn conn_span(name: &str, st: &ConnState, health: Option<&crate::health::TierStatus>) -> Vec<Span<'static>> {
    use crate::health::Level;
    let (sym, style, word) = match (st, health) {
        (ConnState::NotConfigured, _) => ("○", theme::dim(), "off".to_string()),
        (_, Some(h)) => match h.level {
            Level::Ok => ("●", theme::ok(), "up".to_string()),
            Level::Down => (
                "●",
                theme::error(),
                h.last_error.clone().filter(|e| e.starts_with("NO ANSWER")).unwrap_or_else(|| "DOWN".into()),
            ),
            l => ("●", health::level_style(l), l.name().to_string()),
        },
        (ConnState::Connecting, None) => ("◌", theme::label(), "connecting".to_string()),
        (ConnState::Up, None) => ("●", theme::ok(), "up".to_string()),
        (ConnState::Down(_), None) => ("●", theme::error(), "DOWN".to_string()),
    };
    vec![Span::raw(format!(" {name} ")), Span::styled(format!("{sym} {word}"), style), Span::raw(" │")]
}

fn draw_status(f: &mut Frame, area: Rect, app: &App) {
    let mut spans =
        vec![Span::styled(format!(" profile {} ", text::sanitize_str(&app.profile)), theme::label()), Span::raw("│")];
    use crate::health::Probe;
    let h = |p: Probe| app.health.statuses.get(&p);
    spans.extend(conn_span("long-term", &app.long_term.state, h(Probe::LongTerm)));
    spans.extend(conn_span("redis", &app.short_term.state, h(Probe::Redis)));
    spans.extend(conn_span("vector", &app.vector.state, h(Probe::Vector)));
    spans.push(Span::raw(" "));
    if app.write_mode {
        spans.push(Span::styled(" WRITE ", theme::write_badge()));
    } else {
        spans.push(Span::styled(" READ-ONLY ", theme::read_badge()));
    }
    if let Some(s) = &app.status {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(text::sanitize_str(&s.text), if s.error { theme::error() } else { theme::ok() }));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The keys of this view that fit, whole, most specific first; `?` (help, which lists the
/// rest) and `q` always, and "more" when some did not fit.
fn draw_footer(f: &mut Frame, area: Rect, app: &App) {
    let ctx = app.context();
    let all = app.keymap.footer(ctx);
    let (global, own): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, h)| *h == "help" || *h == "quit");
    let cost = |k: &str, h: &str| text::width(k) + text::width(h) + 5;
    let mut room = (area.width as usize).saturating_sub(global.iter().map(|(k, h)| cost(k, h)).sum::<usize>());
    let mut shown = Vec::new();
    let mut left_out = 0;
    for (k, h) in own {
        if cost(&k, h) + 7 <= room {
            room -= cost(&k, h);
            shown.push((k, h));
        } else {
            left_out += 1;
        }
    }
    let mut spans = Vec::new();
    for (k, h) in shown.iter().chain(global.iter().rev()) {
        let h = if *h == "help" && left_out > 0 { format!("{h} (+{left_out})") } else { h.to_string() };
        spans.push(Span::styled(format!(" {k} "), theme::key_hint()));
        spans.push(Span::raw(format!(" {h}  ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `:messages`: this session's status lines with their time, newest last (what fits).
fn draw_messages(f: &mut Frame, app: &App) {
    let r = centered(f.area(), 90, f.area().height.saturating_sub(4).max(5));
    f.render_widget(Clear, r);
    let rows = r.height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = app
        .log
        .iter()
        .rev()
        .take(rows)
        .rev()
        .map(|s| {
            let at = format!("{:>7.1}s ", s.at_ms as f64 / 1000.0);
            Line::from(vec![
                Span::styled(at, theme::dim()),
                Span::styled(text::sanitize_str(&s.text), if s.error { theme::error() } else { Style::new() }),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("no messages yet", theme::dim()));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" messages ({} this session; newest last) — any key closes ", app.log.len()));
    f.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), r);
}

/// A bordered box of styled lines from `top`, each cut to the box's width; returns the rows it
/// shows (the views' page size).
pub fn scrolled_lines(
    f: &mut Frame,
    area: Rect,
    block: ratatui::widgets::Block,
    lines: impl IntoIterator<Item = (ratatui::style::Style, String)>,
    top: usize,
) -> usize {
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = (inner.height as usize).max(1);
    let shown: Vec<ratatui::text::Line> = lines
        .into_iter()
        .skip(top)
        .take(rows)
        .map(|(st, l)| ratatui::text::Line::styled(crate::text::truncate(&l, inner.width as usize), st))
        .collect();
    f.render_widget(ratatui::widgets::Paragraph::new(shown), inner);
    rows
}

/// A heading (no indent) in the label style, an indented line plain: the profiler's and pub/sub's
/// text views.
pub fn heading_style(l: &str) -> ratatui::style::Style {
    if l.starts_with(' ') { ratatui::style::Style::new() } else { theme::label() }
}

fn centered(area: Rect, width_pct: u16, height: u16) -> Rect {
    let w = (area.width * width_pct / 100).max(20).min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}
