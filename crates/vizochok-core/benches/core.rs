//! Criterion benchmarks of the core's hot path (`cargo xtask bench`).
//!
//! - `frame/<kind>/core`: a connected session handles one inbound frame of
//!   that kind (size and depth checks, typed parse, seq check, dispatch,
//!   events) and the host drains every output;
//! - `frame/<kind>/serde`: a bare `serde_json::from_str::<ServerFrame>` of
//!   the same text, the floor any implementation pays;
//! - `cart_changed/<n>/{core,serde}`: the same with 10, 100 and 1,000 items.
//!
//! Frames are built outside the timed region in chunks, each with a fresh,
//! increasing `seq`, so every timed frame is really applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vizochok_core::{Config, Input, Limits, Output, Session, SocketId};
use vizochok_proto::frame::ServerFrame;

const CHUNK: u64 = 2_048;
/// Frames built per untimed chunk stay under this many bytes.
const CHUNK_BYTES: usize = 8 << 20;

/// A connected session with the default limits.
fn connected() -> (Session, SocketId) {
    let config = Config::new("pk_bench", "bench-store", "ws://127.0.0.1:8787/v1/ws", 7);
    let mut session = Session::new(config).unwrap();
    session.handle_input(0, Input::Connect);
    let socket = open_socket(&mut session);
    session.handle_input(0, Input::SocketOpened(socket));
    let ok = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;
    session.handle_input(0, Input::Text(socket, ok));
    drain(&mut session);
    (session, socket)
}

fn open_socket(session: &mut Session) -> SocketId {
    let mut socket = None;
    while let Some(out) = session.poll_output() {
        if let Output::Open { socket: s, .. } = out {
            socket = Some(s);
        }
    }
    socket.expect("the core asked for a socket")
}

fn drain(session: &mut Session) {
    while let Some(out) = session.poll_output() {
        black_box(out);
    }
}

fn item(i: usize) -> String {
    format!(
        r#"{{"sku":"sku-{i:05}","name":"Молоко 2,5% 900 мл №{i}","price":42.9,"promo_price":{},"brand":"Галичина","quantity":2}}"#,
        if i % 3 == 0 { "39.9" } else { "null" }
    )
}

fn product(i: usize) -> String {
    format!(
        r#"{{"sku":"sku-{i:05}","name":"Молоко 2,5% 900 мл","price":42.9,"unit":"pcs","quantity_step":1,"brand":"Галичина","image_url":"https://img.example/{i}.png","promo_price":null}}"#
    )
}

fn cart_changed(seq: u64, items: usize) -> String {
    let list: Vec<String> = (0..items).map(item).collect();
    format!(
        r#"{{"type":"cart_changed","seq":{seq},"action":"item_selected","sku":"sku-00000","name":"Молоко","quantity":2,"price":42.9,"items":[{}],"total":{}}}"#,
        list.join(","),
        items as f64 * 85.8
    )
}

