//! `memscope server [--json] [--sort idle|memory|command]`: who is doing what to Redis — the
//! slow log, the clients, the commands by calls and by time, the latency events of every node.

use super::HeadlessError;
use crate::config::Config;
use crate::server_report::ClientSort;
use crate::text;
use std::io::Write;

pub async fn server(cfg: &Config, json: bool, sort: &str) -> Result<u8, HeadlessError> {
    let sort = match sort {
        "idle" => ClientSort::Idle,
        "memory" | "omem" => ClientSort::OutputMemory,
        "command" | "cmd" => ClientSort::Command,
        other => {
            return Err(HeadlessError::Usage(format!(
                "--sort {}: expected idle, memory or command",
                text::sanitize_str(other)
            )));
        }
    };
    let nodes = crate::tiers::redis(cfg, None)?.server_report().await?;
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    if json {
        let v = serde_json::to_string(&nodes).map_err(|e| HeadlessError::Usage(e.to_string()))?;
        writeln!(o, "{}", text::json_safe(v))?;
    } else {
        for (_, l) in crate::server_report::report(&nodes, sort, 50) {
            writeln!(o, "{l}")?;
        }
    }
    // A part a server refused (ACL, disabled command) is named in the output and exits 1.
    Ok(if nodes.iter().any(|n| !n.errors.is_empty()) { 1 } else { 0 })
}
