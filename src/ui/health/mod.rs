//! Drawing the Health tab: a panel per tier with its state and key figures, charts over the
//! window with a labelled time axis, and the alerts with when they started and ended.

mod charts;
use charts::{Window, render_alerts, render_latency, render_redis_chart, render_sizes};

use crate::domain::Ts;
use crate::health::{Figures, History, Level, Probe, TierStatus};
use crate::tabs::health::HealthTab;
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};

pub fn level_style(l: Level) -> Style {
    match l {
        Level::Ok => theme::ok(),
        Level::Warn => theme::warn(),
        Level::Crit => theme::error(),
        Level::Down => Style::new().fg(Color::White).bg(Color::Red),
    }
}

fn tier_title(p: Probe) -> &'static str {
    match p {
        Probe::Redis => "Redis (short-term)",
        Probe::LongTerm => "Long-term",
        Probe::Vector => "Vector index",
        Probe::Embedder => "Embedder",
    }
}

fn clock(secs: i64) -> String {
    Ts { secs, nanos: 0 }.to_rfc3339()[11..19].to_string()
}

/// Keep at most `buckets` points: the highest of each bucket along x (spikes survive), so drawing
/// an hour of 1 s samples costs what the chart can show, not what was recorded.
pub fn decimate(points: Vec<(f64, f64)>, x0: f64, x1: f64, buckets: usize) -> Vec<(f64, f64)> {
    if points.len() <= buckets || buckets == 0 || x1 <= x0 {
        return points;
    }
    let mut out: Vec<Option<(f64, f64)>> = vec![None; buckets];
    for (x, y) in points {
        let i = (((x - x0) / (x1 - x0)) * buckets as f64).clamp(0.0, (buckets - 1) as f64) as usize;
        if out[i].is_none_or(|(_, oy)| y > oy) {
            out[i] = Some((x, y));
        }
    }
    out.into_iter().flatten().collect()
}

pub fn render(f: &mut Frame, area: Rect, tab: &HealthTab) {
    let (hist, statuses) = tab.view();
    if tab.configured.is_empty() {
        f.render_widget(
            Paragraph::new("No tier is configured: nothing to watch. `memscope config check` shows why.")
                .block(Block::default().borders(Borders::ALL).title(" Health ")),
            area,
        );
        return;
    }
    // A small terminal: each tier's state and key figures on a line, then the alerts, then
    // the latency chart if room is left.
    if area.width < 100 || area.height < 30 {
        return render_compact(f, area, tab, hist, statuses);
    }
    // A cluster's Redis panel has a line per node more.
    let cluster_rows = hist
        .samples
        .get(&Probe::Redis)
        .and_then(|q| q.back())
        .and_then(|s| s.redis.as_ref()?.cluster.as_ref())
        .map(|c| c.nodes.len() as u16 + 1)
        .unwrap_or(0);
    let [head, panels, charts, alerts] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(10 + cluster_rows.min(12)),
        Constraint::Min(6),
        Constraint::Length(7),
    ])
    .areas(area);
    let frozen = state_note(tab);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" window {} min · +/- change · f freeze", tab.window_s / 60), theme::dim()),
            Span::styled(frozen, theme::warn()),
        ])),
        head,
    );
    let n = tab.configured.len() as u32;
    let cols = Layout::horizontal((0..n).map(|_| Constraint::Ratio(1, n))).split(panels);
    for (i, p) in tab.configured.iter().enumerate() {
        render_panel(f, cols[i], p, statuses.get(p), hist);
    }
    let [lat_area, redis_area, size_area] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(30), Constraint::Percentage(30)])
            .areas(charts);
    let win = Window {
        newest: hist.samples.values().filter_map(|q| q.back()).map(|s| s.mono_ms).max().unwrap_or(0),
        w_ms: (tab.window_s * 1000) as f64,
        span: tab.window_s as f64,
    };
    render_latency(f, lat_area, tab, hist, &win);
    render_redis_chart(f, redis_area, tab, hist, &win);
    render_sizes(f, size_area, tab, hist, &win);
    render_alerts(f, alerts, hist);
}

