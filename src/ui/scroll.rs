//! Keeping a selected row inside a scrolled viewport: one rule for every list.

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
    use super::keep_visible;

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
