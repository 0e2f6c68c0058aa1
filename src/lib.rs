//! memscope: a terminal UI for exploring the memory of AI agents.
//!
//! Wiring: cli → config → logging → backend task → UI loop → restore. See README
//! ("Architecture") and DESIGN.md §1.

pub mod app;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod embed;
pub mod error;
pub mod filter;
pub mod headless;
pub mod health;
pub mod keymap;
pub mod keytree;
pub mod lru;
pub mod memory;
pub mod message;
pub mod search;
pub mod store;
pub mod tabs;
pub mod text;
pub mod tiers;
pub mod trace;
pub mod ui;

use app::{App, Msg};
use clap::Parser;
use color_eyre::eyre::{Result, WrapErr, eyre};
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
        crossterm::execute!(out, crossterm::terminal::EnterAlternateScreen, crossterm::event::EnableBracketedPaste)?;
        let terminal = ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(out))?;
        Ok(TerminalGuard { terminal: std::mem::ManuallyDrop::new(terminal) })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = directories::ProjectDirs::from("", "", "memscope")?.data_dir().to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "memscope.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEMSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

/// How a command failed, for the one exit-code table ([`exit_code`]).
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or configuration: nothing was tried.
    Usage(String),
    /// A store, file or service failed while the command ran.
    Failed(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Failed(m) => f.write_str(m),
        }
    }
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Failure {
        Failure::Usage(e.to_string())
    }
}

impl From<headless::HeadlessError> for Failure {
    fn from(e: headless::HeadlessError) -> Failure {
        match e {
            headless::HeadlessError::Usage(m) => Failure::Usage(m),
            other => Failure::Failed(other.to_string()),
        }
    }
}

impl From<color_eyre::eyre::Report> for Failure {
    fn from(e: color_eyre::eyre::Report) -> Failure {
        Failure::Failed(format!("{e:#}"))
    }
}

impl From<demo::DemoError> for Failure {
    fn from(e: demo::DemoError) -> Failure {
        Failure::Failed(e.to_string())
    }
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Failure {
        Failure::Failed(e.to_string())
    }
}

/// The exit code of a failure: the one table behind README's "Exit codes". `health` keeps
/// 0–3 for its levels and says 4 for anything else; `audit` keeps 0/1 for clean/drift and says
/// 2 for an error; every other command says 2 for bad usage or configuration, 1 for a failure.
pub fn exit_code(cmd: Option<&cli::Cmd>, f: &Failure) -> u8 {
    use cli::Cmd;
    match (cmd, f) {
        (Some(Cmd::Health { .. }), _) => 4,
        (Some(Cmd::Audit { .. }), _) => 2,
        (_, Failure::Usage(_)) => 2,
        (_, Failure::Failed(_)) => 1,
    }
}

