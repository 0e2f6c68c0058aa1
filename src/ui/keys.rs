//! Drawing the Redis Keys tab. Takes `&KeysTab`; costs O(visible rows) whatever the key count.

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
    if let Some(v) = &tab.server {
        return (render_server(f, body, v, tab.now_ms()), 0);
    }
    if let Some(v) = &tab.analysis {
        return (render_analysis(f, body, v, tab.max_ops_per_sec), 0);
    }
    if tab.value.is_some() {
        let [l, r] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (render_list(f, l, tab, top), render_value(f, r, tab))
    } else {
        (render_list(f, body, tab, top), 0)
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
            let fields: Vec<String> = x.fields.iter().map(|(f, t)| format!("{f} {t}")).collect();
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

/// `:server`: the report, scrolled, with how old the reading is.
fn render_server(f: &mut Frame, area: Rect, v: &crate::tabs::server::ServerView, now: u64) -> usize {
    use crate::insight::Emphasis;
    let age = now.saturating_sub(v.read_at_ms);
    let reading =
        if v.req.waiting() { "reading…".to_string() } else { format!("read {:.0} s ago", age as f64 / 1000.0) };
    let title = format!(" server · {reading} · every 2 s · clients by {} ", v.sort.name());
    let block =
        Block::default().borders(Borders::ALL).border_style(theme::title()).title(Span::styled(title, theme::title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = (inner.height as usize).max(1);
    let lines: Vec<Line> = v
        .lines()
        .into_iter()
        .skip(v.top)
        .take(rows)
        .map(|(e, l)| {
            let st = match e {
                Emphasis::Heading => theme::label(),
                Emphasis::Normal => ratatui::style::Style::new(),
                Emphasis::Dim => theme::dim(),
                Emphasis::Warn => theme::warn(),
            };
            Line::styled(text::truncate(&l, inner.width as usize), st)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    rows
}

/// `:analyze`: its progress while it runs, then its rows (the selected one marked).
fn render_analysis(f: &mut Frame, area: Rect, v: &crate::tabs::analysis::AnalysisView, max_ops: u64) -> usize {
    let title = format!(" analysis of {} ", text::sanitize_str(&v.pattern));
    let block =
        Block::default().borders(Borders::ALL).border_style(theme::title()).title(Span::styled(title, theme::title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let rows = (inner.height as usize).max(1);
    let mut lines: Vec<Line> = Vec::new();
    match &v.result {
        None => {
            let (done, total) = v.progress;
            let of = total.map(|t| format!(" of ~{}", num(t))).unwrap_or_default();
            let pct = total.filter(|t| *t > 0).map(|t| format!(" ({}%)", done * 100 / t)).unwrap_or_default();
            lines.push(Line::styled(format!("analyzing: {} keys read{of}{pct}", num(done)), theme::warn()));
            let limit = match max_ops {
                0 => "no limit of commands/s (max_ops_per_sec = 0)".to_string(),
                n => format!("at most {} commands/s", num(n)),
            };
            lines.push(Line::styled(
                format!("TYPE, PTTL, MEMORY USAGE and a length per key, {limit} · Esc stops it"),
                theme::dim(),
            ));
        }
        Some(Err(e)) => {
            lines.push(Line::styled(format!("✗ {}", text::sanitize_str(e)), theme::error()));
            lines.push(Line::styled("r: analyze again · Esc: back", theme::dim()));
        }
        Some(Ok(_)) => {
            // The view starts at the top and follows the selection down.
            let (_, off) = crate::tabs::scroll::keep_visible(v.selected, 0, v.rows.len(), rows);
            for (i, r) in v.rows.iter().enumerate().skip(off).take(rows) {
                let st = match r.style {
                    LineStyle::Normal => ratatui::style::Style::new(),
                    LineStyle::Dim => theme::dim(),
                    LineStyle::Label => theme::label(),
                    LineStyle::Warn => theme::warn(),
                };
                let st = if i == v.selected { theme::selected() } else { st };
                lines.push(Line::styled(text::truncate(&r.text, inner.width as usize), st));
            }
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
    rows
}

fn render_list(f: &mut Frame, area: Rect, tab: &KeysTab, top: &mut u16) -> usize {
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

fn render_value(f: &mut Frame, area: Rect, tab: &KeysTab) -> usize {
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
fn page_range(c: &PageCursor, n: usize, total: u64, before: u64) -> String {
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
