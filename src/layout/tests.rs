use super::*;
use crate::config::KeyTemplate;

#[test]
fn a_message_says_the_form_its_time_is_stored_in() {
    let l = LayoutConfig::preset(LayoutPreset::AgentMemoryServer);
    let iso = serde_json::json!({"role": "user", "content": "hi", "created_at": "2026-12-07T16:03:10.400070Z"});
    let m = message_of(&l, "k#1".into(), "#1".into(), None, &iso);
    assert_eq!((m.ts_form, m.timestamp.map(|t| t.micros() % 1_000_000)), (TsForm::IsoString, Some(400_070)));
    let unix = serde_json::json!({"role": "user", "content": "hi", "created_at": "1796659390.5"});
    assert_eq!(message_of(&l, "k#1".into(), "#1".into(), None, &unix).ts_form, TsForm::UnixNumber);
    let none = serde_json::json!({"role": "user", "content": "hi"});
    assert_eq!(message_of(&l, "k#1".into(), "#1".into(), None, &none).ts_form, TsForm::Missing);
}

#[test]
fn time_ordered_uuids_and_newest_first_order_keys() {
    // LangGraph's checkpoint id (uuid6) from the langgraph-redis fixture, and Python's uuid1.
    assert_eq!(uuid_time_ms("1f1ebf6d-64ab-6a6d-8004-859fc72772c3"), Some(1_795_958_081_489));
    assert_eq!(uuid_time_ms("cd02d4da-f254-11f1-b295-02fc00000001"), Some(1_796_658_145_588));
    assert_eq!(uuid_time_ms("019af1d2-3c4e-7abc-8def-0123456789ab"), Some(0x019a_f1d2_3c4e));
    assert_eq!(uuid_time_ms("a816cb64-4072-446b-b185-11a1c89ed76e"), None, "uuid4 holds no time");
    assert_eq!(uuid_time_ms("thread-1"), None);
    let order = newest_first([
        ("b".to_string(), Some(5)),
        ("no-time".to_string(), None),
        ("a".to_string(), Some(9)),
        ("c".to_string(), Some(5)),
        ("old".to_string(), Some(-3)),
    ]);
    let ids: Vec<&str> = order.iter().map(|k| id_of_order_key(k)).collect();
    assert_eq!(ids, ["a", "b", "c", "old", "no-time"], "newest first, ties by id, no time last");
    // A page cursor is an order key: the next page starts after it even if it is gone.
    let after = Cursor::Absent { after: Some(order[1].clone()) };
    assert_eq!(start_after(&order, Some(&after)), 2);
    let gone: Vec<String> = order.iter().filter(|k| id_of_order_key(k) != "b").cloned().collect();
    assert_eq!(id_of_order_key(&gone[start_after(&gone, Some(&after))]), "c");
}

