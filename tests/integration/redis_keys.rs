//! The Redis Keys tab and store against real, private redis-server instances.
//! Why ~940 lines: one test per value type, size edge, expiry, write and fault (kill, restart,
//! DEBUG SLEEP), each with its own private server; they share only the harness in support/.

use crate::support::*;
use crossterm::event::KeyCode;
use memscope::config::{Config, RedisConfig};
use memscope::domain::{KeyType, PageCursor, Ttl, ValueBody, WriteOp};
use memscope::message::RedisCmd;
use memscope::store::redis::RedisStore;
use memscope::store::{KeyStore, StoreError};

fn cfg(url: &str) -> Config {
    Config::with_redis(url)
}

#[tokio::test]
async fn scan_streams_every_key_with_match_and_type_filters() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for i in 0..5000 {
        p.cmd("SET").arg(format!("user:{i}:profile")).arg("x").ignore();
    }
    for i in 0..300 {
        p.cmd("RPUSH").arg(format!("conversation:c{i}:messages")).arg("m").ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let mut conf = cfg(&r.url());
    conf.redis.as_mut().unwrap().scan_count = 500;
    let mut h = Harness::new(conf);
    h.until(10, "scan done", |a| !a.keys.scan.running && a.keys.index.len() == 5300).await;
    // Streamed: many SCAN calls, each reported as a batch.
    assert!(h.app.keys.scan.calls >= 5, "calls {}", h.app.keys.scan.calls);
    assert_eq!(h.app.keys.scan.total, Some(5300));
    assert_eq!(row_names(&h.app), vec!["conversation:", "user:"]);

    // MATCH through the `/` editor.
    h.key(KeyCode::Char('/'));
    for _ in 0..1 {
        h.key(KeyCode::Backspace);
    }
    h.keys("conversation:*");
    h.key(KeyCode::Enter);
    h.until(10, "filtered scan", |a| !a.keys.scan.running && a.keys.index.len() == 300).await;
    assert_eq!(h.app.keys.pattern, "conversation:*");

    // TYPE filter: `t` cycles to string; no string key matches conversation:*.
    h.keys("t");
    assert_eq!(h.app.keys.type_filter.as_deref(), Some("string"));
    h.until(10, "typed scan", |a| !a.keys.scan.running && a.keys.index.is_empty()).await;
    assert!(
        h.sent
            .iter()
            .any(|c| matches!(c, memscope::message::Command::Redis(_, RedisCmd::Scan { type_filter: Some(t), .. }) if t == "string"))
    );
}

#[tokio::test]
async fn tree_expands_and_lazily_fetches_metadata_for_visible_rows_only() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("cache:item:{i:03}")).arg("v").arg("EX").arg(1000).ignore();
    }
    p.cmd("HSET").arg("session:1").arg("user").arg("alice").ignore();
    // Two keys much larger than the others, for the sort by size.
    p.cmd("SET").arg("cache:item:150").arg("x".repeat(20_000)).ignore();
    p.cmd("SET").arg("cache:item:007").arg("x".repeat(5_000)).ignore();
    let _: () = p.query(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 201).await;
    assert_eq!(row_names(&h.app), vec!["cache:", "session:"]);
    h.key(KeyCode::Enter); // expand cache:
    assert_eq!(row_names(&h.app)[1], "cache:item:");
    h.key(KeyCode::Char('j'));
    h.key(KeyCode::Enter); // expand cache:item:
    assert_eq!(h.app.keys.index.row_count(), 203);
    h.until(10, "metadata of visible rows", |a| a.keys.meta.contains_key(b"cache:item:000".as_slice())).await;
    let m = &h.app.keys.meta[b"cache:item:000".as_slice()].meta;
    assert_eq!(m.ktype, Some(KeyType::String));
    assert!(matches!(m.ttl, Ttl::Millis(ms) if ms > 900_000));
    assert!(m.memory.unwrap_or(0) > 0);
    // Only visible rows were asked for: far fewer than 200 keys have metadata.
    assert!(h.app.keys.meta.len() <= h.app.keys.view_rows, "{} > {}", h.app.keys.meta.len(), h.app.keys.view_rows);
    // Sorting by size measures the whole listing in the backend; the UI keeps no metadata of
    // keys off screen, and the order is installed when every key is measured.
    h.keys("s");
    h.keys("s");
    assert!(h.app.keys.sorting.is_some(), "the sort by size is measuring");
    h.until(10, "sorted by size", |a| {
        let names = row_names(a);
        let pos = |k: &str| names.iter().position(|n| n.ends_with(k));
        matches!((pos("150"), pos("007"), pos("000")), (Some(a), Some(b), Some(c)) if a < b && b < c)
    })
    .await;
    assert!(h.app.keys.sorting.is_none() && h.app.keys.index.ordered());
    assert!(h.app.keys.meta.len() <= h.app.keys.view_rows + 2, "{} rows of metadata", h.app.keys.meta.len());
    let status = h.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.contains("every key measured (201 keys"), "{status}");
}

