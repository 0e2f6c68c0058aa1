//! `memscope server`: the slow log, clients, command counters and latency events of a node; the recent-messages merge script.

use super::*;

/// `CacheOp::MergeRecent`: merge, dedupe by message_id, order by timestamp, trim, atomically.
pub(super) const MERGE_RECENT: &str = r#"
local keep = tonumber(ARGV[1])
local byid, order = {}, {}
local function add(raw)
  local ok, m = pcall(cjson.decode, raw)
  local id, ts = raw, ''
  if ok and type(m) == 'table' then
    if m.message_id ~= nil then id = tostring(m.message_id) end
    if type(m.timestamp) == 'string' then ts = m.timestamp
    elseif type(m.timestamp) == 'number' then ts = string.format('%020.6f', m.timestamp) end
  end
  if byid[id] == nil then table.insert(order, id) end
  byid[id] = {ts, id, raw}
end
for _, r in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do add(r) end
for i = 2, #ARGV do add(ARGV[i]) end
local all = {}
for _, id in ipairs(order) do table.insert(all, byid[id]) end
table.sort(all, function(a, b) if a[1] ~= b[1] then return a[1] < b[1] end return a[2] < b[2] end)
local from = math.max(1, #all - keep + 1)
redis.call('DEL', KEYS[1])
for i = from, #all do redis.call('RPUSH', KEYS[1], all[i][3]) end
return #all - from + 1
"#;

/// The replies of SLOWLOG GET, SLOWLOG LEN, CLIENT LIST, INFO commandstats and LATENCY LATEST.
pub(super) fn parse_insight(v: &[Value]) -> crate::domain::ServerReport {
    use crate::domain::{ClientInfo, LatencyEvent, ServerReport, SlowEntry};
    let safe = |b: &[u8]| crate::text::sanitize_line(b);
    let mut s = ServerReport::default();
    let part = |i: usize, what: &str, errors: &mut Vec<String>| -> Option<Value> {
        let x = v.get(i).cloned().unwrap_or(Value::Nil);
        match server_err(&x) {
            Some(e) => {
                errors.push(format!("{what}: {}", safe(e.as_bytes())));
                None
            }
            None => Some(x),
        }
    };
    if let Some(x) = part(0, "SLOWLOG GET", &mut s.errors) {
        s.slowlog = items(x)
            .into_iter()
            .filter_map(|e| {
                let f = items(e);
                let args: Vec<String> =
                    items(f.get(3)?.clone()).iter().map(|a| crate::text::truncate(&safe(&bytes_of(a)), 80)).collect();
                Some(SlowEntry {
                    id: f.first().and_then(int_of)? as u64,
                    at: f.get(1).and_then(int_of)?,
                    micros: f.get(2).and_then(int_of)? as u64,
                    command: args.join(" "),
                    client: f.get(4).map(|c| safe(&bytes_of(c))).unwrap_or_default(),
                    client_name: f.get(5).map(|c| safe(&bytes_of(c))).unwrap_or_default(),
                })
            })
            .collect();
    }
    s.slowlog_len = part(1, "SLOWLOG LEN", &mut s.errors).as_ref().and_then(int_of).unwrap_or(0) as u64;
    if let Some(x) = part(2, "CLIENT LIST", &mut s.errors) {
        let text = String::from_utf8_lossy(&bytes_of(&x)).into_owned();
        s.clients = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let kv: std::collections::HashMap<&str, &str> =
                    l.split(' ').filter_map(|p| p.split_once('=')).collect();
                let n = |k: &str| kv.get(k).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
                let t = |k: &str| safe(kv.get(k).copied().unwrap_or("").as_bytes());
                let cmd = t("cmd");
                ClientInfo {
                    id: n("id"),
                    addr: t("addr"),
                    name: t("name"),
                    age_s: n("age"),
                    idle_s: n("idle"),
                    db: n("db") as u32,
                    // memscope's connections are named (CLIENT SETNAME, and LIB-NAME where the
                    // server keeps it); an unnamed one listing now is memscope's too.
                    this: kv.get("name") == Some(&CLIENT_NAME)
                        || kv.get("lib-name") == Some(&CLIENT_NAME)
                        || (kv.get("name").is_none_or(|n| n.is_empty()) && cmd == "client|list"),
                    cmd,
                    omem: n("omem"),
                    tot_mem: kv.get("tot-mem").and_then(|x| x.parse().ok()),
                    flags: t("flags"),
                }
            })
            .collect();
    }
    if let Some(x) = part(3, "INFO commandstats", &mut s.errors) {
        let text = String::from_utf8_lossy(&bytes_of(&x)).into_owned();
        s.commands = crate::domain::parse_commandstats(&text);
    }
    if let Some(x) = part(4, "LATENCY LATEST", &mut s.errors) {
        s.latency = items(x)
            .into_iter()
            .filter_map(|e| {
                let f = items(e);
                Some(LatencyEvent {
                    event: safe(&bytes_of(f.first()?)),
                    at: f.get(1).and_then(int_of)?,
                    latest_ms: f.get(2).and_then(int_of)? as u64,
                    max_ms: f.get(3).and_then(int_of)? as u64,
                })
            })
            .collect();
    }
    s
}
