//! The live profiler's facts: a MONITOR line, the server's own counters (INFO commandstats),
//! and the server-side sources where a server has them — `HOTKEYS GET` (Redis 8.6+) and `INFO
//! KEYSIZES` histograms (Redis 8) — each parsed from the documented output.

/// One command as MONITOR reports it: `1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorLine {
    /// The node that saw it (its address; "" for a single server).
    pub node: String,
    /// Unix seconds with microseconds.
    pub ts: f64,
    pub db: u32,
    /// `127.0.0.1:60866`, `lua`, `unix:/tmp/redis.sock`.
    pub client: String,
    pub args: Vec<Vec<u8>>,
}

impl MonitorLine {
    /// The command's name, lower case.
    pub fn command(&self) -> String {
        self.args.first().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).unwrap_or_default()
    }

    /// The keys the command names, by the command's own rules (the common commands; any
    /// other's first argument).
    pub fn keys(&self) -> Vec<&[u8]> {
        let a = &self.args;
        let cmd = self.command();
        let rest = || a.iter().skip(1).map(Vec::as_slice);
        match cmd.as_str() {
            "ping" | "echo" | "info" | "client" | "config" | "select" | "auth" | "hello" | "command" | "multi"
            | "exec" | "discard" | "unwatch" | "script" | "function" | "dbsize" | "flushdb" | "flushall" | "time"
            | "monitor" | "subscribe" | "psubscribe" | "ssubscribe" | "unsubscribe" | "punsubscribe" | "publish"
            | "spublish" | "pubsub" | "scan" | "cluster" | "slowlog" | "latency" | "readonly" | "readwrite"
            | "quit" | "reset" | "lastsave" | "bgsave" | "save" | "role" | "replicaof" | "wait" | "acl" | "debug"
            | "module" | "hotkeys" | "randomkey" | "swapdb" | "failover" | "shutdown" => vec![],
            "memory" | "object" | "xinfo" | "xgroup" => a.get(2).map(|k| vec![k.as_slice()]).unwrap_or_default(),
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => {
                let n = a.get(2).and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok()).unwrap_or(0);
                a.iter().skip(3).take(n).map(Vec::as_slice).collect()
            }
            "mset" | "msetnx" => a.iter().skip(1).step_by(2).map(Vec::as_slice).collect(),
            "del" | "unlink" | "exists" | "touch" | "mget" | "watch" | "sinter" | "sunion" | "sdiff" | "pfcount"
            | "pfmerge" | "sintercard" => rest().collect(),
            "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => {
                let n = a.len().saturating_sub(2);
                rest().take(n).collect()
            }
            "xread" | "xreadgroup" => match a.iter().position(|x| x.eq_ignore_ascii_case(b"streams")) {
                Some(i) => {
                    let names = &a[i + 1..];
                    names[..names.len() / 2].iter().map(Vec::as_slice).collect()
                }
                None => vec![],
            },
            c if c.starts_with("ft.") => vec![],
            _ => a.get(1).map(|k| vec![k.as_slice()]).unwrap_or_default(),
        }
    }
}

/// A message a subscriber received.
#[derive(Debug, Clone, PartialEq)]
pub struct PubMessage {
    pub channel: String,
    pub payload: Vec<u8>,
    /// Unix milliseconds when it arrived.
    pub at_ms: u64,
}

/// A MONITOR line parsed; `None` for anything else (the `OK` reply, a truncated line).
pub fn parse_monitor_line(node: &str, line: &str) -> Option<MonitorLine> {
    let (ts, rest) = line.split_once(' ')?;
    let ts: f64 = ts.parse().ok()?;
    let rest = rest.strip_prefix('[')?;
    let (who, rest) = rest.split_once("] ")?;
    let (db, client) = who.split_once(' ')?;
    let db: u32 = db.parse().ok()?;
    Some(MonitorLine { node: node.to_string(), ts, db, client: client.to_string(), args: quoted_args(rest)? })
}