/// What the display is, when it is not live: a replay at its cursor, or frozen.
fn state_note(tab: &HealthTab) -> String {
    if let Some(r) = &tab.replay {
        let c = &r.cursor;
        let file = std::path::Path::new(&c.recording.file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        return format!(
            "  REPLAY {} at {} UTC · sample {} of {} · ←/→ g/G [/] · Esc live",
            text::sanitize_str(&file),
            clock(c.wall()),
            c.at + 1,
            c.recording.samples.len()
        );
    }
    if tab.frozen.is_some() { "  FROZEN (f resumes)".into() } else { String::new() }
}

/// One tier's panel: its level, latency, probe errors and the figures of its kind.
fn render_panel(f: &mut Frame, area: Rect, p: &Probe, st: Option<&TierStatus>, hist: &History) {
    let level = st.map(|s| s.level);
    let badge = match level {
        Some(l) => Span::styled(format!(" {} ", l.name()), level_style(l)),
        None => Span::styled(" … ", theme::dim()),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(level.map(level_style).unwrap_or(theme::dim()))
        .title(Line::from(vec![Span::raw(format!(" {} ", tier_title(*p))), badge]));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    match st {
        None => lines.push(Line::styled("waiting for the first probe…", theme::dim())),
        // Down: why first ("NO ANSWER 3.2 s"), then the window, then what the last good probe
        // measured, greyed with its age — never a figure of now, never a zero.
        Some(s) if s.level == crate::health::Level::Down => {
            if let Some(e) = &s.last_error {
                lines.push(Line::styled(text::sanitize_str(e), theme::error()));
            }
            lines.push(Line::raw(window_text(s)));
            let newest = hist.samples.get(p).and_then(|q| q.back()).map(|x| x.wall_secs).unwrap_or(0);
            match &s.last_good {
                Some((fg, at)) => {
                    let age = crate::text::human_ms((newest - at).max(0) * 1000);
                    lines.push(Line::styled(format!("last good probe {age} ago:"), theme::dim()));
                    let mut stale = Vec::new();
                    figure_lines(&mut stale, p, fg, hist, inner.width as usize);
                    lines.extend(stale.into_iter().map(|l| l.style(theme::dim())));
                }
                None => lines.push(Line::styled("no good probe in the window", theme::dim())),
            }
        }
        Some(s) => {
            lines.push(Line::raw(latency_text(s, inner.width as usize)));
            if s.errors > 0 {
                lines.push(Line::styled(
                    format!("{} failed probe{} in the window", s.errors, if s.errors == 1 { "" } else { "s" }),
                    theme::warn(),
                ));
            }
            figure_lines(&mut lines, p, &s.figures, hist, inner.width as usize);
        }
    }
    // A line wider than the panel ends in "…" (never cut silently).
    let lines: Vec<Line> = lines.into_iter().map(|l| fit(l, inner.width as usize)).collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// The figures of one tier's kind.
fn figure_lines(lines: &mut Vec<Line<'static>>, p: &Probe, fg: &Figures, hist: &History, width: usize) {
    let n = |v: Option<f64>| v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "?".into());
    match p {
        Probe::Redis => redis_lines(lines, fg, hist, width),
        Probe::LongTerm => {
            if let Some(c) = fg.conversations {
                lines.push(Line::raw(format!("conversations {c:.0}")));
            }
            if let Some(r) = fg.own_error_rate {
                lines.push(Line::raw(format!("memscope's calls failing: {:.0}%", r * 100.0)));
            }
        }
        Probe::Vector => {
            lines.push(Line::raw(format!(
                "vectors {} · {} namespaces · dim {}",
                n(fg.vectors),
                n(fg.namespaces),
                n(fg.dimension)
            )));
            if let Some(fl) = fg.fullness {
                lines.push(Line::raw(format!("index fullness {:.0}%", fl * 100.0)));
            }
        }
        Probe::Embedder => lines.push(Line::raw("one-word embedding round trip")),
    }
}

/// The window's percentiles (what a tier that does not answer now still has to show).
fn window_text(s: &TierStatus) -> String {
    let ms = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into());
    format!("window p50 {} · p99 {} ms", ms(s.latency_p50), ms(s.latency_p99))
}

/// Latency now (the state follows it) and the window's p50/p99, in the longest wording that
/// fits `width`: labels shorten, numbers are never cut.
fn latency_text(s: &TierStatus, width: usize) -> String {
    let ms = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into());
    let (now, p50, p99) = (ms(s.figures.latency_ms), ms(s.latency_p50), ms(s.latency_p99));
    [
        format!("now {now} ms · window p50 {p50} · p99 {p99} ms"),
        format!("now {now} · p50 {p50} · p99 {p99} ms"),
        format!("{now}/{p50}/{p99} ms"),
    ]
    .into_iter()
    .find(|t| t.chars().count() <= width)
    .unwrap_or_else(|| format!("{now}/{p50}/{p99} ms"))
}

