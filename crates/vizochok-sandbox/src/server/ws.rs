//! One WebSocket: a reader that forwards frames to the engine task, and a
//! writer that sends the engine's frames, applying the configured faults.
//! A long frame goes out in WebSocket fragments: tungstenite keeps a
//! socket's write buffer at the largest size it ever held, and a resumed
//! conversation's `auth_ok` carries its whole history.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;
use vizochok_proto::frame::{self, ServerFrame};
use vizochok_server::ConnId;

use super::actor::{Command, Link};
use super::admission::{Ending, Pass};
use super::faults::{oversized_frame, MALFORMED_FRAME};
use super::outbound::{self, Frames, Outbound, Queue};
use super::Faults;

/// The largest WebSocket fragment sent, so the most a socket's write
/// buffer keeps.
const FRAGMENT: usize = 16 * 1024;
/// The socket, once upgraded.
pub(crate) type WebSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;
/// How long `reorder` holds a lone frame waiting for one to swap it with.
const REORDER_HOLD: Duration = Duration::from_millis(25);
/// How long a close frame may take to a socket the gate ends.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long one frame may wait for the peer to take it. A peer that takes
/// nothing for this long is gone or hostile (a live client gives up after
/// 10 s without an answer to its ping): its socket, and the kernel's
/// buffers full of frames for it, are let go.
const SEND_STALL: Duration = Duration::from_secs(30);

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
    /// Its place under the connection caps, and its handshake deadline.
    pub pass: Arc<Pass>,
}

/// The first frame of a socket, which the engine expects to be `auth`.
enum First {
    Text(String),
    Binary(usize),
}