/// MONITOR's arguments: double-quoted, with `\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b` and
/// `\xNN` escapes (sdscatrepr's).
fn quoted_args(s: &str) -> Option<Vec<Vec<u8>>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            b'"' => {
                i += 1;
                let mut arg = Vec::new();
                loop {
                    let c = *b.get(i)?;
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = *b.get(i)?;
                            i += 1;
                            match e {
                                b'n' => arg.push(b'\n'),
                                b'r' => arg.push(b'\r'),
                                b't' => arg.push(b'\t'),
                                b'a' => arg.push(7),
                                b'b' => arg.push(8),
                                b'x' => {
                                    let h = std::str::from_utf8(b.get(i..i + 2)?).ok()?;
                                    arg.push(u8::from_str_radix(h, 16).ok()?);
                                    i += 2;
                                }
                                other => arg.push(other),
                            }
                        }
                        other => arg.push(other),
                    }
                }
                out.push(arg);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `INFO commandstats` (`cmdstat_get:calls=2,usec=15,usec_per_call=7.50,…`): each command's
/// counters since the server started (or CONFIG RESETSTAT). The one reader of the section: the
/// server view and the profiler share it.
pub fn parse_commandstats(info: &str) -> Vec<super::CommandStat> {
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().strip_prefix("cmdstat_")?.split_once(':')?;
            let kv: std::collections::HashMap<&str, &str> = rest.split(',').filter_map(|p| p.split_once('=')).collect();
            let n = |k: &str| kv.get(k).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
            Some(super::CommandStat {
                name: crate::text::sanitize_str(name),
                calls: n("calls"),
                usec: n("usec"),
                usec_per_call: kv.get("usec_per_call").and_then(|x| x.parse().ok()).unwrap_or(0.0),
                rejected: n("rejected_calls"),
                failed: n("failed_calls"),
            })
        })
        .collect()
}

/// One histogram of `INFO KEYSIZES` (Redis 8): `db0_distrib_strings_sizes:2=1,4=1,1K=3`,
/// the count of keys per power-of-two size bucket (bytes for strings, items for the others).
#[derive(Debug, Clone, PartialEq)]
pub struct KeySizes {
    pub db: u32,
    /// `strings_sizes`, `lists_items`, `sets_items`, `zsets_items`, `hashes_items`.
    pub kind: String,
    /// (the bucket's lower bound, how many keys).
    pub buckets: Vec<(u64, u64)>,
}

pub fn parse_keysizes(info: &str) -> Vec<KeySizes> {
    let bound = |s: &str| -> Option<u64> {
        let (n, mul) = match s.chars().last()? {
            'K' => (&s[..s.len() - 1], 1u64 << 10),
            'M' => (&s[..s.len() - 1], 1 << 20),
            'G' => (&s[..s.len() - 1], 1 << 30),
            'T' => (&s[..s.len() - 1], 1 << 40),
            'P' => (&s[..s.len() - 1], 1 << 50),
            _ => (s, 1),
        };
        n.parse::<u64>().ok().map(|n| n * mul)
    };
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(':')?;
            let (db, kind) = name.strip_prefix("db")?.split_once("_distrib_")?;
            let buckets = rest
                .split(',')
                .filter_map(|kv| {
                    let (b, n) = kv.split_once('=')?;
                    Some((bound(b)?, n.parse().ok()?))
                })
                .collect();
            Some(KeySizes { db: db.parse().ok()?, kind: kind.to_string(), buckets })
        })
        .collect()
}

/// What `HOTKEYS GET` (Redis 8.6+) answers: the top keys by CPU time and by network bytes
/// over its tracking session, and the session's totals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HotKeys {
    pub active: bool,
    pub duration_ms: u64,
    pub all_commands_us: u64,
    pub all_net_bytes: u64,
    pub by_cpu_us: Vec<(String, u64)>,
    pub by_net_bytes: Vec<(String, u64)>,
}

/// `HOTKEYS GET`'s reply as field/value pairs (strings, integers, arrays of key/value).
pub fn parse_hotkeys(pairs: &[(String, HotValue)]) -> HotKeys {
    let mut h = HotKeys::default();
    for (k, v) in pairs {
        match (k.as_str(), v) {
            ("tracking-active", HotValue::Int(n)) => h.active = *n != 0,
            ("collection-duration-ms", HotValue::Int(n)) => h.duration_ms = *n as u64,
            ("all-commands-all-slots-us", HotValue::Int(n)) => h.all_commands_us = *n as u64,
            ("net-bytes-all-commands-all-slots", HotValue::Int(n)) => h.all_net_bytes = *n as u64,
            ("by-cpu-time-us", HotValue::Pairs(p)) => h.by_cpu_us = p.clone(),
            ("by-net-bytes", HotValue::Pairs(p)) => h.by_net_bytes = p.clone(),
            _ => {}
        }
    }
    h
}

