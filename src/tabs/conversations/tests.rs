use super::*;

#[test]
fn filter_syntax() {
    assert_eq!(ConvFilter::parse(" user:u-alice "), ConvFilter::User("u-alice".into()));
    assert_eq!(ConvFilter::parse("agent:a1"), ConvFilter::Agent("a1".into()));
    assert_eq!(ConvFilter::parse("id:conv-00"), ConvFilter::IdPrefix("conv-00".into()));
    assert_eq!(ConvFilter::parse("refund"), ConvFilter::TitleContains("refund".into()));
    assert_eq!(ConvFilter::parse(""), ConvFilter::All);
    assert_eq!(ConvFilter::parse("user:x").text(), "user:x");
}

#[test]
fn field_tree_renders_every_type_and_marks_references() {
    let lines = field_lines(&[
        ("m".into(), FsValue::Map(vec![("r".into(), FsValue::Reference("users/u1".into()))])),
        ("n".into(), FsValue::Double(f64::NAN)),
        ("s".into(), FsValue::String("\u{1b}[31mx".into())),
        ("a".into(), FsValue::Array(vec![FsValue::Bytes(vec![0xde, 0xad])])),
        ("j".into(), FsValue::Bytes(br#"{"type":"human"}"#.to_vec())),
    ]);
    assert_eq!(lines[0].value, "{1 fields}");
    assert_eq!((lines[1].depth, lines[1].reference.as_deref()), (1, Some("users/u1")));
    assert_eq!(lines[2].value, "NaN");
    assert_eq!(lines[3].value, "\"\\x1b[31mx\"");
    assert_eq!(lines[5].value, "0xdead");
    assert_eq!(lines[6].value, r#""{"type":"human"}" (UTF-8 bytes)"#, "JSON bytes read as text");
    assert_eq!(lines[6].full.as_deref(), Some("{\n  \"type\": \"human\"\n}"), "opened whole, pretty");
}
