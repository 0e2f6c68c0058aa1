//! One contract for the long-term tier, run against every implementation: Firestore (on the
//! emulator this test binary starts) and SQLite (a temp file).
//! Why ~680 lines: it is one contract; every case runs on both stores from one macro, and a
//! case split off would no longer be checked against both.

use memscope::domain::{ConvFilter, Cursor, FsValue, Ts, TsForm};
use memscope::store::LongTermStore;
use memscope::store::firestore::FirestoreStore;
use memscope::store::sqlite::SqliteStore;
use std::sync::Arc;

async fn firestore(test: &str) -> Arc<dyn LongTermStore> {
    let emu = crate::support::firestore_emulator();
    Arc::new(FirestoreStore::connect(&crate::support::project_id(test), "(default)", Some(&emu.host)).await.unwrap())
}

fn sqlite() -> (Arc<dyn LongTermStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("memory.db").to_str().unwrap()).unwrap();
    (Arc::new(s), dir)
}

/// Runs one contract case against both implementations.
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn firestore() {
                super::$name(super::firestore(stringify!($name)).await).await;
            }
            #[tokio::test]
            async fn sqlite() {
                let (s, _dir) = super::sqlite();
                super::$name(s).await;
            }
        }
    };
}

fn s(v: &str) -> FsValue {
    FsValue::String(v.into())
}
fn ts(secs: i64) -> FsValue {
    FsValue::Timestamp(Ts { secs, nanos: 0 })
}
/// The way older Python writers stored a timestamp: `datetime.utcnow().isoformat()`, no zone,
/// with microseconds. Written out by hand (not with memscope's own formatter): 1_700_000_000 is
/// 2023-11-14T22:13:20Z.
fn iso(secs: i64) -> FsValue {
    let (d, rest) = ((secs - 1_700_000_000).div_euclid(86_400), (secs - 1_700_000_000).rem_euclid(86_400));
    assert_eq!(d, 0, "the hand-made ISO strings cover 2023-11-14/15 only");
    let t = 22 * 3600 + 13 * 60 + 20 + rest;
    let (day, t) = (14 + t / 86_400, t % 86_400);
    s(&format!("2023-11-{day:02}T{:02}:{:02}:{:02}.250000", t / 3600, t / 60 % 60, t % 60))
}

async fn conversation(store: &Arc<dyn LongTermStore>, id: &str, user: &str, agent: &str, title: &str, updated: i64) {
    store
        .put(
            &format!("conversations/{id}"),
            vec![
                ("user_id".into(), s(user)),
                ("agent_id".into(), s(agent)),
                ("title".into(), s(title)),
                ("created_at".into(), ts(updated - 100)),
                ("updated_at".into(), ts(updated)),
                ("message_count".into(), FsValue::Int(2)),
            ],
        )
        .await
        .unwrap();
}

async fn every_value_type_keeps_its_type(store: Arc<dyn LongTermStore>) {
    let fields = vec![
        ("arr".to_string(), FsValue::Array(vec![FsValue::Int(1), s("two"), FsValue::Null])),
        ("b".to_string(), FsValue::Bool(true)),
        ("bytes".to_string(), FsValue::Bytes(vec![0, 1, 0xfe, 0xff])),
        ("d".to_string(), FsValue::Double(2.5)),
        ("geo".to_string(), FsValue::GeoPoint { lat: 40.7128, lng: -74.006 }),
        ("i".to_string(), FsValue::Int(i64::MIN)),
        ("inf".to_string(), FsValue::Double(f64::INFINITY)),
        (
            "map".to_string(),
            FsValue::Map(vec![
                ("inner".into(), FsValue::Map(vec![("deep".into(), FsValue::Int(7))])),
                ("x".into(), s("y")),
            ]),
        ),
        ("n".to_string(), FsValue::Null),
        ("nan".to_string(), FsValue::Double(f64::NAN)),
        ("ref".to_string(), FsValue::Reference("users/u-alice".into())),
        ("s".to_string(), s("hostile \u{1b}[2J\u{7} text ⟨日本語⟩ \u{202e}")),
        ("t".to_string(), FsValue::Timestamp(Ts { secs: 1_763_900_000, nanos: 123_456_000 })),
    ];
    store.put("config/all-types", fields.clone()).await.unwrap();
    let doc = store.document("config/all-types").await.unwrap().expect("document");
    assert_eq!(doc.path, "config/all-types");
    assert_eq!(doc.fields.len(), fields.len());
    for ((k1, v1), (k2, v2)) in doc.fields.iter().zip(&fields) {
        assert_eq!(k1, k2);
        match (v1, v2) {
            (FsValue::Double(a), FsValue::Double(b)) if a.is_nan() => assert!(b.is_nan()),
            _ => assert_eq!(v1, v2, "field {k1}"),
        }
    }
    assert!(store.document("config/missing").await.unwrap().is_none());
}
contract!(every_value_type_keeps_its_type);

