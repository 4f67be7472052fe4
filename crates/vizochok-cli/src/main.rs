//! `vizochok`: run the sandbox server, or chat with a store's assistant.
#![deny(unsafe_code)]

mod allocator;
mod chat;
mod descriptors;
mod json;
mod markdown;
mod render;
mod span;

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vizochok_core::{Config, Language, Limits, Timers};
use vizochok_sandbox::SandboxOptions;

use crate::span::Span;

#[derive(Parser)]
#[command(name = "vizochok", version, about = "VIZOCHOK shopping assistant: sandbox server and terminal chat")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sandbox server (demo store `demo-store`, api key `pk_demo`, unless --config says otherwise).
    Sandbox(SandboxArgs),
    /// Chat with the assistant in the terminal.
    Chat(ChatArgs),
}

#[derive(clap::Args)]
struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// A store config file, or a sandbox settings file (stores_file, engine limits, faults, connections).
    /// The flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep sessions in this directory across restarts.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Serve the files of this directory at `/`.
    #[arg(long = "static")]
    static_dir: Option<PathBuf>,
    #[command(flatten)]
    sessions: SessionArgs,
    #[command(flatten)]
    connections: ConnectionArgs,
    #[command(flatten)]
    faults: FaultArgs,
}

/// What the engine keeps.
#[derive(clap::Args)]
#[command(next_help_heading = "Sessions")]
struct SessionArgs {
    /// Forget a session no connection has used for this long (a resume then opens a new one) [default: 24h]
    #[arg(long, value_name = "DURATION")]
    session_ttl: Option<Span>,
    /// Most sessions held; one more forgets the least recently used idle one, empty ones first [default: 100000]
    #[arg(long, value_name = "N")]
    max_sessions: Option<usize>,
    /// New sessions one IP address (an IPv6 /64) may open per 10 min and still make room in a full sandbox (past it, 1013) [default: 100]
    #[arg(long, value_name = "N")]
    new_sessions_per_address: Option<u32>,
    /// Ping a silent client after this long, close it after twice as long; 0s switches it off [default: 25s]
    #[arg(long, value_name = "DURATION")]
    heartbeat: Option<Span>,
}

/// Who may connect, and for how long before proving anything.
#[derive(clap::Args)]
#[command(next_help_heading = "Connections")]
struct ConnectionArgs {
    /// The WebSocket handshake and `auth` must both arrive within this of connecting [default: 10s]
    #[arg(long, value_name = "DURATION")]
    handshake_timeout: Option<Span>,
    /// Concurrent connections from one IP address (an IPv6 /64) [default: 64]
    #[arg(long, value_name = "N")]
    max_per_address: Option<usize>,
    /// Concurrent connections in all, at most the open-file limit less 64; one more ends the oldest handshake, else the oldest connection of the address holding the most, else is refused [default: 16384]
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Connections still in their handshake; one more drops the oldest [default: 4096]
    #[arg(long, value_name = "N")]
    max_pending_handshakes: Option<usize>,
    /// Largest HTTP request head; a larger upgrade request gets 431 [default: 16384, at least 8192]
    #[arg(long, value_name = "BYTES")]
    max_request_head: Option<usize>,
}

/// Fault injection, for testing clients (each acts on every connection's outbound frames).
#[derive(clap::Args)]
#[command(next_help_heading = "Faults")]
struct FaultArgs {
    /// Cut each connection (no close frame) after sending it N frames
    #[arg(long, value_name = "N")]
    drop_after_frames: Option<u32>,
    /// Hold every outbound frame this long
    #[arg(long, value_name = "DURATION")]
    delay: Option<Span>,
    /// Send every frame twice
    #[arg(long)]
    duplicate: bool,
    /// Swap every two consecutive frames
    #[arg(long)]
    reorder: bool,
    /// After every N frames, send one that is not valid JSON
    #[arg(long, value_name = "N")]
    malformed_every: Option<u32>,
    /// After every N frames, send one a byte past the 1 MiB frame limit
    #[arg(long, value_name = "N")]
    oversized_every: Option<u32>,
    /// Answer the auth of the first N connections with auth_error and close 4001
    #[arg(long, value_name = "N")]
    refuse_auth: Option<u32>,
    /// Never answer the client's ping, and send none (no server heartbeat)
    #[arg(long)]
    ignore_pings: bool,
}

