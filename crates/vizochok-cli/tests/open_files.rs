//! `vizochok sandbox` under a low open-file limit (`prlimit`): it fits its
//! connection cap under the limit and keeps admitting new clients, instead
//! of running out of descriptors, when `accept` fails for everyone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::Command;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const OPEN_FILES: u64 = 160;

async fn tcp_from(host: u8, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, host), 0))).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test]
async fn under_a_low_open_file_limit_the_sandbox_fits_its_cap_and_keeps_admitting_new_clients() {
    let mut child = Command::new("prlimit")
        .arg(format!("--nofile={OPEN_FILES}:{OPEN_FILES}"))
        .arg(env!("CARGO_BIN_EXE_vizochok"))
        .args(["sandbox", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("prlimit (util-linux) runs the sandbox");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening: Value = timeout(Duration::from_secs(30), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the sandbox says where it listens");
            if line.contains(r#""kind":"listening""#) {
                return serde_json::from_str(&line).unwrap();
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(listening["open_files"], OPEN_FILES);
    assert_eq!(listening["max_connections"], OPEN_FILES - 64, "{listening}");
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            kept.lock().unwrap().push(line);
        }
    });
    let url = listening["url"].as_str().unwrap().to_owned();
    let addr: SocketAddr = url.trim_start_matches("ws://").trim_end_matches("/v1/ws").parse().unwrap();

    // More silent connections than the process could hold descriptors for
    // (50 an address, under the per-address cap).
    let mut held = Vec::new();
    for n in 0..150 {
        held.push(tcp_from(2 + n / 50, addr).await);
    }
    // A new client still gets in: the oldest silent one makes room.
    let stream = tcp_from(10, addr).await;
    let (mut ws, _) = timeout(Duration::from_secs(10), tokio_tungstenite::client_async(&url, stream))
        .await
        .expect("the sandbox accepts a new client")
        .unwrap();
    let auth = json!({"type": "auth", "v": 1, "api_key": "pk_demo", "store_id": "demo-store", "language": "uk",
        "sdk": {"name": "raw-test", "version": "1"}});
    ws.send(Message::Text(auth.to_string().into())).await.unwrap();
    let answer = timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
    assert!(answer.to_text().unwrap().starts_with(r#"{"type":"auth_ok""#), "{answer:?}");
    let log = log.lock().unwrap();
    assert!(log.iter().all(|l| !l.contains("accept_error")), "ran out of descriptors: {log:?}");
    assert!(log.iter().any(|l| l.contains("connections held (the sandbox's cap)")), "{log:?}");
    drop(held);
}
