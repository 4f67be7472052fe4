//! Sandbox benchmarks (not tests), loopback only, bounded in count and time:
//!
//! 1. load: for each level N, N raw sessions connect to a fresh
//!    `vizochok sandbox` process and each adds an item every 5 s (random
//!    phase) for 10 s; reports connect time and ack latency percentiles;
//! 2. storm: N real clients (`vizochok-client`, so the core's storm spread
//!    applies) connect, the sandbox is restarted (SIGTERM → close 1012 to
//!    all, then a new process restores the state directory), and the largest
//!    share of clients coming back within any 100 ms is reported;
//! 3. churn: N sessions pass through a sandbox with a short TTL (connect,
//!    `auth`, a cart action, a message, close), and its resident memory is
//!    sampled before, during and after, once the TTL has emptied it;
//! 4. stalled: N sockets stall their handshake (silent, a request head that
//!    never ends, a WebSocket that never sends `auth`) against a sandbox
//!    with its default limits; new clients' time to `auth_ok` meanwhile,
//!    and when the stalled ones are closed;
//! 5. hoard: N authenticated sockets, 64 from each of N/64 loopback
//!    addresses, fill a sandbox whose global cap is N; shoppers from
//!    addresses of their own connect meanwhile: their time to `auth_ok`,
//!    and which hoarders were closed to make room.
//!
//! `cargo bench -p vizochok-cli --bench sandbox -- [--levels 1000,5000] [--storm 10000] [--churn 100000]
//! [--stalled 2000] [--hoard 15360]` (`--levels ""` or `--storm 0` skips those parts).
//!
//! The sandbox runs as a separate process so each side stays under the
//! machine's per-process open-file limit. The load and storm clients all
//! come from 127.0.0.1, so that sandbox lifts its per-address and global
//! caps; the churn and stalled clients come from many loopback addresses
//! (127.0.0.2 and up) and meet the default caps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../vizochok-sandbox/tests/clients/mod.rs"]
mod clients;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clients::{tcp_from, Stalled};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
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
    let count = |name: &str, default: usize| arg(name).map_or(default, |n| n.parse().expect("a count"));
    let levels: Vec<usize> = arg("--levels")
        .unwrap_or_else(|| "1000,5000,10000,15000".into())
        .split(',')
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().expect("--levels N,N,..."))
        .collect();
    let storm_clients = count("--storm", 10_000);
    let churn_sessions = count("--churn", 0);
    let stalled_sockets = count("--stalled", 0);
    let hoard_sockets = count("--hoard", 0);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        println!("machine: {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));
        if !levels.is_empty() {
            println!("\n## load: sessions, connect time, ack latency (each session adds an item every 5 s for 10 s)");
            println!("| sessions | connected | connect all (s) | actions | acks | p50 (ms) | p99 (ms) | max (ms) |");
            println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        }
        for n in levels {
            load_level(n).await;
        }
        if storm_clients > 0 {
            storm(storm_clients).await;
        }
        if churn_sessions > 0 {
            churn(churn_sessions).await;
        }
        if stalled_sockets > 0 {
            stalled(stalled_sockets).await;
        }
        if hoard_sockets > 0 {
            hoard(hoard_sockets).await;
        }
    });
}

/// The load and storm clients all connect from 127.0.0.1, up to 15,000 at once.
const LIFTED_CAPS: [&str; 4] = ["--max-per-address", "1000000", "--max-connections", "1000000"];

/// A `vizochok sandbox` child process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(addr: SocketAddr, state: Option<&Path>, flags: &[&str]) -> Server {
        Server::start_logging(addr, state, flags, None).await
    }

    /// As `start`, writing the sandbox's log to `log`.
    async fn start_logging(addr: SocketAddr, state: Option<&Path>, flags: &[&str], log: Option<&Path>) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vizochok"));
        command.args(["sandbox", "--addr", &addr.to_string()]).args(flags);
        if let Some(state) = state {
            command.arg("--state").arg(state);
        }
        let stderr = log.map_or(Stdio::null(), |path| Stdio::from(std::fs::File::create(path).unwrap()));
        let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr).spawn().unwrap();
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
    authenticate(&mut ws, "en").await?;
    Ok(ws)
}