async fn conversations_page_newest_first_and_filter(store: Arc<dyn LongTermStore>) {
    for i in 0..23 {
        let user = if i % 3 == 0 { "u-alice" } else { "u-bob" };
        let agent = if i % 2 == 0 { "agent-a" } else { "agent-b" };
        let title = if i < 5 { format!("refund {i}") } else { format!("trip {i}") };
        conversation(&store, &format!("c{i:03}"), user, agent, &title, 1_700_000_000 + i * 60).await;
    }
    // Newest first, cursor-paged, no duplicates and no gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store.conversations(&ConvFilter::All, cursor.as_ref(), 5).await.unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).rev().map(|i| format!("c{i:03}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(store.count_conversations(&ConvFilter::All).await.unwrap(), 23);

    let first = store.conversations(&ConvFilter::All, None, 1).await.unwrap();
    let c = &first.items[0];
    assert_eq!(c.title.as_deref(), Some("trip 22"));
    assert_eq!(c.user_id.as_deref(), Some("u-bob"));
    assert_eq!(c.message_count, Some(2));
    assert_eq!(c.updated_at, Some(Ts { secs: 1_700_000_000 + 22 * 60, nanos: 0 }));

    let alice = store.conversations(&ConvFilter::User("u-alice".into()), None, 100).await.unwrap();
    assert_eq!(alice.items.len(), 8);
    assert!(alice.items.windows(2).all(|w| w[0].updated_at >= w[1].updated_at));
    assert_eq!(store.count_conversations(&ConvFilter::User("u-alice".into())).await.unwrap(), 8);
    assert_eq!(store.count_conversations(&ConvFilter::Agent("agent-b".into())).await.unwrap(), 11);

    let refunds = store.conversations(&ConvFilter::TitlePrefix("refund".into()), None, 3).await.unwrap();
    assert_eq!(refunds.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c000", "c001", "c002"]);
    let more = store.conversations(&ConvFilter::TitlePrefix("refund".into()), refunds.next.as_ref(), 3).await.unwrap();
    assert_eq!(more.items.len(), 2);
    assert_eq!(store.count_conversations(&ConvFilter::TitlePrefix("refund".into())).await.unwrap(), 5);

    let ids = store.conversations(&ConvFilter::IdPrefix("c01".into()), None, 100).await.unwrap();
    assert_eq!(ids.items.len(), 10);
}
contract!(conversations_page_newest_first_and_filter);

async fn messages_sort_both_timestamp_forms_together(store: Arc<dyn LongTermStore>) {
    conversation(&store, "mixed", "u-alice", "agent-a", "mixed writers", 1_700_000_000).await;
    // 12 messages, one minute apart, alternating typed timestamps and zone-less ISO strings.
    for i in 0..12i64 {
        let t = 1_700_000_000 + i * 60;
        let v = if i % 2 == 0 { ts(t) } else { iso(t) };
        store
            .put(
                &format!("conversations/mixed/messages/m{:02}", 11 - i), // ids deliberately out of order
                vec![
                    ("role".into(), s(if i % 2 == 0 { "user" } else { "assistant" })),
                    ("content".into(), s(&format!("message {i}"))),
                    ("timestamp".into(), v),
                    ("user_id".into(), s("u-alice")),
                ],
            )
            .await
            .unwrap();
    }
    let mut got = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store.messages("mixed", cursor.as_ref(), 5).await.unwrap();
        pages += 1;
        got.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    let contents: Vec<&str> = got.iter().map(|m| m.content.as_str()).collect();
    let expected: Vec<String> = (0..12).map(|i| format!("message {i}")).collect();
    assert_eq!(contents, expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got[0].ts_form, TsForm::Timestamp);
    assert_eq!(got[1].ts_form, TsForm::IsoString);
    assert_eq!(got[1].timestamp, Some(Ts { secs: 1_700_000_060, nanos: 250_000_000 }));
    assert!(store.messages("no-such-conversation", None, 5).await.unwrap().items.is_empty());
}
contract!(messages_sort_both_timestamp_forms_together);

async fn collections_and_documents_browse(store: Arc<dyn LongTermStore>) {
    conversation(&store, "c1", "u-alice", "agent-a", "t", 1).await;
    store.put("conversations/c1/messages/m1", vec![("content".into(), s("hi"))]).await.unwrap();
    store.put("conversations/c1/notes/n1", vec![("x".into(), FsValue::Int(1))]).await.unwrap();
    for i in 0..7 {
        store.put(&format!("users/u{i}"), vec![("name".into(), s(&format!("user {i}")))]).await.unwrap();
    }
    store.put("agents/agent-a", vec![("state".into(), s("idle"))]).await.unwrap();
    assert_eq!(store.collections(None).await.unwrap(), ["agents", "conversations", "users"]);
    assert_eq!(store.collections(Some("conversations/c1")).await.unwrap(), ["messages", "notes"]);
    let p1 = store.documents("users", None, 4).await.unwrap();
    assert_eq!(p1.items.iter().map(|d| d.id()).collect::<Vec<_>>(), ["u0", "u1", "u2", "u3"]);
    let p2 = store.documents("users", p1.next.as_ref(), 4).await.unwrap();
    assert_eq!(p2.items.iter().map(|d| d.id()).collect::<Vec<_>>(), ["u4", "u5", "u6"]);
    assert!(p2.next.is_none());
    let sub = store.documents("conversations/c1/messages", None, 10).await.unwrap();
    assert_eq!(sub.items[0].path, "conversations/c1/messages/m1");
    store.ping().await.unwrap();
}
contract!(collections_and_documents_browse);

async fn get_many_and_delete_many(store: Arc<dyn LongTermStore>) {
    // More than one commit's worth (500) and one batch-get's worth (300).
    let docs: Vec<(String, Vec<(String, FsValue)>)> =
        (0..620).map(|i| (format!("bulk/d{i:04}"), vec![("i".to_string(), FsValue::Int(i))])).collect();
    store.put_many(docs).await.unwrap();
    let paths: Vec<String> = ["bulk/d0619", "bulk/missing", "bulk/d0000", "bulk/d0301"].map(String::from).to_vec();
    let got = store.get_many(&paths).await.unwrap();
    let ints: Vec<Option<i64>> = got.iter().map(|d| d.as_ref().and_then(|d| d.get("i")?.as_i64())).collect();
    assert_eq!(ints, vec![Some(619), None, Some(0), Some(301)], "in the order asked, None where missing");
    let all: Vec<String> = (0..620).map(|i| format!("bulk/d{i:04}")).collect();
    assert_eq!(store.get_many(&all).await.unwrap().iter().filter(|d| d.is_some()).count(), 620);
    store.delete_many(&["bulk/d0000".into(), "bulk/d0619".into(), "bulk/never".into()]).await.unwrap();
    let got = store.get_many(&paths).await.unwrap();
    assert_eq!(got.iter().map(Option::is_some).collect::<Vec<_>>(), vec![false, false, false, true]);
}
contract!(get_many_and_delete_many);

async fn merge_keeps_other_fields_and_concurrent_increments_add_up(store: Arc<dyn LongTermStore>) {
    use memscope::domain::Merge;
    let path = "conversations/c-merge".to_string();
    store.put(&path, vec![("keep".into(), s("me")), ("title".into(), s("old"))]).await.unwrap();
    let m = |set: Vec<(String, FsValue)>, n: i64| Merge {
        path: path.clone(),
        set,
        increment: vec![("n".into(), n)],
        ..Merge::default()
    };
    store.merge_many(vec![m(vec![("title".into(), s("new")), ("at".into(), ts(5))], 2)]).await.unwrap();
    let d = store.document(&path).await.unwrap().unwrap();
    assert_eq!(d.get("keep"), Some(&s("me")), "fields not set are kept");
    assert_eq!(d.get("title"), Some(&s("new")));
    assert_eq!(d.get("at"), Some(&ts(5)));
    assert_eq!(d.get("n"), Some(&FsValue::Int(2)), "a missing field counts from 0");
    // Writers at the same time: every increment lands.
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (store, m) = (store.clone(), m(vec![], 1));
            tokio::spawn(async move { store.merge_many(vec![m]).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let d = store.document(&path).await.unwrap().unwrap();
    assert_eq!(d.get("n"), Some(&FsValue::Int(14)));
    // A merge creates a missing document.
    let fresh = Merge { path: "conversations/c-new".into(), set: vec![("t".into(), s("x"))], ..Merge::default() };
    store.merge_many(vec![fresh]).await.unwrap();
    assert_eq!(store.document("conversations/c-new").await.unwrap().unwrap().get("t"), Some(&s("x")));

    // Bounded times from racing writers, in every order: updated_at only moves forward,
    // created_at only back, and the count still adds up.
    let tasks: Vec<_> = [7i64, 3, 11, 5, 9, 1, 10, 2]
        .into_iter()
        .map(|t| {
            let store = store.clone();
            let m = Merge {
                path: "conversations/c-times".into(),
                increment: vec![("n".into(), 1)],
                at_least: vec![("updated_at".into(), Ts { secs: t, nanos: 0 })],
                at_most: vec![("created_at".into(), Ts { secs: t, nanos: 0 })],
                ..Merge::default()
            };
            tokio::spawn(async move { store.merge_many(vec![m]).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let d = store.document("conversations/c-times").await.unwrap().unwrap();
    assert_eq!(
        (d.get("updated_at"), d.get("created_at"), d.get("n")),
        (Some(&ts(11)), Some(&ts(1)), Some(&FsValue::Int(8)))
    );
}
contract!(merge_keeps_other_fields_and_concurrent_increments_add_up);

/// `create_many` creates only what does not exist, and says which: racing creators of the same
/// documents get exactly one `true` each between them, and an existing document is untouched.
async fn create_many_creates_each_document_once_among_racing_writers(store: Arc<dyn LongTermStore>) {
    store.put("c/keep", vec![("v".into(), s("old"))]).await.unwrap();
    let docs = |who: &str| -> Vec<(String, Vec<(String, FsValue)>)> {
        (0..40)
            .map(|i| (format!("c/d{i:02}"), vec![("by".into(), s(who))]))
            .chain([("c/keep".into(), vec![("v".into(), s(who))])])
            .collect()
    };
    let (a, b) = (store.clone(), store.clone());
    let (da, db) = (docs("a"), docs("b"));
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.create_many(da).await.unwrap() }),
        tokio::spawn(async move { b.create_many(db).await.unwrap() })
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    for i in 0..40 {
        assert!(ra[i] ^ rb[i], "d{i:02}: exactly one writer created it ({} {})", ra[i], rb[i]);
    }
    assert!(!ra[40] && !rb[40], "an existing document is not created again");
    let kept = store.document("c/keep").await.unwrap().unwrap();
    assert_eq!(kept.get("v"), Some(&s("old")), "and is left as it was");
}
contract!(create_many_creates_each_document_once_among_racing_writers);

async fn message_doc(store: &Arc<dyn LongTermStore>, conv: &str, id: &str, content: &str, timestamp: Option<FsValue>) {
    let mut f = vec![("role".to_string(), s("user")), ("content".to_string(), s(content))];
    if let Some(t) = timestamp {
        f.push(("timestamp".into(), t));
    }
    store.put(&format!("conversations/{conv}/messages/{id}"), f).await.unwrap();
}

/// Every message document of a thread is read, whatever its `timestamp` holds: a Firestore
/// timestamp, an ISO string, Unix seconds as an integer or a float, milliseconds, null, another
/// type, or nothing. Timed messages come by instant; the others after them, in id order.
async fn messages_of_every_timestamp_form_are_all_read(store: Arc<dyn LongTermStore>) {
    conversation(&store, "forms", "u-alice", "agent-a", "every form", 1_700_000_000).await;
    let cases: Vec<(&str, Option<FsValue>, &str)> = vec![
        ("a-none", None, "no timestamp"),
        ("b-null", Some(FsValue::Null), "null timestamp"),
        ("c-int", Some(FsValue::Int(1_700_000_120)), "unix int"),
        ("d-float", Some(FsValue::Double(1_700_000_030.5)), "unix float"),
        ("e-typed", Some(ts(1_700_000_060)), "typed"),
        ("f-iso", Some(iso(1_700_000_090)), "iso"),
        ("g-millis", Some(FsValue::Int(1_700_000_150_000)), "unix millis"),
        ("h-bool", Some(FsValue::Bool(true)), "bool timestamp"),
        ("i-nan", Some(FsValue::Double(f64::NAN)), "nan timestamp"),
        ("j-typed-first", Some(ts(1_700_000_000)), "first"),
    ];
    for (id, t, content) in &cases {
        message_doc(&store, "forms", id, content, t.clone()).await;
    }
    for page_size in [3u32, 4, 100] {
        let mut got = Vec::new();
        let mut cursor = None;
        for _ in 0..20 {
            let page = store.messages("forms", cursor.as_ref(), page_size).await.unwrap();
            assert!(page.items.len() <= page_size as usize);
            got.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let contents: Vec<&str> = got.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            contents,
            [
                "first",
                "unix float",
                "typed",
                "iso",
                "unix int",
                "unix millis",
                // No usable timestamp: last, in id order.
                "no timestamp",
                "null timestamp",
                "bool timestamp",
                "nan timestamp",
            ],
            "page size {page_size}"
        );
        let by = |c: &str| got.iter().find(|m| m.content == c).unwrap();
        assert_eq!(by("unix int").ts_form, TsForm::UnixNumber);
        assert_eq!(by("unix int").timestamp, Some(Ts { secs: 1_700_000_120, nanos: 0 }));
        assert_eq!(by("unix float").timestamp, Some(Ts { secs: 1_700_000_030, nanos: 500_000_000 }));
        assert_eq!(by("unix millis").timestamp, Some(Ts { secs: 1_700_000_150, nanos: 0 }));
        assert_eq!(by("no timestamp").ts_form, TsForm::Missing);
        assert_eq!(by("null timestamp").timestamp, None);
    }
}
contract!(messages_of_every_timestamp_form_are_all_read);

/// Timestamps that do not parse ("", "soon") are "no timestamp": after every timed message,
/// never holding back the ISO strings behind them; a year-9999 sentinel in Unix seconds is year
/// 9999 (it read as 1978 in milliseconds), so it comes last among the timed.
async fn unparseable_and_far_timestamps_keep_the_documented_order(store: Arc<dyn LongTermStore>) {
    conversation(&store, "odd", "u", "a", "odd times", 1_700_000_000).await;
    let cases: Vec<(&str, Option<FsValue>, &str)> = vec![
        ("a-typed", Some(ts(1_700_000_000)), "first"),
        ("b-empty", Some(s("")), "empty string"),
        ("c-soon", Some(s("soon")), "not a date"),
        ("d-iso", Some(iso(1_700_000_090)), "iso"),
        ("e-int", Some(FsValue::Int(1_700_000_120)), "unix int"),
        ("f-9999", Some(FsValue::Int(253_402_300_000)), "year 9999"),
        ("g-none", None, "no timestamp"),
    ];
    for (id, t, content) in &cases {
        message_doc(&store, "odd", id, content, t.clone()).await;
    }
    for page_size in [2u32, 3, 100] {
        let mut got = Vec::new();
        let mut cursor = None;
        for _ in 0..20 {
            let page = store.messages("odd", cursor.as_ref(), page_size).await.unwrap();
            got.extend(page.items.into_iter().map(|m| m.content));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            got,
            ["first", "iso", "unix int", "year 9999", "empty string", "not a date", "no timestamp"],
            "page size {page_size}"
        );
    }
}
contract!(unparseable_and_far_timestamps_keep_the_documented_order);

/// Read every page of a thread at `page_size`, as the contents of its messages.
async fn whole_thread(store: &Arc<dyn LongTermStore>, conv: &str, page_size: u32) -> Vec<String> {
    let mut got = Vec::new();
    let mut cursor = None;
    for _ in 0..2_000 {
        let page = store.messages(conv, cursor.as_ref(), page_size).await.unwrap();
        assert!(page.items.len() <= page_size as usize);
        got.extend(page.items.into_iter().map(|m| m.content));
        match page.next {
            Some(c) => cursor = Some(c),
            None => return got,
        }
    }
    panic!("{conv}: no end after 2,000 pages of {page_size}");
}

/// Every timestamp shape in one thread orders by the instant it names, on every page size:
/// ISO strings at different offsets (whose text order is not their time order: a string dated
/// the next day can be the earlier instant), with and without a zone, with a space for the
/// `T`; Unix seconds, milliseconds and microseconds, negative ones too; Firestore timestamps.
async fn threads_order_every_shape_by_instant(store: Arc<dyn LongTermStore>) {
    conversation(&store, "mixed", "u", "a", "mixed", 1_700_000_000).await;
    // (id, stored timestamp, content = the instant it names, so that sorted content is the
    // expected order)
    let cases: Vec<(&str, Option<FsValue>, &str)> = vec![
        ("a", Some(s("2023-11-14T23:15:00+01:00")), "2023-11-14T22:15:00Z offset +01"),
        ("b", Some(s("2023-11-14T22:14:00")), "2023-11-14T22:14:00Z no zone"),
        ("c", Some(FsValue::Int(1_700_000_000_000)), "2023-11-14T22:13:20Z millis"),
        ("d", Some(FsValue::Int(1_700_000_130)), "2023-11-14T22:15:30Z seconds"),
        ("e", Some(s("2023-11-15T07:00:00+09:00")), "2023-11-14T22:00:00Z next day's date, +09"),
        ("f", Some(s("2023-11-14T17:16:00-05:00")), "2023-11-14T22:16:00Z offset -05"),
        ("g", Some(s("2023-11-14 22:12:00Z")), "2023-11-14T22:12:00Z space"),
        ("h", Some(FsValue::Int(1_700_000_010_000_000)), "2023-11-14T22:13:30Z micros"),
        ("i", Some(FsValue::Double(1_700_000_050.5)), "2023-11-14T22:14:10Z float seconds"),
        ("j", Some(ts(1_700_000_200)), "2023-11-14T22:16:40Z typed"),
        ("k", Some(FsValue::Int(-300_000_000_000)), "1960-06-29T18:40:00Z negative millis"),
        ("kk", Some(FsValue::Int(-400_000_000_000_000)), "1957-04-29T08:53:20Z negative micros"),
        ("l", Some(FsValue::Int(-86_400)), "1969-12-31T00:00:00Z negative seconds"),
        ("m", Some(s("2023-11-13T23:59:00-23:59")), "2023-11-14T23:58:00Z the widest offset"),
        ("n", Some(s("2023-11-15T00:00:00+14:00")), "2023-11-14T10:00:00Z +14"),
        ("o", Some(s("soon")), "~ not a date"),
        ("p", None, "~~ no timestamp"),
    ];
    for (id, t, content) in &cases {
        message_doc(&store, "mixed", id, content, t.clone()).await;
    }
    let mut want: Vec<&str> = cases.iter().map(|c| c.2).collect();
    want.sort();
    for page_size in [1u32, 2, 3, 100] {
        assert_eq!(whole_thread(&store, "mixed", page_size).await, want, "page size {page_size}");
    }

    // A long thread written at shifting offsets over days, read in chunks: every string is
    // placed by its instant, however far its text sorts from it.
    conversation(&store, "shifting", "u", "a", "shifting", 1_700_000_000).await;
    let mut want = Vec::new();
    for i in 0..240i64 {
        // 20-minute steps from 2023-11-14T00:00Z, each at one of six offsets.
        let at = 1_699_920_000 + i * 1_200;
        let off = [0i64, 14, -12, 5, -9, 23][i as usize % 6];
        let local = at + off * 3_600;
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let day = 14 + (days - 19_675);
        let zone =
            if off == 0 { "Z".to_string() } else { format!("{}{:02}:00", if off > 0 { '+' } else { '-' }, off.abs()) };
        let text = format!("2023-11-{day:02}T{:02}:{:02}:00{zone}", secs / 3600, secs / 60 % 60);
        let content = format!("{:05}", i);
        message_doc(&store, "shifting", &format!("m{:03}", 239 - i), &content, Some(s(&text))).await;
        want.push(content);
    }
    for page_size in [7u32, 100, 500] {
        assert_eq!(whole_thread(&store, "shifting", page_size).await, want, "page size {page_size}");
    }
}
contract!(threads_order_every_shape_by_instant);

/// A conversation without `updated_at` (or with another type in it) is counted and listed:
/// those without the field come after the others, in id order, on every page size.
async fn conversations_without_updated_at_are_listed(store: Arc<dyn LongTermStore>) {
    for i in 0..5 {
        conversation(&store, &format!("c{i}"), "u-alice", "agent-a", &format!("dated {i}"), 1_700_000_000 + i * 60)
            .await;
    }
    for id in ["x-undated-2", "x-undated-1"] {
        store
            .put(&format!("conversations/{id}"), vec![("title".into(), s(id)), ("user_id".into(), s("u-alice"))])
            .await
            .unwrap();
    }
    store
        .put(
            "conversations/y-numeric",
            vec![("updated_at".into(), FsValue::Int(1_700_000_030)), ("user_id".into(), s("u-alice"))],
        )
        .await
        .unwrap();
    assert_eq!(store.count_conversations(&ConvFilter::All).await.unwrap(), 8);
    for (filter, n) in [(ConvFilter::All, 8), (ConvFilter::User("u-alice".into()), 8)] {
        for page_size in [2u32, 3, 5, 100] {
            let mut seen = Vec::new();
            let mut cursor: Option<Cursor> = None;
            for _ in 0..20 {
                let page = store.conversations(&filter, cursor.as_ref(), page_size).await.unwrap();
                seen.extend(page.items.iter().map(|c| c.id.clone()));
                match page.next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                n,
                "no conversation left out or repeated ({filter:?}, page {page_size}): {seen:?}"
            );
            let dated: Vec<&str> = seen.iter().map(String::as_str).filter(|c| c.starts_with('c')).collect();
            assert_eq!(dated, ["c4", "c3", "c2", "c1", "c0"], "newest first");
            assert_eq!(seen[seen.len() - 2..], ["x-undated-1", "x-undated-2"], "undated last, by id: {seen:?}");
        }
    }
}
contract!(conversations_without_updated_at_are_listed);

/// Read-only mode touches nothing: another program's SQLite database is reported as not a
/// memscope store and left byte for byte as it was — read-only and even with writes allowed —
/// and a memscope store opened read-only is read without a byte changing.
#[tokio::test]
async fn read_only_opens_change_no_byte_of_a_file() {
    use memscope::store::Access;
    use memscope::store::local_vectors::LocalVectors;
    use memscope::tiers::{build_long_term, build_vector};
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("history.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE chat(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO chat(body) VALUES ('hi');")
            .unwrap();
    }
    // The file's length and FNV-1a hash (no multi-kilobyte vectors in a failure message).
    let bytes = |p: &std::path::Path| {
        let b = std::fs::read(p).unwrap();
        (b.len(), b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ *x as u64).wrapping_mul(0x0100_0000_01b3)))
    };
    let listing = |d: &std::path::Path| {
        let mut v: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    };
    let before = (bytes(&foreign), listing(dir.path()));
    let path = foreign.display().to_string();
    let lt = memscope::config::LongTermConfig::Sqlite { path: path.clone() };
    let vc = memscope::config::VectorConfig::local(Some(path.clone()));
    for access in [Access::ReadOnly, Access::ReadWrite] {
        let e = build_long_term(&lt, access).await.err().expect("refused");
        assert!(e.to_string().contains("not a memscope store") && e.to_string().contains("chat"), "{e}");
        let e = build_vector(&vc, access).await.err().expect("refused");
        assert!(e.to_string().contains("not a memscope store"), "{e}");
    }
    assert_eq!((bytes(&foreign), listing(dir.path())), before, "the foreign file is unchanged");

    // A missing file is not created in read-only mode.
    let missing = dir.path().join("nope.db").display().to_string();
    let e = build_long_term(&memscope::config::LongTermConfig::Sqlite { path: missing }, Access::ReadOnly)
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert!(!dir.path().join("nope.db").exists());

    // A memscope store written, closed, then read read-only: every byte stays.
    let ours = dir.path().join("memory.db");
    {
        let s = SqliteStore::open(ours.to_str().unwrap()).unwrap();
        s.put("conversations/c1", vec![("title".into(), FsValue::String("t".into()))]).await.unwrap();
        let v = LocalVectors::open(ours.to_str().unwrap(), memscope::domain::Metric::Cosine).unwrap();
        let rec =
            memscope::domain::VectorRecord { id: "x".into(), values: vec![1.0, 0.0], metadata: Default::default() };
        memscope::store::VectorStore::upsert(&v, vec![rec], "").await.unwrap();
    }
    let before = (bytes(&ours), listing(dir.path()));
    let lt = memscope::config::LongTermConfig::Sqlite { path: ours.display().to_string() };
    let store = build_long_term(&lt, Access::ReadOnly).await.unwrap();
    assert_eq!(store.count_conversations(&ConvFilter::All).await.unwrap(), 1);
    assert!(store.put("conversations/c2", vec![]).await.is_err(), "a read-only store refuses writes");
    let v = LocalVectors::open_read_only(ours.to_str().unwrap(), memscope::domain::Metric::Cosine).unwrap();
    assert_eq!(memscope::store::VectorStore::fetch(&v, &["x".into()], "").await.unwrap().len(), 1);
    drop((store, v));
    // The database's bytes stay; SQLite's read-only WAL reader may add its shared-memory
    // sidecar files (memory.db-shm/-wal) beside a WAL-mode store, as any reader does.
    assert_eq!(bytes(&ours), before.0, "a memscope store read read-only is unchanged");
    let added: Vec<String> = listing(dir.path()).into_iter().filter(|f| !before.1.contains(f)).collect();
    assert!(added.iter().all(|f| f == "memory.db-shm" || f == "memory.db-wal"), "{added:?}");
}

/// A batch whose documents are each under Firestore's 1 MiB but together far over a request's
/// limit is written whole (split into requests by size as well as by count).
async fn large_documents_in_one_batch_are_all_written(store: Arc<dyn LongTermStore>) {
    let big = "x".repeat(900_000);
    let docs: Vec<(String, Vec<(String, FsValue)>)> =
        (0..20).map(|i| (format!("conversations/big/messages/m{i:02}"), vec![("content".into(), s(&big))])).collect();
    store.put_many(docs).await.unwrap();
    let paths: Vec<String> = (0..20).map(|i| format!("conversations/big/messages/m{i:02}")).collect();
    let got = store.get_many(&paths).await.unwrap();
    assert!(got.iter().all(|d| d.as_ref().is_some_and(|d| d.get("content") == Some(&s(&big)))));
}
contract!(large_documents_in_one_batch_are_all_written);

/// A deep collection path (`agent_memory/prod/chats/{session}`, as langchain-google-firestore
/// writes with `collection="agent_memory/prod/chats"`) leaves `agent_memory/prod` a document
/// that does not exist but holds a subcollection: the browser's listing shows it (no fields, no
/// update time) next to the real documents, paged; plain listings do not.
async fn browsing_lists_missing_parents_of_subcollections(store: Arc<dyn LongTermStore>) {
    store.put("agent_memory/prod/chats/s1", vec![("messages".into(), FsValue::Array(vec![]))]).await.unwrap();
    store.put("agent_memory/prod/chats/s2", vec![("messages".into(), FsValue::Array(vec![]))]).await.unwrap();
    store.put("agent_memory/alpha", vec![("k".into(), s("v"))]).await.unwrap();
    store.put("agent_memory/zeta", vec![("k".into(), s("v"))]).await.unwrap();
    let plain = store.documents("agent_memory", None, 10).await.unwrap();
    assert_eq!(
        plain.items.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        ["agent_memory/alpha", "agent_memory/zeta"]
    );
    // Paged two at a time: alpha, prod (missing), zeta.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store.browse_documents("agent_memory", cursor.as_ref(), 2).await.unwrap();
        seen.extend(page.items.iter().map(|d| (d.path.clone(), d.fields.is_empty() && d.update_time.is_none())));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            ("agent_memory/alpha".to_string(), false),
            ("agent_memory/prod".to_string(), true),
            ("agent_memory/zeta".to_string(), false)
        ]
    );
    let deep = store.browse_documents("agent_memory/prod/chats", None, 10).await.unwrap();
    assert_eq!(deep.items.len(), 2);
    assert!(deep.items.iter().all(|d| d.update_time.is_some()));
}
contract!(browsing_lists_missing_parents_of_subcollections);
