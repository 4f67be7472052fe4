//! Carrying outputs: the clients' sockets and frames onto the network, the
//! engine's frames back through each client's faulty links, and what
//! arrives to whichever end it is for.

use std::num::NonZeroU64;

use vizochok_core::proto::frame::{self, ServerFrame};
use vizochok_core::{Event, Input, Output, Role, SocketId, State};
use vizochok_server::{ConnId, LogKind, ServerInput, ServerOutput, HEARTBEAT_TIMEOUT};

use crate::faults::strikes;
use crate::net::Delivery;
use crate::watch::{frame_seq, is_type};
use crate::world::{World, IDENTITY_SECRET, KEY};

/// Close code of a connection pushed out by a ninth (§9).
const TOO_MANY_CONNECTIONS: u16 = 4009;

impl World {
    /// Carries every output of every client and of the engine until none is left.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                while let Some(out) = self.clients[i].session.poll_output() {
                    moved = true;
                    self.client_output(i, out);
                }
            }
            while let Some(out) = self.server.poll_output() {
                moved = true;
                self.server_output(out);
            }
            if !moved {
                return self.save_session_ids();
            }
        }
    }

    fn latency(&mut self) -> u64 {
        self.rng.range(1, 40)
    }

    fn client_output(&mut self, i: usize, out: Output) {
        let now = self.now;
        match out {
            Output::Open { socket, .. } => {
                if self.clients[i].pushed_out {
                    // Its host never connects it again, so nothing may (§9).
                    self.violation(Some(i), "opens a socket after a 4009, which is final for it".into());
                }
                let conn = self.conns.len() as u64 + 1;
                self.conns.insert(conn, (i, socket));
                self.clients[i].socket_conns.push(conn);
                if self.clients[i].conn_of(socket) != Some(conn) {
                    self.violation(Some(i), format!("socket {} is not the next one", socket.0));
                }
                let faults = &self.clients[i].faults;
                let (open_fail, black_hole) = (faults.open_fail, faults.black_hole);
                let ok = !strikes(&mut self.rng, open_fail);
                if strikes(&mut self.rng, black_hole) {
                    self.silent.insert(conn);
                }
                self.note(Some(i), || format!("opens socket {} as [{conn}] (ok={ok})", socket.0));
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::Opened { conn, ok });
            }
            Output::Send { socket, text } => {
                let Some(conn) = self.clients[i].conn_of(socket) else {
                    return self.violation(Some(i), format!("sends on unknown socket {}", socket.0));
                };
                self.note(Some(i), || format!("C→S [{conn}] {}", clip(&text)));
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::ToServer { conn, text });
            }
            Output::Close { socket, code, reason } => {
                let Some(conn) = self.clients[i].conn_of(socket) else {
                    return self.violation(Some(i), format!("closes unknown socket {}", socket.0));
                };
                self.note(Some(i), || format!("closes socket [{conn}] ({code} {reason})"));
                self.net.cut(conn);
                self.watch.closed(conn);
                self.server.handle(now, ServerInput::Closed { conn: ConnId(conn) });
            }
            Output::Event(event) if frame_only(&event) => {
                self.violation(Some(i), format!("a frame's event not marked as one: {}", clip(&format!("{event:?}"))));
            }
            Output::Event(event) | Output::FrameEvent(event) => self.event(i, event),
        }
    }

    /// The connection frames flow on for a client, when there is one.
    pub fn current_conn(&self, i: usize) -> Option<u64> {
        let client = &self.clients[i];
        match client.session.state() {
            State::Authenticating | State::Connected if !client.destroyed => client.opened,
            _ => None,
        }
    }

    fn server_output(&mut self, out: ServerOutput) {
        let now = self.now;
        match out {
            ServerOutput::Send { conn: ConnId(conn), text } => {
                if self.holds_secret(&text) {
                    self.violation(None, format!("the engine sends a secret on [{conn}]: {}", clip(&text)));
                }
                for problem in self.watch.sent(conn, &text, &self.server) {
                    self.violation(None, problem);
                }
                self.watch_answer_again(conn, &text);
                let Some(&(i, _)) = self.conns.get(&conn) else {
                    return self.violation(None, format!("the engine sends on unknown connection {conn}"));
                };
                if self.silent.contains(&conn) {
                    return self.note(Some(i), || format!("S→C [{conn}] lost in silence: {}", clip(&text)));
                }
                let faults = &self.clients[i].faults;
                let (drop, delay, duplicate, reorder) = (faults.drop, faults.delay, faults.duplicate, faults.reorder);
                if strikes(&mut self.rng, drop) {
                    self.note(Some(i), || format!("S→C [{conn}] DROPPED, socket dies: {}", clip(&text)));
                    return self.cut(conn);
                }
                let mut latency = self.latency();
                if strikes(&mut self.rng, delay) {
                    latency += self.rng.range(100, 3_000);
                }
                if strikes(&mut self.rng, duplicate) {
                    let again = Delivery::ToClient { conn, text: text.clone() };
                    let _ = self.net.send_in_order(now, latency + 5, again);
                }
                let copy = strikes(&mut self.rng, reorder).then(|| text.clone());
                let at = self.net.send_in_order(now, latency, Delivery::ToClient { conn, text });
                if let Some(text) = copy {
                    // A stale copy arrives after newer frames (what the seq rule is for).
                    let late = self.rng.range(100, 3_000);
                    self.net.schedule(at + late, Delivery::ToClient { conn, text });
                }
            }
            ServerOutput::Close { conn: ConnId(conn), code, reason } => {
                if code == TOO_MANY_CONNECTIONS {
                    let beat = self.config.heartbeat_ms.map(NonZeroU64::get);
                    if let Some(problem) = self.watch.pushing_out(conn, now, beat) {
                        self.violation(None, problem);
                    }
                }
                if reason == HEARTBEAT_TIMEOUT {
                    self.watch.silent_closed += 1;
                }
                self.watch.closed(conn);
                if self.vanished.contains(&conn) {
                    return self.note(None, || format!("server closes [{conn}] ({code} {reason}), lost"));
                }
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::ClosedByServer { conn, code, reason });
            }
            ServerOutput::Webhook { request, body, .. } => {
                if self.holds_secret(&body) {
                    self.violation(None, format!("webhook body carries a secret: {body}"));
                }
                let accepted = !strikes(&mut self.rng, self.server_faults.webhook_refusal);
                let at = now + self.rng.range(1, 300);
                self.webhooks.insert((at, request), accepted);
            }
            ServerOutput::Log(log) => {
                let line = self.debug_text(&log);
                if self.holds_secret(&line) {
                    self.violation(None, format!("server log carries a secret: {line}"));
                }
                if log.kind == LogKind::Applied {
                    let id = log.detail.rsplit(' ').next().unwrap_or_default().to_owned();
                    if let Some(receiving) = self.watch.receiving.as_mut().filter(|r| r.id == id) {
                        receiving.applied = true;
                    }
                    let key = (log.session.unwrap_or_default(), id);
                    let count = self.applied.entry(key).or_default();
                    *count += 1;
                    let times = *count;
                    if times > 1 {
                        self.violation(None, format!("action applied {times} times: {line}"));
                    }
                }
                self.scratch = line;
            }
        }
    }

    /// A `response` sent to the connection whose resent message is being
    /// received, without that message being applied now: the engine answers
    /// it again (`docs/protocol.md`, a message resent after a `restored`
    /// resume). Its client has that reply already.
    fn watch_answer_again(&mut self, conn: u64, text: &str) {
        let Some(receiving) = self.watch.receiving.as_ref().filter(|r| r.conn == conn && !r.applied) else { return };
        if is_type(text, "response") && text.contains(&format!("\"reply_to\":\"{}\"", receiving.id)) {
            if let (Some(seq), Some(&(i, _))) = (frame_seq(text), self.conns.get(&conn)) {
                // By session: `seq`s restart in another one, which the
                // client may join before this frame reaches it (a reset).
                let client = &mut self.clients[i];
                let session = client.session.session_id().unwrap_or_default().to_owned();
                client.answered_again.insert((session, seq));
            }
        }
    }

    pub fn deliver(&mut self, delivery: Delivery) {
        let now = self.now;
        let Some(&(i, socket)) = self.conns.get(&delivery.conn()) else {
            return self.violation(None, format!("a delivery for unknown connection {}", delivery.conn()));
        };
        match delivery {
            Delivery::Opened { conn, ok } => {
                if ok {
                    self.clients[i].opened = Some(conn);
                    self.watch.heard_from(conn, now);
                    self.server.handle(now, ServerInput::Open { conn: ConnId(conn), origin: None, peer: None });
                    self.clients[i].session.handle_input(now, Input::SocketOpened(socket));
                } else {
                    let ended = Input::SocketEnded { socket, code: None, reason: "connection refused" };
                    self.clients[i].session.handle_input(now, ended);
                }
            }
            Delivery::ToServer { conn, text } => {
                self.watch.heard_from(conn, now);
                self.watch.receiving_frame(conn, &text);
                self.server.handle(now, ServerInput::Text { conn: ConnId(conn), text: &text });
                self.pump();
                self.watch.received();
            }
            Delivery::ToClient { conn, text } => {
                self.note(Some(i), || format!("S→C [{conn}] {}", clip(&text)));
                self.client_text(i, conn, socket, &text);
            }
            Delivery::ClosedByServer { conn, code, reason } => {
                self.note(Some(i), || format!("server closed [{conn}] {code} {reason}"));
                if code == TOO_MANY_CONNECTIONS && self.current_conn(i) == Some(conn) {
                    self.clients[i].pushed_out = true;
                }
                let ended = Input::SocketEnded { socket, code: Some(code), reason: &reason };
                self.clients[i].session.handle_input(now, ended);
            }
        }
        self.pump();
    }

    /// A server frame reaches a client; the sim notes what its widget shows
    /// beyond the events (its own message, placed where the server put it).
    fn client_text(&mut self, i: usize, conn: u64, socket: SocketId, text: &str) {
        let client = &mut self.clients[i];
        let before = client.session.last_seq();
        let again = !client.answered_again.is_empty()
            && frame_seq(text).is_some_and(|seq| {
                let session = client.session.session_id().unwrap_or_default().to_owned();
                client.answered_again.remove(&(session, seq))
            });
        let authenticating = client.session.state() == State::Authenticating && client.opened == Some(conn);
        client.session.handle_input(self.now, Input::Text(socket, text));
        if authenticating && client.session.state() == State::Connected {
            client.seq_at_auth = client.session.last_seq();
            if let Some(left) = client.reset_from.take() {
                client.resets_rejoined += u64::from(client.session.session_id() == Some(left.as_str()));
            }
        }
        if client.session.last_seq() > before && is_type(text, "user_message") {
            if let Ok(ServerFrame::UserMessage { id, .. }) = frame::parse::<ServerFrame>(text, usize::MAX) {
                if let Some(own) = client.messages.get(&id) {
                    // The core shows no event for its own message: the widget
                    // showed it when it was sent.
                    client.transcript.push((Role::User, own.clone()));
                }
            }
        }
        let applied = client.session.last_seq() > before;
        client.replies_again += u64::from(again);
        client.applying_again = again;
        client.heard_again = false;
        self.pump();
        let client = &mut self.clients[i];
        client.applying_again = false;
        if again && applied && !client.heard_again {
            if let Ok(ServerFrame::Response { reply, .. }) = frame::parse::<ServerFrame>(text, usize::MAX) {
                client.unanswered += u64::from(!client.history_ids.contains(&reply.message_id));
            }
        }
    }

    /// The network under a socket vanishes: its client's end fails, the
    /// server hears nothing, and every frame in flight or sent later is lost
    /// (the server's close too).
    pub fn vanish(&mut self, conn: u64) {
        self.net.cut(conn);
        self.silent.insert(conn);
        self.vanished.insert(conn);
        if let Some(&(i, socket)) = self.conns.get(&conn) {
            let ended = Input::SocketEnded { socket, code: None, reason: "" };
            self.clients[i].session.handle_input(self.now, ended);
        }
    }

    /// The socket dies: both ends hear it, in-flight frames are lost.
    pub fn cut(&mut self, conn: u64) {
        self.net.cut(conn);
        self.watch.closed(conn);
        self.server.handle(self.now, ServerInput::Closed { conn: ConnId(conn) });
        if let Some(&(i, socket)) = self.conns.get(&conn) {
            let ended = Input::SocketEnded { socket, code: None, reason: "" };
            self.clients[i].session.handle_input(self.now, ended);
        }
    }

    fn event(&mut self, i: usize, event: Event) {
        self.note(Some(i), || format!("event {}", clip(&format!("{event:?}"))));
        // Replies, carts, summaries and histories are a server frame's
        // fields, and every server frame was scanned as the engine sent it;
        // every other event (errors the core words itself) is scanned whole.
        let from_a_frame = matches!(
            event,
            Event::Response(_)
                | Event::Delta { .. }
                | Event::CartChanged(_)
                | Event::SessionComplete(_)
                | Event::History(_)
        );
        if !from_a_frame {
            let debug = self.debug_text(&event);
            if self.holds_secret(&debug) {
                self.violation(Some(i), format!("event carries a secret: {debug}"));
            }
            self.scratch = debug;
        }
        self.clients[i].hear(&event);
    }

    /// Whether a text holds the api key, the identity secret or the
    /// signed-in shopper's `user_token`.
    pub fn holds_secret(&self, text: &str) -> bool {
        text.contains(KEY)
            || text.contains(IDENTITY_SECRET)
            || self.identity_token().is_some_and(|token| text.contains(token))
    }

    /// The `Debug` text of an event or a log line, written into the reused
    /// buffer (the caller gives it back): every one is scanned for secrets.
    fn debug_text(&mut self, value: &dyn std::fmt::Debug) -> String {
        use std::fmt::Write;
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let _ = write!(text, "{value:?}");
        text
    }
}

pub(crate) fn clip(text: &str) -> String {
    if text.chars().count() <= 160 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(160).collect::<String>())
    }
}

/// Events the core promises to hand only as `Output::FrameEvent` (the
/// browser's host has no encoder for them).
fn frame_only(event: &Event) -> bool {
    match event {
        Event::Typing { .. } | Event::Delta { .. } | Event::Response(_) => true,
        Event::UserMessage { .. } | Event::SessionComplete(_) => true,
        Event::History(entries) => !entries.is_empty(),
        _ => false,
    }
}
