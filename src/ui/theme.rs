//! Colours and styles, in one place. Two themes: the default, and high contrast
//! (`theme = "high-contrast"` in the profile or `MEMSCOPE_THEME=high-contrast`): no dark grey
//! on black, bright colours, bold where the default relies on a shade.

use ratatui::style::{Color, Modifier, Style};

static HIGH_CONTRAST: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set the theme for the process (at start, from the profile or `MEMSCOPE_THEME`).
pub fn set_high_contrast(on: bool) {
    HIGH_CONTRAST.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn high_contrast() -> bool {
    HIGH_CONTRAST.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn title() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::White).add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    }
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}
pub fn dim() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::Gray);
    }
    Style::new().fg(Color::DarkGray)
}
pub fn label() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::LightYellow).add_modifier(Modifier::BOLD);
    }
    Style::new().fg(Color::Yellow)
}
pub fn warn() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}
pub fn error() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::LightRed).add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    }
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}
pub fn ok() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::LightGreen).add_modifier(Modifier::BOLD);
    }
    Style::new().fg(Color::Green)
}
pub fn selected() -> Style {
    if high_contrast() {
        return Style::new().fg(Color::Black).bg(Color::White).add_modifier(Modifier::BOLD);
    }
    Style::new().bg(Color::DarkGray).add_modifier(Modifier::BOLD)
}
/// A search match, and the current one.
pub fn found() -> Style {
    Style::new().fg(Color::Black).bg(Color::Yellow)
}
pub fn found_current() -> Style {
    Style::new().fg(Color::Black).bg(Color::LightRed).add_modifier(Modifier::BOLD)
}
pub fn folder() -> Style {
    Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD)
}
pub fn key_hint() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}
pub fn write_badge() -> Style {
    Style::new().fg(Color::White).bg(Color::Red).add_modifier(Modifier::BOLD)
}
pub fn read_badge() -> Style {
    Style::new().fg(Color::Black).bg(Color::Green)
}
pub fn type_color(t: &str) -> Style {
    let c = match t {
        "string" => Color::Green,
        "list" => Color::Magenta,
        "hash" => Color::Cyan,
        "set" => Color::Yellow,
        "zset" => Color::LightRed,
        "stream" => Color::LightBlue,
        _ => Color::Gray,
    };
    Style::new().fg(c)
}

/// `NO_COLOR` set (to anything non-empty, per no-color.org): no colours at all.
pub fn no_color() -> bool {
    static NO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NO.get_or_init(|| std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()))
}

/// Drop every colour of a drawn frame, keeping bold, underline and italics; what stood out by
/// its background (the selection, badges, key hints) is shown reversed instead.
pub fn strip_colors(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        let had_bg = cell.bg != Color::Reset;
        cell.set_fg(Color::Reset);
        cell.set_bg(Color::Reset);
        if had_bg {
            cell.modifier.insert(Modifier::REVERSED);
        }
    }
}
