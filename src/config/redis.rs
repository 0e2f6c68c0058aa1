//! Redis settings: the URL forms (Sentinel, TLS, secrets redacted), the connection knobs and the pace of whole-keyspace passes.

use super::*;

/// Commands per second at most over a whole-keyspace pass (analyze, the Keys tab's sorts,
/// `keys --long`) unless a profile says otherwise: a fifth of what one Redis core serves of
/// these commands (~1M/s), so a pass over a busy production server leaves it room; 0 lifts it.
pub const DEFAULT_MAX_OPS_PER_SEC: u64 = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub struct RedisConfig {
    pub url: String,
    pub delimiter: String,
    pub scan_count: u32,
    pub preview_bytes: u64,
    pub page_size: u32,
    pub timeout_ms: u64,
    pub scan_timeout_ms: u64,
    /// Commands per second at most of a whole-keyspace pass (an analysis, a sort by TTL or
    /// size); 0: no limit.
    pub max_ops_per_sec: u64,
    /// PEM file of the CA that signed the server's certificate (rediss:// with a private CA).
    pub tls_ca_file: Option<String>,
    /// One server, or a Redis Cluster (detected by `auto`).
    pub mode: RedisMode,
    /// Cluster: reads may be served by replicas (opt-in: a replica can lag).
    pub read_from_replicas: bool,
}

/// A `redis+sentinel://[user:password@]host:port[,host:port…]/MASTER[/DB]` URL, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SentinelUrl {
    pub sentinels: Vec<(String, u16)>,
    pub master: String,
    pub db: u32,
    /// `user:password@` for the master (and its replicas), if any.
    pub auth: Option<String>,
    /// `rediss+sentinel://`: TLS to the master.
    pub tls: bool,
    /// The Sentinels' own credentials (`?sentinel_password=…[&sentinel_username=…]`), when
    /// they require them (`requirepass` in sentinel.conf): (username, password).
    pub sentinel_auth: Option<(Option<String>, String)>,
}

pub fn is_sentinel_url(url: &str) -> bool {
    url.starts_with("redis+sentinel://") || url.starts_with("rediss+sentinel://")
}

impl SentinelUrl {
    pub fn parse(url: &str) -> Result<SentinelUrl, String> {
        let (tls, rest) = match url.split_once("://") {
            Some(("redis+sentinel", r)) => (false, r),
            Some(("rediss+sentinel", r)) => (true, r),
            _ => return Err("expected redis+sentinel://host:port[,host:port…]/MASTER[/DB]".into()),
        };
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a.to_string()), r),
            None => (None, rest),
        };
        // The Sentinels' own credentials ride in the query.
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut sentinel_user = None;
        let mut sentinel_pw = None;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            match kv.split_once('=') {
                Some(("sentinel_password", v)) => sentinel_pw = Some(v.to_string()),
                Some(("sentinel_username", v)) => sentinel_user = Some(v.to_string()),
                _ => return Err(format!("`{kv}`: the query takes sentinel_password= and sentinel_username=")),
            }
        }
        let sentinel_auth = sentinel_pw.map(|p| (sentinel_user, p));
        let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
        let sentinels = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|h| match h.rsplit_once(':') {
                Some((host, port)) => {
                    port.parse().map(|p| (host.to_string(), p)).map_err(|_| format!("`{h}`: not host:port"))
                }
                None => Ok((h.to_string(), 26379)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if sentinels.is_empty() {
            return Err("no Sentinel address before the master's name".into());
        }
        let mut parts = path.split('/');
        let master = parts.next().unwrap_or("").to_string();
        if master.is_empty() {
            return Err("no master name: redis+sentinel://host:26379/MASTER/DB".into());
        }
        let db = match parts.next() {
            None | Some("") => 0,
            Some(d) => d.parse().map_err(|_| format!("`{d}`: not a database number"))?,
        };
        Ok(SentinelUrl { sentinels, master, db, auth, tls, sentinel_auth })
    }
}

