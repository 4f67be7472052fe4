//! The real transport: WebSockets over tokio (fastwebsockets; `wss://`
//! through rustls with the webpki roots), tokio's clock and one timer task.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use fastwebsockets::{Frame, OpCode, Payload, WebSocket};
use http_body_util::Empty;
use hyper::header::{CONNECTION, HOST, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use vizochok_core::{SocketId, MAX_SOCKET_MESSAGE_BYTES};

use crate::{Reports, Transport};

/// How long a socket the client closed waits for the server's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// WebSockets and a timer on the current tokio runtime.
pub struct TokioTransport {
    start: Instant,
    /// The runtime its tasks run on, so that the client may be called from
    /// any thread (`None`: made outside one; no socket opens).
    runtime: Option<Handle>,
    /// The sockets not yet ended, closed or abandoned.
    sockets: Arc<Mutex<HashMap<SocketId, Socket>>>,
    timer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for TokioTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioTransport").finish_non_exhaustive()
    }
}

/// The way to one socket's task.
struct Socket {
    outbound: mpsc::UnboundedSender<Outbound>,
    /// Dropped when the client gives the socket up (or drops the
    /// transport): the socket's task then ends, whatever its writer is doing.
    _held: oneshot::Sender<()>,
}

enum Outbound {
    Text(String),
    Close(u16, String),
}

impl TokioTransport {
    /// A transport whose clock starts now, on the current tokio runtime.
    pub fn new() -> TokioTransport {
        TokioTransport::on(Handle::try_current().ok())
    }

    /// As [`TokioTransport::new`], on `runtime` (for a client made outside one).
    pub fn on(runtime: Option<Handle>) -> TokioTransport {
        TokioTransport { start: Instant::now(), runtime, sockets: Arc::default(), timer: Mutex::default() }
    }
}

impl Default for TokioTransport {
    fn default() -> Self {
        TokioTransport::new()
    }
}

/// Why no socket opens on a transport made outside a tokio runtime.
const NO_RUNTIME: &str = "no tokio runtime: create the client on one, or give TokioTransport::on a handle";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Transport for TokioTransport {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn open(&self, socket: SocketId, url: &str, reports: Reports) {
        let Some(runtime) = &self.runtime else {
            return reports.ended(socket, None, NO_RUNTIME);
        };
        let (outbound, queue) = mpsc::unbounded_channel();
        let (held, given_up) = oneshot::channel();
        // In the map before its task runs, so an attempt that fails at once is taken out too.
        lock(&self.sockets).insert(socket, Socket { outbound, _held: held });
        let (sockets, url) = (Arc::clone(&self.sockets), url.to_owned());
        runtime.spawn(async move {
            let end = run(socket, &url, &reports, queue, given_up).await;
            // Out of the map before the client hears of the end, so a
            // socket that ends by itself leaves nothing behind either.
            lock(&sockets).remove(&socket);
            if let Some((code, reason)) = end {
                reports.ended(socket, code, &reason);
            }
        });
    }

    fn send(&self, socket: SocketId, text: &str) {
        if let Some(s) = lock(&self.sockets).get(&socket) {
            let _ = s.outbound.send(Outbound::Text(text.to_owned()));
        }
    }

    fn close(&self, socket: SocketId, code: u16, reason: &str) {
        // An open socket says goodbye, then ends; one still connecting is
        // abandoned at once, so a stuck attempt never holds a connection.
        if let Some(s) = lock(&self.sockets).remove(&socket) {
            let _ = s.outbound.send(Outbound::Close(code, reason.to_owned()));
        }
    }

    fn set_timer(&self, deadline: Option<u64>, reports: Reports) {
        let mut timer = lock(&self.timer);
        if let Some(old) = timer.take() {
            old.abort();
        }
        if let (Some(deadline), Some(runtime)) = (deadline, &self.runtime) {
            let at = self.start + Duration::from_millis(deadline);
            *timer = Some(runtime.spawn(async move {
                tokio::time::sleep_until(at).await;
                reports.timer_fired();
            }));
        }
    }
}

/// How a socket ended: its close code (`None` without a close frame) and
/// the reason or error; `None` if the client closed it first.
type End = Option<(Option<u16>, String)>;

