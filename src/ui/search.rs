//! Drawing the Semantic Search tab.

use crate::domain::ConnState;
use crate::tabs::search::{Field, SearchTab, diff};
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Split sanitised text into spans, highlighting the query's words (3+ letters, any case).
/// How full a score's bar is, on the metric's own scale — not the results' min–max, which made
/// a 0.02 difference look like the whole range: cosine on [0, 1]; dot product on [0, the
/// largest]; euclidean (a distance: smaller is better) from the largest down to 0.
pub fn bar_fraction(tab: &SearchTab, scores: &[f32], s: f32) -> f32 {
    let hi = scores.iter().copied().fold(0.0f32, |a, b| a.max(b.abs())).max(1e-6);
    let f = match tab.metric() {
        Some(crate::domain::Metric::Euclidean) => 1.0 - s / hi,
        Some(crate::domain::Metric::DotProduct) => s / hi,
        _ => s,
    };
    f.clamp(0.0, 1.0)
}

pub fn highlight(t: &str, query: &str) -> Vec<Span<'static>> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(|w| w.to_lowercase())
        .collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for token in t.split_inclusive(|c: char| !c.is_alphanumeric()) {
        let (word, sep) = match token.char_indices().last() {
            Some((i, c)) if !c.is_alphanumeric() => (&token[..i], &token[i..]),
            _ => (token, ""),
        };
        let lw = word.to_lowercase();
        if !word.is_empty()
            && words.iter().any(|w| lw.starts_with(w.as_str()) || w.starts_with(lw.as_str()) && lw.len() >= 3)
        {
            if !cur.is_empty() {
                out.push(Span::raw(std::mem::take(&mut cur)));
            }
            out.push(Span::styled(
                word.to_string(),
                Style::new().fg(ratatui::style::Color::Yellow).add_modifier(Modifier::BOLD),
            ));
            cur.push_str(sep);
        } else {
            cur.push_str(token);
        }
    }
    if !cur.is_empty() {
        out.push(Span::raw(cur));
    }
    out
}