/// TTL and size sorts cover the whole listing: the one expiring key, last by name among
/// 30,000, is the first row; the one big key the first by size; Esc stops a sort.
#[tokio::test]
async fn sorting_by_ttl_or_size_measures_every_key_not_the_first_by_name() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for i in 0..30_000 {
        p.cmd("SET").arg(format!("k{i:05}")).arg("v").ignore();
    }
    p.cmd("SET").arg("zz:expiring").arg("v").arg("EX").arg(600).ignore();
    p.cmd("SET").arg("zz:huge").arg("x".repeat(50_000)).ignore();
    let _: () = p.query(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(20, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 30_002).await;
    h.keys("v"); // flat
    h.keys("s"); // ttl
    h.until(20, "sorted by ttl", |a| a.keys.index.ordered() && a.keys.sorting.is_none()).await;
    assert_eq!(row_names(&h.app)[0], "zz:expiring");
    let note = h.app.keys.sort_note.clone().unwrap_or_default();
    assert_eq!(note, "30,001 without a TTL, last");
    h.keys("s"); // size
    h.until(20, "sorted by size", |a| a.keys.index.ordered() && a.keys.sorting.is_none()).await;
    assert_eq!(row_names(&h.app)[0], "zz:huge");
    // Back to name, then a sort stopped with Esc: the list stays by name and says so.
    h.keys("s");
    assert_eq!(row_names(&h.app)[0], "k00000");
    h.keys("s");
    assert!(h.app.keys.sorting.is_some());
    h.key(KeyCode::Esc);
    assert!(h.app.keys.sorting.is_none());
    assert_eq!(h.app.keys.index.sort(), memscope::keytree::SortBy::Name);
    assert_eq!(row_names(&h.app)[0], "k00000");
    let status = h.app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default();
    assert!(status.contains("stopped at"), "{status}");
}

async fn page(s: &RedisStore, key: &str, cursor: PageCursor) -> memscope::domain::ValuePage {
    s.value(key.as_bytes(), &cursor).await.unwrap().unwrap()
}

#[tokio::test]
async fn every_value_type_pages_through() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    p.cmd("SET").arg("s:json").arg(r#"{"a":1,"b":[1,2]}"#).ignore();
    for i in 0..250 {
        p.cmd("RPUSH").arg("l").arg(format!("item-{i}")).ignore();
        p.cmd("HSET").arg("h").arg(format!("f{i}")).arg(i).ignore();
        p.cmd("SADD").arg("set").arg(format!("m{i}")).ignore();
        p.cmd("ZADD").arg("z").arg(i as f64 / 2.0).arg(format!("z{i}")).ignore();
        p.cmd("XADD").arg("x").arg("*").arg("n").arg(i).ignore();
    }
    p.cmd("PFADD").arg("hll").arg("a").arg("b").arg("c").ignore();
    let _: () = p.query(&mut c).unwrap();
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();

    let v = page(&s, "s:json", PageCursor::Start).await;
    assert!(matches!(&v.body, ValueBody::String(b) if !b.truncated()));
    let lines = memscope::tabs::keys::value_lines(&v);
    assert!(lines.iter().any(|(_, l)| l.contains("JSON")), "{lines:?}");
    assert!(lines.iter().any(|(_, l)| l.trim() == "\"a\": 1,"));

    // list: LRANGE pages of page_size (100)
    let v = page(&s, "l", PageCursor::Start).await;
    assert_eq!(v.length, 250);
    assert!(matches!(&v.body, ValueBody::List(items) if items.len() == 100 && items[0].bytes == b"item-0"));
    let v = page(&s, "l", v.next.unwrap()).await;
    assert!(matches!(&v.body, ValueBody::List(items) if items[0].bytes == b"item-100"));
    let v = page(&s, "l", v.next.unwrap()).await;
    assert!(matches!(&v.body, ValueBody::List(items) if items.len() == 50));
    assert!(v.next.is_none());

    // hash and set: cursor pages that together return every element
    for key in ["h", "set"] {
        let mut seen = std::collections::HashSet::new();
        let mut cur = PageCursor::Start;
        loop {
            let v = page(&s, key, cur).await;
            assert_eq!(v.length, 250);
            match &v.body {
                ValueBody::Hash(f) => seen.extend(f.iter().map(|(k, _)| k.bytes.clone())),
                ValueBody::Set(m) => seen.extend(m.iter().map(|b| b.bytes.clone())),
                other => panic!("{other:?}"),
            }
            match v.next {
                Some(n) => cur = n,
                None => break,
            }
        }
        assert_eq!(seen.len(), 250, "{key}");
    }

    // zset with scores
    let v = page(&s, "z", PageCursor::Start).await;
    assert!(matches!(&v.body, ValueBody::ZSet(z) if z[1].0.bytes == b"z1" && z[1].1 == 0.5));

    // stream: XRANGE pages with exclusive continuation
    let v1 = page(&s, "x", PageCursor::Start).await;
    let v2 = page(&s, "x", v1.next.clone().unwrap()).await;
    match (&v1.body, &v2.body) {
        (ValueBody::Stream(a), ValueBody::Stream(b)) => {
            assert_eq!(a.len(), 100);
            let id = |s: &str| -> (u64, u64) {
                let (ms, seq) = s.split_once('-').unwrap();
                (ms.parse().unwrap(), seq.parse().unwrap())
            };
            assert!(id(&b[0].id) > id(&a[99].id));
            assert_eq!(b[0].fields[0].1.bytes, b"100");
            // Entry ids read as times too.
            let lines = memscope::tabs::keys::value_lines(&v1);
            let (ms, _) = id(&a[0].id);
            let when = memscope::domain::Ts::from_micros(ms as i64 * 1000).to_rfc3339();
            assert!(lines.iter().any(|(_, l)| l.starts_with(&a[0].id) && l.ends_with(&when)), "{:?}", &lines[..2]);
        }
        other => panic!("{other:?}"),
    }

    // HyperLogLog (a string underneath): PFCOUNT
    let v = page(&s, "hll", PageCursor::Start).await;
    assert!(matches!(v.body, ValueBody::HyperLogLog { count: 3, .. }));

    // missing key
    assert!(s.value(b"nope", &PageCursor::Start).await.unwrap().is_none());
}

