//! An analysis as text (the Keys tab's view, `memscope analyze`), saved, and compared with an older one.

use super::*;

/// What changed between two analyses, per namespace: (prefix, bytes before, bytes now, keys
/// before, keys now), the biggest growth first. Namespaces new or gone count from zero.
pub fn compare(old: &Analysis, new: &Analysis) -> Vec<(String, u64, u64, u64, u64)> {
    let before: BTreeMap<&str, &Namespace> = old.namespaces.iter().map(|n| (n.prefix.as_str(), n)).collect();
    let now: BTreeMap<&str, &Namespace> = new.namespaces.iter().map(|n| (n.prefix.as_str(), n)).collect();
    let mut out: Vec<(String, u64, u64, u64, u64)> = before
        .keys()
        .chain(now.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|p| {
            let (b, n) = (before.get(p), now.get(p));
            (
                p.to_string(),
                b.map(|x| x.bytes).unwrap_or(0),
                n.map(|x| x.bytes).unwrap_or(0),
                b.map(|x| x.keys).unwrap_or(0),
                n.map(|x| x.keys).unwrap_or(0),
            )
        })
        .collect();
    out.sort_by_key(|(p, b, n, _, _)| (std::cmp::Reverse(*n as i128 - *b as i128), p.clone()));
    out
}

/// The analysis as text, every section: what `memscope analyze` prints and the Keys tab's
/// analysis view opens in the pager (`o`). `limit`: the commands/s it ran at, when limited.
pub fn report_text(r: &Analysis, old: Option<&Analysis>, limit: Option<u64>) -> String {
    let mut o: Vec<u8> = Vec::new();
    let _ = write_report(&mut o, r, old, limit);
    String::from_utf8_lossy(&o).into_owned()
}

pub(super) fn write_report(
    o: &mut dyn std::io::Write,
    r: &Analysis,
    old: Option<&Analysis>,
    limit: Option<u64>,
) -> std::io::Result<()> {
    let hb = crate::text::human_bytes;
    let s = |k: &str| crate::text::sanitize_str(k);
    writeln!(o, "{}{}", r.summary(), limit.map(|l| format!(" (at most {l}/s)")).unwrap_or_default())?;
    if let Some(p) = &r.partial {
        writeln!(o, "PARTIAL: the pass ended early ({}); the figures are of the keys read", s(p))?;
    }
    if r.gone > 0 || r.unmeasured > 0 {
        writeln!(
            o,
            "{} keys expired or were deleted during the pass; {} had no MEMORY USAGE",
            crate::text::num(r.gone),
            crate::text::num(r.unmeasured)
        )?;
    }
    // Under --compare, what grew comes first: it is why one compares.
    if let Some(old) = old {
        writeln!(
            o,
            "\nGROWTH SINCE THE ANALYSIS OF {} (most growth first)",
            crate::domain::Ts { secs: old.started, nanos: 0 }.to_rfc3339()
        )?;
        for (p, b, n, kb, kn) in compare(old, r).iter().filter(|x| x.1 != x.2).take(30) {
            let d = *n as i128 - *b as i128;
            let sign = if d >= 0 { "+" } else { "-" };
            writeln!(
                o,
                "  {:<44} {sign}{:>11}  {} → {}  keys {} → {}",
                s(p),
                hb(d.unsigned_abs() as u64),
                hb(*b),
                hb(*n),
                crate::text::num(*kb),
                crate::text::num(*kn)
            )?;
        }
    }
    writeln!(o, "\nBY TYPE")?;
    for t in &r.by_type {
        writeln!(
            o,
            "  {:<12} {:>12} keys {:>12} {:>7}",
            s(&t.ktype),
            crate::text::num(t.keys),
            hb(t.bytes),
            pct(t.bytes, r.bytes)
        )?;
    }
    writeln!(o, "\nNAMESPACES (by \"{}\", ids folded into *; most memory first)", s(&r.delimiter))?;
    writeln!(o, "  {:<44} {:>12} {:>12} {:>7}   TTL {}", "", "KEYS", "MEMORY", "%", TTL_BUCKETS.join(" / "))?;
    let shown: Vec<_> = r.namespaces.iter().take(40).collect();
    for n in &shown {
        let name = format!("{}{}", "  ".repeat(n.depth - 1), s(&n.prefix));
        let ttl: Vec<String> = n.ttl.iter().map(|x| crate::text::num(*x)).collect();
        writeln!(
            o,
            "  {:<44} {:>12} {:>12} {:>7}   {}",
            crate::text::truncate(&name, 44),
            crate::text::num(n.keys),
            hb(n.bytes),
            pct(n.bytes, r.bytes),
            ttl.join(" / ")
        )?;
    }
    if r.namespaces.len() > shown.len() {
        writeln!(
            o,
            "  … {} more namespaces (--json lists every one)",
            crate::text::num((r.namespaces.len() - shown.len()) as u64)
        )?;
    }
    if r.namespaces_folded > 0 {
        writeln!(
            o,
            "  ({} keys counted under \"(other …)\": more than {} namespaces at a level)",
            crate::text::num(r.namespaces_folded),
            NAMESPACE_CAP
        )?;
    }
    writeln!(o, "\nBIGGEST KEYS BY MEMORY")?;
    for k in r.top_by_memory.iter().take(20) {
        writeln!(o, "  {}", k.row())?;
    }
    if r.top_by_memory.len() > 20 {
        writeln!(o, "  … {} more in --json", r.top_by_memory.len() - 20)?;
    }
    writeln!(o, "\nBIGGEST KEYS BY LENGTH, BY TYPE")?;
    for (header, list) in by_length(&r.top_by_elements) {
        writeln!(o, "  {header}")?;
        for k in list.iter().take(10) {
            writeln!(o, "    {}", k.row())?;
        }
        if list.len() > 10 {
            writeln!(o, "    … {} more in --json", list.len() - 10)?;
        }
    }
    writeln!(o, "\nLEAK SUSPECTS (most keys of the namespace expire, these do not)")?;
    if r.leak_suspects.is_empty() {
        writeln!(o, "  none")?;
    }
    for l in &r.leak_suspects {
        writeln!(o, "  {:<44} {}", s(&l.prefix), l.describe())?;
    }
    writeln!(o, "\nEXPIRING WITHIN A MINUTE: {} keys, soonest first", crate::text::num(r.expiring_within_1m))?;
    for k in r.expiring_keys.iter().take(10) {
        writeln!(o, "  {:>8} {}", k.ttl_ms.map(crate::text::human_ms).unwrap_or_default(), s(&k.key))?;
    }
    let more = r.expiring_within_1m.saturating_sub(r.expiring_keys.len().min(10) as u64);
    if more > 0 {
        writeln!(o, "  … {} more", crate::text::num(more))?;
    }
    Ok(())
}