impl Socket {
    pub async fn run(self, mut socket: WebSocket) {
        let Socket { conn, origin, refuse_auth, faults, commands, alive: _alive, pass } = self;
        // Until its first frame a socket costs the engine nothing: it is not
        // opened there, and it goes at its deadline.
        let Some(first) = first_frame(&mut socket, &pass).await else { return };
        pass.authenticated();
        let (frames, queue) = outbound::channel(outbound::BACKLOG_FRAMES, outbound::BACKLOG_BYTES);
        let refusal = refuse_auth.then(|| frames.clone());
        // Weak: the writer still ends when the engine lets the socket go.
        let closer = frames.downgrade();
        let (cut, cut_signal) = oneshot::channel();
        if commands.send(Command::Open { conn, origin, peer: pass.peer(), link: Link { frames, cut } }).await.is_err() {
            return;
        }
        let (sink, mut stream) = socket.split();
        let mut writer = tokio::spawn(write(sink, queue, faults, cut_signal));
        let first = match (first, refusal) {
            (First::Text(_), Some(refusal)) => {
                refuse(&refusal);
                None
            }
            (First::Text(text), None) => Some(Command::Text { conn, text }),
            (First::Binary(len), _) => Some(Command::Binary { conn, len }),
        };
        if let Some(command) = first {
            if commands.send(command).await.is_err() {
                writer.abort();
                return;
            }
        }
        let ended = pass.ended();
        let mut ended = std::pin::pin!(ended);
        loop {
            let message = tokio::select! {
                message = stream.next() => message,
                _ = &mut writer => break,
                ending = &mut ended => {
                    // Made room for another (the gate logged it): the close
                    // goes after the frames in hand, or the socket is cut.
                    let (code, reason) = closing(ending);
                    let close = closer.upgrade().map(|frames| frames.try_send(Outbound::Close(code, reason.into())));
                    if matches!(close, Some(Ok(()))) {
                        let _ = tokio::time::timeout(CLOSE_GRACE, &mut writer).await;
                    }
                    break;
                }
            };
            let command = match message {
                Some(Ok(Message::Text(text))) => Command::Text { conn, text: text.as_str().to_owned() },
                Some(Ok(Message::Binary(bytes))) => Command::Binary { conn, len: bytes.len() },
                // tungstenite answers pings itself, and never reads a raw frame.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
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

/// Waits for the socket's first data frame until the handshake deadline.
/// A socket that sends none in time is closed with 1000 (a slow network is
/// no reason to stop a client for good) and logged; `None` then, or when it
/// closed first.
async fn first_frame(socket: &mut WebSocket, pass: &Pass) -> Option<First> {
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            () = tokio::time::sleep_until(pass.deadline) => {
                let ms = pass.gate().limits().handshake_timeout_ms;
                pass.gate().refused(pass.peer(), &format!("no auth within {ms} ms of connecting"));
                return close(socket, 1000, "auth timeout").await;
            }
            ending = pass.ended() => {
                let (code, reason) = closing(ending);
                return close(socket, code, reason).await;
            }
        };
        match message {
            Some(Ok(Message::Text(text))) => return Some(First::Text(text.as_str().to_owned())),
            Some(Ok(Message::Binary(bytes))) => return Some(First::Binary(bytes.len())),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
        }
    }
}

/// The close frame for a socket the gate ends. The client reconnects after
/// each, on its normal backoff.
fn closing(ending: Ending) -> (u16, &'static str) {
    match ending {
        // §8 has no code for "busy".
        Ending::Crowded => (1000, "server busy"),
        Ending::Outnumbered => (1013, "server full"),
        Ending::Shutdown => (1012, "restarting"),
    }
}

/// Sends a close frame, giving a peer that does not read a moment only.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) -> Option<First> {
    let frame = CloseFrame { code: code.into(), reason: reason.into() };
    let _ = tokio::time::timeout(CLOSE_GRACE, socket.send(Message::Close(Some(frame)))).await;
    None
}

/// The `refuse_auth` fault: what the engine would send for a wrong key
/// (the socket's queue is still empty).
fn refuse(outbound: &Frames) {
    let error =
        ServerFrame::AuthError { code: "invalid_api_key".into(), message: Some("refused (fault injection)".into()) };
    let _ = outbound.try_send(Outbound::Text(frame::encode(&error)));
    let _ = outbound.try_send(Outbound::Close(4001, "auth failed".into()));
}

/// Sends the engine's frames until it closes or cuts the socket, applying
/// `faults`. Returning drops the sink: with the reader stopping too, the
/// TCP connection goes without a close frame (a cut, or `drop_after_frames`).
async fn write<S>(mut sink: S, queue: Queue, faults: Faults, cut: oneshot::Receiver<()>)
where
    S: Sink<Message> + Unpin,
{
    tokio::select! {
        () = send_all(&mut sink, queue, &faults) => {}
        // A socket closed normally drops the signal unfired.
        Ok(()) = cut => {}
    }
}

async fn send_all<S: Sink<Message> + Unpin>(sink: &mut S, mut queue: Queue, faults: &Faults) {
    let mut out = Faulty { sink, faults, sent: 0 };
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
                    let close = CloseFrame { code: code.into(), reason: reason.into() };
                    put(out.sink, Message::Close(Some(close))).await;
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

/// Sends one message; false when the socket failed or the peer took
/// nothing for [`SEND_STALL`].
async fn put<S: Sink<Message> + Unpin>(sink: &mut S, message: Message) -> bool {
    matches!(tokio::time::timeout(SEND_STALL, sink.send(message)).await, Ok(Ok(())))
}

/// Sends a text message, in fragments of at most [`FRAGMENT`] bytes (split
/// anywhere: a receiver checks the UTF-8 of the whole message).
async fn put_text<S: Sink<Message> + Unpin>(sink: &mut S, text: String) -> bool {
    if text.len() <= FRAGMENT {
        return put(sink, Message::Text(text.into())).await;
    }
    let text = Bytes::from(text);
    let mut at = 0;
    while at < text.len() {
        let end = (at + FRAGMENT).min(text.len());
        let opcode = if at == 0 { Data::Text } else { Data::Continue };
        let fragment = Frame::message(text.slice(at..end), OpCode::Data(opcode), end == text.len());
        if !put(sink, Message::Frame(fragment)).await {
            return false;
        }
        at = end;
    }
    true
}

/// The sink with the per-frame faults.
struct Faulty<'a, S> {
    sink: &'a mut S,
    faults: &'a Faults,
    sent: u32,
}

impl<S: Sink<Message> + Unpin> Faulty<'_, S> {
    async fn send_held(&mut self, held: &mut Option<String>) -> ControlFlow<()> {
        match held.take() {
            Some(text) => self.send(text).await,
            None => ControlFlow::Continue(()),
        }
    }

