//! `memscope demo`: a private Redis seeded with the fixture, a long-term store (SQLite, or a
//! private Firestore emulator) and an embedded vector index, the simulated agents' traffic, and
//! the UI on top — everything stopped and removed on exit.

use crate::tui::{run_tui_with, wait_for_signal};
use crate::{config, demo, domain, embed, memory, store, tiers};
use color_eyre::eyre::{Result, eyre};

/// `cfg` comes from [`demo::sandbox`]: no store in it; the demo adds only stores it started.
pub async fn run_demo(mut cfg: config::Config, no_tui: bool, firestore_emulator: bool) -> Result<()> {
    debug_assert!(cfg.redis.is_none() && cfg.long_term.is_none() && cfg.vector.is_none());
    eprintln!("memscope demo: starting a private redis-server…");
    let server = tokio::task::spawn_blocking(|| demo::PrivateRedis::start(&[])).await??;
    eprintln!("memscope demo: private redis-server at {} (stopped when memscope exits)", server.url());
    let plan = demo::seed_plan(&demo::fixture()?, demo::CONVERSATIONS)?;
    store::redis::apply_seed(&server.url(), &plan).await.map_err(|e| eyre!("seeding the demo failed: {e}"))?;
    // Long-term tier: an embedded SQLite file in the demo's temp dir, or a private emulator.
    let lt_dir = demo::private_dir("demo");
    let _cleanup = RemoveOnDrop(lt_dir.clone());
    // The newest conversation ends a few minutes ago.
    let now = domain::Ts::now().secs;
    let lt_plan = demo::long_term_plan(&demo::fixture()?, demo::CONVERSATIONS, now - 60 * 3600 - 10_500);
    // Kept until the demo ends (dropping it stops the emulator).
    let mut _emulator = None;
    if firestore_emulator {
        eprintln!("memscope demo: starting a private Firestore emulator (about 10 s)…");
        let emu = tokio::task::spawn_blocking(demo::PrivateEmulator::start).await??;
        eprintln!("memscope demo: Firestore emulator at {} (stopped when memscope exits)", emu.host);
        cfg.long_term = Some(config::LongTermConfig::Firestore {
            project_id: "memscope-demo".into(),
            database_id: "(default)".into(),
            emulator_host: Some(emu.host.clone()),
        });
        _emulator = Some(emu);
    } else {
        std::fs::create_dir_all(&lt_dir)?;
        let path = lt_dir.join("memory.db").display().to_string();
        cfg.long_term = Some(config::LongTermConfig::Sqlite { path });
    }
    // The demo's own long-term store, seeded (connected through `tiers` like any other).
    let seeded = tiers::long_term(&cfg, store::Access::ReadWrite).await.map_err(|e| eyre!("{e}"))?;
    seeded.put_many(lt_plan.clone()).await.map_err(|e| eyre!("seeding the demo failed: {e}"))?;
    // Vector tier: an embedded index of the demo's messages with the local model, when the model
    // is installed. Embeddings are cached in the data dir, so only the first start computes them.
    match seed_demo_vectors(&lt_dir, &lt_plan).await {
        Ok(path) => {
            cfg.vector = Some(config::VectorConfig::local(Some(path)));
            cfg.embedding = Some(config::EmbeddingConfig {
                provider: "local".into(),
                model: None,
                base_url: None,
                model_dir: None,
                dimensions: None,
                api_key: None,
            });
        }
        Err(e) => eprintln!("memscope demo: no vector tier ({e})"),
    }
    cfg.redis = Some(config::RedisConfig::new(server.url()));
    cfg.profile = "demo".into();
    // The demo's agents: the memory layer on the same stack (its writes go to the private
    // server and the demo's own files only), with short cache TTLs so hits and misses mix.
    let mut agent_cfg = cfg.clone();
    agent_cfg.memory.cache_ttl_s = 20;
    agent_cfg.memory.lru_ttl_s = 5;
    agent_cfg.memory.vsearch_ttl_s = 30;
    let traffic = match memory::Memory::from_config(&agent_cfg, true).await {
        Ok(mem) => {
            let convs: Vec<String> = (1..=demo::CONVERSATIONS).map(|i| format!("conv-{i:04}")).collect();
            // Recent lists as the layer writes them, from the long-term store.
            if let Err(e) = mem.rebuild_recent(&convs).await {
                eprintln!("memscope demo: could not build the recent lists ({e})");
            }
            Some(tokio::spawn(demo::simulate(std::sync::Arc::new(mem), server.url(), convs.len())))
        }
        Err(e) => {
            eprintln!("memscope demo: no simulated traffic ({e})");
            None
        }
    };
    if no_tui {
        // A ready config for the running demo, so that every headless command works against it.
        let (toml, env) = cfg.tiers_toml("demo");
        std::fs::create_dir_all(&lt_dir)?;
        let path = lt_dir.join("demo.toml");
        std::fs::write(&path, toml)?;
        let env: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        println!("{}", server.url());
        println!("config: {}", path.display());
        println!("  e.g. {env}memscope --config {} search \"refund\"   (audit, keys, health alike)", path.display());
        println!("memscope demo: Redis seeded with {} writes; Ctrl-C stops it.", plan.len());
        wait_for_signal().await;
    } else {
        // A fresh demo: the search settings of an earlier one do not carry over.
        run_tui_with(cfg, false, None).await?;
    }
    if let Some(t) = traffic {
        t.abort();
    }
    drop(server);
    Ok(())
}

async fn seed_demo_vectors(dir: &std::path::Path, plan: &[(String, Vec<(String, domain::FsValue)>)]) -> Result<String> {
    // Queries need the model: without it there is no vector tier (say how to get it).
    embed::local::find_model(None).map_err(|e| eyre!("{e}"))?;
    std::fs::create_dir_all(dir)?;
    let path = dir.join("vectors.db").display().to_string();
    let (_, embedded) = demo::seed_vectors(&path, demo::vector_items(plan), || {
        eprintln!("memscope demo: embedding demo texts missing from assets/demo_embeddings.bin…");
        embed::local::MiniLm::load(None).map(|m| Box::new(m) as Box<dyn embed::Embedder>)
    })
    .await
    .map_err(|e| eyre!("{e}"))?;
    if embedded > 0 {
        eprintln!("memscope demo: embedded {embedded} texts (regenerate assets/demo_embeddings.bin to skip this)");
    }
    Ok(path)
}

/// Removes a directory when dropped (also while unwinding from a panic).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
