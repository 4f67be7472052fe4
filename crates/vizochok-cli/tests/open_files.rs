//! `vizochok sandbox` under a low open-file limit (`prlimit`): it fits its
//! connection cap under the limit and keeps admitting new clients, instead
//! of running out of descriptors, when `accept` fails for everyone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../vizochok-sandbox/tests/clients/mod.rs"]
mod clients;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clients::{brief_session, tcp_from};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

const OPEN_FILES: u64 = 160;

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
        held.push(tcp_from(2 + n / 50, addr).await.unwrap());
    }
    // A new client still gets in and is served (the oldest silent one makes room).
    let stream = tcp_from(10, addr).await.unwrap();
    let (ws, _) = timeout(Duration::from_secs(10), tokio_tungstenite::client_async(&url, stream))
        .await
        .expect("the sandbox accepts a new client")
        .unwrap();
    brief_session(ws).await.unwrap();
    let log = log.lock().unwrap();
    assert!(log.iter().all(|l| !l.contains("accept_error")), "ran out of descriptors: {log:?}");
    assert!(log.iter().any(|l| l.contains("connections held (the sandbox's cap)")), "{log:?}");
    drop(held);
}
