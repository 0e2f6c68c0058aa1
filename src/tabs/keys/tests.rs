use super::*;
use crate::domain::ValueBody;
use crate::message::{RedisCmd, RedisReply};
use crate::message::{SortFailed, Sorted};
use crate::tabs::OnReply;

fn listed(n: usize, cx: &mut Cx) -> KeysTab {
    let mut t = KeysTab::new(&Config::with_redis("redis://127.0.0.1:1"));
    let cmds = t.start(cx);
    let Some(Command::Redis(req, RedisCmd::Scan { .. })) =
        cmds.into_iter().find(|c| matches!(c, Command::Redis(_, RedisCmd::Scan { .. })))
    else {
        panic!("no scan")
    };
    let keys: Vec<Key> = (0..n).map(|i| format!("k{i:04}").into_bytes().into_boxed_slice()).collect();
    let batch = crate::domain::ScanBatch { keys, seen: n as u64, total: Some(n as u64), calls: 1, done: true };
    t.on_reply(req, RedisReply::Scan(Ok(batch)), cx);
    t
}

fn sort_cmd(cmds: Vec<Command>) -> (RequestId, std::sync::Arc<Vec<Key>>) {
    cmds.into_iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Sort { keys, .. }) => Some((req, keys)),
            _ => None,
        })
        .expect("a sort request")
}

#[test]
fn a_sort_that_fails_says_how_far_it_got_and_keeps_the_name_order() {
    let mut cx = Cx::after(0);
    let mut t = listed(1000, &mut cx);
    let (req, keys) = sort_cmd(t.set_sort_named("size", &mut cx).unwrap());
    assert_eq!(keys.len(), 1000, "the whole listing, shared");
    t.on_reply(req, RedisReply::SortProgress(500), &mut cx);
    assert_eq!(t.sorting.as_ref().map(|j| (j.done, j.total)), Some((500, 1000)));
    cx.take_asks();
    let failed = SortFailed { error: StoreError::Timeout(2000), measured: 500 };
    t.on_reply(req, RedisReply::Sorted(Err(failed)), &mut cx);
    assert!(t.sorting.is_none());
    assert_eq!(t.index.sort(), SortBy::Name);
    let asks = cx.take_asks();
    assert!(
        matches!(&asks[..], [Ask::Status { text, error: true }] if text.contains("after 500 / 1,000 keys")),
        "{asks:?}"
    );
}

fn scan_req(cmds: &[Command]) -> RequestId {
    cmds.iter()
        .find_map(|c| match c {
            Command::Redis(req, RedisCmd::Scan { .. }) => Some(*req),
            _ => None,
        })
        .expect("a scan")
}

fn keys(names: impl IntoIterator<Item = String>) -> Vec<Key> {
    names.into_iter().map(|s| s.into_bytes().into_boxed_slice()).collect()
}

/// A new MATCH (or Enter on a namespace from :analyze) starts at the top and stays there
/// while batches arrive, though later batches hold keys that sort first.
#[test]
fn a_new_listing_stays_at_the_top_as_batches_arrive() {
    let mut cx = Cx::after(0);
    let mut t = listed(50, &mut cx);
    t.index.set_mode(crate::keytree::ViewMode::Flat);
    let req = scan_req(&t.set_pattern("s:*".into(), &mut cx));
    let batch = |names: Vec<String>, done: bool| crate::domain::ScanBatch {
        keys: keys(names),
        seen: 2_102,
        total: Some(2_102),
        calls: 1,
        done,
    };
    // A first batch large enough to be shown at once, then keys that sort before it.
    let first: Vec<String> = (0..2_100).map(|i| format!("s:m{i:04}")).collect();
    t.on_reply(req, RedisReply::Scan(Ok(batch(first, false))), &mut cx);
    assert_eq!(t.current_key().as_deref(), Some(b"s:m0000".as_slice()));
    t.on_reply(req, RedisReply::Scan(Ok(batch(vec!["s:a".into(), "s:b".into()], true))), &mut cx);
    assert_eq!((t.selected, t.offset), (0, 0));
    assert_eq!(t.current_key().as_deref(), Some(b"s:a".as_slice()), "the top of the new listing");
}

