//! Memory the core holds, measured with a counting global allocator
//! (`cargo bench -p vizochok-core --bench memory`, or `cargo xtask bench`).
//!
//! Every figure is live heap bytes attributable to the `Session` after the
//! host dropped the inputs and drained the outputs, so it is what a page
//! keeps paying for, not a transient peak (peaks are reported separately).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::alloc::System;

use cap::Cap;
use vizochok_core::{Config, Input, Output, Session, SocketId};

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

const MIB: usize = 1024 * 1024;

fn live() -> usize {
    ALLOC.allocated()
}

fn kib(bytes: isize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

struct Host {
    session: Session,
    socket: SocketId,
    now: u64,
}

impl Host {
    fn new() -> Host {
        let config = Config::new("pk_bench", "bench-store", "ws://127.0.0.1:8787/v1/ws", 7);
        let session = Session::new(config).unwrap();
        Host { session, socket: SocketId(0), now: 0 }
    }

    fn drain(&mut self) {
        while let Some(out) = self.session.poll_output() {
            if let Output::Open { socket, .. } = out {
                self.socket = socket;
            }
        }
    }

    fn input(&mut self, input: Input<'_>) {
        self.session.handle_input(self.now, input);
        self.drain();
    }

    fn recv(&mut self, text: &str) {
        let socket = self.socket;
        self.input(Input::Text(socket, text));
    }

    fn connect(&mut self, auth_ok: &str) {
        self.input(Input::Connect);
        let socket = self.socket;
        self.input(Input::SocketOpened(socket));
        self.recv(auth_ok);
    }
}

fn item(i: usize) -> String {
    format!(
        r#"{{"sku":"sku-{i:05}","name":"Молоко 2,5% 900 мл №{i}","price":42.9,"promo_price":null,"brand":"Галичина","quantity":2}}"#
    )
}

fn product(i: usize) -> String {
    format!(
        r#"{{"sku":"sku-{i:05}","name":"Молоко 2,5% 900 мл","price":42.9,"unit":"pcs","quantity_step":1,"brand":"Галичина","image_url":"https://img.example/{i}.png","promo_price":null}}"#
    )
}

fn items(n: usize) -> String {
    (0..n).map(item).collect::<Vec<_>>().join(",")
}

const OK: &str = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;

fn main() {
    // cargo bench passes `--bench`; nothing to parse.
    println!("| what | live heap held by the session |");
    println!("|---|---|");

    // 1. First, while the allocator's peak is still ours: a flood of maximum-size frames: 1 MiB deltas (accepted) alternating with
    //    1 MiB + 1 byte frames (dropped as bad), one every 4 s so the bad-frame
    //    budget (20 per 60 s) is never exceeded.
    let before = live();
    let mut host = Host::new();
    host.connect(OK);
    let base = live() as isize - before as isize;
    let mut samples = Vec::new();
    let frames = 400;
    let head = |seq: usize| format!(r#"{{"type":"delta","seq":{seq},"message_id":"r","reply_to":"m","text":""#);
    for i in 1..=frames {
        let len = if i % 2 == 0 { MIB + 1 } else { MIB };
        let mut text = head(i);
        text.push_str(&"я".repeat((len - text.len() - 2) / 2));
        while text.len() < len - 2 {
            text.push('x');
        }
        text.push_str("\"}");
        assert_eq!(text.len(), len);
        host.recv(&text);
        drop(text);
        host.now += 4_000;
        host.input(Input::Timeout);
        if i % 50 == 0 {
            samples.push((i, live() as isize - before as isize));
        }
    }
    let peak = ALLOC.max_allocated().saturating_sub(before);
    assert_eq!(host.session.state(), vizochok_core::State::Connected, "the flood must not cost the connection");
    println!("| flood: connected session before | {} |", kib(base));
    for (i, held) in &samples {
        println!("| flood: after {i} frames of 1 MiB (half of them 1 byte too large) | {} |", kib(*held));
    }
    println!(
        "| flood: peak heap while handling one frame, including the host's own 1 MiB input string | {:.2} MiB |",
        peak as f64 / MIB as f64
    );
    drop(host);

    // 2. An idle connected session.
    let before = live();
    let mut host = Host::new();
    host.connect(OK);
    let idle = live() as isize - before as isize;
    println!("| connected session, empty cart | {} |", kib(idle));

    // 3. A 1,000-item cart.
    let frame = format!(
        r#"{{"type":"cart_changed","seq":1,"action":"item_selected","sku":"sku-00000","items":[{}],"total":42900}}"#,
        items(1_000)
    );
    let frame_len = frame.len();
    host.recv(&frame);
    drop(frame);
    let cart = live() as isize - before as isize;
    println!("| + 1,000-item cart (frame of {} bytes) | {} |", frame_len, kib(cart));

    // 4. A 1,000-turn conversation through the API: message, ack, reply with 3 cards.
    for turn in 0..1_000 {
        let id = host.session.send_message(host.now, "покажи молоко, будь ласка").unwrap();
        host.drain();
        host.recv(&format!(r#"{{"type":"ack","id":"{id}"}}"#));
        let cards: Vec<String> = (0..3).map(|k| product(turn * 3 + k)).collect();
        host.recv(&format!(
            r#"{{"type":"response","seq":{},"message_id":"r{turn}","reply_to":"{id}","text":"Ось молоко, яке є сьогодні в наявності.","products":[{}]}}"#,
            turn + 2,
            cards.join(",")
        ));
        host.now += 1_000;
        host.input(Input::Timeout);
    }
    let turns = live() as isize - before as isize;
    println!(
        "| + 1,000 turns (message + ack + reply with 3 cards each) | {} (the core keeps no transcript; it remembers up to 4,096 cards' quantity steps) |",
        kib(turns)
    );
    drop(host);

    // 5. Restore: auth_ok with a 1,000-item summary and a 1,000-turn history.
    let before = live();
    let mut host = Host::new();
    let history: Vec<String> = (0..1_000)
        .map(|i| {
            if i % 2 == 0 {
                r#"{"role":"user","text":"покажи молоко, будь ласка"}"#.to_owned()
            } else {
                format!(
                    r#"{{"role":"assistant","text":"Ось молоко, яке є сьогодні в наявності.","products":[{},{},{}]}}"#,
                    product(i * 3),
                    product(i * 3 + 1),
                    product(i * 3 + 2)
                )
            }
        })
        .collect();
    let restore = format!(
        r#"{{"type":"auth_ok","session_id":"s1","restored":true,"replay":false,"summary":{{"selected_items":[{}],"total":42900,"item_count":1000}},"history":[{}]}}"#,
        items(1_000),
        history.join(",")
    );
    drop(history);
    let restore_len = restore.len();
    host.connect(&restore);
    drop(restore);
    let restored = live() as isize - before as isize;
    println!(
        "| restored session: 1,000-item cart + 1,000-turn history (auth_ok of {} bytes) | {} |",
        restore_len,
        kib(restored)
    );
    drop(host);
}
