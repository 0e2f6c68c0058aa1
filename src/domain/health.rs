//! What the Health tab and `memscope server` read of Redis: INFO figures, the slow log, clients, commands, latency, cluster nodes.

use super::*;

/// One slow log entry (`SLOWLOG GET`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SlowEntry {
    pub id: u64,
    /// Unix seconds when it ran.
    pub at: i64,
    pub micros: u64,
    /// The command and its arguments, each made safe and cut at 80 characters.
    pub command: String,
    pub client: String,
    pub client_name: String,
}

/// One connection (`CLIENT LIST`).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub name: String,
    pub age_s: u64,
    pub idle_s: u64,
    pub db: u32,
    /// The last command.
    pub cmd: String,
    /// Output buffer memory.
    pub omem: u64,
    pub tot_mem: Option<u64>,
    pub flags: String,
    /// The connection memscope asked on (the one whose last command is `client|list`).
    pub this: bool,
}

/// One command's counters (`INFO commandstats`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CommandStat {
    pub name: String,
    pub calls: u64,
    pub usec: u64,
    pub usec_per_call: f64,
    pub rejected: u64,
    pub failed: u64,
}

/// One latency event (`LATENCY LATEST`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LatencyEvent {
    pub event: String,
    pub at: i64,
    pub latest_ms: u64,
    pub max_ms: u64,
}

/// What one Redis server says about who is doing what: the slow log, the clients, the
/// command counters, the latency events. A part the server refused (an ACL, a disabled
/// command) is named in `errors`, never silently empty.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct ServerReport {
    /// The node, on a cluster.
    pub node: Option<String>,
    pub slowlog_len: u64,
    pub slowlog: Vec<SlowEntry>,
    pub clients: Vec<ClientInfo>,
    pub commands: Vec<CommandStat>,
    pub latency: Vec<LatencyEvent>,
    pub errors: Vec<String>,
}

/// What one Redis health probe read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RedisHealth {
    /// The counters of the memory layers running in this process (the demo's agents), if any.
    pub layer: Option<StatsSnapshot>,
    pub ping_ms: f64,
    pub used_memory: u64,
    /// 0 when no maxmemory is set.
    pub maxmemory: u64,
    /// Cumulative counters from INFO stats.
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub evicted_keys: u64,
    pub expired_keys: u64,
    pub ops_per_sec: f64,
    pub connected_clients: u64,
    pub blocked_clients: u64,
    pub rejected_connections: u64,
    /// Keys per database (INFO keyspace).
    pub keyspace: Vec<DbInfo>,
    pub slowlog_len: u64,
    /// Newest slow commands: (duration µs, command line).
    pub slowlog: Vec<(u64, String)>,
    /// memscope's own hits and misses at the time of the probe (cumulative).
    pub own_hits: u64,
    pub own_misses: u64,
    /// A Redis Cluster: its state and every node (the figures above are the masters' sums).
    pub cluster: Option<ClusterHealth>,
    /// The server's `run_id` (new at every start) and uptime (INFO server): a restart is seen.
    pub run_id: String,
    pub uptime_s: u64,
    /// Behind Sentinels: the master's address the probe reached (a new one is a failover,
    /// not a restart).
    pub master_addr: Option<String>,
}

/// A Redis Cluster as the Health probe saw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterHealth {
    /// `cluster_state` of CLUSTER INFO (`ok` or `fail`).
    pub state: String,
    /// Slots no reachable master serves.
    pub uncovered_slots: u32,
    pub nodes: Vec<NodeHealth>,
}

/// One node of a cluster: its role and figures, or why it did not answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeHealth {
    pub addr: String,
    /// `master` or `replica`.
    pub role: String,
    pub ping_ms: Option<f64>,
    pub used_memory: u64,
    pub ops_per_sec: f64,
    pub keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub slowlog_len: u64,
    /// Unreachable, or marked failing by the cluster: the node is DOWN.
    pub error: Option<String>,
}
