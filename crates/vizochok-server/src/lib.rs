//! Sans-IO reference server engine of the VIZOCHOK protocol.
//!
//! The [`Engine`] implements the server side of the wire contract
//! (`protocol-v1.md`): auth, sessions with replay and restore, idempotent
//! actions, streamed replies, webhook-confirmed cart changes, quotas and
//! heartbeat. It never touches a socket, a clock, a thread or an OS random
//! source: the host passes `now` (monotonic milliseconds) with every
//! [`ServerInput`] and carries out every [`ServerOutput`].
//!
//! ```
//! use vizochok_server::{Catalog, ConnId, Engine, KeywordAssistant, ServerConfig, ServerInput, ServerOutput, StoreConfig};
//!
//! let store = StoreConfig::new("demo", vec!["pk_demo".into()], Catalog::default());
//! let config = ServerConfig { stores: vec![store], ..ServerConfig::default() };
//! let mut engine = Engine::new(config, Box::new(KeywordAssistant));
//! let conn = ConnId(1);
//! engine.handle(0, ServerInput::Open { conn, origin: None });
//! let auth = r#"{"type":"auth","v":1,"api_key":"pk_demo","store_id":"demo","language":"en","sdk":{"name":"doc","version":"1"}}"#;
//! engine.handle(5, ServerInput::Text { conn, text: auth });
//! let mut sent = Vec::new();
//! while let Some(output) = engine.poll_output() {
//!     if let ServerOutput::Send { text, .. } = output {
//!         sent.push(text);
//!     }
//! }
//! assert!(sent[0].starts_with(r#"{"type":"auth_ok""#));
//! ```
//!
//! # Choices where the contract is silent
//!
//! - Auth: checks run in the order version, store, key, origin, disabled. A
//!   disabled store gets no `auth_error` (none of its codes fits), only close
//!   4003. A connection without an `Origin` header passes the origin check
//!   (it is not a browser). No `auth` within `auth_timeout_ms` closes with
//!   1000 (a slow network must not stop the client for good); any other
//!   first frame is a violation, closed with 4008.
//! - Sessions resume only for the same store and `user_id`; anything else
//!   opens a new session. A client whose `last_seq` is ahead of the server
//!   (restored from an older snapshot) is answered `restored`, and the
//!   session's `seq` jumps above that `last_seq` so the client keeps
//!   applying frames.
//! - A cart action with an unknown SKU or an off-step quantity is refused
//!   with `invalid_json` (the request cannot be honoured as sent).
//! - Refusal order for a message: too large, busy, rate limit, no catalog,
//!   user messages, user conversations, tenant day, tenant month, session
//!   tokens. `max_rounds_exceeded` and an empty reply (`internal_error`)
//!   come after the `ack` and finish the message.
//! - A conversation is a session with at least one accepted message; the
//!   per-user message quota counts per store and day (per session without
//!   `user_id`).
//! - Cart changes of a session go one at a time, so each webhook body's
//!   resulting cart is what the store confirms. A refused change of the
//!   assistant's reply gets an `internal_error` without `reply_to`, so the
//!   message still ends with its `response`. An unanswered webhook counts
//!   as refused after `webhook_timeout_ms`.
//! - Heartbeat silence closes with 1000 ("heartbeat timeout").
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod assistant;
mod auth;
mod cart;
mod cart_flow;
mod catalog;
mod config;
mod connection;
mod engine;
mod intake;
mod io;
mod keyword_assistant;
mod replay;
mod session;
mod snapshot;
mod turns;
mod usage;

pub use assistant::{Assistant, CartOp, Reply, Turn};
pub use catalog::{Catalog, CatalogProduct};
pub use config::{LimitsConfig, ServerConfig, StoreConfig};
pub use engine::Engine;
pub use io::{ConnId, LogEvent, LogKind, ServerInput, ServerOutput};
pub use keyword_assistant::KeywordAssistant;
pub use snapshot::RestoreError;