/// `r`, a retry after an error, a write's reload: the list on screen stays whole (never
/// "loading…"), the selection on its key; a rescan that fails leaves the previous listing.
#[test]
fn a_rescan_keeps_the_list_until_it_is_complete() {
    let mut cx = Cx::after(0);
    let mut t = listed(100, &mut cx);
    t.set_mode(ViewMode::Flat, &mut cx);
    t.move_to(5, &mut cx);
    let req = scan_req(&t.on_action(Action::Refresh, &mut cx));
    assert!(t.scan.aside);
    let half = crate::domain::ScanBatch {
        keys: keys((0..50).map(|i| format!("k{i:04}"))),
        seen: 50,
        total: Some(100),
        calls: 1,
        done: false,
    };
    t.on_reply(req, RedisReply::Scan(Ok(half)), &mut cx);
    cx.now_ms = 300;
    t.tick(&mut cx);
    assert_eq!((t.index.len(), t.selected), (100, 5), "the previous listing, whole, until the rescan ends");
    // It fails: the previous listing stays and the error says so.
    t.on_reply(req, RedisReply::Scan(Err(StoreError::Timeout(2000))), &mut cx);
    assert_eq!(t.index.len(), 100);
    assert!(t.error.as_ref().is_some_and(|e| e.text.contains("the list is the previous scan's")));
    // The retry completes: swapped in whole, k0002 gone, the selection still on k0005.
    let req = scan_req(&t.on_action(Action::Refresh, &mut cx));
    let all = crate::domain::ScanBatch {
        keys: keys((0..100).filter(|i| *i != 2).map(|i| format!("k{i:04}")).chain(["a-new".to_string()])),
        seen: 100,
        total: Some(100),
        calls: 1,
        done: true,
    };
    t.on_reply(req, RedisReply::Scan(Ok(all)), &mut cx);
    assert_eq!(t.index.len(), 100);
    assert_eq!(t.current_key().as_deref(), Some(b"k0005".as_slice()));
    assert!(t.fresh.contains(b"a-new".as_slice()));
    // A new MATCH is another listing: it replaces the list from its first batch.
    let cmds = t.set_pattern("x*".into(), &mut cx);
    assert!(!t.scan.aside && t.scan.replace_on_first, "{cmds:?}");
}

/// The figures a sort measured feed the SIZE cells (older figures would make the rows look
/// out of order); another database starts by name, with no sort note from the last one.
#[test]
fn a_sort_feeds_its_figures_to_the_columns_and_a_new_db_starts_by_name() {
    let mut cx = Cx::after(0);
    let mut t = listed(3, &mut cx);
    for i in 0..3 {
        let meta = KeyMeta {
            ktype: Some(crate::domain::KeyType::String),
            ttl: crate::domain::Ttl::Persistent,
            memory: Some(1),
        };
        t.meta.insert(format!("k{i:04}").into_bytes().into_boxed_slice(), MetaEntry { meta, at_ms: 0 });
    }
    let (req, keys) = sort_cmd(t.set_sort_named("size", &mut cx).unwrap());
    let metrics = vec![Some(300), Some(100), Some(200)];
    let order = crate::keytree::order_by(&metrics, SortBy::Size);
    let sorted = Sorted { keys, order, metrics: std::sync::Arc::new(metrics), took_ms: 1 };
    t.on_reply(req, RedisReply::Sorted(Ok(Box::new(sorted))), &mut cx);
    let mem = |t: &KeysTab, k: &str| t.meta[k.as_bytes()].meta.memory;
    assert_eq!((mem(&t, "k0000"), mem(&t, "k0001"), mem(&t, "k0002")), (Some(300), Some(100), Some(200)));
    t.sort_note = Some("stale".into());
    t.select_db(3, &mut cx);
    assert_eq!(t.index.sort(), SortBy::Name);
    assert!(t.sort_note.is_none() && t.sorting.is_none());
}

#[test]
fn an_order_for_an_older_listing_is_measured_again_not_installed() {
    let mut cx = Cx::after(0);
    let mut t = listed(10, &mut cx);
    let (req, keys) = sort_cmd(t.set_sort_named("ttl", &mut cx).unwrap());
    // The listing changes meanwhile (a key deleted by the live view's write, say).
    let fewer: Vec<Key> = t.index.keys().iter().filter(|k| &***k != b"k0003").cloned().collect();
    t.index.replace(fewer);
    let order = crate::keytree::order_by(&vec![None; keys.len()], SortBy::Ttl);
    let cmds = t.on_reply(
        req,
        RedisReply::Sorted(Ok(Box::new(Sorted { keys, order, metrics: Default::default(), took_ms: 1 }))),
        &mut cx,
    );
    assert!(!t.index.ordered());
    let (_, again) = sort_cmd(cmds);
    assert_eq!(again.len(), 9);
    assert!(t.sorting.is_some());
}