#[tokio::test]
async fn big_strings_are_previewed_with_getrange_never_fetched_whole() {
    let r = redis();
    let mut c = client(&r);
    let big = vec![b'a'; 3_000_000];
    let _: () = redis::cmd("SET").arg("big").arg(&big).query(&mut c).unwrap();
    let mut rc = RedisConfig::new(r.url());
    rc.preview_bytes = 4096;
    let s = RedisStore::connect(&rc, None).unwrap();
    let v = page(&s, "big", PageCursor::Start).await;
    match &v.body {
        ValueBody::String(b) => {
            assert_eq!(b.bytes.len(), 4096);
            assert_eq!(b.total_len, 3_000_000);
            assert!(b.truncated());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(calls(&mut c, "get"), 0, "a GET was sent for a value over the preview limit");
    assert_eq!(calls(&mut c, "getrange"), 1);
    let lines = memscope::tabs::keys::value_lines(&v);
    assert!(lines[0].1.contains("window: bytes 0–4096 of 2.9 MiB"), "{:?}", lines[0]);
    assert!(lines.last().unwrap().1.contains("more from byte 4096: n / PgDn loads the next window"), "{lines:?}");
    // The next window, and the last one (short, no next).
    assert_eq!(v.next, Some(PageCursor::Offset(4096)));
    let v2 = page(&s, "big", PageCursor::Offset(4096)).await;
    let ValueBody::String(b) = &v2.body else { panic!() };
    assert_eq!((b.bytes.len(), v2.next.clone()), (4096, Some(PageCursor::Offset(8192))));
    let v3 = page(&s, "big", PageCursor::Offset(2_998_000)).await;
    let ValueBody::String(b) = &v3.body else { panic!() };
    assert_eq!((b.bytes.len(), v3.next.clone()), (2000, None), "the last window ends the value");
    let lines = memscope::tabs::keys::value_lines(&v3);
    assert!(lines[0].1.contains("bytes 2998000–3000000"), "{:?}", lines[0]);
    assert_eq!(calls(&mut c, "get"), 0, "never a GET of the whole value");
}

#[tokio::test]
async fn binary_and_escape_sequences_are_shown_safely() {
    let r = redis();
    let mut c = client(&r);
    let key = b"evil:\x1b[2J\xff";
    let _: () =
        redis::cmd("SET").arg(&key[..]).arg(&b"\x1b]0;owned\x07\x00\x01\x02\x03\xff\xfe"[..]).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("bin").arg(&[0u8, 1, 2, 3, 4, 5, 0x89, 0x50][..]).query(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.keys("v"); // flat
    let idx = &h.app.keys.index;
    assert_eq!(idx.row_bytes(&idx.row(1).unwrap()), &key[..]);
    h.key(KeyCode::Char('j'));
    h.key(KeyCode::Enter);
    h.until(10, "value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    let v = h.app.keys.value.as_ref().unwrap();
    assert!(v.lines.iter().all(|(_, l)| !l.chars().any(|c| c.is_control())), "{:?}", v.lines);
    // Draw the whole screen and check no control character reaches the terminal buffer.
    let backend = ratatui::backend::TestBackend::new(120, 40);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    term.draw(|f| {
        memscope::ui::draw(f, &h.app);
    })
    .unwrap();
    let screen: String = term.backend().buffer().content().iter().map(|c| c.symbol().to_string()).collect();
    assert!(!screen.chars().any(|c| c.is_control()));
    assert!(screen.contains("evil:\\x1b[2J\\xff"), "key shown escaped");
    // Binary value: hex dump.
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let lines = memscope::tabs::keys::value_lines(&page(&s, "bin", PageCursor::Start).await);
    assert!(lines.iter().any(|(_, l)| l.starts_with("00000000  00 01 02 03 04 05 89 50")), "{lines:?}");
}

#[tokio::test]
async fn a_key_that_expires_while_shown_is_marked_gone() {
    let r = redis();
    let mut c = client(&r);
    let _: () = redis::cmd("SET").arg("short").arg("lived").arg("PX").arg(1500).query(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(10, "value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    assert!(matches!(h.app.keys.value.as_ref().unwrap().page.as_ref().unwrap().ttl, Ttl::Millis(_)));
    h.until(10, "gone", |a| a.keys.value.as_ref().is_some_and(|v| v.gone)).await;
    let v = h.app.keys.value.as_ref().unwrap();
    assert!(v.error.is_none(), "gone is not an error");
    assert!(h.app.status.as_ref().is_none_or(|s| !s.error));
}

#[tokio::test]
async fn read_only_sends_no_write_command_and_write_mode_needs_toggle_and_confirmation() {
    let r = redis();
    let mut c = client(&r);
    let _: () = redis::cmd("SET").arg("victim").arg("1").query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("other").arg("2").query(&mut c).unwrap();
    // The server's own count of write commands, from before anything read-only runs.
    let writes = ["del", "unlink", "expire", "pexpire", "persist", "rename", "renamenx", "set"];
    let before: u64 = writes.iter().map(|w| calls(&mut c, w)).sum();

    // Store guard: not armed → nothing sent.
    let s = RedisStore::connect(&RedisConfig::new(r.url()), None).unwrap();
    let e = s.write(&WriteOp::Delete(b"victim".as_slice().into())).await.unwrap_err();
    assert!(matches!(e, StoreError::ReadOnly(_)));

    // The App in a read-only profile: x, W and y send nothing.
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.keys("jx");
    h.keys("W");
    h.keys("xy");
    assert!(h.app.popup.is_none());
    assert!(!h.sent.iter().any(|c| matches!(c, memscope::message::Command::Redis(_, RedisCmd::Write { .. }))));
    drop(h); // the read-only run is over: the server saw every command it sent
    assert_eq!(writes.iter().map(|w| calls(&mut c, w)).sum::<u64>(), before, "the read-only run sent a write");

    // A profile that allows writes: still needs W, then a confirmation naming key and type.
    let mut conf = cfg(&r.url());
    conf.read_only = false;
    let mut h = Harness::new(conf);
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.until(10, "meta", |a| a.keys.meta.len() == 2).await;
    h.keys("j"); // victim
    h.keys("x");
    assert!(h.app.popup.is_none(), "no confirmation before write mode");
    h.keys("W");
    assert!(h.app.write_mode);
    h.keys("x");
    match &h.app.popup {
        Some(memscope::app::Popup::Confirm { question, .. }) => assert_eq!(question, "Delete `victim` (string)?"),
        _ => panic!("expected a confirmation"),
    }
    h.keys("n"); // cancel
    assert!(!h.sent.iter().any(|c| matches!(c, memscope::message::Command::Redis(_, RedisCmd::Write { .. }))));
    assert_eq!(writes.iter().map(|w| calls(&mut c, w)).sum::<u64>(), before, "a cancelled write sent a command");

    // Rename never overwrites: RENAMENX onto an existing key fails and both stay.
    h.keys("R");
    for _ in 0..6 {
        h.key(KeyCode::Backspace);
    }
    h.keys("other");
    h.key(KeyCode::Enter);
    h.keys("y");
    h.until(10, "rename refused", |a| a.status.as_ref().is_some_and(|s| s.text.contains("already exists"))).await;
    let n: i64 = redis::cmd("EXISTS").arg("victim").arg("other").query(&mut c).unwrap();
    assert_eq!(n, 2);

    // TTL then delete, confirmed.
    h.keys("e");
    h.keys("120");
    h.key(KeyCode::Enter);
    h.keys("y");
    h.until(10, "ttl set", |a| a.status.as_ref().is_some_and(|s| s.text.contains("expires in 120s"))).await;
    let ttl: i64 = redis::cmd("TTL").arg("victim").query(&mut c).unwrap();
    assert!((100..=120).contains(&ttl));
    h.keys("x");
    h.keys("y");
    h.until(10, "deleted", |a| a.status.as_ref().is_some_and(|s| s.text.contains("deleted `victim`"))).await;
    let n: i64 = redis::cmd("EXISTS").arg("victim").query(&mut c).unwrap();
    assert_eq!(n, 0);
    h.until(10, "list refreshed", |a| !a.keys.scan.running && row_names(a) == vec!["other"]).await;
}

#[tokio::test]
async fn server_killed_and_restarted_mid_session_recovers_on_its_own() {
    let mut r = redis();
    let seed = |r: &memscope::demo::PrivateRedis| {
        let mut c = client(r);
        let _: () = redis::cmd("MSET").arg("a:1").arg("x").arg("a:2").arg("y").query(&mut c).unwrap();
    };
    seed(&r);
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.until(10, "up", |a| a.short_term.state == memscope::domain::ConnState::Up).await;

    r.kill();
    h.keys("r");
    h.until(10, "down", |a| matches!(a.short_term.state, memscope::domain::ConnState::Down(_))).await;
    h.until(10, "error shown", |a| a.keys.error.is_some()).await;
    // The last listing stays on screen while down.
    assert_eq!(h.app.keys.index.len(), 2);

    r.restart().unwrap();
    let mut c = client(&r);
    let _: () = redis::cmd("MSET").arg("a:1").arg("x").arg("b:9").arg("z").arg("b:8").arg("w").query(&mut c).unwrap();
    // No key pressed: the backoff retry reconnects and rescans.
    h.until(20, "recovered", |a| {
        a.short_term.state == memscope::domain::ConnState::Up && a.keys.error.is_none() && a.keys.index.len() == 3
    })
    .await;
    assert_eq!(row_names(&h.app), vec!["a:", "b:"]);
}

#[tokio::test]
async fn database_switch_and_keyspace_header() {
    let r = redis();
    let mut c = client(&r);
    let _: () = redis::cmd("SET").arg("in-db0").arg("1").query(&mut c).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("in-db3").arg("1").query(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "info", |a| !a.keys.scan.running && a.keys.info.as_ref().is_some_and(|i| i.keyspace.len() == 2)).await;
    assert_eq!(row_names(&h.app), vec!["in-db0"]);
    h.keys("d");
    h.keys("3");
    h.key(KeyCode::Enter);
    h.until(10, "db3", |a| !a.keys.scan.running && row_names(a) == vec!["in-db3"]).await;
    assert_eq!(h.app.keys.db, Some(3));
    // `:db 0` from the command line.
    h.keys(":");
    h.keys("db 0");
    h.key(KeyCode::Enter);
    h.until(10, "db0", |a| !a.keys.scan.running && row_names(a) == vec!["in-db0"]).await;
}

#[tokio::test]
async fn frozen_server_times_out_the_call_not_the_ui() {
    let r = redis();
    let mut rc = RedisConfig::new(r.url());
    rc.timeout_ms = 300;
    let s = RedisStore::connect(&rc, None).unwrap();
    s.ping().await.unwrap();
    let url = r.url();
    let sleeper = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("DEBUG").arg("SLEEP").arg(2).query(&mut c).unwrap();
    });
    crate::support::wait_frozen(&r.url());
    let e = s.ping().await.unwrap_err();
    assert!(matches!(e, StoreError::Timeout(300)), "{e:?}");
    sleeper.join().unwrap();
    // After the server wakes up the same store works again.
    let mut ok = false;
    for _ in 0..20 {
        if s.ping().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok);
}

#[tokio::test]
async fn pages_of_large_elements_shrink_to_stay_bounded() {
    let r = redis();
    let mut c = client(&r);
    let big = vec![b'x'; 200_000];
    for _ in 0..30 {
        let _: () = redis::cmd("RPUSH").arg("fat").arg(&big).query(&mut c).unwrap();
    }
    let mut rc = RedisConfig::new(r.url());
    rc.preview_bytes = 256 * 1024; // page budget: 1 MiB
    let s = RedisStore::connect(&rc, None).unwrap();
    let v = page(&s, "fat", PageCursor::Start).await;
    match &v.body {
        ValueBody::List(items) => {
            assert!((1..=5).contains(&items.len()), "{} elements of 200 KB in one page", items.len())
        }
        other => panic!("{other:?}"),
    }
    assert!(v.next.is_some());
}

/// Idle on the Keys tab with a value open: an outage shows in the header with no key pressed
/// (the health probes feed the tier state); a value read during it fails; when the server is
/// back, no key pressed, the header says up and the value is read again — one source of tier
/// state, recovering by itself.
#[tokio::test]
async fn an_idle_view_notices_an_outage_and_recovers_by_itself() {
    let mut r = redis();
    let seed = |r: &memscope::demo::PrivateRedis| {
        let mut c = client(r);
        let _: () = redis::cmd("MSET").arg("k1").arg("first value").arg("k2").arg("second").query(&mut c).unwrap();
    };
    seed(&r);
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.key(KeyCode::Enter);
    h.until(10, "value", |a| a.keys.value.as_ref().is_some_and(|v| !v.lines.is_empty())).await;

    r.kill();
    h.until(15, "down, noticed while idle", |a| matches!(a.short_term.state, memscope::domain::ConnState::Down(_)))
        .await;
    // The value is read again during the outage (`r`): that read fails.
    h.keys("r");
    h.until(15, "value read failed", |a| a.keys.value.as_ref().is_some_and(|v| v.error.is_some())).await;
    let sent = h.sent.len();

    r.restart().unwrap();
    seed(&r);
    h.until(20, "up again and the value read again", |a| {
        a.short_term.state == memscope::domain::ConnState::Up
            && a.keys.value.as_ref().is_some_and(|v| v.error.is_none() && !v.lines.is_empty())
    })
    .await;
    // The re-read came from the recovery, not from a key.
    assert!(h.sent[sent..].iter().any(|c| matches!(c, memscope::message::Command::Redis(_, RedisCmd::Value { .. }))));
}

/// The Keys tab kept on one Redis Cluster node (`mode = "standalone"`) says, above the listing,
/// that it lists one node's keys and names the masters; the header names the server.
#[tokio::test]
async fn the_keys_tab_on_a_cluster_node_says_it_shows_one_nodes_keys() {
    let r = memscope::demo::PrivateRedis::start(&["--cluster-enabled", "yes"]).unwrap();
    let mut c = client(&r);
    redis::cmd("CLUSTER").arg("ADDSLOTSRANGE").arg(0).arg(16383).exec(&mut c).unwrap();
    let mut config = cfg(&r.url());
    config.redis.as_mut().unwrap().mode = memscope::config::RedisMode::Standalone;
    let mut h = Harness::new(config);
    h.until(10, "server info", |a| a.keys.info.is_some()).await;
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(240, 30)).unwrap();
    t.draw(|f| {
        memscope::ui::draw(f, &h.app);
    })
    .unwrap();
    let screen = format!("{}", t.backend());
    assert!(screen.contains("Redis 7") || screen.contains("Valkey"), "{screen}");
    assert!(screen.contains("one node of a Redis Cluster") && screen.contains("(this one)"), "{screen}");
}

/// `:analyze` in the Keys tab: the pass runs in the backend with its progress, then the
/// namespaces and the biggest keys are rows: Enter on a namespace lists its keys, Enter on a
/// key opens it, `o` opens the whole report in the pager, Esc goes back.
#[tokio::test]
async fn analyze_in_the_keys_tab_lists_a_namespace_and_opens_a_key() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for i in 0..40 {
        p.cmd("SET").arg(format!("session:{i:04}")).arg("x".repeat(100)).ignore();
    }
    for f in 0..300 {
        p.cmd("HSET").arg("big:hash").arg(format!("f{f}")).arg("v").ignore();
    }
    p.exec(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 41).await;
    h.keys(":");
    h.keys("analyze");
    h.key(KeyCode::Enter);
    h.until(15, "the analysis", |a| a.keys.analysis.as_ref().is_some_and(|v| v.result.is_some())).await;
    let screen = crate::support::screen_of(&h.app, 140, 40);
    assert!(screen.contains("41 keys") && screen.contains("NAMESPACES") && screen.contains("session:"), "{screen}");
    assert!(screen.contains("BIGGEST KEYS BY MEMORY"), "{screen}");
    // The first row is the biggest namespace: Enter lists it.
    h.key(KeyCode::Enter);
    assert!(h.app.keys.analysis.is_none());
    assert!(h.app.keys.pattern == "session:*" || h.app.keys.pattern == "big:*", "{}", h.app.keys.pattern);
    // Again, down to the biggest key, Enter opens it.
    h.keys(":");
    h.keys("analyze");
    h.key(KeyCode::Enter);
    h.until(15, "the analysis", |a| a.keys.analysis.as_ref().is_some_and(|v| v.result.is_some())).await;
    let at = h.app.keys.analysis.as_ref().unwrap().rows.iter().position(|r| r.text.ends_with("big:hash")).unwrap();
    while h.app.keys.analysis.as_ref().unwrap().selected < at {
        h.keys("j");
    }
    h.keys("o");
    assert!(matches!(h.app.popup, Some(memscope::app::Popup::Pager(_))), "o: the whole report");
    h.key(KeyCode::Esc);
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    assert_eq!(&*h.app.keys.value.as_ref().unwrap().key, b"big:hash");
}

/// The list keeps itself current while idle: keys written and deleted elsewhere appear and go
/// within a few seconds, new ones marked, the selection staying on its key; the header's count
/// follows the database.
#[tokio::test]
async fn the_key_list_stays_live_and_keeps_the_selection() {
    let r = redis();
    let mut c = client(&r);
    for k in ["a:1", "b:1", "c:1", "d:1"] {
        redis::cmd("SET").arg(k).arg("v").exec(&mut c).unwrap();
    }
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 4).await;
    h.keys("v"); // flat
    h.keys("jj");
    let selected = |a: &memscope::app::App| {
        let row = a.keys.index.row(a.keys.selected).unwrap();
        String::from_utf8_lossy(a.keys.index.row_bytes(&row)).into_owned()
    };
    assert_eq!(selected(&h.app), "c:1");
    redis::cmd("SET").arg("a:0").arg("new").exec(&mut c).unwrap();
    redis::cmd("SET").arg("e:1").arg("new").exec(&mut c).unwrap();
    redis::cmd("DEL").arg("b:1").exec(&mut c).unwrap();
    h.until(15, "the live refresh", |a| a.keys.index.len() == 5 && a.keys.fresh.len() == 2).await;
    assert_eq!(selected(&h.app), "c:1", "the selection stays on its key");
    let screen = crate::support::screen_of(&h.app, 120, 20);
    assert!(screen.contains("+ a:0") && screen.contains("+ e:1") && !screen.contains("b:1"), "{screen}");
    assert!(screen.contains("5 keys") && screen.contains("live"), "{screen}");
}

/// `y` copies the selected key's name, a value page or a message with OSC 52 (the UI loop
/// writes the sequence); too large a value is refused with the way to get it.
#[tokio::test]
async fn y_copies_with_osc52() {
    let r = redis();
    let mut c = client(&r);
    redis::cmd("SET").arg("greeting").arg("héllo").exec(&mut c).unwrap();
    redis::cmd("SET").arg("huge").arg("x".repeat(200_000)).exec(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.keys("v"); // flat: greeting, huge
    h.keys("y");
    assert_eq!(h.app.clipboard.as_deref(), Some("greeting"));
    assert_eq!(memscope::tui::osc52("greeting"), "\x1b]52;c;Z3JlZXRpbmc=\x07");
    h.app.clipboard = None;
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    h.keys("y");
    assert_eq!(h.app.clipboard.as_deref(), Some("héllo"));
    h.app.clipboard = None;
    h.key(KeyCode::Esc);
    h.keys("j");
    h.key(KeyCode::Enter);
    h.until(10, "the big value", |a| {
        a.keys.value.as_ref().is_some_and(|v| v.page.as_ref().is_some_and(|p| p.length == 200_000))
    })
    .await;
    let shown: usize = h.app.keys.value.as_ref().unwrap().lines.iter().map(|(_, l)| l.len()).sum();
    assert!(shown > memscope::app::CLIPBOARD_MAX, "the page shown is larger than OSC 52 takes");
    h.keys("y");
    assert!(h.app.clipboard.is_none());
    assert!(h.app.status.as_ref().unwrap().text.contains(":export FILE"), "{:?}", h.app.status);
}

/// `:export` of a value larger than its page writes the whole value — a file the user asked
/// for — read page after page in the backend: every element of a long list; a big string in
/// windows with their offsets, which put together are the value.
#[tokio::test]
async fn export_of_a_large_value_writes_it_whole() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for i in 0..2_500 {
        p.cmd("RPUSH").arg("biglist").arg(format!("item {i}")).ignore();
    }
    p.cmd("SET").arg("bigstring").arg("0123456789".repeat(60_000)).ignore();
    p.query::<()>(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    let dir = tempfile::tempdir().unwrap();
    for (row, file) in [(0usize, "list.jsonl"), (1, "string.jsonl")] {
        h.keys("g");
        for _ in 0..row {
            h.keys("j");
        }
        h.key(KeyCode::Enter);
        h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
        let out = dir.path().join(file);
        h.keys(":");
        h.keys(&format!("export {}", out.display()));
        h.key(KeyCode::Enter);
        h.until(20, "exported", |a| a.status.as_ref().is_some_and(|s| s.text.contains("exported the whole value")))
            .await;
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["complete"], true, "{}", lines[0]);
        if row == 0 {
            assert_eq!(lines.len(), 2_501, "the header and every element");
            assert_eq!(lines[2_500]["index"], 2_499);
            assert_eq!(lines[2_500]["value"], "item 2499");
        } else {
            let whole: String = lines[1..].iter().map(|l| l["value"].as_str().unwrap()).collect();
            assert_eq!(whole.len(), 600_000, "the windows put together are the value");
            assert!(lines.len() > 2, "read in windows");
            assert_eq!(lines[2]["offset"].as_u64(), Some(lines[1]["value"].as_str().unwrap().len() as u64));
        }
        h.key(KeyCode::Esc);
    }
}

/// `:export FILE` writes what the view shows as JSON lines (off the UI thread): here the key
/// list with what is known of each key; a binary name as hex.
#[tokio::test]
async fn export_writes_the_view_as_json_lines() {
    let r = redis();
    let mut c = client(&r);
    redis::cmd("SET").arg("a").arg("1").exec(&mut c).unwrap();
    redis::cmd("SET").arg(&b"bin\xff"[..]).arg("2").exec(&mut c).unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.until(10, "the rows measured", |a| a.keys.meta.len() == 2).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys.jsonl");
    h.keys(":");
    h.keys(&format!("export {}", out.display()));
    h.key(KeyCode::Enter);
    h.until(10, "exported", |a| a.status.as_ref().is_some_and(|s| s.text.starts_with("exported"))).await;
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["key"], "a");
    assert_eq!(lines[1]["key_hex"], "62696eff");
    assert!(h.app.status.as_ref().unwrap().text.contains("2 JSON lines"));
    // One convention with `keys --json --long`: no TTL is -1, a figure not measured is absent.
    assert_eq!(lines[0]["ttl_ms"], -1, "{:?}", lines[0]);
    let mut p = redis::pipe();
    for i in 0..300 {
        p.cmd("SET").arg(format!("k:{i:03}")).arg(i).ignore();
    }
    p.query::<()>(&mut c).unwrap();
    h.key(KeyCode::Char('r'));
    h.until(10, "rescan", |a| !a.keys.scan.running && a.keys.index.len() == 302).await;
    h.keys(":");
    h.keys(&format!("export {}", out.display()));
    h.key(KeyCode::Enter);
    h.until(10, "exported", |a| a.status.as_ref().is_some_and(|s| s.text.contains("302 keys"))).await;
    let status = h.app.status.as_ref().unwrap().text.clone();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let measured = lines.iter().filter(|l| l.get("ttl_ms").is_some()).count();
    assert!(measured < 302, "only the rows seen are measured: {measured}");
    assert!(status.contains(&format!("for the {measured} measured")), "{status}");
    // A file that cannot be written is said so.
    h.keys(":");
    h.keys("export /nonexistent/dir/x.jsonl");
    h.key(KeyCode::Enter);
    h.until(10, "the error", |a| a.status.as_ref().is_some_and(|s| s.error && s.text.contains("export to"))).await;
}

