//! `vizochok`: run the sandbox server, or chat with a store's assistant.
#![forbid(unsafe_code)]

mod chat;
mod json;
mod render;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vizochok_core::Language;
use vizochok_sandbox::SandboxOptions;

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
    /// A store config file, or a sandbox settings file (stores_file, engine limits, faults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Keep sessions in this directory across restarts.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Serve the files of this directory at `/`.
    #[arg(long = "static")]
    static_dir: Option<PathBuf>,
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
    /// Read lines from stdin and print every event as one JSON line; exit once
    /// stdin has ended and every reply has arrived.
    #[arg(long)]
    pub json: bool,
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
    let runtime = match tokio::runtime::Runtime::new() {
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
    let mut options =
        SandboxOptions { addr: args.addr, state_dir: args.state, static_dir: args.static_dir, ..Default::default() };
    if let Some(config) = &args.config {
        options.load_config(config).map_err(|e| e.to_string())?;
    }
    let sandbox = vizochok_sandbox::start(options).await.map_err(|e| e.to_string())?;
    eprintln!("{}", serde_json::json!({"kind": "listening", "url": sandbox.ws_url()}));
    stop_signal().await.map_err(|e| e.to_string())?;
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
