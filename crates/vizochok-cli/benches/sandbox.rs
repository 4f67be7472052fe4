//! Sandbox benchmarks (not tests), loopback only, bounded in count and time:
//!
//! 1. load: for each level N, N raw sessions connect to a fresh
//!    `vizochok sandbox` process and each adds an item every 5 s (random
//!    phase) for 10 s; reports connect time and ack latency percentiles;
//! 2. storm: N real clients (`vizochok-client`, so the core's storm spread
//!    applies) connect, the sandbox is restarted (SIGTERM → close 1012 to
//!    all, then a new process restores the state directory), and the largest
//!    share of clients coming back within any 100 ms is reported.
//!
//! `cargo bench -p vizochok-cli --bench sandbox -- [--levels 1000,5000] [--storm 10000]`
//!
//! The sandbox runs as a separate process so each side stays under the
//! machine's per-process open-file limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use vizochok_client::{Callbacks, Client};

const ACTION_PERIOD: Duration = Duration::from_secs(5);
const LOAD_DURATION: Duration = Duration::from_secs(10);
const CONNECT_CONCURRENCY: usize = 256;
const WINDOW: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let levels: Vec<usize> = arg("--levels")
        .unwrap_or_else(|| "1000,5000,10000,15000".into())
        .split(',')
        .map(|n| n.parse().expect("--levels N,N,..."))
        .collect();
    let storm_clients: usize = arg("--storm").map_or(10_000, |n| n.parse().expect("--storm N"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        println!("machine: {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));
        println!("\n## load: sessions, connect time, ack latency (each session adds an item every 5 s for 10 s)");
        println!("| sessions | connected | connect all (s) | actions | acks | p50 (ms) | p99 (ms) | max (ms) |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for n in levels {
            load_level(n).await;
        }
        if storm_clients > 0 {
            storm(storm_clients).await;
        }
    });
}

/// A `vizochok sandbox` child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(addr: SocketAddr, state: Option<&Path>) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vizochok"));
        command.args(["sandbox", "--addr", &addr.to_string()]);
        if let Some(state) = state {
            command.arg("--state").arg(state);
        }
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "the sandbox did not start");
            sleep(Duration::from_millis(5)).await;
        }
        Server { child, addr }
    }

    fn url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// SIGTERM: the sandbox closes every socket with 1012 and saves its state.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        timeout(Duration::from_secs(30), self.child.wait()).await.expect("the sandbox stops").unwrap();
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A raw session: connect and authenticate.
async fn open(url: String) -> Result<Socket, String> {
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), false);
    let (mut ws, _) = connecting.await.map_err(|e| format!("connect: {e}"))?;
    let auth = json!({"type": "auth", "v": 1, "api_key": "pk_demo", "store_id": "demo-store",
        "language": "en", "sdk": {"name": "bench", "version": "1"}});
    ws.send(Message::Text(auth.to_string().into())).await.map_err(|e| format!("send auth: {e}"))?;
    match timeout(Duration::from_secs(30), ws.next()).await {
        Ok(Some(Ok(Message::Text(text)))) if text.as_str().starts_with(r#"{"type":"auth_ok""#) => Ok(ws),
        other => Err(format!("auth: {other:?}")),
    }
}

/// Adds an item every period until `end`: how many were sent, and the
/// latency of each ack.
async fn drive(mut ws: Socket, phase: Duration, end: Instant) -> (Socket, u32, Vec<Duration>) {
    let mut latencies = Vec::new();
    let mut next = Instant::now() + phase;
    let mut n = 0;
    while next < end {
        sleep_until(next).await;
        n += 1;
        let id = format!("a{n}");
        let frame = json!({"type": "select_item", "id": id, "sku": "DAI-001", "quantity": 1});
        let sent = Instant::now();
        if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
            break;
        }
        let ack = format!(r#"{{"type":"ack","id":"{id}"}}"#);
        loop {
            match timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if text.as_str() == ack => break,
                Ok(Some(Ok(_))) => continue,
                _ => return (ws, n, latencies),
            }
        }
        latencies.push(sent.elapsed());
        next += ACTION_PERIOD;
    }
    (ws, n, latencies)
}

