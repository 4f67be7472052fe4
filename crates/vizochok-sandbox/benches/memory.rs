//! Live heap of an in-process sandbox while sessions churn through it with
//! a short TTL, measured with a counting global allocator
//! (`cargo bench -p vizochok-sandbox --bench memory -- [SESSIONS]`).
//!
//! The clients run in the same process, so the figures are taken when none
//! is connected: what is left is what the sandbox holds. Resident memory of
//! the real `vizochok sandbox` process is measured by the CLI's sandbox
//! bench (`--churn`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../tests/clients/mod.rs"]
mod clients;

use std::alloc::System;
use std::net::SocketAddr;
use std::time::Duration;

use cap::Cap;
use futures_util::StreamExt;
use tokio::time::sleep;
use vizochok_sandbox::{LogSink, SandboxOptions};

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

const TTL_MS: u64 = 2_000;
const CONCURRENCY: usize = 64;

fn mib(bytes: usize) -> String {
    format!("{:.2}", bytes as f64 / (1024.0 * 1024.0))
}

async fn brief_session(url: String) {
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    clients::brief_session(ws).await.unwrap();
}

async fn churn(url: &str, n: usize) {
    futures_util::stream::iter(0..n)
        .map(|_| brief_session(url.to_owned()))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

fn main() {
    let sessions: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let mut options = SandboxOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log: LogSink::new(|_| {}),
            ..SandboxOptions::default()
        };
        options.engine.session_ttl_ms = TTL_MS;
        options.connections.per_address = CONCURRENCY * 2;
        let sandbox = vizochok_sandbox::start(options).await.unwrap();
        let url = sandbox.ws_url();
        let settle = Duration::from_millis(TTL_MS) + Duration::from_secs(8);
        sleep(Duration::from_millis(500)).await;
        let start = ALLOC.allocated();
        churn(&url, 1_000).await;
        sleep(settle).await;
        let warm = ALLOC.allocated();
        churn(&url, sessions).await;
        let end = ALLOC.allocated();
        sleep(settle).await;
        let after = ALLOC.allocated();
        println!("live heap of the sandbox (MiB), {sessions} sessions churned with a {TTL_MS} ms TTL:");
        println!("| started | after 1,000, forgotten | end of churn | after the TTL |");
        println!("|---:|---:|---:|---:|");
        println!("| {} | {} | {} | {} |", mib(start), mib(warm), mib(end), mib(after));
        sandbox.shutdown().await;
    });
}
