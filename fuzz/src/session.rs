//! Target `session`: a whole client session driven by the fuzzer's bytes.
//!
//! Each step is an I/O input, a user action or a time step; after every one
//! the harness drains the outputs and checks the session's invariants:
//!
//! - the queue holds at most `capacity + 1` actions (one acknowledged
//!   message may wait for its reply on top of a full queue);
//! - reconnect attempts never exceed 10 in a row;
//! - `poll_timeout()` is never in the past, and a fired deadline moves;
//! - the api key appears in no output but the `auth` frame (error texts are
//!   redacted even when a hostile server echoes the key);
//! - frames are sent only on an open socket, `auth` first;
//! - no accepted action is lost: each one is acknowledged, named by an
//!   onError, or still pending;
//! - after `destroy` nothing comes out and every action is refused.

use std::collections::HashSet;

use vizochok_core::{ActionError, Config, Event, Input, Output, Secret, Session, SocketId, State};
use vizochok_proto::frame::{self, AuthOk, ServerFrame};

use crate::gen::{self, Known};
use crate::Reader;

/// The canary key; it must only ever leave the core inside `auth`.
const KEY: &str = "pk_fuzz_canary_51c0";
const MAX_ATTEMPTS: u32 = 10;
const MAX_STEPS: usize = 4_000;
/// No host's monotonic clock reaches this (about 292 million years in ms).
const HORIZON: u64 = u64::MAX / 2;

struct Harness {
    session: Session,
    capacity: usize,
    now: u64,
    /// The socket of the latest open request, and whether it is open.
    socket: Option<SocketId>,
    older_socket: Option<SocketId>,
    open: bool,
    auth_sent: bool,
    known: Known,
    accepted: Vec<String>,
    ended: HashSet<String>,
    destroyed: bool,
    /// The current step's inbound text carried the key (a hostile server
    /// may echo it into texts the core passes through verbatim).
    key_in_input: bool,
    /// Print every input and output (`VIZOCHOK_FUZZ_TRACE=1`).
    trace: bool,
}

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let mut config = Config::new(KEY, "fuzz-store", "ws://127.0.0.1:9/v1/ws", r.u64());
    if r.bool() {
        config.limits.queue_capacity = 1 + usize::from(r.u8() % 4);
        config.limits.max_bad_frames = u32::from(r.u8() % 4);
        config.limits.max_action_retries = u32::from(r.u8() % 4);
    }
    if r.bool() {
        config.session_id = Some(Secret::new(r.pick(&["s1", "s2"])));
    }
    let capacity = config.limits.queue_capacity;
    let session = match Session::new(config) {
        Ok(s) => s,
        Err(e) => panic!("a valid config was refused: {e}"),
    };
    let mut h = Harness {
        session,
        capacity,
        now: 0,
        socket: None,
        older_socket: None,
        open: false,
        auth_sent: false,
        known: Known::default(),
        accepted: Vec::new(),
        ended: HashSet::new(),
        destroyed: false,
        key_in_input: false,
        trace: false,
    };
    let mut steps = 0;
    let trace = std::env::var_os("VIZOCHOK_FUZZ_TRACE").is_some();
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        h.key_in_input = false;
        h.trace = trace;
        h.step(&mut r);
        h.drain();
        h.check();
    }
    // Destroying at the end must leave every unfinished action readable.
    h.session.handle_input(h.now, Input::Destroy);
    h.destroyed = true;
    while h.session.poll_output().is_some() {}
    h.check();
}

impl Harness {
    fn socket_for_input(&self, r: &mut Reader) -> SocketId {
        match (r.u8() % 16, self.older_socket) {
            (0, Some(old)) => old,
            (1, _) => SocketId(u64::from(r.u8())),
            _ => self.socket.unwrap_or(SocketId(0)),
        }
    }

    fn input(&mut self, input: Input<'_>) {
        if self.trace {
            eprintln!("t={} in {input:?} (state {:?})", self.now, self.session.state());
        }
        self.session.handle_input(self.now, input);
    }

