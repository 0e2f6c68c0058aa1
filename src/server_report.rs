//! Who is doing what to Redis, during an incident: the slow log, the clients, the commands by
//! calls and by time, the latency events — of every node. One text for `memscope server` and
//! the Keys tab's `:server` view (which refreshes it on an interval).

use crate::domain::{ClientInfo, ServerReport, Ts};
use crate::text;

/// How the clients are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientSort {
    /// Longest idle first (connections left open).
    #[default]
    Idle,
    /// Most output-buffer memory first (slow readers, big replies).
    OutputMemory,
    /// By last command, then idle.
    Command,
}

impl ClientSort {
    pub fn next(self) -> ClientSort {
        match self {
            ClientSort::Idle => ClientSort::OutputMemory,
            ClientSort::OutputMemory => ClientSort::Command,
            ClientSort::Command => ClientSort::Idle,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ClientSort::Idle => "idle",
            ClientSort::OutputMemory => "output memory",
            ClientSort::Command => "command",
        }
    }
}

/// How a line is meant to stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    Heading,
    Normal,
    Dim,
    Warn,
}

/// The commands memscope itself sends (browsing, an analysis or a sort sends TYPE, PTTL and
/// MEMORY USAGE per key; every probe INFO, PING, SLOWLOG): Redis counts them per command, not
/// per client, so their rows are marked, not split.
const SENT_BY_MEMSCOPE: &[&str] = &[
    "scan",
    "type",
    "pttl",
    "memory|usage",
    "info",
    "ping",
    "slowlog|get",
    "slowlog|len",
    "client|list",
    "client|setname",
    "client|setinfo",
    "latency|latest",
    "dbsize",
    "select",
    "hscan",
    "sscan",
    "zscan",
    "xrange",
    "xrevrange",
    "lrange",
    "llen",
    "hlen",
    "scard",
    "zcard",
    "xlen",
    "strlen",
    "getrange",
    "get",
    "hmget",
    "hgetall",
    "zrange",
    "pfcount",
    "json.get",
    "json.type",
    "json.objlen",
    "json.arrlen",
    "json.objkeys",
    "object|encoding",
    "cluster|info",
    "cluster|nodes",
    "cluster|shards",
    "cluster|slots",
    "sentinel|get-master-addr-by-name",
    "ft._list",
    "ft.info",
    "eval",
    "evalsha",
    "script|load",
];

fn ours(command: &str) -> &'static str {
    if SENT_BY_MEMSCOPE.contains(&command) { "*" } else { " " }
}

/// A command's total time, never rounded to nothing: `234 ms`, `12.3 s`, then minutes on.
fn command_time(usec: u64) -> String {
    match usec {
        0..1_000 => format!("{usec} µs"),
        1_000..1_000_000 => format!("{} ms", usec / 1000),
        1_000_000..60_000_000 => format!("{:.1} s", usec as f64 / 1e6),
        _ => text::human_ms((usec / 1000) as i64),
    }
}

fn sorted(clients: &[ClientInfo], sort: ClientSort) -> Vec<&ClientInfo> {
    let mut c: Vec<&ClientInfo> = clients.iter().collect();
    match sort {
        ClientSort::Idle => c.sort_by(|a, b| b.idle_s.cmp(&a.idle_s).then(a.id.cmp(&b.id))),
        ClientSort::OutputMemory => c.sort_by(|a, b| b.omem.cmp(&a.omem).then(a.id.cmp(&b.id))),
        ClientSort::Command => c.sort_by(|a, b| a.cmd.cmp(&b.cmd).then(b.idle_s.cmp(&a.idle_s))),
    }
    c
}