/// A list element holding JSON (a framework's message) is pretty-printed under its index.
#[test]
fn list_elements_holding_json_are_pretty_printed() {
    let blob = |x: &str| crate::domain::Blob { bytes: x.as_bytes().to_vec(), total_len: x.len() as u64 };
    let p = ValuePage {
        groups: vec![],
        groups_left_out: 0,
        lines: vec![],
        formats: vec![],
        key: b"message_store:s".as_slice().into(),
        ktype: crate::domain::KeyType::List,
        ttl: crate::domain::Ttl::Persistent,
        length: 2,
        memory: None,
        cursor: PageCursor::Start,
        next: None,
        body: ValueBody::List(vec![blob(r#"{"type":"human","data":{"content":"hi"}}"#), blob("plain")]),
        node: None,
    };
    let lines: Vec<String> = value_lines(&p).into_iter().map(|(_, l)| l).collect();
    assert_eq!(lines[0], "     0 {");
    assert!(lines.iter().any(|l| l == r#"         "type": "human""#), "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("     1 plain"));
}

/// An embedding in a hash is shown as a vector — by the index that holds it (its type, its
/// dimension checked), else by its shape — never as hex.
#[test]
fn vector_blobs_in_a_hash_show_as_vectors() {
    let v: Vec<f32> = (0..384).map(|i| ((i as f32) * 0.37).sin() / 13.9).collect();
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let blob = |b: &[u8]| crate::domain::Blob { bytes: b.to_vec(), total_len: b.len() as u64 };
    let p = ValuePage {
        groups: vec![],
        groups_left_out: 0,
        lines: vec![],
        formats: vec![],
        key: b"doc:1".as_slice().into(),
        ktype: crate::domain::KeyType::Hash,
        ttl: crate::domain::Ttl::Persistent,
        length: 2,
        memory: None,
        cursor: PageCursor::Start,
        next: None,
        body: ValueBody::Hash(vec![(blob(b"content"), blob(b"hello")), (blob(b"embedding"), blob(&bytes))]),
        node: None,
    };
    let idx = crate::domain::SearchIndex {
        name: "docs".into(),
        on: "HASH".into(),
        prefixes: vec!["doc:".into()],
        fields: vec![crate::domain::SearchField {
            name: "embedding".into(),
            path: "embedding".into(),
            kind: "VECTOR".into(),
            vector: Some(crate::domain::VectorSpec {
                algorithm: "HNSW".into(),
                dtype: "FLOAT32".into(),
                dim: 384,
                metric: "COSINE".into(),
            }),
        }],
        ..Default::default()
    };
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let lines: Vec<String> = value_lines_in(&p, std::slice::from_ref(&idx)).into_iter().map(|(_, l)| l).collect();
    let want = format!("384 × f32 · ‖v‖ {norm:.2} · [0.000, 0.026, 0.049, 0.064, …] (index docs, COSINE)");
    assert!(lines.iter().any(|l| l.ends_with(&want)), "{lines:?}");
    // An index that says another dimension: said beside the vector.
    let mut other = idx.clone();
    other.fields[0].vector.as_mut().unwrap().dim = 768;
    let lines: Vec<String> = value_lines_in(&p, &[other]).into_iter().map(|(_, l)| l).collect();
    assert!(lines.iter().any(|l| l.contains("384 × f32") && l.contains("index docs says 768 dimensions")), "{lines:?}");
    // No index: by its shape.
    let lines: Vec<String> = value_lines(&p).into_iter().map(|(_, l)| l).collect();
    assert!(lines.iter().any(|l| l.contains("384 × f32 · ‖v‖") && l.ends_with("(by its shape)")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("0x")), "never hex: {lines:?}");
}

/// `F` on a zlib-compressed JSON string: auto first (zlib → JSON), then each other format its
/// bytes can be read as (the backend's list), then auto again — never the automatic one twice;
/// each press asks the backend for the page in that format (decoding never runs in the tab).
#[test]
fn f_cycles_the_formats_from_auto_and_back() {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(br#"{"role":"assistant","content":"hi"}"#).unwrap();
    let bytes = z.finish().unwrap();
    let mut cx = Cx::default();
    let mut t = KeysTab::new(&Config::with_redis("redis://127.0.0.1:1"));
    t.open_value(b"cache:a".as_slice().into(), &mut cx);
    let mut page = ValuePage {
        groups: vec![],
        groups_left_out: 0,
        lines: vec![],
        formats: vec![],
        key: b"cache:a".as_slice().into(),
        ktype: crate::domain::KeyType::String,
        ttl: crate::domain::Ttl::Persistent,
        length: bytes.len() as u64,
        memory: None,
        cursor: PageCursor::Start,
        next: None,
        body: ValueBody::String(crate::domain::Blob { total_len: bytes.len() as u64, bytes }),
        node: None,
    };
    page.formats = crate::decode::page::formats_of(&page, 1 << 20).into_iter().map(|f| f.name().to_string()).collect();
    assert_eq!(page.formats[0], "zlib");
    let v = t.value.as_mut().unwrap();
    v.page = Some(page);
    let mut seen = Vec::new();
    for _ in 0..20 {
        let cmds = t.on_value_action(Action::CycleFormat, &mut cx);
        let f = t.value.as_ref().unwrap().format;
        assert!(matches!(&cmds[..], [Command::Redis(_, RedisCmd::Value { format, .. })] if *format == f), "{cmds:?}");
        seen.push(f);
        if f.is_none() {
            break;
        }
    }
    assert_ne!(seen[0], Some(crate::decode::Format::Zlib), "the first F shows something else: {seen:?}");
    assert!(seen.contains(&Some(crate::decode::Format::Hex)), "{seen:?}");
    assert_eq!(seen.last(), Some(&None), "back to auto: {seen:?}");
}
