//! The seam between the client and its runtime's I/O.

use std::sync::Weak;

use vizochok_core::{Input, SocketId};

use crate::Shared;

/// Sockets, a clock and one timer: what the client needs of a runtime.
/// [`TokioTransport`](crate::TokioTransport) is the real one; a test gives
/// a scripted one. Every method is called by the client's driver, one at a
/// time; report what happens through the [`Reports`] handed over.
pub trait Transport: Send + Sync + 'static {
    /// Monotonic milliseconds.
    fn now(&self) -> u64;
    /// Open a WebSocket to `url`; report its events for `socket`. Forget it
    /// once it has ended: the client closes only sockets it gives up itself.
    fn open(&self, socket: SocketId, url: &str, reports: Reports);
    /// Send a text frame.
    fn send(&self, socket: SocketId, text: &str);
    /// Close the socket (or abandon it while it opens); report nothing more
    /// for it. It must be gone soon even if a write is stuck (a server that
    /// stopped reading): [`TokioTransport`](crate::TokioTransport) gives its
    /// close frame 2 s.
    fn close(&self, socket: SocketId, code: u16, reason: &str);
    /// Call [`Reports::timer_fired`] at `deadline` (in [`Transport::now`]'s
    /// clock); `None` cancels. Replaces the timer set before.
    fn set_timer(&self, deadline: Option<u64>, reports: Reports);
}

/// How a transport tells the client what happened. Cheap to clone; once
/// the client is dropped, reports go nowhere.
#[derive(Clone)]
pub struct Reports {
    shared: Weak<Shared>,
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reports")
    }
}

impl Reports {
    pub(crate) fn new(shared: Weak<Shared>) -> Reports {
        Reports { shared }
    }

    fn input(&self, input: Input<'_>) {
        if let Some(shared) = self.shared.upgrade() {
            let now = shared.driver.host().now();
            shared.driver.handle(now, input);
        }
    }

    /// The socket opened.
    pub fn opened(&self, socket: SocketId) {
        self.input(Input::SocketOpened(socket));
    }

    /// A text frame arrived.
    pub fn text(&self, socket: SocketId, text: &str) {
        self.input(Input::Text(socket, text));
    }

    /// A binary frame of `len` bytes arrived.
    pub fn binary(&self, socket: SocketId, len: usize) {
        self.input(Input::Binary(socket, len));
    }

    /// The socket is gone: `code` as received (`None` without a close
    /// frame), `reason` the close reason or the error.
    pub fn ended(&self, socket: SocketId, code: Option<u16>, reason: &str) {
        self.input(Input::SocketEnded { socket, code, reason });
    }

    /// The timer fired.
    pub fn timer_fired(&self) {
        self.input(Input::Timeout);
    }
}