/// How memscope talks to the Redis of a profile (`[profile.X.redis] mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisMode {
    /// Ask the server (`INFO cluster`): a cluster node means the whole cluster.
    #[default]
    Auto,
    /// The one server the URL names, even if it is a cluster node (its keys only).
    Standalone,
    /// A Redis Cluster seeded by the URL: every master scanned, keyed commands routed by slot.
    Cluster,
}

impl RedisMode {
    pub fn name(self) -> &'static str {
        match self {
            RedisMode::Auto => "auto",
            RedisMode::Standalone => "standalone",
            RedisMode::Cluster => "cluster",
        }
    }
}

impl RedisConfig {
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            delimiter: ":".into(),
            scan_count: 1000,
            preview_bytes: 256 * 1024,
            page_size: 100,
            timeout_ms: 2_000,
            scan_timeout_ms: 10_000,
            max_ops_per_sec: DEFAULT_MAX_OPS_PER_SEC,
            tls_ca_file: None,
            mode: RedisMode::Auto,
            read_from_replicas: false,
        }
    }
}

/// Redis: the file's section, then REDIS_URL, then --redis-url.
pub(super) fn resolve_redis(
    path: &str,
    name: &str,
    section: Option<FileRedis>,
    ov: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<RedisConfig>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let redis = section.map(|r| -> Result<RedisConfig, ConfigError> {
        let url = match (&r.sentinels, &r.sentinel_master) {
            (Some(s), Some(m)) if !s.is_empty() => {
                if r.url.is_some() {
                    return Err(invalid(format!(
                        "[profile.{name}.redis] sets both url and sentinels: give one (redis+sentinel://… is the URL form)"
                    )));
                }
                format!("redis+sentinel://{}/{m}/0", s.join(","))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid(format!(
                    "[profile.{name}.redis] sentinels and sentinel_master go together (the Sentinels, and the name of the master they watch)"
                )));
            }
            _ => r.url.clone().unwrap_or_else(|| "redis://127.0.0.1:6379/0".into()),
        };
        let mut c = RedisConfig::new(url);
        if let Some(d) = r.delimiter {
            if d.is_empty() {
                return Err(invalid(format!("[profile.{name}.redis] delimiter must not be empty")));
            }
            c.delimiter = d;
        }
        if let Some(n) = r.scan_count {
            if n == 0 {
                return Err(invalid(format!("[profile.{name}.redis] scan_count must be at least 1")));
            }
            c.scan_count = n;
        }
        if let Some(n) = r.preview_bytes {
            c.preview_bytes = n.max(64);
        }
        if let Some(n) = r.max_ops_per_sec {
            c.max_ops_per_sec = n;
        }
        if let Some(n) = r.page_size {
            c.page_size = n.clamp(1, 10_000);
        }
        if let Some(n) = r.timeout_ms {
            c.timeout_ms = n.max(1);
        }
        if let Some(n) = r.scan_timeout_ms {
            c.scan_timeout_ms = n.max(1);
        }
        c.tls_ca_file = r.tls_ca_file;
        c.mode = match r.mode.as_deref() {
            None | Some("auto") => RedisMode::Auto,
            Some("standalone") => RedisMode::Standalone,
            Some("cluster") => RedisMode::Cluster,
            // The URL decides: redis+sentinel://host:26379[,host:port…]/MASTER/DB.
            Some("sentinel") => RedisMode::Auto,
            Some(other) => {
                return Err(invalid(format!(
                    "[profile.{name}.redis] mode = \"{other}\": expected \"auto\", \"standalone\" or \"cluster\""
                )));
            }
        };
        c.read_from_replicas = r.read_from_replicas.unwrap_or(false);
        if r.mode.as_deref() == Some("sentinel") && !c.url.contains("+sentinel://") {
            return Err(invalid(format!(
                "[profile.{name}.redis] mode = \"sentinel\" needs url = \"redis+sentinel://HOST:26379[,HOST:PORT…]/MASTER/DB\""
            )));
        }
        Ok(c)
    });
    let mut redis = redis.transpose()?;
    // Where the URL in force came from, for an error that names it.
    let mut url_source = format!("{path}: [profile.{name}.redis] url");
    for (url, source) in
        [(env("REDIS_URL").filter(|s| !s.is_empty()), "REDIS_URL"), (ov.redis_url.clone(), "--redis-url")]
    {
        let Some(url) = url else { continue };
        url_source = source.to_string();
        match &mut redis {
            Some(r) => r.url = url,
            None => redis = Some(RedisConfig::new(url)),
        }
    }
    if let Some(r) = &redis
        && ![
            "redis://",
            "rediss://",
            "valkey://",
            "valkeys://",
            "unix://",
            "redis+unix://",
            "redis+sentinel://",
            "rediss+sentinel://",
        ]
        .iter()
        .any(|p| r.url.starts_with(p))
    {
        return Err(ConfigError::Source {
            source_name: url_source,
            message: format!(
                "`{}` is not a Redis URL: it must start with redis://, rediss://, unix:// or redis+sentinel://",
                redact_url(&r.url)
            ),
        });
    }
    if let Some(r) = &redis
        && is_sentinel_url(&r.url)
        && let Err(e) = SentinelUrl::parse(&r.url)
    {
        return Err(ConfigError::Source { source_name: url_source, message: format!("`{}`: {e}", redact_url(&r.url)) });
    }
    Ok(redis)
}

