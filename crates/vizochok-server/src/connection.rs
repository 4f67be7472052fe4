//! Connections: accepting sockets, routing their frames, heartbeat and the
//! auth deadline.

use std::num::NonZeroU64;

use vizochok_proto::frame::{self, ServerFrame};
use vizochok_proto::{ClientFrame, ErrorCode};

use crate::address_budget::Peer;
use crate::{ConnId, Engine, LogKind};

/// Close code for a client that breaks the protocol (final for the client).
pub(crate) const POLICY_VIOLATION: u16 = 4008;
/// Close code for a connection that sent too many frames to refuse (not
/// final: a client may come back).
const TOO_MANY_REFUSED: u16 = 1008;
/// The reason of a close for a client's silence (code 1000: it may come back).
pub const HEARTBEAT_TIMEOUT: &str = "heartbeat timeout";

/// One accepted socket.
#[derive(Debug)]
pub(crate) struct Conn {
    pub opened_at: u64,
    pub origin: Option<String>,
    /// Where it comes from, if the host said.
    pub peer: Option<Peer>,
    /// Set once `auth` succeeded.
    pub session: Option<String>,
    pub last_inbound: u64,
    /// Whether a heartbeat `ping` is unanswered.
    pub pinged: bool,
    /// Whether this connection resumed its session as `restored` (no replay).
    pub restored: bool,
    /// The `seq` after which its session's frames reach this connection:
    /// the `last_seq` it was replayed from, else the session's `seq` when it
    /// joined. A message outcome at or before it reaches the client only if
    /// sent again (`answer_again`): the client skipped it with a `restored`
    /// resume, on this connection or an earlier one.
    pub resumed_after: u64,
    /// Its key in the engine's connection deadlines.
    pub due_key: Option<u64>,
    /// Frames refused since `refusals_since`.
    pub refused: u32,
    /// Of those, the ones answered with `invalid_json`.
    pub invalid: u32,
    /// Start of the window `refused` and `invalid` count in.
    pub refusals_since: u64,
}

/// The longest `Origin` header kept.
const MAX_ORIGIN_BYTES: usize = 512;

impl Engine {
    pub(crate) fn on_open(&mut self, now: u64, conn: ConnId, origin: Option<&str>, peer: Option<Peer>) {
        let detail = format!("socket accepted from origin {:?}", origin.map(|o| self.shown(o)));
        // No browser sends a longer one (a host has at most 253 bytes); kept
        // whole it would cost every connection its size. An origin no
        // list can allow stands in for it.
        let origin = origin.map(|o| if o.len() > MAX_ORIGIN_BYTES { String::new() } else { o.to_owned() });
        self.conns.insert(
            conn,
            Conn {
                opened_at: now,
                origin,
                peer,
                session: None,
                last_inbound: now,
                pinged: false,
                restored: false,
                resumed_after: 0,
                due_key: None,
                refused: 0,
                invalid: 0,
                refusals_since: now,
            },
        );
        self.log(now, LogKind::Opened, Some(conn), None, None, detail);
    }

    pub(crate) fn on_closed(&mut self, now: u64, conn: ConnId) {
        // A socket we closed ourselves was already forgotten.
        if self.conns.contains_key(&conn) {
            let session_id = self.forget_conn(now, conn);
            self.log(now, LogKind::Disconnected, Some(conn), session_id, None, "socket closed by the peer".into());
        }
    }

    pub(crate) fn on_text(&mut self, now: u64, conn: ConnId, text: &str) {
        let Some(session_id) = self.inbound(now, conn) else { return };
        let parsed = frame::parse::<ClientFrame>(text, self.config.limits.max_inbound_bytes);
        let Some(session_id) = session_id else {
            return match parsed {
                Ok(ClientFrame::Auth(auth)) => self.authenticate(now, conn, auth),
                Ok(_) => self.violation(now, conn, "the first frame must be auth"),
                Err(e) => self.violation(now, conn, &format!("the first frame must be auth: {e}")),
            };
        };
        match parsed {
            Err(e) => self.bad_frame(now, conn, &session_id, e.to_string()),
            Ok(ClientFrame::Ping { ts }) => self.send(conn, &ServerFrame::Pong { ts }),
            // Answers to our pings only refresh `last_inbound`; unknown types
            // are ignored for forward compatibility; a second auth changes nothing.
            Ok(ClientFrame::Pong { .. } | ClientFrame::Unknown | ClientFrame::Auth(_)) => {}
            Ok(action) => self.receive_action(now, conn, &session_id, action),
        }
    }

