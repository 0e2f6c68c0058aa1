//! The traffic simulator: the demo's agents writing and reading through the memory layer.

use super::fixture;
use std::time::Duration;

// ---------- the traffic simulator ----------

/// A small xorshift generator: the simulator needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

/// Follow-up turns the simulated agents add to their conversations: (agent, user, answer).
/// `{n}`, `{day}`, `{time}` and `{city}` are filled per turn (`fill`), so the index never holds
/// the same text twice and a search finds the turn it is about.
const FOLLOW_UPS: [(&str, &str, &str); 12] = [
    (
        "agent-support",
        "Can you check the status of order {n}?",
        "Order {n} shipped on {day}; the tracking link is in your email.",
    ),
    (
        "agent-support",
        "Please remind me which refund option I picked for order {n}.",
        "For order {n} you chose store credit, which is already on your account.",
    ),
    (
        "agent-support",
        "I still cannot log in after the password reset of {day}.",
        "I sent a new reset link at {time}; it expires in 15 minutes.",
    ),
    (
        "agent-travel",
        "Is it going to rain in {city} on {day}?",
        "Light rain in {city} on {day} morning, sunny after {time}, highs around 18°C.",
    ),
    ("agent-travel", "Can you move booking {n} to {day}?", "Done: booking {n} now starts on {day}, at no extra cost."),
    (
        "agent-travel",
        "What time should I leave for the {city} airport on {day}?",
        "Leave by {time}: the drive to the {city} airport takes 40 minutes.",
    ),
    (
        "agent-coder",
        "CI run {n} failed again on main, any idea why?",
        "Run {n} hit the flaky timezone test; pinning TZ=UTC in CI fixes it.",
    ),
    (
        "agent-coder",
        "Can you write a unit test for the fix in PR {n}?",
        "Added a test to PR {n} that runs the parser under three time zones; it fails without the fix.",
    ),
    (
        "agent-coder",
        "Is PR {n} safe to deploy on {day}?",
        "PR {n} only touches the test setup, so yes; production code is unchanged.",
    ),
    (
        "agent-research",
        "Summarise what we discussed on {day} in two bullet points.",
        "On {day}: the budget of project {n} was approved, and the launch moved to {city}.",
    ),
    (
        "agent-research",
        "What is the next step for report {n}?",
        "Next, the finance section of report {n} needs the figures from {city}.",
    ),
    (
        "agent-research",
        "Can you find one more source for claim {n}?",
        "A peer-reviewed survey from {city} supports claim {n}; I added it to the references.",
    ),
];

/// A follow-up's text with its slots filled (the same values in the question and its answer).
fn fill(t: &str, n: u64, day: &str, time: &str, city: &str) -> String {
    t.replace("{n}", &n.to_string()).replace("{day}", day).replace("{time}", time).replace("{city}", city)
}

const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const CITIES: [&str; 6] = ["Lisbon", "Oslo", "Kyoto", "Denver", "Nairobi", "Porto"];

const QUERIES: [&str; 6] =
    ["refund for my order", "weather in New York", "restaurant booking", "CI failure", "password reset", "Q3 report"];

