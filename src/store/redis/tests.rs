use super::*;

/// After a failover the header counts the masters serving slots: not the failed one, nor
/// one whose slots a promoted replica took ("cluster of 4 masters" until it came back).
#[test]
fn the_masters_counted_are_those_serving_slots() {
    let text = "\
e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
67ed 127.0.0.1:30002@40002 master,fail - 0 1 2 connected
292f 127.0.0.1:30003@40003 master - 0 1 3 connected 10923-16383
07c3 127.0.0.1:30004@40004 master - 0 1 4 connected 5461-10922
";
    let m = cluster_masters(text);
    assert_eq!(
        m,
        [("127.0.0.1:30001".to_string(), true), ("127.0.0.1:30003".into(), false), ("127.0.0.1:30004".into(), false)]
    );
}

#[test]
fn keyspace_lines() {
    let ks = parse_keyspace("# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n");
    assert_eq!(ks.len(), 2);
    assert_eq!((ks[0].db, ks[0].keys, ks[0].expires), (0, 12, 3));
    assert_eq!(ks[1].db, 5);
}

#[test]
fn urls_redis_rs_can_read() {
    // Credentials with characters that end a URL's parts are encoded, not cut.
    let u = connectable_url("redis://:S3CRET?PW4@127.0.0.1:6379/0");
    assert_eq!(u, "redis://:S3CRET%3FPW4@127.0.0.1:6379/0");
    let info = u.as_str().into_connection_info().unwrap();
    assert_eq!(info.redis_settings().password(), Some("S3CRET?PW4"));
    let info = connectable_url("rediss://me:a/b#c@h:1/2").as_str().into_connection_info().unwrap();
    assert_eq!((info.redis_settings().username(), info.redis_settings().password()), (Some("me"), Some("a/b#c")));
    // A password as a query parameter is sent (redis-rs reads it only in the credentials).
    let info = connectable_url("redis://h:1/3?password=pw&protocol=resp3").as_str().into_connection_info().unwrap();
    assert_eq!(info.redis_settings().password(), Some("pw"));
    assert_eq!(info.redis_settings().db(), 3);
    // The credentials' own password wins; plain URLs stay as they are.
    assert_eq!(connectable_url("redis://u:x@h?password=y"), "redis://u:x@h");
    assert_eq!(connectable_url("redis://h:1/0"), "redis://h:1/0");
    assert_eq!(connectable_url("unix:///s?pass=x"), "unix:///s?pass=x");
}
