//! `memscope demo`: its sandbox (`sandbox`: the config with no store the user named), private services (`services`: a redis-server, the Firestore emulator — what
//! the tests use to get their own servers too), the fixture (`fixture`), the vector records with
//! shipped embeddings (`vectors`), the agents' traffic (`traffic`), and `run` putting them
//! together with the UI on top; everything stopped on exit, panic or signal.

mod fixture;
mod run;
mod sandbox;
mod services;
mod traffic;
mod vectors;

pub use fixture::*;
pub use run::run_demo;
pub use sandbox::*;
pub use services::*;
pub use traffic::*;
pub use vectors::*;

pub const FIXTURE: &str = include_str!("../../assets/demo_redis.json");
/// Conversations in the demo: one per conversation of the fixture.
pub const CONVERSATIONS: usize = 60;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "redis-server was not found on PATH. Install it: `sudo apt-get install -y redis-server` (Debian/Ubuntu), \
         `brew install redis` (macOS), or set MEMSCOPE_REDIS_SERVER to its path"
    )]
    NoRedisServer,
    #[error("could not start redis-server: {0}")]
    Start(String),
    #[error("bad demo fixture: {0}")]
    Fixture(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Seed;

    #[test]
    fn fixture_expands_to_every_type() {
        let plan = seed_plan(&fixture().unwrap(), 60).unwrap();
        let has = |f: fn(&Seed) -> bool| plan.iter().any(f);
        assert!(has(|s| matches!(s, Seed::List(..))));
        assert!(has(|s| matches!(s, Seed::Hash(..))));
        assert!(has(|s| matches!(s, Seed::Set(..))));
        assert!(has(|s| matches!(s, Seed::ZSet(..))));
        assert!(has(|s| matches!(s, Seed::Stream(..))));
        assert!(has(|s| matches!(s, Seed::HyperLogLog(..))));
        assert!(has(|s| matches!(s, Seed::String(k, _) if &**k == b"weather:nyc:today")));
        assert!(has(|s| matches!(s, Seed::String(_, v) if v.len() > 1_000_000)));
        assert!(plan.iter().filter(|s| matches!(s, Seed::List(k, _) if k.starts_with(b"conversation:"))).count() >= 50);
    }

    #[test]
    fn long_term_plan_mixes_timestamp_forms_and_covers_every_type() {
        use crate::domain::FsValue;
        let plan = long_term_plan(&fixture().unwrap(), 60, 1_700_000_000);
        let convs = plan.iter().filter(|(p, _)| p.starts_with("conversations/") && p.matches('/').count() == 1).count();
        assert_eq!(convs, 60);
        let ts_kinds: std::collections::HashSet<&str> = plan
            .iter()
            .filter(|(p, _)| p.contains("/messages/"))
            .filter_map(|(_, f)| f.iter().find(|(k, _)| k == "timestamp").map(|(_, v)| v.type_name()))
            .collect();
        assert_eq!(ts_kinds, ["timestamp", "string"].into_iter().collect());
        let types: std::collections::HashSet<&str> =
            plan.iter().flat_map(|(_, f)| f.iter().map(|(_, v)| v.type_name())).collect();
        for t in
            ["null", "bool", "int64", "double", "timestamp", "string", "bytes", "reference", "geopoint", "array", "map"]
        {
            assert!(types.contains(t), "demo has no {t}");
        }
        let _ = FsValue::Null;
        let items = vector_items(&plan);
        assert!(items.len() > 150);
        // The layer's own metadata, so that the audit finds the demo consistent.
        for k in ["conversation_id", "message_id", "user_id", "role", "timestamp"] {
            assert!(items.iter().all(|i| i.metadata.contains_key(k)), "{k}");
        }
    }

    #[test]
    fn shipped_embeddings_cover_every_demo_text() {
        let known = precomputed();
        let plan = long_term_plan(&fixture().unwrap(), CONVERSATIONS, 0);
        let missing: Vec<String> = vector_items(&plan)
            .into_iter()
            .filter(|i| !known.contains_key(&text_key(&i.text)))
            .map(|i| i.text.chars().take(40).collect())
            .collect();
        assert!(
            missing.is_empty(),
            "assets/demo_embeddings.bin lacks {} demo texts (e.g. {:?}): run `cargo run -- demo --write-embeddings \
             assets/demo_embeddings.bin`",
            missing.len(),
            missing.first()
        );
        assert!(known.values().all(|v| v.len() == 384));
    }

    #[test]
    fn fixture_has_distinct_conversations_across_users_and_agents() {
        let fx = fixture().unwrap();
        assert!(fx.conversations.len() >= 50 && fx.conversations.len() == CONVERSATIONS);
        let distinct = |f: &dyn Fn(&FixtureConversation) -> String| {
            fx.conversations.iter().map(f).collect::<std::collections::HashSet<_>>().len()
        };
        assert_eq!(distinct(&|c| c.topic.clone()), CONVERSATIONS, "topics repeat");
        let first_user = |c: &FixtureConversation| c.messages.iter().find(|m| m.0 == "user").unwrap().1.clone();
        assert_eq!(distinct(&first_user), CONVERSATIONS, "questions repeat");
        let who: Vec<(&str, &str)> = (0..CONVERSATIONS).map(|i| (fx.conversation(i).1, fx.conversation(i).2)).collect();
        let users: std::collections::HashSet<_> = who.iter().map(|w| w.0).collect();
        let agents: std::collections::HashSet<_> = who.iter().map(|w| w.1).collect();
        assert!(users.len() >= 5 && agents.len() == fx.agents.len(), "{users:?} {agents:?}");
        assert!(fx.conversations.iter().all(|c| c.agent.as_ref().is_none_or(|a| fx.agents.contains(a))));
    }
}
