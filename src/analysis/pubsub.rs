//! `:pubsub PATTERN`: the channels matching a pattern with their subscribers (PUBSUB CHANNELS,
//! NUMSUB, NUMPAT, read every two seconds) and a read-only subscriber's live messages — each
//! decoded like a value (`‹msgpack› {…}`), the rate per channel, the newest [`KEPT`] kept
//! (the rest counted). Runs in the backend until the view closes.

use crate::domain::PubMessage;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Messages kept for the view.
pub const KEPT: usize = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRow {
    /// As the server names it (made safe where it is shown).
    pub name: String,
    /// NUMSUB (None: a channel seen in a message but not listed by PUBSUB CHANNELS now).
    pub subscribers: Option<u64>,
    pub messages: u64,
    pub per_s: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PubSubSnapshot {
    pub pattern: String,
    pub channels: Vec<ChannelRow>,
    pub numpat: u64,
    /// Channels PUBSUB CHANNELS matched (the list holds the first 1,000 of them).
    pub matched: usize,
    pub received: u64,
    pub elapsed_s: f64,
    /// The newest messages, oldest first, made safe to print.
    pub messages: Vec<String>,
    /// The same messages as data (`:export`): channel, arrival, format and decoded value.
    pub records: Vec<serde_json::Value>,
    /// Messages no longer kept (older than the newest [`KEPT`]).
    pub dropped: u64,
    pub stopped: Option<String>,
}

#[derive(Default)]
struct State {
    received: u64,
    per_channel: HashMap<String, u64>,
    messages: VecDeque<(String, serde_json::Value)>,
    dropped: u64,
    listed: Vec<(String, u64)>,
    matched: usize,
    numpat: u64,
}

/// A message as the view shows it, and as data.
fn line(m: &PubMessage, budget: usize) -> (String, serde_json::Value) {
    let secs = (m.at_ms / 1000) % 86_400;
    let d = crate::decode::decode(&m.payload, true, None, budget);
    let mut data = d.to_json();
    data["channel"] = serde_json::json!(m.channel);
    data["at_ms"] = serde_json::json!(m.at_ms);
    let text = format!(
        "{:02}:{:02}:{:02}.{:03} {}  {}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60,
        m.at_ms % 1000,
        crate::text::sanitize_str(&m.channel),
        d.one_line(240)
    );
    (text, data)
}

fn snapshot(st: &State, pattern: &str, elapsed_s: f64) -> PubSubSnapshot {
    let secs = elapsed_s.max(0.001);
    let mut channels: Vec<ChannelRow> = st
        .listed
        .iter()
        .map(|(n, subs)| {
            let m = st.per_channel.get(n).copied().unwrap_or(0);
            ChannelRow { name: n.clone(), subscribers: Some(*subs), messages: m, per_s: m as f64 / secs }
        })
        .collect();
    for (n, m) in &st.per_channel {
        if !st.listed.iter().any(|(l, _)| l == n) {
            channels.push(ChannelRow { name: n.clone(), subscribers: None, messages: *m, per_s: *m as f64 / secs });
        }
    }
    channels.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.name.cmp(&b.name)));
    PubSubSnapshot {
        pattern: pattern.to_string(),
        channels,
        numpat: st.numpat,
        matched: st.matched,
        received: st.received,
        elapsed_s,
        messages: st.messages.iter().map(|(t, _)| t.clone()).collect(),
        records: st.messages.iter().map(|(_, d)| d.clone()).collect(),
        dropped: st.dropped,
        stopped: None,
    }
}

/// Subscribe to `pattern` and list its channels; `each` gets a snapshot every half second
/// until the caller drops the future (or the connection ends: the last snapshot says why).
pub async fn session(
    store: Arc<dyn crate::store::KeyStore>,
    pattern: String,
    budget: usize,
    mut each: impl FnMut(PubSubSnapshot) + Send,
) -> PubSubSnapshot {
    let t0 = std::time::Instant::now();
    let st = Arc::new(Mutex::new(State::default()));
    let (s2, st2, pat) = (store.clone(), st.clone(), pattern.clone());
    let sub = tokio::spawn(async move {
        s2.subscribe(&pat, &mut |m| {
            let Ok(mut g) = st2.lock() else { return false };
            g.received += 1;
            *g.per_channel.entry(m.channel.clone()).or_default() += 1;
            if g.messages.len() >= KEPT {
                g.messages.pop_front();
                g.dropped += 1;
            }
            g.messages.push_back(line(&m, budget));
            true
        })
        .await
    });
    struct Abort(tokio::task::AbortHandle);
    impl Drop for Abort {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let _guard = Abort(sub.abort_handle());
    let mut last_list: Option<std::time::Instant> = None;
    loop {
        if last_list.is_none_or(|t| t.elapsed().as_millis() >= 2_000) {
            last_list = Some(std::time::Instant::now());
            if let Ok((listed, numpat, matched)) = store.pubsub_channels(&pattern).await
                && let Ok(mut g) = st.lock()
            {
                g.listed = listed;
                g.matched = matched;
                g.numpat = numpat;
            }
        }
        if sub.is_finished() {
            let why = match sub.await {
                Ok(Err(e)) => format!("stopped: {e}"),
                _ => "stopped: the subscription ended".into(),
            };
            let mut last = st.lock().map(|g| snapshot(&g, &pattern, t0.elapsed().as_secs_f64())).unwrap_or_default();
            last.stopped = Some(why);
            return last;
        }
        if let Ok(g) = st.lock() {
            each(snapshot(&g, &pattern, t0.elapsed().as_secs_f64()));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The snapshot as lines: the channels, then the newest messages.
pub fn lines(s: &PubSubSnapshot, messages: usize) -> Vec<String> {
    let mut out = vec![format!(
        "pattern {} · {} channels (PUBSUB CHANNELS){} · {} pattern subscriptions (NUMPAT) · {} messages received in {:.0} s",
        crate::text::sanitize_str(&s.pattern),
        s.matched,
        {
            let listed = s.channels.iter().filter(|c| c.subscribers.is_some()).count();
            if listed < s.matched { format!(", the first {listed} with their subscribers") } else { String::new() }
        },
        s.numpat,
        s.received,
        s.elapsed_s
    )];
    out.push("channels (subscribers from PUBSUB NUMSUB; messages and rate as received here):".into());
    for c in &s.channels {
        let subs = c.subscribers.map(|n| n.to_string()).unwrap_or_else(|| "?".into());
        out.push(format!(
            "  {:>6} subs {:>8} msgs {:>8.1}/s  {}",
            subs,
            c.messages,
            c.per_s,
            crate::text::sanitize_str(&c.name)
        ));
    }
    if s.channels.is_empty() {
        out.push("  (no channel matches now)".into());
    }
    let more = if s.dropped > 0 { format!(" ({} older ones not kept)", s.dropped) } else { String::new() };
    out.push(format!("messages, newest last{more}:"));
    out.extend(s.messages.iter().rev().take(messages).rev().map(|m| format!("  {m}")));
    out
}
