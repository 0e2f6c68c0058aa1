//! The one line editor of every text field (the `:` command line, filters, the search query,
//! the pager's `/`, TTL and rename prompts): the same keys everywhere, as in a shell —
//! Ctrl-U deletes to the start, Ctrl-W the word before, Ctrl-K to the end, Ctrl-A/Home and
//! Ctrl-E/End move to the ends, Up/Down walk the field's history. Pre-filled text is shown
//! selected and the first key that types replaces it (Backspace, Ctrl-U or Ctrl-W clear it;
//! a movement keeps it for editing).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

#[derive(Clone)]
pub struct LineEdit {
    area: TextArea<'static>,
    /// Pre-filled text not touched yet: shown selected, replaced by the first key that types.
    fresh: bool,
    /// Earlier entries, oldest first, and where Up/Down is in them.
    history: Vec<String>,
    hist_pos: Option<usize>,
    /// What was being typed before Up went into the history (Down past the newest returns it).
    draft: String,
}

impl std::fmt::Debug for LineEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineEdit").field("text", &self.text()).field("fresh", &self.fresh).finish()
    }
}

impl PartialEq for LineEdit {
    fn eq(&self, o: &LineEdit) -> bool {
        self.text() == o.text() && self.fresh == o.fresh && self.history == o.history
    }
}

impl Default for LineEdit {
    fn default() -> LineEdit {
        LineEdit::new("")
    }
}