/// Entry point of the binary: every error becomes one plain `error: SOURCE: what` line on
/// stderr (made safe for a terminal; no colour, no backtrace) and the exit code of the table.
pub fn run() -> std::process::ExitCode {
    // Panics keep color-eyre's report (the terminal guard restores the screen first).
    let _ = color_eyre::install();
    let cli = cli::Cli::parse();
    let _log = init_logging();
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let cmd = cli.command.as_ref().map(clone_cmd_kind);
    match rt.block_on(run_cli(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(f) => {
            // One `error:` line; a message that lists several problems (an import's bad lines)
            // keeps one line each, every line made safe for a terminal.
            let msg = f.to_string();
            let mut lines = msg.lines();
            eprintln!("error: {}", text::sanitize_str(lines.next().unwrap_or_default()));
            for l in lines {
                eprintln!("{}", text::sanitize_str(l));
            }
            std::process::ExitCode::from(exit_code(cmd.as_ref(), &f))
        }
    }
}

/// Which command ran, for the exit-code table (the parsed command is consumed by `run_cli`).
fn clone_cmd_kind(c: &cli::Cmd) -> cli::Cmd {
    use cli::Cmd;
    match c {
        Cmd::Health { .. } => Cmd::Health { json: false, watch: false },
        Cmd::Audit { .. } => Cmd::Audit { json: false, repair: false, dry_run: false, yes: false, settle_ms: 0 },
        _ => Cmd::Tui,
    }
}

/// The `[keymap]` overrides are valid and leave every action reachable (error: file and key).
fn check_keymap(cfg: &config::Config) -> Result<(), Failure> {
    keymap::Keymap::new(&cfg.keymap).map(|_| ()).map_err(|e| {
        let file = cfg.file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
        Failure::Usage(format!("{file}: {e}"))
    })
}

async fn run_cli(cli: cli::Cli) -> Result<u8, Failure> {
    let ov = config::Overrides {
        config: cli.config.clone(),
        profile: cli.profile.clone(),
        redis_url: cli.redis_url.clone(),
        write: cli.write,
    };
    use cli::{Cmd, ConfigCmd, ModelCmd};
    let load = |ov: &config::Overrides| -> Result<config::Config, Failure> {
        let mut cfg = config::load(ov)?;
        check_keymap(&cfg)?;
        if let Some(p) = &cli.record {
            // Fail early and clearly when the file cannot be written.
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| Failure::Usage(format!("--record {}: {e}", p.display())))?;
            cfg.health.record = Some(p.clone());
        }
        Ok(cfg)
    };
    match cli.command {
        Some(Cmd::Demo { write_embeddings: Some(path), .. }) => {
            let plan = demo::long_term_plan(&demo::fixture()?, demo::CONVERSATIONS, 0);
            let model = embed::local::MiniLm::load(None)?;
            let n = demo::write_precomputed(&path, &demo::vector_items(&plan), &model).await?;
            println!("wrote {n} embeddings to {}", path.display());
            Ok(0)
        }
        Some(Cmd::Demo { no_tui, firestore_emulator, .. }) => {
            run_demo(load(&ov)?, no_tui, firestore_emulator).await?;
            Ok(0)
        }
        Some(Cmd::Health { json, watch }) => Ok(headless::health(&load(&ov)?, json, watch).await?),
        Some(Cmd::Search { text, top_k, namespace, filter, json }) => {
            headless::search(&load(&ov)?, &text, top_k, namespace, filter, json).await?;
            Ok(0)
        }
        Some(Cmd::Index { file, namespace, batch }) => {
            headless::index(&load(&ov)?, &file, namespace, batch).await?;
            Ok(0)
        }
        Some(Cmd::Import { file, dry_run, batch }) => {
            headless::import(&load(&ov)?, &file, dry_run, batch).await?;
            Ok(0)
        }
        Some(Cmd::Audit { json, repair, dry_run, yes, settle_ms }) => {
            Ok(headless::audit(&load(&ov)?, json, repair, dry_run, yes, settle_ms).await?)
        }
        Some(Cmd::Model { command }) => {
            let dir = match command {
                ModelCmd::Fetch => tokio::task::spawn_blocking(embed::local::fetch_with_pip)
                    .await
                    .map_err(|e| Failure::Failed(e.to_string()))?,
                ModelCmd::Where => embed::local::find_model(None),
            }?;
            println!("{}", dir.display());
            Ok(0)
        }
        Some(Cmd::Config { command: ConfigCmd::Check }) => {
            let cfg = config::load(&ov)?;
            print!("{}", cfg.report());
            check_keymap(&cfg)?;
            Ok(0)
        }
        Some(Cmd::Keys { pattern, key_type, long, json }) => {
            headless::keys(&load(&ov)?, &pattern, key_type.as_deref(), long, json).await?;
            Ok(0)
        }
        Some(Cmd::Tui) | None => {
            run_tui(load(&ov)?).await?;
            Ok(0)
        }
    }
}

