//! The demo's sandbox: the configuration `memscope demo` runs with. The demo's agents write, so
//! it must never reach a store it did not start — whatever the environment or the config file
//! names (many developers' shells set `FIRESTORE_EMULATOR_HOST`, `GOOGLE_CLOUD_PROJECT` or
//! `REDIS_URL` for their own work). The config is loaded with the store variables hidden, every
//! store the file names is dropped, and what was left out is said once.

use crate::config::{self, Config, LayoutConfig};

/// The environment variables that name a store or a credential for one (`config` reads the
/// first six; the cloud clients read the last one on their own).
pub const STORE_VARIABLES: &[&str] = &[
    "REDIS_URL",
    "FIRESTORE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "PINECONE_API_KEY",
    "PINECONE_INDEX",
    "PINECONE_INDEX_HOST",
    "OPENAI_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
];

/// The config for the demo: the user's settings (theme, keys, health thresholds, memory
/// tuning, `read_only`) with no store at all — the demo adds its own private ones — and what it
/// ignored, in words, for the one line the demo prints.
pub fn sandbox(
    ov: &config::Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<String>), config::ConfigError> {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    let mut ignored: Vec<String> = STORE_VARIABLES.iter().filter(|k| set(k)).map(|k| k.to_string()).collect();
    let hidden = |k: &str| if STORE_VARIABLES.contains(&k) { None } else { env(k) };
    let mut cfg = config::load_with(ov, &hidden)?;
    // What is still configured came from the file.
    let from_file = [
        ("redis", cfg.redis.take().is_some()),
        ("long_term", cfg.long_term.take().is_some()),
        ("vector", cfg.vector.take().is_some()),
        ("embedding", cfg.embedding.take().is_some()),
        ("layout", std::mem::take(&mut cfg.layout) != LayoutConfig::default()),
    ];
    let file = cfg.file.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    for (section, was) in from_file {
        if was {
            ignored.push(format!("[profile.{}.{section}] of {file}", cfg.profile));
        }
    }
    Ok((cfg, ignored))
}

/// The line the demo prints about what it ignored (none when nothing was).
pub fn ignored_line(ignored: &[String]) -> Option<String> {
    (!ignored.is_empty()).then(|| {
        format!(
            "memscope demo: runs on its own private stores only; ignored: {} (your stores are not touched)",
            ignored.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn every_store_variable_is_ignored_and_named() {
        let env = env_of(&[
            ("REDIS_URL", "redis://127.0.0.1:7777/0"),
            ("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8081"),
            ("GOOGLE_CLOUD_PROJECT", "my-prod-project"),
            ("PINECONE_API_KEY", "pk"),
            ("PINECONE_INDEX_HOST", "https://x.pinecone.io"),
            ("OPENAI_API_KEY", "sk"),
            ("MEMSCOPE_THEME", "high-contrast"),
        ]);
        // An empty config file: nothing but the environment configures the tiers.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.toml"), "").unwrap();
        let ov = config::Overrides { config: Some(dir.path().join("c.toml")), ..Default::default() };
        // Loaded as any command would, every tier is configured from the environment…
        let plain = config::load_with(&ov, &env).unwrap();
        assert!(plain.redis.is_some() && plain.long_term.is_some() && plain.vector.is_some());
        // …and the demo's sandbox has none of them, but keeps the other settings.
        let (cfg, ignored) = sandbox(&ov, &env).unwrap();
        assert!(cfg.redis.is_none() && cfg.long_term.is_none() && cfg.vector.is_none() && cfg.embedding.is_none());
        assert_eq!(cfg.theme, "high-contrast");
        assert_eq!(
            ignored,
            [
                "REDIS_URL",
                "FIRESTORE_EMULATOR_HOST",
                "GOOGLE_CLOUD_PROJECT",
                "PINECONE_API_KEY",
                "PINECONE_INDEX_HOST",
                "OPENAI_API_KEY"
            ]
        );
        assert!(ignored_line(&ignored).unwrap().contains("ignored: REDIS_URL, FIRESTORE_EMULATOR_HOST"));
        assert_eq!(ignored_line(&[]), None);
    }

    #[test]
    fn the_stores_of_a_config_file_are_ignored_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "[profile.work]\nread_only = false\n[profile.work.redis]\nurl = \"redis://10.0.0.5:6379/0\"\n\
             [profile.work.long_term]\nbackend = \"sqlite\"\npath = \"/tmp/mine.db\"\n\
             [profile.work.layout]\npreset = \"mem0\"\n",
        )
        .unwrap();
        let ov = config::Overrides { config: Some(path.clone()), ..Default::default() };
        let (cfg, ignored) = sandbox(&ov, &|_| None).unwrap();
        assert!(cfg.redis.is_none() && cfg.long_term.is_none());
        assert_eq!(cfg.layout, LayoutConfig::default());
        assert!(!cfg.read_only, "the user's other settings stay");
        let f = path.display();
        assert_eq!(
            ignored,
            [
                format!("[profile.work.redis] of {f}"),
                format!("[profile.work.long_term] of {f}"),
                format!("[profile.work.layout] of {f}")
            ]
        );
    }
}
