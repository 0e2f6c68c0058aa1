//! Drawing the Conversations tab: list, thread (with side panel) and document browser.
//! Each view draws only what fits on screen.

mod browser;
mod list;
mod thread;
mod trace;

use crate::domain::{ConnState, Message, Ts, TsForm};
use crate::tabs::conversations::{
    BrowserLevel, COLLAPSE_LINES, ConversationsTab, FieldLine, Thread, TierMarks, TraceView, View,
};
use crate::{text, ui::theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

fn relative(t: Option<Ts>, now: Option<Ts>) -> String {
    match (t, now) {
        (Some(t), Some(now)) => {
            let d = now.secs - t.secs;
            if d < 0 { "in the future".into() } else { format!("{} ago", text::human_ms(d * 1000)) }
        }
        _ => String::new(),
    }
}

fn role_style(role: &str) -> Style {
    let c = match role {
        "user" => Color::Cyan,
        "assistant" => Color::Green,
        "system" => Color::Magenta,
        "tool" => Color::Yellow,
        _ => Color::Gray,
    };
    Style::new().fg(c).add_modifier(Modifier::BOLD)
}

/// Draws the tab; returns the rows of the list it shows (conversations, messages or documents),
/// a page, and sets `top` to the screen row of the list's first entry (a mouse click picks a
/// row by it).
pub fn render(
    f: &mut Frame,
    area: Rect,
    tab: &ConversationsTab,
    conn: &ConnState,
    label: Option<&str>,
    top: &mut u16,
    drawn: &mut Option<(usize, usize, usize, usize)>,
) -> usize {
    *drawn = None;
    match tab.view {
        View::List => list::render_list(f, area, tab, conn, label, top),
        View::Thread => match &tab.thread {
            Some(t) => thread::render_thread(f, area, tab, t, drawn),
            None => list::render_list(f, area, tab, conn, label, top),
        },
        View::Browser => browser::render_browser(f, area, tab),
    }
}