/// One socket: connect, report, then read frames and write what the
/// client sends until either side ends.
async fn run(
    socket: SocketId,
    url: &str,
    reports: &Reports,
    mut outbound: mpsc::UnboundedReceiver<Outbound>,
    mut given_up: oneshot::Receiver<()>,
) -> End {
    let ws = tokio::select! {
        ws = connect(url) => ws,
        // The client gave up on this socket while it connected.
        _ = &mut given_up => return None,
    };
    let mut ws = match ws {
        Ok(ws) => ws,
        Err(error) => return Some((None, error)),
    };
    ws.set_max_message_size(MAX_SOCKET_MESSAGE_BYTES);
    reports.opened(socket);
    let (mut read, mut write) = ws.split(tokio::io::split);
    let (obligated, mut replies) = mpsc::unbounded_channel::<Frame<'static>>();
    let writer = tokio::spawn(async move {
        loop {
            let frame = tokio::select! {
                Some(reply) = replies.recv() => reply,
                message = outbound.recv() => match message {
                    Some(Outbound::Text(text)) => Frame::text(Payload::Owned(text.into_bytes())),
                    Some(Outbound::Close(code, reason)) => {
                        let _ = write.write_frame(Frame::close(code, reason.as_bytes())).await;
                        return;
                    }
                    None => return,
                },
            };
            if write.write_frame(frame).await.is_err() {
                return;
            }
        }
    });
    let report = |opcode: OpCode, payload: &[u8]| match (opcode, std::str::from_utf8(payload)) {
        (OpCode::Text, Ok(text)) => reports.text(socket, text),
        _ => reports.binary(socket, payload.len()),
    };
    let reader = async {
        // A message sent in fragments, as far as it came.
        let mut pieces: Option<(OpCode, Vec<u8>)> = None;
        loop {
            let mut send = |frame: Frame<'_>| {
                let reply = Frame::new(true, frame.opcode, None, Payload::Owned(frame.payload.to_vec()));
                let sent = obligated.send(reply).map_err(|_| "the socket's writer has ended");
                std::future::ready(sent)
            };
            let frame = match read.read_frame(&mut send).await {
                Ok(frame) => frame,
                Err(error) => break Some((None, error.to_string())),
            };
            let whole = match (frame.opcode, pieces.take()) {
                (OpCode::Close, _) => break Some(close_frame(&frame.payload)),
                (OpCode::Text | OpCode::Binary, None) if frame.fin => {
                    report(frame.opcode, &frame.payload);
                    continue;
                }
                (OpCode::Text | OpCode::Binary, None) => (frame.opcode, frame.payload.to_vec()),
                (OpCode::Continuation, Some((opcode, mut bytes))) => {
                    bytes.extend_from_slice(&frame.payload);
                    (opcode, bytes)
                }
                (OpCode::Ping | OpCode::Pong, pending) => {
                    pieces = pending;
                    continue;
                }
                _ => break Some((None, "a WebSocket message's fragments out of order".into())),
            };
            // The library bounds each frame; the whole message is bounded here.
            if whole.1.len() > MAX_SOCKET_MESSAGE_BYTES {
                break Some((None, "a WebSocket message over the socket's bound".into()));
            }
            if frame.fin {
                report(whole.0, &whole.1);
            } else {
                pieces = Some(whole);
            }
        }
    };
    let end = tokio::select! {
        end = reader => end,
        // The client gave the socket up: its close frame and the server's
        // answer have a moment, then the socket goes, even behind a write
        // that a server which stopped reading keeps stuck.
        _ = async { let _ = given_up.await; tokio::time::sleep(CLOSE_GRACE).await } => None,
    };
    writer.abort();
    end
}

/// The code and reason of a close frame's payload.
fn close_frame(payload: &[u8]) -> (Option<u16>, String) {
    match payload {
        [hi, lo, reason @ ..] => (Some(u16::from_be_bytes([*hi, *lo])), String::from_utf8_lossy(reason).into_owned()),
        _ => (None, String::new()),
    }
}

/// Connects and performs the WebSocket handshake (`wss://` over TLS).
async fn connect(url: &str) -> Result<WebSocket<TokioIo<Upgraded>>, String> {
    let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let secure = uri.scheme_str() == Some("wss");
    let host = uri.host().ok_or("the URL has no host")?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
    let authority = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_else(|| host.clone());
    let request = Request::builder()
        .method("GET")
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(HOST, authority)
        .header(UPGRADE, "websocket")
        .header(CONNECTION, "upgrade")
        .header("Sec-WebSocket-Key", fastwebsockets::handshake::generate_key())
        .header("Sec-WebSocket-Version", "13")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let handshake = if secure {
        let name = ServerName::try_from(host).map_err(|e| e.to_string())?;
        let tls = tls_connector()?.connect(name, tcp).await.map_err(|e| e.to_string())?;
        fastwebsockets::handshake::client(&SpawnExecutor, request, tls).await
    } else {
        fastwebsockets::handshake::client(&SpawnExecutor, request, tcp).await
    };
    handshake.map(|(ws, _)| ws).map_err(|e| e.to_string())
}

