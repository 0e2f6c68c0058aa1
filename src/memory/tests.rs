use super::*;

#[test]
fn derived_ids_are_stable_and_content_addressed() {
    let m =
        NewMessage { conversation_id: "c1".into(), role: "user".into(), content: "hello".into(), ..Default::default() };
    // A fixed value (FNV-1a of "c1␀user␀hello␀␀" with 0xff separators, computed outside
    // memscope): a rebuilt memscope must derive the same id, or re-imports duplicate.
    assert_eq!(m.id(), "m-0786e0b2ee7e8544");
    assert_eq!(stable_hash(&["a"]), 0x089b_c907_b544_c769);
    let mut other = m.clone();
    other.content = "hello!".into();
    assert_ne!(m.id(), other.id());
    assert_eq!(split_message_path("conversations/c1/messages/m-1"), Some(("c1", "m-1")));
    assert_eq!(split_message_path("users/u1"), None);
}

#[test]
fn recent_message_timestamps_sort_as_instants() {
    let a = Ts { secs: 1_700_000_000, nanos: 0 }.to_rfc3339_micros();
    let b = Ts { secs: 1_700_000_000, nanos: 5_000 }.to_rfc3339_micros();
    let c = Ts { secs: 1_700_000_001, nanos: 0 }.to_rfc3339_micros();
    assert!(a < b && b < c, "{a} {b} {c}");
    assert_eq!(Ts::parse(&b), Some(Ts { secs: 1_700_000_000, nanos: 5_000 }));
}
