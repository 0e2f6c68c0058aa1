//! Snapshots of the Semantic Search tab, driven through `App::update` with vector replies.

use crate::support::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use memscope::app::{App, Msg, TabId};
use memscope::config::{Config, VectorConfig};
use memscope::domain::*;
use memscope::message::{BackendEvent, Command, RequestId, VectorReply};
use memscope::message::{LongTermCmd, VectorCmd};
use memscope::search::{SearchOutcome, WhyNot};
use memscope::store::StoreError;
use serde_json::json;

fn app() -> App {
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.vector = Some(VectorConfig::local(Some("/tmp/v.db".into())));
    let mut app = App::new(&cfg, (120, 26));
    app.init();
    app.update(Msg::Backend(BackendEvent::Conn(Tier::Vector, ConnState::Up)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE)));
    assert_eq!(app.tab, TabId::Search);
    // Leave the editor, reload (r) and answer the stats request.
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    let cmds = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Vector(req, VectorCmd::Stats) => Some(*req),
            _ => None,
        })
        .expect("stats requested");
    let stats = IndexStats {
        dimension: Some(384),
        metric: Some(Metric::Cosine),
        total: 5,
        fullness: None,
        namespaces: vec![(String::new(), 4), ("docs".into(), 1)],
        detail: None,
    };
    app.update(Msg::Backend(BackendEvent::Vector(req, VectorReply::Stats(Ok(stats)))));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)));
    app
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
}

fn m(id: &str, score: f32, text: &str, cat: &str) -> VectorMatch {
    VectorMatch {
        id: id.into(),
        score,
        values: None,
        metadata: json!({"text": text, "category": cat, "conversation_id": "conv-0002", "message_id": id})
            .as_object()
            .cloned(),
    }
}

/// Let the debounce expire and answer the search it sends.
fn answer(app: &mut App, at: u64, matches: Vec<VectorMatch>) -> RequestId {
    let cmds = app.update(Msg::Tick(at));
    let req = cmds
        .iter()
        .find_map(|c| match c {
            Command::Vector(req, VectorCmd::Search { .. }) => Some(*req),
            _ => None,
        })
        .expect("a search after the debounce");
    let outcome = SearchOutcome {
        result: QueryResult { matches, namespace: String::new(), read_units: Some(6) },
        embed_ms: 12.4,
        query_ms: 1.1,
        total_ms: 13.6,
    };
    app.update(Msg::Backend(BackendEvent::Vector(req, VectorReply::Search(Ok(outcome)))));
    req
}

fn first() -> Vec<VectorMatch> {
    vec![
        m("m-sunny", 0.6186, "It is sunny and 72F in NYC", "weather"),
        m("conv-0002-m03", 0.3369, "Expect rain and around 8°C in the morning in New York", "weather"),
        m("m-refund", -0.0201, "Refund \u{1b}[31mfor\u{1b}[0m order 1182", "support"),
    ]
}

#[test]
fn empty() {
    insta::assert_snapshot!(screen(&app()));
}

#[test]
fn results_with_timings_and_distribution() {
    let mut app = app();
    typed(&mut app, "weather in new york");
    assert!(app.update(Msg::Tick(100)).is_empty(), "debounced: nothing yet");
    answer(&mut app, 400, first());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn error_and_invalid_filter() {
    let mut app = app();
    typed(&mut app, "weather");
    let cmds = app.update(Msg::Tick(400));
    let req = cmds
        .iter()
        .find_map(|c| if let Command::Vector(req, VectorCmd::Search { .. }) = c { Some(*req) } else { None })
        .unwrap();
    let e = StoreError::Server(
        "the embedder makes 384-dimensional vectors but the index holds 1536-dimensional ones".into(),
    );
    app.update(Msg::Backend(BackendEvent::Vector(req, VectorReply::Search(Err(e)))));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::NONE)));
    typed(&mut app, "{\"year\": {\"$gtx\": 1}}");
    assert!(app.search.params().is_none(), "an invalid filter blocks the search");
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn diff_against_a_pin_and_why_not() {
    let mut app = app();
    typed(&mut app, "weather in new york");
    answer(&mut app, 400, first());
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE)));
    // The query is selected on reopening (typing would replace it): End edits it instead.
    app.update(Msg::Key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE)));
    typed(&mut app, " rain");
    answer(
        &mut app,
        800,
        vec![
            m("conv-0002-m03", 0.61, "Expect rain and around 8°C in the morning in New York", "weather"),
            m("m-sunny", 0.45, "It is sunny and 72F in NYC", "weather"),
            m("m-umbrella", 0.30, "Pack an umbrella", "tips"),
        ],
    );
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::NONE)));
    typed(&mut app, "m-refund");
    let cmds = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let req = cmds
        .iter()
        .find_map(|c| {
            if let Command::Vector(req, VectorCmd::WhyNot { id, .. }) = c {
                assert_eq!(id, "m-refund");
                Some(*req)
            } else {
                None
            }
        })
        .unwrap();
    let w = WhyNot {
        id: "m-refund".into(),
        found: true,
        passes_filter: true,
        score: Some(-0.02),
        rank: Some(5),
        limit: 1000,
    };
    app.update(Msg::Backend(BackendEvent::Vector(req, VectorReply::WhyNot(Ok(w)))));
    insta::assert_snapshot!(screen(&app));
    // Enter on a result opens its message in Conversations (when that tier is configured).
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("long-term tier is not configured")));
}

/// A result opened in Conversations (Enter) returns to Search on Esc, with the results kept.
#[test]
fn esc_from_a_thread_opened_from_a_result_returns_to_search() {
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.vector = Some(VectorConfig::local(Some("/tmp/v.db".into())));
    cfg.long_term = Some(memscope::config::LongTermConfig::Sqlite { path: "/tmp/memscope-none.db".into() });
    let mut app = App::new(&cfg, (120, 26));
    app.init();
    app.update(Msg::Backend(BackendEvent::Conn(Tier::Vector, ConnState::Up)));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE)));
    typed(&mut app, "/sunny");
    answer(&mut app, 1_000, first());
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    let cmds = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(app.tab, TabId::Conversations);
    assert!(cmds.iter().any(
        |c| matches!(c, Command::LongTerm(_, LongTermCmd::Messages { conversation, .. }) if conversation == "conv-0002")
    ));
    app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(app.tab, TabId::Search, "back where the user came from");
    assert_eq!(app.search.matches().len(), 3, "the results are still there");
    // A thread opened from the list itself goes back to the list.
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE)));
    assert_eq!(app.tab, TabId::Conversations);
    assert!(!app.conversations.opened_from_search);
}
