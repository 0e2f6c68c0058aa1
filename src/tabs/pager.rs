//! The one full-screen pager: any value, field, message, alert or the help opens whole in it
//! (`o`, or Enter where Enter opens). Scrolls by line and page, wraps or scrolls sideways, and
//! searches inside (`/`, `n`/`N`, the match count, every match highlighted). Its text is made
//! safe before it gets here (control characters visible), so it draws as it is.

use crate::text;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq)]
pub struct Pager {
    pub title: String,
    /// A note under the title (what the text is, how much of it is shown).
    pub note: Option<String>,
    pub lines: Vec<String>,
    /// The first row shown, in rows of the current layout (wrapped or not).
    pub top: usize,
    pub wrap: bool,
    /// Columns scrolled sideways (not wrapped).
    pub left: usize,
    /// The search being typed (`/`), then the search in effect.
    pub editing: Option<super::line_edit::LineEdit>,
    pub query: Option<String>,
    /// The current match, an index into [`Pager::matches`].
    pub current: usize,
    /// The terminal's size, for page moves (the pager takes the whole screen).
    pub size: (u16, u16),
    /// The text is one window of more: `]` asks for the next.
    pub more: bool,
}

/// What a key did to the pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Close,
    Quit,
    /// `]`: the next window of the text (its source has more).
    More,
}

/// One row as drawn: which line, and its text from which character on.
#[derive(Debug, Clone, PartialEq)]
pub struct WrappedRow {
    pub line: usize,
    /// Character index in the line where this row starts.
    pub start: usize,
    pub text: String,
}

impl Pager {
    pub fn new(title: impl Into<String>, text: &str, size: (u16, u16)) -> Pager {
        Pager {
            title: title.into(),
            note: None,
            lines: text.split('\n').map(str::to_string).collect(),
            top: 0,
            wrap: true,
            left: 0,
            editing: None,
            query: None,
            current: 0,
            size,
            more: false,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Pager {
        self.note = Some(note.into());
        self
    }

    /// The text area: the whole screen but the frame's borders, the note and the key line.
    pub fn viewport(&self) -> (usize, usize) {
        let note = usize::from(self.note.is_some());
        ((self.size.0 as usize).saturating_sub(2).max(1), (self.size.1 as usize).saturating_sub(3 + note).max(1))
    }

    /// Every row of the text at `width` columns: a line per row, or wrapped into rows of at
    /// most `width` columns (a wide character never split).
    pub fn rows(&self, width: usize) -> Vec<WrappedRow> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            if !self.wrap || text::width(l) <= width {
                out.push(WrappedRow { line: i, start: 0, text: l.clone() });
                continue;
            }
            let (mut row, mut cols, mut start) = (String::new(), 0usize, 0usize);
            for (ci, c) in l.chars().enumerate() {
                let w = text::width(c.encode_utf8(&mut [0u8; 4]));
                if cols + w > width && !row.is_empty() {
                    out.push(WrappedRow { line: i, start, text: std::mem::take(&mut row) });
                    (cols, start) = (0, ci);
                }
                row.push(c);
                cols += w;
            }
            out.push(WrappedRow { line: i, start, text: row });
        }
        out
    }

    /// The matches of the search in effect: (line, first character, characters), case-insensitive.
    pub fn matches(&self) -> Vec<(usize, usize, usize)> {
        let Some(q) = self.query.as_deref().filter(|q| !q.is_empty()) else { return Vec::new() };
        let q: Vec<char> = q.to_lowercase().chars().collect();
        let mut out = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            let chars: Vec<char> = l.to_lowercase().chars().collect();
            if chars.len() != l.chars().count() {
                // A character whose lower case is longer: match on the line as it is.
                let lc: Vec<char> = l.chars().collect();
                let qq: Vec<char> = self.query.as_deref().unwrap_or("").chars().collect();
                out.extend(find_all(&lc, &qq).into_iter().map(|s| (i, s, qq.len())));
                continue;
            }
            out.extend(find_all(&chars, &q).into_iter().map(|s| (i, s, q.len())));
        }
        out
    }

    /// The row holding character `at` of `line`.
    fn row_of(rows: &[WrappedRow], line: usize, at: usize) -> usize {
        rows.iter().rposition(|r| r.line == line && r.start <= at).unwrap_or(0)
    }

    /// Scroll so the current match is on screen, a third from the top.
    fn show_current(&mut self) {
        let m = self.matches();
        let Some(&(line, at, _)) = m.get(self.current) else { return };
        let (w, h) = self.viewport();
        let rows = self.rows(w);
        let r = Self::row_of(&rows, line, at);
        if r < self.top || r >= self.top + h {
            self.top = r.saturating_sub(h / 3);
        }
        if !self.wrap {
            let col = at;
            if col < self.left || col >= self.left + w {
                self.left = col.saturating_sub(w / 3);
            }
        }
        self.clamp();
    }

    fn clamp(&mut self) {
        let (w, h) = self.viewport();
        let n = self.rows(w).len();
        self.top = self.top.min(n.saturating_sub(h));
    }

    /// One key. Typing a search takes every key until Enter or Esc.
    pub fn on_key(&mut self, ev: KeyEvent) -> Outcome {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && ev.code == KeyCode::Char('c') {
            return Outcome::Quit;
        }
        if let Some(q) = &mut self.editing {
            match ev.code {
                KeyCode::Esc => self.editing = None,
                KeyCode::Enter => {
                    self.query = self.editing.take().map(|q| q.text()).filter(|q| !q.is_empty());
                    // The first match at or after the top of the screen.
                    let (w, _) = self.viewport();
                    let rows = self.rows(w);
                    let top = self.top;
                    self.current =
                        self.matches().iter().position(|(l, s, _)| Self::row_of(&rows, *l, *s) >= top).unwrap_or(0);
                    self.show_current();
                }
                _ => {
                    q.input(ev);
                }
            }
            return Outcome::Stay;
        }
        let (w, h) = self.viewport();
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') => return Outcome::Close,
            KeyCode::Char(']') if self.more => return Outcome::More,
            KeyCode::Down | KeyCode::Char('j') => self.top += 1,
            KeyCode::Up | KeyCode::Char('k') => self.top = self.top.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.top += h.max(1),
            KeyCode::Char('f') if ctrl => self.top += h.max(1),
            KeyCode::Char('d') if ctrl => self.top += (h / 2).max(1),
            KeyCode::PageUp | KeyCode::Char('b') => self.top = self.top.saturating_sub(h.max(1)),
            KeyCode::Char('u') if ctrl => self.top = self.top.saturating_sub((h / 2).max(1)),
            KeyCode::Home | KeyCode::Char('g') => (self.top, self.left) = (0, 0),
            KeyCode::End | KeyCode::Char('G') => self.top = usize::MAX,
            KeyCode::Char('w') => {
                // Keep the line at the top where it was.
                let line = self.rows(w).get(self.top).map(|r| r.line).unwrap_or(0);
                self.wrap = !self.wrap;
                self.left = 0;
                self.top = self.rows(w).iter().position(|r| r.line == line).unwrap_or(0);
            }
            KeyCode::Right | KeyCode::Char('l') if !self.wrap => self.left += (w / 4).max(1),
            KeyCode::Left | KeyCode::Char('h') if !self.wrap => self.left = self.left.saturating_sub((w / 4).max(1)),
            // The last search, selected: typing replaces it, a movement edits it.
            KeyCode::Char('/') => {
                self.editing = Some(super::line_edit::LineEdit::new(self.query.as_deref().unwrap_or("")));
            }
            KeyCode::Char('n') | KeyCode::Char('N') => {
                let n = self.matches().len();
                if n > 0 {
                    self.current =
                        if ev.code == KeyCode::Char('n') { (self.current + 1) % n } else { (self.current + n - 1) % n };
                    self.show_current();
                }
            }
            _ => {}
        }
        self.clamp();
        Outcome::Stay
    }

    /// The terminal was resized.
    pub fn resize(&mut self, size: (u16, u16)) {
        self.size = size;
        self.clamp();
    }
}

