//! memscope: a terminal UI for exploring the memory of AI agents.
//!
//! Wiring: cli → config → logging → backend task → UI loop → restore. The flow and the source
//! map, floor by floor: `docs/architecture.md`.

pub mod analysis;
pub mod app;
pub mod audit;
pub mod backend;
pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod domain;
pub mod embed;
pub mod error;
pub mod filter;
pub mod headless;
pub mod health;
pub mod keymap;
pub mod keytree;
pub mod layout;
pub mod lru;
pub mod memory;
pub mod message;
pub mod msgpack;
pub mod replay;
pub mod search;
pub mod server_report;
pub mod store;
pub mod tabs;
pub mod text;
pub mod tiers;
pub mod trace;
pub mod tui;
pub mod ui;

use color_eyre::eyre::Result;

fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = directories::ProjectDirs::from("", "", "memscope")?.data_dir().to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let file = open_private(&dir.join("memscope.log")).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEMSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}

/// Open a file for appending that only its owner can read (the log may name keys, hosts and
/// errors the servers sent): created mode 0600, and an older one made 0600 too.
fn open_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let file = opts.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    opts.open(path)
}

/// How a command failed, for the one exit-code table ([`exit_code`]).
#[derive(Debug)]
pub enum Failure {
    /// Bad arguments or configuration: nothing was tried.
    Usage(String),
    /// A store, file or service failed while the command ran.
    Failed(String),
    /// Whoever read the output went away (`| head -1`): nothing to say, nobody to say it to.
    ClosedPipe,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Failed(m) => f.write_str(m),
            Failure::ClosedPipe => f.write_str("the output's reader closed the pipe"),
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
            headless::HeadlessError::Store(e) => e.into(),
            headless::HeadlessError::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Failure::ClosedPipe,
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
        match e {
            // A store that is not there or not memscope's: the configuration is at fault.
            store::StoreError::NotConfigured(_) | store::StoreError::Invalid(_) => Failure::Usage(e.to_string()),
            e => Failure::Failed(e.to_string()),
        }
    }
}

/// The exit code of a failure: the one table behind `docs/commands.md`'s "Errors and exit codes". `health` keeps
/// 0–3 for its levels and says 4 for anything else; `audit` keeps 0/1 for clean/drift and says
/// 2 for an error; every other command says 2 for bad usage or configuration, 1 for a failure.
pub fn exit_code(cmd: Option<&cli::Cmd>, f: &Failure) -> u8 {
    use cli::Cmd;
    match (cmd, f) {
        (Some(Cmd::Health { .. }), _) => 4,
        (Some(Cmd::Audit { .. }), _) => 2,
        (_, Failure::Usage(_)) => 2,
        (_, Failure::Failed(_)) => 1,
        (_, Failure::ClosedPipe) => 141,
    }
}

/// Large blocks (a sort's figures of a million keys, its order) go back to the system when
/// freed. glibc raises its mmap threshold to the size of each large block freed, so the next
/// ones come from the heap and stay there: three sorts of 1M keys left RSS 73 → 111 MB. A fixed
/// 1 MiB threshold keeps it at 66 MB after every sort (`cargo bench --bench main -- sort_keypress`).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called first, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// A closed pipe (`memscope audit | head -1`) ends memscope quietly, as it ends `cat`: by the
/// default SIGPIPE action. Rust ignores SIGPIPE, so a write to the closed stdout fails — an
/// error a command returns ([`Failure::ClosedPipe`]) or, from `println!`, a panic ("failed
/// printing to stdout: Broken pipe"); both end here. The signal's default is not restored for
/// the whole process: a write to a closed unix socket must stay an error, not a kill.
fn die_of_closed_pipe() -> ! {
    #[cfg(unix)]
    // SAFETY: the default action for one signal, then that signal to ourselves.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

fn quiet_on_closed_pipe() {
    let next = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p.downcast_ref::<String>().map(String::as_str).or_else(|| p.downcast_ref::<&str>().copied());
        if msg.is_some_and(|m| m.starts_with("failed printing to std") && m.contains("Broken pipe")) {
            die_of_closed_pipe();
        }
        next(info)
    }));
}

/// clap's error (2–6 lines: the error, its items, a tip, the usage, a pointer to --help) as one
/// line: `error: what: items (usage: memscope CMD …)`.
fn one_line_usage_error(clap_text: &str) -> String {
    let mut lines = clap_text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut out = lines.next().unwrap_or("error: bad arguments").trim_end_matches(':').to_string();
    let mut items = Vec::new();
    let mut usage = None;
    for l in lines {
        if let Some(u) = l.strip_prefix("Usage: ") {
            usage = Some(u.to_string());
        } else if !l.starts_with("For more information") {
            items.push(l);
        }
    }
    if !items.is_empty() {
        out.push_str(": ");
        out.push_str(&items.join(", "));
    }
    if let Some(u) = usage {
        out.push_str(&format!(" (usage: {u})"));
    }
    out
}