async fn run_demo(mut cfg: config::Config, no_tui: bool, firestore_emulator: bool) -> Result<()> {
    eprintln!("memscope demo: starting a private redis-server…");
    let server = tokio::task::spawn_blocking(|| demo::PrivateRedis::start(&[])).await??;
    eprintln!("memscope demo: private redis-server at {} (stopped when memscope exits)", server.url());
    let plan = demo::seed_plan(&demo::fixture()?, demo::CONVERSATIONS)?;
    store::redis::apply_seed(&server.url(), &plan).await.map_err(|e| eyre!("seeding the demo failed: {e}"))?;
    // Long-term tier: an embedded SQLite file in the same temp dir, unless one is configured.
    let lt_dir = demo::private_dir("demo");
    let _cleanup = RemoveOnDrop(lt_dir.clone());
    // The newest conversation ends a few minutes ago.
    let now = domain::Ts::now().secs;
    let lt_plan = demo::long_term_plan(&demo::fixture()?, demo::CONVERSATIONS, now - 60 * 3600 - 10_500);
    // Kept until the demo ends (dropping it stops the emulator).
    let mut _emulator = None;
    // Only a long-term store the demo makes itself is seeded; a configured one is left alone.
    let own_long_term = cfg.long_term.is_none();
    if cfg.long_term.is_none() && firestore_emulator {
        eprintln!("memscope demo: starting a private Firestore emulator (about 10 s)…");
        let emu = tokio::task::spawn_blocking(demo::PrivateEmulator::start).await??;
        eprintln!("memscope demo: Firestore emulator at {} (stopped when memscope exits)", emu.host);
        cfg.long_term = Some(config::LongTermConfig::Firestore {
            project_id: "memscope-demo".into(),
            database_id: "(default)".into(),
            emulator_host: Some(emu.host.clone()),
        });
        _emulator = Some(emu);
    }
    if cfg.long_term.is_none() {
        std::fs::create_dir_all(&lt_dir)?;
        let path = lt_dir.join("memory.db").display().to_string();
        cfg.long_term = Some(config::LongTermConfig::Sqlite { path });
    }
    // The demo's own long-term store, seeded (connected through `tiers` like any other).
    if own_long_term {
        let seeded = tiers::long_term(&cfg, store::Access::ReadWrite).await.map_err(|e| eyre!("{e}"))?;
        seeded.put_many(lt_plan.clone()).await.map_err(|e| eyre!("seeding the demo failed: {e}"))?;
    }
    // Vector tier: an embedded index of the demo's messages with the local model, when the model
    // is installed. Embeddings are cached in the data dir, so only the first start computes them.
    if cfg.vector.is_none() {
        match seed_demo_vectors(&lt_dir, &lt_plan).await {
            Ok(path) => {
                cfg.vector = Some(config::VectorConfig::local(Some(path)));
                cfg.embedding.get_or_insert(config::EmbeddingConfig {
                    provider: "local".into(),
                    model: None,
                    base_url: None,
                    model_dir: None,
                    dimensions: None,
                    api_key: None,
                });
            }
            Err(e) => eprintln!("memscope demo: no vector tier ({e})"),
        }
    }
    let mut rc = cfg.redis.take().unwrap_or_else(|| config::RedisConfig::new(server.url()));
    rc.url = server.url();
    cfg.redis = Some(rc);
    cfg.profile = "demo".into();
    // The demo's agents: the memory layer on the same stack (its writes go to the private
    // server and the demo's own files only), with short cache TTLs so hits and misses mix.
    let mut agent_cfg = cfg.clone();
    agent_cfg.memory.cache_ttl_s = 20;
    agent_cfg.memory.lru_ttl_s = 5;
    agent_cfg.memory.vsearch_ttl_s = 30;
    let traffic = match memory::Memory::from_config(&agent_cfg, true).await {
        Ok(mem) => {
            let convs: Vec<String> = (1..=demo::CONVERSATIONS).map(|i| format!("conv-{i:04}")).collect();
            // Recent lists as the layer writes them, from the long-term store.
            if let Err(e) = mem.rebuild_recent(&convs).await {
                eprintln!("memscope demo: could not build the recent lists ({e})");
            }
            Some(tokio::spawn(demo::simulate(std::sync::Arc::new(mem), server.url(), convs.len())))
        }
        Err(e) => {
            eprintln!("memscope demo: no simulated traffic ({e})");
            None
        }
    };
    if no_tui {
        println!("{}", server.url());
        println!("memscope demo: Redis seeded with {} writes; Ctrl-C stops it.", plan.len());
        wait_for_signal().await;
    } else {
        run_tui(cfg).await?;
    }
    if let Some(t) = traffic {
        t.abort();
    }
    drop(server);
    Ok(())
}

async fn seed_demo_vectors(dir: &std::path::Path, plan: &[(String, Vec<(String, domain::FsValue)>)]) -> Result<String> {
    // Queries need the model: without it there is no vector tier (say how to get it).
    embed::local::find_model(None).map_err(|e| eyre!("{e}"))?;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("vectors.db").display().to_string();
    let (_, embedded) = demo::seed_vectors(&path, demo::vector_items(plan), || {
        eprintln!("memscope demo: embedding demo texts missing from assets/demo_embeddings.bin…");
        embed::local::MiniLm::load(None).map(|m| Box::new(m) as Box<dyn embed::Embedder>)
    })
    .await
    .map_err(|e| eyre!("{e}"))?;
    if embedded > 0 {
        eprintln!("memscope demo: embedded {embedded} texts (regenerate assets/demo_embeddings.bin to skip this)");
    }
    Ok(path)
}

/// Removes a directory when dropped (also while unwinding from a panic).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
    tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
}

/// The UI loop. Its only `.await` is the `select!` for the next event; every store call runs
/// in the backend task.
pub async fn run_tui(cfg: config::Config) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    tracing::info!(profile = %cfg.profile, read_only = cfg.read_only, "memscope UI starting");
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
        .map(|d| d.data_dir().join("state").join(format!("search-{}.json", cfg.profile.replace(['/', '\\'], "_"))));
    if let Some(v) =
        state_file.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).and_then(|t| serde_json::from_str(&t).ok())
    {
        app.search.restore(&v);
    }
    let send = |cmds: Vec<message::Command>| {
        for c in cmds {
            let _ = backend.commands.send(c);
        }
    };
    send(app.init());
    let mut events = EventStream::new();
    let start = Instant::now();
    // Lets the end-to-end tests prove the terminal is restored on panic.
    let test_panic = std::env::var_os("MEMSCOPE_TEST_PANIC").is_some();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        if app.dirty {
            guard.terminal.draw(|f| ui::draw(f, &app))?;
            app.dirty = false;
            if test_panic && !app.keys.index.is_empty() {
                panic!("MEMSCOPE_TEST_PANIC: panicking on purpose with the terminal in raw mode");
            }
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Paste(s))) => Msg::Paste(s),
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
        send(app.update(msg));
        // Drain what the backend queued before drawing, but bounded so keys stay responsive.
        for _ in 0..256 {
            match backend.events.try_recv() {
                Ok(ev) => send(app.update(Msg::Backend(ev))),
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