/// A line cut to `width` with "…" when it is wider.
fn fit(l: Line<'static>, width: usize) -> Line<'static> {
    if l.width() <= width {
        return l;
    }
    let style = l.spans.first().map(|s| s.style).unwrap_or_default().patch(l.style);
    let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
    Line::styled(text::truncate(&text, width), style)
}

/// The Health tab on a small terminal (under 100 columns or 30 rows): a line per tier with its
/// state badge, latency now and key figures (most important first, the tail cut with "…"), a
/// line per DOWN cluster node, the alerts wrapped, and the latency chart in what is left.
fn render_compact(
    f: &mut Frame,
    area: Rect,
    tab: &HealthTab,
    hist: &History,
    statuses: &std::collections::BTreeMap<Probe, TierStatus>,
) {
    let mut rows: Vec<Line> = Vec::new();
    let w = area.width.saturating_sub(2) as usize;
    for p in &tab.configured {
        let st = statuses.get(p);
        let badge = match st.map(|s| s.level) {
            Some(l) => Span::styled(format!("{:<4}", l.name()), level_style(l)),
            None => Span::styled("…   ", theme::dim()),
        };
        let rest = match st {
            None => "waiting for the first probe".to_string(),
            // Down: why, then the last good figures with their age.
            Some(s) if s.level == crate::health::Level::Down => {
                let mut parts = vec![s.last_error.as_deref().map(text::sanitize_str).unwrap_or_default()];
                let newest = hist.samples.get(p).and_then(|q| q.back()).map(|x| x.wall_secs).unwrap_or(0);
                if let Some((fg, at)) = &s.last_good {
                    let age = crate::text::human_ms((newest - at).max(0) * 1000);
                    parts.push(format!("{age} ago: {}", fg.summary().join(" · ")));
                }
                parts.join(" · ")
            }
            Some(s) => {
                let mut parts = vec![format!(
                    "{} ms",
                    s.figures.latency_ms.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
                )];
                parts.extend(s.figures.summary());
                if let Some(e) = &s.last_error {
                    parts.insert(1, text::sanitize_str(e));
                }
                parts.join(" · ")
            }
        };
        let line = Line::from(vec![badge, Span::raw(format!(" {:<9} {rest}", p.name()))]);
        rows.push(fit(line, w));
    }
    let newest = hist.samples.get(&Probe::Redis).and_then(|q| q.back()).and_then(|s| s.redis.as_ref());
    if let Some(c) = newest.and_then(|h| h.cluster.as_ref()) {
        for n in c.nodes.iter().filter(|n| n.error.is_some()) {
            let e = n.error.as_deref().map(text::sanitize_str).unwrap_or_default();
            rows.push(fit(Line::styled(format!("  node {} DOWN {e}", n.addr), theme::error()), w));
        }
    }
    let frozen = state_note(tab);
    let tiers_h = rows.len() as u16 + 2;
    let rest = area.height.saturating_sub(tiers_h);
    let (alerts_h, chart_h) = if rest >= 14 { (rest - 8, 8) } else { (rest, 0) };
    let [tiers, alerts, chart] =
        Layout::vertical([Constraint::Length(tiers_h), Constraint::Length(alerts_h), Constraint::Length(chart_h)])
            .areas(area);
    let title = Line::from(vec![
        Span::raw(format!(" tiers · window {} min ", tab.window_s / 60)),
        Span::styled(frozen, theme::warn()),
    ]);
    f.render_widget(Paragraph::new(rows).block(Block::default().borders(Borders::ALL).title(title)), tiers);
    render_alerts(f, alerts, hist);
    if chart_h > 0 {
        let win = Window {
            newest: hist.samples.values().filter_map(|q| q.back()).map(|s| s.mono_ms).max().unwrap_or(0),
            w_ms: (tab.window_s * 1000) as f64,
            span: tab.window_s as f64,
        };
        render_latency(f, chart, tab, hist, &win);
    }
}

/// The Redis panel's figures, the memory layer's own view, and the newest slow command.
fn redis_lines(lines: &mut Vec<Line<'static>>, fg: &Figures, hist: &History, width: usize) {
    // A cluster: its state, then a line per node (a DOWN node first in mind: red).
    let newest = hist.samples.get(&Probe::Redis).and_then(|q| q.back()).and_then(|s| s.redis.as_ref());
    if let Some(c) = newest.and_then(|h| h.cluster.as_ref()) {
        let masters = c.nodes.iter().filter(|n| n.role == "master").count();
        let style = if c.state == "ok" && c.uncovered_slots == 0 { theme::ok() } else { theme::error() };
        let uncovered =
            if c.uncovered_slots > 0 { format!(" · {} slots uncovered", c.uncovered_slots) } else { String::new() };
        lines.push(Line::styled(
            format!("cluster {} · {masters} masters · {} nodes{uncovered} (totals below)", c.state, c.nodes.len()),
            style,
        ));
        // Each node's miss rate over the newest interval, from the sample before.
        let prev = hist
            .samples
            .get(&Probe::Redis)
            .and_then(|q| q.iter().rev().nth(1))
            .and_then(|s| s.redis.as_ref()?.cluster.as_ref());
        for n in &c.nodes {
            let role = if n.role == "master" { "M" } else { "r" };
            let miss = prev.and_then(|p| p.nodes.iter().find(|x| x.addr == n.addr)).and_then(|p| {
                let (h, m) = (
                    n.keyspace_hits.saturating_sub(p.keyspace_hits),
                    n.keyspace_misses.saturating_sub(p.keyspace_misses),
                );
                (h + m > 0).then(|| format!(" · miss {:.0}%", m as f64 * 100.0 / (h + m) as f64))
            });
            let slow = if n.slowlog_len > 0 { format!(" · slowlog {}", n.slowlog_len) } else { String::new() };
            // What matters in an incident first: a narrow panel cuts the tail.
            let line = match &n.error {
                Some(e) => Line::styled(
                    text::truncate(&format!(" {role} {} DOWN {}", n.addr, text::sanitize_str(e)), width),
                    theme::error(),
                ),
                None => Line::raw(text::truncate(
                    &format!(
                        " {role} {} {:.1} ms{}{slow} · {} keys · {:.0} ops/s · {}",
                        n.addr,
                        n.ping_ms.unwrap_or(0.0),
                        miss.unwrap_or_default(),
                        n.keys,
                        n.ops_per_sec,
                        text::human_bytes(n.used_memory)
                    ),
                    width,
                )),
            };
            lines.push(line);
        }
    }
    let mem = match (fg.used_memory, fg.memory_pct) {
        (Some(u), Some(pct)) => {
            format!("memory {} ({pct:.0}% of max)", text::human_bytes(u as u64))
        }
        (Some(u), None) => format!("memory {} (no maxmemory)", text::human_bytes(u as u64)),
        _ => "memory –".into(),
    };
    lines.push(Line::raw(mem));
    lines.push(Line::raw(format!(
        "miss rate {} · {:.0} ops/s",
        fg.miss_rate.map(|m| format!("{:.0}%", m * 100.0)).unwrap_or_else(|| "–".into()),
        fg.ops_per_sec.unwrap_or(0.0)
    )));
    lines.push(Line::raw(format!(
        "evicted {:.1}/s · expired {:.1}/s",
        fg.evicted_per_s.unwrap_or(0.0),
        fg.expired_per_s.unwrap_or(0.0),
    )));
    lines.push(Line::raw(format!(
        "keys {:.0} · clients {:.0} · slowlog {:.0}",
        fg.keys.unwrap_or(0.0),
        fg.connected_clients.unwrap_or(0.0),
        fg.slowlog_len.unwrap_or(0.0)
    )));
    let (b, r) = (fg.blocked_clients.unwrap_or(0.0), fg.rejected_connections.unwrap_or(0.0));
    if b > 0.0 || r > 0.0 {
        lines.push(Line::styled(format!("{b:.0} blocked · {r:.0} rejected clients"), theme::warn()));
    }
    // The memory layer's own view: which tier answered its reads.
    let layer = hist.samples.get(&Probe::Redis).and_then(|q| q.back()).and_then(|s| s.redis.as_ref()?.layer);
    if let Some(l) = layer {
        let pct = |h: u64, m: u64| {
            if h + m == 0 { "–".to_string() } else { format!("{:.0}%", h as f64 * 100.0 / (h + m) as f64) }
        };
        lines.push(Line::raw(format!(
            "hits LRU {} · Redis {} · vec {}",
            pct(l.lru_hits, l.lru_misses),
            pct(l.redis_hits, l.redis_misses),
            pct(l.vsearch_hits, l.vsearch_misses)
        )));
        let style = if l.queued > 0 { theme::warn() } else { Style::default() };
        lines.push(Line::styled(
            format!("{} saved · {} LT reads · {} queued", l.saved, l.long_term_reads, l.queued),
            style,
        ));
    }
    // The newest slow-log entry, from the newest Redis sample.
    let newest = hist.samples.get(&Probe::Redis).and_then(|q| q.back()).and_then(|s| s.redis.as_ref());
    if let Some((us, cmd)) = newest.and_then(|h| h.slowlog.first()) {
        let line = format!("slowest recent: {:.1} ms {}", *us as f64 / 1000.0, cmd);
        lines.push(Line::styled(text::truncate(&line, width), theme::dim()));
    }
    if let Some(t) = fg.time_to_full_s {
        lines.push(Line::styled(format!("full in ~{}", text::human_ms((t * 1000.0) as i64)), theme::warn()));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimation_keeps_spikes_and_bounds_points() {
        let pts: Vec<(f64, f64)> =
            (0..3600).map(|i| (-(3600 - i) as f64, if i == 1234 { 99.0 } else { 1.0 })).collect();
        let d = super::decimate(pts, -3600.0, 0.0, 200);
        assert!(d.len() <= 200);
        assert!(d.iter().any(|p| p.1 == 99.0));
    }
}