impl SandboxArgs {
    /// Applies the flags given on top of `options` (defaults, then the config file).
    fn apply(&self, options: &mut SandboxOptions) {
        let SessionArgs { session_ttl, max_sessions, new_sessions_per_address, heartbeat } = &self.sessions;
        let engine = &mut options.engine;
        set(&mut engine.session_ttl_ms, session_ttl.map(|s| s.0));
        set(&mut engine.max_sessions, *max_sessions);
        set(&mut engine.limits.new_sessions_per_address, *new_sessions_per_address);
        if let Some(beat) = heartbeat {
            engine.heartbeat_ms = NonZeroU64::new(beat.0);
        }
        let c = &self.connections;
        let limits = &mut options.connections;
        set(&mut limits.handshake_timeout_ms, c.handshake_timeout.map(|s| s.0));
        set(&mut limits.per_address, c.max_per_address);
        set(&mut limits.max_connections, c.max_connections);
        set(&mut limits.pending_handshakes, c.max_pending_handshakes);
        set(&mut limits.max_request_head_bytes, c.max_request_head);
        let f = &self.faults;
        let faults = &mut options.faults;
        if f.drop_after_frames.is_some() {
            faults.drop_after_frames = f.drop_after_frames;
        }
        set(&mut faults.delay_ms, f.delay.map(|s| s.0));
        faults.duplicate |= f.duplicate;
        faults.reorder |= f.reorder;
        if f.malformed_every.is_some() {
            faults.malformed_every = f.malformed_every;
        }
        if f.oversized_every.is_some() {
            faults.oversized_every = f.oversized_every;
        }
        set(&mut faults.refuse_auth, f.refuse_auth);
        faults.ignore_pings |= f.ignore_pings;
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// Options of `vizochok chat`.
#[derive(clap::Args)]
pub(crate) struct ChatArgs {
    /// Server URL; without it an embedded sandbox with the demo store is started.
    #[arg(long)]
    pub url: Option<String>,
    /// The store's public api key.
    #[arg(long, default_value = vizochok_sandbox::DEMO_API_KEY)]
    pub api_key: String,
    /// The store id.
    #[arg(long, default_value = vizochok_sandbox::DEMO_STORE_ID)]
    pub store: String,
    /// The shopper's id.
    #[arg(long)]
    pub user_id: Option<String>,
    /// Language of the assistant and of every message shown.
    #[arg(long, value_enum, default_value_t = Lang::Uk)]
    pub language: Lang,
    /// The store backend's proof of --user-id (HMAC-SHA256, `docs/identity.md`).
    /// As good as a password: prefer the environment variable, which other
    /// users of the machine cannot read from the process list.
    #[arg(long, env = "VIZOCHOK_USER_TOKEN", hide_env_values = true, requires = "user_id")]
    pub user_token: Option<String>,
    /// Read lines from stdin and print every event as one JSON line; exit once
    /// stdin has ended and every reply has arrived.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub timers: TimerArgs,
}

/// Every timer of the client (§5 of the contract), with the contract's defaults.
#[derive(clap::Args)]
#[command(next_help_heading = "Timers")]
pub(crate) struct TimerArgs {
    /// From asking for a socket to its being open; then `ws_error` and a reconnect
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().socket_open_ms))]
    pub socket_open_timeout: Span,
    /// From `auth` sent to `auth_ok`; then `auth_timeout` and a reconnect
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().auth_ms))]
    pub auth_timeout: Span,
    /// Send a ping after this long without an inbound frame (the server's limits.heartbeat_ms wins)
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().heartbeat_ms))]
    pub heartbeat: Span,
    /// After a ping, `connection_lost` when nothing arrives for this long
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().heartbeat_answer_ms))]
    pub heartbeat_answer: Span,
    /// Reconnect attempt n waits a random time in [d/2, d], d = min(--backoff-max, this · 2ⁿ)
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().backoff_base_ms))]
    pub backoff_base: Span,
    /// The longest reconnect wait
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().backoff_max_ms))]
    pub backoff_max: Span,
    /// After a server restart close, attempt k waits a random time in [0, min(--backoff-max, this · 2ᵏ)]
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().storm_spread_ms))]
    pub storm_spread: Span,
    /// Wait before resending an action refused with agent_busy/rate_limit_exceeded when the server names none
    #[arg(long, value_name = "DURATION", default_value_t = Span(Timers::default().retry_after_ms))]
    pub retry_after: Span,
    /// Reconnect attempts in a row without auth_ok before `max_reconnect`
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_reconnect_attempts)]
    pub max_reconnects: u32,
}

