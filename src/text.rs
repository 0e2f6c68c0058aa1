//! Safe text: everything that comes from a store is untrusted bytes.
//!
//! Control characters, escape sequences, C1 controls and bidi overrides are made visible
//! (`\x1b`, `\u{202e}`) so that nothing stored can move the cursor, change colours or
//! hide text. Invalid UTF-8 is shown as `\xNN`; mostly-binary data as a hex dump.
//! Widths are measured with `unicode-width` so wide characters keep columns aligned.

use std::fmt::Write as _;
use unicode_width::UnicodeWidthChar;

/// How a byte string is best shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesKind {
    /// Valid UTF-8 text (possibly with escaped control characters).
    Text,
    /// Mostly text with some invalid bytes, shown as `\xNN`.
    EscapedBytes,
    /// Binary: shown as a hex dump.
    Binary,
}

/// A vector blob as floats: FLOAT32 or FLOAT64, little-endian; None when the length is not a
/// whole number of them.
pub fn floats(b: &[u8], dtype: &str) -> Option<Vec<f32>> {
    match dtype.to_uppercase().as_str() {
        "FLOAT64" if b.len().is_multiple_of(8) => {
            Some(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()) as f32).collect())
        }
        "FLOAT64" => None,
        _ if b.len().is_multiple_of(4) => {
            Some(b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default())).collect())
        }
        _ => None,
    }
}

/// A float vector in a line: `384 × f32 · ‖v‖ 1.00 · [0.013, -0.042, 0.101, …]` (the norm
/// says whether it was normalised; the first values, which model wrote it).
pub fn vector_summary(v: &[f32], dtype: &str) -> String {
    let norm = v.iter().map(|x| (*x as f64) * (*x as f64)).sum::<f64>().sqrt();
    let first: Vec<String> = v.iter().take(4).map(|x| format!("{x:.3}")).collect();
    let more = if v.len() > 4 { ", …" } else { "" };
    format!("{} × {dtype} · ‖v‖ {norm:.2} · [{}{more}]", v.len(), first.join(", "))
}

/// Bytes shaped like a float32 vector (an embedding stored raw in a hash): a whole number of
/// at least 16 floats, every one finite and of embedding size, most of them not zero. Text
/// and other binaries do not pass: their bytes read as floats are huge, tiny or NaN.
pub fn looks_like_f32_vector(b: &[u8]) -> bool {
    if b.len() < 64 || !b.len().is_multiple_of(4) || std::str::from_utf8(b).is_ok() {
        return false;
    }
    let fs = b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    let (mut n, mut nonzero) = (0usize, 0usize);
    for f in fs {
        if !f.is_finite() || f.abs() > 1e3 || (f != 0.0 && f.abs() < 1e-12) {
            return false;
        }
        n += 1;
        nonzero += usize::from(f != 0.0);
    }
    nonzero * 2 > n
}

/// Classify bytes: binary when more than 25 % are neither printable text nor common whitespace.
pub fn classify(bytes: &[u8]) -> BytesKind {
    if bytes.is_empty() {
        return BytesKind::Text;
    }
    let valid = std::str::from_utf8(bytes).is_ok();
    let mut odd = 0usize;
    let mut iter = bytes.utf8_chunks();
    let mut total = 0usize;
    for chunk in iter.by_ref() {
        for c in chunk.valid().chars() {
            total += 1;
            if c.is_control() && !matches!(c, '\n' | '\r' | '\t') {
                odd += 1;
            }
        }
        let inv = chunk.invalid().len();
        total += inv;
        odd += inv;
    }
    if odd * 4 > total {
        BytesKind::Binary
    } else if valid {
        BytesKind::Text
    } else {
        BytesKind::EscapedBytes
    }
}

