//! Headless commands, one file each: plain text by default, JSON with `--json`. Exit codes come
//! from the one table in `lib.rs` (`exit_code`).

mod analyze;
mod audit;
mod conversations;
mod health;
mod import;
mod index;
mod keys;
mod search;
mod server;
mod top;
mod value;

pub use analyze::{Args as AnalyzeArgs, analyze};
pub use audit::{audit, audit_vectors};
pub use conversations::{checkpoints, conversations, detect, show};
pub use health::{health, replay_summary};
pub use import::{import, read_import};
pub use index::index;
pub use keys::keys;
pub use search::search;
pub use server::server;
pub use top::top;
pub use value::value;

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    Store(#[from] crate::error::StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Usage(String),
}

fn vector_cfg(cfg: &Config) -> Result<&crate::config::VectorConfig, HeadlessError> {
    cfg.vector.as_ref().ok_or_else(|| {
        HeadlessError::Usage(
            "the vector tier is not configured: set [profile.NAME.vector] (backend = \"local\" or \"pinecone\"), or PINECONE_API_KEY with PINECONE_INDEX".into(),
        )
    })
}

/// Writes need write mode: say how to ask for it.
fn refuse_read_only(cfg: &Config, what: &str) -> Result<(), HeadlessError> {
    if cfg.read_only {
        return Err(HeadlessError::Usage(format!(
            "{what} of profile `{}`, which is read-only: rerun with --write (or set read_only = false){}",
            cfg.profile,
            if what.starts_with("import") { ", or see first what it would do with --dry-run" } else { "" }
        )));
    }
    Ok(())
}

/// A progress line on stderr: redrawn in place on a terminal (at most 10 times a second),
/// one line per phase otherwise.
pub struct ProgressLine {
    tty: bool,
    last: Option<std::time::Instant>,
    phase: String,
}

impl ProgressLine {
    pub fn new() -> ProgressLine {
        use std::io::IsTerminal;
        ProgressLine { tty: std::io::stderr().is_terminal(), last: None, phase: String::new() }
    }
    pub fn show(&mut self, phase: &str, line: &str) {
        if self.tty {
            if self.last.is_some_and(|t| t.elapsed().as_millis() < 100) {
                return;
            }
            self.last = Some(std::time::Instant::now());
            eprint!("\r\x1b[2K{line}");
        } else if phase != self.phase || self.last.is_none_or(|t| t.elapsed().as_secs() >= 10) {
            // Logs get a line per phase and one every 10 s, not a line per update.
            self.last = Some(std::time::Instant::now());
            eprintln!("{line}");
        }
        self.phase = phase.to_string();
    }
    pub fn done(&mut self) {
        if self.tty && self.last.is_some() {
            eprintln!();
        }
        self.last = None;
    }
}

impl Default for ProgressLine {
    fn default() -> Self {
        Self::new()
    }
}

fn bar(done: u64, total: u64) -> String {
    let w = 24usize;
    let filled = if total == 0 { w } else { ((done as f64 / total as f64) * w as f64).round() as usize }.min(w);
    format!("[{}{}]", "#".repeat(filled), ".".repeat(w - filled))
}
