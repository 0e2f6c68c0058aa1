use super::*;

#[test]
fn collection_patterns_name_and_place_documents() {
    assert_eq!(CollectionPattern::parse("ChatHistory"), Ok(None));
    assert_eq!(CollectionPattern::parse("agent_memory/prod/chats"), Ok(None));
    assert!(CollectionPattern::parse("users/*").unwrap_err().contains("ends with a collection's name"));
    assert!(CollectionPattern::parse("users/*/ch*").unwrap_err().contains("never a collection"));
    assert!(CollectionPattern::parse("*/u/chats").is_err());
    assert!(CollectionPattern::parse("users/u*/chats").is_err());
    let p = CollectionPattern::parse("users/*/chats").unwrap().unwrap();
    assert_eq!((p.collection_id(), p.parent_document().as_str()), ("chats", ""));
    assert!(p.holds("users/u-1/chats/s1"));
    assert!(!p.holds("users/u-1/other/s1") && !p.holds("teams/u-1/chats/s1") && !p.holds("users/u-1/chats"));
    assert!(!p.holds("users/u-1/chats/s1/messages/m1"));
    assert_eq!(p.id_of("users/bob@example.com/chats/s1").as_deref(), Some("bob@example.com/s1"));
    assert_eq!(p.path_of("bob@example.com/s1").as_deref(), Some("users/bob@example.com/chats/s1"));
    assert_eq!(p.path_of("s1"), None);
    assert_eq!(p.path_of("a/b/c"), None);
    let deep = CollectionPattern::parse("orgs/acme/users/*/chats").unwrap().unwrap();
    assert_eq!(deep.parent_document(), "orgs/acme");
    assert_eq!(deep.id_of("orgs/acme/users/u1/chats/s9").as_deref(), Some("u1/s9"));
    let two = CollectionPattern::parse("orgs/*/users/*/chats").unwrap().unwrap();
    assert_eq!(two.parent_document(), "");
    assert_eq!(two.path_of("acme/u1/s9").as_deref(), Some("orgs/acme/users/u1/chats/s9"));
}

#[test]
fn iso_strings_without_zone_are_utc_and_offsets_apply() {
    let a = Ts::parse("2026-11-23T21:40:05.123456").unwrap();
    let b = Ts::parse("2026-11-23T21:40:05.123456Z").unwrap();
    let c = Ts::parse("2026-11-23T22:40:05.123456+01:00").unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.nanos, 123_456_000);
    assert_eq!(a.to_rfc3339(), "2026-11-23T21:40:05.123Z");
    assert_eq!(Ts::parse("1970-01-01").unwrap(), Ts { secs: 0, nanos: 0 });
    assert_eq!(Ts::parse("2024-02-29 12:00:00").unwrap().to_rfc3339(), "2024-02-29T12:00:00Z");
    assert!(Ts::parse("yesterday").is_none());
    assert!(Ts::parse("2024-13-01T00:00:00").is_none());
    assert_eq!(Ts::from_micros(a.micros()), Ts { secs: a.secs, nanos: 123_456_000 });
    assert_eq!(Ts::from_micros(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
}

/// The bounds the Firestore thread reader places unread ISO strings by: a date of exactly
/// `YYYY-MM-DD` (so text order is date order) and an offset under a day.
#[test]
fn iso_dates_are_canonical_and_offsets_under_a_day() {
    assert_eq!(Ts::parse("2023-11-13T23:59:00-23:59").unwrap().to_rfc3339(), "2023-11-14T23:58:00Z");
    assert_eq!(Ts::parse("  2023-11-14T00:00:00Z").unwrap().to_rfc3339(), "2023-11-14T00:00:00Z");
    for bad in ["2023-11-14T00:00:00+24:00", "2023-11-14T00:00:00-05:60", "2023-1-14", "2023-11-4T00:00:00Z"] {
        assert_eq!(Ts::parse(bad), None, "{bad}");
    }
    for bad in ["999-11-14", "+2023-11-14", "-2023-11-14", "\u{3000}2023-11-14"] {
        assert_eq!(Ts::parse(bad), None, "{bad}");
    }
}

/// Unix numbers by band: seconds to year 9999, then milliseconds, then microseconds, and
/// the same below zero; each band orders as its instants do.
#[test]
fn unix_numbers_read_by_band() {
    let at = |n: f64| Ts::from_unix_number(n).map(|t| t.to_rfc3339());
    assert_eq!(at(1_700_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
    assert_eq!(at(253_402_300_000.0).unwrap(), "9999-12-31T23:46:40Z");
    assert_eq!(at(1_700_000_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
    assert_eq!(at(1_700_000_000_000_000.0).unwrap(), "2023-11-14T22:13:20Z");
    assert_eq!(at(-86_400.0).unwrap(), "1969-12-31T00:00:00Z");
    assert_eq!(at(-300_000_000_000.0).unwrap(), "1960-06-29T18:40:00Z");
    assert_eq!(at(-400_000_000_000_000.0).unwrap(), "1957-04-29T08:53:20Z");
    assert_eq!(at(f64::NAN), None);
    assert_eq!(at(f64::INFINITY), None);
    // Before year 1 in seconds: no instant (it is not read as milliseconds).
    assert_eq!(at(-100_000_000_000.0), None);
    assert_eq!(at(f64::NEG_INFINITY), None);
    for n in [0.0, 1.0, -1.0, 1e12, -1e12, 1e16, -1e16, f64::MAX, f64::MIN] {
        let bands = UNIX_BANDS.iter().filter(|(lo, hi, _)| (*lo..*hi).contains(&n)).count();
        assert_eq!(bands, 1, "{n} is in one band");
    }
}