/// `:export` and `y` of an open value write the stored data, never the screen's text: a hash as
/// `{"field", "value"}` lines (it wrote `{"line": "model     │ claude-sonnet"}`), binary bytes as
/// base64, after a first line that says what the value is and whether this is all of it.
#[tokio::test]
async fn export_and_copy_of_a_value_write_its_data() {
    let r = redis();
    let mut c = client(&r);
    redis::cmd("HSET")
        .arg("h")
        .arg("model")
        .arg("claude-sonnet")
        .arg("raw")
        .arg(&b"\xff\x00\x1b"[..])
        .exec(&mut c)
        .unwrap();
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 1).await;
    h.keys("v");
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.jsonl");
    h.keys(":");
    h.keys(&format!("export {}", out.display()));
    h.key(KeyCode::Enter);
    h.until(10, "exported", |a| a.status.as_ref().is_some_and(|s| s.text.starts_with("exported"))).await;
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains('│') && !text.contains("\"line\""), "screen text exported:\n{text}");
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"key": "h", "type": "hash", "length": 2, "elements_here": 2, "complete": true})
    );
    let mut rows: Vec<serde_json::Value> = lines[1..].to_vec();
    rows.sort_by_key(|v| v["field"].as_str().unwrap().to_string());
    assert_eq!(rows[0], serde_json::json!({"field": "model", "value": "claude-sonnet"}));
    assert_eq!(rows[1], serde_json::json!({"field": "raw", "value_base64": "/wAb"}));
    // `y` copies the same data.
    h.keys("y");
    let copied = h.app.clipboard.clone().unwrap();
    assert!(copied.contains(r#""field":"model","value":"claude-sonnet""#) && !copied.contains('│'), "{copied}");
}

/// The mouse: a click on the tab bar switches tabs, the wheel scrolls the list, a click picks a
/// row and a click on the picked row opens it; the wheel scrolls the pager.
#[tokio::test]
async fn the_mouse_clicks_tabs_and_rows_and_the_wheel_scrolls() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use memscope::app::{Msg, TabId};
    let r = redis();
    let mut c = client(&r);
    for i in 0..30 {
        redis::cmd("SET").arg(format!("k{i:02}")).arg("v").exec(&mut c).unwrap();
    }
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 30).await;
    h.keys("v"); // flat
    let mouse = |kind, column, row| Msg::Mouse(MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE });
    // Draw like the UI loop: the frame's geometry goes back to the App.
    let draw = |h: &mut crate::support::Harness| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
        let mut geo = h.app.geometry;
        t.draw(|f| geo = memscope::ui::draw(f, &h.app)).unwrap();
        h.app.update(Msg::Layout(geo));
    };
    draw(&mut h);
    // " 1 Conversations │ 2 Redis Keys │ 3 Semantic Search │ 4 Health"
    h.app.update(mouse(MouseEventKind::Down(MouseButton::Left), 45, 0));
    assert_eq!(h.app.tab, TabId::Search);
    h.app.update(mouse(MouseEventKind::Down(MouseButton::Left), 22, 0));
    assert_eq!(h.app.tab, TabId::Keys);
    draw(&mut h);
    h.app.update(mouse(MouseEventKind::ScrollDown, 10, 10));
    assert_eq!(h.app.keys.selected, 3, "three rows a notch");
    let top = h.app.geometry.keys_top;
    h.app.update(mouse(MouseEventKind::Down(MouseButton::Left), 5, top + 5));
    assert_eq!(h.app.keys.selected, h.app.keys.offset + 5);
    let picked = {
        let row = h.app.keys.index.row(h.app.keys.selected).unwrap();
        h.app.keys.index.row_bytes(&row).to_vec()
    };
    let cmds = h.app.update(mouse(MouseEventKind::Down(MouseButton::Left), 5, top + 5));
    assert!(
        cmds.iter().any(
            |c| matches!(c, memscope::message::Command::Redis(_, RedisCmd::Value { key, .. }) if **key == *picked)
        ),
        "{cmds:?}"
    );
    // The pager scrolls with the wheel (a help longer than a small screen).
    h.app.update(Msg::Resize(80, 16));
    h.keys("?");
    h.app.update(mouse(MouseEventKind::ScrollDown, 10, 10));
    let Some(memscope::app::Popup::Pager(p)) = &h.app.popup else { panic!("the help") };
    assert_eq!(p.top, 3);
}

