//! The charts of the Health tab over its window — latency per tier, Redis's rates and memory,
//! store sizes — and the alerts beside them.

use super::*;

/// The chart window: x in seconds before the newest sample (0 = now, -span = the window's start).
pub(super) struct Window {
    pub(super) newest: u64,
    pub(super) w_ms: f64,
    pub(super) span: f64,
}

impl Window {
    fn x(&self, ms: u64) -> f64 {
        -((self.newest.saturating_sub(ms)) as f64) / 1000.0
    }
    fn holds(&self, ms: u64) -> bool {
        (self.newest.saturating_sub(ms) as f64) <= self.w_ms
    }
}

/// The time axis: the window's start, its middle, now.
pub(super) fn xlabels(window_s: u64) -> Vec<Span<'static>> {
    let ago = |secs: u64| match (secs / 60, secs % 60) {
        (m, 0) => format!("-{m}m"),
        (0, s) => format!("-{s}s"),
        (m, s) => format!("-{m}m{s:02}s"),
    };
    vec![Span::raw(ago(window_s)), Span::raw(ago(window_s / 2)), Span::raw("now")]
}

/// Latency per tier over the window.
pub(super) fn render_latency(f: &mut Frame, lat_area: Rect, tab: &HealthTab, hist: &History, win: &Window) {
    let colors = [Color::Cyan, Color::Green, Color::Magenta, Color::Yellow];
    let series: Vec<(Probe, Vec<(f64, f64)>)> = tab
        .configured
        .iter()
        .map(|p| {
            let pts = hist
                .samples
                .get(p)
                .map(|q| {
                    q.iter()
                        .filter(|s| win.holds(s.mono_ms))
                        .filter_map(|s| s.latency_ms.map(|l| (win.x(s.mono_ms), l)))
                        .collect()
                })
                .unwrap_or_default();
            (*p, pts)
        })
        .collect();
    let buckets = lat_area.width.saturating_sub(8) as usize * 2;
    let series: Vec<(Probe, Vec<(f64, f64)>)> =
        series.into_iter().map(|(p, v)| (p, decimate(v, -win.span, 0.0, buckets))).collect();
    let max_lat = series.iter().flat_map(|(_, v)| v.iter().map(|p| p.1)).fold(1.0f64, f64::max);
    let datasets: Vec<Dataset> = series
        .iter()
        .enumerate()
        .map(|(i, (p, pts))| {
            Dataset::default()
                .name(p.name())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(colors[i % 4]))
                .data(pts)
        })
        .collect();
    // The legend as the title: ratatui's own legend would cover the newest samples.
    let mut title = vec![Span::raw(" latency ms: ")];
    for (i, (p, _)) in series.iter().enumerate() {
        if i > 0 {
            title.push(Span::raw(" · "));
        }
        title.push(Span::styled(p.name(), Style::new().fg(colors[i % 4])));
    }
    title.push(Span::raw(" "));
    f.render_widget(
        Chart::new(datasets)
            .legend_position(None)
            .block(Block::default().borders(Borders::ALL).title(Line::from(title)))
            .x_axis(Axis::default().bounds([-win.span, 0.0]).labels(xlabels(tab.window_s)).style(theme::dim()))
            .y_axis(
                Axis::default()
                    .bounds([0.0, max_lat * 1.1])
                    .labels(vec![Span::raw("0"), Span::raw(format!("{:.0}", max_lat))])
                    .style(theme::dim()),
            ),
        lat_area,
    );
}

