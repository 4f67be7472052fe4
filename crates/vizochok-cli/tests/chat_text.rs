//! `vizochok chat` with lines piped in, as the README tells a person to try
//! it: "молоко" shows milk cards, `/add 1` puts the first one in the cart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn piped_lines_wait_for_the_reply_they_refer_to() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vizochok"))
        .args(["chat", "--language", "uk"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("молоко\n/add 1\n/quit\n".as_bytes()).unwrap();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = finished.recv_timeout(Duration::from_secs(60)).expect("exits in time").unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let screen = String::from_utf8(output.stdout).unwrap();
    // Numbered cards are indented; the assistant's own text is not.
    let first_card = screen.lines().find(|l| l.starts_with("  1. Молоко")).expect("milk cards");
    let name = first_card.trim_start_matches("  1. ").split(" (").next().unwrap();
    assert!(!screen.contains("no card"), "/add 1 ran before the cards arrived:\n{screen}");
    let total = screen.lines().rev().find(|l| l.starts_with("Разом:")).expect("a cart total");
    assert!(screen.contains(&format!("{name} × 1")), "{name} in the cart:\n{screen}");
    assert_ne!(total.trim(), "Разом: 0.00");
}
