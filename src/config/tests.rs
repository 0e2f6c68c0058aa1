use super::*;

fn env_none(_: &str) -> Option<String> {
    None
}

#[test]
fn example_config_parses_and_validates() {
    validate_text(EXAMPLE, "config.example.toml").expect("config.example.toml must be valid");
}

#[test]
fn a_layout_names_the_vector_metadata_unless_the_vector_section_does() {
    let body = "[profile.p.vector]\nbackend = \"local\"\n[profile.p.layout]\npreset = \"mem0\"\n";
    let f = parse_str(body, "f").unwrap();
    let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
    assert_eq!(c.vector.unwrap().text_field, "data", "mem0 keeps the text in `data`");
    assert_eq!((c.layout.vector_conversation_field.as_str(), c.layout.in_redis()), ("user_id", true));
    let body = format!("{body}vector_conversation_field = \"run_id\"\n[profile.p.vector.x]\n");
    let body = body.replace("[profile.p.vector.x]\n", "");
    let f =
        parse_str(&body.replace("backend = \"local\"", "backend = \"local\"\ntext_field = \"memory\""), "f").unwrap();
    let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
    assert_eq!(c.vector.unwrap().text_field, "memory", "[vector] text_field wins");
    assert_eq!(c.layout.vector_conversation_field, "run_id");
    assert!(c.layout.overridden && !c.layout.is_memscopes_own());
    assert!(LayoutConfig::default().is_memscopes_own());
    // mem0's Redis/Valkey index keeps `memory` and `memory_id`; agent-memory-server's records
    // their own names.
    let redis = "[profile.p.redis]\nurl = \"redis://h\"\n[profile.p.vector]\nbackend = \"redis\"\nindex = \"mem0\"\n[profile.p.layout]\npreset = \"mem0\"\n";
    let c = resolve(
        parse_str(redis, "f").unwrap(),
        "f",
        &Overrides::default(),
        &env_none,
        vec![],
        Some("p".into()),
        vec![],
    )
    .unwrap();
    assert_eq!(c.vector.unwrap().text_field, "memory");
    assert_eq!(
        (c.layout.vector_conversation_field.as_str(), c.layout.vector_message_field.as_str()),
        ("user_id", "memory_id")
    );
    let ams = redis
        .replace("\"mem0\"\n[", "\"memory_records\"\n[")
        .replace("preset = \"mem0\"", "preset = \"agent-memory-server\"");
    let c =
        resolve(parse_str(&ams, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![])
            .unwrap();
    assert_eq!(c.vector.unwrap().text_field, "text");
    assert_eq!(
        (c.layout.vector_conversation_field.as_str(), c.layout.vector_message_field.as_str()),
        ("session_id", "id_")
    );
}

#[test]
fn a_history_database_is_mem0s_only() {
    let ok = "[profile.p.redis]\nurl = \"redis://h\"\n[profile.p.layout]\npreset = \"mem0\"\nhistory = \"~/.mem0/history.db\"\n";
    let c =
        resolve(parse_str(ok, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![])
            .unwrap();
    assert_eq!(c.layout.history.as_deref(), Some("~/.mem0/history.db"), "expanded when opened");
    let bad = ok.replace("mem0", "redisvl").replace("~/.redisvl", "~/.mem0");
    let e =
        resolve(parse_str(&bad, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![])
            .unwrap_err();
    assert!(e.to_string().contains("a history database is mem0's"), "{e}");
}

#[test]
fn the_theme_comes_from_the_profile_or_the_environment_and_is_checked() {
    let f = parse_str("[profile.p]\ntheme = \"high-contrast\"\n", "f").unwrap();
    let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
    assert_eq!(c.theme, "high-contrast");
    let f = parse_str("[profile.p]\ntheme = \"neon\"\n", "f").unwrap();
    let e = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap_err();
    assert!(e.to_string().contains("expected \"default\" or \"high-contrast\""), "{e}");
    let env = |k: &str| (k == "MEMSCOPE_THEME").then(|| "high-contrast".to_string());
    let c = resolve(FileConfig::default(), "f", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
    assert_eq!(c.theme, "high-contrast");
}

#[test]
fn a_whole_keyspace_pass_is_limited_by_the_profile() {
    let f = parse_str("[profile.p.redis]\nurl = \"redis://x\"\n", "f").unwrap();
    let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
    assert_eq!(c.redis.unwrap().max_ops_per_sec, 200_000);
    let f = parse_str("[profile.p.redis]\nurl = \"redis://x\"\nmax_ops_per_sec = 0\n", "f").unwrap();
    let c = resolve(f, "f", &Overrides::default(), &env_none, vec![], Some("p".into()), vec![]).unwrap();
    assert_eq!(c.redis.unwrap().max_ops_per_sec, 0, "0: no limit");
    let e = parse_str("[profile.p.redis]\nmax_ops_per_sec = -5\n", "f").unwrap_err().to_string();
    assert!(e.starts_with("f:2:"), "{e}");
}

#[test]
fn empty_file_is_valid_and_read_only() {
    let c = resolve(FileConfig::default(), "x", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap();
    assert!(c.read_only);
    assert!(c.redis.is_none());
    assert_eq!(c.profile, "default");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = "[profile.local]\nread_only = true\n\n[profile.local.redis]\nurl = \"redis://x\"\nscan_cuont = 5\n";
    let err = parse_str(text, "my.toml").unwrap_err().to_string();
    assert!(err.starts_with("my.toml:6:"), "{err}");
    assert!(err.contains("scan_cuont"), "{err}");
}

#[test]
fn malformed_toml_names_line() {
    let err = parse_str("[profile.a]\nread_only = tru\n", "bad.toml").unwrap_err().to_string();
    assert!(err.starts_with("bad.toml:2:"), "{err}");
}

#[test]
fn precedence_file_env_flag() {
    let file = parse_str("[profile.p.redis]\nurl = \"redis://file:1\"\n", "f").unwrap();
    let env = |k: &str| (k == "REDIS_URL").then(|| "redis://env:2".to_string());
    let c = resolve(file, "f", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
    assert_eq!(c.redis.unwrap().url, "redis://env:2");
    let file = parse_str("[profile.p.redis]\nurl = \"redis://file:1\"\n", "f").unwrap();
    let ov = Overrides { redis_url: Some("redis://flag:3".into()), ..Default::default() };
    let c = resolve(file, "f", &ov, &env, vec![], None, vec![]).unwrap();
    assert_eq!(c.redis.unwrap().url, "redis://flag:3");
}

#[test]
fn profile_choice() {
    let text = "default_profile = \"b\"\n[profile.a]\nread_only = false\n[profile.b]\n";
    let c =
        resolve(parse_str(text, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap();
    assert_eq!(c.profile, "b");
    assert!(c.read_only);
    let ov = Overrides { profile: Some("a".into()), ..Default::default() };
    let c = resolve(parse_str(text, "f").unwrap(), "f", &ov, &env_none, vec![], None, vec![]).unwrap();
    assert!(!c.read_only);
    let ov = Overrides { profile: Some("zzz".into()), ..Default::default() };
    let err = resolve(parse_str(text, "f").unwrap(), "f", &ov, &env_none, vec![], None, vec![]).unwrap_err();
    assert!(err.to_string().contains("profile `zzz` not found"));
    let two = "[profile.a]\n[profile.b]\n";
    let err =
        resolve(parse_str(two, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap_err();
    assert!(err.to_string().contains("default_profile"));
}

#[test]
fn env_alone_configures_tiers() {
    let env = |k: &str| match k {
        "REDIS_URL" => Some("redis://e:1".to_string()),
        "FIRESTORE_EMULATOR_HOST" => Some("127.0.0.1:8080".to_string()),
        "PINECONE_API_KEY" => Some("pk".to_string()),
        "PINECONE_INDEX" => Some("idx".to_string()),
        _ => None,
    };
    let c = resolve(FileConfig::default(), "x", &Overrides::default(), &env, vec![], None, vec![]).unwrap();
    assert!(c.redis.is_some());
    assert!(matches!(c.long_term, Some(LongTermConfig::Firestore { .. })));
    assert_eq!(c.vector.unwrap().index.as_deref(), Some("idx"));
}

#[test]
fn write_flag_lifts_read_only_and_bad_values_are_errors() {
    let ov = Overrides { write: true, ..Default::default() };
    let c = resolve(FileConfig::default(), "x", &ov, &env_none, vec![], None, vec![]).unwrap();
    assert!(!c.read_only);
    let bad = parse_str("[profile.a.redis]\nurl = \"http://x\"\n", "f").unwrap();
    assert!(resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).is_err());
    let bad = parse_str("[profile.a.long_term]\nbackend = \"mongo\"\n", "f").unwrap();
    let e = resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap_err();
    assert!(e.to_string().contains("mongo"));
}

#[test]
fn redis_modes_and_sentinel_fields() {
    let r = |t: &str| resolve(parse_str(t, "f").unwrap(), "f", &Overrides::default(), &env_none, vec![], None, vec![]);
    let c =
        r("[profile.p.redis]\nsentinels = [\"10.0.0.1:26379\", \"10.0.0.2:26379\"]\nsentinel_master = \"mymaster\"\n")
            .unwrap();
    assert_eq!(c.redis.unwrap().url, "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0");
    let e = r("[profile.p.redis]\nsentinels = [\"h:1\"]\n").unwrap_err().to_string();
    assert!(e.contains("sentinel_master"), "{e}");
    let e = r("[profile.p.redis]\nurl = \"redis://x\"\nsentinels = [\"h:1\"]\nsentinel_master = \"m\"\n").unwrap_err();
    assert!(e.to_string().contains("both url and sentinels"), "{e}");
    let c = r("[profile.p.redis]\nmode = \"cluster\"\nread_from_replicas = true\n").unwrap().redis.unwrap();
    assert_eq!((c.mode, c.read_from_replicas), (RedisMode::Cluster, true));
    let e = r("[profile.p.redis]\nmode = \"swarm\"\n").unwrap_err().to_string();
    assert!(e.contains("\"swarm\"") && e.contains("standalone"), "{e}");
    let e = r("[profile.p.redis]\nmode = \"sentinel\"\nurl = \"redis://x\"\n").unwrap_err().to_string();
    assert!(e.contains("redis+sentinel://"), "{e}");
    let e = r("[profile.p.redis]\nurl = \"redis+sentinel://h:26379\"\n").unwrap_err().to_string();
    assert!(e.contains("no master name"), "{e}");
}

#[test]
fn health_thresholds_parse_and_validate() {
    let ok = parse_str(
        "[profile.p.health]\ninterval_ms = 1000\nlatency_warn_ms = 20\nlatency_crit_ms = 80\nmiss_rate_warn = 0.3\n",
        "f",
    )
    .unwrap();
    let c = resolve(ok, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap();
    assert_eq!(c.health.interval_ms, 1000);
    assert_eq!(c.health.thresholds.latency_crit_ms, 80.0);
    assert_eq!(c.health.thresholds.miss_rate_warn, 0.3);
    let bad = parse_str("[profile.p.health]\nlatency_warn_ms = 900\n", "f").unwrap();
    let e = resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).unwrap_err().to_string();
    assert!(e.contains("latency_warn_ms") && e.contains("latency_crit_ms"), "{e}");
    let bad = parse_str("[profile.p.health]\nmiss_rate_crit = 80\n", "f").unwrap();
    assert!(resolve(bad, "f", &Overrides::default(), &env_none, vec![], None, vec![]).is_err());
    let typo = parse_str("[profile.p.health]\nlatency_wran_ms = 1\n", "f").unwrap_err().to_string();
    assert!(typo.contains("latency_wran_ms"), "{typo}");
}

#[test]
fn redaction() {
    assert_eq!(redact_url("redis://user:secret@host:6379/0"), "redis://user:***@host:6379/0");
    assert_eq!(redact_url("rediss://:secret@host"), "rediss://:***@host");
    assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
    // Passwords in query parameters, as redis-rs reads them for unix sockets and URLs.
    assert_eq!(redact_url("unix:///tmp/r.sock?db=0&pass=SECRET"), "unix:///tmp/r.sock?db=0&pass=***");
    assert_eq!(redact_url("redis://h:1/0?password=X&protocol=resp3"), "redis://h:1/0?password=***&protocol=resp3");
    assert_eq!(redact_url("redis+unix:///s?PASS=X"), "redis+unix:///s?PASS=***");
    // A password holding what ends a URL's parts, unencoded.
    assert_eq!(redact_url("redis://:S3CRET?PW4@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
    assert_eq!(redact_url("redis://u:a/b#c@h:1/2?password=Z"), "redis://u:***@h:1/2?password=***");
    assert_eq!(redact_url("redis://u:p@ss@h"), "redis://u:***@h");
    assert_eq!(redact_url("redis://h:1/0?client=a@b"), "redis://h:***@b", "too much hidden, never too little");
    for u in [
        "unix:///tmp/r.sock?db=0&pass=SECRET",
        "redis://u:SECRET@h?password=SECRET",
        "redis://:SECRET?x@h",
        "rediss://default:SE?CR/ET@[::1]:6380",
        "redis+sentinel://:SECRET?@h:26379/mymaster",
    ] {
        assert!(!redact_url(u).contains("SECRET"), "{u} → {}", redact_url(u));
    }
}

#[test]
fn sentinel_urls_parse() {
    let u = SentinelUrl::parse("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster/2").unwrap();
    assert_eq!(u.sentinels, vec![("10.0.0.1".into(), 26379), ("10.0.0.2".into(), 26379)]);
    assert_eq!((u.master.as_str(), u.db, u.auth.as_deref(), u.tls), ("mymaster", 2, Some(":pw"), false));
    let u = SentinelUrl::parse("rediss+sentinel://h:5000/m").unwrap();
    assert_eq!((u.db, u.tls), (0, true));
    assert!(SentinelUrl::parse("redis+sentinel://h:26379").unwrap_err().contains("master name"));
    assert!(SentinelUrl::parse("redis+sentinel://h:x/m").unwrap_err().contains("host:port"));
}