    fn step(&mut self, r: &mut Reader) {
        match r.u8() % 24 {
            0 => self.input(Input::Connect),
            1 | 2 => {
                let s = self.socket_for_input(r);
                let was_connecting = self.session.state() == State::Connecting;
                self.input(Input::SocketOpened(s));
                if was_connecting && Some(s) == self.socket && self.session.state() == State::Authenticating {
                    self.open = true;
                    self.auth_sent = false;
                }
            }
            3..=8 => {
                let s = self.socket_for_input(r);
                self.known.last_seq = self.session.last_seq();
                let frame = gen::server_frame(r, &self.known, KEY);
                if let ServerFrame::AuthOk(AuthOk { session_id, .. }) = &frame {
                    self.known.session_ids.push(session_id.clone());
                }
                let mut text = frame::encode(&frame);
                if r.u8().is_multiple_of(8) {
                    // Damage it: truncate, or flip a byte.
                    let at = usize::from(r.u16()) % (text.len() + 1);
                    if r.bool() {
                        text.truncate(text.floor_char_boundary(at));
                    } else {
                        let mut bytes = text.into_bytes();
                        if let Some(b) = bytes.get_mut(at) {
                            *b ^= r.u8();
                        }
                        text = String::from_utf8_lossy(&bytes).into_owned();
                    }
                }
                self.key_in_input = text.contains(KEY);
                self.input(Input::Text(s, &text));
            }
            9 => {
                let s = self.socket_for_input(r);
                let text = r.string(64);
                self.key_in_input = text.contains(KEY);
                self.input(Input::Text(s, &text));
            }
            10 => {
                let s = self.socket_for_input(r);
                // The same bytes are read either way: the rest of an input means what it did.
                let len = usize::from(r.u16());
                if len % 2 == 0 {
                    self.input(Input::Binary(s, len));
                } else {
                    self.input(Input::Oversized(s, vizochok_core::Limits::default().max_inbound_bytes + len));
                }
            }
            11 => {
                let s = self.socket_for_input(r);
                let code = match r.u8() % 6 {
                    0 => None,
                    1 => Some(r.u16()),
                    _ => Some(r.pick(&[1000, 1001, 1006, 1011, 1012, 4000, 4001, 4003, 4099, 4100])),
                };
                let reason = r.string(8);
                self.input(Input::SocketEnded { socket: s, code, reason: &reason });
                if Some(s) == self.socket {
                    self.open = false;
                }
            }
            12 => {
                let s = self.socket_for_input(r);
                let detail = if r.bool() { format!("refused ({KEY})") } else { r.string(8) };
                self.input(Input::SocketEnded { socket: s, code: None, reason: &detail });
                if Some(s) == self.socket {
                    self.open = false;
                }
            }
            13 => {
                let ms = match r.u8() % 4 {
                    0 => u64::from(r.u8()),
                    1 => u64::from(r.u16()),
                    2 => u64::from(r.u32() % 200_000),
                    _ => self.session.poll_timeout().map_or(1, |t| t.saturating_sub(self.now)),
                };
                self.advance(ms);
            }
            14 => self.input(Input::Timeout), // a spurious or early timer
            15 => self.input(Input::NetworkOnline),
            16 => {
                if r.u8().is_multiple_of(8) {
                    self.input(Input::Disconnect);
                }
            }
            17 => {
                if r.u8().is_multiple_of(32) {
                    self.input(Input::Destroy);
                    self.destroyed = true;
                }
            }
            _ => self.action(r),
        }
    }

    /// Moves time like a host timer would: fire each deadline on the way.
    fn advance(&mut self, ms: u64) {
        let target = self.now.saturating_add(ms);
        let mut fired = 0;
        while let Some(deadline) = self.session.poll_timeout() {
            assert!(deadline >= self.now, "poll_timeout {deadline} is in the past (now {})", self.now);
            // A deadline past the horizon (a server's heartbeat_ms of u64::MAX
            // saturates there) is "never": no host clock gets that far.
            if deadline > target || deadline >= HORIZON {
                break;
            }
            self.now = deadline;
            self.input(Input::Timeout);
            self.drain();
            self.check();
            assert_ne!(self.session.poll_timeout(), Some(deadline), "a fired deadline did not move");
            fired += 1;
            assert!(fired < 10_000, "timer storm");
        }
        self.now = target;
    }