/// Entry point of the binary: every error becomes one plain `error: SOURCE: what` line on
/// stderr (made safe for a terminal; no colour, no backtrace) and the exit code of the table.
pub fn run() -> std::process::ExitCode {
    return_freed_memory();
    // Panics keep color-eyre's report (the terminal guard restores the screen first).
    let _ = color_eyre::install();
    quiet_on_closed_pipe();
    let cli = match cli::Cli::try_parse_args(std::env::args_os()) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version: clap prints them, exit 0
        Err(e) => {
            eprintln!("{}", one_line_usage_error(&e.to_string()));
            return std::process::ExitCode::from(2);
        }
    };
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
        Err(Failure::ClosedPipe) => die_of_closed_pipe(),
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
        Cmd::Health { .. } => Cmd::Health { json: false, watch: false, record: None },
        Cmd::Audit { .. } => Cmd::Audit {
            json: false,
            repair: false,
            dry_run: false,
            yes: false,
            settle_ms: 0,
            write: false,
            vectors: false,
        },
        _ => Cmd::Tui { write: false, record: None },
    }
}

/// The `[keymap]` overrides are valid and leave every action reachable (error: file and key).
fn check_keymap(cfg: &config::Config) -> Result<(), Failure> {
    keymap::Keymap::new(&cfg.keymap).map(|_| ()).map_err(|e| {
        let file = cfg.file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "config".into());
        Failure::Usage(format!("{file}: {e}"))
    })
}

