//! What a runtime does for the [`Driver`](super::Driver): its I/O and the
//! app's callbacks, nothing else.

use crate::{Event, SocketId};

/// The largest WebSocket message a host's socket library should accept.
/// A frame past the protocol's 1 MiB limit must still reach the driver,
/// which reports and drops it and keeps the connection (`docs/protocol.md`
/// §6); a library bounded at that limit itself (URLSession's default) would
/// end the socket instead. Past this bound, the library may end the socket.
pub const MAX_SOCKET_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// A runtime's side of the driver: sockets, one timer, the saved session
/// id, and the app's callbacks. Every method is called by the driver only,
/// never while it holds its lock, one call at a time and in the order the
/// protocol produced them, so an implementation may call back into the
/// driver (a callback sending a message, say).
pub trait Host {
    /// Open a WebSocket to `url` and report its events with `socket`
    /// (`Input::SocketOpened`, `Text`, `Binary`, `SocketEnded`).
    fn open_socket(&self, socket: SocketId, url: &str);

    /// Send a text frame on `socket`.
    fn send_text(&self, socket: SocketId, text: &str);

    /// Close `socket` with `code` (always 1000) and `reason` (at most 123
    /// bytes), or abandon it if it is still opening. Its later events are
    /// ignored, so the host need not report them.
    fn close_socket(&self, socket: SocketId, code: u16, reason: &str);

    /// Keep one timer: hand `Input::Timeout` to the driver at `deadline`
    /// (monotonic milliseconds, the clock of every `now`); `None` cancels
    /// it. Each call replaces the timer set before. The driver calls this
    /// when the deadline comes earlier than the armed one or goes away, and
    /// again after every timeout; a deadline that moved later is armed when
    /// the earlier timer fires (early fires change nothing).
    fn set_timer(&self, deadline: Option<u64>);

    /// The id that resumes this conversation after a restart changed: save
    /// it (`None`: forget it). Nothing else needs saving.
    fn save_session(&self, session_id: Option<&str>);

    /// Hand an event to the app's callbacks. `Err` means a callback failed
    /// (threw, panicked); its text is reported through
    /// [`Host::report_error`] and the driver carries on.
    fn deliver(&self, event: Event) -> Result<(), String>;

    /// As [`Host::deliver`], for an event whose data is a text frame's own
    /// (see [`Output::FrameEvent`](crate::Output::FrameEvent)): a host that
    /// keeps its own parse of the frame may use it. `frame` says which: the
    /// host's `frame`-th [`Input::Text`](crate::Input::Text), counted from 1
    /// (wrapping). It need not be the last one handed in: a host may hand
    /// in a frame from inside a call of the driver, as a transport's `send`
    /// can, before the events of the one before it are delivered.
    fn deliver_from_frame(&self, event: Event, frame: u32) -> Result<(), String> {
        let _ = frame;
        self.deliver(event)
    }

    /// A problem the driver recovered from (an app callback failed), as
    /// developer-facing English with every secret removed: write it to the
    /// runtime's log.
    fn report_error(&self, message: &str);

    /// Called once, after the last thing a released driver tells the host
    /// (`Input::Destroy` and everything it caused, also when the release was
    /// asked for from inside a callback): nothing is called after this, so
    /// the host may let go of what its callbacks hold.
    fn released(&self) {}
}
