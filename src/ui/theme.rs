//! Colours and styles, in one place.

use ratatui::style::{Color, Modifier, Style};

pub fn title() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}
pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}
pub fn label() -> Style {
    Style::new().fg(Color::Yellow)
}
pub fn warn() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}
pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}
pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}
pub fn selected() -> Style {
    Style::new().bg(Color::DarkGray).add_modifier(Modifier::BOLD)
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
