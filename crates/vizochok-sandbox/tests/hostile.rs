//! Clients that never finish their handshake, send too much, or come in
//! crowds: the sandbox refuses them, says so in its log, and keeps serving
//! everyone else. Loopback only; sources other than 127.0.0.1 are other
//! addresses of the loopback network (127.0.0.0/8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod clients;
mod support;

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::time::Duration;

use clients::Stalled;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use support::{auth, Logs, Raw};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use vizochok_sandbox::{ConnectionLimits, RunningSandbox, SandboxOptions};

fn limits(handshake_timeout_ms: u64, per_address: usize, pending_handshakes: usize) -> ConnectionLimits {
    ConnectionLimits { handshake_timeout_ms, per_address, pending_handshakes, ..ConnectionLimits::default() }
}

async fn sandbox(logs: &Logs, connections: ConnectionLimits) -> RunningSandbox {
    let options = SandboxOptions { connections, ..support::options(logs) };
    vizochok_sandbox::start(options).await.unwrap()
}

/// A TCP connection to the sandbox from `127.0.0.<host>`.
async fn tcp_from(host: u8, to: SocketAddr) -> TcpStream {
    clients::tcp_from(host, to).await.unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = timeout(Duration::from_secs(20), stream.read_to_end(&mut got)).await.expect("closed in time");
    got
}

fn refusals(logs: &Logs) -> Vec<Value> {
    logs.lines().iter().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|l| l["kind"] == "refused").collect()
}

/// A new client's time from connecting to its `auth_ok`.
async fn auth_time(sandbox: &RunningSandbox, host: u8) -> Duration {
    let started = Instant::now();
    let stream = tcp_from(host, sandbox.local_addr()).await;
    let (ws, _) = tokio_tungstenite::client_async(sandbox.ws_url(), stream).await.unwrap();
    authenticate(ws, started).await
}

/// As `auth_time`, connecting again while the sandbox refuses the address
/// (it frees a closed connection's place once it has read the close).
async fn auth_time_once_admitted(sandbox: &RunningSandbox, host: u8) -> Duration {
    let started = Instant::now();
    let admitted = async {
        loop {
            let stream = tcp_from(host, sandbox.local_addr()).await;
            if let Ok((ws, _)) = tokio_tungstenite::client_async(sandbox.ws_url(), stream).await {
                return ws;
            }
        }
    };
    let ws = timeout(Duration::from_secs(5), admitted).await.expect("admitted again");
    authenticate(ws, started).await
}