/// Frame kinds: the text of frame number `seq` (a fresh `seq` each time).
fn frame(kind: &str, seq: u64, id: &str) -> String {
    match kind {
        "ack" => format!(r#"{{"type":"ack","id":"{id}"}}"#),
        "typing" => format!(r#"{{"type":"typing","seq":{seq},"reply_to":"m-1"}}"#),
        "delta" => format!(
            r#"{{"type":"delta","seq":{seq},"message_id":"r-1","reply_to":"m-1","text":"Ось що я знайшов для вас: "}}"#
        ),
        "response" => {
            let products: Vec<String> = (0..3).map(product).collect();
            format!(
                r#"{{"type":"response","seq":{seq},"message_id":"r-1","reply_to":"m-1","text":"Ось три види молока, які є в наявності сьогодні.","products":[{}]}}"#,
                products.join(",")
            )
        }
        "cart_changed" => cart_changed(seq, 10),
        "error" => format!(
            r#"{{"type":"error","seq":{seq},"code":"internal_error","message":"upstream timeout","retry_after_ms":2000}}"#
        ),
        "ping" => format!(r#"{{"type":"ping","ts":{seq}}}"#),
        "pong" => format!(r#"{{"type":"pong","ts":{seq}}}"#),
        "unknown" => format!(r#"{{"type":"future_feature","seq":{seq},"x":[1,2,3]}}"#),
        other => panic!("no frame kind {other}"),
    }
}

const KINDS: [&str; 9] = ["ack", "typing", "delta", "response", "cart_changed", "error", "ping", "pong", "unknown"];

/// Times `iters` frames through the core, built in untimed chunks. An `ack`
/// needs an action of its own in the queue, so its chunks are one full
/// default queue (a deeper one would time the queue's length instead).
fn core_time(iters: u64, make: impl Fn(u64, &str) -> String, needs_action: bool) -> Duration {
    let (mut session, socket) = connected();
    let chunk = if needs_action { Limits::default().queue_capacity as u64 } else { CHUNK };
    let mut seq = 0;
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let mut frames = Vec::new();
        let mut bytes = 0;
        while done + (frames.len() as u64) < iters && (frames.len() as u64) < chunk && bytes < CHUNK_BYTES {
            seq += 1;
            let id = if needs_action { session.clear_cart(0).unwrap() } else { String::new() };
            let text = make(seq, &id);
            bytes += text.len();
            frames.push(text);
        }
        let n = frames.len() as u64;
        drain(&mut session);
        let start = Instant::now();
        for text in &frames {
            session.handle_input(0, Input::Text(socket, text));
            drain(&mut session);
        }
        total += start.elapsed();
        done += n;
    }
    total
}

fn serde_time(iters: u64, make: impl Fn(u64, &str) -> String) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let mut frames = Vec::new();
        let mut bytes = 0;
        while done + (frames.len() as u64) < iters && (frames.len() as u64) < CHUNK && bytes < CHUNK_BYTES {
            let text = make(done + frames.len() as u64 + 1, "a-1");
            bytes += text.len();
            frames.push(text);
        }
        let n = frames.len() as u64;
        let start = Instant::now();
        for text in &frames {
            black_box(serde_json::from_str::<ServerFrame>(black_box(text)).unwrap());
        }
        total += start.elapsed();
        done += n;
    }
    total
}

fn frames(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for kind in KINDS {
        let bytes = frame(kind, 1, "abcdef012345-0").len() as u64;
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new(kind, "core"), |b| {
            b.iter_custom(|iters| core_time(iters, |seq, id| frame(kind, seq, id), kind == "ack"))
        });
        group.bench_function(BenchmarkId::new(kind, "serde"), |b| {
            b.iter_custom(|iters| serde_time(iters, |seq, id| frame(kind, seq, id)))
        });
    }
    // auth_ok needs a session that is authenticating: reconnect untimed, time the frame.
    let ok = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":true}"#;
    group.throughput(Throughput::Bytes(ok.len() as u64));
    group.bench_function(BenchmarkId::new("auth_ok", "core"), |b| {
        b.iter_custom(|iters| {
            let (mut session, _) = connected();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                session.handle_input(0, Input::Disconnect);
                session.handle_input(0, Input::Connect);
                let socket = open_socket(&mut session);
                session.handle_input(0, Input::SocketOpened(socket));
                drain(&mut session);
                let start = Instant::now();
                session.handle_input(0, Input::Text(socket, ok));
                drain(&mut session);
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function(BenchmarkId::new("auth_ok", "serde"), |b| {
        b.iter(|| black_box(serde_json::from_str::<ServerFrame>(black_box(ok)).unwrap()))
    });
    group.finish();
}

fn cart_sizes(c: &mut Criterion) {
    let mut group = c.benchmark_group("cart_changed");
    for n in [10usize, 100, 1_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new(n.to_string(), "core"), |b| {
            b.iter_custom(|iters| core_time(iters, |seq, _| cart_changed(seq, n), false))
        });
        group.bench_function(BenchmarkId::new(n.to_string(), "serde"), |b| {
            b.iter_custom(|iters| serde_time(iters, |seq, _| cart_changed(seq, n)))
        });
    }
    group.finish();
}

criterion_group!(benches, frames, cart_sizes);
criterion_main!(benches);