#[test]
fn langchain_and_llamaindex_messages_decode() {
    let flat = br#"{"content":"What's the weather?","additional_kwargs":{},"type":"human","name":null,"id":null}"#;
    assert_eq!(decode_message(flat), ("user".into(), "What's the weather?".into()));
    let wrapped = br#"{"type":"ai","data":{"content":"","type":"ai","tool_calls":[{"name":"weather","args":{"city":"Paris"},"id":"call_1"}]}}"#;
    let (r, c) = decode_message(wrapped);
    assert_eq!(r, "assistant");
    assert_eq!(c, r#"→ tool call weather({"city":"Paris"}) call_1"#);
    let tool = br#"{"type":"tool","data":{"content":"18 C","type":"tool","tool_call_id":"call_1"}}"#;
    assert_eq!(decode_message(tool), ("tool".into(), "← result of call_1: 18 C".into()));
    let lc = br#"{"lc":1,"type":"constructor","id":["langchain","schema","messages","HumanMessage"],"kwargs":{"content":"hi","type":"human"}}"#;
    assert_eq!(decode_message(lc), ("user".into(), "hi".into()));
    let llama = br#"{"role":"assistant","additional_kwargs":{},"blocks":[{"block_type":"text","text":"Hello!"}]}"#;
    assert_eq!(decode_message(llama), ("assistant".into(), "Hello!".into()));
    assert_eq!(decode_message(b"\xffnot json").0, "?", "shown raw, never dropped");
}

/// A near miss never reads as an empty body: the text under a field the layout does not
/// read is said, with the fields the message has; an empty text stays empty.
#[test]
fn text_under_another_field_is_a_marker_naming_the_fields() {
    let mut l = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
    let camel: Value = serde_json::from_str(r#"{"author":"user","text":"hello","createdAt":1}"#).unwrap();
    l.fields.content = Some("content".into());
    let p = parts(&l, &camel);
    assert!(
        p.content.contains("no `content` in this message") && p.content.contains("author, createdAt, text"),
        "{}",
        p.content
    );
    l.fields.content = None;
    let odd: Value = serde_json::from_str(r#"{"who":"user","body":"hi"}"#).unwrap();
    assert!(parts(&l, &odd).content.contains("its fields: body, who"), "{}", parts(&l, &odd).content);
    // A list of alternatives: the first that is there.
    l.fields.content = Some("content|text".into());
    assert_eq!(parts(&l, &camel).content, "hello");
    l.fields.content = None;
    let empty: Value = serde_json::from_str(r#"{"type":"human","content":""}"#).unwrap();
    assert_eq!(parts(&l, &empty).content, "", "an empty text is not a near miss");
}

#[test]
fn field_paths_and_role_maps_read_a_custom_shape() {
    let mut l = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
    l.fields.role = Some("who".into());
    l.fields.content = Some("body.text".into());
    l.fields.timestamp = Some("meta.at".into());
    l.fields.id = Some("mid".into());
    l.fields.user = Some("meta.user".into());
    l.roles.insert("bot".into(), "assistant".into());
    let v: Value = serde_json::from_str(
        r#"{"who":"Bot","body":{"text":"hello"},"meta":"{\"at\":1700000000123,\"user\":\"u1\"}","mid":7}"#,
    )
    .unwrap();
    let p = parts(&l, &v);
    assert_eq!((p.role.as_str(), p.content.as_str()), ("assistant", "hello"), "role map is case-insensitive");
    assert_eq!(p.id.as_deref(), Some("7"));
    assert_eq!(p.user.as_deref(), Some("u1"), "a JSON string on the path is parsed");
    assert_eq!(p.ts, Ts::from_unix_number(1_700_000_000.123), "milliseconds told apart by size");
    l.roles.clear();
    assert_eq!(parts(&l, &v).role, "bot", "an unmapped role is shown as stored");
    let mut mp = LayoutConfig::preset(LayoutPreset::LangchainRedisList);
    mp.encoding = Encoding::MsgpackBase64;
    assert_eq!(decode_item(&mp, b"gadjb250ZW50omhp"), serde_json::json!({"content": "hi"}));
    assert_eq!(decode_item(&mp, b"{\"a\":1}"), serde_json::json!({"a": 1}), "JSON still read");
}

#[test]
fn key_templates_name_conversation_message_and_time() {
    let t = KeyTemplate::parse("agent_chat:{conversation}:{ts}:{message}").unwrap();
    let p = t.parts("agent_chat:sess:with:colons:1795936271.6:0a1b2c3d").unwrap();
    assert_eq!(p.conversation.as_deref(), Some("sess:with:colons"));
    assert_eq!(p.ts, Some(1795936271.6));
    assert_eq!(p.message.as_deref(), Some("0a1b2c3d"));
    assert_eq!(t.parts("agent_chat:sess:notatime:0a1b2c3d"), None);
    assert_eq!(t.glob(), "agent_chat:*:*:*");
    let m = KeyTemplate::parse("mem0:{*}:{message}").unwrap();
    assert_eq!(m.parts("mem0:mem0:068e").unwrap().message.as_deref(), Some("068e"));
    assert!(KeyTemplate::parse("a:{conversation}{message}").is_err(), "adjacent parts are ambiguous");
    assert!(KeyTemplate::parse("a:{thread}").unwrap_err().contains("unknown part {thread}"));
    assert_eq!(KeyTemplate::parse("x*[y]:{conversation}").unwrap().glob(), "x\\*\\[y\\]:*");
}