async fn authenticate(mut ws: tokio_tungstenite::WebSocketStream<TcpStream>, started: Instant) -> Duration {
    ws.send(Message::Text(auth(json!({})).to_string().into())).await.unwrap();
    match timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap() {
        Message::Text(text) if text.as_str().starts_with(r#"{"type":"auth_ok""#) => started.elapsed(),
        other => panic!("expected auth_ok, got {other:?}"),
    }
}

#[tokio::test]
async fn a_socket_that_never_sends_auth_is_closed_at_the_handshake_deadline() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, limits(300, 64, 64)).await;
    let started = Instant::now();
    let mut raw = Raw::open(&sandbox).await;
    assert_eq!(raw.closed().await, (1000, "auth timeout".to_owned()));
    assert!(started.elapsed() >= Duration::from_millis(290), "closed after {:?}", started.elapsed());
    let refused = refusals(&logs);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0]["peer"].as_str(), refused[0]["reason"].as_str()),
        (Some("127.0.0.1"), Some("no auth within 300 ms of connecting"))
    );
    // A client that authenticates in time is served as always.
    let (mut ok, _) = Raw::session(&sandbox, json!({})).await;
    assert!(ok.alive().await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_never_finishes_its_request_is_dropped_at_the_deadline() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, limits(300, 64, 64)).await;
    let mut stream = tcp_from(1, sandbox.local_addr()).await;
    stream.write_all(b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr").await.unwrap();
    let started = Instant::now();
    assert!(until_closed(&mut stream).await.is_empty(), "nothing answered");
    assert!(started.elapsed() >= Duration::from_millis(250), "dropped after {:?}", started.elapsed());
    assert_eq!(refusals(&logs)[0]["reason"], "no complete request within 300 ms of connecting");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_oversized_upgrade_request_is_answered_431_and_logged_without_its_content() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, ConnectionLimits::default()).await;
    let mut stream = tcp_from(1, sandbox.local_addr()).await;
    let cookie = format!("Cookie: secret_pk_in_a_cookie={}\r\n", "x".repeat(20_000));
    let request = format!(
        "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{cookie}\r\n"
    );
    // The server may stop reading once the head is too large.
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = String::from_utf8_lossy(&until_closed(&mut stream).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let refused = refusals(&logs);
    assert_eq!(refused[0]["reason"], "request head over 16384 bytes: answered 431");
    assert!(logs.lines().iter().all(|l| !l.contains("secret_pk_in_a_cookie")));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_address_holds_at_most_its_cap_of_connections() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, limits(10_000, 3, 64)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tcp_from(2, sandbox.local_addr()).await);
    }
    let mut fourth = tcp_from(2, sandbox.local_addr()).await;
    assert!(until_closed(&mut fourth).await.is_empty(), "refused at once, nothing answered");
    assert_eq!(refusals(&logs)[0]["reason"], "3 connections from this address already (the cap)");
    assert_eq!(refusals(&logs)[0]["peer"], "127.0.0.2");
    // Other addresses are not affected, and a place freed is a place again.
    assert!(auth_time(&sandbox, 3).await < Duration::from_secs(5));
    drop(held.pop());
    assert!(auth_time_once_admitted(&sandbox, 2).await < Duration::from_secs(5));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn past_the_pending_cap_the_oldest_stalled_handshake_makes_room_for_a_new_client() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, limits(10_000, 64, 3)).await;
    let mut stalled = Vec::new();
    for host in 2..=4 {
        // Connected one after another, so the kernel queues them, and the
        // sandbox accepts them, in this order.
        stalled.push(tcp_from(host, sandbox.local_addr()).await);
    }
    assert!(auth_time(&sandbox, 5).await < Duration::from_secs(5), "the new client got in");
    assert!(until_closed(&mut stalled[0]).await.is_empty(), "the oldest was dropped");
    let refused = refusals(&logs);
    assert_eq!(refused[0]["peer"], "127.0.0.2");
    assert!(refused[0]["reason"].as_str().unwrap().starts_with("dropped: 3 handshakes in progress"), "{refused:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn past_the_global_cap_a_stalled_handshake_makes_room_then_newcomers_are_refused() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, ConnectionLimits { max_connections: 3, ..limits(10_000, 64, 64) }).await;
    // The stalled one from an address of its own, for the log; the others
    // from one address, which has no one to take a place from.
    let (first, _) = Raw::session(&sandbox, json!({})).await;
    let (mut second, _) = Raw::session(&sandbox, json!({})).await;
    let mut stalled = tcp_from(4, sandbox.local_addr()).await;
    let (mut newcomer, _) = Raw::session(&sandbox, json!({})).await;
    assert!(until_closed(&mut stalled).await.is_empty(), "the stalled one gave its place");
    let mut refused = tcp_from(1, sandbox.local_addr()).await;
    assert!(until_closed(&mut refused).await.is_empty(), "refused at once, nothing answered");
    let lines = refusals(&logs);
    assert_eq!((&lines[0]["peer"], &lines[1]["peer"]), (&json!("127.0.0.4"), &json!("127.0.0.1")));
    assert_eq!(lines[0]["reason"], "dropped: 3 connections held (the sandbox's cap), this the oldest handshake");
    assert_eq!(lines[1]["reason"], "3 connections held, none in its handshake (the sandbox's cap)");
    // The clients inside are served as before, and a place freed is a place again.
    assert!(second.alive().await && newcomer.alive().await);
    drop(first);
    assert!(auth_time_once_admitted(&sandbox, 1).await < Duration::from_secs(5));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_full_sandbox_closes_the_oldest_socket_of_the_address_holding_the_most_for_a_newcomer() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, ConnectionLimits { max_connections: 3, ..limits(10_000, 64, 64) }).await;
    // One address holds every place with live sessions (a hoarder, or many tabs).
    let (mut oldest, _) = Raw::session(&sandbox, json!({})).await;
    let (mut second, _) = Raw::session(&sandbox, json!({})).await;
    let (mut third, _) = Raw::session(&sandbox, json!({})).await;
    let mut shopper = Raw::open_over(&sandbox, tcp_from(5, sandbox.local_addr()).await).await;
    shopper.send(auth(json!({}))).await;
    assert_eq!(shopper.next().await["type"], "auth_ok", "a shopper from another address gets in");
    assert_eq!(oldest.closed().await, (1013, "server full".to_owned()), "the client retries later");
    // 2 and 1 now: one more from either address would only move the unfairness.
    for host in [1, 5] {
        let mut refused = tcp_from(host, sandbox.local_addr()).await;
        assert!(until_closed(&mut refused).await.is_empty(), "refused at once, nothing answered");
    }
    assert!(second.alive().await && third.alive().await && shopper.alive().await);
    let lines = refusals(&logs);
    assert_eq!(lines[0]["peer"], "127.0.0.1");
    let closed = "closed: 3 connections held (the sandbox's cap), this the oldest of the address holding the most";
    assert_eq!(lines[0]["reason"], closed);
    assert_eq!(lines.len(), 3, "{lines:?}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_stalled_sockets_neither_delay_a_new_client_nor_outlive_their_deadline() {
    const STALLED: usize = 2_000;
    const DEADLINE: Duration = Duration::from_secs(2);
    let logs = Logs::default();
    // The default caps; a short deadline keeps the test short.
    let sandbox = sandbox(&logs, ConnectionLimits { handshake_timeout_ms: 2_000, ..ConnectionLimits::default() }).await;
    let per_address = ConnectionLimits::default().per_address - 1;
    let mut stalled = Vec::with_capacity(STALLED);
    for n in 0..STALLED {
        // 63 per source address, under the default cap of 64.
        let host = 2 + u8::try_from(n / per_address).unwrap();
        stalled.push(Stalled::open(n, host, sandbox.local_addr()).await);
    }
    // Served, with a generous guard: the time itself is the benchmark's
    // (`--stalled`, docs/performance.md), not a test's.
    let answered = timeout(Duration::from_secs(10), auth_time(&sandbox, 200)).await.expect("a new client is served");
    let closes =
        futures_util::future::join_all(stalled.into_iter().map(|s| s.closed_after(Duration::from_secs(20)))).await;
    let (early, late) = (closes.iter().min().unwrap(), closes.iter().max().unwrap());
    eprintln!("new client answered in {answered:?}; stalled sockets closed after {early:?} to {late:?}");
    assert!(*early >= DEADLINE - Duration::from_millis(100), "one was closed after {early:?}");
    assert!(*late < DEADLINE + Duration::from_secs(2), "one was closed only after {late:?}");
    assert_eq!(refusals(&logs).len(), STALLED, "one log line per stalled socket");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_client_that_falls_silent_after_auth_is_pinged_then_let_go_and_its_place_freed() {
    let logs = Logs::default();
    // The address's one place; a short heartbeat keeps the test short.
    let mut options = SandboxOptions { connections: limits(10_000, 1, 64), ..support::options(&logs) };
    options.engine.heartbeat_ms = NonZeroU64::new(300);
    let sandbox = vizochok_sandbox::start(options).await.unwrap();
    // A network that vanished: the client sends nothing more, not even a close.
    let (mut gone, _) = Raw::session(&sandbox, json!({})).await;
    assert_eq!(gone.next().await["type"], "ping", "asked first");
    assert_eq!(gone.closed().await, (1000, "heartbeat timeout".to_owned()));
    assert!(auth_time_once_admitted(&sandbox, 1).await < Duration::from_secs(5));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_client_that_floods_pings_and_never_reads_is_cut_and_its_place_freed() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, limits(10_000, 1, 64)).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from(([127, 0, 0, 6], 0))).unwrap();
    // A small window: the pongs pile up on the server's side.
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(sandbox.local_addr()).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(sandbox.ws_url(), stream).await.unwrap();
    let (mut sink, mut frames) = ws.split();
    sink.send(Message::Text(auth(json!({})).to_string().into())).await.unwrap();
    let first = timeout(Duration::from_secs(10), frames.next()).await.unwrap().unwrap().unwrap();
    assert!(first.to_text().unwrap().starts_with(r#"{"type":"auth_ok""#), "{first:?}");
    let ping = Message::Text(r#"{"type":"ping","ts":1}"#.into());
    let mut refused = false;
    for _ in 0..200_000 {
        // Longer than the sandbox's 30 s bound on a frame the peer does not take.
        match timeout(Duration::from_secs(45), sink.send(ping.clone())).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                refused = true;
                break;
            }
            Err(_) => panic!("the server stopped reading but kept the socket"),
        }
    }
    assert!(refused, "the server kept a socket that took none of its pongs");
    // The address's one place is free again.
    assert!(auth_time_once_admitted(&sandbox, 6).await < Duration::from_secs(5));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_message_past_the_engines_frame_limit_ends_its_socket_and_one_at_it_is_answered() {
    // tungstenite keeps the memory of the largest frame a socket read for
    // the socket's life: a socket that took one frame of 1 MiB, which the
    // engine then refused, went on holding 1 MiB.
    let logs = Logs::default();
    let options = support::options(&logs);
    let limit = options.engine.limits.max_inbound_bytes;
    let sandbox = vizochok_sandbox::start(options).await.unwrap();
    let (mut raw, _) = Raw::session(&sandbox, json!({})).await;
    raw.send_text(&"x".repeat(limit)).await;
    assert_eq!(raw.error(None).await, "invalid_json", "read, and refused by the engine");
    assert!(raw.alive().await);
    raw.send_text(&"x".repeat(limit + 1)).await;
    assert!(raw.ended().await, "the socket ends at the frame's header");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_frame_header_past_the_message_limit_closes_the_socket_at_once() {
    // tungstenite's own frame limit is 16 MiB, and it reserves and reads a
    // whole frame before the message limit applies: a socket could hold
    // 16 MiB by announcing a frame and trickling it.
    let logs = Logs::default();
    let sandbox = sandbox(&logs, ConnectionLimits::default()).await;
    let stream = tcp_from(1, sandbox.local_addr()).await;
    let (mut ws, _) = tokio_tungstenite::client_async(sandbox.ws_url(), stream).await.unwrap();
    ws.send(Message::Text(auth(json!({})).to_string().into())).await.unwrap();
    let ok = ws.next().await.unwrap().unwrap();
    assert!(ok.to_text().unwrap().contains("auth_ok"), "{ok:?}");
    // A masked text frame announcing 2 MiB, and its first bytes.
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(2u64 << 20).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    header.extend_from_slice(&[0; 1024]);
    let stream = ws.get_mut();
    stream.write_all(&header).await.unwrap();
    until_closed(stream).await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_full_sandbox_makes_no_room_for_an_address_past_its_budget_of_new_sessions() {
    // Room is made by forgetting another shopper's idle session; one
    // address opening sessions one after another could empty the sandbox.
    let logs = Logs::default();
    let mut options = support::options(&logs);
    options.engine.max_sessions = 2;
    options.engine.limits.new_sessions_per_address = 2;
    let sandbox = vizochok_sandbox::start(options).await.unwrap();
    let first_answer = |host: u8| {
        let sandbox = &sandbox;
        async move {
            let stream = tcp_from(host, sandbox.local_addr()).await;
            let (mut ws, _) = tokio_tungstenite::client_async(sandbox.ws_url(), stream).await.unwrap();
            ws.send(Message::Text(auth(json!({})).to_string().into())).await.unwrap();
            timeout(Duration::from_secs(10), ws.next()).await.expect("an answer in time").unwrap().unwrap()
        }
    };
    // 127.0.0.2 opens two sessions and leaves them: the sandbox is full.
    for _ in 0..2 {
        let answer = first_answer(2).await;
        assert!(answer.to_text().unwrap().starts_with(r#"{"type":"auth_ok""#), "{answer:?}");
    }
    match first_answer(2).await {
        Message::Close(Some(frame)) => {
            assert_eq!((u16::from(frame.code), frame.reason.as_str()), (1013, "try again later"))
        }
        other => panic!("expected close 1013, got {other:?}"),
    }
    // Another address is served, making room as before.
    let answer = first_answer(3).await;
    assert!(answer.to_text().unwrap().starts_with(r#"{"type":"auth_ok""#), "{answer:?}");
    let hit = logs.lines().into_iter().find(|l| l.contains("opened 2 sessions within"));
    assert!(hit.is_some_and(|l| l.contains(r#""kind":"limit_hit""#)), "{:?}", logs.lines());
    sandbox.shutdown().await;
}
