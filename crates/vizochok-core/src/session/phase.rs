//! The connection phase: one enum that carries the data of its phase, so
//! that no impossible combination (connected without a socket, say) can be
//! represented. The public [`State`] is derived from it.

use vizochok_proto::Secret;

use crate::{SocketId, State};

/// Why the session stopped, which decides what may restart it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// `auth_error` or a 40xx close: only the app's `Connect`.
    Final,
    /// `max_reconnect`: `Connect` or `NetworkOnline`.
    GaveUp,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phase {
    Idle,
    Connecting(SocketId),
    Authenticating {
        socket: SocketId,
        /// The session id this attempt's `auth` asked to resume.
        asked: Option<Secret>,
    },
    Connected(SocketId),
    Reconnecting,
    Stopped(StopReason),
    Destroyed,
}

impl Phase {
    pub fn state(&self) -> State {
        match self {
            Phase::Idle => State::Idle,
            Phase::Connecting(_) => State::Connecting,
            Phase::Authenticating { .. } => State::Authenticating,
            Phase::Connected(_) => State::Connected,
            Phase::Reconnecting => State::Reconnecting,
            Phase::Stopped(_) => State::Stopped,
            Phase::Destroyed => State::Destroyed,
        }
    }

    /// The socket of this phase, if it has one.
    pub fn socket(&self) -> Option<SocketId> {
        match self {
            Phase::Connecting(socket) | Phase::Authenticating { socket, .. } | Phase::Connected(socket) => {
                Some(*socket)
            }
            _ => None,
        }
    }

    /// A socket that is open (frames may arrive and be sent on it).
    pub fn open_socket(&self) -> Option<SocketId> {
        match self {
            Phase::Authenticating { socket, .. } | Phase::Connected(socket) => Some(*socket),
            _ => None,
        }
    }
}
