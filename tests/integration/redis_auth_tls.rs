//! ACL users, passwords and TLS (rediss://) against private servers.

use memscope::config::RedisConfig;
use memscope::domain::{KeyType, PageCursor};
use memscope::store::KeyStore;
use memscope::store::redis::RedisStore;
use std::process::Command;

#[tokio::test]
async fn acl_user_with_read_only_rights_browses_and_denied_commands_degrade() {
    let r = crate::support::redis();
    let mut c = crate::support::client(&r);
    let _: () = redis::cmd("SET").arg("doc:1").arg("hello").query(&mut c).unwrap();
    // A reader that may not run MEMORY USAGE (nor any write).
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("reader")
        .arg("on")
        .arg(">reader-pw")
        .arg("~*")
        .arg("+@read")
        .arg("+@connection")
        .arg("+info")
        .arg("+select")
        .arg("-memory")
        .query(&mut c)
        .unwrap();
    let url = r.url().replace("redis://", "redis://reader:reader-pw@");
    let s = RedisStore::connect(&RedisConfig::new(&url), None).unwrap();
    assert!(!s.describe().contains("reader-pw"), "password shown: {}", s.describe());
    let (_, keys) = s.scan_page(None, 0, "*", None, 100).await.unwrap();
    assert_eq!(keys.len(), 1);
    let meta = s.meta(&keys).await.unwrap();
    assert_eq!(meta[0].1.ktype, Some(KeyType::String));
    assert_eq!(meta[0].1.memory, None, "a denied MEMORY USAGE leaves the size unknown, nothing fails");
    let v = s.value(b"doc:1", &PageCursor::Start).await.unwrap().unwrap();
    assert_eq!(v.length, 5);

    // Wrong password: a clear error, not retries forever. The timeout is a hang guard only (no
    // timing claim: speed is measured in benches/, never asserted).
    let bad = r.url().replace("redis://", "redis://reader:nope@");
    let s = RedisStore::connect(&RedisConfig::new(&bad), None).unwrap();
    let e = tokio::time::timeout(std::time::Duration::from_secs(60), s.ping())
        .await
        .expect("a wrong password fails; it does not hang")
        .unwrap_err()
        .to_string();
    assert!(e.to_lowercase().contains("wrongpass") || e.to_lowercase().contains("auth"), "{e}");
}

#[tokio::test]
async fn requirepass_server() {
    let r = memscope::demo::PrivateRedis::start(&["--requirepass", "s3cret"]).unwrap();
    let url = r.url().replace("redis://", "redis://:s3cret@");
    let s = RedisStore::connect(&RedisConfig::new(&url), None).unwrap();
    s.ping().await.unwrap();
    assert_eq!(s.dbsize().await.unwrap(), 0);
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let st = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("this test needs openssl: `sudo apt-get install -y openssl` (scripts/test installs it): {e}")
    });
    assert!(st.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&st.stderr));
}

#[tokio::test]
async fn rediss_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=memscope test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let p = |f: &str| d.join(f).to_string_lossy().into_owned();
    let (cert, key, ca) = (p("server.pem"), p("server.key"), p("ca.pem"));
    let r = memscope::demo::PrivateRedis::start(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
    ])
    .unwrap();
    let mut c = crate::support::client(&r);
    let _: () = redis::cmd("SET").arg("over:tls").arg("1").query(&mut c).unwrap();

    let url = format!("rediss://127.0.0.1:{tls_port}/0");
    let mut rc = RedisConfig::new(&url);
    rc.tls_ca_file = Some(ca.clone());
    let s = RedisStore::connect(&rc, None).unwrap();
    let (_, keys) = s.scan_page(None, 0, "*", None, 10).await.unwrap();
    assert_eq!(&*keys[0], b"over:tls");

    // Without the CA the certificate is rejected: an error, not a hang, and the advice is the
    // CA — never to drop TLS.
    let s = RedisStore::connect(&RedisConfig::new(&url), None).unwrap();
    let e = s.ping().await.unwrap_err().to_string();
    assert!(e.contains("tls_ca_file") && !e.contains("redis://"), "{e}");

    // TLS to the plain port: the error says the handshake got no answer, not only "timed
    // out", and does not advise plain Redis.
    let mut plain = RedisConfig::new(format!("rediss://127.0.0.1:{}/0", r.port()));
    plain.tls_ca_file = Some(ca.clone());
    plain.timeout_ms = 500;
    let e = RedisStore::connect(&plain, None).unwrap().ping().await.unwrap_err().to_string();
    assert!(e.contains("TLS handshake") && e.contains("tls-port") && !e.contains("redis://"), "{e}");
    // Plain to the TLS port: the hint points the other way.
    let mut tls = RedisConfig::new(format!("redis://127.0.0.1:{tls_port}/0"));
    tls.timeout_ms = 500;
    let e = RedisStore::connect(&tls, None).unwrap().ping().await.unwrap_err().to_string();
    assert!(e.contains("rediss://"), "{e}");
}

/// A server killed after it answered: the error is the lost connection, with no TLS hint.
#[tokio::test]
async fn a_killed_plain_server_gets_no_tls_hint() {
    let mut r = crate::support::redis();
    let mut rc = RedisConfig::new(r.url());
    rc.timeout_ms = 500;
    let s = RedisStore::connect(&rc, None).unwrap();
    s.ping().await.unwrap();
    r.kill();
    for _ in 0..3 {
        if let Err(e) = s.ping().await {
            let e = e.to_string();
            assert!(!e.contains("TLS") && !e.contains("rediss"), "{e}");
        }
    }
}
