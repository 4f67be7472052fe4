//! Scripted raw clients the sandbox's tests and benchmarks share (this
//! crate's `tests/hostile.rs` and `benches/memory.rs`, and the CLI's
//! `benches/sandbox.rs`, which includes this file by path): a connection
//! from another loopback address, the three ways a handshake stalls, and a
//! brief shopper. Loopback only.
// Each includer uses a part of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A TCP connection from `127.0.0.<host>` (another address of the loopback
/// network, so per-address caps can be reached from one machine).
pub async fn tcp_from(host: u8, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::new(127, 0, 0, host), 0)))?;
    socket.connect(to).await
}

/// A socket stalled in its handshake, and when it was opened.
pub enum Stalled {
    Tcp(TcpStream, Instant),
    Ws(Box<WebSocketStream<TcpStream>>, Instant),
}

impl Stalled {
    /// Stalls the `kind % 3`-th way: a silent socket, a request head that
    /// never ends, a WebSocket that never sends `auth`.
    pub async fn open(kind: usize, host: u8, addr: SocketAddr) -> Stalled {
        let mut stream = tcp_from(host, addr).await.unwrap();
        let opened = Instant::now();
        match kind % 3 {
            0 => Stalled::Tcp(stream, opened),
            1 => {
                stream.write_all(b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
                Stalled::Tcp(stream, opened)
            }
            _ => {
                let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/v1/ws"), stream).await.unwrap();
                Stalled::Ws(Box::new(ws), opened)
            }
        }
    }

    /// How long after it opened the server closed it (or `limit` passed).
    pub async fn closed_after(self, limit: Duration) -> Duration {
        match self {
            Stalled::Tcp(mut stream, opened) => {
                let mut sink = Vec::new();
                let _ = timeout(limit, stream.read_to_end(&mut sink)).await;
                opened.elapsed()
            }
            Stalled::Ws(mut ws, opened) => {
                while let Ok(Some(Ok(_))) = timeout(limit, ws.next()).await {}
                opened.elapsed()
            }
        }
    }
}

/// One short session over `ws`: `auth`, a cart action, a message, each
/// answered, then a close (its reply streams on with nobody connected).
pub async fn brief_session<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>) -> Result<(), String> {
    let auth = json!({"type": "auth", "v": 1, "api_key": "pk_demo", "store_id": "demo-store",
        "language": "uk", "sdk": {"name": "bench", "version": "1"}});
    let frames = [
        auth,
        json!({"type": "select_item", "id": "a1", "sku": "DAI-001", "quantity": 1}),
        json!({"type": "message", "id": "m1", "text": "молоко"}),
    ];
    for (frame, answer) in frames.iter().zip([r#"{"type":"auth_ok""#, r#"{"type":"ack""#, r#"{"type":"ack""#]) {
        ws.send(Message::Text(frame.to_string().into())).await.map_err(|e| format!("send: {e}"))?;
        loop {
            match timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(Message::Text(text)))) if text.as_str().starts_with(answer) => break,
                Ok(Some(Ok(_))) => continue,
                other => return Err(format!("waiting for {answer}: {other:?}")),
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}
