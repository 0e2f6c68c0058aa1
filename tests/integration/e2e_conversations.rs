//! The real binary against the Firestore emulator, in a pseudo-terminal: open a conversation,
//! scroll, follow a reference.

use crate::support::pty::Tui;
use memscope::store::firestore::FirestoreStore;

#[tokio::test(flavor = "multi_thread")]
async fn open_a_conversation_scroll_and_follow_a_reference() {
    let emu = crate::support::firestore_emulator();
    let project = crate::support::project_id("e2e-conversations");
    let store = FirestoreStore::connect(&project, "(default)", Some(&emu.host)).await.unwrap();
    memscope::demo::seed_long_term(&store, 12, 1_763_900_000).await.unwrap();
    drop(store);

    let mut t =
        Tui::start(&[], &[("FIRESTORE_EMULATOR_HOST", emu.host.as_str()), ("GOOGLE_CLOUD_PROJECT", project.as_str())]);
    // The list: newest first, counted.
    // Counted and loaded (the count can arrive before the page: Enter needs a row to open).
    t.wait_for("12 conversations", 20);
    let s = t.wait_for("12 loaded", 20);
    assert!(s.contains("firestore") && s.contains("emulator"), "{s}");
    // conv-0012 is the newest; it holds the long tool message and the escape sequences.
    t.send("\r");
    t.wait_for("conv-0012 · user", 20);
    let s = t.wait_for("more lines", 20);
    assert!(s.contains("Enter expands"), "long message collapsed:\n{s}");
    // Scroll to the last message: the pasted escape sequences are shown, not executed.
    t.send("G");
    let s = t.wait_for("pasted from a terminal", 20);
    assert!(s.contains("\\x1b[31mred"), "{s}");
    // Side panel: the conversation document with its reference to the user.
    t.send("i");
    t.wait_for("reference → users/", 20);
    // Document browser: conversations → first document → follow `user` reference.
    t.send("\x1b");
    t.send("b");
    t.wait_for("conversations/", 20);
    t.send("j"); // agents → config
    t.send("j"); // → conversations
    t.send("\r");
    // The documents themselves, not only the heading: Enter needs a row to open.
    t.wait_for("conv-0001  (", 20);
    t.send("\r");
    t.wait_for("/conversations/conv-0001", 20);
    let s = t.wait_for("reference", 20);
    let row = s.lines().position(|l| l.contains("reference")).unwrap();
    let first = s.lines().position(|l| l.contains("agent_id")).unwrap();
    for _ in first..row {
        t.send("j");
    }
    t.send("\r");
    let s = t.wait_for("/users/u-alice", 20);
    assert!(s.contains("geopoint") && s.contains("bytes"), "{s}");
    t.send("q");
    assert!(t.wait_exit(10).success());
    t.assert_restored();
}