/// Redis over the window: the miss rate from consecutive samples, and memory.
pub(super) fn render_redis_chart(f: &mut Frame, redis_area: Rect, tab: &HealthTab, hist: &History, win: &Window) {
    // Redis: miss rate over time, from consecutive samples.
    let mut miss: Vec<(f64, f64)> = Vec::new();
    let mut mem: Vec<(f64, f64)> = Vec::new();
    let mut mem_of_max = false;
    let mut mem_denom = 0u64;
    if let Some(q) = hist.samples.get(&Probe::Redis) {
        let v: Vec<_> = q.iter().filter(|s| s.redis.is_some() && win.holds(s.mono_ms)).collect();
        for pair in v.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (Some(ha), Some(hb)) = (&a.redis, &b.redis) else { continue };
            let secs = (b.mono_ms.saturating_sub(a.mono_ms)) as f64 / 1000.0;
            if let (Some(m), _, _, _) = crate::health::redis_interval(ha, hb, secs) {
                miss.push((win.x(b.mono_ms), m * 100.0));
            }
        }
        // Memory as % of maxmemory (what the Redis panel says) when the server has a limit,
        // else as % of the window's peak.
        let limit = v.iter().rev().filter_map(|s| s.redis.as_ref()).map(|h| h.maxmemory).next().unwrap_or(0);
        mem_of_max = limit > 0;
        let denom = if mem_of_max {
            limit as f64
        } else {
            v.iter().filter_map(|s| s.redis.as_ref()).map(|h| h.used_memory).max().unwrap_or(1) as f64
        };
        mem_denom = denom as u64;
        mem = v
            .iter()
            .filter_map(|s| s.redis.as_ref().map(|h| (win.x(s.mono_ms), h.used_memory as f64 * 100.0 / denom.max(1.0))))
            .collect();
    }
    // As many points as the chart has dots across (an hour of 1 s samples is 3,600 lines).
    let buckets = redis_area.width.saturating_sub(8) as usize * 2;
    let miss = decimate(miss, -win.span, 0.0, buckets);
    let mem = decimate(mem, -win.span, 0.0, buckets);
    // The scale in absolute terms: 100 is the limit, or the window's peak, in bytes.
    let mem_label = if mem_of_max {
        format!("mem % of max {}", crate::text::human_bytes(mem_denom))
    } else {
        format!("mem % of peak {}", crate::text::human_bytes(mem_denom))
    };
    let ds = vec![
        Dataset::default()
            .name("miss %")
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Red))
            .data(&miss),
        Dataset::default()
            .name(mem_label.clone())
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(Style::new().fg(Color::Blue))
            .data(&mem),
    ];
    f.render_widget(
        Chart::new(ds)
            .legend_position(None)
            // The legend as the title: a chart this narrow hides ratatui's own legend.
            .block(Block::default().borders(Borders::ALL).title(Line::from(vec![
                Span::raw(" "),
                Span::styled("miss %", Style::new().fg(Color::Red)),
                Span::raw(" · "),
                Span::styled(mem_label.clone(), Style::new().fg(Color::Blue)),
                Span::raw(" "),
            ])))
            .x_axis(Axis::default().bounds([-win.span, 0.0]).labels(xlabels(tab.window_s)).style(theme::dim()))
            .y_axis(
                Axis::default().bounds([0.0, 100.0]).labels(vec![Span::raw("0"), Span::raw("100")]).style(theme::dim()),
            ),
        redis_area,
    );
}