/// With a value open, Tab puts the focus on the key list: j/k move through the keys and the
/// value follows (a preview); Tab again scrolls the value. At 80 columns the list keeps the
/// names readable (TTL and size are in the value pane).
#[tokio::test]
async fn the_value_follows_the_selection_and_names_stay_readable_at_80_columns() {
    let r = redis();
    let mut c = client(&r);
    for (k, v) in [("conversation:conv-0001:messages", "one"), ("conversation:conv-0002:messages", "two")] {
        redis::cmd("SET").arg(k).arg(v).exec(&mut c).unwrap();
    }
    let mut h = Harness::new(cfg(&r.url()));
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 2).await;
    h.keys("v"); // flat
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    assert_eq!(h.app.context(), memscope::keymap::Context::Value);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.context(), memscope::keymap::Context::KeyList, "Tab: the focus on the list, the value stays");
    assert_eq!(h.app.tab, memscope::app::TabId::Keys);
    h.keys("j");
    h.until(10, "the value follows", |a| {
        a.keys.value.as_ref().is_some_and(|v| &*v.key == b"conversation:conv-0002:messages" && v.page.is_some())
    })
    .await;
    assert_eq!(h.app.context(), memscope::keymap::Context::KeyList);
    let screen = crate::support::screen_of(&h.app, 80, 20);
    assert!(screen.contains("conversation:conv-0002:messages"), "the whole name at 80 columns: {screen}");
    h.key(KeyCode::Tab);
    assert_eq!(h.app.context(), memscope::keymap::Context::Value);
    // Without a value open, Tab is the next tab.
    h.key(KeyCode::Esc);
    h.key(KeyCode::Tab);
    assert_eq!(h.app.tab, memscope::app::TabId::Search);
}

