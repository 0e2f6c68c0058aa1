//! The live profiler's tables, from MONITOR's lines (run in the backend, never the UI thread):
//! commands by count and rate, keys by rate with their namespace (the hot keys), clients by
//! rate with their names, commands by server time (INFO commandstats, counted since the
//! session began), and a tail filterable by command, key glob and client. memscope's own
//! connections are left out (counted). Where the server has them, HOTKEYS and INFO KEYSIZES are
//! kept beside, each table saying which source it came from.

use crate::domain::{HotKeys, KeySizes, MonitorLine, ServerReport};
use serde_json::json;
use std::collections::{HashMap, HashSet, VecDeque};

/// Lines kept for the tail (the filter looks through them).
pub const TAIL_KEPT: usize = 5_000;
/// Rows per table.
pub const ROWS: usize = 20;

/// What the tail shows: lines whose command, key and client match (empty: any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TailFilter {
    pub command: String,
    pub key_glob: String,
    pub client: String,
}

impl TailFilter {
    /// `cmd:get key:user:* client:10.0.0.5` (any order; a bare word is a command).
    pub fn parse(s: &str) -> TailFilter {
        let mut f = TailFilter::default();
        for w in s.split_whitespace() {
            match w.split_once(':') {
                Some(("cmd" | "command", v)) => f.command = v.to_ascii_lowercase(),
                Some(("key", v)) => f.key_glob = v.to_string(),
                Some(("client", v)) => f.client = v.to_string(),
                _ => f.command = w.to_ascii_lowercase(),
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.command.is_empty() && self.key_glob.is_empty() && self.client.is_empty()
    }

    fn matches(&self, l: &MonitorLine, name: Option<&str>) -> bool {
        (self.command.is_empty() || l.command() == self.command)
            && (self.key_glob.is_empty() || l.keys().iter().any(|k| glob(self.key_glob.as_bytes(), k)))
            && (self.client.is_empty()
                || l.client.contains(&self.client)
                || name.is_some_and(|n| n.contains(&self.client)))
    }
}

/// Redis's glob: `*`, `?`, and `\` escaping the next byte.
pub fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(b'\\'), Some(c)) if p.get(1) == Some(c) => glob(&p[2..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// One row of a table: what, how many in the session, per second.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub name: String,
    /// A key's namespace (`session:*`), a client's name.
    pub note: String,
    pub count: u64,
    pub per_s: f64,
}

/// What the view and `memscope top` show, taken every half second.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileSnapshot {
    pub elapsed_s: f64,
    pub lines: u64,
    /// memscope's own commands, left out.
    pub own_left_out: u64,
    pub per_s: f64,
    pub commands: Vec<Row>,
    /// By server time since the session began (INFO commandstats): name, calls, µs.
    pub commands_by_time: Vec<(String, u64, u64)>,
    pub keys: Vec<Row>,
    pub distinct_keys: usize,
    /// Commands and clients seen (the tables show the top [`ROWS`]).
    pub distinct_commands: usize,
    pub distinct_clients: usize,
    pub clients: Vec<Row>,
    /// Lines per node (a cluster's masters).
    pub nodes: Vec<(String, u64)>,
    /// The tail, oldest first, made safe to print.
    pub tail: Vec<String>,
    /// The same lines as data (`:export`, `top --json`): time, node, db, client and its name,
    /// each argument as text or base64.
    pub tail_data: Vec<serde_json::Value>,
    pub tail_filter: TailFilter,
    pub hot: Option<HotKeys>,
    pub sizes: Vec<KeySizes>,
    /// Why the session ended (None while it runs).
    pub stopped: Option<String>,
}

#[derive(Default)]
pub struct Profiler {
    delimiter: String,
    first_ts: Option<f64>,
    last_ts: f64,
    lines: u64,
    own: u64,
    own_addrs: HashSet<String>,
    names: HashMap<String, String>,
    commands: HashMap<String, u64>,
    keys: HashMap<Vec<u8>, u64>,
    clients: HashMap<String, u64>,
    nodes: HashMap<String, u64>,
    tail: VecDeque<MonitorLine>,
    /// INFO commandstats per node and command at the first reading, and now.
    stats_base: HashMap<(String, String), (u64, u64)>,
    stats_now: HashMap<(String, String), (u64, u64)>,
    pub hot: Option<HotKeys>,
    pub sizes: Vec<KeySizes>,
}

impl Profiler {
    pub fn new(delimiter: &str) -> Profiler {
        Profiler { delimiter: delimiter.to_string(), ..Default::default() }
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// One MONITOR line; memscope's own connections are counted and left out.
    pub fn push(&mut self, l: MonitorLine) {
        if self.own_addrs.contains(&l.client) {
            self.own += 1;
            return;
        }
        self.lines += 1;
        self.first_ts.get_or_insert(l.ts);
        self.last_ts = self.last_ts.max(l.ts);
        *self.commands.entry(l.command()).or_default() += 1;
        for k in l.keys() {
            // A key is counted once per command that names it.
            match self.keys.get_mut(k) {
                Some(n) => *n += 1,
                None => {
                    self.keys.insert(k.to_vec(), 1);
                }
            }
        }
        *self.clients.entry(l.client.clone()).or_default() += 1;
        if !l.node.is_empty() {
            *self.nodes.entry(l.node.clone()).or_default() += 1;
        }
        if self.tail.len() >= TAIL_KEPT {
            self.tail.pop_front();
        }
        self.tail.push_back(l);
    }

    /// The servers' clients (names, memscope's own connections) and command counters.
    pub fn observe(&mut self, reports: &[ServerReport]) {
        for r in reports {
            let node = r.node.clone().unwrap_or_default();
            for c in &r.clients {
                if c.this {
                    self.own_addrs.insert(c.addr.clone());
                } else if !c.name.is_empty() {
                    self.names.insert(c.addr.clone(), c.name.clone());
                }
            }
            for s in &r.commands {
                let k = (node.clone(), s.name.clone());
                self.stats_base.entry(k.clone()).or_insert((s.calls, s.usec));
                self.stats_now.insert(k, (s.calls, s.usec));
            }
        }
    }

    pub fn snapshot(&self, elapsed_s: f64, filter: &TailFilter, tail_rows: usize) -> ProfileSnapshot {
        let secs = elapsed_s.max(0.001);
        let top = |m: &HashMap<String, u64>, note: &dyn Fn(&str) -> String| -> Vec<Row> {
            let mut v: Vec<(&String, &u64)> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.into_iter()
                .take(ROWS)
                .map(|(k, n)| Row {
                    name: crate::text::sanitize_str(k),
                    note: note(k),
                    count: *n,
                    per_s: *n as f64 / secs,
                })
                .collect()
        };
        let mut keys: Vec<(&Vec<u8>, &u64)> = self.keys.iter().collect();
        keys.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let keys = keys
            .into_iter()
            .take(ROWS)
            .map(|(k, n)| {
                let text = String::from_utf8_lossy(k);
                let ns =
                    super::namespaces_of(&text, &self.delimiter, 2).pop().map(|p| format!("{p}*")).unwrap_or_default();
                Row {
                    name: crate::text::sanitize_line(k),
                    note: crate::text::sanitize_str(&ns),
                    count: *n,
                    per_s: *n as f64 / secs,
                }
            })
            .collect();
        let mut by_time: HashMap<String, (u64, u64)> = HashMap::new();
        for (k, now) in &self.stats_now {
            let base = self.stats_base.get(k).copied().unwrap_or(*now);
            let e = by_time.entry(k.1.clone()).or_default();
            e.0 += now.0.saturating_sub(base.0);
            e.1 += now.1.saturating_sub(base.1);
        }
        let mut by_time: Vec<(String, u64, u64)> =
            by_time.into_iter().filter(|(_, (c, _))| *c > 0).map(|(n, (c, u))| (n, c, u)).collect();
        by_time.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        by_time.truncate(ROWS);
        let mut nodes: Vec<(String, u64)> = self.nodes.iter().map(|(k, v)| (k.clone(), *v)).collect();
        nodes.sort();
        let shown: Vec<&MonitorLine> = self
            .tail
            .iter()
            .rev()
            .filter(|l| filter.matches(l, self.names.get(&l.client).map(String::as_str)))
            .take(tail_rows)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let tail = shown.iter().map(|l| self.tail_line(l)).collect();
        let tail_data = shown.iter().map(|l| self.tail_json(l)).collect();
        ProfileSnapshot {
            elapsed_s,
            lines: self.lines,
            own_left_out: self.own,
            per_s: self.lines as f64 / secs,
            commands: top(&self.commands, &|_| String::new()),
            commands_by_time: by_time,
            keys,
            distinct_keys: self.keys.len(),
            distinct_commands: self.commands.len(),
            distinct_clients: self.clients.len(),
            clients: top(&self.clients, &|addr| self.names.get(addr).cloned().unwrap_or_default()),
            nodes,
            tail,
            tail_data,
            tail_filter: filter.clone(),
            hot: self.hot.clone(),
            sizes: self.sizes.clone(),
            stopped: None,
        }
    }

    /// A tail line as data: the arguments as stored (UTF-8 text, else base64), never escaped.
    fn tail_json(&self, l: &MonitorLine) -> serde_json::Value {
        use base64::Engine;
        let args: Vec<serde_json::Value> = l
            .args
            .iter()
            .map(|a| match std::str::from_utf8(a) {
                Ok(t) => json!(t),
                Err(_) => json!({"base64": base64::engine::general_purpose::STANDARD.encode(a)}),
            })
            .collect();
        json!({"ts": l.ts, "node": l.node, "db": l.db, "client": l.client,
               "client_name": self.names.get(&l.client), "args": args})
    }

    /// A tail line: time, client (and its name), the command and its arguments, made safe.
    fn tail_line(&self, l: &MonitorLine) -> String {
        let secs = l.ts.rem_euclid(86_400.0);
        let (h, m, s) = ((secs / 3600.0) as u32, ((secs % 3600.0) / 60.0) as u32, secs % 60.0);
        let who = match self.names.get(&l.client) {
            Some(n) => format!("{} ({n})", l.client),
            None => l.client.clone(),
        };
        let args: Vec<String> =
            l.args.iter().take(8).map(|a| crate::text::truncate(&crate::text::sanitize_line(a), 60)).collect();
        let more = if l.args.len() > 8 { format!(" … {} more", l.args.len() - 8) } else { String::new() };
        let node = if l.node.is_empty() { String::new() } else { format!("{} ", l.node) };
        format!("{h:02}:{m:02}:{s:06.3} {node}{} {}{more}", crate::text::sanitize_str(&who), args.join(" "))
    }
}

/// A session's bounds: it stops at whichever comes first (or when the caller drops it).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub seconds: u64,
    pub max_lines: u64,
    pub delimiter: String,
    /// Tail lines per snapshot.
    pub tail_rows: usize,
}

/// What MONITOR costs, said before a session starts.
pub const COST_WARNING: &str = "MONITOR streams every command the server runs to memscope: on a busy server it can cost \
     a large share of its throughput while it runs";

/// How often a snapshot is taken, and the server counters read.
pub const SNAPSHOT_MS: u64 = 500;
pub const OBSERVE_MS: u64 = 2_000;

/// The tables as text (also the Keys tab's `:profile` view).
pub fn lines(s: &ProfileSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    let top = |n: usize| if n > ROWS { format!(", the top {ROWS} shown") } else { String::new() };
    let table = |out: &mut Vec<String>, title: &str, rows: &[Row]| {
        out.push(title.to_string());
        for r in rows {
            let note = if r.note.is_empty() { String::new() } else { format!("  {}", r.note) };
            out.push(format!("  {:>9.1}/s {:>9}  {}{note}", r.per_s, r.count, crate::text::truncate(&r.name, 80)));
        }
        if rows.is_empty() {
            out.push("  (none yet)".into());
        }
    };
    out.push(format!(
        "{} commands in {:.1} s ({:.0}/s) · memscope's own {} left out{}",
        s.lines,
        s.elapsed_s,
        s.per_s,
        s.own_left_out,
        s.stopped.as_ref().map(|w| format!(" · {w}")).unwrap_or_default()
    ));
    table(
        &mut out,
        &format!("commands by rate (MONITOR; {} kinds{}):", s.distinct_commands, top(s.distinct_commands)),
        &s.commands,
    );
    out.push(format!("commands by server time since the start (INFO commandstats, every client; at most {ROWS}):"));
    for (n, c, u) in &s.commands_by_time {
        out.push(format!("  {:>9} µs {:>9} calls  {:>7.1} µs/call  {n}", u, c, *u as f64 / (*c).max(1) as f64));
    }
    table(
        &mut out,
        &format!("hot keys by rate (MONITOR; {} distinct{}):", s.distinct_keys, top(s.distinct_keys)),
        &s.keys,
    );
    table(
        &mut out,
        &format!(
            "clients by rate (MONITOR; {}{}; names from CLIENT LIST):",
            s.distinct_clients,
            top(s.distinct_clients)
        ),
        &s.clients,
    );
    if s.nodes.len() > 1 {
        out.push("per node:".into());
        out.extend(s.nodes.iter().map(|(n, c)| format!("  {c:>9}  {n}")));
    }
    match &s.hot {
        Some(h) => {
            out.push(format!("hot keys by server CPU (HOTKEYS, {} ms tracked; at most {ROWS}):", h.duration_ms));
            out.extend(
                h.by_cpu_us.iter().take(ROWS).map(|(k, us)| format!("  {us:>9} µs  {}", crate::text::sanitize_str(k))),
            );
        }
        None => out
            .push("server-side hot keys: this server has no HOTKEYS (Redis 8.6+); the table above is MONITOR's".into()),
    }
    if !s.sizes.is_empty() {
        out.push("key sizes (INFO KEYSIZES, no scan):".into());
        for k in &s.sizes {
            let b: Vec<String> =
                k.buckets.iter().map(|(b, n)| format!("≥{}:{n}", crate::text::human_bytes(*b))).collect();
            out.push(format!("  db{} {}  {}", k.db, k.kind, b.join(" ")));
        }
    }
    out
}

fn rows_json(rows: &[Row]) -> serde_json::Value {
    rows.iter().map(|r| json!({"name": r.name, "note": r.note, "count": r.count, "per_s": r.per_s})).collect()
}

pub fn snapshot_json(s: &ProfileSnapshot) -> serde_json::Value {
    json!({
        "seconds": s.elapsed_s,
        "commands_seen": s.lines,
        "per_s": s.per_s,
        "memscope_own_left_out": s.own_left_out,
        "stopped": s.stopped,
        "source": "MONITOR (commands, keys, clients); INFO commandstats (server time)",
        "commands": rows_json(&s.commands),
        "distinct_commands": s.distinct_commands,
        "distinct_clients": s.distinct_clients,
        "commands_by_time": s.commands_by_time.iter().map(|(n, c, u)| json!({"name": n, "calls": c, "usec": u})).collect::<Vec<_>>(),
        "keys": rows_json(&s.keys),
        "distinct_keys": s.distinct_keys,
        "clients": rows_json(&s.clients),
        "nodes": s.nodes.iter().map(|(n, c)| json!({"node": n, "commands": c})).collect::<Vec<_>>(),
        "hotkeys": s.hot.as_ref().map(|h| json!({
            "source": "HOTKEYS GET",
            "by_cpu_us": h.by_cpu_us, "by_net_bytes": h.by_net_bytes, "duration_ms": h.duration_ms,
        })),
        "keysizes": s.sizes.iter().map(|k| json!({"source": "INFO KEYSIZES", "db": k.db, "kind": k.kind, "buckets": k.buckets})).collect::<Vec<_>>(),
        "tail": s.tail_data,
    })
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run a profiling session on `store`: MONITOR on its own task, the clients and command
/// counters read every [`OBSERVE_MS`], HOTKEYS where the server has it; `each` gets a snapshot
/// every [`SNAPSHOT_MS`]. Returns the last one, with why it stopped.
pub async fn session(
    store: std::sync::Arc<dyn crate::store::KeyStore>,
    limits: Limits,
    filter: std::sync::Arc<std::sync::Mutex<TailFilter>>,
    mut each: impl FnMut(ProfileSnapshot) + Send,
) -> ProfileSnapshot {
    use std::sync::{Arc, Mutex};
    let t0 = std::time::Instant::now();
    let p = Arc::new(Mutex::new(Profiler::new(&limits.delimiter)));
    // memscope's own connections must be known before the first line.
    let observe = |p: &Arc<Mutex<Profiler>>, r: &[ServerReport]| {
        if let Ok(mut g) = p.lock() {
            g.observe(r);
        }
    };
    if let Ok(r) = store.server_report().await {
        observe(&p, &r);
    }
    let hotkeys = store.hotkeys_start(limits.seconds).await.unwrap_or(false);
    if let Ok(sizes) = store.key_sizes().await
        && let Ok(mut g) = p.lock()
    {
        g.sizes = sizes;
    }
    let budget_spent = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (pm, spent, st) = (p.clone(), budget_spent.clone(), store.clone());
    let max = limits.max_lines;
    // Dropped (Esc, the caller gone): the MONITOR connection closes with it.
    let mut monitor = AbortOnDrop(tokio::spawn(async move {
        st.monitor(&mut |l| {
            let Ok(mut g) = pm.lock() else { return false };
            g.push(l);
            let more = g.lines() < max;
            if !more {
                spent.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            more
        })
        .await
    }));
    let snap = |p: &Arc<Mutex<Profiler>>| {
        let f = filter.lock().map(|f| f.clone()).unwrap_or_default();
        p.lock().map(|g| g.snapshot(t0.elapsed().as_secs_f64(), &f, limits.tail_rows)).unwrap_or_default()
    };
    let mut last_observe = std::time::Instant::now();
    let stopped = loop {
        tokio::time::sleep(std::time::Duration::from_millis(SNAPSHOT_MS)).await;
        if monitor.0.is_finished() {
            break match (&mut monitor.0).await {
                _ if budget_spent.load(std::sync::atomic::Ordering::SeqCst) => {
                    format!("stopped at the line budget ({} commands)", limits.max_lines)
                }
                Ok(Err(e)) => format!("stopped: {e}"),
                _ => "stopped: MONITOR ended".to_string(),
            };
        }
        if t0.elapsed().as_secs() >= limits.seconds {
            monitor.0.abort();
            break format!("stopped at the time limit ({} s)", limits.seconds);
        }
        if last_observe.elapsed().as_millis() as u64 >= OBSERVE_MS {
            last_observe = std::time::Instant::now();
            if let Ok(r) = store.server_report().await {
                observe(&p, &r);
            }
            if hotkeys
                && let Ok(h) = store.hotkeys().await
                && let Ok(mut g) = p.lock()
            {
                g.hot = h;
            }
        }
        each(snap(&p));
    };
    // The last counters, and the server's hot keys for the whole session.
    if let Ok(r) = store.server_report().await {
        observe(&p, &r);
    }
    if hotkeys {
        if let Ok(h) = store.hotkeys().await
            && let Ok(mut g) = p.lock()
        {
            g.hot = h;
        }
        store.hotkeys_stop().await;
    }
    let mut last = snap(&p);
    last.stopped = Some(stopped);
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_monitor_line;

    #[test]
    fn tables_count_commands_keys_and_clients_and_leave_memscope_out() {
        let mut p = Profiler::new(":");
        let mut own = ServerReport::default();
        own.clients.push(crate::domain::ClientInfo { addr: "127.0.0.1:9".into(), this: true, ..Default::default() });
        own.clients.push(crate::domain::ClientInfo {
            addr: "10.0.0.5:1".into(),
            name: "agent-api".into(),
            ..Default::default()
        });
        p.observe(&[own]);
        for l in [
            r#"100.0 [0 10.0.0.5:1] "GET" "session:42:ctx""#,
            r#"100.5 [0 10.0.0.5:1] "GET" "session:42:ctx""#,
            r#"101.0 [0 10.0.0.6:2] "SET" "rate:u1" "3""#,
            r#"101.0 [0 127.0.0.1:9] "SCAN" "0""#,
        ] {
            p.push(parse_monitor_line("", l).unwrap());
        }
        let s = p.snapshot(2.0, &TailFilter::default(), 10);
        assert_eq!((s.lines, s.own_left_out), (3, 1));
        assert_eq!((s.commands[0].name.as_str(), s.commands[0].count, s.commands[0].per_s), ("get", 2, 1.0));
        assert_eq!((s.keys[0].name.as_str(), s.keys[0].note.as_str()), ("session:42:ctx", "session:*:*"));
        assert_eq!((s.clients[0].name.as_str(), s.clients[0].note.as_str()), ("10.0.0.5:1", "agent-api"));
        assert_eq!(s.tail.len(), 3);
        let f = TailFilter::parse("key:rate:* client:10.0.0.6");
        let s = p.snapshot(2.0, &f, 10);
        assert!(s.tail.len() == 1 && s.tail[0].contains("SET rate:u1 3"), "{:?}", s.tail);
        let s = p.snapshot(2.0, &TailFilter::parse("cmd:get client:agent-api"), 10);
        assert_eq!(s.tail.len(), 2, "a client by its name: {:?}", s.tail);
        assert!(glob(b"user:*:ctx", b"user:1:ctx") && !glob(b"user:?", b"user:10"));
    }
}