    /// Sends one frame (twice with `duplicate`, then a bad one every
    /// `malformed_every` and a long one every `oversized_every`); breaks
    /// when the socket failed or must be cut.
    async fn send(&mut self, text: String) -> ControlFlow<()> {
        let copies = if self.faults.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            if !put_text(self.sink, text.clone()).await {
                return ControlFlow::Break(());
            }
        }
        self.sent += 1;
        if self.faults.malformed_every.is_some_and(|n| n > 0 && self.sent % n == 0)
            && !put(self.sink, Message::Text(MALFORMED_FRAME.into())).await
        {
            return ControlFlow::Break(());
        }
        if self.faults.oversized_every.is_some_and(|n| n > 0 && self.sent % n == 0)
            && !put_text(self.sink, oversized_frame()).await
        {
            return ControlFlow::Break(());
        }
        if self.faults.drop_after_frames.is_some_and(|n| self.sent >= n) {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::time::Instant;

    use super::*;

    /// A peer that takes nothing: its window stays shut.
    struct Shut;

    impl Sink<Message> for Shut {
        type Error = ();
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Pending
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), ()> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Pending
        }
    }

    /// A peer that takes every frame at once.
    #[derive(Default)]
    struct Open(Vec<Message>);

    impl Sink<Message> for Open {
        type Error = ();
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), ()> {
            self.0.push(message);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// A queue holding `texts`, then the close frame if `close`, and the engine task's ends of it.
    fn queued(texts: &[&str], close: bool) -> (Frames, Queue) {
        let (frames, queue) = outbound::channel(outbound::BACKLOG_FRAMES, outbound::BACKLOG_BYTES);
        for text in texts {
            frames.try_send(Outbound::Text((*text).to_owned())).unwrap();
        }
        if close {
            frames.try_send(Outbound::Close(1000, "bye".into())).unwrap();
        }
        (frames, queue)
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_takes_no_frame_is_let_go_after_the_stall_bound() {
        let (_frames, queue) = queued(&["a"], false);
        let (_cut, signal) = oneshot::channel();
        let started = Instant::now();
        let ended = tokio::time::timeout(2 * SEND_STALL, write(Shut, queue, Faults::default(), signal)).await;
        assert!(ended.is_ok(), "the writer still waits for a peer that takes nothing");
        assert_eq!(started.elapsed(), SEND_STALL);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_socket_ends_at_once_without_its_backlog() {
        let (_frames, queue) = queued(&["a", "b", "c"], false);
        let (cut, signal) = oneshot::channel();
        cut.send(()).unwrap();
        let started = Instant::now();
        write(Shut, queue, Faults::default(), signal).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_socket_closed_normally_sends_its_backlog_and_the_close_frame() {
        let (frames, queue) = queued(&["a", "b"], true);
        drop(frames);
        // The engine task lets go of the link when it queues the close.
        let (cut, signal) = oneshot::channel();
        drop(cut);
        let mut peer = Open::default();
        write(&mut peer, queue, Faults::default(), signal).await;
        let close = Message::Close(Some(CloseFrame { code: 1000.into(), reason: "bye".into() }));
        assert_eq!(peer.0, vec![Message::Text("a".into()), Message::Text("b".into()), close]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_frame_goes_out_in_fragments_that_join_into_it() {
        // 32,769 bytes of UTF-8, the first split inside a character.
        let long = format!("x{}", "ї".repeat(FRAGMENT));
        let (frames, queue) = queued(&["short", &long], false);
        drop(frames);
        let (_cut, signal) = oneshot::channel();
        let mut peer = Open::default();
        write(&mut peer, queue, Faults::default(), signal).await;
        assert_eq!(peer.0[0], Message::Text("short".into()));
        let mut joined = Vec::new();
        let mut kinds = Vec::new();
        for message in &peer.0[1..] {
            let Message::Frame(fragment) = message else { panic!("{message:?}") };
            kinds.push((fragment.header().opcode, fragment.header().is_final, fragment.payload().len()));
            joined.extend_from_slice(fragment.payload());
        }
        let (text, more) = (OpCode::Data(Data::Text), OpCode::Data(Data::Continue));
        assert_eq!(kinds, [(text, false, FRAGMENT), (more, false, FRAGMENT), (more, true, 1)]);
        assert_eq!(joined, long.as_bytes());
    }
}