/// A hash of 1,000 fields pages with a label that says which elements are shown, page after
/// page (HSCAN pages have no offset of their own: the elements before are counted).
#[tokio::test]
async fn a_big_hash_pages_with_a_label_matching_what_is_shown() {
    let r = redis();
    let mut c = client(&r);
    let mut p = redis::pipe();
    for f in 0..1000 {
        p.cmd("HSET").arg("big").arg(format!("field{f:04}")).arg("x".repeat(50)).ignore();
    }
    p.exec(&mut c).unwrap();
    let mut config = cfg(&r.url());
    config.redis.as_mut().unwrap().preview_bytes = 2048; // small pages
    let mut h = Harness::new(config);
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    let first = h.app.keys.value.as_ref().unwrap().page.as_ref().unwrap().body.elements();
    assert!(first > 0 && first < 1000, "{first}");
    let screen = crate::support::screen_of(&h.app, 140, 40);
    assert!(screen.contains(&format!("elements 1–{first} of 1,000")), "{screen}");
    // Page on (PgDn scrolls within a page first) until the next page is read.
    for _ in 0..200 {
        if h.app.keys.value.as_ref().unwrap().before.len() == 1 {
            break;
        }
        h.key(KeyCode::PageDown);
    }
    h.until(10, "page two", |a| {
        a.keys.value.as_ref().is_some_and(|v| v.before.len() == 1 && v.page.is_some() && !v.req.waiting())
    })
    .await;
    let second = h.app.keys.value.as_ref().unwrap().page.as_ref().unwrap().body.elements();
    let screen = crate::support::screen_of(&h.app, 140, 40);
    assert!(screen.contains(&format!("elements {}–{} of 1,000", first + 1, first + second)), "{screen}");
}