/// A value of `HOTKEYS GET`'s reply.
#[derive(Debug, Clone, PartialEq)]
pub enum HotValue {
    Int(i64),
    Text(String),
    Pairs(Vec<(String, u64)>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_lines_with_escapes_and_their_keys() {
        let l =
            parse_monitor_line("", r#"1339518083.107412 [0 127.0.0.1:60866] "SET" "user:1" "a \"b\"\x00\n""#).unwrap();
        assert_eq!((l.db, l.client.as_str(), l.command()), (0, "127.0.0.1:60866", "set".to_string()));
        assert_eq!(l.args[2], b"a \"b\"\x00\n");
        assert_eq!(l.keys(), vec![b"user:1".as_slice()]);
        let l = parse_monitor_line("", r#"1.5 [3 lua] "mset" "a" "1" "b" "2""#).unwrap();
        assert_eq!((l.db, l.client.as_str()), (3, "lua"));
        assert_eq!(l.keys(), vec![b"a".as_slice(), b"b"]);
        let l = parse_monitor_line("", r#"1.5 [0 unix:/tmp/r.sock] "evalsha" "abc" "2" "k1" "k2" "arg""#).unwrap();
        assert_eq!(l.keys(), vec![b"k1".as_slice(), b"k2"]);
        let l = parse_monitor_line("", r#"1.5 [0 1.2.3.4:5] "XREADGROUP" "GROUP" "g" "c" "STREAMS" "s1" "s2" ">" ">""#)
            .unwrap();
        assert_eq!(l.keys(), vec![b"s1".as_slice(), b"s2"]);
        assert!(parse_monitor_line("", "OK").is_none());
        assert!(parse_monitor_line("", r#"1.5 [0 x] "unterminated"#).is_none());
    }

    #[test]
    fn info_sections_as_documented() {
        let s = parse_commandstats(
            "# Commandstats\r\ncmdstat_get:calls=21,usec=175,usec_per_call=8.33,rejected_calls=0,failed_calls=0\r\ncmdstat_client|list:calls=1,usec=30,usec_per_call=30.00\r\n",
        );
        assert_eq!((s[0].name.as_str(), s[0].calls, s[0].usec), ("get", 21, 175));
        assert_eq!(s[1].name, "client|list");
        // The documented sample of INFO KEYSIZES (redis.io, the INFO command).
        let k = parse_keysizes(
            "# Keysizes\r\ndb0_distrib_strings_sizes:2=1,4=1,8=1,16=1,32=1,64=1,128=1,256=1,512=1,1K=1,2K=1,4K=1,8K=1,16K=1,32K=1,64K=1,128K=1,256K=1,512K=1,1M=1\r\ndb1_distrib_lists_items:1=1,2=1,4=1\r\n",
        );
        assert_eq!(k.len(), 2);
        assert_eq!((k[0].db, k[0].kind.as_str(), k[0].buckets.len()), (0, "strings_sizes", 20));
        assert_eq!(k[0].buckets.last(), Some(&(1 << 20, 1)));
        assert_eq!((k[1].db, k[1].kind.as_str()), (1, "lists_items"));
    }

    #[test]
    fn hotkeys_get_as_documented() {
        // HOTKEYS GET's documented example (redis.io, Redis 8.6).
        let pairs = vec![
            ("tracking-active".to_string(), HotValue::Int(1)),
            ("sample-ratio".into(), HotValue::Int(1)),
            ("all-commands-all-slots-us".into(), HotValue::Int(220)),
            ("net-bytes-all-commands-all-slots".into(), HotValue::Int(200)),
            ("collection-start-time-unix-ms".into(), HotValue::Int(1769420604522)),
            ("collection-duration-ms".into(), HotValue::Int(6408)),
            ("by-cpu-time-us".into(), HotValue::Pairs(vec![("x".into(), 104), ("y".into(), 98), ("z".into(), 18)])),
        ];
        let h = parse_hotkeys(&pairs);
        assert!(h.active);
        assert_eq!((h.duration_ms, h.all_commands_us), (6408, 220));
        assert_eq!(h.by_cpu_us[0], ("x".to_string(), 104));
    }
}
