//! The real binary against the Firestore emulator, in a pseudo-terminal: open a conversation,
//! scroll, follow a reference.

mod support;

use memscope::store::firestore::FirestoreStore;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn open_a_conversation_scroll_and_follow_a_reference() {
    let emu = support::firestore_emulator();
    let project = support::project_id("e2e-conversations");
    let store = FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap();
    memscope::demo::seed_long_term(&store, 12, 1_763_900_000).await.unwrap();
    drop(store);

    let pair = native_pty_system().openpty(PtySize { rows: 40, cols: 140, pixel_width: 0, pixel_height: 0 }).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_memscope"));
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env("XDG_DATA_HOME", home.path().join("data"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("FIRESTORE_EMULATOR_HOST", &emu.host);
    cmd.env("GOOGLE_CLOUD_PROJECT", &project);
    cmd.env_remove("REDIS_URL");
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZero::new(40).unwrap(),
        std::num::NonZero::new(140).unwrap(),
        0,
    )));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let p = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            p.lock().unwrap().process(&buf[..n]);
        }
    });
    let mut w = pair.master.take_writer().unwrap();
    let screen = || parser.lock().unwrap().screen().contents();
    let wait = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = screen();
            if s.contains(what) {
                return s;
            }
            assert!(Instant::now() < deadline, "`{what}` did not appear:\n{s}");
            std::thread::sleep(Duration::from_millis(40));
        }
    };
    let mut send = |k: &str| {
        w.write_all(k.as_bytes()).unwrap();
        w.flush().unwrap();
        std::thread::sleep(Duration::from_millis(80));
    };

    // The list: newest first, counted.
    let s = wait("12 conversations");
    assert!(s.contains("firestore") && s.contains("emulator"), "{s}");
    // conv-0012 is the newest; it holds the long tool message and the escape sequences.
    send("\r");
    wait("conv-0012 · user");
    let s = wait("more lines");
    assert!(s.contains("Enter expands"), "long message collapsed:\n{s}");
    // Scroll to the last message: the pasted escape sequences are shown, not executed.
    send("G");
    let s = wait("pasted from a terminal");
    assert!(s.contains("\\x1b[31mred"), "{s}");
    // Side panel: the conversation document with its reference to the user.
    send("i");
    wait("reference → users/");
    // Document browser: conversations → first document → follow `user` reference.
    send("\x1b");
    send("b");
    wait("conversations/");
    send("j"); // agents → config
    send("j"); // → conversations
    send("\r");
    wait("/conversations");
    send("\r");
    wait("/conversations/conv-0001");
    let s = wait("reference");
    let row = s.lines().position(|l| l.contains("reference")).unwrap();
    let first = s.lines().position(|l| l.contains("agent_id")).unwrap();
    for _ in first..row {
        send("j");
    }
    send("\r");
    let s = wait("/users/u-alice");
    assert!(s.contains("geopoint") && s.contains("bytes"), "{s}");
    send("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "memscope did not exit");
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(!parser.lock().unwrap().screen().alternate_screen());
}