    fn action(&mut self, r: &mut Reader) {
        let now = self.now;
        let result = match r.u8() % 7 {
            0 | 1 => {
                let text = match r.u8() % 4 {
                    0 => "x".repeat(usize::from(r.u16()) % 2_100),
                    1 => "ї".repeat(usize::from(r.u16()) % 2_100),
                    _ => r.string(24),
                };
                self.session.send_message(now, &scrub(text))
            }
            2 => {
                let product = gen::product(r);
                let quantity = if r.bool() { Some(r.f64()) } else { None };
                self.session.select_product(now, &product, quantity)
            }
            3 => {
                let sku = gen::product(r).sku;
                let quantity = r.f64();
                self.session.update_quantity(now, &sku, quantity)
            }
            4 => {
                let sku = gen::product(r).sku;
                self.session.remove_item(now, &sku)
            }
            5 => self.session.clear_cart(now),
            _ => self.session.reset(now).map(|()| String::new()),
        };
        if self.trace {
            eprintln!("t={now} action -> {result:?}");
        }
        match result {
            Ok(id) if !id.is_empty() => {
                assert!(!self.destroyed, "a destroyed session accepted action {id}");
                assert!(id.len() <= 64 && id.is_ascii(), "bad action id {id:?}");
                assert!(!self.accepted.contains(&id), "action id {id} handed out twice");
                self.accepted.push(id.clone());
                self.known.action_ids.push(id);
            }
            Ok(_) => assert!(!self.destroyed, "a destroyed session took a call"),
            Err(ActionError::Destroyed) => assert!(self.destroyed, "refused as destroyed while alive"),
            Err(e) => {
                assert!(!self.destroyed, "a destroyed session answered {e}");
                assert!(!e.to_string().contains(KEY), "the api key in an action error");
            }
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            if self.trace {
                eprintln!("    out {output:?}");
            }
            assert!(!self.destroyed || self.session.state() == State::Destroyed);
            match output {
                Output::Open { socket, url } => {
                    assert!(!self.destroyed, "a destroyed session opened a socket");
                    assert!(!url.contains(KEY));
                    assert!(Some(socket) != self.socket, "socket id reused");
                    self.older_socket = self.socket;
                    self.socket = Some(socket);
                    self.open = false;
                    self.auth_sent = false;
                }
                Output::Send { socket, text } => {
                    assert!(!self.destroyed, "a destroyed session sent {text}");
                    assert_eq!(Some(socket), self.socket, "sent on a socket that is not current");
                    assert!(self.open, "sent {text} on a socket that is not open");
                    let is_auth = text.starts_with(r#"{"type":"auth","#);
                    if !self.auth_sent {
                        assert!(is_auth, "first frame on a socket is not auth: {text}");
                        assert!(text.contains(KEY), "auth without the key");
                        self.auth_sent = true;
                    } else {
                        assert!(!is_auth, "auth sent twice on one socket");
                        assert!(!text.contains(KEY), "the api key left in {text}");
                    }
                    assert!(text.len() <= frame::MAX_OUTBOUND_BYTES, "outbound frame of {} bytes", text.len());
                }
                Output::Close { socket, reason, .. } => {
                    assert_eq!(Some(socket), self.socket, "closed a socket that is not current");
                    assert!(!reason.contains(KEY));
                    self.open = false;
                }
                Output::Event(event) | Output::FrameEvent(event) => {
                    match &event {
                        Event::Error(e) => {
                            assert!(!format!("{e:?}").contains(KEY), "the api key in an error: {e:?}");
                            if let Some(id) = &e.reply_to {
                                self.ended.insert(id.clone());
                            }
                        }
                        Event::Acknowledged { id } => {
                            self.ended.insert(id.clone());
                        }
                        other => {
                            if !self.key_in_input {
                                assert!(!format!("{other:?}").contains(KEY), "the api key in {other:?}");
                            }
                        }
                    }
                    if self.destroyed {
                        assert!(matches!(event, Event::StateChanged(State::Destroyed) | Event::Disconnect));
                    }
                }
            }
        }
    }

    fn check(&mut self) {
        let s = &self.session;
        let pending = s.pending_actions();
        assert!(pending.len() <= self.capacity + 1, "{} pending actions, capacity {}", pending.len(), self.capacity);
        assert!(s.reconnect_attempts() <= MAX_ATTEMPTS, "{} reconnect attempts", s.reconnect_attempts());
        if let Some(t) = s.poll_timeout() {
            assert!(t >= self.now, "poll_timeout {t} is in the past (now {})", self.now);
        }
        let pending_ids: HashSet<&str> = pending.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(pending_ids.len(), pending.len(), "an action is pending twice");
        for id in &self.accepted {
            assert!(
                self.ended.contains(id) || pending_ids.contains(id.as_str()),
                "action {id} was lost: not acknowledged, not named by onError, not pending"
            );
        }
        assert!(!format!("{s:?}").contains(KEY), "the api key in the session's Debug");
        if self.destroyed {
            assert_eq!(s.state(), State::Destroyed);
            assert_eq!(s.poll_timeout(), None, "a destroyed session wants a timer");
        }
    }
}

/// User texts never carry the key (a shopper typing it would be legitimate
/// output, not a leak).
fn scrub(mut text: String) -> String {
    while text.contains(KEY) {
        text = text.replace(KEY, "");
    }
    text
}