async fn run_cli(mut cli: cli::Cli) -> Result<u8, Failure> {
    use cli::{Cmd, ConfigCmd, ModelCmd};
    // A flag a command would ignore is refused, never silently dropped.
    let (acts_write, acts_record, name) = match &cli.command {
        None | Some(Cmd::Tui { .. }) => (true, true, "the UI"),
        Some(Cmd::Demo { .. }) => (true, true, "demo"),
        Some(Cmd::Health { .. }) => (false, true, "health"),
        Some(Cmd::Audit { .. }) => (true, false, "audit"),
        Some(Cmd::Import { .. }) => (true, false, "import"),
        Some(Cmd::Index { .. }) => (true, false, "index"),
        Some(Cmd::Keys { .. }) => (false, false, "keys"),
        Some(Cmd::Value { .. }) => (false, false, "value"),
        Some(Cmd::Top { .. }) => (false, false, "top"),
        Some(Cmd::Search { .. }) => (false, false, "search"),
        Some(Cmd::Conversations { .. }) => (false, false, "conversations"),
        Some(Cmd::Show { .. }) => (false, false, "show"),
        Some(Cmd::Detect { .. }) => (false, false, "detect"),
        Some(Cmd::Model { .. }) => (false, false, "model"),
        Some(Cmd::Config { .. }) => (false, false, "config"),
        Some(Cmd::Analyze { .. }) => (false, false, "analyze"),
        Some(Cmd::Server { .. }) => (false, false, "server"),
        Some(Cmd::Replay { .. }) => (false, false, "replay"),
    };
    if cli.write && !acts_write {
        return Err(Failure::Usage(format!("--write: `{name}` only reads; the flag does not apply to it")));
    }
    if cli.record.is_some() && !acts_record {
        return Err(Failure::Usage(format!(
            "--record: `{name}` takes no health samples (the UI, `health` and `demo` do)"
        )));
    }
    if cli.redis_url.is_some() && matches!(cli.command, Some(Cmd::Demo { .. }) | Some(Cmd::Model { .. })) {
        return Err(Failure::Usage(format!(
            "--redis-url: `{name}` does not use your Redis ({}); remove the flag",
            if name == "demo" { "the demo starts its own private server" } else { "it reads no store" }
        )));
    }
    // The flags given after the command's name count as well.
    match &cli.command {
        Some(Cmd::Tui { write, record } | Cmd::Demo { write, record, .. }) => {
            cli.write |= *write;
            cli.record = cli.record.take().or(record.clone());
        }
        Some(Cmd::Health { record, .. }) => cli.record = cli.record.take().or(record.clone()),
        Some(Cmd::Audit { write, .. } | Cmd::Import { write, .. } | Cmd::Index { write, .. }) => cli.write |= *write,
        _ => {}
    }
    let ov = config::Overrides {
        config: cli.config.clone(),
        profile: cli.profile.clone(),
        redis_url: cli.redis_url.clone(),
        write: cli.write,
    };
    let finish = |mut cfg: config::Config| -> Result<config::Config, Failure> {
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
    let load = |ov: &config::Overrides| finish(config::load(ov)?);
    match cli.command {
        Some(Cmd::Demo { write_embeddings: Some(path), .. }) => {
            let plan = demo::long_term_plan(&demo::fixture()?, demo::CONVERSATIONS, 0);
            let model = embed::local::MiniLm::load(None)?;
            let n = demo::write_precomputed(&path, &demo::vector_items(&plan), &model).await?;
            println!("wrote {n} embeddings to {}", path.display());
            Ok(0)
        }
        Some(Cmd::Demo { no_tui, firestore_emulator, .. }) => {
            let (cfg, ignored) = demo::sandbox(&ov, &|k| std::env::var(k).ok())?;
            if let Some(line) = demo::ignored_line(&ignored) {
                eprintln!("{line}");
            }
            demo::run_demo(finish(cfg)?, no_tui, firestore_emulator).await?;
            Ok(0)
        }
        Some(Cmd::Health { json, watch, .. }) => Ok(headless::health(&load(&ov)?, json, watch).await?),
        Some(Cmd::Search { text, top_k, namespace, filter, json, recall }) => {
            headless::search(&load(&ov)?, &text, top_k, namespace, filter, json, recall).await?;
            Ok(0)
        }
        Some(Cmd::Index { file, namespace, batch, .. }) => {
            headless::index(&load(&ov)?, &file, namespace, batch).await?;
            Ok(0)
        }
        Some(Cmd::Import { file, dry_run, batch, .. }) => {
            headless::import(&load(&ov)?, &file, dry_run, batch).await?;
            Ok(0)
        }
        Some(Cmd::Audit { json, vectors: true, .. }) => Ok(headless::audit_vectors(&load(&ov)?, json).await?),
        Some(Cmd::Audit { json, repair, dry_run, yes, settle_ms, .. }) => {
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
        Some(Cmd::Conversations { filter, json }) => {
            headless::conversations(&load(&ov)?, filter.as_deref(), json).await?;
            Ok(0)
        }
        Some(Cmd::Analyze { pattern, json, max_ops_per_sec, top, save, compare }) => {
            let args = headless::AnalyzeArgs { pattern, json, max_ops_per_sec, top, save, compare };
            Ok(headless::analyze(&load(&ov)?, args).await?)
        }
        Some(Cmd::Server { json, sort }) => Ok(headless::server(&load(&ov)?, json, &sort).await?),
        Some(Cmd::Replay { file, summary, json }) => {
            let cfg = load(&ov)?;
            if summary || json {
                headless::replay_summary(&cfg, &file, json)?;
                return Ok(0);
            }
            // The recording is read before the UI starts (a file, not a store), then the UI
            // runs on it with no store at all.
            let (t, keep) = (cfg.health.thresholds.clone(), cfg.health.window_s * 1000);
            let cursor = tokio::task::spawn_blocking(move || replay::load(&file, &t, keep))
                .await
                .map_err(|e| Failure::Failed(e.to_string()))?
                .map_err(Failure::Usage)?;
            tui::run_tui_with(cfg.without_stores(), false, Some(cursor)).await?;
            Ok(0)
        }
        Some(Cmd::Detect { json }) => Ok(headless::detect(&load(&ov)?, json).await?),
        Some(Cmd::Show { conversation, json, checkpoints: false, checkpoint }) => {
            headless::show(&load(&ov)?, &conversation, checkpoint.as_deref(), json).await?;
            Ok(0)
        }
        Some(Cmd::Show { conversation, json, checkpoints: true, .. }) => {
            headless::checkpoints(&load(&ov)?, &conversation, json).await?;
            Ok(0)
        }
        Some(Cmd::Top { seconds, max_lines, filter, json }) => {
            Ok(headless::top(&load(&ov)?, seconds, max_lines, filter.as_deref(), json).await?)
        }
        Some(Cmd::Value { key, format, json, max_elements }) => {
            Ok(headless::value(&load(&ov)?, &key, format.as_deref(), json, max_elements).await?)
        }
        Some(Cmd::Keys { pattern, key_type, long, json, node_only }) => {
            headless::keys(&load(&ov)?, &pattern, key_type.as_deref(), long, json, node_only).await?;
            Ok(0)
        }
        Some(Cmd::Tui { .. }) | None => {
            tui::run_tui(load(&ov)?).await?;
            Ok(0)
        }
    }
}