async fn load_level(n: usize) {
    let server = Server::start(free_addr(), None).await;
    let started = Instant::now();
    let url = server.url();
    let opened: Vec<Result<Socket, String>> = futures_util::stream::iter(0..n)
        .map(|_| open(url.clone()))
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let connect_time = started.elapsed();
    let (sockets, failures): (Vec<_>, Vec<_>) = opened.into_iter().partition(Result::is_ok);
    let sockets: Vec<Socket> = sockets.into_iter().filter_map(Result::ok).collect();
    if let Some(Err(first)) = failures.first() {
        eprintln!("{n} sessions: {} failed to connect; first: {first}", failures.len());
    }
    let connected = sockets.len();
    let end = Instant::now() + LOAD_DURATION;
    let mut rng = Rng::new(n as u64);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(drive(ws, Duration::from_millis(rng.below(ACTION_PERIOD.as_millis() as u64)), end)))
        .collect();
    let mut latencies = Vec::new();
    let mut sockets = Vec::new();
    let mut sent = 0;
    for task in tasks {
        let (ws, n, mut l) = task.await.unwrap();
        sent += n;
        latencies.append(&mut l);
        sockets.push(ws);
    }
    latencies.sort();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)));
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "| {n} | {connected} | {:.1} | {sent} | {} | {:.1} | {:.1} | {:.1} |",
        connect_time.as_secs_f64(),
        latencies.len(),
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(latencies.last())
    );
    drop(sockets);
    server.stop().await;
}

/// Records when clients (re)connect once the storm has started.
struct Arrivals {
    storm: AtomicBool,
    connected: AtomicUsize,
    at: Mutex<Vec<Instant>>,
}

struct Recorder(Arc<Arrivals>);

impl Callbacks for Recorder {
    fn on_connect(&self) {
        if self.0.storm.load(Ordering::SeqCst) {
            self.0.at.lock().unwrap().push(Instant::now());
        } else {
            self.0.connected.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn storm(n: usize) {
    let state = std::env::temp_dir().join(format!("vizochok-bench-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let addr = free_addr();
    let server = Server::start(addr, Some(&state)).await;
    let arrivals =
        Arc::new(Arrivals { storm: AtomicBool::new(false), connected: AtomicUsize::new(0), at: Mutex::default() });
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let config = vizochok_client::config("pk_demo", "demo-store", &server.url());
        let client = Client::new(config, Recorder(arrivals.clone())).unwrap();
        client.connect();
        clients.push(client);
        // Pace the initial connects so they do not form a storm of their own.
        if clients.len() % CONNECT_CONCURRENCY == 0 {
            wait_for(|| arrivals.connected.load(Ordering::SeqCst) + CONNECT_CONCURRENCY > clients.len()).await;
        }
    }
    wait_for(|| arrivals.connected.load(Ordering::SeqCst) == n).await;

    let cut = Instant::now();
    arrivals.storm.store(true, Ordering::SeqCst);
    server.stop().await;
    let down = cut.elapsed();
    let server = Server::start(addr, Some(&state)).await;
    let up = cut.elapsed();
    let all_back = timeout(Duration::from_secs(120), wait_for(|| arrivals.at.lock().unwrap().len() >= n)).await.is_ok();
    let mut at: Vec<Duration> = arrivals.at.lock().unwrap().iter().map(|t| t.duration_since(cut)).collect();
    at.sort();
    let (mut best, mut best_start, mut lo) = (0, Duration::ZERO, 0);
    for hi in 0..at.len() {
        while at[hi] - at[lo] >= WINDOW {
            lo += 1;
        }
        if hi + 1 - lo > best {
            best = hi + 1 - lo;
            best_start = at[lo];
        }
    }
    println!("\n## reconnect storm: {n} clients cut at once by a restart (close 1012)");
    println!(
        "- old sandbox stopped after {:.2} s; new one listening after {:.2} s",
        down.as_secs_f64(),
        up.as_secs_f64()
    );
    println!(
        "- back: {} of {n} (all: {all_back}); first at {:.2} s, last at {:.2} s after the cut",
        at.len(),
        at.first().map_or(0.0, |d| d.as_secs_f64()),
        at.last().map_or(0.0, |d| d.as_secs_f64())
    );
    println!(
        "- largest share within any 100 ms: {best} clients = {:.2}% (window starting {:.2} s after the cut)",
        100.0 * best as f64 / n as f64,
        best_start.as_secs_f64()
    );
    drop(clients);
    server.stop().await;
    let _ = std::fs::remove_dir_all(PathBuf::from(&state));
}

/// Polls a condition (a benchmark, not a test: polling is fine here).
async fn wait_for(mut done: impl FnMut() -> bool) {
    while !done() {
        sleep(Duration::from_millis(10)).await;
    }
}

/// xorshift64*, for load phases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}