/// The report, a line each: every node's slow log (newest first), clients (sorted), top
/// commands by calls and by time, latency events. `limit` rows per section.
pub fn report(nodes: &[ServerReport], sort: ClientSort, limit: usize) -> Vec<(Emphasis, String)> {
    use Emphasis::*;
    let mut out = Vec::new();
    let clock = |s: i64| Ts { secs: s, nanos: 0 }.to_rfc3339();
    for n in nodes {
        if let Some(addr) = &n.node {
            out.push((Heading, format!("NODE {}", text::sanitize_str(addr))));
        }
        for e in &n.errors {
            out.push((Warn, format!("not read: {e}")));
        }
        out.push((
            Heading,
            format!(
                "SLOW LOG ({} entries on the server, the newest {} shown; * marks memscope's own)",
                n.slowlog_len,
                n.slowlog.len().min(limit)
            ),
        ));
        if n.slowlog.is_empty() {
            out.push((Dim, "  empty".into()));
        }
        for e in n.slowlog.iter().take(limit) {
            let who =
                if e.client_name.is_empty() { e.client.clone() } else { format!("{} ({})", e.client, e.client_name) };
            // memscope's own commands (an analysis fills the slow log) are marked and dimmed.
            let ours = e.client_name == "memscope";
            out.push((
                if ours {
                    Dim
                } else if e.micros >= 100_000 {
                    Warn
                } else {
                    Normal
                },
                format!(
                    "{} {}  {:>9.1} ms  {:<22} {}",
                    if ours { "*" } else { " " },
                    clock(e.at),
                    e.micros as f64 / 1000.0,
                    who,
                    e.command
                ),
            ));
        }
        out.push((
            Heading,
            format!(
                "CLIENTS ({}, {} shown, by {}; * marks memscope's own)",
                n.clients.len(),
                n.clients.len().min(limit),
                sort.name()
            ),
        ));
        out.push((
            Dim,
            format!(
                "  {:>8} {:<22} {:<16} {:>8} {:>8} {:>3} {:>10} {:<16} {}",
                "ID", "ADDR", "NAME", "AGE", "IDLE", "DB", "OUT MEM", "LAST CMD", "FLAGS"
            ),
        ));
        for c in sorted(&n.clients, sort).into_iter().take(limit) {
            let mark = if c.this { "*" } else { " " };
            out.push((
                if c.omem > 1 << 20 { Warn } else { Normal },
                format!(
                    "{mark} {:>8} {:<22} {:<16} {:>8} {:>8} {:>3} {:>10} {:<16} {}",
                    c.id,
                    c.addr,
                    text::truncate(&c.name, 16),
                    text::human_ms(c.age_s as i64 * 1000),
                    text::human_ms(c.idle_s as i64 * 1000),
                    c.db,
                    text::human_bytes(c.omem),
                    text::truncate(&c.cmd, 16),
                    c.flags
                ),
            ));
        }
        let mut by_calls: Vec<_> = n.commands.iter().collect();
        by_calls.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.name.cmp(&b.name)));
        let top = limit.min(15).min(by_calls.len());
        out.push((
            Heading,
            format!(
                "COMMANDS BY CALLS (top {top} of {}, since the start or CONFIG RESETSTAT; * memscope sends it too)",
                by_calls.len()
            ),
        ));
        for c in by_calls.iter().take(limit.min(15)) {
            out.push((
                Normal,
                format!(
                    "{} {:<28} {:>14} calls {:>10.2} µs/call {:>8} failed",
                    ours(&c.name),
                    c.name,
                    c.calls,
                    c.usec_per_call,
                    c.failed
                ),
            ));
        }
        let mut by_time = by_calls.clone();
        by_time.sort_by(|a, b| b.usec.cmp(&a.usec).then(a.name.cmp(&b.name)));
        out.push((Heading, format!("COMMANDS BY TIME (top {top} of {})", by_time.len())));
        for c in by_time.iter().take(limit.min(15)) {
            out.push((
                Normal,
                format!(
                    "{} {:<28} {:>14} total {:>10.2} µs/call {:>14} calls",
                    ours(&c.name),
                    c.name,
                    command_time(c.usec),
                    c.usec_per_call,
                    c.calls
                ),
            ));
        }
        out.push((Heading, "LATENCY EVENTS (LATENCY LATEST; needs latency-monitor-threshold > 0)".into()));
        if n.latency.is_empty() {
            out.push((Dim, "  none recorded".into()));
        }
        for l in &n.latency {
            out.push((
                Normal,
                format!("  {:<24} latest {:>6} ms at {}  max {:>6} ms", l.event, l.latest_ms, clock(l.at), l.max_ms),
            ));
        }
        out.push((Normal, String::new()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_memscope_sends_are_marked() {
        assert_eq!(ours("memory|usage"), "*");
        assert_eq!(ours("pttl"), "*");
        assert_eq!(ours("set"), " ");
    }

    #[test]
    fn command_time_is_never_rounded_to_nothing() {
        assert_eq!(command_time(234_000), "234 ms");
        assert_eq!(command_time(740), "740 µs");
        assert_eq!(command_time(12_345_678), "12.3 s");
        assert_eq!(command_time(3_600_000_000), "1h 00m");
    }

    fn client(id: u64, idle: u64, omem: u64, cmd: &str) -> ClientInfo {
        ClientInfo {
            id,
            addr: format!("127.0.0.1:{id}"),
            name: String::new(),
            age_s: 10,
            idle_s: idle,
            db: 0,
            cmd: cmd.into(),
            omem,
            tot_mem: None,
            flags: "N".into(),
            this: cmd == "client|list",
        }
    }

    #[test]
    fn clients_sort_by_idle_memory_or_command_and_memscope_is_marked() {
        let n = ServerReport {
            clients: vec![client(1, 5, 0, "get"), client(2, 500, 0, "blpop"), client(3, 0, 4 << 20, "client|list")],
            ..Default::default()
        };
        let ids = |s: ClientSort| -> Vec<u64> { sorted(&n.clients, s).iter().map(|c| c.id).collect() };
        assert_eq!(ids(ClientSort::Idle), [2, 1, 3]);
        assert_eq!(ids(ClientSort::OutputMemory), [3, 1, 2]);
        assert_eq!(ids(ClientSort::Command), [2, 3, 1]);
        let r = report(&[n], ClientSort::Idle, 50);
        let mine = r.iter().find(|(_, l)| l.contains("client|list")).unwrap();
        assert!(mine.1.starts_with('*') && mine.0 == Emphasis::Warn, "{mine:?}");
    }
}
