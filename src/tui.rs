//! The terminal: a guard that restores it on exit, panic and signals, and the UI loop (events
//! in, `App::update`, commands to the backend, `ui::draw` once per drained batch).

use crate::app::{App, Msg};
use crate::{backend, config, domain, message, ui};
use color_eyre::eyre::{Result, WrapErr};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use std::io::Write;
use std::time::{Duration, Instant};

/// Puts the terminal into raw mode + alternate screen and restores it when dropped, which
/// also happens while unwinding from a panic; the panic hook restores it before printing.
pub struct TerminalGuard {
    /// Never dropped: ratatui's drop prints to stderr when it cannot show the cursor, and with
    /// the terminal gone (a closed tmux, a dropped ssh) that print panics inside the exit path.
    /// `restore_terminal` shows the cursor instead.
    pub terminal: std::mem::ManuallyDrop<ratatui::Terminal<ratatui::backend::CrosstermBackend<std::io::Stdout>>>,
}

pub fn restore_terminal() {
    // Nothing here may panic: it also runs from the panic hook and with the terminal gone.
    let _ = crossterm::terminal::disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(
        out,
        crossterm::event::DisableBracketedPaste,
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

impl TerminalGuard {
    pub fn enter() -> Result<TerminalGuard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            hook(info);
        }));
        crossterm::terminal::enable_raw_mode()
            .wrap_err("cannot put the terminal into raw mode (is stdin a terminal?)")?;
        let mut out = std::io::stdout();
        crossterm::execute!(
            out,
            crossterm::terminal::EnterAlternateScreen,
            crossterm::event::EnableBracketedPaste,
            crossterm::event::EnableMouseCapture
        )?;
        let terminal = ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(out))?;
        Ok(TerminalGuard { terminal: std::mem::ManuallyDrop::new(terminal) })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

pub async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
}

/// The UI loop. Its only `.await` is the `select!` for the next event; every store call runs
/// in the backend task.
pub async fn run_tui(cfg: config::Config) -> Result<()> {
    run_tui_with(cfg, true, None).await
}

/// The UI loop; `keep_state`: the search parameters of the profile are restored at start and
/// saved at exit (not for the demo, which starts fresh every time); `replay`: a recording the
/// Health tab opens on (`memscope replay FILE`).
pub async fn run_tui_with(cfg: config::Config, keep_state: bool, replay: Option<crate::replay::Cursor>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    tracing::info!(profile = %cfg.profile, read_only = cfg.read_only, "memscope UI starting");
    crate::ui::theme::set_high_contrast(cfg.theme == "high-contrast");
    let mut guard = TerminalGuard::enter()?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut backend = backend::spawn(cfg.clone());
    let size = guard.terminal.size()?;
    let mut app = App::new(&cfg, (size.width, size.height));
    app.conversations.wall_start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| domain::Ts::from_micros(d.as_micros() as i64));
    // Search parameters are kept per profile.
    let state_file = directories::ProjectDirs::from("", "", "memscope")
        .filter(|_| keep_state)
        .map(|d| d.data_dir().join("state").join(format!("search-{}.json", cfg.profile.replace(['/', '\\'], "_"))));
    match state_file.as_deref().map(load_state) {
        Some(Ok(Some(v))) => app.search.restore(&v),
        Some(Err(e)) => app.set_status(e, true),
        _ => {}
    }
    let send = |cmds: Vec<message::Command>| {
        for c in cmds {
            let _ = backend.commands.send(c);
        }
    };
    send(app.init());
    if let Some(rec) = replay {
        app.open_replay(rec);
    }
    let mut events = EventStream::new();
    let start = Instant::now();
    // Lets the end-to-end tests prove the terminal is restored on panic.
    let test_panic = std::env::var_os("MEMSCOPE_TEST_PANIC").is_some();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if app.dirty {
            let mut drawn = app.geometry;
            let t = Instant::now();
            guard.terminal.draw(|f| drawn = ui::draw(f, &app))?;
            slow("draw", t);
            tracing::debug!("frame drawn");
            app.dirty = false;
            // The lists page by the rows this frame gave them (a change redraws at once).
            send(app.update(Msg::Layout(drawn)));
            // `y`: the clipboard, through the terminal (works over ssh and in tmux with
            // set-clipboard on).
            if let Some(text) = app.clipboard.take() {
                use std::io::Write;
                let out = guard.terminal.backend_mut();
                let _ = write!(out, "{}", osc52(&text));
                let _ = out.flush();
            }
            if test_panic && !app.keys.index.is_empty() {
                panic!("MEMSCOPE_TEST_PANIC: panicking on purpose with the terminal in raw mode");
            }
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Paste(s))) => Msg::Paste(s),
                Some(Ok(Event::Mouse(m))) => Msg::Mouse(m),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => Msg::Quit,
            },
            Some(ev) = backend.events.recv() => Msg::Backend(ev),
            _ = tick.tick() => Msg::Tick(start.elapsed().as_millis() as u64),
            _ = sigterm.recv() => Msg::Quit,
            _ = sigint.recv() => Msg::Quit,
            _ = sighup.recv() => Msg::Quit,
        };
        let (kind, t) = (msg_kind(&msg), Instant::now());
        if kind == "key" {
            tracing::debug!("key received");
        }
        send(app.update(msg));
        slow(kind, t);
        // Drain what the backend queued before drawing, but bounded so keys stay responsive.
        for _ in 0..256 {
            match backend.events.try_recv() {
                Ok(ev) => {
                    let (kind, t) = (event_kind(&ev), Instant::now());
                    send(app.update(Msg::Backend(ev)));
                    slow(kind, t);
                }
                Err(_) => break,
            }
        }
        if app.should_quit {
            break;
        }
    }
    drop(backend.commands);
    backend.task.abort();
    drop(guard);
    if let Some(p) = state_file
        && app.search.configured
    {
        let _ = p.parent().map(std::fs::create_dir_all);
        if let Err(e) = std::fs::write(&p, app.search.saved().to_string()) {
            tracing::warn!(error = %e, "could not save the search parameters");
        }
    }
    Ok(())
}

