//! The sans-IO core of the VIZOCHOK shopping-assistant client.
//!
//! A [`Session`] holds every client rule of the wire protocol
//! (`docs/protocol.md`) and nothing else: it never touches a socket, a
//! clock, a thread or an OS random source. A [`Driver`] runs it for a
//! runtime: the runtime implements [`Host`] (open, send and close sockets,
//! keep one timer, save the session id, call the app's callbacks) and hands
//! the driver every socket event and timeout with the current monotonic
//! time in milliseconds. Every binding (browser, Python, Kotlin, Swift, the
//! native Rust client) is such a host.
//!
//! # The run loop
//!
//! ```
//! use std::cell::RefCell;
//! use vizochok_core::{Config, Driver, Event, Host, Input, SocketId};
//!
//! /// A host that records what it is asked; a real one talks to a WebSocket.
//! #[derive(Default)]
//! struct Recorder { socket: RefCell<Option<SocketId>>, sent: RefCell<Vec<String>>, timer: RefCell<Option<u64>>, events: RefCell<Vec<Event>> }
//!
//! impl Host for Recorder {
//!     fn open_socket(&self, socket: SocketId, url: &str) { assert!(url.starts_with("ws://127.0.0.1")); *self.socket.borrow_mut() = Some(socket) }
//!     fn send_text(&self, _: SocketId, text: &str) { self.sent.borrow_mut().push(text.to_owned()) }
//!     fn close_socket(&self, _: SocketId, _: u16, _: &str) { *self.socket.borrow_mut() = None }
//!     fn set_timer(&self, deadline: Option<u64>) { *self.timer.borrow_mut() = deadline }
//!     fn save_session(&self, _: Option<&str>) {}
//!     fn deliver(&self, event: Event) -> Result<(), String> { self.events.borrow_mut().push(event); Ok(()) }
//!     fn report_error(&self, message: &str) { eprintln!("{message}") }
//! }
//!
//! let config = Config::new("pk_demo", "demo-store", "ws://127.0.0.1:8787/v1/ws", 7);
//! let driver = Driver::new(config, Recorder::default()).expect("valid config");
//! let host = driver.host();
//!
//! driver.handle(0, Input::Connect);
//! let socket = host.socket.borrow().expect("the core asked for a socket");
//!
//! // The WebSocket opened: the core answers with the auth frame.
//! driver.handle(5, Input::SocketOpened(socket));
//! assert!(host.sent.borrow()[0].contains(r#""type":"auth""#));
//!
//! // The server accepts; the app hears onConnect.
//! let auth_ok = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;
//! driver.handle(10, Input::Text(socket, auth_ok));
//! assert!(host.events.borrow().contains(&Event::Connect));
//!
//! // A user action goes straight out while connected.
//! let id = driver.send_message(10, "milk").expect("accepted");
//! assert!(host.sent.borrow().last().is_some_and(|frame| frame.contains(&id)));
//!
//! // The host's one timer is still the open timeout's: a deadline that moved
//! // later waits for it. It fires early, nothing is due, and the heartbeat is
//! // armed instead; when that fires, the core pings.
//! assert_eq!(*host.timer.borrow(), Some(10_000));
//! driver.handle(10_000, Input::Timeout);
//! let deadline = host.timer.borrow().expect("a deadline");
//! assert_eq!(deadline, 10 + 25_000);
//! driver.handle(deadline, Input::Timeout);
//! assert!(host.sent.borrow().last().is_some_and(|frame| frame.contains(r#""type":"ping""#)));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod driver;
mod events;
mod rng;
mod session;
mod text;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("vizochok_core");

pub use config::{check_url, Config, ConfigError, Limits, Timers, MAX_TIMER_MS};
pub use driver::{Driver, Host, MAX_SOCKET_MESSAGE_BYTES};
pub use events::{ActionError, ActionKind, Event, Input, Output, PendingAction, SocketId, State};
pub use rng::Rng;
pub use session::Session;
pub use vizochok_proto::{
    self as proto, i18n, Cart, CartAction, CartChangedEvent, CartItem, ErrorCode, HistoryEntry, Language, PageContext,
    PageInfo, ProductItem, Rating, Reply, Role, SdkInfo, Secret, SessionSummary, UiText, WidgetError,
};
