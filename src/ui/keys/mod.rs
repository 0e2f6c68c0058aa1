//! Drawing the Redis Keys tab. Takes `&KeysTab`; costs O(visible rows) whatever the key count.

mod list;
mod value;

use crate::domain::{ConnState, PageCursor, Ttl, ValueBody};
use crate::keytree::{Row, ViewMode};
use crate::tabs::keys::{Focus, KeysTab, LineStyle};
use crate::text;
use crate::ui::theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

fn ttl_text(t: Ttl) -> String {
    match t {
        Ttl::Persistent => "∞".into(),
        Ttl::Millis(ms) => text::human_ms(ms),
        Ttl::Gone => "gone".into(),
    }
}

use text::num;

/// Draws the tab; returns the rows its key list and value pane had (their page sizes).
pub fn render(
    f: &mut Frame,
    area: Rect,
    tab: &KeysTab,
    conn: &ConnState,
    label: Option<&str>,
    top: &mut u16,
) -> (usize, usize) {
    if !tab.configured {
        super::tier::render_unconfigured(
            f,
            area,
            "Redis (short-term memory)",
            &[
                "Redis is not configured for this profile. Set one of:",
                "  [profile.NAME.redis] url = \"redis://127.0.0.1:6379/0\"   in config.toml",
                "  REDIS_URL=redis://…                                     in the environment",
                "  --redis-url redis://…                                   on the command line",
                "",
                "`memscope config check` shows which files were read.",
            ],
        );
        return (0, 0);
    }
    // Two more header lines (wrapped) when the listing is one node's or a Sentinel's; a line per
    // RediSearch index (at most 5).
    let warn_rows = if tab.info.as_ref().is_some_and(|i| i.mode.partial_reason().is_some()) { 2 } else { 0 };
    let index_rows = tab.info.as_ref().map(|i| i.search_indexes.len().min(5) as u16).unwrap_or(0);
    let warn_rows = warn_rows + index_rows;
    let [head, body] = Layout::vertical([Constraint::Length(2 + warn_rows), Constraint::Min(1)]).areas(area);
    render_header(f, head, tab, conn, label);
    if let Some(v) = &tab.pubsub {
        return (crate::ui::pubsub::render(f, body, v), 0);
    }
    if let Some(v) = &tab.profile {
        return (crate::ui::profile::render(f, body, v), 0);
    }
    if let Some(v) = &tab.server {
        return (crate::ui::server::render(f, body, v, tab.now_ms()), 0);
    }
    if let Some(v) = &tab.analysis {
        return (crate::ui::analysis::render(f, body, v, tab.max_ops_per_sec), 0);
    }
    if tab.value.is_some() {
        let [l, r] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (list::render_list(f, l, tab, top), value::render_value(f, r, tab))
    } else {
        (list::render_list(f, body, tab, top), 0)
    }
}

/// The server's label with the database now selected (`:db 3` makes `…/0` read `…/3`).
fn with_db(label: &str, db: Option<u32>) -> String {
    match (db, label.rsplit_once('/')) {
        (Some(db), Some((head, tail))) if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit()) => {
            format!("{head}/{db}")
        }
        _ => label.to_string(),
    }
}