/// A step of the UI loop over a frame's budget (16 ms), logged (`MEMSCOPE_LOG=info`) with
/// what it handled: where a slow keypress → frame comes from.
fn slow(kind: &str, t: Instant) {
    let ms = t.elapsed().as_secs_f64() * 1e3;
    if ms > 16.0 {
        tracing::info!(step = kind, ms = format!("{ms:.1}"), "slow UI step");
    }
}

fn msg_kind(m: &Msg) -> &'static str {
    match m {
        Msg::Key(_) => "key",
        Msg::Mouse(_) => "mouse",
        Msg::Paste(_) => "paste",
        Msg::Resize(..) => "resize",
        Msg::Tick(_) => "tick",
        Msg::Layout(_) => "layout",
        Msg::Quit => "quit",
        Msg::Backend(e) => event_kind(e),
    }
}

fn event_kind(e: &message::BackendEvent) -> &'static str {
    use message::BackendEvent as E;
    match e {
        E::Conn(..) => "conn",
        E::Health(..) => "health",
        E::Redis(..) => "redis",
        E::LongTerm(..) => "long-term",
        E::Vector(..) => "vector",
        E::Memory(..) => "memory",
        E::File(..) => "file",
    }
}

/// The OSC 52 sequence that sets the clipboard to `text` (base64; BEL-terminated).
pub fn osc52(text: &str) -> String {
    use base64::Engine;
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
}

/// A saved state file (JSON): None when there is none. One that cannot be read as JSON is
/// reported and set aside (renamed `….corrupt-SECONDS`), never silently reset, so that what it
/// held can still be looked at.
pub fn load_state(path: &std::path::Path) -> std::result::Result<Option<serde_json::Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("could not read {}: {e}", path.display())),
    };
    match serde_json::from_str(&text) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let secs =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let aside = path.with_extension(format!("json.corrupt-{secs}"));
            let moved = std::fs::rename(path, &aside).map(|_| format!("set aside as {}", aside.display()));
            Err(format!(
                "{} is not valid JSON ({e}); {} — search settings start from the defaults",
                path.display(),
                moved.unwrap_or_else(|e| format!("could not be set aside: {e}"))
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_corrupt_state_file_is_reported_and_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("search-default.json");
        assert_eq!(super::load_state(&p), Ok(None), "no file: nothing to restore");
        std::fs::write(&p, "{\"top_k\": 20}").unwrap();
        assert_eq!(super::load_state(&p), Ok(Some(serde_json::json!({"top_k": 20}))));
        std::fs::write(&p, "{\"top_k\": 2").unwrap();
        let e = super::load_state(&p).unwrap_err();
        assert!(e.contains("not valid JSON") && e.contains("set aside as"), "{e}");
        assert!(!p.exists(), "moved away, not left to be overwritten");
        let aside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(), "{\"top_k\": 2", "kept as it was");
    }
}