impl TimerArgs {
    /// Sets every timer of `config`.
    pub fn apply(&self, config: &mut Config) {
        let timers = &mut config.timers;
        timers.socket_open_ms = self.socket_open_timeout.0;
        timers.auth_ms = self.auth_timeout.0;
        timers.heartbeat_ms = self.heartbeat.0;
        timers.heartbeat_answer_ms = self.heartbeat_answer.0;
        timers.backoff_base_ms = self.backoff_base.0;
        timers.backoff_max_ms = self.backoff_max.0;
        timers.storm_spread_ms = self.storm_spread.0;
        timers.retry_after_ms = self.retry_after.0;
        config.limits.max_reconnect_attempts = self.max_reconnects;
    }
}

/// A language of the chat.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Lang {
    /// Ukrainian.
    Uk,
    /// English.
    En,
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Language {
        match lang {
            Lang::Uk => Language::Uk,
            Lang::En => Language::En,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().on_thread_park(allocator::idle).build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Sandbox(args) => sandbox(args).await,
            Command::Chat(args) => chat::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("vizochok: {message}");
    ExitCode::FAILURE
}

/// Ctrl-C, or (on Unix) SIGTERM.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

/// Runs the sandbox until Ctrl-C, then restarts clients off it gracefully.
async fn sandbox(args: SandboxArgs) -> Result<ExitCode, String> {
    let mut options = SandboxOptions {
        addr: args.addr,
        state_dir: args.state.clone(),
        static_dir: args.static_dir.clone(),
        ..Default::default()
    };
    if let Some(config) = &args.config {
        options.load_config(config).map_err(|e| e.to_string())?;
    }
    args.apply(&mut options);
    let open_files = descriptors::fit(&mut options.connections);
    let max_connections = options.connections.max_connections;
    let sandbox = vizochok_sandbox::start(options).await.map_err(|e| e.to_string())?;
    let listening = serde_json::json!({
        "kind": "listening", "url": sandbox.ws_url(), "max_connections": max_connections, "open_files": open_files,
    });
    eprintln!("{listening}");
    stop_signal().await.map_err(|e| e.to_string())?;
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat_after(flags: &[&str]) -> Option<u64> {
        let Command::Sandbox(args) = Cli::parse_from([&["vizochok", "sandbox"], flags].concat()).command else {
            unreachable!("a sandbox command")
        };
        let mut options = SandboxOptions::default();
        args.apply(&mut options);
        options.engine.heartbeat_ms.map(NonZeroU64::get)
    }

    #[test]
    fn the_sandbox_heartbeat_is_on_by_default_and_0s_switches_it_off() {
        assert_eq!(heartbeat_after(&[]), Some(25_000));
        assert_eq!(heartbeat_after(&["--heartbeat", "5s"]), Some(5_000));
        assert_eq!(heartbeat_after(&["--heartbeat", "0s"]), None);
    }
}
