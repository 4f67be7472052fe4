//! `vizochok chat --json` as a script would run it: lines in, JSON lines out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

#[test]
fn chat_json_answers_every_line_then_exits() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vizochok"))
        .args(["chat", "--json", "--language", "uk"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("молоко\n/add 2\n/add 1 2\n/remove 1\n".as_bytes()).unwrap();
    // stdin is closed now: the chat must exit on its own once everything is answered.
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = finished.recv_timeout(Duration::from_secs(60)).expect("exits in time").unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let events: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let response = events.iter().find(|e| e["event"] == "response").expect("a response");
    let cards = response["products"].as_array().unwrap();
    assert!(cards[0]["name"].as_str().unwrap().contains("Молоко"), "{cards:?}");
    let carts: Vec<&Value> = events.iter().filter(|e| e["event"] == "cart_changed").map(|e| &e["cart"]).collect();
    assert_eq!(carts.len(), 3, "every change arrived before the exit");
    let last = carts[2];
    assert_eq!(last["action"], "item_removed");
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_eq!(last["items"][0]["sku"], cards[0]["sku"]);
    assert_eq!(last["items"][0]["quantity"], 2.0);
}

#[test]
fn page_frames_from_the_chat_reach_the_assistant() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vizochok"))
        .args(["chat", "--json", "--language", "en"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("/context DAI-002\nadd this\n/down too slow\n/stop\n".as_bytes()).unwrap();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = finished.recv_timeout(Duration::from_secs(60)).expect("exits in time").unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let events: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // "add this" means the product of the page the context named.
    let cart = events.iter().find(|e| e["event"] == "cart_changed").expect("a cart change");
    assert_eq!(cart["cart"]["sku"], "DAI-002");
    // Context, message and feedback were acknowledged; nothing streamed to stop.
    assert_eq!(events.iter().filter(|e| e["event"] == "ack").count(), 3);
    let note = events.iter().find(|e| e["event"] == "note").expect("a note");
    assert_eq!(note["text"], "nothing is streaming");
}

#[test]
fn the_user_token_can_come_from_the_environment() {
    // The demo store verifies no identity, so any token is refused: proof it was sent.
    let run = |token: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vizochok"));
        command.args(["chat", "--json", "--language", "en", "--user-id", "u1"]).env_remove("VIZOCHOK_USER_TOKEN");
        if let Some(token) = token {
            command.env("VIZOCHOK_USER_TOKEN", token);
        }
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(b"milk\n").unwrap();
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || done.send(child.wait_with_output()));
        let output = finished.recv_timeout(Duration::from_secs(60)).expect("exits in time").unwrap();
        let events: Vec<Value> =
            String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(!format!("{events:?}").contains("tok_from_env"), "the token is never printed");
        events.iter().find_map(|e| e["error"]["code"].as_str().map(str::to_owned))
    };
    assert_eq!(run(Some("tok_from_env")).as_deref(), Some("auth_error"));
    assert_eq!(run(None), None);
}
