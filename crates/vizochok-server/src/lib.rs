//! Sans-IO reference server engine of the VIZOCHOK protocol.
//!
//! The [`Engine`] implements the server side of the wire contract
//! (`docs/protocol.md`): auth with verified identity, sessions shared by up
//! to eight connections with per-connection replay and restore, idempotent
//! actions, replies streamed in the order messages arrived, frames the page
//! drives (`context`, `cancel`, `feedback`), webhook-confirmed cart changes,
//! quotas and heartbeat. It never touches a socket, a clock, a thread or an
//! OS random source: the host passes `now` (monotonic milliseconds) with
//! every [`ServerInput`], hands it a [`RandomSource`] for session ids, and
//! carries out every [`ServerOutput`].
//!
//! ```
//! use vizochok_server::{Catalog, ConnId, Engine, KeywordAssistant, SeededRandom, ServerConfig, ServerInput, ServerOutput, StoreConfig};
//!
//! let store = StoreConfig::new("demo", vec!["pk_demo".into()], Catalog::default());
//! let config = ServerConfig { stores: vec![store], ..ServerConfig::default() };
//! // A real server passes the OS's CSPRNG here; a seeded source is for tests.
//! let mut engine = Engine::new(config, Box::new(KeywordAssistant), Box::new(SeededRandom::new(7)));
//! let conn = ConnId(1);
//! engine.handle(0, ServerInput::Open { conn, origin: None, peer: None });
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
//! Every choice made where the contract is silent is written down in
//! `docs/protocol.md` ("The reference engine's choices").
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod address_budget;
mod assistant;
mod auth;
mod cart;
mod cart_flow;
mod catalog;
mod config;
mod connection;
mod dedup;
mod engine;
mod identity;
mod intake;
mod io;
mod keyword_assistant;
mod lifecycle;
mod page;
mod random;
mod replay;
mod schedule;
mod session;
mod snapshot;
mod stats;
mod turns;
mod usage;

pub use address_budget::Peer;
pub use assistant::{Assistant, CartOp, Reply, Turn};
pub use auth::MAX_SEQ;
pub use catalog::{Catalog, CatalogProduct};
pub use config::{LimitsConfig, ServerConfig, StoreConfig};
pub use connection::HEARTBEAT_TIMEOUT;
pub use engine::Engine;
pub use identity::user_token;
pub use io::{ConnId, LogEvent, LogKind, ServerInput, ServerOutput};
pub use keyword_assistant::KeywordAssistant;
pub use random::{RandomError, RandomSource, SeededRandom};
pub use session::Feedback;
pub use snapshot::{PendingSnapshot, RestoreError};
pub use stats::EngineStats;
pub use vizochok_proto::frame::MAX_QUANTITY;