pub fn render(f: &mut Frame, area: Rect, tab: &SearchTab, conn: &ConnState, label: Option<&str>) {
    let show_filter = tab.editing == Some(Field::Filter) || !tab.filter_text().trim().is_empty();
    let [qa, fa, params, status, body] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(if show_filter { 3 } else { 0 }),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let boxed = |title: &str, focused: bool| {
        Block::default()
            .borders(Borders::ALL)
            .border_style(if focused { theme::title() } else { theme::dim() })
            .title(Span::styled(format!(" {title} "), if focused { theme::title() } else { theme::dim() }))
    };
    // The focused pane is marked: the query box says whether it has the keyboard.
    let qb = boxed(
        if tab.editing == Some(Field::Query) {
            "query — type to search · Enter/Esc leave"
        } else {
            "query — / to type · f filter"
        },
        tab.editing == Some(Field::Query),
    );
    let qi = qb.inner(qa);
    f.render_widget(qb, qa);
    f.render_widget(tab.query.area(), qi);
    if show_filter {
        let title = match &tab.filter_error {
            Some(e) => format!("filter ✗ {}:{} {}", e.line, e.column, e.message),
            None => "metadata filter (JSON) ✓".into(),
        };
        let fb = boxed(&text::sanitize_str(&title), tab.editing == Some(Field::Filter)).border_style(
            if tab.filter_error.is_some() {
                theme::error()
            } else if tab.editing == Some(Field::Filter) {
                theme::title()
            } else {
                theme::dim()
            },
        );
        let fi = fb.inner(fa);
        f.render_widget(fb, fa);
        f.render_widget(tab.filter.area(), fi);
    }
    let nss = tab.stats.as_ref().map(|s| s.namespaces.len()).unwrap_or(0);
    let thr = match tab.threshold {
        Some(t) if tab.better_or_equal(1.0, 0.0) => format!("score ≥ {t:.2}"),
        Some(t) => format!("distance ≤ {t:.2}"),
        None => "none".into(),
    };
    let dim = tab.stats.as_ref().and_then(|s| s.dimension).map(|d| format!(" · dim {d}")).unwrap_or_default();
    let metric = tab.stats.as_ref().and_then(|s| s.metric).map(|m| format!(" · {}", m.name())).unwrap_or_default();
    // What the index says of itself (a search index: algorithm, type, storage, memory, progress).
    let detail = tab
        .stats
        .as_ref()
        .and_then(|s| s.detail.as_deref())
        .map(|d| format!(" · {}", text::sanitize_str(d)))
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {} ", label.map(text::sanitize_str).unwrap_or_default()), theme::title()),
            Span::raw(format!(
                "top_k {} · namespace {:?} ({nss} in index) · threshold {thr} · values {}{dim}{metric}{detail}",
                tab.top_k,
                tab.namespace,
                if tab.include_values { "on" } else { "off" }
            )),
        ])),
        params,
    );
    // Status: timings, read units, score distribution.
    let mut st: Vec<Span> = Vec::new();
    if let ConnState::Down(e) = conn {
        st.push(Span::styled(format!(" DOWN: {} ", text::sanitize_str(e)), theme::error()));
    } else if matches!(conn, ConnState::Connecting) {
        st.push(Span::styled(" loading the index and the embedder… ", theme::warn()));
    }
    if let Some(e) = &tab.error {
        st.push(Span::styled(format!(" ✗ {} ", text::sanitize_str(e)), theme::error()));
    }
    if let Some(o) = &tab.outcome {
        st.push(Span::raw(format!(
            " {} matches · embed {:.1} ms · query {:.1} ms · total {:.1} ms",
            o.result.matches.len(),
            o.embed_ms,
            o.query_ms,
            o.total_ms
        )));
        if let Some(ru) = o.result.read_units {
            st.push(Span::raw(format!(" · {ru} read units")));
        }
        let scores: Vec<f32> = o.result.matches.iter().map(|m| m.score).collect();
        if let (Some(lo), Some(hi)) = (scores.iter().copied().reduce(f32::min), scores.iter().copied().reduce(f32::max))
        {
            let spark: String =
                scores.iter().map(|s| SPARK[(bar_fraction(tab, &scores, *s) * 7.0).round() as usize]).collect();
            st.push(Span::styled(format!("  scores {lo:.3}…{hi:.3} "), theme::dim()));
            st.push(Span::styled(spark, theme::label()));
        }
        // The tuning's cost over the session (after the scores, which matter more).
        if let Some((p50, p99, n)) = tab.session_latency().filter(|l| l.2 > 1) {
            st.push(Span::styled(format!(" · p50/p99 {p50:.0}/{p99:.0} ms ({n})"), theme::dim()));
        }
    }
    if tab.searching() {
        st.push(Span::styled(" searching…", theme::warn()));
    }
    f.render_widget(Paragraph::new(Line::from(st)), status);

    let (list_area, detail_area) = if tab.detail {
        let [a, b] = Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(body);
        (a, Some(b))
    } else {
        (body, None)
    };
    render_results(f, list_area, tab);
    if let Some(d) = detail_area {
        render_detail(f, d, tab);
    }
}