    pub(crate) fn on_binary(&mut self, now: u64, conn: ConnId, len: usize) {
        let Some(session_id) = self.inbound(now, conn) else { return };
        let error = frame::FrameError::Binary { len }.to_string();
        match session_id {
            Some(session_id) => self.bad_frame(now, conn, &session_id, error),
            None => self.violation(now, conn, &format!("the first frame must be auth: {error}")),
        }
    }

    /// Any frame from a connection answers the heartbeat and is a use of
    /// its session; `None` for an unknown connection, else its session if
    /// it has authenticated.
    fn inbound(&mut self, now: u64, conn: ConnId) -> Option<Option<String>> {
        let state = self.conns.get_mut(&conn)?;
        state.last_inbound = now;
        state.pinged = false;
        let session_id = state.session.clone();
        if let Some(session) = session_id.as_ref().and_then(|id| self.sessions.get_mut(id)) {
            session.data.used_at = now;
        }
        Some(session_id)
    }

    /// A frame we cannot use: `invalid_json` to the connection that sent it
    /// (the other tabs have nothing to do with it), and the connection stays
    /// unless it sent too many ([`Engine::too_many_refused`]).
    fn bad_frame(&mut self, now: u64, conn: ConnId, session_id: &str, detail: String) {
        if self.too_many_refused(now, conn, true) {
            return;
        }
        let message = Some(self.redact(&detail));
        let code = ErrorCode::InvalidJson.as_str().to_owned();
        self.emit_to(session_id, conn, |seq| ServerFrame::Error {
            seq,
            code,
            message,
            reply_to: None,
            retry_after_ms: None,
        });
        self.log(now, LogKind::BadFrame, Some(conn), Some(session_id.to_owned()), None, detail);
    }

    /// Counts a frame of `conn` that is refused (`invalid`: with
    /// `invalid_json`). Each refusal costs an `error` and a log line, so past
    /// either limit the connection is closed instead (and this frame is not
    /// answered): `true` then.
    pub(crate) fn too_many_refused(&mut self, now: u64, conn: ConnId, invalid: bool) -> bool {
        let limits = &self.config.limits;
        let Some(state) = self.conns.get_mut(&conn) else { return false };
        if now.saturating_sub(state.refusals_since) >= limits.refusal_window_ms {
            (state.refused, state.invalid, state.refusals_since) = (0, 0, now);
        }
        state.refused = state.refused.saturating_add(1);
        state.invalid = state.invalid.saturating_add(invalid.into());
        let reason = if state.invalid > limits.invalid_frames_max {
            "too many invalid frames"
        } else if state.refused > limits.refused_frames_max {
            "too many refused frames"
        } else {
            return false;
        };
        self.close(now, conn, TOO_MANY_REFUSED, reason);
        true
    }

    fn violation(&mut self, now: u64, conn: ConnId, detail: &str) {
        self.log(now, LogKind::BadFrame, Some(conn), None, None, detail.to_owned());
        self.close(now, conn, POLICY_VIOLATION, "auth required");
    }

    /// Of `conns`, the one heard from least recently, if the heartbeat has
    /// found it silent (nothing for a whole beat).
    pub(crate) fn silent_longest(&self, now: u64, conns: &[ConnId]) -> Option<ConnId> {
        let beat = self.config.heartbeat_ms?.get();
        let heard = |id: &ConnId| self.conns.get(id).map(|c| c.last_inbound);
        let (id, last) = conns.iter().filter_map(|id| Some((*id, heard(id)?))).min_by_key(|&(_, last)| last)?;
        (last.saturating_add(beat) <= now).then_some(id)
    }

    /// A connection's deadline passed: the auth deadline of a fresh one, or
    /// the heartbeat of an authenticated one (ping, then close).
    pub(crate) fn connection_timer(&mut self, now: u64, id: ConnId) {
        let auth_timeout = self.config.limits.auth_timeout_ms;
        let Some(conn) = self.conns.get_mut(&id) else { return };
        match (&conn.session, self.config.heartbeat_ms.map(NonZeroU64::get)) {
            // 1000, not 40xx: a slow network is no reason to stop the client for good.
            (None, _) if conn.opened_at.saturating_add(auth_timeout) <= now => {
                self.close(now, id, 1000, "auth timeout")
            }
            (Some(_), Some(beat)) if conn.last_inbound.saturating_add(beat.saturating_mul(2)) <= now => {
                self.close(now, id, 1000, HEARTBEAT_TIMEOUT)
            }
            (Some(_), Some(beat)) if !conn.pinged && conn.last_inbound.saturating_add(beat) <= now => {
                conn.pinged = true;
                self.send(id, &ServerFrame::Ping { ts: Some(now as f64) });
            }
            _ => {}
        }
    }
}