fn push_escaped_char(out: &mut String, c: char, keep_newlines: bool) {
    match c {
        '\n' if keep_newlines => out.push('\n'),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' if keep_newlines => out.push_str("    "),
        '\t' => out.push_str("\\t"),
        '\\' => out.push('\\'),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if ('\u{80}'..='\u{9f}').contains(&c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        // Bidi controls and other invisible format characters can reorder or hide text.
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// JSON text (as serde_json writes it) made safe for a terminal: serde_json escapes C0
/// controls but writes C1 controls (U+0080–U+009F, which some terminals read as escape
/// sequences), bidi and other invisible format characters, and line separators raw. Each of
/// those becomes a `\uXXXX` escape, which is the same JSON (they can only occur in strings).
pub fn json_safe(json: String) -> String {
    let risky = |c: char| {
        ('\u{80}'..='\u{9f}').contains(&c)
            || matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    if !json.chars().any(risky) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if risky(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// One line of safe text: newlines and every control character escaped.
pub fn sanitize_line(bytes: &[u8]) -> String {
    sanitize(bytes, false)
}

/// Multi-line safe text: newlines kept, tabs expanded, every other control escaped.
pub fn sanitize_multiline(bytes: &[u8]) -> String {
    sanitize(bytes, true)
}

fn sanitize(bytes: &[u8], keep_newlines: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped_char(&mut out, c, keep_newlines);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Sanitise a `str` that came from a store (already UTF-8).
pub fn sanitize_str(s: &str) -> String {
    sanitize_line(s.as_bytes())
}

/// Display width of already-sanitised text.
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Cut sanitised text to at most `max` columns, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw > max - 1 {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// Pad (or cut) sanitised text to exactly `cols` columns.
pub fn fit(s: &str, cols: usize) -> String {
    let mut t = truncate(s, cols);
    let w = width(&t);
    t.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    t
}

/// Classic hex dump: offset, 16 bytes in hex, and the printable ASCII.
pub fn hex_dump(bytes: &[u8], start_offset: usize) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let mut line = format!("{:08x}  ", start_offset + i * 16);
            for j in 0..16 {
                match row.get(j) {
                    Some(b) => {
                        let _ = write!(line, "{b:02x} ");
                    }
                    None => line.push_str("   "),
                }
                if j == 7 {
                    line.push(' ');
                }
            }
            line.push(' ');
            line.extend(row.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }));
            line
        })
        .collect()
}

/// Human-readable byte size: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// Human-readable duration from milliseconds: `59s`, `4m 10s`, `3h 2m`, `2d 5h`.
pub fn human_ms(ms: i64) -> String {
    if ms < 0 {
        return "-".into();
    }
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A count with thousands separated: `1,000,000`.
pub fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `s` with every occurrence of each secret (an API key a server echoed back in an error)
/// replaced by `***`. Secrets shorter than 4 characters are not looked for (they would mask
/// ordinary words).
pub fn mask_secrets(s: &str, secrets: &[&str]) -> String {
    secrets.iter().filter(|k| k.len() >= 4).fold(s.to_string(), |acc, k| acc.replace(*k, "***"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let s = super::mask_secrets("401: invalid key pk-ABCD1234 (pk-ABCD1234)", &["pk-ABCD1234", "x"]);
        assert_eq!(s, "401: invalid key *** (***)");
    }

    #[test]
    fn json_escapes_c1_and_bidi_controls() {
        let v = serde_json::Value::String("a\u{9b}31m\u{202e}b\u{2028}c é".into()).to_string();
        let safe = super::json_safe(v);
        assert_eq!(safe, r#""a\u009b31m\u202eb\u2028c é""#);
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "a\u{9b}31m\u{202e}b\u{2028}c é", "the same JSON value");
    }

    use super::*;

    #[test]
    fn escapes_terminal_sequences() {
        let s = sanitize_line(b"\x1b[2J\x1b]0;pwned\x07red");
        assert_eq!(s, "\\x1b[2J\\x1b]0;pwned\\x07red");
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn escapes_c1_and_bidi() {
        let s = sanitize_str("a\u{9b}31mb\u{202e}cba");
        assert_eq!(s, "a\\u{9b}31mb\\u{202e}cba");
    }

    #[test]
    fn invalid_utf8_is_hex_escaped() {
        assert_eq!(sanitize_line(b"caf\xc3\xa9 \xff\xfe!"), "café \\xff\\xfe!");
        assert_eq!(classify(b"caf\xc3\xa9 \xff!and more text here"), BytesKind::EscapedBytes);
        assert_eq!(classify(&[0u8, 1, 2, 3, 0xff, 0x80, 7]), BytesKind::Binary);
        assert_eq!(classify("héllo\nworld".as_bytes()), BytesKind::Text);
    }

    #[test]
    fn multiline_keeps_newlines_but_not_escapes() {
        assert_eq!(sanitize_multiline(b"a\nb\tc\x1b"), "a\nb    c\\x1b");
    }

    #[test]
    fn wide_characters_measured_and_truncated() {
        assert_eq!(width("日本語"), 6);
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(width(&fit("日本", 7)), 7);
        assert_eq!(fit("abc", 2), "a…");
    }

    #[test]
    fn hex_dump_layout() {
        let lines = hex_dump(b"\x00\x01ABCDEFGHIJKLMNOPQ", 0);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("00000000  00 01 41 42"));
        assert!(lines[0].ends_with("..ABCDEFGHIJKLMN"));
        assert!(lines[1].starts_with("00000010  4f 50 51"));
    }

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_ms(59_999), "59s");
        assert_eq!(human_ms(250_000), "4m 10s");
        assert_eq!(human_ms(90_061_000), "1d 01h");
    }
}

/// Greedy word wrap of sanitised single-line text to `width` columns; words longer than a line
/// are broken. Always returns at least one (possibly empty) line.
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut w = 0usize;
    for word in s.split_inclusive(' ') {
        let ww = self::width(word);
        if w + ww > width && w > 0 {
            out.push(std::mem::take(&mut line).trim_end().to_string());
            w = 0;
        }
        if ww > width {
            for c in word.chars() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width {
                    out.push(std::mem::take(&mut line));
                    w = 0;
                }
                line.push(c);
                w += cw;
            }
        } else {
            line.push_str(word);
            w += ww;
        }
    }
    out.push(line.trim_end().to_string());
    out
}

#[cfg(test)]
mod wrap_tests {
    #[test]
    fn wraps_words_and_breaks_long_ones() {
        assert_eq!(super::wrap("the quick brown fox", 10), vec!["the quick", "brown fox"]);
        assert_eq!(super::wrap("abcdefghijkl", 5), vec!["abcde", "fghij", "kl"]);
        assert_eq!(super::wrap("", 5), vec![""]);
        assert_eq!(super::wrap("日本語テキスト", 6), vec!["日本語", "テキス", "ト"]);
    }
}