fn render_results(f: &mut Frame, area: Rect, tab: &SearchTab) {
    let title = match &tab.pinned {
        Some((p, _)) => {
            format!(" results · diff against the pin “{}” ", text::truncate(&text::sanitize_str(&p.text), 30))
        }
        None => " results ".into(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if tab.editing.is_none() { theme::title() } else { theme::dim() })
        .title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let matches = tab.matches();
    let query = tab.searched.as_ref().map(|p| p.text.clone()).unwrap_or_default();
    if !tab.configured {
        return;
    }
    if matches.is_empty() {
        let msg = if tab.error.is_some() {
            "the search failed (the error is shown above): no results to show"
        } else if tab.searched.is_none() {
            "type a query: results appear as you type"
        } else {
            "no matches"
        };
        lines.push(Line::styled(msg, theme::dim()));
    }
    let d = tab.pinned.as_ref().map(|(_, p)| diff(p, matches));
    let scores: Vec<f32> = matches.iter().map(|m| m.score).collect();
    let mut threshold_drawn = false;
    // The id column as wide as the longest id shown, up to two fifths of the row (a UUID fits
    // from about 90 columns of results), at least 18.
    let id_w = matches
        .iter()
        .map(|m| text::width(&text::sanitize_str(&m.id)))
        .max()
        .unwrap_or(0)
        .clamp(2, (w * 2 / 5).max(18));
    let rows = inner.height as usize;
    let off = tab.selected.saturating_sub(rows.saturating_sub(4));
    for (i, m) in matches.iter().enumerate().skip(off) {
        let below = tab.threshold.is_some_and(|t| !tab.better_or_equal(m.score, t));
        if below && !threshold_drawn {
            threshold_drawn = true;
            lines.push(Line::styled(
                format!("── below the threshold {:.2} ──", tab.threshold.unwrap_or(0.0)),
                theme::warn(),
            ));
        }
        let bar: String = "█".repeat((bar_fraction(tab, &scores, m.score) * 8.0).round() as usize);
        let md = m.metadata.clone().unwrap_or_default();
        let t = md.get(&tab.text_field).and_then(|v| v.as_str()).unwrap_or("");
        let tag = ["category", "role", tab.conversation_field.as_str()]
            .iter()
            .find_map(|k| md.get(*k).and_then(|v| v.as_str()).map(|v| v.to_string()))
            .unwrap_or_default();
        // No pin: no column. Pinned: new, or moved by how many places.
        let mv = match d.as_ref().map(|d| d.moves.get(i).copied().flatten()) {
            None => Span::raw(""),
            Some(None) => Span::styled(" new ", theme::ok()),
            Some(Some(0)) => Span::styled("  =  ", theme::dim()),
            Some(Some(x)) if x > 0 => Span::styled(format!(" ↑{x:<2} "), theme::ok()),
            Some(Some(x)) => Span::styled(format!(" ↓{:<2} ", -x), theme::error()),
        };
        let head = format!("{:>3} {:>7.4} {:<8} ", i + 1, m.score, bar);
        let id = format!("{} ", text::fit(&text::sanitize_str(&m.id), id_w));
        let tag = format!("{} ", text::fit(&text::sanitize_str(&tag), 12));
        let used = text::width(&head) + text::width(&id) + text::width(&tag) + 5;
        let body = text::truncate(&text::sanitize_str(t), w.saturating_sub(used));
        let selected = i == tab.selected && tab.editing.is_none();
        // The selected row in one readable style (grey text on the grey selection was not).
        let mut spans = if selected {
            vec![mv, Span::raw(head), Span::raw(id), Span::raw(tag), Span::raw(body)]
        } else {
            let mut s = vec![mv, Span::raw(head), Span::styled(id, theme::label()), Span::styled(tag, theme::dim())];
            s.extend(highlight(&body, &query));
            s
        };
        spans.retain(|s| !s.content.is_empty());
        let mut line = Line::from(spans);
        if selected {
            line = line.style(theme::selected().fg(ratatui::style::Color::White));
        } else if below {
            line = line.style(theme::dim());
        }
        lines.push(line);
    }
    if let Some(d) = &d {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("overlap@{}: {}/{}", d.k, d.overlap, d.k), theme::label()));
        if !d.dropped.is_empty() {
            let dropped: Vec<String> = d.dropped.iter().map(|s| text::sanitize_str(s)).collect();
            lines.push(Line::styled(
                text::truncate(&format!("dropped since the pin: {}", dropped.join(", ")), w),
                theme::error(),
            ));
        }
    }
    if tab.recall.is_some() || tab.recall_waiting() {
        lines.push(Line::raw(""));
        lines.push(match &tab.recall {
            None => Line::styled("measuring recall: an exact pass over the records…", theme::dim()),
            Some(Err(e)) => Line::styled(format!("recall: ✗ {}", text::sanitize_str(e)), theme::error()),
            Some(Ok(r)) if r.capped => Line::styled(r.said(), theme::warn()),
            Some(Ok(r)) if r.found < r.k => Line::styled(r.said(), theme::warn()),
            Some(Ok(r)) => Line::styled(r.said(), theme::label()),
        });
    }
    if let Some(why) = &tab.why {
        lines.push(Line::raw(""));
        lines.push(match why {
            Err(e) => Line::styled(format!("why not: ✗ {}", text::sanitize_str(e)), theme::error()),
            Ok(w) if !w.found => Line::styled(
                format!("why not `{}`: no such id in this namespace", text::sanitize_str(&w.id)),
                theme::warn(),
            ),
            Ok(w) => {
                let rank = match w.rank {
                    Some(r) => format!("rank {r}"),
                    None => format!("not in the first {}", w.limit),
                };
                let score = w.score.map(|s| format!("score {s:.4}")).unwrap_or_else(|| "score unknown".into());
                let last =
                    matches.last().map(|m| format!(" (the last shown scores {:.4})", m.score)).unwrap_or_default();
                let filt = if w.passes_filter { "passes the filter" } else { "EXCLUDED by the filter" };
                Line::styled(
                    format!("why not `{}`: {rank} · {score}{last} · {filt}", text::sanitize_str(&w.id)),
                    theme::warn(),
                )
            }
        });
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn render_detail(f: &mut Frame, area: Rect, tab: &SearchTab) {
    let block = Block::default().borders(Borders::ALL).border_style(theme::dim()).title(" detail ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(m) = tab.matches().get(tab.selected) else { return };
    let mut lines =
        vec![Line::styled(text::sanitize_str(&m.id), theme::title()), Line::raw(format!("score {:.6}", m.score))];
    if let Some(v) = &m.values {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        lines.push(Line::raw(format!("dimension {} · norm {norm:.4}", v.len())));
    }
    lines.push(Line::raw(""));
    if let Some(md) = &m.metadata {
        for (k, v) in md {
            if *k == tab.text_field {
                continue;
            }
            let val = match v {
                serde_json::Value::String(s) => text::sanitize_str(s),
                serde_json::Value::Number(n) => match time_of(k, n.as_f64()) {
                    Some(t) => format!("{n} ({})", t.to_rfc3339()),
                    None => n.to_string(),
                },
                other => text::sanitize_str(&other.to_string()),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", text::sanitize_str(k)), theme::label()),
                Span::raw(val),
            ]));
        }
        if let Some(t) = md.get(&tab.text_field).and_then(|v| v.as_str()) {
            lines.push(Line::raw(""));
            lines.push(Line::styled(format!("{}:", tab.text_field), theme::label()));
            lines.extend(text::sanitize_multiline(t.as_bytes()).split('\n').map(|l| Line::raw(l.to_string())));
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// A number in metadata that is a time (under a time-like name: `created_at`, `createdAt`,
/// `timestamp`, `ts`…), as the instant it names; Unix seconds, ms or µs told apart by size.
fn time_of(key: &str, n: Option<f64>) -> Option<crate::domain::Ts> {
    let k = key.to_ascii_lowercase();
    let named = k.ends_with("_at")
        || (k.ends_with("edat") || k.ends_with("ed_at"))
        || ["ts", "time", "timestamp", "created", "updated", "date"]
            .iter()
            .any(|w| k == *w || k.ends_with(&format!("_{w}")));
    if named { crate::domain::Ts::from_unix_number(n?) } else { None }
}

#[cfg(test)]
mod tests {
    use super::time_of;

    /// The detail pane gives a time-named number its instant; other numbers stay numbers.
    #[test]
    fn time_named_numbers_read_as_instants() {
        let at = |k: &str, n: f64| time_of(k, Some(n)).map(|t| t.to_rfc3339());
        assert_eq!(at("created_at", 1_700_000_000.0).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(at("createdAt", 1_700_000_000_000.0).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(at("timestamp", 1_700_000_000.0).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(at("tokens", 1_700_000_000.0), None);
        assert_eq!(at("format", 1_700_000_000.0), None);
    }
}
