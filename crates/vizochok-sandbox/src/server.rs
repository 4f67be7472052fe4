//! The sandbox as a real server: a WebSocket endpoint around the sans-IO
//! [`Engine`], product images, an optional static
//! site, signed cart webhooks, sessions kept on disk, and fault injection.
//!
//! One task owns the engine (see `actor`); every socket task talks to it over
//! channels. Embed it with [`start`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), vizochok_sandbox::SandboxError> {
//! let options = vizochok_sandbox::SandboxOptions { addr: "127.0.0.1:0".parse().unwrap(), ..Default::default() };
//! let sandbox = vizochok_sandbox::start(options).await?;
//! println!("connect to {}", sandbox.ws_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod actor;
mod admission;
mod faults;
mod http;
mod listen;
mod options;
mod outbound;
mod random;
mod state;
mod webhook;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use vizochok_proto::Secret;
use vizochok_server::{Engine, ServerConfig, StoreConfig};

use crate::{demo_catalog, DemoAssistant, SandboxStore, StoreIdentity, DEMO_STORE_ID};
use actor::{Actor, Command};
pub use admission::ConnectionLimits;
use admission::Gate;
pub use faults::Faults;
pub use options::{LogSink, SandboxError, SandboxOptions, DEMO_API_KEY};
use random::OsRandom;
use state::StateDir;
use webhook::WebhookTarget;

/// Commands waiting for the engine task before connections must wait.
const COMMAND_BACKLOG: usize = 8_192;
/// Pending connections the kernel may queue (it caps this at `somaxconn`).
const LISTEN_BACKLOG: u32 = 4_096;
/// How long shutdown waits for sockets to send their close frames.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// A sandbox that is serving. Stop it with [`RunningSandbox::shutdown`].
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    commands: mpsc::Sender<Command>,
    stop_http: oneshot::Sender<()>,
    http: JoinHandle<()>,
    actor: JoinHandle<()>,
    /// Closes (returns `None`) once every socket task has ended.
    sockets_done: mpsc::Receiver<()>,
}

impl RunningSandbox {
    /// The address the server listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket endpoint, `ws://ADDR/v1/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/v1/ws", self.addr)
    }

    /// Restarts gracefully: stops accepting, closes every socket with 1012
    /// (clients come back, spread out), writes the state directory, and
    /// waits for the sockets to finish.
    pub async fn shutdown(self) {
        let _ = self.stop_http.send(());
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = finished.await;
        }
        let _ = self.actor.await;
        let mut sockets_done = self.sockets_done;
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, sockets_done.recv()).await;
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, self.http).await;
    }
}

/// Starts the sandbox: loads the state directory, binds `options.addr`, and
/// serves until [`RunningSandbox::shutdown`]. Must run inside a tokio runtime.
///
/// Its own log lines (`SandboxOptions`'s log sink) carry no secret. Its
/// sockets are tungstenite's, which writes every frame, the `auth` frame's
/// api key and user token and `auth_ok`'s session id included, to the `log`
/// crate at trace level under the `tungstenite` target: a program that
/// embeds the sandbox and installs a logger must keep that target below
/// trace (with `env_logger`, `RUST_LOG=trace,tungstenite=debug`).
pub async fn start(options: SandboxOptions) -> Result<RunningSandbox, SandboxError> {
    let stores = if options.stores.is_empty() { vec![demo_store()] } else { options.stores.clone() };
    let identity = |store: &SandboxStore| options.identities.get(&store.store_id).cloned().unwrap_or_default();
    let engine_stores = stores.iter().map(|store| engine_store(store, identity(store))).collect();
    let mut config = ServerConfig { stores: engine_stores, ..options.engine.clone() };
    // The sandbox opens a socket in the engine only with its first frame,
    // and holds it to the handshake deadline until then.
    config.limits.auth_timeout_ms = options.connections.handshake_timeout_ms;
    if options.faults.ignore_pings {
        // A server whose heartbeat is dead pings nobody either, and announces
        // no interval: the client's own timers find it out.
        config.heartbeat_ms = None;
    }
    let mut engine = Engine::new(config, Box::new(DemoAssistant), Box::new(OsRandom));
    let state = options.state_dir.as_deref().map(StateDir::open).transpose()?;
    if let Some(state) = &state {
        if let Some(snapshot) = state.load()? {
            engine.restore(&snapshot).map_err(|source| SandboxError::Restore { path: state.file(), source })?;
        }
    }
    let (commands, inbox) = mpsc::channel(COMMAND_BACKLOG);
    let webhooks = stores.iter().filter_map(WebhookTarget::of_store).collect();
    let mut actor = Actor::new(engine, commands.clone(), webhooks, options.log.clone(), state);
    // Before listening: after a restart, every client comes back within seconds.
    actor.ready();
    let listener = listen(options.addr)?;
    let addr = listener.local_addr()?;
    let actor = tokio::spawn(actor.run(inbox));

    let (alive, sockets_done) = mpsc::channel(1);
    let catalogs = stores.into_iter().map(|s| s.catalog).collect();
    let max_message = options.engine.limits.max_inbound_bytes;
    let shared = http::Shared::new(
        commands.clone(),
        options.faults.clone(),
        catalogs,
        options.static_dir.clone(),
        alive,
        max_message,
    );
    let router = http::router(Arc::new(shared));
    let (stop_http, stopped) = oneshot::channel::<()>();
    let gate = Gate::new(options.connections.clone(), options.log.clone());
    let http = tokio::spawn(listen::serve(listener, router, gate, options.log.clone(), stopped));
    Ok(RunningSandbox { addr, commands, stop_http, http, actor, sockets_done })
}

/// A listener with a deep accept backlog: after a restart every client
/// comes back within seconds, and the usual 1,024 drops connects (each
/// drop costs the client a one-second SYN retry).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The demo store: id [`DEMO_STORE_ID`], key [`DEMO_API_KEY`], the embedded catalog.
pub fn demo_store() -> SandboxStore {
    SandboxStore {
        store_id: DEMO_STORE_ID.to_owned(),
        api_keys: vec![DEMO_API_KEY.to_owned()],
        allowed_origins: Vec::new(),
        catalog: demo_catalog(),
        webhook_url: None,
        webhook_secret: None,
    }
}

/// The engine's view of a sandbox store: webhooks are on when it names a backend.
fn engine_store(store: &SandboxStore, identity: StoreIdentity) -> StoreConfig {
    StoreConfig {
        allowed_origins: store.allowed_origins.clone(),
        webhook: store.webhook_url.is_some(),
        identity_secret: identity.identity_secret.map(Secret::new),
        require_identity: identity.require_identity,
        ..StoreConfig::new(store.store_id.clone(), store.api_keys.clone(), store.catalog.clone())
    }
}
