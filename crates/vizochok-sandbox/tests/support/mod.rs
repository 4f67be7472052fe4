//! A raw WebSocket client for the sandbox (it can send what the client core
//! never would), and a sandbox on a free loopback port with its log kept.
#![allow(dead_code)] // each test binary uses its own part

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use vizochok_sandbox::{LogSink, RunningSandbox, SandboxOptions};

/// Longest wait for any one frame: a hung server fails the test, never hangs it.
pub const WAIT: Duration = Duration::from_secs(10);

/// Every line the sandbox logged.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<String>>>);

impl Logs {
    pub fn sink(&self) -> LogSink {
        let lines = self.0.clone();
        LogSink::new(move |line| lines.lock().unwrap().push(line.to_owned()))
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Options for a sandbox on a free loopback port, logging into `logs`.
pub fn options(logs: &Logs) -> SandboxOptions {
    let mut options =
        SandboxOptions { addr: SocketAddr::from(([127, 0, 0, 1], 0)), log: logs.sink(), ..SandboxOptions::default() };
    options.engine.delta_interval_ms = 5;
    options
}

pub struct Raw(WebSocketStream<MaybeTlsStream<TcpStream>>);

/// An `auth` for the demo store, with `extra` fields merged in.
pub fn auth(extra: Value) -> Value {
    let mut auth = json!({"type": "auth", "v": 1, "api_key": "pk_demo", "store_id": "demo-store",
        "language": "uk", "sdk": {"name": "raw-test", "version": "1"}});
    auth.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    auth
}

impl Raw {
    pub async fn open(sandbox: &RunningSandbox) -> Raw {
        let (ws, _) = tokio_tungstenite::connect_async(sandbox.ws_url()).await.unwrap();
        Raw(ws)
    }

    /// Opens a socket over `stream` (a connection from another address, say).
    pub async fn open_over(sandbox: &RunningSandbox, stream: TcpStream) -> Raw {
        let (ws, _) = tokio_tungstenite::client_async(sandbox.ws_url(), MaybeTlsStream::Plain(stream)).await.unwrap();
        Raw(ws)
    }

    /// Opens a socket, sends `auth(extra)`, and returns it with the answer.
    pub async fn connect(sandbox: &RunningSandbox, extra: Value) -> (Raw, Value) {
        let mut raw = Raw::open(sandbox).await;
        raw.send(auth(extra)).await;
        let answer = raw.next().await;
        (raw, answer)
    }

    /// Opens a socket and authenticates (it must succeed); returns the session id.
    pub async fn session(sandbox: &RunningSandbox, extra: Value) -> (Raw, String) {
        let (raw, ok) = Raw::connect(sandbox, extra).await;
        assert_eq!(ok["type"], "auth_ok", "{ok}");
        (raw, ok["session_id"].as_str().unwrap().to_owned())
    }

    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.0.send(Message::Text(text.into())).await.unwrap();
    }

    pub async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.0.next()).await.expect("a frame in time");
            match message.expect("socket open").unwrap() {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame of `type_` (answering to `reply_to` when given).
    pub async fn until(&mut self, type_: &str, reply_to: Option<&str>) -> Value {
        self.until_collecting(type_, reply_to).await.pop().unwrap()
    }

    /// Every frame up to and including the next of `type_` (for `reply_to`).
    pub async fn until_collecting(&mut self, type_: &str, reply_to: Option<&str>) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let frame = self.next().await;
            let done = frame["type"] == type_ && reply_to.is_none_or(|id| frame["reply_to"] == id);
            seen.push(frame);
            if done {
                return seen;
            }
        }
    }

    /// Sends a message and waits for its response.
    pub async fn chat(&mut self, id: &str, text: &str) -> Value {
        self.send(json!({"type": "message", "id": id, "text": text})).await;
        self.until("response", Some(id)).await
    }

    /// The code of the next error frame answering `reply_to`.
    pub async fn error(&mut self, reply_to: Option<&str>) -> String {
        let frame = self.until("error", reply_to).await;
        frame["code"].as_str().unwrap().to_owned()
    }

    /// Waits for the server to close the socket; its close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let message = tokio::time::timeout(WAIT, self.0.next()).await.expect("a close in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                Some(Ok(Message::Close(None))) | None => return (u16::from(CloseCode::Status), String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error: {e}"),
            }
        }
    }

    /// Whether the server ends the socket, with a close frame or without,
    /// before it sends anything more.
    pub async fn ended(&mut self) -> bool {
        loop {
            match tokio::time::timeout(WAIT, self.0.next()).await.expect("an end in time") {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return true,
                Some(Ok(Message::Text(_))) => return false,
                Some(Ok(_)) => continue,
            }
        }
    }

    /// A ping answered by a pong: the connection is alive.
    pub async fn alive(&mut self) -> bool {
        self.send(json!({"type": "ping", "ts": 7})).await;
        self.until("pong", None).await["ts"].as_f64() == Some(7.0)
    }
}