impl LineEdit {
    /// A field holding `initial` (selected, so that typing replaces it).
    pub fn new(initial: &str) -> LineEdit {
        let mut e = LineEdit {
            area: TextArea::default(),
            fresh: false,
            history: Vec::new(),
            hist_pos: None,
            draft: String::new(),
        };
        e.area.set_selection_style(ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::REVERSED));
        e.replace(initial, !initial.is_empty());
        e
    }

    /// The same, with the field's earlier entries for Up/Down.
    pub fn with_history(initial: &str, history: Vec<String>) -> LineEdit {
        LineEdit { history, ..LineEdit::new(initial) }
    }

    pub fn text(&self) -> String {
        self.area.lines().first().cloned().unwrap_or_default()
    }

    /// The text set (not selected: it is what the user is editing).
    pub fn set_text(&mut self, s: &str) {
        self.replace(s, false);
    }

    /// The text as it stands, selected: a field opened again to type a new entry (the first
    /// key that types replaces it; a movement edits it).
    pub fn select_all(&mut self) {
        if !self.text().is_empty() {
            self.fresh = true;
            self.area.select_all();
            self.area.move_cursor(CursorMove::End);
        }
    }

    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    pub fn area(&self) -> &TextArea<'static> {
        &self.area
    }

    pub fn area_mut(&mut self) -> &mut TextArea<'static> {
        &mut self.area
    }

    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Keep the text in the history (not empty, not the newest again); Up/Down start over.
    pub fn remember(&mut self) {
        let t = self.text();
        if !t.trim().is_empty() && self.history.last() != Some(&t) {
            self.history.push(t);
        }
        self.hist_pos = None;
    }

    /// Pasted text: one line (newlines become spaces), replacing pre-filled text.
    pub fn paste(&mut self, s: &str) -> bool {
        self.touch(true);
        self.area.insert_str(s.replace(['\n', '\r'], " "))
    }

    fn replace(&mut self, s: &str, selected: bool) {
        let style = self.area.selection_style();
        self.area = TextArea::new(vec![s.replace(['\n', '\r'], " ")]);
        self.area.set_selection_style(style);
        self.area.set_cursor_line_style(ratatui::style::Style::default());
        if selected {
            self.area.select_all();
        }
        self.area.move_cursor(CursorMove::End);
        self.fresh = selected;
    }

    /// Leave the pre-filled state: cleared (a key that types or deletes) or kept for editing.
    fn touch(&mut self, clear: bool) {
        if self.fresh {
            self.fresh = false;
            self.area.cancel_selection();
            if clear {
                self.replace("", false);
            }
        }
    }

    /// One key; whether the text changed. Enter, Esc and Tab are the caller's.
    pub fn input(&mut self, ev: KeyEvent) -> bool {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let before = self.text();
        match ev.code {
            KeyCode::Enter | KeyCode::Esc | KeyCode::Tab | KeyCode::BackTab => return false,
            KeyCode::Up | KeyCode::Down => return self.walk_history(ev.code == KeyCode::Up),
            // One line: no newline, whatever the key.
            KeyCode::Char('m' | 'j') if ctrl => return false,
            KeyCode::Char('u') if ctrl => {
                self.touch(true);
                self.area.delete_line_by_head();
            }
            KeyCode::Char('w') if ctrl => {
                self.touch(true);
                self.area.delete_word();
            }
            KeyCode::Backspace if alt => {
                self.touch(true);
                self.area.delete_word();
            }
            KeyCode::Char('k') if ctrl => {
                self.touch(false);
                self.area.delete_line_by_end();
            }
            KeyCode::Char('a') if ctrl => {
                self.touch(false);
                self.area.move_cursor(CursorMove::Head);
            }
            KeyCode::Home => {
                self.touch(false);
                self.area.move_cursor(CursorMove::Head);
            }
            KeyCode::Char('e') if ctrl => {
                self.touch(false);
                self.area.move_cursor(CursorMove::End);
            }
            KeyCode::End => {
                self.touch(false);
                self.area.move_cursor(CursorMove::End);
            }
            KeyCode::Left | KeyCode::Right => {
                self.touch(false);
                self.area.input(ev);
            }
            KeyCode::Backspace | KeyCode::Delete if self.fresh => self.touch(true),
            KeyCode::Char(c) if !ctrl && !alt => {
                self.touch(true);
                self.area.insert_char(c);
            }
            _ => {
                self.touch(false);
                self.area.input(ev);
            }
        }
        self.text() != before
    }

    fn walk_history(&mut self, up: bool) -> bool {
        let n = self.history.len();
        if n == 0 {
            return false;
        }
        if self.hist_pos.is_none() {
            self.draft = self.text();
        }
        let pos = match (self.hist_pos, up) {
            (None, true) => Some(n - 1),
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p + 1 < n => Some(p + 1),
            _ => None,
        };
        self.hist_pos = pos;
        let text = pos.map(|p| self.history[p].clone()).unwrap_or_else(|| self.draft.clone());
        let changed = text != self.text();
        self.replace(&text, false);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(e: &mut LineEdit, code: KeyCode, mods: KeyModifiers) -> bool {
        e.input(KeyEvent::new(code, mods))
    }
    fn typed(e: &mut LineEdit, s: &str) {
        for c in s.chars() {
            key(e, KeyCode::Char(c), KeyModifiers::NONE);
        }
    }
    const CTRL: KeyModifiers = KeyModifiers::CONTROL;
    const NONE: KeyModifiers = KeyModifiers::NONE;

    #[test]
    fn prefilled_text_is_replaced_by_the_first_key_that_types() {
        let mut e = LineEdit::new("*");
        assert!(e.is_fresh());
        typed(&mut e, "session:*");
        assert_eq!(e.text(), "session:*", "not *session:*");
        let mut e = LineEdit::new("*");
        key(&mut e, KeyCode::Char('u'), CTRL);
        typed(&mut e, "session:*");
        assert_eq!(e.text(), "session:*");
        // A movement keeps it for editing.
        let mut e = LineEdit::new("user:*");
        key(&mut e, KeyCode::Home, NONE);
        typed(&mut e, "x");
        assert_eq!(e.text(), "xuser:*");
        let mut e = LineEdit::new("abc");
        key(&mut e, KeyCode::Backspace, NONE);
        assert_eq!(e.text(), "");
    }

    #[test]
    fn shell_keys() {
        let mut e = LineEdit::new("");
        typed(&mut e, "match user:42 extra");
        key(&mut e, KeyCode::Char('w'), CTRL);
        assert_eq!(e.text(), "match user:42 ");
        key(&mut e, KeyCode::Char('a'), CTRL);
        typed(&mut e, ">");
        assert_eq!(e.text(), ">match user:42 ");
        key(&mut e, KeyCode::Char('e'), CTRL);
        typed(&mut e, "<");
        assert_eq!(e.text(), ">match user:42 <");
        key(&mut e, KeyCode::Left, NONE);
        key(&mut e, KeyCode::Char('u'), CTRL);
        assert_eq!(e.text(), "<", "Ctrl-U deletes to the start");
        key(&mut e, KeyCode::Home, NONE);
        key(&mut e, KeyCode::Char('k'), CTRL);
        assert_eq!(e.text(), "");
        assert!(!key(&mut e, KeyCode::Char('m'), CTRL), "one line");
        assert!(!key(&mut e, KeyCode::Char('j'), CTRL), "one line");
    }

    #[test]
    fn up_and_down_walk_the_history_and_come_back_to_the_draft() {
        let mut e = LineEdit::with_history("", vec!["one".into(), "two".into()]);
        typed(&mut e, "dra");
        key(&mut e, KeyCode::Up, NONE);
        assert_eq!(e.text(), "two");
        key(&mut e, KeyCode::Up, NONE);
        key(&mut e, KeyCode::Up, NONE);
        assert_eq!(e.text(), "one");
        key(&mut e, KeyCode::Down, NONE);
        assert_eq!(e.text(), "two");
        key(&mut e, KeyCode::Down, NONE);
        assert_eq!(e.text(), "dra");
        e.set_text("three");
        e.remember();
        e.remember();
        assert_eq!(e.history(), ["one", "two", "three"]);
    }
}
