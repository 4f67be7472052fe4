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
//! ```
//! use vizochok_core::{Config, Event, Input, Output, Session};
//!
//! let config = Config::new("pk_demo", "demo-store", "ws://127.0.0.1:8787/v1/ws", 7);
//! let mut session = Session::new(config).expect("valid config");
//! let mut now = 0;
//!
//! session.handle_input(now, Input::Connect);
//! let socket = match session.poll_output() {
//!     Some(Output::Open { socket, url }) => { assert!(url.starts_with("ws://127.0.0.1")); socket }
//!     other => panic!("expected Open, got {other:?}"),
//! };
//!
//! // The host's WebSocket opened: the core answers with the auth frame.
//! now += 5;
//! session.handle_input(now, Input::SocketOpened(socket));
//! let mut sent = Vec::new();
//! while let Some(out) = session.poll_output() {
//!     if let Output::Send(text) = out { sent.push(text) }
//! }
//! assert!(sent[0].contains(r#""type":"auth""#));
//!
//! // The server accepts; the app hears onConnect.
//! now += 5;
//! let auth_ok = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;
//! session.handle_input(now, Input::Text(socket, auth_ok));
//! let mut events = Vec::new();
//! while let Some(out) = session.poll_output() {
//!     if let Output::Event(e) = out { events.push(e) }
//! }
//! assert!(events.contains(&Event::Connect));
//!
//! // A user action goes straight out while connected.
//! let id = session.send_message(now, "milk").expect("accepted");
//! assert!(matches!(session.poll_output(), Some(Output::Send(f)) if f.contains(&id)));
//!
//! // With nothing to do, the next deadline is the heartbeat.
//! assert_eq!(session.poll_timeout(), Some(now + 25_000));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actions;
mod config;
mod error_code;
pub mod frame;
pub mod i18n;
mod io;
mod rng;
mod secret;
mod session;
mod types;

pub use config::{check_url, Config, ConfigError, Limits, Timers};
pub use error_code::ErrorCode;
pub use frame::{AuthFrame, ClientFrame, FrameError, SdkInfo, ServerFrame, ServerLimits};
pub use i18n::{Language, UiText};
pub use io::{ActionError, ActionKind, Event, Input, Output, PendingAction, SocketId, State};
pub use rng::Rng;
pub use secret::ApiKey;
pub use session::Session;
pub use types::{Cart, CartAction, CartChangedEvent, CartItem, HistoryEntry, ProductItem, Role, SessionSummary, WidgetError};
