//! A message traced across the three tiers, each tier's keys with their TTL counting down.

use super::*;

/// A PTTL read `age_ms` ago, as what is left now.
pub(super) fn ttl_text(pttl_ms: i64, age_ms: u64) -> String {
    match pttl_ms {
        -2 => "absent".into(),
        -1 => "no TTL".into(),
        ms => {
            let left = ms - age_ms as i64;
            if left <= 0 { "expired".into() } else { format!("TTL {}", text::human_ms(left)) }
        }
    }
}

pub(super) fn render_trace(f: &mut Frame, area: Rect, v: &TraceView, now_ms: u64) {
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
                super::browser::panel_field_lines(
                    &crate::tabs::conversations::field_lines(&d.fields),
                    w.saturating_sub(2),
                )
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