fn render_header(f: &mut Frame, area: Rect, tab: &KeysTab, conn: &ConnState, label: Option<&str>) {
    let mut l1 = vec![Span::styled(format!(" {} ", with_db(label.unwrap_or("redis"), tab.db)), theme::title())];
    if let Some(info) = &tab.info {
        l1.push(Span::styled(
            format!("{} {} ", text::sanitize_str(&info.product), text::sanitize_str(&info.version)),
            theme::dim(),
        ));
        if let Some((name, addr)) = &info.sentinel_master {
            l1.push(Span::styled(
                format!("│ Sentinel master `{}` at {} ", text::sanitize_str(name), text::sanitize_str(addr)),
                theme::label(),
            ));
        }
        if let crate::domain::ServerMode::Cluster { masters, whole: true } = &info.mode {
            l1.push(Span::styled(format!("│ cluster of {} masters ", masters.len()), theme::label()));
        }
        l1.push(Span::raw("│ keyspace: "));
        if info.keyspace.is_empty() {
            l1.push(Span::styled("empty", theme::dim()));
        }
        for d in &info.keyspace {
            let style = if Some(d.db) == tab.db { theme::label() } else { theme::dim() };
            l1.push(Span::styled(format!("db{}={} ({} expire) ", d.db, num(d.keys), num(d.expires)), style));
        }
    }
    let s = &tab.scan;
    let progress = if s.running && s.aside {
        let of = s.total.filter(|t| *t > 0).map(|t| format!(" / {} ({}%)", num(t), (s.seen * 100 / t).min(100)));
        format!("rescanning… {}{} · the list is the last scan's until done", num(s.seen), of.unwrap_or_default())
    } else if s.running {
        match s.total {
            Some(t) if t > 0 => format!("scanning… {} / {} ({}%)", num(s.seen), num(t), (s.seen * 100 / t).min(100)),
            _ => format!("scanning… {}", num(s.seen)),
        }
    } else if s.cancelled {
        format!("scan cancelled at {} of {}", num(s.seen), s.total.map(num).unwrap_or("?".into()))
    } else {
        let n = tab.index.len() as u64;
        let mut p = format!("{} key{}", num(n), if n == 1 { "" } else { "s" });
        // The listing against the database now (INFO keyspace, read every few seconds).
        if tab.pattern == "*"
            && tab.type_filter.is_none()
            && let Some(m) = tab.db_keys()
            && m != n
        {
            p.push_str(&format!(", {} in the db now (r rescans)", num(m)));
        }
        let live = match tab.db_keys() {
            // Nothing is live while the server does not answer: the rows are the last scan's
            // (the DOWN reason follows on the line).
            _ if matches!(conn, ConnState::Down(_)) && n > 0 => " · not live (the last scan's)",
            None => "",
            Some(_) if tab.sorting.is_some() => "",
            Some(_) if tab.index.sort() != crate::keytree::SortBy::Name => " · order as of the last r",
            Some(m) if m <= crate::tabs::keys::LIVE_MAX => " · live",
            Some(_) => " · counts live",
        };
        p.push_str(live);
        p
    };
    let mode = if tab.index.mode() == ViewMode::Tree { "tree" } else { "flat" };
    let mut l2 = vec![
        Span::styled(format!(" db{} ", tab.db.unwrap_or(0)), theme::label()),
        Span::raw(format!("MATCH {} ", text::sanitize_str(&tab.pattern))),
        Span::raw(format!("TYPE {} ", tab.type_filter.as_deref().unwrap_or("all"))),
        Span::styled(format!("│ {progress} "), if s.running { theme::warn() } else { theme::ok() }),
        Span::styled(format!("│ {mode} · "), theme::dim()),
    ];
    // A sort by TTL or size measures every key first: how far it is, then what it found.
    match &tab.sorting {
        Some(j) => l2.push(Span::styled(
            format!(
                "sort {}: measuring {} / {} keys ({}%) · Esc stops · ",
                j.by.name(),
                num(j.done),
                num(j.total),
                (j.done * 100).checked_div(j.total).unwrap_or(0).min(100)
            ),
            theme::warn(),
        )),
        None => {
            let note = tab.sort_note.as_ref().filter(|_| tab.index.sort() != crate::keytree::SortBy::Name);
            let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
            l2.push(Span::styled(format!("sort {}{note} · ", tab.index.sort().name()), theme::dim()));
        }
    }
    l2.push(Span::styled(format!("delim {:?}", tab.index.delimiter()), theme::dim()));
    if let ConnState::Down(e) = conn {
        l2.push(Span::styled(format!(" │ DOWN: {}", text::sanitize_str(e)), theme::error()));
    }
    let mut lines = vec![Line::from(l1), Line::from(l2)];
    // RediSearch's indexes: what each indexes, its fields and documents.
    if let Some(info) = &tab.info {
        let n = info.search_indexes.len();
        for (i, x) in info.search_indexes.iter().take(5).enumerate() {
            let fields: Vec<String> = x.fields.iter().map(|f| f.describe()).collect();
            let more = if i == 4 && n > 5 { format!("  (+{} more indexes)", n - 5) } else { String::new() };
            let l = format!(
                " ⌕ index {} on {} {} · {} docs · {}{more}",
                x.name,
                x.on,
                x.prefixes.iter().map(|p| format!("{p}*")).collect::<Vec<_>>().join(" "),
                num(x.docs),
                fields.join(", ")
            );
            lines.push(Line::styled(text::truncate(&text::sanitize_str(&l), area.width as usize), theme::label()));
        }
    }
    // A cluster node or a Sentinel: the listing is not the keyspace; say so above it.
    if let Some(why) = tab.info.as_ref().and_then(|i| i.mode.partial_reason()) {
        for l in text::wrap(&format!(" ⚠ {}", text::sanitize_str(&why)), area.width as usize) {
            lines.push(Line::styled(l, theme::warn()));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

/// A pane's frame. With two panes shown, the one with the keyboard is marked — a thick border
/// and `▶` before its title — so that a key is never sent to the pane one did not mean.
fn pane_block(marked: bool, focused: bool, title: String) -> Block<'static> {
    let block =
        Block::default().borders(Borders::ALL).border_style(if focused { theme::title() } else { theme::dim() });
    if marked {
        block.border_type(ratatui::widgets::BorderType::Thick).title(Span::styled(format!(" ▶{title}"), theme::title()))
    } else {
        block.title(Span::styled(title, theme::title()))
    }
}