/// How the demo's agents use their memory: messages saved through the layer, fallback reads
/// with a realistic hit/miss mix (TTL'd document caches expiring), cached tool results, cached
/// vector searches, rate-limit counters, and now and then a slow call — so every tab, Health
/// included, is alive. Runs until the task is aborted.
pub async fn simulate(mem: std::sync::Arc<crate::memory::Memory>, redis_url: String, conversations: usize) {
    use crate::domain::CacheOp;
    let Ok(fx) = fixture() else { return };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64);
    let mut rng = Rng(seed.unwrap_or(88172645463325252) | 1);
    let mut next_conv = conversations + 1;
    let mut tick = tokio::time::interval(Duration::from_millis(400));
    loop {
        tick.tick().await;
        let r = rng.below(100);
        // The conversation this step is about (now and then a new one), and who holds it.
        let conv_index = if r < 15 && rng.chance(5) {
            next_conv += 1;
            next_conv - 2
        } else {
            rng.below(conversations)
        };
        let conv = format!("conv-{:04}", conv_index + 1);
        let (_, user, agent) = fx.conversation(conv_index);
        let (user, agent) = (user.to_string(), agent.to_string());
        let result: Result<(), crate::error::StoreError> = async {
            match r {
                // An agent turn: the user's message and the agent's answer.
                0..=14 => {
                    // A follow-up that fits the agent holding the conversation.
                    let fits: Vec<&(&str, &str, &str)> = FOLLOW_UPS.iter().filter(|f| f.0 == agent).collect();
                    let (_, question, answer) = match fits.len() {
                        0 => FOLLOW_UPS[rng.below(FOLLOW_UPS.len())],
                        n => *fits[rng.below(n)],
                    };
                    let n = 1000 + rng.below(9000) as u64;
                    let day = DAYS[rng.below(DAYS.len())];
                    let time = format!("{:02}:{:02}", 5 + rng.below(15), rng.below(12) * 5);
                    let city = CITIES[rng.below(CITIES.len())];
                    for (role, text) in [("user", question), ("assistant", answer)] {
                        let m = crate::memory::NewMessage {
                            message_id: Some(format!("{conv}-s{:012x}", rng.next() >> 16)),
                            role: role.into(),
                            content: fill(text, n, day, &time, city),
                            agent_id: Some(agent.clone()),
                            ..Default::default()
                        };
                        mem.save_message(&conv, m, &user).await?;
                    }
                }
                // Profile and agent lookups through the fallback chain (LRU → Redis → long-term).
                15..=49 => {
                    let path = if rng.chance(60) {
                        format!("users/{user}")
                    } else {
                        format!("agents/{}", fx.agents[rng.below(fx.agents.len())])
                    };
                    mem.get_with_fallback(&path).await?;
                }
                // Context for a turn: the recent messages of a conversation.
                50..=69 => {
                    mem.get_conversation(&conv, 10).await?;
                }
                // Tool results cached with short TTLs: hits while fresh, misses once expired.
                70..=84 => {
                    let city = ["nyc", "lisbon", "tokyo", "berlin", "sf"][rng.below(5)];
                    let key = format!("weather:{city}:today");
                    if mem.get_cached_result(&key).await.is_none() {
                        let v = serde_json::json!({"city": city, "temp_c": 10 + rng.below(20), "source": "demo"});
                        mem.cache_result(&key, &v, Duration::from_secs(5 + rng.below(25) as u64)).await;
                    }
                }
                // Rate-limit counters per user and minute.
                85..=94 => {
                    if let Some(redis) = mem.redis() {
                        let minute = crate::domain::Ts::now().secs / 60;
                        let key = format!("ratelimit:{user}:{minute}");
                        redis.exec(&[CacheOp::Incr { key: key.into_bytes().into(), ttl_s: 90 }]).await?;
                    }
                }
                // Semantic recall, cached in Redis.
                95..=98 => {
                    if mem.vector().is_some() {
                        mem.query(QUERIES[rng.below(QUERIES.len())], 5, None).await?;
                    }
                }
                // Now and then a slow call (it lands in the slow log and the latency chart).
                _ => crate::store::redis::slow_call(&redis_url, 30 + rng.below(120) as u64).await?,
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "demo traffic: a call failed (the layer degrades, the simulator goes on)");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn follow_ups_are_filled_so_no_two_turns_read_alike() {
        let (_, q, a) = super::FOLLOW_UPS[0];
        assert_eq!(super::fill(q, 4211, "Friday", "06:15", "Oslo"), "Can you check the status of order 4211?");
        assert!(super::fill(a, 4211, "Friday", "06:15", "Oslo").contains("4211 shipped on Friday"));
        assert!(super::FOLLOW_UPS.iter().all(|(_, q, a)| q.contains('{') && a.contains('{')), "every turn has a slot");
    }
}
