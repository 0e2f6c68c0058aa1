//! Keeping a selected row inside a scrolled viewport, and moving it: one rule for every list.

use crate::keymap::Action;

/// Where a movement action (up, down, page up/down, top, bottom) takes the selection in a
/// list of `n` rows shown `page` at a time; None for any other action.
pub fn moved(action: Action, selected: usize, n: usize, page: usize) -> Option<usize> {
    let last = n.saturating_sub(1);
    Some(match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(page.max(1)),
        Action::PageDown => (selected + page.max(1)).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => return None,
    })
}

/// Where a movement action takes the first line shown of a text of `len` lines shown `page`
/// at a time (the last page ends on the last line); None for any other action.
pub fn scrolled(action: Action, top: usize, len: usize, page: usize) -> Option<usize> {
    moved(action, top, len.saturating_sub(page.max(1)) + 1, page)
}

/// `(selected, offset)` for a list of `n` rows shown `rows` at a time: the selection is clamped
/// to the list, the viewport follows it, and never scrolls past the end.
pub fn keep_visible(selected: usize, offset: usize, n: usize, rows: usize) -> (usize, usize) {
    if n == 0 {
        return (0, 0);
    }
    let rows = rows.max(1);
    let selected = selected.min(n - 1);
    let mut offset = offset.min(selected);
    if selected >= offset + rows {
        offset = selected + 1 - rows;
    }
    (selected, offset.min(n.saturating_sub(rows)))
}

#[cfg(test)]
mod tests {
    use super::{Action, keep_visible, moved};

    #[test]
    fn movements_stay_in_the_list() {
        assert_eq!(moved(Action::Down, 9, 10, 5), Some(9));
        assert_eq!(moved(Action::PageDown, 3, 10, 5), Some(8));
        assert_eq!(moved(Action::PageUp, 3, 10, 5), Some(0));
        assert_eq!(moved(Action::Bottom, 0, 0, 5), Some(0));
        assert_eq!(moved(Action::Open, 3, 10, 5), None);
    }

    #[test]
    fn follows_the_selection_and_stops_at_the_end() {
        assert_eq!(keep_visible(0, 0, 0, 10), (0, 0));
        assert_eq!(keep_visible(25, 0, 100, 10), (25, 16));
        assert_eq!(keep_visible(3, 16, 100, 10), (3, 3));
        assert_eq!(keep_visible(500, 0, 100, 10), (99, 90));
        // The list shrank under a scrolled view: no blank rows at the bottom.
        assert_eq!(keep_visible(5, 8, 12, 10), (5, 2));
    }
}
