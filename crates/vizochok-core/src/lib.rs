//! The sans-IO core of the VIZOCHOK shopping-assistant client.
//!
//! A [`Session`] holds every rule of the wire protocol (`docs/protocol.md`)
//! and nothing else: it never touches a socket, a clock, a thread or an OS
//! random source. The host (a binding) feeds it [`Input`]s and user actions
//! with the current monotonic time in milliseconds, then drains [`Output`]s
//! — events for the app, frames to send, sockets to open or close — and arms
//! one timer for [`Session::poll_timeout`].
//!
//! # The run loop
//!
//! Every binding runs the same loop: hand an input to the core, then act on
//! every output, then (re)arm one timer for the next deadline.
//!
//! ```
//! use vizochok_core::{Config, Event, Input, Output, Session, SocketId};
//!
//! /// What a host does with the outputs; a real one talks to a WebSocket.
//! #[derive(Default)]
//! struct Host { socket: Option<SocketId>, sent: Vec<String>, events: Vec<Event> }
//!
//! impl Host {
//!     fn run(&mut self, session: &mut Session) {
//!         while let Some(output) = session.poll_output() {
//!             match output {
//!                 Output::Open { socket, url } => { assert!(url.starts_with("ws://127.0.0.1")); self.socket = Some(socket) }
//!                 Output::Send(text) => self.sent.push(text),
//!                 Output::Close { .. } => self.socket = None,
//!                 Output::Event(event) => self.events.push(event), // call the app's callbacks here
//!             }
//!         }
//!     }
//! }
//!
//! let config = Config::new("pk_demo", "demo-store", "ws://127.0.0.1:8787/v1/ws", 7);
//! let mut session = Session::new(config).expect("valid config");
//! let mut host = Host::default();
//! let mut now = 0; // monotonic milliseconds from the host's clock
//!
//! session.handle_input(now, Input::Connect);
//! host.run(&mut session);
//! let socket = host.socket.expect("the core asked for a socket");
//!
//! // The WebSocket opened: the core answers with the auth frame.
//! now += 5;
//! session.handle_input(now, Input::SocketOpened(socket));
//! host.run(&mut session);
//! assert!(host.sent[0].contains(r#""type":"auth""#));
//!
//! // The server accepts; the app hears onConnect.
//! now += 5;
//! let auth_ok = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;
//! session.handle_input(now, Input::Text(socket, auth_ok));
//! host.run(&mut session);
//! assert!(host.events.contains(&Event::Connect));
//!
//! // A user action goes straight out while connected.
//! let id = session.send_message(now, "milk").expect("accepted");
//! host.run(&mut session);
//! assert!(host.sent.last().is_some_and(|frame| frame.contains(&id)));
//!
//! // Idle: the next deadline is the heartbeat; at it, the core pings.
//! let deadline = session.poll_timeout().expect("a deadline");
//! assert_eq!(deadline, now + 25_000);
//! session.handle_input(deadline, Input::Timeout);
//! host.run(&mut session);
//! assert!(host.sent.last().is_some_and(|frame| frame.contains(r#""type":"ping""#)));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actions;
mod config;
mod io;
mod rng;
mod session;

pub use config::{check_url, Config, ConfigError, Limits, Timers};
pub use io::{ActionError, ActionKind, Event, Input, Output, PendingAction, SocketId, State};
pub use rng::Rng;
pub use session::Session;
pub use vizochok_proto::{
    self as proto, i18n, Cart, CartAction, CartChangedEvent, CartItem, ErrorCode, HistoryEntry, Language, ProductItem,
    Reply, Role, SdkInfo, Secret, SessionSummary, UiText, WidgetError,
};
