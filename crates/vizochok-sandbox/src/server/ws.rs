//! One WebSocket: a reader that forwards frames to the engine task, and a
//! writer that sends the engine's frames, applying the configured faults.

use std::ops::ControlFlow;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use vizochok_proto::frame::{self, ServerFrame};
use vizochok_server::ConnId;

use super::actor::{Command, Outbound};
use super::faults::MALFORMED_FRAME;
use super::Faults;

/// Frames waiting for one socket before it counts as too slow and is cut.
const OUTBOUND_BACKLOG: usize = 1_024;
/// How long `reorder` holds a lone frame waiting for one to swap it with.
const REORDER_HOLD: Duration = Duration::from_millis(25);

/// An accepted socket, before it runs.
pub(crate) struct Socket {
    pub conn: ConnId,
    pub origin: Option<String>,
    /// Answer this socket's `auth` with `auth_error` (fault injection).
    pub refuse_auth: bool,
    pub faults: Faults,
    pub commands: mpsc::Sender<Command>,
    /// Held while the socket runs.
    pub alive: mpsc::Sender<()>,
}

impl Socket {
    pub async fn run(self, socket: WebSocket) {
        let Socket { conn, origin, refuse_auth, faults, commands, alive: _alive } = self;
        let (outbound, queue) = mpsc::channel(OUTBOUND_BACKLOG);
        let mut refusal = refuse_auth.then(|| outbound.clone());
        if commands.send(Command::Open { conn, origin, outbound }).await.is_err() {
            return;
        }
        let (sink, mut stream) = socket.split();
        let mut writer = tokio::spawn(write(sink, queue, faults));
        loop {
            let message = tokio::select! {
                message = stream.next() => message,
                _ = &mut writer => break,
            };
            let command = match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(refusal) = refusal.take() {
                        refuse(&refusal).await;
                        continue;
                    }
                    Command::Text { conn, text: text.as_str().to_owned() }
                }
                Some(Ok(Message::Binary(bytes))) => Command::Binary { conn, len: bytes.len() },
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            };
            if commands.send(command).await.is_err() {
                break;
            }
        }
        writer.abort();
        let _ = commands.send(Command::Closed { conn }).await;
    }
}

/// The `refuse_auth` fault: what the engine would send for a wrong key.
async fn refuse(outbound: &mpsc::Sender<Outbound>) {
    let error =
        ServerFrame::AuthError { code: "invalid_api_key".into(), message: Some("refused (fault injection)".into()) };
    let _ = outbound.send(Outbound::Text(frame::encode(&error))).await;
    let _ = outbound.send(Outbound::Close(4001, "auth failed".into())).await;
}

/// Sends the engine's frames until it closes the socket, applying `faults`.
/// Returning drops the sink: with the reader stopping too, the TCP
/// connection goes without a close frame (the `drop_after_frames` cut).
async fn write(mut sink: SplitSink<WebSocket, Message>, mut queue: mpsc::Receiver<Outbound>, faults: Faults) {
    let mut out = Faulty { sink: &mut sink, faults: &faults, sent: 0 };
    let mut held: Option<String> = None;
    loop {
        let next = match &held {
            Some(_) => tokio::time::timeout(REORDER_HOLD, queue.recv()).await.ok(),
            None => Some(queue.recv().await),
        };
        let step = match next {
            // The hold ran out: the lone frame goes alone.
            None => out.send_held(&mut held).await,
            Some(None) => ControlFlow::Break(()),
            Some(Some(Outbound::Close(code, reason))) => {
                if out.send_held(&mut held).await.is_continue() {
                    let close = CloseFrame { code, reason: reason.into() };
                    let _ = out.sink.send(Message::Close(Some(close))).await;
                }
                ControlFlow::Break(())
            }
            Some(Some(Outbound::Text(text))) => {
                if faults.ignore_pings && text.starts_with(r#"{"type":"pong""#) {
                    continue;
                }
                if faults.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
                }
                match held.take() {
                    Some(first) => match out.send(text).await {
                        ControlFlow::Continue(()) => out.send(first).await,
                        stop => stop,
                    },
                    None if faults.reorder => {
                        held = Some(text);
                        ControlFlow::Continue(())
                    }
                    None => out.send(text).await,
                }
            }
        };
        if step.is_break() {
            return;
        }
    }
}

/// The sink with the per-frame faults.
struct Faulty<'a> {
    sink: &'a mut SplitSink<WebSocket, Message>,
    faults: &'a Faults,
    sent: u32,
}

impl Faulty<'_> {
    async fn send_held(&mut self, held: &mut Option<String>) -> ControlFlow<()> {
        match held.take() {
            Some(text) => self.send(text).await,
            None => ControlFlow::Continue(()),
        }
    }

    /// Sends one frame (twice with `duplicate`, then a bad one every
    /// `malformed_every`); breaks when the socket failed or must be cut.
    async fn send(&mut self, text: String) -> ControlFlow<()> {
        let copies = if self.faults.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if self.sink.send(Message::Text(text.clone().into())).await.is_err() {
                return ControlFlow::Break(());
            }
        }
        self.sent += 1;
        if self.faults.malformed_every.is_some_and(|n| n > 0 && self.sent % n == 0)
            && self.sink.send(Message::Text(MALFORMED_FRAME.into())).await.is_err()
        {
            return ControlFlow::Break(());
        }
        if self.faults.drop_after_frames.is_some_and(|n| self.sent >= n) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}