/// ops/s and sizes (Redis keys, conversations, vectors), each drawn from its lowest to its
/// highest value in the window — the title says each range in real numbers.
pub(super) fn render_sizes(f: &mut Frame, size_area: Rect, tab: &HealthTab, hist: &History, win: &Window) {
    type Series = (Vec<(f64, f64)>, Option<(f64, f64)>);
    let series_of = |p: Probe, f: &dyn Fn(&crate::health::Sample) -> Option<f64>| -> Series {
        let mut pts: Vec<(f64, f64)> = hist
            .samples
            .get(&p)
            .map(|q| {
                q.iter().filter(|s| win.holds(s.mono_ms)).filter_map(|s| f(s).map(|v| (win.x(s.mono_ms), v))).collect()
            })
            .unwrap_or_default();
        if pts.is_empty() {
            return (pts, None);
        }
        let lo = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.1).fold(0.0f64, f64::max);
        for p in &mut pts {
            // A flat series sits mid-height; otherwise lowest at 0, highest at 100.
            p.1 = if hi > lo { (p.1 - lo) * 100.0 / (hi - lo) } else { 50.0 };
        }
        (decimate(pts, -win.span, 0.0, size_area.width.saturating_sub(8) as usize * 2), Some((lo, hi)))
    };
    let (ops, ops_r) = series_of(Probe::Redis, &|s| s.redis.as_ref().map(|h| h.ops_per_sec));
    let (keys, keys_r) =
        series_of(Probe::Redis, &|s| s.redis.as_ref().map(|h| h.keyspace.iter().map(|d| d.keys).sum::<u64>() as f64));
    let (docs, docs_r) = series_of(Probe::LongTerm, &|s| s.documents.map(|d| d as f64));
    let (vecs, vecs_r) = series_of(Probe::Vector, &|s| s.vectors.as_ref().map(|v| v.total as f64));
    let range = |r: Option<(f64, f64)>| match r {
        None => "–".to_string(),
        Some((lo, hi)) if lo == hi => crate::text::num(hi as u64),
        Some((lo, hi)) => format!("{}–{}", crate::text::num(lo as u64), crate::text::num(hi as u64)),
    };
    let series = [
        ("ops", Color::Yellow, &ops, ops_r),
        ("keys", Color::Cyan, &keys, keys_r),
        ("convs", Color::Green, &docs, docs_r),
        ("vectors", Color::Magenta, &vecs, vecs_r),
    ];
    let sd: Vec<Dataset> = series
        .iter()
        .map(|(n, c, d, r)| {
            Dataset::default()
                .name(format!("{n} {}", range(*r)))
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(Style::new().fg(*c))
                .data(d)
        })
        .collect();
    // The legend as the title (the chart is too narrow for ratatui's own): each series with its
    // range in real numbers.
    // Series with data, whole, as many as fit; the others counted, never cut mid-number.
    let room = size_area.width.saturating_sub(4) as usize;
    let mut title = vec![Span::raw(" ")];
    let (mut used, mut left_out) = (0usize, 0usize);
    for (n, c, _, r) in series.iter().filter(|s| s.3.is_some()) {
        let part = format!("{n} {}", range(*r));
        let w = part.chars().count() + if used > 0 { 3 } else { 0 };
        if used + w + 5 > room {
            left_out += 1;
            continue;
        }
        if used > 0 {
            title.push(Span::raw(" · "));
        }
        title.push(Span::styled(part, Style::new().fg(*c)));
        used += w;
    }
    if left_out > 0 {
        title.push(Span::raw(format!(" +{left_out}")));
    }
    title.push(Span::raw(" "));
    f.render_widget(
        Chart::new(sd)
            .legend_position(None)
            .block(Block::default().borders(Borders::ALL).title(Line::from(title)))
            .x_axis(
                Axis::default()
                    .bounds([-win.span, 0.0])
                    .labels(vec![Span::raw(format!("-{}m", tab.window_s / 60)), Span::raw("now")])
                    .style(theme::dim()),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, 100.0])
                    .labels(vec![Span::raw("low"), Span::raw("high")])
                    .style(theme::dim()),
            ),
        size_area,
    );
}

/// The alerts, newest first, with when they started and ended.
pub(super) fn render_alerts(f: &mut Frame, alerts: Rect, hist: &History) {
    // Alerts, newest first.
    let block = Block::default().borders(Borders::ALL).title(" alerts ");
    let inner = block.inner(alerts);
    f.render_widget(block, alerts);
    let mut lines: Vec<Line> = Vec::new();
    if hist.alerts.is_empty() {
        lines.push(Line::styled("no alerts", theme::dim()));
    }
    for a in hist.alerts.iter().rev().take(inner.height as usize) {
        let when = match a.ended_wall {
            Some(e) if e == a.started_wall && (a.key == "restart" || a.key == "failover") => {
                format!("at {} UTC", clock(e))
            }
            Some(e) => {
                format!(
                    "{} → {} UTC ({})",
                    clock(a.started_wall),
                    clock(e),
                    text::human_ms((e - a.started_wall) * 1000)
                )
            }
            None => format!("since {} UTC", clock(a.started_wall)),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<4} ", a.level.name()),
                if a.ended_wall.is_some() { theme::dim() } else { level_style(a.level) },
            ),
            Span::raw(format!(" {:<9} ", a.probe.name())),
            Span::styled(format!("{when}  "), theme::dim()),
            Span::raw(text::sanitize_str(&a.message)),
        ]));
    }
    // Whole messages, wrapped (an alert is never cut at the panel's edge).
    f.render_widget(Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }), inner);
}