/// Start indexes of every occurrence of `needle` in `hay`, not overlapping.
fn find_all(hay: &[char], needle: &[char]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if hay[i..i + needle.len()] == *needle {
            out.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(p: &mut Pager, s: &str) {
        for c in s.chars() {
            p.on_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn a_400_line_message_reads_to_its_end() {
        let text: Vec<String> = (0..400).map(|i| format!("line {i}")).collect();
        let mut p = Pager::new("m", &text.join("\n"), (80, 24));
        let (_, h) = p.viewport();
        p.on_key(key(KeyCode::PageDown));
        assert_eq!(p.top, h);
        p.on_key(key(KeyCode::End));
        assert_eq!(p.top, 400 - h, "the last screen ends on the last line");
        p.on_key(key(KeyCode::Char('j')));
        assert_eq!(p.top, 400 - h, "never past the end");
        p.on_key(key(KeyCode::Char('g')));
        assert_eq!(p.top, 0);
    }

    #[test]
    fn wrapping_and_sideways() {
        let long = "ab".repeat(100);
        let mut p = Pager::new("v", &format!("{long}\nshort"), (42, 10));
        let rows = p.rows(40);
        assert_eq!(rows.len(), 6, "200 characters in rows of 40, then one");
        assert!(rows.iter().take(5).all(|r| r.text.chars().count() == 40));
        assert_eq!((rows[1].line, rows[1].start), (0, 40));
        p.on_key(key(KeyCode::Char('w')));
        assert!(!p.wrap);
        assert_eq!(p.rows(40).len(), 2);
        p.on_key(key(KeyCode::Right));
        assert_eq!(p.left, 10);
        let wide = Pager::new("w", &"界".repeat(30), (22, 10));
        assert!(wide.rows(20).iter().all(|r| text::width(&r.text) <= 20), "a wide character never split");
    }

    #[test]
    fn search_counts_highlights_and_moves_to_each_match() {
        let mut lines: Vec<String> = (0..300).map(|i| format!("filler {i}")).collect();
        lines[150] = "the Needle is here, and a needle again".into();
        lines[290] = "last NEEDLE".into();
        let mut p = Pager::new("s", &lines.join("\n"), (80, 24));
        p.on_key(key(KeyCode::Char('/')));
        typed(&mut p, "needle");
        assert_eq!(p.editing.as_ref().map(|e| e.text()).as_deref(), Some("needle"), "typing goes to the search");
        p.on_key(key(KeyCode::Enter));
        assert_eq!(p.matches(), vec![(150, 4, 6), (150, 26, 6), (290, 5, 6)], "case-insensitive");
        assert_eq!(p.current, 0);
        let (_, h) = p.viewport();
        assert!(p.top <= 150 && 150 < p.top + h, "scrolled to the first match");
        p.on_key(key(KeyCode::Char('n')));
        p.on_key(key(KeyCode::Char('n')));
        assert_eq!(p.current, 2);
        assert!(p.top <= 290 && 290 < p.top + h);
        p.on_key(key(KeyCode::Char('n')));
        assert_eq!(p.current, 0, "wraps around");
        p.on_key(key(KeyCode::Char('N')));
        assert_eq!(p.current, 2);
        assert_eq!(p.on_key(key(KeyCode::Esc)), Outcome::Close);
    }
}