/// Query parameters that carry a secret in the URL forms redis-rs and the official clients
/// accept (`unix:///path?db=0&pass=…`, `redis://host?password=…`).
pub(super) const SECRET_PARAMS: [&str; 8] =
    ["pass", "password", "passwd", "pwd", "secret", "token", "api_key", "sentinel_password"];

/// Hide every secret in a URL: the password of `scheme://user:password@host` and the value of
/// secret-bearing query parameters (`pass=`, `password=`, …).
///
/// A password may hold `?`, `/`, `#` or `@` unencoded (`redis://:S3CRET?PW4@host`), so the
/// credentials are found first ([`url_parts`]). When a query value holds an `@` before a
/// host-like word, more is hidden than needed — never less.
pub fn redact_url(url: &str) -> String {
    match url_parts(url) {
        (scheme, Some(cred), rest) => {
            let user = match cred.find(':') {
                Some(c) => format!("{}:***", &cred[..c]),
                None if cred.is_empty() => String::new(),
                None => "***".to_string(),
            };
            format!("{scheme}{user}@{}", redact_query(rest))
        }
        (scheme, None, rest) => format!("{scheme}{}", redact_query(rest)),
    }
}

/// A URL's `scheme://` (empty without one), its credentials — everything before the last `@`
/// that a host follows, so that a password may hold `?`, `/`, `#` or `@` unencoded — and the
/// rest (`host:port/path?query#fragment`).
pub fn url_parts(url: &str) -> (&str, Option<&str>, &str) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return ("", None, url) };
    let rest = &url[scheme_end..];
    let host_like = |s: &str| {
        let host = s.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:[]%".contains(c))
    };
    match rest.char_indices().rev().find(|&(i, c)| c == '@' && host_like(&rest[i + 1..])).map(|(i, _)| i) {
        Some(at) => (&url[..scheme_end], Some(&rest[..at]), &rest[at + 1..]),
        None => (&url[..scheme_end], None, rest),
    }
}

/// `host/path?k=v#f` with the values of secret-bearing query parameters hidden.
pub(super) fn redact_query(s: &str) -> String {
    let Some((head, q)) = s.split_once('?') else { return s.to_string() };
    let (q, fragment) = match q.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (q, None),
    };
    let params: Vec<String> = q
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => format!("{k}=***"),
            _ => kv.to_string(),
        })
        .collect();
    let mut out = format!("{head}?{}", params.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}
