//! The Conversations tab through the real App and backend: data from a real store, and a
//! store that is down.

mod support;

use crossterm::event::KeyCode;
use memscope::config::{Config, LongTermConfig};
use memscope::domain::ConnState;
use support::Harness;

fn config(lt: LongTermConfig) -> Config {
    let mut cfg = Config::with_redis("redis://127.0.0.1:1/0");
    cfg.redis = None;
    cfg.long_term = Some(lt);
    cfg
}

#[tokio::test]
async fn emulator_down_is_shown_and_retried_while_the_ui_keeps_working() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = config(LongTermConfig::Firestore {
        project_id: "down".into(),
        database_id: "(default)".into(),
        emulator_host: Some(format!("127.0.0.1:{port}")),
    });
    let mut h = Harness::new(cfg);
    h.until(20, "error shown", |a| a.conversations.error.is_some()).await;
    let first = h.app.conversations.error.clone().unwrap();
    assert!(matches!(h.app.long_term.state, ConnState::Down(_)), "{:?}", h.app.long_term.state);
    // Retried with backoff, no key pressed.
    h.until(20, "retried", |a| a.conversations.error.as_ref().is_some_and(|e| e.attempt > first.attempt)).await;
    // The rest of the UI answers: tabs and help.
    h.keys("2");
    assert_eq!(h.app.tab, memscope::app::TabId::Keys);
    h.keys("?");
    assert!(h.app.popup.is_some());
}

#[tokio::test]
async fn sqlite_store_through_the_backend_list_thread_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let store = memscope::store::sqlite::SqliteStore::open(&path).unwrap();
    memscope::demo::seed_long_term(&store, 20, 1_763_900_000).await.unwrap();
    let mut h = Harness::new(config(LongTermConfig::Sqlite { path }));
    h.until(10, "list", |a| a.conversations.convs.len() == 20 && a.conversations.count == Some(20)).await;
    assert_eq!(h.app.conversations.convs[0].id, "conv-0020");
    h.key(KeyCode::Enter);
    h.until(10, "thread", |a| a.conversations.thread.as_ref().is_some_and(|t| t.done)).await;
    let t = h.app.conversations.thread.as_ref().unwrap();
    assert!(t.messages.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    h.key(KeyCode::Esc);
    h.keys("/");
    h.keys("user:u-alice");
    h.key(KeyCode::Enter);
    h.until(10, "filtered", |a| a.conversations.count == Some(3) && a.conversations.convs.len() == 3).await;
    assert!(h.app.conversations.convs.iter().all(|c| c.user_id.as_deref() == Some("u-alice")));
}