/// rustls with ring and the webpki roots, whatever provider the app installed.
fn tls_connector() -> Result<TlsConnector, String> {
    let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Runs hyper's connection tasks on tokio.
struct SpawnExecutor;

impl<F> hyper::rt::Executor<F> for SpawnExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        tokio::spawn(future);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::{Client, NoCallbacks};
    use vizochok_core::{Event, State};

    /// The transport, still readable by the test once the client owns it,
    /// and the sockets the client opened.
    #[derive(Clone, Default)]
    struct Seen(Arc<TokioTransport>, Arc<Mutex<Vec<SocketId>>>);

    impl Transport for Seen {
        fn now(&self) -> u64 {
            self.0.now()
        }
        fn open(&self, socket: SocketId, url: &str, reports: Reports) {
            lock(&self.1).push(socket);
            self.0.open(socket, url, reports);
        }
        fn send(&self, socket: SocketId, text: &str) {
            self.0.send(socket, text);
        }
        fn close(&self, socket: SocketId, code: u16, reason: &str) {
            self.0.close(socket, code, reason);
        }
        fn set_timer(&self, deadline: Option<u64>, reports: Reports) {
            self.0.set_timer(deadline, reports);
        }
    }

    #[tokio::test]
    async fn sockets_that_end_by_themselves_leave_nothing_behind() {
        // A server that takes each connection and drops it before the handshake.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/v1/ws", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                drop(tcp);
            }
        });
        let mut config = crate::config("pk_demo", "demo-store", &url);
        config.timers.backoff_base_ms = 1;
        config.timers.backoff_max_ms = 5;
        let seen = Seen::default();
        let client = Client::with_transport(config, NoCallbacks, None, seen.clone()).unwrap();
        let mut events = client.events();
        client.connect();
        let wait = async { while events.recv().await.unwrap() != Event::StateChanged(State::Stopped) {} };
        tokio::time::timeout(Duration::from_secs(15), wait).await.expect("the client gives up");
        // Eleven attempts, each ended by the server: none is still held.
        assert_eq!(lock(&seen.0.sockets).len(), 0);
    }

    /// Waits for the client's next `event`.
    async fn until(events: &mut tokio::sync::broadcast::Receiver<Event>, event: Event) {
        let wait = async { while events.recv().await.unwrap() != event {} };
        tokio::time::timeout(Duration::from_secs(15), wait).await.expect("the event comes");
    }

    /// A server that finishes the upgrade of the client's first socket.
    async fn upgraded(listener: &TcpListener) -> TcpStream {
        let (mut server, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(server.read_u8().await.unwrap());
        }
        let upgrade = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
        server.write_all(upgrade).await.unwrap();
        server
    }

    #[tokio::test]
    async fn a_message_in_fragments_past_the_sockets_bound_ends_the_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/v1/ws", listener.local_addr().unwrap());
        let client = Client::with_transport(crate::config("pk_demo", "demo", &url), NoCallbacks, None, Seen::default());
        let client = client.unwrap();
        let mut events = client.events();
        client.connect();
        let mut server = upgraded(&listener).await;
        until(&mut events, Event::StateChanged(State::Authenticating)).await;
        // A text message that never ends: 1 MiB pieces, none the last.
        let piece = vec![b'x'; 1 << 20];
        let mut sent = 0;
        // The first frame's opcode is text, the others' continuation; FIN unset.
        for opcode in std::iter::once(0x01).chain(std::iter::repeat(0x00)) {
            let mut frame = vec![opcode, 127];
            frame.extend_from_slice(&(piece.len() as u64).to_be_bytes());
            frame.extend_from_slice(&piece);
            if server.write_all(&frame).await.is_err() || sent > 4 * MAX_SOCKET_MESSAGE_BYTES {
                break;
            }
            sent += piece.len();
        }
        assert!(sent <= 2 * MAX_SOCKET_MESSAGE_BYTES, "{sent} bytes of one message taken");
        until(&mut events, Event::StateChanged(State::Reconnecting)).await;
    }

    #[tokio::test]
    async fn a_socket_given_up_behind_a_stuck_write_still_goes() {
        // A server that finishes the upgrade, then never reads again.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/v1/ws", listener.local_addr().unwrap());
        let seen = Seen::default();
        let client = Client::with_transport(crate::config("pk_demo", "demo", &url), NoCallbacks, None, seen.clone());
        let client = client.unwrap();
        let mut events = client.events();
        client.connect();
        let mut server = upgraded(&listener).await;
        until(&mut events, Event::StateChanged(State::Authenticating)).await;
        // More than the kernel's buffers hold: the socket's writer gets stuck.
        let socket = lock(&seen.1)[0];
        let text = "x".repeat(1 << 20);
        for _ in 0..16 {
            seen.0.send(socket, &text);
        }
        client.disconnect();
        // While the client still reads the socket, the server's frames go
        // through; once it has let the socket go, they fail.
        let frame = [0x81, 0x01, b'x'];
        let gone = async {
            while server.write_all(&frame).await.is_ok() {
                tokio::task::yield_now().await;
            }
        };
        tokio::time::timeout(5 * CLOSE_GRACE, gone).await.expect("the client let the socket go");
    }
}