/// Sends the demo store's `auth` and waits for its `auth_ok`.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    language: &str,
) -> Result<(), String> {
    let auth = json!({"type": "auth", "v": 1, "api_key": "pk_demo", "store_id": "demo-store",
        "language": language, "sdk": {"name": "bench", "version": "1"}});
    ws.send(Message::Text(auth.to_string().into())).await.map_err(|e| format!("send auth: {e}"))?;
    match timeout(Duration::from_secs(30), ws.next()).await {
        Ok(Some(Ok(Message::Text(text)))) if text.as_str().starts_with(r#"{"type":"auth_ok""#) => Ok(()),
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
    let server = Server::start(free_addr(), None, &LIFTED_CAPS).await;
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
    /// Clients back after at least one error since the cut.
    failed_first: AtomicUsize,
}

/// One client's recorder: the shared arrivals, and whether this client saw
/// an error after the cut before it was back (an attempt in the restart gap).
struct Recorder(Arc<Arrivals>, AtomicBool);

impl Callbacks for Recorder {
    fn on_connect(&self) {
        if self.0.storm.load(Ordering::SeqCst) {
            self.0.at.lock().unwrap().push(Instant::now());
            if self.1.load(Ordering::SeqCst) {
                self.0.failed_first.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            self.0.connected.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn on_error(&self, _error: &vizochok_core::WidgetError) {
        if self.0.storm.load(Ordering::SeqCst) {
            self.1.store(true, Ordering::SeqCst);
        }
    }
}

async fn storm(n: usize) {
    let state = std::env::temp_dir().join(format!("vizochok-bench-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let addr = free_addr();
    let server = Server::start(addr, Some(&state), &LIFTED_CAPS).await;
    let arrivals = Arc::new(Arrivals {
        storm: AtomicBool::new(false),
        connected: AtomicUsize::new(0),
        at: Mutex::default(),
        failed_first: AtomicUsize::new(0),
    });
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let config = vizochok_client::config("pk_demo", "demo-store", &server.url());
        let client = Client::new(config, Recorder(arrivals.clone(), AtomicBool::new(false))).unwrap();
        client.connect();
        clients.push(client);
        // Pace the initial connects so they do not form a storm of their own.
        if clients.len() % CONNECT_CONCURRENCY == 0 {
            wait_for(|| arrivals.connected.load(Ordering::SeqCst) + CONNECT_CONCURRENCY > clients.len()).await;
        }
    }
    wait_for(|| arrivals.connected.load(Ordering::SeqCst) == n).await;

    let cut = Instant::now();
    let cut_wall = wall_ms();
    arrivals.storm.store(true, Ordering::SeqCst);
    server.stop().await;
    let down = cut.elapsed();
    let log = std::env::temp_dir().join(format!("vizochok-bench-storm-{}.log", std::process::id()));
    let server = Server::start_logging(addr, Some(&state), &LIFTED_CAPS, Some(&log)).await;
    let up = cut.elapsed();
    let all_back = timeout(Duration::from_secs(120), wait_for(|| arrivals.at.lock().unwrap().len() >= n)).await.is_ok();
    let mut at: Vec<Duration> = arrivals.at.lock().unwrap().iter().map(|t| t.duration_since(cut)).collect();
    at.sort();
    let (best, best_start) = densest(&at);
    // The same, as the sandbox saw it: its `auth_ok` log lines (engine time is wall time).
    let mut served: Vec<Duration> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["kind"] == "auth_ok")
        .filter_map(|line| line["at"].as_u64())
        .map(|at| Duration::from_millis(at.saturating_sub(cut_wall)))
        .collect();
    served.sort();
    let (served_best, served_start) = densest(&served);
    let _ = std::fs::remove_file(&log);
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
        "- back after at least one failed attempt (an error before their auth_ok, e.g. refused in the restart gap): {}",
        arrivals.failed_first.load(Ordering::SeqCst)
    );
    println!(
        "- largest share within any 100 ms: {best} clients = {:.2}% (window starting {:.2} s after the cut)",
        100.0 * best as f64 / n as f64,
        best_start.as_secs_f64()
    );
    println!(
        "- as the sandbox saw them (its auth_ok lines): {} auths, largest share within any 100 ms: {served_best} = \
         {:.2}% (window starting {:.2} s after the cut)",
        served.len(),
        100.0 * served_best as f64 / n as f64,
        served_start.as_secs_f64()
    );
    let mut counts = vec![0usize; 60];
    for t in &at {
        if let Some(count) = counts.get_mut((t.as_millis() / WINDOW.as_millis()) as usize) {
            *count += 1;
        }
    }
    let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
    println!("- arrivals per 100 ms, the first 6 s: {}", counts.join(" "));
    drop(clients);
    server.stop().await;
    let _ = std::fs::remove_dir_all(PathBuf::from(&state));
}

/// Resident memory of process `pid`, in KiB (`VmRSS`).
fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// A `/proc/PID/status` figure in KiB (`VmRSS:`, `RssAnon:`, `RssFile:`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or("x 0 kB");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

/// Anonymous (heap, stacks) and file-backed (the program's code) resident memory, in MiB.
fn split(pid: u32) -> String {
    format!("{} + {}", mib(status_kib(pid, "RssAnon:")), mib(status_kib(pid, "RssFile:")))
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// A source address for the `n`-th connection, 63 to an address (under the
/// default cap of 64 at a time).
fn host_for(n: usize) -> u8 {
    2 + u8::try_from(n / 63 % 240).unwrap()
}

const CHURN_TTL: &str = "2s";
const CHURN_TTL_MS: u64 = 2_000;
const CHURN_CONCURRENCY: usize = 64;

/// One short session: `auth`, a cart action, a message, then gone (its
/// reply streams on with nobody connected, then the TTL forgets it).
async fn brief_session(addr: SocketAddr, host: u8) -> Result<(), String> {
    let stream = tcp_from(host, addr).await.map_err(|e| format!("connect: {e}"))?;
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let url = format!("ws://{addr}/v1/ws");
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    clients::brief_session(ws).await
}

/// `n` brief sessions, `CHURN_CONCURRENCY` at a time; the failures.
async fn brief_sessions(addr: SocketAddr, from: usize, n: usize) -> Vec<String> {
    futures_util::stream::iter(from..from + n)
        .map(|i| brief_session(addr, host_for(i)))
        .buffer_unordered(CHURN_CONCURRENCY)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await
}

async fn churn(n: usize) {
    let server = Server::start(free_addr(), None, &["--session-ttl", CHURN_TTL]).await;
    let pid = server.child.id().unwrap();
    // Replies still streaming finish, the TTL forgets every session, and
    // the allocator's background thread hands the pages back (it decays
    // them over about ten seconds).
    let settle = Duration::from_millis(CHURN_TTL_MS) + Duration::from_secs(20);
    sleep(Duration::from_secs(1)).await;
    let (cold, cold_split) = (rss_kib(pid), split(pid));
    // A first thousand sessions, forgotten again: what a sandbox holds once it has served anyone.
    let warm_failures = brief_sessions(server.addr, 0, 1_000).await;
    sleep(settle).await;
    let (warm, warm_split) = (rss_kib(pid), split(pid));
    let peak = Arc::new(AtomicUsize::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while sampling.load(Ordering::SeqCst) {
                let rss = rss_kib(pid);
                peak.fetch_max(rss as usize, Ordering::SeqCst);
                samples.push(rss);
                sleep(Duration::from_millis(250)).await;
            }
            samples
        })
    };
    let started = Instant::now();
    let failures = brief_sessions(server.addr, 1_000, n).await;
    let took = started.elapsed();
    let (end_of_churn, end_split) = (rss_kib(pid), split(pid));
    sampling.store(false, Ordering::SeqCst);
    let mut samples = sampler.await.unwrap();
    samples.sort();
    sleep(settle).await;
    let (after, after_split) = (rss_kib(pid), split(pid));
    println!("\n## churn: {n} sessions through a sandbox with --session-ttl {CHURN_TTL}");
    println!(
        "- {} sessions in {:.1} s ({:.0} a second, {CHURN_CONCURRENCY} at a time); failures: {} (+{} in the warm-up)",
        n - failures.len(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        failures.len(),
        warm_failures.len()
    );
    if let Some(first) = failures.first().or(warm_failures.first()) {
        println!("- first failure: {first}");
    }
    let median = samples.get(samples.len() / 2).copied().unwrap_or(0);
    println!(
        "| resident memory (MiB) | cold start | after 1,000 sessions, forgotten | during: median | during: peak \
         | end of churn | after the TTL |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| `vizochok sandbox` | {} | {} | {} | {} | {} | {} |",
        mib(cold),
        mib(warm),
        mib(median),
        mib(peak.load(Ordering::SeqCst) as u64),
        mib(end_of_churn),
        mib(after)
    );
    println!("| of which anonymous + file-backed | {cold_split} | {warm_split} | | | {end_split} | {after_split} |");
    println!(
        "- after / warm: {:+.1} %; after / cold start: {:+.1} %",
        100.0 * (after as f64 / warm as f64 - 1.0),
        100.0 * (after as f64 / cold as f64 - 1.0)
    );
    server.stop().await;
}

/// A new client's time from connecting to its `auth_ok`.
async fn auth_time(addr: SocketAddr, host: u8) -> Duration {
    session_from(addr, host).await.unwrap_or_else(|e| panic!("expected auth_ok: {e}")).1
}

async fn stalled(n: usize) {
    const NEW_CLIENTS: usize = 20;
    let server = Server::start(free_addr(), None, &[]).await;
    let pid = server.child.id().unwrap();
    let before = rss_kib(pid);
    let opening = Instant::now();
    let mut sockets = Vec::with_capacity(n);
    for i in 0..n {
        sockets.push(Stalled::open(i, host_for(i), server.addr).await);
    }
    let opened_in = opening.elapsed();
    let held = rss_kib(pid);
    let mut answers = Vec::new();
    for i in 0..NEW_CLIENTS {
        answers.push(auth_time(server.addr, 250 - u8::try_from(i % 4).unwrap()).await);
    }
    answers.sort();
    let mut closes =
        futures_util::future::join_all(sockets.into_iter().map(|s| s.closed_after(Duration::from_secs(60)))).await;
    closes.sort();
    let after = rss_kib(pid);
    let s = |d: &Duration| format!("{:.2}", d.as_secs_f64());
    println!("\n## stalled: {n} sockets stall their handshake against a sandbox with its default limits");
    println!(
        "- opened in {:.1} s from {} loopback addresses (a third silent, a third with a request head that never \
         ends, a third upgraded but never sending auth)",
        opened_in.as_secs_f64(),
        host_for(n - 1) - 1
    );
    println!(
        "- {NEW_CLIENTS} new clients meanwhile, connect to auth_ok: median {:.1} ms, max {:.1} ms",
        answers[NEW_CLIENTS / 2].as_secs_f64() * 1e3,
        answers[NEW_CLIENTS - 1].as_secs_f64() * 1e3
    );
    println!(
        "- stalled sockets closed by the sandbox after (s): min {}, median {}, max {}",
        s(&closes[0]),
        s(&closes[closes.len() / 2]),
        s(&closes[closes.len() - 1])
    );
    println!(
        "- sandbox resident memory (MiB): {} before, {} with them held, {} after",
        mib(before),
        mib(held),
        mib(after)
    );
    server.stop().await;
}

/// An authenticated raw socket from `127.0.0.<host>`, and its time to `auth_ok`.
async fn session_from(addr: SocketAddr, host: u8) -> Result<(WebSocketStream<TcpStream>, Duration), String> {
    let started = Instant::now();
    let stream = tcp_from(host, addr).await.map_err(|e| format!("tcp: {e}"))?;
    let url = format!("ws://{addr}/v1/ws");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.map_err(|e| format!("connect: {e}"))?;
    authenticate(&mut ws, "uk").await?;
    Ok((ws, started.elapsed()))
}

async fn hoard(n: usize) {
    const SHOPPERS: usize = 20;
    const PER_ADDRESS: usize = 64;
    let addresses = n.div_ceil(PER_ADDRESS);
    assert!(addresses <= 240, "--hoard at most 15360 (240 loopback addresses of 64)");
    let cap = n.to_string();
    let server = Server::start(free_addr(), None, &["--max-connections", &cap]).await;
    let (addr, pid) = (server.addr, server.child.id().unwrap());
    let before = rss_kib(pid);
    let opening = Instant::now();
    let host = |i: usize| 2 + u8::try_from(i / PER_ADDRESS).unwrap();
    let opened: Vec<_> = futures_util::stream::iter(0..n)
        .map(|i| async move { (host(i), session_from(addr, host(i)).await) })
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let opened_in = opening.elapsed();
    let failed = opened.iter().filter(|(_, r)| r.is_err()).count();
    assert_eq!(failed, 0, "every hoarder gets in under the cap");
    let held = rss_kib(pid);
    // Each hoarder waits for the sandbox to close it; the codes, by address.
    let closed: Arc<Mutex<Vec<(u8, u16)>>> = Arc::default();
    let readers: Vec<_> = opened
        .into_iter()
        .filter_map(|(host, r)| r.ok().map(|(ws, _)| (host, ws)))
        .map(|(host, mut ws)| {
            let closed = closed.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = ws.next().await {
                    if let Message::Close(frame) = message {
                        closed.lock().unwrap().push((host, frame.map_or(1005, |f| u16::from(f.code))));
                        break;
                    }
                }
            })
        })
        .collect();
    let mut shoppers = Vec::with_capacity(SHOPPERS);
    let mut answers = Vec::with_capacity(SHOPPERS);
    for i in 0..SHOPPERS {
        if let Ok((ws, answered)) = session_from(addr, 250 + u8::try_from(i % 4).unwrap()).await {
            shoppers.push(ws);
            answers.push(answered);
        }
    }
    answers.sort();
    let ms = |at: usize| answers.get(at).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    // Bounded: a sandbox that made no room is reported, not waited for.
    let _ = timeout(Duration::from_secs(30), wait_for(|| closed.lock().unwrap().len() >= answers.len())).await;
    let closed = closed.lock().unwrap().clone();
    let mut kept = vec![PER_ADDRESS; addresses];
    for &(host, _) in &closed {
        kept[usize::from(host - 2)] -= 1;
    }
    let codes: std::collections::BTreeSet<u16> = closed.iter().map(|&(_, code)| code).collect();
    println!("\n## hoard: {n} authenticated sockets from {addresses} loopback addresses fill a sandbox capped at {n}");
    println!("- hoarders in after {:.1} s ({PER_ADDRESS} from each address)", opened_in.as_secs_f64());
    println!(
        "- {SHOPPERS} shoppers from 4 addresses of their own: {} in, connect to auth_ok median {:.1} ms, max {:.1} ms",
        answers.len(),
        ms(answers.len() / 2),
        ms(answers.len().wrapping_sub(1))
    );
    println!(
        "- hoarders closed to make room: {} (close codes {codes:?}); every hoarding address keeps {} to {}",
        closed.len(),
        kept.iter().min().unwrap(),
        kept.iter().max().unwrap()
    );
    println!("- sandbox resident memory (MiB): {} before, {} with the hoard", mib(before), mib(held));
    for reader in readers {
        reader.abort();
    }
    drop(shoppers);
    server.stop().await;
}

/// The most instants (sorted) within any `WINDOW`, and where that window starts.
fn densest(at: &[Duration]) -> (usize, Duration) {
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
    (best, best_start)
}

fn wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
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