/// A previewed string in the pager: `]` loads its next window there (read by the value view,
/// shown again in the pager), never the whole value.
#[tokio::test]
async fn the_pager_loads_the_next_window_of_a_previewed_string() {
    let r = redis();
    let mut c = client(&r);
    let text: String = (0..2000).map(|i| format!("word{i:04} ")).collect();
    redis::cmd("SET").arg("long").arg(&text).exec(&mut c).unwrap();
    let mut config = cfg(&r.url());
    config.redis.as_mut().unwrap().preview_bytes = 4096;
    let mut h = Harness::new(config);
    h.until(10, "scan", |a| !a.keys.scan.running && a.keys.index.len() == 1).await;
    h.key(KeyCode::Enter);
    h.until(10, "the value", |a| a.keys.value.as_ref().is_some_and(|v| v.page.is_some())).await;
    h.keys("o");
    let Some(memscope::app::Popup::Pager(p)) = &h.app.popup else { panic!("the pager") };
    assert!(p.more && p.lines.iter().any(|l| l.contains("word0000")));
    h.keys("]");
    h.until(10, "the next window in the pager", |a| {
        matches!(&a.popup, Some(memscope::app::Popup::Pager(p)) if p.lines.iter().any(|l| l.contains("window: bytes 4096–8192")))
    })
    .await;
    assert_eq!(h.app.keys.value.as_ref().unwrap().cursor, PageCursor::Offset(4096));
    assert_eq!(calls(&mut c, "get"), 0, "never the whole value");
}
